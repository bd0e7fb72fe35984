//! whalet-platform refusals follow the Open API's rules (docs/FIDELITY.md): in envelope mode a
//! refusal after the partner's signature verified is a signed head-only reply (unsigned before);
//! in plain-JSON mode the wire `detail` is cut to `[whalet] detail_max_chars` with the whole
//! diagnostic in `X-Whalet-Sim-Diagnostic`.

use serde_json::{json, Value};
use whalet_sim::wire::crypto;
use whalet_sim::wire::keys::{demo, PublicKey};
use whalet_sim::wire::whalet::{self as envelope, Echo};

use crate::helpers::{platform_client, spawn_app, spawn_with, Setup, TestApp};

/// Posts `body` to `/v1/platform/{operation}`; returns status, diagnostic header, reply JSON.
async fn post(app: &TestApp, operation: &str, body: Vec<u8>) -> (u16, Option<String>, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/platform/{operation}", app.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let header = r
        .headers()
        .get("x-whalet-sim-diagnostic")
        .map(|v| v.to_str().unwrap().to_owned());
    let json = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    (status, header, json)
}

/// The head's signature verifies with the platform's public key over the head-only string.
fn signed_head_only(reply: &Value) -> bool {
    let head = &reply["head"];
    let text = |n: &str| head[n].as_str().unwrap_or_default().to_owned();
    let echo = Echo {
        partner_id: text("partnerId"),
        api_code: text("apiCode"),
        request_no: text("requestNo"),
        version: text("version"),
    };
    let Some(sign) = head["sign"].as_str() else {
        return false;
    };
    let string = envelope::reply_sign_string(&echo, &text("code"), &text("detail"), None);
    crypto::verify(
        &PublicKey::parse(demo::PLATFORM_PUBLIC).unwrap(),
        crypto::SignatureHash::Sha1,
        string.as_bytes(),
        &hex::decode(sign).unwrap(),
    )
}

#[tokio::test]
async fn authenticated_platform_refusals_are_signed_head_only() {
    let app = spawn_app().await;
    let op = "tradeMaterialsUpload";
    let client = platform_client(&app, op);
    // Authenticated, refused by the operation.
    let sealed = client.seal(op, "PF-SIGNED-1", &json!({"shopId": "1", "materials": []}));
    let (_, _, reply) = post(&app, op, sealed).await;
    assert_eq!(reply["head"]["code"], "PARAMETER_ERROR", "{reply}");
    assert!(reply.get("body").is_none(), "{reply}");
    assert!(signed_head_only(&reply), "{reply}");
    // Authenticated, refused by the pipeline (the same requestNo again).
    let sealed = client.seal(op, "PF-SIGNED-1", &json!({"shopId": "1", "materials": []}));
    let (_, _, reply) = post(&app, op, sealed).await;
    assert_eq!(reply["head"]["code"], "REQUEST_NO_NOT_UNIQUE", "{reply}");
    assert!(signed_head_only(&reply), "{reply}");
    // Not authenticated (a forged signature, an unknown partner): unsigned.
    let sealed = client.seal(op, "PF-SIGNED-2", &json!({}));
    let (_, _, reply) = post(&app, op, envelope::corrupt_sign(&sealed)).await;
    assert_eq!(reply["head"]["code"], "UNAUTHENTICATED_ERROR", "{reply}");
    assert!(reply["head"].get("sign").is_none(), "{reply}");
    let mut stranger = client.clone();
    stranger.partner_id = "999".into();
    let (_, _, reply) = post(&app, op, stranger.seal(op, "PF-SIGNED-3", &json!({}))).await;
    assert_eq!(reply["head"]["code"], "PARTNER_NOT_EXIST", "{reply}");
    assert!(reply["head"].get("sign").is_none(), "{reply}");
    app.shutdown().await;
}

