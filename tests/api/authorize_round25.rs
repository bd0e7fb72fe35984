//! The seller's authorization page, round 25: it works under a public URL with a path prefix
//! (every form, link and `Location` is relative), an expired link stays expired whatever clock
//! it is loaded under, and a login or a decision answers with a redirect to a page that shows
//! where the link stands (post-redirect-get), so Back and reload never show a stale form.

use reqwest::{Method, Url};
use serde_json::{json, Value};

use crate::helpers::{platform_call, spawn_app, spawn_config, TestApp};
use crate::platform::{bind_body, tenant};

const LOGIN: &str = "seller@demo.whalet.test";
const PASSWORD: &str = "demo-seller";
/// A simulator behind a proxy that serves it under `/whalet-sim` and strips that prefix.
const PUBLIC: &str = "https://gw.example.test/whalet-sim";

/// One answer of the page.
struct Answer {
    status: u16,
    location: Option<String>,
    set_cookie: Option<String>,
    html: String,
}

/// A client that follows no redirect and keeps no cookie: each step is the test's own.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn send(
    url: &str,
    method: Method,
    form: Option<&[(&str, &str)]>,
    cookie: Option<&str>,
) -> Answer {
    let mut request = client().request(method, url);
    if let Some(form) = form {
        request = request.form(form);
    }
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let r = request.send().await.unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    Answer {
        status: r.status().as_u16(),
        location: header("location"),
        set_cookie: header("set-cookie"),
        html: String::new(),
    }
    .with_body(r)
    .await
}

impl Answer {
    async fn with_body(mut self, r: reqwest::Response) -> Self {
        self.html = r.text().await.unwrap();
        self
    }

    /// The `session=…` pair of the login's cookie, as a browser sends it back.
    fn cookie(&self) -> String {
        let set = self.set_cookie.as_deref().expect("a session cookie");
        set.split(';').next().unwrap().to_owned()
    }
}

/// The value of every `attr="…"` in `html` (the pages escape `&` as `&amp;`).
fn attributes(html: &str, attr: &str) -> Vec<String> {
    html.split(&format!(" {attr}=\""))
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().replace("&amp;", "&"))
        .collect()
}

/// The addresses of the simulator's own a page gives: every form action and link, but the
/// partner's absolute links (`Return to …`).
fn own_addresses(html: &str) -> Vec<String> {
    let mut all = attributes(html, "action");
    all.extend(attributes(html, "href"));
    all.retain(|a| Url::parse(a).is_err());
    all
}

/// The page behind a proxy that strips [`PUBLIC`]'s path: `public` (what the browser sees) must
/// lie under [`PUBLIC`]; the simulator gets the rest of its path.
fn through_proxy(app: &TestApp, public: &Url) -> String {
    let rest = public
        .as_str()
        .strip_prefix(PUBLIC)
        .unwrap_or_else(|| panic!("{public} is not under {PUBLIC}: the proxy answers 404"));
    format!("{}{rest}", app.url)
}

/// `address` as the browser showing `page` resolves it; it must be `expected`.
fn resolves(page: &Url, address: &str, expected: &str) -> Url {
    let url = page.join(address).unwrap();
    assert_eq!(
        url.as_str(),
        expected,
        "{address:?} on {page} leads elsewhere"
    );
    url
}

async fn bind(app: &TestApp, bind_id: &str) -> String {
    let (code, detail, reply) =
        platform_call(app, "shopAccountBind", &bind_body(bind_id, bind_id)).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    reply["authorizeUrl"].as_str().unwrap().to_owned()
}

