//! Loading scenarios: addressing an every-tenant scenario that shares a tenant's name, the
//! checks made for the tenant a scenario is loaded for, rule tenants, JSON bodies, start files
//! of the same name, and echoed client values.

use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};
use whalet_sim::config::Config;
use whalet_sim::{App, Options};

const DEMO: &str = "whalet:202400000000001";

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    app.get(path).await
}

#[tokio::test]
async fn an_every_tenant_scenario_sharing_a_tenants_name_is_viewed_and_removed_with_tenant_star() {
    let app = spawn_app().await;
    let text = "name = \"same\"\n";
    assert_eq!(app.load_scenario(text, "").await.0, 200);
    assert_eq!(
        app.load_scenario(text, &format!("tenant={DEMO}")).await.0,
        200
    );
    let (status, body) = get(&app, "/__sim/scenarios/same").await;
    assert_eq!(status, 409, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("every tenant (?tenant=*)"), "{error}");
    assert!(
        error.contains(&format!("tenant {DEMO} (?tenant={DEMO})")),
        "{error}"
    );
    let (status, body) = get(&app, "/__sim/scenarios/same?tenant=*").await;
    assert_eq!((status, &body["tenant"]), (200, &Value::Null), "{body}");
    let (status, body) = app.delete("/__sim/scenarios/same?tenant=*").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&app, "/__sim/scenarios/same").await;
    assert_eq!(
        (status, body["tenant"].as_str()),
        (200, Some(DEMO)),
        "{body}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_timeline_is_checked_for_the_tenant_given_on_load() {
    let app = spawn_app().await;
    let text = "name = \"tl\"\n[[timeline]]\nat = \"1h\"\nevent = \"whalet.connectivity.notify\"\n";
    let (status, body) = app.load_scenario(text, &format!("tenant={DEMO}")).await;
    assert_eq!(status, 200, "{body}");
    // The file's Whalet tenant overridden by a Pockyt one: no partnerId to fill in.
    let text = format!("tenant = \"{DEMO}\"\n{text}");
    let (status, body) = app.load_scenario(&text, "tenant=pockyt:someone").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["reason"].as_str().unwrap().contains("partnerId"),
        "{body}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_rule_tenant_that_does_not_exist_is_warned_about_and_one_that_cannot_match_refused() {
    let app = spawn_app().await;
    let text = "name = \"r\"\n[[rule]]\ntenant = \"whalet:999\"\n";
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["warning"].as_str().unwrap().contains("whalet:999"),
        "{body}"
    );
    let (status, body) = app.load_scenario(text, &format!("tenant={DEMO}")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("not the scenario's tenant"),
        "{body}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_json_scenario_that_is_not_an_object_says_a_scenario_is_a_json_object() {
    let app = spawn_app().await;
    for (text, got) in [("[1]", "an array"), ("[]", "an array"), ("42", "a number")] {
        let (status, body) = app
            .post_raw("/__sim/scenarios", "application/json", text.into())
            .await;
        assert_eq!(status, 400, "{text}: {body}");
        assert!(
            body.contains("is an object") && body.contains(got),
            "{text}: {body}"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_long_name_or_file_is_cut_in_scenario_messages() {
    let app = spawn_app().await;
    let long = "a".repeat(60_000);
    let (status, body) = app.delete(&format!("/__sim/scenarios/{long}")).await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body.to_string().len() < 2_000,
        "{} bytes",
        body.to_string().len()
    );
    let (status, body) = app
        .load_scenario("name = 1\n", &format!("file={long}"))
        .await;
    assert_eq!(status, 400);
    assert!(
        body.to_string().len() < 2_000,
        "{} bytes",
        body.to_string().len()
    );
    app.shutdown().await;
}

#[tokio::test]
async fn two_start_files_of_the_same_name_and_tenant_are_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.toml"), dir.path().join("b.toml"));
    std::fs::write(&a, "name = \"twin\"\n").unwrap();
    std::fs::write(&b, "name = \"twin\"\ndescription = \"other\"\n").unwrap();
    let options = Options {
        notify_url: None,
        clock_mode: None,
        start_time: None,
        scenario_files: vec![a.clone(), b.clone()],
    };
    let Err(e) = App::new(Config::default(), options) else {
        panic!("two files named twin loaded");
    };
    let e = e.to_string();
    assert!(
        e.contains("a.toml") && e.contains("b.toml") && e.contains("\"twin\""),
        "{e}"
    );
}
