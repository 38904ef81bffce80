//! Bookings through the API against a real PostgreSQL: the fixed shapes (activities,
//! availability, bookings, a child's bookings), capacity under 200 concurrent attempts for
//! 20 places, the waitlist and its offer by mail when a place frees up, notice delays and
//! unit rules refused in French, attendance states, and cross-city probes.

mod common;

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use common::api::Api;
use common::fixtures::*;
use common::smtp::SmtpServer;
use common::*;
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use marelle::domain::activity::model::CitySettings;
use marelle::domain::booking::store;
use marelle::domain::calendar::holidays::shipped;
use marelle::platform::clock;
use marelle::platform::tenancy::City;
use serde_json::{Value, json};

fn booking(child: i64, activity: i64, date: NaiveDate, unit: &str) -> Value {
    json!({ "child_id": child, "activity_id": activity, "date": date, "unit": unit })
}

#[actix_web::test]
async fn activities_and_availability_answer_in_the_fixed_shape() {
    let app = TestApp::spawn().await;
    let canteen = activity(&app, &app.city, "canteen", Some(20)).await;
    let api = Api::new(&app, &app.city, "city_admin").await;
    let (status, list) = api.get("/api/v1/activities").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], canteen);
    assert_eq!(list["items"][0]["name"], "Activité canteen");
    assert_eq!(list["items"][0]["units"][0]["code"], "repas");

    let days = open_dates(&app, &app.city, canteen, 14).await;
    let (from, to) = (days[0], days[0] + Days::new(6));
    let (status, places) = api
        .get(&format!(
            "/api/v1/activities/{canteen}/availability?from={from}&to={to}"
        ))
        .await;
    assert_eq!(status, 200, "{places}");
    let items = places["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        4,
        "Mon, Tue, Thu, Fri: no Wednesday, no weekend"
    );
    assert_eq!(
        items[0],
        json!({ "date": from, "unit": "repas", "capacity": 20, "booked": 0, "remaining": 20 })
    );
    let (status, error) = api
        .get(&format!(
            "/api/v1/activities/{canteen}/availability?from={to}&to={from}"
        ))
        .await;
    assert_eq!(status, 422);
    assert_eq!(error["message"], "la date de fin précède la date de début");
    let (status, _) = api
        .get(&format!(
            "/api/v1/activities/{canteen}/availability?from=demain&to={to}"
        ))
        .await;
    assert_eq!(status, 422);
}

/// Fires one booking per child at once; returns the statuses and bodies.
async fn storm(
    api: &Api<'_>,
    children: &[i64],
    activity: i64,
    date: NaiveDate,
    unit: &str,
) -> Vec<(u16, Value)> {
    let attempts = children
        .iter()
        .map(|child| api.post("/api/v1/bookings", booking(*child, activity, date, unit)));
    futures_util::future::join_all(attempts).await
}

#[actix_web::test]
async fn two_hundred_concurrent_bookings_for_twenty_places_give_exactly_twenty() {
    let app = TestApp::spawn_with(10).await;
    let kids = children(&app, &app.city, 130, 7).await;
    assert!(kids.len() >= 200, "{} children", kids.len());
    let kids = &kids[..200];
    let canteen = activity(&app, &app.city, "canteen", Some(20)).await;
    let date = open_dates(&app, &app.city, canteen, 14).await[0];
    let api = Api::new(&app, &app.city, "city_admin").await;

    let answers = storm(&api, kids, canteen, date, "repas").await;
    let booked = answers.iter().filter(|(s, _)| *s == 201).count();
    let full: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 409)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(booked, 20, "exactly the places");
    assert_eq!(
        full.len(),
        180,
        "{:?}",
        answers.iter().find(|(s, _)| *s != 201 && *s != 409)
    );
    assert!(full.iter().all(|b| b["error"] == "complet"));
    assert!(
        full[0]["message"]
            .as_str()
            .unwrap()
            .contains("est complet le")
    );

    let (_, places) = api
        .get(&format!(
            "/api/v1/activities/{canteen}/availability?from={date}&to={date}"
        ))
        .await;
    assert_eq!(places["items"][0]["booked"], 20);
    assert_eq!(places["items"][0]["remaining"], 0);
    let drift = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move { store::recount(conn, canteen).await })
        })
        .await
        .unwrap();
    assert!(drift.is_empty(), "counters equal the rows: {drift:?}");
}

