//! Steps of the Whalet collections flows, written as a partner's integration test would: call
//! the API through the sealing client, move the virtual clock, and read what the local receiver
//! got (verified and decrypted).

use serde_json::{json, Value};
use whalet_sim::wire::whalet::OpenedReply;

use crate::helpers::TestApp;

pub const PARTNER: &str = "whalet:202400000000001";

pub async fn call(app: &TestApp, api_code: &str, body: Value) -> OpenedReply {
    app.client
        .call(api_code, &body)
        .await
        .unwrap_or_else(|e| panic!("{api_code}: {e}"))
}

/// Calls and expects `code`; returns the body.
pub async fn expect(app: &TestApp, api_code: &str, body: Value, code: &str) -> Value {
    let reply = call(app, api_code, body).await;
    assert_eq!(
        reply.code, code,
        "{api_code}: {} {:?}",
        reply.detail, reply.body
    );
    reply.body.unwrap_or(Value::Null)
}

/// Calls and expects an error `code` whose detail contains `needle`.
pub async fn refused(app: &TestApp, api_code: &str, body: Value, code: &str, needle: &str) {
    let reply = call(app, api_code, body).await;
    assert_eq!(reply.code, code, "{api_code}: {}", reply.detail);
    assert!(
        reply.detail.contains(needle),
        "{api_code}: detail {:?} should contain {needle:?}",
        reply.detail
    );
    assert_eq!(reply.body, None, "error replies carry no body");
}

/// The bodies of notifications with this apiCode the receiver accepted, oldest first.
pub fn received(app: &TestApp, api_code: &str) -> Vec<Value> {
    app.receiver
        .received()
        .into_iter()
        .filter(|r| r.api_code == api_code)
        .map(|r| {
            assert_eq!(r.error, None, "{api_code} failed verification");
            r.body.unwrap_or(Value::Null)
        })
        .collect()
}

/// The one notification with this apiCode about `field = id` (its business id), once delivered.
pub async fn received_about(app: &TestApp, api_code: &str, field: &str, id: &str) -> Value {
    let n = app
        .wait_notification(&format!("apiCode={api_code}&businessId={id}"))
        .await;
    assert_eq!(n["status"], "delivered", "{n}");
    let matching: Vec<Value> = received(app, api_code)
        .into_iter()
        .filter(|b| b[field] == id)
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "{api_code} about {field}={id}: {matching:?}"
    );
    matching.into_iter().next().unwrap_or(Value::Null)
}

pub async fn trigger(app: &TestApp, name: &str, params: Value) -> Value {
    app.trigger_ok(name, params).await
}

pub fn onboarding(out_user_id: &str, name: &str) -> Value {
    json!({
        "outUserId": out_user_id,
        "legalEntity": {"type": "ENTERPRISE", "name": name, "certType": "BUSINESS_LICENSE",
            "certNo": "91350200MA2Y000000", "countryCode": "CN"},
        "email": "ops@example.com",
    })
}

pub fn holder(user_id: &str, out_holder_id: &str) -> Value {
    json!({
        "userId": user_id, "outHolderId": out_holder_id, "holderType": "ENTERPRISE",
        "name": "Xiamen Example Trading Co., Ltd.", "countryCode": "CN",
        "certType": "BUSINESS_LICENSE", "certNo": "91350200MA2Y000000",
    })
}

/// Applies for onboarding; returns the userId (still under review).
pub async fn apply_user(app: &TestApp, out_user_id: &str) -> String {
    let body = expect(
        app,
        "userOnboardingApply",
        onboarding(out_user_id, "Example Trading"),
        "PROCESSING",
    )
    .await;
    body["userId"].as_str().unwrap().to_owned()
}

/// A user that passed onboarding (the default 60 s review).
pub async fn onboarded_user(app: &TestApp, out_user_id: &str) -> String {
    let user_id = apply_user(app, out_user_id).await;
    app.advance(60.0).await;
    let n = received_about(app, "userOnboardingResultNotify", "userId", &user_id).await;
    assert_eq!(n["status"], "SUCCESS");
    user_id
}

/// An approved card holder of `user_id` (the default 30 s review).
pub async fn approved_holder(app: &TestApp, user_id: &str, out_holder_id: &str) -> String {
    let body = expect(
        app,
        "cardHolderApply",
        holder(user_id, out_holder_id),
        "PROCESSING",
    )
    .await;
    let holder_id = body["holderId"].as_str().unwrap().to_owned();
    app.advance(30.0).await;
    let n = received_about(app, "cardHolderResultNotify", "holderId", &holder_id).await;
    assert_eq!(n["status"], "SUCCESS");
    holder_id
}

