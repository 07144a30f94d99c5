//! The JSON API under `/api/v1`: the same data as the pages, with the same visibility (the
//! user's scope in every store call) and the same masking, for a personal API token
//! (`Authorization: Bearer …`, hashed at rest, created and revoked on the personal page). The
//! reads are here, the writes in `api_write.rs`; no CSRF: a token is not a cookie a browser sends
//! by itself. The OpenAPI document at `/api/v1/openapi.json` is generated from these handlers and
//! types by utoipa.

use std::{collections::BTreeMap, future::Future, pin::Pin};

use axum::{
    Json,
    extract::{FromRequestParts, Path, Query, State},
    http::{header, request::Parts},
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use kam_core::{
    alert::{AlertKind, AlertStatus},
    customer::CustomerKind,
    pareto::pareto,
};
use kam_store::{AlertFilter, CustomerFilter, StoredAlert, StoredIndicator, UserStore};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::{App, error::WebError, session::token_hash};

/// Reads one customer's indicators of an earlier as-of date (the batch's Parquet history, which
/// only the binary can reach: kam-web does not link the fact engine).
pub trait IndicatorHistory: Send + Sync + std::fmt::Debug {
    /// `Ok(None)` when the batch did not run for that date.
    fn indicators(&self, as_of: NaiveDate, cif_no: String) -> HistoryFuture<'_>;
}

pub type HistoryFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Vec<StoredIndicator>>, String>> + Send + 'a>>;

/// An API error: JSON with a stable code.
#[derive(Debug)]
pub(crate) struct ApiError(WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_json()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The offset of `page`, or 422 naming the accepted range.
fn api_page_offset(page: i64, size: i64) -> Result<i64, ApiError> {
    crate::pages::page_offset(page, size).ok_or_else(|| {
        let max = crate::pages::MAX_PAGE;
        ApiError(WebError::Unprocessable {
            field: Some("page".into()),
            zh: format!("page = {page}：页码应为 1 至 {max}"),
            en: format!("page = {page}: a page number is 1 to {max}"),
        })
    })
}

/// The store as the user behind a bearer token sees it today.
#[derive(Debug)]
pub(crate) struct ApiUser {
    pub store: UserStore,
}

impl FromRequestParts<App> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError(WebError::Unauthorised))?;
        let user = app
            .sessions()
            .api_token_user(&token_hash(token))
            .await?
            .filter(|u| !u.user.disabled)
            .ok_or(ApiError(WebError::Unauthorised))?;
        crate::observe::note_user(user.user.id.0);
        Ok(ApiUser {
            store: app.sessions().for_token(&user, app.today()),
        })
    }
}

