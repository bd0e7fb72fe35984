//! Money on whalet-platform: bulk payments credit the partner's balance (`external:bulk` →
//! `platform:balance`, then `bulkPaymentsReceivedNotify`); `paymentApply` moves an amount to a
//! bound seller (`platform:balance` → `platform:in_flight` at once, then after the payment delay
//! `platform:in_flight` → `seller:{shopId}:wallet`, or back to the balance when a scenario fails
//! it, then `paymentApplyNotify`); `paymentQuery` and `balanceQuery` read. Idempotent on
//! paymentId: the same content answers the first reply, different content is IDEMPOTENT_ERROR.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::fields::{self, checked, required_up_to, Collect};
use super::{optional, required, Ctx};
use crate::api::whalet::common::fields::Check;
use crate::api::whalet::whalet_time;
use crate::behaviour::NotifyBehaviour;
use crate::core::Core;
use crate::money::{Currency, Money};
use crate::store::platform::{accounts, BindStatus, BulkPayment, Payment, PaymentStatus};
use crate::store::{idempotency, Refusal, TenantId, TenantState};
use crate::wire::whalet::{Code, WhaletError};

const APPLY_NOTIFY: &str = "paymentApplyNotify";
const BULK_NOTIFY: &str = "bulkPaymentsReceivedNotify";

fn payment_view(p: &Payment) -> Value {
    json!({
        "paymentId": p.payment_id,
        "shopId": p.shop_id,
        "amount": p.amount.to_decimal_string(),
        "currency": p.amount.currency.code(),
        "status": p.status.as_str(),
        "reason": p.reason,
        "createTime": whalet_time(p.created_at),
        "finishTime": p.finished_at.map(whalet_time),
    })
}

/// `paymentApply {amount, currency, shopId, paymentId}` → `{paymentId, status}`.
pub fn payment_apply(ctx: &Ctx<'_>, body: &Value) -> Result<Value, WhaletError> {
    let mut check = Check::new(body)?;
    let payment_id = check.take(required_up_to(body, "paymentId", "paymentId", 64));
    let shop_id = check.take(required_up_to(body, "shopId", "shopId", 64));
    let currency = check.take(fields::required_currency(body, "currency", "currency"));
    let amount = fields::amount(&mut check, body, "amount", "amount", currency);
    check.take(optional(body, "memo", "memo"));
    check.finish()?;
    let (payment_id, shop_id, amount) = (checked(payment_id)?, checked(shop_id)?, checked(amount)?);
    let currency = amount.currency;
    let now = ctx.now();
    let conflict = |_: &TenantState| {
        Some(WhaletError::idempotent(
            crate::api::whalet::common::used_before("paymentId", payment_id),
        ))
    };
    let key = crate::api::whalet::common::kept(ctx.core, ("platform.paymentApply", payment_id))?;
    let content = payment_content(body, amount);
    let (reply, fresh) = ctx.with_state(|t| t.once(key, &content, conflict, |t| {
        match t.platform.binding_for_shop(shop_id) {
            Some(b) if b.status == BindStatus::Success => {}
            Some(b) => {
                let why = match b.status {
                    BindStatus::Processing => "the seller has not approved it yet".to_owned(),
                    _ => format!("it ended {}: {}", b.status.as_str(), b.reason),
                };
                return Err(WhaletError::failure(format!(
                    "shop {shop_id:?} is not bound to this partner: binding {:?} is {} ({why}); payments go only to bound shops",
                    b.bind_id,
                    b.status.as_str()
                )));
            }
            None => {
                return Err(WhaletError::failure(format!(
                    "shop {shop_id:?} is not bound to this partner: no shopAccountBind was made for it; payments go only to bound shops"
                )))
            }
        }
        t.ledger
            .transfer(
                now,
                format!("paymentApply {payment_id}"),
                accounts::BALANCE,
                accounts::IN_FLIGHT,
                amount,
            )
            .map_err(|e| match e {
                crate::store::LedgerError::Insufficient { available, .. } => WhaletError::failure(format!(
                    "insufficient partner balance: available {} {}, the payment needs {} (money \
                     arrives with a bulk payment: trigger platform.bulk_payment.received)",
                    available.to_decimal_string(),
                    currency,
                    amount.to_decimal_string()
                )),
                other => WhaletError::new(Code::InternalError, other.to_string()),
            })?;
        let payment = Payment {
            payment_id: payment_id.to_owned(),
            shop_id: shop_id.to_owned(),
            amount,
            status: PaymentStatus::Processing,
            reason: String::new(),
            created_at: now,
            finished_at: None,
        };
        t.platform.payments.insert(payment_id.to_owned(), payment);
        Ok(json!({"paymentId": payment_id, "status": "PROCESSING"}))
    }))??;
    if !fresh {
        return Ok(reply);
    }
    let default_ms = ctx
        .core
        .config()
        .platform
        .payment_delay_secs
        .saturating_mul(1000);
    let succeed = ctx.decision.succeeds();
    let reason = ctx.decision.reason().map(str::to_owned);
    let behaviour = ctx.decision.notify.clone();
    ctx.schedule_in(
        &PAYMENT_SETTLE,
        default_ms,
        format!("{}/platform.payment.settle {payment_id}", ctx.tenant),
        payment_id,
        json!({"succeed": succeed, "reason": reason, "notify": behaviour}),
    );
    Ok(reply)
}

