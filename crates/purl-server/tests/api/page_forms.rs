//! The page forms as an attacker would send them: every form that changes something is refused —
//! and changes nothing — without the session's CSRF token, with another session's token, or from
//! another site; and what a user typed comes back escaped in every page that shows it.

use purl_store::Store as _;
use serde_json::json;

use crate::round;
use crate::support::*;

/// Every page form that writes, with a body that would be accepted.
fn forms(delivery: &str) -> Vec<(String, Vec<(&'static str, String)>)> {
    let owned = |pairs: &[(&'static str, &str)]| {
        pairs
            .iter()
            .map(|(key, value)| (*key, (*value).to_owned()))
            .collect::<Vec<_>>()
    };
    vec![
        (
            "/pledges".into(),
            owned(&[
                ("reference", "NLD-2026-77"),
                ("contributors", "NLD"),
                ("amount", "1.00"),
                ("currency", "EUR"),
                ("announced_on", "2026-11-05"),
                ("status", "announced"),
            ]),
        ),
        (
            "/pledges/NLD-2026-1/public".into(),
            owned(&[("public", "true")]),
        ),
        (
            "/lists".into(),
            owned(&[("form", "create"), ("period", "2027-05")]),
        ),
        (
            format!("/lists/{}/new-version", round::PERIOD),
            owned(&[("form", "new-version")]),
        ),
        (
            "/catalogue".into(),
            owned(&[
                ("form", "item"),
                ("code", "NEW1"),
                ("name", "New"),
                ("category", "medical"),
                ("lethal", "false"),
                ("unit_price", "1.00"),
                ("lead_time_days", "9"),
            ]),
        ),
        (
            "/catalogue/IFAK/price".into(),
            owned(&[("unit_price", "101.00")]),
        ),
        (
            "/rates".into(),
            owned(&[
                ("currency", "EUR"),
                ("date", "2026-11-20"),
                ("usd_per_unit", "1.2"),
                ("source", "ECB"),
            ]),
        ),
        (
            "/payments".into(),
            owned(&[
                ("pledge", "NLD-2026-1"),
                ("amount", "1.00"),
                ("currency", "EUR"),
                ("received_on", "2026-11-20"),
            ]),
        ),
        ("/packages".into(), owned(&[("name", "Package 2")])),
        ("/packages/1/status".into(), owned(&[("status", "closed")])),
        (
            format!("/deliveries/{delivery}/receipt?package=1"),
            owned(&[("received_on", "2026-11-26"), ("quantity", "2")]),
        ),
        ("/allocation".into(), owned(&[("form", "commit")])),
        (
            "/participants".into(),
            owned(&[
                ("code", "POL"),
                ("name", "Poland"),
                ("party", "contributor"),
                ("partner", "false"),
            ]),
        ),
        (
            "/users".into(),
            owned(&[
                ("username", "new.user"),
                ("participant", "NATO"),
                ("name", "New"),
                ("roles", "viewer"),
            ]),
        ),
        ("/users/deu.mod/deactivate".into(), owned(&[])),
        (
            "/password".into(),
            owned(&[
                ("current_password", PASSWORD),
                ("new_password", "another long passphrase"),
            ]),
        ),
        ("/sign-out".into(), owned(&[])),
    ]
}

/// How a forged post is sent: what it is, the token it carries, extra headers.
type Attempt<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, &'a str)]);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_form_refuses_a_missing_or_foreign_token_or_another_site_and_changes_nothing() {
    let Some(server) = Server::start().await else {
        return;
    };
    let played = round::play(&server).await;
    let (cookie, csrf) = server.session(COORDINATOR).await;
    let (_, foreign) = server.session(FUNDER).await;
    let head = server.ctx.app.store().head().await.unwrap();
    let mut refused = 0;
    for (path, body) in forms(&played.delivery) {
        let attempts: [Attempt<'_>; 4] = [
            ("no token", None, &[]),
            ("another session's token", Some(&foreign), &[]),
            (
                "another site (Origin)",
                Some(&csrf),
                &[("origin", "https://evil.example")],
            ),
            (
                "another site (Sec-Fetch-Site)",
                Some(&csrf),
                &[("sec-fetch-site", "cross-site")],
            ),
        ];
        for (how, token, headers) in attempts {
            let mut form = body.clone();
            if let Some(token) = token {
                form.push(("csrf", token.to_owned()));
            }
            let mut request = server
                .client
                .post(format!("{}{path}", server.base))
                .header("cookie", &cookie)
                .form(&form);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), 403, "{path} with {how}");
            refused += 1;
        }
    }
    assert_eq!(
        server.ctx.app.store().head().await.unwrap(),
        head,
        "none of the {refused} refused posts wrote anything"
    );
    // The same session's token from the same site is accepted (the check is not refusing all).
    let accepted = server
        .client
        .post(format!("{}/packages", server.base))
        .header("cookie", &cookie)
        .form(&[("name", "Package 2"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 303);
    assert!(server.ctx.app.store().head().await.unwrap() > head);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_users_type_comes_back_escaped_in_every_page() {
    let Some(server) = Server::start().await else {
        return;
    };
    round::play(&server).await;
    let script = "<script>alert(1)</script>";
    let image = "\"><img src=x onerror=alert(2)>";
    server
        .post(
            Some(COORDINATOR),
            "/api/v1/packages",
            json!({"name": script}),
        )
        .await
        .expect(200);
    server
        .post(
            Some(COORDINATOR),
            "/api/v1/participants",
            json!({"code": "XKX", "name": image, "party": "contributor"}),
        )
        .await
        .expect(201);
    server
        .post(
            Some(SUPPLIER),
            "/api/v1/catalogue",
            json!({"code": "XSS1", "name": script, "category": "medical", "lethal": false,
                   "unit_price": "1.00", "lead_time_days": 1}),
        )
        .await
        .expect(201);
    let (cookie, _) = server.session(COORDINATOR).await;
    for path in [
        "/packages",
        "/packages/2",
        "/participants",
        "/catalogue",
        "/reports/pipeline",
        "/lists/2026-12",
    ] {
        let page = server
            .client
            .get(format!("{}{path}", server.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 200, "{path}");
        let html = page.text().await.unwrap();
        assert!(
            !html.contains(script) && !html.contains("<img src=x"),
            "{path}: {html}"
        );
        let shown = html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
            || html.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;");
        assert!(
            shown || path == "/lists/2026-12",
            "{path} shows the text, escaped: {html}"
        );
    }
    server.finish().await;
}
