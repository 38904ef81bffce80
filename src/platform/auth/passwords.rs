//! Passwords: argon2id hashes and the minimum policy (length, not the login, not a
//! well-known password).

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::platform::error::{AppError, AppResult};

/// 19 MiB, 2 passes, 1 lane (OWASP's argon2id minimum): about 13 ms per sign-in on a
/// 2-core server (see `cargo bench --bench identity`), well under the 50 ms budget.
fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters"),
    )
}

pub fn hash(password: &str) -> AppResult<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| AppError::internal(anyhow::anyhow!("sel argon2 : {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("hachage argon2 : {e}")))
}

/// Checks `password` against `stored`; with no stored hash, still spends the same time
/// so that timing does not tell whether an account exists.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash("mot de passe factice").expect("dummy hash"));
    let candidate = stored.unwrap_or(&DUMMY);
    let Ok(parsed) = PasswordHash::new(candidate) else {
        return false;
    };
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && stored.is_some()
}

/// Common passwords refused whatever the length rule (excerpt of public breach lists).
const COMMON: &[&str] = &[
    "123456789012",
    "azertyuiop123",
    "motdepasse123",
    "motdepasse1234",
    "password1234",
    "qwertyuiop123",
    "azertyuiopqs",
    "000000000000",
    "111111111111",
    "123123123123",
    "marseille1234",
    "bonjour12345",
    "soleil123456",
    "doudou123456",
    "chouchou1234",
    "jetaime12345",
    "loulou123456",
    "nicolas12345",
    "motdepasse!!",
    "azerty123456",
    "password123!",
    "iloveyou1234",
    "administrateur",
    "changeme1234",
    "bienvenue123",
];

/// The minimum policy: French message on refusal.
pub fn check_policy(password: &str, login: &str, min_length: usize) -> AppResult<()> {
    let length = password.chars().count();
    if length < min_length {
        return Err(AppError::invalid(format!(
            "le mot de passe doit compter au moins {min_length} caractères ({length} saisis)"
        )));
    }
    if length > 256 {
        return Err(AppError::invalid(
            "le mot de passe est trop long (256 caractères au plus)",
        ));
    }
    let lower = password.to_lowercase();
    if !login.is_empty() && lower.contains(&login.to_lowercase()) {
        return Err(AppError::invalid(
            "le mot de passe ne doit pas contenir l'identifiant",
        ));
    }
    if COMMON.contains(&lower.as_str())
        || password
            .chars()
            .all(|c| c == password.chars().next().unwrap_or(' '))
    {
        return Err(AppError::invalid(
            "ce mot de passe est trop courant : choisissez-en un autre (une phrase, par exemple)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() {
        let stored = hash("une phrase de passe solide").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(Some(&stored), "une phrase de passe solide"));
        assert!(!verify(Some(&stored), "une phrase de passe solidE"));
        assert!(!verify(None, "une phrase de passe solide"));
        assert!(!verify(Some("pas un hash"), "x"));
    }

    #[test]
    fn the_policy_refuses_short_common_and_login_based_passwords() {
        assert!(
            check_policy("court", "agnes", 12)
                .unwrap_err()
                .to_string()
                .contains("au moins 12")
        );
        assert!(check_policy("agnes.martin-2026", "agnes.martin", 12).is_err());
        assert!(check_policy("azertyuiop123", "x", 12).is_err());
        assert!(check_policy("aaaaaaaaaaaaaa", "x", 12).is_err());
        assert!(check_policy("Le chat de Corbas dort", "agnes", 12).is_ok());
    }
}
