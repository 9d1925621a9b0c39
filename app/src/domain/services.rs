//! The handle every domain operation receives: the database, instance-wide settings, and the
//! state one process keeps (access caches, throttles, the password hasher, the rotation
//! writer). Nothing of it lives in a static: two services are two independent processes' worth.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::access::{Access, AuthCaches, Invalidation, Invalidations};
use super::audit_writer::AuditWriter;
use super::mail::MailSettings;
use super::mail::templates::Site;
use super::oauth::metadata_document::fetch::{DocumentFetcher, FetchSettings};
use super::oauth::rotation_writer::RotationWriter;
use super::passwords::PasswordHasher;
use super::sealing::InstanceKey;
use super::signing_key_cache::SigningKeyCache;
use super::sso_providers::ProviderCache;
use super::throttle::{Throttle, ThrottleLimits};
use super::upstream_client::UpstreamClientSlot;
use super::upstream_hosts::UpstreamHosts;

/// Instance settings the domain needs (parsed and validated by the server's config).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The issuer base URL, without a trailing slash, e.g. `http://127.0.0.1:3000`.
    pub public_url: String,
    /// Whether anyone may create an account (invitations work either way).
    pub signup_enabled: bool,
    /// Accounts one client address may create per hour from the sign-up page.
    pub signups_per_hour: u32,
    pub oauth: OAuthSettings,
    pub mail: MailSettings,
    pub gateway: GatewaySettings,
}

/// Instance-wide settings of the gateway (upstream MCP servers).
#[derive(Debug, Clone, Default)]
pub struct GatewaySettings {
    /// The hosts upstreams may be at (`None`: any but internal addresses).
    pub allowed_hosts: Option<UpstreamHosts>,
}

impl Settings {
    pub fn new(public_url: impl Into<String>, signup_enabled: bool) -> Self {
        let public_url = public_url.into();
        Self {
            mail: MailSettings::log_only(&public_url),
            public_url,
            signup_enabled,
            signups_per_hour: ThrottleLimits::default().signups_per_ip,
            oauth: OAuthSettings::default(),
            gateway: GatewaySettings::default(),
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
    /// How long after a rotation the same refresh token still gets the same new pair.
    pub refresh_grace: chrono::Duration,
    /// How long a pending authorization request may wait for the user.
    pub request_ttl: chrono::Duration,
    /// How many authorization requests may wait for their user per client address.
    pub max_pending_requests_per_address: u64,
    /// How long an authorization code is valid.
    pub code_ttl: chrono::Duration,
    /// Whether clients may identify themselves with a metadata document (an https URL as
    /// `client_id`).
    pub metadata_documents: bool,
    /// How metadata documents are fetched (trusted CAs, the unsafe loopback switch).
    pub metadata_fetch: FetchSettings,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            dynamic_registration: true,
            unused_client_ttl: chrono::Duration::hours(24),
            refresh_grace: chrono::Duration::seconds(10),
            request_ttl: chrono::Duration::minutes(10),
            max_pending_requests_per_address: 50,
            code_ttl: chrono::Duration::minutes(2),
            metadata_documents: true,
            metadata_fetch: FetchSettings::default(),
        }
    }
}

#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    /// The access decision's caches, and the invalidation interface that empties them.
    pub caches: Arc<AuthCaches>,
    pub throttle: Arc<Throttle>,
    pub passwords: Arc<PasswordHasher>,
    /// Seals what must be stored reversibly (checked against the database at start-up).
    pub key: Arc<InstanceKey>,
    /// Wakes this process's mail worker after a commit that queued mail.
    mail_wake: Arc<tokio::sync::Notify>,
    /// Fetches clients' metadata documents (`None` when its settings can't be used; the
    /// server's configuration checks them first).
    metadata_fetcher: Option<DocumentFetcher>,
    /// Refresh rotations are group-committed by one writer task (see `rotation_writer`).
    rotations: Option<RotationWriter>,
    /// Audit rows of the hot paths are batched by one writer task (see `audit_writer`).
    audits: Option<AuditWriter>,
    /// Single sign-on providers' discovery documents and keys.
    pub sso_providers: Arc<ProviderCache>,
    /// The signing key this process signs with (see `signing_keys`).
    pub signing_key: Arc<SigningKeyCache>,
    /// How upstream MCP servers are reached (the server sets it at start).
    pub upstream_client: UpstreamClientSlot,
}

impl Services {
    pub fn new(db: DatabaseConnection, settings: Settings, key: InstanceKey) -> Self {
        // The writer runs on the current runtime (outside one, rotations commit one by one).
        let rotations = tokio::runtime::Handle::try_current()
            .is_ok()
            .then(|| RotationWriter::spawn(db.clone()));
        let audits = rotations.is_some().then(|| AuditWriter::spawn(db.clone()));
        if rotations.is_some() {
            super::wal_checkpoints::spawn(&db);
        }
        let throttle = Throttle::new(
            db.clone(),
            ThrottleLimits {
                signups_per_ip: settings.signups_per_hour,
                ..ThrottleLimits::default()
            },
        );
        let metadata_fetcher = match DocumentFetcher::new(&settings.oauth.metadata_fetch) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::error!(error = %e, "metadata documents can't be fetched");
                None
            }
        };
        Self {
            metadata_fetcher,
            db,
            settings: Arc::new(settings),
            caches: Arc::new(AuthCaches::default()),
            throttle: Arc::new(throttle),
            passwords: Arc::new(PasswordHasher::default()),
            key: Arc::new(key),
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            audits,
            rotations,
            sso_providers: Arc::new(ProviderCache::default()),
            signing_key: Arc::new(SigningKeyCache::default()),
            upstream_client: UpstreamClientSlot::default(),
        }
    }

    /// The access decision, on this process's database and caches.
    pub fn access(&self) -> Access<'_> {
        Access {
            db: &self.db,
            caches: &self.caches,
            public_url: &self.settings.public_url,
        }
    }

    /// What mail templates need of the instance.
    pub fn site(&self) -> Site<'_> {
        Site {
            url: &self.settings.public_url,
        }
    }

    /// Mail was queued and committed: the worker sends it now rather than at its next poll.
    pub fn mail_queued(&self) {
        self.mail_wake.notify_one();
    }

    pub(crate) fn mail_wake(&self) -> Arc<tokio::sync::Notify> {
        self.mail_wake.clone()
    }

    pub fn metadata_fetcher(&self) -> Option<&DocumentFetcher> {
        self.metadata_fetcher.as_ref()
    }

    pub fn rotations(&self) -> Option<&RotationWriter> {
        self.rotations.as_ref()
    }

    pub fn audits(&self) -> Option<&AuditWriter> {
        self.audits.as_ref()
    }

    /// These services with other throttle limits (tests).
    pub fn with_throttle_limits(mut self, limits: ThrottleLimits) -> Self {
        self.throttle = Arc::new(Throttle::new(self.db.clone(), limits));
        self
    }

    /// A change to who may get in has been committed: nothing cached may outlive it. Call
    /// only *after* the commit (a reader between an early invalidation and the commit would
    /// cache the old state again).
    pub fn invalidate(&self, change: Invalidation) {
        self.caches.publish(change);
    }
}
