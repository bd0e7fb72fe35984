//! Stop 46's clock fixes. A real clock on a data dir resumes as wall time moved while the
//! simulator was down (docs/PERSISTENCE.md, "Resuming"), tested without sleeping: the wall time
//! stored with the clock is written back by hand. A start whose clock a data dir or a snapshot
//! sets names the clock flags it does not apply. A notification is found by every id form the
//! control plane takes (`ntf_000007`, `ntf_7`, `7`).

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use whalet_sim::clock::ClockMode;

use crate::helpers::{spawn_app, TestApp};
use crate::persistence::on_dir_with;
use crate::served::Served;
use crate::whalet_support::apply_user;

const HOUR_MS: i64 = 3_600_000;
/// Wall time a start, the requests around it and a busy machine may take.
const SLACK_MS: i64 = 60_000;

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("whalet-sim.db")).unwrap()
}

/// The stored clock row: virtual time and the wall time it was written at.
fn stored_clock(dir: &Path) -> (i64, Option<i64>) {
    db(dir)
        .query_row("SELECT now, wall FROM clock WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap()
}

/// Moves the wall time the stopped data dir's clock row was written at by `by` ms (negative: as
/// if the simulator had been down that much longer).
fn shift_stored_wall(dir: &Path, by: i64) {
    let changed = db(dir)
        .execute("UPDATE clock SET wall = wall + ?1 WHERE id = 1", [by])
        .unwrap();
    assert_eq!(changed, 1);
}

async fn now_of(app: &TestApp) -> i64 {
    app.get_json("/__sim/clock").await["now"].as_i64().unwrap()
}

/// The tester's repro: a real clock stopped while the simulator was down and stayed behind wall
/// time for ever after, and a timer due meanwhile did not fire. Now, an hour down (the stored
/// wall time an hour back), the clock resumes an hour on from where it stopped, keeping its
/// offset from wall time (it started at 2025-01-01, as an advance would have put it), and both
/// onboarding reviews that fell due meanwhile are decided at once, in due order.
#[tokio::test]
async fn a_real_clock_resumes_as_wall_time_moved_and_timers_due_meanwhile_fire_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir_with(dir.path(), Some(ClockMode::Real)).await;
    let first = apply_user(&app, "resume-first").await;
    let second = apply_user(&app, "resume-second").await;
    app.shutdown().await;
    let (stored, wall) = stored_clock(dir.path());
    assert!(wall.is_some(), "the clock row keeps its wall time");
    shift_stored_wall(dir.path(), -HOUR_MS);

    let again = on_dir_with(dir.path(), Some(ClockMode::Real)).await;
    let now = now_of(&again).await;
    assert!(
        (stored + HOUR_MS..stored + HOUR_MS + SLACK_MS).contains(&now),
        "an hour down: the clock resumed {} ms after its stored time",
        now - stored
    );
    for user in [&first, &second] {
        let n = again
            .wait_notification(&format!(
                "apiCode=userOnboardingResultNotify&businessId={user}"
            ))
            .await;
        assert_eq!(n["status"], "delivered", "{n}");
    }
    let ledger = again
        .get_json("/__sim/notifications?apiCode=userOnboardingResultNotify")
        .await;
    let about: Vec<Value> = ledger["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|n| n["businessId"].clone())
        .collect();
    assert_eq!(about, vec![json!(first), json!(second)], "due order");
    again.shutdown().await;
}

/// A wall clock that went back (the row written "later" than now), and a row without its wall
/// time (a data dir an older whalet-sim wrote), resume a real clock at its stored time: never
/// earlier. The next write records the wall time again.
#[tokio::test]
async fn a_real_clock_never_resumes_before_its_stored_time() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir_with(dir.path(), Some(ClockMode::Real)).await;
    app.shutdown().await;
    for (case, change) in [
        (
            "wall clock went back",
            "UPDATE clock SET wall = wall + 3600000",
        ),
        ("no wall time", "UPDATE clock SET wall = NULL"),
    ] {
        db(dir.path()).execute(change, []).unwrap();
        let (stored, _) = stored_clock(dir.path());
        let again = on_dir_with(dir.path(), Some(ClockMode::Real)).await;
        let now = now_of(&again).await;
        assert!(
            (stored..stored + SLACK_MS).contains(&now),
            "{case}: resumed {} ms from its stored time",
            now - stored
        );
        again.shutdown().await;
        assert!(
            stored_clock(dir.path()).1.is_some(),
            "{case}: written again"
        );
    }
}

