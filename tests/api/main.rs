//! The one integration-test binary: black-box tests over real HTTP, as a partner would write
//! them. Each surface has its own module; `helpers` spawns the simulator on port 0 with a manual
//! clock, a partner client and a local notify receiver.

#![allow(clippy::unwrap_used)]

mod browser;
mod helpers;

mod browser_smoke;
mod clock;
mod connectivity;
mod envelope_errors;
mod notifications;
