//! Administration, for administrators only (any other role gets the same 404 as a page that
//! does not exist): users (disable, enable, reset password — shown once), the org tree, import
//! batches with their reconciliation figures and their rejects as Excel, and batch runs. Administrators see no customer data.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    response::Response,
};
use kam_core::password::{hash_password, one_time_password};
use kam_store::{BatchRun, Flash, ImportBatch};
use rand::RngCore;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    excel::{self, Cell, SheetTitle, TitleLabels},
    format,
    i18n::Tr,
    pages::{Chrome, render, role_label, xlsx_download},
    session::{Signed, redirect_with},
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/admin", admin)
        .get("/admin/users/new", new_user_form)
        .post("/admin/users", create_user)
        .get("/admin/users/{user}/edit", edit_user_form)
        .post("/admin/users/{user}/edit", edit_user)
        .post("/admin/users/{user}", user_action)
        .get("/admin/imports/{batch}/rejects.xlsx", import_rejects)
}

#[derive(Debug)]
pub(crate) struct UserRow {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub unit: String,
    pub line: String,
    pub disabled: bool,
}

#[derive(Debug)]
pub(crate) struct UnitRow {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub depth: usize,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage<'a> {
    c: Chrome<'a>,
    users: Vec<UserRow>,
    units: Vec<UnitRow>,
    imports: Vec<ImportRow>,
    runs: Vec<BatchRun>,
    message: Option<String>,
    password: Option<String>,
    /// The user search, and how many users it found of how many.
    q: String,
    user_count: String,
}

/// One import batch as the administrator reads it: kind and state in words, counts grouped,
/// the amount in the money unit, times in the bank's zone.
#[derive(Debug)]
struct ImportRow {
    batch_id: String,
    kind: String,
    business_date: String,
    file_name: String,
    state: String,
    rows_read: String,
    loaded: String,
    rejected: String,
    duplicates: String,
    held: String,
    /// Whether the download of rejects and duplicates is offered.
    has_rejects: bool,
    amount: String,
    finished_at: String,
}

impl ImportRow {
    fn new(t: &Tr<'_>, zone: kam_core::clock::BankZone, b: &ImportBatch) -> Self {
        Self {
            batch_id: b.batch_id.clone(),
            kind: t.code("extract-kind", &b.kind),
            business_date: b.business_date.to_string(),
            file_name: b.file_name.clone(),
            state: t.code("batch-state", b.state.as_str()),
            rows_read: format::count(b.rows_read),
            loaded: format::count(b.loaded),
            rejected: format::count(b.rejected),
            duplicates: format::count(b.duplicates),
            held: format::count(b.held),
            has_rejects: b.rejected > 0 || b.duplicates > 0,
            amount: t.amount(b.amount_total_minor),
            finished_at: b
                .finished_at
                .as_deref()
                .map(|at| format::bank_time(zone, at))
                .unwrap_or_default(),
        }
    }
}