/// The tester's repro: behind a proxy serving the simulator under `/whalet-sim`, "Log in" posted
/// to `/authorize/{token}/login`, outside the prefix, and 404'd, so no seller could approve.
/// Every address a page gives (form actions, links, the `Location` of a redirect) is followed
/// here as a browser resolves it against the public address it is on, and must stay under the
/// prefix; the proxy then hands the simulator the path without it.
#[tokio::test]
async fn every_address_the_sellers_pages_give_resolves_under_a_public_path_prefix() {
    let app = spawn_config(&format!("[platform]\npublic_url = \"{PUBLIC}\"\n")).await;
    let link = Url::parse(&bind(&app, "B2501").await).unwrap();
    assert!(link.as_str().starts_with(&format!("{PUBLIC}/authorize/")));
    let login = format!("{link}/login");
    let decision = format!("{link}/decision");
    let done = format!("{link}/done");

    // The link, also as opened with a trailing slash: its form posts to the login.
    for opened in [link.clone(), Url::parse(&format!("{link}/")).unwrap()] {
        let page = send(&through_proxy(&app, &opened), Method::GET, None, None).await;
        assert_eq!(page.status, 200, "{opened}: {}", page.html);
        let addresses = own_addresses(&page.html);
        assert_eq!(addresses.len(), 1, "{addresses:?}");
        resolves(&opened, &addresses[0], &login);
    }
    let login_url = Url::parse(&login).unwrap();
    // A wrong password, a form too large and one not UTF-8: each page leads back in.
    let wrong = send(
        &through_proxy(&app, &login_url),
        Method::POST,
        Some(&[("login", LOGIN), ("password", "wrong")]),
        None,
    )
    .await;
    assert_eq!(wrong.status, 401, "{}", wrong.html);
    for address in own_addresses(&wrong.html) {
        resolves(&login_url, &address, &login);
    }
    let large = "x".repeat(70_000);
    let too_large = send(
        &through_proxy(&app, &login_url),
        Method::POST,
        Some(&[("login", LOGIN), ("pad", &large)]),
        None,
    )
    .await;
    assert_eq!(too_large.status, 413, "{}", too_large.html);
    let unreadable = client()
        .post(through_proxy(&app, &login_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"login=x\xff".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(unreadable.status().as_u16(), 400);
    let unreadable = unreadable.text().await.unwrap();
    for html in [&too_large.html, &unreadable] {
        let addresses = own_addresses(html);
        assert_eq!(addresses.len(), 1, "{addresses:?}");
        resolves(&login_url, &addresses[0], link.as_str());
    }
    // A GET of a form's address goes back to the link.
    let bookmark = send(&through_proxy(&app, &login_url), Method::GET, None, None).await;
    assert_eq!(bookmark.status, 303);
    resolves(
        &login_url,
        bookmark.location.as_deref().unwrap(),
        link.as_str(),
    );

    // The login, the consent and the decision, each reached through the previous page.
    let logged_in = send(
        &through_proxy(&app, &login_url),
        Method::POST,
        Some(&[("login", LOGIN), ("password", PASSWORD)]),
        None,
    )
    .await;
    assert_eq!(logged_in.status, 303, "{}", logged_in.html);
    let cookie = logged_in.cookie();
    let consent_url = resolves(
        &login_url,
        logged_in.location.as_deref().unwrap(),
        link.as_str(),
    );
    let consent = send(
        &through_proxy(&app, &consent_url),
        Method::GET,
        None,
        Some(&cookie),
    )
    .await;
    assert_eq!(consent.status, 200, "{}", consent.html);
    let addresses = own_addresses(&consent.html);
    assert_eq!(addresses.len(), 1, "{addresses:?}");
    let decision_url = resolves(&consent_url, &addresses[0], &decision);
    let session = attributes(&consent.html, "value")
        .into_iter()
        .find(|v| v.len() == 32)
        .expect("the session field");
    // A decision without a valid session: the login page, posting to the login.
    let ended = send(
        &through_proxy(&app, &decision_url),
        Method::POST,
        Some(&[("session", "ended"), ("decision", "approve")]),
        None,
    )
    .await;
    assert_eq!(ended.status, 401, "{}", ended.html);
    for address in own_addresses(&ended.html) {
        resolves(&decision_url, &address, &login);
    }
    let decided = send(
        &through_proxy(&app, &decision_url),
        Method::POST,
        Some(&[("session", session.as_str()), ("decision", "approve")]),
        Some(&cookie),
    )
    .await;
    assert_eq!(decided.status, 303, "{}", decided.html);
    let done_url = resolves(&decision_url, decided.location.as_deref().unwrap(), &done);
    let result = send(
        &through_proxy(&app, &done_url),
        Method::GET,
        None,
        Some(&cookie),
    )
    .await;
    assert_eq!(result.status, 200, "{}", result.html);
    assert!(
        result.html.contains("data-result=\"approved\""),
        "{}",
        result.html
    );
    assert!(own_addresses(&result.html).is_empty(), "{}", result.html);
    let (_, _, q) = platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B2501"})).await;
    assert_eq!(q["status"], "SUCCESS");
    app.shutdown().await;
}

/// The link's path on the simulator.
fn path_of(app: &TestApp, link: &str) -> String {
    link.strip_prefix(&app.url).unwrap().to_owned()
}

/// Whether `page` offers a form to log in or to decide.
fn offers_a_form(page: &str) -> bool {
    page.contains("<form")
}

/// The tester's repro: a link that expired (its binding FAILURE), exported and loaded into a
/// simulator whose clock is back before the link's expiry, answered 200 with the login form;
/// the login worked and Approve gave 409 "already FAILURE". The expiry is the link's decision
/// now, kept in the snapshot: the page answers 410 "expired" and the login is refused.
#[tokio::test]
async fn an_expired_link_stays_expired_when_loaded_under_an_earlier_clock() {
    let from = spawn_app().await;
    let link = bind(&from, "B2510").await;
    let path = path_of(&from, &link);
    from.advance(1860.0).await;
    let (_, _, q) = platform_call(&from, "shopAccountBindQuery", &json!({"bindId": "B2510"})).await;
    assert_eq!(
        (q["status"].as_str(), q["reason"].as_str()),
        (
            Some("FAILURE"),
            Some("the authorization link expired before the seller decided")
        )
    );
    let query = format!("/__sim/snapshot?tenant={}", tenant());
    let snapshot = from.get_json(&query).await;
    assert_eq!(
        snapshot["authorizations"][0]["decided"]["via"], "expiry",
        "{}",
        snapshot["authorizations"]
    );
    from.shutdown().await;

    let to = spawn_app().await;
    let (status, body) = to.post(&query, &snapshot).await;
    assert_eq!(status, 200, "{body}");
    let (status, page) = to.get_text(&path).await;
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("This link has expired"), "{page}");
    assert!(!offers_a_form(&page), "{page}");
    let (status, page) = to
        .post_raw(
            &format!("{path}/login"),
            "application/x-www-form-urlencoded",
            format!("login={}&password={PASSWORD}", LOGIN.replace('@', "%40")).into_bytes(),
        )
        .await;
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("This link has expired"), "{page}");
    // The snapshot taken again carries the expiry as it was loaded.
    let again = to.get_json(&query).await;
    assert_eq!(again["authorizations"], snapshot["authorizations"]);
    to.shutdown().await;
}

