//! `Connection` read in one pass: each known key straight into its field, any other kept
//! in `unknown` (a newer Keyport's fields survive a rewrite). A derived `#[serde(flatten)]`
//! would first buffer every connection whole; `keyport list` reads a thousand of them.

use super::Connection;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A map key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct K;
        impl<'de> Visitor<'de> for K {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(K)
    }
}

impl<'de> Deserialize<'de> for Connection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ConnectionVisitor)
    }
}

struct ConnectionVisitor;

impl<'de> Visitor<'de> for ConnectionVisitor {
    type Value = Connection;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a connection")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Connection, A::Error> {
        let mut c = Connection::default();
        let (mut name, mut vendor, mut created) = (false, false, false);
        while let Some(Key(key)) = map.next_key()? {
            match key.as_ref() {
                "name" => (c.name, name) = (map.next_value()?, true),
                "vendor" => (c.vendor, vendor) = (map.next_value()?, true),
                "created_at" => (c.created_at, created) = (map.next_value()?, true),
                "health" => c.health = map.next_value::<Option<_>>()?.unwrap_or_default(),
                "oauth" => c.oauth = map.next_value()?,
                "account" => c.account = map.next_value::<Option<_>>()?.unwrap_or_default(),
                "base_url" => c.base_url = map.next_value()?,
                "test_path" => c.test_path = map.next_value()?,
                "expires_at" => c.expires_at = map.next_value()?,
                "consented_at" => c.consented_at = map.next_value()?,
                "last_refresh" => c.last_refresh = map.next_value()?,
                "note" => c.note = map.next_value()?,
                "client" => c.client = map.next_value()?,
                "unverified" => c.unverified = map.next_value()?,
                "notified" => c.notified = map.next_value::<Option<_>>()?.unwrap_or_default(),
                "store" => c.store = map.next_value()?,
                "last_refresh_by" => c.last_refresh_by = map.next_value()?,
                "shared_by" => c.shared_by = map.next_value()?,
                "shared_at" => c.shared_at = map.next_value()?,
                _ => {
                    let v: serde_json::Value = map.next_value()?;
                    c.unknown.insert(key.into_owned(), v);
                }
            }
        }
        for (seen, field) in [(name, "name"), (vendor, "vendor"), (created, "created_at")] {
            if !seen {
                return Err(de::Error::missing_field(field));
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_read_and_unknown_ones_are_kept_through_a_rewrite() {
        let c = Connection {
            name: "a".into(),
            vendor: "v".into(),
            created_at: 5,
            health: super::super::Health::RefreshFailed {
                reason: "r".into(),
                at: 6,
            },
            base_url: Some("https://x".into()),
            test_path: Some("/t".into()),
            expires_at: Some(7),
            consented_at: Some(8),
            last_refresh: Some(9),
            note: Some("n".into()),
            client: Some("c".into()),
            unverified: Some("u".into()),
            notified: vec!["7d".into()],
            store: Some("bao://127.0.0.1:1/m/p".into()),
            last_refresh_by: Some("h/u".into()),
            shared_by: Some("h/v".into()),
            shared_at: Some(10),
            ..Connection::default()
        };
        let mut v = serde_json::to_value(&c).unwrap();
        v["colour"] = serde_json::json!({"x": [1]});
        let back: Connection = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), v, "nothing lost");
        assert!(serde_json::from_str::<Connection>(r#"{"name":"a","vendor":"v"}"#).is_err());
        let e = serde_json::from_str::<Connection>(r#"{"name":"a","created_at":1}"#).unwrap_err();
        assert!(e.to_string().contains("vendor"), "{e}");
        let k: Connection =
            serde_json::from_str(r#"{"na\u006de":"a","vendor":"v","created_at":1,"health":null}"#)
                .unwrap();
        assert_eq!(k.name, "a", "an escaped key is read too");
    }
}
