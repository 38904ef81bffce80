//! Demonstration activities for `marelle demo`: a school group with its classes, a crèche,
//! a leisure centre and the periscolaire, canteen, Wednesday and holiday activities, the
//! synthetic children placed in classes, enrolled (mass enrolment, a crèche commission
//! with its waitlist), booked over the coming days, and attended over the past ones.
//! Runs once per city: a city that already has activities is left alone.

use chrono::{Datelike, Days, NaiveDate, TimeDelta, Utc};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable};
use diesel_async::RunQueryDsl;

use super::catalogue::{
    NewActivity, NewCapacity, NewPeriod, NewStructure, add_capacity, add_criterion, add_period,
    create_activity, create_structure,
};
use super::commission::Criterion;
use super::enrolment::{self, Channel, Decision, NewRequest, Selection};
use super::facts::school_year;
use super::model::{self, CitySettings};
use super::population::Population;
use super::schema::activities;
use super::schools::{self, ClassOptions, NewClass, NewSchool};
use crate::domain::booking::state::Mark;
use crate::domain::booking::store::{self, Actor, AttendanceEntry, BookRequest, Calendar, Origin};
use crate::domain::calendar::open_days;
use crate::platform::db::Conn;
use crate::platform::error::AppResult;

const BY: &str = "démonstration";

#[derive(Debug, Default)]
pub struct Report {
    pub activities: usize,
    pub pupils: usize,
    pub enrolments: usize,
    pub bookings: usize,
    pub attended: usize,
}

#[derive(QueryableByName)]
struct Child {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Date>)]
    birth_date: Option<NaiveDate>,
}

/// The school level of a child born on `birth` in the school year starting `september`.
fn level_for(birth: NaiveDate, september: i32) -> Option<&'static str> {
    const LEVELS: [&str; 8] = ["PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"];
    let age = september - birth.year();
    usize::try_from(age - 3)
        .ok()
        .and_then(|i| LEVELS.get(i).copied())
}

async fn structure(conn: &mut Conn, name: &str, kind: &str, places: i32) -> AppResult<i64> {
    create_structure(
        conn,
        &NewStructure {
            name: name.into(),
            kind: kind.into(),
            address: "Place de la Mairie".into(),
            daily_capacity: Some(places),
        },
    )
    .await
}

/// An activity of `kind` from its template with `places` per unit and day.
async fn activity(
    conn: &mut Conn,
    (code, name, kind): (&str, &str, &str),
    structure: i64,
    places: i32,
    since: NaiveDate,
) -> AppResult<i64> {
    let id = create_activity(
        conn,
        &NewActivity {
            code: code.into(),
            name: name.into(),
            kind: kind.into(),
            structure_id: Some(structure),
            description: String::new(),
        },
    )
    .await?;
    add_capacity(
        conn,
        id,
        &NewCapacity {
            group_id: None,
            unit_id: None,
            day: None,
            valid_from: since,
            valid_to: None,
            places,
            reason: "agrément".into(),
        },
    )
    .await?;
    Ok(id)
}

