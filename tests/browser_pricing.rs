//! The pricing screens added for aids and tariff assignment in a real browser: headless
//! Chromium driven by `tests/browser/check-pages.mjs` (playwright-core + axe-core, as
//! `tests/browser.rs` does) checks the aid catalogue, a grid page with its assignment rules,
//! a household page with its aids, its quote with an aid deducted and an enrolment page with
//! its tariff, against WCAG 2.1 A/AA and the RGAA basics, signed in through the real form.
//!
//! Needs `npm ci --prefix tests/browser` and Debian's chromium (`ops/test` installs both).

mod common;
mod pricing_fixtures;

use common::browser::check_pages;
use common::*;
use marelle::domain::tariffs::{aids, assignment};
use pricing_fixtures::*;
use serde_json::json;

#[actix_web::test]
async fn aid_and_tariff_assignment_pages_are_accessible() {
    let app = TestApp::spawn().await;
    let canteen = canteen_with_grid(&app, &app.city).await;
    aid_catalogue(&app, &app.city, CATALOGUE).await;
    let (household, kids) = family(&app, &app.city, &app.city.name, Some(742)).await;
    let enrolment = admitted(&app, &app.city, canteen, kids[0], "2025-09-01").await;
    let grant = aids::GrantInput {
        aid_id: "ccas-cantine".into(),
        children: vec![kids[0]],
        valid_from: "2026-01-01".parse().unwrap(),
        valid_to: None,
        reason: "Commission du CCAS".into(),
    };
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                aids::grant(conn, household, &grant, "test").await?;
                assignment::change_tariff(conn, enrolment, "personnel", "enfant d'agent", "test")
                    .await?;
                Ok(())
            })
        })
        .await
        .unwrap();
    let login = app.agent("Agnès Martin", &["city_admin"]).await;
    let url = |path: &str| app.city_url(&app.city, path);
    let quote = url(&format!(
        "/agent/familles/{household}/simulation?calculer=1&month=2026-05&child={}&slot=cantine%7Crepas%7C1",
        kids[0]
    ));
    let spec = json!({ "pages": [
        {
            "name": "espace agents : catalogue des aides",
            "url": url("/agent/connexion"),
            "steps": [
                { "fill": "#login", "value": login },
                { "fill": "#password", "value": AGENT_PASSWORD },
                { "click": "main form button[type=submit]", "waitForUrl": url("/agent/") },
                { "goto": url("/agent/tarifs/aides") },
            ],
            "expect": [
                { "selector": "h1", "text": "Catalogue des aides" },
                { "selector": "main table", "visible": true, "text": "Coup de pouce cantine" },
            ],
        },
        {
            "name": "espace agents : grille et attribution du tarif",
            "url": url("/agent/tarifs/cantine"),
            "expect": [{ "selector": "#attribution", "visible": true }],
        },
        {
            "name": "espace agents : famille et ses aides",
            "url": url(&format!("/agent/familles/{household}")),
            "expect": [{ "selector": "#aides", "visible": true }],
        },
        {
            "name": "espace agents : devis avec une aide",
            "url": quote,
            "expect": [{ "selector": "#devis", "visible": true }],
        },
        {
            "name": "espace agents : tarif d'une inscription",
            "url": url(&format!("/agent/inscriptions/{enrolment}")),
            "expect": [{ "selector": "#tarif", "visible": true }],
        },
    ]});
    check_pages(spec).await;
}
