//! The database URL: a SQLite file or a PostgreSQL server, chosen by scheme.

use std::{fmt, path::PathBuf};

use kam_core::ParseError;

use crate::Backend;

/// Where the operational store lives. `Debug` and `Display` hide any password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `sqlite:PATH` / `sqlite://PATH` and `postgres://…` / `postgresql://…`.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let value = value.trim();
        if let Some(path) = value
            .strip_prefix("sqlite://")
            .or_else(|| value.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(ParseError::new(
                    "database",
                    value,
                    "a sqlite URL needs a file path, e.g. sqlite://kam-data/kam.db",
                    "sqlite 地址需要文件路径，例如 sqlite://kam-data/kam.db",
                ));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(Self::Postgres(value.to_owned()));
        }
        Err(ParseError::new(
            "database",
            redact(value),
            "the database URL must start with sqlite:// (a file) or postgres:// (a server)",
            "数据库地址必须以 sqlite://（文件）或 postgres://（服务器）开头",
        ))
    }

    pub fn sqlite_file(path: impl Into<PathBuf>) -> Self {
        Self::Sqlite(path.into())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// The string handed to sqlx (contains the password, never print it).
    pub(crate) fn to_connect_string(&self) -> String {
        match self {
            // mode=rwc: create the file on first use.
            Self::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
            Self::Postgres(url) => url.clone(),
        }
    }
}

/// `postgres://kam:secret@host/db` → `postgres://kam:***@host/db`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_scheme_names_both_accepted_ones() {
        let error = DatabaseUrl::parse("mysql://root@localhost/kam").unwrap_err();
        assert!(error.reason_en.contains("sqlite://") && error.reason_en.contains("postgres://"));
    }

    #[test]
    fn passwords_never_show() {
        let url = DatabaseUrl::parse("postgres://kam:s3cret@db.bank:5432/kam").unwrap();
        assert_eq!(url.to_string(), "postgres://kam:***@db.bank:5432/kam");
        assert!(!format!("{url:?}").contains("s3cret"));
        let error = DatabaseUrl::parse("pg://kam:s3cret@db/kam").unwrap_err();
        assert!(!error.value.contains("s3cret"));
    }

    #[test]
    fn sqlite_urls_carry_a_path() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/kam.db").unwrap(),
            DatabaseUrl::Sqlite("data/kam.db".into())
        );
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }
}
