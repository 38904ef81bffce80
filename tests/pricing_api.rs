//! `GET /api/v1/pricing/psu` through real HTTP against a real PostgreSQL: figures computed by
//! hand from the CNAF barème (ceilings 6 000 → 7 000 → 8 500 €, floors, AEEH, care types),
//! the city's higher ceiling, French 422s, 401 without a token, the OpenAPI document, and a
//! barème published by SITIV in its console used at once (and a broken one refused).

mod common;

use common::api::Api;
use common::*;
use marelle::domain::pricing::{Bareme, SHIPPED_BAREME_TOML};
use marelle::domain::tariffs::{bareme, grids};
use marelle::platform::db::Scope;
use serde_json::Value;

fn psu(resources: &str, children: u8, aeeh: u8, date: &str, care: &str) -> String {
    format!(
        "/api/v1/pricing/psu?resources={resources}&children={children}&aeeh={aeeh}&date={date}&care={care}"
    )
}

async fn rate(api: &Api<'_>, path: &str) -> Value {
    let (status, body) = api.get(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[actix_web::test]
async fn psu_rates_are_the_cnaf_barème_s() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app, &app.city, "school_agent").await;

    // The example: 3 000 € × 0.0516 % = 1.548 → 1.55.
    let body = rate(&api, &psu("3000", 2, 0, "2025-10-15", "collective")).await;
    assert_eq!(body["hourly_rate"], "1.55");
    assert_eq!(body["effort_rate"], "0.0516");
    assert_eq!(body["resources_used"], "3000.00");
    let rule = body["rule"].as_str().unwrap();
    assert!(rule.starts_with("Barème PSU CNAF"), "{rule}");
    assert!(rule.contains("plafond CNAF 8\u{a0}500,00\u{a0}€"), "{rule}");
    assert_eq!(
        body.as_object().unwrap().len(),
        4,
        "exactly four fields: {body}"
    );

    // Ceilings: 6 000 € until 2024-08-31, 7 000 € from 2024-09-01, 8 500 € from 2025-09-01.
    for (resources, date, hourly, used) in [
        ("6500", "2024-08-31", "3.71", "6000.00"), // 6 000 × 0.0619 % = 3.714
        ("6500", "2024-09-01", "4.02", "6500.00"), // 6 500 × 0.0619 % = 4.0235
        ("9000", "2024-09-01", "4.33", "7000.00"), // 7 000 × 0.0619 % = 4.333
        ("9000", "2025-08-31", "4.33", "7000.00"),
        ("9000", "2025-09-01", "5.26", "8500.00"), // 8 500 × 0.0619 % = 5.2615
        ("500", "2025-03-01", "0.50", "801.00"),   // floor 2025: 801 × 0.0619 % = 0.495819
        ("0", "2023-06-01", "0.47", "754.16"),     // floor 2023: 754.16 × 0.0619 % = 0.4668
    ] {
        let body = rate(&api, &psu(resources, 1, 0, date, "collective")).await;
        assert_eq!(
            (
                body["hourly_rate"].as_str(),
                body["resources_used"].as_str()
            ),
            (Some(hourly), Some(used)),
            "{resources} € on {date}: {body}"
        );
        assert_eq!(body["effort_rate"], "0.0619");
    }

    // Each AEEH child gives the rate of one more child: 2 children, 1 AEEH = rate of 3.
    let body = rate(&api, &psu("3000", 2, 1, "2025-10-15", "collective")).await;
    assert_eq!(body["effort_rate"], "0.0413");
    assert_eq!(body["hourly_rate"], "1.24"); // 1.239
    assert!(
        body["rule"]
            .as_str()
            .unwrap()
            .contains("dont 1 bénéficiaire de l'AEEH")
    );
    let body = rate(&api, &psu("3000", 2, 2, "2025-10-15", "collective")).await;
    assert_eq!(body["hourly_rate"], "0.93"); // rate of 4 children: 0.0310 %

    // Half a cent rounds up: 5 000 × 0.0413 % = 2.065 → 2.07.
    let body = rate(&api, &psu("5000", 3, 0, "2025-10-15", "collective")).await;
    assert_eq!(body["hourly_rate"], "2.07");

    // Care types: micro-crèches use the collective rates; familial care 0.0516 % for one.
    let body = rate(&api, &psu("3000", 1, 0, "2025-10-15", "micro")).await;
    assert_eq!(body["hourly_rate"], "1.86");
    let body = rate(&api, &psu("3000", 1, 0, "2025-10-15", "familial")).await;
    assert_eq!(body["hourly_rate"], "1.55");
    let body = rate(&api, &psu("3000.50", 1, 0, "2025-10-15", "parental")).await;
    assert_eq!(body["resources_used"], "3000.50");

    // Without `aeeh` the household has none.
    let (status, body) = api
        .get("/api/v1/pricing/psu?resources=3000&children=2&date=2025-10-15&care=collective")
        .await;
    assert_eq!((status, body["hourly_rate"].as_str()), (200, Some("1.55")));
}

