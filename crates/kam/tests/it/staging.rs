//! SQL staging through the binary: the Czech bank's public tables imported through a mapping file
//! alone and reconciled against the raw files read here independently, on SQLite and PostgreSQL;
//! and the bad inputs of staging — a source row that is not a row, a query the engine refuses,
//! a staged row traced back to its source file and line.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use crate::cli::{kam, text};

/// The Czech tables, next to the project (`../shared/data/real/berka/asc`), or `KAM_REAL_DATA`.
/// Without them the test says SKIPPED loudly; `KAM_REQUIRE_REAL_DATA=1` (CI) makes that a failure.
fn czech_tables() -> Option<PathBuf> {
    let root = std::env::var_os("KAM_REAL_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/real"),
        PathBuf::from,
    );
    let dir = root.join("berka/asc");
    if dir.join("client.asc").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("KAM_REQUIRE_REAL_DATA")
            .ok()
            .is_none_or(|v| v != "1"),
        "KAM_REQUIRE_REAL_DATA=1 but the Czech tables are not at {}",
        dir.display()
    );
    eprintln!(
        "SKIPPED: the Czech tables are not at {} (set KAM_REAL_DATA)",
        dir.display()
    );
    None
}

/// A `;`-separated table with a header, quotes taken off: one map per row.
fn table(dir: &Path, name: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    let mut lines = text.lines();
    let unquote = |s: &str| s.trim().trim_matches('"').to_owned();
    let header: Vec<String> = lines.next().unwrap().split(';').map(unquote).collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(';').map(unquote))
                .collect()
        })
        .collect()
}

/// `930705` → (1993, 7, 5).
fn ymd(text: &str) -> (i64, i64, i64) {
    let n = |r: std::ops::Range<usize>| text[r].parse::<i64>().unwrap();
    (1900 + n(0..2), n(2..4), n(4..6))
}

/// Whole yuan or `8033.00` → fen.
fn fen(text: &str) -> i64 {
    let (whole, part) = text.split_once('.').unwrap_or((text, "0"));
    whole.parse::<i64>().unwrap() * 100 + format!("{part:0<2}")[..2].parse::<i64>().unwrap()
}

/// What the mapping's rules give for every loan, computed here from loan.asc and disp.asc:
/// loan number → (customer, class, outstanding fen).
fn expected_loans(dir: &Path) -> BTreeMap<String, (String, &'static str, i64)> {
    let owners: HashMap<String, String> = table(dir, "disp.asc")
        .into_iter()
        .filter(|d| d["type"] == "OWNER")
        .map(|d| (d["account_id"].clone(), d["client_id"].clone()))
        .collect();
    table(dir, "loan.asc")
        .into_iter()
        .map(|l| {
            let (year, month, _) = ymd(&l["date"]);
            // The business date is 1998-12-31.
            let months = (1998 - year) * 12 + 12 - month;
            let amount = fen(&l["amount"]);
            let payment = fen(&l["payments"]);
            let duration: i64 = l["duration"].parse().unwrap();
            let (class, outstanding) = match l["status"].as_str() {
                "A" => ("pass", 0),
                "B" => ("loss", payment),
                "C" => ("pass", (amount - payment * months.min(duration)).max(0)),
                "D" => (
                    "substandard",
                    (amount - payment * months.min(duration)).max(0),
                ),
                other => panic!("status {other}"),
            };
            (
                format!("L{}", l["loan_id"]),
                (format!("C{}", owners[&l["account_id"]]), class, outstanding),
            )
        })
        .collect()
}

