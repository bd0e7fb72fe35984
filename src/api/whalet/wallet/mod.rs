//! (stub)
use super::Operation;
pub const OPERATIONS: &[Operation] = &[];
