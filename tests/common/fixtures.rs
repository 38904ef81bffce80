//! Fixtures of the activity, booking and enrolment tests: synthetic families, activities
//! with a capacity, their open days, admissions.

use chrono::{Days, NaiveDate};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use marelle::domain::activity::catalogue::{self, NewActivity, NewCapacity};
use marelle::domain::activity::model::{self, CitySettings};
use marelle::domain::calendar::{holidays::shipped, open_days};
use marelle::domain::family::demo::{Locality, generate};
use marelle::platform::clock;
use marelle::platform::tenancy::City;

use super::TestApp;

/// `families` synthetic families in `city`; returns the ids of their children.
pub async fn children(app: &TestApp, city: &City, families: usize, seed: u64) -> Vec<i64> {
    let key = app.state.keys.city_key(&city.key_id);
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                generate(
                    conn,
                    &key,
                    &Locality {
                        postal_code: "69960",
                        town: "Corbas",
                    },
                    seed,
                    families,
                    clock::today(),
                )
                .await?;
                #[derive(QueryableByName)]
                struct Id {
                    #[diesel(sql_type = BigInt)]
                    id: i64,
                }
                let ids: Vec<Id> =
                    diesel::sql_query("SELECT id FROM persons WHERE kind = 'child' ORDER BY id")
                        .load(conn)
                        .await?;
                Ok(ids.into_iter().map(|i| i.id).collect())
            })
        })
        .await
        .expect("synthetic families")
}

/// An activity of `kind` with `places` per unit and day for the whole activity.
pub async fn activity(app: &TestApp, city: &City, kind: &str, places: Option<i32>) -> i64 {
    let kind = kind.to_string();
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                let id = catalogue::create_activity(
                    conn,
                    &NewActivity {
                        code: format!("{kind}-test").replace('_', "-"),
                        name: format!("Activité {kind}"),
                        kind: kind.clone(),
                        structure_id: None,
                        description: String::new(),
                    },
                )
                .await?;
                if let Some(places) = places {
                    catalogue::add_capacity(
                        conn,
                        id,
                        &NewCapacity {
                            group_id: None,
                            unit_id: None,
                            day: None,
                            valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                            valid_to: None,
                            places,
                            reason: "capacité de test".into(),
                        },
                    )
                    .await?;
                }
                Ok(id)
            })
        })
        .await
        .expect("activity")
}

/// The loaded activity, under the city's default settings.
pub async fn loaded(app: &TestApp, city: &City, id: i64) -> model::Activity {
    let name = city.name.clone();
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                let settings = CitySettings::read(conn, &name).await?;
                model::load(conn, id, &settings).await
            })
        })
        .await
        .unwrap()
}

/// Open days of the activity from `after` days from now, over two months.
pub async fn open_dates(app: &TestApp, city: &City, id: i64, after: u64) -> Vec<NaiveDate> {
    let activity = loaded(app, city, id).await;
    let from = clock::today() + Days::new(after);
    open_days(&activity.opening, shipped(), from, from + Days::new(60)).unwrap()
}

/// Admits `child` to `activity` (activities requiring an enrolment).
pub async fn admit(app: &TestApp, city: &City, activity: i64, child: i64) {
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                diesel::sql_query(
                    "INSERT INTO enrolments (child_id, activity_id, status, starts)
                     VALUES ($1, $2, 'admitted', current_date)",
                )
                .bind::<BigInt, _>(child)
                .bind::<BigInt, _>(activity)
                .execute(conn)
                .await?;
                Ok(())
            })
        })
        .await
        .unwrap();
}
