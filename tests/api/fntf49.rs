//! A notification that follows from another object's waits for it: when a collection is
//! returned, each of its trade-order bindings ends FAILURE with its own `tradeOrderBindNotify`
//! only after the notification that told the return (the collection's
//! `collectionReceivedNotify`, or for a settled collection the rejection's
//! `tradeReplenishResultNotify`) is delivered, also when that one needs a retry; a snapshot keeps
//! the wait.

use serde_json::{json, Value};
use whalet_sim::partner::receiver::Mode;

use crate::helpers::{spawn_app, TestApp};
use crate::whalet2_support::{b2b_card, collection, submit_invoice, trade_material_requested};
use crate::whalet_support::{expect, trigger};

/// From now on the receiver answers HTTP 500 to the first attempt of every notification.
fn fail_once_from_now(app: &TestApp) {
    app.receiver.set_mode(Mode::Ack { fail_first: 1 });
}

/// The ledger's notifications with `api_code` whose payload reads `status`, oldest first.
async fn ledger(app: &TestApp, api_code: &str, status: &str) -> Vec<Value> {
    let list = app
        .get_json(&format!("/__sim/notifications?apiCode={api_code}"))
        .await;
    let mut found: Vec<Value> = list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["payload"]["status"] == status)
        .cloned()
        .collect();
    found.reverse();
    found
}

/// Virtual time of a notification's first attempt.
fn first_attempt(n: &Value) -> i64 {
    n["attempts"][0]["virtualTime"].as_i64().unwrap()
}

/// Where the receiver first got notification `n` (any attempt), and where it acknowledged it.
fn heard(app: &TestApp, n: &Value) -> (usize, usize) {
    let got = app.receiver.received();
    let mine = |r: &&whalet_sim::partner::receiver::Received| r.request_no == n["requestNo"];
    let first = got.iter().position(|r| mine(&r)).unwrap();
    let acked = got
        .iter()
        .position(|r| mine(&r) && (200..300).contains(&r.answered))
        .unwrap();
    (first, acked)
}

/// An order of `amount` USD for `user`; returns its orderId.
async fn order(app: &TestApp, user: &str, out: &str, amount: &str) -> String {
    let o = expect(
        app,
        "tradeOrderApply",
        json!({"userId": user, "outOrderNo": out, "buyerName": "Buyer", "buyerCountry": "US",
        "goodsName": "Lamps", "currency": "USD", "amount": amount}),
        "SUCCESS",
    )
    .await;
    o["orderId"].as_str().unwrap().to_owned()
}

/// Binds `amount` of collection `trade_id` to order `order_id`; returns the bindId.
async fn bind(app: &TestApp, user: &str, trade_id: &str, order_id: &str, amount: &str) -> String {
    let b = expect(
        app,
        "tradeOrderBindApply",
        json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": order_id, "amount": amount}]}),
        "PROCESSING",
    )
    .await;
    b["bindId"].as_str().unwrap().to_owned()
}

