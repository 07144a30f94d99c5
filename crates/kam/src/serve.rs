//! `kam serve` / `kam demo`: the web application over the store's `Sessions`, with the indicators
//! of earlier dates from the batch's Parquet snapshots and the nights page's desk (uploads into
//! the inbox, `kam nightly` run in the background).

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use anyhow::Context;
use chrono::NaiveDate;
use kam_store::Store;

use crate::settings::Settings;

/// Serves the web application on `bind` until Ctrl-C or SIGTERM.
pub(crate) async fn serve(settings: &Settings, store: Store, bind: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("无法监听 / cannot listen on {bind}"))?;
    serve_on(settings, store, listener, None).await
}

/// Serves the web application on `listener` until Ctrl-C or SIGTERM; `demo` lists the demo
/// bank's accounts on the sign-in page (`kam demo` only).
pub(crate) async fn serve_on(
    settings: &Settings,
    store: Store,
    listener: tokio::net::TcpListener,
    demo: Option<kam_web::DemoAccounts>,
) -> anyhow::Result<()> {
    let tls = match (&settings.web.tls_cert, &settings.web.tls_key) {
        (Some(cert), Some(key)) => {
            Some(kam_web::tls_config(cert, key).map_err(anyhow::Error::msg)?)
        }
        _ => None,
    };
    let config = kam_web::WebConfig {
        secure_cookies: tls.is_some(),
        idle_timeout: std::time::Duration::from_secs(settings.web.idle_timeout_minutes * 60),
        absolute_timeout: std::time::Duration::from_secs(
            settings.web.absolute_timeout_hours * 3600,
        ),
        password_min_length: settings.password_min_length,
        zone: settings.zone()?,
        amount_unit: settings.amount_unit()?,
        // The demo's batch runs with the built-in rules; a bank's server with its own.
        rules: Arc::new(if demo.is_some() {
            kam_core::rules::Rules::builtin()
        } else {
            crate::load_rules(settings.rules.as_deref())?
        }),
        demo,
        ..kam_web::WebConfig::default()
    };
    let is_demo = config.demo.is_some();
    let address = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("\n网页服务已启动 / serving on {scheme}://{address}/  (Ctrl-C 停止 / to stop)");
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("a SIGTERM handler can be installed");
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    };
    let desk = Desk::new(settings, is_demo);
    let app = kam_web::App::new(store.sessions(), config)
        .with_history(Arc::new(FactsHistory {
            facts: settings.facts_dir()?,
        }))
        .with_desk(Arc::new(desk));
    match tls {
        Some(tls) => kam_web::serve_tls(listener, app, tls, shutdown).await?,
        None => kam_web::serve(listener, app, shutdown).await?,
    }
    Ok(())
}

/// Indicators of earlier as-of dates for the web's API, from the batch's Parquet snapshots
/// (kam-web does not link the fact engine; the binary wires it in).
#[derive(Debug)]
pub(crate) struct FactsHistory {
    facts: PathBuf,
}

