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

/// `/file/upload` with another method was a 404 "no route" pointing to `/api` (t54a F8): it is
/// the 405 with `Allow: POST` every other partner path gives, and the 404 of a path no surface
/// serves names every surface's paths.
#[tokio::test]
async fn the_upload_path_with_another_method_is_405_and_the_404_names_every_surface() {
    let app = spawn_app().await;
    for method in ["GET", "PUT"] {
        let r = match method {
            "GET" => app
                .http
                .get(&format!("{}/file/upload", app.url), Duration::from_secs(30))
                .await
                .unwrap(),
            _ => {
                let mut s = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://"))
                    .await
                    .unwrap();
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                s.write_all(
                    b"PUT /file/upload HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await
                .unwrap();
                let mut answer = String::new();
                s.read_to_string(&mut answer).await.unwrap();
                assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
                assert!(
                    answer.to_ascii_lowercase().contains("allow: post"),
                    "{answer}"
                );
                continue;
            }
        };
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(
            r.headers.get("allow").and_then(|v| v.to_str().ok()),
            Some("POST")
        );
    }
    let (status, body) = app.get("/nothing/here").await;
    assert_eq!(status, 404, "{body}");
    let hint = body["hint"].as_str().unwrap();
    for path in [
        "/file/upload",
        "/v1/platform/",
        "/api/v1/",
        "/v3/",
        "/__sim/",
    ] {
        assert!(hint.contains(path), "{path} in {hint}");
    }
    app.shutdown().await;
}

/// A partner restored from a snapshot that this start's configuration lacks (t54a F15): its
/// calls were told only PARTNER_NOT_EXIST. The refusal says the restored state holds it and what
/// to do, and a start from such a snapshot warns naming it (a start without one does not).
#[tokio::test]
async fn a_restored_partner_the_configuration_lacks_is_named_as_such() {
    const EXTRA: &str = "[[whalet.partners]]\npartner_id = \"202400000000077\"\n\
                         public_key = \"@keys/demo-partner/public.pem\"\n";
    let first = crate::helpers::spawn_config(EXTRA).await;
    let snapshot = crate::persistence::export(&first, "").await;
    first.shutdown().await;
    let app = spawn_app().await;
    let (status, imported) = crate::persistence::import(&app, "", snapshot.clone()).await;
    assert_eq!(status, 200, "{imported}");
    let detail = crate::envelope_errors::unknown_partner_detail(&app, "202400000000077").await;
    assert!(
        detail.contains("the restored state holds this partner, but no configuration defines it"),
        "{detail}"
    );
    app.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snapshot.json");
    std::fs::write(&file, &snapshot).unwrap();
    let lines = crate::served::Served::start(&["--snapshot", file.to_str().unwrap()]).until_ready();
    let warned: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("holds tenants no configuration defines"))
        .collect();
    assert_eq!(warned.len(), 1, "{lines:#?}");
    assert!(
        warned[0].contains("whalet:202400000000077"),
        "{}",
        warned[0]
    );
    assert!(
        !warned[0].contains("whalet:202400000000001"),
        "{}",
        warned[0]
    );
    // A new data dir, and a start without a snapshot: nothing to warn of.
    let data = dir.path().join("data");
    let lines = crate::served::Served::start(&["--data-dir", data.to_str().unwrap()]).until_ready();
    assert!(
        !lines.iter().any(|l| l.contains("no configuration defines")),
        "{lines:#?}"
    );
    let lines = crate::served::Served::start(&["--data-dir", data.to_str().unwrap()]).until_ready();
    assert!(
        !lines.iter().any(|l| l.contains("no configuration defines")),
        "{lines:#?}"
    );
}
