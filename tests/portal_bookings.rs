//! Bookings on the family portal, through the real pages against a real PostgreSQL: a
//! parent books a free unit and sees the places decrease, full units are greyed or offer
//! the waitlist per activity, morning + afternoon is refused for the full day, a recurring
//! pattern reports each day, late cancellations follow the city's setting, another
//! household's child and another city's ids answer 404, payment-only accounts cannot book,
//! and a pre-enrolment request reaches the back-office's enrolment list.

mod common;

use chrono::{Datelike, Days, NaiveDate, TimeDelta, Weekday};
use common::fixtures::{self, activity, admit, loaded, open_dates};
use common::pages;
use common::*;
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use marelle::domain::activity::catalogue::{self, NewPeriod, Notice};
use marelle::domain::activity::enrolment::{self, Filter};
use marelle::domain::booking::store::{self, Actor, BookRequest, LateCancellation, Origin};
use marelle::domain::calendar::{DayCount, NoticeRule, NoticeUnit, holidays::shipped};
use marelle::platform::auth::passwords;
use marelle::platform::clock;
use marelle::platform::settings::{self, Version};
use marelle::platform::tenancy::City;
use serde_json::Value;

const PASSWORD: &str = "Une phrase de passe de parent";

#[derive(QueryableByName)]
struct Pick {
    #[diesel(sql_type = BigInt)]
    household: i64,
    #[diesel(sql_type = BigInt)]
    head: i64,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// A parent of `city` signed in on the portal: a household with at least `children`
/// children whose head has an e-mail (`skip` of them passed over).
struct Parent {
    client: reqwest::Client,
    household: i64,
    children: Vec<i64>,
    /// The family session cookie's value.
    session: String,
}

async fn sign_in_parent(app: &TestApp, city: &City, children: i64, skip: i64) -> Parent {
    let hash = passwords::hash(PASSWORD).unwrap();
    let (household, login, kids) = app
        .db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                let pick: Pick = diesel::sql_query(
                    "SELECT h.id AS household, m.person_id AS head FROM households h
                       JOIN household_members m ON m.household_id = h.id AND m.role = 'head'
                        AND m.valid_to IS NULL
                       JOIN persons p ON p.id = m.person_id AND p.email IS NOT NULL
                      WHERE (SELECT count(*) FROM child_links c
                              WHERE c.household_id = h.id AND c.valid_to IS NULL) >= $1
                        AND NOT EXISTS (SELECT 1 FROM family_accounts a WHERE a.person_id = p.id)
                      ORDER BY h.number OFFSET $2 LIMIT 1",
                )
                .bind::<BigInt, _>(children)
                .bind::<BigInt, _>(skip)
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
                let kids: Vec<Id> = diesel::sql_query(
                    "SELECT l.child_id AS id FROM child_links l
                      WHERE l.household_id = $1 AND l.valid_to IS NULL ORDER BY l.child_id",
                )
                .bind::<BigInt, _>(pick.household)
                .load(conn)
                .await?;
                Ok((
                    pick.household,
                    login,
                    kids.into_iter().map(|k| k.id).collect::<Vec<_>>(),
                ))
            })
        })
        .await
        .expect("a parent's account");
    let client = app.client();
    let signed = app.sign_in(&client, city, "", &login, PASSWORD).await;
    assert_eq!(signed.status(), 303, "parent sign-in");
    let session = signed
        .cookies()
        .find(|c| c.name() == "marelle_famille")
        .map(|c| c.value().to_string())
        .expect("family session cookie");
    Parent {
        client,
        household,
        children: kids,
        session,
    }
}

async fn sql(app: &TestApp, city: &City, statement: &str) {
    let statement = statement.to_string();
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                diesel::sql_query(statement).execute(conn).await?;
                Ok(())
            })
        })
        .await
        .expect("sql");
}

/// A booking made by an agent (another family taking a place...).
async fn agent_books(
    app: &TestApp,
    city: &City,
    activity: i64,
    child: i64,
    day: NaiveDate,
    unit: &str,
) {
    let loaded = loaded(app, city, activity).await;
    let unit = unit.to_string();
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                store::book(
                    conn,
                    &loaded,
                    &store::Calendar {
                        school: shipped(),
                        now: clock::now(),
                    },
                    BookRequest {
                        child_id: child,
                        unit,
                        day,
                        meal_choice: None,
                    },
                    &agent(),
                )
                .await
            })
        })
        .await
        .expect("agent booking");
}

