//! Money as integer minor units of a currency with its ISO 4217 exponent. No `f64` inside: the
//! decimal text partners send is parsed exactly, and the Whalet Money object
//! `{amount, cent, centFactor, currency}` is produced only at the wire edge ([`Money::to_whalet`]).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// An ISO 4217 currency code known to the simulator, with its exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Every active currency of ISO 4217 list one with its minor unit (the exponent), plus `CNH`
/// (offshore renminbi: not an ISO code, but the one Infinia's documents name), sorted by code.
/// Left out, so refused by name: the codes list one gives no minor unit (`XXX` "no currency",
/// `XTS`, the metals `XAU` …, `XDR` and the other units of account), its fund codes (`BOV`,
/// `CHE`, `CHW`, `CLF`, `COU`, `MXV`, `USN`, `UYI`, `UYW`: not currencies money is held in)
/// and withdrawn codes (`ANG`, `BGN`, `HRK`, `SLL`, `ZWL`, …). docs/FIDELITY.md "currencies".
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNH", 2),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    /// Every currency the simulator knows (every active ISO 4217 currency and `CNH`), with its
    /// minor-unit exponent, sorted by code.
    pub fn all() -> impl Iterator<Item = (&'static str, u32)> {
        CURRENCIES
            .iter()
            .map(|(code, exponent)| (*code, u32::from(*exponent)))
    }

    /// Reads a code as sent: surrounding whitespace is refused, as any other character that
    /// is not the code (a Java server compares the string it received).
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let upper = code.to_ascii_uppercase();
        if upper != code && CURRENCIES.iter().any(|(c, _)| *c == upper) {
            return Err(MoneyError(
                format!(
                    "currency {} is not upper case; ISO 4217 codes are, send {upper:?}",
                    crate::text::echo(code)
                ),
                MoneyErrorKind::UnknownCurrency,
            ));
        }
        if code.trim() != code && CURRENCIES.iter().any(|(c, _)| *c == code.trim()) {
            return Err(MoneyError(
                format!(
                    "currency {} has whitespace around the code; send {:?}",
                    crate::text::echo(code),
                    code.trim()
                ),
                MoneyErrorKind::UnknownCurrency,
            ));
        }
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, e)| {
                let b = c.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    exponent: *e,
                }
            })
            .ok_or_else(|| {
                MoneyError(
                    format!(
                        "currency {} is unknown (ISO 4217 code expected)",
                        crate::text::echo(code)
                    ),
                    MoneyErrorKind::UnknownCurrency,
                )
            })
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    pub fn exponent(&self) -> u32 {
        u32::from(self.exponent)
    }

    /// 10^exponent, Whalet's `centFactor`.
    pub fn factor(&self) -> i64 {
        10i64.pow(self.exponent())
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, MoneyError> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a currency code or an amount was refused: `.0` says what to fix (the text every surface
/// shows), `.1` what kind of refusal it is, so that a surface whose codes tell a wrong format
/// from a value out of range (Infinia's SYS-005 and SYS-006) maps the kind rather than judging
/// the text's shape again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MoneyError(pub String, pub MoneyErrorKind);

impl MoneyError {
    /// The refusal said of field `field`: the message names the field where it says "amount"
    /// or "currency" (`payAmount "-5" is negative`, not `payAmount: amount "-5" is negative`;
    /// `currency "usd" is not upper case`, not `currency: currency "usd" …`). Cut as
    /// [`crate::text::message`] cuts.
    pub fn about(&self, field: &str) -> String {
        let text = crate::text::message(&self.0);
        let said = match self.1 {
            MoneyErrorKind::UnknownCurrency => "currency ",
            _ => "amount ",
        };
        match text.strip_prefix(said) {
            Some(rest) => format!("{field} {rest}"),
            None => format!("{field}: {text}"),
        }
    }
}

/// The refusals of [`Currency::parse`] and of the amount readers of [`Money`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyErrorKind {
    /// Not an amount's text: empty, not a plain decimal (a sign other than one leading minus,
    /// an exponent, a separator, a point with no digit before it), a trailing point, or a JSON
    /// value that is neither a string nor a number.
    Format,
    /// A decimal with more decimal places than the currency has (or a JSON number too small
    /// to be read exactly).
    TooManyPlaces,
    /// A plain decimal with a minus sign, `-0` included: amounts are written without one.
    Negative,
    /// More than [`MAX_MINOR`] (10^15) minor units (or a JSON number too large to be read
    /// exactly).
    TooLarge,
    /// A currency code the simulator does not know.
    UnknownCurrency,
}

/// The largest amount the simulator takes or computes, in minor units (10^15: 10^13 USD), and
/// the largest balance, either way, any ledger account holds (`Ledger::post`). Below
/// it every amount's decimal text has at most 15 significant digits, which the double behind
/// the Whalet Money object's `amount` ([`Money::to_whalet`]) holds exactly.
pub const MAX_MINOR: i64 = 1_000_000_000_000_000;

/// An amount in minor units of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// Parses a decimal text such as `"100.5"` exactly, as the characters sent (as Java's
    /// `BigDecimal` reads a string). More fraction digits than the currency has, signs,
    /// exponents, whitespace and empty text are refused with a reason.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let bad = |kind, why: &str| Err(MoneyError(format!("amount {text:?} {why}"), kind));
        if text.is_empty() {
            return bad(MoneyErrorKind::Format, "is empty");
        }
        if text.trim() != text {
            return bad(
                MoneyErrorKind::Format,
                "has whitespace around the number; send the digits only, like \"100.25\"",
            );
        }
        if let Some(magnitude) = text.strip_prefix('-').filter(|m| plain_decimal(m)) {
            return match magnitude.bytes().all(|b| b == b'0' || b == b'.') {
                true => bad(
                    MoneyErrorKind::Negative,
                    "is zero written with a minus sign; amounts are written without one",
                ),
                false => bad(MoneyErrorKind::Negative, "is negative"),
            };
        }
        if !plain_decimal(text) {
            return bad(
                MoneyErrorKind::Format,
                "is not a plain decimal number like 100.25",
            );
        }
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if text.ends_with('.') {
            return bad(MoneyErrorKind::Format, "ends with a decimal point");
        }
        let exp = currency.exponent() as usize;
        let frac_trimmed = frac.trim_end_matches('0');
        if frac_trimmed.len() > exp {
            let places = match frac.len() {
                1 => "1 decimal place".to_owned(),
                n => format!("{n} decimal places"),
            };
            return bad(
                MoneyErrorKind::TooManyPlaces,
                &format!("has {places}; {currency} has {exp}"),
            );
        }
        let mut digits = String::with_capacity(int.len() + exp);
        digits.push_str(int);
        digits.push_str(frac_trimmed);
        for _ in frac_trimmed.len()..exp {
            digits.push('0');
        }
        let minor: i64 = digits
            .parse()
            .ok()
            .filter(|v: &i64| *v <= MAX_MINOR)
            .ok_or_else(|| {
                MoneyError(
                    format!(
                        "amount {text:?} is too large; the largest is {} {currency} (10^15 minor units)",
                        Money::new(MAX_MINOR, currency).to_decimal_string()
                    ),
                    MoneyErrorKind::TooLarge,
                )
            })?;
        Ok(Self::new(minor, currency))
    }

    /// Reads an amount from a parsed JSON value: a string as its content, an integer exactly.
    /// A number with a fraction or an exponent was parsed as an `f64`, which may have lost the
    /// text the client sent (`1.0000000000000001` is `1.0` by then): a body parsed with its text
    /// at hand goes through [`keep_number_texts`] first, which leaves such a number as its text.
    /// Here a number is read as the `f64`'s shortest text, and refused when that text visibly is
    /// not the client's ([`rewritten`]).
    pub fn from_json(value: &Value, currency: Currency) -> Result<Self, MoneyError> {
        match value {
            Value::String(s) => Self::parse(s, currency),
            Value::Number(n) => match rewritten(n) {
                Some(problem) => Err(problem),
                None => Self::parse(&n.to_string(), currency),
            },
            _ => Err(not_an_amount()),
        }
    }

    pub fn is_positive(&self) -> bool {
        self.minor > 0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.minor.checked_add(other.minor))
            .flatten()
            .map(|m| Money::new(m, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.minor.checked_sub(other.minor))
            .flatten()
            .map(|m| Money::new(m, self.currency))
    }

    /// The decimal text with exactly the currency's number of places, e.g. `"100.50"`.
    pub fn to_decimal_string(&self) -> String {
        let exp = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let factor = 10u64.pow(exp);
        format!(
            "{sign}{}.{:0width$}",
            abs / factor,
            abs % factor,
            width = exp as usize
        )
    }

    /// Whalet's Money object: `{amount, cent, centFactor, currency}`; `amount` a JSON number in
    /// major units written without trailing zeros (`29870`, `2477.92`), as in the vendor example.
    /// A whole `amount` is an integer, exact at any size; one with a fraction is a double, exact
    /// up to 15 significant digits, so for every amount up to [`MAX_MINOR`]: every amount taken
    /// or computed, and every balance (the ledger keeps each within it), so `amount` and `cent`
    /// always agree.
    pub fn to_whalet(&self) -> Value {
        let amount = decimal_number(&self.to_decimal_string()).unwrap_or(Value::Null);
        json!({
            "amount": amount,
            "cent": self.minor,
            "centFactor": self.currency.factor(),
            "currency": self.currency.code(),
        })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

/// A decimal text as the JSON number the wire carries: without trailing zeros, and without a
/// fraction when none is left (`100.00` is `100`, `7.1200` is `7.12`); `None` if it is not a
/// number.
pub fn decimal_number(text: &str) -> Option<Value> {
    let trimmed = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    };
    serde_json::from_str::<serde_json::Number>(trimmed)
        .ok()
        .map(Value::Number)
}

