//! Pointage through the back-office against a real PostgreSQL: the day list with what to
//! know of each child (shown by profile), marks present/absent with times, adaptation and
//! « non facturé », « tous présents », a child there without booking becoming a consumption,
//! the staff ratio alert, the daily notebook (audited), the CSV exports, permissions by
//! group and structure (and by staff assignment), and cross-city probes.

mod common;

use std::sync::Arc;

use common::fixtures::children;
use common::pages::{get, post_in as post};
use common::*;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Time};
use diesel_async::RunQueryDsl;
use marelle::domain::activity::catalogue::{self, GroupInput, NewActivity, NewStructure};
use marelle::domain::activity::model::{self, CitySettings};
use marelle::domain::booking::store::{self, Actor, BookRequest, Booked, Calendar, Origin};
use marelle::domain::calendar::OpeningRule;
use marelle::domain::calendar::holidays::shipped;
use marelle::domain::family::health::{self, BasicHealth, HealthSheet};
use marelle::platform::clock;
use marelle::platform::tenancy::City;

// ---------------------------------------------------------------------------------------
// Helpers

/// Runs `sql` returning one text column `v` in the city.
async fn query_text(app: &TestApp, city: &City, sql: &'static str, id: i64) -> Vec<String> {
    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = Text)]
        v: String,
    }
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                let rows: Vec<V> = diesel::sql_query(sql)
                    .bind::<BigInt, _>(id)
                    .load(conn)
                    .await?;
                Ok(rows.into_iter().map(|r| r.v).collect())
            })
        })
        .await
        .unwrap()
}

async fn execute(app: &TestApp, city: &City, sql: &'static str, a: i64, b: i64) {
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                diesel::sql_query(sql)
                    .bind::<BigInt, _>(a)
                    .bind::<BigInt, _>(b)
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .await
        .unwrap();
}

/// A canteen (one unit « repas » 11:30-13:30, one group « Tous les enfants ») exceptionally
/// open today, in a new structure; returns (activity, structure, group).
async fn canteen(app: &TestApp, city: &City, code: &str) -> (i64, i64, i64) {
    let code = code.to_string();
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                let structure = catalogue::create_structure(
                    conn,
                    &NewStructure {
                        name: format!("Restaurant {code}"),
                        kind: "restaurant".into(),
                        address: String::new(),
                        daily_capacity: None,
                    },
                )
                .await?;
                let id = catalogue::create_activity(
                    conn,
                    &NewActivity {
                        code: code.clone(),
                        name: format!("Cantine {code}"),
                        kind: "canteen".into(),
                        structure_id: Some(structure),
                        description: String::new(),
                    },
                )
                .await?;
                catalogue::add_opening_rule(
                    conn,
                    id,
                    OpeningRule::ExceptionalOpening {
                        date: clock::today(),
                        label: None,
                    },
                )
                .await?;
                let group = model::groups_of(conn, id).await?[0].id;
                Ok((id, structure, group))
            })
        })
        .await
        .expect("canteen")
}

/// Books `unit` today for each child (an agent past the notice delay, with a reason);
/// returns the booking ids.
async fn book_today(
    app: &TestApp,
    city: &City,
    activity: i64,
    kids: &[i64],
    unit: &str,
) -> Vec<i64> {
    let (name, kids, unit) = (city.name.clone(), kids.to_vec(), unit.to_string());
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                let settings = CitySettings::read(conn, &name).await?;
                let activity = model::load(conn, activity, &settings).await?;
                let calendar = Calendar {
                    school: shipped(),
                    now: clock::now(),
                };
                let actor = Actor {
                    name: "test".into(),
                    origin: Origin::Agent,
                    override_reason: Some("réservation de test".into()),
                };
                let mut ids = Vec::new();
                for child in kids {
                    let request = BookRequest {
                        child_id: child,
                        unit: unit.clone(),
                        day: clock::today(),
                        meal_choice: None,
                    };
                    match store::book(conn, &activity, &calendar, request, &actor).await? {
                        Booked::Booked { booking } => ids.push(booking.id),
                        other => panic!("not booked: {other:?}"),
                    }
                }
                Ok(ids)
            })
        })
        .await
        .expect("bookings today")
}

