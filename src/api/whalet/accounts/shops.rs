//! `b2cShopBind` (Bind/Unbind Shop for B2C), `b2cShopQuery` and `b2cShopBindResultNotify`. A shop
//! of a marketplace is bound to (or unbound from) an ACTIVE B2C card under a partner-chosen
//! `bindId`; the marketplace confirms in 10 s of virtual time by default, the binding being
//! `BINDING` or `UNBINDING` meanwhile. `BIND` and `ADD` are treated alike (ADD adds one more shop
//! to a card). A `bindId` is unique per partner: another user's is refused FAILURE as theirs,
//! never IDEMPOTENT_ERROR. A refused bind needs a new `bindId`; an unbind changes nothing of the
//! binding but its status (the shop keeps its name and URL, and `operationType` stays the last
//! operation that took effect until the unbind does), so a refused unbind leaves the binding
//! `BOUND` as it was, and the same unbind asked again is a new request.

use serde_json::{json, Value};

use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::kinds::ShopReview;
use crate::api::whalet::common::review::{
    self, ensure_current, reported, status_named, Notice, Review, Settle,
};
use crate::api::whalet::common::{failure, once_keyed};
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::clock::Millis;
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
    // An unbind does not use them (the binding keeps its shop's name and URL): they are
    // checked, not kept.
    let unbind = op == "UNBIND";
    let shop_name = if unbind {
        c.unkept("shopName", Check::opt).unwrap_or("")
    } else {
        c.text("shopName")
    };
    crate::api::describe::record_when("shopName", "operationType is BIND or ADD");
    let shop_url = if unbind {
        c.unkept("shopUrl", Check::opt)
    } else {
        c.opt("shopUrl")
    };
    let shop_url = shop_url.unwrap_or("");
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
    run(ctx, &r, &content)
}

/// Runs request `r` once per `bindId` ([`Check::content`] `content` compared): a bind once, an
/// unbind again after each refusal.
fn run(ctx: &Ctx<'_>, r: &Request<'_>, content: &Value) -> Result<Reply, WhaletError> {
    let (user_id, bind_id) = (r.user_id, r.bind_id);
    let execute = |t: &mut TenantState| submit(ctx, t, r);
    // A bindId is unique per partner (its record too): another user's is refused as theirs,
    // whether a record of it exists (checked before content is compared) or not (`submit`).
    let not_theirs = |t: &TenantState| match t.whalet.shops.get(bind_id) {
        Some(s) if s.user_id != user_id => Some(another_users(bind_id)),
        _ => None,
    };
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
            content,
            (
                |t: &TenantState| t.whalet.shops.get(bind_id).map_or(0, |s| s.unbind_refusals),
                not_theirs,
            ),
            execute,
        )
    } else {
        let conflict = |t: &TenantState| {
            Some(not_theirs(t).unwrap_or_else(|| {
                WhaletError::idempotent(format!(
                    "bindId {bind_id:?} was already used with different content; send the \
                     original content to get the original result, or use a new bindId"
                ))
            }))
        };
        let operation = format!("b2cShopBind {}", r.op);
        once_keyed(
            ctx,
            (|_: &TenantState| operation, bind_id),
            content,
            conflict,
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
        (unbinding(w, r, ctx.now())?, ShopStatus::Unbinding)
    } else {
        new_binding(w, r)?;
        w.shops.insert(r.bind_id.to_owned(), binding(r, ctx.now()));
        (1, ShopStatus::Binding)
    };
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

/// A new binding as a bind (or add) asks for it at `now`: BINDING, first submission.
fn binding(r: &Request<'_>, now: Millis) -> Shop {
    Shop {
        bind_id: r.bind_id.to_owned(),
        user_id: r.user_id.to_owned(),
        card_id: r.card_id.to_owned(),
        shop_id: r.shop_id.to_owned(),
        shop_name: r.shop_name.to_owned(),
        shop_url: r.shop_url.to_owned(),
        operation_type: r.op.to_owned(),
        status: ShopStatus::Binding,
        reported_status: ShopStatus::Binding.as_str().to_owned(),
        message: String::new(),
        attempt: 1,
        updated_at: now,
        unbind_refusals: 0,
    }
}

/// Puts the bound binding an unbind names under review at `now` (UNBINDING) and returns the
/// submission number. Nothing else of it changes: an unbind's `shopName`/`shopUrl` are not used,
/// and `operationType` stays the last operation that took effect until the unbind does, so a
/// refused unbind leaves the binding as it was.
fn unbinding(w: &mut WhaletState, r: &Request<'_>, now: Millis) -> Result<u32, WhaletError> {
    let attempt = unbind_attempt(w, r)?;
    let bind_id = r.bind_id;
    let shop = w
        .shops
        .get_mut(bind_id)
        .ok_or_else(|| failure(format!("bindId {bind_id:?} vanished")))?;
    shop.status = ShopStatus::Unbinding;
    shop.reported_status = ShopStatus::Unbinding.as_str().to_owned();
    shop.message = String::new();
    shop.attempt = attempt;
    shop.updated_at = now;
    Ok(attempt)
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
            status_named(card.status.as_str(), &card.reported_status)
        )));
    }
    Ok(())
}

