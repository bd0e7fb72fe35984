//! The data directory's rows as a start reads them (docs/PERSISTENCE.md, "Resuming"): a row
//! every database holding state has (the clock, `meta`'s settings) is refused when missing,
//! never read as a default; a negative number is refused, never read as 0. And the virtual time
//! of a running clock is written while the simulator is idle, so that a `kill -9` does not take
//! the restart back to the last change.

use std::path::Path;
use std::time::Duration;

use whalet_sim::clock::ClockMode;

use crate::persistence::{copy_data_dir, on_dir_with as on_dir, ping, refused_start, to_version_1};

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("whalet-sim.db")).unwrap()
}

fn count(dir: &Path, table: &str) -> i64 {
    db(dir)
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

const SCENARIOS: [&str; 2] = [
    "name = \"every-second\"\n[[rule]]\nnth = 2\n[rule.then]\ncode = \"FAILURE\"\n",
    "name = \"every-fifth\"\n[[rule]]\nnth = 5\n[rule.then]\ncode = \"FAILURE\"\n",
];

/// The tester's repro: a stopped data dir with two scenarios loaded (and their counters) and a
/// manual clock. A missing `scenario_state` row dropped both scenarios (and the first write
/// erased their rows), a missing clock row started a real clock, a `nextGeneration` that is not
/// a number and negative generations, rules and counts read as 0. Each is now a refused start
/// naming the table and the row, and the database keeps every row.
#[tokio::test]
async fn a_missing_row_or_a_negative_number_is_a_refused_start_that_keeps_the_rows() {
    let base = tempfile::tempdir().unwrap();
    let app = on_dir(base.path(), None).await;
    for text in SCENARIOS {
        assert_eq!(app.load_scenario(text, "").await.0, 200);
    }
    assert_eq!(ping(&app).await, "SUCCESS");
    app.shutdown().await;
    assert_eq!(count(base.path(), "scenarios"), 2);
    assert_eq!(count(base.path(), "scenario_counters"), 2);
    let state_value = "SELECT value FROM meta WHERE key = 'scenario_state'";
    let generation: i64 = db(base.path())
        .query_row(
            "SELECT generation FROM scenarios WHERE name = 'every-second'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        (
            "scenario_state row",
            "DELETE FROM meta WHERE key = 'scenario_state'".into(),
            vec![
                "table meta: the row scenario_state (".into(),
                ") is missing: put the row back".into(),
            ],
        ),
        (
            "clock row",
            "DELETE FROM clock".into(),
            vec![
                "table clock: the row (id 1) is missing;".into(),
                "put the row back".into(),
            ],
        ),
        (
            "clock time not an integer",
            "UPDATE clock SET now = 1e20".into(),
            vec![
                "table clock: ".into(),
                "now (virtual time, whole epoch milliseconds)".into(),
            ],
        ),
        (
            "notification sequence row",
            "DELETE FROM meta WHERE key = 'next_notification_seq'".into(),
            vec![
                "table meta: the row next_notification_seq (".into(),
                ") is missing".into(),
            ],
        ),
        (
            "nextGeneration not a number",
            "UPDATE meta SET value = json_set(value, '$.nextGeneration', 'x') \
             WHERE key = 'scenario_state'"
                .into(),
            vec![r#"table meta: scenario_state: nextGeneration "x" is not a generation"#.into()],
        ),
        (
            "nextGeneration negative",
            "UPDATE meta SET value = json_set(value, '$.nextGeneration', -1) \
             WHERE key = 'scenario_state'"
                .into(),
            vec!["table meta: scenario_state: nextGeneration -1 is not a generation".into()],
        ),
        (
            "generation negative",
            "UPDATE scenarios SET generation = -generation WHERE name = 'every-second'".into(),
            vec![format!(
                r#"table scenarios: "every-second": generation -{generation} is negative"#
            )],
        ),
        (
            "rule negative",
            format!("UPDATE scenario_counters SET rule = -1 WHERE generation = {generation}"),
            vec![
                format!("table scenario_counters: generation {generation} rule -1 tenant "),
                ": rule -1 is negative".into(),
            ],
        ),
        (
            "count negative",
            format!("UPDATE scenario_counters SET count = -3 WHERE generation = {generation}"),
            vec![
                "table scenario_counters: generation".into(),
                ": count -3 is negative".into(),
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (what, spoil, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        copy_data_dir(base.path(), dir.path());
        db(dir.path())
            .execute_batch(&spoil)
            .unwrap_or_else(|e| panic!("{what}: {spoil}: {e}"));
        let state_before: Option<String> =
            db(dir.path()).query_row(state_value, [], |r| r.get(0)).ok();
        let Some(message) = refused_start(dir.path()) else {
            failures.push(format!("{what}: started"));
            continue;
        };
        let db_path = dir.path().join("whalet-sim.db");
        let prefix = format!("database {}: ", db_path.display());
        let mut rest = message.strip_prefix(&prefix);
        for part in &expected {
            rest = rest.and_then(|r| r.find(part.as_str()).map(|at| &r[at + part.len()..]));
        }
        if rest.is_none() {
            failures.push(format!("{what}: {message} is not {prefix}{expected:?}"));
        }
        // The refused start wrote nothing.
        let kept = (
            count(dir.path(), "scenarios"),
            count(dir.path(), "scenario_counters"),
            db(dir.path()).query_row(state_value, [], |r| r.get(0)).ok(),
        );
        if kept != (2, 2, state_before.clone()) {
            failures.push(format!("{what}: the rows changed: {kept:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The base itself starts with both scenarios: only what is wrong is refused.
    let again = on_dir(base.path(), None).await;
    let list = again.get_json("/__sim/scenarios").await["scenarios"].clone();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    again.shutdown().await;
}

/// A version 1 database (no scenarios kept) is migrated with an empty scenario state, in the
/// transaction that sets the version: a start refused after the migration (here for its clock
/// mode) leaves a version 2 database that starts once the mode is put right, rather than one
/// refused for a scenario state it never had.
#[tokio::test]
async fn a_version_1_database_refused_once_starts_once_put_right() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path(), None).await;
    assert_eq!(ping(&app).await, "SUCCESS");
    app.shutdown().await;
    to_version_1(dir.path());
    db(dir.path())
        .execute("UPDATE clock SET mode = '{\"mode\":\"bogus\"}'", [])
        .unwrap();
    let refused = refused_start(dir.path()).unwrap();
    assert!(refused.contains("table clock: mode"), "{refused}");
    db(dir.path())
        .execute("UPDATE clock SET mode = '{\"mode\":\"manual\"}'", [])
        .unwrap();
    let again = on_dir(dir.path(), None).await;
    assert_eq!(ping(&again).await, "SUCCESS");
    again.shutdown().await;
}

/// The virtual time (ms) in the `clock` row, as a `kill -9` would leave it.
fn stored_now(dir: &Path) -> i64 {
    db(dir)
        .query_row("SELECT now FROM clock WHERE id = 1", [], |r| r.get(0))
        .unwrap()
}

/// The tester's repro: a scaled clock (100× faster) idle for 3 s had its row at the time of the
/// last change, so a restart after `kill -9` went back ~300 virtual seconds. The background
/// writer now records a running clock once a second: what a kill leaves (the committed row,
/// read while the simulator runs) is at most about a second of wall time behind.
#[tokio::test]
async fn an_idle_running_clock_is_written_once_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path(), Some(ClockMode::Scaled { scale: 0.01 })).await;
    assert_eq!(ping(&app).await, "SUCCESS");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let now = crate::whalet2_support::now_ms(&app).await;
    let stored = stored_now(dir.path());
    // 1 s of wall time (and the writer's 100 ms tick) is 110 virtual s; 2 s leave slack for a
    // busy machine, and 3 s (nothing written since the ping) is refused.
    assert!(
        now - stored <= 200_000,
        "a kill now would go back {} virtual ms",
        now - stored
    );
    app.shutdown().await;
}

/// Cheap: an idle simulator with a manual clock that does not move writes nothing.
#[tokio::test]
async fn an_idle_manual_clock_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path(), None).await;
    assert_eq!(ping(&app).await, "SUCCESS");
    let reader = db(dir.path());
    let version = |c: &rusqlite::Connection| -> i64 {
        c.query_row("PRAGMA data_version", [], |r| r.get(0))
            .unwrap()
    };
    let before = (version(&reader), stored_now(dir.path()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!((version(&reader), stored_now(dir.path())), before);
    app.shutdown().await;
}

/// Regression: a clock change asked over the control plane was answered before it was written
/// (a mode switch only reached the database with the background writer, an advance of a
/// running clock a second later), so a `kill -9` right after the answer lost it. Each is in
/// the database when its answer arrives.
#[tokio::test]
async fn a_clock_change_is_written_before_its_answer() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path(), Some(ClockMode::Manual)).await;
    let stored_mode = || -> String {
        db(dir.path())
            .query_row("SELECT mode FROM clock WHERE id = 1", [], |r| r.get(0))
            .unwrap()
    };
    let (status, body) = app
        .post("/__sim/clock", &serde_json::json!({"mode": "real"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(stored_mode().contains("real"), "{}", stored_mode());
    let (status, body) = app
        .post(
            "/__sim/clock/advance",
            &serde_json::json!({"seconds": 3600}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let now = app.get_json("/__sim/clock").await["now"].as_i64().unwrap();
    let behind = now - stored_now(dir.path());
    assert!(
        (0..60_000).contains(&behind),
        "the stored time is {behind} ms behind the answer's"
    );
    app.shutdown().await;
}
