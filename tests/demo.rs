//! `marelle demo`, what a newcomer running `ops/run` sees: the demonstration city with its
//! agents, synthetic families and a parent's portal account, an anonymised recette, and a
//! second run that changes nothing.

mod common;

use common::pages;
use common::*;

const DEMO_PASSWORD: &str = "Marelle-demo-2026";

#[actix_web::test]
async fn the_demo_city_shows_the_product_with_synthetic_data_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let (ok, stdout, stderr) = marelle(&["demo", "--city", "givors"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("givors : ville créée"), "{stdout}");
    let households = stdout
        .split("givors : ")
        .find_map(|line| {
            line.split(" foyers synthétiques")
                .next()
                .filter(|n| n.len() < line.len())
        })
        .and_then(|n| n.parse::<usize>().ok())
        .expect("the number of households is reported");
    assert!(
        (150..300).contains(&households),
        "150 families, some separated"
    );
    assert!(
        stdout.contains("givors-recette : recette anonymisée créée"),
        "{stdout}"
    );
    assert!(
        stdout.contains("givors : 6 activités"),
        "activities, enrolments, bookings and attendance: {stdout}"
    );
    let family_login = stdout
        .split("compte du portail famille « ")
        .nth(1)
        .expect("a parent account is announced")
        .split(' ')
        .next()
        .unwrap()
        .to_string();

    let (ok, again, stderr) = marelle(&["demo", "--city", "givors"]);
    assert!(ok, "{stderr}");
    assert!(again.contains("givors : déjà en place"), "{again}");
    assert!(
        !again.contains("foyers synthétiques"),
        "nothing added: {again}"
    );

    app.state.tenants.invalidate();
    let givors = provisioner(app.db()).city("givors").await.unwrap();
    let agent = app.client();
    let signed = app
        .sign_in(&agent, &givors, "/agent", "admin", DEMO_PASSWORD)
        .await;
    assert_eq!(signed.status(), 303);
    let families = agent
        .get(app.city_url(&givors, "/agent/familles"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        families.contains(&format!("({households} en tout)")),
        "{families}"
    );

    // The activities at work: the catalogue, the crèche commission, a canteen day.
    let page = |path: &'static str| {
        let (agent, givors) = (&agent, &givors);
        let app = &app;
        async move { pages::get(app, agent, givors, path).await.1 }
    };
    let activities = page("/agent/activites").await;
    assert!(activities.contains("Restauration scolaire"), "{activities}");
    assert!(activities.contains("Crèche Les Petits Pas"), "{activities}");
    let commission = page("/agent/inscriptions?statut=waitlisted").await;
    assert!(
        !commission.contains("Aucune demande ne correspond"),
        "{commission}"
    );
    let schools = page("/agent/ecoles").await;
    assert!(
        schools.contains("École élémentaire Jules-Ferry"),
        "{schools}"
    );

    let parent = app.client();
    let signed = app
        .sign_in(&parent, &givors, "", &family_login, DEMO_PASSWORD)
        .await;
    assert_eq!(signed.status(), 303);
    let dossier = parent
        .get(app.city_url(&givors, "/mon-dossier"))
        .send()
        .await
        .unwrap();
    assert_eq!(dossier.status(), 200);
    let dossier = dossier.text().await.unwrap();
    assert!(dossier.contains("Famille n°"), "{dossier}");
    assert!(!dossier.contains("Aucun enfant rattaché"), "{dossier}");
}
