//! Instance configuration: environment variables over an optional TOML file over defaults.
//! Every value is parsed at start-up; a bad one stops Gatehouse with a message naming it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use app::domain::mail::{MailSettings, SmtpUrl};
use app::domain::oauth::metadata_document::fetch::{DocumentFetcher, FetchSettings};
use app::domain::sealing::InstanceKey;
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Issuer base: scheme, host and port; no path, query or trailing slash.
    pub public_url: String,
    pub database_url: String,
    pub bind: SocketAddr,
    /// Where `/metrics` is served (Prometheus text format); off when unset.
    pub metrics_bind: Option<SocketAddr>,
    pub cookie_secure: bool,
    pub signup: bool,
    /// Accounts one client address may create per hour from the sign-up page.
    pub signups_per_hour: i64,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// The direct peer is a reverse proxy of yours: read the client address from
    /// `X-Forwarded-For` (from the right, see `middleware::request_meta`).
    pub trust_forwarded_for: bool,
    /// More proxies of yours (addresses or networks) that `X-Forwarded-For` may pass through.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where `cargo leptos build` put the site (wasm, js, css, assets).
    pub site_root: String,
    /// Whether clients may register themselves at /oauth/register.
    pub dynamic_registration: bool,
    /// Hours after which a self-registered client nobody authorized is deleted.
    pub unused_client_ttl_hours: i64,
    /// Seconds after a refresh during which the same refresh token gets the same new pair.
    pub refresh_grace_secs: i64,
    /// Whether clients may identify themselves with a client ID metadata document.
    pub metadata_documents: bool,
    /// How metadata documents are fetched: extra trusted CAs, the unsafe loopback switch.
    pub metadata_fetch: FetchSettings,
    /// Where mail goes (none: it stays in the outbox and links are logged) and who sends it.
    pub mail: MailSettings,
    /// Where the instance key comes from.
    pub secret_key: KeySource,
    /// The key the sealed values are sealed with now, while changing keys.
    pub secret_key_previous: Option<InstanceKey>,
    /// The hosts upstream MCP servers may be at (none: any but internal addresses).
    pub upstream_allowed_hosts: Option<app::domain::upstream_hosts::UpstreamHosts>,
}

/// Where the instance key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// `GATEHOUSE_SECRET_KEY`.
    Given(InstanceKey),
    /// A key file: `GATEHOUSE_SECRET_KEY_FILE`, or beside the SQLite database. Created (mode
    /// 0600) on first start when the database has no sealed values yet.
    File(PathBuf),
    /// An in-memory SQLite database: nothing outlives the process, so neither does the key.
    Ephemeral,
    /// PostgreSQL without a key: every node must share one, so it must be given.
    Missing,
}

