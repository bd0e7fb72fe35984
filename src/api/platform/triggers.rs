//! Events from outside the partner's API calls: the seller deciding without a browser (the API
//! twin of the authorization page) and a bulk payment arriving at Whalet's bank account.
//! `partnerId` defaults to the demo partner, else the only partner (`trigger::acting_tenant`).

use serde_json::{json, Map, Value};

use super::binding::decide_by_bind_id;
use super::fields;
use super::payment::receive_bulk_payment;
use crate::api::whalet::common::trigger_tenant;
use crate::authorize::Decision;
use crate::core::Core;
use crate::core::Trigger;
use crate::money::Money;
use crate::trigger::{opt_param, param, TriggerFuture};

pub const TRIGGERS: &[Trigger] = &[
    Trigger {
        name: "platform.binding.approved",
        description: "The seller approves a pending shop binding, as on the authorization page; sends shopAccountBindNotify SUCCESS",
        params: &[("bindId", "the binding"), ("partnerId?", crate::trigger::DEFAULT_PARTNER)],
        run: decide::<true>,
    },
    Trigger {
        name: "platform.binding.rejected",
        description: "The seller rejects a pending shop binding; sends shopAccountBindNotify FAILURE with the reason",
        params: &[
            ("bindId", "the binding"),
            ("reason?", "default: rejected by the seller"),
            ("partnerId?", crate::trigger::DEFAULT_PARTNER),
        ],
        run: decide::<false>,
    },
    Trigger {
        name: "platform.bulk_payment.received",
        description: "The partner's bulk payment arrives at Whalet's bank account: credits the partner balance, sends bulkPaymentsReceivedNotify",
        params: &[
            ("amount", "decimal text, e.g. 1000.00"),
            ("currency", "ISO 4217, e.g. USD"),
            ("bulkPaymentId?", "default: minted (BP00000001)"),
            ("payerName?", "the remitter shown in the notification"),
            ("partnerId?", crate::trigger::DEFAULT_PARTNER),
        ],
        run: bulk_payment,
    },
];

/// The seller's decision on a pending binding (`APPROVED`: approves it; else rejects it, with
/// the trigger's `reason` if given).
fn decide<const APPROVED: bool>(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = trigger_tenant(&core, &params)?;
        let bind_id = param(&params, "bindId")?;
        let decision = Decision {
            approved: APPROVED,
            reason: match APPROVED {
                true => None,
                false => opt_param(&params, "reason").map(str::to_owned),
            },
        };
        decide_by_bind_id(&core, &tenant, bind_id, decision).map(|b| json!({"binding": b}))
    })
}

fn bulk_payment(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = trigger_tenant(&core, &params)?;
        let currency = fields::currency(param(&params, "currency")?, "currency")?;
        let amount = params
            .get("amount")
            .ok_or_else(|| "parameter amount is required".to_owned())
            .and_then(|v| Money::from_json(v, currency).map_err(|e| e.0))?;
        receive_bulk_payment(
            &core,
            &tenant,
            opt_param(&params, "bulkPaymentId"),
            amount,
            opt_param(&params, "payerName"),
        )
    })
}
