//! Payouts: `/v3/payouts/pay` (debit amount + fee, answer `pending`), `/v3/payouts/inquiry`,
//! the final status a scenario decides (`success`, `failed` → refund, `returned` after success →
//! refund), the signed IPN to `ipnUrl` on every final status, and the `pockyt.payout.*` triggers.
//!
//! Money moves in the tenant's ledger under its lock, one posting per step:
//! pay: available −(amount+fee), in_flight +amount, fees +fee; success: in_flight → external:payout;
//! failed: in_flight and fees → available; returned: external:payout → available (and the fee
//! back from fees with `refund_fee_on_return`).

use serde_json::{json, Map, Value};

use super::accounts::require_active;
use super::fields::{self, Fields};
use super::{available, fees, in_flight, trigger_merchant, Ctx, Reply};
use crate::app::App;
use crate::clock::format::utc_z;
use crate::control::triggers::{opt_param, TriggerDef, TriggerFuture};
use crate::money::{Currency, Money};
use crate::notify::NotificationSpec;
use crate::scenario::Outcome;
use crate::store::pockyt::{AccountStatus, Payout, PayoutStatus};
use crate::store::{LedgerError, TenantId, TenantState};
use crate::wire::pockyt::PockytError;

/// Payout currencies of the public docs.
const CURRENCIES: &[&str] = &[
    "USD", "CNY", "PHP", "IDR", "KRW", "HKD", "THB", "MYR", "GBP", "BDT", "PKR",
];
const CHANNELS: &[&str] = &["STANDARD_ACH", "SAME_DAY_ACH", "REAL_TIME_PAY"];

/// `result` of the pay and inquiry replies.
fn view(p: &Payout) -> Value {
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

/// `"90s"`, `"2m"`, `"1h"`, `"500ms"` or a number of ms.
fn duration_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let s = s.trim();
            let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
            let n: i64 = num.parse().ok()?;
            let factor = match unit {
                "" | "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => return None,
            };
            n.checked_mul(factor)
        }
        _ => None,
    }
}

fn insufficient(e: LedgerError) -> PockytError {
    match e {
        LedgerError::Insufficient { .. } => {
            PockytError::rejected(format!("account balance not sufficient: {e}"))
        }
        other => PockytError::internal(other.to_string()),
    }
}