impl Config {
    /// The settings the domain layer needs.
    pub fn domain_settings(&self) -> app::domain::Settings {
        let mut s = app::domain::Settings::new(self.public_url.clone(), self.signup);
        s.signups_per_hour = u32::try_from(self.signups_per_hour).unwrap_or(u32::MAX);
        s.oauth.dynamic_registration = self.dynamic_registration;
        s.oauth.unused_client_ttl = chrono::Duration::hours(self.unused_client_ttl_hours);
        s.oauth.refresh_grace = chrono::Duration::seconds(self.refresh_grace_secs);
        s.mail = self.mail.clone();
        s.oauth.metadata_documents = self.metadata_documents;
        s.oauth.metadata_fetch = self.metadata_fetch.clone();
        s.gateway.allowed_hosts = self.upstream_allowed_hosts.clone();
        s
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid setting {setting}: {message}")]
pub struct ConfigError {
    pub setting: String,
    pub message: String,
}

fn err(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_string(),
        message: message.into(),
    }
}

/// Names of the settings as environment variables; the TOML file uses the part after
/// `GATEHOUSE_`, lower-cased (`public_url = "…"`).
const SETTINGS: &[&str] = &[
    "GATEHOUSE_PUBLIC_URL",
    "GATEHOUSE_DATABASE_URL",
    "GATEHOUSE_BIND",
    "GATEHOUSE_METRICS_BIND",
    "GATEHOUSE_COOKIE_SECURE",
    "GATEHOUSE_SIGNUP",
    "GATEHOUSE_SIGNUPS_PER_HOUR",
    "GATEHOUSE_LOG_FORMAT",
    "GATEHOUSE_TRUST_FORWARDED_FOR",
    "GATEHOUSE_TRUSTED_PROXIES",
    "GATEHOUSE_SITE_ROOT",
    "GATEHOUSE_DYNAMIC_REGISTRATION",
    "GATEHOUSE_UNUSED_CLIENT_TTL_HOURS",
    "GATEHOUSE_PKCE_EXEMPT_REDIRECT_HOSTS",
    "GATEHOUSE_REFRESH_GRACE_SECS",
    "GATEHOUSE_METADATA_DOCUMENTS",
    "GATEHOUSE_EXTRA_CA_FILE",
    "GATEHOUSE_UNSAFE_METADATA_FROM_LOOPBACK",
    "GATEHOUSE_UPSTREAM_ALLOWED_HOSTS",
    "GATEHOUSE_SMTP_URL",
    "GATEHOUSE_MAIL_FROM",
    "GATEHOUSE_SECRET_KEY",
    "GATEHOUSE_SECRET_KEY_FILE",
    "GATEHOUSE_SECRET_KEY_PREVIOUS",
    "RUST_LOG",
];

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/gatehouse.db?mode=rwc";

impl Config {
    /// Loads from the process environment and `file` (or `GATEHOUSE_CONFIG`, if set).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env.get("GATEHOUSE_CONFIG").map(PathBuf::from));
        let toml = match file {
            Some(path) => read_toml(&path)?,
            None => BTreeMap::new(),
        };
        Self::from_sources(&env, &toml)
    }

