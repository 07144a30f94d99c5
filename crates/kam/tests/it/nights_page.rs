//! The nights page of a real `kam serve`: the first day of the synthetic bank arrives by the
//! scheduler's `kam nightly`, the second is uploaded by an administrator from the page; the
//! server runs the night in the background, the page shows it at work and then done, and the day
//! ends imported, batched, archived and on record — as the scheduler's night would have left it.

use std::{path::Path, process::Command, time::Duration};

use reqwest::{StatusCode, multipart, redirect::Policy};

use crate::{
    cli::{kam, text},
    nightly::week_inbox,
};

/// The value of the first `name="csrf"` field of a page.
fn csrf_of(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    body[at..at + body[at..].find('"').unwrap()].to_owned()
}

/// The folder's files as the upload form's parts.
fn files_of(folder: &Path) -> multipart::Form {
    let mut form = multipart::Form::new();
    let mut paths: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "READY.ok")
        .collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        form = form.part(
            "files",
            multipart::Part::bytes(std::fs::read(&path).unwrap()).file_name(name),
        );
    }
    form
}

struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_uploaded_on_the_nights_page_is_imported_batched_and_archived() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let data = data.to_str().unwrap();
    let days = week_inbox(root.path(), 2);
    let inbox = root.path().join("inbox");
    // The second day waits outside the inbox: it will come through the page.
    let second = root.path().join(&days[1]);
    std::fs::rename(inbox.join(&days[1]), &second).unwrap();
    let first = kam(&[
        "--data-dir",
        data,
        "nightly",
        "--inbox",
        inbox.to_str().unwrap(),
    ]);
    assert!(first.status.success(), "{}", text(&first));
    let reset = kam(&["--data-dir", data, "user", "reset-password", "admin"]);
    let reset = text(&reset);
    let password = reset
        .rsplit("new one-time password for admin: ")
        .next()
        .unwrap()
        .trim()
        .to_owned();
    assert!(password.len() >= 10, "{reset}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Served(
        Command::new(env!("CARGO_BIN_EXE_kam"))
            .args(["--data-dir", data, "serve", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .env_remove("KAM_DATA_DIR")
            .env_remove("KAM_DATABASE")
            .env("KAM_INBOX", &inbox)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();
    let mut up = false;
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server answers");
    let page = |path: &str| {
        let request = http.get(format!("{base}{path}"));
        async move {
            let answer = request.send().await.unwrap();
            (answer.status(), answer.text().await.unwrap())
        }
    };
    let (_, form) = page("/sign-in").await;
    let signed = http
        .post(format!("{base}/sign-in"))
        .form(&[
            ("username", "admin"),
            ("password", password.as_str()),
            ("next", "/"),
            ("csrf", csrf_of(&form).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let (status, nights) = page("/admin/nights").await;
    assert_eq!(status, StatusCode::OK);
    assert!(nights.contains("id=\"upload-form\""), "{nights}");
    let first_day = format!("{}-{}-{}", &days[0][..4], &days[0][4..6], &days[0][6..]);
    let second_day = format!("{}-{}-{}", &days[1][..4], &days[1][4..6], &days[1][6..]);
    assert!(
        nights.contains(&format!("<td>{first_day}</td><td>完成</td>")),
        "the scheduler's night is on record"
    );

    let csrf = csrf_of(&nights);
    let uploaded = http
        .post(format!("{base}/admin/nights/upload?csrf={csrf}"))
        .multipart(files_of(&second).text("business_date", second_day.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        uploaded.status(),
        StatusCode::SEE_OTHER,
        "{}",
        uploaded.text().await.unwrap()
    );

    // The page follows the night until it ends.
    let mut panel = String::new();
    let mut seen_at_work = false;
    for _ in 0..600 {
        let (status, body) = page("/admin/nights/progress").await;
        assert_eq!(status, StatusCode::OK);
        panel = body;
        if panel.contains("data-running=\"true\"") {
            seen_at_work = true;
        } else if panel.contains("已结束") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Whether a poll caught it at work depends on the machine's speed (a tiny day takes about a
    // second); what it reported file by file is in the ended panel below.
    eprintln!("the night was seen at work: {seen_at_work}");
    assert!(
        panel.contains(&format!("完成 1 天：{second_day}。")),
        "{panel}"
    );
    assert!(
        panel.contains("<td>已导入</td>"),
        "the day's files, imported: {panel}"
    );
    assert!(!panel.contains("night-error"), "{panel}");

    // As the scheduler's night would leave it: archived, batches committed, on record.
    assert!(
        inbox
            .join("archive")
            .join(&days[1])
            .join("READY.ok")
            .is_file()
    );
    assert!(!inbox.join(&days[1]).exists());
    let status = text(&kam(&["--data-dir", data, "import", "status"]));
    let sent: Vec<String> = std::fs::read_dir(inbox.join("archive").join(&days[1]))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".csv"))
        .collect();
    assert!(!sent.is_empty());
    for name in &sent {
        assert!(
            status
                .lines()
                .any(|l| l.contains("committed") && l.trim_end().ends_with(name.as_str())),
            "{name} committed: {status}"
        );
    }
    let (_, nights) = page("/admin/nights").await;
    assert!(
        nights.contains(&format!("<td>{second_day}</td><td>完成</td>")),
        "{nights}"
    );
    let runs = text(&kam(&[
        "--data-dir",
        data,
        "export",
        "indicators",
        "--as-of",
        &second_day,
        "--out",
        root.path().join("i.csv").to_str().unwrap(),
    ]));
    assert!(
        root.path().join("i.csv").is_file(),
        "the batch ran for the day: {runs}"
    );
}
