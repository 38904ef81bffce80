//! Pages as a browser without JavaScript sees them: GET a page's text, POST a form with
//! the client's CSRF token, read the id a redirect names.

use marelle::platform::tenancy::City;

use super::TestApp;

/// The page's text with handlebars' escapes undone, for assertions on French messages.
pub fn text(html: &str) -> String {
    html.replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub async fn get(
    app: &TestApp,
    client: &reqwest::Client,
    city: &City,
    path: &str,
) -> (u16, String) {
    let response = client.get(app.city_url(city, path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, text(&response.text().await.unwrap()))
}

/// Posts a form (with the client's CSRF token) on `city`; returns the status, the
/// `Location` header and the page's text.
pub async fn post_in(
    app: &TestApp,
    client: &reqwest::Client,
    city: &City,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let csrf = app.csrf(client, city).await;
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    let response = client
        .post(app.city_url(city, path))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, text(&response.text().await.unwrap()))
}

pub async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    post_in(app, client, &app.city, path, fields).await
}

/// The id at the end of a redirect (`/agent/activites/12#unites` → 12).
pub fn id_in(location: &str) -> i64 {
    location
        .split(['?', '#'])
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no id in « {location} »"))
}
