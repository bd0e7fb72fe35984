//! Snapshot imports and data-directory starts refuse what they would not keep as given
//! (docs/PERSISTENCE.md, "Versioning and bad input"): balances other than their postings' sums,
//! a sequence that leaves no number for the next id, a key given twice, an object under a key
//! other than its id; parse errors say what is wrong; pending timers due at the same instant
//! start after an import or a restart in the order they were scheduled.

use serde_json::{json, Value};

use crate::helpers::{bin, repo_path, spawn_app, TestApp};
use crate::persistence::{export, import, on_dir_with, refused_start};
use crate::whalet_support::*;

const USER: &str = "U2025010100000001";

/// F: the fixture of all state (the demo partner with an onboarded user and 1,000.00 USD).
fn fixture() -> Value {
    let text = std::fs::read_to_string(repo_path("fixtures/onboarded-user.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn text(doc: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(doc).unwrap()
}

/// An app holding F, and F's text as it exported it.
async fn with_fixture() -> (TestApp, Vec<u8>) {
    let app = spawn_app().await;
    let (status, body) = import(&app, "", text(&fixture())).await;
    assert_eq!(status, 200, "{body}");
    let before = export(&app, "").await;
    (app, before)
}

/// `bytes` imported into an app holding F are refused with a 400 whose error contains every
/// one of `needles`, and the app's state is F's still.
async fn refused_over_fixture(bytes: Vec<u8>, needles: &[&str]) -> String {
    let (app, before) = with_fixture().await;
    let (status, body) = import(&app, "", bytes).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap().to_owned();
    for needle in needles {
        assert!(error.contains(needle), "{needle:?} not in {error}");
    }
    assert!(
        before == export(&app, "").await,
        "a refused import changed the state"
    );
    app.shutdown().await;
    error
}

fn whalet(doc: &mut Value) -> &mut Value {
    &mut doc["tenants"][PARTNER]
}

/// Regression (HIGH): a wallet balance raised from 1000.00 to 5000.00 with the postings left
/// as they were was imported, and the simulator served money no posting brought.
#[tokio::test]
async fn balances_that_disagree_with_their_postings_are_refused_before_anything_changes() {
    let mut doc = fixture();
    let balances = whalet(&mut doc)["ledger"]["balances"]
        .as_array_mut()
        .unwrap();
    let account = format!("wallet:{USER}:B2C:available");
    let i = balances
        .iter()
        .position(|b| b["account"] == account.as_str())
        .unwrap();
    balances[i]["minor"] = json!(500000);
    balances[i]["amount"] = json!("5000.00");
    let at = format!("tenants[\"{PARTNER}\"].ledger.balances[{i}]");
    refused_over_fixture(
        text(&doc),
        &[
            &at,
            &format!("{account:?}"),
            "5000.00 USD (minor 500000)",
            "its postings sum to 1000.00 USD (minor 100000)",
        ],
    )
    .await;
}

/// Regression: a sequence near `u64::MAX` was imported, and the next id minted panicked. A
/// sequence that leaves no 8-digit number for the next id is refused at import and at a data
/// directory's start; the largest one accepted mints its next id.
#[tokio::test]
async fn a_sequence_that_leaves_no_number_for_the_next_id_is_refused_at_import_and_start() {
    for given in [u64::MAX, 99_999_999] {
        let mut doc = fixture();
        whalet(&mut doc)["sequence"] = json!(given);
        refused_over_fixture(
            text(&doc),
            &[
                &format!(
                    "tenants[\"{PARTNER}\"].sequence: {given} leaves no number for the next id"
                ),
                "give a sequence below 99999999",
            ],
        )
        .await;
    }
    let mut doc = fixture();
    whalet(&mut doc)["sequence"] = json!(99_999_998);
    let app = spawn_app().await;
    let (status, body) = import(&app, "", text(&doc)).await;
    assert_eq!(status, 200, "{body}");
    let user_id = apply_user(&app, "last-of-the-sequence").await;
    assert!(user_id.ends_with("99999999"), "{user_id}");
    app.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let app = on_dir_with(dir.path(), None).await;
    apply_user(&app, "stored-sequence").await;
    app.shutdown().await;
    let db = rusqlite::Connection::open(dir.path().join("whalet-sim.db")).unwrap();
    db.execute(
        "UPDATE tenants SET sequence = 99999999 WHERE tenant = ?1",
        [PARTNER],
    )
    .unwrap();
    drop(db);
    let e = refused_start(dir.path()).expect("the start is refused");
    assert!(
        e.contains(&format!(
            "tenants[\"{PARTNER}\"].sequence: 99999999 leaves no number for the next id"
        )),
        "{e}"
    );
}

/// `doc`'s pretty text with `extra` inserted right after the first occurrence of `after`.
fn with_inserted(doc: &Value, after: &str, extra: &str) -> Vec<u8> {
    let text = String::from_utf8(text(doc)).unwrap();
    let at = text.find(after).unwrap() + after.len();
    format!("{}{extra}{}", &text[..at], &text[at..]).into_bytes()
}

/// Regression: a key given twice was read as its last copy (a second `now`, a second
/// `sequence`, a tenant given twice with the first copy dropped), and a requestNo listed twice
/// was kept once. Each is refused naming its path.
#[tokio::test]
async fn a_key_given_twice_and_a_request_no_listed_twice_are_refused_naming_the_path() {
    let doc = fixture();
    let twice = " is given twice in its object; give each key once";
    let now = doc["now"].as_i64().unwrap();
    refused_over_fixture(
        with_inserted(
            &doc,
            "\"scope\": \"all\",",
            &format!("\"now\": {},", now + 1),
        ),
        &["snapshot (request body): now is given twice", twice],
    )
    .await;
    let tenant = format!("\"{PARTNER}\": {{");
    refused_over_fixture(
        with_inserted(&doc, &tenant, "\"sequence\": 999,"),
        &[&format!("tenants[\"{PARTNER}\"].sequence{twice}")],
    )
    .await;
    let pockyt = serde_json::to_string(&doc["tenants"]["pockyt:202333"]).unwrap();
    refused_over_fixture(
        with_inserted(
            &doc,
            "\"tenants\": {",
            &format!("\"pockyt:202333\": {pockyt},"),
        ),
        &[&format!("tenants[\"pockyt:202333\"]{twice}")],
    )
    .await;

    let mut doc = fixture();
    whalet(&mut doc)["request_nos"] = json!(["r1", "r2", "r3", "r4", "r2"]);
    refused_over_fixture(
        text(&doc),
        &[&format!(
            "tenants[\"{PARTNER}\"].request_nos[4]: requestNo \"r2\" is also request_nos[1]"
        )],
    )
    .await;

    // `serve --snapshot` reads the file with the same check.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("twice.json");
    let doc = fixture();
    std::fs::write(
        &file,
        with_inserted(
            &doc,
            "\"tenants\": {",
            &format!("\"pockyt:202333\": {pockyt},"),
        ),
    )
    .unwrap();
    let out = bin()
        .args(["serve", "--addr", "127.0.0.1:0", "--sftp-addr", "off"])
        .arg("--snapshot")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("tenants[\"pockyt:202333\"]{twice}")),
        "{stderr}"
    );
}

