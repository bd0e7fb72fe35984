//! Snapshots (docs/PERSISTENCE.md): export → import → export gives the same bytes; a restored
//! simulator remembers requestNos, entities, balances and pending notifications (which go on with
//! their retry cadence); bad files are refused naming the file and the problem; the fixtures
//! under fixtures/ start a flow from a prepared state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{json, Value};
use whalet_sim::partner::receiver::Mode;

use crate::helpers::{repo_path, spawn_app, spawn_with, Setup, TestApp};
use crate::whalet_support::*;

pub(crate) async fn export(app: &TestApp, query: &str) -> Vec<u8> {
    let r = app
        .http
        .get(
            &format!("{}/__sim/snapshot{query}", app.url),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.body.to_vec()
}

pub(crate) async fn import(app: &TestApp, query: &str, bytes: Vec<u8>) -> (u16, Value) {
    let (status, text) = app
        .post_raw(
            &format!("/__sim/snapshot{query}"),
            "application/json",
            bytes,
        )
        .await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A user with an ACTIVE B2C USD card and `amount` USD settled; returns (userId, cardId).
async fn settled_user(app: &TestApp, tag: &str, amount: &str) -> (String, String) {
    let (user_id, _, card) = b2c_ready(app, tag, "USD").await;
    let card_id = card["cardId"].as_str().unwrap().to_owned();
    expect(
        app,
        "mockPayeeNotify",
        json!({"userId": user_id, "cardId": card_id, "amount": amount, "currency": "USD",
               "payerName": "Amazon Payments, Inc."}),
        "SUCCESS",
    )
    .await;
    app.advance(5.0).await;
    (user_id, card_id)
}

/// A user with an ACTIVE B2C USD card, moved (by snapshot) into a simulator whose partner
/// answers every notification with HTTP 500: (that simulator, userId, cardId).
async fn ready_with_partner_down(tag: &str) -> (TestApp, String, String) {
    let up = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&up, tag, "USD").await;
    let snapshot = export(&up, "").await;
    up.shutdown().await;
    let down = spawn_with(Setup {
        receiver: Some(Mode::Down),
        ..Setup::default()
    })
    .await;
    let (status, body) = import(&down, "", snapshot).await;
    assert_eq!(status, 200, "{body}");
    let card_id = card["cardId"].as_str().unwrap().to_owned();
    (down, user_id, card_id)
}

async fn available_cents(app: &TestApp, user_id: &str) -> i64 {
    balance(app, user_id, "B2C", "USD").await["balance"]["cent"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn export_import_export_is_byte_identical() {
    let app = spawn_app().await;
    settled_user(&app, "bytes", "1000.00").await;
    let first = export(&app, "").await;
    let doc: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(doc["format"], "whalet-sim snapshot");
    assert_eq!(doc["schemaVersion"], 2);
    assert!(!doc["outbox"]["notifications"]
        .as_array()
        .unwrap()
        .is_empty());

    // Into a fresh simulator, and back out.
    let other = spawn_app().await;
    let (status, body) = import(&other, "", first.clone()).await;
    assert_eq!(status, 200, "{body}");
    let second = export(&other, "").await;
    assert_same_bytes(&first, &second, "export → import → export differs");
    // One tenant's snapshot round-trips too.
    let one = export(&app, &format!("?tenant={PARTNER}")).await;
    let (status, body) = import(&other, &format!("?tenant={PARTNER}"), one.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(one == export(&other, &format!("?tenant={PARTNER}")).await);
    app.shutdown().await;
    other.shutdown().await;
}

#[tokio::test]
async fn a_restored_simulator_remembers_request_nos_entities_and_money() {
    let app = spawn_app().await;
    let (user_id, card_id) = settled_user(&app, "memo", "250.00").await;
    let request_no = app.client.next_request_no();
    let body = json!({"userId": user_id, "cardId": card_id});
    let reply = app
        .client
        .call_with("b2cCardDetailQuery", &request_no, &body)
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS", "{}", reply.detail);
    let snapshot = export(&app, "").await;
    app.shutdown().await;

    let other = spawn_app().await;
    let (status, body_json) = import(&other, "?file=memo.json", snapshot).await;
    assert_eq!(status, 200, "{body_json}");
    assert_eq!(
        body_json["imported"]["tenants"].as_u64().map(|n| n >= 1),
        Some(true)
    );
    let replay = other
        .client
        .call_with("b2cCardDetailQuery", &request_no, &body)
        .await
        .unwrap();
    assert_eq!(replay.code, "REQUEST_NO_NOT_UNIQUE", "{}", replay.detail);
    let detail = expect(&other, "b2cCardDetailQuery", body, "SUCCESS").await;
    assert_eq!(detail["status"], "ACTIVE");
    assert_eq!(available_cents(&other, &user_id).await, 25_000);
    other.assert_invariants().await;
    other.shutdown().await;
}

#[tokio::test]
async fn a_pending_notification_goes_on_with_its_retry_cadence_after_import() {
    // The partner is down: the collection notice fails at +0 s and +1 s; the next try is 2 s
    // after the second failure.
    let (down, user_id, card_id) = ready_with_partner_down("cadence").await;
    let arrived = expect(
        &down,
        "mockPayeeNotify",
        json!({"userId": user_id, "cardId": card_id, "amount": "10.00", "currency": "USD",
               "payerName": "Amazon Payments, Inc."}),
        "SUCCESS",
    )
    .await;
    let trade_id = arrived["tradeId"].as_str().unwrap().to_owned();
    down.advance(5.0).await; // settles; first attempt fails
    down.advance(1.0).await; // second attempt fails
    let snapshot = export(&down, "").await;
    down.shutdown().await;

    let up = spawn_app().await;
    let (status, body) = import(&up, "", snapshot).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["imported"]["pendingNotifications"].as_u64().unwrap() >= 1);
    up.advance(1.9).await;
    assert!(
        received(&up, "collectionReceivedNotify").is_empty(),
        "nothing before the 2 s wait is over"
    );
    up.advance(0.1).await;
    let n = received_about(&up, "collectionReceivedNotify", "tradeId", &trade_id).await;
    assert_eq!(n["status"], "SUCCESS");
    let (_, list) = up
        .get(&format!(
            "/__sim/notifications?apiCode=collectionReceivedNotify&businessId={trade_id}"
        ))
        .await;
    let attempts = list["notifications"][0]["attempts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(attempts.len(), 3, "{list}");
    assert_eq!(attempts[2]["verdict"], "delivered");
    let gap =
        attempts[2]["virtualTime"].as_i64().unwrap() - attempts[1]["virtualTime"].as_i64().unwrap();
    assert_eq!(gap, 2_000);
    up.shutdown().await;
}

#[tokio::test]
async fn newer_corrupt_and_foreign_snapshots_are_refused_naming_the_problem() {
    let app = spawn_app().await;
    let (user_id, _) = settled_user(&app, "bad", "5.00").await;
    let good = export(&app, "").await;
    let mut newer: Value = serde_json::from_slice(&good).unwrap();
    newer["schemaVersion"] = json!(99);

    let (status, body) = import(
        &app,
        "?file=newer.json",
        serde_json::to_vec(&newer).unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("newer.json") && message.contains("schema version 99 is newer"),
        "{message}"
    );

    let (status, body) = import(&app, "?file=cut.json", good[..good.len() / 2].to_vec()).await;
    assert_eq!(status, 400);
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("cut.json") && message.contains("corrupt"),
        "{message}"
    );

    let (status, body) = import(&app, "", br#"{"hello": 1}"#.to_vec()).await;
    assert_eq!(status, 400);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("not a simulator snapshot"));

    let mut bad_field: Value = serde_json::from_slice(&good).unwrap();
    bad_field["tenants"][PARTNER]["ledger"]["postings"] = json!("nope");
    let (status, body) = import(&app, "", serde_json::to_vec(&bad_field).unwrap()).await;
    assert_eq!(status, 400, "{body}");

    // Inside a tenant as strict as around it: each refusal names the path.
    let tenant = format!("tenants[{PARTNER:?}]");
    type Spoil = fn(&mut Value);
    let cases: [(&str, Spoil, String); 11] = [
        (
            "journal entry field",
            |v| v["journal"][0]["requestNO"] = json!("R1"),
            "journal[0]: journal entry: unknown field `requestNO`".to_owned(),
        ),
        (
            "notification field",
            |v| v["outbox"]["notifications"][0]["notifyURL"] = json!("http://x.test/"),
            "unknown field `notifyURL`".to_owned(),
        ),
        (
            "pending without a due time",
            |v| {
                let n = &mut v["outbox"]["notifications"][0];
                n["status"] = json!("pending");
                n["nextAttemptAt"] = Value::Null;
            },
            "is pending without nextAttemptAt, so it would never be attempted".to_owned(),
        ),
        (
            "attempt field",
            |v| v["outbox"]["notifications"][0]["attempts"] = json!([{"bogus": 1}]),
            "unknown field `bogus`".to_owned(),
        ),
        (
            "now",
            |v| v["now"] = json!(253_402_128_000_001_i64),
            "the snapshot's now 253402128000001 is outside the virtual time".to_owned(),
        ),
        (
            "unknown field",
            |v| v["tenants"][PARTNER]["bogus"] = json!(1),
            format!("{tenant}.bogus: unknown field"),
        ),
        (
            "scope",
            |v| v["scope"] = json!("banana"),
            r#"scope "banana" is neither "all" nor a tenant"#.to_owned(),
        ),
        (
            "amount",
            |v| v["tenants"][PARTNER]["ledger"]["balances"][0]["amount"] = json!("-4.00"),
            format!("{tenant}.ledger.balances[0]: amount \"-4.00\" disagrees with minor -500"),
        ),
        (
            "legs",
            |v| v["tenants"][PARTNER]["ledger"]["postings"][0]["legs"] = json!([]),
            format!(
                "{tenant}.ledger.postings: posting 1 (collection T2025010100000004 received): a \
                 posting moves money between at least two accounts; this one has 0 leg(s)"
            ),
        ),
        (
            // Sums to 0 mod 2^64: refused, never a panic nor balanced by wrapping around.
            "overflow",
            |v| {
                let legs = [("x", i64::MAX), ("y", i64::MAX), ("z", 2)]
                    .map(|(a, m)| json!({"account": a, "amount": {"minor": m, "currency": "USD"}}));
                v["tenants"][PARTNER]["ledger"]["postings"][0]["legs"] = json!(legs);
            },
            format!(
                "{tenant}.ledger.postings: posting 1 (collection T2025010100000004 received): leg \
                 0 (x) moves 9223372036854775807 minor units of USD, more than the largest amount"
            ),
        ),
        (
            "beyond the largest amount",
            |v| {
                let legs = [
                    ("external:x", -1_000_000_000_000_001_i64),
                    ("y", 1_000_000_000_000_001),
                ]
                .map(|(a, m)| json!({"account": a, "amount": {"minor": m, "currency": "USD"}}));
                v["tenants"][PARTNER]["ledger"]["postings"][0]["legs"] = json!(legs);
            },
            format!(
                "{tenant}.ledger.postings: posting 1 (collection T2025010100000004 received): leg \
                 0 (external:x) moves -1000000000000001 minor units of USD"
            ),
        ),
    ];
    for (what, spoil, expected) in cases {
        let mut doc: Value = serde_json::from_slice(&good).unwrap();
        spoil(&mut doc);
        let (status, body) = import(&app, "", serde_json::to_vec(&doc).unwrap()).await;
        assert_eq!(status, 400, "{what}: {body}");
        let message = body["error"].as_str().unwrap();
        assert!(message.contains(&expected), "{what}: {message}");
    }

    // Nothing changed.
    assert_eq!(available_cents(&app, &user_id).await, 500);

    // The same checks at start-up, naming the file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.json");
    std::fs::write(&path, serde_json::to_vec(&newer).unwrap()).unwrap();
    let message = app.app().load_snapshot(&path).unwrap_err().to_string();
    assert!(
        message.contains("future.json") && message.contains("schema version 99"),
        "{message}"
    );
    let missing = dir.path().join("missing.json");
    let message = app.app().load_snapshot(&missing).unwrap_err().to_string();
    assert!(message.contains("missing.json"), "{message}");
    app.shutdown().await;
}

/// Rewrites the fixtures from the flows that define them: `cargo test --test api
/// persistence::write_fixtures -- --ignored`.
#[tokio::test]
#[ignore]
async fn write_fixtures() {
    let app = spawn_app().await;
    settled_user(&app, "fixture", "1000.00").await;
    std::fs::write(
        repo_path("fixtures/onboarded-user.json"),
        export(&app, "").await,
    )
    .unwrap();
    app.shutdown().await;

    let (down, user_id, card_id) = ready_with_partner_down("retrying").await;
    expect(
        &down,
        "mockPayeeNotify",
        json!({"userId": user_id, "cardId": card_id, "amount": "42.00",
               "currency": "USD", "payerName": "Amazon Payments, Inc."}),
        "SUCCESS",
    )
    .await;
    down.advance(5.0).await;
    down.advance(1.0).await;
    down.advance(2.0).await;
    std::fs::write(
        repo_path("fixtures/notification-retrying.json"),
        export(&down, "").await,
    )
    .unwrap();
    down.shutdown().await;
}

fn fixture_user(path: &str) -> (String, String) {
    let doc: Value = serde_json::from_slice(&std::fs::read(repo_path(path)).unwrap()).unwrap();
    let whalet = &doc["tenants"][PARTNER]["whalet"];
    let user = whalet["users"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let card = whalet["cards"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    (user, card)
}

#[tokio::test]
async fn the_onboarded_user_fixture_starts_with_1000_usd_settled_and_pays_on() {
    let app = spawn_app().await;
    app.app()
        .load_snapshot(std::path::Path::new(&repo_path(
            "fixtures/onboarded-user.json",
        )))
        .unwrap();
    let (user_id, card_id) = fixture_user("fixtures/onboarded-user.json");
    assert_eq!(available_cents(&app, &user_id).await, 100_000);
    let detail = expect(
        &app,
        "b2cCardDetailQuery",
        json!({"userId": user_id, "cardId": card_id}),
        "SUCCESS",
    )
    .await;
    assert_eq!(detail["status"], "ACTIVE");
    // The flow goes on from there: more money arrives and settles.
    expect(
        &app,
        "mockPayeeNotify",
        json!({"userId": user_id, "cardId": card_id, "amount": "0.50", "currency": "USD",
               "payerName": "Amazon Payments, Inc."}),
        "SUCCESS",
    )
    .await;
    app.advance(5.0).await;
    assert_eq!(available_cents(&app, &user_id).await, 100_050);
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn the_retrying_fixture_delivers_its_notification_on_the_fourth_attempt() {
    let app = spawn_app().await;
    app.app()
        .load_snapshot(std::path::Path::new(&repo_path(
            "fixtures/notification-retrying.json",
        )))
        .unwrap();
    let (user_id, _) = fixture_user("fixtures/notification-retrying.json");
    // Three attempts failed (+0, +1, +3 s); the fourth is due 4 s after the third.
    app.advance(3.9).await;
    assert!(received(&app, "collectionReceivedNotify").is_empty());
    app.advance(0.1).await;
    let n = app
        .wait_notification("apiCode=collectionReceivedNotify")
        .await;
    assert_eq!(n["status"], "delivered", "{n}");
    assert_eq!(n["attempts"].as_array().unwrap().len(), 4);
    assert_eq!(
        received(&app, "collectionReceivedNotify")[0]["userId"],
        user_id.as_str()
    );
    app.shutdown().await;
}

// ---- the data directory (SQLite) ----

/// Two exports are the same bytes; `what` says how the second was made. Both are shown when not.
fn assert_same_bytes(first: &[u8], second: &[u8], what: &str) {
    assert!(
        first == second,
        "{what}:\n{}\n----\n{}",
        String::from_utf8_lossy(first),
        String::from_utf8_lossy(second)
    );
}

pub(crate) fn data_dir_config(dir: &std::path::Path) -> String {
    format!("[store]\ndata_dir = {:?}\n", dir.display().to_string())
}

#[tokio::test]
async fn a_data_dir_keeps_state_across_a_restart_and_refuses_a_second_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let setup = || Setup {
        config: Some(data_dir_config(dir.path())),
        ..Setup::default()
    };
    let app = spawn_with(setup()).await;
    let (user_id, card_id) = settled_user(&app, "dir", "250.00").await;
    let request_no = app.client.next_request_no();
    let body = json!({"userId": user_id, "cardId": card_id});
    let reply = app
        .client
        .call_with("b2cCardDetailQuery", &request_no, &body)
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS", "{}", reply.detail);

    // A second simulator on the same directory is refused while this one runs.
    let mut config = whalet_sim::config::Config::default();
    config.store.data_dir = Some(dir.path().to_owned());
    let refused = whalet_sim::App::new(config.clone(), whalet_sim::Options::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        refused.contains("in use by another running simulator"),
        "{refused}"
    );

    // Readable with any SQLite client: tables named after what they hold.
    {
        let db = rusqlite::Connection::open(dir.path().join("whalet-sim.db")).unwrap();
        let users: i64 = db
            .query_row(
                "SELECT count(*) FROM entities WHERE kind = 'whalet.users'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(users, 1);
        let remembered: i64 = db
            .query_row(
                "SELECT count(*) FROM request_nos WHERE request_no = ?1",
                [&request_no],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(remembered, 1, "committed before the reply was sent");
    }
    app.shutdown().await;

    let again = spawn_with(setup()).await;
    let replay = again
        .client
        .call_with("b2cCardDetailQuery", &request_no, &body)
        .await
        .unwrap();
    assert_eq!(replay.code, "REQUEST_NO_NOT_UNIQUE", "{}", replay.detail);
    assert_eq!(available_cents(&again, &user_id).await, 25_000);
    again.assert_invariants().await;
    again.shutdown().await;
}

#[tokio::test]
async fn a_newer_or_corrupt_database_is_refused_naming_the_file() {
    let newer = tempfile::tempdir().unwrap();
    {
        let db = rusqlite::Connection::open(newer.path().join("whalet-sim.db")).unwrap();
        db.pragma_update(None, "user_version", 9).unwrap();
    }
    let mut config = whalet_sim::config::Config::default();
    config.store.data_dir = Some(newer.path().to_owned());
    let message = whalet_sim::App::new(config, whalet_sim::Options::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.contains("whalet-sim.db") && message.contains("schema version 9 is newer"),
        "{message}"
    );

    let corrupt = tempfile::tempdir().unwrap();
    std::fs::write(corrupt.path().join("whalet-sim.db"), vec![b'x'; 8192]).unwrap();
    let mut config = whalet_sim::config::Config::default();
    config.store.data_dir = Some(corrupt.path().to_owned());
    let message = whalet_sim::App::new(config.clone(), whalet_sim::Options::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.contains("whalet-sim.db") && message.contains("not a readable SQLite database"),
        "{message}"
    );
    // A refused start leaves no lock behind: the file, if any, is released and names nobody.
    let lock = std::fs::read_to_string(corrupt.path().join("whalet-sim.lock")).unwrap_or_default();
    assert_eq!(lock, "", "released");
}

#[tokio::test]
async fn a_database_of_something_else_is_refused_and_left_as_it_was() {
    for foreign in ["CREATE TABLE foo(x)", "CREATE TABLE tenants(a, b, c)"] {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("whalet-sim.db");
        rusqlite::Connection::open(&db_path)
            .unwrap()
            .execute_batch(foreign)
            .unwrap();
        let before = std::fs::read(&db_path).unwrap();
        let mut config = whalet_sim::config::Config::default();
        config.store.data_dir = Some(dir.path().to_owned());
        let message = whalet_sim::App::new(config, whalet_sim::Options::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            message.contains("whalet-sim.db") && message.contains("not a whalet-sim database"),
            "{foreign}: {message}"
        );
        assert_eq!(
            std::fs::read(&db_path).unwrap(),
            before,
            "{foreign}: not a byte changed"
        );
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["whalet-sim.db", "whalet-sim.lock"],
            "{foreign}: no WAL"
        );
        let lock = std::fs::read_to_string(dir.path().join("whalet-sim.lock")).unwrap();
        assert_eq!(lock, "", "{foreign}: the lock is released and names nobody");
    }
}

/// The tenants of a snapshot document, by key.
fn tenant_keys(doc: &[u8]) -> Vec<String> {
    let doc: Value = serde_json::from_slice(doc).unwrap();
    doc["tenants"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// A full import replaces all state, and a reset empties it: a tenant the configuration does not
/// define, which only an earlier import brought, is dropped by either (docs/PERSISTENCE.md), in
/// memory and in the data dir. The tester's repro: `whalet:777` survived both.
#[tokio::test]
async fn a_tenant_only_an_import_brought_is_dropped_by_a_full_import_and_by_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path()).await;
    settled_user(&app, "extra", "3.00").await;
    let original = export(&app, "").await;
    let mut extra: Value = serde_json::from_slice(&original).unwrap();
    extra["tenants"]["whalet:777"] = extra["tenants"][PARTNER].clone();
    let extra = serde_json::to_vec(&extra).unwrap();
    let rows_of_777 = || -> i64 {
        rusqlite::Connection::open(dir.path().join("whalet-sim.db"))
            .unwrap()
            .query_row(
                "SELECT count(*) FROM tenants WHERE tenant = 'whalet:777'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };

    let (status, body) = import(&app, "", extra.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(tenant_keys(&export(&app, "").await).contains(&"whalet:777".to_owned()));
    assert_eq!(rows_of_777(), 1);
    // The original document again: what the extra one brought is gone.
    let (status, body) = import(&app, "", original.clone()).await;
    assert_eq!(status, 200, "{body}");
    let again = export(&app, "").await;
    assert_eq!(tenant_keys(&again), tenant_keys(&original));
    assert!(again == original, "export → import → export is identical");
    assert_eq!(rows_of_777(), 0);

    let (status, body) = import(&app, "", extra).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.post("/__sim/reset", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    let keys = tenant_keys(&export(&app, "").await);
    assert!(!keys.contains(&"whalet:777".to_owned()), "{keys:?}");
    assert!(
        keys.contains(&PARTNER.to_owned()),
        "a configured tenant is emptied, not dropped"
    );
    let (_, invariants) = app.get("/__sim/invariants").await;
    assert!(
        !invariants.to_string().contains("whalet:777"),
        "{invariants}"
    );
    assert_eq!(rows_of_777(), 0);
    app.shutdown().await;
}

/// Copies every file of the data dir `from` (the database with its WAL, `files/`) into `to`.
pub(crate) fn copy_data_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_data_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Why a simulator does not start on the data dir `dir` (None: it starts).
pub(crate) fn refused_start(dir: &std::path::Path) -> Option<String> {
    let mut config = whalet_sim::config::Config::default();
    config.store.data_dir = Some(dir.to_owned());
    whalet_sim::App::new(config, whalet_sim::Options::default())
        .err()
        .map(|e| e.to_string())
}

/// A database is read back as strictly as a snapshot is imported (docs/PERSISTENCE.md,
/// "Resuming"): what an import refuses, a start refuses, naming the database and the item; a
/// corrupt clock, timer or setting too. The tester's repros: a posting made unbalanced by one
/// cent, legs that wrap around, one leg, an entity kind the simulator does not know.
#[tokio::test]
async fn a_database_holding_what_an_import_refuses_does_not_start() {
    let base = tempfile::tempdir().unwrap();
    let app = on_dir(base.path()).await;
    settled_user(&app, "strict", "10.00").await;
    app.shutdown().await;
    let tenant = format!("tenants[{PARTNER:?}]");
    let posting = format!("{tenant}.ledger.postings: posting 1 (");
    let legs_of = |minors: &[(&str, i64)]| {
        let legs: Vec<Value> = minors
            .iter()
            .map(|(a, m)| json!({"account": a, "amount": {"minor": m, "currency": "USD"}}))
            .collect();
        format!(
            "UPDATE ledger_postings SET legs = '{}' WHERE tenant = '{PARTNER}' AND id = 1",
            Value::Array(legs)
        )
    };
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        (
            "unbalanced",
            legs_of(&[("external:bank", -1000), ("wallet:a", 1001)]),
            vec![posting.clone(), ") is off by 1 minor units of USD".into()],
        ),
        (
            "overflow",
            legs_of(&[("x", i64::MAX), ("y", i64::MAX), ("z", 2)]),
            vec![
                posting.clone(),
                "): leg 0 (x) moves 9223372036854775807 minor units of USD, more than the largest"
                    .into(),
            ],
        ),
        (
            "one leg",
            legs_of(&[("external:bank", 0)]),
            vec![posting.clone(), "this one has 1 leg(s)".into()],
        ),
        (
            "unknown kind",
            format!(
                "INSERT INTO entities (tenant, kind, id, json) VALUES ('{PARTNER}', \
                 'whalet.bogus', 'B1', '{{\"a\": 1}}')"
            ),
            vec![format!("{tenant}.whalet.bogus: unknown field")],
        ),
        (
            "unknown section",
            format!(
                "INSERT INTO entities (tenant, kind, id, json) VALUES ('{PARTNER}', \
                 'bogus.things', 'B1', '{{\"a\": 1}}')"
            ),
            vec![format!(
                r#"table entities: {PARTNER} kind "bogus.things": "bogus" is not a section this table holds"#
            )],
        ),
        (
            // The postings have a table of their own: a row here would be lost, not read.
            "ledger entity",
            format!(
                "INSERT INTO entities (tenant, kind, id, json) VALUES ('{PARTNER}', \
                 'ledger.postings', '9', '{{}}')"
            ),
            vec![r#"kind "ledger.postings": "ledger" is not a section this table holds"#.into()],
        ),
        (
            "rows of no tenant",
            "INSERT INTO entities (tenant, kind, id, json) VALUES ('whalet:999', \
             'whalet.users', 'U1', '{}')"
                .to_owned(),
            vec![
                r#"table entities: rows of tenant "whalet:999" that table tenants does not hold"#
                    .into(),
            ],
        ),
        (
            "clock mode",
            r#"UPDATE clock SET mode = '{"mode":"bogus"}'"#.to_owned(),
            vec![r#"table clock: mode "{\"mode\":\"bogus\"}" is not a clock mode"#.into()],
        ),
        (
            "clock scale",
            r#"UPDATE clock SET mode = '{"mode":"scaled","scale":0}'"#.to_owned(),
            vec!["table clock: mode".into(), "scale must be a number".into()],
        ),
        (
            "clock now",
            "UPDATE clock SET now = -5".to_owned(),
            vec!["table clock: now -5 is outside the virtual time".into()],
        ),
        (
            "timer kind",
            "INSERT INTO timers (id, due, kind, tenant, key, label, params) VALUES \
             (999, 0, 'nope', NULL, 'k', 'lbl', '{}')"
                .to_owned(),
            vec![r#"timers[0] ("lbl"): kind "nope" is not one this simulator knows"#.into()],
        ),
        (
            // The next id minted would overwrite an object (docs/PERSISTENCE.md).
            "id counter",
            format!("UPDATE tenants SET sequence = 0 WHERE tenant = '{PARTNER}'"),
            vec![
                format!("{tenant}.sequence: 0 is below "),
                format!(", the number {tenant}.whalet."),
                " or more".into(),
            ],
        ),
        (
            "notification sequence",
            "UPDATE meta SET value = 'x' WHERE key = 'next_notification_seq'".to_owned(),
            vec![r#"table meta: next_notification_seq "x" is not a sequence number"#.into()],
        ),
    ];
    // Every case is tried; the failures are listed together.
    let mut failures = Vec::new();
    for (what, spoil, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        copy_data_dir(base.path(), dir.path());
        let db_path = dir.path().join("whalet-sim.db");
        rusqlite::Connection::open(&db_path)
            .unwrap()
            .execute_batch(&spoil)
            .unwrap_or_else(|e| panic!("{what}: {spoil}: {e}"));
        let Some(message) = refused_start(dir.path()) else {
            failures.push(format!("{what}: started"));
            continue;
        };
        let prefix = format!("database {}: ", db_path.display());
        let mut rest = message.strip_prefix(&prefix);
        for part in &expected {
            rest = rest.and_then(|r| r.find(part.as_str()).map(|at| &r[at + part.len()..]));
        }
        if rest.is_none() {
            failures.push(format!("{what}: {message} is not {prefix}{expected:?}"));
        }
    }
    // A regular file where the directory should be.
    let file = base.path().join("whalet-sim.lock");
    let refused = refused_start(&file);
    let expected = format!(
        "data dir {}: not a directory; name a directory (it is created if missing)",
        file.display()
    );
    if refused.as_ref() != Some(&expected) {
        failures.push(format!("a regular file: {refused:?}"));
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The base itself starts: the checks refuse only what is wrong.
    let again = on_dir(base.path()).await;
    again.assert_invariants().await;
    again.shutdown().await;
}

/// The binary on `dir` with a manual clock, answering on a free port; stderr goes to a file.
async fn serve_child(
    dir: &std::path::Path,
    notify_url: &str,
    log: &str,
) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(dir.join(log)).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--manual-clock",
            "--start-time",
            crate::helpers::START,
            "--sftp-addr",
            "off",
            "--notify-url",
            notify_url,
            "--data-dir",
            &dir.join("data").display().to_string(),
        ])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let client = whalet_sim::http::client::HttpClient::new();
    for _ in 0..400 {
        if client
            .get(&format!("{url}/__sim/health"), Duration::from_secs(1))
            .await
            .is_ok_and(|r| r.status == 200)
        {
            return (child, url);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the simulator did not become ready");
}

fn remote(url: &str, receiver: whalet_sim::partner::receiver::Receiver) -> TestApp {
    TestApp {
        client: whalet_sim::partner::WhaletClient::demo(url),
        url: url.to_owned(),
        running: None,
        receiver,
        http: whalet_sim::http::client::HttpClient::new(),
    }
}

/// SIGKILL under concurrent load, restart on the same directory: every acknowledged requestNo
/// and tradeId is there, the ledger balances, and the pending notifications (two failed
/// attempts each) go on with their 2 s wait.
#[tokio::test]
async fn after_sigkill_under_load_every_acknowledged_request_survives() {
    use whalet_sim::partner::receiver::Receiver;
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::demo(Mode::Ack { fail_first: 0 }).await.unwrap();
    let (mut child, url) = serve_child(dir.path(), &receiver.url(), "first.log").await;
    let first = remote(&url, receiver);
    let (user_id, _, card) = b2c_ready(&first, "kill", "USD").await;
    let card_id = card["cardId"].as_str().unwrap().to_owned();

    // The partner's endpoint fails (HTTP 500): ten collection notices fail twice. (Not a
    // stopped receiver: its port could be reused by another test's receiver.)
    first.receiver.set_mode(Mode::Down);
    let mut trade_ids = Vec::new();
    for i in 0..10 {
        let arrived = expect(
            &first,
            "mockPayeeNotify",
            json!({"userId": user_id, "cardId": card_id, "amount": format!("{i}.25"),
                   "currency": "USD", "payerName": "Amazon Payments, Inc."}),
            "SUCCESS",
        )
        .await;
        trade_ids.push(arrived["tradeId"].as_str().unwrap().to_owned());
    }
    first.advance(5.0).await;
    first.advance(1.0).await;

    // Concurrent load; the process is killed while it runs.
    let acknowledged = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    let mut load = Vec::new();
    for i in 0..40 {
        let client = first.client.clone();
        let acknowledged = acknowledged.clone();
        let body = json!({"userId": user_id, "cardId": card_id, "amount": "1.00",
                          "currency": "USD", "payerName": format!("payer {i}")});
        load.push(tokio::spawn(async move {
            let request_no = client.next_request_no();
            if let Ok(reply) = client
                .call_with("mockPayeeNotify", &request_no, &body)
                .await
            {
                if reply.code == "SUCCESS" {
                    let trade = reply.body.unwrap()["tradeId"].as_str().unwrap().to_owned();
                    acknowledged.lock().push((request_no, trade, body));
                }
            }
        }));
    }
    while acknowledged.lock().len() < 10 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for task in load {
        let _ = task.await;
    }
    let acknowledged = acknowledged.lock().clone();
    assert!(acknowledged.len() >= 10);

    let receiver = Receiver::demo(Mode::Ack { fail_first: 0 }).await.unwrap();
    let (mut child, url) = serve_child(dir.path(), &receiver.url(), "second.log").await;
    let second = remote(&url, receiver);
    let log = std::fs::read_to_string(dir.path().join("second.log")).unwrap();
    assert!(log.contains("state restored from the data dir"), "{log}");
    let state = second
        .get_json(&format!("/__sim/state?tenant={PARTNER}"))
        .await
        .to_string();
    for (request_no, trade_id, body) in &acknowledged {
        assert!(state.contains(trade_id.as_str()), "{trade_id} is lost");
        let replay = second
            .client
            .call_with("mockPayeeNotify", request_no, body)
            .await
            .unwrap();
        assert_eq!(replay.code, "REQUEST_NO_NOT_UNIQUE", "{}", replay.detail);
    }
    second.assert_invariants().await;

    // The retry series goes on: the third attempt is 2 s after the second.
    second.advance(1.9).await;
    assert!(received(&second, "collectionReceivedNotify").is_empty());
    second.advance(0.1).await;
    for trade_id in &trade_ids {
        let n = second
            .wait_notification(&format!(
                "apiCode=collectionReceivedNotify&businessId={trade_id}"
            ))
            .await;
        assert_eq!(n["status"], "delivered", "{n}");
        assert_eq!(n["attempts"].as_array().unwrap().len(), 3, "{n}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

// ---- pending timers as data ----

/// A data-dir simulator on `dir` (manual clock, fresh receiver).
async fn on_dir(dir: &std::path::Path) -> TestApp {
    on_dir_with(dir, None).await
}

/// A data-dir simulator on `dir` with clock `clock` (None: manual), fresh receiver.
pub(crate) async fn on_dir_with(
    dir: &std::path::Path,
    clock: Option<whalet_sim::clock::ClockMode>,
) -> TestApp {
    spawn_with(Setup {
        config: Some(data_dir_config(dir)),
        clock,
        ..Setup::default()
    })
    .await
}

/// The onboarding review of `user_id` is decided 60 s after its application, wherever the
/// simulator was in between: 20 s passed before the move, the remaining 40 s pass in `after`.
async fn review_decided_after_move(after: &TestApp, user_id: &str) {
    after.advance(39.0).await;
    assert!(
        received(after, "userOnboardingResultNotify").is_empty(),
        "decided before its due time"
    );
    after.advance(1.0).await;
    let n = received_about(after, "userOnboardingResultNotify", "userId", user_id).await;
    assert_eq!(n["status"], "SUCCESS");
}

#[tokio::test]
async fn a_pending_review_is_decided_after_a_data_dir_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path()).await;
    let user_id = apply_user(&app, "timer-restart").await;
    app.advance(20.0).await;
    {
        let db = rusqlite::Connection::open(dir.path().join("whalet-sim.db")).unwrap();
        let (kind, key): (String, String) = db
            .query_row("SELECT kind, key FROM timers", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(
            (kind.as_str(), key.as_str()),
            ("whalet.review", user_id.as_str())
        );
    }
    app.shutdown().await;

    let again = on_dir(dir.path()).await;
    let (_, timers) = again.get("/__sim/clock").await;
    assert!(timers.to_string().contains(&user_id), "{timers}");
    review_decided_after_move(&again, &user_id).await;
    again.shutdown().await;
    // Decided: the timer is gone from the table.
    let db = rusqlite::Connection::open(dir.path().join("whalet-sim.db")).unwrap();
    let left: i64 = db
        .query_row("SELECT count(*) FROM timers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_pending_review_is_decided_after_a_snapshot_import() {
    let app = spawn_app().await;
    let user_id = apply_user(&app, "timer-snapshot").await;
    app.advance(20.0).await;
    let snapshot = export(&app, "").await;
    let doc: Value = serde_json::from_slice(&snapshot).unwrap();
    assert_eq!(
        doc["timers"][0]["kind"], "whalet.review",
        "{}",
        doc["timers"]
    );
    assert_eq!(doc["timers"][0]["key"], user_id.as_str());

    let other = spawn_app().await;
    let (status, body) = import(&other, "", snapshot.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"]["timers"], 1, "{body}");
    // Export → import → export stays byte-identical with a pending timer.
    assert!(snapshot == export(&other, "").await);
    review_decided_after_move(&other, &user_id).await;
    assert!(received(&app, "userOnboardingResultNotify").is_empty());
    app.shutdown().await;
    other.shutdown().await;
}

#[tokio::test]
async fn an_overdue_review_is_decided_at_once_on_import() {
    let app = spawn_app().await;
    let user_id = apply_user(&app, "timer-overdue").await;
    let mut doc: Value = serde_json::from_slice(&export(&app, "").await).unwrap();
    app.shutdown().await;
    // The document's clock is 2 minutes on: the 60 s review is overdue.
    doc["now"] = json!(doc["now"].as_i64().unwrap() + 120_000);
    let other = spawn_app().await;
    let (status, body) = import(&other, "", serde_json::to_vec(&doc).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    other.advance(0.0).await;
    let n = received_about(&other, "userOnboardingResultNotify", "userId", &user_id).await;
    assert_eq!(n["status"], "SUCCESS");
    other.shutdown().await;
}

#[tokio::test]
async fn a_version_1_snapshot_reads_with_no_timers_and_an_unknown_kind_is_refused() {
    let app = spawn_app().await;
    apply_user(&app, "timer-v1").await;
    let mut doc: Value = serde_json::from_slice(&export(&app, "").await).unwrap();
    let mut v1 = doc.clone();
    v1["schemaVersion"] = json!(1);
    v1.as_object_mut().unwrap().remove("timers");
    let (status, body) = import(&app, "", serde_json::to_vec(&v1).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"]["timers"], 0, "{body}");
    doc["timers"][0]["kind"] = json!("no.such.kind");
    let (status, body) = import(&app, "?file=odd.json", serde_json::to_vec(&doc).unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("no.such.kind"), "{body}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_pockyt_payout_settles_after_a_data_dir_restart() {
    use crate::pockyt_support::{active_payee, bank_account, ok, IpnReceiver};
    let dir = tempfile::tempdir().unwrap();
    let ipn = IpnReceiver::start(0).await;
    let app = on_dir(dir.path()).await;
    let no = active_payee(&app, "restart@example.com").await;
    let token = bank_account(&app, &no, &ipn.url()).await;
    let reply = ok(
        &app,
        "/v3/payouts/pay",
        json!({"customerNo": no, "accountToken": token, "amount": "20", "currency": "USD",
               "invoiceId": "INV-R"}),
    )
    .await;
    let txn = reply["result"]["transactionNo"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance(10.0).await;
    app.shutdown().await;

    let again = on_dir(dir.path()).await;
    again.advance(19.0).await;
    assert!(ipn.received().is_empty(), "settled before its due time");
    again.advance(1.0).await;
    let n = again.wait_notification(&format!("businessId={txn}")).await;
    assert_eq!(n["topic"], "payout.success", "{n}");
    assert_eq!(ipn.wait_for(1).await.len(), 1);
    again.assert_invariants().await;
    again.shutdown().await;
}

// ---- authorization links, scenarios and the journal ----

#[tokio::test]
async fn an_authorization_link_survives_a_restart_and_expires_on_time() {
    use crate::helpers::platform_call;
    use crate::platform::bind_body;
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path()).await;
    let (_, _, body) = platform_call(&app, "shopAccountBind", &bind_body("B-DUR", "77")).await;
    let url = body["authorizeUrl"].as_str().unwrap().to_owned();
    let path = &url[url.find("/authorize/").unwrap()..];
    app.advance(10.0 * 60.0).await;
    app.shutdown().await;

    let again = on_dir(dir.path()).await;
    let page = again
        .http
        .get(&format!("{}{path}", again.url), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(page.status, 200, "the link is still open after the restart");
    again.advance(19.0 * 60.0).await;
    assert!(again.receiver.received().is_empty());
    again.advance(60.0).await;
    again
        .wait_notification("apiCode=shopAccountBindNotify")
        .await;
    let n = again.receiver.received()[0].body.clone().unwrap();
    assert_eq!(n["status"], "FAILURE");
    assert!(n["reason"].as_str().unwrap().contains("expired"), "{n}");
    let page = again
        .http
        .get(&format!("{}{path}", again.url), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(page.status, 410);
    again.shutdown().await;
}

pub(crate) async fn ping(app: &TestApp) -> String {
    app.client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "N"}),
        )
        .await
        .unwrap()
        .code
}

const EVERY_SECOND_FAILS: &str =
    "name = \"every-second\"\n[[rule]]\nnth = 2\n[rule.then]\ncode = \"FAILURE\"\n";

#[tokio::test]
async fn scenarios_their_counters_and_the_journal_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path()).await;
    assert_eq!(app.load_scenario(EVERY_SECOND_FAILS, "").await.0, 200);
    assert_eq!(ping(&app).await, "SUCCESS");
    let journal = app.get_json("/__sim/requests").await["requests"].clone();
    assert_eq!(journal.as_array().unwrap().len(), 1, "{journal}");
    app.shutdown().await;

    let again = on_dir(dir.path()).await;
    let list = again.get_json("/__sim/scenarios").await["scenarios"].clone();
    assert_eq!(list[0]["name"], "every-second", "{list}");
    // The rule's count went on from 1: this is the second call.
    assert_eq!(ping(&again).await, "FAILURE");
    assert_eq!(ping(&again).await, "SUCCESS");
    let after = again.get_json("/__sim/requests").await["requests"].clone();
    let ids: Vec<u64> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![3, 2, 1],
        "the restored entry and two new ones: {after}"
    );
    assert_eq!(after[2]["operation"], journal[0]["operation"]);
    again.shutdown().await;
}

#[tokio::test]
async fn a_snapshot_carries_links_scenarios_and_the_journal() {
    use crate::helpers::platform_call;
    use crate::platform::bind_body;
    let app = spawn_app().await;
    let (_, _, body) = platform_call(&app, "shopAccountBind", &bind_body("B-SNAP", "78")).await;
    let url = body["authorizeUrl"].as_str().unwrap().to_owned();
    let path = url[url.find("/authorize/").unwrap()..].to_owned();
    assert_eq!(app.load_scenario(EVERY_SECOND_FAILS, "").await.0, 200);
    assert_eq!(ping(&app).await, "SUCCESS");
    let snapshot = export(&app, "").await;
    app.shutdown().await;

    let other = spawn_app().await;
    let (status, body) = import(&other, "", snapshot.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(snapshot == export(&other, "").await, "byte-identical");
    assert_eq!(ping(&other).await, "FAILURE", "the counter went on");
    let page = other
        .http
        .get(&format!("{}{path}", other.url), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(page.status, 200);
    let journal = other.get_json("/__sim/requests").await["requests"].clone();
    assert!(journal.as_array().unwrap().len() >= 3, "{journal}");
    other.shutdown().await;
}

#[tokio::test]
async fn a_version_1_database_is_migrated_and_keeps_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path()).await;
    let user_id = onboarded_user(&app, "migrate").await;
    app.shutdown().await;
    to_version_1(dir.path());
    let again = on_dir(dir.path()).await;
    let state = state(&again).await;
    assert!(state.to_string().contains(&user_id), "{state}");
    // The new tables are there and written to.
    apply_user(&again, "migrate-2").await;
    again.shutdown().await;
    let db = rusqlite::Connection::open(dir.path().join("whalet-sim.db")).unwrap();
    let version: i64 = db
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    let timers: i64 = db
        .query_row("SELECT count(*) FROM timers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(timers, 1);
}

#[tokio::test]
async fn uploaded_files_are_files_in_the_data_dir_and_come_back_after_a_restart() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path()).await;
    let content = b"name,amount\nlamp,12.50\n";
    let info = crate::whalet2_support::upload(&app, "lamps.csv", content).await;
    let url = info["fileUrl"].as_str().unwrap().to_owned();
    let path = url[url.find("/file/").unwrap()..].to_owned();
    let sha = hex::encode(sha2::Sha256::digest(content));
    assert_eq!(
        std::fs::read(dir.path().join("files").join(&sha)).unwrap(),
        content
    );
    {
        let db = rusqlite::Connection::open(dir.path().join("whalet-sim.db")).unwrap();
        let (json, size): (String, i64) = db
            .query_row(
                "SELECT e.json, f.size FROM files f JOIN entities e
                 ON e.tenant = f.tenant AND e.kind = f.kind AND e.id = f.id
                 WHERE f.sha256 = ?1",
                [&sha],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(size, content.len() as i64);
        let entity: Value = serde_json::from_str(&json).unwrap();
        assert!(
            entity.get("bytes").is_none(),
            "no Base64 in the row: {json}"
        );
        assert_eq!(entity["sha256"], sha.as_str());
    }
    app.shutdown().await;

    let again = on_dir(dir.path()).await;
    let got = again
        .http
        .get(&format!("{}{path}", again.url), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(&got.body[..], content);
    // A snapshot still carries the bytes (as Base64).
    let doc = String::from_utf8(export(&again, "").await).unwrap();
    assert!(
        doc.contains("bmFtZSxhbW91bnQKbGFtcCwxMi41MAo="),
        "bytes in the snapshot"
    );
    again.shutdown().await;
}

/// The ledger, the requestNo memory and the journal of a snapshot document (what an import
/// must replace, row for row).
fn ledger_and_journal(doc: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(doc).unwrap();
    let tenants: serde_json::Map<String, Value> = v["tenants"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, t)| {
            let kept = json!({"ledger": t["ledger"], "request_nos": t["request_nos"]});
            (id.clone(), kept)
        })
        .collect();
    json!({"tenants": tenants, "journal": v["journal"]})
}

#[tokio::test]
async fn an_import_over_a_state_with_as_many_postings_is_what_a_restart_reads_back() {
    let elsewhere = spawn_app().await;
    let (user_a, _) = settled_user(&elsewhere, "state-a", "1000.00").await;
    let snapshot_a = export(&elsewhere, "").await;
    elsewhere.shutdown().await;
    // State B, written to the directory, has the same posting, requestNo and journal ids as
    // A, with other amounts.
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path()).await;
    settled_user(&app, "state-b", "100.00").await;
    let (status, body) = import(&app, "", snapshot_a.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(available_cents(&app, &user_a).await, 100_000);
    let before = export(&app, "").await;
    app.shutdown().await;

    let again = on_dir(dir.path()).await;
    let restored = export(&again, "").await;
    assert_eq!(
        ledger_and_journal(&restored),
        ledger_and_journal(&before),
        "the restart reads back the imported ledger, requestNos and journal (and the query after)"
    );
    assert_eq!(available_cents(&again, &user_a).await, 100_000);
    again.assert_invariants().await;
    // A reset is what a restart reads back too: no posting, no journal entry.
    assert_eq!(again.post("/__sim/reset", &json!({})).await.0, 200);
    again.shutdown().await;
    let third = on_dir(dir.path()).await;
    let after_reset: Value = serde_json::from_slice(&export(&third, "").await).unwrap();
    assert_eq!(after_reset["journal"], json!([]));
    assert_eq!(
        after_reset["tenants"][PARTNER]["ledger"]["postings"],
        json!([])
    );
    assert_eq!(after_reset["tenants"][PARTNER]["request_nos"], json!([]));
    third.shutdown().await;
}

/// The contents under `DIR/files`, by name.
fn stored_contents(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("files"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_file_keeps_one_stored_copy_however_often_it_changes() {
    use sha2::Digest;
    use whalet_sim::store::infinia::StoredFile;
    use whalet_sim::store::{Provider, TenantId};
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path()).await;
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    let data_dir = whalet_sim::persist::sqlite::data_dir(app.app()).unwrap();
    let path = "/upload/big.csv.part";
    // As an SFTP upload does: the file grows, write after write, with commits in between.
    let put = |data: Vec<u8>, writing: bool| {
        app.app().store().with_tenant(&tenant, |t| {
            let size = data.len() as u64;
            let file = StoredFile {
                data,
                size,
                modified_at: 0,
                writing,
                ..StoredFile::default()
            };
            t.infinia.files.insert(path.to_owned(), file);
        });
        data_dir.commit().unwrap();
    };
    let mut data = Vec::new();
    for i in 0..20u8 {
        data.extend(std::iter::repeat_n(b'a' + i, 1000));
        put(data.clone(), true);
    }
    assert_eq!(
        stored_contents(dir.path()),
        Vec::<String>::new(),
        "open: not stored yet"
    );
    put(data.clone(), false);
    let sha = |bytes: &[u8]| hex::encode(sha2::Sha256::digest(bytes));
    assert_eq!(
        stored_contents(dir.path()),
        [sha(&data)],
        "closed: stored once"
    );
    // Written again (a second upload of the same name): the old content goes.
    let second = b"name,amount\nlamp,12.50\n".to_vec();
    put(second.clone(), true);
    assert_eq!(
        stored_contents(dir.path()),
        [sha(&data)],
        "the closed one stays while open"
    );
    put(second.clone(), false);
    assert_eq!(stored_contents(dir.path()), [sha(&second)]);
    drop(data_dir);
    app.shutdown().await;

    let again = on_dir(dir.path()).await;
    let back = again
        .app()
        .store()
        .with_tenant(&tenant, |t| {
            t.infinia.files.get(path).map(|f| f.data.clone())
        })
        .unwrap();
    assert_eq!(back, Some(second));
    // Removed: its content goes at once, not at the next start.
    again
        .app()
        .store()
        .with_tenant(&tenant, |t| t.infinia.files.remove(path));
    whalet_sim::persist::sqlite::data_dir(again.app())
        .unwrap()
        .commit()
        .unwrap();
    assert_eq!(stored_contents(dir.path()), Vec::<String>::new());
    again.shutdown().await;
}

#[tokio::test]
async fn an_import_of_all_state_replaces_the_journal_even_with_an_empty_one() {
    let app = spawn_app().await;
    let empty = export(&app, "").await;
    assert_eq!(ping(&app).await, "SUCCESS");
    let journal = app.get_json("/__sim/requests").await["requests"].clone();
    assert_eq!(journal.as_array().unwrap().len(), 1, "{journal}");
    let (status, body) = import(&app, "", empty).await;
    assert_eq!(status, 200, "{body}");
    let journal = app.get_json("/__sim/requests").await["requests"].clone();
    assert_eq!(journal, json!([]), "the snapshot's journal, which is empty");
    app.shutdown().await;
}

/// The PENDING collections of a snapshot, and the collections its review timers would settle.
fn pending_and_timed(doc: &Value) -> (Vec<String>, Vec<String>) {
    let collections = &doc["tenants"]["whalet:202400000000001"]["whalet"]["collections"];
    let mut pending: Vec<String> = collections
        .as_object()
        .map(|c| {
            c.values()
                .filter(|c| c["status"] == "PENDING")
                .map(|c| c["trade_id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut timed: Vec<String> = doc["timers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["params"]["completion"] == "collection")
        .map(|t| t["key"].as_str().unwrap().to_owned())
        .collect();
    pending.sort();
    timed.sort();
    (pending, timed)
}

/// Until `deadline`: collections arrive on a fresh card (two triggers at a time) while the
/// clock settles them (5 s advances), so state and timers change together all the time.
async fn collections_come_and_go(app: &TestApp, done: &AtomicBool) {
    let card = app.trigger_ok("whalet.account.ready", json!({})).await["cardId"].clone();
    let arrive = || async {
        while !done.load(Ordering::SeqCst) {
            let params = json!({"cardId": card, "amount": "1.00"});
            app.trigger_ok("whalet.collection.received", params).await;
        }
    };
    let settle = async {
        while !done.load(Ordering::SeqCst) {
            app.advance(5.0).await;
        }
    };
    tokio::join!(arrive(), arrive(), settle);
}

/// Reads `cut` (the pending collections and the collections timers would settle) again and
/// again, `pause` apart, while collections come and go: until `deadline` and at least `least`
/// reads (a `None` is a read skipped), however slow the machine (a minute at most, so that a
/// cut that never reads fails instead of hanging); every read holds each pending collection
/// with its timer.
async fn every_cut_is_whole<F, Fut>(
    app: &TestApp,
    deadline: tokio::time::Instant,
    (what, least, pause): (&str, usize, Duration),
    cut: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<(Vec<String>, Vec<String>)>>,
{
    let done = AtomicBool::new(false);
    let give_up = deadline + Duration::from_secs(60);
    let reads = async {
        let (mut read, mut torn) = (0, Vec::new());
        loop {
            let now = tokio::time::Instant::now();
            if (read >= least && now >= deadline) || now >= give_up {
                break;
            }
            if let Some((pending, timed)) = cut().await {
                read += 1;
                if pending != timed {
                    torn.push((pending, timed));
                }
            }
            tokio::time::sleep(pause).await;
        }
        done.store(true, Ordering::SeqCst);
        (read, torn)
    };
    let ((read, torn), ()) = tokio::join!(reads, collections_come_and_go(app, &done));
    assert!(read >= least, "only {read} {what} were read");
    assert!(
        torn.is_empty(),
        "{} of {read} {what} torn, e.g. {:?}",
        torn.len(),
        torn[0]
    );
}

/// The simulator with a receiver that never answers and attempts timing out after
/// `timeout_ms`: an advance waits for each attempt it starts.
async fn with_a_hung_receiver(timeout_ms: u64) -> TestApp {
    spawn_with(Setup {
        receiver: Some(Mode::Hang),
        config: Some(format!("[notify]\ntimeout_ms = {timeout_ms}\n")),
        ..Setup::default()
    })
    .await
}

/// Regression: a snapshot read each tenant under its lock and the timers afterwards, while
/// triggers and timer jobs ran in between. Imported, it held a collection (a payout, …) pending
/// with no timer left to settle it, or a timer for a collection it did not hold. Every snapshot
/// taken while collections arrive and settle now holds each pending one with its timer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_taken_under_load_holds_each_pending_object_with_its_timer() {
    let app = spawn_app().await;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    let snapshot = || async {
        // Read whole: it outgrows the test client's 64 KiB answers.
        let url = format!("{}/__sim/snapshot", app.url);
        let body = reqwest::get(url).await.unwrap().bytes().await.unwrap();
        let doc: Value = serde_json::from_slice(&body).unwrap();
        Some(pending_and_timed(&doc))
    };
    every_cut_is_whole(&app, deadline, ("snapshots", 5, Duration::ZERO), snapshot).await;
    app.shutdown().await;
}

/// Regression: an import that came while an advance waited for a hung receiver was then
/// advanced by it (the imported collection settled, the clock a day past the snapshot's time).
/// The advance now stops where the import replaced its world, and the import does not wait for
/// it (a first fix made it wait: half a minute behind a hung receiver).
#[tokio::test]
async fn an_import_during_an_advance_neither_waits_for_it_nor_is_advanced_by_it() {
    let app = with_a_hung_receiver(1000).await;
    let card = app.trigger_ok("whalet.account.ready", json!({})).await["cardId"].clone();
    let collection = app
        .trigger_ok(
            "whalet.collection.received",
            json!({"cardId": card, "amount": "1.00"}),
        )
        .await;
    let saved = export(&app, "").await;
    let then = app.get_json("/__sim/clock").await["now"].clone();
    // A notification to the hung receiver: the advance waits for each attempt's timeout.
    app.trigger_ok(
        "whalet.connectivity.notify",
        json!({"partnerId": "202400000000001"}),
    )
    .await;
    let advancing = async {
        app.advance(86_400.0).await;
        tokio::time::Instant::now()
    };
    let import_later = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answer = import(&app, "", saved).await;
        (answer, tokio::time::Instant::now())
    };
    let (advanced_at, ((status, body), imported_at)) = tokio::join!(advancing, import_later);
    assert_eq!(status, 200, "{body}");
    assert!(
        imported_at < advanced_at,
        "the import waited for the advance (its attempt hangs for 1 s)"
    );
    assert_eq!(app.get_json("/__sim/clock").await["now"], then);
    let trade_id = collection["tradeId"].as_str().unwrap();
    let state = app.get_json("/__sim/state").await.to_string();
    assert!(state.contains(trade_id), "{state}");
    let doc: Value = serde_json::from_slice(&export(&app, "").await).unwrap();
    let (pending, timed) = pending_and_timed(&doc);
    assert_eq!(
        (pending.clone(), timed),
        (vec![trade_id.to_owned()], pending)
    );
    app.shutdown().await;
}

/// The PENDING collections a data directory's database holds, and the collections its review
/// timers would settle, read in one transaction (None: the database was busy).
fn pending_and_timed_in_db(path: &std::path::Path) -> Option<(Vec<String>, Vec<String>)> {
    use rusqlite::OpenFlags;
    let mut conn =
        rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let tx = conn.transaction().ok()?;
    let column = |sql: &str, keep: &dyn Fn(&Value) -> bool| -> Option<Vec<String>> {
        let mut stmt = tx.prepare(sql).ok()?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .ok()?;
        let mut out: Vec<String> = rows
            .filter_map(Result::ok)
            .filter(|(_, json)| keep(&serde_json::from_str(json).unwrap_or(Value::Null)))
            .map(|(id, _)| id)
            .collect();
        out.sort();
        Some(out)
    };
    let pending = column(
        "SELECT id, json FROM entities WHERE kind = 'whalet.collections'",
        &|c| c["status"] == "PENDING",
    )?;
    let timed = column(
        "SELECT key, params FROM timers WHERE kind = 'whalet.review'",
        &|p| p["completion"] == "collection",
    )?;
    Some((pending, timed))
}

/// Regression: each data-directory commit read the tenants and the timers at different
/// moments, so a restart after `kill -9` could find a collection pending without the timer that
/// settles it. Every committed state now holds each pending collection with its timer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_data_dir_commit_holds_each_pending_object_with_its_timer() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path()).await;
    let db = dir.path().join("whalet-sim.db");
    let deadline = tokio::time::Instant::now() + Duration::from_millis(2000);
    let commit = || {
        let db = db.clone();
        async move {
            tokio::task::spawn_blocking(move || pending_and_timed_in_db(&db))
                .await
                .unwrap()
        }
    };
    let pause = Duration::from_millis(15);
    every_cut_is_whole(&app, deadline, ("commits", 10, pause), commit).await;
    app.shutdown().await;
}

/// A reset during an advance that waits for a hung receiver answers at once (a first fix of the
/// import race made it wait for the whole advance) and cancels the pending retries.
#[tokio::test]
async fn a_reset_during_an_advance_does_not_wait_for_it() {
    let app = with_a_hung_receiver(1000).await;
    app.trigger_ok(
        "whalet.connectivity.notify",
        json!({"partnerId": "202400000000001"}),
    )
    .await;
    let advancing = async {
        app.advance(31.0).await;
        tokio::time::Instant::now()
    };
    let reset_later = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answer = app.post("/__sim/reset", &json!({})).await;
        (answer, tokio::time::Instant::now())
    };
    let (advanced_at, ((status, body), reset_at)) = tokio::join!(advancing, reset_later);
    assert_eq!(status, 200, "{body}");
    assert!(reset_at < advanced_at, "the reset waited for the advance");
    let notifications = app.get_json("/__sim/notifications").await;
    assert_eq!(notifications["notifications"], json!([]), "{notifications}");
    app.shutdown().await;
}

/// Regression: an import that came while a delivery attempt waited on a hung receiver got that
/// attempt written into the imported notification when it timed out, beside the attempt the
/// import scheduled: two retry series ran at once (duplicate deliveries, the series exhausted
/// twice as fast). The attempt made on the copy the import replaced is now dropped.
#[tokio::test]
async fn an_attempt_in_flight_during_an_import_does_not_start_a_second_series() {
    let app = with_a_hung_receiver(500).await;
    app.trigger_ok(
        "whalet.connectivity.notify",
        json!({"partnerId": "202400000000001"}),
    )
    .await;
    // The first attempt is in flight (the receiver never answers) while the snapshot goes in.
    let saved = export(&app, "").await;
    let (status, body) = import(&app, "", saved).await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(900)).await;
    let clock = app.get_json("/__sim/clock").await;
    let attempts_due = clock["pending"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["label"].as_str().unwrap_or("").starts_with("notify:"))
        .count();
    assert_eq!(attempts_due, 1, "one series, one next attempt: {clock}");
    let ledger = app.get_json("/__sim/notifications").await;
    let n = &ledger["notifications"][0];
    assert!(
        n["attempts"].as_array().unwrap().len() <= 1,
        "the replaced copy's attempt was recorded: {n}"
    );
    app.shutdown().await;
}

/// Regression: an import of a snapshot taken before a notification rewinds the numbering, and
/// the next notification took the number of one whose attempt was still out. When that attempt
/// ended, its verdict was recorded into the new notification (a partner that never acknowledged
/// it read "delivered", or a second retry series ran). Every notification is now its own copy.
#[tokio::test]
async fn an_attempt_in_flight_is_not_recorded_into_a_new_notification_that_reuses_its_number() {
    let app = with_a_hung_receiver(500).await;
    let before = export(&app, "").await;
    let fire = || {
        app.trigger_ok(
            "whalet.connectivity.notify",
            json!({"partnerId": "202400000000001"}),
        )
    };
    fire().await;
    let (status, body) = import(&app, "", before).await;
    assert_eq!(status, 200, "{body}");
    fire().await;
    // Both first attempts time out; only the new notification's own is its attempt.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let ledger = app.get_json("/__sim/notifications").await;
    let all = ledger["notifications"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{ledger}");
    let attempts = all[0]["attempts"].as_array().unwrap().len();
    assert_eq!(
        attempts, 1,
        "the old notification's attempt was recorded: {ledger}"
    );
    let clock = app.get_json("/__sim/clock").await;
    let due = clock["pending"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["label"].as_str().unwrap_or("").starts_with("notify:"))
        .count();
    assert_eq!(due, 1, "one series, one next attempt: {clock}");
    app.shutdown().await;
}

/// `serve --snapshot FILE --scenario FILE`: the scenario file is loaded over what the snapshot
/// restored (as over a data dir's), not dropped by the snapshot's import while the ready line
/// names it.
#[tokio::test]
async fn a_scenario_given_at_start_survives_the_snapshot_loaded_at_start() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--manual-clock", "--sftp-addr", "off"])
        .args(["--snapshot", &repo_path("fixtures/onboarded-user.json")])
        .args(["--scenario", &repo_path("scenarios/happy-path.toml")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let client = whalet_sim::http::client::HttpClient::new();
    let mut listed = None;
    for _ in 0..400 {
        match client
            .get(&format!("{url}/__sim/scenarios"), Duration::from_secs(1))
            .await
        {
            Ok(r) if r.status == 200 => {
                listed = Some(serde_json::from_slice::<Value>(&r.body).unwrap());
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let listed = listed.expect("the simulator did not become ready");
    let names: Vec<&Value> = listed["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["name"])
        .collect();
    assert_eq!(names, vec!["happy-path"], "{listed}");
}

/// A refused import changes nothing (docs/PERSISTENCE.md): every part of the document is checked
/// before anything is dropped. The tester's repro: an empty snapshot whose journal holds `1`
/// answered 400 after it had dropped the users, the scenarios and the pending review timer. A
/// timer whose parameters or tenant the kind cannot read is refused the same way, naming it,
/// rather than taken and skipped when due.
#[tokio::test]
async fn a_refused_import_changes_nothing() {
    let app = spawn_app().await;
    let empty: Value = serde_json::from_slice(&export(&app, "").await).unwrap();
    let user_id = apply_user(&app, "refused").await;
    let rate_limited = std::fs::read_to_string(repo_path("scenarios/rate-limited.toml")).unwrap();
    assert_eq!(app.load_scenario(&rate_limited, "").await.0, 200);
    let before = export(&app, "").await;
    let doc: Value = serde_json::from_slice(&before).unwrap();
    let timer = doc["timers"][0].clone();
    assert_eq!(timer["kind"], "whalet.review", "{}", doc["timers"]);
    let label = format!("timers[0] ({:?})", timer["label"].as_str().unwrap());
    let with_timer = |field: &str, value: Value| {
        let mut t = timer.clone();
        t[field] = value;
        let mut v = empty.clone();
        v["timers"] = json!([t]);
        v
    };
    let mut journal = empty.clone();
    journal["journal"] = json!([1]);
    let cases = [
        ("journal", journal, "journal entry: invalid type".to_owned()),
        (
            "timer params",
            with_timer("params", json!({})),
            format!("{label}: params.completion: invalid type: null, expected a string"),
        ),
        (
            "timer param type",
            with_timer(
                "params",
                json!({"completion": "onboarding", "attempt": "one", "verdict": {}}),
            ),
            format!("{label}: params.attempt: invalid type: string \"one\", expected u32"),
        ),
        (
            "timer completion",
            with_timer(
                "params",
                json!({"completion": "bogus", "attempt": 1, "verdict": {}}),
            ),
            format!("{label}: params.completion: unknown completion \"bogus\"; known: onboarding"),
        ),
        (
            "timer tenant",
            with_timer("tenant", Value::Null),
            format!("{label}: tenant: absent or not provider:id"),
        ),
        (
            "timer kind",
            with_timer("kind", json!("no.such.kind")),
            format!("{label}: kind \"no.such.kind\" is not one this simulator knows"),
        ),
    ];
    for (what, doc, expected) in cases {
        let (status, body) = import(&app, "", serde_json::to_vec(&doc).unwrap()).await;
        assert_eq!(status, 400, "{what}: {body}");
        let message = body["error"].as_str().unwrap();
        assert!(message.contains(&expected), "{what}: {message}");
        assert!(
            export(&app, "").await == before,
            "{what}: the refused import changed the state"
        );
    }
    // The review the refused imports left in place is still decided on time.
    app.advance(60.0).await;
    let n = received_about(&app, "userOnboardingResultNotify", "userId", &user_id).await;
    assert_eq!(n["status"], "SUCCESS");
    app.shutdown().await;
}

/// No state reachable by ordinary requests and triggers exports a snapshot that does not import
/// back. The tester's repro: three collections of 9999999999999.99 USD took the bank's balance
/// past the largest amount, whose decimal no import reads. A balance now stays within it: the
/// second collection is refused naming the limit, and the state round-trips byte for byte.
#[tokio::test]
async fn a_balance_stays_within_the_largest_amount_and_every_state_round_trips() {
    let app = spawn_app().await;
    app.trigger_ok("whalet.account.ready", json!({})).await;
    let huge = json!({"amount": "9999999999999.99"});
    let first = app
        .trigger_ok("whalet.collection.received", huge.clone())
        .await;
    assert_eq!(first["amount"]["cent"], 999_999_999_999_999_i64, "{first}");
    for _ in 0..2 {
        let (status, body) = app
            .post("/__sim/trigger/whalet.collection.received", &huge)
            .await;
        assert_eq!(status, 422, "{body}");
        let message = body["error"].as_str().unwrap();
        assert!(
            message.contains(
                "the balance of external:bank would be -19999999999999.98 USD, beyond the \
                 largest amount an account holds (1000000000000000 minor units either way)"
            ),
            "{message}"
        );
    }
    app.advance(60.0).await;
    app.assert_invariants().await;
    let first = export(&app, "").await;
    let (status, body) = import(&app, "", first.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(first == export(&app, "").await, "export → import → export");
    app.finish().await;
}

/// A snapshot of one tenant replaces that tenant only, with or without `?tenant=`
/// (docs/PERSISTENCE.md): the tester's repro, such a document posted without `?tenant=`,
/// wiped every other tenant. A `?tenant=` naming another tenant is refused, changing nothing.
#[tokio::test]
async fn a_one_tenant_snapshot_replaces_only_its_tenant() {
    const POCKYT: &str = "pockyt:202333";
    let app = spawn_app().await;
    let (user_id, _) = settled_user(&app, "scoped", "7.00").await;
    let one = export(&app, &format!("?tenant={PARTNER}")).await;
    let scope: Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(scope["scope"], PARTNER);
    app.trigger_ok(
        "pockyt.balance.funded",
        json!({"currency": "USD", "amount": "12.50"}),
    )
    .await;
    // The tenant's state as exported (the document's `now` moves with the clock).
    let state_of = |doc: Vec<u8>| serde_json::from_slice::<Value>(&doc).unwrap()["tenants"].clone();
    let pockyt = state_of(export(&app, &format!("?tenant={POCKYT}")).await);
    settled_user(&app, "scoped-later", "1.00").await;

    let (status, body) = import(&app, &format!("?tenant={POCKYT}"), one.clone()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains(&format!(
            "the snapshot is of tenant {PARTNER} (its scope), not of {POCKYT}: import it with \
             ?tenant={PARTNER}, or without ?tenant="
        )),
        "{body}"
    );
    assert_eq!(
        state_of(export(&app, &format!("?tenant={POCKYT}")).await),
        pockyt
    );

    let (status, body) = import(&app, "", one.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"]["scope"], PARTNER, "{body}");
    assert_eq!(
        state_of(export(&app, &format!("?tenant={PARTNER}")).await),
        state_of(one)
    );
    assert_eq!(
        state_of(export(&app, &format!("?tenant={POCKYT}")).await),
        pockyt,
        "the other tenant is left as it was"
    );
    assert_eq!(available_cents(&app, &user_id).await, 700);
    app.shutdown().await;
}

/// A one-tenant snapshot with a scenario imports back as the same bytes, with `?tenant=` and
/// without, again and again (docs/PERSISTENCE.md): the tester's repro, each such import gave
/// the tenant's scenarios a new generation. The tenant's counts under a scenario of every
/// tenant (two counters: one per scenario) come back too.
#[tokio::test]
async fn a_one_tenant_round_trip_with_a_scenario_is_byte_identical() {
    let app = spawn_app().await;
    const SCOPED: &str =
        "name = \"r\"\n[[rule]]\noperation = \"connectivity\"\n[rule.then]\nlatency_ms = 1\n";
    assert_eq!(app.load_scenario(EVERY_SECOND_FAILS, "").await.0, 200);
    let scoped = format!("tenant={PARTNER}");
    assert_eq!(app.load_scenario(SCOPED, &scoped).await.0, 200);
    assert_eq!(ping(&app).await, "SUCCESS");
    let query = format!("?{scoped}");
    let first = export(&app, &query).await;
    let doc: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(doc["scenarios"]["loaded"][0]["name"], "r", "{doc}");
    assert_eq!(
        doc["scenarios"]["counters"].as_array().unwrap().len(),
        2,
        "{doc}"
    );
    for asked in [query.as_str(), "", query.as_str()] {
        let (status, body) = import(&app, asked, first.clone()).await;
        assert_eq!(status, 200, "{body}");
        let again = export(&app, &query).await;
        assert_same_bytes(
            &first,
            &again,
            &format!("export → import{asked} → export differs"),
        );
    }
    app.finish().await;
}

/// A whole snapshot with two postings of one id, two journal entries of one id, a scenario
/// twice or an authorization link twice is refused naming the place and the id, and nothing
/// changes: the tester's repro, such an import was taken, the invariants then failed and a
/// restart merged the repeated rows (memory and disk disagreed).
#[tokio::test]
async fn an_import_with_a_repeated_id_is_refused_and_changes_nothing() {
    use crate::helpers::platform_call;
    use crate::platform::bind_body;
    let app = spawn_app().await;
    app.trigger_ok("whalet.account.ready", json!({})).await;
    app.trigger_ok("whalet.collection.received", json!({"amount": "100.00"}))
        .await;
    platform_call(&app, "shopAccountBind", &bind_body("B-TWICE", "79")).await;
    // A delivered notification, to copy.
    settled_user(&app, "twice", "1.00").await;
    assert_eq!(app.load_scenario(EVERY_SECOND_FAILS, "").await.0, 200);
    assert_eq!(ping(&app).await, "SUCCESS");
    let before = export(&app, "").await;
    let good: Value = serde_json::from_slice(&before).unwrap();
    let tenant = format!("tenants[{PARTNER:?}]");
    let postings = good["tenants"][PARTNER]["ledger"]["postings"]
        .as_array()
        .unwrap();
    let memo = postings[0]["memo"].as_str().unwrap();
    let journal_len = good["journal"].as_array().unwrap().len();
    let token = good["authorizations"][0]["token"].as_str().unwrap();
    let postings_at = format!("/tenants/{PARTNER}/ledger/postings");
    let balances_at = format!("/tenants/{PARTNER}/ledger/balances");
    let balances = good["tenants"][PARTNER]["ledger"]["balances"]
        .as_array()
        .unwrap();
    let notifications = good["outbox"]["notifications"].as_array().unwrap();
    assert!(!notifications.is_empty(), "{}", good["outbox"]);
    let cases = [
        (
            "balance",
            balances_at.as_str(),
            format!(
                "{tenant}.ledger.balances: rows [0] and [{}] are both the balance of account {} \
                 in {}; the ledger keeps one balance per account and currency",
                balances.len(),
                balances[0]["account"].as_str().unwrap(),
                balances[0]["currency"].as_str().unwrap()
            ),
        ),
        (
            "notification",
            "/outbox/notifications",
            format!(
                "outbox.notifications[{}]: id {} is also outbox.notifications[0]'s; each \
                 notification has its own id",
                notifications.len(),
                notifications[0]["id"].as_str().unwrap()
            ),
        ),
        (
            "posting",
            postings_at.as_str(),
            format!(
                "{tenant}.ledger.postings: posting 1 ({memo}) at postings[{}]: id 1 is also \
                 postings[0]'s; each posting has its own id",
                postings.len()
            ),
        ),
        (
            "journal",
            "/journal",
            format!("journal[{journal_len}]: id 1 is also journal[0]'s; each entry has its own id"),
        ),
        (
            "scenario",
            "/scenarios/loaded",
            "scenarios.loaded[1]: scenario \"every-second\" of every tenant is loaded twice \
             (also scenarios.loaded[0])"
                .to_owned(),
        ),
        (
            "link",
            "/authorizations",
            format!("authorizations: token \"{token}\" is there twice"),
        ),
    ];
    for (what, list, expected) in cases {
        let mut doc = good.clone();
        let list = doc.pointer_mut(list).unwrap().as_array_mut().unwrap();
        list.push(list[0].clone());
        let (status, body) = import(&app, "", serde_json::to_vec(&doc).unwrap()).await;
        assert_eq!(status, 400, "{what}: {body}");
        let message = body["error"].as_str().unwrap();
        assert!(message.contains(&expected), "{what}: {message}");
        assert!(
            export(&app, "").await == before,
            "{what}: the refused import changed the state"
        );
    }
    app.finish().await;
}

/// A one-tenant import leaves the other tenants as they are: a link whose token another
/// tenant's link holds is refused (it would have taken that link away, and that tenant's
/// binding would never have ended).
#[tokio::test]
async fn a_one_tenant_import_may_not_take_another_tenants_link() {
    use crate::helpers::platform_call;
    use crate::infinia::support::{binding_request, spawn_infinia, Merchant};
    use crate::platform::bind_body;
    let app = spawn_infinia("").await;
    platform_call(&app, "shopAccountBind", &bind_body("B-CLASH", "80")).await;
    Merchant::demo()
        .ok(
            &app,
            "account-binding/request",
            &binding_request("IR-CLASH", "S-CLASH"),
        )
        .await;
    let before = export(&app, "").await;
    let all: Value = serde_json::from_slice(&before).unwrap();
    let links = all["authorizations"].as_array().unwrap();
    let whalet_token = links
        .iter()
        .find(|l| l["tenant"] == PARTNER)
        .and_then(|l| l["token"].as_str())
        .unwrap();
    let mut doc: Value =
        serde_json::from_slice(&export(&app, "?tenant=infinia:demo-app").await).unwrap();
    doc["authorizations"][0]["token"] = json!(whalet_token);
    let (status, body) = import(
        &app,
        "?tenant=infinia:demo-app",
        serde_json::to_vec(&doc).unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains(&format!("is the token of a link of tenant {PARTNER}")),
        "{body}"
    );
    assert!(
        export(&app, "").await == before,
        "the refused import changed the state"
    );
    app.shutdown().await;
}

/// Removing a scenario removes its rules' counters: none stays behind in the snapshot (where a
/// one-tenant import then dropped it, so the round trip was not byte-identical).
#[tokio::test]
async fn a_removed_scenario_leaves_no_counters_behind() {
    let app = spawn_app().await;
    let scoped = format!("tenant={PARTNER}");
    assert_eq!(app.load_scenario(EVERY_SECOND_FAILS, &scoped).await.0, 200);
    ping(&app).await;
    let counters = |doc: &[u8]| {
        let doc: Value = serde_json::from_slice(doc).unwrap();
        doc["scenarios"]["counters"].as_array().map_or(0, Vec::len)
    };
    let query = format!("?{scoped}");
    assert_eq!(counters(&export(&app, &query).await), 1, "the rule counted");
    let names = app.get_json(&format!("/__sim/scenarios?{scoped}")).await;
    let name = names["scenarios"][0]["name"].as_str().unwrap().to_owned();
    let removed = app
        .delete(&format!("/__sim/scenarios/{name}?{scoped}"))
        .await;
    assert_eq!(removed.0, 200);
    let first = export(&app, &query).await;
    assert_eq!(counters(&first), 0);
    let (status, body) = import(&app, &query, first.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(export(&app, &query).await == first, "byte-identical");
    app.shutdown().await;
}

// ---- a data dir that cannot be written ----

/// Uploads `bytes` as `name` through `POST /file/upload` (plain mode): (HTTP status, answer).
async fn upload_raw(app: &TestApp, name: &str, bytes: &[u8]) -> (u16, String) {
    let (ct, body) = crate::whalet2_support::fresh_form(app, name, bytes).await;
    app.post_raw("/file/upload", &ct, body).await
}

/// The message of a reply whose changes the data dir could not commit (`needle`: what failed).
fn assert_not_durable(status: u16, text: &str, needle: &str) {
    assert_eq!(status, 503, "{text}");
    let body: Value = serde_json::from_str(text).unwrap();
    let error = body["error"].as_str().unwrap();
    for part in [
        "the data dir could not be written (",
        needle,
        "are in the simulator's memory but not durable",
        "Free space on the data dir's disk or fix the directory, then retry",
        "REQUEST_NO_NOT_UNIQUE",
    ] {
        assert!(error.contains(part), "{part:?} not in {error}");
    }
}

/// A commit that fails is never acknowledged: the tester's repro, a data dir whose `files` is
/// a plain file (every later commit failed) while every reply said success. Every route answers
/// 503 naming the failure (the surfaces, the control plane, the pages) until a write succeeds,
/// except the export, which saves the state in memory; once the directory is fixed, the
/// retry meets the change already made and a restart finds it.
#[tokio::test]
async fn a_reply_whose_changes_cannot_be_committed_is_a_503_not_a_success() {
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path()).await;
    std::fs::write(dir.path().join("files"), b"not a folder").unwrap();
    let (status, text) = upload_raw(&app, "kept.csv", b"a,b\n1,2\n").await;
    assert_not_durable(status, &text, "cannot create");
    assert!(text.contains(&dir.path().display().to_string()), "{text}");

    // Every commit now rewrites every table and fails: every route says so.
    let request_no = app.client.next_request_no();
    let body = json!({"notifyFlag": "N", "responseFlag": "N"});
    match app
        .client
        .call_with("connectivity", &request_no, &body)
        .await
    {
        Err(whalet_sim::partner::CallError::Http { status, body }) => {
            assert_not_durable(status, &body, "cannot create")
        }
        other => panic!("not a 503: {other:?}"),
    }
    let (status, body) = app
        .post("/__sim/clock/advance", &json!({"seconds": 1}))
        .await;
    assert_not_durable(status, &body.to_string(), "cannot create");
    let page = app
        .http
        .get(&format!("{}/", app.url), Duration::from_secs(10))
        .await
        .unwrap();
    assert_not_durable(
        page.status,
        &String::from_utf8_lossy(&page.body),
        "cannot create",
    );
    // The export answers: the state in memory can be saved.
    let saved = String::from_utf8(export(&app, "").await).unwrap();
    assert!(saved.contains("kept.csv"), "the upload is in memory");

    // Fixed: the retry meets the change already made, now durable.
    std::fs::remove_file(dir.path().join("files")).unwrap();
    let retry = app
        .client
        .call_with("connectivity", &request_no, &body)
        .await
        .unwrap();
    assert_eq!(retry.code, "REQUEST_NO_NOT_UNIQUE", "{}", retry.detail);
    app.shutdown().await;
    let again = on_dir(dir.path()).await;
    let restored = String::from_utf8(export(&again, "").await).unwrap();
    assert!(restored.contains("kept.csv"), "the upload survived");
    again.shutdown().await;
}

/// `serve` whose last write at stop fails exits 1 and says so, rather than "stopped cleanly".
#[tokio::test]
async fn serve_exits_non_zero_when_its_last_write_fails() {
    use whalet_sim::partner::receiver::Receiver;
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::demo(Mode::Ack { fail_first: 0 }).await.unwrap();
    let (mut child, url) = serve_child(dir.path(), &receiver.url(), "serve.log").await;
    let app = remote(&url, receiver);
    std::fs::write(dir.path().join("data").join("files"), b"not a folder").unwrap();
    let (status, text) = upload_raw(&app, "lost.csv", b"x\n").await;
    assert_not_durable(status, &text, "cannot create");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let exit = child.wait().unwrap();
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert_eq!(exit.code(), Some(1), "{log}");
    assert!(
        log.contains("stopped, but the last write to the data dir failed (database ")
            && log.contains("cannot create"),
        "{log}"
    );
}

/// A refused start (its snapshot does not read) releases the lock file: the next start does
/// not take over "the lock file of a simulator that is no longer running".
#[tokio::test]
async fn a_refused_start_releases_the_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("trunc.json");
    std::fs::write(&snapshot, "{\"format\": \"whalet-sim snapshot\",").unwrap();
    let data = dir.path().join("data");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
        .args(["serve", "--addr", "127.0.0.1:0", "--sftp-addr", "off"])
        .arg("--data-dir")
        .arg(&data)
        .arg("--snapshot")
        .arg(&snapshot)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the file is corrupt or cut short"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("whalet-sim.lock")).unwrap(),
        "",
        "released"
    );
}

/// A stop records the virtual time of a scaled (or real) clock: the tester's repro, a graceful
/// restart went back to the time of the last commit.
#[tokio::test]
async fn a_stop_records_the_virtual_time_of_a_scaled_clock() {
    use whalet_sim::clock::ClockMode;
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_with(Setup {
        config: Some(data_dir_config(dir.path())),
        clock: Some(ClockMode::Scaled { scale: 0.001 }),
        ..Setup::default()
    })
    .await;
    assert_eq!(ping(&app).await, "SUCCESS");
    // 300 wall ms: 300 virtual s with nothing to commit.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = crate::whalet2_support::now_ms(&app).await;
    app.shutdown().await;
    let db = rusqlite::Connection::open(dir.path().join("whalet-sim.db")).unwrap();
    let stored: i64 = db
        .query_row("SELECT now FROM clock WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert!(
        stored >= before,
        "the stop left a time {} ms before the one it stopped at",
        before - stored
    );
    drop(db);
    let again = on_dir(dir.path()).await;
    assert!(crate::whalet2_support::now_ms(&again).await >= before);
    again.shutdown().await;
}

// ---- stored file contents ----

/// A content file under `DIR/files` that does not hold its content (cut short, changed) is a
/// start error naming it; one found so when the same content is stored again is written
/// again; a snapshot file whose `size` disagrees with its bytes is refused naming it.
#[tokio::test]
async fn a_content_file_that_does_not_match_its_digest_is_refused_or_rewritten() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let app = on_dir(dir.path()).await;
    let content = b"name,amount\nlamp,12.50\n";
    let sha = hex::encode(sha2::Sha256::digest(content));
    let stored = dir.path().join("files").join(&sha);
    crate::whalet2_support::upload(&app, "first.csv", content).await;
    // Cut short while the simulator runs: the same content stored again is written again.
    std::fs::write(&stored, b"").unwrap();
    crate::whalet2_support::upload(&app, "second.csv", content).await;
    assert_eq!(std::fs::read(&stored).unwrap(), content, "written again");

    // A snapshot whose file says another size than its bytes.
    let doc: Value = serde_json::from_slice(&export(&app, "").await).unwrap();
    let files = doc["tenants"][PARTNER]["whalet_trade"]["files"]
        .as_object()
        .unwrap();
    let id = files.keys().next().unwrap().clone();
    let mut bad = doc.clone();
    bad["tenants"][PARTNER]["whalet_trade"]["files"][&id]["size"] = json!(99);
    let (status, body) = import(&app, "", serde_json::to_vec(&bad).unwrap()).await;
    assert_eq!(status, 400, "{body}");
    let expected = format!(
        "tenants[{PARTNER:?}].whalet_trade.files[{id:?}]: size 99 disagrees with its bytes ({} \
         bytes)",
        content.len()
    );
    assert!(
        body["error"].as_str().unwrap().contains(&expected),
        "{body}"
    );
    app.shutdown().await;

    // Cut short while it was stopped: the start is refused, naming the file.
    std::fs::write(&stored, &content[..4]).unwrap();
    let refused = refused_start(dir.path()).unwrap();
    assert!(
        refused.contains(&format!(
            "file {} does not hold the content it is named after: it has 4 bytes, the row says {}",
            stored.display(),
            content.len()
        )),
        "{refused}"
    );
    std::fs::write(&stored, content).unwrap();
    assert_eq!(refused_start(dir.path()), None, "the original put back");
}

// ---- the same state gives the same bytes ----

/// An import of all state restores the notification numbering (`outbox.nextSeq`) exactly: the
/// tester's repro, notifications made after the export kept it higher, so export → import →
/// export differed.
#[tokio::test]
async fn an_import_of_all_state_restores_the_notification_numbering() {
    let app = spawn_app().await;
    let (user_id, card_id) = settled_user(&app, "seq", "5.00").await;
    let first = export(&app, "").await;
    expect(
        &app,
        "mockPayeeNotify",
        json!({"userId": user_id, "cardId": card_id, "amount": "1.00", "currency": "USD",
               "payerName": "Amazon Payments, Inc."}),
        "SUCCESS",
    )
    .await;
    app.advance(5.0).await; // settled and notified: one more notification
    let (status, body) = import(&app, "", first.clone()).await;
    assert_eq!(status, 200, "{body}");
    let second = export(&app, "").await;
    assert_same_bytes(&first, &second, "export → import → export differs");
    app.shutdown().await;
}

/// Imports `doc` into `app`, expecting a 400 whose message contains `expected` and no change
/// (the export is still `before`); `what` names the case.
async fn refused_unchanged(app: &TestApp, before: &[u8], what: &str, doc: &Value, expected: &str) {
    let (status, body) = import(app, "", serde_json::to_vec(doc).unwrap()).await;
    assert_eq!(status, 400, "{what}: {body}");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains(expected),
        "{what}: {message}\nexpected: {expected}"
    );
    assert!(
        export(app, "").await == before,
        "{what}: the refused import changed the state"
    );
}

/// A tenant's id counter below the number an id it minted carries is refused, naming the
/// smallest value that fits: the next id minted would be that id again and overwrite the
/// object (the tester's repro: `sequence = 0`, then `whalet.account.ready` replaced a user and
/// took its wallet). The counter the export has imports.
#[tokio::test]
async fn an_id_counter_below_the_ids_minted_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.trigger_ok("whalet.account.ready", json!({})).await;
    let before = export(&app, "").await;
    let good: Value = serde_json::from_slice(&before).unwrap();
    let state = &good["tenants"][PARTNER];
    let sequence = state["sequence"].as_u64().unwrap();
    let user_id = state["whalet"]["users"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let carried: u64 = user_id[user_id.len() - 8..].parse().unwrap();
    assert!(carried <= sequence && sequence >= 3, "{sequence} {user_id}");
    let tenant = format!("tenants[{PARTNER:?}]");
    for low in [0, sequence - 1] {
        let mut doc = good.clone();
        doc["tenants"][PARTNER]["sequence"] = json!(low);
        let expected =
            format!("{tenant}.sequence: {low} is below {sequence}, the number {tenant}.whalet.");
        refused_unchanged(&app, &before, &format!("sequence {low}"), &doc, &expected).await;
        let (_, body) = import(&app, "", serde_json::to_vec(&doc).unwrap()).await;
        let message = body["error"].as_str().unwrap();
        assert!(
            message.ends_with(&format!("set it to {sequence} or more")),
            "{message}"
        );
    }
    let (status, body) = import(&app, "", before.clone()).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

/// A field of the wrong type is refused naming its path inside the document, not only the
/// tenant (the tester's repros: a balance's `minor` as a string, `sequence = -1`, `now`,
/// a timer's `due`, `timers = null`, a notification's status, `outbox.nextSeq = -1`).
#[tokio::test]
async fn a_field_of_the_wrong_type_is_refused_naming_its_path() {
    let app = spawn_app().await;
    settled_user(&app, "typed", "10.00").await;
    let before = export(&app, "").await;
    let good: Value = serde_json::from_slice(&before).unwrap();
    let tenant = format!("tenants[{PARTNER:?}]");
    let cases: Vec<(String, Value, String)> = vec![
        (
            format!("/tenants/{PARTNER}/ledger/balances/1/minor"),
            json!("58000"),
            format!(
                "{tenant}.ledger.balances[1].minor: invalid type: string \"58000\", expected i64"
            ),
        ),
        (
            format!("/tenants/{PARTNER}/sequence"),
            json!(-1),
            format!("{tenant}.sequence: invalid value: integer `-1`, expected u64"),
        ),
        (
            "/now".into(),
            json!("x"),
            "now: invalid type: string \"x\"".into(),
        ),
        (
            "/timers".into(),
            Value::Null,
            "timers: invalid type: null, expected a sequence".into(),
        ),
        (
            "/outbox/nextSeq".into(),
            json!(-1),
            "outbox.nextSeq: invalid value: integer `-1`".into(),
        ),
        (
            "/outbox/notifications/0/status".into(),
            json!("bogus"),
            "outbox.notifications[0].status: unknown variant `bogus`".into(),
        ),
    ];
    for (pointer, value, expected) in cases {
        let mut doc = good.clone();
        *doc.pointer_mut(&pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = value;
        refused_unchanged(&app, &before, &pointer, &doc, &expected).await;
    }
    app.shutdown().await;
}

/// A timer that could never act is refused, naming it, and so is a pending object that only a
/// timer settles and that comes without one (docs/PERSISTENCE.md): a timer of a tenant the
/// document does not hold, one whose key names no object, an SFTP processing timer whose
/// generation is not its upload's, and a PROCESSING upload with no timer at all. With its own
/// timer, the upload imports.
#[tokio::test]
async fn a_timer_that_cannot_act_or_a_pending_upload_without_one_is_refused() {
    let app = spawn_app().await;
    apply_user(&app, "timers").await;
    let before = export(&app, "").await;
    let good: Value = serde_json::from_slice(&before).unwrap();
    let review = good["timers"][0].clone();
    assert_eq!(review["kind"], "whalet.review", "{}", good["timers"]);
    let infinia = good["tenants"]
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.starts_with("infinia:"))
        .unwrap()
        .clone();
    let upload = json!({"fileName": "a.csv", "status": "PROCESSING", "receivedAt": good["now"],
        "processedAt": null, "totalRows": 0, "successRows": 0, "failedRows": 0,
        "errorFile": null, "reason": null, "generation": 1});
    let process = |generation: u64, key: &str| {
        json!({"due": good["now"].as_i64().unwrap() + 5000, "label": "p", "kind":
            "infinia.sftp.process", "tenant": infinia, "key": key,
            "params": {"generation": generation, "failure": null, "rule": null}})
    };
    let with = |timers: Value, uploaded: bool| {
        let mut doc = good.clone();
        doc["timers"] = timers;
        if uploaded {
            let state = &mut doc["tenants"][&infinia];
            state["infinia"]["uploads"] = json!({"a.csv": upload});
            state["sequence"] = json!(1);
        }
        doc
    };
    let mut stranger = review.clone();
    stranger["tenant"] = json!("whalet:999");
    let uploads = format!("tenants[{infinia:?}].infinia.uploads");
    let cases = [
        (
            "tenant",
            with(json!([stranger]), false),
            "timers[0] (".to_owned(),
            "): tenant \"whalet:999\" is not one of the document's tenants".to_owned(),
        ),
        (
            "key",
            with(json!([process(1, "b.csv")]), true),
            "timers[0] (\"p\"): key \"b.csv\" names no object of ".to_owned(),
            format!("{uploads}; the timer would find nothing to act on"),
        ),
        (
            "generation",
            with(json!([process(2, "a.csv")]), true),
            "timers[0] (\"p\"): params.generation 2 is beyond the generation of ".to_owned(),
            format!("{uploads}[\"a.csv\"] (1)"),
        ),
        (
            "no timer",
            with(json!([]), true),
            format!("{uploads}[\"a.csv\"]: PROCESSING without the timer that processes it"),
            String::new(),
        ),
    ];
    for (what, doc, head, tail) in cases {
        refused_unchanged(&app, &before, what, &doc, &head).await;
        if !tail.is_empty() {
            refused_unchanged(&app, &before, what, &doc, &tail).await;
        }
    }
    let paired = with(json!([process(1, "a.csv")]), true);
    let (status, body) = import(&app, "", serde_json::to_vec(&paired).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

/// Regression: a snapshot could bring a Pockyt balance in a currency pay never pays in (money
/// no payout could take out), though the funding trigger, the balance query and the starting
/// balances refuse one.
#[tokio::test]
async fn a_pockyt_balance_outside_the_payout_currencies_is_refused_at_import() {
    let app = spawn_app().await;
    app.trigger_ok(
        "pockyt.balance.funded",
        json!({"currency": "CNY", "amount": "1.00"}),
    )
    .await;
    let query = "?tenant=pockyt:202333";
    let before = export(&app, query).await;
    let text = String::from_utf8(before.clone())
        .unwrap()
        .replace("merchant:CNY:", "merchant:EUR:")
        .replace("\"CNY\"", "\"EUR\"");
    let (status, body) = import(&app, query, text.into_bytes()).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("account \"merchant:EUR:available\": EUR is not a payout currency"),
        "{error}"
    );
    assert_eq!(export(&app, query).await, before, "state unchanged");
    app.shutdown().await;
}

/// A notification id that is not `ntf_<number>` is refused naming its place in the document.
#[tokio::test]
async fn a_notification_id_of_another_form_is_named_by_its_place() {
    let app = spawn_app().await;
    settled_user(&app, "nid", "1.00").await;
    let before = export(&app, "").await;
    let mut doc: Value = serde_json::from_slice(&before).unwrap();
    doc["outbox"]["notifications"][0]["id"] = json!("ntf_x");
    let (status, body) = import(&app, "", serde_json::to_vec(&doc).unwrap()).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("outbox.notifications[0]: id \"ntf_x\" is not ntf_<number>"),
        "{error}"
    );
    assert_eq!(export(&app, "").await, before, "state unchanged");
    app.shutdown().await;
}

/// Regression: an all-state snapshot's notification of a tenant neither in the snapshot nor
/// configured was imported and tried to exhaustion; it is refused, naming it, and nothing
/// changes. A configured tenant left out of the snapshot's tenants still takes its own.
#[tokio::test]
async fn a_notification_of_no_known_tenant_is_refused_at_import() {
    let app = spawn_app().await;
    settled_user(&app, "ntn", "1.00").await;
    let before = export(&app, "").await;
    let mut doc: Value = serde_json::from_slice(&before).unwrap();
    let tenant = doc["outbox"]["notifications"][0]["tenant"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut stranger = doc.clone();
    stranger["outbox"]["notifications"][0]["tenant"] = json!("whalet:999999999");
    let (status, body) = import(&app, "", serde_json::to_vec(&stranger).unwrap()).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("outbox.notifications[0]: notification ntf_")
            && error.contains("is of tenant whalet:999999999, which is neither among the snapshot's tenants nor configured here"),
        "{error}"
    );
    assert_eq!(export(&app, "").await, before, "state unchanged");
    doc["tenants"].as_object_mut().unwrap().remove(&tenant);
    let (status, body) = import(&app, "", serde_json::to_vec(&doc).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

/// Turns the stopped data directory `dir` back into what a version 1 database looked like:
/// none of the tables version 2 added, no scenario state, `user_version` 1.
pub(crate) fn to_version_1(dir: &std::path::Path) {
    let db = rusqlite::Connection::open(dir.join("whalet-sim.db")).unwrap();
    for table in [
        "timers",
        "authorizations",
        "scenarios",
        "scenario_counters",
        "journal",
    ] {
        db.execute(&format!("DROP TABLE {table}"), []).unwrap();
    }
    db.execute("DELETE FROM meta WHERE key = 'scenario_state'", [])
        .unwrap();
    db.pragma_update(None, "user_version", 1).unwrap();
}
