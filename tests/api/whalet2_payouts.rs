//! Whalet part 2, the money path end to end: quote → beneficiary → payout → result, a failed
//! payout that returns the money, an overdraft refused with nothing changed, an expired quote,
//! and a supplier payment with uploaded trade credentials. The ledger invariant holds after each.

use serde_json::{json, Value};

use crate::helpers::spawn_app;
use crate::whalet2_support::{
    apply_payout, approved_beneficiary, cents, confirm_payout, confirmed_payout,
    edd_asked_for_payout, funded_user, payout_succeeded, quote, spawn_scenario, submit_edd_file,
    upload, user_with_beneficiary,
};
use crate::whalet_support::{business_state, expect, received, received_about, refused, trigger};

#[tokio::test]
async fn quote_beneficiary_payout_success() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "1000.00", "sup-1", "HKD").await;
    let quote = quote(&app, &user, "HKD").await;
    assert_eq!(quote["rate"], json!(7.78));
    assert_eq!(quote["currency"], "USD");
    assert_eq!(quote["expireTime"], "2025-01-01 08:10:35");
    let rate_id = quote["rateId"].as_str().unwrap();
    let applied = apply_payout(&app, &user, "p-1", "100.50", &bid, Some(rate_id)).await;
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
    let confirmed = confirm_payout(&app, &user, payout_id).await;
    assert_eq!(confirmed["status"], "PROCESSING");
    assert_eq!(
        cents(&app, &user, "B2C", "USD").await,
        (89_950, 10_050),
        "confirm freezes"
    );
    // Confirming again with the same body replays the answer; nothing is frozen twice.
    confirm_payout(&app, &user, payout_id).await;
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
    app.finish().await;
}

#[tokio::test]
async fn a_failed_payout_returns_the_money() {
    let app = spawn_scenario("scenarios/payout-fails.toml").await;
    let (user, bid) = user_with_beneficiary(&app, "500", "sup-1", "USD").await;
    let payout_id = confirmed_payout(&app, &user, "p-1", 200, &bid).await;
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (30_000, 20_000));
    app.advance(120.0).await;
    let n = received_about(&app, "payoutResultNotify", "payoutId", &payout_id).await;
    assert_eq!(n["status"], "FAILURE");
    assert_eq!(n["reason"], "beneficiary account closed");
    assert_eq!(
        cents(&app, &user, "B2C", "USD").await,
        (50_000, 0),
        "refunded in full"
    );
    app.finish().await;
}

#[tokio::test]
async fn an_overdraft_is_refused_with_no_state_change() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "50", "sup-1", "USD").await;
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
    let a = apply_payout(&app, &user, "p-2", "30", &bid, None).await;
    let b = apply_payout(&app, &user, "p-3", "30", &bid, None).await;
    confirm_payout(&app, &user, a["payoutId"].as_str().unwrap()).await;
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
    app.finish().await;
}

#[tokio::test]
async fn an_expired_or_unknown_rate_is_refused() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "100", "sup-1", "HKD").await;
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
    let quote = quote(&app, &user, "HKD").await;
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
    app.finish().await;
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
    app.finish().await;
}

