//! The org admin's settings page (`/admin/settings`: the org policy form) and audit log
//! (`/admin/audit`: filters, pages). Every test runs on SQLite and on PostgreSQL (the
//! PostgreSQL variant is skipped, with the reason printed, when no server is configured).

mod support;

use migration::on_both_backends;

use app::api::admin_audit::parse_filter;
use app::domain::access::{Invalidation, Invalidations};
use app::domain::audit::{self, AuditEntry};
use app::domain::audit_log::{self, AuditFilter};
use app::domain::entities::{audit_event, organization, user};
use app::domain::org_policy::{self, PolicyChange};
use app::domain::{Services, members, orgs};
use app::model::{AuditFilterForm, Role};
use chrono::{Duration, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use serde_json::json;
use support::*;

on_both_backends!(
    the_form_saves_the_policy_audits_it_and_drops_the_caches,
    a_refused_form_changes_nothing,
    an_unchanged_form_writes_nothing,
    the_audit_log_filters_by_actor_action_and_days,
    the_audit_log_is_paged_newest_first_and_stays_in_its_org,
    bad_filters_name_their_field,
);

async fn reload(s: &Services, org: &organization::Model) -> organization::Model {
    orgs::find(&s.db, org.id).await.unwrap().unwrap()
}

async fn policy_events(
    db: &DatabaseConnection,
    org: &organization::Model,
) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::OrgId.eq(org.id))
        .filter(audit_event::Column::Action.eq("org.policy_changed"))
        .all(db)
        .await
        .unwrap()
}

/// An event of `org` by `actor`, `action`, at `at`.
async fn event(
    db: &DatabaseConnection,
    org: &organization::Model,
    actor: Option<&user::Model>,
    action: &'static str,
    at: chrono::DateTime<Utc>,
) {
    let mut e = AuditEntry::new(action).org(org.id);
    if let Some(a) = actor {
        e = e.actor(a.id);
    }
    let mut row = audit::row(e, &meta());
    row.created_at = Set(at);
    row.insert(db).await.unwrap();
}

async fn the_form_saves_the_policy_audits_it_and_drops_the_caches(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let before = org_policy::of(&org);
    let mut form = org_policy::form_of(&before);
    assert!(form.mcp_enabled && form.personal_tokens_enabled && form.mcp_oauth_pats_enabled);
    form.mcp_enabled = false;
    form.personal_tokens_enabled = false;
    form.allowed_redirect_hosts = "Claude.ai\nchatgpt.com, localhost".into();
    form.access_token_ttl_minutes = "15".into();
    form.refresh_token_ttl_days = "7".into();
    form.pat_max_ttl_days = "90".into();
    let change = org_policy::change_from_form(&form, &before).unwrap();
    let generation = s.caches.generation();
    let mut published = s.caches.subscribe();
    let after = org_policy::update(&s, ada.id, org.id, &change, &meta())
        .await
        .unwrap();
    assert!(
        s.caches.generation() > generation,
        "the bearer cache is dropped so the change applies at once"
    );
    assert_eq!(
        published.try_recv().ok(),
        Some(Invalidation::All),
        "and other processes are told"
    );

    let org = reload(&s, &org).await;
    let now = org_policy::of(&org);
    assert_eq!(now, after);
    assert!(!now.mcp_enabled && !now.personal_tokens_enabled && now.mcp_oauth_pats_enabled);
    assert_eq!(
        now.allowed_redirect_hosts,
        vec![
            "https://claude.ai",
            "https://chatgpt.com",
            "https://localhost"
        ]
    );
    assert_eq!(now.access_token_ttl_secs, 900);
    assert_eq!(now.refresh_token_ttl_secs, 7 * 86_400);
    assert_eq!(now.pat_max_ttl_days, 90);
    // The form shows it back as saved.
    let shown = org_policy::form_of(&now);
    assert_eq!(shown.access_token_ttl_minutes, "15");
    assert_eq!(
        shown.allowed_redirect_hosts,
        "claude.ai\nchatgpt.com\nlocalhost"
    );

    // One audit event, by Ada, naming exactly what changed.
    let events = policy_events(&s.db, &org).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor_user_id, Some(ada.id));
    assert_eq!(events[0].ip.as_deref(), Some("203.0.113.7"));
    let details: serde_json::Value =
        serde_json::from_str(events[0].details.as_deref().unwrap()).unwrap();
    assert_eq!(details["mcp_enabled"], json!({"from": true, "to": false}));
    assert_eq!(details["pat_max_ttl_days"]["to"], json!(90));
    assert!(details.get("mcp_oauth_pats_enabled").is_none());
    // The log shows it in one line.
    let log = audit_log::page(&s.db, org.id, &AuditFilter::default(), 1)
        .await
        .unwrap();
    let line = log
        .events
        .iter()
        .find(|e| e.action == "org.policy_changed")
        .and_then(|e| e.details.as_ref())
        .map(audit_log::summarize)
        .unwrap();
    assert!(line.contains("mcp_enabled: true → false"), "{line}");
    assert!(
        line.contains("pat_max_ttl_days: 365 → 90") || line.contains("→ 90"),
        "{line}"
    );
}

