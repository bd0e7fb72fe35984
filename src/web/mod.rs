//! Pages served to people: the hosted seller authorization page (`/authorize/{token}`) and the
//! dashboard (`/`, `/__sim/ui/`). Server-rendered HTML with a little script, no external assets;
//! pages are files beside their handler, embedded with `include_str!`.

pub mod authorize;
pub mod dashboard;

pub use crate::text::markup as escape;