    /// Environment wins over the file; both are plain string maps here so tests can build them.
    pub fn from_sources(
        env: &BTreeMap<String, String>,
        file: &BTreeMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| -> Option<String> {
            env.get(name)
                .cloned()
                .or_else(|| {
                    file.get(&name.trim_start_matches("GATEHOUSE_").to_lowercase())
                        .cloned()
                })
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let public_url = parse_public_url(
            &get("GATEHOUSE_PUBLIC_URL").unwrap_or_else(|| "http://127.0.0.1:3000".into()),
        )?;
        let https = public_url.starts_with("https://");
        let database_url = parse_database_url(
            &get("GATEHOUSE_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
        )?;
        let bind = get("GATEHOUSE_BIND")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse::<SocketAddr>()
            .map_err(|_| {
                err(
                    "GATEHOUSE_BIND",
                    "expected an address and port such as 127.0.0.1:3000 or 0.0.0.0:8080",
                )
            })?;
        let metrics_bind = get("GATEHOUSE_METRICS_BIND")
            .map(|v| {
                v.parse::<SocketAddr>().map_err(|_| {
                    err(
                        "GATEHOUSE_METRICS_BIND",
                        "expected an address and port such as 127.0.0.1:9100",
                    )
                })
            })
            .transpose()?;
        if metrics_bind == Some(bind) {
            return Err(err(
                "GATEHOUSE_METRICS_BIND",
                "must differ from GATEHOUSE_BIND: metrics are not for the public listener",
            ));
        }
        let cookie_secure = match get("GATEHOUSE_COOKIE_SECURE") {
            Some(v) => parse_bool("GATEHOUSE_COOKIE_SECURE", &v)?,
            None => https,
        };
        let signup = match get("GATEHOUSE_SIGNUP") {
            Some(v) => parse_bool("GATEHOUSE_SIGNUP", &v)?,
            None => true,
        };
        // rmcp logs three info lines for every stateless MCP request (service up, input ended,
        // serve finished): noise, and a cost on the hottest endpoint.
        let log_filter =
            get("RUST_LOG").unwrap_or_else(|| "info,sqlx=warn,sea_orm=warn,rmcp=warn".into());
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| err("RUST_LOG", format!("not a valid log filter ({e})")))?;
        let log_format = match get("GATEHOUSE_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(err(
                    "GATEHOUSE_LOG_FORMAT",
                    format!("expected text or json, got {other:?}"),
                ));
            }
        };
        let trust_forwarded_for = match get("GATEHOUSE_TRUST_FORWARDED_FOR") {
            Some(v) => parse_bool("GATEHOUSE_TRUST_FORWARDED_FOR", &v)?,
            None => false,
        };
        let site_root = get("GATEHOUSE_SITE_ROOT")
            .or_else(|| env.get("LEPTOS_SITE_ROOT").cloned())
            .unwrap_or_else(|| "target/site".into());
        let dynamic_registration = match get("GATEHOUSE_DYNAMIC_REGISTRATION") {
            Some(v) => parse_bool("GATEHOUSE_DYNAMIC_REGISTRATION", &v)?,
            None => true,
        };
        let unused_client_ttl_hours = parse_int(
            "GATEHOUSE_UNUSED_CLIENT_TTL_HOURS",
            get("GATEHOUSE_UNUSED_CLIENT_TTL_HOURS"),
            24,
            1..=24 * 365,
        )?;
        let signups_per_hour = parse_int(
            "GATEHOUSE_SIGNUPS_PER_HOUR",
            get("GATEHOUSE_SIGNUPS_PER_HOUR"),
            20,
            1..=100_000,
        )?;
        let refresh_grace_secs = parse_int(
            "GATEHOUSE_REFRESH_GRACE_SECS",
            get("GATEHOUSE_REFRESH_GRACE_SECS"),
            10,
            0..=300,
        )?;
        // An exemption by redirect host let any app with a URI on that host skip PKCE.
        if get("GATEHOUSE_PKCE_EXEMPT_REDIRECT_HOSTS").is_some() {
            return Err(err(
                "GATEHOUSE_PKCE_EXEMPT_REDIRECT_HOSTS",
                "was replaced by a per-client permission: an org admin lets one of the org's own confidential apps skip PKCE on /admin/oauth-clients. Remove this setting.",
            ));
        }
        let metadata_documents = match get("GATEHOUSE_METADATA_DOCUMENTS") {
            Some(v) => parse_bool("GATEHOUSE_METADATA_DOCUMENTS", &v)?,
            None => true,
        };
        let mut metadata_fetch = FetchSettings::default();
        if let Some(path) = get("GATEHOUSE_EXTRA_CA_FILE") {
            let pem = std::fs::read(&path)
                .map_err(|e| err("GATEHOUSE_EXTRA_CA_FILE", format!("can't read {path}: {e}")))?;
            metadata_fetch.extra_ca_pem = Some(pem);
        }
        if let Some(v) = get("GATEHOUSE_UNSAFE_METADATA_FROM_LOOPBACK") {
            metadata_fetch.allow_loopback =
                parse_bool("GATEHOUSE_UNSAFE_METADATA_FROM_LOOPBACK", &v)?;
        }
        // The fetcher is built once here so a bad CA file stops start-up, not a sign-in.
        DocumentFetcher::new(&metadata_fetch).map_err(|e| err("GATEHOUSE_EXTRA_CA_FILE", e))?;
        let upstream_allowed_hosts = get("GATEHOUSE_UPSTREAM_ALLOWED_HOSTS")
            .map(|raw| {
                app::domain::upstream_hosts::UpstreamHosts::parse(&raw)
                    .map_err(|m| err("GATEHOUSE_UPSTREAM_ALLOWED_HOSTS", m))
            })
            .transpose()?;
        let mut mail = MailSettings::log_only(&public_url);
        if let Some(raw) = get("GATEHOUSE_SMTP_URL") {
            mail.smtp = Some(SmtpUrl::parse(&raw).map_err(|m| err("GATEHOUSE_SMTP_URL", m))?);
        }
        if let Some(raw) = get("GATEHOUSE_MAIL_FROM") {
            mail.from = raw.parse().map_err(|_| {
                err(
                    "GATEHOUSE_MAIL_FROM",
                    format!(
                        "expected an address such as Gatehouse <no-reply@example.com>, got {raw:?}"
                    ),
                )
            })?;
        }
        let key = |name: &str, raw: String| {
            InstanceKey::parse(&raw).map_err(|e| err(name, e.to_string()))
        };
        let secret_key = match (
            get("GATEHOUSE_SECRET_KEY"),
            get("GATEHOUSE_SECRET_KEY_FILE"),
        ) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "GATEHOUSE_SECRET_KEY",
                    "set either GATEHOUSE_SECRET_KEY or GATEHOUSE_SECRET_KEY_FILE, not both",
                ));
            }
            (Some(raw), None) => KeySource::Given(key("GATEHOUSE_SECRET_KEY", raw)?),
            (None, Some(path)) => KeySource::File(PathBuf::from(path)),
            (None, None) => default_key_source(&database_url),
        };
        let secret_key_previous = get("GATEHOUSE_SECRET_KEY_PREVIOUS")
            .map(|raw| key("GATEHOUSE_SECRET_KEY_PREVIOUS", raw))
            .transpose()?;
        let trusted_proxies = match get("GATEHOUSE_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.parse::<ipnet::IpNet>()
                        .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| {
                            err(
                                "GATEHOUSE_TRUSTED_PROXIES",
                                format!(
                                    "expected comma-separated addresses or networks (10.0.0.0/8, 192.0.2.7), got {p:?}"
                                ),
                            )
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(Self {
            public_url,
            database_url,
            bind,
            metrics_bind,
            cookie_secure,
            signup,
            signups_per_hour,
            log_filter,
            log_format,
            trust_forwarded_for,
            trusted_proxies,
            site_root,
            dynamic_registration,
            unused_client_ttl_hours,
            refresh_grace_secs,
            metadata_documents,
            metadata_fetch,
            mail,
            secret_key,
            secret_key_previous,
            upstream_allowed_hosts,
        })
    }
}

