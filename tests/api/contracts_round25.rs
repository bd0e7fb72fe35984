//! Contract overlays, round 25 (docs/CONTRACTS.md): renames under a field renamed away keep
//! every value whatever the order of the lines, and the load refuses one under a field the
//! simulator sends as a plain value; an Infinia field the overlay requires is refused in SYS-004
//! (the code of a missing field); a mistake names the line of its own key; an overlay cannot
//! write a Pockyt reply's `ret_code` / `ret_msg`; `extra` applies to replies that carry a body.

use serde_json::{json, Value};
use whalet_sim::config::Config;
use whalet_sim::{App, Options};

use crate::helpers::{spawn_with, Setup, TestApp};
use crate::infinia::support::{Merchant, SFTP_CONFIG};
use crate::whalet_support::{onboarding, received};

/// The simulator with `overlay` as the default contract (kept in `dir`).
async fn with_overlay(dir: &tempfile::TempDir, overlay: &str, more: &str) -> TestApp {
    let file = dir.path().join("r.toml");
    std::fs::write(&file, overlay).unwrap();
    spawn_with(Setup {
        config: Some(format!("{more}[contract]\nfile = \"{}\"\n", file.display())),
        ..Setup::default()
    })
    .await
}

/// The error loading `overlay` gives.
fn refused(overlay: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.toml");
    std::fs::write(&file, overlay).unwrap();
    let config = Config::parse(&format!("[contract]\nfile = \"{}\"\n", file.display())).unwrap();
    match App::new(config, Options::default()) {
        Ok(_) => panic!("{overlay:?} should be refused"),
        Err(e) => (format!("{e:#}"), file.display().to_string()),
    }
}

/// Every string value of `v`, at any depth.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

/// A rename under a field that another line renames away: the reply keeps both values in
/// either order of the lines (it once lost the field whose target sorted under the other).
#[tokio::test]
async fn a_reply_rename_under_a_field_renamed_away_keeps_every_value_in_any_order() {
    for (renames, nested, moved) in [
        (
            "{ outUserId = \"userId.x\", userId = \"uid\" }",
            "userId",
            "uid",
        ),
        (
            "{ userId = \"outUserId.x\", outUserId = \"ouid\" }",
            "outUserId",
            "ouid",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let overlay = format!("[whalet.userOnboardingApply]\nrename_reply = {renames}\n");
        let app = with_overlay(&dir, &overlay, "").await;
        let reply = app
            .client
            .call("userOnboardingApply", &onboarding("m-1", "Example Trading"))
            .await
            .unwrap();
        assert_eq!(reply.code, "PROCESSING", "{}", reply.detail);
        let body = reply.body.unwrap();
        assert!(body[nested]["x"].is_string(), "{renames}: {body}");
        assert!(body[moved].is_string(), "{renames}: {body}");
        let mut values = Vec::new();
        strings(&body, &mut values);
        assert!(values.contains(&"m-1".to_owned()), "{renames}: {body}");
        assert!(
            values.iter().any(|v| v.starts_with('U')),
            "{renames}: {body}"
        );
        app.shutdown().await;
    }
}

/// The same for a notification: the delivered (signed) body keeps the field renamed under a
/// field renamed away.
#[tokio::test]
async fn a_notification_rename_under_a_field_renamed_away_is_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = "[notification.\"whalet.userOnboardingResultNotify\"]\nrename = { reMaterial = \"userId.reMaterial\", userId = \"uid\" }\n";
    let app = with_overlay(&dir, overlay, "").await;
    let reply = app
        .client
        .call("userOnboardingApply", &onboarding("m-2", "Example Trading"))
        .await
        .unwrap();
    let user_id = reply.body.unwrap()["userId"].as_str().unwrap().to_owned();
    app.advance(60.0).await;
    app.wait_notification("apiCode=userOnboardingResultNotify")
        .await;
    let notes = received(&app, "userOnboardingResultNotify");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["uid"], user_id.as_str(), "{}", notes[0]);
    assert_eq!(notes[0]["userId"]["reMaterial"], "N", "{}", notes[0]);
    app.shutdown().await;
}

