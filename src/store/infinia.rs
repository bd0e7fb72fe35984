//! State of the infinia surface (placeholder until its issue lands).

use serde::Serialize;

#[derive(Debug, Default, Serialize)]
pub struct InfiniaState {}
