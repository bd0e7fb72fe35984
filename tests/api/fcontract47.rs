//! Contract overlays, stop 47 (docs/CONTRACTS.md): a status field the overlay renames carries
//! the partner's word in replies and notifications; a default never replaces a value sent under
//! the simulator's name; a rename onto a field the payload has replaces nothing (a Pockyt IPN's
//! fields are checked at load); an array renamed with a field of its elements loads; a table
//! written only through sub-tables, or named by a wire name, is refused saying what to write;
//! `optional` under a renamed object is read under its new name.

use serde_json::Value;
use whalet_sim::config::Config;
use whalet_sim::{App, Options};

use crate::helpers::{spawn_with, Setup, TestApp};
use crate::whalet_support::{onboarding, received};

/// The simulator with `overlay` as the default contract (kept in `dir`), `contract` more keys
/// of `[contract]`, `more` configuration before it.
async fn with_overlay(dir: &tempfile::TempDir, overlay: &str, contract: &str) -> TestApp {
    let file = dir.path().join("c.toml");
    std::fs::write(&file, overlay).unwrap();
    spawn_with(Setup {
        config: Some(format!(
            "[contract]\nfile = \"{}\"\n{contract}",
            file.display()
        )),
        ..Setup::default()
    })
    .await
}

/// Loading `overlay` with the configuration `more` (before `[contract]`): the error, and the
/// file's name; None when it loads.
fn load(overlay: &str, more: &str) -> Option<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, overlay).unwrap();
    let config = Config::parse(&format!(
        "{more}[contract]\nfile = \"{}\"\n",
        file.display()
    ))
    .unwrap();
    match App::new(config, Options::default()) {
        Ok(_) => None,
        Err(e) => Some((format!("{e:#}"), file.display().to_string())),
    }
}

fn refused(overlay: &str, more: &str, line: usize, needle: &str) -> String {
    let (err, file) = load(overlay, more).unwrap_or_else(|| panic!("{overlay:?} loaded"));
    assert!(
        err.contains(&format!("{file}:{line}: ")),
        "{overlay:?}: {err}"
    );
    assert!(err.contains(needle), "{overlay:?}: {err}");
    err
}

/// A status field the overlay renames carries the partner's word: in the reply (it showed the
/// simulator's `PROCESSING`) and in the delivered notification (it showed `SUCCESS`).
#[tokio::test]
async fn a_renamed_status_field_carries_the_partners_word() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = "[whalet.userOnboardingApply]\nrename_reply = { status = \"state\" }\nstatus = { PROCESSING = \"IN_REVIEW\" }\n\n[notification.\"whalet.userOnboardingResultNotify\"]\nrename = { status = \"state\" }\nstatus = { SUCCESS = \"APPROVED\" }\n";
    let app = with_overlay(&dir, overlay, "").await;
    let reply = app
        .client
        .call(
            "userOnboardingApply",
            &onboarding("m-47", "Example Trading"),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "PROCESSING", "{}", reply.detail);
    let body = reply.body.unwrap();
    assert_eq!(body["state"], "IN_REVIEW", "{body}");
    assert!(body.get("status").is_none(), "{body}");
    app.advance(60.0).await;
    app.wait_notification("apiCode=userOnboardingResultNotify")
        .await;
    let notes = received(&app, "userOnboardingResultNotify");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["state"], "APPROVED", "{}", notes[0]);
    app.shutdown().await;
}

