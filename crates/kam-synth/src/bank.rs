//! The reference part of the synthetic bank: org tree, staff, products, customers, groups, key
//! people, assignments, accounts and payroll links — plus the per-account state the fact stream
//! evolves day by day.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use kam_core::{
    assignment::AssignmentRole,
    contact::{ContactRole, NewKeyPerson, RelationshipStage},
    customer::{
        AccountType, CifNo, CustomerKind, IdNumber, Industry, NewCustomer, Phone, RiskTolerance,
    },
    group::NewGroup,
    money::{Currency, Money},
    org::{Line, NewOrgUnit, OrgKind},
    product::{AccountRole, NeedCategory, NewProduct, ProductRisk},
    reference::{
        AccountPartyRecord, AccountRecord, AssignmentRecord, HoldingRecord, KeyPersonRecord,
        MemberRecord, PayrollRecord, ReferenceData,
    },
    user::{NewUser, Role},
};
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

use crate::{SynthConfig, names};

/// The password every demo user gets; printed by `kam demo`. Never used outside the demo bank.
pub const DEMO_PASSWORD: &str = "Kam-demo-2026";

/// What happens to a customer's money over the two years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Story {
    Stable,
    /// Deposits grow steadily.
    Growing,
    /// From `story_day` on, money moves to other banks until little is left.
    Draining,
    /// From `story_day` on, no transactions at all.
    Dormant,
}

#[derive(Debug, Clone)]
pub(crate) struct DepositState {
    pub account_no: String,
    pub cif_no: String,
    pub corporate: bool,
    /// Target balance in yuan the account reverts to (before the story bends it).
    pub target_yuan: f64,
    pub txn_rate: f64,
    pub balance_minor: i64,
    pub story: Story,
    pub story_day: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct LoanState {
    pub loan_no: String,
    pub cif_no: String,
    pub limit_minor: i64,
    pub outstanding_minor: i64,
    pub installment_minor: i64,
    pub overdue_days: i32,
    pub overdue_principal_minor: i64,
    /// The day the borrower stops paying, if ever.
    pub default_day: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct PayrollState {
    pub employer_account: usize,
    pub employee_accounts: Vec<(usize, i64)>,
}

/// A generated bank: its reference data and the state its facts start from.
#[derive(Debug, Clone)]
pub struct Bank {
    pub config: SynthConfig,
    pub reference: ReferenceData,
    pub(crate) deposits: Vec<DepositState>,
    pub(crate) loans: Vec<LoanState>,
    pub(crate) payroll: Vec<PayrollState>,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) counterparties: Vec<String>,
}

fn person_name(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}{}",
        names::SURNAMES.choose(rng).expect("non-empty"),
        names::GIVEN.choose(rng).expect("non-empty")
    )
}

fn pick_weighted<'a>(rng: &mut ChaCha8Rng, items: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (item, weight) in items {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    items[0].0
}

/// Account parties, by a fixed rule rather than the generator's random stream (so adding them
/// changed no other figure of the synthetic bank): one individual in seventeen has authorised
/// the next individual of the same unit on their first account, from the later of the day the
/// account opened and the day the other became a customer.
fn account_parties(data: &ReferenceData) -> Vec<AccountPartyRecord> {
    let mut first_account: HashMap<&str, &AccountRecord> = HashMap::new();
    for account in &data.accounts {
        first_account
            .entry(account.cif_no.as_str())
            .or_insert(account);
    }
    let people: Vec<&NewCustomer> = data
        .customers
        .iter()
        .filter(|c| c.kind == CustomerKind::Individual)
        .collect();
    people
        .windows(2)
        .enumerate()
        .filter(|(index, pair)| index % 17 == 5 && pair[0].org_unit_code == pair[1].org_unit_code)
        .filter_map(|(_, pair)| {
            let account = first_account.get(pair[0].cif_no.as_str())?;
            Some(AccountPartyRecord {
                account_no: account.account_no.clone(),
                cif_no: pair[1].cif_no.to_string(),
                role: AccountRole::Authorised,
                since: Some(account.opened_on.max(pair[1].since)),
            })
        })
        .collect()
}

fn random_date(rng: &mut ChaCha8Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(1);
    from + chrono::Days::new(rng.random_range(0..span) as u64)
}

