//! Pockyt `verifySign` and the request pipeline: the documented vector on the wire, requests
//! signed by the independent Python implementation, empty and null values signed either way,
//! precise `000030` refusals that never show the token, timestamps, and malformed input.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_with, Setup};
use crate::pockyt_support::{call, payee_fields, pockyt_py, sign, signed, MERCHANT, STORE, TOKEN};

/// Whether a payee with this email exists (asked through the API).
async fn has_payee(app: &crate::helpers::TestApp, email: &str) -> bool {
    let reply = call(app, "/v3/payee/retrieve", json!({"email": email})).await;
    reply["ret_code"] == "000100"
}

#[tokio::test]
async fn the_documented_vector_passes_verify_sign_on_the_wire() {
    let app = spawn_with(Setup {
        config: Some(
            "[[pockyt.merchants]]\nmerchant_no = \"200043\"\nstore_no = \"300014\"\ntoken = \"5cbfb079f15b150122261c8537086d77a\"\n".into(),
        ),
        ..Setup::default()
    })
    .await;
    let vectors: Value = serde_json::from_str(include_str!("../vectors/pockyt.json")).unwrap();
    let case = &vectors["cases"][0];
    assert_eq!(case["verify_sign"], "b6bfd66531ae7c9499115c7480a2c8aa");
    let mut body = case["params"].clone();
    body["verifySign"] = case["verify_sign"].clone();
    let (status, reply) = app.post("/v3/payouts/balance", &body).await;
    assert_eq!(status, 200);
    // The signature is accepted; the request then stops at the next check (no timestamp).
    assert_eq!(
        reply,
        json!({"ret_code": "000020", "ret_msg": "timestamp is required"})
    );
    body["verifySign"] = json!("b6bfd66531ae7c9499115c7480a2c8ab");
    let (_, reply) = app.post("/v3/payouts/balance", &body).await;
    assert_eq!(reply["ret_code"], "000030", "{reply}");
    let expected = case["string_to_sign"]
        .as_str()
        .unwrap()
        .replace(case["token_md5"].as_str().unwrap(), "{md5(token)}");
    let msg = reply["ret_msg"].as_str().unwrap();
    assert!(msg.contains(&expected), "{msg}");
    assert!(!msg.contains("5cbfb079f15b150122261c8537086d77a"), "{msg}");
    assert!(!msg.contains(case["token_md5"].as_str().unwrap()), "{msg}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_signed_by_the_python_implementation_are_accepted_both_ways() {
    // Dropping empty values is not the documented convention: opt in to accept it.
    let app = spawn_with(Setup {
        config: Some("[pockyt]\nlenient_sign_readings = [\"drop_empty\"]\n".into()),
        ..Setup::default()
    })
    .await;
    let url = format!("{}/v3/payee/register", app.url);
    for (email, drop_empty) in [("py1@example.com", false), ("py2@example.com", true)] {
        let mut fields = payee_fields(email);
        fields["merchantNo"] = json!(MERCHANT);
        fields["storeNo"] = json!(STORE);
        fields["timestamp"] = json!("2025-01-01T00:00:00Z");
        fields["street2"] = json!("");
        fields["firstName"] = json!("张 & Co=1");
        let params = fields.to_string();
        let mut args = vec!["call", "--url", &url, "--token", TOKEN, "--params", &params];
        if drop_empty {
            args.push("--drop-empty");
        }
        let (code, out) = pockyt_py(&args, "");
        assert_eq!(code, 0, "{out}");
        let reply: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(reply["ret_code"], "000100", "{reply}");
        assert_eq!(reply["customer"]["firstName"], "张 & Co=1");
    }
    // The same request as a form body.
    let mut fields = payee_fields("py3@example.com");
    fields["merchantNo"] = json!(MERCHANT);
    fields["storeNo"] = json!(STORE);
    fields["timestamp"] = json!("2025-01-01T00:00:00Z");
    fields["street"] = json!("1 Main St + Annex");
    let params = fields.to_string();
    let (code, out) = pockyt_py(
        &[
            "call", "--form", "--url", &url, "--token", TOKEN, "--params", &params,
        ],
        "",
    );
    assert_eq!(code, 0, "{out}");
    assert!(has_payee(&app, "py1@example.com").await);
    assert!(has_payee(&app, "py3@example.com").await);
    assert!(has_payee(&app, "py2@example.com").await);
    app.shutdown().await;
}

#[tokio::test]
async fn null_values_verify_as_documented_and_other_readings_only_when_enabled() {
    let lenient =
        "[pockyt]\nlenient_sign_readings = [\"drop_null\", \"drop_empty\", \"null_text\"]\n";
    for config in [None, Some(lenient.to_owned())] {
        null_readings(config).await;
    }
}

async fn null_readings(config: Option<String>) {
    let enabled = config.is_some();
    let app = spawn_with(Setup {
        config,
        ..Setup::default()
    })
    .await;
    let mut fields = serde_json::Map::new();
    for (k, v) in payee_fields("null@example.com").as_object().unwrap() {
        fields.insert(k.clone(), v.clone());
    }
    fields.insert("merchantNo".into(), json!(MERCHANT));
    fields.insert("storeNo".into(), json!(STORE));
    fields.insert("timestamp".into(), json!("2025-01-01T00:00:00Z"));
    fields.insert("phone".into(), Value::Null);
    // Signed as "phone=&" (null read as empty), leaving phone out, and as "phone=null".
    let readings = [Some(json!("")), None, Some(json!("null"))];
    for (i, reading) in readings.into_iter().enumerate() {
        let mut body = fields.clone();
        body.insert("email".into(), json!(format!("null{i}@example.com")));
        let mut for_sign = body.clone();
        match reading {
            Some(v) => for_sign.insert("phone".into(), v),
            None => for_sign.remove("phone"),
        };
        body.insert("verifySign".into(), json!(sign(&for_sign, TOKEN)));
        let (_, reply) = app.post("/v3/payee/register", &Value::Object(body)).await;
        let journal = app.get_json("/__sim/requests?surface=pockyt").await;
        let detail = journal["requests"][0]["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        if i == 0 || enabled {
            // The documented reading ("phone=&") always; the others when enabled, flagged.
            assert_eq!(reply["ret_code"], "000100", "reading {i}: {reply}");
            assert_eq!(detail.contains("opt-in reading"), i > 0, "{detail}");
        } else {
            assert_eq!(reply["ret_code"], "000030", "reading {i}: {reply}");
            assert!(
                reply["ret_msg"]
                    .as_str()
                    .unwrap()
                    .contains("lenient_sign_readings"),
                "{reply}"
            );
        }
    }
    // Any other value for the null is a mismatch.
    let mut body = fields.clone();
    body.insert("email".into(), json!("null9@example.com"));
    let mut for_sign = body.clone();
    for_sign.insert("phone".into(), json!("0"));
    body.insert("verifySign".into(), json!(sign(&for_sign, TOKEN)));
    let (_, reply) = app.post("/v3/payee/register", &Value::Object(body)).await;
    assert_eq!(reply["ret_code"], "000030", "{reply}");
    assert!(
        reply["ret_msg"].as_str().unwrap().contains("phone=&"),
        "{reply}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_wrong_signature_is_000030_with_the_expected_string_and_changes_nothing() {
    let app = spawn_app().await;
    let mut body = signed(payee_fields("forged@example.com"));
    body["firstName"] = json!("Mallory");
    let (status, reply) = app.post("/v3/payee/register", &body).await;
    assert_eq!(status, 200);
    assert_eq!(reply["ret_code"], "000030");
    let msg = reply["ret_msg"].as_str().unwrap();
    assert!(msg.starts_with("verifySign mismatch"), "{msg}");
    assert!(msg.contains("firstName=Mallory&"), "{msg}");
    assert!(msg.contains("zip=10005&{md5(token)}"), "{msg}");
    assert!(
        !msg.contains(TOKEN) && !msg.contains("03dd4acc6b57030a21485b1b87cdc16d"),
        "{msg}"
    );
    assert!(!has_payee(&app, "forged@example.com").await);
    // Upper-case hex is named as such.
    let mut upper = signed(payee_fields("upper@example.com"));
    upper["verifySign"] = json!(upper["verifySign"].as_str().unwrap().to_uppercase());
    let (_, reply) = app.post("/v3/payee/register", &upper).await;
    assert_eq!(reply["ret_code"], "000030");
    assert!(
        reply["ret_msg"].as_str().unwrap().contains("lower-case"),
        "{reply}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn credentials_timestamps_and_malformed_bodies_get_precise_codes() {
    let app = spawn_app().await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"merchantNo": "999", "storeNo": STORE}),
            "000030",
            "no merchant with merchantNo \"999\" is configured",
        ),
        (
            json!({"merchantNo": MERCHANT, "storeNo": "1"}),
            "000030",
            "storeNo \"1\" is not a store of merchantNo 202333",
        ),
        (
            json!({"merchantNo": MERCHANT}),
            "000020",
            "storeNo is required",
        ),
        (
            json!({"storeNo": STORE}),
            "000020",
            "merchantNo is required",
        ),
        (
            json!({"merchantNo": MERCHANT, "storeNo": STORE}),
            "000020",
            "verifySign is required",
        ),
    ];
    for (body, code, msg) in cases {
        let (status, reply) = app.post("/v3/payee/retrieve", &body).await;
        assert_eq!(status, 200);
        assert_eq!(reply, json!({"ret_code": code, "ret_msg": msg}));
    }
    for ts in [
        "2025-01-01 00:00:00",
        "2025-01-01T00:00:00+08:00",
        "2025-01-01T00:00:00z",
        "1735689600",
    ] {
        let reply = call(
            &app,
            "/v3/payee/retrieve",
            json!({"customerNo": "1", "timestamp": ts}),
        )
        .await;
        assert_eq!(reply["ret_code"], "000023", "{ts}: {reply}");
        assert!(
            reply["ret_msg"]
                .as_str()
                .unwrap()
                .contains("yyyy-MM-ddTHH:mm:ssZ"),
            "{reply}"
        );
    }
    // The form is right, the date or time does not exist: said so.
    for ts in [
        "2025-02-29T00:00:00Z",
        "2025-13-01T00:00:00Z",
        "2025-01-01T24:00:00Z",
    ] {
        let reply = call(
            &app,
            "/v3/payee/retrieve",
            json!({"customerNo": "1", "timestamp": ts}),
        )
        .await;
        assert_eq!(
            reply,
            json!({"ret_code": "000023", "ret_msg": format!(
                "timestamp \"{ts}\" has the form yyyy-MM-ddTHH:mm:ssZ but is no calendar date and time (its month has no such day, there is no such month, or the hour, minute or second is out of range)"
            )})
        );
    }
    let mut no_ts = signed(json!({"customerNo": "1"}));
    no_ts.as_object_mut().unwrap().remove("timestamp");
    let s = sign(no_ts.as_object().unwrap(), TOKEN);
    no_ts["verifySign"] = json!(s);
    let (_, reply) = app.post("/v3/payee/retrieve", &no_ts).await;
    assert_eq!(
        reply,
        json!({"ret_code": "000020", "ret_msg": "timestamp is required"})
    );
    let (status, text) = app
        .post_raw(
            "/v3/payee/register",
            "application/json",
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(status, 200);
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["ret_code"], "000023");
    assert!(
        reply["ret_msg"]
            .as_str()
            .unwrap()
            .starts_with("the body is not JSON"),
        "{reply}"
    );
    let (_, text) = app
        .post_raw("/v3/payee/register", "application/json", b"[1]".to_vec())
        .await;
    assert!(
        text.contains("000023") && text.contains("JSON object"),
        "{text}"
    );
    let (status, reply) = app.post("/v3/payee/nothing", &signed(json!({}))).await;
    assert_eq!(status, 404);
    assert_eq!(reply["ret_code"], "000021");
    assert!(
        reply["ret_msg"]
            .as_str()
            .unwrap()
            .contains("/v3/payouts/pay"),
        "{reply}"
    );
    let (status, _) = app.get("/v3/payouts/pay").await;
    assert_eq!(status, 405);
    // Every one of these is in the journal under the pockyt surface.
    let journal = app.get_json("/__sim/requests?surface=pockyt").await;
    assert!(
        journal["requests"].as_array().unwrap().len() >= 12,
        "{journal}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn odd_shapes_on_every_path_get_documented_codes_and_never_break_the_server() {
    let app = spawn_app().await;
    let paths = [
        "/v3/payee/register",
        "/v3/payee/retrieve",
        "/v3/payee/update",
        "/v3/customers/account/create/bank-account",
        "/v3/payee/account/create/venmo",
        "/v3/payee/payout-accounts",
        "/v3/payee/account/delete",
        "/v3/payouts/pay",
        "/v3/payouts/inquiry",
        "/v3/payouts/balance",
        "/v2/customers/account/create",
        "/v2/customers/account/retrieve",
    ];
    let odd = [
        json!({}),
        json!({"customerNo": [1, 2], "amount": {"x": 1}}),
        json!({"customerNo": 12345, "amount": 1e300, "currency": "USD", "invoiceId": true}),
        json!({"customerNo": "", "accountToken": null, "accountTag": "", "email": "x".repeat(5000)}),
        json!({"amount": "99999999999999999999", "currency": "usd", "dateOfBirth": "9999-99-99"}),
        json!({"amount": "-1", "currency": "KRW", "accountCurrency": "XXX", "accountType": "CARD"}),
    ];
    let documented = [
        "000020", "000021", "000022", "000023", "000030", "000040", "000100",
    ];
    for path in paths {
        for body in &odd {
            let (status, reply) = app.post(path, &signed(body.clone())).await;
            assert_eq!(status, 200, "{path} {body}: {reply}");
            let code = reply["ret_code"].as_str().unwrap_or_default();
            assert!(documented.contains(&code), "{path} {body}: {reply}");
            assert!(!reply["ret_msg"].as_str().unwrap_or_default().is_empty());
        }
    }
    let (status, _) = app.get("/__sim/health").await;
    assert_eq!(status, 200);
    app.assert_invariants().await;
    app.shutdown().await;
}

