//! The chunking over an in-memory store that enforces a small limit and can be made to
//! fail from any write on (a crash: nothing after it lands).

use super::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

type Hook = Box<dyn FnOnce() + Send>;

struct Fake {
    cells: Mutex<BTreeMap<String, (String, Vec<u8>)>>,
    limit: usize,
    writes: AtomicUsize,
    /// From this write on (counted from 0), every write and delete fails.
    crash_at: AtomicUsize,
    /// Runs once, just before the first read of a part.
    before_part_read: Mutex<Option<Hook>>,
}

const HEAD: &str = "Keyport: acme";

fn names() -> Names<'static> {
    Names {
        key: "acme",
        head: HEAD,
        label: "Keyport: acme — Vendor API",
    }
}

impl Fake {
    fn new(limit: usize) -> Fake {
        Fake {
            cells: Mutex::new(BTreeMap::new()),
            limit,
            writes: AtomicUsize::new(0),
            crash_at: AtomicUsize::new(usize::MAX),
            before_part_read: Mutex::new(None),
        }
    }

    fn cells(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (String, Vec<u8>)>> {
        self.cells.lock().unwrap()
    }

    fn copy(&self) -> Fake {
        let f = Fake::new(self.limit);
        *f.cells() = self.cells().clone();
        f
    }

    fn mutate(&self) -> Result<()> {
        let n = self.writes.fetch_add(1, Ordering::SeqCst);
        if n >= self.crash_at.load(Ordering::SeqCst) {
            return Err(crate::storage::keychain::unavailable("crashed"));
        }
        Ok(())
    }

    fn targets(&self) -> Vec<String> {
        self.cells().keys().cloned().collect()
    }

    fn read(&self) -> Option<Vec<u8>> {
        read(self, &names()).unwrap().map(|v| v.to_vec())
    }
}

impl Cells for Fake {
    fn limit(&self) -> usize {
        self.limit
    }

    fn get(&self, target: &str) -> Result<Option<Bytes>> {
        if target.contains(" (part ") {
            let hook = self.before_part_read.lock().unwrap().take();
            if let Some(hook) = hook {
                hook();
            }
        }
        Ok(self
            .cells()
            .get(target)
            .map(|(_, v)| Zeroizing::new(v.clone())))
    }

    fn set(&self, target: &str, label: &str, value: &[u8]) -> Result<()> {
        self.mutate()?;
        if value.len() > self.limit {
            return Err(crate::storage::keychain::unavailable(
                "too long for one credential",
            ));
        }
        self.cells()
            .insert(target.into(), (label.into(), value.to_vec()));
        Ok(())
    }

