//! Schools in the back-office: the list and creation of schools, and one page per school
//! with its classes of a school year (created and changed there, with their tariff options:
//! « Classe ULIS »), their pupils, and the placing of a child in a class.
//!
//! Permissions: the route needs `schools` somewhere in the city; the handler narrows it to
//! the school (`school:<id>`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::activities::{Desk, needed, number, options, pending, refusal, shown};
use crate::domain::activity::schools::{
    self as model, ClassEdit, ClassOptions, KINDS, NewClass, NewSchool, check_school_year,
    levels_of,
};
use crate::platform::auth::authz::{Action, CITY};
use crate::platform::clock;
use crate::platform::db::{Conn, Work};
use crate::platform::error::{AppError, AppResult};
use crate::web::flash;
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Routes};

pub fn routes(routes: &mut Routes) {
    let read = Need::Agent("schools", Action::Read);
    let write = Need::Agent("schools", Action::Write);
    routes
        .get("/agent/ecoles", read, list_page)
        .post("/agent/ecoles", write, create)
        .get("/agent/ecoles/{id}", read, school_page)
        .post("/agent/ecoles/{id}/classes", write, create_class)
        .post("/agent/ecoles/{id}/classes/{class}", write, update_class)
        .post(
            "/agent/ecoles/{id}/classes/{class}/eleves",
            write,
            place_pupil,
        )
        .post(
            "/agent/ecoles/{id}/classes/{class}/eleves/{child}/retirer",
            write,
            remove_pupil,
        );
}

