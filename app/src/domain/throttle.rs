//! Throttles against online guessing and floods: sign-in (password and second factor) per
//! account and per client address, sign-up per client address, mail an account asks for
//! (verification, change of address) per account, password reset links per address and per
//! client address. Kept in memory, per process: they protect one process, and
//! losing counters on restart only resets a window (README: "What each door checks").
//!
//! A sign-in attempt is counted *before* its password is checked, under one lock with the
//! limit check, so parallel wrong passwords are throttled exactly like sequential ones; a
//! correct password then takes its attempt back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AppError;

#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    /// Failed sign-ins per account within the window.
    pub per_account: u32,
    /// Failed sign-ins per client address within the window.
    pub per_ip: u32,
    pub window: Duration,
    /// Accounts created per client address within `signup_window`.
    pub signups_per_ip: u32,
    pub signup_window: Duration,
    /// Mails one account may ask for (links sent again, address changes) per `mail_window`.
    pub mails_per_account: u32,
    /// Password reset links per address, and per client address, per `mail_window`.
    pub resets_per_address: u32,
    pub resets_per_ip: u32,
    pub mail_window: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_ip: 30,
            window: Duration::from_secs(15 * 60),
            signups_per_ip: 20,
            signup_window: Duration::from_secs(60 * 60),
            mails_per_account: 5,
            resets_per_address: 5,
            resets_per_ip: 20,
            mail_window: Duration::from_secs(60 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    started: Instant,
    count: u32,
}

/// Counters kept before stale ones are swept; bounds memory under a spray of addresses.
const SWEEP_AT: usize = 10_000;

/// Counts per key within a fixed window.
#[derive(Debug, Default)]
struct Windows(HashMap<String, Counter>);

impl Windows {
    /// How long until `key` may try again, if it is at `limit`.
    fn blocked(&self, key: &str, limit: u32, window: Duration, now: Instant) -> Option<Duration> {
        let c = self.0.get(key)?;
        let ends = c.started + window;
        (c.count >= limit && ends > now).then(|| ends - now)
    }

    fn bump(&mut self, key: &str, window: Duration, now: Instant) {
        if self.0.len() >= SWEEP_AT {
            self.0.retain(|_, c| c.started + window > now);
        }
        let c = self.0.entry(key.to_string()).or_insert(Counter {
            started: now,
            count: 0,
        });
        if c.started + window <= now {
            *c = Counter {
                started: now,
                count: 0,
            };
        }
        c.count += 1;
    }

    fn take_back(&mut self, key: &str) {
        if let Some(c) = self.0.get_mut(key) {
            c.count = c.count.saturating_sub(1);
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    accounts: Windows,
    ips: Windows,
    signups: Windows,
    mails: Windows,
    resets: Windows,
    reset_ips: Windows,
}

pub struct Throttle {
    limits: ThrottleLimits,
    counters: Mutex<Counters>,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new(ThrottleLimits::default())
    }
}

impl Throttle {
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            counters: Mutex::default(),
        }
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        // A panic while holding the lock leaves plain counters behind: still usable.
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a sign-in attempt against the account and the address, or refuses it while
    /// either is at its limit. Call before checking the password.
    pub fn sign_in_attempt(&self, account: &str, ip: Option<&str>) -> Result<(), AppError> {
        let now = Instant::now();
        let l = self.limits;
        let mut c = self.counters();
        if let Some(wait) = c.accounts.blocked(account, l.per_account, l.window, now) {
            return Err(AppError::TooManyRequests(format!(
                "Too many failed sign-in attempts for this account. Try again in {}.",
                minutes(wait)
            )));
        }
        if let Some(ip) = ip
            && let Some(wait) = c.ips.blocked(ip, l.per_ip, l.window, now)
        {
            return Err(AppError::TooManyRequests(format!(
                "Too many failed sign-in attempts from your network. Try again in {}.",
                minutes(wait)
            )));
        }
        c.accounts.bump(account, l.window, now);
        if let Some(ip) = ip {
            c.ips.bump(ip, l.window, now);
        }
        Ok(())
    }

