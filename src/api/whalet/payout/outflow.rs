//! Money leaving a wallet, the two ways the vendor offers: payouts to a beneficiary account
//! (`payoutApply` → `payoutConfirm` → `payoutResultNotify`) and paying a supplier
//! (`payApply` → `payConfirm` with `tradeCredential` files → `payResultNotify`). Apply checks
//! and prices the order (status WAIT_CONFIRM, nothing moves); Confirm freezes the amount
//! (`available` → `frozen`) and starts the review; the result sends it out (`frozen` →
//! `external:payout`) or returns it (`frozen` → `available`). A request that would overdraw is
//! refused with nothing changed. An order not yet confirmed holds no money: once its quote has
//! expired or its beneficiary account was deleted, Confirm is refused and the partner applies
//! again under a new out id; the old order stays WAIT_CONFIRM and blocks nothing.

use serde_json::Value;

pub use super::result::{complete, view};
use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::owned::user_record;
use crate::api::whalet::common::{failure, mint, once, schedule, send, IdOf, Verdict};
use crate::api::whalet::fx::{convert, how_to_price, usable_quote};
use crate::api::whalet::replenish::hold_outflow;
use crate::api::whalet::{Ctx, Reply};
use crate::money::Money;
use crate::store::whalet::{wallet_account, Bucket, FundSource};
use crate::store::whalet_trade::{
    BeneficiaryStatus, HeldResult, Outflow, OutflowKind, OutflowStatus, PayoutBeneficiary,
};
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

/// Default review time after Confirm (virtual).
pub const DEFAULT_DELAY_MS: i64 = 30_000;

/// Names that differ between payouts and pays.
pub(super) struct Names {
    pub(super) kind: OutflowKind,
    pub(super) id: &'static str,
    pub(super) out_id: &'static str,
    pub(super) prefix: &'static str,
    pub(super) apply: &'static str,
    /// The operation that confirms it and starts its review (the review timer's label).
    pub(super) confirm: &'static str,
    pub(super) notify: &'static str,
    /// What the partner calls it, in messages.
    pub(super) what: &'static str,
    /// The prefix of the triggers that decide it (`….succeeded`, `….failed`).
    pub(super) trigger: &'static str,
}

const PAYOUT: Names = Names {
    kind: OutflowKind::Payout,
    id: "payoutId",
    out_id: "outPayoutId",
    prefix: "PO",
    apply: "payoutApply",
    confirm: "payoutConfirm",
    notify: "payoutResultNotify",
    what: "payout",
    trigger: "whalet.payout",
};
const PAY: Names = Names {
    kind: OutflowKind::Pay,
    id: "payId",
    out_id: "outPayId",
    prefix: "PY",
    apply: "payApply",
    confirm: "payConfirm",
    notify: "payResultNotify",
    what: "supplier payment",
    trigger: "whalet.pay",
};

pub(super) fn names(kind: OutflowKind) -> &'static Names {
    match kind {
        OutflowKind::Payout => &PAYOUT,
        OutflowKind::Pay => &PAY,
    }
}

pub fn payout_apply(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    apply(ctx, body, &PAYOUT)
}
pub fn pay_apply(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    apply(ctx, body, &PAY)
}
pub fn payout_confirm(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    confirm(ctx, body, &PAYOUT)
}
pub fn pay_confirm(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    confirm(ctx, body, &PAY)
}

fn available(
    t: &TenantState,
    user_id: &str,
    fund: FundSource,
    amount: Money,
) -> Result<(), WhaletError> {
    let have = t.ledger.balance(
        &wallet_account(user_id, fund, Bucket::Available),
        amount.currency,
    );
    if have.minor < amount.minor {
        return Err(failure(format!(
            "insufficient balance: user {user_id} has {} {} available in {}, {} needed",
            have.to_decimal_string(),
            amount.currency,
            fund.as_str(),
            amount.to_decimal_string()
        )));
    }
    Ok(())
}