/// The signed fields of a balance query with `amount` as the text `amount_text` (a JSON number
/// in the body), and that body as sent: the verifySign is computed over `amount=<text>`.
fn with_number(amount_text: &str) -> Vec<u8> {
    let text = signed(json!({"currency": "USD", "amount": amount_text})).to_string();
    text.replace(
        &format!("\"amount\":\"{amount_text}\""),
        &format!("\"amount\": {amount_text}"),
    )
    .into_bytes()
}

/// docs/FIDELITY.md: numbers are signed as their JSON text, the characters the client sent, not
/// as a JSON library writes them back (`100.10` is not `100.1`, `1e2` not `100.0`).
#[tokio::test]
async fn json_numbers_are_signed_as_the_client_wrote_them() {
    let app = spawn_app().await;
    for number in ["100.10", "1e2", "1.5E1", "7"] {
        let body = with_number(number);
        let (status, text) = app
            .post_raw("/v3/payouts/balance", "application/json", body)
            .await;
        assert_eq!(status, 200);
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reply["ret_code"], "000100", "{number}: {reply}");
    }
    // A wrong signature names the number as sent.
    let body = String::from_utf8(with_number("100.10"))
        .unwrap()
        .replace("\"verifySign\":\"", "\"verifySign\":\"0");
    let (_, text) = app
        .post_raw("/v3/payouts/balance", "application/json", body.into_bytes())
        .await;
    assert!(
        text.contains("000030") && text.contains("amount=100.10&"),
        "{text}"
    );
    app.shutdown().await;
}

