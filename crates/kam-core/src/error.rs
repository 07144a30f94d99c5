//! The one error type of parsing at the edge: which field, which value, why — in zh-CN and en.

use std::fmt;

/// A value from outside (a flag, a config key, an extract column) that does not parse.
///
/// It carries the field name and the offending value so that every caller can say *where*,
/// and a reason in both interface languages so the CLI and the web can answer in the user's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    pub field: &'static str,
    pub value: String,
    pub reason_en: String,
    pub reason_zh: String,
}

impl ParseError {
    pub fn new(
        field: &'static str,
        value: impl Into<String>,
        reason_en: impl Into<String>,
        reason_zh: impl Into<String>,
    ) -> Self {
        Self {
            field,
            value: value.into(),
            reason_en: reason_en.into(),
            reason_zh: reason_zh.into(),
        }
    }

    /// A value outside a closed list: the message names every accepted value.
    pub fn not_one_of(field: &'static str, value: &str, accepted: &[&str]) -> Self {
        let list = accepted.join(", ");
        Self::new(
            field,
            value,
            format!("not one of the accepted values: {list}"),
            format!("不是可接受的取值之一：{list}"),
        )
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: 取值 “{}” 无效，{}（{}）",
            self.field, self.value, self.reason_zh, self.reason_en
        )
    }
}

/// Implements `as_str`, `parse`, `ALL` and `Display` for a closed list of codes stored as text.
///
/// One macro rather than eight hand-written copies: every enum that crosses a database column or
/// an extract file needs exactly the same round trip, and the list of accepted values for the
/// error message must never drift from the variants.
#[macro_export]
macro_rules! code_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident as $field:literal { $($(#[$vmeta:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const CODES: &'static [&'static str] = &[$($code),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(value: &str) -> Result<Self, $crate::ParseError> {
                match value.trim() {
                    $($code => Ok($name::$variant),)+
                    other => Err($crate::ParseError::not_one_of($field, other, Self::CODES)),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
