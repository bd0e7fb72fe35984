//! Reading business fields. Every parameter of this API is a string (spec §2.0); a missing one is
//! SYS-004, a wrongly typed or shaped one SYS-005, one too long or out of range SYS-006, naming
//! the field.

use serde_json::Value;

use crate::api::describe;
use crate::money::{Currency, Money, MoneyError, MoneyErrorKind};
use crate::text::echo;
use crate::wire::infinia::{json_type, InfiniaError};

/// A required non-empty string of at most `max` characters.
pub fn required<'a>(body: &'a Value, field: &str, max: usize) -> Result<&'a str, InfiniaError> {
    describe::record(field, "string", true, &[]);
    match optional(body, field, max)? {
        Some(s) => Ok(s),
        None => Err(InfiniaError::missing(format!("{field} is required"))),
    }
}

/// Whether `field` is given: absent, null and an empty (or blank) string are not, as
/// [`optional`] reads them. For rules about which fields go together.
pub fn given(body: &Value, field: &str) -> bool {
    body.get(field).is_some_and(|v| !blank(v))
}

/// Null or an empty (or blank) string: a value that stands for none.
fn blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// An optional string (absent, null or empty → None) of at most `max` characters.
pub fn optional<'a>(
    body: &'a Value,
    field: &str,
    max: usize,
) -> Result<Option<&'a str>, InfiniaError> {
    describe::record(field, "string", false, &[]);
    let Some(value) = body.get(field).filter(|v| !blank(v)) else {
        return Ok(None);
    };
    match value {
        Value::String(s) if s.chars().count() > max => Err(InfiniaError::range(format!(
            "{field} is {} characters long; at most {max} are allowed",
            s.chars().count()
        ))),
        Value::String(s) => Ok(Some(s)),
        other => Err(InfiniaError::format(format!(
            "{field} must be a string (every parameter of this API is a string), got {}",
            json_type(other)
        ))),
    }
}

/// What an operation read of a request, shaped as a request body: each field given, with the
/// value read (an amount as the money it is: `1.000` and `1` USD are both `1.00`); a field not
/// given (absent, null or blank, as [`optional`] reads it) is left out, and a field the operation
/// does not read (an unknown one) is never in it. It is what an Infinia record keeps of its
/// request and what the idempotency of a `requestNo` compares (`store::infinia::repeated`):
/// reading a content again gives it unchanged.
pub fn content<'a>(fields: impl IntoIterator<Item = (&'a str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(field, value)| Some((field.to_owned(), value?)))
            .collect(),
    )
}

/// A reply field's value: every field of this API is a string (spec §2.0), so one without a
/// value (no reason, not yet finished) is `""`, never `null`.
pub fn text<S: Into<String>>(value: Option<S>) -> String {
    value.map(Into::into).unwrap_or_default()
}

/// A required ISO 4217 currency code.
pub fn currency(body: &Value, field: &str) -> Result<Currency, InfiniaError> {
    describe::record(field, "currency", true, &[]);
    optional_currency(body, field)?
        .ok_or_else(|| InfiniaError::missing(format!("{field} is required")))
}

/// An optional ISO 4217 currency code (absent, null or empty → None).
pub fn optional_currency(body: &Value, field: &str) -> Result<Option<Currency>, InfiniaError> {
    describe::record(field, "currency", false, &[]);
    // A code with whitespace around it is named as such (a wrong format), not by its length.
    let padded = body
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| s.trim() != *s && s.trim().chars().count() == 3);
    let code = match padded {
        Some(code) => Some(code),
        None => optional(body, field, 3)?,
    };
    code.map(|code| Currency::parse(code).map_err(|e| refused_currency(field, code, e)))
        .transpose()
}

/// The refusal of a currency code `Currency::parse` did not take: three capital letters are a
/// code of the right shape that is not one of the allowed values (SYS-006, as for a country);
/// anything else (`usd`, `U$D`, whitespace around it) is a wrong format (SYS-005).
fn refused_currency(field: &str, code: &str, e: MoneyError) -> InfiniaError {
    let well_formed = code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
    if well_formed {
        InfiniaError::range(format!(
            "{field} {code:?} is not one of the currencies accepted (ISO 4217 codes such as USD, CNH)"
        ))
    } else {
        InfiniaError::format(e.about(field))
    }
}

/// A required positive amount (decimal string) in `currency`. Refused under the documented
/// codes: a text that is not a decimal of the currency's precision is SYS-005; zero, a negative
/// or a too large number (or a text over 32 characters) is SYS-006.
pub fn amount(body: &Value, field: &str, currency: Currency) -> Result<Money, InfiniaError> {
    describe::record(field, "amount", true, &[]);
    let text = required(body, field, 32)?;
    let money = Money::parse(text, currency).map_err(|e| refused_amount(field, text, e))?;
    if !money.is_positive() {
        return Err(InfiniaError::range(format!(
            "{field} must be greater than zero"
        )));
    }
    Ok(money)
}

