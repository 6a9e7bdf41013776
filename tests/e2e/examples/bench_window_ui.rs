//! The window's own timings with the connections of the environment this process runs in
//! (`KEYPORT_CONFIG_DIR`, `KEYPORT_KEYCHAIN_SERVICE`; seed them with `seed_window`), read
//! from the front end's performance hook `window.__keyport.perf` through tauri-driver:
//! the first list render after its data arrived, a search keystroke's repaint (real key
//! events through WebDriver), and the start of the app process to the list shown.
//! `bench_window_ui [--rounds 3] [--query "client 0"]`, under `scripts/with-session.sh`,
//! with `KEYPORT_APP_BIN` naming the (release) app. Prints one `key=value` line per round
//! and a summary line.

use std::path::Path;
use std::time::Duration;

use keyport_e2e::desktop::app_pid;
use keyport_e2e::webdriver::keys::BACKSPACE;
use keyport_e2e::{keyport_app_bin, wait_until, Session, TauriDriver};
use serde_json::Value;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut rounds, mut query) = (3usize, "client 0".to_owned());
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--rounds" => rounds = value().parse().expect("--rounds N"),
            "--query" => query = value(),
            other => panic!("unknown argument {other}"),
        }
    }
    let config = std::env::var_os("KEYPORT_CONFIG_DIR").expect("KEYPORT_CONFIG_DIR");
    let bin = keyport_app_bin();
    let driver = TauriDriver::start();
    let (mut renders, mut searches, mut starts) = (Vec::new(), Vec::new(), Vec::new());
    let mut rerenders = Vec::new();
    for round in 1..=rounds {
        let app = driver
            .session(&bin, &[])
            .expect("tauri-driver opens the window");
        let ready = app
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 window.__keyport.ready().then(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .expect("the window's first render");
        assert_eq!(ready, Value::Bool(true));
        // The first render may be of an empty store; wait for the one with the data.
        let rendered = wait_until(Duration::from_secs(20), || {
            perf(&app)["listRenders"].as_u64().unwrap_or(0) > 0 && rows_known(&app) > 0
        });
        assert!(rendered, "the list never rendered its data: {}", perf(&app));
        let p = perf(&app);
        let render = p["listRenderMs"].as_f64().expect("listRenderMs");
        let start = startup_secs(&app, &bin, Path::new(&config));
        // Search: type the query a key at a time, then take it back, five times.
        app.press(&[], "/").expect("focus the search");
        let mut samples = Vec::new();
        for _ in 0..5 {
            for ch in query.chars() {
                app.press(&[], &ch.to_string()).expect("type");
                samples.push(last_search(&app));
            }
            for _ in query.chars() {
                app.press(&[], &BACKSPACE.to_string()).expect("backspace");
                samples.push(last_search(&app));
            }
        }
        // A list that changed outside the window (a note edited with the CLI): the render
        // of new data once the page is up, without the page's own first paint in it.
        let before = perf(&app)["listRenders"].as_u64().unwrap_or(0);
        let first = app
            .execute(
                "return document.querySelector('[data-testid=row]').dataset.connection;",
                vec![],
            )
            .expect("a row");
        let edited = std::process::Command::new(keyport_e2e::keyport_bin())
            .args(["edit", first.as_str().unwrap_or_default(), "--note"])
            .arg(format!("bench round {round}"))
            .output()
            .expect("keyport edit");
        assert!(edited.status.success(), "keyport edit: {edited:?}");
        let changed = wait_until(Duration::from_secs(20), || {
            perf(&app)["listRenders"].as_u64().unwrap_or(0) > before
        });
        assert!(changed, "the window did not render the edited list");
        std::thread::sleep(Duration::from_millis(200));
        let rerender = perf(&app)["listRenderMs"].as_f64().unwrap_or(f64::NAN);
        let p = perf(&app);
        println!(
            "round={round} rows={} list_render_ms={render:.1} rerender_ms={rerender:.1} search_median_ms={:.1} search_max_ms={:.1} rows_in_dom={} start_to_list_s={}",
            rows_known(&app),
            median(&samples),
            samples.iter().copied().fold(0.0, f64::max),
            p["rowsInDom"],
            start.map_or("?".into(), |s| format!("{s:.2}")),
        );
        renders.push(render);
        rerenders.push(rerender);
        searches.extend(samples);
        starts.extend(start);
        drop(app);
        std::thread::sleep(Duration::from_secs(1));
    }
    println!(
        "summary list_render_ms_median={:.1} rerender_ms_median={:.1} search_ms_median={:.1} search_ms_p95={:.1} start_to_list_s_median={:.2}",
        median(&renders),
        median(&rerenders),
        median(&searches),
        percentile(&searches, 0.95),
        median(&starts),
    );
}

fn perf(app: &Session) -> Value {
    app.execute(
        "return window.__keyport ? window.__keyport.perf : null;",
        vec![],
    )
    .unwrap_or(Value::Null)
}

/// How many connections the front end holds (rows matched with no search).
fn rows_known(app: &Session) -> u64 {
    perf(app)["rowsMatched"].as_u64().unwrap_or(0)
}

/// The last keystroke's repaint, once the hook has it (after the next frame).
fn last_search(app: &Session) -> f64 {
    let v = app
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             requestAnimationFrame(() => requestAnimationFrame(() => done(window.__keyport.perf.searchMs)));",
            vec![],
        )
        .expect("read searchMs");
    v.as_f64().expect("searchMs is a number")
}

/// Seconds from the app process's start (`/proc`) to the page's `data-ready-at`.
fn startup_secs(app: &Session, bin: &Path, config: &Path) -> Option<f64> {
    let ready_ms: f64 = app
        .execute(
            "return document.documentElement.dataset.readyAt || null;",
            vec![],
        )
        .ok()?
        .as_str()?
        .parse()
        .ok()?;
    let pid = app_pid(bin, config)?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let start_ticks: f64 = after.split(' ').nth(19)?.parse().ok()?;
    // The boot clock now (`/proc/uptime`, 10 ms steps) against the wall clock now: the
    // process's start in wall-clock time without `btime`'s whole-second rounding.
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // CLK_TCK is 100 on Linux for every architecture Keyport ships on.
    Some(ready_ms / 1000.0 - (wall - uptime + start_ticks / 100.0))
}

fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * p).round() as usize]
}
