//! An organization's policy: which ways in are open (MCP server, personal tokens, MCP OAuth
//! PATs, self-registered apps), where OAuth apps may send users back, and token lifetimes.
//! Every change is audited and takes effect on the next request (the auth caches are dropped).

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::access::Invalidation;
use super::audit::{self, AuditEntry};
use super::entities::organization;
use super::oauth::client_domains::DomainList;
use super::oauth::redirect_uri::RedirectAllowList;
use super::{RequestMeta, Services};
use crate::domain::write_txn::BeginWrite;
use crate::error::{AppError, AppResult};
use crate::model::{OrgPolicyForm, TwoFactorPolicy};

/// Bounds on lifetimes an admin may choose.
pub const ACCESS_TTL_SECS: std::ops::RangeInclusive<i64> = 60..=86_400;
pub const REFRESH_TTL_SECS: std::ops::RangeInclusive<i64> = 3_600..=365 * 86_400;
pub const PAT_MAX_TTL_DAYS: std::ops::RangeInclusive<i32> = 1..=3_650;
pub const MAX_REDIRECT_HOSTS: usize = 50;

/// The policy as an admin sees and sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub mcp_enabled: bool,
    pub personal_tokens_enabled: bool,
    pub mcp_oauth_pats_enabled: bool,
    pub dynamic_registration_enabled: bool,
    /// Where OAuth apps may send members back in this org (`https://claude.ai`,
    /// `cursor://anysphere.cursor-mcp`; a bare host means https); empty means anywhere.
    pub allowed_redirect_hosts: Vec<String>,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub pat_max_ttl_days: i32,
    /// Who must use two-factor sign-in to work in the org.
    pub two_factor_policy: TwoFactorPolicy,
    /// Apps identified by a metadata document may connect.
    pub metadata_clients_enabled: bool,
    /// Metadata-document apps only from these domains (and their subdomains); empty: any.
    pub allowed_client_domains: Vec<String>,
    /// Never from these.
    pub blocked_client_domains: Vec<String>,
}

/// A partial change: fields left out keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyChange {
    pub mcp_enabled: Option<bool>,
    pub personal_tokens_enabled: Option<bool>,
    pub mcp_oauth_pats_enabled: Option<bool>,
    pub dynamic_registration_enabled: Option<bool>,
    pub allowed_redirect_hosts: Option<Vec<String>>,
    pub access_token_ttl_secs: Option<i64>,
    pub refresh_token_ttl_secs: Option<i64>,
    pub pat_max_ttl_days: Option<i32>,
    pub two_factor_policy: Option<TwoFactorPolicy>,
    pub metadata_clients_enabled: Option<bool>,
    pub allowed_client_domains: Option<Vec<String>>,
    pub blocked_client_domains: Option<Vec<String>>,
}

pub fn of(org: &organization::Model) -> Policy {
    Policy {
        mcp_enabled: org.mcp_enabled,
        personal_tokens_enabled: org.personal_tokens_enabled,
        mcp_oauth_pats_enabled: org.mcp_oauth_pats_enabled,
        dynamic_registration_enabled: org.dynamic_registration_enabled,
        allowed_redirect_hosts: RedirectAllowList::of(org)
            .map(|l| l.entries().to_vec())
            .unwrap_or_default(),
        access_token_ttl_secs: org.access_token_ttl_secs,
        refresh_token_ttl_secs: org.refresh_token_ttl_secs,
        pat_max_ttl_days: org.pat_max_ttl_days,
        two_factor_policy: org.two_factor_policy,
        metadata_clients_enabled: org.metadata_clients_enabled,
        allowed_client_domains: domains(&org.allowed_client_domains),
        blocked_client_domains: domains(&org.blocked_client_domains),
    }
}

/// A stored domain list as it reads (an unreadable one shows empty here; the access decision
/// lets no metadata-document app in until an admin saves it again).
fn domains(stored: &str) -> Vec<String> {
    DomainList::from_json(stored)
        .map(|l| l.entries().to_vec())
        .unwrap_or_default()
}

/// A list of hosts as an admin types it: one per line, or separated by commas or spaces.
pub fn split_hosts(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect()
}