fn agent() -> Actor {
    Actor {
        name: "agent:test".into(),
        origin: Origin::Agent,
        override_reason: None,
    }
}

/// The child's bookings of the activity (all states), as (id, day, unit, state).
async fn bookings_of(
    app: &TestApp,
    city: &City,
    child: i64,
    activity: i64,
) -> Vec<(i64, NaiveDate, String, String)> {
    let today = clock::today();
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(
                async move { store::of_child(conn, child, today, today + Days::new(120)).await },
            )
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|b| b.activity_id == activity)
        .map(|b| {
            let state = serde_json::to_value(b.state).unwrap();
            (b.id, b.date, b.unit, state.as_str().unwrap().to_string())
        })
        .collect()
}

/// Sets city settings, effective from 2000-01-02.
async fn configure(app: &TestApp, city: &City, key: &str, value: Value) {
    let version = Version {
        key: key.to_string(),
        valid_from: NaiveDate::from_ymd_opt(2000, 1, 2).unwrap(),
        value,
        author: "test".into(),
        comment: String::new(),
    };
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                settings::record(conn, &marelle::domain::settings::CATALOGUE, version).await
            })
        })
        .await
        .unwrap();
    app.state.settings.invalidate_all();
}

/// Posts a form with this client's CSRF token; returns the status and the `Location`
/// of a redirect, or the page's text.
async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    city: &City,
    path: &str,
    fields: &[(&str, String)],
) -> (u16, String) {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location, page) = pages::post_in(app, client, city, path, &fields).await;
    (status, if status == 303 { location } else { page })
}

/// A page of the city as the parent sees it.
async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    pages::get(app, client, &app.city, path).await
}

fn month(day: NaiveDate) -> String {
    day.format("%Y-%m").to_string()
}

fn calendar(child: i64, activity: i64, day: NaiveDate) -> String {
    format!("/reservations/{child}/{activity}?mois={}", month(day))
}

/// The `<td>` of the calendar holding the checkbox or state of `unit` on `day`: the
/// cell after the row header of the day, by unit position.
fn cell(html: &str, day: NaiveDate, position: usize) -> &str {
    let label = marelle::domain::booking::family::day_label(day);
    let row_start = html
        .find(&format!("<th scope=\"row\">{label}</th>"))
        .unwrap_or_else(|| panic!("no row for {label} in:\n{html}"));
    let row = &html[row_start..];
    let row = &row[..row.find("</tr>").unwrap()];
    row.split("<td")
        .nth(position + 1)
        .unwrap_or_else(|| panic!("no cell {position} in {row}"))
}

#[actix_web::test]
async fn a_parent_books_a_free_unit_and_sees_the_places_decrease() {
    let app = TestApp::spawn().await;
    fixtures::children(&app, &app.city, 30, 5).await;
    let parent = sign_in_parent(&app, &app.city, 2, 0).await;
    let canteen = activity(&app, &app.city, "canteen", Some(3)).await;
    let day = open_dates(&app, &app.city, canteen, 14).await[0];
    let (first, second) = (parent.children[0], parent.children[1]);

    let (status, overview) = get(&app, &parent.client, "/reservations").await;
    assert_eq!(status, 200, "{overview}");
    assert!(overview.contains(&format!(
        "href=\"{}\"",
        calendar(first, canteen, clock::today())
    )));

    let url = calendar(first, canteen, day);
    let (status, page) = get(&app, &parent.client, &url).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<caption>"), "the month is a captioned table");
    let free = cell(&page, day, 0);
    assert!(free.contains("3 places restantes"), "{free}");
    assert!(free.contains(&format!("value=\"{day}|repas\"")), "{free}");
    assert!(
        page.contains("<option value=\"Végétarien\">"),
        "meal choices of the city"
    );

    let path = format!("/reservations/{first}/{canteen}");
    let (status, refused) = post(
        &app,
        &parent.client,
        &app.city,
        &path,
        &[
            ("slot", format!("{day}|repas")),
            ("meal_choice", "Caviar".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(refused.contains("Repas « Caviar » inconnu"), "{refused}");

    let (status, report) = post(
        &app,
        &parent.client,
        &app.city,
        &path,
        &[
            ("slot", format!("{day}|repas")),
            ("meal_choice", "Végétarien".into()),
            ("mois", month(day)),
        ],
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert!(
        report.contains("1 unité(s) réservée(s), 0 en liste d'attente, 0 refusée(s)"),
        "{report}"
    );
    let (_, page) = get(&app, &parent.client, &url).await;
    let booked = cell(&page, day, 0);
    assert!(
        booked.contains("Réservé") && booked.contains("Repas : Végétarien"),
        "{booked}"
    );
    assert!(booked.contains("Annuler"), "in time: may cancel");

    // The brother or sister sees one place fewer, read in real time.
    let (_, sibling) = get(&app, &parent.client, &calendar(second, canteen, day)).await;
    assert!(
        cell(&sibling, day, 0).contains("2 places restantes"),
        "{sibling}"
    );
    let rows = bookings_of(&app, &app.city, first, canteen).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].1, rows[0].3.as_str()), (day, "booked"));

    // Cancelled in time: the place comes back.
    let (status, location) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("/reservations/{first}/{canteen}/annulation/{}", rows[0].0),
        &[("mois", month(day))],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, calendar(first, canteen, day).as_str())
    );
    let (_, sibling) = get(&app, &parent.client, &calendar(second, canteen, day)).await;
    assert!(cell(&sibling, day, 0).contains("3 places restantes"));
}

