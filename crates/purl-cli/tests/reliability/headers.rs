//! The browser surface: every API operation of the OpenAPI document (as the public, with an API
//! token and with a browser session; unsafe methods without a body) and every page a signed-in
//! coordinator can reach by following links carries the security headers, whatever its status.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use reqwest::Method;
use serde_json::json;

use crate::measure::Run;
use crate::server::{Server, COORDINATOR, PASSWORD};

/// What is wrong with a response's security headers, if anything. Static assets (`/assets/`, the
/// same for everyone) may be cached; nothing else may be stored.
fn header_problems(path: &str, headers: &reqwest::header::HeaderMap) -> Vec<String> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let mut problems = Vec::new();
    let policy = text("content-security-policy");
    if !policy.contains("frame-ancestors 'none'") {
        problems.push(format!("CSP without frame-ancestors 'none': '{policy}'"));
    }
    let script = policy
        .split(';')
        .map(str::trim)
        .find(|part| part.starts_with("script-src"))
        .unwrap_or("");
    if script.is_empty() || script.contains("'unsafe-inline'") || script.contains("'unsafe-eval'") {
        problems.push(format!(
            "script-src allows inline script or is missing: '{script}'"
        ));
    }
    if text("x-content-type-options") != "nosniff" {
        problems.push("no X-Content-Type-Options: nosniff".into());
    }
    if text("referrer-policy").is_empty() {
        problems.push("no Referrer-Policy".into());
    }
    if !path.starts_with("/assets/") && !text("cache-control").contains("no-store") {
        problems.push(format!("Cache-Control is '{}'", text("cache-control")));
    }
    for cookie in headers.get_all("set-cookie") {
        let cookie = cookie.to_str().unwrap_or("");
        if !(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict")) {
            problems.push(format!(
                "cookie without HttpOnly and SameSite=Strict: {cookie}"
            ));
        }
    }
    problems
}

/// The links of a page that stay on the site, without their query.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .map(|href| href.replace("&amp;", "&"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_and_status_carries_the_security_headers() {
    let run = Run::start("browser_surface_headers").await;
    let server = Server::start().await.unwrap();
    let document = server
        .get(None, "/api/v1/openapi.json")
        .await
        .expect(200)
        .json;
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete: String = path
                .split('/')
                .map(|part| if part.starts_with('{') { "x1" } else { part })
                .collect::<Vec<_>>()
                .join("/");
            operations.push((method.to_uppercase(), concrete));
        }
    }
    operations.push(("GET".into(), "/no/such/route".into()));
    operations.push(("PATCH".into(), "/api/v1/pledges".into()));

    // A browser session of the coordinator; signing in again shows the cookie's flags.
    let (cookie, _) = server.session(COORDINATOR).await;
    let again = server
        .post(
            None,
            "/api/v1/session",
            json!({"username": COORDINATOR, "password": PASSWORD}),
        )
        .await
        .expect(200);
    let sign_in_problems = header_problems("/api/v1/session", &again.headers);
    assert!(sign_in_problems.is_empty(), "{sign_in_problems:?}");

    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut responses = 0;
    for (method, path) in &operations {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        for who in ["public", "token", "session"] {
            let (user, headers): (Option<&str>, Vec<(&str, &str)>) = match who {
                "public" => (None, vec![]),
                "token" => (Some(COORDINATOR), vec![]),
                _ => (None, vec![("cookie", cookie.as_str())]),
            };
            let reply = server
                .call(user, method.clone(), path, None, &headers)
                .await;
            responses += 1;
            *statuses.entry(reply.status.as_u16()).or_default() += 1;
            for problem in header_problems(path, &reply.headers) {
                problems.push(format!(
                    "{method} {path} as {who} ({}): {problem}",
                    reply.status
                ));
            }
        }
    }

    // Every page the coordinator reaches by following links, and the public's sign-in page.
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = ["/", "/home", "/sign-in", "/overview"]
        .map(String::from)
        .into();
    let mut pages = 0;
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) || seen.len() > 400 || path.starts_with("/sign-out") {
            continue;
        }
        let reply = server
            .call(
                None,
                Method::GET,
                &path,
                None,
                &[("cookie", cookie.as_str())],
            )
            .await;
        pages += 1;
        *statuses.entry(reply.status.as_u16()).or_default() += 1;
        for problem in header_problems(&path, &reply.headers) {
            problems.push(format!("page {path} ({}): {problem}", reply.status));
        }
        if reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
        {
            queue.extend(links(&reply.text));
        }
    }
    run.figure(&format!(
        "{responses} API responses ({} operations x public, token, session) and {pages} pages reached by links: statuses {statuses:?}; {} responses missing a security header",
        operations.len(),
        problems.len()
    ));
    assert!(pages > 20, "the crawl reached the pages ({pages})");
    assert!(
        problems.is_empty(),
        "{}",
        problems
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    server.finish().await;
}
