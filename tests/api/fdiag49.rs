//! Diagnostics of the Whalet surfaces: whalet-platform refusals journaled under the partner
//! they name as the Open API's are, renamed apiCodes journaled under their canonical name, and
//! `/file/upload` refusals with the Open API's `detail` width, a precise token refusal and the
//! parsed form in the journal.

use std::time::Duration;

use serde_json::{json, Value};
use whalet_sim::wire::keys::{PrivateKey, PublicKey};

use crate::helpers::*;
use crate::whalet2_support::{file_token, multipart, now_ms};

const DEMO_TENANT: &str = "whalet:202400000000001";

/// The newest journal entry of `query` (`surface=platform`, ...).
async fn newest(app: &TestApp, query: &str) -> Value {
    let page = app.get_json(&format!("/__sim/requests?{query}")).await;
    page["requests"][0].clone()
}

fn key(path: &str) -> String {
    std::fs::read_to_string(repo_path(path)).unwrap()
}

/// Every envelope refusal of whalet-platform made after its partnerId named a configured
/// partner (a keyEnc it cannot open, a bad signature, a decrypted body that is not JSON, a path
/// that is not head.apiCode) is journaled under that partner's tenant, with its head and the
/// body as far as it was read, as the same mistake on the Open API is.
#[tokio::test]
async fn platform_envelope_refusals_are_journaled_under_the_partner_as_the_open_apis_are() {
    let app = spawn_app().await;
    let wrong_platform_key = PublicKey::parse(&key("keys/demo-partner/public.pem")).unwrap();
    let wrong_partner_key = PrivateKey::parse(&key("keys/platform/private.pem")).unwrap();
    let not_json = |app: &TestApp, code: &str| {
        seal_text(app, (code, "NJ-1"), b"not json", |k| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .encode(k)
                .into_bytes()
        })
    };
    // (what, Open API apiCode, platform operation)
    for (what, open_api, operation) in [
        ("keyEnc", "queryPlatformBalance", "balanceQuery"),
        ("signature", "queryPlatformBalance", "balanceQuery"),
        ("not JSON", "queryPlatformBalance", "balanceQuery"),
        ("path", "queryPlatformBalance", "balanceQuery"),
    ] {
        for surface in ["whalet", "platform"] {
            let (path, api_code) = match surface {
                "whalet" => ("/api".to_owned(), open_api),
                _ => (format!("/v1/platform/{operation}"), operation),
            };
            let mut client = app.client.clone();
            client.url = format!("{}{path}", app.url);
            match what {
                "keyEnc" => client.platform_public = wrong_platform_key.clone(),
                "signature" => client.key = wrong_partner_key.clone(),
                // A path that names another operation than head.apiCode.
                "path" if surface == "whalet" => {
                    client.url = format!("{}/api/connectivity", app.url)
                }
                "path" => client.url = format!("{}/v1/platform/paymentQuery", app.url),
                _ => {}
            }
            let code = if what == "not JSON" {
                let (_, text) = app
                    .post_raw(&path, "application/json", not_json(&app, api_code))
                    .await;
                serde_json::from_str::<Value>(&text).unwrap()["head"]["code"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            } else {
                match client.call(api_code, &json!({})).await {
                    Ok(reply) => reply.code,
                    Err(e) => format!("{e}"),
                }
            };
            assert!(
                !code.contains("SUCCESS"),
                "{what} on {surface}: refused, got {code}"
            );
            let entry = newest(&app, &format!("surface={surface}")).await;
            assert_eq!(entry["tenant"], DEMO_TENANT, "{what} on {surface}: {entry}");
            let request = &entry["request"];
            assert_eq!(
                request["head"]["partnerId"], "202400000000001",
                "{what} on {surface}: the journal shows the head it read, {request}"
            );
            assert_eq!(request["head"]["apiCode"], api_code, "{what} on {surface}");
            if what != "not JSON" {
                assert_eq!(
                    request["body"], "<not decrypted>",
                    "{what} on {surface}: {request}"
                );
            } else {
                assert_eq!(
                    request["body"], "not json",
                    "{what} on {surface}: {request}"
                );
            }
        }
    }
    app.shutdown().await;
}

/// A platform request in plain-JSON mode (`[platform] auth = "none"`) names its partner in the
/// partnerId header: a refusal of its body is journaled under that partner's tenant.
#[tokio::test]
async fn a_plain_platform_refusal_is_journaled_under_the_partner_its_header_names() {
    let app = spawn_config("[platform]\nauth = \"none\"\n").await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/platform/balanceQuery", app.url))
        .header("content-type", "application/json")
        .header("partnerId", "202400000000001")
        .header("requestNo", "PJ-1")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let entry = newest(&app, "surface=platform").await;
    assert_eq!(entry["code"], "PARAM_FORMAT_ERROR", "{entry}");
    assert_eq!(entry["tenant"], DEMO_TENANT, "{entry}");
    app.shutdown().await;
}

const RENAMED: &str = "[whalet.api_codes]\nqueryCurrencyBalance = \"balanceInquiry\"\n";

