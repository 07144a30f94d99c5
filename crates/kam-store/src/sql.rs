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
