//! Fixtures of the pricing tests (aids, assignment, simulation): a canteen with its grid, a
//! family with a quotient familial, the city's aid catalogue, an enrolment admitted.
#![allow(dead_code)]

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use marelle::domain::activity::catalogue::{self, NewActivity};
use marelle::domain::family::model::NewFamily;
use marelle::domain::family::store::{self, Creation, IncomeInput};
use marelle::domain::tariffs::{aids, grids};
use marelle::platform::tenancy::City;
use serde_json::json;

use crate::common::TestApp;

/// A canteen grid: QF brackets (QF 742 is in bracket 3, 3.84 € a meal), 30 % more outside
/// the city, and 2.00 € for the children of the city's staff (tariff « personnel »,
/// assigned by an agent).
pub const CANTEEN_GRID: &str = r#"activity = "cantine"
unit_labels = { repas = "repas" }

[[versions]]
valid_from = "2025-09-01"
rules = [
    { id = "cantine-personnel", when = { tariffs = ["personnel"] }, price = { kind = "flat", amount = "2.00" } },
    { id = "cantine-qf", price = { kind = "qf_brackets", brackets = [
        { id = "cantine-qf-1", min = "0", max = "400", amount = "1.00" },
        { id = "cantine-qf-2", min = "401", max = "700", amount = "2.30" },
        { id = "cantine-qf-3", min = "701", max = "900", amount = "3.84" },
        { id = "cantine-qf-4", min = "901", amount = "4.90" },
    ] } },
]
adjustments = [ { id = "hors-commune", label = "Majoration hors commune", when = { residences = ["outside_city", "outside_intercommunality"] }, effect = { percent = "30" } } ]
"#;

/// The CCAS halves canteen meals, at most 10.00 € a month per child.
pub const CATALOGUE: &str = r#"# Aides de la ville (test).
[[aids]]
id = "ccas-cantine"
label = "Coup de pouce cantine"
funder = "ccas"
valid_from = "2025-09-01"
activities = ["cantine"]
amount = { percent = "50" }
cap_per_period = "10.00"
"#;

const BY: grids::Authorship<'static> = grids::Authorship {
    author: "Agnès Test",
    comment: "test",
};

/// The canteen (code `cantine`, unit `repas`) and its grid; returns the activity's id.
pub async fn canteen_with_grid(app: &TestApp, city: &City) -> i64 {
    app.db()
        .run(city.scope("test"), |conn| {
            Box::pin(async move {
                let id = catalogue::create_activity(
                    conn,
                    &NewActivity {
                        code: "cantine".into(),
                        name: "Restauration scolaire".into(),
                        kind: "canteen".into(),
                        structure_id: None,
                        description: String::new(),
                    },
                )
                .await?;
                grids::save_grid(conn, "cantine", CANTEEN_GRID, BY).await?;
                Ok(id)
            })
        })
        .await
        .expect("a canteen and its grid")
}

/// The city's aid catalogue.
pub async fn aid_catalogue(app: &TestApp, city: &City, text: &str) {
    let text = text.to_string();
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move { aids::save_catalogue(conn, &text, BY).await })
        })
        .await
        .expect("an aid catalogue");
}

/// A family living in `town` with two children and, if given, a QF from 2025-01-01;
/// returns its id and its children's.
pub async fn family(app: &TestApp, city: &City, town: &str, qf: Option<i32>) -> (i64, Vec<i64>) {
    let family: NewFamily = serde_json::from_value(json!({
        "address": { "line1": "3 rue des Tilleuls", "postal_code": "69960", "town": town },
        "head": { "last_name": "Durand", "first_name": "Maëlle", "birth_date": "1986-02-11" },
        "children": [
            { "last_name": "Durand", "first_name": "Lina", "birth_date": "2017-03-08" },
            { "last_name": "Durand", "first_name": "Noé", "birth_date": "2019-10-21" }
        ],
        "ignore_homonyms": true
    }))
    .unwrap();
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                let today = marelle::platform::clock::today();
                let Creation::Created(created) = store::create_family(conn, &family, today).await?
                else {
                    panic!("homonyms were ignored");
                };
                if let Some(qf) = qf {
                    let income = IncomeInput {
                        family_quotient: Some(qf),
                        monthly_resources: None,
                        dependent_children: Some(2),
                        source: "caf".into(),
                        valid_from: "2025-01-01".parse().ok(),
                        document_id: None,
                    };
                    store::add_income(conn, created.id, &income, "test", today).await?;
                }
                Ok((created.id, created.children))
            })
        })
        .await
        .expect("a family")
}

/// Admits `child` to `activity` from `starts` (no assignment: the row as a migration or an
/// import would leave it); returns the enrolment's id.
pub async fn admitted(app: &TestApp, city: &City, activity: i64, child: i64, starts: &str) -> i64 {
    let starts: chrono::NaiveDate = starts.parse().unwrap();
    app.db()
        .run(city.scope("test"), move |conn| {
            Box::pin(async move {
                #[derive(QueryableByName)]
                struct Id {
                    #[diesel(sql_type = BigInt)]
                    id: i64,
                }
                let row: Id = diesel::sql_query(
                    "INSERT INTO enrolments (child_id, activity_id, status, starts)
                     VALUES ($1, $2, 'admitted', $3) RETURNING id",
                )
                .bind::<BigInt, _>(child)
                .bind::<BigInt, _>(activity)
                .bind::<diesel::sql_types::Date, _>(starts)
                .get_result(conn)
                .await?;
                Ok(row.id)
            })
        })
        .await
        .expect("an admitted enrolment")
}
