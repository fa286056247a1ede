//! Session tokens: JWT, HS256 only.
//!
//! The algorithm is pinned (tokens with `alg: none`, HS384/HS512 or any
//! asymmetric algorithm are rejected before their signature is looked at),
//! `exp` is required, and clock leeway is [`LEEWAY_SECS`].

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::AuthError;
use crate::store::{Role, User, UserId};

/// Clock skew tolerated on `exp`, in seconds.
pub const LEEWAY_SECS: u64 = 30;

/// The token payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a decimal string.
    pub sub: String,
    /// The user's role when the token was issued.
    pub role: Role,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Issue time, Unix seconds.
    pub iat: u64,
    /// The user's token generation when the token was issued; a token from
    /// an older generation is refused (see `User::token_generation`).
    #[serde(default)]
    pub generation: u32,
}

impl Claims {
    /// The user id in `sub` ([`JwtKeys::verify`] has already checked it parses).
    pub fn user_id(&self) -> Result<UserId, AuthError> {
        self.sub.parse().map_err(|_| AuthError::InvalidToken)
    }
}

/// A token handed to a client. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The signed JWT.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &"***")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The signing secret and validation rules. `Debug` hides the secret.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys for HS256 with `secret`; tokens live for `ttl`. Checking the
    /// secret's length is the configuration's job.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp"]);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// A signed token for `user`.
    pub fn issue(&self, user: &User) -> Result<IssuedToken, AuthError> {
        let iat = now_secs();
        let expires_in = self.ttl.as_secs();
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role,
            exp: iat.saturating_add(expires_in),
            iat,
            generation: user.token_generation,
        };
        let access_token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
                .map_err(|_| AuthError::Internal("token signing failed"))?;
        Ok(IssuedToken {
            access_token,
            expires_in,
        })
    }

    /// The claims of a valid, unexpired HS256 token signed with our secret.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::InvalidToken,
            })?;
        data.claims.user_id()?;
        Ok(data.claims)
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::store::PasswordHash;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn user() -> User {
        User {
            id: 42,
            username: "ada".into(),
            password_hash: PasswordHash("x".into()),
            role: Role::Admin,
            created_at: 0,
            tier: None,
            disabled: false,
            token_generation: 0,
            deleted: false,
        }
    }

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, Duration::from_secs(3600))
    }

    fn sign(alg: Algorithm, claims: &Claims, secret: &[u8]) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "42".into(),
            role: Role::User,
            exp,
            iat: now_secs(),
            generation: 0,
        }
    }

    #[test]
    fn round_trip() {
        let keys = keys();
        let token = keys.issue(&user()).unwrap();
        assert_eq!(token.expires_in, 3600);
        let claims = keys.verify(&token.access_token).unwrap();
        assert_eq!(claims.sub, "42");
        assert_eq!(claims.user_id().unwrap(), 42);
        assert_eq!(claims.role, Role::Admin);
        assert_eq!(claims.exp, claims.iat + 3600);
    }

    #[test]
    fn expired_is_rejected_beyond_leeway() {
        let keys = keys();
        let old = sign(
            Algorithm::HS256,
            &claims(now_secs() - LEEWAY_SECS - 60),
            SECRET,
        );
        assert_eq!(keys.verify(&old), Err(AuthError::Expired));
        let recent = sign(Algorithm::HS256, &claims(now_secs() - 5), SECRET);
        assert!(keys.verify(&recent).is_ok(), "within leeway");
    }

    #[test]
    fn missing_exp_is_rejected() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(br#"{"sub":"42","role":"user","iat":0}"#);
        let token = format!("{header}.{body}");
        // Signed by hand: the claims type would always include `exp`.
        let sig = jsonwebtoken::crypto::sign(
            token.as_bytes(),
            &EncodingKey::from_secret(SECRET),
            Algorithm::HS256,
        )
        .unwrap();
        assert_eq!(
            keys().verify(&format!("{token}.{sig}")),
            Err(AuthError::InvalidToken)
        );
    }

    #[test]
    fn tampered_signature_and_payload_are_rejected() {
        let keys = keys();
        let token = keys.issue(&user()).unwrap().access_token;
        let (rest, sig) = token.rsplit_once('.').unwrap();
        let mut sig = sig.as_bytes().to_vec();
        sig[0] = if sig[0] == b'A' { b'B' } else { b'A' };
        let bad_sig = format!("{rest}.{}", String::from_utf8(sig).unwrap());
        assert_eq!(keys.verify(&bad_sig), Err(AuthError::InvalidToken));

        // Promote ourselves to admin with the original signature.
        let mut parts = token.split('.');
        let header = parts.next().unwrap();
        let _ = parts.next();
        let sig = parts.next().unwrap();
        let forged = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                sub: "1".into(),
                role: Role::Admin,
                exp: now_secs() + 3600,
                iat: now_secs(),
                generation: 0,
            })
            .unwrap(),
        );
        assert_eq!(
            keys.verify(&format!("{header}.{forged}.{sig}")),
            Err(AuthError::InvalidToken)
        );
        assert_eq!(keys.verify("not a token"), Err(AuthError::InvalidToken));
        assert_eq!(keys.verify(""), Err(AuthError::InvalidToken));
    }

    #[test]
    fn wrong_secret_is_rejected() {
        let other = JwtKeys::new(b"another secret, also 32 bytes!!!", Duration::from_secs(60));
        let token = other.issue(&user()).unwrap().access_token;
        assert_eq!(keys().verify(&token), Err(AuthError::InvalidToken));
    }

    #[test]
    fn alg_none_is_rejected() {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(now_secs() + 600)).unwrap());
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"alg":"None","typ":"JWT"}"#,
            r#"{"alg":"NONE"}"#,
        ] {
            let header = URL_SAFE_NO_PAD.encode(header);
            for token in [format!("{header}.{body}."), format!("{header}.{body}")] {
                assert_eq!(
                    keys().verify(&token),
                    Err(AuthError::InvalidToken),
                    "{token}"
                );
            }
        }
    }

    #[test]
    fn other_hmac_algorithms_with_the_same_secret_are_rejected() {
        for alg in [Algorithm::HS384, Algorithm::HS512] {
            let token = sign(alg, &claims(now_secs() + 600), SECRET);
            assert_eq!(
                keys().verify(&token),
                Err(AuthError::InvalidToken),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn non_numeric_sub_and_unknown_role_are_rejected() {
        let mut c = claims(now_secs() + 600);
        c.sub = "ada".into();
        assert_eq!(
            keys().verify(&sign(Algorithm::HS256, &c, SECRET)),
            Err(AuthError::InvalidToken)
        );

        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"1","role":"root","exp":{},"iat":0}}"#,
            now_secs() + 600
        ));
        let msg = format!("{header}.{body}");
        let sig = jsonwebtoken::crypto::sign(
            msg.as_bytes(),
            &EncodingKey::from_secret(SECRET),
            Algorithm::HS256,
        )
        .unwrap();
        assert_eq!(
            keys().verify(&format!("{msg}.{sig}")),
            Err(AuthError::InvalidToken)
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let keys = keys();
        let shown = format!("{keys:?}");
        assert!(!shown.contains("0123456789abcdef"));
        let token = keys.issue(&user()).unwrap();
        assert!(!format!("{token:?}").contains(&token.access_token));
    }
}
