//! A one-tenant import that must renumber notifications keeps the order of the notifications
//! about one business object (docs/PERSISTENCE.md, `outbox.nextSeq`): the later one never gets
//! the smaller id, so a whole-state import (and a start from the data dir, which rebuilds each
//! line by id) still delivers them in the order they were enqueued.

use serde_json::{json, Value};
use whalet_sim::notify::{NotificationSpec, NotifyBehaviour};
use whalet_sim::partner::receiver::Mode;
use whalet_sim::store::{Provider, TenantId};

use crate::helpers::{second_partner_config, spawn_with, Setup, TestApp, SECOND_PARTNER};
use crate::notifications::ping;
use crate::persistence::{export, import};

/// Enqueues a notification of the second partner about `object` (in-process: no public
/// operation of the demo surface sends two about one object on demand); returns its id.
fn enqueue(app: &TestApp, object: &str, message: &str) -> String {
    app.app().outbox().enqueue(NotificationSpec {
        tenant: TenantId::new(Provider::Whalet, SECOND_PARTNER),
        channel: "whalet",
        topic: "connectivityNotify".into(),
        payload: json!({"notifyMessage": message}),
        business_id: Some(object.into()),
        url: None,
        request_no: None,
        behaviour: NotifyBehaviour::default(),
    })
}

/// The second partner's notifications, oldest id first: (id number, requestNo, status).
async fn line(app: &TestApp) -> Vec<(u64, String, String)> {
    let list = app
        .get_json(&format!(
            "/__sim/notifications?tenant=whalet:{SECOND_PARTNER}"
        ))
        .await;
    let mut rows: Vec<(u64, String, String)> = list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n: &Value| {
            let id = n["id"].as_str().unwrap();
            (
                id.trim_start_matches("ntf_").parse().unwrap(),
                n["requestNo"].as_str().unwrap().to_owned(),
                n["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn a_one_tenant_import_that_renumbers_keeps_the_delivery_order_of_each_object() {
    let tenant = format!("?tenant=whalet:{SECOND_PARTNER}");
    // A: the first notification about the object fails once and is retrying; the second
    // waits behind it.
    let a = spawn_with(Setup {
        config: Some(second_partner_config()),
        receiver: Some(Mode::Down),
        ..Setup::default()
    })
    .await;
    let first = enqueue(&a, "payout-1", "success");
    a.advance(0.5).await;
    enqueue(&a, "payout-1", "returned");
    let before = line(&a).await;
    assert_eq!(
        before.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(),
        ["pending", "queued"],
        "{before:?}"
    );
    assert_eq!(format!("ntf_{:06}", before[0].0), first);
    let (first_no, second_no) = (before[0].1.clone(), before[1].1.clone());
    let one = export(&a, &tenant).await;
    a.shutdown().await;

    // B already has ntf_000001 (the demo partner's), the id of the first one in A.
    let b = spawn_with(Setup {
        config: Some(second_partner_config()),
        ..Setup::default()
    })
    .await;
    let taken = ping(&b, "hello").await;
    // Its delivery ends before the exports below are compared: on a loaded machine it could
    // land between two of them.
    b.wait_notification("apiCode=connectivityNotify&status=delivered")
        .await;
    let (status, body) = import(&b, &tenant, one).await;
    assert_eq!(status, 200, "{body}");
    let after = line(&b).await;
    assert_eq!(
        after
            .iter()
            .map(|r| (r.1.as_str(), r.2.as_str()))
            .collect::<Vec<_>>(),
        [
            (first_no.as_str(), "pending"),
            (second_no.as_str(), "queued")
        ],
        "the first keeps the smaller id: {after:?}"
    );
    assert!(
        after.iter().all(|r| format!("ntf_{:06}", r.0) != taken),
        "{after:?} reuses {taken}"
    );

    // The whole state out and back in (what a start from the data dir rebuilds) gives the same
    // bytes, and the partner gets the first before the second.
    let whole = export(&b, "").await;
    let (status, body) = import(&b, "", whole.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        whole == export(&b, "").await,
        "export → import → export differs"
    );
    b.advance(5.0).await;
    let order: Vec<String> = b
        .receiver
        .received()
        .into_iter()
        .map(|r| r.request_no)
        .filter(|no| *no == first_no || *no == second_no)
        .collect();
    assert_eq!(order, [first_no.clone(), second_no.clone()]);
    assert_eq!(
        line(&b)
            .await
            .iter()
            .map(|r| r.2.as_str())
            .collect::<Vec<_>>(),
        ["delivered", "delivered"]
    );
    b.shutdown().await;
}