fn apply(ctx: &Ctx<'_>, body: &Value, n: &'static Names) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let out_id = c.id(n.out_id);
    let fund = c
        .one_of("fundSource", &["B2C", "B2B", "Acquiring"], true)
        .and_then(FundSource::parse);
    let currency = c.currency("currency", true);
    let amount = c.amount("amount", currency);
    let rate_id = c.opt("rateId");
    let purpose = c.opt("purpose").unwrap_or("");
    let remark = c.opt("remark").unwrap_or("");
    let (beneficiary_id, payee_name, to_currency) = match n.kind {
        OutflowKind::Payout => (Some(c.id("beneficiaryId")), "", None),
        OutflowKind::Pay => {
            let payee = c.text("payeeName");
            // The payee receives `currency` unless told otherwise: that is the value used.
            let to = c.currency("toCurrency", false);
            let to = c.defaulted("toCurrency", to, currency, |cur| Value::from(cur.code()));
            (None, payee, to)
        }
    };
    let content = c.content();
    c.finish()?;
    let (Some(fund), Some(amount)) = (fund, amount) else {
        return Err(WhaletError::parameter("fundSource and amount are required"));
    };
    let now = ctx.now();
    once(
        ctx,
        &format!("{} {user_id}", n.apply),
        (n.out_id, out_id),
        &content,
        IdOf::Partner,
        |t| {
            t.whalet.onboarded_user(user_id)?;
            let mut payee = payee_name.to_owned();
            let to = match beneficiary_id {
                Some(bid) => {
                    let what = ("beneficiaryId", bid, "beneficiary account");
                    let b = user_record(&t.whalet_trade.beneficiaries, what, user_id)?;
                    if b.status != BeneficiaryStatus::Success {
                        return Err(failure(format!(
                            "beneficiary account {bid} is not approved (status {})",
                            b.status_text()
                        )));
                    }
                    payee = b.fields.get("accountName").cloned().unwrap_or_default();
                    b.currency
                }
                None => to_currency.unwrap_or(amount.currency),
            };
            // A rateId given is checked whatever the currencies; one is needed to convert.
            let rate = match rate_id {
                Some(rid) => Some(usable_quote(
                    t,
                    rid,
                    (user_id, fund),
                    amount.currency,
                    to,
                    now,
                )?),
                None if to == amount.currency => None,
                None => {
                    return Err(failure(format!(
                        "the payee receives {to}: rateId is required ({})",
                        how_to_price(amount.currency, to)
                    )))
                }
            };
            let to_amount = match &rate {
                Some(rate) => convert(amount, rate, to)
                    .map_err(|why| failure(why.message(amount, rate, to)))?,
                None => amount,
            };
            available(t, user_id, fund, amount)?;
            let id = mint(t, n.prefix, now);
            let o = Outflow {
                id: id.clone(),
                kind: n.kind,
                out_id: out_id.to_owned(),
                user_id: user_id.to_owned(),
                fund_source: fund,
                amount,
                to_amount,
                rate_id: rate_id.map(str::to_owned),
                rate,
                beneficiary_id: beneficiary_id.map(str::to_owned),
                payee_name: payee,
                purpose: purpose.to_owned(),
                remark: remark.to_owned(),
                credentials: Vec::new(),
                status: OutflowStatus::WaitConfirm,
                reported_status: OutflowStatus::WaitConfirm.to_string(),
                reason: String::new(),
                created_at: now,
                confirmed_at: None,
                finished_at: None,
                after_edd: None,
            };
            let v = view(&o);
            t.whalet_trade.outflows.insert(id, o);
            Ok(Reply::ok(v))
        },
    )
}

/// Refuses to confirm an unconfirmed order whose payee or price no longer holds: a payout's
/// beneficiary account deleted since Apply, or the quote it was priced with expired. The order is
/// left as it is: it holds no money (Apply moves none) and blocks nothing, so the partner applies
/// again under a new out id, which the refusal says.
fn still_confirmable(t: &TenantState, o: &Outflow, n: &Names, now: i64) -> Result<(), WhaletError> {
    let refuse = |why: String, remedy: String| {
        failure(format!(
            "{} {} cannot be confirmed: {why}; {remedy} (this {} holds no money and is left \
             unconfirmed)",
            n.id, o.id, n.what
        ))
    };
    if let Some(bid) = &o.beneficiary_id {
        let b = t.whalet_trade.beneficiaries.get(bid);
        if b.is_none_or(|b| b.status != BeneficiaryStatus::Success) {
            let status = b.map_or_else(|| "unknown".to_owned(), PayoutBeneficiary::status_text);
            let why =
                format!("its beneficiary account {bid} is no longer approved (status {status})");
            let remedy = format!("apply again under a new {} to an approved one", n.out_id);
            return Err(refuse(why, remedy));
        }
    }
    if let Some(rid) = &o.rate_id {
        usable_quote(
            t,
            rid,
            (&o.user_id, o.fund_source),
            o.amount.currency,
            o.to_amount.currency,
            now,
        )
        .map_err(|e| {
            refuse(
                e.detail,
                format!("then apply again under a new {} with it", n.out_id),
            )
        })?;
    }
    Ok(())
}

