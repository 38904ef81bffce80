//! `POST /api/v1/pricing/simulation`: a month of a typical week priced for a family of the
//! city or a hypothetical situation, every line with its rule and French explanation, the
//! aids deducted, the total (TAR-04, FAM-15). The same function as the back-office quote
//! (`domain::tariffs::simulation::simulate`).
//!
//! Needs `pricing` read; a family needs `families` read too; its QF, resources and aids are
//! used only when the token may read incomes (`family_income`), otherwise the caller gives a
//! hypothetical QF.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, web};
use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::super::families::{ApiError, Body, run, strict};
use crate::domain::money::Cents;
use crate::domain::pricing::Residence;
use crate::domain::tariffs::simulation::{Hypothesis, SimulationRequest, WeekSlot};
use crate::domain::tariffs::{bareme, simulation};
use crate::platform::auth::authz::{Action, CITY};
use crate::platform::error::{AppError, AppResult};
use crate::web::State;
use crate::web::faces::CurrentCity;
use crate::web::guard::Principal;

/// Une demande de simulation tarifaire : une famille de la ville (`family_id`) ou une
/// situation hypothétique (`situation`), une activité, un mois et une semaine type.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct SimulationInput {
    /// Identifiant d'une famille de la ville : son quotient familial, ses ressources, ses
    /// enfants à charge, son domicile et ses aides en vigueur sont repris (revenus et aides
    /// seulement si le jeton permet de lire les revenus, droit `family_income`).
    #[schema(example = 42)]
    pub family_id: Option<i64>,
    /// Un enfant de cette famille : le tarif attribué à son inscription à l'activité, son
    /// école et les aides qui lui sont attribuées s'appliquent.
    pub child_id: Option<i64>,
    /// Situation hypothétique, ou valeurs qui remplacent celles de la famille.
    pub situation: Option<HypotheticalSituation>,
    /// Code de l'activité (celui de sa grille tarifaire).
    #[schema(example = "cantine")]
    pub activity: String,
    /// Mois simulé, `AAAA-MM`.
    #[schema(example = "2026-05")]
    pub month: String,
    /// La semaine type : chaque unité fréquentée, jour par jour (jours fériés exclus).
    pub week: Vec<WeekUnit>,
}

/// Une situation familiale hypothétique (chaque champ est facultatif).
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct HypotheticalSituation {
    /// Quotient familial en euros (`"742"`, `"742.50"`).
    #[schema(example = "742")]
    pub qf: Option<String>,
    /// Ressources mensuelles en euros (taux d'effort, PSU).
    #[schema(example = "3000.00")]
    pub monthly_resources: Option<String>,
    /// Enfants à charge (1 par défaut sans famille).
    #[schema(example = 2)]
    pub dependent_children: Option<u8>,
    /// Dont enfants bénéficiaires de l'AEEH (0 par défaut).
    pub aeeh_children: Option<u8>,
    /// Domicile : `city` (dans la commune, par défaut sans famille), `outside_city` ou
    /// `outside_intercommunality`.
    #[schema(example = "city")]
    pub residence: Option<String>,
    /// Rang de l'enfant dans la fratrie inscrite (1 par défaut).
    pub sibling_rank: Option<u8>,
    /// Options de l'enfant testées par les règles (`schooled_in_city`, `ulis`…).
    pub options: Option<Vec<String>>,
    /// Code de tarif d'inscription à appliquer (au lieu de celui de l'inscription).
    #[schema(example = "exterieur")]
    pub tariff: Option<String>,
    /// Aides du catalogue de la ville à appliquer (identifiants), en plus de celles de la
    /// famille.
    #[schema(example = json!(["ccas-cantine"]))]
    pub aids: Vec<String>,
}

