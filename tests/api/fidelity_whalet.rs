//! Fidelity of the Whalet envelope to the documents (docs/FIDELITY.md): the 256-character
//! `detail`, signed head-only replies, both `keyEnc` forms, the PROCESSING description and the
//! two shapes of `queryCurrencyBalance`.

use serde_json::{json, Value};
use whalet_sim::wire::crypto;
use whalet_sim::wire::keys::{demo, PrivateKey, PublicKey};
use whalet_sim::wire::whalet::{self as envelope, Echo, KeyEncForm, VERSION};
use whalet_sim::wire::HexCase;

use crate::helpers::{spawn_app, spawn_with, Setup, TestApp};
use crate::whalet_support::{apply_user, expect};

/// Posts `body` to `/api`; returns the status, the `X-Whalet-Sim-Diagnostic` header and the
/// reply JSON.
async fn post(app: &TestApp, body: Vec<u8>) -> (u16, Option<String>, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/api", app.url))
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

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn echo_of(head: &Value) -> Echo {
    let text = |n: &str| head[n].as_str().unwrap_or_default().to_owned();
    Echo {
        partner_id: text("partnerId"),
        api_code: text("apiCode"),
        request_no: text("requestNo"),
        version: text("version"),
    }
}

fn platform_public() -> PublicKey {
    PublicKey::parse(demo::PLATFORM_PUBLIC).unwrap()
}

#[tokio::test]
async fn a_long_diagnostic_is_cut_to_256_characters_and_sent_whole_in_a_header() {
    let app = spawn_app().await;
    let sealed = app.client.seal(
        "connectivity",
        "LONG-1",
        &json!({"notifyFlag": "N", "responseFlag": "N"}),
    );
    // A forged signature: its diagnostic quotes the string to sign and the key (> 256 chars).
    let (status, header, reply) = post(&app, envelope::corrupt_sign(&sealed)).await;
    assert_eq!(status, 200);
    let head = &reply["head"];
    assert_eq!(head["code"], "UNAUTHENTICATED_ERROR");
    let wire = head["detail"].as_str().unwrap();
    assert_eq!(wire.chars().count(), 256, "{wire}");
    assert!(wire.ends_with('…'), "{wire}");
    let journal = app.get_json("/__sim/requests?surface=whalet").await;
    let full = journal["requests"][0]["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(full.chars().count() > 256, "{full}");
    assert!(full.starts_with(wire.trim_end_matches('…')), "{full}");
    assert_eq!(
        percent_decode(&header.expect("the diagnostic header")),
        full
    );
    // A short detail goes out whole and without the header.
    let (_, header, reply) = post(&app, b"{}".to_vec()).await;
    assert_eq!(reply["head"]["detail"], "`head` is missing");
    assert_eq!(header, None);
    app.shutdown().await;
}

#[tokio::test]
async fn the_diagnostic_header_is_bounded_and_the_width_configurable() {
    let app = spawn_with(Setup {
        config: Some("[whalet]\ndetail_max_chars = 20\ndiagnostic_header_max_bytes = 64\n".into()),
        ..Setup::default()
    })
    .await;
    let (_, header, reply) = post(&app, b"{\"head\": 5}".to_vec()).await;
    // "`head` must be a JSON object, got a number" is 42 characters.
    assert_eq!(reply["head"]["detail"], "`head` must be a JS…");
    assert_eq!(
        header.as_deref(),
        Some("`head` must be a JSON object, got a number")
    );
    let sealed = app.client.seal("connectivity", "LONG-2", &json!({}));
    let (_, header, _) = post(&app, envelope::corrupt_sign(&sealed)).await;
    let header = header.unwrap();
    assert!(header.len() <= 64 && header.ends_with("..."), "{header}");
    app.shutdown().await;
}

#[tokio::test]
async fn authenticated_refusals_and_empty_answers_are_signed_head_only_replies() {
    let app = spawn_app().await;
    let platform = platform_public();
    // Authenticated (the signature verified), refused by the operation: signed, no body.
    let sealed = app.client.seal(
        "connectivity",
        "SIGNED-1",
        &json!({"notifyFlag": "maybe", "responseFlag": "N"}),
    );
    let (_, _, reply) = post(&app, sealed).await;
    let head = &reply["head"];
    assert_eq!(head["code"], "PARAMETER_ERROR");
    assert!(
        reply.get("body").is_none() && head.get("keyEnc").is_none(),
        "{reply}"
    );
    let signed = envelope::reply_sign_string(
        &echo_of(head),
        "PARAMETER_ERROR",
        head["detail"].as_str().unwrap(),
        None,
    );
    let signature = hex::decode(head["sign"].as_str().expect("signed")).unwrap();
    assert!(crypto::verify(
        &platform,
        crypto::SignatureHash::Sha1,
        signed.as_bytes(),
        &signature
    ));
    // A success without a business body: signed head only, `encrypt` not in the sign string.
    let sealed = app.client.seal(
        "connectivity",
        "SIGNED-2",
        &json!({"notifyFlag": "N", "responseFlag": "N"}),
    );
    let (_, _, reply) = post(&app, sealed).await;
    let head = &reply["head"];
    assert_eq!(head["code"], "SUCCESS");
    assert!(
        reply.get("body").is_none() && head.get("keyEnc").is_none(),
        "{reply}"
    );
    let signed = envelope::reply_sign_string(&echo_of(head), "SUCCESS", "成功", None);
    let signature = hex::decode(head["sign"].as_str().expect("signed")).unwrap();
    assert!(crypto::verify(
        &platform,
        crypto::SignatureHash::Sha1,
        signed.as_bytes(),
        &signature
    ));
    // Not authenticated (unknown partner): unsigned.
    let mut stranger = app.client.clone();
    stranger.partner_id = "999".into();
    let sealed = stranger.seal("connectivity", "SIGNED-3", &json!({}));
    let (_, _, reply) = post(&app, sealed).await;
    assert_eq!(reply["head"]["code"], "PARTNER_NOT_EXIST");
    assert!(reply["head"].get("sign").is_none(), "{reply}");
    app.shutdown().await;
}

#[tokio::test]
async fn processing_replies_carry_the_documented_description() {
    let app = spawn_app().await;
    let reply = app
        .client
        .call(
            "userOnboardingApply",
            &crate::whalet_support::onboarding("fid-proc", "Example Trading"),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "PROCESSING");
    assert_eq!(reply.detail, "处理中");
    app.shutdown().await;
}

/// Seals a connectivity request whose `keyEnc` plaintext has the given form.
fn sealed_with(app: &TestApp, request_no: &str, form: KeyEncForm) -> Vec<u8> {
    let echo = Echo {
        partner_id: app.client.partner_id.clone(),
        api_code: "connectivity".into(),
        request_no: request_no.into(),
        version: VERSION.into(),
    };
    envelope::seal_request_as(
        &echo,
        &json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "k"}),
        &app.client.key,
        &app.client.platform_public,
        HexCase::Lower,
        form,
    )
    .unwrap()
}

