//! The family portal by rights and its enrolment mails (POR-05, POR-11), through the real
//! pages, a real PostgreSQL and a real SMTP server: the menu and the « Mon espace » tiles
//! show only what the account's profile opens (the URLs still answer 403); a request filed
//! on the portal is confirmed by a French mail to the account and the guardians; each
//! decision of the commission (and the admission) is mailed too, never to a payment-only
//! account; an SMTP server that is down loses neither the request nor the decision.

mod common;

use std::time::Duration;

use chrono::{Days, TimeDelta};
use common::fixtures::{self, activity};
use common::pages::{self, get, post};
use common::smtp::{Message, SmtpServer};
use common::*;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use marelle::domain::activity::catalogue::{self, NewPeriod};
use marelle::domain::activity::enrolment::{self, EnrolmentView, Filter};
use marelle::domain::booking::family::day_label;
use marelle::platform::auth::passwords;
use marelle::platform::clock;

const PASSWORD: &str = "Une phrase de passe de parent";
const WAIT: Duration = Duration::from_secs(10);

#[derive(QueryableByName)]
struct Household {
    #[diesel(sql_type = BigInt)]
    household: i64,
    #[diesel(sql_type = BigInt)]
    head: i64,
    #[diesel(sql_type = Text)]
    head_email: String,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// A signed-in portal account of a household with two children or more.
struct Family {
    client: reqwest::Client,
    household: i64,
    /// The head of household's own address (a guardian's).
    guardian_email: String,
    /// The account's address, distinct from the guardian's.
    account_email: String,
    children: Vec<i64>,
}

async fn family(app: &TestApp) -> Family {
    fixtures::children(app, &app.city, 20, 71).await;
    let hash = passwords::hash(PASSWORD).unwrap();
    let account_email = format!("{}@famille.test", unique("compte."));
    let email = account_email.clone();
    let (pick, login, children) = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let pick: Household = diesel::sql_query(
                    "SELECT h.id AS household, p.id AS head, p.email AS head_email
                       FROM households h
                       JOIN household_members m ON m.household_id = h.id AND m.role = 'head'
                        AND m.valid_to IS NULL
                       JOIN persons p ON p.id = m.person_id AND p.email IS NOT NULL
                      WHERE (SELECT count(*) FROM child_links c
                              WHERE c.household_id = h.id AND c.valid_to IS NULL) >= 2
                      ORDER BY h.number LIMIT 1",
                )
                .get_result(conn)
                .await?;
                let login = marelle::domain::family::accounts::open_for_adult(
                    conn,
                    pick.household,
                    pick.head,
                    &hash,
                    false,
                )
                .await?;
                diesel::sql_query("UPDATE family_accounts SET email = $1 WHERE login = $2")
                    .bind::<Text, _>(&email)
                    .bind::<Text, _>(&login)
                    .execute(conn)
                    .await?;
                let children: Vec<Id> = diesel::sql_query(
                    "SELECT child_id AS id FROM child_links
                      WHERE household_id = $1 AND valid_to IS NULL ORDER BY child_id",
                )
                .bind::<BigInt, _>(pick.household)
                .load(conn)
                .await?;
                Ok((pick, login, children))
            })
        })
        .await
        .expect("a family account");
    let client = app.client();
    let signed = app.sign_in(&client, &app.city, "", &login, PASSWORD).await;
    assert_eq!(signed.status(), 303, "family sign-in");
    Family {
        client,
        household: pick.household,
        guardian_email: pick.head_email,
        account_email,
        children: children.into_iter().map(|c| c.id).collect(),
    }
}

async fn sql(app: &TestApp, statement: String) {
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                diesel::sql_query(statement).execute(conn).await?;
                Ok(())
            })
        })
        .await
        .expect("sql");
}

/// Gives the family's accounts `profile` (the authorisation cache learns it at once).
async fn set_profile(app: &TestApp, family: &Family, profile: &str) {
    sql(
        app,
        format!(
            "UPDATE family_accounts SET profile_id = '{profile}' WHERE household_id = {}",
            family.household
        ),
    )
    .await;
    app.state.authz.invalidate(&app.city.schema).await;
}

