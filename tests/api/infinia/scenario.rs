//! scenarios/infinia-seller-lifecycle.toml: the file names only operations and triggers this
//! surface has. Its story (bind → trade details → sharing → frozen at 2 min → resumed at 5 min)
//! runs end to end through the real engine in `e2e_scenarios.rs`.

use super::support::spawn_infinia;
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
        .map(|op| op.name)
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
