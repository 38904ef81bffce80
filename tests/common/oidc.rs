//! A real OpenID Connect provider for tests: npm `oidc-provider` run by
//! `tests/support/oidc/provider.mjs` on a free loopback port (plain HTTP, state in memory).
//!
//! ```ignore
//! let op = OidcProvider::start(serde_json::json!({
//!     "clients": [{ "client_id": "marelle", "client_secret": "s3cret",
//!                   "redirect_uris": ["http://corbas.localhost:8080/auth/callback"],
//!                   "post_logout_redirect_uris": ["http://corbas.localhost:8080/"] }],
//!     "users": { "alice": { "sub": "a-1", "given_name": "Alice", "family_name": "Durand",
//!                           "email": "alice@example.org", "birthdate": "1980-01-02",
//!                           "preferred_username": "alice" } },
//!     "default_user": "alice",
//!     "acr_values": ["eidas1"],
//! })).await;
//! // op.issuer == "http://127.0.0.1:<port>"; discovery at op.url("/.well-known/openid-configuration")
//! let callback = follow_login(&client, &authorize_url).await; // RP callback URL with code & state
//! let landed = follow_logout(&client, &end_session_url).await; // post_logout_redirect_uri?state=…
//! ```
//!
//! There is no login form: the provider logs in the user named by the authorization
//! request's `login_hint` (a login key of `users`, or a `sub`), else `default_user`, and
//! grants consent automatically. PKCE S256 is required; `client_secret_basic` and
//! `client_secret_post` are both accepted. The `acr` claim is the requested `acr_values`
//! entry when configured, else the first configured one. Scope claims are in userinfo; they
//! are in the ID token only when asked for with the `claims` request parameter (or with
//! `"conform_id_token_claims": false` in the config).
//!
//! Needs `npm ci --prefix tests/support/oidc` (ops/test does it) and `node` (>= 20) on PATH
//! (or `MARELLE_TEST_NODE`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use reqwest::Url;

const READY_TIMEOUT: Duration = Duration::from_secs(20);
const MAX_HOPS: usize = 20;

pub struct OidcProvider {
    /// `http://127.0.0.1:<port>`, as in the discovery document.
    pub issuer: String,
    child: Child,
    /// Held open: the provider exits when its stdin closes (even if this process is killed).
    _stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
}

fn support_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/oidc")
}

impl OidcProvider {
    /// Starts a provider with `config` (see the module doc) and waits until it listens.
    pub async fn start(config: serde_json::Value) -> OidcProvider {
        let dir = support_dir();
        if !dir.join("node_modules/oidc-provider").is_dir() {
            panic!(
                "the OIDC test provider's node modules are missing ({}): run \
                 `npm ci --prefix tests/support/oidc` from the repository root",
                dir.join("node_modules").display()
            );
        }
        let config_path = std::env::temp_dir().join(format!(
            "marelle-oidc-{}-{:016x}.json",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::write(
            &config_path,
            serde_json::to_vec(&config).expect("config json"),
        )
        .expect("write the OIDC provider config");

        let node = std::env::var("MARELLE_TEST_NODE").unwrap_or_else(|_| "node".to_string());
        let mut child = Command::new(&node)
            .arg(dir.join("provider.mjs"))
            .args(["--port", "0", "--config"])
            .arg(&config_path)
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `{node}` for the OIDC test provider: {e}"));

        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let stderr_pipe = child.stderr.take().expect("stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            // Keep the pipe drained; node's known warnings are noise, anything else is shown.
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr_pipe).lines() {
                    let Ok(line) = line else { break };
                    if !line.starts_with("oidc-provider WARNING") {
                        eprintln!("[oidc-provider] {line}");
                    }
                    let mut buf = stderr.lock().unwrap();
                    buf.push_str(&line);
                    buf.push('\n');
                }
            });
        }
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep reading so that the child never blocks on a full pipe.
            for _ in lines {}
        });

        let mut provider = OidcProvider {
            issuer: String::new(),
            child,
            _stdin: stdin,
            stderr,
        };
        let started = Instant::now();
        let line = loop {
            match rx.try_recv() {
                Ok(line) => break line,
                Err(mpsc::TryRecvError::Disconnected) => {
                    let _ = std::fs::remove_file(&config_path);
                    // Give the stderr thread a moment to collect the reason.
                    let status = provider.child.wait().ok();
                    std::thread::sleep(Duration::from_millis(50));
                    panic!(
                        "the OIDC test provider exited before it was ready ({status:?}):\n{}",
                        provider.stderr.lock().unwrap()
                    );
                }
                Err(mpsc::TryRecvError::Empty) => {}
            }
            if started.elapsed() > READY_TIMEOUT {
                let _ = std::fs::remove_file(&config_path);
                panic!(
                    "the OIDC test provider was not ready after {READY_TIMEOUT:?}:\n{}",
                    provider.stderr.lock().unwrap()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let _ = std::fs::remove_file(&config_path);
        let ready: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!("unexpected ready line from the OIDC provider {line:?}: {e}")
        });
        provider.issuer = ready["issuer"]
            .as_str()
            .unwrap_or_else(|| panic!("no issuer in the ready line {line:?}"))
            .to_string();
        provider
    }

    /// `issuer` + `path` (e.g. `/.well-known/openid-configuration`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// What the provider wrote on stderr so far (for failing assertions).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn origin(url: &Url) -> (String, Option<String>, Option<u16>) {
    (
        url.scheme().to_string(),
        url.host_str().map(str::to_string),
        url.port_or_known_default(),
    )
}

