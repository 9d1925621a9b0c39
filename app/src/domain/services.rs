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
    pub oauth: OAuthSettings,
}

impl Settings {
    pub fn new(public_url: impl Into<String>, signup_enabled: bool) -> Self {
        Self {
            public_url: public_url.into(),
            signup_enabled,
            oauth: OAuthSettings::default(),
        }
    }
}

/// Instance-wide OAuth settings.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// Whether clients may register themselves (RFC 7591) at all.
    pub dynamic_registration: bool,
    /// Dynamically registered clients nobody authorized within this time are deleted.
    pub unused_client_ttl: chrono::Duration,
    /// Redirect hosts allowed to omit PKCE (ChatGPT's connector did, seed 004). Empty by default.
    pub pkce_exempt_redirect_hosts: Vec<String>,
    /// How long after a rotation the same refresh token still gets the same new pair.
    pub refresh_grace: chrono::Duration,
    /// How long a pending authorization request may wait for the user.
    pub request_ttl: chrono::Duration,
    /// How long an authorization code is valid.
    pub code_ttl: chrono::Duration,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            dynamic_registration: true,
            unused_client_ttl: chrono::Duration::hours(24),
            pkce_exempt_redirect_hosts: Vec::new(),
            refresh_grace: chrono::Duration::seconds(10),
            request_ttl: chrono::Duration::minutes(10),
            code_ttl: chrono::Duration::minutes(2),
        }
    }
}

#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub login_throttle: Arc<LoginThrottle>,
    /// Refresh rotations are group-committed by one writer task (see `rotation_writer`).
    rotations: Option<crate::domain::oauth::rotation_writer::RotationWriter>,
}

impl Services {
    pub fn new(db: DatabaseConnection, settings: Settings) -> Self {
        // The writer runs on the current runtime (outside one, rotations commit one by one).
        let rotations = tokio::runtime::Handle::try_current()
            .is_ok()
            .then(|| crate::domain::oauth::rotation_writer::RotationWriter::spawn(db.clone()));
        Self {
            db,
            settings: Arc::new(settings),
            login_throttle: Arc::new(LoginThrottle::default()),
            rotations,
        }
    }

    pub fn rotations(&self) -> Option<&crate::domain::oauth::rotation_writer::RotationWriter> {
        self.rotations.as_ref()
    }

    pub fn with_throttle(mut self, throttle: LoginThrottle) -> Self {
        self.login_throttle = Arc::new(throttle);
        self
    }
}
