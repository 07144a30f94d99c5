//! The four fact kinds, their rows, and their Arrow schemas.

use std::{borrow::Cow, sync::Arc};

use arrow::{
    array::{
        ArrayRef, BooleanArray, Date32Array, Int32Array, Int64Array, RecordBatch, StringArray,
    },
    datatypes::{DataType, Field, Schema, SchemaRef},
};
use chrono::NaiveDate;
use kam_core::code_enum;

code_enum! {
    /// A kind of fact file; the code is the folder name under the facts root.
    pub enum FactKind as "fact_kind" {
        Balance = "balance",
        Transaction = "transaction",
        Loan = "loan",
        Fee = "fee",
    }
}

code_enum! {
    /// Credit (money in) or debit (money out) of an account.
    pub enum Direction as "direction" {
        Credit = "credit",
        Debit = "debit",
    }
}

/// A short, low-cardinality text (currency, channel, class, code): borrowed when the writer has a
/// constant (the synthetic bank), owned when it came from a file (an import), never copied needlessly.
pub type Label = Cow<'static, str>;

/// End-of-day balance of one account (日终余额).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceRow {
    pub account_no: String,
    pub cif_no: String,
    pub currency: Label,
    pub balance_minor: i64,
}

/// One posted transaction. `amount_minor` is positive; `direction` says which way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRow {
    pub txn_id: String,
    pub account_no: String,
    pub cif_no: String,
    pub direction: Direction,
    pub amount_minor: i64,
    pub currency: Label,
    pub channel: Label,
    pub counterparty_name: String,
    pub counterparty_bank: Label,
    pub reversal: bool,
    pub reverses_txn_id: Option<String>,
}

/// A daily snapshot of one loan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanRow {
    pub loan_no: String,
    pub cif_no: String,
    pub currency: Label,
    pub outstanding_minor: i64,
    pub overdue_principal_minor: i64,
    pub overdue_days: i32,
    /// pass, special_mention, substandard, doubtful, loss.
    pub loan_class: Label,
    pub credit_limit_minor: i64,
}

/// Fee income (中间业务收入) booked for a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeRow {
    pub cif_no: String,
    pub fee_code: Label,
    pub amount_minor: i64,
    pub currency: Label,
}

pub(crate) fn days_since_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch");
    i32::try_from((date - epoch).num_days()).expect("date within Date32 range")
}

fn common_fields() -> Vec<Field> {
    vec![
        Field::new("business_date", DataType::Date32, false),
        Field::new("batch_id", DataType::Utf8, false),
    ]
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn int64(values: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(values))
}

/// Implemented by each row type: its schema and how a day's rows become one record batch.
pub trait FactRows: Sized {
    const KIND: FactKind;
    fn schema() -> SchemaRef;
    fn columns(rows: &[Self]) -> Vec<ArrayRef>;

    fn record_batch(rows: &[Self], date: NaiveDate, batch_id: &str) -> RecordBatch {
        let day = days_since_epoch(date);
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(Date32Array::from(vec![day; rows.len()])),
            strings(std::iter::repeat_n(batch_id, rows.len())),
        ];
        columns.extend(Self::columns(rows));
        RecordBatch::try_new(Self::schema(), columns).expect("columns match the schema")
    }
}

impl FactRows for BalanceRow {
    const KIND: FactKind = FactKind::Balance;
    fn schema() -> SchemaRef {
        let mut fields = common_fields();
        fields.extend([
            Field::new("account_no", DataType::Utf8, false),
            Field::new("cif_no", DataType::Utf8, false),
            Field::new("currency", DataType::Utf8, false),
            Field::new("balance_minor", DataType::Int64, false),
        ]);
        Arc::new(Schema::new(fields))
    }
    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        vec![
            strings(rows.iter().map(|r| r.account_no.as_str())),
            strings(rows.iter().map(|r| r.cif_no.as_str())),
            strings(rows.iter().map(|r| r.currency.as_ref())),
            int64(rows.iter().map(|r| r.balance_minor)),
        ]
    }
}