/// A database written before the clock kept its wall time (no `wall` column) opens, gets the
/// column, and resumes its real clock at its stored time.
#[tokio::test]
async fn a_clock_table_without_the_wall_column_opens_and_gets_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir_with(dir.path(), Some(ClockMode::Real)).await;
    app.shutdown().await;
    db(dir.path())
        .execute_batch("ALTER TABLE clock DROP COLUMN wall")
        .unwrap();
    let stored: i64 = db(dir.path())
        .query_row("SELECT now FROM clock WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    let again = on_dir_with(dir.path(), Some(ClockMode::Real)).await;
    let now = now_of(&again).await;
    assert!(
        (stored..stored + SLACK_MS).contains(&now),
        "{}",
        now - stored
    );
    again.shutdown().await;
    assert!(stored_clock(dir.path()).1.is_some());
}

/// Manual and scaled clocks pause while the simulator is down (docs/PERSISTENCE.md): an hour
/// of downtime does not move them.
#[tokio::test]
async fn manual_and_scaled_clocks_pause_while_the_simulator_is_down() {
    for mode in [ClockMode::Manual, ClockMode::Scaled { scale: 1.0 }] {
        let dir = tempfile::tempdir().unwrap();
        let app = on_dir_with(dir.path(), Some(mode)).await;
        app.shutdown().await;
        shift_stored_wall(dir.path(), -HOUR_MS);
        let (stored, _) = stored_clock(dir.path());
        let again = on_dir_with(dir.path(), Some(mode)).await;
        let now = now_of(&again).await;
        assert!(
            (stored..stored + SLACK_MS).contains(&now),
            "{mode:?}: resumed {} ms from its stored time",
            now - stored
        );
        again.shutdown().await;
    }
}

/// An import of all state over a data dir's real clock restores the snapshot's own time, as
/// the docs say, not the snapshot's time moved on by wall time.
#[tokio::test]
async fn a_snapshot_import_restores_the_snapshots_own_time() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir_with(dir.path(), Some(ClockMode::Real)).await;
    let (status, snapshot) = app.get("/__sim/snapshot").await;
    assert_eq!(status, 200);
    let mut snapshot = snapshot;
    let taken = snapshot["now"].as_i64().unwrap();
    snapshot["now"] = json!(taken - HOUR_MS);
    let (status, body) = app.post("/__sim/snapshot", &snapshot).await;
    assert_eq!(status, 200, "{body}");
    let now = now_of(&app).await;
    assert!(
        (taken - HOUR_MS..taken - HOUR_MS + SLACK_MS).contains(&now),
        "{}",
        now - (taken - HOUR_MS)
    );
    app.shutdown().await;
}

// ---- the clock flags a restored clock does not apply ----

/// The warning about clock flags not applied, if any.
fn flags_warning(lines: &[String]) -> Option<&String> {
    lines.iter().find(|l| l.contains("not applied"))
}

/// The tester's repro: `serve --snapshot FILE --start-time … --manual-clock` started at the
/// snapshot's time and said nothing. The virtual time is the snapshot's: the start time given
/// is named as not applied; the manual clock is applied (a snapshot holds no clock mode).
#[tokio::test]
async fn a_snapshot_start_names_the_start_time_it_does_not_apply() {
    let app = spawn_app().await;
    let snapshot = app
        .http
        .get(
            &format!("{}/__sim/snapshot", app.url),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(snapshot.status, 200);
    app.shutdown().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snap.json");
    std::fs::write(&file, &snapshot.body).unwrap();
    let file = file.display().to_string();

    let lines = Served::start(&[
        "--snapshot",
        &file,
        "--start-time",
        "2030-01-01T00:00:00Z",
        "--manual-clock",
    ])
    .until_ready();
    let warning = flags_warning(&lines).unwrap_or_else(|| panic!("no warning in {lines:?}"));
    assert!(warning.contains("WARN"), "{warning}");
    assert!(
        warning.contains("the virtual time is the snapshot's"),
        "{warning}"
    );
    assert!(warning.contains("--start-time is not applied"), "{warning}");
    assert!(!warning.contains("--manual-clock"), "applied: {warning}");
    assert!(!warning.contains("--time-scale"), "not given: {warning}");
    assert!(warning.contains(&file), "names the snapshot: {warning}");

    // Without --start-time nothing is overridden: no warning.
    let lines = Served::start(&["--snapshot", &file, "--manual-clock"]).until_ready();
    assert_eq!(flags_warning(&lines), None, "{lines:?}");
}

/// A data dir's start names only the clock flags given (it named all three whatever was
/// given); one with no clock flag says nothing.
#[tokio::test]
async fn a_data_dir_start_names_only_the_clock_flags_given() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let first = Served::start(&["--data-dir", &data]).until_ready();
    assert_eq!(flags_warning(&first), None, "a new data dir: {first:?}");

    let lines = Served::start(&["--data-dir", &data, "--manual-clock"]).until_ready();
    let warning = flags_warning(&lines).unwrap_or_else(|| panic!("no warning in {lines:?}"));
    assert!(
        warning.contains("the clock's mode and virtual time are the data dir's"),
        "{warning}"
    );
    assert!(
        warning.contains("--manual-clock is not applied"),
        "{warning}"
    );
    assert!(!warning.contains("--time-scale"), "not given: {warning}");
    assert!(!warning.contains("--start-time"), "not given: {warning}");

    let lines = Served::start(&[
        "--data-dir",
        &data,
        "--time-scale",
        "0.5",
        "--start-time",
        "2030-01-01T00:00:00Z",
    ])
    .until_ready();
    let warning = flags_warning(&lines).unwrap_or_else(|| panic!("no warning in {lines:?}"));
    assert!(
        warning.contains("--time-scale and --start-time are not applied"),
        "{warning}"
    );
    assert!(!warning.contains("--manual-clock"), "not given: {warning}");

    let lines = Served::start(&["--data-dir", &data]).until_ready();
    assert_eq!(flags_warning(&lines), None, "no clock flag: {lines:?}");
}

