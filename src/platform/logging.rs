//! Structured logs: one line per event, carrying the span fields (request id, city).
//! `MARELLE_LOG` (or `RUST_LOG`) filters, `log_format = "json"` for log shippers.

use tracing_subscriber::EnvFilter;

pub fn init(format: &str) {
    let filter = std::env::var("MARELLE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,actix_server=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    // A second initialisation (tests) is harmless: keep the first subscriber.
    let _ = if format == "json" {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.compact().try_init()
    };
}
