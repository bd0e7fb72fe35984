//! Payouts (提现) and Pay (支付): payout beneficiary accounts and their country/field tables,
//! payouts and supplier payments with their confirmations and result notifications, and the
//! withdraw/pay/payment queries. FX quotes are in `fx/`.

mod beneficiary;
mod countries;
pub(crate) mod outflow;
pub(crate) mod query;
mod result;

use super::common::review;
use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        api_code: "beneficiaryCountryQuery",
        handler: beneficiary::country_query,
    },
    Operation {
        api_code: "beneficiaryFieldsQuery",
        handler: beneficiary::fields_query,
    },
    Operation {
        api_code: "benificiaryAccountApply",
        handler: beneficiary::apply,
    },
    Operation {
        api_code: "benificiaryAccountDelete",
        handler: beneficiary::delete,
    },
    Operation {
        api_code: "benificiaryAccountQuery",
        handler: beneficiary::query,
    },
    Operation {
        api_code: "payoutApply",
        handler: outflow::payout_apply,
    },
    Operation {
        api_code: "payoutConfirm",
        handler: outflow::payout_confirm,
    },
    Operation {
        api_code: "payApply",
        handler: outflow::pay_apply,
    },
    Operation {
        api_code: "payConfirm",
        handler: outflow::pay_confirm,
    },
    Operation {
        api_code: "withdrawQuery",
        handler: query::withdraw_query,
    },
    Operation {
        api_code: "payQuery",
        handler: query::pay_query,
    },
    Operation {
        api_code: "paymentQuery",
        handler: query::payment_query,
    },
];

pub const NOTIFICATIONS: &[&str] = &[
    "benificiaryAccountNotify",
    "payoutResultNotify",
    "payResultNotify",
];

const PAYOUT_PARAMS: &[(&str, &str)] = &[
    ("payoutId", "the confirmed (PROCESSING) payout"),
    ("partnerId?", "default: the demo partner"),
    ("reason?", "why it failed"),
    (
        "status?",
        "status word to report instead of SUCCESS / FAILURE",
    ),
];
const PAY_PARAMS: &[(&str, &str)] = &[
    ("payId", "the confirmed (PROCESSING) payment"),
    ("partnerId?", "default: the demo partner"),
    ("reason?", "why it failed"),
    (
        "status?",
        "status word to report instead of SUCCESS / FAILURE",
    ),
];

pub const TRIGGERS: &[Trigger] = &[
    review::approval::<beneficiary::BeneficiaryReview>(),
    review::rejection::<beneficiary::BeneficiaryReview>(),
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
