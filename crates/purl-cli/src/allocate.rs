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
        None => print!("{json}"),
    }
    Ok(())
}
