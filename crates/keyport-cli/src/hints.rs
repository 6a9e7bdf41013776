//! The engine's "what to do" ([`keyport_engine::Action`]) worded as commands.

use keyport_engine::{Action, ActionKind, Keyport};

pub fn hints(kp: &Keyport, actions: &[Action], rt: &tokio::runtime::Runtime) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| {
            let name = a.name.as_deref().unwrap_or("NAME");
            Some(match a.kind {
                ActionKind::Reconnect => match a.name.as_deref().and_then(|n| rt.block_on(kp.view(n)).ok()) {
                    Some(_) => format!("sign in again: keyport reconnect {name}"),
                    None => format!("sign in again: keyport connect VENDOR --name {name} --replace …"),
                },
                ActionKind::Reissue => format!(
                    "issue a new token at the vendor, then: keyport set-token {name}"
                ),
                ActionKind::Replace => "to replace it, run the same command with --replace".into(),
                ActionKind::Revoke => format!("to remove it: keyport revoke {name}"),
                ActionKind::ForceRevoke => {
                    format!("to remove it here anyway: keyport revoke {name} --force")
                }
                ActionKind::UnlockKeychain => {
                    if cfg!(windows) {
                        "open Credential Manager (Control Panel) to check it works for your account, then run the command again".into()
                    } else {
                        "unlock the keychain (Passwords and Keys, or log in again), then run the command again".into()
                    }
                }
                ActionKind::Retry => "run the command again in a minute".into(),
                ActionKind::List => "see the names: keyport list".into(),
                ActionKind::FreePort => "see which program holds the port: ss -ltnp".into(),
                ActionKind::MoveMetadataAside => format!(
                    "move it aside: mv {0} {0}.damaged",
                    kp.metadata_path().display()
                ),
                ActionKind::FixInput => return None,
            })
        })
        .collect()
}
