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
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|v| {
            let mut row = vec![v.name.clone()];
            if with_client {
                row.push(v.client.clone().unwrap_or_else(|| "-".into()));
            }
            row.push(v.vendor.clone());
            row.push(word(v.status));
            row.push(match v.expires_at {
                Some(e) => time::human_span(e - now),
                None => "-".into(),
            });
            row.push(v.account.clone().unwrap_or_else(|| "-".into()));
            row
        })
        .collect();
    let mut head = vec!["NAME"];
    if with_client {
        head.push("CLIENT");
    }
    head.extend(["VENDOR", "STATUS", "LEFT", "ACCOUNT"]);
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.to_string()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(out, "{}", line(head.clone()))?;
    for (v, row) in list.iter().zip(&rows) {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
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
