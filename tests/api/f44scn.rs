//! Scenario rules that could never match for the tenant the scenario is loaded for are refused
//! at load, as a rule's own `tenant` of another provider is; and `http_status` without `code` is
//! refused on every rule that could decide a Whalet operation, not only `surface = "whalet"`
//! (docs/SCENARIOS.md, "Top-level keys", "Matching", "Outcome").

use serde_json::Value;

use crate::helpers::{repo_path, spawn_app, TestApp};

async fn loaded(app: &TestApp) -> Vec<Value> {
    let listed = app.get_json("/__sim/scenarios").await;
    listed["scenarios"].as_array().cloned().unwrap()
}

#[tokio::test]
async fn a_whalet_scenario_loaded_for_a_pockyt_tenant_is_refused_naming_the_surface() {
    let app = spawn_app().await;
    let text = std::fs::read_to_string(repo_path("scenarios/payout-fails.toml")).unwrap();
    let (status, body) = app
        .load_scenario(&text, "tenant=pockyt:202333&file=payout-fails.toml")
        .await;
    assert_eq!(status, 400, "{body}");
    let reason = body["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("surface whalet") && reason.contains("pockyt:202333"),
        "{body}"
    );
    assert!(reason.contains("could never match"), "{body}");
    let line = text.lines().position(|l| l.starts_with("surface")).unwrap() + 1;
    assert_eq!(body["line"], line, "{body}");
    assert!(loaded(&app).await.is_empty(), "nothing loaded");

    // The same scoping written in the file.
    let scoped = format!("tenant = \"pockyt:202333\"\n{text}");
    let (status, body) = app.load_scenario(&scoped, "").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["line"], line + 1, "{body}");

    // For a Whalet tenant it loads.
    let (status, body) = app
        .load_scenario(&text, "tenant=whalet:202400000000001")
        .await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn an_operation_of_another_provider_in_a_scenario_for_one_tenant_is_refused_naming_it() {
    let app = spawn_app().await;
    let text = "name = \"mixed\"\n[[rule]]\noperation = [\"payoutConfirm\", \"/v3/payouts/pay\"]\n\
                [rule.then]\nresult = \"failure\"\n";
    let (status, body) = app
        .load_scenario(text, "tenant=whalet:202400000000001")
        .await;
    assert_eq!(status, 400, "{body}");
    let reason = body["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("\"/v3/payouts/pay\"") && reason.contains("surface pockyt"),
        "{body}"
    );
    assert_eq!(
        (body["line"].as_u64(), body["column"].as_u64()),
        (Some(3), Some(31)),
        "{body}"
    );
    // For every tenant each entry matches its own provider's requests.
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn http_status_without_code_on_a_rule_that_could_decide_a_whalet_operation_is_refused() {
    let app = spawn_app().await;
    for selectors in ["operation = \"userOnboardingApply\"\n", ""] {
        let text =
            format!("name = \"busy\"\n[[rule]]\n{selectors}[rule.then]\nhttp_status = 503\n");
        let (status, body) = app.load_scenario(&text, "").await;
        assert_eq!(status, 400, "{selectors}: {body}");
        assert!(
            body["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("http_status goes with a code"),
            "{selectors}: {body}"
        );
        assert_eq!(body["line"], 4 + selectors.lines().count(), "{body}");
    }
    assert!(loaded(&app).await.is_empty(), "nothing loaded");
    // On another surface the status applies to whatever the operation answers.
    let text = "name = \"busy\"\n[[rule]]\nsurface = \"infinia\"\n[rule.then]\nhttp_status = 503\n";
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}
