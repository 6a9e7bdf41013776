//! Seeds the Keyport environment this process runs in (`KEYPORT_CONFIG_DIR`,
//! `KEYPORT_KEYCHAIN_SERVICE`, the session's Secret Service) with many connections against
//! a running mock vendor, through the real `keyport` CLI (`KEYPORT_BIN`). For the
//! benchmarks: `seed_window --mock URL --count 1000 --clients 50 [--oauth-every 100] [--workers 3]`.
//! Prints the connections' names, one a line.

use std::process::Command;
use std::time::Instant;

use keyport_e2e::env::TempDir;
use keyport_e2e::keyport_bin;
use keyport_e2e::seeding::{even, plan, Seeder};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut mock, mut count, mut clients, mut oauth_every, mut workers) =
        (None, 2usize, 1usize, 0usize, 3usize);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--mock" => mock = Some(value()),
            "--count" => count = value().parse().expect("--count N"),
            "--clients" => clients = value().parse().expect("--clients N"),
            "--oauth-every" => oauth_every = value().parse().expect("--oauth-every N"),
            "--workers" => workers = value().parse().expect("--workers N"),
            other => panic!("unknown argument {other}"),
        }
    }
    let mock = mock.expect("--mock URL (the mock vendor's base URL)");
    let names: Vec<String> = (1..=clients).map(|i| format!("Client {i:02}")).collect();
    let specs = plan(&even(count, &names), oauth_every);
    let dir = TempDir::new("seed");
    let bin = keyport_bin();
    let keyport = move || Command::new(&bin);
    let started = Instant::now();
    Seeder::new(&keyport, &mock, dir.path()).seed(&specs, workers);
    eprintln!(
        "seeded {} connections over {clients} clients in {:.1} s",
        specs.len(),
        started.elapsed().as_secs_f64()
    );
    for s in &specs {
        println!("{}", s.name);
    }
}
