//! Triggers: externally caused events (a collection arrives, a seller approves a binding, a payout
//! is returned) fired on demand through `POST /__sim/trigger/{event}`, `whalet-sim trigger`, the
//! dashboard, or a scenario timeline. Each surface contributes its events in its own module.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::app::App;

pub type TriggerFuture = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;

/// One event that can be triggered.
#[derive(Clone, Serialize)]
pub struct TriggerDef {
    /// `whalet.collection.received`, `pockyt.payout.returned`, ...
    pub name: &'static str,
    pub description: &'static str,
    /// Parameter name → description (`?` suffix on the name = optional).
    pub params: &'static [(&'static str, &'static str)],
    #[serde(skip)]
    pub run: fn(App, Map<String, Value>) -> TriggerFuture,
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
