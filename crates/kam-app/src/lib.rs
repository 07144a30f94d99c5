//! kam-app: the use cases both front ends run — the diagnosis batch (`batch`), the scoring board
//! and manual scores (`board`), exports (`export`) — over kam-store's handles, kam-facts' files and
//! kam-query's engine. No argument parsing and no HTTP: the command line and the web call the same
//! functions. Nothing here reads the clock: a use case is told its day (`as_of`, `today`) by its
//! caller, who reads its own clock in the bank's time zone (kam-core's `clock`), so tests fix it.
//! Imports run through kam-ingest, whose `import` and `master` modules are the use case.

pub mod batch;
pub mod board;
pub mod export;
