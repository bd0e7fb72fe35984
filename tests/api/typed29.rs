//! Typed scenario `values` keys (round 29): `reMaterial` is the vendor's Y/N flag, checked at
//! load; an approval reports `reMaterial N` and `materialType ""` whatever a rule's values say;
//! every `rate` that loads goes on the wire as a JSON number; `validSeconds` reads any whole
//! number; a byte order mark is refused before a scenario in either format.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::whalet2_support::{funded_user, quote};
use crate::whalet_support::{apply_user, received};

/// Loads a one-rule scenario named `typed` whose rule is `rule` (TOML after `[[rule]]`).
async fn load_rule(app: &TestApp, rule: &str) -> (u16, Value) {
    app.load_scenario(&format!("name = \"typed\"\n[[rule]]\n{rule}"), "")
        .await
}

#[tokio::test]
async fn a_re_material_other_than_y_or_n_is_refused_at_load() {
    let app = spawn_app().await;
    for value in ["\"yes\"", "\"y\"", "true", "1"] {
        let rule = format!(
            "operation = \"userOnboardingApply\"\n[rule.then]\nresult = \"failure\"\n\
             values = {{ reMaterial = {value} }}\n"
        );
        let (status, body) = load_rule(&app, &rule).await;
        assert_eq!(status, 400, "{value}: {body}");
        let reason = body["reason"].as_str().unwrap_or_default();
        for needle in ["values.reMaterial", "is not \"Y\" or \"N\""] {
            assert!(reason.contains(needle), "{value}: {needle:?} not in {body}");
        }
        let listed = app.get_json("/__sim/scenarios").await;
        assert_eq!(listed["scenarios"], json!([]), "{value}: nothing loaded");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_scenario_rejection_with_re_material_y_asks_for_material() {
    let app = spawn_app().await;
    let (status, body) = load_rule(
        &app,
        "operation = \"userOnboardingApply\"\n[rule.then]\nresult = \"failure\"\n\
         delay = \"1s\"\nvalues = { reMaterial = \"Y\", materialType = \"Extra\" }\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let user_id = apply_user(&app, "m-y").await;
    app.advance(2.0).await;
    let sent = received(&app, "userOnboardingResultNotify");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["userId"], user_id.as_str());
    assert_eq!(sent[0]["reMaterial"], "Y", "{sent:?}");
    assert_eq!(sent[0]["materialType"], "Extra", "{sent:?}");
    app.shutdown().await;
}

/// docs/FIDELITY.md: on approval `reMaterial` is `N` and `materialType` `""`.
#[tokio::test]
async fn an_approval_reports_no_material_whatever_the_rules_values_say() {
    let app = spawn_app().await;
    let (status, body) = load_rule(
        &app,
        "operation = \"userOnboardingApply\"\n[rule.then]\nresult = \"success\"\n\
         delay = \"1s\"\nvalues = { reMaterial = \"Y\", materialType = \"Extra\" }\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    apply_user(&app, "m-ok").await;
    app.advance(2.0).await;
    let sent = received(&app, "userOnboardingResultNotify");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["status"], "SUCCESS", "{sent:?}");
    assert_eq!(sent[0]["reMaterial"], "N", "{sent:?}");
    assert_eq!(sent[0]["materialType"], "", "{sent:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_rate_with_leading_zeros_is_refused_at_load_naming_the_rate_to_write() {
    let app = spawn_app().await;
    for (value, write) in [
        ("\"007.50\"", "\"7.50\""),
        ("\"000000000007.5\"", "\"7.5\""),
        ("\"00.5\"", "\"0.5\""),
        ("\"07\"", "\"7\""),
    ] {
        let rule =
            format!("operation = \"rateInquiry\"\n[rule.then]\nvalues = {{ rate = {value} }}\n");
        let (status, body) = load_rule(&app, &rule).await;
        assert_eq!(status, 400, "{value}: {body}");
        let reason = body["reason"].as_str().unwrap_or_default();
        for needle in ["values.rate", "leading zeros", &format!("write {write}")] {
            assert!(reason.contains(needle), "{value}: {needle:?} not in {body}");
        }
    }
    app.shutdown().await;
}

#[tokio::test]
async fn every_rate_that_loads_goes_on_the_wire_as_a_number() {
    let app = spawn_app().await;
    let (user, _) = funded_user(&app, "USD", "10").await;
    for value in [
        "\"7.\"",
        "1e1",
        "7.5e0",
        "\"0.00001\"",
        "\"0.5\"",
        "\"7.50\"",
        "\"150\"",
        "7.12",
    ] {
        let rule =
            format!("operation = \"rateInquiry\"\n[rule.then]\nvalues = {{ rate = {value} }}\n");
        let (status, body) = load_rule(&app, &rule).await;
        assert_eq!(status, 200, "{value}: {body}");
        let q = quote(&app, &user, "HKD").await;
        assert!(q["rate"].is_number(), "{value}: {q}");
        app.delete("/__sim/scenarios/typed").await;
    }
    app.shutdown().await;
}

/// A JSON scenario (a JSON number may be any size, unlike a TOML integer) whose one rule on
/// `rateInquiry` sets `values.validSeconds` to the JSON `value`.
async fn load_valid_seconds(app: &TestApp, value: &str) -> (u16, Value) {
    let text = format!(
        "{{\"name\": \"typed\", \"rule\": [{{\"operation\": \"rateInquiry\", \
         \"then\": {{\"values\": {{\"validSeconds\": {value}}}}}}}]}}"
    );
    app.load_scenario(&text, "").await
}

#[tokio::test]
async fn a_valid_seconds_number_that_is_whole_loads_and_one_out_of_range_says_so() {
    let app = spawn_app().await;
    for value in ["600.0", "1e3", "6e2", "600"] {
        let (status, body) = load_valid_seconds(&app, value).await;
        assert_eq!(status, 200, "{value}: {body}");
        app.delete("/__sim/scenarios/typed").await;
    }
    for (value, says) in [
        ("18446744073709551615", "more than 31622400"),
        ("1e30", "more than 31622400"),
        ("-1e30", "less than 1"),
        ("2.5", "not a whole number of seconds"),
    ] {
        let (status, body) = load_valid_seconds(&app, value).await;
        assert_eq!(status, 400, "{value}: {body}");
        let reason = body["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("values.validSeconds"), "{value}: {body}");
        assert!(reason.contains(says), "{value}: {says:?} not in {body}");
    }
    app.shutdown().await;
}

/// One answer for a byte order mark, whatever the format: the mark named, nothing loaded.
#[tokio::test]
async fn a_scenario_with_a_byte_order_mark_is_refused_naming_it_in_either_format() {
    let app = spawn_app().await;
    for text in [
        "\u{feff}{\"name\": \"bom\", \"rule\": [{\"then\": {\"delay\": \"1s\"}}]}",
        "\u{feff}name = \"bom\"\n[[rule]]\nthen = { delay = \"1s\" }\n",
    ] {
        let (status, body) = app.load_scenario(text, "").await;
        assert_eq!(status, 400, "{text}: {body}");
        let reason = body["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("byte order mark"), "{text}: {body}");
        assert_eq!(body["line"], 1, "{body}");
        let listed = app.get_json("/__sim/scenarios").await;
        assert_eq!(listed["scenarios"], json!([]), "{text}: nothing loaded");
        // Without the mark the same scenario loads.
        let (status, body) = app.load_scenario(&text[3..], "").await;
        assert_eq!(status, 200, "{text}: {body}");
        app.delete("/__sim/scenarios/bom").await;
    }
    app.shutdown().await;
}
