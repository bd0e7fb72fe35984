//! whalet-platform: a scenario's forced successful code is an HTTP 200 in plain-JSON mode (and
//! the journal does not mark it failed); a body over the limit echoes the path's operation as
//! `head.apiCode`, as any unreadable head does; the triggers read their text parameters as the
//! page and the API do (a blank rejection reason is the page's default, ids and names are
//! bounded and not blank); a mistyped `/v1/platform` path gets the platform's 404 hint.

use serde_json::{json, Value};

use crate::helpers::{platform_call, spawn_app, spawn_with, Setup, TestApp};
use crate::platform::{bind_body, trigger};

async fn plain_app() -> TestApp {
    spawn_with(Setup {
        config: Some("[platform]\nauth = \"none\"\n".into()),
        ..Setup::default()
    })
    .await
}

/// The journal entries of surface `platform`, oldest first.
async fn platform_journal(app: &TestApp) -> Vec<Value> {
    let mut entries = app.get_json("/__sim/requests?surface=platform").await["requests"]
        .as_array()
        .unwrap()
        .clone();
    entries.sort_by_key(|e| e["id"].as_u64());
    entries
}

#[tokio::test]
async fn plain_mode_answers_a_forced_success_or_processing_as_http_200_not_failed() {
    let app = plain_app().await;
    let scenario = r#"
name = "forced-success"
[[rule]]
surface = "platform"
operation = "balanceQuery"
[rule.then]
code = "PROCESSING"
[[rule]]
surface = "platform"
operation = "paymentQuery"
[rule.then]
code = "SUCCESS"
[[rule]]
surface = "platform"
operation = "shopAccountBindQuery"
[rule.then]
code = "FAILURE"
"#;
    let (status, body) = app
        .load_scenario(scenario, "tenant=whalet:202400000000001")
        .await;
    assert_eq!(status, 200, "{body}");
    for (operation, code) in [("balanceQuery", "PROCESSING"), ("paymentQuery", "SUCCESS")] {
        let (status, body) = app
            .post(&format!("/v1/platform/{operation}"), &json!({}))
            .await;
        assert_eq!(status, 200, "{operation}: {body}");
        assert_eq!(body["code"], code, "{operation}: {body}");
    }
    // A forced refusal keeps its refusal status.
    let (status, body) = app
        .post("/v1/platform/shopAccountBindQuery", &json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("FAILURE")),
        "{body}"
    );
    let journal = platform_journal(&app).await;
    let seen: Vec<(&str, u64, bool)> = journal
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().unwrap(),
                e["httpStatus"].as_u64().unwrap(),
                e["failed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("balanceQuery", 200, false),
            ("paymentQuery", 200, false),
            ("shopAccountBindQuery", 422, true),
        ],
        "{journal:#?}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn an_envelope_body_over_the_limit_echoes_the_paths_operation_as_api_code() {
    let app = spawn_app().await;
    let limit = app.app().core().config().whalet.body_limit_bytes;
    let body = vec![b'x'; limit + 1];
    let (status, text) = app
        .post_raw(
            "/v1/platform/paymentApply",
            "application/json",
            body.clone(),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let reply: Value = serde_json::from_str(&text).unwrap();
    let head = &reply["head"];
    assert_eq!(head["code"], "PARAM_FORMAT_ERROR", "{reply}");
    assert!(
        head["detail"]
            .as_str()
            .unwrap()
            .contains("exceeds the limit"),
        "{reply}"
    );
    assert_eq!(head["apiCode"], "paymentApply", "{reply}");
    // The same as a body under the limit whose head cannot be read.
    let (_, text) = app
        .post_raw(
            "/v1/platform/paymentApply",
            "application/json",
            b"x".to_vec(),
        )
        .await;
    let unreadable: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        unreadable["head"]["apiCode"], head["apiCode"],
        "{unreadable}"
    );
    // A huge path segment is echoed cut, as every echoed head value is.
    let long = "op".repeat(400);
    let (_, text) = app
        .post_raw(&format!("/v1/platform/{long}"), "application/json", body)
        .await;
    let reply: Value = serde_json::from_str(&text).unwrap();
    let echoed = reply["head"]["apiCode"].as_str().unwrap();
    assert!(echoed.starts_with("opop"), "{reply}");
    assert!(echoed.len() < long.len(), "{reply}");
    assert!(echoed.contains("more bytes"), "{reply}");
    app.shutdown().await;
}

/// A new binding `bind_id`, still waiting for the seller.
async fn pending_binding(app: &TestApp, bind_id: &str) {
    let (code, detail, _) =
        platform_call(app, "shopAccountBind", &bind_body(bind_id, bind_id)).await;
    assert_eq!(code, "SUCCESS", "{detail}");
}

async fn binding(app: &TestApp, bind_id: &str) -> Value {
    let (_, _, q) = platform_call(app, "shopAccountBindQuery", &json!({"bindId": bind_id})).await;
    q
}

