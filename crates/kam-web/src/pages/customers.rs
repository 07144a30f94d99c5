//! The customer list (search by number, name or pinyin initials; filters; sort; pages) and the
//! customer 360. Every read goes through the user's scope: a customer out of reach is the same
//! 404 as one that does not exist.

use std::collections::BTreeSet;

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    response::Response,
};
use kam_core::{
    customer::{AccountType, CustomerKind, Industry},
    indicator::{CATALOGUE, Family, Unit},
};
use kam_store::{CustomerFilter, CustomerSort, CustomerSummary, StoredIndicator};
use serde::Deserialize;

use crate::{
    App, chart,
    error::WebError,
    excel::{self, Cell, SheetTitle, TitleLabels},
    format,
    i18n::Tr,
    pages::{
        Choice, Chrome, FieldError, home::AlertRow, no_customer_pages, reachable_units, render,
        render_form, tier_name, unit_choices, xlsx_download,
    },
    session::{Signed, redirect_with},
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/customers", list)
        .get("/customers/export.xlsx", export)
        .get("/customers/{cif}", show)
        .post("/customers/{cif}/reveal", reveal)
        .post("/customers/{cif}/team", appoint)
        .post("/customers/{cif}/team/{assignment}/end", end_assignment)
}

/// Rows per page of the list.
const PAGE_SIZE: i64 = 50;

/// One line of a customer table, ready to print.
#[derive(Debug)]
pub(crate) struct Row {
    pub cif_no: String,
    pub name: String,
    pub unit: String,
    pub tier: String,
    pub tier_class: String,
    /// The retail tier (私人银行/财富/贵宾) by the rules' name; empty for none.
    pub retail_tier: String,
    pub account_type: String,
    pub key_account: bool,
    pub lead_rm: String,
    pub value: String,
    pub alerts: i64,
}

pub(crate) fn account_type_label(t: &Tr<'_>, account_type: AccountType) -> String {
    t.code("account-type", account_type.as_str())
}

pub(crate) fn industry_label(t: &Tr<'_>, industry: Industry) -> String {
    let name = if t.is_zh() {
        industry.label_zh()
    } else {
        industry.label_en()
    };
    format!("{} {name}", industry.as_str())
}

pub(crate) fn rows(t: &Tr<'_>, customers: &[CustomerSummary]) -> Vec<Row> {
    customers
        .iter()
        .map(|c| Row {
            cif_no: c.cif_no.to_string(),
            name: c.name.clone(),
            unit: c.org_unit_name.clone(),
            tier: match (&c.tier_name, c.tier) {
                (Some(name), Some(tier)) => {
                    let name = tier_name(t, tier, name, c.tier_name_en.as_deref());
                    if t.is_zh() || !c.tier_name_en.as_deref().unwrap_or("").is_empty() {
                        format!("{tier} {name}")
                    } else {
                        name
                    }
                }
                (None, Some(tier)) => t.code("tier", &tier.to_string()),
                _ => "—".into(),
            },
            tier_class: c
                .tier
                .map(|tier| format!("tier-{tier}"))
                .unwrap_or_default(),
            retail_tier: c
                .retail_tier_name
                .as_deref()
                .map(|zh| t.pick(zh, c.retail_tier_name_en.as_deref()))
                .unwrap_or_default(),
            account_type: account_type_label(t, c.account_type),
            key_account: c.key_account,
            lead_rm: c.lead_rm.clone().unwrap_or_else(|| "—".into()),
            value: t.amount_or_dash(c.value_total),
            alerts: c.open_alerts,
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tier: String,
    /// A retail tier's code (`private_banking`, `wealth`, `vip`).
    #[serde(default)]
    retail: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    alert: String,
    #[serde(default)]
    mine: String,
    #[serde(default)]
    account_type: String,
    #[serde(default)]
    industry: String,
    /// An org unit's code, within the user's own subtree.
    #[serde(default)]
    unit: String,
    /// An RM's user name, among the RMs working within the user's own subtree.
    #[serde(default)]
    rm: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: String,
}

impl ListQuery {
    /// The query without its page, for pager and export links.
    fn without_page(&self) -> String {
        serde_urlencoded::to_string([
            ("q", self.q.as_str()),
            ("tier", self.tier.as_str()),
            ("retail", self.retail.as_str()),
            ("kind", self.kind.as_str()),
            ("alert", self.alert.as_str()),
            ("mine", self.mine.as_str()),
            ("account_type", self.account_type.as_str()),
            ("industry", self.industry.as_str()),
            ("unit", self.unit.as_str()),
            ("rm", self.rm.as_str()),
            ("sort", self.sort.as_str()),
        ])
        .unwrap_or_default()
    }
}

/// What the unit and RM filters may offer a user: the units at and below their own, and the
/// RMs working in them (nothing more for an RM, whose reach is a book, not a subtree).
struct Reachable {
    units: Vec<kam_core::org::OrgUnit>,
    rms: Vec<kam_core::user::User>,
}

impl Reachable {
    async fn of(signed: &Signed) -> Result<Self, WebError> {
        let units = reachable_units(signed).await?;
        if units.is_empty() {
            return Ok(Self {
                units,
                rms: Vec::new(),
            });
        }
        let rms = signed
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| {
                u.role.keeps_a_book()
                    && !u.disabled
                    && units.iter().any(|unit| unit.id == u.org_unit_id)
            })
            .collect();
        Ok(Self { units, rms })
    }
}

#[derive(Template)]
#[template(path = "customers.html")]
struct ListPage<'a> {
    c: Chrome<'a>,
    q: String,
    tier: String,
    retail: String,
    /// The retail tiers by the rules' names, best first.
    retail_tiers: Vec<Choice>,
    kind: String,
    alert: bool,
    mine: bool,
    sort: String,
    account_type: String,
    industry: String,
    unit: String,
    rm: String,
    account_types: Vec<Choice>,
    industries: Vec<Choice>,
    units: Vec<Choice>,
    rms: Vec<Choice>,
    rows: Vec<Row>,
    count_text: String,
    page: i64,
    pages: i64,
    /// The query string without `page`, for the pager links.
    base_query: String,
}