/// Regression: a rateId was ignored when the payee receives the currency paid (no toCurrency,
/// or a beneficiary in that currency): an unknown one, or one quoting another pair, passed.
/// A rateId given is now checked whatever the currencies, and refused with nothing changed.
#[tokio::test]
async fn a_rate_id_is_checked_whatever_the_currencies() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "100", "sup-1", "USD").await;
    let jpy = quote(&app, &user, "JPY").await;
    let pay = |rate_id: &str| {
        json!({"userId": user, "outPayId": "y-1", "fundSource": "B2C", "currency": "USD",
        "amount": "10", "payeeName": "Factory", "rateId": rate_id})
    };
    let before = business_state(&app).await;
    refused(
        &app,
        "payApply",
        pay("NO-SUCH-QUOTE"),
        "FAILURE",
        "NO-SUCH-QUOTE",
    )
    .await;
    refused(
        &app,
        "payApply",
        pay(jpy["rateId"].as_str().unwrap()),
        "FAILURE",
        "quotes USD to JPY, not USD to USD (the payee receives USD: leave rateId out, \
         or have the payee receive JPY)",
    )
    .await;
    refused(
        &app,
        "payoutApply",
        json!({"userId": user, "outPayoutId": "p-1", "fundSource": "B2C", "currency": "USD",
        "amount": "10", "beneficiaryId": bid, "rateId": "BOGUS"}),
        "FAILURE",
        "BOGUS",
    )
    .await;
    assert_eq!(business_state(&app).await, before);
    // A quote for the same currency is a quote like any other: used and recorded.
    let usd = quote(&app, &user, "USD").await;
    let applied = expect(
        &app,
        "payApply",
        pay(usd["rateId"].as_str().unwrap()),
        "SUCCESS",
    )
    .await;
    assert_eq!(applied["rateId"], usd["rateId"]);
    assert_eq!(applied["rate"], json!(1));
    assert_eq!(applied["toAmount"]["cent"], 1_000);
    app.finish().await;
}

/// Regression: `rate` was a string ("150.0000") in payout and pay replies, queries and
/// notifications while `rateInquiry` gave a number. It is the quote's number everywhere
/// (`7.1200` is `7.12`).
#[tokio::test]
async fn the_rate_is_a_number_on_every_reply_and_notification() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "100", "sup-1", "CNY").await;
    let quote = quote(&app, &user, "CNY").await;
    assert_eq!(quote["rate"], json!(7.12));
    let rate_id = quote["rateId"].as_str().unwrap();
    let paid = expect(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "y-1", "fundSource": "B2C", "currency": "USD",
        "amount": "10", "payeeName": "Factory", "toCurrency": "CNY", "rateId": rate_id}),
        "SUCCESS",
    )
    .await;
    assert_eq!(paid["rate"], json!(7.12), "payApply");
    assert_eq!(paid["toAmount"]["cent"], 7_120);
    let applied = apply_payout(&app, &user, "p-1", "10", &bid, Some(rate_id)).await;
    assert_eq!(applied["rate"], json!(7.12), "payoutApply");
    let payout_id = applied["payoutId"].as_str().unwrap();
    let confirmed = confirm_payout(&app, &user, payout_id).await;
    assert_eq!(confirmed["rate"], json!(7.12), "payoutConfirm");
    app.advance(30.0).await;
    let n = received_about(&app, "payoutResultNotify", "payoutId", payout_id).await;
    assert_eq!(n["rate"], json!(7.12), "payoutResultNotify");
    let page = expect(&app, "withdrawQuery", json!({"userId": user}), "SUCCESS").await;
    assert_eq!(page["records"][0]["rate"], json!(7.12), "withdrawQuery");
    let page = expect(&app, "payQuery", json!({"userId": user}), "SUCCESS").await;
    assert_eq!(page["records"][0]["rate"], json!(7.12), "payQuery");
    app.shutdown().await;
}

/// Regression: a conversion past the largest amount was refused as "less than one minor unit".
/// It is now refused as too large, naming the largest amount, with nothing changed.
#[tokio::test]
async fn a_conversion_too_large_is_named_as_too_large() {
    let app = spawn_app().await;
    let (status, body) = app.load_scenario(
        "name = \"huge-rate\"\n[[rule]]\nname = \"rate\"\noperation = \"rateInquiry\"\n[rule.then]\nvalues = { rate = \"999999999999\" }\n",
        "").await;
    assert_eq!(status, 200, "{body}");
    let (user, _) = funded_user(&app, "USD", "10").await;
    let quote = quote(&app, &user, "JPY").await;
    assert_eq!(quote["rate"], json!(999999999999u64));
    let before = business_state(&app).await;
    refused(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "y-1", "fundSource": "B2C", "currency": "USD",
        "amount": "10000000.00", "payeeName": "Factory", "toCurrency": "JPY",
        "rateId": quote["rateId"]}),
        "FAILURE",
        "10000000.00 USD at rate 999999999999 is more than the largest amount of JPY, \
         1000000000000000 JPY (10^15 minor units)",
    )
    .await;
    assert_eq!(business_state(&app).await, before);
    app.shutdown().await;
}

