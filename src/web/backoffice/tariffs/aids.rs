//! Aids in the back-office (TAR-05): the city's catalogue (`/agent/tarifs/aides`, TOML
//! checked before anything is saved, versioned and audited as a setting) and the aids granted
//! to a household from its page (`/agent/familles/{id}/aides`: grant, end), permission-checked
//! like incomes (`family_income` write).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::super::activities::{Desk, day, pending, refusal, shown};
use super::{Text, may_write, save_text};
use crate::domain::tariffs::aids::{self, GrantInput};
use crate::domain::tariffs::grids::{self, Saved};
use crate::platform::auth::authz::Action;
use crate::platform::clock;
use crate::platform::db::{Conn, Work};
use crate::platform::error::{AppError, AppResult};
use crate::web::flash;
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Routes};

/// Registered before `/agent/tarifs/{code}` (which would take « aides » for a code).
pub(super) fn routes(routes: &mut Routes) {
    routes
        .get(
            "/agent/tarifs/aides",
            Need::Agent("pricing", Action::Read),
            catalogue_page,
        )
        .post(
            "/agent/tarifs/aides",
            Need::Agent("pricing", Action::Write),
            save_catalogue,
        )
        .post(
            "/agent/familles/{id}/aides",
            Need::Agent("family_income", Action::Write),
            grant,
        )
        .post(
            "/agent/familles/{id}/aides/{grant}/fin",
            Need::Agent("family_income", Action::Write),
            end_grant,
        );
}

const CATALOGUE_TEMPLATE: &str = "\
# Catalogue des aides de la ville, dans l'ordre où elles sont déduites (la CAF avant la
# ville, par exemple). Chaque aide s'attribue ensuite à une famille depuis sa page.
#
# funder : city (ville), ccas, departement, caf ou employer (employeur).
# amount : { percent = \"50\" } du prix, { per_unit = \"1.00\" } par unité (repas, heure),
#          ou { per_line = \"2.00\" } par prestation.
# Plafonds facultatifs : cap_per_day, cap_per_period avec period = \"month\" (par mois) ou
# \"validity\" (sur la période d'attribution) ; cap_scope = \"child\" (par enfant) ou \"family\".
# activities : codes des activités concernées (vide : toutes).

