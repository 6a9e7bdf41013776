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
    if let Some(found) = by_layout(bytes, name) {
        return Ok(found);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let found = Top(name).deserialize(&mut de)?;
    de.end()?;
    Ok(found)
}

/// The file as Keyport writes it (serde_json's pretty layout: a connection is an element
/// of the top-level `connections` array, its first key `name`), found by its bytes alone:
/// `\n    {\n      "name": "NAME",\n` holds raw line breaks, which no JSON string can, so
/// it is an element of a top-level array; it must lie between `\n  "connections": [\n` and
/// that array's end, `\n  ]`. Only that object is parsed, and its name checked. `None`
/// when the file is laid out otherwise (hand-edited) or the name is not there: the full
/// scan then decides.
fn by_layout(bytes: &[u8], name: &str) -> Option<Found> {
    use memchr::memmem;
    crate::model::validate_name(name).ok()?;
    let version = bytes.strip_prefix(b"{\n  \"version\": ").and_then(|rest| {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
    })?;
    let start = memmem::find(bytes, b"\n  \"connections\": [\n")?;
    let end = start + memmem::find(&bytes[start..], b"\n  ]")?;
    let needle = format!("\n    {{\n      \"name\": \"{name}\",\n");
    let at = start + memmem::find(&bytes[start..end], needle.as_bytes())? + 5;
    let mut stream = serde_json::Deserializer::from_slice(&bytes[at..]).into_iter::<Connection>();
    let c = stream.next()?.ok()?;
    (c.name == name).then_some(Found {
        version: Some(version),
        connection: Some(c),
    })
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
        while let Some(crate::model::Key(key)) = map.next_key()? {
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
        while let Some(crate::model::Key(key)) = map.next_key()? {
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

    #[test]
    fn the_written_layout_is_found_by_its_bytes_and_anything_else_by_the_scan() {
        let mut data = crate::storage::metadata::StoreData {
            version: 1,
            ..Default::default()
        };
        for n in ["a", "b", "c"] {
            data.connections.push(Connection {
                name: n.into(),
                vendor: "v".into(),
                // A note that looks like the layout, inside a string: escaped, never matched.
                note: Some(format!("\n    {{\n      \"name\": \"{n}x\",\n")),
                ..Default::default()
            });
        }
        let text = serde_json::to_vec_pretty(&data).unwrap();
        let b = by_layout(&text, "b").expect("found by its bytes");
        assert_eq!(b.connection.unwrap().name, "b");
        assert_eq!(b.version, Some(1));
        assert!(by_layout(&text, "bx").is_none(), "not in a string");
        assert!(find(&text, "bx").unwrap().connection.is_none());
        let compact = serde_json::to_vec(&data).unwrap();
        assert!(
            by_layout(&compact, "b").is_none(),
            "another layout: the scan"
        );
        assert_eq!(find(&compact, "b").unwrap().connection.unwrap().name, "b");
        let newer = String::from_utf8(text)
            .unwrap()
            .replace("\"version\": 1", "\"version\": 9");
        assert_eq!(find(newer.as_bytes(), "c").unwrap().version, Some(9));
    }
}
