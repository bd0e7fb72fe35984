//! The business surfaces, one module each, one file per operation.

pub mod base_url;
pub mod catalog;
pub mod coverage;
pub mod describe;
pub mod infinia;
pub mod notify_url;
pub mod pipeline;
pub mod platform;
pub mod pockyt;
pub mod roster;
pub mod whalet;
