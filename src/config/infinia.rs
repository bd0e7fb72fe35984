//! The `[infinia]` section: Infinia Pay apps (appId, keys, notify URL, SFTP account), the
//! simulator's own Infinia key, the SFTP listen address, and the choices the public documents
//! leave open (signature algorithm, webhook retries, delays). See docs/INFINIA.md.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::wire::crypto::SignatureHash;

/// The embedded demo app (README, "Demo tenants"); here so that the configuration can refuse an
/// `[[infinia.apps]]` entry taking its id while it is on.
pub const DEMO_APP_ID: &str = "demo-app";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InfiniaConfig {
    /// Keep the embedded demo app (`demo-app`) besides configured ones.
    pub demo_app: bool,
    /// Infinia's own private key; default: the embedded demo key (keys/infinia/).
    pub infinia_private_key: Option<String>,
    /// Signature algorithm of every app unless the app says otherwise.
    pub signature_alg: SignatureHash,
    /// Address of the SFTP server for trade-detail files; `""` or `off` disables it (read as
    /// `""`). Port 0 picks one. A value that is not an address is refused at load.
    #[serde(deserialize_with = "sftp_addr")]
    pub sftp_addr: String,
    /// Largest file an app may write over SFTP.
    pub sftp_max_file_bytes: usize,
    /// Bytes of all an app's SFTP files together (uploads and error files).
    pub sftp_max_bytes: usize,
    /// Files an app may hold in its SFTP folders (`/upload` and `/error` together).
    pub sftp_max_files: usize,
    /// Row errors listed in one trade-details error file; the rest are counted in a last line.
    pub sftp_max_error_rows: usize,
    /// Accepted trade rows one app keeps (its trade-details files together): a file that would
    /// take the app past it fails as a whole, keeping none of its rows.
    pub max_trades: usize,
    /// SFTP connections open at once (all apps); the extra one is closed at once.
    pub sftp_max_connections: usize,
    /// Of those, connections not logged in yet (at least 1, at most `sftp_max_connections`):
    /// when they are this many, a new connection closes the oldest of them, so idle sockets
    /// neither take the places logged-in sessions need nor keep out a client that logs in at
    /// once (OpenSSH's `MaxStartups`). Unset: [`Self::DEFAULT_MAX_UNAUTHENTICATED`], or
    /// `sftp_max_connections` when that is lower ([`Self::max_unauthenticated`]).
    pub sftp_max_unauthenticated: Option<usize>,
    /// An SSH connection that sends nothing for this long is closed (0: never).
    pub sftp_idle_timeout_ms: u64,
    /// A connection that has not logged in this long after it was accepted is closed.
    pub sftp_login_grace_ms: u64,
    /// Refused logins (password or key) one connection may make; the last one closes it (at least 1).
    pub sftp_max_auth_attempts: usize,
    /// Session channels one SSH connection may have open at once (each runs one SFTP
    /// session); the extra one is refused (at least 1).
    pub sftp_max_channels: usize,
    /// Handles (open files and directories) one SFTP session may hold at once; opening one more
    /// is refused (at least 1).
    pub sftp_max_handles: usize,
    /// Largest request body on `/api/v1/...`, in bytes (SYS-007 above).
    pub body_limit_bytes: usize,
    /// The documented length of `requestData` is 2048; 0 (default) does not enforce it.
    pub max_request_data_chars: usize,
    /// RSA blocks (245 bytes of JSON each) a request may hold: each costs a private-key
    /// operation, so the count is checked, from the length alone, before any crypto.
    pub max_request_blocks: usize,
    /// Add a `signature` over `responseData` to replies (the documents do not show one).
    pub sign_responses: bool,
    /// Sign webhooks with Infinia's key (the documents do not say; the example shows none).
    pub sign_webhooks: bool,
    /// `appId` written in webhook envelopes (the documented example shows `infinia`).
    pub webhook_app_id: String,
    /// `version` written in webhook envelopes.
    pub webhook_version: String,
    /// Seconds before each webhook retry (at most 5 retries are documented).
    pub webhook_retry_seconds: Vec<u64>,
    /// Send a seller status notification (ACTIVE) when a binding is approved.
    pub notify_on_binding: bool,
    /// Virtual seconds an uploaded trade-details file stays PROCESSING.
    pub trade_details_processing_seconds: u64,
    /// Virtual seconds a revenue sharing stays PROCESSING before SUCCESS / FAILED.
    pub revenue_sharing_seconds: u64,
    /// Renames of operation paths: canonical (e.g. `account-balance/query`) → path on the wire.
    pub paths: BTreeMap<String, String>,
    pub apps: Vec<AppConfig>,
}