/// Imports the Czech tables into a store (`--database URL`, or the data dir's SQLite) and checks
/// every customer, account, card and loan against the raw files.
fn import_and_reconcile(dir: &Path, database: Option<&str>) {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let data = data.to_str().unwrap();
    let facts = work.path().join("facts");
    let mut place = vec!["--data-dir", data, "--facts", facts.to_str().unwrap()];
    if let Some(url) = database {
        place.extend(["--database", url]);
    }
    let run = |args: &[&str]| kam(&[place.as_slice(), args].concat());
    let init = run(&[
        "init",
        "--head-office-code",
        "CZ",
        "--head-office-name",
        "Czech bank",
    ]);
    assert!(init.status.success(), "{}", text(&init));
    let mapping = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/berka.toml");
    let import = [
        "import",
        "--mapping",
        mapping.to_str().unwrap(),
        "--business-date",
        "1998-12-31",
        dir.to_str().unwrap(),
    ];
    let first = run(&import);
    let shown = text(&first);
    assert_eq!(first.status.code(), Some(0), "{shown}");
    for kind in [
        "org_units",
        "products",
        "customers",
        "accounts",
        "holdings",
        "loans",
    ] {
        assert!(
            shown
                .lines()
                .any(|l| l.starts_with(&format!("{kind}.sql_19981231.parquet"))
                    && l.contains("导入 imported")),
            "{kind}: {shown}"
        );
    }
    // The same night again: every staged result is recognised as already imported.
    let again = run(&import);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(
        text(&again).matches("已导入过 already").count(),
        7,
        "{}",
        text(&again)
    );

    let clients = table(dir, "client.asc");
    let disps = table(dir, "disp.asc");
    let owners: BTreeMap<String, String> = disps
        .iter()
        .filter(|d| d["type"] == "OWNER")
        .map(|d| {
            (
                format!("A{}", d["account_id"]),
                format!("C{}", d["client_id"]),
            )
        })
        .collect();
    let client_of_disp: HashMap<&str, &str> = disps
        .iter()
        .map(|d| (d["disp_id"].as_str(), d["client_id"].as_str()))
        .collect();
    let mut cards: HashMap<String, Vec<String>> = HashMap::new();
    for card in table(dir, "card.asc") {
        cards
            .entry(format!("C{}", client_of_disp[card["disp_id"].as_str()]))
            .or_default()
            .push(format!("CZ-CARD-{}", card["type"].to_uppercase()));
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = match database {
            Some(url) => kam_store::DatabaseUrl::parse(url).unwrap(),
            None => kam_store::DatabaseUrl::sqlite_file(Path::new(data).join("kam.db")),
        };
        let store = kam_store::Store::connect(&url).await.unwrap();
        let mut stored_owners = BTreeMap::new();
        store
            .each_account_owner(|account, cif| {
                stored_owners.insert(account.to_owned(), cif.to_owned());
            })
            .await
            .unwrap();
        assert_eq!(stored_owners.len(), 4500);
        assert_eq!(stored_owners, owners, "every account with its owner");
        let bank = store.whole_bank(
            "test",
            chrono::NaiveDate::from_ymd_opt(1998, 12, 31).unwrap(),
        );
        let product_code: HashMap<_, _> = store
            .list_products()
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.id, p.code))
            .collect();
        let mut women = 0;
        for client in &clients {
            let cif = format!("C{}", client["client_id"]);
            let customer = bank.customer_by_cif(&cif).await.unwrap();
            let number = &client["birth_number"];
            let (year, month, day) = ymd(number);
            let female = month > 50;
            women += usize::from(female);
            assert_eq!(
                customer.birth_date,
                chrono::NaiveDate::from_ymd_opt(year as i32, (month % 50) as u32, day as u32),
                "{cif}"
            );
            assert_eq!(
                customer.sex.map(|s| s.as_str()),
                Some(if female { "female" } else { "male" }),
                "{cif}"
            );
            let mut held: Vec<String> = bank
                .holdings(customer.id)
                .await
                .unwrap()
                .into_iter()
                .map(|h| product_code[&h.product_id].clone())
                .collect();
            let mut expected = cards.remove(&cif).unwrap_or_default();
            held.sort();
            expected.sort();
            assert_eq!(held, expected, "{cif}'s cards");
        }
        assert_eq!(clients.len(), 5369);
        // The first fifty authorised users (DISPONENT) see the owner's account on their 360,
        // and the owner sees them.
        let accounts_of: HashMap<&str, &str> = disps
            .iter()
            .filter(|d| d["type"] == "OWNER")
            .map(|d| (d["account_id"].as_str(), d["client_id"].as_str()))
            .collect();
        for disp in disps.iter().filter(|d| d["type"] == "DISPONENT").take(50) {
            let user = format!("C{}", disp["client_id"]);
            let owner = format!("C{}", accounts_of[disp["account_id"].as_str()]);
            let seen = bank.customer_view(&user).await.unwrap().account_parties;
            assert_eq!(seen.len(), 1, "{user}: {seen:?}");
            assert!(seen[0].as_party && seen[0].role.as_str() == "authorised");
            assert_eq!(
                seen[0].other.as_ref().map(|o| o.0.as_str()),
                Some(owner.as_str())
            );
            let of_owner = bank.customer_view(&owner).await.unwrap().account_parties;
            assert!(
                of_owner
                    .iter()
                    .any(|p| !p.as_party && p.other.as_ref().is_some_and(|o| o.0 == user)),
                "{owner}: {of_owner:?}"
            );
        }
        assert!(women > 2000 && women < 3500, "{women} women");
        assert!(cards.is_empty(), "cards of no customer: {cards:?}");
    });
    // The loans in the facts, each with its customer, class and outstanding amount.
    let loan_dir = facts.join("loan/date=1998-12-31");
    let mut stored = BTreeMap::new();
    for file in std::fs::read_dir(&loan_dir).unwrap() {
        let mut rows = kam_facts::TextRows::open(&file.unwrap().path(), "%Y-%m-%d").unwrap();
        let columns = rows.columns().to_vec();
        let at = |name: &str| columns.iter().position(|c| c == name).unwrap();
        let (no, cif, class, outstanding) = (
            at("loan_no"),
            at("cif_no"),
            at("loan_class"),
            at("outstanding_minor"),
        );
        while let Some(row) = rows.next_row().unwrap() {
            stored.insert(
                row[no].clone(),
                (
                    row[cif].clone(),
                    row[class].clone(),
                    row[outstanding].parse::<i64>().unwrap(),
                ),
            );
        }
    }
    let expected = expected_loans(dir);
    assert_eq!(stored.len(), 682);
    for (loan, (cif, class, outstanding)) in &expected {
        let (stored_cif, stored_class, stored_outstanding) = &stored[loan];
        assert_eq!(
            (stored_cif, stored_class.as_str(), *stored_outstanding),
            (cif, *class, *outstanding),
            "{loan}"
        );
    }
    let total: i64 = expected.values().map(|(_, _, o)| o).sum();
    assert!(total > 0, "some loans are outstanding");
}

