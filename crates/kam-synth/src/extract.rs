//! Writes the synthetic bank as core-banking extract files (CSV, UTF-8, header row, amounts in
//! yuan with two decimals, dates YYYY-MM-DD; or the same columns as Parquet strings) — the
//! formats documented in docs/extracts.md, so `kam synth` + `kam import` is the same path a
//! bank's own files take.

use std::{
    fs::{self, File},
    io::{self, BufWriter},
    path::{Path, PathBuf},
};

use kam_core::{money::Money, reference::ReferenceData};

use crate::DayFacts;

/// The columns of a transactions extract.
const TRANSACTIONS_HEADER: &[&str] = &[
    "business_date",
    "txn_id",
    "account_no",
    "cif_no",
    "direction",
    "amount",
    "currency",
    "channel",
    "counterparty_name",
    "counterparty_bank",
    "reversal",
    "reverses_txn_id",
];

/// The file format of the extracts written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExtractFormat {
    #[default]
    Csv,
    /// The same columns, every one a string column (as a data warehouse unload gives them).
    Parquet,
}

impl ExtractFormat {
    fn extension(self) -> &'static str {
        match self {
            ExtractFormat::Csv => "csv",
            ExtractFormat::Parquet => "parquet",
        }
    }
}

/// One extract file being written, whatever its format.
enum TableFile {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Parquet(Box<kam_facts::TextTableWriter>),
}

impl TableFile {
    fn create(path: &Path, format: ExtractFormat, header: &[&str]) -> io::Result<Self> {
        match format {
            ExtractFormat::Csv => {
                let mut out = csv::Writer::from_writer(BufWriter::with_capacity(
                    1 << 20,
                    File::create(path)?,
                ));
                out.write_record(header).map_err(io::Error::other)?;
                Ok(TableFile::Csv(Box::new(out)))
            }
            ExtractFormat::Parquet => kam_facts::TextTableWriter::create(path, header)
                .map(|w| TableFile::Parquet(Box::new(w)))
                .map_err(io::Error::other),
        }
    }

    fn write<S: AsRef<str> + AsRef<[u8]>>(&mut self, cells: &[S]) -> io::Result<()> {
        match self {
            TableFile::Csv(out) => out.write_record(cells).map_err(io::Error::other),
            TableFile::Parquet(out) => out.write(cells).map_err(io::Error::other),
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            TableFile::Csv(mut out) => out.flush(),
            TableFile::Parquet(out) => out.finish().map(|_| ()).map_err(io::Error::other),
        }
    }
}

/// Fen to a yuan string, exactly: -1234567 → "-12345.67".
pub fn yuan(minor: i64) -> String {
    kam_core::money::decimal_text(i128::from(minor))
}

fn money(amount: &Money) -> String {
    yuan(amount.minor())
}

fn opt(value: Option<&str>) -> &str {
    value.unwrap_or("")
}

