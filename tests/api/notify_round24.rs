//! Notification numbering regressions of round 24: a snapshot's `nextSeq` or notification id past
//! what the data dir stores (a signed 64-bit integer) is refused before anything changes,
//! rather than wrapping the ids round and overwriting notifications; a data dir holding such a
//! number is a refused start, not a panic; and an import that takes the numbering and the
//! virtual clock back never makes a Whalet notification reuse a requestNo the partner got.

use std::time::Duration;

use serde_json::{json, Value};
use whalet_sim::notify::MAX_SEQ;

use crate::helpers::{spawn_app, TestApp};
use crate::persistence::{copy_data_dir, on_dir_with, refused_start};

const PARTNER: &str = "202400000000001";

/// The simulator's snapshot of all state (`GET /__sim/snapshot`).
async fn snapshot(app: &TestApp) -> Value {
    let r = app
        .http
        .get(
            &format!("{}/__sim/snapshot", app.url),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    serde_json::from_slice(&r.body).unwrap()
}

/// Imports `doc` as the whole state; the status and the answer.
async fn import(app: &TestApp, doc: &Value) -> (u16, String) {
    app.post_raw(
        "/__sim/snapshot",
        "application/json",
        serde_json::to_vec(doc).unwrap(),
    )
    .await
}

/// Fires `whalet.connectivity.notify` with `message`; the ids it reports.
async fn notify(app: &TestApp, message: &str) -> Value {
    app.trigger_ok(
        "whalet.connectivity.notify",
        json!({"partnerId": PARTNER, "notifyMessage": message}),
    )
    .await["notifications"]
        .clone()
}

/// The ids in the delivery ledger, oldest first.
async fn ids(app: &TestApp) -> Vec<String> {
    let list = app.get_json("/__sim/notifications?limit=1000").await;
    let mut ids: Vec<String> = list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    ids.reverse();
    ids
}

/// The tester's repro: `nextSeq` 18446744073709551615 was accepted, the ids wrapped round to
/// `ntf_000000` and overwrote notifications, and the simulator's own export then failed with a
/// panic after it had dropped the state. A `nextSeq` or an id past what the data dir stores is
/// refused naming the field, and the refusal changes nothing (the document's other time is not
/// taken either).
#[tokio::test]
async fn a_next_seq_or_an_id_past_the_storable_numbers_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    notify(&app, "kept").await;
    app.advance(0.0).await;
    let before = snapshot(&app).await;
    let ledger_before = ids(&app).await;
    assert_eq!(ledger_before.len(), 1);
    // What is spoilt (a JSON pointer), the value put there, what the refusal says.
    let cases: [(&str, Value, String); 4] = [
        (
            "/outbox/nextSeq",
            json!(u64::MAX),
            format!("outbox.nextSeq {} is past {}", u64::MAX, MAX_SEQ + 1),
        ),
        (
            "/outbox/nextSeq",
            json!(MAX_SEQ + 2),
            format!("outbox.nextSeq {} is past", MAX_SEQ + 2),
        ),
        (
            "/outbox/notifications/0/id",
            json!(format!("ntf_{}", u64::MAX)),
            format!(
                "outbox.notifications[0]: id ntf_{}: its number is past {MAX_SEQ}",
                u64::MAX
            ),
        ),
        (
            "/outbox/notifications/0/id",
            json!(format!("ntf_{}", MAX_SEQ + 1)),
            format!("id ntf_{}: its number is past {MAX_SEQ}", MAX_SEQ + 1),
        ),
    ];
    for (what, value, expected) in cases {
        let mut doc = before.clone();
        doc["now"] = json!(before["now"].as_i64().unwrap() + 3_600_000);
        *doc.pointer_mut(what).unwrap() = value.clone();
        let what = format!("{what} = {value}");
        let (status, body) = import(&app, &doc).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(body.contains(&expected), "{what}: {body} lacks {expected}");
        assert!(!body.contains("panicked"), "{what}: {body}");
        let now = snapshot(&app).await;
        assert_eq!(now["now"], before["now"], "{what}: the clock moved");
        assert_eq!(
            now["outbox"], before["outbox"],
            "{what}: the ledger changed"
        );
    }
    assert_eq!(ids(&app).await, ledger_before);
    app.shutdown().await;
}

