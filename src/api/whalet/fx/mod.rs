//! FX (查询汇率, Rate Inquiry): `rateInquiry` quotes a rate for `currency` → `toCurrency` with a
//! `rateId` that Payout Apply and Pay Apply may reference until `expireTime`. The rate comes from
//! the scenario (`values.rate`, `values.validSeconds`, checked at load by the readers in
//! `scenario::format`) or the deterministic default table below, and is always 1 from a currency
//! into itself; the arithmetic that turns an amount into the other currency lives here too.

use serde_json::{json, Value};

use super::common::fields::Check;
use super::common::owned::user_record;
use super::common::{failure, mint};
use super::Operation;
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::money::{Currency, Money, MAX_MINOR};
use crate::scenario::format::{self as scenario_values, parse_rate};
use crate::store::whalet::FundSource;
use crate::store::whalet_trade::Quote;
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

pub const OPERATIONS: &[Operation] = &[Operation {
    name: "rateInquiry",
    handler: rate_inquiry,
}];

/// How long a quote is valid by default (virtual time).
pub const QUOTE_VALID_MS: i64 = 10 * 60 * 1000;

/// Units of each currency per 1 USD, in 1/10,000 (the simulator's fixed reference table of
/// indicative rates). It quotes every currency an account may be opened in (the channels and
/// platforms of `accounts/catalogue.json`, a unit test keeps them in step) and every currency a
/// payout beneficiary account holds, so money the simulator lets in can be paid out.
const PER_USD: &[(&str, i128)] = &[
    ("USD", 10_000),
    ("CNY", 71_200),
    ("HKD", 77_800),
    ("EUR", 9_200),
    ("GBP", 7_900),
    ("JPY", 1_500_000),
    ("SGD", 13_400),
    ("AUD", 15_300),
    ("CAD", 13_600),
    ("CNH", 71_300),
    ("NZD", 16_800),
    ("CHF", 8_800),
    ("AED", 36_725),
    ("SAR", 37_500),
    ("MXN", 175_000),
    ("PLN", 40_000),
    ("SEK", 105_000),
    ("TRY", 340_000),
    ("MYR", 47_000),
    ("PHP", 560_000),
    ("THB", 355_000),
    ("VND", 245_000_000),
    ("TWD", 315_000),
    ("BRL", 52_000),
];

/// Units of `code` per 1 USD in 1/10,000, when the table quotes it.
fn per_usd(code: &str) -> Option<i128> {
    PER_USD.iter().find(|(c, _)| *c == code).map(|(_, v)| *v)
}

/// The default rate `from` → `to` as decimal text (`7.1200`), or None. A cross rate is rounded
/// half up to 4 decimal places; one under 0.001, which 4 places would leave with one significant
/// digit or none (VND to USD), to 4 significant digits (`0.00004082`), so no quoted rate is zero.
pub fn default_rate(from: &str, to: &str) -> Option<String> {
    let (a, b) = (per_usd(from)?, per_usd(to)?);
    // b / a rounded half up to `places` decimals, as an integer of 10^-places.
    let at = |places: u32| (b * 10i128.pow(places) * 2 + a) / (2 * a);
    let mut places = 4;
    let mut scaled = at(places);
    if scaled < 10 {
        while scaled < 1_000 && places < 10 {
            places += 1;
            scaled = at(places);
        }
    }
    let unit = 10i128.pow(places);
    Some(format!(
        "{}.{:0width$}",
        scaled / unit,
        scaled % unit,
        width = places as usize
    ))
}

/// How the partner prices `from` → `to` for an order that needs a `rateId`: "ask rateInquiry"
/// only when `rateInquiry` quotes the pair by default, else that no rate is offered and what
/// sets one. One place decides both, so no hint sends the partner to a step that refuses.
pub fn how_to_price(from: Currency, to: Currency) -> String {
    if default_rate(from.code(), to.code()).is_some() {
        format!("ask rateInquiry for {from} to {to}")
    } else {
        let pair = [from, to];
        let missing: Vec<&str> = pair
            .iter()
            .map(Currency::code)
            .filter(|c| per_usd(c).is_none())
            .collect();
        let verb = if missing.len() > 1 { "are" } else { "is" };
        format!(
            "no rate is offered for {from} to {to}: {} {verb} not in the simulator's rate table \
             (rateInquiry names the currencies it quotes); {SCENARIO_RATE}",
            missing.join(" and ")
        )
    }
}

/// What prices a pair the default table does not (the rule's `values.rate` replaces the rate of
/// any pair of two currencies, see [`rate_inquiry`]).
const SCENARIO_RATE: &str = "a scenario rule's values.rate on rateInquiry can set one";

