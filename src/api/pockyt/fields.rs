//! Reading and validating request fields, each refusal with the documented `ret_code` and a
//! message naming the field: missing → `000020`, malformed → `000023`.

use serde_json::{Map, Value};

use crate::api::describe;
use crate::clock::format;
use crate::clock::Millis;
use crate::country::{self, Fault, Form};
use crate::money::{Currency, Money, MoneyError, MoneyErrorKind};
pub use crate::store::pockyt::{not_a_payout_currency, PAYOUT_CURRENCIES};
use crate::text::{echo, message};
use crate::wire::pockyt::PockytError;
use crate::wire::whalet::json_type;

pub type Fields = Map<String, Value>;

/// Collects the problems of one request so that the reply lists them all at once, as the Whalet
/// surface does: its `ret_code` is the first problem's (the one a partner fixing them in order
/// meets first), its message every problem, joined by "; ".
#[derive(Debug, Default)]
pub struct Problems {
    found: Vec<PockytError>,
}

impl Problems {
    /// The value, or None with the problem noted.
    pub fn take<T>(&mut self, read: Result<T, PockytError>) -> Option<T> {
        match read {
            Ok(v) => Some(v),
            Err(e) => {
                self.found.push(e);
                None
            }
        }
    }

    pub fn push(&mut self, problem: PockytError) {
        self.found.push(problem);
    }

    /// Ok when nothing was found; otherwise one refusal naming every problem. In describe mode
    /// (`crate::api::describe`) the operation ends here: nothing past validation runs.
    pub fn finish(self) -> Result<(), PockytError> {
        if describe::active() {
            return Err(PockytError::value("described".to_owned()));
        }
        let mut found = self.found.into_iter();
        let Some(first) = found.next() else {
            return Ok(());
        };
        let mut msg = first.msg;
        for other in found {
            msg.push_str("; ");
            msg.push_str(&other.msg);
        }
        Err(PockytError::new(first.code, msg))
    }
}

/// A value read through [`Problems`] once `finish` passed: always there; its absence would be
/// a bug of the handler (an internal error, never a panic).
pub fn checked<T>(value: Option<T>) -> Result<T, PockytError> {
    value.ok_or_else(|| PockytError::internal("a checked field went missing"))
}

/// A required non-blank string (numbers are accepted as their text: a request's numbers reach
/// the operation as the characters the client sent, see `numbers_as_sent` in `mod.rs`).
pub fn required(f: &Fields, name: &str) -> Result<String, PockytError> {
    describe::record(name, "string", true, &[]);
    must(f, name)
}

/// [`required`] without noting the field (for the readers below, which note their own kind).
fn must(f: &Fields, name: &str) -> Result<String, PockytError> {
    match may(f, name)? {
        Some(v) => Ok(v),
        None => Err(PockytError::null(format!("{name} is required"))),
    }
}

/// An optional string: absent, null or blank → None.
pub fn optional(f: &Fields, name: &str) -> Result<Option<String>, PockytError> {
    describe::record(name, "string", false, &[]);
    may(f, name)
}

/// A field of `kind` (noted for describe mode, with the values `allowed` if it is an enum),
/// read as [`required`] when `required_field`, else as [`optional`]: for the readers below.
fn read(
    f: &Fields,
    name: &str,
    kind: &'static str,
    required_field: bool,
    allowed: &[&str],
) -> Result<Option<String>, PockytError> {
    describe::record(name, kind, required_field, allowed);
    if required_field {
        must(f, name).map(Some)
    } else {
        may(f, name)
    }
}

/// [`optional`] without noting the field.
fn may(f: &Fields, name: &str) -> Result<Option<String>, PockytError> {
    match f.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(PockytError::value(format!(
            "{name} must be a string, got {}",
            json_type(other)
        ))),
    }
}

/// An optional field that must be one of `allowed` (exact spelling).
pub fn one_of(
    f: &Fields,
    name: &str,
    allowed: &[&str],
    required_field: bool,
) -> Result<Option<String>, PockytError> {
    match read(f, name, "enum", required_field, allowed)? {
        Some(v) if !allowed.contains(&v.as_str()) => Err(PockytError::value(format!(
            "{name} must be one of {}, got {}",
            allowed.join(", "),
            echo(&v)
        ))),
        v => Ok(v),
    }
}

