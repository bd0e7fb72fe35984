//! Pockyt merchants: who may call (merchantNo, storeNo, API token), their starting balances,
//! fee model, IPN format and notify URL. Built once from the embedded demo merchant and
//! `[[pockyt.merchants]]`; `--notify-url` sets the demo merchant's notify URL.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;

use crate::api::notify_url::NotifyUrl;
use crate::api::roster::{self, Roster};
use crate::config::pockyt::{
    FeeModel, IpnFormat, PockytConfig, DEMO_MERCHANT_NO, DEMO_STORE_NO, DEMO_TOKEN,
    PROCESSING_CHANNELS,
};
use crate::money::{Currency, Money};

pub struct Merchant {
    pub merchant_no: String,
    pub store_no: String,
    pub token: String,
    pub notify_url: NotifyUrl,
    pub balances: Vec<Money>,
    pub fee: FeeModel,
    pub ipn_format: IpnFormat,
}

impl Merchant {
    /// The fee of a payout of `amount` on `channel` (rounded half up to the minor unit).
    pub fn fee_for(&self, amount: Money, channel: &str) -> Result<Money, String> {
        let (fixed, percent) = match self.fee.channels.get(channel) {
            Some(c) => (c.fixed.as_str(), c.percent.as_str()),
            None => (self.fee.fixed.as_str(), self.fee.percent.as_str()),
        };
        fee(amount, fixed, percent)
    }
}

/// Millionths of a decimal text (`"1.5"` → 1_500_000); a negative one is refused as such.
fn micros(text: &str) -> Result<i128, String> {
    let t = text.trim();
    if t.strip_prefix('-').is_some_and(|rest| micros(rest).is_ok()) {
        return Err(format!(
            "fee value {text:?} is negative; a fee's fixed part and percent are 0 or more"
        ));
    }
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits_ok(int) || !digits_ok(frac) || frac.len() > 6 || int.len() > 15 {
        return Err(format!(
            "fee value {text:?} is not a decimal with at most 6 places"
        ));
    }
    let int: i128 = int.parse().map_err(|_| format!("fee value {text:?}"))?;
    let frac_val: i128 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}")
            .parse()
            .map_err(|_| format!("fee value {text:?}"))?
    };
    Ok(int * 1_000_000 + frac_val)
}

/// `fixed + amount × percent / 100`, in minor units of `amount`'s currency, half up.
pub fn fee(amount: Money, fixed: &str, percent: &str) -> Result<Money, String> {
    let exp = amount.currency.exponent();
    let scale = 10i128.pow(6 - exp.min(6)); // micros per minor unit
    let overflow = || "the fee of this amount overflows".to_owned();
    let amount_micros = i128::from(amount.minor)
        .checked_mul(scale)
        .ok_or_else(overflow)?;
    let variable = amount_micros
        .checked_mul(micros(percent)?)
        .ok_or_else(overflow)?
        / 100_000_000;
    let total_micros = micros(fixed)?.checked_add(variable).ok_or_else(overflow)?;
    let minor = total_micros.checked_add(scale / 2).ok_or_else(overflow)? / scale;
    let minor = i64::try_from(minor).map_err(|_| "fee overflow".to_owned())?;
    Ok(Money::new(minor, amount.currency))
}

/// All merchants, by merchantNo.
pub struct Merchants {
    roster: Roster<Merchant>,
}

