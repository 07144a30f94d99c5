//! `kam serve` / `kam demo`: the web application over the store's `Sessions`, with the indicators
//! of earlier dates from the batch's Parquet snapshots.

use std::path::PathBuf;

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
        rules: std::sync::Arc::new(if demo.is_some() {
            kam_core::rules::Rules::builtin()
        } else {
            crate::load_rules(settings.rules.as_deref())?
        }),
        demo,
        ..kam_web::WebConfig::default()
    };
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
    let app = kam_web::App::new(store.sessions(), config).with_history(std::sync::Arc::new(
        FactsHistory {
            facts: settings.facts_dir()?,
        },
    ));
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
