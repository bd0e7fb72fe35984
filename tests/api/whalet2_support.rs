//! Steps of the Whalet money-out flows (part 2), as a partner's test would take them: a funded
//! user, an approved payout beneficiary, an FX quote, and file uploads over multipart with a
//! token signed by the demo partner's key.

use serde_json::{json, Value};
use whalet_sim::wire::crypto::{sign, SignatureHash};
use whalet_sim::wire::keys::{demo, PrivateKey};

use crate::helpers::TestApp;
use crate::whalet_support::{expect, received_about, trigger};

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
    let c = trigger(
        app,
        "whalet.collection.received",
        json!({"cardId": card_id, "amount": amount}),
    )
    .await;
    app.advance(5.0).await;
    let trade_id = c["tradeId"].as_str().unwrap();
    let n = received_about(app, "collectionReceivedNotify", "tradeId", trade_id).await;
    assert_eq!(n["status"], "SUCCESS");
    (user_id, card_id, trade_id.to_owned())
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
    let ts = timestamp.to_string();
    let (ct, body) = multipart(
        &[
            ("partnerId", DEMO_PARTNER_ID),
            ("timestamp", &ts),
            ("token", token),
        ],
        Some((name, bytes)),
    );
    let (status, text) = app.post_raw("/file/upload", &ct, body).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Uploads a file with a fresh token; returns `info {fileId, fileName, fileUrl}`.
pub async fn upload(app: &TestApp, name: &str, bytes: &[u8]) -> Value {
    let ts = now_ms(app).await;
    let reply = upload_with(app, name, bytes, ts, &file_token(ts)).await;
    assert_eq!(reply["code"], "SUCCESS", "{reply}");
    reply["info"].clone()
}