pub(crate) async fn list(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let page = crate::pages::page_number(&query.page);
    let reachable = Reachable::of(&signed).await?;
    let filter = list_filter(&signed, &query, &reachable);
    let store = &signed.store;
    let (found, total) = tokio::try_join!(
        store.find_customers(&filter),
        store.count_customers(&filter)
    )?;
    let base_query = query.without_page();
    let account_types = AccountType::ALL
        .iter()
        .map(|a| Choice {
            value: a.as_str().to_owned(),
            label: account_type_label(&t, *a),
        })
        .collect();
    let industries = Industry::ALL
        .iter()
        .map(|i| Choice {
            value: i.as_str().to_owned(),
            label: industry_label(&t, *i),
        })
        .collect();
    let units = unit_choices(&reachable.units);
    let rms = reachable
        .rms
        .iter()
        .map(|u| Choice {
            value: u.username.to_string(),
            label: format!("{} ({})", u.display_name, u.username),
        })
        .collect();
    render(&ListPage {
        c: Chrome::new(&app, &signed, "customers", t.get("customers-title")),
        rows: rows(&t, &found),
        q: query.q,
        tier: query.tier,
        retail: query.retail,
        retail_tiers: {
            let rules = app.rules();
            kam_core::classes::RetailTier::ALL
                .iter()
                .map(|tier| Choice {
                    value: tier.code().to_owned(),
                    label: t.pick(
                        rules.retail_tiers.name(*tier),
                        Some(rules.retail_tiers.name_en(*tier)),
                    ),
                })
                .collect()
        },
        kind: query.kind,
        alert: query.alert == "1",
        mine: query.mine == "1",
        sort: query.sort,
        account_type: query.account_type,
        industry: query.industry,
        unit: query.unit,
        rm: query.rm,
        account_types,
        industries,
        units,
        rms,
        count_text: t.with("customers-count", &[("count", format::count(total).into())]),
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        base_query,
    })
}

/// Most rows an Excel export carries (a list bigger than this is narrowed by its filters first).
const EXPORT_LIMIT: i64 = 50_000;

/// The list as shown (same search, filters and sort; every page of it up to `EXPORT_LIMIT`) as an
/// Excel workbook, masked like the page, recorded in the audit trail with its filters.
pub(crate) async fn export(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let reachable = Reachable::of(&signed).await?;
    let mut filter = list_filter(&signed, &query, &reachable);
    filter.limit = EXPORT_LIMIT;
    filter.offset = 0;
    let found = signed.store.find_customers(&filter).await?;
    let detail = format!("rows={} {}", found.len(), query.without_page());
    signed
        .store
        .record_event("export", "customer_list", "xlsx", &detail)
        .await?;
    let rows = rows(&t, &found);
    let heads: Vec<String> = [
        "col-cif",
        "col-name",
        "col-tier",
        "col-retail-tier",
        "col-type",
        "key-account",
        "col-unit",
        "col-rm",
    ]
    .iter()
    .map(|key| t.get(key))
    .chain(
        [
            "col-value",
            "figure-deposit-balance",
            "figure-loan-balance",
            "figure-aum-balance",
        ]
        .iter()
        .map(|key| t.with_unit(key)),
    )
    .chain([t.get("col-alerts")])
    .collect();
    let cells: Vec<Vec<Cell>> = found
        .iter()
        .zip(&rows)
        .map(|(summary, row)| {
            let text = |s: &str| Cell::Text(s.to_owned());
            vec![
                text(&row.cif_no),
                text(&row.name),
                text(&row.tier),
                text(&row.retail_tier),
                text(&row.account_type),
                text(&if row.key_account {
                    t.get("yes")
                } else {
                    String::new()
                }),
                text(&row.unit),
                text(&row.lead_rm),
                Cell::Amount(summary.value_total),
                Cell::Amount(summary.deposit_balance),
                Cell::Amount(summary.loan_balance),
                Cell::Amount(summary.aum_balance),
                Cell::Count(Some(row.alerts)),
            ]
        })
        .collect();
    let as_of = signed.store.latest_batch_date().await?;
    let title = SheetTitle {
        sheet: t.get("customers-title"),
        title: t.with(
            "export-customers-title",
            &[("count", format::count(found.len() as i64).into())],
        ),
        data_date: as_of.map(|d| d.to_string()).unwrap_or_default(),
        scope: export_scope(&t, &query, &reachable),
        exported_by: signed.user().display_name.clone(),
        exported_at: format::bank_time(app.config().zone, &app.now().to_rfc3339()),
    };
    let bytes = excel::workbook(&title, &TitleLabels::new(&t), t.unit, &heads, &cells)?;
    Ok(xlsx_download("kam-customers.xlsx", bytes))
}

