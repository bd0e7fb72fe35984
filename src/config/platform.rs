//! The `[platform]` section of the configuration: how whalet-platform (`/v1/platform/{op}`)
//! authenticates, how long seller authorization links live, the simulated seller login, and the
//! default virtual delays. Every key is optional; the defaults are documented in
//! docs/FIDELITY.md (section whalet-platform).

use serde::{Deserialize, Deserializer};

/// How `/v1/platform/{op}` requests are authenticated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformAuth {
    /// The Whalet envelope with the partner's keys (head.apiCode = the operation name): `"whalet"`,
    /// or `"envelope"`, the name a refusal of plain JSON gives the mode.
    #[default]
    #[serde(alias = "envelope")]
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
    /// `Host` header or the address it reached (`src/api/base_url.rs`). Refused at load when
    /// it is not an absolute `http://` or `https://` URL with a host, or has a query, a fragment
    /// or characters a link cannot carry as written ([`check_public_url`]).
    #[serde(deserialize_with = "public_url")]
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
    /// Login sessions one authorization link keeps: each login on its page starts one, and one
    /// past this many ends the oldest (that seller's page asks to log in again), so a client
    /// logging in again and again cannot grow the link (docs/RELIABILITY.md).
    pub max_seller_sessions: usize,
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
            max_seller_sessions: 8,
            payment_delay_secs: 5,
            max_materials: 1000,
            partner_names: Default::default(),
            sftp_passwords: Default::default(),
        }
    }
}

impl PlatformConfig {
    /// The most `[platform] max_seller_sessions` may be: a page view looks its session up among
    /// the link's sessions, so their number stays small.
    pub const MAX_SELLER_SESSIONS: usize = 1000;
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

/// Refuses a `[platform] public_url` the links cannot be built on: every link the simulator hands
/// out is the base as written followed by `/authorize/{token}` or `/file/…`, so the base must be
/// a web URL by the one check every URL setting passes ([`crate::http::check_web_url`]: not
/// `gw.example.test`, `ftp://…` or `javascript:…`), with nothing after its path (a query or a
/// fragment would swallow the token), no user name or password before the host, and no
/// character a link cannot carry unescaped (a space, `"`, `<`, a non-ASCII letter, …). The error is a clause for a message naming the key.
pub fn check_public_url(url: &str) -> Result<(), String> {
    crate::http::check_web_url(url)
        .map_err(|why| format!("must be an absolute http:// or https:// URL with a host; {why}"))?;
    let text = url.trim();
    // A `?` or `#` anywhere ends the path: what follows would hold the token.
    if let Some(mark) = text.chars().find(|c| matches!(c, '?' | '#')) {
        let part = if mark == '?' { "query" } else { "fragment" };
        return Err(format!(
            "must end with its path (the links add /authorize/{{token}} after it), but it has a \
             {part} ({mark}…): remove it"
        ));
    }
    // The authority is what follows `scheme://` up to the path: credentials in it would go to
    // every partner and seller in every link (and browsers warn of or block such links).
    let authority = text.split_once("://").map_or("", |(_, rest)| {
        rest.split(['/', '?', '#']).next().unwrap_or(rest)
    });
    if authority.contains('@') {
        return Err(
            "must not carry a user name or password (user:secret@ before the host): every \
             authorizeUrl and redirectUrl given to partners and sellers starts with it; remove \
             them"
                .to_owned(),
        );
    }
    if let Some(c) = text.chars().find(|c| !c.is_ascii()) {
        return Err(format!(
            "must not have {c:?}, which a link cannot carry as written: write a host in its \
             ASCII (xn--) form, and percent-encode it in the path"
        ));
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "\"<>\\^`{|}".contains(*c))
    {
        return Err(format!(
            "must not have {c:?}, which a link cannot carry as written: percent-encode it (a space \
             is %20)"
        ));
    }
    Ok(())
}

/// `[platform] public_url` read through [`check_public_url`], refused at load naming the key
/// (the TOML reader adds its line).
fn public_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let url = String::deserialize(d)?;
    check_public_url(&url).map_err(|why| {
        serde::de::Error::custom(format!(
            "[platform] public_url = {} {why} (or leave the key out to take the base from each \
             request's Host)",
            crate::text::echo(&url)
        ))
    })?;
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::PlatformConfig;

