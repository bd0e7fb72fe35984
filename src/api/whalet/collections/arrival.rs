//! Money arriving: `mockPayeeNotify` (the sandbox call that makes a payment arrive on a
//! collection account) and the `whalet.collection.received` trigger do the same thing. The
//! amount is posted from `external:bank` to the user's pending balance at once; after 5 s of
//! virtual time by default (scenario `delay` on `mockPayeeNotify`) it settles into the available
//! balance — or, when the scenario's result is `failure`, goes back to the bank — and
//! `collectionReceivedNotify` tells the partner. A returned collection's trade-order bindings and
//! open request for trade material end with it; trade material asked about a pending collection
//! holds it until decided.

use serde_json::{json, Value};

use crate::api::whalet::common::fields::{positive_amount, Check};
use crate::api::whalet::common::kinds::CollectionReview;
use crate::api::whalet::common::review::{self, Notice, Review, Settle};
use crate::api::whalet::common::{again, failure, mint, with_tenant, Verdict};
use crate::api::whalet::replenish::{end_returned, open_about};
use crate::api::whalet::trade::release_returned;
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::core::Core;
use crate::money::{Currency, Money};
use crate::store::whalet::{
    wallet_account, Bucket, Card, CardStatus, Collection, CollectionStatus, FundSource,
    EXTERNAL_BANK,
};
use crate::store::whalet_trade::ReplenishKind;
use crate::store::{TenantId, TenantState};
use crate::wire::whalet::WhaletError;

/// A payment on its way to a collection account, as read from a request or trigger.
pub(super) struct Incoming<'a> {
    user_id: Option<&'a str>,
    card_id: Option<&'a str>,
    account_no: Option<&'a str>,
    fund_source: Option<FundSource>,
    amount: &'a Value,
    currency: Option<Currency>,
    payer_name: &'a str,
    payer_account_no: &'a str,
    payer_country: &'a str,
    shop_id: Option<&'a str>,
    remark: &'a str,
}

/// Reads the payment; `strict` (the API) requires userId, currency and one of cardId/accountNo.
pub(super) fn read<'a>(body: &'a Value, strict: bool) -> Result<Incoming<'a>, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = if strict {
        Some(c.id("userId"))
    } else {
        c.opt("userId")
    };
    let card_id = c.opt("cardId");
    let account_no = c.opt("accountNo");
    if strict {
        crate::api::describe::record_either("cardId", "accountNo");
    }
    if strict && card_id.is_none() && account_no.is_none() {
        c.problem("cardId or accountNo is required");
    }
    let currency = c.currency("currency", strict);
    let fund = c.one_of("fundSource", &["B2B", "B2C"], false);
    crate::api::describe::record("amount", "amount", true, &[]);
    let amount = body.get("amount").unwrap_or(&Value::Null);
    if amount.is_null() {
        c.problem("amount is required");
    } else if currency.is_some() {
        c.amount("amount", currency);
    }
    let incoming = Incoming {
        user_id,
        card_id,
        account_no,
        fund_source: fund.and_then(FundSource::parse),
        amount,
        currency,
        payer_name: c.opt("payerName").unwrap_or(""),
        payer_account_no: c.opt("payerAccountNo").unwrap_or(""),
        payer_country: c.country("payerCountry", false).unwrap_or(""),
        shop_id: c.opt("shopId"),
        remark: c.opt("remark").unwrap_or(""),
    };
    c.finish()?;
    Ok(incoming)
}

/// A `fundSource` given beside `cardId` or `accountNo` must be the account's, as the two ids must
/// name one account: a B2B arrival on a B2C card is refused naming both rather than booked to
/// the card's fund source without a word. (Without an id, `fundSource` chooses the account.)
fn same_fund_source(p: &Incoming<'_>, card: &Card) -> Result<(), WhaletError> {
    let Some(given) = p.fund_source.filter(|f| *f != card.fund_source) else {
        return Ok(());
    };
    let named = match (p.card_id, p.account_no) {
        (Some(id), _) => format!("cardId {id}"),
        (None, Some(no)) => format!("accountNo {no:?}"),
        (None, None) => format!("collection account {}", card.card_id),
    };
    Err(failure(format!(
        "fundSource {given} and {named} disagree: collection account {} is a {} account; give \
         fundSource {}, or leave it out",
        card.card_id, card.fund_source, card.fund_source
    )))
}

