//! `POST /api/v1/pricing/simulation` through real HTTP against a real PostgreSQL: a
//! hypothetical situation and a family of the city priced over May 2026 line by line (QF
//! bracket, outside-city adjustment, the tariff of the child's enrolment, the household's
//! aids capped per month), the QF hidden from a token without the incomes right, French
//! 422s, 404 for another city's family, 401 without a token, 403 without the pricing right,
//! and the OpenAPI document.

mod common;
mod pricing_fixtures;

use common::api::Api;
use common::*;
use marelle::domain::tariffs::{aids, assignment};
use marelle::platform::auth::directory;
use pricing_fixtures::*;
use serde_json::{Value, json};

const PATH: &str = "/api/v1/pricing/simulation";

/// May 2026, Mondays and Thursdays at the canteen: 4, 7, 11, 18, 21, 28 (Ascension on the
/// 14th and Whit Monday on the 25th are public holidays): six meals.
fn body(extra: Value) -> Value {
    let mut body = json!({
        "activity": "cantine",
        "month": "2026-05",
        "week": [{ "weekday": "mon", "unit": "repas" }, { "weekday": "thu", "unit": "repas" }],
    });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    body
}

async fn simulated(api: &Api<'_>, extra: Value) -> Value {
    let (status, answer) = api.post(PATH, body(extra)).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

fn amounts(answer: &Value, kind: &str) -> Vec<String> {
    answer["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == kind)
        .map(|l| l["amount"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn a_month_is_simulated_for_a_hypothesis_or_a_family_line_by_line() {
    let app = TestApp::spawn().await;
    let canteen = canteen_with_grid(&app, &app.city).await;
    aid_catalogue(&app, &app.city, CATALOGUE).await;
    let (household, children) = family(&app, &app.city, &app.city.name, Some(742)).await;
    let api = Api::new(&app, &app.city, "school_agent").await;

    // A hypothetical family with QF 742: six meals at 3.84 €.
    let answer = simulated(&api, json!({ "situation": { "qf": "742" } })).await;
    assert_eq!(answer["total"], "23.04", "{answer}");
    assert_eq!(answer["month"], "2026-05");
    let lines = answer["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 6);
    let first = &lines[0];
    assert_eq!(first["date"], "2026-05-04");
    assert_eq!(first["unit"], "repas");
    assert_eq!(first["kind"], "base");
    assert_eq!(first["quantity"], "1");
    assert_eq!(first["unit_price"], "3.84");
    assert_eq!(first["amount"], "3.84");
    assert_eq!(first["rule_id"], "cantine-qf-3");
    let explanation = first["explanation"].as_str().unwrap();
    assert!(explanation.contains("tranche 3"), "{explanation}");
    assert_eq!(
        answer["closed_days"],
        json!(["2026-05-01", "2026-05-08", "2026-05-14", "2026-05-25"])
    );
    assert_eq!(answer["situation"]["qf"], "742.00");
    assert_eq!(answer["situation"]["residence"], "city");
    assert_eq!(answer["aids"], json!([]));

    // Outside the city: 3.84 × 1.3 = 4.992 → 4.99 a meal.
    let answer = simulated(
        &api,
        json!({ "situation": { "qf": "742", "residence": "outside_city" } }),
    )
    .await;
    assert_eq!(answer["total"], "29.94");
    assert!(
        answer["lines"][0]["explanation"]
            .as_str()
            .unwrap()
            .contains("Majoration hors commune")
    );

    // With the CCAS aid of the catalogue: half of each meal, 10.00 € at most in the month.
    let answer = simulated(
        &api,
        json!({ "situation": { "qf": "742", "aids": ["ccas-cantine"] } }),
    )
    .await;
    assert_eq!(
        amounts(&answer, "aid"),
        ["-1.92", "-1.92", "-1.92", "-1.92", "-1.92", "-0.40"]
    );
    assert_eq!(answer["total"], "13.04");
    assert_eq!(
        answer["lines"][1]["kind"], "aid",
        "the aid follows its line"
    );
    assert_eq!(answer["lines"][1]["rule_id"], "ccas-cantine");
    assert_eq!(
        answer["aids"],
        json!([{ "aid_id": "ccas-cantine", "label": "Coup de pouce cantine", "funder": "ccas",
                 "funder_label": "Aide du CCAS", "amount": "-10.00", "lines": 6 }])
    );
    let capped = answer["lines"][11]["explanation"].as_str().unwrap();
    assert!(capped.contains("plafond mensuel"), "{capped}");

    // The family: its QF from the dossier; the aid granted to Lina applies only to her.
    let grant = aids::GrantInput {
        aid_id: "ccas-cantine".into(),
        children: vec![children[0]],
        valid_from: "2026-01-01".parse().unwrap(),
        valid_to: None,
        reason: "Commission du CCAS".into(),
    };
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move { aids::grant(conn, household, &grant, "test").await })
        })
        .await
        .unwrap();
    let answer = simulated(&api, json!({ "family_id": household })).await;
    assert_eq!(answer["total"], "23.04", "{answer}");
    assert_eq!(answer["situation"]["qf"], "742.00");
    assert_eq!(answer["situation"]["dependent_children"], 2);
    assert!(
        answer["notes"][0]
            .as_str()
            .unwrap()
            .contains("choisissez l'enfant"),
        "{answer}"
    );
    let answer = simulated(
        &api,
        json!({ "family_id": household, "child_id": children[0] }),
    )
    .await;
    assert_eq!(answer["total"], "13.04", "{answer}");
    assert_eq!(answer["aids"][0]["amount"], "-10.00");
    // A hypothetical QF replaces the dossier's.
    let answer = simulated(
        &api,
        json!({ "family_id": household, "child_id": children[1], "situation": { "qf": "350" } }),
    )
    .await;
    assert_eq!(answer["total"], "6.00");

    // Noé's enrolment carries the staff tariff an agent chose: 2.00 € a meal.
    let enrolment = admitted(&app, &app.city, canteen, children[1], "2025-09-01").await;
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                assignment::change_tariff(
                    conn,
                    enrolment,
                    "personnel",
                    "enfant d'agent communal",
                    "test",
                )
                .await
            })
        })
        .await
        .unwrap();
    let answer = simulated(
        &api,
        json!({ "family_id": household, "child_id": children[1] }),
    )
    .await;
    assert_eq!(answer["total"], "12.00", "{answer}");
    assert_eq!(answer["lines"][0]["rule_id"], "cantine-personnel");
    assert_eq!(answer["situation"]["tariff"], "personnel");
    assert!(
        answer["situation"]["tariff_explanation"]
            .as_str()
            .unwrap()
            .contains("enfant d'agent communal")
    );
    // A hypothetical tariff for a hypothetical family.
    let answer = simulated(
        &api,
        json!({ "situation": { "qf": "742", "tariff": "personnel" } }),
    )
    .await;
    assert_eq!(answer["total"], "12.00");
}