fn location(response: &reqwest::Response, current: &Url) -> Url {
    let value = response
        .headers()
        .get(reqwest::header::LOCATION)
        .unwrap_or_else(|| panic!("{} {current} redirects without Location", response.status()))
        .to_str()
        .expect("Location is not ASCII");
    current
        .join(value)
        .unwrap_or_else(|e| panic!("bad Location {value:?} from {current}: {e}"))
}

/// Follows, by hand, the redirects from the provider's authorization URL (built by the relying
/// party) through the automatic login and consent, until a Location leaves the provider; returns
/// that URL: the relying party's redirect_uri with `code`, `state` and `iss` (or `error`).
/// The client must keep cookies (`cookie_store(true)`) and not follow redirects itself.
pub async fn follow_login(client: &reqwest::Client, authorize_url: &str) -> String {
    let mut url = Url::parse(authorize_url)
        .unwrap_or_else(|e| panic!("bad authorization URL {authorize_url:?}: {e}"));
    let provider = origin(&url);
    for _ in 0..MAX_HOPS {
        let response = client
            .get(url.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = response.status();
        if !status.is_redirection() {
            let body = response.text().await.unwrap_or_default();
            panic!("login stopped at {url} with {status}: {body}");
        }
        let next = location(&response, &url);
        if origin(&next) != provider {
            return next.to_string();
        }
        url = next;
    }
    panic!("more than {MAX_HOPS} redirects during the login, last at {url}");
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of `attribute="…"` in the first tag that contains `needle`.
fn attribute_near(html: &str, needle: &str, attribute: &str) -> Option<String> {
    let at = html.find(needle)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let key = format!("{attribute}=\"");
    let from = tag.find(&key)? + key.len();
    let len = tag[from..].find('"')?;
    Some(html_unescape(&tag[from..from + len]))
}

/// RP-initiated logout: GETs the end-session URL (built by the relying party, with
/// `id_token_hint`/`client_id`, `post_logout_redirect_uri`, `state`), POSTs the confirmation
/// form (`xsrf` + `logout=yes`) and follows redirects by hand while they stay on the provider.
/// Returns the URL it lands on: the `post_logout_redirect_uri` (with `state`), or the
/// provider's own success page when none was given.
pub async fn follow_logout(client: &reqwest::Client, end_session_url: &str) -> String {
    let url = Url::parse(end_session_url)
        .unwrap_or_else(|e| panic!("bad end-session URL {end_session_url:?}: {e}"));
    let provider = origin(&url);
    let response = client
        .get(url.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        panic!("end session at {url} answered {status}: {body}");
    }
    let xsrf = attribute_near(&body, "name=\"xsrf\"", "value")
        .unwrap_or_else(|| panic!("no xsrf value in the end-session page: {body}"));
    let action = attribute_near(&body, "method=\"post\"", "action")
        .map(|a| url.join(&a).expect("form action"))
        .unwrap_or_else(|| url.join("/session/end/confirm").expect("confirm URL"));

    let mut response = client
        .post(action.clone())
        .form(&[("xsrf", xsrf.as_str()), ("logout", "yes")])
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {action}: {e}"));
    let mut current = action;
    for _ in 0..MAX_HOPS {
        let status = response.status();
        if !status.is_redirection() {
            if status.is_success() {
                return current.to_string();
            }
            let body = response.text().await.unwrap_or_default();
            panic!("logout stopped at {current} with {status}: {body}");
        }
        let next = location(&response, &current);
        if origin(&next) != provider {
            return next.to_string();
        }
        current = next;
        response = client
            .get(current.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {current}: {e}"));
    }
    panic!("more than {MAX_HOPS} redirects during the logout, last at {current}");
}
