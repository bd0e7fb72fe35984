//! whalet-platform money: a bulk payment funds the partner's balance, seller payments move it to
//! bound shops' e-wallets (idempotent, never overdrawn, even concurrently), and the ledger
//! invariant holds throughout.

use serde_json::json;

use crate::helpers::{platform_call, spawn_app, spawn_with, Setup};
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
    // Regression: without a payer, payerName was left out; an empty field is "", never absent.
    assert_eq!(n["payerName"], "", "{n}");

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
    // How to fund it, in the simulator (t54a).
    assert!(
        detail.ends_with(
            "(money arrives with a bulk payment: trigger platform.bulk_payment.received)"
        ),
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

/// A minted bulkPaymentId skips one a caller chose: receiving without an id never collides
/// with an id the caller gave earlier.
#[tokio::test]
async fn a_minted_bulk_payment_id_skips_one_a_caller_chose() {
    let app = spawn_app().await;
    let bulk = |id: Option<&str>| {
        let mut params = json!({"amount": "10.00", "currency": "USD"});
        if let Some(id) = id {
            params["bulkPaymentId"] = json!(id);
        }
        trigger(&app, "platform.bulk_payment.received", params)
    };
    let (status, first) = bulk(None).await;
    assert_eq!(status, 200, "{first}");
    let minted = first["result"]["bulkPayment"]["bulkPaymentId"]
        .as_str()
        .unwrap();
    let n: u64 = minted.trim_start_matches("BP").parse().unwrap();
    let chosen = format!("BP{:08}", n + 1);
    let (status, body) = bulk(Some(&chosen)).await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..2 {
        let (status, body) = bulk(None).await;
        assert_eq!(status, 200, "{body}");
        assert_ne!(
            body["result"]["bulkPayment"]["bulkPaymentId"],
            chosen.as_str(),
            "{body}"
        );
    }
    let (_, _, bal) = platform_call(&app, "balanceQuery", &json!({"currency": "USD"})).await;
    assert_eq!(bal["balances"][0]["availableAmount"], "40.00");
    app.assert_invariants().await;
    app.shutdown().await;
}

/// In plain-JSON mode, a paymentApply amount sent as a JSON number is read as the characters
/// sent, as the same string would be: never rounded through an `f64`.
#[tokio::test]
async fn a_payment_amount_sent_as_a_json_number_is_read_as_written() {
    let app = spawn_with(Setup {
        config: Some("[platform]\nauth = \"none\"\n".into()),
        ..Setup::default()
    })
    .await;
    trigger(
        &app,
        "platform.bulk_payment.received",
        json!({"amount": "1000.00", "currency": "USD"}),
    )
    .await;
    app.post("/v1/platform/shopAccountBind", &bind_body("B0300", "PS9"))
        .await;
    trigger(
        &app,
        "platform.binding.approved",
        json!({"bindId": "B0300"}),
    )
    .await;
    let apply = |id: &str, amount: &str| {
        let body =
            format!(r#"{{"paymentId":"{id}","shopId":"PS9","amount":{amount},"currency":"USD"}}"#);
        app.post_raw(
            "/v1/platform/paymentApply",
            "application/json",
            body.into_bytes(),
        )
    };
    for (i, (number, detail)) in [
        (
            "1.0000000000000001",
            "amount \"1.0000000000000001\" has 16 decimal places; USD has 2",
        ),
        (
            "0.0099999999999999999",
            "amount \"0.0099999999999999999\" has 19 decimal places; USD has 2",
        ),
        (
            "1e2",
            "amount \"1e2\" is not a plain decimal number like 100.25",
        ),
        ("-5", "amount \"-5\" is negative"),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, text) = apply(&format!("PN{i}"), number).await;
        assert_eq!(status, 400, "{number}: {text}");
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            body,
            json!({"code": "PARAMETER_ERROR", "detail": detail}),
            "{number}"
        );
    }
    let (status, text) = apply("PN-OK", "100.10").await;
    assert_eq!(status, 200, "{text}");
    let (_, bal) = app
        .post("/v1/platform/balanceQuery", &json!({"currency": "USD"}))
        .await;
    assert_eq!(bal["balances"][0]["availableAmount"], "899.90", "{bal}");
    app.shutdown().await;
}

