//! Proves the test harnesses for the real OIDC provider (`common/oidc.rs`) and the real SMTP
//! server (`common/smtp.rs`) work, with nothing but reqwest and a raw TCP stream.

#[path = "common/oidc.rs"]
mod oidc;
#[path = "common/smtp.rs"]
mod smtp;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::Url;
use serde_json::{Value, json};
use sha2::Digest as _;

use oidc::{OidcProvider, follow_login, follow_logout};
use smtp::SmtpServer;

const CLIENT_ID: &str = "marelle-corbas";
const CLIENT_SECRET: &str = "secret-de-test";
const REDIRECT_URI: &str = "http://corbas.localhost:9/auth/callback";
const POST_LOGOUT_URI: &str = "http://corbas.localhost:9/";

fn op_config() -> Value {
    json!({
        "clients": [{
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [REDIRECT_URI],
            "post_logout_redirect_uris": [POST_LOGOUT_URI],
        }],
        "users": {
            "agent": {
                "sub": "agent-0001", "given_name": "Élodie", "family_name": "Marchand",
                "email": "elodie.marchand@corbas.fr", "birthdate": "1984-03-21",
                "preferred_username": "emarchand",
            },
            "parent": {
                "sub": "fc-7f3a9c", "given_name": "Joséphine", "family_name": "Lefèvre",
                "email": "josephine.lefevre@example.org", "birthdate": "1979-11-05",
                "preferred_username": "Lefèvre",
            },
        },
        "default_user": "agent",
        "acr_values": ["eidas1"],
    })
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn query(url: &str) -> Vec<(String, String)> {
    Url::parse(url)
        .expect("url")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn query_value(url: &str, key: &str) -> Option<String> {
    query(url)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn jwt_payload(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json")
}

async fn discovery(client: &reqwest::Client, op: &OidcProvider) -> Value {
    let response = client
        .get(op.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery");
    assert_eq!(response.status(), 200);
    response.json().await.expect("discovery json")
}

struct AuthRequest {
    url: String,
    state: String,
    nonce: String,
    verifier: String,
}

fn authorize_url(meta: &Value, extra: &[(&str, &str)]) -> AuthRequest {
    let state = random_token();
    let nonce = random_token();
    let verifier = random_token();
    let challenge = s256(&verifier);
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile email birthdate"),
        ("state", &state),
        ("nonce", &nonce),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    let url = Url::parse_with_params(meta["authorization_endpoint"].as_str().unwrap(), &params)
        .unwrap()
        .to_string();
    AuthRequest {
        url,
        state,
        nonce,
        verifier,
    }
}

#[tokio::test]
async fn oidc_code_flow_with_pkce_userinfo_acr_and_logout() {
    let started = Instant::now();
    let op = OidcProvider::start(op_config()).await;
    let ready = started.elapsed();
    assert!(op.issuer.starts_with("http://127.0.0.1:"), "{}", op.issuer);
    let client = client();
    let meta = discovery(&client, &op).await;
    assert_eq!(meta["issuer"], op.issuer.as_str());
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    for method in ["client_secret_basic", "client_secret_post"] {
        assert!(
            meta["token_endpoint_auth_methods_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(method))
        );
    }
    assert!(meta["end_session_endpoint"].is_string());
    assert_eq!(meta["acr_values_supported"], json!(["eidas1"]));

    // Authorization: login_hint picks the user, acr_values asks for eIDAS 1.
    let request = authorize_url(&meta, &[("login_hint", "parent"), ("acr_values", "eidas1")]);
    let callback = follow_login(&client, &request.url).await;
    assert!(callback.starts_with(REDIRECT_URI), "{callback}");
    assert_eq!(
        query_value(&callback, "state").as_deref(),
        Some(request.state.as_str())
    );
    assert_eq!(
        query_value(&callback, "iss").as_deref(),
        Some(op.issuer.as_str())
    );
    let code = query_value(&callback, "code").unwrap_or_else(|| panic!("no code: {callback}"));

    // Token, client_secret_basic.
    let response = client
        .post(meta["token_endpoint"].as_str().unwrap())
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &request.verifier),
        ])
        .send()
        .await
        .expect("token");
    let status = response.status();
    let tokens: Value = response.json().await.expect("token json");
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let id_token = tokens["id_token"].as_str().expect("id_token");
    let claims = jwt_payload(id_token);
    assert_eq!(claims["iss"], op.issuer.as_str());
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["sub"], "fc-7f3a9c");
    assert_eq!(claims["nonce"], request.nonce.as_str());
    assert_eq!(claims["acr"], "eidas1");
    // Scope claims are not in the ID token unless asked for with `claims`.
    assert!(claims.get("email").is_none(), "{claims}");

    // Userinfo.
    let response = client
        .get(meta["userinfo_endpoint"].as_str().unwrap())
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .expect("userinfo");
    assert_eq!(response.status(), 200);
    let userinfo: Value = response.json().await.expect("userinfo json");
    assert_eq!(userinfo["sub"], "fc-7f3a9c");
    assert_eq!(userinfo["given_name"], "Joséphine");
    assert_eq!(userinfo["family_name"], "Lefèvre");
    assert_eq!(userinfo["email"], "josephine.lefevre@example.org");
    assert_eq!(userinfo["birthdate"], "1979-11-05");
    assert_eq!(userinfo["preferred_username"], "Lefèvre");

    // RP-initiated logout lands on the post_logout_redirect_uri with the state.
    let end_session = Url::parse_with_params(
        meta["end_session_endpoint"].as_str().unwrap(),
        &[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ("state", "au-revoir"),
        ],
    )
    .unwrap();
    let landed = follow_logout(&client, end_session.as_str()).await;
    assert_eq!(landed, format!("{POST_LOGOUT_URI}?state=au-revoir"));

    // After the logout: default user, client_secret_post, ID token claims via `claims`.
    let asked = json!({"id_token": {"given_name": null, "email": null}}).to_string();
    let request = authorize_url(&meta, &[("claims", &asked)]);
    let callback = follow_login(&client, &request.url).await;
    let code = query_value(&callback, "code").unwrap_or_else(|| panic!("no code: {callback}"));
    let response = client
        .post(meta["token_endpoint"].as_str().unwrap())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &request.verifier),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("token");
    let status = response.status();
    let tokens: Value = response.json().await.expect("token json");
    assert_eq!(status, 200, "{tokens}");
    let claims = jwt_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "agent-0001");
    assert_eq!(claims["given_name"], "Élodie");
    assert_eq!(claims["email"], "elodie.marchand@corbas.fr");
    eprintln!(
        "OIDC: provider ready in {ready:?}, whole test {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn oidc_rejects_a_wrong_code_verifier_and_a_missing_challenge() {
    let op = OidcProvider::start(op_config()).await;
    let client = client();
    let meta = discovery(&client, &op).await;

    let request = authorize_url(&meta, &[]);
    let callback = follow_login(&client, &request.url).await;
    let code = query_value(&callback, "code").unwrap_or_else(|| panic!("no code: {callback}"));
    let response = client
        .post(meta["token_endpoint"].as_str().unwrap())
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &random_token()),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("error json");
    assert_eq!(error["error"], "invalid_grant", "{error}");

    // A wrong secret is rejected too.
    let request = authorize_url(&meta, &[]);
    let callback = follow_login(&client, &request.url).await;
    let code = query_value(&callback, "code").unwrap();
    let response = client
        .post(meta["token_endpoint"].as_str().unwrap())
        .basic_auth(CLIENT_ID, Some("pas-le-bon"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &request.verifier),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), 401);

    // PKCE is required: no code_challenge → error back to the relying party.
    let url = Url::parse_with_params(
        meta["authorization_endpoint"].as_str().unwrap(),
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
            ("state", "s"),
        ],
    )
    .unwrap();
    let callback = follow_login(&client, url.as_str()).await;
    assert!(callback.starts_with(REDIRECT_URI), "{callback}");
    assert_eq!(
        query_value(&callback, "error").as_deref(),
        Some("invalid_request")
    );
}