fn population(school: i64) -> Vec<String> {
    vec![format!("school:{school}")]
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct SchoolForm {
    name: String,
    kind: String,
    address: String,
    capacity: String,
}

async fn list_page(desk: Desk, req: HttpRequest) -> AppResult<HttpResponse> {
    let message = pending(&req);
    let response = render_list(&desk, message.as_deref(), None).await?;
    Ok(shown(response, &message))
}

async fn render_list(
    desk: &Desk,
    message: Option<&str>,
    refused: Option<(String, &SchoolForm)>,
) -> AppResult<HttpResponse> {
    let year = crate::domain::activity::facts::school_year(clock::today());
    let wanted = year.clone();
    let all = desk
        .run(move |conn| Box::pin(async move { model::schools(conn, &wanted).await }))
        .await?;
    let mut visible = Vec::new();
    for school in all {
        if desk
            .may_in("schools", &population(school.school.id), Action::Read)
            .await?
        {
            visible.push(school);
        }
    }
    let can_create = desk
        .may_in("schools", &[CITY.to_string()], Action::Write)
        .await?;
    let layout = desk.layout("Écoles", "/agent/ecoles").await?.flash(message);
    let form = refused.as_ref().map(|r| r.1.clone()).unwrap_or_default();
    desk.page(
        &layout,
        "backoffice/schools",
        &json!({
            "schools": visible,
            "year": year,
            "can_create": can_create,
            "error": refused.as_ref().map(|r| &r.0),
            "kinds": options(KINDS.iter().copied(), std::slice::from_ref(&form.kind)),
            "form": form,
        }),
        refused.is_some(),
    )
}

async fn create(desk: Desk, CsrfForm(form): CsrfForm<SchoolForm>) -> AppResult<HttpResponse> {
    desk.require_in("schools", &[CITY.to_string()], Action::Write)
        .await?;
    let input = form.clone();
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                let new = NewSchool {
                    capacity: number(&input.capacity, "la capacité")?,
                    name: input.name,
                    kind: input.kind,
                    address: input.address,
                };
                model::create_school(conn, &new).await
            })
        })
        .await;
    match outcome {
        Ok(id) => Ok(flash::redirect(
            &format!("/agent/ecoles/{id}"),
            &format!("L'école « {} » est créée.", form.name.trim()),
        )),
        Err(error) => match refusal(&error) {
            Some(message) => render_list(&desk, None, Some((message, &form))).await,
            None => Err(error),
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct YearQuery {
    annee: String,
}

/// The school year asked for, else the current one.
fn year_of(query: &YearQuery) -> AppResult<String> {
    if query.annee.trim().is_empty() {
        return Ok(crate::domain::activity::facts::school_year(clock::today()));
    }
    check_school_year(&query.annee).map_err(AppError::invalid)
}

/// « 2025-2026 » from « 2026-2027 » and `-1`.
fn shifted(year: &str, by: i32) -> String {
    let first: i32 = year.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2000) + by;
    format!("{first}-{}", first + 1)
}

/// A refused form of the school page: its key, why, what was typed.
struct Refused {
    key: String,
    message: String,
    input: serde_json::Value,
}

async fn school_page(
    desk: Desk,
    id: web::Path<i64>,
    query: web::Query<YearQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let year = year_of(&query)?;
    allowed(&desk, id, Action::Read).await?;
    let message = pending(&req);
    let response = render_school(&desk, id, &year, message.as_deref(), None).await?;
    Ok(shown(response, &message))
}

/// 404 unless the school is this city's, 403 unless the caller may `action` on it.
async fn allowed(desk: &Desk, id: i64, action: Action) -> AppResult<()> {
    desk.run(move |conn| Box::pin(async move { model::school(conn, id).await.map(|_| ()) }))
        .await?;
    desk.require_in("schools", &population(id), action).await
}

async fn render_school(
    desk: &Desk,
    id: i64,
    year: &str,
    message: Option<&str>,
    refused: Option<Refused>,
) -> AppResult<HttpResponse> {
    let wanted = year.to_string();
    let (school, classes) = desk
        .run(move |conn| {
            Box::pin(async move {
                let school = model::school(conn, id).await?;
                let classes = model::classes(conn, id, &wanted).await?;
                Ok((school, classes))
            })
        })
        .await?;
    let write = desk
        .may_in("schools", &population(id), Action::Write)
        .await?;
    let input_of = |key: &str| {
        refused
            .as_ref()
            .filter(|r| r.key == key)
            .map(|r| r.input.clone())
    };
    let new_class: ClassForm = input_of("class_new")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let taught = levels_of(&school.school.kind);
    let classes: Vec<serde_json::Value> = classes
        .iter()
        .map(|class| {
            let key = format!("pupil-{}", class.id);
            let form: PupilForm = input_of(&key)
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            // The class as stored, or what was typed when the change was refused.
            let edit_key = format!("class-{}", class.id);
            let edit: ClassForm = input_of(&edit_key)
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_else(|| ClassForm::of(class));
            json!({
                "class": class,
                "count": class.pupils.len(),
                "levels": options(class.levels.iter().map(|l| (l.as_str(), l.as_str())), std::slice::from_ref(&form.level)),
                "form": form,
                "error": refused.as_ref().filter(|r| r.key == key).map(|r| &r.message),
                "edit": {
                    "levels": options(taught.iter().copied(), &edit.levels),
                    "ulis": edit.ulis.is_some(),
                    "form": edit,
                    "error": refused.as_ref().filter(|r| r.key == edit_key).map(|r| &r.message),
                },
            })
        })
        .collect();
    let title = format!("{} — {year}", school.school.name);
    let layout = desk.layout(&title, "/agent/ecoles").await?.flash(message);
    desk.page(
        &layout,
        "backoffice/school",
        &json!({
            "school": school,
            "year": year,
            "previous": shifted(year, -1),
            "next": shifted(year, 1),
            "classes": classes,
            "write": write,
            "class_error": refused.as_ref().filter(|r| r.key == "class_new").map(|r| &r.message),
            "new_class": {
                "levels": options(taught.iter().copied(), &new_class.levels),
                "ulis": new_class.ulis.is_some(),
                "form": new_class,
            },
        }),
        refused.is_some(),
    )
}

/// Runs a change on school `id` in `year`; bad input brings the page back with the French
/// error by the form and what was typed, otherwise a redirect with the message `work` gives.
async fn change<F>(
    desk: Desk,
    id: i64,
    year: &str,
    (key, input): (String, serde_json::Value),
    work: F,
) -> AppResult<HttpResponse>
where
    F: for<'c> FnOnce(&'c mut Conn) -> Work<'c, String> + Send,
{
    allowed(&desk, id, Action::Write).await?;
    match desk.run(work).await {
        Ok(done) => Ok(flash::redirect(
            &format!("/agent/ecoles/{id}?annee={year}"),
            &done,
        )),
        Err(error) => match refusal(&error) {
            Some(message) => {
                let refused = Refused {
                    key,
                    message,
                    input,
                };
                render_school(&desk, id, year, None, Some(refused)).await
            }
            None => Err(error),
        },
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct ClassForm {
    school_year: String,
    name: String,
    levels: Vec<String>,
    teacher: String,
    capacity: String,
    /// The « Classe ULIS » checkbox: `1` when ticked, absent otherwise.
    ulis: Option<String>,
}

impl ClassForm {
    /// The edit form of a stored class.
    fn of(class: &model::ClassView) -> Self {
        ClassForm {
            school_year: String::new(),
            name: class.name.clone(),
            levels: class.levels.clone(),
            teacher: class.teacher.clone(),
            capacity: class.capacity.map(|c| c.to_string()).unwrap_or_default(),
            ulis: class.options.ulis.then(|| "1".to_string()),
        }
    }

    /// The class's options; a checkbox value other than the form's is refused.
    fn options(&self) -> AppResult<ClassOptions> {
        let ulis = match self.ulis.as_deref().map(str::trim) {
            None | Some("") => false,
            Some("1" | "on") => true,
            Some(other) => {
                return Err(AppError::invalid(format!(
                    "valeur « {other} » inattendue pour la case « Classe ULIS »"
                )));
            }
        };
        Ok(ClassOptions { ulis })
    }
}

/// « (classe ULIS) » after a class's name in a message, when it has that option.
fn noted(options: ClassOptions) -> String {
    match options.label_fr() {
        label if label.is_empty() => String::new(),
        label => format!(" ({label})"),
    }
}

async fn create_class(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<ClassForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let year = check_school_year(&form.school_year).map_err(AppError::invalid)?;
    let input = ("class_new".to_string(), json!(form));
    change(desk, id, &year, input, move |conn| {
        Box::pin(async move {
            let options = form.options()?;
            let new = NewClass {
                school_id: id,
                capacity: number(&form.capacity, "la capacité")?,
                school_year: form.school_year,
                name: form.name,
                levels: form.levels,
                teacher: form.teacher,
            };
            model::create_class_with(conn, &new, options).await?;
            Ok(format!(
                "La classe « {} » est créée{}.",
                new.name.trim(),
                noted(options)
            ))
        })
    })
    .await
}

async fn update_class(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<ClassForm>,
) -> AppResult<HttpResponse> {
    let (id, class) = path.into_inner();
    let year = class_year(&desk, id, class).await?;
    let input = (format!("class-{class}"), json!(form));
    change(desk, id, &year, input, move |conn| {
        Box::pin(async move {
            let edit = ClassEdit {
                options: form.options()?,
                capacity: number(&form.capacity, "la capacité")?,
                name: form.name,
                levels: form.levels,
                teacher: form.teacher,
            };
            model::update_class(conn, class, &edit).await?;
            Ok(format!(
                "La classe « {} » est modifiée{}.",
                edit.name.trim(),
                noted(edit.options)
            ))
        })
    })
    .await
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct PupilForm {
    child_id: String,
    level: String,
}

/// The school year of class `class` if it belongs to school `id` (404 otherwise).
async fn class_year(desk: &Desk, id: i64, class: i64) -> AppResult<String> {
    desk.run(move |conn| {
        Box::pin(async move {
            let (school, year) = model::class_school(conn, class).await?;
            if school != id {
                return Err(AppError::not_found("Classe introuvable."));
            }
            Ok(year)
        })
    })
    .await
}

async fn place_pupil(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<PupilForm>,
) -> AppResult<HttpResponse> {
    let (id, class) = path.into_inner();
    let year = class_year(&desk, id, class).await?;
    let input = (format!("pupil-{class}"), json!(form));
    change(desk, id, &year, input, move |conn| {
        Box::pin(async move {
            let what = "le numéro de l'enfant";
            let child: i64 = needed(number(&form.child_id, what)?, what)?;
            model::place_pupil(conn, child, class, &form.level).await?;
            let name = model::child_name(conn, child).await?;
            Ok(format!(
                "{name} (enfant n° {child}) est placé(e) dans la classe, en {}.",
                form.level.trim()
            ))
        })
    })
    .await
}

#[derive(Deserialize, Serialize, Default)]
struct Empty {}

async fn remove_pupil(
    desk: Desk,
    path: web::Path<(i64, i64, i64)>,
    CsrfForm(form): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, class, child) = path.into_inner();
    let year = class_year(&desk, id, class).await?;
    let input = (format!("pupil-{class}"), json!(form));
    change(desk, id, &year, input, move |conn| {
        Box::pin(async move {
            let name = model::child_name(conn, child).await?;
            model::remove_pupil(conn, child, class).await?;
            Ok(format!("{name} est retiré(e) de la classe."))
        })
    })
    .await
}
