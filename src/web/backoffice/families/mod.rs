//! Families in the back-office: search, the household page (synthetic view of the
//! dossier), creation with homonym check, changes, incomes, bank details, documents,
//! archiving, RGPD export and erasure.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::agent_layout;
use crate::domain::activity::enrolment;
use crate::domain::family::bank::{self, BankInput};
use crate::domain::family::documents::{self, Limits, Owner, Upload};
use crate::domain::family::dossier::{self, Visibility};
use crate::domain::family::health::HealthAccess;
use crate::domain::family::model::{
    AddressInput, AdultInput, ChildInput, HouseholdPatch, NewFamily, PROFESSIONAL_SITUATIONS,
    REGIMES, SITUATIONS,
};
use crate::domain::family::store::{self, Creation, IncomeInput};
use crate::domain::family::{rgpd, search};
use crate::domain::settings::CATALOGUE;
use crate::platform::audit;
use crate::platform::auth::authz::{ANYWHERE, Action, CITY};
use crate::platform::clock;
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::City;
use crate::web::faces::{CsrfToken, CurrentCity};
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Principal, Routes};
use crate::web::page::html;
use crate::web::{State, flash};

mod edits;
mod records;

use edits::*;
use records::{download, erase, expiring, export, upload};

pub fn routes(routes: &mut Routes) {
    let read = Need::Agent("families", Action::Read);
    let write = Need::Agent("families", Action::Write);
    routes
        .get("/agent/familles", read, search_page)
        .get("/agent/familles/nouvelle", write, new_page)
        .post("/agent/familles", write, create)
        .get("/agent/familles/{id}", read, household_page)
        .post("/agent/familles/{id}", write, update)
        .post("/agent/familles/{id}/adultes", write, add_adult)
        .post("/agent/familles/{id}/enfants", write, add_child)
        .post("/agent/familles/{id}/rattacher", write, attach_child)
        .post("/agent/familles/{id}/archiver", write, archive)
        .post("/agent/familles/{id}/reactiver", write, reactivate)
        .post(
            "/agent/familles/{id}/revenus",
            Need::Agent("family_income", Action::Write),
            add_income,
        )
        .post(
            "/agent/familles/{id}/banque",
            Need::Agent("bank", Action::Write),
            add_bank,
        )
        .post(
            "/agent/familles/{id}/banque/{account}/mandat",
            Need::Agent("bank", Action::Write),
            add_mandate,
        )
        .post(
            "/agent/familles/{id}/documents",
            Need::Agent("documents", Action::Write),
            upload,
        )
        .post(
            "/agent/familles/{id}/comptes",
            Need::Agent("accounts", Action::Write),
            open_account,
        )
        .get(
            "/agent/familles/{id}/export",
            Need::Agent("families", Action::Process),
            export,
        )
        .post(
            "/agent/familles/{id}/effacer",
            Need::Agent("families", Action::Process),
            erase,
        )
        .get(
            "/agent/documents/expirant",
            Need::Agent("documents", Action::Read),
            expiring,
        )
        .get(
            "/agent/documents/{id}",
            Need::Agent("documents", Action::Read),
            download,
        );
}

/// What this agent may see of a dossier.
pub async fn visibility(
    state: &State,
    city: &City,
    principal: &Principal,
) -> AppResult<Visibility> {
    let may = |object: &'static str| principal.may(state, city, object, CITY, Action::Read);
    Ok(Visibility {
        income: may("family_income").await?,
        bank: may("bank").await?,
        health: HealthAccess {
            basic: may("health:basic").await?,
            medical: may("health:medical").await?,
            confidential: may("health:confidential").await?,
        },
    })
}

#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
struct SearchQuery {
    q: String,
    archives: Option<String>,
    page: i64,
}

const PAGE: i64 = 25;

