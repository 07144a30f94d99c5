//! The nights, for administrators only (anyone else gets the 404 of a page that does not exist):
//! upload a business day's files into the inbox (streamed to disk, counted against the desk's
//! limit), start the night, watch it import and batch, and read each night's record with its
//! rejects as Excel. The night itself runs in the binary (`NightDesk`).

use std::path::{Path as FsPath, PathBuf};

use askama::Template;
use axum::{
    extract::{Multipart, Path, State, multipart::MultipartRejection},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use kam_store::{Flash, NightOutcome, NightRun};
use tokio::io::AsyncWriteExt;

use crate::{
    App,
    desk::{NightProgress, NightStep},
    error::WebError,
    format,
    i18n::Tr,
    pages::{
        Chrome, FieldError,
        admin::{admin_only, rejects_workbook},
        render, render_form, xlsx_download,
    },
    session::{Signed, redirect_with},
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/admin/nights", nights)
        .get("/admin/nights/progress", progress)
        .post("/admin/nights/run", run_now)
        .get("/admin/nights/{date}/rejects.xlsx", night_rejects)
}

/// The upload, on its own limits (`observe::upload_limits`).
pub(crate) fn upload_routes(routes: crate::Routes) -> crate::Routes {
    routes.post("/admin/nights/upload", upload)
}

#[derive(Template)]
#[template(path = "nights.html")]
struct NightsPage<'a> {
    c: Chrome<'a>,
    /// What the upload takes (its limit), or why there is no upload (no inbox).
    upload_help: String,
    no_inbox: Option<String>,
    /// Day folders in the inbox not yet taken.
    pending: Vec<crate::desk::WaitingDay>,
    progress: ProgressView,
    nights: Vec<NightLine>,
    message: Option<String>,
    error: Option<FieldError>,
    business_date: String,
}

impl NightsPage<'_> {
    fn error_on(&self, field: &str) -> Option<String> {
        FieldError::on(&self.error, field)
    }
}

/// The progress panel alone, for the page's script to refresh it.
#[derive(Template)]
#[template(path = "night_progress.html")]
struct ProgressFragment<'a> {
    c: Chrome<'a>,
    progress: ProgressView,
}

/// A night's progress in words.
#[derive(Debug, Default)]
struct ProgressView {
    shown: bool,
    running: bool,
    step: String,
    day: String,
    file: String,
    rows: String,
    /// Share of the file's bytes read, 0–100.
    percent: u64,
    started_at: String,
    finished_at: String,
    ended: Vec<EndedLine>,
    summary: String,
    error: String,
}

#[derive(Debug)]
struct EndedLine {
    name: String,
    kind: String,
    loaded: String,
    rejected: String,
    outcome: String,
    refused: bool,
}

impl ProgressView {
    fn new(t: &Tr<'_>, zone: kam_core::clock::BankZone, p: &NightProgress) -> Self {
        let at = |instant: Option<chrono::DateTime<chrono::Utc>>| {
            instant.map_or_else(String::new, |i| format::bank_time(zone, &i.to_rfc3339()))
        };
        let mut summary = Vec::new();
        if p.step == NightStep::Ended {
            let days: Vec<String> = p.days_done.iter().map(ToString::to_string).collect();
            if !days.is_empty() {
                summary.push(t.with(
                    "night-summary-done",
                    &[
                        ("count", (days.len() as i64).into()),
                        ("days", days.join(", ").into()),
                    ],
                ));
            } else if !p.busy && p.error.is_none() && p.quarantined.is_none() {
                summary.push(t.get("night-summary-nothing"));
            }
            if let Some(day) = p.quarantined {
                summary.push(t.with(
                    "night-summary-quarantined",
                    &[("day", day.to_string().into())],
                ));
            }
            if p.busy {
                summary.push(t.get("night-summary-busy"));
            }
            if let Some(day) = p.waiting {
                summary.push(t.with("night-summary-waiting", &[("day", day.to_string().into())]));
            }
        }
        Self {
            shown: p.step != NightStep::Idle,
            running: p.running,
            step: t.code("night-step", p.step.as_str()),
            day: p.day.map_or_else(String::new, |d| d.to_string()),
            file: p.file.as_ref().map_or_else(String::new, |name| {
                format!(
                    "{}/{} {name}",
                    p.file_index + 1,
                    p.files.max(p.file_index + 1)
                )
            }),
            rows: format::count(i64::try_from(p.rows).unwrap_or(i64::MAX)),
            percent: (p.bytes.saturating_mul(100))
                .checked_div(p.size)
                .unwrap_or(0)
                .min(100),
            started_at: at(p.started_at),
            finished_at: at(p.finished_at),
            ended: p
                .ended
                .iter()
                .map(|f| EndedLine {
                    name: f.name.clone(),
                    kind: if f.kind.is_empty() {
                        "—".into()
                    } else {
                        t.code("extract-kind", &f.kind)
                    },
                    loaded: format::count(i64::try_from(f.loaded).unwrap_or(i64::MAX)),
                    rejected: format::count(i64::try_from(f.rejected).unwrap_or(i64::MAX)),
                    outcome: t.code("night-file", f.outcome.as_str()),
                    refused: f.outcome == crate::desk::FileEnd::Refused,
                })
                .collect(),
            summary: summary.join(" "),
            error: p.error.clone().unwrap_or_default(),
        }
    }
}

