//! `/admin/audit`: the org's audit log for its admins, newest first. The filters are a GET
//! form and the pages plain links, so everything works without JavaScript and every view of
//! the log has its own URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::admin_audit::load_audit_log;
use crate::components::layout::ErrorPanel;
use crate::components::pager::Pager;
use crate::components::time::When;
use crate::model::{AuditEventView, AuditLogPage};

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).unwrap_or_default();
    let params = move || {
        (
            param("actor"),
            param("action"),
            param("from"),
            param("to"),
            param("page").trim().parse::<u64>().unwrap_or(1),
        )
    };
    let data = Resource::new(params, |(actor, action, from, to, page)| {
        load_audit_log(actor, action, from, to, page)
    });
    view! {
        <Title text="Audit log" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(log) => view! { <AuditLog log /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditLog(log: AuditLogPage) -> impl IntoView {
    let query = use_query_map();
    let value = move |k: &'static str| move || query.read().get(k).unwrap_or_default();
    let filtered = ["actor", "action", "from", "to"].iter().any(|k| {
        query
            .read_untracked()
            .get(k)
            .is_some_and(|v| !v.trim().is_empty())
    });
    let errors = log.filter_errors.clone();
    let error_of = move |field: &'static str| {
        errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| view! { <p class="field-error" id=format!("{field}-error") role="alert">{m.clone()}</p> })
    };
    view! {
        <h1>"Audit log of " {log.org.name.clone()}</h1>
        <p class="muted">
            "Every security-relevant change in this organization: sign-ins to apps, tokens created and revoked, members and roles, settings. Newest first."
        </p>
        <section class="panel">
            <h2 class="visually-hidden">"Filters"</h2>
            <Form method="get" action="/admin/audit">
                <div class="row-form filters" role="search" aria-label="Filter the audit log" data-testid="audit-filters">
                    <div class="field">
                        <label for="audit-actor">"Actor"</label>
                        <input id="audit-actor" name="actor" type="email" placeholder="ada@example.com"
                            value=value("actor") aria-describedby="actor-error" autocomplete="off" />
                        {error_of("actor")}
                    </div>
                    <div class="field">
                        <label for="audit-action">"Action"</label>
                        <input id="audit-action" name="action" type="text" placeholder="oauth, pat.created"
                            value=value("action") list="audit-actions" aria-describedby="audit-action-hint action-error"
                            autocomplete="off" spellcheck="false" />
                        <datalist id="audit-actions">
                            {["oauth", "oauth.consent", "oauth.token", "pat", "member", "org", "client", "connection", "user"]
                                .into_iter().map(|a| view! { <option value=a></option> }).collect_view()}
                        </datalist>
                        {error_of("action")}
                    </div>
                    <div class="field">
                        <label for="audit-from">"From"</label>
                        <input id="audit-from" name="from" type="date" value=value("from") aria-describedby="from-error" />
                        {error_of("from")}
                    </div>
                    <div class="field">
                        <label for="audit-to">"To"</label>
                        <input id="audit-to" name="to" type="date" value=value("to") aria-describedby="to-error" />
                        {error_of("to")}
                    </div>
                    <div class="actions filter-buttons">
                        <button type="submit" class="secondary">"Filter"</button>
                        {filtered.then(|| view! { <a href="/admin/audit" class="small">"Clear filters"</a> })}
                    </div>
                </div>
                <p class="hint" id="audit-action-hint">
                    "An action matches itself and everything under it: oauth matches oauth.token.issued. Dates are UTC days, both included."
                </p>
            </Form>
        </section>
        <section class="panel">
            {if log.events.is_empty() {
                let text = if !log.filter_errors.is_empty() {
                    "Correct the filters above to see events."
                } else if filtered {
                    "No events match these filters."
                } else {
                    "Nothing has been recorded in this organization yet."
                };
                view! { <p class="empty" data-testid="audit-empty">{text}</p> }.into_any()
            } else {
                view! {
                    <p class="muted small" data-testid="audit-total">
                        {format!("{} event{}", log.total, if log.total == 1 { "" } else { "s" })}
                    </p>
                    <div class="table-scroll">
                        <table class="table audit" data-testid="audit-events">
                            <thead><tr>
                                <th>"When"</th><th>"Actor"</th><th>"Action"</th><th>"Target"</th>
                                <th>"Details"</th><th>"IP"</th>
                            </tr></thead>
                            <tbody>
                                {log.events.into_iter().map(|e| view! { <EventRow e /> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <Pager page=log.page pages=log.pages total=log.total noun="events" newest_first=true />
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn EventRow(e: AuditEventView) -> impl IntoView {
    let target = match (e.target_type.clone(), e.target_id.clone()) {
        (Some(kind), Some(id)) => {
            // Ids are long: show the start, the whole id on hover.
            let short: String = if id.len() > 13 {
                format!("{}…", id.chars().take(8).collect::<String>())
            } else {
                id.clone()
            };
            view! { <span class="badge subtle">{kind}</span> " " <span class="mono small" title=id>{short}</span> }
                .into_any()
        }
        (Some(kind), None) => view! { <span class="badge subtle">{kind}</span> }.into_any(),
        _ => view! { <span class="muted">"—"</span> }.into_any(),
    };
    view! {
        <tr data-action=e.action.clone() data-event-id=e.id.to_string()>
            <td class="nowrap"><When at=e.at /></td>
            <td data-testid="actor">{match e.actor.clone() {
                Some(a) => view! { <span>{a}</span> }.into_any(),
                None => view! { <span class="muted">"System"</span> }.into_any(),
            }}</td>
            <td><span class="mono small" data-testid="action">{e.action.clone()}</span></td>
            <td>{target}</td>
            <td class="details small" data-testid="details" title=e.details_full.clone().unwrap_or_default()>
                {e.details.clone().unwrap_or_default()}
            </td>
            <td class="mono small nowrap">{e.ip.clone().unwrap_or_else(|| "—".into())}</td>
        </tr>
    }
}
