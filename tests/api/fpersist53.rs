//! Durable state, round t53a: `serve --snapshot FILE --data-dir DIR` commits the snapshot
//! before its ready line (F1); a database whose `tenants` table is empty while other tables
//! hold rows, or a 0-byte database file, is refused rather than started as new (F2); a
//! snapshot's scenario record whose name disagrees with its text is refused (F3); a delivery
//! made between requests reaches the database by the background writer alone (F4); the clock
//! flags over an existing data dir plus a snapshot are applied and logged as one story (F6); the
//! smaller refusals name what they found (F7). docs/PERSISTENCE.md.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use whalet_sim::config::Config;
use whalet_sim::{App, Options};

use crate::helpers::{repo_path, spawn_app, spawn_config, spawn_with, Setup};
use crate::persistence::{data_dir_config, export, import};
use crate::served::Served;

fn db(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("whalet-sim.db")).unwrap()
}

/// F1, the tester's repro: a start from another snapshot over a data dir, killed as soon as
/// its ready line was logged, came back on the directory's earlier state. The snapshot is
/// committed before the ready line.
#[tokio::test]
async fn a_snapshot_start_is_durable_in_the_data_dir_when_ready_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dd").display().to_string();
    let onboarded = repo_path("fixtures/onboarded-user.json");
    let retrying = repo_path("fixtures/notification-retrying.json");
    tokio::task::spawn_blocking(move || {
        let first = Served::start(&["--data-dir", &data, "--snapshot", &onboarded]);
        first.ready();
        first.stop();
        for round in 0..3 {
            // Back to the onboarded user, then the retrying snapshot killed at its ready line.
            if round > 0 {
                let back = Served::start(&["--data-dir", &data, "--snapshot", &onboarded]);
                back.ready();
                back.kill();
            }
            let second = Served::start(&["--data-dir", &data, "--snapshot", &retrying]);
            second.ready();
            second.kill();
            let pending: i64 = db(std::path::Path::new(&data))
                .query_row(
                    "SELECT count(*) FROM notifications WHERE status = 'pending'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(
                pending, 1,
                "round {round}: the data dir holds the snapshot's pending notification"
            );
        }
    })
    .await
    .unwrap();
}

/// Every table's row count and the clock row of the database in `dir`.
fn rows(dir: &std::path::Path) -> Vec<(String, i64)> {
    let conn = db(dir);
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out: Vec<(String, i64)> = tables
        .into_iter()
        .map(|t| {
            let n = conn
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap();
            (t, n)
        })
        .collect();
    let clock: (String, i64) = conn
        .query_row("SELECT mode, now FROM clock", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    out.push(clock);
    out
}

/// The simulator on data dir `dir`, started as `serve` would be (no other option).
fn start_on(dir: &std::path::Path) -> Result<App, String> {
    let mut config = Config::parse(&data_dir_config(dir)).unwrap();
    config.infinia.sftp_addr = String::new();
    App::new(config, Options::default()).map_err(|e| e.to_string())
}

/// F2, the tester's repro: with table `tenants` emptied by hand the start took the directory
/// for a new one (another clock, the other rows ignored, then mixed with the next write's, and
/// the directory no longer started). Refused, naming the tables and what to do; nothing is
/// written. A 0-byte database file is refused too; a new directory still starts.
#[tokio::test]
async fn a_database_whose_tenants_were_deleted_or_that_is_empty_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_with(Setup {
        config: Some(data_dir_config(dir.path())),
        ..Setup::default()
    })
    .await;
    app.trigger_ok("whalet.account.ready", json!({})).await;
    app.trigger_ok(
        "whalet.connectivity.notify",
        json!({"partnerId": "202400000000001"}),
    )
    .await;
    app.shutdown().await;
    db(dir.path()).execute("DELETE FROM tenants", []).unwrap();
    let before = rows(dir.path());

    let e = start_on(dir.path()).err().expect("refused");
    assert!(
        e.contains("whalet-sim.db: table tenants holds no row, but table entities holds")
            && e.contains(r#"of tenant "whalet:202400000000001""#)
            && e.contains("table notifications holds")
            && e.contains("is not a new data dir")
            && e.contains("put the row back (or the database from a copy)"),
        "{e}"
    );
    assert_eq!(
        before,
        rows(dir.path()),
        "a refused start left the database as it was"
    );

    // A 0-byte database file (no write-ahead log left either).
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("whalet-sim.db"), b"").unwrap();
    let e = start_on(empty.path()).err().expect("refused");
    assert!(
        e.contains("whalet-sim.db: the file is empty (0 bytes)")
            && e.contains("remove the empty file"),
        "{e}"
    );
    assert_eq!(
        std::fs::metadata(empty.path().join("whalet-sim.db"))
            .unwrap()
            .len(),
        0,
        "left alone"
    );

    // A new directory starts, and so does it again.
    let new = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let app = start_on(new.path()).unwrap();
        whalet_sim::persist::sqlite::data_dir(app.core())
            .unwrap()
            .close();
    }
}