/// The RSA plaintext of a reply's `keyEnc`, decrypted with the demo partner's key.
fn key_enc_plaintext(reply: &Value) -> String {
    let key = PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap();
    let key_enc = hex::decode(reply["head"]["keyEnc"].as_str().unwrap()).unwrap();
    String::from_utf8(crypto::rsa_decrypt(&key, &key_enc).unwrap()).unwrap()
}

#[tokio::test]
async fn key_enc_is_read_in_both_forms_and_written_in_the_configured_one() {
    let app = spawn_app().await;
    for (request_no, form) in [
        ("KE-1", KeyEncForm::Base64),
        ("KE-2", KeyEncForm::HexBase64),
    ] {
        let reply = app
            .client
            .send_raw(sealed_with(&app, request_no, form))
            .await
            .unwrap();
        assert_eq!(reply.code, "SUCCESS", "{form:?}: {}", reply.detail);
        assert_eq!(reply.body, Some(json!({"messge": "k"})));
    }
    // The journal says which form the partner used (only the non-default one is flagged).
    let journal = app.get_json("/__sim/requests?surface=whalet").await;
    let details: Vec<&str> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert!(details[0].contains("keyEnc form hex_base64"), "{details:?}");
    assert_eq!(details[1], "成功");
    // Written by default as the decryption steps read: Base64 of the 16-byte session key.
    let (_, _, reply) = post(&app, sealed_with(&app, "KE-3", KeyEncForm::Base64)).await;
    assert_eq!(key_enc_plaintext(&reply).len(), 24);
    app.shutdown().await;

    let app = spawn_with(Setup {
        config: Some("[whalet]\nkey_enc_form = \"hex_base64\"\n".into()),
        ..Setup::default()
    })
    .await;
    let (_, _, reply) = post(&app, sealed_with(&app, "KE-4", KeyEncForm::Base64)).await;
    let plaintext = key_enc_plaintext(&reply);
    assert_eq!(plaintext.len(), 48, "{plaintext}");
    assert!(
        plaintext.bytes().all(|b| b.is_ascii_hexdigit()),
        "{plaintext}"
    );
    // The partner client (which reads both forms) still opens it.
    let opened = app
        .client
        .send_raw(sealed_with(&app, "KE-5", KeyEncForm::Base64))
        .await
        .unwrap();
    assert_eq!(opened.body, Some(json!({"messge": "k"})));
    app.shutdown().await;
}

