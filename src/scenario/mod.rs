//! The scenario engine: handlers ask it what should happen instead of hard-coding outcomes.
//! Loaded scenarios (docs/SCENARIOS.md) hold rules, a timeline of external events, notify-endpoint
//! outages and a seed. [`Scenarios::decide`] finds the first rule that matches an operation
//! (tenant-scoped scenarios first, newest first, rules in file order); with no rule matching,
//! [`Decision::default`] is the happy path and each surface applies its documented delays.
//! This module owns the loaded scenarios and their counters; the file format is in `format.rs`,
//! predicates in `matcher.rs`, timelines and outages in `timeline.rs`, the loaded
//! scenarios and the deciding in `engine.rs`.

mod engine;
pub mod format;
mod json_span;
pub mod load;
mod locate;
pub mod matcher;
pub mod persist;
pub mod pockyt;
pub mod random;
pub mod timeline;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::behaviour::NotifyBehaviour;
use crate::tenant::TenantId;
pub use engine::{missing_tenant, Loading, Scenarios};

/// What is being decided about.
#[derive(Debug, Clone, Copy)]
pub struct OperationCtx<'a> {
    /// `whalet`, `platform`, `infinia`, `pockyt`.
    pub surface: &'static str,
    pub tenant: &'a TenantId,
    /// Canonical apiCode or path.
    pub operation: &'a str,
    /// The decrypted business fields.
    pub fields: &'a Value,
}

/// Overrides the synchronous answer; the operation does not execute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncOutcome {
    /// The scheme's code (`FAILURE`, `TOO_MANY_REQUESTS`, `000040`, `SYS-008`, ...).
    pub code: Option<String>,
    pub detail: Option<String>,
    pub http_status: Option<u16>,
    #[serde(default)]
    pub drop_connection: bool,
}

/// The eventual (asynchronous) result of an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsyncResult {
    /// `success` or `failure` (surfaces map these to their status words).
    pub outcome: Outcome,
    /// The surface-specific status to report, when a scenario wants a particular one.
    pub status: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

/// What a scenario decided for one operation.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    /// The rule that matched, for the journal.
    pub rule: Option<String>,
    pub sync: Option<SyncOutcome>,
    /// Added latency before the answer, wall ms.
    pub latency_ms: u64,
    /// None = the default (success).
    pub result: Option<AsyncResult>,
    /// Virtual delay until the asynchronous result; None = the operation's default.
    pub delay_ms: Option<i64>,
    pub notify: NotifyBehaviour,
    /// Extra values a rule sets for the handler (e.g. `rate` for an FX quote).
    pub values: serde_json::Map<String, Value>,
    /// The scenario the deciding rule belongs to.
    pub scenario: Option<String>,
}

impl Decision {
    pub fn succeeds(&self) -> bool {
        self.result
            .as_ref()
            .is_none_or(|r| r.outcome == Outcome::Success)
    }

    pub fn reason(&self) -> Option<&str> {
        self.result.as_ref().and_then(|r| r.reason.as_deref())
    }

    /// The delay to use: the rule's, else `default_ms`.
    pub fn delay_or(&self, default_ms: i64) -> i64 {
        self.delay_ms.unwrap_or(default_ms)
    }

    /// The duration-valued `values` key `key` (`linkTtl`, `returnAfter`), in ms, read by that
    /// key's reader ([`format::link_ttl`], [`format::return_after`]; another key by the one
    /// duration grammar, [`format::value_duration`]); `None` when the rule does not set it. The
    /// loader refused a value that does not read, so a present one always does.
    pub fn duration_value(&self, key: &str) -> Option<i64> {
        let read: fn(&Value) -> Result<i64, String> = match key {
            "linkTtl" => format::link_ttl,
            "returnAfter" => format::return_after,
            _ => format::value_duration,
        };
        self.value(key, read)
    }

    /// The typed `values` key `key` read by `read`, its reader in [`format::VALUE_KEYS`];
    /// `None` when the rule does not set it, or (never after a load, which refused it) when it
    /// does not read.
    pub fn value<T>(&self, key: &str, read: fn(&Value) -> Result<T, String>) -> Option<T> {
        self.values.get(key).and_then(|v| read(v).ok())
    }
}

#[cfg(test)]
mod tests;
