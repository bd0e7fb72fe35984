//! The business surfaces, one module each, one file per operation.

pub mod infinia;
pub mod whalet;
