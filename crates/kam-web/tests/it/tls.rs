//! HTTPS from certificate files: the same router over rustls, HSTS and `Secure` cookies, and a
//! clear message for a wrong file.

use std::{path::Path, sync::Arc};

use kam_web::{App, WebConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::{
    TlsConnector,
    rustls::{
        ClientConfig, RootCertStore,
        pki_types::{CertificateDer, ServerName, pem::PemObject},
    },
};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tls")
        .join(name)
}

async fn https_get(port: u16, path: &str) -> String {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(fixture("ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("the handshake with the configured certificate");
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.ok();
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kam_serves_https_from_certificate_files() {
    let db = kam_store::testing::sqlite().await;
    let config = kam_web::tls_config(&fixture("cert.pem"), &fixture("key.pem")).unwrap();
    let app = App::new(
        db.store.sessions(),
        WebConfig {
            secure_cookies: true,
            hash_cost: kam_core::password::HashCost::Cheap,
            ..WebConfig::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kam_web::serve_tls(listener, app, config, async {
        let _ = stopped.await;
    }));
    let health = https_get(port, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("ok"));
    let lower = health.to_ascii_lowercase();
    assert!(lower.contains("strict-transport-security: max-age=31536000"));
    let form = https_get(port, "/sign-in").await;
    let cookie = form
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie: kam_pre="))
        .expect("the sign-in form sets its token cookie");
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[test]
fn a_wrong_key_file_is_named() {
    let message = kam_web::tls_config(&fixture("cert.pem"), &fixture("missing.pem")).unwrap_err();
    assert!(message.contains("missing.pem"), "{message}");
    let message = kam_web::tls_config(&fixture("key.pem"), &fixture("key.pem")).unwrap_err();
    assert!(message.contains("key.pem"), "{message}");
}
