//! `b2cShopBind` (Bind/Unbind Shop for B2C), `b2cShopQuery` and `b2cShopBindResultNotify`. A shop
//! of a marketplace is bound to (or unbound from) an ACTIVE B2C card under a partner-chosen
//! `bindId`; the marketplace confirms in 10 s of virtual time by default. `BIND` and `ADD` are
//! treated alike (ADD adds one more shop to a card).

use serde_json::{json, Value};

use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::kinds::ShopReview;
use crate::api::whalet::common::review::{self, ensure_current, Notice, Review, Settle};
use crate::api::whalet::common::{failure, once};
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::store::whalet::{CardStatus, FundSource, Shop, ShopStatus};
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

const OPERATION_TYPES: &[&str] = &["BIND", "ADD", "UNBIND"];

pub fn view(s: &Shop) -> Value {
    json!({
        "userId": s.user_id,
        "cardId": s.card_id,
        "bindId": s.bind_id,
        "shopId": s.shop_id,
        "shopName": s.shop_name,
        "shopUrl": s.shop_url,
        "operationType": s.operation_type,
        "status": s.reported_status,
        "message": s.message,
        "updateTime": whalet_time(s.updated_at),
    })
}

pub fn bind(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let card_id = c.id("cardId");
    let bind_id = c.id("bindId");
    let op = c
        .one_of("operationType", OPERATION_TYPES, true)
        .unwrap_or("");
    let shop_id = c.id("shopId");
    let shop_name = if op == "UNBIND" {
        c.opt("shopName").unwrap_or("")
    } else {
        c.text("shopName")
    };
    crate::api::describe::record_when("shopName", "operationType is BIND or ADD");
    let shop_url = c.opt("shopUrl").unwrap_or("");
    c.finish()?;
    let now = ctx.now();
    once(
        ctx,
        &format!("b2cShopBind {op}"),
        "bindId",
        bind_id,
        body,
        |_| false,
        |t| {
            let w = &mut t.whalet;
            w.user(user_id)?;
            let card = w.card_of(user_id, card_id)?;
            if card.fund_source != FundSource::B2C {
                return Err(failure(format!(
                    "card {card_id} is a B2B card; shops bind to B2C cards"
                )));
            }
            if card.status != CardStatus::Active {
                return Err(failure(format!(
                    "card {card_id} is not active (status {})",
                    card.status.as_str()
                )));
            }
            let existing = w.shops.get(bind_id);
            let attempt = if op == "UNBIND" {
                let shop = existing.filter(|s| s.card_id == card_id).ok_or_else(|| {
                    failure(format!(
                        "bindId {bind_id:?} is not a shop binding of card {card_id}"
                    ))
                })?;
                if shop.shop_id != shop_id {
                    return Err(failure(format!(
                        "bindId {bind_id} binds shop {}, not {shop_id}",
                        shop.shop_id
                    )));
                }
                if shop.status != ShopStatus::Bound {
                    return Err(failure(format!(
                        "shop binding {bind_id} is not bound (status {})",
                        shop.status.as_str()
                    )));
                }
                shop.attempt + 1
            } else {
                if let Some(s) = existing {
                    return Err(failure(format!(
                        "bindId {bind_id} is already used (shop {}, status {}); use a new bindId",
                        s.shop_id,
                        s.status.as_str()
                    )));
                }
                if let Some(other) = w.shops.values().find(|s| {
                    s.shop_id == shop_id
                        && matches!(
                            s.status,
                            ShopStatus::Bound | ShopStatus::Binding | ShopStatus::Unbinding
                        )
                }) {
                    return Err(failure(format!(
                        "shop {shop_id} is already bound to card {} (bindId {})",
                        other.card_id, other.bind_id
                    )));
                }
                1
            };
            let status = if op == "UNBIND" {
                ShopStatus::Unbinding
            } else {
                ShopStatus::Binding
            };
            let previous = w.shops.get(bind_id);
            let shop = Shop {
                bind_id: bind_id.to_owned(),
                user_id: user_id.to_owned(),
                card_id: card_id.to_owned(),
                shop_id: shop_id.to_owned(),
                shop_name: previous
                    .filter(|_| shop_name.is_empty())
                    .map_or_else(|| shop_name.to_owned(), |p| p.shop_name.clone()),
                shop_url: previous
                    .filter(|_| shop_url.is_empty())
                    .map_or_else(|| shop_url.to_owned(), |p| p.shop_url.clone()),
                operation_type: op.to_owned(),
                status,
                reported_status: "PROCESSING".into(),
                message: String::new(),
                attempt,
                updated_at: now,
            };
            w.shops.insert(bind_id.to_owned(), shop);
            review::begin::<ShopReview>(ctx, bind_id, attempt);
            Ok(Reply::processing(json!({
                "userId": user_id,
                "cardId": card_id,
                "bindId": bind_id,
                "shopId": shop_id,
                "operationType": op,
                "status": "PROCESSING",
            })))
        },
    )
}

pub fn query(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let card_id = c.opt("cardId");
    let shop_id = c.opt("shopId");
    let bind_id = c.opt("bindId");
    c.finish()?;
    ctx.with_state(|t| {
        t.whalet.user(user_id)?;
        if let Some(card_id) = card_id {
            t.whalet.card_of(user_id, card_id)?;
        }
        let shops: Vec<Value> = t
            .whalet
            .shops
            .values()
            .filter(|s| s.user_id == user_id)
            .filter(|s| card_id.is_none_or(|c| s.card_id == c))
            .filter(|s| shop_id.is_none_or(|id| s.shop_id == id))
            .filter(|s| bind_id.is_none_or(|id| s.bind_id == id))
            .map(view)
            .collect();
        Ok(Reply::ok(Value::Array(shops)))
    })?
}

impl Review for ShopReview {
    fn settle(t: &mut TenantState, s: Settle<'_>) -> Result<Notice, String> {
        let (bind_id, v) = (s.id, s.v);
        let shop = s.find_mut(&mut t.whalet.shops, "a shop binding")?;
        let next = shop.status.decided(v.success).ok_or_else(|| {
            format!(
                "shop binding {bind_id} has nothing under review (status {})",
                shop.status.as_str()
            )
        })?;
        ensure_current(
            &format!("shop binding {bind_id}"),
            s.attempt,
            shop.attempt,
            "changed",
        )?;
        shop.status = next;
        shop.reported_status = next.as_str().to_owned();
        shop.message = v.message("done", "refused by the marketplace");
        shop.updated_at = s.now;
        Ok(Notice {
            api_code: "b2cShopBindResultNotify",
            payload: json!({
                "userId": shop.user_id,
                "cardId": shop.card_id,
                "bindId": shop.bind_id,
                "shopId": shop.shop_id,
                "operationType": shop.operation_type,
                "status": v.word("SUCCESS", "FAILURE"),
                "shopStatus": shop.reported_status,
                "message": shop.message,
            }),
        })
    }
}