/// The embedded default keeps its key beside its database: `data/gatehouse.db` has
/// `data/gatehouse.key`.
fn default_key_source(database_url: &str) -> KeySource {
    let Some(rest) = database_url.strip_prefix("sqlite:") else {
        return KeySource::Missing;
    };
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || database_url.contains("mode=memory") {
        return KeySource::Ephemeral;
    }
    KeySource::File(Path::new(path).with_extension("key"))
}

fn read_toml(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        err(
            "GATEHOUSE_CONFIG",
            format!("can't read {}: {e}", path.display()),
        )
    })?;
    let table: toml::Table = text.parse().map_err(|e| {
        err(
            "GATEHOUSE_CONFIG",
            format!("{} is not valid TOML: {e}", path.display()),
        )
    })?;
    let known: Vec<String> = SETTINGS
        .iter()
        .map(|s| s.trim_start_matches("GATEHOUSE_").to_lowercase())
        .collect();
    let mut out = BTreeMap::new();
    for (key, value) in table {
        if !known.contains(&key) {
            return Err(err(
                &key,
                format!(
                    "unknown setting in {}; known: {}",
                    path.display(),
                    known.join(", ")
                ),
            ));
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Integer(i) => i.to_string(),
            other => {
                return Err(err(
                    &key,
                    format!("expected a string or boolean, got {other}"),
                ));
            }
        };
        out.insert(key, value);
    }
    Ok(out)
}

fn parse_bool(setting: &str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "0" | "false" | "off" | "no" => Ok(false),
        _ => Err(err(
            setting,
            format!("expected on/off (or true/false), got {v:?}"),
        )),
    }
}

fn parse_int(
    setting: &str,
    v: Option<String>,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ConfigError> {
    let Some(v) = v else { return Ok(default) };
    match v.parse::<i64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(err(
            setting,
            format!(
                "expected a whole number from {} to {}, got {v:?}",
                range.start(),
                range.end()
            ),
        )),
    }
}

