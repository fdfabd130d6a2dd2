//! `purl`: the PURL Ledger command line.

/// Prints a line to standard output; a closed pipe (`purl pledge list | head`) ends the program
/// quietly instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {
        crate::output::write_stdout(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// Like `say!` without the newline.
macro_rules! say_raw {
    ($($arg:tt)*) => {
        crate::output::write_stdout(&format!($($arg)*))
    };
}

mod allocate;
mod cli;
mod demo;
mod export;
mod install;
mod ledger;
mod open_data;
mod output;
mod parse;
mod progress;
mod read;
mod run;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(if matches!(cli.command, cli::Command::Serve(_)) {
        "info"
    } else {
        "warn"
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run::run(cli));
    // A task still running (a request the server stopped waiting for) must not keep the process.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to standard error, filtered by `RUST_LOG` (default: warnings only, so command output
/// stays clean; the server logs at info).
fn init_tracing(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