// --- SMTP ------------------------------------------------------------------------------------

/// Quoted-printable encoding (RFC 2045), lines ≤ 76 characters, for the test message.
fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push_str("\r\n");
        }
        let mut width = 0;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let piece = if b == b'=' || b >= 0x80 || ((b == b' ' || b == b'\t') && last) {
                format!("={b:02X}")
            } else {
                (b as char).to_string()
            };
            if width + piece.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += piece.len();
            out.push_str(&piece);
        }
    }
    out
}

/// Sends one message by hand: HELO, MAIL, RCPT…, DATA (with dot-stuffing), QUIT.
fn send_raw(port: u16, from: &str, to: &[&str], message: &str) {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let expect = |code: &str, reader: &mut BufReader<TcpStream>| loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("SMTP reply");
        assert!(line.starts_with(code), "expected {code}, got {line:?}");
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    };
    expect("220", &mut reader);
    let mut command = |line: String, code: &str, reader: &mut BufReader<TcpStream>| {
        writer.write_all(line.as_bytes()).unwrap();
        expect(code, reader);
    };
    command("HELO selftest.localhost\r\n".into(), "250", &mut reader);
    command(format!("MAIL FROM:<{from}>\r\n"), "250", &mut reader);
    for rcpt in to {
        command(format!("RCPT TO:<{rcpt}>\r\n"), "250", &mut reader);
    }
    command("DATA\r\n".into(), "354", &mut reader);
    let mut data = String::new();
    for line in message
        .strip_suffix("\r\n")
        .unwrap_or(message)
        .split("\r\n")
    {
        if line.starts_with('.') {
            data.push('.');
        }
        data.push_str(line);
        data.push_str("\r\n");
    }
    data.push_str(".\r\n");
    command(data, "250", &mut reader);
    command("QUIT\r\n".into(), "221", &mut reader);
}

