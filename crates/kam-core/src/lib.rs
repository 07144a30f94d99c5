//! kam-core: the domain of key-account management — org tree, users and roles, customers, groups,
//! key people, RM assignments, products, money, the indicator catalogue, the 80/20 rule, tiers,
//! account types, the scoring board, customer value and alert rules — and the one rule of who may see what.
//!
//! Pure: no I/O, no async, no SQL. Everything that crosses in from outside is parsed into a type
//! here (`CifNo::parse`, `Money::parse_yuan`, `IdNumber::parse`) and trusted afterwards.

pub mod activity;
pub mod alert;
pub mod assignment;
pub mod cell;
pub mod classes;
pub mod clock;
pub mod codec;
pub mod contact;
pub mod coverage;
pub mod customer;
pub mod diagnosis;
pub mod error;
pub mod group;
pub mod id;
pub mod indicator;
pub mod money;
pub mod opportunity;
pub mod org;
pub mod pareto;
pub mod password;
pub mod product;
pub mod profile;
pub mod reference;
pub mod report;
pub mod rules;
pub mod scoring;
pub mod search;
pub mod task;
pub mod tier;
pub mod user;
pub mod value;
pub mod visibility;

pub use error::ParseError;
