//! The receiving banks (B2B channels) and marketplaces (B2C platforms) the simulator offers, from
//! the embedded `catalogue.json`. The bank names are fictional and marked "(simulated)".

use std::sync::OnceLock;

use serde::Deserialize;

use crate::money::Currency;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub channel_code: String,
    pub bank_name: String,
    pub bank_country: String,
    pub swift_code: String,
    pub routing_no: String,
    pub bank_address: String,
    /// First digits of the account numbers minted at this bank.
    pub account_prefix: String,
    pub currencies: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Platform {
    pub platform: String,
    pub platform_name: String,
    /// Cards a user may hold for this platform (not counting failed or cancelled ones).
    pub max_cards: usize,
    pub currencies: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Catalogue {
    pub channels: Vec<Channel>,
    pub platforms: Vec<Platform>,
}

impl Channel {
    pub fn offers(&self, currency: Currency) -> bool {
        self.currencies.iter().any(|c| c == currency.code())
    }
}

impl Platform {
    pub fn offers(&self, currency: Currency) -> bool {
        self.currencies.iter().any(|c| c == currency.code())
    }
}

pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        serde_json::from_str(include_str!("catalogue.json")).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the embedded catalogue.json does not parse");
            Catalogue::default()
        })
    })
}

pub fn channel(code: &str) -> Option<&'static Channel> {
    catalogue().channels.iter().find(|c| c.channel_code == code)
}

pub fn platform(code: &str) -> Option<&'static Platform> {
    catalogue().platforms.iter().find(|p| p.platform == code)
}

/// The bank a B2C card in `currency` is opened at: the first channel offering it.
pub fn channel_for(currency: Currency) -> Option<&'static Channel> {
    catalogue().channels.iter().find(|c| c.offers(currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_parses_and_every_currency_is_known_and_banked() {
        let cat = catalogue();
        assert!(cat.channels.len() >= 3 && cat.platforms.len() >= 5);
        for p in &cat.platforms {
            for c in &p.currencies {
                let currency = Currency::parse(c).expect(c);
                assert!(channel_for(currency).is_some(), "{c} of {}", p.platform);
            }
        }
        for ch in &cat.channels {
            for c in &ch.currencies {
                Currency::parse(c).expect(c);
            }
        }
    }
}