const SUBJECT: &str = "Réinitialisation du mot de passe — Corbas";
const BODY: &str = "Bonjour Élodie,\n\
Vous avez demandé la réinitialisation du mot de passe de votre compte « Marelle » — Corbas. \
Ce lien est valable 30 minutes : http://corbas.localhost:9/mot-de-passe?jeton=a=b&c=d\n\
.ligne qui commence par un point\n\
À bientôt,\n\
le service enfance";

#[tokio::test]
async fn smtp_server_receives_and_decodes_utf8_mail() {
    let started = Instant::now();
    let smtp = SmtpServer::start();
    let ready = started.elapsed();
    assert!(smtp.messages().is_empty());

    // 1. Single part, quoted-printable, subject in one B encoded word.
    let message = format!(
        "From: =?utf-8?Q?Marelle_=E2=80=94_Corbas?= <noreply@corbas.localhost>\r\n\
         To: =?utf-8?B?w4lsb2RpZQ==?= <elodie.marchand@corbas.fr>\r\n\
         Subject: =?utf-8?B?{}?=\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         {}\r\n",
        STANDARD.encode(SUBJECT),
        quoted_printable(BODY)
    );
    send_raw(
        smtp.port,
        "noreply@corbas.localhost",
        &["elodie.marchand@corbas.fr"],
        &message,
    );
    // aiosmtpd writes the Maildir before it answers 250: no waiting needed.
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert_eq!(mail.subject, SUBJECT);
    assert_eq!(mail.subject, "Réinitialisation du mot de passe — Corbas");
    assert_eq!(mail.body_text, format!("{BODY}\n"));
    assert_eq!(mail.from, "noreply@corbas.localhost");
    assert_eq!(mail.to, vec!["elodie.marchand@corbas.fr".to_string()]);
    assert_eq!(
        mail.header("From"),
        Some("Marelle — Corbas <noreply@corbas.localhost>")
    );
    assert!(mail.raw.contains("X-RcptTo: elodie.marchand@corbas.fr"));

    // 2. multipart/alternative, base64 text part, subject in Q words that split a UTF-8
    //    character across two words (folded), two recipients.
    let html = "<p>Bonjour Joséphine, <a href=\"http://corbas.localhost:9/\">Marelle</a></p>";
    let text = "Bonjour Joséphine,\nvotre inscription à la cantine est validée.\n";
    let message = format!(
        "From: noreply@corbas.localhost\r\n\
         To: parent@example.org, \"Lefèvre, J.\" <josephine.lefevre@example.org>\r\n\
         Subject: =?utf-8?Q?Inscription_valid=C3?=\r\n =?utf-8?Q?=A9e_=C3=A0_la_cantine?=\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"=_frontiere_42\"\r\n\
         \r\n\
         This is a multi-part message in MIME format.\r\n\
         --=_frontiere_42\r\n\
         Content-Type: text/plain; charset=\"utf-8\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {}\r\n\
         --=_frontiere_42\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         {}\r\n\
         --=_frontiere_42--\r\n",
        STANDARD
            .encode(text.replace('\n', "\r\n"))
            .as_bytes()
            .chunks(40)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n"),
        quoted_printable(html)
    );
    send_raw(
        smtp.port,
        "noreply@corbas.localhost",
        &["parent@example.org", "josephine.lefevre@example.org"],
        &message,
    );
    let mail = smtp
        .wait_for(
            |m| m.subject.starts_with("Inscription"),
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(mail.subject, "Inscription validée à la cantine");
    assert_eq!(mail.body_text, text);
    assert_eq!(mail.body_html.as_deref(), Some(html));
    assert_eq!(
        mail.to,
        vec![
            "parent@example.org".to_string(),
            "josephine.lefevre@example.org".to_string()
        ]
    );
    let all = smtp.messages();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].subject, SUBJECT, "oldest first");
    eprintln!(
        "SMTP: server ready in {ready:?}, whole test {:?}",
        started.elapsed()
    );
}

#[test]
fn mime_decoders() {
    assert_eq!(
        smtp::decode_rfc2047("=?UTF-8?q?caf=C3=A9?= =?utf-8?b?IMOg?= la =?iso-8859-1?Q?cr=E8me?="),
        "café à la crème"
    );
    assert_eq!(smtp::decode_rfc2047("pas encodé =?x"), "pas encodé =?x");
    assert_eq!(
        smtp::decode_quoted_printable(b"a=3Db=\nc  \nd=C3=A9=\n"),
        "a=bc\ndé".as_bytes()
    );
    assert_eq!(smtp::decode_base64(b"w6l0\r\nw6k=\r\n"), "été".as_bytes());
}