/// A link left undecided beside a binding that is no longer PROCESSING (a snapshot written
/// before expiries were recorded on the link, or one edited by hand) never shows an open login
/// form: the page tells how the binding ended, expired or decided.
#[tokio::test]
async fn a_link_whose_binding_ended_without_it_offers_no_login() {
    let from = spawn_app().await;
    let link = bind(&from, "B2511").await;
    let path = path_of(&from, &link);
    from.advance(1860.0).await;
    let query = format!("/__sim/snapshot?tenant={}", tenant());
    let mut snapshot = from.get_json(&query).await;
    from.shutdown().await;
    snapshot["authorizations"][0]["decided"] = Value::Null;

    let to = spawn_app().await;
    let (status, body) = to.post(&query, &snapshot).await;
    assert_eq!(status, 200, "{body}");
    let (status, page) = to.get_text(&path).await;
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("This link has expired"), "{page}");
    assert!(!offers_a_form(&page), "{page}");

    // The same binding as rejected by the seller (its reason is not the expiry's).
    let tenant_key = tenant().to_string();
    let bindings = &mut snapshot["tenants"][&tenant_key]["platform"]["bindings"];
    assert!(bindings["B2511"].is_object(), "{bindings}");
    bindings["B2511"]["reason"] = json!("Wrong legal entity");
    let (status, body) = to.post(&query, &snapshot).await;
    assert_eq!(status, 200, "{body}");
    let (status, page) = to.get_text(&path).await;
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("This link was already used"), "{page}");
    assert!(page.contains("was rejected"), "{page}");
    assert!(!offers_a_form(&page), "{page}");
    let (status, page) = to
        .post_raw(
            &format!("{path}/login"),
            "application/x-www-form-urlencoded",
            format!("login={}&password={PASSWORD}", LOGIN.replace('@', "%40")).into_bytes(),
        )
        .await;
    assert_eq!(status, 410, "{page}");
    to.shutdown().await;
}