/// The org's allowed redirect targets as people write them (`claude.ai`,
/// `cursor://anysphere.cursor-mcp`), for pages. A stored list that can't be read shows as
/// empty here; the access decision refuses every redirect until an admin saves it again.
pub fn redirect_hosts(org: &organization::Model) -> Vec<String> {
    RedirectAllowList::of(org)
        .map(|l| l.shown())
        .unwrap_or_default()
}

/// A change's lists, normalised by [`validate`].
#[derive(Debug)]
struct Lists {
    hosts: Option<Vec<String>>,
    allowed_domains: Option<Vec<String>>,
    blocked_domains: Option<Vec<String>>,
}

/// Checks a change against the bounds; the first bad field is named in the error.
fn validate(change: &PolicyChange) -> AppResult<Lists> {
    let domain_list = |field: &str, list: &Option<Vec<String>>| -> AppResult<Option<Vec<String>>> {
        list.as_ref()
            .map(|l| {
                DomainList::parse(l)
                    .map(|d| d.entries().to_vec())
                    .map_err(|why| AppError::invalid(field, why))
            })
            .transpose()
    };
    let allowed_domains = domain_list("allowed_client_domains", &change.allowed_client_domains)?;
    let blocked_domains = domain_list("blocked_client_domains", &change.blocked_client_domains)?;
    let hosts = validate_bounds(change)?;
    Ok(Lists {
        hosts,
        allowed_domains,
        blocked_domains,
    })
}

/// The lifetimes and the redirect hosts.
fn validate_bounds(change: &PolicyChange) -> AppResult<Option<Vec<String>>> {
    if let Some(v) = change.access_token_ttl_secs
        && !ACCESS_TTL_SECS.contains(&v)
    {
        return Err(AppError::invalid(
            "access_token_ttl_secs",
            "Access tokens must live between 1 minute and 24 hours.",
        ));
    }
    if let Some(v) = change.refresh_token_ttl_secs
        && !REFRESH_TTL_SECS.contains(&v)
    {
        return Err(AppError::invalid(
            "refresh_token_ttl_secs",
            "Refresh tokens must live between 1 hour and 365 days.",
        ));
    }
    if let Some(v) = change.pat_max_ttl_days
        && !PAT_MAX_TTL_DAYS.contains(&v)
    {
        return Err(AppError::invalid(
            "pat_max_ttl_days",
            "The longest personal token lifetime must be between 1 and 3650 days.",
        ));
    }
    match &change.allowed_redirect_hosts {
        None => Ok(None),
        Some(hosts) if hosts.len() > MAX_REDIRECT_HOSTS => Err(AppError::invalid(
            "allowed_redirect_hosts",
            format!("At most {MAX_REDIRECT_HOSTS} redirect hosts."),
        )),
        Some(hosts) => RedirectAllowList::parse(hosts)
            .map(|l| Some(l.entries().to_vec()))
            .map_err(|why| AppError::invalid("allowed_redirect_hosts", why)),
    }
}

