//! State of the platform surface (placeholder until its issue lands).

use serde::Serialize;

#[derive(Debug, Default, Serialize)]
pub struct PlatformState {}