#[actix_web::test]
async fn a_full_unit_is_greyed_or_offers_the_waitlist_per_activity() {
    let app = TestApp::spawn().await;
    fixtures::children(&app, &app.city, 30, 8).await;
    let parent = sign_in_parent(&app, &app.city, 1, 0).await;
    let other = parent_children_elsewhere(&app, &app.city, parent.household).await;
    let canteen = activity(&app, &app.city, "canteen", Some(1)).await;
    let day = open_dates(&app, &app.city, canteen, 14).await[0];
    let child = parent.children[0];
    agent_books(&app, &app.city, canteen, other, day, "repas").await;
    let url = calendar(child, canteen, day);

    let (_, page) = get(&app, &parent.client, &url).await;
    let full = cell(&page, day, 0);
    assert!(
        full.contains("cell-full") && full.contains("Complet"),
        "{full}"
    );
    assert!(
        !full.contains("type=\"checkbox\""),
        "greyed: nothing to tick"
    );

    sql(
        &app,
        &app.city,
        &format!("UPDATE activities SET when_full = 'waitlist' WHERE id = {canteen}"),
    )
    .await;
    let (_, page) = get(&app, &parent.client, &url).await;
    let full = cell(&page, day, 0);
    assert!(
        full.contains("Demander une place en liste d'attente"),
        "{full}"
    );
    let (status, report) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("/reservations/{child}/{canteen}"),
        &[("slot", format!("{day}|repas")), ("mois", month(day))],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        report.contains("En liste d'attente") && report.contains("rang 1"),
        "{report}"
    );
    let (_, page) = get(&app, &parent.client, &url).await;
    assert!(cell(&page, day, 0).contains("Rang 1."));

    configure(
        &app,
        &app.city,
        "portal.waitlist_position_visible",
        Value::Bool(false),
    )
    .await;
    let (_, page) = get(&app, &parent.client, &url).await;
    let waiting = cell(&page, day, 0);
    assert!(
        waiting.contains("En liste d'attente") && !waiting.contains("Rang"),
        "{waiting}"
    );

    // The other child's place is cancelled: it is offered to ours, who accepts it.
    let loaded = loaded(&app, &app.city, canteen).await;
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let booking = store::of_child(conn, other, day, day).await?[0].id;
                let calendar = store::Calendar {
                    school: shipped(),
                    now: clock::now(),
                };
                store::cancel(
                    conn,
                    &loaded,
                    &calendar,
                    booking,
                    &agent(),
                    LateCancellation::Refuse,
                )
                .await
            })
        })
        .await
        .unwrap();
    let (_, page) = get(&app, &parent.client, &url).await;
    let offered = cell(&page, day, 0);
    assert!(
        offered.contains("Place proposée") && offered.contains("Répondez avant le"),
        "{offered}"
    );
    let entry = offered
        .split("/reservations/attente/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let (status, location) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("/reservations/attente/{entry}/accepter"),
        &[],
    )
    .await;
    assert_eq!(status, 303, "{location}");
    let (_, page) = get(&app, &parent.client, &url).await;
    assert!(page.contains("Place acceptée"), "flash message");
    assert!(cell(&page, day, 0).contains("Réservé"));
}

