//! Class options against a real PostgreSQL (TAR-01, TAR-02): a class marked « Classe ULIS »
//! through the back-office forms (French refusals, CSRF, rights, other cities kept out), a
//! child of a family living outside the city placed in it, the enrolment admitted with the
//! « triple tariff » the city's assignment rules give (outside + schooled in the city + ULIS)
//! and its French explanation, and the simulation API pricing with it.

mod common;
mod pricing_fixtures;

use common::api::Api;
use common::fixtures::open_dates;
use common::pages::{get, post, post_in};
use common::*;
use marelle::domain::activity::enrolment::{self, Channel, NewRequest};
use marelle::domain::activity::facts::school_year;
use marelle::domain::activity::model::CitySettings;
use marelle::domain::activity::schools::{self, ClassView, NewSchool};
use marelle::domain::tariffs::{assignment, grids};
use marelle::platform::clock;
use pricing_fixtures::*;
use serde_json::json;

/// The canteen: 4.00 € a meal, 30 % more outside the city unless the child is in a ULIS
/// class; the triple tariff (assigned at enrolment) is 2.50 €.
const GRID: &str = r#"activity = "cantine"
unit_labels = { repas = "repas" }

[[versions]]
valid_from = "2025-09-01"
rules = [
    { id = "cantine-triple-tarif", when = { tariffs = ["exterieur-ulis"] }, price = { kind = "flat", amount = "2.50" } },
    { id = "cantine-base", price = { kind = "flat", amount = "4.00" } },
]
adjustments = [ { id = "hors-commune", label = "Majoration hors commune", when = { residences = ["outside_city", "outside_intercommunality"], without_options = ["ulis"] }, effect = { percent = "30" } } ]
"#;

const RULES: &str = r#"[[rules]]
tariff = "exterieur-ulis"
label = "Triple tarif ULIS"
valid_from = "2025-09-01"
when = { residences = ["outside_city", "outside_intercommunality"], with_options = ["schooled_in_city", "ulis"] }

[[rules]]
tariff = "exterieur-scolarise"
label = "Extérieur scolarisé dans la commune"
valid_from = "2025-09-01"
when = { residences = ["outside_city", "outside_intercommunality"], with_options = ["schooled_in_city"] }

[[rules]]
tariff = "resident"
label = "Résident"
valid_from = "2025-09-01"
"#;

const EXPLANATION: &str = "Tarif « Triple tarif ULIS » attribué automatiquement : domicilié hors \
                           commune ou domicilié hors intercommunalité, avec scolarisation dans une \
                           école de la ville et classe ULIS";

async fn classes_of(app: &TestApp, school: i64, year: &str) -> Vec<ClassView> {
    let year = year.to_string();
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move { schools::classes(conn, school, &year).await })
        })
        .await
        .unwrap()
}