/// What an export was selected by, in words: the filters that were set.
fn export_scope(t: &Tr<'_>, query: &ListQuery, reachable: &Reachable) -> String {
    let mut parts = Vec::new();
    if !query.q.trim().is_empty() {
        parts.push(format!("“{}”", query.q.trim()));
    }
    if let Some(unit) = reachable.units.iter().find(|u| u.code == query.unit) {
        parts.push(unit.name.clone());
    }
    if let Ok(tier) = query.tier.parse::<i64>() {
        parts.push(format!("{} {tier}", t.get("tier-option")));
    }
    if let Ok(kind) = CustomerKind::parse(&query.kind) {
        parts.push(t.get(&format!("kind-{}", kind.as_str())));
    }
    if query.alert == "1" {
        parts.push(t.get("filter-alert"));
    }
    if query.mine == "1" {
        parts.push(t.get("filter-mine"));
    }
    if parts.is_empty() {
        t.get("export-all-in-reach")
    } else {
        parts.join(" · ")
    }
}

/// The store's filter for a list query. A unit or RM outside what the user may choose is
/// ignored (the scope limits the rows anyway); "my book" wins over a named RM.
fn list_filter(signed: &Signed, query: &ListQuery, reachable: &Reachable) -> CustomerFilter {
    let page = crate::pages::page_number(&query.page);
    let named_rm = reachable
        .rms
        .iter()
        .find(|u| u.username.as_str() == query.rm)
        .map(|u| (u.id, signed.today));
    CustomerFilter {
        text: Some(query.q.trim().to_owned()).filter(|q| !q.is_empty()),
        kind: CustomerKind::parse(&query.kind).ok(),
        account_type: AccountType::parse(&query.account_type).ok(),
        industry: Industry::parse(&query.industry).ok(),
        org_unit: reachable
            .units
            .iter()
            .find(|u| u.code == query.unit)
            .map(|u| u.id),
        tier: query
            .tier
            .parse::<i64>()
            .ok()
            .filter(|t| (1..=5).contains(t)),
        retail_tier: kam_core::classes::RetailTier::parse(&query.retail).ok(),
        open_alert: query.alert == "1",
        rm: (query.mine == "1")
            .then_some((signed.user().id, signed.today))
            .or(named_rm),
        sort: match query.sort.as_str() {
            "name" => CustomerSort::Name,
            "tier" => CustomerSort::Tier,
            "value" => CustomerSort::Value,
            _ => CustomerSort::CifNo,
        },
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
    }
}

/// A labelled value of the profile card.
#[derive(Debug)]
pub(crate) struct Field {
    pub label: String,
    pub value: String,
}

