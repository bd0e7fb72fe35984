//! How a scenario wants one notification to behave (delay, duplicate, suppress, corrupt, reorder).
//! Plain data shared by the scenario engine that decides it, the store that keeps it with a
//! pending business object, and the outbox that carries it out.

use serde::{Deserialize, Serialize};

/// How a scenario wants a notification to behave.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyBehaviour {
    /// Extra virtual delay before the first attempt.
    pub delay_ms: i64,
    /// Deliver the whole series twice (same requestNo), to test idempotent receivers.
    pub duplicate: bool,
    /// Never send it (recorded as `suppressed`).
    pub suppress: bool,
    /// Send it with a corrupted signature (negative tests of the receiver's verification).
    pub corrupt_signature: bool,
    /// Do not wait for earlier notifications about the same business object.
    pub reorder: bool,
}