async fn settings_of(app: &TestApp) -> CitySettings {
    let name = app.city.name.clone();
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move { CitySettings::read(conn, &name).await })
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_ulis_class_gives_the_triple_tariff_at_admission_and_in_the_simulation() {
    let app = TestApp::spawn().await;
    let canteen = canteen_with_grid(&app, &app.city).await;
    app.db()
        .run(app.city.scope("test"), |conn| {
            Box::pin(async move {
                let by = grids::Authorship {
                    author: "test",
                    comment: "triple tarif",
                };
                grids::save_grid(conn, "cantine", GRID, by).await
            })
        })
        .await
        .unwrap();
    // A family of Feyzin (outside the city) with a QF: Lina and Noé.
    let (household, kids) = family(&app, &app.city, "Feyzin", Some(742)).await;
    let (lina, noe) = (kids[0], kids[1]);
    let first_day = open_dates(&app, &app.city, canteen, 1).await[0];
    let year = school_year(first_day);
    let school = app
        .db()
        .run(app.city.scope("test"), |conn| {
            Box::pin(async move {
                let new = NewSchool {
                    name: "École Jules-Ferry".into(),
                    kind: "elementaire".into(),
                    address: String::new(),
                    capacity: None,
                };
                schools::create_school(conn, &new).await
            })
        })
        .await
        .unwrap();
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let school_page = format!("/agent/ecoles/{school}?annee={year}");
    let (_, page) = get(&app, &agent, &app.city, &school_page).await;
    assert!(page.contains("name=\"ulis\""), "the checkbox: {page}");
    assert!(page.contains("Classe ULIS"), "{page}");

    // Two classes: « CE-CM » created as a plain class, « ULIS école » created ticked.
    let classes = format!("/agent/ecoles/{school}/classes");
    let levels = ["CE1", "CE2", "CM1", "CM2"];
    let mut fields = vec![
        ("school_year", year.as_str()),
        ("name", "CE-CM"),
        ("teacher", "M. Nguyen"),
    ];
    fields.extend(levels.iter().map(|l| ("levels", *l)));
    let (status, location, page) = post(&app, &agent, &classes, &fields).await;
    assert_eq!(
        (status, location.as_str()),
        (303, school_page.as_str()),
        "{page}"
    );
    // A checkbox value the form never sends is refused in French, nothing is created.
    let mut refused = fields.clone();
    refused[1] = ("name", "ULIS école");
    refused.push(("ulis", "peut-être"));
    let (status, _, page) = post(&app, &agent, &classes, &refused).await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("valeur « peut-être » inattendue pour la case « Classe ULIS »"),
        "{page}"
    );
    assert_eq!(classes_of(&app, school, &year).await.len(), 1);
    let ulis_fields = {
        let mut f = refused.clone();
        f.pop();
        f.push(("ulis", "1"));
        f
    };
    let (status, _, page) = post(&app, &agent, &classes, &ulis_fields).await;
    assert_eq!(status, 303, "{page}");
    let found = classes_of(&app, school, &year).await;
    let plain = found.iter().find(|c| c.name == "CE-CM").unwrap().id;
    let ulis = found.iter().find(|c| c.name == "ULIS école").unwrap();
    assert!(ulis.options.ulis);
    assert!(!found.iter().find(|c| c.id == plain).unwrap().options.ulis);
    let ulis = ulis.id;

    // Lina is placed in the ULIS class, Noé in the other one.
    for (class, child, level) in [(ulis, lina, "CM1"), (plain, noe, "CE1")] {
        let (status, _, page) = post(
            &app,
            &agent,
            &format!("/agent/ecoles/{school}/classes/{class}/eleves"),
            &[("child_id", &child.to_string()), ("level", level)],
        )
        .await;
        assert_eq!(status, 303, "{page}");
    }

    // Editing the ULIS class: refusals in French, what was typed kept.
    let edit = format!("/agent/ecoles/{school}/classes/{ulis}");
    let (status, _, page) = post(
        &app,
        &agent,
        &edit,
        &[("name", "ULIS école"), ("levels", "CE1"), ("ulis", "1")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("des élèves de la classe sont en CM1 : gardez ce niveau"),
        "{page}"
    );
    let (status, _, page) = post(
        &app,
        &agent,
        &edit,
        &[
            ("name", "ULIS école"),
            ("levels", "CM1"),
            ("capacity", "-2"),
            ("ulis", "1"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("la capacité ne peut pas être négative"),
        "{page}"
    );
    let (status, _, page) = post(
        &app,
        &agent,
        &edit,
        &[("name", "CE-CM"), ("levels", "CM1"), ("ulis", "1")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("l'école a déjà une classe « CE-CM »"),
        "{page}"
    );
    // Unticked, then ticked again through the edit form: the class list says so.
    for ulis_field in [None, Some("1")] {
        let mut fields = vec![
            ("name", "ULIS école"),
            ("teacher", "Mme Benoît"),
            ("capacity", "12"),
        ];
        fields.extend(levels.iter().map(|l| ("levels", *l)));
        fields.extend(ulis_field.map(|v| ("ulis", v)));
        let (status, location, page) = post(&app, &agent, &edit, &fields).await;
        assert_eq!(
            (status, location.as_str()),
            (303, school_page.as_str()),
            "{page}"
        );
        let stored = classes_of(&app, school, &year).await;
        let class = stored.iter().find(|c| c.id == ulis).unwrap();
        assert_eq!(class.options.ulis, ulis_field.is_some());
        assert_eq!(class.teacher, "Mme Benoît");
        assert_eq!(class.capacity, Some(12));
    }
    let (_, page) = get(&app, &agent, &app.city, &school_page).await;
    assert!(
        page.contains("Mme Benoît — <strong>Classe ULIS</strong>"),
        "the class list: {page}"
    );
    assert!(!page.contains("M. Nguyen — <strong>Classe ULIS"), "{page}");
    // Without the CSRF token, nothing.
    let response = agent
        .post(app.city_url(&app.city, &edit))
        .form(&[("name", "ULIS école"), ("levels", "CM1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);

    // The assignment rules next to the grid.
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/tarifs/cantine/attribution",
        &[("text", RULES), ("comment", "Délibération triple tarif")],
    )
    .await;
    assert_eq!(status, 303, "{page}");

    // Before any enrolment, the simulation applies what the rules would give.
    let api = Api::new(&app, &app.city, "school_agent").await;
    let month = first_day.format("%Y-%m").to_string();
    let body = |child: i64| {
        json!({
            "family_id": household,
            "child_id": child,
            "activity": "cantine",
            "month": month,
            "week": [{ "weekday": "mon", "unit": "repas" }, { "weekday": "thu", "unit": "repas" }],
        })
    };
    let (status, answer) = api.post("/api/v1/pricing/simulation", body(lina)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["situation"]["tariff"], "exterieur-ulis", "{answer}");
    let told = answer["situation"]["tariff_explanation"].as_str().unwrap();
    assert!(told.contains("Sans inscription admise"), "{told}");
    assert!(told.contains(EXPLANATION), "{told}");

    // Lina's and Noé's admissions.
    let settings = settings_of(&app).await;
    let mut admitted = Vec::new();
    for child in [lina, noe] {
        let settings = settings.clone();
        let request = app
            .db()
            .run(app.city.scope("test"), move |conn| {
                Box::pin(async move {
                    let new = NewRequest {
                        child_id: child,
                        activity_id: canteen,
                        starts: first_day,
                        ..NewRequest::default()
                    };
                    enrolment::request(conn, &settings, &new, Channel::Agent, clock::now()).await
                })
            })
            .await
            .unwrap();
        let (status, _, page) = post(
            &app,
            &agent,
            &format!("/agent/inscriptions/{}/admission", request.id),
            &[],
        )
        .await;
        assert_eq!(status, 303, "{page}");
        admitted.push(request.id);
    }
    let (_, page) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/inscriptions/{}", admitted[0]),
    )
    .await;
    assert!(
        page.contains(
            "Tarif de l'inscription : <strong>Triple tarif ULIS</strong> (code <code>exterieur-ulis</code>)"
        ),
        "{page}"
    );
    assert!(page.contains(EXPLANATION), "{page}");
    let tariffs = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let mut found = Vec::new();
                for id in admitted {
                    found.push(assignment::tariff_of(conn, id).await?);
                }
                Ok(found)
            })
        })
        .await
        .unwrap();
    assert_eq!(tariffs[0].tariff.as_deref(), Some("exterieur-ulis"));
    assert_eq!(tariffs[0].tariff_explanation.as_deref(), Some(EXPLANATION));
    assert_eq!(tariffs[0].tariff_source.as_deref(), Some("automatic"));
    assert_eq!(
        tariffs[1].tariff.as_deref(),
        Some("exterieur-scolarise"),
        "Noé's class is not a ULIS class"
    );

    // The simulation API prices Lina's month with the triple tariff of her enrolment, Noé's
    // at 4.00 € + 30 %.
    let (status, answer) = api.post("/api/v1/pricing/simulation", body(lina)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["situation"]["tariff"], "exterieur-ulis", "{answer}");
    assert_eq!(
        answer["situation"]["tariff_explanation"], EXPLANATION,
        "{answer}"
    );
    assert_eq!(
        answer["situation"]["options"],
        json!(["schooled_in_city", "ulis"])
    );
    assert_eq!(answer["situation"]["residence"], "outside_intercommunality");
    let lines = answer["lines"].as_array().unwrap();
    assert!(!lines.is_empty(), "{answer}");
    for line in lines {
        assert_eq!(line["rule_id"], "cantine-triple-tarif", "{answer}");
        assert_eq!(line["amount"], "2.50");
    }
    let total: f64 = answer["total"].as_str().unwrap().parse().unwrap();
    assert!((total - 2.5 * lines.len() as f64).abs() < 1e-9, "{answer}");
    let (_, answer) = api.post("/api/v1/pricing/simulation", body(noe)).await;
    assert_eq!(answer["situation"]["options"], json!(["schooled_in_city"]));
    assert_eq!(answer["lines"][0]["rule_id"], "cantine-base", "{answer}");
    assert_eq!(answer["lines"][0]["amount"], "5.20", "{answer}");
}

