//! An agent books for a child from the back-office (`/agent/enfants/{id}/reservations`),
//! through the real pages against a real PostgreSQL: one-offs from the month or a day and
//! a unit, a recurring pattern, a whole period, full units reported full or waitlisted,
//! the meal choice kept, a reason required and audited past the notice delay (refused to
//! agents without the right), cancellation in time or late (an absence unless a reason),
//! read-only profiles, another city's child, a form without its CSRF token.

mod common;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use common::fixtures::{self, activity, admit, loaded, open_dates};
use common::pages;
use common::*;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use marelle::domain::activity::catalogue::{self, Notice};
use marelle::domain::booking::family::day_label;
use marelle::domain::booking::store::{self, Actor, BookRequest, BookingView, Origin};
use marelle::domain::calendar::{DayCount, NoticeRule, NoticeUnit, holidays::shipped};
use marelle::platform::clock;
use marelle::platform::tenancy::City;

fn page(child: i64) -> String {
    format!("/agent/enfants/{child}/reservations")
}

fn month_page(child: i64, activity: i64, day: NaiveDate) -> String {
    format!(
        "{}?activite={activity}&mois={}",
        page(child),
        day.format("%Y-%m")
    )
}

/// Posts a form with this client's CSRF token; the status and the `Location` of a
/// redirect, or the page's text.
async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, String)],
) -> (u16, String) {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location, page) = pages::post_in(app, client, &app.city, path, &fields).await;
    (status, if status == 303 { location } else { page })
}

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    pages::get(app, client, &app.city, path).await
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

/// The child's bookings of the activity over four months (all states).
async fn bookings_of(app: &TestApp, child: i64, activity: i64) -> Vec<BookingView> {
    let today = clock::today();
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(
                async move { store::of_child(conn, child, today, today + Days::new(120)).await },
            )
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|b| b.activity_id == activity)
        .collect()
}

fn state(booking: &BookingView) -> String {
    serde_json::to_value(booking.state)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

/// A booking of another child, straight through the store (it takes a place).
async fn taken_by(app: &TestApp, activity: i64, child: i64, day: NaiveDate) {
    let loaded = loaded(app, &app.city, activity).await;
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                let calendar = store::Calendar {
                    school: shipped(),
                    now: clock::now(),
                };
                let request = BookRequest {
                    child_id: child,
                    unit: "repas".into(),
                    day,
                    meal_choice: None,
                };
                let actor = Actor {
                    name: "agent:test".into(),
                    origin: Origin::Agent,
                    override_reason: None,
                };
                store::book(conn, &loaded, &calendar, request, &actor).await
            })
        })
        .await
        .expect("another child's booking");
}

/// Sets the booking or cancelling delay of `activity` to 30 calendar days (the other one
/// to none: until the unit starts).
async fn month_notice(app: &TestApp, activity: i64, which: Notice) {
    let rule = NoticeRule {
        amount: 30,
        unit: NoticeUnit::Days,
        count: DayCount::CalendarDays,
        cutoff_time: None,
    };
    let other = match which {
        Notice::Booking => Notice::Cancel,
        Notice::Cancel => Notice::Booking,
    };
    app.db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                catalogue::set_notice(conn, activity, other, None).await?;
                catalogue::set_notice(conn, activity, which, Some(&rule)).await
            })
        })
        .await
        .unwrap();
}