/// Applies for a B2C card; returns the cardId (being opened).
pub async fn apply_b2c_card(
    app: &TestApp,
    user_id: &str,
    holder_id: &str,
    out_card_id: &str,
    currency: &str,
) -> String {
    let body = expect(
        app,
        "b2cVirtualAccountApply",
        json!({"userId": user_id, "outCardId": out_card_id, "holderId": holder_id,
               "platform": "AMAZON", "currency": currency}),
        "PROCESSING",
    )
    .await;
    body["cardId"].as_str().unwrap().to_owned()
}

/// An ACTIVE B2C card (the default 10 s opening); returns virtualAccountNotify's body.
pub async fn open_b2c_card(
    app: &TestApp,
    user_id: &str,
    holder_id: &str,
    out_card_id: &str,
    currency: &str,
) -> Value {
    let card_id = apply_b2c_card(app, user_id, holder_id, out_card_id, currency).await;
    app.advance(10.0).await;
    let n = received_about(app, "virtualAccountNotify", "cardId", &card_id).await;
    assert_eq!(n["status"], "SUCCESS", "{n}");
    n
}

/// A user with an approved holder and an ACTIVE B2C card: (userId, holderId, card notification).
pub async fn b2c_ready(app: &TestApp, tag: &str, currency: &str) -> (String, String, Value) {
    let user_id = onboarded_user(app, &format!("m-{tag}")).await;
    let holder_id = approved_holder(app, &user_id, &format!("h-{tag}")).await;
    let card = open_b2c_card(app, &user_id, &holder_id, &format!("c-{tag}"), currency).await;
    (user_id, holder_id, card)
}

/// The balance row of one currency from queryCurrencyBalance.
pub async fn balance(app: &TestApp, user_id: &str, fund: &str, currency: &str) -> Value {
    let rows = expect(
        app,
        "queryCurrencyBalance",
        json!({"userId": user_id, "currency": currency, "fundSource": fund}),
        "SUCCESS",
    )
    .await;
    let rows = rows
        .as_array()
        .expect("queryCurrencyBalance answers a JSON array")
        .clone();
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0].clone()
}

/// A Money object in the vendor's shape.
pub fn money(amount: Value, cent: i64, currency: &str) -> Value {
    json!({"amount": amount, "cent": cent, "centFactor": 100, "currency": currency})
}

/// The partner's Whalet state and ledger from the control plane.
pub async fn state(app: &TestApp) -> Value {
    let body = app
        .get_json(&format!("/__sim/state?tenant={PARTNER}"))
        .await;
    body["tenants"][PARTNER].clone()
}

/// The business state (entities and ledger) without the requestNo set, to check that refused
/// requests change nothing.
pub async fn business_state(app: &TestApp) -> Value {
    let s = state(app).await;
    json!({"whalet": s["whalet"], "ledger": s["ledger"], "sequence": s["sequence"]})
}

/// A `b2cShopBind` BIND of shop `shop_id` (`shop_name`) to `card_id` as `bind_id`, answered
/// PROCESSING (under review by the marketplace); returns the reply.
pub async fn bind_shop(
    app: &TestApp,
    user_id: &str,
    card_id: &str,
    bind_id: &str,
    shop_id: &str,
    shop_name: &str,
) -> Value {
    expect(
        app,
        "b2cShopBind",
        json!({"userId": user_id, "cardId": card_id, "bindId": bind_id,
        "operationType": "BIND", "shopId": shop_id, "shopName": shop_name}),
        "PROCESSING",
    )
    .await
}

/// Asks to cancel `card_id` of `user_id` (PROCESSING), lets trigger `name` decide it with the
/// status word `word`, and answers the card's `b2cCardDetailQuery` body.
pub async fn cancel_decided_with(
    app: &TestApp,
    (user_id, card_id): (&str, &str),
    name: &str,
    word: &str,
) -> Value {
    expect(
        app,
        "b2cCardCancel",
        json!({"userId": user_id, "cardId": card_id}),
        "PROCESSING",
    )
    .await;
    trigger(app, name, json!({"cardId": card_id, "status": word})).await;
    expect(
        app,
        "b2cCardDetailQuery",
        json!({"userId": user_id, "cardId": card_id}),
        "SUCCESS",
    )
    .await
}
