//! Dirty files: each case gives a reject (or a file error) that says where and why, and the rest
//! of the file still loads.

use std::{fs, path::PathBuf};

use kam_ingest::{KeySet, Mapping, RejectCode, Value};

use crate::read;

const TXN_HEADER: &str = "business_date,txn_id,account_no,cif_no,direction,amount,currency,channel,counterparty_name,counterparty_bank,reversal,reverses_txn_id\n";

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, bytes).unwrap();
    path
}

fn good_txn(id: &str) -> String {
    format!("2026-11-27,{id},6222001,100001,credit,100.00,CNY,mobile,张三,本行,N,\n")
}

#[test]
fn each_bad_row_is_rejected_with_line_column_and_reason_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(TXN_HEADER);
    text += &good_txn("T1"); // line 2
    text += "2026-11-27,T2,6222001,100001,credit,100.00,CNY\n"; // 3: too few fields
    text += "2026-11-27,T3,6222001,100001,credit,100.00,CNY,mobile,张三,本行,N,,extra\n"; // 4: too many
    text += "2026-13-01,T4,6222001,100001,credit,100.00,CNY,mobile,张三,本行,N,\n"; // 5: bad date
    text += "2026-11-27,T5,6222001,100001,credit,12x.00,CNY,mobile,张三,本行,N,\n"; // 6: bad amount
    text += "2026-11-27,T6,6222001,100001,credit,1.005,CNY,mobile,张三,本行,N,\n"; // 7: three decimals
    text += "2026-11-27,T7,6222001,100001,sideways,1.00,CNY,mobile,张三,本行,N,\n"; // 8: unknown code
    text += &good_txn("T1"); // 9: duplicate key in the file
    text += &good_txn("T8"); // 10
    let path = write(&dir, "transactions_20261127.csv", text.as_bytes());
    let mapping = Mapping::kam_default();
    let (report, got) = read(&mapping, &path, &mut KeySet::default());
    let report = report.unwrap();
    assert_eq!(report.rows_read, 9);
    assert_eq!(report.loaded, 2);
    assert_eq!(report.rejected, 6);
    assert_eq!(report.duplicates, 1);
    assert_eq!(
        report.rows_read,
        report.loaded + report.rejected + report.duplicates
    );
    assert_eq!(
        report.amount_sums["amount"], 20_000,
        "two good rows of 100.00 yuan"
    );
    let by_line: Vec<(u64, RejectCode, &str)> = got
        .rejects
        .iter()
        .map(|r| (r.line, r.code, r.column.as_str()))
        .collect();
    assert_eq!(
        by_line,
        vec![
            (3, RejectCode::FieldCount, ""),
            (4, RejectCode::FieldCount, ""),
            (5, RejectCode::BadDate, "business_date"),
            (6, RejectCode::BadAmount, "amount"),
            (7, RejectCode::AmountPrecision, "amount"),
            (8, RejectCode::UnknownCode, "direction"),
            (9, RejectCode::DuplicateKey, ""),
        ]
    );
    let unknown = &got.rejects[5];
    assert_eq!(unknown.value, "sideways");
    assert!(
        unknown.message_en.contains("credit, debit") && unknown.message_zh.contains("未知代码")
    );
}

#[test]
fn a_duplicate_key_across_files_of_one_run_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(
        &dir,
        "transactions_20261126.csv",
        format!("{TXN_HEADER}{}", good_txn("T1")).as_bytes(),
    );
    let second = write(
        &dir,
        "transactions_20261127.csv",
        format!("{TXN_HEADER}{}{}", good_txn("T1"), good_txn("T2")).as_bytes(),
    );
    let mapping = Mapping::kam_default();
    let mut seen = KeySet::default();
    assert_eq!(read(&mapping, &first, &mut seen).0.unwrap().loaded, 1);
    let (report, got) = read(&mapping, &second, &mut seen);
    let report = report.unwrap();
    assert_eq!((report.loaded, report.duplicates), (1, 1));
    assert_eq!(got.rejects[0].code, RejectCode::DuplicateKey);
    assert_eq!(got.rejects[0].line, 2);
}