/// What the idempotency of a `paymentId` compares: the fields `paymentApply` uses
/// ([`idempotency::content_of`]; `memo` is checked but not kept), the amount as the money read
/// (`"10"`, `"10.00"` and `10.00` are one amount).
fn payment_content(body: &Value, amount: Money) -> Value {
    let mut content = idempotency::content_of(body, &["paymentId", "shopId", "currency", "amount"]);
    content.insert("amount".into(), Value::from(amount.to_decimal_string()));
    Value::Object(content)
}

/// Credits the seller (or returns the money to the balance) and notifies; returns the payment
/// as notified, or `None` when it was no longer PROCESSING (settled already: nothing done).
fn settle(
    core: &Core,
    tenant: &TenantId,
    payment_id: &str,
    succeed: bool,
    reason: Option<String>,
    behaviour: NotifyBehaviour,
) -> Result<Option<Value>, WhaletError> {
    let now = core.clock().now();
    let payload = core.with_tenant(tenant, |t| {
        let Some(p) = t.platform.payments.get(payment_id).cloned() else {
            return Err(WhaletError::new(Code::InternalError, "payment vanished"));
        };
        if p.status != PaymentStatus::Processing {
            return Ok(None);
        }
        let wallet = accounts::seller_wallet(&p.shop_id);
        let to = if succeed {
            wallet.as_str()
        } else {
            accounts::BALANCE
        };
        t.ledger
            .transfer(
                now,
                format!("settle {payment_id}"),
                accounts::IN_FLIGHT,
                to,
                p.amount,
            )
            .map_err(|e| WhaletError::new(Code::InternalError, e.to_string()))?;
        let Some(p) = t.platform.payments.get_mut(payment_id) else {
            return Err(WhaletError::new(Code::InternalError, "payment vanished"));
        };
        p.status = if succeed {
            PaymentStatus::Success
        } else {
            PaymentStatus::Failure
        };
        p.reason = if succeed {
            String::new()
        } else {
            reason.unwrap_or_else(|| "the seller's e-wallet could not be credited".into())
        };
        p.finished_at = Some(now);
        Ok(Some(payment_view(p)))
    })??;
    if let Some(payload) = &payload {
        crate::api::whalet::notify(
            core,
            tenant,
            APPLY_NOTIFY,
            payload.clone(),
            Some(format!("payment:{payment_id}")),
            behaviour,
        );
    }
    Ok(payload)
}

/// The triggers `platform.payment.succeeded|failed`: settles PROCESSING payment `payment_id`
/// now, before its settlement delay, as the delay's end would (its scheduled settlement then
/// finds it settled and does nothing). A payment that is unknown or no longer PROCESSING is
/// refused, nothing changed.
pub fn settle_now(
    core: &Core,
    tenant: &TenantId,
    payment_id: &str,
    succeed: bool,
    reason: Option<String>,
) -> Result<Value, String> {
    // Read only: the refusals below change nothing, so they take no commit.
    let status = core
        .store()
        .read_tenant(tenant, |t| {
            t.platform.payments.get(payment_id).map(|p| p.status)
        })
        .flatten()
        .ok_or_else(|| format!("no payment with paymentId {payment_id:?} for {tenant}"))?;
    if status != PaymentStatus::Processing {
        return Err(format!(
            "payment {payment_id:?} is {}, not PROCESSING: only a payment still in flight can be \
             settled",
            status.as_str()
        ));
    }
    settle(
        core,
        tenant,
        payment_id,
        succeed,
        reason,
        NotifyBehaviour::default(),
    )
    .map_err(|e| e.detail)?
    .map(|payment| json!({ "payment": payment }))
    .ok_or_else(|| format!("payment {payment_id:?} was settled meanwhile"))
}

