//! What happens to a payout after `pay`: its final status (`success`, `failed` → amount and fee
//! back, `returned` after success → amount back), each step one ledger posting under the tenant's
//! lock, then the signed IPN to the payout's `ipnUrl` (the delivery ledger shows it as topic
//! `payout.<status>`, businessId = transactionNo). Driven by the clock (the scenario's decision
//! at pay time) or by the `pockyt.payout.*` triggers.
//!
//! Postings: success: in_flight → external:payout; failed: in_flight −amount, fees −fee,
//! available +(amount+fee); returned: external:payout → available (and fees → available for the fee
//! with `refund_fee_on_return`).

use serde_json::{json, Map, Value};

use super::payouts::view;
use super::{available, fees, in_flight, trigger_merchant};
use crate::clock::format::utc_z;
use crate::core::Core;
use crate::core::Trigger;
use crate::money::Money;
use crate::notify::NotificationSpec;
use crate::store::pockyt::{Payout, PayoutStatus};
use crate::store::{Refusal, TenantId, TenantState};
use crate::trigger::{opt_param, TriggerFuture};

pub fn schedule(
    core: &Core,
    tenant: &TenantId,
    no: &str,
    delay: i64,
    to: PayoutStatus,
    reason: Option<String>,
) {
    core.schedule_timer_in(
        &PAYOUT_STEP,
        delay,
        crate::core::timers::Pending {
            label: format!("{tenant}/payout:{no}:{}", to.as_str()),
            tenant: Some(tenant),
            key: no,
            params: json!({"to": to, "reason": reason}),
        },
    );
}

crate::core::timers::timer_kind! {
    /// A payout's scheduled status change (key: the payout's number).
    pub PAYOUT_STEP = "pockyt.payout.step",
    |core, tenant, key, to: PayoutStatus = "to", reason: Option<String> = "reason"| {
        match finish(&core, &tenant, &key, to, reason) {
            Ok(_) => {
                if let Some(change) = change_of(to) {
                    crate::api::coverage::state_changed(&core, &tenant, change);
                }
            }
            Err(e) => tracing::debug!(error = %e, "scheduled payout step skipped"),
        }
    }
}

/// Applies one status change with its ledger posting, then sends the IPN.
pub fn finish(
    core: &Core,
    tenant: &TenantId,
    no: &str,
    to: PayoutStatus,
    reason: Option<String>,
) -> Result<Value, String> {
    let now = core.clock().now();
    let refund_fee = core.config().pockyt.refund_fee_on_return;
    let payout = core.with_tenant_text(tenant, |t| apply(t, no, to, reason, now, refund_fee))??;
    let payload = json!({
        "accountToken": payout.account_token,
        "amount": payout.amount.to_decimal_string(),
        "currency": payout.amount.currency.code(),
        "invoiceId": payout.invoice_id,
        "paymentTime": utc_z(now),
        "status": payout.status.as_str(),
        "transactionNo": payout.transaction_no,
        "vendor": payout.vendor,
    });
    let id = core.outbox().enqueue(NotificationSpec {
        tenant: tenant.clone(),
        channel: "pockyt",
        topic: format!("payout.{}", payout.status.as_str()),
        payload,
        business_id: Some(payout.transaction_no.clone()),
        url: payout.ipn_url.clone(),
        request_no: None,
        behaviour: payout.notify.clone(),
    });
    if to == PayoutStatus::Success && payout.planned == PayoutStatus::Returned {
        schedule(
            core,
            tenant,
            no,
            payout.return_after_ms,
            PayoutStatus::Returned,
            None,
        );
    }
    let mut v = view(&payout);
    if let Value::Object(m) = &mut v {
        m.insert("notification".into(), json!(id));
    }
    Ok(v)
}

fn apply(
    t: &mut TenantState,
    no: &str,
    to: PayoutStatus,
    reason: Option<String>,
    now: i64,
    refund_fee: bool,
) -> Result<Payout, Refusal> {
    let p = t.pockyt.payout(no)?;
    let record = format!("payout {no}");
    super::payees::lifecycle_step(
        &record,
        p.status,
        to,
        next_of(p.status),
        PayoutStatus::as_str,
    )?;
    let memo = memo(&p.invoice_id, Some(to));
    let Some(legs) = step_legs(p, p.status, to, refund_fee) else {
        // Every step of the lifecycle has its posting in `step_legs`.
        return Err(Refusal::wrong_state(format!(
            "payout {no}: no posting moves it from {} to {}",
            p.status.as_str(),
            to.as_str()
        )));
    };
    let legs: Vec<(&str, Money)> = legs.iter().map(|(a, m)| (a.as_str(), *m)).collect();
    let posted = t.ledger.post(now, memo, &legs);
    // The money of a payout is where its status says; a refused posting means it is not, a
    // state the step cannot start from.
    if let Err(e) = posted {
        return Err(Refusal::wrong_state(format!(
            "ledger refused the {} posting: {e}",
            to.as_str()
        )));
    }
    let p = t.pockyt.payout_mut(no)?;
    p.status = to;
    p.payment_time = Some(now);
    p.reason = reason.or(p.reason.take());
    Ok(p.clone())
}