#[actix_web::test]
async fn a_class_is_changed_only_by_its_city_its_school_and_the_schools_right() {
    let app = TestApp::spawn().await;
    let year = school_year(clock::today());
    let wanted = year.clone();
    let (school, other_school, class) = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let new = |name: &str| NewSchool {
                    name: name.into(),
                    kind: "elementaire".into(),
                    address: String::new(),
                    capacity: None,
                };
                let school = schools::create_school(conn, &new("École Jules-Ferry")).await?;
                let other = schools::create_school(conn, &new("École Pasteur")).await?;
                let class = schools::create_class(
                    conn,
                    &schools::NewClass {
                        school_id: school,
                        school_year: wanted,
                        name: "CM2".into(),
                        levels: vec!["CM2".into()],
                        teacher: String::new(),
                        capacity: None,
                    },
                )
                .await?;
                Ok((school, other, class))
            })
        })
        .await
        .unwrap();
    let fields = [("name", "CM2"), ("levels", "CM2"), ("ulis", "1")];
    let edit = format!("/agent/ecoles/{school}/classes/{class}");

    // Another city's agent: its own host knows no such school nor class.
    let other = app.add_city("Voisinville").await;
    let login = app.agent_in(&other, "Agent voisin", &["city_admin"]).await;
    let neighbour = app.client();
    app.sign_in(&neighbour, &other, "/agent", &login, AGENT_PASSWORD)
        .await;
    let (status, _, _) = post_in(&app, &neighbour, &other, &edit, &fields).await;
    assert_eq!(status, 404, "another city's class");
    // The class under another school of the city is not found either.
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let (status, _, _) = post(
        &app,
        &agent,
        &format!("/agent/ecoles/{other_school}/classes/{class}"),
        &fields,
    )
    .await;
    assert_eq!(status, 404, "a class of another school");
    let (status, _, _) = post(
        &app,
        &agent,
        &format!("/agent/ecoles/{school}/classes/999999"),
        &fields,
    )
    .await;
    assert_eq!(status, 404);
    // An auditor reads the schools but changes nothing (and sees no form).
    let (auditor, _) = app.agent_client(&["auditor"]).await;
    let (status, page) = get(
        &app,
        &auditor,
        &app.city,
        &format!("/agent/ecoles/{school}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!page.contains(&format!("action=\"{edit}\"")), "{page}");
    let (status, _, _) = post(&app, &auditor, &edit, &fields).await;
    assert_eq!(status, 403);
    assert!(
        classes_of(&app, school, &year)
            .await
            .iter()
            .all(|c| !c.options.ulis),
        "nothing changed"
    );
    // The city's agent does.
    let (status, _, page) = post(&app, &agent, &edit, &fields).await;
    assert_eq!(status, 303, "{page}");
    assert!(classes_of(&app, school, &year).await[0].options.ulis);
}

