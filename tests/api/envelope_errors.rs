//! Every envelope error code produced by a real condition, with a precise detail, state unchanged.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_with, Setup, TestApp};

fn head(body: &str) -> Value {
    serde_json::from_str::<Value>(body).unwrap()["head"].clone()
}

#[tokio::test]
async fn malformed_json_is_param_format_error() {
    let app = spawn_app().await;
    let (status, body) = app
        .post_raw("/api", "application/json", b"{not json".to_vec())
        .await;
    assert_eq!(status, 200);
    let head = head(&body);
    assert_eq!(head["code"], "PARAM_FORMAT_ERROR");
    assert!(
        head["detail"]
            .as_str()
            .unwrap()
            .contains("not a JSON envelope"),
        "{head}"
    );
    assert!(
        head.get("sign").is_none(),
        "error replies carry no signature: {head}"
    );
    app.shutdown().await;
}

/// The PARTNER_NOT_EXIST detail `app` answers a connectivity call from `partner_id` with.
pub(crate) async fn unknown_partner_detail(app: &TestApp, partner_id: &str) -> String {
    let mut client = app.client.clone();
    client.partner_id = partner_id.into();
    let reply = client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "N"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "PARTNER_NOT_EXIST", "{}", reply.detail);
    reply.detail
}

#[tokio::test]
async fn unknown_partner_is_partner_not_exist() {
    let app = spawn_app().await;
    let detail = unknown_partner_detail(&app, "999").await;
    assert!(detail.contains("\"999\""), "{detail}");
    // The configured partners are named, so a partner can tell a typo from a missing config.
    assert!(
        detail.ends_with("is configured; the configured partners: 202400000000001"),
        "{detail}"
    );
    // The demo Pockyt merchantNo sent as a partnerId (t54a F6): said to be another provider's.
    let detail = unknown_partner_detail(&app, "202333").await;
    assert!(
        detail.ends_with(
            "\"202333\" is another provider's tenant (pockyt:202333), not a Whalet partner"
        ),
        "{detail}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_duplicate_request_no_does_not_execute_again() {
    let app = spawn_app().await;
    let body = json!({"notifyFlag": "Y", "notifyMessage": "once", "responseFlag": "N"});
    let first = app
        .client
        .call_with("connectivity", "DUP-1", &body)
        .await
        .unwrap();
    assert_eq!(first.code, "SUCCESS");
    let second = app
        .client
        .call_with("connectivity", "DUP-1", &body)
        .await
        .unwrap();
    assert_eq!(second.code, "REQUEST_NO_NOT_UNIQUE");
    assert!(second.detail.contains("DUP-1"), "{}", second.detail);
    app.wait_notification("apiCode=connectivityNotify").await;
    let (_, list) = app
        .get("/__sim/notifications?apiCode=connectivityNotify")
        .await;
    assert_eq!(
        list["notifications"].as_array().unwrap().len(),
        1,
        "the duplicate must not notify again"
    );
    app.shutdown().await;
}

/// A connectivity body that is valid.
fn ok_body() -> Value {
    json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "x"})
}

