//! Trade orders end to end: a B2B collection bound to orders, never beyond its amount (nor an
//! order's), `autoClose`, `tradeOrderBindNotify`, the paged list, `orderQuota` in the balance,
//! and shop order batches refused for an unbound shop.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::whalet2_support::{b2b_card, collection, submit_invoice, trade_material_requested};
use crate::whalet_support::{
    balance, bind_shop, business_state, expect, received, received_about, refused, trigger,
};

#[tokio::test]
async fn a_collection_cannot_be_bound_beyond_its_amount() {
    let app = spawn_app().await;
    let (user, card_id) = b2b_card(&app, "b2b-1", "c-1").await;
    let trade_id = &collection(&app, &card_id, "1000").await;
    app.advance(5.0).await;
    let order = |out: &str, amount: &str| {
        json!({"userId": user, "outOrderNo": out, "buyerName": "Berlin Imports GmbH",
        "buyerCountry": "DE", "goodsName": "LED panels", "currency": "USD", "amount": amount})
    };
    let a = expect(&app, "tradeOrderApply", order("o-a", "600"), "SUCCESS").await;
    let b = expect(&app, "tradeOrderApply", order("o-b", "800"), "SUCCESS").await;
    let (a, b) = (
        a["orderId"].as_str().unwrap(),
        b["orderId"].as_str().unwrap(),
    );
    assert_eq!(
        balance(&app, &user, "B2B", "USD").await["orderQuota"]["cent"],
        140_000
    );
    let before = business_state(&app).await;
    refused(&app, "tradeOrderBindApply", json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": a, "amount": "600", "autoClose": "Y"}, {"orderId": b, "amount": "500"}]}),
        "FAILURE", "cannot be bound beyond its amount").await;
    refused(
        &app,
        "tradeOrderBindApply",
        json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": b, "amount": "800.01"}]}),
        "FAILURE",
        "has 800.00 USD left to bind",
    )
    .await;
    refused(
        &app,
        "tradeOrderBindApply",
        json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": a, "amount": "1"}, {"orderId": a, "amount": "2"}]}),
        "PARAMETER_ERROR",
        "listed twice",
    )
    .await;
    assert_eq!(business_state(&app).await, before);
    let first = expect(
        &app,
        "tradeOrderBindApply",
        json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": a, "amount": "300", "autoClose": "Y"}]}),
        "PROCESSING",
    )
    .await;
    // A binding under review already claims its amount.
    refused(
        &app,
        "tradeOrderBindApply",
        json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": b, "amount": "700.01"}]}),
        "FAILURE",
        "300.00 USD of 1000.00 is already bound",
    )
    .await;
    let second = expect(
        &app,
        "tradeOrderBindApply",
        json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": b, "amount": "700"}]}),
        "PROCESSING",
    )
    .await;
    trigger(
        &app,
        "whalet.trade_bind.rejected",
        json!({"bindId": second["bindId"]}),
    )
    .await;
    let n = received_about(
        &app,
        "tradeOrderBindNotify",
        "bindId",
        second["bindId"].as_str().unwrap(),
    )
    .await;
    assert_eq!(n["status"], "FAILURE");
    app.advance(10.0).await;
    let n = received_about(
        &app,
        "tradeOrderBindNotify",
        "bindId",
        first["bindId"].as_str().unwrap(),
    )
    .await;
    assert_eq!(n["status"], "SUCCESS");
    let detail = expect(
        &app,
        "tradeOrderQueryDetail",
        json!({"userId": user, "orderId": a}),
        "SUCCESS",
    )
    .await;
    assert_eq!(
        detail["status"], "CLOSED",
        "autoClose closes it although 300 of 600 is bound"
    );
    assert_eq!(detail["boundAmount"]["cent"], 30_000);
    // The rejected binding freed its claim: 700 of the collection can still be bound.
    expect(
        &app,
        "tradeOrderBindApply",
        json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": b, "amount": "700"}]}),
        "PROCESSING",
    )
    .await;
    app.advance(10.0).await;
    assert_eq!(
        balance(&app, &user, "B2B", "USD").await["orderQuota"]["cent"],
        10_000
    );
    let page = expect(
        &app,
        "tradeOrderQueryList",
        json!({"userId": user, "pageNum": 2, "pageSize": 1}),
        "SUCCESS",
    )
    .await;
    assert_eq!(
        (
            page["total"].clone(),
            page["pages"].clone(),
            page["current"].clone()
        ),
        (json!(2), json!(2), json!(2))
    );
    assert_eq!(page["records"][0]["orderId"], a, "newest first; a is older");
    let open = expect(
        &app,
        "tradeOrderQueryList",
        json!({"userId": user, "status": "OPEN"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(open["total"], 1);
    app.finish().await;
}

#[tokio::test]
async fn shop_orders_need_a_bound_shop_and_valid_lines() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let user = ready["userId"].as_str().unwrap();
    refused(&app, "shopOrderUpload", json!({"userId": user, "batchNo": "b1", "shopId": "S1",
        "orders": [{"orderNo": "1", "amount": "1.001", "currency": "USD", "orderTime": "2025-01-01 10:00"}]}),
        "PARAMETER_ERROR", "orders[0].amount \"1.001\" has 3 decimal places; USD has 2; orders[0].orderTime must be").await;
    refused(&app, "shopOrderUpload", json!({"userId": user, "batchNo": "b1", "shopId": "S1",
        "orders": [{"orderNo": "1", "amount": "12.5", "currency": "USD", "orderTime": "2025-01-01 10:00:00"}]}),
        "FAILURE", "shop S1 is not bound").await;
    let card_id = ready["cardId"].as_str().unwrap();
    bind_shop(&app, user, card_id, "bind-1", "S1", "Demo Store").await;
    app.advance(10.0).await;
    let batch = json!({"userId": user, "batchNo": "b1", "shopId": "S1", "orders": [
        {"orderNo": "114-1", "amount": "12.5", "currency": "USD", "orderTime": "2025-01-01 10:00:00"},
        {"orderNo": "114-2", "amount": 7, "currency": "USD", "orderTime": "2025-01-01 10:05:00", "goodsName": "Cable"}]});
    let up = expect(&app, "shopOrderUpload", batch.clone(), "SUCCESS").await;
    assert_eq!(up["count"], 2);
    let again = expect(&app, "shopOrderUpload", batch, "SUCCESS").await;
    assert_eq!(
        again["uploadId"], up["uploadId"],
        "the same batchNo replays"
    );
    app.shutdown().await;
}

/// Returning a collection ends its bindings: an approved one's amounts leave the orders (an
/// order it closed by binding it fully is OPEN again, `orderQuota` counts the money again), a
/// pending one is rejected; each gets a FAILURE `tradeOrderBindNotify` saying why, the returned
/// collection has no settleTime, and the money adds up.
#[tokio::test]
async fn a_returned_collection_releases_its_bindings() {
    let app = spawn_app().await;
    let (user, card_id) = b2b_card(&app, "b2b-ret", "c-r").await;
    let trade_id = &collection(&app, &card_id, "10").await;
    let order = |out: &str, amount: &str| {
        json!({"userId": user, "outOrderNo": out, "buyerName": "Berlin Imports GmbH",
        "buyerCountry": "DE", "goodsName": "LED panels", "currency": "USD", "amount": amount})
    };
    let mut ids = Vec::new();
    for (out, amount) in [("o-80", "80"), ("o-2", "2"), ("o-20", "20")] {
        let o = expect(&app, "tradeOrderApply", order(out, amount), "SUCCESS").await;
        ids.push(o["orderId"].as_str().unwrap().to_owned());
    }
    let (big, small, other) = (&ids[0], &ids[1], &ids[2]);
    let approved = expect(&app, "tradeOrderBindApply", json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": big, "amount": "5", "autoClose": "N"}, {"orderId": small, "amount": "2"}]}),
        "PROCESSING").await;
    let approved = approved["bindId"].as_str().unwrap();
    trigger(
        &app,
        "whalet.trade_bind.approved",
        json!({"bindId": approved}),
    )
    .await;
    let pending = expect(
        &app,
        "tradeOrderBindApply",
        json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": other, "amount": "3"}]}),
        "PROCESSING",
    )
    .await;
    let pending = pending["bindId"].as_str().unwrap();
    let detail = |id: &str| json!({"userId": user, "orderId": id});
    let small_detail = expect(&app, "tradeOrderQueryDetail", detail(small), "SUCCESS").await;
    assert_eq!(small_detail["status"], "CLOSED", "fully bound");
    let quota = |b: serde_json::Value| b["orderQuota"]["cent"].clone();
    assert_eq!(quota(balance(&app, &user, "B2B", "USD").await), 9_500);

    trigger(
        &app,
        "whalet.collection.returned",
        json!({"tradeId": trade_id}),
    )
    .await;
    let returned = received_about(&app, "collectionReceivedNotify", "tradeId", trade_id).await;
    assert_eq!(returned["status"], "FAILURE");
    assert_eq!(
        returned["settleTime"],
        serde_json::Value::Null,
        "{returned}"
    );
    // One FAILURE tradeOrderBindNotify per binding the return ended.
    let mut ended = Vec::new();
    for _ in 0..200 {
        ended = received(&app, "tradeOrderBindNotify")
            .into_iter()
            .filter(|b| b["status"] == "FAILURE")
            .collect();
        if ended.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(ended.len(), 2, "{ended:?}");
    for bind_id in [approved, pending] {
        let n = ended.iter().find(|b| b["bindId"] == bind_id).unwrap();
        assert!(
            n["message"]
                .as_str()
                .unwrap()
                .contains("returned to the payer"),
            "{n}"
        );
    }
    for id in [big, small] {
        let d = expect(&app, "tradeOrderQueryDetail", detail(id), "SUCCESS").await;
        assert_eq!(
            (d["boundAmount"]["cent"].clone(), d["status"].clone()),
            (json!(0), json!("OPEN")),
            "{d}"
        );
    }
    assert_eq!(quota(balance(&app, &user, "B2B", "USD").await), 10_200);
    // What the bindings claimed is free, but a returned collection cannot be bound again.
    refused(
        &app,
        "tradeOrderBindApply",
        json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": big, "amount": "1"}]}),
        "FAILURE",
        "was returned",
    )
    .await;
    // The pending binding's own review, when due, finds nothing to decide.
    app.advance(10.0).await;
    let late: Vec<_> = received(&app, "tradeOrderBindNotify")
        .into_iter()
        .filter(|b| b["bindId"] == pending)
        .collect();
    assert_eq!(late.len(), 1, "{late:?}");
    app.finish().await;
}

/// Rejected trade material sends a settled collection's money back to the payer: the collection
/// reads as returned (FAILURE, the reason naming the request, its settleTime kept) and its
/// approved binding is undone as a returned collection's is (amounts leave the order, which is
/// OPEN again), ending FAILURE with its own `tradeOrderBindNotify`.
#[tokio::test]
async fn rejected_trade_material_on_a_settled_collection_ends_its_bindings() {
    let app = spawn_app().await;
    let (user, card_id) = b2b_card(&app, "b2b-tm", "c-tm").await;
    let trade_id = &collection(&app, &card_id, "500.00").await;
    let order = expect(
        &app,
        "tradeOrderApply",
        json!({"userId": user, "outOrderNo": "o-300",
        "buyerName": "Berlin Imports GmbH", "buyerCountry": "DE", "goodsName": "LED panels",
        "currency": "USD", "amount": "300.00"}),
        "SUCCESS",
    )
    .await;
    let order_id = order["orderId"].as_str().unwrap();
    let bind = expect(
        &app,
        "tradeOrderBindApply",
        json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": order_id, "amount": "300.00"}]}),
        "PROCESSING",
    )
    .await;
    let bind_id = bind["bindId"].as_str().unwrap();
    app.advance(11.0).await;
    let n = received_about(&app, "tradeOrderBindNotify", "bindId", bind_id).await;
    assert_eq!(n["status"], "SUCCESS", "{n}");
    let detail = json!({"userId": user, "orderId": order_id});
    let d = expect(&app, "tradeOrderQueryDetail", detail.clone(), "SUCCESS").await;
    assert_eq!(
        (d["boundAmount"]["cent"].clone(), d["status"].clone()),
        (json!(30_000), json!("CLOSED"))
    );

    let ask = trade_material_requested(&app, trade_id).await;
    let rid = ask["replenishId"].as_str().unwrap();
    assert_eq!(ask["freezeAmount"]["cent"], 50_000);
    submit_invoice(&app, &user, trade_id, None).await;
    trigger(
        &app,
        "whalet.replenish.rejected",
        json!({"replenishId": rid}),
    )
    .await;

    let n = received_about(&app, "tradeReplenishResultNotify", "replenishId", rid).await;
    assert_eq!(n["status"], "FAILURE");
    let mut ended = Vec::new();
    for _ in 0..200 {
        ended = received(&app, "tradeOrderBindNotify")
            .into_iter()
            .filter(|b| b["bindId"] == bind_id && b["status"] == "FAILURE")
            .collect();
        if !ended.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        ended.len(),
        1,
        "one tradeOrderBindNotify FAILURE for the binding"
    );
    let message = ended[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("collection {trade_id} was returned to the payer")),
        "{message}"
    );
    let d = expect(&app, "tradeOrderQueryDetail", detail, "SUCCESS").await;
    assert_eq!(
        (d["boundAmount"]["cent"].clone(), d["status"].clone()),
        (json!(0), json!("OPEN")),
        "{d}"
    );
    let listed = expect(&app, "collectionQuery", json!({"userId": user}), "SUCCESS").await;
    let c = &listed["records"][0];
    assert_eq!(c["tradeId"], trade_id.as_str());
    assert_eq!(c["status"], "FAILURE", "{c}");
    assert!(c["reason"].as_str().unwrap().contains(rid), "{c}");
    assert!(
        c["settleTime"].is_string(),
        "it did settle before it went back: {c}"
    );
    let b = balance(&app, &user, "B2B", "USD").await;
    assert_eq!(
        (
            b["balance"]["cent"].clone(),
            b["freezeAmount"]["cent"].clone()
        ),
        (json!(0), json!(0))
    );
    assert_eq!(
        b["orderQuota"]["cent"], 30_000,
        "the order counts its whole amount again"
    );
    refused(
        &app,
        "tradeOrderBindApply",
        json!({"userId": user, "tradeId": trade_id,
        "orders": [{"orderId": order_id, "amount": "1.00"}]}),
        "FAILURE",
        &format!("the trade material of request {rid} was rejected)"),
    )
    .await;
    app.finish().await;
}
