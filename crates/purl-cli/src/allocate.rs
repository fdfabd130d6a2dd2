//! `purl allocate`: offline what-if allocation from a file, and the synthetic file generator.

use anyhow::{bail, Context as _};
use purl_app::allocation_file::{allocate_to_json, generate, parse_input};

use crate::cli::AllocateArgs;

pub fn run(args: &AllocateArgs) -> anyhow::Result<()> {
    if args.generate {
        let output = args
            .output
            .as_ref()
            .expect("clap requires --output with --generate");
        let text = generate(args.lines, args.funds, args.seed);
        std::fs::write(output, text)
            .with_context(|| format!("while writing {}", output.display()))?;
        eprintln!(
            "ok: {} lines and {} funds (seed {}) written to {}",
            args.lines,
            args.funds,
            args.seed,
            output.display()
        );
        return Ok(());
    }
    let path = args
        .input
        .as_ref()
        .expect("clap requires --input without --generate");
    let started = std::time::Instant::now();
    let text = std::fs::read(path).with_context(|| format!("while reading {}", path.display()))?;
    let input = match parse_input(&text) {
        Ok(input) => input,
        Err(problems) => bail!(
            "{}: {} problem(s):\n{}",
            path.display(),
            problems.len(),
            problems.join("\n")
        ),
    };
    let read_s = started.elapsed().as_secs_f64();
    let (json, allocation) =
        allocate_to_json(&input).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    tracing::info!(
        read_s,
        allocate_and_format_s = started.elapsed().as_secs_f64() - read_s,
        "allocated"
    );
    let full = allocation
        .lines
        .iter()
        .filter(|l| l.shortfall.is_none())
        .count();
    let partly = allocation
        .lines
        .iter()
        .filter(|l| l.shortfall.is_some() && l.funded_quantity > 0)
        .count();
    match &args.output {
        Some(output) => {
            std::fs::write(output, json)
                .with_context(|| format!("while writing {}", output.display()))?;
            eprintln!(
                "ok: {full} of {} lines fully funded, {partly} partly; written to {}",
                allocation.lines.len(),
                output.display()
            );
        }
        None => say_raw!("{json}"),
    }
    Ok(())
}

/// `purl allocate --live`: the approved list against the money at hand, as a table or JSON.
pub async fn live<S: purl_store::Store>(
    app: &purl_app::App<S>,
    args: &AllocateArgs,
    format: crate::cli::Format,
) -> anyhow::Result<()> {
    use purl_app::allocation_live::PreviewOptions;
    let period = args
        .period
        .as_deref()
        .map(crate::parse::period)
        .transpose()?;
    let options = PreviewOptions {
        include_committed: args.include_committed,
    };
    let actor = purl_core::user::Actor::Operator;
    let (preview, written) = if args.commit {
        let (preview, written) = app
            .commit_allocation(&actor, period, options)
            .await
            .map_err(crate::run::explain)?;
        (preview, Some(written))
    } else {
        (
            app.preview_allocation(&actor, period, options)
                .await
                .map_err(crate::run::explain)?,
            None,
        )
    };
    let money = |minor: i128| {
        format!(
            "{} USD",
            crate::output::grouped(&purl_core::money::format_minor(minor, 2))
        )
    };
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for (index, (line, outcome)) in preview
        .requirements
        .iter()
        .zip(&preview.allocation.lines)
        .enumerate()
    {
        let sources: Vec<String> = outcome
            .sources
            .iter()
            .map(|(f, m)| format!("{} {}", preview.funds[*f].id, money(i128::from(*m))))
            .collect();
        let reason = outcome.shortfall.as_ref().map(|s| {
            s.binding
                .sentence(&|f| preview.funds[f].id.clone(), &money, s.more_money)
        });
        rows.push(vec![
            line.rank.to_string(),
            line.id.clone(),
            preview.items[index].clone(),
            format!(
                "{}{}",
                line.category,
                if line.lethal { " (lethal)" } else { "" }
            ),
            format!("{} of {}", outcome.funded_quantity, line.quantity),
            sources.join("; "),
            reason.clone().unwrap_or_default(),
        ]);
        lines.push(serde_json::json!({
            "id": line.id, "rank": line.rank, "item": preview.items[index], "wanted_quantity": line.quantity,
            "funded_quantity": outcome.funded_quantity,
            "sources": outcome.sources.iter().map(|(f, m)| serde_json::json!({"fund": preview.funds[*f].id, "amount": purl_core::money::format_minor(i128::from(*m), 2)})).collect::<Vec<_>>(),
            "reason": reason,
        }));
    }
    let funds: Vec<_> = preview.funds.iter().zip(&preview.allocation.remaining).map(|(f, r)| serde_json::json!({"id": f.id, "contributor": f.contributor, "available": purl_core::money::format_minor(i128::from(f.amount), 2), "remaining": purl_core::money::format_minor(i128::from(*r), 2)})).collect();
    if format == crate::cli::Format::Json {
        return crate::output::json(&serde_json::json!({
            "period": preview.period, "list_version": preview.list_version, "currency": "USD",
            "lines": lines, "funds": funds, "notes": preview.notes, "written": written,
        }));
    }
    match &written {
        Some(written) => say!(
            "allocation of list {} v{} recorded in the ledger (entry {}; USD at recorded rates)",
            preview.period,
            preview.list_version,
            written.last_seq.unwrap_or_default()
        ),
        None => say!(
            "allocation preview of list {} v{} (nothing is written; USD at recorded rates)",
            preview.period,
            preview.list_version
        ),
    }
    crate::output::table(
        &[
            "rank",
            "line",
            "item",
            "category",
            "funded",
            "paid by",
            "why not fully funded",
        ],
        rows,
    );
    for note in &preview.notes {
        say!("note: {note}");
    }
    Ok(())
}
