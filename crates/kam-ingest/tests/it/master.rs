//! The master-data import end to end, on SQLite and on PostgreSQL: the synthetic bank's master
//! extracts merge to the same store a bulk load gives; references to records never defined and
//! rule violations are rejects with file, line and column; corrected files update by business
//! key; an over-limit file merges nothing; master batches are not reverted.

use std::{fs, path::Path};

use kam_core::{customer::CustomerKind, user::Role};
use kam_facts::FactWriter;
use kam_ingest::{
    Mapping, Reject, RejectCode,
    import::{FileOutcome, ImportError, ImportOptions, RejectLimit, import_order, revert},
};
use kam_store::{Actor, BatchState, CustomerFilter, Store};
use kam_synth::{Bank, ExtractFormat, Scale, SynthConfig, write_reference};

use crate::options;

async fn import(store: &Store, path: &Path, options: &ImportOptions) -> (FileOutcome, Vec<Reject>) {
    let facts = FactWriter::new(path.parent().unwrap().join("facts"));
    crate::import_collecting(store, &facts, path, options).await
}

/// The scope of an auditor (who reads everything): the store's own, or one made at `HO`.
async fn auditor_scope(store: &Store, on: chrono::NaiveDate) -> kam_store::UserStore {
    let existing = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == Role::Auditor);
    let auditor = match existing {
        Some(auditor) => auditor,
        None => {
            let new = kam_core::user::NewUser::parse("audit1", "审计员", Role::Auditor, "HO", None)
                .unwrap();
            store
                .create_user(&Actor::system("test"), &new, kam_store::NO_PASSWORD)
                .await
                .unwrap()
        }
    };
    store.for_user(&auditor, on).await.unwrap()
}

/// Everything a customer list shows, without the store's own ids.
async fn customer_listing(store: &Store, on: chrono::NaiveDate) -> Vec<String> {
    let scope = auditor_scope(store, on).await;
    let filter = CustomerFilter {
        limit: 1_000_000,
        ..CustomerFilter::default()
    };
    scope
        .find_customers(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|c| {
            format!(
                "{}|{}|{}|{}|{}|{}",
                c.cif_no, c.name, c.kind, c.line, c.org_unit_code, c.account_type
            )
        })
        .collect()
}

const ORG_UNITS: &str =
    "org_code,name,kind,parent_code\nBR1,北京分行,tier1_branch,HO\nHO,总行,head_office,\n";
const PRODUCTS: &str =
    "product_code,name,line,need_category,risk_level\nDEP,单位活期存款,corporate,settlement,R1\n";
const CUSTOMERS_HEADER: &str =
    "cif_no,kind,name,line,org_code,industry,account_type,risk_tolerance,id_number,phone,since\n";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

/// Org units (child listed before its parent: the merge waits for the parent), a product and two
/// corporate customers.
async fn small_bank(store: &Store, dir: &Path) {
    for (name, text) in [
        ("org_units_20261127.csv", ORG_UNITS.to_owned()),
        ("products_20261127.csv", PRODUCTS.to_owned()),
        (
            "customers_20261127.csv",
            format!(
                "{CUSTOMERS_HEADER}C001,corporate,甲公司,corporate,BR1,C,,,,,2020-01-01\nC002,corporate,乙公司,corporate,BR1,F,,,,,2021-06-30\n"
            ),
        ),
    ] {
        let path = write(dir, name, &text);
        let (outcome, rejects) = import(store, &path, &options(false, RejectLimit::Count(0))).await;
        assert!(rejects.is_empty(), "{name}: {rejects:?}");
        assert!(
            matches!(outcome, FileOutcome::Imported { ref report, .. } if report.loaded == 2 || report.loaded == 1),
            "{name}: {outcome:?}"
        );
    }
}

macro_rules! both {
    ($($name:ident),+) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let a = kam_store::testing::sqlite().await;
                let b = kam_store::testing::sqlite().await;
                super::$name(a.store.clone(), b.store.clone()).await;
            }
        )+ }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (Some(a), Some(b)) = (kam_store::testing::postgres().await, kam_store::testing::postgres().await) else {
                    eprintln!("SKIPPED on PostgreSQL: {}", stringify!($name));
                    return;
                };
                super::$name(a.store.clone(), b.store.clone()).await;
            }
        )+ }
    };
}

