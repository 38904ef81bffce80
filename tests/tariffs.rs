//! Tariff grids in the back-office against a real PostgreSQL: a grid saved as TOML is
//! versioned (settings history), audited, shown in plain French, previewed in one sentence,
//! exported and imported with `marelle tenant export-settings/import-settings`; an invalid
//! grid is refused in French with its line and nothing is saved; read-only profiles cannot
//! save; another city neither reads nor edits the grids; the household's tariff simulation
//! prices a typical week over a month.

mod common;
mod pricing_fixtures;

use common::pages::{get, post, post_in};
use common::*;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use marelle::domain::activity::catalogue::{self, NewActivity};
use marelle::domain::activity::model::CitySettings;
use marelle::domain::tariffs::{grids, seed_demo_tariffs};
use marelle::platform::tenancy::City;

/// The grid of the issue's example: QF 742 is in bracket 3, 3.84 € a meal.
const CANTINE: &str = r#"# Délibération du conseil municipal du 30 juin 2025.
activity = "cantine"
unit_labels = { repas = "repas" }

[[versions]]
valid_from = "2024-09-01"
valid_to = "2025-08-31"
rules = [ { id = "cantine-unique", price = { kind = "flat", amount = "3.50" } } ]

[[versions]]
valid_from = "2025-09-01"
rules = [ { id = "cantine-qf", price = { kind = "qf_brackets", brackets = [
    { id = "cantine-qf-1", min = "0", max = "400", amount = "1.00" },
    { id = "cantine-qf-2", min = "401", max = "700", amount = "2.30" },
    { id = "cantine-qf-3", min = "701", max = "900", amount = "3.84" },
    { id = "cantine-qf-4", min = "901", amount = "4.90" },
] } } ]
adjustments = [ { id = "hors-commune", label = "Majoration hors commune", when = { residences = ["outside_city", "outside_intercommunality"] }, effect = { percent = "30" } } ]
"#;

async fn canteen(app: &TestApp, city: &City) {
    app.db()
        .run(city.scope("test"), |conn| {
            Box::pin(async move {
                catalogue::create_activity(
                    conn,
                    &NewActivity {
                        code: "cantine".into(),
                        name: "Restauration scolaire".into(),
                        kind: "canteen".into(),
                        structure_id: None,
                        description: String::new(),
                    },
                )
                .await
            })
        })
        .await
        .expect("a canteen");
}

async fn history(app: &TestApp, city: &City) -> Vec<grids::Document> {
    app.db()
        .run(city.scope("test"), |conn| {
            Box::pin(async move { grids::history(conn, "pricing.grid.cantine").await })
        })
        .await
        .unwrap()
}