#[actix_web::test]
async fn when_full_means_waitlist_the_extra_children_queue_in_order() {
    let app = TestApp::spawn_with(10).await;
    let kids = children(&app, &app.city, 40, 11).await;
    let kids = &kids[..60];
    let centre = activity(&app, &app.city, "holiday_centre", Some(20)).await;
    for child in kids {
        admit(&app, &app.city, centre, *child).await;
    }
    let date = open_dates(&app, &app.city, centre, 21).await[0];
    let api = Api::new(&app, &app.city, "city_admin").await;
    let answers = storm(&api, kids, centre, date, "journee").await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == 201).count(), 20);
    let mut positions: Vec<i64> = answers
        .iter()
        .filter(|(s, _)| *s == 202)
        .map(|(_, b)| {
            assert_eq!(b["status"], "liste_attente");
            b["position"].as_i64().unwrap()
        })
        .collect();
    positions.sort();
    assert_eq!(
        positions,
        (1..=40).collect::<Vec<i64>>(),
        "ranks 1..40, once each"
    );
}

#[actix_web::test]
async fn a_cancelled_place_is_offered_to_the_first_waiting_family_by_mail() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_configured(|config| use_smtp(config, &smtp)).await;
    let kids = children(&app, &app.city, 6, 3).await;
    let centre = activity(&app, &app.city, "holiday_centre", Some(1)).await;
    for child in &kids[..3] {
        admit(&app, &app.city, centre, *child).await;
    }
    let date = open_dates(&app, &app.city, centre, 21).await[0];
    let api = Api::new(&app, &app.city, "city_admin").await;
    let (status, first) = api
        .post("/api/v1/bookings", booking(kids[0], centre, date, "matin"))
        .await;
    assert_eq!(status, 201, "{first}");
    let (status, second) = api
        .post("/api/v1/bookings", booking(kids[1], centre, date, "matin"))
        .await;
    assert_eq!(
        (status, second["position"].as_i64()),
        (202, Some(1)),
        "{second}"
    );
    let (status, third) = api
        .post("/api/v1/bookings", booking(kids[2], centre, date, "matin"))
        .await;
    assert_eq!((status, third["position"].as_i64()), (202, Some(2)));

    let (status, _) = api
        .delete(&format!("/api/v1/bookings/{}", first["id"]))
        .await;
    assert_eq!(status, 204);
    let (_, cancelled) = api.get(&format!("/api/v1/bookings/{}", first["id"])).await;
    assert_eq!(cancelled["state"], "cancelled_in_time");

    // The place is held for the first waiting child: nobody else can take it.
    let (_, places) = api
        .get(&format!(
            "/api/v1/activities/{centre}/availability?from={date}&to={date}"
        ))
        .await;
    let matin = places["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["unit"] == "matin")
        .unwrap()
        .clone();
    assert_eq!(matin["remaining"], 0, "{matin}");
    let mail = smtp
        .wait_for(
            |m| m.subject.contains("Une place se libère"),
            std::time::Duration::from_secs(10),
        )
        .await;
    assert!(mail.body_text.contains("portail"), "{}", mail.body_text);

    let offered = second["waitlist_id"].as_i64().unwrap();
    let (task, status) = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let tasks = marelle::domain::activity::tasks::open_tasks(conn, 10).await?;
                #[derive(QueryableByName)]
                struct Status {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    status: String,
                }
                let status: Status = diesel::sql_query("SELECT status FROM waitlist WHERE id = $1")
                    .bind::<BigInt, _>(offered)
                    .get_result(conn)
                    .await?;
                Ok((tasks, status.status))
            })
        })
        .await
        .unwrap();
    assert_eq!(status, "offered");
    assert!(
        task.iter().any(|t| t.title.contains("Place proposée à")),
        "{task:?}"
    );

    // Unanswered past the deadline: the place moves on to the next child.
    let name = app.city.name.clone();
    let offers = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let settings = CitySettings::read(conn, &name).await?;
                let later = store::Calendar {
                    school: shipped(),
                    now: clock::now() + chrono::TimeDelta::hours(49),
                };
                store::expire_offers(conn, &later, &settings).await
            })
        })
        .await
        .unwrap();
    assert_eq!(offers.len(), 1);
    assert_eq!(
        offers[0].waitlist_id,
        third["waitlist_id"].as_i64().unwrap()
    );
}

