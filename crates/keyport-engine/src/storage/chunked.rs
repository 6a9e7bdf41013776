//! An entry larger than one credential of the store holds, kept across several. The Windows
//! Credential Manager holds at most 2,560 bytes per generic credential, and one
//! connection's entry (a JWT access token, a rotating refresh token, a client secret) can
//! be larger.
//!
//! The head credential, under the entry's own target, holds either the entry itself (every
//! entry that fits: a small entry stays one credential, as it always was) or one line that
//! names a generation, the part count, the length and a SHA-256 of the whole. The parts live
//! under `HEAD (part I of N, GEN)`. A write puts the parts of a fresh generation first, then
//! the head in one call, then deletes the previous generation's parts, so a crash at any
//! point leaves the previous or the new entry readable, never a mix. A reader checks length
//! and digest and reads once more when a concurrent writer replaced the parts meanwhile.
//! Deleting removes the head first. Parts that no head names (a crash's leftovers) are
//! swept by a later write once they are older than [`STRAY_AGE`], so a write still in
//! flight is never swept; a write that took longer than half that gives up, nothing changed.
//!
//! Pure code over [`Cells`] (one credential by target); the platform store implements it.

use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use zeroize::Zeroizing;

/// The largest entry kept at all: far above any vendor's tokens (26 Windows credentials).
pub(crate) const MAX_ENTRY: usize = 64 * 1024;
/// Parts of a generation no head names are swept once this old (seconds).
pub(crate) const STRAY_AGE: u64 = 600;
/// A write whose parts took longer than this gives up before its head is written.
const WRITE_WINDOW: u64 = STRAY_AGE / 2;
/// What a head holding parts starts with. A plain entry never starts with `keyport-`
/// (one that would is written as parts), so the two cannot be confused.
const MAGIC: &str = "keyport-parts/1 ";
/// What a credential being created holds before its value: read as no entry at all.
pub(crate) const PENDING: &[u8] = b"keyport-pending";

pub(crate) type Bytes = Zeroizing<Vec<u8>>;

/// One credential store, one credential at a time.
pub(crate) trait Cells {
    /// The most bytes one credential holds.
    fn limit(&self) -> usize;
    /// `None` when there is no credential under `target`.
    fn get(&self, target: &str) -> Result<Option<Bytes>>;
    /// Creates or replaces one credential in one call; `label` names it for people.
    fn set(&self, target: &str, label: &str, value: &[u8]) -> Result<()>;
    /// Deleting nothing succeeds.
    fn delete(&self, target: &str) -> Result<()>;
    /// The targets starting with `prefix` that are named as parts.
    fn parts(&self, prefix: &str) -> Result<Vec<String>>;
    /// Seconds since the Unix epoch.
    fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// Where one entry lives: `head` its own target, `label` what people see, `namespace` the
/// prefix every target of this store's entries starts with (what a sweep looks through).
pub(crate) struct Names<'a> {
    pub key: &'a str,
    pub head: &'a str,
    pub label: &'a str,
    pub namespace: &'a str,
}

struct Head {
    generation: String,
    parts: usize,
    bytes: usize,
    sha256: String,
}

impl Head {
    fn line(&self) -> String {
        format!(
            "{MAGIC}gen={} parts={} bytes={} sha256={}",
            self.generation, self.parts, self.bytes, self.sha256
        )
    }

    /// `None` for a plain entry; `Some(Err)` for a head that starts as parts but is not.
    fn parse(value: &[u8]) -> Option<std::result::Result<Head, ()>> {
        let rest = value.strip_prefix(MAGIC.as_bytes())?;
        let parse = || {
            let text = std::str::from_utf8(rest).map_err(drop)?;
            let fields: HashMap<&str, &str> = text
                .split(' ')
                .map(|kv| kv.split_once('=').ok_or(()))
                .collect::<std::result::Result<_, ()>>()?;
            let field = |k| fields.get(k).copied().ok_or(());
            let head = Head {
                generation: field("gen")?.to_owned(),
                parts: field("parts")?.parse().map_err(drop)?,
                bytes: field("bytes")?.parse().map_err(drop)?,
                sha256: field("sha256")?.to_owned(),
            };
            let ok = fields.len() == 4
                && generation_time(&head.generation).is_some()
                && head.bytes <= MAX_ENTRY
                && head.parts <= MAX_ENTRY
                && head.sha256.len() == 64;
            ok.then_some(head).ok_or(())
        };
        Some(parse())
    }
}

fn part_target(head: &str, i: usize, n: usize, generation: &str) -> String {
    format!("{head} (part {i} of {n}, {generation})")
}

/// A part's target split into its head and its generation.
fn parse_part(target: &str) -> Option<(&str, &str)> {
    let (head, rest) = target.rsplit_once(" (part ")?;
    let (_counts, generation) = rest.strip_suffix(')')?.split_once(", ")?;
    generation_time(generation).map(|_| (head, generation))
}

/// A generation is 16 hex digits: the second it began, then 32 random bits.
fn generation_time(generation: &str) -> Option<u64> {
    if generation.len() != 16 || !generation.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(&generation[..8], 16).ok()
}

fn fresh_generation(now: u64) -> String {
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).expect("the OS random source works");
    format!("{:08x}{:08x}", now as u32, u32::from_be_bytes(random))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn damaged(key: &str, detail: &str) -> Error {
    Error::KeychainData {
        name: key.into(),
        detail: detail.into(),
    }
}