/// A value the partner sends under the simulator's name is what the handler reads, not the
/// overlay's default for the partner's name.
#[tokio::test]
async fn a_default_never_replaces_a_value_sent_under_the_simulators_name() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = "[whalet.userOnboardingApply]\nrename_request = { merchantUserId = \"outUserId\" }\noptional = { merchantUserId = \"dflt\" }\n";
    let app = with_overlay(&dir, overlay, "").await;
    let reply = app
        .client
        .call(
            "userOnboardingApply",
            &onboarding("X-47", "Example Trading"),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "PROCESSING", "{}", reply.detail);
    let body = reply.body.unwrap();
    assert_eq!(body["outUserId"], "X-47", "{body}");
    let mut without = onboarding("unused", "Example Trading");
    without.as_object_mut().unwrap().remove("outUserId");
    let reply = app
        .client
        .call("userOnboardingApply", &without)
        .await
        .unwrap();
    assert_eq!(reply.code, "PROCESSING", "{}", reply.detail);
    assert_eq!(reply.body.unwrap()["outUserId"], "dflt");
    app.shutdown().await;
}

/// A reply rename onto a field the reply has, which the load cannot check
/// (`check_sent_fields = false`), replaces nothing: the reply keeps both values.
#[tokio::test]
async fn a_rename_onto_a_field_the_reply_has_replaces_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = "[whalet.userOnboardingApply]\nrename_reply = { outUserId = \"userId\" }\n";
    let app = with_overlay(&dir, overlay, "check_sent_fields = false\n").await;
    let reply = app
        .client
        .call(
            "userOnboardingApply",
            &onboarding("m-48", "Example Trading"),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "PROCESSING", "{}", reply.detail);
    let body = reply.body.unwrap();
    assert_eq!(body["outUserId"], "m-48", "{body}");
    assert!(
        body["userId"].as_str().is_some_and(|u| u != "m-48"),
        "{body}"
    );
    app.shutdown().await;
}

/// A Pockyt IPN's and an Infinia webhook's fields are fixed and documented: a rename onto one
/// of them is refused when the overlay is loaded.
#[test]
fn a_rename_onto_a_fixed_notification_field_is_refused_at_load() {
    refused(
        "[notification.\"pockyt.payout\"]\nrename = { vendor = \"currency\" }\n",
        "",
        2,
        "already sends",
    );
    refused(
        "[notification.\"infinia.sellerStatus\"]\nrename = { sellerId = \"status\" }\n",
        "",
        2,
        "already sends",
    );
    assert_eq!(
        load(
            "[notification.\"pockyt.payout\"]\nrename = { vendor = \"accountType\" }\n",
            ""
        ),
        None
    );
}

/// An array renamed together with a field of its elements loads, the field's new path written
/// whole; the relative form is refused pointing at it.
#[test]
fn an_array_renamed_with_a_field_of_its_elements_loads() {
    let good = "[pockyt.\"/v3/payee/payout-accounts\"]\nrename_reply = { accounts = \"list\", \"accounts.createdAt\" = \"list.createTime\" }\n";
    assert_eq!(load(good, ""), None);
    refused(
        "[pockyt.\"/v3/payee/payout-accounts\"]\nrename_reply = { accounts = \"list\", \"accounts.createdAt\" = \"accounts.createTime\" }\n",
        "",
        2,
        "\"accounts.createdAt\" = \"list.createTime\"",
    );
}

/// A table written only through a sub-table is refused naming the header to write, and one
/// named by a wire name naming the operation's own name.
#[test]
fn a_table_refused_for_its_name_says_what_to_write() {
    let err = refused(
        "[whalet.userOnboardingApply.rename_reply]\nuserId = \"customerId\"\n",
        "",
        1,
        "write its header [whalet.\"userOnboardingApply\"]",
    );
    assert!(!err.contains("borrowed"), "{err}");
    refused(
        "\n[whalet.onboardApply]\ncode = \"SUCCESS\"\n",
        "[whalet.api_codes]\nuserOnboardingApply = \"onboardApply\"\n\n",
        2,
        "write [whalet.\"userOnboardingApply\"]",
    );
}