    /// The password was right: the account starts over, and the address's count no longer
    /// holds this attempt.
    pub fn sign_in_succeeded(&self, account: &str, ip: Option<&str>) {
        let mut c = self.counters();
        c.accounts.0.remove(account);
        if let Some(ip) = ip {
            c.ips.take_back(ip);
        }
    }

    /// Counts an account creation from `ip`, or refuses it while the address is at its limit.
    pub fn sign_up_attempt(&self, ip: Option<&str>) -> Result<(), AppError> {
        let Some(ip) = ip else { return Ok(()) };
        let now = Instant::now();
        let l = self.limits;
        let mut c = self.counters();
        if let Some(wait) = c
            .signups
            .blocked(ip, l.signups_per_ip, l.signup_window, now)
        {
            return Err(AppError::TooManyRequests(format!(
                "Too many accounts were created from your network. Try again in {}.",
                minutes(wait)
            )));
        }
        c.signups.bump(ip, l.signup_window, now);
        Ok(())
    }

    /// A second-factor code for `user_id`: counted like a password, against the account (its
    /// own counter) and the client address (shared with passwords).
    pub fn second_factor_attempt(
        &self,
        user_id: uuid::Uuid,
        ip: Option<&str>,
    ) -> Result<(), AppError> {
        self.sign_in_attempt(&format!("2fa:{user_id}"), ip)
            .map_err(|_| {
                AppError::TooManyRequests(
                    "Too many wrong codes. Wait 15 minutes, then sign in again.".into(),
                )
            })
    }

    pub fn second_factor_succeeded(&self, user_id: uuid::Uuid, ip: Option<&str>) {
        self.sign_in_succeeded(&format!("2fa:{user_id}"), ip);
    }

    /// Counts a mail an account asked for, or refuses it while the account is at its limit.
    pub fn mail_to_account(&self, account: &str) -> Result<(), AppError> {
        let now = Instant::now();
        let l = self.limits;
        let mut c = self.counters();
        if let Some(wait) = c
            .mails
            .blocked(account, l.mails_per_account, l.mail_window, now)
        {
            return Err(AppError::TooManyRequests(format!(
                "We sent several mails to this account already. Try again in {}.",
                minutes(wait)
            )));
        }
        c.mails.bump(account, l.mail_window, now);
        Ok(())
    }