#[actix_web::test]
async fn a_token_without_the_incomes_right_gives_a_hypothetical_qf() {
    let app = TestApp::spawn().await;
    canteen_with_grid(&app, &app.city).await;
    aid_catalogue(&app, &app.city, CATALOGUE).await;
    let (household, children) = family(&app, &app.city, &app.city.name, Some(742)).await;
    let grant = aids::GrantInput {
        aid_id: "ccas-cantine".into(),
        children: Vec::new(),
        valid_from: "2026-01-01".parse().unwrap(),
        valid_to: None,
        reason: String::new(),
    };
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                aids::grant(conn, household, &grant, "test").await?;
                directory::create_profile(conn, "tarifs_seuls", "Tarifs seuls", "test").await?;
                let rights = [("pricing", "read"), ("families", "read")]
                    .map(|(o, a)| (o.to_string(), a.to_string()));
                directory::set_permissions(conn, "tarifs_seuls", &rights).await
            })
        })
        .await
        .unwrap();
    let api = Api::new(&app, &app.city, "tarifs_seuls").await;

    let (status, answer) = api
        .post(
            PATH,
            body(json!({ "family_id": household, "child_id": children[0] })),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("quotient familial non renseigné"),
        "{message}"
    );
    assert!(
        message.contains("indiquez un quotient familial"),
        "{message}"
    );

    let answer = simulated(
        &api,
        json!({ "family_id": household, "child_id": children[0], "situation": { "qf": "350" } }),
    )
    .await;
    assert_eq!(answer["total"], "6.00", "the aid is not applied: {answer}");
    assert_eq!(answer["situation"]["qf"], "350.00", "only the caller's QF");
    assert!(answer["notes"][0].as_str().unwrap().contains("vos droits"));
    assert_eq!(answer["aids"], json!([]));
}

