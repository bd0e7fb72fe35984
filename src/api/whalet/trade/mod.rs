//! Trade orders (订单): B2B trade orders (apply, detail, paged list), binding collections to them
//! (`tradeOrderBindApply` → `tradeOrderBindNotify`), and B2C shop order batches.

mod bind;
mod orders;
mod shop;

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

const BIND_PARAMS: &[(&str, &str)] = &[
    (
        "bindId",
        "the binding under review (from tradeOrderBindApply)",
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
        name: "whalet.trade_bind.approved",
        description: "Approves a collection-to-orders binding under review now (tradeOrderBindNotify)",
        params: BIND_PARAMS,
        run: bind::approved,
    },
    Trigger {
        name: "whalet.trade_bind.rejected",
        description: "Rejects a collection-to-orders binding now; what it claimed is free again (tradeOrderBindNotify)",
        params: BIND_PARAMS,
        run: bind::rejected,
    },
];
