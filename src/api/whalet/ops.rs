//! The operation groups of the Whalet surface, listed once. Each group is a module of
//! `api::whalet` (a directory beside this file) with its own `OPERATIONS`, `NOTIFICATIONS` and
//! `TRIGGERS` tables; the dispatch table in `mod.rs` is built from these lists.
//! docs/FIDELITY.md lists every apiCode.
//!
//! Part 1 (collections): onboarding, card holders, collection accounts and shops, collections,
//! wallets. Part 2 (trade orders, FX, payouts, pay, queries, EDD) adds its groups after the
//! `part 2` marker in each list.

use super::Operation;
use super::{accounts, collections, fx, holders, onboarding, payout, replenish, trade, wallet};
use crate::core::Trigger;

/// Operation tables, one per group.
pub const OPERATIONS: &[&[Operation]] = &[
    onboarding::OPERATIONS,
    holders::OPERATIONS,
    accounts::OPERATIONS,
    collections::OPERATIONS,
    wallet::OPERATIONS,
    // part 2: trade orders, FX, payouts, pay, queries, EDD
    fx::OPERATIONS,
    payout::OPERATIONS,
    trade::OPERATIONS,
    replenish::OPERATIONS,
];

/// The groups' names, in the order of [`OPERATIONS`] (coverage reports group by them).
pub const GROUP_NAMES: &[&str] = &[
    "onboarding",
    "holders",
    "accounts",
    "collections",
    "wallet",
    "fx",
    "payout",
    "trade",
    "replenish",
];

/// The groups' names, in the order of [`NOTIFICATIONS`] and [`TRIGGERS`].
pub const EVENT_GROUP_NAMES: &[&str] = &[
    "onboarding",
    "holders",
    "accounts",
    "collections",
    "payout",
    "trade",
    "replenish",
];

/// Canonical apiCodes of notifications, one list per group.
pub const NOTIFICATIONS: &[&[&str]] = &[
    onboarding::NOTIFICATIONS,
    holders::NOTIFICATIONS,
    accounts::NOTIFICATIONS,
    collections::NOTIFICATIONS,
    // part 2
    payout::NOTIFICATIONS,
    trade::NOTIFICATIONS,
    replenish::NOTIFICATIONS,
];

/// Triggers, one list per group.
pub const TRIGGERS: &[&[Trigger]] = &[
    onboarding::TRIGGERS,
    holders::TRIGGERS,
    accounts::TRIGGERS,
    collections::TRIGGERS,
    // part 2
    payout::TRIGGERS,
    trade::TRIGGERS,
    replenish::TRIGGERS,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of what each operation answers by itself names every operation served here
    /// (and the connectivity check), and only those.
    #[test]
    fn every_operation_says_what_it_answers_by_itself() {
        let served: Vec<&str> = super::super::CONNECTIVITY_OPERATIONS
            .iter()
            .chain(OPERATIONS.iter().flat_map(|g| g.iter()))
            .map(|op| op.name)
            .collect();
        for name in &served {
            assert!(crate::answers::whalet(name).is_some(), "{name}");
        }
        for a in crate::answers::WHALET {
            assert!(
                served.contains(&a.name),
                "{} is no Whalet operation",
                a.name
            );
        }
    }

    #[test]
    fn every_api_code_fits_the_head_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        let names = OPERATIONS
            .iter()
            .flat_map(|g| g.iter().map(|op| op.name))
            .chain(NOTIFICATIONS.iter().flat_map(|g| g.iter().copied()));
        for name in names {
            assert!(
                name.len() <= 30,
                "{name} is longer than head.apiCode allows"
            );
            assert!(
                name.chars().next().is_some_and(|c| c.is_ascii_lowercase()),
                "{name}"
            );
            assert!(seen.insert(name), "{name} twice");
        }
        for t in TRIGGERS.iter().flat_map(|g| g.iter()) {
            assert!(t.name.starts_with("whalet."), "{}", t.name);
            assert!(seen.insert(t.name), "{} twice", t.name);
        }
    }
}
