//! (stub)
use super::Operation;
use crate::control::triggers::TriggerDef;
pub const OPERATIONS: &[Operation] = &[];
pub const NOTIFICATIONS: &[&str] = &[];
pub const TRIGGERS: &[TriggerDef] = &[];
