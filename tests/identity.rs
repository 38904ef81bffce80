//! Identity, permissions and traceability, through the real interfaces: the route table
//! against every default profile, a real OpenID Connect provider, a real SMTP server,
//! CSRF, throttling, session fixation, cross-city probes, the API and the CLI.

mod common;

use common::oidc::{OidcProvider, follow_login, follow_logout};
use common::smtp::SmtpServer;
use common::*;
use marelle::platform::auth::authz::{Action, default_profiles};
use marelle::platform::settings::{self, Version};
use marelle::platform::tenancy::City;
use marelle::web::Need;
use reqwest::Method;
use serde_json::{Value, json};

/// Sets city settings (as an admin would), effective from 2000-01-01.
async fn configure(app: &TestApp, city: &City, values: &[(&str, Value)]) {
    let versions: Vec<Version> = values
        .iter()
        .map(|(key, value)| Version {
            key: key.to_string(),
            valid_from: chrono::NaiveDate::from_ymd_opt(2000, 1, 2).unwrap(),
            value: value.clone(),
            author: "test".into(),
            comment: String::new(),
        })
        .collect();
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                for version in versions {
                    settings::record(conn, &marelle::domain::settings::CATALOGUE, version).await?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();
    app.state.settings.invalidate_all();
}

/// A concrete path for a route pattern (ids that exist nowhere: the guard decides first).
fn concrete(path: &str, city: &City) -> String {
    path.replace("{path:.*}", "marelle.css")
        .replace("{slug}", &city.slug)
        .replace("{token}", "jeton-inconnu")
        .replace("{id}", "999999")
        .replace("{holding}", "999999")
}

fn profile_allows(profile: &str, object: &str, action: Action) -> bool {
    default_profiles()
        .iter()
        .find(|p| p.id == profile)
        .is_some_and(|p| {
            p.permissions
                .iter()
                .any(|(o, a)| o == object && a == action.as_str())
        })
}

/// Every route of the table, tried by an agent of every default profile: a route that
/// needs an agent permission answers 403 exactly when the profile lacks it.
#[actix_web::test]
async fn every_route_against_every_default_profile() {
    let app = TestApp::spawn().await;
    let routes = marelle::web::routes().list();
    assert!(routes.len() > 20, "the table lists every route");
    let mut agent_routes = 0;
    for profile in default_profiles()
        .iter()
        .map(|p| p.id.clone())
        .filter(|id| !id.starts_with("family"))
    {
        let (client, _) = app.agent_client(&[&profile]).await;
        let csrf = app.csrf(&client, &app.city).await;
        // Signing out comes last, or the rest would run signed out.
        let mut ordered = routes.clone();
        ordered.sort_by_key(|(_, path, _)| path.contains("deconnexion"));
        for (method, path, need) in &ordered {
            let expected_allowed = match need {
                Need::Agent(object, action) => Some(profile_allows(&profile, object, *action)),
                Need::AnyAgent | Need::Public => Some(true),
                // Other kinds of callers: checked by their own tests below.
                Need::Family(..) | Need::AnyFamily | Need::Api(..) | Need::AnyApi | Need::Sitiv => {
                    None
                }
            };
            let Some(expected_allowed) = expected_allowed else {
                continue;
            };
            // Public pages are not the matrix's business; their forms (sign-in...) have
            // their own tests, and failing sign-ins here would only lock the address.
            if path.starts_with("/admin") || (*need == Need::Public && method.as_str() != "GET") {
                continue;
            }
            if matches!(need, Need::Agent(..)) {
                agent_routes += 1;
            }
            let url = app.city_url(&app.city, &concrete(path, &app.city));
            let request = match method.as_str() {
                "GET" => client.get(&url),
                other => client
                    .request(Method::from_bytes(other.as_bytes()).unwrap(), &url)
                    .form(&[("csrf", csrf.as_str())]),
            };
            let status = request.send().await.unwrap().status().as_u16();
            if expected_allowed {
                assert!(
                    status != 403 && status != 401,
                    "{profile} {method} {path}: allowed, got {status}"
                );
            } else {
                assert_eq!(status, 403, "{profile} {method} {path}: must be refused");
            }
        }
    }
    assert!(agent_routes > 0);
}

#[actix_web::test]
async fn denials_are_audited_and_an_animator_sees_no_agent_administration() {
    let app = TestApp::spawn().await;
    let (animator, login) = app.agent_client(&["animator"]).await;
    let refused = animator
        .get(app.city_url(&app.city, "/agent/agents"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Vous n&#x27;avez pas les droits")
    );
    let menu = animator
        .get(app.city_url(&app.city, "/agent/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !menu.contains("href=\"/agent/agents\""),
        "the menu hides what is refused"
    );

    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let history = admin
        .get(app.city_url(&app.city, "/agent/historique?user=agent"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        history.contains("refus d&#x27;accès"),
        "the denial is in the history"
    );
    assert!(history.contains("connexion"), "sign-ins too");
    let _ = login;
}

#[actix_web::test]
async fn a_city_admin_grants_and_edits_profiles_and_it_takes_effect_at_once() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let (agent, agent_login) = app.agent_client(&["animator"]).await;
    assert_eq!(
        agent
            .get(app.city_url(&app.city, "/agent/historique"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    // The admin gives the auditor profile: the history opens.
    let page = admin
        .get(app.city_url(&app.city, "/agent/agents"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let agent_id: i64 = {
        let marker = format!("<code>{agent_login}</code>");
        let after = &page[page.find(&marker).expect("agent listed")..];
        let action = after.find("/agent/agents/").expect("agent form");
        after[action + "/agent/agents/".len()..]
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let granted = admin
        .post(app.city_url(&app.city, &format!("/agent/agents/{agent_id}/profils")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("profile", "auditor"),
            ("population", "city"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), 303);
    assert_eq!(
        agent
            .get(app.city_url(&app.city, "/agent/historique"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A population must be well-formed: a French error, nothing granted.
    let bad = admin
        .post(app.city_url(&app.city, &format!("/agent/agents/{agent_id}/profils")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("profile", "medical"),
            ("population", "école 3"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("population invalide"));

    // The admin takes reading the history away from the auditor profile: refused again.
    let permissions: Vec<(&str, String)> = default_profiles()
        .into_iter()
        .find(|p| p.id == "auditor")
        .unwrap()
        .permissions
        .into_iter()
        .filter(|(o, _)| o != "audit")
        .map(|(o, a)| ("permission", format!("{o}|{a}")))
        .chain([("csrf", csrf.clone())])
        .collect();
    let saved = admin
        .post(app.city_url(&app.city, "/agent/profils/auditor"))
        .form(&permissions)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    assert_eq!(
        agent
            .get(app.city_url(&app.city, "/agent/historique"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[actix_web::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let forged = admin
        .post(app.city_url(&app.city, "/agent/agents"))
        .form(&[
            ("csrf", "forged"),
            ("login", "pirate"),
            ("display_name", "Pirate"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().contains("formulaire a expiré"));
    let page = admin
        .get(app.city_url(&app.city, "/agent/agents"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("pirate"), "nothing was created");
}

#[actix_web::test]
async fn repeated_failures_lock_the_login_without_telling_whether_it_exists() {
    let app = TestApp::spawn().await;
    let login = app.agent("Victime", &["animator"]).await;
    let client = app.client();
    let unknown = app
        .sign_in(&client, &app.city, "/agent", "personne", "x")
        .await;
    let unknown_text = unknown.text().await.unwrap();
    let wrong = app
        .sign_in(&client, &app.city, "/agent", &login, "mauvais")
        .await;
    assert_eq!(wrong.status(), 401);
    let wrong_text = wrong.text().await.unwrap();
    assert!(wrong_text.contains("Identifiant ou mot de passe incorrect"));
    assert!(
        unknown_text.contains("Identifiant ou mot de passe incorrect"),
        "same message: no enumeration"
    );

    // Ten failures (in parallel: each waits its progressive delay) lock the login...
    let attempts: Vec<_> = (0..10)
        .map(|_| {
            let (client, app_login) = (app.client(), login.clone());
            let url = app.city_url(&app.city, "/agent/connexion");
            async move {
                let page = client.get(&url).send().await.unwrap().text().await.unwrap();
                let csrf = csrf_of(&page);
                client
                    .post(&url)
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("login", &app_login),
                        ("password", "faux"),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        })
        .collect();
    futures_util::future::join_all(attempts).await;
    // ... even against the right password, for a while.
    let locked = app
        .sign_in(&app.client(), &app.city, "/agent", &login, AGENT_PASSWORD)
        .await;
    assert_eq!(locked.status(), 429);
    assert!(locked.text().await.unwrap().contains("Trop de tentatives"));
}

#[actix_web::test]
async fn signing_in_issues_a_new_session_and_signing_out_ends_it() {
    let app = TestApp::spawn().await;
    let login = app.agent("Agnès", &["auditor"]).await;
    let client = app.client();
    let answer = app
        .sign_in(&client, &app.city, "/agent", &login, AGENT_PASSWORD)
        .await;
    let first = session_cookie(&answer);
    assert_eq!(
        app.sign_in(&client, &app.city, "/agent", &login, AGENT_PASSWORD)
            .await
            .status(),
        303
    );
    let answer = app
        .sign_in(&client, &app.city, "/agent", &login, AGENT_PASSWORD)
        .await;
    let second = session_cookie(&answer);
    assert_ne!(first, second, "a new session id at each sign-in");

    // A session id planted before sign-in is worth nothing.
    let planted = app.bare_client();
    let attempt = planted
        .get(app.city_url(&app.city, "/agent/"))
        .header("Cookie", "marelle_agent=planted-value")
        .send()
        .await
        .unwrap();
    assert_eq!(attempt.status(), 303);

    let csrf = app.csrf(&client, &app.city).await;
    let out = client
        .post(app.city_url(&app.city, "/agent/deconnexion"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    // The old cookie value no longer opens anything.
    let replay = planted
        .get(app.city_url(&app.city, "/agent/"))
        .header("Cookie", format!("marelle_agent={second}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
    assert_eq!(replay.headers()["location"], "/agent/connexion");
}

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .cookies()
        .find(|c| c.name() == "marelle_agent")
        .map(|c| c.value().to_string())
        .expect("a session cookie")
}

#[actix_web::test]
async fn an_agent_of_one_city_gets_nothing_from_another_with_the_same_cookie_or_token() {
    let app = TestApp::spawn().await;
    let other = app.add_city("Ville Voisine").await;
    let login = app
        .agent("Agent de la première ville", &["city_admin"])
        .await;
    let client = app.client();
    let answer = app
        .sign_in(&client, &app.city, "/agent", &login, AGENT_PASSWORD)
        .await;
    let cookie = session_cookie(&answer);
    let bare = app.bare_client();
    let elsewhere = bare
        .get(format!("http://127.0.0.1:{}/agent/agents", app.addr.port()))
        .header("Host", &other.hosts[0])
        .header("Cookie", format!("marelle_agent={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 303, "not signed in on the other city");
    // Nor does the same login exist there.
    assert_eq!(
        app.sign_in(&app.client(), &other, "/agent", &login, AGENT_PASSWORD)
            .await
            .status(),
        401
    );

    let (ok, stdout, stderr) = marelle(&[
        "api-client",
        "create",
        &app.city.slug,
        "--name",
        "GRC Publik",
        "--scope",
        "school_agent",
    ]);
    assert!(ok, "{stderr}");
    let token = stdout.lines().last().unwrap().trim().to_string();
    let me = bare
        .get(app.city_url(&app.city, "/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let body: Value = me.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "city": app.city.slug, "name": "GRC Publik", "scopes": ["school_agent"] })
    );
    let foreign = bare
        .get(app.city_url(&other, "/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 401);
    let json: Value = foreign.json().await.unwrap();
    assert_eq!(json["error"], "non_authentifie");
    let anonymous = bare
        .get(app.city_url(&app.city, "/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // Bad input on the CLI: French error, nothing created.
    let (ok, _, stderr) = marelle(&[
        "api-client",
        "create",
        &app.city.slug,
        "--name",
        "X",
        "--scope",
        "inexistant",
    ]);
    assert!(!ok);
    assert!(stderr.contains("profil inconnu"), "{stderr}");
}

fn op_config(app: &TestApp, city: &City) -> Value {
    let base = app.city_url(city, "");
    json!({
        "clients": [
            { "client_id": "marelle-agents", "client_secret": "secret-agents",
              "redirect_uris": [format!("{base}/agent/sso/retour")],
              "post_logout_redirect_uris": [format!("{base}/agent/connexion?au_revoir=1")] },
            { "client_id": "marelle-familles", "client_secret": "secret-familles",
              "redirect_uris": [format!("{base}/franceconnect/retour")],
              "post_logout_redirect_uris": [format!("{base}/connexion?au_revoir=1")] },
        ],
        "users": {
            "agent": { "sub": "lemon-0042", "given_name": "Élodie", "family_name": "Marchand",
                       "email": "elodie.marchand@ville.test", "preferred_username": "emarchand" },
            "parent": { "sub": "fc-7f3a9c", "given_name": "Joséphine", "family_name": "Lefèvre",
                        "email": "josephine.lefevre@exemple.test", "birthdate": "1979-11-05" },
        },
        "default_user": "agent",
        "acr_values": ["eidas1"],
    })
}

#[actix_web::test]
async fn agents_sign_in_and_out_through_a_real_openid_connect_provider() {
    let app = TestApp::spawn().await;
    let provider = OidcProvider::start(op_config(&app, &app.city)).await;
    configure(
        &app,
        &app.city,
        &[
            ("sso.agents.enabled", json!(true)),
            ("sso.agents.issuer", json!(provider.issuer)),
            ("sso.agents.client_id", json!("marelle-agents")),
            ("sso.agents.client_secret", json!("secret-agents")),
            ("sso.agents.auto_create", json!(true)),
        ],
    )
    .await;
    let client = app.client();
    let page = client
        .get(app.city_url(&app.city, "/agent/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("href=\"/agent/sso\""), "the SSO button shows");

    let start = client
        .get(app.city_url(&app.city, "/agent/sso"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    assert!(authorize.starts_with(&provider.issuer));
    assert!(authorize.contains("code_challenge_method=S256"), "PKCE");
    let callback = follow_login(&client, &authorize).await;
    assert!(callback.contains("/agent/sso/retour"), "{callback}");

    // A tampered state is refused, and so is the right answer replayed afterwards.
    let tampered = callback.replace("state=", "state=x");
    assert_eq!(client.get(&tampered).send().await.unwrap().status(), 403);
    let signed = client.get(&callback).send().await.unwrap();
    assert_eq!(signed.status(), 303, "signed in");
    assert_eq!(signed.headers()["location"], "/agent/");
    let home = client
        .get(app.city_url(&app.city, "/agent/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Élodie Marchand"), "created from the claims");
    assert_eq!(
        client.get(&callback).send().await.unwrap().status(),
        403,
        "no replay"
    );
    // Created with no rights until an admin grants a profile.
    assert_eq!(
        client
            .get(app.city_url(&app.city, "/agent/agents"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    // Single logout: our session ends, then the provider's.
    let csrf = app.csrf(&client, &app.city).await;
    let out = client
        .post(app.city_url(&app.city, "/agent/deconnexion"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let end_session = out.headers()["location"].to_str().unwrap().to_string();
    assert!(
        end_session.starts_with(&provider.issuer),
        "RP-initiated logout: {end_session}"
    );
    let back = follow_logout(&client, &end_session).await;
    assert!(back.contains("/agent/connexion?au_revoir=1"), "{back}");
    assert_eq!(
        client
            .get(app.city_url(&app.city, "/agent/"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
}

#[actix_web::test]
async fn families_sign_in_with_franceconnect_requiring_eidas1() {
    let app = TestApp::spawn().await;
    let provider = OidcProvider::start(op_config(&app, &app.city)).await;
    configure(
        &app,
        &app.city,
        &[
            ("sso.families.enabled", json!(true)),
            ("sso.families.issuer", json!(provider.issuer)),
            ("sso.families.client_id", json!("marelle-familles")),
            ("sso.families.client_secret", json!("secret-familles")),
        ],
    )
    .await;
    // An account held under the same e-mail is linked at the first FranceConnect sign-in.
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let csrf = app.csrf(&admin, &app.city).await;
    let created = admin
        .post(app.city_url(&app.city, "/agent/comptes"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("display_name", "Joséphine Lefèvre"),
            ("email", "Josephine.Lefevre@exemple.test"),
            ("profile", "family"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);

    let client = app.client();
    let start = client
        .get(app.city_url(&app.city, "/franceconnect"))
        .send()
        .await
        .unwrap();
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    assert!(authorize.contains("acr_values=eidas1"), "{authorize}");
    let callback = follow_login(&client, &format!("{authorize}&login_hint=parent")).await;
    let signed = client.get(&callback).send().await.unwrap();
    assert_eq!(signed.status(), 303);
    assert_eq!(signed.headers()["location"], "/espace");
    // The agent-set temporary password would force a change; FranceConnect does not.
    let space = client
        .get(app.city_url(&app.city, "/espace"))
        .send()
        .await
        .unwrap();
    assert!(space.status() == 200 || space.status() == 303);

    // An identity matching no account is sent to the account request form.
    let stranger_app = TestApp::spawn().await;
    let stranger_op = OidcProvider::start(op_config(&stranger_app, &stranger_app.city)).await;
    configure(
        &stranger_app,
        &stranger_app.city,
        &[
            ("sso.families.enabled", json!(true)),
            ("sso.families.issuer", json!(stranger_op.issuer)),
            ("sso.families.client_id", json!("marelle-familles")),
            ("sso.families.client_secret", json!("secret-familles")),
        ],
    )
    .await;
    let client = stranger_app.client();
    let start = client
        .get(stranger_app.city_url(&stranger_app.city, "/franceconnect"))
        .send()
        .await
        .unwrap();
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    let callback = follow_login(&client, &format!("{authorize}&login_hint=parent")).await;
    let refused = client.get(&callback).send().await.unwrap();
    assert_eq!(refused.headers()["location"], "/demande-de-compte");
}

#[actix_web::test]
async fn a_family_requests_an_account_an_agent_accepts_and_the_mail_link_sets_the_password_once() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_configured(|config| use_smtp(config, &smtp)).await;
    let family = app.client();
    let page = family
        .get(app.city_url(&app.city, "/demande-de-compte"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let invalid = family
        .post(app.city_url(&app.city, "/demande-de-compte"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("last_name", "Durand"),
            ("first_name", "Léa"),
            ("email", "pas-une-adresse"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 422);
    let kept = invalid.text().await.unwrap();
    assert!(
        kept.contains("adresse de courriel invalide") && kept.contains("value=\"Durand\""),
        "French error, input kept"
    );
    let sent = family
        .post(app.city_url(&app.city, "/demande-de-compte"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("last_name", "Durand"),
            ("first_name", "Léa"),
            ("email", "lea.durand@exemple.test"),
            ("message", "Deux enfants à l'école Jules-Ferry"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);

    let (agent, _) = app.agent_client(&["school_agent"]).await;
    let queue = agent
        .get(app.city_url(&app.city, "/agent/comptes/demandes"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(queue.contains("Léa Durand") && queue.contains("Jules-Ferry"));
    let accept = queue
        .split("action=\"/agent/comptes/demandes/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_of(&queue);
    let accepted = agent
        .post(app.city_url(&app.city, &format!("/agent/comptes/demandes/{accept}")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 303);

    let mail = smtp
        .wait_for(
            |m| m.to.iter().any(|t| t == "lea.durand@exemple.test"),
            std::time::Duration::from_secs(5),
        )
        .await;
    assert!(
        mail.subject.contains("Votre compte du portail famille"),
        "{}",
        mail.subject
    );
    assert!(mail.from.contains("ne-pas-repondre@sitiv.test"));
    let login = mail
        .body_text
        .split("Votre identifiant : ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let link = mail
        .body_text
        .lines()
        .find(|l| l.contains("/nouveau-mot-de-passe/"))
        .unwrap()
        .trim()
        .to_string();

    let page = family
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let weak = family
        .post(&link)
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", "court"),
            ("confirmation", "court"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 422);
    assert!(
        weak.text()
            .await
            .unwrap()
            .contains("au moins 12 caractères")
    );
    let set = family
        .post(&link)
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", "Les enfants aiment la cantine"),
            ("confirmation", "Les enfants aiment la cantine"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 303);
    assert_eq!(
        family.get(&link).send().await.unwrap().status(),
        410,
        "single use"
    );
    let signed = app
        .sign_in(
            &family,
            &app.city,
            "",
            &login,
            "Les enfants aiment la cantine",
        )
        .await;
    assert_eq!(signed.status(), 303);
    assert_eq!(signed.headers()["location"], "/espace");
    let by_mail = app
        .sign_in(
            &app.client(),
            &app.city,
            "",
            "LEA.DURAND@exemple.test",
            "Les enfants aiment la cantine",
        )
        .await;
    assert_eq!(by_mail.status(), 303, "the e-mail works as identifier");
}

#[actix_web::test]
async fn a_refused_request_is_told_by_mail_and_a_reset_link_expires_after_use() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_configured(|config| use_smtp(config, &smtp)).await;
    let family = app.client();
    let page = family
        .get(app.city_url(&app.city, "/demande-de-compte"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    family
        .post(app.city_url(&app.city, "/demande-de-compte"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("last_name", "Moreau"),
            ("first_name", "Hugo"),
            ("email", "hugo.moreau@exemple.test"),
        ])
        .send()
        .await
        .unwrap();
    let (agent, _) = app.agent_client(&["early_childhood_agent"]).await;
    let queue = agent
        .get(app.city_url(&app.city, "/agent/comptes/demandes"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refuse = queue
        .split("action=\"/agent/comptes/demandes/")
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_of(&queue);
    let no_reason = agent
        .post(app.city_url(&app.city, &format!("/agent/comptes/demandes/{refuse}")))
        .form(&[("csrf", csrf.as_str()), ("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_reason.status(), 422);
    let refused = agent
        .post(app.city_url(&app.city, &format!("/agent/comptes/demandes/{refuse}")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "Vous n'habitez pas la commune."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 303);
    let mail = smtp
        .wait_for(
            |m| m.to.iter().any(|t| t == "hugo.moreau@exemple.test"),
            std::time::Duration::from_secs(5),
        )
        .await;
    assert!(mail.body_text.contains("Vous n'habitez pas la commune."));

    // Password reset of an agent: same answer for an unknown login, a link for a known one.
    let login = app.agent("Agent distrait", &["animator"]).await;
    let client = app.client();
    for who in ["inconnu", login.as_str()] {
        let page = client
            .get(app.city_url(&app.city, "/agent/mot-de-passe-oublie"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_of(&page);
        let answer = client
            .post(app.city_url(&app.city, "/agent/mot-de-passe-oublie"))
            .form(&[("csrf", csrf.as_str()), ("login", who)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303);
    }
    let mail = smtp
        .wait_for(
            |m| m.to.iter().any(|t| t.starts_with(&login)),
            std::time::Duration::from_secs(5),
        )
        .await;
    assert!(mail.subject.contains("Votre mot de passe"));
    assert!(mail.body_text.contains("valable 2 heures"));
    assert_eq!(
        smtp.messages()
            .iter()
            .filter(|m| m.subject.contains("Votre mot de passe"))
            .count(),
        1,
        "no mail for an unknown login"
    );
    let link = mail
        .body_text
        .lines()
        .find(|l| l.contains("/nouveau-mot-de-passe/"))
        .unwrap()
        .trim()
        .to_string();
    let page = client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let set = client
        .post(&link)
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", "Nouvelle phrase secrète"),
            ("confirmation", "Nouvelle phrase secrète"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 303);
    assert_eq!(
        app.sign_in(&app.client(), &app.city, "/agent", &login, AGENT_PASSWORD)
            .await
            .status(),
        401,
        "old password gone"
    );
    assert_eq!(
        app.sign_in(
            &app.client(),
            &app.city,
            "/agent",
            &login,
            "Nouvelle phrase secrète"
        )
        .await
        .status(),
        303
    );
}

#[actix_web::test]
async fn an_account_created_by_an_agent_must_change_its_temporary_password_first() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["school_agent"]).await;
    let csrf = app.csrf(&agent, &app.city).await;
    let created = agent
        .post(app.city_url(&app.city, "/agent/comptes"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("display_name", "Karim Benali"),
            ("email", "karim.benali@exemple.test"),
            ("profile", "family_payment_only"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let login = created
        .split("Identifiant : <strong>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let password = created
        .split("<code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(login.starts_with("famille-"));

    let family = app.client();
    assert_eq!(
        app.sign_in(&family, &app.city, "", &login, &password)
            .await
            .status(),
        303
    );
    let forced = family
        .get(app.city_url(&app.city, "/espace"))
        .send()
        .await
        .unwrap();
    assert_eq!(forced.status(), 303);
    assert_eq!(forced.headers()["location"], "/mot-de-passe");
    let page = family
        .get(app.city_url(&app.city, "/mot-de-passe"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("choisissez un mot de passe personnel"));
    let csrf = csrf_of(&page);
    let changed = family
        .post(app.city_url(&app.city, "/mot-de-passe"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current", password.as_str()),
            ("password", "Un mot de passe bien à moi"),
            ("confirmation", "Un mot de passe bien à moi"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 303);
    assert_eq!(
        family
            .get(app.city_url(&app.city, "/espace"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[actix_web::test]
async fn break_glass_opens_a_city_for_one_hour_and_is_audited_on_both_sides() {
    let app = TestApp::spawn().await;
    let console = app.client();
    let page = console
        .get(app.admin_url("/admin/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let signed = console
        .post(app.admin_url("/admin/connexion"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    let no_reason = console
        .post(app.admin_url(&format!("/admin/villes/{}/urgence", app.city.slug)))
        .form(&[("csrf", csrf.as_str()), ("reason", "test")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_reason.status(), 422);
    let opened = console
        .post(app.admin_url(&format!("/admin/villes/{}/urgence", app.city.slug)))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "Incident de facturation n° 4521"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), 303);
    let handover = opened.headers()["location"].to_str().unwrap().to_string();
    assert!(handover.contains(&app.city.hosts[0]) && handover.contains("/agent/urgence/"));
    let entered = console.get(&handover).send().await.unwrap();
    assert_eq!(entered.status(), 303);
    assert_eq!(
        console.get(&handover).send().await.unwrap().status(),
        404,
        "the handover link works once"
    );
    let dashboard = console
        .get(app.city_url(&app.city, "/agent/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dashboard.contains("Accès d'urgence SITIV"), "{dashboard}");
    let history = console
        .get(app.city_url(&app.city, "/agent/historique"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        history.contains("accès d&#x27;urgence") && history.contains("Incident de facturation")
    );
}

#[actix_web::test]
async fn the_cli_creates_the_first_agent_of_a_new_city() {
    let app = TestApp::spawn().await;
    let (ok, stdout, stderr) = marelle(&[
        "agent",
        "create",
        &app.city.slug,
        "premier.admin",
        "--name",
        "Premier Administrateur",
        "--profile",
        "city_admin",
    ]);
    assert!(ok, "{stderr}");
    let password = stdout.lines().last().unwrap().trim().to_string();
    let client = app.client();
    assert_eq!(
        app.sign_in(&client, &app.city, "/agent", "premier.admin", &password)
            .await
            .status(),
        303
    );
    let forced = client
        .get(app.city_url(&app.city, "/agent/agents"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        forced.headers()["location"],
        "/agent/mot-de-passe",
        "temporary password must be changed"
    );
    let (ok, _, stderr) = marelle(&[
        "agent",
        "create",
        &app.city.slug,
        "premier.admin",
        "--name",
        "Doublon",
    ]);
    assert!(!ok);
    assert!(stderr.contains("déjà pris"), "{stderr}");
}

/// Moves the agent sessions of the test city: `last_seen_at` and `expires_at` set back
/// by the given number of minutes.
async fn age_sessions(app: &TestApp, idle_minutes: i32, expired_minutes: i32) {
    use diesel_async::RunQueryDsl;
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                diesel::sql_query(
                    "UPDATE sessions SET last_seen_at = now() - make_interval(mins => $1),
                                         expires_at = now() - make_interval(mins => $2)",
                )
                .bind::<diesel::sql_types::Integer, _>(idle_minutes)
                .bind::<diesel::sql_types::Integer, _>(expired_minutes)
                .execute(conn)
                .await?;
                Ok(())
            })
        })
        .await
        .unwrap();
}

#[actix_web::test]
async fn sessions_end_after_idle_time_or_at_their_absolute_expiry_and_activity_keeps_them() {
    let app = TestApp::spawn().await;
    let dashboard = app.city_url(&app.city, "/agent/");
    let status = |client: reqwest::Client| {
        let url = dashboard.clone();
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };

    // Active 29 minutes ago, expiring in an hour: still signed in, and the idle timer
    // restarts from this request.
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    age_sessions(&app, 29, -60).await;
    assert_eq!(status(agent.clone()).await, 200);
    let idle_seconds: f64 = app
        .db()
        .run(app.city.scope("test"), |conn| {
            Box::pin(async move {
                use diesel_async::RunQueryDsl;
                #[derive(diesel::QueryableByName)]
                struct Idle {
                    #[diesel(sql_type = diesel::sql_types::Double)]
                    seconds: f64,
                }
                let idle: Idle = diesel::sql_query(
                    "SELECT extract(epoch FROM now() - max(last_seen_at))::float8 AS seconds
                       FROM sessions",
                )
                .get_result(conn)
                .await?;
                Ok(idle.seconds)
            })
        })
        .await
        .unwrap();
    assert!(idle_seconds < 60.0, "the request restarted the idle timer");

    // Idle for longer than the city's 30 minutes: signed out.
    age_sessions(&app, 31, -60).await;
    assert_ne!(status(agent.clone()).await, 200, "idle too long");

    // Active a minute ago but past its absolute expiry: signed out too.
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    assert_eq!(status(agent.clone()).await, 200);
    age_sessions(&app, 1, 1).await;
    assert_ne!(status(agent).await, 200, "past the absolute expiry");
}
