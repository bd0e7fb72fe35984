//! Steps of the Whalet money-out flows (part 2), as a partner's test would take them: a funded
//! user, an approved payout beneficiary, an FX quote, and file uploads over multipart with a
//! token signed by the demo partner's key.

use serde_json::{json, Value};
use whalet_sim::wire::crypto::{sign, SignatureHash};
use whalet_sim::wire::keys::{demo, PrivateKey};

use crate::helpers::{repo_path, spawn_with, Setup, TestApp};
use crate::whalet_support::{expect, onboarded_user, received, received_about, trigger};

pub const DEMO_PARTNER_ID: &str = "202400000000001";

/// The virtual clock now, epoch ms.
pub async fn now_ms(app: &TestApp) -> i64 {
    app.get_json("/__sim/clock").await["now"].as_i64().unwrap()
}

/// An onboarded user with an ACTIVE B2C card in `currency` and `amount` settled in its
/// available balance. Returns (userId, cardId).
pub async fn funded_user(app: &TestApp, currency: &str, amount: &str) -> (String, String) {
    let (user, card, _) = funded_user_trade(app, currency, amount).await;
    (user, card)
}

/// As [`funded_user`], also returning the settled collection's tradeId.
pub async fn funded_user_trade(
    app: &TestApp,
    currency: &str,
    amount: &str,
) -> (String, String, String) {
    let ready = trigger(app, "whalet.account.ready", json!({"currency": currency})).await;
    let user_id = ready["userId"].as_str().unwrap().to_owned();
    let card_id = ready["cardId"].as_str().unwrap().to_owned();
    let trade_id = collection(app, &card_id, amount).await;
    app.advance(5.0).await;
    let n = received_about(app, "collectionReceivedNotify", "tradeId", &trade_id).await;
    assert_eq!(n["status"], "SUCCESS");
    (user_id, card_id, trade_id)
}

/// The simulator started with one of the repository's scenario files (`scenarios/…`) loaded.
pub async fn spawn_scenario(file: &str) -> TestApp {
    spawn_with(Setup {
        scenario_files: vec![repo_path(file).into()],
        ..Setup::default()
    })
    .await
}

/// A user funded with `amount` USD (B2C, as [`funded_user`]) and an approved beneficiary
/// `out_id` holding `currency` (as [`approved_beneficiary`]). Returns (userId, beneficiaryId).
pub async fn user_with_beneficiary(
    app: &TestApp,
    amount: &str,
    out_id: &str,
    currency: &str,
) -> (String, String) {
    let (user, _) = funded_user(app, "USD", amount).await;
    let bid = approved_beneficiary(app, &user, out_id, currency).await;
    (user, bid)
}

/// A B2C quote of USD to `to` for `user` (`rateInquiry`, SUCCESS); returns the reply.
pub async fn quote(app: &TestApp, user: &str, to: &str) -> Value {
    expect(
        app,
        "rateInquiry",
        json!({"userId": user, "currency": "USD", "toCurrency": to, "fundSource": "B2C"}),
        "SUCCESS",
    )
    .await
}

/// A B2C payout of `amount` USD to `beneficiary_id` applied as `out_payout_id` (with `rateId`
/// when given), answered SUCCESS; returns the reply.
pub async fn apply_payout(
    app: &TestApp,
    user: &str,
    out_payout_id: &str,
    amount: impl Into<Value>,
    beneficiary_id: &str,
    rate_id: Option<&str>,
) -> Value {
    let mut body = json!({"userId": user, "outPayoutId": out_payout_id, "fundSource": "B2C",
        "currency": "USD", "amount": amount.into(), "beneficiaryId": beneficiary_id});
    if let Some(rate_id) = rate_id {
        body["rateId"] = json!(rate_id);
    }
    expect(app, "payoutApply", body, "SUCCESS").await
}

/// `payoutConfirm` of `payout_id`, answered PROCESSING; returns the reply.
pub async fn confirm_payout(app: &TestApp, user: &str, payout_id: &str) -> Value {
    expect(
        app,
        "payoutConfirm",
        json!({"userId": user, "payoutId": payout_id}),
        "PROCESSING",
    )
    .await
}

