//! Password hashing: argon2id with the crate's default (OWASP) parameters, on two threads of its
//! own that each keep one block of working memory for every hash they run. Allocating 19 MiB per
//! hash instead leaves the memory with the allocator (glibc raises its mmap threshold after the
//! first free): 8 sign-ins in a row kept 160 MiB before this.

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::AppError;

thread_local! {
    /// The working memory of this thread's hashes, reused from one hash to the next.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 of `password` and the raw `salt` under `params`, into `out`, in this thread's memory.
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let needed = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    MEMORY.with_borrow_mut(|blocks| {
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
    })
}

/// The PHC string of a new hash of `password` with a fresh salt.
pub(super) fn hash_password(password: &str) -> Result<String, AppError> {
    let failed = |error: &dyn std::fmt::Display| {
        AppError::Invalid(format!("password could not be hashed: {error}"))
    };
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut raw_salt = [0u8; 64];
    let raw_salt = salt
        .as_salt()
        .decode_b64(&mut raw_salt)
        .map_err(|e| failed(&e))?;
    let params = Params::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password.as_bytes(),
        raw_salt,
        &mut out,
    )
    .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

/// Whether `password` is the one `stored` (a PHC string) was made from; compared in constant time.
pub(super) fn password_matches(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let mut raw_salt = [0u8; 64];
    let (Ok(version), Ok(raw_salt)) = (version, salt.decode_b64(&mut raw_salt)) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    argon2_into(
        algorithm,
        version,
        params,
        password.as_bytes(),
        raw_salt,
        &mut out,
    )
    .is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// A hash of a password nobody has, verified against when the account does not exist, so an
/// unknown account takes as long to refuse as a known one.
pub(super) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&super::random_secret()).unwrap_or_default())
}

/// Password hashes running at once, at most: each takes 19 MiB, so a burst of sign-ins queues
/// instead of exhausting memory.
pub const HASHES_AT_ONCE_MAX: usize = 2;

/// What password hashing this process did: how many hashes ran and the most at once.
#[derive(Debug, Default)]
pub struct Hashing {
    runs: std::sync::atomic::AtomicU64,
    running: std::sync::atomic::AtomicUsize,
    most_at_once: std::sync::atomic::AtomicUsize,
}

/// `Hashing` as read at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingFigures {
    pub runs: u64,
    pub most_at_once: usize,
}

type HashingJob = Box<dyn FnOnce() + Send>;

/// The threads password hashing runs on, `HASHES_AT_ONCE_MAX` of them and no others: memory a
/// thread frees stays with its allocator arena, so hashing on the shared blocking pool would keep
/// 19 MiB for every pool thread that ever hashed.
fn hashing_threads() -> &'static std::sync::mpsc::Sender<HashingJob> {
    static THREADS: std::sync::OnceLock<std::sync::mpsc::Sender<HashingJob>> =
        std::sync::OnceLock::new();
    THREADS.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel::<HashingJob>();
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        for n in 0..HASHES_AT_ONCE_MAX {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("purl-hashing-{n}"))
                .spawn(move || loop {
                    let job = receiver
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                })
                .expect("a hashing thread starts");
        }
        sender
    })
}

impl Hashing {
    /// Runs password hashing off the async threads, on the hashing threads, at most
    /// `HASHES_AT_ONCE_MAX` at a time in the whole process (the others wait their turn).
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        use std::sync::atomic::Ordering::SeqCst;
        static PERMITS: tokio::sync::Semaphore =
            tokio::sync::Semaphore::const_new(HASHES_AT_ONCE_MAX);
        let _permit = PERMITS
            .acquire()
            .await
            .expect("the semaphore is never closed");
        self.runs.fetch_add(1, SeqCst);
        let running = self.running.fetch_add(1, SeqCst) + 1;
        self.most_at_once.fetch_max(running, SeqCst);
        let (done, result) = tokio::sync::oneshot::channel();
        let job: HashingJob = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = done.send(outcome);
        });
        let sent = hashing_threads().send(job);
        let result = result.await;
        self.running.fetch_sub(1, SeqCst);
        sent.expect("the hashing threads run");
        match result {
            Ok(Ok(value)) => value,
            _ => panic!("password hashing panicked"),
        }
    }

    pub fn figures(&self) -> HashingFigures {
        use std::sync::atomic::Ordering::SeqCst;
        HashingFigures {
            runs: self.runs.load(SeqCst),
            most_at_once: self.most_at_once.load(SeqCst),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_agree_with_the_argon2_crates_own_hashing_both_ways() {
        let ours = hash_password("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"correct horse batterz", &parsed)
            .is_err());
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = Argon2::default()
            .hash_password(b"another passphrase", &salt)
            .unwrap()
            .to_string();
        assert!(password_matches("another passphrase", &theirs));
        assert!(!password_matches("another passphrasf", &theirs));
        assert!(!password_matches("another passphrase", "not a hash"));
    }
}
