//! Fixes of stop 49: a restored requestNo memory keeps to `[whalet] request_no_memory`; a
//! tenant's own contract overlay refuses tables of another provider's surfaces; a pending
//! `GET /__sim/notifications/wait` is answered at once when the simulator stops.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_config};
use crate::persistence::{export, import};

const TENANT: &str = "whalet:202400000000001";

/// The tester's report: six requestNos remembered, the snapshot imported into a simulator
/// configured to remember two: all six were still refused and the snapshot still held them all.
/// At load the oldest beyond the limit are forgotten: the newest two are refused as duplicates,
/// the others accepted again, and the snapshot holds two.
#[tokio::test]
async fn a_restored_request_no_memory_keeps_only_the_newest_within_the_configured_limit() {
    let app = spawn_app().await;
    let body = json!({"notifyFlag": "N", "responseFlag": "Y"});
    for i in 1..=6 {
        let reply = app
            .client
            .call_with("connectivity", &format!("A{i}"), &body)
            .await
            .unwrap();
        assert_eq!(reply.code, "SUCCESS", "{}", reply.detail);
    }
    let snapshot = export(&app, "").await;
    app.shutdown().await;

    let other = spawn_config("[whalet]\nrequest_no_memory = 2\n").await;
    let (status, imported) = import(&other, "", snapshot).await;
    assert_eq!(status, 200, "{imported}");
    let doc: Value = serde_json::from_slice(&export(&other, "").await).unwrap();
    assert_eq!(
        doc["tenants"][TENANT]["request_nos"],
        json!(["A5", "A6"]),
        "the newest two are kept"
    );
    for (no, code) in [
        ("A6", "REQUEST_NO_NOT_UNIQUE"),
        ("A1", "SUCCESS"),
        ("A3", "SUCCESS"),
    ] {
        let reply = other
            .client
            .call_with("connectivity", no, &body)
            .await
            .unwrap();
        assert_eq!(reply.code, code, "{no}: {}", reply.detail);
    }
    other.shutdown().await;
}

/// The tester's report: with a wait pending, a shutdown waited the whole 10 s drain and the
/// waiting client got no answer at all. The wait is answered 503 at once, saying why, and the
/// shutdown is prompt.
#[tokio::test]
async fn a_pending_notification_wait_is_answered_at_once_when_the_simulator_stops() {
    let mut app = spawn_app().await;
    let (http, url) = (app.http.clone(), app.url.clone());
    let waiting = tokio::spawn(async move {
        let url = format!("{url}/__sim/notifications/wait?apiCode=connectivityNotify&businessId=nothingComes&timeoutMs=60000");
        http.get(&url, Duration::from_secs(30)).await
    });
    // The wait is pending (it would time out after a minute).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished());
    let started = Instant::now();
    app.running.take().unwrap().shutdown().await;
    let stopped_in = started.elapsed();
    let answer = waiting.await.unwrap().expect("the wait is answered");
    assert!(
        stopped_in < Duration::from_secs(3),
        "shutdown took {stopped_in:?}"
    );
    assert_eq!(
        answer.status,
        503,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let body: Value = serde_json::from_slice(&answer.body).unwrap();
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains("the simulator is stopping"), "{body}");
    app.shutdown().await;
}
