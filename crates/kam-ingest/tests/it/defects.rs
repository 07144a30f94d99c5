//! Regression tests of the defects issue's data items: values that used to load wrong without a
//! word — amounts with commas, dates with trailing characters, impossible loans, duplicate header
//! columns, over-long codes, rows of another business date, an unclosed quote — and the check
//! and the import agreeing on what they refuse (on SQLite and PostgreSQL).

use std::{fs, path::PathBuf};

use kam_ingest::{
    KeySet, Mapping, Reject, RejectCode, check_file,
    import::{FileOutcome, ImportOptions, RejectLimit, import_file},
};

use crate::{Collected, read};

const BALANCES_HEADER: &str = "business_date,account_no,cif_no,currency,balance\n";
const LOANS_HEADER: &str = "business_date,loan_no,cif_no,currency,outstanding,overdue_principal,overdue_days,loan_class,credit_limit\n";
const TXN_HEADER: &str = "business_date,txn_id,account_no,cif_no,direction,amount,currency,channel,counterparty_name,counterparty_bank,reversal,reverses_txn_id\n";

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, text).unwrap();
    path
}

/// What `kam import check` reports for a file: its counts and its rejects.
fn check(mapping: &Mapping, path: &std::path::Path) -> (kam_ingest::FileReport, Vec<Reject>) {
    let name = path.file_name().unwrap().to_str().unwrap();
    let kind = mapping.kind_for(name).unwrap();
    let mut collected = Collected::default();
    let report = check_file(path, kind, &mut KeySet::default(), &mut collected)
        .unwrap_or_else(|e| panic!("{e}"));
    (report, collected.rejects)
}

fn codes(rejects: &[Reject]) -> Vec<(u64, RejectCode)> {
    rejects.iter().map(|r| (r.line, r.code)).collect()
}

#[test]
fn a_comma_in_an_amount_is_refused_unless_the_mapping_declares_thousands() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{BALANCES_HEADER}2026-11-26,A1,C1,CNY,\"12,34\"\n2026-11-26,A2,C1,CNY,\"12,345,67\"\n2026-11-26,A3,C1,CNY,\"1,2,3\"\n2026-11-26,A4,C1,CNY,\"1,,000\"\n2026-11-26,A5,C1,CNY,\"12,345.67\"\n2026-11-26,A6,C1,CNY,99.5\n"
    );
    let path = write(&dir, "balances_20261126.csv", &text);
    // kam's own mapping declares no separator: every comma is refused, none is dropped.
    let (report, rejects) = check(&Mapping::kam_default(), &path);
    assert_eq!((report.loaded, report.rejected), (1, 5));
    assert!(
        rejects
            .iter()
            .all(|r| r.code == RejectCode::BadAmount && r.field == "balance")
    );
    assert_eq!(report.amount_sums["balance"], 9_950);
    assert_eq!(rejects[0].value, "12,34");
    // With `thousands = ","`, valid groups of three load; invalid groups are still refused.
    let grouped = Mapping::parse(
        "grouped.toml",
        "version = 1\n[kinds.balances]\nfiles = \"balances*\"\nthousands = \",\"\n",
    )
    .unwrap();
    let (report, rejects) = check(&grouped, &path);
    assert_eq!((report.loaded, report.rejected), (2, 4));
    assert_eq!(
        codes(&rejects),
        [
            (2, RejectCode::BadAmount),
            (3, RejectCode::BadAmount),
            (4, RejectCode::BadAmount),
            (5, RejectCode::BadAmount)
        ]
    );
    assert_eq!(report.amount_sums["balance"], 1_234_567 + 9_950);
}