/// The legs of the posting that moves payout `p` from `from` to `to` (None for a move its
/// lifecycle does not have): success: in_flight → external:payout; failed: in_flight −amount,
/// fees −fee, available +(amount+fee); returned: external:payout → available (and, with
/// `refund_fee`, the fee from fees).
pub(crate) fn step_legs(
    p: &Payout,
    from: PayoutStatus,
    to: PayoutStatus,
    refund_fee: bool,
) -> Option<Vec<(String, Money)>> {
    let (c, amount, fee) = (p.amount.currency, p.amount, p.fee);
    let neg = |m: Money| Money::new(m.minor.saturating_neg(), m.currency);
    let back = amount.checked_add(fee).unwrap_or(amount);
    Some(match (from, to) {
        (PayoutStatus::Pending, PayoutStatus::Success) => {
            vec![(in_flight(c), neg(amount)), (PAID_OUT.to_owned(), amount)]
        }
        (PayoutStatus::Pending, PayoutStatus::Failed) => vec![
            (in_flight(c), neg(amount)),
            (fees(c), neg(fee)),
            (available(c), back),
        ],
        (PayoutStatus::Success, PayoutStatus::Returned) if refund_fee => vec![
            (PAID_OUT.to_owned(), neg(amount)),
            (fees(c), neg(fee)),
            (available(c), back),
        ],
        (PayoutStatus::Success, PayoutStatus::Returned) => {
            vec![(PAID_OUT.to_owned(), neg(amount)), (available(c), amount)]
        }
        _ => return None,
    })
}

/// The memo of a payout's posting: its pay (`step` None), or its step to a status.
pub(crate) fn memo(invoice_id: &str, step: Option<PayoutStatus>) -> String {
    match step {
        None => format!("pockyt payout {invoice_id}"),
        Some(to) => format!("pockyt payout {invoice_id} {}", to.as_str()),
    }
}

/// The account money paid out to payees leaves to.
pub(crate) const PAID_OUT: &str = "external:payout";

/// The legs of every posting payout `p` has written to reach its status: its pay
/// ([`super::payouts::pay_legs`]), then each step of its lifecycle from `pending` (for a
/// `returned` payout, through `success`), as [`step_legs`] writes them.
pub(crate) fn legs_of(p: &Payout, refund_fee: bool) -> Vec<(String, Money)> {
    let path: &[PayoutStatus] = match p.status {
        PayoutStatus::Pending => &[],
        PayoutStatus::Success => &[PayoutStatus::Success],
        PayoutStatus::Failed => &[PayoutStatus::Failed],
        PayoutStatus::Returned => &[PayoutStatus::Success, PayoutStatus::Returned],
    };
    let mut legs = super::payouts::pay_legs(p.amount, p.fee);
    let mut from = PayoutStatus::Pending;
    for to in path {
        legs.extend(step_legs(p, from, *to, refund_fee).unwrap_or_default());
        from = *to;
    }
    legs
}

fn run(core: Core, params: Map<String, Value>, to: PayoutStatus) -> TriggerFuture {
    Box::pin(async move {
        let (_, tenant) = trigger_merchant(&core, &params)?;
        let number = opt_param(&params, "transactionNo");
        let invoice = opt_param(&params, "invoiceId");
        let no = core.with_tenant_text(&tenant, |t| payout_named(t, number, invoice))??;
        let reason = opt_param(&params, "reason").map(str::to_owned);
        finish(&core, &tenant, &no, to, reason)
    })
}

/// The transactionNo of the payout a trigger names by `transactionNo` or `invoiceId`; given
/// both, they must name the same payout (as `/v3/payouts/inquiry` requires).
fn payout_named(
    t: &TenantState,
    number: Option<&str>,
    invoice: Option<&str>,
) -> Result<String, String> {
    let by_invoice = |i: &str| {
        t.pockyt
            .invoices
            .get(i)
            .cloned()
            .ok_or_else(|| format!("no payout with invoiceId {i}"))
    };
    match (number, invoice) {
        (Some(n), Some(i)) => {
            let found = by_invoice(i)?;
            if found != n {
                return Err(format!(
                    "transactionNo {n} and invoiceId {i} name different payouts (invoiceId {i} \
                     is transactionNo {found}); give one of them, or both of the same payout"
                ));
            }
            Ok(found)
        }
        (Some(n), None) => Ok(n.to_owned()),
        (None, Some(i)) => by_invoice(i),
        // The declaration requires one of them (`transactionNo|invoiceId`).
        (None, None) => Err("parameter transactionNo or invoiceId is required".into()),
    }
}

const PARAMS: &[(&str, &str)] = &[
    (
        "transactionNo|invoiceId",
        "the payout, by either id (both must name the same payout)",
    ),
    ("reason?", "recorded on the payout"),
    ("merchantNo?", crate::trigger::DEFAULT_MERCHANT),
];

super::payees::status_triggers! {
    PayoutStatus, PARAMS, run;
    lifecycle {
        PayoutStatus::Pending => [PayoutStatus::Success, PayoutStatus::Failed];
        PayoutStatus::Success => [PayoutStatus::Returned];
    }
    PayoutStatus::Success => "pockyt.payout.succeeded",
        "a pending payout is credited to the payee now (IPN status success)";
    PayoutStatus::Failed => "pockyt.payout.failed",
        "a pending payout fails; amount and fee go back to the balance (IPN status failed)";
    PayoutStatus::Returned => "pockyt.payout.returned",
        "a successful payout is returned by the payee's bank; the amount goes back to the balance (IPN status returned)";
}
