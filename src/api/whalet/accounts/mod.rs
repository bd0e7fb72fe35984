//! Collection accounts (开卡, virtual accounts — the vendor calls them cards) for B2B and B2C,
//! and the marketplace shops bound to B2C cards.

mod cards;
mod catalogue;
mod lookups;
mod open;
mod ready;
mod shops;

use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        api_code: "b2bVirtualAccountApply",
        handler: open::apply_b2b,
    },
    Operation {
        api_code: "b2bChannelBanksQuery",
        handler: lookups::channel_banks,
    },
    Operation {
        api_code: "b2cVirtualAccountApply",
        handler: open::apply_b2c,
    },
    Operation {
        api_code: "b2cPlatformQuery",
        handler: lookups::platforms,
    },
    Operation {
        api_code: "b2cCardHolderQuery",
        handler: lookups::card_holders,
    },
    Operation {
        api_code: "b2cCardNumberQuery",
        handler: lookups::card_number,
    },
    Operation {
        api_code: "b2cShopBind",
        handler: shops::bind,
    },
    Operation {
        api_code: "b2cCardCancel",
        handler: cards::cancel,
    },
    Operation {
        api_code: "b2cCardDetailQuery",
        handler: cards::detail,
    },
    Operation {
        api_code: "b2cShopQuery",
        handler: shops::query,
    },
    Operation {
        api_code: "b2cCardQuery",
        handler: cards::query,
    },
    Operation {
        api_code: "b2cBankLetterApply",
        handler: cards::bank_letter,
    },
];

pub const NOTIFICATIONS: &[&str] = &[
    "virtualAccountNotify",
    "b2cShopBindResultNotify",
    "b2cCardCancelResultNotify",
];

const CARD: &[(&str, &str)] = &[
    ("cardId", "the card"),
    ("partnerId?", "default: the demo partner"),
    ("message?", "the message to report"),
    (
        "status?",
        "status word to report instead of SUCCESS / FAILURE",
    ),
];

const BINDING: &[(&str, &str)] = &[
    (
        "bindId",
        "the shop binding with a bind or unbind under review",
    ),
    ("partnerId?", "default: the demo partner"),
    ("message?", "the message to report"),
    (
        "status?",
        "status word to report instead of SUCCESS / FAILURE",
    ),
];

pub const TRIGGERS: &[Trigger] = &[
    Trigger {
        name: "whalet.account.ready",
        description: "Creates at once (no notifications) an onboarded user, an approved card holder and an ACTIVE B2C collection account, for demos and tests",
        params: &[
            ("currency?", "default USD"),
            ("platform?", "default AMAZON"),
            ("name?", "the user's and holder's name"),
            ("outUserId?", "the partner's id for the user"),
            ("partnerId?", "default: the demo partner"),
        ],
        run: ready::ready,
    },
    Trigger {
        name: "whalet.account.opened",
        description: "The bank opens a collection account being applied for now (virtualAccountNotify SUCCESS)",
        params: CARD,
        run: open::opened,
    },
    Trigger {
        name: "whalet.account.failed",
        description: "The bank refuses a collection account being applied for (virtualAccountNotify FAILURE)",
        params: CARD,
        run: open::failed,
    },
    Trigger {
        name: "whalet.shop.approved",
        description: "The marketplace confirms a pending shop bind or unbind now (b2cShopBindResultNotify SUCCESS)",
        params: BINDING,
        run: shops::approved,
    },
    Trigger {
        name: "whalet.shop.rejected",
        description: "The marketplace refuses a pending shop bind or unbind (b2cShopBindResultNotify FAILURE)",
        params: BINDING,
        run: shops::rejected,
    },
    Trigger {
        name: "whalet.card.cancelled",
        description: "The bank closes a card being cancelled now (b2cCardCancelResultNotify SUCCESS)",
        params: CARD,
        run: cards::cancelled,
    },
    Trigger {
        name: "whalet.card.cancel_refused",
        description: "The bank refuses a pending card cancellation; the card stays ACTIVE (b2cCardCancelResultNotify FAILURE)",
        params: CARD,
        run: cards::cancel_refused,
    },
];
