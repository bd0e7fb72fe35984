//! The `[platform]` section of the configuration: how whalet-platform (`/v1/platform/{op}`)
//! authenticates, how long seller authorization links live, the simulated seller login, and the
//! default virtual delays. Every key is optional; the defaults are documented in
//! docs/FIDELITY.md (section whalet-platform).

use serde::Deserialize;

/// How `/v1/platform/{op}` requests are authenticated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformAuth {
    /// The Whalet envelope with the partner's keys (head.apiCode = the operation name).
    #[default]
    Whalet,
    /// Plain JSON, no signature; the partner is named by the `partnerId` header (default: the
    /// demo partner). For quick demos with curl.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformConfig {
    pub auth: PlatformAuth,
    /// Base of the links handed to partners (the platform's `authorizeUrl` and Infinia's
    /// `redirectUrl` for the seller's page, an upload's `fileUrl`; e.g.
    /// `https://sim.example.com`); default: from the request's
    /// `Host` header or the address it reached (`src/api/base_url.rs`).
    pub public_url: Option<String>,
    /// Virtual seconds an authorization link stays valid (scenario `values.linkTtl` overrides).
    pub link_ttl_secs: i64,
    /// The seller login shown on the authorization page.
    pub seller_login: String,
    pub seller_password: String,
    /// Virtual seconds from paymentApply until the seller's wallet is credited.
    pub payment_delay_secs: i64,
    /// Most materials accepted in one tradeMaterialsUpload.
    pub max_materials: usize,
    /// Display names of partners on the authorization page: partnerId → name. Default
    /// `Partner {partnerId}`; the demo partner is `Demo Marketplace`.
    pub partner_names: std::collections::BTreeMap<String, String>,
    /// SFTP passwords of partners (trade materials over SFTP): partnerId → password. A partner
    /// not listed logs in with its configured public key only; the demo partner's password is
    /// `demo-password` unless listed here.
    pub sftp_passwords: std::collections::BTreeMap<String, String>,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        Self {
            auth: PlatformAuth::default(),
            public_url: None,
            link_ttl_secs: 30 * 60,
            seller_login: "seller@demo.whalet.test".into(),
            seller_password: "demo-seller".into(),
            payment_delay_secs: 5,
            max_materials: 1000,
            partner_names: Default::default(),
            sftp_passwords: Default::default(),
        }
    }
}
