//! Business-id idempotency: the same id with the same content returns the original result; the
//! same id with different content is a conflict (Whalet's IDEMPOTENT_ERROR, Pockyt's duplicate).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdempotencyTable {
    entries: BTreeMap<String, (Value, Value)>,
}

/// What a repeated business id means.
#[derive(Debug, Clone, PartialEq)]
pub enum Replay {
    /// Never seen: execute.
    New,
    /// Seen with equal content: answer with the recorded result.
    Same(Value),
    /// Seen with different content.
    Conflict,
}

impl IdempotencyTable {
    fn key(operation: &str, id: &str) -> String {
        format!("{operation}\u{1f}{id}")
    }

    pub fn check(&self, operation: &str, id: &str, content: &Value) -> Replay {
        match self.entries.get(&Self::key(operation, id)) {
            None => Replay::New,
            Some((seen, result)) if seen == content => Replay::Same(result.clone()),
            Some(_) => Replay::Conflict,
        }
    }

    pub fn record(&mut self, operation: &str, id: &str, content: Value, result: Value) {
        self.entries
            .insert(Self::key(operation, id), (content, result));
    }
}
