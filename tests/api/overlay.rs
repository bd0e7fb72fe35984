//! Contract overlays (docs/CONTRACTS.md): a refusal that lists a status field's values lists
//! the partner's words, as the operation listing does, and a word it lists is accepted; a fixed
//! field (`extra`) on or under a field the simulator sends is refused when the overlay is
//! loaded, in a reply and in a notification, as a rename there is.

use serde_json::Value;
use whalet_sim::config::Config;
use whalet_sim::{App, Options};

use crate::helpers::{bin, spawn_with, Setup, TestApp};

/// The simulator with `overlay` as the default contract (kept in `dir`).
async fn with_overlay(dir: &tempfile::TempDir, overlay: &str) -> TestApp {
    let file = dir.path().join("o.toml");
    std::fs::write(&file, overlay).unwrap();
    spawn_with(Setup {
        config: Some(format!("[contract]\nfile = \"{}\"\n", file.display())),
        ..Setup::default()
    })
    .await
}

/// The error loading `overlay` gives, and the file it was written to.
fn refused(overlay: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("o.toml");
    std::fs::write(&file, overlay).unwrap();
    let config = Config::parse(&format!("[contract]\nfile = \"{}\"\n", file.display())).unwrap();
    match App::new(config, Options::default()) {
        Ok(_) => panic!("{overlay:?} should be refused"),
        Err(e) => (format!("{e:#}"), file.display().to_string()),
    }
}

/// The values the listing shows for `operation`'s `status` field.
async fn listed_status_words(app: &TestApp, operation: &str) -> Vec<String> {
    let all = app.get_json("/__sim/operations?surface=whalet").await;
    let op = all["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == operation)
        .unwrap_or_else(|| panic!("{operation} listed"))
        .clone();
    let status = op["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "status")
        .unwrap_or_else(|| panic!("{operation} lists status: {op}"))
        .clone();
    status["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect()
}

/// The status words of collectionQuery turned into the partner's, one of them onto a word the
/// simulator uses itself (its PENDING is the partner's SUCCESS).
const COLLECTION_WORDS: &str =
    "status = { PENDING = \"SUCCESS\", SUCCESS = \"SETTLED\", FAILURE = \"BOUNCED\" }\n";

/// Sends collectionQuery with a status word nobody uses: the refusal lists the same values as
/// the listing (the partner's words, none of the simulator's it turns), and each of them is
/// accepted. `user` names the field the user id goes in.
async fn refusal_lists_the_partners_words(app: &TestApp, user: &str) {
    let listed = listed_status_words(app, "collectionQuery").await;
    assert!(!listed.iter().any(|w| w == "PENDING"), "{listed:?}");
    let query = |status: &str| serde_json::json!({ user: "U2025010100000001", "status": status });
    let reply = app
        .client
        .call("collectionQuery", &query("NOPE"))
        .await
        .unwrap();
    assert_eq!(reply.code, "PARAMETER_ERROR", "{}", reply.detail);
    assert!(
        reply
            .detail
            .contains(&format!("must be one of {}, got", listed.join(", "))),
        "the listing's words {listed:?}: {}",
        reply.detail
    );
    assert!(!reply.detail.contains("PENDING"), "{}", reply.detail);
    for word in &listed {
        let reply = app
            .client
            .call("collectionQuery", &query(word))
            .await
            .unwrap();
        assert_ne!(reply.code, "PARAMETER_ERROR", "{word}: {}", reply.detail);
    }
}

/// With the user id field renamed too (so the refusal's field names are the partner's).
#[tokio::test]
async fn a_refusal_lists_a_status_fields_values_in_the_partners_words() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = format!(
        "[whalet.collectionQuery]\n{COLLECTION_WORDS}rename_request = {{ customerId = \"userId\" }}\n"
    );
    let app = with_overlay(&dir, &overlay).await;
    refusal_lists_the_partners_words(&app, "customerId").await;
    app.shutdown().await;
}

/// With status words only (no field renamed): the pipeline must hand the refusal to the
/// overlay whenever it can change it (`OperationOverlay::rewrites_messages`), not only when it
/// renames request fields.
#[tokio::test]
async fn a_refusal_lists_the_partners_status_words_with_no_field_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = format!("[whalet.collectionQuery]\n{COLLECTION_WORDS}");
    let app = with_overlay(&dir, &overlay).await;
    refusal_lists_the_partners_words(&app, "userId").await;
    app.shutdown().await;
}

/// A fixed field onto a field a rename moves there, under one sent as a plain value, onto an
/// array the reply sends, or onto a notification's field is refused with its file and line,
/// by `serve` and by `contract dump` alike.
#[test]
fn an_extra_field_on_or_under_a_sent_field_is_refused_at_load() {
    let cases = [
        (
            "[whalet.userOnboardingApply]\nrename_reply = { userId = \"customerId\" }\nextra = { \"customerId\" = \"FIXED\" }\n",
            3,
            "extra sets \"customerId\", where rename_reply moves \"userId\"",
        ),
        (
            "[whalet.userOnboardingApply]\nextra = { \"outUserId.x\" = \"y\" }\n",
            2,
            "under \"outUserId\", which is a plain value",
        ),
        (
            "[pockyt.\"/v3/payee/payout-accounts\"]\nextra = { \"accounts\" = \"x\" }\n",
            2,
            "extra sets \"accounts\", a field the simulator already sends there",
        ),
        (
            "[notification.\"whalet.benificiaryAccountNotify\"]\nextra = { \"userId\" = \"U\" }\n",
            2,
            "extra sets \"userId\", a field the simulator already sends there",
        ),
    ];
    for (overlay, line, needle) in cases {
        let (err, file) = refused(overlay);
        assert!(err.contains(&format!("{file}:{line}: ")), "{err}");
        assert!(err.contains(needle), "{overlay:?}: {err}");
        assert!(err.contains("choose another name"), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("o.toml");
    std::fs::write(&file, cases[0].0).unwrap();
    let out = bin()
        .args([
            "contract",
            "dump",
            "--contract",
            &file.display().to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "contract dump refuses it too");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(cases[0].2), "{stderr}");
}

/// A fixed field beside what the simulator sends, or where a field renamed away was, is set in
/// the reply, and what the simulator sent is all there.
#[tokio::test]
async fn an_extra_field_beside_the_sent_ones_is_set_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = "[whalet.userOnboardingApply]\nrename_reply = { userId = \"customerId\" }\nextra = { userId = \"FIXED\", \"meta.source\" = \"SIM\" }\n";
    let app = with_overlay(&dir, overlay).await;
    let reply = app
        .client
        .call(
            "userOnboardingApply",
            &crate::whalet_support::onboarding("m-1", "Example Trading"),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "PROCESSING", "{}", reply.detail);
    let body = reply.body.unwrap_or(Value::Null);
    assert_eq!(body["userId"], "FIXED", "{body}");
    assert_eq!(body["meta"]["source"], "SIM", "{body}");
    assert!(
        body["customerId"].as_str().is_some_and(|id| id != "FIXED"),
        "the simulator's user id: {body}"
    );
    assert_eq!(body["outUserId"], "m-1", "{body}");
    app.shutdown().await;
}
