//! Access tokens: HS256 JWTs issued by `POST /connect/token`.
//!
//! The key is derived from the service's signing key (the one shared by all
//! instances through the database, or `APP_SIGNING_KEY`) as
//! `HMAC-SHA256(signing_key, "odata-users access token v1")`, so skiptokens
//! and access tokens are signed with different keys and one can never be
//! passed off as the other. Every instance sharing the database verifies
//! the tokens of every other.
//!
//! Claims: `iss` and `aud` (`odata-users`), `sub` (the client id), `tenant`,
//! `org` (the keys as stored), `scope` (space-separated), `iat`, `exp`,
//! `jti`. Expiry is checked without leeway.

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Principal, Scopes};

/// `iss` and `aud` of every token.
pub const ISSUER: &str = "odata-users";

const KEY_LABEL: &[u8] = b"odata-users access token v1";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub tenant: String,
    pub org: String,
    pub scope: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

/// Why a token was refused (the `error_description` of the challenge).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is invalid")]
    Invalid,
}

/// Signing and verification keys of access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    /// Derives the token key from the service's signing key.
    pub fn derive(signing_key: &[u8]) -> TokenKeys {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(signing_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(KEY_LABEL);
        let key = mac.finalize().into_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        // Both refuse only an empty key; an HMAC output never is.
        let (Ok(encoding), Ok(decoding)) = (
            EncodingKey::from_secret(&key),
            DecodingKey::from_secret(&key),
        ) else {
            unreachable!("a 32-byte HMAC output is a valid HS256 key")
        };
        TokenKeys {
            encoding,
            decoding,
            validation,
        }
    }

    /// A signed token for `principal`, valid `ttl_seconds` from `now` (Unix seconds).
    pub fn issue(
        &self,
        principal: &Principal,
        now: u64,
        ttl_seconds: u64,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: ISSUER.to_owned(),
            sub: principal.client_id.clone(),
            tenant: principal.tenant_key.clone(),
            org: principal.org_key.clone(),
            scope: principal.scopes.to_string(),
            iat: now,
            exp: now.saturating_add(ttl_seconds),
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing an access token failed: {e}"))
    }

    /// The principal of a valid, unexpired token.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        let claims = data.claims;
        let scopes = Scopes::parse(&claims.scope).map_err(|_| TokenError::Invalid)?;
        Ok(Principal {
            client_id: claims.sub,
            tenant_key: claims.tenant,
            org_key: claims.org,
            scopes,
        })
    }
}

/// Seconds since the Unix epoch.
pub fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            client_id: "c1".into(),
            tenant_key: "Acme".into(),
            org_key: "Main".into(),
            scopes: Scopes::parse("identity.read").unwrap(),
        }
    }

    #[test]
    fn round_trips_and_rejects_tampering() {
        let keys = TokenKeys::derive(b"0123456789abcdef0123456789abcdef");
        let token = keys.issue(&principal(), now_seconds(), 60).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), principal());
        let other = TokenKeys::derive(b"another key, another service....");
        assert_eq!(other.verify(&token), Err(TokenError::Invalid));
        let mut forged = token.clone();
        forged.pop();
        assert_eq!(keys.verify(&forged), Err(TokenError::Invalid));
        assert_eq!(keys.verify("not.a.jwt"), Err(TokenError::Invalid));
        assert_eq!(keys.verify(""), Err(TokenError::Invalid));
    }

    #[test]
    fn expired_tokens_are_refused_without_leeway() {
        let keys = TokenKeys::derive(b"0123456789abcdef0123456789abcdef");
        let token = keys.issue(&principal(), now_seconds() - 10, 5).unwrap();
        assert_eq!(keys.verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn the_token_key_is_not_the_signing_key() {
        // A token signed with the raw signing key (as a skiptoken is) fails.
        let raw = b"0123456789abcdef0123456789abcdef";
        let claims = Claims {
            iss: ISSUER.into(),
            aud: ISSUER.into(),
            sub: "c1".into(),
            tenant: "Acme".into(),
            org: "Main".into(),
            scope: "identity.read".into(),
            iat: now_seconds(),
            exp: now_seconds() + 60,
            jti: "x".into(),
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(raw).unwrap(),
        )
        .unwrap();
        assert_eq!(
            TokenKeys::derive(raw).verify(&token),
            Err(TokenError::Invalid)
        );
    }
}
