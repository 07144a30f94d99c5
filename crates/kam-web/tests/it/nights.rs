//! The nights page's upload, over HTTP into a real inbox folder: a day's files arrive whole (with
//! `READY.ok`) or not at all, each refusal names its field in the user's language with the date
//! kept, the limit holds whether the size is announced or streamed, CSRF and the role are checked;
//! the progress panel and the API show what the desk reports. The desk here is the test's: it
//! counts the starts and reports a progress it is given (the binary's desk, which runs the real
//! night, is tested end to end in crates/kam/tests/it/nights_page.rs).

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use chrono::NaiveDate;
use kam_core::user::Role;
use kam_web::{FileEnd, FileEnded, NightDesk, NightProgress, NightStep};
use reqwest::{StatusCode, multipart};

use crate::fixture::{Client, Options, Page, Server};

#[derive(Debug)]
pub(crate) struct TestDesk {
    inbox: tempfile::TempDir,
    starts: AtomicUsize,
    progress: Mutex<NightProgress>,
}

impl TestDesk {
    fn new(progress: NightProgress) -> Arc<Self> {
        Arc::new(Self {
            inbox: tempfile::tempdir().unwrap(),
            starts: AtomicUsize::new(0),
            progress: Mutex::new(progress),
        })
    }

    /// A desk whose night is importing the second of two files, with a day waiting in its inbox
    /// (the browser's screenshots).
    pub(crate) fn at_work() -> Arc<Self> {
        let desk = Self::new(at_work());
        std::fs::create_dir(desk.inbox.path().join("20261130")).unwrap();
        desk
    }
}

/// A night at work: importing the second of two files of 2026-11-30, the first done.
fn at_work() -> NightProgress {
    NightProgress {
        running: true,
        started_at: Some(chrono::Utc::now()),
        day: NaiveDate::from_ymd_opt(2026, 11, 30),
        step: NightStep::Importing,
        file: Some("balances_20261130.csv".into()),
        file_index: 1,
        files: 2,
        rows: 12_345,
        bytes: 500,
        size: 2000,
        ended: vec![FileEnded {
            name: "customers_20261130.csv".into(),
            kind: "customers".into(),
            loaded: 1,
            rejected: 0,
            outcome: FileEnd::Imported,
        }],
        ..NightProgress::default()
    }
}

impl NightDesk for TestDesk {
    fn inbox(&self) -> Result<std::path::PathBuf, (String, String)> {
        Ok(self.inbox.path().to_path_buf())
    }

    fn upload_limit(&self) -> u64 {
        LIMIT
    }

    fn start(&self) -> bool {
        self.starts.fetch_add(1, Ordering::SeqCst) == 0
    }

    fn progress(&self) -> NightProgress {
        self.progress.lock().unwrap().clone()
    }

    /// The day folders, complete when their `READY.ok` is there (the binary's desk also counts
    /// control files).
    fn waiting_days(&self) -> Vec<kam_web::WaitingDay> {
        let mut days: Vec<kam_web::WaitingDay> = std::fs::read_dir(self.inbox.path())
            .unwrap()
            .filter_map(|e| {
                let e = e.unwrap();
                let day = NaiveDate::parse_from_str(e.file_name().to_str()?, "%Y%m%d").ok()?;
                Some(kam_web::WaitingDay {
                    day,
                    complete: e.path().join(kam_web::READY).is_file(),
                })
            })
            .collect();
        days.sort_by_key(|d| d.day);
        days
    }
}