impl Merchants {
    pub fn from_config(cfg: &PockytConfig, notify_url: Option<&str>) -> anyhow::Result<Self> {
        check_fee_model(&cfg.fee, "[pockyt.fee] ")?;
        let mut by_no = BTreeMap::new();
        if cfg.demo_merchant {
            by_no.insert(
                DEMO_MERCHANT_NO.to_owned(),
                Merchant {
                    merchant_no: DEMO_MERCHANT_NO.into(),
                    store_no: DEMO_STORE_NO.into(),
                    token: DEMO_TOKEN.into(),
                    notify_url: NotifyUrl::new(notify_url.map(str::to_owned)),
                    balances: vec![Money::new(1_000_000, Currency::parse("USD")?)],
                    fee: cfg.fee.clone(),
                    ipn_format: cfg.ipn_format,
                },
            );
        }
        for m in &cfg.merchants {
            let where_ = format!(
                "[[pockyt.merchants]] merchant_no = {}",
                crate::text::echo(&m.merchant_no)
            );
            let mut balances = Vec::new();
            for (code, amount) in &m.balances {
                let setting = format!(
                    "{where_}: balances.{} = {}",
                    crate::text::echo_bare(code),
                    crate::text::echo(amount)
                );
                let currency =
                    Currency::parse(code).map_err(|e| anyhow::anyhow!("{setting}: {e}"))?;
                if let Some(why) = super::fields::not_a_payout_currency(currency) {
                    anyhow::bail!("{setting}: {why}");
                }
                balances.push(
                    Money::parse(amount, currency)
                        .map_err(|e| anyhow::anyhow!("{setting}: {e}"))?,
                );
            }
            if let Some(fee) = &m.fee {
                check_fee_model(fee, &format!("{where_}: fee."))?;
            }
            let fee = m.fee.clone().unwrap_or_else(|| cfg.fee.clone());
            let merchant = Merchant {
                merchant_no: m.merchant_no.clone(),
                store_no: m.store_no.clone(),
                token: token(&m.token, &where_)?,
                notify_url: NotifyUrl::new(
                    m.notify_url
                        .clone()
                        .or_else(|| notify_url.map(str::to_owned)),
                ),
                balances,
                fee,
                ipn_format: m.ipn_format.unwrap_or(cfg.ipn_format),
            };
            by_no.insert(m.merchant_no.clone(), merchant);
        }
        let by_no = by_no.into_iter().map(|(k, m)| (k, Arc::new(m)));
        Ok(Self {
            roster: Roster::new(by_no),
        })
    }
}

/// Refuses, at start, a fee model some payout would be refused on, or with a fee that would
/// never be charged: a `fixed` or `percent` that is not a decimal of 0 or more (the default or
/// a channel's), and a `channels` key that is no `processingChannel` a pay takes.
/// `prefix` names the table, ending where its keys begin (`"[pockyt.fee] "`).
fn check_fee_model(model: &FeeModel, prefix: &str) -> anyhow::Result<()> {
    let probe = Money::new(100, Currency::parse("USD")?);
    let mut values = vec![
        ("fixed".to_owned(), &model.fixed, true, "every payout"),
        ("percent".to_owned(), &model.percent, false, "every payout"),
    ];
    for (channel, channel_fee) in &model.channels {
        let key = format!("channels.{}", crate::text::echo_bare(channel));
        if !PROCESSING_CHANNELS.contains(&channel.as_str()) {
            let hint = crate::text::nearest(channel, PROCESSING_CHANNELS)
                .map(|near| format!(" (did you mean {near:?}?)"))
                .unwrap_or_default();
            anyhow::bail!(
                "{prefix}{key} is not a processingChannel{hint}: a pay takes {}, so this fee \
                 would never be charged",
                PROCESSING_CHANNELS.join(", ")
            );
        }
        values.push((
            format!("{key}.fixed"),
            &channel_fee.fixed,
            true,
            "its payouts",
        ));
        values.push((
            format!("{key}.percent"),
            &channel_fee.percent,
            false,
            "its payouts",
        ));
    }
    for (key, value, fixed, refused) in values {
        let tried = match fixed {
            true => fee(probe, value, "0"),
            false => fee(probe, "0", value),
        };
        tried.map_err(|why| {
            anyhow::anyhow!(
                "{prefix}{key} = {}: {why}; {refused} would be refused",
                crate::text::echo(value)
            )
        })?;
    }
    Ok(())
}

