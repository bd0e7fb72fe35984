//! `connectivity` end to end: the sync echo and the connectivityNotify half.

use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn echoes_the_response_message_as_messge() {
    let app = spawn_app().await;
    let reply = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "pong 你好"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS");
    assert_eq!(reply.detail, "成功");
    assert_eq!(reply.body, Some(json!({"messge": "pong 你好"})));
    app.shutdown().await;
}

#[tokio::test]
async fn response_flag_n_gives_a_signed_reply_without_body() {
    let app = spawn_app().await;
    let reply = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "N"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS");
    // Head only (the client verified its signature over the string without `encrypt`).
    assert_eq!(reply.body, None);
    app.shutdown().await;
}

#[tokio::test]
async fn notify_flag_sends_a_signed_connectivity_notify() {
    let app = spawn_app().await;
    let reply = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": "Y", "notifyMessage": "ping", "responseFlag": "N"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS");
    let n = app.wait_notification("apiCode=connectivityNotify").await;
    assert_eq!(n["status"], "delivered");
    let received = app.receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].api_code, "connectivityNotify");
    assert_eq!(received[0].body, Some(json!({"notifyMessage": "ping"})));
    assert_eq!(received[0].error, None);
    app.shutdown().await;
}

#[tokio::test]
async fn the_path_form_dispatches_too() {
    let app = spawn_app().await;
    let mut client = app.client.clone();
    client.url = format!("{}/api/connectivity", app.url);
    let reply = client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "x"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS");
    app.shutdown().await;
}

/// The connectivity trigger sends `count` notifications at once (a burst for load tests) and
/// refuses a count outside 1..=[notify] ledger_capacity without sending anything.
#[tokio::test]
async fn the_connectivity_trigger_sends_a_burst_of_count_notifications() {
    let app = crate::helpers::spawn_with(crate::helpers::Setup {
        config: Some("[notify]\nledger_capacity = 5\n".into()),
        ..Default::default()
    })
    .await;
    let path = "/__sim/trigger/whalet.connectivity.notify";
    let partner = "202400000000001";
    for (count, bad) in [
        (json!(0), "0"),
        (json!(6), "6"),
        (json!("many"), "\"many\""),
    ] {
        let (status, body) = app
            .post(path, &json!({"partnerId": partner, "count": count}))
            .await;
        assert_eq!(status, 422, "{body}");
        let error = body["error"].as_str().unwrap();
        assert!(
            error.contains("from 1 to 5") && error.ends_with(&format!("not {bad}")),
            "{error}"
        );
    }
    let listed = app.get_json("/__sim/notifications").await;
    assert_eq!(
        listed["notifications"],
        json!([]),
        "a refused burst sent nothing"
    );

    let (status, body) = app
        .post(
            path,
            &json!({"partnerId": partner, "count": 3, "notifyMessage": "burst"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let ids = body["result"]["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(ids.len(), 3, "{body}");
    for id in &ids {
        let path = format!("/__sim/notifications/{}", id.as_str().unwrap());
        let mut status = Value::Null;
        for _ in 0..200 {
            status = app.get_json(&path).await["status"].clone();
            if status == "delivered" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(status, "delivered", "{id}");
    }
    let received = app.receiver.received();
    assert_eq!(received.len(), 3);
    assert!(received
        .iter()
        .all(|r| r.body == Some(json!({"notifyMessage": "burst"}))));
    // Regression: one notification was answered as `notification` alone, a burst as
    // `notifications`; a script reads `notifications` whatever the count.
    let (status, body) = app.post(path, &json!({"partnerId": partner})).await;
    assert_eq!(status, 200, "{body}");
    let one = &body["result"];
    assert_eq!(
        one["notifications"].as_array().map(Vec::len),
        Some(1),
        "{body}"
    );
    assert_eq!(one["notifications"][0], one["notification"], "{body}");
    assert_eq!(
        body["result"]["notification"],
        body["result"]["notifications"][0]
    );
    app.shutdown().await;
}

/// Regression: `connectivity` stopped at its first bad field (`{}` named only `notifyFlag`); it
/// reads its fields as every operation does, so one PARAMETER_ERROR names every problem, and a
/// refused call sends no notification.
#[tokio::test]
async fn every_bad_field_is_named_in_one_refusal() {
    let app = spawn_app().await;
    let required =
        "notifyFlag is required (\"Y\" or \"N\"); responseFlag is required (\"Y\" or \"N\")";
    for (body, detail) in [
        (json!({}), required.to_owned()),
        (
            json!({"notifyFlag": "x", "responseFlag": "x"}),
            "notifyFlag must be \"Y\" or \"N\", got \"x\"; responseFlag must be \"Y\" or \"N\", got \"x\"".to_owned(),
        ),
        (
            json!({"notifyFlag": "Y", "responseFlag": "Y", "notifyMessage": 5, "responseMessage": 6}),
            "notifyMessage must be a string, got a number; responseMessage must be a string, got a number".to_owned(),
        ),
        (
            json!({"notifyFlag": 1, "responseMessage": []}),
            "notifyFlag must be a string, got a number; responseFlag is required (\"Y\" or \"N\"); \
             responseMessage must be a string, got an array"
                .to_owned(),
        ),
    ] {
        let reply = app.client.call("connectivity", &body).await.unwrap();
        assert_eq!(reply.code, "PARAMETER_ERROR", "{body}");
        assert_eq!(reply.detail, detail, "{body}");
    }
    // A blank message is echoed as sent, not dropped as absent.
    let reply = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": " "}),
        )
        .await
        .unwrap();
    assert_eq!(reply.body, Some(json!({"messge": " "})));
    let listed = app.get_json("/__sim/notifications").await;
    assert_eq!(
        listed["notifications"],
        json!([]),
        "a refused call sent nothing"
    );
    app.shutdown().await;
}