/// One day of `kam nightly` as the administrator reads it: how it ended in words, the files and
/// rows, the batch's time, what failed; times in the bank's zone.
#[derive(Debug)]
struct NightLine {
    business_date: String,
    outcome: String,
    failed: bool,
    imported: i64,
    already: i64,
    refused: i64,
    rejected: i64,
    batch: String,
    started_at: String,
    finished_at: String,
    reason: String,
}

impl NightLine {
    fn new(t: &Tr, zone: kam_core::clock::BankZone, n: &NightRun) -> Self {
        Self {
            business_date: n.business_date.to_string(),
            outcome: t.code("night", n.outcome.as_str()),
            failed: n.outcome != NightOutcome::Done,
            imported: n.files_imported,
            already: n.files_already,
            refused: n.files_refused,
            rejected: n.rows_rejected,
            batch: n
                .batch_millis
                .map_or_else(|| "—".into(), |ms| format!("{:.1} s", ms as f64 / 1000.0)),
            started_at: format::bank_time(zone, &n.started_at),
            finished_at: format::bank_time(zone, &n.finished_at),
            reason: n.reason.clone().unwrap_or_default(),
        }
    }
}

/// The page, with what an upload left (a refused field and the date entered) when there is one.
async fn page(
    app: &App,
    signed: &Signed,
    message: Option<String>,
    error: Option<FieldError>,
    business_date: String,
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let zone = app.config().zone;
    let nights = signed.store.nights(60).await?;
    let (upload_help, no_inbox, pending, progress) = match app.desk() {
        Some(desk) => match desk.inbox() {
            Ok(_) => (
                t.with(
                    "nights-upload-help",
                    &[("size", size_text(desk.upload_limit()).into())],
                ),
                None,
                desk.waiting_days(),
                ProgressView::new(&t, zone, &desk.progress()),
            ),
            Err((zh, en)) => (
                String::new(),
                Some(if t.is_zh() { zh } else { en }),
                Vec::new(),
                ProgressView::default(),
            ),
        },
        None => (
            String::new(),
            Some(t.get("nights-no-desk")),
            Vec::new(),
            ProgressView::default(),
        ),
    };
    let refused = error.clone();
    render_form(
        &NightsPage {
            c: Chrome::new(app, signed, "nights", t.get("nights-title")),
            upload_help,
            no_inbox,
            pending,
            progress,
            nights: nights.iter().map(|n| NightLine::new(&t, zone, n)).collect(),
            message,
            error,
            business_date,
        },
        refused.as_ref(),
    )
}