#[test]
fn the_czech_banks_tables_import_through_a_mapping_alone_and_reconcile() {
    let Some(dir) = czech_tables() else { return };
    import_and_reconcile(&dir, None);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    match runtime.block_on(kam_store::testing::postgres_database_url()) {
        Some(url) => import_and_reconcile(&dir, Some(&url.to_string())),
        None => eprintln!("SKIPPED: the Czech import on PostgreSQL (no PostgreSQL binaries)"),
    }
}

/// A core system's three tables (not the Czech data): customers, accounts and who owns which.
fn write_core_tables(dir: &Path) {
    std::fs::write(
        dir.join("cust_20261127.csv"),
        "CUST_NO|CUST_NAME|BRANCH|OPEN_DT\n\
         900001|甲公司|BR1|20200105\n\
         900002|乙公司|BR1|2020-13-01\n\
         900003|丙公司|BR9|20200107\n\
         900004|丁公司|BR1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("acct_20261127.csv"),
        "ACCT_NO|CCY|OPEN_DT\n6200001|CNY|20200106\n6200003|CNY|20200108\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("rel_20261127.csv"),
        "ACCT_NO|CUST_NO|REL\n6200001|900001|O\n6200003|900003|O\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("order_20261127.csv"),
        "ORD_NO|ACCT_NO\n1|6200001|too wide\n",
    )
    .unwrap();
}

const CORE_MAPPING: &str = r#"version = 1
[defaults]
delimiter = "|"
date_format = "%Y%m%d"

[sources.cust]
files = "cust_*.csv"
dates = ["OPEN_DT"]

[sources.acct]
files = "acct_*.csv"
dates = ["OPEN_DT"]

[sources.rel]
files = "rel_*.csv"

# Named like an SQL word and read by no query: never staged (its broken row is no reject).
[sources.order]
files = "order_*.csv"

[kinds.customers]
sql = """
select c.CUST_NO as cif_no, 'corporate' as kind, c.CUST_NAME as name, 'corporate' as line,
       c.BRANCH as org_code, c.OPEN_DT as since, c._file, c._line
from cust c
order by c.CUST_NO
"""

[kinds.accounts]
sql = """
select a.ACCT_NO as account_no, r.CUST_NO as cif_no, 'DEP' as product_code,
       a.CCY as currency, 'BR1' as org_code, a.OPEN_DT as opened_on, a._file, a._line
from acct a join rel r on r.ACCT_NO = a.ACCT_NO and r.REL = 'O'
"""
"#;

