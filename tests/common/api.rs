//! A caller of one city's REST API with one bearer token (or none), and tokens made by the
//! CLI as an administrator would.

use std::sync::Arc;

use marelle::platform::tenancy::City;
use reqwest::Method;
use serde_json::Value;

use super::{TestApp, marelle};

/// A token of `city` holding `scope`, made by the CLI as an administrator would.
pub fn token(city: &City, name: &str, scope: &str) -> String {
    let (ok, stdout, stderr) = marelle(&[
        "api-client",
        "create",
        &city.slug,
        "--name",
        name,
        "--scope",
        scope,
    ]);
    assert!(ok, "api-client create: {stderr}");
    stdout.lines().last().unwrap().trim().to_string()
}

/// A caller of one city's API with one token (or none).
pub struct Api<'a> {
    pub app: &'a TestApp,
    pub city: Arc<City>,
    pub token: Option<String>,
    pub client: reqwest::Client,
}

impl<'a> Api<'a> {
    /// Tokens made after the city's permissions were loaded are applied at once (the
    /// server would otherwise learn them by NOTIFY, a moment later).
    pub async fn new(app: &'a TestApp, city: &Arc<City>, scope: &str) -> Api<'a> {
        let token = token(city, &format!("Client {scope}"), scope);
        app.state.authz.invalidate(&city.schema).await;
        Api {
            app,
            city: city.clone(),
            token: Some(token),
            client: app.bare_client(),
        }
    }

    pub fn anonymous(app: &'a TestApp, city: &Arc<City>) -> Api<'a> {
        Api {
            app,
            city: city.clone(),
            token: None,
            client: app.bare_client(),
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, self.app.city_url(&self.city, path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::PATCH, path, Some(&body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(Method::DELETE, path, None).await
    }
}