#[derive(QueryableByName)]
struct Audited {
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn audited(app: &TestApp, city: &City) -> Vec<(String, i64)> {
    app.db()
        .run(city.scope("test"), |conn| {
            Box::pin(async move {
                let rows: Vec<Audited> = diesel::sql_query(
                    "SELECT user_id, count(*) AS n FROM audit_log \
                     WHERE table_name = 'setting_versions' AND op = 'INSERT' \
                       AND after->>'key' = 'pricing.grid.cantine' GROUP BY user_id",
                )
                .load(conn)
                .await?;
                Ok(rows.into_iter().map(|r| (r.user_id, r.n)).collect())
            })
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_grid_is_saved_versioned_audited_previewed_and_exported() {
    let app = TestApp::spawn().await;
    canteen(&app, &app.city).await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;

    let (status, list) = get(&app, &agent, &app.city, "/agent/tarifs").await;
    assert_eq!(status, 200);
    assert!(list.contains("href=\"/agent/tarifs/cantine\""), "{list}");
    assert!(list.contains("aucune grille"), "{list}");
    let (_, menu) = get(&app, &agent, &app.city, "/agent/").await;
    assert!(menu.contains("href=\"/agent/tarifs\""), "menu entry");
    let (status, page) = get(&app, &agent, &app.city, "/agent/tarifs/cantine").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("activity = \"cantine\""),
        "a model to adapt: {page}"
    );

    let (status, location, page) = post(
        &app,
        &agent,
        "/agent/tarifs/cantine",
        &[("text", CANTINE), ("comment", "Délibération du 30/06/2025")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/agent/tarifs/cantine"),
        "{page}"
    );
    let (_, page) = get(&app, &agent, &app.city, "/agent/tarifs/cantine").await;
    assert!(page.contains("Version à partir du 01/09/2025"), "{page}");
    assert!(
        page.contains("Version du 01/09/2024 au 31/08/2025"),
        "{page}"
    );
    assert!(
        page.contains("tranche 3 (cantine-qf-3, QF de 701\u{a0}€ à 900\u{a0}€) : 3,84\u{a0}€"),
        "{page}"
    );
    assert!(page.contains("Majoration hors commune"), "{page}");

    // The preview of the issue: QF 742, two children, a meal on 12/01/2026.
    let (status, page) = get(
        &app,
        &agent,
        &app.city,
        "/agent/tarifs/cantine?apercu=1&qf=742&children=2&date=2026-01-12&unit=repas&residence=city&rank=1",
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(
            "Une famille avec un QF de 742\u{a0}€ et deux enfants à charge paie 3,84\u{a0}€ pour l'unité « repas » (Restauration scolaire) le 12/01/2026, règle : tranche QF 3 (cantine-qf-3)."
        ),
        "{page}"
    );
    assert!(
        page.contains("QF 742\u{a0}€ dans la tranche 3"),
        "the engine's explanation: {page}"
    );
    // The same family outside the city pays 30 % more: 3.84 × 1.3 = 4.992 → 4.99.
    let (_, page) = get(
        &app,
        &agent,
        &app.city,
        "/agent/tarifs/cantine?apercu=1&qf=742&children=2&date=2026-01-12&unit=repas&residence=outside_city",
    )
    .await;
    assert!(page.contains("paie 4,99\u{a0}€"), "{page}");
    // A day before the first version: the engine says so.
    let (_, page) = get(
        &app,
        &agent,
        &app.city,
        "/agent/tarifs/cantine?apercu=1&qf=742&date=2024-08-30&unit=repas",
    )
    .await;
    assert!(
        page.contains(
            "aucune grille tarifaire de l'activité « cantine » n'est en vigueur le 30/08/2024"
        ),
        "{page}"
    );

    // A new délibération: a second version of the text; the same text again records nothing.
    let raised = CANTINE.replace("\"3.84\"", "\"3.95\"");
    let (status, _, _) = post(
        &app,
        &agent,
        "/agent/tarifs/cantine",
        &[("text", &raised), ("comment", "hausse")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, _) = post(&app, &agent, "/agent/tarifs/cantine", &[("text", &raised)]).await;
    assert_eq!(status, 303);
    let versions = history(&app, &app.city).await;
    assert_eq!(
        versions.len(),
        2,
        "two versions, the unchanged save recorded nothing"
    );
    assert_eq!(versions[0].comment, "hausse");
    assert_eq!(versions[0].author, "Agent de test");
    assert_eq!(versions[0].valid_from.to_string(), "2024-09-01");
    assert!(
        versions[1]
            .text
            .contains("# Délibération du conseil municipal"),
        "comments kept"
    );
    let trail = audited(&app, &app.city).await;
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert!(trail[0].0.starts_with("agent:"), "{trail:?}");
    assert_eq!(trail[0].1, 2);

    // Export, then import into another city: the same grid, replaying adds nothing.
    let dir = std::env::temp_dir().join(unique("tarifs-"));
    let dir_arg = dir.to_string_lossy().to_string();
    let (ok, stdout, stderr) = marelle(&[
        "tenant",
        "export-settings",
        &app.city.slug,
        "--to",
        &dir_arg,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("exportée"), "{stdout}");
    let exported = std::fs::read_to_string(dir.join("pricing.toml")).expect("pricing.toml");
    assert!(
        exported.contains("key = \"pricing.grid.cantine\""),
        "{exported}"
    );
    assert!(
        exported.contains(
            "{ id = \"cantine-qf-3\", min = \"701\", max = \"900\", amount = \"3.95\" },\n"
        ),
        "the grid reads as written: {exported}"
    );

    let other = app.add_city("Importville").await;
    let import = |slug: String| {
        let dir_arg = dir_arg.clone();
        move || marelle(&["tenant", "import-settings", &slug, "--from", &dir_arg])
    };
    let (ok, stdout, stderr) = import(other.slug.clone())();
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("2 version(s) ajoutée(s)"), "{stdout}");
    let (ok, stdout, _) = import(other.slug.clone())();
    assert!(ok);
    assert!(stdout.starts_with("0 version(s) ajoutée(s)"), "{stdout}");
    let imported = history(&app, &other).await;
    assert_eq!(imported.len(), 2);
    assert_eq!(imported[0].text, versions[0].text);

    // A broken grid in the files is refused as a whole, in French; nothing is imported.
    let broken = exported.replace("amount = \"3.95\"", "amount = \"3,95\"");
    std::fs::write(dir.join("pricing.toml"), broken).unwrap();
    let third = app.add_city("Refusville").await;
    let (ok, _, stderr) = import(third.slug.clone())();
    assert!(!ok);
    assert!(
        stderr.contains("« 3,95 » n'est pas un montant en euros valide"),
        "{stderr}"
    );
    assert!(history(&app, &third).await.is_empty());
}

#[actix_web::test]
async fn an_invalid_grid_is_refused_in_french_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    canteen(&app, &app.city).await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;

    let typo = CANTINE.replace("amount = \"3.50\"", "amout = \"3.50\"");
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/tarifs/cantine",
        &[("text", &typo), ("comment", "essai")],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("grille refusée : ligne 8, colonne"), "{page}");
    assert!(page.contains("le champ « amout » est inconnu"), "{page}");
    assert!(
        page.contains("amout = \"3.50\""),
        "the text is kept: {page}"
    );

    for (text, expected) in [
        (
            CANTINE.replace("max = \"700\"", "max = \"701\""),
            "les tranches « cantine-qf-2 » et « cantine-qf-3 » se chevauchent",
        ),
        (
            CANTINE.replace("valid_to = \"2025-08-31\"", "valid_to = \"2025-09-01\""),
            "se chevauchent",
        ),
        (CANTINE.replace("\"3.84\"", "\"-3.84\""), "prix négatif"),
        (
            CANTINE.replace("activity = \"cantine\"", "activity = \"garderie\""),
            "elle doit commencer par activity = \"cantine\"",
        ),
        (CANTINE.replace("\"3.84\"", "3.84"), "entre guillemets"),
    ] {
        let (status, _, page) =
            post(&app, &agent, "/agent/tarifs/cantine", &[("text", &text)]).await;
        assert_eq!(status, 422, "{expected}");
        assert!(page.contains(expected), "{expected}: {page}");
    }
    // « Vérifier » checks a valid text and saves nothing either.
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/tarifs/cantine",
        &[("text", CANTINE), ("action", "verifier")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("La grille est valide ; rien n'a été enregistré."),
        "{page}"
    );
    assert!(page.contains("Le texte vérifié, en clair"), "{page}");
    assert!(history(&app, &app.city).await.is_empty(), "nothing saved");
    assert!(audited(&app, &app.city).await.is_empty(), "nothing audited");

    // The city's rules: a PSU ceiling below the CNAF's is refused.
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/tarifs/reglages",
        &[
            ("text", "psu_ceiling = { higher = \"5000.00\" }"),
            ("valid_from", "2026-01-01"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("la CNAF ne permet pas de l'abaisser"),
        "{page}"
    );
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/tarifs/reglages",
        &[
            ("text", "missing_qf = \"cheapest\""),
            ("valid_from", "2026-01-01"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("la valeur « cheapest » n'est pas acceptée"),
        "{page}"
    );
    let (status, _, _) = post(
        &app,
        &agent,
        "/agent/tarifs/reglages",
        &[
            ("text", "missing_qf = \"dearest_bracket\""),
            ("valid_from", "2026-01-01"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = get(&app, &agent, &app.city, "/agent/tarifs/reglages").await;
    assert!(page.contains("dearest_bracket"), "{page}");

    // A school agent reads the grids but may not change them.
    let (reader, _) = app.agent_client(&["school_agent"]).await;
    let (status, page) = get(&app, &reader, &app.city, "/agent/tarifs/cantine").await;
    assert_eq!(status, 200);
    assert!(!page.contains("name=\"text\""), "no editor for a reader");
    let (status, _, _) = post(&app, &reader, "/agent/tarifs/cantine", &[("text", CANTINE)]).await;
    assert_eq!(status, 403);
    // An animator has no pricing right at all.
    let (animator, _) = app.agent_client(&["animator"]).await;
    let (status, _) = get(&app, &animator, &app.city, "/agent/tarifs").await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn another_city_neither_reads_nor_edits_the_grids() {
    let app = TestApp::spawn().await;
    canteen(&app, &app.city).await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let (status, _, _) = post(&app, &agent, "/agent/tarifs/cantine", &[("text", CANTINE)]).await;
    assert_eq!(status, 303);

    let other = app.add_city("Voisinville").await;
    let login = app.agent_in(&other, "Agent voisin", &["city_admin"]).await;
    let neighbour = app.client();
    let signed = app
        .sign_in(&neighbour, &other, "/agent", &login, AGENT_PASSWORD)
        .await;
    assert_eq!(signed.status(), 303);
    // On its own host the neighbour has no such activity: 404, and none of A's figures.
    let (status, page) = get(&app, &neighbour, &other, "/agent/tarifs/cantine").await;
    assert_eq!(status, 404);
    assert!(!page.contains("3,84"));
    let (status, _, _) = post_in(
        &app,
        &neighbour,
        &other,
        "/agent/tarifs/cantine",
        &[("text", CANTINE)],
    )
    .await;
    assert_eq!(status, 404);
    // With a canteen of its own it sees an empty grid, not A's.
    canteen(&app, &other).await;
    let (status, page) = get(&app, &neighbour, &other, "/agent/tarifs/cantine").await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("Délibération du conseil municipal"),
        "{page}"
    );
    // Its session means nothing on A's host.
    let (status, _) = get(&app, &neighbour, &app.city, "/agent/tarifs/cantine").await;
    assert!(status == 303 || status == 401, "{status}");
    let response = neighbour
        .post(app.city_url(&app.city, "/agent/tarifs/cantine"))
        .form(&[("text", "activity = \"cantine\"")])
        .send()
        .await
        .unwrap();
    assert!(
        matches!(response.status().as_u16(), 303 | 401 | 403),
        "{}",
        response.status()
    );
    assert_eq!(
        history(&app, &app.city).await.len(),
        1,
        "A's grid unchanged"
    );
    assert!(history(&app, &other).await.is_empty());
}

#[actix_web::test]
async fn a_household_s_month_is_simulated_line_by_line() {
    let app = TestApp::spawn().await;
    canteen(&app, &app.city).await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let (status, _, _) = post(&app, &agent, "/agent/tarifs/cantine", &[("text", CANTINE)]).await;
    assert_eq!(status, 303);
    let (id, _) = pricing_fixtures::family(&app, &app.city, &app.city.name, Some(742)).await;

    let (_, household) = get(&app, &agent, &app.city, &format!("/agent/familles/{id}")).await;
    assert!(
        household.contains(&format!("href=\"/agent/familles/{id}/simulation\"")),
        "the household page links the simulation"
    );
    let (status, page) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/familles/{id}/simulation"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("QF 742,00\u{a0}€"),
        "the dossier's QF: {page}"
    );
    assert!(page.contains("value=\"cantine|repas|1\""), "{page}");

    // May 2026, Mondays and Thursdays: Whit Monday (25) and Ascension (14) are holidays.
    let path = format!(
        "/agent/familles/{id}/simulation?calculer=1&month=2026-05&slot=cantine%7Crepas%7C1&slot=cantine%7Crepas%7C4"
    );
    let (status, page) = get(&app, &agent, &app.city, &path).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Devis — mai 2026"), "{page}");
    assert!(page.contains("6 ligne(s)"), "{page}");
    assert!(page.contains("lun. 04/05/2026"), "{page}");
    assert!(page.contains("QF 742\u{a0}€ dans la tranche 3"), "{page}");
    assert!(page.contains("23,04\u{a0}€"), "6 × 3.84: {page}");
    assert!(page.contains("14/05/2026"), "holidays listed: {page}");
    assert!(page.contains("/assets/print-quote.css"), "printable");

    // A hypothetical QF replaces the dossier's: bracket 1, 6 × 1.00.
    let (_, page) = get(&app, &agent, &app.city, &format!("{path}&qf=350")).await;
    assert!(page.contains("6,00\u{a0}€"), "{page}");
    // No unit ticked: said in French.
    let (status, page) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/familles/{id}/simulation?calculer=1&month=2026-05"),
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("cochez au moins une unité"), "{page}");
    // Another city's household id is not found.
    let (status, _) = get(&app, &agent, &app.city, "/agent/familles/999999/simulation").await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn demo_tariffs_price_every_activity_once() {
    let app = TestApp::spawn().await;
    canteen(&app, &app.city).await;
    let name = app.city.name.clone();
    let seeded = || {
        let name = name.clone();
        app.db().run(app.city.scope("demo"), move |conn| {
            Box::pin(async move {
                let settings = CitySettings::read(conn, &name).await?;
                seed_demo_tariffs(conn, &settings).await
            })
        })
    };
    assert_eq!(
        seeded().await.unwrap(),
        4,
        "the canteen's grid, the city's rules, the aid catalogue, the canteen's assignment rules"
    );
    assert_eq!(seeded().await.unwrap(), 0, "idempotent");
    let (grids, settings) = app
        .db()
        .run(app.city.scope("test"), |conn| {
            Box::pin(async move {
                let day = "2026-01-12".parse().unwrap();
                Ok((
                    grids::grids(conn).await?,
                    grids::settings_on(conn, day).await?,
                ))
            })
        })
        .await
        .unwrap();
    assert_eq!(grids.len(), 1);
    assert_eq!(&*grids[0].activity, "cantine");
    assert_eq!(
        settings.missing_qf,
        marelle::domain::pricing::MissingQf::DearestBracket
    );
}