#[tokio::test]
async fn query_currency_balance_answers_the_example_or_the_schema_shape() {
    for (config, records) in [
        (None, false),
        (
            Some("[whalet]\ncurrency_balance_shape = \"records\"\n".to_owned()),
            true,
        ),
    ] {
        let app = spawn_with(Setup {
            config,
            ..Setup::default()
        })
        .await;
        let user_id = apply_user(&app, "fid-bal").await;
        let body = expect(
            &app,
            "queryCurrencyBalance",
            json!({"userId": user_id, "currency": "USD", "fundSource": "B2C"}),
            "SUCCESS",
        )
        .await;
        if records {
            assert_eq!(
                body,
                json!({"records": [{"balance": 0, "orderQuota": 0, "currency": "USD", "pendingAmount": 0, "freezeAmount": 0}]})
            );
        } else {
            let rows = body.as_array().expect("a bare array");
            assert_eq!(rows[0]["balance"]["centFactor"], 100, "{body}");
            assert_eq!(rows[0]["currency"], "USD");
        }
        app.shutdown().await;
    }
}

#[tokio::test]
async fn the_independent_python_client_reads_the_hex_key_enc_form_and_signed_heads() {
    use crate::helpers::{python, repo_path};
    let app = spawn_with(Setup {
        config: Some("[whalet]\nkey_enc_form = \"hex_base64\"\n".into()),
        ..Setup::default()
    })
    .await;
    let url = format!("{}/api", app.url);
    let run = move |data: &'static str| {
        let out = std::process::Command::new(python())
            .arg(repo_path("scripts/whalet_envelope.py"))
            .args([
                "call",
                "--url",
                &url,
                "--api-code",
                "connectivity",
                "--data",
                data,
            ])
            .current_dir(repo_path(""))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let value: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        (out.status.code(), value, stdout)
    };
    let (code, reply, out) = tokio::task::spawn_blocking(move || {
        let body = run(r#"{"notifyFlag":"N","responseFlag":"Y","responseMessage":"hex"}"#);
        let head_only = run(r#"{"notifyFlag":"N","responseFlag":"N"}"#);
        (body, head_only)
    })
    .await
    .map(|(body, head_only)| {
        assert_eq!(head_only.0, Some(0), "{}", head_only.2);
        assert!(head_only.1["head"]["sign"].is_string(), "{}", head_only.2);
        body
    })
    .unwrap();
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(reply["body"]["messge"], "hex", "{out}");
    app.shutdown().await;
}