/// One indicator's row: its name and one cell per window (or one cell for the date alone).
#[derive(Debug)]
pub(crate) struct IndicatorRow {
    pub name: String,
    pub code: String,
    pub cells: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct IndicatorFamily {
    pub name: String,
    pub rows: Vec<IndicatorRow>,
}

#[derive(Debug)]
pub(crate) struct Person {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub title: String,
    /// Masked (`138****1234`); the whole number is on the person's form for whoever may change it.
    pub phone: String,
    pub birthday: String,
    pub closeness: u8,
    pub trust: u8,
    pub favour: u8,
    pub stage: String,
    /// Since when, when known.
    pub stage_since: String,
    pub owner: String,
    pub notes: String,
    pub contact: ContactCell,
}

/// How fresh a key relationship is, as the 360 shows it.
#[derive(Debug)]
pub(crate) struct ContactCell {
    /// The closeness shown: faded by time since the last contact (docs/rules.md).
    pub shown_closeness: u8,
    /// The last logged contact and how long ago (empty when never).
    pub last: String,
    /// `fresh`, `due`, `lapsed` or `never`, for the cell's class.
    pub freshness: &'static str,
    pub label: String,
}

/// A key person's contact as the 360 shows it.
fn contact_of(
    t: &Tr<'_>,
    person: &kam_core::contact::KeyPerson,
    last: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
    interval: u32,
) -> ContactCell {
    let state = kam_core::contact::contact_state(person.closeness, last, today, interval);
    ContactCell {
        shown_closeness: state.shown_closeness.get(),
        last: match (state.last, state.days) {
            (Some(day), Some(days)) => t.with(
                "contact-last",
                &[("day", day.to_string().into()), ("n", days.into())],
            ),
            _ => String::new(),
        },
        freshness: state.freshness.code(),
        label: t.code("freshness", state.freshness.code()),
    }
}

#[derive(Debug)]
pub(crate) struct Node {
    pub cif_no: String,
    pub name: String,
    pub unit: String,
    pub depth: usize,
    pub this: bool,
}

/// One month-by-month chart of the 360 with its latest month's amount.
#[derive(Debug)]
pub(crate) struct Trend {
    pub title: String,
    pub latest: String,
    pub svg: String,
}

#[derive(Debug)]
pub(crate) struct Why {
    pub title: String,
    pub result: String,
    pub lines: Vec<Field>,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage<'a> {
    c: Chrome<'a>,
    can_reveal: bool,
    /// An identifier is shown whole in this answer (after a reason, audited).
    revealed: bool,
    reveal_error: Option<String>,
    /// What the refused reveal form held, kept.
    reveal_field: String,
    reveal_reason: String,
    cif_no: String,
    name: String,
    badges: Vec<String>,
    profile: Vec<Field>,
    team: Vec<TeamLine>,
    /// Whether the user appoints RMs (kam-core), and whom they may appoint.
    appoints: bool,
    appointable: Vec<Choice>,
    /// A one-time note after a change of the team.
    team_note: Option<String>,
    /// A one-time note after a change of the key people.
    people_note: Option<String>,
    group_name: Option<String>,
    group_code: String,
    group_size: i64,
    nodes: Vec<Node>,
    people: Vec<Person>,
    /// The work sections: latest activities, the needs list, open tasks.
    activities: Vec<crate::pages::activities::ActivityLine>,
    needs: Vec<crate::pages::activities::NeedLine>,
    tasks: Vec<crate::pages::activities::TaskLine>,
    /// Open opportunities, then those closed in the last year.
    opportunities: Vec<crate::pages::opportunities::OpportunityLine>,
    opportunities_note: Option<String>,
    activities_note: Option<String>,
    needs_note: Option<String>,
    tasks_note: Option<String>,
    /// Where a task's done/reopen returns: this 360's task section.
    back: String,
    /// The contact interval of the customer's tier, as a sentence.
    contact_rule: String,
    holdings: Vec<Field>,
    /// The corporate archive: whether the customer has one to keep (corporates), its fields, its
    /// last save, and whether the user may edit it.
    corporate: bool,
    archive: Vec<Field>,
    archive_updated: String,
    archive_note: Option<String>,
    may_edit: bool,
    /// Payroll (代发工资): the employees in reach, and the employers (linked when in reach).
    payroll_employees: Vec<PayrollLine>,
    payroll_employers: Vec<PayrollLine>,
    /// Joint owners and authorised users, both ways.
    account_parties: Vec<PartyLine>,
    windows: Vec<String>,
    families: Vec<IndicatorFamily>,
    has_indicators: bool,
    whys: Vec<Why>,
    value_chart: String,
    /// The months' deposit, loan and fee charts (those with anything to show).
    trends: Vec<Trend>,
    alerts: Vec<AlertRow>,
    as_of: String,
}

pub(crate) fn value_cell(t: &Tr<'_>, unit: Unit, value: Option<&StoredIndicator>) -> String {
    let Some(value) = value else {
        return "—".into();
    };
    match (unit, value.value_int, value.value_real) {
        (Unit::Fen, Some(fen), _) => t.money(fen),
        (Unit::Count, Some(n), _) => format::count(n),
        (Unit::Days, Some(n), _) => {
            let n = format::count(n);
            t.with("days", &[("n", n.into())])
        }
        (Unit::Days | Unit::AverageDays, None, Some(x)) => {
            t.with("days", &[("n", format!("{x:.1}").into())])
        }
        (Unit::LoanClass, Some(class), _) => t.code("loan-class", &class.to_string()),
        (Unit::Ratio, _, Some(x)) => format::percent(x),
        (_, Some(n), _) => n.to_string(),
        (_, None, Some(x)) => format!("{x:.2}"),
        _ => "—".into(),
    }
}

fn indicator_families(
    t: &Tr<'_>,
    values: &[StoredIndicator],
) -> (Vec<String>, Vec<IndicatorFamily>) {
    let windows: BTreeSet<i64> = values
        .iter()
        .map(|v| v.window_days)
        .filter(|w| *w > 0)
        .collect();
    let find = |code: &str, window: i64| {
        values
            .iter()
            .find(|v| v.code == code && v.window_days == window)
    };
    let families = [
        (Family::Transaction, "family-transaction"),
        (Family::Financial, "family-financial"),
        (Family::Contact, "family-contact"),
    ]
    .into_iter()
    .map(|(family, key)| IndicatorFamily {
        name: t.get(key),
        rows: CATALOGUE
            .iter()
            .filter(|spec| spec.family == family)
            .map(|spec| IndicatorRow {
                name: if t.is_zh() { spec.zh } else { spec.en }.to_owned(),
                code: spec.code.to_owned(),
                cells: if spec.windowed {
                    windows
                        .iter()
                        .map(|w| value_cell(t, spec.unit, find(spec.code, *w)))
                        .collect()
                } else {
                    vec![value_cell(t, spec.unit, find(spec.code, 0))]
                },
            })
            .collect(),
    })
    .collect();
    let windows = windows
        .iter()
        .map(|w| t.with("window-days", &[("n", (*w).into())]))
        .collect();
    (windows, families)
}

pub(crate) async fn show(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
) -> Result<Response, WebError> {
    // A reveal just made (post/redirect/get) is shown this once.
    let reveal = match &signed.session.flash {
        Some(kam_store::Flash {
            secret: Some(value),
            field: Some(field),
            ..
        }) if field == "id_number" || field == "phone" => Reveal::Shown {
            field: field.clone(),
            value: value.clone(),
        },
        _ => Reveal::None,
    };
    customer_360(&app, &signed, &cif, reveal).await
}

/// The archive's fields that are known, labelled, amounts in the page's unit.
fn archive_fields(t: &Tr<'_>, p: &kam_core::profile::CorporateProfile) -> Vec<Field> {
    let mut out = Vec::new();
    let mut add = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            out.push(Field {
                label: t.get(key),
                value,
            });
        }
    };
    add(
        "profile-legal-representative",
        p.legal_representative.clone(),
    );
    add(
        "profile-registered-capital",
        p.registered_capital.as_ref().map(|m| t.money(m.minor())),
    );
    add(
        "profile-established-on",
        p.established_on.map(|d| d.to_string()),
    );
    add(
        "profile-credit-code",
        p.credit_code.as_ref().map(|c| c.as_str().to_owned()),
    );
    add(
        "profile-listing",
        p.listing.map(|l| t.code("listing", l.as_str())),
    );
    add("profile-employees", p.employees.map(format::count));
    add(
        "profile-revenue-band",
        p.revenue_band.map(|b| t.code("revenue-band", b.as_str())),
    );
    add(
        "profile-our-share",
        p.our_share_percent.map(|s| format!("{s}%")),
    );
    add(
        "profile-main-banks",
        (!p.main_banks.is_empty()).then(|| {
            p.main_banks
                .iter()
                .map(|b| format!("{} {}%", b.name, b.share_percent))
                .collect::<Vec<_>>()
                .join("、")
        }),
    );
    add("profile-business-scope", p.business_scope.clone());
    out
}

