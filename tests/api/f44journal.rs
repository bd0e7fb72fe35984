//! The request journal and the data directory (docs/PERSISTENCE.md): a `DELETE /__sim/requests`
//! is committed before its answer leaves, like every other change; journal ids are bounded by
//! what the data dir stores (a signed 64-bit integer), a snapshot's id past it is refused and
//! the journal never gives one past it.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::persistence::{export, import, on_dir_with, ping};

/// The ids `GET /__sim/requests` lists, newest first.
async fn journal_ids(app: &TestApp) -> Vec<u64> {
    let page = app.get_json("/__sim/requests").await;
    page["requests"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect()
}

/// The rows of the data dir's `journal` table, read as any SQLite client would.
fn journal_rows(dir: &std::path::Path) -> i64 {
    rusqlite::Connection::open(dir.join("whalet-sim.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM journal", [], |r| r.get(0))
        .unwrap()
}

/// The tester's repro: two journaled requests, a clear, a restart on the same data dir; the
/// cleared entries came back (`journal=2`).
#[tokio::test]
async fn a_cleared_journal_stays_cleared_after_a_data_dir_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir_with(dir.path(), None).await;
    for user in ["U404", "U405"] {
        let (status, body) = app
            .post(
                "/__sim/trigger/whalet.onboarding.approved",
                &json!({"userId": user}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
    }
    assert_eq!(journal_ids(&app).await.len(), 2);
    assert_eq!(
        journal_rows(dir.path()),
        2,
        "the entries are in the data dir"
    );

    let (status, body) = app.delete("/__sim/requests").await;
    assert_eq!((status, &body), (200, &json!({"cleared": true})));
    assert_eq!(journal_ids(&app).await, Vec::<u64>::new());
    assert_eq!(
        journal_rows(dir.path()),
        0,
        "the clear is committed before its answer is sent"
    );
    app.shutdown().await;

    let again = on_dir_with(dir.path(), None).await;
    assert_eq!(
        journal_ids(&again).await,
        Vec::<u64>::new(),
        "the cleared entries do not come back"
    );
    // Ids go on after the last one given, not from 1 again.
    assert_eq!(ping(&again).await, "SUCCESS");
    let ids = journal_ids(&again).await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(ids[0] > 2, "a new id, not one of the cleared: {ids:?}");
    again.shutdown().await;
}

/// The snapshot of `app` with its journal's ids set to `ids` (oldest first).
async fn with_journal_ids(app: &TestApp, ids: &[u64]) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(&export(app, "").await).unwrap();
    let journal = doc["journal"].as_array_mut().unwrap();
    assert_eq!(journal.len(), ids.len(), "{journal:?}");
    for (entry, id) in journal.iter_mut().zip(ids) {
        entry["id"] = json!(id);
    }
    serde_json::to_vec(&doc).unwrap()
}

/// The tester's repro: an id of u64::MAX panicked the import ("attempt to add with overflow")
/// in a debug build and wrapped the next id to 0 in a release build.
#[tokio::test]
async fn a_snapshot_with_a_journal_id_past_the_bound_is_refused_naming_it() {
    let app = spawn_app().await;
    assert_eq!(ping(&app).await, "SUCCESS");
    assert_eq!(ping(&app).await, "SUCCESS");
    let before = export(&app, "").await;

    for huge in [u64::MAX, i64::MAX as u64 + 1] {
        let spoilt = with_journal_ids(&app, &[1, huge]).await;
        let (status, body) = import(&app, "", spoilt).await;
        assert_eq!(status, 400, "{body}");
        let error = body["error"].as_str().unwrap_or_else(|| panic!("{body}"));
        assert!(
            error.contains(&format!("journal[1]: id {huge} is past {}", i64::MAX)),
            "{error}"
        );
        assert!(!error.contains("overflow"), "{error}");
    }

    // Nothing changed, and the simulator's next export imports again.
    let after = export(&app, "").await;
    assert!(before == after, "the refused imports changed nothing");
    let (status, body) = import(&app, "", after).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ping(&app).await, "SUCCESS");
    let again = export(&app, "").await;
    let (status, body) = import(&app, "", again).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

/// The largest id the data dir stores is taken; the requests after it get ids within the bound
/// (the journal numbers its entries again), so the export imports again and a data dir holds
/// every entry under its own id.
#[tokio::test]
async fn after_the_largest_journal_id_the_journal_stays_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir_with(dir.path(), None).await;
    assert_eq!(ping(&app).await, "SUCCESS");
    assert_eq!(ping(&app).await, "SUCCESS");
    let largest = i64::MAX as u64;
    let edge = with_journal_ids(&app, &[largest - 1, largest]).await;
    let (status, body) = import(&app, "", edge).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(journal_ids(&app).await, vec![largest, largest - 1]);

    assert_eq!(ping(&app).await, "SUCCESS");
    let ids = journal_ids(&app).await;
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(
        ids.iter().all(|id| *id <= largest) && ids.windows(2).all(|w| w[0] > w[1]),
        "ids within the bound, newest first: {ids:?}"
    );
    assert_eq!(journal_rows(dir.path()), 3, "one row per entry");
    let next = export(&app, "").await;
    let (status, body) = import(&app, "", next).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;

    let again = on_dir_with(dir.path(), None).await;
    assert_eq!(journal_ids(&again).await, ids);
    again.shutdown().await;
}
