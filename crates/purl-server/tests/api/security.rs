//! Retries, lost updates, CSRF, tokens, sign-in lockout, and what error bodies never say.

use purl_server::{ServerConfig, CSRF_HEADER, REQUEST_ID_HEADER};
use reqwest::Method;
use serde_json::json;

use crate::round;
use crate::support::*;

/// Gives `username` a known password, as if they had changed their one-time password.
async fn set_password(server: &Server, username: &str) {
    let app = &server.ctx.app;
    let once = app.issue_one_time_password(username).await.unwrap();
    app.change_password(&server.ctx.config.auth, username, &once, PASSWORD, None)
        .await
        .unwrap();
}

async fn sign_in(server: &Server, username: &str, password: &str) -> Reply {
    server
        .post(
            None,
            "/api/v1/session",
            json!({"username": username, "password": password}),
        )
        .await
}

/// The session cookie (`name=value`) and CSRF token of a successful sign-in.
fn session_of(reply: &Reply) -> (String, String) {
    let cookie = reply
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (
        cookie,
        reply.json["csrf_token"].as_str().unwrap().to_owned(),
    )
}

fn pledge(reference: &str) -> serde_json::Value {
    json!({"reference": reference, "contributors": ["NLD"], "amount": "5.00", "currency": "EUR",
           "announced_on": "2026-11-03"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_write_with_the_same_idempotency_key_is_written_once() {
    let Some(server) = Server::start().await else {
        return;
    };
    let key = [("Idempotency-Key", "pledge-7")];
    let first = server
        .call(
            Some(FUNDER),
            Method::POST,
            "/api/v1/pledges",
            Some(pledge("NLD-7")),
            &key,
        )
        .await
        .expect(201);
    let head = server.ctx.app.state().await.unwrap().head;
    let retry = server
        .call(
            Some(FUNDER),
            Method::POST,
            "/api/v1/pledges",
            Some(pledge("NLD-7")),
            &key,
        )
        .await
        .expect(200);
    assert_eq!(retry.json["first_seq"], first.json["first_seq"]);
    assert_eq!(retry.json["replayed"], true);
    assert_eq!(
        server.ctx.app.state().await.unwrap().head,
        head,
        "nothing new written"
    );
    let reused = server
        .call(
            Some(FUNDER),
            Method::POST,
            "/api/v1/pledges",
            Some(pledge("NLD-8")),
            &key,
        )
        .await
        .expect(409);
    assert!(reused.json["detail"]
        .as_str()
        .unwrap()
        .contains("different request"));
    assert_eq!(reused.json["code"], "idempotency-key-reused");
    assert_eq!(reused.json["field"], "reference", "{}", reused.json);
    // Keys are the caller's own: the coordinator's "pledge-7" is another key.
    server
        .call(
            Some(COORDINATOR),
            Method::POST,
            "/api/v1/pledges",
            Some(pledge("NLD-9")),
            &key,
        )
        .await
        .expect(201);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_based_on_a_stale_version_is_refused_with_412() {
    let Some(server) = Server::start().await else {
        return;
    };
    server
        .post(Some(FUNDER), "/api/v1/pledges", pledge("NLD-1"))
        .await
        .expect(201);
    let read = server
        .get(Some(FUNDER), "/api/v1/pledges/NLD-1")
        .await
        .expect(200);
    let etag = read.header("etag").unwrap().to_owned();
    let update = |etag: String| {
        let server = &server;
        async move {
            server
                .call(
                    Some(FUNDER),
                    Method::PUT,
                    "/api/v1/pledges/NLD-1/public",
                    Some(json!({"public": true})),
                    &[("If-Match", etag.as_str())],
                )
                .await
        }
    };
    update(etag.clone()).await.expect(200);
    let stale = update(etag).await.expect(412);
    assert_eq!(stale.json["code"], "stale-version");
    assert_eq!(
        stale.header("content-type"),
        Some("application/problem+json")
    );
    let bad = update("\"x\"".into()).await.expect(422);
    assert_eq!(bad.json["field"], "If-Match");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_write_without_the_csrf_token_is_refused() {
    let Some(server) = Server::start().await else {
        return;
    };
    set_password(&server, FUNDER).await;
    let (cookie, csrf) = session_of(&sign_in(&server, FUNDER, PASSWORD).await.expect(200));
    let url = format!("{}/api/v1/pledges", server.base);
    let form = server
        .client
        .post(&url)
        .header("cookie", &cookie)
        .form(&[("reference", "NLD-1"), ("contributors", "NLD")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 403);
    let body: serde_json::Value = form.json().await.unwrap();
    assert_eq!(body["code"], "csrf");
    let wrong = server
        .client
        .post(&url)
        .header("cookie", &cookie)
        .header(CSRF_HEADER, "not-the-token")
        .json(&pledge("NLD-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 403);
    let right = server
        .client
        .post(&url)
        .header("cookie", &cookie)
        .header(CSRF_HEADER, &csrf)
        .json(&pledge("NLD-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status().as_u16(), 201);
    // After sign-out the cookie is worth nothing.
    let out = server
        .client
        .delete(format!("{}/api/v1/session", server.base))
        .header("cookie", &cookie)
        .header(CSRF_HEADER, &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    let after = server
        .client
        .get(format!("{}/api/v1/session", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status().as_u16(), 401);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_cookie_is_http_only_strict_and_a_one_time_password_must_be_changed() {
    let Some(server) = Server::start().await else {
        return;
    };
    let once = server.ctx.app.issue_one_time_password(OTHER).await.unwrap();
    let reply = sign_in(&server, OTHER, &once).await.expect(200);
    let set_cookie = reply.header("set-cookie").unwrap();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert_eq!(reply.json["must_change_password"], true);
    let (cookie, csrf) = session_of(&reply);
    let blocked = server
        .client
        .get(format!("{}/api/v1/pledges", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status().as_u16(), 403);
    let short = server
        .client
        .post(format!("{}/api/v1/session/password", server.base))
        .header("cookie", &cookie)
        .header(CSRF_HEADER, &csrf)
        .json(&json!({"current_password": once, "new_password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(short.status().as_u16(), 422);
    let changed = server
        .client
        .post(format!("{}/api/v1/session/password", server.base))
        .header("cookie", &cookie)
        .header(CSRF_HEADER, &csrf)
        .json(&json!({"current_password": once, "new_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status().as_u16(), 204);
    let allowed = server
        .client
        .get(format!("{}/api/v1/pledges", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status().as_u16(), 200);
    sign_in(&server, OTHER, &once).await.expect(401);
    sign_in(&server, OTHER, PASSWORD).await.expect(200);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_or_expired_token_is_refused() {
    let clock = TestClock::new();
    let Some(server) = Server::start_clocked(ServerConfig::default(), clock.clone()).await else {
        return;
    };
    let created = server
        .post(
            Some(FUNDER),
            "/api/v1/tokens",
            json!({"name": "script", "expires_in_days": 2}),
        )
        .await
        .expect(201);
    let secret = created.json["token"].as_str().unwrap().to_owned();
    let id = created.json["id"].as_str().unwrap().to_owned();
    let with = |token: String| {
        let server = &server;
        async move {
            server
                .client
                .get(format!("{}/api/v1/pledges", server.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(with(secret.clone()).await, 200);
    let listed = server.get(Some(FUNDER), "/api/v1/tokens").await.expect(200);
    let mine = listed.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(
        mine["last_used_us"].is_i64(),
        "its last use is listed: {mine}"
    );
    assert!(mine.get("secret_sha256").is_none() && !listed.text.contains(&secret));
    // Another contributor cannot revoke it, nor learn it exists.
    server
        .call(
            Some(OTHER),
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            None,
            &[],
        )
        .await
        .expect(404);
    server
        .call(
            Some(FUNDER),
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            None,
            &[],
        )
        .await
        .expect(200);
    assert_eq!(with(secret).await, 401);

    let key = [("Idempotency-Key", "token-once")];
    let body = json!({"name": "cron", "expires_in_days": 3});
    let first = server
        .call(
            Some(FUNDER),
            Method::POST,
            "/api/v1/tokens",
            Some(body.clone()),
            &key,
        )
        .await
        .expect(201);
    let retry = server
        .call(
            Some(FUNDER),
            Method::POST,
            "/api/v1/tokens",
            Some(body),
            &key,
        )
        .await
        .expect(200);
    assert_eq!(
        retry.json["id"], first.json["id"],
        "a retry creates no second token"
    );
    assert_eq!(retry.json["replayed"], true);
    assert!(
        retry.json.get("token").is_none(),
        "the secret is shown once"
    );

    let expiring = server
        .post(
            Some(FUNDER),
            "/api/v1/tokens",
            json!({"name": "short", "expires_in_days": 1}),
        )
        .await
        .expect(201);
    let secret = expiring.json["token"].as_str().unwrap().to_owned();
    assert_eq!(with(secret.clone()).await, 200);
    clock.advance_minutes(24 * 60 + 1);
    assert_eq!(with(secret).await, 401);
    assert_eq!(with("purl_0000_forged".into()).await, 401);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_ten_password_checks_an_account_name_waits_out_the_window() {
    let clock = TestClock::new();
    let Some(server) = Server::start_clocked(ServerConfig::default(), clock.clone()).await else {
        return;
    };
    set_password(&server, FUNDER).await;
    let hashed = server.ctx.app.password_hashing().runs;
    for name in [FUNDER, "no.such.user"] {
        for _ in 0..10 {
            sign_in(&server, name, "wrong password!!").await.expect(401);
        }
    }
    let checked = server.ctx.app.password_hashing().runs - hashed;
    let limited = sign_in(&server, FUNDER, PASSWORD).await.expect(429);
    let unknown = sign_in(&server, "no.such.user", PASSWORD).await.expect(429);
    assert_eq!(limited.json, unknown.json, "known and unknown answer alike");
    assert_eq!(limited.header("retry-after"), Some("900"));
    assert_eq!(
        server.ctx.app.password_hashing().runs - hashed,
        checked,
        "a refused attempt hashes nothing"
    );
    clock.advance_minutes(14);
    sign_in(&server, FUNDER, PASSWORD).await.expect(429);
    assert_eq!(
        sign_in(&server, FUNDER, PASSWORD)
            .await
            .header("retry-after"),
        Some("60")
    );
    clock.advance_minutes(2);
    sign_in(&server, FUNDER, PASSWORD).await.expect(200);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenth_wrong_password_in_a_row_locks_the_account_until_the_lockout_ends() {
    // The lockout is kept with the account (so it holds across server processes); here the
    // per-process check window is widened so the lockout is what answers.
    let mut config = ServerConfig::default();
    config.auth.checks_per_window = 100;
    let clock = TestClock::new();
    let Some(server) = Server::start_clocked(config, clock.clone()).await else {
        return;
    };
    set_password(&server, FUNDER).await;
    for _ in 0..10 {
        sign_in(&server, FUNDER, "wrong password!!")
            .await
            .expect(401);
    }
    let locked = sign_in(&server, FUNDER, PASSWORD).await.expect(401);
    let unknown = sign_in(&server, "no.such.user", PASSWORD).await.expect(401);
    assert_eq!(
        locked.json, unknown.json,
        "a locked account and an unknown one answer alike"
    );
    clock.advance_minutes(14);
    sign_in(&server, FUNDER, PASSWORD).await.expect(401);
    clock.advance_minutes(2);
    sign_in(&server, FUNDER, PASSWORD).await.expect(200);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_rate_limited_per_address() {
    let config = ServerConfig {
        sign_ins_per_minute_per_address: 3,
        ..ServerConfig::default()
    };
    let Some(server) = Server::start_with(config).await else {
        return;
    };
    for username in ["a.user", "b.user", "c.user"] {
        sign_in(&server, username, "whatever it is")
            .await
            .expect(401);
    }
    let limited = sign_in(&server, "d.user", "whatever it is")
        .await
        .expect(429);
    assert_eq!(limited.json["code"], "too-many-attempts");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_error_body_reveals_internals_or_another_partys_data() {
    let Some(server) = Server::start().await else {
        return;
    };
    round::play(&server).await;
    let secrets = [
        "10000000",
        "air defence first",
        "7272728",
        "NLD-2026-1\",\"contributors",
    ];
    let leaks = [
        "panicked",
        "sqlx",
        "SELECT",
        "INSERT",
        "sqlite",
        "SQLITE",
        "backtrace",
        ".rs:",
        "postgres",
    ];
    let mut bodies = Vec::new();
    for (user, method, path, body) in [
        (Some(OTHER), Method::GET, "/api/v1/pledges/NLD-2026-1", None),
        (
            Some(OTHER),
            Method::POST,
            "/api/v1/pledges/NLD-2026-1/commit",
            None,
        ),
        (
            Some(OTHER),
            Method::GET,
            "/api/v1/payments/PAY-000001",
            None,
        ),
        (Some(AUDITOR), Method::GET, "/api/v1/packages/1", None),
        (
            Some(OTHER),
            Method::PUT,
            "/api/v1/packages/1/status",
            Some(json!({"status": "closed"})),
        ),
        (
            Some(FUNDER),
            Method::POST,
            "/api/v1/pledges",
            Some(json!({"reference": "x y"})),
        ),
        (
            Some(FUNDER),
            Method::POST,
            "/api/v1/pledges",
            Some(
                json!({"reference": "NLD-2026-1", "contributors": ["NLD"], "announced_on": "2026-13-01"}),
            ),
        ),
        (None, Method::GET, "/api/v1/payments", None),
        (None, Method::GET, "/api/v1/nowhere", None),
    ] {
        let reply = server.call(user, method, path, body, &[]).await;
        assert!(reply.status.is_client_error(), "{path}: {}", reply.text);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        bodies.push(reply.text);
    }
    let hidden = server.get(Some(OTHER), "/api/v1/pledges/NLD-2026-1").await;
    let missing = server.get(Some(OTHER), "/api/v1/pledges/NLD-2026-9").await;
    assert_eq!(
        hidden.text.replace("NLD-2026-1", "ID"),
        missing.text.replace("NLD-2026-9", "ID"),
        "a hidden record answers exactly like a missing one"
    );
    let malformed = server
        .client
        .post(format!("{}/api/v1/pledges", server.base))
        .bearer_auth(server.token(FUNDER))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    bodies.push(malformed.text().await.unwrap());

    // The storage gone: a generic 503 with the request id only.
    match server.ctx.app.store() {
        purl_server::AnyStore::Sqlite(store) => store.close().await,
        purl_server::AnyStore::Postgres(store) => store.pool().close().await,
    }
    let failed = server.get(Some(COORDINATOR), "/api/v1/pledges").await;
    assert_eq!(failed.status.as_u16(), 503, "{}", failed.text);
    assert_eq!(failed.json["code"], "unavailable");
    assert_eq!(failed.header("retry-after"), Some("5"));
    assert_eq!(
        failed.json["request_id"].as_str(),
        failed.header(REQUEST_ID_HEADER),
        "the 503 names the request id that the log carries"
    );
    bodies.push(failed.text);

    for body in &bodies {
        for word in leaks.iter().chain(&secrets) {
            assert!(!body.contains(word), "'{word}' in {body}");
        }
    }
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_security_headers_and_large_bodies_are_refused() {
    let config = ServerConfig {
        body_limit: 1024,
        ..ServerConfig::default()
    };
    let Some(server) = Server::start_with(config).await else {
        return;
    };
    let reply = server
        .get(None, "/api/v1/public/overview")
        .await
        .expect(200);
    let csp = reply.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    assert!(reply.header(REQUEST_ID_HEADER).is_some());
    let big = json!({"reference": "NLD-1", "note": "x".repeat(4096)});
    let refused = server.post(Some(FUNDER), "/api/v1/pledges", big).await;
    assert_eq!(refused.status.as_u16(), 413, "{}", refused.text);
    assert_eq!(refused.json["code"], "too-large");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_speaks_tls_and_then_marks_the_session_cookie_secure() {
    let config = ServerConfig {
        secure_cookies: true,
        ..ServerConfig::default()
    };
    let Some(server) = Server::start_tls(config).await else {
        return;
    };
    assert!(server.base.starts_with("https://"));
    server
        .get(None, "/api/v1/public/overview")
        .await
        .expect(200);
    set_password(&server, FUNDER).await;
    let reply = sign_in(&server, FUNDER, PASSWORD).await.expect(200);
    let cookie = reply.header("set-cookie").unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(
        cookie.starts_with("__Host-purl_session=")
            && cookie.contains("; Path=/;")
            && !cookie.contains("Domain"),
        "a __Host- cookie: Secure, for this host and every path: {cookie}"
    );
    // The session works under that name, and only under it.
    let value = cookie.split(';').next().unwrap().to_owned();
    let me = server
        .call(
            None,
            reqwest::Method::GET,
            "/api/v1/session",
            None,
            &[("cookie", value.as_str())],
        )
        .await;
    assert_eq!(me.status.as_u16(), 200, "{}", me.text);
    let renamed = value.replace("__Host-purl_session", "purl_session");
    let plain_name = server
        .call(
            None,
            reqwest::Method::GET,
            "/api/v1/session",
            None,
            &[("cookie", renamed.as_str())],
        )
        .await;
    assert_eq!(plain_name.status.as_u16(), 401, "{}", plain_name.text);
    let plain =
        reqwest::get(server.base.replace("https://", "http://") + "/api/v1/public/overview").await;
    assert!(
        plain.map_or(true, |reply| !reply.status().is_success()),
        "plain HTTP is not answered on the TLS port"
    );
    server.finish().await;
}