#[test]
fn staging_rejects_name_the_source_file_and_line_and_a_bad_query_its_mapping_line() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let data = data.to_str().unwrap();
    assert!(kam(&["--data-dir", data, "init"]).status.success());
    // The branch BR1 and the product DEP the mapping's accounts name (no customers yet).
    crate::cli::define_parties(data, work.path(), 0);

    let night = work.path().join("night");
    std::fs::create_dir_all(&night).unwrap();
    write_core_tables(&night);
    let mapping = work.path().join("core.toml");
    std::fs::write(&mapping, CORE_MAPPING).unwrap();
    let rejects = work.path().join("rejects.csv");
    let run = kam(&[
        "--data-dir",
        data,
        "import",
        "--mapping",
        mapping.to_str().unwrap(),
        "--max-rejects",
        "10",
        "--rejects",
        rejects.to_str().unwrap(),
        night.to_str().unwrap(),
    ]);
    let shown = text(&run);
    // Rows were rejected within the limit: exit 3.
    assert_eq!(run.status.code(), Some(3), "{shown}");
    let rejects = std::fs::read_to_string(&rejects).unwrap();
    let cust = night.join("cust_20261127.csv").display().to_string();
    // The source's own rejects: a date that is not one (line 3), a short row (line 5).
    assert!(
        rejects.lines().any(|l| l.starts_with(&format!(
            "{cust},3,OPEN_DT,OPEN_DT,2020-13-01,reject,bad_date"
        ))),
        "{rejects}"
    );
    assert!(
        rejects
            .lines()
            .any(|l| l.starts_with(&format!("{cust},5,,,,reject,field_count"))),
        "{rejects}"
    );
    // A staged customer whose unit is unknown is rejected at its source line (4), and the
    // account of that customer at acct's line 3 for its unknown customer.
    assert!(
        rejects
            .lines()
            .any(|l| l.starts_with(&format!("{cust},4,")) && l.contains("unknown_reference")),
        "{rejects}"
    );
    let acct = night.join("acct_20261127.csv").display().to_string();
    assert!(
        rejects
            .lines()
            .any(|l| l.starts_with(&format!("{acct},3,")) && l.contains("unknown_reference")),
        "{rejects}"
    );
    assert!(shown.contains("源表 source cust"), "{shown}");
    // `order` is only a word of the customers' ORDER BY: its table is not read.
    assert!(!rejects.contains("order_20261127.csv"), "{rejects}");
    assert!(!shown.contains("source order"), "{shown}");

    // A query naming a column the file does not have: refused, naming the mapping's line.
    let broken = CORE_MAPPING.replace("c.CUST_NAME as name", "c.CUST_NAM as name");
    std::fs::write(&mapping, broken).unwrap();
    let check = kam(&[
        "import",
        "check",
        "--mapping",
        mapping.to_str().unwrap(),
        night.to_str().unwrap(),
    ]);
    let shown = text(&check);
    assert_eq!(check.status.code(), Some(4), "{shown}");
    let line = CORE_MAPPING
        .lines()
        .position(|l| l.starts_with("select c.CUST_NO"))
        .unwrap()
        + 1;
    assert!(
        shown.contains(&format!("at line {line} of the mapping")) && shown.contains("CUST_NAM"),
        "{shown}"
    );
}

/// The Czech tables delivered as a night's folder: `kam nightly` stages them with the folder's
/// date (their names carry none), imports, runs the batch for that day and archives the folder.
#[test]
fn the_czech_tables_as_a_night_take_the_folders_date() {
    let Some(dir) = czech_tables() else { return };
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let data = data.to_str().unwrap();
    let init = kam(&["--data-dir", data, "init", "--head-office-code", "CZ"]);
    assert!(init.status.success(), "{}", text(&init));
    let day = work.path().join("inbox/19981231");
    std::fs::create_dir_all(&day).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, day.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(day.join("READY.ok"), "").unwrap();
    let mapping = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/berka.toml");
    let night = kam(&[
        "--data-dir",
        data,
        "nightly",
        "--inbox",
        work.path().join("inbox").to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
    ]);
    let shown = text(&night);
    assert_eq!(night.status.code(), Some(0), "{shown}");
    assert!(shown.contains("loans.sql_19981231.parquet"), "{shown}");
    assert!(
        shown.contains("batch 1998-12-31: 5369 customers"),
        "{shown}"
    );
    assert!(work.path().join("inbox/archive/19981231").is_dir());
}
