//! whalet-platform over the Whalet envelope: binding through the API twin (triggers), link
//! expiry, bulk payments and seller payments with the ledger invariant, trade materials
//! validation, and the pipeline's refusals. The browser half is in `platform_browser`.

use serde_json::{json, Value};
use whalet_sim::store::{Provider, TenantId};

use crate::helpers::{platform_call, platform_client, spawn_app, spawn_with, Setup, TestApp};

pub fn bind_body(bind_id: &str, shop_id: &str) -> Value {
    json!({
        "bindId": bind_id, "userId": "U1", "shopId": shop_id, "shopName": "Moonlight Lamps",
        "shopUrl": format!("https://shop.example/{shop_id}"), "currency": "USD",
        "legalEntity": {"type": "COMPANY", "certNo": "REG-0098", "certType": "BRN",
                        "countryCode": "CN", "name": "Moonlight Trading Ltd"}
    })
}

pub fn tenant() -> TenantId {
    TenantId::new(Provider::Whalet, "202400000000001")
}

pub async fn trigger(app: &TestApp, name: &str, params: Value) -> (u16, Value) {
    app.post(&format!("/__sim/trigger/{name}"), &params).await
}

#[tokio::test]
async fn bind_returns_an_authorize_url_and_approval_notifies_the_partner() {
    let app = spawn_app().await;
    let (code, _, body) =
        platform_call(&app, "shopAccountBind", &bind_body("B0001", "1686214")).await;
    assert_eq!(code, "SUCCESS");
    assert_eq!(body["bindId"], "B0001");
    let url = body["authorizeUrl"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/authorize/", app.url)), "{url}");
    let (_, _, q) = platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B0001"})).await;
    assert_eq!(
        q,
        json!({"bindId": "B0001", "shopId": "1686214", "status": "PROCESSING", "reason": ""})
    );

    let (status, _) = trigger(
        &app,
        "platform.binding.approved",
        json!({"bindId": "B0001"}),
    )
    .await;
    assert_eq!(status, 200);
    let n = app.wait_notification("apiCode=shopAccountBindNotify").await;
    assert_eq!(n["status"], "delivered");
    let received = app.receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].api_code, "shopAccountBindNotify");
    assert_eq!(received[0].error, None);
    assert_eq!(
        received[0].body,
        Some(json!({"bindId": "B0001", "shopId": "1686214", "status": "SUCCESS", "reason": ""}))
    );
    let (_, _, q) = platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B0001"})).await;
    assert_eq!(q["status"], "SUCCESS");

    // The link is single-use: a second decision is refused, on the page and by the trigger.
    let (status, body) = trigger(
        &app,
        "platform.binding.rejected",
        json!({"bindId": "B0001"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body["error"].as_str().unwrap().contains("already used"),
        "{body}"
    );
    let page = app
        .http
        .get(url, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(page.status, 410);
    assert!(String::from_utf8_lossy(&page.body).contains("already used"));
    app.shutdown().await;
}

#[tokio::test]
async fn rejection_carries_the_sellers_reason() {
    let app = spawn_app().await;
    platform_call(&app, "shopAccountBind", &bind_body("B0002", "777")).await;
    let (status, _) = trigger(
        &app,
        "platform.binding.rejected",
        json!({"bindId": "B0002", "reason": "I do not sell on this marketplace"}),
    )
    .await;
    assert_eq!(status, 200);
    app.wait_notification("apiCode=shopAccountBindNotify").await;
    let body = app.receiver.received()[0].body.clone().unwrap();
    assert_eq!(body["status"], "FAILURE");
    assert_eq!(body["reason"], "I do not sell on this marketplace");
    app.shutdown().await;
}

#[tokio::test]
async fn an_unanswered_link_expires_after_thirty_virtual_minutes() {
    let app = spawn_app().await;
    let (_, _, body) = platform_call(&app, "shopAccountBind", &bind_body("B0003", "55")).await;
    let url = body["authorizeUrl"].as_str().unwrap().to_owned();
    app.advance(29.0 * 60.0).await;
    let (_, _, q) = platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B0003"})).await;
    assert_eq!(q["status"], "PROCESSING");
    app.advance(60.0).await;
    app.wait_notification("apiCode=shopAccountBindNotify").await;
    let body = app.receiver.received()[0].body.clone().unwrap();
    assert_eq!(body["status"], "FAILURE");
    assert!(
        body["reason"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    let page = app
        .http
        .get(&url, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(page.status, 410);
    assert!(String::from_utf8_lossy(&page.body).contains("This link has expired"));
    let (status, body) = trigger(
        &app,
        "platform.binding.approved",
        json!({"bindId": "B0003"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body["error"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    // A new binding for the same shop is allowed after the failure.
    let (code, _, _) = platform_call(&app, "shopAccountBind", &bind_body("B0004", "55")).await;
    assert_eq!(code, "SUCCESS");
    app.shutdown().await;
}

#[tokio::test]
async fn bind_refuses_bad_fields_precisely_and_duplicates() {
    let app = spawn_app().await;
    let mut body = bind_body("B0005", "9");
    body["legalEntity"]["countryCode"] = json!("China");
    let (code, detail, _) = platform_call(&app, "shopAccountBind", &body).await;
    assert_eq!(code, "PARAMETER_ERROR");
    assert!(detail.contains("legalEntity.countryCode"), "{detail}");
    body["legalEntity"].as_object_mut().unwrap().remove("name");
    body["legalEntity"]["countryCode"] = json!("CN");
    let (_, detail, _) = platform_call(&app, "shopAccountBind", &body).await;
    assert_eq!(detail, "legalEntity.name is required");

    let (code, _, first) = platform_call(&app, "shopAccountBind", &bind_body("B0006", "9")).await;
    assert_eq!(code, "SUCCESS");
    let (code, _, again) = platform_call(&app, "shopAccountBind", &bind_body("B0006", "9")).await;
    assert_eq!(
        (code.as_str(), &again),
        ("SUCCESS", &first),
        "same content replays"
    );
    let (code, _, _) = platform_call(&app, "shopAccountBind", &bind_body("B0006", "10")).await;
    assert_eq!(code, "IDEMPOTENT_ERROR");
    let (code, detail, _) = platform_call(&app, "shopAccountBind", &bind_body("B0007", "9")).await;
    assert_eq!(code, "FAILURE");
    assert!(
        detail.contains("waiting for the seller") && detail.contains("B0006"),
        "{detail}"
    );
    app.shutdown().await;
}

/// Regression: a bind named only its first problem. Every field problem of the request, nested
/// `legalEntity` fields by their full path, is named in one PARAMETER_ERROR, and nothing is
/// stored.
#[tokio::test]
async fn bind_names_every_field_problem_at_once() {
    let app = spawn_app().await;
    let (code, detail, _) = platform_call(&app, "shopAccountBind", &json!({})).await;
    assert_eq!(code, "PARAMETER_ERROR");
    assert_eq!(
        detail,
        "bindId is required; shopId is required; shopName is required; legalEntity is required"
    );
    let mut body = bind_body("B0900", "S-900");
    body["shopName"] = json!("");
    body["currency"] = json!("XYZ");
    body["shopUrl"] = json!("ftp://shop.example");
    body["legalEntity"] = json!({"countryCode": "China", "certNo": "R-1", "type": 5});
    let (code, _, _) = platform_call(&app, "shopAccountBind", &body).await;
    assert_eq!(code, "PARAMETER_ERROR");
    // The whole diagnostic (the wire detail is cut to its documented 256 characters).
    let journal = app.get_json("/__sim/requests?surface=platform").await;
    let full = journal["requests"][0]["detail"].as_str().unwrap();
    let named: Vec<&str> = full.split("; ").collect();
    assert_eq!(named.len(), 6, "{full}");
    assert_eq!(named[0], "shopName must not be empty");
    assert!(named[1].starts_with("currency \""), "{full}");
    assert_eq!(
        named[2],
        "legalEntity.countryCode must be an ISO 3166 alpha-2 code like CN, got \"China\""
    );
    assert_eq!(named[3], "legalEntity.type must be a string, got a number");
    assert_eq!(named[4], "legalEntity.name is required");
    assert!(
        named[5].starts_with("shopUrl must be an absolute http:// or https:// URL"),
        "{full}"
    );
    let (code, _, _) =
        platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B0900"})).await;
    assert_eq!(code, "FAILURE", "a refused bind stores nothing");
    app.shutdown().await;
}

/// Regression: a material row was refused at its first problem (`materials[0].tradeOrderNo is
/// required`, though nine required fields were missing); the reply now names every problem of
/// the upload, up to ten across the rows (the rest counted), the shop's too.
#[tokio::test]
async fn an_upload_names_every_field_problem_up_to_ten() {
    let app = spawn_app().await;
    let upload = json!({"shopId": "s", "materials": [{"tradeOrderId": "t1"}]});
    let (code, detail, _) = platform_call(&app, "tradeMaterialsUpload", &upload).await;
    assert_eq!(code, "PARAMETER_ERROR");
    let journal = app.get_json("/__sim/requests?surface=platform").await;
    let full = journal["requests"][0]["detail"].as_str().unwrap();
    assert!(full.starts_with(detail.trim_end_matches('…')), "{full}");
    let fields = [
        "tradeOrderNo",
        "tradeType",
        "tradeTime",
        "tradeCurrency",
        "tradeAmount",
        "tradeName",
        "tradeCount",
        "payerName",
        "payerCountryCode",
    ];
    let named: Vec<&str> = full.split("; ").collect();
    assert_eq!(named.len(), fields.len(), "{full}");
    for (problem, field) in named.iter().zip(fields) {
        assert!(
            problem.starts_with(&format!("materials[0].{field} is required")),
            "{full}"
        );
    }
    let rows = vec![json!({"tradeOrderId": "t1"}), json!({"tradeOrderId": "t2"})];
    let upload = json!({"shopId": "", "materials": rows});
    platform_call(&app, "tradeMaterialsUpload", &upload).await;
    let journal = app.get_json("/__sim/requests?surface=platform").await;
    let full = journal["requests"][0]["detail"].as_str().unwrap();
    let named: Vec<&str> = full.split("; ").collect();
    assert_eq!(
        named.len(),
        12,
        "the shop, ten rows' problems, the count: {full}"
    );
    assert_eq!(named[0], "shopId must not be empty");
    assert_eq!(named[10], "materials[1].tradeOrderNo is required");
    assert_eq!(named[11], "and 8 more errors");
    assert_eq!(materials_count(&app), 0, "a refused upload stores nothing");
    app.shutdown().await;
}

fn material(order: &str) -> Value {
    json!({
        "tradeOrderId": order, "tradeOrderNo": format!("OR{order}"), "tradeType": 0,
        "tradeTime": "2024-12-30 10:15:00", "tradeCurrency": "CNY", "tradeAmount": "39.68",
        "tradeName": "Desk lamp", "tradeCount": 2, "tradeUnit": "piece", "payerName": "buyer-77",
        "payerCountryCode": "RU", "goodsCarrier": "CDEK", "goodsLogisticsNo": "CD123",
        "serviceDetail": "", "serviceTime": "", "hsCode": "7323990000", "memo": ""
    })
}

fn materials_count(app: &TestApp) -> usize {
    app.app()
        .store()
        .with_tenant(&tenant(), |t| t.platform.materials.count())
        .unwrap()
}

#[tokio::test]
async fn trade_materials_are_stored_or_refused_row_by_row() {
    let app = spawn_app().await;
    let upload = json!({"shopId": "1686214", "materials": [material("1"), material("2")]});
    let (code, _, body) = platform_call(&app, "tradeMaterialsUpload", &upload).await;
    assert_eq!((code.as_str(), &body), ("SUCCESS", &json!({})));
    assert_eq!(materials_count(&app), 2);

    let mut bad_time = material("3");
    bad_time["tradeTime"] = json!("2024/12/30 10:15");
    let mut bad_amount = material("4");
    bad_amount["tradeAmount"] = json!("39.685");
    let mut no_payer = material("5");
    no_payer.as_object_mut().unwrap().remove("payerName");
    let upload = json!({"shopId": "1686214",
        "materials": [material("6"), bad_time, bad_amount, no_payer, material("6")]});
    let (code, _, _) = platform_call(&app, "tradeMaterialsUpload", &upload).await;
    assert_eq!(code, "PARAMETER_ERROR");
    // The whole diagnostic (the wire detail is cut to its documented 256 characters).
    let journal = app.get_json("/__sim/requests?surface=platform").await;
    let detail = journal["requests"][0]["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("materials[1].tradeTime: must be a time as yyyy-MM-dd HH:mm:ss"),
        "{detail}"
    );
    assert!(
        detail.contains("materials[2].tradeAmount \"39.685\" has 3 decimal places"),
        "{detail}"
    );
    assert!(
        detail.contains("materials[3].payerName is required"),
        "{detail}"
    );
    assert!(
        detail.contains("materials[4].tradeOrderId: \"6\" appears again (first at materials[0])"),
        "{detail}"
    );
    assert_eq!(materials_count(&app), 2, "a refused upload stores nothing");

    let (_, detail, _) = platform_call(
        &app,
        "tradeMaterialsUpload",
        &json!({"shopId": "1", "materials": []}),
    )
    .await;
    assert_eq!(detail, "materials must not be empty");
    app.shutdown().await;
}

#[tokio::test]
async fn the_pipeline_refuses_mismatched_and_unknown_operations() {
    let app = spawn_app().await;
    let reply = platform_client(&app, "paymentQuery")
        .call("paymentApply", &json!({}))
        .await
        .unwrap();
    assert_eq!(reply.code, "PARAMETER_ERROR");
    assert!(
        reply.detail.contains("head.apiCode is \"paymentApply\""),
        "{}",
        reply.detail
    );
    let (code, detail, _) = platform_call(&app, "refundApply", &json!({})).await;
    assert_eq!(code, "INTERFACE_UNAUTHORIZED");
    assert!(detail.contains("shopAccountBind"), "{detail}");
    let (status, _) = app.get("/v1/platform/balanceQuery").await;
    assert_eq!(status, 405);
    let (status, text) = app
        .post_raw(
            "/v1/platform/balanceQuery",
            "application/json",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(status, 200);
    assert!(text.contains("PARAM_FORMAT_ERROR"), "{text}");
    app.shutdown().await;
}

#[tokio::test]
async fn plain_json_mode_answers_without_the_envelope() {
    let app = spawn_with(Setup {
        config: Some("[platform]\nauth = \"none\"\nlink_ttl_secs = 60\n".into()),
        ..Setup::default()
    })
    .await;
    let (status, body) = app
        .post("/v1/platform/shopAccountBind", &bind_body("B0100", "42"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bindId"], "B0100");
    let (status, body) = app.post("/v1/platform/paymentQuery", &json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"code": "PARAMETER_ERROR", "detail": "paymentId is required"})
    );
    app.advance(60.0).await;
    app.wait_notification("apiCode=shopAccountBindNotify").await;
    let received = app.receiver.received();
    assert_eq!(
        received[0].body.as_ref().unwrap()["status"],
        "FAILURE",
        "the 60 s link expired"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_demo_scenario_names_real_triggers() {
    let app = spawn_app().await;
    let text = std::fs::read_to_string(crate::helpers::repo_path(
        "scenarios/seller-binding-demo.toml",
    ))
    .unwrap();
    let scenario: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(scenario["name"].as_str(), Some("seller-binding-demo"));
    let triggers = app.get_json("/__sim/triggers").await;
    let names: Vec<&str> = triggers["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for event in scenario["timeline"].as_array().unwrap() {
        let name = event["event"].as_str().unwrap();
        assert!(
            names.contains(&name),
            "unknown trigger {name} in the demo scenario"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn forged_requests_are_refused_and_journaled() {
    let app = spawn_app().await;
    let mut forger = platform_client(&app, "balanceQuery");
    forger.key =
        whalet_sim::wire::keys::PrivateKey::parse(whalet_sim::wire::keys::demo::PLATFORM_PRIVATE)
            .unwrap();
    let reply = forger
        .send_raw(forger.seal("balanceQuery", "R-FORGED-1", &json!({})))
        .await;
    // The refusal is unsigned; the client reports the head code either way.
    let text = format!("{reply:?}");
    assert!(text.contains("UNAUTHENTICATED_ERROR"), "{text}");
    let journal = app.get_json("/__sim/requests?surface=platform").await;
    let entry = &journal["requests"][0];
    assert_eq!(entry["operation"], "balanceQuery");
    assert_eq!(entry["code"], "UNAUTHENTICATED_ERROR");
    app.shutdown().await;
}

#[tokio::test]
async fn partner_text_is_escaped_on_the_page() {
    let app = spawn_app().await;
    let mut body = bind_body("B0300", "X1");
    body["shopName"] = json!("<script>alert(1)</script> & Co");
    let (_, _, reply) = platform_call(&app, "shopAccountBind", &body).await;
    let page = app
        .http
        .get(
            reply["authorizeUrl"].as_str().unwrap(),
            std::time::Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body);
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"),
        "escaped"
    );
    assert!(!html.contains("<script>alert(1)"), "never raw");
    let (status, text) = app
        .post_raw(
            &format!(
                "{}/decision",
                reply["authorizeUrl"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches(&app.url)
            ),
            "application/x-www-form-urlencoded",
            b"session=guess&decision=approve".to_vec(),
        )
        .await;
    assert_eq!(status, 401, "a decision needs a logged-in session");
    assert!(text.contains("log in again"), "{text}");
    let (_, _, q) = platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B0300"})).await;
    assert_eq!(q["status"], "PROCESSING");
    app.shutdown().await;
}

/// Regression: a login form over the pages' body limit (64 KiB) arrived empty and was answered
/// "The login or password is not correct", though the credentials were right. It is refused as
/// too large (413, the pages' own style), and the link still works.
#[tokio::test]
async fn a_form_over_the_body_limit_is_refused_as_too_large_on_the_page() {
    let app = spawn_app().await;
    let (_, _, reply) = platform_call(&app, "shopAccountBind", &bind_body("B0310", "X10")).await;
    let path = reply["authorizeUrl"]
        .as_str()
        .unwrap()
        .trim_start_matches(&app.url)
        .to_owned();
    let form = "login=seller%40demo.whalet.test&password=demo-seller";
    let padded = format!("{form}&pad={}", "x".repeat(70_000));
    let (status, html) = app
        .post_raw(
            &format!("{path}/login"),
            "application/x-www-form-urlencoded",
            padded.into_bytes(),
        )
        .await;
    assert_eq!(status, 413, "{html:.2000}");
    assert!(html.contains("The form was too large"), "{html:.2000}");
    assert!(html.contains("larger than 65536 bytes"), "{html:.2000}");
    assert!(!html.contains("not correct"), "{html:.2000}");
    assert!(html.contains("<style>"), "the pages' own template");
    let (status, html) = app
        .post_raw(
            &format!("{path}/login"),
            "application/x-www-form-urlencoded",
            form.as_bytes().to_vec(),
        )
        .await;
    // Logged in: back to the link, which shows the consent (post-redirect-get).
    assert_eq!(status, 303, "{html:.2000}");
    app.shutdown().await;
}

/// Regression: a `redirectUrl` of `javascript:…` was stored and shown as the seller's "Return
/// to…" link, a stored XSS on the simulator's origin. Only http(s) links are accepted.
#[tokio::test]
async fn only_web_links_are_accepted_for_the_sellers_page() {
    let app = crate::helpers::spawn_app().await;
    for (field, url) in [
        (
            "redirectUrl",
            "javascript:fetch('/__sim/reset',{method:'POST'})",
        ),
        ("shopUrl", "data:text/html,<script>alert(1)</script>"),
        ("redirectUrl", "https://"),
    ] {
        let mut body = bind_body("B-XSS", "S-XSS");
        body[field] = json!(url);
        let (code, detail, _) = crate::helpers::platform_call(&app, "shopAccountBind", &body).await;
        assert_eq!(code, "PARAMETER_ERROR", "{field}={url}: {detail}");
        assert!(
            detail.contains(&format!(
                "{field} must be an absolute http:// or https:// URL with a host, got "
            )),
            "{detail}"
        );
    }
    let mut body = bind_body("B-OK", "S-OK");
    body["redirectUrl"] = json!("https://marketplace.example/back");
    let (code, detail, _) = crate::helpers::platform_call(&app, "shopAccountBind", &body).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    app.shutdown().await;
}

/// Regression: under the manual clock the shop's governing binding was the newest by time, and
/// bindings made in one virtual millisecond tied: a rejected `Z1` (last in bindId order) hid
/// `A2`, still waiting, so `M3` and `Q4` were accepted beside it, all PROCESSING at once.
#[tokio::test]
async fn a_shop_has_at_most_one_binding_waiting_at_the_same_virtual_time() {
    let app = spawn_app().await;
    let bind = |bind_id: &'static str| {
        let app = &app;
        async move { platform_call(app, "shopAccountBind", &bind_body(bind_id, "SHOP-X")).await }
    };
    assert_eq!(bind("Z1").await.0, "SUCCESS");
    let (status, _) = trigger(&app, "platform.binding.rejected", json!({"bindId": "Z1"})).await;
    assert_eq!(status, 200);
    assert_eq!(bind("A2").await.0, "SUCCESS");
    for bind_id in ["M3", "Q4"] {
        let (code, detail, _) = bind(bind_id).await;
        assert_eq!(code, "FAILURE", "{bind_id}: {detail}");
        assert!(
            detail.contains("has a binding waiting for the seller (bindId \"A2\""),
            "{bind_id}: {detail}"
        );
        let (code, detail, _) =
            platform_call(&app, "shopAccountBindQuery", &json!({"bindId": bind_id})).await;
        assert_eq!(code, "FAILURE", "{bind_id} was not stored: {detail}");
    }
    let (status, _) = trigger(&app, "platform.binding.approved", json!({"bindId": "A2"})).await;
    assert_eq!(status, 200);
    let (code, detail, _) = bind("M3").await;
    assert_eq!(code, "FAILURE");
    assert!(
        detail.contains("is already bound to this partner (bindId \"A2\")"),
        "{detail}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_authorize_url_takes_only_a_plain_host_header() {
    let app = spawn_with(Setup {
        config: Some("[platform]\nauth = \"none\"\n".into()),
        ..Setup::default()
    })
    .await;
    let bind = |bind_id: &'static str, host: &'static str| {
        let url = format!("{}/v1/platform/shopAccountBind", app.url);
        async move {
            let reply = reqwest::Client::new()
                .post(url)
                .header("host", host)
                .header("content-type", "application/json")
                .body(bind_body(bind_id, &format!("SHOP-{bind_id}")).to_string())
                .send()
                .await
                .unwrap();
            let body: Value = serde_json::from_str(&reply.text().await.unwrap()).unwrap();
            body["authorizeUrl"].as_str().unwrap_or_default().to_owned()
        }
    };
    let named = bind("H1", "whalet-sim:8080").await;
    assert!(
        named.starts_with("http://whalet-sim:8080/authorize/"),
        "{named}"
    );
    // Not a plain host: the link carries the address the connection reached.
    let crafted = bind("H2", "evil.example/x?y=").await;
    assert!(
        crafted.starts_with(&format!("{}/authorize/", app.url)),
        "{crafted}"
    );
    app.shutdown().await;
}

/// Regression: a material's `tradeAmount` sent as a JSON number was read through a double
/// (`1e2` and `1.0000000000000001` accepted, `-0` echoed as `-0.0`); it is read as the
/// characters sent, as on `paymentApply`.
#[tokio::test]
async fn a_material_amount_number_is_read_as_the_characters_sent() {
    let app = spawn_app().await;
    for (i, (number, says)) in [
        ("1e2", "\"1e2\" is not a plain decimal number"),
        ("1.0000000000000001", "has 16 decimal places"),
        ("-0", "\"-0\" is zero written with a minus sign"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut row = material(&format!("N{i}"));
        row["tradeAmount"] = json!("AMOUNT");
        let text = json!({"shopId": "1686214", "materials": [row]})
            .to_string()
            .replace("\"AMOUNT\"", number);
        let no = format!("MAT-N{i}");
        let sealed =
            crate::helpers::seal_text(&app, ("tradeMaterialsUpload", &no), text.as_bytes(), |k| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .encode(k)
                    .into_bytes()
            });
        let (_, answer) = app
            .post_raw(
                "/v1/platform/tradeMaterialsUpload",
                "application/json",
                sealed,
            )
            .await;
        let reply: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(
            reply["head"]["code"], "PARAMETER_ERROR",
            "{number}: {reply}"
        );
        let journal = app.get_json("/__sim/requests?surface=platform").await;
        let detail = journal["requests"][0]["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(detail.contains(says), "{number}: {detail}");
    }
    assert_eq!(materials_count(&app), 0);
    app.shutdown().await;
}

/// Regression (round 16, the platform half): with the binding's notification suppressed by a
/// scenario, the seller's page said the partner "is being notified"; it is recorded, never sent,
/// and the page says the partner will see the result when it queries the binding.
#[tokio::test]
async fn the_page_does_not_claim_a_suppressed_notification() {
    let app = spawn_app().await;
    let scenario = "name = \"quiet\"\n[[rule]]\nname = \"s\"\nsurface = \"platform\"\n\
                    operation = \"shopAccountBind\"\n[rule.then.notify]\nsuppress = true\n";
    let (status, body) = app
        .load_scenario(scenario, "tenant=whalet:202400000000001")
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, _, reply) = platform_call(&app, "shopAccountBind", &bind_body("B0400", "X40")).await;
    let link = reply["authorizeUrl"].as_str().unwrap();
    let done = app.decide_on_page(link, "approve").await;
    assert!(
        done.contains("will see the result the next time it checks the binding"),
        "{done}"
    );
    assert!(!done.contains("is being notified"), "{done}");
    let list = app
        .get_json("/__sim/notifications?apiCode=shopAccountBindNotify")
        .await;
    assert_eq!(list["notifications"][0]["status"], "suppressed", "{list}");
    assert!(app.receiver.received().is_empty());
    let (_, _, q) = platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B0400"})).await;
    assert_eq!(q["status"], "SUCCESS");
    app.shutdown().await;
}
