//! File locks (`flock` semantics): exclusive across processes and across separately
//! opened handles inside one process; released when dropped, or when the process dies.

use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

pub struct FileLock(File);

impl FileLock {
    pub fn acquire(path: &Path) -> Result<FileLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|source| Error::Store {
                action: "open the lock file",
                path: path.into(),
                source,
            })?;
        file.lock().map_err(|source| Error::Store {
            action: "lock",
            path: path.into(),
            source,
        })?;
        Ok(FileLock(file))
    }

    /// Waits for the lock on the blocking pool, so an async caller's thread stays free.
    pub async fn acquire_async(path: PathBuf) -> Result<FileLock> {
        tokio::task::spawn_blocking(move || FileLock::acquire(&path))
            .await
            .map_err(|e| {
                Error::Unsupported(format!("Keyport's lock waiter stopped ({e}); try again."))
            })?
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
