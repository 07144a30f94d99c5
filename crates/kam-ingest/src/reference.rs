//! Reference checks of fact rows: a balance, transaction, loan or fee naming a customer or an
//! account the master data does not define is rejected (`unknown_reference`), and a balance or
//! transaction whose account belongs to another customer (neither its customer nor a joint owner
//! among its account parties) is refused (`rule_violation`) — each
//! with file, line, column and value — instead of loading without a word and counting for nobody,
//! or for the wrong customer.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use kam_facts::{FactKind, FactWriter};
use kam_store::Store;

use crate::{
    ExtractKind, KindMapping, Reject, RejectCode, Severity, Value, mapping::Column,
    reader::Fingerprint, reject::shown_text,
};

type Keys = HashSet<u128, BuildHasherDefault<Fingerprint>>;
type Owners = HashMap<u128, u128, BuildHasherDefault<Fingerprint>>;

/// The master data's customer numbers, and each account's owner, as 128-bit fingerprints (16
/// bytes per key whatever its length; two different keys collide with probability about
/// n² / 2¹²⁹).
#[derive(Debug, Default)]
pub struct References {
    keys: Arc<MasterKeys>,
    /// The transaction ids committed by other batches of business dates near the file's
    /// (`TXN_ID_WINDOW_DAYS`), sorted: 16 bytes each, searched by halves.
    committed_txns: Vec<u128>,
}

/// The master keys, each set read when a kind first needs it.
#[derive(Debug, Default, Clone)]
struct MasterKeys {
    customers: Option<Arc<Keys>>,
    owners: Option<Arc<Owners>>,
    /// (account, customer) pairs of joint owners, beside each account's own customer.
    joint: Option<Arc<Keys>>,
}

/// The master keys kept between the fact files of one run (`ImportOptions::references`): read
/// for the first file that needs them, and again only when master data was committed since — a
/// bank's millions of customers and accounts are not read once per fact file. Shared by clones.
#[derive(Debug, Default, Clone)]
pub struct ReferenceCache(Arc<Mutex<Cached>>);

#[derive(Debug, Default)]
struct Cached {
    /// The master data's state the keys were read in (`master_generation`).
    generation: Option<u128>,
    keys: Arc<MasterKeys>,
    /// How many times keys were read from the store.
    reads: usize,
}

