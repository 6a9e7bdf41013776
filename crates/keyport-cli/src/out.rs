//! What the commands print: JSON for scripts, a table sized to its content, and the
//! labelled lines of `keyport show`. No secret passes through here.

use keyport_engine::{time, ConnectionView, Error};
use std::io::Write;

pub fn write(r: std::io::Result<()>) -> Result<(), Error> {
    r.map_err(|e| Error::Unsupported(format!("Keyport could not write its output: {e}")))
}

/// Pretty JSON of `v` and a newline.
pub fn json(out: &mut impl Write, v: &impl serde::Serialize) -> Result<(), Error> {
    let s = serde_json::to_string_pretty(v).expect("output serialises");
    write(writeln!(out, "{s}"))
}

/// A unit enum's JSON name as words: `needs_reconnect` → `needs reconnect`.
pub fn word(v: impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|s| s.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

/// Columns as wide as their widest cell: a long name does not shift the table.
pub fn table(out: &mut impl Write, list: &[ConnectionView]) -> std::io::Result<()> {
    if list.is_empty() {
        return writeln!(out, "No connections yet. Sign in at a vendor with `keyport connect VENDOR --name NAME …`, or add an admin-issued token with `keyport add VENDOR --name NAME`; `keyport vendors` lists them.");
    }
    let now = time::now();
    let with_client = list.iter().any(|v| v.client.is_some());
    // A status's words, worked out once for the few there are, not once per row.
    let mut words: Vec<(keyport_engine::Status, String)> = Vec::new();
    let mut word_of = |s| match words.iter().position(|(k, _)| *k == s) {
        Some(i) => i,
        None => {
            words.push((s, word(s)));
            words.len() - 1
        }
    };
    let lefts: Vec<Option<String>> = list
        .iter()
        .map(|v| v.expires_at.map(|e| time::human_span(e - now)))
        .collect();
    let status: Vec<usize> = list.iter().map(|v| word_of(v.status)).collect();
    let cells = |i: usize| -> [&str; 6] {
        let v = &list[i];
        [
            &v.name,
            v.client.as_deref().unwrap_or("-"),
            &v.vendor,
            &words[status[i]].1,
            lefts[i].as_deref().unwrap_or("-"),
            v.account.as_deref().unwrap_or("-"),
        ]
    };
    const HEAD: [&str; 6] = ["NAME", "CLIENT", "VENDOR", "STATUS", "LEFT", "ACCOUNT"];
    let shown = |c: usize| with_client || c != 1;
    let mut widths = HEAD.map(str::len);
    for i in 0..list.len() {
        for (w, cell) in widths.iter_mut().zip(cells(i)) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, row: [&str; 6]| -> std::io::Result<()> {
        let mut first = true;
        for (c, cell) in row.iter().enumerate().filter(|(c, _)| shown(*c)) {
            if !first {
                out.write_all(b"  ")?;
            }
            first = false;
            if c == row.len() - 1 {
                out.write_all(cell.as_bytes())?;
            } else {
                write!(out, "{cell:<w$}", w = widths[c])?;
            }
        }
        out.write_all(b"\n")
    };
    line(out, HEAD)?;
    for (i, v) in list.iter().enumerate() {
        line(out, cells(i))?;
        for warning in &v.warnings {
            writeln!(out, "  ! {}", warning.message)?;
        }
        if v.failing().is_some() {
            writeln!(out, "  ! {}", v.status_text)?;
        }
        if let Some(why) = &v.unverified {
            writeln!(out, "  ! not verified when added: {why}")?;
        }
    }
    Ok(())
}

fn when(t: i64) -> String {
    let left = t - time::now();
    let rel = if left.abs() < 60 && left <= 0 {
        "just now".to_owned()
    } else if left >= 0 {
        format!("in {}", time::human_duration(left))
    } else {
        format!("{} ago", time::human_duration(-left))
    };
    format!("{} ({rel})", time::format_utc(t))
}

/// `keyport show`: one labelled line per fact, the labels aligned.
pub fn details(out: &mut impl Write, v: &ConnectionView) -> std::io::Result<()> {
    let mut lines: Vec<(String, String)> = vec![
        ("Vendor".into(), v.vendor_label.into()),
        ("Status".into(), v.status_text.clone()),
    ];
    let mut add = |k: &str, val: Option<String>| {
        if let Some(val) = val {
            lines.push((k.to_owned(), val));
        }
    };
    add("Client", v.client.clone());
    add("Note", v.note.clone());
    add("Base URL", v.base_url.clone());
    for d in &v.details {
        add(d.label, Some(d.value.clone()));
    }
    add(
        "Token expires",
        Some(v.expires_at.map(when).unwrap_or_else(|| "no date".into())),
    );
    for d in &v.deadlines {
        let (what, rest) = d.what.split_at(1);
        add(
            &format!("{}{rest}", what.to_uppercase()),
            Some(format!("{}: {}", when(d.at), d.todo)),
        );
    }
    add(
        "Last refresh",
        match v.kind {
            keyport_engine::Kind::Oauth => {
                Some(v.last_refresh.map(when).unwrap_or_else(|| "not yet".into()))
            }
            keyport_engine::Kind::Admin => None,
        },
    );
    add(
        "Lives in",
        Some(
            v.store
                .clone()
                .unwrap_or_else(|| "this computer (keychain)".into()),
        ),
    );
    add("Refreshed by", v.last_refresh_by.clone());
    add(
        "Shared",
        v.shared_at
            .map(|t| format!("{} by {}", when(t), v.shared_by.as_deref().unwrap_or("?"))),
    );
    add("Signed in", v.consented_at.map(when));
    add("Added", Some(when(v.created_at)));
    add("Not verified", v.unverified.clone());
    add("Test reads", v.test_path.clone());
    if let Some(r) = &v.registration {
        add("Redirect URI", Some(r.redirect_uri.clone()));
        add("Token endpoint", Some(r.token_url.clone()));
        add("Revocation", r.revocation_url.clone());
    }
    for w in &v.warnings {
        add("Warning", Some(w.message.clone()));
    }
    let width = lines
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        + 1;
    writeln!(out, "{}", v.name)?;
    for (k, val) in lines {
        writeln!(out, "  {:<width$} {val}", format!("{k}:"))?;
    }
    Ok(())
}
