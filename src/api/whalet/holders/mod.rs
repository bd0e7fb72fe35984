//! Card holders (持有人) and their bank accounts ("beneficaries", the vendor's spelling): apply
//! (reviewed asynchronously, result by notification), query, and triggers that decide a review.

mod beneficary;
mod holder;

use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        api_code: "cardHolderApply",
        handler: holder::apply,
    },
    Operation {
        api_code: "cardHolderQuery",
        handler: holder::query,
    },
    Operation {
        api_code: "cardHolderBeneficaryApply",
        handler: beneficary::apply,
    },
    Operation {
        api_code: "cardHolderBeneficaryQuery",
        handler: beneficary::query,
    },
];

pub const NOTIFICATIONS: &[&str] = &["cardHolderResultNotify", "cardHolderBeneficaryNotify"];

const HOLDER_PARAMS: &[(&str, &str)] = &[
    ("holderId", "the card holder under review"),
    ("partnerId?", "default: the demo partner"),
    ("message?", "the message to report"),
    (
        "status?",
        "status word to report instead of SUCCESS / FAILURE",
    ),
];

const BENEFICARY_PARAMS: &[(&str, &str)] = &[
    ("beneficaryId", "the holder bank account under review"),
    ("partnerId?", "default: the demo partner"),
    ("message?", "the message to report"),
    (
        "status?",
        "status word to report instead of SUCCESS / FAILURE",
    ),
];

pub const TRIGGERS: &[Trigger] = &[
    Trigger {
        name: "whalet.holder.approved",
        description: "Approves a card holder under review now (cardHolderResultNotify)",
        params: HOLDER_PARAMS,
        run: holder::approved,
    },
    Trigger {
        name: "whalet.holder.rejected",
        description: "Rejects a card holder under review now (cardHolderResultNotify)",
        params: HOLDER_PARAMS,
        run: holder::rejected,
    },
    Trigger {
        name: "whalet.beneficary.approved",
        description:
            "Approves a card holder bank account under review now (cardHolderBeneficaryNotify)",
        params: BENEFICARY_PARAMS,
        run: beneficary::approved,
    },
    Trigger {
        name: "whalet.beneficary.rejected",
        description:
            "Rejects a card holder bank account under review now (cardHolderBeneficaryNotify)",
        params: BENEFICARY_PARAMS,
        run: beneficary::rejected,
    },
];
