//! Whalet partners: who may call, with which keys, which apiCodes, how fast, and where their
//! notifications go. Built from the embedded demo partner and `[[whalet.partners]]`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::api::notify_url::NotifyUrl;
use crate::api::roster::{self, Roster};
use crate::config::WhaletConfig;
use crate::wire::keys::{demo, PrivateKey, PublicKey};

/// The embedded demo partner (README, "Demo tenants"); the configuration knows its id too.
pub use crate::config::DEMO_PARTNER_ID;

pub struct Partner {
    pub id: String,
    pub public_key: PublicKey,
    /// The platform key pair this partner talks to.
    pub platform_key: PrivateKey,
    pub notify_url: NotifyUrl,
    /// Canonical apiCodes enabled; None = all.
    pub enabled: Option<HashSet<String>>,
    pub rate_limit: Option<u32>,
    window: Mutex<(Instant, u32)>,
    /// Check notification acks as documented (`[whalet] strict_ack`, per partner overridable).
    pub strict_ack: bool,
    /// With `strict_ack`, an unsigned ack fails too.
    pub ack_sign_required: bool,
}

impl Partner {
    pub fn is_enabled(&self, canonical_api_code: &str) -> bool {
        self.enabled
            .as_ref()
            .is_none_or(|set| set.contains(canonical_api_code) || set.contains("*"))
    }

    /// Counts a request against the per-second limit; false when over it.
    pub fn admit(&self) -> bool {
        let Some(limit) = self.rate_limit else {
            return true;
        };
        let mut window = self.window.lock();
        if window.0.elapsed().as_secs_f64() >= 1.0 {
            *window = (Instant::now(), 0);
        }
        window.1 += 1;
        window.1 <= limit
    }
}

/// All Whalet partners, by partnerId.
pub struct Partners {
    roster: Roster<Partner>,
    pub default_platform_key: PrivateKey,
}

impl Partners {
    pub fn from_config(cfg: &WhaletConfig, notify_url: Option<&str>) -> anyhow::Result<Self> {
        let default_platform_key = match &cfg.platform_private_key {
            Some(k) => roster::key(k, "[whalet] platform_private_key", PrivateKey::parse)?,
            None => PrivateKey::parse(demo::PLATFORM_PRIVATE)?,
        };
        let mut by_id = HashMap::new();
        if cfg.demo_partner {
            by_id.insert(
                DEMO_PARTNER_ID.to_owned(),
                Arc::new(Partner {
                    id: DEMO_PARTNER_ID.to_owned(),
                    public_key: PublicKey::parse(demo::PARTNER_PUBLIC)?,
                    platform_key: default_platform_key.clone(),
                    notify_url: NotifyUrl::new(notify_url.map(str::to_owned)),
                    enabled: None,
                    rate_limit: None,
                    window: Mutex::new((Instant::now(), 0)),
                    strict_ack: cfg.strict_ack,
                    ack_sign_required: false,
                }),
            );
        }
        for p in &cfg.partners {
            let where_ = format!(
                "[[whalet.partners]] partner_id = {}",
                crate::text::echo(&p.partner_id)
            );
            check_partner_id(&p.partner_id, &where_)?;
            let public_key = roster::key(
                &p.public_key,
                &format!("{where_}: public_key"),
                PublicKey::parse,
            )?;
            let platform_key = match &p.platform_private_key {
                Some(k) => roster::key(
                    k,
                    &format!("{where_}: platform_private_key"),
                    PrivateKey::parse,
                )?,
                None => default_platform_key.clone(),
            };
            if p.rate_limit == Some(0) {
                anyhow::bail!(
                    "{where_}: rate_limit = 0 would refuse every request (TOO_MANY_REQUESTS): at \
                     least 1 request per second, or leave it out for no limit"
                );
            }
            if let Some(codes) = &p.api_codes {
                check_api_codes(codes, &cfg.api_codes, &where_)?;
            }
            by_id.insert(
                p.partner_id.clone(),
                Arc::new(Partner {
                    id: p.partner_id.clone(),
                    public_key,
                    platform_key,
                    notify_url: NotifyUrl::new(
                        p.notify_url
                            .clone()
                            .or_else(|| notify_url.map(str::to_owned)),
                    ),
                    enabled: p.api_codes.as_ref().map(|v| v.iter().cloned().collect()),
                    rate_limit: p.rate_limit,
                    window: Mutex::new((Instant::now(), 0)),
                    strict_ack: p.strict_ack.unwrap_or(cfg.strict_ack),
                    ack_sign_required: p.ack_sign_required,
                }),
            );
        }
        Ok(Self {
            roster: Roster::new(by_id),
            default_platform_key,
        })
    }
}

