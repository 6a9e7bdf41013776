//! Seeds many admin-issued connections at once, for benchmarks and window tests: one
//! keychain session and one metadata write (`Keyport::seed_tokens`), so a thousand take
//! seconds. The profile comes from the environment as for `keyport` (KEYPORT_CONFIG_DIR,
//! KEYPORT_KEYCHAIN_SERVICE); run it inside `scripts/with-session.sh` for the real keychain.
//!
//! seed --count N --vendor ID --base-url URL [--clients K] [--prefix P] [--token-env VAR]
//!
//! Names are P0001…PNNNN (default prefix `c`); with --clients K, connection i works for
//! "Client ((i-1) % K + 1)". The token is $VAR (default: a made-up one per run).

use keyport_engine::{Keyport, Settings};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let count: usize = opt("--count").and_then(|c| c.parse().ok()).unwrap_or(1000);
    let clients: usize = opt("--clients").and_then(|c| c.parse().ok()).unwrap_or(0);
    let prefix = opt("--prefix").unwrap_or_else(|| "c".into());
    let vendor = opt("--vendor").expect("--vendor ID (an admin-issued vendor)");
    let base = opt("--base-url").expect("--base-url URL");
    let token = match opt("--token-env") {
        Some(var) => std::env::var(&var).unwrap_or_else(|_| panic!("{var} is not set")),
        None => format!("seed-token-{}", std::process::id()),
    };
    let settings = Settings::from_vars(|k| std::env::var_os(k)).expect("a config folder");
    let kp = Keyport::new(settings);
    let conns: Vec<(String, Option<String>)> = (1..=count)
        .map(|i| {
            let client = (clients > 0).then(|| format!("Client {}", (i - 1) % clients + 1));
            (format!("{prefix}{i:04}"), client)
        })
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t = std::time::Instant::now();
    let n = rt
        .block_on(kp.seed_tokens(&vendor, &conns, &token, &base))
        .unwrap_or_else(|e| panic!("seed: {e}"));
    eprintln!(
        "seeded {n} connections in {:.2} s",
        t.elapsed().as_secs_f64()
    );
}
