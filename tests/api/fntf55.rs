//! Notifications, round t55c F1: a clean stop (SIGTERM, Ctrl-C: `RunningApp::shutdown`) waits
//! for the notification attempt under way, at most the attempt timeout (`[notify] timeout_ms`),
//! so that its verdict is recorded and committed to the data dir before the last commit; a
//! restart on the directory does not send it again (docs/PERSISTENCE.md, "repeats nothing").
//! The offline notice (F2) and the BOM and TLS verdicts (F3) are tested beside their code
//! (src/notify/deliver.rs, src/api/whalet/transport.rs).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use whalet_sim::clock::ClockMode;
use whalet_sim::config::Config;
use whalet_sim::http::client::HttpClient;
use whalet_sim::partner::receiver::{Mode, Receiver};
use whalet_sim::partner::WhaletClient;
use whalet_sim::{App, Options};

use crate::helpers::{TestApp, START};
use crate::persistence::data_dir_config;

/// A Whalet partner's receiver that acknowledges each notification (an unsigned ack echoing
/// its head, which the default `strict_ack` accepts) after `delay_ms`, counting the POSTs.
#[derive(Clone)]
struct SlowPartner {
    url: String,
    delay_ms: Arc<AtomicU64>,
    posts: Arc<AtomicUsize>,
}

impl SlowPartner {
    async fn start(delay: Duration) -> Self {
        use http_body_util::{BodyExt, Full};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        let partner = Self {
            url,
            delay_ms: Arc::new(AtomicU64::new(delay.as_millis() as u64)),
            posts: Arc::default(),
        };
        let (delay_ms, posts) = (partner.delay_ms.clone(), partner.posts.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (delay_ms, posts) = (delay_ms.clone(), posts.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            posts.fetch_add(1, Ordering::SeqCst);
                            let delay = Duration::from_millis(delay_ms.load(Ordering::SeqCst));
                            async move {
                                let body = req.into_body().collect().await.unwrap().to_bytes();
                                let request: Value = serde_json::from_slice(&body).unwrap();
                                let head = &request["head"];
                                let ack = json!({"head": {
                                    "partnerId": head["partnerId"],
                                    "apiCode": head["apiCode"],
                                    "requestNo": head["requestNo"],
                                    "version": head["version"],
                                    "code": "SUCCESS",
                                    "detail": "ok",
                                }, "body": {}});
                                tokio::time::sleep(delay).await;
                                Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                                    bytes::Bytes::from(ack.to_string()),
                                )))
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        partner
    }

    fn posts(&self) -> usize {
        self.posts.load(Ordering::SeqCst)
    }

    async fn wait_for_post(&self, n: usize) {
        let since = Instant::now();
        while self.posts() < n {
            assert!(since.elapsed() < Duration::from_secs(10), "no POST arrived");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// The simulator on a data dir in `dir` (manual clock), notifying `partner`.
async fn start(dir: &std::path::Path, timeout_ms: u64, partner: &SlowPartner) -> TestApp {
    let config = format!(
        "{}[notify]\ntimeout_ms = {timeout_ms}\n[infinia]\nsftp_addr = \"127.0.0.1:0\"\n",
        data_dir_config(dir)
    );
    let options = Options {
        notify_url: Some(partner.url.clone()),
        clock_mode: Some(ClockMode::Manual),
        start_time: Some(whalet_sim::app::parse_rfc3339(START).unwrap()),
        scenario_files: Vec::new(),
    };
    let app = App::new(Config::parse(&config).unwrap(), options).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app.spawn(listener);
    let url = running.url();
    TestApp {
        client: WhaletClient::demo(&url),
        url,
        running: Some(running),
        // Not the notify URL: `partner` is.
        receiver: Receiver::demo(Mode::Ack { fail_first: 0 }).await.unwrap(),
        http: HttpClient::new(),
    }
}

/// Stops `app` as SIGTERM does, the partner still answering; returns how long it took.
async fn stop(mut app: TestApp) -> Duration {
    let began = Instant::now();
    app.running.take().unwrap().shutdown().await;
    app.receiver.stop();
    began.elapsed()
}

/// Fires a connectivity notification; returns its id (the first of a new data dir).
async fn notify(app: &TestApp) -> String {
    app.trigger_ok(
        "whalet.connectivity.notify",
        json!({"partnerId": "202400000000001", "notifyMessage": "in flight"}),
    )
    .await;
    "ntf_000001".into()
}

/// Notification `id` once its status is `status` (bounded wait).
async fn when(app: &TestApp, id: &str, status: &str) -> Value {
    let since = Instant::now();
    loop {
        let n = app.get_json(&format!("/__sim/notifications/{id}")).await;
        if n["status"] == status || since.elapsed() > Duration::from_secs(10) {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The tester's repro: the receiver acknowledges 0.8 s after the notification arrived; the stop
/// came while it worked on its ack. The attempt was dropped unrecorded and sent again after a
/// restart; the ledger showed one attempt. Now the stop waits for the ack and records it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_records_the_attempt_in_flight_and_the_restart_does_not_send_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let partner = SlowPartner::start(Duration::from_millis(800)).await;
    let app = start(dir.path(), 3000, &partner).await;
    let id = notify(&app).await;
    partner.wait_for_post(1).await;
    let took = stop(app).await;
    assert!(took < Duration::from_millis(3000), "the stop took {took:?}");

    partner.delay_ms.store(0, Ordering::SeqCst);
    let app = start(dir.path(), 3000, &partner).await;
    let n = app.get_json(&format!("/__sim/notifications/{id}")).await;
    assert_eq!(n["status"], "delivered", "{n}");
    let attempts = n["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{n}");
    assert_eq!(attempts[0]["verdict"], "delivered", "{n}");
    app.advance(60.0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(partner.posts(), 1, "the notification was sent again");
    stop(app).await;
}

/// A receiver slower than the attempt timeout holds the stop for about the timeout, no longer;
/// the attempt is recorded as timed out with its retry scheduled, which the restart sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_waits_no_longer_than_the_timeout_and_records_the_timed_out_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let partner = SlowPartner::start(Duration::from_secs(30)).await;
    let app = start(dir.path(), 600, &partner).await;
    let id = notify(&app).await;
    partner.wait_for_post(1).await;
    let took = stop(app).await;
    assert!(
        took < Duration::from_millis(600) + whalet_sim::app::ATTEMPT_RECORD_GRACE * 2,
        "the stop took {took:?}"
    );

    partner.delay_ms.store(0, Ordering::SeqCst);
    let app = start(dir.path(), 600, &partner).await;
    let n = app.get_json(&format!("/__sim/notifications/{id}")).await;
    assert_eq!(n["status"], "pending", "{n}");
    let attempts = n["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{n}");
    assert_eq!(
        attempts[0]["verdict"], "failed: timed out after 600 ms",
        "{n}"
    );
    assert!(
        n["nextAttemptAt"].is_number(),
        "its retry is scheduled: {n}"
    );
    app.advance(1.0).await;
    let n = when(&app, &id, "delivered").await;
    assert_eq!(n["status"], "delivered", "{n}");
    assert_eq!(n["attempts"].as_array().unwrap().len(), 2, "{n}");
    assert_eq!(partner.posts(), 2);
    stop(app).await;
}
