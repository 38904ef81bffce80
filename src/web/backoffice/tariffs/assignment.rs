//! Automatic tariff assignment in the back-office (TAR-02): an activity's assignment rules,
//! edited on its grid page (`/agent/tarifs/{code}`, section « Attribution du tarif »), and
//! the tariff of an enrolment, shown on its page and changed by an agent with the pricing
//! right and a reason (`POST /agent/tarifs/inscriptions/{id}`).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::activities::{Desk, refusal};
use super::{Draft, PreviewForm, Text, activity_of, may_write, render_grid, save_text};
use crate::domain::pricing::AssignmentRule;
use crate::domain::tariffs::assignment::{self, RULES_TEMPLATE};
use crate::domain::tariffs::grids::{self, Saved};
use crate::platform::auth::authz::{Action, CITY};
use crate::platform::error::{AppError, AppResult};
use crate::web::flash;
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Routes};

pub(super) fn routes(routes: &mut Routes) {
    routes
        .post(
            "/agent/tarifs/inscriptions/{id}",
            Need::Agent("pricing", Action::Write),
            change_tariff,
        )
        .post(
            "/agent/tarifs/{code}/attribution",
            Need::Agent("pricing", Action::Write),
            save_rules,
        );
}

/// The rules text sent back to the grid page.
#[derive(Default)]
pub(super) struct RulesDraft {
    pub text: String,
    pub comment: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

/// The « Attribution du tarif » section of the grid page of `code`.
pub(super) async fn section(
    desk: &Desk,
    code: &str,
    draft: Option<&RulesDraft>,
) -> AppResult<Value> {
    let (current, history) = {
        let code = code.to_string();
        desk.run(move |conn| {
            Box::pin(async move {
                Ok((
                    assignment::rules_document(conn, &code).await?,
                    grids::history(conn, &assignment::assignment_key(&code)).await?,
                ))
            })
        })
        .await?
    };
    let (rules, stored_error) = match current.as_ref().map(|d| assignment::parse_rules(&d.text)) {
        Some(Ok(rules)) => (assignment::describe(&rules), None),
        Some(Err(e)) => (Vec::new(), Some(e)),
        None => (Vec::new(), None),
    };
    let checked = draft
        .filter(|d| d.error.is_none())
        .and_then(|d| assignment::parse_rules(&d.text).ok())
        .map(|rules| assignment::describe(&rules));
    Ok(json!({
        "current": current,
        "rules": rules,
        "stored_error": stored_error,
        "text": draft.map_or_else(
            || current.as_ref().map_or_else(|| RULES_TEMPLATE.to_string(), |d| d.text.clone()),
            |d| d.text.clone(),
        ),
        "comment": draft.map(|d| d.comment.clone()),
        "error": draft.and_then(|d| d.error.clone()),
        "notice": draft.and_then(|d| d.notice.clone()),
        "checked": checked,
        "history": history,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RulesForm {
    text: String,
    comment: String,
    /// "verifier": check and show, save nothing.
    action: String,
}

async fn save_rules(
    desk: Desk,
    code: web::Path<String>,
    CsrfForm(form): CsrfForm<RulesForm>,
) -> AppResult<HttpResponse> {
    let activity = activity_of(&desk, &code).await?;
    let code = activity.code.clone();
    let back = |draft: RulesDraft| Draft {
        rules: Some(draft),
        ..Draft::default()
    };
    if form.action == "verifier" {
        let draft = match assignment::parse_rules(&form.text) {
            Ok(_) => RulesDraft {
                notice: Some(
                    "Les règles d'attribution sont valides ; rien n'a été enregistré.".into(),
                ),
                ..RulesDraft::default()
            },
            Err(e) => RulesDraft {
                error: Some(format!("règles d'attribution refusées : {e}")),
                ..RulesDraft::default()
            },
        };
        let draft = RulesDraft {
            text: form.text,
            comment: form.comment,
            ..draft
        };
        return render_grid(&desk, &activity, back(draft), &PreviewForm::default()).await;
    }
    let (text, comment) = (form.text.clone(), form.comment.clone());
    let saved = save_text(&desk, Text::Rules(code.clone()), text, comment).await;
    let page = format!("/agent/tarifs/{code}#attribution");
    match saved {
        Ok(Saved::Recorded(id)) => Ok(flash::redirect(
            &page,
            &format!(
                "Règles d'attribution du tarif de « {} » enregistrées (version n° {id}) : elles \
                 s'appliquent aux prochaines admissions.",
                activity.name
            ),
        )),
        Ok(Saved::Unchanged) => Ok(flash::redirect(
            &page,
            "Les règles d'attribution n'ont pas changé : rien n'a été enregistré.",
        )),
        Err(error) => match refusal(&error) {
            Some(message) => {
                let draft = RulesDraft {
                    text: form.text,
                    comment: form.comment,
                    error: Some(message),
                    notice: None,
                };
                render_grid(&desk, &activity, back(draft), &PreviewForm::default()).await
            }
            None => Err(error),
        },
    }
}

// ---------------------------------------------------------------------------------------
// The tariff of an enrolment

/// The « Tarif » section of an enrolment page: the tariff, why, who set it, and whether
/// this agent may change it (with the codes the activity's rules know).
pub(in crate::web::backoffice) async fn enrolment_tariff(desk: &Desk, id: i64) -> AppResult<Value> {
    let (tariff, rules) = desk
        .run(move |conn| {
            Box::pin(async move {
                let tariff = assignment::tariff_of(conn, id).await?;
                let rules: Vec<AssignmentRule> =
                    match assignment::rules(conn, &tariff.activity_code).await {
                        Ok(rules) => rules,
                        // A broken text is said on the grid page; the enrolment still shows.
                        Err(AppError::Invalid(_)) => Vec::new(),
                        Err(other) => return Err(other),
                    };
                Ok((tariff, rules))
            })
        })
        .await?;
    let label = |code: &str| {
        rules
            .iter()
            .find(|r| r.tariff == code)
            .map(|r| r.label.clone())
    };
    let mut codes: Vec<Value> = Vec::new();
    for rule in &rules {
        if !codes.iter().any(|c| c["code"] == rule.tariff.as_str()) {
            codes.push(json!({ "code": rule.tariff, "label": rule.label }));
        }
    }
    Ok(json!({
        "code": tariff.tariff,
        "label": tariff.tariff.as_deref().and_then(label),
        "explanation": tariff.tariff_explanation,
        "source_label": match tariff.tariff_source.as_deref() {
            Some("agent") => Some("Choisi par un agent"),
            Some("automatic") => Some("Attribué automatiquement à l'admission"),
            _ => None,
        },
        "set_by": tariff.tariff_set_by,
        "set_at": tariff.tariff_set_at,
        "has_rules": !rules.is_empty(),
        "codes": codes,
        "may_change": may_write(desk).await?,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TariffForm {
    tariff: String,
    reason: String,
}

/// An agent changes the tariff of enrolment `id`, with a reason: the enrolment page comes
/// back (with the French reason when refused, nothing changed). The enrolments' audit
/// trigger records the change.
async fn change_tariff(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<TariffForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    // The enrolment page itself needs the enrolments right.
    desk.require_in("enrolments", &[CITY.to_string()], Action::Read)
        .await?;
    let by = desk.principal.actor();
    let changed = desk
        .run(move |conn| {
            Box::pin(async move {
                assignment::change_tariff(conn, id, &form.tariff, &form.reason, &by).await
            })
        })
        .await;
    match changed {
        Ok(_) => Ok(flash::redirect(
            &format!("/agent/inscriptions/{id}"),
            "Tarif de l'inscription changé.",
        )),
        Err(error) => match refusal(&error) {
            Some(message) => {
                super::super::enrolments::render_detail(&desk, id, None, Some(&message)).await
            }
            None => Err(error),
        },
    }
}
