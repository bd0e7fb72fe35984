//! whalet-platform fixes of stop 51: plain-JSON mode counts a partner's requests against its
//! `rate_limit` as the envelope does; a platform IDEMPOTENT_ERROR says what the partner can do;
//! plain mode without a `partnerId` header acts for the partner the triggers default to, and says
//! the header was not sent when there is none; an API upload names a repeated tradeOrderId in the
//! same reply as the earlier row's problems; a whole-number field sent as a JSON number is refused
//! as a number; a material's payerName takes what the bulk payment's takes.

use serde_json::{json, Value};

use crate::helpers::{
    platform_client, repo_path, seal_text, second_partner_config, spawn_config, TestApp,
    SECOND_PARTNER,
};
use crate::platform::bind_body;

const PLAIN: &str = "[platform]\nauth = \"none\"\n";

/// `[[whalet.partners]]` text for partner `id` with the demo key pair and `extra` lines.
fn partner(id: &str, extra: &str) -> String {
    format!(
        "[[whalet.partners]]\npartner_id = \"{id}\"\npublic_key = \"@{}\"\n{extra}",
        repo_path("keys/demo-partner/public.pem")
    )
}

/// Posts `body` (JSON text) to plain-mode `/v1/platform/{operation}`, with header `partnerId`
/// when given; returns the HTTP status and the reply, whose `detail` is the whole diagnostic
/// (`X-Whalet-Sim-Diagnostic` when the wire detail was cut).
async fn plain(
    app: &TestApp,
    operation: &str,
    partner_id: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut post = reqwest::Client::new()
        .post(format!("{}/v1/platform/{operation}", app.url))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(id) = partner_id {
        post = post.header("partnerId", id);
    }
    let r = post.send().await.unwrap();
    let status = r.status().as_u16();
    let whole = r
        .headers()
        .get("x-whalet-sim-diagnostic")
        .map(|v| v.to_str().unwrap().to_owned());
    let mut reply: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    if let Some(whole) = whole {
        reply["detail"] = whole.into();
    }
    (status, reply)
}

/// Regression (plat 1): plain mode never called the partner's rate limit, so a partner with
/// `rate_limit = 2` got HTTP 200 for every request while its Open API calls were refused. The
/// third request within a second is now TOO_MANY_REQUESTS with HTTP 429, as plain mode's refusal
/// table lists; a partner without a limit is not limited.
#[tokio::test]
async fn plain_mode_counts_requests_against_the_partners_rate_limit() {
    let app = spawn_config(&format!("{PLAIN}{}", partner("RL", "rate_limit = 2\n"))).await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(plain(&app, "balanceQuery", Some("RL"), "{}").await);
    }
    assert_eq!(answers[0].0, 200, "{:?}", answers[0]);
    assert_eq!(answers[1].0, 200, "{:?}", answers[1]);
    let (status, reply) = &answers[2];
    assert_eq!(*status, 429, "{reply}");
    assert_eq!(reply["code"], "TOO_MANY_REQUESTS", "{reply}");
    assert_eq!(
        reply["detail"],
        "more than 2 requests per second from this partner"
    );
    for _ in 0..3 {
        let (status, reply) = plain(&app, "balanceQuery", None, "{}").await;
        assert_eq!(status, 200, "the demo partner has no limit: {reply}");
    }
    app.shutdown().await;
}