async fn search_page(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    query: web::Query<SearchQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let (q, archived, page) = (query.q.clone(), query.archives.is_some(), query.page.max(0));
    let (items, total) = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move { search::search(conn, &q, archived, PAGE, page * PAGE).await })
        })
        .await?;
    let can_create = principal
        .may(&state, &city, "families", ANYWHERE, Action::Write)
        .await?;
    let layout = agent_layout(
        &state,
        &city,
        &principal,
        &csrf,
        "Familles",
        "/agent/familles",
    )
    .await?;
    let link = |page: i64| {
        format!(
            "/agent/familles?{}",
            serde_html_form::to_string(&SearchQuery {
                page,
                ..SearchQuery {
                    q: query.q.clone(),
                    archives: query.archives.clone(),
                    page: 0
                }
            })
            .unwrap_or_default()
        )
    };
    html(
        &state.templates,
        &layout,
        "backoffice/families",
        &json!({
            "q": query.q, "archives": archived, "items": items, "total": total, "searched": !query.q.trim().is_empty(),
            "can_create": can_create,
            "previous": (page > 0).then(|| link(page - 1)),
            "next": ((page + 1) * PAGE < total).then(|| link(page + 1)),
        }),
    )
}

/// The creation form, flat (three children rows at most; more are added afterwards).
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct FamilyForm {
    situation: String,
    regime: String,
    allocataire: String,
    line1: String,
    line2: String,
    postal_code: String,
    town: String,
    head_last_name: String,
    head_first_name: String,
    head_sex: String,
    head_birth_date: String,
    head_email: String,
    head_phone: String,
    head_job: String,
    partner_last_name: String,
    partner_first_name: String,
    partner_sex: String,
    partner_birth_date: String,
    partner_email: String,
    partner_phone: String,
    partner_job: String,
    child1_last_name: String,
    child1_first_name: String,
    child1_sex: String,
    child1_birth_date: String,
    child2_last_name: String,
    child2_first_name: String,
    child2_sex: String,
    child2_birth_date: String,
    child3_last_name: String,
    child3_first_name: String,
    child3_sex: String,
    child3_birth_date: String,
    ignore_homonyms: Option<String>,
}

fn date(text: &str, what: &str) -> AppResult<Option<chrono::NaiveDate>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| AppError::invalid(format!("{what} invalide « {text} » : JJ/MM/AAAA attendu")))
}

