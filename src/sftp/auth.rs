//! SFTP accounts: one per appId (the SSH user name), by password (`sftp_password`) or public
//! key (`sftp_authorized_keys`, OpenSSH format), and the server's host key (embedded demo key
//! keys/infinia/sftp_host_ed25519, test-only).

use russh::keys::{PrivateKey, PublicKey};

use crate::api::infinia::apps::InfiniaApp;

/// The embedded demo host key (OpenSSH format).
pub const DEMO_HOST_KEY: &str = include_str!("../../keys/infinia/sftp_host_ed25519");

/// Parses one `authorized_keys` line (`ssh-ed25519 AAAA... comment`).
pub fn parse_public_key(line: &str) -> Result<PublicKey, String> {
    PublicKey::from_openssh(line.trim())
        .map_err(|e| format!("not an OpenSSH public key line ({e}): {:.40}…", line.trim()))
}

pub fn host_key() -> Result<PrivateKey, String> {
    PrivateKey::from_openssh(DEMO_HOST_KEY).map_err(|e| format!("SFTP host key: {e}"))
}

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
