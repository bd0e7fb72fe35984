//! `tradeOrderBindApply` (关联外贸订单): links a B2B collection (`tradeId`) to trade orders with
//! the amount each covers; reviewed (10 s of virtual time by default), result by
//! `tradeOrderBindNotify`. What PROCESSING and SUCCESS bindings claim of a collection never
//! exceeds its amount, nor of an order its amount. On success each order's bound amount grows;
//! an order with `autoClose = Y` closes after this binding, any order closes once fully bound.
//! Returning the collection ends its bindings ([`release_returned`]).

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::api::whalet::common::fields::{positive_amount, Check};
use crate::api::whalet::common::kinds::BindReview;
use crate::api::whalet::common::owned::user_record;
use crate::api::whalet::common::review::{self, Notice, Review, Settle};
use crate::api::whalet::common::{again, failure, mint};
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::clock::Millis;
use crate::money::Money;
use crate::store::whalet::{CollectionStatus, FundSource, ReviewStatus};
use crate::store::whalet_trade::{Binding, TradeOrderStatus};
use crate::store::TenantState;
use crate::wire::whalet::{json_type, WhaletError};

const MAX_ORDERS: usize = 50;

struct Line<'a> {
    order_id: &'a str,
    amount: &'a Value,
    auto_close: bool,
}

fn lines<'a>(c: &mut Check<'a>, body: &'a Value) -> Vec<Line<'a>> {
    crate::api::describe::record("orders", "array", true, &[]);
    let items = match body.get("orders") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_ORDERS => items,
        Some(Value::Array(_)) => {
            c.problem(format!("orders must list 1 to {MAX_ORDERS} orders"));
            return Vec::new();
        }
        None | Some(Value::Null) => {
            c.problem("orders is required");
            return Vec::new();
        }
        Some(other) => {
            c.problem(format!("orders must be an array, got {}", json_type(other)));
            return Vec::new();
        }
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        // What a row reads, for describe mode (`crate::api::describe`).
        let at = |field: &str| format!("orders[{i}].{field}");
        crate::api::describe::record(&at("orderId"), "id", true, &[]);
        crate::api::describe::record(&at("amount"), "amount", true, &[]);
        crate::api::describe::record(&at("autoClose"), "flag", false, &["Y", "N"]);
        let order_id = item.get("orderId").and_then(Value::as_str).unwrap_or("");
        if order_id.is_empty() {
            c.problem(format!("orders[{i}].orderId is required"));
            continue;
        }
        if !seen.insert(order_id) {
            c.problem(format!("orders[{i}].orderId {order_id:?} is listed twice"));
        }
        let amount = item.get("amount").unwrap_or(&Value::Null);
        if amount.is_null() {
            c.problem(format!("orders[{i}].amount is required"));
        }
        let auto_close = match item.get("autoClose") {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) if s == "Y" => true,
            Some(Value::String(s)) if s == "N" || s.is_empty() => false,
            Some(other) => {
                c.problem(format!(
                    "orders[{i}].autoClose must be \"Y\" or \"N\", got {other}"
                ));
                false
            }
        };
        out.push(Line {
            order_id,
            amount,
            auto_close,
        });
    }
    out
}

pub fn apply(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let trade_id = c.id("tradeId");
    let lines = lines(&mut c, body);
    c.finish()?;
    let now = ctx.now();
    ctx.with_state(|t| {
        t.whalet.user(user_id)?;
        let col = user_record(&t.whalet.collections, ("tradeId", trade_id, "collection"), user_id)?;
        if col.fund_source != FundSource::B2B {
            return Err(failure(format!("collection {trade_id} is {}; trade orders bind B2B collections only", col.fund_source.as_str())));
        }
        if col.status == CollectionStatus::Failure {
            return Err(failure(format!("collection {trade_id} was returned ({}); it cannot be bound", col.reason)));
        }
        let currency = col.amount.currency;
        let col_amount = col.amount;
        let mut orders = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let amount = positive_amount(&format!("orders[{i}].amount"), line.amount, currency)
                .map_err(WhaletError::parameter)?;
            let field = format!("orders[{i}].orderId");
            let order = user_record(&t.whalet_trade.orders, (&field, line.order_id, "trade order"), user_id)?;
            if order.status != TradeOrderStatus::Open {
                return Err(failure(format!("trade order {} is {}", order.order_id, order.status)));
            }
            if order.amount.currency != currency {
                return Err(failure(format!("trade order {} is in {}, collection {trade_id} in {currency}", order.order_id, order.amount.currency)));
            }
            let claimed = t.whalet_trade.claimed(None, Some(line.order_id));
            if claimed + i128::from(amount.minor) > i128::from(order.amount.minor) {
                return Err(failure(format!(
                    "trade order {} has {} {currency} left to bind, {} asked",
                    order.order_id,
                    Money::new(narrow(i128::from(order.amount.minor) - claimed), currency).to_decimal_string(),
                    amount.to_decimal_string()
                )));
            }
            orders.push((line.order_id.to_owned(), amount, line.auto_close));
        }
        let asked: i128 = orders.iter().map(|(_, m, _)| i128::from(m.minor)).sum();
        let claimed = t.whalet_trade.claimed(Some(trade_id), None);
        if claimed + asked > i128::from(col_amount.minor) {
            return Err(failure(format!(
                "collection {trade_id} cannot be bound beyond its amount: {} {currency} of {} is already bound, {} more asked",
                Money::new(narrow(claimed), currency).to_decimal_string(),
                col_amount.to_decimal_string(),
                Money::new(narrow(asked), currency).to_decimal_string()
            )));
        }
        let bind_id = mint(t, "TB", now);
        let binding = Binding {
            bind_id: bind_id.clone(),
            trade_id: trade_id.to_owned(),
            user_id: user_id.to_owned(),
            orders,
            status: ReviewStatus::Processing,
            message: String::new(),
            applied_at: now,
            decided_at: None,
        };
        let v = view(&binding);
        t.whalet_trade.bindings.insert(bind_id.clone(), binding);
        review::begin::<BindReview>(ctx, &bind_id, 1);
        Ok(Reply::processing(v))
    })?
}