/// Seals a valid request, lets `mutate` change the envelope JSON, posts it, returns the head.
async fn post_mutated(app: &crate::helpers::TestApp, mutate: impl FnOnce(&mut Value)) -> Value {
    let sealed = app
        .client
        .seal("connectivity", &app.client.next_request_no(), &ok_body());
    let mut envelope: Value = serde_json::from_slice(&sealed).unwrap();
    mutate(&mut envelope);
    let (status, body) = app
        .post_raw(
            "/api",
            "application/json",
            serde_json::to_vec(&envelope).unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    head(&body)
}

fn detail(head: &Value) -> &str {
    head["detail"].as_str().unwrap()
}

#[tokio::test]
async fn each_decryption_step_has_its_own_diagnostic() {
    let app = spawn_app().await;
    // keyEnc not hex (the signature does not cover keyEnc, so this reaches decryption).
    let h = post_mutated(&app, |e| e["head"]["keyEnc"] = json!("zz11")).await;
    assert_eq!(h["code"], "PARAM_FORMAT_ERROR");
    assert!(
        detail(&h).contains("head.keyEnc is not hex: invalid character 'z' at position 0"),
        "{h}"
    );
    // keyEnc of the wrong length.
    let h = post_mutated(&app, |e| e["head"]["keyEnc"] = json!("abcd")).await;
    assert!(detail(&h).contains("head.keyEnc decodes to 2 bytes"), "{h}");
    // keyEnc encrypted to the partner's own key instead of the platform's.
    let mut wrong = app.client.clone();
    wrong.platform_public = wrong.key.public().clone();
    // The refusal is signed by the platform key (the request authenticated): sent by `wrong`,
    // opened by the client that holds the right platform key.
    let sealed = wrong.seal("connectivity", "KEYENC-WRONG", &ok_body());
    let reply = app.client.send_raw(sealed).await.unwrap();
    assert_eq!(reply.code, "PARAM_FORMAT_ERROR");
    assert!(
        reply.detail.contains("head.keyEnc could not be decrypted"),
        "{}",
        reply.detail
    );
    assert!(
        reply.detail.contains("SHA256:"),
        "names the key it tried: {}",
        reply.detail
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_signature_by_the_wrong_key_names_the_signed_string_and_the_key() {
    let app = spawn_app().await;
    let mut wrong = app.client.clone();
    wrong.key =
        whalet_sim::wire::keys::PrivateKey::parse(whalet_sim::wire::keys::demo::PLATFORM_PRIVATE)
            .unwrap();
    let reply = wrong
        .call_with("connectivity", "SIG-1", &ok_body())
        .await
        .unwrap();
    assert_eq!(reply.code, "UNAUTHENTICATED_ERROR");
    // The wire detail is cut to its documented 256 characters; the journal has all of it.
    assert!(reply.detail.chars().count() <= 256, "{}", reply.detail);
    let journal = app.get_json("/__sim/requests?surface=whalet").await;
    let full = journal["requests"][0]["detail"].as_str().unwrap();
    assert!(
        full.starts_with(reply.detail.trim_end_matches('…')),
        "{full}"
    );
    assert!(
        full.contains("202400000000001|connectivity|1.0|SIG-1|"),
        "{full}"
    );
    let partner_key =
        whalet_sim::wire::keys::PublicKey::parse(whalet_sim::wire::keys::demo::PARTNER_PUBLIC)
            .unwrap();
    assert!(full.contains(partner_key.fingerprint()), "{full}");
    // The refused request did not use up its requestNo.
    let retry = app
        .client
        .call_with("connectivity", "SIG-1", &ok_body())
        .await
        .unwrap();
    assert_eq!(retry.code, "SUCCESS");
    app.shutdown().await;
}

#[tokio::test]
async fn business_field_errors_are_parameter_errors_naming_the_field() {
    let app = spawn_app().await;
    let reply = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": "X", "responseFlag": "Y"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "PARAMETER_ERROR");
    assert!(
        reply
            .detail
            .contains("notifyFlag must be \"Y\" or \"N\", got \"X\""),
        "{}",
        reply.detail
    );
    let reply = app
        .client
        .call("connectivity", &json!({"notifyFlag": "N"}))
        .await
        .unwrap();
    assert_eq!(reply.code, "PARAMETER_ERROR");
    assert!(
        reply.detail.contains("responseFlag is required"),
        "{}",
        reply.detail
    );
    let reply = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": 1, "responseFlag": "Y"}),
        )
        .await
        .unwrap();
    assert!(
        reply.detail.contains("notifyFlag must be a string"),
        "{}",
        reply.detail
    );
    // A path that disagrees with head.apiCode.
    let mut client = app.client.clone();
    client.url = format!("{}/api/queryCurrencyBalance", app.url);
    let reply = client.call("connectivity", &ok_body()).await.unwrap();
    assert_eq!(reply.code, "PARAMETER_ERROR");
    assert!(
        reply.detail.contains("queryCurrencyBalance"),
        "{}",
        reply.detail
    );
    app.shutdown().await;
}

#[tokio::test]
async fn unknown_and_disabled_api_codes_are_interface_unauthorized() {
    let config = r#"
[[whalet.partners]]
partner_id = "202400000000002"
public_key = "@keys/demo-partner/public.pem"
api_codes = ["queryCurrencyBalance"]
"#;
    let app = crate::helpers::spawn_with(crate::helpers::Setup {
        config: Some(config.into()),
        ..Default::default()
    })
    .await;
    let reply = app
        .client
        .call("noSuchInterface", &json!({}))
        .await
        .unwrap();
    assert_eq!(reply.code, "INTERFACE_UNAUTHORIZED");
    assert!(reply.detail.contains("noSuchInterface"), "{}", reply.detail);
    let mut limited = app.client.clone();
    limited.partner_id = "202400000000002".into();
    let reply = limited.call("connectivity", &ok_body()).await.unwrap();
    assert_eq!(reply.code, "INTERFACE_UNAUTHORIZED");
    assert!(
        reply
            .detail
            .contains("not enabled for partner 202400000000002"),
        "{}",
        reply.detail
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_per_partner_rate_limit_gives_too_many_requests() {
    let app = rate_limited_partner().await;
    let mut client = app.client.clone();
    client.partner_id = "202400000000003".into();
    // Sealed up front so that the three requests reach the server well within one second.
    let sealed: Vec<Vec<u8>> = (0..3)
        .map(|_| client.seal("connectivity", &client.next_request_no(), &ok_body()))
        .collect();
    let mut codes = Vec::new();
    for bytes in sealed {
        codes.push(client.send_raw(bytes).await.unwrap().code);
    }
    assert_eq!(codes, ["SUCCESS", "SUCCESS", "TOO_MANY_REQUESTS"]);
    // The demo partner has no limit.
    for _ in 0..3 {
        assert_eq!(
            app.client
                .call("connectivity", &ok_body())
                .await
                .unwrap()
                .code,
            "SUCCESS"
        );
    }
    app.shutdown().await;
}

/// Regression: junk that names a partner (bad signature) used to count against that partner's
/// rate limit, so anyone could lock the real partner out.
#[tokio::test]
async fn unauthenticated_requests_do_not_use_up_the_partners_rate_limit() {
    let app = rate_limited_partner().await;
    let mut client = app.client.clone();
    client.partner_id = "202400000000003".into();
    let mut sealed: Vec<Vec<u8>> = (0..12)
        .map(|_| {
            let mut v: serde_json::Value = serde_json::from_slice(&client.seal(
                "connectivity",
                &client.next_request_no(),
                &ok_body(),
            ))
            .unwrap();
            // Flip the signature: the request names the partner but is not from it.
            let sign = v["head"]["sign"].as_str().unwrap().to_owned();
            let flipped = if sign.starts_with('0') { "1" } else { "0" };
            v["head"]["sign"] = format!("{flipped}{}", &sign[1..]).into();
            serde_json::to_vec(&v).unwrap()
        })
        .collect();
    sealed.push(client.seal("connectivity", &client.next_request_no(), &ok_body()));
    let mut codes = Vec::new();
    for bytes in sealed {
        codes.push(client.send_raw(bytes).await.unwrap().code);
    }
    assert!(
        codes[..12].iter().all(|c| c == "UNAUTHENTICATED_ERROR"),
        "{codes:?}"
    );
    assert_eq!(codes[12], "SUCCESS", "{codes:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn an_oversize_body_is_refused_with_the_limit() {
    let app = crate::helpers::spawn_with(crate::helpers::Setup {
        config: Some("[whalet]\nbody_limit_bytes = 2000\n".into()),
        ..Default::default()
    })
    .await;
    let big = json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "x".repeat(5000)});
    let reply = app.client.call("connectivity", &big).await.unwrap();
    assert_eq!(reply.code, "PARAM_FORMAT_ERROR");
    assert!(
        reply.detail.contains("exceeds the limit of 2000 bytes"),
        "{}",
        reply.detail
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_decrypted_body_that_is_not_json_is_named() {
    let app = spawn_app().await;
    // The Python implementation seals arbitrary text (no JSON check) with a valid signature.
    let url = format!("{}/api", app.url);
    let mut seal = std::process::Command::new(crate::helpers::python());
    seal.arg(crate::helpers::repo_path("scripts/whalet_envelope.py"))
        .args([
            "seal-request",
            "--api-code",
            "connectivity",
            "--data-raw",
            "{not json",
        ])
        .current_dir(crate::helpers::repo_path(""));
    let out = crate::helpers::run_ok(seal).await;
    let (_, body) = app.post_raw("/api", "application/json", out.stdout).await;
    let h = head(&body);
    assert_eq!(h["code"], "PARAM_FORMAT_ERROR", "{url} {h}");
    assert!(detail(&h).contains("the decrypted body is not JSON"), "{h}");
    app.shutdown().await;
}

#[tokio::test]
async fn random_garbage_never_breaks_the_server() {
    use rand::{Rng, SeedableRng};
    let app = spawn_app().await;
    let valid = app.client.seal("connectivity", "FUZZ-BASE", &ok_body());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let known: Vec<&str> = whalet_sim::wire::whalet::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    for i in 0..150 {
        let mut bytes = valid.clone();
        match i % 3 {
            0 => {
                let at = rng.gen_range(0..bytes.len());
                bytes[at] = rng.gen();
            }
            1 => bytes.truncate(rng.gen_range(0..bytes.len())),
            _ => bytes = (0..rng.gen_range(0..64)).map(|_| rng.gen()).collect(),
        }
        let (status, body) = app.post_raw("/api", "application/json", bytes).await;
        assert_eq!(status, 200, "case {i}: {body}");
        let code = head(&body)["code"].as_str().unwrap_or("<none>").to_owned();
        assert!(known.contains(&code.as_str()), "case {i}: {body}");
    }
    assert_eq!(app.get_json("/__sim/health").await["status"], "ok");
    app.shutdown().await;
}

#[tokio::test]
async fn internal_error_is_answered_head_only_when_a_scenario_asks_for_it() {
    // INTERNAL_ERROR otherwise only comes from genuine faults (a reply that cannot be sealed, a
    // handler that panics); a scenario rule produces it on demand so partners can test for it.
    let app = spawn_app().await;
    let scenario = "name = \"broken\"\n[[rule]]\nname = \"internal\"\noperation = \"connectivity\"\n[rule.then]\ncode = \"INTERNAL_ERROR\"\ndetail = \"simulated outage\"\n";
    assert_eq!(app.load_scenario(scenario, "").await.0, 200);
    let reply = app.client.call("connectivity", &ok_body()).await.unwrap();
    assert_eq!(reply.code, "INTERNAL_ERROR");
    assert_eq!(reply.detail, "simulated outage");
    assert_eq!(reply.body, None);
    app.shutdown().await;
}

#[tokio::test]
async fn request_no_memory_is_bounded_by_configuration() {
    let app = spawn_with(Setup {
        config: Some("[whalet]\nrequest_no_memory = 2\n".into()),
        ..Default::default()
    })
    .await;
    let body = json!({"notifyFlag": "N", "responseFlag": "N"});
    for no in ["MEM-1", "MEM-2", "MEM-3"] {
        let reply = app
            .client
            .call_with("connectivity", no, &body)
            .await
            .unwrap();
        assert_eq!(reply.code, "SUCCESS", "{no}");
    }
    // MEM-2 and MEM-3 are remembered; MEM-1, the oldest, was forgotten.
    let again = app
        .client
        .call_with("connectivity", "MEM-3", &body)
        .await
        .unwrap();
    assert_eq!(again.code, "REQUEST_NO_NOT_UNIQUE");
    let forgotten = app
        .client
        .call_with("connectivity", "MEM-1", &body)
        .await
        .unwrap();
    assert_eq!(forgotten.code, "SUCCESS", "{}", forgotten.detail);
    app.shutdown().await;
}

/// The simulator with partner 202400000000003 (the demo keys) limited to 2 requests a second.
async fn rate_limited_partner() -> crate::helpers::TestApp {
    let config = r#"
[[whalet.partners]]
partner_id = "202400000000003"
public_key = "@keys/demo-partner/public.pem"
rate_limit = 2
"#;
    crate::helpers::spawn_with(crate::helpers::Setup {
        config: Some(config.into()),
        ..Default::default()
    })
    .await
}

/// A refusal echoes a huge head value cut to the diagnostic cap (256 bytes), on the Open API and
/// the platform API alike: an 800 KB head (or a 20 KB path) does not come back as a reply as large.
#[tokio::test]
async fn a_refusal_does_not_echo_a_huge_head_value_whole() {
    let app = spawn_app().await;
    let huge = "7".repeat(400_000);
    for path in ["/api", "/v1/platform/balanceQuery"] {
        let sealed = app.client.seal("balanceQuery", "R-1", &json!({}));
        let mut envelope: Value = serde_json::from_slice(&sealed).unwrap();
        envelope["head"]["requestNo"] = json!(huge);
        envelope["head"]["apiCode"] = json!(huge);
        let bytes = serde_json::to_vec(&envelope).unwrap();
        let (status, body) = app.post_raw(path, "application/json", bytes).await;
        assert_eq!(status, 200, "{path}: {}", &body[..body.len().min(300)]);
        assert!(body.len() < 4096, "{path}: a {} byte reply", body.len());
        let head = head(&body);
        assert_eq!(head["code"], "PARAM_FORMAT_ERROR", "{path}: {head}");
        for field in ["requestNo", "apiCode"] {
            let echoed = head[field].as_str().unwrap();
            assert!(echoed.starts_with("777"), "{path}: {head}");
            assert!(echoed.ends_with("more bytes"), "{path}: {head}");
            assert!(echoed.len() <= 256, "{path}: {head}");
        }
    }
    // The platform echoes the operation of its path when the head cannot be read.
    let path = format!("/v1/platform/{}", "A".repeat(20_000));
    let (_, body) = app
        .post_raw(&path, "application/json", b"{not json".to_vec())
        .await;
    assert!(body.len() < 4096, "a {} byte reply", body.len());
    assert!(
        head(&body)["apiCode"]
            .as_str()
            .unwrap()
            .ends_with("more bytes"),
        "{body}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_named_by_its_type() {
    let app = spawn_app().await;
    let sealed: Value =
        serde_json::from_slice(&app.client.seal("connectivity", "ARR-1", &ok_body())).unwrap();
    // serde would read a two-element array as the envelope struct: refused like any array.
    let as_array = serde_json::to_vec(&json!([sealed["head"], sealed["body"]])).unwrap();
    for (body, kind) in [
        (b"[]".to_vec(), "an array"),
        (as_array, "an array"),
        (b" 12".to_vec(), "a number"),
        (br#""head""#.to_vec(), "a string"),
        (b"null".to_vec(), "null"),
    ] {
        let (status, reply) = app.post_raw("/api", "application/json", body).await;
        assert_eq!(status, 200, "{reply}");
        let h = head(&reply);
        assert_eq!(h["code"], "PARAM_FORMAT_ERROR", "{h}");
        assert!(
            detail(&h).starts_with(&format!(
                "the request body is not a JSON envelope: it is {kind}; send a JSON object {{\"head\""
            )),
            "{h}"
        );
        assert!(!detail(&h).contains("WireEnvelope"), "{h}");
    }
    // The array with a valid envelope's parts did not use up its requestNo.
    let reply = app
        .client
        .call_with("connectivity", "ARR-1", &ok_body())
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS", "{}", reply.detail);
    app.shutdown().await;
}

/// A connectivity request by the demo partner, correctly signed and encrypted under a fresh
/// 16-byte session key, whose `keyEnc` RSA plaintext is `wrap(session key)`.
fn sealed_with_key_enc_plaintext(
    app: &crate::helpers::TestApp,
    request_no: &str,
    wrap: impl Fn(&[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let plaintext = serde_json::to_vec(&ok_body()).unwrap();
    crate::helpers::seal_text(app, ("connectivity", request_no), &plaintext, wrap)
}

fn base64_text(key: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(key)
}

#[tokio::test]
async fn a_key_enc_plaintext_in_hex_or_with_white_space_is_refused_naming_key_enc() {
    let app = spawn_app().await;
    // The documented plaintext opens (the helper itself is right).
    let ok = sealed_with_key_enc_plaintext(&app, "KEYTXT-0", |k| base64_text(k).into_bytes());
    assert_eq!(app.client.send_raw(ok).await.unwrap().code, "SUCCESS");
    type Wrap = fn(&[u8]) -> Vec<u8>;
    let cases: [(&str, Wrap, &str); 5] = [
        // The key's hex: 32 characters that are also Base64 of a 24-byte key.
        (
            "KEYTXT-1",
            |k| hex::encode(k).into_bytes(),
            "head.keyEnc decrypted to 32 hex digits",
        ),
        (
            "KEYTXT-2",
            |k| format!("{}\n", base64_text(k)).into_bytes(),
            "white space ('\\n' at position 24",
        ),
        (
            "KEYTXT-3",
            |k| format!("{}\r\n", base64_text(k)).into_bytes(),
            "white space ('\\r' at position 24",
        ),
        (
            "KEYTXT-4",
            |k| format!(" {}", base64_text(k)).into_bytes(),
            "white space (' ' at position 0",
        ),
        (
            "KEYTXT-5",
            |k| format!("{}\n", hex::encode(base64_text(k))).into_bytes(),
            "white space ('\\n' at position 48",
        ),
    ];
    for (request_no, wrap, expected) in cases {
        let reply = app
            .client
            .send_raw(sealed_with_key_enc_plaintext(&app, request_no, wrap))
            .await
            .unwrap();
        assert_eq!(
            reply.code, "PARAM_FORMAT_ERROR",
            "{request_no}: {}",
            reply.detail
        );
        assert!(
            reply.detail.contains(expected),
            "{request_no}: {}",
            reply.detail
        );
        assert!(!reply.detail.contains("body.encrypt"), "{}", reply.detail);
        let fix = if request_no == "KEYTXT-1" {
            "not its hex"
        } else {
            "without line breaks or spaces"
        };
        assert!(reply.detail.contains(fix), "{request_no}: {}", reply.detail);
        // Refused before the operation: the requestNo is still free.
        let retry = app
            .client
            .call_with("connectivity", request_no, &ok_body())
            .await
            .unwrap();
        assert_eq!(retry.code, "SUCCESS", "{request_no}: {}", retry.detail);
    }
    app.shutdown().await;
}

/// A request without `body.encrypt` is refused as such at once, on the Open API and the
/// platform API, naming what was sent in its place, not with a signature message whose advice
/// leads to this refusal next.
#[tokio::test]
async fn a_missing_body_encrypt_is_named_before_the_signature_check() {
    let app = spawn_app().await;
    type Mutate = fn(&mut Value);
    let cases: [(Mutate, &str); 4] = [
        (
            |e| {
                e.as_object_mut().unwrap().remove("body");
            },
            "the request has no `body`",
        ),
        (
            |e| e["body"] = json!({"Encrypt": e["body"]["encrypt"].clone()}),
            "the body has \"Encrypt\"",
        ),
        (
            |e| e["body"] = json!({"data": e["body"]["encrypt"].clone()}),
            "the body has \"data\" instead",
        ),
        (
            |e| {
                let encrypt = e["body"]["encrypt"].clone();
                e.as_object_mut().unwrap().remove("body");
                e["encrypt"] = encrypt;
            },
            "`encrypt` was sent at the top level",
        ),
    ];
    for path in ["/api", "/v1/platform/balanceQuery"] {
        for (mutate, expected) in cases {
            let sealed = app.client.seal("balanceQuery", "NOENC-1", &json!({}));
            let mut envelope: Value = serde_json::from_slice(&sealed).unwrap();
            mutate(&mut envelope);
            let bytes = serde_json::to_vec(&envelope).unwrap();
            let (status, body) = app.post_raw(path, "application/json", bytes).await;
            assert_eq!(status, 200, "{path}: {body}");
            let h = head(&body);
            assert_eq!(h["code"], "PARAM_FORMAT_ERROR", "{path}: {h}");
            assert!(
                detail(&h).starts_with("body.encrypt is missing"),
                "{path}: {h}"
            );
            assert!(detail(&h).contains(expected), "{path}: {h}");
            assert_eq!(h["requestNo"], "NOENC-1", "{path}: {h}");
        }
    }
    app.shutdown().await;
}

/// White space in a hex field is named with its position, not reported as an odd length.
#[tokio::test]
async fn white_space_in_head_sign_is_named_with_its_position() {
    let app = spawn_app().await;
    let h = post_mutated(&app, |e| {
        let sign = format!("{}\n", e["head"]["sign"].as_str().unwrap());
        e["head"]["sign"] = json!(sign);
    })
    .await;
    assert_eq!(h["code"], "UNAUTHENTICATED_ERROR", "{h}");
    assert!(
        detail(&h).contains("head.sign is not hex: invalid character '\\n' at position 512"),
        "{h}"
    );
    app.shutdown().await;
}

/// Regression: the hint of a signature that does not verify (SHA256withRSA used, the wrong
/// length) came after the expected sign string, past the 256 characters of `head.detail`, so
/// only the header and the journal had it. It now comes first.
#[tokio::test]
async fn a_signature_hint_reaches_head_detail() {
    use whalet_sim::wire::crypto::{sign, SignatureHash};
    let app = spawn_app().await;
    let key = app.client.key.clone();
    let h = post_mutated(&app, |e| {
        let head = &e["head"];
        let signed = format!(
            "{}|{}|{}|{}|{}",
            head["partnerId"].as_str().unwrap(),
            head["apiCode"].as_str().unwrap(),
            head["version"].as_str().unwrap(),
            head["requestNo"].as_str().unwrap(),
            e["body"]["encrypt"].as_str().unwrap()
        );
        let sha256 = sign(&key, SignatureHash::Sha256, signed.as_bytes());
        e["head"]["sign"] = json!(hex::encode(sha256));
    })
    .await;
    assert_eq!(h["code"], "UNAUTHENTICATED_ERROR", "{h}");
    assert!(
        detail(&h).starts_with(
            "the request signature does not verify (the signature is SHA256withRSA; the scheme \
             uses SHA1withRSA): expected SHA1withRSA"
        ),
        "{h}"
    );
    let h = post_mutated(&app, |e| e["head"]["sign"] = json!("00ff")).await;
    assert!(
        detail(&h).starts_with(
            "the request signature does not verify (the signature is 2 bytes; an RSA-2048 \
             signature is 256 bytes): expected"
        ),
        "{h}"
    );
    app.shutdown().await;
}

/// A refusal echoes the head as far as it was read (docs/WIRE.md, "An unsigned error reply"):
/// no `version` the request did not have, and a head value sent as a number as its text.
#[tokio::test]
async fn a_refusal_echoes_the_head_as_it_was_sent() {
    let app = spawn_app().await;
    for remove in [true, false] {
        let h = post_mutated(&app, |e| {
            if remove {
                e["head"].as_object_mut().unwrap().remove("version");
            } else {
                e["head"]["version"] = json!("");
            }
        })
        .await;
        assert_eq!(h["code"], "PARAM_FORMAT_ERROR", "{h}");
        assert_eq!(h["version"], "", "{h}");
        assert_eq!(h["apiCode"], "connectivity", "{h}");
    }
    let (_, body) = app
        .post_raw("/api", "application/json", b"{not json".to_vec())
        .await;
    let h = head(&body);
    assert_eq!(
        (
            &h["partnerId"],
            &h["apiCode"],
            &h["requestNo"],
            &h["version"]
        ),
        (&json!(""), &json!(""), &json!(""), &json!("")),
        "{h}"
    );
    let h = post_mutated(&app, |e| {
        e["head"]["partnerId"] = json!(202400000000001u64);
        e["head"]["apiCode"] = json!(5);
        e["head"]["requestNo"] = json!(12345);
    })
    .await;
    assert_eq!(h["code"], "PARAM_FORMAT_ERROR", "{h}");
    assert_eq!(
        (&h["partnerId"], &h["apiCode"], &h["requestNo"]),
        (&json!("202400000000001"), &json!("5"), &json!("12345")),
        "{h}"
    );
    app.shutdown().await;
}
