//! How often a password may be checked for one account name: at most `max` checks in any window
//! of `window_us`. Kept in memory by the process, for known and unknown names alike, so a refusal
//! says nothing about whether the account exists and costs no password hash.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Names kept before the expired ones are swept out (bounds the memory an attacker can fill by
/// trying many names; the per-address limit bounds how fast it can try them).
const SWEEP_AT: usize = 4096;

#[derive(Debug, Default)]
pub struct Throttle {
    checks: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Throttle {
    /// Records a check for `account` at `now_us` if fewer than `max` happened in the window before
    /// it; otherwise answers how many whole seconds until the next check is allowed.
    pub fn admit(&self, account: &str, now_us: i64, max: u32, window_us: i64) -> Result<(), u64> {
        let key = account.to_lowercase();
        let mut checks = self
            .checks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if checks.len() >= SWEEP_AT {
            checks.retain(|_, times| times.back().is_some_and(|last| now_us - last < window_us));
        }
        let times = checks.entry(key).or_default();
        while times
            .front()
            .is_some_and(|first| now_us - first >= window_us)
        {
            times.pop_front();
        }
        if times.len() >= max.max(1) as usize {
            let first = times.front().copied().unwrap_or(now_us);
            let wait_us = (first + window_us - now_us).max(1);
            return Err(wait_us.unsigned_abs().div_ceil(1_000_000));
        }
        times.push_back(now_us);
        Ok(())
    }

    /// Gives back the check `admit` recorded last for `account`: a correct password does not use
    /// up the allowance, so only wrong guesses are limited.
    pub fn give_back(&self, account: &str) {
        let mut checks = self
            .checks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(times) = checks.get_mut(&account.to_lowercase()) {
            times.pop_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000_000;

    #[test]
    fn allows_max_checks_per_window_then_says_when_to_come_back() {
        let throttle = Throttle::default();
        for second in 0..10 {
            assert_eq!(
                throttle.admit("nld.mod", second * 1_000_000, 10, 15 * MINUTE),
                Ok(())
            );
        }
        assert_eq!(
            throttle.admit("NLD.MOD", 10_000_000, 10, 15 * MINUTE),
            Err(15 * 60 - 10),
            "the name's case does not matter; the first check leaves the window at 15 min"
        );
        assert_eq!(
            throttle.admit("other.name", 10_000_000, 10, 15 * MINUTE),
            Ok(())
        );
        assert_eq!(
            throttle.admit("nld.mod", 15 * MINUTE, 10, 15 * MINUTE),
            Ok(())
        );
        assert_eq!(
            throttle.admit("nld.mod", 15 * MINUTE, 10, 15 * MINUTE),
            Err(1),
            "the second check leaves the window a second later"
        );
    }

    #[test]
    fn a_check_given_back_does_not_count() {
        let throttle = Throttle::default();
        for _ in 0..20 {
            throttle.admit("nld.mod", 0, 10, MINUTE).unwrap();
            throttle.give_back("nld.mod");
        }
        for _ in 0..10 {
            throttle.admit("nld.mod", 0, 10, MINUTE).unwrap();
        }
        assert_eq!(throttle.admit("nld.mod", 0, 10, MINUTE), Err(60));
    }

    #[test]
    fn expired_names_are_swept_out() {
        let throttle = Throttle::default();
        for n in 0..SWEEP_AT {
            throttle.admit(&format!("name{n}"), 0, 10, MINUTE).unwrap();
        }
        throttle.admit("late", 2 * MINUTE, 10, MINUTE).unwrap();
        assert_eq!(throttle.checks.lock().unwrap().len(), 1);
    }
}
