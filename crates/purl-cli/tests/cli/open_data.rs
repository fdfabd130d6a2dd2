//! The open data: valid against its own JSON Schemas, nothing that is not public, a changelog.

use crate::support::{path, Installation};

fn json(file: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

#[test]
fn the_open_data_validates_against_its_schemas_and_holds_only_public_pledges() {
    let installation = Installation::demo();
    let folder = installation.folder.path().join("public");
    installation.ok(&[
        "export",
        "public",
        "--output",
        path(&folder),
        "--as-of",
        "2025-12-03",
    ]);
    for (data, schema) in [
        ("overview.json", "overview.schema.json"),
        ("pledges.json", "pledges.schema.json"),
    ] {
        let validator = jsonschema::validator_for(&json(&folder.join(schema))).unwrap();
        let instance = json(&folder.join(data));
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|error| format!("{} at {}", error, error.instance_path))
            .collect();
        assert!(errors.is_empty(), "{data}: {errors:?}");
    }
    let pledges = json(&folder.join("pledges.json"));
    assert!(!pledges.as_array().unwrap().is_empty());
    let everything = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect::<String>();
    // Pledges the demo keeps confidential, and what no public file may carry.
    for secret in [
        "ESP-2025-10",
        "HRV-2025-11",
        "\"conditions\"",
        "\"note\"",
        "\"paid_usd\"",
    ] {
        assert!(!everything.contains(secret), "{secret} is in the open data");
    }
    let csv = std::fs::read_to_string(folder.join("pledges.csv")).unwrap();
    assert_eq!(csv.lines().count(), pledges.as_array().unwrap().len() + 1);
    installation.ok(&["export", "public", "--output", path(&folder)]);
    let changelog = json(&folder.join("changelog.json"));
    let entries = changelog.as_array().unwrap();
    assert_eq!(entries.len(), 2, "one entry per publication");
    assert_eq!(entries[0]["as_of"], "2025-12-03");
    assert!(entries[1]["files"]["pledges.json"]["sha256"].is_string());
}
