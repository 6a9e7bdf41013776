//! How the agent is reached, one interface over each platform's local channel; the
//! protocol above it is the same everywhere.
//!
//! - Unix: a socket `agent.sock` in Keyport's `0700` folder; a peer of another user is
//!   refused (`SO_PEERCRED`).
//! - Windows: a named pipe `\\.\pipe\keyport-agent-<user SID>-<folder hash>` whose DACL
//!   grants this user alone (so no other user can open it), made as the first instance
//!   (a pipe of that name already there — a running agent, or another user's squatter —
//!   stops the agent from starting), remote clients rejected.
//!
//! [`Listener::bind`] / [`Listener::accept`] serve; [`connect`] is the CLI's blocking,
//! runtime-free side, with [`Client::read_line`] bounded by a deadline.

use crate::Error;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Duration;

/// Where the agent of `config_dir` listens, for people.
pub fn address(config_dir: &Path) -> String {
    imp::address(config_dir)
}

pub(crate) use imp::{Listener, Stream};

fn in_use(addr: &str) -> Error {
    Error::Unsupported(format!(
        "A Keyport agent already serves {addr}. Stop it first, or use it as it is."
    ))
}

/// The CLI's connection to a running agent.
pub(crate) struct Client {
    reader: BufReader<imp::ClientStream>,
}

/// Connects to a running agent and sends `line`; `None` when none takes it within a
/// second.
pub(crate) fn connect(config_dir: &Path, line: &[u8]) -> Option<Client> {
    let mut s = imp::client(config_dir)?;
    s.write_all(line).ok()?;
    Some(Client {
        reader: BufReader::new(s),
    })
}

impl Client {
    /// Reads one line into `buf`, waiting at most `timeout`.
    pub(crate) fn read_line(&mut self, buf: &mut String, timeout: Duration) -> Option<()> {
        imp::set_timeout(self.reader.get_mut(), timeout)?;
        match self.reader.read_line(buf) {
            Ok(n) if n > 0 => Some(()),
            _ => None,
        }
    }
}

#[cfg(unix)]
mod imp {
    use super::in_use;
    use crate::{Error, Result};
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    pub type Stream = tokio::net::UnixStream;
    pub type ClientStream = std::os::unix::net::UnixStream;

    fn path(config_dir: &Path) -> PathBuf {
        config_dir.join("agent.sock")
    }

    pub fn address(config_dir: &Path) -> String {
        path(config_dir).display().to_string()
    }

    pub struct Listener {
        listener: tokio::net::UnixListener,
        _file: SocketFile,
    }

    impl Listener {
        pub fn bind(config_dir: &Path) -> Result<Listener> {
            let path = path(config_dir);
            // A live agent answers; a stale socket file from a crash is replaced.
            if ClientStream::connect(&path).is_ok() {
                return Err(in_use(&path.display().to_string()));
            }
            let _ = std::fs::remove_file(&path);
            let listener =
                tokio::net::UnixListener::bind(&path).map_err(|source| Error::Store {
                    action: "listen on",
                    path: path.clone(),
                    source,
                })?;
            Ok(Listener {
                listener,
                _file: SocketFile::made(path),
            })
        }

        /// The next client, and whether it runs as this agent's user.
        pub async fn accept(&mut self) -> std::io::Result<(Stream, bool)> {
            let (stream, _) = self.listener.accept().await?;
            let own = stream
                .peer_cred()
                .is_ok_and(|c| c.uid() == crate::storage::current_uid());
            Ok((stream, own))
        }
    }

    pub fn client(config_dir: &Path) -> Option<ClientStream> {
        let s = ClientStream::connect(path(config_dir)).ok()?;
        s.set_write_timeout(Some(Duration::from_secs(1))).ok()?;
        Some(s)
    }

    pub fn set_timeout(s: &mut ClientStream, timeout: Duration) -> Option<()> {
        s.set_read_timeout(Some(timeout)).ok()
    }

    /// The socket file this agent made. It goes when the agent stops serving, unless
    /// another agent's socket has taken its place by then.
    struct SocketFile {
        path: PathBuf,
        inode: Option<u64>,
    }

    impl SocketFile {
        fn made(path: PathBuf) -> Self {
            use std::os::unix::fs::MetadataExt;
            let inode = std::fs::symlink_metadata(&path).ok().map(|m| m.ino());
            SocketFile { path, inode }
        }
    }