/// The same in the default envelope mode: the amount's text is read from the decrypted body as
/// the partner wrote it (it was rounded through an `f64`: `1.0000000000000001` paid 1.00).
#[tokio::test]
async fn an_enveloped_payment_amount_sent_as_a_json_number_is_read_as_written() {
    let app = spawn_app().await;
    trigger(
        &app,
        "platform.bulk_payment.received",
        json!({"amount": "1000.00", "currency": "USD"}),
    )
    .await;
    platform_call(&app, "shopAccountBind", &bind_body("B0310", "PS9")).await;
    trigger(
        &app,
        "platform.binding.approved",
        json!({"bindId": "B0310"}),
    )
    .await;
    let apply = |id: &str, amount: &str| {
        let text =
            format!(r#"{{"paymentId":"{id}","shopId":"PS9","amount":{amount},"currency":"USD"}}"#);
        let sealed = crate::helpers::seal_text(&app, ("paymentApply", id), text.as_bytes(), |k| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .encode(k)
                .into_bytes()
        });
        app.post_raw("/v1/platform/paymentApply", "application/json", sealed)
    };
    for (id, number, detail) in [
        (
            "PE1",
            "1.0000000000000001",
            "amount \"1.0000000000000001\" has 16 decimal places; USD has 2",
        ),
        (
            "PE2",
            "1e2",
            "amount \"1e2\" is not a plain decimal number like 100.25",
        ),
    ] {
        let (_, text) = apply(id, number).await;
        let reply: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            reply["head"]["code"], "PARAMETER_ERROR",
            "{number}: {reply}"
        );
        assert_eq!(reply["head"]["detail"], detail, "{number}");
    }
    let (_, text) = apply("PE-OK", "100.10").await;
    let reply: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["head"]["code"], "SUCCESS", "{reply}");
    let (_, _, bal) = platform_call(&app, "balanceQuery", &json!({"currency": "USD"})).await;
    assert_eq!(bal["balances"][0]["availableAmount"], "899.90", "{bal}");
    app.shutdown().await;
}

/// Regression: `paymentApply` named only its first problem (`{}` said "paymentId is required"
/// though shopId, currency and amount were missing too). Every field problem is named in one
/// PARAMETER_ERROR, as on the Open API, and the refused payment moves no money.
#[tokio::test]
async fn a_payment_names_every_field_problem_at_once() {
    let app = spawn_app().await;
    let (code, detail, _) = platform_call(&app, "paymentApply", &json!({})).await;
    assert_eq!(code, "PARAMETER_ERROR");
    assert_eq!(
        detail,
        "paymentId is required; shopId is required; currency is required; amount is required"
    );
    let bad = json!({"paymentId": "P".repeat(65), "shopId": 7, "currency": "XYZ",
        "amount": "10.00", "memo": ["x"]});
    let (code, detail, _) = platform_call(&app, "paymentApply", &bad).await;
    assert_eq!(code, "PARAMETER_ERROR");
    assert_eq!(
        detail,
        "paymentId is 65 characters long; at most 64 are allowed; \
         shopId must be a string, got a number; \
         currency \"XYZ\" is unknown (ISO 4217 code expected); \
         memo must be a string, got an array"
    );
    let zero = json!({"paymentId": "P1", "currency": "USD", "amount": "0"});
    let (_, detail, _) = platform_call(&app, "paymentApply", &zero).await;
    assert_eq!(
        detail,
        "shopId is required; amount must be greater than zero"
    );
    let (_, _, bal) = platform_call(&app, "balanceQuery", &json!({})).await;
    assert_eq!(bal["balances"], json!([]), "nothing moved: {bal}");
    app.shutdown().await;
}