#[actix_web::test]
async fn rules_refuse_in_french_and_book_nothing() {
    let app = TestApp::spawn().await;
    let kids = children(&app, &app.city, 3, 5).await;
    let canteen = activity(&app, &app.city, "canteen", Some(20)).await;
    let wednesday = activity(&app, &app.city, "wednesday", Some(20)).await;
    let api = Api::new(&app, &app.city, "city_admin").await;
    let child = kids[0];

    // The first open day from today: its « 2 jours ouvrés avant, 10 h » deadline is past.
    let soon = open_dates(&app, &app.city, canteen, 0).await[0];
    let (status, late) = api
        .post("/api/v1/bookings", booking(child, canteen, soon, "repas"))
        .await;
    assert_eq!(status, 422, "{late}");
    assert!(
        late["message"]
            .as_str()
            .unwrap()
            .starts_with("le délai de réservation est dépassé depuis le")
    );

    let later = open_dates(&app, &app.city, canteen, 14).await[0];
    let closed = (0..7)
        .map(|d| later + Days::new(d))
        .find(|d| d.format("%u").to_string() == "3")
        .unwrap();
    let (status, shut) = api
        .post("/api/v1/bookings", booking(child, canteen, closed, "repas"))
        .await;
    assert_eq!(status, 422);
    assert!(
        shut["message"].as_str().unwrap().contains("est fermé le"),
        "{shut}"
    );

    let (status, unknown) = api
        .post("/api/v1/bookings", booking(child, canteen, later, "goûter"))
        .await;
    assert_eq!(status, 422);
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("unité « goûter » inconnue")
    );

    let (status, extra) = api
        .post("/api/v1/bookings", json!({ "child_id": child, "activity_id": canteen, "date": later, "unit": "repas", "colour": "bleu" }))
        .await;
    assert_eq!(status, 422);
    assert!(
        extra["message"]
            .as_str()
            .unwrap()
            .contains("« colour » est inconnu")
    );

    // Wednesdays need an admitted enrolment, then the unit rules apply.
    let day = open_dates(&app, &app.city, wednesday, 14).await[0];
    let (status, not_enrolled) = api
        .post("/api/v1/bookings", booking(child, wednesday, day, "matin"))
        .await;
    assert_eq!(status, 422);
    assert!(
        not_enrolled["message"]
            .as_str()
            .unwrap()
            .contains("n'est pas inscrit(e)")
    );
    admit(&app, &app.city, wednesday, child).await;
    let (status, _) = api
        .post("/api/v1/bookings", booking(child, wednesday, day, "matin"))
        .await;
    assert_eq!(status, 201);
    let (status, whole) = api
        .post(
            "/api/v1/bookings",
            booking(child, wednesday, day, "apres_midi"),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        whole["message"]
            .as_str()
            .unwrap()
            .contains("réservez « Journée »"),
        "{whole}"
    );
    let (status, twice) = api
        .post("/api/v1/bookings", booking(child, wednesday, day, "matin"))
        .await;
    assert_eq!(status, 422);
    assert!(twice["message"].as_str().unwrap().contains("déjà réservé"));
    let (status, meal) = api
        .post("/api/v1/bookings", booking(child, wednesday, day, "repas"))
        .await;
    assert_eq!(
        status, 201,
        "the meal needs the morning, which is held: {meal}"
    );

    // The morning cannot go while the meal needs it.
    let (_, list) = api
        .get(&format!(
            "/api/v1/children/{child}/bookings?from={day}&to={day}"
        ))
        .await;
    assert_eq!(list["total"], 2);
    let morning = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["unit"] == "matin")
        .unwrap()["id"]
        .clone();
    let (status, needed) = api.delete(&format!("/api/v1/bookings/{morning}")).await;
    assert_eq!(status, 422);
    assert!(needed["message"].as_str().unwrap().contains("le nécessite"));

    // Nothing was written by the refusals.
    let (_, all) = api
        .get(&format!(
            "/api/v1/children/{child}/bookings?from={soon}&to={}",
            day + Days::new(30)
        ))
        .await;
    assert_eq!(all["total"], 2, "{all}");
}

