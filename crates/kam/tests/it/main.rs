//! Integration tests of the `kam` binary (run as a real process on real files) and the tidy rules.

mod cli;
mod tidy;