/// Writes `<dir>/reference/<kind>_YYYYMMDD.<csv|parquet>` for every reference kind, stamped with
/// the business date `as_of` as a bank's nightly master extract is; returns the files written.
pub fn write_reference(
    dir: &Path,
    data: &ReferenceData,
    as_of: chrono::NaiveDate,
    format: ExtractFormat,
) -> io::Result<Vec<PathBuf>> {
    let dir = dir.join("reference");
    fs::create_dir_all(&dir)?;
    let mut written = Vec::new();
    let mut file = |name: &str,
                    header: &[&str],
                    rows: &mut dyn Iterator<Item = Vec<String>>|
     -> io::Result<()> {
        let path = dir.join(format!(
            "{name}_{}.{}",
            as_of.format("%Y%m%d"),
            format.extension()
        ));
        let mut out = TableFile::create(&path, format, header)?;
        for row in rows {
            out.write(&row)?;
        }
        out.finish()?;
        written.push(path);
        Ok(())
    };
    file(
        "org_units",
        &["org_code", "name", "kind", "parent_code"],
        &mut data.org_units.iter().map(|u| {
            vec![
                u.code.clone(),
                u.name.clone(),
                u.kind.to_string(),
                u.parent_code.clone().unwrap_or_default(),
            ]
        }),
    )?;
    file(
        "users",
        &["username", "display_name", "role", "org_code", "line"],
        &mut data.users.iter().map(|u| {
            vec![
                u.username.to_string(),
                u.display_name.clone(),
                u.role.to_string(),
                u.org_unit_code.clone(),
                u.line.map(|l| l.to_string()).unwrap_or_default(),
            ]
        }),
    )?;
    file(
        "products",
        &[
            "product_code",
            "name",
            "line",
            "need_category",
            "risk_level",
        ],
        &mut data.products.iter().map(|p| {
            vec![
                p.code.clone(),
                p.name.clone(),
                p.line.to_string(),
                p.need_category.to_string(),
                p.risk_level.to_string(),
            ]
        }),
    )?;
    file(
        "customers",
        &[
            "cif_no",
            "kind",
            "name",
            "line",
            "org_code",
            "industry",
            "account_type",
            "risk_tolerance",
            "id_number",
            "phone",
            "since",
        ],
        &mut data.customers.iter().map(|c| {
            vec![
                c.cif_no.to_string(),
                c.kind.to_string(),
                c.name.clone(),
                c.line.to_string(),
                c.org_unit_code.clone(),
                c.industry.map(|i| i.to_string()).unwrap_or_default(),
                c.account_type.to_string(),
                c.risk_tolerance.map(|r| r.to_string()).unwrap_or_default(),
                opt(c.id_number.as_ref().map(|i| i.reveal())).to_owned(),
                opt(c.phone.as_ref().map(|p| p.reveal())).to_owned(),
                c.since.to_string(),
            ]
        }),
    )?;
    file(
        "groups",
        &[
            "group_code",
            "name",
            "lead_org_code",
            "co_org_codes",
            "lead_rm",
        ],
        &mut data.groups.iter().map(|g| {
            vec![
                g.code.clone(),
                g.name.clone(),
                g.lead_unit_code.clone(),
                g.co_unit_codes.join(";"),
                g.lead_rm_username.clone().unwrap_or_default(),
            ]
        }),
    )?;
    file(
        "group_members",
        &["group_code", "cif_no", "parent_cif_no"],
        &mut data.group_members.iter().map(|m| {
            vec![
                m.group_code.clone(),
                m.cif_no.clone(),
                m.parent_cif_no.clone().unwrap_or_default(),
            ]
        }),
    )?;
    file(
        "key_people",
        &[
            "cif_no",
            "name",
            "contact_role",
            "title",
            "closeness",
            "trust",
            "favour",
            "stage",
            "stage_since",
            "phone",
            "birthday",
            "owner",
            "notes",
        ],
        &mut data.key_people.iter().map(|k| {
            let p = &k.person;
            let d = &p.details;
            vec![
                k.cif_no.clone(),
                p.name.clone(),
                p.role.to_string(),
                p.title.clone().unwrap_or_default(),
                p.closeness.get().to_string(),
                p.trust.get().to_string(),
                p.favour.get().to_string(),
                p.stage.to_string(),
                k.stage_since.map(|d| d.to_string()).unwrap_or_default(),
                d.phone
                    .as_ref()
                    .map(|p| p.reveal().to_owned())
                    .unwrap_or_default(),
                d.birthday.map(|d| d.to_string()).unwrap_or_default(),
                d.owner.clone().unwrap_or_default(),
                d.notes.clone().unwrap_or_default(),
            ]
        }),
    )?;
    file(
        "rm_assignments",
        &[
            "cif_no",
            "username",
            "role",
            "effective_from",
            "effective_to",
        ],
        &mut data.assignments.iter().map(|a| {
            vec![
                a.cif_no.clone(),
                a.username.clone(),
                a.role.to_string(),
                a.effective_from.to_string(),
                a.effective_to.map(|d| d.to_string()).unwrap_or_default(),
            ]
        }),
    )?;
    file(
        "accounts",
        &[
            "account_no",
            "cif_no",
            "product_code",
            "currency",
            "org_code",
            "opened_on",
        ],
        &mut data.accounts.iter().map(|a| {
            vec![
                a.account_no.clone(),
                a.cif_no.clone(),
                a.product_code.clone(),
                a.currency.to_string(),
                a.org_unit_code.clone(),
                a.opened_on.to_string(),
            ]
        }),
    )?;
    file(
        "payroll_links",
        &[
            "employer_cif_no",
            "employee_cif_no",
            "monthly_amount",
            "currency",
            "since",
        ],
        &mut data.payroll_links.iter().map(|p| {
            vec![
                p.employer_cif_no.clone(),
                p.employee_cif_no.clone(),
                money(&p.monthly_amount),
                p.monthly_amount.currency().to_string(),
                p.since.to_string(),
            ]
        }),
    )?;
    file(
        "account_parties",
        &["account_no", "cif_no", "role", "since"],
        &mut data.account_parties.iter().map(|p| {
            vec![
                p.account_no.clone(),
                p.cif_no.clone(),
                p.role.as_str().to_owned(),
                p.since.map(|d| d.to_string()).unwrap_or_default(),
            ]
        }),
    )?;
    file(
        "corporate_profiles",
        &[
            "cif_no",
            "legal_representative",
            "registered_capital",
            "capital_currency",
            "established_on",
            "business_scope",
            "credit_code",
            "listing",
            "employees",
            "revenue_band",
            "our_share_percent",
            "main_banks",
        ],
        &mut data.profiles.iter().map(|r| {
            let p = &r.profile;
            let text = |v: Option<String>| v.unwrap_or_default();
            vec![
                r.cif_no.clone(),
                text(p.legal_representative.clone()),
                text(p.registered_capital.as_ref().map(money)),
                text(p.registered_capital.map(|m| m.currency().to_string())),
                text(p.established_on.map(|d| d.to_string())),
                text(p.business_scope.clone()),
                text(p.credit_code.as_ref().map(|c| c.as_str().to_owned())),
                text(p.listing.map(|l| l.as_str().to_owned())),
                text(p.employees.map(|n| n.to_string())),
                text(p.revenue_band.map(|b| b.as_str().to_owned())),
                text(p.our_share_percent.map(|n| n.to_string())),
                p.main_banks
                    .iter()
                    .map(|b| format!("{}:{}", b.name, b.share_percent))
                    .collect::<Vec<_>>()
                    .join(";"),
            ]
        }),
    )?;
    Ok(written)
}

