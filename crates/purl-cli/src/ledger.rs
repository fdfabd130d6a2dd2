//! Checkpoints, proofs, evidence and the offline audit.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _};
use purl_app::ledger::{decode_hashes, ConsistencyProof};
use purl_app::App;
use purl_core::checkpoint::VerifierKey;
use purl_core::evidence::{verify_bundle, EvidenceBundle};
use purl_core::merkle;

use crate::cli::{AuditCommand, CheckpointCommand, Cli, EvidenceCommand, Format, ProofCommand};
use crate::run::explain;
use crate::{install, output, parse};

/// Writes `text` to `output`, or prints it.
fn emit(output: Option<&PathBuf>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("while writing {}", path.display()))?;
            say!("ok: written to {}", path.display());
        }
        None => say_raw!("{text}"),
    }
    Ok(())
}

fn json_text<T: serde::Serialize>(value: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// After a write: sign a checkpoint if enough events or time have passed.
/// The write itself is already durable, so a missing or unusable key is a warning, not a failure.
pub async fn after_write<S: purl_store::Store>(app: &App<S>, cli: &Cli) -> anyhow::Result<()> {
    let signer = match install::signer(cli) {
        Ok(signer) => signer,
        Err(error) => {
            eprintln!("warning: the write is recorded, but no checkpoint can be signed: {error:#}");
            return Ok(());
        }
    };
    if let Some(checkpoint) = app.maybe_checkpoint(&signer).await.map_err(explain)? {
        tracing::info!(size = checkpoint.size, "checkpoint signed");
    }
    Ok(())
}

pub async fn key_show_public<S: purl_store::Store>(app: &App<S>, cli: &Cli) -> anyhow::Result<()> {
    let key = match install::signer(cli) {
        Ok(signer) => signer.verifier(),
        Err(_) => app
            .verifier_key()
            .await
            .map_err(explain)?
            .ok_or_else(|| anyhow!("this installation has no checkpoint key"))?,
    };
    say!("{}", key.encode());
    Ok(())
}

pub async fn checkpoint<S: purl_store::Store>(
    app: &App<S>,
    cli: &Cli,
    command: &CheckpointCommand,
) -> anyhow::Result<()> {
    match command {
        CheckpointCommand::Create => {
            let checkpoint = app
                .sign_checkpoint(&install::signer(cli)?)
                .await
                .map_err(explain)?;
            say_raw!("{}", checkpoint.note);
        }
        CheckpointCommand::List => {
            let checkpoints = app.store().checkpoints().await?;
            let rows = checkpoints
                .iter()
                .map(|c| vec![c.size.to_string(), hex::encode(c.root), at(c.at_us)])
                .collect();
            let value: Vec<_> = checkpoints.iter().map(|c| serde_json::json!({"size": c.size, "root": hex::encode(c.root), "signed_at": at(c.at_us), "note": c.note})).collect();
            output::read(
                cli.format,
                &value,
                &["tree size", "root (hex)", "signed at"],
                rows,
            )?;
        }
        CheckpointCommand::Show { size, output } => {
            let checkpoint = app.checkpoint_at(*size).await.map_err(explain)?;
            emit(output.as_ref(), &checkpoint.note)?;
        }
    }
    Ok(())
}

fn at(at_us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(at_us)
        .map_or_else(|| at_us.to_string(), |t| t.to_rfc3339())
}

pub async fn proof<S: purl_store::Store>(
    app: &App<S>,
    command: &ProofCommand,
) -> anyhow::Result<()> {
    let latest = || async {
        app.checkpoint_at(None)
            .await
            .map(|c| c.size)
            .map_err(explain)
    };
    match command {
        ProofCommand::Inclusion { seq, size, output } => {
            let size = match size {
                Some(size) => *size,
                None => latest().await?,
            };
            let proof = app.inclusion_proof(*seq, size).await.map_err(explain)?;
            emit(output.as_ref(), &json_text(&proof)?)
        }
        ProofCommand::Consistency { from, to, output } => {
            let to = match to {
                Some(to) => *to,
                None => latest().await?,
            };
            let proof = app.consistency_proof(*from, to).await.map_err(explain)?;
            emit(output.as_ref(), &json_text(&proof)?)
        }
    }
}

pub async fn evidence<S: purl_store::Store>(
    app: &App<S>,
    command: &EvidenceCommand,
) -> anyhow::Result<()> {
    let EvidenceCommand::Export {
        participant,
        size,
        output,
    } = command;
    let bundle = app
        .evidence(&parse::participant(participant)?, *size)
        .await
        .map_err(explain)?;
    std::fs::write(output, json_text(&bundle)?)
        .with_context(|| format!("while writing {}", output.display()))?;
    say!(
        "ok: {} record(s) of {participant} with inclusion proofs written to {}",
        bundle.entries.len(),
        output.display()
    );
    Ok(())
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("while reading {}", path.display()))
}