#[tokio::test]
async fn plain_json_refusals_cut_detail_and_send_the_diagnostic_header() {
    let app = spawn_with(Setup {
        config: Some("[platform]\nauth = \"none\"\n".into()),
        ..Setup::default()
    })
    .await;
    // Ten bad rows: a diagnostic far over 256 characters.
    let rows: Vec<Value> = (0..10)
        .map(|i| json!({"tradeOrderId": format!("T{i}")}))
        .collect();
    let body = serde_json::to_vec(&json!({"shopId": "1", "materials": rows})).unwrap();
    let (status, header, reply) = post(&app, "tradeMaterialsUpload", body).await;
    assert_eq!((status, &reply["code"]), (400, &json!("PARAMETER_ERROR")));
    let wire = reply["detail"].as_str().unwrap();
    assert_eq!(wire.chars().count(), 256, "{wire}");
    assert!(wire.ends_with('…'), "{wire}");
    let journal = app.get_json("/__sim/requests?surface=platform").await;
    let full = journal["requests"][0]["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(full.chars().count() > 256 && full.starts_with(wire.trim_end_matches('…')));
    let header = header.expect("the diagnostic header");
    assert!(
        header.starts_with("materials[0].tradeOrderNo is required"),
        "{header}"
    );
    // A short refusal goes out whole, without the header.
    let (status, header, reply) = post(&app, "tradeMaterialsUpload", b"{}".to_vec()).await;
    assert_eq!((status, header), (400, None));
    assert_eq!(reply["detail"], "shopId is required; materials is required");
    app.shutdown().await;
}

/// A whole number past the `i64` range is refused as too large, naming the limit, and the
/// number is never echoed as serde_json reformats it (`100000000000000000000` read as an `f64`
/// prints `1e+20`, text the client never sent).
#[tokio::test]
async fn a_too_large_whole_number_is_refused_as_too_large_without_a_rewritten_echo() {
    let app = spawn_with(Setup {
        config: Some("[platform]\nauth = \"none\"\n".into()),
        ..Setup::default()
    })
    .await;
    let row = json!({"tradeOrderId": "1", "tradeOrderNo": "OR1", "tradeType": 0,
        "tradeTime": "2024-12-30 10:15:00", "tradeCurrency": "CNY", "tradeAmount": "39.68",
        "tradeName": "Desk lamp", "tradeCount": "COUNT", "payerName": "buyer-77",
        "payerCountryCode": "RU"});
    let template = json!({"shopId": "1", "materials": [row]}).to_string();
    let too_large = "materials[0].tradeCount is too large: at most 9223372036854775807";
    for count in [
        "100000000000000000000",
        "9223372036854775808",
        "\"100000000000000000000\"",
    ] {
        let body = template.replace("\"COUNT\"", count);
        let (status, _, reply) = post(&app, "tradeMaterialsUpload", body.into_bytes()).await;
        assert_eq!((status, &reply["code"]), (400, &json!("PARAMETER_ERROR")));
        assert_eq!(reply["detail"], too_large, "{count}");
    }
    let body = template.replace("\"COUNT\"", "2.50");
    let (_, _, reply) = post(&app, "tradeMaterialsUpload", body.into_bytes()).await;
    assert_eq!(
        reply["detail"],
        "materials[0].tradeCount must be a whole number, not a fraction"
    );
    app.shutdown().await;
}

/// A country code of the right shape that ISO 3166-1 does not assign (`XX`, `UK`) is refused
/// like any malformed field, naming the field and the value; the refused binding or upload stores
/// nothing, and the real code (`GB`) then goes through.
#[tokio::test]
async fn a_country_code_that_iso_3166_does_not_assign_is_refused() {
    use crate::helpers::platform_call;
    let app = spawn_app().await;
    let mut bind = crate::platform::bind_body("B-COUNTRY", "SHOP-COUNTRY");
    for code in ["XX", "UK"] {
        bind["legalEntity"]["countryCode"] = json!(code);
        let (reply, detail, _) = platform_call(&app, "shopAccountBind", &bind).await;
        assert_eq!(reply, "PARAMETER_ERROR", "{code}: {detail}");
        assert_eq!(
            detail,
            format!(
                "legalEntity.countryCode \"{code}\" is not an ISO 3166-1 country code \
                 (use an assigned one, such as CN)"
            )
        );
    }
    // Nothing was stored: the same bindId with other content is a first request, not a conflict.
    bind["legalEntity"]["countryCode"] = json!("GB");
    let (reply, detail, _) = platform_call(&app, "shopAccountBind", &bind).await;
    assert_eq!(reply, "SUCCESS", "{detail}");

    let mut row = json!({"tradeOrderId": "T-COUNTRY", "tradeOrderNo": "OR1", "tradeType": 0,
        "tradeTime": "2024-12-30 10:15:00", "tradeCurrency": "CNY", "tradeAmount": "39.68",
        "tradeName": "Desk lamp", "tradeCount": 1, "payerName": "buyer-77",
        "payerCountryCode": "ZZ"});
    let upload = |row: &Value| json!({"shopId": "SHOP-COUNTRY", "materials": [row]});
    let (reply, detail, _) = platform_call(&app, "tradeMaterialsUpload", &upload(&row)).await;
    assert_eq!(reply, "PARAMETER_ERROR", "{detail}");
    assert_eq!(
        detail,
        "materials[0].payerCountryCode \"ZZ\" is not an ISO 3166-1 country code \
         (use an assigned one, such as RU)"
    );
    row["payerCountryCode"] = json!("GB");
    let (reply, detail, _) = platform_call(&app, "tradeMaterialsUpload", &upload(&row)).await;
    assert_eq!(reply, "SUCCESS", "{detail}");
    app.shutdown().await;
}

/// Regression: in plain mode the `requestNo` header had no length check (31 characters went
/// through) and an empty one was silently replaced by a made-up number. It now follows the
/// envelope's `head.requestNo` rules: 1 to 30 characters, `PARAM_FORMAT_ERROR` otherwise; only a
/// header left out is made up.
#[tokio::test]
async fn a_plain_request_no_header_follows_the_envelope_rules() {
    let app = spawn_with(Setup {
        config: Some("[platform]\nauth = \"none\"\n".into()),
        ..Setup::default()
    })
    .await;
    let query = |request_no: Option<String>| {
        let mut post = reqwest::Client::new()
            .post(format!("{}/v1/platform/balanceQuery", app.url))
            .header("content-type", "application/json")
            .body("{}");
        if let Some(no) = request_no {
            post = post.header("requestNo", no);
        }
        async move {
            let r = post.send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.bytes().await.unwrap();
            (status, serde_json::from_slice::<Value>(&body).unwrap())
        }
    };
    let (status, reply) = query(Some("R".repeat(31))).await;
    assert_eq!(
        (status, &reply["code"]),
        (400, &json!("PARAM_FORMAT_ERROR")),
        "{reply}"
    );
    assert_eq!(
        reply["detail"],
        "header requestNo is 31 characters long; at most 30 are allowed"
    );
    let (status, reply) = query(Some(String::new())).await;
    assert_eq!(
        (status, &reply["code"]),
        (400, &json!("PARAM_FORMAT_ERROR")),
        "{reply}"
    );
    assert!(
        reply["detail"]
            .as_str()
            .unwrap()
            .starts_with("header requestNo is empty"),
        "{reply}"
    );
    // 30 characters go through, once; a header left out is made up each time.
    let thirty = "R".repeat(30);
    let (status, reply) = query(Some(thirty.clone())).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = query(Some(thirty)).await;
    assert_eq!(
        (status, &reply["code"]),
        (409, &json!("REQUEST_NO_NOT_UNIQUE")),
        "{reply}"
    );
    for _ in 0..2 {
        let (status, reply) = query(None).await;
        assert_eq!(status, 200, "{reply}");
    }
    app.shutdown().await;
}

/// In plain mode a `partnerId` or `requestNo` header with bytes past ASCII is read as sent (it
/// used to be dropped, so the request ran as the demo partner with a made-up requestNo), and
/// one of them sent twice is refused rather than read as its first value.
#[tokio::test]
async fn plain_headers_are_read_as_sent_and_once() {
    let app = spawn_with(Setup {
        config: Some("[platform]\nauth = \"none\"\n".into()),
        ..Setup::default()
    })
    .await;
    let query = |headers: Vec<(&'static str, &'static [u8])>| {
        let mut post = reqwest::Client::new()
            .post(format!("{}/v1/platform/balanceQuery", app.url))
            .header("content-type", "application/json")
            .body("{}");
        for (name, value) in headers {
            post = post.header(
                name,
                reqwest::header::HeaderValue::from_bytes(value).unwrap(),
            );
        }
        async move {
            let r = post.send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.bytes().await.unwrap();
            (status, serde_json::from_slice::<Value>(&body).unwrap())
        }
    };
    let (_, reply) = query(vec![("partnerId", "99é".as_bytes())]).await;
    assert_eq!(reply["code"], "PARTNER_NOT_EXIST", "{reply}");
    let once = vec![("requestNo", "réé".as_bytes())];
    let (status, reply) = query(once.clone()).await;
    assert_eq!(status, 200, "{reply}");
    let (_, reply) = query(once).await;
    assert_eq!(reply["code"], "REQUEST_NO_NOT_UNIQUE", "{reply}");
    for name in ["partnerId", "requestNo"] {
        let twice = vec![
            (name, b"202400000000001".as_slice()),
            (name, b"999".as_slice()),
        ];
        let (status, reply) = query(twice).await;
        assert_eq!(
            (status, &reply["code"]),
            (400, &json!("PARAM_FORMAT_ERROR")),
            "{name}: {reply}"
        );
        assert_eq!(
            reply["detail"],
            format!("header {name} is sent 2 times; send it once")
        );
    }
    app.shutdown().await;
}

/// Regression: plain mode (`[platform] auth = "none"`) ran a whole Whalet envelope as a business
/// body without its fields (`balanceQuery` answered 200 with empty balances, `paymentApply` "every
/// field is required"). An envelope is now refused as what it is, PARAMETER_ERROR (HTTP 400),
/// and nothing runs; a business body still goes through.
#[tokio::test]
async fn plain_mode_refuses_a_whalet_envelope_naming_it() {
    let app = spawn_with(Setup {
        config: Some("[platform]\nauth = \"none\"\n".into()),
        ..Setup::default()
    })
    .await;
    let said = "this is a Whalet envelope or part of one";
    let how = "[platform] auth = \"none\" takes the business JSON in plain";
    for op in ["balanceQuery", "paymentApply"] {
        let sealed = platform_client(&app, op).seal(op, "PF-ENVELOPE-1", &json!({}));
        let (status, _, reply) = post(&app, op, sealed).await;
        assert_eq!(
            (status, &reply["code"]),
            (400, &json!("PARAMETER_ERROR")),
            "{op}: {reply}"
        );
        let detail = reply["detail"].as_str().unwrap();
        assert!(detail.starts_with(said), "{op}: {detail}");
        assert!(detail.contains(how), "{op}: {detail}");
    }
    // Regression: part of an envelope ran as an empty business body (no platform operation
    // has a field `head` or `body`).
    for body in [
        r#"{"body":{"encrypt":"00"}}"#,
        r#"{"head":{"apiCode":"balanceQuery"}}"#,
        r#"{"head":{"requestNo":"R1"},"body":{},"currency":"USD"}"#,
    ] {
        let (status, _, reply) = post(&app, "balanceQuery", body.into()).await;
        assert_eq!(status, 400, "{body}: {reply}");
        let detail = reply["detail"].as_str().unwrap();
        assert!(detail.starts_with(said), "{body}: {detail}");
    }
    // Business JSON whose `head` names none of the envelope's fields still runs.
    let (status, _, reply) = post(
        &app,
        "balanceQuery",
        r#"{"head":{"note":1},"currency":"USD"}"#.into(),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    app.shutdown().await;
}

/// Regression: envelope mode answered plain JSON with only "`head` is missing". A body that is
/// a JSON object without `head` now also says which mode the simulator runs in; any other
/// malformed envelope does not get the hint.
#[tokio::test]
async fn envelope_mode_hints_at_plain_json_sent_without_a_head() {
    let app = spawn_app().await;
    let hint = "(plain JSON? this simulator's [platform] auth is \"envelope\")";
    let body = serde_json::to_vec(&json!({"currency": "USD"})).unwrap();
    let (_, _, reply) = post(&app, "balanceQuery", body).await;
    assert_eq!(reply["head"]["code"], "PARAM_FORMAT_ERROR", "{reply}");
    let detail = reply["head"]["detail"].as_str().unwrap();
    assert!(detail.starts_with("`head` is missing"), "{detail}");
    assert!(detail.ends_with(hint), "{detail}");
    let (_, _, reply) = post(&app, "balanceQuery", b"{\"head\":5}".to_vec()).await;
    let detail = reply["head"]["detail"].as_str().unwrap();
    assert!(!detail.contains("plain JSON?"), "{detail}");
    // An envelope that lost only its head is no plain JSON.
    let headless = b"{\"body\":{\"encrypt\":\"00\"}}".to_vec();
    let (_, _, reply) = post(&app, "balanceQuery", headless).await;
    let detail = reply["head"]["detail"].as_str().unwrap();
    assert!(detail.starts_with("`head` is missing"), "{detail}");
    assert!(!detail.contains("plain JSON?"), "{detail}");
    app.shutdown().await;
}
