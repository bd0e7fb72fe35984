//! Stop 47: what a reset cancelled of a scenario's timeline is kept with the scenario, in the
//! data directory (`scenarios.cancelled`) and in snapshots, so a restart still shows those
//! events as cancelled rather than pending past their time (docs/SCENARIOS.md).

use serde_json::Value;

use crate::persistence::on_dir_with;

const TENANT: &str = "whalet:202400000000001";
const TIMELINE: &str = "name = \"tl47\"\n[[timeline]]\nat = \"1h\"\n\
                        event = \"whalet.collection.received\"\n\
                        params = { amount = \"10.00\", currency = \"USD\" }\n";

fn db(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("whalet-sim.db")).unwrap()
}

/// The view's `[timeline[0].cancelled, cancelled.len(), fired.len()]`.
fn marks(view: &Value) -> (Value, usize, usize) {
    (
        view["timeline"][0]["cancelled"].clone(),
        view["cancelled"].as_array().unwrap().len(),
        view["fired"].as_array().unwrap().len(),
    )
}

/// The tester's repro: load a timeline, reset the tenant, restart on the data dir; the event
/// showed as pending (no mark) and, once past its time, neither fired nor said why.
#[tokio::test]
async fn a_resets_cancelled_events_stay_cancelled_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir_with(dir.path(), None).await;
    let (status, body) = app
        .load_scenario(TIMELINE, &format!("tenant={TENANT}"))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .post(
            &format!("/__sim/reset?tenant={TENANT}"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let path = format!("/__sim/scenarios/tl47?tenant={TENANT}");
    let before = app.get_json(&path).await;
    assert_eq!(marks(&before), ("reset".into(), 1, 0), "{before}");
    app.shutdown().await;

    let again = on_dir_with(dir.path(), None).await;
    again.advance(7200.0).await;
    let after = again.get_json(&path).await;
    assert_eq!(marks(&after), ("reset".into(), 1, 0), "{after}");
    assert_eq!(after["cancelled"], before["cancelled"]);
    // And in a snapshot of the tenant.
    let snapshot = again
        .get_json(&format!("/__sim/snapshot?tenant={TENANT}"))
        .await;
    assert_eq!(
        snapshot["scenarios"]["loaded"][0]["cancelled"], before["cancelled"],
        "{}",
        snapshot["scenarios"]
    );
    again.shutdown().await;
}

/// A database written before the column existed opens, gets it, and keeps marks from then on.
#[tokio::test]
async fn a_scenarios_table_without_the_cancelled_column_opens_and_gets_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir_with(dir.path(), None).await;
    let (status, body) = app
        .load_scenario(TIMELINE, &format!("tenant={TENANT}"))
        .await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
    db(dir.path())
        .execute_batch("ALTER TABLE scenarios DROP COLUMN cancelled")
        .unwrap();

    let again = on_dir_with(dir.path(), None).await;
    let path = format!("/__sim/scenarios/tl47?tenant={TENANT}");
    assert_eq!(marks(&again.get_json(&path).await), (Value::Null, 0, 0));
    again
        .post(
            &format!("/__sim/reset?tenant={TENANT}"),
            &serde_json::json!({}),
        )
        .await;
    again.shutdown().await;
    let stored: Option<String> = db(dir.path())
        .query_row("SELECT cancelled FROM scenarios", [], |r| r.get(0))
        .unwrap();
    assert!(stored.is_some_and(|s| s.contains("\"reset\"")));
}

/// The tester's repro: a scenario loaded for a tenant that does not exist yet (which
/// docs/SCENARIOS.md allows, with a warning), with an event still to come, made its own data
/// dir refuse to start again and its own snapshot refuse to import: the timer's tenant was not
/// one of the document's. What the simulator accepted reads back; the event still fires (and
/// records that it found no tenant).
#[tokio::test]
async fn a_timeline_of_a_tenant_not_configured_reads_back() {
    let ghost = "name = \"ghost\"\n[[timeline]]\nat = \"1m\"\n\
                 event = \"whalet.connectivity.notify\"\nparams = { notifyMessage = \"x\" }\n";
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir_with(dir.path(), None).await;
    let (status, body) = app.load_scenario(ghost, "tenant=whalet:999").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["warning"].is_string(), "{body}");
    let snapshot = app.get_json("/__sim/snapshot").await;
    let (status, body) = app.post("/__sim/snapshot", &snapshot).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;

    let again = on_dir_with(dir.path(), None).await;
    again.advance(120.0).await;
    let view = again
        .get_json("/__sim/scenarios/ghost?tenant=whalet:999")
        .await;
    assert_eq!(view["fired"].as_array().unwrap().len(), 1, "{view}");
    again.shutdown().await;
}
