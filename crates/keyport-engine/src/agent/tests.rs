//! The agent's tests: the request line, abuse, lock and confirm, script values.

mod request_line {
    use super::super::*;

    #[test]
    fn requests_parse_strictly() {
        assert_eq!(parse("token acme 60"), Some((Ask::Token, "acme", 60)));
        assert_eq!(parse("values acme 0"), Some((Ask::Values, "acme", 0)));
        assert_eq!(parse("token acme"), None);
        assert_eq!(parse("token acme 60 extra"), None);
        assert_eq!(parse("headers acme 60"), None);
        assert_eq!(parse("token acme -5"), None, "min_valid is bounded below");
        assert_eq!(parse("token acme 99999999"), None, "and above");
        assert_eq!(parse("token ../x 60"), None, "names are checked");
    }
}

#[cfg(unix)]
mod serve_tests {
    use super::super::*;
    use crate::tests::world;
    use std::io::{Read, Write};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abuse_is_answered_or_refused_within_a_second_while_others_are_served() {
        let w = world();
        let dir = super::lock_tests::served(&w, Options::default()).await;
        let answers = tokio::task::spawn_blocking(move || {
            let sock = socket_path(&dir);
            // 300 idle connections and a client trickling a byte at a time.
            let idle: Vec<_> = (0..300)
                .filter_map(|_| std::os::unix::net::UnixStream::connect(&sock).ok())
                .collect();
            let mut trickle = std::os::unix::net::UnixStream::connect(&sock).unwrap();
            trickle.write_all(b"tok").unwrap();
            let t0 = std::time::Instant::now();
            let served = ask(&dir, "m", 60);
            let took = t0.elapsed();
            // A huge request line is cut off at the cap with an answer, not buffered.
            let mut big = std::os::unix::net::UnixStream::connect(&sock).unwrap();
            big.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let _ = big.write_all(&vec![b'x'; 1 << 20]);
            let mut reply = String::new();
            let _ = big.read_to_string(&mut reply);
            // Not UTF-8, and a negative min_valid: answered, refused.
            let mut odd = std::os::unix::net::UnixStream::connect(&sock).unwrap();
            odd.write_all(b"token \xff\xfe 60\n").unwrap();
            let mut odd_reply = String::new();
            let _ = odd.read_to_string(&mut odd_reply);
            let mut neg = std::os::unix::net::UnixStream::connect(&sock).unwrap();
            neg.write_all(b"token m -5\n").unwrap();
            let mut neg_reply = String::new();
            let _ = neg.read_to_string(&mut neg_reply);
            drop(idle);
            (served, took, reply, odd_reply, neg_reply)
        })
        .await
        .unwrap();
        let (served, took, big, odd, neg) = answers;
        match served {
            Some(AgentAnswer::Token(t, _)) => {
                assert_eq!(t.expose_secret(), "sample-token-0123456789")
            }
            _ => panic!("the agent served the token"),
        }
        assert!(
            took < Duration::from_secs(1),
            "served in {took:?} beside idle and slow clients"
        );
        assert!(big.starts_with("err 2"), "{big:?}");
        assert!(odd.starts_with("err 2"), "{odd:?}");
        assert!(neg.starts_with("err 2"), "{neg:?}");
    }
}

mod lock_tests {
    use super::super::*;
    use crate::tests::world;
    use std::path::{Path, PathBuf};

    pub(super) async fn served(w: &crate::tests::World, options: Options) -> PathBuf {
        w.kp.add_sample_token("m", "sample-token-0123456789", None)
            .await
            .expect("added");
        tokio::spawn(serve_with(w.kp.clone(), options));
        for _ in 0..100 {
            if serving(&w.dir) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        w.dir.clone()
    }

    fn asked(dir: &Path) -> Option<AgentAnswer> {
        ask(dir, "m", 60)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_locked_agent_holds_nothing_and_a_locked_keychain_empties_it() {
        let w = world();
        let dir = served(&w, Options::default()).await;
        let d = dir.clone();
        let (before, locked, after) = tokio::task::spawn_blocking(move || {
            let before = asked(&d);
            assert!(set_locked(&d, true));
            let locked = asked(&d);
            assert!(set_locked(&d, false));
            (before, locked, asked(&d))
        })
        .await
        .unwrap();
        assert!(matches!(before, Some(AgentAnswer::Token(..))));
        assert!(
            locked.is_none(),
            "a locked agent answers nothing: the caller reads the keychain"
        );
        assert!(matches!(after, Some(AgentAnswer::Token(..))));
        // The keychain locks (and is then out of reach): the held token is forgotten.
        w.vault
            .locked
            .store(true, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(3500)).await;
        w.vault
            .unavailable
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let d = dir.clone();
        match tokio::task::spawn_blocking(move || asked(&d))
            .await
            .unwrap()
        {
            Some(AgentAnswer::Failed(code, _)) => {
                assert_eq!(code, 4, "from the keychain, not memory")
            }
            _ => panic!("the agent still handed out a token it held across a keychain lock"),
        }
    }

    /// What a caller gets from an agent that runs `program` before a token leaves.
    async fn answer_with_confirm(program: &str) -> Option<AgentAnswer> {
        let w = world();
        let options = Options {
            confirm: Some(vec![program.into()]),
            ..Options::default()
        };
        let dir = served(&w, options).await;
        tokio::task::spawn_blocking(move || asked(&dir))
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_confirm_a_declined_request_gets_no_token() {
        match answer_with_confirm("false").await {
            Some(AgentAnswer::Failed(8, m)) => assert!(m.contains("declined"), "{m}"),
            _ => panic!("a declined request must not get the token"),
        }
        // A program that allows (exits 0): `true`; on Windows, which has none, this test
        // program itself, whose harness runs no test for the question as a filter.
        let allow = if cfg!(windows) {
            std::env::current_exe().unwrap().display().to_string()
        } else {
            "true".into()
        };
        let got = answer_with_confirm(&allow).await;
        assert!(matches!(got, Some(AgentAnswer::Token(..))));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_values_request_gets_what_a_script_gets_with_the_same_token() {
        let w = world();
        let dir = served(&w, Options::default()).await;
        let direct = w.kp.script_values("m").await.expect("values");
        let (token, values) =
            tokio::task::spawn_blocking(move || (asked(&dir), ask_values(&dir, "m", 60)))
                .await
                .unwrap();
        let Some(AgentAnswer::Token(token, None)) = token else {
            panic!("a token from the agent");
        };
        let values = values.expect("the agent answers").expect("values");
        assert_eq!(values.len(), direct.len());
        for (a, b) in values.iter().zip(&direct) {
            assert_eq!((&a.env, &a.field, a.secret), (&b.env, &b.field, b.secret));
            assert_eq!(a.value.expose_secret(), b.value.expose_secret());
        }
        let t = values
            .iter()
            .find(|v| v.field == "token")
            .expect("the token");
        assert_eq!(t.value.expose_secret(), token.expose_secret());
        assert!(values.iter().any(|v| v.env == "KEYPORT_BASE_URL"));
    }
}