#[tokio::test]
async fn the_rejection_trigger_reads_its_reason_as_the_seller_page_does() {
    let app = spawn_app().await;
    // White space alone is no reason: the page's default is reported, as the page reports it.
    pending_binding(&app, "B46-1").await;
    let (status, body) = trigger(
        &app,
        "platform.binding.rejected",
        json!({"bindId": "B46-1", "reason": "   "}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["result"]["binding"]["reason"], "rejected by the seller",
        "{body}"
    );
    let n = app.wait_notification("apiCode=shopAccountBindNotify").await;
    assert_eq!(n["status"], "delivered", "{n}");
    let notified = app.receiver.received()[0].body.clone().unwrap();
    assert_eq!(notified["reason"], "rejected by the seller", "{notified}");
    // A reason is trimmed, as the page trims it.
    pending_binding(&app, "B46-2").await;
    let (status, body) = trigger(
        &app,
        "platform.binding.rejected",
        json!({"bindId": "B46-2", "reason": "  shop name mismatch \n"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(binding(&app, "B46-2").await["reason"], "shop name mismatch");
    app.shutdown().await;
}

#[tokio::test]
async fn a_rejection_reason_longer_than_the_pages_box_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    pending_binding(&app, "B46-3").await;
    let (status, body) = trigger(
        &app,
        "platform.binding.rejected",
        json!({"bindId": "B46-3", "reason": "r".repeat(201)}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with("platform.binding.rejected: "), "{error}");
    assert!(
        error.contains("is 201 characters long; at most 200"),
        "{error}"
    );
    assert_eq!(binding(&app, "B46-3").await["status"], "PROCESSING");
    // As many as the page's box takes is a reason.
    let (status, body) = trigger(
        &app,
        "platform.binding.rejected",
        json!({"bindId": "B46-3", "reason": "r".repeat(200)}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(binding(&app, "B46-3").await["reason"], "r".repeat(200));
    app.shutdown().await;
}

#[tokio::test]
async fn bulk_payment_ids_and_payer_names_are_checked_as_the_apis_ids_and_names() {
    let app = spawn_app().await;
    let paid = |extra: Value| {
        let mut params = json!({"amount": "10.00", "currency": "USD"});
        params
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        params
    };
    let refused = [
        (json!({"bulkPaymentId": "   "}), "bulkPaymentId is blank"),
        (
            json!({"bulkPaymentId": "B".repeat(5000)}),
            "bulkPaymentId is 5000 characters long; at most 64",
        ),
        (json!({"bulkPaymentId": "B".repeat(65)}), "at most 64"),
        (json!({"payerName": " \t "}), "payerName is blank"),
        (
            json!({"payerName": "N".repeat(257)}),
            "payerName is 257 characters long; at most 256",
        ),
    ];
    for (extra, says) in refused {
        let (status, body) = trigger(&app, "platform.bulk_payment.received", paid(extra)).await;
        // A blank value is malformed, as "" is (400); a long one is refused by the trigger (422).
        let malformed = says.ends_with("is blank");
        assert_eq!(status, if malformed { 400 } else { 422 }, "{body}");
        let error = body["error"].as_str().unwrap();
        assert!(
            error.starts_with("platform.bulk_payment.received: "),
            "{error}"
        );
        assert!(error.contains(says), "{says}: {error}");
    }
    // Nothing was credited by the refusals; the longest id and name are taken.
    let id = "B".repeat(64);
    let name = "N".repeat(256);
    let (status, body) = trigger(
        &app,
        "platform.bulk_payment.received",
        paid(json!({"bulkPaymentId": id, "payerName": name})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let received = &body["result"]["bulkPayment"];
    assert_eq!(received["bulkPaymentId"], id.as_str(), "{body}");
    assert_eq!(received["payerName"], name.as_str(), "{body}");
    assert_eq!(received["balance"], "10.00", "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_mistyped_platform_path_gets_the_platforms_hint_with_its_operations() {
    let app = spawn_app().await;
    for path in [
        "/v1/platform/paymentApply/x",
        "/v1/platform",
        "/v1/platform/",
    ] {
        let (status, body) = app.post(path, &json!({})).await;
        assert_eq!(status, 404, "{path}: {body}");
        let hint = body["hint"].as_str().unwrap();
        assert!(
            hint.contains("POST /v1/platform/{operation}"),
            "{path}: {hint}"
        );
        for op in whalet_sim::api::platform::OPERATIONS {
            assert!(hint.contains(op.name), "{path}: {hint} lacks {}", op.name);
        }
    }
    // Elsewhere the general hint stays.
    let (status, body) = app.post("/nowhere", &json!({})).await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["hint"]
            .as_str()
            .unwrap()
            .starts_with("Whalet: POST /api"),
        "{body}"
    );
    app.shutdown().await;
}