/// Applies `change` to the org; returns the policy as it now is. Nothing is written when the
/// change is invalid or changes nothing.
pub async fn update(
    s: &Services,
    actor_id: Uuid,
    org_id: Uuid,
    change: &PolicyChange,
    meta: &RequestMeta,
) -> AppResult<Policy> {
    let lists = validate(change)?;
    let txn = s.db.begin_write().await?;
    // Write first, read second. SQLite can't turn a read into a write once another writer has
    // committed ("database is locked" at once, without waiting), but a transaction that starts
    // with a write waits its turn; on PostgreSQL this row lock orders concurrent changes, so each
    // audited diff is against what the change really replaced.
    organization::Entity::update_many()
        .col_expr(
            organization::Column::UpdatedAt,
            Expr::col(organization::Column::UpdatedAt),
        )
        .filter(organization::Column::Id.eq(org_id))
        .exec(&txn)
        .await?;
    let org = super::orgs::find(&txn, org_id)
        .await?
        .ok_or_else(|| AppError::not_found("This organization no longer exists."))?;
    let before = of(&org);
    let mut after = before.clone();
    macro_rules! apply {
        ($($f:ident),*) => { $( if let Some(v) = change.$f { after.$f = v; } )* };
    }
    apply!(
        mcp_enabled,
        personal_tokens_enabled,
        mcp_oauth_pats_enabled,
        dynamic_registration_enabled,
        access_token_ttl_secs,
        refresh_token_ttl_secs,
        pat_max_ttl_days,
        two_factor_policy,
        metadata_clients_enabled
    );
    if let Some(h) = lists.hosts {
        after.allowed_redirect_hosts = h;
    }
    if let Some(d) = lists.allowed_domains {
        after.allowed_client_domains = d;
    }
    if let Some(d) = lists.blocked_domains {
        after.blocked_client_domains = d;
    }
    if after == before {
        return Ok(before);
    }
    // An admin can't ask for two-factor sign-in without having it: they'd lock themselves out
    // of the settings that undo it.
    if after.two_factor_policy != before.two_factor_policy
        && after
            .two_factor_policy
            .applies_to(crate::model::Role::Admin)
        && !super::users::find(&txn, actor_id)
            .await?
            .is_some_and(|u| u.two_factor())
    {
        return Err(AppError::invalid(
            "two_factor_policy",
            "Turn on two-factor sign-in for your own account first (on your account page): this setting would otherwise lock you out.",
        ));
    }
    let changed = diff(&before, &after);
    let mut row = org.into_active_model();
    row.mcp_enabled = Set(after.mcp_enabled);
    row.personal_tokens_enabled = Set(after.personal_tokens_enabled);
    row.mcp_oauth_pats_enabled = Set(after.mcp_oauth_pats_enabled);
    row.dynamic_registration_enabled = Set(after.dynamic_registration_enabled);
    row.allowed_redirect_hosts = Set(json!(after.allowed_redirect_hosts).to_string());
    row.access_token_ttl_secs = Set(after.access_token_ttl_secs);
    row.refresh_token_ttl_secs = Set(after.refresh_token_ttl_secs);
    row.pat_max_ttl_days = Set(after.pat_max_ttl_days);
    row.two_factor_policy = Set(after.two_factor_policy);
    row.metadata_clients_enabled = Set(after.metadata_clients_enabled);
    row.allowed_client_domains = Set(json!(after.allowed_client_domains).to_string());
    row.blocked_client_domains = Set(json!(after.blocked_client_domains).to_string());
    row.updated_at = Set(Utc::now());
    row.update(&txn).await?;
    record_change(&txn, org_id, actor_id, changed, meta).await?;
    txn.commit().await?;
    // Policy decides who gets in: cached decisions must not outlive it.
    s.invalidate(Invalidation::All);
    Ok(after)
}

/// The policy as the settings form shows it (access tokens in minutes, the rest in days).
pub fn form_of(p: &Policy) -> OrgPolicyForm {
    OrgPolicyForm {
        mcp_enabled: p.mcp_enabled,
        personal_tokens_enabled: p.personal_tokens_enabled,
        mcp_oauth_pats_enabled: p.mcp_oauth_pats_enabled,
        dynamic_registration_enabled: p.dynamic_registration_enabled,
        // As an admin writes them: a bare host for https, the scheme for anything else.
        allowed_redirect_hosts: p
            .allowed_redirect_hosts
            .iter()
            .map(|e| e.strip_prefix("https://").unwrap_or(e))
            .collect::<Vec<_>>()
            .join("\n"),
        access_token_ttl_minutes: in_units(p.access_token_ttl_secs, 60).to_string(),
        refresh_token_ttl_days: in_units(p.refresh_token_ttl_secs, 86_400).to_string(),
        pat_max_ttl_days: p.pat_max_ttl_days.to_string(),
        two_factor_policy: p.two_factor_policy.as_str().to_string(),
        metadata_clients_enabled: p.metadata_clients_enabled,
        allowed_client_domains: p.allowed_client_domains.join("\n"),
        blocked_client_domains: p.blocked_client_domains.join("\n"),
    }
}

/// Allowed ranges in the form's units.
pub const ACCESS_TTL_MINUTES: (i64, i64) =
    (*ACCESS_TTL_SECS.start() / 60, *ACCESS_TTL_SECS.end() / 60);
pub const REFRESH_TTL_DAYS: (i64, i64) = (1, *REFRESH_TTL_SECS.end() / 86_400);
pub const PAT_TTL_DAYS: (i64, i64) = (
    *PAT_MAX_TTL_DAYS.start() as i64,
    *PAT_MAX_TTL_DAYS.end() as i64,
);

/// `secs` in whole `unit`s, rounded, at least 1.
fn in_units(secs: i64, unit: i64) -> i64 {
    ((secs + unit / 2) / unit).max(1)
}

