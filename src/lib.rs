//! whalet-sim: a local, stateful simulator of the provider side of cross-border payment APIs.
//! See ARCHITECTURE.md for the codemap and invariants.

#![cfg_attr(test, allow(clippy::unwrap_used))]

/// `eprintln!` for the commands' messages, without its panic when stderr is closed (a reader
/// that went away, `2>/dev/full`): the message is lost, the exit code stays the command's.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod answers;
pub mod api;
pub mod app;
pub mod authorize;
pub mod behaviour;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contract;
pub mod control;
pub mod core;
pub mod country;
pub mod coverage;
pub mod cut;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod journal;
pub mod json_keys;
pub mod money;
pub mod notify;
pub mod partner;
pub mod persist;
pub mod routes;
pub mod scenario;
pub mod sftp;
pub mod store;
pub mod tenant;
#[cfg(test)]
mod test_logs;
pub mod text;
pub mod toml_dates;
pub mod trigger;
pub mod web;
pub mod wire;

pub use app::{App, Options, RunningApp};
