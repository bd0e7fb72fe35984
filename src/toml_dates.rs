//! What the TOML library makes of a date or time written without quotes: an object with one
//! private key, which would reach a handler or the wire as that object rather than as text. The
//! scenario loader and the contract overlay loader refuse such values through these functions.

use serde_json::Value;

const TOML_DATETIME: &str = "$__toml_private_datetime";

/// Whether `value` is what the TOML library makes of a date or time.
pub fn is_toml_datetime(value: &Value) -> bool {
    matches!(value, Value::Object(map) if map.len() == 1 && map.contains_key(TOML_DATETIME))
}

/// The text of the first TOML date or time `value` is or holds, if any.
pub fn toml_datetime(value: &Value) -> Option<&str> {
    match value {
        Value::Object(map) => match map.get(TOML_DATETIME) {
            Some(Value::String(text)) if map.len() == 1 => Some(text),
            _ => map.values().find_map(toml_datetime),
        },
        Value::Array(items) => items.iter().find_map(toml_datetime),
        _ => None,
    }
}
