//! The page checker in a real browser: headless Chromium driven by
//! `tests/browser/check-pages.mjs` (playwright-core + axe-core) checks each page against
//! WCAG 2.1 A/AA (axe) and the RGAA basics. Needs `npm ci --prefix tests/browser` and
//! Debian's chromium; a missing piece fails the test with the command to run, it never
//! passes silently. `MARELLE_TEST_NODE` and `MARELLE_CHROMIUM` override the binaries.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::{repo_path, unique};

/// Longest a whole browser run may take before the test gives up on it.
const RUN_TIMEOUT: Duration = Duration::from_secs(240);

pub fn browser_dir() -> PathBuf {
    repo_path("tests/browser")
}

/// Everything the runner needs, or a panic saying how to get it.
fn preflight() {
    let modules = browser_dir().join("node_modules");
    for needed in ["playwright-core/package.json", "axe-core/axe.min.js"] {
        assert!(
            modules.join(needed).exists(),
            "tests navigateur : {} est absent. Installez les dépendances avec :\n    \
             npm ci --prefix tests/browser\n(Node.js et npm : apt-get install nodejs npm)",
            modules.join(needed).display()
        );
    }
    let chromium = std::env::var("MARELLE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "tests navigateur : Chromium introuvable ({chromium}). Installez-le avec :\n    \
         apt-get install chromium\n(ou indiquez un autre binaire dans MARELLE_CHROMIUM)"
    );
}

/// Runs check-pages.mjs on `spec`; returns its JSON report, or panics with its summary
/// (every violation: rule, impact, selector, page) when a page fails a check.
pub async fn check_pages(spec: Value) -> Value {
    preflight();
    let report_path = std::env::temp_dir().join(format!("{}.json", unique("marelle-browser-")));
    let node = std::env::var("MARELLE_TEST_NODE").unwrap_or_else(|_| "node".into());
    let mut child = tokio::process::Command::new(&node)
        .arg(browser_dir().join("check-pages.mjs"))
        .arg("-")
        .arg("--report")
        .arg(&report_path)
        .current_dir(repo_path(""))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("tests navigateur : impossible de lancer « {node} » ({e}) ; apt-get install nodejs npm")
        });
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(spec.to_string().as_bytes())
        .await
        .expect("write the spec");
    drop(stdin);
    let output = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("check-pages.mjs n'a pas fini en {RUN_TIMEOUT:?}"))
        .expect("check-pages.mjs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = std::fs::read_to_string(&report_path)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let Some(report) = report else {
        panic!(
            "check-pages.mjs a échoué sans rapport (code {:?}) :\n{stderr}\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout)
        );
    };
    print_timings(&report);
    assert!(
        output.status.success() && report["ok"] == true,
        "des pages ne passent pas les contrôles d'accessibilité (code {:?}) ; rapport complet : {}\n\n{stderr}",
        output.status.code(),
        report_path.display()
    );
    let _ = std::fs::remove_file(&report_path);
    report
}

/// One line per page (visible with `--no-capture`, or with the output of a failure).
fn print_timings(report: &Value) {
    println!(
        "Chromium {} / axe-core {} : {} ms",
        report["chromium"].as_str().unwrap_or("?"),
        report["axe"].as_str().unwrap_or("?"),
        report["durationMs"]
    );
    for page in report["pages"].as_array().into_iter().flatten() {
        let review = page["needsReview"].as_array().map_or(0, Vec::len);
        println!(
            "  {} ms  {}  {}{}",
            page["durationMs"],
            page["name"].as_str().unwrap_or("?"),
            page["phasesMs"],
            if review > 0 {
                format!("  ({review} point(s) qu'axe n'a pas pu trancher, voir needsReview)")
            } else {
                String::new()
            }
        );
    }
}