async fn a_refused_form_changes_nothing(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let before = org_policy::of(&org);
    let good = org_policy::form_of(&before);
    let cases = [
        ("access_token_ttl_minutes", "0"),
        ("access_token_ttl_minutes", "1441"),
        ("access_token_ttl_minutes", "ten"),
        ("refresh_token_ttl_days", "366"),
        ("pat_max_ttl_days", "0"),
        ("pat_max_ttl_days", "-3"),
        ("allowed_redirect_hosts", "https://claude.ai/cb"),
        ("allowed_redirect_hosts", "http://claude.ai"),
        ("allowed_redirect_hosts", "javascript://claude.ai"),
        ("allowed_redirect_hosts", "claude.ai/callback"),
        ("allowed_redirect_hosts", "*.example.com"),
    ];
    for (field, value) in cases {
        let mut form = good.clone();
        form.mcp_enabled = false; // would be a change, were the form accepted
        match field {
            "access_token_ttl_minutes" => form.access_token_ttl_minutes = value.into(),
            "refresh_token_ttl_days" => form.refresh_token_ttl_days = value.into(),
            "pat_max_ttl_days" => form.pat_max_ttl_days = value.into(),
            _ => form.allowed_redirect_hosts = value.into(),
        }
        let e = org_policy::change_from_form(&form, &before).unwrap_err();
        assert_eq!(e.field(), Some(field), "{field}={value}");
    }
    // Too many hosts, through the domain's own check.
    let mut form = good.clone();
    form.allowed_redirect_hosts = (0..51)
        .map(|i| format!("h{i}.example.com"))
        .collect::<Vec<_>>()
        .join("\n");
    let e = org_policy::change_from_form(&form, &before).unwrap_err();
    assert_eq!(e.field(), Some("allowed_redirect_hosts"));
    // Straight to the domain, out of range: refused the same way.
    let e = org_policy::update(
        &s,
        ada.id,
        org.id,
        &PolicyChange {
            mcp_enabled: Some(false),
            access_token_ttl_secs: Some(10),
            ..Default::default()
        },
        &meta(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.field(), Some("access_token_ttl_secs"));
    assert_eq!(org_policy::of(&reload(&s, &org).await), before);
    assert!(policy_events(&s.db, &org).await.is_empty());
}

async fn an_unchanged_form_writes_nothing(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    // A lifetime the form can't show exactly (set through the API) survives a save untouched.
    org_policy::update(
        &s,
        ada.id,
        org.id,
        &PolicyChange {
            access_token_ttl_secs: Some(90),
            ..Default::default()
        },
        &meta(),
    )
    .await
    .unwrap();
    let org = reload(&s, &org).await;
    let before = org_policy::of(&org);
    let form = org_policy::form_of(&before);
    assert_eq!(form.access_token_ttl_minutes, "2");
    let change = org_policy::change_from_form(&form, &before).unwrap();
    let after = org_policy::update(&s, ada.id, org.id, &change, &meta())
        .await
        .unwrap();
    assert_eq!(after, before);
    assert_eq!(reload(&s, &org).await.access_token_ttl_secs, 90);
    assert_eq!(
        policy_events(&s.db, &org).await.len(),
        1,
        "only the API change"
    );
}

async fn the_audit_log_filters_by_actor_action_and_days(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    members::add_user(&s.db, ada.id, &org, &bob, Role::Querier, &meta())
        .await
        .unwrap();
    let day = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
    event(&s.db, &org, Some(&bob), "oauth.token.issued", day(1, 9)).await;
    event(&s.db, &org, Some(&bob), "oauth.consent.granted", day(2, 23)).await;
    event(&s.db, &org, Some(&ada), "pat.created", day(3, 0)).await;
    event(&s.db, &org, Some(&ada), "pat.created_x", day(3, 1)).await;
    event(&s.db, &org, Some(&bob), "oauthx.other", day(4, 12)).await;
    event(&s.db, &org, None, "oauth.refresh_token.reused", day(5, 12)).await;

    let form = |actor: &str, action: &str, from: &str, to: &str| AuditFilterForm {
        actor: actor.into(),
        action: action.into(),
        from: from.into(),
        to: to.into(),
    };
    let actions = |f: AuditFilterForm| {
        let s = s.clone();
        let org_id = org.id;
        async move {
            let filter = parse_filter(&s.db, &f).await.unwrap().unwrap();
            let p = audit_log::page(&s.db, org_id, &filter, 1).await.unwrap();
            assert_eq!(p.total, p.events.len() as u64);
            p.events
                .into_iter()
                .map(|e| e.action)
                .filter(|a| !matches!(a.as_str(), "org.created" | "member.added"))
                .collect::<Vec<_>>()
        }
    };
    // A prefix matches itself and what is under it, never a longer word.
    assert_eq!(
        actions(form("", "oauth", "", "")).await,
        vec![
            "oauth.refresh_token.reused",
            "oauth.consent.granted",
            "oauth.token.issued"
        ]
    );
    assert_eq!(
        actions(form("", "pat.created", "", "")).await,
        vec!["pat.created"]
    );
    // `_` is a letter here, not a wildcard.
    assert_eq!(
        actions(form("", "oauth.refresh_token", "", "")).await,
        vec!["oauth.refresh_token.reused"]
    );
    assert!(
        actions(form("", "oauth.refresh.token", "", ""))
            .await
            .is_empty()
    );
    // The actor by email, in any case.
    assert_eq!(
        actions(form("BOB@example.com", "", "", "")).await,
        vec![
            "oauthx.other",
            "oauth.consent.granted",
            "oauth.token.issued"
        ]
    );
    assert_eq!(
        actions(form("bob@example.com", "oauth", "", "")).await,
        vec!["oauth.consent.granted", "oauth.token.issued"]
    );
    // Someone unknown matches nothing (and nothing says whether they exist).
    assert!(
        actions(form("nobody@example.com", "", "", ""))
            .await
            .is_empty()
    );
    // Days are UTC and both ends count in full.
    assert_eq!(
        actions(form("", "", "2026-03-02", "2026-03-03")).await,
        vec!["pat.created_x", "pat.created", "oauth.consent.granted"]
    );
    assert_eq!(
        actions(form("", "", "2026-03-04", "")).await,
        vec!["oauth.refresh_token.reused", "oauthx.other"]
    );
    assert_eq!(
        actions(form("", "", "", "2026-03-01")).await,
        vec!["oauth.token.issued"]
    );
}

async fn the_audit_log_is_paged_newest_first_and_stays_in_its_org(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let other = org_of(&s, &ada, "globex").await;
    // Whole seconds: PostgreSQL keeps microseconds only.
    let start = Utc
        .timestamp_opt((Utc::now() - Duration::days(2)).timestamp(), 0)
        .unwrap();
    for i in 0..120 {
        event(
            &s.db,
            &org,
            Some(&ada),
            "member.role_changed",
            start + Duration::minutes(i),
        )
        .await;
    }
    event(&s.db, &other, Some(&ada), "member.role_changed", Utc::now()).await;
    let filter = AuditFilter {
        action: Some("member.role_changed".into()),
        ..Default::default()
    };
    assert_eq!(audit_log::count(&s.db, org.id, &filter).await.unwrap(), 120);
    let p1 = audit_log::page(&s.db, org.id, &filter, 1).await.unwrap();
    assert_eq!(
        (p1.page, p1.pages, p1.total, p1.events.len()),
        (1, 3, 120, 50)
    );
    assert_eq!(p1.events[0].at, start + Duration::minutes(119));
    assert_eq!(p1.events[0].actor.as_deref(), Some("ada@example.com"));
    let p3 = audit_log::page(&s.db, org.id, &filter, 3).await.unwrap();
    assert_eq!((p3.page, p3.events.len()), (3, 20));
    assert_eq!(p3.events.last().unwrap().at, start);
    // Past the end: the last page.
    let p9 = audit_log::page(&s.db, org.id, &filter, 9).await.unwrap();
    assert_eq!(p9.page, 3);
    // Newest first throughout, and no page repeats another's rows.
    let mut all = Vec::new();
    for n in 1..=3 {
        all.extend(
            audit_log::page(&s.db, org.id, &filter, n)
                .await
                .unwrap()
                .events,
        );
    }
    assert!(all.windows(2).all(|w| w[0].at >= w[1].at));
    let mut ids: Vec<_> = all.iter().map(|e| e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 120);
    // The other org's log holds only its own.
    assert_eq!(audit_log::count(&s.db, other.id, &filter).await.unwrap(), 1);
    let total: u64 = audit_event::Entity::find().count(&s.db).await.unwrap();
    assert!(total > 121);
}

async fn bad_filters_name_their_field(db: DatabaseConnection) {
    let s = services(db);
    let cases = [
        (("", "OAuth Token", "", ""), "action"),
        (("", "pat%", "", ""), "action"),
        (("", "", "yesterday", ""), "from"),
        (("", "", "", "2026-02-30"), "to"),
        (("", "", "2026-03-05", "2026-03-01"), "to"),
    ];
    for ((actor, action, from, to), field) in cases {
        let f = AuditFilterForm {
            actor: actor.into(),
            action: action.into(),
            from: from.into(),
            to: to.into(),
        };
        let errors = parse_filter(&s.db, &f).await.unwrap().unwrap_err();
        assert_eq!(errors.len(), 1, "{f:?}");
        assert_eq!(errors[0].0, field, "{f:?}");
    }
    // Upper case is read as lower case; a filter the same day to the same day is fine.
    let f = AuditFilterForm {
        action: "PAT".into(),
        from: "2026-03-01".into(),
        to: "2026-03-01".into(),
        ..Default::default()
    };
    let filter = parse_filter(&s.db, &f).await.unwrap().unwrap();
    assert_eq!(filter.action.as_deref(), Some("pat"));
    assert_eq!(
        filter.until.unwrap() - filter.since.unwrap(),
        Duration::days(1)
    );
}