/// Regression: a user moved under another key (its `user_id` left as it was) was imported,
/// out of reach of every lookup by its id, its money with it.
#[tokio::test]
async fn an_object_under_a_key_other_than_its_id_is_refused_naming_key_and_id() {
    let mut doc = fixture();
    let users = whalet(&mut doc)["whalet"]["users"].as_object_mut().unwrap();
    let user = users.remove(USER).unwrap();
    users.insert("U2099".into(), user);
    refused_over_fixture(
        text(&doc),
        &[&format!(
            "tenants[\"{PARTNER}\"].whalet.users[\"U2099\"]: the key disagrees with the \
             object's user_id \"{USER}\""
        )],
    )
    .await;
}

/// Regression: a document nested 200,000 deep was called corrupt or cut short, and an integer
/// past 64 bits "invalid type: floating point". Each message says what is wrong.
#[tokio::test]
async fn parse_errors_say_what_is_wrong() {
    let app = spawn_app().await;
    let deep = "[".repeat(200_000).into_bytes();
    let (status, body) = import(&app, "", deep).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("nested too deeply: more than 128 arrays or objects inside one another")
            && !error.contains("corrupt"),
        "{error}"
    );
    let text = String::from_utf8(text(&fixture())).unwrap();
    let huge = text.replacen("\"sequence\": 4", "\"sequence\": 18446744073709551616", 1);
    assert_ne!(huge, text);
    let (status, body) = import(&app, "", huge.into_bytes()).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("tenants[\"{PARTNER}\"].sequence: the number "))
            && error.contains(
                "is out of range: this field takes a whole number from 0 to 18446744073709551615"
            ),
        "{error}"
    );
    let beyond = text.replacen("\"sequence\": 4", "\"sequence\": 1e400", 1);
    let (status, body) = import(&app, "", beyond.into_bytes()).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("is out of range") && !error.contains("corrupt"),
        "{error}"
    );
    app.shutdown().await;
}

