//! Trigger definitions: externally caused events (a collection arrives, a seller approves a
//! binding, a payout is returned) fired on demand through `POST /__sim/trigger/{event}`,
//! `whalet-sim trigger`, the dashboard, or a scenario timeline. Each surface declares its events
//! in its own module with [`TriggerDef`]; the core holds the registry and fires them
//! (`Core::fire`). Generic over the context a trigger runs with, so it sits below that context.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use serde_json::{Map, Value};

pub type TriggerFuture = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;

/// One event that can be triggered.
#[derive(Serialize)]
pub struct TriggerDef<C> {
    /// `whalet.collection.received`, `pockyt.payout.returned`, ...
    pub name: &'static str,
    pub description: &'static str,
    /// Parameter name → description (`?` suffix on the name = optional).
    pub params: &'static [(&'static str, &'static str)],
    #[serde(skip)]
    pub run: fn(C, Map<String, Value>) -> TriggerFuture,
}

/// Reads a required string parameter.
pub fn param<'a>(params: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match params.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::Number(_)) => Err(format!("parameter {name} must be a string")),
        _ => Err(format!("parameter {name} is required")),
    }
}

/// Reads an optional string parameter: `None` when it is absent. A present value that is not a
/// non-empty string never gets here ([`check_params`] refuses it), so `None` cannot stand for a
/// value of the wrong type and send the trigger to its default (the demo tenant).
pub fn opt_param<'a>(params: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The parameters that take a whole number, as a JSON number or its decimal text (how many
/// notifications a burst sends); every other parameter is text.
const NUMBER_PARAMS: &[&str] = &["count"];

/// Why the value given for parameter `name` cannot be used, if it cannot: a parameter is a
/// non-empty string (or, for [`NUMBER_PARAMS`], a number). Leaving a parameter out is how to ask
/// for its default; `null`, `""` or a value of another type is refused, not read as "absent".
fn bad_value(name: &str, value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.is_empty() => Some(format!(
            "parameter {name} is empty; give a value, or leave it out for the default"
        )),
        Value::String(_) => None,
        Value::Number(_) if NUMBER_PARAMS.contains(&name) => None,
        other => Some(format!(
            "parameter {name} must be a string, got {}",
            crate::text::bound(&other.to_string(), crate::text::ECHO_BYTES)
        )),
    }
}

/// Checks `params` against the trigger's declared parameters: no unknown names (a typo would
/// otherwise be ignored silently), every value given a non-empty string ([`bad_value`]), every
/// required one present.
pub fn check_params<C>(def: &TriggerDef<C>, params: &Map<String, Value>) -> Result<(), String> {
    let declared: Vec<(&str, bool)> = def
        .params
        .iter()
        .map(|(name, _)| match name.strip_suffix('?') {
            Some(n) => (n, false),
            None => (*name, true),
        })
        .collect();
    for key in params.keys() {
        if !declared.iter().any(|(n, _)| n == key) {
            let names: Vec<&str> = declared.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "{} has no parameter {key:?}; its parameters: {}",
                def.name,
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ));
        }
    }
    if let Some(problem) = params
        .iter()
        .find_map(|(name, value)| bad_value(name, value))
    {
        return Err(format!("{}: {problem}", def.name));
    }
    for (name, required) in &declared {
        if *required && !params.contains_key(*name) {
            return Err(format!("{} needs parameter {name}", def.name));
        }
    }
    Ok(())
}

/// Why a trigger did not fire.
#[derive(Debug, Clone, PartialEq)]
pub enum FireError {
    /// No trigger of that name (the message lists the known ones).
    Unknown(String),
    /// The parameters do not fit the trigger's declaration.
    Params(String),
    /// The trigger ran and refused (its message).
    Failed(String),
}

impl FireError {
    pub fn message(&self) -> &str {
        match self {
            FireError::Unknown(m) | FireError::Params(m) | FireError::Failed(m) => m,
        }
    }

    /// The control plane's HTTP status for it.
    pub fn status(&self) -> u16 {
        match self {
            FireError::Unknown(_) => 404,
            FireError::Params(_) => 400,
            FireError::Failed(_) => 422,
        }
    }
}

impl<C> Clone for TriggerDef<C> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            description: self.description,
            params: self.params,
            run: self.run,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run((): (), _: Map<String, Value>) -> TriggerFuture {
        Box::pin(async { Ok(Value::Null) })
    }

    const DEF: TriggerDef<()> = TriggerDef {
        name: "x.funded",
        description: "",
        params: &[("amount", ""), ("merchantNo?", ""), ("count?", "")],
        run,
    };

    fn check(params: Value) -> Result<(), String> {
        let Value::Object(params) = params else {
            panic!("an object");
        };
        check_params(&DEF, &params)
    }

    #[test]
    fn an_absent_optional_parameter_is_the_default_and_a_given_one_must_be_text() {
        assert_eq!(check(json!({"amount": "1.00"})), Ok(()));
        assert_eq!(
            check(json!({"amount": "1.00", "merchantNo": "999"})),
            Ok(())
        );
        for (bad, got) in [
            (json!(999), "999"),
            (json!(null), "null"),
            (json!(true), "true"),
            (json!({"a": 1}), "{\"a\":1}"),
        ] {
            assert_eq!(
                check(json!({"amount": "1.00", "merchantNo": bad})),
                Err(format!(
                    "x.funded: parameter merchantNo must be a string, got {got}"
                ))
            );
        }
        assert_eq!(
            check(json!({"amount": "1.00", "merchantNo": ""})),
            Err("x.funded: parameter merchantNo is empty; give a value, or leave it out for the default".to_owned())
        );
    }

    #[test]
    fn a_required_parameter_must_be_given_as_text() {
        assert_eq!(
            check(json!({})),
            Err("x.funded needs parameter amount".to_owned())
        );
        assert_eq!(
            check(json!({"amount": 1})),
            Err("x.funded: parameter amount must be a string, got 1".to_owned())
        );
        assert_eq!(
            check(json!({"amount": null})),
            Err("x.funded: parameter amount must be a string, got null".to_owned())
        );
    }

    #[test]
    fn a_count_may_be_a_number() {
        assert_eq!(check(json!({"amount": "1", "count": 3})), Ok(()));
        assert_eq!(check(json!({"amount": "1", "count": "3"})), Ok(()));
        assert!(check(json!({"amount": "1", "count": null})).is_err());
    }

    #[test]
    fn a_long_value_is_echoed_bounded() {
        let long = json!(vec!["x"; 10_000]);
        let Err(e) = check(json!({"amount": long})) else {
            panic!("refused");
        };
        assert!(e.len() < 1_000, "{} bytes", e.len());
    }
}