fn some(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

impl FamilyForm {
    fn to_new_family(&self) -> AppResult<NewFamily> {
        let adult = |last: &str,
                     first: &str,
                     sex: &str,
                     birth: &str,
                     email: &str,
                     phone: &str,
                     job: &str|
         -> AppResult<AdultInput> {
            Ok(AdultInput {
                last_name: last.into(),
                first_name: first.into(),
                sex: some(sex),
                birth_date: date(birth, "date de naissance")?,
                email: some(email),
                phone_mobile: some(phone),
                professional_situation: some(job),
                ..AdultInput::default()
            })
        };
        let children = [
            (
                &self.child1_last_name,
                &self.child1_first_name,
                &self.child1_sex,
                &self.child1_birth_date,
            ),
            (
                &self.child2_last_name,
                &self.child2_first_name,
                &self.child2_sex,
                &self.child2_birth_date,
            ),
            (
                &self.child3_last_name,
                &self.child3_first_name,
                &self.child3_sex,
                &self.child3_birth_date,
            ),
        ]
        .into_iter()
        .filter(|(last, first, _, _)| !last.trim().is_empty() || !first.trim().is_empty())
        .map(|(last, first, sex, birth)| {
            Ok(ChildInput {
                last_name: last.clone(),
                first_name: first.clone(),
                sex: some(sex),
                birth_date: date(birth, "date de naissance de l'enfant")?,
                ..ChildInput::default()
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
        let partner = if self.partner_last_name.trim().is_empty()
            && self.partner_first_name.trim().is_empty()
        {
            None
        } else {
            Some(adult(
                &self.partner_last_name,
                &self.partner_first_name,
                &self.partner_sex,
                &self.partner_birth_date,
                &self.partner_email,
                &self.partner_phone,
                &self.partner_job,
            )?)
        };
        Ok(NewFamily {
            situation: some(&self.situation),
            regime: some(&self.regime),
            allocataire: some(&self.allocataire),
            address: AddressInput {
                line1: self.line1.clone(),
                line2: self.line2.clone(),
                postal_code: self.postal_code.clone(),
                town: self.town.clone(),
            },
            billing_address: None,
            head: adult(
                &self.head_last_name,
                &self.head_first_name,
                &self.head_sex,
                &self.head_birth_date,
                &self.head_email,
                &self.head_phone,
                &self.head_job,
            )?,
            partner,
            children,
            ignore_homonyms: self.ignore_homonyms.is_some(),
        })
    }
}

fn choices(list: &[(&str, &str)], selected: &str) -> Vec<serde_json::Value> {
    list.iter()
        .map(|(code, label)| json!({ "code": code, "label": label, "selected": *code == selected }))
        .collect()
}

async fn render_new(
    state: &State,
    city: &City,
    principal: &Principal,
    csrf: &CsrfToken,
    form: &FamilyForm,
    error: Option<&str>,
    homonyms: Option<Vec<search::Homonym>>,
) -> AppResult<HttpResponse> {
    let layout = agent_layout(
        state,
        city,
        principal,
        csrf,
        "Nouvelle famille",
        "/agent/familles",
    )
    .await?;
    let mut response = html(
        &state.templates,
        &layout,
        "backoffice/family_new",
        &json!({
            "form": form, "error": error, "homonyms": homonyms,
            "situations": choices(SITUATIONS, &form.situation),
            "regimes": choices(REGIMES, if form.regime.is_empty() { "caf" } else { &form.regime }),
            "head_jobs": choices(PROFESSIONAL_SITUATIONS, &form.head_job),
            "partner_jobs": choices(PROFESSIONAL_SITUATIONS, &form.partner_job),
        }),
    )?;
    if error.is_some() || homonyms.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn new_page(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
) -> AppResult<HttpResponse> {
    let form = FamilyForm {
        town: city.name.clone(),
        ..FamilyForm::default()
    };
    render_new(&state, &city, &principal, &csrf, &form, None, None).await
}

async fn create(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<FamilyForm>,
) -> AppResult<HttpResponse> {
    let input = match form.to_new_family() {
        Ok(input) => input,
        Err(error) => {
            return render_new(
                &state,
                &city,
                &principal,
                &csrf,
                &form,
                Some(&error.to_string()),
                None,
            )
            .await;
        }
    };
    let outcome = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move { store::create_family(conn, &input, clock::today()).await })
        })
        .await;
    match outcome {
        Ok(Creation::Created(family)) => Ok(flash::redirect(
            &format!("/agent/familles/{}", family.id),
            &format!("Famille n° {} créée.", family.number),
        )),
        Ok(Creation::Homonyms(found)) => {
            render_new(&state, &city, &principal, &csrf, &form, None, Some(found)).await
        }
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            render_new(
                &state,
                &city,
                &principal,
                &csrf,
                &form,
                Some(&error.to_string()),
                None,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

async fn household_page(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let message = flash::take(&req);
    let mut response = render_household(
        &state,
        &city,
        &principal,
        &csrf,
        id,
        message.as_deref(),
        None,
    )
    .await?;
    if message.is_some() {
        flash::clear(&mut response);
    }
    Ok(response)
}

async fn render_household(
    state: &State,
    city: &City,
    principal: &Principal,
    csrf: &CsrfToken,
    id: i64,
    message: Option<&str>,
    error: Option<&str>,
) -> AppResult<HttpResponse> {
    render_household_with(state, city, principal, csrf, id, message, error, None).await
}

#[allow(clippy::too_many_arguments)]
async fn render_household_with(
    state: &State,
    city: &City,
    principal: &Principal,
    csrf: &CsrfToken,
    id: i64,
    message: Option<&str>,
    error: Option<&str>,
    created_account: Option<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let visibility = visibility(state, city, principal).await?;
    let sees_documents = principal
        .may(state, city, "documents", CITY, Action::Read)
        .await?;
    let sees_enrolments = principal
        .may(state, city, "enrolments", CITY, Action::Read)
        .await?;
    let today = clock::today();
    let (view, documents, history, enrolments, aids) = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                let view = dossier::household(conn, id, today, visibility).await?;
                // Aids granted (TAR-05): read with the incomes.
                let aids = if visibility.income {
                    Some(crate::domain::tariffs::aids::of_household(conn, id, today).await?)
                } else {
                    None
                };
                // The synthetic view: each child's enrolments, in the order of the children.
                let mut enrolments = Vec::new();
                for child in view.children.iter().filter(|_| sees_enrolments) {
                    let filter = enrolment::Filter {
                        child_id: Some(child.id),
                        ..Default::default()
                    };
                    let list = enrolment::list(conn, &filter, 20).await?;
                    enrolments.push(
                        list.iter()
                            .filter(|e| {
                                !matches!(e.status.as_str(), "withdrawn" | "ended" | "refused")
                            })
                            .map(|e| {
                                json!({
                                    "id": e.id, "activity": e.activity,
                                    "status_label": enrolment::status_label(&e.status),
                                })
                            })
                            .collect::<Vec<_>>(),
                    );
                }
                let documents = if sees_documents {
                    Some(documents::of_household(conn, id).await?)
                } else {
                    None
                };
                let history = audit::history_of(conn, "households", &id.to_string()).await?;
                Ok((view, documents, history, enrolments, aids))
            })
        })
        .await?;
    let may =
        |object: &'static str, action: Action| principal.may(state, city, object, CITY, action);
    let rights = json!({
        "write": may("families", Action::Write).await?,
        "income_write": may("family_income", Action::Write).await?,
        "bank_write": may("bank", Action::Write).await?,
        "documents_write": may("documents", Action::Write).await?,
        "process": may("families", Action::Process).await?,
        "accounts_write": may("accounts", Action::Write).await?,
        "audit": may("audit", Action::Read).await?,
    });
    let title = format!("Famille {} — n° {}", view.name, view.number);
    let layout = agent_layout(state, city, principal, csrf, &title, "/agent/familles")
        .await?
        .flash(message);
    let mut response = html(
        &state.templates,
        &layout,
        "backoffice/household",
        &json!({
            "family": view,
            "enrolments": enrolments,
            "aids": aids,
            "sees_enrolments": sees_enrolments,
            "sees": { "income": visibility.income, "bank": visibility.bank, "documents": sees_documents },
            "documents": documents,
            "document_kinds": documents::KINDS.iter().map(|(code, label)| json!({ "code": code, "label": label })).collect::<Vec<_>>(),
            "history": super::history::entry_views(&history),
            "rights": rights,
            "error": error,
            "situations": choices(SITUATIONS, &view.situation),
            "regimes": choices(REGIMES, &view.regime),
            "jobs": choices(PROFESSIONAL_SITUATIONS, ""),
            "today": today.format("%Y-%m-%d").to_string(),
            "back": format!("/agent/familles/{id}"),
            "created_account": created_account,
        }),
    )?;
    if error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// Runs a change on household `id`; on bad input the household page comes back with the
/// French error (nothing changed), otherwise a redirect with `done`.
pub(super) async fn change<F>(
    state: State,
    city: &City,
    principal: &Principal,
    csrf: &CsrfToken,
    id: i64,
    done: &str,
    work: F,
) -> AppResult<HttpResponse>
where
    F: for<'c> FnOnce(&'c mut crate::platform::db::Conn) -> crate::platform::db::Work<'c, ()>
        + Send,
{
    match state.db.run(city.scope(&principal.actor()), work).await {
        Ok(()) => Ok(flash::redirect(&format!("/agent/familles/{id}"), done)),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            render_household(
                &state,
                city,
                principal,
                csrf,
                id,
                None,
                Some(&error.to_string()),
            )
            .await
        }
        Err(other) => Err(other),
    }
}