/// A sum of amounts back in minor units (saturating; only absurd requests reach the limit).
fn narrow(minor: i128) -> i64 {
    i64::try_from(minor).unwrap_or(i64::MAX)
}

fn view(b: &Binding) -> Value {
    json!({
        "userId": b.user_id,
        "tradeId": b.trade_id,
        "bindId": b.bind_id,
        "orders": b.orders.iter().map(|(id, m, close)| json!({"orderId": id, "amount": m.to_whalet(), "autoClose": if *close { "Y" } else { "N" }})).collect::<Vec<_>>(),
        "status": b.status,
        "message": b.message,
        "applyTime": whalet_time(b.applied_at),
    })
}

/// Why a returned collection's bindings ended, in their `message`.
fn returned_message(trade_id: &str, approved: bool) -> String {
    match approved {
        true => format!(
            "collection {trade_id} was returned to the payer; its bound amounts were released from the orders"
        ),
        false => format!("collection {trade_id} was returned to the payer"),
    }
}

/// What returning collection `trade_id` does to its bindings (its money went back to the payer,
/// so none of it can stay bound): a binding under review is rejected, freeing its claim; an
/// approved one is undone, its amounts leaving the orders' bound amounts, and an order that
/// only it closed is OPEN again. Each ends FAILURE saying why; returns their notifications
/// (`tradeOrderBindNotify`), by bindId.
pub fn release_returned(t: &mut TenantState, trade_id: &str, now: Millis) -> Vec<(String, Value)> {
    let affected: Vec<(String, bool)> = t
        .whalet_trade
        .bindings
        .values()
        .filter(|b| b.trade_id == trade_id)
        .filter(|b| matches!(b.status, ReviewStatus::Processing | ReviewStatus::Success))
        .map(|b| (b.bind_id.clone(), b.status == ReviewStatus::Success))
        .collect();
    let mut notices = Vec::new();
    for (bind_id, approved) in affected {
        let Some(b) = t.whalet_trade.bindings.get_mut(&bind_id) else {
            continue;
        };
        b.status = ReviewStatus::Failure;
        b.message = returned_message(trade_id, approved);
        b.decided_at = Some(now);
        let (payload, lines) = (view(b), b.orders.clone());
        if approved {
            for (order_id, amount, _) in &lines {
                unbind(t, order_id, *amount, now);
            }
        }
        notices.push((bind_id, payload));
    }
    notices
}

/// Takes `amount` off order `order_id`'s bound amount; the order is OPEN again unless it stays
/// fully bound or another approved binding asked to close it (what closes an order).
fn unbind(t: &mut TenantState, order_id: &str, amount: Money, now: Millis) {
    let asked_to_close = t.whalet_trade.bindings.values().any(|b| {
        b.status == ReviewStatus::Success
            && b.orders
                .iter()
                .any(|(id, _, close)| id == order_id && *close)
    });
    let Some(o) = t.whalet_trade.orders.get_mut(order_id) else {
        return;
    };
    o.bound = o.bound.checked_sub(amount).unwrap_or(o.bound);
    if o.bound.minor < o.amount.minor && !asked_to_close {
        o.status = TradeOrderStatus::Open;
    }
    o.updated_at = now;
}

impl Review for BindReview {
    fn settle(t: &mut TenantState, s: Settle<'_>) -> Result<Notice, String> {
        let (id, v) = (s.id, s.v);
        let b = s.find(&t.whalet_trade.bindings, "a binding")?;
        let busy = (b.status == ReviewStatus::Processing, "is not under review");
        s.expect(&format!("binding {id}"), busy, b.status.as_str(), None)?;
        let lines = b.orders.clone();
        if v.success {
            for (order_id, amount, auto_close) in &lines {
                if let Some(o) = t.whalet_trade.orders.get_mut(order_id) {
                    o.bound = o.bound.checked_add(*amount).unwrap_or(o.bound);
                    if *auto_close || o.bound.minor >= o.amount.minor {
                        o.status = TradeOrderStatus::Closed;
                    }
                    o.updated_at = s.now;
                }
            }
        }
        let b = again(&mut t.whalet_trade.bindings, id, &format!("binding {id}"))?;
        b.status = ReviewStatus::decided(v.success);
        b.message = v.message("bound", "the orders do not match the collection");
        b.decided_at = Some(s.now);
        let mut payload = view(b);
        if let Some(map) = payload.as_object_mut() {
            map.insert("status".into(), Value::String(v.word("SUCCESS", "FAILURE")));
        }
        Ok(Notice {
            api_code: "tradeOrderBindNotify",
            payload,
        })
    }
}