#[derive(QueryableByName, Debug)]
struct State {
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<Time>)]
    arrival: Option<chrono::NaiveTime>,
    #[diesel(sql_type = Nullable<Time>)]
    departure: Option<chrono::NaiveTime>,
    #[diesel(sql_type = Bool)]
    adaptation: bool,
    #[diesel(sql_type = Bool)]
    billable: bool,
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Text)]
    state_by: String,
}

async fn state_of(app: &TestApp, city: &City, booking: i64) -> State {
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                Ok(diesel::sql_query(
                    "SELECT state, arrival, departure, adaptation, billable, origin, state_by
                       FROM bookings WHERE id = $1",
                )
                .bind::<BigInt, _>(booking)
                .get_result(conn)
                .await?)
            })
        })
        .await
        .unwrap()
}

/// An agent of `city` holding `profile` over `population` only, signed in; returns the
/// client and the agent's id.
async fn agent_over(
    app: &TestApp,
    city: &City,
    profile: &str,
    population: &str,
) -> (reqwest::Client, i64) {
    use marelle::platform::auth::directory;
    let login = app.agent_in(city, "Animatrice de test", &[]).await;
    let (l, profile, population) = (login.clone(), profile.to_string(), population.to_string());
    let id = app
        .db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                #[derive(QueryableByName)]
                struct Id {
                    #[diesel(sql_type = BigInt)]
                    id: i64,
                }
                let agent: Id = diesel::sql_query("SELECT id FROM agents WHERE login = $1")
                    .bind::<Text, _>(&l)
                    .get_result(conn)
                    .await?;
                directory::grant(conn, agent.id, &profile, &population).await?;
                Ok(agent.id)
            })
        })
        .await
        .unwrap();
    app.state.authz.invalidate(&city.schema).await;
    let client = app.client();
    let answer = app
        .sign_in(&client, city, "/agent", &login, AGENT_PASSWORD)
        .await;
    assert_eq!(answer.status(), 303, "sign-in of {login}");
    (client, id)
}

/// One button of the list (`etat`) on `booking`; returns the status, `Location` and text.
async fn tap(
    app: &TestApp,
    client: &reqwest::Client,
    booking: i64,
    state: &str,
    back: &str,
) -> (u16, String, String) {
    post(
        app,
        client,
        &app.city,
        &format!("/agent/pointage/reservations/{booking}"),
        &[("etat", state), ("retour", back)],
    )
    .await
}

/// Adds `name` to the staff of `group` today (present or not) from the list `back`.
async fn add_staff(
    app: &TestApp,
    client: &reqwest::Client,
    group: i64,
    name: &str,
    present: bool,
    back: &str,
) -> (u16, String, String) {
    let mut fields = vec![("nom", name), ("jour", ""), ("retour", back)];
    if present {
        fields.push(("present", "1"));
    }
    post(
        app,
        client,
        &app.city,
        &format!("/agent/pointage/groupes/{group}/encadrants"),
        &fields,
    )
    .await
}

fn today() -> String {
    clock::today().to_string()
}

fn list_path(activity: i64) -> String {
    format!("/agent/pointage/liste?jour={}&activite={activity}", today())
}

/// A canteen with three children booked today; returns (activity, group, kids, bookings).
async fn canteen_with_three(app: &TestApp, code: &str) -> (i64, i64, Vec<i64>, Vec<i64>) {
    let kids = children(app, &app.city, 3, 21).await;
    assert!(kids.len() >= 4, "{} children", kids.len());
    let (activity, _, group) = canteen(app, &app.city, code).await;
    let bookings = book_today(app, &app.city, activity, &kids[..3], "repas").await;
    (activity, group, kids, bookings)
}

async fn name_of(app: &TestApp, child: i64) -> String {
    query_text(
        app,
        &app.city,
        "SELECT last_name || ' ' || first_name AS v FROM persons WHERE id = $1",
        child,
    )
    .await
    .remove(0)
}

// ---------------------------------------------------------------------------------------
// Tests

