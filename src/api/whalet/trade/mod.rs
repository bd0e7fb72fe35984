//! Trade orders (订单): B2B trade orders (apply, detail, paged list), binding collections to them
//! (`tradeOrderBindApply` → `tradeOrderBindNotify`), and B2C shop order batches.

mod bind;
mod orders;
mod shop;

use super::common::review;
use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        api_code: "tradeOrderApply",
        handler: orders::apply,
    },
    Operation {
        api_code: "tradeOrderQueryDetail",
        handler: orders::detail,
    },
    Operation {
        api_code: "tradeOrderQueryList",
        handler: orders::list,
    },
    Operation {
        api_code: "tradeOrderBindApply",
        handler: bind::apply,
    },
    Operation {
        api_code: "shopOrderUpload",
        handler: shop::upload,
    },
];

pub const NOTIFICATIONS: &[&str] = &["tradeOrderBindNotify"];

pub const TRIGGERS: &[Trigger] = &[
    review::approval::<bind::BindReview>(),
    review::rejection::<bind::BindReview>(),
];
