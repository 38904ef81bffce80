//! Static files embedded in the binary (`/assets/...`), and each city's theme: its CSS
//! custom properties from the registry plus `themes/<slug>/theme.css` (`/theme.css`),
//! and its logo (`/logo`).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use rust_embed::RustEmbed;

use super::faces::CurrentCity;
use super::{Need, Routes, State};
use crate::platform::error::{AppError, AppResult};

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

#[derive(RustEmbed)]
#[folder = "themes/default/"]
struct DefaultTheme;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/assets/{path:.*}", Need::Public, asset)
        .get("/theme.css", Need::Public, theme_css)
        .get("/logo", Need::Public, logo);
}

const CACHE_ONE_HOUR: &str = "public, max-age=3600";

async fn asset(path: web::Path<String>) -> AppResult<HttpResponse> {
    let file = Assets::get(&path).ok_or_else(|| AppError::not_found("Fichier introuvable."))?;
    Ok(HttpResponse::Ok()
        .content_type(file.metadata.mimetype())
        .insert_header((header::CACHE_CONTROL, CACHE_ONE_HOUR))
        .body(file.data.into_owned()))
}

async fn theme_css(state: State, CurrentCity(city): CurrentCity) -> AppResult<HttpResponse> {
    let mut css = city.theme.css_variables();
    let extra = state.config.themes_dir.join(&city.slug).join("theme.css");
    if let Ok(own) = tokio::fs::read_to_string(&extra).await {
        css.push('\n');
        css.push_str(&own);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(css))
}

async fn logo(state: State, CurrentCity(city): CurrentCity) -> AppResult<HttpResponse> {
    let folder = state.config.themes_dir.join(&city.slug);
    for (name, mime) in [("logo.svg", "image/svg+xml"), ("logo.png", "image/png")] {
        if let Ok(bytes) = tokio::fs::read(folder.join(name)).await {
            return Ok(HttpResponse::Ok()
                .content_type(mime)
                .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
                .body(bytes));
        }
    }
    let file =
        DefaultTheme::get("logo.svg").ok_or_else(|| AppError::not_found("Logo introuvable."))?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, CACHE_ONE_HOUR))
        .body(file.data.into_owned()))
}