fn confirm(ctx: &Ctx<'_>, body: &Value, n: &'static Names) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let id = c.id(n.id);
    let credentials = match n.kind {
        OutflowKind::Payout => Vec::new(),
        OutflowKind::Pay => {
            crate::api::describe::record("tradeCredential", "files", true, &[]);
            c.required_files("tradeCredential")
        }
    };
    let content = c.content();
    c.finish()?;
    let now = ctx.now();
    let verdict = Verdict::from_decision(ctx.decision);
    let delay = ctx.decision.delay_or(DEFAULT_DELAY_MS);
    // Per user, as every business id: another user's order is "not a payout of user …", not a
    // conflict that would reveal it exists.
    let scope = format!("{} confirm {user_id}", n.apply);
    let mut held = None;
    // The id is the one Apply issued: the partner cannot choose another for this order.
    let again = match n.kind {
        OutflowKind::Payout => "the original request",
        OutflowKind::Pay => "the tradeCredential it was confirmed with",
    };
    let remedy = format!(
        "send {again} to get the original result, or apply under a new {} for another {}",
        n.out_id, n.what
    );
    let reply = once(
        ctx,
        &scope,
        (n.id, id),
        &content,
        IdOf::Issued(&remedy),
        |t| {
            t.whalet.user(user_id)?;
            let files = t
                .whalet_trade
                .resolve_files("tradeCredential", &credentials)
                .map_err(failure)?;
            let o = t
                .whalet_trade
                .outflows
                .get(id)
                .filter(|o| o.user_id == user_id && o.kind == n.kind)
                .ok_or_else(|| {
                    failure(format!(
                        "{} {id:?} is not a {} of user {user_id}",
                        n.id,
                        n.apply.trim_end_matches("Apply")
                    ))
                })?
                .clone();
            if o.status != OutflowStatus::WaitConfirm {
                return Err(failure(format!(
                    "{} {id} is not waiting for confirmation (status {})",
                    n.id, o.reported_status
                )));
            }
            still_confirmable(t, &o, n, now)?;
            available(t, user_id, o.fund_source, o.amount)?;
            t.ledger
                .transfer(
                    now,
                    format!("{} {id} frozen", n.apply.trim_end_matches("Apply")),
                    &wallet_account(user_id, o.fund_source, Bucket::Available),
                    &wallet_account(user_id, o.fund_source, Bucket::Frozen),
                    o.amount,
                )
                .map_err(|e| failure(format!("the amount cannot be frozen: {e}")))?;
            let o = t.whalet_trade.outflows.get_mut(id).ok_or_else(|| {
                WhaletError::new(crate::wire::whalet::Code::InternalError, "outflow vanished")
            })?;
            o.status = OutflowStatus::Processing;
            o.reported_status = "PROCESSING".into();
            o.credentials = files;
            o.confirmed_at = Some(now);
            let v = view(o);
            let edd = ctx.decision.value("edd", crate::scenario::format::edd);
            if edd == Some(true) {
                // The rule decides everything: how the order ends once the EDD releases it too.
                o.after_edd = Some(held_result(&verdict, delay));
                let asked = hold_outflow(t, user_id, id, &ctx.decision.values, now)
                    .map_err(|e| WhaletError::new(crate::wire::whalet::Code::InternalError, e))?;
                held = Some(asked);
            } else {
                schedule(
                    ctx.core,
                    ctx.tenant,
                    delay,
                    // Labelled by the operation that started the review (the label is only
                    // shown; a timer restored with an older label runs the same).
                    (n.confirm, id, 1),
                    verdict,
                    crate::api::whalet::common::OUTFLOW,
                );
            }
            Ok(Reply::processing(v))
        },
    )?;
    if let Some((rid, api_code, payload)) = held {
        send(
            ctx.core,
            ctx.tenant,
            api_code,
            &payload,
            &rid,
            ctx.decision.notify.clone(),
        );
    }
    Ok(reply)
}

/// What a rule holding an order for EDD decided for its end, kept with the order
/// ([`Outflow::after_edd`]).
fn held_result(v: &Verdict, delay_ms: i64) -> HeldResult {
    HeldResult {
        success: v.success,
        status: v.status.clone(),
        reason: v.reason.clone(),
        delay_ms,
        notify: v.notify.clone(),
    }
}

/// How order `o`, held for an EDD that is now approved, ends: after the delay and with the
/// verdict of the rule that held it, or, without one, a success after [`DEFAULT_DELAY_MS`].
pub fn after_edd(o: &Outflow) -> (i64, Verdict) {
    match &o.after_edd {
        None => (DEFAULT_DELAY_MS, Verdict::approve()),
        Some(h) => (
            h.delay_ms,
            Verdict {
                success: h.success,
                status: h.status.clone(),
                reason: h.reason.clone(),
                values: Default::default(),
                notify: h.notify.clone(),
                after: None,
            },
        ),
    }
}