/// Posts the payment to the pending balance and records the collection; Ok(its view).
pub(super) fn arrive(
    t: &mut TenantState,
    p: &Incoming<'_>,
    now: i64,
) -> Result<(String, Value), WhaletError> {
    let admitted = admit(t, p)?;
    book(t, p, admitted, now)
}

/// A payment [`admit`] found nothing against: the account it goes to and its amount.
pub(super) struct Admitted {
    card_id: String,
    user_id: String,
    account_no: String,
    fund: FundSource,
    amount: Money,
}

impl Admitted {
    /// What a rule on `mockPayeeNotify` sees of an arrival: the fields given (`body`), with the
    /// account the payment goes to filled in where they left it to the default (`userId`,
    /// `cardId`, `accountNo`, `currency`, `fundSource`), as a request would carry them.
    pub(super) fn seen_by_rules(&self, body: &Value) -> Value {
        let mut fields = body.as_object().cloned().unwrap_or_default();
        let resolved = [
            ("userId", self.user_id.clone()),
            ("cardId", self.card_id.clone()),
            ("accountNo", self.account_no.clone()),
            ("currency", self.amount.currency.code().to_owned()),
            ("fundSource", self.fund.to_string()),
        ];
        for (key, value) in resolved {
            fields.entry(key).or_insert(Value::String(value));
        }
        Value::Object(fields)
    }
}

/// Everything that can refuse the payment, without changing anything: the account (by id, by
/// number or the default), that it is active and takes the currency, the amount, the shop, and
/// that the ledger can book it. A payment admitted is then booked by [`book`] under the same
/// lock, which cannot refuse it: so the trigger decides (and counts) by the rules on
/// `mockPayeeNotify` only an arrival that happens.
pub(super) fn admit(t: &TenantState, p: &Incoming<'_>) -> Result<Admitted, WhaletError> {
    let w = &t.whalet;
    if let Some(user_id) = p.user_id {
        w.user(user_id)?;
    }
    let card = match (p.card_id, p.account_no) {
        (Some(id), _) => match p.user_id {
            Some(user_id) => w.card_of(user_id, id)?,
            None => w
                .cards
                .get(id)
                .ok_or_else(|| failure(format!("cardId {id:?} is not a card of this partner")))?,
        },
        (None, Some(no)) => w
            .cards
            .values()
            .find(|c| c.account.as_ref().is_some_and(|a| a.account_no == no))
            .ok_or_else(|| {
                failure(format!(
                    "accountNo {no:?} is not a collection account of this partner"
                ))
            })?,
        (None, None) => w
            .cards
            .values()
            .filter(|c| c.status == CardStatus::Active)
            .filter(|c| p.user_id.is_none_or(|u| c.user_id == u))
            .filter(|c| p.fund_source.is_none_or(|f| c.fund_source == f))
            .max_by_key(|c| (c.opened_at, c.card_id.clone()))
            .ok_or_else(|| {
                failure("there is no ACTIVE collection account to pay (open one first)")
            })?,
    };
    // Both ids given: they must name the same account, rather than one silently winning.
    let held = card.account.as_ref().map(|a| a.account_no.as_str());
    if let Some(no) = p
        .account_no
        .filter(|no| p.card_id.is_some() && held != Some(*no))
    {
        return Err(failure(format!(
            "cardId {} and accountNo {no:?} name different collection accounts (the card's \
             accountNo is {}); give one, or both of the same account",
            card.card_id,
            held.map_or_else(|| "not assigned yet".to_owned(), |n| format!("{n:?}"))
        )));
    }
    same_fund_source(p, card)?;
    if p.user_id.is_some_and(|u| u != card.user_id) {
        return Err(failure(format!(
            "collection account {} does not belong to user {}",
            card.card_id,
            p.user_id.unwrap_or("")
        )));
    }
    if card.status != CardStatus::Active {
        return Err(failure(format!(
            "collection account {} is not active (status {}); it cannot receive money",
            card.card_id,
            crate::store::whalet::status_named(card.status.as_str(), &card.reported_status)
        )));
    }
    if let Some(currency) = p.currency.filter(|c| *c != card.currency) {
        return Err(failure(format!(
            "collection account {} receives {} only, not {currency}",
            card.card_id, card.currency
        )));
    }
    let amount =
        positive_amount("amount", p.amount, card.currency).map_err(WhaletError::parameter)?;
    if let Some(shop_id) = p.shop_id {
        let bound = w
            .shops
            .values()
            .any(|s| s.card_id == card.card_id && s.shop_id == shop_id && s.status.in_force());
        if !bound {
            return Err(failure(format!(
                "shop {shop_id} is not bound to collection account {}",
                card.card_id
            )));
        }
    }
    let account_no = card
        .account
        .as_ref()
        .map(|a| a.account_no.clone())
        .unwrap_or_default();
    let (card_id, user_id, fund) = (card.card_id.clone(), card.user_id.clone(), card.fund_source);
    let pending = wallet_account(&user_id, fund, Bucket::Pending);
    // Refused before the id is taken: a refusal leaves the tenant's sequence as it was.
    t.ledger
        .check_transfer(EXTERNAL_BANK, &pending, amount)
        .map_err(cannot_book)?;
    Ok(Admitted {
        card_id,
        user_id,
        account_no,
        fund,
        amount,
    })
}

