//! Infinia Pay apps: who may call (appId → merchant public key, signature algorithm), where
//! seller status notifications go, the SFTP account of each app, and the simulator's own
//! Infinia key. Built from the embedded demo app and `[[infinia.apps]]`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::api::notify_url::NotifyUrl;
use crate::api::roster::{self, Roster};
use crate::config::infinia::InfiniaConfig;
use crate::money::{Currency, Money};
use crate::wire::crypto::SignatureHash;
use crate::wire::keys::{demo, PrivateKey, PublicKey};

/// The embedded demo app (its id is the configuration's, which refuses a configured app that
/// takes it while the demo is on).
pub use crate::config::infinia::DEMO_APP_ID;
/// SFTP password of the demo app (test-only).
pub const DEMO_SFTP_PASSWORD: &str = "demo-password";
/// OpenSSH public key of the demo app's SFTP client key (keys/demo-infinia-merchant/sftp_ed25519).
pub const DEMO_SFTP_PUBLIC: &str =
    include_str!("../../../keys/demo-infinia-merchant/sftp_ed25519.pub");
/// Opening balance of the demo app's platform account in each of these currencies.
pub const DEMO_OPENING: &[(&str, &str)] = &[("USD", "100000.00"), ("CNH", "100000.00")];

pub struct InfiniaApp {
    pub app_id: String,
    pub merchant_public: PublicKey,
    pub alg: SignatureHash,
    pub notify_url: NotifyUrl,
    pub sftp_password: Option<String>,
    /// OpenSSH public key lines allowed to log in over SFTP.
    pub sftp_authorized_keys: Vec<String>,
    pub opening_balances: Vec<Money>,
}

/// All apps plus the simulator-wide Infinia settings.
pub struct Apps {
    roster: Roster<InfiniaApp>,
    pub infinia_key: PrivateKey,
    pub config: InfiniaConfig,
    sftp_bound: RwLock<Option<SocketAddr>>,
}

/// The longest wait before a webhook retry (`[infinia] webhook_retry_seconds`): one day, far
/// past the documented cadence (seconds), and short enough that a retry is never due beyond
/// the virtual clock.
pub const MAX_RETRY_SECONDS: u64 = 24 * 3600;

