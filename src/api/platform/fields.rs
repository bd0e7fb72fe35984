//! Field readers shared by the platform operations: each names the field by its full path
//! (`legalEntity.name`, `materials[3].tradeTime`) so a refusal says exactly what was wrong. An
//! operation reads every field and notes each problem ([`Collect`]) instead of stopping at the
//! first: the Open API's [`Check`] collects a request's, so one PARAMETER_ERROR names them all,
//! as on `/api`.

use serde_json::Value;

use crate::api::describe;
use crate::api::whalet::common::fields::{positive_amount, Check};
use crate::country::{self, Fault, Form};
use crate::money::{Currency, Money};
use crate::wire::whalet::{self as envelope, Code, WhaletError};

/// A field that is missing or malformed, said with its full path: a PARAMETER_ERROR on the wire
/// (`?` in an operation), or one line of a batch's list of problems (`?` where messages are
/// collected as text).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct FieldError(pub String);

impl From<FieldError> for WhaletError {
    fn from(e: FieldError) -> Self {
        WhaletError::parameter(e.0)
    }
}

impl From<FieldError> for String {
    fn from(e: FieldError) -> Self {
        e.0
    }
}

impl From<String> for FieldError {
    fn from(text: String) -> Self {
        FieldError(text)
    }
}

impl From<&str> for FieldError {
    fn from(text: &str) -> Self {
        FieldError(text.to_owned())
    }
}

impl std::ops::Deref for FieldError {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// Where a reader's problem goes instead of ending the reading: the Open API's [`Check`] (a
/// request's fields, all named in one PARAMETER_ERROR by [`Check::finish`], which also ends a
/// call in describe mode), or a plain list (one material row's problems, which an upload counts
/// across its rows and an SFTP report gives per row).
pub trait Collect {
    /// Notes one problem.
    fn note(&mut self, problem: String);

    /// The value read, or None with its problem noted: a None always comes with a problem.
    fn take<T, E: Into<String>>(&mut self, read: Result<T, E>) -> Option<T> {
        read.map_err(|e| self.note(e.into())).ok()
    }
}

impl Collect for Check<'_> {
    fn note(&mut self, problem: String) {
        self.problem(problem);
    }
}

impl Collect for Vec<String> {
    fn note(&mut self, problem: String) {
        self.push(problem);
    }
}

/// A value read through [`Collect::take`] once [`Check::finish`] passed: always there, so its
/// absence would be a bug of the handler (INTERNAL_ERROR, never a panic).
pub fn checked<T>(value: Option<T>) -> Result<T, WhaletError> {
    value.ok_or_else(|| WhaletError::new(Code::InternalError, "a checked field went missing"))
}

/// Reads a required non-empty string field (dot path for the message); PARAMETER_ERROR otherwise.
pub fn required<'a>(body: &'a Value, field: &str, path: &str) -> Result<&'a str, FieldError> {
    describe::record(path, "string", true, &[]);
    match body.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(format!("{path} must not be empty").into()),
        None | Some(Value::Null) => Err(format!("{path} is required").into()),
        Some(other) => Err(format!(
            "{path} must be a string, got {}",
            envelope::json_type(other)
        )
        .into()),
    }
}

/// Reads an optional string field (absent, null or empty → None).
pub fn optional<'a>(
    body: &'a Value,
    field: &str,
    path: &str,
) -> Result<Option<&'a str>, FieldError> {
    describe::record(path, "string", false, &[]);
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "{path} must be a string, got {}",
            envelope::json_type(other)
        )
        .into()),
    }
}

/// [`required`], at most `max` characters long.
pub fn required_up_to<'a>(
    body: &'a Value,
    field: &str,
    path: &str,
    max: usize,
) -> Result<&'a str, FieldError> {
    let value = required(body, field, path)?;
    max_len(value, max, path)?;
    Ok(value)
}

/// [`optional`], at most `max` characters long.
pub fn optional_up_to<'a>(
    body: &'a Value,
    field: &str,
    path: &str,
    max: usize,
) -> Result<Option<&'a str>, FieldError> {
    let value = optional(body, field, path)?;
    if let Some(v) = value {
        max_len(v, max, path)?;
    }
    Ok(value)
}

