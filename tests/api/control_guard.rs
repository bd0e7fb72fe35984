//! The control plane and the dashboard refuse what a hostile web page could send: a
//! state-changing request from another origin (even `no-cors`), and any request by a Host name
//! that is not this simulator's (DNS rebinding). Non-browser clients are unaffected.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_with, Setup};

/// A raw request with chosen headers; (status, body).
async fn send(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut req = client.request(method.parse().unwrap(), format!("{url}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.body(body.to_owned()).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn a_cross_site_post_cannot_reset_or_credit() {
    let app = spawn_app().await;
    app.client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "Y"}),
        )
        .await
        .unwrap();
    let evil = [
        ("origin", "http://evil.example"),
        ("content-type", "text/plain"),
    ];
    let (status, body) = send(&app.url, "POST", "/__sim/reset", &evil, "{}").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("cross-site request refused"), "{body}");
    let trigger = r#"{"partnerId":"202400000000001","amount":"777.77","currency":"USD"}"#;
    let (status, _) = send(
        &app.url,
        "POST",
        "/__sim/trigger/whalet.collection.received",
        &evil,
        trigger,
    )
    .await;
    assert_eq!(status, 403);
    // Nothing happened: the journal still holds the partner's request and no trigger.
    let journal = app.get_json("/__sim/requests").await;
    let ops: Vec<&str> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, vec!["connectivity"]);
    // The simulator's own pages (same origin) and clients without Origin still work.
    let own = app.url.clone();
    let same = [
        ("origin", own.as_str()),
        ("content-type", "application/json"),
    ];
    let (status, body) = send(&app.url, "POST", "/__sim/reset", &same, "{}").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_foreign_host_name_cannot_read_the_journal_unless_allowed() {
    let app = spawn_app().await;
    let rebound = [("host", "evil.example:8080")];
    let (status, body) = send(&app.url, "GET", "/__sim/requests", &rebound, "").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("allowed_hosts"), "{body}");
    let (status, _) = send(&app.url, "GET", "/", &rebound, "").await;
    assert_eq!(status, 403);
    // Health stays open (container health checks use the service name).
    let (status, _) = send(&app.url, "GET", "/__sim/health", &rebound, "").await;
    assert_eq!(status, 200);
    app.shutdown().await;

    let app = spawn_with(Setup {
        config: Some("[server]\nallowed_hosts = [\"sim.internal\"]\n".into()),
        ..Setup::default()
    })
    .await;
    let named = [("host", "sim.internal:8080")];
    let (status, body) = send(&app.url, "GET", "/__sim/requests", &named, "").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}
