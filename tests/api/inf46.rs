//! Infinia fixes of stop 46: "the seller's latest binding" is the one created last, also when two
//! were made at one virtual instant (and in a snapshot of an older simulator, which numbers none);
//! a refusal echoes a huge `appId` cut; a request to an operation's old path after a rename is
//! journaled under the path as sent and counted as no operation's; a binding of an app that is
//! no longer configured is refused on the seller's page as the trigger refuses it.

use serde_json::{json, Value};

use crate::helpers::{spawn_with, Setup, TestApp};
use crate::infinia::support::{binding_request, Merchant};
use crate::persistence::{data_dir_config, export, import};

/// The binding `account-binding/query` answers for `seller`.
async fn queried(app: &TestApp, m: &Merchant, seller: &str) -> Value {
    m.ok(app, "account-binding/query", &json!({"sellerId": seller}))
        .await
}

/// Creates binding `request_no` for `seller` (PENDING).
async fn request(app: &TestApp, m: &Merchant, request_no: &str, seller: &str) -> Value {
    let data = m
        .ok(
            app,
            "account-binding/request",
            &binding_request(request_no, seller),
        )
        .await;
    assert_eq!(data["bindingStatus"], "PENDING", "{data}");
    data
}

/// The query by sellerId and the approval trigger by sellerId both take the binding created
/// last, though both were created at one virtual instant and the later one's requestNo sorts
/// first as text ("K10" < "K9"); the other stays PENDING.
#[tokio::test]
async fn the_sellers_latest_binding_is_the_one_created_last_even_at_one_instant() {
    let app = spawn_with(Setup::default()).await;
    let m = Merchant::demo();
    request(&app, &m, "K9", "KK").await;
    request(&app, &m, "K10", "KK").await;
    assert_eq!(queried(&app, &m, "KK").await["requestNo"], "K10");
    // And the other way round for another seller: created last is latest, whatever the text.
    request(&app, &m, "L10", "LL").await;
    request(&app, &m, "L9", "LL").await;
    assert_eq!(queried(&app, &m, "LL").await["requestNo"], "L9");

    let decided = app
        .trigger_ok("infinia.binding.approved", json!({"sellerId": "KK"}))
        .await;
    assert_eq!(decided["approved"], true, "{decided}");
    let by_no = |no: &str| json!({"requestNo": no});
    let k10 = m.ok(&app, "account-binding/query", &by_no("K10")).await;
    let k9 = m.ok(&app, "account-binding/query", &by_no("K9")).await;
    assert_eq!(
        (k10["bindingStatus"].as_str(), k9["bindingStatus"].as_str()),
        (Some("BOUND"), Some("PENDING"))
    );
    app.shutdown().await;
}