// ---- notification ids ----

/// The tester's repro: `GET /__sim/notifications/7` answered 404 while `ntf_000007` existed,
/// and its resend 404'd too, though the listing's `after=7` took the bare number. Every form
/// (`ntf_000001`, `ntf_1`, `ntf_0000001`, `1`) finds the notification, for a read and a
/// resend; `after=` takes the same forms and refuses what the paths refuse.
#[tokio::test]
async fn a_notification_is_found_by_its_id_or_its_number_everywhere() {
    let app = spawn_app().await;
    let reply = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": "Y", "responseFlag": "N"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS");
    app.advance(1.0).await;
    let n = app.wait_notification("apiCode=connectivityNotify").await;
    let id = n["id"].as_str().unwrap().to_owned();
    let number: u64 = id.trim_start_matches("ntf_").parse().unwrap();
    let forms = [
        id.clone(),
        format!("ntf_{number}"),
        format!("ntf_{number:07}"),
        number.to_string(),
    ];
    for form in &forms {
        let (status, body) = app.get(&format!("/__sim/notifications/{form}")).await;
        assert_eq!(status, 200, "{form}: {body}");
        assert_eq!(body["id"], json!(id), "{form}");
    }
    for form in &forms {
        let (status, body) = app
            .post(&format!("/__sim/notifications/{form}/resend"), &json!({}))
            .await;
        assert_eq!(status, 200, "resend {form}: {body}");
        assert_eq!(body["id"], json!(id), "{form}");
        app.advance(1.0).await;
        let (status, body) = app.get(&format!("/__sim/notifications/{id}")).await;
        assert_eq!((status, body["status"].clone()), (200, json!("delivered")));
    }
    for form in &forms {
        let (status, body) = app.get(&format!("/__sim/notifications?after={form}")).await;
        assert_eq!(status, 200, "after={form}: {body}");
        let ids: Vec<&Value> = body["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| &n["id"])
            .collect();
        assert!(!ids.contains(&&json!(id)), "after={form}: {ids:?}");
    }
    let (status, body) = app.get("/__sim/notifications?after=0").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["id"] == json!(id)));

    for junk in ["x", "ntf_ntf_1", "%2B1", "ntf_"] {
        let (status, body) = app.get(&format!("/__sim/notifications/{junk}")).await;
        assert_eq!(status, 404, "{junk}: {body}");
        let message = body["error"].as_str().unwrap();
        assert!(message.starts_with("no notification "), "{message}");
        assert!(
            message.contains("ntf_000042, or its number, 42"),
            "{message}"
        );
        let (status, body) = app
            .post(&format!("/__sim/notifications/{junk}/resend"), &json!({}))
            .await;
        assert_eq!(status, 404, "resend {junk}: {body}");
        let (status, body) = app.get(&format!("/__sim/notifications?after={junk}")).await;
        assert_eq!(status, 400, "after={junk}: {body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("after must be a notification id (ntf_000042) or its number"),
            "{body}"
        );
    }
    let (status, body) = app.get("/__sim/notifications/999999").await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"]
        .as_str()
        .unwrap()
        .starts_with("no notification 999999"));

    // The OpenAPI text says what `after` takes.
    let doc = app.get_json("/__sim/openapi.json").await;
    let params = doc["paths"]["/__sim/notifications"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let after = params.iter().find(|p| p["name"] == "after").unwrap();
    assert!(
        after["description"]
            .as_str()
            .unwrap()
            .contains("ntf_000012 or 12"),
        "{after}"
    );
    app.shutdown().await;
}