#[test]
fn a_date_is_read_whole_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let row = |date: &str, id: &str| {
        format!("{date},{id},6222001,100001,credit,1.00,CNY,mobile,张三,本行,N,\n")
    };
    let text = format!(
        "{TXN_HEADER}{}{}{}",
        row("2011-12-091", "T1"),
        row("2011-12-09x", "T2"),
        row("2011-12-09", "T3")
    );
    let path = write(&dir, "transactions_20111209.csv", &text);
    let (report, rejects) = check(&Mapping::kam_default(), &path);
    assert_eq!((report.loaded, report.rejected), (1, 2));
    assert_eq!(
        codes(&rejects),
        [(2, RejectCode::BadDate), (3, RejectCode::BadDate)]
    );
    let berka = Mapping::parse(
        "berka.toml",
        "version = 1\n[kinds.transactions]\nfiles = \"transactions*\"\ndate_format = \"%y%m%d\"\ncentury_pivot = 30\n",
    )
    .unwrap();
    let text = format!(
        "{TXN_HEADER}{}{}{}",
        row("931107xyz", "T1"),
        row("9311071", "T2"),
        row("931107", "T3")
    );
    let path = write(&dir, "transactions_19931107.csv", &text);
    let (report, rejects) = check(&berka, &path);
    assert_eq!((report.loaded, report.rejected), (1, 2));
    assert!(rejects.iter().all(|r| r.code == RejectCode::BadDate));
}

#[test]
fn impossible_loans_and_over_long_codes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{LOANS_HEADER}2026-11-26,L1,C1,CNY,100.00,0,-1,pass,\n2026-11-26,L2,C1,CNY,-5.00,0,0,pass,\n2026-11-26,L3,C1,CNY,100.00,100.01,30,substandard,\n2026-11-26,L4,C1,CNY,100.00,100.00,30,substandard,\n"
    );
    let path = write(&dir, "loans_20261126.csv", &text);
    let (report, rejects) = check(&Mapping::kam_default(), &path);
    assert_eq!((report.loaded, report.rejected), (1, 3));
    let shown: Vec<_> = rejects
        .iter()
        .map(|r| (r.line, r.field.as_str(), r.code))
        .collect();
    assert_eq!(
        shown,
        [
            (2, "overdue_days", RejectCode::BadNumber),
            (3, "outstanding", RejectCode::BadAmount),
            (4, "overdue_principal", RejectCode::Rule)
        ]
    );
    // A 10 MB account number is a broken file, not a key; the reject shows only its start.
    let huge = "6".repeat(10 * 1024 * 1024);
    let text = format!("{BALANCES_HEADER}2026-11-26,{huge},C1,CNY,1.00\n");
    let path = write(&dir, "balances_20261126.csv", &text);
    let (report, rejects) = check(&Mapping::kam_default(), &path);
    assert_eq!((report.loaded, report.rejected), (0, 1));
    assert_eq!(
        (rejects[0].field.as_str(), rejects[0].code),
        ("account_no", RejectCode::TooLong)
    );
    assert!(rejects[0].value.len() <= 200);
}

#[test]
fn a_header_naming_a_field_twice_is_refused_naming_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = "business_date,account_no,cif_no,currency,balance,balance\n2026-11-26,A1,C1,CNY,1.00,2.00\n";
    let path = write(&dir, "balances_20261126.csv", text);
    let error = read(&Mapping::kam_default(), &path, &mut KeySet::default())
        .0
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("\"balance\" 2 times (positions 5, 6)")
            && error.contains("“balance”出现 2 次"),
        "{error}"
    );
}

#[test]
fn a_row_of_another_business_date_than_its_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{BALANCES_HEADER}2026-11-26,A1,C1,CNY,1.00\n2026-11-27,A2,C1,CNY,2.00\n");
    let path = write(&dir, "balances_20261126.csv", &text);
    let (report, rejects) = check(&Mapping::kam_default(), &path);
    assert_eq!((report.loaded, report.rejected), (1, 1));
    assert_eq!(
        (rejects[0].line, rejects[0].code, rejects[0].value.as_str()),
        (3, RejectCode::DateMismatch, "2026-11-27")
    );
    assert!(rejects[0].message_en.contains("2026-11-26"), "{rejects:?}");
}

