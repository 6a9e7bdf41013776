//! A consultant's day in the real window (tauri-driver → WebKitWebDriver): 40 connections
//! across 8 clients (admin-issued tokens from the mock's admin screen and OAuth sign-ins
//! against the mock, every secret in the real Secret Service), seeded through the real CLI.
//! The groups and their counts, search narrowing at every keystroke, the keyboard alone
//! (`/`, arrows, Enter copies the token to the real X clipboard, Ctrl+Shift+C the headers,
//! `?` the help, `r`/`t` refresh and test) with no mouse press at all, the details pane's
//! company file and activity log, dates in `en_AU` order, toasts clear of every control.
//! One app start. With `KEYPORT_SCREENSHOTS=1` it rewrites `docs/screenshots/workspace-*.png`.

use std::collections::BTreeMap;
use std::process::Stdio;

use crate::page::{
    after_paint, count_presses, focused, js, js_with, presses, row_names, screenshots, selected,
    shot, strings, wait_clipboard, wait_js,
};
use crate::util::{list, ok};
use keyport_e2e::seeding::{plan, Kind, Seeder, Spec};
use keyport_e2e::webdriver::keys::{CONTROL, DOWN, END, ENTER, ESCAPE, SHIFT};
use keyport_e2e::{keychain, keyport_app_bin, Session, TauriDriver, TestEnv};
use keyport_mock::{MockServer, BUSINESS_NAME};
use serde_json::{json, Value};

/// Eight clients with uneven counts (40 in all), none sharing a word with another field.
const CLIENTS: [(&str, usize); 8] = [
    ("Tasman Wines", 8),
    ("harbour foods", 7),
    ("Kauri Timber", 6),
    ("Southern Cross Freight", 5),
    ("Blue Gum Dental", 5),
    ("Ridgeline Civil", 4),
    ("Marlin Marine", 3),
    ("Otago Orchards", 2),
];
/// An admin-issued token's last day, shown in en-AU order as 24/11/2027.
const FAR_EXPIRY: &str = "2027-11-24";

fn date_in(days: i64) -> String {
    let d = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    d.format(time::macros::format_description!("[year]-[month]-[day]"))
        .expect("a date")
}

/// The 40: every 8th an OAuth sign-in (3 MYOB, 2 OIDC); one admin token expiring in three
/// days and one expired two days ago (they need attention), one expiring on
/// [`FAR_EXPIRY`], two with a note to search for.
fn specs() -> Vec<Spec> {
    let clients: Vec<(String, usize)> = CLIENTS.iter().map(|(c, n)| (c.to_string(), *n)).collect();
    let mut specs = plan(&clients, 8);
    let mut admin = specs.iter_mut().filter(|s| !s.kind.oauth());
    // Admin-issued #0 is Tasman Wines', #10 harbour foods', #17 Kauri Timber's.
    admin.next().expect("admin").expires = Some(date_in(3));
    admin.nth(9).expect("admin").expires = Some(date_in(-2));
    let far = admin.nth(6).expect("admin");
    far.expires = Some(FAR_EXPIRY.into());
    far.note = Some("Payroll sync for the winery".into());
    admin.nth(8).expect("admin").note = Some("payroll export".into());
    specs
}