impl FactRows for TransactionRow {
    const KIND: FactKind = FactKind::Transaction;
    fn schema() -> SchemaRef {
        let mut fields = common_fields();
        fields.extend([
            Field::new("txn_id", DataType::Utf8, false),
            Field::new("account_no", DataType::Utf8, false),
            Field::new("cif_no", DataType::Utf8, false),
            Field::new("direction", DataType::Utf8, false),
            Field::new("amount_minor", DataType::Int64, false),
            Field::new("currency", DataType::Utf8, false),
            Field::new("channel", DataType::Utf8, false),
            Field::new("counterparty_name", DataType::Utf8, false),
            Field::new("counterparty_bank", DataType::Utf8, false),
            Field::new("reversal", DataType::Boolean, false),
            Field::new("reverses_txn_id", DataType::Utf8, true),
        ]);
        Arc::new(Schema::new(fields))
    }
    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        vec![
            strings(rows.iter().map(|r| r.txn_id.as_str())),
            strings(rows.iter().map(|r| r.account_no.as_str())),
            strings(rows.iter().map(|r| r.cif_no.as_str())),
            strings(rows.iter().map(|r| r.direction.as_str())),
            int64(rows.iter().map(|r| r.amount_minor)),
            strings(rows.iter().map(|r| r.currency.as_ref())),
            strings(rows.iter().map(|r| r.channel.as_ref())),
            strings(rows.iter().map(|r| r.counterparty_name.as_str())),
            strings(rows.iter().map(|r| r.counterparty_bank.as_ref())),
            Arc::new(BooleanArray::from_iter(
                rows.iter().map(|r| Some(r.reversal)),
            )),
            Arc::new(StringArray::from_iter(
                rows.iter().map(|r| r.reverses_txn_id.as_deref()),
            )),
        ]
    }
}

impl FactRows for LoanRow {
    const KIND: FactKind = FactKind::Loan;
    fn schema() -> SchemaRef {
        let mut fields = common_fields();
        fields.extend([
            Field::new("loan_no", DataType::Utf8, false),
            Field::new("cif_no", DataType::Utf8, false),
            Field::new("currency", DataType::Utf8, false),
            Field::new("outstanding_minor", DataType::Int64, false),
            Field::new("overdue_principal_minor", DataType::Int64, false),
            Field::new("overdue_days", DataType::Int32, false),
            Field::new("loan_class", DataType::Utf8, false),
            Field::new("credit_limit_minor", DataType::Int64, false),
        ]);
        Arc::new(Schema::new(fields))
    }
    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        vec![
            strings(rows.iter().map(|r| r.loan_no.as_str())),
            strings(rows.iter().map(|r| r.cif_no.as_str())),
            strings(rows.iter().map(|r| r.currency.as_ref())),
            int64(rows.iter().map(|r| r.outstanding_minor)),
            int64(rows.iter().map(|r| r.overdue_principal_minor)),
            Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| r.overdue_days),
            )),
            strings(rows.iter().map(|r| r.loan_class.as_ref())),
            int64(rows.iter().map(|r| r.credit_limit_minor)),
        ]
    }
}

impl FactRows for FeeRow {
    const KIND: FactKind = FactKind::Fee;
    fn schema() -> SchemaRef {
        let mut fields = common_fields();
        fields.extend([
            Field::new("cif_no", DataType::Utf8, false),
            Field::new("fee_code", DataType::Utf8, false),
            Field::new("amount_minor", DataType::Int64, false),
            Field::new("currency", DataType::Utf8, false),
        ]);
        Arc::new(Schema::new(fields))
    }
    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        vec![
            strings(rows.iter().map(|r| r.cif_no.as_str())),
            strings(rows.iter().map(|r| r.fee_code.as_ref())),
            int64(rows.iter().map(|r| r.amount_minor)),
            strings(rows.iter().map(|r| r.currency.as_ref())),
        ]
    }
}
