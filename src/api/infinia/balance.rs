//! `account-balance/query` (inferred path, spec §2.6 "Platform Account Balance Query"): the
//! platform account's available balance per currency, and what PROCESSING revenue sharings hold.

use serde_json::{json, Value};

use super::fields::optional_currency;
use super::{Ctx, Operation};
use crate::money::{Currency, Money};
use crate::store::infinia::{SharingStatus, PLATFORM_ACCOUNT};
use crate::wire::infinia::InfiniaError;

pub const OPERATION: Operation = Operation {
    name: "account-balance/query",
    handler,
};

fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Value, InfiniaError> {
    let wanted = optional_currency(body, "currency")?;
    Ok(ctx.with_state(|t| {
        let mut currencies: Vec<Currency> = t
            .ledger
            .balances_with_prefix(PLATFORM_ACCOUNT)
            .filter(|(account, _)| *account == PLATFORM_ACCOUNT)
            .map(|(_, m)| m.currency)
            .collect();
        if let Some(c) = wanted {
            currencies.retain(|x| *x == c);
            if currencies.is_empty() {
                currencies.push(c);
            }
        }
        let balances: Vec<Value> = currencies
            .into_iter()
            .map(|c| {
                let available = t.ledger.balance(PLATFORM_ACCOUNT, c);
                let pending: i64 = t
                    .infinia
                    .sharings
                    .values()
                    .filter(|s| s.status == SharingStatus::Processing && s.total.currency == c)
                    .map(|s| s.total.minor)
                    .sum();
                json!({
                    "currency": c.code(),
                    "availableBalance": available.to_decimal_string(),
                    "pendingRevenueSharing": Money::new(pending, c).to_decimal_string(),
                })
            })
            .collect();
        json!({ "accountBalances": balances })
    })?)
}