#[actix_web::test]
async fn attendance_moves_one_row_through_its_states() {
    let app = TestApp::spawn().await;
    let kids = children(&app, &app.city, 2, 9).await;
    let canteen = activity(&app, &app.city, "canteen", Some(20)).await;
    let date = open_dates(&app, &app.city, canteen, 14).await[0];
    let api = Api::new(&app, &app.city, "city_admin").await;
    let (_, booked) = api
        .post("/api/v1/bookings", booking(kids[0], canteen, date, "repas"))
        .await;
    let id = booked["id"].clone();
    assert_eq!(booked["state"], "booked");
    let (status, present) = api
        .patch(
            &format!("/api/v1/bookings/{id}/attendance"),
            json!({ "state": "present", "arrival": "11:35" }),
        )
        .await;
    assert_eq!(status, 200, "{present}");
    assert_eq!(
        (present["state"].as_str(), present["arrival"].as_str()),
        (Some("present"), Some("11:35:00"))
    );
    let (_, corrected) = api
        .patch(
            &format!("/api/v1/bookings/{id}/attendance"),
            json!({ "state": "absent_justified", "reason": "certificat médical" }),
        )
        .await;
    assert_eq!(corrected["state"], "absent_justified");
    let (status, bad) = api
        .patch(
            &format!("/api/v1/bookings/{id}/attendance"),
            json!({ "state": "parti" }),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("état « parti » invalide")
    );
    let (status, marked) = api.delete(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(status, 422, "a marked row is corrected, not cancelled");
    assert!(marked["message"].as_str().unwrap().contains("déjà pointée"));

    // A child there without booking is added on the spot, capacity or not.
    let activity = loaded(&app, &app.city, canteen).await;
    let child = kids[1];
    let unbooked = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                store::add_unbooked(conn, &activity, child, "repas", date, None, "Animatrice").await
            })
        })
        .await
        .unwrap();
    assert_eq!(unbooked.state_label, "présent sans réservation");
    let (_, places) = api
        .get(&format!(
            "/api/v1/activities/{canteen}/availability?from={date}&to={date}"
        ))
        .await;
    assert_eq!(places["items"][0]["booked"], 2);
}

#[actix_web::test]
async fn another_citys_ids_answer_404_and_never_its_data() {
    let app = TestApp::spawn().await;
    let kids = children(&app, &app.city, 2, 13).await;
    let canteen = activity(&app, &app.city, "canteen", Some(20)).await;
    let date = open_dates(&app, &app.city, canteen, 14).await[0];
    let ours = Api::new(&app, &app.city, "city_admin").await;
    let (_, booked) = ours
        .post("/api/v1/bookings", booking(kids[0], canteen, date, "repas"))
        .await;
    let id = booked["id"].as_i64().unwrap();

    let other: Arc<City> = app.add_city("Autreville").await;
    let theirs = Api::new(&app, &other, "city_admin").await;
    for path in [
        format!("/api/v1/bookings/{id}"),
        format!("/api/v1/activities/{canteen}/availability?from={date}&to={date}"),
        format!("/api/v1/children/{}/bookings", kids[0]),
    ] {
        let (status, body) = theirs.get(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, _) = theirs.delete(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = theirs
        .post("/api/v1/bookings", booking(kids[0], canteen, date, "repas"))
        .await;
    assert_eq!(status, 404);
    let (status, list) = theirs.get("/api/v1/activities").await;
    assert_eq!((status, list["total"].as_i64()), (200, Some(0)));
    let (_, still) = ours.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(still["state"], "booked", "untouched");
}