/// Regression (plat 3): paymentApply and shopAccountBind answered other content under a used id
/// with "… was already used with different content" alone; they now say what the partner can
/// do, in the Open API's words.
#[tokio::test]
async fn a_platform_idempotent_error_says_what_the_partner_can_do() {
    let app = spawn_config(PLAIN).await;
    let bind = bind_body("B1", "S1");
    let (status, reply) = plain(&app, "shopAccountBind", None, &bind.to_string()).await;
    assert_eq!(status, 200, "{reply}");
    let mut other = bind.clone();
    other["shopName"] = json!("Another Name");
    let (status, reply) = plain(&app, "shopAccountBind", None, &other.to_string()).await;
    assert_eq!((status, &reply["code"]), (409, &json!("IDEMPOTENT_ERROR")));
    assert_eq!(
        reply["detail"],
        "bindId \"B1\" was already used with different content; send the original content to \
         get the original result, or use a new bindId"
    );
    app.trigger_ok("platform.binding.approved", json!({"bindId": "B1"}))
        .await;
    app.trigger_ok(
        "platform.bulk_payment.received",
        json!({"amount": "100.00", "currency": "USD"}),
    )
    .await;
    let pay = |amount: &str| {
        json!({"paymentId": "P1", "shopId": "S1", "currency": "USD", "amount": amount}).to_string()
    };
    let (status, reply) = plain(&app, "paymentApply", None, &pay("10.00")).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = plain(&app, "paymentApply", None, &pay("10.01")).await;
    assert_eq!((status, &reply["code"]), (409, &json!("IDEMPOTENT_ERROR")));
    assert_eq!(
        reply["detail"],
        "paymentId \"P1\" was already used with different content; send the original content \
         to get the original result, or use a new paymentId"
    );
    app.finish().await;
}

