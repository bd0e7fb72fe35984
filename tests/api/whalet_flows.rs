//! The Whalet collections flows end to end: B2C (onboard → holder → card → shop → money arrives
//! → collectionReceivedNotify → balance) and B2B (onboard → channel bank → account → money).

use serde_json::json;

use crate::helpers::spawn_app;
use crate::whalet2_support::{b2b_card, collection};
use crate::whalet_support::*;

#[tokio::test]
async fn the_b2c_flow_from_onboarding_to_a_settled_balance() {
    let app = spawn_app().await;

    // Onboarding: PROCESSING now, the result 60 s later.
    let user_id = apply_user(&app, "merchant-001").await;
    assert!(user_id.starts_with("U20250101"), "{user_id}");
    app.advance(59.0).await;
    assert!(received(&app, "userOnboardingResultNotify").is_empty());
    app.advance(1.0).await;
    assert_eq!(
        received(&app, "userOnboardingResultNotify"),
        vec![
            json!({"userId": user_id, "status": "SUCCESS", "message": "approved",
                    "reMaterial": "N", "materialType": ""})
        ]
    );

    // Card holder.
    let holder_id = approved_holder(&app, &user_id, "holder-001").await;
    let holder = expect(
        &app,
        "cardHolderQuery",
        json!({"userId": user_id, "holderId": holder_id}),
        "SUCCESS",
    )
    .await;
    assert_eq!(holder["status"], "SUCCESS");
    assert_eq!(holder["outHolderId"], "holder-001");
    let holders = expect(
        &app,
        "b2cCardHolderQuery",
        json!({"userId": user_id}),
        "SUCCESS",
    )
    .await;
    assert_eq!(holders[0]["holderId"], holder_id.as_str());
    let platforms = expect(
        &app,
        "b2cPlatformQuery",
        json!({"userId": user_id}),
        "SUCCESS",
    )
    .await;
    assert!(platforms
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["platform"] == "AMAZON"));

    // Collection account.
    let card = open_b2c_card(&app, &user_id, &holder_id, "card-001", "USD").await;
    let card_id = card["cardId"].as_str().unwrap().to_owned();
    let account_no = card["accountNo"].as_str().unwrap().to_owned();
    assert_eq!(card["fundSource"], "B2C");
    assert_eq!(card["currency"], "USD");
    assert!(!account_no.is_empty() && card["bankName"].as_str().is_some_and(|b| !b.is_empty()));
    let detail = expect(
        &app,
        "b2cCardDetailQuery",
        json!({"userId": user_id, "cardId": card_id}),
        "SUCCESS",
    )
    .await;
    assert_eq!(detail["status"], "ACTIVE");
    assert_eq!(detail["accountNo"], account_no.as_str());
    let count = expect(
        &app,
        "b2cCardNumberQuery",
        json!({"userId": user_id, "platform": "AMAZON"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(count[0]["active"], 1);
    assert_eq!(count[0]["remaining"], 49);

    // Shop.
    let bound = expect(
        &app,
        "b2cShopBind",
        json!({"userId": user_id, "cardId": card_id, "bindId": "bind-001", "operationType": "BIND",
               "shopId": "A1B2C3D4E5", "shopName": "Example Store US", "shopUrl": "https://example.com/store"}),
        "PROCESSING",
    )
    .await;
    assert_eq!(
        bound["status"], "BINDING",
        "the binding waits for the marketplace"
    );
    app.advance(10.0).await;
    let n = received_about(&app, "b2cShopBindResultNotify", "bindId", "bind-001").await;
    assert_eq!(n["status"], "SUCCESS");
    assert_eq!(n["shopStatus"], "BOUND");
    let shops = expect(
        &app,
        "b2cShopQuery",
        json!({"userId": user_id, "cardId": card_id}),
        "SUCCESS",
    )
    .await;
    assert_eq!(shops[0]["status"], "BOUND");

    // Before any money: a zero row for the card's currency.
    let zero = balance(&app, &user_id, "B2C", "USD").await;
    assert_eq!(zero["balance"], money(json!(0), 0, "USD"));

    // Money arrives: pending first.
    let arrived = expect(
        &app,
        "mockPayeeNotify",
        json!({"userId": user_id, "cardId": card_id, "amount": "1234.56", "currency": "USD",
               "payerName": "Amazon Payments, Inc.", "shopId": "A1B2C3D4E5"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(arrived["status"], "PENDING");
    assert_eq!(arrived["amount"], money(json!(1234.56), 123456, "USD"));
    let trade_id = arrived["tradeId"].as_str().unwrap().to_owned();
    let pending = balance(&app, &user_id, "B2C", "USD").await;
    assert_eq!(pending["balance"], money(json!(0), 0, "USD"));
    assert_eq!(
        pending["pendingAmount"],
        money(json!(1234.56), 123456, "USD")
    );

    // ... and settles 5 s later, with the notification.
    app.advance(5.0).await;
    let n = received_about(&app, "collectionReceivedNotify", "tradeId", &trade_id).await;
    assert_eq!(n["status"], "SUCCESS");
    assert_eq!(n["cardId"], card_id.as_str());
    assert_eq!(n["accountNo"], account_no.as_str());
    assert_eq!(n["amount"], money(json!(1234.56), 123456, "USD"));
    let settled = balance(&app, &user_id, "B2C", "USD").await;
    assert_eq!(
        settled,
        json!({
            "balance": money(json!(1234.56), 123456, "USD"),
            "orderQuota": money(json!(0), 0, "USD"),
            "currency": "USD",
            "rmbAmount": money(json!(0), 0, "CNY"),
            "pendingAmount": money(json!(0), 0, "USD"),
            "freezeAmount": money(json!(0), 0, "USD"),
        })
    );
    let keys: Vec<&String> = settled.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "balance",
            "orderQuota",
            "currency",
            "rmbAmount",
            "pendingAmount",
            "freezeAmount"
        ]
    );

    // The records and the aggregate agree.
    let page = expect(
        &app,
        "collectionQuery",
        json!({"userId": user_id, "pageNum": 1, "pageSize": 10}),
        "SUCCESS",
    )
    .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["records"][0]["tradeId"], trade_id.as_str());
    assert_eq!(page["records"][0]["status"], "SUCCESS");
    let platform = expect(
        &app,
        "queryPlatformBalance",
        json!({"currency": "USD"}),
        "SUCCESS",
    )
    .await;
    let funds: Vec<&str> = platform
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fundSource"].as_str().unwrap())
        .collect();
    assert_eq!(funds, ["B2B", "B2C", "Acquiring"], "{platform}");
    assert_eq!(platform[1]["balance"], money(json!(1234.56), 123456, "USD"));

    // The control plane shows the ledger: in from the bank, then pending → available.
    let s = state(&app).await;
    let memos: Vec<&str> = s["ledger"]["postings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["memo"].as_str().unwrap())
        .collect();
    assert_eq!(
        memos,
        [
            format!("collection {trade_id} received"),
            format!("collection {trade_id} settled")
        ]
    );
    let balances = s["ledger"]["balances"].as_array().unwrap();
    let available = balances
        .iter()
        .find(|b| b["account"] == format!("wallet:{user_id}:B2C:available"))
        .unwrap();
    assert_eq!(available["currency"], "USD");
    assert_eq!(available["amount"], "1234.56");
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn the_b2b_flow_pays_a_channel_bank_account() {
    let app = spawn_app().await;
    let user_id = onboarded_user(&app, "exporter-1").await;
    let channels = expect(
        &app,
        "b2bChannelBanksQuery",
        json!({"userId": user_id, "currency": "EUR"}),
        "SUCCESS",
    )
    .await;
    let channels = channels.as_array().unwrap();
    assert!(!channels.is_empty());
    assert!(channels
        .iter()
        .all(|c| c["currencies"].as_array().unwrap().contains(&json!("EUR"))));
    let channel = channels[0]["channelCode"].as_str().unwrap();

    let applied = expect(
        &app,
        "b2bVirtualAccountApply",
        json!({"userId": user_id, "outCardId": "b2b-eur-1", "channelCode": channel, "currency": "EUR"}),
        "PROCESSING",
    )
    .await;
    let card_id = applied["cardId"].as_str().unwrap().to_owned();
    app.advance(10.0).await;
    let opened = received_about(&app, "virtualAccountNotify", "cardId", &card_id).await;
    assert_eq!(opened["status"], "SUCCESS");
    assert_eq!(opened["fundSource"], "B2B");
    let account_no = opened["accountNo"].as_str().unwrap();

    // A buyer pays the account number; the trigger settles it at once.
    let arrived = trigger(&app, "whalet.collection.received",
        json!({"accountNo": account_no, "amount": "5000", "currency": "EUR", "payerName": "Buyer GmbH"})).await;
    assert_eq!(arrived["status"], "PENDING");
    let trade_id = arrived["tradeId"].as_str().unwrap();
    trigger(
        &app,
        "whalet.collection.settled",
        json!({"tradeId": trade_id}),
    )
    .await;
    let n = received_about(&app, "collectionReceivedNotify", "tradeId", trade_id).await;
    assert_eq!(n["status"], "SUCCESS");
    assert_eq!(n["fundSource"], "B2B");

    let row = balance(&app, &user_id, "B2B", "EUR").await;
    assert_eq!(
        row["balance"],
        json!({"amount": 5000, "cent": 500000, "centFactor": 100, "currency": "EUR"})
    );
    // B2C shows nothing of it.
    let b2c = expect(
        &app,
        "queryCurrencyBalance",
        json!({"userId": user_id, "fundSource": "B2C"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(b2c, json!([]));
    // The scheduled settlement later finds nothing to do.
    app.advance(10.0).await;
    assert_eq!(received(&app, "collectionReceivedNotify").len(), 1);
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_cancelled_card_unbinds_its_shops_and_receives_no_more_money() {
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "cancel", "GBP").await;
    let card_id = card["cardId"].as_str().unwrap();
    bind_shop(&app, &user_id, card_id, "b-1", "S-1", "UK shop").await;
    trigger(&app, "whalet.shop.approved", json!({"bindId": "b-1"})).await;
    let letter = expect(
        &app,
        "b2cBankLetterApply",
        json!({"userId": user_id, "cardId": card_id}),
        "SUCCESS",
    )
    .await;
    assert!(
        letter["file"]["fileId"]
            .as_str()
            .is_some_and(|f| f.len() == 24),
        "{letter}"
    );

    let cancelling = expect(
        &app,
        "b2cCardCancel",
        json!({"userId": user_id, "cardId": card_id}),
        "PROCESSING",
    )
    .await;
    assert_eq!(cancelling["status"], "CANCELLING");
    refused(
        &app,
        "mockPayeeNotify",
        json!({"userId": user_id, "cardId": card_id, "amount": "1", "currency": "GBP"}),
        "FAILURE",
        "is not active (status CANCELLING)",
    )
    .await;
    app.advance(10.0).await;
    let n = received_about(&app, "b2cCardCancelResultNotify", "cardId", card_id).await;
    assert_eq!(n["status"], "SUCCESS");
    let detail = expect(
        &app,
        "b2cCardDetailQuery",
        json!({"userId": user_id, "cardId": card_id}),
        "SUCCESS",
    )
    .await;
    assert_eq!(detail["status"], "CANCELLED");
    assert_eq!(detail["shops"][0]["status"], "UNBOUND");
    let page = expect(
        &app,
        "b2cCardQuery",
        json!({"userId": user_id, "status": "CANCELLED"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(page["total"], 1);
    refused(
        &app,
        "mockPayeeNotify",
        json!({"userId": user_id, "cardId": card_id, "amount": "1", "currency": "GBP"}),
        "FAILURE",
        "is not active (status CANCELLED)",
    )
    .await;
    app.assert_invariants().await;
    app.shutdown().await;
}

/// A card is not cancelled while a shop bind or unbind waits for the marketplace (its
/// b2cShopBindResultNotify is owed): the cancellation is refused, as with a collection pending,
/// and the binding ends with its own notification.
#[tokio::test]
async fn a_card_with_a_shop_binding_under_review_is_not_cancelled() {
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "cancel-busy", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();
    let cancel = json!({"userId": user_id, "cardId": card_id});
    bind_shop(&app, &user_id, card_id, "b-r", "S-R", "Shop").await;
    refused(
        &app,
        "b2cCardCancel",
        cancel.clone(),
        "FAILURE",
        &format!("card {card_id} has shop binding(s) under review by the marketplace: bindId b-r (BINDING)"),
    )
    .await;
    app.advance(10.0).await;
    expect(
        &app,
        "b2cShopBind",
        json!({"userId": user_id, "cardId": card_id, "bindId": "b-r",
        "operationType": "UNBIND", "shopId": "S-R"}),
        "PROCESSING",
    )
    .await;
    refused(
        &app,
        "b2cCardCancel",
        cancel.clone(),
        "FAILURE",
        "bindId b-r (UNBINDING)",
    )
    .await;
    let detail = expect(&app, "b2cCardDetailQuery", cancel.clone(), "SUCCESS").await;
    assert_eq!(
        detail["status"], "ACTIVE",
        "a refused cancel changes nothing"
    );
    app.advance(10.0).await;
    let notes = received(&app, "b2cShopBindResultNotify");
    assert_eq!(
        notes.len(),
        2,
        "every bind and unbind is notified: {notes:?}"
    );
    assert_eq!(notes[1]["shopStatus"], "UNBOUND");
    let first = expect(&app, "b2cCardCancel", cancel.clone(), "PROCESSING").await;
    // A retry with a reason (which the cancellation reads but does not keep) is the same
    // cancellation: the original answer, not a conflict (docs/FIDELITY.md).
    let reply = call(
        &app,
        "b2cCardCancel",
        json!({"userId": user_id, "cardId": card_id, "reason": "other"}),
    )
    .await;
    assert_eq!(reply.code, "PROCESSING", "{}", reply.detail);
    assert_eq!(reply.body.unwrap_or_default(), first);
    app.advance(10.0).await;
    let n = received_about(&app, "b2cCardCancelResultNotify", "cardId", card_id).await;
    assert_eq!(n["status"], "SUCCESS");
    app.assert_invariants().await;
    app.shutdown().await;
}

/// A card with collections not yet settled is not cancelled, and the refusal names them by
/// tradeId: the first five, then how many more.
#[tokio::test]
async fn a_card_with_collections_pending_is_not_cancelled_and_they_are_named() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let (user_id, card_id) = (
        ready["userId"].as_str().unwrap(),
        ready["cardId"].as_str().unwrap(),
    );
    let cancel = json!({"userId": user_id, "cardId": card_id});
    let first = collection(&app, card_id, "1.00").await;
    refused(
        &app,
        "b2cCardCancel",
        cancel.clone(),
        "FAILURE",
        &format!("card {card_id} has 1 collection(s) not yet settled: tradeId {first}; cancel it after they settle"),
    )
    .await;
    let mut trade_ids = vec![first];
    for _ in 0..6 {
        trade_ids.push(collection(&app, card_id, "1.00").await);
    }
    trade_ids.sort();
    let before = business_state(&app).await;
    refused(
        &app,
        "b2cCardCancel",
        cancel.clone(),
        "FAILURE",
        &format!(
            "card {card_id} has 7 collection(s) not yet settled: tradeId {} and 2 more;",
            trade_ids[..5].join(", ")
        ),
    )
    .await;
    assert_eq!(
        business_state(&app).await,
        before,
        "a refused cancel changes nothing"
    );
    app.assert_invariants().await;
    app.shutdown().await;
}

/// `b2cCardQuery` refuses a `platform` the catalogue does not list, as `b2cCardNumberQuery`
/// does, rather than answering an empty page; a listed one filters.
#[tokio::test]
async fn a_card_query_refuses_a_platform_the_catalogue_does_not_list() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let user_id = ready["userId"].as_str().unwrap();
    for operation in ["b2cCardQuery", "b2cCardNumberQuery"] {
        refused(
            &app,
            operation,
            json!({"userId": user_id, "platform": "amazon"}),
            "FAILURE",
            "platform \"amazon\" is not a B2C platform (see b2cPlatformQuery)",
        )
        .await;
    }
    let page = expect(
        &app,
        "b2cCardQuery",
        json!({"userId": user_id, "platform": "AMAZON"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(page["total"], 1, "{page}");
    let page = expect(
        &app,
        "b2cCardQuery",
        json!({"userId": user_id, "platform": "EBAY"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(page["total"], 0, "{page}");
    app.shutdown().await;
}

/// `queryPlatformBalance` without `fundSource` answers one row per fund source and currency,
/// each naming its fund source: B2B and B2C money is never summed into one row.
#[tokio::test]
async fn the_platform_balance_is_per_fund_source() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let settled = collection(&app, ready["cardId"].as_str().unwrap(), "10.00").await;
    trigger(
        &app,
        "whalet.collection.settled",
        json!({"tradeId": settled}),
    )
    .await;
    let (_, b2b_card_id) = b2b_card(&app, "exporter-pb", "pb-1").await;
    collection(&app, &b2b_card_id, "5.00").await;
    // Whole dollars: a whole amount is a JSON integer in a Money object.
    let row = |fund: &str, available: i64, pending: i64| {
        json!({"currency": "USD", "fundSource": fund,
               "balance": money(json!(available / 100), available, "USD"),
               "pendingAmount": money(json!(pending / 100), pending, "USD"),
               "freezeAmount": money(json!(0), 0, "USD")})
    };
    let all = expect(&app, "queryPlatformBalance", json!({}), "SUCCESS").await;
    assert_eq!(all, json!([row("B2B", 0, 500), row("B2C", 1000, 0)]));
    let usd = expect(
        &app,
        "queryPlatformBalance",
        json!({"currency": "USD"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(
        usd,
        json!([
            row("B2B", 0, 500),
            row("B2C", 1000, 0),
            row("Acquiring", 0, 0)
        ]),
        "the currency asked shows for every fund source, zeros if nothing"
    );
    let b2c = expect(
        &app,
        "queryPlatformBalance",
        json!({"fundSource": "B2C"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(b2c, json!([row("B2C", 1000, 0)]));
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn collection_query_pages_newest_first() {
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "pages", "USD").await;
    for i in 1..=5 {
        trigger(
            &app,
            "whalet.collection.received",
            json!({"cardId": card["cardId"], "amount": format!("{i}.00")}),
        )
        .await;
        app.advance(1.0).await;
    }
    let page = expect(
        &app,
        "collectionQuery",
        json!({"userId": user_id, "pageNum": "2", "pageSize": "2"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["size"], 2);
    assert_eq!(page["current"], 2);
    assert_eq!(page["pages"], 3);
    let cents: Vec<i64> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"]["cent"].as_i64().unwrap())
        .collect();
    assert_eq!(cents, [300, 200]);
    let pending = expect(
        &app,
        "collectionQuery",
        json!({"userId": user_id, "status": "PENDING"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(
        pending["total"], 4,
        "the last four have not settled yet (5 s)"
    );
    app.advance(5.0).await;
    let row = balance(&app, &user_id, "B2C", "USD").await;
    assert_eq!(row["balance"]["cent"], 1500);
    assert_eq!(row["pendingAmount"]["cent"], 0);
    app.assert_invariants().await;
    app.shutdown().await;
}

/// Regression: times are given to the second, and `endTime` dropped the records of its own last
/// second (a collection received at 08:00:00.500, shown as "08:00:00", was outside
/// `endTime = "… 08:00:00"` while `startTime` with that value found it).
#[tokio::test]
async fn collection_query_end_time_covers_its_whole_second() {
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "window", "USD").await;
    let now = app.advance(0.0).await["now"].as_i64().unwrap();
    let to_half = (500 - now % 1000).rem_euclid(1000);
    let (status, clock) = app
        .post("/__sim/clock/advance", &json!({ "ms": to_half }))
        .await;
    assert_eq!(status, 200, "{clock}");
    assert_eq!(clock["now"].as_i64().unwrap() % 1000, 500, "{clock}");
    trigger(
        &app,
        "whalet.collection.received",
        json!({"cardId": card["cardId"], "amount": "1.00"}),
    )
    .await;
    let all = expect(
        &app,
        "collectionQuery",
        json!({"userId": user_id}),
        "SUCCESS",
    )
    .await;
    let second = all["records"][0]["receiveTime"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(second, clock["nowText"], "shown to the second");
    let next = app.advance(1.0).await["nowText"]
        .as_str()
        .unwrap()
        .to_owned();
    for (window, total) in [
        (json!({"startTime": second, "endTime": second}), 1),
        (json!({"endTime": second}), 1),
        (json!({"startTime": second}), 1),
        (json!({"startTime": next}), 0),
    ] {
        let mut body = window.clone();
        body["userId"] = json!(user_id);
        let page = expect(&app, "collectionQuery", body, "SUCCESS").await;
        assert_eq!(page["total"], total, "{window}");
    }
    app.finish().await;
}

/// A `bindId` is unique per partner and belongs to the user who bound it: another user of the
/// partner naming it, to bind or to unbind, is refused FAILURE saying so (never IDEMPOTENT_ERROR
/// with the other user's content), changing nothing; the owner's retry still replays.
#[tokio::test]
async fn another_users_bind_id_is_a_failure_not_an_idempotency_clash() {
    let app = spawn_app().await;
    let (owner, _, card) = b2c_ready(&app, "bind-owner", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();
    let (other, _, other_card) = b2c_ready(&app, "bind-other", "USD").await;
    let other_card = other_card["cardId"].as_str().unwrap();
    let first = bind_shop(&app, &owner, card_id, "b-shared", "S-OWN", "Shop").await;
    let before = business_state(&app).await;
    let taken = "bindId b-shared is taken by another user of this partner";
    refused(
        &app,
        "b2cShopBind",
        json!({"userId": other, "cardId": other_card, "bindId": "b-shared",
        "operationType": "BIND", "shopId": "S-OTHER", "shopName": "Other"}),
        "FAILURE",
        taken,
    )
    .await;
    assert_eq!(business_state(&app).await, before, "nothing changed");
    app.advance(10.0).await;
    let before_unbind = business_state(&app).await;
    refused(
        &app,
        "b2cShopBind",
        json!({"userId": other, "cardId": other_card, "bindId": "b-shared",
        "operationType": "UNBIND", "shopId": "S-OWN"}),
        "FAILURE",
        taken,
    )
    .await;
    assert_eq!(business_state(&app).await, before_unbind, "nothing changed");
    let replay = expect(
        &app,
        "b2cShopBind",
        json!({"userId": owner, "cardId": card_id, "bindId": "b-shared",
        "operationType": "BIND", "shopId": "S-OWN", "shopName": "Shop"}),
        "PROCESSING",
    )
    .await;
    assert_eq!(replay, first, "the owner's retry replays its answer");
    app.shutdown().await;
}

/// A B2B account is opened in the user's legal name: an `accountName` asked for is checked
/// against it (FAILURE naming both when it differs, nothing recorded, so the same `outCardId`
/// may be sent again), and the opened account carries that name.
#[tokio::test]
async fn a_b2b_account_name_must_be_the_users_legal_name() {
    let app = spawn_app().await;
    let user_id = onboarded_user(&app, "exporter-name").await;
    let apply = |name: &str| {
        json!({"userId": user_id, "outCardId": "b2b-name", "channelCode": "SIM_US_LOCAL",
            "currency": "USD", "accountName": name})
    };
    let before = business_state(&app).await;
    refused(
        &app,
        "b2bVirtualAccountApply",
        apply("Partner Chosen Name"),
        "FAILURE",
        "accountName \"Partner Chosen Name\" is not the user's legal name \"Example Trading\"",
    )
    .await;
    assert_eq!(business_state(&app).await, before, "nothing changed");
    let applied = expect(
        &app,
        "b2bVirtualAccountApply",
        apply(" example trading "),
        "PROCESSING",
    )
    .await;
    let card_id = applied["cardId"].as_str().unwrap().to_owned();
    app.advance(10.0).await;
    let opened = received_about(&app, "virtualAccountNotify", "cardId", &card_id).await;
    assert_eq!(opened["accountName"], "Example Trading");
    app.shutdown().await;
}

/// Regression: `mockPayeeNotify` read `fundSource` and dropped it when `cardId` or `accountNo`
/// named the account, so a B2B payment on a B2C card was booked B2C without a word. A
/// `fundSource` given beside either id must now be the account's, as the two ids must name one
/// account: the API and the trigger refuse the mismatch naming both, with nothing booked.
#[tokio::test]
async fn a_fund_source_other_than_the_accounts_is_refused() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let (user_id, card_id) = (ready["userId"].as_str().unwrap(), &ready["cardId"]);
    let card = card_id.as_str().unwrap();
    let by_card = json!({"userId": user_id, "cardId": card_id, "fundSource": "B2B",
                         "amount": "10.00", "currency": "USD"});
    let by_no = json!({"userId": user_id, "accountNo": ready["accountNo"], "fundSource": "B2B",
                       "amount": "10.00", "currency": "USD"});
    let tail = format!(
        "disagree: collection account {card} is a B2C account; give fundSource B2C, or leave it \
         out"
    );
    let before = business_state(&app).await;
    refused(
        &app,
        "mockPayeeNotify",
        by_card,
        "FAILURE",
        &format!("fundSource B2B and cardId {card} {tail}"),
    )
    .await;
    refused(
        &app,
        "mockPayeeNotify",
        by_no,
        "FAILURE",
        &format!("fundSource B2B and accountNo {} {tail}", ready["accountNo"]),
    )
    .await;
    let (status, body) = app
        .post(
            "/__sim/trigger/whalet.collection.received",
            &json!({"amount": "5.00", "cardId": card_id, "fundSource": "B2B"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains(&tail), "{body}");
    assert_eq!(business_state(&app).await, before);
    // The account's own fund source is fine.
    let same = json!({"userId": user_id, "cardId": card_id, "fundSource": "B2C",
                      "amount": "1.00", "currency": "USD"});
    expect(&app, "mockPayeeNotify", same, "SUCCESS").await;
    app.assert_invariants().await;
    app.shutdown().await;
}