/// A B2C payout of `amount` USD to `beneficiary_id`, applied as `out_payout_id` and confirmed
/// (its money frozen, PROCESSING). Returns the payoutId.
pub async fn confirmed_payout(
    app: &TestApp,
    user: &str,
    out_payout_id: &str,
    amount: impl Into<Value>,
    beneficiary_id: &str,
) -> String {
    let applied = apply_payout(app, user, out_payout_id, amount, beneficiary_id, None).await;
    let payout_id = applied["payoutId"].as_str().unwrap().to_owned();
    confirm_payout(app, user, &payout_id).await;
    payout_id
}

/// Waits for the `eddReplenishNotify` that holds `payout_id` for EDD: asserts it was delivered
/// and names the payout; returns the notification.
pub async fn edd_asked_for_payout(app: &TestApp, payout_id: &str) -> Value {
    let n = app.wait_notification("apiCode=eddReplenishNotify").await;
    assert_eq!(n["status"], "delivered", "{n}");
    let ask = received(app, "eddReplenishNotify").pop().unwrap();
    assert_eq!(ask["relatedId"], payout_id);
    ask
}

/// An EDD request made by the `whalet.edd.requested` trigger with `params`; returns its
/// replenishId.
pub async fn edd_requested(app: &TestApp, params: Value) -> String {
    let ask = trigger(app, "whalet.edd.requested", params).await;
    ask["replenishId"].as_str().unwrap().to_owned()
}

/// A collection of `amount` arriving on `card_id` (the `whalet.collection.received` trigger);
/// returns its tradeId.
pub async fn collection(app: &TestApp, card_id: &str, amount: &str) -> String {
    let c = trigger(
        app,
        "whalet.collection.received",
        json!({"cardId": card_id, "amount": amount}),
    )
    .await;
    c["tradeId"].as_str().unwrap().to_owned()
}

/// Trade material asked about collection `trade_id` (the `whalet.trade_replenish.requested`
/// trigger); returns the trigger's answer (replenishId, freezeAmount).
pub async fn trade_material_requested(app: &TestApp, trade_id: &str) -> Value {
    trigger(
        app,
        "whalet.trade_replenish.requested",
        json!({"tradeId": trade_id}),
    )
    .await
}

/// An onboarded user (`out_user_id`) with an open B2B USD account `out_card_id` on
/// SIM_US_LOCAL (applied, then 10 s for it to open). Returns (userId, cardId).
pub async fn b2b_card(app: &TestApp, out_user_id: &str, out_card_id: &str) -> (String, String) {
    let user = onboarded_user(app, out_user_id).await;
    let card = expect(
        app,
        "b2bVirtualAccountApply",
        json!({"userId": user, "outCardId": out_card_id, "channelCode": "SIM_US_LOCAL", "currency": "USD"}),
        "PROCESSING",
    )
    .await;
    app.advance(10.0).await;
    (user, card["cardId"].as_str().unwrap().to_owned())
}

/// An approved (30 s review) HK beneficiary account holding `currency`.
pub async fn approved_beneficiary(
    app: &TestApp,
    user_id: &str,
    out_id: &str,
    currency: &str,
) -> String {
    let body = expect(
        app,
        "benificiaryAccountApply",
        json!({"userId": user_id, "outBeneficiaryId": out_id, "country": "HK", "currency": currency,
               "accountName": "Supplier Ltd", "accountNo": "012345678901", "bankName": "Example Bank HK",
               "bankCode": "004", "swiftCode": "EXAMHKHH"}),
        "PROCESSING",
    )
    .await;
    let id = body["beneficiaryId"].as_str().unwrap().to_owned();
    app.advance(30.0).await;
    let n = received_about(app, "benificiaryAccountNotify", "beneficiaryId", &id).await;
    assert_eq!(n["status"], "SUCCESS", "{n}");
    id
}

/// The available/frozen balance (as `cent`) of one currency.
pub async fn cents(app: &TestApp, user_id: &str, fund: &str, currency: &str) -> (i64, i64) {
    let row = crate::whalet_support::balance(app, user_id, fund, currency).await;
    (
        row["balance"]["cent"].as_i64().unwrap(),
        row["freezeAmount"]["cent"].as_i64().unwrap(),
    )
}

