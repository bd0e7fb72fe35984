//! The data directory, round 24 (docs/PERSISTENCE.md, "The data directory"): a start removes
//! from `DIR/files` only what the simulator itself wrote there; a second simulator is kept out
//! even after the lock file was deleted; and a row a start refuses is named by its id or key.

use std::path::Path;

use sha2::Digest;

use crate::persistence::{copy_data_dir, on_dir_with as on_dir, ping, refused_start};
use crate::whalet_support::{onboarded_user, PARTNER};

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("whalet-sim.db")).unwrap()
}

/// The name the simulator gives the content `bytes` under `DIR/files`.
fn content_name(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The tester's repro: `--data-dir` naming a folder that already had a `files/` of its own
/// wiped every file there that no row names. A start now leaves alone every file the
/// simulator could not have written, and still collects its own: a content that no row
/// names and the temporary file of a content write cut short.
#[tokio::test]
async fn a_start_keeps_unrelated_files_and_collects_only_its_own_stale_content() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(files.join("sub")).unwrap();
    let unrelated = [
        "report.pdf".to_owned(),
        "notes.txt".to_owned(),
        "sub/inner.txt".to_owned(),
        // Digest-like, but not as the simulator names its contents (lowercase hex only).
        content_name(b"upper").to_uppercase(),
        format!("{}.bak", content_name(b"backup")),
    ];
    for name in &unrelated {
        std::fs::write(files.join(name), format!("the user's {name}")).unwrap();
    }
    let stale = content_name(b"stale content");
    std::fs::write(files.join(&stale), b"stale content").unwrap();
    let cut_short = format!("{}.tmp", content_name(b"cut short"));
    std::fs::write(files.join(&cut_short), b"cut sh").unwrap();

    let app = on_dir(dir.path(), None).await;
    assert_eq!(ping(&app).await, "SUCCESS");
    app.shutdown().await;

    for name in &unrelated {
        assert_eq!(
            std::fs::read_to_string(files.join(name)).ok(),
            Some(format!("the user's {name}")),
            "{name} is not the simulator's: it is left as it was"
        );
    }
    assert!(
        !files.join(&stale).exists(),
        "a content of the simulator's naming that no row names is collected"
    );
    assert!(
        !files.join(&cut_short).exists(),
        "the temporary file of a content write cut short is collected"
    );
}

/// The tester's repro: deleting `DIR/whalet-sim.lock` while a simulator ran let a second one
/// start on the same directory (both acknowledged writes; one was lost). The directory itself
/// is held too: the second start is refused, naming the directory.
#[tokio::test]
async fn a_second_simulator_is_refused_even_after_the_lock_file_was_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path(), None).await;
    assert_eq!(ping(&app).await, "SUCCESS");
    let lock = dir.path().join("whalet-sim.lock");
    std::fs::remove_file(&lock).unwrap();

    let refused = refused_start(dir.path()).expect("a second simulator started on the directory");
    let expected = format!(
        "data dir {}: in use by another running simulator (",
        dir.path().display()
    );
    assert!(refused.starts_with(&expected), "{refused}");
    assert!(
        refused.contains(&format!("lock file {} was deleted", lock.display())),
        "{refused}"
    );
    // The refusal took nothing from the first: it goes on answering and writing.
    assert_eq!(ping(&app).await, "SUCCESS");
    app.shutdown().await;

    // Once the first stopped, the directory is free again.
    let again = on_dir(dir.path(), None).await;
    assert_eq!(ping(&again).await, "SUCCESS");
    again.shutdown().await;
}

/// The tester's repro: an entity row with bad JSON, a journal row cut short and a notification
/// whose attempt has a field the simulator does not write were refused without naming the
/// row. Each refusal names the database, the table and the row's id.
#[tokio::test]
async fn a_row_a_start_refuses_is_named_by_its_id() {
    let base = tempfile::tempdir().unwrap();
    let app = on_dir(base.path(), None).await;
    let user_id = onboarded_user(&app, "round24").await;
    app.shutdown().await;
    let (journal_id, notification_id): (i64, String) = {
        let conn = db(base.path());
        let journal = conn
            .query_row("SELECT min(id) FROM journal", [], |r| r.get(0))
            .unwrap();
        let notification = conn
            .query_row(
                "SELECT id FROM notifications
                 WHERE json_array_length(json, '$.attempts') > 0 ORDER BY seq LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (journal, notification)
    };
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        (
            "entity not JSON",
            format!(
                "UPDATE entities SET json = '{{\"userId\": ' \
                 WHERE kind = 'whalet.users' AND id = '{user_id}'"
            ),
            vec![format!(
                "table entities: {PARTNER} whalet.users id \"{user_id}\": not JSON: "
            )],
        ),
        (
            "journal entry cut short",
            format!("UPDATE journal SET json = '{{\"id\": 1' WHERE id = {journal_id}"),
            vec![format!("table journal: id {journal_id}: not JSON: ")],
        ),
        (
            "notification attempt with an unknown field",
            format!(
                "UPDATE notifications SET json = json_set(json, '$.attempts[0].bogus', 1) \
                 WHERE id = '{notification_id}'"
            ),
            vec![
                format!("table notifications: id \"{notification_id}\": "),
                "attempts[0]".into(),
                "unknown field `bogus`".into(),
            ],
        ),
        (
            "a column of another type",
            format!(
                "UPDATE request_nos SET seq = 'x' WHERE tenant = '{PARTNER}' \
                 AND seq = (SELECT min(seq) FROM request_nos WHERE tenant = '{PARTNER}')"
            ),
            vec![
                format!("table request_nos: tenant \"{PARTNER}\" seq \"x\": "),
                "column seq holds Text".into(),
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
        let Some(message) = refused_start(dir.path()) else {
            failures.push(format!("{what}: started"));
            continue;
        };
        let prefix = format!("database {}: ", dir.path().join("whalet-sim.db").display());
        let mut rest = message.strip_prefix(&prefix);
        for part in &expected {
            rest = rest.and_then(|r| r.find(part.as_str()).map(|at| &r[at + part.len()..]));
        }
        if rest.is_none() {
            failures.push(format!("{what}: {message} is not {prefix}{expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