both!(
    the_synthetic_master_extracts_merge_to_what_a_bulk_load_gives,
    the_synthetic_master_extracts_in_parquet_merge_the_same,
    an_account_of_an_undefined_customer_is_a_reject_that_says_where,
    a_corrected_master_file_updates_by_business_key,
    an_over_limit_master_file_merges_nothing,
    master_batches_are_not_reverted,
    a_workbook_imports_with_exact_amounts_dates_and_sheet_row_numbers,
    a_corporate_archive_from_an_extract_keeps_what_the_rm_entered,
    key_people_details_come_with_the_first_file_and_stay_the_rms,
    the_org_tree_stays_one_tree
);

const PROFILES_HEADER: &str = "cif_no,legal_representative,registered_capital,capital_currency,established_on,business_scope,credit_code,listing,employees,revenue_band,our_share_percent,main_banks\n";

/// The archive of `cif` as an auditor reads it through the user handle.
async fn archive_of(store: &Store, cif: &str) -> Option<kam_store::StoredProfile> {
    let on = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let scope = auditor_scope(store, on).await;
    let filter = CustomerFilter {
        text: Some(cif.to_owned()),
        limit: 10,
        ..CustomerFilter::default()
    };
    let id = scope
        .find_customers(&filter)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.cif_no.as_str() == cif)
        .unwrap()
        .id;
    scope.corporate_profile(id).await.unwrap()
}

