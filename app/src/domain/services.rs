//! The handle every domain operation receives: the database and instance-wide settings.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::throttle::LoginThrottle;

/// Instance settings the domain needs (parsed and validated by the server's config).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The issuer base URL, without a trailing slash, e.g. `http://127.0.0.1:3000`.
    pub public_url: String,
    /// Whether anyone may create an account (invitations work either way).
    pub signup_enabled: bool,
}

#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub login_throttle: Arc<LoginThrottle>,
}

impl Services {
    pub fn new(db: DatabaseConnection, settings: Settings) -> Self {
        Self {
            db,
            settings: Arc::new(settings),
            login_throttle: Arc::new(LoginThrottle::default()),
        }
    }

    pub fn with_throttle(mut self, throttle: LoginThrottle) -> Self {
        self.login_throttle = Arc::new(throttle);
        self
    }
}
