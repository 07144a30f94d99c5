//! kam-web's integration tests: the real server on a random loopback port, over a real SQLite
//! file and a real PostgreSQL (the store's harness), driven over HTTP.

// The tests set up and inspect the database through the system handle, which kam-web's own code
// may not touch (crates/kam-web/clippy.toml).
#![allow(clippy::disallowed_types)]

mod api;
mod browser;
mod clock;
mod defects;
mod fixture;
mod idor;
mod nights;
mod observe;
mod pages;
mod security;
mod selling;
mod tls;
mod work;

/// Declares each listed `async fn(Server)` test twice: on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = kam_store::testing::sqlite().await;
                    super::$name($crate::fixture::Server::start(db, Default::default()).await).await;
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
                    super::$name($crate::fixture::Server::start(db, Default::default()).await).await;
                }
            )+
        }
    };
}
