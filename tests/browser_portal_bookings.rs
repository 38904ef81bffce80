//! The family portal's booking pages in a real browser: headless Chromium driven by
//! `tests/browser/check-pages.mjs` (playwright-core + axe-core, as `tests/browser.rs`
//! does) checks the month calendar, the bookings overview and the enrolments page against
//! WCAG 2.1 A/AA and the RGAA basics, signed in through the real sign-in form.
//!
//! Needs `npm ci --prefix tests/browser` and Debian's chromium (`ops/test` installs both);
//! a missing piece fails the test with what to run.

mod common;

use chrono::{Days, NaiveDate};
use common::browser::check_pages;
use common::*;
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use marelle::domain::activity::catalogue::{self, NewActivity, NewCapacity};
use marelle::domain::activity::model::{self, CitySettings};
use marelle::domain::booking::store::{self, Actor, BookRequest, Origin};
use marelle::domain::calendar::{holidays::shipped, open_days};
use marelle::domain::family::demo::{Locality, first_family_with_children, generate};
use marelle::platform::auth::passwords;
use marelle::platform::clock;
use serde_json::json;

const PASSWORD: &str = "Une phrase de passe de parent";

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// A canteen of one place a day: `booked` is booked for `child`, `full` by another child.
async fn canteen_with_days(app: &TestApp, child: i64) -> (i64, NaiveDate, NaiveDate) {
    let name = app.city.name.clone();
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let id = catalogue::create_activity(
                    conn,
                    &NewActivity {
                        code: "cantine".into(),
                        name: "Restaurant scolaire Jules-Ferry".into(),
                        kind: "canteen".into(),
                        structure_id: None,
                        description: String::new(),
                    },
                )
                .await?;
                let capacity = NewCapacity {
                    group_id: None,
                    unit_id: None,
                    day: None,
                    valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                    valid_to: None,
                    places: 1,
                    reason: "capacité de test".into(),
                };
                catalogue::add_capacity(conn, id, &capacity).await?;
                let settings = CitySettings::read(conn, &name).await?;
                let activity = model::load(conn, id, &settings).await?;
                let from = clock::today() + Days::new(14);
                let days = open_days(&activity.opening, shipped(), from, from + Days::new(40))
                    .map_err(|e| marelle::platform::error::AppError::invalid(e.to_string()))?;
                let other: Id = diesel::sql_query(
                    "SELECT id FROM persons WHERE kind = 'child' AND id <> $1 ORDER BY id LIMIT 1",
                )
                .bind::<BigInt, _>(child)
                .get_result(conn)
                .await?;
                let calendar = store::Calendar {
                    school: shipped(),
                    now: clock::now(),
                };
                let actor = Actor {
                    name: "agent:test".into(),
                    origin: Origin::Agent,
                    override_reason: None,
                };
                for (who, day) in [(child, days[0]), (other.id, days[1])] {
                    let request = BookRequest {
                        child_id: who,
                        unit: "repas".into(),
                        day,
                        meal_choice: Some("Végétarien".into()),
                    };
                    store::book(conn, &activity, &calendar, request, &actor).await?;
                }
                Ok((id, days[0], days[1]))
            })
        })
        .await
        .expect("a canteen with a booked and a full day")
}

#[actix_web::test]
async fn portal_booking_calendar_overview_and_enrolments_are_accessible() {
    let app = TestApp::spawn().await;
    let key = app.state.keys.city_key(&app.city.key_id);
    let hash = passwords::hash(PASSWORD).unwrap();
    let (login, child) = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let locality = Locality {
                    postal_code: "69960",
                    town: "Corbas",
                };
                generate(conn, &key, &locality, 17, 6, clock::today()).await?;
                let (household, head) = first_family_with_children(conn).await?;
                let login = marelle::domain::family::accounts::open_for_adult(
                    conn, household, head, &hash, false,
                )
                .await?;
                let child: Id = diesel::sql_query(
                    "SELECT child_id AS id FROM child_links WHERE household_id = $1
                        AND valid_to IS NULL ORDER BY child_id LIMIT 1",
                )
                .bind::<BigInt, _>(household)
                .get_result(conn)
                .await?;
                Ok((login, child.id))
            })
        })
        .await
        .expect("a parent's account");
    let (canteen, booked, full) = canteen_with_days(&app, child).await;
    let url = |path: &str| app.city_url(&app.city, path);
    let month = booked.format("%Y-%m").to_string();
    let calendar = url(&format!("/reservations/{child}/{canteen}?mois={month}"));
    let full_in_month = full.format("%Y-%m").to_string() == month;
    let mut expect = vec![
        json!({ "selector": "h1", "text": "Restaurant scolaire Jules-Ferry" }),
        json!({ "selector": "table.booking-calendar caption", "visible": true }),
        json!({ "selector": "td.cell-booked", "text": "Réservé" }),
        json!({ "selector": "td.cell-booked", "text": "Repas : Végétarien" }),
        json!({ "selector": "td.cell-free input[type=checkbox]", "visible": true }),
        json!({ "selector": "#repas", "count": 1 }),
        json!({ "selector": "#reguliere", "count": 1 }),
    ];
    if full_in_month {
        expect.push(json!({ "selector": "td.cell-full", "text": "Complet" }));
    }
    // A capture of the month (page entière, 375 and 1280 px), to look at when it changes.
    let shots = std::env::temp_dir().join(unique("marelle-captures-"));
    println!("captures : {}", shots.display());
    let spec = json!({ "screenshotDir": shots, "pages": [
        {
            "name": "portail : réservations (aperçu)",
            "url": url("/connexion"),
            "steps": [
                { "fill": "#login", "value": login },
                { "fill": "#password", "value": PASSWORD },
                { "click": "main form button[type=submit]", "navigation": true },
                { "goto": url("/reservations") },
            ],
            "expect": [
                { "selector": "h1", "text": "Réservations" },
                { "selector": "main section h2", "visible": true },
                { "selector": format!("main a[href^=\"/reservations/{child}/{canteen}\"]"), "visible": true },
            ],
        },
        {
            "name": "portail : calendrier du mois",
            "url": calendar,
            "screenshot": "portail-calendrier",
            "expect": expect,
        },
        {
            "name": "portail : inscriptions",
            "url": url("/inscriptions"),
            "expect": [
                { "selector": "h1", "text": "Inscriptions" },
                { "selector": "#demandes", "count": 1 },
            ],
        },
    ]});
    check_pages(spec).await;
}
