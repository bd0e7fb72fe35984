//! Regressions of round 54 (t54c F1, F3): an outage of the partner's notify endpoint that begins
//! while attempts wait for a place at the receiver (`[notify] concurrency_per_destination`)
//! refuses them with the outage verdict, unsent; and the loaded scenarios are bounded
//! (`[scenarios] max_loaded`, `max_rules_loaded`), at run time and at start.

use std::time::Duration;

use serde_json::{json, Value};
use whalet_sim::clock::ClockMode;
use whalet_sim::config::Config;
use whalet_sim::partner::receiver::Mode;
use whalet_sim::scenario::timeline::OUTAGE_VERDICT;
use whalet_sim::{App, Options};

use crate::helpers::{spawn_config, spawn_with, Setup, START};

const DEMO_PARTNER: &str = "202400000000001";

/// Every notification of the ledger, once each has at least one attempt recorded (within 20 s).
async fn all_attempted(app: &crate::helpers::TestApp, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = app.get_json("/__sim/notifications").await;
        let items = list["notifications"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let attempted = items
            .iter()
            .filter(|n| n["attempts"].as_array().is_some_and(|a| !a.is_empty()))
            .count();
        if items.len() == n && attempted == n {
            return items;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not every notification was attempted: {list}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Regression (t54c F1): the outage gate was consulted once, before an attempt waited for one
/// of its destination's permits; an outage that began meanwhile did not stop it, and it was
/// POSTed during the outage. Two permits, a receiver that never answers (each attempt holds its
/// permit until the 1.5 s timeout), a burst of five: two are sent, three wait; then
/// `sim.notify.down`. The waiting three fail with the outage verdict and reach no receiver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_begun_while_attempts_wait_for_a_place_refuses_them_unsent() {
    let app = spawn_with(Setup {
        config: Some("[notify]\nconcurrency_per_destination = 2\ntimeout_ms = 1500\n".into()),
        receiver: Some(Mode::Hang),
        ..Setup::default()
    })
    .await;
    app.trigger_ok(
        "whalet.connectivity.notify",
        json!({"partnerId": DEMO_PARTNER, "count": 5}),
    )
    .await;
    let sent = app.receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 2, "the first two attempts hold the permits");
    app.trigger_ok("sim.notify.down", json!({})).await;
    let items = all_attempted(&app, 5).await;
    // The receiver got nothing after the outage began.
    assert_eq!(
        app.receiver.received().len(),
        2,
        "an attempt waiting for its place was sent during the outage"
    );
    let firsts: Vec<&Value> = items.iter().map(|n| &n["attempts"][0]).collect();
    let refused: Vec<&&Value> = firsts
        .iter()
        .filter(|a| a["verdict"].as_str().unwrap_or("").contains(OUTAGE_VERDICT))
        .collect();
    assert_eq!(refused.len(), 3, "{firsts:?}");
    for a in refused {
        assert!(a["httpStatus"].is_null(), "{a}");
    }
    app.finish().await;
}

/// A scenario named `name` with `rules` rules that never match (Pockyt balance in an unused
/// currency).
fn scenario(name: &str, rules: usize) -> String {
    let mut text = format!("name = \"{name}\"\n");
    for i in 0..rules {
        text.push_str(&format!(
            "[[rule]]\nname = \"r{i}\"\nsurface = \"pockyt\"\noperation = \"/v3/payouts/balance\"\n\
             [rule.when]\ncurrency = {{ one_of = [\"X{i}\"] }}\n[rule.then]\nlatency_ms = 1\n"
        ));
    }
    text
}

/// The names of the loaded scenarios.
async fn loaded(app: &crate::helpers::TestApp) -> Vec<String> {
    crate::fclk49::scenario_names(&app.get_json("/__sim/scenarios").await)
}

/// Regression (t54c F3): nothing bounded the loaded scenarios (100 of 1000 rules took 466 MB,
/// and every request was decided against every rule). A load past `[scenarios]
/// max_rules_loaded` or `max_loaded` is refused (409) naming the key, the totals and how to
/// unload, and changes nothing; a replacement counts its new rules instead of the old.
#[tokio::test]
async fn a_load_past_the_loaded_bounds_is_refused_naming_the_key() {
    let app = spawn_config("[scenarios]\nmax_loaded = 3\nmax_rules_loaded = 5\n").await;
    assert_eq!(app.load_scenario(&scenario("a", 3), "").await.0, 200);

    let (status, body) = app.load_scenario(&scenario("b", 3), "").await;
    assert_eq!(status, 409, "{body}");
    let error = body["error"].as_str().unwrap();
    for part in [
        "scenario \"b\" (3 rules)",
        "would make 6 rules",
        "[scenarios] max_rules_loaded = 5",
        "3 rules are loaded now in 1 scenarios",
        "DELETE /__sim/scenarios/{name}",
    ] {
        assert!(error.contains(part), "{part:?} not in {error}");
    }
    assert_eq!(loaded(&app).await, ["a"], "a refused load changed nothing");

    // Replacing "a" counts its new rules instead of its old ones.
    let (status, body) = app.load_scenario(&scenario("a", 5), "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["replaced"], true);
    let (status, body) = app.load_scenario(&scenario("a", 6), "").await;
    assert_eq!(status, 409, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("replacing the loaded one's 5"), "{error}");
    assert!(error.contains("would make 6 rules"), "{error}");
    let view = app.get_json("/__sim/scenarios").await;
    assert_eq!(view["scenarios"][0]["rules"].as_array().unwrap().len(), 5);

    // The count of scenarios: two more without rules fit, a fourth does not.
    assert_eq!(app.load_scenario(&scenario("b", 0), "").await.0, 200);
    assert_eq!(app.load_scenario(&scenario("c", 0), "").await.0, 200);
    let (status, body) = app.load_scenario(&scenario("d", 0), "").await;
    assert_eq!(status, 409, "{body}");
    let error = body["error"].as_str().unwrap();
    for part in [
        "would make 4 scenarios loaded",
        "[scenarios] max_loaded = 3",
        "3 are loaded now",
        "DELETE /__sim/scenarios/{name}",
    ] {
        assert!(error.contains(part), "{part:?} not in {error}");
    }
    // Replacing one of the three is no fourth.
    assert_eq!(app.load_scenario(&scenario("c", 0), "").await.0, 200);
    // Unloading one makes room.
    assert_eq!(app.delete("/__sim/scenarios/b").await.0, 200);
    assert_eq!(app.load_scenario(&scenario("d", 0), "").await.0, 200);
    let mut names = loaded(&app).await;
    names.sort();
    assert_eq!(names, ["a", "c", "d"]);
    app.finish().await;
}

/// The `--scenario` files given at start keep within the bounds too: the start is refused
/// naming the file and the key.
#[tokio::test]
async fn scenario_files_past_the_bound_refuse_the_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for name in ["one", "two"] {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, scenario(name, 2)).unwrap();
        files.push(path);
    }
    let options = |files: Vec<std::path::PathBuf>| Options {
        notify_url: None,
        clock_mode: Some(ClockMode::Manual),
        start_time: Some(whalet_sim::app::parse_rfc3339(START).unwrap()),
        scenario_files: files,
    };
    let config = |max: usize| {
        let mut config =
            Config::parse(&format!("[scenarios]\nmax_rules_loaded = {max}\n")).unwrap();
        config.infinia.sftp_addr = "127.0.0.1:0".into();
        config
    };
    let Err(e) = App::new(config(3), options(files.clone())) else {
        panic!("a start with 4 rules over max_rules_loaded = 3 was not refused");
    };
    let e = format!("{e:#}");
    for part in [
        "two.toml",
        "[scenarios] max_rules_loaded = 3",
        "would make 4 rules",
    ] {
        assert!(e.contains(part), "{part:?} not in {e}");
    }
    assert!(App::new(config(4), options(files)).is_ok());
}

/// Both keys are refused below 1, naming the key, the value, the range and the default.
#[test]
fn the_scenario_bounds_are_at_least_one() {
    for (key, default) in [("max_loaded", 1_000), ("max_rules_loaded", 10_000)] {
        let e = Config::parse(&format!("[scenarios]\n{key} = 0\n"))
            .unwrap_err()
            .to_string();
        for part in [
            format!("[scenarios] {key} = 0 would "),
            "at least 1".to_owned(),
            format!("(default {default}"),
        ] {
            assert!(e.contains(&part), "{part:?} not in {e}");
        }
        Config::parse(&format!("[scenarios]\n{key} = 1\n")).unwrap();
    }
    let defaults = Config::default().scenarios;
    assert_eq!(
        (defaults.max_loaded, defaults.max_rules_loaded),
        (1_000, 10_000)
    );
}