impl Default for InfiniaConfig {
    fn default() -> Self {
        Self {
            demo_app: true,
            infinia_private_key: None,
            signature_alg: SignatureHash::Sha256,
            sftp_addr: "127.0.0.1:2222".into(),
            body_limit_bytes: 1024 * 1024,
            max_request_data_chars: 0,
            max_request_blocks: 64,
            sftp_max_file_bytes: 32 * 1024 * 1024,
            sftp_max_bytes: 128 * 1024 * 1024,
            sftp_max_files: 1000,
            sftp_max_error_rows: 1000,
            // Sixteen full-size files' worth of short rows (about 60 bytes each): far more than
            // a test needs, while a data dir's first write and a restart of it stay seconds.
            max_trades: 500_000,
            sftp_max_connections: 64,
            sftp_max_unauthenticated: None,
            // Five minutes: a person at an interactive `sftp` prompt is not cut off while
            // reading a listing, and a batch job that died holding its connection frees the slot
            // within minutes.
            sftp_idle_timeout_ms: 5 * 60 * 1000,
            // One minute: a script logs in within a second; a person has time to type a password.
            sftp_login_grace_ms: 60 * 1000,
            // OpenSSH's `MaxAuthTries` default.
            sftp_max_auth_attempts: 6,
            // OpenSSH's `MaxSessions` default.
            sftp_max_channels: 10,
            // Far more than a client keeps open (OpenSSH's `sftp` holds a few at a time).
            sftp_max_handles: 256,
            sign_responses: false,
            sign_webhooks: true,
            webhook_app_id: "infinia".into(),
            webhook_version: "1.0".into(),
            webhook_retry_seconds: vec![1, 2, 4, 8, 16],
            notify_on_binding: true,
            trade_details_processing_seconds: 5,
            revenue_sharing_seconds: 10,
            paths: BTreeMap::new(),
            apps: Vec::new(),
        }
    }
}

impl InfiniaConfig {
    /// A quarter of the default connections: a burst of scripts logging in at once fits (each
    /// takes milliseconds), and idle sockets leave 48 places to logged-in sessions.
    pub const DEFAULT_MAX_UNAUTHENTICATED: usize = 16;

    /// `sftp_max_unauthenticated`, or when unset its default: 16, or `sftp_max_connections`
    /// when that is lower (lowering only the connections needs no second key).
    pub fn max_unauthenticated(&self) -> usize {
        self.sftp_max_unauthenticated
            .unwrap_or_else(|| Self::DEFAULT_MAX_UNAUTHENTICATED.min(self.sftp_max_connections))
    }

    /// Refuses, at start, a `webhook_app_id` or `webhook_version` that the merchant's side
    /// would refuse in every webhook envelope: the values are read by the same rule as a
    /// request's envelope ([`crate::wire::infinia::parse_request`]: not empty, and no longer
    /// than the envelope allows), so the limits are the request path's. Also refuses an
    /// `sftp_max_unauthenticated` above `sftp_max_connections`, the end of its range that
    /// depends on another key (its lower end is `Config::bounds`').
    pub fn check(&self) -> anyhow::Result<()> {
        if self.max_unauthenticated() > self.sftp_max_connections {
            anyhow::bail!(
                "[infinia] sftp_max_unauthenticated = {} is above [infinia] \
                 sftp_max_connections = {}: connections not logged in yet are among the \
                 connections open, so at most sftp_max_connections of them can wait; lower \
                 sftp_max_unauthenticated or raise sftp_max_connections",
                self.max_unauthenticated(),
                self.sftp_max_connections
            );
        }
        let envelope = |app_id: &str, version: &str| {
            serde_json::json!({
                "version": version,
                "appId": app_id,
                "dataType": crate::wire::infinia::DATA_TYPE,
                "requestData": "-",
                "signature": "-",
            })
            .to_string()
        };
        let default = Self::default();
        let settings = [
            (
                "webhook_app_id",
                &self.webhook_app_id,
                envelope(&self.webhook_app_id, &default.webhook_version),
            ),
            (
                "webhook_version",
                &self.webhook_version,
                envelope(&default.webhook_app_id, &self.webhook_version),
            ),
        ];
        for (key, value, body) in settings {
            if let Err((_, refusal)) = crate::wire::infinia::parse_request(body.as_bytes()) {
                let fix = match value.is_empty() {
                    true => "give a value of 1 character or more",
                    false => "give a shorter value",
                };
                anyhow::bail!(
                    "[infinia] {key} = {} would have every webhook refused by the merchant ({}: \
                     {}): {fix}",
                    crate::text::echo(value),
                    refusal.code.as_str(),
                    refusal.message,
                );
            }
        }
        Ok(())
    }
}

/// An SFTP address setting as `--sftp-addr` and `[infinia] sftp_addr` both take it: `off` (any
/// case) or empty is `""` (no SFTP server); anything else must be an address (`127.0.0.1:2222`,
/// `localhost:0`), else Err says why. One reading for the flag and the key, so a value one of
/// them takes the other takes too, with the same meaning.
pub fn sftp_setting(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("off") {
        return Ok(String::new());
    }
    std::net::ToSocketAddrs::to_socket_addrs(value).map_err(|e| {
        format!(
            "{} is not an address like 127.0.0.1:2222, or off: {e}",
            crate::text::echo(value)
        )
    })?;
    Ok(value.to_owned())
}

