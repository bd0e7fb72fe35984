//! Collections (收款): money arriving on collection accounts (`mockPayeeNotify` and the
//! `whalet.collection.*` triggers), `collectionReceivedNotify`, and `collectionQuery`.

mod arrival;
mod events;
mod query;

pub(crate) use arrival::settle;

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
            ("partnerId?", "default: the demo partner"),
        ],
        run: events::received,
    },
    Trigger {
        name: "whalet.collection.settled",
        description: "A pending collection settles into the available balance now (collectionReceivedNotify SUCCESS)",
        params: &[
            ("tradeId", "the pending collection"),
            ("partnerId?", "default: the demo partner"),
        ],
        run: events::decided::<true>,
    },
    Trigger {
        name: "whalet.collection.returned",
        description: "A pending collection is returned to the payer (collectionReceivedNotify FAILURE); the pending balance goes back to the bank",
        params: &[
            ("tradeId", "the pending collection"),
            ("reason?", "why it was returned"),
            ("partnerId?", "default: the demo partner"),
        ],
        run: events::decided::<false>,
    },
];
