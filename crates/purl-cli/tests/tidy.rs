#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! The rules of the code base that a reviewer should not have to remember (after TigerBeetle's
//! tidy): each ban names what to use instead.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn rust_files(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "target") {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&workspace().join("crates"), &mut files);
    files
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(workspace())
                .unwrap()
                .display()
                .to_string();
            (relative, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

#[test]
fn banned_constructs_are_absent() {
    // Built from pieces so this file does not ban itself.
    let bans = [
        (
            ["Utc", "::now"].concat(),
            "read the time through purl_app::Clock",
            "crates/purl-app/src/clock.rs",
        ),
        (
            ["SystemTime", "::now"].concat(),
            "read the time through purl_app::Clock",
            "crates/purl-app/src/clock.rs",
        ),
        (["dbg", "!("].concat(), "use tracing", ""),
        (["todo", "!("].concat(), "finish it or leave it out", ""),
        (
            ["unimplemented", "!("].concat(),
            "finish it or leave it out",
            "",
        ),
        (["SELECT", " *"].concat(), "name the columns", ""),
    ];
    let mut found = Vec::new();
    for (path, text) in sources() {
        for (pattern, instead, allowed_in) in &bans {
            if text.contains(pattern.as_str()) && path != *allowed_in {
                found.push(format!("{path}: `{pattern}`: {instead}"));
            }
        }
        let prints = text.contains("println!(") || text.contains("eprintln!(");
        // A build script talks to cargo through its standard output.
        let may_print = path.starts_with("crates/purl-cli/")
            || path.starts_with("crates/purl-bench/")
            || path.ends_with("/build.rs");
        if prints && !may_print {
            found.push(format!(
                "{path}: printing from a library: log through tracing or return the text"
            ));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

fn dependencies(krate: &str) -> Vec<String> {
    let manifest =
        std::fs::read_to_string(workspace().join("crates").join(krate).join("Cargo.toml")).unwrap();
    let mut names = Vec::new();
    let mut in_dependencies = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if in_dependencies {
            if let Some((name, _)) = line.split_once(['=', '.']) {
                names.push(name.trim().to_owned());
            }
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

#[test]
fn the_domain_core_depends_on_no_io_crate() {
    let allowed = [
        "base64",
        "chrono",
        "ed25519-dalek",
        "hex",
        // persistent maps for the state
        "imbl",
        "iso_currency",
        "itoa",
        "serde",
        "serde_json",
        "sha2",
        "thiserror",
    ];
    let extra: Vec<String> = dependencies("purl-core")
        .into_iter()
        .filter(|d| !allowed.contains(&d.as_str()))
        .collect();
    assert!(
        extra.is_empty(),
        "purl-core must stay pure; these need a decision: {extra:?}"
    );
}

#[test]
fn only_the_binaries_name_a_concrete_storage_backend() {
    for krate in ["purl-core", "purl-store", "purl-app"] {
        let backends: Vec<String> = dependencies(krate)
            .into_iter()
            .filter(|d| d.starts_with("purl-store-"))
            .collect();
        assert!(
            backends.is_empty(),
            "{krate} names {backends:?}: take a `S: Store` instead"
        );
    }
}
