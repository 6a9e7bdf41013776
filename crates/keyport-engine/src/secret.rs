//! Secrets are `secrecy::SecretString`: zeroised on drop, `Debug` redacted, no `Display`,
//! no `Serialize`, reached only through `expose_secret()`. Every such call is a place where
//! a secret leaves Keyport's custody (keychain, HTTP, stdout when asked, the clipboard).

pub use secrecy::{ExposeSecret, SecretString};

/// A secret from any string.
pub fn secret(s: impl Into<String>) -> SecretString {
    SecretString::from(s.into())
}

/// What a person may see of a secret to recognise it: at most its last four characters,
/// and only when it is long enough that four reveal little.
pub fn masked(s: &SecretString) -> String {
    let v = s.expose_secret();
    let n = v.chars().count();
    if n < 16 {
        return "••••".into();
    }
    let tail: String = v.chars().skip(n - 4).collect();
    format!("••••{tail}")
}

/// Serde glue for the one place secrets are serialised: the JSON blob inside a keychain entry.
pub(crate) mod serde_secret {
    use super::{secret, ExposeSecret, SecretString};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(v.expose_secret()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_the_mask_shows_at_most_the_last_four() {
        let s = secret("abcdefghijklmnopqrstuvwxyz");
        assert!(!format!("{s:?}").contains("abc"));
        assert_eq!(masked(&s), "••••wxyz");
        assert_eq!(masked(&secret("short")), "••••");
    }
}
