//! `kam demo`'s first minute: the port answers at once with a page that says what is being built
//! and how far it is (the stages the terminal prints), refreshing itself every two seconds, until
//! the bank is ready and the application takes the port over — the newcomer's browser then lands
//! on the sign-in page.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use indicatif::ProgressBar;

/// The stages of building the demo, in order (zh-CN, en).
pub(crate) const STAGES: [(&str, &str); 4] = [
    (
        "生成合成银行：参考数据与每日事实数据",
        "Generating the synthetic bank: reference data and daily facts",
    ),
    ("写入业务库", "Loading the operational store"),
    (
        "批处理：指标、分层、评分与预警",
        "The batch: indicators, tiers, scores and alerts",
    ),
    ("启动网页服务", "Starting the web application"),
];

#[derive(Debug)]
struct State {
    stage: usize,
    /// The running stage's progress bar, when it has one (the days of facts).
    bar: Option<ProgressBar>,
    started: Instant,
}

/// Where the demo's build is; shared by the build and the warm-up page.
#[derive(Debug, Clone)]
pub(crate) struct Progress(Arc<Mutex<State>>);

impl Progress {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Mutex::new(State {
            stage: 0,
            bar: None,
            started: Instant::now(),
        })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves a usable state: only numbers.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The build has reached stage `index` of `STAGES`.
    pub(crate) fn stage(&self, index: usize) {
        let mut state = self.state();
        state.stage = index.min(STAGES.len() - 1);
        state.bar = None;
    }

    /// The running stage's progress bar (the page reads its position).
    pub(crate) fn bar(&self, bar: &ProgressBar) {
        self.state().bar = Some(bar.clone());
    }

    /// The page: every stage, done, running (with how far) or to come, and the time so far.
    fn page(&self) -> String {
        let state = self.state();
        let mut rows = String::new();
        for (i, (zh, en)) in STAGES.iter().enumerate() {
            let (mark, class) = match i.cmp(&state.stage) {
                std::cmp::Ordering::Less => ("✓", "done"),
                std::cmp::Ordering::Equal => ("…", "now"),
                std::cmp::Ordering::Greater => ("·", "later"),
            };
            let how_far = match (&state.bar, i == state.stage) {
                (Some(bar), true) => match bar.length() {
                    Some(len) if len > 0 => {
                        format!(
                            " — {} / {len} ({}%)",
                            bar.position(),
                            bar.position() * 100 / len
                        )
                    }
                    _ => String::new(),
                },
                _ => String::new(),
            };
            rows.push_str(&format!(
                "<li class=\"{class}\"><span class=\"mark\">{mark}</span> {zh}{how_far}<br><span class=\"en\">{en}</span></li>"
            ));
        }
        format!(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"refresh\" content=\"2\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>kam demo · 正在准备演示银行</title><style>\
body{{font-family:system-ui,'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;margin:0;background:#f5f7fa;color:#1f2933}}\
header{{background:#9b1c1c;color:#fff;padding:12px 20px;font-weight:600}}\
main{{max-width:640px;margin:40px auto;padding:0 20px}} li{{margin:10px 0;list-style:none}}\
.mark{{display:inline-block;width:1.5em}} .done{{color:#2f855a}} .now{{font-weight:600}} .later{{color:#7b8794}}\
.en{{color:#7b8794;font-size:13px;margin-left:1.5em}}</style></head><body>\
<header>kam 大客户管理 · 演示</header><main id=\"warming-up\"><h1>正在准备演示银行 / Preparing the demo bank</h1>\
<p>已用时 {secs} 秒；准备好后本页自动进入登录页（演示账号列在登录页上）。<br>\
<span class=\"en\">{secs} s so far; this page moves on to the sign-in (with the demo accounts) once ready.</span></p>\
<ul>{rows}</ul></main></body></html>",
            secs = state.started.elapsed().as_secs()
        )
    }
}

/// Serves the progress page on `listener` until `stop` resolves.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    progress: Progress,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new().fallback(move || {
        let page = progress.page();
        async move { warming_up(page) }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
}

fn warming_up(page: String) -> Response {
    (
        // Not ready yet: a monitor sees 503, a person the page (which refreshes itself).
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, "2"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        ],
        page,
    )
        .into_response()
}

/// How long the warm-up page may take to let go of the port once the bank is ready.
pub(crate) const HAND_OVER: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_shows_each_stage_and_how_far_the_running_one_is() {
        let progress = Progress::new();
        let bar = ProgressBar::hidden();
        bar.set_length(400);
        bar.set_position(100);
        progress.bar(&bar);
        let page = progress.page();
        assert!(
            page.contains("class=\"now\"") && page.contains("100 / 400 (25%)"),
            "{page}"
        );
        assert_eq!(page.matches("class=\"later\"").count(), 3);
        progress.stage(2);
        let page = progress.page();
        assert_eq!(page.matches("class=\"done\"").count(), 2);
        assert!(
            !page.contains("/ 400"),
            "a new stage starts without the old bar"
        );
        assert!(page.contains("http-equiv=\"refresh\""));
    }
}
