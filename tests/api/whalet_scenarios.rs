//! The shipped Whalet scenarios are well formed and name real operations and triggers; the
//! timeline of `collection-arrives` is replayed through the trigger endpoint it names, as the
//! scenario engine does, and pays a B2C account.

use serde_json::{json, Value};

use crate::helpers::{repo_path, spawn_app};
use crate::whalet_support::*;

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(repo_path(&format!("scenarios/{name}.toml"))).unwrap();
    let parsed: toml::Value = toml::from_str(&text).unwrap();
    serde_json::to_value(parsed).unwrap()
}

#[tokio::test]
async fn onboarding_rejected_asks_for_material() {
    let s = load("onboarding-rejected");
    assert_eq!(s["name"], "onboarding-rejected");
    let rule = &s["rule"][0];
    assert_eq!(rule["operation"], "userOnboardingApply");
    assert_eq!(rule["then"]["result"], "failure");
    assert_eq!(
        rule["then"]["values"],
        json!({"reMaterial": "Y", "materialType": "Reject"})
    );
}

#[tokio::test]
async fn collection_arrives_pays_the_newest_b2c_account() {
    let s = load("collection-arrives");
    assert_eq!(s["name"], "collection-arrives");
    assert_eq!(s["rule"][0]["operation"], "mockPayeeNotify");
    let app = spawn_app().await;
    let triggers = app.get_json("/__sim/triggers").await;
    let known: Vec<&str> = triggers["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let (user_id, _, _) = b2c_ready(&app, "timeline", "USD").await;
    let timeline = s["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 2);
    for event in timeline {
        let name = event["event"].as_str().unwrap();
        assert!(known.contains(&name), "{name} is not a trigger");
        let arrived = trigger(&app, name, event["params"].clone()).await;
        assert_eq!(arrived["userId"], user_id.as_str());
        assert_eq!(arrived["status"], "PENDING");
    }
    app.advance(5.0).await;
    let row = balance(&app, &user_id, "B2C", "USD").await;
    assert_eq!(row["balance"], money(json!(1336.4), 133640, "USD"));
    assert_eq!(received(&app, "collectionReceivedNotify").len(), 2);
    app.assert_invariants().await;
    app.shutdown().await;
}
