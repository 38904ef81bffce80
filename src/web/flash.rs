//! One-shot messages across a redirect ("La ville est créée."), in a short-lived cookie.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const COOKIE: &str = "marelle_flash";

/// 303 to `location`, carrying `message` for the next page.
pub fn redirect(location: &str, message: &str) -> HttpResponse {
    let cookie = Cookie::build(COOKIE, URL_SAFE_NO_PAD.encode(message))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(Duration::seconds(60))
        .finish();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .cookie(cookie)
        .finish()
}

/// The pending message, if any; call [`clear`] on the response that shows it.
pub fn take(req: &HttpRequest) -> Option<String> {
    let cookie = req.cookie(COOKIE)?;
    let bytes = URL_SAFE_NO_PAD.decode(cookie.value()).ok()?;
    String::from_utf8(bytes).ok()
}

pub fn clear(response: &mut HttpResponse) {
    let mut removal = Cookie::new(COOKIE, "");
    removal.set_path("/");
    removal.make_removal();
    let _ = response.add_cookie(&removal);
}
