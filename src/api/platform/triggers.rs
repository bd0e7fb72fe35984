//! Events from outside the partner's API calls: the seller deciding without a browser (the API
//! twin of the authorization page) and a bulk payment arriving at Whalet's bank account.
//! `partnerId` defaults to the demo partner, else the only partner (`trigger::acting_tenant`).

use serde_json::{json, Map, Value};

use super::binding::decide_by_bind_id;
use super::fields;
use super::materials::MAX_PAYER_NAME;
use super::payment::{receive_bulk_payment, settle_now};
use crate::api::whalet::common::fields::MAX_ID;
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
            ("reason?", "at most 200 characters, trimmed as on the page; default (or blank): rejected by the seller"),
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
            ("bulkPaymentId?", "at most 64 characters, not blank; default: minted (BP00000001)"),
            ("payerName?", "the remitter shown in the notification, at most 256 characters, not blank"),
            ("partnerId?", crate::trigger::DEFAULT_PARTNER),
        ],
        run: bulk_payment,
    },
    Trigger {
        name: "platform.payment.succeeded",
        description: "A PROCESSING payment is credited to the seller's e-wallet now, before its settlement delay; sends paymentApplyNotify SUCCESS",
        params: &[("paymentId", "the payment"), ("partnerId?", crate::trigger::DEFAULT_PARTNER)],
        run: settle::<true>,
    },
    Trigger {
        name: "platform.payment.failed",
        description: "A PROCESSING payment fails now; the amount goes back to the partner balance; sends paymentApplyNotify FAILURE with the reason",
        params: &[
            ("paymentId", "the payment"),
            ("reason?", "at most 200 characters, trimmed; default (or blank): the seller's e-wallet could not be credited"),
            ("partnerId?", crate::trigger::DEFAULT_PARTNER),
        ],
        run: settle::<false>,
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
                false => crate::trigger::reason_param(&params)?,
            },
        };
        decide_by_bind_id(&core, &tenant, bind_id, decision).map(|b| json!({"binding": b}))
    })
}

/// Settles a PROCESSING payment now (`SUCCEED`: credits the seller; else fails it, with the
/// trigger's `reason` if given).
fn settle<const SUCCEED: bool>(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = trigger_tenant(&core, &params)?;
        let payment_id = param(&params, "paymentId")?;
        let reason = match SUCCEED {
            true => None,
            false => crate::trigger::reason_param(&params)?,
        };
        settle_now(&core, &tenant, payment_id, SUCCEED, reason)
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
        let bulk_payment_id = text(&params, "bulkPaymentId", MAX_ID)?;
        let payer_name = text(&params, "payerName", MAX_PAYER_NAME)?;
        receive_bulk_payment(&core, &tenant, bulk_payment_id, amount, payer_name)
    })
}

/// An optional text parameter checked as the API checks its ids ([`MAX_ID`] characters) and
/// payers' names ([`MAX_PAYER_NAME`]): at most `max` characters (a blank never gets here:
/// [`crate::trigger::check_params`] refuses it, not read as "absent").
fn text<'a>(
    params: &'a Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<Option<&'a str>, String> {
    let Some(value) = opt_param(params, name) else {
        return Ok(None);
    };
    fields::max_len(value, max, &format!("parameter {name}"))?;
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::{MAX_ID, MAX_PAYER_NAME, TRIGGERS};
    use crate::authorize::MAX_REASON_CHARS;

    /// The description of parameter `param` of trigger `name`.
    fn described(name: &str, param: &str) -> &'static str {
        let trigger = TRIGGERS.iter().find(|t| t.name == name).unwrap();
        trigger.params.iter().find(|(p, _)| *p == param).unwrap().1
    }

    #[test]
    fn the_triggers_say_the_limits_their_text_parameters_are_checked_against() {
        for (name, param, limit) in [
            ("platform.binding.rejected", "reason?", MAX_REASON_CHARS),
            ("platform.bulk_payment.received", "bulkPaymentId?", MAX_ID),
            (
                "platform.bulk_payment.received",
                "payerName?",
                MAX_PAYER_NAME,
            ),
        ] {
            let text = described(name, param);
            assert!(
                text.contains(&format!("at most {limit} characters")),
                "{name} {param}: {text}"
            );
        }
    }
}
