//! The served OpenAPI document is valid OpenAPI 3.1, every documented route exists in the router,
//! and every endpoint the access matrix exercises is documented (and the other way round).

use std::collections::BTreeSet;

use reqwest::Method;

use crate::authz;
use crate::support::*;

/// Whether a concrete path matches a template such as `/api/v1/pledges/{reference}`.
fn matches(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let ours: Vec<&str> = template.split('/').collect();
    let theirs: Vec<&str> = path.split('/').collect();
    ours.len() == theirs.len()
        && ours
            .iter()
            .zip(&theirs)
            .all(|(a, b)| (a.starts_with('{') && a.ends_with('}')) || a == b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_valid_and_covers_every_route() {
    let Some(server) = Server::start().await else {
        return;
    };
    let reply = server.get(None, "/api/v1/openapi.json").await.expect(200);
    let spec = oas3::from_json(&reply.text).expect("a valid OpenAPI 3.1 document");
    assert!(spec.openapi.starts_with("3."), "{}", spec.openapi);
    let paths = spec.paths.clone().unwrap_or_default();
    assert!(paths.len() > 30, "{} paths", paths.len());

    let mut documented = BTreeSet::new();
    for (template, item) in &paths {
        for (method, operation) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ] {
            if let Some(operation) = operation {
                assert!(
                    !operation.responses.clone().unwrap_or_default().is_empty(),
                    "{method} {template} documents its responses"
                );
                documented.insert((method.to_owned(), template.clone()));
            }
        }
    }

    // Every documented route is served: probing it never meets the router's fallbacks.
    for (method, template) in &documented {
        let path = template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "x"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body =
            (method != Method::GET && method != Method::DELETE).then(|| serde_json::json!({}));
        let reply = server
            .call(Some(COORDINATOR), method.clone(), &path, body, &[])
            .await;
        assert!(
            reply.json["code"] != "no-route" && reply.json["code"] != "method-not-allowed",
            "{method} {template} is documented but not routed: {}",
            reply.text
        );
    }

    // The access matrix exercises exactly the documented endpoints.
    let exercised: BTreeSet<(String, String)> = authz::endpoints()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path))
        .collect();
    for (method, path) in &exercised {
        assert!(
            documented
                .iter()
                .any(|(m, template)| m == method && matches(template, path)),
            "{method} {path} is routed but not documented"
        );
    }
    for (method, template) in &documented {
        if template == "/api/v1/openapi.json" {
            continue;
        }
        assert!(
            exercised
                .iter()
                .any(|(m, path)| m == method && matches(template, path)),
            "{method} {template} is documented but missing from the access matrix"
        );
    }
    server.finish().await;
}
