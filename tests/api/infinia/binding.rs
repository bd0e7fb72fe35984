//! Account binding: the redirect link and its base (Host, `public_url`), the query, the seller's
//! decision (trigger and the function the authorization page calls), a seller bound once,
//! idempotency on requestNo.

use serde_json::json;
use whalet_sim::store::{Provider, TenantId};

use super::support::{
    assert_no_nulls, binding_request, set_hook_url, spawn_infinia, HookReceiver, Merchant,
};

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
    // Every field is a string: no value yet is "" (never null).
    assert_eq!(
        (q["bindingStatus"].as_str(), q["sellerStatus"].as_str()),
        (Some("PENDING"), Some(""))
    );
    assert_no_nulls("account-binding/query", &q);
    assert_no_nulls("account-binding/request", &first);
    assert_eq!(
        (first["reason"].as_str(), first["bindTime"].as_str()),
        (Some(""), Some(""))
    );

    // What the authorization page calls when the seller clicks "approve".
    let token = link.rsplit('/').next().unwrap();
    let (tenant, binding) = whalet_sim::api::infinia::binding::find(app.app(), token).unwrap();
    assert_eq!(tenant, TenantId::new(Provider::Infinia, "demo-app"));
    assert_eq!(binding.request["storeName"], "Acme Official Store");
    // The shared page's 128 random bits.
    let random = token.strip_prefix("inf_").unwrap();
    assert_eq!(random.len(), 32, "{token}");
    assert!(random.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    // A reason typed in the page's box and then approved is a decline's, not kept.
    let typed = Some("typed, then approved");
    whalet_sim::api::infinia::binding::decide(app.app(), &tenant, token, true, typed).unwrap();
    let err = whalet_sim::api::infinia::binding::decide(app.app(), &tenant, token, false, None)
        .unwrap_err();
    assert!(
        err.contains("binding ABR-20250903-0001 is already BOUND"),
        "{err}"
    );

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
    assert_eq!(q["reason"], "", "{q}");
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

/// Regression: a retry was compared with the first request as raw JSON, so the same binding
/// sent again with an empty or `null` optional field added, or a field the operation does not
/// read, was refused SYS-002. The same fields as read are the same request: the same link; a
/// field that reads differently is still SYS-002, naming it, and leaves the binding as it was.
#[tokio::test]
async fn a_binding_retried_with_the_same_fields_as_read_gets_the_same_link() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let mut request = binding_request("ABR-RETRY", "SELLER-RETRY");
    let fields = request.as_object_mut().unwrap();
    fields.remove("note");
    fields.remove("storeName");
    let first = m.ok(&app, "account-binding/request", &request).await;
    for (field, value) in [
        ("note", json!("")),
        ("note", json!(null)),
        ("storeName", json!("  ")),
        ("channel", json!("web")),
    ] {
        let mut retry = request.clone();
        retry[field] = value;
        let again = m.call(&app, "account-binding/request", &retry).await;
        assert_eq!(again.code, "SUC-200", "{retry}: {}", again.message);
        assert_eq!(again.data.as_ref(), Some(&first), "{retry}");
    }
    let mut other = request.clone();
    other["note"] = json!("a note this time");
    let reply = m.call(&app, "account-binding/request", &other).await;
    assert_eq!(reply.code, "SYS-002", "{}", reply.message);
    assert!(
        reply
            .message
            .contains("with other fields (note not as before)"),
        "{}",
        reply.message
    );
    let q = m
        .ok(
            &app,
            "account-binding/query",
            &json!({"requestNo": "ABR-RETRY"}),
        )
        .await;
    assert_eq!(q["redirectUrl"], first["redirectUrl"]);
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
    let (link, path) = open_link(&app, &m, "ABR-EXP-1", "SELLER-EXP").await;
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
    assert_ne!(again["redirectUrl"], link.as_str());
    app.shutdown().await;
}