/// The data directory keeps the expiry as the link's decision too.
#[tokio::test]
async fn the_data_directory_keeps_an_expired_links_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let app = crate::persistence::on_dir_with(dir.path(), None).await;
    bind(&app, "B2512").await;
    app.advance(1860.0).await;
    app.shutdown().await;
    let db = rusqlite::Connection::open(dir.path().join("whalet-sim.db")).unwrap();
    let json: String = db
        .query_row("SELECT json FROM authorizations", [], |r| r.get(0))
        .unwrap();
    let link: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(link["decided"]["via"], "expiry", "{link}");
    assert_eq!(link["decided"]["approved"], false, "{link}");
}

/// Post-redirect-get: the login and the decision answer 303 to a `GET` page, so Back and reload
/// show where the link stands and never send a form again. The link's page shows the consent to
/// the seller logged in (the session cookie) and the login to anyone else; after the decision,
/// `done` shows its result to that seller, and the link (what Back shows) says "already used".
#[tokio::test]
async fn logging_in_and_deciding_redirect_to_pages_that_show_where_the_link_stands() {
    let app = spawn_app().await;
    let link = bind(&app, "B2520").await;
    let logged_in = send(
        &format!("{link}/login"),
        Method::POST,
        Some(&[("login", LOGIN), ("password", PASSWORD)]),
        None,
    )
    .await;
    assert_eq!(logged_in.status, 303, "{}", logged_in.html);
    let cookie = logged_in.cookie();
    let set = logged_in.set_cookie.as_deref().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let link_url = Url::parse(&link).unwrap();
    let back_to = Url::parse(&format!("{link}/login"))
        .unwrap()
        .join(logged_in.location.as_deref().unwrap())
        .unwrap();
    assert_eq!(back_to, link_url);

    // Reloaded, the consent stays; another browser (no cookie) gets the login.
    for _ in 0..2 {
        let consent = send(&link, Method::GET, None, Some(&cookie)).await;
        assert_eq!(consent.status, 200);
        assert!(
            consent.html.contains("id=\"decision-form\""),
            "{}",
            consent.html
        );
    }
    let other = send(&link, Method::GET, None, None).await;
    assert_eq!(other.status, 200);
    assert!(other.html.contains("id=\"login-form\""), "{}", other.html);
    // Nobody decided yet: `done` sends back to the link.
    let early = send(&format!("{link}/done"), Method::GET, None, Some(&cookie)).await;
    assert_eq!(early.status, 303);

    let consent = send(&link, Method::GET, None, Some(&cookie)).await;
    let session = attributes(&consent.html, "value")
        .into_iter()
        .find(|v| v.len() == 32)
        .unwrap();
    let form = [
        ("session", session.as_str()),
        ("decision", "reject"),
        ("reason", "Wrong legal entity"),
    ];
    let decided = send(
        &format!("{link}/decision"),
        Method::POST,
        Some(&form),
        Some(&cookie),
    )
    .await;
    assert_eq!(decided.status, 303, "{}", decided.html);
    let done = Url::parse(&format!("{link}/decision"))
        .unwrap()
        .join(decided.location.as_deref().unwrap())
        .unwrap();
    assert_eq!(done.as_str(), format!("{link}/done"));
    // The result, also on reload; a `HEAD` answers as the `GET`.
    for _ in 0..2 {
        let result = send(done.as_str(), Method::GET, None, Some(&cookie)).await;
        assert_eq!(result.status, 200, "{}", result.html);
        assert!(
            result.html.contains("data-result=\"rejected\""),
            "{}",
            result.html
        );
        assert!(result.html.contains("is being notified"), "{}", result.html);
    }
    let head = send(done.as_str(), Method::HEAD, None, Some(&cookie)).await;
    assert_eq!(head.status, 200);
    // Back: the link's page, with or without the cookie, says it was used; no form.
    for cookie in [Some(cookie.as_str()), None] {
        let back = send(&link, Method::GET, None, cookie).await;
        assert_eq!(back.status, 410, "{}", back.html);
        assert!(back.html.contains("data-result=\"used\""), "{}", back.html);
        assert!(!offers_a_form(&back.html), "{}", back.html);
    }
    // Someone else's `done` is the link's state; the decision sent again changes nothing.
    let elsewhere = send(done.as_str(), Method::GET, None, None).await;
    assert_eq!(elsewhere.status, 303);
    let again = send(
        &format!("{link}/decision"),
        Method::POST,
        Some(&[("session", session.as_str()), ("decision", "approve")]),
        Some(&cookie),
    )
    .await;
    assert_eq!(again.status, 410, "{}", again.html);
    let post_done = send(done.as_str(), Method::POST, None, Some(&cookie)).await;
    assert_eq!(post_done.status, 405);
    let (_, _, q) = platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B2520"})).await;
    assert_eq!(q["status"], "FAILURE");
    assert_eq!(q["reason"], "Wrong legal entity");
    app.shutdown().await;
}