/// Une unité de la semaine type.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct WeekUnit {
    /// Jour : `mon`, `tue`, `wed`, `thu`, `fri`, `sat` ou `sun`.
    #[schema(example = "mon")]
    pub weekday: String,
    /// Code de l'unité de l'activité (`repas`, `matin`...).
    #[schema(example = "repas")]
    pub unit: String,
    /// Heure d'arrivée `HH:MM` (tarifs à la durée) ; par défaut l'ouverture de l'unité.
    #[schema(example = "08:30")]
    pub arrival: Option<String>,
    /// Heure de départ `HH:MM` ; par défaut la fermeture de l'unité (au-delà : dépassement).
    #[schema(example = "17:45")]
    pub departure: Option<String>,
}

impl Body for SimulationInput {
    fn template() -> Value {
        let mut template = serde_json::to_value(SimulationInput::default()).unwrap_or_default();
        if let Value::Object(fields) = &mut template {
            let situation =
                serde_json::to_value(HypotheticalSituation::default()).unwrap_or_default();
            let unit = serde_json::to_value(WeekUnit::default()).unwrap_or_default();
            fields.insert("situation".into(), situation);
            fields.insert("week".into(), Value::Array(vec![unit]));
        }
        template
    }
}

/// Le résultat d'une simulation : le total du mois, chaque ligne et les aides déduites
/// (montants en euros, chaînes décimales).
#[derive(Debug, Serialize, ToSchema)]
pub struct SimulationAnswer {
    /// Mois simulé, `AAAA-MM`.
    #[schema(example = "2026-05")]
    pub month: String,
    #[schema(example = "cantine")]
    pub activity: String,
    pub family_id: Option<i64>,
    pub child_id: Option<i64>,
    /// La situation tarifée (celle de la famille, avec les valeurs hypothétiques données).
    pub situation: SituationUsed,
    /// Total du mois, aides déduites.
    #[schema(example = "23.04")]
    pub total: String,
    /// Les lignes, jour par jour ; chaque aide suit la ligne qu'elle réduit.
    pub lines: Vec<SimulationLine>,
    /// Les aides déduites sur le mois.
    pub aids: Vec<AppliedAid>,
    /// Jours fériés du mois, non tarifés (`AAAA-MM-JJ`).
    pub closed_days: Vec<String>,
    /// Ce qu'il faut savoir (aides non appliquées et pourquoi).
    pub notes: Vec<String>,
}

/// La situation tarifée.
#[derive(Debug, Serialize, ToSchema)]
pub struct SituationUsed {
    /// Quotient familial retenu en euros (absent : non renseigné ou non lisible par le jeton).
    pub qf: Option<String>,
    pub monthly_resources: Option<String>,
    pub dependent_children: u8,
    pub aeeh_children: u8,
    /// `city`, `outside_city` ou `outside_intercommunality`.
    pub residence: String,
    /// Le domicile en toutes lettres.
    pub residence_label: String,
    pub sibling_rank: u8,
    pub options: Vec<String>,
    /// Code de tarif appliqué (inscription de l'enfant ou hypothèse).
    pub tariff: Option<String>,
    /// Pourquoi ce tarif (règle d'attribution, choix d'un agent, hypothèse).
    pub tariff_explanation: Option<String>,
}

/// Une ligne de la simulation.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimulationLine {
    /// Jour, `AAAA-MM-JJ`.
    #[schema(example = "2026-05-04")]
    pub date: String,
    /// Code de l'unité.
    #[schema(example = "repas")]
    pub unit: String,
    /// Nom de l'unité.
    pub unit_label: String,
    /// `base` (prix), `surcharge` (majoration), `overtime` (dépassement) ou `aid` (aide,
    /// montant négatif).
    #[schema(example = "base")]
    pub kind: String,
    /// Quantité : unités, heures ou pas de temps.
    #[schema(example = "1")]
    pub quantity: String,
    /// Prix unitaire en euros.
    #[schema(example = "3.84")]
    pub unit_price: String,
    /// Montant de la ligne en euros (négatif pour une aide).
    #[schema(example = "3.84")]
    pub amount: String,
    /// Identifiant de la règle (ou de l'aide) qui a produit la ligne.
    #[schema(example = "cantine-qf-3")]
    pub rule_id: String,
    /// Le calcul en français.
    #[schema(example = "QF 742 € dans la tranche 3 (cantine-qf-3, QF de 701 € à 900 €) : 3,84 €")]
    pub explanation: String,
}

