//! Administration by clicking: the coordinator onboards a participant and creates its first user,
//! whose one-time password is shown once and works once; a contributor's admin manages only its
//! own users; a deactivated user cannot sign in; the access log shows the refused sign-in.

use crate::browser::{set_password, Browser, PASSWORD};
use crate::support::{Server, AUDITOR, COORDINATOR, OTHER};

#[tokio::test]
async fn the_coordinator_onboards_a_participant_and_its_user_in_pages() {
    let Some(coordinator) = Browser::start().await else {
        return;
    };
    let server = Server::start().await.unwrap();
    let base = server.base.clone();
    set_password(&server, COORDINATOR).await;
    coordinator.sign_in(&base, COORDINATOR).await;

    coordinator.follow("Participants").await;
    coordinator.text_with("Onboard a participant").await;
    coordinator.choose("participant-party", "contributor").await;
    let listed = coordinator
        .submit(
            &[
                ("participant-code", "POL"),
                ("participant-name", "Poland"),
                ("participant-alpha2", "PL"),
                ("participant-ally_since", "1999-03-12"),
            ],
            "Add participant",
            "Ally since 1999-03-12",
        )
        .await;
    assert!(listed.contains("Poland"), "{listed}");

    coordinator.follow("Users").await;
    let created = coordinator
        .submit(
            &[
                ("user-username", "pol.mod"),
                ("user-participant", "POL"),
                ("user-name", "Polish MoD desk"),
                ("user-roles", "editor, admin"),
            ],
            "Create user",
            "One-time password for",
        )
        .await;
    assert!(created.contains("pol.mod"), "{created}");
    let once = coordinator
        .client
        .find(fantoccini::Locator::Css("#one-time-password code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(once.len() >= 12, "{once}");
    // Shown once: the list of users does not show it again.
    coordinator.open(&base, "/users").await;
    assert!(!coordinator.text().await.contains(&once));

    // The new user signs in with it, must change it, then is home.
    let polish = Browser::start().await.unwrap();
    polish.open(&base, "/sign-in").await;
    polish.fill("username", "pol.mod").await;
    polish.fill("password", &once).await;
    polish.press("Sign in").await;
    assert_eq!(polish.path_after_navigation("/password").await, "/password");
    polish.fill("current_password", &once).await;
    polish.fill("new_password", PASSWORD).await;
    polish.press("Change password").await;
    assert_eq!(polish.path_after_navigation("/home").await, "/home");
    let home = polish.text().await;
    assert!(home.contains("pol.mod · POL · contributor"), "{home}");

    // Poland's admin sees Poland's users only, and may not create a user of another participant.
    polish.follow("Users").await;
    let users = polish.text_with("Create a user").await;
    assert!(users.contains("pol.mod"), "{users}");
    assert!(
        !users.contains(OTHER) && !users.contains(COORDINATOR),
        "{users}"
    );
    let refused = polish
        .submit(
            &[
                ("user-username", "sneaky.user"),
                ("user-participant", "DEU"),
                ("user-name", "Not Poland's"),
            ],
            "Create user",
            "not allowed",
        )
        .await;
    assert!(!refused.contains("One-time password for"), "{refused}");
    server
        .get(Some(COORDINATOR), "/api/v1/users/sneaky.user")
        .await
        .expect(404);

    // The coordinator deactivates the user: its session ends and it cannot sign in again.
    coordinator.open(&base, "/users").await;
    coordinator.press_named("Deactivate pol.mod").await;
    coordinator.text_with("Activate").await;
    polish.open(&base, "/home").await;
    assert_eq!(polish.path_after_navigation("/sign-in").await, "/sign-in");
    polish.fill("username", "pol.mod").await;
    polish.fill("password", PASSWORD).await;
    polish.press("Sign in").await;
    let refused = polish.text_with("is wrong").await;
    assert!(
        refused.contains("The user name or the password is wrong."),
        "{refused}"
    );

    // The access log holds the refused sign-in; the auditor reads it too.
    coordinator.follow("Access log").await;
    let log = coordinator.text_with("sign in as pol.mod").await;
    assert!(
        log.contains("sign in as pol.mod") && log.contains("denied"),
        "{log}"
    );
    let auditor = Browser::start().await.unwrap();
    set_password(&server, AUDITOR).await;
    auditor.sign_in(&base, AUDITOR).await;
    auditor.follow("Access log").await;
    let log = auditor.text_with("sign in as pol.mod").await;
    assert!(log.contains("sign in as pol.mod"), "{log}");
    // Long tables come a page at a time: 101 rates are 100 on the first page and 1 on the next.
    let rates: Vec<serde_json::Value> = (0..101u64)
        .map(|day| {
            let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(day);
            serde_json::json!({"currency": "EUR", "date": date.to_string(), "usd_per_unit": "1.1", "source": "ECB"})
        })
        .collect();
    server
        .post(
            Some(COORDINATOR),
            "/api/v1/fx-rates",
            serde_json::json!({"rates": rates}),
        )
        .await
        .expect(200);
    coordinator.open(&base, "/rates").await;
    let rows = |browser: &Browser| {
        let client = browser.client.clone();
        async move {
            client
                .find_all(fantoccini::Locator::Css("#rates tbody tr"))
                .await
                .unwrap()
                .len()
        }
    };
    assert!(coordinator.text().await.contains("101 rate(s)"));
    assert_eq!(rows(&coordinator).await, 100);
    coordinator.follow("Next").await;
    coordinator.text_with("Previous").await;
    assert_eq!(rows(&coordinator).await, 1);
    for browser in [coordinator, polish, auditor] {
        browser.close().await;
    }
    server.finish().await;
}
