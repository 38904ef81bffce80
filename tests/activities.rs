//! The activity catalogue and the schools through the back-office: structures, activities
//! created from their kind's template, units and their rules, groups, capacities, opening
//! calendar, notice delays, registration periods, commission criteria; schools, classes and
//! pupils; refusals in French that write nothing; cross-city probes and read-only profiles.

mod common;

use common::pages::*;
use common::*;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::RunQueryDsl;
use marelle::domain::activity::catalogue::{self, ActivityView};
use marelle::domain::activity::facts::school_year as school_year_of;
use marelle::platform::clock;

async fn view(app: &TestApp, id: i64) -> ActivityView {
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move { catalogue::view(conn, id, clock::today()).await })
        })
        .await
        .unwrap()
}

async fn create_activity(
    app: &TestApp,
    client: &reqwest::Client,
    code: &str,
    name: &str,
    kind: &str,
    structure: &str,
) -> i64 {
    let (status, location, page) = post(
        app,
        client,
        "/agent/activites",
        &[
            ("code", code),
            ("name", name),
            ("kind", kind),
            ("structure_id", structure),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    id_in(&location)
}

fn codes(view: &ActivityView) -> Vec<&str> {
    view.units.iter().map(|u| u.code.as_str()).collect()
}

#[actix_web::test]
async fn activities_of_each_kind_start_from_their_template() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;

    let (status, location, _) = post(
        &app,
        &agent,
        "/agent/structures",
        &[
            ("name", "Centre de loisirs des Érables"),
            ("kind", "leisure_centre"),
            ("address", "2 rue des Érables"),
            ("daily_capacity", "120"),
        ],
    )
    .await;
    assert_eq!((status, location.as_str()), (303, "/agent/structures"));
    let (_, structures) = get(&app, &agent, &app.city, "/agent/structures").await;
    assert!(
        structures.contains("Centre de loisirs des Érables"),
        "{structures}"
    );
    // The structure's id, from the select of the activity creation form.
    let (_, list) = get(&app, &agent, &app.city, "/agent/activites").await;
    let structure_id = list
        .split("<option value=\"")
        .filter_map(|s| s.split('"').next())
        .find(|v| v.parse::<i64>().is_ok())
        .expect("the structure in the select")
        .to_string();

    let canteen = create_activity(&app, &agent, "cantine", "Cantine", "canteen", "").await;
    let wednesday = create_activity(
        &app,
        &agent,
        "mercredi",
        "Mercredis des Érables",
        "wednesday",
        &structure_id,
    )
    .await;
    let holidays = create_activity(
        &app,
        &agent,
        "alsh-vacances",
        "Vacances aux Érables",
        "holiday_centre",
        &structure_id,
    )
    .await;
    let nursery =
        create_activity(&app, &agent, "creche", "Crèche Pomme d'Api", "nursery", "").await;
    let evening = create_activity(&app, &agent, "soir", "Accueil du soir", "evening", "").await;

    let canteen_view = view(&app, canteen).await;
    assert_eq!(codes(&canteen_view), ["repas"]);
    assert!(canteen_view.general.meal_choice && !canteen_view.general.requires_enrolment);
    assert_eq!(canteen_view.groups[0].name, "Tous les enfants");
    assert_eq!(canteen_view.groups[0].children_per_staff, Some(14));
    let (status, page) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/activites/{canteen}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("2 jours ouvrés avant, 10 h"), "{page}");
    assert!(
        page.contains("Jours d'école, hors vacances scolaires : lundi, mardi, jeudi et vendredi")
    );
    assert!(page.contains("11:30 – 13:30"));

    let centre = view(&app, wednesday).await;
    assert_eq!(codes(&centre), ["matin", "repas", "apres_midi", "journee"]);
    let meal = centre.units.iter().find(|u| u.code == "repas").unwrap();
    assert_eq!(meal.requires, ["matin"]);
    let day = centre.units.iter().find(|u| u.code == "journee").unwrap();
    assert_eq!(day.includes, ["matin", "apres_midi"]);
    type Band<'a> = (&'a str, Option<i32>, Option<i32>, Option<i32>);
    let groups: Vec<Band> = centre
        .groups
        .iter()
        .map(|g| {
            (
                g.name.as_str(),
                g.min_age_months,
                g.max_age_months,
                g.children_per_staff,
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            ("Maternelles (3-5 ans)", Some(36), Some(71), Some(8)),
            ("Élémentaires (6-11 ans)", Some(72), Some(143), Some(12)),
        ]
    );
    assert!(centre.general.requires_enrolment);
    assert_eq!(
        centre.structure.as_deref(),
        Some("Centre de loisirs des Érables")
    );
    assert_eq!(centre.booking_notice_text, "7 jours avant");

    let summer = view(&app, holidays).await;
    assert_eq!(summer.general.when_full, "waitlist");
    let meal = summer.units.iter().find(|u| u.code == "repas").unwrap();
    assert_eq!(meal.requires, ["matin", "apres_midi"]);
    assert_eq!(
        summer.opening[0].text,
        "Vacances scolaires : du lundi au vendredi"
    );

    let creche = view(&app, nursery).await;
    assert!(creche.units[0].hourly);
    assert_eq!(creche.groups.len(), 2);
    assert_eq!(creche.booking_notice_text, "2 jours ouvrés avant");
    let soir = view(&app, evening).await;
    assert_eq!(soir.units[0].label, "Accueil du soir");
    assert_eq!(soir.cancel_notice_text, "la veille, 18 h");

    let (_, list) = get(&app, &agent, &app.city, "/agent/activites").await;
    for name in [
        "Cantine",
        "Mercredis des Érables",
        "Crèche Pomme d'Api",
        "Accueil du soir",
    ] {
        assert!(list.contains(name), "{name} listed");
    }
    assert!(
        list.contains("Restauration scolaire") && list.contains("Accueil de loisirs (vacances)")
    );

    // A bad code and a taken code: refused in French, the input kept, nothing created.
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/activites",
        &[
            ("code", "cantine été"),
            ("name", "Cantine d'été"),
            ("kind", "canteen"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("role=\"alert\""));
    assert!(
        page.contains("le code « cantine été » ne convient pas"),
        "{page}"
    );
    assert!(page.contains("value=\"Cantine d'été\""), "input kept");
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/activites",
        &[
            ("code", "cantine"),
            ("name", "Autre cantine"),
            ("kind", "canteen"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("une activité a déjà le code « cantine »"),
        "{page}"
    );
    let (_, list) = get(&app, &agent, &app.city, "/agent/activites").await;
    assert!(!list.contains("Autre cantine") && !list.contains("Cantine d'été"));
}

#[actix_web::test]
async fn units_name_existing_codes_and_refusals_write_nothing() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let id = create_activity(&app, &agent, "mercredi", "Mercredis", "wednesday", "").await;
    let units = format!("/agent/activites/{id}/unites");

    let (status, location, _) = post(
        &app,
        &agent,
        &units,
        &[
            ("code", "gouter"),
            ("label", "Goûter"),
            ("starts", "16:00"),
            ("ends", "16:30"),
            ("requires", "apres_midi"),
            ("excludes", "matin"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(location, format!("/agent/activites/{id}#unites"));
    let snack = view(&app, id).await;
    let gouter = snack.units.iter().find(|u| u.code == "gouter").unwrap();
    assert_eq!(
        (gouter.requires.as_slice(), gouter.excludes.as_slice()),
        (&["apres_midi".to_string()][..], &["matin".to_string()][..])
    );

    // An include naming an unknown code: 422 in French, the input kept, nothing written.
    let (status, _, page) = post(
        &app,
        &agent,
        &units,
        &[
            ("code", "veillee"),
            ("label", "Veillée"),
            ("starts", "18:00"),
            ("ends", "20:00"),
            ("includes", "inconnu"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("« inconnu » n'est pas une unité de cette activité"),
        "{page}"
    );
    assert!(page.contains("role=\"alert\""));
    assert!(page.contains("value=\"Veillée\""), "input kept");
    assert_eq!(view(&app, id).await.units.len(), 5, "nothing written");

    // A unit may not include itself, nor what includes it.
    let morning = snack.units.iter().find(|u| u.code == "matin").unwrap().id;
    let (status, _, page) = post(
        &app,
        &agent,
        &format!("{units}/{morning}"),
        &[
            ("code", "matin"),
            ("label", "Matin"),
            ("starts", "08:00"),
            ("ends", "12:00"),
            ("includes", "journee"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("se comprendraient l'une l'autre : Matin → Journée → Matin"),
        "{page}"
    );
    // The code of a unit stays.
    let (status, _, page) = post(
        &app,
        &agent,
        &format!("{units}/{morning}"),
        &[
            ("code", "am"),
            ("label", "Matin"),
            ("starts", "08:00"),
            ("ends", "12:00"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("ne change pas"), "{page}");
    // A proper change.
    let (status, ..) = post(
        &app,
        &agent,
        &format!("{units}/{morning}"),
        &[
            ("code", "matin"),
            ("label", "Matinée"),
            ("starts", "07:45"),
            ("ends", "12:00"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let after = view(&app, id).await;
    let matin = after.units.iter().find(|u| u.code == "matin").unwrap();
    assert_eq!(
        (matin.label.as_str(), matin.starts.to_string().as_str()),
        ("Matinée", "07:45:00")
    );

    // A unit another one names cannot go; a free one can.
    let (status, _, page) = post(&app, &agent, &format!("{units}/{morning}/supprimer"), &[]).await;
    assert_eq!(status, 422);
    assert!(page.contains("fait référence à « Matinée »"), "{page}");
    let snack_id = gouter.id;
    let (status, ..) = post(&app, &agent, &format!("{units}/{snack_id}/supprimer"), &[]).await;
    assert_eq!(status, 303);
    assert_eq!(
        codes(&view(&app, id).await),
        ["matin", "repas", "apres_midi", "journee"]
    );

    // Groups: added, checked, changed, removed.
    let groups = format!("/agent/activites/{id}/groupes");
    let (status, _, page) = post(
        &app,
        &agent,
        &groups,
        &[
            ("name", "Ados"),
            ("min_age_months", "180"),
            ("max_age_months", "144"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("l'âge maximum (144 mois) est inférieur à l'âge minimum (180 mois)"),
        "{page}"
    );
    let (status, ..) = post(
        &app,
        &agent,
        &groups,
        &[
            ("name", "CP-CE1"),
            ("levels", "CP"),
            ("levels", "CE1"),
            ("children_per_staff", "12"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let cp = view(&app, id)
        .await
        .groups
        .into_iter()
        .find(|g| g.name == "CP-CE1")
        .unwrap();
    assert_eq!(cp.levels, ["CP", "CE1"]);
    let (_, page) = get(&app, &agent, &app.city, &format!("/agent/activites/{id}")).await;
    assert!(page.contains("1 adulte pour 12 enfants") && page.contains("de 36 à 71 mois"));
    let (status, _, page) = post(&app, &agent, &groups, &[("name", "CP-CE1")]).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("l'activité a déjà un groupe « CP-CE1 »"),
        "{page}"
    );
    let (status, ..) = post(&app, &agent, &format!("{groups}/{}/supprimer", cp.id), &[]).await;
    assert_eq!(status, 303);
    assert_eq!(view(&app, id).await.groups.len(), 2);
}

#[actix_web::test]
async fn capacities_are_permanent_or_punctual_and_permanent_ones_end() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let id = create_activity(&app, &agent, "mercredi", "Mercredis", "wednesday", "").await;
    let activity = view(&app, id).await;
    let small = activity.groups[0].id.to_string();
    let meal = activity
        .units
        .iter()
        .find(|u| u.code == "repas")
        .unwrap()
        .id
        .to_string();
    let path = format!("/agent/activites/{id}/capacites");

    let (status, ..) = post(
        &app,
        &agent,
        &path,
        &[
            ("kind", "permanent"),
            ("valid_from", "2026-09-01"),
            ("places", "48"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (status, ..) = post(
        &app,
        &agent,
        &path,
        &[
            ("kind", "punctual"),
            ("group_id", &small),
            ("unit_id", &meal),
            ("day", "2026-10-14"),
            ("places", "24"),
            ("reason", "Sortie au musée"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, page) = post(
        &app,
        &agent,
        &path,
        &[("kind", "punctual"), ("places", "10")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("le jour de la capacité ponctuelle : ce champ est obligatoire"),
        "{page}"
    );
    let (status, _, page) = post(
        &app,
        &agent,
        &path,
        &[
            ("kind", "permanent"),
            ("valid_from", "2026-09-01"),
            ("places", "-3"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("le nombre de places ne peut pas être négatif"),
        "{page}"
    );

    let listed = view(&app, id).await.capacities;
    assert_eq!(listed.len(), 2);
    let permanent = &listed[0];
    assert_eq!(
        (
            permanent.line.day,
            permanent.line.places,
            permanent.line.group_id
        ),
        (None, 48, None)
    );
    let punctual = &listed[1];
    assert_eq!(punctual.line.day, Some("2026-10-14".parse().unwrap()));
    assert_eq!(punctual.group.as_deref(), Some("Maternelles (3-5 ans)"));
    assert_eq!(punctual.unit.as_deref(), Some("Repas"));
    let (_, page) = get(&app, &agent, &app.city, &format!("/agent/activites/{id}")).await;
    assert!(page.contains("du 01/09/2026, sans fin"), "{page}");
    assert!(page.contains("le 14/10/2026") && page.contains("Sortie au musée"));

    // Ending the permanent one: not before it starts; then on the given day.
    let end = format!("{path}/{}/fin", permanent.line.id);
    let (status, _, page) = post(&app, &agent, &end, &[("valid_to", "2026-08-01")]).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("la capacité commence le 01/09/2026"),
        "{page}"
    );
    let (status, ..) = post(&app, &agent, &end, &[("valid_to", "2026-12-31")]).await;
    assert_eq!(status, 303);
    let (_, page) = get(&app, &agent, &app.city, &format!("/agent/activites/{id}")).await;
    assert!(page.contains("du 01/09/2026 au 31/12/2026"), "{page}");
    let (status, _, page) = post(
        &app,
        &agent,
        &format!("{path}/{}/fin", punctual.line.id),
        &[("valid_to", "2026-12-31")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("une capacité ponctuelle vaut pour son seul jour"),
        "{page}"
    );
}

#[actix_web::test]
async fn opening_rules_and_notice_delays_are_checked_and_shown_in_french() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let id = create_activity(&app, &agent, "cantine", "Cantine", "canteen", "").await;
    let opening = format!("/agent/activites/{id}/ouverture");

    // A closure ending before it starts: refused, nothing written.
    let (status, _, page) = post(
        &app,
        &agent,
        &opening,
        &[
            ("rule", "closure"),
            ("from", "2026-12-31"),
            ("to", "2026-12-24"),
            ("label", "Noël"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("la fermeture se termine le 24/12/2026 avant de commencer le 31/12/2026"),
        "{page}"
    );
    assert!(page.contains("value=\"Noël\""), "input kept");
    assert_eq!(view(&app, id).await.opening.len(), 1, "nothing written");
    let (status, _, page) = post(&app, &agent, &opening, &[("rule", "weekdays")]).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("aucun jour de la semaine n'est choisi"),
        "{page}"
    );

    let (status, location, _) = post(
        &app,
        &agent,
        &opening,
        &[
            ("rule", "closure"),
            ("from", "2026-12-24"),
            ("to", "2027-01-01"),
            ("label", "Noël"),
        ],
    )
    .await;
    assert_eq!(
        (status, location),
        (303, format!("/agent/activites/{id}#ouverture"))
    );
    let (status, ..) = post(
        &app,
        &agent,
        &opening,
        &[
            ("rule", "exceptional_opening"),
            ("date", "2027-05-15"),
            ("label", "Fête des écoles"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = get(&app, &agent, &app.city, &format!("/agent/activites/{id}")).await;
    assert!(
        page.contains("Fermeture du 24/12/2026 au 01/01/2027 (Noël)"),
        "{page}"
    );
    assert!(page.contains("Ouverture exceptionnelle le 15/05/2027 (Fête des écoles)"));
    let (status, ..) = post(&app, &agent, &format!("{opening}/1/supprimer"), &[]).await;
    assert_eq!(status, 303);
    let rules: Vec<String> = view(&app, id)
        .await
        .opening
        .into_iter()
        .map(|r| r.text)
        .collect();
    assert_eq!(rules.len(), 2);
    assert!(
        rules[1].starts_with("Ouverture exceptionnelle"),
        "{rules:?}"
    );

    // Notice delays, shown in French.
    let notices = format!("/agent/activites/{id}/delais");
    let (status, ..) = post(
        &app,
        &agent,
        &notices,
        &[
            ("which", "booking"),
            ("amount", "3"),
            ("unit", "days"),
            ("count", "working"),
            ("excluded", "wed"),
            ("cutoff", "09:30"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = get(&app, &agent, &app.city, &format!("/agent/activites/{id}")).await;
    assert!(
        page.contains("3 jours ouvrés avant, 9 h 30 (hors mercredi)"),
        "{page}"
    );
    let (status, _, page) = post(
        &app,
        &agent,
        &notices,
        &[
            ("which", "cancel"),
            ("amount", "2"),
            ("unit", "days"),
            ("count", "working"),
            ("excluded", "mon"),
            ("excluded", "tue"),
            ("excluded", "wed"),
            ("excluded", "thu"),
            ("excluded", "fri"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("aucun jour ouvré ne reste"), "{page}");
    assert_eq!(
        view(&app, id).await.cancel_notice_text,
        "2 jours ouvrés avant, 10 h"
    );
    let (status, ..) = post(
        &app,
        &agent,
        &notices,
        &[("which", "cancel"), ("none", "1")],
    )
    .await;
    assert_eq!(status, 303);
    let after = view(&app, id).await;
    assert!(after.cancel_notice.is_none());
    assert_eq!(
        after.booking_notice_text,
        "3 jours ouvrés avant, 9 h 30 (hors mercredi)"
    );
}

#[actix_web::test]
async fn registration_periods_have_a_population_and_criteria_their_weights() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let (status, location, _) = post(
        &app,
        &agent,
        "/agent/ecoles",
        &[("name", "École Jules-Ferry"), ("kind", "elementaire")],
    )
    .await;
    assert_eq!(status, 303);
    let school = id_in(&location).to_string();
    let id = create_activity(&app, &agent, "alsh", "Vacances d'été", "holiday_centre", "").await;

    let periods = format!("/agent/activites/{id}/periodes");
    let (status, _, page) = post(
        &app,
        &agent,
        &periods,
        &[
            ("label", "Résidents"),
            ("opens_at", "2027-03-31T18:00"),
            ("closes_at", "2027-03-01T08:00"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("doit se fermer après s'être ouverte"),
        "{page}"
    );
    let (status, ..) = post(
        &app,
        &agent,
        &periods,
        &[
            ("label", "Résidents"),
            ("opens_at", "2027-03-01T08:00"),
            ("closes_at", "2027-03-31T18:00"),
            ("residents_only", "1"),
            ("levels", "CP"),
            ("levels", "CE1"),
            ("school_ids", &school),
            ("qf_max", "900"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let listed = view(&app, id).await.periods;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].population.residents_only);
    assert_eq!(
        listed[0].population.school_ids,
        [school.parse::<i64>().unwrap()]
    );
    assert_eq!(
        listed[0].opens_at.to_rfc3339(),
        "2027-03-01T07:00:00+00:00",
        "Paris time"
    );
    let (_, page) = get(&app, &agent, &app.city, &format!("/agent/activites/{id}")).await;
    assert!(page.contains("01/03/2027 à 08:00") && page.contains("31/03/2027 à 18:00"));
    assert!(
        page.contains("résidents, niveaux CP, CE1, 1 école(s), QF ≤ 900 €"),
        "{page}"
    );

    let criteria = format!("/agent/activites/{id}/criteres");
    for fields in [
        &[
            ("kind", "qf_at_most"),
            ("threshold", "700"),
            ("weight", "15"),
        ][..],
        &[("kind", "resident"), ("weight", "50")],
        &[("kind", "school"), ("school_id", &school), ("weight", "20")],
    ] {
        let (status, _, page) = post(&app, &agent, &criteria, fields).await;
        assert_eq!(status, 303, "{fields:?}: {page}");
    }
    let (status, _, page) = post(
        &app,
        &agent,
        &criteria,
        &[("kind", "resident"), ("weight", "10")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("ce critère existe déjà"), "{page}");
    let (status, _, page) = post(
        &app,
        &agent,
        &criteria,
        &[("kind", "qf_at_most"), ("threshold", ""), ("weight", "10")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("indiquez le seuil de quotient familial"),
        "{page}"
    );
    let listed = view(&app, id).await.criteria;
    let summary: Vec<(&str, &str, i32)> = listed
        .iter()
        .map(|c| (c.kind.as_str(), c.parameter_text.as_str(), c.weight))
        .collect();
    assert_eq!(
        summary,
        [
            ("qf_at_most", "700 €", 15),
            ("resident", "", 50),
            ("school", "École Jules-Ferry", 20)
        ]
    );
    let (status, ..) = post(
        &app,
        &agent,
        &format!("{criteria}/{}/supprimer", listed[1].id),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(view(&app, id).await.criteria.len(), 2);
    let (status, ..) = post(
        &app,
        &agent,
        &format!("{periods}/{}/supprimer", view(&app, id).await.periods[0].id),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    assert!(view(&app, id).await.periods.is_empty());
}

/// Children of a new family, by the household page's links.
async fn children(app: &TestApp, agent: &reqwest::Client, names: &[(&str, &str)]) -> Vec<i64> {
    let page = agent
        .get(app.city_url(&app.city, "/agent/familles/nouvelle"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), csrf),
        ("line1".into(), "5 rue de l'École".into()),
        ("postal_code".into(), "69960".into()),
        ("town".into(), "Corbas".into()),
        ("head_last_name".into(), "Lefèvre".into()),
        ("head_first_name".into(), "Claire".into()),
    ];
    for (i, (first, birth)) in names.iter().enumerate() {
        let n = i + 1;
        form.push((format!("child{n}_last_name"), "Lefèvre".into()));
        form.push((format!("child{n}_first_name"), first.to_string()));
        form.push((format!("child{n}_birth_date"), birth.to_string()));
    }
    let created = agent
        .post(app.city_url(&app.city, "/agent/familles"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let (_, page) = get(app, agent, &app.city, &location).await;
    let mut children: Vec<i64> = page
        .split("href=\"/agent/enfants/")
        .skip(1)
        .filter_map(|s| s.split('"').next().unwrap().parse().ok())
        .collect();
    children.dedup();
    children
}

#[derive(QueryableByName, Debug, PartialEq)]
struct HistoryRow {
    #[diesel(sql_type = Text)]
    school_year: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    class_id: Option<i64>,
    #[diesel(sql_type = Text)]
    school_name: String,
    #[diesel(sql_type = Text)]
    class_name: String,
    #[diesel(sql_type = Text)]
    level: String,
    #[diesel(sql_type = Text)]
    teacher: String,
}

async fn history(app: &TestApp, child: i64) -> Vec<HistoryRow> {
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                Ok(diesel::sql_query(
                    "SELECT school_year, class_id, school_name, class_name, level, teacher \
                     FROM school_history WHERE child_id = $1 ORDER BY id",
                )
                .bind::<BigInt, _>(child)
                .load::<HistoryRow>(conn)
                .await?)
            })
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn schools_have_classes_of_the_year_and_children_are_placed_in_them() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let year = school_year_of(clock::today());

    let (status, location, _) = post(
        &app,
        &agent,
        "/agent/ecoles",
        &[
            ("name", "École élémentaire Jules-Ferry"),
            ("kind", "elementaire"),
            ("address", "1 place de la République"),
            ("capacity", "220"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let school = id_in(&location);
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/ecoles",
        &[
            ("name", "École élémentaire Jules-Ferry"),
            ("kind", "elementaire"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("une école s'appelle déjà"), "{page}");
    let (status, _, page) = post(
        &app,
        &agent,
        "/agent/ecoles",
        &[("name", "École du Lac"), ("kind", "college")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("type d'école inconnu « college »"), "{page}");

    let classes = format!("/agent/ecoles/{school}/classes");
    let (status, location, _) = post(
        &app,
        &agent,
        &classes,
        &[
            ("school_year", &year),
            ("name", "CP A"),
            ("levels", "CP"),
            ("teacher", "Mme Durand"),
            ("capacity", "1"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(location, format!("/agent/ecoles/{school}?annee={year}"));
    let (status, ..) = post(
        &app,
        &agent,
        &classes,
        &[
            ("school_year", &year),
            ("name", "CP-CE1 B"),
            ("levels", "CP"),
            ("levels", "CE1"),
            ("teacher", "M. Petit"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, page) = post(
        &app,
        &agent,
        &classes,
        &[("school_year", &year), ("name", "PS"), ("levels", "PS")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("le niveau « PS » n'est pas enseigné dans une école élémentaire"),
        "{page}"
    );

    let (_, page) = get(&app, &agent, &app.city, &format!("/agent/ecoles/{school}")).await;
    let class_ids: Vec<i64> = page
        .split(&format!("/agent/ecoles/{school}/classes/"))
        .skip(1)
        .filter_map(|s| s.split('/').next()?.parse().ok())
        .collect();
    let (cp_a, cp_b) = (
        class_ids[0],
        *class_ids.iter().find(|c| **c != class_ids[0]).unwrap(),
    );
    assert!(page.contains(&format!("Classes de l'année {year}")));

    let kids = children(
        &app,
        &agent,
        &[("Léo", "2020-03-12"), ("Inès", "2020-07-02")],
    )
    .await;
    let (leo, ines) = (kids[0], kids[1]);
    let place = |class: i64| format!("/agent/ecoles/{school}/classes/{class}/eleves");
    let (status, _, _) = post(
        &app,
        &agent,
        &place(cp_a),
        &[("child_id", &leo.to_string()), ("level", "CP")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = get(&app, &agent, &app.city, &format!("/agent/ecoles/{school}")).await;
    assert!(
        page.contains("Léo LEFÈVRE") || page.contains("Léo Lefèvre"),
        "{page}"
    );
    assert_eq!(
        history(&app, leo).await,
        [HistoryRow {
            school_year: year.clone(),
            class_id: Some(cp_a),
            school_name: "École élémentaire Jules-Ferry".into(),
            class_name: "CP A".into(),
            level: "CP".into(),
            teacher: "Mme Durand".into(),
        }]
    );

    // Full class, unknown child, level the class does not hold: refused in French.
    let (status, _, page) = post(
        &app,
        &agent,
        &place(cp_a),
        &[("child_id", &ines.to_string()), ("level", "CP")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("la classe « CP A » est complète"), "{page}");
    assert!(page.contains(&format!("value=\"{ines}\"")), "input kept");
    let (status, _, page) = post(
        &app,
        &agent,
        &place(cp_b),
        &[("child_id", "999999"), ("level", "CP")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("aucun enfant ne porte le numéro 999999"),
        "{page}"
    );
    let (status, _, page) = post(
        &app,
        &agent,
        &place(cp_b),
        &[("child_id", &ines.to_string()), ("level", "CM2")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("« CM2 » n'en est pas"), "{page}");
    assert!(history(&app, ines).await.is_empty(), "nothing written");

    // Moving Léo replaces his row of the year.
    let (status, ..) = post(
        &app,
        &agent,
        &place(cp_b),
        &[("child_id", &leo.to_string()), ("level", "CE1")],
    )
    .await;
    assert_eq!(status, 303);
    let rows = history(&app, leo).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].class_id,
            rows[0].level.as_str(),
            rows[0].teacher.as_str()
        ),
        (Some(cp_b), "CE1", "M. Petit")
    );
    let (status, ..) = post(
        &app,
        &agent,
        &place(cp_a),
        &[("child_id", &ines.to_string()), ("level", "CP")],
    )
    .await;
    assert_eq!(status, 303, "a place freed in CP A");
    let (status, ..) = post(&app, &agent, &format!("{}/{leo}/retirer", place(cp_b)), &[]).await;
    assert_eq!(status, 303);
    assert!(history(&app, leo).await.is_empty());

    let (_, list) = get(&app, &agent, &app.city, "/agent/ecoles").await;
    assert!(list.contains("École élémentaire Jules-Ferry") && list.contains("École élémentaire"));
    // Another school year has its own classes.
    let next = {
        let first: i32 = year[..4].parse().unwrap();
        format!("{}-{}", first + 1, first + 2)
    };
    let (status, page) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/ecoles/{school}?annee={next}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("Aucune classe pour l'année {next}")),
        "{page}"
    );
    let (status, _) = get(
        &app,
        &agent,
        &app.city,
        &format!("/agent/ecoles/{school}?annee=2026"),
    )
    .await;
    assert_eq!(status, 422);
}

#[actix_web::test]
async fn another_city_gets_404_and_an_animator_reads_without_writing() {
    let app = TestApp::spawn().await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let id = create_activity(&app, &agent, "cantine", "Cantine", "canteen", "").await;
    let unit = view(&app, id).await.units[0].id;
    let (_, location, _) = post(
        &app,
        &agent,
        "/agent/ecoles",
        &[("name", "École du Centre"), ("kind", "primaire")],
    )
    .await;
    let school = id_in(&location);

    // An agent of city B probing city A's ids: 404, never data, nothing changed.
    let other = app.add_city("Autre-Ville").await;
    let login = app.agent_in(&other, "Agent de B", &["city_admin"]).await;
    let intruder = app.client();
    let signed = app
        .sign_in(&intruder, &other, "/agent", &login, AGENT_PASSWORD)
        .await;
    assert_eq!(signed.status(), 303);
    for path in [
        format!("/agent/activites/{id}"),
        format!("/agent/ecoles/{school}"),
    ] {
        let (status, page) = get(&app, &intruder, &other, &path).await;
        assert_eq!(status, 404, "{path}");
        assert!(!page.contains("Cantine") && !page.contains("École du Centre"));
    }
    for (path, fields) in [
        (
            format!("/agent/activites/{id}"),
            vec![
                ("name", "Piratée"),
                ("offer_hours", "48"),
                ("when_full", "greyed"),
            ],
        ),
        (
            format!("/agent/activites/{id}/unites"),
            vec![
                ("code", "x"),
                ("label", "X"),
                ("starts", "08:00"),
                ("ends", "09:00"),
            ],
        ),
        (
            format!("/agent/activites/{id}/unites/{unit}/supprimer"),
            vec![],
        ),
        (
            format!("/agent/activites/{id}/capacites"),
            vec![
                ("kind", "permanent"),
                ("valid_from", "2026-09-01"),
                ("places", "1"),
            ],
        ),
        (
            format!("/agent/activites/{id}/ouverture/0/supprimer"),
            vec![],
        ),
        (
            format!("/agent/activites/{id}/delais"),
            vec![("which", "booking"), ("none", "1")],
        ),
        (
            format!("/agent/ecoles/{school}/classes"),
            vec![
                ("school_year", "2026-2027"),
                ("name", "X"),
                ("levels", "CP"),
            ],
        ),
    ] {
        let (status, ..) = post_in(&app, &intruder, &other, &path, &fields).await;
        assert_eq!(status, 404, "{path}");
    }
    let (_, list) = get(&app, &intruder, &other, "/agent/activites").await;
    assert!(!list.contains("Cantine"));
    let untouched = view(&app, id).await;
    assert_eq!(
        (
            untouched.general.name.as_str(),
            untouched.units.len(),
            untouched.opening.len()
        ),
        ("Cantine", 1, 1)
    );
    assert!(untouched.booking_notice.is_some() && untouched.capacities.is_empty());

    // An animator reads the catalogue but changes nothing.
    let (animator, _) = app.agent_client(&["animator"]).await;
    let (status, page) = get(
        &app,
        &animator,
        &app.city,
        &format!("/agent/activites/{id}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("2 jours ouvrés avant, 10 h"));
    assert!(
        !page.contains("Ajouter une unité")
            && !page.contains("method=\"post\" action=\"/agent/activites")
    );
    let (status, ..) = post(
        &app,
        &animator,
        &format!("/agent/activites/{id}/unites"),
        &[
            ("code", "x"),
            ("label", "X"),
            ("starts", "08:00"),
            ("ends", "09:00"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    let (status, ..) = post(
        &app,
        &animator,
        "/agent/activites",
        &[("code", "x"), ("name", "X"), ("kind", "other")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = get(&app, &animator, &app.city, "/agent/ecoles").await;
    assert_eq!(status, 403, "no schools for an animator");
    assert_eq!(view(&app, id).await.units.len(), 1);
}
