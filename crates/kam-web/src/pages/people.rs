//! A customer's key people (关键人, 4大金刚) kept from the 360: added, edited and retired on their
//! own form by whoever may change the customer. Validated on the server (kam-core), a refused
//! field named with what was entered kept, a version check so two people never silently
//! overwrite each other, retirement a soft delete with a reason — all audited by the store.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    response::Response,
};
use chrono::NaiveDate;
use kam_core::{
    contact::{ContactRole, KeyPerson, NewKeyPerson, PersonDetails, RelationshipStage},
    customer::Phone,
    id::KeyPersonId,
};
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    i18n::Tr,
    pages::{Choice, Chrome, FieldError, back_to_360, code_choices, render_form, writable},
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/customers/{cif}/people/new", new_form)
        .post("/customers/{cif}/people", add)
        .get("/customers/{cif}/people/{person}", edit_form)
        .post("/customers/{cif}/people/{person}", save)
        .post("/customers/{cif}/people/{person}/retire", retire)
}

/// A key person's fields as the form carries them (text, so a refused value is shown as typed).
#[derive(Debug, Default, Deserialize, Clone)]
pub(crate) struct PersonForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    birthday: String,
    #[serde(default)]
    closeness: String,
    #[serde(default)]
    trust: String,
    #[serde(default)]
    favour: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    notes: String,
    /// The version the form was opened at (empty for a new person).
    #[serde(default)]
    version: String,
}

impl PersonForm {
    fn of(person: &KeyPerson) -> Self {
        let d = &person.details;
        Self {
            name: person.name.clone(),
            role: person.role.as_str().to_owned(),
            title: person.title.clone().unwrap_or_default(),
            // Masked here too: the form is not a reveal. Sent back unchanged, the stored number
            // stays (`save`); a new number replaces it; an empty field removes it.
            phone: d.phone.as_ref().map(Phone::masked).unwrap_or_default(),
            birthday: d.birthday.map(|d| d.to_string()).unwrap_or_default(),
            closeness: person.closeness.get().to_string(),
            trust: person.trust.get().to_string(),
            favour: person.favour.get().to_string(),
            stage: person.stage.as_str().to_owned(),
            owner: d.owner.clone().unwrap_or_default(),
            notes: d.notes.clone().unwrap_or_default(),
            version: person.version.to_string(),
        }
    }

    /// The person the form describes, or the first field it gets wrong; `kept` is the stored
    /// mobile, kept when the form sends back its masked form.
    fn person(
        &self,
        t: &Tr<'_>,
        today: NaiveDate,
        kept: Option<&Phone>,
    ) -> Result<NewKeyPerson, FieldError> {
        let refused =
            |field: &'static str, e: kam_core::ParseError| FieldError::new(field, t.reason(&e));
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let rating = |field: &'static str, s: &str| -> Result<i64, FieldError> {
            s.trim()
                .parse()
                .map_err(|_| FieldError::new(field, t.get("person-rating")))
        };
        let role = ContactRole::parse(&self.role).map_err(|e| refused("role", e))?;
        let stage = RelationshipStage::parse(&self.stage).map_err(|e| refused("stage", e))?;
        let ratings = [
            rating("closeness", &self.closeness)?,
            rating("trust", &self.trust)?,
            rating("favour", &self.favour)?,
        ];
        let person = NewKeyPerson::parse(
            &self.name,
            role,
            text(&self.title).as_deref(),
            ratings,
            stage,
        )
        .map_err(|e| {
            let field = match e.field {
                "title" => "title",
                "closeness" => "closeness",
                "trust" => "trust",
                "favour" => "favour",
                _ => "name",
            };
            refused(field, e)
        })?;
        let details = PersonDetails {
            phone: Phone::parse_keeping(&self.phone, kept).map_err(|e| refused("phone", e))?,
            birthday: match self.birthday.trim() {
                "" => None,
                d => Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    FieldError::new(
                        "birthday",
                        t.with("profile-not-a-date", &[("value", d.into())]),
                    )
                })?),
            },
            owner: text(&self.owner),
            notes: text(&self.notes),
        };
        details.check(today).map_err(|e| {
            let field = match e.field {
                "birthday" => "birthday",
                "owner" => "owner",
                _ => "notes",
            };
            refused(field, e)
        })?;
        Ok(person.with_details(details))
    }
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage<'a> {
    c: Chrome<'a>,
    cif_no: String,
    customer: String,
    /// `None` for a new person.
    person: Option<i64>,
    form: PersonForm,
    roles: Vec<Choice>,
    stages: Vec<Choice>,
    ratings: Vec<u8>,
    colleagues: Vec<Choice>,
    error: Option<FieldError>,
}

impl PersonPage<'_> {
    fn error_on(&self, field: &str) -> Option<String> {
        FieldError::on(&self.error, field)
    }

    fn action(&self) -> String {
        match self.person {
            Some(id) => format!("/customers/{}/people/{id}", self.cif_no),
            None => format!("/customers/{}/people", self.cif_no),
        }
    }
}

async fn page(
    app: &App,
    signed: &Signed,
    cif: &str,
    person: Option<i64>,
    form: PersonForm,
    error: Option<FieldError>,
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let customer = signed.store.customer_by_cif(cif).await?;
    let title = t.get(if person.is_some() {
        "person-title-edit"
    } else {
        "person-title-new"
    });
    let colleagues = signed
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| Choice {
            value: u.username.to_string(),
            label: u.display_name,
        })
        .collect();
    let page = PersonPage {
        c: Chrome::new(app, signed, "customers", title),
        cif_no: customer.cif_no.to_string(),
        customer: customer.name.clone(),
        person,
        form,
        roles: code_choices(&t, "contact-role", ContactRole::CODES),
        stages: code_choices(&t, "stage", RelationshipStage::CODES),
        ratings: vec![1, 2, 3, 4, 5],
        colleagues,
        error,
    };
    let refused = page.error.clone();
    render_form(&page, refused.as_ref())
}

