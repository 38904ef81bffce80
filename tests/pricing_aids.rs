//! Aids (TAR-05) and automatic tariff assignment (TAR-02) in the back-office against a real
//! PostgreSQL: the aid catalogue edited with French validation, versioned and audited; aids
//! granted to a household from its page (refusals in French, ended, audited, in the RGPD
//! export, in the household's quote); assignment rules edited next to the grid; the tariff
//! given at admission and by mass enrolment, shown on the enrolment and child pages, used by
//! the quote, changed by an agent with a reason; read-only profiles and other cities kept out.

mod common;
mod pricing_fixtures;

use common::fixtures::{children, open_dates};
use common::pages::{get, post, post_in};
use common::*;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use marelle::domain::activity::enrolment::{self, Channel, NewRequest};
use marelle::domain::activity::facts::school_year;
use marelle::domain::activity::model::CitySettings;
use marelle::domain::activity::schools::{self, NewClass, NewSchool};
use marelle::domain::tariffs::{aids, assignment, grids};
use marelle::platform::clock;
use marelle::platform::tenancy::City;
use pricing_fixtures::*;

#[derive(QueryableByName)]
struct Audited {
    #[diesel(sql_type = Text)]
    op: String,
    #[diesel(sql_type = Text)]
    user_id: String,
}

/// The audit trail of `table`, oldest first.
async fn trail(app: &TestApp, city: &City, table: &'static str) -> Vec<(String, String)> {
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                let rows: Vec<Audited> = diesel::sql_query(
                    "SELECT op, user_id FROM audit_log WHERE table_name = $1 ORDER BY id",
                )
                .bind::<Text, _>(table)
                .load(conn)
                .await?;
                Ok(rows.into_iter().map(|r| (r.op, r.user_id)).collect())
            })
        })
        .await
        .unwrap()
}

