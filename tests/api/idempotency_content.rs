//! Business-id idempotency compares what an operation reads (docs/FIDELITY.md, "idempotency"):
//! a value spelled another way (an amount `"10"`, `"10.00"` or `10.00`) or a field the operation
//! ignores (a file's `fileName`) is the same request, on the Open API and on whalet-platform
//! alike; and a record an older simulator wrote (the raw body, docs/PERSISTENCE.md) still
//! replays the identical request after a snapshot is loaded.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{platform_call, repo_path, spawn_app, TestApp};
use crate::platform::{bind_body, trigger as platform_trigger};
use crate::whalet2_support::{b2b_card, upload, user_with_beneficiary};
use crate::whalet_support::*;

async fn export(app: &TestApp) -> Value {
    let r = app
        .http
        .get(
            &format!("{}/__sim/snapshot", app.url),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    serde_json::from_slice(&r.body).unwrap()
}

async fn import(app: &TestApp, doc: &Value) {
    let (status, text) = app
        .post_raw(
            "/__sim/snapshot",
            "application/json",
            serde_json::to_vec(doc).unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{text}");
}

/// The demo partner's idempotency records in a snapshot document.
fn entries(doc: &mut Value) -> &mut serde_json::Map<String, Value> {
    doc["tenants"][PARTNER]["idempotency"]["entries"]
        .as_object_mut()
        .unwrap()
}

/// The onboarding request the shipped fixture recorded.
fn fixture_onboarding() -> Value {
    json!({"outUserId": "m-fixture", "legalEntity": {"type": "ENTERPRISE",
        "name": "Example Trading", "certType": "BUSINESS_LICENSE",
        "certNo": "91350200MA2Y000000", "countryCode": "CN"}, "email": "ops@example.com"})
}

/// The shipped fixture's recorded onboarding answers its identical request again.
#[tokio::test]
async fn the_shipped_fixture_replays_its_recorded_request() {
    let app = spawn_app().await;
    app.app()
        .load_snapshot(std::path::Path::new(&repo_path(
            "fixtures/onboarded-user.json",
        )))
        .unwrap();
    let again = expect(
        &app,
        "userOnboardingApply",
        fixture_onboarding(),
        "PROCESSING",
    )
    .await;
    assert_eq!(again["outUserId"], "m-fixture");
    let mut other = fixture_onboarding();
    other["email"] = json!("other@example.com");
    refused(
        &app,
        "userOnboardingApply",
        other,
        "IDEMPOTENT_ERROR",
        "outUserId \"m-fixture\"",
    )
    .await;
    app.shutdown().await;
}

/// A record as a simulator before content comparison wrote it (`[body, result]`, the raw nested
/// body) replays the identical request, a null added included; other content is refused.
#[tokio::test]
async fn an_older_record_of_the_raw_body_replays_the_identical_request() {
    let app = spawn_app().await;
    let first = onboarding("m-old", "Example Trading");
    let original = expect(&app, "userOnboardingApply", first.clone(), "PROCESSING").await;
    let mut doc = export(&app).await;
    let key = "userOnboardingApply\u{1f}m-old";
    let result = entries(&mut doc)[key][1].clone();
    entries(&mut doc).insert(key.into(), json!([first, result]));
    import(&app, &doc).await;

    let again = expect(&app, "userOnboardingApply", first.clone(), "PROCESSING").await;
    assert_eq!(again, original);
    let mut with_null = first.clone();
    with_null["phone"] = Value::Null;
    let again = expect(&app, "userOnboardingApply", with_null, "PROCESSING").await;
    assert_eq!(again, original);
    let mut other = first.clone();
    other["legalEntity"]["name"] = json!("Other Trading");
    refused(
        &app,
        "userOnboardingApply",
        other,
        "IDEMPOTENT_ERROR",
        "outUserId \"m-old\"",
    )
    .await;
    app.shutdown().await;
}

/// An unbind in flight recorded before refusals were counted (key `b2cShopBind UNBIND`, no round)
/// answers its retry with the original answer, not as a second unbind.
#[tokio::test]
async fn an_unbind_recorded_under_the_older_key_replays() {
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "unbind-old", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();
    bind_shop(&app, &user_id, card_id, "b-old", "S-OLD", "Shop").await;
    app.advance(10.0).await;
    let unbind = json!({"userId": user_id, "cardId": card_id, "bindId": "b-old",
        "operationType": "UNBIND", "shopId": "S-OLD"});
    let original = expect(&app, "b2cShopBind", unbind.clone(), "PROCESSING").await;
    let mut doc = export(&app).await;
    let record = entries(&mut doc)
        .remove("b2cShopBind UNBIND 0\u{1f}b-old")
        .unwrap();
    entries(&mut doc).insert(
        "b2cShopBind UNBIND\u{1f}b-old".into(),
        json!([unbind, record[1]]),
    );
    import(&app, &doc).await;
    let again = expect(&app, "b2cShopBind", unbind, "PROCESSING").await;
    assert_eq!(again, original);
    app.shutdown().await;
}

/// The simulator keeps its own `fileName`/`fileUrl` for an uploaded file: a retry that adds them
/// is the same trade order; another file is not.
#[tokio::test]
async fn a_file_name_the_operation_ignores_is_the_same_request() {
    let app = spawn_app().await;
    let (user, _) = b2b_card(&app, "b2b-files", "c-files").await;
    let file = upload(&app, "invoice.png", b"\x89PNG invoice").await;
    let order = |attach: Value| {
        json!({"userId": user, "outOrderNo": "o-files", "buyerName": "Berlin Imports GmbH",
        "buyerCountry": "DE", "goodsName": "LED panels", "currency": "USD", "amount": "600",
        "attaches": [attach]})
    };
    let first = expect(
        &app,
        "tradeOrderApply",
        order(json!({"fileId": file["fileId"]})),
        "SUCCESS",
    )
    .await;
    let named = json!({"fileId": file["fileId"], "fileName": "f.pdf", "fileUrl": "u"});
    let again = expect(&app, "tradeOrderApply", order(named), "SUCCESS").await;
    assert_eq!(again, first);
    let other = upload(&app, "other.png", b"\x89PNG other").await;
    refused(
        &app,
        "tradeOrderApply",
        order(json!({"fileId": other["fileId"]})),
        "IDEMPOTENT_ERROR",
        "outOrderNo \"o-files\"",
    )
    .await;
    app.shutdown().await;
}

/// An amount is content as the money read: `"10.00"`, `"10"` and `10.00` are one payout;
/// `"10.01"` is another.
#[tokio::test]
async fn an_amount_spelled_another_way_is_the_same_request() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "500", "sup-amt", "USD").await;
    let body = |amount: Value| {
        json!({"userId": user, "outPayoutId": "p-amt", "fundSource": "B2C",
        "currency": "USD", "amount": amount, "beneficiaryId": bid})
    };
    let first = expect(&app, "payoutApply", body(json!("10.00")), "SUCCESS").await;
    for amount in [json!("10"), json!(10.00), json!(10)] {
        let again = expect(&app, "payoutApply", body(amount.clone()), "SUCCESS").await;
        assert_eq!(again, first, "{amount}");
    }
    refused(
        &app,
        "payoutApply",
        body(json!("10.01")),
        "IDEMPOTENT_ERROR",
        "outPayoutId \"p-amt\"",
    )
    .await;
    app.shutdown().await;
}

