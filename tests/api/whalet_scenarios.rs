//! The shipped Whalet scenarios are well formed and name real operations. They run end to end
//! through the real engine in `e2e_scenarios.rs`.

use serde_json::{json, Value};

use crate::helpers::repo_path;

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