/// The links of the page's main menu.
fn menu(page: &str) -> Vec<String> {
    let start = page
        .find("<nav aria-label=\"Navigation principale\">")
        .unwrap_or_else(|| panic!("no menu in:\n{page}"));
    let nav = &page[start..];
    let nav = &nav[..nav.find("</nav>").unwrap()];
    nav.split("href=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

/// « de Léa », « d'Éva »: the mails elide the preposition before a vowel.
fn de(name: &str) -> String {
    let elided = name
        .chars()
        .next()
        .is_some_and(|c| "aeiouyàâéèêëîïôöùûüÿœæ".contains(c.to_lowercase().next().unwrap_or(c)));
    if elided {
        format!("d'{name}")
    } else {
        format!("de {name}")
    }
}

const GUARDED: [&str; 3] = ["/mon-dossier", "/reservations", "/inscriptions"];

#[actix_web::test]
async fn the_menu_and_tiles_show_only_what_the_profile_opens() {
    let app = TestApp::spawn().await;
    let family = family(&app).await;
    let client = &family.client;

    let (status, space) = get(&app, client, &app.city, "/espace").await;
    assert_eq!(status, 200, "{space}");
    assert_eq!(
        menu(&space),
        [
            "/",
            "/espace",
            "/mon-dossier",
            "/reservations",
            "/inscriptions"
        ]
    );
    for path in GUARDED {
        assert!(
            space.contains(&format!("<p><a href=\"{path}\">")),
            "a tile of « Mon espace » opens {path}"
        );
    }
    let (_, enrolments) = get(&app, client, &app.city, "/inscriptions").await;
    assert_eq!(menu(&enrolments).len(), 5);

    // A profile of the city's own: bookings and dossier, no enrolments.
    sql(
        &app,
        "INSERT INTO profiles (id, label) VALUES ('famille_resa', 'Famille (réservations)')".into(),
    )
    .await;
    sql(
        &app,
        "INSERT INTO profile_permissions (profile_id, object, action) VALUES
           ('famille_resa', 'portal:bookings', 'read'), ('famille_resa', 'portal:bookings', 'write'),
           ('famille_resa', 'portal:dossier', 'read')"
            .into(),
    )
    .await;
    set_profile(&app, &family, "famille_resa").await;
    let (status, space) = get(&app, client, &app.city, "/espace").await;
    assert_eq!(status, 200);
    assert_eq!(
        menu(&space),
        ["/", "/espace", "/mon-dossier", "/reservations"]
    );
    assert!(!space.contains("href=\"/inscriptions\""), "{space}");
    let (status, bookings) = get(&app, client, &app.city, "/reservations").await;
    assert_eq!(status, 200);
    assert_eq!(
        menu(&bookings),
        ["/", "/espace", "/mon-dossier", "/reservations"]
    );
    let (status, _) = get(&app, client, &app.city, "/inscriptions").await;
    assert_eq!(status, 403);

    // Payment only: none of the three, and each URL still refused.
    set_profile(&app, &family, "family_payment_only").await;
    let (status, space) = get(&app, client, &app.city, "/espace").await;
    assert_eq!(status, 200, "{space}");
    assert_eq!(menu(&space), ["/", "/espace"]);
    for path in GUARDED {
        assert!(!space.contains(&format!("href=\"{path}\"")), "{path}");
        let (status, page) = get(&app, client, &app.city, path).await;
        assert_eq!(status, 403, "{path}: {page}");
        assert!(
            page.contains("Vous n'avez pas les droits nécessaires"),
            "{page}"
        );
    }
    let (status, password) = get(&app, client, &app.city, "/mot-de-passe").await;
    assert_eq!(status, 200);
    assert_eq!(menu(&password), ["/", "/espace"]);
}

/// An activity open for registration now (a Wednesday centre: its units include
/// « Journée »).
async fn open_activity(app: &TestApp, kind: &str) -> (i64, String) {
    let id = activity(app, &app.city, kind, Some(10)).await;
    let now = clock::now();
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                catalogue::add_period(
                    conn,
                    id,
                    &NewPeriod {
                        label: "Rentrée".into(),
                        opens_at: now - TimeDelta::hours(1),
                        closes_at: now + TimeDelta::days(10),
                        population: Default::default(),
                    },
                )
                .await
            })
        })
        .await
        .expect("registration period");
    (id, format!("Activité {kind}"))
}

