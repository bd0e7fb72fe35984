//! Requests for more material (补充资料): EDD about a user (`eddReplenishNotify`, `…Query`,
//! `…Submit` → `eddReplenishResultNotify`) and trade material about one collection
//! (`tradeReplenishNotify`, `tradeReplenishSubmit` → `tradeReplenishResultNotify`). The simulator
//! asks through triggers (`whalet.edd.requested`, `whalet.trade_replenish.requested`) or a
//! scenario rule on `payoutConfirm`/`payConfirm` with `values.edd = "Y"` (the payout waits for
//! the EDD). Money frozen for the review is released by approval and returned by rejection.

mod core;
mod events;
mod ops;

pub use self::core::{end_returned, hold_outflow, open_about};

use super::common::kinds::ReplenishReview;
use super::common::review;
use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "eddReplenishQuery",
        handler: ops::edd_query,
    },
    Operation {
        name: "eddReplenishSubmit",
        handler: ops::edd_submit,
    },
    Operation {
        name: "tradeReplenishSubmit",
        handler: ops::trade_submit,
    },
];

pub const NOTIFICATIONS: &[&str] = &[
    "eddReplenishNotify",
    "eddReplenishResultNotify",
    "tradeReplenishNotify",
    "tradeReplenishResultNotify",
];

pub const TRIGGERS: &[Trigger] = &[
    Trigger {
        name: "whalet.edd.requested",
        description: "Whalet asks a user for EDD material (eddReplenishNotify); with amount, that much of the available balance is frozen until the result",
        params: &[
            ("userId", "the user"),
            ("materialTypes?", "comma-separated, default SOURCE_OF_FUNDS,BUSINESS_PROOF"),
            ("message?", "what is asked"),
            ("amount?", "decimal text to freeze from the available balance"),
            ("currency?", "currency of amount (default USD)"),
            ("fundSource?", "B2B, B2C or Acquiring (default B2C)"),
            ("partnerId?", crate::trigger::DEFAULT_PARTNER),
        ],
        run: events::edd_requested,
    },
    Trigger {
        name: "whalet.trade_replenish.requested",
        description: "Whalet asks for trade material about a collection (tradeReplenishNotify); a settled collection's amount is frozen until the result, which releases it (approved) or returns it to the payer (rejected)",
        params: &[
            ("tradeId", "the collection"),
            ("materialTypes?", "comma-separated, default INVOICE,CONTRACT"),
            ("message?", "what is asked"),
            ("partnerId?", crate::trigger::DEFAULT_PARTNER),
        ],
        run: events::trade_requested,
    },
    review::approval::<ReplenishReview>(),
    review::rejection::<ReplenishReview>(),
];
