//! Regressions of stop 47 (fwh47): a submission naming the other kind of request for material
//! says so and names the operation to use; `orderQuota` never goes past the largest amount a
//! Money object carries; a conversion refusal writes the rate as the quote's reply wrote it.

use serde_json::{json, Value};

use crate::helpers::spawn_app;
use crate::whalet2_support::{
    edd_requested, funded_user_trade, quote, trade_material_requested, upload,
};
use crate::whalet_support::{business_state, call, expect, refused, trigger};

/// The largest amount, in minor units (docs/FIDELITY.md, "Money object").
const MAX_MINOR: i64 = 1_000_000_000_000_000;

/// Regression: `eddReplenishSubmit` given a trade-material request's `replenishId` said the
/// user had no such request (the words of an unknown id). It now says the request is trade
/// material and names `tradeReplenishSubmit` with the request's `tradeId`; an EDD request's
/// `replenishId` given as `tradeReplenishSubmit`'s `tradeId` names `eddReplenishSubmit`; an
/// unknown id keeps its own words. Each is FAILURE and changes nothing.
#[tokio::test]
async fn a_submission_naming_the_other_kind_of_request_names_the_operation_to_use() {
    let app = spawn_app().await;
    let (user, _card, trade_id) = funded_user_trade(&app, "USD", "5.00").await;
    let ask = trade_material_requested(&app, &trade_id).await;
    let trade_rid = ask["replenishId"].as_str().unwrap().to_owned();
    let edd_rid = edd_requested(&app, json!({"userId": user})).await;
    let file = upload(&app, "invoice.pdf", b"%PDF invoice").await;
    let before = business_state(&app).await;

    refused(
        &app,
        "eddReplenishSubmit",
        json!({"userId": user, "replenishId": trade_rid, "fileIds": [file["fileId"]]}),
        "FAILURE",
        &format!(
            "replenishId {trade_rid:?} is a request for trade material, not an EDD request: \
             submit its material with tradeReplenishSubmit (userId, tradeId {trade_id:?}"
        ),
    )
    .await;
    refused(
        &app,
        "tradeReplenishSubmit",
        json!({"userId": user, "tradeId": edd_rid, "attaches": [file]}),
        "FAILURE",
        &format!(
            "tradeId {edd_rid:?} is the replenishId of an EDD request, not a collection: \
             submit its material with eddReplenishSubmit (userId, replenishId {edd_rid:?}"
        ),
    )
    .await;
    refused(
        &app,
        "tradeReplenishSubmit",
        json!({"userId": user, "tradeId": trade_rid, "attaches": [file]}),
        "FAILURE",
        &format!("give the collection's id instead (tradeId {trade_id:?})"),
    )
    .await;
    // An id the user has no request under keeps its own words.
    for (api_code, body, what) in [
        (
            "eddReplenishSubmit",
            json!({"userId": user, "replenishId": "ED404", "fileIds": [file["fileId"]]}),
            "replenishId \"ED404\"",
        ),
        (
            "tradeReplenishSubmit",
            json!({"userId": user, "tradeId": "T404", "attaches": [file]}),
            "tradeId \"T404\"",
        ),
    ] {
        refused(
            &app,
            api_code,
            body,
            "FAILURE",
            &format!("{what}: user {user} has no request for material waiting for a submission"),
        )
        .await;
    }
    assert_eq!(
        business_state(&app).await,
        before,
        "a refusal changes nothing"
    );

    // The right operation with the right id still takes each.
    let sub = expect(
        &app,
        "tradeReplenishSubmit",
        json!({"userId": user, "tradeId": trade_id, "attaches": [file]}),
        "PROCESSING",
    )
    .await;
    assert_eq!(sub["replenishId"], trade_rid.as_str());
    let sub = expect(
        &app,
        "eddReplenishSubmit",
        json!({"userId": user, "replenishId": edd_rid, "fileIds": [file["fileId"]]}),
        "PROCESSING",
    )
    .await;
    assert_eq!(sub["replenishId"], edd_rid.as_str());
    app.shutdown().await;
}

/// The decimal text of `cent` minor units of a currency with two places, without trailing
/// zeros (as the Money object's `amount` is written).
fn major_text(cent: i64) -> String {
    let text = format!("{}.{:02}", cent / 100, cent % 100);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Regression: `orderQuota` summed the user's open orders past 10^15 minor units (ten orders
/// of 9999999999999.99 USD and one of 0.01 showed `cent` 9999999999999991 and an `amount` a
/// double could not hold). It is now shown as at most the largest amount, its `amount` and
/// `cent` agreeing; the orders themselves are kept as taken.
#[tokio::test]
async fn order_quota_never_goes_past_the_largest_amount() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let user = ready["userId"].as_str().unwrap().to_owned();
    let order = |out: String, amount: &str| {
        json!({"userId": user, "outOrderNo": out, "buyerName": "Berlin Imports GmbH",
        "buyerCountry": "DE", "goodsName": "LED panels", "currency": "USD", "amount": amount})
    };
    for i in 0..10 {
        expect(
            &app,
            "tradeOrderApply",
            order(format!("big-{i}"), "9999999999999.99"),
            "SUCCESS",
        )
        .await;
    }
    expect(
        &app,
        "tradeOrderApply",
        order("small".into(), "0.01"),
        "SUCCESS",
    )
    .await;
    let rows = expect(
        &app,
        "queryCurrencyBalance",
        json!({"userId": user, "currency": "USD", "fundSource": "B2B"}),
        "SUCCESS",
    )
    .await;
    let quota = &rows[0]["orderQuota"];
    let cent = quota["cent"].as_i64().unwrap();
    assert_eq!(cent, MAX_MINOR, "shown as the largest amount: {quota}");
    assert_eq!(
        quota["amount"].to_string(),
        major_text(cent),
        "amount and cent agree: {quota}"
    );
    let page = expect(
        &app,
        "tradeOrderQueryList",
        json!({"userId": user, "pageNum": 1, "pageSize": 20}),
        "SUCCESS",
    )
    .await;
    assert_eq!(page["total"], 11, "every order kept: {page}");
    app.shutdown().await;
}

/// Regression: a conversion refused as too large quoted the default rate with its stored
/// trailing zeros (`at rate 7.7800`) where the quote's reply says `7.78`. The refusal now writes
/// the rate as the replies do.
#[tokio::test]
async fn a_conversion_refusal_writes_the_rate_as_the_quote_did() {
    let app = spawn_app().await;
    let (user, _card, _trade) = funded_user_trade(&app, "USD", "10").await;
    let quote = quote(&app, &user, "HKD").await;
    let rate: &Value = &quote["rate"];
    assert!(rate.is_number(), "{quote}");
    let reply = call(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "y-1", "fundSource": "B2C", "currency": "USD",
        "amount": "9999999999999.99", "payeeName": "Factory", "toCurrency": "HKD",
        "rateId": quote["rateId"]}),
    )
    .await;
    assert_eq!(reply.code, "FAILURE", "{}", reply.detail);
    assert!(
        reply.detail.contains(&format!(
            "9999999999999.99 USD at rate {rate} is more than the largest amount of HKD"
        )),
        "the rate as rateInquiry wrote it ({rate}): {:?}",
        reply.detail
    );
    app.shutdown().await;
}
