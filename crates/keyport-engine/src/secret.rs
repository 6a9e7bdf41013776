//! A string that must not leak: `Debug` prints `[redacted]`, there is no `Display`,
//! no `Serialize`, no `PartialEq`; the value is reached only through [`SecretString::expose`].

use std::fmt;

#[derive(Clone, Default)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Every call site is a place where the secret leaves Keyport's
    /// custody (keychain, HTTP header, stdout of `keyport token`, clipboard).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A hint a person can recognise the secret by (`abcd…wxyz`), or `****` when short.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 16 {
            return "****".into();
        }
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// Serde glue for the one place secrets are serialised: the JSON blob inside a keychain entry.
pub(crate) mod serde_secret {
    use super::SecretString;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(v.expose()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(SecretString::new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_mask_hides_the_middle() {
        let s = SecretString::new("abcdefghijklmnopqrstuvwxyz");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(s.masked(), "abcd…wxyz");
        assert_eq!(SecretString::new("short").masked(), "****");
    }
}
