//! What an import may not bring, and what it may not take back: a Pockyt `invoices` index that
//! disagrees with the payouts it indexes is refused naming the entry (one invoiceId would be
//! paid twice, or a new payout taken for a repeat); the requestNo sequence of notifications
//! (Whalet's and Infinia's) goes on past every requestNo given, across an import that took the
//! numbering back and a restart from the data directory (docs/PERSISTENCE.md, docs/FIDELITY.md).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_with, Setup, TestApp};
use crate::infinia::support::{bind, Merchant};
use crate::persistence::{data_dir_config, export, import};
use crate::pockyt_support::{active_payee, bank_account, ok, IpnReceiver};

const POCKYT: &str = "pockyt:202333";

/// A simulator holding one Pockyt payout paid for invoiceId `INV-1`, and its snapshot.
async fn paid_once() -> (TestApp, Value, Value, IpnReceiver) {
    let ipn = IpnReceiver::start(0).await;
    let app = spawn_app().await;
    let no = active_payee(&app, "durable@example.com").await;
    let token = bank_account(&app, &no, &ipn.url()).await;
    let pay = json!({"customerNo": no, "accountToken": token, "amount": "100.00",
                     "currency": "USD", "invoiceId": "INV-1"});
    let reply = ok(&app, "/v3/payouts/pay", pay.clone()).await;
    let doc: Value = serde_json::from_slice(&export(&app, "").await).unwrap();
    assert_eq!(
        doc["tenants"][POCKYT]["pockyt"]["invoices"]["INV-1"], reply["result"]["transactionNo"],
        "the index as the simulator keeps it"
    );
    (app, doc, pay, ipn)
}

/// `doc` with `change` applied to its Pockyt state, imported into `app`: the refusal's text,
/// after checking that nothing changed (the same export as before).
async fn refused(app: &TestApp, doc: &Value, change: impl FnOnce(&mut Value)) -> String {
    let before = export(app, "").await;
    let mut edited = doc.clone();
    change(&mut edited["tenants"][POCKYT]["pockyt"]);
    let (status, body) = import(app, "", serde_json::to_vec(&edited).unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        before == export(app, "").await,
        "a refused import changed the state"
    );
    body["error"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_import_whose_invoice_index_leaves_out_a_payout_is_refused_and_pays_nothing_twice() {
    let (app, doc, pay, _ipn) = paid_once().await;
    let txn = doc["tenants"][POCKYT]["pockyt"]["invoices"]["INV-1"]
        .as_str()
        .unwrap()
        .to_owned();
    let e = refused(&app, &doc, |k| {
        k["invoices"].as_object_mut().unwrap().remove("INV-1");
    })
    .await;
    assert!(
        e.contains(&format!(r#"tenants["{POCKYT}"].pockyt.payouts["{txn}"]"#))
            && e.contains(r#"invoiceId "INV-1" has no entry"#)
            && e.contains(&format!(r#"add the entry "INV-1": "{txn}""#)),
        "{e}"
    );
    // The same invoiceId still answers by the one payout.
    let again = ok(&app, "/v3/payouts/pay", pay).await;
    assert_eq!(again["result"]["transactionNo"], txn.as_str(), "{again}");
    let doc: Value = serde_json::from_slice(&export(&app, "").await).unwrap();
    assert_eq!(
        doc["tenants"][POCKYT]["pockyt"]["payouts"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
    app.finish().await;
}

#[tokio::test]
async fn an_import_whose_invoice_entry_names_no_payout_or_another_is_refused_naming_it() {
    let (app, doc, _pay, _ipn) = paid_once().await;
    let e = refused(&app, &doc, |k| {
        k["invoices"]["INV-2"] = json!("3010300000000000000099");
    })
    .await;
    assert!(
        e.contains(&format!(r#"tenants["{POCKYT}"].pockyt.invoices["INV-2"]"#))
            && e.contains(r#"transactionNo "3010300000000000000099", which is no object"#)
            && e.contains("remove the entry"),
        "{e}"
    );
    // An entry naming a payout paid for another invoiceId.
    let txn = doc["tenants"][POCKYT]["pockyt"]["invoices"]["INV-1"].clone();
    let e = refused(&app, &doc, |k| k["invoices"]["INV-2"] = txn.clone()).await;
    assert!(
        e.contains(&format!(r#"tenants["{POCKYT}"].pockyt.invoices["INV-2"]"#))
            && e.contains(r#"whose invoiceId is "INV-1""#),
        "{e}"
    );
    app.finish().await;
}

/// The requestNos of every notification the outbox holds, of topic/apiCode `api_code`.
async fn request_nos(app: &TestApp, api_code: &str) -> BTreeSet<String> {
    app.advance(0.0).await;
    let ledger = app
        .get_json(&format!("/__sim/notifications?apiCode={api_code}"))
        .await;
    ledger["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["requestNo"].as_str().unwrap().to_owned())
        .collect()
}

/// A simulator on data dir `dir` with a fixed run tag (so that only the sequence tells two
/// runs' requestNos apart).
async fn tagged_on(dir: &std::path::Path) -> TestApp {
    spawn_with(Setup {
        config: Some(format!(
            "{}[notify]\nrun_tag = 424242\n",
            data_dir_config(dir)
        )),
        ..Setup::default()
    })
    .await
}

/// Gives notifications with `send` (of apiCode `api_code`) before and after an import that
/// takes them back and a restart from the data dir; every requestNo is new.
async fn no_request_no_twice_across_an_import_and_a_restart<F, Fut>(api_code: &str, send: F)
where
    F: Fn(TestApp, u32) -> Fut,
    Fut: std::future::Future<Output = TestApp>,
{
    let dir = tempfile::tempdir().unwrap();
    let app = send(tagged_on(dir.path()).await, 1).await;
    let snapshot = export(&app, "").await;
    let app = send(app, 2).await;
    let given = request_nos(&app, api_code).await;
    assert_eq!(given.len(), 2, "{given:?}");
    let (status, body) = import(&app, "", snapshot).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;

    let again = send(tagged_on(dir.path()).await, 3).await;
    let now = request_nos(&again, api_code).await;
    let new: Vec<&String> = now.difference(&given).collect();
    assert_eq!(
        new.len(),
        1,
        "the notification sent after the restart has a requestNo never given before: \
         given {given:?}, now {now:?}"
    );
    again.shutdown().await;
}

#[tokio::test]
async fn an_infinia_request_no_is_never_given_again_after_an_import_and_a_restart() {
    no_request_no_twice_across_an_import_and_a_restart("sellerStatus", |app, n| async move {
        bind(&app, &Merchant::demo(), &format!("SELLER-{n}")).await;
        app
    })
    .await;
}

#[tokio::test]
async fn a_whalet_request_no_is_never_given_again_after_an_import_and_a_restart() {
    no_request_no_twice_across_an_import_and_a_restart("connectivityNotify", |app, n| async move {
        let reply = app
            .client
            .call(
                "connectivity",
                &json!({"notifyFlag": "Y", "notifyMessage": format!("ping {n}"),
                        "responseFlag": "N"}),
            )
            .await
            .unwrap();
        assert_eq!(reply.code, "SUCCESS", "{reply:?}");
        app
    })
    .await;
}
