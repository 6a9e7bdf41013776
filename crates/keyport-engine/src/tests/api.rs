//! `api` and the proxy against the mock vendor: placeholders, bodies, paging, the retry
//! after a 401, the base URL's bounds, the proxy's key, Host rule and header handling, and
//! one refresh for many requests through an expiry.

use super::{connect, expire, free_port, myob_form, world, World};
use crate::{ApiRequest, Keyport};
use keyport_mock::{BUSINESS_ID, BUSINESS_NAME};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A world with a MYOB connection `acme` to the mock.
async fn myob_world() -> World {
    let w = world();
    let f = myob_form(&w, free_port());
    connect(&w, f).await.expect("connected");
    w
}

fn get(path: &str) -> ApiRequest {
    ApiRequest {
        method: "GET".into(),
        path: path.into(),
        ..ApiRequest::default()
    }
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).expect("a JSON body")
}

#[tokio::test]
async fn api_gets_posts_and_pages_with_the_business_placeholder() {
    let w = myob_world().await;
    let r =
        w.kp.api("acme", &get("/accountright/{business_id}/"))
            .await
            .unwrap();
    assert_eq!((r.len(), r[0].status), (1, 200));
    assert_eq!(json(&r[0].body)["Name"], BUSINESS_NAME);
    assert!(r[0].url.ends_with(&format!("/accountright/{BUSINESS_ID}/")));

    let post = ApiRequest {
        method: "POST".into(),
        path: "accountright/{business_id}/Contact/Customer".into(),
        body: Some(br#"{"CompanyName":"Bluegum Cafe"}"#.to_vec()),
        ..ApiRequest::default()
    };
    let r = w.kp.api("acme", &post).await.unwrap();
    assert_eq!(r[0].status, 201, "{}", r[0].excerpt());
    assert!(r[0]
        .headers
        .iter()
        .any(|(k, v)| k == "location" && v.contains("/Contact/Customer/")));
    let seen = w.mock.stats().requests.pop().unwrap();
    assert_eq!(seen.method, "POST");
    assert!(seen.header_names.contains(&"content-type".to_owned()));

    let mut list = get("/accountright/{business_id}/Contact/Customer?$top=2");
    list.paginate = true;
    let pages = w.kp.api("acme", &list).await.unwrap();
    assert_eq!(pages.len(), 3, "6 customers, 2 a page");
    let names: Vec<_> = pages
        .iter()
        .flat_map(|p| json(&p.body)["Items"].as_array().cloned().unwrap())
        .map(|c| c["CompanyName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 6);
    assert_eq!(names[5], "Bluegum Cafe");

    let e = w.kp.api("acme", &get("/x/{tenant}")).await.unwrap_err();
    assert!(e.to_string().contains("{business_id}"), "{e}");
}

#[tokio::test]
async fn a_401_refreshes_once_and_the_retry_succeeds_and_a_404_keeps_its_status() {
    let w = myob_world().await;
    // The vendor's clock passes the token's end; Keyport still thinks it fresh.
    w.mock.advance_clock(1300);
    let before = w.mock.stats().refreshes;
    let r =
        w.kp.api("acme", &get("/accountright/{business_id}/"))
            .await
            .unwrap();
    assert_eq!(r[0].status, 200, "{}", r[0].excerpt());
    assert_eq!(w.mock.stats().refreshes, before + 1);

    let r =
        w.kp.api("acme", &get("/accountright/{business_id}/Nope"))
            .await
            .unwrap();
    assert_eq!(r[0].status, 404);
    assert!(!r[0].is_success());
    assert_eq!(
        w.mock.stats().refreshes,
        before + 1,
        "a 404 is no reason to refresh"
    );
}

#[tokio::test]
async fn the_base_url_bounds_what_api_sends() {
    let w = myob_world().await;
    let other = keyport_mock::MockServer::start().unwrap();
    for path in [
        format!("{}/myob/api/accountright/", other.base_url()),
        "/../../_mock/stats".to_owned(),
    ] {
        let e = w.kp.api("acme", &get(&path)).await.unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{path}: {e}");
    }
    assert!(other.stats().requests.is_empty());
    let mut h = get("/accountright/{business_id}/");
    h.headers = vec![("Authorization".into(), "Bearer mine".into())];
    assert_eq!(
        w.kp.api("acme", &h).await.unwrap_err().code(),
        "invalid_input"
    );
    h.headers = vec![("x-myobapi-key".into(), "other".into())];
    assert_eq!(
        w.kp.api("acme", &h).await.unwrap_err().code(),
        "invalid_input"
    );

    w.kp.metadata_file()
        .update_connection("acme", |c| {
            c.base_url = Some("http://erp.example.com/api".into())
        })
        .unwrap();
    let e = w.kp.api("acme", &get("/x")).await.unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("plain HTTP"), "{e}");

    w.kp.add_sample_token("admin", "tok-0123456789", None)
        .await
        .unwrap();
    let mut paged = get("/x");
    paged.paginate = true;
    let e = w.kp.api("admin", &paged).await.unwrap_err();
    assert_eq!(e.code(), "unsupported");
    assert!(e.to_string().contains("paging"), "{e}");
}

/// A running proxy for `acme`; its base URL.
async fn proxy(kp: &Arc<Keyport>) -> (String, u16) {
    let p = kp.proxy("acme", 0).await.expect("proxy binds");
    let (url, port) = (p.url(), p.port());
    tokio::spawn(p.serve(Arc::new(|_: &str| {}), std::future::pending()));
    (url, port)
}

/// One request written as is (no client-side path clean-up); the status and the answer.
async fn raw(port: u16, target: &str, host: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

#[tokio::test]
async fn the_proxy_forwards_with_the_vendors_headers_and_nothing_of_the_clients() {
    let w = myob_world().await;
    let (url, port) = proxy(&w.kp).await;
    let key = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(key.len() >= 22, "128 bits, URL-safe: {key}");
    let c = reqwest::Client::new();
    let r = c
        .get(format!("{url}accountright/{BUSINESS_ID}/?x=1"))
        .header("Authorization", "Bearer the-clients-own")
        .header("Cookie", "session=1")
        .header("x-myobapi-version", "v9")
        .header("X-Client", "kept")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(BUSINESS_NAME));
    let seen = w.mock.stats().requests.pop().unwrap();
    let n = |h: &str| seen.header_names.iter().filter(|x| *x == h).count();
    assert_eq!(
        (n("authorization"), n("x-myobapi-version"), n("cookie")),
        (1, 1, 0)
    );
    assert_eq!(
        (n("x-myobapi-key"), n("x-myobapi-cftoken"), n("x-client")),
        (1, 1, 1)
    );

    let r = c
        .post(format!("{url}accountright/{BUSINESS_ID}/Contact/Customer"))
        .header("Content-Type", "application/json")
        .body(r#"{"CompanyName":"Proxy Pty"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("location"));
    let big = vec![b'x'; crate::http::REQUEST_BODY_LIMIT + 1];
    let r = c.post(format!("{url}x")).body(big).send().await.unwrap();
    assert_eq!(r.status(), 413);

    let count = w.mock.stats().requests.len();
    let wrong = format!(
        "http://127.0.0.1:{port}/{}/accountright/",
        "A".repeat(key.len())
    );
    let r = c.get(wrong).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.text().await.unwrap(), "", "no detail");
    let (status, _) = raw(port, &format!("/{key}/accountright/"), "evil.example").await;
    assert_eq!(status, 403, "DNS rebinding");
    assert_eq!(w.mock.stats().requests.len(), count, "nothing forwarded");
}

#[tokio::test]
async fn the_proxy_never_reaches_another_host() {
    let w = myob_world().await;
    let other = keyport_mock::MockServer::start().unwrap();
    let (url, port) = proxy(&w.kp).await;
    let key = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let there = other.base_url().trim_start_matches("http://").to_owned();
    for crafted in [
        format!("//{there}/myob/api/"),
        format!("/../../..//{there}/"),
        format!("/%2e%2e/%2e%2e/%2e%2e/{there}/"),
        format!("/@{there}/"),
        format!("/http://{there}/"),
        format!("/..\\..\\..\\{there}/"),
    ] {
        let (status, _) = raw(
            port,
            &format!("/{key}{crafted}"),
            &format!("127.0.0.1:{port}"),
        )
        .await;
        assert!(status == 400 || status == 404, "{crafted}: {status}");
    }
    let (status, _) = raw(
        port,
        &format!("http://{there}/{key}/"),
        &format!("127.0.0.1:{port}"),
    )
    .await;
    assert_eq!(status, 403, "absolute-form");
    assert!(
        other.stats().requests.is_empty(),
        "{:?}",
        other.stats().requests
    );
    for r in w.mock.stats().requests {
        assert!(r.path.starts_with("/myob/"), "{}", r.path);
    }
}

#[tokio::test]
async fn twenty_requests_through_an_expiry_make_one_refresh() {
    let w = myob_world().await;
    let (url, _) = proxy(&w.kp).await;
    let c = reqwest::Client::new();
    let all = |c: &reqwest::Client| {
        let reqs = (0..20).map(|_| {
            let c = c.clone();
            let u = format!("{url}accountright/{BUSINESS_ID}/");
            tokio::spawn(async move { c.get(u).send().await.unwrap().status().as_u16() })
        });
        futures_join(reqs.collect())
    };
    let before = w.mock.stats().refreshes;
    // The vendor sees the token expire (every request gets a 401 first)…
    w.mock.advance_clock(1300);
    assert_eq!(all(&c).await, vec![200; 20]);
    assert_eq!(w.mock.stats().refreshes, before + 1);
    // …and Keyport sees it expire (every request needs a fresh one first).
    expire(&w, "acme");
    assert_eq!(all(&c).await, vec![200; 20]);
    assert_eq!(w.mock.stats().refreshes, before + 2);
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<u16>>) -> Vec<u16> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
