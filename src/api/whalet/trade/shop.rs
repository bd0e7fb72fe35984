//! `shopOrderUpload` (上传订单, Shop Order Upload for B2C): a batch of marketplace orders backing
//! a user's B2C collections, recorded at once (SUCCESS). `batchNo` is the business id; each order
//! needs `orderNo`, `amount`, `currency` and `orderTime`; one bad order refuses the batch.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::{failure, mint, once, IdOf};
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::store::whalet_trade::ShopOrder;
use crate::wire::whalet::WhaletError;

const MAX_ORDERS: usize = 500;

pub fn upload(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let batch_no = c.id("batchNo");
    let shop_id = c.id("shopId");
    let mut seen = HashSet::new();
    let mut normalized = Vec::new();
    for mut item in c.items("orders", MAX_ORDERS) {
        if let Some(order) = order(&mut item, &mut seen) {
            normalized.push(order);
        }
        c.absorb(item);
    }
    let total = normalized.len();
    let content = c.content();
    c.finish()?;
    let now = ctx.now();
    once(
        ctx,
        &format!("shopOrderUpload {user_id}"),
        ("batchNo", batch_no),
        &content,
        IdOf::Partner,
        |t| {
            t.whalet.onboarded_user(user_id)?;
            let bound = t
                .whalet
                .shops
                .values()
                .any(|s| s.user_id == user_id && s.shop_id == shop_id && s.status.in_force());
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

/// One order of the batch as recorded (None when a field is wrong: the problem is noted); `seen`
/// holds the order numbers listed before it, which it must not repeat.
fn order<'a>(item: &mut Check<'a>, seen: &mut HashSet<&'a str>) -> Option<Value> {
    let order_no = item.id("orderNo");
    if !order_no.is_empty() && !seen.insert(order_no) {
        item.problem(format!(
            "{} {order_no:?} is listed twice",
            item.name("orderNo")
        ));
    }
    let currency = item.currency("currency", true);
    let amount = item.amount("amount", currency);
    let time = item.time("orderTime", true);
    let goods_name = item.opt("goodsName");
    let (m, time) = (amount?, time?);
    Some(json!({
        "orderNo": order_no,
        "amount": m.to_whalet(),
        "currency": m.currency.code(),
        "orderTime": whalet_time(time),
        "goodsName": goods_name,
    }))
}