/// The entry under `names.head`, whole, or `None` when there is none.
pub(crate) fn read(cells: &dyn Cells, names: &Names) -> Result<Option<Bytes>> {
    // A writer that replaced the parts between our reading the head and the parts: once more.
    for _ in 0..2 {
        let Some(value) = cells.get(names.head)? else {
            return Ok(None);
        };
        if value.is_empty() || value.as_slice() == PENDING {
            return Ok(None);
        }
        let head = match Head::parse(&value) {
            None => return Ok(Some(value)),
            Some(Err(())) => {
                return Err(damaged(
                    names.key,
                    "its first credential names its parts in a form Keyport does not read",
                ))
            }
            Some(Ok(head)) => head,
        };
        if let Some(whole) = gather(cells, names, &head)? {
            return Ok(Some(whole));
        }
    }
    Err(damaged(
        names.key,
        "some of the credentials it is split across are missing or do not match",
    ))
}

/// The parts a head names, joined; `None` when one is missing or they do not match it.
fn gather(cells: &dyn Cells, names: &Names, head: &Head) -> Result<Option<Bytes>> {
    let mut whole = Zeroizing::new(Vec::with_capacity(head.bytes));
    for i in 1..=head.parts {
        match cells.get(&part_target(names.head, i, head.parts, &head.generation))? {
            Some(part) if whole.len() + part.len() <= head.bytes => whole.extend_from_slice(&part),
            _ => return Ok(None),
        }
    }
    let digest = hex(&Sha256::digest(whole.as_slice()));
    Ok((whole.len() == head.bytes && digest == head.sha256).then_some(whole))
}

/// Writes `value` under `names.head`: one credential when it fits, else parts then head.
pub(crate) fn write(cells: &dyn Cells, names: &Names, value: &[u8]) -> Result<()> {
    if value.len() > MAX_ENTRY {
        return Err(Error::KeychainTooLarge {
            name: names.key.into(),
            bytes: value.len(),
            max: MAX_ENTRY,
        });
    }
    let previous = cells
        .get(names.head)?
        .and_then(|v| Head::parse(&v).and_then(|h| h.ok()));
    let plain =
        !value.is_empty() && value.len() <= cells.limit() && !value.starts_with(b"keyport-");
    if plain {
        cells.set(names.head, names.label, value)?;
    } else {
        let head = write_parts(cells, names, value)?;
        cells.set(names.head, names.label, head.line().as_bytes())?;
    }
    // The new entry stands; what follows only tidies up, and a failure there loses nothing.
    if let Some(p) = previous {
        for i in 1..=p.parts {
            let _ = cells.delete(&part_target(names.head, i, p.parts, &p.generation));
        }
    }
    let _ = sweep(cells, names.namespace);
    Ok(())
}

/// Writes the parts of a fresh generation; on failure, removes those it wrote.
fn write_parts(cells: &dyn Cells, names: &Names, value: &[u8]) -> Result<Head> {
    let started = cells.now();
    let generation = fresh_generation(started);
    let pieces: Vec<&[u8]> = value.chunks(cells.limit().max(1)).collect();
    let n = pieces.len();
    let target = |i| part_target(names.head, i, n, &generation);
    let undo = |upto: usize| {
        for i in 1..=upto {
            let _ = cells.delete(&target(i));
        }
    };
    for (i, piece) in pieces.iter().enumerate() {
        let label = format!("{} (part {} of {n})", names.label, i + 1);
        if let Err(e) = cells.set(&target(i + 1), &label, piece) {
            undo(i + 1);
            return Err(e);
        }
    }
    if cells.now().saturating_sub(started) > WRITE_WINDOW {
        undo(n);
        return Err(super::keychain::unavailable(format!(
            "writing the {n} credentials that hold one entry took more than {WRITE_WINDOW} s, so it was given up and nothing changed; try again"
        )));
    }
    Ok(Head {
        generation,
        parts: n,
        bytes: value.len(),
        sha256: hex(&Sha256::digest(value)),
    })
}

/// Deletes the entry: the head first, so no reader ever finds a head without its parts.
pub(crate) fn delete(cells: &dyn Cells, names: &Names) -> Result<()> {
    let previous = cells
        .get(names.head)?
        .and_then(|v| Head::parse(&v).and_then(|h| h.ok()));
    cells.delete(names.head)?;
    // Gone for every reader now; parts left by a failure here are swept later.
    if let Some(p) = previous {
        for i in 1..=p.parts {
            let _ = cells.delete(&part_target(names.head, i, p.parts, &p.generation));
        }
    }
    let _ = sweep(cells, names.namespace);
    Ok(())
}

/// Deletes the parts under `namespace` that their head does not name and that are older
/// than [`STRAY_AGE`].
fn sweep(cells: &dyn Cells, namespace: &str) -> Result<()> {
    let now = cells.now();
    let mut heads: HashMap<String, Option<String>> = HashMap::new();
    for target in cells.parts(namespace)? {
        let Some((head, generation)) = parse_part(&target) else {
            continue;
        };
        let young = generation_time(generation).is_some_and(|t| now < t + STRAY_AGE);
        if young || !target.starts_with(namespace) {
            continue;
        }
        if !heads.contains_key(head) {
            let named = cells
                .get(head)?
                .and_then(|v| Head::parse(&v).and_then(|h| h.ok()))
                .map(|h| h.generation);
            heads.insert(head.to_owned(), named);
        }
        if heads[head].as_deref() != Some(generation) {
            cells.delete(&target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "chunked_tests.rs"]
mod tests;