/// A scenario's decision goes through the authorization registry as the page's and a trigger's
/// do: the link then reads as used (not open, and later not "expired"), and nothing approves it.
#[tokio::test]
async fn a_binding_a_scenario_decided_shows_its_link_as_used() {
    let app = spawn_infinia("").await;
    let rule = r#"
name = "auto-decline"
tenant = "infinia:demo-app"
[[rule]]
surface = "infinia"
operation = "account-binding/request"
[rule.then]
result = "failure"
reason = "auto declined"
delay = "30s"
"#;
    let (status, body) = app.load_scenario(rule, "").await;
    assert_eq!(status, 200, "{body}");
    let m = Merchant::demo();
    let (_, path) = open_link(&app, &m, "IR2", "SELLER-IR2").await;
    app.advance(31.0).await;
    let q = m
        .ok(&app, "account-binding/query", &json!({"requestNo": "IR2"}))
        .await;
    assert_eq!(
        (q["bindingStatus"].as_str(), q["reason"].as_str()),
        (Some("REJECTED"), Some("auto declined"))
    );
    let used =
        |page: &str| page.contains("This link was already used") && page.contains("rejected");
    let (status, page) = app.get_text(&path).await;
    assert_eq!(status, 410, "{page}");
    assert!(used(&page), "{page}");
    // The page's login form is not offered, and a trigger cannot approve it either.
    let login = reqwest::Client::new()
        .post(format!("{}{path}/login", app.url))
        .form(&[("login", "seller@example.com"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 410);
    let (status, body) = app
        .post(
            "/__sim/trigger/infinia.binding.approved",
            &json!({"requestNo": "IR2"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("already used"), "{body}");
    // Past the link's lifetime it still reads as used, not as expired.
    app.advance(31.0 * 60.0).await;
    let (status, page) = app.get_text(&path).await;
    assert_eq!(status, 410, "{page}");
    assert!(used(&page), "{page}");
    let link = app
        .app()
        .authorizations()
        .get(path.rsplit('/').next().unwrap(), app.app().clock().now());
    assert!(
        matches!(link, Some((_, whalet_sim::authorize::LinkState::Decided { ref via, .. })) if via == "scenario"),
        "{link:?}"
    );
    app.shutdown().await;
}

/// Every address of the seller's page answers the seller with a page: a GET of a form's address
/// (a reload after a post) is sent back to the link, HEAD answers as GET, another method is a 405
/// naming the allowed ones. The page after a rejection claims no notification.
#[tokio::test]
async fn the_sellers_page_answers_every_method_and_address_with_a_page() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let (link, _) = open_link(&app, &m, "ABR-P", "SELLER-P").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let send = |method: reqwest::Method, url: String| {
        let client = client.clone();
        async move { client.request(method, url).send().await.unwrap() }
    };
    for action in ["login", "decision"] {
        let r = send(reqwest::Method::GET, format!("{link}/{action}")).await;
        assert_eq!(r.status().as_u16(), 303, "{action}");
        // Relative (the page works under any base): it resolves to the link.
        let location = r.headers()["location"].to_str().unwrap();
        let to = reqwest::Url::parse(&format!("{link}/{action}"))
            .unwrap()
            .join(location)
            .unwrap();
        assert_eq!(to.as_str(), link, "{action}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
    let get = send(reqwest::Method::GET, link.clone()).await;
    let head = send(reqwest::Method::HEAD, link.clone()).await;
    assert_eq!((get.status().as_u16(), head.status().as_u16()), (200, 200));
    assert_eq!(
        head.headers()["content-type"],
        get.headers()["content-type"]
    );
    assert!(head.text().await.unwrap().is_empty());
    for (method, url, allow) in [
        (reqwest::Method::PUT, link.clone(), "GET, HEAD"),
        (reqwest::Method::POST, link.clone(), "GET, HEAD"),
        (
            reqwest::Method::DELETE,
            format!("{link}/login"),
            "GET, HEAD, POST",
        ),
    ] {
        let r = send(method.clone(), url).await;
        assert_eq!(r.status().as_u16(), 405, "{method}");
        assert_eq!(r.headers()["allow"], allow, "{method}");
        assert!(
            r.text().await.unwrap().contains("Not available"),
            "{method}"
        );
    }
    let r = send(reqwest::Method::GET, format!("{link}/nothing")).await;
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // Reject on the page: the answer states what happened and that no notification was sent.
    let done = app.decide_on_page(&link, "reject").await;
    assert!(
        done.contains("was not connected to Platform demo-app."),
        "{done}"
    );
    assert!(
        done.contains("Platform demo-app will see the result the next time it checks the binding."),
        "a rejection sends no notification, and the page says so: {done}"
    );
    assert!(seller_statuses(&app).await.is_empty());
    app.shutdown().await;
}

/// Regression (round 16): with the binding's notification suppressed by a scenario, the page
/// said the platform "is being notified"; it is recorded, never sent.
#[tokio::test]
async fn the_page_does_not_claim_a_suppressed_notification() {
    let app = spawn_infinia("").await;
    let scenario = "name = \"quiet\"\n[[rule]]\nname = \"s\"\nsurface = \"infinia\"\n\
                    operation = \"account-binding/request\"\n[rule.then.notify]\nsuppress = true\n";
    let (status, body) = app.load_scenario(scenario, "tenant=infinia:demo-app").await;
    assert_eq!(status, 200, "{body}");
    let m = Merchant::demo();
    let (link, _) = open_link(&app, &m, "ABR-Q", "SELLER-Q").await;
    let done = app.decide_on_page(&link, "approve").await;
    assert!(
        done.contains("will see the result the next time it checks the binding"),
        "{done}"
    );
    assert!(!done.contains("is being notified"), "{done}");
    let list = app
        .get_json("/__sim/notifications?apiCode=sellerStatus")
        .await;
    assert_eq!(list["notifications"][0]["status"], "suppressed", "{list}");
    app.shutdown().await;
}

/// The seller status notifications enqueued so far, oldest first: `(sellerId, status)`.
/// Asks for binding `request_no` of `seller`: its link, and the link's path on the simulator.
async fn open_link(
    app: &crate::helpers::TestApp,
    m: &Merchant,
    request_no: &str,
    seller: &str,
) -> (String, String) {
    let reply = m
        .ok(
            app,
            "account-binding/request",
            &binding_request(request_no, seller),
        )
        .await;
    let link = reply["redirectUrl"].as_str().unwrap().to_owned();
    let path = link.strip_prefix(&app.url).unwrap().to_owned();
    (link, path)
}

async fn seller_statuses(app: &crate::helpers::TestApp) -> Vec<(String, String)> {
    let list = app
        .get_json("/__sim/notifications?apiCode=sellerStatus")
        .await;
    let mut rows: Vec<(u64, String, String)> = list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"].as_str().unwrap()["ntf_".len()..].parse().unwrap(),
                n["payload"]["sellerId"].as_str().unwrap().to_owned(),
                n["payload"]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows.into_iter().map(|(_, s, st)| (s, st)).collect()
}

#[tokio::test]
async fn a_second_binding_of_a_bound_seller_cannot_be_approved_and_no_webhook_contradicts_the_query(
) {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    for no in ["B4", "B5"] {
        let reply = m
            .ok(&app, "account-binding/request", &binding_request(no, "S2"))
            .await;
        assert_eq!(reply["bindingStatus"], "PENDING");
    }
    let approve = |no: &'static str| {
        let app = &app;
        async move {
            app.post(
                "/__sim/trigger/infinia.binding.approved",
                &json!({ "requestNo": no }),
            )
            .await
        }
    };
    let (status, body) = approve("B4").await;
    assert_eq!(status, 200, "{body}");
    app.trigger_ok("infinia.seller.frozen", json!({"sellerId": "S2"}))
        .await;
    // The page's, a trigger's and a scenario's approvals all go through `binding::decide`.
    let (status, body) = approve("B5").await;
    assert_ne!(status, 200, "{body}");
    let error = body.to_string();
    assert!(
        error.contains("already bound") && error.contains("B4") && error.contains("reject it"),
        "{error}"
    );
    let token = |q: &serde_json::Value| {
        q["redirectUrl"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned()
    };
    let b5 = m
        .ok(&app, "account-binding/query", &json!({"requestNo": "B5"}))
        .await;
    assert_eq!(
        b5["bindingStatus"], "PENDING",
        "a refused approval changes nothing"
    );
    let now = app.app().clock().now();
    let (_, link) = app.app().authorizations().get(&token(&b5), now).unwrap();
    assert_eq!(
        link,
        whalet_sim::authorize::LinkState::Open,
        "the seller may still decline"
    );
    // By sellerId the query shows the binding that holds the seller, FROZEN as notified.
    let q = m
        .ok(&app, "account-binding/query", &json!({"sellerId": "S2"}))
        .await;
    assert_eq!(
        (
            q["requestNo"].as_str(),
            q["bindingStatus"].as_str(),
            q["sellerStatus"].as_str()
        ),
        (Some("B4"), Some("BOUND"), Some("FROZEN"))
    );
    let expected = |list: &[&str]| -> Vec<(String, String)> {
        list.iter()
            .map(|s| ("S2".to_owned(), (*s).to_owned()))
            .collect()
    };
    assert_eq!(seller_statuses(&app).await, expected(&["ACTIVE", "FROZEN"]));
    // Declining the second request is allowed and sends nothing.
    app.trigger_ok("infinia.binding.rejected", json!({"requestNo": "B5"}))
        .await;
    let b5 = m
        .ok(&app, "account-binding/query", &json!({"requestNo": "B5"}))
        .await;
    assert_eq!(b5["bindingStatus"], "REJECTED");
    assert_eq!(seller_statuses(&app).await, expected(&["ACTIVE", "FROZEN"]));
    app.shutdown().await;
}

#[tokio::test]
async fn a_scenario_approving_a_retried_binding_leaves_the_seller_bound_once() {
    let app = crate::helpers::spawn_with(crate::helpers::Setup {
        config: Some(super::support::SFTP_CONFIG.to_owned()),
        scenario_files: vec![
            crate::helpers::repo_path("scenarios/infinia-seller-lifecycle.toml").into(),
        ],
        ..Default::default()
    })
    .await;
    let m = Merchant::demo();
    m.ok(
        &app,
        "account-binding/request",
        &binding_request("ABR-1", "SELLER-123456"),
    )
    .await;
    app.advance(5.0).await;
    // The client retries under a new requestNo before the seller (the scenario) answers.
    m.ok(
        &app,
        "account-binding/request",
        &binding_request("ABR-2", "SELLER-123456"),
    )
    .await;
    app.advance(40.0).await;
    let status = |no: &'static str| {
        let (app, m) = (&app, &m);
        async move {
            m.ok(app, "account-binding/query", &json!({ "requestNo": no }))
                .await["bindingStatus"]
                .clone()
        }
    };
    assert_eq!(status("ABR-1").await, "BOUND");
    assert_eq!(status("ABR-2").await, "PENDING");
    let q = m
        .ok(
            &app,
            "account-binding/query",
            &json!({"sellerId": "SELLER-123456"}),
        )
        .await;
    assert_eq!(q["requestNo"], "ABR-1");
    let statuses = seller_statuses(&app).await;
    assert_eq!(
        statuses,
        vec![("SELLER-123456".to_owned(), "ACTIVE".to_owned())],
        "one binding, one ACTIVE notification"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_link_base_is_a_plain_host_or_the_configured_public_url() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let link = |no: &'static str, headers: &'static [(&'static str, &'static str)]| {
        let (app, m) = (&app, &m);
        async move {
            let reply = m
                .ok_with_headers(
                    app,
                    "account-binding/request",
                    &binding_request(no, &format!("SELLER-{no}")),
                    headers,
                )
                .await;
            reply["redirectUrl"].as_str().unwrap().to_owned()
        }
    };
    let own = link("H1", &[]).await;
    assert!(own.starts_with(&format!("{}/authorize/", app.url)), "{own}");
    let named = link("H2", &[("host", "whalet-sim:8080")]).await;
    assert!(
        named.starts_with("http://whalet-sim:8080/authorize/"),
        "{named}"
    );
    // A Host with a path and query is not a host: the link carries the address the
    // connection reached instead.
    let crafted = link("H3", &[("host", "evil.example/x?y=")]).await;
    assert!(
        crafted.starts_with(&format!("{}/authorize/", app.url)),
        "{crafted}"
    );
    // Forwarding headers are anyone's to set: not trusted.
    let forwarded = link(
        "H4",
        &[
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert!(
        forwarded.starts_with(&format!("{}/authorize/", app.url)),
        "{forwarded}"
    );
    app.shutdown().await;

    let app = spawn_infinia("[platform]\npublic_url = \"https://sim.example.com/\"\n").await;
    let reply = m
        .ok_with_headers(
            &app,
            "account-binding/request",
            &binding_request("H5", "SELLER-H5"),
            &[("host", "evil.example/x?y=")],
        )
        .await;
    let url = reply["redirectUrl"].as_str().unwrap();
    assert!(
        url.starts_with("https://sim.example.com/authorize/"),
        "{url}"
    );
    app.shutdown().await;
}

/// A binding trigger names its binding by one of three ids; naming none is a parameter error
/// (`400`, as any missing parameter), not a refusal of the trigger's run (`422`).
#[tokio::test]
async fn a_binding_trigger_without_any_of_its_ids_is_a_parameter_error() {
    let app = spawn_infinia("").await;
    let (status, body) = app
        .post(
            "/__sim/trigger/infinia.binding.rejected",
            &json!({"reason": "no id"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string()
            .contains("needs parameter requestNo, sellerId or token"),
        "{body}"
    );
    app.shutdown().await;
}

/// Regression: the decision trigger given several ids acted on the token's binding and ignored
/// the others; ids naming different bindings are refused, ids naming the same one are taken.
#[tokio::test]
async fn a_decision_trigger_given_ids_of_different_bindings_is_refused() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    for seller in ["S-A", "S-B"] {
        m.ok(
            &app,
            "account-binding/request",
            &binding_request(&format!("R-{seller}"), seller),
        )
        .await;
    }
    let fire = |params: serde_json::Value| {
        let app = &app;
        async move {
            app.post("/__sim/trigger/infinia.binding.approved", &params)
                .await
        }
    };
    let (status, body) = fire(json!({"requestNo": "R-S-A", "sellerId": "S-B"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string()
            .contains("requestNo and sellerId name different bindings"),
        "{body}"
    );
    let status_of = |no: &'static str| {
        let (app, m) = (&app, &m);
        async move {
            m.ok(app, "account-binding/query", &json!({"requestNo": no}))
                .await["bindingStatus"]
                .clone()
        }
    };
    assert_eq!(status_of("R-S-A").await, "PENDING");
    assert_eq!(status_of("R-S-B").await, "PENDING");
    let (status, body) = fire(json!({"requestNo": "R-S-B", "sellerId": "S-B"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(status_of("R-S-B").await, "BOUND");
    assert_eq!(status_of("R-S-A").await, "PENDING");
    app.shutdown().await;
}