/// A resident ID number of someone born in 1950 or later and at least 18 at `adult_on` (the
/// day their relationship with the bank began).
fn id_number(rng: &mut ChaCha8Rng, area: &str, adult_on: NaiveDate) -> IdNumber {
    let latest = adult_on
        .checked_sub_months(chrono::Months::new(18 * 12))
        .expect("a date");
    let birth = random_date(
        rng,
        NaiveDate::from_ymd_opt(1950, 1, 1).expect("date"),
        latest.min(NaiveDate::from_ymd_opt(2003, 12, 31).expect("date")),
    );
    let first17 = format!(
        "{area}{:04}{:02}{:02}{:03}",
        birth.year(),
        birth.month(),
        birth.day(),
        rng.random_range(0..1000)
    );
    let check = IdNumber::check_char(first17.as_bytes());
    IdNumber::parse(&format!("{first17}{check}")).expect("generated with a valid check digit")
}

fn phone(rng: &mut ChaCha8Rng) -> Phone {
    let prefix = names::MOBILE_PREFIXES.choose(rng).expect("non-empty");
    Phone::parse(&format!(
        "{prefix}{:08}",
        rng.random_range(0..100_000_000u32)
    ))
    .expect("11 digits")
}

struct Unit {
    code: String,
    kind: OrgKind,
    region: usize,
    city: &'static str,
    corporate_rms: Vec<String>,
    retail_rms: Vec<String>,
}

const PRODUCTS: &[(&str, &str, Line, NeedCategory, ProductRisk)] = &[
    (
        "DEP-CUR-C",
        "单位活期存款",
        Line::Corporate,
        NeedCategory::Settlement,
        ProductRisk::R1,
    ),
    (
        "DEP-TIME-C",
        "单位定期存款",
        Line::Corporate,
        NeedCategory::Investment,
        ProductRisk::R1,
    ),
    (
        "DEP-AGR-C",
        "协定存款",
        Line::Corporate,
        NeedCategory::CashManagement,
        ProductRisk::R1,
    ),
    (
        "LN-WC",
        "流动资金贷款",
        Line::Corporate,
        NeedCategory::Financing,
        ProductRisk::R2,
    ),
    (
        "LN-PRJ",
        "项目贷款",
        Line::Corporate,
        NeedCategory::Financing,
        ProductRisk::R3,
    ),
    (
        "BA-DRAFT",
        "银行承兑汇票",
        Line::Corporate,
        NeedCategory::Settlement,
        ProductRisk::R2,
    ),
    (
        "CASH-MGMT",
        "现金管理",
        Line::Corporate,
        NeedCategory::CashManagement,
        ProductRisk::R1,
    ),
    (
        "PAYROLL",
        "代发工资",
        Line::Corporate,
        NeedCategory::Settlement,
        ProductRisk::R1,
    ),
    (
        "FX-FWD",
        "远期结售汇",
        Line::International,
        NeedCategory::RiskHedging,
        ProductRisk::R3,
    ),
    (
        "DEP-CUR-P",
        "个人活期存款",
        Line::Retail,
        NeedCategory::Settlement,
        ProductRisk::R1,
    ),
    (
        "DEP-TIME-P",
        "个人定期存款",
        Line::Retail,
        NeedCategory::Wealth,
        ProductRisk::R1,
    ),
    (
        "WM-R2",
        "稳健理财",
        Line::Retail,
        NeedCategory::Wealth,
        ProductRisk::R2,
    ),
    (
        "FUND-R4",
        "偏股基金",
        Line::Retail,
        NeedCategory::Investment,
        ProductRisk::R4,
    ),
    (
        "INS-R1",
        "年金保险",
        Line::Retail,
        NeedCategory::RiskHedging,
        ProductRisk::R1,
    ),
    (
        "CARD",
        "信用卡",
        Line::Retail,
        NeedCategory::Financing,
        ProductRisk::R2,
    ),
    (
        "LN-MORT",
        "个人住房贷款",
        Line::Retail,
        NeedCategory::Financing,
        ProductRisk::R2,
    ),
];

