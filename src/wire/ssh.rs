//! SSH keys of the Infinia SFTP server: `authorized_keys` lines and the server's host key (the
//! embedded demo key keys/infinia/sftp_host_ed25519, test-only).

use russh::keys::{PrivateKey, PublicKey};

/// The embedded demo host key (OpenSSH format).
pub const DEMO_HOST_KEY: &str = include_str!("../../keys/infinia/sftp_host_ed25519");

/// The key types an `authorized_keys` line may name (sshd(8) "AUTHORIZED_KEYS FILE FORMAT").
const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
];

/// Parses one `authorized_keys` line: `[options] keytype base64-key [comment]`, as sshd(8)
/// reads it. Options (`restrict`, `from="10.0.0.1"`, `command="a b"`: a comma-separated list
/// ending at the first space outside double quotes) are skipped, not applied: the simulator's
/// SFTP server serves only `sftp` to a key it knows, whatever the options say.
pub fn parse_public_key(line: &str) -> Result<PublicKey, String> {
    let line = line.trim();
    let shown = || format!("{:.40}…", line);
    let first = line.split_ascii_whitespace().next().unwrap_or_default();
    let key = if KEY_TYPES.contains(&first) {
        line
    } else if let Ok(key) = PublicKey::from_openssh(line) {
        return Ok(key);
    } else {
        let key = past_options(line).ok_or_else(|| {
            format!(
                "not an OpenSSH public key line (its options open a double quote they never \
                 close): {}",
                shown()
            )
        })?;
        let kind = key.split_ascii_whitespace().next().unwrap_or_default();
        if !KEY_TYPES.contains(&kind) {
            return Err(format!(
                "not an OpenSSH public key line (no key type: neither {} nor, after the options, \
                 {} is one of {}): {}",
                crate::text::echo(first),
                crate::text::echo(kind),
                KEY_TYPES.join(", "),
                shown()
            ));
        }
        key
    };
    PublicKey::from_openssh(key)
        .map_err(|e| format!("not an OpenSSH public key line ({e}): {}", shown()))
}

/// What follows the options at the start of `line` (sshd's `sshkey_advance_past_options`): they
/// end at the first space or tab outside double quotes, `\"` being a quote inside them; None if a
/// quote is never closed.
fn past_options(line: &str) -> Option<&str> {
    let mut quoted = false;
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if line[i + 1..].starts_with('"') => {
                chars.next();
            }
            '"' => quoted = !quoted,
            ' ' | '\t' if !quoted => return Some(line[i..].trim_start()),
            _ => {}
        }
    }
    (!quoted).then_some("")
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ3Nl5Wm4r8KqbV6o3G8m7n8aQ0oP8Q2ZqJ9Yk8tY0c me@laptop";

    /// Regression: a line with options before the key type (`restrict ssh-ed25519 AAAA…`) was
    /// refused as a Base64 error, so an OpenSSH authorized_keys file using them stopped `serve`.
    #[test]
    fn options_before_the_key_type_are_skipped() {
        let plain = parse_public_key(KEY).unwrap();
        for options in [
            "restrict",
            "restrict,from=\"10.0.0.1,192.168.0.0/16\"",
            "command=\"echo a b\",no-pty",
            "environment=\"X=say \\\"hi there\\\"\"",
        ] {
            let line = format!("{options} {KEY}");
            let key = parse_public_key(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(key.key_data(), plain.key_data(), "{line}");
        }
    }

    #[test]
    fn a_line_without_a_known_key_type_is_named_as_such() {
        let why = parse_public_key("restrict ssh-unknown AAAA").unwrap_err();
        assert!(why.contains("no key type"), "{why}");
        assert!(why.contains("ssh-ed25519"), "{why}");
        let why = parse_public_key("command=\"echo a b ssh-ed25519 AAAA").unwrap_err();
        assert!(why.contains("never close"), "{why}");
        let why = parse_public_key("not a key").unwrap_err();
        assert!(why.contains("not an OpenSSH public key line"), "{why}");
    }
}