/// Whether `name` is the canonical name of an Open API operation.
async fn is_operation(app: &TestApp, name: &str) -> bool {
    let all = app.get_json("/__sim/operations").await;
    all["operations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["surface"] == "whalet" && o["canonical"] == name)
}

/// A renamed apiCode is journaled under its canonical name (as rules and coverage name it),
/// with the wire name in the detail; the canonical name sent after the rename reaches no
/// operation and is journaled as sent, under a name that is no operation's, so that the
/// journal's listing of the operation holds only the requests the operation answered.
#[tokio::test]
async fn a_renamed_api_code_is_journaled_under_its_canonical_name_and_its_old_name_under_none() {
    let app = spawn_config(RENAMED).await;
    let body = json!({"currency": "USD"});
    let refused = app
        .client
        .call("queryCurrencyBalance", &body)
        .await
        .unwrap();
    assert_eq!(refused.code, "INTERFACE_UNAUTHORIZED", "{refused:?}");
    let answered = app.client.call("balanceInquiry", &body).await.unwrap();
    assert_ne!(answered.code, "INTERFACE_UNAUTHORIZED", "{answered:?}");

    let listed = app
        .get_json("/__sim/requests?surface=whalet&operation=queryCurrencyBalance")
        .await;
    let listed = listed["requests"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        1,
        "only the request sent as balanceInquiry: {listed:?}"
    );
    assert_eq!(listed[0]["code"], answered.code);
    assert!(
        listed[0]["detail"]
            .as_str()
            .unwrap()
            .contains("balanceInquiry"),
        "the detail names the wire apiCode: {}",
        listed[0]
    );

    let old = newest(&app, "surface=whalet&code=INTERFACE_UNAUTHORIZED").await;
    let name = old["operation"].as_str().unwrap();
    assert!(name.contains("queryCurrencyBalance"), "as sent: {old}");
    assert!(
        !is_operation(&app, name).await,
        "{name} is no operation's name"
    );
    assert_eq!(old["tenant"], DEMO_TENANT);

    // The same for the path `/api/{apiCode}`, before the body is read.
    let (_, text) = app
        .post_raw(
            "/api/queryCurrencyBalance",
            "application/json",
            b"{".to_vec(),
        )
        .await;
    assert!(text.contains("PARAM_FORMAT_ERROR"), "{text}");
    let unread = newest(&app, "surface=whalet&code=PARAM_FORMAT_ERROR").await;
    let name = unread["operation"].as_str().unwrap();
    assert!(name.contains("queryCurrencyBalance"), "{unread}");
    assert!(
        !is_operation(&app, name).await,
        "{name} is no operation's name"
    );
    let (_, text) = app
        .post_raw("/api/balanceInquiry", "application/json", b"{".to_vec())
        .await;
    assert!(text.contains("PARAM_FORMAT_ERROR"), "{text}");
    let unread = newest(&app, "surface=whalet&code=PARAM_FORMAT_ERROR").await;
    assert_eq!(unread["operation"], "queryCurrencyBalance", "{unread}");
    app.shutdown().await;
}

/// A `/file/upload` refusal whose diagnostic is longer than the Open API's `detail` width
/// (256 characters) is cut there on the wire, with the whole diagnostic in the
/// `X-Whalet-Sim-Diagnostic` header and the journal, as every Open API refusal is.
#[tokio::test]
async fn an_upload_refusal_keeps_the_open_apis_detail_width_and_diagnostic_header() {
    let app = spawn_app().await;
    let ts = now_ms(&app).await;
    let name = format!("{}.exe", "a".repeat(250));
    let stamp = ts.to_string();
    let token = file_token(ts);
    let (ct, body) = multipart(
        &[
            ("partnerId", "202400000000001"),
            ("timestamp", &stamp),
            ("token", &token),
        ],
        Some((&name, b"x")),
    );
    let r = app
        .http
        .post(
            &format!("{}/file/upload", app.url),
            &ct,
            body.into(),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let reply: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(reply["code"], "PARAMETER_ERROR", "{reply}");
    let detail = reply["detail"].as_str().unwrap();
    assert!(
        detail.chars().count() <= 256,
        "{} characters",
        detail.chars().count()
    );
    let header = r
        .headers
        .get("x-whalet-sim-diagnostic")
        .expect("the whole diagnostic in the header")
        .to_str()
        .unwrap();
    assert!(header.contains(".exe"), "{header}");
    let entry = newest(&app, "surface=file").await;
    let journaled = entry["detail"].as_str().unwrap();
    assert!(
        journaled.chars().count() > 256 && journaled.contains(".exe"),
        "{entry}"
    );
    assert_eq!(entry["reply"]["detail"], journaled, "{entry}");
    app.shutdown().await;
}

/// An upload token that is not the hex of a signature as long as the partner's key's (a
/// dropped leading zero, a character that is no hex digit, two digits short) is refused naming
/// the length it has or the character and its position, and the length a token has; the
/// journal keeps the form fields that were read, never the token or the file.
#[tokio::test]
async fn a_malformed_upload_token_is_named_precisely_and_the_journal_keeps_the_form_read() {
    let app = spawn_app().await;
    let ts = now_ms(&app).await;
    let stamp = ts.to_string();
    let token = file_token(ts);
    let expected = token.len().to_string();
    let cases = [
        (token[1..].to_owned(), "511"),
        (format!("z{}", &token[1..]), "'z' at position 0"),
        (token[2..].to_owned(), "510"),
    ];
    for (bad, named) in cases {
        let (ct, body) = multipart(
            &[
                ("partnerId", "202400000000001"),
                ("timestamp", &stamp),
                ("token", &bad),
            ],
            Some(("f.txt", b"x")),
        );
        let (_, text) = app.post_raw("/file/upload", &ct, body).await;
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reply["code"], "UNAUTHENTICATED_ERROR", "{reply}");
        let detail = reply["detail"].as_str().unwrap();
        assert!(detail.starts_with("invalid token"), "{detail}");
        assert!(detail.contains(named), "{detail} names {named}");
        assert!(detail.contains(&expected), "{detail} names {expected}");
        let entry = newest(&app, "surface=file").await;
        assert_eq!(
            entry["request"],
            json!({"partnerId": "202400000000001", "timestamp": stamp, "fileName": "f.txt", "size": 1}),
            "{entry}"
        );
        assert!(
            !entry.to_string().contains(&bad[4..40]),
            "no token: {entry}"
        );
    }
    app.shutdown().await;
}
