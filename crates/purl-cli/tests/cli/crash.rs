//! `kill -9` in the middle of a long import: afterwards the whole import is there or none of it,
//! and `purl verify` passes.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::{path, Installation};

const PLEDGES: usize = 20_000;

fn big_pledge_file(installation: &Installation) -> std::path::PathBuf {
    let mut text = String::from("reference,contributors,amount,currency,announced_on,status,part_of,categories,lethal_allowed,package,conditions,public,note\n");
    for n in 0..PLEDGES {
        text.push_str(&format!(
            "BULK-{n:06},NL;DE,{}.{:02},USD,2025-12-01,committed,,,true,,,false,bulk row {n}\n",
            1_000 + n,
            n % 100
        ));
    }
    installation.write_file("bulk.csv", &text)
}

/// Starts the import, waits until it reports that it is writing, then kills it after `delay_ms`.
fn kill_while_writing(installation: &Installation, file: &std::path::Path, delay_ms: u64) -> bool {
    let mut child = installation
        .command()
        .args(["import", "pledges", path(file)])
        .env("RUST_LOG", "purl_app=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut writing = false;
    for line in stderr.lines() {
        if line.unwrap().contains("writing") {
            writing = true;
            break;
        }
    }
    assert!(writing, "the import announced that it was writing");
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    // SIGKILL: no destructor, no rollback by the process itself.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    !status.success()
}

#[test]
fn a_killed_import_leaves_all_or_nothing_and_a_ledger_that_verifies() {
    let installation = Installation::new();
    let file = big_pledge_file(&installation);
    let mut killed_before_done = 0;
    for delay_ms in [0, 2, 5, 10, 20, 40, 80] {
        let killed = kill_while_writing(&installation, &file, delay_ms);
        let pledges = installation
            .json(&["pledge", "list"])
            .as_array()
            .unwrap()
            .len();
        assert!(
            pledges == 0 || pledges == PLEDGES,
            "after a kill at +{delay_ms} ms: {pledges} pledges"
        );
        let verify = installation.ok(&["verify"]);
        assert!(verify.starts_with("ok:"), "{verify}");
        if killed && pledges == 0 {
            killed_before_done += 1;
        }
        if pledges == PLEDGES {
            break;
        }
    }
    assert!(
        killed_before_done > 0,
        "at least one kill landed before the import was durable"
    );
    let integrity = installation.ok(&["import", "pledges", path(&file)]);
    assert!(
        integrity.contains(&format!("{PLEDGES} row(s) read")),
        "{integrity}"
    );
    assert_eq!(
        installation
            .json(&["pledge", "list"])
            .as_array()
            .unwrap()
            .len(),
        PLEDGES
    );
    installation.ok(&["verify"]);
}