/// A merchant's `token` (inline or `@path`, trimmed); an empty one is refused: no request could
/// carry it, so the merchant could never be reached. `where_` names the merchant's entry.
fn token(value: &str, where_: &str) -> anyhow::Result<String> {
    let setting = format!("{where_}: token");
    let token = roster::setting_text(value, &setting)?.trim().to_owned();
    if token.is_empty() {
        anyhow::bail!("{setting} is empty: set the token the merchant sends in its requests");
    }
    Ok(token)
}

/// `get`, `ids` and `iter` of the merchants.
impl Deref for Merchants {
    type Target = Roster<Merchant>;
    fn deref(&self) -> &Roster<Merchant> {
        &self.roster
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::parse("USD").unwrap())
    }

    /// The merchants of `[[pockyt.merchants]]` entries `toml`, with `--notify-url` `flag`.
    fn merchants(toml: &str, flag: Option<&str>) -> anyhow::Result<Merchants> {
        let config = crate::config::Config::parse(toml)?;
        Merchants::from_config(&config.pockyt, flag)
    }

    /// Regression: `--notify-url` reached the demo merchant but not a configured merchant
    /// without its own notify_url (Whalet partners and Infinia apps got it).
    #[test]
    fn the_notify_url_flag_is_every_merchant_default() {
        let toml = "[[pockyt.merchants]]\nmerchant_no = \"7\"\nstore_no = \"1\"\ntoken = \"t\"\n\
                    [[pockyt.merchants]]\nmerchant_no = \"8\"\nstore_no = \"1\"\ntoken = \"t\"\n\
                    notify_url = \"http://127.0.0.1:1/own\"\n";
        let flag = "http://127.0.0.1:1/flag";
        let all = merchants(toml, Some(flag)).unwrap();
        let url = |no: &str| all.get(no).unwrap().notify_url.get();
        assert_eq!(url("7").as_deref(), Some(flag));
        assert_eq!(url(DEMO_MERCHANT_NO).as_deref(), Some(flag));
        assert_eq!(url("8").as_deref(), Some("http://127.0.0.1:1/own"));
    }

    /// Regression: an empty token (or one of spaces) was accepted; no request could carry it.
    /// A token file that cannot be read names the setting, not a "key file".
    #[test]
    fn an_empty_token_is_refused_naming_the_setting() {
        let entry = |token: &str| {
            format!("[[pockyt.merchants]]\nmerchant_no = \"7\"\nstore_no = \"1\"\ntoken = \"{token}\"\n")
        };
        for empty in ["", "  "] {
            let why = merchants(&entry(empty), None)
                .err()
                .expect("refused")
                .to_string();
            assert!(
                why.starts_with("[[pockyt.merchants]] merchant_no = \"7\": token is empty"),
                "{why}"
            );
        }
        let why = merchants(&entry("@nope/token.txt"), None)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            why.starts_with(
                "[[pockyt.merchants]] merchant_no = \"7\": token: cannot read \"nope/token.txt\""
            ),
            "{why}"
        );
    }

    /// Regression: a starting balance in a currency pay does not pay in (EUR) was credited;
    /// that money could never be paid out.
    #[test]
    fn a_starting_balance_pay_cannot_pay_out_is_refused_naming_the_list() {
        let toml = "[[pockyt.merchants]]\nmerchant_no = \"7\"\nstore_no = \"1\"\ntoken = \"t\"\n\
                    balances = { USD = \"1.00\", EUR = \"5.00\" }\n";
        let why = merchants(toml, None).err().expect("refused").to_string();
        assert!(
            why.starts_with(
                "[[pockyt.merchants]] merchant_no = \"7\": balances.EUR = \"5.00\": EUR is not a \
                 payout currency"
            ),
            "{why}"
        );
        assert!(why.contains("USD, CNY, PHP"), "{why}");
        let usd_only = toml.replace(", EUR = \"5.00\"", "");
        assert_eq!(
            merchants(&usd_only, None)
                .unwrap()
                .get("7")
                .unwrap()
                .balances,
            [usd(100)]
        );
    }

    /// Regression: only the demo merchant's default fee was checked, so a bad
    /// `[pockyt.fee] channels` fee refused that channel's every pay (blamed on the request), and
    /// a channel key pay does not take was never charged. Every fee model, every channel, is
    /// checked, the demo merchant's too.
    #[test]
    fn every_channel_of_every_fee_model_is_checked() {
        let demo = |channel: &str, fixed: &str, percent: &str| {
            format!("[pockyt.fee]\nchannels.{channel} = {{ fixed = \"{fixed}\", percent = \"{percent}\" }}\n")
        };
        for channel in PROCESSING_CHANNELS {
            let all = merchants(&demo(channel, "3", "0"), None).unwrap();
            let fee = all
                .get(DEMO_MERCHANT_NO)
                .unwrap()
                .fee_for(usd(20_000), channel);
            assert_eq!(fee, Ok(usd(300)));
        }
        let why = |toml: &str| merchants(toml, None).err().expect("refused").to_string();
        let e = why(&demo("REAL_TIME_PAY", "-5", "0"));
        assert!(
            e.starts_with("[pockyt.fee] channels.REAL_TIME_PAY.fixed = \"-5\": ")
                && e.contains("is negative"),
            "{e}"
        );
        let e = why(&demo("REAL_TIME_PAY", "0", "abc"));
        assert!(
            e.starts_with("[pockyt.fee] channels.REAL_TIME_PAY.percent = \"abc\": "),
            "{e}"
        );
        let e = why(&demo("REALTIME_PAY", "0", "1"));
        assert!(
            e.starts_with("[pockyt.fee] channels.REALTIME_PAY is not a processingChannel")
                && e.contains("(did you mean \"REAL_TIME_PAY\"?)"),
            "{e}"
        );
        let off = format!("[pockyt]\ndemo_merchant = false\n{}", demo("X", "0", "0"));
        assert!(why(&off).contains("channels.X is not a processingChannel"));
        let entry = "[[pockyt.merchants]]\nmerchant_no = \"7\"\nstore_no = \"1\"\ntoken = \"t\"\n\
                     [pockyt.merchants.fee]\nchannels.SAME_DAY_ACH = { fixed = \"1\", percent = \"-1\" }\n";
        let e = why(entry);
        assert!(
            e.starts_with(
                "[[pockyt.merchants]] merchant_no = \"7\": fee.channels.SAME_DAY_ACH.percent"
            ),
            "{e}"
        );
    }

    #[test]
    fn fee_is_fixed_plus_percent_rounded_half_up() {
        assert_eq!(fee(usd(20_000), "1.00", "0.5").unwrap(), usd(200));
        assert_eq!(fee(usd(101), "0", "0.5").unwrap(), usd(1)); // 0.00505 → 0.01
        assert_eq!(fee(usd(100), "0", "0.5").unwrap(), usd(1)); // 0.005 → 0.01
        assert_eq!(fee(usd(99), "0", "0.5").unwrap(), usd(0)); // 0.00495 → 0.00
        assert_eq!(fee(usd(20_000), "14", "0").unwrap(), usd(1_400));
        let krw = Money::new(10_000, Currency::parse("KRW").unwrap());
        assert_eq!(fee(krw, "1.5", "1").unwrap().minor, 102); // 1.5 + 100 = 101.5 → 102
        assert!(fee(usd(1), "abc", "0").is_err());
        assert!(fee(usd(1), "1", "-1").is_err());
        for (fixed, percent) in [("-1.00", "0"), ("0", "-50")] {
            let e = fee(usd(1), fixed, percent).unwrap_err();
            assert!(e.contains("is negative"), "{e}");
        }
        let e = fee(usd(1), "-x", "0").unwrap_err();
        assert!(e.contains("is not a decimal"), "{e}");
        let huge = usd(1_000_000_000_000_000);
        assert!(fee(huge, "0", "999999999999999").is_err());
    }
}
