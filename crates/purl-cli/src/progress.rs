//! Progress bars for long commands: each step of the work with how much of it is done.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar for the work on `what`, drawn on the terminal (hidden when output is not a terminal).
pub fn bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::new(0).with_prefix(what.to_owned());
    bar.set_style(
        ProgressStyle::with_template("{prefix}: {msg} {wide_bar} {human_pos}/{human_len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Shows that `done` of `total` of `step` are done.
pub fn show(bar: &ProgressBar, step: &str, done: u64, total: u64) {
    if bar.message() != step {
        bar.set_message(step.to_owned());
    }
    bar.set_length(total);
    bar.set_position(done);
}
