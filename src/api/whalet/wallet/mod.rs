//! Wallets (钱包): `queryCurrencyBalance` (a user's balances per currency for one fund source:
//! the documented example's JSON array of Money objects, or with `[whalet]
//! currency_balance_shape = "records"` the documented schema's `{records: [...]}` of numbers)
//! and `queryPlatformBalance` (the same figures summed over every user of the partner, one row
//! per fund source and currency). Balances are read from the ledger accounts
//! `wallet:{userId}:{fundSource}:{available|pending|frozen}`; nothing is stored twice.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::common::fields::Check;
use super::Operation;
use crate::api::whalet::{Ctx, Reply};
use crate::config::CurrencyBalanceShape;
use crate::money::{Currency, Money, MAX_MINOR};
use crate::store::whalet::{Bucket, FundSource};
use crate::store::whalet_trade::TradeOrderStatus;
use crate::store::Ledger;
use crate::wire::whalet::WhaletError;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "queryCurrencyBalance",
        handler: currency_balance,
    },
    Operation {
        name: "queryPlatformBalance",
        handler: platform_balance,
    },
];

const FUND_SOURCES: &[&str] = &["B2C", "B2B", "Acquiring"];

/// Available, pending and frozen amounts of one currency.
#[derive(Debug, Clone, Copy)]
struct Figures {
    available: Money,
    pending: Money,
    frozen: Money,
}

impl Figures {
    fn zero(c: Currency) -> Self {
        Self {
            available: Money::zero(c),
            pending: Money::zero(c),
            frozen: Money::zero(c),
        }
    }

    fn add(&mut self, bucket: Bucket, m: Money) {
        let slot = match bucket {
            Bucket::Available => &mut self.available,
            Bucket::Pending => &mut self.pending,
            Bucket::Frozen => &mut self.frozen,
        };
        *slot = slot.checked_add(m).unwrap_or(*slot);
    }
}

