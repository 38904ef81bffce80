//! Registration periods and commission criteria.

use super::*;

pub struct NewPeriod {
    pub label: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub population: Population,
}

/// Checks a population's own fields; returns it with its lists without repeats.
pub fn check_population(population: &Population) -> Result<Population, String> {
    not_negative(population.min_age_months, "l'âge minimum")?;
    not_negative(population.max_age_months, "l'âge maximum")?;
    if let (Some(min), Some(max)) = (population.min_age_months, population.max_age_months)
        && max < min
    {
        return Err(format!(
            "l'âge maximum ({max} mois) est inférieur à l'âge minimum ({min} mois)"
        ));
    }
    if population.qf_max.is_some_and(|qf| qf < 0) {
        return Err("le plafond de quotient familial ne peut pas être négatif".into());
    }
    let mut school_ids = population.school_ids.clone();
    school_ids.sort_unstable();
    school_ids.dedup();
    Ok(Population {
        levels: check_codes(
            &population.levels,
            super::super::schools::LEVELS,
            "niveau scolaire",
        )?,
        school_ids,
        ..population.clone()
    })
}

pub(super) async fn require_schools(conn: &mut Conn, ids: &[i64]) -> AppResult<()> {
    let found: i64 = schools::table
        .filter(schools::id.eq_any(ids))
        .count()
        .get_result(conn)
        .await?;
    if found != ids.len() as i64 {
        return Err(AppError::invalid("une des écoles choisies n'existe pas"));
    }
    Ok(())
}

pub async fn add_period(conn: &mut Conn, activity: i64, new: &NewPeriod) -> AppResult<i64> {
    require_activity(conn, activity).await?;
    if new.closes_at <= new.opens_at {
        return Err(AppError::invalid(
            "la période d'inscription doit se fermer après s'être ouverte",
        ));
    }
    let population = check_population(&new.population).map_err(AppError::invalid)?;
    require_schools(conn, &population.school_ids).await?;
    Ok(diesel::insert_into(registration_periods::table)
        .values((
            registration_periods::activity_id.eq(activity),
            registration_periods::label.eq(new.label.trim()),
            registration_periods::opens_at.eq(new.opens_at),
            registration_periods::closes_at.eq(new.closes_at),
            registration_periods::population.eq(to_json(&population)?),
        ))
        .returning(registration_periods::id)
        .get_result(conn)
        .await?)
}

pub async fn remove_period(conn: &mut Conn, activity: i64, id: i64) -> AppResult<()> {
    let removed = diesel::delete(
        registration_periods::table
            .filter(registration_periods::id.eq(id))
            .filter(registration_periods::activity_id.eq(activity)),
    )
    .execute(conn)
    .await?;
    if removed == 0 {
        return Err(AppError::not_found("Période d'inscription introuvable."));
    }
    Ok(())
}

/// Checks a criterion; returns it with its parameter normalised.
pub fn check_criterion(criterion: &Criterion) -> Result<Criterion, String> {
    if !known(commission::KINDS, &criterion.kind) {
        return Err(format!("critère inconnu « {} »", criterion.kind));
    }
    if !(-1000..=1000).contains(&criterion.weight) {
        return Err(format!(
            "le poids d'un critère va de -1000 à 1000 (et non {})",
            criterion.weight
        ));
    }
    let parameter = criterion.parameter.trim().replace([' ', '€'], "");
    let parameter = match criterion.kind.as_str() {
        "qf_at_most" => match parameter.parse::<u32>() {
            Ok(qf) => qf.to_string(),
            Err(_) => {
                return Err(
                    "indiquez le seuil de quotient familial en euros (un nombre entier)".into(),
                );
            }
        },
        "school" => match parameter.parse::<i64>() {
            Ok(school) => school.to_string(),
            Err(_) => return Err("choisissez l'école du critère".into()),
        },
        _ => String::new(),
    };
    Ok(Criterion {
        parameter,
        ..criterion.clone()
    })
}

pub async fn add_criterion(
    conn: &mut Conn,
    activity: i64,
    criterion: &Criterion,
) -> AppResult<i64> {
    require_activity(conn, activity).await?;
    let criterion = check_criterion(criterion).map_err(AppError::invalid)?;
    if criterion.kind == "school"
        && let Ok(school) = criterion.parameter.parse::<i64>()
    {
        require_schools(conn, &[school]).await?;
    }
    diesel::insert_into(commission_criteria::table)
        .values((
            commission_criteria::activity_id.eq(activity),
            commission_criteria::kind.eq(&criterion.kind),
            commission_criteria::parameter.eq(&criterion.parameter),
            commission_criteria::weight.eq(criterion.weight),
        ))
        .returning(commission_criteria::id)
        .get_result(conn)
        .await
        .map_err(unique_or(
            "ce critère existe déjà : supprimez-le pour changer son poids".into(),
        ))
}

pub async fn remove_criterion(conn: &mut Conn, activity: i64, id: i64) -> AppResult<()> {
    let removed = diesel::delete(
        commission_criteria::table
            .filter(commission_criteria::id.eq(id))
            .filter(commission_criteria::activity_id.eq(activity)),
    )
    .execute(conn)
    .await?;
    if removed == 0 {
        return Err(AppError::not_found("Critère introuvable."));
    }
    Ok(())
}

/// The criteria of an activity, for scoring.
pub async fn criteria(conn: &mut Conn, activity: i64) -> AppResult<Vec<(i64, Criterion)>> {
    let rows: Vec<(i64, String, String, i32)> = commission_criteria::table
        .filter(commission_criteria::activity_id.eq(activity))
        .order(commission_criteria::id)
        .select((
            commission_criteria::id,
            commission_criteria::kind,
            commission_criteria::parameter,
            commission_criteria::weight,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, parameter, weight)| {
            (
                id,
                Criterion {
                    kind,
                    parameter,
                    weight,
                },
            )
        })
        .collect())
}