/// Largest magnitude below which every integer is exact in an `f64` (2^53).
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// The refusal of a JSON value that is neither a string nor a number.
fn not_an_amount() -> MoneyError {
    MoneyError(
        "amount must be a decimal string or number".into(),
        MoneyErrorKind::Format,
    )
}

/// Replaces, in `value` parsed from the JSON `text`, every number a double does not hold as
/// written by its text as a string: one with an exponent (`1e2`), with more digits than a
/// double keeps (`1.0000000000000001`, parsed as `1.0`), or an integer read as a double (`-0`,
/// `99999999999999999999`). An amount read from it then gets the
/// answer the same characters sent as a string get (`1.0000000000000001` has 16 decimal
/// places), as a server reading the number's text exactly (Java's `BigDecimal`) would give.
/// So is a number whose refusal as an amount would otherwise quote another text: a negative
/// one (`-1.50`, which the double prints as `-1.5`) and one with more decimal places than any
/// currency has (`1.0010`, which has 4, not 3). Every other number, integers included, stays as
/// it is: `100.10` is the double `100.1`.
pub fn keep_number_texts(text: &str, value: &mut Value) {
    if !has_fraction(value) {
        return;
    }
    if let Ok(raw) = serde_json::from_str::<&serde_json::value::RawValue>(text) {
        keep_texts(raw, value);
    }
}

