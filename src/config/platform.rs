//! The `[platform]` section of the configuration: how whalet-platform (`/v1/platform/{op}`)
//! authenticates, how long seller authorization links live, the simulated seller login, and the
//! default virtual delays. Every key is optional; the defaults are documented in
//! docs/FIDELITY.md (section whalet-platform).

use serde::{Deserialize, Deserializer};

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
    /// The seller login shown on the authorization page: any text (not necessarily an email),
    /// refused at load when blank or padded with spaces (the page trims what the seller types).
    #[serde(deserialize_with = "seller_login")]
    pub seller_login: String,
    /// The seller password shown on the authorization page; refused at load when empty (the
    /// page's password field is required, so no seller could log in).
    #[serde(deserialize_with = "seller_password")]
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

/// `[platform] seller_login`: the seller types it into a required field that the page trims, so
/// a blank login or one with surrounding spaces could never be matched.
fn seller_login<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let login = String::deserialize(d)?;
    if login.trim().is_empty() {
        return Err(serde::de::Error::custom(
            "[platform] seller_login is empty: no seller could log in on the authorization page; \
             set a login such as \"seller\" (default \"seller@demo.whalet.test\")",
        ));
    }
    if login.trim() != login {
        return Err(serde::de::Error::custom(format!(
            "[platform] seller_login {login:?} starts or ends with spaces, which the authorization \
             page trims from what the seller types: write {:?}",
            login.trim()
        )));
    }
    Ok(login)
}

/// `[platform] seller_password`: the page's password field is required, so an empty password
/// could never be typed.
fn seller_password<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let password = String::deserialize(d)?;
    if password.is_empty() {
        return Err(serde::de::Error::custom(
            "[platform] seller_password is empty: the authorization page requires a password, so \
             no seller could log in; set one (default \"demo-seller\")",
        ));
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::PlatformConfig;

    fn parse(toml: &str) -> Result<PlatformConfig, String> {
        toml::from_str(toml).map_err(|e| e.to_string())
    }

    #[test]
    fn a_login_is_any_text_but_not_blank_or_padded() {
        assert_eq!(
            parse("seller_login = \"seller\"").unwrap().seller_login,
            "seller"
        );
        for blank in ["\"\"", "\"  \""] {
            let e = parse(&format!("seller_login = {blank}")).unwrap_err();
            assert!(e.contains("[platform] seller_login is empty"), "{e}");
        }
        let e = parse("seller_login = \" seller \"").unwrap_err();
        assert!(e.contains("write \"seller\""), "{e}");
    }

    #[test]
    fn an_empty_password_is_refused_naming_the_key() {
        let e = parse("seller_password = \"\"").unwrap_err();
        assert!(e.contains("[platform] seller_password is empty"), "{e}");
        assert_eq!(
            parse("seller_password = \"x\"").unwrap().seller_password,
            "x"
        );
    }
}
