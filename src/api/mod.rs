//! The business surfaces, one module each, one file per operation.

pub mod pockyt;
pub mod platform;
pub mod infinia;
pub mod whalet;