[[aids]]
id = \"ccas-cantine\"
label = \"Coup de pouce cantine\"
funder = \"ccas\"
valid_from = \"2025-09-01\"
activities = [\"cantine\"]
amount = { percent = \"50\" }
cap_per_day = \"2.00\"
cap_per_period = \"30.00\"
period = \"month\"
";

#[derive(Deserialize, Default)]
#[serde(default)]
struct CatalogueForm {
    text: String,
    comment: String,
    /// "verifier": check and show, save nothing.
    action: String,
}

async fn catalogue_page(desk: Desk, req: HttpRequest) -> AppResult<HttpResponse> {
    let message = pending(&req);
    let response = render_catalogue(&desk, None, message.as_deref(), None).await?;
    Ok(shown(response, &message))
}

/// The catalogue page; `draft` is a text sent back (with its error, if refused).
async fn render_catalogue(
    desk: &Desk,
    draft: Option<(&CatalogueForm, Option<String>)>,
    message: Option<&str>,
    checked: Option<Vec<aids::AidView>>,
) -> AppResult<HttpResponse> {
    let (current, history) = desk
        .run(|conn| {
            Box::pin(async move {
                Ok((
                    aids::catalogue_document(conn).await?,
                    grids::history(conn, aids::AIDS_KEY).await?,
                ))
            })
        })
        .await?;
    let today = clock::today();
    let (entries, stored_error) = match current.as_ref().map(|d| aids::parse_catalogue(&d.text)) {
        Some(Ok(list)) => (list.iter().map(|a| aids::view(a, today)).collect(), None),
        Some(Err(e)) => (Vec::new(), Some(e)),
        None => (Vec::new(), None),
    };
    let (text, comment, error) = match draft {
        Some((form, error)) => (form.text.clone(), form.comment.clone(), error),
        None => (
            current
                .as_ref()
                .map_or_else(|| CATALOGUE_TEMPLATE.to_string(), |d| d.text.clone()),
            String::new(),
            None,
        ),
    };
    let layout = desk
        .layout("Catalogue des aides", "/agent/tarifs")
        .await?
        .flash(message);
    desk.page(
        &layout,
        "backoffice/tariff_aids",
        &json!({
            "aids": entries,
            "current": current,
            "stored_error": stored_error,
            "text": text,
            "comment": comment,
            "error": error,
            "checked": checked,
            "write": may_write(desk).await?,
            "history": history,
        }),
        error.is_some(),
    )
}

async fn save_catalogue(
    desk: Desk,
    CsrfForm(form): CsrfForm<CatalogueForm>,
) -> AppResult<HttpResponse> {
    if form.action == "verifier" {
        let today = clock::today();
        return match aids::parse_catalogue(&form.text) {
            Ok(list) => {
                let views = list.iter().map(|a| aids::view(a, today)).collect();
                render_catalogue(
                    &desk,
                    Some((&form, None)),
                    Some("Le catalogue est valide ; rien n'a été enregistré."),
                    Some(views),
                )
                .await
            }
            Err(e) => {
                let error = format!("catalogue refusé : {e}");
                render_catalogue(&desk, Some((&form, Some(error))), None, None).await
            }
        };
    }
    let (text, comment) = (form.text.clone(), form.comment.clone());
    let saved = save_text(&desk, Text::Aids, text, comment).await;
    match saved {
        Ok(Saved::Recorded(id)) => Ok(flash::redirect(
            "/agent/tarifs/aides",
            &format!("Catalogue des aides enregistré (version n° {id})."),
        )),
        Ok(Saved::Unchanged) => Ok(flash::redirect(
            "/agent/tarifs/aides",
            "Le catalogue n'a pas changé : rien n'a été enregistré.",
        )),
        Err(error) => match refusal(&error) {
            Some(message) => {
                render_catalogue(&desk, Some((&form, Some(message))), None, None).await
            }
            None => Err(error),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Grants, from the household page

#[derive(Deserialize, Default)]
#[serde(default)]
struct GrantForm {
    aid_id: String,
    /// Repeated: the children it is granted for (none: all).
    child: Vec<String>,
    valid_from: String,
    valid_to: String,
    reason: String,
}

/// Runs `work` on `household`: the household page comes back (with the French reason when
/// refused, nothing changed).
async fn on_household<F>(
    desk: &Desk,
    household: i64,
    done: &str,
    work: F,
) -> AppResult<HttpResponse>
where
    F: for<'c> FnOnce(&'c mut Conn) -> Work<'c, ()> + Send,
{
    let (state, city) = (desk.state.clone(), &desk.city);
    super::super::families::change(
        state,
        city,
        &desk.principal,
        &desk.csrf,
        household,
        done,
        work,
    )
    .await
}

impl GrantForm {
    fn input(&self) -> AppResult<GrantInput> {
        if self.aid_id.trim().is_empty() {
            return Err(AppError::invalid("choisissez l'aide à attribuer"));
        }
        let children = self
            .child
            .iter()
            .filter(|c| !c.trim().is_empty())
            .map(|c| {
                c.trim()
                    .parse()
                    .map_err(|_| AppError::invalid(format!("enfant « {c} » inconnu")))
            })
            .collect::<AppResult<Vec<i64>>>()?;
        Ok(GrantInput {
            aid_id: self.aid_id.trim().to_string(),
            children,
            valid_from: day(&self.valid_from, "début de l'aide")?
                .ok_or_else(|| AppError::invalid("indiquez le début de l'aide"))?,
            valid_to: day(&self.valid_to, "fin de l'aide")?,
            reason: self.reason.clone(),
        })
    }
}

/// The household page's forms send here; the answer is the household page (with the French
/// reason when refused, nothing changed).
async fn grant(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<GrantForm>,
) -> AppResult<HttpResponse> {
    let household = id.into_inner();
    let by = desk.principal.actor();
    let input = form.input();
    on_household(
        &desk,
        household,
        "Aide attribuée à la famille.",
        move |conn| {
            Box::pin(async move {
                aids::grant(conn, household, &input?, &by).await?;
                Ok(())
            })
        },
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EndForm {
    last_day: String,
}

async fn end_grant(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<EndForm>,
) -> AppResult<HttpResponse> {
    let (household, grant) = path.into_inner();
    let by = desk.principal.actor();
    let last_day =
        day(&form.last_day, "dernier jour de l'aide").map(|d| d.unwrap_or_else(clock::today));
    on_household(
        &desk,
        household,
        "Attribution de l'aide terminée.",
        move |conn| {
            Box::pin(async move { aids::end_grant(conn, household, grant, last_day?, &by).await })
        },
    )
    .await
}