#[actix_web::test]
async fn the_list_shows_the_expected_children_and_what_to_know_by_profile() {
    let app = TestApp::spawn().await;
    let (activity, _, kids, _) = canteen_with_three(&app, "cantine-liste").await;
    let key = app.state.keys.city_key(&app.city.key_id);
    let (allergic, watched) = (kids[0], kids[1]);
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                health::save(
                    conn,
                    &key,
                    allergic,
                    &HealthSheet {
                        basic: Some(BasicHealth {
                            diet: "no_pork".into(),
                            allergies: vec!["arachide".into(), "kiwi".into()],
                            pai: true,
                            what_to_do: "stylo d'adrénaline dans le sac".into(),
                        }),
                        ..HealthSheet::default()
                    },
                )
                .await?;
                diesel::sql_query(
                    "INSERT INTO child_contacts (child_id, last_name, first_name, relationship,
                                                 forbidden_pick_up)
                     VALUES ($1, 'Durand', 'Marc', 'oncle', true)",
                )
                .bind::<BigInt, _>(watched)
                .execute(conn)
                .await?;
                Ok(())
            })
        })
        .await
        .unwrap();
    let names = [
        name_of(&app, kids[0]).await,
        name_of(&app, kids[1]).await,
        name_of(&app, kids[2]).await,
    ];

    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let (status, page) = get(&app, &admin, &app.city, &list_path(activity)).await;
    assert_eq!(status, 200, "{page}");
    for name in &names {
        assert!(page.contains(name.as_str()), "{name} expected");
    }
    assert!(
        page.contains("Allergies :</strong> arachide, kiwi"),
        "{page}"
    );
    assert!(page.contains("<strong>PAI</strong> — conduite à tenir : stylo d'adrénaline"));
    assert!(page.contains("Régime : Sans porc"));
    assert!(page.contains("Ne pas confier à :</strong> Marc Durand (oncle)"));
    assert!(page.contains("3 à pointer"));

    // Whoever may not read the health sheet sees the children, not their health.
    let (auditor, _) = app.agent_client(&["auditor"]).await;
    let (status, page) = get(&app, &auditor, &app.city, &list_path(activity)).await;
    assert_eq!(status, 200);
    assert!(page.contains(names[0].as_str()));
    assert!(
        !page.contains("arachide") && !page.contains("PAI"),
        "{page}"
    );
    assert!(!page.contains("name=\"etat\""), "an auditor marks nothing");

    // The day's overview lists the group.
    let (status, page) = get(&app, &admin, &app.city, "/agent/pointage").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Cantine cantine-liste — Tous les enfants"),
        "{page}"
    );
}