/// A current key person of the customer (404 otherwise).
async fn current(
    signed: &Signed,
    customer: kam_core::id::CustomerId,
    person: i64,
) -> Result<KeyPerson, WebError> {
    signed
        .store
        .key_people(customer)
        .await?
        .into_iter()
        .find(|p| p.id == KeyPersonId(person))
        .ok_or(WebError::NotFound)
}

pub(crate) async fn new_form(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
) -> Result<Response, WebError> {
    writable(&signed, &cif).await?;
    let form = PersonForm {
        role: ContactRole::DecisionMaker.as_str().to_owned(),
        stage: RelationshipStage::Build.as_str().to_owned(),
        closeness: "3".into(),
        trust: "3".into(),
        favour: "3".into(),
        ..PersonForm::default()
    };
    page(&app, &signed, &cif, None, form, None).await
}

pub(crate) async fn edit_form(
    State(app): State<App>,
    signed: Signed,
    Path((cif, person)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    let customer = writable(&signed, &cif).await?;
    let stored = current(&signed, customer, person).await?;
    page(
        &app,
        &signed,
        &cif,
        Some(person),
        PersonForm::of(&stored),
        None,
    )
    .await
}

/// A refusal of the store that names a field of the form: shown next to it, values kept.
fn form_error(t: &Tr<'_>, error: kam_store::Error) -> Result<FieldError, WebError> {
    match error {
        kam_store::Error::Invalid(e) => {
            let field = match e.field {
                "owner" => "owner",
                "birthday" => "birthday",
                _ => "notes",
            };
            Ok(FieldError::new(field, t.reason(&e)))
        }
        // The same name and role twice at one customer.
        kam_store::Error::Conflict { .. } => Ok(FieldError::new("name", t.get("person-exists"))),
        other => Err(other.into()),
    }
}

pub(crate) async fn add(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
    Form(form): Form<PersonForm>,
) -> Result<Response, WebError> {
    let customer = writable(&signed, &cif).await?;
    let t = signed.tr(&app);
    let person = match form.person(&t, app.today(), None) {
        Ok(person) => person,
        Err(error) => return page(&app, &signed, &cif, None, form, Some(error)).await,
    };
    if let Err(e) = signed.store.add_key_person(customer, &person).await {
        let error = form_error(&t, e)?;
        return page(&app, &signed, &cif, None, form, Some(error)).await;
    }
    let note = t.with("person-added", &[("name", person.name.as_str().into())]);
    back_to_people(&app, &signed, &cif, note).await
}

pub(crate) async fn save(
    State(app): State<App>,
    signed: Signed,
    Path((cif, id)): Path<(String, i64)>,
    Form(form): Form<PersonForm>,
) -> Result<Response, WebError> {
    let customer = writable(&signed, &cif).await?;
    let t = signed.tr(&app);
    let stored = current(&signed, customer, id).await?;
    let person = match form.person(&t, app.today(), stored.details.phone.as_ref()) {
        Ok(person) => person,
        Err(error) => return page(&app, &signed, &cif, Some(id), form, Some(error)).await,
    };
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    match signed
        .store
        .edit_key_person(customer, KeyPersonId(id), &person, seen)
        .await
    {
        Ok(_) => {}
        // Someone saved since the form was opened: the page says so (409), nothing written.
        Err(kam_store::Error::Conflict { .. }) => {
            let now = current(&signed, customer, id).await?;
            if now.version != seen {
                return Err(WebError::Conflict);
            }
            let error = FieldError::new("name", t.get("person-exists"));
            return page(&app, &signed, &cif, Some(id), form, Some(error)).await;
        }
        Err(e) => {
            let error = form_error(&t, e)?;
            return page(&app, &signed, &cif, Some(id), form, Some(error)).await;
        }
    }
    let note = t.with("person-saved", &[("name", person.name.as_str().into())]);
    back_to_people(&app, &signed, &cif, note).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct RetireForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: String,
}

pub(crate) async fn retire(
    State(app): State<App>,
    signed: Signed,
    Path((cif, id)): Path<(String, i64)>,
    Form(form): Form<RetireForm>,
) -> Result<Response, WebError> {
    let customer = writable(&signed, &cif).await?;
    let t = signed.tr(&app);
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    let stored = current(&signed, customer, id).await?;
    // The store checks the reason and the version (409). A refused reason is shown on the
    // person's page next to the field, the person's values as stored.
    match signed
        .store
        .retire_key_person(customer, KeyPersonId(id), &form.reason, seen)
        .await
    {
        Ok(()) => {}
        Err(kam_store::Error::Invalid(e)) if e.field == "reason" => {
            let error = FieldError::new("reason", t.reason(&e));
            let form = PersonForm::of(&stored);
            return page(&app, &signed, &cif, Some(id), form, Some(error)).await;
        }
        Err(other) => return Err(other.into()),
    }
    let note = t.with("person-retired", &[("name", stored.name.as_str().into())]);
    back_to_people(&app, &signed, &cif, note).await
}

async fn back_to_people(
    app: &App,
    signed: &Signed,
    cif: &str,
    note: String,
) -> Result<Response, WebError> {
    back_to_360(app, signed, cif, "people", note).await
}
