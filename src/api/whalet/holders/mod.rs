//! Card holders (持有人) and their bank accounts ("beneficaries", the vendor's spelling): apply
//! (reviewed asynchronously, result by notification), query, and triggers that decide a review.

mod beneficary;
mod holder;

use super::common::kinds::{BeneficaryReview, HolderReview};
use super::common::review;
use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "cardHolderApply",
        handler: holder::apply,
    },
    Operation {
        name: "cardHolderQuery",
        handler: holder::query,
    },
    Operation {
        name: "cardHolderBeneficaryApply",
        handler: beneficary::apply,
    },
    Operation {
        name: "cardHolderBeneficaryQuery",
        handler: beneficary::query,
    },
];

pub const NOTIFICATIONS: &[&str] = &["cardHolderResultNotify", "cardHolderBeneficaryNotify"];

pub const TRIGGERS: &[Trigger] = &[
    review::approval::<HolderReview>(),
    review::rejection::<HolderReview>(),
    review::approval::<BeneficaryReview>(),
    review::rejection::<BeneficaryReview>(),
];