/// At the edge: a snapshot with `nextSeq` = the last storable number is taken; the next
/// notification gets that number, the simulator's own export goes back in, and once every
/// number is given a further notification is not recorded, rather than wrapping round to
/// `ntf_000000` and overwriting one.
#[tokio::test]
async fn the_last_storable_number_is_given_once_and_never_wraps() {
    let app = spawn_app().await;
    notify(&app, "early").await;
    app.advance(0.0).await;
    let mut doc = snapshot(&app).await;
    doc["outbox"]["nextSeq"] = json!(MAX_SEQ);
    let (status, body) = import(&app, &doc).await;
    assert_eq!(status, 200, "{body}");

    let last = notify(&app, "last").await;
    assert_eq!(last, json!([format!("ntf_{MAX_SEQ}")]));
    app.advance(0.0).await;
    let own = snapshot(&app).await;
    assert_eq!(
        own["outbox"]["nextSeq"],
        json!(MAX_SEQ + 1),
        "{}",
        own["outbox"]
    );
    let (status, body) = import(&app, &own).await;
    assert_eq!(status, 200, "the simulator's own export: {body}");

    notify(&app, "one too many").await;
    app.advance(0.0).await;
    let kept = ids(&app).await;
    assert_eq!(kept, ["ntf_000001".to_owned(), format!("ntf_{MAX_SEQ}")]);
    let last = app
        .get_json(&format!("/__sim/notifications/ntf_{MAX_SEQ}"))
        .await;
    assert_eq!(last["payload"]["notifyMessage"], "last", "{last}");
    let messages: Vec<String> = app
        .receiver
        .received()
        .iter()
        .map(|r| match &r.body {
            Some(body) => body["notifyMessage"].to_string(),
            None => format!("refused: {:?} {}", r.error, r.request_no),
        })
        .collect();
    assert_eq!(messages, ["\"early\"", "\"last\""]);
    app.shutdown().await;
}

/// A data dir holding a notification number past what it stores (an earlier version wrote
/// `seq` -1 for `ntf_18446744073709551615`) or such a `next_notification_seq` panicked the next
/// start at `max_seq + 1`; it is a refused start naming the notification or the field.
#[tokio::test]
async fn a_data_dir_holding_a_number_past_the_storable_ones_is_a_refused_start() {
    let base = tempfile::tempdir().unwrap();
    let app = on_dir_with(base.path(), None).await;
    notify(&app, "stored").await;
    app.advance(0.0).await;
    app.shutdown().await;
    let huge = u64::MAX;
    let cases = [
        (
            format!(
                "UPDATE notifications SET seq = -1, id = 'ntf_{huge}', \
                 json = json_set(json, '$.id', 'ntf_{huge}')"
            ),
            format!("id ntf_{huge}: its number is past {MAX_SEQ}"),
        ),
        (
            format!("UPDATE meta SET value = '{huge}' WHERE key = 'next_notification_seq'"),
            format!("nextSeq {huge} is past {}", MAX_SEQ + 1),
        ),
    ];
    for (spoil, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        copy_data_dir(base.path(), dir.path());
        rusqlite::Connection::open(dir.path().join("whalet-sim.db"))
            .unwrap()
            .execute_batch(&spoil)
            .unwrap();
        let message = refused_start(dir.path()).unwrap_or_else(|| panic!("{spoil}: started"));
        assert!(message.contains(&expected), "{spoil}: {message}");
    }
    app_on_base_starts(base.path()).await;
}

/// The unspoilt data dir starts, with its notification.
async fn app_on_base_starts(dir: &std::path::Path) {
    let again = on_dir_with(dir, None).await;
    assert_eq!(ids(&again).await, ["ntf_000001"]);
    again.shutdown().await;
}

/// The tester's repro: an all-state import takes the notification numbering and the virtual
/// clock back, and the next notification carried the requestNo (`N{time}{run}{seq}`) the partner
/// had already received. The requestNo's sequence is never taken back within a run; the ids
/// stay the snapshot's, and a resend keeps its notification's requestNo.
#[tokio::test]
async fn an_import_that_takes_the_numbering_back_never_reuses_a_request_no() {
    let app = spawn_app().await;
    let saved = snapshot(&app).await;
    let first = notify(&app, "first").await;
    app.advance(0.0).await;
    let (status, body) = import(&app, &saved).await;
    assert_eq!(status, 200, "{body}");
    let second = notify(&app, "second").await;
    assert_eq!(second, first, "the ids are the snapshot's numbering again");
    app.advance(0.0).await;
    let received = app.receiver.received();
    assert_eq!(received.len(), 2);
    let message = |i: usize| received[i].body.as_ref().unwrap()["notifyMessage"].clone();
    assert_eq!((message(0), message(1)), (json!("first"), json!("second")));
    assert_ne!(
        received[0].request_no, received[1].request_no,
        "two notifications, one requestNo"
    );

    // A resend is the same notification: its requestNo stays.
    let id = second[0].as_str().unwrap();
    let (status, body) = app
        .post(&format!("/__sim/notifications/{id}/resend"), &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    app.advance(0.0).await;
    let received = app.receiver.received();
    assert_eq!(received.len(), 3);
    assert_eq!(received[2].request_no, received[1].request_no);
    app.shutdown().await;
}
