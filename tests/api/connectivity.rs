//! `connectivity` end to end: the sync echo and the connectivityNotify half.

use serde_json::json;

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