/// F3, the tester's repro: a scenario record whose `name` says "happy-path" while its text
/// says `name = "rate-limited"` was loaded as a second "rate-limited" of every tenant (the
/// export of it was then refused, and neither could be deleted on its own). Refused, naming
/// the record and both names; nothing changes.
#[tokio::test]
async fn a_scenario_record_whose_name_disagrees_with_its_text_is_refused() {
    let app = spawn_app().await;
    for file in ["scenarios/rate-limited.toml", "scenarios/happy-path.toml"] {
        let text = std::fs::read_to_string(repo_path(file)).unwrap();
        let (status, body) = app.load_scenario(&text, "").await;
        assert_eq!(status, 200, "{body}");
    }
    let before = export(&app, "").await;
    let mut doc: Value = serde_json::from_slice(&before).unwrap();
    let loaded = &mut doc["scenarios"]["loaded"][1];
    assert_eq!(loaded["name"], "happy-path");
    let text = loaded["text"]
        .as_str()
        .unwrap()
        .replace("name = \"happy-path\"", "name = \"rate-limited\"");
    loaded["text"] = Value::String(text);
    let (status, body) = import(&app, "", serde_json::to_vec(&doc).unwrap()).await;
    assert_eq!(status, 400, "{body}");
    let e = body["error"].as_str().unwrap();
    assert!(
        e.contains(
            r#"scenarios.loaded[1]: the record's name "happy-path" disagrees with the name its text gives ("rate-limited")"#
        ),
        "{e}"
    );
    assert!(before == export(&app, "").await, "nothing changed");
    app.shutdown().await;
}

/// F4: a delivery made between requests (no reply after it commits it) reaches the database by
/// the background writer within its interval (docs/PERSISTENCE.md: a `kill -9` in that window
/// sends it again, at least once).
#[tokio::test]
async fn a_delivery_between_requests_is_committed_by_the_background_writer() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_with(Setup {
        config: Some(data_dir_config(dir.path())),
        ..Setup::default()
    })
    .await;
    app.trigger_ok(
        "whalet.connectivity.notify",
        json!({"partnerId": "202400000000001"}),
    )
    .await;
    let got = app.receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let since = Instant::now();
    let conn = db(dir.path());
    let delivered = || -> i64 {
        conn.query_row(
            "SELECT count(*) FROM notifications WHERE status = 'delivered'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    while delivered() == 0 {
        assert!(
            since.elapsed()
                < whalet_sim::persist::sqlite::BACKGROUND_WRITE_INTERVAL * 20
                    + Duration::from_secs(1),
            "the delivery was not committed without a request"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.shutdown().await;
}

/// F6, the tester's repro: over an existing data dir (manual clock), `--snapshot FILE
/// --time-scale 0.01 --start-time …` logged that the data dir's mode and time won and that the
/// mode given was applied, while the clock stayed manual at the snapshot's time. The snapshot
/// replaces the directory's clock too: the mode given is applied (as without `--data-dir`),
/// said once, and only `--start-time` is named as not applied.
#[tokio::test]
async fn clock_flags_over_a_data_dir_and_a_snapshot_are_applied_and_logged_as_one_story() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dd").display().to_string();
    let onboarded = repo_path("fixtures/onboarded-user.json");
    let dd = dir.path().join("dd");
    let lines = tokio::task::spawn_blocking(move || {
        let first = Served::start(&["--data-dir", &data, "--manual-clock"]);
        first.ready();
        first.stop();
        let second = Served::start(&[
            "--data-dir",
            &data,
            "--snapshot",
            &onboarded,
            "--time-scale",
            "0.01",
            "--start-time",
            "2030-01-01T00:00:00Z",
        ]);
        let lines = second.ready();
        second.stop();
        lines
    })
    .await
    .unwrap();
    let warnings: Vec<&String> = lines.iter().filter(|l| l.contains("not applied")).collect();
    assert_eq!(warnings.len(), 1, "{lines:#?}");
    let w = warnings[0];
    assert!(
        w.contains("the virtual time is the snapshot's")
            && w.contains("--start-time is not applied"),
        "{w}"
    );
    assert!(!w.contains("--time-scale"), "applied: {w}");
    assert!(
        lines.iter().any(|l| l.contains(
            "the clock's mode is scaled (0.01) (this start's), not the data dir's manual"
        )),
        "{lines:#?}"
    );
    let mode: String = db(&dd)
        .query_row("SELECT mode FROM clock", [], |r| r.get(0))
        .unwrap();
    assert!(mode.contains("scaled") && mode.contains("0.01"), "{mode}");
}

/// F7: a `schemaVersion` of the wrong type names its type, a `format` of another value names
/// the value, the 413 of a snapshot too large for the control plane names `serve --snapshot`,
/// and a file given at start with a byte order mark is told to be saved without it.
#[tokio::test]
async fn the_smaller_snapshot_refusals_name_what_they_found() {
    let app = spawn_config("[server]\ncontrol_body_limit_bytes = 4096\n").await;
    let doc: Value = serde_json::from_slice(&export(&app, "").await).unwrap();
    let mut s1 = doc.clone();
    s1["schemaVersion"] = json!("2");
    let (status, body) = import(&app, "", serde_json::to_vec(&s1).unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains(r#"schemaVersion: string "2", expected a positive integer"#),
        "{body}"
    );
    let mut s2 = doc.clone();
    s2["format"] = json!("foo");
    let (status, body) = import(&app, "", serde_json::to_vec(&s2).unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains(r#"format: "foo" is not "whalet-sim snapshot""#),
        "{body}"
    );
    let (status, body) = import(&app, "", vec![b' '; 5000]).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("start the simulator with `serve --snapshot FILE`"),
        "{body}"
    );
    app.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bom.json");
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(std::fs::read(repo_path("fixtures/onboarded-user.json")).unwrap());
    std::fs::write(&file, bytes).unwrap();
    let e = whalet_sim::persist::read_file(&file).expect_err("refused");
    assert!(
        e.contains("byte order mark") && e.contains("save the file as UTF-8 without the mark"),
        "{e}"
    );
}
