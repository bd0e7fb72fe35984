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

/// The SSH key is the RSA key `rsa` (same modulus and exponent): a Whalet partner logs in over
/// SFTP with the key pair it signs its requests with.
pub fn is_rsa_key(key: &PublicKey, rsa: &crate::wire::keys::PublicKey) -> bool {
    use rsa::traits::PublicKeyParts;
    let russh::keys::ssh_key::public::KeyData::Rsa(ssh) = key.key_data() else {
        return false;
    };
    let (n, e) = (rsa.inner.n().to_bytes_be(), rsa.inner.e().to_bytes_be());
    ssh.n.as_positive_bytes() == Some(n.as_slice())
        && ssh.e.as_positive_bytes() == Some(e.as_slice())
}
