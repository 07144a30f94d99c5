//! kam-store's integration tests: one conformance suite run on a real SQLite file and on a real
//! PostgreSQL started by the harness (see `kam_store::testing`).

mod activities;
mod classification;
mod conformance;
mod fixture;
mod indicator;
mod ledger;
mod matrix;
mod opportunities;
mod parity;
mod profile;
mod synthetic;
mod visibility;
mod writers;

/// Declares each listed `async fn(Store)` test twice: once on SQLite, once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = kam_store::testing::sqlite().await;
                    super::$name(db.store.clone()).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = kam_store::testing::postgres().await else {
                        eprintln!("SKIPPED on PostgreSQL: {}", stringify!($name));
                        return;
                    };
                    super::$name(db.store.clone()).await;
                }
            )+
        }
    };
}