/// Administration's pages: any other role gets the 404 of a page that does not exist.
pub(crate) fn admin_only(signed: &Signed) -> Result<(), WebError> {
    if signed.user().role.may_administer() {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

async fn page(
    app: &App,
    signed: &Signed,
    q: &str,
    message: Option<String>,
    password: Option<String>,
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let store = &signed.store;
    let (users, units, imports, runs) = tokio::try_join!(
        store.list_users(),
        store.list_org_units(),
        store.import_batches(),
        store.batch_runs(),
    )?;
    let unit_name = |id| {
        units
            .iter()
            .find(|u| u.id == id)
            .map_or_else(String::new, |u| u.name.clone())
    };
    let all_users = users.len();
    // The search: any part of the login, the name, the unit's name or code, or the role.
    let needle = q.trim().to_lowercase();
    let users: Vec<UserRow> = users
        .iter()
        .filter(|u| {
            needle.is_empty()
                || u.username.as_str().to_lowercase().contains(&needle)
                || u.display_name.to_lowercase().contains(&needle)
                || unit_name(u.org_unit_id).to_lowercase().contains(&needle)
                || units
                    .iter()
                    .any(|o| o.id == u.org_unit_id && o.code.to_lowercase().contains(&needle))
                || role_label(&t, u.role).to_lowercase().contains(&needle)
        })
        .map(|u| UserRow {
            username: u.username.to_string(),
            display_name: u.display_name.clone(),
            role: role_label(&t, u.role),
            unit: unit_name(u.org_unit_id),
            line: u
                .line
                .map_or_else(|| "—".into(), |l| t.code("line", l.as_str())),
            disabled: u.disabled,
        })
        .collect();
    // Depth-first order is the order of the materialised paths.
    let mut tree: Vec<_> = units.iter().collect();
    tree.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
    let unit_rows = tree
        .into_iter()
        .map(|u| UnitRow {
            code: u.code.clone(),
            name: u.name.clone(),
            kind: t.code("org-kind", u.kind.as_str()),
            depth: u.path.as_str().matches('/').count().saturating_sub(2),
        })
        .collect();
    let user_count = t.with(
        "admin-user-count",
        &[
            ("shown", format::count(users.len() as i64).into()),
            ("all", format::count(all_users as i64).into()),
        ],
    );
    render(&AdminPage {
        c: Chrome::new(app, signed, "admin", t.get("admin-title")),
        users,
        q: q.to_owned(),
        user_count,
        units: unit_rows,
        imports: imports
            .iter()
            .rev()
            .take(200)
            .map(|b| ImportRow::new(&t, app.config().zone, b))
            .collect(),
        runs: runs.into_iter().take(50).collect(),
        message,
        password,
    })
}

/// A batch's stored rejects as an Excel workbook (values of personal identifiers were masked by
/// the reader).
pub(crate) async fn import_rejects(
    State(app): State<App>,
    signed: Signed,
    Path(batch): Path<String>,
) -> Result<Response, WebError> {
    admin_only(&signed)?;
    let rejects = signed.store.import_rejects(&batch).await?;
    let bytes = rejects_workbook(&app, &signed, "rejects-title", &batch, &rejects).await?;
    Ok(xlsx_download(&format!("kam-rejects-{batch}.xlsx"), bytes))
}

/// Rejects as a workbook of `scope` (a batch, or a business day's batches) under the title
/// message `title`, recorded in the audit trail like every export.
pub(crate) async fn rejects_workbook(
    app: &App,
    signed: &Signed,
    title: &str,
    scope: &str,
    rejects: &[kam_store::BatchReject],
) -> Result<Vec<u8>, WebError> {
    let t = signed.tr(app);
    signed
        .store
        .record_event(
            "export",
            "import_rejects",
            scope,
            &format!("rows={}", rejects.len()),
        )
        .await?;
    let heads: Vec<String> = [
        "rejects-file",
        "rejects-line",
        "rejects-column",
        "rejects-field",
        "rejects-value",
        "rejects-severity",
        "rejects-code",
        "rejects-message",
    ]
    .iter()
    .map(|key| t.get(key))
    .collect();
    let rows: Vec<Vec<Cell>> = rejects
        .iter()
        .map(|r| {
            vec![
                Cell::Text(r.file_name.clone()),
                Cell::Count(Some(r.line)),
                Cell::Text(r.column.clone()),
                Cell::Text(r.field.clone()),
                Cell::Text(r.value.clone()),
                Cell::Text(t.code("severity", &r.severity)),
                Cell::Text(r.reason_code.clone()),
                Cell::Text(if t.is_zh() {
                    r.message_zh.clone()
                } else {
                    r.message_en.clone()
                }),
            ]
        })
        .collect();
    let title = SheetTitle {
        sheet: t.get("rejects-sheet"),
        title: t.with(title, &[("scope", scope.into())]),
        data_date: String::new(),
        scope: scope.to_owned(),
        exported_by: signed.user().display_name.clone(),
        exported_at: format::bank_time(app.config().zone, &app.now().to_rfc3339()),
    };
    excel::workbook(&title, &TitleLabels::new(&t), t.unit, &heads, &rows)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AdminQuery {
    #[serde(default)]
    q: String,
}

pub(crate) async fn admin(
    State(app): State<App>,
    signed: Signed,
    axum::extract::Query(query): axum::extract::Query<AdminQuery>,
) -> Result<Response, WebError> {
    admin_only(&signed)?;
    // What an action left for this page (post/redirect/get): its note, a one-time password once.
    let (message, password) = match &signed.session.flash {
        Some(flash) => (
            Some(flash.note.clone()),
            flash
                .secret
                .clone()
                .filter(|_| flash.field.as_deref() == Some("password")),
        ),
        None => (None, None),
    };
    page(&app, &signed, &query.q, message, password).await
}

/// The add/edit user form: what was entered (kept when refused), the choices, the refusal.
#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserFormPage<'a> {
    c: Chrome<'a>,
    /// `None` to add a user; the login being edited otherwise.
    editing: Option<String>,
    username: String,
    display_name: String,
    role: String,
    unit: String,
    line: String,
    /// The user as the form was opened (the version check of an edit).
    seen: String,
    roles: Vec<crate::pages::Choice>,
    units: Vec<crate::pages::Choice>,
    lines: Vec<crate::pages::Choice>,
    error: Option<crate::pages::FieldError>,
}

impl UserFormPage<'_> {
    fn error_on(&self, field: &str) -> Option<String> {
        crate::pages::FieldError::on(&self.error, field)
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    line: String,
    #[serde(default)]
    seen: String,
}

/// The user as a short text the form carries back: if it differs when the edit is saved,
/// someone changed the user meanwhile.
fn fingerprint(user: &kam_core::user::User) -> String {
    format!(
        "{}|{}|{}|{}|{}",
        user.display_name,
        user.role,
        user.org_unit_id.0,
        user.line.map_or("-", kam_core::org::Line::as_str),
        user.disabled
    )
}

async fn user_form(
    app: &App,
    signed: &Signed,
    editing: Option<String>,
    form: UserForm,
    error: Option<crate::pages::FieldError>,
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let units = signed.store.list_org_units().await?;
    let mut tree: Vec<_> = units.iter().collect();
    tree.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
    let title = if editing.is_some() {
        t.get("admin-edit-user")
    } else {
        t.get("admin-add-user")
    };
    let page = UserFormPage {
        c: Chrome::new(app, signed, "admin", title),
        editing,
        username: form.username,
        display_name: form.display_name,
        role: form.role,
        unit: form.unit,
        line: form.line,
        seen: form.seen,
        roles: kam_core::user::Role::ALL
            .iter()
            .map(|r| crate::pages::Choice {
                value: r.as_str().to_owned(),
                label: role_label(&t, *r),
            })
            .collect(),
        units: tree
            .into_iter()
            .map(|u| crate::pages::Choice {
                value: u.code.clone(),
                label: format!(
                    "{}{} {}",
                    "\u{3000}".repeat(u.path.depth().saturating_sub(1)),
                    u.code,
                    u.name
                ),
            })
            .collect(),
        lines: kam_core::org::Line::ALL
            .iter()
            .map(|l| crate::pages::Choice {
                value: l.as_str().to_owned(),
                label: t.code("line", l.as_str()),
            })
            .collect(),
        error,
    };
    let refused = page.error.clone();
    crate::pages::render_form(&page, refused.as_ref())
}

pub(crate) async fn new_user_form(
    State(app): State<App>,
    signed: Signed,
) -> Result<Response, WebError> {
    admin_only(&signed)?;
    user_form(&app, &signed, None, UserForm::default(), None).await
}

pub(crate) async fn edit_user_form(
    State(app): State<App>,
    signed: Signed,
    Path(username): Path<String>,
) -> Result<Response, WebError> {
    admin_only(&signed)?;
    let users = signed.store.list_users().await?;
    let user = users
        .iter()
        .find(|u| u.username.as_str() == username)
        .ok_or(WebError::NotFound)?;
    let units = signed.store.list_org_units().await?;
    let form = UserForm {
        username: user.username.to_string(),
        display_name: user.display_name.clone(),
        role: user.role.as_str().to_owned(),
        unit: units
            .iter()
            .find(|u| u.id == user.org_unit_id)
            .map(|u| u.code.clone())
            .unwrap_or_default(),
        line: user.line.map(|l| l.as_str().to_owned()).unwrap_or_default(),
        seen: fingerprint(user),
    };
    user_form(&app, &signed, Some(username), form, None).await
}

/// The form's values as kam-core reads them; a refusal names its field.
fn parse_user(
    t: &Tr<'_>,
    form: &UserForm,
) -> Result<kam_core::user::NewUser, crate::pages::FieldError> {
    let field_error = |e: kam_core::ParseError| {
        let field: &'static str = match e.field {
            "username" => "username",
            "display_name" => "display_name",
            "line" => "line",
            "org_unit" => "unit",
            _ => "role",
        };
        crate::pages::FieldError::new(field, t.reason(&e))
    };
    let role = kam_core::user::Role::parse(&form.role).map_err(field_error)?;
    let line = match form.line.trim() {
        "" => None,
        code => Some(kam_core::org::Line::parse(code).map_err(field_error)?),
    };
    kam_core::user::NewUser::parse(&form.username, &form.display_name, role, &form.unit, line)
        .map_err(field_error)
}

/// A store's refusal of a user form as the field to blame, or the error to answer with.
fn user_refusal(
    t: &Tr<'_>,
    refused: kam_store::Error,
) -> Result<crate::pages::FieldError, WebError> {
    use crate::pages::FieldError;
    match refused {
        kam_store::Error::Conflict { entity: "user", .. } => {
            Ok(FieldError::new("username", t.get("admin-username-taken")))
        }
        // The role does not fit the unit's level (kam-core's rule).
        kam_store::Error::Invalid(e) => Ok(FieldError::new("unit", t.reason(&e))),
        kam_store::Error::NotFound {
            entity: "org_unit", ..
        } => Ok(FieldError::new("unit", t.get("admin-unknown-unit"))),
        other => Err(other.into()),
    }
}

/// A one-time password and its hash, off the async threads (hashing is deliberately slow).
async fn one_time(app: &App) -> Result<(String, String), WebError> {
    let mut random = [0u8; 12];
    rand::rng().fill_bytes(&mut random);
    let password = one_time_password(random);
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let cost = app.config().hash_cost;
    let secret = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&secret, &salt, cost))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((password, hash))
}

