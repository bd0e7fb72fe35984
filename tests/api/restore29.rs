//! Restoring state a Windows editor or an older build wrote (restore29): a snapshot that starts
//! with a UTF-8 byte order mark is told so, not called corrupt; a data directory whose saved
//! scenario today's load checks refuse still starts, with that scenario set aside.

use serde_json::{json, Value};

use crate::helpers::spawn_app;
use crate::persistence::{export, import, on_dir_with, ping};

/// Regression: a snapshot saved with a byte order mark was refused as "not a JSON document
/// (expected value at line 1 column 1); the file is corrupt or cut short".
#[tokio::test]
async fn a_snapshot_with_a_byte_order_mark_is_refused_naming_the_mark_not_as_corrupt() {
    let app = spawn_app().await;
    let doc = export(&app, "").await;
    let marked = [b"\xEF\xBB\xBF".as_slice(), &doc].concat();
    let (status, body) = import(&app, "", marked).await;
    assert_eq!(status, 400, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("snapshot (request body)") && text.contains("byte order mark"),
        "{body}"
    );
    assert!(!text.contains("corrupt"), "{body}");
    // The same document without the mark imports.
    let (status, body) = import(&app, "", doc).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

const STALE: &str = "name = \"stale-quote\"\n[[rule]]\noperation = \"rateInquiry\"\n\
                     [rule.then]\nvalues = { validSeconds = 90 }\n";
const EVERY_SECOND_FAILS: &str =
    "name = \"every-second\"\n[[rule]]\nnth = 2\n[rule.then]\ncode = \"FAILURE\"\n";

fn db(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("whalet-sim.db")).unwrap()
}

fn saved_names(dir: &std::path::Path) -> Vec<String> {
    let conn = db(dir);
    let mut stmt = conn
        .prepare("SELECT name FROM scenarios ORDER BY name")
        .unwrap();
    let names = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names
}

/// Regression: a data directory holding a scenario an older build accepted (`validSeconds =
/// "90s"`) did not start at all, and its scenario could not be deleted without a server. Now
/// the scenario is set aside (not loaded, removed from the directory) and the rest starts; a
/// snapshot import still refuses the same scenario.
#[tokio::test]
async fn a_saved_scenario_that_no_longer_loads_is_set_aside_and_the_rest_of_the_dir_starts() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir_with(dir.path(), None).await;
    assert_eq!(app.load_scenario(STALE, "").await.0, 200);
    assert_eq!(app.load_scenario(EVERY_SECOND_FAILS, "").await.0, 200);
    assert_eq!(ping(&app).await, "SUCCESS");
    app.shutdown().await;
    let changed = db(dir.path())
        .execute(
            "UPDATE scenarios SET text = replace(text, 'validSeconds = 90', \
             'validSeconds = \"90s\"') WHERE name = 'stale-quote'",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);

    let again = on_dir_with(dir.path(), None).await;
    let list = again.get_json("/__sim/scenarios").await["scenarios"].clone();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, vec!["every-second"], "{list}");
    // The rest came back: the other scenario's counter went on (this is the second call).
    assert_eq!(ping(&again).await, "FAILURE");

    // A snapshot import of the same scenario is refused, naming it.
    let mut doc: Value = serde_json::from_slice(&export(&again, "").await).unwrap();
    let text = STALE.replace("validSeconds = 90", "validSeconds = \"90s\"");
    let now = doc["now"].clone();
    doc["scenarios"]["loaded"].as_array_mut().unwrap().push(
        json!({"name": "stale-quote", "tenant": null, "source": "control plane",
                     "text": text, "loadedAt": now, "generation": 99, "fired": []}),
    );
    doc["scenarios"]["nextGeneration"] = json!(99);
    let (status, body) = import(&again, "", doc.to_string().into_bytes()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("stale-quote") && body.to_string().contains("90s"),
        "{body}"
    );
    again.shutdown().await;
    // Set aside means out of the directory too: it is not met again at the next start.
    assert_eq!(saved_names(dir.path()), vec!["every-second"]);
}