/// `[infinia] sftp_addr` read through [`sftp_setting`]: a value that is not an address is
/// refused at load, naming the key (the TOML reader adds its line), as `--sftp-addr` refuses it.
fn sftp_addr<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    sftp_setting(&text)
        .map_err(|why| serde::de::Error::custom(format!("[infinia] sftp_addr: {why}")))
}

/// One Infinia Pay app (a platform's integration).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    pub app_id: String,
    /// The merchant's public key: PEM, bare Base64 DER, or `@path/to/file`.
    pub merchant_public_key: String,
    /// Seller status notifications go here.
    pub notify_url: Option<String>,
    /// Overrides `[infinia] signature_alg` for this app.
    pub signature_alg: Option<SignatureHash>,
    /// SFTP password of the account named after the appId (none: password login refused; `""`
    /// is refused at start, since anyone could log in with it).
    pub sftp_password: Option<String>,
    /// OpenSSH public key lines (`ssh-ed25519 AAAA... comment`) allowed to log in, or `@file`:
    /// an authorized_keys file, every key line of it (blank and `#` lines skipped).
    #[serde(default)]
    pub sftp_authorized_keys: Vec<String>,
    /// Opening balance of the platform account per currency, e.g. `{ USD = "100000.00" }`.
    #[serde(default)]
    pub opening_balances: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: `webhook_version` and `webhook_app_id` were taken whatever they were, and
    /// then the merchant's side refused every webhook (empty, or longer than the envelope
    /// allows). They are refused at load by the rule a request's envelope is read by.
    #[test]
    fn webhook_envelope_values_the_merchant_would_refuse_are_refused() {
        let check = |key: &str, value: &str| {
            let config: InfiniaConfig = toml::from_str(&format!("{key} = {value:?}\n")).unwrap();
            config.check().map_err(|e| e.to_string())
        };
        assert!(check("webhook_version", "1.0.1").is_ok());
        assert!(check("webhook_app_id", &"a".repeat(64)).is_ok());
        let why = check("webhook_version", "a-very-long-version").unwrap_err();
        assert!(
            why.starts_with("[infinia] webhook_version = \"a-very-long-version\"")
                && why.contains("at most 8 are allowed"),
            "{why}"
        );
        let why = check("webhook_version", "").unwrap_err();
        assert!(why.contains("version is empty"), "{why}");
        let why = check("webhook_app_id", "").unwrap_err();
        assert!(
            why.starts_with("[infinia] webhook_app_id = \"\"") && why.contains("appId is empty"),
            "{why}"
        );
        let why = check("webhook_app_id", &"a".repeat(65)).unwrap_err();
        assert!(why.contains("at most 64 are allowed"), "{why}");
        assert!(InfiniaConfig::default().check().is_ok());
    }

    /// Regression: an `sftp_max_unauthenticated` above `sftp_max_connections` was clamped
    /// without a word, though its documented range ends at `sftp_max_connections`.
    #[test]
    fn sftp_max_unauthenticated_above_sftp_max_connections_is_refused_naming_both() {
        let config = |text: &str| toml::from_str::<InfiniaConfig>(text).unwrap();
        let refused = config("sftp_max_unauthenticated = 100\n")
            .check()
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("[infinia] sftp_max_unauthenticated = 100")
                && refused.contains("[infinia] sftp_max_connections = 64"),
            "{refused}"
        );
        assert!(config("sftp_max_unauthenticated = 64\n").check().is_ok());
        assert!(
            config("sftp_max_connections = 4\nsftp_max_unauthenticated = 4\n")
                .check()
                .is_ok()
        );
        // Unset, it follows a lower `sftp_max_connections`.
        let lowered = config("sftp_max_connections = 4\n");
        assert!(lowered.check().is_ok());
        assert_eq!(lowered.max_unauthenticated(), 4);
        assert_eq!(InfiniaConfig::default().max_unauthenticated(), 16);
    }

    /// `off` turns SFTP off in the file as on the command line; a value that is not an address
    /// is refused at load naming the key, not only warned of at start.
    #[test]
    fn sftp_addr_takes_off_and_refuses_what_is_not_an_address() {
        let read = |value: &str| {
            toml::from_str::<InfiniaConfig>(&format!("sftp_addr = {value:?}\n"))
                .map(|c| c.sftp_addr)
                .map_err(|e| e.to_string())
        };
        assert_eq!(read("off"), Ok(String::new()));
        assert_eq!(read(" OFF "), Ok(String::new()));
        assert_eq!(read(""), Ok(String::new()));
        assert_eq!(read("127.0.0.1:0"), Ok("127.0.0.1:0".to_owned()));
        let refused = read("foo").unwrap_err();
        assert!(
            refused.contains("[infinia] sftp_addr") && refused.contains("\"foo\""),
            "{refused}"
        );
        assert_eq!(InfiniaConfig::default().sftp_addr, "127.0.0.1:2222");
    }
}
