//! kam-store: the operational SQL store of kam, on a SQLite file or on PostgreSQL.
//!
//! One `Store` over sqlx's `Any` driver: the SQL is written once in the portable subset both
//! dialects accept (`$1` placeholders, text dates, bigint money), and the few differences live in
//! `dialect.rs`. `Store` is the system handle (migrations, import, the batch); people reach
//! customer data only through a `UserStore` (`handle.rs`), whose every read carries kam-core's
//! `Scope` as a WHERE clause and whose every write checks the write rule in its transaction. The
//! web receives `Sessions`, which makes a `UserStore` from a live session and nothing else. Every
//! change writes the audit trail in its own transaction (`audit.rs`).

mod activity;
mod alert;
mod audit;
mod bulk;
mod classification;
mod customer;
mod dialect;
mod error;
mod figure;
mod group;
mod handle;
mod indicator;
mod ledger;
mod merge;
mod night;
mod opportunity;
mod org;
mod product;
mod profile;
mod relationship;
mod report;
mod rows;
mod session;
mod sql;
mod task;
mod url;
mod user;
mod view;

#[cfg(feature = "test-harness")]
pub mod testing;

use std::str::FromStr;

use sqlx::{
    AnyPool,
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
};

pub use activity::{ActivityRow, ActivityView, CustomerVisits, Need, WorkCounts};
pub use alert::{AlertFilter, AlertSync, StoredAlert, StoredFinding};
pub use audit::{Actor, AuditEvent, AuditFilter};
pub use bulk::LoadCounts;
pub use classification::{ManualScore, ScoreEntry, Seen, StoredClass};
pub use customer::{CustomerFilter, CustomerSort, CustomerSummary, Identifier, PortfolioRow};
pub use dialect::Backend;
pub use error::{Error, Result};
pub use figure::{AVERAGE_WINDOW, FigureLine, UnitFigures};
pub use group::{CustomerGroup, GroupNode, GroupView};
pub use handle::UserStore;
pub use indicator::{BatchCustomer, BatchRun, StoredIndicator, StoredTier};
pub use ledger::{BatchReject, BatchState, ImportBatch, MAX_STORED_REJECTS, NewImportBatch};
pub use merge::{MasterChunk, Merge, MergeCounts, NO_PASSWORD, Refusal, RefusalKind};
pub use night::{NightOutcome, NightRun};
pub use opportunity::{
    Advance, FunnelFacts, Influence, MovedOpportunity, Obstacle, OpportunityCounts,
    OpportunityFigures, OpportunityFilter, OpportunityRow, OpportunityView, StageMove,
};
pub use product::{AccountEvent, PayrollPeople, PayrollPerson, PayrollSummary};
pub use profile::StoredProfile;
pub use relationship::TeamMember;
pub use report::{StoredReport, TeamReport};
pub use session::{ApiToken, Flash, Sessions, SignInAccount, SignInAttempt, TokenUser, WebSession};
pub use task::TaskFilter;
pub use url::DatabaseUrl;
pub use view::CustomerView;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The operational store. Cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// What `migrate` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied_now: usize,
    pub schema_version: i64,
}

/// Whether kam can write a SQLite database at `path`: the file (when it exists) opens for
/// writing, and its folder takes new files (the write-ahead log and its index live beside it).
/// Without this, a read-only file makes every pooled connection fail its first pragma and the
/// pool retry for thirty seconds before saying only "pool timed out".
fn check_writable(path: &std::path::Path) -> Result<()> {
    let refused = |at: &std::path::Path, error: std::io::Error| Error::NotWritable {
        path: at.display().to_string(),
        reason: error.to_string(),
    };
    let denied = |error: &std::io::Error| {
        matches!(
            error.kind(),
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
        )
    };
    if path.exists()
        && let Err(error) = std::fs::OpenOptions::new().write(true).open(path)
        && denied(&error)
    {
        return Err(refused(path, error));
    }
    let folder = match path.parent() {
        Some(parent) if parent.as_os_str().is_empty() => std::path::Path::new("."),
        Some(parent) => parent,
        None => return Ok(()),
    };
    if !folder.is_dir() {
        return Ok(());
    }
    let probe = folder.join(format!(".kam-write-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            std::fs::remove_file(&probe).ok();
            Ok(())
        }
        Err(error) if denied(&error) => Err(refused(folder, error)),
        // Anything else (a probe left by a killed run with the same pid) is not a verdict.
        Err(_) => Ok(()),
    }
}

impl Store {
    /// Connects without touching the schema. Use `open` to also migrate.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn connect(url: &DatabaseUrl) -> Result<Self> {
        sqlx::any::install_default_drivers();
        if let DatabaseUrl::Sqlite(path) = url {
            check_writable(path)?;
        }
        let backend = url.backend();
        let options =
            AnyConnectOptions::from_str(&url.to_connect_string()).map_err(Error::Database)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                // One writer at a time either way; a few readers under WAL.
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            // No ping before each statement: on SQLite it is a thread hand-off per statement
            // for a file that cannot go away, on PostgreSQL a round trip. A connection that died
            // (a restarted server) fails one statement and is then dropped from the pool.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    for pragma in backend.connection_pragmas() {
                        sqlx::query(*pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(Error::Database)?;
        Ok(Self { pool, backend })
    }

    /// Connects and brings the schema up to date (refusing a newer one).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open(url: &DatabaseUrl) -> Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// The newest schema version this binary knows.
    pub fn known_schema_version(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The schema version the database is at (0 when empty).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn schema_version(&self) -> Result<i64> {
        let exists: i64 = sqlx::query_scalar(self.backend.migrations_table_exists_sql())
            .fetch_one(&self.pool)
            .await?;
        if exists == 0 {
            return Ok(0);
        }
        let version: Option<i64> =
            sqlx::query_scalar("select max(version) from _sqlx_migrations where success = $1")
                .bind(true)
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0))
    }

    /// Applies pending migrations. Running it again is a no-op; a database written by a newer kam
    /// is refused before anything is touched.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn migrate(&self) -> Result<MigrationReport> {
        let before = self.schema_version().await?;
        let known = self.known_schema_version();
        if before > known {
            return Err(Error::SchemaTooNew {
                database: before,
                binary: known,
            });
        }
        let pending = self
            .migrator()
            .iter()
            .filter(|m| m.version > before)
            .count();
        self.migrator().run(&self.pool).await?;
        if before > 0 && before < 8 {
            // Version 8 added the customers' pinyin initials, which only Rust can compute.
            self.fill_name_initials().await?;
        }
        Ok(MigrationReport {
            applied_now: pending,
            schema_version: self.schema_version().await?,
        })
    }

    async fn fill_name_initials(&self) -> Result<()> {
        let rows = sqlx::query("select id, name from customer where name_initials = ''")
            .fetch_all(&self.pool)
            .await?;
        let mut tx = self.begin_write().await?;
        for row in &rows {
            let id: i64 = sqlx::Row::try_get(row, "id")?;
            let name: String = sqlx::Row::try_get(row, "name")?;
            sql::Sql::new("update customer set name_initials = ")
                .bind(kam_core::search::name_initials(&name))
                .push(" where id = ")
                .bind(id)
                .query()
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that will write. On SQLite it takes the write lock at `BEGIN IMMEDIATE`,
    /// where the busy timeout applies: a deferred transaction that reads first and writes later
    /// can get "database is locked" at once instead of waiting, when another connection's write
    /// (or the rollback of a dropped transaction) is still in flight.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}
