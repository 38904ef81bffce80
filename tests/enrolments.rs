//! Enrolment through the back-office pages, as an agent without JavaScript works it: a
//! request, completeness, commission score and opinion, decision, appeal, admission without
//! re-entry, the enrolment waitlist offered on a withdrawal (mail and task), mass enrolment
//! of a class; refusals in French that change nothing; read-only profiles and other cities.

mod common;

use common::fixtures::*;
use common::pages::*;
use common::smtp::SmtpServer;
use common::*;
use marelle::domain::activity::catalogue;
use marelle::domain::activity::commission::Criterion;
use marelle::domain::activity::enrolment::{self, EnrolmentView};
use marelle::domain::activity::facts::school_year;
use marelle::domain::activity::schools::{self, NewClass, NewSchool};
use marelle::platform::clock;

async fn enrolment_of(app: &TestApp, id: i64) -> EnrolmentView {
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move { enrolment::get(conn, id).await })
        })
        .await
        .unwrap()
}

/// Files a request for `child` on `activity` from the « Nouvelle demande » form.
async fn file_request(app: &TestApp, agent: &reqwest::Client, child: i64, activity: i64) -> i64 {
    let today = clock::today().format("%Y-%m-%d").to_string();
    let (status, location, page) = post(
        app,
        agent,
        "/agent/inscriptions",
        &[
            ("child_id", &child.to_string()),
            ("activity_id", &activity.to_string()),
            ("starts", &today),
            ("week", "wed:day"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    id_in(&location)
}

#[actix_web::test]
async fn a_request_goes_through_commission_to_admission_without_re_entry() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let kids = children(&app, &app.city, 6, 41).await;
    let sport = activity(&app, &app.city, "sport", Some(12)).await;
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                catalogue::add_criterion(
                    conn,
                    sport,
                    &Criterion {
                        kind: "resident".into(),
                        parameter: String::new(),
                        weight: 30,
                    },
                )
                .await
            })
        })
        .await
        .unwrap();

    let id = file_request(&app, &agent, kids[0], sport).await;
    let (status, page) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/inscriptions/{id}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Demande enregistrée") || page.contains("enregistrée"),
        "{page}"
    );
    assert!(page.contains("Saisie par un agent"), "{page}");

    // The list shows it, filtered by activity.
    let (_, list) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/inscriptions?activite={sport}"),
    )
    .await;
    let view = enrolment_of(&app, id).await;
    assert!(list.contains(&view.child_name), "{list}");

    // Commission: the score comes from the criteria; the commission adds its points.
    let path = format!("/agent/inscriptions/{id}");
    let (status, _, page) = post(&app, &agent, &format!("{path}/commission"), &[]).await;
    assert_eq!(status, 303, "{page}");
    let scored = enrolment_of(&app, id).await;
    assert_eq!(scored.status, "commission");
    assert!(scored.score.is_some());
    let (status, _, page) = post(
        &app,
        &agent,
        &format!("{path}/avis"),
        &[("note", "Fratrie déjà accueillie"), ("points", "abc")],
    )
    .await;
    assert_eq!(status, 422, "points that are not a number are refused");
    assert!(
        page.contains("les points de la commission sont un nombre entier"),
        "{page}"
    );
    assert_eq!(
        enrolment_of(&app, id).await.opinion,
        "",
        "nothing was recorded"
    );
    let (status, _, _) = post(
        &app,
        &agent,
        &format!("{path}/avis"),
        &[("note", "Fratrie déjà accueillie"), ("points", "5")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = get(&app, &agent, &app.city, &path).await;
    assert!(page.contains("Points de la commission"), "{page}");
    assert!(page.contains("Fratrie déjà accueillie"), "{page}");

    // A decision must be chosen; then refused → appeal → back to commission → accepted.
    let (status, _, page) = post(&app, &agent, &format!("{path}/decision"), &[("note", "")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("choisissez une décision"), "{page}");
    let (status, _, _) = post(
        &app,
        &agent,
        &format!("{path}/decision"),
        &[("decision", "refused"), ("note", "Groupe complet")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(enrolment_of(&app, id).await.status, "refused");
    let (status, _, _) = post(
        &app,
        &agent,
        &format!("{path}/recours"),
        &[("note", "Mutation professionnelle")],
    )
    .await;
    assert_eq!(status, 303);
    let appealed = enrolment_of(&app, id).await;
    assert_eq!(appealed.appeal_reason, "Mutation professionnelle");
    let (status, _, _) = post(
        &app,
        &agent,
        &format!("{path}/decision"),
        &[("decision", "accepted")],
    )
    .await;
    assert_eq!(status, 303);

    // Admission keeps everything the request carried: nothing is typed again.
    let (status, _, _) = post(
        &app,
        &agent,
        &format!("{path}/admission"),
        &[("group_id", "")],
    )
    .await;
    assert_eq!(status, 303);
    let admitted = enrolment_of(&app, id).await;
    assert_eq!(admitted.status, "admitted");
    assert_eq!(admitted.child_id, kids[0]);
    assert_eq!(admitted.starts, clock::today());
    assert_eq!(admitted.wished_week, serde_json::json!({"wed": ["day"]}));
    let (_, page) = get(&app, &agent, &app.city, &path).await;
    assert!(page.contains("Admise"), "{page}");
    let (_, child_page) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/enfants/{}", kids[0]),
    )
    .await;
    assert!(
        child_page.contains(&format!("/agent/inscriptions/{id}")) && child_page.contains("Admise"),
        "the child's page lists the enrolment: {child_page}"
    );
    let household = admitted.household_id.expect("the child has a household");
    let (_, household_page) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/familles/{household}"),
    )
    .await;
    assert!(
        household_page.contains(&format!("<a href=\"/agent/inscriptions/{id}\">")),
        "the household's synthetic view shows it: {household_page}"
    );
}

#[actix_web::test]
async fn a_withdrawal_offers_the_place_to_the_first_waiting_child_by_mail_and_task() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_configured(|config| use_smtp(config, &smtp)).await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let kids = children(&app, &app.city, 8, 42).await;
    let sport = activity(&app, &app.city, "sport", Some(12)).await;

    let first = file_request(&app, &agent, kids[0], sport).await;
    post(
        &app,
        &agent,
        &format!("/agent/inscriptions/{first}/admission"),
        &[],
    )
    .await;
    let waiting = file_request(&app, &agent, kids[1], sport).await;
    let (status, _, _) = post(
        &app,
        &agent,
        &format!("/agent/inscriptions/{waiting}/decision"),
        &[("decision", "waitlisted")],
    )
    .await;
    assert_eq!(status, 303);

    let (status, _, page) = post(
        &app,
        &agent,
        &format!("/agent/inscriptions/{first}/retrait"),
        &[("leaving", &clock::today().format("%Y-%m-%d").to_string())],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    assert_eq!(enrolment_of(&app, first).await.status, "ended");
    let offered = enrolment_of(&app, waiting).await;
    assert_eq!(offered.status, "offered");
    assert!(offered.offer_deadline.is_some());
    let (_, page) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/inscriptions/{waiting}"),
    )
    .await;
    assert!(
        page.contains("Place proposée") && page.contains("réponse attendue avant le"),
        "{page}"
    );
    let (_, dashboard) = get(&app, &agent, &app.city, "/agent/").await;
    assert!(
        dashboard.contains(&format!("/agent/inscriptions/{waiting}"))
            && dashboard.contains("Place proposée à"),
        "the agents' task is on the dashboard: {dashboard}"
    );
    let mail = smtp
        .wait_for(
            |m| m.subject.starts_with("Une place est proposée à"),
            std::time::Duration::from_secs(10),
        )
        .await;
    assert!(
        mail.body_text.contains(&offered.child_name),
        "{}",
        mail.body_text
    );
}

#[actix_web::test]
async fn mass_enrolment_admits_a_class_once_and_reports_what_it_did() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let kids = children(&app, &app.city, 10, 43).await;
    let canteen = activity(&app, &app.city, "canteen", None).await;
    let year = school_year(clock::today());
    let pupils = kids[..4].to_vec();
    let class = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let school = schools::create_school(
                    conn,
                    &NewSchool {
                        name: "École Jules-Ferry".into(),
                        kind: "elementaire".into(),
                        address: String::new(),
                        capacity: None,
                    },
                )
                .await?;
                let class = schools::create_class(
                    conn,
                    &NewClass {
                        school_id: school,
                        school_year: year,
                        name: "CP A".into(),
                        levels: vec!["CP".into()],
                        teacher: "Mme Rivière".into(),
                        capacity: Some(25),
                    },
                )
                .await?;
                for child in pupils {
                    schools::place_pupil(conn, child, class, "CP").await?;
                }
                Ok((school, class))
            })
        })
        .await
        .unwrap();

    let (status, page) = get(&app, &agent, &app.city, "/agent/inscriptions/masse").await;
    assert_eq!(status, 200);
    assert!(page.contains("École Jules-Ferry — CP A"), "{page}");

    let today = clock::today().format("%Y-%m-%d").to_string();
    let fields = [
        ("activity_id", canteen.to_string()),
        ("school_id", class.0.to_string()),
        ("class_id", class.1.to_string()),
        ("starts", today.clone()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location, page) = post(&app, &agent, "/agent/inscriptions/masse", &fields).await;
    assert_eq!(status, 303, "{page}");
    let (_, list) = get(&app, &agent, &app.city, &location).await;
    assert!(
        list.contains("4 enfant(s) sélectionné(s) : 4 admis, 0 déjà inscrit(s)."),
        "{list}"
    );
    // Twice changes nothing.
    let (_, location, _) = post(&app, &agent, "/agent/inscriptions/masse", &fields).await;
    let (_, list) = get(&app, &agent, &app.city, &location).await;
    assert!(
        list.contains("4 enfant(s) sélectionné(s) : 0 admis, 4 déjà inscrit(s)."),
        "{list}"
    );

    // No school chosen: a French error, nothing enrolled.
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/inscriptions/masse",
        &[("activity_id", &canteen.to_string()), ("starts", &today)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("choisissez l'école"), "{page}");
}