/// Files a request on the portal, `unit` wished on Wednesdays; returns it as stored.
async fn file(
    app: &TestApp,
    family: &Family,
    child: i64,
    activity: i64,
    unit: &str,
) -> EnrolmentView {
    let starts = clock::today() + Days::new(14);
    let (status, location, page) = pages::post_in(
        app,
        &family.client,
        &app.city,
        &format!("/inscriptions/{activity}/demande"),
        &[
            ("enfant", &child.to_string()),
            ("debut", &starts.to_string()),
            ("semaine", &format!("wed|{unit}")),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/inscriptions"),
        "{page}"
    );
    let requests = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let filter = Filter {
                    activity_id: Some(activity),
                    child_id: Some(child),
                    ..Filter::default()
                };
                enrolment::list(conn, &filter, 10).await
            })
        })
        .await
        .unwrap();
    requests
        .into_iter()
        .max_by_key(|r| r.id)
        .expect("the request is filed")
}

async fn status_of(app: &TestApp, id: i64) -> String {
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move { enrolment::get(conn, id).await })
        })
        .await
        .unwrap()
        .status
}

fn to(address: &str) -> impl Fn(&Message) -> bool + '_ {
    move |m: &Message| m.to.iter().any(|t| t.eq_ignore_ascii_case(address))
}

/// The mail about request `number` whose subject ends with `outcome`, to `address`.
async fn mail_about(smtp: &SmtpServer, address: &str, subject: &str) -> Message {
    let is_to = to(address);
    smtp.wait_for(|m| is_to(m) && m.subject == subject, WAIT)
        .await
}

#[actix_web::test]
async fn a_portal_request_is_confirmed_by_mail_in_french() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_configured(|config| use_smtp(config, &smtp)).await;
    let family = family(&app).await;
    let (centre, name) = open_activity(&app, "wednesday").await;
    let child = family.children[0];

    let request = file(&app, &family, child, centre, "journee").await;
    assert_eq!(request.status, "requested");
    let subject = format!(
        "Demande d'inscription n° {} reçue — Villeneuve-Test",
        request.number
    );
    let mail = mail_about(&smtp, &family.account_email, &subject).await;
    let body = &mail.body_text;
    for expected in [
        "Bonjour,".to_string(),
        format!(
            "Votre demande d'inscription {} à « {name} » est bien enregistrée.",
            de(&request.child_name)
        ),
        format!("Numéro de la demande : {}", request.number),
        format!("Enfant : {}", request.child_name),
        format!(
            "Période souhaitée : à partir du {}",
            day_label(request.starts)
        ),
        "Semaine souhaitée :\n  - mercredi : Journée".into(),
        "État : demande reçue".into(),
        "Et ensuite ? Le service étudie votre demande et vous recevrez un courriel dès qu'une décision sera prise.".into(),
        format!("{}/inscriptions", app.city_url(&app.city, "").trim_end_matches('/')),
    ] {
        assert!(body.contains(&expected), "« {expected} » missing in:\n{body}");
    }
    assert!(
        mail.header("Content-Type")
            .is_some_and(|c| c.to_lowercase().contains("charset=utf-8")),
        "{:?}",
        mail.headers
    );
    assert!(
        mail.header("From")
            .is_some_and(|f| f.contains("Villeneuve-Test")),
        "{:?}",
        mail.header("From")
    );
    // The guardian hears of it too; each address once.
    mail_about(&smtp, &family.guardian_email, &subject).await;
    for address in [&family.account_email, &family.guardian_email] {
        let is_to = to(address);
        let count = smtp
            .messages()
            .iter()
            .filter(|m| is_to(m) && m.subject == subject)
            .count();
        assert_eq!(count, 1, "{address}");
    }
}

