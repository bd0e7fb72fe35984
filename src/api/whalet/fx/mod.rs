//! FX (查询汇率, Rate Inquiry): `rateInquiry` quotes a rate for `currency` → `toCurrency` with a
//! `rateId` that Payout Apply and Pay Apply may reference until `expireTime`. The rate comes from
//! the scenario (`values.rate`, `values.validSeconds`) or the deterministic default table below;
//! the arithmetic that turns an amount into the other currency lives here too.

use serde_json::{json, Value};

use super::common::fields::Check;
use super::common::owned::user_record;
use super::common::{failure, mint};
use super::Operation;
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::money::{Currency, Money};
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

/// Units of each currency per 1 USD, in 1/10,000 (the simulator's fixed reference table).
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
];

/// The default rate `from` → `to` as decimal text with 4 places (`7.1200`), or None.
pub fn default_rate(from: &str, to: &str) -> Option<String> {
    let find = |c: &str| PER_USD.iter().find(|(code, _)| *code == c).map(|(_, v)| *v);
    let (a, b) = (find(from)?, find(to)?);
    let scaled = (b * 10_000 * 2 + a) / (2 * a);
    Some(format!("{}.{:04}", scaled / 10_000, scaled % 10_000))
}

/// A positive decimal rate as (digits, decimal places); None if not such a number.
fn parse_rate(text: &str) -> Option<(i128, u32)> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty()
        || frac.len() > 10
        || !(int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    (digits > 0 && int.len() <= 12).then_some((digits, frac.len() as u32))
}

/// `amount` converted at `rate` into `to`, rounded half up to `to`'s minor unit.
pub fn convert(amount: Money, rate: &str, to: Currency) -> Option<Money> {
    let (digits, places) = parse_rate(rate)?;
    let num = i128::from(amount.minor)
        .checked_mul(digits)?
        .checked_mul(i128::from(to.factor()))?;
    let den = 10i128
        .checked_pow(places)?
        .checked_mul(i128::from(amount.currency.factor()))?;
    let minor = num.checked_mul(2)?.checked_add(den)? / den.checked_mul(2)?;
    i64::try_from(minor).ok().map(|m| Money::new(m, to))
}

/// The scenario's rate (`values.rate`, text or number), checked.
fn scenario_rate(ctx: &Ctx<'_>) -> Result<Option<String>, WhaletError> {
    let text = match ctx.decision.values.get("rate") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => other.to_string(),
    };
    match parse_rate(&text) {
        Some(_) => Ok(Some(text)),
        None => Err(failure(format!(
            "the scenario rule's values.rate {text:?} is not a positive decimal number"
        ))),
    }
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
    let rate =
        match scenario_rate(ctx)? {
            Some(rate) => rate,
            None if currency == to_currency => "1".to_owned(),
            None => {
                default_rate(currency.code(), to_currency.code()).ok_or_else(|| {
                    failure(format!(
                "no rate is offered for {currency} to {to_currency}; the simulator quotes {}",
                PER_USD.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
            ))
                })?
            }
        };
    let valid_ms = match ctx.decision.values.get("validSeconds") {
        Some(Value::Number(n)) => n
            .as_i64()
            .map_or(QUOTE_VALID_MS, |s| s.saturating_mul(1000)),
        Some(Value::String(s)) => s
            .parse::<i64>()
            .map_or(QUOTE_VALID_MS, |s| s.saturating_mul(1000)),
        _ => QUOTE_VALID_MS,
    };
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
            expire_at: now.saturating_add(valid_ms),
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

/// The rate as a JSON number (the vendor example shows `7.8989`).
fn rate_number(rate: &str) -> Value {
    serde_json::from_str::<serde_json::Number>(rate)
        .map(Value::Number)
        .unwrap_or_else(|_| Value::String(rate.to_owned()))
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
        return Err(failure(format!(
            "rateId {rate_id} quotes {} to {}, not {from} to {to}",
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
        assert!(convert(Money::new(1, usd), "-1", cny).is_none());
        assert!(convert(Money::new(1, usd), "1e3", cny).is_none());
    }
}