impl kam_web::IndicatorHistory for FactsHistory {
    fn indicators(&self, as_of: NaiveDate, cif_no: String) -> kam_web::HistoryFuture<'_> {
        let facts = self.facts.clone();
        Box::pin(async move {
            let values = tokio::task::spawn_blocking(move || {
                kam_facts::snapshot::customer_snapshot(&facts, as_of, &cif_no)
                    .map(|found| (found, cif_no))
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
            let (found, cif_no) = values;
            Ok(found.map(|values| {
                values
                    .into_iter()
                    .map(|v| kam_store::StoredIndicator {
                        cif_no: cif_no.clone(),
                        code: v.code,
                        window_days: v.window_days.unwrap_or(0),
                        value_int: v.value_int,
                        value_real: v.value_real,
                    })
                    .collect()
            }))
        })
    }
}

/// The nights page's side in the binary: the inbox (the `inbox` setting; the demo's own
/// `<data_dir>/inbox` when unset), the upload limit, and the night, run on a thread of its own
/// with its own runtime and store connections — as a scheduler's `kam nightly` would run beside
/// the server, and kept apart from it by the same inbox lock.
#[derive(Debug, Clone)]
pub(crate) struct Desk(Arc<DeskInner>);

#[derive(Debug)]
struct DeskInner {
    settings: Settings,
    inbox: Result<PathBuf, (String, String)>,
    upload_limit: u64,
    watch: crate::nightly::Watch,
    state: Mutex<DeskState>,
}

/// Whether a night is at work, and whether another was asked for meanwhile.
#[derive(Debug, Default)]
struct DeskState {
    running: bool,
    again: bool,
}

impl Desk {
    pub(crate) fn new(settings: &Settings, demo: bool) -> Self {
        let inbox = match (&settings.inbox, demo) {
            (Some(inbox), _) => Ok(inbox.clone()),
            (None, true) => Ok(settings.data_dir.join("inbox")),
            (None, false) => Err((
                "未设置收件目录：在 kam.toml 中设置 inbox（见 docs/nightly.md）后重启服务。".to_owned(),
                "No inbox is set: set `inbox` in kam.toml (see docs/nightly.md) and restart the server."
                    .to_owned(),
            )),
        };
        let inbox = inbox.and_then(|inbox| {
            remove_broken_uploads(&inbox);
            std::fs::create_dir_all(&inbox)
                .map(|()| inbox.clone())
                .map_err(|e| {
                    (
                        format!("无法创建收件目录 {}：{e}", inbox.display()),
                        format!("cannot create the inbox {}: {e}", inbox.display()),
                    )
                })
        });
        Self(Arc::new(DeskInner {
            settings: settings.clone(),
            inbox,
            upload_limit: settings.web.upload_limit_mb.saturating_mul(1024 * 1024),
            watch: crate::nightly::Watch::default(),
            state: Mutex::new(DeskState::default()),
        }))
    }
}

/// Removes what uploads left when their server died mid-way (`.upload-*` folders a day old; a
/// younger one may be another server's upload at work on a shared inbox).
fn remove_broken_uploads(inbox: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(inbox) else {
        return;
    };
    let day = std::time::Duration::from_secs(24 * 3600);
    for entry in entries.filter_map(Result::ok) {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age > day);
        if old && entry.file_name().to_string_lossy().starts_with(".upload-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl DeskInner {
    fn state(&self) -> std::sync::MutexGuard<'_, DeskState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Nights one after another until none was asked for meanwhile.
    fn run(self: Arc<Self>) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build();
        loop {
            let night = match &runtime {
                Ok(runtime) => runtime.block_on(self.night()),
                Err(error) => Err(anyhow::anyhow!("the night's runtime cannot start: {error}")),
            };
            self.note(night);
            let mut state = self.state();
            if state.again && runtime.is_ok() {
                // Asked again while at work: days uploaded meanwhile are taken up now.
                state.again = false;
                drop(state);
                self.watch.update(|p| p.step = kam_web::NightStep::Starting);
                continue;
            }
            *state = DeskState::default();
            // Under the lock: a start waits until the page says this night has ended.
            self.ended();
            break;
        }
    }

    /// What a night run found: kept on the page across the runs of one start (a day
    /// quarantined by the first is still shown when a queued second one ends).
    fn note(&self, night: anyhow::Result<crate::nightly::Night>) {
        self.watch.update(|p| match night {
            Ok(night) => {
                p.quarantined = night.quarantined.or(p.quarantined);
                p.waiting = night.waiting;
                p.busy = night.busy;
            }
            Err(error) => p.error = Some(format!("{error:#}")),
        });
    }

    fn ended(&self) {
        self.watch.update(|p| {
            p.running = false;
            p.step = kam_web::NightStep::Ended;
            p.file = None;
            p.finished_at = Some(chrono::Utc::now());
        });
    }

    async fn night(&self) -> anyhow::Result<crate::nightly::Night> {
        let settings = &self.settings;
        let inbox = self.inbox.clone().map_err(|(_, en)| anyhow::anyhow!(en))?;
        let store = crate::open_store(settings).await?;
        crate::nightly::run(
            &store,
            crate::nightly::NightArgs {
                inbox,
                facts_dir: settings.facts_dir()?,
                mapping: settings.mapping.clone(),
                // As `kam nightly`'s default: a file with a rejected row is refused, its day
                // quarantined for a person to look at.
                max_rejects: kam_ingest::import::RejectLimit::Count(0),
                windows: kam_query::indicators::DEFAULT_WINDOWS.to_vec(),
                rules: crate::load_rules(settings.rules.as_deref())?,
                engine: kam_query::Engine::Embedded,
                watch: Some(self.watch.clone()),
            },
        )
        .await
    }
}

impl kam_web::NightDesk for Desk {
    fn inbox(&self) -> Result<PathBuf, (String, String)> {
        self.0.inbox.clone()
    }

    fn upload_limit(&self) -> u64 {
        self.0.upload_limit
    }

    fn start(&self) -> bool {
        let mut state = self.0.state();
        if state.running {
            state.again = true;
            return false;
        }
        state.running = true;
        self.0.watch.update(|p| {
            *p = kam_web::NightProgress {
                running: true,
                started_at: Some(chrono::Utc::now()),
                step: kam_web::NightStep::Starting,
                ..kam_web::NightProgress::default()
            };
        });
        let inner = Arc::clone(&self.0);
        if let Err(error) = std::thread::Builder::new()
            .name("kam-night".into())
            .spawn(move || inner.run())
        {
            self.0.note(Err(error.into()));
            state.running = false;
            self.0.ended();
        }
        true
    }

    fn progress(&self) -> kam_web::NightProgress {
        self.0.watch.get()
    }

    fn waiting_days(&self) -> Vec<kam_web::WaitingDay> {
        let Ok(inbox) = &self.0.inbox else {
            return Vec::new();
        };
        crate::nightly::day_folders(inbox)
            .unwrap_or_default()
            .into_iter()
            .map(|(day, folder)| kam_web::WaitingDay {
                day,
                complete: crate::nightly::is_complete(&folder).unwrap_or(false),
            })
            .collect()
    }
}
