//! Payouts: `/v3/payouts/pay` (debit amount + fee, answer `pending`, schedule the final status a
//! scenario decides) and `/v3/payouts/inquiry` (by `invoiceId` or `transactionNo`). A repeated
//! `invoiceId` with the same payee, account and amount answers with the existing payout; with
//! other values it is refused. The later steps (settle, fail, return, IPN) are in `settle.rs`.
//!
//! Pay posts, under the tenant's lock: available −(amount+fee), in_flight +amount, fees +fee.

use serde_json::{json, Value};

use super::accounts::require_active;
use super::fields::{self, Fields};
use super::{available, fees, in_flight, Ctx, Reply};
use crate::clock::format::utc_z;
use crate::money::Money;
use crate::store::pockyt::{AccountStatus, Payout, PayoutStatus};
use crate::store::{LedgerError, Refusal};
use crate::wire::pockyt::PockytError;

/// `result` of the pay and inquiry replies.
pub fn view(p: &Payout) -> Value {
    let mut v = json!({
        "amount": p.amount.to_decimal_string(),
        "transactionFee": p.fee.to_decimal_string(),
        "transactionNo": p.transaction_no,
        "createdTime": utc_z(p.created_at),
        "invoiceId": p.invoice_id,
        "currency": p.amount.currency.code(),
        "accountToken": p.account_token,
        "customerNo": p.customer_no,
        "status": p.status.as_str(),
    });
    if let (Some(at), Value::Object(m)) = (p.payment_time, &mut v) {
        m.insert("paymentTime".into(), json!(utc_z(at)));
    }
    v
}