fn cannot_book(e: impl std::fmt::Display) -> WhaletError {
    failure(format!("the collection cannot be booked: {e}"))
}

/// Books payment `p` that [`admit`] admitted (under the same lock): posts it to the pending
/// balance and records the collection; (its tradeId, its view).
pub(super) fn book(
    t: &mut TenantState,
    p: &Incoming<'_>,
    a: Admitted,
    now: i64,
) -> Result<(String, Value), WhaletError> {
    let Admitted {
        card_id,
        user_id,
        account_no,
        fund,
        amount,
    } = a;
    let pending = wallet_account(&user_id, fund, Bucket::Pending);
    let trade_id = mint(t, "T", now);
    t.ledger
        .transfer(
            now,
            format!("collection {trade_id} received"),
            EXTERNAL_BANK,
            &pending,
            amount,
        )
        .map_err(cannot_book)?;
    let collection = Collection {
        trade_id: trade_id.clone(),
        user_id,
        card_id,
        account_no,
        fund_source: fund,
        amount,
        payer_name: p.payer_name.to_owned(),
        payer_account_no: p.payer_account_no.to_owned(),
        payer_country: p.payer_country.to_owned(),
        shop_id: p.shop_id.map(str::to_owned),
        remark: p.remark.to_owned(),
        status: CollectionStatus::Pending,
        reported_status: "PENDING".into(),
        reason: String::new(),
        received_at: now,
        settled_at: None,
    };
    let v = view(&collection);
    t.whalet.collections.insert(trade_id.clone(), collection);
    Ok((trade_id, v))
}

/// A collection on the wire; `amount` is a Money object.
pub fn view(c: &Collection) -> Value {
    json!({
        "tradeId": c.trade_id,
        "userId": c.user_id,
        "cardId": c.card_id,
        "accountNo": c.account_no,
        "fundSource": c.fund_source.as_str(),
        "amount": c.amount.to_whalet(),
        "currency": c.amount.currency.code(),
        "payerName": c.payer_name,
        "payerAccountNo": c.payer_account_no,
        "payerCountry": c.payer_country,
        "shopId": c.shop_id,
        "remark": c.remark,
        "status": c.reported_status,
        "reason": c.reason,
        "receiveTime": whalet_time(c.received_at),
        "settleTime": c.settled_at.map(whalet_time),
    })
}

pub fn mock_payee_notify(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let incoming = read(body, true)?;
    let now = ctx.now();
    let (trade_id, v) = ctx.with_state(|t| arrive(t, &incoming, now))??;
    review::begin::<CollectionReview>(ctx, &trade_id, 1);
    Ok(Reply::ok(v))
}

