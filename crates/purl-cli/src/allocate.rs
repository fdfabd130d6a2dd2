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

/// `purl package form`: packages from a committed allocation, as a table or JSON.
pub async fn form_packages<S: purl_store::Store>(
    app: &purl_app::App<S>,
    cli: &crate::cli::Cli,
    allocation: Option<u32>,
    target_usd: &str,
) -> anyhow::Result<()> {
    let target = crate::parse::usd("--target-usd", target_usd)?;
    let formed = app
        .form_packages(
            &purl_core::user::Actor::Operator,
            allocation,
            target.minor(),
            cli.idempotency_key.clone(),
        )
        .await
        .map_err(crate::run::explain)?;
    if cli.format == crate::cli::Format::Json {
        return crate::output::json(&formed);
    }
    let usd = |money: purl_core::money::Money| {
        format!("{} USD", crate::output::grouped(&money.amount_string()))
    };
    let mut rows = Vec::new();
    for package in &formed.packages {
        let lines: Vec<String> = package
            .lines
            .iter()
            .map(|l| format!("{} × {}", l.line_id, l.quantity))
            .collect();
        let money: Vec<String> = package
            .contributions
            .iter()
            .map(|c| {
                let conditions = if c.conditions.is_empty() {
                    String::new()
                } else {
                    format!(" [conditions: {}]", c.conditions)
                };
                format!("{} {} (= {}){conditions}", c.pledge, c.amount, usd(c.usd))
            })
            .collect();
        rows.push(vec![
            package.number.to_string(),
            usd(package.value),
            lines.join(", "),
            money.join("; "),
        ]);
    }
    crate::output::table(&["package", "value", "lines", "contributions"], rows);
    say!(
        "{} package(s) formed from allocation {} (status forming: review, then `purl package status N funded`)",
        formed.packages.len(),
        formed.allocation
    );
    crate::output::written(cli.format, &formed.written)
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
            reason.unwrap_or_default(),
        ]);
    }
    if format == crate::cli::Format::Json {
        return crate::output::json(&preview.to_json(written.as_ref()));
    }
    match &written {
        Some(written) => say!(
            "allocation of list {} v{} recorded in the ledger (entry {}; USD at today's recorded rates)",
            preview.period,
            preview.list_version,
            written.last_seq.unwrap_or_default()
        ),
        None => say!(
            "allocation preview of list {} v{} (nothing is written; USD at today's recorded rates)",
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
