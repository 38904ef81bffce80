//! A real SMTP server for tests: `aiosmtpd` (Debian `python3-aiosmtpd`) on a free loopback
//! port, writing each message into a Maildir before it answers the DATA command, so a message
//! is readable as soon as the sender has its `250`.
//!
//! ```ignore
//! let smtp = SmtpServer::start();            // smtp.port: give it to the app's config
//! // … the app sends mail to 127.0.0.1:smtp.port (plain SMTP, no TLS, no auth) …
//! let mail = smtp.wait_for(|m| m.to.iter().any(|t| t == "agent@corbas.fr"), Duration::from_secs(5)).await;
//! assert_eq!(mail.subject, "Réinitialisation du mot de passe — Corbas");
//! assert!(mail.body_text.contains("https://"));
//! ```
//!
//! `Message` is parsed minimally: RFC 2047 encoded words (B and Q) in headers, quoted-printable
//! or base64 bodies, nested multiparts (first `text/plain` part → `body_text`, first `text/html`
//! → `body_html`; attachments skipped). Line ends are normalised to `\n`.
#![allow(dead_code)]

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

const PYTHON: &str = "/usr/bin/python3";
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs aiosmtpd's own `__main__` (same CLI), plus a thread that exits when stdin closes, so
/// that the server dies with the test process even when Drop never runs (killed test).
const LAUNCHER: &str = "\
import os, sys, threading, runpy
def _watch():
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
sys.argv = ['aiosmtpd'] + sys.argv[1:]
runpy.run_module('aiosmtpd', run_name='__main__', alter_sys=True)
";

pub struct SmtpServer {
    pub port: u16,
    dir: PathBuf,
    maildir: PathBuf,
    child: Child,
    _stdin: Option<ChildStdin>,
}

#[derive(Debug, Clone)]
pub struct Message {
    /// Envelope sender (X-MailFrom), else the decoded From header.
    pub from: String,
    /// Envelope recipients (X-RcptTo), else the addresses of the To header.
    pub to: Vec<String>,
    /// Decoded Subject.
    pub subject: String,
    /// The first text/plain part, decoded ("" when there is none).
    pub body_text: String,
    /// The first text/html part, decoded.
    pub body_html: Option<String>,
    /// Top-level headers, unfolded, values decoded (RFC 2047), in order.
    pub headers: Vec<(String, String)>,
    /// The whole file as written by aiosmtpd (lossy UTF-8).
    pub raw: String,
}