/// Refuses a string longer than `max` characters.
pub fn max_len(value: &str, max: usize, path: &str) -> Result<(), FieldError> {
    let n = value.chars().count();
    if n > max {
        return Err(format!("{path} is {n} characters long; at most {max} are allowed").into());
    }
    Ok(())
}

/// An ISO 4217 currency code (`path: why` when it is not one).
pub fn currency(code: &str, path: &str) -> Result<Currency, FieldError> {
    describe::record(path, "currency", false, &[]);
    Currency::parse(code).map_err(|e| FieldError(e.about(path)))
}

/// A required currency field: [`required`], then [`currency`]. Its kind is recorded before the
/// value is read, so describe mode lists it as a currency even in a body that lacks it (as the
/// Open API's [`Check::currency`] does).
pub fn required_currency(body: &Value, field: &str, path: &str) -> Result<Currency, FieldError> {
    describe::record(path, "currency", true, &[]);
    currency(required(body, field, path)?, path)
}

/// An optional currency field (absent, null or empty → None): [`optional`], then [`currency`].
/// Returns the code as sent beside the currency; its kind is recorded as for
/// [`required_currency`].
pub fn optional_currency<'a>(
    body: &'a Value,
    field: &str,
    path: &str,
) -> Result<Option<(&'a str, Currency)>, FieldError> {
    describe::record(path, "currency", false, &[]);
    optional(body, field, path)?
        .map(|code| Ok((code, currency(code, path)?)))
        .transpose()
}

/// A required positive amount in `currency`, read as every Whalet amount is
/// ([`positive_amount`]; a JSON number as the characters the partner wrote). Its presence is
/// checked even when the currency could not be read (that problem is noted already).
pub fn amount(
    found: &mut impl Collect,
    body: &Value,
    field: &str,
    path: &str,
    currency: Option<Currency>,
) -> Option<Money> {
    describe::record(path, "amount", true, &[]);
    let Some(value) = body.get(field).filter(|v| !v.is_null()) else {
        found.note(format!("{path} is required"));
        return None;
    };
    found.take(positive_amount(path, value, currency?))
}

/// An assigned ISO 3166-1 alpha-2 country code (`example` is one, for the message).
pub fn country_code<'a>(code: &'a str, path: &str, example: &str) -> Result<&'a str, FieldError> {
    describe::record(path, "country", false, &[]);
    match country::check(code, Form::Alpha2) {
        Ok(()) => Ok(code),
        Err(Fault::Shape) => Err(format!(
            "{path} must be an ISO 3166 alpha-2 code like {example}, got {code:?}"
        )
        .into()),
        Err(Fault::Unassigned) => Err(country::not_assigned(path, code, example).into()),
    }
}

/// A required country field: [`required`], then [`country_code`]. Its kind is recorded before
/// the value is read, so describe mode lists it as a country even in a body that lacks it (as
/// the Open API's [`Check::country`] does).
pub fn required_country<'a>(
    body: &'a Value,
    field: &str,
    path: &str,
    example: &str,
) -> Result<&'a str, FieldError> {
    describe::record(path, "country", true, &[]);
    country_code(required(body, field, path)?, path, example)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_field_error_is_a_parameter_error_on_the_wire() {
        let e = WhaletError::from(required(&json!({}), "shopId", "shopId").unwrap_err());
        assert_eq!(e.code.as_str(), "PARAMETER_ERROR");
        assert_eq!(e.detail, "shopId is required");
        let e = currency("XXX", "materials[0].tradeCurrency").unwrap_err();
        assert_eq!(
            e.0,
            "materials[0].tradeCurrency \"XXX\" is unknown (ISO 4217 code expected)"
        );
    }

    #[test]
    fn field_errors_name_the_path() {
        let row = json!({"a": "", "b": 5});
        assert_eq!(
            required(&row, "a", "x[1].a"),
            Err("x[1].a must not be empty".into())
        );
        assert_eq!(
            required(&row, "c", "x[1].c"),
            Err("x[1].c is required".into())
        );
        assert_eq!(optional(&row, "a", "a"), Ok(None));
        assert!(optional(&row, "b", "b")
            .unwrap_err()
            .contains("must be a string"));
        assert!(max_len("abcd", 3, "f").unwrap_err().contains("at most 3"));
    }
}
