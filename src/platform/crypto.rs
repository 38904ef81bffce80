//! Encryption of sensitive columns (health sheets, bank details): AES-256-GCM with a key
//! per city, derived (HKDF-SHA256) from the master key kept in a file outside the database
//! and the city's key identifier recorded in the registry. A database dump alone reveals
//! nothing; a plain copy of a city carries its key identifier and stays readable.
//!
//! Each sealed value is `1 (version) | nonce (12 bytes) | ciphertext and tag`, bound by
//! its associated data to the column and row it belongs to, so a value moved to another
//! row or column fails to open.

use std::path::Path;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use super::error::{AppError, AppResult};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// The master key (32 bytes), read once at start.
#[derive(Clone)]
pub struct MasterKey(Arc<[u8; 32]>);

impl MasterKey {
    /// Reads the master key file (64 hex characters), creating it (mode 600) on first use.
    pub fn load_or_create(path: &Path) -> anyhow::Result<MasterKey> {
        if !path.exists() {
            use rand::Rng;
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let key: [u8; 32] = rand::rng().random();
            // Another process may create it at the same moment: then read theirs.
            let created = std::fs::OpenOptions::new()
                .create_new(true)
                .write(true)
                .mode(0o600)
                .open(path);
            if let Ok(mut file) = created {
                file.write_all(hex::encode(key).as_bytes())?;
                file.sync_all()?;
                tracing::warn!(path = %path.display(), "new master key created: back it up apart from the database");
            }
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("clé maîtresse {} illisible : {e}", path.display()))?;
        let bytes = hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "clé maîtresse {} invalide : 64 caractères hexadécimaux attendus",
                    path.display()
                )
            })?;
        Ok(MasterKey(Arc::new(bytes)))
    }

    /// A master key from raw bytes (tests, benchmarks).
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        MasterKey(Arc::new(bytes))
    }

    /// The key of the city whose registry key identifier is `key_id`.
    pub fn city_key(&self, key_id: &str) -> CityKey {
        let hkdf = Hkdf::<Sha256>::new(Some(b"marelle-city-key"), self.0.as_slice());
        let mut key = [0u8; 32];
        hkdf.expand(key_id.as_bytes(), &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        CityKey(Arc::new(Aes256Gcm::new(&key.into())))
    }
}

/// A city's data key.
#[derive(Clone)]
pub struct CityKey(Arc<Aes256Gcm>);

impl CityKey {
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> AppResult<Vec<u8>> {
        use rand::Rng;
        let nonce: [u8; NONCE_LEN] = rand::rng().random();
        let ciphertext = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| AppError::internal(anyhow::anyhow!("chiffrement impossible")))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> AppResult<Vec<u8>> {
        let undecipherable =
            || AppError::internal(anyhow::anyhow!("donnée chiffrée illisible ({context})"));
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(undecipherable());
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| undecipherable())
    }

    pub fn seal_json<T: Serialize>(&self, context: &str, value: &T) -> AppResult<Vec<u8>> {
        self.seal(
            context,
            &serde_json::to_vec(value).map_err(AppError::internal)?,
        )
    }

    pub fn open_json<T: DeserializeOwned>(&self, context: &str, sealed: &[u8]) -> AppResult<T> {
        serde_json::from_slice(&self.open(context, sealed)?).map_err(AppError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let master = MasterKey::from_bytes([7; 32]);
        let corbas = master.city_key("corbas-key");
        let sealed = corbas
            .seal("health_sheets.medical:12", "asthme, ventoline".as_bytes())
            .unwrap();
        assert!(
            !sealed.windows(6).any(|w| w == b"asthme"),
            "no plaintext in the blob"
        );
        assert_eq!(
            corbas.open("health_sheets.medical:12", &sealed).unwrap(),
            b"asthme, ventoline"
        );
        assert!(
            corbas.open("health_sheets.medical:13", &sealed).is_err(),
            "bound to its row"
        );
        assert!(
            master
                .city_key("givors-key")
                .open("health_sheets.medical:12", &sealed)
                .is_err()
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(corbas.open("health_sheets.medical:12", &tampered).is_err());
        assert_ne!(
            sealed,
            corbas
                .seal("health_sheets.medical:12", "asthme, ventoline".as_bytes())
                .unwrap(),
            "fresh nonce"
        );
    }
}