impl Review for CollectionReview {
    /// Settles (or returns) a pending collection: `collectionReceivedNotify`. A collection with
    /// trade material requested does not settle until the material is decided
    /// ([`held_for_material`]); it may be returned meanwhile, which ends the request
    /// ([`Review::after`]).
    fn settle(t: &mut TenantState, s: Settle<'_>) -> Result<Notice, String> {
        let (trade_id, v) = (s.id, s.v);
        let c = s.find(&t.whalet.collections, "a collection")?;
        let what = format!("collection {trade_id}");
        let waiting = (c.status == CollectionStatus::Pending, "is not pending");
        s.expect(&what, waiting, c.status.as_str(), None)?;
        if let Some(replenish_id) = held_for_material(t, trade_id).filter(|_| v.success) {
            return Err(format!(
                "{what} is held until the trade material of request {replenish_id} is decided"
            ));
        }
        let pending = wallet_account(&c.user_id, c.fund_source, Bucket::Pending);
        let (to, memo) = v.pick(
            (
                wallet_account(&c.user_id, c.fund_source, Bucket::Available),
                "settled",
            ),
            (EXTERNAL_BANK.to_owned(), "returned"),
        );
        let amount = c.amount;
        t.ledger
            .transfer(s.now, format!("{what} {memo}"), &pending, &to, amount)
            .map_err(|e| format!("{what}: {e}"))?;
        let c = again(&mut t.whalet.collections, trade_id, &what)?;
        if v.success {
            c.status = CollectionStatus::Success;
            c.reported_status = v.word("SUCCESS", "FAILURE");
            c.settled_at = Some(s.now);
        } else {
            // A returned collection never settled: no settleTime.
            read_returned(
                c,
                v.word("SUCCESS", "FAILURE"),
                v.refusal("returned to the payer"),
            );
        }
        Ok(Notice {
            api_code: "collectionReceivedNotify",
            payload: view(c),
        })
    }

    /// What depends on a returned collection ends with it
    /// ([`CollectionReview::end_dependents`]).
    fn after(core: &Core, tenant: &TenantId, trade_id: &str, v: &Verdict) -> Result<(), String> {
        if v.success {
            return Ok(());
        }
        Self::end_dependents(core, tenant, trade_id, trade_id)
    }
}

/// How a collection returned to the payer reads: FAILURE (or the word a scenario gives) and why.
fn read_returned(c: &mut Collection, word: String, reason: String) {
    c.status = CollectionStatus::Failure;
    c.reported_status = word;
    c.reason = reason;
}

/// The one returned-collection path, for a pending collection returned ([`Review::after`]) and
/// for a settled one whose money a rejected request for its trade material sent back.
impl CollectionReview {
    /// Settled collection `trade_id` went back to the payer (its amount, frozen for trade
    /// material, was returned by the caller under the same lock): it reads as a returned pending
    /// one does, FAILURE with `reason`; it keeps its settleTime, since it did settle. Nothing
    /// happens to a collection that is not settled. What depends on it ends afterwards
    /// ([`CollectionReview::end_dependents`]).
    pub fn returned_after_settling(t: &mut TenantState, trade_id: &str, reason: String) {
        if let Some(c) = t
            .whalet
            .collections
            .get_mut(trade_id)
            .filter(|c| c.status == CollectionStatus::Success)
        {
            read_returned(c, "FAILURE".to_owned(), reason);
        }
    }

    /// What depends on returned collection `trade_id` ends with it, each said with its own
    /// notification: its bindings to trade orders ([`release_returned`], `tradeOrderBindNotify`)
    /// and an open request for its trade material ([`end_returned`],
    /// `tradeReplenishResultNotify`). Each is sent after the notification that told the return,
    /// about object `told_by` (the collection's `collectionReceivedNotify`, or the rejection's
    /// `tradeReplenishResultNotify` for a settled collection): the partner gets none before that
    /// one is delivered or exhausted ([`review::send_after`]).
    pub fn end_dependents(
        core: &Core,
        tenant: &TenantId,
        trade_id: &str,
        told_by: &str,
    ) -> Result<(), String> {
        let now = core.clock().now();
        let ended = with_tenant(core, tenant, |t| {
            let bindings =
                release_returned(t, trade_id, now)
                    .into_iter()
                    .map(|(bind_id, payload)| {
                        let api_code = "tradeOrderBindNotify";
                        (bind_id, Notice { api_code, payload })
                    });
            let mut ended: Vec<_> = bindings.collect();
            ended.extend(end_returned(t, trade_id, now));
            Ok(ended)
        })?;
        for (id, n) in ended {
            review::send_after(core, tenant, n.api_code, &n.payload, &id, told_by);
        }
        Ok(())
    }
}

