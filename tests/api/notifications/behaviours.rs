//! Ordering per business object, concurrency across partners, the scenario behaviours
//! (duplicate, suppress, delay, corrupt signature, reorder), the wait API, filters, trimming
//! and reset.

use std::time::Duration;

use serde_json::json;
use whalet_sim::notify::NotifyBehaviour;
use whalet_sim::partner::receiver::{Mode, Receiver};
use whalet_sim::partner::WhaletClient;
use whalet_sim::wire::keys::{demo, PrivateKey, PublicKey};

use super::{enqueue, ledger_entry, offsets, ping};
use crate::helpers::{spawn_app, spawn_with, Setup};

#[tokio::test]
async fn notifications_about_one_object_are_delivered_in_order() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Ack { fail_first: 1 }),
        ..Setup::default()
    })
    .await;
    let a = enqueue(&app, "order-1", NotifyBehaviour::default());
    let b = enqueue(&app, "order-1", NotifyBehaviour::default());
    let c = enqueue(&app, "order-2", NotifyBehaviour::default());
    assert_eq!(ledger_entry(&app, &b).await["status"], "queued");
    app.advance(10.0).await;
    let (a, b, c) = (
        ledger_entry(&app, &a).await,
        ledger_entry(&app, &b).await,
        ledger_entry(&app, &c).await,
    );
    for n in [&a, &b, &c] {
        assert_eq!(n["status"], "delivered", "{n}");
    }
    // B starts only once A is delivered (1 s); C, another object, does not wait.
    assert_eq!(offsets(&a), [0, 1_000]);
    assert_eq!(offsets(&b), [1_000, 2_000]);
    assert_eq!(offsets(&c), [0, 1_000]);
    let order: Vec<String> = app
        .receiver
        .received()
        .iter()
        .filter(|r| r.request_no != c["requestNo"])
        .map(|r| r.request_no.clone())
        .collect();
    let (a_no, b_no) = (
        a["requestNo"].as_str().unwrap(),
        b["requestNo"].as_str().unwrap(),
    );
    assert_eq!(order, [a_no, a_no, b_no, b_no]);
    app.shutdown().await;
}

#[tokio::test]
async fn reorder_does_not_wait_for_earlier_notifications_and_delay_postpones() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Down),
        ..Setup::default()
    })
    .await;
    let first = enqueue(&app, "obj", NotifyBehaviour::default());
    let jumper = enqueue(
        &app,
        "obj",
        NotifyBehaviour {
            reorder: true,
            delay_ms: 2_500,
            ..NotifyBehaviour::default()
        },
    );
    app.advance(2.0).await;
    assert_eq!(ledger_entry(&app, &jumper).await["attempts"], json!([]));
    app.advance(1.0).await;
    let jumper = ledger_entry(&app, &jumper).await;
    assert_eq!(offsets(&jumper), [2_500]);
    assert_eq!(
        offsets(&ledger_entry(&app, &first).await),
        [0, 1_000, 3_000]
    );
    app.shutdown().await;
}

#[tokio::test]
async fn duplicate_delivers_the_same_request_no_twice() {
    let app = spawn_app().await;
    let id = enqueue(
        &app,
        "dup",
        NotifyBehaviour {
            duplicate: true,
            ..NotifyBehaviour::default()
        },
    );
    app.advance(0.0).await;
    let n = ledger_entry(&app, &id).await;
    assert_eq!(n["status"], "delivered", "{n}");
    assert_eq!(n["series"], 2);
    assert_eq!(n["attempts"].as_array().unwrap().len(), 2);
    let received = app.receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].request_no, received[1].request_no);
    app.shutdown().await;
}