/// Writes each day's facts as `<dir>/daily/<kind>_YYYYMMDD.<csv|parquet>` (one file per kind and
/// business date, as a core system's nightly export produces them).
#[derive(Debug)]
pub struct ExtractWriter {
    dir: PathBuf,
    format: ExtractFormat,
    pub bytes_written: u64,
}

impl ExtractWriter {
    pub fn new(dir: &Path, format: ExtractFormat) -> io::Result<Self> {
        let dir = dir.join("daily");
        fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            format,
            bytes_written: 0,
        })
    }

    pub fn write_day(&mut self, facts: &DayFacts) -> io::Result<()> {
        let stamp = facts.date.format("%Y%m%d").to_string();
        let date = facts.date.to_string();
        let format = self.format;
        let open = |kind: &str, header: &[&str]| -> io::Result<(PathBuf, TableFile)> {
            let path = self
                .dir
                .join(format!("{kind}_{stamp}.{}", format.extension()));
            let out = TableFile::create(&path, format, header)?;
            Ok((path, out))
        };
        let mut paths = Vec::with_capacity(4);
        let (path, mut out) = open(
            "balances",
            &[
                "business_date",
                "account_no",
                "cif_no",
                "currency",
                "balance",
            ],
        )?;
        for r in &facts.balances {
            out.write(&[
                date.as_str(),
                &r.account_no,
                &r.cif_no,
                &r.currency,
                &yuan(r.balance_minor),
            ])?;
        }
        out.finish()?;
        paths.push(path);
        let (path, mut out) = open("transactions", TRANSACTIONS_HEADER)?;
        for r in &facts.transactions {
            out.write(&[
                date.as_str(),
                &r.txn_id,
                &r.account_no,
                &r.cif_no,
                r.direction.as_str(),
                &yuan(r.amount_minor),
                &r.currency,
                &r.channel,
                &r.counterparty_name,
                &r.counterparty_bank,
                if r.reversal { "Y" } else { "N" },
                r.reverses_txn_id.as_deref().unwrap_or(""),
            ])?;
        }
        out.finish()?;
        paths.push(path);
        let (path, mut out) = open(
            "loans",
            &[
                "business_date",
                "loan_no",
                "cif_no",
                "currency",
                "outstanding",
                "overdue_principal",
                "overdue_days",
                "loan_class",
                "credit_limit",
            ],
        )?;
        for r in &facts.loans {
            out.write(&[
                date.as_str(),
                &r.loan_no,
                &r.cif_no,
                &r.currency,
                &yuan(r.outstanding_minor),
                &yuan(r.overdue_principal_minor),
                &r.overdue_days.to_string(),
                &r.loan_class,
                &yuan(r.credit_limit_minor),
            ])?;
        }
        out.finish()?;
        paths.push(path);
        let (path, mut out) = open(
            "fees",
            &["business_date", "cif_no", "fee_code", "amount", "currency"],
        )?;
        for r in &facts.fees {
            out.write(&[
                date.as_str(),
                &r.cif_no,
                &r.fee_code,
                &yuan(r.amount_minor),
                &r.currency,
            ])?;
        }
        out.finish()?;
        paths.push(path);
        for path in paths {
            self.bytes_written += fs::metadata(&path)?.len();
        }
        Ok(())
    }
}