/// Saves a user's name, role, unit and line; a form opened before someone else changed the
/// user is refused (409) rather than overwriting their change.
pub(crate) async fn edit_user(
    State(app): State<App>,
    signed: Signed,
    Path(username): Path<String>,
    Form(mut form): Form<UserForm>,
) -> Result<Response, WebError> {
    admin_only(&signed)?;
    let t = signed.tr(&app);
    // The login is not changed here: the audit trail refers to it.
    form.username = username.clone();
    let users = signed.store.list_users().await?;
    let seen = users
        .iter()
        .find(|u| u.username.as_str() == username)
        .ok_or(WebError::NotFound)?;
    if fingerprint(seen) != form.seen {
        return Err(WebError::Conflict);
    }
    let change = match parse_user(&t, &form) {
        Ok(change) => change,
        Err(error) => return user_form(&app, &signed, Some(username), form, Some(error)).await,
    };
    if let Err(refused) = signed.store.edit_user(seen, &change).await {
        let error = user_refusal(&t, refused)?;
        return user_form(&app, &signed, Some(username), form, Some(error)).await;
    }
    let flash = Flash {
        note: t.with("admin-user-saved", &[("user", username.as_str().into())]),
        ..Flash::default()
    };
    redirect_with(&app, &signed, "/admin", flash).await
}

