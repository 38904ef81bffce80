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

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use marelle::platform::tenancy::provisioning::{CityRequest, CloneRequest};
use marelle::platform::tenancy::{City, Env, Theme};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// Longest a whole browser run may take before the test gives up on it.
const RUN_TIMEOUT: Duration = Duration::from_secs(240);

fn browser_dir() -> PathBuf {
    repo_path("tests/browser")
}

/// Everything the runner needs, or a panic saying how to get it.
fn preflight() {
    let modules = browser_dir().join("node_modules");
    for needed in ["playwright-core/package.json", "axe-core/axe.min.js"] {
        assert!(
            modules.join(needed).exists(),
            "tests navigateur : {} est absent. Installez les dépendances avec :\n    \
             npm ci --prefix tests/browser\n(Node.js et npm : apt-get install nodejs npm)",
            modules.join(needed).display()
        );
    }
    let chromium = std::env::var("MARELLE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "tests navigateur : Chromium introuvable ({chromium}). Installez-le avec :\n    \
         apt-get install chromium\n(ou indiquez un autre binaire dans MARELLE_CHROMIUM)"
    );
}

/// Runs check-pages.mjs on `spec`; returns its JSON report, or panics with its summary
/// (every violation: rule, impact, selector, page) when a page fails a check.
async fn check_pages(spec: Value) -> Value {
    preflight();
    let report_path = std::env::temp_dir().join(format!("{}.json", unique("marelle-browser-")));
    let node = std::env::var("MARELLE_TEST_NODE").unwrap_or_else(|_| "node".into());
    let mut child = tokio::process::Command::new(&node)
        .arg(browser_dir().join("check-pages.mjs"))
        .arg("-")
        .arg("--report")
        .arg(&report_path)
        .current_dir(repo_path(""))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("tests navigateur : impossible de lancer « {node} » ({e}) ; apt-get install nodejs npm")
        });
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(spec.to_string().as_bytes())
        .await
        .expect("write the spec");
    drop(stdin);
    let output = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("check-pages.mjs n'a pas fini en {RUN_TIMEOUT:?}"))
        .expect("check-pages.mjs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = std::fs::read_to_string(&report_path)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let Some(report) = report else {
        panic!(
            "check-pages.mjs a échoué sans rapport (code {:?}) :\n{stderr}\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout)
        );
    };
    print_timings(&report);
    assert!(
        output.status.success() && report["ok"] == true,
        "des pages ne passent pas les contrôles d'accessibilité (code {:?}) ; rapport complet : {}\n\n{stderr}",
        output.status.code(),
        report_path.display()
    );
    let _ = std::fs::remove_file(&report_path);
    report
}

/// One line per page (visible with `--no-capture`, or with the output of a failure).
fn print_timings(report: &Value) {
    println!(
        "Chromium {} / axe-core {} : {} ms",
        report["chromium"].as_str().unwrap_or("?"),
        report["axe"].as_str().unwrap_or("?"),
        report["durationMs"]
    );
    for page in report["pages"].as_array().into_iter().flatten() {
        let review = page["needsReview"].as_array().map_or(0, Vec::len);
        println!(
            "  {} ms  {}  {}{}",
            page["durationMs"],
            page["name"].as_str().unwrap_or("?"),
            page["phasesMs"],
            if review > 0 {
                format!("  ({review} point(s) qu'axe n'a pas pu trancher, voir needsReview)")
            } else {
                String::new()
            }
        );
    }
}

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