    /// Counts a password reset request for `address` from `ip`, or refuses it. The words do
    /// not say whether the address has an account.
    pub fn password_reset_attempt(&self, address: &str, ip: Option<&str>) -> Result<(), AppError> {
        let now = Instant::now();
        let l = self.limits;
        let mut c = self.counters();
        let blocked = c
            .resets
            .blocked(address, l.resets_per_address, l.mail_window, now)
            .or_else(|| {
                ip.and_then(|ip| c.reset_ips.blocked(ip, l.resets_per_ip, l.mail_window, now))
            });
        if let Some(wait) = blocked {
            return Err(AppError::TooManyRequests(format!(
                "Too many password reset requests. Try again in {}.",
                minutes(wait)
            )));
        }
        c.resets.bump(address, l.mail_window, now);
        if let Some(ip) = ip {
            c.reset_ips.bump(ip, l.mail_window, now);
        }
        Ok(())
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

    fn throttle(window_ms: u64) -> Throttle {
        Throttle::new(ThrottleLimits {
            per_account: 3,
            per_ip: 5,
            window: Duration::from_millis(window_ms),
            signups_per_ip: 2,
            signup_window: Duration::from_millis(window_ms),
            mails_per_account: 2,
            resets_per_address: 2,
            resets_per_ip: 3,
            mail_window: Duration::from_millis(window_ms),
        })
    }

    #[test]
    fn locks_an_account_after_its_limit_and_says_so() {
        let t = throttle(60_000);
        for _ in 0..3 {
            t.sign_in_attempt("a@x.io", Some("1.1.1.1")).unwrap();
        }
        let err = t.sign_in_attempt("a@x.io", Some("2.2.2.2")).unwrap_err();
        assert!(err.to_string().contains("for this account"), "{err}");
        // Another account from another address is unaffected.
        t.sign_in_attempt("b@x.io", Some("3.3.3.3")).unwrap();
    }

    #[test]
    fn locks_an_address_across_accounts() {
        let t = throttle(60_000);
        for i in 0..5 {
            t.sign_in_attempt(&format!("u{i}@x.io"), Some("9.9.9.9"))
                .unwrap();
        }
        let err = t.sign_in_attempt("new@x.io", Some("9.9.9.9")).unwrap_err();
        assert!(err.to_string().contains("from your network"), "{err}");
    }

    #[test]
    fn parallel_attempts_are_counted_before_any_password_is_checked() {
        let t = std::sync::Arc::new(throttle(60_000));
        let admitted: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    let t = t.clone();
                    scope.spawn(move || t.sign_in_attempt("a@x.io", None).is_ok())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(admitted, 3);
    }

    #[test]
    fn success_clears_the_account_and_takes_the_attempt_back_from_the_address() {
        let t = throttle(50);
        t.sign_in_attempt("a@x.io", Some("9.9.9.9")).unwrap();
        t.sign_in_attempt("a@x.io", Some("9.9.9.9")).unwrap();
        t.sign_in_succeeded("a@x.io", Some("9.9.9.9"));
        t.sign_in_attempt("a@x.io", None).unwrap();
        t.sign_in_attempt("a@x.io", None).unwrap();
        t.sign_in_attempt("a@x.io", None).unwrap();
        assert!(t.sign_in_attempt("a@x.io", None).is_err());
        std::thread::sleep(Duration::from_millis(60));
        t.sign_in_attempt("a@x.io", None).unwrap();
        // Successful sign-ins from one address never lock it.
        let t = throttle(60_000);
        for i in 0..20 {
            let who = format!("u{i}@x.io");
            t.sign_in_attempt(&who, Some("8.8.8.8")).unwrap();
            t.sign_in_succeeded(&who, Some("8.8.8.8"));
        }
    }

    #[test]
    fn sign_ups_are_limited_per_address() {
        let t = throttle(60_000);
        t.sign_up_attempt(Some("7.7.7.7")).unwrap();
        t.sign_up_attempt(Some("7.7.7.7")).unwrap();
        let err = t.sign_up_attempt(Some("7.7.7.7")).unwrap_err();
        assert!(
            err.to_string().contains("created from your network"),
            "{err}"
        );
        t.sign_up_attempt(Some("6.6.6.6")).unwrap();
    }

    #[test]
    fn reset_links_are_limited_per_address_and_per_client() {
        let t = throttle(60_000);
        t.password_reset_attempt("a@x.io", Some("1.1.1.1")).unwrap();
        t.password_reset_attempt("a@x.io", Some("1.1.1.2")).unwrap();
        assert!(t.password_reset_attempt("a@x.io", Some("1.1.1.3")).is_err());
        t.password_reset_attempt("b@x.io", Some("5.5.5.5")).unwrap();
        t.password_reset_attempt("c@x.io", Some("5.5.5.5")).unwrap();
        t.password_reset_attempt("d@x.io", Some("5.5.5.5")).unwrap();
        let err = t
            .password_reset_attempt("e@x.io", Some("5.5.5.5"))
            .unwrap_err();
        assert!(err.to_string().contains("password reset"), "{err}");
    }

    #[test]
    fn wrong_codes_lock_the_second_factor_like_passwords() {
        let t = throttle(60_000);
        let id = uuid::Uuid::new_v4();
        for _ in 0..3 {
            t.second_factor_attempt(id, Some("4.4.4.4")).unwrap();
        }
        assert!(t.second_factor_attempt(id, Some("4.4.4.5")).is_err());
        // The password counter of the same person is separate.
        t.sign_in_attempt("a@x.io", Some("4.4.4.6")).unwrap();
    }
}
