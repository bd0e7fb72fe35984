//! Stop 54's clock fixes. An advance waits for the jobs of each instant it settles (those started
//! by the time it first waited there, with what they caused at once), not for the whole
//! simulator to be idle: notification traffic that goes on while it runs (a shared sandbox, a
//! background poller) no longer holds its answer until the traffic stops. And an advance that
//! the end of virtual time cuts short says so (`"stopped": "end"`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use whalet_sim::clock::ClockMode;
use whalet_sim::http::client::HttpClient;
use whalet_sim::partner::receiver::Mode;

use crate::helpers::{spawn_with, Setup};

/// How long the traffic lasts at most: far longer than an advance may take ([`ANSWERED_WITHIN`]).
const TRAFFIC_FOR: Duration = Duration::from_secs(25);
/// The bound on an advance's answer under traffic: a few rounds of the 300 ms attempt timeout,
/// with room for a busy CI box, and well short of [`TRAFFIC_FOR`].
const ANSWERED_WITHIN: Duration = Duration::from_secs(10);

/// Fires `whalet.connectivity.notify` every 50 ms (each a notification to the receiver, which
/// never answers: every attempt takes the 300 ms timeout, and each failure schedules a retry)
/// until `stop` is set or [`TRAFFIC_FOR`] has passed. Returns how many it fired.
async fn traffic(url: String, stop: Arc<AtomicBool>, fired: Arc<AtomicUsize>) {
    let http = HttpClient::new();
    let began = Instant::now();
    let body = serde_json::to_vec(&json!({"partnerId": "202400000000001"})).unwrap();
    while !stop.load(Ordering::Acquire) && began.elapsed() < TRAFFIC_FOR {
        let r = http
            .post(
                &format!("{url}/__sim/trigger/whalet.connectivity.notify"),
                "application/json",
                body.clone().into(),
                Duration::from_secs(30),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        fired.fetch_add(1, Ordering::AcqRel);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The tester's starve.py, in-process: with notifications to a slow receiver triggered all the
/// time, `POST /__sim/clock/advance {"seconds": 1}` answers within a bound, while the traffic
/// still runs, having moved the clock all it was asked. It used to answer only once the traffic
/// had stopped (manual clock: it kept settling each new first attempt at the current instant;
/// real clock: it waited for every retry of every notification to end).
async fn an_advance_answers_while_traffic_goes_on(clock: ClockMode) {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Hang),
        clock: Some(clock),
        config: Some("[notify]\ntimeout_ms = 300\n".into()),
        ..Setup::default()
    })
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let fired = Arc::new(AtomicUsize::new(0));
    let background = tokio::spawn(traffic(app.url.clone(), stop.clone(), fired.clone()));
    // Traffic under way: attempts in flight, more coming.
    tokio::time::timeout(Duration::from_secs(10), async {
        while fired.load(Ordering::Acquire) < 10 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the traffic started");
    let began = Instant::now();
    let (status, body) = app
        .post("/__sim/clock/advance", &json!({"seconds": 1}))
        .await;
    let took = began.elapsed();
    let traffic_ran_on = !background.is_finished();
    stop.store(true, Ordering::Release);
    background.await.unwrap();
    let answer = json!({
        "movedMs": body["movedMs"],
        "ran": body["ran"],
        "stopped": body["stopped"],
        "inFlight": body["inFlight"],
        "pending": body["pending"].as_array().map(Vec::len),
    });
    assert_eq!(status, 200, "{answer}");
    assert!(
        took < ANSWERED_WITHIN && traffic_ran_on,
        "{clock:?}: the advance answered after {took:?} (the traffic lasting up to \
         {TRAFFIC_FOR:?}; still running when it answered: {traffic_ran_on}): {answer}"
    );
    assert_eq!(body["movedMs"], 1000, "{answer}");
    assert_eq!(body["stopped"], Value::Null, "{answer}");
    assert!(body["ran"].as_u64().unwrap() >= 1, "{answer}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_manual_clock_an_advance_answers_while_notification_traffic_goes_on() {
    an_advance_answers_while_traffic_goes_on(ClockMode::Manual).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_real_clock_an_advance_answers_while_notification_traffic_goes_on() {
    an_advance_answers_while_traffic_goes_on(ClockMode::Real).await;
}

/// What the attempts of the instant the advance settled look like once it answered: the
/// notification triggered before it, its first attempt in flight when the advance began, was
/// waited for (its attempt finished at the instant it was sent, its retry ran 1 s later), as
/// before.
#[tokio::test]
async fn an_advance_still_waits_for_the_attempts_started_before_it() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Hang),
        config: Some("[notify]\ntimeout_ms = 300\n".into()),
        ..Setup::default()
    })
    .await;
    let result = app
        .trigger_ok(
            "whalet.connectivity.notify",
            json!({"partnerId": "202400000000001"}),
        )
        .await;
    let before = app.get_json("/__sim/clock").await["now"].as_i64().unwrap();
    let body = app.advance(1.0).await;
    assert_eq!(body["movedMs"], 1000, "{body}");
    assert_eq!(body["inFlight"], 0, "{body}");
    let listed = app.get_json("/__sim/notifications").await;
    let n = &listed["notifications"][0];
    let attempts = n["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{result} {n}");
    for (a, at) in attempts.iter().zip([before, before + 1000]) {
        assert_eq!(a["virtualTime"], at, "{a}");
        assert_eq!(a["finishedAt"], at, "{a}");
    }
    app.shutdown().await;
}

/// An advance the end of virtual time (9999-12-30T00:00:00Z) cuts short says `"stopped": "end"`,
/// with `movedMs` as far as it got; one that gets there exactly ran its course.
#[tokio::test]
async fn an_advance_cut_short_by_the_end_of_virtual_time_says_stopped_end() {
    const END: i64 = 253_402_128_000_000;
    let app = spawn_with(Setup::default()).await;
    let (status, mut snapshot) = app.get("/__sim/snapshot").await;
    assert_eq!(status, 200);
    snapshot["now"] = json!(END - 4_000);
    let (status, body) = app.post("/__sim/snapshot", &snapshot).await;
    assert_eq!(status, 200, "{body}");
    let exact = app.advance(2.0).await;
    assert_eq!(exact["movedMs"], 2000, "{exact}");
    assert_eq!(exact["stopped"], Value::Null, "{exact}");
    let short = app.advance(5.0).await;
    assert_eq!(short["movedMs"], 2000, "{short}");
    assert_eq!(short["stopped"], "end", "{short}");
    assert_eq!(short["nowUtc"], "9999-12-30T00:00:00Z", "{short}");
    let none = app.advance(5.0).await;
    assert_eq!(none["movedMs"], 0, "{none}");
    assert_eq!(none["stopped"], "end", "{none}");
    let nothing_asked = app.advance(0.0).await;
    assert_eq!(nothing_asked["stopped"], Value::Null, "{nothing_asked}");
    app.shutdown().await;
}
