//! `purl user add` gives a one-time password; `purl serve` serves the API on that installation and
//! stops cleanly on SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::support::Installation;

/// One HTTP/1.1 request over a fresh connection; returns the status line and the body.
fn http(address: &str, method: &str, path: &str, body: &str) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.lines().next().unwrap_or("").to_owned();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn a_new_user_signs_in_to_the_server_with_its_one_time_password() {
    let installation = Installation::new();
    let password = installation.add_user(&[], "nld.mod", "NLD", "editor");
    assert!(password.len() >= 32, "{password}");

    let (mut server, address) = installation.serve(&[]);

    let (status, body) = http(&address, "GET", "/api/v1/public/overview", "");
    assert!(status.contains(" 200 "), "{status} {body}");
    assert!(body.contains("\"allies\""), "{body}");
    let (status, body) = http(
        &address,
        "POST",
        "/api/v1/session",
        &format!(r#"{{"username":"nld.mod","password":"{password}"}}"#),
    );
    assert!(status.contains(" 200 "), "{status} {body}");
    assert!(body.contains(r#""must_change_password":true"#), "{body}");
    let (status, _) = http(
        &address,
        "POST",
        "/api/v1/session",
        r#"{"username":"nld.mod","password":"not the password"}"#,
    );
    assert!(status.contains(" 401 "), "{status}");

    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let exit = server.wait().unwrap();
    assert!(
        exit.success(),
        "purl serve exits cleanly on SIGTERM: {exit:?}"
    );
}

#[tokio::test]
async fn the_operators_reads_are_in_the_access_log_too() {
    use purl_store::Store;
    let installation = Installation::demo();
    installation.ok(&["pledge", "show", "NLD-2025-08"]);
    let store = installation.store().await;
    let log = store.access_log(0, 1000).await.unwrap();
    store.close().await;
    assert!(
        log.iter()
            .any(|entry| entry.actor == "operator" && entry.action == "read pledge NLD-2025-08"),
        "{log:?}"
    );
}
