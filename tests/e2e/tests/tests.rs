//! Keyport's end-to-end tests as one integration-test binary (one link step instead of one
//! per file). Run under `scripts/with-session.sh`; `cargo test -p keyport-e2e --test e2e
//! cli::` picks one module.

mod cli;
mod harness;
mod manual;
mod util;
mod window;