/// A child of another household of the city.
async fn parent_children_elsewhere(app: &TestApp, city: &City, household: i64) -> i64 {
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                let id: Id = diesel::sql_query(
                    "SELECT child_id AS id FROM child_links WHERE valid_to IS NULL
                        AND child_id NOT IN (SELECT child_id FROM child_links WHERE household_id = $1)
                      ORDER BY child_id LIMIT 1",
                )
                .bind::<BigInt, _>(household)
                .get_result(conn)
                .await?;
                Ok(id.id)
            })
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn morning_and_afternoon_are_refused_and_the_full_day_is_offered() {
    let app = TestApp::spawn().await;
    fixtures::children(&app, &app.city, 20, 13).await;
    let parent = sign_in_parent(&app, &app.city, 1, 0).await;
    let child = parent.children[0];
    let centre = activity(&app, &app.city, "wednesday", Some(10)).await;
    admit(&app, &app.city, centre, child).await;
    let day = open_dates(&app, &app.city, centre, 14).await[0];
    let path = format!("/reservations/{child}/{centre}");

    let (status, report) = post(
        &app,
        &parent.client,
        &app.city,
        &path,
        &[
            ("slot", format!("{day}|matin")),
            ("slot", format!("{day}|apres_midi")),
            ("mois", month(day)),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        report.contains(
            "« Matin » et « Après-midi » le même jour forment « Journée » : réservez « Journée »"
        ),
        "{report}"
    );
    assert!(report.contains("0 unité(s) réservée(s), 0 en liste d'attente, 2 refusée(s)"));
    assert!(report.contains(&format!("name=\"remplacement\" value=\"{day}|journee\"")));
    assert!(
        bookings_of(&app, &app.city, child, centre).await.is_empty(),
        "nothing booked"
    );

    // The same in a recurring pattern: refused before anything is booked, day offered.
    let (status, refused) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("{path}/reguliere"),
        &[
            ("du", day.to_string()),
            ("au", (day + Days::new(21)).to_string()),
            ("jours", "wed".into()),
            ("unites", "matin".into()),
            ("unites", "apres_midi".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        refused.contains("réservez « Journée »")
            && refused.contains("Réserver « Journée » à la place")
    );

    // The morning alone, then the afternoon: the full day replaces the morning.
    let (_, report) = post(
        &app,
        &parent.client,
        &app.city,
        &path,
        &[("slot", format!("{day}|matin")), ("mois", month(day))],
    )
    .await;
    assert!(report.contains("1 unité(s) réservée(s)"), "{report}");
    let (_, page) = get(&app, &parent.client, &calendar(child, centre, day)).await;
    let afternoon = cell(&page, day, 2);
    assert!(
        afternoon.contains("Réserver « Journée » à la place"),
        "{afternoon}"
    );
    let (status, location) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("{path}/remplacement"),
        &[
            ("remplacement", format!("{day}|journee")),
            ("mois", month(day)),
        ],
    )
    .await;
    assert_eq!(status, 303, "{location}");
    let (_, page) = get(&app, &parent.client, &location).await;
    assert!(page.contains("à la place de « Matin »"), "{page}");
    assert!(cell(&page, day, 0).contains("Compris dans « Journée »"));
    assert!(cell(&page, day, 3).contains("Réservé"));
    let states: Vec<(String, String)> = bookings_of(&app, &app.city, child, centre)
        .await
        .into_iter()
        .map(|(_, _, unit, state)| (unit, state))
        .collect();
    assert!(
        states.contains(&("matin".into(), "cancelled_in_time".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&("journee".into(), "booked".into())),
        "{states:?}"
    );
}

#[actix_web::test]
async fn a_recurring_pattern_books_each_day_and_reports_the_refusals() {
    let app = TestApp::spawn().await;
    fixtures::children(&app, &app.city, 30, 21).await;
    let parent = sign_in_parent(&app, &app.city, 1, 0).await;
    let other = parent_children_elsewhere(&app, &app.city, parent.household).await;
    let child = parent.children[0];
    let canteen = activity(&app, &app.city, "canteen", Some(1)).await;
    // A Monday at least two weeks ahead whose fortnight has open Mondays or Thursdays.
    let dates = open_dates(&app, &app.city, canteen, 14).await;
    let monday = dates
        .iter()
        .copied()
        .find(|d| d.weekday() == Weekday::Mon)
        .expect("an open Monday");
    let to = monday + Days::new(13);
    let wanted: Vec<NaiveDate> = dates
        .iter()
        .copied()
        .filter(|d| *d <= to && matches!(d.weekday(), Weekday::Mon | Weekday::Thu))
        .collect();
    let taken = *wanted.last().unwrap();
    agent_books(&app, &app.city, canteen, other, taken, "repas").await;

    let (status, report) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("/reservations/{child}/{canteen}/reguliere"),
        &[
            ("du", monday.to_string()),
            ("au", to.to_string()),
            ("jours", "mon".into()),
            ("jours", "wed".into()),
            ("jours", "thu".into()),
            ("unites", "repas".into()),
            ("meal_choice", "Sans porc".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert!(
        report.contains(&format!(
            "{} unité(s) réservée(s), 0 en liste d'attente, 1 refusée(s)",
            wanted.len() - 1
        )),
        "{report}"
    );
    assert!(
        report.contains("jour(s) de fermeture"),
        "Wednesdays are reported closed"
    );
    assert!(report.contains("L'activité est fermée ce jour-là."));
    assert!(report.contains("est complet le"), "the full day says why");
    let label = marelle::domain::booking::family::day_label(taken);
    assert!(report.contains(&label), "each day is named");
    let booked = bookings_of(&app, &app.city, child, canteen).await;
    assert_eq!(booked.len(), wanted.len() - 1);
    assert!(
        booked
            .iter()
            .all(|(_, d, _, s)| *d != taken && s == "booked")
    );

    // A pattern in the past is refused as a whole.
    let (status, refused) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("/reservations/{child}/{canteen}/reguliere"),
        &[
            ("du", (clock::today() - Days::new(3)).to_string()),
            ("au", to.to_string()),
            ("jours", "mon".into()),
            ("unites", "repas".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        refused.contains("La période commence au plus tôt aujourd'hui"),
        "{refused}"
    );
}

#[actix_web::test]
async fn a_late_cancellation_becomes_the_absence_the_city_chose() {
    let app = TestApp::spawn().await;
    fixtures::children(&app, &app.city, 20, 34).await;
    let parent = sign_in_parent(&app, &app.city, 1, 0).await;
    let child = parent.children[0];
    let canteen = activity(&app, &app.city, "canteen", Some(5)).await;
    let month_rule = NoticeRule {
        amount: 30,
        unit: NoticeUnit::Days,
        count: DayCount::CalendarDays,
        cutoff_time: None,
    };
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                catalogue::set_notice(conn, canteen, Notice::Booking, None).await?;
                catalogue::set_notice(conn, canteen, Notice::Cancel, Some(&month_rule)).await
            })
        })
        .await
        .unwrap();
    let dates = open_dates(&app, &app.city, canteen, 14).await;
    let (late, later) = (dates[0], dates[1]);
    let far = *dates
        .iter()
        .find(|d| **d > clock::today() + Days::new(32))
        .expect("a day past the cancelling delay");
    let path = format!("/reservations/{child}/{canteen}");
    for day in [late, later, far] {
        let (_, report) = post(
            &app,
            &parent.client,
            &app.city,
            &path,
            &[("slot", format!("{day}|repas"))],
        )
        .await;
        assert!(report.contains("1 unité(s) réservée(s)"), "{report}");
    }
    let id_of = |rows: &[(i64, NaiveDate, String, String)], day: NaiveDate| {
        rows.iter().find(|r| r.1 == day).unwrap().0
    };
    let rows = bookings_of(&app, &app.city, child, canteen).await;

    let (_, page) = get(&app, &parent.client, &calendar(child, canteen, late)).await;
    let booked = cell(&page, late, 0);
    assert!(booked.contains("Délai d'annulation dépassé"), "{booked}");
    assert!(
        booked.contains("Signaler une absence") && !booked.contains(">Annuler<"),
        "{booked}"
    );
    let (status, refused) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("{path}/annulation/{}", id_of(&rows, late)),
        &[("mois", month(late))],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        refused.contains("Le délai d'annulation est dépassé"),
        "{refused}"
    );

    let (status, _) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("{path}/absence/{}", id_of(&rows, late)),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    configure(
        &app,
        &app.city,
        "attendance.late_cancellation",
        Value::from("cancelled_late"),
    )
    .await;
    let (status, location) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("{path}/absence/{}", id_of(&rows, later)),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = get(&app, &parent.client, &location).await;
    assert!(page.contains("Absence signalée"), "{page}");
    let (status, _) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("{path}/annulation/{}", id_of(&rows, far)),
        &[],
    )
    .await;
    assert_eq!(status, 303, "in time");

    let states: Vec<(NaiveDate, String)> = bookings_of(&app, &app.city, child, canteen)
        .await
        .into_iter()
        .map(|(_, day, _, state)| (day, state))
        .collect();
    assert!(
        states.contains(&(late, "absent_unjustified".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&(later, "cancelled_late".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&(far, "cancelled_in_time".into())),
        "{states:?}"
    );
}

#[actix_web::test]
async fn another_households_child_is_not_found_and_partial_accounts_cannot_book() {
    let app = TestApp::spawn().await;
    fixtures::children(&app, &app.city, 20, 55).await;
    let parent = sign_in_parent(&app, &app.city, 1, 0).await;
    let child = parent.children[0];
    let other = parent_children_elsewhere(&app, &app.city, parent.household).await;
    let canteen = activity(&app, &app.city, "canteen", Some(5)).await;
    let day = open_dates(&app, &app.city, canteen, 14).await[0];
    agent_books(&app, &app.city, canteen, other, day, "repas").await;
    let theirs = bookings_of(&app, &app.city, other, canteen).await[0].0;

    let (status, page) = get(&app, &parent.client, &calendar(other, canteen, day)).await;
    assert_eq!(status, 404, "{page}");
    let (status, _) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("/reservations/{other}/{canteen}"),
        &[("slot", format!("{day}|repas"))],
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("/reservations/{child}/{canteen}/annulation/{theirs}"),
        &[],
    )
    .await;
    assert_eq!(
        status, 404,
        "another family's booking through one's own child"
    );
    assert_eq!(
        bookings_of(&app, &app.city, other, canteen).await[0].3,
        "booked"
    );
    let (status, _) = get(&app, &parent.client, &calendar(child, 999_999, day)).await;
    assert_eq!(status, 404, "unknown activity");
    let centre = activity(&app, &app.city, "wednesday", Some(5)).await;
    let (status, _) = get(&app, &parent.client, &calendar(child, centre, day)).await;
    assert_eq!(
        status, 404,
        "an activity needing an enrolment the child lacks"
    );

    // A payment-only account opens no booking page.
    sql(
        &app,
        &app.city,
        &format!(
            "UPDATE family_accounts SET profile_id = 'family_payment_only' WHERE household_id = {}",
            parent.household
        ),
    )
    .await;
    app.state.authz.invalidate(&app.city.schema).await;
    for path in [
        "/reservations".to_string(),
        calendar(child, canteen, day),
        "/inscriptions".into(),
    ] {
        let (status, _) = get(&app, &parent.client, &path).await;
        assert_eq!(status, 403, "{path}");
    }
    let (status, _) = post(
        &app,
        &parent.client,
        &app.city,
        &format!("/reservations/{child}/{canteen}"),
        &[("slot", format!("{day}|repas"))],
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        bookings_of(&app, &app.city, child, canteen)
            .await
            .is_empty()
    );
}

