//! Schools, classes and pupils (SCO-01): the minimal model mass enrolment and registration
//! populations select from. A child's class is its `school_history` row of the school year.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};

use super::catalogue::unique_or;
use super::schema::{school_classes, schools};
use crate::domain::family::schema::persons;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// `school_history` with the `class_id` the activities migration adds (the family schema
/// module predates it).
mod history {
    diesel::table! {
        school_history (id) {
            id -> BigInt,
            child_id -> BigInt,
            school_year -> Text,
            school_id -> Nullable<BigInt>,
            school_name -> Text,
            level -> Text,
            class_id -> Nullable<BigInt>,
            class_name -> Text,
            teacher -> Text,
        }
    }
}
use history::school_history;

/// Kinds of schools, with their French labels.
pub const KINDS: &[(&str, &str)] = &[
    ("maternelle", "École maternelle"),
    ("elementaire", "École élémentaire"),
    ("primaire", "École primaire"),
];

/// School levels, youngest first.
pub const LEVELS: &[(&str, &str)] = &[
    ("TPS", "Toute petite section"),
    ("PS", "Petite section"),
    ("MS", "Moyenne section"),
    ("GS", "Grande section"),
    ("CP", "Cours préparatoire"),
    ("CE1", "Cours élémentaire 1"),
    ("CE2", "Cours élémentaire 2"),
    ("CM1", "Cours moyen 1"),
    ("CM2", "Cours moyen 2"),
];

/// The levels a school of `kind` teaches.
pub fn levels_of(kind: &str) -> &'static [(&'static str, &'static str)] {
    match kind {
        "maternelle" => &LEVELS[..4],
        "elementaire" => &LEVELS[4..],
        _ => LEVELS,
    }
}

/// « 2026-2027 »: two consecutive years.
pub fn check_school_year(text: &str) -> Result<String, String> {
    let text = text.trim();
    let digits = |s: &str| s.len() == 4 && s.bytes().all(|c| c.is_ascii_digit());
    let years = text
        .split_once('-')
        .filter(|(a, b)| digits(a) && digits(b))
        .and_then(|(a, b)| Some((a.parse::<i32>().ok()?, b.parse::<i32>().ok()?)));
    match years {
        Some((first, second)) if second == first + 1 => Ok(text.to_string()),
        _ => Err(format!(
            "année scolaire « {text} » invalide : deux années qui se suivent, comme 2026-2027"
        )),
    }
}

fn kind_label(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, l)| l)
}

fn check_capacity(capacity: Option<i32>) -> AppResult<()> {
    if capacity.is_some_and(|c| c < 0) {
        return Err(AppError::invalid("la capacité ne peut pas être négative"));
    }
    Ok(())
}

pub struct NewSchool {
    pub name: String,
    /// maternelle, elementaire or primaire.
    pub kind: String,
    pub address: String,
    pub capacity: Option<i32>,
}

pub async fn create_school(conn: &mut Conn, new: &NewSchool) -> AppResult<i64> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("le nom de l'école est obligatoire"));
    }
    if !KINDS.iter().any(|(k, _)| *k == new.kind) {
        return Err(AppError::invalid(format!(
            "type d'école inconnu « {} » (maternelle, élémentaire ou primaire)",
            new.kind
        )));
    }
    check_capacity(new.capacity)?;
    diesel::insert_into(schools::table)
        .values((
            schools::name.eq(name),
            schools::kind.eq(&new.kind),
            schools::address.eq(new.address.trim()),
            schools::capacity.eq(new.capacity),
        ))
        .returning(schools::id)
        .get_result(conn)
        .await
        .map_err(unique_or(format!("une école s'appelle déjà « {name} »")))
}

