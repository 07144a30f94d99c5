//! A small statement builder that numbers `$n` placeholders, which both dialects accept.
//!
//! sqlx's own `QueryBuilder<Any>` writes `?`, which PostgreSQL rejects; this keeps dynamic SQL
//! (filters, visibility clauses, multi-row inserts) portable.

use std::fmt::Write;

use sqlx::{Any, AssertSqlSafe, any::AnyArguments, query::Query};

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
    NullText,
    NullInt,
    Real(f64),
    NullReal,
    // Only the test harness binds these (to fake a newer schema).
    #[cfg_attr(not(feature = "test-harness"), allow(dead_code))]
    Bool(bool),
    #[cfg_attr(not(feature = "test-harness"), allow(dead_code))]
    Bytes(Vec<u8>),
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Int(value)
    }
}
impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Text(value.to_owned())
    }
}
impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(value)
    }
}
impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Self {
        value.map_or(Arg::NullText, Arg::Text)
    }
}
impl From<Option<&str>> for Arg {
    fn from(value: Option<&str>) -> Self {
        value.map_or(Arg::NullText, |v| Arg::Text(v.to_owned()))
    }
}
impl From<Option<f64>> for Arg {
    fn from(value: Option<f64>) -> Self {
        value.map_or(Arg::NullReal, Arg::Real)
    }
}
impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Arg::NullInt, Arg::Int)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    pub(crate) fn bind(&mut self, arg: impl Into<Arg>) -> &mut Self {
        let arg = arg.into();
        if matches!(arg, Arg::NullReal) {
            // sqlx 0.9's Any driver declares a null f64 as float4 on PostgreSQL, and a prepared
            // statement reused with a real f64 in that place then fails ("incorrect binary data
            // format"); a literal null has no declared type to disagree with.
            self.text.push_str("null");
            return self;
        }
        self.args.push(arg);
        let _ = write!(self.text, "${}", self.args.len());
        self
    }

    pub(crate) fn arg_count(&self) -> usize {
        self.args.len()
    }

    pub(crate) fn query(&self) -> Query<'static, Any, AnyArguments> {
        // Safe by construction: the text of a `Sql` is only ever this crate's constant SQL; every
        // value from outside goes through `bind`.
        let mut query = sqlx::query(AssertSqlSafe(self.text.clone()));
        for arg in &self.args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.as_str()),
                Arg::NullText => query.bind(None::<String>),
                Arg::NullInt => query.bind(None::<i64>),
                Arg::Real(v) => query.bind(*v),
                Arg::NullReal => unreachable!("bound as a literal null"),
                Arg::Bool(v) => query.bind(*v),
                Arg::Bytes(v) => query.bind(v.clone()),
            };
        }
        query
    }
}

/// One row of an insert, column by column: the column list and the values come from the same
/// calls, so they cannot drift apart (`bulk::insert_values` writes rows of them).
#[derive(Debug, Default, Clone)]
pub(crate) struct Values {
    columns: Vec<&'static str>,
    args: Vec<Arg>,
}

impl Values {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn put(mut self, column: &'static str, value: impl Into<Arg>) -> Self {
        self.columns.push(column);
        self.args.push(value.into());
        self
    }

    /// This row with `column` first (a customer's id in front of the values of a batch result).
    pub(crate) fn first(mut self, column: &'static str, value: impl Into<Arg>) -> Self {
        self.columns.insert(0, column);
        self.args.insert(0, value.into());
        self
    }

    pub(crate) fn columns(&self) -> &[&'static str] {
        &self.columns
    }

    pub(crate) fn into_args(self) -> Vec<Arg> {
        self.args
    }

    /// `insert into {table} (columns) values (…)` of these values.
    pub(crate) fn into_insert(self, table: &str) -> Sql {
        let mut sql = Sql::new(&format!(
            "insert into {table} ({}) values (",
            self.columns.join(", ")
        ));
        for (i, arg) in self.args.into_iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(arg);
        }
        sql.push(")");
        sql
    }

    /// `update {table} set column = value, …` of these values; the caller adds the `where`.
    pub(crate) fn into_update(self, table: &str) -> Sql {
        let mut sql = Sql::new(&format!("update {table} set "));
        for (i, (column, arg)) in self.columns.into_iter().zip(self.args).enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push(&format!("{column} = ")).bind(arg);
        }
        sql
    }
}

/// How an insert meets a row that is there already: `on conflict (key) do update` of `update`,
/// only where one of them changes (`is distinct from`, in both dialects), so an unchanged row is
/// neither rewritten nor counted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Upsert {
    pub key: &'static [&'static str],
    pub update: &'static [&'static str],
    /// `(date, column)`: the date column says since when `column` holds its value — when a
    /// file changes `column`, the date is the file's (unknown when it gives none); when it does
    /// not, the stored date stays (the file's only fills one never known).
    pub dated: Option<(&'static str, &'static str)>,
    /// The table counts its saves in `version` (forms name the version they started from): a
    /// file that changes a row is a save too, so a form opened before it is refused, not
    /// silently applied over it.
    pub versioned: bool,
}

impl Upsert {
    pub(crate) fn tail(&self, table: &str) -> String {
        let mut set: Vec<String> = self
            .update
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        if self.versioned {
            set.push(format!("version = {table}.version + 1"));
        }
        if let Some((date, column)) = self.dated {
            set.push(format!(
                "{date} = case when {table}.{column} is distinct from excluded.{column} \
                 then excluded.{date} else coalesce({table}.{date}, excluded.{date}) end"
            ));
        }
        let mut changed: Vec<String> = self
            .update
            .iter()
            .map(|c| format!("{table}.{c} is distinct from excluded.{c}"))
            .collect();
        if let Some((date, _)) = self.dated {
            changed.push(format!(
                "({table}.{date} is null and excluded.{date} is not null)"
            ));
        }
        format!(
            " on conflict ({}) do update set {} where {}",
            self.key.join(", "),
            set.join(", "),
            changed.join(" or ")
        )
    }
}