/// A JSON body sent with curl's default form type (`curl -d`) is told apart, naming the type.
#[tokio::test]
async fn json_sent_as_a_form_is_named() {
    let app = spawn_app().await;
    let json_body = signed(json!({"currency": "USD"})).to_string().into_bytes();
    let (status, text) = app
        .post_raw(
            "/v3/payouts/balance",
            "application/x-www-form-urlencoded",
            json_body,
        )
        .await;
    assert_eq!(status, 200);
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["ret_code"], "000023", "{reply}");
    let msg = reply["ret_msg"].as_str().unwrap();
    for part in [
        "read as a form",
        "\"application/x-www-form-urlencoded\"",
        "looks like JSON",
        "Content-Type: application/json",
    ] {
        assert!(msg.contains(part), "{part}: {msg}");
    }
    app.shutdown().await;
}

/// A form's Content-Type is a media type: any case, parameters aside (RFC 9110).
#[tokio::test]
async fn a_form_content_type_is_read_as_a_media_type() {
    let app = spawn_app().await;
    let fields = signed(json!({"currency": "USD"}));
    let form: Vec<String> = fields
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap().replace(':', "%3A")))
        .collect();
    let form = form.join("&");
    for content_type in [
        "Application/X-WWW-Form-Urlencoded",
        "application/x-www-form-urlencoded; charset=utf-8",
    ] {
        let (_, text) = app
            .post_raw(
                "/v3/payouts/balance",
                content_type,
                form.clone().into_bytes(),
            )
            .await;
        assert!(text.contains("000100"), "{content_type}: {text}");
    }
    app.shutdown().await;
}

