//! The gateway's rules in the domain: upstream MCP servers as an org's admins set them up
//! (validation, the instance's host rule, the sealed secret, one org's servers invisible to
//! another), the tools they list (defaults from annotations, an admin's choice kept across
//! listings, missing tools hidden), who sees and may call which tool (role and scope through
//! the access decision), and the signed assertion of who is calling.

mod support;

use app::domain::access::{Principal, Purpose};
use app::domain::entities::{mcp_upstream, organization, user};
use app::domain::gateway::caller;
use app::domain::gateway::catalog::{self, ListedTool};
use app::domain::gateway::upstreams::{self, UpstreamChange};
use app::domain::oauth::resource::McpResource;
use app::domain::pats::{self, NewPat};
use app::domain::upstream_hosts::UpstreamHosts;
use app::domain::{Services, Settings};
use app::error::AppResult;
use app::model::Role;
use migration::on_both_backends;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::json;
use std::sync::Arc;
use support::*;

on_both_backends!(
    upstreams_are_validated_and_their_secret_sealed,
    tools_are_shown_and_routed_by_role_and_scope,
);

/// Services whose upstreams may be on loopback (tests run their servers there).
fn with_loopback(db: DatabaseConnection) -> Services {
    let mut settings = Settings::new("https://gate.test", true);
    settings.gateway.allowed_hosts = Some(UpstreamHosts::parse("127.0.0.1").unwrap());
    Services::new(
        db,
        settings,
        app::domain::sealing::InstanceKey::generate().0,
    )
}

/// `by` adds an upstream to `org`.
async fn add(
    s: &Services,
    by: &user::Model,
    org: &organization::Model,
    c: &UpstreamChange,
) -> AppResult<mcp_upstream::Model> {
    upstreams::create(s, by.id, org.id, c, &meta()).await
}

fn change(name: &str, url: &str) -> UpstreamChange {
    UpstreamChange {
        name: name.into(),
        url: url.into(),
        timeout_ms: 5_000,
        enabled: true,
        ..Default::default()
    }
}