/// A snapshot of an older simulator (bindings without `createdSeq`) still imports; its bindings
/// are numbered in the order they were created as far as it tells (`createdAt`: Z1 before A1,
/// whose requestNo sorts first), and a binding made after the import, at the same virtual
/// instant as A1, is later than both.
#[tokio::test]
async fn an_older_snapshot_without_creation_numbers_loads_and_orders_bindings_by_creation() {
    let app = spawn_with(Setup::default()).await;
    let m = Merchant::demo();
    request(&app, &m, "Z1", "OLD").await;
    app.advance(1.0).await;
    request(&app, &m, "A1", "OLD").await;
    let mut doc: Value = serde_json::from_slice(&export(&app, "").await).unwrap();
    let bindings = doc["tenants"]["infinia:demo-app"]["infinia"]["bindings"]
        .as_object_mut()
        .unwrap();
    assert_eq!(bindings.len(), 2);
    for binding in bindings.values_mut() {
        let removed = binding.as_object_mut().unwrap().remove("createdSeq");
        assert!(removed.is_some(), "a binding is saved with its number");
    }
    let (status, body) = import(&app, "", serde_json::to_vec(&doc).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(queried(&app, &m, "OLD").await["requestNo"], "A1");
    request(&app, &m, "M1", "OLD").await;
    assert_eq!(queried(&app, &m, "OLD").await["requestNo"], "M1");
    app.shutdown().await;
}

/// An `appId` of 100,000 characters is refused as too long (SYS-006, the message counting them
/// all), and the reply echoes it cut at 256 bytes, ending with how much was left out: the reply
/// is not 100 KB.
#[tokio::test]
async fn a_huge_app_id_is_echoed_cut_in_the_refusal() {
    let app = spawn_with(Setup::default()).await;
    let app_id = "a".repeat(100_000);
    let body = json!({"version": "1.0", "appId": app_id, "dataType": "JSON",
                      "requestData": "x", "signature": "y"});
    let (status, text) = app
        .post_raw(
            "/api/v1/account-balance/query",
            "application/json",
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.len() < 1024, "a reply of {} bytes", text.len());
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["code"], "SYS-006");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("appId is 100000 characters long"),
        "{reply}"
    );
    let echoed = reply["appId"].as_str().unwrap();
    assert!(echoed.len() <= 256, "{echoed}");
    let (kept, rest) = echoed.split_once('…').unwrap();
    assert!(app_id.starts_with(kept), "{echoed}");
    assert_eq!(rest, format!(" {} more bytes", app_id.len() - kept.len()));
    app.shutdown().await;
}

