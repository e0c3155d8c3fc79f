//! Client ids, client secrets and their argon2id hashes.
//!
//! Both are random: the id 16 bytes (32 lowercase hex digits), the secret
//! 32 bytes (43 characters of unpadded base64url). Neither contains `:`, so
//! they fit HTTP Basic as they are, and neither needs percent-encoding in a
//! form body. Only the argon2id hash of the secret is stored (PHC string,
//! the crate's default parameters: 19 MiB, 2 passes, 1 lane), so a
//! verification costs tens of milliseconds on purpose: the server runs it
//! on the threads of [`crate::auth::verifier`] and the guard caches successful
//! ones.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// A new random client id.
pub fn new_client_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random client secret.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The argon2id PHC string of `secret` (random salt).
pub fn hash_secret(secret: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the client secret failed: {e}"))
}

/// Whether `secret` matches the stored PHC string. A malformed stored hash
/// never matches. Allocates argon2's memory per call: the server verifies
/// on [`crate::auth::verifier::Verifier`] instead.
pub fn verify_secret(secret: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => Argon2::default()
            .verify_password(secret.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_secrets_are_random_and_basic_safe() {
        let (a, b) = (new_client_id(), new_client_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        let s = new_secret();
        assert_eq!(s.len(), 43);
        assert!(
            s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn hashes_verify_only_the_right_secret() {
        let secret = new_secret();
        let hash = hash_secret(&secret).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains(&secret));
        assert!(verify_secret(&secret, &hash));
        assert!(!verify_secret("wrong", &hash));
        assert!(!verify_secret(&secret, "not a phc string"));
        // A second hash of the same secret has another salt.
        assert_ne!(hash, hash_secret(&secret).unwrap());
    }
}