#[tokio::test]
async fn suppress_never_sends() {
    let app = spawn_app().await;
    let id = enqueue(
        &app,
        "quiet",
        NotifyBehaviour {
            suppress: true,
            ..NotifyBehaviour::default()
        },
    );
    app.advance(60.0).await;
    let n = ledger_entry(&app, &id).await;
    assert_eq!(n["status"], "suppressed");
    assert_eq!(n["attempts"], json!([]));
    assert!(app.receiver.received().is_empty());
    let waited = app.wait_notification("businessId=quiet").await;
    assert_eq!(waited["status"], "suppressed");
    app.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_signature_is_refused_by_the_receiver_and_retried_to_exhaustion() {
    let app = spawn_app().await;
    let id = enqueue(
        &app,
        "forged",
        NotifyBehaviour {
            corrupt_signature: true,
            ..NotifyBehaviour::default()
        },
    );
    app.advance(31.0).await;
    let n = ledger_entry(&app, &id).await;
    assert_eq!(n["status"], "exhausted");
    // The receiver refuses with HTTP 400, its reason (the refusal's code) in the answer.
    let attempt = &n["attempts"][0];
    assert_eq!(attempt["httpStatus"], 400, "{attempt}");
    let excerpt = attempt["responseExcerpt"].as_str().unwrap();
    assert!(excerpt.contains("UNAUTHENTICATED_ERROR"), "{attempt}");
    let received = app.receiver.received();
    assert_eq!(received.len(), 6);
    assert!(received
        .iter()
        .all(|r| r.error.is_some() && r.body.is_none() && r.attempt == 0));
    app.shutdown().await;
}

#[tokio::test]
async fn a_hung_partner_never_delays_another_partner() {
    let hung = Receiver::demo(Mode::Hang).await.unwrap();
    let config = format!(
        "[notify]\ntimeout_ms = 20000\n[[whalet.partners]]\npartner_id = \"202400000000002\"\n\
         public_key = \"@keys/demo-partner/public.pem\"\nnotify_url = \"{}\"\n",
        hung.url()
    );
    let app = spawn_with(Setup {
        config: Some(config),
        ..Setup::default()
    })
    .await;
    let slow_client = WhaletClient::new(
        &format!("{}/api", app.url),
        "202400000000002",
        PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap(),
        PublicKey::parse(demo::PLATFORM_PUBLIC).unwrap(),
    );
    let reply = slow_client
        .call(
            "connectivity",
            &json!({"notifyFlag": "Y", "notifyMessage": "slow", "responseFlag": "N"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS");
    hung.wait_for(1, Duration::from_secs(10)).await;
    ping(&app, "fast").await;
    // Delivered while the other partner's attempt still hangs (its timeout is 20 s).
    let (status, n) = app
        .get("/__sim/notifications/wait?tenant=202400000000001&timeout_ms=10000")
        .await;
    assert_eq!(status, 200, "{n}");
    assert_eq!(n["status"], "delivered");
    let slow = app
        .get_json("/__sim/notifications?tenant=whalet:202400000000002")
        .await;
    assert_eq!(slow["notifications"][0]["status"], "pending");
    assert_eq!(slow["notifications"][0]["attempts"], json!([]));
    hung.stop();
    app.shutdown().await;
}

#[tokio::test]
async fn the_wait_api_returns_as_soon_as_a_match_finishes() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Down),
        ..Setup::default()
    })
    .await;
    let (status, body) = app.get("/__sim/notifications/wait?timeout_ms=50").await;
    assert_eq!(status, 408, "{body}");
    let id = ping(&app, "waiting").await;
    let url = format!(
        "{}/__sim/notifications/wait?status=exhausted&timeout_ms=60000",
        app.url
    );
    let http = app.http.clone();
    let waiter = tokio::spawn(async move { http.get(&url, Duration::from_secs(90)).await });
    app.advance(31.0).await;
    let answer = waiter.await.unwrap().unwrap();
    assert_eq!(answer.status, 200);
    let n: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(n["id"], id.as_str());
    assert_eq!(n["status"], "exhausted");
    // Already finished ones are returned at once; `after` waits for newer ones only.
    let again = app.wait_notification("apiCode=connectivityNotify").await;
    assert_eq!(again["id"], id.as_str());
    let (status, _) = app
        .get(&format!(
            "/__sim/notifications/wait?after={id}&timeout_ms=50"
        ))
        .await;
    assert_eq!(status, 408);
    for bad in [
        "timeout_ms=soon",
        "timeout_ms=999999",
        "status=lost",
        "after=yesterday",
    ] {
        let (status, body) = app.get(&format!("/__sim/notifications/wait?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn the_ledger_filters_by_tenant_api_code_status_and_business_id() {
    let app = spawn_app().await;
    let pinged = ping(&app, "one").await;
    let ordered = enqueue(&app, "order-9", NotifyBehaviour::default());
    app.advance(0.0).await;
    let count = |v: serde_json::Value| v["notifications"].as_array().unwrap().len();
    let all = app.get_json("/__sim/notifications").await;
    assert_eq!(count(all.clone()), 2);
    assert_eq!(
        all["notifications"][0]["id"],
        ordered.as_str(),
        "newest first"
    );
    for (query, expected) in [
        ("tenant=202400000000001", 2),
        ("tenant=whalet:202400000000001", 2),
        ("apiCode=connectivityNotify", 2),
        ("apiCode=userOnboardingResultNotify", 0),
        ("status=delivered", 2),
        ("status=pending", 0),
        ("businessId=order-9", 1),
        ("limit=1", 1),
    ] {
        let list = app.get_json(&format!("/__sim/notifications?{query}")).await;
        assert_eq!(count(list), expected, "{query}");
    }
    let (status, unknown) = app
        .get("/__sim/notifications?tenant=whalet:202400000000009")
        .await;
    assert_eq!(
        status, 404,
        "a tenant that does not exist, as /__sim/state: {unknown}"
    );
    let (status, _) = app.get("/__sim/notifications?status=weird").await;
    assert_eq!(status, 400);
    let (status, _) = app.get("/__sim/notifications/ntf_424242").await;
    assert_eq!(status, 404);
    let one = ledger_entry(&app, &pinged).await;
    assert_eq!(one["payload"], json!({"notifyMessage": "one"}));
    app.shutdown().await;
}

#[tokio::test]
async fn the_ledger_drops_the_oldest_finished_entries_but_never_unfinished_ones() {
    let app = spawn_with(Setup {
        config: Some("[notify]\nledger_capacity = 3\n".into()),
        ..Setup::default()
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(ping(&app, &format!("m{i}")).await);
        app.advance(0.0).await;
    }
    let list = app.get_json("/__sim/notifications").await;
    let kept: Vec<&str> = list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(kept, [&ids[4], &ids[3], &ids[2]]);

    app.receiver.set_mode(Mode::Down);
    for i in 0..4 {
        ping(&app, &format!("p{i}")).await;
    }
    app.advance(0.0).await;
    let pending = app.get_json("/__sim/notifications?status=pending").await;
    assert_eq!(pending["notifications"].as_array().unwrap().len(), 4);
    app.shutdown().await;
}

/// Regression: the capacity counted unfinished notifications too, so with as many of them as
/// `ledger_capacity` a notification vanished the moment it was delivered (GET 404, the wait API
/// 408), though its receiver had acknowledged it.
#[tokio::test]
async fn a_delivered_notification_stays_when_unfinished_ones_fill_the_capacity() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Down),
        config: Some("[notify]\nledger_capacity = 3\n".into()),
        ..Setup::default()
    })
    .await;
    let mut last_pending = String::new();
    for i in 0..3 {
        last_pending = ping(&app, &format!("p{i}")).await;
    }
    app.advance(0.0).await;
    app.receiver.set_mode(Mode::Ack { fail_first: 0 });
    let delivered = ping(&app, "acked").await;
    app.advance(0.0).await;

    let n = ledger_entry(&app, &delivered).await;
    assert_eq!(n["status"], "delivered", "{n}");
    let waited = app
        .wait_notification(&format!(
            "tenant=whalet:202400000000001&after={last_pending}"
        ))
        .await;
    assert_eq!(waited["id"], delivered.as_str());
    let pending = app.get_json("/__sim/notifications?status=pending").await;
    assert_eq!(pending["notifications"].as_array().unwrap().len(), 3);
    app.shutdown().await;
}

