//! Collections (收款): money arriving on collection accounts (`mockPayeeNotify` and the
//! `whalet.collection.*` triggers), `collectionReceivedNotify`, and `collectionQuery`.

mod arrival;
mod events;
mod query;

use super::common::kinds::CollectionReview;
use super::common::review;
use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "mockPayeeNotify",
        handler: arrival::mock_payee_notify,
    },
    Operation {
        name: "collectionQuery",
        handler: query::handler,
    },
];

pub const NOTIFICATIONS: &[&str] = &["collectionReceivedNotify"];

pub const TRIGGERS: &[Trigger] = &[
    Trigger {
        name: "whalet.collection.received",
        description: "A payment arrives on a collection account (as mockPayeeNotify); it settles after the scenario delay (5 s) and collectionReceivedNotify follows",
        params: &[
            ("amount", "decimal text, e.g. \"100.00\""),
            ("cardId?", "the account to pay (or accountNo); default: the newest ACTIVE account"),
            ("accountNo?", "the account number to pay"),
            ("userId?", "restricts the default account to this user"),
            ("fundSource?", "B2B or B2C: restricts the default account"),
            ("currency?", "default: the account's currency"),
            ("payerName?", "who paid"),
            ("payerAccountNo?", "the payer's account"),
            ("payerCountry?", "ISO 3166 alpha-2"),
            ("shopId?", "a shop bound to the account"),
            ("remark?", "free text"),
            ("partnerId?", crate::trigger::DEFAULT_PARTNER),
        ],
        run: events::received,
    },
    review::approval::<CollectionReview>(),
    review::rejection::<CollectionReview>(),
];