/// The desk's upload limit: 64 KiB.
const LIMIT: u64 = 64 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_day_arrives_whole_or_not_at_all_on_sqlite() {
    let db = kam_store::testing::sqlite().await;
    uploads(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_day_arrives_whole_or_not_at_all_on_postgresql() {
    let Some(db) = kam_store::testing::postgres().await else {
        eprintln!("SKIPPED on PostgreSQL: an_uploaded_day_arrives_whole_or_not_at_all");
        return;
    };
    uploads(db).await;
}

/// The form as a browser sends it: the date, then the files.
fn form(date: &str, files: &[(&str, Vec<u8>)]) -> multipart::Form {
    let mut form = multipart::Form::new().text("business_date", date.to_owned());
    for (name, bytes) in files {
        form = form.part(
            "files",
            multipart::Part::bytes(bytes.clone()).file_name((*name).to_owned()),
        );
    }
    form
}

async fn send(client: &Client, form: multipart::Form, csrf: Option<&str>) -> Page {
    let path = match csrf {
        Some(token) => format!("/admin/nights/upload?csrf={token}"),
        None => "/admin/nights/upload".to_owned(),
    };
    let response = client
        .http
        .post(format!("{}{path}", client.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    Page {
        status: response.status(),
        location: response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned()),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// What the inbox holds: its entries' names, sorted (hidden ones included).
fn inbox_names(desk: &TestDesk) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(desk.inbox.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

async fn uploads(db: kam_store::testing::TestDb) {
    let desk = TestDesk::new(NightProgress::default());
    let server = Server::start(
        db,
        Options {
            desk: Some(desk.clone()),
            ..Options::default()
        },
    )
    .await;
    let admin = server.user_of(Role::Administrator).await;
    let mut client = server.client();
    client.sign_in(admin.username.as_str()).await;
    let page = client.get("/admin/nights").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("id=\"upload-form\"") && page.body.contains("单次上限 64 KB"),
        "{}",
        page.body
    );
    assert!(page.body.contains("本服务启动以来尚未运行夜间作业"));
    assert!(page.body.contains("id=\"nav-nights\""), "in the navigation");
    let csrf = client.csrf.clone();
    let customers = b"cif_no,name\nC1,A\n".to_vec();
    let balances = vec![b'x'; 20_000];

    // Whole: both files, byte for byte, with READY.ok, under the day's folder; the night starts.
    let answer = send(
        &client,
        form(
            "2026-11-30",
            &[
                ("customers_20261130.csv", customers.clone()),
                ("balances_20261130.csv", balances.clone()),
            ],
        ),
        Some(&csrf),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some("/admin/nights"));
    assert_eq!(inbox_names(&desk), ["20261130"], "no upload folder left");
    let day = desk.inbox.path().join("20261130");
    assert_eq!(
        std::fs::read(day.join("customers_20261130.csv")).unwrap(),
        customers
    );
    assert_eq!(
        std::fs::read(day.join("balances_20261130.csv")).unwrap(),
        balances
    );
    assert!(day.join("READY.ok").is_file(), "complete for the night");
    assert_eq!(
        desk.starts.load(Ordering::SeqCst),
        1,
        "the night was started"
    );
    let page = client.get("/admin/nights").await;
    assert!(
        page.body
            .contains("已收到 2026-11-30 的 2 个文件（20 KB），夜间作业已开始"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("2026-11-30 · 已到齐"),
        "waiting in the inbox"
    );
    let trail = server
        .store
        .audit_events(Some("2026-11-30"), 10)
        .await
        .unwrap();
    assert!(
        trail.iter().any(|e| e.action == "upload"
            && e.detail.starts_with("files=2 bytes=20017")
            && e.detail.contains("customers_20261130.csv")),
        "the upload is audited: {trail:?}"
    );

    // Refused, each with its field's message, the date kept, nothing left in the inbox.
    let future = (crate::fixture::kam_web_today() + chrono::Days::new(1)).to_string();
    let hidden = vec![(".customers.csv", customers.clone())];
    let one = vec![("customers_20261201.csv", customers.clone())];
    let twice = vec![
        ("customers_20261201.csv", customers.clone()),
        ("customers_20261201.csv", customers.clone()),
    ];
    let large = vec![("balances_20261201.csv", vec![b'y'; LIMIT as usize + 1])];
    for (date, files, field, message) in [
        (
            "2026-11-30",
            &one,
            "f-date",
            "2026-11-30 的文件夹已在收件目录中等待处理",
        ),
        (
            "2026-12-01",
            &hidden,
            "f-files",
            "文件名不可用：.customers.csv",
        ),
        (
            "2026-12-01",
            &twice,
            "f-files",
            "文件 customers_20261201.csv 选了两次",
        ),
        ("2026-12-01", &large, "f-files", "超过上传上限"),
        (
            "2026/12/01",
            &one,
            "f-date",
            "业务日期须为 YYYY-MM-DD：2026/12/01",
        ),
        (future.as_str(), &one, "f-date", "业务日期不能晚于今天"),
        ("2026-12-01", &Vec::new(), "f-files", "请至少选择一个文件"),
    ] {
        let answer = send(&client, form(date, files), Some(&csrf)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(answer.body.contains(message), "{message}: {}", answer.body);
        let input = &answer.body[answer.body.find(&format!("id=\"{field}\"")).unwrap()..];
        assert!(
            input[..input.find('>').unwrap()].contains("aria-invalid=\"true\""),
            "{message}: the field is marked"
        );
        if field == "f-date" || message.contains("两次") {
            assert!(
                answer.body.contains(&format!("value=\"{date}\"")),
                "the date is kept"
            );
        }
        assert_eq!(inbox_names(&desk), ["20261130"], "{message}: nothing left");
    }
    // A date field far too long is refused without being held whole.
    let long = "2".repeat(1000);
    let answer = send(&client, form(&long, &one), Some(&csrf)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("业务日期须为 YYYY-MM-DD：2222"));
    assert!(!answer.body.contains(&"2".repeat(65)), "the value is cut");
    assert_eq!(inbox_names(&desk), ["20261130"]);
    assert_eq!(
        desk.starts.load(Ordering::SeqCst),
        1,
        "no night for a refusal"
    );

    // Over the limit while streaming (no length announced): refused, the partial file removed.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![b'z'; 4096])).collect();
    let streamed = multipart::Form::new()
        .text("business_date", "2026-12-01")
        .part(
            "files",
            multipart::Part::stream(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
                .file_name("balances_20261201.csv"),
        );
    let answer = send(&client, streamed, Some(&csrf)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer.body.contains("超过上传上限 64 KB"),
        "{}",
        answer.body
    );
    assert_eq!(
        answer
            .headers
            .get("connection")
            .map(|v| v.to_str().unwrap()),
        Some("close"),
        "the connection the rest of the upload was on is not used again"
    );
    assert_eq!(
        inbox_names(&desk),
        ["20261130"],
        "the partial upload is gone"
    );

    // English: the same refusal in the user's language.
    let english = client
        .post("/me/locale", &[("locale", "en"), ("back", "/admin/nights")])
        .await;
    assert_eq!(english.status, StatusCode::SEE_OTHER);
    let answer = send(&client, form("2026-12-01", &hidden), Some(&csrf)).await;
    assert!(
        answer
            .body
            .contains("File name not accepted: .customers.csv"),
        "{}",
        answer.body
    );
    client
        .post(
            "/me/locale",
            &[("locale", "zh-CN"), ("back", "/admin/nights")],
        )
        .await;

    // Without the CSRF token: refused before a byte is written.
    let answer = send(&client, form("2026-12-01", &one), None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(inbox_names(&desk), ["20261130"]);

    // Another role: the 404 of a page that does not exist, nothing written.
    let mut manager = server.client();
    manager
        .sign_in(server.user_of(Role::BranchManager).await.username.as_str())
        .await;
    let theirs = manager.csrf.clone();
    let answer = send(&manager, form("2026-12-01", &one), Some(&theirs)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(inbox_names(&desk), ["20261130"]);
    assert_eq!(
        manager.post("/admin/nights/run", &[]).await.status,
        StatusCode::NOT_FOUND
    );

    // The night at work, as the desk reports it: the page and its panel, and the API.
    *desk.progress.lock().unwrap() = at_work();
    let panel = client.get("/admin/nights/progress").await;
    assert_eq!(panel.status, StatusCode::OK);
    for shown in [
        "data-running=\"true\"",
        "导入中",
        "2/2 balances_20261130.csv",
        "value=\"25\"",
        "12,345",
        "<td>customers_20261130.csv</td><td>客户</td>",
        "<td>已导入</td>",
    ] {
        assert!(panel.body.contains(shown), "{shown}: {}", panel.body);
    }
    assert!(!panel.body.contains("<html"), "the panel alone");
    let token = server.token_for(&admin).await;
    let api = client.get_api("/api/v1/nights", &token).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let json: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(json["now"]["running"], true);
    assert_eq!(json["now"]["step"], "importing");
    assert_eq!(json["now"]["rows"], 12_345);
    let other = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let theirs = server.token_for(&other).await;
    assert_eq!(
        client.get_api("/api/v1/nights", &theirs).await.status,
        StatusCode::NOT_FOUND
    );

    // Ended: the summary in words.
    {
        let mut progress = desk.progress.lock().unwrap();
        progress.running = false;
        progress.step = NightStep::Ended;
        progress.days_done = vec![NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()];
        progress.waiting = NaiveDate::from_ymd_opt(2026, 12, 1);
    }
    let panel = client.get("/admin/nights/progress").await;
    assert!(panel.body.contains("data-running=\"false\""));
    assert!(
        panel.body.contains("完成 1 天：2026-11-30。")
            && panel.body.contains("2026-12-01 文件未到齐，等待中。"),
        "{}",
        panel.body
    );

    // A night that found no complete day says so (not "0 days done").
    *desk.progress.lock().unwrap() = NightProgress {
        step: NightStep::Ended,
        ..NightProgress::default()
    };
    let panel = client.get("/admin/nights/progress").await;
    assert!(
        panel
            .body
            .contains("收件目录中没有已到齐的日期，未做任何事。")
            && !panel.body.contains("完成 0 天"),
        "{}",
        panel.body
    );

    // Run now: the desk is asked again (a night at work takes it up when it ends).
    let run = client.post("/admin/nights/run", &[]).await;
    assert_eq!(run.status, StatusCode::SEE_OTHER);
    assert_eq!(desk.starts.load(Ordering::SeqCst), 2);
    let page = client.get("/admin/nights").await;
    assert!(
        page.body
            .contains("夜间作业正在运行，结束后接着处理新到的日期"),
        "{}",
        page.body
    );
}