#[actix_web::test]
async fn the_demo_shows_a_ulis_pupil_with_the_triple_tariff() {
    use marelle::domain::booking::store::Calendar;
    let app = TestApp::spawn().await;
    common::fixtures::children(&app, &app.city, 40, 7).await;
    let settings = settings_of(&app).await;
    let (pupils, tariffs) = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let calendar = Calendar {
                    school: marelle::domain::calendar::holidays::shipped(),
                    now: clock::now(),
                };
                let today = clock::today();
                marelle::domain::activity::demo::seed(conn, &settings, &calendar, today).await?;
                marelle::domain::tariffs::seed_demo_tariffs(conn, &settings).await?;
                #[derive(diesel::QueryableByName)]
                struct Row {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    child_id: i64,
                    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
                    tariff: Option<String>,
                    #[diesel(sql_type = diesel::sql_types::Bool)]
                    ulis: bool,
                }
                use diesel_async::RunQueryDsl;
                let rows: Vec<Row> = diesel::sql_query(
                    "SELECT e.child_id, e.tariff, c.ulis FROM enrolments e
                       JOIN school_history h ON h.child_id = e.child_id AND h.school_year = $1
                       JOIN school_classes c ON c.id = h.class_id
                      WHERE e.status = 'admitted' ORDER BY e.id",
                )
                .bind::<diesel::sql_types::Text, _>(school_year(today))
                .load(conn)
                .await?;
                let pupils: Vec<i64> = rows.iter().filter(|r| r.ulis).map(|r| r.child_id).collect();
                let tariffs: Vec<(bool, Option<String>)> =
                    rows.into_iter().map(|r| (r.ulis, r.tariff)).collect();
                Ok((pupils, tariffs))
            })
        })
        .await
        .unwrap();
    assert!(
        !pupils.is_empty(),
        "the ULIS pupil is enrolled: {tariffs:?}"
    );
    assert!(pupils.iter().all(|p| *p == pupils[0]), "one pupil");
    for (ulis, tariff) in &tariffs {
        let expected = if *ulis {
            "exterieur-ulis"
        } else {
            // The synthetic families live in Corbas, outside the test city.
            "exterieur-scolarise"
        };
        assert_eq!(tariff.as_deref(), Some(expected), "{tariffs:?}");
    }
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let (_, page) = get(&app, &agent, &app.city, "/agent/ecoles").await;
    let primary = page
        .split("<a href=\"/agent/ecoles/")
        .find(|part| part.contains("École élémentaire Jules-Ferry"))
        .and_then(|part| part.split('"').next())
        .expect("the demo's elementary school")
        .to_string();
    let (_, page) = get(&app, &agent, &app.city, &format!("/agent/ecoles/{primary}")).await;
    assert!(
        page.contains(
            "ULIS école <small>— CP, CE1, CE2, CM1, CM2 — Mme Benoît — <strong>Classe ULIS</strong>"
        ),
        "{page}"
    );
}
