//! Trade orders (订单): B2B trade orders (apply, detail, paged list), binding collections to them
//! (`tradeOrderBindApply` → `tradeOrderBindNotify`), and B2C shop order batches.

mod bind;
mod orders;
mod shop;

pub(super) use bind::release_returned;

use super::common::kinds::BindReview;
use super::common::review;
use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "tradeOrderApply",
        handler: orders::apply,
    },
    Operation {
        name: "tradeOrderQueryDetail",
        handler: orders::detail,
    },
    Operation {
        name: "tradeOrderQueryList",
        handler: orders::list,
    },
    Operation {
        name: "tradeOrderBindApply",
        handler: bind::apply,
    },
    Operation {
        name: "shopOrderUpload",
        handler: shop::upload,
    },
];

pub const NOTIFICATIONS: &[&str] = &["tradeOrderBindNotify"];

pub const TRIGGERS: &[Trigger] = &[
    review::approval::<BindReview>(),
    review::rejection::<BindReview>(),
];