/// One customer of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerItem {
    pub cif_no: String,
    pub name: String,
    /// `corporate` or `individual`.
    pub kind: String,
    pub org_unit: String,
    /// 1 (best) … 5, from the latest batch.
    pub tier: Option<i64>,
    pub tier_name: Option<String>,
    pub account_type: String,
    pub key_account: bool,
    /// Contribution over the customer-value months, in fen (CNY).
    pub value_total_fen: Option<i64>,
    pub open_alerts: i64,
    pub lead_rm: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerList {
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    pub customers: Vec<CustomerItem>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CustomerQuery {
    /// Customer number prefix, part of the name, or pinyin initials.
    q: Option<String>,
    /// 1 … 5.
    tier: Option<i64>,
    /// `corporate` or `individual`.
    kind: Option<String>,
    /// Only customers with an open alert.
    alert: Option<bool>,
    /// 1 … 1,000,000 (422 beyond).
    page: Option<i64>,
    /// At most 500.
    page_size: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/customers", params(CustomerQuery),
    responses((status = 200, body = CustomerList), (status = 401, description = "no or bad token"),
        (status = 422, description = "page out of range", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn customers(
    api: ApiUser,
    Query(query): Query<CustomerQuery>,
) -> ApiResult<CustomerList> {
    let page = query.page.unwrap_or(1);
    let page_size = query.page_size.unwrap_or(50).clamp(1, 500);
    let offset = api_page_offset(page, page_size)?;
    let filter = CustomerFilter {
        text: query.q.filter(|q| !q.trim().is_empty()),
        tier: query.tier,
        kind: query
            .kind
            .as_deref()
            .and_then(|k| CustomerKind::parse(k).ok()),
        open_alert: query.alert.unwrap_or(false),
        limit: page_size,
        offset,
        ..CustomerFilter::default()
    };
    let (found, total) = tokio::try_join!(
        api.store.find_customers(&filter),
        api.store.count_customers(&filter)
    )?;
    Ok(Json(CustomerList {
        total,
        page,
        page_size,
        customers: found
            .into_iter()
            .map(|c| CustomerItem {
                cif_no: c.cif_no.to_string(),
                name: c.name,
                kind: c.kind.as_str().to_owned(),
                org_unit: c.org_unit_name,
                tier: c.tier,
                tier_name: c.tier_name,
                account_type: c.account_type.as_str().to_owned(),
                key_account: c.key_account,
                value_total_fen: c.value_total,
                open_alerts: c.open_alerts,
                lead_rm: c.lead_rm,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamItem {
    /// The assignment: `POST …/team/{assignment}/end` ends it.
    pub assignment: i64,
    pub username: String,
    pub display_name: String,
    /// `lead` or `member`.
    pub role: String,
    pub since: String,
}

/// A current key person of the customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonItem {
    /// `PUT …/people/{person}` edits, `POST …/people/{person}/retire` retires.
    pub id: i64,
    pub name: String,
    /// `decision_maker`, `finance_head`, `accountant`, `cashier`, `influencer`, `other`.
    pub role: String,
    pub title: Option<String>,
    /// Masked (`139****5678`).
    pub phone: Option<String>,
    pub birthday: Option<String>,
    pub closeness: u8,
    pub trust: u8,
    pub favour: u8,
    /// `build`, `deepen`, `extend`, `leverage` (建/做/拉/用).
    pub stage: String,
    /// The day the stage was entered, when known.
    pub stage_since: Option<String>,
    /// The colleague (user name) who owns the relationship.
    pub owner: Option<String>,
    pub notes: Option<String>,
    pub version: i64,
}

impl From<kam_core::contact::KeyPerson> for PersonItem {
    fn from(p: kam_core::contact::KeyPerson) -> Self {
        Self {
            id: p.id.0,
            name: p.name,
            role: p.role.as_str().to_owned(),
            title: p.title,
            phone: p.details.phone.as_ref().map(|v| v.masked()),
            birthday: p.details.birthday.map(|d| d.to_string()),
            closeness: p.closeness.get(),
            trust: p.trust.get(),
            favour: p.favour.get(),
            stage: p.stage.as_str().to_owned(),
            stage_since: p.stage_since.map(|d| d.to_string()),
            owner: p.details.owner,
            notes: p.details.notes,
            version: p.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HoldingItem {
    pub product_code: String,
    pub product_name: String,
    pub amount_minor: i64,
    pub currency: String,
    pub as_of: String,
}

/// A joint owner or authorised user, either way round.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountPartyItem {
    /// Masked (first 6, last 4).
    pub account_no: String,
    /// `owner` or `authorised`.
    pub role: String,
    /// True: this customer is the party to the other's account; false: the other is a party to
    /// this customer's account.
    pub as_party: bool,
    /// The other customer's number, when in the reader's reach.
    pub other_cif_no: Option<String>,
    pub since: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierItem {
    pub tier: i64,
    pub tier_name: String,
    pub month: String,
    pub movement: String,
    pub on_watch: bool,
    pub rule_id: String,
    pub rule_version: i64,
    pub indicator: String,
    pub value_int: Option<i64>,
    /// The four bars in fen, best tier first.
    pub bars: Vec<i64>,
    pub as_of: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertItem {
    pub id: i64,
    pub cif_no: String,
    pub customer_name: String,
    pub kind: String,
    /// `open`, `handled`, `resolved`.
    pub status: String,
    pub tier: i64,
    pub raised_on: String,
    pub last_seen_on: String,
    /// As stored (`name=value`, money in fen), for systems that read it.
    pub evidence: String,
    pub thresholds: String,
    /// The evidence in a banker's words, in Chinese and in English, amounts in the unit the
    /// bank configured for its pages.
    pub explained_zh: Explanation,
    pub explained_en: Explanation,
    pub rule: String,
    pub assigned_to: Option<String>,
    pub handled_by: Option<String>,
    pub note: Option<String>,
}

/// An alert's evidence in words: what was found, the bars that applied, what to do.
#[derive(Debug, Serialize, ToSchema)]
pub struct Explanation {
    pub found: String,
    pub bars: String,
    pub action: String,
}

impl Explanation {
    fn of(app: &App, locale: crate::i18n::Locale, a: &StoredAlert) -> Self {
        let t = crate::i18n::Tr::new(app.i18n(), locale).in_unit(app.config().amount_unit);
        let e = crate::evidence::explain(&t, a.kind, &a.evidence, &a.thresholds);
        Self {
            found: e.text,
            bars: e.bars,
            action: e.action,
        }
    }
}

impl AlertItem {
    fn of(app: &App, a: StoredAlert) -> Self {
        Self {
            explained_zh: Explanation::of(app, crate::i18n::Locale::ZhCn, &a),
            explained_en: Explanation::of(app, crate::i18n::Locale::En, &a),
            id: a.id,
            cif_no: a.cif_no,
            customer_name: a.customer_name,
            kind: a.kind.code().to_owned(),
            status: a.status.to_string(),
            tier: a.tier,
            raised_on: a.raised_on.to_string(),
            last_seen_on: a.last_seen_on.to_string(),
            evidence: a.evidence,
            thresholds: a.thresholds,
            rule: format!("{} v{}", a.rule_id, a.rule_version),
            assigned_to: a.assigned_to,
            handled_by: a.handled_by,
            note: a.note,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Customer360 {
    pub cif_no: String,
    pub name: String,
    pub kind: String,
    pub line: String,
    pub org_unit: String,
    pub industry: Option<String>,
    pub since: String,
    /// Masked (`110***********1234`); the whole number only through the audited reveal page.
    pub id_number: Option<String>,
    /// Masked (`138****1234`).
    pub phone: Option<String>,
    pub risk_tolerance: Option<String>,
    /// `female` or `male`, for an individual whose sex the bank knows.
    pub sex: Option<String>,
    /// An individual's birthday as `MM-DD` (the year of birth is not given out).
    pub birthday: Option<String>,
    pub account_type: String,
    pub team: Vec<TeamItem>,
    /// The group's code, if the customer belongs to one.
    pub group: Option<String>,
    pub key_people: Vec<PersonItem>,
    pub holdings: Vec<HoldingItem>,
    pub account_parties: Vec<AccountPartyItem>,
    pub tier: Option<TierItem>,
    pub key_account: Option<bool>,
    pub retail_tier: Option<String>,
    pub value_score: Option<i64>,
    pub starred: Option<bool>,
    pub alerts: Vec<AlertItem>,
    /// The corporate archive (大客户信息档案), when one was kept.
    pub profile: Option<ProfileItem>,
}

/// A company's archive as stored: its fields, the version (the number of saves) and the last
/// save.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileItem {
    #[serde(flatten)]
    pub fields: crate::api_write::ProfileFields,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: String,
}

impl From<kam_store::StoredProfile> for ProfileItem {
    fn from(stored: kam_store::StoredProfile) -> Self {
        Self {
            fields: crate::api_write::ProfileFields::from(stored.profile),
            version: stored.version,
            updated_by: stored.updated_by,
            updated_at: stored.updated_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/customers/{cif}",
    params(("cif" = String, Path, description = "customer number")),
    responses((status = 200, body = Customer360), (status = 404, description = "missing or out of reach")),
    security(("bearer" = [])))]
pub(crate) async fn customer(
    State(app): State<App>,
    api: ApiUser,
    Path(cif): Path<String>,
) -> ApiResult<Customer360> {
    let store = &api.store;
    let view = store.customer_view(&cif).await?;
    let kam_store::CustomerView {
        customer,
        unit,
        team,
        key_people: people,
        holdings,
        group,
        alerts,
        tier,
        class,
        archive,
        account_parties,
        ..
    } = view;
    let profile = archive.map(ProfileItem::from);
    Ok(Json(Customer360 {
        profile,
        cif_no: customer.cif_no.to_string(),
        name: customer.name.clone(),
        kind: customer.kind.as_str().to_owned(),
        line: customer.line.as_str().to_owned(),
        org_unit: unit.name,
        industry: customer.industry.map(|i| i.as_str().to_owned()),
        since: customer.since.to_string(),
        id_number: customer.id_number.as_ref().map(|v| v.masked()),
        phone: customer.phone.as_ref().map(|v| v.masked()),
        risk_tolerance: customer.risk_tolerance.map(|r| r.as_str().to_owned()),
        sex: customer.sex.map(|s| s.as_str().to_owned()),
        birthday: customer.birth_date.map(|d| d.format("%m-%d").to_string()),
        account_type: customer.account_type.as_str().to_owned(),
        team: team
            .into_iter()
            .map(|m| TeamItem {
                assignment: m.assignment.0,
                username: m.username,
                display_name: m.display_name,
                role: m.role.as_str().to_owned(),
                since: m.since.to_string(),
            })
            .collect(),
        group: group.map(|g| g.code),
        key_people: people.into_iter().map(PersonItem::from).collect(),
        holdings: holdings
            .into_iter()
            .map(|(h, product)| HoldingItem {
                product_code: product.code,
                product_name: product.name,
                amount_minor: h.amount.minor(),
                currency: h.amount.currency().to_string(),
                as_of: h.as_of.to_string(),
            })
            .collect(),
        account_parties: account_parties
            .into_iter()
            .map(|p| AccountPartyItem {
                account_no: p.account_no,
                role: p.role.as_str().to_owned(),
                as_party: p.as_party,
                other_cif_no: p.other.map(|(cif, _)| cif),
                since: p.since.map(|d| d.to_string()),
            })
            .collect(),
        tier: tier.map(|t| TierItem {
            tier: t.tier,
            tier_name: t.tier_name,
            month: t.month,
            movement: t.movement.to_string(),
            on_watch: t.on_watch,
            rule_id: t.rule_id,
            rule_version: t.rule_version,
            indicator: t.indicator,
            value_int: t.value_int,
            bars: t.bars.0,
            as_of: t.as_of.to_string(),
        }),
        key_account: class.as_ref().map(|c| c.key_account),
        retail_tier: class
            .as_ref()
            .and_then(|c| c.retail_tier)
            .map(|t| t.code().to_owned()),
        value_score: class.as_ref().map(|c| c.value_score),
        starred: class.as_ref().map(|c| c.starred),
        alerts: alerts.into_iter().map(|a| AlertItem::of(&app, a)).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorItem {
    pub code: String,
    /// Days of the window; absent for an indicator of the date alone.
    pub window_days: Option<i64>,
    /// Money in fen, counts, days.
    pub value_int: Option<i64>,
    /// Ratios and shares.
    pub value_real: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Indicators {
    pub cif_no: String,
    pub as_of: Option<String>,
    pub values: Vec<IndicatorItem>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct IndicatorQuery {
    /// `YYYY-MM-DD`; the latest batch when absent.
    as_of: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/customers/{cif}/indicators",
    params(("cif" = String, Path, description = "customer number"), IndicatorQuery),
    responses((status = 200, body = Indicators), (status = 404, description = "missing, out of reach, or no batch for the date")),
    security(("bearer" = [])))]
pub(crate) async fn indicators(
    State(app): State<App>,
    api: ApiUser,
    Path(cif): Path<String>,
    Query(query): Query<IndicatorQuery>,
) -> ApiResult<Indicators> {
    let store = &api.store;
    // Visibility first: a customer out of reach is a 404 whatever the date.
    store.customer_by_cif(&cif).await?;
    let latest = store.latest_batch_date().await?;
    let wanted = match query.as_of.as_deref() {
        None | Some("") => latest,
        Some(text) => Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            WebError::BadRequest(format!(
                "as_of: 不是 YYYY-MM-DD 格式的日期 / not a YYYY-MM-DD date: {text}"
            ))
        })?),
    };
    let values = if wanted == latest {
        store.indicators_of(&cif).await?
    } else {
        let (Some(day), Some(history)) = (wanted, app.history()) else {
            return Err(WebError::NotFound.into());
        };
        history
            .indicators(day, cif.clone())
            .await
            .map_err(WebError::Internal)?
            .ok_or(WebError::NotFound)?
    };
    Ok(Json(Indicators {
        cif_no: cif,
        as_of: wanted.map(|d| d.to_string()),
        values: values
            .into_iter()
            .map(|v| IndicatorItem {
                code: v.code,
                window_days: (v.window_days > 0).then_some(v.window_days),
                value_int: v.value_int,
                value_real: v.value_real,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupMemberItem {
    pub cif_no: String,
    pub name: String,
    pub org_unit: String,
    pub parent_cif_no: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupItem {
    pub code: String,
    pub name: String,
    /// All members, in reach or not (the size of a group is not a secret, its members are).
    pub member_count: i64,
    pub members: Vec<GroupMemberItem>,
}

#[utoipa::path(get, path = "/api/v1/groups/{group}",
    params(("group" = String, Path, description = "group code")),
    responses((status = 200, body = GroupItem), (status = 404, description = "missing or no member in reach")),
    security(("bearer" = [])))]
pub(crate) async fn group(api: ApiUser, Path(code): Path<String>) -> ApiResult<GroupItem> {
    let view = api.store.group_by_code(&code).await?;
    let nodes = api.store.group_nodes(view.group.id).await?;
    let cif_of = |id| {
        nodes
            .iter()
            .find(|n| n.customer_id == id)
            .map(|n| n.cif_no.clone())
    };
    Ok(Json(GroupItem {
        code: view.group.code.clone(),
        name: view.group.name.clone(),
        member_count: view.member_count,
        members: nodes
            .iter()
            .map(|n| GroupMemberItem {
                cif_no: n.cif_no.clone(),
                name: n.name.clone(),
                org_unit: n.org_unit_name.clone(),
                parent_cif_no: n.parent_customer_id.and_then(cif_of),
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertList {
    pub total: i64,
    pub alerts: Vec<AlertItem>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AlertQuery {
    /// `open` (default), `handled`, `resolved` or `all`.
    status: Option<String>,
    kind: Option<String>,
    /// 1 … 1,000,000 (422 beyond).
    page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/alerts", params(AlertQuery),
    responses((status = 200, body = AlertList), (status = 422, description = "page out of range", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn alerts(
    State(app): State<App>,
    api: ApiUser,
    Query(query): Query<AlertQuery>,
) -> ApiResult<AlertList> {
    // An unknown status or kind is a 422 naming the field, not an empty list.
    let status = match query.status.as_deref().unwrap_or("open") {
        "all" => None,
        code => Some(AlertStatus::parse(code)?),
    };
    let kind = match query.kind.as_deref().unwrap_or("") {
        "" => None,
        code => Some(AlertKind::parse(code)?),
    };
    let offset = api_page_offset(query.page.unwrap_or(1), 100)?;
    let filter = AlertFilter {
        status,
        kind,
        assigned_to: None,
        limit: 100,
        offset,
    };
    let (alerts, total) = api.store.alert_inbox(&filter).await?;
    Ok(Json(AlertList {
        total,
        alerts: alerts.into_iter().map(|a| AlertItem::of(&app, a)).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierCount {
    pub tier: Option<i64>,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Portfolio {
    pub customers: usize,
    pub tiers: Vec<TierCount>,
    pub total_contribution_fen: i64,
    pub gini: Option<f64>,
    pub top20_share: Option<f64>,
    /// Customers per ABC class of contribution.
    pub abc: BTreeMap<String, usize>,
}

#[utoipa::path(get, path = "/api/v1/portfolio",
    responses((status = 200, body = Portfolio)), security(("bearer" = [])))]
pub(crate) async fn portfolio(api: ApiUser) -> ApiResult<Portfolio> {
    let rows = api.store.portfolio(None).await?;
    let mut tiers: BTreeMap<Option<i64>, i64> = BTreeMap::new();
    for row in &rows {
        *tiers.entry(row.tier).or_default() += 1;
    }
    let values: Vec<(String, i64)> = rows
        .iter()
        .filter_map(|r| Some((r.cif_no.clone(), r.value_total?)))
        .collect();
    let curve = pareto(&values);
    let mut abc = BTreeMap::new();
    for ranked in &curve.ranked {
        *abc.entry(ranked.class.as_str().to_owned()).or_default() += 1;
    }
    Ok(Json(Portfolio {
        customers: rows.len(),
        tiers: tiers
            .into_iter()
            .map(|(tier, count)| TierCount { tier, count })
            .collect(),
        total_contribution_fen: i64::try_from(curve.total).unwrap_or(i64::MAX),
        gini: curve.gini,
        top20_share: curve.top20_share,
        abc,
    }))
}

/// One business day of `kam nightly` as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct NightItem {
    /// YYYY-MM-DD.
    pub business_date: String,
    /// `done`, `quarantined` or `failed` (done again on the next run).
    pub outcome: String,
    pub files_imported: i64,
    pub files_already: i64,
    pub files_refused: i64,
    pub rows_rejected: i64,
    /// The diagnosis batch's time in milliseconds, when it ran.
    pub batch_millis: Option<i64>,
    /// What failed, or why the day was quarantined.
    pub reason: Option<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: String,
}

/// The night this server runs, as it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct NightNow {
    pub running: bool,
    /// `idle`, `starting`, `importing`, `batch` or `ended`.
    pub step: String,
    pub day: Option<String>,
    /// The file at work, its place (0-based) among the day's files, the rows and bytes read of
    /// its size.
    pub file: Option<String>,
    pub file_index: usize,
    pub files: usize,
    pub rows: u64,
    pub bytes: u64,
    pub size: u64,
    pub days_done: Vec<String>,
    pub quarantined: Option<String>,
    pub waiting: Option<String>,
    pub error: Option<String>,
}

/// The nights on record, newest first, and the night at work on this server.
#[derive(Debug, Serialize, ToSchema)]
pub struct Nights {
    pub nights: Vec<NightItem>,
    /// Absent when this server runs no nights.
    pub now: Option<NightNow>,
}

#[utoipa::path(get, path = "/api/v1/nights",
    responses((status = 200, body = Nights), (status = 404, description = "not an administrator")),
    security(("bearer" = [])))]
pub(crate) async fn nights(State(app): State<App>, api: ApiUser) -> ApiResult<Nights> {
    // Administration's record: any other role gets the 404 of a page that does not exist.
    if !api.store.user().is_some_and(|u| u.role.may_administer()) {
        return Err(WebError::NotFound.into());
    }
    let nights = api
        .store
        .nights(60)
        .await?
        .into_iter()
        .map(|n| NightItem {
            business_date: n.business_date.to_string(),
            outcome: n.outcome.as_str().to_owned(),
            files_imported: n.files_imported,
            files_already: n.files_already,
            files_refused: n.files_refused,
            rows_rejected: n.rows_rejected,
            batch_millis: n.batch_millis,
            reason: n.reason,
            started_at: n.started_at,
            finished_at: n.finished_at,
        })
        .collect();
    let now = app.desk().map(|desk| {
        let p = desk.progress();
        NightNow {
            running: p.running,
            step: p.step.as_str().to_owned(),
            day: p.day.map(|d| d.to_string()),
            file: p.file,
            file_index: p.file_index,
            files: p.files,
            rows: p.rows,
            bytes: p.bytes,
            size: p.size,
            days_done: p.days_done.iter().map(ToString::to_string).collect(),
            quarantined: p.quarantined.map(|d| d.to_string()),
            waiting: p.waiting.map(|d| d.to_string()),
            error: p.error,
        }
    });
    Ok(Json(Nights { nights, now }))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "kam API", version = "1", description = "Key-account data with the caller's visibility, and the writes a banker makes on the pages (archive, team, key people, board scores, alerts, activities, tasks), each checked and audited as on the page. Money in fen (integer minor units). Personal identifiers masked. Refusals are problem documents (RFC 9457) naming the field."),
    paths(customers, customer, indicators, group, alerts, portfolio,
        crate::api_write::save_profile, crate::api_write::appoint, crate::api_write::end_assignment,
        crate::api_write::save_scores, crate::api_write::assign_alert, crate::api_write::handle_alert,
        crate::api_write::add_person, crate::api_write::edit_person, crate::api_write::retire_person,
        crate::api_work::activities, crate::api_work::activity, crate::api_work::add_activity,
        crate::api_work::save_activity, crate::api_work::cancel_activity, crate::api_work::needs,
        crate::api_work::tasks, crate::api_work::add_task, crate::api_work::edit_task,
        crate::api_work::done_task, crate::api_work::reopen_task, crate::api_work::delete_task,
        crate::api_work::calendar, crate::api_work::report, crate::api_work::save_report,
        crate::api_opportunity::opportunities, crate::api_opportunity::funnel_stages,
        crate::api_opportunity::add_opportunity, crate::api_opportunity::opportunity,
        crate::api_opportunity::edit_opportunity, crate::api_opportunity::advance,
        crate::api_opportunity::delete_opportunity, crate::api_opportunity::add_obstacle,
        crate::api_opportunity::clear_obstacle, crate::api_opportunity::set_influence,
        crate::api_opportunity::remove_influence, nights),
    components(schemas(crate::error::Problem, crate::error::FieldProblem)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, generated from the handlers above.
pub(crate) async fn openapi() -> Response {
    match ApiDoc::openapi().to_pretty_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => WebError::Internal(e.to_string()).into_json(),
    }
}