/// `timestamp`: required, `yyyy-MM-ddTHH:mm:ssZ` (UTC). A value of that form that names no
/// real instant (`2025-02-29T00:00:00Z`, hour 24) is told so, not sent back to the format.
pub fn timestamp(f: &Fields, required_field: bool) -> Result<Option<Millis>, PockytError> {
    let Some(text) = read(f, "timestamp", "timestamp", required_field, &[])? else {
        return Ok(None);
    };
    if !utc_z_shaped(&text) {
        return Err(PockytError::value(format!(
            "timestamp must be UTC in the form yyyy-MM-ddTHH:mm:ssZ (e.g. 2022-10-31T12:04:05Z), got {}",
            echo(&text)
        )));
    }
    match format::parse_utc_z(&text) {
        Some(ms) => Ok(Some(ms)),
        None => Err(PockytError::value(format!(
            "timestamp {} has the form yyyy-MM-ddTHH:mm:ssZ but is no calendar date and time (its month has no such day, there is no such month, or the hour, minute or second is out of range)",
            echo(&text)
        ))),
    }
}

/// `text` has the characters of `yyyy-MM-ddTHH:mm:ssZ`: digits with `-`, `T`, `:` and `Z` in
/// their places (whether the numbers make a real date and time is read afterwards).
fn utc_z_shaped(text: &str) -> bool {
    text.len() == 20
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        })
}

/// An officially assigned ISO 3166-1 alpha-2 code.
pub fn country(
    f: &Fields,
    name: &str,
    required_field: bool,
) -> Result<Option<String>, PockytError> {
    let value = read(f, name, "country", required_field, &[])?;
    let Some(v) = &value else {
        return Ok(value);
    };
    match country::check(v, Form::Alpha2) {
        Ok(()) => Ok(value),
        Err(Fault::Shape) => Err(PockytError::value(format!(
            "{name} must be an ISO 3166 two-letter country code such as US or CN, got {}",
            echo(v)
        ))),
        Err(Fault::Unassigned) => Err(PockytError::value(country::not_assigned(name, v, "US"))),
    }
}

/// A plausible e-mail address, in printable ASCII only: a space, a control character, an
/// invisible one (U+200B) or any other non-ASCII character is refused naming its code point, so
/// that no two addresses that look the same both pass the uniqueness check (which ignores only
/// ASCII case). Internationalized addresses (RFC 6531) are not taken.
pub fn email(f: &Fields, name: &str, required_field: bool) -> Result<Option<String>, PockytError> {
    let value = read(f, name, "email", required_field, &[])?;
    if let Some(v) = &value {
        if let Some((at, c)) = v.chars().enumerate().find(|(_, c)| !c.is_ascii_graphic()) {
            return Err(PockytError::value(format!(
                "{name} {} has U+{:04X} at position {at} (counted in characters from 0); an e-mail address is printable ASCII (no spaces, control, invisible or non-ASCII characters)",
                echo(v),
                u32::from(c),
            )));
        }
        let ok = v.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
        if !ok {
            return Err(PockytError::value(format!(
                "{name} is not an e-mail address: {}",
                echo(v)
            )));
        }
    }
    Ok(value)
}

/// A currency code known to the simulator.
pub fn currency(f: &Fields, name: &str) -> Result<Currency, PockytError> {
    describe::record(name, "currency", true, &[]);
    let code = must(f, name)?;
    Currency::parse(&code).map_err(|e| currency_refused(name, e))
}

/// A [`PAYOUT_CURRENCIES`] code: pay's `currency`, and the balance query's, refused alike
/// (`000023` naming the list). A code the list would hold but for its case or the white space
/// around it (`"usd"`, `" USD "`) is refused with the currency parser's words, which say so, as
/// every surface's currency is ([`currency`]).
pub fn payout_currency(
    f: &Fields,
    name: &str,
    required_field: bool,
) -> Result<Option<Currency>, PockytError> {
    let code = match one_of(f, name, PAYOUT_CURRENCIES, required_field) {
        Ok(Some(code)) => code,
        Ok(None) => return Ok(None),
        Err(refused) => {
            let near = may(f, name)?
                .filter(|v| PAYOUT_CURRENCIES.contains(&v.trim().to_ascii_uppercase().as_str()));
            return Err(match near.map(|v| Currency::parse(&v)) {
                Some(Err(e)) => currency_refused(name, e),
                _ => refused,
            });
        }
    };
    Currency::parse(&code)
        .map(Some)
        .map_err(|e| currency_refused(name, e))
}

