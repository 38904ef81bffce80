//! The family REST API (`/api/v1/families...`) through real HTTP against a real PostgreSQL:
//! shapes, creation with homonyms, reads and updates of families, adults and children,
//! isolation between cities, what each token's scopes let it see (health, incomes, bank),
//! refusals, French errors that write nothing, and the OpenAPI document.

mod common;

use common::api::Api;
use common::*;
use marelle::domain::family::bank::{self, BankInput};
use marelle::domain::family::health::{
    self, BasicHealth, ConfidentialHealth, HealthSheet, MedicalHealth,
};
use marelle::domain::family::store::{self, IncomeInput};
use reqwest::Method;
use serde_json::{Value, json};

/// Family helpers on top of the shared API client.
trait Families {
    async fn create(&self, body: Value) -> Value;
    async fn total(&self) -> i64;
}

impl Families for Api<'_> {
    /// Creates a family (homonyms ignored) and returns its dossier.
    async fn create(&self, body: Value) -> Value {
        let mut body = body;
        body["ignore_homonyms"] = json!(true);
        let (status, family) = self.post("/api/v1/families", body).await;
        assert_eq!(status, 201, "{family}");
        family
    }

    async fn total(&self) -> i64 {
        let (status, list) = self.get("/api/v1/families?archived=true").await;
        assert_eq!(status, 200, "{list}");
        list["total"].as_i64().unwrap()
    }
}

/// A couple with one child.
fn martin() -> Value {
    json!({
        "situation": "couple",
        "regime": "caf",
        "allocataire": "1234567",
        "address": { "line1": "3 rue Lénine", "postal_code": "69960", "town": "Corbas" },
        "head": { "last_name": "Martin", "first_name": "Éloïse", "sex": "F",
                  "birth_date": "1985-04-12", "email": "eloise.martin@exemple.fr",
                  "phone_mobile": "0612345678" },
        "partner": { "last_name": "Martin", "first_name": "Karim", "sex": "M",
                     "birth_date": "1983-09-30" },
        "children": [ { "last_name": "Martin", "first_name": "Léo", "sex": "M",
                        "birth_date": "2016-05-04" } ]
    })
}

/// A single parent with two children, nobody in common with `martin()`.
fn dubois() -> Value {
    json!({
        "situation": "single_parent",
        "address": { "line1": "12 avenue Jean Jaurès", "postal_code": "69200", "town": "Vénissieux" },
        "head": { "last_name": "Dubois", "first_name": "Nadia", "sex": "F", "birth_date": "1990-01-20" },
        "children": [
            { "last_name": "Dubois", "first_name": "Inès", "sex": "F", "birth_date": "2018-02-11" },
            { "last_name": "Dubois", "first_name": "Sacha", "sex": "X", "birth_date": "2020-07-01" }
        ]
    })
}

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

