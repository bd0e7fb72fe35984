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

/// An entry of the catalogue that offers some currencies: a channel or a platform.
pub trait Offering: Sized + 'static {
    /// The partner's field naming one (`channelCode`), what it is (`B2B channel`), the lookup
    /// listing them (`b2bChannelBanksQuery`) and how a currency is offered (`by channel`).
    const NAMING: [&'static str; 4];
    fn all(catalogue: &'static Catalogue) -> &'static [Self];
    fn code(&self) -> &str;
    fn currencies(&self) -> &[String];

    fn offers(&self, currency: Currency) -> bool {
        self.currencies().iter().any(|c| c == currency.code())
    }
}

/// Implements [`Offering`]: `type, list of the catalogue, code field, naming`.
macro_rules! offering {
    ($($t:ty, $all:ident, $code:ident, $naming:expr;)*) => {$(
        impl Offering for $t {
            const NAMING: [&'static str; 4] = $naming;
            fn all(catalogue: &'static Catalogue) -> &'static [Self] {
                &catalogue.$all
            }
            fn code(&self) -> &str {
                &self.$code
            }
            fn currencies(&self) -> &[String] {
                &self.currencies
            }
        }
    )*};
}

offering! {
    Channel, channels, channel_code,
        ["channelCode", "B2B channel", "b2bChannelBanksQuery", "by channel"];
    Platform, platforms, platform,
        ["platform", "B2C platform", "b2cPlatformQuery", "for platform"];
}

/// Entry `code` of the catalogue when it offers `currency`, else why not: `channelCode "X" is
/// not a B2B channel (see b2bChannelBanksQuery)`, `currency EUR is not offered by channel X
/// (offered: USD)`.
pub fn offering<T: Offering>(code: &str, currency: Currency) -> Result<&'static T, String> {
    let offered_by = T::NAMING[3];
    let entry = known::<T>(code)?;
    if !entry.offers(currency) {
        return Err(format!(
            "currency {currency} is not offered {offered_by} {code} (offered: {})",
            entry.currencies().join(", ")
        ));
    }
    Ok(entry)
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

/// Entry `code` of the catalogue, or the refusal naming it and the query that lists the entries
/// (`platform "amazon" is not a B2C platform (see b2cPlatformQuery)`): every request naming a
/// channel or a platform is checked here.
pub fn known<T: Offering>(code: &str) -> Result<&'static T, String> {
    let [field, kind, lookup, _] = T::NAMING;
    entry::<T>(code).ok_or_else(|| format!("{field} {code:?} is not a {kind} (see {lookup})"))
}

/// Entry `code` of the catalogue (a channel or a platform).
pub fn entry<T: Offering>(code: &str) -> Option<&'static T> {
    T::all(catalogue()).iter().find(|e| e.code() == code)
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