/// A currency code refused as `name`: the code's own words (`currency "usd" is not upper case…`)
/// say which field when it is `currency`, and are prefixed by the name of any other.
fn currency_refused(name: &str, e: MoneyError) -> PockytError {
    let words = message(e);
    if name == "currency" && words.starts_with("currency ") {
        PockytError::value(words)
    } else {
        PockytError::value(format!("{name}: {words}"))
    }
}

/// A positive decimal amount in `currency`. When the currency is not known (itself refused),
/// what can be checked without it still is (format, sign, zero), so that a request with several
/// problems hears of them all at once; its decimal places and the largest amount wait for one.
pub fn amount(
    f: &Fields,
    name: &str,
    currency: Option<Currency>,
) -> Result<Option<Money>, PockytError> {
    describe::record(name, "amount", true, &[]);
    let text = must(f, name)?;
    let Some(currency) = currency else {
        return amount_without_currency(name, &text).map(|()| None);
    };
    let money = Money::parse(&text, currency).map_err(|e| amount_refused(name, e))?;
    positive(name, &text, money).map(Some)
}

/// [`amount`]'s checks that hold in every currency: `text` is read against any one, and the
/// refusals that depend on which (decimal places, the largest amount) are left out.
fn amount_without_currency(name: &str, text: &str) -> Result<(), PockytError> {
    let any = Currency::parse("USD").map_err(|e| PockytError::internal(e.0))?;
    match Money::parse(text, any) {
        Ok(money) => positive(name, text, money).map(|_| ()),
        Err(MoneyError(_, MoneyErrorKind::TooManyPlaces | MoneyErrorKind::TooLarge)) => Ok(()),
        Err(e) => Err(amount_refused(name, e)),
    }
}

/// `money`, read from `text`, if it is more than zero.
fn positive(name: &str, text: &str, money: Money) -> Result<Money, PockytError> {
    if money.is_positive() {
        Ok(money)
    } else {
        Err(PockytError::value(format!(
            "{name} must be greater than zero, got {}",
            echo(text)
        )))
    }
}

/// An amount's refusal by the money reader, under the field's name.
fn amount_refused(name: &str, e: MoneyError) -> PockytError {
    PockytError::value(e.about(name))
}

/// `yyyy-MM-dd`; returns (year, month, day).
pub fn date(
    f: &Fields,
    name: &str,
    required_field: bool,
) -> Result<Option<(i32, u8, u8)>, PockytError> {
    let Some(v) = read(f, name, "date", required_field, &[])? else {
        return Ok(None);
    };
    let well_formed = v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !well_formed {
        return Err(PockytError::value(format!(
            "{name} must be a date in the form yyyy-MM-dd (e.g. 1999-01-01), got {}",
            echo(&v)
        )));
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(&v, fmt) {
        Ok(d) => Ok(Some((d.year(), u8::from(d.month()), d.day()))),
        Err(_) => Err(PockytError::value(format!(
            "{name} {} is no calendar date (its month has no such day, or there is no such month)",
            echo(&v)
        ))),
    }
}

/// A URL the simulator will send to (an IPN address): absolute `http://` or `https://` with a
/// host, refused at request time rather than by every delivery attempt failing later.
pub fn web_url(
    f: &Fields,
    name: &str,
    required_field: bool,
) -> Result<Option<String>, PockytError> {
    let url = read(f, name, "string", required_field, &[])?;
    match url
        .as_deref()
        .and_then(|v| crate::http::web_url_refusal(name, v))
    {
        Some(refusal) => Err(PockytError::value(refusal)),
        None => Ok(url),
    }
}

/// `****` + the last four characters.
pub fn mask(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("****{tail}")
}
