//! The upload token (seed 001 §3.3): hex SHA1withRSA by the partner's private key over
//! `partnerId|timestamp`, `timestamp` 13-digit milliseconds, valid for 30 minutes from it
//! (virtual clock) and reusable meanwhile. A timestamp more than 5 minutes ahead is refused.

use super::crypto::{verify, SignatureHash};
use super::keys::PublicKey;

pub const VALID_MS: i64 = 30 * 60 * 1000;
pub const FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// The bytes of `token`, or why its form cannot be the partner's signature, named as every hex
/// field of the Whalet envelope is: the first character that is not a hex digit and its
/// position, or the odd length (a dropped leading zero), or hex of another length than the
/// partner's key signs; each with the length a token has.
fn token_bytes(key: &PublicKey, token: &str) -> Result<Vec<u8>, String> {
    let need = || {
        format!(
            "a token is {} hex digits, the hex of an RSA-{} SHA1withRSA signature by the \
             partner's key",
            key.size() * 2,
            key.size() * 8
        )
    };
    let bytes = super::hex_text(token)
        .map_err(|why| format!("invalid token: the token is not hex: {why}; {}", need()))?;
    if bytes.len() != key.size() {
        return Err(format!(
            "invalid token: the token is {} hex digits; {}",
            token.len(),
            need()
        ));
    }
    Ok(bytes)
}

/// Ok when `token` is the partner's signature over `partnerId|timestamp` and still valid at `now`.
pub fn check(
    key: &PublicKey,
    partner_id: &str,
    timestamp: &str,
    token: &str,
    now: i64,
) -> Result<(), String> {
    if timestamp.len() != 13 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "invalid token: timestamp must be 13 digits of milliseconds, got {timestamp:?}"
        ));
    }
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| format!("invalid token: timestamp {timestamp:?} is not a number"))?;
    let signature = token_bytes(key, token.trim())?;
    let message = format!("{partner_id}|{timestamp}");
    if !verify(key, SignatureHash::Sha1, message.as_bytes(), &signature) {
        return Err(format!("invalid token: it is not partner {partner_id}'s SHA1withRSA signature over \"{message}\""));
    }
    if now.saturating_sub(ts) > VALID_MS {
        return Err(format!(
            "invalid token: it expired 30 minutes after its timestamp {ts} (now {now})"
        ));
    }
    if ts.saturating_sub(now) > FUTURE_SKEW_MS {
        return Err(format!("invalid token: timestamp {ts} is more than 5 minutes ahead of the simulator clock ({now})"));
    }
    Ok(())
}
