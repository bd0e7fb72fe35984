//! Account binding: the redirect link, the query, the seller's decision (trigger and the function
//! the authorization page calls), idempotency on requestNo.

use serde_json::json;
use whalet_sim::store::{Provider, TenantId};

use super::support::{binding_request, set_hook_url, spawn_infinia, HookReceiver, Merchant};

#[tokio::test]
async fn a_binding_link_is_pending_until_the_seller_approves() {
    let app = spawn_infinia("").await;
    let hooks = HookReceiver::start(vec![]).await;
    set_hook_url(&app, &hooks.url);
    let m = Merchant::demo();
    let request = binding_request("ABR-20250903-0001", "SELLER-123456");
    let first = m.ok(&app, "account-binding/request", &request).await;
    assert_eq!(first["bindingStatus"], "PENDING");
    let link = first["redirectUrl"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/authorize/inf_", app.url)),
        "{link}"
    );
    // The same request again: the same link. Other fields under the same requestNo: refused.
    let again = m.ok(&app, "account-binding/request", &request).await;
    assert_eq!(again["redirectUrl"], first["redirectUrl"]);
    let mut changed = request.clone();
    changed["sellerName"] = json!("Other Ltd.");
    let reply = m.call(&app, "account-binding/request", &changed).await;
    assert_eq!(reply.code, "SYS-002");
    assert!(reply.message.contains("already used"), "{}", reply.message);

    let q = m
        .ok(
            &app,
            "account-binding/query",
            &json!({"requestNo": "ABR-20250903-0001"}),
        )
        .await;
    assert_eq!(
        (q["bindingStatus"].as_str(), q["sellerStatus"].as_str()),
        (Some("PENDING"), None)
    );

    // What the authorization page calls when the seller clicks "approve".
    let token = link.rsplit('/').next().unwrap();
    let (tenant, binding) = whalet_sim::api::infinia::binding::find(app.app(), token).unwrap();
    assert_eq!(tenant, TenantId::new(Provider::Infinia, "demo-app"));
    assert_eq!(binding.request["storeName"], "Acme Official Store");
    whalet_sim::api::infinia::binding::decide(app.app(), &tenant, token, true, None).unwrap();
    let err = whalet_sim::api::infinia::binding::decide(app.app(), &tenant, token, false, None)
        .unwrap_err();
    assert!(err.contains("already Bound"), "{err}");

    let q = m
        .ok(
            &app,
            "account-binding/query",
            &json!({"sellerId": "SELLER-123456"}),
        )
        .await;
    assert_eq!(
        (q["bindingStatus"].as_str(), q["sellerStatus"].as_str()),
        (Some("BOUND"), Some("ACTIVE"))
    );
    assert_eq!(q["bindTime"], "2025-01-01 08:00:00");
    let n = app.wait_notification("apiCode=sellerStatus").await;
    assert_eq!(n["status"], "delivered");
    let hook = &hooks.hooks()[0];
    assert!(hook.signature_ok);
    assert_eq!(hook.data.as_ref().unwrap()["status"], "ACTIVE");
    // A bound seller cannot be bound again under a new requestNo.
    let reply = m
        .call(
            &app,
            "account-binding/request",
            &binding_request("ABR-2", "SELLER-123456"),
        )
        .await;
    assert!(reply.message.contains("already bound"), "{}", reply.message);
    app.shutdown().await;
}

#[tokio::test]
async fn a_rejected_binding_says_why_and_the_host_header_shapes_the_link() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    m.ok(
        &app,
        "account-binding/request",
        &binding_request("ABR-R", "SELLER-R"),
    )
    .await;
    let (status, body) = app
        .post(
            "/__sim/trigger/infinia.binding.rejected",
            &json!({"sellerId": "SELLER-R", "reason": "documents unreadable"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let q = m
        .ok(
            &app,
            "account-binding/query",
            &json!({"requestNo": "ABR-R"}),
        )
        .await;
    assert_eq!(
        (q["bindingStatus"].as_str(), q["reason"].as_str()),
        (Some("REJECTED"), Some("documents unreadable"))
    );
    let reply = m
        .call(
            &app,
            "account-binding/query",
            &json!({"requestNo": "ABR-NONE"}),
        )
        .await;
    assert_eq!(reply.code, "SYS-002");
    let mut bad = binding_request("ABR-B", "SELLER-B");
    bad["entityType"] = json!("Partnership");
    let reply = m.call(&app, "account-binding/request", &bad).await;
    assert_eq!(reply.code, "SYS-006");
    assert!(
        reply.message.contains("Corporate, Individual"),
        "{}",
        reply.message
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_link_nobody_answers_expires_and_the_binding_is_rejected() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let first = m
        .ok(
            &app,
            "account-binding/request",
            &binding_request("ABR-EXP-1", "SELLER-EXP"),
        )
        .await;
    let link = first["redirectUrl"].as_str().unwrap().to_owned();
    let path = link.strip_prefix(&app.url).unwrap().to_owned();
    let query = json!({"requestNo": "ABR-EXP-1"});
    // One minute before the 30-minute lifetime ends: still pending, the page still offers it.
    app.advance(29.0 * 60.0).await;
    let q = m.ok(&app, "account-binding/query", &query).await;
    assert_eq!(q["bindingStatus"], "PENDING");
    let (status, _) = app.get_text(&path).await;
    assert_eq!(status, 200);
    app.advance(60.0).await;
    let q = m.ok(&app, "account-binding/query", &query).await;
    assert_eq!(q["bindingStatus"], "REJECTED");
    assert!(
        q["reason"].as_str().unwrap().contains("expired"),
        "{}",
        q["reason"]
    );
    let (status, page) = app.get_text(&path).await;
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("This link has expired"), "{page}");
    // The seller is free to be bound under a new requestNo.
    let again = m
        .ok(
            &app,
            "account-binding/request",
            &binding_request("ABR-EXP-2", "SELLER-EXP"),
        )
        .await;
    assert_eq!(again["bindingStatus"], "PENDING");
    assert_ne!(again["redirectUrl"], first["redirectUrl"]);
    app.shutdown().await;
}