/// Regression (plat 4): without a `partnerId` header plain mode acted for the demo partner's id
/// even with the demo partner switched off (PARTNER_NOT_EXIST blaming "(header partnerId)", a
/// header never sent), while the triggers act for the only partner. Both now act for the same
/// partner; with none to assume, the refusal says the header was not sent and which partners
/// are configured.
#[tokio::test]
async fn plain_mode_without_a_partner_header_acts_for_the_triggers_default_partner() {
    let only = spawn_config(&format!(
        "{PLAIN}[whalet]\ndemo_partner = false\n{}",
        partner("P2ONLY", "")
    ))
    .await;
    // The trigger names no partner: it acts for the only one; so does the request.
    only.trigger_ok(
        "platform.bulk_payment.received",
        json!({"amount": "5.00", "currency": "USD"}),
    )
    .await;
    let (status, reply) = plain(&only, "balanceQuery", None, r#"{"currency":"USD"}"#).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["balances"][0]["availableAmount"], "5.00", "{reply}");
    only.shutdown().await;

    let two = spawn_config(&format!(
        "{PLAIN}[whalet]\ndemo_partner = false\n{}{}",
        partner("PA", ""),
        partner("PB", "")
    ))
    .await;
    let (status, reply) = plain(&two, "balanceQuery", None, "{}").await;
    assert_eq!((status, &reply["code"]), (401, &json!("PARTNER_NOT_EXIST")));
    let detail = reply["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("no partnerId header was sent: the demo partner is not configured"),
        "{detail}"
    );
    assert!(detail.contains("PA") && detail.contains("PB"), "{detail}");
    assert!(!detail.contains("(header partnerId)"), "{detail}");
    // A header naming no partner still says it was the header.
    let (_, reply) = plain(&two, "balanceQuery", Some("PX"), "{}").await;
    let detail = reply["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(
            "no partner with partnerId \"PX\" is configured (header partnerId); the configured \
             partners: "
        ) && detail.contains("PA")
            && detail.contains("PB"),
        "{detail}"
    );
    two.shutdown().await;

    // With the demo partner on, a request without the header still acts for it, as a trigger
    // naming no partner does.
    let demo = spawn_config(&format!("{PLAIN}{}", second_partner_config())).await;
    for params in [
        json!({"amount": "7.00", "currency": "USD", "partnerId": SECOND_PARTNER}),
        json!({"amount": "3.00", "currency": "USD"}),
    ] {
        demo.trigger_ok("platform.bulk_payment.received", params)
            .await;
    }
    let (status, reply) = plain(&demo, "balanceQuery", None, r#"{"currency":"USD"}"#).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["balances"][0]["availableAmount"], "3.00", "{reply}");
    demo.shutdown().await;
}

/// A material's fields but `tradeOrderId`, as JSON text without braces.
const MATERIAL: &str = r#""tradeOrderNo":"OR1","tradeTime":"2026-02-28 10:00:00","tradeCurrency":"CNY","tradeAmount":"39.68","tradeName":"Lamp","payerName":"Ivan","payerCountryCode":"RU""#;

/// Uploads one shop's `rows` (JSON texts of the materials) in plain mode; status and reply.
async fn upload(app: &TestApp, rows: &[String]) -> (u16, Value) {
    let body = format!(r#"{{"shopId":"S1","materials":[{}]}}"#, rows.join(","));
    plain(app, "tradeMaterialsUpload", None, &body).await
}

/// Regression (plat 5): a repeated tradeOrderId was named only once the earlier row was valid,
/// so an upload whose first row was bad needed a second round trip to learn of the repeat. One
/// reply names both now.
#[tokio::test]
async fn an_api_upload_names_a_repeated_order_in_the_same_reply_as_the_earlier_rows_problem() {
    let app = spawn_config(PLAIN).await;
    let good = format!(r#"{{"tradeOrderId":"A","tradeType":0,"tradeCount":1,{MATERIAL}}}"#);
    let rows = [
        good.replace(r#""tradeName":"Lamp""#, r#""tradeName":"""#),
        good,
    ];
    let (status, reply) = upload(&app, &rows).await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(
        reply["detail"],
        "materials[0].tradeName must not be empty; \
         materials[1].tradeOrderId: \"A\" appears again (first at materials[0])"
    );
    app.shutdown().await;
}

/// Regression (plat 6): `tradeCount` or `tradeType` sent as the JSON number `1e0` or `-0` was
/// refused with the message of a string, the number quoted as text ("in digits 0-9 (no sign or
/// spaces), got \"1e0\""); it now gets a number's message, in plain and envelope mode alike.
/// The same characters sent as a string keep the string's. A material's payerName takes 256
/// characters, as the bulk payment's does.
#[tokio::test]
async fn a_whole_number_field_sent_as_a_json_number_is_refused_as_a_number() {
    let app = spawn_config(PLAIN).await;
    let row = |count: &str, trade_type: &str| {
        format!(
            r#"{{"tradeOrderId":"A","tradeType":{trade_type},"tradeCount":{count},{MATERIAL}}}"#
        )
    };
    let cases = [
        (
            row("1e0", "0"),
            "materials[0].tradeCount must be a whole number written without a decimal point or exponent",
        ),
        (
            row("1", "-0"),
            "materials[0].tradeType must be a whole number written without a sign (0, not -0)",
        ),
        (
            row("1.0000000000000001", "0"),
            "materials[0].tradeCount must be a whole number written without a decimal point or exponent",
        ),
        (
            row(r#""1e0""#, "0"),
            "materials[0].tradeCount must be a whole number in digits 0-9 (no sign or spaces), got \"1e0\"",
        ),
        (
            row("1", r#""-0""#),
            "materials[0].tradeType must be a whole number in digits 0-9 (no sign or spaces), got \"-0\"",
        ),
    ];
    for (material, expected) in &cases {
        let (status, reply) = upload(&app, std::slice::from_ref(material)).await;
        assert_eq!(status, 400, "{material}: {reply}");
        assert_eq!(reply["detail"], *expected, "{material}");
    }
    // The envelope: the decrypted text's numbers as written, too.
    let text = format!(r#"{{"shopId":"S1","materials":[{}]}}"#, row("1e0", "0"));
    let op = "tradeMaterialsUpload";
    let envelope = spawn_config("").await;
    let sealed = seal_text(&envelope, (op, "FPLAT51-1"), text.as_bytes(), |k| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(k)
            .into_bytes()
    });
    let reply = platform_client(&envelope, op)
        .send_raw(sealed)
        .await
        .unwrap();
    assert_eq!(
        (reply.code.as_str(), reply.detail.as_str()),
        ("PARAMETER_ERROR", cases[0].1)
    );
    envelope.shutdown().await;

    // payerName: 256 characters are taken, 257 refused naming the limit.
    let named = |n: usize| {
        row("1", "0").replace(
            r#""payerName":"Ivan""#,
            &format!(r#""payerName":"{}""#, "N".repeat(n)),
        )
    };
    let (status, reply) = upload(&app, &[named(256)]).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = upload(&app, &[named(257)]).await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(
        reply["detail"],
        "materials[0].payerName is 257 characters long; at most 256 are allowed"
    );
    app.shutdown().await;
}
