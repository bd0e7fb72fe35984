//! Near misses named for what they are: a Pockyt `verifySign` that is no MD5 (its leading zeros
//! dropped, the wrong length, a character that is no hex digit) is refused saying so, not blamed
//! on the string or the token; an Infinia Base64 field names a character it may not hold as the
//! partner sent it, at its position in characters. And the recorded choice that a body is read
//! as JSON whatever its Content-Type says (docs/FIDELITY.md).

use serde_json::{json, Map, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::infinia::support::Merchant;
use crate::pockyt_support::{sign, signed, MERCHANT, STORE, TOKEN};

/// Balance-query fields (signed by the independent test signer) whose right `verifySign`
/// starts with exactly one `0`: the timestamp's seconds are tried until one does.
fn fields_whose_sign_has_one_leading_zero() -> (Map<String, Value>, String) {
    for minute in 0..60 {
        for second in 0..60 {
            let mut fields = Map::new();
            fields.insert("merchantNo".into(), json!(MERCHANT));
            fields.insert("storeNo".into(), json!(STORE));
            let ts = format!("2025-01-01T00:{minute:02}:{second:02}Z");
            fields.insert("timestamp".into(), json!(ts));
            let right = sign(&fields, TOKEN);
            if right.starts_with('0') && !right.starts_with("00") {
                return (fields, right);
            }
        }
    }
    unreachable!("one MD5 in 16 starts with a single 0")
}

/// Posts the balance query with `verify_sign`; answers `ret_msg` after checking `000030`.
async fn refused_sign(app: &TestApp, fields: &Map<String, Value>, verify_sign: &str) -> String {
    let mut body = fields.clone();
    body.insert("verifySign".into(), json!(verify_sign));
    let (status, reply) = app.post("/v3/payouts/balance", &Value::Object(body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["ret_code"], "000030", "{verify_sign:?}: {reply}");
    reply["ret_msg"].as_str().unwrap().to_owned()
}

#[track_caller]
fn assert_mentions(text: &str, part: &str) {
    assert!(text.contains(part), "{text:?} does not mention {part:?}");
}

#[track_caller]
fn assert_not_blamed_on_the_token(msg: &str) {
    assert!(!msg.contains("token differs"), "{msg}");
    assert!(!msg.contains("mismatch"), "{msg}");
}

#[tokio::test]
async fn a_verify_sign_without_its_leading_zero_is_named_so() {
    let app = spawn_app().await;
    let (fields, right) = fields_whose_sign_has_one_leading_zero();
    // BigInteger(1, md5).toString(16): the same digits, the leading 0 gone.
    let java = right.trim_start_matches('0');
    let msg = refused_sign(&app, &fields, java).await;
    assert_mentions(&msg, "is 31 characters long");
    assert_mentions(&msg, "an MD5 is 32 hex digits");
    assert_mentions(&msg, "the right MD5 with its leading zero dropped");
    assert_mentions(&msg, "format every byte as two hex digits");
    assert_not_blamed_on_the_token(&msg);
    // In upper case and with a newline after it, each mistake is named.
    let msg = refused_sign(&app, &fields, &format!("{}\n", java.to_uppercase())).await;
    assert_mentions(&msg, "leading zero dropped");
    assert_mentions(&msg, "white space around it");
    assert_mentions(&msg, "lower-case");
    // The right value is still accepted.
    let mut body = fields.clone();
    body.insert("verifySign".into(), json!(right));
    let (_, reply) = app.post("/v3/payouts/balance", &Value::Object(body)).await;
    assert_eq!(reply["ret_code"], "000100", "{reply}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_verify_sign_that_is_no_md5_says_its_length_or_its_character() {
    let app = spawn_app().await;
    let body = signed(json!({}));
    let fields = body.as_object().unwrap().clone();
    let right = fields["verifySign"].as_str().unwrap().to_owned();
    let mut fields = fields;
    fields.remove("verifySign");

    // A SHA-1 is 40 hex digits, not the right MD5 written another way.
    let sha1 = "a".repeat(40);
    let msg = refused_sign(&app, &fields, &sha1).await;
    assert_mentions(&msg, "verifySign is 40 characters long");
    assert_mentions(&msg, "an MD5 is 32 hex digits");
    assert_not_blamed_on_the_token(&msg);
    // The string to sign is still shown (never the token).
    assert_mentions(&msg, "merchantNo=202333&storeNo=301854&timestamp=");
    assert!(!msg.contains(TOKEN), "{msg}");

    // 32 characters, one of them no hex digit: named with its position.
    let mut z = right.clone();
    z.replace_range(5..6, "z");
    let msg = refused_sign(&app, &fields, &z).await;
    assert_mentions(&msg, "has invalid character 'z' at position 5");
    assert!(!msg.contains("characters long"), "{msg}");
    assert_not_blamed_on_the_token(&msg);

    // A non-ASCII character is named as sent, at its position in characters.
    let accented = format!("{}é{}", &right[..3], &right[4..]);
    let msg = refused_sign(&app, &fields, &accented).await;
    assert_mentions(&msg, "has invalid character 'é' at position 3");
    assert!(!msg.contains("characters long"), "{msg}");

    // Both at once: a prefix makes it 33 characters with an 'x' first.
    let msg = refused_sign(&app, &fields, &format!("x{right}")).await;
    assert_mentions(
        &msg,
        "verifySign is 33 characters long and has invalid character 'x' at position 0",
    );

    // A wrong value of the right shape is still a plain mismatch.
    let msg = refused_sign(&app, &fields, &"0".repeat(32)).await;
    assert_mentions(&msg, "verifySign mismatch");
    app.shutdown().await;
}

/// Posts an Infinia envelope whose `requestData` and `signature` are given; answers `message`
/// after checking SYS-005.
async fn infinia_format_refusal(app: &TestApp, request_data: &str, signature: &str) -> String {
    let body = json!({"version": "1.0", "appId": "demo-app", "dataType": "JSON",
                      "requestData": request_data, "signature": signature});
    let (status, reply) = app.post("/api/v1/account-balance/query", &body).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["code"], "SYS-005", "{reply}");
    reply["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn infinia_base64_errors_name_the_character_as_sent_at_its_character_position() {
    let app = spawn_app().await;
    for (sent, named) in [
        ("éAAA", "invalid character 'é' at position 0"),
        ("€AAA", "invalid character '€' at position 0"),
        ("AAé=", "invalid character 'é' at position 2"),
        ("AA\u{200b}A", "invalid character '\\u{200b}' at position 2"),
    ] {
        let msg = infinia_format_refusal(&app, sent, "AAAA").await;
        assert_mentions(
            &msg,
            &format!("requestData is not standard Base64: {named}"),
        );
        let msg = infinia_format_refusal(&app, "AAAA", sent).await;
        assert_mentions(&msg, &format!("signature is not standard Base64: {named}"));
    }
    // White space after a character of two UTF-8 bytes: its position in characters (3), not
    // in bytes (4).
    let msg = infinia_format_refusal(&app, "éAA\nA", "AAAA").await;
    assert_mentions(&msg, "invalid character '\\n' at position 3: white space");
    // URL-safe Base64 is still told apart.
    let msg = infinia_format_refusal(&app, "AB-_", "AAAA").await;
    assert_mentions(
        &msg,
        "invalid character '-' at position 2 (URL-safe Base64? use + and /)",
    );
    app.shutdown().await;
}

/// Posts `body` to `path` with `content_type` (`None`: no Content-Type header at all).
async fn post_as(app: &TestApp, path: &str, content_type: Option<&str>, body: Vec<u8>) -> String {
    let mut request = reqwest::Client::new().post(format!("{}{path}", app.url));
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let reply = request.body(body).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    reply.text().await.unwrap()
}

const NOT_JSON_TYPES: [Option<&str>; 4] = [
    None,
    Some("text/plain"),
    Some("application/xml"),
    Some("multipart/form-data; boundary=x"),
];

#[tokio::test]
async fn an_infinia_envelope_is_read_as_json_whatever_its_content_type() {
    let app = spawn_app().await;
    let m = Merchant::demo();
    let sealed = whalet_sim::wire::infinia::seal_request(
        "1.0",
        &m.app_id,
        &json!({}),
        &m.key,
        &m.infinia,
        m.alg,
    )
    .unwrap()
    .to_json();
    for content_type in NOT_JSON_TYPES {
        let text = post_as(
            &app,
            "/api/v1/account-balance/query",
            content_type,
            sealed.clone(),
        )
        .await;
        let reply =
            whalet_sim::wire::infinia::open_reply(text.as_bytes(), &m.key, &m.infinia, m.alg)
                .unwrap();
        assert_eq!(reply.code, "SUC-200", "{content_type:?}: {}", reply.message);
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_pockyt_body_not_sent_as_a_form_is_read_as_json_whatever_its_content_type() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&signed(json!({}))).unwrap();
    for content_type in NOT_JSON_TYPES {
        let text = post_as(&app, "/v3/payouts/balance", content_type, body.clone()).await;
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reply["ret_code"], "000100", "{content_type:?}: {reply}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_whalet_or_platform_envelope_is_read_as_json_whatever_its_content_type() {
    let app = spawn_app().await;
    let body = json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "x"});
    for (i, content_type) in NOT_JSON_TYPES.into_iter().enumerate() {
        let sealed = app
            .client
            .seal("connectivity", &format!("FW49-CT-{i}"), &body);
        let text = post_as(&app, "/api", content_type, sealed).await;
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            reply["head"]["code"], "SUCCESS",
            "{content_type:?}: {reply}"
        );
        let platform = crate::helpers::platform_client(&app, "balanceQuery");
        let sealed = platform.seal("balanceQuery", &format!("FW49-PL-{i}"), &json!({}));
        let text = post_as(&app, "/v1/platform/balanceQuery", content_type, sealed).await;
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            reply["head"]["code"], "SUCCESS",
            "{content_type:?}: {reply}"
        );
    }
    app.shutdown().await;
}
