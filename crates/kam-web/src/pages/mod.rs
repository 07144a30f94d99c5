//! The pages. Each handler takes `Signed` (or answers with the sign-in form), reads through the
//! store with the user's scope, and renders an askama template whose layout (`base.html`) reads
//! the shared `Chrome`.

pub(crate) mod activities;
pub(crate) mod admin;
pub(crate) mod alerts;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod board;
pub(crate) mod coverage;
pub(crate) mod customers;
pub(crate) mod groups;
pub(crate) mod home;
pub(crate) mod me;
pub(crate) mod nights;
pub(crate) mod opportunities;
pub(crate) mod people;
pub(crate) mod portfolio;
pub(crate) mod profile;
pub(crate) mod reports;
pub(crate) mod tasks;
pub(crate) mod visit_brief;
pub(crate) mod week;

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use kam_core::{
    org::{OrgUnit, subtree_of},
    user::Role,
};

use crate::{
    App,
    error::WebError,
    i18n::{Locale, Tr},
    session::Signed,
};

/// What the layout shows around every page: the user, the navigation, the CSRF token for its
/// forms (sign-out, language), and the translator.
#[derive(Debug)]
pub(crate) struct Chrome<'a> {
    pub t: Tr<'a>,
    pub title: String,
    /// The navigation entry to highlight.
    pub active: &'static str,
    pub user_name: String,
    pub role: String,
    pub csrf: String,
    pub signed_in: bool,
    /// Whether the user may see customer data at all (administrators and tellers may not).
    pub sees_customers: bool,
    /// Whether the user reads the audit trail (auditors).
    pub reads_audit: bool,
    /// Whether the user administers users and the org tree.
    pub administers: bool,
}

impl<'a> Chrome<'a> {
    pub(crate) fn new(app: &'a App, signed: &Signed, active: &'static str, title: String) -> Self {
        let t = signed.tr(app);
        let role = signed.user().role;
        Self {
            title,
            active,
            user_name: signed.user().display_name.clone(),
            role: role_label(&t, role),
            csrf: signed.session.csrf_token.clone(),
            signed_in: true,
            sees_customers: signed.scope().sees_customers(),
            reads_audit: role.may_read_audit(),
            administers: role.may_administer(),
            t,
        }
    }

    pub(crate) fn anonymous(app: &'a App, locale: Locale, title: String, csrf: String) -> Self {
        Self {
            t: Tr::new(app.i18n(), locale).in_unit(app.config().amount_unit),
            title,
            active: "",
            user_name: String::new(),
            role: String::new(),
            csrf,
            signed_in: false,
            sees_customers: false,
            reads_audit: false,
            administers: false,
        }
    }

    /// A message of the interface.
    pub fn m(&self, key: &str) -> String {
        self.t.get(key)
    }

    /// A column's header with the unit its amounts are written in: 价值贡献（万元）.
    pub fn with_unit(&self, key: &str) -> String {
        self.t.with_unit(key)
    }

    pub fn lang(&self) -> &'static str {
        self.t.locale.code()
    }

    pub fn other_lang(&self) -> &'static str {
        match self.t.locale {
            Locale::ZhCn => "en",
            Locale::En => "zh-CN",
        }
    }

    pub fn nav_class(&self, entry: &str) -> &'static str {
        if self.active == entry { "active" } else { "" }
    }
}

pub(crate) fn role_label(t: &Tr<'_>, role: Role) -> String {
    t.code("role", role.as_str())
}

/// An option of a drop-down (a filter, a unit in scope, whom to give an alert to).
#[derive(Debug)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
}

/// The choices of a closed list of codes, each labelled by its message `{prefix}-{code}`.
pub(crate) fn code_choices(t: &Tr<'_>, prefix: &str, codes: &[&str]) -> Vec<Choice> {
    codes
        .iter()
        .map(|code| Choice {
            value: (*code).to_owned(),
            label: t.code(prefix, code),
        })
        .collect()
}

/// Back to a section of a customer's 360 after a change there, with a one-time note shown in
/// that section (post/redirect/get).
pub(crate) async fn back_to_360(
    app: &App,
    signed: &Signed,
    cif: &str,
    section: &str,
    note: String,
) -> Result<Response, WebError> {
    let flash = kam_store::Flash {
        note,
        secret: None,
        field: Some(section.to_owned()),
    };
    let back = crate::security::local_path_or(&format!("/customers/{cif}#{section}"), "/customers");
    crate::session::redirect_with(app, signed, &back, flash).await
}

/// The units a user may put in scope (their own and every unit below it, in tree order), none
/// for an RM, whose reach is a book rather than a subtree.
pub(crate) async fn reachable_units(signed: &Signed) -> Result<Vec<OrgUnit>, WebError> {
    if !signed.scope().chooses_units() {
        return Ok(Vec::new());
    }
    let units = signed.store.list_org_units().await?;
    let mut reach: Vec<OrgUnit> = subtree_of(&units, signed.user().org_unit_id)
        .into_iter()
        .cloned()
        .collect();
    reach.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
    Ok(reach)
}

/// Units as drop-down options, indented by depth below the chooser's own.
pub(crate) fn unit_choices(units: &[OrgUnit]) -> Vec<Choice> {
    let top = units.iter().map(|u| u.path.depth()).min().unwrap_or(0);
    units
        .iter()
        .map(|u| Choice {
            value: u.code.clone(),
            label: format!("{}{}", "\u{3000}".repeat(u.path.depth() - top), u.name),
        })
        .collect()
}

