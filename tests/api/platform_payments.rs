//! whalet-platform money: a bulk payment funds the partner's balance, seller payments move it to
//! bound shops' e-wallets (idempotent, never overdrawn, even concurrently), and the ledger
//! invariant holds throughout.

use serde_json::json;

use crate::helpers::{platform_call, spawn_app};
use crate::platform::{bind_body, tenant, trigger};

#[tokio::test]
async fn bulk_payment_funds_seller_payments_and_the_ledger_balances() {
    let app = spawn_app().await;
    let (status, body) = trigger(
        &app,
        "platform.bulk_payment.received",
        json!({"amount": "1000.00", "currency": "USD", "bulkPaymentId": "BULK-1"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.wait_notification("apiCode=bulkPaymentsReceivedNotify")
        .await;
    let n = app.receiver.received()[0].body.clone().unwrap();
    assert_eq!(n["bulkPaymentId"], "BULK-1");
    assert_eq!(n["amount"], "1000.00");
    assert_eq!(n["balance"], "1000.00");

    let pay =
        json!({"amount": "100.00", "currency": "USD", "shopId": "1686214", "paymentId": "P0001"});
    let (code, detail, _) = platform_call(&app, "paymentApply", &pay).await;
    assert_eq!(code, "FAILURE");
    assert!(
        detail.contains("not bound") && detail.contains("no shopAccountBind"),
        "{detail}"
    );

    platform_call(&app, "shopAccountBind", &bind_body("B0010", "1686214")).await;
    let (_, detail, _) = platform_call(&app, "paymentApply", &pay).await;
    assert!(detail.contains("has not approved it yet"), "{detail}");
    let (status, _) = trigger(
        &app,
        "platform.binding.approved",
        json!({"bindId": "B0010"}),
    )
    .await;
    assert_eq!(status, 200);

    let (code, _, body) = platform_call(&app, "paymentApply", &pay).await;
    assert_eq!(code, "SUCCESS");
    assert_eq!(body, json!({"paymentId": "P0001", "status": "PROCESSING"}));
    let (_, _, bal) = platform_call(&app, "balanceQuery", &json!({"currency": "USD"})).await;
    assert_eq!(bal["balances"][0]["availableAmount"], "900.00");
    assert_eq!(bal["balances"][0]["inFlightAmount"], "100.00");

    // Same paymentId, same content: the first answer, no second debit.
    let (code, _, again) = platform_call(&app, "paymentApply", &pay).await;
    assert_eq!((code.as_str(), &again), ("SUCCESS", &body));
    let mut other = pay.clone();
    other["amount"] = json!("5.00");
    let (code, detail, _) = platform_call(&app, "paymentApply", &other).await;
    assert_eq!(code, "IDEMPOTENT_ERROR", "{detail}");
    let too_much =
        json!({"amount": "5000", "currency": "USD", "shopId": "1686214", "paymentId": "P0002"});
    let (code, detail, _) = platform_call(&app, "paymentApply", &too_much).await;
    assert_eq!(code, "FAILURE");
    assert!(
        detail.contains("insufficient partner balance: available 900.00 USD"),
        "{detail}"
    );

    app.advance(5.0).await;
    let n = app
        .wait_notification("apiCode=paymentApplyNotify&businessId=payment:P0001")
        .await;
    assert_eq!(n["status"], "delivered");
    assert_eq!(n["payload"]["status"], "SUCCESS");
    let (_, _, q) = platform_call(&app, "paymentQuery", &json!({"paymentId": "P0001"})).await;
    assert_eq!(q["status"], "SUCCESS");
    assert_eq!(q["amount"], "100.00");
    assert_eq!(q["shopId"], "1686214");
    let (_, _, bal) = platform_call(&app, "balanceQuery", &json!({})).await;
    assert_eq!(
        bal["balances"],
        json!([{"currency": "USD", "availableAmount": "900.00", "inFlightAmount": "0.00"}])
    );
    let wallet = app
        .app()
        .store()
        .with_tenant(&tenant(), |t| {
            t.ledger
                .balance(
                    "seller:1686214:wallet",
                    whalet_sim::money::Currency::parse("USD").unwrap(),
                )
                .to_decimal_string()
        })
        .unwrap();
    assert_eq!(wallet, "100.00");
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn concurrent_payments_never_overdraw_the_balance() {
    let app = spawn_app().await;
    let (status, _) = trigger(
        &app,
        "platform.bulk_payment.received",
        json!({"amount": "1000.00", "currency": "USD"}),
    )
    .await;
    assert_eq!(status, 200);
    platform_call(&app, "shopAccountBind", &bind_body("B0200", "S1")).await;
    trigger(
        &app,
        "platform.binding.approved",
        json!({"bindId": "B0200"}),
    )
    .await;
    let calls = (0..20).map(|i| {
        let body = json!({"amount": "100.00", "currency": "USD", "shopId": "S1", "paymentId": format!("PC{i}")});
        let app = &app;
        async move { platform_call(app, "paymentApply", &body).await.0 }
    });
    let codes = futures_util::future::join_all(calls).await;
    assert_eq!(
        codes.iter().filter(|c| *c == "SUCCESS").count(),
        10,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| *c == "FAILURE").count(),
        10,
        "{codes:?}"
    );
    app.advance(5.0).await;
    let (_, _, bal) = platform_call(&app, "balanceQuery", &json!({"currency": "USD"})).await;
    assert_eq!(bal["balances"][0]["availableAmount"], "0.00");
    assert_eq!(bal["balances"][0]["inFlightAmount"], "0.00");
    app.assert_invariants().await;
    app.shutdown().await;
}
