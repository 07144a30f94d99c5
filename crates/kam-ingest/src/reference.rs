//! Reference checks of fact rows: a balance, transaction, loan or fee naming a customer or an
//! account the master data does not define is rejected (`unknown_reference`, with file, line,
//! column and value) instead of loading without a word and counting for nobody.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use kam_store::{MasterKey, Store};

use crate::{
    ExtractKind, KindMapping, Reject, RejectCode, Severity, Value, mapping::Column,
    reject::shown_text,
};

type Fingerprints = HashSet<u128, BuildHasherDefault<crate::reader::Fingerprint>>;

/// The customer and account numbers of the master data, as 128-bit fingerprints (16 bytes per
/// key whatever its length; two different keys collide with probability about n² / 2¹²⁹).
#[derive(Debug, Default)]
pub struct References {
    customers: Fingerprints,
    accounts: Fingerprints,
}

fn fingerprint(key: &str) -> u128 {
    twox_hash::XxHash3_128::oneshot(key.as_bytes())
}

impl References {
    /// Reads the master keys `kind`'s rows refer to (nothing for master kinds).
    pub async fn load(store: &Store, kind: ExtractKind) -> Result<Self, kam_store::Error> {
        let mut references = Self::default();
        let checks = checks_of(kind);
        if checks.iter().any(|(_, of)| *of == MasterKey::Customer) {
            let set = &mut references.customers;
            store
                .each_master_key(MasterKey::Customer, |k| {
                    set.insert(fingerprint(k));
                })
                .await?;
        }
        if checks.iter().any(|(_, of)| *of == MasterKey::Account) {
            let set = &mut references.accounts;
            store
                .each_master_key(MasterKey::Account, |k| {
                    set.insert(fingerprint(k));
                })
                .await?;
        }
        Ok(references)
    }

    fn knows(&self, of: MasterKey, key: &str) -> bool {
        let set = match of {
            MasterKey::Customer => &self.customers,
            MasterKey::Account => &self.accounts,
        };
        set.contains(&fingerprint(key))
    }
}

/// The fields of a fact kind that name master records.
fn checks_of(kind: ExtractKind) -> &'static [(&'static str, MasterKey)] {
    match kind {
        ExtractKind::Balances | ExtractKind::Transactions => &[
            ("account_no", MasterKey::Account),
            ("cif_no", MasterKey::Customer),
        ],
        ExtractKind::Loans | ExtractKind::Fees => &[("cif_no", MasterKey::Customer)],
        _ => &[],
    }
}

/// The reference checks of one file: which values of a row to look up, and where they come from.
#[derive(Debug)]
pub(crate) struct ReferenceCheck {
    file: String,
    /// (position in the row, field, source column, what it names)
    fields: Vec<(usize, &'static str, String, MasterKey)>,
}

impl ReferenceCheck {
    pub(crate) fn new(file: &str, mapping: &KindMapping) -> Self {
        let specs = mapping.kind.fields();
        let fields = checks_of(mapping.kind)
            .iter()
            .filter_map(|(field, of)| {
                let position = specs.iter().position(|s| s.name == *field)?;
                let column = match mapping.columns.get(field) {
                    Some(Column::Named(name)) => name.clone(),
                    Some(Column::Position(p)) => format!("#{p}"),
                    None => (*field).to_owned(),
                };
                Some((position, *field, column, *of))
            })
            .collect();
        Self {
            file: file.to_owned(),
            fields,
        }
    }

    /// The reject for the first value of the row at `line` the master data does not define.
    pub(crate) fn check(
        &self,
        references: &References,
        values: &[Value],
        line: u64,
    ) -> Option<Reject> {
        self.fields.iter().find_map(|(position, field, column, of)| {
            let key = values.get(*position)?.as_text()?;
            (!references.knows(*of, key)).then(|| {
                let (zh, en) = match of {
                    MasterKey::Customer => (
                        "客户主数据中没有此客户号：请先导入定义它的客户文件",
                        "no customer with this number in the master data: import the customers file that defines it first",
                    ),
                    MasterKey::Account => (
                        "账户主数据中没有此账号：请先导入定义它的账户文件",
                        "no account with this number in the master data: import the accounts file that defines it first",
                    ),
                };
                Reject {
                    severity: Severity::Reject,
                    file: self.file.clone(),
                    line,
                    column: column.clone(),
                    field: (*field).to_owned(),
                    value: shown_text(key),
                    code: RejectCode::UnknownReference,
                    message_zh: zh.to_owned(),
                    message_en: en.to_owned(),
                }
            })
        })
    }
}