/// Whether `value` holds a number parsed as an `f64` (the only ones whose text may be lost).
fn has_fraction(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_fraction),
        Value::Object(map) => map.values().any(has_fraction),
        _ => false,
    }
}

/// [`keep_number_texts`] on one value and the raw text it was parsed from.
fn keep_texts(raw: &serde_json::value::RawValue, value: &mut Value) {
    use serde_json::value::RawValue;
    match value {
        Value::Number(n) if n.is_f64() => {
            let text = raw.get().trim();
            let held = n.as_f64().map(|f| f.to_string());
            // An integer text read as a double (`-0`, or one past 64 bits) prints as another
            // text (`-0.0`, `1e20`): kept as written too.
            let places = text.split_once('.').map_or(0, |(_, frac)| frac.len());
            let most = CURRENCIES.iter().map(|(_, e)| usize::from(*e)).max();
            let as_written = !text.contains(['e', 'E'])
                && text.contains('.')
                && !text.starts_with('-')
                && most.is_some_and(|most| places <= most)
                && held.is_some_and(|held| decimal_digits(&held) == decimal_digits(text));
            if !as_written {
                *value = Value::String(text.to_owned());
            }
        }
        Value::Array(items) if items.iter().any(has_fraction) => {
            if let Ok(raws) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
                items
                    .iter_mut()
                    .zip(raws)
                    .for_each(|(v, r)| keep_texts(r, v));
            }
        }
        Value::Object(map) if map.values().any(has_fraction) => {
            let raws =
                serde_json::from_str::<std::collections::HashMap<String, &RawValue>>(raw.get());
            for (key, v) in map.iter_mut() {
                if let Some(r) = raws.as_ref().ok().and_then(|raws| raws.get(key)) {
                    keep_texts(r, v);
                }
            }
        }
        _ => {}
    }
}

