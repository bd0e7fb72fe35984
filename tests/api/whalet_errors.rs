//! Refusals of the Whalet collections operations: every missing or malformed field named in one
//! PARAMETER_ERROR, business rules as FAILURE with a precise detail, business-id idempotency, and
//! nothing changed by a refused request.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_with, Setup};
use crate::whalet_support::*;

#[tokio::test]
async fn missing_and_malformed_fields_are_all_named() {
    let app = spawn_app().await;
    let before = business_state(&app).await;
    refused(
        &app,
        "userOnboardingApply",
        json!({}),
        "PARAMETER_ERROR",
        "outUserId is required; legalEntity is required",
    )
    .await;
    refused(&app, "userOnboardingApply",
        json!({"outUserId": "m", "legalEntity": {"type": "ROBOT", "name": "", "certType": "PASSPORT", "certNo": "X", "countryCode": "china"}}),
        "PARAMETER_ERROR",
        "legalEntity.type must be one of INDIVIDUAL, ENTERPRISE, got \"ROBOT\"; legalEntity.name must not be empty; legalEntity.countryCode must be an ISO 3166 two-letter country code such as US, got \"china\"").await;
    refused(
        &app,
        "cardHolderApply",
        json!({"userId": 7}),
        "PARAMETER_ERROR",
        "userId must be a string, got a number; outHolderId is required; holderType is required",
    )
    .await;
    refused(
        &app,
        "queryCurrencyBalance",
        json!({"userId": "U1"}),
        "PARAMETER_ERROR",
        "fundSource is required",
    )
    .await;
    refused(
        &app,
        "queryCurrencyBalance",
        json!({"userId": "U1", "fundSource": "B2X", "currency": "usd"}),
        "PARAMETER_ERROR",
        "currency \"usd\" is not upper case; ISO 4217 codes are, send \"USD\"",
    )
    .await;
    refused(
        &app,
        "mockPayeeNotify",
        json!({"userId": "U1", "amount": "1.234", "currency": "USD"}),
        "PARAMETER_ERROR",
        "cardId or accountNo is required; amount \"1.234\" has 3 decimal places; USD has 2",
    )
    .await;
    refused(
        &app,
        "mockPayeeNotify",
        json!({"userId": "U1", "cardId": "VA1", "amount": "-5", "currency": "USD"}),
        "PARAMETER_ERROR",
        "amount \"-5\" is negative",
    )
    .await;
    refused(&app, "collectionQuery", json!({"userId": "U1", "pageSize": 500, "startTime": "2025/01/01"}), "PARAMETER_ERROR",
        "pageSize must be an integer from 1 to 100; startTime must be yyyy-MM-dd HH:mm:ss (UTC+8), got \"2025/01/01\"").await;
    refused(&app, "b2cShopBind", json!({"userId": "U1", "cardId": "VA1", "bindId": "b", "operationType": "LINK", "shopId": "s"}),
        "PARAMETER_ERROR", "operationType must be one of BIND, ADD, UNBIND, got \"LINK\"").await;
    assert_eq!(
        business_state(&app).await,
        before,
        "refused requests change nothing"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_and_broken_rules_are_failures_with_the_reason() {
    let app = spawn_app().await;
    let (user_id, holder_id, card) = b2c_ready(&app, "rules", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();
    let before = business_state(&app).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "cardHolderApply",
            holder("U404", "h"),
            "userId \"U404\" is not a user of this partner",
        ),
        (
            "queryCurrencyBalance",
            json!({"userId": "U404", "fundSource": "B2C"}),
            "userId \"U404\" is not a user",
        ),
        (
            "collectionQuery",
            json!({"userId": "U404"}),
            "userId \"U404\" is not a user",
        ),
        (
            "b2cCardDetailQuery",
            json!({"userId": user_id, "cardId": "VA404"}),
            "cardId \"VA404\" is not a card of this partner",
        ),
        (
            "cardHolderQuery",
            json!({"userId": user_id, "holderId": "H404"}),
            "has no card holder with holderId \"H404\"",
        ),
        (
            "b2cVirtualAccountApply",
            json!({"userId": user_id, "outCardId": "x", "holderId": holder_id, "platform": "AMAZON", "currency": "CNY"}),
            "currency CNY is not offered for platform AMAZON",
        ),
        (
            "b2cVirtualAccountApply",
            json!({"userId": user_id, "outCardId": "x", "holderId": holder_id, "platform": "ETSY", "currency": "USD"}),
            "platform \"ETSY\" is not a B2C platform",
        ),
        (
            "b2bVirtualAccountApply",
            json!({"userId": user_id, "outCardId": "x", "channelCode": "SIM_US_LOCAL", "currency": "EUR"}),
            "currency EUR is not offered by channel SIM_US_LOCAL (offered: USD)",
        ),
        (
            "b2bVirtualAccountApply",
            json!({"userId": user_id, "outCardId": "x", "channelCode": "NOPE", "currency": "EUR"}),
            "channelCode \"NOPE\" is not a B2B channel",
        ),
        (
            "mockPayeeNotify",
            json!({"userId": user_id, "cardId": card_id, "amount": "10", "currency": "EUR"}),
            "receives USD only, not EUR",
        ),
        (
            "mockPayeeNotify",
            json!({"userId": user_id, "accountNo": "000", "amount": "10", "currency": "USD"}),
            "accountNo \"000\" is not a collection account",
        ),
        (
            "b2cShopBind",
            json!({"userId": user_id, "cardId": card_id, "bindId": "nope", "operationType": "UNBIND", "shopId": "s"}),
            "bindId \"nope\" is not a shop binding of card",
        ),
    ];
    for (api_code, body, needle) in cases {
        refused(&app, api_code, body, "FAILURE", needle).await;
    }
    // A user under review cannot open anything yet.
    let pending_user = apply_user(&app, "m-pending").await;
    refused(
        &app,
        "cardHolderApply",
        holder(&pending_user, "h"),
        "FAILURE",
        "has not passed onboarding (status PROCESSING)",
    )
    .await;
    let (status, body) = app
        .post(
            "/__sim/trigger/whalet.collection.settled",
            &json!({"tradeId": "T404"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let after = business_state(&app).await;
    assert_eq!(after["ledger"], before["ledger"]);
    assert_eq!(after["whalet"]["cards"], before["whalet"]["cards"]);
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn the_same_business_id_replays_or_conflicts() {
    let app = spawn_app().await;
    let first = call(
        &app,
        "userOnboardingApply",
        onboarding("m-idem", "Example Trading"),
    )
    .await;
    let again = call(
        &app,
        "userOnboardingApply",
        onboarding("m-idem", "Example Trading"),
    )
    .await;
    assert_eq!(
        (again.code.as_str(), &again.body),
        (first.code.as_str(), &first.body),
        "same content, original result"
    );
    let user_id = first.body.unwrap()["userId"].as_str().unwrap().to_owned();
    refused(
        &app,
        "userOnboardingApply",
        onboarding("m-idem", "Other Name"),
        "IDEMPOTENT_ERROR",
        "outUserId \"m-idem\" was already used with different content",
    )
    .await;
    app.advance(60.0).await;
    assert_eq!(
        received(&app, "userOnboardingResultNotify").len(),
        1,
        "the replay started no second review"
    );

    let holder_id = approved_holder(&app, &user_id, "h-idem").await;
    let apply = json!({"userId": user_id, "outCardId": "c-idem", "holderId": holder_id, "platform": "AMAZON", "currency": "USD"});
    let one = expect(&app, "b2cVirtualAccountApply", apply.clone(), "PROCESSING").await;
    let two = expect(&app, "b2cVirtualAccountApply", apply, "PROCESSING").await;
    assert_eq!(one, two);
    refused(&app, "b2cVirtualAccountApply",
        json!({"userId": user_id, "outCardId": "c-idem", "holderId": holder_id, "platform": "AMAZON", "currency": "EUR"}),
        "IDEMPOTENT_ERROR", "outCardId").await;
    let page = expect(&app, "b2cCardQuery", json!({"userId": user_id}), "SUCCESS").await;
    assert_eq!(page["total"], 1, "one card only");
    app.advance(10.0).await;
    let card_id = one["cardId"].as_str().unwrap();
    let bind = json!({"userId": user_id, "cardId": card_id, "bindId": "b-idem", "operationType": "BIND", "shopId": "S", "shopName": "Shop"});
    expect(&app, "b2cShopBind", bind.clone(), "PROCESSING").await;
    expect(&app, "b2cShopBind", bind, "PROCESSING").await;
    refused(&app, "b2cShopBind", json!({"userId": user_id, "cardId": card_id, "bindId": "b-idem", "operationType": "BIND", "shopId": "S2", "shopName": "Shop"}),
        "IDEMPOTENT_ERROR", "bindId \"b-idem\"").await;
    app.advance(10.0).await;
    assert_eq!(received(&app, "b2cShopBindResultNotify").len(), 1);
    app.assert_invariants().await;
    app.shutdown().await;
}

/// Idempotency compares what the operation reads: a field it ignores, a null or a blank where the
/// first request left a field out, or another order of the keys is the same request.
#[tokio::test]
async fn a_retry_with_an_ignored_field_or_a_null_is_the_same_request() {
    let app = spawn_app().await;
    let first = onboarding("m-same", "Example Trading");
    let original = expect(&app, "userOnboardingApply", first.clone(), "PROCESSING").await;
    let mut retry = first.clone();
    retry["traceId"] = json!("abc");
    retry["phone"] = Value::Null;
    retry["address"] = json!("  ");
    retry["attaches"] = json!([]);
    retry["legalEntity"]["extra"] = json!({"x": 1});
    let again = expect(&app, "userOnboardingApply", retry, "PROCESSING").await;
    assert_eq!(again, original, "the original answer");
    let mut changed = first.clone();
    changed["email"] = json!("other@example.com");
    refused(
        &app,
        "userOnboardingApply",
        changed,
        "IDEMPOTENT_ERROR",
        "outUserId \"m-same\" was already used with different content",
    )
    .await;
    app.advance(60.0).await;
    assert_eq!(
        received(&app, "userOnboardingResultNotify").len(),
        1,
        "one review only"
    );

    let user_id = original["userId"].as_str().unwrap_or_default().to_owned();
    let mut apply = holder(&user_id, "h-same");
    apply["attaches"] = json!([{"fileId": "F1", "fileName": "a.pdf"}]);
    let one = expect(&app, "cardHolderApply", apply.clone(), "PROCESSING").await;
    apply["email"] = Value::Null;
    apply["attaches"][0]["note"] = json!("ignored");
    apply["requestedBy"] = json!("ops");
    let two = expect(&app, "cardHolderApply", apply.clone(), "PROCESSING").await;
    assert_eq!(one, two);
    // The simulator keeps its own fileName: another one is the same request.
    apply["attaches"][0]["fileName"] = json!("b.pdf");
    let three = expect(&app, "cardHolderApply", apply.clone(), "PROCESSING").await;
    assert_eq!(one, three);
    apply["attaches"][0]["fileId"] = json!("F2");
    refused(
        &app,
        "cardHolderApply",
        apply,
        "IDEMPOTENT_ERROR",
        "outHolderId \"h-same\"",
    )
    .await;
    app.advance(30.0).await;
    assert_eq!(
        received(&app, "cardHolderResultNotify").len(),
        1,
        "one review only"
    );
    app.shutdown().await;
}

/// `body` with `fields` set (added, or replaced).
fn with(body: &Value, fields: Value) -> Value {
    let mut out = body.clone();
    if let (Value::Object(out), Value::Object(fields)) = (&mut out, fields) {
        out.extend(fields);
    }
    out
}

/// Sends `body` to `api` (answered `code`), then `retry`, which differs only in what the
/// operation does not read: the original answer; then `changed` under the same id:
/// IDEMPOTENT_ERROR naming `needle`. Returns the answer.
async fn replayed_not_changed(
    app: &crate::helpers::TestApp,
    api: &str,
    (body, code): (Value, &str),
    retry: Value,
    (changed, needle): (Value, &str),
) -> Value {
    let first = expect(app, api, body, code).await;
    let again = call(app, api, retry).await;
    assert_eq!(
        (again.code.as_str(), again.body.as_ref()),
        (code, Some(&first)),
        "{api}: a retry with an ignored field and a null is the original answer: {}",
        again.detail
    );
    refused(app, api, changed, "IDEMPOTENT_ERROR", needle).await;
    first
}

/// Every operation with a business id compares what it reads, not the body as sent: accounts,
/// cancellations, shop bindings, shop orders (their lines included), trade orders, payout
/// beneficiaries, payouts and their confirmation.
#[tokio::test]
async fn every_business_id_compares_what_the_operation_reads() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let user = ready["userId"].as_str().unwrap_or_default().to_owned();
    let card_id = ready["cardId"].as_str().unwrap_or_default().to_owned();
    let noise = |body: &Value, null: &str| with(body, json!({"traceId": "t-1", null: null}));

    // Money for the payout, before the card is cancelled.
    trigger(
        &app,
        "whalet.collection.received",
        json!({"cardId": card_id, "amount": "100"}),
    )
    .await;
    app.advance(5.0).await;

    let b2b = json!({"userId": user, "outCardId": "c-n", "channelCode": "SIM_US_LOCAL",
        "currency": "USD"});
    replayed_not_changed(
        &app,
        "b2bVirtualAccountApply",
        (b2b.clone(), "PROCESSING"),
        noise(&b2b, "accountName"),
        (
            with(&b2b, json!({"channelCode": "SIM_HK_GLOBAL"})),
            "outCardId",
        ),
    )
    .await;

    let bind = json!({"userId": user, "cardId": card_id, "bindId": "b-n", "operationType": "BIND",
        "shopId": "S-N", "shopName": "Shop"});
    replayed_not_changed(
        &app,
        "b2cShopBind",
        (bind.clone(), "PROCESSING"),
        noise(&bind, "shopUrl"),
        (with(&bind, json!({"shopName": "Other"})), "bindId \"b-n\""),
    )
    .await;
    app.advance(10.0).await;

    let line = json!({"orderNo": "114-1", "amount": "12.5", "currency": "USD",
        "orderTime": "2025-01-01 10:00:00"});
    let batch = json!({"userId": user, "batchNo": "batch-n", "shopId": "S-N", "orders": [line]});
    let quiet = with(
        &batch,
        json!({"traceId": "t-1",
        "orders": [with(&line, json!({"goodsName": null, "note": "ignored"}))]}),
    );
    let other = with(
        &batch,
        json!({"orders": [with(&line, json!({"amount": "13"}))]}),
    );
    replayed_not_changed(
        &app,
        "shopOrderUpload",
        (batch, "SUCCESS"),
        quiet,
        (other, "batchNo \"batch-n\""),
    )
    .await;

    // A cancellation reads userId and cardId, its key, and a reason it does not keep: every
    // retry is the original answer (nothing can differ under the same card).
    let cancel = json!({"userId": user, "cardId": card_id});
    let first = expect(&app, "b2cCardCancel", cancel.clone(), "PROCESSING").await;
    for retry in [
        noise(&cancel, "reason"),
        with(&cancel, json!({"reason": "closing"})),
    ] {
        let again = call(&app, "b2cCardCancel", retry).await;
        assert_eq!(
            (again.code.as_str(), again.body.as_ref()),
            ("PROCESSING", Some(&first)),
            "{}",
            again.detail
        );
    }

    let order = json!({"userId": user, "outOrderNo": "o-n", "buyerName": "Berlin Imports GmbH",
        "buyerCountry": "DE", "goodsName": "LED panels", "currency": "USD", "amount": "600"});
    replayed_not_changed(
        &app,
        "tradeOrderApply",
        (order.clone(), "SUCCESS"),
        noise(&order, "contractNo"),
        (with(&order, json!({"amount": "601"})), "outOrderNo \"o-n\""),
    )
    .await;

    let payee = json!({"userId": user, "outBeneficiaryId": "p-n", "country": "HK",
        "currency": "USD", "accountName": "Supplier Ltd", "accountNo": "012345678901",
        "bankName": "Example Bank HK", "bankCode": "004", "swiftCode": "EXAMHKHH"});
    let applied = replayed_not_changed(
        &app,
        "benificiaryAccountApply",
        (payee.clone(), "PROCESSING"),
        noise(&payee, "beneficiaryType"),
        (
            with(&payee, json!({"accountName": "Other Ltd"})),
            "outBeneficiaryId \"p-n\"",
        ),
    )
    .await;
    app.advance(30.0).await;

    let payout = json!({"userId": user, "outPayoutId": "po-n", "fundSource": "B2C",
        "currency": "USD", "amount": "20", "beneficiaryId": applied["beneficiaryId"]});
    let applied = replayed_not_changed(
        &app,
        "payoutApply",
        (payout.clone(), "SUCCESS"),
        noise(&payout, "remark"),
        (
            with(&payout, json!({"amount": "21"})),
            "outPayoutId \"po-n\"",
        ),
    )
    .await;
    // A confirm reads only its key (the user and the payoutId, scoped per user): a retry with
    // noise replays; another user's confirm is that user's own request, never a conflict.
    let confirm = json!({"userId": user, "payoutId": applied["payoutId"]});
    let first = expect(&app, "payoutConfirm", confirm.clone(), "PROCESSING").await;
    let retry = noise(&confirm, "tradeCredential");
    assert_eq!(
        expect(&app, "payoutConfirm", retry, "PROCESSING").await,
        first
    );
    refused(
        &app,
        "payoutConfirm",
        with(&confirm, json!({"userId": "U-other"})),
        "FAILURE",
        "userId \"U-other\" is not a user of this partner",
    )
    .await;
    app.assert_invariants().await;
    app.shutdown().await;
}

/// A file reference is read like every other field: an item that is not an object, or a field
/// of the wrong type, is named as such (not as a missing fileId), and nothing is created.
#[tokio::test]
async fn file_references_of_the_wrong_shape_are_named_precisely() {
    let app = spawn_app().await;
    let before = business_state(&app).await;
    let mut body = onboarding("m-files", "Example Trading");
    body["attaches"] = json!([{"fileId": 123}, "str", null]);
    refused(
        &app,
        "userOnboardingApply",
        body.clone(),
        "PARAMETER_ERROR",
        "attaches[0].fileId must be a string, got a number; \
         attaches[1] must be an object {fileId, fileName, fileUrl}, got a string; \
         attaches[2] must be an object {fileId, fileName, fileUrl}, got null",
    )
    .await;
    body["attaches"] = json!([{"fileId": "f", "fileName": 5, "fileUrl": []}, {}]);
    refused(
        &app,
        "userOnboardingApply",
        body,
        "PARAMETER_ERROR",
        "attaches[0].fileName must be a string, got a number; \
         attaches[0].fileUrl must be a string, got an array; attaches[1].fileId is required",
    )
    .await;
    assert_eq!(business_state(&app).await, before, "nothing created");
    let ready = trigger(&app, "whalet.account.ready", json!({})).await;
    let before_holder = business_state(&app).await;
    let mut apply = holder(ready["userId"].as_str().unwrap_or_default(), "h-files");
    apply["attaches"] = json!([{"fileId": "f", "fileName": "x".repeat(257)}]);
    refused(
        &app,
        "cardHolderApply",
        apply,
        "PARAMETER_ERROR",
        "attaches[0].fileName is longer than 256 characters",
    )
    .await;
    assert_eq!(business_state(&app).await, before_holder);
    app.shutdown().await;
}

#[tokio::test]
async fn api_codes_and_notifications_can_be_renamed() {
    let app = spawn_with(Setup {
        config: Some("[whalet.api_codes]\nuserOnboardingApply = \"userApply\"\nuserOnboardingResultNotify = \"userApplyNotify\"\n".into()),
        ..Setup::default()
    })
    .await;
    refused(
        &app,
        "userOnboardingApply",
        onboarding("m", "X"),
        "INTERFACE_UNAUTHORIZED",
        "userOnboardingApply",
    )
    .await;
    let body = expect(&app, "userApply", onboarding("m", "X"), "PROCESSING").await;
    app.advance(60.0).await;
    app.wait_notification("apiCode=userApplyNotify").await;
    let n = received(&app, "userApplyNotify");
    assert_eq!(n[0]["userId"], body["userId"]);
    app.shutdown().await;
}

#[tokio::test]
async fn bodies_of_any_shape_get_a_precise_refusal_never_an_internal_error() {
    let app = spawn_app().await;
    let codes = [
        "userOnboardingApply",
        "cardHolderApply",
        "cardHolderQuery",
        "cardHolderBeneficaryApply",
        "cardHolderBeneficaryQuery",
        "b2bVirtualAccountApply",
        "b2bChannelBanksQuery",
        "b2cVirtualAccountApply",
        "b2cPlatformQuery",
        "b2cCardHolderQuery",
        "b2cCardNumberQuery",
        "b2cShopBind",
        "b2cCardCancel",
        "b2cCardDetailQuery",
        "b2cShopQuery",
        "b2cCardQuery",
        "b2cBankLetterApply",
        "mockPayeeNotify",
        "collectionQuery",
        "queryCurrencyBalance",
    ];
    let bodies = [
        json!({}),
        json!({"userId": {}, "legalEntity": "x", "attaches": "x", "amount": [], "pageNum": -1}),
        json!({"userId": "U1", "legalEntity": {"type": 1}, "attaches": [{"fileName": 2}], "amount": "1e9",
               "currency": "USD", "cardId": "VA1", "pageNum": "x", "pageSize": 0, "fundSource": "B2C",
               "holderId": null, "outUserId": "\u{0000}", "platform": "AMAZON", "status": 3}),
        json!({"userId": "U1", "amount": "99999999999999999999", "currency": "JPY", "cardId": "VA1",
               "fundSource": "Acquiring", "outUserId": "x".repeat(65)}),
    ];
    for code in codes {
        for body in &bodies {
            let reply = call(&app, code, body.clone()).await;
            assert!(
                ["PARAMETER_ERROR", "FAILURE"].contains(&reply.code.as_str()),
                "{code} {body}: {} {}",
                reply.code,
                reply.detail
            );
            assert!(!reply.detail.is_empty());
        }
    }
    // queryPlatformBalance has no required field; its refusals are about shape only.
    refused(
        &app,
        "queryPlatformBalance",
        json!({"currency": 5}),
        "PARAMETER_ERROR",
        "currency must be a string, got a number",
    )
    .await;
    app.assert_invariants().await;
    app.shutdown().await;
}

/// A well-shaped country code that ISO 3166-1 does not assign (`XX`, `UK`) is a
/// PARAMETER_ERROR naming the field, in every field the shared reader checks; nothing refused
/// is stored, and the real code (`GB`) is taken.
#[tokio::test]
async fn a_country_code_that_iso_3166_does_not_assign_is_refused() {
    let app = spawn_app().await;
    let before = business_state(&app).await;
    let not_assigned = |field: &str, code: &str| {
        format!(
            "{field} \"{code}\" is not an ISO 3166-1 country code (use an assigned one, such as US)"
        )
    };
    let mut user = onboarding("OUT-COUNTRY", "Country Trading");
    for code in ["XX", "UK"] {
        user["legalEntity"]["countryCode"] = json!(code);
        let reply = call(&app, "userOnboardingApply", user.clone()).await;
        assert_eq!(reply.code, "PARAMETER_ERROR", "{}", reply.detail);
        assert_eq!(reply.detail, not_assigned("legalEntity.countryCode", code));
    }
    let mut card_holder = holder("U-NOBODY", "OUT-HOLDER-COUNTRY");
    card_holder["countryCode"] = json!("ZZ");
    let reply = call(&app, "cardHolderApply", card_holder).await;
    assert_eq!(reply.code, "PARAMETER_ERROR", "{}", reply.detail);
    assert_eq!(reply.detail, not_assigned("countryCode", "ZZ"));
    assert_eq!(
        business_state(&app).await,
        before,
        "refused requests change nothing"
    );
    user["legalEntity"]["countryCode"] = json!("GB");
    expect(&app, "userOnboardingApply", user, "PROCESSING").await;
    app.shutdown().await;
}

/// Money arriving that would take a balance past the largest amount is refused before anything
/// is taken: the tenant's state, its id sequence included, is as it was, so the next collection
/// gets the next id (on the Open API and on the platform's bulk payments).
#[tokio::test]
async fn money_refused_for_the_ledger_limit_takes_no_id() {
    let app = spawn_app().await;
    const STATE: &str = "/__sim/state?tenant=whalet:202400000000001";
    app.trigger_ok("whalet.account.ready", json!({})).await;
    app.trigger_ok(
        "whalet.collection.received",
        json!({"amount": "9999999999990.00"}),
    )
    .await;
    app.trigger_ok(
        "platform.bulk_payment.received",
        json!({"amount": "9999999999990.00", "currency": "USD"}),
    )
    .await;
    let before = app.get_json(STATE).await;
    for (name, params) in [
        ("whalet.collection.received", json!({"amount": "100.00"})),
        (
            "platform.bulk_payment.received",
            json!({"amount": "100.00", "currency": "USD"}),
        ),
    ] {
        let (status, body) = app.post(&format!("/__sim/trigger/{name}"), &params).await;
        assert_eq!(status, 422, "{name}: {body}");
        assert!(
            body.to_string().contains("beyond the largest amount"),
            "{name}: {body}"
        );
        assert_eq!(
            app.get_json(STATE).await,
            before,
            "{name} changed the state"
        );
    }
    app.shutdown().await;
}

/// Regression: `legalEntity` sent as a JSON string was refused with its type and six false
/// "required" problems of its fields; a parent of the wrong type is its one problem. Nothing
/// refused is stored.
#[tokio::test]
async fn a_nested_object_of_the_wrong_type_is_named_alone() {
    let app = spawn_app().await;
    let before = business_state(&app).await;
    let entity = json!({"type": "ENTERPRISE", "name": "Acme", "certType": "BUSINESS_LICENSE",
        "certNo": "91350200", "countryCode": "CN"});
    for (value, kind) in [
        (json!(entity.to_string()), "a string"),
        (json!([entity]), "an array"),
    ] {
        let reply = call(
            &app,
            "userOnboardingApply",
            json!({"outUserId": "m-nested", "legalEntity": value}),
        )
        .await;
        assert_eq!(reply.code, "PARAMETER_ERROR");
        assert_eq!(
            reply.detail,
            format!("legalEntity must be an object, got {kind}")
        );
    }
    let reply = call(
        &app,
        "userOnboardingApply",
        json!({"legalEntity": "x", "email": 5}),
    )
    .await;
    assert_eq!(
        reply.detail,
        "outUserId is required; legalEntity must be an object, got a string; \
         email must be a string, got a number",
        "the other fields are still all named"
    );
    assert_eq!(
        business_state(&app).await,
        before,
        "refused requests change nothing"
    );
    app.shutdown().await;
}

/// Regression: a time of the right form that the calendar has not (`2026-02-29`, hour 24) was
/// reported as a format error; it is named as no calendar date or time of day, in the window of
/// a query and in a batch's lines alike.
#[tokio::test]
async fn a_time_that_does_not_exist_is_named_as_such() {
    let app = spawn_app().await;
    refused(
        &app,
        "collectionQuery",
        json!({"userId": "U1", "startTime": "2026-02-29 00:00:00", "endTime": "2026-03-01 24:00:00"}),
        "PARAMETER_ERROR",
        "startTime: 2026-02-29 is not a calendar date (February 2026 has 28 days); \
         endTime: 24:00:00 is not a time of day (00:00:00 to 23:59:59)",
    )
    .await;
    refused(
        &app,
        "withdrawQuery",
        json!({"userId": "U1", "endTime": "2026-13-01 00:00:00"}),
        "PARAMETER_ERROR",
        "endTime: 2026-13-01 is not a calendar date (there is no month 13)",
    )
    .await;
    refused(
        &app,
        "shopOrderUpload",
        json!({"userId": "U1", "batchNo": "b1", "shopId": "S1", "orders": [{"orderNo": "1",
            "amount": "1.00", "currency": "USD", "orderTime": "2025-04-31 10:00:00"}]}),
        "PARAMETER_ERROR",
        "orders[0].orderTime: 2025-04-31 is not a calendar date (April 2025 has 30 days)",
    )
    .await;
    app.shutdown().await;
}
