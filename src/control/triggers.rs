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

/// Checks `params` against the trigger's declared parameters: every required one present, no
/// unknown names (a typo would otherwise be ignored silently).
pub fn check_params(def: &TriggerDef, params: &Map<String, Value>) -> Result<(), String> {
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

/// Fires one trigger (from the control plane, the CLI or a scenario timeline) and records it in
/// the request journal as surface `trigger`; `via` says who fired it (e.g. a scenario timeline).
pub async fn fire(
    app: &App,
    name: &str,
    params: Map<String, Value>,
    via: Option<String>,
) -> Result<Value, FireError> {
    let Some(def) = app.triggers().iter().find(|t| t.name == name).cloned() else {
        let names: Vec<&str> = app.triggers().iter().map(|t| t.name).collect();
        return Err(FireError::Unknown(format!(
            "no trigger {name:?}; known: {}",
            names.join(", ")
        )));
    };
    check_params(&def, &params).map_err(FireError::Params)?;
    let started = std::time::Instant::now();
    let virtual_time = app.clock().now();
    let request = Value::Object(params.clone());
    let outcome = (def.run)(app.clone(), params.clone()).await;
    let tenant = opt_param(&params, "tenant").map(str::to_owned);
    let (code, detail, reply, status) = match &outcome {
        Ok(v) => ("OK", String::new(), v.clone(), 200),
        Err(e) => ("FAILED", e.clone(), Value::Null, 422),
    };
    app.journal().record(crate::journal::JournalEntry {
        id: 0,
        surface: "trigger",
        tenant,
        operation: def.name.to_owned(),
        request_no: None,
        virtual_time,
        wall_time: crate::clock::system_now(),
        http_status: status,
        code: code.to_owned(),
        detail,
        request,
        reply,
        rule: via,
        latency_us: started.elapsed().as_micros() as u64,
    });
    outcome.map_err(FireError::Failed)
}