    impl Drop for SocketFile {
        fn drop(&mut self) {
            use std::os::unix::fs::MetadataExt;
            let now = std::fs::symlink_metadata(&self.path).ok().map(|m| m.ino());
            if self.inode.is_some() && now == self.inode {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

#[cfg(windows)]
mod imp {
    use super::in_use;
    use crate::win::UserOnly;
    use crate::{Error, Result};
    use sha2::{Digest, Sha256};
    use std::io::{Read, Write};
    use std::path::Path;
    use std::sync::mpsc;
    use std::time::Duration;
    use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};

    pub type Stream = NamedPipeServer;

    /// The pipe's name: the user's SID (another user's agent has another name) and a hash
    /// of the folder (one agent per configuration folder, as on Unix).
    fn name(config_dir: &Path) -> String {
        let sid = crate::win::user_sid().unwrap_or_else(|_| "unknown".into());
        let folder = config_dir.to_string_lossy().to_lowercase();
        let hash = Sha256::digest(folder.as_bytes());
        let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!(r"\\.\pipe\keyport-agent-{sid}-{hex}")
    }

    pub fn address(config_dir: &Path) -> String {
        name(config_dir)
    }

    pub struct Listener {
        name: String,
        security: UserOnly,
        next: NamedPipeServer,
    }

    fn instance(name: &str, security: &UserOnly, first: bool) -> std::io::Result<NamedPipeServer> {
        let mut o = ServerOptions::new();
        o.first_pipe_instance(first).reject_remote_clients(true);
        // SAFETY: the attributes point to a descriptor `security` keeps alive for the call.
        unsafe { o.create_with_security_attributes_raw(name, security.attributes()) }
    }

    impl Listener {
        pub fn bind(config_dir: &Path) -> Result<Listener> {
            // A live agent answers (checked first: Wine does not enforce
            // first_pipe_instance; Windows does, for a squatter that does not answer).
            if client(config_dir).is_some() {
                return Err(in_use(&name(config_dir)));
            }
            let name = name(config_dir);
            let io = |source| Error::Store {
                action: "listen on",
                path: name.clone().into(),
                source,
            };
            let security = UserOnly::new(false).map_err(io)?;
            let next = match instance(&name, &security, true) {
                Ok(p) => p,
                // ERROR_ACCESS_DENIED: a pipe of this name exists (first_pipe_instance).
                Err(e) if e.raw_os_error() == Some(5) => return Err(in_use(&name)),
                Err(e) => return Err(io(e)),
            };
            Ok(Listener {
                name,
                security,
                next,
            })
        }

        /// The next client. Only this user can open the pipe (its DACL), so every client
        /// is its own user's.
        pub async fn accept(&mut self) -> std::io::Result<(Stream, bool)> {
            self.next.connect().await?;
            let fresh = instance(&self.name, &self.security, false)?;
            Ok((std::mem::replace(&mut self.next, fresh), true))
        }
    }

    /// The client's end: the pipe opened as a file, read by a thread so that a read can
    /// be given a deadline (a pipe opened for synchronous reads has no timeout).
    pub struct ClientStream {
        pipe: std::fs::File,
        lines: Option<mpsc::Receiver<Vec<u8>>>,
        timeout: Duration,
        pending: Vec<u8>,
    }

    /// ERROR_PIPE_BUSY: every instance is taken (the agent is making the next one).
    const PIPE_BUSY: i32 = 231;

    pub fn client(config_dir: &Path) -> Option<ClientStream> {
        let name = name(config_dir);
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        let pipe = loop {
            match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&name)
            {
                Ok(p) => break p,
                Err(e) if e.raw_os_error() == Some(PIPE_BUSY) => {
                    if std::time::Instant::now() >= deadline {
                        return None;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => return None,
            }
        };
        Some(ClientStream {
            pipe,
            lines: None,
            timeout: Duration::from_secs(1),
            pending: Vec::new(),
        })
    }

    pub fn set_timeout(s: &mut ClientStream, timeout: Duration) -> Option<()> {
        s.timeout = timeout;
        Some(())
    }

    impl Write for ClientStream {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.pipe.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.pipe.flush()
        }
    }

    impl Read for ClientStream {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.pending.is_empty() {
                let pipe = &self.pipe;
                let rx = self.lines.get_or_insert_with(|| {
                    let (tx, rx) = mpsc::channel();
                    let mut pipe = pipe.try_clone().expect("the pipe handle duplicates");
                    std::thread::spawn(move || {
                        let mut chunk = [0u8; 512];
                        while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                            if tx.send(chunk[..n].to_vec()).is_err() {
                                break;
                            }
                        }
                    });
                    rx
                });
                match rx.recv_timeout(self.timeout) {
                    Ok(bytes) => self.pending = bytes,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(0),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        return Err(std::io::ErrorKind::TimedOut.into())
                    }
                }
            }
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            Ok(n)
        }
    }

    impl Drop for ClientStream {
        fn drop(&mut self) {
            zeroize::Zeroize::zeroize(&mut self.pending);
        }
    }
}
