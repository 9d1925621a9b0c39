//! Password hashing: argon2id with the OWASP-recommended parameters (19 MiB, t=2, p=1), run on
//! the blocking pool so a sign-in never stalls the async runtime. At most
//! [`PasswordHasher::concurrency`] hashes run at once (each holds 19 MiB): a flood of sign-ins
//! or sign-ups queues for a slot, and one that waits longer than [`MAX_WAIT`] is told to try
//! again, so memory stays bounded whatever arrives.

use std::time::Duration;

use argon2::password_hash::{
    PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// How long a sign-in waits for a hashing slot before it is told to try again.
pub const MAX_WAIT: Duration = Duration::from_secs(10);

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes and verifies passwords, a bounded number at a time.
pub struct PasswordHasher {
    slots: Semaphore,
    concurrency: usize,
}

impl Default for PasswordHasher {
    /// One hash per CPU core, at least two.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores.max(2))
    }
}

impl PasswordHasher {
    pub fn new(concurrency: usize) -> Self {
        Self {
            slots: Semaphore::new(concurrency.max(1)),
            concurrency: concurrency.max(1),
        }
    }

    /// How many hashes may run at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let _slot = tokio::time::timeout(MAX_WAIT, self.slots.acquire())
            .await
            .map_err(|_| {
                AppError::TooManyRequests(
                    "Gatehouse is busy checking passwords right now. Try again in a moment.".into(),
                )
            })?
            .map_err(|_| AppError::Internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| AppError::Internal)
    }

    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            hasher()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::Internal
        })
    }

    /// Verifies `password` against a stored PHC string. With `None` it verifies against a
    /// fixed dummy hash, so unknown accounts take as long as known ones.
    pub async fn verify(&self, password: String, stored: Option<String>) -> AppResult<bool> {
        self.run(move || {
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return false;
            };
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .await
    }
}

/// argon2id hash (same parameters) of a random string nobody knows.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8fSbWHr2bDGDqX1mFhMCiW4f2P3bsb6Vn0iRpDJJ1wQ";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_owasp_params_and_verifies() {
        let h = PasswordHasher::default();
        let hash = h.hash("correct horse battery".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            h.verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !h.verify("wrong horse battery".into(), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn dummy_hash_is_well_formed_and_rejects() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        let h = PasswordHasher::default();
        assert!(!h.verify("anything".into(), None).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_the_bound() {
        let h = std::sync::Arc::new(PasswordHasher::new(2));
        let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let (h, running, most) = (h.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    h.run(move || {
                        use std::sync::atomic::Ordering::SeqCst;
                        let now = running.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(now, SeqCst);
                        std::thread::sleep(Duration::from_millis(50));
                        running.fetch_sub(1, SeqCst);
                    })
                    .await
                    .unwrap()
                })
            })
            .collect();
        for j in jobs {
            j.await.unwrap();
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
