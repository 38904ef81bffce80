//! Activities: creation from a template, general fields.

use super::*;

pub struct NewActivity {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub structure_id: Option<i64>,
    pub description: String,
}

/// `^[a-z0-9][a-z0-9_-]{0,39}$`, the tariff grid key.
pub(super) fn check_activity_code(code: &str) -> Result<String, String> {
    let code = code.trim().to_lowercase();
    let ok = code.len() <= 40
        && code.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || (i > 0 && (b == b'_' || b == b'-'))
        })
        && !code.is_empty();
    if ok {
        Ok(code)
    } else {
        Err(format!(
            "le code « {code} » ne convient pas : de 1 à 40 lettres minuscules sans accent, \
             chiffres, « - » ou « _ », commençant par une lettre ou un chiffre"
        ))
    }
}

pub(super) async fn require_structure(conn: &mut Conn, structure: Option<i64>) -> AppResult<()> {
    if let Some(id) = structure {
        let found: i64 = structures::table.find(id).count().get_result(conn).await?;
        if found == 0 {
            return Err(AppError::invalid(format!("aucune structure n° {id}")));
        }
    }
    Ok(())
}

/// Creates the activity with its kind's template (units, groups, opening calendar, notice
/// delays, requires_enrolment, meal_choice), all editable afterwards.
pub async fn create_activity(conn: &mut Conn, new: &NewActivity) -> AppResult<i64> {
    let code = check_activity_code(&new.code).map_err(AppError::invalid)?;
    let name = required_text(&new.name, "le nom de l'activité").map_err(AppError::invalid)?;
    if !known(model::KINDS, &new.kind) {
        return Err(AppError::invalid(format!(
            "type d'activité inconnu « {} »",
            new.kind
        )));
    }
    require_structure(conn, new.structure_id).await?;
    let template = template(&new.kind);
    let id: i64 = diesel::insert_into(activities::table)
        .values((
            activities::code.eq(&code),
            activities::name.eq(&name),
            activities::kind.eq(&new.kind),
            activities::structure_id.eq(new.structure_id),
            activities::description.eq(new.description.trim()),
            activities::opening.eq(to_json(&template.opening)?),
            activities::booking_notice.eq(template
                .booking_notice
                .as_ref()
                .map(to_json)
                .transpose()?),
            activities::cancel_notice.eq(template
                .cancel_notice
                .as_ref()
                .map(to_json)
                .transpose()?),
            activities::when_full.eq(template.when_full),
            activities::requires_enrolment.eq(template.requires_enrolment),
            activities::meal_choice.eq(template.meal_choice),
        ))
        .returning(activities::id)
        .get_result(conn)
        .await
        .map_err(unique_or(format!("une activité a déjà le code « {code} »")))?;
    for (sort, unit) in (0..).zip(&template.units) {
        let unit = check_unit(unit, &siblings_of(&template.units, &unit.code))
            .map_err(AppError::invalid)?;
        insert_unit(conn, id, &unit, sort).await?;
    }
    for (sort, group) in (0..).zip(&template.groups) {
        insert_group(
            conn,
            id,
            &check_group(group).map_err(AppError::invalid)?,
            sort,
        )
        .await?;
    }
    Ok(id)
}

/// A value for a jsonb column.
pub(super) fn to_json<T: Serialize>(value: &T) -> AppResult<serde_json::Value> {
    serde_json::to_value(value).map_err(AppError::internal)
}

/// The structure of activity `id` (for permissions), or 404.
pub async fn structure_of(conn: &mut Conn, id: i64) -> AppResult<Option<i64>> {
    activities::table
        .find(id)
        .select(activities::structure_id)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Activité introuvable."))
}

pub(super) async fn require_activity(conn: &mut Conn, id: i64) -> AppResult<()> {
    structure_of(conn, id).await.map(|_| ())
}

/// The general fields of an activity, as edited.
#[derive(Debug, Clone, Default, Serialize, Queryable, AsChangeset)]
#[diesel(table_name = activities, treat_none_as_null = true)]
pub struct ActivityPatch {
    pub name: String,
    pub description: String,
    pub structure_id: Option<i64>,
    pub when_full: String,
    /// `None`: the city's setting.
    pub late_absence: Option<String>,
    pub requires_enrolment: bool,
    pub required_documents: Vec<String>,
    pub required_facts: Vec<String>,
    pub meal_choice: bool,
    pub offer_hours: i32,
    pub active: bool,
}

pub(super) fn check_codes(
    codes: &[String],
    list: &[(&str, &str)],
    what: &str,
) -> Result<Vec<String>, String> {
    let mut kept = Vec::new();
    for code in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        if !known(list, code) {
            return Err(format!("{what} inconnu(e) « {code} »"));
        }
        if !kept.iter().any(|k| k == code) {
            kept.push(code.to_string());
        }
    }
    Ok(kept)
}

pub(super) fn check_patch(patch: &ActivityPatch) -> Result<ActivityPatch, String> {
    if !known(WHEN_FULL, &patch.when_full) {
        return Err(format!(
            "choix inconnu « {} » pour une unité complète",
            patch.when_full
        ));
    }
    if let Some(late) = &patch.late_absence
        && !known(LATE_ABSENCES, late)
    {
        return Err(format!(
            "choix inconnu « {late} » pour une annulation tardive"
        ));
    }
    if !(1..=720).contains(&patch.offer_hours) {
        return Err(format!(
            "le délai de réponse à une place proposée doit être de 1 à 720 heures (et non {})",
            patch.offer_hours
        ));
    }
    Ok(ActivityPatch {
        name: required_text(&patch.name, "le nom de l'activité")?,
        description: patch.description.trim().to_string(),
        required_documents: check_codes(
            &patch.required_documents,
            documents::KINDS,
            "pièce justificative",
        )?,
        required_facts: check_codes(&patch.required_facts, FACTS, "élément du dossier")?,
        ..patch.clone()
    })
}

pub async fn update_activity(conn: &mut Conn, id: i64, patch: &ActivityPatch) -> AppResult<()> {
    require_activity(conn, id).await?;
    let patch = check_patch(patch).map_err(AppError::invalid)?;
    require_structure(conn, patch.structure_id).await?;
    diesel::update(activities::table.find(id))
        .set(&patch)
        .execute(conn)
        .await?;
    Ok(())
}