/// The submission number of an unbind: `bindId` must be a BOUND binding of the card, of the
/// shop named.
fn unbind_attempt(w: &WhaletState, r: &Request<'_>) -> Result<u32, WhaletError> {
    let (bind_id, shop_id) = (r.bind_id, r.shop_id);
    let shop = w.shops.get(bind_id);
    if shop.is_some_and(|s| s.user_id != r.user_id) {
        return Err(another_users(bind_id));
    }
    let shop = shop.filter(|s| s.card_id == r.card_id).ok_or_else(|| {
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
            shown(shop)
        )));
    }
    Ok(shop.attempt + 1)
}

/// A bind (or add) needs a `bindId` never used and a shop neither bound nor under review.
fn new_binding(w: &WhaletState, r: &Request<'_>) -> Result<(), WhaletError> {
    let (bind_id, shop_id) = (r.bind_id, r.shop_id);
    if let Some(s) = w.shops.get(bind_id) {
        if s.user_id != r.user_id {
            return Err(another_users(bind_id));
        }
        return Err(failure(format!(
            "bindId {bind_id} is already used (shop {}, status {}); use a new bindId",
            s.shop_id,
            shown(s)
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
            shown(other)
        )));
    }
    Ok(())
}

/// The refusal of a `bindId` another user of the partner holds: `bindId`s are unique per
/// partner (the shop triggers name a binding by it alone), and another user's is not this
/// user's to replay or change, so it is a FAILURE, never IDEMPOTENT_ERROR.
fn another_users(bind_id: &str) -> WhaletError {
    failure(format!(
        "bindId {bind_id} is taken by another user of this partner (bindIds are unique per \
         partner); use a new bindId"
    ))
}

/// A binding's status as a refusal names it ([`status_named`]).
fn shown(s: &Shop) -> String {
    status_named(s.status.as_str(), &s.reported_status)
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
                shown(shop)
            )
        })?;
        ensure_current(
            &format!("shop binding {bind_id}"),
            s.attempt,
            shop.attempt,
            "changed",
        )?;
        // The operation decided: an unbind takes effect only if approved; a refused one leaves
        // the binding's last effective operation (BIND or ADD) in place.
        let operation = if shop.status == ShopStatus::Unbinding {
            if v.success {
                shop.operation_type = "UNBIND".into();
            } else {
                shop.unbind_refusals += 1;
            }
            "UNBIND".to_owned()
        } else {
            shop.operation_type.clone()
        };
        shop.status = next;
        shop.reported_status = reported(v, next.as_str());
        shop.message = v.message("done", "refused by the marketplace");
        shop.updated_at = s.now;
        Ok(Notice {
            api_code: "b2cShopBindResultNotify",
            payload: json!({
                "userId": shop.user_id,
                "cardId": shop.card_id,
                "bindId": shop.bind_id,
                "shopId": shop.shop_id,
                "operationType": operation,
                "status": v.word("SUCCESS", "FAILURE"),
                "shopStatus": shop.reported_status,
                "message": shop.message,
            }),
        })
    }
}