impl Bank {
    /// Builds the reference data and the starting state of every account.
    pub fn generate(config: SynthConfig) -> Self {
        let spec = config.scale.spec();
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let start = config.start();
        let mut data = ReferenceData::default();
        let mut units: Vec<Unit> = Vec::new();

        // Org tree and staff.
        let user = |data: &mut ReferenceData,
                    rng: &mut ChaCha8Rng,
                    username: String,
                    role,
                    unit: &str,
                    line| {
            let display = person_name(rng);
            data.users.push(
                NewUser::parse(&username, &display, role, unit, line)
                    .expect("generated user is valid"),
            );
            username
        };
        data.org_units
            .push(NewOrgUnit::parse("100000", "总行", OrgKind::HeadOffice, None).expect("valid"));
        user(
            &mut data,
            &mut rng,
            "admin".into(),
            Role::Administrator,
            "100000",
            None,
        );
        user(
            &mut data,
            &mut rng,
            "auditor".into(),
            Role::Auditor,
            "100000",
            None,
        );
        user(
            &mut data,
            &mut rng,
            "ho.kam1".into(),
            Role::HeadOfficeKeyAccountManager,
            "100000",
            None,
        );
        user(
            &mut data,
            &mut rng,
            "ho.kam2".into(),
            Role::HeadOfficeKeyAccountManager,
            "100000",
            Some(Line::Corporate),
        );
        user(
            &mut data,
            &mut rng,
            "ho.risk".into(),
            Role::RiskOfficer,
            "100000",
            None,
        );
        for t1 in 0..spec.tier1_branches {
            let region = t1 % names::REGIONS.len();
            let (province, _, cities) = names::REGIONS[region];
            let t1_code = format!("{:02}0000", 11 + t1);
            data.org_units.push(
                NewOrgUnit::parse(
                    &t1_code,
                    &format!("{province}分行"),
                    OrgKind::Tier1Branch,
                    Some("100000"),
                )
                .expect("valid"),
            );
            user(
                &mut data,
                &mut rng,
                format!("bm.{t1_code}"),
                Role::BranchManager,
                &t1_code,
                None,
            );
            user(
                &mut data,
                &mut rng,
                format!("risk.{t1_code}"),
                Role::RiskOfficer,
                &t1_code,
                None,
            );
            let branch_rm = user(
                &mut data,
                &mut rng,
                format!("rm.{t1_code}.c1"),
                Role::RelationshipManager,
                &t1_code,
                Some(Line::Corporate),
            );
            units.push(Unit {
                code: t1_code.clone(),
                kind: OrgKind::Tier1Branch,
                region,
                city: province,
                corporate_rms: vec![branch_rm],
                retail_rms: vec![],
            });
            for t2 in 0..spec.tier2_per_tier1 {
                let city = cities[t2 % cities.len()];
                let t2_code = format!("{:02}{:02}00", 11 + t1, t2 + 1);
                data.org_units.push(
                    NewOrgUnit::parse(
                        &t2_code,
                        &format!("{city}分行"),
                        OrgKind::Tier2Branch,
                        Some(&t1_code),
                    )
                    .expect("valid"),
                );
                user(
                    &mut data,
                    &mut rng,
                    format!("bm.{t2_code}"),
                    Role::BranchManager,
                    &t2_code,
                    None,
                );
                for s in 0..spec.subs_per_tier2 {
                    let district =
                        names::DISTRICTS[(t2 * spec.subs_per_tier2 + s) % names::DISTRICTS.len()];
                    let code = format!("{:02}{:02}{:02}", 11 + t1, t2 + 1, s + 1);
                    data.org_units.push(
                        NewOrgUnit::parse(
                            &code,
                            &format!("{city}{district}支行"),
                            OrgKind::SubBranch,
                            Some(&t2_code),
                        )
                        .expect("valid"),
                    );
                    user(
                        &mut data,
                        &mut rng,
                        format!("pres.{code}"),
                        Role::SubBranchPresident,
                        &code,
                        None,
                    );
                    let corporate_rms = (1..=2)
                        .map(|n| {
                            user(
                                &mut data,
                                &mut rng,
                                format!("rm.{code}.c{n}"),
                                Role::RelationshipManager,
                                &code,
                                Some(Line::Corporate),
                            )
                        })
                        .collect();
                    let retail_rms = (1..=2)
                        .map(|n| {
                            user(
                                &mut data,
                                &mut rng,
                                format!("rm.{code}.r{n}"),
                                Role::RelationshipManager,
                                &code,
                                Some(Line::Retail),
                            )
                        })
                        .collect();
                    user(
                        &mut data,
                        &mut rng,
                        format!("teller.{code}"),
                        Role::Teller,
                        &code,
                        Some(Line::Retail),
                    );
                    units.push(Unit {
                        code,
                        kind: OrgKind::SubBranch,
                        region,
                        city,
                        corporate_rms,
                        retail_rms,
                    });
                }
            }
        }
        let subs: Vec<usize> = (0..units.len())
            .filter(|i| units[*i].kind == OrgKind::SubBranch)
            .collect();
        let branches: Vec<usize> = (0..units.len())
            .filter(|i| units[*i].kind == OrgKind::Tier1Branch)
            .collect();

        for (code, name, line, need, risk) in PRODUCTS {
            data.products
                .push(NewProduct::parse(code, name, *line, *need, *risk).expect("valid product"));
        }

        // Corporate customers: heavy-tailed target deposits (log-normal, σ = 1.7) so that the top
        // fifth holds most of the money, as in every real corporate book.
        let corporate_size = LogNormal::new((2_000_000.0f64).ln(), 1.7).expect("valid");
        let mut deposits = Vec::new();
        let mut loans = Vec::new();
        let mut corporate_units = Vec::with_capacity(spec.corporates);
        let mut account_seq = 0u64;
        for n in 0..spec.corporates {
            let target = corporate_size.sample(&mut rng).clamp(10_000.0, 5.0e9);
            // The biggest customers tend to be booked at the tier-1 branch itself.
            let unit_index = if target > 5.0e7 && rng.random_bool(0.5) {
                *branches.choose(&mut rng).expect("branches")
            } else {
                *subs.choose(&mut rng).expect("subs")
            };
            let unit = &units[unit_index];
            let industry = pick_weighted(&mut rng, names::INDUSTRIES);
            let legal = if target > 1.0e8 {
                "股份有限公司"
            } else {
                "有限公司"
            };
            let name = format!(
                "{}{}{}{legal}",
                unit.city,
                names::BRANDS.choose(&mut rng).expect("brands"),
                names::industry_word(industry)
            );
            let cif = format!("20{:010}", n + 1);
            let since = random_date(
                &mut rng,
                NaiveDate::from_ymd_opt(2005, 1, 1).expect("date"),
                start,
            );
            data.customers.push(NewCustomer {
                cif_no: CifNo::parse(&cif).expect("valid"),
                kind: CustomerKind::Corporate,
                name,
                line: Line::Corporate,
                org_unit_code: unit.code.clone(),
                industry: Some(Industry::parse(industry).expect("valid section")),
                account_type: AccountType::Ordinary,
                risk_tolerance: None,
                id_number: None,
                phone: None,
                since,
                birth_date: None,
                sex: None,
            });
            corporate_units.push(unit_index);
            let lead = unit
                .corporate_rms
                .choose(&mut rng)
                .expect("every unit has a corporate RM")
                .clone();
            data.assignments.push(AssignmentRecord {
                cif_no: cif.clone(),
                username: lead.clone(),
                role: AssignmentRole::Lead,
                effective_from: since.max(start - chrono::Days::new(400)),
                effective_to: None,
            });
            if let Some(member) = unit.corporate_rms.iter().find(|rm| **rm != lead)
                && rng.random_bool(0.2)
            {
                data.assignments.push(AssignmentRecord {
                    cif_no: cif.clone(),
                    username: member.clone(),
                    role: AssignmentRole::Member,
                    effective_from: start,
                    effective_to: None,
                });
            }
            for (role, chance) in [
                (ContactRole::DecisionMaker, 0.9),
                (ContactRole::FinanceHead, 0.8),
                (ContactRole::Accountant, 0.6),
                (ContactRole::Cashier, 0.5),
            ] {
                if rng.random_bool(chance) {
                    let ratings = [
                        rng.random_range(1..=5),
                        rng.random_range(1..=5),
                        rng.random_range(1..=5),
                    ];
                    let stage = *RelationshipStage::ALL.choose(&mut rng).expect("stages");
                    let title = match role {
                        ContactRole::DecisionMaker => "董事长",
                        ContactRole::FinanceHead => "财务总监",
                        ContactRole::Accountant => "会计",
                        _ => "出纳",
                    };
                    data.key_people.push(KeyPersonRecord {
                        cif_no: cif.clone(),
                        person: NewKeyPerson::parse(
                            &person_name(&mut rng),
                            role,
                            Some(title),
                            ratings,
                            stage,
                        )
                        .expect("valid"),
                        stage_since: None,
                    });
                }
            }
            account_seq += 1;
            let account_no = format!("{}{:012}", &unit.code[..4], account_seq);
            data.accounts.push(AccountRecord {
                account_no: account_no.clone(),
                cif_no: cif.clone(),
                product_code: "DEP-CUR-C".into(),
                currency: Currency::CNY,
                org_unit_code: unit.code.clone(),
                opened_on: since,
            });
            let story = story(&mut rng, false);
            deposits.push(DepositState {
                account_no,
                cif_no: cif.clone(),
                corporate: true,
                target_yuan: target,
                txn_rate: (0.3 + target.log10() - 4.0).clamp(0.3, 6.0),
                balance_minor: (target * 100.0) as i64,
                story,
                story_day: rng.random_range(config.days / 2..config.days.max(2)),
            });
            if rng.random_bool(0.35) {
                let limit = ((target * rng.random_range(0.5..3.0)) as i64 / 10_000 * 10_000)
                    .max(100_000)
                    * 100;
                let outstanding = (limit as f64 * rng.random_range(0.3..0.9)) as i64;
                let loan_no = format!("LN{:012}", loans.len() + 1);
                data.accounts.push(AccountRecord {
                    account_no: loan_no.clone(),
                    cif_no: cif.clone(),
                    product_code: "LN-WC".into(),
                    currency: Currency::CNY,
                    org_unit_code: units[unit_index].code.clone(),
                    opened_on: since.max(start - chrono::Days::new(300)),
                });
                loans.push(LoanState {
                    loan_no,
                    cif_no: cif.clone(),
                    limit_minor: limit,
                    outstanding_minor: outstanding,
                    installment_minor: outstanding / 36,
                    overdue_days: 0,
                    overdue_principal_minor: 0,
                    default_day: rng
                        .random_bool(0.08)
                        .then(|| rng.random_range(config.days / 4..config.days.max(2))),
                });
            }
        }

        // Account types: strategic (top 1%), economic (next 10% by size), important (a few flagged).
        let mut by_size: Vec<usize> = (0..spec.corporates).collect();
        by_size.sort_by(|a, b| {
            deposits[*b]
                .target_yuan
                .total_cmp(&deposits[*a].target_yuan)
        });
        let strategic = (spec.corporates / 100).max(1);
        let economic = spec.corporates / 10;
        for (rank, index) in by_size.iter().enumerate() {
            let customer = &mut data.customers[*index];
            customer.account_type = if rank < strategic {
                AccountType::Strategic
            } else if rank < strategic + economic {
                AccountType::Economic
            } else if rng.random_bool(0.03) {
                AccountType::Important
            } else {
                AccountType::Ordinary
            };
        }

        // Groups: members drawn from anywhere in the bank, so most groups span branches.
        let mut in_group = vec![false; spec.corporates];
        for g in 0..spec.groups.min(spec.corporates / 3) {
            let size = (2 + (rng.random::<f64>().powi(3) * 14.0) as usize).min(15);
            let root = by_size[rng.random_range(0..(spec.corporates / 5).max(1))];
            if in_group[root] {
                continue;
            }
            let code = format!("G{:05}", g + 1);
            let root_cif = data.customers[root].cif_no.to_string();
            let group_name = format!(
                "{}{}集团",
                units[corporate_units[root]].city,
                names::BRANDS.choose(&mut rng).expect("brands")
            );
            let mut members = vec![root];
            in_group[root] = true;
            data.group_members.push(MemberRecord {
                group_code: code.clone(),
                cif_no: root_cif.clone(),
                parent_cif_no: None,
            });
            for _ in 1..size {
                let candidate = rng.random_range(0..spec.corporates);
                if in_group[candidate] {
                    continue;
                }
                in_group[candidate] = true;
                let parent = *members.choose(&mut rng).expect("root is a member");
                data.group_members.push(MemberRecord {
                    group_code: code.clone(),
                    cif_no: data.customers[candidate].cif_no.to_string(),
                    parent_cif_no: Some(data.customers[parent].cif_no.to_string()),
                });
                members.push(candidate);
            }
            let lead_unit = units[corporate_units[root]].code.clone();
            let mut co_units: Vec<&str> = members
                .iter()
                .map(|m| units[corporate_units[*m]].code.as_str())
                .filter(|c| *c != lead_unit)
                .collect();
            co_units.sort_unstable();
            co_units.dedup();
            let lead_rm = data
                .assignments
                .iter()
                .find(|a| a.cif_no == root_cif && a.role == AssignmentRole::Lead)
                .map(|a| a.username.clone());
            data.groups.push(
                NewGroup::parse(
                    &code,
                    &group_name,
                    &lead_unit,
                    &co_units,
                    lead_rm.as_deref(),
                )
                .expect("valid group"),
            );
            for member in &members {
                if data.customers[*member].account_type != AccountType::Strategic {
                    data.customers[*member].account_type = AccountType::Group;
                }
            }
        }

        // Individuals.
        let retail_size = LogNormal::new((60_000.0f64).ln(), 1.5).expect("valid");
        let tolerance = [("C1", 15), ("C2", 30), ("C3", 35), ("C4", 15), ("C5", 5)];
        for n in 0..spec.individuals {
            let unit = &units[*subs.choose(&mut rng).expect("subs")];
            let cif = format!("10{:010}", n + 1);
            let since = random_date(
                &mut rng,
                NaiveDate::from_ymd_opt(2000, 1, 1).expect("date"),
                start,
            );
            let target = retail_size.sample(&mut rng).clamp(100.0, 3.0e8);
            data.customers.push(NewCustomer {
                cif_no: CifNo::parse(&cif).expect("valid"),
                kind: CustomerKind::Individual,
                name: person_name(&mut rng),
                line: Line::Retail,
                org_unit_code: unit.code.clone(),
                industry: None,
                account_type: if target > 5.0e6 {
                    AccountType::Important
                } else {
                    AccountType::Ordinary
                },
                risk_tolerance: Some(
                    RiskTolerance::parse(pick_weighted(&mut rng, &tolerance)).expect("valid"),
                ),
                id_number: Some(id_number(&mut rng, names::REGIONS[unit.region].1, since)),
                phone: Some(phone(&mut rng)),
                since,
                birth_date: None,
                sex: None,
            });
            // Birth date and sex as the ID number carries them.
            if let Some(person) = data.customers.last_mut()
                && let Some(id) = &person.id_number
            {
                person.birth_date = id.birth_date();
                person.sex = Some(id.sex());
            }
            if rng.random_bool(0.6) {
                let rm = unit
                    .retail_rms
                    .choose(&mut rng)
                    .expect("every sub-branch has retail RMs");
                data.assignments.push(AssignmentRecord {
                    cif_no: cif.clone(),
                    username: rm.clone(),
                    role: AssignmentRole::Lead,
                    effective_from: since.max(start - chrono::Days::new(400)),
                    effective_to: None,
                });
            }
            account_seq += 1;
            let account_no = format!("6222{:015}", account_seq);
            data.accounts.push(AccountRecord {
                account_no: account_no.clone(),
                cif_no: cif.clone(),
                product_code: "DEP-CUR-P".into(),
                currency: Currency::CNY,
                org_unit_code: unit.code.clone(),
                opened_on: since,
            });
            let story = story(&mut rng, true);
            deposits.push(DepositState {
                account_no,
                cif_no: cif,
                corporate: false,
                target_yuan: target,
                txn_rate: rng.random_range(0.05..0.3),
                balance_minor: (target * 100.0) as i64,
                story,
                story_day: rng.random_range(config.days / 2..config.days.max(2)),
            });
        }

        // Payroll: a tenth of the corporates pay salaries through the bank, each employee once.
        let mut payroll = Vec::new();
        let mut employed = vec![false; spec.individuals];
        for (corporate, _) in by_size
            .iter()
            .enumerate()
            .filter(|(rank, _)| rank % 10 == 3)
            .map(|(_, c)| (*c, ()))
        {
            if spec.individuals == 0 {
                break;
            }
            let headcount = ((deposits[corporate].target_yuan / 200_000.0) as usize).clamp(3, 300);
            let mut employees = Vec::new();
            for _ in 0..headcount {
                let person = rng.random_range(0..spec.individuals);
                if employed[person] {
                    continue;
                }
                employed[person] = true;
                let salary_yuan = rng.random_range(4_000..30_000) as i64;
                let employee_account = spec.corporates + person;
                employees.push((employee_account, salary_yuan * 100));
                data.payroll_links.push(PayrollRecord {
                    employer_cif_no: deposits[corporate].cif_no.clone(),
                    employee_cif_no: deposits[employee_account].cif_no.clone(),
                    monthly_amount: Money::cny(salary_yuan * 100),
                    since: random_date(&mut rng, start - chrono::Days::new(1000), start),
                });
            }
            if !employees.is_empty() {
                payroll.push(PayrollState {
                    employer_account: corporate,
                    employee_accounts: employees,
                });
            }
        }

        let counterparties = (0..400)
            .map(|i| {
                if i % 2 == 0 {
                    person_name(&mut rng)
                } else {
                    let (_, _, cities) = names::REGIONS[i % names::REGIONS.len()];
                    format!(
                        "{}{}{}有限公司",
                        cities[i % cities.len()],
                        names::BRANDS.choose(&mut rng).expect("brands"),
                        names::industry_word(pick_weighted(&mut rng, names::INDUSTRIES))
                    )
                }
            })
            .collect();

        let mut bank = Bank {
            config,
            reference: data,
            deposits,
            loans,
            payroll,
            rng,
            counterparties,
        };
        bank.reference.profiles = bank.profiles();
        bank.reference.account_parties = account_parties(&bank.reference);
        bank.keep_key_people();
        bank
    }