/// The demo partner's upload token for `timestamp` (ms).
pub fn file_token(timestamp: i64) -> String {
    let key = PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap();
    hex::encode(sign(
        &key,
        SignatureHash::Sha1,
        format!("{DEMO_PARTNER_ID}|{timestamp}").as_bytes(),
    ))
}

/// A multipart/form-data body with text fields and one file part.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----whaletsimtestboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads `bytes` as `name` with the given timestamp and token; returns the JSON reply.
pub async fn upload_with(
    app: &TestApp,
    name: &str,
    bytes: &[u8],
    timestamp: i64,
    token: &str,
) -> Value {
    let (ct, body) = form(name, bytes, timestamp, token);
    let (status, text) = app.post_raw("/file/upload", &ct, body).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The demo partner's `/file/upload` form for `name`: (content type, body).
fn form(name: &str, bytes: &[u8], timestamp: i64, token: &str) -> (String, Vec<u8>) {
    let ts = timestamp.to_string();
    multipart(
        &[
            ("partnerId", DEMO_PARTNER_ID),
            ("timestamp", &ts),
            ("token", token),
        ],
        Some((name, bytes)),
    )
}

/// [`form`] with a fresh timestamp and token, for a test that sends it its own way.
pub async fn fresh_form(app: &TestApp, name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let ts = now_ms(app).await;
    form(name, bytes, ts, &file_token(ts))
}

/// Uploads a file with a fresh token; returns `info {fileId, fileName, fileUrl}`.
pub async fn upload(app: &TestApp, name: &str, bytes: &[u8]) -> Value {
    let ts = now_ms(app).await;
    let reply = upload_with(app, name, bytes, ts, &file_token(ts)).await;
    assert_eq!(reply["code"], "SUCCESS", "{reply}");
    reply["info"].clone()
}

/// Uploads an invoice (`invoice.png`) and submits it as the trade material asked about
/// collection `trade_id` (with `memo` when given), answered PROCESSING.
pub async fn submit_invoice(app: &TestApp, user: &str, trade_id: &str, memo: Option<&str>) {
    let invoice = upload(app, "invoice.png", b"\x89PNG invoice").await;
    let mut body = json!({"userId": user, "tradeId": trade_id, "attaches": [invoice]});
    if let Some(memo) = memo {
        body["memo"] = json!(memo);
    }
    expect(app, "tradeReplenishSubmit", body, "PROCESSING").await;
}

/// Uploads `bytes` as `name` and submits it as the EDD material of request `rid` (with
/// `memo` when given), answered PROCESSING with status PROCESSING; returns the uploaded
/// file's `info`.
pub async fn submit_edd_file(
    app: &TestApp,
    user: &str,
    rid: &str,
    name: &str,
    bytes: &[u8],
    memo: Option<&str>,
) -> Value {
    let file = upload(app, name, bytes).await;
    let mut body = json!({"userId": user, "replenishId": rid, "fileIds": [file["fileId"]]});
    if let Some(memo) = memo {
        body["memo"] = json!(memo);
    }
    let sub = expect(app, "eddReplenishSubmit", body, "PROCESSING").await;
    assert_eq!(sub["status"], "PROCESSING", "{sub}");
    file
}

/// Completes `payout_id` by the `whalet.payout.succeeded` trigger, which must answer SUCCESS.
pub async fn payout_succeeded(app: &TestApp, payout_id: &str) {
    let n = trigger(
        app,
        "whalet.payout.succeeded",
        json!({"payoutId": payout_id}),
    )
    .await;
    assert_eq!(n["status"], "SUCCESS", "{n}");
}

/// The status `eddReplenishQuery` gives request `rid` of `user`.
pub async fn edd_status(app: &TestApp, user: &str, rid: &str) -> Value {
    let listed = expect(
        app,
        "eddReplenishQuery",
        json!({"userId": user, "replenishId": rid}),
        "SUCCESS",
    )
    .await;
    listed[0]["status"].clone()
}