/// A size as an administrator reads it: whole MB, MB with one decimal, or KB below a MB.
fn size_text(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// The business day an upload is for by default: yesterday in the bank's zone (T+1 files).
fn yesterday(signed: &Signed) -> String {
    signed.today.pred_opt().unwrap_or(signed.today).to_string()
}

pub(crate) async fn nights(State(app): State<App>, signed: Signed) -> Result<Response, WebError> {
    admin_only(&signed)?;
    let message = signed.session.flash.as_ref().map(|f| f.note.clone());
    let day = yesterday(&signed);
    page(&app, &signed, message, None, day).await
}

/// The progress panel alone (the page's script asks for it every two seconds while a night runs).
pub(crate) async fn progress(State(app): State<App>, signed: Signed) -> Result<Response, WebError> {
    admin_only(&signed)?;
    let t = signed.tr(&app);
    let progress = app.desk().map_or_else(ProgressView::default, |desk| {
        ProgressView::new(&t, app.config().zone, &desk.progress())
    });
    render(&ProgressFragment {
        c: Chrome::new(&app, &signed, "nights", t.get("nights-title")),
        progress,
    })
}

/// Starts the night on what is in the inbox (files an operator put there by other means).
pub(crate) async fn run_now(State(app): State<App>, signed: Signed) -> Result<Response, WebError> {
    admin_only(&signed)?;
    let t = signed.tr(&app);
    let Some(desk) = app.desk() else {
        return Err(WebError::BadRequest(t.get("nights-no-desk")));
    };
    if let Err((zh, en)) = desk.inbox() {
        return Err(WebError::BadRequest(if t.is_zh() { zh } else { en }));
    }
    signed
        .store
        .record_event("start", "night", "", "from the nights page")
        .await?;
    let note = if desk.start() {
        t.get("nights-started")
    } else {
        t.get("nights-queued")
    };
    back_to_nights(&app, &signed, note).await
}

/// Back to the page after an action (post/redirect/get), with its note.
async fn back_to_nights(app: &App, signed: &Signed, note: String) -> Result<Response, WebError> {
    let flash = Flash {
        note,
        ..Flash::default()
    };
    redirect_with(app, signed, "/admin/nights", flash).await
}

/// A refusal of the upload: the field and the message in both languages.
struct Refusal {
    field: &'static str,
    key: &'static str,
    args: Vec<(&'static str, String)>,
}

impl Refusal {
    fn new(field: &'static str, key: &'static str) -> Self {
        Self {
            field,
            key,
            args: Vec::new(),
        }
    }

    fn with(mut self, name: &'static str, value: &impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    fn field_error(&self, t: &Tr<'_>) -> FieldError {
        let args: Vec<(&str, fluent_bundle::FluentValue<'_>)> = self
            .args
            .iter()
            .map(|(name, value)| (*name, value.clone().into()))
            .collect();
        FieldError::new(self.field, t.with(self.key, &args))
    }
}

/// The folder an upload is written into, removed unless the upload completes (a refused or
/// broken upload leaves nothing in the inbox).
struct Incoming {
    path: PathBuf,
    kept: bool,
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A file name as a sender gives it: the last part only, no hidden or control characters.
fn file_name(sent: &str) -> Option<String> {
    let name = sent.rsplit(['/', '\\']).next()?.trim();
    let fine = !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 200
        && !name
            .chars()
            .any(|c| c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|'));
    fine.then(|| name.to_owned())
}

/// What an upload received.
#[derive(Debug, Default)]
struct Received {
    business_date: String,
    files: Vec<String>,
    bytes: u64,
}

/// Streams the form's parts into `incoming`: the business date, and each file to disk chunk by
/// chunk, counted against `limit`.
async fn receive(
    multipart: &mut Multipart,
    incoming: &FsPath,
    limit: u64,
    received: &mut Received,
) -> Result<(), Refusal> {
    let broken = |_| Refusal::new("files", "nights-upload-broken");
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        match field.name().unwrap_or_default() {
            "business_date" => {
                // A date is ten characters: a longer value is refused without being held whole.
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > 64 {
                        return Err(Refusal::new("business_date", "nights-upload-bad-date")
                            .with("value", &String::from_utf8_lossy(&text[..64])));
                    }
                }
                received.business_date = String::from_utf8_lossy(&text).trim().to_owned();
            }
            "files" => {
                let sent = field.file_name().unwrap_or_default().to_owned();
                if sent.is_empty() {
                    // The browser sends an empty part when no file was chosen.
                    continue;
                }
                let Some(name) = file_name(&sent) else {
                    return Err(Refusal::new("files", "nights-upload-bad-name").with("name", &sent));
                };
                if received.files.contains(&name) {
                    return Err(Refusal::new("files", "nights-upload-twice").with("name", &name));
                }
                let path = incoming.join(&name);
                let write = |error: std::io::Error| {
                    tracing::warn!(%error, "an upload could not be written to the inbox");
                    Refusal::new("files", "nights-upload-disk")
                };
                let mut file = tokio::fs::File::create_new(&path).await.map_err(write)?;
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    received.bytes += chunk.len() as u64;
                    if received.bytes > limit {
                        return Err(Refusal::new("files", "nights-upload-too-large")
                            .with("size", &size_text(limit)));
                    }
                    file.write_all(&chunk).await.map_err(write)?;
                }
                file.sync_all().await.map_err(write)?;
                received.files.push(name);
            }
            // The CSRF token (checked before), and anything else a form may add.
            _ => {}
        }
    }
    Ok(())
}

/// Takes a day's files from the form into the inbox as `YYYYMMDD/` with its `READY.ok`, whole
/// or not at all (written aside, then renamed), and starts the night.
pub(crate) async fn upload(
    State(app): State<App>,
    signed: Signed,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    admin_only(&signed)?;
    let t = signed.tr(&app);
    let Some(desk) = app.desk() else {
        return Err(WebError::BadRequest(t.get("nights-no-desk")));
    };
    let inbox = desk
        .inbox()
        .map_err(|(zh, en)| WebError::BadRequest(if t.is_zh() { zh } else { en }))?;
    let limit = desk.upload_limit();
    let refuse = |refusal: Refusal, day: String| {
        let error = refusal.field_error(&t);
        let app = app.clone();
        let signed = signed.clone();
        async move {
            // The rest of a refused upload is not read: the connection is closed after the
            // answer, so the browser does not send its next request down it.
            let mut answer = page(&app, &signed, None, Some(error), day).await?;
            answer.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            Ok::<_, WebError>(answer)
        }
    };
    let Ok(mut multipart) = multipart else {
        return refuse(
            Refusal::new("files", "nights-upload-broken"),
            yesterday(&signed),
        )
        .await;
    };
    // A body announced larger than the limit is refused before a byte is written.
    let announced = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit) {
        let refusal =
            Refusal::new("files", "nights-upload-too-large").with("size", &size_text(limit));
        return refuse(refusal, yesterday(&signed)).await;
    }
    let incoming = Incoming {
        path: inbox.join(format!(".upload-{:016x}", rand::random::<u64>())),
        kept: false,
    };
    if let Err(error) = tokio::fs::create_dir_all(&incoming.path).await {
        tracing::warn!(%error, "an upload's folder could not be made in the inbox");
        return refuse(
            Refusal::new("files", "nights-upload-disk"),
            yesterday(&signed),
        )
        .await;
    }
    let mut received = Received::default();
    if let Err(refusal) = receive(&mut multipart, &incoming.path, limit, &mut received).await {
        // The date entered is kept (files cannot be: a browser never refills a file field).
        let day = if received.business_date.is_empty() {
            yesterday(&signed)
        } else {
            received.business_date.clone()
        };
        return refuse(refusal, day).await;
    }
    let entered = received.business_date.clone();
    let Ok(day) = NaiveDate::parse_from_str(&entered, "%Y-%m-%d") else {
        let refusal =
            Refusal::new("business_date", "nights-upload-bad-date").with("value", &entered);
        return refuse(refusal, entered).await;
    };
    if day > signed.today {
        let refusal = Refusal::new("business_date", "nights-upload-future");
        return refuse(refusal, entered).await;
    }
    if received.files.is_empty() {
        return refuse(Refusal::new("files", "nights-upload-none"), entered).await;
    }
    let folder = inbox.join(day.format("%Y%m%d").to_string());
    if folder.exists() {
        let refusal = Refusal::new("business_date", "nights-upload-waiting").with("day", &day);
        return refuse(refusal, entered).await;
    }
    let mut incoming = incoming;
    let placed = async {
        tokio::fs::write(incoming.path.join(crate::desk::READY), b"").await?;
        tokio::fs::rename(&incoming.path, &folder).await
    }
    .await;
    if let Err(error) = placed {
        // Another upload of the same day won the race: the same answer as when it came first.
        let refusal = if folder.exists() {
            Refusal::new("business_date", "nights-upload-waiting").with("day", &day)
        } else {
            tracing::warn!(%error, "an upload could not be placed in the inbox");
            Refusal::new("files", "nights-upload-disk")
        };
        return refuse(refusal, entered).await;
    }
    incoming.kept = true;
    signed
        .store
        .record_event(
            "upload",
            "night_files",
            &day.to_string(),
            &format!(
                "files={} bytes={} names={}",
                received.files.len(),
                received.bytes,
                received.files.join(",")
            ),
        )
        .await?;
    let started = desk.start();
    let note = t.with(
        if started {
            "nights-uploaded-started"
        } else {
            "nights-uploaded-queued"
        },
        &[
            ("day", day.to_string().into()),
            ("files", (received.files.len() as i64).into()),
            ("size", size_text(received.bytes).into()),
        ],
    );
    back_to_nights(&app, &signed, note).await
}

/// Every reject and duplicate of a business day's import batches as one Excel workbook,
/// recorded in the audit trail like every export.
pub(crate) async fn night_rejects(
    State(app): State<App>,
    signed: Signed,
    Path(date): Path<String>,
) -> Result<Response, WebError> {
    admin_only(&signed)?;
    let day = NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| WebError::NotFound)?;
    let batches = signed.store.import_batches().await?;
    let mut rejects = Vec::new();
    for batch in batches.iter().filter(|b| b.business_date == day) {
        if batch.rejected > 0 || batch.duplicates > 0 {
            rejects.extend(signed.store.import_rejects(&batch.batch_id).await?);
        }
    }
    let scope = day.to_string();
    let bytes = rejects_workbook(&app, &signed, "nights-rejects-title", &scope, &rejects).await?;
    Ok(xlsx_download(&format!("kam-rejects-{}.xlsx", day.format("%Y%m%d")), bytes).into_response())
}