/// Places the children of school age in the classes of the current school year; returns
/// the two schools and how many pupils were placed.
async fn schools_and_pupils(
    conn: &mut Conn,
    children: &[Child],
    today: NaiveDate,
) -> AppResult<((i64, i64), usize)> {
    let year = school_year(today);
    let september = year[..4].parse().unwrap_or(today.year());
    let nursery_school = schools::create_school(
        conn,
        &NewSchool {
            name: "École maternelle Les Tilleuls".into(),
            kind: "maternelle".into(),
            address: "12 rue des Tilleuls".into(),
            capacity: Some(150),
        },
    )
    .await?;
    let primary = schools::create_school(
        conn,
        &NewSchool {
            name: "École élémentaire Jules-Ferry".into(),
            kind: "elementaire".into(),
            address: "3 avenue Jules-Ferry".into(),
            capacity: Some(250),
        },
    )
    .await?;
    let classes: [(i64, &str, &[&str], &str); 7] = [
        (nursery_school, "Petits-moyens", &["PS", "MS"], "Mme Martin"),
        (nursery_school, "Grands", &["GS"], "M. Dupuis"),
        (primary, "CP", &["CP"], "Mme Lefèvre"),
        (primary, "CE1", &["CE1"], "M. Nguyen"),
        (primary, "CE2", &["CE2"], "Mme Girard"),
        (primary, "CM1", &["CM1"], "Mme Roux"),
        (primary, "CM2", &["CM2"], "M. Perrin"),
    ];
    let mut ids = Vec::new();
    for (school, name, levels, teacher) in classes {
        let id = schools::create_class(
            conn,
            &NewClass {
                school_id: school,
                school_year: year.clone(),
                name: name.into(),
                levels: levels.iter().map(|l| l.to_string()).collect(),
                teacher: teacher.into(),
                capacity: Some(40),
            },
        )
        .await?;
        ids.push((id, levels));
    }
    let mut placed = 0;
    let mut elementary = None;
    for child in children {
        let Some(level) = child.birth_date.and_then(|b| level_for(b, september)) else {
            continue;
        };
        if let Some((class, levels)) = ids.iter().find(|(_, levels)| levels.contains(&level)) {
            schools::place_pupil(conn, child.id, *class, level).await?;
            placed += 1;
            if levels[0].starts_with('C') {
                elementary = Some(child.id);
            }
        }
    }
    ulis_class(conn, primary, &year, elementary, today).await?;
    Ok(((nursery_school, primary), placed))
}

/// A ULIS class in the elementary school with one pupil, the last elementary pupil placed,
/// whose family has just moved out of the city (to Feyzin) while the child stays schooled
/// here: mass enrolment then gives the pupil the « triple tariff » of the demo assignment
/// rules (outside the city + schooled in the city + ULIS class; domain::tariffs::demo).
async fn ulis_class(
    conn: &mut Conn,
    school: i64,
    year: &str,
    pupil: Option<i64>,
    today: NaiveDate,
) -> AppResult<()> {
    use crate::domain::family::model::{AddressInput, HouseholdPatch};
    let levels = ["CP", "CE1", "CE2", "CM1", "CM2"];
    let class = NewClass {
        school_id: school,
        school_year: year.to_string(),
        name: "ULIS école".into(),
        levels: levels.iter().map(|l| l.to_string()).collect(),
        teacher: "Mme Benoît".into(),
        capacity: Some(12),
    };
    let class = schools::create_class_with(conn, &class, ClassOptions { ulis: true }).await?;
    let Some(child) = pupil else {
        return Ok(());
    };
    #[derive(QueryableByName)]
    struct Home {
        #[diesel(sql_type = BigInt)]
        household_id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        level: String,
    }
    let home: Option<Home> = diesel::sql_query(
        "SELECT l.household_id, h.level FROM child_links l
           JOIN school_history h ON h.child_id = l.child_id AND h.school_year = $2
          WHERE l.child_id = $1 AND l.valid_to IS NULL
          ORDER BY l.usual_residence DESC, l.id LIMIT 1",
    )
    .bind::<BigInt, _>(child)
    .bind::<diesel::sql_types::Text, _>(year)
    .get_result(conn)
    .await
    .optional()?;
    let Some(home) = home else {
        return Ok(());
    };
    schools::place_pupil(conn, child, class, &home.level).await?;
    let moved = HouseholdPatch {
        address: Some(AddressInput {
            line1: "8 rue de la Gare".into(),
            line2: String::new(),
            postal_code: "69320".into(),
            town: "Feyzin".into(),
        }),
        ..HouseholdPatch::default()
    };
    crate::domain::family::store::update_household(conn, home.household_id, &moved, today).await
}

