//! Printing: tables for people, JSON for programs.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use purl_app::Written;
use serde::Serialize;

use crate::cli::Format;

pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    say!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(headers.iter().copied());
    let count = rows.len();
    for row in rows {
        table.add_row(row);
    }
    say!("{table}");
    say!("{count} row(s)");
}

/// Prints a read as JSON (`value`) or as a table (`headers`, `rows`).
pub fn read<T: Serialize>(
    format: Format,
    value: &T,
    headers: &[&str],
    rows: Vec<Vec<String>>,
) -> anyhow::Result<()> {
    match format {
        Format::Json => json(value),
        Format::Table => {
            table(headers, rows);
            Ok(())
        }
    }
}

pub fn written(format: Format, written: &Written) -> anyhow::Result<()> {
    if format == Format::Json {
        return json(written);
    }
    let replay = if written.replayed {
        " (a repeat of an earlier request: nothing new written)"
    } else {
        ""
    };
    match (written.first_seq, written.last_seq) {
        (Some(first), Some(last)) if first == last => {
            say!("ok: 1 event written, ledger entry {first}{replay}")
        }
        (Some(first), Some(last)) => say!(
            "ok: {} events written, ledger entries {first}-{last}{replay}",
            written.events
        ),
        _ => say!("ok: nothing to change{replay}"),
    }
    Ok(())
}

/// Thousands separators for people: 1234567.50 -> 1,234,567.50.
pub fn grouped(amount: &str) -> String {
    let (sign, digits) = amount
        .strip_prefix('-')
        .map_or(("", amount), |rest| ("-", rest));
    let (whole, fraction) = digits
        .split_once('.')
        .map_or((digits, None), |(w, f)| (w, Some(f)));
    let mut out = String::new();
    for (index, ch) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    match fraction {
        Some(fraction) => format!("{sign}{out}.{fraction}"),
        None => format!("{sign}{out}"),
    }
}

pub fn money(money: purl_core::money::Money) -> String {
    format!("{} {}", grouped(&money.amount_string()), money.currency())
}

/// Writes to standard output; exits quietly if the reader has gone away.
pub fn write_stdout(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {error}");
        std::process::exit(1);
    }
}
