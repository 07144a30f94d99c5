//! kam-ingest: core-banking extracts into kam. Mapping files (TOML) fit any bank's files to kam's
//! extract kinds; files are streamed in any of the encodings Chinese banks use; every field is
//! validated, and every bad row goes to a rejects list with file, line, column, value and a reason
//! in zh-CN and en — a bad row never stops a file and is never silently dropped.
//!
//! It decides nothing about tiers or rules, and writes only through kam-store's and kam-facts' APIs
//! (never SQL or Parquet of its own).

pub mod control;
pub mod held;
pub mod import;
pub mod kind;
pub mod mapping;
mod master;
pub use master::check_file;
pub mod reader;
pub mod reference;
pub mod reject;
pub mod stage;
pub mod value;

pub use kind::{ExtractKind, FieldSpec, FieldType};
pub use mapping::{KindMapping, Mapping, MappingError};
pub use reader::{FileReport, KeySet, ReadError, Row, RowSink, read_file};
pub use reject::{Reject, RejectCode, Severity, write_rejects};
pub use value::Value;