/// The crèche's requests: the youngest children ask for a place; the first half is
/// admitted, then the commission scores the others and puts some on the waitlist.
async fn creche_commission(
    conn: &mut Conn,
    settings: &CitySettings,
    creche: i64,
    babies: &[&Child],
    today: NaiveDate,
) -> AppResult<usize> {
    for (kind, weight) in [
        ("resident", 40),
        ("both_parents_working", 30),
        ("siblings", 20),
    ] {
        add_criterion(
            conn,
            creche,
            &Criterion {
                kind: kind.into(),
                parameter: String::new(),
                weight,
            },
        )
        .await?;
    }
    let week: std::collections::BTreeMap<String, Vec<String>> = [
        ("mon", "journee"),
        ("tue", "journee"),
        ("thu", "journee"),
        ("fri", "journee"),
    ]
    .iter()
    .map(|(d, u)| (d.to_string(), vec![u.to_string()]))
    .collect();
    let mut filed = 0;
    for (rank, baby) in babies.iter().enumerate() {
        let request = NewRequest {
            child_id: baby.id,
            activity_id: creche,
            starts: today,
            ends: None,
            wished_week: week.clone(),
        };
        let view = enrolment::request(conn, settings, &request, Channel::Agent, Utc::now()).await?;
        filed += 1;
        if view.status != "requested" {
            continue;
        }
        match rank % 4 {
            0 | 1 => {
                enrolment::admit(conn, settings, view.id, None, BY).await?;
            }
            2 => {
                enrolment::to_commission(conn, settings, view.id, BY).await?;
                enrolment::decide(
                    conn,
                    view.id,
                    Decision::Waitlist,
                    "Pas de place à la rentrée",
                    BY,
                )
                .await?;
            }
            _ => {
                enrolment::to_commission(conn, settings, view.id, BY).await?;
            }
        }
    }
    Ok(filed)
}

/// Books `units` for each enrolled child over `days`, then marks attendance on the days
/// already past. Children take some days off; a few late cancellations become absences.
async fn book_days(
    conn: &mut Conn,
    activity: &model::Activity,
    calendar: &Calendar<'_>,
    children: &[i64],
    units: &[&str],
    days: &[NaiveDate],
    today: NaiveDate,
) -> AppResult<(usize, usize)> {
    let actor = Actor {
        name: BY.into(),
        origin: Origin::Agent,
        override_reason: Some("historique de démonstration".into()),
    };
    let (mut booked, mut attended) = (0, 0);
    for (d, day) in days.iter().enumerate() {
        for (c, child) in children.iter().enumerate() {
            // About one child in seven is not there that day.
            if (c + d) % 7 == 3 {
                continue;
            }
            for unit in units {
                let request = BookRequest {
                    child_id: *child,
                    unit: unit.to_string(),
                    day: *day,
                    meal_choice: activity.meal_choice.then(|| "standard".to_string()),
                };
                let Ok(store::Booked::Booked { booking }) =
                    store::book(conn, activity, calendar, request, &actor).await
                else {
                    continue;
                };
                booked += 1;
                if *day < today {
                    let mark = if (c * 3 + d) % 17 == 0 {
                        Mark::Absent {
                            justified: c % 2 == 0,
                        }
                    } else {
                        Mark::Present
                    };
                    let entry = AttendanceEntry {
                        mark: Some(mark),
                        ..Default::default()
                    };
                    store::record_attendance(conn, activity, booking.id, entry, BY).await?;
                    attended += 1;
                }
            }
        }
    }
    Ok((booked, attended))
}

