//! Collection accounts once opened: `b2cCardDetailQuery`, `b2cCardQuery` (paged),
//! `b2cCardCancel` (closed by the bank in 10 s of virtual time by default, result in
//! `b2cCardCancelResultNotify`; bound shops are unbound with it; refused while a collection or a
//! shop bind/unbind waits for its decision) and `b2cBankLetterApply` (a
//! proof-of-account letter, issued at once as a file reference). The queries answer for B2B
//! accounts too.

use serde_json::{json, Map, Value};

use super::catalogue::{known, Platform};
use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::kinds::CancelReview;
use crate::api::whalet::common::owned::user_page;
use crate::api::whalet::common::review::{
    self, ensure_current, reported, status_named, Notice, Review, Settle,
};
use crate::api::whalet::common::{failure, mint, mint_file_id};
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::store::whalet::{
    BankAccount, BankLetter, Card, CardStatus, CollectionStatus, FileRef, ShopStatus, WhaletState,
};
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

/// The receiving bank details on the wire.
pub fn account_fields(a: &BankAccount) -> Map<String, Value> {
    let v = json!({
        "accountNo": a.account_no,
        "accountName": a.account_name,
        "bankName": a.bank_name,
        "bankCountry": a.bank_country,
        "swiftCode": a.swift_code,
        "routingNo": a.routing_no,
        "bankAddress": a.bank_address,
    });
    v.as_object().cloned().unwrap_or_default()
}

/// A card as the partner sees it; `with_shops` adds its shops (detail query).
pub fn view(w: &WhaletState, c: &Card, with_shops: bool) -> Value {
    let mut v = json!({
        "userId": c.user_id,
        "cardId": c.card_id,
        "outCardId": c.out_card_id,
        "fundSource": c.fund_source.as_str(),
        "holderId": c.holder_id,
        "platform": c.platform,
        "channelCode": c.channel_code,
        "currency": c.currency.code(),
        "status": c.reported_status,
        "message": c.message,
        "createTime": whalet_time(c.applied_at),
        "openTime": c.opened_at.map(whalet_time),
        "cancelTime": c.cancelled_at.map(whalet_time),
    });
    if let Value::Object(map) = &mut v {
        if let Some(acc) = &c.account {
            map.extend(account_fields(acc));
        }
        if with_shops {
            let shops: Vec<Value> = w
                .shops
                .values()
                .filter(|s| s.card_id == c.card_id)
                .map(super::shops::view)
                .collect();
            map.insert("shops".into(), Value::Array(shops));
        }
    }
    v
}

pub fn detail(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let card_id = c.id("cardId");
    c.finish()?;
    ctx.with_state(|t| {
        t.whalet.user(user_id)?;
        let card = t.whalet.card_of(user_id, card_id)?;
        Ok(Reply::ok(view(&t.whalet, card, true)))
    })?
}

pub fn query(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let page = c.page_of_user();
    let platform = c.opt("platform");
    let currency = c.currency("currency", false);
    let status = c.status::<CardStatus>("status", false);
    let fund = c.one_of("fundSource", &["B2B", "B2C"], false);
    c.finish()?;
    // An unknown platform (`amazon` for `AMAZON`) would match no card and pass for an empty
    // page: refused, as b2cCardNumberQuery refuses it.
    if let Some(p) = platform {
        known::<Platform>(p).map_err(failure)?;
    }
    user_page(
        ctx,
        page,
        |t| &t.whalet.cards,
        |c: &Card| {
            platform.is_none_or(|p| c.platform.as_deref() == Some(p))
                && currency.is_none_or(|cur| c.currency == cur)
                && status.is_none_or(|s| c.status == s)
                && fund.is_none_or(|f| c.fund_source.as_str() == f)
        },
        |c| (c.applied_at, c.card_id.as_str()),
        |t, c| view(&t.whalet, c, false),
    )
}

/// A card's status as a refusal names it ([`status_named`]): its status, and the word its
/// queries report when a decision's word replaced it.
pub fn card_status(card: &Card) -> String {
    status_named(card.status.as_str(), &card.reported_status)
}

/// The user's card, which must be ACTIVE (else a FAILURE saying its status and what `needs` it).
fn active_card<'t>(
    t: &'t TenantState,
    (user_id, card_id): (&str, &str),
    needs: &str,
) -> Result<&'t Card, WhaletError> {
    t.whalet.user(user_id)?;
    let card = t.whalet.card_of(user_id, card_id)?;
    if card.status != CardStatus::Active {
        return Err(failure(format!(
            "card {card_id} is not active (status {}); {needs}",
            card_status(card)
        )));
    }
    Ok(card)
}

