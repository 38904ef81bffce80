//! Pricing over the API: the CNAF PSU hourly rate of a crèche family
//! (`GET /api/v1/pricing/psu`), with the barème in force (platform data SITIV updates) and
//! the city's PSU ceiling; any token of the city may ask: the answer holds no personal data.
//! The month's simulation of a family or a hypothetical situation
//! (`POST /api/v1/pricing/simulation`, [`simulation`]) needs `pricing` read.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::families::ApiError;
use crate::domain::money::Cents;
use crate::domain::pricing::{CareType, PsuRequest, psu_hourly_rate};
use crate::domain::tariffs::{bareme, grids};
use crate::platform::auth::authz::Action;
use crate::platform::error::{AppError, AppResult};
use crate::web::State;
use crate::web::faces::CurrentCity;
use crate::web::guard::{Need, Principal, Routes};

pub(super) mod simulation;

pub fn routes(routes: &mut Routes) {
    routes.get("/api/v1/pricing/psu", Need::AnyApi, psu_rate);
    routes.post(
        "/api/v1/pricing/simulation",
        Need::Api("pricing", Action::Read),
        simulation::simulate,
    );
}

/// Paramètres du calcul PSU.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PsuQuery {
    /// Ressources mensuelles du foyer en euros (ressources annuelles N-2 / 12), point
    /// décimal et deux décimales au plus : `3000` ou `3000.50`.
    #[param(example = "3000")]
    pub resources: Option<String>,
    /// Nombre d'enfants à charge du foyer (AEEH comprise), 1 au moins.
    #[param(example = 2)]
    pub children: Option<String>,
    /// Nombre d'enfants du foyer bénéficiaires de l'AEEH (0 par défaut) : chacun donne le
    /// taux d'un enfant de plus.
    #[param(example = 0)]
    pub aeeh: Option<String>,
    /// Jour de l'accueil (AAAA-MM-JJ) : le barème, le plancher et le plafond de ce jour
    /// s'appliquent.
    #[param(example = "2025-10-15")]
    pub date: Option<String>,
    /// Type d'accueil : `collective`, `familial`, `parental` ou `micro` (micro-crèche).
    #[param(example = "collective")]
    pub care: Option<String>,
}

/// Le tarif horaire PSU et les chiffres qui le donnent (montants en euros, chaînes
/// décimales).
#[derive(Debug, Serialize, ToSchema)]
pub struct PsuAnswer {
    /// Tarif horaire arrondi au centime (arrondi au demi-centime supérieur).
    #[schema(example = "1.55")]
    pub hourly_rate: String,
    /// Taux d'effort tel que la CNAF l'écrit, en pourcentage : `0.0516` signifie 0,0516 %.
    #[schema(example = "0.0516")]
    pub effort_rate: String,
    /// Ressources retenues après plancher et plafond du jour.
    #[schema(example = "3000.00")]
    pub resources_used: String,
    /// Le calcul en toutes lettres : barème, plancher, plafond, taux et arrondi.
    #[schema(
        example = "Barème PSU CNAF (taux 2022, plancher et plafond 2025-09) : accueil collectif, 2 enfants à charge, taux d'effort 0,0516 % ; ressources mensuelles 3 000,00 € (plancher 801,00 €, plafond CNAF 8 500,00 €) ; 3 000,00 € × 0,0516 % = 1,548 € de l'heure, soit 1,55 € de l'heure arrondi au centime"
    )]
    pub rule: String,
}

impl PsuQuery {
    /// The query's parameters; an unknown one is refused (a misspelt parameter would
    /// otherwise be ignored in silence).
    fn from_pairs(mut pairs: BTreeMap<String, String>) -> AppResult<PsuQuery> {
        let query = PsuQuery {
            resources: pairs.remove("resources"),
            children: pairs.remove("children"),
            aeeh: pairs.remove("aeeh"),
            date: pairs.remove("date"),
            care: pairs.remove("care"),
        };
        match pairs.keys().next() {
            Some(unknown) => Err(AppError::invalid(format!(
                "paramètre « {unknown} » inconnu (paramètres possibles : resources, children, \
                 aeeh, date, care)"
            ))),
            None => Ok(query),
        }
    }
}

