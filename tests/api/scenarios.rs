//! Scenarios end to end: the shipped files, loading and reloading at run time, broken files,
//! per-tenant isolation, timelines under the manual clock, outages, and determinism.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::helpers::{
    repo_path, second_partner_config, spawn_app, spawn_with, Setup, TestApp, SECOND_PARTNER,
};

const DEMO: &str = "whalet:202400000000001";

fn shipped(name: &str) -> PathBuf {
    PathBuf::from(repo_path(&format!("scenarios/{name}.toml")))
}

async fn ping(app: &TestApp, notify: bool) -> (String, String) {
    let reply = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": if notify { "Y" } else { "N" }, "notifyMessage": "hi", "responseFlag": "Y", "responseMessage": "pong"}),
        )
        .await
        .unwrap();
    (reply.code, reply.detail)
}

fn rule_of(entry: &Value) -> Option<&str> {
    entry["rule"].as_str()
}

#[tokio::test]
async fn happy_path_succeeds_and_notifies_at_once() {
    let app = spawn_with(Setup {
        scenario_files: vec![shipped("happy-path")],
        ..Default::default()
    })
    .await;
    let list = app.get_json("/__sim/scenarios").await;
    assert_eq!(list["scenarios"][0]["name"], "happy-path", "{list}");
    assert_eq!(ping(&app, true).await.0, "SUCCESS");
    let n = app.wait_notification("apiCode=connectivityNotify").await;
    assert_eq!(n["status"], "delivered");
    assert_eq!(n["attempts"].as_array().unwrap().len(), 1, "{n}");
    let journal = app.get_json("/__sim/requests?surface=whalet").await;
    assert_eq!(rule_of(&journal["requests"][0]), None);
    app.shutdown().await;
}

