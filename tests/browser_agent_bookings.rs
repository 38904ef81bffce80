//! The agents' booking screen in a real browser: headless Chromium driven by
//! `tests/browser/check-pages.mjs` (playwright-core + axe-core, as `tests/browser.rs` does)
//! checks the month of a child's canteen and the report of a booking made by ticking a unit,
//! against WCAG 2.1 A/AA and the RGAA basics, signed in through the real sign-in form.
//!
//! Needs `npm ci --prefix tests/browser` and Debian's chromium (`ops/test` installs both);
//! a missing piece fails the test with what to run.

mod common;

use chrono::{Days, NaiveDate};
use common::browser::check_pages;
use common::fixtures::{self, activity, loaded};
use common::*;
use marelle::domain::booking::store::{self, Actor, BookRequest, Origin};
use marelle::domain::calendar::{holidays::shipped, open_days};
use marelle::platform::clock;
use serde_json::json;

/// Books `day` for `child` through the store, with a meal.
async fn booked(app: &TestApp, activity: i64, child: i64, day: NaiveDate) {
    let loaded = loaded(app, &app.city, activity).await;
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let calendar = store::Calendar {
                    school: shipped(),
                    now: clock::now(),
                };
                let request = BookRequest {
                    child_id: child,
                    unit: "repas".into(),
                    day,
                    meal_choice: Some("Végétarien".into()),
                };
                let actor = Actor {
                    name: "agent:test".into(),
                    origin: Origin::Agent,
                    override_reason: None,
                };
                store::book(conn, &loaded, &calendar, request, &actor).await
            })
        })
        .await
        .expect("a booking");
}

#[actix_web::test]
async fn the_agents_booking_month_and_its_report_are_accessible() {
    let app = TestApp::spawn().await;
    let children = fixtures::children(&app, &app.city, 4, 41).await;
    let (child, other) = (children[0], children[1]);
    let canteen = activity(&app, &app.city, "canteen", Some(1)).await;
    let opening = loaded(&app, &app.city, canteen).await.opening;
    let from = clock::today() + Days::new(14);
    let days = open_days(&opening, shipped(), from, from + Days::new(40)).unwrap();
    booked(&app, canteen, child, days[0]).await;
    booked(&app, canteen, other, days[1]).await;
    let login = app.agent("Agnès Martin", &["city_admin"]).await;
    let url = |path: &str| app.city_url(&app.city, path);
    let month = url(&format!(
        "/agent/enfants/{child}/reservations?activite={canteen}&mois={}",
        days[0].format("%Y-%m")
    ));
    // A unit well within the notice delay (the first days of a month may be past it).
    let free_month = url(&format!(
        "/agent/enfants/{child}/reservations?activite={canteen}&mois={}",
        days[2].format("%Y-%m")
    ));
    let full_in_month = days[1].format("%Y-%m").to_string() == days[0].format("%Y-%m").to_string();
    let mut expect = vec![
        json!({ "selector": "h1", "text": "Réservations de" }),
        json!({ "selector": "table.booking-calendar caption", "visible": true }),
        json!({ "selector": "td.cell-booked", "text": "Repas : Végétarien" }),
        json!({ "selector": "td.cell-free input[type=checkbox]", "visible": true }),
        json!({ "selector": "#repas-calendrier", "count": 1 }),
        json!({ "selector": "#motif-calendrier", "count": 1 }),
        json!({ "selector": "#reguliere", "count": 1 }),
        json!({ "selector": "#periode", "count": 1 }),
    ];
    if full_in_month {
        expect.push(json!({ "selector": "td.cell-full", "text": "Complet" }));
    }
    // A capture of the month (page entière, 375 and 1280 px), to look at when it changes.
    let shots = std::env::temp_dir().join(unique("marelle-captures-"));
    println!("captures : {}", shots.display());
    let spec = json!({ "screenshotDir": shots, "pages": [
        {
            "name": "espace agents : réservations d'un enfant (mois)",
            "url": url("/agent/connexion"),
            "steps": [
                { "fill": "#login", "value": login },
                { "fill": "#password", "value": AGENT_PASSWORD },
                { "click": "main form button[type=submit]", "waitForUrl": url("/agent/") },
                { "goto": month },
            ],
            "screenshot": "agent-reservations-mois",
            "expect": expect,
        },
        {
            "name": "espace agents : résultat d'une réservation",
            "url": free_month,
            "steps": [
                { "check": format!("input[type=checkbox][value=\"{}|repas\"]", days[2]) },
                { "click": "main form button[type=submit]", "navigation": true },
            ],
            "expect": [
                { "selector": "h1", "text": "Résultat de la demande de réservation" },
                { "selector": "p[role=status]", "text": "1 unité(s) réservée(s)" },
                { "selector": "table.booking-result caption", "visible": true },
            ],
        },
    ]});
    check_pages(spec).await;
}
