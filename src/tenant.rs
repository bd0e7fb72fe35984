//! Tenant identities: which provider account a piece of state, a request or a notification
//! belongs to. Plain data with no dependency on the rest of the crate, so every layer can use it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The provider a tenant belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Whalet,
    Infinia,
    Pockyt,
}

impl Provider {
    /// Every provider, in the order the docs name them.
    pub const ALL: [Provider; 3] = [Provider::Whalet, Provider::Infinia, Provider::Pockyt];

    /// The provider `name` spells (`whalet`, `infinia`, `pockyt`; lower case only).
    pub fn named(name: &str) -> Option<Provider> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The provider whose tenants the journal's and coverage's `surface` serves: the Whalet
    /// partner's for `whalet`, `platform` and `file` (the Open API's upload), the app's for
    /// `infinia`, the merchant's for `pockyt`; None for any other name.
    pub fn serving(surface: &str) -> Option<Provider> {
        match surface {
            "whalet" | "platform" | "file" => Some(Provider::Whalet),
            other => Self::named(other),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Whalet => "whalet",
            Provider::Infinia => "infinia",
            Provider::Pockyt => "pockyt",
        }
    }
}

/// `whalet:202400000000001`, `infinia:demo-app`, `pockyt:202333`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId {
    pub provider: Provider,
    pub id: String,
}

impl TenantId {
    pub fn new(provider: Provider, id: impl Into<String>) -> Self {
        Self {
            provider,
            id: id.into(),
        }
    }

    /// Parses `provider:id`.
    pub fn parse(text: &str) -> Option<Self> {
        let (provider, id) = text.split_once(':')?;
        let provider = Provider::named(provider)?;
        (!id.is_empty()).then(|| Self::new(provider, id))
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider.as_str(), self.id)
    }
}

impl Serialize for TenantId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "tenant {text:?} is not provider:id (whalet, infinia or pockyt)"
            ))
        })
    }
}