/// Why an amount has no price in the other currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unconvertible {
    /// The rate is not a positive decimal (only a stored rate read back could be).
    NotARate,
    /// The converted amount rounds to zero minor units.
    BelowMinorUnit,
    /// The converted amount is more than one amount may be ([`MAX_MINOR`] minor units).
    TooLarge,
}

impl Unconvertible {
    /// What to tell the partner about converting `amount` at `rate` into `to`. The rate is
    /// written as every reply writes it ([`rate_number`]: `7.1200` is `7.12`), so the refusal
    /// names the rate the partner was quoted.
    pub fn message(self, amount: Money, rate: &str, to: Currency) -> String {
        let shown = rate_number(rate);
        match self {
            Unconvertible::NotARate => format!("rate {rate:?} is not a positive decimal number"),
            Unconvertible::BelowMinorUnit => {
                format!("{amount} at rate {shown} is less than one minor unit of {to}")
            }
            Unconvertible::TooLarge => format!(
                "{amount} at rate {shown} is more than the largest amount of {to}, {} \
                 (10^15 minor units); send a smaller amount",
                Money::new(MAX_MINOR, to)
            ),
        }
    }
}

/// `amount` converted at `rate` into `to`, rounded half up to `to`'s minor unit: a positive
/// amount of at most [`MAX_MINOR`] minor units, or why there is none.
pub fn convert(amount: Money, rate: &str, to: Currency) -> Result<Money, Unconvertible> {
    let (digits, places) = parse_rate(rate).map_err(|_| Unconvertible::NotARate)?;
    let too_large = Unconvertible::TooLarge;
    let num = i128::from(amount.minor)
        .checked_mul(digits)
        .and_then(|n| n.checked_mul(i128::from(to.factor())))
        .and_then(|n| n.checked_mul(2))
        .ok_or(too_large)?;
    let den = 10i128
        .checked_pow(places)
        .and_then(|d| d.checked_mul(i128::from(amount.currency.factor())))
        .ok_or(too_large)?;
    // Half up: (2·num + den) / (2·den).
    let minor = num
        .checked_add(den)
        .zip(den.checked_mul(2))
        .map(|(n, d)| n / d)
        .ok_or(too_large)?;
    match i64::try_from(minor) {
        Ok(m) if m > MAX_MINOR => Err(too_large),
        Ok(m) if m > 0 => Ok(Money::new(m, to)),
        Ok(_) => Err(Unconvertible::BelowMinorUnit),
        Err(_) => Err(too_large),
    }
}

/// The scenario's rate (`values.rate`, text or number), read as the loader checked it
/// ([`scenario_values::rate`]); a value that does not read (the loader refused it, so only a
/// rule built otherwise could hold one) is `FAILURE` naming it.
fn scenario_rate(ctx: &Ctx<'_>) -> Result<Option<String>, WhaletError> {
    match ctx.decision.values.get("rate") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => scenario_values::rate(value)
            .map(Some)
            .map_err(|why| failure(format!("the scenario rule's values.rate {why}"))),
    }
}

/// The refusal of a pair the default table does not price.
fn no_rate(from: Currency, to: Currency) -> WhaletError {
    let offered: Vec<&str> = PER_USD.iter().map(|(c, _)| *c).collect();
    failure(format!(
        "no rate is offered for {from} to {to}; the simulator quotes {}; {SCENARIO_RATE}",
        offered.join(", ")
    ))
}

pub fn rate_inquiry(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let currency = c.currency("currency", true);
    let to_currency = c.currency("toCurrency", true);
    let fund = c.one_of("fundSource", &["B2C", "B2B", "Acquiring"], true);
    c.finish()?;
    let (Some(currency), Some(to_currency), Some(fund)) =
        (currency, to_currency, fund.and_then(FundSource::parse))
    else {
        return Err(WhaletError::parameter(
            "currency, toCurrency and fundSource are required",
        ));
    };
    // A currency is worth itself: a rule's `values.rate` prices the pairs that convert, never
    // the same currency (the payee would receive another amount of the money paid).
    let rate = if currency == to_currency {
        "1".to_owned()
    } else {
        match scenario_rate(ctx)? {
            Some(rate) => rate,
            None => default_rate(currency.code(), to_currency.code())
                .ok_or_else(|| no_rate(currency, to_currency))?,
        }
    };
    let valid_ms = ctx
        .decision
        .value("validSeconds", scenario_values::valid_seconds)
        .unwrap_or(QUOTE_VALID_MS);
    let now = ctx.now();
    ctx.with_state(|t| {
        t.whalet.onboarded_user(user_id)?;
        let rate_id = mint(t, "R", now);
        let quote = Quote {
            rate_id: rate_id.clone(),
            user_id: user_id.to_owned(),
            currency,
            to_currency,
            fund_source: fund,
            rate: rate.clone(),
            quoted_at: now,
            // The clock stops at the end of virtual time: so does a quote's validity.
            expire_at: now.saturating_add(valid_ms).min(crate::clock::MAX_TIME),
        };
        let reply = json!({
            "rateId": rate_id,
            "currency": currency.code(),
            "toCurrency": to_currency.code(),
            "rate": rate_number(&rate),
            "expireTime": whalet_time(quote.expire_at),
        });
        t.whalet_trade.quotes.insert(rate_id, quote);
        Ok(Reply::ok(reply))
    })?
}

