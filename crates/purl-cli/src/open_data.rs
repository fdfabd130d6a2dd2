//! `purl export public`: the open data files in a folder, with a changelog entry per publication.

use std::path::Path;

use anyhow::Context as _;
use purl_app::open_data::{OVERVIEW_SCHEMA, PLEDGES_SCHEMA};
use purl_app::App;
use purl_store::Store;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn write(folder: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<String> {
    let path = folder.join(name);
    std::fs::write(&path, bytes).with_context(|| format!("while writing {}", path.display()))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

fn pledges_csv(pledges: &[Value]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "reference",
        "contributors",
        "amount",
        "currency",
        "announced_on",
        "status",
        "part_of",
    ])?;
    for pledge in pledges {
        let text = |key: &str| pledge[key].as_str().unwrap_or_default().to_owned();
        let contributors: Vec<&str> = pledge["contributors"]
            .as_array()
            .map(|codes| codes.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        writer.write_record([
            text("reference"),
            contributors.join(";"),
            pledge["amount"]["amount"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            text("currency"),
            text("announced_on"),
            text("status"),
            text("part_of"),
        ])?;
    }
    Ok(writer.into_inner()?)
}

pub async fn export<S: Store>(
    app: &App<S>,
    folder: &Path,
    as_of: Option<&str>,
) -> anyhow::Result<()> {
    let as_of = match as_of {
        Some(date) => crate::parse::date("--as-of", date)?,
        None => app.today(),
    };
    let data = app.public_data(as_of).await.map_err(crate::run::explain)?;
    std::fs::create_dir_all(folder)
        .with_context(|| format!("while creating {}", folder.display()))?;
    let pretty = |value: &Value| serde_json::to_vec_pretty(value).expect("JSON serialises");
    let files = [
        ("overview.json", pretty(&data.overview)),
        ("overview.schema.json", OVERVIEW_SCHEMA.as_bytes().to_vec()),
        ("pledges.json", pretty(&Value::Array(data.pledges.clone()))),
        ("pledges.schema.json", PLEDGES_SCHEMA.as_bytes().to_vec()),
        ("pledges.csv", pledges_csv(&data.pledges)?),
    ];
    let mut listed = serde_json::Map::new();
    for (name, bytes) in &files {
        let sha256 = write(folder, name, bytes)?;
        listed.insert(
            (*name).to_owned(),
            json!({"sha256": sha256, "bytes": bytes.len()}),
        );
    }
    let changelog_path = folder.join("changelog.json");
    let mut changelog: Vec<Value> = match std::fs::read(&changelog_path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a changelog", changelog_path.display()))?,
        Err(_) => Vec::new(),
    };
    changelog.push(json!({
        "published_at": chrono::DateTime::from_timestamp_micros(app.now_us())
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        "as_of": as_of,
        "ledger_size": data.ledger_size,
        "public_pledges": data.pledges.len(),
        "files": listed,
    }));
    write(
        folder,
        "changelog.json",
        &pretty(&Value::Array(changelog.clone())),
    )?;
    say!(
        "ok: open data as of {as_of} in {} ({} public pledge(s); changelog entry {})",
        folder.display(),
        data.pledges.len(),
        changelog.len()
    );
    Ok(())
}
