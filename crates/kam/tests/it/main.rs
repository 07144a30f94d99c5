//! Integration tests of the `kam` binary (run as a real process on real files), SQL staging
//! with the Czech bank's tables, and the tidy rules.

mod cli;
mod nightly;
mod nights_page;
mod staging;
mod tidy;