#[actix_web::test]
async fn one_button_marks_present_or_absent_and_details_keep_times() {
    let app = TestApp::spawn().await;
    let (activity, _, _, bookings) = canteen_with_three(&app, "cantine-pointage").await;
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let back = list_path(activity);
    let mark = |booking: i64| format!("/agent/pointage/reservations/{booking}");

    let (status, location, _) = tap(&app, &admin, bookings[0], "present", &back).await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/agent/pointage/liste?"), "{location}");
    assert!(location.ends_with(&format!("#r{}", bookings[0])));
    let first = state_of(&app, &app.city, bookings[0]).await;
    assert_eq!(first.state, "present");
    assert!(
        first.state_by.starts_with("agent:"),
        "who set it: {first:?}"
    );

    let (status, ..) = tap(&app, &admin, bookings[1], "absent_unjustified", &back).await;
    assert_eq!(status, 303);
    assert_eq!(
        state_of(&app, &app.city, bookings[1]).await.state,
        "absent_unjustified"
    );

    // Details: times past closing, adaptation, not billed.
    let (status, ..) = post(
        &app,
        &admin,
        &app.city,
        &mark(bookings[0]),
        &[
            ("details", "1"),
            ("etat", ""),
            ("arrivee", "11:35"),
            ("depart", "13:50"),
            ("adaptation", "1"),
            ("non_facture", "1"),
            ("motif", "repas de découverte"),
            ("retour", &back),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let detailed = state_of(&app, &app.city, bookings[0]).await;
    assert_eq!(
        (
            detailed.state.as_str(),
            detailed.arrival.map(|t| t.to_string()),
            detailed.departure.map(|t| t.to_string()),
            detailed.adaptation,
            detailed.billable
        ),
        (
            "present",
            Some("11:35:00".into()),
            Some("13:50:00".into()),
            true,
            false
        )
    );
    let (_, page) = get(&app, &admin, &app.city, &back).await;
    assert!(
        page.contains("Dépassement : 20 min</strong> (fermeture 13:30)"),
        "{page}"
    );
    assert!(page.contains("Non facturé") && page.contains("Adaptation"));

    // Bad input comes back in French on the list and changes nothing.
    let (status, _, page) = post(
        &app,
        &admin,
        &app.city,
        &mark(bookings[2]),
        &[
            ("details", "1"),
            ("etat", "present"),
            ("arrivee", "12:00"),
            ("depart", "11:00"),
            ("retour", &back),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("l'heure de départ précède l'heure d'arrivée"),
        "{page}"
    );
    assert!(page.contains("value=\"11:00\""), "typed input kept");
    let (status, _, page) = post(
        &app,
        &admin,
        &app.city,
        &mark(bookings[2]),
        &[("details", "1"), ("arrivee", "25:99"), ("retour", &back)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("heure d'arrivée invalide « 25:99 »"),
        "{page}"
    );
    assert_eq!(state_of(&app, &app.city, bookings[2]).await.state, "booked");
}

#[actix_web::test]
async fn all_present_marks_those_left_to_mark_in_the_group() {
    let app = TestApp::spawn().await;
    let (activity, group, _, bookings) = canteen_with_three(&app, "cantine-tous").await;
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let back = list_path(activity);
    let (status, ..) = post(
        &app,
        &admin,
        &app.city,
        &format!("/agent/pointage/reservations/{}", bookings[2]),
        &[("etat", "absent_justified"), ("retour", &back)],
    )
    .await;
    assert_eq!(status, 303);
    let (status, location, _) = post(
        &app,
        &admin,
        &app.city,
        &format!("/agent/pointage/groupes/{group}/tous-presents"),
        &[("jour", &today()), ("retour", &back)],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.ends_with(&format!("#g{group}")));
    let (_, page) = get(&app, &admin, &app.city, &location).await;
    assert!(
        page.contains("2 enfants marqués présents dans « Tous les enfants »."),
        "{page}"
    );
    assert_eq!(
        state_of(&app, &app.city, bookings[0]).await.state,
        "present"
    );
    assert_eq!(
        state_of(&app, &app.city, bookings[1]).await.state,
        "present"
    );
    assert_eq!(
        state_of(&app, &app.city, bookings[2]).await.state,
        "absent_justified",
        "an absence already noted stays"
    );
    assert!(!page.contains("Tous présents ("), "nothing left to mark");
}

#[actix_web::test]
async fn a_child_there_without_booking_becomes_a_consumption() {
    let app = TestApp::spawn().await;
    let (activity, _, kids, _) = canteen_with_three(&app, "cantine-imprevu").await;
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let back = list_path(activity);
    let newcomer = kids[3];
    let name = name_of(&app, newcomer).await;
    let last_name = name.split(' ').next().unwrap().to_string();

    // Found by name on the list.
    let (status, page) = get(
        &app,
        &admin,
        &app.city,
        &format!("{back}&q={}", urlencode(&last_name)),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("name=\"enfant\" value=\"{newcomer}\"")),
        "{page}"
    );

    let path = format!("/agent/pointage/activites/{activity}/sans-reservation");
    let child = newcomer.to_string();
    let (status, location, _) = post(
        &app,
        &admin,
        &app.city,
        &path,
        &[
            ("enfant", &child),
            ("unite", "repas"),
            ("jour", &today()),
            ("arrivee", "11:40"),
            ("retour", &back),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let booking: i64 = location.rsplit("#r").next().unwrap().parse().unwrap();
    let row = state_of(&app, &app.city, booking).await;
    assert_eq!(
        (row.state.as_str(), row.origin.as_str(), row.billable),
        ("present_unbooked", "attendance", true)
    );
    let (_, page) = get(&app, &admin, &app.city, &location).await;
    assert!(
        page.contains("est ajouté(e) présent(e) sans réservation (Repas)."),
        "{page}"
    );
    assert!(page.contains("présent sans réservation"));

    // Twice: it is already on the list.
    let (status, _, page) = post(
        &app,
        &admin,
        &app.city,
        &path,
        &[
            ("enfant", &child),
            ("unite", "repas"),
            ("jour", &today()),
            ("retour", &back),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("déjà sur la liste"), "{page}");

    // Billing sees it: the export lists the consumption.
    let (status, csv) = get(
        &app,
        &admin,
        &app.city,
        &format!(
            "/agent/pointage/export?du={}&au={}&activite={activity}",
            today(),
            today()
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        csv.lines().any(|l| l.contains(&format!(";{newcomer};"))
            && l.contains("présent sans réservation;present_unbooked;11:40;")),
        "{csv}"
    );
    // Counters still equal the rows.
    let drift = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move { store::recount(conn, activity).await })
        })
        .await
        .unwrap();
    assert!(drift.is_empty(), "{drift:?}");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[actix_web::test]
async fn the_ratio_alert_appears_when_children_outnumber_the_staff_present() {
    let app = TestApp::spawn().await;
    let (activity, group, _, _) = canteen_with_three(&app, "cantine-taux").await;
    execute(
        &app,
        &app.city,
        "UPDATE activity_groups SET children_per_staff = $2 WHERE id = $1",
        group,
        2,
    )
    .await;
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let back = list_path(activity);

    let (_, page) = get(&app, &admin, &app.city, &back).await;
    assert!(
        page.contains(
            "Alerte d'encadrement :</strong> Taux d'encadrement dépassé (Repas) : 3 enfants \
             attendus pour 0 encadrant présent"
        ),
        "{page}"
    );
    let (status, ..) = add_staff(&app, &admin, group, "Inès Moreau", true, &back).await;
    assert_eq!(status, 303);
    let (_, page) = get(&app, &admin, &app.city, &back).await;
    assert!(
        page.contains("3 enfants attendus pour 1 encadrant présent (2 enfants au plus à raison de 2 par adulte) ; il faut 2 encadrants."),
        "{page}"
    );
    let (_, page) = get(&app, &admin, &app.city, "/agent/pointage").await;
    assert!(
        page.contains("1 groupe(s) sans l'encadrement nécessaire"),
        "{page}"
    );

    let (status, ..) = add_staff(&app, &admin, group, "Julien Petit", true, &back).await;
    assert_eq!(status, 303);
    let (_, page) = get(&app, &admin, &app.city, &back).await;
    assert!(!page.contains("Alerte d'encadrement"), "{page}");
    assert!(page.contains("2 encadrant(s) présent(s) pour 1 adulte par 2 enfants : conforme."));
    let (status, _, page) = add_staff(&app, &admin, group, "Julien  Petit", false, &back).await;
    assert_eq!(status, 422);
    assert!(page.contains("« Julien Petit » est déjà dans l'équipe"));
}

#[actix_web::test]
async fn a_notebook_entry_is_saved_shown_and_audited() {
    let app = TestApp::spawn().await;
    let (activity, _, _, bookings) = canteen_with_three(&app, "cantine-cahier").await;
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let notebook = format!("/agent/pointage/reservations/{}/cahier", bookings[0]);
    let back = list_path(activity);

    let (status, location, _) = post(
        &app,
        &admin,
        &app.city,
        &notebook,
        &[
            ("type", "meal"),
            ("heure", "12:10"),
            ("texte", "A mangé toute son assiette, pas le dessert."),
            ("retour", &back),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.starts_with(&notebook), "{location}");
    let (status, page) = get(&app, &admin, &app.city, &location).await;
    assert_eq!(status, 200);
    assert!(page.contains("L'observation est ajoutée au cahier de suivi."));
    assert!(page.contains("<td>12:10</td><th scope=\"row\">Repas</th><td>A mangé toute son assiette, pas le dessert.</td>"), "{page}");
    let (_, list) = get(&app, &admin, &app.city, &back).await;
    assert!(list.contains("Cahier (1)"));

    let audited = query_text(
        &app,
        &app.city,
        "SELECT user_id || ' ' || op || ' ' || (after->>'text') AS v FROM audit_log
          WHERE table_name = 'daily_notes' AND (after->>'child_id')::bigint =
                (SELECT child_id FROM bookings WHERE id = $1)",
        bookings[0],
    )
    .await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert!(audited[0].starts_with("agent:"), "{audited:?}");
    assert!(audited[0].contains("A mangé toute son assiette"));

    let (status, _, page) = post(
        &app,
        &admin,
        &app.city,
        &notebook,
        &[("type", "nap"), ("texte", "   "), ("retour", &back)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("écrivez l'observation à noter dans le cahier"));
}

#[actix_web::test]
async fn the_csv_exports_give_every_state_and_a_summary_per_child() {
    let app = TestApp::spawn().await;
    let (activity, _, kids, bookings) = canteen_with_three(&app, "cantine-csv").await;
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let back = list_path(activity);
    for (booking, state) in [(bookings[0], "present"), (bookings[1], "absent_justified")] {
        let (status, ..) = tap(&app, &admin, booking, state, &back).await;
        assert_eq!(status, 303);
    }
    let period = format!("du={}&au={}&activite={activity}", today(), today());
    let response = admin
        .get(app.city_url(&app.city, &format!("/agent/pointage/export?{period}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("pointage-")
    );
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'));
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("Date;Structure;Activité;Code activité;Groupe;Unité;"));
    let day = clock::today().format("%d/%m/%Y").to_string();
    let line_of = |child: i64| {
        lines
            .iter()
            .find(|l| l.contains(&format!(";repas;{child};")))
            .unwrap_or_else(|| panic!("no line for {child}: {csv}"))
            .to_string()
    };
    let present = line_of(kids[0]);
    assert!(present.starts_with(&format!(
        "{day};Restaurant cantine-csv;Cantine cantine-csv;cantine-csv;Tous les enfants;Repas;repas;"
    )));
    assert!(present.contains(";présent;present;"), "{present}");
    assert!(
        present.contains(";present;;;;non;oui;agent;réservation de test;agent:"),
        "{present}"
    );
    assert!(line_of(kids[1]).contains(";absence justifiée;absent_justified;"));
    assert!(line_of(kids[2]).contains(";réservé;booked;"));

    let (status, summary) = get(
        &app,
        &admin,
        &app.city,
        &format!("/agent/pointage/export?{period}&format=synthese"),
    )
    .await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = summary.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("Activité;Code activité;N° enfant;Nom;Prénom;Réservé;Présent;"));
    let of = lines
        .iter()
        .find(|l| l.contains(&format!(";{};", kids[0])))
        .unwrap();
    assert!(of.contains(";0;1;0;0;0;0;0;0;0;"), "{of}");

    let (status, page) = get(
        &app,
        &admin,
        &app.city,
        "/agent/pointage/export?du=2025-01-01&au=2026-12-31",
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("la période dépasse 366 jours"), "{page}");
}

#[actix_web::test]
async fn an_animator_marks_only_their_groups_and_a_director_their_structure() {
    let app = TestApp::spawn().await;
    let (activity, structure, group_a, kids, bookings) = {
        let (activity, group, kids, bookings) = canteen_with_three(&app, "cantine-droits").await;
        let structure = query_text(
            &app,
            &app.city,
            "SELECT structure_id::text AS v FROM activities WHERE id = $1",
            activity,
        )
        .await[0]
            .parse::<i64>()
            .unwrap();
        (activity, structure, group, kids, bookings)
    };
    // A second group; the third child's booking moves to it.
    let group_b = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                catalogue::add_group(
                    conn,
                    activity,
                    &GroupInput {
                        name: "Grands".into(),
                        min_age_months: None,
                        max_age_months: None,
                        levels: vec![],
                        children_per_staff: Some(10),
                    },
                )
                .await
            })
        })
        .await
        .unwrap();
    execute(
        &app,
        &app.city,
        "UPDATE bookings SET group_id = $2 WHERE id = $1",
        bookings[2],
        group_b,
    )
    .await;
    let in_b = name_of(&app, kids[2]).await;
    let back = list_path(activity);

    let (animator, animator_id) =
        agent_over(&app, &app.city, "animator", &format!("group:{group_a}")).await;
    let (status, page) = get(&app, &animator, &app.city, &back).await;
    assert_eq!(status, 200);
    assert!(
        !page.contains(in_b.as_str()),
        "group B is not shown to A's animator"
    );
    let (status, ..) = tap(&app, &animator, bookings[0], "present", &back).await;
    assert_eq!(status, 303, "own group");
    let (status, _, page) = tap(&app, &animator, bookings[2], "present", &back).await;
    assert_eq!(status, 403, "{page}");
    let (status, ..) = post(
        &app,
        &animator,
        &app.city,
        &format!("/agent/pointage/groupes/{group_b}/tous-presents"),
        &[("jour", &today()), ("retour", &back)],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(state_of(&app, &app.city, bookings[2]).await.state, "booked");
    let denied = query_text(
        &app,
        &app.city,
        "SELECT after::text AS v FROM audit_log WHERE table_name = 'permissions'
            AND op = 'DENIED' AND user_id = 'agent:' || $1",
        animator_id,
    )
    .await;
    assert!(
        denied
            .iter()
            .any(|d| d.contains(&format!("group:{group_b}"))),
        "refusal audited: {denied:?}"
    );

    // Put on group B's staff today, the animator takes its attendance today.
    execute(
        &app,
        &app.city,
        "INSERT INTO staff_assignments (group_id, day, name, agent_id, present)
         VALUES ($1, current_date, 'Animatrice de test', $2, true)",
        group_b,
        animator_id,
    )
    .await;
    let (status, ..) = tap(&app, &animator, bookings[2], "present", &back).await;
    assert_eq!(status, 303, "staffed on B today");

    // A director marks in their structure, not in another one.
    let (director, _) = agent_over(
        &app,
        &app.city,
        "structure_director",
        &format!("structure:{structure}"),
    )
    .await;
    let (status, ..) = tap(&app, &director, bookings[1], "absent_unjustified", &back).await;
    assert_eq!(status, 303);
    let (elsewhere, _) = agent_over(
        &app,
        &app.city,
        "structure_director",
        &format!("structure:{}", structure + 1000),
    )
    .await;
    let (status, ..) = tap(&app, &elsewhere, bookings[1], "present", &back).await;
    assert_eq!(status, 403);
    let (status, page) = get(&app, &elsewhere, &app.city, &back).await;
    assert_eq!(status, 200);
    assert!(page.contains("Aucun groupe de cette liste ne vous est ouvert"));
}

#[actix_web::test]
async fn another_citys_ids_answer_404() {
    let app = TestApp::spawn().await;
    let (activity, group, kids, bookings) = canteen_with_three(&app, "cantine-ici").await;
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let (status, ..) = post(
        &app,
        &admin,
        &app.city,
        &format!("/agent/pointage/groupes/{group}/encadrants"),
        &[("nom", "Inès Moreau"), ("jour", &today())],
    )
    .await;
    assert_eq!(status, 303);
    let staff: i64 = query_text(
        &app,
        &app.city,
        "SELECT id::text AS v FROM staff_assignments WHERE group_id = $1",
        group,
    )
    .await[0]
        .parse()
        .unwrap();

    let other: Arc<City> = app.add_city("Autreville").await;
    let login = app
        .agent_in(&other, "Admin d'ailleurs", &["city_admin"])
        .await;
    let theirs = app.client();
    let answer = app
        .sign_in(&theirs, &other, "/agent", &login, AGENT_PASSWORD)
        .await;
    assert_eq!(answer.status(), 303);

    for (path, fields) in [
        (
            format!("/agent/pointage/reservations/{}", bookings[0]),
            vec![("etat", "present")],
        ),
        (
            format!("/agent/pointage/reservations/{}/cahier", bookings[0]),
            vec![("type", "note"), ("texte", "intrusion")],
        ),
        (
            format!("/agent/pointage/groupes/{group}/tous-presents"),
            vec![("jour", "")],
        ),
        (
            format!("/agent/pointage/groupes/{group}/encadrants"),
            vec![("nom", "Intrus")],
        ),
        (
            format!("/agent/pointage/encadrants/{staff}"),
            vec![("present", "0")],
        ),
        (
            format!("/agent/pointage/encadrants/{staff}/retirer"),
            vec![],
        ),
        (
            format!("/agent/pointage/activites/{activity}/sans-reservation"),
            vec![("enfant", "1"), ("unite", "repas")],
        ),
    ] {
        let (status, _, body) = post(&app, &theirs, &other, &path, &fields).await;
        assert_eq!(status, 404, "POST {path}: {body}");
    }
    for path in [
        format!("/agent/pointage/reservations/{}/cahier", bookings[0]),
        list_path(activity),
        format!("/agent/pointage/liste?groupe={group}"),
        format!("/agent/pointage/export?activite={activity}"),
    ] {
        let (status, body) = get(&app, &theirs, &other, &path).await;
        assert_eq!(status, 404, "GET {path}: {body}");
    }
    // Our child in their activity (created now: ids are per city, ours must be unknown
    // there during the probes above): unknown there.
    let (their_activity, _, _) = canteen(&app, &other, "cantine-ailleurs").await;
    let child = kids[0].to_string();
    let (status, _, body) = post(
        &app,
        &theirs,
        &other,
        &format!("/agent/pointage/activites/{their_activity}/sans-reservation"),
        &[("enfant", &child), ("unite", "repas"), ("jour", &today())],
    )
    .await;
    assert_eq!(status, 404, "{body}");
    // Nothing changed here.
    assert_eq!(state_of(&app, &app.city, bookings[0]).await.state, "booked");
}

#[actix_web::test]
async fn a_class_list_shows_its_pupils_whatever_the_activity() {
    let app = TestApp::spawn().await;
    let (_, _, kids, _) = canteen_with_three(&app, "cantine-classe").await;
    let pupil = kids[0];
    let year = marelle::domain::activity::facts::school_year(clock::today());
    let class: i64 = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                #[derive(QueryableByName)]
                struct Id {
                    #[diesel(sql_type = BigInt)]
                    id: i64,
                }
                let class: Id = diesel::sql_query(
                    "WITH s AS (INSERT INTO schools (name, kind) VALUES ('École du Centre', 'primaire')
                                RETURNING id)
                     INSERT INTO school_classes (school_id, school_year, name, levels, teacher)
                     SELECT s.id, $1, 'CE2 B', ARRAY['CE2'], 'M. Robert' FROM s RETURNING id",
                )
                .bind::<Text, _>(&year)
                .get_result(conn)
                .await?;
                diesel::sql_query(
                    "INSERT INTO school_history (child_id, school_year, school_id, school_name, level,
                                                 class_name, teacher, class_id)
                     SELECT $1, c.school_year, c.school_id, 'École du Centre', 'CE2', c.name,
                            c.teacher, c.id FROM school_classes c WHERE c.id = $2",
                )
                .bind::<BigInt, _>(pupil)
                .bind::<BigInt, _>(class.id)
                .execute(conn)
                .await?;
                Ok(class.id)
            })
        })
        .await
        .unwrap();
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let (status, page) = get(
        &app,
        &admin,
        &app.city,
        &format!("/agent/pointage/liste?jour={}&classe={class}", today()),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Pointage — CE2 B — École du Centre (M. Robert)"),
        "{page}"
    );
    assert!(page.contains(name_of(&app, kids[0]).await.as_str()));
    assert!(!page.contains(name_of(&app, kids[1]).await.as_str()));
    let (_, index) = get(&app, &admin, &app.city, "/agent/pointage").await;
    assert!(
        index.contains("École du Centre — CE2 B (M. Robert)"),
        "{index}"
    );
}