#[actix_web::test]
async fn the_city_may_raise_its_ceiling_never_lower_it() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app, &app.city, "early_childhood_agent").await;
    let shipped = Bareme::shipped().unwrap();
    let day = "2025-09-01".parse().unwrap();
    let saved = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let by = grids::Authorship {
                    author: "Agnès Test",
                    comment: "déplafonnement partiel",
                };
                let lower = grids::save_settings(
                    conn,
                    "psu_ceiling = { higher = \"8000.00\" }",
                    day,
                    &shipped,
                    by,
                )
                .await;
                let higher = grids::save_settings(
                    conn,
                    "psu_ceiling = { higher = \"10000.00\" }",
                    day,
                    &shipped,
                    by,
                )
                .await?;
                Ok((lower.map_err(|e| e.to_string()), higher))
            })
        })
        .await
        .unwrap();
    let refusal = saved.0.unwrap_err();
    assert!(
        refusal.contains("la CNAF ne permet pas de l'abaisser"),
        "{refusal}"
    );
    assert!(matches!(saved.1, grids::Saved::Recorded(_)));

    // 9 500 € under the city's 10 000 € ceiling: 9 500 × 0.0619 % = 5.8805 → 5.88.
    let body = rate(&api, &psu("9500", 1, 0, "2025-10-15", "collective")).await;
    assert_eq!(body["hourly_rate"], "5.88");
    assert!(
        body["rule"]
            .as_str()
            .unwrap()
            .contains("plafond de la ville")
    );
    // Before the city's rule took effect, the CNAF ceiling applied.
    let body = rate(&api, &psu("9500", 1, 0, "2025-08-31", "collective")).await;
    assert_eq!(body["resources_used"], "7000.00");

    // Another city keeps the CNAF ceiling.
    let other = app.add_city("Ailleurs-sur-Test").await;
    let api = Api::new(&app, &other, "school_agent").await;
    let body = rate(&api, &psu("9500", 1, 0, "2025-10-15", "collective")).await;
    assert_eq!(body["resources_used"], "8500.00");
}

#[actix_web::test]
async fn bad_parameters_answer_422_in_french_and_no_token_401() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app, &app.city, "auditor").await;
    for (path, expected) in [
        (
            "/api/v1/pricing/psu?children=2&date=2025-10-15&care=collective".to_string(),
            "« resources » obligatoire",
        ),
        (
            psu("3000,50", 2, 0, "2025-10-15", "collective"),
            "« resources » invalide",
        ),
        (psu("-10", 2, 0, "2025-10-15", "collective"), "négatives"),
        (
            psu("3000", 2, 0, "15/10/2025", "collective"),
            "« date » invalide",
        ),
        (
            psu("3000", 2, 0, "2025-10-15", "creche"),
            "« care » invalide",
        ),
        (
            psu("3000", 0, 0, "2025-10-15", "collective"),
            "au moins un enfant à charge",
        ),
        (
            psu("3000", 1, 2, "2025-10-15", "collective"),
            "AEEH (2) dépasse",
        ),
        (
            psu("3000", 1, 0, "2019-08-31", "collective"),
            "aucun barème PSU",
        ),
        (
            "/api/v1/pricing/psu?resources=3000&children=deux&date=2025-10-15&care=micro"
                .to_string(),
            "« children » invalide",
        ),
        (
            format!("{}&taux=1", psu("3000", 1, 0, "2025-10-15", "collective")),
            "paramètre « taux » inconnu",
        ),
    ] {
        let (status, body) = api.get(&path).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["error"], "invalide", "{path}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{path}: {message}");
    }

    let anonymous = Api::anonymous(&app, &app.city);
    let (status, body) = anonymous
        .get(&psu("3000", 2, 0, "2025-10-15", "collective"))
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "non_authentifie");

    // A token of another city is unknown here.
    let other = app.add_city("Autre-Ville-Test").await;
    let foreign = Api::new(&app, &other, "school_agent").await;
    let (status, _) = app
        .bare_client()
        .get(app.city_url(&app.city, &psu("3000", 2, 0, "2025-10-15", "collective")))
        .bearer_auth(foreign.token.as_deref().unwrap())
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 401);

    let (status, document) = anonymous.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let path = &document["paths"]["/api/v1/pricing/psu"]["get"];
    assert_eq!(path["tags"][0], "tarification", "{path}");
    let names: Vec<&str> = path["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["resources", "children", "aeeh", "date", "care"]);
    let answer = &document["components"]["schemas"]["PsuAnswer"];
    assert!(answer["properties"]["hourly_rate"].is_object(), "{answer}");
    assert!(
        answer["description"]
            .as_str()
            .unwrap()
            .contains("Le tarif horaire")
    );
}