/// Seeds the demonstration activities of a city that has none.
pub async fn seed(
    conn: &mut Conn,
    settings: &CitySettings,
    calendar: &Calendar<'_>,
    today: NaiveDate,
) -> AppResult<Option<Report>> {
    let existing: i64 = activities::table.count().get_result(conn).await?;
    if existing > 0 {
        return Ok(None);
    }
    let children: Vec<Child> = diesel::sql_query(
        // The first children only: a city grown to 20,000 families for a load test keeps a
        // demonstration-sized activity.
        "SELECT id, birth_date FROM persons WHERE kind = 'child' ORDER BY id LIMIT 400",
    )
    .load(conn)
    .await?;
    let since = today - Days::new(60);
    let school_group = structure(conn, "Groupe scolaire Jules-Ferry", "school", 400).await?;
    let restaurant = structure(conn, "Restaurant scolaire Jules-Ferry", "restaurant", 220).await?;
    let centre = structure(conn, "Centre de loisirs Les Érables", "leisure_centre", 120).await?;
    let nursery = structure(conn, "Crèche Les Petits Pas", "nursery", 24).await?;
    let canteen = activity(
        conn,
        ("cantine", "Restauration scolaire", "canteen"),
        restaurant,
        200,
        since,
    )
    .await?;
    let morning = activity(
        conn,
        ("accueil-matin", "Accueil du matin", "morning"),
        school_group,
        40,
        since,
    )
    .await?;
    let evening = activity(
        conn,
        ("accueil-soir", "Accueil du soir", "evening"),
        school_group,
        60,
        since,
    )
    .await?;
    let wednesday = activity(
        conn,
        ("mercredi", "Mercredis loisirs", "wednesday"),
        centre,
        48,
        since,
    )
    .await?;
    let holidays = activity(
        conn,
        (
            "vacances",
            "Accueil de loisirs des vacances",
            "holiday_centre",
        ),
        centre,
        60,
        since,
    )
    .await?;
    let creche = activity(
        conn,
        ("creche", "Crèche Les Petits Pas", "nursery"),
        nursery,
        24,
        since,
    )
    .await?;
    let opens = Utc::now() - TimeDelta::days(7);
    for (id, label) in [
        (wednesday, "Inscriptions des mercredis"),
        (holidays, "Inscriptions des vacances"),
    ] {
        add_period(
            conn,
            id,
            &NewPeriod {
                label: label.into(),
                opens_at: opens,
                closes_at: opens + TimeDelta::days(60),
                population: Population {
                    min_age_months: Some(36),
                    max_age_months: Some(143),
                    ..Default::default()
                },
            },
        )
        .await?;
    }

    let ((nursery_school, primary), pupils) = schools_and_pupils(conn, &children, today).await?;
    let mut enrolments = 0;
    for (activity, school) in [
        (canteen, nursery_school),
        (canteen, primary),
        (evening, primary),
        (morning, primary),
        (wednesday, nursery_school),
        (wednesday, primary),
    ] {
        let selection = Selection {
            school_id: school,
            ..Default::default()
        };
        enrolments += enrolment::mass_enrol(conn, settings, activity, &selection, today, None, BY)
            .await?
            .admitted;
    }
    let babies: Vec<&Child> = children
        .iter()
        .filter(|c| {
            c.birth_date
                .is_some_and(|b| model::age_months(b, today) < 36)
        })
        .collect();
    enrolments += creche_commission(conn, settings, creche, &babies, today).await?;

    let mut report = Report {
        activities: 6,
        pupils,
        enrolments,
        ..Default::default()
    };
    // A week back (attendance taken) and a week ahead (bookings).
    for (id, units, share) in [
        (canteen, &["repas"][..], 10),
        (morning, &["matin"][..], 4),
        (evening, &["soir"][..], 6),
        (wednesday, &["journee"][..], 5),
        (creche, &["journee"][..], 10),
    ] {
        let activity = model::load(conn, id, settings).await?;
        let enrolled = admitted_children(conn, id).await?;
        let chosen: Vec<i64> = enrolled
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % 10 < share)
            .map(|(_, c)| c)
            .collect();
        let days = open_days(
            &activity.opening,
            calendar.school,
            today - Days::new(7),
            today + Days::new(7),
        )
        .map_err(store::calendar_error)?;
        let (booked, attended) =
            book_days(conn, &activity, calendar, &chosen, units, &days, today).await?;
        report.bookings += booked;
        report.attended += attended;
    }
    Ok(Some(report))
}

async fn admitted_children(conn: &mut Conn, activity: i64) -> AppResult<Vec<i64>> {
    use super::schema::enrolments;
    Ok(enrolments::table
        .filter(enrolments::activity_id.eq(activity))
        .filter(enrolments::status.eq("admitted"))
        .order(enrolments::child_id)
        .select(enrolments::child_id)
        .load(conn)
        .await?)
}
