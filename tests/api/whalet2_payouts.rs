//! Whalet part 2, the money path end to end: quote → beneficiary → payout → result, a failed
//! payout that returns the money, an overdraft refused with nothing changed, an expired quote,
//! and a supplier payment with uploaded trade credentials. The ledger invariant holds after each.

use serde_json::json;

use crate::helpers::{repo_path, spawn_app, spawn_with, Setup};
use crate::whalet2_support::{approved_beneficiary, cents, funded_user, upload};
use crate::whalet_support::{business_state, expect, received_about, refused, trigger};

#[tokio::test]
async fn quote_beneficiary_payout_success() {
    let app = spawn_app().await;
    let (user, _) = funded_user(&app, "USD", "1000.00").await;
    let bid = approved_beneficiary(&app, &user, "sup-1", "HKD").await;
    let quote = expect(
        &app,
        "rateInquiry",
        json!({"userId": user, "currency": "USD", "toCurrency": "HKD", "fundSource": "B2C"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(quote["rate"], json!(7.78));
    assert_eq!(quote["currency"], "USD");
    assert_eq!(quote["expireTime"], "2025-01-01 08:10:35");
    let rate_id = quote["rateId"].as_str().unwrap();
    let applied = expect(
        &app,
        "payoutApply",
        json!({"userId": user, "outPayoutId": "p-1", "fundSource": "B2C",
        "currency": "USD", "amount": "100.50", "beneficiaryId": bid, "rateId": rate_id}),
        "SUCCESS",
    )
    .await;
    assert_eq!(applied["status"], "WAIT_CONFIRM");
    assert_eq!(
        applied["toAmount"]["cent"], 78189,
        "100.50 × 7.78 = 781.89 HKD"
    );
    assert_eq!(
        cents(&app, &user, "B2C", "USD").await,
        (100_000, 0),
        "apply moves nothing"
    );
    let payout_id = applied["payoutId"].as_str().unwrap();
    let confirmed = expect(
        &app,
        "payoutConfirm",
        json!({"userId": user, "payoutId": payout_id}),
        "PROCESSING",
    )
    .await;
    assert_eq!(confirmed["status"], "PROCESSING");
    assert_eq!(
        cents(&app, &user, "B2C", "USD").await,
        (89_950, 10_050),
        "confirm freezes"
    );
    // Confirming again with the same body replays the answer; nothing is frozen twice.
    expect(
        &app,
        "payoutConfirm",
        json!({"userId": user, "payoutId": payout_id}),
        "PROCESSING",
    )
    .await;
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (89_950, 10_050));
    app.advance(30.0).await;
    let n = received_about(&app, "payoutResultNotify", "payoutId", payout_id).await;
    assert_eq!(n["status"], "SUCCESS");
    assert_eq!(n["toAmount"]["cent"], 78189);
    assert_eq!(
        cents(&app, &user, "B2C", "USD").await,
        (89_950, 0),
        "the money left"
    );
    let page = expect(
        &app,
        "withdrawQuery",
        json!({"userId": user, "status": "SUCCESS"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["records"][0]["payoutId"], payout_id);
    let none = expect(
        &app,
        "withdrawQuery",
        json!({"userId": user, "startTime": "2025-01-02 00:00:00"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(none["total"], 0);
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_failed_payout_returns_the_money() {
    let app = spawn_with(Setup {
        scenario_files: vec![repo_path("scenarios/payout-fails.toml").into()],
        ..Setup::default()
    })
    .await;
    let (user, _) = funded_user(&app, "USD", "500").await;
    let bid = approved_beneficiary(&app, &user, "sup-1", "USD").await;
    let applied = expect(
        &app,
        "payoutApply",
        json!({"userId": user, "outPayoutId": "p-1", "fundSource": "B2C",
        "currency": "USD", "amount": 200, "beneficiaryId": bid}),
        "SUCCESS",
    )
    .await;
    let payout_id = applied["payoutId"].as_str().unwrap();
    expect(
        &app,
        "payoutConfirm",
        json!({"userId": user, "payoutId": payout_id}),
        "PROCESSING",
    )
    .await;
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (30_000, 20_000));
    app.advance(120.0).await;
    let n = received_about(&app, "payoutResultNotify", "payoutId", payout_id).await;
    assert_eq!(n["status"], "FAILURE");
    assert_eq!(n["reason"], "beneficiary account closed");
    assert_eq!(
        cents(&app, &user, "B2C", "USD").await,
        (50_000, 0),
        "refunded in full"
    );
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn an_overdraft_is_refused_with_no_state_change() {
    let app = spawn_app().await;
    let (user, _) = funded_user(&app, "USD", "50").await;
    let bid = approved_beneficiary(&app, &user, "sup-1", "USD").await;
    let before = business_state(&app).await;
    refused(
        &app,
        "payoutApply",
        json!({"userId": user, "outPayoutId": "p-1", "fundSource": "B2C",
        "currency": "USD", "amount": "50.01", "beneficiaryId": bid}),
        "FAILURE",
        "insufficient balance",
    )
    .await;
    refused(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "y-1", "fundSource": "B2C",
        "currency": "USD", "amount": "999", "payeeName": "Factory"}),
        "FAILURE",
        "insufficient balance",
    )
    .await;
    assert_eq!(business_state(&app).await, before);
    // Two payouts that each fit but not together: the second confirm is refused, nothing moves.
    let a = expect(
        &app,
        "payoutApply",
        json!({"userId": user, "outPayoutId": "p-2", "fundSource": "B2C",
        "currency": "USD", "amount": "30", "beneficiaryId": bid}),
        "SUCCESS",
    )
    .await;
    let b = expect(
        &app,
        "payoutApply",
        json!({"userId": user, "outPayoutId": "p-3", "fundSource": "B2C",
        "currency": "USD", "amount": "30", "beneficiaryId": bid}),
        "SUCCESS",
    )
    .await;
    expect(
        &app,
        "payoutConfirm",
        json!({"userId": user, "payoutId": a["payoutId"]}),
        "PROCESSING",
    )
    .await;
    let before = business_state(&app).await;
    refused(
        &app,
        "payoutConfirm",
        json!({"userId": user, "payoutId": b["payoutId"]}),
        "FAILURE",
        "insufficient balance",
    )
    .await;
    assert_eq!(business_state(&app).await, before);
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (2_000, 3_000));
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn an_expired_or_unknown_rate_is_refused() {
    let app = spawn_app().await;
    let (user, _) = funded_user(&app, "USD", "100").await;
    let bid = approved_beneficiary(&app, &user, "sup-1", "HKD").await;
    let payout = |rate_id: &str, out: &str| {
        json!({"userId": user, "outPayoutId": out, "fundSource": "B2C",
        "currency": "USD", "amount": "10", "beneficiaryId": bid, "rateId": rate_id})
    };
    refused(
        &app,
        "payoutApply",
        payout("R000", "p-0"),
        "FAILURE",
        "is not a quote of user",
    )
    .await;
    let b2b = expect(
        &app,
        "rateInquiry",
        json!({"userId": user, "currency": "USD", "toCurrency": "HKD", "fundSource": "B2B"}),
        "SUCCESS",
    )
    .await;
    refused(
        &app,
        "payoutApply",
        payout(b2b["rateId"].as_str().unwrap(), "p-0"),
        "FAILURE",
        "quoted for fundSource B2B",
    )
    .await;
    let mut no_rate = payout("", "p-0");
    no_rate.as_object_mut().unwrap().remove("rateId");
    refused(
        &app,
        "payoutApply",
        no_rate,
        "FAILURE",
        "rateId is required",
    )
    .await;
    let quote = expect(
        &app,
        "rateInquiry",
        json!({"userId": user, "currency": "USD", "toCurrency": "HKD", "fundSource": "B2C"}),
        "SUCCESS",
    )
    .await;
    let rate_id = quote["rateId"].as_str().unwrap();
    let applied = expect(&app, "payoutApply", payout(rate_id, "p-1"), "SUCCESS").await;
    app.advance(601.0).await;
    let before = business_state(&app).await;
    refused(
        &app,
        "payoutApply",
        payout(rate_id, "p-2"),
        "FAILURE",
        "expired",
    )
    .await;
    refused(
        &app,
        "payoutConfirm",
        json!({"userId": user, "payoutId": applied["payoutId"]}),
        "FAILURE",
        "expired",
    )
    .await;
    assert_eq!(business_state(&app).await, before);
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (10_000, 0));
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn pay_a_supplier_with_trade_credentials() {
    let app = spawn_app().await;
    let (user, _) = funded_user(&app, "USD", "300").await;
    let invoice = upload(&app, "invoice-2025-001.pdf", b"%PDF-1.4 simulated invoice").await;
    let applied = expect(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "y-1", "fundSource": "B2C",
        "currency": "USD", "amount": "120", "payeeName": "Ningbo Factory Co.", "purpose": "GOODS"}),
        "SUCCESS",
    )
    .await;
    let pay_id = applied["payId"].as_str().unwrap();
    refused(
        &app,
        "payConfirm",
        json!({"userId": user, "payId": pay_id}),
        "PARAMETER_ERROR",
        "tradeCredential must list",
    )
    .await;
    refused(&app, "payConfirm", json!({"userId": user, "payId": pay_id,
        "tradeCredential": [{"fileId": "202501010000000000000999", "fileName": "x.pdf", "fileUrl": "x"}]}),
        "FAILURE", "was not uploaded by this partner").await;
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (30_000, 0));
    let confirmed = expect(
        &app,
        "payConfirm",
        json!({"userId": user, "payId": pay_id, "tradeCredential": [invoice]}),
        "PROCESSING",
    )
    .await;
    assert_eq!(confirmed["tradeCredential"][0]["fileId"], invoice["fileId"]);
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (18_000, 12_000));
    let n = trigger(&app, "whalet.pay.succeeded", json!({"payId": pay_id})).await;
    assert_eq!(n["status"], "SUCCESS");
    let n = received_about(&app, "payResultNotify", "payId", pay_id).await;
    assert_eq!(n["status"], "SUCCESS");
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (18_000, 0));
    let page = expect(
        &app,
        "payQuery",
        json!({"userId": user, "pageSize": 5}),
        "SUCCESS",
    )
    .await;
    assert_eq!(page["total"], 1);
    let all = expect(
        &app,
        "paymentQuery",
        json!({"userId": user, "status": "SUCCESS"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(all["total"], 1);
    app.advance(60.0).await;
    app.assert_invariants().await;
    app.shutdown().await;
}
