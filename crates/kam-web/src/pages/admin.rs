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
use kam_store::{BatchReject, BatchRun, Flash, ImportBatch};
use rand::RngCore;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    format,
    i18n::Tr,
    pages::{Chrome, render, role_label, xlsx_download},
    session::{Signed, redirect_with},
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/admin", admin)
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

fn admin_only(signed: &Signed) -> Result<(), WebError> {
    if signed.user().role.may_administer() {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

async fn page(
    app: &App,
    signed: &Signed,
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
    let users = users
        .iter()
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
    render(&AdminPage {
        c: Chrome::new(app, signed, "admin", t.get("admin-title")),
        users,
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
/// the reader), recorded in the audit trail like every export.
pub(crate) async fn import_rejects(
    State(app): State<App>,
    signed: Signed,
    Path(batch): Path<String>,
) -> Result<Response, WebError> {
    admin_only(&signed)?;
    let t = signed.tr(&app);
    let rejects = signed.store.import_rejects(&batch).await?;
    signed
        .store
        .record_event(
            "export",
            "import_rejects",
            &batch,
            &format!("rows={}", rejects.len()),
        )
        .await?;
    let bytes = rejects_workbook(&t, &rejects).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(xlsx_download(&format!("kam-rejects-{batch}.xlsx"), bytes))
}

fn rejects_workbook(
    t: &Tr<'_>,
    rejects: &[BatchReject],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let heads = [
        "rejects-file",
        "rejects-line",
        "rejects-column",
        "rejects-field",
        "rejects-value",
        "rejects-severity",
        "rejects-code",
        "rejects-message",
    ];
    for (c, key) in heads.iter().enumerate() {
        sheet.write_string(0, c as u16, t.get(key))?;
    }
    for (i, r) in rejects.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, &r.file_name)?;
        sheet.write_number(row, 1, r.line as f64)?;
        sheet.write_string(row, 2, &r.column)?;
        sheet.write_string(row, 3, &r.field)?;
        sheet.write_string(row, 4, &r.value)?;
        sheet.write_string(row, 5, t.code("severity", &r.severity))?;
        sheet.write_string(row, 6, &r.reason_code)?;
        let message = if t.is_zh() {
            &r.message_zh
        } else {
            &r.message_en
        };
        sheet.write_string(row, 7, message)?;
    }
    book.save_to_buffer()
}

pub(crate) async fn admin(State(app): State<App>, signed: Signed) -> Result<Response, WebError> {
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
    page(&app, &signed, message, password).await
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