#[actix_web::test]
async fn the_demo_seeding_marks_past_days_plans_staff_and_runs_once() {
    let app = TestApp::spawn().await;
    let (activity, group, _, bookings) = canteen_with_three(&app, "cantine-demo").await;
    // Yesterday's bookings (moved back a day), today's untouched.
    execute(
        &app,
        &app.city,
        "UPDATE bookings SET day = day - 1 WHERE activity_id = $1 AND id <> $2",
        activity,
        bookings[2],
    )
    .await;
    let seed = || async {
        app.db()
            .run(app.city.scope("demo"), |conn| {
                Box::pin(async move {
                    marelle::domain::attendance::seed_demo_attendance(conn, clock::today()).await
                })
            })
            .await
            .unwrap()
    };
    let first = seed().await;
    assert_eq!(first.marked, 2, "{first:?}");
    assert!(first.staff >= 2, "yesterday's and today's team: {first:?}");
    assert_eq!(state_of(&app, &app.city, bookings[2]).await.state, "booked");
    for booking in &bookings[..2] {
        let row = state_of(&app, &app.city, *booking).await;
        assert!(
            row.state == "present" || row.state.starts_with("absent"),
            "{row:?}"
        );
        assert_eq!(row.state_by, "démonstration");
    }
    let staff = query_text(
        &app,
        &app.city,
        "SELECT name || ':' || present AS v FROM staff_assignments WHERE group_id = $1
          ORDER BY day, name",
        group,
    )
    .await;
    assert_eq!(staff.len(), 2, "{staff:?}");
    let again = seed().await;
    assert_eq!((again.marked, again.staff, again.notes), (0, 0, 0));
}
