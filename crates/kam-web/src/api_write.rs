//! The JSON API's writes: a company's archive, a customer's team and key people, the board's
//! manual scores, and an alert's receiver and handling. Each is the store call the page makes, on the token's user
//! handle — reach (404), a role that may only look (403), a stale version (409) and a refused
//! value (422, naming the field) are the store's and kam-core's answers, audited there. No CSRF
//! token: a bearer token is not something a browser sends by itself.

use axum::{
    Json,
    extract::{FromRequest, Path, Request, State, rejection::JsonRejection},
    http::StatusCode,
};
use chrono::NaiveDate;
use kam_core::{
    ParseError,
    assignment::AssignmentRole,
    id::AssignmentId,
    money::{Currency, Money},
    profile::{CorporateProfile, CreditCode, Listing, MainBank, RevenueBand},
};
use kam_store::{ScoreEntry, Seen};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    App,
    api::{ApiError, ApiUser, ProfileItem},
    error::WebError,
};

/// A JSON body; one that does not read is a problem document naming what is wrong, like every
/// other refusal of the API (axum's own answer is plain text).
#[derive(Debug)]
pub(crate) struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => {
                let text = rejection.body_text();
                Err(ApiError::from(WebError::Unprocessable {
                    field: None,
                    zh: format!("请求正文不是所需的 JSON：{text}"),
                    en: format!("the body is not the JSON expected: {text}"),
                }))
            }
        }
    }
}

/// A bank and its share of the company's wallet.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BankShare {
    pub name: String,
    /// Percent, 0 … 100.
    pub share_percent: u8,
}

/// A company's archive (大客户信息档案), as the API reads and writes it: every field may be
/// absent (unknown); money in minor units with its currency (CNY when absent).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ProfileFields {
    pub legal_representative: Option<String>,
    pub registered_capital_minor: Option<i64>,
    pub registered_capital_currency: Option<String>,
    /// `YYYY-MM-DD`, not in the future.
    pub established_on: Option<String>,
    pub business_scope: Option<String>,
    /// 统一社会信用代码, 18 characters with its check character.
    pub credit_code: Option<String>,
    /// `not_listed`, `pre_listing`, `listed`.
    pub listing: Option<String>,
    pub employees: Option<i64>,
    /// `under_10m`, `10m_100m`, `100m_1b`, `1b_10b`, `over_10b`.
    pub revenue_band: Option<String>,
    /// Our share of the company's banking, percent.
    pub our_share_percent: Option<u8>,
    /// The other banks it works with, main first.
    #[serde(default)]
    pub main_banks: Vec<BankShare>,
}

impl From<CorporateProfile> for ProfileFields {
    fn from(p: CorporateProfile) -> Self {
        Self {
            legal_representative: p.legal_representative,
            registered_capital_minor: p.registered_capital.as_ref().map(Money::minor),
            registered_capital_currency: p.registered_capital.map(|m| m.currency().to_string()),
            established_on: p.established_on.map(|d| d.to_string()),
            business_scope: p.business_scope,
            credit_code: p.credit_code.map(|c| c.as_str().to_owned()),
            listing: p.listing.map(|l| l.as_str().to_owned()),
            employees: p.employees,
            revenue_band: p.revenue_band.map(|b| b.as_str().to_owned()),
            our_share_percent: p.our_share_percent,
            main_banks: p
                .main_banks
                .into_iter()
                .map(|b| BankShare {
                    name: b.name,
                    share_percent: b.share_percent,
                })
                .collect(),
        }
    }
}

/// An archive to save, with the version the client read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileInput {
    #[serde(flatten)]
    pub fields: ProfileFields,
    /// The version the client read (0 when there was none): a save since is a 409.
    pub version: i64,
}

