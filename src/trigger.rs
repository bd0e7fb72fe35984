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

/// Reads an optional string parameter.
pub fn opt_param<'a>(params: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Checks `params` against the trigger's declared parameters: every required one present, no
/// unknown names (a typo would otherwise be ignored silently).
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
    for (name, required) in &declared {
        if *required && params.get(*name).is_none_or(Value::is_null) {
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
