//! SFTP accounts: one per appId (the SSH user name), by password (`sftp_password`) or public
//! key (`sftp_authorized_keys`, OpenSSH format). Key parsing and the host key are `wire::ssh`.

use russh::keys::PublicKey;

use crate::api::infinia::apps::InfiniaApp;
pub use crate::wire::ssh::{host_key, parse_public_key};

/// The password matches the app's SFTP password (compared in constant time).
pub fn password_ok(app: &InfiniaApp, password: &str) -> bool {
    let Some(expected) = app.sftp_password.as_deref() else {
        return false;
    };
    let (a, b) = (expected.as_bytes(), password.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The key is one of the app's authorized keys (comments ignored).
pub fn key_ok(app: &InfiniaApp, key: &PublicKey) -> bool {
    app.sftp_authorized_keys
        .iter()
        .filter_map(|line| parse_public_key(line).ok())
        .any(|k| k.key_data() == key.key_data())
}