/// The rate as a JSON number (the vendor example shows `7.8989`), on every reply and
/// notification that carries one. A checked rate has at most 15 significant digits, which a
/// double holds exactly, so the number is the rate the order was priced at (`7.1200` is `7.12`);
/// a stored text that is no number (only a hand-edited snapshot could hold one) stays text.
pub fn rate_number(rate: &str) -> Value {
    crate::money::decimal_number(rate).unwrap_or_else(|| Value::String(rate.to_owned()))
}

/// A quote the user may still use for `from` → `to` in `fund`.
pub fn usable_quote(
    t: &TenantState,
    rate_id: &str,
    (user_id, fund): (&str, FundSource),
    from: Currency,
    to: Currency,
    now: i64,
) -> Result<String, WhaletError> {
    let what = ("rateId", rate_id, "quote");
    let q = user_record(&t.whalet_trade.quotes, what, user_id)
        .map_err(|e| failure(format!("{} (ask rateInquiry)", e.detail)))?;
    if now > q.expire_at {
        return Err(failure(format!(
            "rateId {rate_id} expired at {}; ask rateInquiry for a new rate",
            whalet_time(q.expire_at)
        )));
    }
    if q.fund_source != fund {
        return Err(failure(format!(
            "rateId {rate_id} was quoted for fundSource {}, not {}",
            q.fund_source.as_str(),
            fund.as_str()
        )));
    }
    if q.currency != from || q.to_currency != to {
        // What would make the quote fit, or let the order go without one.
        let hint = if from != to {
            format!(" ({})", how_to_price(from, to))
        } else if q.currency == from {
            format!(
                " (the payee receives {to}: leave rateId out, or have the payee receive {})",
                q.to_currency
            )
        } else if q.to_currency == to {
            format!(
                " (the payee receives {to}: leave rateId out, or pay in {}, the quote's source \
                 currency)",
                q.currency
            )
        } else {
            format!(" (the payee receives {to}, the currency paid: leave rateId out)")
        };
        return Err(failure(format!(
            "rateId {rate_id} quotes {} to {}, not {from} to {to}{hint}",
            q.currency, q.to_currency
        )));
    }
    Ok(q.rate.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rates_and_conversion_are_exact() {
        assert_eq!(default_rate("USD", "CNY").as_deref(), Some("7.1200"));
        assert_eq!(default_rate("CNY", "USD").as_deref(), Some("0.1404"));
        assert_eq!(default_rate("USD", "XXX"), None);
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let cny = Currency::parse("CNY").unwrap();
        assert_eq!(
            convert(Money::new(10_050, usd), "7.1200", cny)
                .unwrap()
                .minor,
            71_556
        );
        assert_eq!(
            convert(Money::new(101, usd), "150", jpy).unwrap().minor,
            152
        );
        assert_eq!(
            convert(Money::new(1, usd), "-1", cny),
            Err(Unconvertible::NotARate)
        );
        assert_eq!(
            convert(Money::new(1, usd), "1e3", cny),
            Err(Unconvertible::NotARate)
        );
    }

    /// Every currency an account may be opened in (a channel's or a platform's, read from the
    /// embedded catalogue) is quoted against every other currency of the table, with a positive
    /// rate a quote may carry: a currency added to the catalogue without a rate fails here.
    #[test]
    fn every_currency_the_catalogue_offers_is_quoted() {
        let catalogue: Value =
            serde_json::from_str(include_str!("../accounts/catalogue.json")).unwrap();
        let mut offered: Vec<&str> = ["channels", "platforms"]
            .iter()
            .flat_map(|list| catalogue[list].as_array().unwrap())
            .flat_map(|entry| entry["currencies"].as_array().unwrap())
            .map(|c| c.as_str().unwrap())
            .collect();
        offered.sort_unstable();
        offered.dedup();
        assert!(offered.len() >= 23, "{offered:?}");
        for code in offered {
            assert!(per_usd(code).is_some(), "{code} has no rate in PER_USD");
        }
        for (from, _) in PER_USD {
            assert!(Currency::parse(from).is_ok(), "{from}");
            for (to, _) in PER_USD {
                let rate = default_rate(from, to).unwrap();
                let (digits, _) =
                    parse_rate(&rate).unwrap_or_else(|e| panic!("{from}->{to} {rate} {e}"));
                // At least 2 significant digits: no rate is cut to a single digit.
                assert!(digits >= 10, "{from} to {to}: {rate}");
            }
        }
    }

    /// A rate under 0.001 keeps 4 significant digits; others keep 4 places (unchanged).
    #[test]
    fn a_small_cross_rate_keeps_its_digits() {
        assert_eq!(default_rate("VND", "USD").as_deref(), Some("0.00004082"));
        assert_eq!(default_rate("USD", "VND").as_deref(), Some("24500.0000"));
        assert_eq!(default_rate("JPY", "USD").as_deref(), Some("0.0067"));
        assert_eq!(default_rate("VND", "JPY").as_deref(), Some("0.0061"));
        assert_eq!(default_rate("MXN", "USD").as_deref(), Some("0.0571"));
        let vnd = Currency::parse("VND").unwrap();
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(
            convert(Money::new(1_000_000, vnd), "0.00004082", usd).map(|m| m.minor),
            Ok(4_082)
        );
        assert_eq!(
            convert(Money::new(10_000, usd), "24500.0000", vnd).map(|m| m.minor),
            Ok(2_450_000)
        );
    }

    /// The hint of an order that needs a rateId sends the partner to rateInquiry only for a pair
    /// it quotes; otherwise it says no rate is offered and what sets one.
    #[test]
    fn the_pricing_hint_agrees_with_the_table() {
        let c = |code: &str| Currency::parse(code).unwrap();
        assert_eq!(
            how_to_price(c("MXN"), c("USD")),
            "ask rateInquiry for MXN to USD"
        );
        assert_eq!(
            how_to_price(c("USD"), c("KWD")),
            "no rate is offered for USD to KWD: KWD is not in the simulator's rate table \
             (rateInquiry names the currencies it quotes); a scenario rule's values.rate on \
             rateInquiry can set one"
        );
        assert!(how_to_price(c("KWD"), c("ISK")).contains(": KWD and ISK are not"));
    }

    /// Too small and too large are told apart, and too large is named with the limit.
    #[test]
    fn a_conversion_out_of_range_says_which_way() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            convert(Money::new(1, jpy), "0.0049", usd),
            Err(Unconvertible::BelowMinorUnit)
        );
        let big = Money::new(1_000_000_000, usd);
        assert_eq!(
            convert(big, "999999999999", jpy),
            Err(Unconvertible::TooLarge)
        );
        assert_eq!(
            Unconvertible::TooLarge.message(big, "999999999999", jpy),
            "10000000.00 USD at rate 999999999999 is more than the largest amount of JPY, \
             1000000000000000 JPY (10^15 minor units); send a smaller amount"
        );
        // The largest amount itself converts; one minor unit more does not.
        assert_eq!(
            convert(Money::new(MAX_MINOR, jpy), "1", jpy).map(|m| m.minor),
            Ok(MAX_MINOR)
        );
        assert_eq!(
            convert(Money::new(MAX_MINOR, usd), "1.0000000000", usd).map(|m| m.minor),
            Ok(MAX_MINOR)
        );
        assert_eq!(
            convert(Money::new(MAX_MINOR, usd), "1.01", usd),
            Err(Unconvertible::TooLarge)
        );
    }

    /// A rate goes on the wire as a JSON number with the value it priced the order at.
    #[test]
    fn a_rate_is_a_number_with_the_quotes_digits() {
        for (text, wire) in [
            ("150.0000", "150"),
            ("8.00", "8"),
            ("0.0067", "0.0067"),
            ("7.1200", "7.12"),
            ("1", "1"),
            ("999999999999", "999999999999"),
            ("123456789012.123", "123456789012.123"),
            ("0.0000000001", "1e-10"),
        ] {
            assert!(parse_rate(text).is_ok(), "{text}");
            let number = rate_number(text);
            assert!(number.is_number(), "{text}");
            assert_eq!(number.to_string(), wire, "{text}");
        }
        assert_eq!(
            parse_rate("123456789012.1234").unwrap_err(),
            "has 16 significant digits; a rate has at most 15 (a JSON number carries no more exactly)"
        );
        assert_eq!(
            parse_rate("1.12345678901").unwrap_err(),
            "has 11 decimal places; a rate has at most 10"
        );
        assert_eq!(
            parse_rate("0.00").unwrap_err(),
            "is zero; a rate must be positive"
        );
        assert!(parse_rate(" 7.1").is_err());
    }
}
