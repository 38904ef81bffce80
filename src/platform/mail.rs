//! Outgoing mail through the configured SMTP relay (lettre, rustls). The sender's display
//! name is the city's; a recette environment sends everything to the catch-all address,
//! the real recipient shown in the subject, so it never reaches real people.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::config::{Config, SmtpConfig};
use super::error::{AppError, AppResult};
use super::tenancy::City;

#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: String,
    recette_catchall: String,
}

/// A message ready to send (subject and plain-text body in French).
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mailer {
    pub fn new(config: &Config) -> AppResult<Mailer> {
        Ok(Mailer {
            transport: transport(&config.smtp)?,
            from: config.smtp.from.clone(),
            recette_catchall: config.recette_mail_catchall.clone(),
        })
    }

    pub async fn send(&self, city: &City, sender_name: &str, mail: Mail) -> AppResult<()> {
        let (to, subject) = if city.is_recette() {
            (
                self.recette_catchall.clone(),
                format!("[RECETTE {} → {}] {}", city.name, mail.to, mail.subject),
            )
        } else {
            (mail.to.clone(), mail.subject)
        };
        let from: Mailbox = format!("{sender_name} — {} <{}>", city.name, self.from)
            .parse()
            .or_else(|_| self.from.parse())
            .map_err(|e| AppError::internal(anyhow::anyhow!("expéditeur invalide : {e}")))?;
        let recipient: Mailbox = to
            .parse()
            .map_err(|_| AppError::invalid(format!("adresse de courriel invalide : {to}")))?;
        let message = Message::builder()
            .from(from)
            .to(recipient)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|e| AppError::internal(anyhow::anyhow!("courriel : {e}")))?;
        match &self.transport {
            Some(transport) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| AppError::internal(anyhow::anyhow!("envoi SMTP : {e}"))),
            None => {
                tracing::warn!(to = %to, "no SMTP relay configured: mail not sent");
                Ok(())
            }
        }
    }
}

fn transport(smtp: &SmtpConfig) -> AppResult<Option<AsyncSmtpTransport<Tokio1Executor>>> {
    if smtp.host.is_empty() {
        return Ok(None);
    }
    let builder = match smtp.tls.as_str() {
        "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|e| AppError::internal(anyhow::anyhow!("relais SMTP : {e}")))?,
        _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| AppError::internal(anyhow::anyhow!("relais SMTP : {e}")))?,
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(15)));
    if !smtp.user.is_empty() {
        builder = builder.credentials(Credentials::new(smtp.user.clone(), smtp.password.clone()));
    }
    Ok(Some(builder.build()))
}
