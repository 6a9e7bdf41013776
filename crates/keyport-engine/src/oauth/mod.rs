//! OAuth 2.0 pieces: `state` and PKCE (RFC 7636), discovery (OpenID Connect Discovery),
//! the token endpoint (code exchange and refresh), RFC 7009 revocation, and turning a
//! vendor's error body into advice.

pub(crate) mod discovery;
mod revocation;
mod token;

pub(crate) use discovery::discover;
pub(crate) use revocation::revoke;
#[cfg(test)]
pub(crate) use token::parse_token_response;
pub(crate) use token::{jwt_exp, token_request, Op, TokenResponse};

use crate::model::ClientAuth;
use crate::secret::{secret, ExposeSecret, SecretString};
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// `n` random bytes from the OS, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the OS random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Constant-time comparison for `state`.
pub fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// RFC 7636 S256.
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Self {
        let verifier = random_token(32); // 43 characters
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier: secret(verifier),
            challenge,
        }
    }
}

/// The client-authentication part of a token or revocation request.
pub struct Client<'a> {
    pub id: &'a str,
    pub secret: Option<&'a SecretString>,
    pub auth: ClientAuth,
}

impl Client<'_> {
    /// Adds the body fields for this client, and returns the Basic credentials if any.
    fn apply<'f>(&'f self, form: &mut Vec<(&'f str, &'f str)>) -> Option<(&'f str, &'f str)> {
        match (self.auth, self.secret) {
            (ClientAuth::Basic, Some(s)) => Some((self.id, s.expose_secret())),
            (ClientAuth::Post, Some(s)) => {
                form.push(("client_id", self.id));
                form.push(("client_secret", s.expose_secret()));
                None
            }
            _ => {
                form.push(("client_id", self.id));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_and_state_are_random_and_well_formed() {
        let p = Pkce::new();
        assert_eq!(p.verifier.expose_secret().len(), 43);
        let expect = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(p.verifier.expose_secret().as_bytes()));
        assert_eq!(p.challenge, expect);
        assert_ne!(random_token(16), random_token(16));
        assert!(ct_eq("abc", "abc") && !ct_eq("abc", "abd") && !ct_eq("abc", "ab"));
    }
}
