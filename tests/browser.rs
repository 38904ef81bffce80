//! The pages in a real browser: headless Chromium driven by `tests/browser/check-pages.mjs`
//! (playwright-core + axe-core) checks each page against WCAG 2.1 A/AA (axe) and the RGAA
//! basics (lang, title, one h1, skip link reached first by Tab, labelled fields, no
//! horizontal scrolling at 375 and 1280 px, no JS/console error, no failed asset).
//!
//! Needs `npm ci --prefix tests/browser` (node_modules) and Debian's chromium; a missing
//! piece fails the test with the command to run, it never passes silently.
//! `MARELLE_TEST_NODE` and `MARELLE_CHROMIUM` override the node and chromium binaries.
//! Run with `cargo nextest run --test browser --no-capture` to see the timings per page.

mod common;

use std::path::PathBuf;

use common::browser::check_pages;
use common::*;
use marelle::platform::tenancy::provisioning::{CityRequest, CloneRequest};
use marelle::platform::tenancy::{City, Env, Theme};
use serde_json::{Value, json};

/// A page to check, by name and URL.
fn page(name: &str, url: String) -> Value {
    json!({ "name": name, "url": url })
}

/// `page` with more fields (status, steps, expect, screenshot...).
fn page_with(name: &str, url: String, extra: Value) -> Value {
    let mut p = page(name, url);
    if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
        p.extend(extra.clone());
    }
    p
}

fn spec(pages: Vec<Value>) -> Value {
    json!({ "pages": pages })
}

/// `#2b4c7e` -> `rgb(43, 76, 126)`, as getComputedStyle writes it.
fn css_rgb(hex: &str) -> String {
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("#rrggbb");
    format!("rgb({}, {}, {})", channel(1), channel(3), channel(5))
}

/// A city of its own with a non-default theme, so that its colours can only come from /theme.css.
async fn themed_city(app: &TestApp, theme: Theme) -> City {
    let slug = unique("t");
    let city = provisioner(app.db())
        .create(CityRequest {
            slug: slug.clone(),
            name: "Saint-Thème-sur-Test".into(),
            env: Env::Production,
            hosts: vec![format!("{slug}.test.localhost")],
            theme,
        })
        .await
        .expect("provision a themed city");
    app.state.tenants.invalidate();
    city
}

#[actix_web::test]
async fn portal_home_and_not_found_page_are_accessible() {
    let app = TestApp::spawn().await;
    check_pages(spec(vec![
        page_with(
            "portail : accueil",
            app.city_url(&app.city, "/"),
            json!({ "expect": [{ "selector": "h1", "text": "Portail famille" }] }),
        ),
        page_with(
            "portail : page introuvable",
            app.city_url(&app.city, "/cette-page-n-existe-pas"),
            json!({ "status": 404, "expect": [{ "selector": "h1", "text": "Page introuvable" }] }),
        ),
    ]))
    .await;
}

#[actix_web::test]
async fn unknown_host_page_is_accessible() {
    let app = TestApp::spawn().await;
    let host = format!("{}.test.localhost", unique("inconnue"));
    check_pages(spec(vec![page_with(
        "adresse inconnue",
        app.url(&host, "/"),
        json!({ "status": 404, "expect": [{ "selector": "main", "text": "Aucune ville" }] }),
    )]))
    .await;
}

#[actix_web::test]
async fn backoffice_login_page_is_accessible() {
    let app = TestApp::spawn().await;
    check_pages(spec(vec![page_with(
        "espace agents : connexion",
        app.city_url(&app.city, "/agent/connexion"),
        json!({ "expect": [{ "selector": "h1", "text": "Espace agents" }] }),
    )]))
    .await;
}

#[actix_web::test]
async fn console_login_and_city_list_are_accessible() {
    let app = TestApp::spawn().await;
    let login = app.admin_url("/admin/connexion");
    check_pages(spec(vec![
        page_with(
            "console : connexion",
            login.clone(),
            json!({ "expect": [{ "selector": "h1", "text": "Console SITIV" }] }),
        ),
        // Signed in through the form itself (CSRF cookie and hidden field included).
        page_with(
            "console : liste des villes",
            login,
            json!({
                "steps": [
                    { "fill": "#password", "value": ADMIN_PASSWORD },
                    { "click": "main form button[type=submit]", "waitForUrl": app.admin_url("/admin/") },
                ],
                "expect": [
                    { "selector": "h1", "text": "Villes et environnements" },
                    { "selector": "table", "visible": true, "text": app.city.slug.as_str() },
                ],
            }),
        ),
    ]))
    .await;
}