fn whole_number(field: &str, raw: &str, (min, max): (i64, i64), what: &str) -> AppResult<i64> {
    let message = || format!("Enter a whole number of {what} between {min} and {max}.");
    let n: i64 = raw
        .trim()
        .parse()
        .map_err(|_| AppError::invalid(field, message()))?;
    if !(min..=max).contains(&n) {
        return Err(AppError::invalid(field, message()));
    }
    Ok(n)
}

/// The change a submitted settings form asks for, against the policy `now`. A lifetime the
/// admin left as shown stays as it is, even when the form's unit can't express it exactly (a
/// 90-second lifetime set through the API shows as 2 minutes). Bad input names its field.
pub fn change_from_form(form: &OrgPolicyForm, now: &Policy) -> AppResult<PolicyChange> {
    let shown = form_of(now);
    let minutes = whole_number(
        "access_token_ttl_minutes",
        &form.access_token_ttl_minutes,
        ACCESS_TTL_MINUTES,
        "minutes",
    )?;
    let refresh_days = whole_number(
        "refresh_token_ttl_days",
        &form.refresh_token_ttl_days,
        REFRESH_TTL_DAYS,
        "days",
    )?;
    let pat_days = whole_number(
        "pat_max_ttl_days",
        &form.pat_max_ttl_days,
        PAT_TTL_DAYS,
        "days",
    )?;
    let two_factor_policy = TwoFactorPolicy::parse(&form.two_factor_policy).ok_or_else(|| {
        AppError::invalid(
            "two_factor_policy",
            "Choose who must use two-factor sign-in: nobody, admins, or every member.",
        )
    })?;
    let unchanged = |raw: &str, shown: &str| raw.trim() == shown;
    let hosts = split_hosts(&form.allowed_redirect_hosts);
    let change = PolicyChange {
        mcp_enabled: Some(form.mcp_enabled),
        personal_tokens_enabled: Some(form.personal_tokens_enabled),
        mcp_oauth_pats_enabled: Some(form.mcp_oauth_pats_enabled),
        dynamic_registration_enabled: Some(form.dynamic_registration_enabled),
        allowed_redirect_hosts: Some(hosts),
        access_token_ttl_secs: (!unchanged(
            &form.access_token_ttl_minutes,
            &shown.access_token_ttl_minutes,
        ))
        .then_some(minutes * 60),
        refresh_token_ttl_secs: (!unchanged(
            &form.refresh_token_ttl_days,
            &shown.refresh_token_ttl_days,
        ))
        .then_some(refresh_days * 86_400),
        pat_max_ttl_days: Some(pat_days as i32),
        two_factor_policy: Some(two_factor_policy),
        metadata_clients_enabled: Some(form.metadata_clients_enabled),
        allowed_client_domains: Some(split_hosts(&form.allowed_client_domains)),
        blocked_client_domains: Some(split_hosts(&form.blocked_client_domains)),
    };
    // The bounds in the domain's units, and the hosts: the same checks as every other way in.
    validate(&change)?;
    Ok(change)
}

