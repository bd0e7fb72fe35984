//! The `[infinia]` section: Infinia Pay apps (appId, keys, notify URL, SFTP account), the
//! simulator's own Infinia key, the SFTP listen address, and the choices the public documents
//! leave open (signature algorithm, webhook retries, delays). See docs/INFINIA.md.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::wire::crypto::SignatureHash;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfiniaConfig {
    /// Keep the embedded demo app (`demo-app`) besides configured ones.
    #[serde(default = "super::yes")]
    pub demo_app: bool,
    /// Infinia's own private key; default: the embedded demo key (keys/infinia/).
    pub infinia_private_key: Option<String>,
    /// Signature algorithm of every app unless the app says otherwise.
    #[serde(default = "default_alg")]
    pub signature_alg: SignatureHash,
    /// Address of the SFTP server for trade-detail files; `""` disables it. Port 0 picks one.
    #[serde(default = "default_sftp_addr")]
    pub sftp_addr: String,
    /// Largest file an app may write over SFTP.
    #[serde(default = "default_sftp_max_file_bytes")]
    pub sftp_max_file_bytes: usize,
    /// Bytes of all an app's SFTP files together (uploads and error files).
    #[serde(default = "default_sftp_max_bytes")]
    pub sftp_max_bytes: usize,
    /// Files an app may hold in its SFTP folders (`/upload` and `/error` together).
    #[serde(default = "default_sftp_max_files")]
    pub sftp_max_files: usize,
    /// Row errors listed in one trade-details error file; the rest are counted in a last line.
    #[serde(default = "default_sftp_max_error_rows")]
    pub sftp_max_error_rows: usize,
    /// SFTP connections open at once (all apps); the extra one is closed at once.
    #[serde(default = "default_sftp_max_connections")]
    pub sftp_max_connections: usize,
    /// An SSH connection that sends nothing for this long is closed (0: never).
    #[serde(default = "default_sftp_idle_timeout_ms")]
    pub sftp_idle_timeout_ms: u64,
    /// A connection that has not logged in this long after it was accepted is closed.
    #[serde(default = "default_sftp_login_grace_ms")]
    pub sftp_login_grace_ms: u64,
    /// Refused logins (password or key) one connection may make; the last one closes it (at least 1).
    #[serde(default = "default_sftp_max_auth_attempts")]
    pub sftp_max_auth_attempts: usize,
    /// Largest request body on `/api/v1/...`, in bytes (SYS-007 above).
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    /// The documented length of `requestData` is 2048; 0 (default) does not enforce it.
    #[serde(default)]
    pub max_request_data_chars: usize,
    /// RSA blocks (245 bytes of JSON each) a request may hold: each costs a private-key
    /// operation, so the count is checked, from the length alone, before any crypto.
    #[serde(default = "default_max_request_blocks")]
    pub max_request_blocks: usize,
    /// Add a `signature` over `responseData` to replies (the documents do not show one).
    #[serde(default)]
    pub sign_responses: bool,
    /// Sign webhooks with Infinia's key (the documents do not say; the example shows none).
    #[serde(default = "super::yes")]
    pub sign_webhooks: bool,
    /// `appId` written in webhook envelopes (the documented example shows `infinia`).
    #[serde(default = "default_webhook_app_id")]
    pub webhook_app_id: String,
    /// `version` written in webhook envelopes.
    #[serde(default = "default_version")]
    pub webhook_version: String,
    /// Seconds before each webhook retry (at most 5 retries are documented).
    #[serde(default = "default_retries")]
    pub webhook_retry_seconds: Vec<u64>,
    /// Send a seller status notification (ACTIVE) when a binding is approved.
    #[serde(default = "super::yes")]
    pub notify_on_binding: bool,
    /// Virtual seconds an uploaded trade-details file stays PROCESSING.
    #[serde(default = "default_processing")]
    pub trade_details_processing_seconds: u64,
    /// Virtual seconds a revenue sharing stays PROCESSING before SUCCESS / FAILED.
    #[serde(default = "default_sharing")]
    pub revenue_sharing_seconds: u64,
    /// Renames of operation paths: canonical (e.g. `account-balance/query`) → path on the wire.
    #[serde(default)]
    pub paths: BTreeMap<String, String>,
    #[serde(default)]
    pub apps: Vec<AppConfig>,
}

impl Default for InfiniaConfig {
    fn default() -> Self {
        Self {
            demo_app: true,
            infinia_private_key: None,
            signature_alg: default_alg(),
            sftp_addr: default_sftp_addr(),
            body_limit_bytes: default_body_limit(),
            max_request_data_chars: 0,
            max_request_blocks: default_max_request_blocks(),
            sftp_max_file_bytes: default_sftp_max_file_bytes(),
            sftp_max_bytes: default_sftp_max_bytes(),
            sftp_max_files: default_sftp_max_files(),
            sftp_max_error_rows: default_sftp_max_error_rows(),
            sftp_max_connections: default_sftp_max_connections(),
            sftp_idle_timeout_ms: default_sftp_idle_timeout_ms(),
            sftp_login_grace_ms: default_sftp_login_grace_ms(),
            sftp_max_auth_attempts: default_sftp_max_auth_attempts(),
            sign_responses: false,
            sign_webhooks: true,
            webhook_app_id: default_webhook_app_id(),
            webhook_version: default_version(),
            webhook_retry_seconds: default_retries(),
            notify_on_binding: true,
            trade_details_processing_seconds: default_processing(),
            revenue_sharing_seconds: default_sharing(),
            paths: BTreeMap::new(),
            apps: Vec::new(),
        }
    }
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
    /// SFTP password of the account named after the appId (none: password login refused).
    pub sftp_password: Option<String>,
    /// OpenSSH public key lines (`ssh-ed25519 AAAA... comment`) allowed to log in, or `@file`.
    #[serde(default)]
    pub sftp_authorized_keys: Vec<String>,
    /// Opening balance of the platform account per currency, e.g. `{ USD = "100000.00" }`.
    #[serde(default)]
    pub opening_balances: BTreeMap<String, String>,
}

fn default_alg() -> SignatureHash {
    SignatureHash::Sha256
}
fn default_sftp_addr() -> String {
    "127.0.0.1:2222".into()
}
fn default_sftp_max_file_bytes() -> usize {
    32 * 1024 * 1024
}

fn default_sftp_max_bytes() -> usize {
    128 * 1024 * 1024
}

fn default_sftp_max_files() -> usize {
    1000
}

fn default_sftp_max_error_rows() -> usize {
    1000
}

fn default_sftp_max_connections() -> usize {
    64
}

/// Five minutes: a person at an interactive `sftp` prompt is not cut off while reading a
/// listing, and a batch job that died holding its connection frees the slot within minutes.
fn default_sftp_idle_timeout_ms() -> u64 {
    5 * 60 * 1000
}

/// One minute: a script logs in within a second; a person has time to type a password.
fn default_sftp_login_grace_ms() -> u64 {
    60 * 1000
}

/// OpenSSH's `MaxAuthTries` default.
fn default_sftp_max_auth_attempts() -> usize {
    6
}

fn default_max_request_blocks() -> usize {
    64
}

fn default_body_limit() -> usize {
    1024 * 1024
}
fn default_webhook_app_id() -> String {
    "infinia".into()
}
fn default_version() -> String {
    "1.0".into()
}
fn default_retries() -> Vec<u64> {
    vec![1, 2, 4, 8, 16]
}
fn default_processing() -> u64 {
    5
}
fn default_sharing() -> u64 {
    10
}