#[actix_web::test]
async fn recette_portal_shows_the_band_and_is_accessible() {
    let app = TestApp::spawn().await;
    let to = unique("r");
    let recette = provisioner(app.db())
        .clone_city(CloneRequest {
            from: app.city.slug.clone(),
            to: to.clone(),
            hosts: vec![format!("{to}.test.localhost")],
            env: Env::Recette,
            anonymise: true,
        })
        .await
        .expect("clone to recette");
    app.state.tenants.invalidate();
    let band = json!({ "selector": "text=\"RECETTE\"", "visible": true, "inViewport": true });
    check_pages(spec(vec![
        page_with(
            "recette : accueil du portail",
            app.city_url(&recette, "/"),
            json!({ "expect": [band.clone()] }),
        ),
        page_with(
            "recette : connexion des agents",
            app.city_url(&recette, "/agent/connexion"),
            json!({ "expect": [band.clone()] }),
        ),
        page_with(
            "production : accueil du portail (sans bandeau)",
            app.city_url(&app.city, "/"),
            json!({ "expect": [{ "selector": "text=\"RECETTE\"", "count": 0 }] }),
        ),
    ]))
    .await;
}

#[actix_web::test]
async fn portal_theme_is_applied_at_phone_and_desktop_widths() {
    let app = TestApp::spawn().await;
    // Not the default colours: the header can only get them from the city's /theme.css.
    let theme = Theme {
        primary: "#1d5e3a".into(),
        accent: "#8a3b12".into(),
        address: vec!["1 place de la Mairie".into(), "69999 Saint-Thème".into()],
        phone: "04 00 00 00 00".into(),
        email: "enfance@saint-theme.test".into(),
        ..Theme::default()
    };
    assert_ne!(theme.primary, Theme::default().primary);
    let city = themed_city(&app, theme.clone()).await;
    let shots = std::env::temp_dir().join(unique("marelle-captures-"));
    let report = check_pages(json!({
        "screenshotDir": shots,
        "pages": [page_with(
            "portail thémé : accueil",
            app.city_url(&city, "/"),
            json!({
                "screenshot": "portail-accueil",
                "expect": [
                    { "selector": "header", "visible": true, "inViewport": true,
                      "style": { "background-color": css_rgb(&theme.primary) } },
                    // The theme also colours Pico's buttons (--pico-primary-background).
                    { "selector": "main [role=button]", "visible": true,
                      "style": { "background-color": css_rgb(&theme.primary) } },
                    { "selector": "footer", "text": "69999 Saint-Thème" },
                ],
            }),
        )],
    }))
    .await;
    let taken = report["pages"][0]["screenshots"]
        .as_array()
        .expect("screenshots")
        .clone();
    let widths: Vec<u64> = taken.iter().filter_map(|s| s["width"].as_u64()).collect();
    assert_eq!(widths, [375, 1280], "{taken:?}");
    for shot in &taken {
        let path = PathBuf::from(shot["path"].as_str().expect("path"));
        let png = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            &png[..8],
            b"\x89PNG\r\n\x1a\n",
            "{} is not a PNG",
            path.display()
        );
        let width = u32::from_be_bytes(png[16..20].try_into().expect("IHDR width"));
        assert_eq!(
            u64::from(width),
            shot["width"].as_u64().unwrap(),
            "{}",
            path.display()
        );
        println!("capture : {}", path.display());
    }
}

/// Steps signing in through a sign-in form (`#login`, `#password`, its submit button).
fn sign_in_steps(login: &str, password: &str, then: Value) -> Value {
    let mut click = json!({ "click": "main form button[type=submit]" });
    if let (Some(click), Some(then)) = (click.as_object_mut(), then.as_object()) {
        click.extend(then.clone());
    }
    json!([
        { "fill": "#login", "value": login },
        { "fill": "#password", "value": password },
        click,
    ])
}

