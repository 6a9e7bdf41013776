//! The one-shot listener: a wait that ends on time, on cancel, and frees its port; a
//! callback served while clients trickle or idle by the thousand; a denied consent told
//! apart from a forged `state`; a localhost redirect bound on both address families.

use super::*;

#[tokio::test]
async fn the_wait_ends_on_time_on_cancel_and_frees_the_port() {
    let w = world();
    let port = free_port();
    let mut f = advanced_form(&w, "adv", port);
    f.window = Some(Duration::from_millis(600));
    let mut p = w.kp.begin_connect(f).await.expect("begin");
    // A slow client trickling bytes, and idle connections, change nothing.
    let _idle: Vec<_> = (0..100)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    let started = std::time::Instant::now();
    let e = p.wait(&Cancel::new(), |_| {}).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the window's end is honoured"
    );
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free again");

    let mut p =
        w.kp.begin_connect(advanced_form(&w, "adv", port))
            .await
            .expect("begin");
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c2.cancel();
    });
    assert!(matches!(
        p.wait(&cancel, |_| {}).await,
        Err(Error::Cancelled)
    ));
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free after Cancel");

    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = holder.local_addr().unwrap().port();
    let e =
        w.kp.begin_connect(advanced_form(&w, "adv", busy))
            .await
            .err()
            .expect("busy");
    assert!(
        matches!(e, Error::PortBusy { port, .. } if port == busy),
        "{e}"
    );
}

#[tokio::test]
async fn a_callback_is_served_while_a_slow_client_trickles() {
    use std::io::Write;
    let w = world();
    let port = free_port();
    let mut pending =
        w.kp.begin_connect(advanced_form(&w, "adv", port))
            .await
            .expect("begin");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    let trickler = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        for b in b"GET /callback?state=x HTTP/1.1\r\nHost: 127.0.0.1\r\n".iter() {
            if s2.load(Ordering::SeqCst) || s.write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    let url = pending.authorize_url().to_owned();
    let browser = tokio::spawn(async move { consent(&url, "allow").await });
    let started = std::time::Instant::now();
    let cb = pending
        .wait(&Cancel::new(), |_| {})
        .await
        .expect("the real callback");
    assert!(started.elapsed() < Duration::from_secs(5));
    let (status, page) = browser.await.unwrap();
    assert_eq!(status, 200, "{page}");
    w.kp.finish_connect(pending, cb).await.expect("stored");
    stop.store(true, Ordering::SeqCst);
    trickler.join().unwrap();
}

#[tokio::test]
async fn denied_consent_and_a_forged_state_are_told_apart() {
    let w = world();
    let mut pending =
        w.kp.begin_connect(advanced_form(&w, "adv", free_port()))
            .await
            .expect("begin");
    let forged = pending.authorize_url().replace("state=", "state=forged");
    let url = pending.authorize_url().to_owned();
    let ignored = Arc::new(std::sync::Mutex::new(Vec::new()));
    let i2 = ignored.clone();
    let browser = tokio::spawn(async move {
        let (status, _) = consent(&forged, "allow").await;
        assert_eq!(status, 400, "a forged state is refused");
        consent(&url, "deny").await
    });
    let e = pending
        .wait(&Cancel::new(), |ev| {
            if let crate::WaitEvent::Ignored(m) = ev {
                i2.lock().unwrap().push(m)
            }
        })
        .await
        .unwrap_err();
    browser.await.unwrap();
    assert!(matches!(e, Error::Denied { .. }), "{e}");
    assert!(ignored
        .lock()
        .unwrap()
        .iter()
        .any(|m| m.contains("state does not match")));
    assert!(w.vault.raw("adv").is_none());
}

/// Raises this process's open-file limit to its hard limit (many sockets at once); Windows
/// has no such limit.
fn more_files() {
    // SAFETY: getrlimit/setrlimit on this process only, with a valid struct.
    #[cfg(unix)]
    unsafe {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 {
            l.rlim_cur = l.rlim_max.min(65_536);
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "Windows' listen backlog (200 on desktop editions, less under Wine) refuses the callback behind 2000 held connections; a Linux stress test"
)]
async fn a_sign_in_completes_while_2000_idle_and_50_slow_connections_are_held() {
    use std::io::Write;
    more_files();
    let w = world();
    let port = free_port();
    let mut pending =
        w.kp.begin_connect(advanced_form(&w, "adv", port))
            .await
            .expect("begin");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The crowd gathers while Keyport listens, as it would in life.
    let s0 = stop.clone();
    let gathered = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let g0 = gathered.clone();
    let crowd = std::thread::spawn(move || {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let held: Vec<_> = (0..2000)
            .filter_map(|_| {
                std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()
            })
            .collect();
        let n = held.len();
        g0.store(true, Ordering::SeqCst);
        while !s0.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
        n
    });
    let slow: Vec<_> = (0..50)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
                    return;
                };
                for b in b"GET /callback?state=x HTTP/1.1\r\n".iter() {
                    if stop.load(Ordering::SeqCst) || s.write_all(&[*b]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        })
        .collect();
    let url = pending.authorize_url().to_owned();
    let browser = tokio::spawn(async move {
        while !gathered.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let t0 = std::time::Instant::now();
        (consent(&url, "allow").await, t0.elapsed())
    });
    let cb = pending
        .wait(&Cancel::new(), |_| {})
        .await
        .expect("the real callback gets through");
    let ((status, _), took) = browser.await.unwrap();
    assert_eq!(status, 200);
    assert!(
        took < Duration::from_secs(3),
        "the browser was answered in {took:?}"
    );
    w.kp.finish_connect(pending, cb).await.expect("stored");
    stop.store(true, Ordering::SeqCst);
    for t in slow {
        t.join().unwrap();
    }
    let crowd = crowd.join().unwrap();
    assert!(crowd >= 1000, "the crowd was really there: {crowd}");
}

#[tokio::test]
async fn a_localhost_redirect_binds_both_families_so_no_one_can_squat_one() {
    let w = world();
    // Another program holds [::1] on the port a `localhost` redirect names.
    let squatter = match std::net::TcpListener::bind("[::1]:0") {
        Ok(l) => l,
        Err(_) => return, // no IPv6 loopback on this machine: nothing to squat
    };
    let port = squatter.local_addr().unwrap().port();
    let issuer = format!("{}/oidc", w.mock.base_url());
    let redirect = format!("http://localhost:{port}/callback");
    let f = form(
        "oidc",
        "idp",
        &[
            ("issuer", &issuer),
            ("client_id", "pub"),
            ("client_auth", "none"),
            ("redirect_uri", &redirect),
        ],
    );
    match w.kp.begin_connect(f).await {
        Err(Error::PortBusy { host, port: p }) => {
            assert_eq!((host.as_str(), p), ("[::1]", port));
        }
        Err(e) => panic!("expected PortBusy, got {e}"),
        Ok(_) => panic!("a half-bound localhost listener would let the squatter take the code"),
    }
}