/// Refuses a partnerId no request could carry: empty, over 30 characters, or with whitespace
/// around it (the envelope's `head.partnerId` is matched exactly).
fn check_partner_id(id: &str, where_: &str) -> anyhow::Result<()> {
    if id.trim().is_empty() || id.chars().count() > 30 {
        anyhow::bail!("{where_}: partner_id must be 1 to 30 characters");
    }
    if id.trim() != id {
        anyhow::bail!(
            "{where_}: partner_id has whitespace around it, which no request's head.partnerId \
             would match: write {:?}",
            id.trim()
        );
    }
    Ok(())
}

/// Refuses an `api_codes` entry that enables nothing, naming the entry and its value: the list
/// takes canonical names (Open API apiCodes and whalet-platform operations, as docs/FIDELITY.md
/// lists them, or `"*"` for all), not the wire names `[whalet.api_codes]` gives them. A name
/// that enables nothing would lock the partner out of the operation it meant.
fn check_api_codes(
    codes: &[String],
    renames: &BTreeMap<String, String>,
    where_: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !codes.is_empty(),
        "{where_}: api_codes = [] enables no operation, so every request would be refused; \
         list the operations to enable, or leave api_codes out (or [\"*\"]) for all"
    );
    let known: Vec<&str> = super::all_operations()
        .map(|op| op.name)
        .chain(crate::api::platform::OPERATIONS.iter().map(|op| op.name))
        .collect();
    for (n, code) in codes.iter().enumerate() {
        if code == "*" || known.contains(&code.as_str()) {
            continue;
        }
        let entry = format!("{where_}: api_codes[{n}] = {}", crate::text::echo(code));
        if let Some((canonical, _)) = renames.iter().find(|(_, wire)| *wire == code) {
            anyhow::bail!(
                "{entry} is the wire name [whalet.api_codes] gives {canonical}; api_codes takes \
                 canonical names: write {canonical:?}"
            );
        }
        let hint = crate::text::nearest(code, &known)
            .map(|near| format!(" (did you mean {near:?}?)"))
            .unwrap_or_default();
        anyhow::bail!(
            "{entry} is not an operation{hint}; api_codes takes canonical apiCodes and \
             whalet-platform operation names (docs/FIDELITY.md), or \"*\" for all"
        );
    }
    Ok(())
}