#[actix_web::test]
async fn another_citys_ids_and_session_answer_not_found_or_sign_in() {
    let app = TestApp::spawn().await;
    fixtures::children(&app, &app.city, 10, 89).await;
    let parent = sign_in_parent(&app, &app.city, 1, 0).await;
    let child = parent.children[0];
    let canteen = activity(&app, &app.city, "canteen", Some(5)).await;
    let day = open_dates(&app, &app.city, canteen, 14).await[0];

    let other = app.add_city("Autreville-Test").await;
    fixtures::children(&app, &other, 10, 144).await;
    let mut theirs = Vec::new();
    for kind in ["canteen", "morning", "evening"] {
        theirs.push(activity(&app, &other, kind, Some(5)).await);
    }
    let foreign_activity = *theirs.iter().max().unwrap();
    assert!(
        foreign_activity > canteen,
        "an id that only the other city has"
    );
    let stranger = sign_in_parent(&app, &other, 1, 0).await;
    let foreign_child = *stranger
        .children
        .iter()
        .find(|c| !parent.children.contains(c))
        .expect("a child id this family does not have");

    let (status, page) = get(&app, &parent.client, &calendar(foreign_child, canteen, day)).await;
    assert_eq!(status, 404, "{page}");
    let (status, _) = get(
        &app,
        &parent.client,
        &calendar(child, foreign_activity, day),
    )
    .await;
    assert_eq!(status, 404);
    let demande = format!("/inscriptions/{foreign_activity}/demande");
    let (status, _) = get(&app, &parent.client, &demande).await;
    assert_eq!(status, 404);

    // The other city's family session is unknown here: sign in first.
    let answer = app
        .bare_client()
        .get(app.city_url(&app.city, "/reservations"))
        .header("cookie", format!("marelle_famille={}", stranger.session))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    assert!(
        answer.headers()["location"]
            .to_str()
            .unwrap()
            .contains("/connexion")
    );
}

