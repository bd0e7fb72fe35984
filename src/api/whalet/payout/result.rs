//! How payouts and pays look on the wire and how they end: [`view`], [`complete`] (out to the
//! payee, or back to the available balance, then the result notification) and the triggers that
//! decide a confirmed order now.

use serde_json::{json, Map, Value};

use super::outflow::names;
use crate::api::whalet::common::review::{conclude, decide_now, Notice};
use crate::api::whalet::common::{again, Verdict};
use crate::api::whalet::whalet_time;
use crate::core::Core;
use crate::store::whalet::{wallet_account, Bucket};
use crate::store::whalet_trade::{Outflow, OutflowKind, OutflowStatus, EXTERNAL_PAYOUT};
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
        "rate": o.rate,
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

/// Ends a PROCESSING outflow: out to the payee, or back to the available balance.
pub fn complete(
    core: &Core,
    tenant: &TenantId,
    id: &str,
    attempt: Option<u32>,
    v: Verdict,
) -> Result<Value, String> {
    conclude(core, tenant, (id, attempt), &v, changes, |t, now| {
        let o = t
            .whalet_trade
            .outflows
            .get(id)
            .ok_or_else(|| format!("{id:?} is not a payout or pay of partner {}", tenant.id))?;
        if o.status != OutflowStatus::Processing {
            return Err(format!(
                "{id} is not processing (status {})",
                o.reported_status
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
        let amount = o.amount;
        t.ledger
            .transfer(now, format!("{id} {memo}"), &frozen, &to, amount)
            .map_err(|e| format!("{id}: {e}"))?;
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

pub fn payout_succeeded(core: Core, params: Map<String, Value>) -> TriggerFuture {
    decide_now(core, params, "payoutId", true, complete)
}
pub fn payout_failed(core: Core, params: Map<String, Value>) -> TriggerFuture {
    decide_now(core, params, "payoutId", false, complete)
}
pub fn pay_succeeded(core: Core, params: Map<String, Value>) -> TriggerFuture {
    decide_now(core, params, "payId", true, complete)
}
pub fn pay_failed(core: Core, params: Map<String, Value>) -> TriggerFuture {
    decide_now(core, params, "payId", false, complete)
}
