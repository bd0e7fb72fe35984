//! The virtual clock's control plane: reading it, advancing it (and what it refuses),
//! switching modes, and the scaled clock running the whole Whalet retry series in a third of a
//! wall second.

use serde_json::{json, Value};
use whalet_sim::clock::ClockMode;
use whalet_sim::partner::receiver::Mode;

use crate::helpers::{spawn_app, spawn_with, Setup, START};
use crate::notifications::{ledger_entry, ping};

const START_MS: i64 = 1_735_689_600_000;

#[tokio::test]
async fn get_clock_shows_the_mode_and_the_virtual_time() {
    let app = spawn_app().await;
    assert_eq!(whalet_sim::app::parse_rfc3339(START).unwrap(), START_MS);
    let clock = app.get_json("/__sim/clock").await;
    assert_eq!(clock["mode"], json!({"mode": "manual"}));
    assert_eq!(clock["now"], START_MS);
    assert_eq!(clock["nowText"], "2025-01-01 08:00:00");
    assert_eq!(clock["nowUtc"], "2025-01-01T00:00:00Z");
    assert_eq!(clock["pending"], json!([]));
    assert_eq!(clock["inFlight"], 0);
    app.shutdown().await;
}

#[tokio::test]
async fn advance_moves_exactly_and_runs_what_falls_due() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Down),
        ..Setup::default()
    })
    .await;
    ping(&app, "tick").await;
    let after = app.advance(2.5).await;
    assert_eq!(after["now"], START_MS + 2_500);
    // The first attempt (0 s) and the first retry (1 s) ran; the next waits at 3 s.
    assert_eq!(after["pending"][0]["due"], START_MS + 3_000, "{after}");
    assert_eq!(after["pending"][0]["label"], "notify:ntf_000001");
    let (status, after) = app.post("/__sim/clock/advance", &json!({"ms": 500})).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["now"], START_MS + 3_000);
    assert_eq!(after["ran"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn advance_refuses_bad_amounts_and_leaves_the_clock_alone() {
    let app = spawn_app().await;
    for body in [
        json!({"seconds": -1}),
        json!({"seconds": "5"}),
        json!({"seconds": 1e300}),
        json!({"ms": 1.5}),
        json!({"seconds": 1, "ms": 1000}),
        json!({}),
        json!([1]),
    ] {
        let (status, reply) = app.post("/__sim/clock/advance", &body).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert!(reply["error"].as_str().is_some());
    }
    let (status, _) = app
        .post_raw(
            "/__sim/clock/advance",
            "application/json",
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(app.get_json("/__sim/clock").await["now"], START_MS);
    app.shutdown().await;
}

#[tokio::test]
async fn the_mode_can_be_switched_and_bad_modes_are_refused() {
    let app = spawn_app().await;
    for body in [
        json!({"mode": "scaled", "scale": 0}),
        json!({"mode": "scaled", "scale": -1}),
        json!({"mode": "scaled", "scale": 1e12}),
        json!({"mode": "warp"}),
    ] {
        let (status, reply) = app.post("/__sim/clock", &body).await;
        assert_eq!(status, 400, "{body}: {reply}");
    }
    // A huge scale is named as written short, not in 301 digits.
    let (_, reply) = app
        .post("/__sim/clock", &json!({"mode": "scaled", "scale": 1e300}))
        .await;
    assert!(reply.to_string().contains("got 1e300"), "{reply}");
    let (status, reply) = app
        .post("/__sim/clock", &json!({"mode": "scaled", "scale": 0.5}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["mode"], json!({"mode": "scaled", "scale": 0.5}));
    let (status, reply) = app.post("/__sim/clock", &json!({"mode": "manual"})).await;
    assert_eq!(status, 200);
    let frozen = reply["now"].as_i64().unwrap();
    assert!(frozen >= START_MS);
    assert_eq!(app.get_json("/__sim/clock").await["now"], frozen);
    app.shutdown().await;
}

#[tokio::test]
async fn the_scaled_clock_runs_the_31_second_series_in_about_a_third_of_a_second() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Down),
        clock: Some(ClockMode::Scaled { scale: 0.01 }),
        ..Setup::default()
    })
    .await;
    let id = ping(&app, "fast forward").await;
    let waited = app.wait_notification("status=exhausted").await;
    assert_eq!(waited["id"], id.as_str());
    let n = ledger_entry(&app, &id).await;
    let attempts: &Vec<Value> = n["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 6);
    // Each retry comes a full interval after the previous attempt finished (virtual time);
    // at 0.01 a millisecond of wall time is 100 ms of virtual time, so allow for scheduling.
    for (i, delay) in [1_000, 2_000, 4_000, 8_000, 16_000].into_iter().enumerate() {
        let finished = attempts[i]["finishedAt"].as_i64().unwrap();
        let next = attempts[i + 1]["virtualTime"].as_i64().unwrap();
        assert!(
            next - finished >= delay,
            "retry {}: {} < {delay}",
            i + 1,
            next - finished
        );
        assert!(
            next - finished < delay + 5_000,
            "retry {}: {}",
            i + 1,
            next - finished
        );
    }
    let wall =
        attempts[5]["wallTime"].as_i64().unwrap() - attempts[0]["wallTime"].as_i64().unwrap();
    assert!(
        wall >= 300,
        "31 virtual seconds took {wall} ms of wall time"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn under_the_scaled_clock_a_slow_answer_never_eats_the_interval() {
    // 100 ms of wall time is 10 virtual seconds at 0.01: each timeout outlasts every interval.
    let app = spawn_with(Setup {
        receiver: Some(Mode::Hang),
        clock: Some(ClockMode::Scaled { scale: 0.01 }),
        config: Some("[notify]\ntimeout_ms = 100\n".into()),
        ..Setup::default()
    })
    .await;
    let id = ping(&app, "slow").await;
    let waited = app.wait_notification("status=exhausted").await;
    assert_eq!(waited["id"], id.as_str());
    let n = ledger_entry(&app, &id).await;
    let attempts: &Vec<Value> = n["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 6);
    for a in attempts {
        let took = a["finishedAt"].as_i64().unwrap() - a["virtualTime"].as_i64().unwrap();
        assert!(
            took >= 9_000,
            "a 100 ms timeout is ~10 virtual s, got {took}: {a}"
        );
    }
    for (i, delay) in [1_000, 2_000, 4_000, 8_000, 16_000].into_iter().enumerate() {
        let finished = attempts[i]["finishedAt"].as_i64().unwrap();
        let next = attempts[i + 1]["virtualTime"].as_i64().unwrap();
        assert!(
            next - finished >= delay,
            "retry {}: {} < {delay}",
            i + 1,
            next - finished
        );
    }
    app.shutdown().await;
}
