//! What every page shares (title, face, city branding, navigation, CSRF token), merged
//! with the page's own data before rendering.

use actix_web::HttpResponse;
use serde::Serialize;

use crate::platform::error::{AppError, AppResult};
use crate::platform::templates::Templates;
use crate::platform::tenancy::{City, Theme};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FaceKind {
    Portal,
    Agent,
    Admin,
}

impl FaceKind {
    fn name(self) -> &'static str {
        match self {
            FaceKind::Portal => "portal",
            FaceKind::Agent => "agent",
            FaceKind::Admin => "admin",
        }
    }
    fn label(self) -> &'static str {
        match self {
            FaceKind::Portal => "Portail famille",
            FaceKind::Agent => "Espace agents",
            FaceKind::Admin => "Console SITIV",
        }
    }
    fn home(self) -> &'static str {
        match self {
            FaceKind::Portal => "/",
            FaceKind::Agent => "/agent/",
            FaceKind::Admin => "/admin/",
        }
    }
}

#[derive(Serialize)]
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Serialize)]
struct CityView<'a> {
    name: &'a str,
    slug: &'a str,
    recette: bool,
    theme: &'a Theme,
}

#[derive(Serialize)]
pub struct Layout<'a> {
    title: &'a str,
    face: &'static str,
    face_label: &'static str,
    home: &'static str,
    city: Option<CityView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    nav: Vec<NavLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flash: Option<&'a str>,
    /// Who is signed in, and the sign-out form's action.
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logout: Option<&'a str>,
    #[serde(skip)]
    slug: Option<&'a str>,
}

impl<'a> Layout<'a> {
    pub fn new(title: &'a str, face: FaceKind, city: Option<&'a City>) -> Layout<'a> {
        Layout {
            title,
            face: face.name(),
            face_label: face.label(),
            home: face.home(),
            city: city.map(|c| CityView {
                name: &c.name,
                slug: &c.slug,
                recette: c.is_recette(),
                theme: &c.theme,
            }),
            nav: Vec::new(),
            csrf: None,
            flash: None,
            user: None,
            logout: None,
            slug: city.map(|c| c.slug.as_str()),
        }
    }

    pub fn csrf(mut self, token: &'a str) -> Self {
        self.csrf = Some(token);
        self
    }

    pub fn flash(mut self, message: Option<&'a str>) -> Self {
        self.flash = message;
        self
    }

    pub fn user(mut self, label: &'a str, logout: &'a str) -> Self {
        self.user = Some(label);
        self.logout = Some(logout);
        self
    }

    pub fn nav(mut self, links: &[(&'static str, &'static str)], current: &str) -> Self {
        self.nav = links
            .iter()
            .map(|(href, label)| NavLink {
                href,
                label,
                current: *href == current,
            })
            .collect();
        self
    }
}

/// Renders `template` with the layout fields and the page's fields side by side.
pub fn render_page<T: Serialize>(
    templates: &Templates,
    layout: &Layout<'_>,
    template: &str,
    page: &T,
) -> AppResult<String> {
    let mut data = serde_json::to_value(layout).map_err(AppError::internal)?;
    let page = serde_json::to_value(page).map_err(AppError::internal)?;
    if let (Some(target), serde_json::Value::Object(fields)) = (data.as_object_mut(), page) {
        target.extend(fields);
    }
    templates.render(layout.slug, template, &data)
}

/// An HTML 200 response of a rendered page.
pub fn html<T: Serialize>(
    templates: &Templates,
    layout: &Layout<'_>,
    template: &str,
    page: &T,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(render_page(templates, layout, template, page)?))
}
