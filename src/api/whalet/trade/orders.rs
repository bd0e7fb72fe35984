//! B2B trade orders (外贸订单): `tradeOrderApply` records an order (SUCCESS at once, status
//! OPEN), `tradeOrderQueryDetail` shows one with its bindings, `tradeOrderQueryList` pages them.
//! An order's `attaches` must be files this partner uploaded.

use serde_json::{json, Value};

use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::owned::{query_one, user_page};
use crate::api::whalet::common::{failure, mint, once, IdOf};
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::money::Money;
use crate::store::whalet_trade::{TradeOrder, TradeOrderStatus, WhaletTradeState};
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

pub fn apply(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let out_no = c.id("outOrderNo");
    let buyer_name = c.text("buyerName");
    let buyer_country = c.country("buyerCountry", true).unwrap_or("");
    let goods_name = c.text("goodsName");
    let currency = c.currency("currency", true);
    let amount = c.amount("amount", currency);
    let contract_no = c.opt("contractNo").unwrap_or("");
    let attaches = c.files("attaches");
    let content = c.content();
    let amount = c.finish_with("amount", amount)?;
    let now = ctx.now();
    once(
        ctx,
        &format!("tradeOrderApply {user_id}"),
        ("outOrderNo", out_no),
        &content,
        IdOf::Partner,
        |t| {
            t.whalet.onboarded_user(user_id)?;
            let files = t
                .whalet_trade
                .resolve_files("attaches", &attaches)
                .map_err(failure)?;
            let order_id = mint(t, "TO", now);
            let order = TradeOrder {
                order_id: order_id.clone(),
                out_order_no: out_no.to_owned(),
                user_id: user_id.to_owned(),
                buyer_name: buyer_name.to_owned(),
                buyer_country: buyer_country.to_owned(),
                goods_name: goods_name.to_owned(),
                amount,
                bound: Money::zero(amount.currency),
                contract_no: contract_no.to_owned(),
                status: TradeOrderStatus::Open,
                attaches: files,
                created_at: now,
                updated_at: now,
            };
            let v = view(&t.whalet_trade, &order);
            t.whalet_trade.orders.insert(order_id, order);
            Ok(Reply::ok(v))
        },
    )
}

pub fn view(w: &WhaletTradeState, o: &TradeOrder) -> Value {
    let bindings: Vec<Value> = w
        .bindings
        .values()
        .filter(|b| b.orders.iter().any(|(id, _, _)| *id == o.order_id))
        .map(|b| {
            let amount = b.orders.iter().filter(|(id, _, _)| *id == o.order_id).map(|(_, m, _)| m.minor).sum::<i64>();
            json!({"bindId": b.bind_id, "tradeId": b.trade_id, "amount": Money::new(amount, o.amount.currency).to_whalet(), "status": b.status})
        })
        .collect();
    let remaining = Money::new(o.amount.minor - o.bound.minor, o.amount.currency);
    json!({
        "userId": o.user_id,
        "orderId": o.order_id,
        "outOrderNo": o.out_order_no,
        "buyerName": o.buyer_name,
        "buyerCountry": o.buyer_country,
        "goodsName": o.goods_name,
        "contractNo": o.contract_no,
        "currency": o.amount.currency.code(),
        "amount": o.amount.to_whalet(),
        "boundAmount": o.bound.to_whalet(),
        "remainingAmount": remaining.to_whalet(),
        "status": o.status,
        "attaches": o.attaches.iter().map(|f| json!({"fileId": f.file_id, "fileName": f.file_name, "fileUrl": f.file_url})).collect::<Vec<_>>(),
        "bindings": bindings,
        "createTime": whalet_time(o.created_at),
        "updateTime": whalet_time(o.updated_at),
    })
}

pub fn detail(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let ids = ("orderId", "outOrderNo");
    let show = |t: &TenantState, o: &TradeOrder| view(&t.whalet_trade, o);
    query_one(
        ctx,
        body,
        ids,
        "trade order",
        |t| &t.whalet_trade.orders,
        show,
    )
}

pub fn list(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let page = c.page_of_user();
    let status = c.status::<TradeOrderStatus>("status", false);
    let currency = c.currency("currency", false);
    let period = c.period();
    c.finish()?;
    user_page(
        ctx,
        page,
        |t| &t.whalet_trade.orders,
        |o| {
            status.is_none_or(|s| o.status == s)
                && currency.is_none_or(|cur| o.amount.currency == cur)
                && period.contains(o.created_at)
        },
        |o| (o.created_at, o.order_id.as_str()),
        |t, o| view(&t.whalet_trade, o),
    )
}