/// A trigger `POST /__sim/trigger/{name}` that must be refused (422) with `needle` in its error.
async fn trigger_refused(app: &crate::helpers::TestApp, name: &str, params: Value, needle: &str) {
    let (status, body) = app.post(&format!("/__sim/trigger/{name}"), &params).await;
    assert_eq!(status, 422, "{name} {params}: {body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(needle),
        "{name}: {error:?} should contain {needle:?}"
    );
}

/// Regression: `whalet.pay.succeeded` completed a payout (and the payout triggers a pay). Each
/// trigger now decides only its own kind of order; the other is refused, nothing changed.
#[tokio::test]
async fn a_result_trigger_decides_only_its_own_kind_of_order() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "100", "sup-1", "USD").await;
    let invoice = upload(&app, "invoice.pdf", b"%PDF invoice").await;
    let payout_id = &confirmed_payout(&app, &user, "p-1", "10", &bid).await;
    let y = expect(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "y-1", "fundSource": "B2C", "currency": "USD",
        "amount": "20", "payeeName": "Factory"}),
        "SUCCESS",
    )
    .await;
    let pay_id = y["payId"].as_str().unwrap();
    expect(
        &app,
        "payConfirm",
        json!({"userId": user, "payId": pay_id, "tradeCredential": [invoice]}),
        "PROCESSING",
    )
    .await;
    let before = business_state(&app).await;
    for name in ["whalet.pay.succeeded", "whalet.pay.failed"] {
        trigger_refused(
            &app,
            name,
            json!({"payId": payout_id}),
            &format!("{payout_id} is a payout, not a supplier payment: decide it with whalet.payout.succeeded or whalet.payout.failed"),
        )
        .await;
    }
    for name in ["whalet.payout.succeeded", "whalet.payout.failed"] {
        trigger_refused(
            &app,
            name,
            json!({"payoutId": pay_id}),
            &format!("{pay_id} is a supplier payment, not a payout: decide it with whalet.pay.succeeded or whalet.pay.failed"),
        )
        .await;
    }
    assert_eq!(business_state(&app).await, before);
    assert!(received(&app, "payoutResultNotify").is_empty());
    assert!(received(&app, "payResultNotify").is_empty());
    payout_succeeded(&app, payout_id).await;
    let n = trigger(&app, "whalet.pay.failed", json!({"payId": pay_id})).await;
    assert_eq!(n["status"], "FAILURE");
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (9_000, 0));
    app.finish().await;
}

/// Regression: a payout held for EDD could be completed by `whalet.payout.succeeded` while the
/// EDD was undecided. The triggers are now refused until the EDD is decided; then they work.
#[tokio::test]
async fn a_payout_held_for_edd_takes_no_result_until_the_edd_is_decided() {
    let app = spawn_scenario("scenarios/edd-requested.toml").await;
    let (user, bid) = user_with_beneficiary(&app, "100", "sup-1", "USD").await;
    let payout_id = &confirmed_payout(&app, &user, "p-1", "40", &bid).await;
    let ask = edd_asked_for_payout(&app, payout_id).await;
    let rid = ask["replenishId"].as_str().unwrap();
    let before = business_state(&app).await;
    for name in ["whalet.payout.succeeded", "whalet.payout.failed"] {
        trigger_refused(
            &app,
            name,
            json!({"payoutId": payout_id}),
            &format!("payout {payout_id} is held for EDD {rid} (status WAIT_SUBMIT) and ends only when that EDD is decided"),
        )
        .await;
    }
    assert_eq!(business_state(&app).await, before);
    submit_edd_file(
        &app,
        &user,
        rid,
        "statement.pdf",
        b"%PDF statement",
        Some("ok"),
    )
    .await;
    trigger_refused(
        &app,
        "whalet.payout.succeeded",
        json!({"payoutId": payout_id}),
        "(status PROCESSING)",
    )
    .await;
    assert_eq!(business_state(&app).await, before, "the money stays frozen");
    let listed = expect(&app, "withdrawQuery", json!({"userId": user}), "SUCCESS").await;
    assert_eq!(listed["records"][0]["status"], "PROCESSING");
    assert!(received(&app, "payoutResultNotify").is_empty());
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (6_000, 4_000));
    trigger(
        &app,
        "whalet.replenish.approved",
        json!({"replenishId": rid}),
    )
    .await;
    payout_succeeded(&app, payout_id).await;
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (6_000, 0));
    app.advance(60.0).await;
    assert_eq!(
        received(&app, "payoutResultNotify").len(),
        1,
        "decided once"
    );
    app.finish().await;
}

