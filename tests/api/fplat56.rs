//! Round 56 (t56c): whalet-platform's payments can be decided from outside, as Pockyt's payouts
//! and the Open API's collections can: `platform.payment.succeeded|failed` settle a PROCESSING
//! payment now, with the settlement's money moves and notification, and refuse a payment that
//! is unknown or already settled, changing nothing.

use serde_json::json;

use crate::helpers::{platform_call, spawn_app, TestApp};
use crate::platform::{bind_body, trigger};

/// A funded partner (1,000.00 USD) with shop S1 bound and payments `ids` of 100.00 USD each
/// accepted (PROCESSING).
async fn processing(ids: &[&str]) -> TestApp {
    let app = spawn_app().await;
    let (status, body) = trigger(
        &app,
        "platform.bulk_payment.received",
        json!({"amount": "1000.00", "currency": "USD"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    platform_call(&app, "shopAccountBind", &bind_body("B5601", "S1")).await;
    let (status, body) = trigger(
        &app,
        "platform.binding.approved",
        json!({"bindId": "B5601"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for id in ids {
        let pay = json!({"amount": "100.00", "currency": "USD", "shopId": "S1", "paymentId": id});
        let (code, detail, _) = platform_call(&app, "paymentApply", &pay).await;
        assert_eq!(code, "SUCCESS", "{detail}");
    }
    app
}

async fn balance(app: &TestApp) -> (String, String) {
    let (_, _, bal) = platform_call(app, "balanceQuery", &json!({"currency": "USD"})).await;
    let b = &bal["balances"][0];
    (
        b["availableAmount"].as_str().unwrap().to_owned(),
        b["inFlightAmount"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_processing_payment_is_settled_now_by_a_trigger_and_only_once() {
    let app = processing(&["P1", "P2"]).await;
    assert_eq!(balance(&app).await, ("800.00".into(), "200.00".into()));

    let (status, body) = trigger(
        &app,
        "platform.payment.succeeded",
        json!({"paymentId": "P1"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["payment"]["status"], "SUCCESS", "{body}");
    let n = app
        .wait_notification("apiCode=paymentApplyNotify&businessId=payment:P1")
        .await;
    assert_eq!(n["payload"]["status"], "SUCCESS", "{n}");

    let (status, body) = trigger(
        &app,
        "platform.payment.failed",
        json!({"paymentId": "P2", "reason": "  wallet frozen  "}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let n = app
        .wait_notification("apiCode=paymentApplyNotify&businessId=payment:P2")
        .await;
    assert_eq!(n["payload"]["status"], "FAILURE", "{n}");
    assert_eq!(n["payload"]["reason"], "wallet frozen", "{n}");
    // P1 went to the seller, P2 came back: 900.00 available, nothing in flight.
    assert_eq!(balance(&app).await, ("900.00".into(), "0.00".into()));

    // Settled already: refused with the reason, nothing changed; the delay's end later does
    // nothing either (no second notification, no second money move).
    let (status, body) = trigger(&app, "platform.payment.failed", json!({"paymentId": "P1"})).await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("payment \\\"P1\\\" is SUCCESS, not PROCESSING"),
        "{text}"
    );
    app.advance(10.0).await;
    let (_, _, q) = platform_call(&app, "paymentQuery", &json!({"paymentId": "P1"})).await;
    assert_eq!(q["status"], "SUCCESS", "{q}");
    assert_eq!(balance(&app).await, ("900.00".into(), "0.00".into()));
    let all = app
        .get_json("/__sim/notifications?apiCode=paymentApplyNotify")
        .await;
    let items = all["notifications"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{all}");
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn an_unknown_payment_and_a_reason_on_success_are_refused() {
    let app = processing(&["P1"]).await;
    let (status, body) = trigger(
        &app,
        "platform.payment.succeeded",
        json!({"paymentId": "NOPE"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string()
            .contains("no payment with paymentId \\\"NOPE\\\""),
        "{body}"
    );
    let (status, body) = trigger(
        &app,
        "platform.payment.succeeded",
        json!({"paymentId": "P1", "reason": "x"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (_, _, q) = platform_call(&app, "paymentQuery", &json!({"paymentId": "P1"})).await;
    assert_eq!(q["status"], "PROCESSING", "{q}");
    assert_eq!(balance(&app).await, ("900.00".into(), "100.00".into()));
    app.shutdown().await;
}
