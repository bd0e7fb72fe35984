//! How payouts and pays look on the wire and how they end: [`view`], [`complete`] (out to the
//! payee, or back to the available balance, then the result notification) and the triggers that
//! decide a confirmed order now.

use serde_json::{json, Map, Value};

use super::outflow::names;
use crate::api::whalet::common::review::{conclude, decide_now, Notice};
use crate::api::whalet::common::{again, CompletionFn, Verdict};
use crate::api::whalet::fx::rate_number;
use crate::api::whalet::replenish::open_about;
use crate::api::whalet::whalet_time;
use crate::core::Core;
use crate::store::whalet::{wallet_account, Bucket};
use crate::store::whalet_trade::{
    Outflow, OutflowKind, OutflowStatus, ReplenishKind, EXTERNAL_PAYOUT,
};
use crate::tenant::TenantId;
use crate::trigger::TriggerFuture;

/// An outflow on the wire.
pub fn view(o: &Outflow) -> Value {
    let n = names(o.kind);
    let mut v = json!({
        "userId": o.user_id,
        n.id: o.id,
        n.out_id: o.out_id,
        "fundSource": o.fund_source.as_str(),
        "amount": o.amount.to_whalet(),
        "currency": o.amount.currency.code(),
        "toAmount": o.to_amount.to_whalet(),
        "toCurrency": o.to_amount.currency.code(),
        "rateId": o.rate_id,
        "rate": o.rate.as_deref().map(rate_number),
        "payeeName": o.payee_name,
        "purpose": o.purpose,
        "remark": o.remark,
        "status": o.reported_status,
        "reason": o.reason,
        "createTime": whalet_time(o.created_at),
        "confirmTime": o.confirmed_at.map(whalet_time),
        "finishTime": o.finished_at.map(whalet_time),
    });
    if let Value::Object(map) = &mut v {
        match o.kind {
            OutflowKind::Payout => {
                map.insert("beneficiaryId".into(), json!(o.beneficiary_id));
            }
            OutflowKind::Pay => {
                map.insert("tradeCredential".into(), json!(o.credentials.iter().map(|f| json!({"fileId": f.file_id, "fileName": f.file_name, "fileUrl": f.file_url})).collect::<Vec<_>>()));
            }
        }
    }
    v
}

/// Ends a PROCESSING outflow of either kind: out to the payee, or back to the available
/// balance. The completion of a scheduled result and of a decided EDD.
pub fn complete(
    core: &Core,
    tenant: &TenantId,
    id: &str,
    attempt: Option<u32>,
    v: Verdict,
) -> Result<Value, String> {
    finish(core, tenant, (id, attempt), v, None)
}

/// Ends outflow `id` (of `kind` when given) with the verdict, unless an EDD still holds it.
fn finish(
    core: &Core,
    tenant: &TenantId,
    (id, attempt): (&str, Option<u32>),
    v: Verdict,
    kind: Option<OutflowKind>,
) -> Result<Value, String> {
    conclude(core, tenant, (id, attempt), &v, changes, |t, now| {
        let o = t.whalet_trade.outflows.get(id).ok_or_else(|| {
            let what = kind.map_or("payout or supplier payment", |k| names(k).what);
            format!("{id:?} is not a {what} of partner {}", tenant.id)
        })?;
        if let Some(kind) = kind.filter(|k| *k != o.kind) {
            let (asked, is) = (names(kind), names(o.kind));
            return Err(format!(
                "{id} is a {}, not a {}: decide it with {}.succeeded or {}.failed",
                is.what, asked.what, is.trigger, is.trigger
            ));
        }
        if o.status != OutflowStatus::Processing {
            return Err(format!(
                "{id} is not processing (status {})",
                o.reported_status
            ));
        }
        if let Some(edd) = open_about(t, ReplenishKind::Edd, id).next() {
            return Err(format!(
                "{} {id} is held for EDD {} (status {}) and ends only when that EDD is decided: \
                 submit its material (eddReplenishSubmit) and decide it \
                 (whalet.replenish.approved or whalet.replenish.rejected)",
                names(o.kind).what,
                edd.replenish_id,
                edd.status
            ));
        }
        let frozen = wallet_account(&o.user_id, o.fund_source, Bucket::Frozen);
        let (to, memo) = v.pick(
            (EXTERNAL_PAYOUT.to_owned(), "paid out"),
            (
                wallet_account(&o.user_id, o.fund_source, Bucket::Available),
                "returned",
            ),
        );
        let (amount, what) = (o.amount, names(o.kind).what);
        if let Err(e) = t
            .ledger
            .transfer(now, format!("{id} {memo}"), &frozen, &to, amount)
        {
            let why = format!(
                "{what} {id} cannot end: {e}; the ledger does not hold its money where its \
                 status says (PROCESSING: {amount} in {frozen}), so it stays PROCESSING"
            );
            // Processing, yet its result cannot take effect: not a routine stale decision.
            tracing::warn!(
                outflow = id,
                why,
                "decision not applied to a processing payout or supplier payment"
            );
            return Err(why);
        }
        let o = again(&mut t.whalet_trade.outflows, id, id)?;
        o.status = v.pick(OutflowStatus::Success, OutflowStatus::Failure);
        o.reported_status = v.word("SUCCESS", "FAILURE");
        o.reason = v.refusal("refused by the receiving bank");
        o.finished_at = Some(now);
        Ok(Notice {
            api_code: names(o.kind).notify,
            payload: view(o),
        })
    })
}