/// Une aide déduite sur le mois.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedAid {
    #[schema(example = "ccas-cantine")]
    pub aid_id: String,
    #[schema(example = "Coup de pouce cantine")]
    pub label: String,
    /// Financeur : `city`, `ccas`, `departement`, `caf` ou `employer`.
    #[schema(example = "ccas")]
    pub funder: String,
    pub funder_label: String,
    /// Total déduit en euros (négatif).
    #[schema(example = "-11.52")]
    pub amount: String,
    /// Nombre de lignes réduites.
    pub lines: usize,
}

fn invalid(message: String) -> AppError {
    AppError::invalid(message)
}

fn euros(text: &Option<String>, name: &str) -> AppResult<Option<Cents>> {
    let Some(text) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let amount =
        Cents::parse_euros(text).map_err(|e| invalid(format!("« {name} » invalide : {e}")))?;
    if amount.is_negative() {
        return Err(invalid(format!(
            "« {name} » invalide : un montant négatif n'a pas de sens ici"
        )));
    }
    Ok(Some(amount))
}

fn residence(text: &Option<String>) -> AppResult<Option<Residence>> {
    Ok(match text.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("city") => Some(Residence::City),
        Some("outside_city") => Some(Residence::OutsideCity),
        Some("outside_intercommunality") => Some(Residence::OutsideIntercommunality),
        Some(other) => {
            return Err(invalid(format!(
                "« situation.residence » invalide : « {other} » (city, outside_city ou \
                 outside_intercommunality)"
            )));
        }
    })
}

fn residence_code(residence: Residence) -> &'static str {
    match residence {
        Residence::City => "city",
        Residence::OutsideCity => "outside_city",
        Residence::OutsideIntercommunality => "outside_intercommunality",
    }
}

fn weekday(text: &str, at: usize) -> AppResult<Weekday> {
    Ok(match text.trim() {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        other => {
            return Err(invalid(format!(
                "« week[{at}].weekday » invalide : « {other} » n'est pas un jour (mon, tue, \
                 wed, thu, fri, sat ou sun)"
            )));
        }
    })
}

fn time(text: &Option<String>, name: &str) -> AppResult<Option<NaiveTime>> {
    let Some(text) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    NaiveTime::parse_from_str(text, "%H:%M")
        .map(Some)
        .map_err(|_| {
            invalid(format!(
                "« {name} » invalide : « {text} » n'est pas une heure HH:MM"
            ))
        })
}