/// `optional` under a renamed object is read under its new name; a request rename under the
/// simulator's name of another renamed object, which could never apply, is refused.
#[tokio::test]
async fn optional_under_a_renamed_object_is_read_under_its_new_name() {
    let bad = "[whalet.userOnboardingApply]\nrename_request = { merchantUserId = \"outUserId\", company = \"legalEntity\", \"legalEntity.legalName\" = \"legalEntity.name\" }\n";
    refused(bad, "", 2, "\"company.legalName\" = \"legalEntity.name\"");
    let dir = tempfile::tempdir().unwrap();
    let overlay = "[whalet.userOnboardingApply]\nrename_request = { company = \"legalEntity\" }\noptional = { \"company.countryCode\" = \"CN\" }\n";
    let app = with_overlay(&dir, overlay, "").await;
    let mut body = onboarding("m-49", "Example Trading");
    let mut company = body["legalEntity"].clone();
    company.as_object_mut().unwrap().remove("countryCode");
    let map = body.as_object_mut().unwrap();
    map.remove("legalEntity");
    map.insert("company".into(), company);
    let reply = app.client.call("userOnboardingApply", &body).await.unwrap();
    assert_eq!(reply.code, "PROCESSING", "{}", reply.detail);
    let _: &Value = &reply.body.unwrap();
    app.shutdown().await;
}

/// The keys of the ledger's payload of notification `n`, sorted.
fn payload_keys(n: &Value) -> Vec<String> {
    let mut keys: Vec<String> = n["payload"]
        .as_object()
        .unwrap_or_else(|| panic!("a payload: {n}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// The fixed fields the load checks a Pockyt IPN's and an Infinia webhook's renames against are
/// the fields the simulator sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixed_notification_fields_are_what_the_simulator_sends() {
    use crate::pockyt_support::{active_payee, bank_account, ok, IpnReceiver};
    let fixed = |name: &str| {
        let mut fields = whalet_sim::contract::fixed_payload(name)
            .unwrap_or_else(|| panic!("{name} is listed"))
            .to_vec();
        fields.sort();
        fields
    };
    let app = crate::helpers::spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let no = active_payee(&app, "fixed47@example.com").await;
    let token = bank_account(&app, &no, &ipn.url()).await;
    let pay = serde_json::json!({"customerNo": no, "accountToken": token, "amount": "20", "currency": "USD", "invoiceId": "INV-47"});
    let reply = ok(&app, "/v3/payouts/pay", pay).await;
    let txn = reply["result"]["transactionNo"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance(30.0).await;
    let n = app.wait_notification(&format!("businessId={txn}")).await;
    let mut sent = payload_keys(&n);
    sent.retain(|k| k != "verifySign");
    assert_eq!(sent, fixed("pockyt.payout"), "{n}");
    app.shutdown().await;

    let app = crate::infinia::support::spawn_infinia("").await;
    let m = crate::infinia::support::Merchant::demo();
    crate::infinia::support::bind(&app, &m, "4347847").await;
    let list = app
        .get_json("/__sim/notifications?apiCode=sellerStatus")
        .await;
    let n = &list["notifications"][0];
    assert_eq!(payload_keys(n), fixed("infinia.sellerStatus"), "{list}");
    app.shutdown().await;
}

/// The tester's repro: an `optional` default the handler would refuse (a simulator status word
/// the overlay maps away, a number where a text is read) loaded, and every request leaving the
/// field out was refused as the partner's fault. Refused at start, at the key's line.
#[test]
fn an_optional_default_the_operation_would_refuse_is_refused_at_start() {
    refused(
        "[whalet.b2cCardQuery]\nrename_request = { state = \"status\" }\n\
         optional = { state = \"ACTIVE\" }\nstatus = { ACTIVE = \"LIVE\" }\n",
        "",
        3,
        "write the partner's word, \"LIVE\"",
    );
    refused(
        "[whalet.userOnboardingApply]\noptional = { \"legalEntity.countryCode\" = 86 }\n",
        "",
        2,
        "write the default as a string",
    );
    assert_eq!(
        load(
            "[whalet.userOnboardingApply]\noptional = { \"legalEntity.countryCode\" = \"CN\" }\n",
            ""
        ),
        None
    );
}
