//! The family and child dossiers through the back-office, the CLI and the database:
//! creation with homonym check, shared custody without duplicates, search, encryption,
//! documents, confidentiality by profile, archive, RGPD export and erasure, anonymised
//! copies, cross-city probes.

mod common;

use common::*;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::RunQueryDsl;
use marelle::domain::family::demo::{Locality, generate};
use marelle::platform::tenancy::City;
use serde_json::Value;

/// Posts the creation form; returns the response.
async fn create_family(
    app: &TestApp,
    client: &reqwest::Client,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = client
        .get(app.city_url(&app.city, "/agent/familles/nouvelle"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    client
        .post(app.city_url(&app.city, "/agent/familles"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

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

fn household_id(response: &reqwest::Response) -> i64 {
    let location = response.headers()["location"].to_str().unwrap();
    location
        .trim_start_matches("/agent/familles/")
        .parse()
        .unwrap()
}

async fn page(client: &reqwest::Client, url: String) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn child_id(household_page: &str) -> i64 {
    household_page
        .split("href=\"/agent/enfants/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[actix_web::test]
async fn an_agent_creates_a_family_and_a_homonym_is_caught() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["school_agent"]).await;
    let created = create_family(&app, &agent, MARTIN).await;
    assert_eq!(created.status(), 303);
    let id = household_id(&created);
    let (status, html) = page(
        &agent,
        app.city_url(&app.city, &format!("/agent/familles/{id}")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("Famille MARTIN"));
    assert!(
        html.contains("Léo MARTIN") || html.contains("Léo</a>") || html.contains(">Léo MARTIN<"),
        "{html}"
    );
    assert!(html.contains("12 rue Jean-Jaurès") && html.contains("69960 CORBAS"));
    assert!(html.contains("06 12 34 56 78"), "phone normalised");

    // The same child again (accents and case aside): proposed instead of duplicated.
    let again = create_family(
        &app,
        &agent,
        &[
            ("line1", "3 place de la Mairie"),
            ("postal_code", "69960"),
            ("town", "Corbas"),
            ("head_last_name", "Durand"),
            ("head_first_name", "Anne"),
            ("child1_last_name", "MARTIN"),
            ("child1_first_name", "Leo"),
            ("child1_birth_date", "12/03/2017"),
        ],
    )
    .await;
    assert_eq!(again.status(), 422);
    let html = again.text().await.unwrap();
    assert!(html.contains("déjà connues"), "{html}");
    assert!(
        html.contains(&format!("/agent/familles/{id}")),
        "links the existing family"
    );
    assert!(html.contains("value=\"Durand\""), "the input is kept");
    let forced = create_family(
        &app,
        &agent,
        &[
            ("line1", "3 place de la Mairie"),
            ("postal_code", "69960"),
            ("town", "Corbas"),
            ("head_last_name", "Durand"),
            ("head_first_name", "Anne"),
            ("child1_last_name", "MARTIN"),
            ("child1_first_name", "Leo"),
            ("child1_birth_date", "12/03/2017"),
            ("ignore_homonyms", "1"),
        ],
    )
    .await;
    assert_eq!(forced.status(), 303, "created on purpose after looking");

    // Bad input: French error, nothing written.
    let bad = create_family(
        &app,
        &agent,
        &[
            ("line1", "1 rue X"),
            ("postal_code", "699"),
            ("town", "Corbas"),
            ("head_last_name", "Petit"),
            ("head_first_name", "Luc"),
        ],
    )
    .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("code postal invalide"));
    let (_, results) = page(&agent, app.city_url(&app.city, "/agent/familles?q=Petit")).await;
    assert!(results.contains("0 famille(s)"), "nothing half-created");
}

#[actix_web::test]
async fn search_tolerates_accents_typos_numbers_and_birth_dates() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["school_agent"]).await;
    let id = household_id(&create_family(&app, &agent, MARTIN).await);
    let (_, html) = page(
        &agent,
        app.city_url(&app.city, &format!("/agent/familles/{id}")),
    )
    .await;
    let number = html
        .split("<small>— n° ")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .trim()
        .to_string();
    for query in [
        "eloise martin",
        "ÉLOÏSE",
        "Martn Eloise",
        "Léo",
        &number,
        "12/03/2017",
        "jean-jaures",
    ] {
        let (status, results) = page(
            &agent,
            app.city_url(
                &app.city,
                &format!("/agent/familles?q={}", urlencode(query)),
            ),
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            results.contains(&format!("/agent/familles/{id}\"")),
            "« {query} » finds the family"
        );
    }
    let (_, none) = page(&agent, app.city_url(&app.city, "/agent/familles?q=zzzzqqq")).await;
    assert!(none.contains("0 famille(s)"));
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[actix_web::test]
async fn a_child_in_shared_custody_is_one_person_in_two_households() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["school_agent"]).await;
    let first = household_id(&create_family(&app, &agent, MARTIN).await);
    let (_, html) = page(
        &agent,
        app.city_url(&app.city, &format!("/agent/familles/{first}")),
    )
    .await;
    let child = child_id(&html);
    let father = household_id(
        &create_family(
            &app,
            &agent,
            &[
                ("situation", "separated"),
                ("line1", "8 rue Pasteur"),
                ("postal_code", "69960"),
                ("town", "Corbas"),
                ("head_last_name", "Martin"),
                ("head_first_name", "Julien"),
                ("head_sex", "M"),
                ("ignore_homonyms", "1"),
            ],
        )
        .await,
    );
    let csrf = app.csrf(&agent, &app.city).await;
    let attached = agent
        .post(app.city_url(&app.city, &format!("/agent/familles/{father}/rattacher")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("child_id", &child.to_string()),
            ("guardian", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(attached.status(), 303);
    let custody = agent
        .post(app.city_url(&app.city, &format!("/agent/enfants/{child}/garde")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("mode", "alternate"),
            ("week_a", &first.to_string()),
            ("reference_date", "2026-11-23"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(custody.status(), 303);
    let (_, father_page) = page(
        &agent,
        app.city_url(&app.city, &format!("/agent/familles/{father}")),
    )
    .await;
    assert!(father_page.contains("Garde partagée"), "{father_page}");
    assert!(
        father_page.contains(&format!("/agent/familles/{first}")),
        "navigates to the other household"
    );
    assert!(
        father_page.contains(&format!("/agent/enfants/{child}")),
        "the same child, not a copy"
    );
    let (_, child_page) = page(
        &agent,
        app.city_url(&app.city, &format!("/agent/enfants/{child}")),
    )
    .await;
    assert!(child_page.contains("une semaine sur deux"));
    assert!(
        child_page.contains("Julien MARTIN — Père"),
        "the father is a legal guardian: {child_page}"
    );

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let persons = app
        .db()
        .run(app.city.scope("test"), |conn| {
            Box::pin(async move {
                Ok(
                    diesel::sql_query("SELECT count(*) AS n FROM persons WHERE first_name = 'Léo'")
                        .get_result::<Count>(conn)
                        .await?
                        .n,
                )
            })
        })
        .await
        .unwrap();
    assert_eq!(persons, 1, "one child record, two households");
    // A third household is refused: a child has two at most.
    let third = household_id(
        &create_family(
            &app,
            &agent,
            &[
                ("line1", "1 rue X"),
                ("postal_code", "69960"),
                ("town", "Corbas"),
                ("head_last_name", "Blanc"),
                ("head_first_name", "Rose"),
            ],
        )
        .await,
    );
    let refused = agent
        .post(app.city_url(&app.city, &format!("/agent/familles/{third}/rattacher")))
        .form(&[("csrf", csrf.as_str()), ("child_id", &child.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("deux foyers au plus")
    );
}

#[actix_web::test]
async fn incomes_and_health_are_shown_only_to_those_allowed_and_stored_encrypted() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.agent_client(&["city_admin", "medical"]).await;
    let family = household_id(&create_family(&app, &admin, MARTIN).await);
    let csrf = app.csrf(&admin, &app.city).await;
    let income = admin
        .post(app.city_url(&app.city, &format!("/agent/familles/{family}/revenus")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("family_quotient", "742"),
            ("monthly_resources", "3 100,50"),
            ("dependent_children", "1"),
            ("source", "caf"),
            ("valid_from", "2026-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(income.status(), 303);
    let bank = admin
        .post(app.city_url(&app.city, &format!("/agent/familles/{family}/banque")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("holder_id", &holder_of(&app, &admin, family).await),
            ("iban", "FR76 3000 6000 0112 3456 7890 189"),
            ("bic", "AGRIFRPP839"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bank.status(), 303);
    let bad_iban = admin
        .post(app.city_url(&app.city, &format!("/agent/familles/{family}/banque")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("holder_id", &holder_of(&app, &admin, family).await),
            ("iban", "FR76 3000 6000 0112 3456 7890 188"),
            ("bic", "AGRIFRPP839"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_iban.status(), 422);
    assert!(bad_iban.text().await.unwrap().contains("IBAN invalide"));
    let (_, html) = page(
        &admin,
        app.city_url(&app.city, &format!("/agent/familles/{family}")),
    )
    .await;
    let child = child_id(&html);
    let health = admin
        .post(app.city_url(&app.city, &format!("/agent/enfants/{child}/sante")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("levels", "basic"),
            ("levels", "medical"),
            ("diet", "no_pork"),
            ("allergies", "arachide"),
            ("pai", "1"),
            ("what_to_do", "Stylo d'adrénaline dans le sac"),
            ("illnesses", "asthme sévère"),
            ("medication", "Ventoline"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 303);

    // The medical profile sees everything; an animator sees the basic level only; a
    // school agent no income of... sees incomes; a regisseur no health at all.
    let (_, full) = page(
        &admin,
        app.city_url(&app.city, &format!("/agent/enfants/{child}")),
    )
    .await;
    assert!(full.contains("arachide") && full.contains("asthme sévère") && full.contains("PAI"));
    let (animator, _) = app.agent_client(&["animator"]).await;
    let (_, seen) = page(
        &animator,
        app.city_url(&app.city, &format!("/agent/enfants/{child}")),
    )
    .await;
    assert!(
        seen.contains("arachide"),
        "allergies on the attendance side"
    );
    assert!(
        !seen.contains("asthme sévère"),
        "no medical level for an animator"
    );
    let (_, household) = page(
        &animator,
        app.city_url(&app.city, &format!("/agent/familles/{family}")),
    )
    .await;
    assert!(
        !household.contains("742") && !household.contains("Quotient familial"),
        "an animator sees no income"
    );
    assert!(!household.contains("FR76"), "nor bank details");
    let (regisseur, _) = app.agent_client(&["regisseur"]).await;
    let (_, seen) = page(
        &regisseur,
        app.city_url(&app.city, &format!("/agent/enfants/{child}")),
    )
    .await;
    assert!(
        !seen.contains("arachide") && !seen.contains("Fiche sanitaire"),
        "no health for the cash office"
    );
    let (_, household) = page(
        &regisseur,
        app.city_url(&app.city, &format!("/agent/familles/{family}")),
    )
    .await;
    assert!(
        household.contains("742") && household.contains("FR76 •••• •••• 0189"),
        "income and masked IBAN"
    );

    // In the database, the health sheet and the IBAN are ciphertext.
    #[derive(QueryableByName)]
    struct Raw {
        #[diesel(sql_type = Nullable<Text>)]
        text: Option<String>,
    }
    let raw = app
        .db()
        .run(app.city.scope("test"), |conn| {
            Box::pin(async move {
                Ok(diesel::sql_query(
                    "SELECT encode(basic_enc, 'escape') || encode(medical_enc, 'escape') ||
                            (SELECT string_agg(encode(iban_enc, 'escape'), '') FROM bank_accounts) AS text
                       FROM health_sheets",
                )
                .load::<Raw>(conn)
                .await?)
            })
        })
        .await
        .unwrap();
    let text = raw
        .iter()
        .filter_map(|r| r.text.clone())
        .collect::<String>();
    assert!(!text.is_empty());
    for plain in ["arachide", "asthme", "Ventoline", "3000600001123456789"] {
        assert!(!text.contains(plain), "{plain} readable in SQL");
    }
}

async fn holder_of(app: &TestApp, client: &reqwest::Client, family: i64) -> String {
    let (_, html) = page(
        client,
        app.city_url(&app.city, &format!("/agent/familles/{family}")),
    )
    .await;
    html.split("id=\"holder_id\" name=\"holder_id\"><option value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// Posts a multipart upload.
async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    family: i64,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let csrf = app.csrf(client, &app.city).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("kind", "attestation_caf")
        .text("title", "Attestation CAF 2026")
        .text("valid_until", "2026-12-10")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    client
        .post(app.city_url(&app.city, &format!("/agent/familles/{family}/documents")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn documents_are_checked_by_content_and_size_and_served_only_to_those_allowed() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["school_agent"]).await;
    let family = household_id(&create_family(&app, &agent, MARTIN).await);
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let stored = upload(&app, &agent, family, "attestation.pdf", pdf.clone()).await;
    assert_eq!(stored.status(), 303);
    let renamed = upload(
        &app,
        &agent,
        family,
        "facture.pdf",
        b"MZ\x90\x00 not a pdf".to_vec(),
    )
    .await;
    assert_eq!(renamed.status(), 422);
    assert!(
        renamed
            .text()
            .await
            .unwrap()
            .contains("seuls les fichiers PDF, PNG et JPEG")
    );
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(11 * 1024 * 1024, b' ');
    let too_big = upload(&app, &agent, family, "gros.pdf", big).await;
    assert_eq!(too_big.status(), 422);
    assert!(too_big.text().await.unwrap().contains("trop volumineux"));

    let (_, html) = page(
        &agent,
        app.city_url(&app.city, &format!("/agent/familles/{family}")),
    )
    .await;
    let document = html
        .split("href=\"/agent/documents/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .find(|id| id.parse::<i64>().is_ok())
        .expect("a document link");
    let file = agent
        .get(app.city_url(&app.city, &format!("/agent/documents/{document}")))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert_eq!(file.bytes().await.unwrap().to_vec(), pdf);
    let (animator, _) = app.agent_client(&["animator"]).await;
    let refused = animator
        .get(app.city_url(&app.city, &format!("/agent/documents/{document}")))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "no document without the right");
    let stored_files: Vec<_> = walk(&app.state.config.documents_dir.join(&app.city.schema));
    assert_eq!(
        stored_files.len(),
        1,
        "stored once, under the city's folder"
    );
    let (_, expiring) = page(&agent, app.city_url(&app.city, "/agent/documents/expirant")).await;
    assert!(
        expiring.contains("Attestation CAF 2026"),
        "valid until 10/12/2026: in the expiring list"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[actix_web::test]
async fn archived_families_leave_the_search_and_come_back() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["school_agent"]).await;
    let family = household_id(&create_family(&app, &agent, MARTIN).await);
    let csrf = app.csrf(&agent, &app.city).await;
    let archived = agent
        .post(app.city_url(&app.city, &format!("/agent/familles/{family}/archiver")))
        .form(&[("csrf", csrf.as_str()), ("reason", "Déménagement à Lyon")])
        .send()
        .await
        .unwrap();
    assert_eq!(archived.status(), 303);
    let (_, results) = page(&agent, app.city_url(&app.city, "/agent/familles?q=martin")).await;
    assert!(!results.contains(&format!("/agent/familles/{family}\"")));
    let (_, with_archives) = page(
        &agent,
        app.city_url(&app.city, "/agent/familles?q=martin&archives=1"),
    )
    .await;
    assert!(with_archives.contains(&format!("/agent/familles/{family}\"")));
    // Creating the family again proposes the archived one.
    let again = create_family(&app, &agent, MARTIN).await;
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("archivée : elle peut être réactivée")
    );
    let back = agent
        .post(app.city_url(&app.city, &format!("/agent/familles/{family}/reactiver")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    let (_, results) = page(&agent, app.city_url(&app.city, "/agent/familles?q=martin")).await;
    assert!(results.contains(&format!("/agent/familles/{family}\"")));
}

#[actix_web::test]
async fn a_family_is_exported_then_erased_keeping_its_incomes() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.agent_client(&["city_admin", "medical"]).await;
    let family = household_id(&create_family(&app, &admin, MARTIN).await);
    let csrf = app.csrf(&admin, &app.city).await;
    admin
        .post(app.city_url(&app.city, &format!("/agent/familles/{family}/revenus")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("family_quotient", "742"),
            ("source", "caf"),
        ])
        .send()
        .await
        .unwrap();
    let (_, html) = page(
        &admin,
        app.city_url(&app.city, &format!("/agent/familles/{family}")),
    )
    .await;
    let number = html
        .split("<small>— n° ")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .trim()
        .to_string();
    let (ok, stdout, stderr) = marelle(&["family", "export", &app.city.slug, &number]);
    assert!(ok, "{stderr}");
    let export: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(export["household"]["number"].to_string(), number);
    assert_eq!(export["household"]["adults"][0]["first_name"], "Éloïse");
    assert_eq!(export["household"]["incomes"][0]["family_quotient"], 742);
    assert_eq!(export["children"][0]["first_name"], "Léo");
    assert!(export["history"].as_array().unwrap().len() > 3);
    let button = admin
        .get(app.city_url(&app.city, &format!("/agent/familles/{family}/export")))
        .send()
        .await
        .unwrap();
    assert_eq!(button.status(), 200);
    assert!(
        button.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("famille-{number}.json"))
    );
    let (ok, _, stderr) = marelle(&["family", "export", &app.city.slug, "999999"]);
    assert!(!ok && stderr.contains("inconnue"));
    let (school, _) = app.agent_client(&["school_agent"]).await;
    assert_eq!(
        school
            .get(app.city_url(&app.city, &format!("/agent/familles/{family}/export")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let erased = admin
        .post(app.city_url(&app.city, &format!("/agent/familles/{family}/effacer")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "Demande de la famille du 28/11/2026"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 303);
    let (_, html) = page(
        &admin,
        app.city_url(&app.city, &format!("/agent/familles/{family}")),
    )
    .await;
    assert!(html.contains("Famille effacée"));
    assert!(
        !html.contains("Éloïse")
            && !html.contains("eloise.martin")
            && !html.contains("Jean-Jaurès")
    );
    assert!(
        html.contains("742"),
        "incomes kept (they justify past prices)"
    );
    let (_, results) = page(
        &admin,
        app.city_url(&app.city, "/agent/familles?q=eloise&archives=1"),
    )
    .await;
    assert!(results.contains("0 famille(s)"));
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let leaks = app
        .db()
        .run(app.city.scope("test"), |conn| {
            Box::pin(async move {
                Ok(diesel::sql_query("SELECT count(*) AS n FROM audit_log WHERE before::text ILIKE '%éloïse%' OR after::text ILIKE '%éloïse%' OR after::text ILIKE '%jean-jaur%'")
                    .get_result::<Count>(conn)
                    .await?
                    .n)
            })
        })
        .await
        .unwrap();
    assert_eq!(
        leaks, 0,
        "the audit trail keeps no trace of the erased identity"
    );
}

#[actix_web::test]
async fn another_citys_family_ids_answer_404_and_never_its_data() {
    let app = TestApp::spawn().await;
    let other = app.add_city("Ville Voisine").await;
    let (agent, _) = app.agent_client(&["city_admin", "medical"]).await;
    let mine = household_id(&create_family(&app, &agent, MARTIN).await);
    // The other city gets a family with the same ids (fresh sequences), different names.
    let key = app.state.keys.city_key(&other.key_id);
    app.db()
        .run(other.scope("test"), move |conn| {
            Box::pin(async move {
                generate(
                    conn,
                    &key,
                    &Locality {
                        postal_code: "69700",
                        town: "Givors",
                    },
                    1,
                    3,
                    marelle::platform::clock::today(),
                )
                .await
                .map(|_| ())
            })
        })
        .await
        .unwrap();
    let (_, html) = page(
        &agent,
        app.city_url(&app.city, &format!("/agent/familles/{mine}")),
    )
    .await;
    assert!(html.contains("MARTIN"), "my own family with this id");
    for path in [
        "/agent/familles/4",
        "/agent/familles/5",
        "/agent/enfants/9",
        "/agent/documents/1",
        "/agent/familles/5/export",
    ] {
        let (status, body) = page(&agent, app.city_url(&app.city, path)).await;
        assert!(
            status == 404 || !body.contains("GIVORS"),
            "{path}: {status}"
        );
    }
    let (status, _) = page(&agent, app.city_url(&app.city, "/agent/familles/999")).await;
    assert_eq!(status, 404);
}

/// An anonymised copy of a city full of synthetic families keeps none of their personal data.
#[actix_web::test]
async fn an_anonymised_copy_holds_none_of_the_original_personal_data() {
    let db = test_db(2).await;
    let city = new_city(&db, "Chassieu").await;
    let key =
        marelle::platform::crypto::MasterKey::load_or_create(&repo_path("var/test-master.key"))
            .unwrap()
            .city_key(&city.key_id);
    db.run(city.scope("test"), move |conn| {
        Box::pin(async move {
            generate(
                conn,
                &key,
                &Locality {
                    postal_code: "69680",
                    town: "Chassieu",
                },
                42,
                40,
                marelle::platform::clock::today(),
            )
            .await
            .map(|_| ())
        })
    })
    .await
    .unwrap();
    let originals = personal_values(&db, &city).await;
    assert!(originals.len() > 200, "{} values", originals.len());
    let copy = unique("anon");
    let (ok, _, stderr) = marelle(&[
        "tenant",
        "clone",
        &city.slug,
        &copy,
        "--host",
        &format!("{copy}.localhost"),
        "--anonymise",
    ]);
    assert!(ok, "{stderr}");
    let schema = format!("city_{copy}");
    let dump = std::process::Command::new(marelle::platform::pgcluster::client_program("pg_dump"))
        .args(["--data-only", "--schema", &schema])
        .arg(format!("--dbname={}", database_url()))
        .output()
        .unwrap();
    assert!(dump.status.success());
    let dump = String::from_utf8_lossy(&dump.stdout).to_lowercase();
    let leaked: Vec<&String> = originals
        .iter()
        .filter(|v| dump.contains(&v.to_lowercase()))
        .collect();
    assert!(
        leaked.is_empty(),
        "original values found in the anonymised copy: {leaked:?}"
    );

    // The copy still works: families, search, children, shared custody links.
    let clone = provisioner(&db).city(&copy).await.unwrap();
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let households = db
        .run(clone.scope("test"), |conn| {
            Box::pin(async move {
                Ok(
                    diesel::sql_query("SELECT count(*) AS n FROM household_search")
                        .get_result::<Count>(conn)
                        .await?
                        .n,
                )
            })
        })
        .await
        .unwrap();
    assert!(households >= 40);
}

/// Surnames, e-mails, phones, streets, allocataire numbers, contacts of a city.
async fn personal_values(db: &marelle::platform::db::Db, city: &City) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = Text)]
        value: String,
    }
    db.run(city.scope("test"), |conn| {
        Box::pin(async move {
            let rows: Vec<Value> = diesel::sql_query(
                "SELECT DISTINCT value FROM (
                    SELECT last_name AS value FROM persons
                    UNION SELECT email FROM persons WHERE email IS NOT NULL
                    UNION SELECT phone_mobile FROM persons WHERE phone_mobile IS NOT NULL
                    UNION SELECT line1 FROM addresses
                    UNION SELECT allocataire FROM households WHERE allocataire IS NOT NULL
                    UNION SELECT last_name FROM child_contacts
                    UNION SELECT phone FROM child_contacts
                    UNION SELECT iban_hint FROM bank_accounts WHERE iban_hint IS NOT NULL
                    UNION SELECT rum FROM sepa_mandates) v WHERE length(value) >= 4",
            )
            .load(conn)
            .await?;
            Ok(rows.into_iter().map(|r| r.value).collect())
        })
    })
    .await
    .unwrap()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    html.split(start).nth(1).unwrap().split(end).next().unwrap()
}

#[actix_web::test]
async fn an_agent_opens_a_portal_account_and_the_parent_reads_the_dossier() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let family = household_id(&create_family(&app, &agent, MARTIN).await);
    let csrf = app.csrf(&agent, &app.city).await;
    let income = agent
        .post(app.city_url(&app.city, &format!("/agent/familles/{family}/revenus")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("family_quotient", "742"),
            ("monthly_resources", "3100"),
            ("dependent_children", "1"),
            ("source", "caf"),
            ("valid_from", "2026-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(income.status(), 303);
    let (_, before) = page(
        &agent,
        app.city_url(&app.city, &format!("/agent/familles/{family}")),
    )
    .await;
    let head = between(
        &before,
        "id=\"account-adult\" name=\"adult_id\"><option value=\"",
        "\"",
    )
    .to_string();
    let open = |adult: String| {
        let (agent, csrf) = (agent.clone(), csrf.clone());
        let url = app.city_url(&app.city, &format!("/agent/familles/{family}/comptes"));
        async move {
            agent
                .post(url)
                .form(&[("csrf", csrf.as_str()), ("adult_id", adult.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    let opened = open(head.clone()).await;
    assert_eq!(opened.status(), 200);
    let html = opened.text().await.unwrap();
    let login = between(&html, "identifiant <strong>", "<").to_string();
    let password = between(&html, "<code>", "<").to_string();
    assert!(login.starts_with("famille-"), "{html}");

    let twice = open(head).await;
    assert_eq!(twice.status(), 422);
    assert!(
        twice
            .text()
            .await
            .unwrap()
            .contains("a déjà un compte portail")
    );

    let parent = app.client();
    assert_eq!(
        app.sign_in(&parent, &app.city, "", &login, &password)
            .await
            .status(),
        303
    );
    let page_csrf = csrf_of(
        &parent
            .get(app.city_url(&app.city, "/mot-de-passe"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let changed = parent
        .post(app.city_url(&app.city, "/mot-de-passe"))
        .form(&[
            ("csrf", page_csrf.as_str()),
            ("current", password.as_str()),
            ("password", "Notre dossier famille à nous"),
            ("confirmation", "Notre dossier famille à nous"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 303);
    let (status, dossier) = page(&parent, app.city_url(&app.city, "/mon-dossier")).await;
    assert_eq!(status, 200);
    assert!(dossier.contains("Mon dossier famille"), "{dossier}");
    assert!(dossier.contains("Léo"), "the children are listed");
    assert!(dossier.contains("742"), "the family quotient is shown");
    assert!(dossier.contains("12 rue Jean-Jaurès"));

    // The partner has no e-mail yet: the agent is told what to do first.
    let partner = between(
        &html,
        "id=\"account-adult\" name=\"adult_id\">",
        "</select>",
    )
    .split("<option value=\"")
    .nth(2)
    .unwrap()
    .split('"')
    .next()
    .unwrap()
    .to_string();
    let no_mail = open(partner).await;
    assert_eq!(no_mail.status(), 422);
    assert!(
        no_mail
            .text()
            .await
            .unwrap()
            .contains("pas d&#x27;adresse de courriel")
    );
}

#[actix_web::test]
async fn an_account_created_apart_is_linked_to_its_dossier_by_number() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let family = household_id(&create_family(&app, &agent, MARTIN).await);
    let (_, household) = page(
        &agent,
        app.city_url(&app.city, &format!("/agent/familles/{family}")),
    )
    .await;
    let number = between(&household, "<small>— n° ", "<").to_string();
    let csrf = app.csrf(&agent, &app.city).await;
    let created = agent
        .post(app.city_url(&app.city, "/agent/comptes"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("display_name", "Éloïse Martin"),
            ("email", "eloise.martin@exemple.test"),
            ("profile", "family"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let account = between(&created, "action=\"/agent/comptes/", "/dossier").to_string();
    let link = |number: &'static str| {
        let (agent, csrf) = (agent.clone(), csrf.clone());
        let url = app.city_url(&app.city, &format!("/agent/comptes/{account}/dossier"));
        async move {
            agent
                .post(url)
                .form(&[("csrf", csrf.as_str()), ("number", number)])
                .send()
                .await
                .unwrap()
        }
    };
    let letters = link("douze").await;
    assert_eq!(letters.status(), 422);
    assert!(
        letters
            .text()
            .await
            .unwrap()
            .contains("numéro du dossier famille")
    );
    let unknown = link("987654").await;
    assert_eq!(unknown.status(), 422);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("aucune famille ne porte le n° 987654")
    );
    let number: &'static str = Box::leak(number.into_boxed_str());
    assert_eq!(link(number).await.status(), 303);
    let (_, listing) = page(&agent, app.city_url(&app.city, "/agent/comptes")).await;
    assert!(
        listing.contains(&format!(
            "<a href=\"/agent/familles/{family}\">n° {number}</a>"
        )),
        "{listing}"
    );
}

#[actix_web::test]
async fn search_ranks_exact_names_first_tolerates_typos_and_counts_every_match() {
    use marelle::domain::family::search::{HouseholdSummary, search};
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["school_agent"]).await;
    let martin = household_id(&create_family(&app, &agent, MARTIN).await);
    let created = create_family(
        &app,
        &agent,
        &[
            ("situation", "single_parent"),
            ("line1", "3 allée des Tilleuls"),
            ("postal_code", "69960"),
            ("town", "Corbas"),
            ("head_last_name", "Martinez"),
            ("head_first_name", "Inès"),
            ("head_sex", "F"),
            ("head_birth_date", "1990-06-01"),
            ("child1_last_name", "Martinez"),
            ("child1_first_name", "Hugo"),
            ("child1_sex", "M"),
            ("child1_birth_date", "2019-11-23"),
        ],
    )
    .await;
    assert_eq!(created.status(), 303);
    let martinez = household_id(&created);
    let find = |query: &str, limit: i64, offset: i64| {
        let query = query.to_string();
        let db = app.db();
        let scope = app.city.scope("test");
        async move {
            let (items, total): (Vec<HouseholdSummary>, i64) = db
                .run(scope, move |conn| {
                    Box::pin(async move { search(conn, &query, false, limit, offset).await })
                })
                .await
                .unwrap();
            (items.into_iter().map(|h| h.id).collect::<Vec<_>>(), total)
        }
    };
    // The exact name first, then the similar one; both counted.
    assert_eq!(find("martin", 25, 0).await, (vec![martin, martinez], 2));
    assert_eq!(find("MARTINEZ", 25, 0).await, (vec![martinez, martin], 2));
    // Typos, accents, first names, the closest spelling first.
    assert_eq!(find("Marinez", 25, 0).await.0[0], martinez);
    assert_eq!(find("martn léo", 25, 0).await, (vec![martin], 1));
    assert_eq!(find("ines martinez", 25, 0).await, (vec![martinez], 1));
    assert_eq!(find("tilleul", 25, 0).await, (vec![martinez], 1));
    // Written as it sounds: « sofie gotier » finds Sophie Gauthier.
    let gauthier = household_id(
        &create_family(
            &app,
            &agent,
            &[
                ("situation", "single_parent"),
                ("line1", "8 rue Pasteur"),
                ("postal_code", "69960"),
                ("town", "Corbas"),
                ("head_last_name", "Gauthier"),
                ("head_first_name", "Sophie"),
                ("head_sex", "F"),
                ("head_birth_date", "1988-02-14"),
            ],
        )
        .await,
    );
    assert_eq!(find("sofie gotier", 25, 0).await, (vec![gauthier], 1));
    assert_eq!(find("GAUTIER", 25, 0).await, (vec![gauthier], 1));
    // Birth dates as agents type them, and as ISO dates; a day that does not exist.
    assert_eq!(find("23/11/2019", 25, 0).await, (vec![martinez], 1));
    assert_eq!(find("1/6/1990", 25, 0).await, (vec![martinez], 1));
    assert_eq!(find("2017-03-12 martin", 25, 0).await, (vec![martin], 1));
    assert_eq!(find("31/02/2019", 25, 0).await, (vec![], 0));
    // Family numbers: '#', 'n', 'n°' or plain digits (the family with that number first).
    let number = |id: i64| {
        let db = app.db();
        let scope = app.city.scope("test");
        async move {
            #[derive(QueryableByName)]
            struct Number {
                #[diesel(sql_type = diesel::sql_types::Integer)]
                number: i32,
            }
            db.run(scope, move |conn| {
                Box::pin(async move {
                    Ok(
                        diesel::sql_query("SELECT number FROM households WHERE id = $1")
                            .bind::<BigInt, _>(id)
                            .get_result::<Number>(conn)
                            .await?
                            .number,
                    )
                })
            })
            .await
            .unwrap()
        }
    };
    let n = number(martinez).await;
    for query in [format!("#{n}"), format!("n{n}"), format!("N°{n:03}")] {
        assert_eq!(find(&query, 25, 0).await, (vec![martinez], 1), "{query}");
    }
    assert_eq!(find(&n.to_string(), 25, 0).await.0[0], martinez);
    // Pages: the total counts every page, also past the end.
    assert_eq!(find("martin", 1, 1).await, (vec![martinez], 2));
    assert_eq!(find("martin", 1, 5).await, (vec![], 2));
    assert_eq!(find("zzzzqqq", 25, 0).await, (vec![], 0));

    // A name nobody holds any more leaves the city's word list (RGPD erasure, renaming).
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let words = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                diesel::sql_query(
                    "UPDATE persons SET last_name = 'ZÉBULON' WHERE last_name = 'MARTINEZ'",
                )
                .execute(conn)
                .await?;
                diesel::sql_query("UPDATE households SET name = 'ZÉBULON' WHERE name = 'MARTINEZ'")
                    .execute(conn)
                    .await?;
                Ok(diesel::sql_query(
                    "SELECT count(*) AS n FROM household_search_words
                      WHERE word IN ('martinez', 'zebulon')",
                )
                .get_result::<Count>(conn)
                .await?
                .n)
            })
        })
        .await
        .unwrap();
    assert_eq!(words, 1, "martinez forgotten, zebulon known");
    assert_eq!(find("zebulon", 25, 0).await, (vec![martinez], 1));
}