/// docs/FIDELITY.md's order of checks: the path is known before the body's size matters.
#[tokio::test]
async fn an_unknown_path_is_404_whatever_the_body_size() {
    let app = spawn_app().await;
    let big = vec![b' '; 300_000];
    let (status, text) = app
        .post_raw("/v3/nope", "application/json", big.clone())
        .await;
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("000021"), "{text}");
    let (status, text) = app
        .post_raw("/v3/payouts/balance", "application/json", big)
        .await;
    assert_eq!(status, 200);
    assert!(
        text.contains("000023") && text.contains("exceeds the limit"),
        "{text}"
    );
    app.shutdown().await;
}

/// Regression: a correct `verifySign` with a space or newline after it was blamed on the token
/// ("if your string is identical, the token differs"); it is named for what it is, as upper
/// case is, and nothing changes.
#[tokio::test]
async fn a_correct_sign_with_white_space_around_it_is_named() {
    let app = spawn_app().await;
    for pad in [" ", "\n", "\r\n"] {
        let mut body = signed(payee_fields("padded@example.com"));
        let good = body["verifySign"].as_str().unwrap().to_owned();
        body["verifySign"] = json!(format!("{good}{pad}"));
        let (status, reply) = app.post("/v3/payee/register", &body).await;
        assert_eq!(status, 200);
        assert_eq!(reply["ret_code"], "000030", "{pad:?}: {reply}");
        let msg = reply["ret_msg"].as_str().unwrap();
        assert!(
            msg.starts_with("verifySign has white space around it"),
            "{msg}"
        );
        assert!(!msg.contains("token differs"), "{msg}");
    }
    assert!(!has_payee(&app, "padded@example.com").await);
    app.shutdown().await;
}