/// The refusal of an amount `Money::parse` did not take, under the code of its kind: a wrong
/// format or too many decimal places is SYS-005, a value out of range SYS-006. A signed decimal
/// gets its own message: amounts here are positive.
fn refused_amount(field: &str, text: &str, e: MoneyError) -> InfiniaError {
    match e.1 {
        MoneyErrorKind::Negative => InfiniaError::range(format!(
            "{field} {} has a minus sign; it must be greater than zero",
            echo(text)
        )),
        MoneyErrorKind::TooLarge => InfiniaError::range(e.about(field)),
        MoneyErrorKind::Format
        | MoneyErrorKind::TooManyPlaces
        | MoneyErrorKind::UnknownCurrency => InfiniaError::format(e.about(field)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::wire::infinia::Code;

    fn amount_code(text: &str) -> Result<i64, (Code, String)> {
        let usd = Currency::parse("USD").unwrap();
        amount(&json!({ "amount": text }), "amount", usd)
            .map(|m| m.minor)
            .map_err(|e| (e.code, e.message))
    }

    /// A wrong format is SYS-005; a number out of range SYS-006 (docs/INFINIA.md), a negative
    /// one whatever else is wrong with it, as its message says.
    #[test]
    fn amounts_are_refused_under_the_documented_codes() {
        assert_eq!(amount_code("100.50"), Ok(10_050));
        // Zeros past the currency's places are no extra precision: the rule of every surface
        // (`Money::parse`, docs/FIDELITY.md "request amounts").
        assert_eq!(amount_code("1.000"), Ok(100));
        for format in [
            "1e2", "1.001", "ten", "1.", ".5", "1,000.00", "-1e2", "--1", "1.5e0",
        ] {
            let (code, message) = amount_code(format).unwrap_err();
            assert_eq!(code, Code::InvalidFormat, "{format}: {message}");
        }
        for range in [
            &"9".repeat(30),
            "-1.00",
            "-5",
            "-1.001",
            "-1.",
            "-0",
            "0",
            "0.00",
            &"9".repeat(33),
        ] {
            let (code, message) = amount_code(range).unwrap_err();
            assert_eq!(code, Code::OutOfRange, "{range}: {message}");
        }
        let (_, message) = amount_code("-1.00").unwrap_err();
        assert_eq!(
            message,
            "amount \"-1.00\" has a minus sign; it must be greater than zero"
        );
    }

    /// Regression: whitespace around a code was refused by its length ("currency is 4
    /// characters long", SYS-006); it is a wrong format, named as such (SYS-005), as on the other
    /// surfaces. A code too long without it is still refused by its length.
    #[test]
    fn whitespace_around_a_currency_is_a_wrong_format() {
        let read = |code: &str| {
            optional_currency(&json!({ "currency": code }), "currency")
                .map(|c| c.map(|c| c.code().to_owned()))
                .map_err(|e| (e.code, e.message))
        };
        for padded in [" USD", "USD ", "\tUSD\n"] {
            let (code, message) = read(padded).unwrap_err();
            assert_eq!(code, Code::InvalidFormat, "{padded:?}: {message}");
            assert!(
                message.contains("has whitespace around the code"),
                "{message}"
            );
        }
        assert_eq!(read("USD"), Ok(Some("USD".to_owned())));
        assert_eq!(read("USDX").unwrap_err().0, Code::OutOfRange);
    }

    /// Regression: a malformed code was refused as `currency: currency "usd" is not upper
    /// case`, the field named twice; it is named once, as on the other surfaces.
    #[test]
    fn a_malformed_currency_names_its_field_once() {
        for code in ["usd", "U1D", " USD"] {
            let refusal = optional_currency(&json!({ "currency": code }), "currency").unwrap_err();
            assert_eq!(refusal.code, Code::InvalidFormat, "{code:?}");
            assert!(
                refusal.message.starts_with("currency \"")
                    && !refusal.message.contains("currency: "),
                "{code:?}: {}",
                refusal.message
            );
        }
    }

    /// A field not given is left out of the content, whatever stood for none.
    #[test]
    fn content_keeps_only_the_fields_given() {
        let read = content([
            ("requestNo", Some(json!("R1"))),
            ("note", None),
            ("amount", Some(json!("1.00"))),
        ]);
        assert_eq!(read, json!({"requestNo": "R1", "amount": "1.00"}));
    }

    #[test]
    fn a_reply_field_without_a_value_is_an_empty_string() {
        assert_eq!(text(None::<&str>), "");
        assert_eq!(text(Some("FROZEN")), "FROZEN");
    }
}
