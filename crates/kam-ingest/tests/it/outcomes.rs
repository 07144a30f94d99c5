//! What a refused file says: every layout problem of a mapping named once, in both languages,
//! without the file's path repeated inside the reason (the report names the file beside it).

use std::fs;

use kam_ingest::{KeySet, Mapping};

use crate::read;

#[test]
fn a_layout_refusal_names_every_missing_field_and_column_once() {
    let dir = tempfile::tempdir().unwrap();
    // A core system's loan table: no business date, no customer, no outstanding amount.
    let path = dir.path().join("loan_20261127.csv");
    fs::write(
        &path,
        "loan_id,account_id,date,amount,status\n5314,1787,930705,96396,B\n",
    )
    .unwrap();
    let mapping = Mapping::parse(
        "bank.toml",
        r#"
version = 1
[kinds.loans]
files = "loan_*.csv"
[kinds.loans.columns]
loan_no = "loan_id"
credit_limit = "limit"
"#,
    )
    .unwrap();
    let error = read(&mapping, &path, &mut KeySet::default()).0.unwrap_err();
    let (zh, en) = (error.zh(), error.en());
    for field in ["business_date", "cif_no", "outstanding"] {
        assert_eq!(en.matches(field).count(), 1, "{field} once: {en}");
        assert_eq!(zh.matches(field).count(), 1, "{field} once: {zh}");
    }
    assert!(
        en.contains("the header has no column \"limit\" (credit_limit)")
            && zh.contains("表头中没有列 \"limit\" (credit_limit)"),
        "{en} / {zh}"
    );
    assert!(
        en.contains(
            "the required fields business_date, cif_no, outstanding, overdue_principal, \
             overdue_days, loan_class have no column and no constant"
        ),
        "{en}"
    );
    assert!(
        zh.contains(
            "必填字段 business_date、cif_no、outstanding、overdue_principal、overdue_days、\
             loan_class 既无对应列也无常量"
        ),
        "{zh}"
    );
    assert!(en.contains("the file has: loan_id, account_id, date, amount, status"));
    // The reason does not carry the path: the report prints it once, beside the reason.
    let file = path.display().to_string();
    assert!(!zh.contains(&file) && !en.contains(&file));
    assert!(
        !zh.contains("the required") && !en.contains("必填"),
        "one language each"
    );
}