/// A school as stored.
#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = schools)]
pub struct School {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub capacity: Option<i32>,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchoolView {
    #[serde(flatten)]
    pub school: School,
    pub kind_label: String,
    /// Classes and pupils of the school year asked for.
    pub classes: i64,
    pub pupils: i64,
}

fn school_view(school: School, classes: i64, pupils: i64) -> SchoolView {
    SchoolView {
        kind_label: kind_label(&school.kind).to_string(),
        school,
        classes,
        pupils,
    }
}

/// Every school, by name, with its classes and pupils of `school_year`.
pub async fn schools(conn: &mut Conn, school_year: &str) -> AppResult<Vec<SchoolView>> {
    let rows: Vec<School> = schools::table
        .order(schools::name)
        .select(School::as_select())
        .load(conn)
        .await?;
    let classes: Vec<(i64, i64)> = school_classes::table
        .filter(school_classes::school_year.eq(school_year))
        .group_by(school_classes::school_id)
        .select((school_classes::school_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    let pupils: Vec<(Option<i64>, i64)> = school_history::table
        .filter(school_history::school_year.eq(school_year))
        .filter(school_history::class_id.is_not_null())
        .group_by(school_history::school_id)
        .select((school_history::school_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id;
            let count = |list: &[(i64, i64)]| list.iter().find(|r| r.0 == id).map_or(0, |r| r.1);
            let pupils = pupils.iter().find(|r| r.0 == Some(id)).map_or(0, |r| r.1);
            school_view(row, count(&classes), pupils)
        })
        .collect())
}

/// School `id` (404 if it is not one of this city's).
pub async fn school(conn: &mut Conn, id: i64) -> AppResult<SchoolView> {
    let row: School = schools::table
        .find(id)
        .select(School::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("École introuvable."))?;
    Ok(school_view(row, 0, 0))
}

pub struct NewClass {
    pub school_id: i64,
    /// « 2026-2027 ».
    pub school_year: String,
    pub name: String,
    pub levels: Vec<String>,
    pub teacher: String,
    pub capacity: Option<i32>,
}

/// What a class says about its pupils' pricing (TAR-01): each option set gives its pupils, for
/// the class's school year, the tariff option the city's assignment and tariff rules test
/// (derived in `domain::tariffs::assignment::child_options`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassOptions {
    /// Classe ULIS (unité localisée pour l'inclusion scolaire): option `ulis`.
    pub ulis: bool,
}

impl ClassOptions {
    /// « classe ULIS », or empty without options.
    pub fn label_fr(&self) -> String {
        if self.ulis {
            "classe ULIS".to_string()
        } else {
            String::new()
        }
    }
}

/// The class's name and levels checked against its school (levels it teaches, at least
/// one, no repeat), and its capacity.
fn checked_class(
    school: &SchoolView,
    name: &str,
    levels: &[String],
    capacity: Option<i32>,
) -> AppResult<(String, Vec<String>)> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("le nom de la classe est obligatoire"));
    }
    let taught = levels_of(&school.school.kind);
    let mut chosen: Vec<String> = Vec::new();
    for level in levels.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        if !taught.iter().any(|(code, _)| *code == level) {
            return Err(AppError::invalid(format!(
                "le niveau « {level} » n'est pas enseigné dans une {} (niveaux : {})",
                school.kind_label.to_lowercase(),
                taught
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if !chosen.iter().any(|l| l == level) {
            chosen.push(level.to_string());
        }
    }
    if chosen.is_empty() {
        return Err(AppError::invalid(
            "choisissez au moins un niveau pour la classe",
        ));
    }
    check_capacity(capacity)?;
    Ok((name.to_string(), chosen))
}

pub async fn create_class(conn: &mut Conn, new: &NewClass) -> AppResult<i64> {
    create_class_with(conn, new, ClassOptions::default()).await
}

/// A class with its options (a ULIS class...).
pub async fn create_class_with(
    conn: &mut Conn,
    new: &NewClass,
    options: ClassOptions,
) -> AppResult<i64> {
    let school = school(conn, new.school_id).await?;
    let year = check_school_year(&new.school_year).map_err(AppError::invalid)?;
    let (name, levels) = checked_class(&school, &new.name, &new.levels, new.capacity)?;
    diesel::insert_into(school_classes::table)
        .values((
            school_classes::school_id.eq(school.school.id),
            school_classes::school_year.eq(&year),
            school_classes::name.eq(&name),
            school_classes::levels.eq(&levels),
            school_classes::teacher.eq(new.teacher.trim()),
            school_classes::capacity.eq(new.capacity),
            school_classes::ulis.eq(options.ulis),
        ))
        .returning(school_classes::id)
        .get_result(conn)
        .await
        .map_err(unique_or(format!(
            "l'école a déjà une classe « {name} » en {year}"
        )))
}

/// What an agent changes on a class (its school and school year stay).
pub struct ClassEdit {
    pub name: String,
    pub levels: Vec<String>,
    pub teacher: String,
    pub capacity: Option<i32>,
    pub options: ClassOptions,
}

/// Changes class `id` (404 if it is not this city's). Its pupils keep their level, so a
/// level some of them have stays, and the capacity holds them all; their school history
/// follows the new name and teacher.
pub async fn update_class(conn: &mut Conn, id: i64, edit: &ClassEdit) -> AppResult<()> {
    let (school_id, year, ..) = class_of(conn, id).await?;
    let school = school(conn, school_id).await?;
    let (name, levels) = checked_class(&school, &edit.name, &edit.levels, edit.capacity)?;
    let placed: Vec<String> = school_history::table
        .filter(school_history::class_id.eq(id))
        .select(school_history::level)
        .load(conn)
        .await?;
    let mut dropped: Vec<&str> = placed
        .iter()
        .map(String::as_str)
        .filter(|level| !levels.iter().any(|l| l == level))
        .collect();
    dropped.sort_unstable();
    dropped.dedup();
    if !dropped.is_empty() {
        return Err(AppError::invalid(format!(
            "des élèves de la classe sont en {} : gardez ce niveau ou changez-les d'abord de \
             classe",
            dropped.join(", ")
        )));
    }
    if let Some(capacity) = edit.capacity
        && placed.len() > usize::try_from(capacity).unwrap_or(0)
    {
        return Err(AppError::invalid(format!(
            "la classe compte {} élèves : sa capacité ne peut pas être inférieure",
            placed.len()
        )));
    }
    let teacher = edit.teacher.trim();
    diesel::update(school_classes::table.find(id))
        .set((
            school_classes::name.eq(&name),
            school_classes::levels.eq(&levels),
            school_classes::teacher.eq(teacher),
            school_classes::capacity.eq(edit.capacity),
            school_classes::ulis.eq(edit.options.ulis),
        ))
        .execute(conn)
        .await
        .map_err(unique_or(format!(
            "l'école a déjà une classe « {name} » en {year}"
        )))?;
    diesel::update(school_history::table.filter(school_history::class_id.eq(id)))
        .set((
            school_history::class_name.eq(&name),
            school_history::teacher.eq(teacher),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct PupilView {
    pub child_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: Option<NaiveDate>,
    pub level: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassView {
    pub id: i64,
    pub name: String,
    pub levels: Vec<String>,
    pub teacher: String,
    pub capacity: Option<i32>,
    pub options: ClassOptions,
    /// « classe ULIS », or empty.
    pub options_label: String,
    pub pupils: Vec<PupilView>,
    pub full: bool,
}

/// (id, name, levels, teacher, capacity, ulis).
type ClassLine = (i64, String, Vec<String>, String, Option<i32>, bool);

/// The classes of `school` in `school_year` with their pupils, by name.
pub async fn classes(conn: &mut Conn, school: i64, school_year: &str) -> AppResult<Vec<ClassView>> {
    let rows: Vec<ClassLine> = school_classes::table
        .filter(school_classes::school_id.eq(school))
        .filter(school_classes::school_year.eq(school_year))
        .order((school_classes::name, school_classes::id))
        .select((
            school_classes::id,
            school_classes::name,
            school_classes::levels,
            school_classes::teacher,
            school_classes::capacity,
            school_classes::ulis,
        ))
        .load(conn)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let placed: Vec<(Option<i64>, i64, String)> = school_history::table
        .filter(school_history::class_id.eq_any(&ids))
        .select((
            school_history::class_id,
            school_history::child_id,
            school_history::level,
        ))
        .load(conn)
        .await?;
    let children: Vec<i64> = placed.iter().map(|p| p.1).collect();
    let names: Vec<(i64, String, String, Option<NaiveDate>)> = persons::table
        .filter(persons::id.eq_any(&children))
        .select((
            persons::id,
            persons::first_name,
            persons::last_name,
            persons::birth_date,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, levels, teacher, capacity, ulis)| {
            let mut pupils: Vec<PupilView> = placed
                .iter()
                .filter(|p| p.0 == Some(id))
                .filter_map(|(_, child, level)| {
                    let (_, first, last, birth) = names.iter().find(|n| n.0 == *child)?;
                    Some(PupilView {
                        child_id: *child,
                        first_name: first.clone(),
                        last_name: last.clone(),
                        birth_date: *birth,
                        level: level.clone(),
                    })
                })
                .collect();
            pupils.sort_by(|a, b| {
                (&a.last_name, &a.first_name, a.child_id).cmp(&(
                    &b.last_name,
                    &b.first_name,
                    b.child_id,
                ))
            });
            let options = ClassOptions { ulis };
            ClassView {
                full: capacity.is_some_and(|c| pupils.len() >= c as usize),
                options_label: options.label_fr(),
                options,
                id,
                name,
                levels,
                teacher,
                capacity,
                pupils,
            }
        })
        .collect())
}

/// (school, school_year, name, levels, teacher, capacity).
type ClassRow = (i64, String, String, Vec<String>, String, Option<i32>);

/// Class `id` (404 otherwise).
async fn class_of(conn: &mut Conn, id: i64) -> AppResult<ClassRow> {
    school_classes::table
        .find(id)
        .select((
            school_classes::school_id,
            school_classes::school_year,
            school_classes::name,
            school_classes::levels,
            school_classes::teacher,
            school_classes::capacity,
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Classe introuvable."))
}

/// The school and the school year of a class (404 if the class is not this city's).
pub async fn class_school(conn: &mut Conn, class_id: i64) -> AppResult<(i64, String)> {
    let (school, year, ..) = class_of(conn, class_id).await?;
    Ok((school, year))
}

/// « Léo MARTIN », the child numbered `child` (persons.id), or a French refusal.
pub async fn child_name(conn: &mut Conn, child: i64) -> AppResult<String> {
    let found: Option<(String, String)> = persons::table
        .filter(persons::id.eq(child))
        .filter(persons::kind.eq("child"))
        .select((persons::first_name, persons::last_name))
        .first(conn)
        .await
        .optional()?;
    found
        .map(|(first, last)| format!("{first} {last}"))
        .ok_or_else(|| AppError::invalid(format!("aucun enfant ne porte le numéro {child}")))
}

/// Places a child in a class for its school year: a school_history row (school_id,
/// school_name, level, class_id, class_name, teacher); replaces the child's row of that year.
pub async fn place_pupil(conn: &mut Conn, child: i64, class_id: i64, level: &str) -> AppResult<()> {
    let (school_id, year, class_name, levels, teacher, capacity) = class_of(conn, class_id).await?;
    let name = child_name(conn, child).await?;
    let level = level.trim();
    if !levels.iter().any(|l| l == level) {
        return Err(AppError::invalid(format!(
            "la classe « {class_name} » accueille les niveaux {} : « {level} » n'en est pas",
            levels.join(", ")
        )));
    }
    let others: i64 = school_history::table
        .filter(school_history::class_id.eq(class_id))
        .filter(school_history::child_id.ne(child))
        .count()
        .get_result(conn)
        .await?;
    if capacity.is_some_and(|c| others >= i64::from(c)) {
        return Err(AppError::invalid(format!(
            "la classe « {class_name} » est complète ({} élèves) : {name} ne peut pas y être placé(e)",
            capacity.unwrap_or_default()
        )));
    }
    let school_name: String = schools::table
        .find(school_id)
        .select(schools::name)
        .first(conn)
        .await?;
    diesel::delete(
        school_history::table
            .filter(school_history::child_id.eq(child))
            .filter(school_history::school_year.eq(&year)),
    )
    .execute(conn)
    .await?;
    diesel::insert_into(school_history::table)
        .values((
            school_history::child_id.eq(child),
            school_history::school_year.eq(&year),
            school_history::school_id.eq(school_id),
            school_history::school_name.eq(&school_name),
            school_history::level.eq(level),
            school_history::class_id.eq(class_id),
            school_history::class_name.eq(&class_name),
            school_history::teacher.eq(&teacher),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes a child out of a class (its school year's row goes).
pub async fn remove_pupil(conn: &mut Conn, child: i64, class_id: i64) -> AppResult<()> {
    let removed = diesel::delete(
        school_history::table
            .filter(school_history::child_id.eq(child))
            .filter(school_history::class_id.eq(class_id)),
    )
    .execute(conn)
    .await?;
    if removed == 0 {
        return Err(AppError::not_found(
            "Cet enfant n'est pas dans cette classe.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_school_year_switches_in_september() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            crate::domain::activity::facts::school_year(day("2026-08-31")),
            "2025-2026"
        );
        assert_eq!(
            crate::domain::activity::facts::school_year(day("2026-09-01")),
            "2026-2027"
        );
        assert_eq!(
            crate::domain::activity::facts::school_year(day("2027-01-15")),
            "2026-2027"
        );
    }

    #[test]
    fn school_years_are_two_consecutive_years() {
        assert_eq!(check_school_year(" 2026-2027 ").unwrap(), "2026-2027");
        assert!(check_school_year("2026-2028").is_err());
        assert!(check_school_year("26-27").is_err());
        assert!(check_school_year("2026").is_err());
    }

    #[test]
    fn schools_teach_their_levels() {
        assert_eq!(
            levels_of("maternelle")
                .iter()
                .map(|l| l.0)
                .collect::<Vec<_>>(),
            ["TPS", "PS", "MS", "GS"]
        );
        assert_eq!(levels_of("elementaire")[0].0, "CP");
        assert_eq!(levels_of("primaire").len(), 9);
    }
}