async fn grants(app: &TestApp, city: &City, household: i64) -> Vec<aids::Grant> {
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move { aids::grants_of(conn, household).await })
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn an_aid_catalogue_is_edited_and_aids_are_granted_from_the_household_page() {
    let app = TestApp::spawn().await;
    canteen_with_grid(&app, &app.city).await;
    let (household, kids) = family(&app, &app.city, &app.city.name, Some(742)).await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;

    let (status, page) = get(&app, &agent, &app.city, "/agent/tarifs").await;
    assert_eq!(status, 200);
    assert!(page.contains("href=\"/agent/tarifs/aides\""), "{page}");
    let (status, page) = get(&app, &agent, &app.city, "/agent/tarifs/aides").await;
    assert_eq!(status, 200);
    assert!(page.contains("Aucune aide au catalogue."), "{page}");
    assert!(page.contains("[[aids]]"), "a model to adapt: {page}");

    // Refused in French, text kept, nothing saved.
    for (text, expected) in [
        (CATALOGUE.replace("\"50\"", "\"150\""), "au plus 100"),
        (
            CATALOGUE.replace("funder = \"ccas\"", "funder = \"mairie\""),
            "ligne 5",
        ),
        (
            CATALOGUE.replace("cap_per_period", "plafond"),
            "« plafond » est inconnu",
        ),
    ] {
        let (status, _, page) = post(&app, &agent, "/agent/tarifs/aides", &[("text", &text)]).await;
        assert_eq!(status, 422, "{expected}: {page}");
        assert!(page.contains("catalogue refusé"), "{page}");
        assert!(page.contains(expected), "{expected}: {page}");
    }
    // « Vérifier » tells the text in French and saves nothing.
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/tarifs/aides",
        &[("text", CATALOGUE), ("action", "verifier")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Le catalogue est valide ; rien n'a été enregistré."),
        "{page}"
    );
    assert!(
        page.contains("50\u{a0}% du prix, au plus 10,00\u{a0}€ par mois (par enfant)"),
        "{page}"
    );
    let recorded = trail(&app, &app.city, "setting_versions").await;
    assert!(
        !recorded.iter().any(|(_, user)| user.starts_with("agent:")),
        "nothing recorded by the agent: {recorded:?}"
    );

    let (status, location, page) = post(
        &app,
        &agent,
        "/agent/tarifs/aides",
        &[("text", CATALOGUE), ("comment", "Délibération du CCAS")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/agent/tarifs/aides"),
        "{page}"
    );
    let (_, page) = get(&app, &agent, &app.city, "/agent/tarifs/aides").await;
    assert!(page.contains("Coup de pouce cantine"), "{page}");
    assert!(page.contains("Aide du CCAS"), "{page}");
    assert!(page.contains("Délibération du CCAS"), "history: {page}");

    // The household page offers the aids of the catalogue.
    let household_page = format!("/agent/familles/{household}");
    let (_, page) = get(&app, &agent, &app.city, &household_page).await;
    assert!(page.contains("Aides attribuées"), "{page}");
    assert!(page.contains("Aucune aide attribuée."), "{page}");
    assert!(
        page.contains(&format!("action=\"/agent/familles/{household}/aides\"")),
        "{page}"
    );

    let grant_path = format!("/agent/familles/{household}/aides");
    let lina = kids[0].to_string();
    let (status, location, page) = post(
        &app,
        &agent,
        &grant_path,
        &[
            ("aid_id", "ccas-cantine"),
            ("child", &lina),
            ("valid_from", "2026-01-01"),
            ("reason", "Commission du CCAS du 12/12/2025"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, household_page.as_str()),
        "{page}"
    );
    let (_, page) = get(&app, &agent, &app.city, &household_page).await;
    assert!(page.contains("Aide attribuée à la famille."), "{page}");
    assert!(page.contains("<td>Lina DURAND</td>"), "{page}");
    assert!(page.contains("à partir du 01/01/2026"), "{page}");
    assert!(page.contains("Commission du CCAS du 12/12/2025"), "{page}");

    // Refusals in French: nothing granted.
    for (fields, expected) in [
        (
            vec![("aid_id", "ccas-cantine"), ("valid_from", "2026-03-01")],
            "la famille reçoit déjà l'aide « Coup de pouce cantine » à partir du 01/01/2026",
        ),
        (
            vec![("aid_id", "caf"), ("valid_from", "2026-03-01")],
            "aide « caf » inconnue du catalogue",
        ),
        (
            vec![
                ("aid_id", "ccas-cantine"),
                ("valid_from", "2025-01-01"),
                ("valid_to", "2025-06-30"),
            ],
            "n'est en vigueur que à partir du 01/09/2025",
        ),
        (
            vec![
                ("aid_id", "ccas-cantine"),
                ("valid_from", "2025-10-01"),
                ("valid_to", "2025-09-30"),
            ],
            "précède son début",
        ),
        (
            vec![("aid_id", "ccas-cantine"), ("valid_from", "")],
            "indiquez le début de l'aide",
        ),
        (
            vec![
                ("aid_id", "ccas-cantine"),
                ("valid_from", "2025-09-01"),
                ("valid_to", "2025-12-31"),
                ("child", "999999"),
            ],
            "l'enfant n° 999999 n'est pas un enfant de cette famille",
        ),
    ] {
        let (status, _, page) = post(&app, &agent, &grant_path, &fields).await;
        assert_eq!(status, 422, "{expected}: {page}");
        assert!(page.contains(expected), "{expected}: {page}");
    }
    assert_eq!(grants(&app, &app.city, household).await.len(), 1);

    // The household's quote applies the aid to Lina: six meals at 3.84 €, half each within
    // 10.00 € for May.
    let quote = format!(
        "/agent/familles/{household}/simulation?calculer=1&month=2026-05&child={lina}&slot=cantine%7Crepas%7C1&slot=cantine%7Crepas%7C4"
    );
    let (status, page) = get(&app, &agent, &app.city, &quote).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Aide du CCAS « Coup de pouce cantine » : 50\u{a0}% de 3,84\u{a0}€"),
        "{page}"
    );
    assert!(
        page.contains("dont Aide du CCAS « Coup de pouce cantine » (6 déduction(s))"),
        "{page}"
    );
    assert!(page.contains("13,04\u{a0}€"), "23.04 - 10.00: {page}");
    // Noé has none.
    let noe = format!(
        "/agent/familles/{household}/simulation?calculer=1&month=2026-05&child={}&slot=cantine%7Crepas%7C1&slot=cantine%7Crepas%7C4",
        kids[1]
    );
    let (_, page) = get(&app, &agent, &app.city, &noe).await;
    assert!(
        page.contains("23,04\u{a0}€") && !page.contains("Coup de pouce cantine » :"),
        "{page}"
    );

    // Ended: the page tells the period; ending it again is refused.
    let grant = grants(&app, &app.city, household).await[0].id;
    let end = format!("/agent/familles/{household}/aides/{grant}/fin");
    let (status, _, page) = post(&app, &agent, &end, &[("last_day", "2025-12-01")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("ne peut pas précéder le début"), "{page}");
    let (status, _, _) = post(&app, &agent, &end, &[("last_day", "2026-05-10")]).await;
    assert_eq!(status, 303);
    let (_, page) = get(&app, &agent, &app.city, &household_page).await;
    assert!(page.contains("du 01/01/2026 au 10/05/2026"), "{page}");
    let (status, _, page) = post(&app, &agent, &end, &[("last_day", "2026-06-30")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("se termine déjà le 10/05/2026"), "{page}");
    // In force until the 10th: the meals of the 4th and 7th only.
    let (_, page) = get(&app, &agent, &app.city, &quote).await;
    assert!(
        page.contains("dont Aide du CCAS « Coup de pouce cantine » (2 déduction(s))"),
        "{page}"
    );

    // Audited as the agent; in the RGPD export.
    let audit = trail(&app, &app.city, "aid_grants").await;
    assert_eq!(
        audit.iter().map(|(op, _)| op.as_str()).collect::<Vec<_>>(),
        ["INSERT", "UPDATE"]
    );
    assert!(
        audit.iter().all(|(_, user)| user.starts_with("agent:")),
        "{audit:?}"
    );
    let (status, export) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/familles/{household}/export"),
    )
    .await;
    assert_eq!(status, 200);
    let export: serde_json::Value = serde_json::from_str(&export).unwrap();
    let exported = &export["aid_grants"][0];
    assert_eq!(exported["aid_id"], "ccas-cantine", "{export}");
    assert_eq!(exported["valid_to"], "2026-05-10");
    assert_eq!(exported["child_ids"][0], kids[0]);
    assert_eq!(exported["reason"], "Commission du CCAS du 12/12/2025");

    // A granted aid cannot leave the catalogue (closing it is the way).
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/tarifs/aides",
        &[("text", "# plus rien\n")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("l'aide « ccas-cantine » a été attribuée à des familles"),
        "{page}"
    );

    // A school agent reads incomes and aids but may grant nothing, nor edit the catalogue.
    let (reader, _) = app.agent_client(&["school_agent"]).await;
    let (status, page) = get(&app, &reader, &app.city, &household_page).await;
    assert_eq!(status, 200);
    assert!(page.contains("Coup de pouce cantine"), "{page}");
    assert!(
        !page.contains(&format!("action=\"/agent/familles/{household}/aides\"")),
        "no form"
    );
    let (status, _, _) = post(
        &app,
        &reader,
        &grant_path,
        &[("aid_id", "ccas-cantine"), ("valid_from", "2026-06-01")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = post(&app, &reader, "/agent/tarifs/aides", &[("text", CATALOGUE)]).await;
    assert_eq!(status, 403);
    let (status, page) = get(&app, &reader, &app.city, "/agent/tarifs/aides").await;
    assert_eq!(status, 200);
    assert!(!page.contains("name=\"text\""), "no editor: {page}");
    // An animator does not even see the section (no incomes right).
    let (animator, _) = app.agent_client(&["animator"]).await;
    let (_, page) = get(&app, &animator, &app.city, &household_page).await;
    assert!(!page.contains("Aides attribuées"), "{page}");

    // Another city's agent: its own host knows no such household.
    let other = app.add_city("Voisinville").await;
    let login = app.agent_in(&other, "Agent voisin", &["city_admin"]).await;
    let neighbour = app.client();
    app.sign_in(&neighbour, &other, "/agent", &login, AGENT_PASSWORD)
        .await;
    aid_catalogue(&app, &other, CATALOGUE).await;
    let probe = format!("/agent/familles/{}/aides", household + 1000);
    let (status, _, _) = post_in(
        &app,
        &neighbour,
        &other,
        &probe,
        &[("aid_id", "ccas-cantine"), ("valid_from", "2026-01-01")],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        grants(&app, &app.city, household).await.len(),
        1,
        "nothing granted here"
    );
}

const RULES: &str = r#"[[rules]]
tariff = "exterieur-scolarise"
label = "Extérieur scolarisé dans la commune"
valid_from = "2025-09-01"
when = { residences = ["outside_city", "outside_intercommunality"], with_options = ["schooled_in_city"] }

[[rules]]
tariff = "exterieur"
label = "Extérieur"
valid_from = "2025-09-01"
when = { residences = ["outside_city", "outside_intercommunality"] }

[[rules]]
tariff = "resident"
label = "Résident"
valid_from = "2025-09-01"
"#;

#[actix_web::test]
async fn tariffs_are_assigned_at_admission_shown_used_and_changed_with_a_reason() {
    let app = TestApp::spawn().await;
    let canteen = canteen_with_grid(&app, &app.city).await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;

    // Rules next to the grid: refused in French, then saved and told in French.
    let (status, page) = get(&app, &agent, &app.city, "/agent/tarifs/cantine").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Attribution du tarif à l'inscription"),
        "{page}"
    );
    assert!(page.contains("[[rules]]"), "a model to adapt: {page}");
    for (text, expected) in [
        (
            RULES.replacen("when = {", "when = { units = [\"repas\"],", 1),
            "ne s'évaluent pas à l'inscription",
        ),
        (
            RULES.replacen("tariff = \"exterieur\"", "tariff = \"Extérieur\"", 1),
            "minuscules",
        ),
        (
            RULES.replace("residences", "residence"),
            "« residence » est inconnu",
        ),
    ] {
        let (status, _, page) = post(
            &app,
            &agent,
            "/agent/tarifs/cantine/attribution",
            &[("text", &text)],
        )
        .await;
        assert_eq!(status, 422, "{expected}: {page}");
        assert!(page.contains("règles d'attribution refusées"), "{page}");
        assert!(page.contains(expected), "{expected}: {page}");
    }
    let (status, location, page) = post(
        &app,
        &agent,
        "/agent/tarifs/cantine/attribution",
        &[("text", RULES), ("comment", "Délibération tarifaire")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/agent/tarifs/cantine#attribution"),
        "{page}"
    );
    let (_, page) = get(&app, &agent, &app.city, "/agent/tarifs/cantine").await;
    assert!(
        page.contains("« Extérieur » (code exterieur), à partir du 01/09/2025 : domicilié hors commune ou domicilié hors intercommunalité"),
        "{page}"
    );
    let versions = app
        .db()
        .run(app.city.scope("test"), |conn| {
            Box::pin(async move { grids::history(conn, "pricing.assignment.cantine").await })
        })
        .await
        .unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].comment, "Délibération tarifaire");

    // Synthetic families live in Corbas, outside this city: an admitted child is « Extérieur ».
    let kids = children(&app, &app.city, 6, 17).await;
    let settings = settings_of(&app).await;
    let first_day = open_dates(&app, &app.city, canteen, 1).await[0];
    let child = kids[0];
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
    let enrolment_page = format!("/agent/inscriptions/{}", request.id);
    let (_, page) = get(&app, &agent, &app.city, &enrolment_page).await;
    assert!(
        page.contains(
            "Tarif de l'inscription : <strong>Extérieur</strong> (code <code>exterieur</code>)"
        ),
        "{page}"
    );
    assert!(
        page.contains("Tarif « Extérieur » attribué automatiquement : domicilié hors commune ou domicilié hors intercommunalité"),
        "{page}"
    );
    assert!(
        page.contains("Attribué automatiquement à l'admission"),
        "{page}"
    );
    let (_, page) = get(&app, &agent, &app.city, &format!("/agent/enfants/{child}")).await;
    assert!(
        page.contains("<code>exterieur</code>"),
        "the child page: {page}"
    );

    // Mass enrolment of a class of the city: outside families whose child is schooled here.
    let year = school_year(clock::today());
    let pupils = kids[1..4].to_vec();
    let school = app
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
                        teacher: String::new(),
                        capacity: None,
                    },
                )
                .await?;
                for child in pupils {
                    schools::place_pupil(conn, child, class, "CP").await?;
                }
                Ok(school)
            })
        })
        .await
        .unwrap();
    let today = clock::today().format("%Y-%m-%d").to_string();
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/inscriptions/masse",
        &[
            ("activity_id", &canteen.to_string()),
            ("school_id", &school.to_string()),
            ("starts", &today),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let tariffs = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                #[derive(QueryableByName)]
                struct Row {
                    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
                    tariff: Option<String>,
                    #[diesel(sql_type = BigInt)]
                    n: i64,
                }
                let rows: Vec<Row> = diesel::sql_query(
                    "SELECT tariff, count(*) AS n FROM enrolments WHERE origin = 'mass' GROUP BY tariff",
                )
                .load(conn)
                .await?;
                Ok(rows.into_iter().map(|r| (r.tariff, r.n)).collect::<Vec<_>>())
            })
        })
        .await
        .unwrap();
    assert_eq!(tariffs, [(Some("exterieur-scolarise".to_string()), 3)]);

    // An agent changes the tariff, with a reason; the quote of the child then uses it.
    let change = format!("/agent/tarifs/inscriptions/{}", request.id);
    let (status, _, page) = post(
        &app,
        &agent,
        &change,
        &[("tariff", "personnel"), ("reason", "")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("indiquez le motif du changement de tarif"),
        "{page}"
    );
    let (status, _, page) = post(
        &app,
        &agent,
        &change,
        &[("tariff", "Personnel !"), ("reason", "enfant d'agent")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("code de tarif « Personnel ! » invalide"),
        "{page}"
    );
    let (status, location, _) = post(
        &app,
        &agent,
        &change,
        &[
            ("tariff", "personnel"),
            ("reason", "Enfant d'un agent communal"),
        ],
    )
    .await;
    assert_eq!((status, location.as_str()), (303, enrolment_page.as_str()));
    let (_, page) = get(&app, &agent, &app.city, &enrolment_page).await;
    assert!(
        page.contains("Tarif « personnel » choisi par un agent : Enfant d'un agent communal"),
        "{page}"
    );
    assert!(page.contains("Choisi par un agent"), "{page}");
    let changes = trail(&app, &app.city, "enrolments").await;
    assert!(
        changes
            .iter()
            .any(|(op, user)| op == "UPDATE" && user.starts_with("agent:")),
        "{changes:?}"
    );

    // The agent's choice stands: re-assigning leaves it.
    let settings = settings_of(&app).await;
    let id = request.id;
    let kept = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                assignment::assign_at_admission(conn, &settings, id, "test").await?;
                assignment::tariff_of(conn, id).await
            })
        })
        .await
        .unwrap();
    assert_eq!(kept.tariff.as_deref(), Some("personnel"));

    // The household's quote for this child prices with the staff tariff: 2.00 € a meal, 30 %
    // more outside the city = 2.60 €.
    let household = enrolment_household(&app, request.id).await;
    let month = first_day.format("%Y-%m").to_string();
    let (status, page) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/familles/{household}/simulation?calculer=1&month={month}&child={child}&slot=cantine%7Crepas%7C1"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Tarif cantine : <strong>personnel</strong>"),
        "{page}"
    );
    assert!(page.contains("Tarif unique : 2,00\u{a0}€"), "{page}");
    assert!(page.contains("2,60\u{a0}€"), "{page}");

    // Without the pricing write right, no change (and no form).
    let (reader, _) = app.agent_client(&["school_agent"]).await;
    let (_, page) = get(&app, &reader, &app.city, &enrolment_page).await;
    assert!(page.contains("Tarif de l'inscription"), "{page}");
    assert!(!page.contains(&format!("action=\"{change}\"")), "{page}");
    let (status, _, _) = post(
        &app,
        &reader,
        &change,
        &[("tariff", "resident"), ("reason", "essai de changement")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = post(
        &app,
        &reader,
        "/agent/tarifs/cantine/attribution",
        &[("text", RULES)],
    )
    .await;
    assert_eq!(status, 403);
    // An unknown enrolment is not found.
    let (status, _, _) = post(
        &app,
        &agent,
        "/agent/tarifs/inscriptions/999999",
        &[("tariff", "resident"), ("reason", "essai de changement")],
    )
    .await;
    assert_eq!(status, 404);
}

async fn enrolment_household(app: &TestApp, id: i64) -> i64 {
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move { enrolment::get(conn, id).await })
        })
        .await
        .unwrap()
        .household_id
        .expect("a household")
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