/// What the window should show for `query`: the connections in whose name, client, vendor
/// (id or label), account, note or account details every word of it appears, ignoring
/// case (from `keyport list --json`).
fn matching(listed: &[Value], query: &str) -> Vec<String> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut names: Vec<String> = listed
        .iter()
        .filter(|c| {
            let mut hay: Vec<&str> = [
                "name",
                "client",
                "vendor",
                "vendor_label",
                "account",
                "note",
            ]
            .iter()
            .filter_map(|k| c[*k].as_str())
            .collect();
            let details = c["details"].as_array().into_iter().flatten();
            hay.extend(details.filter_map(|d| d["value"].as_str()));
            let hay = hay.join("\n").to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The group headers top to bottom: (client, data-count, count text, data-attention,
/// badge text or null, name text).
fn groups(app: &Session) -> Vec<Value> {
    let v = js(
        app,
        "return [...document.querySelectorAll('[data-testid=group]')].map(g => { \
           const t = (s) => { const e = g.querySelector(s); return e ? e.textContent.trim() : null; }; \
           return [g.dataset.client, g.dataset.count, t('[data-testid=group-count]'), \
                   g.dataset.attention, t('[data-testid=group-attention]'), t('[data-testid=group-name]')]; });",
    );
    v.as_array().cloned().unwrap_or_default()
}

/// `keyport token NAME` from the keychain, the real CLI.
fn cli_token(env: &TestEnv, name: &str) -> String {
    let out = env
        .keyport()
        .args(["token", name])
        .stdin(Stdio::null())
        .output()
        .expect("keyport token");
    ok(out).trim().to_owned()
}

/// Every visible toast's box against every visible control's box outside the toasts
/// (buttons, inputs, rows, menu items): the pairs that overlap, as text.
fn toast_overlaps(app: &Session) -> Value {
    js(
        app,
        "const boxes = (sel, keep) => [...document.querySelectorAll(sel)].filter(keep) \
           .map(e => [e, e.getBoundingClientRect()]).filter(([, r]) => r.width > 0 && r.height > 0); \
         const toasts = boxes('[data-testid=toast], .toast', () => true); \
         const controls = boxes('button, input, select, textarea, a[href], [data-testid=row], [role=menuitem]', \
           e => !e.closest('#toasts')); \
         const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom; \
         const out = []; \
         for (const [t, tr] of toasts) for (const [c, cr] of controls) \
           if (hit(tr, cr)) out.push(t.textContent.trim() + ' covers ' + (c.id || c.dataset.testid || c.tagName)); \
         return [toasts.length, out];",
    )
}

#[test]
fn forty_connections_grouped_searched_and_used_from_the_keyboard() {
    assert!(
        keychain::available(),
        "no usable Secret Service; run the tests via scripts/with-session.sh"
    );
    let env = TestEnv::new("workspace");
    let mock = MockServer::start().expect("start the mock vendor");
    let specs = specs();
    assert_eq!(specs.len(), 40);
    let keyport = || env.keyport();
    Seeder::new(&keyport, &mock.base_url(), env.root()).seed(&specs, 3);
    let listed = list(&env);
    assert_eq!(listed.len(), 40, "keyport list shows the 40 seeded");
    // One keychain entry each (and one for the MYOB app registration's client secret).
    let mut entries = keychain::names(env.namespace());
    entries.retain(|n| !n.starts_with("app:"));
    assert_eq!(
        entries,
        sorted(specs.iter().map(|s| s.name.clone()).collect()),
        "one keychain entry each, read back with secret-tool"
    );
    let by_name: BTreeMap<&str, &Spec> = specs.iter().map(|s| (s.name.as_str(), s)).collect();
    for c in &listed {
        let spec = by_name[c["name"].as_str().unwrap()];
        assert_eq!(c["client"], json!(spec.client), "{c}");
        assert_eq!(c["vendor"], json!(spec.kind.vendor()), "{c}");
    }

    let mut vars = vec![("LANG", "en_AU.UTF-8"), ("TZ", "UTC")];
    if screenshots() {
        // WebKitWebDriver's screenshots hang without GPU compositing (see window.rs).
        vars.push(("WEBKIT_DISABLE_COMPOSITING_MODE", "0"));
    }
    let driver = TauriDriver::start_in_with(&env, &vars, &["LC_ALL", "LC_TIME", "LANGUAGE"]);
    let app = driver
        .session(&keyport_app_bin(), &[])
        .expect("tauri-driver opens the Keyport window");
    wait_js(
        &app,
        "return !!document.documentElement.dataset.readyAt \
           && document.querySelectorAll('[data-testid=row]').length === 40;",
        "the 40 rows",
    );
    count_presses(&app);
    assert_eq!(
        js(&app, "return document.documentElement.lang;"),
        json!("en-AU"),
        "the page's language is the system locale"
    );

    // ---- 1. One group per client, sorted by name (case-insensitive), with its count and a
    // badge only where a connection needs attention (the CLI's status says which).
    let mut clients: Vec<&str> = CLIENTS.iter().map(|(c, _)| *c).collect();
    clients.sort_by_key(|c| c.to_lowercase());
    let attention = |client: &str| {
        listed
            .iter()
            .filter(|c| c["client"] == json!(client))
            .filter(|c| {
                let by_status = c["status"] != json!("valid");
                c["needs_attention"].as_bool().unwrap_or(by_status)
            })
            .count()
    };
    assert_eq!(attention("Tasman Wines"), 1, "expiring in three days");
    assert_eq!(attention("harbour foods"), 1, "expired two days ago");
    let shown = groups(&app);
    let order: Vec<&str> = shown.iter().filter_map(|g| g[0].as_str()).collect();
    assert_eq!(order, clients, "one group per client, by name");
    for g in &shown {
        let client = g[0].as_str().unwrap();
        let n = CLIENTS.iter().find(|(c, _)| *c == client).unwrap().1;
        assert_eq!(g[1], json!(n.to_string()), "data-count of {client}: {g}");
        assert_eq!(
            g[2],
            json!(n.to_string()),
            "the count shown for {client}: {g}"
        );
        assert_eq!(g[5], json!(client), "the group's name: {g}");
        let a = attention(client);
        assert_eq!(
            g[3],
            json!(a.to_string()),
            "data-attention of {client}: {g}"
        );
        let badge = if a > 0 {
            json!(a.to_string())
        } else {
            Value::Null
        };
        assert_eq!(g[4], badge, "the needs-attention badge of {client}: {g}");
    }
    // Each group's rows follow its header, sorted by name, and only its own.
    let layout = js(
        &app,
        "return [...document.querySelectorAll('[data-testid=group], [data-testid=row]')] \
           .map(e => e.dataset.testid === 'group' ? '#' + e.dataset.client : e.dataset.connection);",
    );
    let mut current = String::new();
    let mut under: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in strings(&layout) {
        match item.strip_prefix('#') {
            Some(client) => current = client.to_owned(),
            None => under.entry(current.clone()).or_default().push(item),
        }
    }
    for (client, _) in CLIENTS {
        let rows = &under[client];
        let mut want: Vec<String> = specs
            .iter()
            .filter(|s| s.client == client)
            .map(|s| s.name.clone())
            .collect();
        want.sort();
        assert_eq!(rows, &want, "the rows under {client}, by name");
    }
    // A compact list: at least ten rows wholly inside the list's box at 900×640.
    let fit = js(
        &app,
        "const l = document.querySelector('[data-testid=list]').getBoundingClientRect(); \
         const rows = [...document.querySelectorAll('[data-testid=row]')].map(r => r.getBoundingClientRect()) \
           .filter(r => r.top >= l.top - 1 && r.bottom <= Math.min(l.bottom, innerHeight) + 1 && r.height > 0); \
         return [innerWidth, innerHeight, rows.length];",
    );
    assert!(
        fit[2].as_u64().unwrap_or(0) >= 10,
        "rows on screen (w, h, rows): {fit}"
    );
    shot(&app, "workspace-groups");

    // ---- 2. `/` focuses the search; every keystroke narrows to the right rows by the next
    // painted frame, and the group counts follow.
    app.press(&[], "/").expect("press /");
    assert_eq!(focused(&app), "#search", "`/` focuses the search box");
    let mut typed = String::new();
    for (query, what) in [
        ("tasman", "a client"),
        ("clearwater", "an account"),
        ("payroll", "a note"),
        ("xentral", "a vendor"),
    ] {
        for ch in query.chars() {
            app.press(&[], &ch.to_string()).expect("type into search");
            typed.push(ch);
            let shown = after_paint(
                &app,
                "return [...document.querySelectorAll('[data-testid=row]')].map(r => r.dataset.connection);",
            );
            let want = matching(&listed, &typed);
            assert_eq!(
                sorted(strings(&shown)),
                want,
                "after typing {typed:?} ({what}) the rows are those matching it"
            );
        }
        assert!(
            !matching(&listed, &typed).is_empty(),
            "{typed} matches something"
        );
        let counts: BTreeMap<String, usize> = groups(&app)
            .iter()
            .filter_map(|g| Some((g[0].as_str()?.to_owned(), g[2].as_str()?.parse().ok()?)))
            .filter(|(_, n)| *n > 0)
            .collect();
        let mut want: BTreeMap<String, usize> = BTreeMap::new();
        for name in matching(&listed, &typed) {
            *want
                .entry(by_name[name.as_str()].client.clone())
                .or_default() += 1;
        }
        assert_eq!(counts, want, "group counts while searching {typed:?}");
        let count = js(
            &app,
            "const e = document.querySelector('[data-testid=search-count]'); return e ? e.textContent : '';",
        );
        let n = matching(&listed, &typed).len();
        assert!(
            count
                .as_str()
                .is_some_and(|c| c.contains(&format!("{n} of 40"))),
            "the search count says {n} of 40: {count}"
        );
        if query == "clearwater" {
            shot(&app, "workspace-search");
        }
        // Esc clears the search; the focus stays in it.
        app.press(&[], &ESCAPE.to_string()).expect("Esc");
        typed.clear();
        let all = after_paint(
            &app,
            "return document.querySelectorAll('[data-testid=row]').length;",
        );
        assert_eq!(all, json!(40), "Esc clears the search");
        assert_eq!(focused(&app), "#search");
    }

    // ---- 3. Keyboard only: search, arrow to a row, Enter copies its token to the real
    // clipboard; Ctrl+Shift+C its headers.
    app.press(&[], "tasman").expect("type");
    let first = selected(&app);
    app.press(&[], &DOWN.to_string()).expect("down");
    let chosen = selected(&app).expect("a row is selected after ↓");
    let visible_rows = row_names(&app);
    assert!(
        visible_rows.contains(&chosen),
        "{chosen} is one of the rows shown"
    );
    assert_ne!(Some(&chosen), first.as_ref(), "↓ moved the selection");
    assert_eq!(
        by_name[chosen.as_str()].client,
        "Tasman Wines",
        "the selection is one of the rows found"
    );
    assert_eq!(focused(&app), "#search", "arrows work from the search box");
    app.press(&[], &ENTER.to_string()).expect("Enter");
    let token = cli_token(&env, &chosen);
    let copied = wait_clipboard(|c| c == token);
    assert!(
        copied.is_ok(),
        "Enter copies {chosen}'s token; the clipboard has {:?}",
        copied.err().flatten().map(|c| c.len())
    );
    assert!(
        !app.page_source().unwrap().contains(&token),
        "the token never reaches the page"
    );
    app.press(&[CONTROL, SHIFT], "c").expect("Ctrl+Shift+C");
    // The header set `keyport headers NAME` prints, every line of it (the token in it).
    let cli_headers = ok(env
        .keyport()
        .args(["headers", &chosen])
        .stdin(Stdio::null())
        .output()
        .expect("keyport headers"));
    let lines: Vec<&str> = cli_headers
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        lines.iter().any(|l| l.contains(&token)),
        "{chosen}'s headers carry its token"
    );
    let headers = wait_clipboard(|c| c != token && lines.iter().all(|l| c.contains(l)));
    assert!(
        headers.is_ok(),
        "Ctrl+Shift+C copies {chosen}'s headers: {:?}",
        headers.err().flatten().map(|c| c.len())
    );

    // ---- 4. `?` (with the focus out of the search) opens the help with every shortcut.
    app.press(&[], &format!("{ESCAPE}{ESCAPE}"))
        .expect("Esc Esc");
    assert_ne!(
        focused(&app),
        "#search",
        "a second Esc leaves the search box"
    );
    app.press(&[], "?").expect("?");
    wait_js(
        &app,
        "const h = document.getElementById('help'); return !!h && h.open;",
        "the help overlay",
    );
    let help = js(
        &app,
        "return [...document.querySelectorAll('#help [data-testid=shortcut]')].map(s => s.textContent.replace(/\\s+/g, ' ').trim());",
    );
    let help = strings(&help);
    assert!(help.len() >= 10, "the help lists the shortcuts: {help:?}");
    for key in ["/", "Enter", "Esc", "?"] {
        assert!(
            help.iter().any(|s| s.contains(key)),
            "the help lists {key}: {help:?}"
        );
    }
    assert!(
        help.iter()
            .any(|s| s.contains("Ctrl") && s.contains("Shift") && s.contains('C')),
        "the help lists Ctrl+Shift+C: {help:?}"
    );
    shot(&app, "workspace-help");
    app.press(&[], &ESCAPE.to_string()).expect("Esc");
    wait_js(
        &app,
        "return !document.getElementById('help').open;",
        "Esc to close the help",
    );

    // ---- 5. The details pane of a MYOB connection: its company file, then its activity
    // log after `r` (refresh) and `t` (test), both from the window.
    let myob = specs
        .iter()
        .find(|s| s.kind == Kind::Myob)
        .expect("a MYOB connection");
    app.press(&[], &format!("/{}", myob.name))
        .expect("search the MYOB connection");
    wait_js(
        &app,
        &format!(
            "const d = document.getElementById('details'); return !!d && d.dataset.for === {};",
            json!(myob.name)
        ),
        "the details pane of the one row found",
    );
    app.press(&[], &format!("{ESCAPE}{ESCAPE}"))
        .expect("Esc Esc");
    assert_eq!(
        selected(&app).as_deref(),
        Some(myob.name.as_str()),
        "the selection stays"
    );
    let field = |key: &str| {
        js_with(
            &app,
            "const v = document.querySelector(`#details [data-testid=detail-field][data-key=\"${arguments[0]}\"] [data-testid=detail-value]`); \
             return v ? v.textContent.trim() : null;",
            vec![json!(key)],
        )
    };
    assert_eq!(
        field("business_name"),
        json!(BUSINESS_NAME),
        "the company file's name"
    );
    let refreshes = mock.stats().refreshes;
    app.press(&[], "r").expect("r");
    let entry = |what: &str| {
        format!(
            "return [...document.querySelectorAll('#details [data-testid=activity-entry]')] \
               .some(e => e.dataset.what === {} && e.dataset.ok === 'true' && e.dataset.from === 'window');",
            json!(what)
        )
    };
    wait_js(
        &app,
        &entry("refreshed"),
        "a refresh from the window in the activity log",
    );
    assert_eq!(
        mock.stats().refreshes,
        refreshes + 1,
        "one refresh at the vendor"
    );
    app.press(&[], "t").expect("t");
    wait_js(
        &app,
        &entry("tested"),
        "a test from the window in the activity log",
    );
    let log = js(
        &app,
        "return [...document.querySelectorAll('#details [data-testid=activity-entry]')].map(e => [e.dataset.what, e.dataset.from, Number(e.dataset.at)]);",
    );
    let log = log.as_array().cloned().unwrap_or_default();
    assert_eq!(
        log.first().map(|e| e[0].clone()),
        Some(json!("tested")),
        "newest first: {log:?}"
    );
    assert!(
        log.iter()
            .any(|e| e[0] == json!("connected") && e[1] == json!("cli")),
        "the sign-in made with the CLI is there too: {log:?}"
    );
    let ats: Vec<f64> = log.iter().filter_map(|e| e[2].as_f64()).collect();
    assert!(
        ats.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {log:?}"
    );
    // Its sign-in is shown as a date in en-AU order (today: dd/mm/yyyy).
    let today = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!("[day]/[month]/[year]"))
        .expect("a date");
    let details = js(
        &app,
        "return document.getElementById('details').textContent;",
    );
    assert!(
        details.as_str().is_some_and(|t| t.contains(&today))
            || field("last_refresh")
                .as_str()
                .is_some_and(|t| t.contains(&today)),
        "a date of today in en-AU order ({today}) in the details: {details}"
    );
    // The log in view for the picture (a script's scroll: no mouse, no wheel event).
    js(
        &app,
        "document.querySelector('#details [data-testid=activity]').scrollIntoView({block: 'end'}); return true;",
    );
    shot(&app, "workspace-details");

    // ---- 6. An admin-issued token's last day in en-AU order: 24/11/2027, not 11/24/2027.
    let far = specs
        .iter()
        .find(|s| s.expires.as_deref() == Some(FAR_EXPIRY))
        .expect("far");
    app.press(&[], &format!("/{}", far.name)).expect("search");
    wait_js(
        &app,
        &format!(
            "const d = document.getElementById('details'); return !!d && d.dataset.for === {};",
            json!(far.name)
        ),
        "the details of the connection expiring on 24 Nov 2027",
    );
    let deadlines = js(
        &app,
        "return [...document.querySelectorAll('#details [data-testid=deadline]')].map(d => d.textContent.trim());",
    );
    let deadlines = strings(&deadlines);
    assert!(
        deadlines.iter().any(|d| d.contains("24/11/2027")),
        "en-AU order: {deadlines:?}"
    );
    assert!(
        !deadlines.iter().any(|d| d.contains("11/24/2027")),
        "not US order: {deadlines:?}"
    );
    app.press(&[], &format!("{ESCAPE}{ESCAPE}"))
        .expect("Esc Esc");

    // ---- 7. With the last row selected and a toast up, no toast covers a control.
    app.press(&[], &END.to_string()).expect("End");
    let last = selected(&app).expect("End selects the last row");
    assert_eq!(
        Some(&last),
        row_names(&app).last(),
        "End selects the last row"
    );
    app.press(&[], &ENTER.to_string()).expect("Enter");
    wait_js(
        &app,
        "return document.querySelectorAll('[data-testid=toast], .toast').length > 0;",
        "a toast",
    );
    let overlaps = toast_overlaps(&app);
    assert!(
        overlaps[0].as_u64().unwrap_or(0) > 0,
        "a toast is up: {overlaps}"
    );
    assert_eq!(overlaps[1], json!([]), "toasts cover no control");
    let last_token = cli_token(&env, &last);
    assert!(
        wait_clipboard(|c| c == last_token).is_ok(),
        "Enter copied {last}'s token"
    );

    assert_eq!(
        presses(&app),
        0,
        "no mouse or pointer press in the whole story"
    );
}
