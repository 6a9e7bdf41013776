//! A shared store: one KV v2 entry per connection in OpenBao / HashiCorp Vault, at
//! `MOUNT/data/PREFIX/NAME`, holding the connection (no secret), its secrets, and while
//! someone refreshes, the claim. One entry, so one check-and-set write covers all three.
//!
//! The claim protocol (refreshed exactly once across computers): read the entry and its
//! version `v`; if another claim is live, wait for it to go and read again; else write
//! `claim = {until, by, id}` with `cas = v`. Who wins refreshes at the vendor and writes
//! the new tokens with `cas = v + 1`, keeping the claim, then the new expiry, then takes
//! the claim away. A loser saw the claim (or lost the check-and-set) and waits for the
//! claim to go, then uses the winner's token. A claim past `until` may be taken over.

mod client;
mod entry;

pub use client::BaoAuth;
pub(crate) use entry::Bao;

use crate::{Error, Result};
use std::fmt;

/// Where a shared store is: `bao://HOST:PORT/MOUNT/PREFIX` (plain HTTP, this computer
/// only) or `baos://…` (TLS); `http://` and `https://` are taken the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// `http(s)://HOST:PORT`.
    pub base: String,
    pub mount: String,
    /// The folder under the mount, without slashes at either end.
    pub prefix: String,
    /// As given, for messages and for references.
    text: String,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Address {
    pub fn parse(text: &str) -> Result<Address> {
        let text = text.trim();
        let bad = |why: &str| {
            Error::input(format!(
                "'{}' is not a shared store address ({why}); give it as bao://127.0.0.1:8200/MOUNT/PREFIX on this computer, or baos://HOST:PORT/MOUNT/PREFIX (TLS) elsewhere.",
                crate::http::excerpt(text)
            ))
        };
        let (scheme, rest) = text.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let http = match scheme {
            "bao" | "http" => "http",
            "baos" | "https" => "https",
            _ => return Err(bad("the scheme is not bao:// or baos://")),
        };
        let (host, path) = rest.split_once('/').ok_or_else(|| bad("no mount"))?;
        let base = format!("{http}://{host}");
        let url = crate::http::checked_url(&base, "shared store address")?;
        if url.host().is_none() {
            return Err(bad("no host"));
        }
        let mut parts = path.trim_matches('/').splitn(2, '/');
        let mount = parts.next().filter(|m| !m.is_empty());
        let prefix = parts.next().map(|p| p.trim_matches('/')).unwrap_or("");
        let Some(mount) = mount else {
            return Err(bad("no mount"));
        };
        let plain = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        };
        if prefix.is_empty() || !plain(mount) || !plain(prefix) || prefix.contains("//") {
            return Err(bad(
                "it needs a mount and a folder of letters, digits, '-', '_' or '.'",
            ));
        }
        Ok(Address {
            base: url.as_str().trim_end_matches('/').to_owned(),
            mount: mount.to_owned(),
            prefix: prefix.to_owned(),
            text: text.to_owned(),
        })
    }

    /// The path of `key` under the prefix. Connection names are plain; other keys (an app
    /// registration's saved secret) are hashed into a folder of their own.
    fn key(&self, key: &str) -> String {
        if crate::model::validate_name(key).is_ok() {
            format!("{}/{key}", self.prefix)
        } else {
            use sha2::Digest;
            let h = sha2::Sha256::digest(key.as_bytes());
            let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
            format!("{}/_apps/{hex}", self.prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_and_plain_http_only_goes_to_this_computer() {
        let a = Address::parse("bao://127.0.0.1:8200/secret/keyport/team").unwrap();
        assert_eq!(a.base, "http://127.0.0.1:8200");
        assert_eq!(
            (a.mount.as_str(), a.prefix.as_str()),
            ("secret", "keyport/team")
        );
        assert_eq!(a.key("acme"), "keyport/team/acme");
        assert!(a
            .key("app:x:https://h:id")
            .starts_with("keyport/team/_apps/"));
        let t = Address::parse("baos://vault.example.com:8200/kv/keyport").unwrap();
        assert_eq!(t.base, "https://vault.example.com:8200");
        let e = Address::parse("bao://vault.example.com:8200/kv/keyport").unwrap_err();
        assert!(e.to_string().contains("plain HTTP"), "{e}");
        for bad in [
            "bao://127.0.0.1:8200",
            "bao://127.0.0.1:8200/kv",
            "s3://x/y/z",
            "kv/x",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
    }
}