/// Text that is blank is not given.
pub(crate) fn given(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

impl ProfileFields {
    /// The archive, each value read whole by kam-core; the first refusal names its field.
    fn profile(self) -> Result<CorporateProfile, ParseError> {
        let capital = match self.registered_capital_minor {
            Some(minor) => {
                let currency = match given(self.registered_capital_currency) {
                    Some(code) => Currency::parse(&code)?,
                    None => Currency::CNY,
                };
                Some(Money::from_minor(minor, currency))
            }
            None => None,
        };
        let established_on = given(self.established_on)
            .map(|text| {
                NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                    ParseError::new(
                        "established_on",
                        text,
                        "not a YYYY-MM-DD date",
                        "不是 YYYY-MM-DD 格式的日期",
                    )
                })
            })
            .transpose()?;
        Ok(CorporateProfile {
            legal_representative: given(self.legal_representative),
            registered_capital: capital,
            established_on,
            business_scope: given(self.business_scope),
            credit_code: given(self.credit_code)
                .map(|c| CreditCode::parse(&c))
                .transpose()?,
            listing: given(self.listing)
                .map(|c| Listing::parse(&c))
                .transpose()?,
            employees: self.employees,
            revenue_band: given(self.revenue_band)
                .map(|c| RevenueBand::parse(&c))
                .transpose()?,
            our_share_percent: self.our_share_percent,
            main_banks: self
                .main_banks
                .into_iter()
                .map(|b| MainBank {
                    name: b.name.trim().to_owned(),
                    share_percent: b.share_percent,
                })
                .collect(),
        })
    }
}

#[utoipa::path(put, path = "/api/v1/customers/{cif}/profile",
    params(("cif" = String, Path, description = "customer number of a company")),
    request_body = ProfileInput,
    responses((status = 200, body = ProfileItem, description = "saved; the new version"),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing or out of reach"),
        (status = 409, description = "saved by someone else since `version`"),
        (status = 422, description = "a value refused, naming its field", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn save_profile(
    api: ApiUser,
    Path(cif): Path<String>,
    Body(input): Body<ProfileInput>,
) -> Result<Json<ProfileItem>, ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    let seen = input.version;
    let profile = input.fields.profile()?;
    api.store
        .save_corporate_profile(customer.id, &profile, seen)
        .await?;
    let stored = api
        .store
        .corporate_profile(customer.id)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(Json(ProfileItem::from(stored)))
}

/// Whom to appoint to a customer's team, from today.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AppointInput {
    pub username: String,
    /// `lead` (hands over from the current lead, whose assignment ends today) or `member`.
    pub role: String,
}

/// The assignment made.
#[derive(Debug, Serialize, ToSchema)]
pub struct Appointed {
    pub assignment: i64,
    pub since: String,
}

#[utoipa::path(post, path = "/api/v1/customers/{cif}/team",
    params(("cif" = String, Path, description = "customer number")),
    request_body = AppointInput,
    responses((status = 201, body = Appointed),
        (status = 403, description = "not a manager of the customer, or an appointee out of reach"),
        (status = 404, description = "missing or out of reach"),
        (status = 422, description = "a value refused", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn appoint(
    State(app): State<App>,
    api: ApiUser,
    Path(cif): Path<String>,
    Body(input): Body<AppointInput>,
) -> Result<(StatusCode, Json<Appointed>), ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    let role = AssignmentRole::parse(input.role.trim())?;
    let username = input.username.trim();
    if username.is_empty() {
        return Err(ParseError::new(
            "username",
            "",
            "name the relationship manager",
            "请指定客户经理",
        )
        .into());
    }
    let today = app.today();
    let id = api
        .store
        .assign_rm(customer.id, username, role, today)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Appointed {
            assignment: id.0,
            since: today.to_string(),
        }),
    ))
}

#[utoipa::path(post, path = "/api/v1/customers/{cif}/team/{assignment}/end",
    params(("cif" = String, Path, description = "customer number"),
        ("assignment" = i64, Path, description = "the assignment, as the 360 lists it")),
    responses((status = 204, description = "ended today; the history stays"),
        (status = 403, description = "not a manager of the customer"),
        (status = 404, description = "missing or out of reach")),
    security(("bearer" = [])))]