    /// What the RMs keep about the key people — a mobile number, a birthday, the day of the
    /// stage, the colleague who owns the relationship (the customer's lead RM, for a decision
    /// maker), a note for some — derived from each person's name and customer rather than from
    /// the random stream, so the stream and every extract stay byte-identical.
    fn keep_key_people(&mut self) {
        const NOTES: [&str; 6] = [
            "每周三上午在厂区，电话前先发短信",
            "关注融资成本，对利率敏感",
            "喜欢打羽毛球，周末常在体育中心",
            "年底前决定下一年合作银行",
            "新任，前任已调往集团总部",
            "重视对账效率，曾抱怨网银回单",
        ];
        let leads: HashMap<&str, &str> = self
            .reference
            .assignments
            .iter()
            .filter(|a| a.role == AssignmentRole::Lead && a.effective_to.is_none())
            .map(|a| (a.cif_no.as_str(), a.username.as_str()))
            .collect();
        let end = self.config.end;
        let mut kept = Vec::with_capacity(self.reference.key_people.len());
        for record in &self.reference.key_people {
            let n: u64 = format!("{}{}", record.cif_no, record.person.name)
                .bytes()
                .fold(29, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)));
            let phone = format!("13{:09}", n % 1_000_000_000);
            let birthday = NaiveDate::from_ymd_opt(
                1960 + (n % 31) as i32,
                1 + (n / 31 % 12) as u32,
                1 + (n / 400 % 28) as u32,
            );
            let owner = (record.person.role == ContactRole::DecisionMaker)
                .then(|| leads.get(record.cif_no.as_str()).map(|u| (*u).to_owned()))
                .flatten();
            let notes = n
                .is_multiple_of(3)
                .then(|| NOTES[(n / 3 % 6) as usize].to_owned());
            let details = kam_core::contact::PersonDetails {
                phone: Phone::parse(&phone).ok(),
                birthday,
                owner,
                notes,
            };
            kept.push(KeyPersonRecord {
                cif_no: record.cif_no.clone(),
                person: record.person.clone().with_details(details),
                stage_since: Some(end - chrono::Duration::days((n % 700) as i64)),
            });
        }
        self.reference.key_people = kept;
    }

    /// A corporate archive for every other company (the rest left for the RMs to fill in), derived
    /// from each customer's number and start date rather than from the random stream, so the
    /// stream — and every other file — stays byte-identical.
    fn profiles(&self) -> Vec<kam_core::reference::ProfileRecord> {
        use kam_core::profile::{CorporateProfile, CreditCode, Listing, MainBank, RevenueBand};
        const REPS: [&str; 8] = [
            "王建国",
            "李明华",
            "张伟",
            "刘洋",
            "陈静",
            "杨帆",
            "赵磊",
            "周敏",
        ];
        const BANKS: [&str; 5] = ["工商银行", "建设银行", "农业银行", "招商银行", "兴业银行"];
        self.reference
            .customers
            .iter()
            .filter(|c| c.kind == CustomerKind::Corporate)
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .filter_map(|(i, c)| {
                let n: u64 = c
                    .cif_no
                    .as_str()
                    .bytes()
                    .fold(17, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
                let body = format!("91310000MA{:07}", n % 10_000_000);
                let ours = 20 + (n % 50) as u8;
                let first = ((100 - u16::from(ours)) * 6 / 10) as u8;
                Some(kam_core::reference::ProfileRecord {
                    cif_no: c.cif_no.to_string(),
                    profile: CorporateProfile {
                        legal_representative: Some(REPS[i % REPS.len()].to_owned()),
                        registered_capital: Some(Money::cny(
                            i64::try_from((n % 500 + 1) * 1_000_000_000).ok()?,
                        )),
                        established_on: Some(c.since - chrono::Duration::days((n % 3_000) as i64)),
                        business_scope: c.industry.map(|ind| ind.label_zh().to_owned()),
                        credit_code: CreditCode::complete(&body).ok(),
                        listing: Some(Listing::ALL[(n % 3) as usize]),
                        employees: Some((n % 5_000 + 20) as i64),
                        revenue_band: Some(RevenueBand::ALL[(n % 5) as usize]),
                        our_share_percent: Some(ours),
                        main_banks: vec![MainBank {
                            name: BANKS[(n % 5) as usize].to_owned(),
                            share_percent: first,
                        }],
                    },
                })
            })
            .collect()
    }

    /// Scores a key-account manager gave on the board's manual criteria (`criteria`): four in
    /// five companies scored, the rest left for the demo's users; strategic and important
    /// accounts lean higher. Derived from the customer number (not the random stream), so every
    /// other file stays byte-identical.
    pub fn manual_scores(&self, criteria: &[&str]) -> Vec<(String, String, u8)> {
        const SCALE: [u8; 5] = [1, 3, 5, 7, 9];
        let mut out = Vec::new();
        for c in self
            .reference
            .customers
            .iter()
            .filter(|c| c.kind == CustomerKind::Corporate)
        {
            let n: u64 = c
                .cif_no
                .as_str()
                .bytes()
                .fold(7, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)));
            if n.is_multiple_of(5) {
                continue;
            }
            let lean = match c.account_type {
                AccountType::Strategic => 2,
                AccountType::Important => 1,
                _ => 0,
            };
            for (i, criterion) in criteria.iter().enumerate() {
                let step = ((n >> (8 * i)) % 3) as usize + lean;
                out.push((
                    c.cif_no.to_string(),
                    (*criterion).to_owned(),
                    SCALE[step.min(4)],
                ));
            }
        }
        out
    }

    /// Holdings as of the last day the fact stream reached (deposit balances and loans).
    pub fn holdings(&self, as_of: NaiveDate) -> Vec<HoldingRecord> {
        let products: HashMap<&str, &str> = self
            .reference
            .accounts
            .iter()
            .map(|a| (a.account_no.as_str(), a.product_code.as_str()))
            .collect();
        let deposits = self
            .deposits
            .iter()
            .map(|d| (&d.cif_no, &d.account_no, d.balance_minor));
        let loans = self
            .loans
            .iter()
            .map(|l| (&l.cif_no, &l.loan_no, l.outstanding_minor));
        deposits
            .chain(loans)
            .filter(|(_, _, amount)| *amount != 0)
            .map(|(cif, account, amount)| HoldingRecord {
                cif_no: cif.clone(),
                product_code: products
                    .get(account.as_str())
                    .copied()
                    .unwrap_or("DEP-CUR-C")
                    .to_owned(),
                amount: Money::cny(amount),
                as_of,
            })
            .collect()
    }
}

fn story(rng: &mut ChaCha8Rng, individual: bool) -> Story {
    let roll: f64 = rng.random();
    let dormant = if individual { 0.06 } else { 0.03 };
    if roll < dormant {
        Story::Dormant
    } else if roll < dormant + 0.05 {
        Story::Draining
    } else if roll < dormant + 0.15 {
        Story::Growing
    } else {
        Story::Stable
    }
}