#[actix_web::test]
async fn a_pre_enrolment_request_reaches_the_back_office_list() {
    let app = TestApp::spawn().await;
    fixtures::children(&app, &app.city, 20, 233).await;
    let parent = sign_in_parent(&app, &app.city, 1, 0).await;
    let other = parent_children_elsewhere(&app, &app.city, parent.household).await;
    let child = parent.children[0];
    let centre = activity(&app, &app.city, "wednesday", Some(10)).await;
    let closed = activity(&app, &app.city, "sport", None).await;
    let now = clock::now();
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let period = |label: &str, opens: TimeDelta, closes: TimeDelta| NewPeriod {
                    label: label.into(),
                    opens_at: now + opens,
                    closes_at: now + closes,
                    population: Default::default(),
                };
                catalogue::add_period(
                    conn,
                    centre,
                    &period("Rentrée", TimeDelta::hours(-1), TimeDelta::days(10)),
                )
                .await?;
                catalogue::add_period(
                    conn,
                    closed,
                    &period("Plus tard", TimeDelta::days(5), TimeDelta::days(10)),
                )
                .await?;
                Ok(())
            })
        })
        .await
        .unwrap();

    let (status, list) = get(&app, &parent.client, "/inscriptions").await;
    assert_eq!(status, 200, "{list}");
    assert!(
        list.contains(&format!("href=\"/inscriptions/{centre}/demande\"")),
        "{list}"
    );
    assert!(
        !list.contains(&format!("/inscriptions/{closed}/demande")),
        "not open yet"
    );
    let (status, _) = get(
        &app,
        &parent.client,
        &format!("/inscriptions/{closed}/demande"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, form) = get(
        &app,
        &parent.client,
        &format!("/inscriptions/{centre}/demande"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        form.contains(&format!("<option value=\"{child}\"")),
        "{form}"
    );
    assert!(
        form.contains("value=\"wed|journee\""),
        "the wished week by unit"
    );

    let starts = clock::today() + Days::new(14);
    let path = format!("/inscriptions/{centre}/demande");
    let (status, refused) = post(
        &app,
        &parent.client,
        &app.city,
        &path,
        &[("enfant", other.to_string()), ("debut", starts.to_string())],
    )
    .await;
    assert_eq!(status, 422, "another family's child");
    assert!(
        refused.contains("Choisissez l'enfant à inscrire"),
        "{refused}"
    );
    let (status, location) = post(
        &app,
        &parent.client,
        &app.city,
        &path,
        &[
            ("enfant", child.to_string()),
            ("debut", starts.to_string()),
            ("semaine", "wed|journee".into()),
        ],
    )
    .await;
    assert_eq!((status, location.as_str()), (303, "/inscriptions"));
    let (_, list) = get(&app, &parent.client, "/inscriptions").await;
    assert!(
        list.contains("Demande n° ") && list.contains("enregistrée pour"),
        "{list}"
    );
    assert!(list.contains("Demande reçue"), "{list}");
    let (status, twice) = post(
        &app,
        &parent.client,
        &app.city,
        &path,
        &[("enfant", child.to_string()), ("debut", starts.to_string())],
    )
    .await;
    assert_eq!(status, 422);
    assert!(twice.contains("a déjà une demande en cours"), "{twice}");

    // The back-office list (its domain query) shows the family's request.
    let requests = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let filter = Filter {
                    activity_id: Some(centre),
                    ..Filter::default()
                };
                enrolment::list(conn, &filter, 50).await
            })
        })
        .await
        .unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (
            request.child_id,
            request.status.as_str(),
            request.origin.as_str()
        ),
        (child, "requested", "portal")
    );
    assert_eq!(request.starts, starts);
    assert_eq!(request.household_id, Some(parent.household));
    assert_eq!(request.wished_week["wed"][0], "journee");
}
