//! Every envelope error code produced by a real condition, with a precise detail, state unchanged.

use serde_json::{json, Value};

use crate::helpers::spawn_app;

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

#[tokio::test]
async fn unknown_partner_is_partner_not_exist() {
    let app = spawn_app().await;
    let mut client = app.client.clone();
    client.partner_id = "999".into();
    let reply = client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "N"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "PARTNER_NOT_EXIST");
    assert!(reply.detail.contains("\"999\""), "{}", reply.detail);
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