/// In Chromium: after the decision, Back shows the link as used (a reload, also of a page the
/// back/forward cache restores), never its login or consent form nor "Confirm Form
/// Resubmission".
#[tokio::test]
async fn after_a_decision_back_in_the_browser_shows_the_link_as_used() {
    use fantoccini::key::Key;
    use fantoccini::Locator;

    let app = spawn_app().await;
    let link = bind(&app, "B2530").await;
    let Some(b) = crate::browser::start(1280, 900).await else {
        return;
    };
    b.client.goto(&link).await.unwrap();
    let login = b
        .client
        .wait()
        .for_element(Locator::Css("#login"))
        .await
        .unwrap();
    login.send_keys(LOGIN).await.unwrap();
    let password = b.client.find(Locator::Css("#password")).await.unwrap();
    password
        .send_keys(&format!("{PASSWORD}{}", char::from(Key::Enter)))
        .await
        .unwrap();
    b.client
        .wait()
        .for_element(Locator::Css("#approve"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(result_once_it_reads(&b, "approved").await, "approved");
    b.client.back().await.unwrap();
    assert_eq!(result_once_it_reads(&b, "used").await, "used");
    b.client.back().await.unwrap();
    assert_eq!(result_once_it_reads(&b, "used").await, "used");
    b.close().await;
    app.shutdown().await;
}

/// `#result`'s `data-result` once it reads `expected`, or after 10 s whatever it last read (the
/// page may be loading again).
async fn result_once_it_reads(b: &crate::browser::Browser, expected: &str) -> String {
    use fantoccini::Locator;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let seen = match b.client.find(Locator::Css("#result")).await {
            Ok(e) => e
                .attr("data-result")
                .await
                .ok()
                .flatten()
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        if seen == expected || std::time::Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