/// The demo credentials, a timestamp and a verifySign for a balance query, as form pairs
/// (`name=value&` each).
fn balance_form() -> String {
    let fields = signed(json!({"currency": "USD"}));
    fields
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}&", v.as_str().unwrap().replace(':', "%3A")))
        .collect()
}

/// Regression: percent-encoded GBK form values were turned into U+FFFD and then failed the
/// signature (`note=����`); a raw GBK form was only "not UTF-8"; a GBK JSON body got the
/// parser's "invalid unicode code point". Each is `000023` naming what is not UTF-8.
#[tokio::test]
async fn bytes_that_are_not_utf8_are_named_in_forms_and_json() {
    let app = spawn_app().await;
    let form = balance_form();
    let refusal = |text: &str| {
        let reply: Value = serde_json::from_str(text).unwrap();
        assert_eq!(reply["ret_code"], "000023", "{reply}");
        reply["ret_msg"].as_str().unwrap().to_owned()
    };
    let encoded = format!("{form}charset=GBK&note=%D6%D0%CE%C4").into_bytes();
    let (status, text) = app
        .post_raw(
            "/v3/payouts/balance",
            "application/x-www-form-urlencoded; charset=GBK",
            encoded,
        )
        .await;
    assert_eq!(status, 200);
    let msg = refusal(&text);
    for part in [
        "value of note is not UTF-8 (percent-encoded bytes D6 D0 CE C4)",
        "(\"GBK\")",
    ] {
        assert!(msg.contains(part), "{part:?} not in {msg}");
    }
    assert!(
        !msg.contains("verifySign") && !msg.contains('\u{FFFD}'),
        "{msg}"
    );
    let mut raw = format!("{form}note=").into_bytes();
    raw.extend([0xD6, 0xD0, 0xCE, 0xC4]);
    let (_, text) = app
        .post_raw(
            "/v3/payouts/balance",
            "application/x-www-form-urlencoded",
            raw,
        )
        .await;
    let msg = refusal(&text);
    assert!(
        msg.starts_with("value of note is not UTF-8 (bytes D6 D0 CE C4)"),
        "{msg}"
    );
    let mut json_body = br#"{"merchantNo":"202333","note":""#.to_vec();
    json_body.extend([0xD6, 0xD0, 0xCE, 0xC4]);
    json_body.extend(br#""}"#);
    let (_, text) = app
        .post_raw("/v3/payouts/balance", "application/json", json_body)
        .await;
    let msg = refusal(&text);
    assert!(msg.starts_with("the body is not UTF-8"), "{msg}");
    assert!(!msg.contains("unicode code point"), "{msg}");
    app.shutdown().await;
}
