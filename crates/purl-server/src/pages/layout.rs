//! The frame of every page: the header with what the signed-in party may open, the main content,
//! the footer.

use maud::{html, Markup, DOCTYPE};
use purl_core::participant::Party;
use purl_core::user::Actor;

/// Where each party's work is (design §2); the public sees the overview only.
fn navigation(actor: Option<&Actor>) -> Vec<(&'static str, &'static str)> {
    let mut links = vec![("/", "Public overview"), ("/reports", "Reports")];
    if let Some(Actor::User { party, .. }) = actor {
        links.push(("/home", "Home"));
        links.extend_from_slice(match party {
            Party::Requester => &[
                ("/lists", "Lists"),
                ("/packages", "Packages"),
                ("/catalogue", "Catalogue"),
            ][..],
            Party::Coordinator => &[
                ("/lists", "Lists"),
                ("/pledges", "Pledges"),
                ("/payments", "Payments"),
                ("/allocation", "Allocation"),
                ("/packages", "Packages"),
                ("/rates", "Rates"),
                ("/catalogue", "Catalogue"),
                ("/participants", "Participants"),
                ("/users", "Users"),
                ("/access-log", "Access log"),
            ][..],
            Party::Supplier => &[
                ("/catalogue", "Catalogue"),
                ("/lists", "Lists"),
                ("/packages", "Packages"),
            ][..],
            Party::Contributor => &[
                ("/pledges", "Pledges"),
                ("/payments", "Payments"),
                ("/packages", "Packages"),
                ("/users", "Users"),
            ][..],
            Party::Auditor => &[("/access-log", "Access log")][..],
        });
        links.push(("/ledger", "Ledger"));
    }
    links
}

/// The reports `actor` may open (design §7), with what each shows.
pub fn reports(actor: Option<&Actor>) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut reports = vec![
        (
            "/",
            "Overview",
            "pledged, committed and paid, Allies participating, packages by status",
        ),
        (
            "/reports/contributions",
            "Contributions",
            "per contributor, share of the total and of GDP against a fair share",
        ),
        (
            "/reports/timeline",
            "Timeline and runway",
            "cumulative pledged, committed and paid; the month funding runs out",
        ),
    ];
    if let Some(Actor::User { party, .. }) = actor {
        if *party != Party::Auditor {
            reports.push((
                "/reports/pipeline",
                "Package pipeline",
                "days from forming to funding, release and delivery",
            ));
        }
        if *party == Party::Coordinator {
            reports.push((
                "/reports/coverage",
                "Coverage",
                "funded value of the approved list by rank band and category, the gap and why",
            ));
        }
    }
    reports
}

/// A whole page titled `title` around `content`, for `actor` (the public when `None`); `csrf` is
/// the session's token for the sign-out form.
pub fn page(title: &str, actor: Option<&Actor>, csrf: Option<&str>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · PURL Ledger" }
                link rel="stylesheet" href="/assets/purl.css";
                script src="/assets/purl.js" defer {}
            }
            body {
                a class="skip" href="#main" { "Skip to the content" }
                header class="top" {
                    a class="brand" href="/" { "PURL Ledger" }
                    nav aria-label="Main" {
                        ul {
                            @for (href, label) in navigation(actor) {
                                li { a href=(href) { (label) } }
                            }
                        }
                    }
                    div class="who" {
                        @match actor {
                            Some(Actor::User { username, participant, party, .. }) => {
                                span { (username.as_str()) " · " (participant.as_str()) " · " (party.as_str()) }
                                form method="post" action="/sign-out" class="inline" {
                                    input type="hidden" name="csrf" value=(csrf.unwrap_or_default());
                                    button type="submit" { "Sign out" }
                                }
                            }
                            _ => { a href="/sign-in" { "Sign in" } }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (content)
                }
                footer {
                    "PURL Ledger — the Prioritised Ukraine Requirements List. Figures are in the "
                    "currency stated beside them; dates are ISO 8601."
                }
            }
        }
    }
}
