//! SSH keys of the Infinia SFTP server: `authorized_keys` lines and the server's host key (the
//! embedded demo key keys/infinia/sftp_host_ed25519, test-only).

use russh::keys::{PrivateKey, PublicKey};

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