/// The `<td>` of the month holding `unit` (by position) on `day`.
fn cell(html: &str, day: NaiveDate, position: usize) -> &str {
    let label = day_label(day);
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
async fn an_agent_books_one_offs_with_the_meal_chosen_and_sees_the_places_decrease() {
    let app = TestApp::spawn().await;
    let children = fixtures::children(&app, &app.city, 6, 3).await;
    let (child, sibling) = (children[0], children[1]);
    let canteen = activity(&app, &app.city, "canteen", Some(3)).await;
    let dates = open_dates(&app, &app.city, canteen, 14).await;
    let (day, other_day) = (dates[0], dates[1]);
    let (agent, _) = app.agent_client(&["school_agent"]).await;

    let (status, overview) = get(&app, &agent, &page(child)).await;
    assert_eq!(status, 200, "{overview}");
    assert!(overview.contains("Activité canteen"), "{overview}");
    let url = month_page(child, canteen, day);
    let (status, month) = get(&app, &agent, &url).await;
    assert_eq!(status, 200, "{month}");
    let free = cell(&month, day, 0);
    assert!(free.contains("3 places restantes"), "{free}");
    assert!(free.contains(&format!("value=\"{day}|repas\"")), "{free}");
    assert!(
        month.contains("<option value=\"Végétarien\">"),
        "the city's meals"
    );

    // A meal not on the city's list: refused, the form kept, nothing written.
    let (status, refused) = post(
        &app,
        &agent,
        &page(child),
        &[
            ("activite", canteen.to_string()),
            ("mois", day.format("%Y-%m").to_string()),
            ("slot", format!("{day}|repas")),
            ("meal_choice", "Caviar".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(refused.contains("Repas « Caviar » inconnu"), "{refused}");
    assert!(
        refused.contains(&format!("value=\"{day}|repas\" checked")),
        "the ticked unit stays ticked"
    );
    assert!(bookings_of(&app, child, canteen).await.is_empty());

    // Ticked in the month.
    let (status, report) = post(
        &app,
        &agent,
        &page(child),
        &[
            ("activite", canteen.to_string()),
            ("slot", format!("{day}|repas")),
            ("meal_choice", "Végétarien".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert!(
        report
            .contains("1 unité(s) réservée(s), 0 en liste d'attente, 0 complète(s), 0 refusée(s)"),
        "{report}"
    );
    assert!(report.contains("Repas : Végétarien."), "{report}");
    // A day and a unit.
    let (status, report) = post(
        &app,
        &agent,
        &page(child),
        &[
            ("activite", canteen.to_string()),
            ("jour", other_day.to_string()),
            ("unite", "repas".into()),
            ("meal_choice", "Sans porc".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert!(report.contains("1 unité(s) réservée(s)"), "{report}");
    // Twice the same: refused with why, nothing else changes.
    let (_, again) = post(
        &app,
        &agent,
        &page(child),
        &[
            ("activite", canteen.to_string()),
            ("jour", other_day.to_string()),
            ("unite", "repas".into()),
        ],
    )
    .await;
    assert!(
        again.contains("0 unité(s) réservée(s), 0 en liste d'attente, 0 complète(s), 1 refusée(s)")
            && again.contains("est déjà réservé ce jour-là"),
        "{again}"
    );

    let rows = bookings_of(&app, child, canteen).await;
    assert_eq!(rows.len(), 2);
    let meals: Vec<(NaiveDate, Option<&str>, &str)> = rows
        .iter()
        .map(|b| (b.date, b.meal_choice.as_deref(), b.origin.as_str()))
        .collect();
    assert!(
        meals.contains(&(day, Some("Végétarien"), "agent")),
        "{meals:?}"
    );
    assert!(
        meals.contains(&(other_day, Some("Sans porc"), "agent")),
        "{meals:?}"
    );

    // Live places: the sibling's month shows one place fewer on each day (the refused
    // duplicate took none).
    for booked_day in [day, other_day] {
        let (_, month) = get(&app, &agent, &month_page(sibling, canteen, booked_day)).await;
        assert!(
            cell(&month, booked_day, 0).contains("2 places restantes"),
            "{month}"
        );
    }
    let (_, month) = get(&app, &agent, &url).await;
    let booked = cell(&month, day, 0);
    assert!(
        booked.contains("Réservé") && booked.contains("Repas : Végétarien"),
        "{booked}"
    );
    assert!(booked.contains(">Annuler<"), "in time: may cancel");
    // The child page and its household's page link to the screen.
    let (_, child_page) = get(&app, &agent, &format!("/agent/enfants/{child}")).await;
    assert!(child_page.contains(&format!("href=\"{}\"", page(child))));
    let household = child_page
        .split("href=\"/agent/familles/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to the household")
        .to_string();
    let (_, household_page) = get(&app, &agent, &format!("/agent/familles/{household}")).await;
    assert!(household_page.contains(&format!("href=\"{}\"", page(child))));
}

#[actix_web::test]
async fn a_recurring_pattern_and_a_whole_period_are_booked_with_each_unit_reported() {
    let app = TestApp::spawn().await;
    let children = fixtures::children(&app, &app.city, 6, 7).await;
    let (child, other) = (children[0], children[1]);
    let canteen = activity(&app, &app.city, "canteen", Some(1)).await;
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
        .filter(|d| *d >= monday && *d <= to && matches!(d.weekday(), Weekday::Mon | Weekday::Thu))
        .collect();
    let full_day = *wanted.last().unwrap();
    taken_by(&app, canteen, other, full_day).await;
    let (agent, _) = app.agent_client(&["city_admin"]).await;

    // Bad input loses nothing: the form comes back as entered.
    let (status, refused) = post(
        &app,
        &agent,
        &format!("{}/reguliere", page(child)),
        &[
            ("activite", canteen.to_string()),
            ("du", monday.to_string()),
            ("au", "31/02/2099".into()),
            ("jours", "mon".into()),
            ("unites", "repas".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        refused.contains("La date de fin « 31/02/2099 » est invalide"),
        "{refused}"
    );
    assert!(
        refused.contains(&format!("value=\"{monday}\"")),
        "the start is kept"
    );
    assert!(bookings_of(&app, child, canteen).await.is_empty());

    let (status, report) = post(
        &app,
        &agent,
        &format!("{}/reguliere", page(child)),
        &[
            ("activite", canteen.to_string()),
            ("du", monday.to_string()),
            ("au", to.to_string()),
            ("jours", "mon".into()),
            ("jours", "wed".into()),
            ("jours", "thu".into()),
            ("unites", "repas".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert!(
        report.contains(&format!(
            "{} unité(s) réservée(s), 0 en liste d'attente, 1 complète(s), 0 refusée(s)",
            wanted.len() - 1
        )),
        "{report}"
    );
    assert!(
        report.contains("jour(s) de fermeture")
            && report.contains("L'activité est fermée ce jour-là.")
    );
    assert!(report.contains("est complet le"), "the full day says why");
    assert!(report.contains(&day_label(full_day)));
    let booked = bookings_of(&app, child, canteen).await;
    assert_eq!(booked.len(), wanted.len() - 1);
    assert!(
        booked
            .iter()
            .all(|b| b.date != full_day && state(b) == "booked")
    );

    // A whole period: every open day from the day after `to`, three weeks.
    let (from, until) = (to + Days::new(1), to + Days::new(21));
    let open: Vec<NaiveDate> = dates
        .iter()
        .copied()
        .filter(|d| *d >= from && *d <= until)
        .collect();
    assert!(!open.is_empty());
    let (status, report) = post(
        &app,
        &agent,
        &format!("{}/periode", page(child)),
        &[
            ("activite", canteen.to_string()),
            ("periode", String::new()),
            ("du", from.to_string()),
            ("au", until.to_string()),
            ("unites", "repas".into()),
            ("meal_choice", "Sans viande".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert!(
        report.contains(&format!(
            "{} unité(s) réservée(s), 0 en liste d'attente, 0 complète(s), 0 refusée(s).",
            open.len()
        )),
        "{report}"
    );
    let period: Vec<BookingView> = bookings_of(&app, child, canteen)
        .await
        .into_iter()
        .filter(|b| b.date >= from)
        .collect();
    assert_eq!(
        period.iter().map(|b| b.date).collect::<Vec<_>>(),
        open,
        "every open day"
    );
    assert!(
        period
            .iter()
            .all(|b| b.origin == "mass" && b.meal_choice.as_deref() == Some("Sans viande"))
    );

    // A period in the past is refused as a whole.
    let (status, refused) = post(
        &app,
        &agent,
        &format!("{}/periode", page(child)),
        &[
            ("activite", canteen.to_string()),
            ("du", (clock::today() - Days::new(3)).to_string()),
            ("au", until.to_string()),
            ("unites", "repas".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(refused.contains("La période commence au plus tôt aujourd'hui"));
}

#[actix_web::test]
async fn full_units_are_reported_full_or_put_on_the_waitlist() {
    let app = TestApp::spawn().await;
    let children = fixtures::children(&app, &app.city, 6, 11).await;
    let (child, other) = (children[0], children[1]);
    let canteen = activity(&app, &app.city, "canteen", Some(1)).await;
    let day = open_dates(&app, &app.city, canteen, 14).await[0];
    taken_by(&app, canteen, other, day).await;
    let (agent, _) = app.agent_client(&["structure_director"]).await;
    let one_off = [
        ("activite", canteen.to_string()),
        ("jour", day.to_string()),
        ("unite", "repas".to_string()),
    ];

    let (status, report) = post(&app, &agent, &page(child), &one_off).await;
    assert_eq!(status, 200, "{report}");
    assert!(report.contains("0 unité(s) réservée(s), 0 en liste d'attente, 1 complète(s)"));
    assert!(
        report.contains("Complet") && report.contains("est complet le"),
        "{report}"
    );

    sql(
        &app,
        &app.city,
        &format!("UPDATE activities SET when_full = 'waitlist' WHERE id = {canteen}"),
    )
    .await;
    let (status, report) = post(&app, &agent, &page(child), &one_off).await;
    assert_eq!(status, 200, "{report}");
    assert!(
        report.contains("0 unité(s) réservée(s), 1 en liste d'attente"),
        "{report}"
    );
    assert!(report.contains("rang 1"), "{report}");
    let (_, month) = get(&app, &agent, &month_page(child, canteen, day)).await;
    let waiting = cell(&month, day, 0);
    assert!(
        waiting.contains("En liste d'attente") && waiting.contains("Rang 1."),
        "{waiting}"
    );
    assert!(month.contains("Demandes en liste d'attente"));
    let entry: i64 = waiting
        .split("/attente/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| id.parse().ok())
        .expect("a withdraw button");
    let (status, location) = post(
        &app,
        &agent,
        &format!("{}/attente/{entry}/retirer", page(child)),
        &[],
    )
    .await;
    assert_eq!(status, 303, "{location}");
    let (_, month) = get(&app, &agent, &location).await;
    assert!(
        month.contains("Demande retirée de la liste d'attente"),
        "{month}"
    );
    assert!(!cell(&month, day, 0).contains("En liste d'attente"));
}

#[actix_web::test]
async fn past_the_booking_delay_a_reason_is_required_kept_and_audited() {
    let app = TestApp::spawn().await;
    let children = fixtures::children(&app, &app.city, 6, 19).await;
    let child = children[0];
    let canteen = activity(&app, &app.city, "canteen", Some(5)).await;
    month_notice(&app, canteen, Notice::Booking).await;
    let dates = open_dates(&app, &app.city, canteen, 14).await;
    let (late, in_time) = (
        dates[0],
        *dates
            .iter()
            .find(|d| **d > clock::today() + Days::new(32))
            .expect("a day past the booking delay"),
    );
    let fields = |motif: &str| {
        vec![
            ("activite", canteen.to_string()),
            ("slot", format!("{late}|repas")),
            ("slot", format!("{in_time}|repas")),
            ("motif", motif.to_string()),
        ]
    };

    // Without the override right: the late day is refused and said why, the other booked;
    // a reason does not help.
    let (clerk, _) = app.agent_client(&["school_agent"]).await;
    let (_, month) = get(&app, &clerk, &month_page(child, canteen, late)).await;
    let late_cell = cell(&month, late, 0);
    assert!(
        late_cell.contains("Délai de réservation dépassé"),
        "{late_cell}"
    );
    assert!(!late_cell.contains("type=\"checkbox\""), "{late_cell}");
    let (status, refused) = post(&app, &clerk, &page(child), &fields("Demande du directeur")).await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused.contains("Vous n'avez pas les droits nécessaires"),
        "{refused}"
    );
    assert!(bookings_of(&app, child, canteen).await.is_empty());
    let (status, report) = post(&app, &clerk, &page(child), &fields("")).await;
    assert_eq!(status, 200, "{report}");
    assert!(
        report
            .contains("1 unité(s) réservée(s), 0 en liste d'attente, 0 complète(s), 1 refusée(s)"),
        "{report}"
    );
    assert!(
        report.contains("seul un agent habilité peut réserver hors délai"),
        "{report}"
    );

    // With it (for another child): the reason is required, nothing booked without it.
    let child = children[1];
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let (_, month) = get(&app, &admin, &month_page(child, canteen, late)).await;
    let late_cell = cell(&month, late, 0);
    assert!(
        late_cell.contains("(hors délai)") && late_cell.contains("motif obligatoire"),
        "{late_cell}"
    );
    let (status, refused) = post(&app, &admin, &page(child), &fields("  ")).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused.contains(&format!(
            "Le délai de réservation est dépassé pour {} (Repas) : indiquez le motif",
            day_label(late)
        )),
        "{refused}"
    );
    assert!(
        bookings_of(&app, child, canteen).await.is_empty(),
        "nothing written"
    );

    let reason = "Reprise du travail de la mère, accord du directeur";
    let (status, report) = post(&app, &admin, &page(child), &fields(reason)).await;
    assert_eq!(status, 200, "{report}");
    assert!(report.contains("2 unité(s) réservée(s)"), "{report}");
    assert!(
        report.contains(&format!("Hors délai, motif : « {reason} »")),
        "{report}"
    );
    let rows = bookings_of(&app, child, canteen).await;
    let late_row = rows.iter().find(|b| b.date == late).unwrap();
    let in_time_row = rows.iter().find(|b| b.date == in_time).unwrap();
    assert_eq!(
        (late_row.reason.as_str(), late_row.origin.as_str()),
        (reason, "agent")
    );
    assert_eq!(
        in_time_row.reason, "",
        "a booking in time carries no reason"
    );

    // The audit trail has the reason, and who gave it.
    #[derive(QueryableByName)]
    struct Audited {
        #[diesel(sql_type = Text)]
        user_id: String,
        #[diesel(sql_type = Text)]
        reason: String,
    }
    let row = late_row.id;
    let audited: Vec<Audited> = app
        .db()
        .run(app.city.scope("test"), move |conn| {
            Box::pin(async move {
                Ok(diesel::sql_query(
                    "SELECT user_id, after->>'reason' AS reason FROM audit_log
                      WHERE table_name = 'bookings' AND row_id = $1::text AND op = 'INSERT'",
                )
                .bind::<BigInt, _>(row)
                .load(conn)
                .await?)
            })
        })
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].reason, reason);
    assert!(
        audited[0].user_id.starts_with("agent:"),
        "{}",
        audited[0].user_id
    );
    let (_, page_text) = get(&app, &admin, &page(child)).await;
    assert!(
        page_text.contains(&format!("Motif : {reason}")),
        "shown in the coming bookings"
    );
}

#[actix_web::test]
async fn a_cancellation_in_time_frees_the_place_and_a_late_one_is_an_absence_unless_a_reason() {
    let app = TestApp::spawn().await;
    let children = fixtures::children(&app, &app.city, 6, 23).await;
    let (child, sibling) = (children[0], children[1]);
    let canteen = activity(&app, &app.city, "canteen", Some(2)).await;
    month_notice(&app, canteen, Notice::Cancel).await;
    let dates = open_dates(&app, &app.city, canteen, 14).await;
    let (late, later) = (dates[0], dates[1]);
    let far = *dates
        .iter()
        .find(|d| **d > clock::today() + Days::new(32))
        .expect("a day past the cancelling delay");
    let (admin, _) = app.agent_client(&["city_admin"]).await;
    let (clerk, _) = app.agent_client(&["school_agent"]).await;
    let mut fields = vec![("activite", canteen.to_string())];
    for day in [late, later, far] {
        fields.push(("slot", format!("{day}|repas")));
    }
    let (_, report) = post(&app, &admin, &page(child), &fields).await;
    assert!(report.contains("3 unité(s) réservée(s)"), "{report}");
    let rows = bookings_of(&app, child, canteen).await;
    let id_of = |day: NaiveDate| rows.iter().find(|b| b.date == day).unwrap().id;
    let cancel = |day: NaiveDate| format!("{}/{}/annulation", page(child), id_of(day));

    let (_, month) = get(&app, &clerk, &month_page(child, canteen, late)).await;
    let booked = cell(&month, late, 0);
    assert!(
        booked.contains("« absence injustifiée »") && booked.contains("Annuler hors délai"),
        "{booked}"
    );

    // In time: cancelled, the place comes back.
    let (status, location) = post(&app, &clerk, &cancel(far), &[]).await;
    assert_eq!(
        (status, location.as_str()),
        (303, month_page(child, canteen, far).as_str())
    );
    let (_, month) = get(&app, &clerk, &location).await;
    assert!(
        month.contains("Réservation annulée dans les délais"),
        "{month}"
    );
    let (_, sibling_month) = get(&app, &clerk, &month_page(sibling, canteen, far)).await;
    assert!(cell(&sibling_month, far, 0).contains("2 places restantes"));

    // Late without a reason: the activity's late state (an absence).
    let (status, location) = post(&app, &clerk, &cancel(late), &[]).await;
    assert_eq!(status, 303);
    let (_, month) = get(&app, &clerk, &location).await;
    assert!(
        month.contains("Annulation hors délai") && month.contains("« absence injustifiée »"),
        "{month}"
    );

    // Late with a reason: only with the right; then cancelled in time, the reason kept.
    let reason = "Hospitalisation de l'enfant";
    let (status, _) = post(&app, &clerk, &cancel(later), &[("motif", reason.into())]).await;
    assert_eq!(status, 403);
    let (status, location) = post(&app, &admin, &cancel(later), &[("motif", reason.into())]).await;
    assert_eq!(status, 303);
    let (_, month) = get(&app, &admin, &location).await;
    assert!(
        month.contains("Réservation annulée hors délai avec le motif"),
        "{month}"
    );

    let rows = bookings_of(&app, child, canteen).await;
    let of = |day: NaiveDate| rows.iter().find(|b| b.date == day).unwrap();
    assert_eq!(state(of(far)), "cancelled_in_time");
    assert_eq!(state(of(late)), "absent_unjustified");
    assert_eq!(
        (state(of(later)).as_str(), of(later).reason.as_str()),
        ("cancelled_in_time", reason)
    );
    // Cancelling again is refused in French, nothing changes.
    let (status, page_text) = post(&app, &admin, &cancel(far), &[]).await;
    assert_eq!(status, 422, "{page_text}");
}

#[actix_web::test]
async fn read_only_profiles_see_without_forms_and_other_cities_children_are_not_found() {
    let app = TestApp::spawn().await;
    let children = fixtures::children(&app, &app.city, 3, 29).await;
    let child = children[0];
    let centre = activity(&app, &app.city, "wednesday", Some(5)).await;
    let canteen = activity(&app, &app.city, "canteen", Some(5)).await;
    let day = open_dates(&app, &app.city, canteen, 14).await[0];

    for profile in ["auditor", "animator"] {
        let (reader, _) = app.agent_client(&[profile]).await;
        let (status, month) = get(&app, &reader, &month_page(child, canteen, day)).await;
        assert_eq!(status, 200, "{profile}: {month}");
        assert!(cell(&month, day, 0).contains("5 places restantes"));
        assert!(
            !month.contains("type=\"checkbox\"") && !month.contains("Réserver ce jour"),
            "{profile}: no form"
        );
        let (status, _) = post(
            &app,
            &reader,
            &page(child),
            &[
                ("activite", canteen.to_string()),
                ("jour", day.to_string()),
                ("unite", "repas".into()),
            ],
        )
        .await;
        assert_eq!(status, 403, "{profile} may not book");
    }
    assert!(bookings_of(&app, child, canteen).await.is_empty());

    // An activity requiring an enrolment the child does not have: not bookable here.
    let (agent, _) = app.agent_client(&["school_agent"]).await;
    let (status, _) = get(&app, &agent, &month_page(child, centre, day)).await;
    assert_eq!(status, 404);
    admit(&app, &app.city, centre, child).await;
    let (status, _) = get(&app, &agent, &month_page(child, centre, day)).await;
    assert_eq!(status, 200);

    // Another city's child: an id this city does not have answers 404, read or write.
    let other = app.add_city("Autreville-Test").await;
    let theirs = fixtures::children(&app, &other, 12, 31).await;
    let foreign = *theirs.iter().max().unwrap();
    assert!(
        foreign > *children.iter().max().unwrap(),
        "an id only the other city has"
    );
    let (status, _) = get(&app, &agent, &page(foreign)).await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &app,
        &agent,
        &page(foreign),
        &[
            ("activite", canteen.to_string()),
            ("jour", day.to_string()),
            ("unite", "repas".into()),
        ],
    )
    .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn a_form_without_its_csrf_token_is_refused_and_books_nothing() {
    let app = TestApp::spawn().await;
    let children = fixtures::children(&app, &app.city, 3, 37).await;
    let child = children[0];
    let canteen = activity(&app, &app.city, "canteen", Some(5)).await;
    let day = open_dates(&app, &app.city, canteen, 14).await[0];
    let (agent, _) = app.agent_client(&["city_admin"]).await;
    let form = [
        ("activite", canteen.to_string()),
        ("jour", day.to_string()),
        ("unite", "repas".to_string()),
    ];
    for csrf in [None, Some("jeton-faux")] {
        let mut fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(token) = csrf {
            fields.push(("csrf", token));
        }
        let response = agent
            .post(app.city_url(&app.city, &page(child)))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403);
        assert!(pages::text(&response.text().await.unwrap()).contains("Ce formulaire a expiré"));
    }
    assert!(bookings_of(&app, child, canteen).await.is_empty());
}