/// The body as the domain's request, or the first thing wrong with it, in French.
fn request(input: SimulationInput, incomes_visible: bool) -> AppResult<SimulationRequest> {
    let activity = input.activity.trim().to_string();
    if activity.is_empty() {
        return Err(invalid(
            "« activity » obligatoire : le code de l'activité, par exemple cantine".into(),
        ));
    }
    let month = input.month.trim();
    if month.is_empty() {
        return Err(invalid(
            "« month » obligatoire : le mois simulé, AAAA-MM".into(),
        ));
    }
    let month = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| {
        invalid(format!(
            "« month » invalide : « {month} » n'est pas un mois AAAA-MM"
        ))
    })?;
    if input.family_id.is_none() && input.situation.is_none() {
        return Err(invalid(
            "indiquez « family_id » (une famille de la ville) ou « situation » (une situation \
             hypothétique)"
                .into(),
        ));
    }
    if input.child_id.is_some() && input.family_id.is_none() {
        return Err(invalid(
            "« child_id » demande « family_id » : l'enfant se simule avec sa famille".into(),
        ));
    }
    if input.week.is_empty() {
        return Err(invalid(
            "« week » : indiquez au moins une unité de la semaine type".into(),
        ));
    }
    let week = input
        .week
        .iter()
        .enumerate()
        .map(|(at, unit)| {
            if unit.unit.trim().is_empty() {
                return Err(invalid(format!("« week[{at}].unit » obligatoire")));
            }
            Ok(WeekSlot {
                activity: activity.clone(),
                unit: unit.unit.trim().to_string(),
                weekday: weekday(&unit.weekday, at)?,
                arrival: time(&unit.arrival, &format!("week[{at}].arrival"))?,
                departure: time(&unit.departure, &format!("week[{at}].departure"))?,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let situation = input.situation.unwrap_or_default();
    let tariff = situation
        .tariff
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let hypothesis = Hypothesis {
        family_quotient: euros(&situation.qf, "situation.qf")?,
        monthly_resources: euros(&situation.monthly_resources, "situation.monthly_resources")?,
        dependent_children: situation.dependent_children,
        aeeh_children: situation.aeeh_children,
        residence: residence(&situation.residence)?,
        sibling_rank: situation.sibling_rank,
        options: situation
            .options
            .map(|options| options.into_iter().collect::<BTreeSet<_>>()),
        tariff,
        aids: situation.aids,
    };
    Ok(SimulationRequest {
        household: input.family_id,
        child: input.child_id,
        month,
        hypothesis,
        week,
        incomes_visible,
    })
}

/// Simulation tarifaire d'un mois (devis)
///
/// Tarife une semaine type sur un mois (jours fériés exclus, l'enfant présent à chaque unité)
/// avec les grilles tarifaires et les règles de la ville en vigueur, et déduit les aides :
/// pour une famille de la ville (`family_id`), sa situation du mois, le tarif attribué à
/// l'inscription de l'enfant (`child_id`) et ses aides en vigueur ; pour une situation
/// hypothétique (`situation`), les valeurs données (elles remplacent aussi celles de la
/// famille). Chaque ligne donne sa quantité, son prix unitaire, son montant, la règle qui
/// l'a produite et son explication en français. Le jeton doit pouvoir lire les tarifs
/// (`pricing`), et les familles (`families`) pour `family_id` ; sans droit de lecture des
/// revenus (`family_income`), le quotient familial et les aides de la famille ne sont pas
/// lus : indiquez un quotient familial hypothétique.
#[utoipa::path(
    post,
    path = "/api/v1/pricing/simulation",
    tag = "tarification",
    request_body(content = SimulationInput, description = "La famille ou la situation, l'activité, le mois et la semaine type.", content_type = "application/json"),
    responses(
        (status = 200, description = "Le mois tarifé ligne à ligne, les aides et le total.", body = SimulationAnswer),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de lire les tarifs, ou les familles pour `family_id`.", body = ApiError),
        (status = 404, description = "Famille (ou enfant de cette famille) introuvable dans la ville.", body = ApiError),
        (status = 422, description = "Donnée absente ou invalide, ou prix que les grilles ne peuvent pas donner (QF manquant...) : message en français.", body = ApiError),
    )
)]
pub(in crate::web::api) async fn simulate(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let input: SimulationInput = strict(body.into_inner())?;
    if input.family_id.is_some() {
        principal
            .require(&state, &city, "families", CITY, Action::Read)
            .await?;
    }
    let incomes_visible = principal
        .may(&state, &city, "family_income", CITY, Action::Read)
        .await?;
    let activity = input.activity.trim().to_string();
    let request = request(input, incomes_visible)?;
    let bareme = bareme::in_force(&state.db, &principal.actor()).await?;
    let city_name = city.name.clone();
    let (family_id, child_id, month) = (request.household, request.child, request.month);
    let done = run(&state, &city, &principal, move |conn| {
        Box::pin(async move { simulation::simulate(conn, &city_name, &bareme, &request).await })
    })
    .await?;
    let situation = &done.situation;
    let tariff = done.tariffs.iter().find(|t| t.activity == activity);
    let quote = &done.quote;
    Ok(HttpResponse::Ok().json(SimulationAnswer {
        month: month.format("%Y-%m").to_string(),
        activity,
        family_id,
        child_id,
        situation: SituationUsed {
            qf: situation.family_quotient.map(Cents::to_decimal_euros),
            monthly_resources: situation.monthly_resources.map(Cents::to_decimal_euros),
            dependent_children: situation.dependent_children,
            aeeh_children: situation.aeeh_children,
            residence: residence_code(situation.residence).to_string(),
            residence_label: situation.residence.label_fr().to_string(),
            sibling_rank: situation.sibling_rank,
            options: situation.options.iter().cloned().collect(),
            tariff: tariff.map(|t| t.tariff.clone()),
            tariff_explanation: tariff.map(|t| t.explanation.clone()),
        },
        total: quote.total_euros.clone(),
        lines: quote
            .lines
            .iter()
            .map(|line| SimulationLine {
                date: line.day.to_string(),
                unit: line.unit_code.clone(),
                unit_label: line.unit.clone(),
                kind: serde_json::to_value(line.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                quantity: line.quantity.clone(),
                unit_price: line.unit_price.clone(),
                amount: line.amount_euros.clone(),
                rule_id: line.rule_id.clone(),
                explanation: line.explanation.clone(),
            })
            .collect(),
        aids: quote
            .aids
            .iter()
            .map(|aid| AppliedAid {
                aid_id: aid.aid_id.clone(),
                label: aid.label.clone(),
                funder: serde_json::to_value(aid.funder)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                funder_label: aid.funder_label.to_string(),
                amount: aid.amount_euros.clone(),
                lines: aid.lines,
            })
            .collect(),
        closed_days: quote.holiday_days.iter().map(|d| d.to_string()).collect(),
        notes: done.notes.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: Value) -> AppResult<SimulationRequest> {
        request(strict(json)?, true)
    }

    #[test]
    fn reads_a_hypothetical_situation() {
        let request = input(serde_json::json!({
            "situation": { "qf": "742", "residence": "outside_city", "aids": ["ccas"] },
            "activity": "cantine", "month": "2026-05",
            "week": [{ "weekday": "mon", "unit": "repas" }, { "weekday": "thu", "unit": "repas", "arrival": "11:30" }]
        }))
        .unwrap();
        assert_eq!(
            request.hypothesis.family_quotient,
            Some(Cents::from_euros(742))
        );
        assert_eq!(request.hypothesis.residence, Some(Residence::OutsideCity));
        assert_eq!(request.week.len(), 2);
        assert_eq!(request.week[1].weekday, Weekday::Thu);
        assert_eq!(request.month.to_string(), "2026-05-01");
    }

    #[test]
    fn says_what_is_wrong_in_french() {
        let wrong = |json: Value| input(json).unwrap_err().to_string();
        let base = || {
            serde_json::json!({
                "situation": { "qf": "742" }, "activity": "cantine", "month": "2026-05",
                "week": [{ "weekday": "mon", "unit": "repas" }]
            })
        };
        let with = |pointer: &str, value: Value| {
            let mut json = base();
            let mut target = &mut json;
            for key in pointer.trim_start_matches('/').split('/') {
                target = match key.parse::<usize>() {
                    Ok(index) => &mut target[index],
                    Err(_) => &mut target[key],
                };
            }
            *target = value;
            json
        };
        assert!(wrong(with("/activity", "".into())).contains("« activity » obligatoire"));
        assert!(wrong(with("/month", "05/2026".into())).contains("« month » invalide"));
        assert!(
            wrong(with("/situation/qf", "742,50".into())).contains("« situation.qf » invalide")
        );
        assert!(wrong(with("/week/0/weekday", "lundi".into())).contains("n'est pas un jour"));
        assert!(wrong(with("/week", Value::Array(vec![]))).contains("au moins une unité"));
        assert!(
            wrong(with("/situation/residence", "paris".into())).contains("« situation.residence »")
        );
        let mut no_family = base();
        no_family.as_object_mut().unwrap().remove("situation");
        assert!(wrong(no_family).contains("« family_id »"));
        let mut typo = base();
        typo["week"][0]["jour"] = "mon".into();
        assert!(wrong(typo).contains("« week[0].jour » est inconnu"));
    }
}