/// Adds a user; the first password is generated and shown once on the next page, for the
/// administrator to hand over (the user changes it on their personal page).
pub(crate) async fn create_user(
    State(app): State<App>,
    signed: Signed,
    Form(form): Form<UserForm>,
) -> Result<Response, WebError> {
    admin_only(&signed)?;
    let t = signed.tr(&app);
    let new = match parse_user(&t, &form) {
        Ok(new) => new,
        Err(error) => return user_form(&app, &signed, None, form, Some(error)).await,
    };
    let (password, hash) = one_time(&app).await?;
    if let Err(refused) = signed.store.add_user(&new, &hash).await {
        let error = user_refusal(&t, refused)?;
        return user_form(&app, &signed, None, form, Some(error)).await;
    }
    let flash = Flash {
        note: t.with(
            "admin-user-added",
            &[("user", new.username.as_str().into())],
        ),
        secret: Some(password),
        field: Some("password".into()),
    };
    redirect_with(&app, &signed, "/admin", flash).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct UserAction {
    action: String,
}

/// Disables, enables or resets the password of a user (never one's own account here).
pub(crate) async fn user_action(
    State(app): State<App>,
    signed: Signed,
    Path(username): Path<String>,
    Form(form): Form<UserAction>,
) -> Result<Response, WebError> {
    admin_only(&signed)?;
    let t = signed.tr(&app);
    if username == signed.user().username.as_str() {
        return Err(WebError::BadRequest(t.get("admin-not-yourself")));
    }
    let store = &signed.store;
    match form.action.as_str() {
        "disable" | "enable" => {
            store
                .set_user_disabled(&username, form.action == "disable")
                .await?;
            let flash = Flash {
                note: t.get("admin-done"),
                ..Flash::default()
            };
            redirect_with(&app, &signed, "/admin", flash).await
        }
        "reset" => {
            let (password, hash) = one_time(&app).await?;
            store.reset_password(&username, &hash).await?;
            let flash = Flash {
                note: t.with("admin-reset-done", &[("user", username.as_str().into())]),
                secret: Some(password),
                field: Some("password".into()),
            };
            redirect_with(&app, &signed, "/admin", flash).await
        }
        _ => Err(WebError::BadRequest(t.get("admin-unknown-action"))),
    }
}