fn parse_public_url(raw: &str) -> Result<String, ConfigError> {
    const S: &str = "GATEHOUSE_PUBLIC_URL";
    let url = Url::parse(raw).map_err(|e| {
        err(
            S,
            format!("not a URL ({e}); expected e.g. https://gatehouse.example.com"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(err(
            S,
            "must start with https:// (or http:// for local use)",
        ));
    }
    if url.host_str().is_none() {
        return Err(err(S, "must name a host"));
    }
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(err(
            S,
            "must be an origin only (scheme, host, port), with no path, query or fragment",
        ));
    }
    // The issuer is compared byte for byte by clients: one canonical form, no trailing slash.
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn parse_database_url(raw: &str) -> Result<String, ConfigError> {
    const S: &str = "GATEHOUSE_DATABASE_URL";
    if raw.starts_with("sqlite:")
        || raw.starts_with("postgres://")
        || raw.starts_with("postgresql://")
    {
        Ok(raw.to_string())
    } else {
        Err(err(
            S,
            "expected sqlite://path/to/file.db?mode=rwc or postgres://user@host/db",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_work_with_nothing_set() {
        let c = Config::from_sources(&env(&[]), &env(&[])).unwrap();
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
        assert!(!c.cookie_secure);
        assert!(c.signup);
    }

    #[test]
    fn environment_overrides_file_and_https_implies_secure_cookies() {
        let file = env(&[("public_url", "https://file.example"), ("signup", "off")]);
        let c = Config::from_sources(
            &env(&[("GATEHOUSE_PUBLIC_URL", "https://gate.example.com/")]),
            &file,
        )
        .unwrap();
        assert_eq!(c.public_url, "https://gate.example.com");
        assert!(c.cookie_secure);
        assert!(!c.signup);
    }

    #[test]
    fn bad_values_name_the_setting() {
        for (k, v) in [
            ("GATEHOUSE_PUBLIC_URL", "ftp://x"),
            ("GATEHOUSE_PUBLIC_URL", "https://x.example/path"),
            ("GATEHOUSE_DATABASE_URL", "mysql://x"),
            ("GATEHOUSE_BIND", "localhost"),
            ("GATEHOUSE_COOKIE_SECURE", "maybe"),
            ("GATEHOUSE_SIGNUP", "2"),
            ("GATEHOUSE_LOG_FORMAT", "xml"),
            ("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example"),
            ("GATEHOUSE_PKCE_EXEMPT_REDIRECT_HOSTS", "chatgpt.com"),
            ("GATEHOUSE_SMTP_URL", "smtp://me:pw@mail.example:25"),
            ("GATEHOUSE_METADATA_DOCUMENTS", "sometimes"),
            ("GATEHOUSE_EXTRA_CA_FILE", "/nonexistent/ca.pem"),
            ("GATEHOUSE_UNSAFE_METADATA_FROM_LOOPBACK", "perhaps"),
            ("GATEHOUSE_SMTP_URL", "mail.example"),
            ("GATEHOUSE_MAIL_FROM", "not an address"),
            ("GATEHOUSE_SECRET_KEY", "too-short"),
            ("GATEHOUSE_SECRET_KEY_PREVIOUS", "!!"),
        ] {
            let e = Config::from_sources(&env(&[(k, v)]), &env(&[])).unwrap_err();
            assert_eq!(e.setting, k, "{k}={v}: {e}");
            assert!(
                e.to_string().starts_with(&format!("invalid setting {k}: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn the_key_file_sits_beside_the_sqlite_database() {
        let c = Config::from_sources(&env(&[]), &env(&[])).unwrap();
        assert!(
            matches!(&c.secret_key, KeySource::File(p) if p == Path::new("data/gatehouse.key")),
            "{:?}",
            c.secret_key
        );
        let pg = Config::from_sources(
            &env(&[("GATEHOUSE_DATABASE_URL", "postgres://x@localhost/db")]),
            &env(&[]),
        )
        .unwrap();
        assert!(matches!(pg.secret_key, KeySource::Missing));
        let mem = Config::from_sources(
            &env(&[("GATEHOUSE_DATABASE_URL", "sqlite::memory:")]),
            &env(&[]),
        )
        .unwrap();
        assert!(matches!(mem.secret_key, KeySource::Ephemeral));
        let (_, text) = InstanceKey::generate();
        let given =
            Config::from_sources(&env(&[("GATEHOUSE_SECRET_KEY", &text)]), &env(&[])).unwrap();
        assert!(matches!(given.secret_key, KeySource::Given(_)));
        assert!(
            !format!("{:?}", given).contains(&text),
            "the key never shows in Debug"
        );
    }

    #[test]
    fn toml_file_is_read_and_unknown_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("gh-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(
            &good,
            "public_url = \"https://g.example\"\nsignup = false\n",
        )
        .unwrap();
        let m = read_toml(&good).unwrap();
        assert_eq!(m.get("signup").map(String::as_str), Some("false"));
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "publik_url = \"x\"\n").unwrap();
        assert_eq!(read_toml(&bad).unwrap_err().setting, "publik_url");
    }
}
