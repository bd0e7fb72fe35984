//! Collection accounts (开卡, virtual accounts — the vendor calls them cards) for B2B and B2C,
//! and the marketplace shops bound to B2C cards.

mod cards;
mod catalogue;
mod lookups;
mod open;
mod ready;
mod shops;

use super::common::kinds::{CancelReview, OpeningReview, ShopReview};
use super::common::review;
use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "b2bVirtualAccountApply",
        handler: open::apply_b2b,
    },
    Operation {
        name: "b2bChannelBanksQuery",
        handler: lookups::channel_banks,
    },
    Operation {
        name: "b2cVirtualAccountApply",
        handler: open::apply_b2c,
    },
    Operation {
        name: "b2cPlatformQuery",
        handler: lookups::platforms,
    },
    Operation {
        name: "b2cCardHolderQuery",
        handler: lookups::card_holders,
    },
    Operation {
        name: "b2cCardNumberQuery",
        handler: lookups::card_number,
    },
    Operation {
        name: "b2cShopBind",
        handler: shops::bind,
    },
    Operation {
        name: "b2cCardCancel",
        handler: cards::cancel,
    },
    Operation {
        name: "b2cCardDetailQuery",
        handler: cards::detail,
    },
    Operation {
        name: "b2cShopQuery",
        handler: shops::query,
    },
    Operation {
        name: "b2cCardQuery",
        handler: cards::query,
    },
    Operation {
        name: "b2cBankLetterApply",
        handler: cards::bank_letter,
    },
];

pub const NOTIFICATIONS: &[&str] = &[
    "virtualAccountNotify",
    "b2cShopBindResultNotify",
    "b2cCardCancelResultNotify",
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
    review::approval::<OpeningReview>(),
    review::rejection::<OpeningReview>(),
    review::approval::<ShopReview>(),
    review::rejection::<ShopReview>(),
    review::approval::<CancelReview>(),
    review::rejection::<CancelReview>(),
];
