//! The few places where SQLite and PostgreSQL differ, in one file.

use kam_core::org::OrgPath;

use crate::sql::Sql;

/// Which database a `Store` talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Run on every new connection. SQLite: WAL so readers never block the writer, foreign keys
    /// on (off by default in SQLite), `synchronous=FULL` so a committed batch survives power loss,
    /// and a busy timeout instead of an immediate "database is locked".
    pub(crate) fn connection_pragmas(self) -> &'static [&'static str] {
        match self {
            Backend::Sqlite => &[
                "pragma journal_mode = wal",
                "pragma foreign_keys = on",
                "pragma synchronous = full",
                "pragma busy_timeout = 10000",
                // Reads of a database bigger than the default 2 MB page cache otherwise cost a
                // pread system call per page: pages come from a shared read-only mapping instead,
                // and each connection keeps 16 MB of its hottest pages (the indexes).
                "pragma mmap_size = 268435456",
                "pragma cache_size = -16384",
            ],
            Backend::Postgres => &["set time zone 'UTC'"],
        }
    }

    /// How `column` is tested against a subquery's ids inside an `or` (the visibility clause):
    /// the text before the subquery and after it. SQLite answers an `or` of two `in` lists by
    /// two index searches (its MULTI-INDEX OR); PostgreSQL does the like (a BitmapOr) only for
    /// `= any(array(…))`, and for `in` filters every customer row by hashed subplans — a
    /// sequential scan of the customers in every list a user reads.
    pub(crate) fn in_ids(self) -> (&'static str, &'static str) {
        match self {
            Backend::Sqlite => (" in (", ")"),
            Backend::Postgres => (" = any(array(", "))"),
        }
    }

    /// Appends the test that org path `column` lies in the subtree of `path` (paths are digits
    /// and slashes, each ending in a slash). PostgreSQL: `like 'path%'`. SQLite: the same as a
    /// byte range, `path <= column < path'` where `path'` ends in '0' (the byte after '/') — a
    /// bound `like` pattern makes SQLite recompile the statement on every execution (a new
    /// binding of a parameter its LIKE optimisation looked at expires the prepared statement),
    /// which was a quarter of the web's CPU on a customer page.
    pub(crate) fn push_under(self, sql: &mut Sql, column: &str, path: &OrgPath) {
        let path = path.as_str();
        match self {
            Backend::Sqlite => {
                let upper = format!("{}0", path.strip_suffix('/').unwrap_or(path));
                sql.push(&format!("{column} >= "))
                    .bind(path)
                    .push(&format!(" and {column} < "))
                    .bind(upper);
            }
            Backend::Postgres => {
                sql.push(&format!("{column} like "))
                    .bind(format!("{path}%"));
            }
        }
    }

    pub(crate) fn migrations_table_exists_sql(self) -> &'static str {
        match self {
            Backend::Sqlite => {
                "select count(*) from sqlite_master where type = 'table' and name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "select count(*) from information_schema.tables where table_name = '_sqlx_migrations' and table_schema = current_schema()"
            }
        }
    }

    /// How many bind parameters a multi-row insert carries per statement.
    ///
    /// SQLite allows 32766, but looking up a numbered parameter's name (`$n`) scans the statement's
    /// parameter list, so binding is quadratic in the count: 30,000 per statement made a 55,000
    /// customer load take 90 s; at a thousand the scan was still 3% of a demo batch's profile. A
    /// quarter of that keeps the statements large enough and the scan out of the profile.
    /// PostgreSQL allows 65535 and binds positionally.
    pub(crate) fn max_binds(self) -> usize {
        match self {
            Backend::Sqlite => 250,
            Backend::Postgres => 60_000,
        }
    }
}
