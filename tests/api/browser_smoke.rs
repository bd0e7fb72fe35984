//! The browser harness itself works: Chromium renders a simulator page.

use crate::browser;
use crate::helpers::spawn_app;

#[tokio::test]
async fn chromium_renders_the_health_endpoint() {
    let app = spawn_app().await;
    let Some(browser) = browser::start(1024, 768).await else {
        return;
    };
    browser
        .client
        .goto(&format!("{}/__sim/health", app.url))
        .await
        .unwrap();
    let text = browser.client.source().await.unwrap();
    assert!(text.contains("\"status\":\"ok\""), "{text}");
    browser.close().await;
    app.shutdown().await;
}