    fn parse(toml: &str) -> Result<PlatformConfig, String> {
        toml::from_str(toml).map_err(|e| e.to_string())
    }

    /// The envelope mode is read under both its names; another name is refused naming them.
    #[test]
    fn the_envelope_mode_has_two_names() {
        for name in ["whalet", "envelope"] {
            let mode = parse(&format!("auth = {name:?}")).unwrap().auth;
            assert_eq!(mode, super::PlatformAuth::Whalet, "{name}");
        }
        assert_eq!(
            parse("auth = \"none\"").unwrap().auth,
            super::PlatformAuth::None
        );
        let e = parse("auth = \"plain\"").unwrap_err();
        assert!(e.contains("unknown variant `plain`"), "{e}");
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

    /// The base is refused by the check every URL setting passes, and when anything after its
    /// path (a query, a fragment) or a character a link cannot carry would spoil the links.
    #[test]
    fn a_public_url_is_an_absolute_web_url_ending_with_its_path() {
        let read = |url: &str| parse(&format!("public_url = {url:?}")).map(|c| c.public_url);
        for good in [
            "https://sim.example.com",
            "https://sim.example.com/",
            "http://127.0.0.1:18282",
            "https://gw.example.test/sim",
            "https://gw.example.test/a%20b",
        ] {
            assert_eq!(read(good), Ok(Some(good.to_owned())), "{good}");
        }
        assert_eq!(parse("auth = \"none\"").unwrap().public_url, None);
        for (bad, why) in [
            ("gw.example.test", "does not start with http:// or https://"),
            ("", "does not start with http:// or https://"),
            ("ftp://gw.example.test", "its scheme is \"ftp\""),
            ("javascript:alert(1)//", "its scheme is \"javascript\""),
            ("https://", "no host"),
            ("https://gw.example.test:0", "port is 0"),
            ("https://gw.example.test/sim?x=1", "has a query (?…)"),
            ("https://gw.example.test/?", "has a query (?…)"),
            ("https://gw.example.test/sim#f", "has a fragment (#…)"),
            ("https://gw.example.test/a b", "must not have ' '"),
            ("https://gw.example.test/a\"b", "must not have '\"'"),
            ("https://gw.example.test/<x>", "must not have '<'"),
        ] {
            let e = read(bad).unwrap_err();
            assert!(
                e.contains("[platform] public_url")
                    && e.contains("must")
                    && e.contains(why)
                    && e.contains("leave the key out"),
                "{bad:?}: {e}"
            );
        }
    }

    /// Every link handed to partners and sellers starts with the base: credentials in it, or a
    /// letter a link cannot carry as written, are refused naming the key.
    #[test]
    fn a_public_url_carries_no_credentials_and_only_ascii() {
        let read = |url: &str| parse(&format!("public_url = {url:?}")).map(|c| c.public_url);
        for good in [
            "https://xn--hst-tma.example/p",
            "https://sim.example.com/a@b",
        ] {
            assert_eq!(read(good), Ok(Some(good.to_owned())), "{good}");
        }
        for (bad, why) in [
            (
                "https://user:secret@sim.example.com/base/",
                "user name or password",
            ),
            ("https://user@sim.example.com", "user name or password"),
            ("https://hôst.example/p", "must not have 'ô'"),
            ("https://sim.example.com/café", "must not have 'é'"),
        ] {
            let e = read(bad).unwrap_err();
            assert!(
                e.contains("[platform] public_url")
                    && e.contains(why)
                    && e.contains("xn--") == why.contains('\''),
                "{bad:?}: {e}"
            );
        }
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