/// `paymentQuery {paymentId}` → the payment with its status.
pub fn payment_query(ctx: &Ctx<'_>, body: &Value) -> Result<Value, WhaletError> {
    let payment_id = required(body, "paymentId", "paymentId")?;
    ctx.with_state(|t| Ok(payment_view(t.platform.payment(payment_id)?)))?
}

/// `balanceQuery {currency?}` → `{balances: [{currency, availableAmount, inFlightAmount}]}`.
pub fn balance_query(ctx: &Ctx<'_>, body: &Value) -> Result<Value, WhaletError> {
    let wanted = fields::optional_currency(body, "currency", "currency")?.map(|(_, c)| c);
    let balances = ctx.with_state(|t| {
        let mut currencies: BTreeSet<Currency> = t
            .ledger
            .balances_with_prefix("platform:")
            .map(|(_, m)| m.currency)
            .collect();
        if let Some(c) = wanted {
            currencies = BTreeSet::from([c]);
        }
        currencies
            .into_iter()
            .map(|c| {
                json!({
                    "currency": c.code(),
                    "availableAmount": t.ledger.balance(accounts::BALANCE, c).to_decimal_string(),
                    "inFlightAmount": t.ledger.balance(accounts::IN_FLIGHT, c).to_decimal_string(),
                })
            })
            .collect::<Vec<_>>()
    })?;
    Ok(json!({"balances": balances, "queryTime": whalet_time(ctx.now())}))
}

/// A bulk payment from the partner arrived at Whalet's bank account: credit and notify.
pub fn receive_bulk_payment(
    core: &Core,
    tenant: &TenantId,
    bulk_payment_id: Option<&str>,
    amount: Money,
    payer_name: Option<&str>,
) -> Result<Value, String> {
    if !amount.is_positive() {
        return Err(format!(
            "amount must be greater than zero, got {}",
            amount.to_decimal_string()
        ));
    }
    let now = core.clock().now();
    let payload = core.with_tenant_text(tenant, |t| -> Result<Value, Refusal> {
        // Refused before an id is taken: a refusal leaves the tenant's sequence as it was.
        t.ledger
            .check_transfer(accounts::BULK, accounts::BALANCE, amount)?;
        let id = match bulk_payment_id {
            Some(id) => id.to_owned(),
            None => fresh_bulk_payment_id(t),
        };
        if bulk_payment_taken(t, &id) {
            return Err(Refusal::conflict(format!(
                "bulk payment {id:?} was already received"
            )));
        }
        t.ledger.transfer(
            now,
            format!("bulk payment {id}"),
            accounts::BULK,
            accounts::BALANCE,
            amount,
        )?;
        t.platform.bulk_payments.push(BulkPayment {
            bulk_payment_id: id.clone(),
            amount,
            payer_name: payer_name.map(str::to_owned),
            received_at: now,
        });
        // A field without a value is `""`, never absent (docs/FIDELITY.md, "empty reply fields").
        Ok(json!({
            "bulkPaymentId": id,
            "amount": amount.to_decimal_string(),
            "currency": amount.currency.code(),
            "balance": t.ledger.balance(accounts::BALANCE, amount.currency).to_decimal_string(),
            "payerName": payer_name.unwrap_or_default(),
            "receivedTime": whalet_time(now),
        }))
    })??;
    let id = payload["bulkPaymentId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let notification = crate::api::whalet::notify(
        core,
        tenant,
        BULK_NOTIFY,
        payload.clone(),
        Some(format!("bulk:{id}")),
        NotifyBehaviour::default(),
    );
    Ok(json!({"bulkPayment": payload, "notification": notification}))
}

/// Whether a bulk payment `id` was already received.
fn bulk_payment_taken(t: &TenantState, id: &str) -> bool {
    t.platform
        .bulk_payments
        .iter()
        .any(|b| b.bulk_payment_id == id)
}

/// A minted `BP` + 8-digit id no bulk payment has: a caller may have chosen the next one in
/// sequence (`BP00000002`), which is then skipped rather than refused as a repeat.
fn fresh_bulk_payment_id(t: &mut TenantState) -> String {
    loop {
        let id = format!("BP{:08}", t.next_seq());
        if !bulk_payment_taken(t, &id) {
            return id;
        }
    }
}

crate::core::timers::timer_kind! {
    /// A payment's scheduled settlement (key: the paymentId).
    pub PAYMENT_SETTLE = "platform.payment.settle",
    |core,
     tenant,
     key,
     succeed: bool = "succeed",
     reason: Option<String> = "reason",
     behaviour: NotifyBehaviour = "notify"| {
        if let Err(e) = settle(&core, &tenant, &key, succeed, reason, behaviour) {
            tracing::error!(payment = %key, error = %e, "payment not settled");
        }
    }
}
