//! Field readers shared by the platform operations: each names the field by its full path
//! (`legalEntity.name`, `materials[3].tradeTime`) so a refusal says exactly what was wrong.

use serde_json::Value;

use crate::wire::whalet::{self as envelope, WhaletError};

/// Reads a required non-empty string field (dot path for the message); PARAMETER_ERROR otherwise.
pub fn required<'a>(body: &'a Value, field: &str, path: &str) -> Result<&'a str, String> {
    match body.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(format!("{path} must not be empty")),
        None | Some(Value::Null) => Err(format!("{path} is required")),
        Some(other) => Err(format!(
            "{path} must be a string, got {}",
            envelope::json_type(other)
        )),
    }
}

/// Reads an optional string field (absent, null or empty → None).
pub fn optional<'a>(body: &'a Value, field: &str, path: &str) -> Result<Option<&'a str>, String> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "{path} must be a string, got {}",
            envelope::json_type(other)
        )),
    }
}

/// Refuses a string longer than `max` characters.
pub fn max_len(value: &str, max: usize, path: &str) -> Result<(), String> {
    let n = value.chars().count();
    if n > max {
        return Err(format!(
            "{path} is {n} characters long; at most {max} are allowed"
        ));
    }
    Ok(())
}

/// A PARAMETER_ERROR from a field message.
pub fn param(detail: String) -> WhaletError {
    WhaletError::parameter(detail)
}

/// Parses a scenario duration (`"30s"`, `"500ms"`, `"2m"`, `"1h"`, or a number of seconds) to ms.
pub fn duration_ms(value: &Value) -> Option<i64> {
    if let Some(n) = value.as_f64() {
        return (n >= 0.0).then_some((n * 1000.0) as i64);
    }
    let text = value.as_str()?.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().ok()?;
    let factor = match unit {
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    Some((n * factor) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_read_units_and_plain_seconds() {
        assert_eq!(duration_ms(&json!("500ms")), Some(500));
        assert_eq!(duration_ms(&json!("30s")), Some(30_000));
        assert_eq!(duration_ms(&json!("2m")), Some(120_000));
        assert_eq!(duration_ms(&json!("1h")), Some(3_600_000));
        assert_eq!(duration_ms(&json!(90)), Some(90_000));
        assert_eq!(duration_ms(&json!("10 minutes")), None);
        assert_eq!(duration_ms(&json!("m")), None);
        assert_eq!(duration_ms(&json!(-1)), None);
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
