//! The seller status webhook: sealed to the merchant, acknowledged only by exactly `SUCCESS`,
//! retried at most 5 times after 1, 2, 4, 8, 16 s (virtual), or the configured intervals.

use serde_json::json;

use super::support::{bind, set_hook_url, spawn_infinia, HookReceiver, Merchant, SFTP_CONFIG};
use crate::helpers::{spawn_with, Setup, TestApp};

#[tokio::test]
async fn freezing_a_seller_notifies_with_retries_until_exactly_success() {
    let app = spawn_infinia("notify_on_binding = false\n").await;
    let hooks =
        HookReceiver::start(vec![(500, "busy"), (200, "success"), (200, " SUCCESS\n")]).await;
    set_hook_url(&app, &hooks.url);
    let m = Merchant::demo();
    bind(&app, &m, "4347874").await;
    assert!(
        hooks.hooks().is_empty(),
        "notify_on_binding = false sends nothing"
    );
    let (status, body) = app
        .post(
            "/__sim/trigger/infinia.seller.frozen",
            &json!({"sellerId": "4347874"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let q = m
        .ok(
            &app,
            "account-binding/query",
            &json!({"sellerId": "4347874"}),
        )
        .await;
    assert_eq!(q["sellerStatus"], "FROZEN");
    for _ in 0..3 {
        app.advance(4.0).await;
    }
    let n = app.wait_notification("apiCode=sellerStatus").await;
    assert_eq!(n["status"], "delivered", "{n}");
    let attempts = n["attempts"].as_array().unwrap();
    let offsets: Vec<i64> = attempts
        .iter()
        .map(|a| a["virtualTime"].as_i64().unwrap() - attempts[0]["virtualTime"].as_i64().unwrap())
        .collect();
    assert_eq!(offsets, [0, 1_000, 3_000, 7_000]);
    assert_eq!(attempts[0]["verdict"], "failed: HTTP 500");
    assert!(
        attempts[1]["verdict"]
            .as_str()
            .unwrap()
            .contains("exactly SUCCESS"),
        "{n}"
    );
    assert!(
        attempts[2]["verdict"]
            .as_str()
            .unwrap()
            .contains("exactly SUCCESS"),
        "{n}"
    );
    assert_eq!(attempts[3]["verdict"], "delivered");
    let hooks = hooks.hooks();
    assert_eq!(hooks.len(), 4);
    let data = hooks[0].data.clone().unwrap();
    assert_eq!(
        (data["sellerId"].as_str(), data["status"].as_str()),
        (Some("4347874"), Some("FROZEN"))
    );
    let request_no = data["requestNo"].as_str().unwrap();
    assert_eq!(request_no.len(), 36, "a UUID: {request_no}");
    assert!(
        hooks
            .iter()
            .all(|h| h.signature_ok && h.data == Some(data.clone())),
        "every retry is the same event"
    );
    assert_eq!(hooks[0].envelope["appId"], "infinia");
    assert_eq!(hooks[0].envelope["dataType"], "JSON");
    // Resuming sends ACTIVE.
    app.post(
        "/__sim/trigger/infinia.seller.resumed",
        &json!({"sellerId": "4347874"}),
    )
    .await;
    let n = app
        .wait_notification(&format!(
            "apiCode=sellerStatus&after={}",
            n["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(n["payload"]["status"], "ACTIVE");
    app.shutdown().await;
}

#[tokio::test]
async fn after_five_retries_the_notification_is_exhausted() {
    let app =
        spawn_infinia("notify_on_binding = false\nwebhook_retry_seconds = [1, 1, 1, 1, 1]\n").await;
    let hooks = HookReceiver::start(vec![(503, "down"); 10]).await;
    set_hook_url(&app, &hooks.url);
    let m = Merchant::demo();
    bind(&app, &m, "S-5").await;
    app.post(
        "/__sim/trigger/infinia.seller.frozen",
        &json!({"sellerId": "S-5"}),
    )
    .await;
    for _ in 0..6 {
        app.advance(1.0).await;
    }
    let n = app.wait_notification("apiCode=sellerStatus").await;
    assert_eq!(n["status"], "exhausted");
    assert_eq!(
        n["attempts"].as_array().unwrap().len(),
        6,
        "first try + 5 retries"
    );
    assert_eq!(hooks.hooks().len(), 6);
    let (status, body) = app
        .post(
            "/__sim/trigger/infinia.seller.frozen",
            &json!({"sellerId": "nobody"}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.to_string().contains("not bound"), "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn more_than_five_retry_intervals_is_a_configuration_error() {
    let config =
        whalet_sim::config::Config::parse("[infinia]\nwebhook_retry_seconds = [1,1,1,1,1,1]\n")
            .unwrap();
    let err = whalet_sim::App::new(config, Default::default())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("at most 5"), "{err}");
}

/// The simulator with `[notify] run_tag` fixed to `tag` (or random per process when None).
async fn spawn_tagged(tag: Option<u32>) -> TestApp {
    let notify = tag.map_or(String::new(), |t| format!("[notify]\nrun_tag = {t}\n"));
    spawn_with(Setup {
        config: Some(format!("{notify}{SFTP_CONFIG}")),
        ..Default::default()
    })
    .await
}

/// Binds `seller` (which notifies its ACTIVE status) and returns that notification's requestNo,
/// checked to be a version 4 UUID.
async fn bind_and_read_request_no(app: &TestApp, seller: &str) -> String {
    bind(app, &Merchant::demo(), seller).await;
    app.advance(0.0).await;
    let ledger = app
        .get_json("/__sim/notifications?apiCode=sellerStatus")
        .await;
    let mine: Vec<&serde_json::Value> = ledger["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["payload"]["sellerId"] == seller)
        .collect();
    assert_eq!(mine.len(), 1, "{ledger}");
    let no = mine[0]["requestNo"].as_str().unwrap().to_owned();
    assert_eq!(
        mine[0]["payload"]["requestNo"], no,
        "the ledger shows the payload's"
    );
    let shape: Vec<usize> = no.split('-').map(str::len).collect();
    assert_eq!(shape, [8, 4, 4, 4, 12], "a UUID: {no}");
    assert!(
        no.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
        "{no}"
    );
    assert_eq!(&no[14..15], "4", "version 4: {no}");
    assert!("89ab".contains(&no[19..20]), "RFC 4122 variant: {no}");
    no
}

/// The merchant deduplicates on requestNo (docs/INFINIA.md): a reset must not hand a new
/// notification an old one's requestNo, even with a fixed run tag.
#[tokio::test]
async fn seller_status_request_nos_do_not_repeat_after_a_reset() {
    let app = spawn_tagged(Some(1)).await;
    let first = bind_and_read_request_no(&app, "SELLER-A").await;
    let (status, body) = app.post("/__sim/reset", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    let second = bind_and_read_request_no(&app, "SELLER-B").await;
    assert_ne!(first, second, "another seller's notification after a reset");
    app.shutdown().await;
}

/// Two runs (a restart, or the next test run against the same receiver) never share a
/// requestNo; with `[notify] run_tag` fixed the same seed and requests give the same one, and
/// the seed still shows in it.
#[tokio::test]
async fn seller_status_request_nos_differ_across_runs_unless_the_run_tag_is_fixed() {
    let mut seen = Vec::new();
    for (tag, seed) in [
        (None, 7),
        (None, 7),
        (Some(1), 7),
        (Some(1), 7),
        (Some(1), 8),
    ] {
        let app = spawn_tagged(tag).await;
        let scenario = format!("name = \"seeded\"\nseed = {seed}\n");
        assert_eq!(app.load_scenario(&scenario, "").await.0, 200);
        seen.push(bind_and_read_request_no(&app, "SELLER-RUN").await);
        app.shutdown().await;
    }
    assert_ne!(seen[0], seen[1], "two runs, two requestNos");
    assert_eq!(
        seen[2], seen[3],
        "a fixed run tag and seed: the same requestNo"
    );
    assert_ne!(seen[3], seen[4], "another seed, another requestNo");
}
