//! What to know about each child on the list: health flags and pick-up rules.

use super::*;

/// What every adult in charge of the child must know: diet, allergies, PAI (the basic
/// level of the health sheet, shown to profiles that may read it).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Watch {
    pub diet: String,
    pub diet_label: String,
    pub allergies: Vec<String>,
    pub pai: bool,
    pub what_to_do: String,
}

impl Watch {
    /// Whether there is anything to flag.
    pub fn any(&self) -> bool {
        !self.allergies.is_empty()
            || self.pai
            || !self.what_to_do.trim().is_empty()
            || !(self.diet.is_empty() || self.diet == "standard")
    }
}

/// The basic health level of `children`, decrypted (those without a sheet are left out).
pub async fn watch_of(
    conn: &mut Conn,
    key: &CityKey,
    children: &[i64],
) -> AppResult<HashMap<i64, Watch>> {
    let mut map = HashMap::new();
    for (child, basic) in health::basic_of(conn, key, children).await? {
        let diet_label = DIETS
            .iter()
            .find(|(code, _)| *code == basic.diet)
            .map_or(basic.diet.clone(), |(_, label)| label.to_string());
        map.insert(
            child,
            Watch {
                diet: basic.diet,
                diet_label,
                allergies: basic.allergies,
                pai: basic.pai,
                what_to_do: basic.what_to_do,
            },
        );
    }
    Ok(map)
}

/// Who may take the child home: people allowed, people forbidden, and whether the child
/// may leave alone (authorisation « Départ seul » in force that day).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PickUp {
    pub allowed: Vec<String>,
    pub forbidden: Vec<String>,
    pub leaves_alone: Option<bool>,
}

impl PickUp {
    pub fn any(&self) -> bool {
        !self.allowed.is_empty() || !self.forbidden.is_empty() || self.leaves_alone.is_some()
    }
}

/// One authorisation row: (activity, granted, valid from).
pub(super) type Grant = (Option<i64>, bool, NaiveDate);

/// Whether the child may leave alone from `activity`: an authorisation given for that
/// activity wins over one for every activity; the latest given wins.
pub fn leaves_alone(grants: &[Grant], activity: i64) -> Option<bool> {
    let latest = |specific: bool| {
        grants
            .iter()
            .filter(|(a, ..)| {
                if specific {
                    *a == Some(activity)
                } else {
                    a.is_none()
                }
            })
            .max_by_key(|(.., from)| *from)
            .map(|(_, granted, _)| *granted)
    };
    latest(true).or_else(|| latest(false))
}

/// Pick-up rules of `children` on `day`, by (child, activity) of `places`.
pub async fn pick_up_of(
    conn: &mut Conn,
    places: &[(i64, i64)],
    day: NaiveDate,
) -> AppResult<HashMap<(i64, i64), PickUp>> {
    #[derive(QueryableByName)]
    struct Contact {
        #[diesel(sql_type = BigInt)]
        child_id: i64,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Bool)]
        forbidden: bool,
    }
    #[derive(QueryableByName)]
    struct Authorisation {
        #[diesel(sql_type = BigInt)]
        child_id: i64,
        #[diesel(sql_type = Nullable<BigInt>)]
        activity_id: Option<i64>,
        #[diesel(sql_type = Bool)]
        granted: bool,
        #[diesel(sql_type = Date)]
        valid_from: NaiveDate,
    }
    let mut children: Vec<i64> = places.iter().map(|(c, _)| *c).collect();
    children.sort_unstable();
    children.dedup();
    let contacts: Vec<Contact> = diesel::sql_query(
        "SELECT child_id,
                btrim(first_name || ' ' || last_name ||
                      CASE WHEN relationship <> '' THEN ' (' || relationship || ')' ELSE '' END) AS name,
                forbidden_pick_up AS forbidden
           FROM child_contacts
          WHERE child_id = ANY($1) AND (may_pick_up OR forbidden_pick_up)
          ORDER BY child_id, forbidden_pick_up DESC, priority, id",
    )
    .bind::<Array<BigInt>, _>(&children)
    .load(conn)
    .await?;
    let grants: Vec<Authorisation> = diesel::sql_query(
        "SELECT a.child_id, a.activity_id, a.granted, a.valid_from
           FROM authorisations a JOIN authorisation_kinds k ON k.id = a.kind_id
          WHERE k.code = 'leave_alone' AND a.child_id = ANY($1)
            AND a.valid_from <= $2 AND (a.valid_to IS NULL OR a.valid_to >= $2)",
    )
    .bind::<Array<BigInt>, _>(&children)
    .bind::<Date, _>(day)
    .load(conn)
    .await?;
    let mut map = HashMap::new();
    for (child, activity) in places {
        let mut rule = PickUp::default();
        for contact in contacts.iter().filter(|c| c.child_id == *child) {
            if contact.forbidden {
                rule.forbidden.push(contact.name.clone());
            } else {
                rule.allowed.push(contact.name.clone());
            }
        }
        let own: Vec<Grant> = grants
            .iter()
            .filter(|g| g.child_id == *child)
            .map(|g| (g.activity_id, g.granted, g.valid_from))
            .collect();
        rule.leaves_alone = leaves_alone(&own, *activity);
        map.insert((*child, *activity), rule);
    }
    Ok(map)
}
