//! Round 55's seller authorization pages and dashboard report (t55a): a decision the page
//! refused ("Not completed", "Unknown choice", "Reason too long") leads back to the
//! authorization page and to the partner, and a reload of it loads the link instead of sending
//! the decision again; a link keeps only its newest login sessions (`[platform]
//! max_seller_sessions`); the dashboard's Tenants view keeps keyboard focus across live updates.
//! Over HTTP, and in real headless Chromium (tests/api/browser.rs) where the browser is the point.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use crate::browser::{self, Browser};
use crate::dashboard::support::{assert_no_script_errors, open, wait_text};
use crate::fweb50::{js, wait_js};
use crate::helpers::{platform_call, spawn_app, spawn_with, Setup, TestApp};
use crate::infinia::support::{binding_request, Merchant};
use crate::platform::bind_body;

/// A client that does not follow redirects, as the seller's browser is driven here.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in on `link` with the demo seller: the `seller_session` cookie (`name=value`).
async fn log_in(app: &TestApp, c: &reqwest::Client, link: &str) -> String {
    let (login, password) = {
        let (l, p) = app.app().authorizations().credentials();
        (l.to_owned(), p.to_owned())
    };
    let r = c
        .post(format!("{link}/login"))
        .form(&[("login", login.as_str()), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// The link's page as the seller with `cookie` sees it: status and HTML.
async fn page(c: &reqwest::Client, url: &str, cookie: &str) -> (u16, String) {
    let r = c.get(url).header("cookie", cookie).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The decision form's session field on the consent page `html`, if it is the consent page.
fn session_of(html: &str) -> Option<String> {
    html.split("name=\"session\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
}

/// Posts the decision form of the consent page at `link` (for the seller with `cookie`).
async fn decide(
    c: &reqwest::Client,
    link: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let (_, consent) = page(c, link, cookie).await;
    let session = session_of(&consent).unwrap_or_else(|| panic!("no consent form: {consent}"));
    let mut fields = vec![("session", session.as_str())];
    fields.extend_from_slice(form);
    let r = c
        .post(format!("{link}/decision"))
        .header("cookie", cookie)
        .form(&fields)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The `href` of the element with `id` on `html` (as written, escaped).
fn href_of(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..at + html[at..].find('>')?];
    tag.split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
}

/// Two Infinia binding requests for one seller, the first approved: the second's link, which
/// the page cannot approve (the seller is bound), with the request's backlinkUrl.
async fn second_binding_of_a_bound_seller(app: &TestApp, seller: &str) -> String {
    let m = Merchant::demo();
    let mut links = Vec::new();
    for no in ["A1", "A2"] {
        let r = m
            .ok(
                app,
                "account-binding/request",
                &binding_request(&format!("{seller}-{no}"), seller),
            )
            .await;
        links.push(r["redirectUrl"].as_str().unwrap().to_owned());
    }
    let (status, body) = app
        .post(
            "/__sim/trigger/infinia.binding.approved",
            &json!({"requestNo": format!("{seller}-A1")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    links.pop().unwrap()
}

/// Report #1: the 409 "Not completed" page (a seller already bound) had no link at all: to
/// "reject it instead" the seller had to know the browser's Back button. It leads back to the
/// authorization page, whose consent form takes the rejection, and to the partner's backlink.
#[tokio::test]
async fn a_refused_approval_leads_back_to_the_form_where_the_seller_rejects() {
    let app = spawn_app().await;
    let link = second_binding_of_a_bound_seller(&app, "SELL55").await;
    let token = link.rsplit('/').next().unwrap().to_owned();
    let c = client();
    let cookie = log_in(&app, &c, &link).await;
    let (status, refused) = decide(&c, &link, &cookie, &[("decision", "approve")]).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused.contains("Not completed"), "{refused}");
    assert!(
        refused.contains("already bound") && refused.contains("reject it instead"),
        "{refused}"
    );
    // Relative to the decision's address `/authorize/{token}/decision`: the link.
    assert_eq!(
        href_of(&refused, "again"),
        Some(format!("../{token}")),
        "{refused}"
    );
    assert_eq!(
        href_of(&refused, "backlink"),
        Some("https://merchant.example.com/seller/SELL55".to_owned()),
        "{refused}"
    );
    assert!(refused.contains("Return to "), "{refused}");
    // The way back: the consent form again (same session), and the rejection is taken.
    let back = reqwest::Url::parse(&format!("{link}/decision"))
        .unwrap()
        .join(&href_of(&refused, "again").unwrap())
        .unwrap();
    assert_eq!(back.as_str(), link);
    let (status, consent) = page(&c, back.as_str(), &cookie).await;
    assert_eq!(status, 200);
    assert!(consent.contains("id=\"decision-form\""), "{consent}");
    let (status, rejected) = decide(&c, &link, &cookie, &[("decision", "reject")]).await;
    assert_eq!(status, 303, "{rejected}");
    let m = Merchant::demo();
    let q = m
        .ok(
            &app,
            "account-binding/query",
            &json!({"requestNo": "SELL55-A2"}),
        )
        .await;
    assert_eq!(q["bindingStatus"], "REJECTED", "{q}");
    app.shutdown().await;
}

/// Report #1, the 400 pages: "Unknown choice" and "Reason too long" lead back to the link
/// too; a partner that gave no return address gets no "Return to" link.
#[tokio::test]
async fn the_400_pages_of_the_decision_lead_back_to_the_form() {
    let app = spawn_app().await;
    let c = client();
    // Infinia, with a backlinkUrl; the platform, whose shopAccountBind gave none.
    let m = Merchant::demo();
    let infinia = m
        .ok(
            &app,
            "account-binding/request",
            &binding_request("U55-1", "SELL-U55"),
        )
        .await["redirectUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, detail, body) =
        platform_call(&app, "shopAccountBind", &bind_body("U55-2", "55")).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    let platform = body["authorizeUrl"].as_str().unwrap().to_owned();
    let long = "R".repeat(whalet_sim::authorize::MAX_REASON_CHARS + 1);
    for (link, backlink) in [(&infinia, true), (&platform, false)] {
        let token = link.rsplit('/').next().unwrap();
        let cookie = log_in(&app, &c, link).await;
        for (form, title) in [
            (vec![("decision", "maybe")], "Unknown choice"),
            (
                vec![("decision", "reject"), ("reason", long.as_str())],
                "Reason too long",
            ),
        ] {
            let (status, html) = decide(&c, link, &cookie, &form).await;
            assert_eq!(status, 400, "{title}: {html}");
            assert!(html.contains(title), "{html}");
            assert!(html.contains("data-result=\"message\""), "{html}");
            assert_eq!(
                href_of(&html, "again"),
                Some(format!("../{token}")),
                "{title}: {html}"
            );
            assert_eq!(
                href_of(&html, "backlink").is_some(),
                backlink,
                "{title}: {html}"
            );
        }
        // Nothing was decided: the consent form is still there.
        let (status, consent) = page(&c, link, &cookie).await;
        assert_eq!(status, 200);
        assert!(session_of(&consent).is_some(), "{consent}");
    }
    app.shutdown().await;
}

/// Report #2: each login added a session to the link, none was ever dropped (4,000 logins,
/// and the first session was still valid). The link keeps the newest `[platform]
/// max_seller_sessions` (8 by default): an older one is asked to log in again.
#[tokio::test]
async fn a_link_keeps_only_its_newest_login_sessions() {
    for (config, keep) in [("", 8), ("[platform]\nmax_seller_sessions = 2\n", 2)] {
        let app = spawn_with(Setup {
            config: Some(config.to_owned()),
            ..Setup::default()
        })
        .await;
        let (code, detail, body) =
            platform_call(&app, "shopAccountBind", &bind_body("S55", "55")).await;
        assert_eq!(code, "SUCCESS", "{detail}");
        let link = body["authorizeUrl"].as_str().unwrap().to_owned();
        let c = client();
        let mut cookies = Vec::new();
        for _ in 0..keep + 3 {
            cookies.push(log_in(&app, &c, &link).await);
        }
        let mut signed_in = Vec::new();
        for cookie in &cookies {
            let (_, html) = page(&c, &link, cookie).await;
            signed_in.push(session_of(&html).is_some());
        }
        let expected: Vec<bool> = (0..keep + 3).map(|i| i >= 3).collect();
        assert_eq!(signed_in, expected, "{config:?}");
        // A decision posted with an ended session is not taken: log in again.
        let ended = cookies[0].split_once('=').unwrap().1;
        let r = c
            .post(format!("{link}/decision"))
            .header("cookie", &cookies[0])
            .form(&[("session", ended), ("decision", "approve")])
            .send()
            .await
            .unwrap();
        let html = r.text().await.unwrap();
        assert!(html.contains("Your session has ended"), "{html}");
        // The newest session decides.
        let (status, _) = decide(
            &c,
            &link,
            cookies.last().unwrap(),
            &[("decision", "approve")],
        )
        .await;
        assert_eq!(status, 303, "{config:?}");
        app.shutdown().await;
    }
}

/// The key is refused at start out of its range (1 to 1,000), naming it.
#[test]
fn max_seller_sessions_is_refused_out_of_its_range() {
    use whalet_sim::config::Config;
    assert_eq!(Config::parse("").unwrap().platform.max_seller_sessions, 8);
    for ok in [1, 1000] {
        let cfg = Config::parse(&format!("[platform]\nmax_seller_sessions = {ok}\n")).unwrap();
        assert_eq!(cfg.platform.max_seller_sessions, ok);
    }
    for (bad, says) in [(0, "would keep no seller's login"), (1001, "is too large")] {
        let e = Config::parse(&format!("[platform]\nmax_seller_sessions = {bad}\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("[platform] max_seller_sessions = {bad}"))
                && e.contains(says)
                && e.contains("from 1 to 1000 (default 8)"),
            "{e}"
        );
    }
}

/// The seller opens `link` in the browser and logs in with the demo account.
async fn seller_logged_in(app: &TestApp, b: &Browser, link: &str) {
    let c = &b.client;
    c.goto(link).await.unwrap();
    let (login, password) = {
        let (l, p) = app.app().authorizations().credentials();
        (l.to_owned(), p.to_owned())
    };
    for (field, text) in [("#login", login), ("#password", password)] {
        c.find(Locator::Css(field))
            .await
            .unwrap()
            .send_keys(&text)
            .await
            .unwrap();
    }
    c.find(Locator::Css("#login-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#decision-form"))
        .await
        .unwrap();
}

/// What the seller's page shows: its `data-result` (`null` on the consent form) and whether
/// it has the decision form.
const SHOWN: &str = "const r = document.getElementById('result'); \
     return [r ? r.dataset.result : null, !!document.getElementById('decision-form'), \
             document.title];";

/// Report #1 in the browser: the 409 page was served at the decision's address, so a reload
/// offered to send the decision again. A reload now loads the link (the consent form), and the
/// seller rejects from there.
#[tokio::test]
async fn reloading_a_refused_decision_shows_the_form_and_sends_nothing() {
    let app = spawn_app().await;
    let link = second_binding_of_a_bound_seller(&app, "SELLR55").await;
    let Some(b) = browser::start(1280, 900).await else {
        return;
    };
    let c = &b.client;
    seller_logged_in(&app, &b, &link).await;
    c.find(Locator::Css("#approve"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        SHOWN,
        &json!(["message", false, "Not completed · Infinia Pay"]),
    )
    .await;
    // Without the page's script the reload sent the decision again: the same 409.
    c.refresh().await.unwrap();
    wait_js(
        c,
        SHOWN,
        &json!([null, true, "Approve shop binding · Infinia Pay"]),
    )
    .await;
    assert_eq!(c.current_url().await.unwrap().as_str(), link);
    // The way on from the refusal: Reject on the form.
    c.find(Locator::Css("#reject"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        "const r = document.getElementById('result'); return r ? r.dataset.result : null;",
        &json!("rejected"),
    )
    .await;
    b.close().await;
    app.shutdown().await;
}

/// Report #3: the Tenants view rebuilt every card on each state change, so the element that
/// had keyboard focus (a "Raw state" box, a card's link, a scrollable table) was gone and focus
/// fell to the page's body. Like the Requests and Coverage views, the view now draws again
/// only the cards that changed, and puts focus back on the same element of a redrawn card.
#[tokio::test]
async fn the_tenants_view_keeps_focus_across_live_updates() {
    let app = spawn_app().await;
    let bind = |n: usize| {
        let app = &app;
        async move {
            let (code, detail, _) = platform_call(
                app,
                "shopAccountBind",
                &bind_body(&format!("FOC{n}"), &format!("7{n}")),
            )
            .await;
            assert_eq!(code, "SUCCESS", "{detail}");
        }
    };
    bind(0).await;
    let Some(b) = browser::start(1280, 900).await else {
        return;
    };
    let c = &b.client;
    open(&b, &app, "/__sim/ui/tenants").await;
    let card = "#view section.card[aria-label='whalet:202400000000001']";
    wait_text(c, card, "FOC0").await;
    for (n, target) in [
        (1, "details.raw summary"),
        (2, "a[href^='/__sim/ui/requests']"),
        (3, ".table-wrap[aria-label^='whalet-platform: ']"),
    ] {
        let selector = format!("{card} {target}");
        let focused = js(
            c,
            &format!(
                "const el = document.querySelector(\"{selector}\"); \
                 if (!el) return null; el.focus(); \
                 if (el.tagName === 'SUMMARY') el.closest('details').open = true; \
                 return document.activeElement === el ? el.dataset.fk || '' : null;"
            ),
        )
        .await;
        assert!(focused.is_string(), "{selector}: {focused}");
        bind(n).await;
        wait_text(c, card, &format!("FOC{n}")).await;
        wait_js(
            c,
            &format!(
                "const a = document.activeElement; \
                 return [a === document.querySelector(\"{selector}\"), a.tagName, \
                         !!document.querySelector(\"{card} details.raw[open]\")];"
            ),
            &json!([
                true,
                js(
                    c,
                    &format!("return document.querySelector(\"{selector}\").tagName;")
                )
                .await,
                true
            ]),
        )
        .await;
    }
    assert_no_script_errors(c, "tenants").await;
    b.close().await;
    app.shutdown().await;
}