#[test]
fn an_empty_file_is_an_error_and_a_header_only_file_is_zero_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = Mapping::kam_default();
    let empty = write(&dir, "fees_20261127.csv", b"");
    let error = read(&mapping, &empty, &mut KeySet::default())
        .0
        .unwrap_err();
    assert!(error.to_string().contains("empty"), "{error}");
    let header_only = write(
        &dir,
        "fees_20261128.csv",
        b"business_date,cif_no,fee_code,amount,currency\n",
    );
    let report = read(&mapping, &header_only, &mut KeySet::default())
        .0
        .unwrap();
    assert_eq!(
        (report.rows_read, report.loaded, report.rejected),
        (0, 0, 0)
    );
}

#[test]
fn a_truncated_last_line_is_rejected_and_the_lines_before_it_load() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{TXN_HEADER}{}2026-11-27,T9,6222001,100", good_txn("T1"));
    let path = write(&dir, "transactions_20261127.csv", text.as_bytes());
    let (report, got) = read(&Mapping::kam_default(), &path, &mut KeySet::default());
    let report = report.unwrap();
    assert_eq!((report.loaded, report.rejected), (1, 1));
    assert_eq!(
        (got.rejects[0].line, got.rejects[0].code),
        (3, RejectCode::FieldCount)
    );
}

#[test]
fn a_missing_column_names_the_columns_the_file_has() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "fees_20261127.csv",
        b"business_date,cif_no,fee_code,amt\n2026-11-27,1,x,1.00\n",
    );
    let error = read(&Mapping::kam_default(), &path, &mut KeySet::default())
        .0
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("amount") && error.contains("business_date, cif_no, fee_code, amt"),
        "{error}"
    );
}

const GBK_MAPPING: &str = r#"
version = 1
[kinds.customers]
files = "customers*.csv"
encoding = "gbk"
delimiter = "|"
date_format = "%Y%m%d"
[kinds.customers.columns]
cif_no = "客户号"
name = "客户名称"
org_code = "机构号"
since = "开户日期"
kind = "客户类型"
line = "条线"
[kinds.customers.codes.kind]
"01" = "corporate"
"02" = "individual"
[kinds.customers.constants]
account_type = "ordinary"
"#;

fn gbk_file(encoding: &'static encoding_rs::Encoding) -> Vec<u8> {
    let text = "客户号|客户名称|机构号|开户日期|客户类型|条线\n2001|招商银行股份有限公司|110101|20150301|01|corporate\n1001|张三丰|110101|20200101|02|retail\n";
    encoding.encode(text).0.into_owned()
}

#[test]
fn gbk_and_gb18030_files_read_through_a_mapping_with_renames_codes_and_constants() {
    for (encoding, name) in [(encoding_rs::GBK, "gbk"), (encoding_rs::GB18030, "gb18030")] {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "customers_20261127.csv", &gbk_file(encoding));
        let mapping = Mapping::parse(
            "m.toml",
            &GBK_MAPPING.replace("\"gbk\"", &format!("\"{name}\"")),
        )
        .unwrap();
        let (report, got) = read(&mapping, &path, &mut KeySet::default());
        let report = report.unwrap();
        assert_eq!(
            (report.loaded, report.rejected),
            (2, 0),
            "{name}: {:?}",
            got.rejects
        );
        assert_eq!(
            got.rows[0].values[2],
            Value::Text("招商银行股份有限公司".into())
        );
        assert_eq!(got.rows[1].values[1], Value::Text("individual".into()));
        assert_eq!(
            got.rows[0].values[10],
            Value::Date(chrono::NaiveDate::from_ymd_opt(2015, 3, 1).unwrap())
        );
    }
}