#[test]
fn an_unclosed_quote_names_the_line_it_opened_on_and_counts_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        |id: &str| format!("2026-11-27,{id},6222001,100001,credit,1.00,CNY,mobile,张三,本行,N,\n");
    let text = format!(
        "{TXN_HEADER}{}2026-11-27,T2,6222001,100001,credit,1.00,CNY,mobile,\"张三,本行,N,\n{}{}",
        good("T1"),
        good("T3"),
        good("T4")
    );
    let path = write(&dir, "transactions_20261127.csv", &text);
    let (report, rejects) = check(&Mapping::kam_default(), &path);
    assert_eq!(
        (report.rows_read, report.loaded, report.rejected),
        (4, 1, 3),
        "every data line of the file is counted: {rejects:?}"
    );
    assert_eq!(
        codes(&rejects),
        [
            (3, RejectCode::UnclosedQuote),
            (4, RejectCode::UnclosedQuote),
            (5, RejectCode::UnclosedQuote)
        ]
    );
    assert!(
        rejects[0].message_en.contains("quote opened on line 3")
            && rejects[0].message_zh.contains("第 3 行的引号没有闭合"),
        "{:?}",
        rejects[0]
    );
}

/// One validation for both: what the check refuses is what the import refuses, row for row.
async fn check_and_import_refuse_the_same_rows(store: kam_store::Store) {
    let dir = tempfile::tempdir().unwrap();
    let org = write(
        &dir,
        "org_units_20261127.csv",
        "org_code,name,kind,parent_code\nHO,总行,head_office,\nBR1,北京分行,tier1_branch,HO\n",
    );
    let long_name = "长".repeat(300);
    let customers = write(
        &dir,
        "customers_20261127.csv",
        &format!(
            "cif_no,kind,name,line,org_code,industry,account_type,risk_tolerance,id_number,phone,since,password\nC1,corporate,{long_name},corporate,BR1,C,,,,,2020-01-01,x\nC2,corporate,甲\u{0}公司,corporate,BR1,C,,,,,2020-01-01,x\nC3,corporate,乙公司,corporate,BR1,C,,,,,2020-01-01,x\n"
        ),
    );
    let mapping = Mapping::kam_default();
    let (checked, check_rejects) = check(&mapping, &customers);
    assert_eq!(
        (checked.loaded, checked.rejected),
        (1, 2),
        "{check_rejects:?}"
    );
    assert!(checked.warnings.iter().any(|w| w.contains("password")));

    let facts = kam_facts::FactWriter::new(dir.path().join("facts"));
    let options = ImportOptions {
        business_date: None,
        replace: false,
        max_rejects: RejectLimit::Count(2),
        keys_in_memory: kam_ingest::reader::KEYS_IN_MEMORY,
        references: Default::default(),
    };
    let mut outcomes = Vec::new();
    let mut rejects = Vec::new();
    for path in [&org, &customers] {
        rejects.clear();
        let outcome = import_file(
            &store,
            &facts,
            &mapping,
            path,
            &options,
            &kam_store::Actor::system("test"),
            kam_ingest::import::Feedback {
                rejects: &mut rejects,
                progress: &mut |_, _| {},
            },
        )
        .await
        .unwrap();
        outcomes.push(outcome);
    }
    let FileOutcome::Imported { report, .. } = &outcomes[1] else {
        panic!("{:?}", outcomes[1]);
    };
    assert_eq!(
        (report.loaded, report.rejected),
        (checked.loaded, checked.rejected)
    );
    assert_eq!(codes(&rejects), codes(&check_rejects));
    assert_eq!(report.warnings, checked.warnings);
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn check_and_import_refuse_the_same_rows() {
        let db = kam_store::testing::sqlite().await;
        super::check_and_import_refuse_the_same_rows(db.store.clone()).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn check_and_import_refuse_the_same_rows() {
        let Some(db) = kam_store::testing::postgres().await else {
            eprintln!("SKIPPED on PostgreSQL: check_and_import_refuse_the_same_rows");
            return;
        };
        super::check_and_import_refuse_the_same_rows(db.store.clone()).await;
    }
}