/// The open request for trade material (WAIT_SUBMIT or PROCESSING) about collection
/// `trade_id`, if any: a pending collection waits for its decision before it settles.
pub fn held_for_material(t: &TenantState, trade_id: &str) -> Option<String> {
    open_about(t, ReplenishKind::Trade, trade_id)
        .next()
        .map(|r| r.replenish_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::whalet::common::review::Kind;
    use crate::api::whalet::common::testing::{decision, TestBed};

    const SETTLE_DELAY_MS: i64 = CollectionReview::KIND.delay_ms;

    #[tokio::test]
    async fn a_scenario_failure_returns_the_money_after_its_delay() {
        let bed = TestBed::new();
        bed.seed(Some("USD"));
        let d = decision(
            false,
            Some("RETURNED"),
            Some("compliance hold"),
            Some(2_000),
            json!({}),
        );
        let body = json!({"userId": "U1", "accountNo": "8100000001", "amount": "99.99", "currency": "USD"});
        let reply = bed.run(mock_payee_notify, &body, &d).unwrap();
        let reply = reply.body.unwrap();
        assert_eq!(reply["status"], "PENDING");
        assert_eq!(bed.balance("wallet:U1:B2C:pending", "USD"), 9999);
        assert_eq!(bed.balance(EXTERNAL_BANK, "USD"), -9999);
        bed.core.clock().advance(1_999).await;
        assert!(bed.sent("collectionReceivedNotify").is_empty());
        bed.core.clock().advance(1).await;
        let sent = bed.sent("collectionReceivedNotify");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["tradeId"], reply["tradeId"]);
        assert_eq!(sent[0]["status"], "RETURNED");
        assert_eq!(sent[0]["reason"], "compliance hold");
        for account in [
            "wallet:U1:B2C:pending",
            "wallet:U1:B2C:available",
            EXTERNAL_BANK,
        ] {
            assert_eq!(bed.balance(account, "USD"), 0, "{account}");
        }
        assert!(bed
            .core
            .store()
            .check_invariants()
            .iter()
            .all(|(_, r)| r.is_ok()));
    }

    #[tokio::test]
    async fn the_default_settles_after_five_seconds() {
        let bed = TestBed::new();
        bed.seed(Some("JPY"));
        let body = json!({"userId": "U1", "cardId": "VA1", "amount": 1500, "currency": "JPY"});
        bed.run(mock_payee_notify, &body, &Default::default())
            .unwrap();
        bed.core.clock().advance(SETTLE_DELAY_MS).await;
        assert_eq!(bed.balance("wallet:U1:B2C:available", "JPY"), 1500);
        let sent = bed.sent("collectionReceivedNotify");
        assert_eq!(
            sent[0]["amount"],
            json!({"amount": 1500, "cent": 1500, "centFactor": 1, "currency": "JPY"})
        );
    }

    #[tokio::test]
    async fn the_scenario_notify_behaviour_reaches_the_settlement_notification() {
        let bed = TestBed::new();
        bed.seed(Some("USD"));
        let mut d = crate::scenario::Decision::default();
        d.notify.suppress = true;
        let body = json!({"userId": "U1", "cardId": "VA1", "amount": "5", "currency": "USD"});
        bed.run(mock_payee_notify, &body, &d).unwrap();
        bed.core.clock().advance(SETTLE_DELAY_MS).await;
        let list = bed.core.outbox().list(&Default::default());
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].status, crate::notify::Status::Suppressed);
        assert!(list[0].behaviour.suppress);
    }
}