/// One side of a payroll link on the 360.
#[derive(Debug)]
pub(crate) struct PayrollLine {
    pub cif_no: String,
    pub name: String,
    pub amount: String,
    pub since: String,
    pub link: bool,
}

/// An account-party relationship on the 360: the account (masked), what the customer is to it
/// or the other to it, the other customer (linked when in reach) and since when.
#[derive(Debug)]
pub(crate) struct PartyLine {
    pub account_no: String,
    pub what: String,
    pub other: Option<(String, String)>,
    pub since: String,
}

/// One member of the account team as the 360 lists it.
#[derive(Debug)]
pub(crate) struct TeamLine {
    pub assignment: i64,
    pub role: String,
    pub lead: bool,
    pub name: String,
    pub since: String,
}

/// The people a manager may appoint to a customer's team: active RMs and sub-branch presidents
/// in their reach and line, as kam-core decides (`Scope::may_appoint`; the store asks again).
fn appointable(
    signed: &Signed,
    users: &[(kam_core::user::User, kam_core::org::OrgPath, String)],
) -> Vec<Choice> {
    users
        .iter()
        .filter(|(u, path, _)| signed.scope().may_appoint(u, path))
        .map(|(u, _, unit)| Choice {
            value: u.username.to_string(),
            label: format!("{} ({}) · {}", u.display_name, u.username, unit),
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub(crate) struct AppointForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
}

/// Appoints a lead RM (handing over from the current lead, whose row ends today: history is
/// kept) or adds a team member, from today. The store checks reach (404), the role (403) and
/// the appointee (403), and audits.
pub(crate) async fn appoint(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
    Form(form): Form<AppointForm>,
) -> Result<Response, WebError> {
    let t = signed.tr(&app);
    let customer = signed.store.customer_by_cif(&cif).await?;
    let role = kam_core::assignment::AssignmentRole::parse(&form.role)?;
    let username = form.username.trim();
    if username.is_empty() {
        return Err(WebError::Unprocessable {
            field: Some("username".into()),
            zh: "请选择客户经理".into(),
            en: "Choose a relationship manager".into(),
        });
    }
    signed
        .store
        .assign_rm(customer.id, username, role, app.today())
        .await?;
    let note = t.with(
        "team-appointed",
        &[
            ("name", username.into()),
            ("role", t.code("assignment", role.as_str()).into()),
        ],
    );
    team_changed(&app, &signed, &cif, note).await
}

/// Ends one member's assignment today (history kept).
pub(crate) async fn end_assignment(
    State(app): State<App>,
    signed: Signed,
    Path((cif, assignment)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    let t = signed.tr(&app);
    let customer = signed.store.customer_by_cif(&cif).await?;
    signed
        .store
        .end_assignment(
            customer.id,
            kam_core::id::AssignmentId(assignment),
            app.today(),
        )
        .await?;
    team_changed(&app, &signed, &cif, t.get("team-ended")).await
}

async fn team_changed(
    app: &App,
    signed: &Signed,
    cif: &str,
    note: String,
) -> Result<Response, WebError> {
    crate::pages::back_to_360(app, signed, cif, "team", note).await
}

/// What the 360 shows unmasked, once, in this answer only.
#[derive(Debug)]
enum Reveal {
    None,
    Shown {
        field: String,
        value: String,
    },
    /// The reason was refused: the message, and the field and reason as entered (kept).
    Refused {
        message: String,
        field: String,
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
pub(crate) struct RevealForm {
    #[serde(default)]
    field: String,
    #[serde(default)]
    reason: String,
}

/// Unmasks one personal identifier for a user whose role may, with a reason, audited. A customer
/// out of reach is the same 404 as anywhere else (checked before the role).
pub(crate) async fn reveal(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
    Form(form): Form<RevealForm>,
) -> Result<Response, WebError> {
    let t = signed.tr(&app);
    // The store decides: the customer in reach (else 404), the role (else 403, audited), the
    // field and a reason, and the audit row of the reveal.
    let value = match signed
        .store
        .reveal_identifier(&cif, &form.field, &form.reason)
        .await
    {
        Ok(Some(value)) => value,
        Ok(None) => return Err(WebError::BadRequest(t.get("reveal-nothing"))),
        Err(kam_store::Error::Invalid(error)) if error.field == "field" => {
            return Err(WebError::BadRequest(t.get("reveal-nothing")));
        }
        Err(kam_store::Error::Invalid(_)) => {
            let refused = Reveal::Refused {
                message: t.get("reveal-reason-needed"),
                field: form.field.clone(),
                reason: form.reason.clone(),
            };
            return customer_360(&app, &signed, &cif, refused).await;
        }
        Err(other) => return Err(other.into()),
    };
    // Shown once on the 360 it redirects to; a reload shows the masked value again.
    let flash = kam_store::Flash {
        note: t.get("reveal-recorded"),
        secret: Some(value),
        field: Some(form.field),
    };
    let back = crate::security::local_path_or(&format!("/customers/{cif}"), "/customers");
    redirect_with(&app, &signed, &back, flash).await
}

async fn customer_360(
    app: &App,
    signed: &Signed,
    cif: &str,
    reveal: Reveal,
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let store = &signed.store;
    // The one visibility decision for this page: everything below reads only after it.
    let view = store.customer_view(cif).await?;
    let kam_store::CustomerView {
        customer,
        unit,
        team,
        key_people: people,
        holdings,
        group,
        indicators: values,
        alerts,
        tier,
        class,
        payroll,
        payroll_people: paid,
        account_parties,
        archive: stored_archive,
    } = view;
    let id = customer.id;

    let mut badges = vec![t.code("kind", customer.kind.as_str())];
    if let Some(tier) = &tier {
        badges.push(tier_name(
            &t,
            tier.tier,
            &tier.tier_name,
            Some(&tier.tier_name_en),
        ));
    }
    badges.push(account_type_label(&t, customer.account_type));
    if let Some(class) = &class {
        if class.key_account {
            badges.push(t.get("key-account"));
        }
        if let Some(name) = &class.retail_tier_name {
            badges.push(t.pick(name, class.retail_tier_name_en.as_deref()));
        }
        if class.starred {
            badges.push("★".into());
        }
    }

    let field = |key: &str, value: String| Field {
        label: t.get(key),
        value,
    };
    let mut profile = vec![
        field("field-cif", customer.cif_no.to_string()),
        field("field-unit", unit.name.clone()),
        field("field-line", t.code("line", customer.line.as_str())),
        field("field-since", customer.since.to_string()),
    ];
    if let Some(industry) = customer.industry {
        profile.push(field("field-industry", industry_label(&t, industry)));
    }
    // An individual's sex, age and birthday (month and day: what an RM greets on; the year
    // only as the age).
    if let Some(sex) = customer.sex {
        profile.push(field("field-sex", t.code("sex", sex.as_str())));
    }
    if let Some(born) = customer.birth_date {
        let age = signed.today.years_since(born).unwrap_or(0);
        profile.push(field(
            "field-age",
            t.with(
                "age-birthday",
                &[
                    ("age", age.into()),
                    ("birthday", born.format("%m-%d").to_string().into()),
                ],
            ),
        ));
    }
    let shown = |name: &str, masked: String| match &reveal {
        Reveal::Shown { field, value } if field == name => value.clone(),
        _ => masked,
    };
    if let Some(id_number) = &customer.id_number {
        profile.push(field(
            "field-id-number",
            shown("id_number", id_number.masked()),
        ));
    }
    if let Some(phone) = &customer.phone {
        profile.push(field("field-phone", shown("phone", phone.masked())));
    }
    if payroll.employees > 0 {
        profile.push(field(
            "field-payroll-employer",
            t.with(
                "payroll-employer",
                &[
                    ("count", payroll.employees.into()),
                    ("amount", t.money(payroll.monthly_fen).into()),
                ],
            ),
        ));
    }
    if payroll.employers_in_reach > 0 {
        profile.push(field(
            "field-payroll-employee",
            t.with(
                "payroll-employee",
                &[("count", payroll.employers_in_reach.into())],
            ),
        ));
    }
    let can_reveal = signed.user().role.may_reveal()
        && (customer.id_number.is_some() || customer.phone.is_some());
    if let Some(risk) = customer.risk_tolerance {
        profile.push(field("field-risk", risk.as_str().to_owned()));
    }

    let team = team
        .iter()
        .map(|m| TeamLine {
            assignment: m.assignment.0,
            role: t.code("assignment", m.role.as_str()),
            lead: m.role == kam_core::assignment::AssignmentRole::Lead,
            name: format!("{} ({})", m.display_name, m.username),
            since: m.since.to_string(),
        })
        .collect();
    let corporate = customer.kind == CustomerKind::Corporate;
    let (archive, archive_updated) = match &stored_archive {
        Some(stored) => (
            archive_fields(&t, &stored.profile),
            t.with(
                "profile-updated",
                &[
                    ("version", stored.version.into()),
                    ("who", stored.updated_by.clone().into()),
                    (
                        "at",
                        format::bank_time(app.config().zone, &stored.updated_at).into(),
                    ),
                ],
            ),
        ),
        None => (Vec::new(), String::new()),
    };
    let archive_note = signed
        .session
        .flash
        .as_ref()
        .filter(|f| f.field.as_deref() == Some("profile"))
        .map(|f| f.note.clone());
    let payroll_line = |p: &kam_store::PayrollPerson| PayrollLine {
        cif_no: p.cif_no.clone(),
        name: p.name.clone(),
        amount: if p.monthly_amount.currency().as_str() == "CNY" {
            t.amount(p.monthly_amount.minor())
        } else {
            p.monthly_amount.to_string()
        },
        since: p.since.to_string(),
        link: p.in_reach,
    };
    let account_parties = account_parties
        .iter()
        .map(|p| PartyLine {
            account_no: p.account_no.clone(),
            what: t.code(
                if p.as_party { "party-as" } else { "party-of" },
                p.role.as_str(),
            ),
            other: p.other.clone(),
            since: p.since.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    let payroll_employees = paid.employees.iter().map(payroll_line).collect();
    let payroll_employers = paid.employers.iter().map(payroll_line).collect();
    let appoints = signed.scope().appoints_relationship_managers();
    // The users, read once when the page needs them: whom a manager may appoint, and the
    // owners of key relationships by name (a user name is what the store keeps).
    let users = if appoints || people.iter().any(|p| p.details.owner.is_some()) {
        signed.store.users_with_units().await?
    } else {
        Vec::new()
    };
    let appointable = if appoints {
        appointable(signed, &users)
    } else {
        Vec::new()
    };
    let note_for = |field: &str| {
        signed
            .session
            .flash
            .as_ref()
            .filter(|f| f.field.as_deref() == Some(field))
            .map(|f| f.note.clone())
    };
    let team_note = note_for("team");
    let people_note = note_for("people");
    let work = crate::pages::activities::work_of(app, signed, id).await?;
    let interval = app
        .rules()
        .contact
        .interval_for(tier.as_ref().and_then(|t| u8::try_from(t.tier).ok()));

    let nodes = group
        .as_ref()
        .map(|g| tree(&g.nodes, id))
        .unwrap_or_default();
    let names: std::collections::HashMap<&str, &str> = users
        .iter()
        .map(|(u, _, _)| (u.username.as_str(), u.display_name.as_str()))
        .collect();
    let people = people
        .iter()
        .map(|p| Person {
            id: p.id.0,
            name: p.name.clone(),
            role: t.code("contact-role", p.role.as_str()),
            title: p.title.clone().unwrap_or_default(),
            phone: p
                .details
                .phone
                .as_ref()
                .map(|v| v.masked())
                .unwrap_or_default(),
            birthday: p
                .details
                .birthday
                .map(|d| d.format("%m-%d").to_string())
                .unwrap_or_default(),
            closeness: p.closeness.get(),
            trust: p.trust.get(),
            favour: p.favour.get(),
            stage: t.code("stage", p.stage.as_str()),
            stage_since: p.stage_since.map(|d| d.to_string()).unwrap_or_default(),
            owner: p
                .details
                .owner
                .as_ref()
                .map(|o| {
                    names
                        .get(o.as_str())
                        .map_or_else(|| o.clone(), |n| (*n).to_owned())
                })
                .unwrap_or_default(),
            notes: p.details.notes.clone().unwrap_or_default(),
            contact: contact_of(
                &t,
                p,
                work.contacts.get(&p.id).copied(),
                app.today(),
                interval,
            ),
        })
        .collect();
    let holdings = holdings
        .iter()
        .map(|(h, product)| Field {
            label: product.name.clone(),
            // Yuan in the page's unit; another currency in its own units with its code.
            value: if h.amount.currency().as_str() == "CNY" {
                format!("{} · {}", t.money(h.amount.minor()), h.as_of)
            } else {
                format!("{} · {}", h.amount, h.as_of)
            },
        })
        .collect();
    let (windows, families) = indicator_families(&t, &values);

    let mut whys = Vec::new();
    if let Some(tier) = &tier {
        whys.push(Why {
            title: t.get("why-tier"),
            result: format!(
                "{} · {}",
                tier_name(&t, tier.tier, &tier.tier_name, Some(&tier.tier_name_en)),
                t.code("move", tier.movement.as_str())
            ),
            lines: vec![
                field(
                    "why-rule",
                    format!("{} v{}", tier.rule_id, tier.rule_version),
                ),
                field("why-indicator", indicator_label(&t, &tier.indicator)),
                field("why-value", t.money_or_dash(tier.value_int)),
                field("why-bars", bars(&t, &tier.bars)),
                field("why-measured", tier.measured_tier.to_string()),
                field("why-months-below", tier.months_below.to_string()),
                field("why-as-of", tier.as_of.to_string()),
            ],
        });
    }
    let mut value_chart = String::new();
    let mut trends = Vec::new();
    if let Some(class) = &class {
        if let Some(name) = &class.retail_tier_name {
            whys.push(Why {
                title: t.get("why-retail-tier"),
                result: t.pick(name, class.retail_tier_name_en.as_deref()),
                lines: vec![
                    field(
                        "why-rule",
                        format!("{} v{}", class.rule_id, class.rule_version),
                    ),
                    field(
                        "why-indicator",
                        indicator_label(&t, &class.retail_indicator),
                    ),
                    field("why-value", t.money_or_dash(class.retail_value)),
                    field("why-as-of", class.as_of.to_string()),
                ],
            });
        }
        if let (Some(board), Some(scores)) = (&class.board, &class.board_scores) {
            let rules = app.rules();
            whys.push(Why {
                title: t.get("why-board"),
                result: format!(
                    "{} {}",
                    class.board_total.unwrap_or(0),
                    if class.starred { "★" } else { "" }
                ),
                lines: vec![
                    field(
                        "why-rule",
                        format!("{board} · {} v{}", class.rule_id, class.rule_version),
                    ),
                    field(
                        "why-scores",
                        // Each criterion by its name (客户关系 7 · 政策支持 —), as the rules name it.
                        scores
                            .scores()
                            .iter()
                            .map(|(code, score)| {
                                let name = rules
                                    .scoring
                                    .criteria
                                    .iter()
                                    .find(|c| &c.code == code)
                                    .map_or_else(|| code.clone(), |c| t.pick(&c.zh, Some(&c.en)));
                                let score = score.map_or_else(|| "—".to_owned(), |s| s.to_string());
                                format!("{name} {score}")
                            })
                            .collect::<Vec<_>>()
                            .join(" · "),
                    ),
                    field(
                        "why-average",
                        class
                            .board_average
                            .map_or_else(|| "—".into(), |a| format!("{a:.2}")),
                    ),
                    field("why-as-of", class.as_of.to_string()),
                ],
            });
        }
        let show = |fen: i64| t.money(fen);
        let tick = |fen: i64| t.amount(fen);
        value_chart = chart::month_bars(
            class.value_months.points(),
            &t.get("value-chart"),
            &show,
            &tick,
            t.unit_label(),
        );
        for (key, series) in [
            ("trend-deposit", &class.deposit_months),
            ("trend-loan", &class.loan_months),
            ("trend-fees", &class.fee_months),
        ] {
            let points = series.points();
            if points.iter().any(|(_, fen)| *fen != 0) {
                trends.push(Trend {
                    title: t.get(key),
                    latest: points.last().map(|(_, fen)| show(*fen)).unwrap_or_default(),
                    svg: chart::month_bars(points, &t.get(key), &show, &tick, t.unit_label()),
                });
            }
        }
        whys.push(Why {
            title: t.get("why-value-score"),
            result: format!(
                "{} · {}",
                class.value_score,
                t.code("trend", class.value_trend.code())
            ),
            lines: vec![
                field("why-value-total", t.money(class.value_total)),
                field(
                    "why-slope",
                    class.value_slope.map_or_else(
                        || "—".into(),
                        |s| t.with("per-month", &[("amount", t.money(s.round() as i64).into())]),
                    ),
                ),
                field("why-as-of", class.as_of.to_string()),
            ],
        });
    }
    let as_of = values
        .is_empty()
        .then(|| t.get("no-batch-yet"))
        .or_else(|| class.as_ref().map(|c| c.as_of.to_string()))
        .unwrap_or_default();
    let (revealed, reveal_error, reveal_field, reveal_reason) = match reveal {
        Reveal::None => (false, None, String::new(), String::new()),
        Reveal::Shown { .. } => (true, None, String::new(), String::new()),
        Reveal::Refused {
            message,
            field,
            reason,
        } => (false, Some(message), field, reason),
    };
    let refused = reveal_error
        .clone()
        .map(|message| FieldError::new("reason", message));
    let page = CustomerPage {
        c: Chrome::new(app, signed, "customers", customer.name.clone()),
        can_reveal,
        revealed,
        reveal_error,
        reveal_field,
        reveal_reason,
        cif_no: customer.cif_no.to_string(),
        name: customer.name.clone(),
        badges,
        profile,
        team,
        corporate,
        archive,
        archive_updated,
        archive_note,
        may_edit: signed.scope().may_write(),
        payroll_employees,
        payroll_employers,
        account_parties,
        appoints,
        appointable,
        team_note,
        people_note,
        activities: work.activities,
        needs: work.needs,
        tasks: work.tasks,
        opportunities: work.opportunities,
        opportunities_note: note_for("opportunities"),
        activities_note: note_for("activities"),
        needs_note: note_for("needs"),
        tasks_note: note_for("tasks"),
        back: format!("/customers/{}#tasks", customer.cif_no),
        contact_rule: t.with("contact-rule", &[("n", interval.into())]),
        group_name: group.as_ref().map(|g| g.name.clone()),
        group_code: group.as_ref().map(|g| g.code.clone()).unwrap_or_default(),
        group_size: group.as_ref().map_or(0, |g| g.member_count),
        nodes,
        people,
        holdings,
        windows,
        families,
        has_indicators: !values.is_empty(),
        whys,
        value_chart,
        trends,
        alerts: alerts.iter().map(|a| AlertRow::new(&t, a)).collect(),
        as_of,
    };
    render_form(&page, refused.as_ref())
}

/// An indicator column (`avg_daily_deposit_90d`) as its name and window (日均存款 · 近 90 天).
pub(crate) fn indicator_label(t: &Tr<'_>, column: &str) -> String {
    let window = column
        .rsplit_once('_')
        .and_then(|(code, suffix)| Some((code, suffix.strip_suffix('d')?.parse::<u32>().ok()?)));
    let (code, days) = match window {
        Some((code, days)) => (code, Some(days)),
        None => (column, None),
    };
    let Some(spec) = CATALOGUE.iter().find(|s| s.code == code) else {
        return column.to_owned();
    };
    let name = if t.is_zh() { spec.zh } else { spec.en };
    match days {
        Some(days) => format!("{name} · {}", t.with("window-days", &[("n", days.into())])),
        None => name.to_owned(),
    }
}

/// The tier bars as amounts, best tier first.
fn bars(t: &Tr<'_>, bars: &kam_core::codec::Bars) -> String {
    bars.0
        .iter()
        .map(|fen| t.money(*fen))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The visible members as an indented tree (depth-first from the roots; a member whose parent is
/// not visible is shown as a root). Each member has one parent, so a walk down from a root cannot
/// come round again; the store's one writer of `group_member` keeps every group a tree.
pub(crate) fn tree(nodes: &[kam_store::GroupNode], this: kam_core::id::CustomerId) -> Vec<Node> {
    let visible: BTreeSet<_> = nodes.iter().map(|n| n.customer_id).collect();
    let mut out = Vec::with_capacity(nodes.len());
    fn walk(
        nodes: &[kam_store::GroupNode],
        parent: kam_core::id::CustomerId,
        depth: usize,
        this: kam_core::id::CustomerId,
        out: &mut Vec<Node>,
    ) {
        for node in nodes
            .iter()
            .filter(|n| n.parent_customer_id == Some(parent))
        {
            out.push(Node {
                cif_no: node.cif_no.clone(),
                name: node.name.clone(),
                unit: node.org_unit_name.clone(),
                depth,
                this: node.customer_id == this,
            });
            walk(nodes, node.customer_id, depth + 1, this, out);
        }
    }
    for root in nodes
        .iter()
        .filter(|n| n.parent_customer_id.is_none_or(|p| !visible.contains(&p)))
    {
        out.push(Node {
            cif_no: root.cif_no.clone(),
            name: root.name.clone(),
            unit: root.org_unit_name.clone(),
            depth: 0,
            this: root.customer_id == this,
        });
        walk(nodes, root.customer_id, 1, this, &mut out);
    }
    out
}
