//! Storage: the metadata file, the keychain and the file locks.

pub(crate) mod keychain;
pub(crate) mod locks;
pub(crate) mod metadata;

use crate::{Error, Result};
use std::path::Path;

/// A folder only its owner may enter: created 0700, or checked to be a real folder (not a
/// link) owned by this user, its mode put right.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<()> {
    let err = |action, source| Error::Store {
        action,
        path: dir.into(),
        source,
    };
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(dir).map_err(|e| err("create", e))
        }
        Err(e) => Err(err("inspect", e)),
        Ok(m) if m.file_type().is_symlink() || !m.is_dir() => Err(Error::input(format!(
            "{} is a link or not a folder; Keyport keeps its files only in a real folder of yours. Remove it, or point KEYPORT_CONFIG_DIR elsewhere.",
            dir.display()
        ))),
        #[cfg(unix)]
        Ok(m) => {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            if m.uid() != current_uid() {
                return Err(Error::input(format!(
                    "{} belongs to another user (uid {}); Keyport keeps its files only in a folder of yours. Point KEYPORT_CONFIG_DIR elsewhere.",
                    dir.display(),
                    m.uid()
                )));
            }
            if m.mode() & 0o077 != 0 {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| err("protect", e))?;
            }
            Ok(())
        }
        #[cfg(not(unix))]
        Ok(_) => Ok(()),
    }
}

/// The uid this process runs as.
#[cfg(unix)]
pub(crate) fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}
