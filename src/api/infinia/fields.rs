//! Reading business fields. Every parameter of this API is a string (spec §2.0); a missing one is
//! SYS-004, a wrongly typed or shaped one SYS-005, naming the field.

use serde_json::Value;

use crate::api::describe;
use crate::money::{Currency, Money};
use crate::wire::infinia::{json_type, InfiniaError};

/// A required non-empty string of at most `max` characters.
pub fn required<'a>(body: &'a Value, field: &str, max: usize) -> Result<&'a str, InfiniaError> {
    describe::record(field, "string", true, &[]);
    match optional(body, field, max)? {
        Some(s) => Ok(s),
        None => Err(InfiniaError::missing(format!("{field} is required"))),
    }
}

/// An optional string (absent, null or empty → None) of at most `max` characters.
pub fn optional<'a>(
    body: &'a Value,
    field: &str,
    max: usize,
) -> Result<Option<&'a str>, InfiniaError> {
    describe::record(field, "string", false, &[]);
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max => Err(InfiniaError::range(format!(
            "{field} is {} characters long; at most {max} are allowed",
            s.chars().count()
        ))),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(InfiniaError::format(format!(
            "{field} must be a string (every parameter of this API is a string), got {}",
            json_type(other)
        ))),
    }
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
    optional(body, field, 3)?
        .map(|code| {
            Currency::parse(code).map_err(|e| InfiniaError::format(format!("{field}: {e}")))
        })
        .transpose()
}

/// A required positive amount (decimal string) in `currency`.
pub fn amount(body: &Value, field: &str, currency: Currency) -> Result<Money, InfiniaError> {
    describe::record(field, "amount", true, &[]);
    let text = required(body, field, 32)?;
    let money =
        Money::parse(text, currency).map_err(|e| InfiniaError::format(format!("{field}: {e}")))?;
    if !money.is_positive() {
        return Err(InfiniaError::range(format!(
            "{field} must be greater than zero"
        )));
    }
    Ok(money)
}