/// The coverage hits of outcome `id`.
async fn hits(app: &TestApp, id: &str) -> u64 {
    fn find(v: &Value, id: &str) -> Option<u64> {
        match v {
            Value::Object(map) if map.get("id").and_then(Value::as_str) == Some(id) => {
                map.get("hits").and_then(Value::as_u64)
            }
            Value::Object(map) => map.values().find_map(|v| find(v, id)),
            Value::Array(items) => items.iter().find_map(|v| find(v, id)),
            _ => None,
        }
    }
    // Read with a plain client: the report is larger than the test client's answer cap.
    let r = reqwest::get(format!("{}/__sim/coverage?surface=infinia", app.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let coverage: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    find(&coverage, id).unwrap_or_else(|| panic!("no coverage item {id}"))
}

/// The operations the journal names for the Infinia requests, oldest first.
async fn journaled(app: &TestApp) -> Vec<(String, String)> {
    let entries = app.get_json("/__sim/requests?surface=infinia").await;
    let mut named: Vec<(String, String)> = entries["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    named.reverse();
    named
}

/// With `account-balance/query` renamed, a request to its old path reaches no operation: 404
/// SYS-002, journaled under the path as sent (`/api/v1/...`) as an unknown path is, and not
/// counted for the operation; refused for its size too (before the path is read). The new path
/// is the operation, journaled and counted under its canonical name.
#[tokio::test]
async fn an_old_path_after_a_rename_is_journaled_as_the_path_sent_and_counts_for_no_operation() {
    let app = spawn_with(Setup {
        config: Some(
            "[infinia]\nbody_limit_bytes = 4096\n[infinia.paths]\n\
             \"account-balance/query\" = \"platform-balance/query\"\n"
                .into(),
        ),
        ..Setup::default()
    })
    .await;
    let m = Merchant::demo();
    let sealed = whalet_sim::wire::infinia::seal_request(
        "1.0",
        &m.app_id,
        &json!({}),
        &m.key,
        &m.infinia,
        m.alg,
    )
    .unwrap()
    .to_json();
    for path in ["account-balance/query", "no/such"] {
        let (status, text) = app
            .post_raw(
                &format!("/api/v1/{path}"),
                "application/json",
                sealed.clone(),
            )
            .await;
        assert_eq!(status, 404, "{text}");
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reply["code"], "SYS-002", "{reply}");
    }
    let (status, text) = app
        .post_raw(
            "/api/v1/account-balance/query",
            "application/json",
            vec![b' '; 5000],
        )
        .await;
    // An unknown path is 404 whatever the body, one over the limit included (round 51).
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("SYS-002"), "{text}");
    m.ok(&app, "platform-balance/query", &json!({})).await;
    let old = "/api/v1/account-balance/query".to_owned();
    assert_eq!(
        journaled(&app).await,
        vec![
            (old.clone(), "SYS-002".to_owned()),
            ("/api/v1/no/such".to_owned(), "SYS-002".to_owned()),
            (old, "SYS-002".to_owned()),
            ("account-balance/query".to_owned(), "SUC-200".to_owned()),
        ]
    );
    assert_eq!(hits(&app, "infinia.account-balance/query.SYS-002").await, 0);
    assert_eq!(hits(&app, "infinia.account-balance/query.SUC-200").await, 1);
    app.shutdown().await;
}

const APP2: &str = "[[infinia.apps]]\napp_id = \"app2\"\nmerchant_public_key = \
                    \"@keys/demo-infinia-merchant/public.pem\"\n";

/// Logs in on the seller's page at `link` and takes `decision`: the decision's answer (status,
/// page).
async fn decide_on_page(app: &TestApp, link: &str, decision: &str) -> (u16, String) {
    let (_, _, decided) = app.post_decision(link, decision).await;
    let status = decided.status().as_u16();
    (status, decided.text().await.unwrap())
}

/// The status and reason of binding `request_no` of `app2`, from the state.
async fn app2_binding(app: &TestApp, request_no: &str) -> (String, Value) {
    let state = app.get_json("/__sim/state?tenant=infinia:app2").await;
    let b = &state["tenants"]["infinia:app2"]["infinia"]["bindings"][request_no];
    (
        b["status"].as_str().unwrap().to_owned(),
        b["reason"].clone(),
    )
}

/// A binding of `app2`, made in a data directory, after a restart on it without `app2`: the
/// trigger refuses it (422, no such app), and so does the page (409, naming the app, the
/// binding left PENDING, nothing notified); its link's expiry still rejects it.
#[tokio::test]
async fn a_binding_of_an_app_no_longer_configured_is_refused_on_the_page_as_by_the_trigger() {
    let dir = tempfile::tempdir().unwrap();
    let with_app2 = spawn_with(Setup {
        config: Some(format!("{}{APP2}", data_dir_config(dir.path()))),
        ..Setup::default()
    })
    .await;
    let m = Merchant {
        app_id: "app2".into(),
        ..Merchant::demo()
    };
    let link = request(&with_app2, &m, "X2", "S2").await["redirectUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    with_app2.shutdown().await;

    let app = spawn_with(Setup {
        config: Some(data_dir_config(dir.path())),
        ..Setup::default()
    })
    .await;
    let link = format!("{}/authorize/{}", app.url, link.rsplit('/').next().unwrap());
    let (status, body) = app
        .post(
            "/__sim/trigger/infinia.binding.approved",
            &json!({"appId": "app2", "requestNo": "X2"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("no Infinia app"), "{body}");
    let (status, page) = decide_on_page(&app, &link, "approve").await;
    assert_eq!(status, 409, "{page}");
    assert!(
        page.contains("no Infinia app &quot;app2&quot;; configured: demo-app"),
        "{page}"
    );
    assert_eq!(app2_binding(&app, "X2").await.0, "PENDING");
    let notifications = app.get_json("/__sim/notifications").await;
    assert_eq!(notifications["notifications"], json!([]), "{notifications}");
    // The link stayed open (the refusal took nothing); unanswered, it expires as REJECTED.
    app.advance(31.0 * 60.0).await;
    let (status, reason) = app2_binding(&app, "X2").await;
    assert_eq!(status, "REJECTED");
    assert_eq!(reason, whalet_sim::authorize::EXPIRED_REASON);
    app.shutdown().await;
}