/// A lifetime in words: "1 hour", "30 days", "90 seconds".
pub fn describe_secs(secs: i64) -> String {
    let (n, unit) = if secs % 86_400 == 0 {
        (secs / 86_400, "day")
    } else if secs % 3_600 == 0 {
        (secs / 3_600, "hour")
    } else if secs % 60 == 0 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

async fn record_change(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    actor_id: Uuid,
    changed: serde_json::Value,
    meta: &RequestMeta,
) -> AppResult<()> {
    audit::record(
        db,
        AuditEntry::new("org.policy_changed")
            .org(org_id)
            .actor(actor_id)
            .target("org", org_id)
            .details(changed),
        meta,
    )
    .await
}

/// `{field: {"from": old, "to": new}}` for each field that changed.
fn diff(before: &Policy, after: &Policy) -> serde_json::Value {
    let (b, a) = (json!(before), json!(after));
    let mut out = serde_json::Map::new();
    if let (Some(b), Some(a)) = (b.as_object(), a.as_object()) {
        for (k, new) in a {
            if b.get(k) != Some(new) {
                out.insert(k.clone(), json!({ "from": b.get(k), "to": new }));
            }
        }
    }
    serde_json::Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalised_and_checked() {
        let c = PolicyChange {
            allowed_redirect_hosts: Some(vec![
                "Claude.AI".into(),
                " claude.ai ".into(),
                "".into(),
                "localhost".into(),
            ]),
            ..Default::default()
        };
        assert_eq!(
            validate(&c).unwrap().hosts,
            Some(vec![
                "https://claude.ai".to_string(),
                "https://localhost".to_string()
            ])
        );
        for bad in [
            "https://claude.ai/cb",
            "claude.ai/cb",
            "*.claude.ai",
            "a..b",
        ] {
            let c = PolicyChange {
                allowed_redirect_hosts: Some(vec![bad.into()]),
                ..Default::default()
            };
            assert_eq!(
                validate(&c).unwrap_err().field(),
                Some("allowed_redirect_hosts"),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_form_round_trips_and_names_bad_fields() {
        let now = Policy {
            mcp_enabled: true,
            personal_tokens_enabled: true,
            mcp_oauth_pats_enabled: true,
            dynamic_registration_enabled: true,
            allowed_redirect_hosts: vec!["claude.ai".into()],
            access_token_ttl_secs: 90,
            refresh_token_ttl_secs: 30 * 86_400,
            pat_max_ttl_days: 365,
            two_factor_policy: TwoFactorPolicy::Off,
            metadata_clients_enabled: true,
            allowed_client_domains: vec![],
            blocked_client_domains: vec!["evil.example".into()],
        };
        let form = form_of(&now);
        assert_eq!(form.blocked_client_domains, "evil.example");
        assert_eq!(form.two_factor_policy, "off");
        assert_eq!(form.access_token_ttl_minutes, "2");
        assert_eq!(form.refresh_token_ttl_days, "30");
        // Unchanged lifetimes are left alone, even when minutes can't say 90 seconds.
        let c = change_from_form(&form, &now).unwrap();
        assert_eq!(c.access_token_ttl_secs, None);
        assert_eq!(c.refresh_token_ttl_secs, None);
        assert_eq!(
            c.allowed_redirect_hosts,
            Some(vec!["claude.ai".to_string()])
        );
        let mut f = form.clone();
        f.access_token_ttl_minutes = "15".into();
        f.allowed_redirect_hosts = "claude.ai, chatgpt.com\nLocalhost".into();
        let c = change_from_form(&f, &now).unwrap();
        assert_eq!(c.access_token_ttl_secs, Some(900));
        assert_eq!(
            c.allowed_redirect_hosts,
            Some(vec![
                "claude.ai".into(),
                "chatgpt.com".into(),
                "Localhost".into()
            ])
        );
        for (field, value) in [
            ("access_token_ttl_minutes", "0"),
            ("access_token_ttl_minutes", "1441"),
            ("refresh_token_ttl_days", "x"),
            ("pat_max_ttl_days", "3651"),
            ("two_factor_policy", "sometimes"),
            ("allowed_client_domains", "https://claude.ai"),
            ("blocked_client_domains", "10.0.0.1"),
            ("allowed_redirect_hosts", "https://claude.ai/cb"),
        ] {
            let mut f = form.clone();
            match field {
                "access_token_ttl_minutes" => f.access_token_ttl_minutes = value.into(),
                "refresh_token_ttl_days" => f.refresh_token_ttl_days = value.into(),
                "pat_max_ttl_days" => f.pat_max_ttl_days = value.into(),
                "two_factor_policy" => f.two_factor_policy = value.into(),
                "allowed_client_domains" => f.allowed_client_domains = value.into(),
                "blocked_client_domains" => f.blocked_client_domains = value.into(),
                _ => f.allowed_redirect_hosts = value.into(),
            }
            assert_eq!(
                change_from_form(&f, &now).unwrap_err().field(),
                Some(field),
                "{value}"
            );
        }
        assert_eq!(describe_secs(3_600), "1 hour");
        assert_eq!(describe_secs(30 * 86_400), "30 days");
        assert_eq!(describe_secs(90), "90 seconds");
    }

    #[test]
    fn lifetimes_are_bounded() {
        let c = PolicyChange {
            access_token_ttl_secs: Some(10),
            ..Default::default()
        };
        assert_eq!(
            validate(&c).unwrap_err().field(),
            Some("access_token_ttl_secs")
        );
        let c = PolicyChange {
            pat_max_ttl_days: Some(0),
            ..Default::default()
        };
        assert_eq!(validate(&c).unwrap_err().field(), Some("pat_max_ttl_days"));
    }
}