/// Sums the wallet accounts matching `user` (None = every user) and `fund` (None = all), per
/// fund source and currency: a fund source is a balance of its own, never added to another.
fn figures(
    ledger: &Ledger,
    user: Option<&str>,
    fund: Option<FundSource>,
) -> BTreeMap<(FundSource, String), Figures> {
    let mut out: BTreeMap<(FundSource, String), Figures> = BTreeMap::new();
    for (account, money) in ledger.balances_with_prefix("wallet:") {
        let mut parts = account.rsplitn(3, ':');
        let (Some(bucket), Some(f), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let account_user = rest.strip_prefix("wallet:").unwrap_or(rest);
        let Some(f) = FundSource::parse(f) else {
            continue;
        };
        if user.is_some_and(|u| u != account_user) || fund.is_some_and(|x| x != f) {
            continue;
        }
        let bucket = match bucket {
            "available" => Bucket::Available,
            "pending" => Bucket::Pending,
            "frozen" => Bucket::Frozen,
            _ => continue,
        };
        out.entry((f, money.currency.code().to_owned()))
            .or_insert_with(|| Figures::zero(money.currency))
            .add(bucket, money);
    }
    out
}

fn cny() -> Option<Currency> {
    Currency::parse("CNY").ok()
}

pub fn currency_balance(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let currency = c.currency("currency", false);
    let fund = c.one_of("fundSource", FUND_SOURCES, true);
    c.finish()?;
    let fund = fund.and_then(FundSource::parse);
    ctx.with_state(|t| {
        t.whalet.user(user_id)?;
        // One fund source asked: one row per currency.
        let mut rows: BTreeMap<String, Figures> = figures(&t.ledger, Some(user_id), fund)
            .into_iter()
            .map(|((_, code), f)| (code, f))
            .collect();
        // Currencies the user can receive show up even before money arrives.
        for card in t.whalet.cards.values() {
            if card.user_id == user_id && Some(card.fund_source) == fund {
                rows.entry(card.currency.code().to_owned())
                    .or_insert_with(|| Figures::zero(card.currency));
            }
        }
        // orderQuota (B2B): what the user's OPEN trade orders still leave unbound
        // ([`order_quota`] shows it).
        let mut quota: BTreeMap<String, i64> = BTreeMap::new();
        for o in t.whalet_trade.orders.values() {
            if o.user_id == user_id
                && o.status == TradeOrderStatus::Open
                && fund == Some(FundSource::B2B)
            {
                let slot = quota
                    .entry(o.amount.currency.code().to_owned())
                    .or_default();
                *slot = slot.saturating_add(o.amount.minor - o.bound.minor);
                rows.entry(o.amount.currency.code().to_owned())
                    .or_insert_with(|| Figures::zero(o.amount.currency));
            }
        }
        if let Some(cur) = currency {
            rows.retain(|code, _| code == cur.code());
            rows.entry(cur.code().to_owned())
                .or_insert_with(|| Figures::zero(cur));
        }
        let shape = ctx.core.config().whalet.currency_balance_shape;
        let list: Vec<Value> = rows
            .values()
            .map(|f| {
                let currency = f.available.currency;
                let open_quota = order_quota(&quota, currency);
                if shape == CurrencyBalanceShape::Records {
                    return json!({
                        "balance": number(f.available),
                        "orderQuota": number(open_quota),
                        "currency": currency.code(),
                        "pendingAmount": number(f.pending),
                        "freezeAmount": number(f.frozen),
                    });
                }
                let rmb = match cny() {
                    Some(cny) if currency == cny => f.available,
                    Some(cny) => Money::zero(cny),
                    None => Money::zero(currency),
                };
                json!({
                    "balance": f.available.to_whalet(),
                    "orderQuota": open_quota.to_whalet(),
                    "currency": currency.code(),
                    "rmbAmount": rmb.to_whalet(),
                    "pendingAmount": f.pending.to_whalet(),
                    "freezeAmount": f.frozen.to_whalet(),
                })
            })
            .collect();
        Ok(Reply::ok(match shape {
            CurrencyBalanceShape::Array => Value::Array(list),
            CurrencyBalanceShape::Records => json!({ "records": list }),
        }))
    })?
}

/// The `orderQuota` of `currency`: the sum of what the user's OPEN orders in it leave unbound,
/// shown as at most [`MAX_MINOR`] minor units. Each order is at most that, but several may add
/// up to more; the Money object never goes past it (docs/FIDELITY.md, "Money object"), so its
/// `amount` stays exact and agrees with its `cent`.
fn order_quota(quota: &BTreeMap<String, i64>, currency: Currency) -> Money {
    let sum = quota.get(currency.code()).copied().unwrap_or(0);
    Money::new(sum.clamp(0, MAX_MINOR), currency)
}

/// An amount as the schema's `number <double>`: the `amount` of its Money object.
fn number(m: Money) -> Value {
    m.to_whalet().get("amount").cloned().unwrap_or(Value::Null)
}

pub fn platform_balance(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let currency = c.currency("currency", false);
    let fund = c.one_of("fundSource", FUND_SOURCES, false);
    c.finish()?;
    let fund = fund.and_then(FundSource::parse);
    Ok(ctx.with_state(|t| {
        let mut rows = figures(&t.ledger, None, fund);
        if let Some(cur) = currency {
            rows.retain(|(_, code), _| code == cur.code());
            // The currency asked shows for every fund source asked, zeros if nothing.
            let asked = fund.as_ref().map_or(FundSource::ALL, std::slice::from_ref);
            for f in asked {
                rows.entry((*f, cur.code().to_owned()))
                    .or_insert_with(|| Figures::zero(cur));
            }
        }
        let list: Vec<Value> = rows
            .iter()
            .map(|((fund, _), f)| {
                json!({
                    "currency": f.available.currency.code(),
                    "fundSource": fund.as_str(),
                    "balance": f.available.to_whalet(),
                    "pendingAmount": f.pending.to_whalet(),
                    "freezeAmount": f.frozen.to_whalet(),
                })
            })
            .collect();
        Reply::ok(Value::Array(list))
    })?)
}