/// An API error with `code` and a French message (French words, no English ones).
fn assert_french_error(body: &Value, code: &str) {
    assert_eq!(body["error"], code, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    let words: Vec<String> = message
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let french = [
        "introuvable",
        "invalide",
        "le",
        "la",
        "les",
        "un",
        "une",
        "de",
        "des",
        "du",
        "est",
        "dans",
        "droits",
        "obligatoire",
        "inconnu",
        "champ",
        "attendu",
        "entre",
    ];
    let english = [
        "the", "not", "found", "invalid", "expected", "missing", "field", "error",
    ];
    assert!(
        message.chars().any(|c| "éèàùçêâôîû«»".contains(c))
            || words.iter().any(|w| french.contains(&w.as_str())),
        "a French message: {message}"
    );
    assert!(
        !words.iter().any(|w| english.contains(&w.as_str())),
        "no English: {message}"
    );
}

#[actix_web::test]
async fn families_are_searched_created_read_and_patched() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app, &app.city, "school_agent").await;

    let (status, empty) = api.get("/api/v1/families").await;
    assert_eq!(status, 200);
    assert_eq!(empty, json!({ "items": [], "total": 0 }));

    // Creation: 201, the dossier with its id and number, where to find it.
    let response = api
        .client
        .post(app.city_url(&app.city, "/api/v1/families"))
        .bearer_auth(api.token.as_deref().unwrap())
        .json(&martin())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let family: Value = response.json().await.unwrap();
    let id = family["id"].as_i64().expect("an id");
    assert!(family["number"].as_i64().expect("a number") > 0);
    assert_eq!(location, format!("/api/v1/families/{id}"));
    assert_eq!(family["name"], "MARTIN");
    assert_eq!(family["situation"], "couple");
    assert_eq!(family["address"]["town"], "CORBAS");
    assert_eq!(family["adults"].as_array().unwrap().len(), 2);
    assert_eq!(family["adults"][0]["role"], "head");
    assert_eq!(family["adults"][0]["phone_mobile"], "06 12 34 56 78");
    assert_eq!(family["children"][0]["first_name"], "Léo");

    // The same people again: 409 with the homonyms, nothing created...
    let (status, conflict) = api.post("/api/v1/families", martin()).await;
    assert_eq!(status, 409, "{conflict}");
    assert_french_error(&conflict, "homonymes");
    let homonyms = conflict["homonyms"].as_array().unwrap();
    assert!(
        homonyms
            .iter()
            .any(|h| h["first_name"] == "Éloïse" && h["household_id"] == id),
        "{conflict}"
    );
    assert_eq!(api.total().await, 1, "nothing created on a conflict");
    // ... until the caller says they are other people.
    let mut again = martin();
    again["ignore_homonyms"] = json!(true);
    let (status, twin) = api.post("/api/v1/families", again).await;
    assert_eq!(status, 201, "{twin}");
    assert_ne!(twin["id"], family["id"]);
    assert_ne!(twin["number"], family["number"]);
    let other = api.create(dubois()).await;

    // The list: shape of its items, search, paging.
    let (status, list) = api.get("/api/v1/families").await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 3);
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap();
    for field in ["id", "number", "name", "status", "town", "members"] {
        assert!(item.get(field).is_some(), "{field} in {item}");
    }
    assert_eq!(item["status"], "active");
    assert_eq!(item["town"], "CORBAS");
    assert!(
        item["members"].as_str().unwrap().contains("Léo MARTIN"),
        "{item}"
    );
    let (_, found) = api.get("/api/v1/families?q=eloise%20martin").await;
    assert_eq!(found["total"], 2, "accents not required: {found}");
    let (_, found) = api.get("/api/v1/families?q=Sacha").await;
    assert_eq!(ids(&found), vec![other["id"].as_i64().unwrap()]);
    let (_, page) = api.get("/api/v1/families?limit=2").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["total"], 3, "the total counts every page");
    let (_, rest) = api.get("/api/v1/families?limit=2&offset=2").await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    let (_, huge) = api.get("/api/v1/families?limit=100000").await;
    assert_eq!(
        huge["items"].as_array().unwrap().len(),
        3,
        "capped, not refused"
    );
    let (status, bad) = api.get("/api/v1/families?limit=0").await;
    assert_eq!(status, 422);
    assert_french_error(&bad, "invalide");
    let (status, bad) = api.get("/api/v1/families?limit=beaucoup").await;
    assert_eq!(status, 422);
    assert_french_error(&bad, "invalide");

    // Archived families are left out unless asked for.
    let twin_id = twin["id"].as_i64().unwrap();
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move { store::archive(conn, twin_id, "départ de la commune").await })
        })
        .await
        .unwrap();
    let (_, active) = api.get("/api/v1/families").await;
    assert_eq!(active["total"], 2);
    assert!(!ids(&active).contains(&twin_id));
    let (_, all) = api.get("/api/v1/families?archived=true").await;
    assert_eq!(all["total"], 3);
    assert!(ids(&all).contains(&twin_id));

    // Reading and changing a family.
    let (status, read) = api.get(&location).await;
    assert_eq!(status, 200);
    assert_eq!(read["id"], id);
    assert_eq!(read["number"], family["number"]);
    let (status, moved) = api
        .patch(
            &location,
            json!({
                "regime": "msa",
                "address": { "line1": "8 place de la Mairie", "line2": "Bâtiment B",
                             "postal_code": "69 960", "town": "Corbas" }
            }),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["regime"], "msa");
    assert_eq!(moved["address"]["line1"], "8 place de la Mairie");
    assert_eq!(moved["address"]["postal_code"], "69960");
    assert_eq!(moved["allocataire"], "1234567", "absent fields unchanged");
    let (_, reread) = api.get(&location).await;
    assert_eq!(reread["address"], moved["address"]);
    assert_eq!(reread["regime"], "msa");
    let (_, found) = api.get("/api/v1/families?q=mairie").await;
    assert_eq!(ids(&found), vec![id], "the new address is searchable");

    // Unknown ids: 404 in JSON.
    let (status, missing) = api.get("/api/v1/families/987654321").await;
    assert_eq!(status, 404);
    assert_french_error(&missing, "introuvable");
    let (status, missing) = api
        .patch("/api/v1/families/987654321", json!({ "regime": "msa" }))
        .await;
    assert_eq!(status, 404);
    assert_french_error(&missing, "introuvable");
    let (status, _) = api.get("/api/v1/families/pas-un-nombre").await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn adults_and_children_of_a_family_are_listed_read_added_and_patched() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app, &app.city, "school_agent").await;
    let family = api.create(martin()).await;
    let other = api.create(dubois()).await;
    let base = format!("/api/v1/families/{}", family["id"]);
    let head_id = family["adults"][0]["id"].as_i64().unwrap();
    let leo_id = family["children"][0]["id"].as_i64().unwrap();
    let nadia_id = other["adults"][0]["id"].as_i64().unwrap();
    let ines_id = other["children"][0]["id"].as_i64().unwrap();

    // Adults.
    let (status, persons) = api.get(&format!("{base}/persons")).await;
    assert_eq!(status, 200);
    assert_eq!(persons["total"], 2);
    assert_eq!(persons["items"][0]["id"], head_id);
    assert_eq!(persons["items"][0]["role"], "head");
    assert_eq!(persons["items"][1]["first_name"], "Karim");
    let (status, head) = api.get(&format!("{base}/persons/{head_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(head["email"], "eloise.martin@exemple.fr");
    assert_eq!(head["role_label"], "Responsable du foyer");

    let (status, grandma) = api
        .post(
            &format!("{base}/persons"),
            json!({ "last_name": "Moreau", "first_name": "Jeanne", "sex": "F",
                    "birth_date": "1950-03-03", "phone_home": "04 78 00 00 00" }),
        )
        .await;
    assert_eq!(status, 201, "{grandma}");
    assert_eq!(grandma["role"], "other", "another member by default");
    assert_eq!(grandma["last_name"], "MOREAU");
    let grandma_id = grandma["id"].as_i64().unwrap();
    let (_, persons) = api.get(&format!("{base}/persons")).await;
    assert_eq!(persons["total"], 3);

    let (status, patched) = api
        .patch(
            &format!("{base}/persons/{head_id}"),
            json!({ "phone_mobile": "+33 7 11 22 33 44", "professional_situation": "job_seeker",
                    "employer": "" }),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["phone_mobile"], "07 11 22 33 44");
    assert_eq!(patched["professional_situation"], "job_seeker");
    assert_eq!(
        patched["professional_situation_label"],
        "En recherche d'emploi"
    );
    assert_eq!(patched["first_name"], "Éloïse", "absent fields unchanged");

    // Children.
    let (status, children) = api.get(&format!("{base}/children")).await;
    assert_eq!(status, 200);
    assert_eq!(children["total"], 1);
    assert_eq!(children["items"][0]["id"], leo_id);
    assert_eq!(children["items"][0]["usual_residence"], true);

    // The child's dossier carries its authorisations and contacts.
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                use diesel::sql_types::BigInt;
                use diesel_async::RunQueryDsl;
                diesel::sql_query(
                    "INSERT INTO authorisations (kind_id, child_id, granted)
                     SELECT id, $1, true FROM authorisation_kinds WHERE code = 'image_rights'",
                )
                .bind::<BigInt, _>(leo_id)
                .execute(conn)
                .await?;
                diesel::sql_query(
                    "INSERT INTO child_contacts (child_id, last_name, first_name, relationship,
                                                 phone, emergency, may_pick_up)
                     VALUES ($1, 'MOREAU', 'Jeanne', 'grand-mère', '04 78 00 00 00', true, true)",
                )
                .bind::<BigInt, _>(leo_id)
                .execute(conn)
                .await?;
                Ok(())
            })
        })
        .await
        .unwrap();
    let (status, leo) = api.get(&format!("{base}/children/{leo_id}")).await;
    assert_eq!(status, 200, "{leo}");
    assert_eq!(leo["id"], leo_id);
    assert_eq!(leo["first_name"], "Léo");
    assert_eq!(leo["kind"], "child");
    assert_eq!(leo["authorisations"][0]["code"], "image_rights");
    assert_eq!(leo["authorisations"][0]["granted"], true);
    assert_eq!(leo["contacts"][0]["first_name"], "Jeanne");
    assert_eq!(leo["contacts"][0]["emergency"], true);
    assert_eq!(leo["guardians"].as_array().unwrap().len(), 2);
    assert_eq!(leo["households"][0]["id"], family["id"]);

    let (status, baby) = api
        .post(
            &format!("{base}/children"),
            json!({ "last_name": "Martin", "first_name": "Zoé", "sex": "F",
                    "birth_date": "2024-12-01" }),
        )
        .await;
    assert_eq!(status, 201, "{baby}");
    let zoe_id = baby["id"].as_i64().unwrap();
    assert_eq!(baby["first_name"], "Zoé");
    assert!(baby["authorisations"].is_array() && baby["contacts"].is_array());
    let relationships: Vec<&str> = baby["guardians"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["relationship"].as_str().unwrap())
        .collect();
    assert_eq!(relationships.len(), 2, "the couple, not the grandmother");
    assert!(relationships.contains(&"mother") && relationships.contains(&"father"));
    let (_, children) = api.get(&format!("{base}/children")).await;
    assert_eq!(children["total"], 2);

    let (status, renamed) = api
        .patch(
            &format!("{base}/children/{zoe_id}"),
            json!({ "first_name": "Zoé-Lou", "birth_place": "Lyon" }),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["first_name"], "Zoé-Lou");
    assert_eq!(renamed["birth_place"], "Lyon");
    let (_, reread) = api.get(&format!("{base}/children/{zoe_id}")).await;
    assert_eq!(reread["first_name"], "Zoé-Lou");

    // Ids that are not of this family: 404, and nothing changed.
    for path in [
        format!("{base}/persons/{nadia_id}"),
        format!("{base}/children/{ines_id}"),
        format!("{base}/persons/{leo_id}"),
        format!("{base}/children/{head_id}"),
        format!("{base}/persons/987654321"),
        format!("{base}/children/987654321"),
        "/api/v1/families/987654321/persons".to_string(),
        "/api/v1/families/987654321/children".to_string(),
        format!("/api/v1/families/987654321/persons/{head_id}"),
        format!("/api/v1/families/987654321/children/{leo_id}"),
    ] {
        let (status, body) = api.get(&path).await;
        assert_eq!(status, 404, "GET {path}: {body}");
        assert_french_error(&body, "introuvable");
    }
    let (status, _) = api
        .patch(
            &format!("{base}/persons/{nadia_id}"),
            json!({ "first_name": "Intruse" }),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = api
        .patch(
            &format!("{base}/children/{ines_id}"),
            json!({ "first_name": "Intruse" }),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = api
        .post(
            "/api/v1/families/987654321/children",
            json!({ "last_name": "Personne", "first_name": "Nul" }),
        )
        .await;
    assert_eq!(status, 404);
    let other_base = format!("/api/v1/families/{}", other["id"]);
    let (status, partner) = api
        .post(
            &format!("{other_base}/persons"),
            json!({ "role": "partner", "last_name": "Petit", "first_name": "Samir", "sex": "M" }),
        )
        .await;
    assert_eq!(status, 201, "{partner}");
    assert_eq!(partner["role"], "partner");
    assert_eq!(partner["role_label"], "Conjoint(e)");
    let (_, nadia) = api.get(&format!("{other_base}/persons/{nadia_id}")).await;
    assert_eq!(nadia["first_name"], "Nadia");
    let (_, ines) = api.get(&format!("{other_base}/children/{ines_id}")).await;
    assert_eq!(ines["first_name"], "Inès");
    let (_, persons) = api.get(&format!("{base}/persons")).await;
    assert!(ids(&persons).contains(&grandma_id));
}

#[actix_web::test]
async fn another_citys_ids_answer_404_and_never_its_data() {
    let app = TestApp::spawn().await;
    let other_city = app.add_city("Ville-Voisine").await;
    let ours = Api::new(&app, &app.city, "school_agent").await;
    let theirs = Api::new(&app, &other_city, "school_agent").await;

    // Fresh schemas number their rows alike: the first family has the same ids here and
    // there; the other city has one family more.
    let mine = ours.create(martin()).await;
    let first = theirs.create(dubois()).await;
    let second = theirs
        .create(json!({
            "address": { "line1": "1 rue Secrète", "postal_code": "69001", "town": "Lyon" },
            "head": { "last_name": "Secret", "first_name": "Gaspard", "birth_date": "1970-01-01" },
            "children": [ { "last_name": "Secret", "first_name": "Mila", "birth_date": "2015-01-01" } ]
        }))
        .await;
    assert_eq!(mine["id"], first["id"], "the same row ids in both cities");
    assert_eq!(mine["adults"][0]["id"], first["adults"][0]["id"]);

    // The same id reads this city's family, never the other's.
    let (status, same_id) = ours.get(&format!("/api/v1/families/{}", first["id"])).await;
    assert_eq!(status, 200);
    assert_eq!(same_id["name"], "MARTIN");
    // Ids existing only in the other city: 404, for reads and writes alike.
    let family = second["id"].as_i64().unwrap();
    let adult = second["adults"][0]["id"].as_i64().unwrap();
    let child = second["children"][0]["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/families/{family}"),
        format!("/api/v1/families/{family}/persons"),
        format!("/api/v1/families/{family}/persons/{adult}"),
        format!("/api/v1/families/{family}/children"),
        format!("/api/v1/families/{family}/children/{child}"),
    ] {
        let (status, body) = ours.get(&path).await;
        assert_eq!(status, 404, "GET {path}: {body}");
        assert_french_error(&body, "introuvable");
        assert!(!body.to_string().contains("SECRET"), "{body}");
        assert!(!body.to_string().contains("Gaspard"), "{body}");
    }
    let (status, _) = ours
        .patch(
            &format!("/api/v1/families/{family}"),
            json!({ "regime": "none" }),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = ours
        .patch(
            &format!("/api/v1/families/{family}/persons/{adult}"),
            json!({ "first_name": "Pirate" }),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = ours
        .post(
            &format!("/api/v1/families/{family}/children"),
            json!({ "last_name": "Pirate", "first_name": "Jack" }),
        )
        .await;
    assert_eq!(status, 404);
    // Their adult and child ids under our family: 404 as well.
    let base = format!("/api/v1/families/{}", mine["id"]);
    let (status, _) = ours.get(&format!("{base}/persons/{adult}")).await;
    assert_eq!(status, 404);
    let (status, _) = ours.get(&format!("{base}/children/{child}")).await;
    assert_eq!(status, 404);
    // A search finds nothing of theirs.
    let (_, found) = ours.get("/api/v1/families?q=secret").await;
    assert_eq!(found["total"], 0);

    // Nothing of theirs changed, and our token is unknown on their host.
    let (_, unchanged) = theirs.get(&format!("/api/v1/families/{family}")).await;
    assert_eq!(unchanged["regime"], "caf");
    assert_eq!(unchanged["adults"][0]["first_name"], "Gaspard");
    assert_eq!(unchanged["children"].as_array().unwrap().len(), 1);
    let foreign = Api {
        token: ours.token.clone(),
        ..Api::anonymous(&app, &other_city)
    };
    let (status, body) = foreign.get(&format!("/api/v1/families/{family}")).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "non_authentifie");
}

#[actix_web::test]
async fn health_incomes_and_bank_details_follow_the_tokens_scopes() {
    let app = TestApp::spawn().await;
    let school = Api::new(&app, &app.city, "school_agent").await;
    let cashier = Api::new(&app, &app.city, "regisseur").await;
    let animator = Api::new(&app, &app.city, "animator").await;
    let medical = Api::new(&app, &app.city, "medical").await;
    let family = school.create(martin()).await;
    let id = family["id"].as_i64().unwrap();
    let head = family["adults"][0]["id"].as_i64().unwrap();
    let leo = family["children"][0]["id"].as_i64().unwrap();

    // A full health sheet, an income and a bank account, as agents would have entered them.
    let key = app.state.keys.city_key(&app.city.key_id);
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let sheet = HealthSheet {
                    basic: Some(BasicHealth {
                        diet: "no_pork".into(),
                        allergies: vec!["arachide".into()],
                        pai: true,
                        what_to_do: "stylo d'adrénaline dans le sac".into(),
                    }),
                    medical: Some(MedicalHealth {
                        medication: "Ventoline".into(),
                        doctor: "Dr Médecin".into(),
                        ..MedicalHealth::default()
                    }),
                    confidential: Some(ConfidentialHealth {
                        aeeh: true,
                        mdph: true,
                        notes: "suivi CAMSP".into(),
                    }),
                };
                health::save(conn, &key, leo, &sheet).await?;
                store::add_income(
                    conn,
                    id,
                    &IncomeInput {
                        family_quotient: Some(812),
                        source: "caf".into(),
                        ..IncomeInput::default()
                    },
                    "test",
                    chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                )
                .await?;
                bank::add_account(
                    conn,
                    &key,
                    id,
                    &BankInput {
                        holder_id: head,
                        iban: "FR76 3000 6000 0112 3456 7890 189".into(),
                        bic: "AGRIFRPP".into(),
                    },
                )
                .await?;
                Ok(())
            })
        })
        .await
        .unwrap();
    let child_path = format!("/api/v1/families/{id}/children/{leo}");
    let family_path = format!("/api/v1/families/{id}");

    // School agent: basic health only; incomes; no bank details.
    let (status, seen) = school.get(&child_path).await;
    assert_eq!(status, 200);
    let health = seen["health"].as_object().expect("health present");
    assert_eq!(health.keys().collect::<Vec<_>>(), vec!["basic"], "{seen}");
    assert_eq!(seen["health"]["basic"]["diet"], "no_pork");
    assert_eq!(seen["health"]["basic"]["allergies"], json!(["arachide"]));
    let text = seen.to_string();
    for secret in ["Ventoline", "CAMSP", "aeeh", "mdph", "medical"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let (_, household) = school.get(&family_path).await;
    assert_eq!(household["incomes"][0]["family_quotient"], 812);
    assert!(household.get("bank_accounts").is_none(), "{household}");

    // Régisseur: no health at all; incomes and bank details.
    let (status, seen) = cashier.get(&child_path).await;
    assert_eq!(status, 200);
    assert!(seen.get("health").is_none(), "{seen}");
    let text = seen.to_string();
    for secret in ["arachide", "no_pork", "Ventoline", "CAMSP"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let (_, household) = cashier.get(&family_path).await;
    assert_eq!(household["incomes"][0]["family_quotient"], 812);
    let account = &household["bank_accounts"][0];
    assert_eq!(account["holder_id"], head);
    assert!(
        !household.to_string().contains("30006000011234567890189"),
        "never the whole IBAN"
    );

    // Animator: basic health, no incomes, no bank.
    let (_, household) = animator.get(&family_path).await;
    assert!(household.get("incomes").is_none(), "{household}");
    assert!(household.get("bank_accounts").is_none(), "{household}");
    let (_, seen) = animator.get(&child_path).await;
    assert_eq!(seen["health"]["basic"]["pai"], true);
    assert!(seen["health"].get("medical").is_none());

    // Medical staff: every level.
    let (_, seen) = medical.get(&child_path).await;
    assert_eq!(seen["health"]["basic"]["diet"], "no_pork");
    assert_eq!(seen["health"]["medical"]["medication"], "Ventoline");
    assert_eq!(seen["health"]["confidential"]["mdph"], true);

    // Writes answer with the same filtering.
    let (status, patched) = cashier
        .patch(&child_path, json!({ "birth_place": "Lyon" }))
        .await;
    assert_eq!(
        status, 403,
        "the régisseur may not write families: {patched}"
    );
    let (status, patched) = school
        .patch(&child_path, json!({ "birth_place": "Lyon" }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        patched["health"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["basic"]
    );
    let (_, patched) = school
        .patch(&family_path, json!({ "allocataire": "7654321" }))
        .await;
    assert!(patched.get("bank_accounts").is_none());
    assert_eq!(patched["incomes"][0]["family_quotient"], 812);
    // The lists carry no health.
    let (_, children) = medical.get(&format!("{family_path}/children")).await;
    assert!(!children.to_string().contains("no_pork"), "{children}");
}

#[actix_web::test]
async fn read_only_unscoped_and_anonymous_callers_are_refused() {
    let app = TestApp::spawn().await;
    let writer = Api::new(&app, &app.city, "school_agent").await;
    let auditor = Api::new(&app, &app.city, "auditor").await;
    let payer = Api::new(&app, &app.city, "family_payment_only").await;
    let anonymous = Api::anonymous(&app, &app.city);
    let unknown = Api {
        token: Some("jeton-inconnu".into()),
        ..Api::anonymous(&app, &app.city)
    };
    let family = writer.create(martin()).await;
    let base = format!("/api/v1/families/{}", family["id"]);
    let head = family["adults"][0]["id"].as_i64().unwrap();
    let leo = family["children"][0]["id"].as_i64().unwrap();

    // The auditor reads...
    for path in [
        "/api/v1/families".to_string(),
        base.clone(),
        format!("{base}/persons"),
        format!("{base}/persons/{head}"),
        format!("{base}/children"),
        format!("{base}/children/{leo}"),
    ] {
        let (status, body) = auditor.get(&path).await;
        assert_eq!(status, 200, "auditor GET {path}: {body}");
    }
    // ... but never writes.
    let writes = [
        (Method::POST, "/api/v1/families".to_string(), martin()),
        (Method::PATCH, base.clone(), json!({ "regime": "none" })),
        (
            Method::POST,
            format!("{base}/persons"),
            json!({ "last_name": "Moreau", "first_name": "Jeanne" }),
        ),
        (
            Method::PATCH,
            format!("{base}/persons/{head}"),
            json!({ "first_name": "Changée" }),
        ),
        (
            Method::POST,
            format!("{base}/children"),
            json!({ "last_name": "Martin", "first_name": "Zoé" }),
        ),
        (
            Method::PATCH,
            format!("{base}/children/{leo}"),
            json!({ "first_name": "Changé" }),
        ),
    ];
    for (method, path, body) in &writes {
        let (status, answer) = auditor.send(method.clone(), path, Some(body)).await;
        assert_eq!(status, 403, "auditor {method} {path}: {answer}");
        assert_french_error(&answer, "interdit");
        // Without a token, or with an unknown one: 401.
        for caller in [&anonymous, &unknown] {
            let (status, answer) = caller.send(method.clone(), path, Some(body)).await;
            assert_eq!(status, 401, "{method} {path}: {answer}");
            assert_eq!(answer["error"], "non_authentifie");
        }
    }
    let (_, unchanged) = writer.get(&base).await;
    assert_eq!(unchanged["regime"], "caf");
    assert_eq!(unchanged["adults"][0]["first_name"], "Éloïse");
    assert_eq!(unchanged["adults"].as_array().unwrap().len(), 2);
    assert_eq!(unchanged["children"].as_array().unwrap().len(), 1);
    assert_eq!(writer.total().await, 1);

    // Reads need a token, and one whose scopes allow reading families.
    for caller in [&anonymous, &unknown] {
        let (status, answer) = caller.get("/api/v1/families").await;
        assert_eq!(status, 401, "{answer}");
        let (status, _) = caller.get(&base).await;
        assert_eq!(status, 401);
    }
    let (status, answer) = payer.get("/api/v1/families").await;
    assert_eq!(status, 403, "{answer}");
    assert_french_error(&answer, "interdit");
    let (status, answer) = payer.get(&format!("{base}/children/{leo}")).await;
    assert_eq!(status, 403, "{answer}");
}

#[actix_web::test]
async fn invalid_input_is_refused_in_french_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app, &app.city, "school_agent").await;
    let family = api.create(martin()).await;
    let base = format!("/api/v1/families/{}", family["id"]);
    let leo = family["children"][0]["id"].as_i64().unwrap();
    let head = family["adults"][0]["id"].as_i64().unwrap();

    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = dubois();
        change(&mut body);
        body
    };
    let refused_creations = [
        (
            with(&|b| b["address"]["postal_code"] = json!("6920")),
            "code postal",
        ),
        (with(&|b| b["address"]["line1"] = json!("")), "adresse"),
        (with(&|b| b["head"]["last_name"] = json!("R2D2")), "nom"),
        (with(&|b| b["head"]["last_name"] = json!("")), "nom"),
        (
            with(&|b| b["head"]["phone_mobile"] = json!("12 34")),
            "téléphone",
        ),
        (with(&|b| b["head"]["email"] = json!("pas-un-courriel")), ""),
        (
            with(&|b| b["children"][1]["birth_date"] = json!("2099-01-01")),
            "futur",
        ),
        (
            with(&|b| b["children"][0]["birth_date"] = json!("31/12/2019")),
            "date",
        ),
        (with(&|b| b["situation"] = json!("polygame")), "situation"),
        (with(&|b| b["head"]["sex"] = json!("H")), "sexe"),
        (
            with(&|b| b["adresse"] = json!({})),
            "« adresse » est inconnu",
        ),
        (
            with(&|b| b["children"][1]["prenom"] = json!("Sacha")),
            "« children[1].prenom » est inconnu",
        ),
        (
            with(&|b| b["head"]["prenom"] = json!("Nadia")),
            "« head.prenom » est inconnu",
        ),
        (with(&|b| b["children"] = json!("Inès")), "format"),
        (json!([1, 2, 3]), "objet"),
    ];
    for (body, expected) in refused_creations {
        let (status, answer) = api.post("/api/v1/families", body.clone()).await;
        assert_eq!(status, 422, "{body} → {answer}");
        assert_french_error(&answer, "invalide");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected:?} in {message:?}");
    }
    // Not JSON at all, or not declared as JSON.
    let url = app.city_url(&app.city, "/api/v1/families");
    let token = api.token.clone().unwrap();
    for (content_type, body) in [
        ("application/json", "{\"head\": "),
        ("application/json", "pas du json"),
        ("text/plain", "{}"),
    ] {
        let answer = api
            .client
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 422, "{content_type} {body}");
        let answer: Value = answer.json().await.unwrap();
        assert_french_error(&answer, "invalide");
    }
    assert_eq!(api.total().await, 1, "nothing was created");

    // Updates: refused as a whole, the dossier as it was.
    let before = api.get(&base).await.1;
    for (path, body) in [
        (
            base.clone(),
            json!({ "regime": "msa", "address": { "line1": "1 rue", "postal_code": "abcde", "town": "X" } }),
        ),
        (base.clone(), json!({ "regim": "msa" })),
        (base.clone(), json!({ "situation": "inconnue" })),
        (
            format!("{base}/persons/{head}"),
            json!({ "first_name": "Éloïse", "phone_mobile": "pas un numéro" }),
        ),
        (
            format!("{base}/persons/{head}"),
            json!({ "professional_situation": "astronaute" }),
        ),
        (
            format!("{base}/children/{leo}"),
            json!({ "first_name": "Léonard", "birth_date": "1990-01-01" }),
        ),
        (
            format!("{base}/children/{leo}"),
            json!({ "email": "leo@exemple.fr" }),
        ),
        (format!("{base}/children/{leo}"), json!({ "sex": "Z" })),
    ] {
        let (status, answer) = api.patch(&path, body.clone()).await;
        assert_eq!(status, 422, "PATCH {path} {body} → {answer}");
        assert_french_error(&answer, "invalide");
    }
    let after = api.get(&base).await.1;
    assert_eq!(before, after, "nothing changed");
    let (_, leo_now) = api.get(&format!("{base}/children/{leo}")).await;
    assert_eq!(leo_now["first_name"], "Léo");

    // Additions: refused, nothing added.
    let (status, answer) = api
        .post(
            &format!("{base}/persons"),
            json!({ "last_name": "Moreau", "first_name": "Jeanne", "role": "grand-mère" }),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_french_error(&answer, "invalide");
    let (status, answer) = api
        .post(
            &format!("{base}/persons"),
            json!({ "last_name": "Moreau", "first_name": "Jeanne", "role": "head" }),
        )
        .await;
    assert_eq!(status, 422, "one head per household: {answer}");
    assert_french_error(&answer, "invalide");
    let (status, answer) = api
        .post(
            &format!("{base}/persons"),
            json!({ "last_name": "Moreau", "first_name": "Jeanne", "role": "partner",
                    "partner": { "last_name": "Moreau" } }),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("« partner »"));
    let (status, answer) = api
        .post(
            &format!("{base}/children"),
            json!({ "last_name": "Martin", "first_name": "Zoé", "birth_date": "2099-01-01" }),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_french_error(&answer, "invalide");
    let (_, persons) = api.get(&format!("{base}/persons")).await;
    assert_eq!(persons["total"], 2);
    let (_, children) = api.get(&format!("{base}/children")).await;
    assert_eq!(children["total"], 1);
}

#[actix_web::test]
async fn the_openapi_document_describes_the_api_in_french() {
    let app = TestApp::spawn().await;
    let answer = app
        .bare_client()
        .get(app.city_url(&app.city, "/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "public");
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let text = answer.text().await.unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();

    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    assert!(document["info"]["title"].is_string());
    let scheme = &document["components"]["securitySchemes"]["jeton"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(document["security"], json!([{ "jeton": [] }]));
    let expected = [
        ("/api/v1/me", vec!["get"]),
        ("/api/v1/families", vec!["get", "post"]),
        ("/api/v1/families/{id}", vec!["get", "patch"]),
        ("/api/v1/families/{id}/persons", vec!["get", "post"]),
        (
            "/api/v1/families/{id}/persons/{person_id}",
            vec!["get", "patch"],
        ),
        ("/api/v1/families/{id}/children", vec!["get", "post"]),
        (
            "/api/v1/families/{id}/children/{child_id}",
            vec!["get", "patch"],
        ),
        ("/api/v1/activities", vec!["get"]),
        ("/api/v1/activities/{id}/availability", vec!["get"]),
        ("/api/v1/bookings", vec!["post"]),
        ("/api/v1/bookings/{id}", vec!["get", "delete"]),
        ("/api/v1/bookings/{id}/attendance", vec!["patch"]),
        ("/api/v1/children/{id}/bookings", vec!["get"]),
        ("/api/v1/pricing/psu", vec!["get"]),
        ("/api/v1/pricing/simulation", vec!["post"]),
    ];
    let paths = document["paths"].as_object().unwrap();
    assert_eq!(paths.len(), expected.len());
    // Every documented operation is a route of the table, with the need it documents.
    let table = marelle::web::routes().list();
    for (path, methods) in expected {
        for method in methods {
            let operation = &paths[path][method];
            assert!(operation.is_object(), "{method} {path}");
            let summary = operation["summary"].as_str().unwrap_or_default();
            assert!(!summary.is_empty(), "{method} {path} has a summary");
            for (status, response) in operation["responses"].as_object().unwrap() {
                let description = response["description"].as_str().unwrap();
                assert!(!description.is_empty(), "{method} {path} {status}");
            }
            assert!(
                operation["responses"].get("401").is_some(),
                "{method} {path}"
            );
            assert!(
                table
                    .iter()
                    .any(|(m, p, _)| m.as_str().eq_ignore_ascii_case(method) && *p == path),
                "{method} {path} is served"
            );
            // Path parameters are declared.
            for name in ["id", "person_id", "child_id"] {
                if path.contains(&format!("{{{name}}}")) {
                    let declared =
                        operation["parameters"].as_array().unwrap().iter().any(|p| {
                            p["name"] == name && p["in"] == "path" && p["required"] == true
                        });
                    assert!(declared, "{method} {path} declares {name}");
                }
            }
        }
    }
    // Every $ref points at a component.
    let mut refs = Vec::new();
    collect_refs(&document, &mut refs);
    assert!(!refs.is_empty());
    for reference in refs {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {reference}"));
        assert!(
            document["components"]["schemas"].get(name).is_some(),
            "{reference} resolves"
        );
    }
    assert_eq!(
        paths["/api/v1/families"]["post"]["responses"]["409"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/HomonymsError"
    );
    // In French: the operations and schemas, and no English left from the code's comments.
    assert!(text.contains("Rechercher des familles"));
    assert!(text.contains("Créer une famille"));
    for english in [
        "as submitted",
        "A household",
        "the reader",
        "Only the levels",
    ] {
        assert!(!text.contains(english), "English left: {english}");
    }

    // The reference validator, when this machine has it (pip install openapi-spec-validator).
    let has_validator = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_validator {
        let file = std::env::temp_dir().join(format!("{}.json", unique("openapi-")));
        std::fs::write(&file, &text).unwrap();
        let output = std::process::Command::new("python3")
            .args(["-m", "openapi_spec_validator"])
            .arg(&file)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&file);
        assert!(
            output.status.success(),
            "openapi-spec-validator: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    } else {
        eprintln!("openapi-spec-validator absent : vérification structurelle seulement");
    }
}

fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get("$ref") {
                refs.push(reference.clone());
            }
            object.values().for_each(|v| collect_refs(v, refs));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}