/// A pending account request of the city, sent through the portal form.
async fn request_an_account(app: &TestApp, last_name: &str, first_name: &str, email: &str) {
    let client = app.client();
    let form = client
        .get(app.city_url(&app.city, "/demande-de-compte"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&form);
    let sent = client
        .post(app.city_url(&app.city, "/demande-de-compte"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("last_name", last_name),
            ("first_name", first_name),
            ("email", email),
            ("phone", "06 00 00 00 00"),
            ("message", "Deux enfants à l'école Jules-Ferry."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303, "account request");
}

/// The text between `before` and the next `after` in `html`.
fn between<'a>(html: &'a str, before: &str, after: &str) -> &'a str {
    let start = html
        .find(before)
        .unwrap_or_else(|| panic!("« {before} » absent de :\n{html}"))
        + before.len();
    let end = html[start..]
        .find(after)
        .unwrap_or_else(|| panic!("« {after} » absent après « {before} »"));
    &html[start..start + end]
}

/// A city admin of `app`'s city, and the steps signing it in through the real form of
/// `/agent/connexion` then going to `path` (the page checked): the pages after it share
/// its cookies.
async fn city_admin_signing_in(app: &TestApp, path: &str) -> (String, Value) {
    let login = app.agent("Agnès Martin", &["city_admin"]).await;
    let mut steps = sign_in_steps(
        &login,
        AGENT_PASSWORD,
        json!({ "waitForUrl": app.city_url(&app.city, "/agent/") }),
    );
    if path != "/agent/" {
        steps
            .as_array_mut()
            .expect("steps")
            .push(json!({ "goto": app.city_url(&app.city, path) }));
    }
    (login, steps)
}

// The back-office pages are split in two tests (two browser sessions) to keep each well
// under 15 s: the profiles page alone, with its big table of checkboxes, takes ~2 s.

#[actix_web::test]
async fn backoffice_sign_in_dashboard_agents_and_profiles_are_accessible() {
    let app = TestApp::spawn().await;
    let (login, sign_in) = city_admin_signing_in(&app, "/agent/").await;
    // Something to count on the dashboard.
    request_an_account(&app, "Durand", "Marie", "marie.durand@exemple.test").await;
    let url = |path: &str| app.city_url(&app.city, path);
    check_pages(spec(vec![
        page_with(
            "espace agents : mot de passe erroné",
            url("/agent/connexion"),
            json!({
                "steps": sign_in_steps(&login, "pas le bon mot de passe", json!({ "navigation": true })),
                "status": 401,
                "expect": [
                    { "selector": "main .error[role=alert]", "visible": true },
                    { "selector": "#login", "count": 1 },
                ],
            }),
        ),
        // Signed in through the form itself; the following pages share its cookies.
        page_with(
            "espace agents : tableau de bord",
            url("/agent/connexion"),
            json!({
                "steps": sign_in,
                "expect": [
                    { "selector": "h1", "text": "Bonjour Agnès Martin" },
                    { "selector": "main", "text": "1 demande(s) en attente" },
                ],
            }),
        ),
        page_with(
            "espace agents : agents",
            url("/agent/agents"),
            json!({ "expect": [
                { "selector": "h1", "text": "Agents" },
                { "selector": "main table", "visible": true, "text": login.as_str() },
            ] }),
        ),
        page_with(
            "espace agents : profils (premier profil déplié)",
            url("/agent/profils"),
            json!({
                "steps": [{ "click": "main details:first-of-type > summary" }],
                "expect": [
                    { "selector": "h1", "text": "Profils et droits" },
                    { "selector": "main details:first-of-type[open] table", "visible": true },
                ],
            }),
        ),
    ]))
    .await;
}

#[actix_web::test]
async fn backoffice_history_accounts_requests_and_password_are_accessible() {
    let app = TestApp::spawn().await;
    let (_, sign_in) = city_admin_signing_in(&app, "/agent/historique").await;
    // Something to show on the requests page.
    request_an_account(&app, "Durand", "Marie", "marie.durand@exemple.test").await;
    let url = |path: &str| app.city_url(&app.city, path);
    check_pages(spec(vec![
        page_with(
            "espace agents : historique",
            url("/agent/connexion"),
            json!({
                "steps": sign_in,
                "expect": [
                    { "selector": "h1", "text": "Historique" },
                    { "selector": "table.history", "visible": true },
                ],
            }),
        ),
        page_with(
            "espace agents : comptes famille",
            url("/agent/comptes"),
            json!({ "expect": [{ "selector": "h1", "text": "Comptes du portail famille" }] }),
        ),
        page_with(
            "espace agents : demandes de compte",
            url("/agent/comptes/demandes"),
            json!({ "expect": [
                { "selector": "h1", "text": "Demandes de compte" },
                { "selector": "main article h2", "text": "Durand" },
            ] }),
        ),
        page_with(
            "espace agents : mot de passe",
            url("/agent/mot-de-passe"),
            json!({ "expect": [
                { "selector": "h1", "text": "Changer de mot de passe" },
                { "selector": "#current", "count": 1 },
            ] }),
        ),
    ]))
    .await;
}

#[actix_web::test]
async fn portal_sign_in_account_request_and_password_pages_are_accessible() {
    let app = TestApp::spawn().await;
    let url = |path: &str| app.city_url(&app.city, path);
    check_pages(spec(vec![
        page_with(
            "portail : connexion",
            url("/connexion"),
            json!({ "expect": [{ "selector": "h1", "text": "Connexion à votre espace famille" }] }),
        ),
        // An address the browser accepts (type="email") but the server refuses (no dot in
        // the domain): the form comes back with its error.
        page_with(
            "portail : demande de compte refusée (courriel invalide)",
            url("/demande-de-compte"),
            json!({
                "steps": [
                    { "fill": "#last_name", "value": "Durand" },
                    { "fill": "#first_name", "value": "Marie" },
                    { "fill": "#email", "value": "marie.durand@intranet" },
                    { "click": "main form button[type=submit]", "navigation": true },
                ],
                "status": 422,
                "expect": [
                    { "selector": "main .error[role=alert]", "visible": true, "text": "adresse de courriel invalide" },
                    { "selector": "#last_name", "count": 1 },
                ],
            }),
        ),
        page_with(
            "portail : mot de passe oublié",
            url("/mot-de-passe-oublie"),
            json!({ "expect": [{ "selector": "h1", "text": "Mot de passe oublié" }] }),
        ),
        page_with(
            "portail : lien de mot de passe expiré",
            url("/nouveau-mot-de-passe/invalide"),
            json!({
                "status": 410,
                "expect": [
                    { "selector": "main .error[role=alert]", "visible": true, "text": "plus valable" },
                    { "selector": "main a[href$=\"/mot-de-passe-oublie\"]", "visible": true },
                    { "selector": "#password", "count": 0 },
                ],
            }),
        ),
    ]))
    .await;
}

#[actix_web::test]
async fn family_first_sign_in_forces_a_password_change_and_pages_are_accessible() {
    let app = TestApp::spawn().await;
    // The account an agent creates at the counter, with its temporary password.
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let csrf = csrf_of(
        &admin
            .get(app.city_url(&app.city, "/agent/comptes"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let created = admin
        .post(app.city_url(&app.city, "/agent/comptes"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("display_name", "Joséphine Lefèvre"),
            ("email", "josephine.lefevre@exemple.test"),
            ("profile", "family"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let html = created.text().await.unwrap();
    let login = between(&html, "Identifiant : <strong>", "</strong>").to_string();
    let temporary =
        between(&html, "mot de passe provisoire : <strong><code>", "</code>").to_string();
    assert!(login.starts_with("famille-"), "{login}");

    let url = |path: &str| app.city_url(&app.city, path);
    let chosen = "Une phrase de passe familiale bien à nous";
    check_pages(spec(vec![
        page_with(
            "portail : changement de mot de passe imposé",
            url("/connexion"),
            json!({
                "steps": sign_in_steps(&login, &temporary, json!({ "waitForUrl": url("/mot-de-passe") })),
                "expect": [
                    { "selector": "h1", "text": "Changer de mot de passe" },
                    { "selector": "main .flash[role=status]", "visible": true, "text": "choisissez un mot de passe personnel" },
                    { "selector": "#current", "count": 1 },
                ],
            }),
        ),
        page_with(
            "portail : mon espace (mot de passe changé)",
            url("/mot-de-passe"),
            json!({
                "steps": [
                    { "fill": "#current", "value": temporary },
                    { "fill": "#password", "value": chosen },
                    { "fill": "#confirmation", "value": chosen },
                    { "click": "main form button[type=submit]", "waitForUrl": url("/espace") },
                ],
                "expect": [
                    { "selector": "h1", "text": "Bonjour Joséphine Lefèvre" },
                    { "selector": "main .flash[role=status]", "text": "Votre mot de passe est changé" },
                ],
            }),
        ),
    ]))
    .await;
}

// ------------------------------------------------------------------ family dossiers

/// Profiles that see every part of a family dossier (health included).
const SEES_EVERYTHING: &[&str] = &["city_admin", "medical"];

/// The fields of the creation form for a couple with one child (as in tests/family.rs).
const MARTIN: &[(&str, &str)] = &[
    ("situation", "couple"),
    ("regime", "caf"),
    ("allocataire", "1234567"),
    ("line1", "12 rue Jean-Jaurès"),
    ("postal_code", "69960"),
    ("town", "Corbas"),
    ("head_last_name", "Martin"),
    ("head_first_name", "Éloïse"),
    ("head_sex", "F"),
    ("head_birth_date", "1985-04-09"),
    ("head_email", "eloise.martin@exemple.test"),
    ("head_phone", "0612345678"),
    ("partner_last_name", "Martin"),
    ("partner_first_name", "Julien"),
    ("partner_sex", "M"),
    ("child1_last_name", "Martin"),
    ("child1_first_name", "Léo"),
    ("child1_sex", "M"),
    ("child1_birth_date", "2017-03-12"),
];

/// The body of a page `client` reads, with its status checked.
async fn read_page(client: &reqwest::Client, url: String) -> String {
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    response.text().await.unwrap()
}

/// Posts `fields` (plus the client's CSRF token) to `path`; returns the answer.
async fn post_form(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = app.csrf(client, &app.city).await;
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    client
        .post(app.city_url(&app.city, path))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Posts `fields` to `path` and expects the usual redirection after a change.
async fn post_ok(app: &TestApp, client: &reqwest::Client, path: &str, fields: &[(&str, &str)]) {
    let answer = post_form(app, client, path, fields).await;
    let status = answer.status();
    assert_eq!(
        status,
        303,
        "POST {path} : {}",
        answer.text().await.unwrap_or_default()
    );
}

/// A family created through the real creation form; returns its id.
async fn create_family_through_the_form(app: &TestApp, client: &reqwest::Client) -> i64 {
    let created = post_form(app, client, "/agent/familles", MARTIN).await;
    assert_eq!(created.status(), 303, "family creation");
    created.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/agent/familles/")
        .parse()
        .expect("/agent/familles/{id}")
}

/// `count` synthetic families (income, health sheets, authorisations, contacts, sometimes a
/// bank account or shared custody); returns the first one with children: (household, head).
async fn demo_families(app: &TestApp, seed: u64, count: usize) -> (i64, i64) {
    use marelle::domain::family::demo::{Locality, first_family_with_children, generate};
    let key = app.state.keys.city_key(&app.city.key_id);
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                generate(
                    conn,
                    &key,
                    &Locality {
                        postal_code: "69960",
                        town: "Corbas",
                    },
                    seed,
                    count,
                    marelle::platform::clock::today(),
                )
                .await?;
                first_family_with_children(conn).await
            })
        })
        .await
        .expect("demo families")
}

/// A document of `family` uploaded through the real form, valid until `valid_until`.
async fn upload_document(
    app: &TestApp,
    client: &reqwest::Client,
    family: i64,
    title: &str,
    valid_until: chrono::NaiveDate,
) {
    let form = reqwest::multipart::Form::new()
        .text("csrf", app.csrf(client, &app.city).await)
        .text("kind", "attestation_caf")
        .text("title", title.to_string())
        .text("valid_until", valid_until.format("%Y-%m-%d").to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec(),
            )
            .file_name("attestation.pdf"),
        );
    let stored = client
        .post(app.city_url(&app.city, &format!("/agent/familles/{family}/documents")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 303, "document upload");
}

/// Steps opening every `<details>` of a page whose HTML is `html` (axe only checks what is
/// rendered): each click opens the first one still closed, outer ones before inner ones.
fn open_every_details(html: &str) -> Vec<Value> {
    let count = html.matches("<summary").count();
    assert!(count > 0, "no <details> to open");
    vec![json!({ "click": "main details:not([open]) > summary" }); count]
}

/// A dossier with every section filled in, made through the back-office forms.
struct RichDossier {
    /// The synthetic family: income, bank account and mandate, documents, RGPD section.
    household: i64,
    /// Its first child: full health sheet, contacts, authorisations, shared custody.
    child: i64,
    /// The family created through the form (its head has an e-mail, no portal account).
    other_household: i64,
    /// The portal account of the synthetic family's head (temporary password).
    parent_login: String,
    parent_password: String,
}

async fn rich_dossier(app: &TestApp, agent: &reqwest::Client) -> RichDossier {
    let (household, head) = demo_families(app, 7, 1).await;
    let other_household = create_family_through_the_form(app, agent).await;
    let path = |suffix: &str| format!("/agent/familles/{household}{suffix}");
    post_ok(
        app,
        agent,
        &path("/banque"),
        &[
            ("holder_id", &head.to_string()),
            ("iban", "FR76 3000 6000 0112 3456 7890 189"),
            ("bic", "AGRIFRPP839"),
        ],
    )
    .await;
    let today = marelle::platform::clock::today();
    upload_document(
        app,
        agent,
        household,
        "Attestation CAF à renouveler",
        today + chrono::Days::new(10),
    )
    .await;
    upload_document(
        app,
        agent,
        household,
        "Attestation CAF périmée",
        today - chrono::Days::new(3),
    )
    .await;
    let html = read_page(agent, app.city_url(&app.city, &path(""))).await;
    let child: i64 = between(&html, "href=\"/agent/enfants/", "\"")
        .parse()
        .expect("a child id");
    let child_path = |suffix: &str| format!("/agent/enfants/{child}{suffix}");
    post_ok(
        app,
        agent,
        &child_path("/sante"),
        &[
            ("levels", "basic"),
            ("levels", "medical"),
            ("levels", "confidential"),
            ("diet", "no_pork"),
            ("allergies", "arachide, kiwi"),
            ("pai", "1"),
            ("what_to_do", "Stylo d'adrénaline dans le sac"),
            ("illnesses", "asthme"),
            ("medication", "Ventoline"),
            ("doctor", "Dr Roux"),
            ("medical_notes", "Contrôle annuel"),
            ("aeeh", "1"),
            ("mdph", "1"),
            ("confidential_notes", "Accompagnement AESH à prévoir"),
        ],
    )
    .await;
    post_ok(
        app,
        agent,
        &child_path("/contacts"),
        &[
            ("last_name", "Bernard"),
            ("first_name", "Colette"),
            ("relationship", "grand-mère"),
            ("phone", "0611223344"),
            ("role", "emergency"),
            ("role", "pick_up"),
            ("priority", "1"),
        ],
    )
    .await;
    post_ok(
        app,
        agent,
        &child_path("/contacts"),
        &[
            ("last_name", "Inconnu"),
            ("first_name", "Paul"),
            ("phone", "0699887766"),
            ("role", "forbidden"),
            ("priority", "2"),
        ],
    )
    .await;
    // Shared custody, a week out of two: the synthetic family may already be separated
    // (the child then has its two households), otherwise the child joins the other one.
    if !html.contains("Garde partagée") {
        post_ok(
            app,
            agent,
            &format!("/agent/familles/{other_household}/rattacher"),
            &[("child_id", &child.to_string()), ("guardian", "1")],
        )
        .await;
    }
    post_ok(
        app,
        agent,
        &child_path("/garde"),
        &[
            ("mode", "alternate"),
            ("week_a", &household.to_string()),
            ("reference_date", &today.format("%Y-%m-%d").to_string()),
            ("handover_time", "18:00"),
        ],
    )
    .await;
    let opened = post_form(
        app,
        agent,
        &path("/comptes"),
        &[("adult_id", &head.to_string())],
    )
    .await;
    assert_eq!(opened.status(), 200, "portal account");
    let html = opened.text().await.unwrap();
    let parent_login = between(&html, "identifiant <strong>", "<").to_string();
    let parent_password = between(&html, "<code>", "<").to_string();
    assert!(parent_login.starts_with("famille-"), "{parent_login}");
    RichDossier {
        household,
        child,
        other_household,
        parent_login,
        parent_password,
    }
}

/// `city_admin_signing_in` for an agent holding `profiles`.
async fn agent_signing_in(app: &TestApp, profiles: &[&str], path: &str) -> Value {
    let login = app.agent("Agnès Martin", profiles).await;
    let mut steps = sign_in_steps(
        &login,
        AGENT_PASSWORD,
        json!({ "waitForUrl": app.city_url(&app.city, "/agent/") }),
    );
    steps
        .as_array_mut()
        .expect("steps")
        .push(json!({ "goto": app.city_url(&app.city, path) }));
    steps
}

#[actix_web::test]
async fn backoffice_family_search_and_creation_pages_are_accessible() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(SEES_EVERYTHING).await;
    demo_families(&app, 11, 4).await;
    let martin = create_family_through_the_form(&app, &agent).await;
    let sign_in = agent_signing_in(&app, SEES_EVERYTHING, "/agent/familles").await;
    let url = |path: &str| app.city_url(&app.city, path);
    let submit =
        json!({ "click": "main form[method=post] button[type=submit]", "navigation": true });
    check_pages(spec(vec![
        page_with(
            "espace agents : familles (les plus récentes)",
            url("/agent/connexion"),
            json!({
                "steps": sign_in,
                "expect": [
                    { "selector": "h1", "text": "Familles" },
                    { "selector": "main table caption", "text": "Familles les plus récentes" },
                    { "selector": "main tbody th[scope=row] a", "visible": true },
                    { "selector": "main a[href=\"/agent/familles/nouvelle\"]", "visible": true },
                ],
            }),
        ),
        page_with(
            "espace agents : recherche de familles",
            url("/agent/familles?q=eloise+martn"),
            json!({ "expect": [
                { "selector": "main table caption", "text": "famille(s) pour « eloise martn »" },
                { "selector": format!("main tbody a[href=\"/agent/familles/{martin}\"]"), "visible": true },
            ] }),
        ),
        page_with(
            "espace agents : recherche de familles sans résultat",
            url("/agent/familles?q=zzzzzz&archives=1"),
            json!({ "expect": [
                { "selector": "main table caption", "text": "0 famille(s)" },
                { "selector": "main tbody td", "text": "Aucune famille ne correspond" },
                { "selector": "#q", "count": 1 },
            ] }),
        ),
        page_with(
            "espace agents : nouvelle famille",
            url("/agent/familles/nouvelle"),
            json!({ "expect": [
                { "selector": "h1", "text": "Nouvelle famille" },
                { "selector": "main fieldset legend", "text": "Foyer" },
                { "selector": "#child3_birth_date", "count": 1 },
            ] }),
        ),
        // A postal code the browser accepts but the server refuses: the form comes back,
        // filled in, with its French error.
        page_with(
            "espace agents : nouvelle famille refusée (code postal)",
            url("/agent/familles/nouvelle"),
            json!({
                "steps": [
                    { "fill": "#line1", "value": "1 rue Victor-Hugo" },
                    { "fill": "#postal_code", "value": "699" },
                    { "fill": "#town", "value": "Corbas" },
                    { "fill": "#head_last_name", "value": "Petit" },
                    { "fill": "#head_first_name", "value": "Luc" },
                    submit.clone(),
                ],
                "status": 422,
                "expect": [
                    { "selector": "main .error[role=alert]", "visible": true, "text": "code postal invalide" },
                    { "selector": "#head_last_name[value=\"Petit\"]", "count": 1 },
                ],
            }),
        ),
        // The same child as in an existing family: proposed instead of duplicated.
        page_with(
            "espace agents : nouvelle famille (homonymes proposés)",
            url("/agent/familles/nouvelle"),
            json!({
                "steps": [
                    { "fill": "#line1", "value": "3 place de la Mairie" },
                    { "fill": "#postal_code", "value": "69960" },
                    { "fill": "#town", "value": "Corbas" },
                    { "fill": "#head_last_name", "value": "Durand" },
                    { "fill": "#head_first_name", "value": "Anne" },
                    { "fill": "#child1_last_name", "value": "MARTIN" },
                    { "fill": "#child1_first_name", "value": "Leo" },
                    { "fill": "#child1_birth_date", "value": "2017-03-12" },
                    submit,
                ],
                "status": 422,
                "expect": [
                    { "selector": "main section[role=alert] h2", "visible": true, "text": "déjà connues" },
                    { "selector": format!("main section a[href=\"/agent/familles/{martin}\"]"), "visible": true },
                    { "selector": "main form button[type=submit]", "text": "Créer quand même" },
                ],
            }),
        ),
    ]))
    .await;
}

#[actix_web::test]
async fn backoffice_household_child_and_expiring_documents_pages_are_accessible() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(SEES_EVERYTHING).await;
    let dossier = rich_dossier(&app, &agent).await;
    let household_path = format!("/agent/familles/{}", dossier.household);
    let child_path = format!("/agent/enfants/{}", dossier.child);
    let other_path = format!("/agent/familles/{}", dossier.other_household);
    let household_html = read_page(&agent, app.city_url(&app.city, &household_path)).await;
    let child_html = read_page(&agent, app.city_url(&app.city, &child_path)).await;
    let mut household_steps = agent_signing_in(&app, SEES_EVERYTHING, &household_path).await;
    household_steps
        .as_array_mut()
        .expect("steps")
        .extend(open_every_details(&household_html));
    let url = |path: &str| app.city_url(&app.city, path);
    let all_open = json!({ "selector": "main details:not([open])", "count": 0 });
    check_pages(spec(vec![
        // Every section shown, every form unfolded.
        page_with(
            "espace agents : famille (tout déplié)",
            url("/agent/connexion"),
            json!({
                "steps": household_steps,
                "expect": [
                    { "selector": "h1", "text": "Famille" },
                    { "selector": "#synthese", "text": "Synthèse" },
                    { "selector": "#revenus", "count": 1 },
                    { "selector": "#banque + ul li", "text": "Mandat" },
                    { "selector": "#pieces + ul", "text": "Attestation CAF à renouveler" },
                    { "selector": "#rgpd", "count": 1 },
                    { "selector": "#historique", "count": 1 },
                    { "selector": "#iban", "visible": true },
                    all_open.clone(),
                ],
            }),
        ),
        page_with(
            "espace agents : fiche enfant (tout déplié)",
            url(&child_path),
            json!({
                "steps": open_every_details(&child_html),
                "expect": [
                    { "selector": "#sante", "text": "Fiche sanitaire" },
                    { "selector": "main section[aria-labelledby=sante]", "text": "arachide" },
                    { "selector": "main section[aria-labelledby=sante] h3", "text": "Informations médicales" },
                    { "selector": "main section[aria-labelledby=autorisations] li", "visible": true },
                    { "selector": "main section[aria-labelledby=contacts]", "text": "interdit de récupérer l'enfant" },
                    { "selector": "main section[aria-labelledby=garde] form", "visible": true },
                    { "selector": "#confidential_notes", "visible": true },
                    all_open,
                ],
            }),
        ),
        page_with(
            "espace agents : pièces arrivant à échéance",
            url("/agent/documents/expirant"),
            json!({ "expect": [
                { "selector": "h1", "text": "Pièces arrivant à échéance" },
                { "selector": "main table caption", "text": "2 pièce(s)" },
                { "selector": "main tbody", "text": "(expirée)" },
            ] }),
        ),
        // The agent opens the other family's portal account from its page: the
        // temporary password is shown once.
        page_with(
            "espace agents : famille (compte portail ouvert)",
            url(&other_path),
            json!({
                "steps": [
                    { "click": "main details > summary:has-text(\"Ouvrir un compte du portail famille\")" },
                    { "click": "main form[action$=\"/comptes\"] button[type=submit]", "navigation": true },
                ],
                "expect": [
                    { "selector": "main .flash[role=status]:has(code)", "visible": true, "text": "mot de passe provisoire" },
                    { "selector": "main .flash[role=status]:has(code)", "text": "Il n'apparaîtra plus" },
                ],
            }),
        ),
    ]))
    .await;
}

#[actix_web::test]
async fn portal_family_dossier_page_is_accessible() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(SEES_EVERYTHING).await;
    let dossier = rich_dossier(&app, &agent).await;
    let url = |path: &str| app.city_url(&app.city, path);
    let chosen = "Notre dossier famille à nous";
    let mut steps = sign_in_steps(
        &dossier.parent_login,
        &dossier.parent_password,
        json!({ "waitForUrl": url("/mot-de-passe") }),
    );
    steps.as_array_mut().expect("steps").extend([
        json!({ "fill": "#current", "value": dossier.parent_password }),
        json!({ "fill": "#password", "value": chosen }),
        json!({ "fill": "#confirmation", "value": chosen }),
        json!({ "click": "main form button[type=submit]", "waitForUrl": url("/espace") }),
        json!({ "goto": url("/mon-dossier") }),
    ]);
    check_pages(spec(vec![page_with(
        "portail : mon dossier famille",
        url("/connexion"),
        json!({
            "steps": steps,
            "expect": [
                { "selector": "h1", "text": "Mon dossier famille" },
                { "selector": "#adultes", "count": 1 },
                { "selector": "main section[aria-labelledby=enfants] article h3", "visible": true },
                { "selector": "main section[aria-labelledby=enfants]", "text": "arachide" },
                { "selector": "main section[aria-labelledby=enfants]", "text": "garde partagée" },
                { "selector": "#qf", "count": 1 },
            ],
        }),
    )]))
    .await;
}

#[actix_web::test]
async fn activity_enrolment_attendance_and_tariff_pages_are_accessible() {
    let app = TestApp::spawn().await;
    let kids = common::fixtures::children(&app, &app.city, 4, 71).await;
    let canteen = common::fixtures::activity(&app, &app.city, "canteen", Some(30)).await;
    common::fixtures::admit(&app, &app.city, canteen, kids[0]).await;
    let (_, sign_in) = city_admin_signing_in(&app, "/agent/activites").await;
    let url = |path: &str| app.city_url(&app.city, path);
    check_pages(spec(vec![
        page_with(
            "espace agents : activités",
            url("/agent/connexion"),
            json!({
                "steps": sign_in,
                "expect": [{ "selector": "main table", "visible": true, "text": "Activité canteen" }],
            }),
        ),
        page(
            "espace agents : activité",
            url(&format!("/agent/activites/{canteen}")),
        ),
        page("espace agents : écoles", url("/agent/ecoles")),
        page_with(
            "espace agents : inscriptions",
            url("/agent/inscriptions"),
            json!({ "expect": [{ "selector": "main table", "visible": true, "text": "Admise" }] }),
        ),
        page(
            "espace agents : nouvelle inscription",
            url(&format!("/agent/inscriptions/nouvelle?enfant={}", kids[1])),
        ),
        page("espace agents : inscription en masse", url("/agent/inscriptions/masse")),
        page("espace agents : pointage", url("/agent/pointage")),
        page("espace agents : tarifs", url("/agent/tarifs")),
    ]))
    .await;
}