async fn upstreams_are_validated_and_their_secret_sealed(db: DatabaseConnection) {
    // Without an allow list, internal addresses are refused.
    let strict = services(db.clone());
    let ada = user(&strict, "ada@acme.example").await;
    let acme = org_of(&strict, &ada, "acme").await;
    let err = add(
        &strict,
        &ada,
        &acme,
        &change("crm", "http://127.0.0.1:9/mcp"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.field(), Some("url"));
    assert!(err.to_string().contains("internal address"), "{err}");

    let s = with_loopback(db);
    for (c, field) in [
        (change("Crm", "http://127.0.0.1:9/mcp"), "name"),
        (change("crm__x", "http://127.0.0.1:9/mcp"), "name"),
        (change("crm", "ftp://127.0.0.1:9/mcp"), "url"),
        (change("crm", "http://10.0.0.1/mcp"), "url"),
        (change("crm", "http://user:pw@127.0.0.1:9/mcp"), "url"),
        (
            UpstreamChange {
                timeout_ms: 500,
                ..change("crm", "http://127.0.0.1:9/mcp")
            },
            "timeout_ms",
        ),
        (
            UpstreamChange {
                auth_header_name: Some("Authorization".into()),
                auth_header_value: Some("x".into()),
                ..change("crm", "http://127.0.0.1:9/mcp")
            },
            "auth_header_name",
        ),
        (
            UpstreamChange {
                auth_header_name: Some("X-Api-Key".into()),
                ..change("crm", "http://127.0.0.1:9/mcp")
            },
            "auth_header_value",
        ),
    ] {
        let err = upstreams::create(&s, ada.id, acme.id, &c, &meta())
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some(field), "{c:?}: {err}");
    }
    assert!(upstreams::list(&s.db, acme.id).await.unwrap().is_empty());

    let made = upstreams::create(
        &s,
        ada.id,
        acme.id,
        &UpstreamChange {
            auth_header_name: Some("X-Api-Key".into()),
            auth_header_value: Some("the-upstream-secret".into()),
            ..change("crm", "http://127.0.0.1:9/mcp")
        },
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(audit_count(&s.db, "org.mcp_server.added").await, 1);
    let stored = mcp_upstream::Entity::find_by_id(made.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored
            .auth_header_sealed
            .unwrap()
            .contains("the-upstream-secret")
    );
    assert_eq!(
        upstreams::secret_header(&s, &made).unwrap(),
        Some(("X-Api-Key".into(), "the-upstream-secret".into()))
    );
    // The same name twice in one org is refused; another org may use it.
    let err = add(&s, &ada, &acme, &change("crm", "http://127.0.0.1:8/mcp"))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("name"));
    let bob = user(&s, "bob@beta.example").await;
    let beta = org_of(&s, &bob, "beta").await;
    add(&s, &bob, &beta, &change("crm", "http://127.0.0.1:8/mcp"))
        .await
        .unwrap();
    // …and neither org reaches the other's.
    assert!(upstreams::find(&s.db, beta.id, made.id).await.is_err());
    assert!(
        upstreams::delete(&s, bob.id, beta.id, made.id, &meta())
            .await
            .is_err()
    );

    // A change without a new secret keeps it; dropping the header drops it.
    let kept = upstreams::update(
        &s,
        ada.id,
        acme.id,
        made.id,
        &UpstreamChange {
            auth_header_name: Some("X-Api-Key".into()),
            timeout_ms: 10_000,
            ..change("crm", "http://127.0.0.1:9/mcp")
        },
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(kept.timeout_ms, 10_000);
    assert_eq!(
        upstreams::secret_header(&s, &kept).unwrap().unwrap().1,
        "the-upstream-secret"
    );
    let bare = upstreams::update(
        &s,
        ada.id,
        acme.id,
        made.id,
        &change("crm", "http://127.0.0.1:9/mcp"),
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(upstreams::secret_header(&s, &bare).unwrap(), None);
    upstreams::delete(&s, ada.id, acme.id, made.id, &meta())
        .await
        .unwrap();
    assert!(upstreams::list(&s.db, acme.id).await.unwrap().is_empty());
    assert_eq!(audit_count(&s.db, "org.mcp_server.removed").await, 1);
}

fn tool(name: &str, annotations: Option<serde_json::Value>) -> ListedTool {
    ListedTool {
        name: name.into(),
        title: None,
        description: Some(format!("{name} does things")),
        input_schema: json!({ "type": "object" }),
        output_schema: None,
        annotations,
    }
}

/// A PAT of `who` in `org` with `scopes`, as the MCP endpoint's caller.
async fn caller_of(
    s: &Services,
    who: &app::domain::entities::user::Model,
    org: &app::domain::entities::organization::Model,
    role: Role,
    scopes: &[&str],
) -> Arc<Principal> {
    let pat = pats::create(
        s,
        who,
        org,
        role,
        &NewPat {
            name: format!("{} token", who.email),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_in_days: 30,
        },
        &meta(),
    )
    .await
    .unwrap();
    s.access()
        .check(
            &pat.secret,
            Purpose::Mcp(&McpResource::Org(org.slug.clone())),
        )
        .await
        .unwrap()
        .unwrap()
}

fn names(list: &[catalog::Exposed]) -> Vec<String> {
    list.iter().map(|e| e.name()).collect()
}

async fn tools_are_shown_and_routed_by_role_and_scope(db: DatabaseConnection) {
    let s = with_loopback(db);
    let ada = user(&s, "ada@acme.example").await;
    let acme = org_of(&s, &ada, "acme").await;
    let quinn = user(&s, "quinn@acme.example").await;
    member(&s, &ada, &acme, &quinn, Role::Querier).await;
    let crm = add(&s, &ada, &acme, &change("crm", "http://127.0.0.1:9/mcp"))
        .await
        .unwrap();
    let listed = vec![
        tool("find_contact", Some(json!({ "readOnlyHint": true }))),
        tool("delete_contact", Some(json!({ "destructiveHint": true }))),
        tool("note", None),
    ];
    assert_eq!(
        catalog::record_listing(&s, &crm, listed.clone())
            .await
            .unwrap(),
        3
    );
    let view = catalog::tools_of(&s, acme.id, crm.id).await.unwrap();
    let delete = view.iter().find(|t| t.name == "delete_contact").unwrap();
    assert_eq!(
        (delete.min_role, delete.scope.as_str(), delete.destructive),
        (Role::Admin, "mcp:write", true)
    );
    let note = view.iter().find(|t| t.name == "note").unwrap();
    assert_eq!(
        (note.min_role, note.scope.as_str()),
        (Role::Querier, "mcp:read")
    );

    let admin_rw = caller_of(&s, &ada, &acme, Role::Admin, &["mcp:read", "mcp:write"]).await;
    let admin_ro = caller_of(&s, &ada, &acme, Role::Admin, &["mcp:read"]).await;
    let querier = caller_of(&s, &quinn, &acme, Role::Querier, &["mcp:read", "mcp:write"]).await;
    assert_eq!(
        names(&catalog::visible(&s, &admin_rw).await.unwrap()),
        vec!["crm__delete_contact", "crm__find_contact", "crm__note"]
    );
    assert_eq!(
        names(&catalog::visible(&s, &admin_ro).await.unwrap()),
        vec!["crm__find_contact", "crm__note"]
    );
    assert_eq!(
        names(&catalog::visible(&s, &querier).await.unwrap()),
        vec!["crm__find_contact", "crm__note"]
    );
    // Calls go through the same decision, in plain words.
    let refused = catalog::route(&s, &querier, "crm__delete_contact")
        .await
        .unwrap()
        .unwrap_err();
    assert!(refused.contains("needs the admin role"), "{refused}");
    let refused = catalog::route(&s, &admin_ro, "crm__delete_contact")
        .await
        .unwrap()
        .unwrap_err();
    assert!(refused.contains("mcp:write"), "{refused}");
    assert!(
        catalog::route(&s, &admin_rw, "crm__delete_contact")
            .await
            .unwrap()
            .is_ok()
    );
    let unknown = catalog::route(&s, &admin_rw, "crm__nothing")
        .await
        .unwrap()
        .unwrap_err();
    assert!(unknown.contains("no tool crm__nothing"), "{unknown}");
    assert!(
        catalog::route(&s, &admin_rw, "erp__x")
            .await
            .unwrap()
            .is_err()
    );

    // An admin opens note to writers only; a new listing keeps that, hides a missing tool.
    catalog::set_tool_policy(
        &s,
        ada.id,
        acme.id,
        crm.id,
        "note",
        Some((Role::Querier, "mcp:write".into())),
        &meta(),
    )
    .await
    .unwrap();
    let querier_ro = caller_of(&s, &quinn, &acme, Role::Querier, &["mcp:read"]).await;
    assert_eq!(
        names(&catalog::visible(&s, &querier_ro).await.unwrap()),
        vec!["crm__find_contact"]
    );
    catalog::record_listing(&s, &crm, vec![listed[1].clone(), listed[2].clone()])
        .await
        .unwrap();
    let view = catalog::tools_of(&s, acme.id, crm.id).await.unwrap();
    let note = view.iter().find(|t| t.name == "note").unwrap();
    assert!(note.policy_set && note.scope == "mcp:write");
    assert!(
        !view
            .iter()
            .find(|t| t.name == "find_contact")
            .unwrap()
            .present
    );
    assert!(names(&catalog::visible(&s, &querier_ro).await.unwrap()).is_empty());
    assert!(
        catalog::set_tool_policy(
            &s,
            ada.id,
            acme.id,
            crm.id,
            "note",
            Some((Role::Querier, "admin:all".into())),
            &meta()
        )
        .await
        .is_err()
    );
    // Back to the default; a switched-off server shows nothing and refuses calls.
    catalog::set_tool_policy(&s, ada.id, acme.id, crm.id, "note", None, &meta())
        .await
        .unwrap();
    assert_eq!(
        names(&catalog::visible(&s, &querier_ro).await.unwrap()),
        vec!["crm__note"]
    );
    upstreams::update(
        &s,
        ada.id,
        acme.id,
        crm.id,
        &UpstreamChange {
            enabled: false,
            ..change("crm", "http://127.0.0.1:9/mcp")
        },
        &meta(),
    )
    .await
    .unwrap();
    assert!(catalog::visible(&s, &querier_ro).await.unwrap().is_empty());
    let off = catalog::route(&s, &querier_ro, "crm__note")
        .await
        .unwrap()
        .unwrap_err();
    assert!(off.contains("switched off"), "{off}");

    // Another org's caller sees none of acme's servers.
    let bob = user(&s, "bob@beta.example").await;
    let beta = org_of(&s, &bob, "beta").await;
    let other = caller_of(&s, &bob, &beta, Role::Admin, &["mcp:read", "mcp:write"]).await;
    assert!(catalog::visible(&s, &other).await.unwrap().is_empty());
    assert!(
        catalog::route(&s, &other, "crm__note")
            .await
            .unwrap()
            .is_err()
    );

    // The assertion of who is calling: this person, org and role, for this server only.
    let claims = caller::claims(&s, &querier, &crm);
    assert_eq!(claims["iss"], "https://gate.test");
    assert_eq!(claims["aud"], crm.url);
    assert_eq!(claims["sub"], quinn.id.to_string());
    assert_eq!(claims["org"], "acme");
    assert_eq!(claims["role"], "querier");
    assert_eq!(claims["email"], "quinn@acme.example");
    let exp = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(exp, caller::TTL.num_seconds());
    let signed = caller::assertion(&s, &querier, &crm).await.unwrap();
    assert_eq!(signed.split('.').count(), 3);
}