/// Regression: a payout not yet confirmed (it holds no money) kept its beneficiary from being
/// deleted for good: once its quote expired it could be neither confirmed nor removed, and
/// without a quote the only way out was to confirm it, sending the money. The delete now waits
/// only for a confirmed payout's result; a confirm after the delete, or after the quote expired,
/// is refused naming why and what to do, with nothing changed.
#[tokio::test]
async fn an_unconfirmed_payout_holds_no_money_and_blocks_no_delete() {
    let app = spawn_app().await;
    let (user, hkd) = user_with_beneficiary(&app, "100", "sup-hkd", "HKD").await;
    let usd = approved_beneficiary(&app, &user, "sup-usd", "USD").await;
    let quote = quote(&app, &user, "HKD").await;
    let (rate_id, expire) = (&quote["rateId"].as_str().unwrap(), &quote["expireTime"]);
    let stale = apply_payout(&app, &user, "p-1", "10", &hkd, Some(rate_id)).await;
    let waiting = apply_payout(&app, &user, "p-2", "20", &usd, None).await;
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (10_000, 0));
    app.advance(601.0).await;
    let stale_id = stale["payoutId"].as_str().unwrap();
    let before = business_state(&app).await;
    refused(
        &app,
        "payoutConfirm",
        json!({"userId": user, "payoutId": stale_id}),
        "FAILURE",
        &format!(
            "payoutId {stale_id} cannot be confirmed: rateId {rate_id} expired at {}; ask \
             rateInquiry for a new rate; then apply again under a new outPayoutId with it (this \
             payout holds no money and is left unconfirmed)",
            expire.as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(business_state(&app).await, before);
    // Neither beneficiary is held by its unconfirmed payout.
    for bid in [&hkd, &usd] {
        let deleted = expect(
            &app,
            "benificiaryAccountDelete",
            json!({"userId": user, "beneficiaryId": bid}),
            "SUCCESS",
        )
        .await;
        assert_eq!(deleted["status"], "DELETED");
    }
    let waiting_id = waiting["payoutId"].as_str().unwrap();
    let before = business_state(&app).await;
    refused(
        &app,
        "payoutConfirm",
        json!({"userId": user, "payoutId": waiting_id}),
        "FAILURE",
        &format!(
            "payoutId {waiting_id} cannot be confirmed: its beneficiary account {usd} is no \
             longer approved (status DELETED); apply again under a new outPayoutId to an \
             approved one"
        ),
    )
    .await;
    assert_eq!(business_state(&app).await, before);
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (10_000, 0));
    app.finish().await;
}

/// A confirmed payout holds its money frozen for the beneficiary: the account cannot be deleted
/// until the result, and then can.
#[tokio::test]
async fn a_confirmed_payout_holds_its_beneficiary_until_the_result() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "100", "sup-1", "USD").await;
    let payout_id = confirmed_payout(&app, &user, "p-1", "30", &bid).await;
    let delete = json!({"userId": user, "beneficiaryId": bid});
    refused(
        &app,
        "benificiaryAccountDelete",
        delete.clone(),
        "FAILURE",
        &format!(
            "beneficiary account {bid} has a confirmed payout in progress (PROCESSING); it can be \
             deleted once payoutResultNotify has given the result"
        ),
    )
    .await;
    payout_succeeded(&app, &payout_id).await;
    expect(&app, "benificiaryAccountDelete", delete, "SUCCESS").await;
    app.finish().await;
}