impl ReferenceCache {
    /// How many times master keys were read from the store for this cache.
    pub fn reads(&self) -> usize {
        self.lock().reads
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The state of the master data the checks read: a fingerprint of the committed batches of the
/// kinds that define customers, accounts and joint owners (a new or replacing batch changes it).
async fn master_generation(store: &Store) -> Result<u128, crate::import::ImportError> {
    let mut ids = Vec::new();
    for kind in [
        ExtractKind::Customers,
        ExtractKind::Accounts,
        ExtractKind::AccountParties,
    ] {
        let mut committed = store.committed_batch_ids(kind.as_str()).await?;
        committed.sort_unstable();
        ids.push(kind.as_str().to_owned());
        ids.extend(committed);
    }
    Ok(fingerprint(&ids.join("\u{1f}")))
}

/// How many days either side of a transaction file's business date its ids are compared with
/// the ids earlier batches committed: the same day's second file, and the day before or after
/// repeated in an overlapping extract. Further apart, the same id is taken to be a new
/// transaction (core systems reuse ids over years).
pub const TXN_ID_WINDOW_DAYS: u64 = 1;

fn pair(account: &str, cif: &str) -> u128 {
    fingerprint(&format!("{account}\u{1f}{cif}"))
}

fn fingerprint(key: &str) -> u128 {
    twox_hash::XxHash3_128::oneshot(key.as_bytes())
}

/// Which fields of a fact kind name master records: (account field, customer field).
fn fields_of(kind: ExtractKind) -> (Option<&'static str>, Option<&'static str>) {
    match kind {
        ExtractKind::Balances | ExtractKind::Transactions => (Some("account_no"), Some("cif_no")),
        ExtractKind::Loans | ExtractKind::Fees => (None, Some("cif_no")),
        _ => (None, None),
    }
}

impl References {
    /// Reads the master keys `kind`'s rows refer to (nothing for master kinds), and for
    /// transactions of `business_date` the ids committed by the batches of the nearby days other
    /// than `replaced` (the batch a corrected file replaces).
    pub async fn load(
        store: &Store,
        kind: ExtractKind,
        facts: &FactWriter,
        (business_date, replaced): (NaiveDate, Option<&str>),
        cache: &ReferenceCache,
    ) -> Result<Self, crate::import::ImportError> {
        let mut references = Self::default();
        if kind == ExtractKind::Transactions {
            references.committed_txns =
                committed_txn_ids(store, facts, business_date, replaced).await?;
        }
        let (account, customer) = fields_of(kind);
        if account.is_none() && customer.is_none() {
            return Ok(references);
        }
        let generation = master_generation(store).await?;
        // What the cache holds for the master data as it is now (nothing when it changed).
        let mut keys = {
            let cached = cache.lock();
            if cached.generation == Some(generation) {
                MasterKeys::clone(&cached.keys)
            } else {
                MasterKeys::default()
            }
        };
        let mut read = false;
        if customer.is_some() && keys.customers.is_none() {
            let mut set = Keys::default();
            store
                .each_customer_number(|cif| {
                    set.insert(fingerprint(cif));
                })
                .await?;
            keys.customers = Some(Arc::new(set));
            read = true;
        }
        if account.is_some() && keys.owners.is_none() {
            let mut owners = Owners::default();
            store
                .each_account_owner(|account, cif| {
                    owners.insert(fingerprint(account), fingerprint(cif));
                })
                .await?;
            let mut joint = Keys::default();
            store
                .each_joint_owner(|account, cif| {
                    joint.insert(pair(account, cif));
                })
                .await?;
            keys.owners = Some(Arc::new(owners));
            keys.joint = Some(Arc::new(joint));
            read = true;
        }
        references.keys = Arc::new(keys);
        if read {
            let mut cached = cache.lock();
            cached.generation = Some(generation);
            cached.keys = Arc::clone(&references.keys);
            cached.reads += 1;
        }
        Ok(references)
    }
}

/// The transaction ids of the committed batches (other than `replaced`) within
/// `TXN_ID_WINDOW_DAYS` of `business_date`, as sorted fingerprints.
async fn committed_txn_ids(
    store: &Store,
    facts: &FactWriter,
    business_date: NaiveDate,
    replaced: Option<&str>,
) -> Result<Vec<u128>, crate::import::ImportError> {
    let committed: HashSet<String> = store
        .committed_batch_ids(ExtractKind::Transactions.as_str())
        .await?
        .into_iter()
        .filter(|id| Some(id.as_str()) != replaced)
        .collect();
    let mut ids = Vec::new();
    let days = chrono::Days::new(TXN_ID_WINDOW_DAYS);
    let (first, last) = (business_date - days, business_date + days);
    for day in first.iter_days().take_while(|d| *d <= last) {
        let dir = kam_facts::partition_dir(facts.root(), FactKind::Transaction, day);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let batch = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if committed.contains(batch) {
                kam_facts::each_string_in(&path, "txn_id", |id| ids.push(fingerprint(id)))?;
            }
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Where a checked field is in the row and in the file.
#[derive(Debug)]
struct Place {
    position: usize,
    field: &'static str,
    column: String,
}

/// The reference checks of one file.
#[derive(Debug)]
pub(crate) struct ReferenceCheck {
    file: String,
    account: Option<Place>,
    customer: Option<Place>,
    /// A transaction's id, checked against the ids earlier batches committed.
    txn_id: Option<Place>,
}

impl ReferenceCheck {
    pub(crate) fn new(file: &str, mapping: &KindMapping) -> Self {
        let specs = mapping.kind.fields();
        let place = |field: Option<&'static str>| {
            let field = field?;
            Some(Place {
                position: specs.iter().position(|s| s.name == field)?,
                field,
                column: match mapping.columns.get(field) {
                    Some(Column::Named(name)) => name.clone(),
                    Some(Column::Position(p)) => format!("#{p}"),
                    None => field.to_owned(),
                },
            })
        };
        let (account, customer) = fields_of(mapping.kind);
        let txn_id = (mapping.kind == ExtractKind::Transactions).then_some("txn_id");
        Self {
            file: file.to_owned(),
            account: place(account),
            customer: place(customer),
            txn_id: place(txn_id),
        }
    }

    fn reject(
        &self,
        place: &Place,
        line: u64,
        value: &str,
        code: RejectCode,
        zh: String,
        en: String,
    ) -> Reject {
        Reject {
            severity: Severity::Reject,
            file: self.file.clone(),
            line,
            column: place.column.clone(),
            field: place.field.to_owned(),
            value: shown_text(value),
            code,
            message_zh: zh,
            message_en: en,
        }
    }

    /// The reject of the row at `line`, if it names what the master data does not define, or an
    /// account of another customer.
    pub(crate) fn check(
        &self,
        references: &References,
        values: &[Value],
        line: u64,
    ) -> Option<Reject> {
        if let Some((place, id)) = text_at(&self.txn_id, values)
            && references
                .committed_txns
                .binary_search(&fingerprint(id))
                .is_ok()
        {
            return Some(self.reject(
                place,
                line,
                id,
                RejectCode::DuplicateKey,
                "此交易流水号已由此前的批次导入（同一业务日或前后一日）：同一笔交易只导入一次".into(),
                "this transaction id was committed by an earlier batch (the same business date or the day before or after): a transaction is loaded once".into(),
            ));
        }
        let account = text_at(&self.account, values);
        let customer = text_at(&self.customer, values);
        let owner = match account {
            Some((place, number)) => match references
                .keys
                .owners
                .as_deref()
                .and_then(|owners| owners.get(&fingerprint(number)))
            {
                Some(owner) => Some(*owner),
                None => {
                    return Some(self.reject(
                        place,
                        line,
                        number,
                        RejectCode::UnknownReference,
                        "账户主数据中没有此账号：请先导入定义它的账户文件".into(),
                        "no account with this number in the master data: import the accounts file that defines it first".into(),
                    ));
                }
            },
            None => None,
        };
        let (place, cif) = customer?;
        let fingerprint_of_cif = fingerprint(cif);
        if !references
            .keys
            .customers
            .as_deref()
            .is_some_and(|customers| customers.contains(&fingerprint_of_cif))
        {
            return Some(self.reject(
                place,
                line,
                cif,
                RejectCode::UnknownReference,
                "客户主数据中没有此客户号：请先导入定义它的客户文件".into(),
                "no customer with this number in the master data: import the customers file that defines it first".into(),
            ));
        }
        match (owner, account) {
            (Some(owner), Some((_, number)))
                if owner != fingerprint_of_cif
                    && !references
                        .keys
                        .joint
                        .as_deref()
                        .is_some_and(|joint| joint.contains(&pair(number, cif))) =>
            {
                Some(self.reject(
                place,
                line,
                cif,
                RejectCode::Rule,
                format!("账户 {number} 在账户主数据中属于另一客户，不是此客户号"),
                format!("account {number} belongs to another customer in the master data, not to this one"),
                ))
            }
            _ => None,
        }
    }
}

/// The checked field's place and its text in the row, when the kind has the field.
fn text_at<'a>(place: &'a Option<Place>, values: &'a [Value]) -> Option<(&'a Place, &'a str)> {
    let place = place.as_ref()?;
    Some((place, values.get(place.position)?.as_text()?))
}