#[actix_web::test]
async fn read_only_profiles_and_other_cities_cannot_touch_a_request() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let kids = children(&app, &app.city, 3, 44).await;
    let sport = activity(&app, &app.city, "sport", Some(12)).await;
    let id = file_request(&app, &agent, kids[0], sport).await;

    let (auditor, _) = app.agent_client(&["auditor"]).await;
    let (status, _) = get(
        &app,
        &auditor,
        &app.city,
        &format!("/agent/inscriptions/{id}"),
    )
    .await;
    assert_eq!(status, 200, "an auditor reads");
    let (status, _, _) = post(
        &app,
        &auditor,
        &format!("/agent/inscriptions/{id}/decision"),
        &[("decision", "refused")],
    )
    .await;
    assert_eq!(status, 403, "an auditor does not decide");
    assert_eq!(enrolment_of(&app, id).await.status, "requested");

    let other = app.add_city("Autreville").await;
    let stranger = app.client();
    let agent_b = app.agent_in(&other, "agent-b", &["city_admin"]).await;
    app.sign_in(&stranger, &other, "/agent", &agent_b, AGENT_PASSWORD)
        .await;
    let (status, _) = get(
        &app,
        &stranger,
        &other,
        &format!("/agent/inscriptions/{id}"),
    )
    .await;
    assert_eq!(status, 404, "another city's request does not exist here");
    let (status, _, _) = post_in(
        &app,
        &stranger,
        &other,
        &format!("/agent/inscriptions/{id}/admission"),
        &[],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(enrolment_of(&app, id).await.status, "requested");
}
