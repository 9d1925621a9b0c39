//! Throttles against online guessing and floods: sign-in (password and second factor) per
//! account and per client address, sign-up per client address, mail an account asks for
//! (verification, change of address) per account, password reset links per address and per
//! client address, and dynamic registration per client address.
//!
//! The counters live in the database (`throttle_windows`), so every Gatehouse process sharing
//! it counts the same attempts: a limit holds however many nodes an attacker spreads guesses
//! over, and a restart resets nothing. Each attempt is counted by one atomic statement that
//! also tells whether it is over the limit, *before* the password or code is checked, so
//! parallel wrong guesses are throttled exactly like sequential ones; a right one then takes
//! its attempt back.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, Value};

use crate::error::{AppError, AppResult};

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
    /// Dynamic registrations per client address per `registration_window`.
    pub registrations_per_ip: u32,
    pub registration_window: Duration,
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
            registrations_per_ip: 30,
            registration_window: Duration::from_secs(10 * 60),
        }
    }
}

/// Counters in the database, shared by every process on it.
pub struct Throttle {
    limits: ThrottleLimits,
    db: DatabaseConnection,
}

/// `sql` with `?` placeholders, as this backend writes them.
fn statement(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DatabaseBackend::Postgres => {
            let mut out = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => sql.to_string(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Throttle {
    pub fn new(db: DatabaseConnection, limits: ThrottleLimits) -> Self {
        Self { limits, db }
    }

    pub fn limits(&self) -> &ThrottleLimits {
        &self.limits
    }

    /// Counts an attempt for `key` in the current window (a new window once `window` has
    /// passed since the first attempt) and returns how long to wait if it is over `limit`.
    async fn attempt(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> AppResult<Option<Duration>> {
        let now = Utc::now().timestamp_millis();
        let stale_before = now.saturating_sub(millis(window));
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(statement(
                backend,
                "INSERT INTO throttle_windows (name, started_ms, attempts) VALUES (?, ?, 1) \
                 ON CONFLICT (name) DO UPDATE SET \
                   attempts = CASE WHEN throttle_windows.started_ms <= ? THEN 1 ELSE throttle_windows.attempts + 1 END, \
                   started_ms = CASE WHEN throttle_windows.started_ms <= ? THEN ? ELSE throttle_windows.started_ms END \
                 RETURNING attempts, started_ms",
                vec![
                    key.into(),
                    now.into(),
                    stale_before.into(),
                    stale_before.into(),
                    now.into(),
                ],
            ))
            .await?
            .ok_or(AppError::Internal)?;
        let count: i32 = row.try_get("", "attempts")?;
        let started: i64 = row.try_get("", "started_ms")?;
        if i64::from(count) <= i64::from(limit) {
            return Ok(None);
        }
        let ends = started.saturating_add(millis(window));
        Ok(Some(Duration::from_millis(
            u64::try_from(ends.saturating_sub(now))
                .unwrap_or(0)
                .max(1000),
        )))
    }

    /// Forgets `key`'s window (a right password: the account starts over).
    async fn forget(&self, conn: &impl ConnectionTrait, key: &str) -> AppResult<()> {
        let backend = conn.get_database_backend();
        conn.execute_raw(statement(
            backend,
            "DELETE FROM throttle_windows WHERE name = ?",
            vec![key.into()],
        ))
        .await?;
        Ok(())
    }

    /// Takes one attempt back from `key` (a right password doesn't count against the address).
    async fn take_back(&self, conn: &impl ConnectionTrait, key: &str) -> AppResult<()> {
        let backend = conn.get_database_backend();
        conn.execute_raw(statement(
            backend,
            "UPDATE throttle_windows SET attempts = attempts - 1 WHERE name = ? AND attempts > 0",
            vec![key.into()],
        ))
        .await?;
        Ok(())
    }

    /// Deletes windows that ended more than a day ago (housekeeping).
    pub async fn sweep(&self) -> AppResult<u64> {
        let day_ago = Utc::now().timestamp_millis() - 24 * 3600 * 1000;
        let backend = self.db.get_database_backend();
        Ok(self
            .db
            .execute_raw(statement(
                backend,
                "DELETE FROM throttle_windows WHERE started_ms < ?",
                vec![day_ago.into()],
            ))
            .await?
            .rows_affected())
    }

    /// Counts a sign-in attempt against the account and the address, or refuses it while
    /// either is over its limit. Call before checking the password.
    pub async fn sign_in_attempt(&self, account: &str, ip: Option<&str>) -> AppResult<()> {
        let l = self.limits;
        if let Some(wait) = self
            .attempt(
                &format!("signin:account:{account}"),
                l.per_account,
                l.window,
            )
            .await?
        {
            return Err(AppError::TooManyRequests(format!(
                "Too many failed sign-in attempts for this account. Try again in {}.",
                minutes(wait)
            )));
        }
        if let Some(ip) = ip
            && let Some(wait) = self
                .attempt(&format!("signin:ip:{ip}"), l.per_ip, l.window)
                .await?
        {
            return Err(AppError::TooManyRequests(format!(
                "Too many failed sign-in attempts from your network. Try again in {}.",
                minutes(wait)
            )));
        }
        Ok(())
    }

    /// The password was right: the account starts over, and the address's count no longer
    /// holds this attempt.
    pub async fn sign_in_succeeded(&self, account: &str, ip: Option<&str>) -> AppResult<()> {
        self.succeeded(&self.db, account, ip).await
    }

    async fn succeeded(
        &self,
        conn: &impl ConnectionTrait,
        account: &str,
        ip: Option<&str>,
    ) -> AppResult<()> {
        self.forget(conn, &format!("signin:account:{account}"))
            .await?;
        if let Some(ip) = ip {
            self.take_back(conn, &format!("signin:ip:{ip}")).await?;
        }
        Ok(())
    }

    /// A second-factor code for `user_id`: counted like a password, against the account (its
    /// own counter) and the client address (shared with passwords).
    pub async fn second_factor_attempt(
        &self,
        user_id: uuid::Uuid,
        ip: Option<&str>,
    ) -> AppResult<()> {
        self.sign_in_attempt(&format!("2fa:{user_id}"), ip)
            .await
            .map_err(|e| match e {
                AppError::TooManyRequests(_) => AppError::TooManyRequests(
                    "Too many wrong codes. Wait 15 minutes, then sign in again.".into(),
                ),
                other => other,
            })
    }

    /// A right code: the account's count starts over. On `conn`, which may be the transaction
    /// that used the code up (SQLite lets one connection write at a time).
    pub async fn second_factor_succeeded(
        &self,
        conn: &impl ConnectionTrait,
        user_id: uuid::Uuid,
        ip: Option<&str>,
    ) -> AppResult<()> {
        self.succeeded(conn, &format!("2fa:{user_id}"), ip).await
    }

    /// Counts an account creation from `ip`, or refuses it while the address is over its limit.
    pub async fn sign_up_attempt(&self, ip: Option<&str>) -> AppResult<()> {
        let Some(ip) = ip else { return Ok(()) };
        let l = self.limits;
        match self
            .attempt(
                &format!("signup:ip:{ip}"),
                l.signups_per_ip,
                l.signup_window,
            )
            .await?
        {
            Some(wait) => Err(AppError::TooManyRequests(format!(
                "Too many accounts were created from your network. Try again in {}.",
                minutes(wait)
            ))),
            None => Ok(()),
        }
    }

    /// Counts a mail an account asked for, or refuses it while the account is over its limit.
    pub async fn mail_to_account(&self, account: &str) -> AppResult<()> {
        let l = self.limits;
        match self
            .attempt(
                &format!("mail:{account}"),
                l.mails_per_account,
                l.mail_window,
            )
            .await?
        {
            Some(wait) => Err(AppError::TooManyRequests(format!(
                "We sent several mails to this account already. Try again in {}.",
                minutes(wait)
            ))),
            None => Ok(()),
        }
    }

    /// Counts a password reset request for `address` from `ip`, or refuses it. The words do
    /// not say whether the address has an account.
    pub async fn password_reset_attempt(&self, address: &str, ip: Option<&str>) -> AppResult<()> {
        let l = self.limits;
        let mut blocked = self
            .attempt(
                &format!("reset:address:{address}"),
                l.resets_per_address,
                l.mail_window,
            )
            .await?;
        if blocked.is_none()
            && let Some(ip) = ip
        {
            blocked = self
                .attempt(&format!("reset:ip:{ip}"), l.resets_per_ip, l.mail_window)
                .await?;
        }
        match blocked {
            Some(wait) => Err(AppError::TooManyRequests(format!(
                "Too many password reset requests. Try again in {}.",
                minutes(wait)
            ))),
            None => Ok(()),
        }
    }

    /// Counts a dynamic registration from `ip`; how long to wait when over the limit.
    pub async fn registration_attempt(&self, ip: Option<&str>) -> AppResult<Option<Duration>> {
        let l = self.limits;
        let key = format!("register:ip:{}", ip.unwrap_or("unknown"));
        self.attempt(&key, l.registrations_per_ip, l.registration_window)
            .await
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

    async fn throttle(window_ms: u64) -> Throttle {
        let db = migration::test_db::sqlite().await.unwrap();
        Throttle::new(
            db,
            ThrottleLimits {
                per_account: 3,
                per_ip: 5,
                window: Duration::from_millis(window_ms),
                signups_per_ip: 2,
                signup_window: Duration::from_millis(window_ms),
                mails_per_account: 2,
                resets_per_address: 2,
                resets_per_ip: 3,
                mail_window: Duration::from_millis(window_ms),
                registrations_per_ip: 2,
                registration_window: Duration::from_millis(window_ms),
            },
        )
    }

    #[tokio::test]
    async fn locks_an_account_after_its_limit_and_says_so() {
        let t = throttle(60_000).await;
        for _ in 0..3 {
            t.sign_in_attempt("a@x.io", Some("1.1.1.1")).await.unwrap();
        }
        let err = t
            .sign_in_attempt("a@x.io", Some("2.2.2.2"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("for this account"), "{err}");
        // Another account from another address is unaffected.
        t.sign_in_attempt("b@x.io", Some("3.3.3.3")).await.unwrap();
    }

    #[tokio::test]
    async fn locks_an_address_across_accounts() {
        let t = throttle(60_000).await;
        for i in 0..5 {
            t.sign_in_attempt(&format!("u{i}@x.io"), Some("9.9.9.9"))
                .await
                .unwrap();
        }
        let err = t
            .sign_in_attempt("new@x.io", Some("9.9.9.9"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("from your network"), "{err}");
    }

    #[tokio::test]
    async fn success_clears_the_account_and_takes_the_attempt_back_from_the_address() {
        let t = throttle(300).await;
        t.sign_in_attempt("a@x.io", Some("9.9.9.9")).await.unwrap();
        t.sign_in_attempt("a@x.io", Some("9.9.9.9")).await.unwrap();
        t.sign_in_succeeded("a@x.io", Some("9.9.9.9"))
            .await
            .unwrap();
        for _ in 0..3 {
            t.sign_in_attempt("a@x.io", None).await.unwrap();
        }
        assert!(t.sign_in_attempt("a@x.io", None).await.is_err());
        tokio::time::sleep(Duration::from_millis(350)).await;
        t.sign_in_attempt("a@x.io", None).await.unwrap();
        // Successful sign-ins from one address never lock it.
        let t = throttle(60_000).await;
        for i in 0..20 {
            let who = format!("u{i}@x.io");
            t.sign_in_attempt(&who, Some("8.8.8.8")).await.unwrap();
            t.sign_in_succeeded(&who, Some("8.8.8.8")).await.unwrap();
        }
    }

    #[tokio::test]
    async fn sign_ups_resets_and_registrations_are_limited_per_address() {
        let t = throttle(60_000).await;
        t.sign_up_attempt(Some("7.7.7.7")).await.unwrap();
        t.sign_up_attempt(Some("7.7.7.7")).await.unwrap();
        let err = t.sign_up_attempt(Some("7.7.7.7")).await.unwrap_err();
        assert!(
            err.to_string().contains("created from your network"),
            "{err}"
        );
        t.sign_up_attempt(Some("6.6.6.6")).await.unwrap();

        t.password_reset_attempt("a@x.io", Some("1.1.1.1"))
            .await
            .unwrap();
        t.password_reset_attempt("a@x.io", Some("1.1.1.2"))
            .await
            .unwrap();
        assert!(
            t.password_reset_attempt("a@x.io", Some("1.1.1.3"))
                .await
                .is_err()
        );
        for who in ["b@x.io", "c@x.io", "d@x.io"] {
            t.password_reset_attempt(who, Some("5.5.5.5"))
                .await
                .unwrap();
        }
        let err = t
            .password_reset_attempt("e@x.io", Some("5.5.5.5"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("password reset"), "{err}");

        assert_eq!(t.registration_attempt(Some("4.4.4.4")).await.unwrap(), None);
        assert_eq!(t.registration_attempt(Some("4.4.4.4")).await.unwrap(), None);
        let wait = t
            .registration_attempt(Some("4.4.4.4"))
            .await
            .unwrap()
            .unwrap();
        assert!(wait <= Duration::from_secs(60) && wait >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn wrong_codes_lock_the_second_factor_like_passwords() {
        let t = throttle(60_000).await;
        let id = uuid::Uuid::new_v4();
        for _ in 0..3 {
            t.second_factor_attempt(id, Some("4.4.4.4")).await.unwrap();
        }
        assert!(t.second_factor_attempt(id, Some("4.4.4.5")).await.is_err());
        // The password counter of the same person is separate.
        t.sign_in_attempt("a@x.io", Some("4.4.4.6")).await.unwrap();
    }
}
