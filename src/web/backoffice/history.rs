//! "Historique": who changed what and when, filtered by agent, table, record and dates;
//! security events (sign-ins, failures, refusals, break-glass) included.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::agent_layout;
use crate::platform::audit::{self, Filter};
use crate::platform::auth::authz::Action;
use crate::platform::error::AppResult;
use crate::web::State;
use crate::web::faces::{CsrfToken, CurrentCity};
use crate::web::guard::{Need, Principal, Routes};
use crate::web::page::html;

pub fn routes(routes: &mut Routes) {
    routes.get(
        "/agent/historique",
        Need::Agent("audit", Action::Read),
        history,
    );
}

/// French words for what happened.
pub fn operation_label(op: &str) -> &'static str {
    match op {
        "INSERT" => "création",
        "UPDATE" => "modification",
        "DELETE" => "suppression",
        "LOGIN" => "connexion",
        "LOGIN_FAILED" => "échec de connexion",
        "LOGOUT" => "déconnexion",
        "DENIED" => "refus d'accès",
        "BREAK_GLASS" => "accès d'urgence",
        "ERASURE" => "effacement RGPD",
        "EXPORT" => "export RGPD",
        _ => "événement",
    }
}

/// Entries ready for the history table and the per-record panel (changed fields only).
pub fn entry_views(entries: &[audit::Entry]) -> Vec<serde_json::Value> {
    entries
        .iter()
        .map(|e| {
            let changes: Vec<serde_json::Value> = changed_fields(e.before.as_ref(), e.after.as_ref())
                .into_iter()
                .map(|(field, before, after)| json!({ "field": field, "before": before, "after": after }))
                .collect();
            json!({
                "at": e.at.with_timezone(&chrono_tz::Europe::Paris).format("%d/%m/%Y %H:%M:%S").to_string(),
                "user": e.user_id,
                "table": e.table_name,
                "row": e.row_id,
                "operation": operation_label(&e.op),
                "changes": changes,
            })
        })
        .collect()
}

fn changed_fields(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<(String, String, String)> {
    let empty = serde_json::Map::new();
    let before = before.and_then(|v| v.as_object()).unwrap_or(&empty);
    let after = after.and_then(|v| v.as_object()).unwrap_or(&empty);
    let show = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| (k.clone(), show(before.get(k)), show(after.get(k))))
        .collect()
}

async fn history(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    filter: web::Query<Filter>,
) -> AppResult<HttpResponse> {
    let filter = filter.into_inner();
    let query = filter.clone();
    let (entries, more) = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move { audit::search(conn, &query).await })
        })
        .await?;
    let layout = agent_layout(
        &state,
        &city,
        &principal,
        &csrf,
        "Historique",
        "/agent/historique",
    )
    .await?;
    let page = filter.page.max(0);
    let link = |page: i64| {
        let mut next = filter.clone();
        next.page = page;
        format!(
            "/agent/historique?{}",
            serde_html_form::to_string(&next).unwrap_or_default()
        )
    };
    html(
        &state.templates,
        &layout,
        "backoffice/history",
        &json!({
            "filter": filter,
            "entries": entry_views(&entries),
            "previous": (page > 0).then(|| link(page - 1)),
            "next": more.then(|| link(page + 1)),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::changed_fields;
    use serde_json::json;

    #[test]
    fn only_changed_fields_are_listed() {
        let before = json!({ "id": 1, "name": "Martin", "city": "Corbas" });
        let after = json!({ "id": 1, "name": "Martin-Durand", "city": "Corbas" });
        assert_eq!(
            changed_fields(Some(&before), Some(&after)),
            vec![(
                "name".to_string(),
                "Martin".to_string(),
                "Martin-Durand".to_string()
            )]
        );
        assert_eq!(changed_fields(None, Some(&json!({ "id": 2 }))).len(), 1);
    }
}