#[test]
fn a_gbk_file_read_as_utf8_is_rejected_as_the_wrong_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "customers_20261127.csv", &gbk_file(encoding_rs::GBK));
    let mapping = Mapping::parse(
        "m.toml",
        &GBK_MAPPING.replace("encoding = \"gbk\"", "encoding = \"utf-8\""),
    )
    .unwrap();
    // The header itself does not decode, so the mapped columns are not found: the file is refused
    // with the names it does have, which shows the garbling.
    let error = read(&mapping, &path, &mut KeySet::default())
        .0
        .unwrap_err()
        .to_string();
    assert!(error.contains('\u{FFFD}'), "{error}");
    // With positions instead of names, the rows themselves are rejected as the wrong encoding.
    let positional = GBK_MAPPING
        .replace(
            "encoding = \"gbk\"",
            "encoding = \"utf-8\"\nheader = false\nskip_rows = 1",
        )
        .replace("cif_no = \"客户号\"", "cif_no = 1")
        .replace("name = \"客户名称\"", "name = 2")
        .replace("org_code = \"机构号\"", "org_code = 3")
        .replace("since = \"开户日期\"", "since = 4")
        .replace("kind = \"客户类型\"", "kind = 5")
        .replace("line = \"条线\"", "line = 6");
    let mapping = Mapping::parse("m.toml", &positional).unwrap();
    let (report, got) = read(&mapping, &path, &mut KeySet::default());
    let report = report.unwrap();
    assert_eq!(report.rejected, 2);
    assert!(
        got.rejects.iter().all(|r| r.code == RejectCode::Encoding),
        "{:?}",
        got.rejects
    );
}

#[test]
fn a_utf8_file_with_a_byte_order_mark_reads_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(
        b"business_date,cif_no,fee_code,amount,currency\n2026-11-27,1,x,1.00,CNY\n",
    );
    let path = write(&dir, "fees_20261127.csv", &bytes);
    let report = read(&Mapping::kam_default(), &path, &mut KeySet::default())
        .0
        .unwrap();
    assert_eq!(report.loaded, 1);
}

#[test]
fn bad_id_numbers_are_rejected_and_masked_in_the_reject() {
    let dir = tempfile::tempdir().unwrap();
    let text = "cif_no,kind,name,line,org_code,industry,account_type,risk_tolerance,id_number,phone,since\n\
                1001,individual,张三,retail,110101,,ordinary,C3,110105194912310021,13800131234,2020-01-01\n\
                1002,individual,李四,retail,110101,,ordinary,C3,11010519491231002X,13800131234,2020-01-01\n";
    let path = write(&dir, "customers.csv", text.as_bytes());
    let (report, got) = read(&Mapping::kam_default(), &path, &mut KeySet::default());
    assert_eq!(report.unwrap().loaded, 1);
    let reject = &got.rejects[0];
    assert_eq!(reject.code, RejectCode::BadIdNumber);
    assert_eq!(reject.value, "110***********0021");
}

#[test]
fn a_mapping_can_make_a_failing_id_number_a_warning_that_keeps_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let text = "cif_no,kind,name,line,org_code,industry,account_type,risk_tolerance,id_number,phone,since\n\
                1001,individual,张三,retail,110101,,ordinary,C3,110105194912310021,13800131234,2020-01-01\n\
                1002,individual,李四,retail,110101,,ordinary,C3,11010519491231002X,13800131234,2020-01-01\n";
    let path = write(&dir, "customers.csv", text.as_bytes());
    let mapping = Mapping::parse(
        "m.toml",
        "version = 1\n[kinds.customers]\nfiles = \"customers*\"\nid_number_check = \"warn\"\n",
    )
    .unwrap();
    let (report, got) = read(&mapping, &path, &mut KeySet::default());
    let report = report.unwrap();
    assert_eq!((report.loaded, report.rejected, report.warned), (2, 0, 1));
    assert_eq!(got.rejects.len(), 1);
    let warning = &got.rejects[0];
    assert_eq!(warning.severity, kam_ingest::Severity::Warning);
    assert_eq!((warning.line, warning.code), (2, RejectCode::BadIdNumber));
    assert_eq!(warning.value, "110***********0021");
    // The row loaded without the number that failed its check.
    assert_eq!(got.rows[0].values[8], Value::Null);
    assert_eq!(
        got.rows[1].values[8],
        Value::Text("11010519491231002X".into())
    );
    let bad = Mapping::parse(
        "m.toml",
        "version = 1\n[kinds.customers]\nid_number_check = \"ignore\"\n",
    )
    .unwrap_err();
    assert!(bad.en.contains("accepted are reject, warn"), "{bad}");
}

