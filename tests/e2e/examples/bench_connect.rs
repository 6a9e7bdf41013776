//! Callback received → tokens stored, against the mock vendor on loopback.
//! Run with `scripts/with-session.sh cargo run --release -p keyport-e2e --example bench_connect`.
//! Prints medians for: the whole step with an in-memory vault, the same with the real
//! keychain, and the mock's token round trip alone (so the engine's share can be read off).

use keyport_engine::{Cancel, Form, Keyport, Settings};
use keyport_mock::MockServer;
use serde_json::json;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const RUNS: usize = 40;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// Plays the browser: loads the consent page, submits its form with "allow", returns the
/// redirect target (the callback URL with code and state).
fn consent(url: &str, base: &str) -> String {
    let a = agent();
    let html = a
        .get(url)
        .call()
        .expect("consent page")
        .body_mut()
        .read_to_string()
        .expect("html");
    let action = attr(&html, "<form", "action").expect("form action");
    let mut fields: Vec<(String, String)> = html
        .split("<input")
        .skip(1)
        .filter_map(|tag| {
            Some((
                attr(tag, "", "name")?,
                attr(tag, "", "value").unwrap_or_default(),
            ))
        })
        .collect();
    fields.push(("decision".into(), "allow".into()));
    let target = if action.starts_with("http") {
        action
    } else {
        format!("{base}{action}")
    };
    let resp = a
        .post(&target)
        .send_form(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .expect("decide");
    resp.headers()
        .get("location")
        .expect("redirect")
        .to_str()
        .expect("ascii")
        .to_owned()
}

fn attr(html: &str, after: &str, name: &str) -> Option<String> {
    let start = html.find(after)? + after.len();
    let rest = &html[start..];
    let end = rest.find('>')?;
    let tag = &rest[..end];
    let key = format!("{name}=\"");
    let i = tag.find(&key)? + key.len();
    let v = &tag[i..];
    Some(
        v[..v.find('"')?]
            .replace("&amp;", "&")
            .replace("&quot;", "\""),
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn settings(dir: std::path::PathBuf, service: String) -> Settings {
    Settings {
        config_dir: dir,
        keychain_service: service,
        keychain_timeout: Duration::from_secs(30),
        browser: None,
        source: Default::default(),
        store: None,
        bao: Default::default(),
        claim_hold: Settings::DEFAULT_CLAIM_HOLD,
    }
}

fn run(
    rt: &tokio::runtime::Runtime,
    kp: &Keyport,
    mock: &MockServer,
    port: u16,
    runs: usize,
) -> Duration {
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let mut times = Vec::new();
    for i in 0..runs {
        let name = format!("bench-{i}");
        let base = mock.base_url();
        let form = Form {
            vendor: "myob".into(),
            name: name.clone(),
            replace: true,
            window: Some(Duration::from_secs(60)),
            values: [
                ("client_id", "bench-key".to_owned()),
                ("client_secret", "bench-secret".to_owned()),
                ("redirect_uri", redirect.clone()),
                ("auth_base", format!("{base}/myob/secure")),
                ("api_base", format!("{base}/myob/api")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            ..Form::default()
        };
        let mut pending = rt.block_on(kp.begin_connect(form)).expect("begin");
        let callback = consent(pending.authorize_url(), &mock.base_url());
        let browser = std::thread::spawn(move || {
            let target = callback.trim_start_matches("http://127.0.0.1");
            let path = &target[target.find('/').expect("path")..];
            let t0 = Instant::now();
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("listener");
            write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            )
            .expect("send");
            let mut sink = String::new();
            let _ = s.read_to_string(&mut sink);
            t0
        });
        let done = rt.block_on(async {
            let cb = pending
                .wait(&Cancel::new(), |_| {})
                .await
                .expect("callback");
            kp.finish_connect(pending, cb).await.expect("stored");
            Instant::now()
        });
        times.push(done - browser.join().expect("browser"));
        let _ = rt.block_on(kp.revoke(&name, true));
    }
    median(times)
}

fn main() {
    let mock = MockServer::start().expect("mock");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    agent()
        .post(&format!("{}/_mock/clients", mock.base_url()))
        .send_json(json!({"vendor":"myob","client_id":"bench-key","client_secret":"bench-secret","redirect_uris":[format!("http://127.0.0.1:{port}/callback")]}))
        .expect("register");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("keyport-bench-{}", std::process::id()));
    let (memory, _vault) = Keyport::in_memory(settings(dir.join("mem"), "memory".into()));
    let m = run(&rt, &memory, &mock, port, RUNS);
    println!(
        "callback → stored, in-memory vault:   median {:.2} ms over {RUNS} runs",
        m.as_secs_f64() * 1e3
    );

    let keychain = Keyport::new(settings(
        dir.join("kc"),
        format!("keyport-bench-{}", std::process::id()),
    ));
    let k = run(&rt, &keychain, &mock, port, RUNS);
    println!(
        "callback → stored, real keychain:     median {:.2} ms over {RUNS} runs",
        k.as_secs_f64() * 1e3
    );

    let a = agent();
    let url = format!("{}/myob/secure/oauth2/v1/authorize", mock.base_url());
    let mut rt = Vec::new();
    for _ in 0..RUNS {
        let t0 = Instant::now();
        let _ = a.post(&url).send_form([
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", "bench-key"),
            ("client_secret", "bench-secret"),
            ("redirect_uri", "x"),
            ("scope", "CompanyFile"),
        ]);
        rt.push(t0.elapsed());
    }
    let r = median(rt);
    println!(
        "mock token endpoint round trip alone: median {:.2} ms",
        r.as_secs_f64() * 1e3
    );
    println!(
        "engine's own share (in-memory total − vendor round trip): {:.2} ms",
        (m.saturating_sub(r)).as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(dir);
}
