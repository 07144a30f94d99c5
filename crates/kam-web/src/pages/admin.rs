//! Administration, for administrators only (any other role gets the same 404 as a page that
//! does not exist): users (disable, enable, reset password — shown once), the org tree, import
//! batches with their reconciliation figures, and batch runs. Administrators see no customer data.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    response::Response,
};
use kam_core::password::{hash_password, one_time_password};
use kam_store::{Actor, BatchRun, ImportBatch};
use rand::RngCore;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    pages::{Chrome, render, role_label},
    session::Signed,
};

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
    imports: Vec<ImportBatch>,
    runs: Vec<BatchRun>,
    message: Option<String>,
    password: Option<String>,
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
    let store = app.store();
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
        imports: imports.into_iter().rev().take(200).collect(),
        runs: runs.into_iter().take(50).collect(),
        message,
        password,
    })
}

pub(crate) async fn admin(State(app): State<App>, signed: Signed) -> Result<Response, WebError> {
    admin_only(&signed)?;
    page(&app, &signed, None, None).await
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
    let actor = Actor::user(signed.user().id, signed.user().username.as_str());
    let store = app.store();
    match form.action.as_str() {
        "disable" | "enable" => {
            store
                .set_user_disabled(&actor, &username, form.action == "disable")
                .await?;
            page(&app, &signed, Some(t.get("admin-done")), None).await
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
            store.set_password_hash(&actor, &username, &hash).await?;
            let message = t.with("admin-reset-done", &[("user", username.as_str().into())]);
            page(&app, &signed, Some(message), Some(password)).await
        }
        _ => Err(WebError::BadRequest(t.get("admin-unknown-action"))),
    }
}
