//! Diagnostics a newcomer meets first (t54a F4, F5, F7): a notification filter naming nothing
//! the simulator sends is refused at once with the nearest name, not waited on until the
//! timeout; a mistyped control path is pointed to the endpoint it most likely meant; a misspelt
//! trigger or trigger parameter is pointed to the right one.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::spawn_app;

fn error_of(body: &serde_json::Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_notification_filter_naming_no_notification_is_refused_at_once() {
    let app = spawn_app().await;
    let started = Instant::now();
    let (status, body) = app
        .get("/__sim/notifications/wait?apiCode=userOnboardingApply&timeoutMs=20000")
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused only after {:?}",
        started.elapsed()
    );
    let said = error_of(&body);
    assert!(
        said.starts_with("apiCode \"userOnboardingApply\" is no notification the simulator sends")
            && said.contains("userOnboardingResultNotify"),
        "{said}"
    );
    let (status, body) = app
        .get("/__sim/notifications/wait?apiCode=connectivityNotfy&timeoutMs=20000")
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        error_of(&body).contains("did you mean \"connectivityNotify\"?"),
        "{body}"
    );
    // The listing reads the same filter.
    let (status, body) = app.get("/__sim/notifications?apiCode=zzz").await;
    assert_eq!(status, 400, "{body}");
    // Every surface's notifications are names the filter takes, none of them sent yet.
    for topic in [
        "connectivityNotify",
        "shopAccountBindNotify",
        "sellerStatus",
        "payout.success",
        "payout.returned",
    ] {
        let body = app
            .get_json(&format!("/__sim/notifications?apiCode={topic}"))
            .await;
        assert_eq!(body["notifications"], json!([]), "{topic}: {body}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_mistyped_control_path_is_pointed_to_the_endpoint_it_meant() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/__sim/triggers/whalet.account.ready", &json!({}))
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        error_of(&body).ends_with("; did you mean POST /__sim/trigger/whalet.account.ready?"),
        "{body}"
    );
    for (path, meant) in [
        ("/__sim/request", "GET /__sim/requests"),
        ("/__sim/notification", "GET /__sim/notifications"),
        ("/__sim/scenario", "GET /__sim/scenarios"),
        ("/__sim/notificatons/wait", "GET /__sim/notifications/wait"),
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(
            error_of(&body).ends_with(&format!("; did you mean {meant}?")),
            "{path}: {body}"
        );
    }
    // Nothing near: no guess.
    let (status, body) = app.get("/__sim/zzzzzzzz").await;
    assert_eq!(status, 404, "{body}");
    assert!(!error_of(&body).contains("did you mean"), "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_misspelt_trigger_or_parameter_is_pointed_to_the_right_one() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/__sim/trigger/whalet.colection.received",
            &json!({"amount": "1.00"}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        error_of(&body).starts_with(
            "no trigger \"whalet.colection.received\"; did you mean \
             \"whalet.collection.received\"? known: "
        ),
        "{body}"
    );
    let (status, body) = app
        .post(
            "/__sim/trigger/whalet.collection.received",
            &json!({"amount": "1.00", "curency": "USD"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        error_of(&body).contains(
            "has no parameter \"curency\" (did you mean \"currency\"?); its parameters: "
        ),
        "{body}"
    );
    app.shutdown().await;
}