/// `get`, `ids` and `iter` of the partners.
impl Deref for Partners {
    type Target = Roster<Partner>;
    fn deref(&self) -> &Roster<Partner> {
        &self.roster
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// The partners of a configuration with one partner `p1` whose entry ends with `extra`.
    fn partners(extra: &str) -> anyhow::Result<Partners> {
        let toml = format!(
            "[whalet.api_codes]\nconnectivity = \"ping\"\n[[whalet.partners]]\n\
             partner_id = \"p1\"\npublic_key = '''{}'''\n{extra}",
            demo::PARTNER_PUBLIC
        );
        Partners::from_config(&Config::parse(&toml)?.whalet, None)
    }

    fn refused(extra: &str, names: &[&str]) {
        let why = partners(extra).err().expect("refused").to_string();
        for name in names {
            assert!(why.contains(name), "{name:?} not in {why}");
        }
    }

    /// Regression: an api_codes entry naming no operation (a typo, a wire name) and
    /// `rate_limit = 0` locked the partner out silently; they are refused at start.
    #[test]
    fn settings_that_lock_a_partner_out_are_refused() {
        let enabled = partners("api_codes = [\"connectivity\", \"shopAccountBind\", \"*\"]\n");
        assert!(enabled
            .unwrap()
            .get("p1")
            .unwrap()
            .is_enabled("connectivity"));
        refused(
            "api_codes = [\"connectivity\", \"connectivty\"]\n",
            &[
                "[[whalet.partners]] partner_id = \"p1\": api_codes[1] = \"connectivty\"",
                "is not an operation (did you mean \"connectivity\"?)",
                "canonical",
            ],
        );
        refused(
            "api_codes = [\"ping\"]\n",
            &[
                "api_codes[0] = \"ping\"",
                "wire name",
                "write \"connectivity\"",
            ],
        );
        refused(
            "api_codes = []\n",
            &["api_codes = [] enables no operation", "leave api_codes out"],
        );
        refused(
            "rate_limit = 0\n",
            &[
                "[[whalet.partners]] partner_id = \"p1\": rate_limit = 0",
                "at least 1",
            ],
        );
        assert_eq!(
            partners("rate_limit = 1\n")
                .unwrap()
                .get("p1")
                .unwrap()
                .rate_limit,
            Some(1)
        );
    }

    /// A partnerId with whitespace around it could never be matched by a request's head.
    #[test]
    fn a_padded_partner_id_is_refused() {
        let toml = format!(
            "[[whalet.partners]]\npartner_id = \" p1\"\npublic_key = '''{}'''\n",
            demo::PARTNER_PUBLIC
        );
        let why = Partners::from_config(&Config::parse(&toml).unwrap().whalet, None)
            .err()
            .expect("refused")
            .to_string();
        assert!(why.contains("whitespace around it"), "{why}");
        assert!(why.contains("write \"p1\""), "{why}");
    }

    /// Regression: a key file that could not be read was reported as "cannot read key file
    /// keys/nope.pem", naming neither the setting nor the partner; a bare path gave "not PEM and
    /// not bare Base64 DER" with no word of the `@` the configuration needs.
    #[test]
    fn key_errors_name_the_setting_and_hint_at_a_path() {
        let entry = |key: &str| {
            format!("[[whalet.partners]]\npartner_id = \"p1\"\npublic_key = \"{key}\"\n")
        };
        let load = |key: &str| {
            let config = Config::parse(&entry(key)).unwrap();
            Partners::from_config(&config.whalet, None)
                .err()
                .expect("refused")
                .to_string()
        };
        let why = load("@keys/nope.pem");
        assert!(
            why.starts_with(
                "[[whalet.partners]] partner_id = \"p1\": public_key: cannot read \"keys/nope.pem\": "
            ),
            "{why}"
        );
        let why = load("keys/demo-partner/public.pem");
        assert!(
            why.starts_with("[[whalet.partners]] partner_id = \"p1\": public_key: "),
            "{why}"
        );
        assert!(
            why.ends_with("(a file? write \"@keys/demo-partner/public.pem\")"),
            "{why}"
        );
        let ok = load_ok(&entry("@keys/demo-partner/public.pem"));
        assert!(ok.get("p1").is_some());
    }

    fn load_ok(toml: &str) -> Partners {
        Partners::from_config(&Config::parse(toml).unwrap().whalet, None).unwrap()
    }

    /// `--notify-url` reaches every partner without its own notify_url, the demo one too.
    #[test]
    fn the_notify_url_flag_is_every_partner_default() {
        let toml = format!(
            "[[whalet.partners]]\npartner_id = \"p1\"\npublic_key = '''{}'''\n\
             [[whalet.partners]]\npartner_id = \"p2\"\npublic_key = '''{}'''\n\
             notify_url = \"http://127.0.0.1:1/own\"\n",
            demo::PARTNER_PUBLIC,
            demo::PARTNER_PUBLIC
        );
        let flag = "http://127.0.0.1:1/flag";
        let all = Partners::from_config(&Config::parse(&toml).unwrap().whalet, Some(flag)).unwrap();
        let url = |id: &str| all.get(id).unwrap().notify_url.get();
        assert_eq!(url("p1").as_deref(), Some(flag));
        assert_eq!(url(DEMO_PARTNER_ID).as_deref(), Some(flag));
        assert_eq!(url("p2").as_deref(), Some("http://127.0.0.1:1/own"));
    }
}
