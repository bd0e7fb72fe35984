//! State of the whalet surface (placeholder until its issue lands).

use serde::Serialize;

#[derive(Debug, Default, Serialize)]
pub struct WhaletState {}
