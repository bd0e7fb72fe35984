//! The one integration-test binary: black-box tests over real HTTP, as a partner would write
//! them. Each surface has its own module; `helpers` spawns the simulator on port 0 with a manual
//! clock, a partner client and a local notify receiver.

#![allow(clippy::unwrap_used)]

mod browser;
mod helpers;

mod attack;
mod bench_open_loop;
mod browser_smoke;
mod cli;
mod cli_surfaces;
mod clock;
mod config_keys;
mod connectivity;
mod contracts;
mod control;
mod control_guard;
mod control_input;
mod control_regressions;
mod control_round23;
mod coverage;
mod dashboard;
mod e2e_infinia_browser;
mod e2e_rules;
mod e2e_scenarios;
mod edge_limits;
mod envelope_errors;
mod examples;
mod fidelity_whalet;
mod fuzz_smoke;
mod idempotency_content;
mod independent_client;
mod infinia;
mod journal;
mod journal_bounds;
mod notifications;
mod notify_urls;
mod operations;
mod persistence;
mod persistence_dir;
mod pipeline_panics;
mod pipeline_round25;
mod platform;
mod platform_browser;
mod platform_payments;
mod platform_refusals;
mod platform_sftp;
mod pockyt_payees;
mod pockyt_payouts;
mod pockyt_sign;
mod pockyt_support;
mod profile_split;
mod scenario_loading;
mod scenario_outcomes;
mod scenarios;
mod sim_views;
mod vectors;
mod walkthrough;
mod whalet2_fx;
mod whalet2_payouts;
mod whalet2_replenish;
mod whalet2_support;
mod whalet2_trade;
mod whalet2_upload;
mod whalet_errors;
mod whalet_flows;
mod whalet_measure;
mod whalet_reviews;
mod whalet_round8;
mod whalet_sandbox;
mod whalet_scenarios;
mod whalet_support;
