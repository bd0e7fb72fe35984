//! Whalet partners: who may call, with which keys, which apiCodes, how fast, and where their
//! notifications go. Built from the embedded demo partner and `[[whalet.partners]]`.

use std::collections::{HashMap, HashSet};
use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::api::notify_url::NotifyUrl;
use crate::api::roster::{self, Roster};
use crate::config::WhaletConfig;
use crate::wire::keys::{demo, PrivateKey, PublicKey};

/// The embedded demo partner (README, "Demo tenants").
pub const DEMO_PARTNER_ID: &str = "202400000000001";

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
            Some(k) => roster::key(k, "whalet.platform_private_key", PrivateKey::parse)?,
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
            let where_ = format!("whalet.partners[partner_id = {:?}]", p.partner_id);
            let public_key = roster::key(
                &p.public_key,
                &format!("{where_}.public_key"),
                PublicKey::parse,
            )?;
            let platform_key = match &p.platform_private_key {
                Some(k) => roster::key(
                    k,
                    &format!("{where_}.platform_private_key"),
                    PrivateKey::parse,
                )?,
                None => default_platform_key.clone(),
            };
            if p.partner_id.is_empty() || p.partner_id.len() > 30 {
                anyhow::bail!("{where_}.partner_id must be 1 to 30 characters");
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

/// `get`, `ids` and `iter` of the partners.
impl Deref for Partners {
    type Target = Roster<Partner>;
    fn deref(&self) -> &Roster<Partner> {
        &self.roster
    }
}