    fn delete(&self, target: &str) -> Result<()> {
        self.mutate()?;
        self.cells().remove(target);
        Ok(())
    }
}

/// `n` bytes of JSON-ish text, different for each `seed`.
fn value(n: usize, seed: u8) -> Vec<u8> {
    let mut v: Vec<u8> = (0..n)
        .map(|i| b'!' + ((i * 7 + seed as usize * 13) % 90) as u8)
        .collect();
    if let Some(first) = v.first_mut() {
        *first = b'{';
    }
    v
}

#[test]
fn a_small_entry_stays_one_credential_as_it_was() {
    let f = Fake::new(256);
    let v = value(256, 1);
    write(&f, &names(), &v).unwrap();
    assert_eq!(f.targets(), vec![HEAD.to_owned()]);
    assert_eq!(f.cells()[HEAD], (names().label.to_owned(), v.clone()));
    assert_eq!(f.read(), Some(v));
    // An entry written before chunking existed reads as it is.
    f.cells()
        .insert(HEAD.into(), (String::new(), b"{\"access\":\"x\"}".to_vec()));
    assert_eq!(f.read().as_deref(), Some(&b"{\"access\":\"x\"}"[..]));
}

#[test]
fn a_large_entry_is_split_and_read_back_whole() {
    let f = Fake::new(256);
    let big = value(6000, 2);
    write(&f, &names(), &big).unwrap();
    let targets = f.targets();
    assert_eq!(targets.len(), 1 + 6000usize.div_ceil(256));
    for (t, (label, v)) in f.cells().iter() {
        assert!(v.len() <= 256, "{t} holds {} bytes", v.len());
        if t != HEAD {
            assert!(t.starts_with("Keyport: acme (part "), "{t}");
            assert!(
                label.starts_with("Keyport: acme — Vendor API (part "),
                "{label}"
            );
            assert!(label.ends_with(" of 24)"), "{label}");
        }
    }
    assert!(f.cells()[HEAD].1.starts_with(b"keyport-parts/1 "));
    assert_eq!(f.read(), Some(big));

    // Replaced by another large entry: only the new generation's parts are left.
    let other = value(3000, 3);
    write(&f, &names(), &other).unwrap();
    assert_eq!(f.targets().len(), 1 + 3000usize.div_ceil(256));
    assert_eq!(f.read(), Some(other));
    // Then by a small one: one credential again.
    write(&f, &names(), &value(10, 4)).unwrap();
    assert_eq!(f.targets(), vec![HEAD.to_owned()]);
    assert_eq!(f.read(), Some(value(10, 4)));
    delete(&f, &names()).unwrap();
    assert!(f.targets().is_empty());
    assert_eq!(f.read(), None);
}

#[test]
fn values_a_plain_head_could_be_confused_with_are_written_as_parts() {
    let f = Fake::new(256);
    for v in [
        b"keyport-parts/1 gen=x".to_vec(),
        PENDING.to_vec(),
        Vec::new(),
    ] {
        write(&f, &names(), &v).unwrap();
        assert!(f.cells()[HEAD].1.starts_with(b"keyport-parts/1 "));
        assert_eq!(f.read(), Some(v));
    }
}

/// Every crash point of `change`, from `old`: the previous or the new value, whole.
fn crash_everywhere(old: Option<&[u8]>, new: Option<&[u8]>) {
    let start = Fake::new(256);
    if let Some(old) = old {
        write(&start, &names(), old).unwrap();
    }
    let change = |f: &Fake| match new {
        Some(v) => write(f, &names(), v),
        None => delete(f, &names()),
    };
    let full = start.copy();
    change(&full).unwrap();
    let total = full.writes.load(Ordering::SeqCst);
    assert!(total > 0);
    for k in 0..=total {
        let f = start.copy();
        f.crash_at.store(k, Ordering::SeqCst);
        let done = change(&f).is_ok();
        f.crash_at.store(usize::MAX, Ordering::SeqCst);
        let got = f.read();
        assert!(
            got.as_deref() == old || got.as_deref() == new,
            "crash at write {k} of {total}: read {:?} bytes, neither old nor new",
            got.map(|g| g.len())
        );
        if done {
            assert_eq!(got.as_deref(), new, "crash at write {k}: reported done");
        }
        // Whatever a crash left is tidied by the next write, and that value is read whole.
        let next = value(700, 9);
        write(&f, &names(), &next).unwrap();
        assert_eq!(f.read(), Some(next), "after crash at write {k}");
        assert_eq!(
            f.targets().len(),
            1 + 3,
            "strays left after crash at {k}: {:?}",
            f.targets()
        );
    }
}

#[test]
fn a_crash_at_any_write_leaves_the_old_or_the_new_entry_whole() {
    let (small, big, big2) = (value(100, 1), value(6000, 2), value(2600, 3));
    crash_everywhere(None, Some(&big));
    crash_everywhere(Some(&small), Some(&big));
    crash_everywhere(Some(&big), Some(&big2));
    crash_everywhere(Some(&big), Some(&small));
    crash_everywhere(Some(&small), Some(&value(200, 5)));
    crash_everywhere(Some(&big), None);
    crash_everywhere(Some(&small), None);
}

#[test]
fn a_reader_reads_again_when_a_writer_replaced_the_parts_meanwhile() {
    let f = std::sync::Arc::new(Fake::new(256));
    write(&*f, &names(), &value(5000, 1)).unwrap();
    let writer = f.clone();
    *f.before_part_read.lock().unwrap() = Some(Box::new(move || {
        write(&*writer, &names(), &value(4000, 2)).unwrap();
    }));
    assert_eq!(f.read(), Some(value(4000, 2)));
}

#[test]
fn missing_or_altered_parts_are_a_damaged_entry_never_a_wrong_value() {
    let f = Fake::new(256);
    write(&f, &names(), &value(1000, 1)).unwrap();
    let part = f.targets().into_iter().find(|t| t != HEAD).unwrap();
    f.cells().get_mut(&part).unwrap().1[3] ^= 1;
    let e = read(&f, &names()).err().unwrap();
    assert_eq!(e.code(), "keychain_data");
    assert!(e.to_string().contains("'acme'"), "{e}");
    f.cells().remove(&part);
    assert_eq!(read(&f, &names()).err().unwrap().code(), "keychain_data");
}

#[test]
fn an_entry_too_large_even_for_parts_is_refused_and_nothing_changes() {
    let f = Fake::new(256);
    write(&f, &names(), &value(100, 1)).unwrap();
    let before = f.writes.load(Ordering::SeqCst);
    let e = write(&f, &names(), &value(MAX_ENTRY + 1, 2)).unwrap_err();
    assert_eq!(e.code(), "keychain_too_large");
    assert!(e.to_string().contains("nothing was written"), "{e}");
    assert_eq!(f.writes.load(Ordering::SeqCst), before);
    assert_eq!(f.read(), Some(value(100, 1)));
    write(&f, &names(), &value(MAX_ENTRY, 3)).unwrap();
    assert_eq!(f.read(), Some(value(MAX_ENTRY, 3)));
}

#[test]
fn what_a_crash_left_is_noted_and_tidied_by_the_next_write() {
    let f = Fake::new(256);
    write(&f, &names(), &value(1000, 1)).unwrap();
    let old = targets(&f, &names()).unwrap();
    assert_eq!(old.len(), 1 + 4);
    // A crash after the note and two of the new parts.
    f.crash_at
        .store(f.writes.load(Ordering::SeqCst) + 3, Ordering::SeqCst);
    assert!(write(&f, &names(), &value(2000, 2)).is_err());
    f.crash_at.store(usize::MAX, Ordering::SeqCst);
    let (label, note) = f.cells()["Keyport: acme (parts to tidy)"].clone();
    assert_eq!(label, "Keyport: acme — Vendor API (parts to tidy)");
    assert!(note.starts_with(b"keyport-tidy/1 "));
    assert_eq!(f.targets().len(), old.len() + 1 + 2, "{:?}", f.targets());
    assert_eq!(f.read(), Some(value(1000, 1)));
    write(&f, &names(), &value(600, 3)).unwrap();
    let mut now = targets(&f, &names()).unwrap();
    now.sort();
    assert_eq!(f.targets(), now);
    assert_eq!(now.len(), 1 + 3);
}
