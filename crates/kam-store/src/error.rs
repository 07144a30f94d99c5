//! The store's error type: caller-caused outcomes apart from internal failures.

use kam_core::ParseError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The record does not exist *or the scope may not see it* — deliberately the same answer.
    #[error("not found: {entity} {key}")]
    NotFound { entity: &'static str, key: String },
    /// A business key that already exists (unique constraint).
    #[error("already exists: {entity} {key}")]
    Conflict { entity: &'static str, key: String },
    /// The scope may see the record but not change it (auditors, risk officers).
    #[error("read-only access: this user may look but not change")]
    ReadOnly,
    /// The scope may change the record, but not this way (an alert given to someone out of reach).
    #[error("not permitted: {0}")]
    NotPermitted(&'static str),
    #[error("{0}")]
    Invalid(#[from] ParseError),
    #[error(
        "this database has schema version {database}, newer than this kam knows ({binary}); upgrade kam instead of using an older binary on it"
    )]
    SchemaTooNew { database: i64, binary: i64 },
    #[error("stored data does not parse ({0}); the database was changed outside kam")]
    Corrupt(ParseError),
    /// The SQLite file or its folder cannot be written (permissions, a read-only disk): said at
    /// once, instead of waiting for the pool to time out.
    #[error(
        "数据库不可写：{path}（{reason}）；请检查该文件及其所在目录的权限，或磁盘是否只读 / the database cannot be written: {path} ({reason}); check the permissions of the file and its folder, or whether the disk is read-only"
    )]
    NotWritable { path: String, reason: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Error {
    /// Maps a unique-constraint violation to `Conflict`, anything else to `Database`.
    pub(crate) fn from_write(
        error: sqlx::Error,
        entity: &'static str,
        key: impl Into<String>,
    ) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict {
                entity,
                key: key.into(),
            },
            _ => Error::Database(error),
        }
    }
}