/// Regression: the bindings' FAILURE went out at once, under their own bindIds, so when the
/// partner answered the collection's `collectionReceivedNotify` 500 once, it heard of the
/// bindings ending before the collection's return (which came on its 1 s retry). Now each
/// binding's first attempt waits until the collection's notification is delivered; the two
/// bindings do not wait for each other; each keeps its own businessId; and a snapshot taken
/// while they wait, imported again, keeps them waiting.
#[tokio::test]
async fn a_returned_collections_bindings_are_heard_of_after_the_collection_even_when_it_is_retried()
{
    let app = spawn_app().await;
    let (user, card_id) = b2b_card(&app, "b2b-1", "c-1").await;
    let trade_id = collection(&app, &card_id, "50.00").await;
    let first_order = order(&app, &user, "o-1", "60.00").await;
    let second_order = order(&app, &user, "o-2", "60.00").await;
    let binds = [
        bind(&app, &user, &trade_id, &first_order, "20.00").await,
        bind(&app, &user, &trade_id, &second_order, "10.00").await,
    ];
    fail_once_from_now(&app);
    trigger(
        &app,
        "whalet.collection.returned",
        json!({"tradeId": trade_id}),
    )
    .await;
    let waiting = ledger(&app, "tradeOrderBindNotify", "FAILURE").await;
    assert_eq!(waiting.len(), 2, "{waiting:?}");
    for (n, bind_id) in waiting.iter().zip(&binds) {
        assert_eq!(n["status"], "queued", "{n}");
        assert_eq!(n["businessId"], bind_id.as_str(), "its own object: {n}");
        assert_eq!(n["afterBusinessId"], trade_id.as_str(), "{n}");
    }

    // Once the partner has refused the collection's first attempt (its retry is due in 1 s),
    // the snapshot keeps the wait: imported again, the bindings still wait for the collection.
    for _ in 0..200 {
        let told = ledger(&app, "collectionReceivedNotify", "FAILURE").await;
        if told[0]["attempts"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            assert_eq!(told[0]["status"], "pending", "{}", told[0]);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let snapshot = app.get_json("/__sim/snapshot").await;
    let bytes = serde_json::to_vec(&snapshot).unwrap();
    let (status, body) = app
        .post_raw("/__sim/snapshot", "application/json", bytes)
        .await;
    assert_eq!(status, 200, "{body}");
    let waiting = ledger(&app, "tradeOrderBindNotify", "FAILURE").await;
    assert!(
        waiting.iter().all(|n| n["status"] == "queued"),
        "{waiting:?}"
    );

    app.advance(5.0).await;
    let returned = ledger(&app, "collectionReceivedNotify", "FAILURE").await;
    assert_eq!(returned.len(), 1, "{returned:?}");
    let returned = &returned[0];
    assert_eq!(returned["status"], "delivered", "{returned}");
    assert_eq!(
        returned["attempts"].as_array().unwrap().len(),
        2,
        "the first attempt was refused: {returned}"
    );
    let told = returned["finishedAt"].as_i64().unwrap();
    let ended = ledger(&app, "tradeOrderBindNotify", "FAILURE").await;
    assert_eq!(ended.len(), 2, "{ended:?}");
    let (_, collection_acked) = heard(&app, returned);
    for n in &ended {
        assert_eq!(n["status"], "delivered", "{n}");
        assert_eq!(
            first_attempt(n),
            told,
            "the binding's first attempt waits for the collection's delivery, no longer: {n}"
        );
        let (binding_first, _) = heard(&app, n);
        assert!(
            binding_first > collection_acked,
            "the partner hears of the binding only after the collection: {n}"
        );
    }
    app.assert_invariants().await;
    app.shutdown().await;
}

/// A settled collection sent back by rejected trade material: its binding's FAILURE waits for
/// the rejection's `tradeReplenishResultNotify` (which tells the return), also when the partner
/// refuses that one's first attempt.
#[tokio::test]
async fn a_settled_collections_binding_is_heard_of_after_the_rejection_that_returned_it() {
    let app = spawn_app().await;
    let (user, card_id) = b2b_card(&app, "b2b-2", "c-2").await;
    let trade_id = collection(&app, &card_id, "500.00").await;
    app.advance(6.0).await;
    let order_id = order(&app, &user, "o-3", "300.00").await;
    let bind_id = bind(&app, &user, &trade_id, &order_id, "300.00").await;
    trigger(
        &app,
        "whalet.trade_bind.approved",
        json!({"bindId": bind_id}),
    )
    .await;
    let ask = trade_material_requested(&app, &trade_id).await;
    let rid = ask["replenishId"].as_str().unwrap().to_owned();
    submit_invoice(&app, &user, &trade_id, None).await;
    fail_once_from_now(&app);
    trigger(
        &app,
        "whalet.replenish.rejected",
        json!({"replenishId": rid}),
    )
    .await;
    app.advance(5.0).await;

    let rejected = ledger(&app, "tradeReplenishResultNotify", "FAILURE").await;
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let rejected = &rejected[0];
    assert_eq!(rejected["businessId"], rid.as_str(), "{rejected}");
    assert_eq!(rejected["status"], "delivered", "{rejected}");
    let told = rejected["finishedAt"].as_i64().unwrap();
    let ended = ledger(&app, "tradeOrderBindNotify", "FAILURE").await;
    assert_eq!(ended.len(), 1, "{ended:?}");
    let n = &ended[0];
    assert_eq!(n["businessId"], bind_id.as_str(), "{n}");
    assert_eq!(n["status"], "delivered", "{n}");
    assert_eq!(first_attempt(n), told, "{n}");
    assert!(heard(&app, n).0 > heard(&app, rejected).1, "{n}");
    app.shutdown().await;
}
