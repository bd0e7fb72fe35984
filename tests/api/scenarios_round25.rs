//! Round 25 regressions of the scenario engine: a tenant-scoped timeline acts on its tenant only,
//! `explain` agrees with the decision for same-named scenarios, a one-tenant import puts
//! counters back only under the same scenario and never with a window in the future, outcome
//! keys that would do nothing are refused at load, and duration-valued `values` read one grammar
//! on every surface.

use serde_json::{json, Value};

use crate::helpers::{platform_call, repo_path, spawn_app, spawn_config, TestApp};
use crate::persistence::{export, import};
use crate::platform::bind_body;

const DEMO: &str = "whalet:202400000000001";

/// A second Infinia app beside demo-app (the demo merchant's key).
fn second_app_config() -> String {
    format!(
        "[[infinia.apps]]\napp_id = \"app2\"\nmerchant_public_key = \"@{}\"\n",
        repo_path("keys/demo-infinia-merchant/public.pem")
    )
}

/// The load's refusal reason, after asserting it is a 400.
async fn refused(app: &TestApp, text: &str, query: &str) -> String {
    let (status, body) = app.load_scenario(text, query).await;
    assert_eq!(status, 400, "{body}");
    body["reason"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_shipped_seller_lifecycle_loaded_for_another_app_acts_on_that_app_only() {
    let app = spawn_config(&second_app_config()).await;
    let text =
        std::fs::read_to_string(repo_path("scenarios/infinia-seller-lifecycle.toml")).unwrap();
    let (status, body) = app.load_scenario(&text, "tenant=infinia:app2").await;
    assert_eq!(status, 200, "{body}");
    app.advance(300.0).await;
    let journal = app.get_json("/__sim/requests?surface=trigger").await["requests"].clone();
    let fired = journal.as_array().unwrap();
    assert_eq!(fired.len(), 2, "{journal}");
    for entry in fired {
        assert_eq!(entry["tenant"], "infinia:app2", "{entry}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_timeline_event_naming_another_tenant_or_provider_is_refused_at_load() {
    let app = spawn_app().await;
    let other_partner = "name = \"t\"\ntenant = \"whalet:202400000000001\"\n[[timeline]]\nat = \"1s\"\n\
        event = \"whalet.collection.received\"\nparams = { partnerId = \"999\", amount = \"1.00\", currency = \"USD\" }\n";
    let reason = refused(&app, other_partner, "").await;
    for needle in [
        "timeline event 1 (whalet.collection.received)",
        "parameter partnerId",
        "whalet:999",
        "not the scenario's tenant whalet:202400000000001",
    ] {
        assert!(reason.contains(needle), "{needle}: {reason}");
    }
    // The tenant it is loaded for decides: the file's own partner is another one then.
    let own = other_partner.replace("999", "202400000000001");
    assert_eq!(app.load_scenario(&own, "").await.0, 200);
    let reason = refused(&app, &own, "tenant=whalet:202400000000002").await;
    assert!(
        reason.contains("not the scenario's tenant whalet:202400000000002"),
        "{reason}"
    );
    let other_provider =
        "name = \"p\"\n[[timeline]]\nat = \"1s\"\nevent = \"pockyt.balance.funded\"\n\
        params = { currency = \"USD\", amount = \"5.00\" }\n";
    let reason = refused(&app, other_provider, &format!("tenant={DEMO}")).await;
    assert!(
        reason.contains("timeline event 1 (pockyt.balance.funded)")
            && reason.contains("acts on pockyt tenants")
            && reason.contains(DEMO),
        "{reason}"
    );
    let sim_tenant = "name = \"s\"\n[[timeline]]\nat = \"1s\"\nevent = \"sim.notify.down\"\n\
        params = { tenant = \"pockyt:202333\" }\n";
    let reason = refused(&app, sim_tenant, &format!("tenant={DEMO}")).await;
    assert!(
        reason.contains("parameter tenant names tenant pockyt:202333"),
        "{reason}"
    );
    // For every tenant, a timeline may name any tenant.
    assert_eq!(app.load_scenario(other_provider, "").await.0, 200);
    app.shutdown().await;
}

async fn ping(app: &TestApp) -> String {
    app.client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "Y"}),
        )
        .await
        .unwrap()
        .code
}

/// The rule `explain` names now for the demo partner's connectivity.
async fn explained(app: &TestApp) -> Value {
    let (status, body) = app
        .post(
            "/__sim/scenarios/explain",
            &json!({"surface": "whalet", "tenant": DEMO, "operation": "connectivity", "fields": {}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["decision"]["rule"].clone()
}

#[tokio::test]
async fn explain_names_the_rule_that_then_decides_with_same_named_chance_scenarios() {
    let app = spawn_app().await;
    let coin = |code: &str, seed: u64| {
        format!(
            "name = \"coin\"\nseed = {seed}\n[[rule]]\nname = \"{code} coin\"\noperation = \"connectivity\"\n\
             chance = 0.5\n[rule.then]\ncode = \"{code}\"\n"
        )
    };
    assert_eq!(
        app.load_scenario(&coin("TOO_MANY_REQUESTS", 7), "").await.0,
        200
    );
    let (status, body) = app
        .load_scenario(&coin("FAILURE", 7), &format!("tenant={DEMO}"))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut every_tenant_decided = 0;
    for i in 0..40 {
        let said = explained(&app).await;
        let code = ping(&app).await;
        let rule = match code.as_str() {
            "FAILURE" => json!("FAILURE coin"),
            "TOO_MANY_REQUESTS" => {
                every_tenant_decided += 1;
                json!("TOO_MANY_REQUESTS coin")
            }
            _ => Value::Null,
        };
        assert_eq!(
            said, rule,
            "request {i}: explain said {said}, the answer was {code}"
        );
    }
    assert!(
        every_tenant_decided > 0,
        "the every-tenant rule never decided"
    );
    app.shutdown().await;
}

/// A one-tenant snapshot of the demo partner after one connectivity under the every-tenant
/// scenario `g` (generation 1 on a fresh simulator).
async fn snapshot_counted_under(g: &str) -> Vec<u8> {
    let app = spawn_app().await;
    assert_eq!(app.load_scenario(g, "").await.0, 200);
    assert_eq!(ping(&app).await, "SUCCESS");
    let bytes = export(&app, &format!("?tenant={DEMO}")).await;
    app.shutdown().await;
    bytes
}

#[tokio::test]
async fn a_one_tenant_import_keeps_counters_only_under_the_same_every_tenant_scenario() {
    let g = "name = \"g\"\n[[rule]]\noperation = \"connectivity\"\n[rule.then]\nlatency_ms = 1\n";
    let bytes = snapshot_counted_under(g).await;
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["scenarios"]["counters"][0]["generation"], 1, "{doc}");
    // Another simulator whose scenario of every tenant has generation 1 too, but is another one.
    let h = "name = \"h\"\n[[rule]]\noperation = \"connectivity\"\nnth = 1\n[rule.then]\ncode = \"FAILURE\"\n";
    let other = spawn_app().await;
    let (status, body) = other.load_scenario(h, "").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = import(&other, &format!("?tenant={DEMO}"), bytes.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        ping(&other).await,
        "FAILURE",
        "h's 1st request is still to come"
    );
    other.shutdown().await;
    // The same scenario (name and text) under the same generation gets its counters back.
    let same = spawn_app().await;
    let counted = "name = \"g\"\n[[rule]]\noperation = \"connectivity\"\nnth = 2\n[rule.then]\ncode = \"FAILURE\"\n";
    let bytes = snapshot_counted_under(counted).await;
    assert_eq!(same.load_scenario(counted, "").await.0, 200);
    let (status, body) = import(&same, &format!("?tenant={DEMO}"), bytes).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ping(&same).await, "FAILURE", "the 2nd request of g");
    same.shutdown().await;
}

#[tokio::test]
async fn an_imported_window_that_starts_after_now_ends_at_most_its_length_from_now() {
    let app = spawn_app().await;
    let limit =
        "name = \"limit\"\n[[rule]]\noperation = \"connectivity\"\nafter = 1\nwindow = \"1s\"\n\
        [rule.then]\ncode = \"TOO_MANY_REQUESTS\"\n";
    assert_eq!(app.load_scenario(limit, "").await.0, 200);
    assert_eq!(ping(&app).await, "SUCCESS");
    // As from a simulator whose clock is ahead: the window started near the end of time.
    let mut doc: Value =
        serde_json::from_slice(&export(&app, &format!("?tenant={DEMO}")).await).unwrap();
    let end_of_time = 253_402_127_880_000_i64; // 9999-12-29T23:58:00Z
    doc["scenarios"]["counters"][0]["windowStart"] = json!(end_of_time);
    let (status, body) = import(
        &app,
        &format!("?tenant={DEMO}"),
        serde_json::to_vec(&doc).unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let now = app.get_json("/__sim/clock").await["now"].as_i64().unwrap();
    let after: Value =
        serde_json::from_slice(&export(&app, &format!("?tenant={DEMO}")).await).unwrap();
    let start = after["scenarios"]["counters"][0]["windowStart"]
        .as_i64()
        .unwrap();
    assert!(start <= now, "window start {start} is after now {now}");
    assert_eq!(
        ping(&app).await,
        "TOO_MANY_REQUESTS",
        "the 2nd in the window"
    );
    app.advance(1.0).await;
    assert_eq!(ping(&app).await, "SUCCESS", "a new window 1 s later");
    app.shutdown().await;
}

#[tokio::test]
async fn outcome_keys_that_would_do_nothing_are_refused_at_load_naming_rule_and_key() {
    let app = spawn_app().await;
    let reason = refused(
        &app,
        "name = \"d\"\n[[rule]]\nname = \"quiet\"\n[rule.then]\ndetail = \"never shown\"\n",
        "",
    )
    .await;
    assert!(
        reason.contains("rule \"quiet\"") && reason.contains("detail") && reason.contains("code"),
        "{reason}"
    );
    for (result, status) in [("failure", "returned"), ("success", "failed")] {
        let text = format!(
            "name = \"p\"\n[[rule]]\nname = \"pay\"\nsurface = \"pockyt\"\noperation = \"/v3/payouts/pay\"\n\
             [rule.then]\nresult = \"{result}\"\nstatus = \"{status}\"\n"
        );
        let reason = refused(&app, &text, "").await;
        assert!(
            reason.contains("rule \"pay\"")
                && reason.contains(&format!("result = \"{result}\""))
                && reason.contains(&format!("status = \"{status}\""))
                && reason.contains("contradict"),
            "{reason}"
        );
    }
    for (key, value, says) in [
        ("linkTtl", "\"abc\"", "not a duration"),
        ("returnAfter", "\"-5s\"", "not a duration"),
        ("linkTtl", "600", "bare number"),
    ] {
        let text = format!(
            "name = \"v\"\n[[rule]]\nname = \"values\"\n[rule.then]\nvalues = {{ {key} = {value} }}\n"
        );
        let (status, body) = app.load_scenario(&text, "").await;
        assert_eq!(status, 400, "{key} = {value}: {body}");
        let reason = body["reason"].as_str().unwrap();
        assert!(
            reason.contains("rule \"values\"")
                && reason.contains(&format!("values.{key}"))
                && reason.contains(says),
            "{reason}"
        );
        assert_eq!(body["line"], 5, "{body}");
    }
    // The pairs that mean something still load.
    let fine = "name = \"ok\"\n[[rule]]\nsurface = \"pockyt\"\n[rule.then]\nresult = \"success\"\n\
        status = \"returned\"\nvalues = { returnAfter = \"1d\" }\n";
    assert_eq!(app.load_scenario(fine, "").await.0, 200);
    app.shutdown().await;
}

async fn binding_status(app: &TestApp, bind_id: &str) -> Value {
    let (_, _, q) = platform_call(app, "shopAccountBindQuery", &json!({"bindId": bind_id})).await;
    q["status"].clone()
}

#[tokio::test]
async fn a_platform_link_ttl_reads_the_scenario_duration_grammar() {
    let app = spawn_app().await;
    let text =
        "name = \"ttl\"\n[[rule]]\nsurface = \"platform\"\noperation = \"shopAccountBind\"\n\
        [rule.then]\nvalues = { linkTtl = \"1m30s\" }\n";
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");
    let (code, detail, _) = platform_call(&app, "shopAccountBind", &bind_body("B-TTL", "31")).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    app.advance(89.0).await;
    assert_eq!(binding_status(&app, "B-TTL").await, "PROCESSING");
    app.advance(1.0).await;
    assert_eq!(
        binding_status(&app, "B-TTL").await,
        "FAILURE",
        "the link lived 1m30s"
    );
    app.shutdown().await;
}
