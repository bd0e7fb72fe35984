//! SFTP accounts: one per Infinia appId and one per whalet-platform partnerId (the SSH user
//! name; an id that is both is the Infinia app's). An app logs in by password (`sftp_password`)
//! or public key (`sftp_authorized_keys`, OpenSSH format); a partner by its configured RSA public
//! key (the key pair it signs requests with) or a password from `[platform] sftp_passwords` (the
//! demo partner's default is `demo-password`). Key parsing and the host key are `wire::ssh`.

use std::sync::Arc;

use russh::keys::PublicKey;

use super::fs::Area;
use crate::api::infinia::apps::{InfiniaApp, DEMO_SFTP_PASSWORD};
use crate::api::whalet::partners::{Partner, DEMO_PARTNER_ID};
use crate::core::Core;
use crate::tenant::{Provider, TenantId};
pub use crate::wire::ssh::{host_key, parse_public_key};

/// Who logged in.
#[derive(Clone)]
pub enum Account {
    Infinia(Arc<InfiniaApp>),
    Platform(Arc<Partner>),
}

impl Account {
    /// The account named `user`: an Infinia app, else a Whalet partner that may upload trade
    /// materials (an `api_codes` list without `tradeMaterialsUpload` closes SFTP too).
    pub fn find(core: &Core, user: &str) -> Option<Self> {
        if let Some(app) = core.infinia().apps.get(user) {
            return Some(Account::Infinia(app));
        }
        core.partners()
            .get(user)
            .filter(|p| p.is_enabled(super::materials::OPERATION))
            .map(Account::Platform)
    }

    pub fn tenant(&self) -> TenantId {
        match self {
            Account::Infinia(app) => TenantId::new(Provider::Infinia, app.app_id.clone()),
            Account::Platform(p) => TenantId::new(Provider::Whalet, p.id.clone()),
        }
    }

    pub fn area(&self) -> Area {
        match self {
            Account::Infinia(_) => Area::Infinia,
            Account::Platform(_) => Area::Platform,
        }
    }

    /// The password matches the account's SFTP password (compared in constant time). An empty
    /// configured password is no password (an app's is refused at start; a partner's in
    /// `[platform] sftp_passwords` refuses password logins): it would let anyone in.
    pub fn password_ok(&self, core: &Core, password: &str) -> bool {
        let expected = match self {
            Account::Infinia(app) => app.sftp_password.as_deref(),
            Account::Platform(p) => match core.config().platform.sftp_passwords.get(&p.id) {
                Some(password) => Some(password.as_str()),
                None if p.id == DEMO_PARTNER_ID => Some(DEMO_SFTP_PASSWORD),
                None => None,
            },
        };
        let Some(expected) = expected.filter(|p| !p.is_empty()) else {
            return false;
        };
        let (a, b) = (expected.as_bytes(), password.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The key is one the account may log in with.
    pub fn key_ok(&self, key: &PublicKey) -> bool {
        match self {
            Account::Infinia(app) => app
                .sftp_authorized_keys
                .iter()
                .filter_map(|line| parse_public_key(line).ok())
                .any(|k| k.key_data() == key.key_data()),
            Account::Platform(p) => crate::wire::ssh::is_rsa_key(key, &p.public_key),
        }
    }
}