/// A plain decimal number's value as (negative, significant digits, power of ten): `100.10`
/// and `100.1` give the same, `1.0000000000000001` and `1` do not. Zero is `(false, "", 0)`.
fn decimal_digits(text: &str) -> (bool, String, i64) {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let all: String = int.chars().chain(frac.chars()).collect();
    let power = -(frac.len() as i64);
    let digits = all.trim_start_matches('0');
    let kept = digits.trim_end_matches('0');
    if kept.is_empty() {
        return (false, String::new(), 0);
    }
    let power = power + (digits.len() - kept.len()) as i64;
    (negative, kept.to_owned(), power)
}

/// Whether `t` is digits, optionally a `.` and more digits (no sign, exponent or separator).
fn plain_decimal(t: &str) -> bool {
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    !int.is_empty() && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
}

/// Why the text serde_json prints for a parsed number is certainly not the client's, when it
/// certainly is not: an integer past 2^53 read as an `f64` (`99999999999999999999` prints as
/// `1e20`), or any number it prints with an exponent. Such a number is refused without
/// echoing a text the client never wrote. A rounded fraction (`1.0000000000000001` → `1.0`)
/// cannot be seen here: [`keep_number_texts`] keeps those as the client's text.
fn rewritten(n: &serde_json::Number) -> Option<MoneyError> {
    let magnitude = n.as_f64().filter(|_| n.is_f64())?.abs();
    let exponent = n.to_string().contains(['e', 'E']);
    let advice = "send amounts as decimal strings like \"100.25\"";
    if magnitude >= EXACT_F64 || (exponent && magnitude >= 1.0) {
        Some(MoneyError(
            format!("amount is too large to be read exactly as a JSON number; {advice}"),
            MoneyErrorKind::TooLarge,
        ))
    } else if exponent {
        Some(MoneyError(
            format!(
                "amount has too many decimal places to be read exactly as a JSON number; {advice}"
            ),
            MoneyErrorKind::TooManyPlaces,
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal said of a field names the field once, where the message says "amount" or
    /// "currency".
    #[test]
    fn a_refusal_about_a_field_names_it_once() {
        let usd = Currency::parse("USD").unwrap();
        let negative = Money::parse("-5", usd).unwrap_err();
        assert_eq!(negative.about("amount"), "amount \"-5\" is negative");
        assert_eq!(
            negative.about("orders[0].payAmount"),
            "orders[0].payAmount \"-5\" is negative"
        );
        let unknown = Currency::parse("XYZ").unwrap_err();
        assert_eq!(
            unknown.about("currency"),
            "currency \"XYZ\" is unknown (ISO 4217 code expected)"
        );
        let lower = Currency::parse("usd").unwrap_err();
        assert_eq!(
            lower.about("targetCurrency"),
            "targetCurrency \"usd\" is not upper case; ISO 4217 codes are, send \"USD\""
        );
    }

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn parses_exactly_and_refuses_extra_places() {
        assert_eq!(Money::parse("100.5", usd()).unwrap().minor, 10050);
        assert_eq!(Money::parse("0.01", usd()).unwrap().minor, 1);
        assert_eq!(Money::parse("7", usd()).unwrap().minor, 700);
        assert_eq!(Money::parse("1.230", usd()).unwrap().minor, 123);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse("1500", jpy).unwrap().minor, 1500);
        assert!(Money::parse("1.5", jpy)
            .unwrap_err()
            .0
            .contains("JPY has 0"));
        assert_eq!(
            Money::parse("1.5", jpy).unwrap_err().0,
            "amount \"1.5\" has 1 decimal place; JPY has 0"
        );
        // The places counted are the ones written, trailing zeros included.
        assert_eq!(
            Money::parse("100.50", jpy).unwrap_err().0,
            "amount \"100.50\" has 2 decimal places; JPY has 0"
        );
        for bad in [
            "",
            "-1",
            "1e3",
            "1.",
            ".5",
            "1,00",
            "abc",
            "99999999999999999999",
        ] {
            assert!(Money::parse(bad, usd()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_json_number_is_read_only_when_its_text_is_what_was_sent() {
        let usd = Currency::parse("USD").unwrap();
        let read = |json: &str| Money::from_json(&serde_json::from_str(json).unwrap(), usd);
        assert_eq!(read("10.5").unwrap().to_decimal_string(), "10.50");
        assert_eq!(read("7").unwrap().to_decimal_string(), "7.00");
        for (json, problem) in [
            ("99999999999999999999", "too large"),
            ("1e300", "too large"),
            ("0.0000001", "too many decimal places"),
        ] {
            let refused = read(json).unwrap_err().0;
            assert!(refused.contains(problem), "{json}: {refused}");
            assert!(!refused.contains("e+"), "{json}: {refused}");
        }
    }

    /// An amount in a body parsed with [`keep_number_texts`]: the value at `/a/0/amount`.
    fn read_in_body(number: &str, usd: Currency) -> Result<Money, MoneyError> {
        let text = format!(r#"{{"a": [{{"amount": {number}, "n": 1.5}}], "b": 2}}"#);
        let mut body: Value = serde_json::from_str(&text).unwrap();
        keep_number_texts(&text, &mut body);
        assert_eq!((&body["a"][0]["n"], &body["b"]), (&json!(1.5), &json!(2)));
        Money::from_json(&body["a"][0]["amount"], usd)
    }

    #[test]
    fn a_number_text_gets_the_answer_its_string_gets() {
        let usd = usd();
        for text in [
            "1.0000000000000001",
            "0.0099999999999999999",
            "1e2",
            "-5",
            "-0",
            "99999999999999999999",
            "100.10",
            "7",
            "0.1",
            "123456.78",
            "-1.50",
            "1.0010",
            "1.0000",
        ] {
            let as_number = read_in_body(text, usd);
            let as_string = read_in_body(&format!("\"{text}\""), usd);
            assert_eq!(as_number, as_string, "{text}");
            assert_eq!(as_number, Money::parse(text, usd), "{text}");
        }
        assert_eq!(
            read_in_body("1.0000000000000001", usd).unwrap_err().0,
            "amount \"1.0000000000000001\" has 16 decimal places; USD has 2"
        );
        // Refusals quote the number as written (the double prints `-1.5` and `1.001`).
        assert_eq!(
            read_in_body("-1.50", usd).unwrap_err().0,
            "amount \"-1.50\" is negative"
        );
        assert_eq!(
            read_in_body("1.0010", usd).unwrap_err().0,
            "amount \"1.0010\" has 4 decimal places; USD has 2"
        );
        assert_eq!(read_in_body(" 100.10 ", usd).unwrap().minor, 10010);
        for other in ["null", "true", "{}", "[1]"] {
            assert_eq!(
                read_in_body(other, usd).unwrap_err().0,
                "amount must be a decimal string or number"
            );
        }
    }

    #[test]
    fn a_negative_amount_is_named_as_negative() {
        assert_eq!(
            Money::parse("-5", usd()).unwrap_err().0,
            "amount \"-5\" is negative"
        );
        assert_eq!(
            Money::parse("-1.001", usd()).unwrap_err().0,
            "amount \"-1.001\" is negative"
        );
        assert!(Money::parse("-0.00", usd())
            .unwrap_err()
            .0
            .contains("zero written with a minus sign"));
        assert!(Money::parse("--5", usd())
            .unwrap_err()
            .0
            .contains("not a plain decimal number"));
    }

    /// Each refusal names its kind, so that a surface maps kinds to codes without re-reading
    /// the text (Infinia: docs/INFINIA.md).
    #[test]
    fn every_refusal_names_its_kind() {
        use MoneyErrorKind::*;
        let kind = |text: &str| Money::parse(text, usd()).unwrap_err().1;
        for (text, expected) in [
            ("", Format),
            ("1e2", Format),
            ("--5", Format),
            ("-1e2", Format),
            ("1.", Format),
            (".5", Format),
            ("1,000.00", Format),
            ("1.001", TooManyPlaces),
            ("-5", Negative),
            ("-1.001", Negative),
            ("-0.00", Negative),
            ("99999999999999999999", TooLarge),
        ] {
            assert_eq!(kind(text), expected, "{text:?}");
        }
        let from_json = |json: &str| {
            Money::from_json(&serde_json::from_str(json).unwrap(), usd())
                .unwrap_err()
                .1
        };
        assert_eq!(from_json("1e300"), TooLarge);
        assert_eq!(from_json("0.0000001"), TooManyPlaces);
        assert_eq!(from_json("null"), Format);
        assert_eq!(Currency::parse("XXX").unwrap_err().1, UnknownCurrency);
    }

    /// Amounts and codes are read as the characters sent: whitespace around them is refused,
    /// naming it, as Java's `BigDecimal` refuses it.
    #[test]
    fn whitespace_around_an_amount_or_a_code_is_refused() {
        for text in ["\t1.00 \n", " 1", "1 ", "\u{a0}1"] {
            let refused = Money::parse(text, usd()).unwrap_err();
            assert_eq!(refused.1, MoneyErrorKind::Format, "{text:?}");
            assert!(
                refused.0.contains("has whitespace around the number"),
                "{text:?}: {}",
                refused.0
            );
        }
        assert!(Money::parse("1 000", usd())
            .unwrap_err()
            .0
            .contains("not a plain decimal"));
        let refused = Currency::parse(" USD ").unwrap_err();
        assert_eq!(
            refused.0,
            "currency \" USD \" has whitespace around the code; send \"USD\""
        );
        assert_eq!(refused.1, MoneyErrorKind::UnknownCurrency);
        assert!(Currency::parse("USD\n").is_err());
        assert!(Currency::parse(" XYZ")
            .unwrap_err()
            .0
            .ends_with("is unknown (ISO 4217 code expected)"));
        // A known code in lower or mixed case is named as such (it was an "unknown currency").
        for (code, expected) in [("usd", "\"usd\""), ("Eur", "\"Eur\"")] {
            let refused = Currency::parse(code).unwrap_err();
            assert!(
                refused
                    .0
                    .starts_with(&format!("currency {expected} is not upper case")),
                "{}",
                refused.0
            );
            assert_eq!(refused.1, MoneyErrorKind::UnknownCurrency);
        }
        assert!(Currency::parse("xyz")
            .unwrap_err()
            .0
            .ends_with("is unknown (ISO 4217 code expected)"));
    }

    #[test]
    fn the_largest_amount_is_named_when_refused() {
        assert_eq!(
            Money::parse("10000000000000", usd()).unwrap().minor,
            MAX_MINOR
        );
        assert_eq!(
            Money::parse("10000000000000.01", usd()).unwrap_err().0,
            "amount \"10000000000000.01\" is too large; the largest is 10000000000000.00 USD (10^15 minor units)"
        );
    }

    /// Every amount up to [`MAX_MINOR`] shows in `amount` exactly what `cent` holds.
    #[test]
    fn the_whalet_amount_is_exact_up_to_the_largest_amount() {
        for code in ["USD", "KWD", "JPY"] {
            let c = Currency::parse(code).unwrap();
            for minor in [
                MAX_MINOR,
                MAX_MINOR - 1,
                999_999_999_999_987,
                123_456_789_012_345,
            ] {
                let m = Money::new(minor, c);
                let shown = m.to_whalet()["amount"].to_string();
                let back = Money::parse(&shown, c).unwrap();
                assert_eq!(back, m, "{code} {minor}: amount {shown}");
            }
        }
    }

    #[test]
    fn whalet_money_object_matches_the_vendor_example() {
        let m = Money::parse("2477.92", usd()).unwrap();
        assert_eq!(
            m.to_whalet(),
            json!({"amount": 2477.92, "cent": 247792, "centFactor": 100, "currency": "USD"})
        );
        let m = Money::parse("29870", usd()).unwrap();
        assert_eq!(
            m.to_whalet(),
            json!({"amount": 29870, "cent": 2987000, "centFactor": 100, "currency": "USD"})
        );
        let jpy = Money::new(1500, Currency::parse("JPY").unwrap());
        assert_eq!(jpy.to_whalet()["centFactor"], 1);
        assert_eq!(Money::new(5, usd()).to_decimal_string(), "0.05");
    }

    /// Regression: only 38 currencies were known, so real ISO 4217 codes (`OMR`, `CLP`, `KES`,
    /// …) were refused as unknown. Every active one is known with its ISO minor unit: these are
    /// ISO 4217 list one's, written here from it rather than from the table; a code of the
    /// right shape that names no currency money is held in is still refused by name.
    #[test]
    fn every_active_iso_currency_is_known_with_its_iso_minor_unit() {
        let iso = [
            ("OMR", 3),
            ("JOD", 3),
            ("TND", 3),
            ("IQD", 3),
            ("LYD", 3),
            ("CLP", 0),
            ("ISK", 0),
            ("UGX", 0),
            ("XAF", 0),
            ("XOF", 0),
            ("PYG", 0),
            ("EGP", 2),
            ("NGN", 2),
            ("KES", 2),
            ("COP", 2),
            ("ARS", 2),
            ("QAR", 2),
            ("MGA", 2),
            ("XCG", 2),
            ("ZWG", 2),
        ];
        for (code, exponent) in iso {
            let known = Currency::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(known.exponent(), exponent, "{code}");
            assert_eq!(known.code(), code);
        }
        for unknown in [
            "XXX", "ZZZ", "XTS", "XAU", "XDR", "CLF", "UYW", "HRK", "ZWL",
        ] {
            let refused = Currency::parse(unknown).unwrap_err();
            assert_eq!(refused.1, MoneyErrorKind::UnknownCurrency, "{unknown}");
            assert_eq!(
                refused.0,
                format!("currency \"{unknown}\" is unknown (ISO 4217 code expected)")
            );
        }
        let codes: Vec<&str> = Currency::all().map(|(code, _)| code).collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted, once each");
        assert!(codes.len() >= 150, "{}", codes.len());
    }
}
