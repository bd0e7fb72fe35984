//! State of the whalet_trade surface (placeholder until its issue lands).

use serde::Serialize;

#[derive(Debug, Default, Serialize)]
pub struct WhaletTradeState {}