/// Reads the query into the engine's request, with a French message for each bad parameter.
fn request(query: PsuQuery) -> AppResult<PsuRequest> {
    let required = |value: Option<String>, name: &str, hint: &str| {
        value
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| AppError::invalid(format!("paramètre « {name} » obligatoire ({hint})")))
    };
    let resources = required(
        query.resources,
        "resources",
        "ressources mensuelles en euros, par exemple 3000.00",
    )?;
    let monthly_resources = Cents::parse_euros(&resources)
        .map_err(|e| AppError::invalid(format!("paramètre « resources » invalide : {e}")))?;
    if monthly_resources.is_negative() {
        return Err(AppError::invalid(
            "paramètre « resources » invalide : les ressources ne peuvent pas être négatives",
        ));
    }
    let count = |value: String, name: &str| {
        value.parse::<u8>().map_err(|_| {
            AppError::invalid(format!(
                "paramètre « {name} » invalide : « {value} » n'est pas un nombre entier de 0 à 255"
            ))
        })
    };
    let children = count(
        required(query.children, "children", "nombre d'enfants à charge")?,
        "children",
    )?;
    let aeeh = match query
        .aeeh
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    {
        Some(value) => count(value, "aeeh")?,
        None => 0,
    };
    let date = required(query.date, "date", "AAAA-MM-JJ")?;
    let date = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| {
        AppError::invalid(format!(
            "paramètre « date » invalide : « {date} » n'est pas une date AAAA-MM-JJ"
        ))
    })?;
    let care = required(
        query.care,
        "care",
        "collective, familial, parental ou micro",
    )?;
    let care = match care.as_str() {
        "collective" => CareType::Collective,
        "familial" => CareType::Familial,
        "parental" => CareType::Parental,
        "micro" => CareType::Micro,
        other => {
            return Err(AppError::invalid(format!(
                "paramètre « care » invalide : « {other} » n'est pas un type d'accueil \
                 (collective, familial, parental ou micro)"
            )));
        }
    };
    Ok(PsuRequest {
        monthly_resources,
        children,
        aeeh,
        date,
        care,
    })
}

/// Tarif horaire PSU (crèches)
///
/// Le tarif horaire d'une famille selon le barème national des participations familiales de
/// la CNAF en vigueur le jour demandé : ressources mensuelles ramenées entre le plancher et le
/// plafond du jour (ou le plafond plus élevé choisi par la ville), multipliées par le taux
/// d'effort du nombre d'enfants à charge et du type d'accueil ; chaque enfant bénéficiaire de
/// l'AEEH donne le taux d'un enfant de plus. Le barème est celui que le SITIV a publié (mis à
/// jour chaque année sans nouvelle version de Marelle). Tout jeton de la ville peut
/// l'appeler.
#[utoipa::path(
    get,
    path = "/api/v1/pricing/psu",
    tag = "tarification",
    params(PsuQuery),
    responses(
        (status = 200, description = "Le tarif horaire et son calcul.", body = PsuAnswer),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 422, description = "Paramètre absent ou invalide, ou jour sans barème publié : message en français.", body = ApiError),
    )
)]
pub(super) async fn psu_rate(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    query: web::Query<BTreeMap<String, String>>,
) -> AppResult<HttpResponse> {
    let request = request(PsuQuery::from_pairs(query.into_inner())?)?;
    let actor = principal.actor();
    let bareme = bareme::in_force(&state.db, &actor).await?;
    let day = request.date;
    let settings = state
        .db
        .run(city.scope(&actor), move |conn| {
            Box::pin(async move { grids::settings_on(conn, day).await })
        })
        .await?;
    let rate = psu_hourly_rate(&bareme, &request, settings.psu_ceiling)
        .map_err(|e| AppError::invalid(e.to_string()))?;
    Ok(HttpResponse::Ok().json(PsuAnswer {
        hourly_rate: rate.hourly_rate.to_decimal_euros(),
        effort_rate: rate.effort_rate.0.to_string(),
        resources_used: rate.resources_used.to_decimal_euros(),
        rule: rate.rule,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> PsuQuery {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        PsuQuery {
            resources: get("resources"),
            children: get("children"),
            aeeh: get("aeeh"),
            date: get("date"),
            care: get("care"),
        }
    }

    const GOOD: &[(&str, &str)] = &[
        ("resources", "3000"),
        ("children", "2"),
        ("date", "2025-10-15"),
        ("care", "collective"),
    ];

    #[test]
    fn reads_the_parameters() {
        let request = request(query(GOOD)).unwrap();
        assert_eq!(request.monthly_resources, Cents::from_euros(3000));
        assert_eq!(request.aeeh, 0);
        assert_eq!(request.care, CareType::Collective);
    }

    #[test]
    fn says_which_parameter_is_wrong() {
        let with = |name: &str, value: &str| {
            let mut pairs: Vec<(&str, &str)> =
                GOOD.iter().copied().filter(|(n, _)| *n != name).collect();
            if !value.is_empty() {
                pairs.push((name, value));
            }
            request(query(&pairs)).unwrap_err().to_string()
        };
        assert!(with("resources", "").contains("« resources » obligatoire"));
        assert!(with("resources", "3000,50").contains("« resources » invalide"));
        assert!(with("resources", "-5").contains("négatives"));
        assert!(with("children", "deux").contains("« children » invalide"));
        assert!(with("aeeh", "-1").contains("« aeeh » invalide"));
        assert!(with("date", "15/10/2025").contains("« date » invalide"));
        assert!(with("care", "creche").contains("« care » invalide"));
        let pairs = BTreeMap::from([("taux".to_string(), "1".to_string())]);
        let error = PsuQuery::from_pairs(pairs).unwrap_err().to_string();
        assert!(error.contains("paramètre « taux » inconnu"), "{error}");
    }
}