pub fn cancel(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let card_id = c.id("cardId");
    // Checked, but a cancellation keeps no reason (nor says one back): not kept.
    c.unkept("reason", Check::opt);
    let content = c.content();
    c.finish()?;
    super::again_after_refusal(
        ctx,
        (
            &format!("b2cCardCancel {user_id}"),
            &format!("the cancellation of card {card_id}"),
        ),
        card_id,
        &content,
        (
            |t: &TenantState| t.whalet.cards.get(card_id).map_or(0, |c| c.cancel_refusals),
            // The key is the user's: another user's cardId is refused when run, as not theirs.
            |_: &TenantState| None,
        ),
        |t| {
            active_card(
                t,
                (user_id, card_id),
                "only an ACTIVE card can be cancelled",
            )?;
            nothing_pending(&t.whalet, card_id)?;
            let card = t
                .whalet
                .cards
                .get_mut(card_id)
                .ok_or_else(|| failure(format!("cardId {card_id:?} vanished")))?;
            card.status = CardStatus::Cancelling;
            card.reported_status = "CANCELLING".into();
            // A cancellation asked for again starts afresh: an earlier refusal's message is no
            // longer what the card is at.
            card.message = String::new();
            card.attempt += 1;
            review::begin::<CancelReview>(ctx, card_id, card.attempt);
            Ok(Reply::processing(json!({
                "userId": user_id,
                "cardId": card_id,
                "status": "CANCELLING",
            })))
        },
    )
}

/// Refuses a cancellation while something on the card waits for a decision: collections not yet
/// settled, and shop binds or unbinds the marketplace has not decided (their result notification
/// is still owed, and the cancellation would end them without one).
fn nothing_pending(w: &WhaletState, card_id: &str) -> Result<(), WhaletError> {
    let pending: Vec<&str> = w
        .collections
        .values()
        .filter(|c| c.card_id == card_id && c.status == CollectionStatus::Pending)
        .map(|c| c.trade_id.as_str())
        .collect();
    if !pending.is_empty() {
        return Err(failure(format!(
            "card {card_id} has {} collection(s) not yet settled: tradeId {}; \
             cancel it after they settle",
            pending.len(),
            named(&pending)
        )));
    }
    let reviewed: Vec<String> = w
        .shops
        .values()
        .filter(|s| s.card_id == card_id && s.status.under_review())
        .map(|s| format!("{} ({})", s.bind_id, s.status.as_str()))
        .collect();
    if !reviewed.is_empty() {
        return Err(failure(format!(
            "card {card_id} has shop binding(s) under review by the marketplace: bindId {}; \
             cancel it after b2cShopBindResultNotify decides them",
            named(&reviewed)
        )));
    }
    Ok(())
}

/// Ids a refusal names at most: a card may have any number of collections, and the message
/// says how many more there are rather than growing with them.
const NAMED: usize = 5;

/// `ids` joined with ", ", the first [`NAMED`] of them and then "and N more".
fn named(ids: &[impl AsRef<str>]) -> String {
    let shown: Vec<&str> = ids.iter().take(NAMED).map(AsRef::as_ref).collect();
    match ids.len().saturating_sub(NAMED) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

impl Review for CancelReview {
    fn settle(t: &mut TenantState, s: Settle<'_>) -> Result<Notice, String> {
        let (card_id, v) = (s.id, s.v);
        let w = &mut t.whalet;
        let card = s.find_mut(&mut w.cards, "a card")?;
        let busy = (
            card.status == CardStatus::Cancelling,
            "is not being cancelled",
        );
        let what = format!("card {card_id}");
        s.expect(&what, busy, card_status(card), None)?;
        ensure_current(&what, s.attempt, card.attempt, "changed")?;
        card.status = v.pick(CardStatus::Cancelled, CardStatus::Active);
        card.reported_status = reported(v, card.status.as_str());
        card.message = v.message("card cancelled", "cancellation refused");
        if v.success {
            card.cancelled_at = Some(s.now);
        } else {
            card.cancel_refusals += 1;
        }
        let payload = json!({
            "userId": card.user_id,
            "cardId": card.card_id,
            "status": v.word("SUCCESS", "FAILURE"),
            "message": card.message,
        });
        if v.success {
            // No bind or unbind is under review: `cancel` refuses while one is, and binds need
            // an ACTIVE card.
            for shop in w.shops.values_mut().filter(|s| s.card_id == card_id) {
                if shop.status == ShopStatus::Bound {
                    shop.status = ShopStatus::Unbound;
                    shop.reported_status = ShopStatus::Unbound.as_str().to_owned();
                    shop.message = "card cancelled".into();
                    shop.updated_at = s.now;
                }
            }
        }
        Ok(Notice {
            api_code: "b2cCardCancelResultNotify",
            payload,
        })
    }
}

pub fn bank_letter(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let card_id = c.id("cardId");
    c.finish()?;
    let now = ctx.now();
    ctx.with_state(|t| {
        active_card(t, (user_id, card_id), "a bank letter needs an ACTIVE card")?;
        let letter_id = mint(t, "BL", now);
        let file_id = mint_file_id(t, now);
        let file = FileRef {
            file_name: format!("bank-letter-{card_id}.pdf"),
            file_url: format!("https://files.whalet-sim.invalid/bank-letters/{file_id}.pdf"),
            file_id,
        };
        let reply = json!({
            "userId": user_id,
            "cardId": card_id,
            "letterId": letter_id,
            "status": "SUCCESS",
            "file": {"fileId": file.file_id, "fileName": file.file_name, "fileUrl": file.file_url},
        });
        t.whalet.bank_letters.insert(
            letter_id.clone(),
            BankLetter {
                letter_id,
                user_id: user_id.to_owned(),
                card_id: card_id.to_owned(),
                file,
                issued_at: now,
            },
        );
        Ok(Reply::ok(reply))
    })?
}
