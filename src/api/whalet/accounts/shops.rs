//! `b2cShopBind` (Bind/Unbind Shop for B2C), `b2cShopQuery` and `b2cShopBindResultNotify`. A shop
//! of a marketplace is bound to (or unbound from) an ACTIVE B2C card under a partner-chosen
//! `bindId`; the marketplace confirms in 10 s of virtual time by default, the binding being
//! `BINDING` or `UNBINDING` meanwhile. `BIND` and `ADD` are treated alike (ADD adds one more shop
//! to a card). A refused bind needs a new `bindId`; a refused unbind leaves the shop `BOUND`, and
//! the same unbind asked again is a new request.

use serde_json::{json, Value};

use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::kinds::ShopReview;
use crate::api::whalet::common::review::{self, ensure_current, Notice, Review, Settle};
use crate::api::whalet::common::{failure, once};
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::store::whalet::{CardStatus, FundSource, Shop, ShopStatus, WhaletState};
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

/// One `b2cShopBind` request, as read.
struct Request<'a> {
    user_id: &'a str,
    card_id: &'a str,
    bind_id: &'a str,
    op: &'a str,
    shop_id: &'a str,
    shop_name: &'a str,
    shop_url: &'a str,
}

impl Request<'_> {
    fn unbind(&self) -> bool {
        self.op == "UNBIND"
    }
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
    let content = c.content();
    c.finish()?;
    let r = Request {
        user_id,
        card_id,
        bind_id,
        op,
        shop_id,
        shop_name,
        shop_url,
    };
    let execute = |t: &mut TenantState| submit(ctx, t, &r);
    if r.unbind() {
        // The binding's own id is the only one an unbind can name: after the marketplace
        // refuses it, the same unbind is asked for again under that bindId.
        super::again_after_refusal(
            ctx,
            (
                "b2cShopBind UNBIND",
                &format!("the unbind of bindId {bind_id}"),
            ),
            bind_id,
            &content,
            |t| t.whalet.shops.get(bind_id).map_or(0, |s| s.unbind_refusals),
            execute,
        )
    } else {
        let operation = format!("b2cShopBind {op}");
        once(
            ctx,
            &operation,
            "bindId",
            bind_id,
            &content,
            |_| false,
            execute,
        )
    }
}

/// Checks the request against the state and puts the binding under review: BINDING or
/// UNBINDING, which the reply reports.
fn submit(ctx: &Ctx<'_>, t: &mut TenantState, r: &Request<'_>) -> Result<Reply, WhaletError> {
    let w = &mut t.whalet;
    bindable_card(w, r)?;
    let (attempt, status) = if r.unbind() {
        (unbind_attempt(w, r)?, ShopStatus::Unbinding)
    } else {
        new_binding(w, r)?;
        (1, ShopStatus::Binding)
    };
    let previous = w.shops.get(r.bind_id);
    let kept = |given: &str, was: fn(&Shop) -> &String| {
        previous
            .filter(|_| given.is_empty())
            .map_or_else(|| given.to_owned(), |p| was(p).clone())
    };
    let shop = Shop {
        bind_id: r.bind_id.to_owned(),
        user_id: r.user_id.to_owned(),
        card_id: r.card_id.to_owned(),
        shop_id: r.shop_id.to_owned(),
        shop_name: kept(r.shop_name, |p| &p.shop_name),
        shop_url: kept(r.shop_url, |p| &p.shop_url),
        operation_type: r.op.to_owned(),
        status,
        reported_status: status.as_str().to_owned(),
        message: String::new(),
        attempt,
        updated_at: ctx.now(),
        unbind_refusals: previous.map_or(0, |p| p.unbind_refusals),
    };
    w.shops.insert(r.bind_id.to_owned(), shop);
    review::begin::<ShopReview>(ctx, r.bind_id, attempt);
    Ok(Reply::processing(json!({
        "userId": r.user_id,
        "cardId": r.card_id,
        "bindId": r.bind_id,
        "shopId": r.shop_id,
        "operationType": r.op,
        "status": status.as_str(),
    })))
}

/// The user's card, which must be an ACTIVE B2C card (shops bind to nothing else).
fn bindable_card(w: &WhaletState, r: &Request<'_>) -> Result<(), WhaletError> {
    w.user(r.user_id)?;
    let card_id = r.card_id;
    let card = w.card_of(r.user_id, card_id)?;
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
    Ok(())
}

/// The submission number of an unbind: `bindId` must be a BOUND binding of the card, of the
/// shop named.
fn unbind_attempt(w: &WhaletState, r: &Request<'_>) -> Result<u32, WhaletError> {
    let (bind_id, shop_id) = (r.bind_id, r.shop_id);
    let shop = w
        .shops
        .get(bind_id)
        .filter(|s| s.card_id == r.card_id)
        .ok_or_else(|| {
            failure(format!(
                "bindId {bind_id:?} is not a shop binding of card {}",
                r.card_id
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
    Ok(shop.attempt + 1)
}

/// A bind (or add) needs a `bindId` never used and a shop neither bound nor under review.
fn new_binding(w: &WhaletState, r: &Request<'_>) -> Result<(), WhaletError> {
    let (bind_id, shop_id) = (r.bind_id, r.shop_id);
    if let Some(s) = w.shops.get(bind_id) {
        return Err(failure(format!(
            "bindId {bind_id} is already used (shop {}, status {}); use a new bindId",
            s.shop_id,
            s.status.as_str()
        )));
    }
    let taken = |s: &&Shop| {
        s.shop_id == shop_id && (s.status == ShopStatus::Bound || s.status.under_review())
    };
    if let Some(other) = w.shops.values().find(taken) {
        return Err(failure(format!(
            "shop {shop_id} is already bound to card {} (bindId {}, status {})",
            other.card_id,
            other.bind_id,
            other.status.as_str()
        )));
    }
    Ok(())
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
        if shop.status == ShopStatus::Unbinding && !v.success {
            shop.unbind_refusals += 1;
        }
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