impl Apps {
    pub fn from_config(cfg: &InfiniaConfig, notify_url: Option<&str>) -> anyhow::Result<Self> {
        let infinia_key = match &cfg.infinia_private_key {
            Some(k) => roster::key(k, "[infinia] infinia_private_key", PrivateKey::parse)?,
            None => PrivateKey::parse(demo::INFINIA_PRIVATE)?,
        };
        let retries = &cfg.webhook_retry_seconds;
        let setting = || {
            let list = crate::text::echo_bare(&format!("{retries:?}"));
            format!("[infinia] webhook_retry_seconds = {list}")
        };
        if retries.len() > 5 {
            anyhow::bail!(
                "{} has {} entries; Infinia retries at most 5 times: list at most 5 waits",
                setting(),
                retries.len()
            );
        }
        if let Some(s) = retries.iter().find(|s| **s > MAX_RETRY_SECONDS) {
            anyhow::bail!(
                "{}: {s} seconds is longer than a retry can wait (at most {MAX_RETRY_SECONDS}, \
                 one day)",
                setting()
            );
        }
        let mut by_id = HashMap::new();
        if cfg.demo_app {
            let opening = DEMO_OPENING
                .iter()
                .map(|(c, a)| money(c, a))
                .collect::<anyhow::Result<Vec<_>>>()?;
            by_id.insert(
                DEMO_APP_ID.to_owned(),
                Arc::new(InfiniaApp {
                    app_id: DEMO_APP_ID.to_owned(),
                    merchant_public: PublicKey::parse(demo::INFINIA_MERCHANT_PUBLIC)?,
                    alg: cfg.signature_alg,
                    notify_url: NotifyUrl::new(notify_url.map(str::to_owned)),
                    sftp_password: Some(DEMO_SFTP_PASSWORD.to_owned()),
                    sftp_authorized_keys: vec![DEMO_SFTP_PUBLIC.trim().to_owned()],
                    opening_balances: opening,
                }),
            );
        }
        for a in &cfg.apps {
            let where_ = format!("[[infinia.apps]] app_id = {}", crate::text::echo(&a.app_id));
            if a.app_id.is_empty() || a.app_id.chars().count() > 64 {
                anyhow::bail!("{where_}: app_id must be 1 to 64 characters");
            }
            let merchant_public = roster::key(
                &a.merchant_public_key,
                &format!("{where_}: merchant_public_key"),
                PublicKey::parse,
            )?;
            if a.sftp_password.as_deref() == Some("") {
                anyhow::bail!(
                    "{where_}: sftp_password is empty, which would let anyone log in; set a password, or leave the key out to refuse password logins"
                );
            }
            let mut keys = Vec::new();
            for entry in &a.sftp_authorized_keys {
                keys.extend(authorized_keys(
                    entry,
                    &format!("{where_}: sftp_authorized_keys"),
                )?);
            }
            let opening = a
                .opening_balances
                .iter()
                .map(|(c, v)| {
                    money(c, v).map_err(|e| {
                        let (c, v) = (crate::text::echo_bare(c), crate::text::echo(v));
                        anyhow::anyhow!("{where_}: opening_balances.{c} = {v}: {e}")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            by_id.insert(
                a.app_id.clone(),
                Arc::new(InfiniaApp {
                    app_id: a.app_id.clone(),
                    merchant_public,
                    alg: a.signature_alg.unwrap_or(cfg.signature_alg),
                    notify_url: NotifyUrl::new(
                        a.notify_url
                            .clone()
                            .or_else(|| notify_url.map(str::to_owned)),
                    ),
                    sftp_password: a.sftp_password.clone(),
                    sftp_authorized_keys: keys,
                    opening_balances: opening,
                }),
            );
        }
        Ok(Self {
            roster: Roster::new(by_id),
            infinia_key,
            config: cfg.clone(),
            sftp_bound: RwLock::new(None),
        })
    }

    /// Where the SFTP server listens, once bound (port 0 resolved).
    pub fn sftp_addr(&self) -> Option<SocketAddr> {
        *self.sftp_bound.read()
    }

    pub(crate) fn set_sftp_addr(&self, addr: Option<SocketAddr>) {
        *self.sftp_bound.write() = addr;
    }

    /// Virtual ms before each webhook retry.
    pub fn retry_delays(&self) -> Vec<i64> {
        self.config
            .webhook_retry_seconds
            .iter()
            .map(|s| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX))
            .collect()
    }
}

/// `get`, `ids` and `iter` of the apps.
impl Deref for Apps {
    type Target = Roster<InfiniaApp>;
    fn deref(&self) -> &Roster<InfiniaApp> {
        &self.roster
    }
}

/// The key lines of one `sftp_authorized_keys` entry (`where_` names it in errors): the entry
/// itself, or every line of an `@file` as in an OpenSSH authorized_keys file (blank lines and
/// `#` comments skipped; options before a key skipped, not applied:
/// [`crate::wire::ssh::parse_public_key`]). Each line must be a public key; an entry with none
/// is refused too.
fn authorized_keys(entry: &str, where_: &str) -> anyhow::Result<Vec<String>> {
    let text = roster::setting_text(entry, where_)?;
    let shown = |n: usize| match entry.strip_prefix('@') {
        Some(path) => format!("{where_} ({path} line {n})"),
        None => where_.to_owned(),
    };
    let mut keys = Vec::new();
    for (n, line) in (1..).zip(text.lines()) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        crate::wire::ssh::parse_public_key(line)
            .map_err(|e| anyhow::anyhow!("{}: {e}", shown(n)))?;
        keys.push(line.to_owned());
    }
    if keys.is_empty() {
        anyhow::bail!("{where_}: {} holds no public key", crate::text::echo(entry));
    }
    Ok(keys)
}

fn money(currency: &str, amount: &str) -> anyhow::Result<Money> {
    let c = Currency::parse(currency).map_err(|e| anyhow::anyhow!("opening balance: {e}"))?;
    Money::parse(amount, c).map_err(|e| anyhow::anyhow!("opening balance {currency}: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::infinia::AppConfig;

    fn app(password: Option<&str>, keys: Vec<String>) -> InfiniaConfig {
        InfiniaConfig {
            apps: vec![AppConfig {
                app_id: "my-app".into(),
                merchant_public_key: "@keys/demo-infinia-merchant/public.pem".into(),
                notify_url: None,
                signature_alg: None,
                sftp_password: password.map(str::to_owned),
                sftp_authorized_keys: keys,
                opening_balances: Default::default(),
            }],
            ..InfiniaConfig::default()
        }
    }

    fn refusal(cfg: &InfiniaConfig) -> String {
        Apps::from_config(cfg, None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    /// Regression: an `@file` of several keys was read as one key (the lines after the first
    /// taken for its comment), so only the first key could log in.
    #[test]
    fn an_authorized_keys_file_gives_every_key_it_lists() {
        let dir = tempfile::tempdir().unwrap();
        let one = DEMO_SFTP_PUBLIC.trim();
        let two = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ3Nl5Wm4r8KqbV6o3G8m7n8aQ0oP8Q2ZqJ9Yk8tY0c second";
        let file = dir.path().join("authorized_keys");
        std::fs::write(&file, format!("# team keys\n{one}\n\n  {two}\n")).unwrap();
        let cfg = app(None, vec![format!("@{}", file.display())]);
        let apps = Apps::from_config(&cfg, None).unwrap();
        assert_eq!(apps.get("my-app").unwrap().sftp_authorized_keys, [one, two]);
        // A line that is not a key is named with its file and line.
        std::fs::write(&file, format!("{one}\nnot a key\n")).unwrap();
        let why = refusal(&cfg);
        assert!(why.contains("authorized_keys line 2"), "{why}");
        std::fs::write(&file, "# nobody yet\n").unwrap();
        assert!(refusal(&cfg).contains("holds no public key"));
    }

    /// Regression: a key line with sshd options (`restrict ssh-ed25519 AAAA…`) refused the start
    /// as a Base64 error; the options are skipped and the key is the app's.
    #[test]
    fn an_authorized_keys_line_with_options_gives_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = DEMO_SFTP_PUBLIC.trim();
        let line = format!("restrict,from=\"10.0.0.1, 10.0.0.2\" {key}");
        let file = dir.path().join("authorized_keys");
        std::fs::write(&file, format!("{line}\n")).unwrap();
        let cfg = app(None, vec![format!("@{}", file.display())]);
        let apps = Apps::from_config(&cfg, None).unwrap_or_else(|e| panic!("{e}"));
        let keys = &apps.get("my-app").unwrap().sftp_authorized_keys;
        assert_eq!(keys, std::slice::from_ref(&line));
        let parsed = crate::wire::ssh::parse_public_key(&keys[0]).unwrap();
        let plain = crate::wire::ssh::parse_public_key(key).unwrap();
        assert_eq!(parsed.key_data(), plain.key_data());
    }

    /// Regression: `sftp_password = ""` let anyone log in with an empty password.
    #[test]
    fn an_empty_sftp_password_is_refused_at_start() {
        let why = refusal(&app(Some(""), Vec::new()));
        assert!(
            why.contains("[[infinia.apps]] app_id = \"my-app\": sftp_password is empty"),
            "{why}"
        );
        assert!(Apps::from_config(&app(Some("pw"), Vec::new()), None).is_ok());
    }

    /// Regression: a retry wait of i64::MAX seconds was accepted; the retry it scheduled was
    /// due past the virtual clock, and the state would not load again.
    #[test]
    fn a_webhook_retry_wait_longer_than_a_day_is_refused_at_start() {
        let mut cfg = app(Some("pw"), Vec::new());
        cfg.webhook_retry_seconds = vec![1, 9_223_372_036_854_775_807];
        let why = refusal(&cfg);
        assert!(
            why.contains(
                "9223372036854775807 seconds is longer than a retry can wait (at most 86400"
            ),
            "{why}"
        );
        cfg.webhook_retry_seconds = vec![1, MAX_RETRY_SECONDS];
        assert!(Apps::from_config(&cfg, None).is_ok());
    }
}