/// A reply or notification rename under a field the simulator sends as a plain value, which
/// no line renames away, is refused when the overlay is loaded, naming the line of the rename.
#[test]
fn a_rename_under_a_plain_value_the_simulator_sends_is_refused_at_load() {
    let cases = [
        ("[whalet.userOnboardingApply]\n\nrename_reply = { userId = \"status.id\" }\n", 3, "under \"status\", which is a plain value"),
        ("[whalet.userOnboardingApply]\nrename_reply = { outUserId = \"userId.x\" }\n", 2, "rename \"userId\" away too"),
        ("[notification.\"whalet.userOnboardingResultNotify\"]\nrename = { reMaterial = \"userId.reMaterial\" }\n", 2, "under \"userId\", which is a plain value"),
    ];
    for (overlay, line, needle) in cases {
        let (err, file) = refused(overlay);
        assert!(
            err.contains(&format!("{file}:{line}: ")),
            "{overlay:?}: {err}"
        );
        assert!(err.contains(needle), "{overlay:?}: {err}");
    }
}

/// A field an overlay requires is refused on Infinia in SYS-004, the code its handlers answer
/// for a missing or null field (it was SYS-002, "invalid request parameters").
#[tokio::test]
async fn an_infinia_field_the_overlay_requires_is_refused_in_sys_004() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = "[infinia.\"account-balance/query\"]\nrequired = [\"foo\"]\n";
    let app = with_overlay(&dir, overlay, SFTP_CONFIG).await;
    let m = Merchant::demo();
    for data in [json!({}), json!({"foo": null})] {
        let reply = m.call(&app, "account-balance/query", &data).await;
        assert_eq!(reply.code, "SYS-004", "{data}: {}", reply.message);
        assert!(
            reply.message.contains("foo is required"),
            "{}",
            reply.message
        );
    }
    let ok = m
        .call(&app, "account-balance/query", &json!({"foo": "x"}))
        .await;
    assert_eq!(ok.code, "SUC-200", "{}", ok.message);
    app.shutdown().await;
}

/// A mistake names the line of the key it is about, not an earlier line where the same word
/// is written nor the table's header.
#[test]
fn a_load_error_names_the_line_of_its_own_key() {
    let cases = [
        ("[whalet.userOnboardingApply]\nextra = { code = 1 }\ncode = \"DONE\"\n", 3, "is not a sync success code"),
        ("[whalet.userOnboardingApply]\nstatus = { PROCESSING = \"X\" }\nrename_reply = { status = \"userId\" }\n", 3, "already sends there"),
        ("[whalet.userOnboardingApply]\nrequired = [\"email\"]\nstatus = { \"\" = \"X\" }\n", 3, "a status word cannot be empty"),
        ("[whalet.userOnboardingApply]\nrequired = [\"email\"]\nextra = { \"\" = 1 }\n", 3, "is not a field path"),
    ];
    for (overlay, line, needle) in cases {
        let (err, file) = refused(overlay);
        assert!(
            err.contains(&format!("{file}:{line}: ")),
            "{overlay:?}: {err}"
        );
        assert!(err.contains(needle), "{overlay:?}: {err}");
    }
}

/// `extra` and renames cannot write a Pockyt reply's `ret_code` / `ret_msg` (the overlay would
/// answer its own result) nor an IPN's `verifySign`.
#[test]
fn an_overlay_cannot_write_the_pockyt_envelope_keys() {
    let cases = [
        ("[pockyt.\"/v3/payee/retrieve\"]\nextra = { ret_code = \"999999\", ret_msg = \"overlay\" }\n", "extra sets \"ret_code\""),
        ("[pockyt.\"/v3/payee/retrieve\"]\nrename_reply = { customerNo = \"ret_msg\" }\n", "to \"ret_msg\", but ret_msg is the reply's result"),
        ("[notification.\"pockyt.payout\"]\nextra = { verifySign = \"x\" }\n", "the IPN's signature"),
    ];
    for (overlay, needle) in cases {
        let (err, file) = refused(overlay);
        assert!(err.contains(&format!("{file}:2: ")), "{overlay:?}: {err}");
        assert!(err.contains(needle), "{overlay:?}: {err}");
    }
}

/// `extra` applies to replies that carry a body: a head-only `connectivity` reply
/// (`responseFlag` N) stays head-only and signed, one with a body gets the field.
#[tokio::test]
async fn extra_applies_to_replies_that_carry_a_body() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = "[whalet.connectivity]\nextra = { env = \"SIM\" }\n";
    let app = with_overlay(&dir, overlay, "").await;
    let head_only = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "N"}),
        )
        .await
        .unwrap();
    assert_eq!(head_only.code, "SUCCESS", "{}", head_only.detail);
    assert_eq!(head_only.body, None);
    let with_body = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "pong"}),
        )
        .await
        .unwrap();
    assert_eq!(with_body.body.unwrap()["env"], "SIM");
    app.shutdown().await;
}