/// What an outflow's result counts for coverage (the succeeded and the failed change), by the
/// notification it sends.
fn changes(n: &Notice) -> (&'static str, &'static str) {
    if n.api_code == names(OutflowKind::Pay).notify {
        ("whalet.pay.succeeded", "whalet.pay.failed")
    } else {
        ("whalet.payout.succeeded", "whalet.payout.failed")
    }
}

/// The completion of the `whalet.payout.*` triggers: [`finish`] for a payout only.
const COMPLETE_PAYOUT: CompletionFn = |core, tenant, id, attempt, v| {
    finish(core, tenant, (id, attempt), v, Some(OutflowKind::Payout))
};
/// The completion of the `whalet.pay.*` triggers: [`finish`] for a supplier payment only.
const COMPLETE_PAY: CompletionFn =
    |core, tenant, id, attempt, v| finish(core, tenant, (id, attempt), v, Some(OutflowKind::Pay));

pub fn payout_succeeded(core: Core, params: Map<String, Value>) -> TriggerFuture {
    decide_now(core, params, "payoutId", true, COMPLETE_PAYOUT)
}
pub fn payout_failed(core: Core, params: Map<String, Value>) -> TriggerFuture {
    decide_now(core, params, "payoutId", false, COMPLETE_PAYOUT)
}
pub fn pay_succeeded(core: Core, params: Map<String, Value>) -> TriggerFuture {
    decide_now(core, params, "payId", true, COMPLETE_PAY)
}
pub fn pay_failed(core: Core, params: Map<String, Value>) -> TriggerFuture {
    decide_now(core, params, "payId", false, COMPLETE_PAY)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::api::whalet::common::testing::TestBed;
    use crate::money::{Currency, Money};
    use crate::store::whalet::FundSource;

    /// A PROCESSING payout of `amount` minor units of USD, with nothing frozen for it.
    fn processing(amount: i64) -> Outflow {
        let usd = Currency::parse("USD").unwrap();
        Outflow {
            id: "PO1".into(),
            kind: OutflowKind::Payout,
            out_id: "o1".into(),
            user_id: "U1".into(),
            fund_source: FundSource::B2C,
            amount: Money::new(amount, usd),
            to_amount: Money::new(amount, usd),
            rate_id: None,
            rate: None,
            beneficiary_id: Some("BN1".into()),
            payee_name: String::new(),
            purpose: String::new(),
            remark: String::new(),
            credentials: Vec::new(),
            status: OutflowStatus::Processing,
            reported_status: "PROCESSING".into(),
            reason: String::new(),
            created_at: 0,
            confirmed_at: Some(0),
            finished_at: None,
            after_edd: None,
        }
    }

    /// Regression: a scheduled result that the ledger refused (the payout's money not frozen,
    /// as an edited snapshot once let in) was dropped at debug level, and the payout stayed
    /// PROCESSING for good without a word. It is a warning saying why; nothing changes.
    #[tokio::test]
    async fn a_result_the_ledger_cannot_take_is_logged_as_a_warning_saying_why() {
        let (logs, _logging) = crate::test_logs::capture(tracing::Level::WARN);
        let bed = TestBed::new();
        bed.seed(Some("USD"));
        bed.core
            .with_tenant(&bed.tenant, |t| {
                t.whalet_trade
                    .outflows
                    .insert("PO1".into(), processing(500_000))
            })
            .ok()
            .unwrap();
        let why = complete(&bed.core, &bed.tenant, "PO1", Some(1), Verdict::approve()).unwrap_err();
        assert!(
            why.contains("payout PO1 cannot end") && why.contains("insufficient balance"),
            "{why}"
        );
        let status = bed
            .core
            .with_tenant(&bed.tenant, |t| t.whalet_trade.outflows["PO1"].status)
            .ok()
            .unwrap();
        assert_eq!(status, OutflowStatus::Processing);
        assert!(bed.sent("payoutResultNotify").is_empty());
        let logged = logs.text();
        assert!(
            logged.contains("WARN")
                && logged.contains("decision not applied to a processing payout")
                && logged.contains("payout PO1 cannot end"),
            "{logged}"
        );
    }
}
