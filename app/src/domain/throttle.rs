//! Login throttling per account and per client IP. Kept in memory: it protects one process
//! from online guessing, and losing counters on restart only resets a window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AppError;

#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    pub per_account: u32,
    pub per_ip: u32,
    pub window: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_ip: 30,
            window: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    started: Instant,
    failures: u32,
}

pub struct LoginThrottle {
    limits: ThrottleLimits,
    accounts: Mutex<HashMap<String, Counter>>,
    ips: Mutex<HashMap<String, Counter>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(ThrottleLimits::default())
    }
}

/// Counters kept before stale ones are swept; bounds memory under a spray of addresses.
const SWEEP_AT: usize = 10_000;

impl LoginThrottle {
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            accounts: Mutex::default(),
            ips: Mutex::default(),
        }
    }

    /// Refuses an attempt while the account or the address is over its limit.
    pub fn check(&self, account: &str, ip: Option<&str>) -> Result<(), AppError> {
        let now = Instant::now();
        if let Some(wait) = self.blocked(&self.accounts, account, self.limits.per_account, now) {
            return Err(AppError::TooManyRequests(format!(
                "Too many failed sign-in attempts for this account. Try again in {}.",
                minutes(wait)
            )));
        }
        if let Some(ip) = ip
            && let Some(wait) = self.blocked(&self.ips, ip, self.limits.per_ip, now)
        {
            return Err(AppError::TooManyRequests(format!(
                "Too many failed sign-in attempts from your network. Try again in {}.",
                minutes(wait)
            )));
        }
        Ok(())
    }

    pub fn record_failure(&self, account: &str, ip: Option<&str>) {
        let now = Instant::now();
        self.bump(&self.accounts, account, now);
        if let Some(ip) = ip {
            self.bump(&self.ips, ip, now);
        }
    }

    /// A successful sign-in clears the account's counter (not the address's).
    pub fn record_success(&self, account: &str) {
        self.accounts.lock().expect("throttle lock").remove(account);
    }

    fn blocked(
        &self,
        map: &Mutex<HashMap<String, Counter>>,
        key: &str,
        limit: u32,
        now: Instant,
    ) -> Option<Duration> {
        let map = map.lock().expect("throttle lock");
        let c = map.get(key)?;
        let ends = c.started + self.limits.window;
        (c.failures >= limit && ends > now).then(|| ends - now)
    }

    fn bump(&self, map: &Mutex<HashMap<String, Counter>>, key: &str, now: Instant) {
        let mut map = map.lock().expect("throttle lock");
        if map.len() >= SWEEP_AT {
            let window = self.limits.window;
            map.retain(|_, c| c.started + window > now);
        }
        let c = map.entry(key.to_string()).or_insert(Counter {
            started: now,
            failures: 0,
        });
        if c.started + self.limits.window <= now {
            *c = Counter {
                started: now,
                failures: 0,
            };
        }
        c.failures += 1;
    }
}

fn minutes(d: Duration) -> String {
    let m = d.as_secs().div_ceil(60).max(1);
    if m == 1 {
        "1 minute".into()
    } else {
        format!("{m} minutes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(window_ms: u64) -> LoginThrottle {
        LoginThrottle::new(ThrottleLimits {
            per_account: 3,
            per_ip: 5,
            window: Duration::from_millis(window_ms),
        })
    }

    #[test]
    fn locks_an_account_after_its_limit_and_says_so() {
        let t = throttle(60_000);
        for _ in 0..3 {
            t.check("a@x.io", Some("1.1.1.1")).unwrap();
            t.record_failure("a@x.io", Some("1.1.1.1"));
        }
        let err = t.check("a@x.io", Some("2.2.2.2")).unwrap_err();
        assert!(err.to_string().contains("for this account"), "{err}");
        // Another account from another address is unaffected.
        t.check("b@x.io", Some("3.3.3.3")).unwrap();
    }

    #[test]
    fn locks_an_address_across_accounts() {
        let t = throttle(60_000);
        for i in 0..5 {
            t.record_failure(&format!("u{i}@x.io"), Some("9.9.9.9"));
        }
        let err = t.check("new@x.io", Some("9.9.9.9")).unwrap_err();
        assert!(err.to_string().contains("from your network"), "{err}");
    }

    #[test]
    fn success_clears_and_window_expires() {
        let t = throttle(50);
        t.record_failure("a@x.io", None);
        t.record_failure("a@x.io", None);
        t.record_success("a@x.io");
        t.record_failure("a@x.io", None);
        t.record_failure("a@x.io", None);
        t.check("a@x.io", None).unwrap();
        t.record_failure("a@x.io", None);
        assert!(t.check("a@x.io", None).is_err());
        std::thread::sleep(Duration::from_millis(60));
        t.check("a@x.io", None).unwrap();
    }
}
