//! Payouts (提现) and Pay (支付): payout beneficiary accounts and their country/field tables,
//! payouts and supplier payments with their confirmations and result notifications, and the
//! withdraw/pay/payment queries. FX quotes are in `fx/`.

mod beneficiary;
mod countries;
pub(crate) mod outflow;
pub(crate) mod query;
mod result;

use super::common::kinds::BeneficiaryReview;
use super::common::review;
use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "beneficiaryCountryQuery",
        handler: beneficiary::country_query,
    },
    Operation {
        name: "beneficiaryFieldsQuery",
        handler: beneficiary::fields_query,
    },
    Operation {
        name: "benificiaryAccountApply",
        handler: beneficiary::apply,
    },
    Operation {
        name: "benificiaryAccountDelete",
        handler: beneficiary::delete,
    },
    Operation {
        name: "benificiaryAccountQuery",
        handler: beneficiary::query,
    },
    Operation {
        name: "payoutApply",
        handler: outflow::payout_apply,
    },
    Operation {
        name: "payoutConfirm",
        handler: outflow::payout_confirm,
    },
    Operation {
        name: "payApply",
        handler: outflow::pay_apply,
    },
    Operation {
        name: "payConfirm",
        handler: outflow::pay_confirm,
    },
    Operation {
        name: "withdrawQuery",
        handler: query::withdraw_query,
    },
    Operation {
        name: "payQuery",
        handler: query::pay_query,
    },
    Operation {
        name: "paymentQuery",
        handler: query::payment_query,
    },
];

pub const NOTIFICATIONS: &[&str] = &[
    "benificiaryAccountNotify",
    "payoutResultNotify",
    "payResultNotify",
];

const PAYOUT_PARAMS: &[(&str, &str)] = &[
    (
        "payoutId",
        "the confirmed (PROCESSING) payout, not one held for an undecided EDD",
    ),
    ("partnerId?", crate::trigger::DEFAULT_PARTNER),
    ("reason?", "why it failed"),
    (
        "status?",
        "status word to report instead of SUCCESS / FAILURE",
    ),
];
const PAY_PARAMS: &[(&str, &str)] = &[
    (
        "payId",
        "the confirmed (PROCESSING) supplier payment, not one held for an undecided EDD",
    ),
    ("partnerId?", crate::trigger::DEFAULT_PARTNER),
    ("reason?", "why it failed"),
    (
        "status?",
        "status word to report instead of SUCCESS / FAILURE",
    ),
];

pub const TRIGGERS: &[Trigger] = &[
    review::approval::<BeneficiaryReview>(),
    review::rejection::<BeneficiaryReview>(),
    Trigger {
        name: "whalet.payout.succeeded",
        description: "A confirmed payout leaves now (frozen → external:payout, payoutResultNotify SUCCESS)",
        params: PAYOUT_PARAMS,
        run: result::payout_succeeded,
    },
    Trigger {
        name: "whalet.payout.failed",
        description: "A confirmed payout fails now; the money returns to the available balance (payoutResultNotify FAILURE)",
        params: PAYOUT_PARAMS,
        run: result::payout_failed,
    },
    Trigger {
        name: "whalet.pay.succeeded",
        description: "A confirmed supplier payment leaves now (payResultNotify SUCCESS)",
        params: PAY_PARAMS,
        run: result::pay_succeeded,
    },
    Trigger {
        name: "whalet.pay.failed",
        description: "A confirmed supplier payment fails now; the money returns (payResultNotify FAILURE)",
        params: PAY_PARAMS,
        run: result::pay_failed,
    },
];