/// An Excel workbook as a download named `file_name`.
pub(crate) fn xlsx_download(file_name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Deposits, loans and AUM of the customers in reach, as home and the portfolio show them: the
/// balance on the date, the average, and 较上日 / 较上月末 / 较年初 / 同比, in the page's unit.
#[derive(Debug)]
pub(crate) struct FiguresTable {
    pub as_of: String,
    /// The row's name and its cells (balance, average, the four changes).
    pub rows: Vec<(String, Vec<FigureCell>)>,
}

/// One cell: the amount, and whether it is a fall (shown in red, as bank reports do).
#[derive(Debug)]
pub(crate) struct FigureCell {
    pub text: String,
    pub down: bool,
}

pub(crate) fn figures_table(t: &Tr<'_>, figures: &kam_store::UnitFigures) -> FiguresTable {
    let rows = kam_core::indicator::COMPARED
        .iter()
        .zip(&figures.lines)
        .map(|(figure, line)| {
            let plain = |fen: Option<i64>| FigureCell {
                text: t.amount_or_dash(fen),
                down: false,
            };
            let mut cells = vec![plain(line.balance), plain(line.average)];
            cells.extend(line.changes.iter().map(|change| FigureCell {
                // A rise carries its sign, as 较上日 +12.30 reads in a bank's daily report.
                text: match change {
                    Some(fen) if *fen > 0 => format!("+{}", t.amount(*fen)),
                    other => t.amount_or_dash(*other),
                },
                down: change.is_some_and(|fen| fen < 0),
            }));
            (t.get(&format!("figure-{figure}")), cells)
        })
        .collect();
    FiguresTable {
        as_of: figures.as_of.map(|d| d.to_string()).unwrap_or_default(),
        rows,
    }
}

/// Renders a template into a response (an internal error if the template fails).
pub(crate) fn render(template: &impl Template) -> Result<Response, WebError> {
    Ok(Html(template.render()?).into_response())
}

/// A tier's name as the rules define it, in the interface's language: the Chinese name, or the
/// English one the rules file gives (`names_en`); a row from before English names were kept reads
/// "Tier N" in English.
pub(crate) fn tier_name(t: &Tr<'_>, tier: i64, zh: &str, en: Option<&str>) -> String {
    match en.filter(|en| !en.is_empty()) {
        _ if t.is_zh() => zh.to_owned(),
        Some(en) => en.to_owned(),
        None => t.code("tier", &tier.to_string()),
    }
}

/// The customer pages (list, portfolio, alert inbox) of a role without customer data
/// (administrators, tellers) answer the same 404, inside the navigation, as a page that does not
/// exist — not an empty list (kam-core's `Scope::sees_customers` decides).
pub(crate) fn no_customer_pages(signed: &Signed) -> Result<(), WebError> {
    if signed.scope().sees_customers() {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

/// An error (404, 403, 422…) inside the layout, for a signed-in user: the status, the message in
/// their language, the stable code, and a reference for an internal failure.
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorInLayout<'a> {
    pub c: Chrome<'a>,
    pub status: u16,
    pub message: String,
    pub code: &'static str,
    pub reference: String,
}

/// A form's refusal of one field, in the user's language: the page shows it next to the field
/// (and at the top, for a screen reader's first pass), and answers 422 with what was entered kept
/// — never a password.
#[derive(Debug, Clone)]
pub(crate) struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, message: String) -> Self {
        Self { field, message }
    }

    /// The message when it belongs to `field`, for the template next to that field.
    pub(crate) fn on(error: &Option<FieldError>, field: &str) -> Option<String> {
        error
            .as_ref()
            .filter(|e| e.field == field)
            .map(|e| e.message.clone())
    }
}

/// `render`, with 422 when a field was refused.
pub(crate) fn render_form(
    template: &impl Template,
    refused: Option<&FieldError>,
) -> Result<Response, WebError> {
    let mut response = render(template)?;
    if refused.is_some() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The highest page number any list answers: far beyond any bank's rows, and far below where
/// `(page - 1) * size` could overflow.
pub(crate) const MAX_PAGE: i64 = 1_000_000;

/// The offset of a 1-based page of `size` rows, or `None` when the page number is outside
/// `1..=MAX_PAGE` (the API answers 422; a page falls back to the first page).
pub(crate) fn page_offset(page: i64, size: i64) -> Option<i64> {
    (1..=MAX_PAGE)
        .contains(&page)
        .then(|| (page - 1).checked_mul(size))
        .flatten()
}

/// A page number from a query string: a number within `1..=MAX_PAGE`, else the first page.
pub(crate) fn page_number(text: &str) -> i64 {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|page| page_offset(*page, 1).is_some())
        .unwrap_or(1)
}

/// The customer `cif` for a change from one of its pages: out of reach (or missing) is the 404
/// of a missing record, a read-only role is refused (403) before any form is read. The store
/// checks both again in the transaction that writes.
pub(crate) async fn writable(
    signed: &Signed,
    cif: &str,
) -> Result<kam_core::id::CustomerId, WebError> {
    no_customer_pages(signed)?;
    let customer = signed.store.customer_by_cif(cif).await?;
    writes(signed)?;
    Ok(customer.id)
}

/// Refuses (403) a change by a role that may only look.
pub(crate) fn writes(signed: &Signed) -> Result<(), WebError> {
    if signed.scope().may_write() {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}