#[actix_web::test]
async fn bad_input_422_another_city_404_no_token_401_no_right_403() {
    let app = TestApp::spawn().await;
    canteen_with_grid(&app, &app.city).await;
    let (household, _) = family(&app, &app.city, &app.city.name, Some(742)).await;
    let api = Api::new(&app, &app.city, "auditor").await;
    let hypothesis = json!({ "situation": { "qf": "742" } });
    for (change, expected) in [
        (json!({ "activity": "" }), "« activity » obligatoire"),
        (
            json!({ "activity": "piscine" }),
            "activité « piscine » inconnue",
        ),
        (json!({ "month": "mai 2026" }), "« month » invalide"),
        (json!({ "week": [] }), "au moins une unité"),
        (
            json!({ "week": [{ "weekday": "lundi", "unit": "repas" }] }),
            "« week[0].weekday » invalide",
        ),
        (
            json!({ "week": [{ "weekday": "mon", "unit": "gouter" }] }),
            "unité « gouter » inconnue pour l'activité « Restauration scolaire »",
        ),
        (
            json!({ "week": [{ "weekday": "mon", "unit": "repas", "arrival": "11h30" }] }),
            "« week[0].arrival » invalide",
        ),
        (
            json!({ "situation": { "qf": "742,50" } }),
            "« situation.qf » invalide",
        ),
        (
            json!({ "situation": { "qf": "742", "dependent_children": 1, "aeeh_children": 2 } }),
            "AEEH ne peuvent pas dépasser",
        ),
        (json!({ "situation": null }), "indiquez « family_id »"),
        (
            json!({ "situation": { "qf": "742", "aids": ["inconnue"] } }),
            "aide « inconnue » inconnue",
        ),
        (
            json!({ "child_id": 1 }),
            "« child_id » demande « family_id »",
        ),
        (json!({ "semaine": [] }), "le champ « semaine » est inconnu"),
        (json!({ "month": "2019-05" }), "aucune grille tarifaire"),
        (
            json!({ "situation": {} }),
            "quotient familial non renseigné",
        ),
    ] {
        let mut request = body(hypothesis.clone());
        if let (Value::Object(request), Value::Object(change)) = (&mut request, change.clone()) {
            for (key, value) in change {
                if value.is_null() {
                    request.remove(&key);
                } else {
                    request.insert(key, value);
                }
            }
        }
        let (status, answer) = api.post(PATH, request).await;
        assert_eq!(status, 422, "{change}: {answer}");
        assert_eq!(answer["error"], "invalide", "{change}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{change}: {message}");
    }

    // Another city's family is not found here, nor its children; neither is a child of
    // another family of this city.
    let (_, strangers) = family(&app, &app.city, &app.city.name, None).await;
    // Ids are per city: the third family of the other city has ids this city never gave.
    let other = app.add_city("Ailleurs-sur-Test").await;
    canteen_with_grid(&app, &other).await;
    let mut foreign = (0, Vec::new());
    for _ in 0..3 {
        foreign = family(&app, &other, &other.name, Some(742)).await;
    }
    let (foreign, foreign_children) = foreign;
    for request in [
        json!({ "family_id": foreign }),
        json!({ "family_id": foreign, "child_id": foreign_children[0] }),
        json!({ "family_id": household, "child_id": strangers[0] }),
    ] {
        let (status, answer) = api.post(PATH, body(request.clone())).await;
        assert_eq!(status, 404, "{request}: {answer}");
        assert_eq!(answer["error"], "introuvable");
        assert!(!answer.to_string().contains("742"), "no figure leaks");
    }
    // The other city's own token sees its family.
    let theirs = Api::new(&app, &other, "school_agent").await;
    let answer = simulated(&theirs, json!({ "family_id": foreign })).await;
    assert_eq!(answer["total"], "23.04");

    let (status, answer) = Api::anonymous(&app, &app.city)
        .post(PATH, body(hypothesis.clone()))
        .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("non_authentifie"))
    );
    let animator = Api::new(&app, &app.city, "animator").await;
    let (status, _) = animator.post(PATH, body(hypothesis.clone())).await;
    assert_eq!(status, 403, "no pricing right");

    // The operation is described in the OpenAPI document.
    let (_, document) = Api::anonymous(&app, &app.city)
        .get("/api/v1/openapi.json")
        .await;
    let operation = &document["paths"][PATH]["post"];
    assert_eq!(operation["tags"][0], "tarification", "{operation}");
    for status in ["200", "401", "403", "404", "422"] {
        assert!(
            operation["responses"][status].is_object(),
            "{status}: {operation}"
        );
    }
    assert!(operation["requestBody"].is_object());
    let answer = &document["components"]["schemas"]["SimulationAnswer"];
    assert!(answer["properties"]["lines"].is_object(), "{answer}");
    assert!(
        document["components"]["schemas"]["SimulationLine"]["properties"]["rule_id"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("règle"))
    );
}
