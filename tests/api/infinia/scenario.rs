//! scenarios/infinia-seller-lifecycle.toml: the file names only operations and triggers this
//! surface has, and its story (bind → trade details → sharing → frozen at 2 min → resumed at
//! 5 min) runs end to end when its timeline events are fired at their virtual times.

use serde_json::{json, Value};

use super::support::{set_hook_url, sftp_batch, sftp_port, spawn_infinia, HookReceiver, Merchant};
use crate::helpers::repo_path;

fn scenario() -> toml::Value {
    let text =
        std::fs::read_to_string(repo_path("scenarios/infinia-seller-lifecycle.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

#[tokio::test]
async fn the_scenario_names_real_operations_and_triggers() {
    let app = spawn_infinia("").await;
    let s = scenario();
    assert_eq!(s["name"].as_str(), Some("infinia-seller-lifecycle"));
    let operations: Vec<&str> = whalet_sim::api::infinia::OPERATIONS
        .iter()
        .map(|op| op.path)
        .chain([whalet_sim::sftp::process::OPERATION])
        .collect();
    for rule in s["rule"].as_array().unwrap() {
        assert_eq!(rule["surface"].as_str(), Some("infinia"));
        let op = rule["operation"].as_str().unwrap();
        assert!(operations.contains(&op), "unknown operation {op}");
    }
    let triggers = app.get_json("/__sim/triggers").await;
    for event in s["timeline"].as_array().unwrap() {
        let name = event["event"].as_str().unwrap();
        assert!(
            triggers.to_string().contains(&format!("\"{name}\"")),
            "unknown trigger {name}"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn the_lifecycle_story_runs_with_its_timeline_events() {
    let app = spawn_infinia("").await;
    let hooks = HookReceiver::start(vec![]).await;
    set_hook_url(&app, &hooks.url);
    let m = Merchant::demo();
    m.ok(
        &app,
        "account-binding/request",
        &super::support::binding_request("ABR-1", "SELLER-123456"),
    )
    .await;
    app.post(
        "/__sim/trigger/infinia.binding.approved",
        &json!({"requestNo": "ABR-1"}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let sample = repo_path("samples/infinia-trade-details.csv");
    let (ok, out) = sftp_batch(
        sftp_port(&app),
        dir.path(),
        "demo-app",
        &format!("put {sample} /upload/t.csv\n"),
    )
    .await;
    assert!(ok, "{out}");
    app.advance(10.0).await;
    let r = m.ok(&app, "revenue-sharing/request", &json!({"requestNo": "RS-1", "currency": "USD", "sellerId": "SELLER-123456", "amount": "45.50"})).await;
    assert_eq!(r["status"], "PROCESSING");
    // Fire the timeline's events at their times, as the scenario engine does.
    let mut elapsed = 10.0;
    for event in scenario()["timeline"].as_array().unwrap() {
        let at: f64 = event["at"]
            .as_str()
            .unwrap()
            .trim_end_matches('m')
            .parse::<f64>()
            .unwrap()
            * 60.0;
        app.advance(at - elapsed).await;
        elapsed = at;
        let params: Value = serde_json::to_value(&event["params"]).unwrap();
        let (status, body) = app
            .post(
                &format!("/__sim/trigger/{}", event["event"].as_str().unwrap()),
                &params,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        if event["event"].as_str() == Some("infinia.seller.frozen") {
            let refused = m.call(&app, "revenue-sharing/request", &json!({"requestNo": "RS-2", "currency": "USD", "sellerId": "SELLER-123456", "amount": "1.00"})).await;
            assert_eq!(refused.code, "SYS-002");
        }
    }
    app.advance(1.0).await;
    let q = m
        .ok(&app, "revenue-sharing/query", &json!({"requestNo": "RS-1"}))
        .await;
    assert_eq!(q["status"], "SUCCESS");
    let statuses: Vec<String> = hooks
        .hooks()
        .iter()
        .filter_map(|h| {
            h.data
                .as_ref()
                .map(|d| d["status"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(statuses, ["ACTIVE", "FROZEN", "ACTIVE"]);
    app.assert_invariants().await;
    app.shutdown().await;
}