/// An extract's archive fields replace the stored ones; fields it leaves empty keep what the RM
/// entered; every bad row says where and why; a file that changes nothing writes no new version.
async fn a_corporate_archive_from_an_extract_keeps_what_the_rm_entered(store: Store, _: Store) {
    let dir = tempfile::tempdir().unwrap();
    small_bank(&store, dir.path()).await;
    let person = write(
        dir.path(),
        "customers_20261128.csv",
        &format!("{CUSTOMERS_HEADER}P001,individual,张三,retail,BR1,,,,,,2020-01-01\n"),
    );
    let (_, rejects) = import(&store, &person, &options(false, RejectLimit::Count(0))).await;
    assert!(rejects.is_empty(), "{rejects:?}");
    // What the RM entered on the page (the demo's loader writes through the same writer).
    let entered = kam_core::profile::CorporateProfile {
        legal_representative: Some("王建国".into()),
        our_share_percent: Some(40),
        main_banks: vec![kam_core::profile::MainBank {
            name: "工商银行".into(),
            share_percent: 30,
        }],
        ..Default::default()
    };
    store
        .load_profiles(
            &Actor::system("test"),
            &[kam_core::reference::ProfileRecord {
                cif_no: "C001".into(),
                profile: entered.clone(),
            }],
            chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
        )
        .await
        .unwrap();
    let code = kam_core::profile::CreditCode::complete("91110108MA01ABCDE").unwrap();
    let path = write(
        dir.path(),
        "corporate_profiles_20261128.csv",
        &format!(
            "{PROFILES_HEADER}C001,李明华,5000000.00,,2010-05-01,软件开发,{code},listed,320,100m_1b,,\n\
             C002,,,,,,,,,,,招商银行:60;兴业银行:50\n\
             C404,赵六,,,,,,,,,,\n\
             P001,张三,,,,,,,,,,\n\
             C002,,,,,,91110108MA01ABCDEX,,,,,\n",
            code = code.as_str()
        ),
    );
    let (outcome, rejects) = import(&store, &path, &options(false, RejectLimit::Count(9))).await;
    let mut shown: Vec<_> = rejects
        .iter()
        .map(|r| (r.line, r.field.as_str(), r.code))
        .collect();
    // The reader's rejects come as it reads, the store's refusals as it merges: by line.
    shown.sort();
    assert_eq!(
        shown,
        [
            (3, "main_banks", RejectCode::Rule),
            (4, "cif_no", RejectCode::UnknownReference),
            (5, "cif_no", RejectCode::Rule),
            (6, "cif_no", RejectCode::DuplicateKey),
        ],
        "{rejects:?}"
    );
    assert!(
        rejects
            .iter()
            .any(|r| r.field == "main_banks" && r.message_zh.contains("100%")),
        "{rejects:?}"
    );
    let FileOutcome::Imported {
        merged: Some(merged),
        ..
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!((merged.inserted, merged.updated), (0, 1));
    let stored = archive_of(&store, "C001").await.unwrap();
    assert_eq!(stored.version, 2);
    let p = &stored.profile;
    assert_eq!(p.legal_representative.as_deref(), Some("李明华"));
    assert_eq!(
        p.registered_capital,
        Some(kam_core::money::Money::cny(500_000_000))
    );
    assert_eq!(p.credit_code.as_ref(), Some(&code));
    assert_eq!(p.employees, Some(320));
    assert_eq!(
        (p.our_share_percent, &p.main_banks),
        (Some(40), &entered.main_banks)
    );
    assert_eq!(archive_of(&store, "C002").await, None);

    // The same archive again under another date changes nothing: no new version.
    let again = write(
        dir.path(),
        "corporate_profiles_20261129.csv",
        &fs::read_to_string(&path).unwrap().replace("C404", "C405"),
    );
    let (_, rejects) = import(&store, &again, &options(false, RejectLimit::Count(9))).await;
    assert_eq!(rejects.len(), 4);
    assert_eq!(archive_of(&store, "C001").await.unwrap().version, 2);
}

async fn the_synthetic_master_extracts_merge_to_what_a_bulk_load_gives(store: Store, peer: Store) {
    synthetic_master_merge(store, peer, ExtractFormat::Csv).await;
}

/// The same master data as Parquet string columns (a warehouse unload) merges to the same store.
async fn the_synthetic_master_extracts_in_parquet_merge_the_same(store: Store, peer: Store) {
    synthetic_master_merge(store, peer, ExtractFormat::Parquet).await;
}

async fn synthetic_master_merge(store: Store, peer: Store, format: ExtractFormat) {
    let dir = tempfile::tempdir().unwrap();
    let bank = Bank::generate(SynthConfig::new(Scale::Tiny, 11).with_days(3));
    let files = write_reference(dir.path(), &bank.reference, bank.config.end, format).unwrap();
    assert!(files.iter().all(|f| f.extension().unwrap()
        == match format {
            ExtractFormat::Csv => "csv",
            ExtractFormat::Parquet => "parquet",
        }));
    let mapping = Mapping::kam_default();
    // Shuffled on purpose: the import puts master kinds in dependency order itself.
    let mut shuffled = files.clone();
    shuffled.reverse();
    let ordered = import_order(&mapping, shuffled);
    let r = &bank.reference;
    let expected = [
        ("org_units", r.org_units.len()),
        ("users", r.users.len()),
        ("products", r.products.len()),
        ("customers", r.customers.len()),
        ("groups", r.groups.len()),
        ("group_members", r.group_members.len()),
        ("key_people", r.key_people.len()),
        ("rm_assignments", r.assignments.len()),
        ("accounts", r.accounts.len()),
        ("payroll_links", r.payroll_links.len()),
        ("account_parties", r.account_parties.len()),
        ("corporate_profiles", r.profiles.len()),
    ];
    let mut imported_kinds = Vec::new();
    for path in &ordered {
        let (outcome, rejects) = import(&store, path, &options(false, RejectLimit::Count(0))).await;
        assert!(
            rejects.is_empty(),
            "{}: {:?}",
            path.display(),
            &rejects[..rejects.len().min(3)]
        );
        let FileOutcome::Imported {
            report,
            merged: Some(merged),
            ..
        } = outcome
        else {
            panic!("{}: {outcome:?}", path.display());
        };
        let kind = report.kind.as_str();
        let want = expected.iter().find(|(k, _)| *k == kind).unwrap().1 as u64;
        assert_eq!(
            (report.rows_read, report.loaded, report.rejected),
            (want, want, 0),
            "{kind}"
        );
        assert_eq!((merged.inserted, merged.updated), (want, 0), "{kind}");
        imported_kinds.push(kind.to_owned());
    }
    let order: Vec<&str> = expected.iter().map(|(k, _)| *k).collect();
    assert_eq!(imported_kinds, order, "dependency order");

    // The same store a bulk load of the same reference data gives, as a user sees it.
    let hashes = vec![kam_store::NO_PASSWORD.to_owned(); r.users.len()];
    peer.bulk_load(&Actor::system("test"), r, &hashes)
        .await
        .unwrap();
    peer.load_profiles(&Actor::system("test"), &r.profiles, bank.config.end)
        .await
        .unwrap();
    for record in r.profiles.iter().take(5) {
        let imported = archive_of(&store, &record.cif_no).await.unwrap();
        assert_eq!(imported.profile, record.profile, "{}", record.cif_no);
        assert_eq!(
            Some(imported.profile),
            archive_of(&peer, &record.cif_no).await.map(|p| p.profile)
        );
    }
    let end = bank.config.end;
    let merged_customers = customer_listing(&store, end).await;
    assert_eq!(merged_customers.len(), r.customers.len());
    assert_eq!(merged_customers, customer_listing(&peer, end).await);
    let units = |units: Vec<kam_core::org::OrgUnit>| {
        let mut v: Vec<String> = units
            .into_iter()
            .map(|u| format!("{} {} {}", u.code, u.name, u.kind))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        units(store.list_org_units().await.unwrap()),
        units(peer.list_org_units().await.unwrap())
    );
    // An imported user cannot sign in until an administrator sets a password.
    let user = store.list_users().await.unwrap().remove(0);
    let hash = store.password_hash(user.id).await.unwrap();
    assert!(!kam_core::password::verify_password("", &hash));
    assert!(!kam_core::password::verify_password(
        kam_synth::DEMO_PASSWORD,
        &hash
    ));

    // Every file again: reported no-ops, nothing doubled.
    for path in &ordered {
        let (outcome, _) = import(&store, path, &options(false, RejectLimit::Count(0))).await;
        assert!(
            matches!(outcome, FileOutcome::AlreadyImported { .. }),
            "{outcome:?}"
        );
    }
    assert_eq!(customer_listing(&store, end).await, merged_customers);
}

async fn an_account_of_an_undefined_customer_is_a_reject_that_says_where(store: Store, _: Store) {
    let dir = tempfile::tempdir().unwrap();
    small_bank(&store, dir.path()).await;
    let path = write(
        dir.path(),
        "accounts_20261127.csv",
        "account_no,cif_no,product_code,currency,org_code,opened_on\nA1,C001,DEP,CNY,BR1,2020-01-02\nA2,C404,DEP,CNY,BR1,2020-01-02\nA3,C002,NOPE,CNY,BR1,2020-01-02\n",
    );
    let (outcome, rejects) = import(&store, &path, &options(false, RejectLimit::Count(5))).await;
    let FileOutcome::Imported {
        report,
        merged: Some(merged),
        ..
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        (report.rows_read, report.loaded, report.rejected),
        (3, 1, 2)
    );
    assert_eq!(merged.inserted, 1);
    let shown: Vec<_> = rejects
        .iter()
        .map(|r| (r.line, r.column.as_str(), r.value.as_str(), r.code))
        .collect();
    assert_eq!(
        shown,
        [
            (3, "cif_no", "C404", RejectCode::UnknownReference),
            (4, "product_code", "NOPE", RejectCode::UnknownReference)
        ]
    );
    assert!(
        rejects[0].message_zh.contains("不存在此编号的客户"),
        "{:?}",
        rejects[0]
    );
    assert!(rejects[0].file.ends_with("accounts_20261127.csv"));
    let batch = store.import_batches().await.unwrap().pop().unwrap();
    assert_eq!(
        (batch.kind.as_str(), batch.loaded, batch.rejected),
        ("accounts", 1, 2)
    );
    // The same rejects stay with the batch, committed with it, for the administrator's download.
    let stored: Vec<_> = store
        .import_rejects(&batch.batch_id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.line, r.column, r.value, r.reason_code))
        .collect();
    let want: Vec<_> = rejects
        .iter()
        .map(|r| {
            (
                r.line as i64,
                r.column.clone(),
                r.value.clone(),
                r.code.as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(stored, want);
}

async fn a_corrected_master_file_updates_by_business_key(store: Store, _: Store) {
    let dir = tempfile::tempdir().unwrap();
    small_bank(&store, dir.path()).await;
    fs::write(
        dir.path().join("org_units_20261127.csv"),
        "org_code,name,kind,parent_code\nHO,总行,head_office,\nBR1,北京分行,tier1_branch,HO\nAU,审计部,tier1_branch,HO\n",
    )
    .unwrap();
    let (outcome, _) = import(
        &store,
        &dir.path().join("org_units_20261127.csv"),
        &options(true, RejectLimit::Count(0)),
    )
    .await;
    assert!(
        // HO and BR1 are exactly as stored: neither inserted nor updated (they were counted as
        // updated before the merge compared what it writes).
        matches!(outcome, FileOutcome::Imported { merged: Some(m), .. } if (m.inserted, m.updated) == (1, 0)),
        "{outcome:?}"
    );

    let corrected = format!(
        "{CUSTOMERS_HEADER}C001,corporate,甲集团有限公司,corporate,BR1,C,important,,,,2020-01-01\nC002,corporate,乙公司,corporate,BR1,F,,,,,2021-06-30\nC003,individual,张三,retail,BR1,,,C3,11010519491231002X,13812345678,2022-03-01\n"
    );
    let path = write(dir.path(), "customers_20261127.csv", &corrected);
    let (refused, _) = import(&store, &path, &options(false, RejectLimit::Count(0))).await;
    assert!(
        matches!(refused, FileOutcome::Refused { ref en, .. } if en.contains("add --replace")),
        "{refused:?}"
    );
    let (outcome, rejects) = import(&store, &path, &options(true, RejectLimit::Count(0))).await;
    assert!(rejects.is_empty(), "{rejects:?}");
    let FileOutcome::Imported {
        merged: Some(merged),
        replaced: Some(old),
        ..
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    // C003 is new, C001 changed; C002 is as stored and not counted.
    assert_eq!((merged.inserted, merged.updated), (1, 1));
    let end = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    assert_eq!(
        customer_listing(&store, end).await,
        [
            "C001|甲集团有限公司|corporate|corporate|BR1|important",
            "C002|乙公司|corporate|corporate|BR1|ordinary",
            "C003|张三|individual|retail|BR1|ordinary",
        ]
    );
    let scope = auditor_scope(&store, end).await;
    let c3 = scope.customer_by_cif("C003").await.unwrap();
    assert_eq!(c3.kind, CustomerKind::Individual);
    assert_eq!(c3.id_number.unwrap().reveal(), "11010519491231002X");
    let batches = store.import_batches().await.unwrap();
    let old = batches.iter().find(|b| b.batch_id == old).unwrap();
    assert_eq!(old.state, BatchState::Replaced);
}

async fn an_over_limit_master_file_merges_nothing(store: Store, _: Store) {
    let dir = tempfile::tempdir().unwrap();
    small_bank(&store, dir.path()).await;
    let before = store.import_batches().await.unwrap().len();
    let path = write(
        dir.path(),
        "customers_20261128.csv",
        &format!(
            "{CUSTOMERS_HEADER}C010,corporate,丙公司,corporate,BR1,C,,,,,2020-01-01\nC011,corporate,丁公司,corporate,XX9,C,,,,,2020-01-01\nC012,individual,李四,corporate,BR1,,,,,,2020-01-01\n"
        ),
    );
    let (outcome, rejects) = import(&store, &path, &options(false, RejectLimit::Count(1))).await;
    let FileOutcome::Refused {
        report: Some(report),
        en,
        ..
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert!(en.contains("not committed"), "{en}");
    assert_eq!(
        (report.rows_read, report.loaded, report.rejected),
        (3, 1, 2)
    );
    let codes: Vec<_> = rejects.iter().map(|r| (r.line, r.code)).collect();
    assert_eq!(
        codes,
        [(4, RejectCode::Rule), (3, RejectCode::UnknownReference)]
    );
    // The good row was merged inside the transaction and rolled back with it.
    assert_eq!(store.import_batches().await.unwrap().len(), before);
    let scope = auditor_scope(
        &store,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
    )
    .await;
    assert!(scope.customer_by_cif("C010").await.is_err());
    assert_eq!(
        scope
            .count_customers(&CustomerFilter::default())
            .await
            .unwrap(),
        2
    );
}

async fn master_batches_are_not_reverted(store: Store, _: Store) {
    let dir = tempfile::tempdir().unwrap();
    small_bank(&store, dir.path()).await;
    let batch = store.import_batches().await.unwrap().pop().unwrap();
    let facts = FactWriter::new(dir.path().join("facts"));
    let error = revert(&store, &facts, &Actor::system("test"), &batch.batch_id)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ImportError::NotRevertible { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("--replace"));
    let after = store.import_batch(&batch.batch_id).await.unwrap();
    assert_eq!(after.state, BatchState::Committed);
}

async fn a_workbook_imports_with_exact_amounts_dates_and_sheet_row_numbers(store: Store, _: Store) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = tempfile::tempdir().unwrap();
    small_bank(&store, dir.path()).await;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (column, name) in [
        "employer_cif_no",
        "employee_cif_no",
        "monthly_amount",
        "currency",
        "since",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, column as u16, *name).unwrap();
    }
    // An amount typed as a number, a date typed as a date; the second row has three decimals.
    for (row, (from, to, amount)) in [("C001", "C002", 12075.5), ("C002", "C001", 1.005)]
        .into_iter()
        .enumerate()
    {
        let row = row as u32 + 1;
        sheet.write_string(row, 0, from).unwrap();
        sheet.write_string(row, 1, to).unwrap();
        sheet.write_number(row, 2, amount).unwrap();
        sheet.write_string(row, 3, "CNY").unwrap();
        sheet
            .write_datetime_with_format(row, 4, ExcelDateTime::from_ymd(2026, 3, 3).unwrap(), &date)
            .unwrap();
    }
    let path = dir.path().join("payroll_links_20261127.xlsx");
    workbook.save(&path).unwrap();

    let (outcome, rejects) = import(&store, &path, &options(false, RejectLimit::Count(1))).await;
    let FileOutcome::Imported {
        report,
        merged: Some(merged),
        ..
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        (report.rows_read, report.loaded, report.rejected),
        (2, 1, 1)
    );
    assert_eq!(report.amount_sums["monthly_amount"], 1_207_550);
    assert_eq!(merged.inserted, 1);
    let shown: Vec<_> = rejects
        .iter()
        .map(|r| (r.line, r.column.as_str(), r.value.as_str(), r.code))
        .collect();
    assert_eq!(
        shown,
        [(3, "monthly_amount", "1.005", RejectCode::AmountPrecision)]
    );
}

const PEOPLE_HEADER: &str = "cif_no,name,contact_role,title,closeness,trust,favour,stage,stage_since,phone,birthday,owner,notes\n";

/// A key person's mobile, birthday, owner and notes come with the file that brings them first;
/// a later file updates ratings and stage but not what the RM keeps; a bad owner or birthday is
/// a reject that says where.
async fn key_people_details_come_with_the_first_file_and_stay_the_rms(store: Store, _: Store) {
    let dir = tempfile::tempdir().unwrap();
    small_bank(&store, dir.path()).await;
    let first = write(
        dir.path(),
        "key_people_20261128.csv",
        &format!(
            "{PEOPLE_HEADER}C001,何强,decision_maker,董事长,5,1,3,build,2026-03-02,13912345678,1971-05-20,,周三在厂区\n\
             C001,李四,cashier,出纳,3,3,3,build,,,1971-05-20,nobody,\n\
             C001,王五,accountant,会计,3,3,3,build,,,2999-01-01,,\n"
        ),
    );
    let (_, rejects) = import(&store, &first, &options(false, RejectLimit::Count(5))).await;
    let mut shown: Vec<_> = rejects
        .iter()
        .map(|r| (r.line, r.field.as_str(), r.code))
        .collect();
    shown.sort();
    assert_eq!(
        shown,
        [
            (3, "owner", RejectCode::UnknownReference),
            (4, "birthday", RejectCode::Rule)
        ],
        "{rejects:?}"
    );
    let second = write(
        dir.path(),
        "key_people_20261129.csv",
        &format!(
            "{PEOPLE_HEADER}C001,何强,decision_maker,董事长,4,2,3,deepen,2026-11-20,13800000000,,,\n"
        ),
    );
    let (_, rejects) = import(&store, &second, &options(false, RejectLimit::Count(0))).await;
    assert!(rejects.is_empty(), "{rejects:?}");
    let on = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let scope = auditor_scope(&store, on).await;
    let id = scope.customer_by_cif("C001").await.unwrap().id;
    let people = scope.key_people(id).await.unwrap();
    assert_eq!(people.len(), 1, "{people:?}");
    let he = &people[0];
    assert_eq!((he.closeness.get(), he.stage.as_str()), (4, "deepen"));
    assert_eq!(he.details.phone.as_ref().unwrap().reveal(), "13912345678");
    assert_eq!(he.details.notes.as_deref(), Some("周三在厂区"));
    // The stage changed: its day is the file's; the change is a save (a form opened before it
    // is refused).
    assert_eq!(
        he.stage_since,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
    );
    assert_eq!(he.version, 2);
    // The same stage again with no day given: the stored day stays.
    let third = write(
        dir.path(),
        "key_people_20261130.csv",
        &format!("{PEOPLE_HEADER}C001,何强,decision_maker,董事长,5,2,3,deepen,,,,,\n"),
    );
    let (_, rejects) = import(&store, &third, &options(false, RejectLimit::Count(0))).await;
    assert!(rejects.is_empty(), "{rejects:?}");
    let he = scope.key_people(id).await.unwrap().remove(0);
    assert_eq!(he.closeness.get(), 5);
    assert_eq!(
        he.stage_since,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
    );
    assert_eq!(he.version, 3);
    // A file that brings someone else and him as he is changes nothing of him: no new version.
    let again = write(
        dir.path(),
        "key_people_20261201.csv",
        &format!(
            "{PEOPLE_HEADER}C001,何强,decision_maker,董事长,5,2,3,deepen,,,,,\n\
             C001,赵六,cashier,出纳,3,3,3,build,,,,,\n"
        ),
    );
    let (_, rejects) = import(&store, &again, &options(false, RejectLimit::Count(0))).await;
    assert!(rejects.is_empty(), "{rejects:?}");
    let people = scope.key_people(id).await.unwrap();
    assert_eq!(people.len(), 2);
    assert_eq!(people.iter().find(|p| p.name == "何强").unwrap().version, 3);
}

/// An extract cannot add a second head office (two roots would split every subtree reach), nor
/// move a unit under another parent; a unit under the refused head office waits for a parent
/// that never comes. Each is a reject naming its line, field and value.
async fn the_org_tree_stays_one_tree(store: Store, _: Store) {
    let dir = tempfile::tempdir().unwrap();
    small_bank(&store, dir.path()).await;
    let path = write(
        dir.path(),
        "org_units_20261128.csv",
        "org_code,name,kind,parent_code\nHQ2,另一总行,head_office,\nSH1,上海分行,tier1_branch,HQ2\nBR1,北京分行,tier1_branch,HQ2\nBR9,天津分行,tier1_branch,HO\n",
    );
    let (outcome, rejects) = import(&store, &path, &options(false, RejectLimit::Count(5))).await;
    assert!(
        matches!(outcome, FileOutcome::Imported { .. }),
        "{outcome:?}"
    );
    let shown: Vec<_> = rejects
        .iter()
        .map(|r| (r.line, r.field.as_str(), r.value.as_str(), r.code))
        .collect();
    assert_eq!(
        shown,
        [
            (2, "kind", "head_office", RejectCode::Rule),
            (3, "parent_code", "HQ2", RejectCode::UnknownReference),
            (4, "parent_code", "HQ2", RejectCode::Rule),
        ],
        "{rejects:?}"
    );
    assert!(
        rejects[0]
            .message_en
            .contains("already has its head office, HO")
            && rejects[0].message_zh.contains("不能再有第二个总行"),
        "{:?}",
        rejects[0]
    );
    let units = store.list_org_units().await.unwrap();
    let roots: Vec<_> = units.iter().filter(|u| u.parent_id.is_none()).collect();
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].code, "HO");
    // The good row of the file merged under the one root.
    let tianjin = units.iter().find(|u| u.code == "BR9").expect("BR9 merged");
    assert_eq!(tianjin.parent_id, Some(roots[0].id));
}
