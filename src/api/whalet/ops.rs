//! The operation groups of the Whalet surface, each in its own module with its own tables.
//! (Filled by the part 1 and part 2 issues.)

use super::Operation;
use crate::control::triggers::TriggerDef;

/// Operation tables, one per group.
pub const OPERATIONS: &[&[Operation]] = &[];

/// Canonical apiCodes of notifications, one list per group.
pub const NOTIFICATIONS: &[&[&str]] = &[];

/// Triggers, one list per group.
pub const TRIGGERS: &[&[TriggerDef]] = &[];
