//! Structures: sites that hold activities.

use super::*;

pub struct NewStructure {
    pub name: String,
    pub kind: String,
    pub address: String,
    pub daily_capacity: Option<i32>,
}

pub async fn create_structure(conn: &mut Conn, new: &NewStructure) -> AppResult<i64> {
    let name = required_text(&new.name, "le nom de la structure").map_err(AppError::invalid)?;
    if !known(STRUCTURE_KINDS, &new.kind) {
        return Err(AppError::invalid(format!(
            "type de structure inconnu « {} »",
            new.kind
        )));
    }
    not_negative(new.daily_capacity, "le nombre de places par jour").map_err(AppError::invalid)?;
    diesel::insert_into(structures::table)
        .values((
            structures::name.eq(&name),
            structures::kind.eq(&new.kind),
            structures::address.eq(new.address.trim()),
            structures::daily_capacity.eq(new.daily_capacity),
        ))
        .returning(structures::id)
        .get_result(conn)
        .await
        .map_err(unique_or(format!(
            "une structure s'appelle déjà « {name} »"
        )))
}

#[derive(Debug, Clone, Serialize)]
pub struct StructureView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub kind_label: String,
    pub address: String,
    pub daily_capacity: Option<i32>,
    pub active: bool,
    pub activities: i64,
}

/// Every structure, by name, with how many activities it holds.
pub async fn structures(conn: &mut Conn) -> AppResult<Vec<StructureView>> {
    let rows: Vec<(i64, String, String, String, Option<i32>, bool)> = structures::table
        .order(structures::name)
        .select((
            structures::id,
            structures::name,
            structures::kind,
            structures::address,
            structures::daily_capacity,
            structures::active,
        ))
        .load(conn)
        .await?;
    let counts: Vec<(Option<i64>, i64)> = activities::table
        .group_by(activities::structure_id)
        .select((activities::structure_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, kind, address, daily_capacity, active)| StructureView {
                kind_label: label_of(STRUCTURE_KINDS, &kind).to_string(),
                activities: counts
                    .iter()
                    .find(|(s, _)| *s == Some(id))
                    .map_or(0, |(_, n)| *n),
                id,
                name,
                kind,
                address,
                daily_capacity,
                active,
            },
        )
        .collect())
}
