//! Seeds that replay a run, figures that are printed and kept, and the size of the run.

use std::io::Write as _;
use std::path::PathBuf;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// One reliability test's run: its name, its seed and a generator drawn from the seed. A run
/// whose figures are timings or memory peaks runs alone, so no other run disturbs them; the
/// others (their figures are counts) share the machine with one another.
pub struct Run {
    name: &'static str,
    pub seed: u64,
    _turn: Turn,
}

/// Held for the whole run.
enum Turn {
    Shared {
        _guard: tokio::sync::RwLockReadGuard<'static, ()>,
    },
    Alone {
        _guard: tokio::sync::RwLockWriteGuard<'static, ()>,
    },
}

static TURN: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

impl Run {
    /// Starts a run beside other runs whose figures are counts (see [`Run::start_alone`]).
    pub async fn start(name: &'static str) -> Run {
        Self::start_with(
            name,
            Turn::Shared {
                _guard: TURN.read().await,
            },
        )
    }

    /// Waits until no other run is going, then starts a run that measures time or memory.
    pub async fn start_alone(name: &'static str) -> Run {
        Self::start_with(
            name,
            Turn::Alone {
                _guard: TURN.write().await,
            },
        )
    }

    /// Starts a run with the seed of `PURL_SEED`, or a fresh one, and prints how to replay it.
    fn start_with(name: &'static str, turn: Turn) -> Run {
        let seed = std::env::var("PURL_SEED")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or_else(rand::random);
        let run = Run {
            name,
            seed,
            _turn: turn,
        };
        // The test harness names the test's thread after the test.
        let test = std::thread::current()
            .name()
            .filter(|name| name.contains("::"))
            .map_or_else(|| name.to_owned(), str::to_owned);
        run.figure(&format!(
            "seed {seed} (replay: PURL_SEED={seed} cargo test -p purl-cli --test reliability {test} -- --exact --nocapture)"
        ));
        run
    }

    pub fn rng(&self) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.seed)
    }

    /// Prints a figure and appends it to `target/reliability/figures.txt`.
    pub fn figure(&self, text: &str) {
        let line = format!("{}: {text}", self.name);
        println!("{line}");
        let folder = target_folder().join("reliability");
        let _ = std::fs::create_dir_all(&folder);
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(folder.join("figures.txt"))
        {
            let _ = writeln!(file, "{line}");
        }
    }
}

fn target_folder() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The median of some durations, in milliseconds.
pub fn median_ms(durations: &mut [std::time::Duration]) -> f64 {
    durations.sort();
    let middle = durations.len() / 2;
    let median = if durations.len().is_multiple_of(2) && middle > 0 {
        (durations[middle - 1] + durations[middle]) / 2
    } else {
        durations[middle]
    };
    median.as_secs_f64() * 1000.0
}

/// Whether the long counts run (`PURL_RELIABILITY=full`).
pub fn full() -> bool {
    std::env::var("PURL_RELIABILITY").is_ok_and(|value| value == "full")
}

/// `per_change` normally, `full_count` with `PURL_RELIABILITY=full`.
pub fn count(per_change: usize, full_count: usize) -> usize {
    if full() {
        full_count
    } else {
        per_change
    }
}
