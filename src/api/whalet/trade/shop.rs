//! `shopOrderUpload` (上传订单, Shop Order Upload for B2C): a batch of marketplace orders backing
//! a user's B2C collections, recorded at once (SUCCESS). `batchNo` is the business id; each order
//! needs `orderNo`, `amount`, `currency` and `orderTime`; one bad order refuses the batch.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::api::whalet::common::fields::{positive_amount, Check};
use crate::api::whalet::common::{failure, mint, once};
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::clock::format::parse_china;
use crate::money::Currency;
use crate::store::whalet::ShopStatus;
use crate::store::whalet_trade::ShopOrder;
use crate::wire::whalet::{json_type, WhaletError};

const MAX_ORDERS: usize = 500;

pub fn upload(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let batch_no = c.id("batchNo");
    let shop_id = c.id("shopId");
    let mut total = 0usize;
    let mut normalized = Vec::new();
    crate::api::describe::record("orders", "array", true, &[]);
    match body.get("orders") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_ORDERS => {
            let mut seen = HashSet::new();
            for (i, item) in items.iter().enumerate() {
                // What the rows below read, for describe mode (`crate::api::describe`).
                for (field, kind, required) in [
                    ("orderNo", "id", true),
                    ("currency", "currency", true),
                    ("amount", "amount", true),
                    ("orderTime", "time", true),
                    ("goodsName", "string", false),
                ] {
                    crate::api::describe::record(
                        &format!("orders[{i}].{field}"),
                        kind,
                        required,
                        &[],
                    );
                }
                let text = |k: &str| {
                    item.get(k)
                        .and_then(Value::as_str)
                        .filter(|s| !s.trim().is_empty())
                };
                let Some(order_no) = text("orderNo") else {
                    c.problem(format!("orders[{i}].orderNo is required"));
                    continue;
                };
                if !seen.insert(order_no) {
                    c.problem(format!("orders[{i}].orderNo {order_no:?} is listed twice"));
                }
                let currency = match text("currency").map(Currency::parse) {
                    Some(Ok(cur)) => Some(cur),
                    Some(Err(e)) => {
                        c.problem(format!("orders[{i}].currency: {e}"));
                        None
                    }
                    None => {
                        c.problem(format!("orders[{i}].currency is required"));
                        None
                    }
                };
                let amount = match (item.get("amount"), currency) {
                    (None | Some(Value::Null), _) => {
                        c.problem(format!("orders[{i}].amount is required"));
                        None
                    }
                    (Some(v), Some(cur)) => {
                        match positive_amount(&format!("orders[{i}].amount"), v, cur) {
                            Ok(m) => Some(m),
                            Err(problem) => {
                                c.problem(problem);
                                None
                            }
                        }
                    }
                    _ => None,
                };
                match text("orderTime") {
                    Some(t) if parse_china(t).is_some() => {}
                    Some(t) => c.problem(format!(
                        "orders[{i}].orderTime must be yyyy-MM-dd HH:mm:ss (UTC+8), got {t:?}"
                    )),
                    None => c.problem(format!("orders[{i}].orderTime is required")),
                }
                if let Some(m) = amount {
                    total += 1;
                    normalized.push(json!({
                        "orderNo": order_no,
                        "amount": m.to_whalet(),
                        "currency": m.currency.code(),
                        "orderTime": text("orderTime"),
                        "goodsName": text("goodsName"),
                    }));
                }
            }
        }
        Some(Value::Array(_)) => c.problem(format!("orders must list 1 to {MAX_ORDERS} orders")),
        None | Some(Value::Null) => c.problem("orders is required"),
        Some(other) => c.problem(format!("orders must be an array, got {}", json_type(other))),
    }
    c.finish()?;
    let now = ctx.now();
    once(
        ctx,
        &format!("shopOrderUpload {user_id}"),
        "batchNo",
        batch_no,
        body,
        |_| false,
        |t| {
            t.whalet.onboarded_user(user_id)?;
            let bound = t.whalet.shops.values().any(|s| {
                s.user_id == user_id && s.shop_id == shop_id && s.status == ShopStatus::Bound
            });
            if !bound {
                return Err(failure(format!(
                    "shop {shop_id} is not bound to a collection account of user {user_id}"
                )));
            }
            let upload_id = mint(t, "SO", now);
            t.whalet_trade.shop_orders.insert(
                upload_id.clone(),
                ShopOrder {
                    upload_id: upload_id.clone(),
                    user_id: user_id.to_owned(),
                    batch_no: batch_no.to_owned(),
                    shop_id: shop_id.to_owned(),
                    orders: Value::Array(normalized),
                    uploaded_at: now,
                },
            );
            Ok(Reply::ok(json!({
                "userId": user_id,
                "batchNo": batch_no,
                "uploadId": upload_id,
                "shopId": shop_id,
                "count": total,
                "uploadTime": whalet_time(now),
            })))
        },
    )
}