/// whalet-platform compares content by the same rule: a null where the first request left a
/// field out, or an amount spelled another way, is the same request.
#[tokio::test]
async fn the_platform_compares_content_as_the_open_api_does() {
    let app = spawn_app().await;
    let mut bind = json!({"bindId": "pb1", "shopId": "x", "shopName": "n",
        "legalEntity": {"name": "a", "certNo": "1", "countryCode": "US"}});
    let (code, detail, first) = platform_call(&app, "shopAccountBind", &bind).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    bind["shopUrl"] = Value::Null;
    bind["legalEntity"]["type"] = json!(" ");
    let (code, detail, again) = platform_call(&app, "shopAccountBind", &bind).await;
    assert_eq!((code.as_str(), &again), ("SUCCESS", &first), "{detail}");
    bind["shopName"] = json!("m");
    let (code, _, _) = platform_call(&app, "shopAccountBind", &bind).await;
    assert_eq!(code, "IDEMPOTENT_ERROR");

    platform_trigger(
        &app,
        "platform.bulk_payment.received",
        json!({"amount": "1000.00", "currency": "USD"}),
    )
    .await;
    platform_call(&app, "shopAccountBind", &bind_body("pb2", "PS1")).await;
    platform_trigger(&app, "platform.binding.approved", json!({"bindId": "pb2"})).await;
    let pay = |amount: Value| json!({"paymentId": "P-AMT", "shopId": "PS1", "currency": "USD", "amount": amount});
    let (code, detail, paid) = platform_call(&app, "paymentApply", &pay(json!("10.00"))).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    for amount in [json!("10"), json!(10.00)] {
        let (code, detail, again) = platform_call(&app, "paymentApply", &pay(amount)).await;
        assert_eq!((code.as_str(), &again), ("SUCCESS", &paid), "{detail}");
    }
    let (code, _, _) = platform_call(&app, "paymentApply", &pay(json!("10.01"))).await;
    assert_eq!(code, "IDEMPOTENT_ERROR");
    let (_, _, bal) = platform_call(&app, "balanceQuery", &json!({"currency": "USD"})).await;
    assert_eq!(bal["balances"][0]["availableAmount"], "990.00", "one debit");
    app.shutdown().await;
}

