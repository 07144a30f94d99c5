//! The layers around every request: a request id given back (a proxy's kept), gzip for those who
//! accept it, a body limit.

use kam_core::user::Role;
use reqwest::StatusCode;

use crate::fixture::Server;

crate::on_both_backends!(
    every_answer_has_a_request_id_large_pages_are_compressed_and_bodies_limited
);

async fn every_answer_has_a_request_id_large_pages_are_compressed_and_bodies_limited(
    server: Server,
) {
    let http = reqwest::Client::new();
    let health = http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    let id = health.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 16, "{id}");
    let kept = http
        .get(format!("{}/healthz", server.base))
        .header("x-request-id", "proxy-42")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "proxy-42");

    // The head office's alert inbox, as a browser that accepts gzip asks for it.
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let plain = client.get("/alerts").await;
    assert_eq!(plain.status, StatusCode::OK);
    let zipped = client
        .http
        .get(format!("{}/alerts", server.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    let bytes = zipped.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0x1f, 0x8b]), "a gzip stream");
    assert!(
        bytes.len() * 3 < plain.body.len(),
        "{} bytes for {} of HTML",
        bytes.len(),
        plain.body.len()
    );

    // A body over the limit is refused before anything reads it: the announced length is
    // enough (the body is never sent, so the answer cannot race the upload).
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /sign-in HTTP/1.1\r\nHost: kam\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                2 * 1024 * 1024
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = vec![0u8; 64];
    let read = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}