/// Signs in to the SITIV console with the bootstrap password.
async fn console(app: &TestApp) -> reqwest::Client {
    let client = app.client();
    let page = client
        .get(app.admin_url("/admin/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let signed = client
        .post(app.admin_url("/admin/connexion"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("login", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303, "console sign-in");
    client
}

async fn published(app: &TestApp) -> usize {
    app.db()
        .run(Scope::Platform { actor: "test" }, |conn| {
            Box::pin(async move { bareme::history(conn).await })
        })
        .await
        .unwrap()
        .len()
}

#[actix_web::test]
async fn a_barème_published_by_sitiv_prices_at_once_and_a_broken_one_is_refused() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app, &app.city, "school_agent").await;
    let client = console(&app).await;

    let page = client
        .get(app.admin_url("/admin/bareme"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Barème PSU de la CNAF"), "{page}");
    assert!(
        page.contains("8\u{a0}500,00\u{a0}€"),
        "ceilings listed: {page}"
    );
    assert!(page.contains("href=\"/admin/bareme\""), "menu entry");
    let csrf = csrf_of(&page);

    // A rate rising with the number of children is refused; nothing is written.
    let publish = async |content: &str, comment: &str| {
        let answer = client
            .post(app.admin_url("/admin/bareme"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("content", content),
                ("comment", comment),
            ])
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    };
    let before = published(&app).await;
    let broken = SHIPPED_BAREME_TOML.replacen("rate = \"0.0516\"", "rate = \"0.0700\"", 1);
    let (status, body) = publish(&broken, "erreur").await;
    assert_eq!(status, 422);
    assert!(body.contains("barème refusé"), "{body}");
    assert!(body.contains("taux décroissant"), "{body}");
    let floats = SHIPPED_BAREME_TOML.replacen("rate = \"0.0619\"", "rate = 0.0619", 1);
    let (status, body) = publish(&floats, "").await;
    assert_eq!(status, 422);
    assert!(body.contains("ligne "), "{body}");
    assert_eq!(published(&app).await, before, "nothing recorded");

    // The next year's period: a floor no other run used, so the answer can only come from it.
    let floor_cents = 83_000 + (rand_cents() % 999);
    let floor = format!("{}.{:02}", floor_cents / 100, floor_cents % 100);
    let next_year = format!(
        "{SHIPPED_BAREME_TOML}\n[[resource_limits]]\nid = \"2027\"\nvalid_from = \"2027-01-01\"\n\
         floor = \"{floor}\"\nceiling = \"8500.00\"\nsource = \"Test : barème 2027\"\n"
    );
    let (status, _) = publish(&next_year, "barème 2027").await;
    assert_eq!(status, 303);
    assert_eq!(published(&app).await, before + 1);

    let body = rate(&api, &psu("100", 1, 0, "2027-03-01", "collective")).await;
    assert_eq!(body["resources_used"], floor.as_str(), "{body}");
    assert!(
        body["rule"]
            .as_str()
            .unwrap()
            .contains("plancher et plafond 2027")
    );
    // Earlier days keep their figures.
    let body = rate(&api, &psu("3000", 2, 0, "2025-10-15", "collective")).await;
    assert_eq!(body["hourly_rate"], "1.55");

    let page = client
        .get(app.admin_url("/admin/bareme"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("barème 2027"),
        "the version is listed: {page}"
    );
    // The console is SITIV's: a city host does not serve it.
    let city = app
        .bare_client()
        .get(app.city_url(&app.city, "/admin/bareme"))
        .send()
        .await
        .unwrap();
    assert_eq!(city.status(), 404);
}

fn rand_cents() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64 ^ d.as_secs())
        .unwrap_or(7)
}