/// Regression (round 16): a snapshot with more finished notifications than the importing
/// simulator's `ledger_capacity` was kept whole until the next delivery finished.
#[tokio::test]
async fn an_import_keeps_the_ledger_within_its_capacity() {
    let from = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(ping(&from, &format!("d{i}")).await);
        from.advance(0.0).await;
        assert_eq!(ledger_entry(&from, &ids[i]).await["status"], "delivered");
    }
    let (_, snapshot) = from.get("/__sim/snapshot").await;
    from.shutdown().await;
    let to = spawn_with(Setup {
        config: Some("[notify]\nledger_capacity = 3\n".into()),
        ..Setup::default()
    })
    .await;
    let (status, body) = to.post("/__sim/snapshot", &snapshot).await;
    assert_eq!(status, 200, "{body}");
    let list = to.get_json("/__sim/notifications").await;
    let kept: Vec<&str> = list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    let newest: Vec<&str> = ids[2..].iter().rev().map(String::as_str).collect();
    assert_eq!(kept, newest, "the three that finished last");
    to.shutdown().await;
}

#[tokio::test]
async fn reset_forgets_notifications_and_cancels_their_retries() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Down),
        ..Setup::default()
    })
    .await;
    ping(&app, "to be forgotten").await;
    app.advance(0.0).await;
    let clock = app.get_json("/__sim/clock").await;
    assert_eq!(clock["pending"].as_array().unwrap().len(), 1, "{clock}");
    let (status, body) = app
        .post("/__sim/reset", &json!({"tenant": "whalet:202400000000001"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let list = app.get_json("/__sim/notifications").await;
    assert_eq!(list["notifications"], json!([]));
    let clock = app.get_json("/__sim/clock").await;
    assert_eq!(clock["pending"], json!([]), "{clock}");
    app.advance(60.0).await;
    assert_eq!(app.receiver.received().len(), 1);
    app.shutdown().await;
}
