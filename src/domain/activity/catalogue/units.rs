//! Units and their rules (inclusion, incompatibility, required combinations).

use super::*;

/// Another unit of the same activity, as a unit's rules see it.
#[derive(Debug, Clone)]
pub struct Sibling {
    pub code: String,
    pub label: String,
    pub includes: Vec<String>,
}

pub(super) fn siblings_of(units: &[UnitInput], except: &str) -> Vec<Sibling> {
    units
        .iter()
        .filter(|u| u.code != except)
        .map(|u| Sibling {
            code: u.code.clone(),
            label: u.label.clone(),
            includes: u.includes.clone(),
        })
        .collect()
}

pub(super) fn is_unit_code(code: &str) -> bool {
    (1..=30).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks a unit against the other units of its activity; returns it trimmed, its code
/// lists without blanks or repeats.
pub fn check_unit(unit: &UnitInput, siblings: &[Sibling]) -> Result<UnitInput, String> {
    let code = unit.code.trim().to_string();
    if !is_unit_code(&code) {
        return Err(format!(
            "le code d'unité « {code} » ne convient pas : de 1 à 30 lettres minuscules sans \
             accent, chiffres ou « _ »"
        ));
    }
    if siblings.iter().any(|s| s.code == code) {
        return Err(format!("l'activité a déjà une unité « {code} »"));
    }
    let label = required_text(&unit.label, "le libellé de l'unité")?;
    if unit.ends <= unit.starts {
        return Err(format!(
            "l'unité « {label} » doit finir après avoir commencé (de {} à {})",
            unit.starts.format("%H:%M"),
            unit.ends.format("%H:%M")
        ));
    }
    let known_codes = || {
        siblings
            .iter()
            .map(|s| s.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let list = |codes: &[String], verb: &str| -> Result<Vec<String>, String> {
        let mut kept: Vec<String> = Vec::new();
        for other in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
            if other == code {
                return Err(format!("une unité ne peut pas {verb} elle-même"));
            }
            if !siblings.iter().any(|s| s.code == other) {
                return Err(format!(
                    "« {other} » n'est pas une unité de cette activité (unités : {})",
                    known_codes()
                ));
            }
            if !kept.iter().any(|k| k == other) {
                kept.push(other.to_string());
            }
        }
        Ok(kept)
    };
    let checked = UnitInput {
        includes: list(&unit.includes, "se comprendre")?,
        excludes: list(&unit.excludes, "s'exclure")?,
        requires: list(&unit.requires, "se nécessiter")?,
        code,
        label,
        ..unit.clone()
    };
    if let Some(both) = checked
        .includes
        .iter()
        .find(|c| checked.excludes.contains(c))
    {
        return Err(format!(
            "« {both} » ne peut pas être à la fois comprise et exclue"
        ));
    }
    if let Some(path) = include_cycle(&checked, siblings) {
        return Err(format!(
            "ces unités se comprendraient l'une l'autre : {}",
            path.join(" → ")
        ));
    }
    Ok(checked)
}

/// A path of inclusions leading from the unit back to itself, if its includes make one.
pub(super) fn include_cycle(unit: &UnitInput, siblings: &[Sibling]) -> Option<Vec<String>> {
    fn walk(
        code: &str,
        target: &str,
        siblings: &[Sibling],
        seen: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> bool {
        let Some(sibling) = siblings.iter().find(|s| s.code == code) else {
            return false;
        };
        if !seen.insert(code.to_string()) {
            return false;
        }
        path.push(sibling.label.clone());
        if sibling.includes.iter().any(|c| c == target)
            || sibling
                .includes
                .iter()
                .any(|c| walk(c, target, siblings, seen, path))
        {
            return true;
        }
        path.pop();
        false
    }
    for start in &unit.includes {
        let mut path = vec![unit.label.clone()];
        if walk(start, &unit.code, siblings, &mut BTreeSet::new(), &mut path) {
            path.push(unit.label.clone());
            return Some(path);
        }
    }
    None
}

pub(super) async fn insert_unit(
    conn: &mut Conn,
    activity: i64,
    unit: &UnitInput,
    sort: i32,
) -> AppResult<i64> {
    diesel::insert_into(activity_units::table)
        .values((
            activity_units::activity_id.eq(activity),
            activity_units::sort.eq(sort),
            unit,
        ))
        .returning(activity_units::id)
        .get_result(conn)
        .await
        .map_err(unique_or(format!(
            "l'activité a déjà une unité « {} »",
            unit.code
        )))
}

pub(super) type UnitRow = (
    i64,
    String,
    String,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    i32,
);

pub(super) async fn unit_rows(conn: &mut Conn, activity: i64) -> AppResult<Vec<UnitRow>> {
    Ok(activity_units::table
        .filter(activity_units::activity_id.eq(activity))
        .order((activity_units::sort, activity_units::id))
        .select((
            activity_units::id,
            activity_units::code,
            activity_units::label,
            activity_units::includes,
            activity_units::excludes,
            activity_units::requires,
            activity_units::sort,
        ))
        .load(conn)
        .await?)
}

pub(super) fn siblings_from(rows: &[UnitRow], except: Option<i64>) -> Vec<Sibling> {
    rows.iter()
        .filter(|r| Some(r.0) != except)
        .map(|r| Sibling {
            code: r.1.clone(),
            label: r.2.clone(),
            includes: r.3.clone(),
        })
        .collect()
}

pub async fn add_unit(conn: &mut Conn, activity: i64, unit: &UnitInput) -> AppResult<i64> {
    require_activity(conn, activity).await?;
    let rows = unit_rows(conn, activity).await?;
    let unit = check_unit(unit, &siblings_from(&rows, None)).map_err(AppError::invalid)?;
    let sort = rows.iter().map(|r| r.6 + 1).max().unwrap_or(0);
    insert_unit(conn, activity, &unit, sort).await
}

/// Changes a unit; its code stays (bookings, tariffs and typical weeks name it).
pub async fn update_unit(
    conn: &mut Conn,
    activity: i64,
    id: i64,
    unit: &UnitInput,
) -> AppResult<()> {
    require_activity(conn, activity).await?;
    let rows = unit_rows(conn, activity).await?;
    let current = rows
        .iter()
        .find(|r| r.0 == id)
        .ok_or_else(|| AppError::not_found("Unité introuvable."))?;
    if unit.code.trim() != current.1 {
        return Err(AppError::invalid(format!(
            "le code de l'unité « {} » ne change pas (réservations, tarifs et semaines types \
             le désignent) : créez plutôt une autre unité",
            current.2
        )));
    }
    let unit = check_unit(unit, &siblings_from(&rows, Some(id))).map_err(AppError::invalid)?;
    diesel::update(activity_units::table.find(id))
        .set(&unit)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(QueryableByName)]
pub(super) struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Enrolments of the activity whose typical week names unit `code`.
pub(super) async fn enrolments_wishing(
    conn: &mut Conn,
    activity: i64,
    code: &str,
) -> AppResult<i64> {
    let count: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM enrolments e WHERE e.activity_id = $1 AND EXISTS \
         (SELECT 1 FROM jsonb_each(e.wished_week) w \
          WHERE jsonb_typeof(w.value) = 'array' AND w.value ? $2)",
    )
    .bind::<diesel::sql_types::BigInt, _>(activity)
    .bind::<diesel::sql_types::Text, _>(code)
    .get_result(conn)
    .await?;
    Ok(count.n)
}

/// Removes a unit nothing uses yet (no booking, waiting child, enrolment or other unit).
pub async fn remove_unit(conn: &mut Conn, activity: i64, id: i64) -> AppResult<()> {
    require_activity(conn, activity).await?;
    let rows = unit_rows(conn, activity).await?;
    let (_, code, label, ..) = rows
        .iter()
        .find(|r| r.0 == id)
        .ok_or_else(|| AppError::not_found("Unité introuvable."))?
        .clone();
    if rows.len() == 1 {
        return Err(AppError::invalid(
            "une activité garde au moins une unité : ajoutez-en une autre avant de supprimer celle-ci",
        ));
    }
    if let Some(other) = rows
        .iter()
        .find(|r| r.0 != id && [&r.3, &r.4, &r.5].iter().any(|l| l.contains(&code)))
    {
        return Err(AppError::invalid(format!(
            "« {} » fait référence à « {label} » : modifiez d'abord « {} »",
            other.2, other.2
        )));
    }
    let booked: i64 = bookings::table
        .filter(bookings::unit_id.eq(id))
        .count()
        .get_result(conn)
        .await?;
    let waiting: i64 = waitlist::table
        .filter(waitlist::unit_id.eq(id))
        .count()
        .get_result(conn)
        .await?;
    if booked + waiting > 0 {
        return Err(AppError::invalid(format!(
            "« {label} » a déjà des réservations ou des demandes en liste d'attente : elle ne \
             peut plus être supprimée (rendez l'activité inactive ou fermez le calendrier)"
        )));
    }
    if enrolments_wishing(conn, activity, &code).await? > 0 {
        return Err(AppError::invalid(format!(
            "des inscriptions demandent « {label} » dans leur semaine type : elle ne peut pas \
             être supprimée"
        )));
    }
    diesel::delete(capacities::table.filter(capacities::unit_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(slot_counts::table.filter(slot_counts::unit_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(activity_units::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}
