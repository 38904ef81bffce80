//! Reading a multipart upload (one file and a few text fields) with its CSRF token checked
//! and its size bounded while it streams in.

use std::collections::HashMap;

use actix_multipart::Multipart;
use futures_util::StreamExt;

use crate::platform::auth::tokens::constant_time_eq;
use crate::platform::error::{AppError, AppResult};
use crate::web::faces::CsrfToken;

pub struct UploadForm {
    fields: HashMap<String, String>,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl UploadForm {
    pub fn field(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// Reads the form; refuses it (nothing kept) if the CSRF token is wrong, the file missing
/// or larger than `max_bytes`.
pub async fn read(
    mut multipart: Multipart,
    csrf: &CsrfToken,
    max_bytes: u64,
) -> AppResult<UploadForm> {
    let mut fields = HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(part) = multipart.next().await {
        let mut part = part.map_err(|_| AppError::invalid("envoi interrompu : recommencez"))?;
        let name = part.name().unwrap_or_default().to_string();
        let file_name = part
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(String::from);
        let limit = if file_name.is_some() { max_bytes } else { 4096 };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|_| AppError::invalid("envoi interrompu : recommencez"))?;
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(AppError::invalid(format!(
                    "fichier trop volumineux : {} Mo au plus",
                    max_bytes / (1024 * 1024)
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        match file_name {
            Some(file_name) if name == "file" => file = Some((file_name, bytes)),
            _ => {
                fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    let sent = fields.get("csrf").map(String::as_str).unwrap_or_default();
    if !constant_time_eq(sent.as_bytes(), csrf.0.as_bytes()) {
        return Err(AppError::forbidden(
            "Ce formulaire a expiré ou ne provient pas de ce site. Rechargez la page puis recommencez.",
        ));
    }
    let (file_name, bytes) = file
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| AppError::invalid("choisissez un fichier à envoyer"))?;
    Ok(UploadForm {
        fields,
        file_name,
        bytes,
    })
}