/// Writes one transactions extract of exactly `rows` rows (all on `business_date`, ids unique),
/// drawn from the synthetic bank's transaction stream — the input of `kam bench import`.
/// Returns the bytes written.
pub fn write_transactions_extract(
    path: &Path,
    rows: u64,
    seed: u64,
    business_date: chrono::NaiveDate,
) -> io::Result<(u64, std::collections::BTreeSet<(String, String)>)> {
    // The (account, customer) pairs the rows name: the master data an import needs first.
    let mut parties = std::collections::BTreeSet::new();
    let scale = if rows > 10_000_000 {
        crate::Scale::Large
    } else {
        crate::Scale::Demo
    };
    let mut bank = crate::Bank::generate(crate::SynthConfig::new(scale, seed));
    let mut out = TableFile::create(path, ExtractFormat::Csv, TRANSACTIONS_HEADER)?;
    let date = business_date.to_string();
    let mut written = 0u64;
    'days: loop {
        let mut produced = false;
        for day in bank.facts() {
            for r in &day.transactions {
                produced = true;
                if written == rows {
                    break 'days;
                }
                written += 1;
                if !parties.contains(&(r.account_no.clone(), r.cif_no.clone())) {
                    parties.insert((r.account_no.clone(), r.cif_no.clone()));
                }
                let reverses = r
                    .reverses_txn_id
                    .as_ref()
                    .map(|_| format!("T{:012}", written - 1))
                    .unwrap_or_default();
                out.write(&[
                    date.as_str(),
                    &format!("T{written:012}"),
                    &r.account_no,
                    &r.cif_no,
                    r.direction.as_str(),
                    &yuan(r.amount_minor),
                    &r.currency,
                    &r.channel,
                    &r.counterparty_name,
                    &r.counterparty_bank,
                    if r.reversal { "Y" } else { "N" },
                    &reverses,
                ])?;
            }
        }
        if !produced || written == rows {
            break;
        }
        // More rows wanted than two years hold: run the same bank's stream again (its
        // customers and accounts, so the master data stays the same; the ids are new).
        bank = crate::Bank::generate(crate::SynthConfig::new(scale, seed));
    }
    out.finish()?;
    Ok((fs::metadata(path)?.len(), parties))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fen_print_as_exact_yuan() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-123_456), "-1234.56");
    }
}
