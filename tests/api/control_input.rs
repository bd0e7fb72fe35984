//! The control plane refuses what it does not understand: an unknown query parameter or JSON
//! body field is a `400` naming it, the endpoint, the accepted names and the nearest one (it was
//! silently ignored, so a misspelt filter answered something unrelated). And its answers speak
//! camelCase, with times in ISO-8601 beside epoch ms.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn delivered_ping(app: &TestApp) -> Value {
    app.client
        .call(
            "connectivity",
            &json!({"notifyFlag": "Y", "responseFlag": "N"}),
        )
        .await
        .unwrap();
    app.advance(0.5).await;
    app.wait_notification("apiCode=connectivityNotify").await
}

fn error_text(body: &Value) -> &str {
    body["error"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_misspelt_wait_filter_is_refused_not_answered_with_another_notification() {
    let app = spawn_app().await;
    delivered_ping(&app).await;
    // Before: 200 with the connectivity notification, whatever `apicode` said.
    let (status, body) = app
        .get("/__sim/notifications/wait?apicode=nothingLikeIt&timeoutMs=50")
        .await;
    assert_eq!(status, 400, "{body}");
    let text = error_text(&body);
    assert!(
        text.starts_with(
            "unknown query parameter `apicode` for GET /__sim/notifications/wait; did you mean `apiCode`?"
        ),
        "{body}"
    );
    for accepted in ["`tenant`", "`apiCode`", "`businessId`", "`timeoutMs`"] {
        assert!(text.contains(accepted), "{accepted} missing: {body}");
    }
    assert_eq!(body["unknown"], "apicode");
    assert_eq!(body["in"], "query");
    assert_eq!(body["endpoint"], "GET /__sim/notifications/wait");
    assert_eq!(body["didYouMean"], "apiCode");
    // The right spelling still filters: nothing matches, so it times out.
    let (status, body) = app
        .get("/__sim/notifications/wait?apiCode=connectivityNotify&businessId=nothingLikeIt&timeoutMs=50")
        .await;
    assert_eq!(status, 408, "{body}");
    // Both spellings of the timeout are accepted.
    let (status, _) = app
        .get("/__sim/notifications/wait?apiCode=connectivityNotify&timeout_ms=50")
        .await;
    assert_eq!(status, 200);
    app.shutdown().await;
}

#[tokio::test]
async fn every_endpoint_refuses_an_unknown_query_parameter_from_the_documented_table() {
    let app = spawn_app().await;
    let doc = app.get_json("/__sim/openapi.json").await;
    let http = reqwest::Client::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let concrete = path
                .replace("{id}", "ntf_999999")
                .replace("{event}", "sim.notify.down")
                .replace("{name}", "no-such-scenario");
            let url = format!("{}{concrete}?bogusParam=1", app.url);
            let request = match method.as_str() {
                "get" => http.get(&url),
                "post" => http.post(&url).body("{}"),
                "delete" => http.delete(&url),
                other => panic!("unexpected method {other}"),
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value =
                serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
            let endpoint = format!("{} {path}", method.to_ascii_uppercase());
            assert_eq!(status, 400, "{endpoint}: {body}");
            assert_eq!(body["endpoint"], endpoint.as_str(), "{body}");
            let documented: Vec<&str> = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .collect();
            assert_eq!(body["accepted"], json!(documented), "{endpoint}");
            assert!(
                error_text(&body).starts_with(&format!(
                    "unknown query parameter `bogusParam` for {endpoint}"
                )),
                "{body}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
    // Nothing was reset, fired or cleared on the way.
    let (_, health) = app.get("/__sim/health").await;
    assert_eq!(health["status"], "ok");
    let (status, body) = app.get("/__sim/health?verbose=1").await;
    assert_eq!(status, 400);
    assert!(
        error_text(&body).ends_with("It accepts no query parameters."),
        "{body}"
    );
    // A misspelt journal filter names the nearest accepted one.
    let (status, body) = app.get("/__sim/requests?partnerID=202400000000001").await;
    assert_eq!((status, &body["didYouMean"]), (400, &json!("partnerId")));
    let (status, body) = app.get("/__sim/requests?surfce=whalet").await;
    assert_eq!((status, &body["didYouMean"]), (400, &json!("surface")));
    // A name that is near nothing gets no guess.
    let (status, body) = app.get("/__sim/requests?page=2").await;
    assert_eq!((status, &body["didYouMean"]), (400, &Value::Null), "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn json_bodies_with_unknown_fields_are_refused_before_anything_changes() {
    let app = spawn_app().await;
    let before = app.get_json("/__sim/clock").await["now"].clone();
    // `second` instead of `seconds` used to be "give seconds or ms"; now it names the field.
    let (status, body) = app
        .post("/__sim/clock/advance", &json!({"second": 5}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_text(&body),
        "unknown field `second` in the JSON body of POST /__sim/clock/advance; did you mean `seconds`? Accepted: `seconds`, `ms`."
    );
    assert_eq!(body["in"], "body");
    // An extra field beside a valid one was ignored and the clock moved; now nothing moves.
    let (status, body) = app
        .post(
            "/__sim/clock/advance",
            &json!({"seconds": 5, "until": "later"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["unknown"], "until");
    assert_eq!(app.get_json("/__sim/clock").await["now"], before);
    // A value out of range names the range of the field it was given in.
    let (status, body) = app.post("/__sim/clock/advance", &json!({"ms": -1})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        error_text(&body).contains("an integer from 0 to 315360000000"),
        "{body}"
    );
    assert_eq!(app.get_json("/__sim/clock").await["now"], before);
    // Reset with a misspelt tenant used to reset everything.
    let (status, body) = app
        .post(
            "/__sim/reset",
            &json!({"tennant": "whalet:202400000000001"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["didYouMean"], "tenant");
    // Explain names the field; its `fields` object stays free-form.
    let (status, body) = app
        .post(
            "/__sim/scenarios/explain",
            &json!({"surface": "whalet", "tenant": "whalet:202400000000001", "operation": "connectivity", "field": {}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["didYouMean"], "fields");
    let (status, body) = app
        .post(
            "/__sim/scenarios/explain",
            &json!({"surface": "whalet", "tenant": "whalet:202400000000001", "operation": "connectivity", "fields": {"anything": 1}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The clock mode: an unknown field, and a scale the mode does not take.
    let (status, body) = app
        .post("/__sim/clock", &json!({"mode": "scaled", "speed": 0.01}))
        .await;
    assert_eq!((status, &body["unknown"]), (400, &json!("speed")), "{body}");
    let (status, body) = app
        .post("/__sim/clock", &json!({"mode": "manual", "scale": 0.01}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(error_text(&body).contains("scale applies only"), "{body}");
    // The document lists the same fields and closes the object.
    let doc = app.get_json("/__sim/openapi.json").await;
    let schema = &doc["paths"]["/__sim/clock/advance"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema["properties"]["seconds"].is_object(), "{schema}");
    // Trigger parameters keep their own check (the trigger's definition).
    let (status, body) = app
        .post("/__sim/trigger/sim.notify.down", &json!({"tenantt": "x"}))
        .await;
    assert_eq!(status, 400);
    assert!(error_text(&body).contains("no parameter"), "{body}");
    app.shutdown().await;
}

/// An endpoint that takes no body refuses one with fields (it used to ignore them, so a resend
/// with a body started a new series as if the body mattered); an empty body or `{}` is fine.
#[tokio::test]
async fn an_endpoint_without_a_body_refuses_body_fields() {
    let app = spawn_app().await;
    let id = delivered_ping(&app).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resend = format!("/__sim/notifications/{id}/resend");
    let (status, body) = app.post(&resend, &json!({"x": 1})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_text(&body),
        "unknown field `x` in the JSON body of POST /__sim/notifications/{id}/resend. It accepts no fields."
    );
    assert_eq!(body["in"], "body");
    let series = |n: &Value| n["series"].clone();
    let before = app.get_json(&format!("/__sim/notifications/{id}")).await;
    let (status, body) = app.post("/__sim/coverage/reset", &json!({"x": 1})).await;
    assert_eq!((status, &body["unknown"]), (400, &json!("x")), "{body}");
    let http = reqwest::Client::new();
    let cleared = http
        .delete(format!("{}/__sim/requests", app.url))
        .body(r#"{"surface": "whalet"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status().as_u16(), 400);
    assert!(!app.get_json("/__sim/requests").await["requests"]
        .as_array()
        .unwrap()
        .is_empty());
    // Nothing was resent; an empty body and `{}` still work.
    let after = app.get_json(&format!("/__sim/notifications/{id}")).await;
    assert_eq!(series(&after), series(&before));
    let (status, body) = app.post_raw(&resend, "application/json", Vec::new()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.post("/__sim/coverage/reset", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn answers_are_camel_case_with_iso_times_beside_epoch_ms() {
    let app = spawn_app().await;
    let n = delivered_ping(&app).await;
    assert_eq!(n["createdAtUtc"], "2025-01-01T00:00:00Z", "{n}");
    assert!(
        n["finishedAt"].is_i64() && n["finishedAtUtc"].is_string(),
        "{n}"
    );
    let attempt = &n["attempts"][0];
    assert!(attempt["virtualTimeUtc"].is_string(), "{attempt}");
    assert!(attempt["wallTimeUtc"].is_string(), "{attempt}");
    let behaviour = n["behaviour"].as_object().unwrap();
    assert!(behaviour.contains_key("corruptSignature"), "{n}");
    assert!(behaviour.keys().all(|k| !k.contains('_')), "{n}");
    let listed = app.get_json("/__sim/notifications").await["notifications"][0].clone();
    assert_eq!(listed["createdAtUtc"], n["createdAtUtc"]);
    let text = "name = \"slow\"\n[[rule]]\nsurface = \"whalet\"\noperation = \"connectivity\"\n[rule.then]\ncode = \"FAILURE\"\nhttp_status = 503\n[rule.then.notify]\ncorrupt_signature = true\n";
    let (status, loaded) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{loaded}");
    assert_eq!(loaded["loaded"]["loadedAtUtc"], "2025-01-01T00:00:00Z");
    let (_, explained) = app
        .post(
            "/__sim/scenarios/explain",
            &json!({"surface": "whalet", "tenant": "whalet:202400000000001", "operation": "connectivity"}),
        )
        .await;
    let decision = &explained["decision"];
    assert_eq!(decision["sync"]["httpStatus"], 503, "{explained}");
    assert_eq!(decision["notify"]["corruptSignature"], true, "{explained}");
    assert!(decision["sync"].get("http_status").is_none(), "{explained}");
    app.shutdown().await;
}

/// The journal and notification listings answered 200 with empty lists for a tenant that is not
/// `provider:id` or does not exist, where `/__sim/state` refuses both: 400 and 404, as it does
/// (the notification ledger also takes a bare id, which must be some tenant's).
#[tokio::test]
async fn listings_check_the_tenant_as_state_does() {
    let app = spawn_app().await;
    delivered_ping(&app).await;
    for path in [
        "/__sim/state",
        "/__sim/requests",
        "/__sim/notifications",
        "/__sim/notifications/wait",
    ] {
        let (status, body) = app.get(&format!("{path}?tenant=paypal:1")).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            error_text(&body).starts_with("tenant must be provider:id"),
            "{path}: {body}"
        );
        let (status, body) = app.get(&format!("{path}?tenant=whalet:1")).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(
            error_text(&body).starts_with("no tenant \"whalet:1\" is configured (configured: "),
            "{path}: {body}"
        );
    }
    let mine = app
        .get_json("/__sim/requests?tenant=whalet:202400000000001")
        .await;
    assert_eq!(mine["requests"].as_array().unwrap().len(), 1, "{mine}");
    // The ledger also takes a bare id: it must be some tenant's.
    let (status, body) = app.get("/__sim/notifications?tenant=bogus").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        error_text(&body).starts_with("no tenant has id \"bogus\" (configured: "),
        "{body}"
    );
    let mine = app
        .get_json("/__sim/notifications?tenant=202400000000001")
        .await;
    assert_eq!(mine["notifications"].as_array().unwrap().len(), 1, "{mine}");
    app.shutdown().await;
}

/// `apiCode` and its synonym `operation` silently preferred `apiCode` when both were given and
/// disagreed: a 400; the same value twice is one filter.
#[tokio::test]
async fn the_journals_two_names_of_the_operation_filter_must_agree() {
    let app = spawn_app().await;
    delivered_ping(&app).await;
    let (status, body) = app
        .get("/__sim/requests?operation=connectivity&apiCode=x")
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_text(&body),
        "apiCode and operation name the same filter and disagree (\"x\" and \"connectivity\"); give one"
    );
    let both = app
        .get_json("/__sim/requests?operation=connectivity&apiCode=connectivity")
        .await;
    assert_eq!(both["requests"].as_array().unwrap().len(), 1, "{both}");
    app.shutdown().await;
}

/// A limit past the largest integer was called "not a non-negative integer": it says it is too
/// large and gives the maximum.
#[tokio::test]
async fn a_limit_too_large_says_so() {
    let app = spawn_app().await;
    for path in ["/__sim/requests", "/__sim/notifications"] {
        let (status, body) = app
            .get(&format!("{path}?limit=99999999999999999999999"))
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            error_text(&body),
            "limit is too large: at most 18446744073709551615, got \"99999999999999999999999\""
        );
    }
    let (status, _) = app.get("/__sim/requests?limit=18446744073709551615").await;
    assert_eq!(status, 200);
    app.shutdown().await;
}

/// A query parameter given twice is refused rather than read as its first value: a reset with
/// two tenants resets neither.
#[tokio::test]
async fn a_query_parameter_given_twice_is_refused() {
    let app = spawn_app().await;
    let before = app.get_json("/__sim/state?tenant=pockyt:202333").await;
    for (method, path) in [
        (
            "POST",
            "/__sim/reset?tenant=pockyt:202333&tenant=whalet:202400000000001",
        ),
        (
            "GET",
            "/__sim/requests?tenant=whalet:202400000000001&tenant=bogus",
        ),
        (
            "GET",
            "/__sim/coverage?tenant=pockyt:202333&tenant=whalet:999",
        ),
    ] {
        let (status, body) = match method {
            "POST" => app.post(path, &serde_json::json!({})).await,
            _ => app.get(path).await,
        };
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body.to_string()
                .contains("\\\"tenant\\\" is given more than once"),
            "{path}: {body}"
        );
    }
    assert_eq!(
        app.get_json("/__sim/state?tenant=pockyt:202333").await,
        before
    );
    app.shutdown().await;
}

/// `timeoutMs` and its older spelling `timeout_ms` given with different values: one was used
/// silently (a wait of 10 ms or of 20 s, unseen). They must agree, as `apiCode` and `operation`
/// must; the same value twice is one timeout.
#[tokio::test]
async fn the_waits_two_names_of_the_timeout_must_agree() {
    let app = spawn_app().await;
    let (status, body) = app
        .get("/__sim/notifications/wait?apiCode=connectivityNotify&businessId=zzz&timeoutMs=10&timeout_ms=20000")
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_text(&body),
        "timeoutMs and timeout_ms name the same timeout and disagree (\"10\" and \"20000\"); give one"
    );
    let (status, body) = app
        .get("/__sim/notifications/wait?apiCode=connectivityNotify&businessId=zzz&timeoutMs=10&timeout_ms=10")
        .await;
    assert_eq!(status, 408, "{body}");
    app.shutdown().await;
}

/// `POST /__sim/clock/advance` answered every bad body with "… or {"ms": n} (…), not both",
/// though most gave one field: each mistake now has its own message, and the clock stays.
#[tokio::test]
async fn each_bad_advance_body_is_told_its_own_mistake() {
    let app = spawn_app().await;
    let before = app.get_json("/__sim/clock").await["now"].clone();
    let cases = [
        (
            json!({}),
            "give how far to move: {\"seconds\": n} (a number from 0 to 315360000) or {\"ms\": n} (an integer from 0 to 315360000000)",
        ),
        (
            json!({"seconds": 1, "ms": 1000}),
            "give seconds or ms, not both: {\"seconds\": n} (a number from 0 to 315360000) or {\"ms\": n} (an integer from 0 to 315360000000)",
        ),
        (
            json!({"seconds": -1}),
            "seconds is out of range: give a number from 0 to 315360000, got -1",
        ),
        (
            json!({"seconds": 1e300}),
            "seconds is out of range: give a number from 0 to 315360000, got 1e+300",
        ),
        (
            json!({"seconds": "5"}),
            "seconds must be a number from 0 to 315360000, got \"5\"",
        ),
        (
            json!({"ms": -1}),
            "ms is out of range: give an integer from 0 to 315360000000, got -1",
        ),
        (
            json!({"ms": 1e20}),
            "ms is out of range: give an integer from 0 to 315360000000, got 1e+20",
        ),
        (
            json!({"ms": 1.5}),
            "ms must be a whole number of milliseconds (an integer from 0 to 315360000000), got 1.5; give a fraction of a second as seconds",
        ),
        (
            json!({"ms": null}),
            "ms must be an integer from 0 to 315360000000, got null",
        ),
    ];
    for (body, message) in cases {
        let (status, reply) = app.post("/__sim/clock/advance", &body).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert_eq!(error_text(&reply), message, "{body}");
    }
    assert_eq!(app.get_json("/__sim/clock").await["now"], before);
    app.shutdown().await;
}
