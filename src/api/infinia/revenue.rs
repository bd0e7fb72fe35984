//! `available-revenue/query` (inferred path, spec §2.6 "Seller's Available Revenue Share
//! Query"): what a seller may still receive per currency. Rule (docs/INFINIA.md): earned = sum
//! of the seller's processed trade rows (SALE +, RETURN −, EXCHANGE ±); available = earned minus
//! revenue sharings that are PROCESSING or SUCCESS, never below zero.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::fields::{optional_currency, required, text};
use super::{Ctx, Operation};
use crate::money::{Currency, Money};
use crate::store::infinia::SharingStatus;
use crate::wire::infinia::InfiniaError;

pub const OPERATION: Operation = Operation {
    name: "available-revenue/query",
    handler,
};

fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Value, InfiniaError> {
    let seller_id = required(body, "sellerId", 64)?;
    let wanted = optional_currency(body, "currency")?;
    Ok(ctx.with_state(|t| {
        let s = &t.infinia;
        let mut codes: BTreeSet<String> = s
            .earned
            .get(seller_id)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        if let Some(c) = wanted {
            codes.retain(|x| x == c.code());
            codes.insert(c.code().to_owned());
        }
        let revenues: Vec<Value> = codes
            .iter()
            .filter_map(|code| {
                let c = Currency::parse(code).ok()?;
                let earned = s.earned.get(seller_id).and_then(|m| m.get(code)).copied().unwrap_or(0);
                let sum = |status: SharingStatus| -> i64 {
                    s.sharings
                        .values()
                        .filter(|x| x.status == status && x.total.currency == c)
                        .flat_map(|x| x.items.iter())
                        .filter(|i| i.seller_id == seller_id)
                        .map(|i| i.amount.minor)
                        .sum()
                };
                Some(json!({
                    "currency": code,
                    "availableAmount": Money::new(s.available_minor(seller_id, code), c).to_decimal_string(),
                    "earnedAmount": Money::new(earned, c).to_decimal_string(),
                    "sharedAmount": Money::new(sum(SharingStatus::Success), c).to_decimal_string(),
                    "processingAmount": Money::new(sum(SharingStatus::Processing), c).to_decimal_string(),
                }))
            })
            .collect();
        json!({
            "sellerId": seller_id,
            "sellerStatus": text(s.sellers.get(seller_id).map(|x| x.status.as_str())),
            "revenues": revenues,
        })
    })?)
}