/// The verifier key given on the command line, or read from the file it names.
fn verifier(key: &str) -> anyhow::Result<VerifierKey> {
    let path = Path::new(key);
    let text = if path.is_file() {
        read(path)?
    } else {
        key.to_owned()
    };
    VerifierKey::parse(&text).map_err(|e| anyhow!("--key: {e}"))
}

/// Offline checks: no installation, no network.
pub fn audit(command: &AuditCommand, format: Format) -> anyhow::Result<ExitCode> {
    let result = match command {
        AuditCommand::Checkpoint { key, checkpoint } => {
            let opened = verifier(key)?
                .open(&read(checkpoint)?)
                .map_err(|e| anyhow!("{}: {e}", checkpoint.display()));
            opened.map(|c| serde_json::json!({"ok": true, "origin": c.origin, "tree_size": c.size, "root": hex::encode(c.root)}))
        }
        AuditCommand::Evidence { key, bundle } => audit_evidence(&verifier(key)?, bundle),
        AuditCommand::Consistency {
            key,
            old,
            new,
            proof,
        } => audit_consistency(&verifier(key)?, old, new, proof),
    };
    match result {
        Ok(value) => {
            if format == Format::Json {
                output::json(&value)?;
            } else {
                say!("ok: {value}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            if format == Format::Json {
                output::json(&serde_json::json!({"ok": false, "error": format!("{error:#}")}))?;
            } else {
                say!("FAILED: {error:#}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

fn audit_evidence(key: &VerifierKey, path: &Path) -> anyhow::Result<serde_json::Value> {
    let bundle: EvidenceBundle = serde_json::from_str(&read(path)?)
        .with_context(|| format!("{} is not an evidence bundle", path.display()))?;
    let (checkpoint, events) =
        verify_bundle(&bundle, key).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let records: Vec<_> = events
        .iter()
        .map(|e| serde_json::json!({"seq": e.seq, "event": e.event.kind(), "actor": e.actor}))
        .collect();
    Ok(
        serde_json::json!({"ok": true, "participant": bundle.participant, "tree_size": checkpoint.size, "records_verified": records.len(), "records": records}),
    )
}

fn audit_consistency(
    key: &VerifierKey,
    old: &Path,
    new: &Path,
    proof: &Path,
) -> anyhow::Result<serde_json::Value> {
    let old_checkpoint = key
        .open(&read(old)?)
        .map_err(|e| anyhow!("{}: {e}", old.display()))?;
    let new_checkpoint = key
        .open(&read(new)?)
        .map_err(|e| anyhow!("{}: {e}", new.display()))?;
    let proof: ConsistencyProof =
        serde_json::from_str(&read(proof)?).context("the proof file is not a consistency proof")?;
    if proof.old_size != old_checkpoint.size || proof.new_size != new_checkpoint.size {
        bail!(
            "the proof is between sizes {} and {}, the checkpoints are {} and {}",
            proof.old_size,
            proof.new_size,
            old_checkpoint.size,
            new_checkpoint.size
        );
    }
    merkle::verify_consistency(
        old_checkpoint.size,
        new_checkpoint.size,
        &old_checkpoint.root,
        &new_checkpoint.root,
        &decode_hashes(&proof.proof).map_err(|e| anyhow!(e))?,
    )
    .map_err(|e| anyhow!("the newer checkpoint does not extend the older one: {e}"))?;
    Ok(
        serde_json::json!({"ok": true, "old_size": old_checkpoint.size, "new_size": new_checkpoint.size}),
    )
}