pub fn pay(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    let customer_no = fields::required(f, "customerNo")?;
    let token = fields::required(f, "accountToken")?;
    let code = fields::one_of(f, "currency", CURRENCIES, true)?.unwrap_or_default();
    let currency = Currency::parse(&code).map_err(|e| PockytError::value(e.0))?;
    let amount = fields::amount(f, "amount", currency)?;
    let invoice = fields::required(f, "invoiceId")?;
    let ipn_url = fields::optional(f, "ipnUrl")?;
    if let Some(url) = &ipn_url {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(PockytError::value(format!(
                "ipnUrl must be an http(s) URL, got {url:?}"
            )));
        }
    }
    let channel = fields::one_of(f, "processingChannel", CHANNELS, false)?
        .unwrap_or_else(|| "STANDARD_ACH".into());
    for name in ["description", "note", "subject"] {
        fields::optional(f, name)?;
    }
    let fee = ctx
        .merchant
        .fee_for(amount, &channel)
        .map_err(PockytError::internal)?;
    let total = amount
        .checked_add(fee)
        .ok_or_else(|| PockytError::value("amount is too large"))?;
    let cfg = &ctx.app.config().pockyt;
    let decided = ctx.decision.result.as_ref();
    let planned = match decided.and_then(|r| r.status.as_deref()) {
        Some("returned") => PayoutStatus::Returned,
        Some("failed") => PayoutStatus::Failed,
        Some("pending") => PayoutStatus::Pending,
        _ if decided.is_some_and(|r| r.outcome == Outcome::Failure) => PayoutStatus::Failed,
        _ => PayoutStatus::Success,
    };
    let delay = ctx.decision.delay_or(cfg.payout_settle_delay_ms);
    let return_after = ctx
        .decision
        .values
        .get("returnAfter")
        .and_then(duration_ms)
        .unwrap_or(cfg.return_after_ms);
    let now = ctx.now();
    let (payout, replay) = ctx.with_state(|t| {
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
        let payee = t.pockyt.payees.get(&customer_no).ok_or_else(|| {
            PockytError::no_info(format!("no payee with customerNo {customer_no}"))
        })?;
        require_active(payee)?;
        let account = t
            .pockyt
            .accounts
            .get(&token)
            .filter(|a| !a.deleted)
            .ok_or_else(|| PockytError::no_info(format!("no payout account with accountToken {token}")))?;
        if account.customer_no != customer_no {
            return Err(PockytError::mismatch(format!(
                "accountToken {token} belongs to another payee, not customerNo {customer_no}"
            )));
        }
        if account.status != AccountStatus::Activated {
            return Err(PockytError::rejected(format!(
                "account status {}",
                account.status.upper()
            )));
        }
        let (vendor, account_ipn) = (account.account_type.clone(), account.ipn_url.clone());
        let debit = Money::new(-total.minor, currency);
        t.ledger
            .post(
                now,
                format!("pockyt payout {invoice}"),
                &[
                    (&available(currency), debit),
                    (&in_flight(currency), amount),
                    (&fees(currency), fee),
                ],
            )
            .map_err(|e| match e {
                LedgerError::Insufficient { available, .. } => PockytError::rejected(format!(
                    "account balance not sufficient: available {available}, needed {total} (amount {amount} + fee {fee})"
                )),
                other => insufficient(other),
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
        schedule(
            ctx.app,
            ctx.tenant,
            &payout.transaction_no,
            delay,
            to,
            reason,
        );
    }
    Ok(Reply::new("pending").with("result", view(&payout)))
}

pub fn inquiry(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    let invoice = fields::optional(f, "invoiceId")?;
    let number = fields::optional(f, "transactionNo")?;
    ctx.with_state(|t| {
        let by_invoice = invoice.as_ref().map(|i| {
            t.pockyt
                .invoices
                .get(i)
                .cloned()
                .ok_or_else(|| PockytError::no_info(format!("no payout with invoiceId {i}")))
        });
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
        let p =
            t.pockyt.payouts.get(&no).ok_or_else(|| {
                PockytError::no_info(format!("no payout with transactionNo {no}"))
            })?;
        Ok(Reply::new("query success").with("result", view(p)))
    })
}

fn schedule(
    app: &App,
    tenant: &TenantId,
    no: &str,
    delay: i64,
    to: PayoutStatus,
    reason: Option<String>,
) {
    let (app2, tenant, no2) = (app.clone(), tenant.clone(), no.to_owned());
    app.clock().schedule_in(
        delay,
        format!("pockyt:payout:{no}:{}", to.as_str()),
        Box::new(move || {
            Box::pin(async move {
                if let Err(e) = finish(&app2, &tenant, &no2, to, reason) {
                    tracing::debug!(error = %e, "scheduled payout step skipped");
                }
            })
        }),
    );
}

/// Applies one status change with its ledger posting, then sends the IPN.
pub fn finish(
    app: &App,
    tenant: &TenantId,
    no: &str,
    to: PayoutStatus,
    reason: Option<String>,
) -> Result<Value, String> {
    let now = app.clock().now();
    let refund_fee = app.config().pockyt.refund_fee_on_return;
    let payout = app
        .store()
        .with_tenant(tenant, |t| apply(t, no, to, reason, now, refund_fee))
        .unwrap_or_else(|| Err(format!("no tenant {tenant}")))?;
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
    let id = app.outbox().enqueue(NotificationSpec {
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
            app,
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
) -> Result<Payout, String> {
    let p = t
        .pockyt
        .payouts
        .get(no)
        .ok_or_else(|| format!("no payout with transactionNo {no}"))?;
    let (c, amount, fee) = (p.amount.currency, p.amount, p.fee);
    let neg = |m: Money| Money::new(-m.minor, m.currency);
    let memo = format!("pockyt payout {} {}", p.invoice_id, to.as_str());
    let posted = match (p.status, to) {
        (PayoutStatus::Pending, PayoutStatus::Success) => {
            t.ledger
                .transfer(now, memo, &in_flight(c), "external:payout", amount)
        }
        (PayoutStatus::Pending, PayoutStatus::Failed) => t.ledger.post(
            now,
            memo,
            &[
                (&in_flight(c), neg(amount)),
                (&fees(c), neg(fee)),
                (&available(c), amount.checked_add(fee).unwrap_or(amount)),
            ],
        ),
        (PayoutStatus::Success, PayoutStatus::Returned) if refund_fee => t.ledger.post(
            now,
            memo,
            &[
                ("external:payout", neg(amount)),
                (&fees(c), neg(fee)),
                (&available(c), amount.checked_add(fee).unwrap_or(amount)),
            ],
        ),
        (PayoutStatus::Success, PayoutStatus::Returned) => {
            t.ledger
                .transfer(now, memo, "external:payout", &available(c), amount)
        }
        (from, to) => {
            return Err(format!(
                "payout {no} is {}; it cannot become {}",
                from.as_str(),
                to.as_str()
            ))
        }
    };
    posted.map_err(|e| format!("ledger refused the {} posting: {e}", to.as_str()))?;
    let p = t
        .pockyt
        .payouts
        .get_mut(no)
        .ok_or_else(|| format!("no payout with transactionNo {no}"))?;
    p.status = to;
    p.payment_time = Some(now);
    p.reason = reason.or(p.reason.take());
    Ok(p.clone())
}

fn run(app: App, params: Map<String, Value>, to: PayoutStatus) -> TriggerFuture {
    Box::pin(async move {
        let (_, tenant) = trigger_merchant(&app, &params)?;
        let no = match (
            opt_param(&params, "transactionNo"),
            opt_param(&params, "invoiceId"),
        ) {
            (Some(n), _) => n.to_owned(),
            (None, Some(i)) => app
                .store()
                .with_tenant(&tenant, |t| t.pockyt.invoices.get(i).cloned())
                .flatten()
                .ok_or_else(|| format!("no payout with invoiceId {i}"))?,
            (None, None) => return Err("parameter transactionNo or invoiceId is required".into()),
        };
        let reason = opt_param(&params, "reason").map(str::to_owned);
        finish(&app, &tenant, &no, to, reason)
    })
}

const PARAMS: &[(&str, &str)] = &[
    ("transactionNo?", "the payout (or invoiceId)"),
    ("invoiceId?", "the payout (or transactionNo)"),
    ("reason?", "recorded on the payout"),
    ("merchantNo?", "default 202333"),
];

pub const TRIGGERS: &[TriggerDef] = &[
    TriggerDef {
        name: "pockyt.payout.succeeded",
        description: "a pending payout is credited to the payee now (IPN status success)",
        params: PARAMS,
        run: |app, p| run(app, p, PayoutStatus::Success),
    },
    TriggerDef {
        name: "pockyt.payout.failed",
        description: "a pending payout fails; amount and fee go back to the balance (IPN status failed)",
        params: PARAMS,
        run: |app, p| run(app, p, PayoutStatus::Failed),
    },
    TriggerDef {
        name: "pockyt.payout.returned",
        description: "a successful payout is returned by the payee's bank; the amount goes back to the balance (IPN status returned)",
        params: PARAMS,
        run: |app, p| run(app, p, PayoutStatus::Returned),
    },
];
