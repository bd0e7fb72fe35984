//! The merchant's payout balance: `/v3/payouts/balance` (one currency, or all) and the
//! `pockyt.balance.funded` trigger that brings money in (`external:funding` → available).

use serde_json::{json, Map, Value};

use super::fields::{self, Fields};
use super::{available, in_flight, trigger_merchant, Ctx, Reply};
use crate::core::Core;
use crate::core::Trigger;
use crate::money::{Currency, Money};
use crate::store::{Refusal, TenantState};
use crate::trigger::{param, TriggerFuture};
use crate::wire::pockyt::PockytError;

fn view(t: &TenantState, c: Currency) -> Value {
    json!({
        "currency": c.code(),
        "balance": t.ledger.balance(&available(c), c).to_decimal_string(),
        "pendingAmount": t.ledger.balance(&in_flight(c), c).to_decimal_string(),
    })
}

pub fn balance(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    // Only a currency pay pays in, refused as pay refuses another (no balance can hold one).
    let currency = fields::payout_currency(f, "currency", false)?;
    ctx.try_with_state(|t| {
        if let Some(c) = currency {
            return Ok(Reply::new("query success").with("result", view(t, c)));
        }
        let mut currencies: Vec<Currency> = t
            .ledger
            .balances_with_prefix("merchant:")
            .map(|(_, m)| m.currency)
            .collect();
        currencies.sort();
        currencies.dedup();
        let list: Vec<Value> = currencies.into_iter().map(|c| view(t, c)).collect();
        Ok(Reply::new("query success").with("balances", Value::Array(list)))
    })
}

fn funded(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let (_, tenant) = trigger_merchant(&core, &params)?;
        let currency = Currency::parse(param(&params, "currency")?).map_err(|e| e.0)?;
        if let Some(refusal) = fields::not_a_payout_currency(currency) {
            return Err(refusal);
        }
        let amount = Money::parse(param(&params, "amount")?, currency).map_err(|e| e.0)?;
        if !amount.is_positive() {
            return Err("amount must be greater than zero".into());
        }
        let now = core.clock().now();
        let funded = core.with_tenant_text(&tenant, |t| -> Result<Value, Refusal> {
            t.ledger.transfer(
                now,
                "pockyt funding",
                "external:funding",
                &available(currency),
                amount,
            )?;
            Ok(view(t, currency))
        })?;
        Ok(funded?)
    })
}

pub const TRIGGERS: &[Trigger] = &[Trigger {
    name: "pockyt.balance.funded",
    description: "the merchant tops up its payout balance",
    params: &[
        ("currency", "a payout currency, e.g. USD"),
        ("amount", "decimal text, e.g. 5000.00"),
        ("merchantNo?", crate::trigger::DEFAULT_MERCHANT),
    ],
    run: funded,
}];
