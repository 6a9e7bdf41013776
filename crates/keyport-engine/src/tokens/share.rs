//! Hand-off: `share` moves a connection of this computer into a shared store (its
//! refresh token then lives only there; the metadata file keeps a reference), `unshare`
//! brings it back. Each move is written where it goes before it is removed where it was,
//! and records who (`host/user`) and when; never a secret.

use crate::model::Connection;
use crate::storage::{label, Claimed, MetadataStore, SecretSession};
use crate::time::now;
use crate::{ConnectionView, Error, Keyport, Result};

impl Keyport {
    fn local(&self) -> Result<&crate::storage::local::Local> {
        self.local.as_ref().ok_or_else(|| {
            Error::Unsupported(
                "Keyport runs on a shared store here (no keychain, no metadata file): hand connections over from the computer that holds them.".into(),
            )
        })
    }

    /// Moves `name` from this computer into the shared store at `to`.
    pub async fn share(&self, name: &str, to: &str) -> Result<ConnectionView> {
        let local = self.local()?;
        let bao = local.open(to)?;
        bao.check().await?;
        let keychain = local.keychain().session().await?;
        let Claimed::Won(claim) = keychain.claim(name, self.settings.claim_hold).await? else {
            unreachable!("a file lock is only ever won")
        };
        let conn = local.file().get(name)?;
        if let Some(at) = &conn.store {
            return Err(Error::input(format!(
                "'{name}' already lives in the shared store {at}."
            )));
        }
        let secrets = keychain
            .get(name)
            .await?
            .ok_or_else(|| Error::KeychainData {
                name: name.into(),
                detail: "its keychain entry is missing".into(),
            })?;
        let shared = Connection {
            shared_by: Some(crate::storage::who()),
            shared_at: Some(now()),
            ..conn.clone()
        };
        bao.create(&shared, &secrets).await?;
        let address = bao.address().to_string();
        let reference = local.file().update_connection(name, |c| {
            c.store = Some(address.clone());
            c.shared_by = shared.shared_by.clone();
            c.shared_at = shared.shared_at;
        });
        if let Err(e) = reference {
            let _ = bao.remove(name).await;
            return Err(e);
        }
        // The refresh token now lives only in the shared store.
        keychain.delete(name).await?;
        drop(claim);
        self.view(name).await
    }

    /// Brings `name` back from its shared store into this computer's keychain.
    pub async fn unshare(&self, name: &str) -> Result<ConnectionView> {
        let local = self.local()?;
        let conn = local.file().get(name)?;
        let Some(at) = conn.store.clone() else {
            return Err(Error::input(format!(
                "'{name}' lives on this computer already; only a shared connection can be brought back."
            )));
        };
        let bao = local.open(&at)?;
        let keychain = local.keychain().session().await?;
        let _lock = keychain.claim(name, self.settings.claim_hold).await?;
        // The shared entry's claim: no other computer refreshes while it moves.
        let claim = loop {
            if let Claimed::Won(c) =
                SecretSession::claim(&bao, name, self.settings.claim_hold).await?
            {
                break c;
            }
        };
        let moved = async {
            let remote = MetadataStore::get(&bao, name).await?;
            let secrets = (&bao as &dyn SecretSession)
                .get(name)
                .await?
                .ok_or_else(|| Error::KeychainData {
                    name: name.into(),
                    detail: "its shared entry has no secrets".into(),
                })?;
            let vendor = crate::vendors::find(&remote.vendor).map_or("", |v| v.label());
            keychain.set(name, &label(name, vendor), &secrets).await?;
            let back = Connection {
                store: None,
                ..remote
            };
            if let Err(e) = MetadataStore::put(local.file(), back).await {
                let _ = keychain.delete(name).await;
                return Err(e);
            }
            Ok(())
        }
        .await;
        if let Err(e) = moved {
            let _ = SecretSession::release(&bao, name, claim, false).await;
            return Err(e);
        }
        // Deleting the entry ends the claim with it.
        bao.remove(name).await.map_err(|e| Error::SharedStore {
            address: at.clone(),
            detail: format!(
                "kept its copy of '{name}' ({e}), though the connection is back on this computer. Delete the entry there (bao kv metadata delete) so no other computer refreshes it."
            ),
        })?;
        self.view(name).await
    }
}