pub fn pay(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    // Every field problem at once.
    let mut p = fields::Problems::default();
    let customer_no = p.take(fields::required(f, "customerNo"));
    let token = p.take(fields::required(f, "accountToken"));
    let currency = p
        .take(fields::payout_currency(f, "currency", true))
        .flatten();
    let amount = p.take(fields::amount(f, "amount", currency)).flatten();
    let invoice = p.take(fields::required(f, "invoiceId"));
    let ipn_url = p.take(fields::web_url(f, "ipnUrl", false)).flatten();
    let channel = p
        .take(fields::one_of(
            f,
            "processingChannel",
            crate::config::pockyt::PROCESSING_CHANNELS,
            false,
        ))
        .flatten()
        .unwrap_or_else(|| "STANDARD_ACH".into());
    for name in ["description", "note", "subject"] {
        p.take(fields::optional(f, name));
    }
    p.finish()?;
    // After finish every value read above is there.
    // The amount is in the payout currency (read with it).
    let (Some(customer_no), Some(token), Some(_), Some(amount), Some(invoice)) =
        (customer_no, token, currency, amount, invoice)
    else {
        return Err(PockytError::internal("a checked field went missing"));
    };
    let fee = ctx
        .merchant
        .fee_for(amount, &channel)
        .map_err(|e| PockytError::value(format!("amount {amount}: {e}")))?;
    // The debit is amount + fee: it must be an amount the simulator moves, as each is.
    let total = amount
        .checked_add(fee)
        .filter(|t| t.minor <= crate::money::MAX_MINOR)
        .ok_or_else(|| {
            PockytError::value(format!(
                "amount {amount} plus fee {fee} is more than the largest amount the simulator \
                 moves ({} minor units)",
                crate::money::MAX_MINOR
            ))
        })?;
    let cfg = &ctx.core.config().pockyt;
    // A scenario's status word or result (one table, `scenario::pockyt::PAYOUT`, which the
    // scenario loader checks rules against).
    let planned = crate::scenario::pockyt::PAYOUT.decide(ctx.decision.result.as_ref());
    let delay = ctx.decision.delay_or(cfg.payout_settle_delay_ms);
    let return_after = ctx
        .decision
        .duration_value("returnAfter")
        .unwrap_or(cfg.return_after_ms);
    let now = ctx.now();
    let (payout, replay) = ctx.try_with_state(|t| {
        if let Some(p) = t.pockyt.invoices.get(&invoice).and_then(|no| t.pockyt.payouts.get(no)) {
            let same = p.customer_no == customer_no && p.account_token == token && p.amount == amount;
            return if same {
                Ok((p.clone(), true))
            } else {
                Err(PockytError::mismatch(format!(
                    "invoiceId {invoice} was already used for transactionNo {} (customerNo {}, accountToken {}, amount {}); a retry must repeat those parameters",
                    p.transaction_no, p.customer_no, p.account_token, p.amount
                )))
            };
        }
        require_active(t.pockyt.payee(&customer_no)?)?;
        let account = t.pockyt.account(&token)?;
        if account.customer_no != customer_no {
            return Err(PockytError::mismatch(format!(
                "accountToken {token} belongs to another payee, not customerNo {customer_no}"
            )));
        }
        if account.status != AccountStatus::Activated {
            return Err(Refusal::wrong_state(format!(
                "account status {}",
                account.status.upper()
            ))
            .into());
        }
        let (vendor, account_ipn) = (account.account_type.clone(), account.ipn_url.clone());
        let legs = pay_legs(amount, fee);
        let legs: Vec<(&str, Money)> = legs.iter().map(|(a, m)| (a.as_str(), *m)).collect();
        t.ledger
            .post(now, super::settle::memo(&invoice, None), &legs)
            .map_err(|e| match e {
                LedgerError::Insufficient { available, .. } => PockytError::rejected(format!(
                    "account balance not sufficient: available {available}, needed {total} (amount {amount} + fee {fee})"
                )),
                other => Refusal::Funds(other).into(),
            })?;
        let transaction_no = format!("301030{:016}", t.next_seq());
        let payout = Payout {
            transaction_no: transaction_no.clone(),
            invoice_id: invoice.clone(),
            customer_no: customer_no.clone(),
            account_token: token.clone(),
            vendor,
            amount,
            fee,
            status: PayoutStatus::Pending,
            processing_channel: channel.clone(),
            ipn_url: ipn_url.clone().or(account_ipn),
            created_at: now,
            payment_time: None,
            reason: None,
            planned,
            return_after_ms: return_after,
            notify: ctx.decision.notify.clone(),
        };
        t.pockyt.invoices.insert(invoice.clone(), transaction_no.clone());
        t.pockyt.payouts.insert(transaction_no, payout.clone());
        Ok((payout, false))
    })?;
    if replay {
        return Ok(Reply::new(payout.status.as_str()).with("result", view(&payout)));
    }
    if planned != PayoutStatus::Pending {
        let to = if planned == PayoutStatus::Failed {
            PayoutStatus::Failed
        } else {
            PayoutStatus::Success
        };
        let reason = ctx.decision.reason().map(str::to_owned);
        super::settle::schedule(
            ctx.core,
            ctx.tenant,
            &payout.transaction_no,
            delay,
            to,
            reason,
        );
    }
    Ok(Reply::new("pending").with("result", view(&payout)))
}

/// The legs of a payout's pay posting: available −(amount + fee), in_flight +amount, fees +fee
/// (in the amount's currency).
pub(crate) fn pay_legs(amount: Money, fee: Money) -> Vec<(String, Money)> {
    let c = amount.currency;
    let total = amount.checked_add(fee).unwrap_or(amount);
    vec![
        (available(c), Money::new(total.minor.saturating_neg(), c)),
        (in_flight(c), amount),
        (fees(c), fee),
    ]
}

pub fn inquiry(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    crate::api::describe::record_either("invoiceId", "transactionNo");
    let mut p = fields::Problems::default();
    let invoice = p.take(fields::optional(f, "invoiceId")).flatten();
    let number = p.take(fields::optional(f, "transactionNo")).flatten();
    p.finish()?;
    ctx.try_with_state(|t| {
        let by_invoice = invoice
            .as_ref()
            .map(|i| t.pockyt.transaction_of(i).map(str::to_owned));
        let no = match (by_invoice, &number) {
            (Some(found), Some(n)) => {
                let found = found?;
                if &found != n {
                    return Err(PockytError::mismatch(format!(
                        "invoiceId {} is transactionNo {found}, not {n}",
                        invoice.as_deref().unwrap_or_default()
                    )));
                }
                found
            }
            (Some(found), None) => found?,
            (None, Some(n)) => n.clone(),
            (None, None) => {
                return Err(PockytError::null("invoiceId or transactionNo is required"))
            }
        };
        Ok(Reply::new("query success").with("result", view(t.pockyt.payout(&no)?)))
    })
}
