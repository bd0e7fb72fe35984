//! The Infinia seller binding on the shared authorization page in real headless Chromium: the
//! merchant asks for a binding, the seller opens the redirectUrl, logs in with the demo
//! credentials the page shows, approves; the binding query says BOUND and the seller status
//! webhook (ACTIVE) reaches the merchant's endpoint. Screenshots: target/screenshots/infinia-*.

use fantoccini::Locator;
use serde_json::json;

use crate::browser;
use crate::helpers::{spawn_with, Setup};
use crate::infinia::support::{
    binding_request, eventually, set_hook_url, HookReceiver, Merchant, SFTP_CONFIG,
};

#[tokio::test]
async fn seller_approves_an_infinia_binding_in_the_browser() {
    let app = spawn_with(Setup {
        config: Some(SFTP_CONFIG.to_owned()),
        ..Default::default()
    })
    .await;
    let hooks = HookReceiver::start(vec![]).await;
    set_hook_url(&app, &hooks.url);
    let m = Merchant::demo();
    let asked = m
        .ok(
            &app,
            "account-binding/request",
            &binding_request("ABR-WEB", "SELLER-WEB"),
        )
        .await;
    assert_eq!(asked["bindingStatus"], "PENDING");
    let url = asked["redirectUrl"].as_str().unwrap().to_owned();
    let Some(b) = browser::start(1280, 900).await else {
        return;
    };
    b.client.goto(&url).await.unwrap();
    let page = b.client.source().await.unwrap();
    for shown in ["Infinia Pay", "SELLER-WEB", "Acme Trading Ltd."] {
        assert!(page.contains(shown), "the page shows {shown}");
    }
    // The demo credentials, as the page shows them.
    let shown = b
        .client
        .find_all(Locator::Css("#demo-credentials code"))
        .await
        .unwrap();
    assert_eq!(shown.len(), 2, "login and password are shown");
    let login = shown[0].text().await.unwrap();
    let password = shown[1].text().await.unwrap();
    b.screenshot("infinia-1-login").await;
    b.client
        .find(Locator::Css("#login"))
        .await
        .unwrap()
        .send_keys(&login)
        .await
        .unwrap();
    let field = b.client.find(Locator::Css("#password")).await.unwrap();
    field.send_keys(&password).await.unwrap();
    field.send_keys("\u{E007}").await.unwrap(); // Enter
    let approve = b
        .client
        .wait()
        .for_element(Locator::Css("#approve"))
        .await
        .unwrap();
    b.screenshot("infinia-2-consent").await;
    approve.click().await.unwrap();
    let result = b
        .client
        .wait()
        .for_element(Locator::Css("#result"))
        .await
        .unwrap();
    assert_eq!(
        result.attr("data-result").await.unwrap().as_deref(),
        Some("approved")
    );
    let said = result.text().await.unwrap();
    assert!(said.ends_with("is being notified."), "{said}");
    b.screenshot("infinia-3-approved").await;

    let q = m
        .ok(
            &app,
            "account-binding/query",
            &json!({"requestNo": "ABR-WEB"}),
        )
        .await;
    assert_eq!(q["bindingStatus"], "BOUND", "{q}");
    app.advance(0.0).await;
    let n = app.wait_notification("apiCode=sellerStatus").await;
    assert_eq!(n["status"], "delivered", "{n}");
    assert!(eventually(|| !hooks.hooks().is_empty()).await);
    let hook = hooks.hooks()[0].clone();
    assert!(hook.signature_ok, "the webhook verifies with Infinia's key");
    let data = hook.data.unwrap();
    assert_eq!(data["sellerId"], "SELLER-WEB");
    assert_eq!(data["status"], "ACTIVE");
    b.close().await;
    app.shutdown().await;
}