/// A payout confirm recorded before confirms were idempotent per user (key `payoutApply confirm`,
/// the raw body) replays its user's retry, not "not waiting for confirmation"; another user
/// confirming that payout is told it is not theirs, not given the record.
#[tokio::test]
async fn a_confirm_recorded_before_it_was_per_user_replays_for_its_user() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "500", "sup-conf", "USD").await;
    let applied = json!({"userId": user, "outPayoutId": "p-conf", "fundSource": "B2C",
        "currency": "USD", "amount": "10", "beneficiaryId": bid});
    let applied = expect(&app, "payoutApply", applied, "SUCCESS").await;
    let payout_id = applied["payoutId"].as_str().unwrap().to_owned();
    let confirm = json!({"userId": user, "payoutId": payout_id});
    let original = expect(&app, "payoutConfirm", confirm.clone(), "PROCESSING").await;
    let mut doc = export(&app).await;
    let record = entries(&mut doc)
        .remove(&format!("payoutApply confirm {user}\u{1f}{payout_id}"))
        .unwrap();
    entries(&mut doc).insert(
        format!("payoutApply confirm\u{1f}{payout_id}"),
        json!([confirm, record[1]]),
    );
    import(&app, &doc).await;
    let again = expect(&app, "payoutConfirm", confirm, "PROCESSING").await;
    assert_eq!(again, original);
    let (other, _) = user_with_beneficiary(&app, "500", "sup-conf2", "USD").await;
    refused(
        &app,
        "payoutConfirm",
        json!({"userId": other, "payoutId": payout_id}),
        "FAILURE",
        "is not a payout of user",
    )
    .await;
    app.shutdown().await;
}

/// An older record compares only amounts as numbers: an id of digits is a string, so a
/// `certNo` without its leading zeros (or with a decimal point) is another request.
#[tokio::test]
async fn an_older_record_compares_ids_of_digits_exactly() {
    let app = spawn_app().await;
    let mut first = onboarding("m-cert", "Example Trading");
    first["legalEntity"]["certNo"] = json!("0091350200123");
    expect(&app, "userOnboardingApply", first.clone(), "PROCESSING").await;
    let mut doc = export(&app).await;
    let key = "userOnboardingApply\u{1f}m-cert";
    let result = entries(&mut doc)[key][1].clone();
    entries(&mut doc).insert(key.into(), json!([first, result]));
    import(&app, &doc).await;
    for cert in ["91350200123", "0091350200123.000"] {
        let mut other = first.clone();
        other["legalEntity"]["certNo"] = json!(cert);
        refused(
            &app,
            "userOnboardingApply",
            other,
            "IDEMPOTENT_ERROR",
            "outUserId \"m-cert\"",
        )
        .await;
    }
    expect(&app, "userOnboardingApply", first, "PROCESSING").await;
    app.shutdown().await;
}

/// On the platform a literal key `"legalEntity.name"` is not the nested field: a bind whose
/// nested name differs is another request, whatever such a key says.
#[tokio::test]
async fn a_literal_dotted_key_is_not_the_nested_field() {
    let app = spawn_app().await;
    let bind = |name: &str| {
        json!({"bindId": "pb-dot", "shopId": "x-dot", "shopName": "n",
            "legalEntity": {"name": name, "certNo": "1", "countryCode": "US"}})
    };
    let (code, detail, first) = platform_call(&app, "shopAccountBind", &bind("Alice")).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    let mut smuggled = bind("Bob");
    smuggled["legalEntity.name"] = json!("Alice");
    let (code, detail, _) = platform_call(&app, "shopAccountBind", &smuggled).await;
    assert_eq!(code, "IDEMPOTENT_ERROR", "{detail}");
    let mut decorated = bind("Alice");
    decorated["legalEntity.name"] = json!("Bob");
    let (code, detail, again) = platform_call(&app, "shopAccountBind", &decorated).await;
    assert_eq!((code.as_str(), &again), ("SUCCESS", &first), "{detail}");
    app.shutdown().await;
}
