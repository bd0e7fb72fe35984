//! The seller's side of whalet-platform binding in real headless Chromium: the partner asks for a
//! link, the seller opens it, logs in with the keyboard, approves or rejects, and the partner's
//! receiver gets the signed Shop Account Bind Notify. Screenshots: target/screenshots/platform-*.

use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::{json, Value};

use crate::browser::{self, Browser};
use crate::helpers::{platform_call, spawn_app, spawn_config, TestApp};
use crate::platform::bind_body;

const LOGIN: &str = "seller@demo.whalet.test";
const PASSWORD: &str = "demo-seller";

async fn authorize_url(app: &TestApp, bind_id: &str, shop_id: &str) -> String {
    let (code, detail, body) =
        platform_call(app, "shopAccountBind", &bind_body(bind_id, shop_id)).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    body["authorizeUrl"].as_str().unwrap().to_owned()
}

/// The text of the element `css` once it is there (at most 10 s). A look made while the page
/// is navigating (just after a form is sent) is aborted by the browser; it is made again.
async fn text_of(b: &Browser, css: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let seen = match b.client.wait().for_element(Locator::Css(css)).await {
            Ok(element) => element.text().await,
            Err(e) => Err(e),
        };
        match seen {
            Ok(text) => return text,
            Err(e) if std::time::Instant::now() > deadline => panic!("{css}: {e}"),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

/// What `#page-title` reads once it reads `expected`, or after 10 s whatever it last read: just
/// after a form is submitted, the old page's title can still be found, or go stale while the
/// next page loads.
async fn title_once_it_reads(b: &Browser, expected: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let seen = match b.client.find(Locator::Css("#page-title")).await {
            Ok(title) => title.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if seen == expected || std::time::Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Logs in through the keyboard only: type, Tab, type, Enter.
async fn log_in(b: &Browser, password: &str) {
    log_in_as(b, LOGIN, password).await;
}

/// [`log_in`] with another login than the demo seller's.
async fn log_in_as(b: &Browser, login_text: &str, password: &str) {
    let login = b.client.find(Locator::Css("#login")).await.unwrap();
    login.send_keys(login_text).await.unwrap();
    login.send_keys(&Key::Tab.to_string()).await.unwrap();
    let active = b.client.active_element().await.unwrap();
    assert_eq!(
        active.attr("id").await.unwrap().as_deref(),
        Some("password"),
        "Tab moves to the password"
    );
    active
        .send_keys(&format!("{password}{}", char::from(Key::Enter)))
        .await
        .unwrap();
}

/// Headless Chromium starts at least 500 px wide; resizing gets a real phone width (390 px).
async fn phone_viewport(b: &Browser) {
    b.client.set_window_size(390, 844).await.unwrap();
    let width: Value = b
        .client
        .execute("return window.innerWidth;", vec![])
        .await
        .unwrap();
    assert!(
        width.as_i64().unwrap() <= 400,
        "phone-sized viewport, got {width}"
    );
}

async fn no_horizontal_scroll(b: &Browser) -> bool {
    let v: Value = b
        .client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    v == json!(true)
}

#[tokio::test]
async fn seller_approves_on_a_phone_and_the_partner_gets_the_signed_webhook() {
    let app = spawn_app().await;
    let url = authorize_url(&app, "B2001", "1686214").await;
    let Some(b) = browser::start(390, 844).await else {
        return;
    };
    phone_viewport(&b).await;
    b.client.goto(&url).await.unwrap();
    let title = text_of(&b, "#page-title").await;
    assert_eq!(title, "Connect your shop to Demo Marketplace");
    let page = b.client.source().await.unwrap();
    for shown in [
        "Moonlight Lamps",
        "1686214",
        "Moonlight Trading Ltd",
        "REG-0098",
        "CN",
        LOGIN,
        PASSWORD,
    ] {
        assert!(page.contains(shown), "the page shows {shown}");
    }
    for external in ["<link", " src=", "url("] {
        assert!(!page.contains(external), "no external assets ({external})");
    }
    assert!(
        no_horizontal_scroll(&b).await,
        "readable on a phone: no sideways scrolling"
    );
    b.screenshot("platform-1-login-phone").await;

    log_in(&b, "wrong").await;
    let error = text_of(&b, "#error").await;
    assert!(error.contains("not correct"), "{error}");
    log_in(&b, PASSWORD).await;
    let signed_in = text_of(&b, "#signed-in").await;
    assert_eq!(signed_in, LOGIN);
    b.screenshot("platform-2-consent-phone").await;
    // Keyboard only: Tab from the reason field reaches Approve; Enter activates it.
    let reason = b.client.find(Locator::Css("#reason")).await.unwrap();
    reason.send_keys(&Key::Tab.to_string()).await.unwrap();
    let focused = b.client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap().as_deref(),
        Some("approve"),
        "Tab reaches Approve"
    );
    focused.send_keys(&Key::Enter.to_string()).await.unwrap();
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
    b.screenshot("platform-3-approved-phone").await;

    let n = app.wait_notification("apiCode=shopAccountBindNotify").await;
    assert_eq!(n["status"], "delivered");
    let received = app.receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].error, None,
        "the webhook verified with the platform key"
    );
    assert_eq!(
        received[0].body,
        Some(json!({"bindId": "B2001", "shopId": "1686214", "status": "SUCCESS", "reason": ""}))
    );
    let (_, _, q) = platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B2001"})).await;
    assert_eq!(q["status"], "SUCCESS");

    b.client.goto(&url).await.unwrap();
    let result = b
        .client
        .wait()
        .for_element(Locator::Css("#result"))
        .await
        .unwrap();
    assert_eq!(
        result.attr("data-result").await.unwrap().as_deref(),
        Some("used")
    );
    b.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn seller_rejects_with_a_reason_on_a_desktop() {
    let app = spawn_app().await;
    let url = authorize_url(&app, "B2002", "888").await;
    let Some(b) = browser::start(1280, 900).await else {
        return;
    };
    b.client.goto(&url).await.unwrap();
    log_in(&b, PASSWORD).await;
    let reason = b
        .client
        .wait()
        .for_element(Locator::Css("#reason"))
        .await
        .unwrap();
    reason.send_keys("Wrong legal entity").await.unwrap();
    b.screenshot("platform-4-reject-desktop").await;
    b.client
        .find(Locator::Css("#reject"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let result = b
        .client
        .wait()
        .for_element(Locator::Css("#result"))
        .await
        .unwrap();
    assert_eq!(
        result.attr("data-result").await.unwrap().as_deref(),
        Some("rejected")
    );
    let said = result.text().await.unwrap();
    assert!(said.ends_with("is being notified."), "{said}");
    b.screenshot("platform-5-rejected-desktop").await;
    app.wait_notification("apiCode=shopAccountBindNotify").await;
    let body = app.receiver.received()[0].body.clone().unwrap();
    assert_eq!(body["status"], "FAILURE");
    assert_eq!(body["reason"], "Wrong legal entity");
    b.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn an_expired_link_shows_a_clear_page() {
    let app = spawn_app().await;
    let url = authorize_url(&app, "B2003", "999").await;
    let Some(b) = browser::start(390, 844).await else {
        return;
    };
    phone_viewport(&b).await;
    b.client.goto(&url).await.unwrap();
    text_of(&b, "#login").await;
    app.advance(31.0 * 60.0).await;
    // The seller submits the login form after the link expired.
    log_in(&b, PASSWORD).await;
    let title = title_once_it_reads(&b, "This link has expired").await;
    assert_eq!(title, "This link has expired");
    b.screenshot("platform-6-expired-phone").await;
    app.wait_notification("apiCode=shopAccountBindNotify").await;
    let body = app.receiver.received()[0].body.clone().unwrap();
    assert_eq!(body["status"], "FAILURE");
    b.close().await;
    app.shutdown().await;
}

/// The authorization pages allow only their own inline script, by its hash, so a `javascript:`
/// return URL cannot run.
#[tokio::test]
async fn authorization_pages_carry_a_content_security_policy() {
    let app = spawn_app().await;
    let response = reqwest::get(format!("{}/authorize/0123456789abcdef", app.url))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let csp = response
        .headers()
        .get("content-security-policy")
        .expect("a CSP header")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("script-src 'unsafe-inline'"), "{csp}");
    app.shutdown().await;
}

/// The bottom of `css` in CSS pixels, and the viewport's height.
async fn bottom_and_height(b: &Browser, css: &str) -> (f64, f64) {
    let v = b
        .client
        .execute(
            "const e = document.querySelector(arguments[0]); return [e.getBoundingClientRect().bottom, window.innerHeight];",
            vec![json!(css)],
        )
        .await
        .unwrap();
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
}

/// On a 1280×800 laptop screen the seller sees the demo credentials and the login button, then
/// the Approve and Reject buttons, without scrolling.
#[tokio::test]
async fn a_laptop_screen_shows_the_demo_hint_and_the_decision_without_scrolling() {
    let app = spawn_app().await;
    let url = authorize_url(&app, "B2003", "889").await;
    let Some(b) = browser::start(1280, 800).await else {
        return;
    };
    // A viewport of 1280×800 (the window is that plus the browser's own frame).
    let frame = b
        .client
        .execute(
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let frame = |i: usize| u32::try_from(frame[i].as_i64().unwrap().max(0)).unwrap();
    b.client
        .set_window_size(1280 + frame(0), 800 + frame(1))
        .await
        .unwrap();
    b.client.goto(&url).await.unwrap();
    let viewport = b
        .client
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await
        .unwrap();
    assert_eq!(viewport, json!([1280, 800]));
    text_of(&b, "#demo-credentials").await;
    b.screenshot("platform-7-login-laptop").await;
    for css in ["#demo-credentials", "#login-button"] {
        let (bottom, height) = bottom_and_height(&b, css).await;
        assert!(
            bottom <= height,
            "{css} ends at {bottom}px, below the {height}px viewport"
        );
    }
    log_in(&b, PASSWORD).await;
    text_of(&b, "#approve").await;
    b.screenshot("platform-8-consent-laptop").await;
    for css in ["#approve", "#reject"] {
        let (bottom, height) = bottom_and_height(&b, css).await;
        assert!(
            bottom <= height,
            "{css} ends at {bottom}px, below the {height}px viewport"
        );
    }
    b.close().await;
    app.shutdown().await;
}

/// A configured login need not be an email: the login field takes any text, so the browser does
/// not refuse "seller" before the form is sent.
#[tokio::test]
async fn a_login_that_is_not_an_email_logs_in() {
    let app =
        spawn_config("[platform]\nseller_login = \"seller\"\nseller_password = \"pw\"\n").await;
    let url = authorize_url(&app, "B2004", "890").await;
    let Some(b) = browser::start(1280, 800).await else {
        return;
    };
    b.client.goto(&url).await.unwrap();
    text_of(&b, "#demo-credentials").await;
    log_in_as(&b, "seller", "pw").await;
    assert_eq!(text_of(&b, "#signed-in").await, "seller");
    text_of(&b, "#approve").await;
    b.close().await;
    app.shutdown().await;
}