pub(crate) async fn end_assignment(
    State(app): State<App>,
    api: ApiUser,
    Path((cif, assignment)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    api.store
        .end_assignment(customer.id, AssignmentId(assignment), app.today())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One manual score: the criterion, the score (1, 3, 5, 7 or 9), and when the score the client
/// read was entered (`null` when there was none) — a score entered since is a 409.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ScoreInput {
    pub criterion: String,
    pub score: u8,
    pub seen: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ScoresInput {
    pub scores: Vec<ScoreInput>,
}

#[utoipa::path(put, path = "/api/v1/board/{cif}/scores",
    params(("cif" = String, Path, description = "customer number")),
    request_body = ScoresInput,
    responses((status = 204, description = "all written, or none"),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing or out of reach"),
        (status = 409, description = "a score entered by someone else since"),
        (status = 422, description = "not a manual criterion, or off the scale", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn save_scores(
    State(app): State<App>,
    api: ApiUser,
    Path(cif): Path<String>,
    Body(input): Body<ScoresInput>,
) -> Result<StatusCode, ApiError> {
    // Out of reach is 404 whatever the body holds.
    api.store.customer_by_cif(&cif).await?;
    let rules = app.rules();
    let board = &rules.scoring;
    let mut entries = Vec::with_capacity(input.scores.len());
    for score in input.scores {
        // kam-core's rule: a manual criterion of the board, a score of its scale.
        board.check_manual(&score.criterion, score.score)?;
        let seen = match score.seen.filter(|s| !s.is_empty()) {
            Some(at) => Seen::At(at),
            None => Seen::Nothing,
        };
        entries.push(ScoreEntry::new(&score.criterion, score.score, seen));
    }
    if !entries.is_empty() {
        api.store
            .set_manual_scores(&cif, &board.id, &entries)
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// To whom an alert goes (`null`: back to nobody).
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignInput {
    pub username: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/assign",
    params(("id" = i64, Path, description = "alert number")),
    request_body = AssignInput,
    responses((status = 204, description = "given"),
        (status = 403, description = "the role may not give alerts, or not to that person"),
        (status = 404, description = "missing or out of reach")),
    security(("bearer" = [])))]
pub(crate) async fn assign_alert(
    api: ApiUser,
    Path(id): Path<i64>,
    Body(input): Body<AssignInput>,
) -> Result<StatusCode, ApiError> {
    let username = input
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    api.store.assign_alert(id, username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What was done about an alert (1 to 2,000 characters).
#[derive(Debug, Deserialize, ToSchema)]
pub struct HandleInput {
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/handle",
    params(("id" = i64, Path, description = "alert number")),
    request_body = HandleInput,
    responses((status = 204, description = "handled"),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing or out of reach"),
        (status = 422, description = "no note", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn handle_alert(
    api: ApiUser,
    Path(id): Path<i64>,
    Body(input): Body<HandleInput>,
) -> Result<StatusCode, ApiError> {
    api.store.handle_alert(id, &input.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A key person as a client sends it (to add, or the whole person to edit).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonInput {
    pub name: String,
    /// `decision_maker`, `finance_head`, `accountant`, `cashier`, `influencer`, `other`.
    pub role: String,
    pub title: Option<String>,
    /// A mainland mobile number. On an edit, the masked number as read keeps the stored one.
    pub phone: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthday: Option<String>,
    /// 1 … 5 each.
    pub closeness: i64,
    pub trust: i64,
    pub favour: i64,
    /// `build`, `deepen`, `extend`, `leverage`.
    pub stage: String,
    /// A colleague's user name.
    pub owner: Option<String>,
    pub notes: Option<String>,
    /// On an edit, the version read: a save since is a 409.
    pub version: Option<i64>,
}

impl PersonInput {
    /// The person, each value read whole by kam-core; `kept` is the stored phone, kept when the
    /// client sends back its masked form.
    fn person(
        self,
        kept: Option<&kam_core::customer::Phone>,
    ) -> Result<kam_core::contact::NewKeyPerson, ParseError> {
        use kam_core::contact::{ContactRole, NewKeyPerson, PersonDetails, RelationshipStage};
        let phone =
            kam_core::customer::Phone::parse_keeping(self.phone.as_deref().unwrap_or(""), kept)?;
        let birthday = given(self.birthday)
            .map(|text| {
                NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                    ParseError::new(
                        "birthday",
                        text,
                        "not a YYYY-MM-DD date",
                        "不是 YYYY-MM-DD 格式的日期",
                    )
                })
            })
            .transpose()?;
        Ok(NewKeyPerson::parse(
            &self.name,
            ContactRole::parse(self.role.trim())?,
            given(self.title).as_deref(),
            [self.closeness, self.trust, self.favour],
            RelationshipStage::parse(self.stage.trim())?,
        )?
        .with_details(PersonDetails {
            phone,
            birthday,
            owner: given(self.owner),
            notes: given(self.notes),
        }))
    }
}

/// The person as stored after a write.
async fn person_item(
    api: &ApiUser,
    customer: kam_core::id::CustomerId,
    id: kam_core::id::KeyPersonId,
) -> Result<Json<crate::api::PersonItem>, ApiError> {
    let person = api
        .store
        .key_people(customer)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(WebError::NotFound)?;
    Ok(Json(crate::api::PersonItem::from(person)))
}

#[utoipa::path(post, path = "/api/v1/customers/{cif}/people",
    params(("cif" = String, Path, description = "customer number")),
    request_body = PersonInput,
    responses((status = 201, body = crate::api::PersonItem),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing or out of reach"),
        (status = 409, description = "a key person of this name and role is there already"),
        (status = 422, description = "a value refused, naming its field", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn add_person(
    api: ApiUser,
    Path(cif): Path<String>,
    Body(input): Body<PersonInput>,
) -> Result<(StatusCode, Json<crate::api::PersonItem>), ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    let person = input.person(None)?;
    let id = api.store.add_key_person(customer.id, &person).await?;
    Ok((
        StatusCode::CREATED,
        person_item(&api, customer.id, id).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/customers/{cif}/people/{person}",
    params(("cif" = String, Path, description = "customer number"),
        ("person" = i64, Path, description = "the key person's id")),
    request_body = PersonInput,
    responses((status = 200, body = crate::api::PersonItem),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing, retired or out of reach"),
        (status = 409, description = "saved by someone else since `version`"),
        (status = 422, description = "a value refused, naming its field", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn edit_person(
    api: ApiUser,
    Path((cif, person)): Path<(String, i64)>,
    Body(input): Body<PersonInput>,
) -> Result<Json<crate::api::PersonItem>, ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    let id = kam_core::id::KeyPersonId(person);
    let stored = api
        .store
        .key_people(customer.id)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(WebError::NotFound)?;
    let seen = input.version.unwrap_or(-1);
    let person = input.person(stored.details.phone.as_ref())?;
    api.store
        .edit_key_person(customer.id, id, &person, seen)
        .await?;
    person_item(&api, customer.id, id).await
}

/// Why a key person is retired, and the version read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RetireInput {
    /// 2 to 200 characters.
    pub reason: String,
    pub version: i64,
}

#[utoipa::path(post, path = "/api/v1/customers/{cif}/people/{person}/retire",
    params(("cif" = String, Path, description = "customer number"),
        ("person" = i64, Path, description = "the key person's id")),
    request_body = RetireInput,
    responses((status = 204, description = "retired: kept with the day and reason, audited"),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing, retired or out of reach"),
        (status = 409, description = "saved by someone else since `version`"),
        (status = 422, description = "no reason", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn retire_person(
    api: ApiUser,
    Path((cif, person)): Path<(String, i64)>,
    Body(input): Body<RetireInput>,
) -> Result<StatusCode, ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    api.store
        .retire_key_person(
            customer.id,
            kam_core::id::KeyPersonId(person),
            &input.reason,
            input.version,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