impl Message {
    /// First top-level header with this name (case-insensitive), decoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl SmtpServer {
    /// Starts aiosmtpd on a free port with a fresh Maildir and waits until it accepts
    /// connections.
    pub fn start() -> SmtpServer {
        if !Path::new(PYTHON).exists() {
            panic!(
                "{PYTHON} is missing: the SMTP test server needs `apt-get install python3-aiosmtpd`"
            );
        }
        let dir = std::env::temp_dir().join(format!(
            "marelle-smtp-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).expect("SMTP test dir");
        let maildir = dir.join("maildir");
        let mut last_log = String::new();
        // The free port may be taken between the probe and aiosmtpd's bind: retry.
        for _ in 0..3 {
            let port = free_port();
            let log_path = dir.join("aiosmtpd.log");
            let log = std::fs::File::create(&log_path).expect("SMTP log file");
            let mut child = Command::new(PYTHON)
                .arg("-c")
                .arg(LAUNCHER)
                .args(["-n", "-l", &format!("127.0.0.1:{port}")])
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&maildir)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {PYTHON} for the SMTP test server: {e}"));
            let stdin = child.stdin.take();
            let started = Instant::now();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    if last_log.contains("No module named aiosmtpd") {
                        let _ = std::fs::remove_dir_all(&dir);
                        panic!(
                            "{PYTHON} has no aiosmtpd module: `apt-get install python3-aiosmtpd`\n{last_log}"
                        );
                    }
                    break;
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return SmtpServer {
                        port,
                        dir,
                        maildir,
                        child,
                        _stdin: stdin,
                    };
                }
                if started.elapsed() > READY_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!("the SMTP test server (aiosmtpd) did not start:\n{last_log}");
    }

    pub fn maildir(&self) -> &Path {
        &self.maildir
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        let mut files: Vec<(MaildirKey, PathBuf)> = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                files.push((MaildirKey::of(&name), entry.path()));
            }
        }
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, path)| {
                let mut bytes = Vec::new();
                std::fs::File::open(&path)
                    .ok()?
                    .read_to_end(&mut bytes)
                    .ok()?;
                Some(parse_message(&bytes))
            })
            .collect()
    }

    /// Waits (polling the Maildir) for a message matching `predicate`; panics after `timeout`
    /// listing what did arrive.
    pub async fn wait_for(
        &self,
        predicate: impl Fn(&Message) -> bool,
        timeout: Duration,
    ) -> Message {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if let Some(found) = messages.iter().find(|m| predicate(m)) {
                return found.clone();
            }
            if started.elapsed() > timeout {
                let seen: Vec<String> = messages
                    .iter()
                    .map(|m| format!("{:?} → {:?}: {:?}", m.from, m.to, m.subject))
                    .collect();
                panic!(
                    "no matching message after {timeout:?}; received {}:\n{}",
                    messages.len(),
                    seen.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Deletes every received message.
    pub fn clear(&self) {
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                for entry in entries.flatten() {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Python's Maildir names files `<secs>.M<usecs>P<pid>Q<count>.<host>`: order by those.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct MaildirKey(u64, u64, u64, String);

impl MaildirKey {
    fn of(name: &str) -> MaildirKey {
        let mut parts = name.splitn(3, '.');
        let secs = parts
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
        let unique = parts.next().unwrap_or("");
        let number = |tag: char| -> u64 {
            unique
                .split_once(tag)
                .map(|(_, rest)| {
                    rest.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                })
                .and_then(|d| d.parse().ok())
                .unwrap_or(0)
        };
        MaildirKey(secs, number('M'), number('Q'), name.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Minimal MIME parsing.

/// CRLF (and lone CR) → LF.
fn normalise_newlines(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' {
            out.push(b'\n');
            if bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
        } else {
            out.push(bytes[i]);
        }
        i += 1;
    }
    out
}

/// Splits an entity (LF line ends) into unfolded raw headers and the body.
fn split_entity(bytes: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let (head, body) = if bytes.starts_with(b"\n") {
        (&bytes[..0], &bytes[1..])
    } else {
        match bytes.windows(2).position(|w| w == b"\n\n") {
            Some(at) => (&bytes[..at], &bytes[at + 2..]),
            None => (bytes, &bytes[bytes.len()..]),
        }
    };
    let head = String::from_utf8_lossy(head);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split('\n') {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    (headers, body)
}

fn raw_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `type/subtype; key=value; key="quoted value"` → lowercased type and parameters
/// (keys lowercased).
fn parse_content_type(value: &str) -> (String, Vec<(String, String)>) {
    let mut parts = split_params(value).into_iter();
    let kind = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let v = v.trim();
            let v = if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
                v[1..v.len() - 1]
                    .replace("\\\"", "\"")
                    .replace("\\\\", "\\")
            } else {
                v.to_string()
            };
            Some((k.trim().to_ascii_lowercase(), v))
        })
        .collect();
    (kind, params)
}

/// Splits on `;` outside double quotes.
fn split_params(value: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quoted {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == ';' && !quoted {
            out.push(String::new());
            continue;
        }
        out.last_mut().unwrap().push(c);
    }
    out
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Decodes bytes in a charset (UTF-8, ASCII, Latin-1/Windows-1252 as Latin-1; others lossy UTF-8).
fn decode_charset(bytes: &[u8], charset: &str) -> String {
    let charset = charset
        .split('*')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match charset.as_str() {
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "windows-1252" | "cp1252" => {
            bytes.iter().map(|&b| b as char).collect()
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Quoted-printable (RFC 2045 §6.7), on LF line ends: soft breaks, `=XX`, trailing blanks.
pub fn decode_quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut lines = input.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let mut end = line.len();
        while end > 0 && (line[end - 1] == b' ' || line[end - 1] == b'\t') {
            end -= 1;
        }
        let line = &line[..end];
        let mut soft_break = false;
        let mut i = 0;
        while i < line.len() {
            if line[i] == b'=' {
                if i + 1 == line.len() {
                    soft_break = true;
                    break;
                }
                if let (Some(h), Some(l)) = (
                    line.get(i + 1).copied().and_then(hex_value),
                    line.get(i + 2).copied().and_then(hex_value),
                ) {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
            }
            out.push(line[i]);
            i += 1;
        }
        if !soft_break && lines.peek().is_some() {
            out.push(b'\n');
        }
    }
    out
}

fn base64_lenient() -> base64::engine::GeneralPurpose {
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

/// Base64 body: whitespace and line breaks ignored.
pub fn decode_base64(input: &[u8]) -> Vec<u8> {
    let clean: Vec<u8> = input
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64_lenient()
        .decode(clean)
        .unwrap_or_else(|_| input.to_vec())
}

/// RFC 2047 encoded words (`=?charset?B|Q?text?=`) in a header value; whitespace between two
/// encoded words is dropped, and adjacent words in one charset are decoded together (a UTF-8
/// character may be split across them).
pub fn decode_rfc2047(value: &str) -> String {
    let mut out = String::new();
    // Pending bytes of consecutive encoded words, with their charset.
    let mut pending: Option<(String, Vec<u8>)> = None;
    let mut gap = String::new();
    let mut rest = value;
    let flush = |out: &mut String, pending: &mut Option<(String, Vec<u8>)>| {
        if let Some((charset, bytes)) = pending.take() {
            out.push_str(&decode_charset(&bytes, &charset));
        }
    };
    while !rest.is_empty() {
        if let Some((charset, bytes, len)) = encoded_word(rest) {
            // Whitespace between two encoded words disappears.
            gap.clear();
            match &mut pending {
                Some((c, b)) if c.eq_ignore_ascii_case(&charset) => b.extend(bytes),
                _ => {
                    flush(&mut out, &mut pending);
                    pending = Some((charset, bytes));
                }
            }
            rest = &rest[len..];
            continue;
        }
        let c = rest.chars().next().unwrap();
        if pending.is_some() && (c == ' ' || c == '\t') {
            gap.push(c);
        } else {
            flush(&mut out, &mut pending);
            out.push_str(&gap);
            gap.clear();
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    flush(&mut out, &mut pending);
    out.push_str(&gap);
    out
}

/// Parses one encoded word at the start of `s`: (charset, decoded bytes, length in `s`).
fn encoded_word(s: &str) -> Option<(String, Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, after) = inner.split_once('?')?;
    let (encoding, after) = after.split_once('?')?;
    let end = after.find("?=")?;
    let text = &after[..end];
    if charset.is_empty() || charset.contains(char::is_whitespace) || text.contains(' ') {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => base64_lenient().decode(text).ok()?,
        "Q" | "q" => {
            let raw = text.as_bytes();
            let mut bytes = Vec::with_capacity(raw.len());
            let mut i = 0;
            while i < raw.len() {
                match raw[i] {
                    b'_' => bytes.push(b' '),
                    b'=' => {
                        match (
                            raw.get(i + 1).copied().and_then(hex_value),
                            raw.get(i + 2).copied().and_then(hex_value),
                        ) {
                            (Some(h), Some(l)) => {
                                bytes.push(h << 4 | l);
                                i += 2;
                            }
                            _ => bytes.push(b'='),
                        }
                    }
                    b => bytes.push(b),
                }
                i += 1;
            }
            bytes
        }
        _ => return None,
    };
    let len = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    Some((charset.to_string(), bytes, len))
}

/// Splits an address list header (`"Name, Jr" <a@b>, c@d`) into bare addresses.
fn addresses(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    out.push(current);
    out.into_iter()
        .map(|a| {
            let a = a.trim();
            match (a.rfind('<'), a.rfind('>')) {
                (Some(l), Some(r)) if l < r => a[l + 1..r].trim().to_string(),
                _ => a.to_string(),
            }
        })
        .filter(|a| !a.is_empty())
        .collect()
}

#[derive(Default)]
struct Bodies {
    text: Option<String>,
    html: Option<String>,
}

fn collect_bodies(headers: &[(String, String)], body: &[u8], bodies: &mut Bodies, depth: usize) {
    let (kind, params) = raw_header(headers, "Content-Type")
        .map(parse_content_type)
        .unwrap_or_else(|| ("text/plain".to_string(), Vec::new()));
    if kind.starts_with("multipart/") {
        let Some(boundary) = param(&params, "boundary") else {
            return;
        };
        if depth > 10 {
            return;
        }
        for part in multipart_parts(body, boundary) {
            let (part_headers, part_body) = split_entity(part);
            collect_bodies(&part_headers, part_body, bodies, depth + 1);
        }
        return;
    }
    let attachment = raw_header(headers, "Content-Disposition")
        .is_some_and(|d| d.trim().to_ascii_lowercase().starts_with("attachment"));
    let slot = match kind.as_str() {
        "text/plain" if !attachment && bodies.text.is_none() => &mut bodies.text,
        "text/html" if !attachment && bodies.html.is_none() => &mut bodies.html,
        _ => return,
    };
    let encoding = raw_header(headers, "Content-Transfer-Encoding")
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let decoded = match encoding.as_str() {
        "quoted-printable" => decode_quoted_printable(body),
        "base64" => normalise_newlines(&decode_base64(body)),
        _ => body.to_vec(),
    };
    *slot = Some(decode_charset(
        &decoded,
        param(&params, "charset").unwrap_or("utf-8"),
    ));
}

/// The parts between `--boundary` delimiter lines (LF line ends); the line end before a
/// delimiter belongs to the delimiter.
fn multipart_parts<'a>(body: &'a [u8], boundary: &str) -> Vec<&'a [u8]> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut line_start = 0;
    while line_start <= body.len() {
        let line_end = body[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(body.len(), |p| line_start + p);
        let line = &body[line_start..line_end];
        if line.starts_with(delimiter) {
            let tail = &line[delimiter.len()..];
            let closing = tail.starts_with(b"--");
            if closing || tail.iter().all(|b| b.is_ascii_whitespace()) {
                if let Some(s) = start {
                    // Drop the LF that precedes the delimiter line.
                    let end = line_start.saturating_sub(1).max(s);
                    parts.push(&body[s..end]);
                }
                if closing {
                    return parts;
                }
                start = Some((line_end + 1).min(body.len()));
            }
        }
        line_start = line_end + 1;
    }
    if let Some(s) = start {
        parts.push(&body[s..]);
    }
    parts
}

/// Parses a message file as written by aiosmtpd's Mailbox handler.
pub fn parse_message(bytes: &[u8]) -> Message {
    let normalised = normalise_newlines(bytes);
    let (headers, body) = split_entity(&normalised);
    let mut bodies = Bodies::default();
    collect_bodies(&headers, body, &mut bodies, 0);
    let from = raw_header(&headers, "X-MailFrom")
        .map(str::to_string)
        .or_else(|| {
            raw_header(&headers, "From").map(|f| {
                addresses(&decode_rfc2047(f))
                    .into_iter()
                    .next()
                    .unwrap_or_default()
            })
        })
        .unwrap_or_default();
    let to = raw_header(&headers, "X-RcptTo")
        .or_else(|| raw_header(&headers, "To"))
        .map(|t| addresses(&decode_rfc2047(t)))
        .unwrap_or_default();
    let subject = raw_header(&headers, "Subject")
        .map(decode_rfc2047)
        .unwrap_or_default();
    Message {
        from,
        to,
        subject,
        body_text: bodies.text.unwrap_or_default(),
        body_html: bodies.html,
        headers: headers
            .iter()
            .map(|(n, v)| (n.clone(), decode_rfc2047(v)))
            .collect(),
        raw: String::from_utf8_lossy(bytes).into_owned(),
    }
}
