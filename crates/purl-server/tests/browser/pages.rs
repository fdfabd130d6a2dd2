//! The public overview and a contributor's home, by clicking and typing in pages.

use serde_json::json;

use crate::browser::{set_password, Browser, PASSWORD};
use crate::support::{Server, FUNDER, OTHER};

#[tokio::test]
async fn the_public_and_a_contributor_see_what_they_may_and_nothing_more() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let server = Server::start().await.unwrap();
    // NLD's own pledge, and DEU's unpublished one whose amount no other contributor may see.
    server
        .post(
            Some(FUNDER),
            "/api/v1/pledges",
            json!({"reference": "NLD-2026-7", "contributors": ["NLD"], "amount": "1000000.00",
                   "currency": "USD", "announced_on": "2026-11-05", "public": false}),
        )
        .await
        .expect(201);
    server
        .post(
            Some(OTHER),
            "/api/v1/pledges",
            json!({"reference": "DEU-2026-7", "contributors": ["DEU"], "amount": "3141592.00",
                   "currency": "USD", "announced_on": "2026-11-05", "public": false}),
        )
        .await
        .expect(201);
    set_password(&server, FUNDER).await;
    let page = |path: &str| format!("{}{path}", server.base);

    browser.client.goto(&page("/")).await.unwrap();
    let public = browser.text().await;
    assert!(public.contains("Public overview"), "{public}");
    // The aggregate counts both pledges; neither unpublished pledge is shown.
    assert!(public.contains("USD 4,141,592.00"), "{public}");
    for hidden in ["NLD-2026-7", "DEU-2026-7", "3,141,592.00"] {
        assert!(
            !public.contains(hidden),
            "the public sees {hidden}: {public}"
        );
    }
    browser.screenshot("public-overview").await;

    browser.follow("Sign in").await;
    browser.fill("username", FUNDER).await;
    browser.fill("password", "not the password at all").await;
    browser.press("Sign in").await;
    let refused = browser
        .text_with("The user name or the password is wrong.")
        .await;
    assert!(
        refused.contains("The user name or the password is wrong."),
        "{refused}"
    );
    browser.fill("password", PASSWORD).await;
    browser.press("Sign in").await;
    let path = browser.path_after_navigation("/home").await;
    assert_eq!(path, "/home");
    let home = browser.text().await;
    assert!(
        home.contains(FUNDER) && home.contains("contributor"),
        "{home}"
    );
    assert!(home.contains("NLD-2026-7"), "its own pledge: {home}");
    for hidden in ["DEU-2026-7", "3,141,592.00"] {
        assert!(!home.contains(hidden), "NLD sees {hidden}: {home}");
    }
    let source = browser.client.source().await.unwrap();
    assert!(!source.contains("DEU-2026-7") && !source.contains("3141592"));
    browser.screenshot("contributor-home").await;
    // The page's downloads, fetched in the page with its session.
    for link in ["JSON", "CSV"] {
        let href = browser
            .client
            .find(fantoccini::Locator::LinkText(link))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let fetched = browser
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 fetch(arguments[0]).then(r => r.text()).then(done);",
                vec![json!(href)],
            )
            .await
            .unwrap();
        let body = fetched.as_str().unwrap();
        assert!(body.contains("4141592.00"), "{link}: {body}");
        if link == "JSON" {
            assert!(body.contains("NLD-2026-7"), "{link}: {body}");
        }
        assert!(
            !body.contains("DEU-2026-7") && !body.contains("3141592"),
            "{link}: {body}"
        );
    }

    browser.press("Sign out").await;
    let path = browser.path_after_navigation("/").await;
    assert_eq!(path, "/");
    browser.client.goto(&page("/home")).await.unwrap();
    let path = browser.path_after_navigation("/sign-in").await;
    assert_eq!(path, "/sign-in", "signed out, home asks to sign in");
    browser.close().await;
}

#[tokio::test]
async fn a_one_time_password_is_changed_in_a_page_before_anything_else() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let server = Server::start().await.unwrap();
    let once = server.ctx.app.issue_one_time_password(OTHER).await.unwrap();
    browser
        .client
        .goto(&format!("{}/sign-in", server.base))
        .await
        .unwrap();
    browser.fill("username", OTHER).await;
    browser.fill("password", &once).await;
    browser.press("Sign in").await;
    let path = browser.path_after_navigation("/password").await;
    assert_eq!(path, "/password", "a one-time password is changed first");
    browser.fill("current_password", &once).await;
    browser.fill("new_password", &once).await;
    browser.press("Change password").await;
    let refused = browser.text_with("must differ from the current one").await;
    assert!(
        refused.contains("must differ from the current one"),
        "{refused}"
    );
    browser.fill("current_password", &once).await;
    browser.fill("new_password", PASSWORD).await;
    browser.press("Change password").await;
    let path = browser.path_after_navigation("/home").await;
    assert_eq!(path, "/home");
    assert!(browser.text_with("deu.mod").await.contains("deu.mod"));
    browser.close().await;
}