#[test]
fn authentication_columns_in_a_file_are_dropped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let text = "account_no,cif_no,product_code,currency,org_code,opened_on,card_cvv,pin\nA1,1001,P,CNY,110101,2020-01-01,123,0000\n";
    let path = write(&dir, "accounts.csv", text.as_bytes());
    let report = read(&Mapping::kam_default(), &path, &mut KeySet::default())
        .0
        .unwrap();
    assert_eq!(report.loaded, 1);
    assert_eq!(report.warnings.len(), 2, "{:?}", report.warnings);
}

#[test]
fn signed_amounts_give_the_direction() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = Mapping::parse(
        "m.toml",
        "version = 1\n[kinds.transactions]\nfiles = \"t*.csv\"\nsigned_amount = true\namount_unit = \"fen\"\n",
    )
    .unwrap();
    let text = "business_date,txn_id,account_no,cif_no,amount\n2026-11-27,T1,A,C,-500\n2026-11-27,T2,A,C,700\n";
    let path = write(&dir, "t1.csv", text.as_bytes());
    let (report, got) = read(&mapping, &path, &mut KeySet::default());
    assert_eq!(report.unwrap().loaded, 2);
    assert_eq!(got.rows[0].values[4], Value::Text("debit".into()));
    assert_eq!(got.rows[0].values[5], Value::Amount(500));
    assert_eq!(got.rows[1].values[4], Value::Text("credit".into()));
}

#[test]
fn a_parquet_extract_is_checked_like_a_csv_one_with_row_numbers_as_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("transactions_20261127.parquet");
    let header: Vec<&str> = TXN_HEADER.trim_end().split(',').collect();
    let mut out = kam_facts::TextTableWriter::create(&path, &header).unwrap();
    let row = |id: &str, amount: &str| {
        let text = good_txn(id).replace("100.00", amount);
        text.trim_end()
            .split(',')
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    out.write(&row("T1", "100.00")).unwrap(); // line 2: the column names count as line 1
    out.write(&row("T2", "1.005")).unwrap(); // line 3: three decimals
    out.write(&row("T1", "5.00")).unwrap(); // line 4: duplicate key
    out.write(&row("T3", "0.50")).unwrap(); // line 5
    out.finish().unwrap();
    let (report, got) = read(&Mapping::kam_default(), &path, &mut KeySet::default());
    let report = report.unwrap();
    assert_eq!(
        (
            report.rows_read,
            report.loaded,
            report.rejected,
            report.duplicates
        ),
        (4, 2, 1, 1)
    );
    assert_eq!(report.amount_sums["amount"], 10_050);
    let found: Vec<(u64, RejectCode, &str)> = got
        .rejects
        .iter()
        .map(|r| (r.line, r.code, r.column.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (3, RejectCode::AmountPrecision, "amount"),
            (4, RejectCode::DuplicateKey, "")
        ]
    );

    // A file named .parquet that is not one is a file error that says so, not a crash.
    let broken = write(&dir, "fees_20261127.parquet", b"business_date,cif_no\n");
    let error = read(&Mapping::kam_default(), &broken, &mut KeySet::default())
        .0
        .unwrap_err();
    assert!(error.to_string().contains("Parquet"), "{error}");
}
