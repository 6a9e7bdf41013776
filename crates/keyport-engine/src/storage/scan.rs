//! One connection out of the metadata file without parsing the others: the token path
//! (`keyport token NAME`, a keychain read's routing) reads one of perhaps a thousand. The
//! file is scanned once; every other connection is skipped as it is read (serde's
//! `IgnoredAny`, no allocation), and only the one named is built. The file's `version`
//! is checked as a full read checks it.

use crate::model::Connection;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// What the scan found: the file's format version and the connection, if it is there.
pub(crate) struct Found {
    pub version: Option<u32>,
    pub connection: Option<Connection>,
}

pub(crate) fn find(bytes: &[u8], name: &str) -> serde_json::Result<Found> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let found = Top(name).deserialize(&mut de)?;
    de.end()?;
    Ok(found)
}

struct Top<'n>(&'n str);

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = Found;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Found, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Found;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("Keyport's metadata object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        let mut found = Found {
            version: None,
            connection: None,
        };
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "version" => found.version = Some(map.next_value()?),
                "connections" => found.connection = map.next_value_seed(List(self.0))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

struct List<'n>(&'n str);

impl<'de> DeserializeSeed<'de> for List<'_> {
    type Value = Option<Connection>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for List<'_> {
    type Value = Option<Connection>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of connections")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(one) = seq.next_element_seed(One(self.0))? {
            if one.is_some() && found.is_none() {
                found = one;
            }
        }
        Ok(found)
    }
}

/// One connection: `Some` only when its name is the one asked for.
struct One<'n>(&'n str);

impl<'de> DeserializeSeed<'de> for One<'_> {
    type Value = Option<Connection>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for One<'_> {
    type Value = Option<Connection>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a connection")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Keyport writes `name` first: a connection of another name is skipped at once.
        // Any other order (a hand-edited file) is read whole, then judged by its name.
        let mut fields = serde_json::Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "name" {
                let name: std::borrow::Cow<'de, str> = map.next_value()?;
                if name != self.0 {
                    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                    return Ok(None);
                }
                fields.insert("name".into(), serde_json::Value::String(name.into_owned()));
            } else {
                let v: serde_json::Value = map.next_value()?;
                fields.insert(key.into_owned(), v);
            }
        }
        if fields.get("name").and_then(|n| n.as_str()) != Some(self.0) {
            return Ok(None);
        }
        serde_json::from_value(serde_json::Value::Object(fields))
            .map(Some)
            .map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_one_connection_in_any_field_order_and_skips_the_rest() {
        let text = br#"{"version":1,"registrations":[{"vendor":"v","client_id":"c"}],
            "connections":[
              {"name":"a","vendor":"x","created_at":1,"note":"n\"a","colour":[1,{"k":"}"}]},
              {"vendor":"y","created_at":2,"name":"b","client":"B"},
              {"name":"c","vendor":"z","created_at":3}]}"#;
        let f = find(text, "b").unwrap();
        assert_eq!(f.version, Some(1));
        let b = f.connection.expect("b");
        assert_eq!((b.vendor.as_str(), b.client.as_deref()), ("y", Some("B")));
        let a = find(text, "a").unwrap().connection.expect("a");
        assert_eq!(a.note.as_deref(), Some("n\"a"));
        assert!(a.unknown.contains_key("colour"), "unknown fields are kept");
        assert!(find(text, "nobody").unwrap().connection.is_none());
        assert!(
            find(br#"{"connections":[{"name":"a"}"#, "a").is_err(),
            "cut short"
        );
        assert!(find(br#"{"version":1} x"#, "a").is_err(), "trailing bytes");
    }
}
