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
//! and digest and reads once more when a writer replaced the parts meanwhile. Deleting
//! removes the head first.
//!
//! Before parts are written or removed, the generations involved are noted in one more
//! credential, `HEAD (parts to tidy)`, which is deleted when the change is done. The next
//! write of the entry deletes the parts of a noted generation its head does not name: what
//! a crash left behind. That needs no listing of the store (Wine's is unreliable) and is
//! safe because the writers of one entry take turns (the connection's claim, a file lock).
//!
//! Pure code over [`Cells`] (one credential by target); the platform store implements it.

use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use zeroize::Zeroizing;

/// The largest entry kept at all: far above any vendor's tokens (26 Windows credentials).
pub(crate) const MAX_ENTRY: usize = 64 * 1024;
/// What a head holding parts starts with. A plain entry never starts with `keyport-`
/// (one that would is written as parts), so the two cannot be confused.
const MAGIC: &str = "keyport-parts/1 ";
/// What the credential of generations to tidy starts with.
const TIDY: &str = "keyport-tidy/1";
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
}

/// Where one entry lives: `head` its own target, `label` what people see, `key` the
/// connection (or registration) it belongs to, for messages.
pub(crate) struct Names<'a> {
    pub key: &'a str,
    pub head: &'a str,
    pub label: &'a str,
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
                && is_generation(&head.generation)
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

/// A generation is 16 random hex digits.
fn is_generation(generation: &str) -> bool {
    generation.len() == 16 && generation.bytes().all(|b| b.is_ascii_hexdigit())
}

fn fresh_generation() -> String {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("the OS random source works");
    hex(&random)
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

fn tidy_target(head: &str) -> String {
    format!("{head} (parts to tidy)")
}

/// The head's parts, when it names some.
fn parts_of(cells: &dyn Cells, head: &str) -> Result<Option<Head>> {
    Ok(cells
        .get(head)?
        .and_then(|v| Head::parse(&v).and_then(|h| h.ok())))
}

/// The generations noted in `HEAD (parts to tidy)`: `(generation, parts)`.
fn noted(cells: &dyn Cells, head: &str) -> Result<Vec<(String, usize)>> {
    let Some(v) = cells.get(&tidy_target(head))? else {
        return Ok(Vec::new());
    };
    let text = String::from_utf8_lossy(&v);
    let Some(rest) = text.strip_prefix(TIDY) else {
        return Ok(Vec::new());
    };
    Ok(rest
        .split_whitespace()
        .filter_map(|g| {
            let (generation, n) = g.split_once(':')?;
            let n: usize = n.parse().ok()?;
            (is_generation(generation) && n <= MAX_ENTRY).then(|| (generation.to_owned(), n))
        })
        .collect())
}

fn note(cells: &dyn Cells, names: &Names, generations: &[(&str, usize)]) -> Result<()> {
    let mut line = TIDY.to_owned();
    for (generation, n) in generations {
        line.push_str(&format!(" {generation}:{n}"));
    }
    let label = format!("{} (parts to tidy)", names.label);
    cells.set(&tidy_target(names.head), &label, line.as_bytes())
}

fn remove_parts(cells: &dyn Cells, head: &str, generation: &str, n: usize) -> Result<()> {
    for i in 1..=n {
        cells.delete(&part_target(head, i, n, generation))?;
    }
    Ok(())
}

/// Deletes the parts a crash left: the noted generations the head does not name.
fn tidy(cells: &dyn Cells, names: &Names, current: Option<&Head>) -> Result<()> {
    for (generation, n) in noted(cells, names.head)? {
        if current.map(|h| h.generation.as_str()) != Some(generation.as_str()) {
            remove_parts(cells, names.head, &generation, n)?;
        }
    }
    Ok(())
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
    let previous = parts_of(cells, names.head)?;
    tidy(cells, names, previous.as_ref())?;
    let old = previous.as_ref().map(|p| (p.generation.as_str(), p.parts));
    let plain =
        !value.is_empty() && value.len() <= cells.limit() && !value.starts_with(b"keyport-");
    if plain {
        if let Some(old) = old {
            note(cells, names, &[old])?;
        }
        cells.set(names.head, names.label, value)?;
    } else {
        let head = Head {
            generation: fresh_generation(),
            parts: value.len().div_ceil(cells.limit().max(1)),
            bytes: value.len(),
            sha256: hex(&Sha256::digest(value)),
        };
        let new = (head.generation.as_str(), head.parts);
        note(
            cells,
            names,
            &[Some(new), old].into_iter().flatten().collect::<Vec<_>>(),
        )?;
        let undo = || {
            let _ = remove_parts(cells, names.head, new.0, new.1);
        };
        for (i, piece) in value.chunks(cells.limit().max(1)).enumerate() {
            let label = format!("{} (part {} of {})", names.label, i + 1, head.parts);
            let target = part_target(names.head, i + 1, head.parts, &head.generation);
            if let Err(e) = cells.set(&target, &label, piece) {
                undo();
                return Err(e);
            }
        }
        if let Err(e) = cells.set(names.head, names.label, head.line().as_bytes()) {
            undo();
            return Err(e);
        }
    }
    // The new entry stands; what follows only tidies up, and the next write finishes it.
    if let Some((generation, n)) = old {
        if remove_parts(cells, names.head, generation, n).is_err() {
            return Ok(());
        }
    }
    let _ = cells.delete(&tidy_target(names.head));
    Ok(())
}

/// Deletes the entry: the head first, so no reader ever finds a head without its parts.
pub(crate) fn delete(cells: &dyn Cells, names: &Names) -> Result<()> {
    let previous = parts_of(cells, names.head)?;
    tidy(cells, names, previous.as_ref())?;
    if let Some(p) = &previous {
        note(cells, names, &[(p.generation.as_str(), p.parts)])?;
    }
    cells.delete(names.head)?;
    // Gone for every reader now; what a failure here leaves, the next write tidies.
    if let Some(p) = previous {
        if remove_parts(cells, names.head, &p.generation, p.parts).is_err() {
            return Ok(());
        }
    }
    let _ = cells.delete(&tidy_target(names.head));
    Ok(())
}

/// The targets the entry occupies now (its head, its parts, a note to tidy), for tests and
/// for people looking for them.
#[cfg(test)]
pub(crate) fn targets(cells: &dyn Cells, names: &Names) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if cells.get(names.head)?.is_some() {
        out.push(names.head.to_owned());
    }
    if let Some(h) = parts_of(cells, names.head)? {
        out.extend((1..=h.parts).map(|i| part_target(names.head, i, h.parts, &h.generation)));
    }
    if cells.get(&tidy_target(names.head))?.is_some() {
        out.push(tidy_target(names.head));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "chunked_tests.rs"]
mod tests;