#[actix_web::test]
async fn each_decision_is_mailed_but_not_to_a_payment_only_account() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_configured(|config| use_smtp(config, &smtp)).await;
    let family = family(&app).await;
    let payer = format!("{}@famille.test", unique("payeur."));
    sql(
        &app,
        format!(
            "INSERT INTO family_accounts (login, email, display_name, profile_id, household_id)
             VALUES ('{}', '{payer}', 'Payeur', 'family_payment_only', {})",
            unique("payeur"),
            family.household
        ),
    )
    .await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let (centre, name) = open_activity(&app, "wednesday").await;
    let (sport, other_name) = open_activity(&app, "sport").await;
    let child = family.children[0];
    let decide = |id: i64, fields: Vec<(&'static str, String)>| {
        let agent = agent.clone();
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, _, page) = post(
                app,
                &agent,
                &format!("/agent/inscriptions/{id}/decision"),
                &fields,
            )
            .await;
            assert_eq!(status, 303, "{page}");
        }
    };
    let subject = |number: i32, outcome: &str| {
        format!("Demande d'inscription n° {number} : {outcome} — Villeneuve-Test")
    };

    // Refused, with the reason the family must be told.
    let first = file(&app, &family, child, centre, "journee").await;
    let reason = "Les places sont réservées aux enfants dont les deux parents travaillent.";
    decide(
        first.id,
        vec![("decision", "refused".into()), ("note", reason.into())],
    )
    .await;
    let mail = mail_about(
        &smtp,
        &family.account_email,
        &subject(first.number, "refusée"),
    )
    .await;
    for expected in [
        format!(
            "La décision sur votre demande d'inscription n° {} {} à « {name} »",
            first.number,
            de(&first.child_name)
        ),
        "est enregistrée : refusée.".into(),
        "Votre demande n'a pas pu être acceptée. Vous pouvez contester cette décision en formant un recours".into(),
        format!("Motif : {reason}"),
        "rubrique « Inscriptions »".into(),
    ] {
        assert!(mail.body_text.contains(&expected), "« {expected} » in:\n{}", mail.body_text);
    }
    mail_about(
        &smtp,
        &family.guardian_email,
        &subject(first.number, "refusée"),
    )
    .await;

    // Waitlisted, accepted, then admitted: one mail each.
    let second = file(&app, &family, child, centre, "journee").await;
    decide(second.id, vec![("decision", "waitlisted".into())]).await;
    let mail = mail_about(
        &smtp,
        &family.account_email,
        &subject(second.number, "liste d'attente"),
    )
    .await;
    assert!(
        mail.body_text
            .contains("votre demande est inscrite sur la liste d'attente de l'activité"),
        "{}",
        mail.body_text
    );
    decide(second.id, vec![("decision", "accepted".into())]).await;
    let mail = mail_about(
        &smtp,
        &family.account_email,
        &subject(second.number, "acceptée"),
    )
    .await;
    assert!(
        mail.body_text
            .contains("Le service va maintenant finaliser l'admission"),
        "{}",
        mail.body_text
    );
    let (status, _, page) = post(
        &app,
        &agent,
        &format!("/agent/inscriptions/{}/admission", second.id),
        &[],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let mail = mail_about(
        &smtp,
        &family.account_email,
        &subject(second.number, "inscription confirmée"),
    )
    .await;
    assert!(
        mail.body_text.contains(&format!(
            "L'inscription {} est confirmée",
            de(&second.child_name)
        )),
        "{}",
        mail.body_text
    );

    // Another place proposed, named in the mail.
    let third = file(&app, &family, family.children[1], sport, "seance").await;
    decide(
        third.id,
        vec![
            ("decision", "other_proposed".into()),
            ("proposed", centre.to_string()),
            ("note", "Le groupe de sport est complet.".into()),
        ],
    )
    .await;
    let mail = mail_about(
        &smtp,
        &family.account_email,
        &subject(third.number, "autre accueil proposé"),
    )
    .await;
    assert!(
        mail.body_text.contains(&format!(
            "Le service ne peut pas accueillir {} à « {other_name} » et vous propose à la place : « {name} ».",
            third.child_name
        )),
        "{}",
        mail.body_text
    );

    // The payment-only account of the household heard of none of it.
    assert!(
        smtp.messages().iter().all(|m| !to(&payer)(m)),
        "a payment-only account gets no enrolment mail"
    );
}

#[actix_web::test]
async fn an_smtp_server_down_loses_neither_the_request_nor_the_decision() {
    // The relay the city uses stops: nothing listens on its port any more.
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_configured(|config| use_smtp(config, &smtp)).await;
    drop(smtp);
    let family = family(&app).await;
    let (centre, name) = open_activity(&app, "wednesday").await;

    let request = file(&app, &family, family.children[0], centre, "journee").await;
    assert_eq!(request.status, "requested");
    let (_, list) = get(&app, &family.client, &app.city, "/inscriptions").await;
    assert!(
        list.contains(&format!(
            "Demande n° {} enregistrée pour {} à « {name} »",
            request.number, request.child_name
        )),
        "{list}"
    );

    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let (status, _, page) = post(
        &app,
        &agent,
        &format!("/agent/inscriptions/{}/decision", request.id),
        &[("decision", "accepted")],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    assert_eq!(status_of(&app, request.id).await, "accepted");
}
