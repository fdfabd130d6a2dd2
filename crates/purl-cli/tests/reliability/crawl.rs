//! The crawl of everything one party can reach: every GET of the OpenAPI document with every
//! known id and query value, and every page reached by links; each response as the text a reader
//! gets from it (headers, body, every part of a workbook unpacked, base64 in JSON decoded).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Read as _;

use base64::Engine as _;
use serde_json::Value;

use crate::canary::PUBLIC;
use crate::server::Server;

/// Ids the crawl fills path and query parameters with, by parameter name.
pub type Values = BTreeMap<&'static str, Vec<String>>;

/// One response of a crawl.
pub struct Response {
    /// The URL, or `page <path>` for a page fetched with the party's browser session.
    pub url: String,
    pub status: u16,
    pub content_type: String,
    /// Everything it shows its reader (see `readable`).
    pub text: String,
    pub body: Vec<u8>,
}

/// Every GET of the OpenAPI document, with path parameters filled with every known value, and
/// without a query, with each query parameter alone and with each next to `format=xlsx`.
pub fn requests(document: &Value, values: &Values) -> Vec<String> {
    let mut urls = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(operation) = item.get("get") else {
            continue;
        };
        let parameters: Vec<(String, String)> = operation["parameters"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap_or("").to_owned(),
                            p["in"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut paths = vec![path.clone()];
        for (name, place) in &parameters {
            if place != "path" {
                continue;
            }
            let fill = values
                .get(name.as_str())
                .cloned()
                .unwrap_or_else(|| vec!["1".into()]);
            paths = paths
                .iter()
                .flat_map(|p| {
                    fill.iter()
                        .map(move |value| p.replace(&format!("{{{name}}}"), value))
                })
                .collect();
        }
        for path in paths {
            urls.insert(path.clone());
            for (name, place) in &parameters {
                if place != "query" {
                    continue;
                }
                for value in values.get(name.as_str()).cloned().unwrap_or_default() {
                    urls.insert(format!("{path}?{name}={value}"));
                    urls.insert(format!("{path}?{name}={value}&format=xlsx"));
                }
            }
        }
    }
    urls.into_iter().collect()
}

/// Everything a response shows its reader, as text: status, headers and body; a workbook's every
/// part unpacked; in JSON, every string that is base64 also decoded.
fn readable(status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> String {
    let mut text = format!("{status}\n");
    for (name, value) in headers {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    if body.starts_with(b"PK\x03\x04") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
        for index in 0..archive.len() {
            let mut part = archive.by_index(index).unwrap();
            let mut bytes = Vec::new();
            part.read_to_end(&mut bytes).unwrap();
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    } else {
        text.push_str(&String::from_utf8_lossy(body));
        if let Ok(json) = serde_json::from_slice::<Value>(body) {
            decode_base64_strings(&json, &mut text);
        }
    }
    text
}

fn decode_base64_strings(value: &Value, text: &mut String) {
    match value {
        Value::String(s) if s.len() >= 16 => {
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(s) {
                text.push('\n');
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| decode_base64_strings(v, text)),
        Value::Object(members) => members
            .values()
            .for_each(|v| decode_base64_strings(v, text)),
        _ => {}
    }
}

/// The links of a page that stay on the site.
pub fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .map(|href| href.replace("&amp;", "&"))
        .collect()
}

/// Everything `party` (a user name, or `PUBLIC`) reaches: the `api` URLs with its API token, and
/// the pages reached by links from the home page with its browser session.
pub async fn crawl(server: &Server, party: &str, api: &[String]) -> Vec<Response> {
    let user = (party != PUBLIC).then_some(party);
    let cookie = match user {
        Some(user) => Some(server.session(user).await.0),
        None => None,
    };
    let fetch = |url: String, as_page: bool| {
        let mut request = server.client.get(format!("{}{url}", server.base));
        if let (Some(user), false) = (user, as_page) {
            request = request.bearer_auth(server.token(user));
        }
        if let (Some(cookie), true) = (&cookie, as_page) {
            request = request.header("cookie", cookie.as_str());
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let content_type = headers
                .get("content-type")
                .and_then(|t| t.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let body = response.bytes().await.unwrap().to_vec();
            Response {
                url: if as_page { format!("page {url}") } else { url },
                status,
                content_type,
                text: readable(status, &headers, &body),
                body,
            }
        }
    };
    let mut seen = Vec::new();
    for url in api {
        seen.push(fetch(url.clone(), false).await);
    }
    let mut visited = BTreeSet::new();
    let mut queue: VecDeque<String> = ["/", "/home", "/overview", "/sign-in"]
        .map(String::from)
        .into();
    while let Some(path) = queue.pop_front() {
        if visited.len() >= 800 || path.starts_with("/sign-out") || !visited.insert(path.clone()) {
            continue;
        }
        let response = fetch(path, true).await;
        if response.content_type.starts_with("text/html") {
            queue.extend(links(&String::from_utf8_lossy(&response.body)));
        }
        seen.push(response);
    }
    seen
}
