//! Keyport's end-to-end tests as one integration-test binary (one link step instead of one
//! per file). Run under `scripts/with-session.sh`; `cargo test -p keyport-e2e --test e2e
//! cli::` picks one module. `installed` (ignored here) is run by scripts/package-test.sh
//! against the installed package.

mod api;
mod cli;
mod daily;
mod harness;
mod installed;
mod manual;
mod page;
mod porting;
mod script;
mod shared;
mod transfer;
mod tray;
mod util;
mod window;
mod windows;
mod workspace;