/// The notifications created after the instant the two timers fall due, oldest first:
/// (topic, businessId).
async fn created_since(app: &TestApp, before: &[String]) -> Vec<(String, String)> {
    let list = app.get_json("/__sim/notifications").await;
    let mut new: Vec<&Value> = list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| !before.contains(&n["id"].as_str().unwrap().to_owned()))
        .collect();
    new.sort_by_key(|n| n["id"].as_str().unwrap().to_owned());
    new.iter()
        .map(|n| {
            (
                n["topic"].as_str().unwrap_or("").to_owned(),
                n["businessId"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn ids(app: &TestApp) -> Vec<String> {
    let list = app.get_json("/__sim/notifications").await;
    list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

/// An onboarding review (60 s) scheduled first, then 55 s later a collection whose settling
/// (5 s) falls due at the same instant: returns the notification ids so far.
async fn two_timers_due_together(app: &TestApp) -> Vec<String> {
    let (user_id, _, card) = b2c_ready(app, "order", "USD").await;
    let card_id = card["cardId"].as_str().unwrap().to_owned();
    apply_user(app, "order-review").await;
    app.advance(55.0).await;
    expect(
        app,
        "mockPayeeNotify",
        json!({"userId": user_id, "cardId": card_id, "amount": "10.00", "currency": "USD"}),
        "SUCCESS",
    )
    .await;
    ids(app).await
}

/// Regression: after an import or a data-directory restart, timers due at the same instant
/// ran in an order of what they are (kind, tenant, key) rather than the order they were
/// scheduled in (docs/SCENARIOS.md, "Seeds and determinism"): the collection's settling came
/// before the review scheduled 55 s earlier.
#[tokio::test]
async fn timers_due_together_keep_their_scheduling_order_through_import_and_restart() {
    let straight = spawn_app().await;
    let before = two_timers_due_together(&straight).await;
    let snapshot = export(&straight, "").await;
    straight.advance(10.0).await;
    let expected = created_since(&straight, &before).await;
    straight.shutdown().await;
    let topics: Vec<&str> = expected.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(topics.len(), 2, "{expected:?}");

    let imported = spawn_app().await;
    let (status, body) = import(&imported, "", snapshot.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        snapshot == export(&imported, "").await,
        "export → import → export differs"
    );
    imported.advance(10.0).await;
    assert_eq!(
        created_since(&imported, &before).await,
        expected,
        "after an import"
    );
    imported.shutdown().await;
    // A document lists timers due together in the order they start: an import keeps it.
    let mut doc: Value = serde_json::from_slice(&snapshot).unwrap();
    let timers = doc["timers"].as_array_mut().unwrap();
    assert_eq!(timers.len(), 2, "{timers:?}");
    assert_eq!(timers[0]["due"], timers[1]["due"]);
    timers.reverse();
    let reversed = spawn_app().await;
    let (status, body) = import(&reversed, "", text(&doc)).await;
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_slice(&export(&reversed, "").await).unwrap();
    assert_eq!(listed["timers"], doc["timers"], "the listed order is kept");
    reversed.advance(10.0).await;
    let topics =
        |list: &[(String, String)]| list.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>();
    let mut swapped = topics(&expected);
    swapped.reverse();
    assert_eq!(
        topics(&created_since(&reversed, &before).await),
        swapped,
        "timers run in the order listed"
    );
    reversed.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let first = on_dir_with(dir.path(), None).await;
    let before = two_timers_due_together(&first).await;
    first.shutdown().await;
    let again = on_dir_with(dir.path(), None).await;
    again.advance(10.0).await;
    assert_eq!(
        created_since(&again, &before).await,
        expected,
        "after a restart"
    );
    again.shutdown().await;
}