#[tokio::test]
async fn notify_outage_fails_deliveries_for_ten_seconds_then_delivers() {
    let app = spawn_with(Setup {
        scenario_files: vec![shipped("notify-outage")],
        ..Default::default()
    })
    .await;
    assert_eq!(ping(&app, true).await.0, "SUCCESS");
    app.advance(9.0).await;
    let n = app.get_json("/__sim/notifications").await["notifications"][0].clone();
    assert_eq!(n["status"], "pending", "{n}");
    assert!(
        app.receiver.received().is_empty(),
        "nothing reaches the partner during the outage"
    );
    app.advance(31.0).await;
    let n = app.get_json("/__sim/notifications").await["notifications"][0].clone();
    assert_eq!(n["status"], "delivered", "{n}");
    let attempts = n["attempts"].as_array().unwrap();
    let times: Vec<i64> = attempts
        .iter()
        .map(|a| a["virtualTime"].as_i64().unwrap() - attempts[0]["virtualTime"].as_i64().unwrap())
        .collect();
    assert_eq!(times, vec![0, 1000, 3000, 7000, 15000], "{n}");
    for a in &attempts[..4] {
        let verdict = a["verdict"].as_str().unwrap();
        assert!(
            verdict.contains("connection refused (scenario outage"),
            "{verdict}"
        );
    }
    assert_eq!(attempts[4]["verdict"], "delivered");
    assert_eq!(app.receiver.received().len(), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn notify_outage_is_scoped_to_its_tenant() {
    let app = spawn_with(Setup {
        config: Some(second_partner_config()),
        scenario_files: vec![shipped("notify-outage")],
        ..Default::default()
    })
    .await;
    let other = app.client_as(SECOND_PARTNER);
    let reply = other
        .call(
            "connectivity",
            &json!({"notifyFlag": "Y", "responseFlag": "N"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS");
    let n = app
        .wait_notification(&format!("tenant=whalet:{SECOND_PARTNER}"))
        .await;
    assert_eq!(n["status"], "delivered", "{n}");
    assert_eq!(n["attempts"].as_array().unwrap().len(), 1, "{n}");
    app.shutdown().await;
}

/// `sim.notify.up` without a tenant ended only the outage of every tenant, not a tenant's own:
/// after `sim.notify.down {"tenant": demo}` it answered `ended: false` and the demo endpoint
/// stayed down. Without a tenant it now ends every outage `sim.notify.down` started, and says
/// which; with a tenant, that tenant's only.
#[tokio::test]
async fn notify_up_without_a_tenant_ends_every_outage() {
    let app = spawn_with(Setup {
        config: Some(second_partner_config()),
        ..Default::default()
    })
    .await;
    let second = format!("whalet:{SECOND_PARTNER}");
    app.trigger_ok("sim.notify.down", json!({"tenant": DEMO}))
        .await;
    app.trigger_ok("sim.notify.down", json!({"tenant": second}))
        .await;
    let one = app
        .trigger_ok("sim.notify.up", json!({"tenant": second}))
        .await;
    assert_eq!(
        one,
        json!({"tenant": second, "ended": true, "outages": [second]}),
        "a named tenant's outage only"
    );
    app.trigger_ok("sim.notify.down", json!({"tenant": second}))
        .await;
    app.trigger_ok("sim.notify.down", json!({})).await;
    let all = app.trigger_ok("sim.notify.up", json!({})).await;
    assert_eq!(
        all,
        json!({"tenant": null, "ended": true, "outages": ["*", DEMO, second]})
    );
    assert_eq!(ping(&app, true).await.0, "SUCCESS");
    app.advance(0.5).await;
    let n = app.wait_notification(&format!("tenant={DEMO}")).await;
    assert_eq!(n["status"], "delivered", "{n}");
    assert_eq!(n["attempts"].as_array().unwrap().len(), 1, "{n}");
    let again = app.trigger_ok("sim.notify.up", json!({})).await;
    assert_eq!(
        again,
        json!({"tenant": null, "ended": false, "outages": []})
    );
    app.shutdown().await;
}

#[tokio::test]
async fn rate_limited_answers_too_many_requests_after_three_per_second() {
    let app = spawn_with(Setup {
        scenario_files: vec![shipped("rate-limited")],
        ..Default::default()
    })
    .await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(ping(&app, false).await.0);
    }
    assert_eq!(
        codes,
        [
            "SUCCESS",
            "SUCCESS",
            "SUCCESS",
            "TOO_MANY_REQUESTS",
            "TOO_MANY_REQUESTS"
        ]
    );
    let journal = app.get_json("/__sim/requests?code=TOO_MANY_REQUESTS").await;
    assert_eq!(
        rule_of(&journal["requests"][0]),
        Some("over 3 requests per second")
    );
    app.advance(1.0).await;
    assert_eq!(ping(&app, false).await.0, "SUCCESS");
    app.shutdown().await;
}

#[tokio::test]
async fn processing_then_failure_answers_processing_then_failure() {
    let app = spawn_with(Setup {
        scenario_files: vec![shipped("processing-then-failure")],
        ..Default::default()
    })
    .await;
    let (code, detail) = ping(&app, false).await;
    assert_eq!(code, "PROCESSING", "{detail}");
    let (code, detail) = ping(&app, false).await;
    assert_eq!(code, "FAILURE");
    assert!(detail.contains("beneficiary bank rejected"), "{detail}");
    assert_eq!(ping(&app, false).await.0, "SUCCESS");
    // Operations with an eventual result fail after 30 s (what a surface handler is told).
    let (status, body) = app
        .post(
            "/__sim/scenarios/explain",
            &json!({"surface": "pockyt", "tenant": "pockyt:202333", "operation": "/v3/payouts/pay", "fields": {}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let d = &body["decision"];
    assert_eq!(d["rule"], "eventual results fail after 30s", "{d}");
    assert_eq!(d["result"]["outcome"], "failure");
    assert_eq!(d["delayMs"], 30_000);
    app.shutdown().await;
}

#[tokio::test]
async fn every_shipped_scenario_loads() {
    let app = spawn_app().await;
    let dir = std::fs::read_dir(repo_path("scenarios")).unwrap();
    let mut count = 0;
    for entry in dir {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let (status, body) = app.load_scenario(&text, "file=shipped").await;
        assert_eq!(status, 200, "{}: {body}", path.display());
        count += 1;
    }
    assert!(count >= 4, "{count} shipped scenarios");
    app.shutdown().await;
}

/// docs/SCENARIOS.md lists every shipped scenario with the tests that run it, and those tests
/// exist.
#[test]
fn the_shipped_scenarios_table_lists_every_file_and_real_tests() {
    let doc = std::fs::read_to_string(repo_path("docs/SCENARIOS.md")).unwrap();
    let table = doc.split("## A complete example").next().unwrap();
    let mut listed = Vec::new();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        listed.push(
            cells[0]
                .trim_start_matches("| ")
                .trim_matches('`')
                .to_owned(),
        );
        let tests = cells.last().unwrap().trim_end_matches(" |");
        for test in tests.split(", ").map(|t| t.trim_matches('`')) {
            let (module, name) = test.split_once("::").expect(row);
            let source = std::fs::read_to_string(repo_path(&format!("tests/api/{module}.rs")))
                .unwrap_or_else(|e| panic!("{test}: {e}"));
            let wanted = format!("fn {}", name.trim_end_matches('*'));
            assert!(source.contains(&wanted), "{test} (in {row}) is no test");
        }
    }
    let mut shipped: Vec<String> = std::fs::read_dir(repo_path("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    shipped.sort();
    listed.sort();
    assert_eq!(
        listed, shipped,
        "docs/SCENARIOS.md's table of shipped scenarios"
    );
}

/// The complete example of docs/SCENARIOS.md loads, and its timeline event fires (it named an
/// account number the simulator never gives, so it could only fail).
#[tokio::test]
async fn the_complete_example_of_the_docs_loads_and_its_timeline_fires() {
    let doc = std::fs::read_to_string(repo_path("docs/SCENARIOS.md")).unwrap();
    let example = doc
        .split("## A complete example\n\n```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/__sim/trigger/whalet.account.ready",
            &json!({"currency": "USD"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.load_scenario(example, "").await;
    assert_eq!(status, 200, "{body}");
    app.advance(31.0).await;
    let scenario = app
        .get_json("/__sim/scenarios/onboarding-rejected?tenant=whalet:202400000000001")
        .await;
    let fired = scenario["fired"].as_array().unwrap();
    assert_eq!(fired.len(), 1, "{scenario}");
    assert_eq!(fired[0]["ok"], true, "{scenario}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_broken_scenario_file_stops_startup_naming_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        "name = \"broken\"\n\n[[rule]]\nname = \"r\"\n[rule.then]\ndelay = \"soon\"\n",
    )
    .unwrap();
    let options = whalet_sim::Options {
        scenario_files: vec![path.clone()],
        ..Default::default()
    };
    let err = whalet_sim::App::new(whalet_sim::config::Config::default(), options)
        .err()
        .expect("a broken scenario must be rejected")
        .to_string();
    assert!(err.contains(&format!("{}:6:", path.display())), "{err}");
    assert!(err.contains("not a duration"), "{err}");
}

#[tokio::test]
async fn a_broken_scenario_posted_at_run_time_is_rejected_and_changes_nothing() {
    let app = spawn_app().await;
    let text = "name = \"x\"\n[[rule]]\nsurface = \"whalet\"\n[rule.then]\ncode = \"NOPE\"\n";
    let (status, body) = app.load_scenario(text, "file=mine.toml").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["file"], "mine.toml");
    assert_eq!(body["line"], 5);
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("not a Whalet code"),
        "{body}"
    );
    let (status, body) = app
        .load_scenario(
            "{\"name\": \"j\", \"timeline\": [{\"at\": \"1s\", \"event\": \"no.such\"}]}",
            "",
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("no trigger \"no.such\""),
        "{body}"
    );
    assert_eq!(
        app.get_json("/__sim/scenarios").await["scenarios"],
        json!([])
    );
    app.shutdown().await;
}

/// A rule with `operation = []` loaded and never matched: it is refused at load, at its line
/// and column, and nothing is loaded.
#[tokio::test]
async fn a_rule_with_an_empty_operation_list_is_refused_at_load() {
    let app = spawn_app().await;
    let text = "name = \"never\"\n[[rule]]\nsurface = \"whalet\"\noperation = []\n[rule.then]\ncode = \"FAILURE\"\n";
    let (status, body) = app.load_scenario(text, "file=never.toml").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        (&body["file"], &body["line"], &body["column"]),
        (&json!("never.toml"), &json!(4), &json!(13)),
        "{body}"
    );
    assert!(
        body["reason"].as_str().unwrap().starts_with(
            "rule \"rule 1\": operation = [] names no operation, so the rule would never match"
        ),
        "{body}"
    );
    assert_eq!(
        app.get_json("/__sim/scenarios").await["scenarios"],
        json!([])
    );
    app.shutdown().await;
}

/// A rule without a surface answers with the code of whichever surface it matches: a code that
/// is no surface's is refused at load, as it is for a rule with a surface.
#[tokio::test]
async fn a_code_no_surface_has_is_refused_without_a_surface_too() {
    let app = spawn_app().await;
    let text = "name = \"t12\"\n[[rule]]\n[rule.then]\ncode = \"NOPE\"\n";
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        (body["line"].clone(), body["column"].clone()),
        (json!(4), json!(8)),
        "{body}"
    );
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("\"NOPE\" is no surface's code"),
        "{body}"
    );
    let text = "name = \"t12\"\n[[rule]]\n[rule.then]\ncode = \"SYS-008\"\n";
    assert_eq!(app.load_scenario(text, "").await.0, 200);
    app.shutdown().await;
}

/// JSON errors name the line and column where the offending key or value starts, as TOML's do.
#[tokio::test]
async fn json_scenario_errors_name_the_column_of_the_offending_text() {
    let app = spawn_app().await;
    for (text, line, column) in [
        ("{\"name\":\"j3\",\n\"rule\":[{\"nth\":0}]}", 2, 16),
        (
            "{\"name\":\"j3\",\n\"rule\":[{\"nth\":1, \"bogus\": true}]}",
            2,
            19,
        ),
        ("{\"name\":\"j3\", \"seed\": \"no\"}", 1, 23),
        (
            "{\"name\":\"j3\",\n\"rule\":[{\"window\":\"5 sec\"}]}",
            2,
            19,
        ),
    ] {
        let (status, body) = app.load_scenario(text, "").await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            (body["line"].clone(), body["column"].clone()),
            (json!(line), json!(column)),
            "{text}: {body}"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn scenarios_reload_at_run_time_and_can_be_removed() {
    let app = spawn_app().await;
    let version = |detail: &str| {
        format!("name = \"flaky\"\n[[rule]]\nname = \"fail {detail}\"\noperation = \"connectivity\"\n[rule.then]\ncode = \"FAILURE\"\ndetail = \"{detail}\"\n")
    };
    let (status, body) = app.load_scenario(&version("v1"), "").await;
    assert_eq!((status, &body["replaced"]), (200, &json!(false)), "{body}");
    assert_eq!(ping(&app, false).await, ("FAILURE".into(), "v1".into()));
    let (status, body) = app.load_scenario(&version("v2"), "").await;
    assert_eq!((status, &body["replaced"]), (200, &json!(true)), "{body}");
    assert_eq!(ping(&app, false).await, ("FAILURE".into(), "v2".into()));
    assert_eq!(
        app.get_json("/__sim/scenarios").await["scenarios"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let journal = app.get_json("/__sim/requests?limit=1").await;
    assert_eq!(rule_of(&journal["requests"][0]), Some("fail v2"));
    // The same scenario as JSON.
    let as_json = json!({"name": "flaky", "rule": [{"name": "fail v3", "operation": "connectivity", "then": {"code": "FAILURE", "detail": "v3"}}]});
    let (status, body) = app.load_scenario(&as_json.to_string(), "").await;
    assert_eq!((status, &body["replaced"]), (200, &json!(true)), "{body}");
    assert_eq!(ping(&app, false).await, ("FAILURE".into(), "v3".into()));
    assert_eq!(app.delete("/__sim/scenarios/flaky").await.0, 200);
    assert_eq!(app.delete("/__sim/scenarios/flaky").await.0, 404);
    assert_eq!(ping(&app, false).await.0, "SUCCESS");
    app.shutdown().await;
}

#[tokio::test]
async fn a_scenario_scoped_to_one_tenant_leaves_others_alone() {
    let app = spawn_with(Setup {
        config: Some(second_partner_config()),
        ..Default::default()
    })
    .await;
    let text = "name = \"ci-job\"\n[[rule]]\nname = \"every second fails\"\nnth = 2\n[rule.then]\ncode = \"FAILURE\"\n";
    // The same scenario loaded by two parallel CI jobs, each for its own partner.
    assert_eq!(
        app.load_scenario(text, &format!("tenant={DEMO}")).await.0,
        200
    );
    let other = app.client_as(SECOND_PARTNER);
    let call_other = || async {
        other
            .call(
                "connectivity",
                &json!({"notifyFlag": "N", "responseFlag": "N"}),
            )
            .await
            .unwrap()
            .code
    };
    assert_eq!(call_other().await, "SUCCESS");
    assert_eq!(call_other().await, "SUCCESS");
    assert_eq!(ping(&app, false).await.0, "SUCCESS");
    assert_eq!(ping(&app, false).await.0, "FAILURE");
    assert_eq!(
        app.load_scenario(text, &format!("tenant=whalet:{SECOND_PARTNER}"))
            .await
            .0,
        200
    );
    let list = app.get_json("/__sim/scenarios").await["scenarios"].clone();
    assert_eq!(list.as_array().unwrap().len(), 2, "one per tenant: {list}");
    assert_eq!(call_other().await, "SUCCESS");
    assert_eq!(call_other().await, "FAILURE");
    // Resetting one tenant restarts its counts only.
    let (status, _) = app.post("/__sim/reset", &json!({"tenant": DEMO})).await;
    assert_eq!(status, 200);
    assert_eq!(ping(&app, false).await.0, "SUCCESS");
    assert_eq!(ping(&app, false).await.0, "FAILURE");
    assert_eq!(call_other().await, "SUCCESS");
    let (status, body) = app.load_scenario(text, "tenant=whalet:nobody").await;
    assert_eq!(status, 200);
    assert!(
        body["warning"]
            .as_str()
            .unwrap()
            .contains("no tenant whalet:nobody"),
        "{body}"
    );
    app.delete("/__sim/scenarios/ci-job?tenant=whalet:nobody")
        .await;
    assert_eq!(
        app.delete("/__sim/scenarios/ci-job").await.0,
        409,
        "ambiguous without tenant"
    );
    let (status, _) = app
        .delete(&format!("/__sim/scenarios/ci-job?tenant={DEMO}"))
        .await;
    assert_eq!(status, 200);
    app.shutdown().await;
}

#[tokio::test]
async fn the_timeline_fires_in_virtual_time_order_under_the_manual_clock() {
    let app = spawn_app().await;
    let text = r#"
name = "timeline"
tenant = "whalet:202400000000001"
[[timeline]]
at = "3s"
event = "sim.notify.down"
params = { reason = "third" }
[[timeline]]
at = "1s"
event = "sim.notify.down"
params = { reason = "first" }
[[timeline]]
at = "2s"
event = "sim.notify.up"
"#;
    assert_eq!(app.load_scenario(text, "").await.0, 200);
    let pending = app.get_json("/__sim/clock").await["pending"].clone();
    let labels: Vec<&str> = pending
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["label"].as_str())
        .filter(|l| l.starts_with(&format!("{DEMO}/scenario:timeline/")))
        .collect();
    assert_eq!(labels.len(), 3, "{pending}");
    let fired = |v: &Value| v["fired"].as_array().unwrap().clone();
    assert!(fired(&app.get_json("/__sim/scenarios/timeline").await).is_empty());
    app.advance(1.5).await;
    let now = fired(&app.get_json("/__sim/scenarios/timeline").await);
    assert_eq!(now.len(), 1);
    assert_eq!(
        now[0]["result"]["tenant"], DEMO,
        "the scenario's tenant is passed on"
    );
    app.advance(5.0).await;
    let all = fired(&app.get_json("/__sim/scenarios/timeline").await);
    let order: Vec<(&str, i64)> = all
        .iter()
        .map(|f| (f["event"].as_str().unwrap(), f["at"].as_i64().unwrap()))
        .collect();
    let t0 = order[0].1 - 1000;
    let relative: Vec<(&str, i64)> = order.iter().map(|(e, t)| (*e, t - t0)).collect();
    assert_eq!(
        relative,
        vec![
            ("sim.notify.down", 1000),
            ("sim.notify.up", 2000),
            ("sim.notify.down", 3000)
        ]
    );
    // Fired events are in the journal as surface `trigger`, named after the scenario.
    let journal = app.get_json("/__sim/requests?surface=trigger").await["requests"].clone();
    assert_eq!(journal.as_array().unwrap().len(), 3);
    assert_eq!(journal[0]["rule"], "timeline of scenario timeline");
    assert_eq!(journal[0]["request"]["reason"], "third");
    // The last event left the endpoint down: a notification now fails.
    ping(&app, true).await;
    app.advance(0.5).await;
    let n = app.get_json("/__sim/notifications").await["notifications"][0].clone();
    assert!(
        n["attempts"][0]["verdict"]
            .as_str()
            .unwrap()
            .contains("third"),
        "{n}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn reloading_or_resetting_cancels_a_pending_timeline() {
    let app = spawn_app().await;
    let text = "name = \"later\"\ntenant = \"whalet:202400000000001\"\n[[timeline]]\nat = \"1m\"\nevent = \"sim.notify.down\"\n";
    let count = |v: &Value| {
        v["pending"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["label"].as_str().unwrap().contains("scenario:later/"))
            .count()
    };
    app.load_scenario(text, "").await;
    app.load_scenario(text, "").await;
    assert_eq!(
        count(&app.get_json("/__sim/clock").await),
        1,
        "a reload replaces the timeline"
    );
    app.post("/__sim/reset", &json!({"tenant": DEMO})).await;
    assert_eq!(
        count(&app.get_json("/__sim/clock").await),
        0,
        "reset of the tenant cancels it"
    );
    app.advance(120.0).await;
    assert_eq!(
        app.get_json("/__sim/requests?surface=trigger").await["requests"],
        json!([])
    );
    app.shutdown().await;
}

const SEEDED: &str = r#"
name = "coin"
seed = SEED
[[rule]]
name = "coin says no"
operation = "connectivity"
chance = 0.5
[rule.then]
code = "FAILURE"
detail = "tails"
[[rule]]
name = "heads, notify late"
operation = "connectivity"
[rule.then.notify]
delay = "2s"
[[outage]]
until = "3s"
"#;

async fn seeded_run(seed: u64) -> Value {
    // A fixed run tag: notification requestNos are otherwise unique per process on purpose.
    let app = crate::helpers::spawn_with(crate::helpers::Setup {
        config: Some("[notify]\nrun_tag = 1\n".into()),
        ..Default::default()
    })
    .await;
    let text = SEEDED.replace("SEED", &seed.to_string());
    assert_eq!(app.load_scenario(&text, "").await.0, 200);
    for i in 0..16 {
        let body = json!({"notifyFlag": "Y", "notifyMessage": format!("n{i}"), "responseFlag": "Y", "responseMessage": format!("r{i}")});
        app.client
            .call_with("connectivity", &format!("REQ{i:04}"), &body)
            .await
            .unwrap();
        app.advance(0.25).await;
    }
    app.advance(60.0).await;
    let transcript = app.transcript().await;
    app.shutdown().await;
    transcript
}

#[tokio::test]
async fn the_same_scenario_and_requests_give_the_same_transcript() {
    let first = seeded_run(42).await;
    let second = seeded_run(42).await;
    assert_eq!(first, second);
    let codes: Vec<&str> = first["journal"]["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"FAILURE") && codes.contains(&"SUCCESS"),
        "{codes:?}"
    );
    let notes = first["notifications"]["notifications"].as_array().unwrap();
    assert!(
        notes.iter().all(|n| n["status"] == "delivered"),
        "{notes:?}"
    );
    assert!(notes
        .iter()
        .any(|n| n["attempts"].as_array().unwrap().len() > 1));
    let other_seed = seeded_run(43).await;
    assert_ne!(first, other_seed, "the seed decides the coin flips");
}

const OUTCOMES: &str = r#"
name = "outcomes"
[[rule]]
name = "drop"
operation = "connectivity"
[rule.when]
responseMessage = "drop"
[rule.then]
drop_connection = true
[[rule]]
name = "unavailable"
[rule.when]
responseMessage = { prefix = "503" }
[rule.then]
code = "FAILURE"
detail = "down for maintenance"
http_status = 503
[[rule]]
name = "slow"
[rule.when]
responseMessage = "slow"
[rule.then]
latency_ms = 300
[[rule]]
name = "suppress"
[rule.when]
notifyMessage = "suppress"
[rule.then.notify]
suppress = true
[[rule]]
name = "duplicate"
[rule.when]
notifyMessage = "duplicate"
[rule.then.notify]
duplicate = true
[[rule]]
name = "corrupt"
[rule.when]
notifyMessage = "corrupt"
[rule.then.notify]
corrupt_signature = true
[[rule]]
name = "late"
[rule.when]
notifyMessage = "late"
[rule.then.notify]
delay = "5s"
"#;

async fn call(app: &TestApp, notify: &str, respond: &str) -> Result<String, String> {
    app.client
        .call(
            "connectivity",
            &json!({"notifyFlag": if notify.is_empty() { "N" } else { "Y" }, "notifyMessage": notify, "responseFlag": "Y", "responseMessage": respond}),
        )
        .await
        .map(|r| r.code)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn rule_outcomes_reach_the_partner_as_written() {
    let app = spawn_app().await;
    assert_eq!(app.load_scenario(OUTCOMES, "").await.0, 200);
    let dropped = call(&app, "", "drop").await.unwrap_err();
    assert!(dropped.starts_with("transport"), "{dropped}");
    let journal = app.get_json("/__sim/requests?limit=1").await;
    assert_eq!(journal["requests"][0]["code"], "DROPPED");
    let unavailable = call(&app, "", "503 please").await.unwrap_err();
    assert!(unavailable.starts_with("HTTP 503"), "{unavailable}");
    assert!(
        unavailable.contains("down for maintenance"),
        "{unavailable}"
    );
    let started = std::time::Instant::now();
    assert_eq!(call(&app, "", "slow").await.unwrap(), "SUCCESS");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    for message in ["suppress", "duplicate", "corrupt", "late"] {
        assert_eq!(call(&app, message, "x").await.unwrap(), "SUCCESS");
    }
    app.advance(4.0).await;
    let notes = app.get_json("/__sim/notifications").await["notifications"].clone();
    let by_message = |m: &str| {
        notes
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["payload"]["notifyMessage"] == m)
            .unwrap()
            .clone()
    };
    assert_eq!(by_message("suppress")["status"], "suppressed");
    assert_eq!(by_message("late")["attempts"], json!([]), "not before 5 s");
    app.advance(40.0).await;
    let received = app.receiver.received();
    let count = |m: &str| {
        received
            .iter()
            .filter(|r| r.body.as_ref().is_some_and(|b| b["notifyMessage"] == m))
            .count()
    };
    assert_eq!(count("suppress"), 0);
    assert_eq!(count("duplicate"), 2, "the series is sent twice");
    assert_eq!(count("late"), 1);
    assert!(
        received.iter().any(|r| r.error.is_some()),
        "the corrupted signature is refused by the receiver"
    );
    app.shutdown().await;
}

/// A latency holds the answer back, not the operation: while the partner still waits, the
/// requestNo's effect (here the connectivity check's notification) is already in the state, so
/// a snapshot or a status query taken meanwhile never holds the requestNo without it.
#[tokio::test]
async fn a_latency_delays_the_answer_after_the_operation_took_effect() {
    let app = spawn_app().await;
    let slow = r#"
name = "slow-answers"
[[rule]]
name = "slow"
[rule.when]
responseMessage = "slow"
[rule.then]
latency_ms = 1500
"#;
    let loaded = app.load_scenario(slow, "").await;
    assert_eq!(loaded.0, 200, "{}", loaded.1);
    let started = std::time::Instant::now();
    let (code, seen) = tokio::join!(call(&app, "during", "slow"), async {
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        let notes = app.get_json("/__sim/notifications").await["notifications"].clone();
        (started.elapsed(), notes)
    });
    let (looked_at, notes) = seen;
    assert_eq!(code.unwrap(), "SUCCESS");
    assert!(started.elapsed() >= std::time::Duration::from_millis(1500));
    assert!(
        looked_at < std::time::Duration::from_millis(1500),
        "{looked_at:?}"
    );
    let during = notes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["payload"]["notifyMessage"] == "during")
        .count();
    assert_eq!(during, 1, "made before the answer: {notes}");
    app.shutdown().await;
}

/// Three timeline events at the same instant, whose outcomes and ids depend on their order: a USD
/// account, an EUR account, then a USD payment to "the newest ACTIVE account".
const SAME_INSTANT: &str = r#"
name = "race"
tenant = "whalet:202400000000001"
[[timeline]]
at = "1s"
event = "whalet.account.ready"
params = { currency = "USD", outUserId = "first" }
[[timeline]]
at = "1s"
event = "whalet.account.ready"
params = { currency = "EUR", outUserId = "second" }
[[timeline]]
at = "1s"
event = "whalet.collection.received"
params = { amount = "1.00", currency = "USD", fundSource = "B2C" }
"#;

/// Loads [`SAME_INSTANT`], fires it and returns what fired, times made relative to the load.
async fn race_once(app: &TestApp) -> Vec<Value> {
    let loaded_at = app.get_json("/__sim/clock").await["now"].as_i64().unwrap();
    assert_eq!(app.load_scenario(SAME_INSTANT, "").await.0, 200);
    app.advance(2.0).await;
    let fired = app.get_json("/__sim/scenarios/race").await["fired"].clone();
    app.post("/__sim/reset", &json!({})).await;
    app.delete("/__sim/scenarios").await;
    fired
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f["at"] = json!(f["at"].as_i64().unwrap() - loaded_at);
            f
        })
        .collect()
}

// Several workers, as in the server: timers started together really run at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timeline_events_at_the_same_instant_fire_in_file_order_every_run() {
    let app = spawn_app().await;
    let first = race_once(&app).await;
    let outcomes: Vec<(i64, bool)> = first
        .iter()
        .map(|f| (f["index"].as_i64().unwrap(), f["ok"] == true))
        .collect();
    // The payment goes to the newest account, the EUR one, which refuses USD.
    assert_eq!(
        outcomes,
        vec![(1, true), (2, true), (3, false)],
        "{first:?}"
    );
    for _ in 0..10 {
        assert_eq!(race_once(&app).await, first);
    }
    app.shutdown().await;
}

/// A timeline event refused before it runs (a `tenant` that does not exist) is journaled like
/// one that ran, under the scenario's name, with the refusal's status.
#[tokio::test]
async fn a_timeline_event_refused_before_it_runs_is_journaled() {
    let app = spawn_app().await;
    let scenario = r#"
name = "nobody"
[[timeline]]
at = "1s"
event = "sim.notify.down"
params = { tenant = "whalet:999" }
"#;
    let (status, body) = app.load_scenario(scenario, "").await;
    assert_eq!(status, 200, "{body}");
    app.advance(2.0).await;
    let fired = app.get_json("/__sim/scenarios/nobody").await["fired"].clone();
    assert_eq!(fired[0]["ok"], false, "{fired}");
    let journal = app.get_json("/__sim/requests?surface=trigger").await["requests"].clone();
    assert_eq!(journal.as_array().map(Vec::len), Some(1), "{journal}");
    assert_eq!(journal[0]["rule"], "timeline of scenario nobody");
    assert_eq!(journal[0]["httpStatus"], 404);
    assert!(
        journal[0]["detail"]
            .as_str()
            .unwrap()
            .contains("no tenant \"whalet:999\" is configured"),
        "{journal}"
    );
    app.shutdown().await;
}

/// The load answer shows the events at `0s` as fired, the failed one too, as a later
/// `GET /__sim/scenarios/{name}` does: they have fired when the load request returns.
#[tokio::test]
async fn the_load_answer_shows_the_events_that_fired_at_0s() {
    let app = spawn_app().await;
    let scenario = r#"
name = "at-once"
[[timeline]]
at = "0s"
event = "sim.notify.down"
params = { tenant = "whalet:202400000000001" }
[[timeline]]
at = "0s"
event = "sim.notify.up"
params = { tenant = "whalet:999" }
[[timeline]]
at = "1s"
event = "sim.notify.up"
"#;
    let (status, body) = app.load_scenario(scenario, "").await;
    assert_eq!(status, 200, "{body}");
    let fired = body["loaded"]["fired"].clone();
    let done: Vec<(Value, Value)> = fired
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["index"].clone(), f["ok"].clone()))
        .collect();
    assert_eq!(
        done,
        vec![(json!(1), json!(true)), (json!(2), json!(false))],
        "{body}"
    );
    assert_eq!(
        app.get_json("/__sim/scenarios/at-once").await["fired"],
        fired
    );
    app.shutdown().await;
}

/// A rule error names the line of that rule's key, not the first place the same text appears
/// (an earlier rule's, or the description's).
#[tokio::test]
async fn a_rule_error_names_the_line_of_its_own_rule() {
    let app = spawn_app().await;
    let two_codes = "name = \"v1\"\n[[rule]]\nsurface = \"whalet\"\noperation = \"connectivity\"\n\
        nth = 1\n[rule.then]\ncode = \"FAILURE\"\n[[rule]]\nsurface = \"infinia\"\n\
        operation = \"account-binding/request\"\n[rule.then]\ncode = \"FAILURE\"\n";
    let in_description = "name = \"v3\"\ndescription = \"amount over limits\"\n[[rule]]\n\
        operation = \"payoutApply\"\n[rule.when]\namount = { min = \"500\", max = \"100\" }\n";
    for (text, line, column, words) in [
        (two_codes, 12, 8, "\"FAILURE\" is not an Infinia code"),
        (in_description, 6, 10, "min 500 is above max 100"),
    ] {
        let (status, body) = app.load_scenario(text, "").await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            (&body["line"], &body["column"]),
            (&json!(line), &json!(column)),
            "{body}"
        );
        assert!(body["reason"].as_str().unwrap().contains(words), "{body}");
    }
    app.shutdown().await;
}
