//! Regressions of the control plane's edges: what the guard and the dashboard echo of a
//! client's values, what the OpenAPI document says the endpoints accept (checked against the
//! endpoints themselves), and the seller page's answer to a form it cannot read.

use serde_json::{json, Map, Value};

use crate::helpers::{platform_call, spawn_app, spawn_with, Setup, TestApp};

/// A raw request with chosen headers; (status, body).
async fn send(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut req = client.request(method.parse().unwrap(), format!("{url}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.body(body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// A refusal to provoke: method, headers, the status and words expected.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);

/// Regression: the guard's 403s and 415 and the dashboard's 404 echoed the client's Host,
/// Origin, Sec-Fetch-Site, Content-Type and asset name whole (a 300 KB Host gave a 300 KB 403).
/// Each is cut as every other echo of the control plane is (`… N more bytes`).
#[tokio::test]
async fn the_guard_and_the_dashboard_echo_a_long_client_value_cut() {
    let app = spawn_app().await;
    let long = |c: char| c.to_string().repeat(100_000);
    let (host, origin, site, kind) = (
        format!("{}.example", long('h')),
        format!("http://{}", long('o')),
        long('s'),
        format!("text/{}", long('t')),
    );
    let own = app.url.trim_start_matches("http://").to_owned();
    let cases: Vec<Case> = vec![
        (
            "GET",
            vec![("host", host.as_str())],
            403,
            "is not a name of this simulator",
        ),
        (
            "POST",
            vec![("origin", origin.as_str())],
            403,
            "cross-site request refused: Origin",
        ),
        (
            "POST",
            vec![("host", own.as_str()), ("sec-fetch-site", site.as_str())],
            403,
            "Sec-Fetch-Site is",
        ),
        (
            "POST",
            vec![
                ("sec-fetch-site", "same-origin"),
                ("content-type", kind.as_str()),
            ],
            415,
            "a browser must send control-plane bodies as application/json",
        ),
    ];
    for (method, headers, status, says) in cases {
        let path = if method == "GET" {
            "/__sim/requests"
        } else {
            "/__sim/reset"
        };
        let (got, body) = send(&app.url, method, path, &headers, b"{}".to_vec()).await;
        assert_eq!(got, status, "{:.300}", body);
        assert!(body.contains(says), "{body:.300}");
        assert!(body.len() < 2_000, "{} bytes: {body:.300}", body.len());
        assert!(body.contains("more bytes"), "{body:.600}");
    }
    let name = format!("{}.js", "a".repeat(20_000));
    let (status, body) = send(
        &app.url,
        "GET",
        &format!("/__sim/ui/assets/{name}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(status, 404, "{body:.300}");
    assert!(body.starts_with("no dashboard asset \"aaa"), "{body:.300}");
    assert!(body.len() < 1_000, "{} bytes", body.len());
    assert!(body.contains("more bytes"), "{body}");
    let (status, page) = send(
        &app.url,
        "GET",
        &format!("/__sim/ui/{}/x", "v".repeat(20_000)),
        &[],
        vec![],
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        page.contains("There is no dashboard page at"),
        "{page:.300}"
    );
    assert!(!page.contains(&"v".repeat(1_000)), "the path is cut");
    // Nothing was refused that should pass: the journal still answers.
    assert_eq!(app.get("/__sim/requests").await.0, 200);
    app.shutdown().await;
}

/// Every (method, path, operation) of the document, with the placeholders filled.
fn operations(doc: &Value) -> Vec<(String, String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let concrete = path
                .replace("{id}", "ntf_999999")
                .replace("{event}", "sim.notify.down")
                .replace("{name}", "no-such-scenario");
            all.push((
                method.to_ascii_uppercase(),
                path.clone(),
                concrete,
                op.clone(),
            ));
        }
    }
    all
}

/// A value of the wrong type for a schema: text for a number, a number for text.
fn wrong_value(schema: &Value) -> Value {
    match schema["type"].as_str() {
        Some("integer" | "number" | "boolean" | "object") => json!("x"),
        _ => json!(12),
    }
}

/// Regression: every request body was documented `"required": false` with untyped fields and
/// every query parameter as text, though the endpoints refuse an empty body, a missing field and
/// a non-integer `limit`. The document now says what they accept; each claim is checked here
/// against the endpoint.
#[tokio::test]
async fn the_openapi_document_says_what_the_endpoints_refuse() {
    let app = spawn_app().await;
    let doc = app.get_json("/__sim/openapi.json").await;
    let ops = operations(&doc);
    let mut checked = (0, 0, 0, 0);
    for (method, path, concrete, op) in &ops {
        let endpoint = format!("{method} {path}");
        // Query parameters: an integer or boolean one refuses "x"; an integer one takes 0.
        for param in op["parameters"].as_array().unwrap() {
            let kind = param["schema"]["type"].as_str().unwrap();
            if param["in"] != "query" || kind == "string" {
                continue;
            }
            assert!(matches!(kind, "integer" | "boolean"), "{endpoint}: {param}");
            let name = param["name"].as_str().unwrap();
            let (status, body) = send(
                &app.url,
                method,
                &format!("{concrete}?{name}=x"),
                &[],
                vec![],
            )
            .await;
            assert_eq!(status, 400, "{endpoint} {name}=x: {body}");
            // Named as written, or as its other spelling (`timeout_ms` is `timeoutMs`).
            let plain = |t: &str| t.replace('_', "").to_ascii_lowercase();
            assert!(plain(&body).contains(&plain(name)), "{endpoint}: {body}");
            if kind == "integer" {
                let (status, body) = send(
                    &app.url,
                    method,
                    &format!("{concrete}?{name}=0"),
                    &[],
                    vec![],
                )
                .await;
                assert_ne!(status, 400, "{endpoint} {name}=0: {body}");
                if let Some(max) = param["schema"]["maximum"].as_u64() {
                    let query = format!("{concrete}?{name}={}", max + 1);
                    let (status, body) = send(&app.url, method, &query, &[], vec![]).await;
                    assert_eq!(status, 400, "{endpoint} {name} over its maximum: {body}");
                }
            }
            checked.0 += 1;
        }
        let Some(request) = op.get("requestBody") else {
            continue;
        };
        let required = request["required"].as_bool().unwrap();
        let schema = &request["content"]["application/json"]["schema"];
        let (status, body) = send(&app.url, method, concrete, &[], vec![]).await;
        if required {
            // A body the document requires: an empty one, and `{}` where fields are required,
            // are refused.
            assert_eq!(status, 400, "{endpoint} with no body: {body}");
            checked.1 += 1;
            let mut names: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for choice in schema["oneOf"].as_array().into_iter().flatten() {
                names.extend(
                    choice["required"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(Value::as_str),
                );
            }
            if !names.is_empty() {
                let (status, body) = send(&app.url, method, concrete, &[], b"{}".to_vec()).await;
                assert_eq!(status, 400, "{endpoint} with {{}}: {body}");
                assert!(
                    names.iter().any(|n| body.contains(n)),
                    "{endpoint}: the refusal names a required field {names:?}: {body}"
                );
                checked.2 += 1;
            }
        } else {
            assert_ne!(
                status, 400,
                "{endpoint}: an optional body may be left out: {body}"
            );
        }
        // Each typed field refuses a value of another type.
        for (name, field) in schema["properties"].as_object().into_iter().flatten() {
            if field.get("type").is_none() {
                continue;
            }
            let mut body = Map::new();
            for other in schema["required"].as_array().into_iter().flatten() {
                let other = other.as_str().unwrap();
                let enumerated = &schema["properties"][other]["enum"];
                let value = enumerated.as_array().and_then(|e| e.last()).cloned();
                body.insert(other.to_owned(), value.unwrap_or(json!("whalet")));
            }
            body.insert(name.clone(), wrong_value(field));
            let text = serde_json::to_vec(&body).unwrap();
            let (status, reply) = send(&app.url, method, concrete, &[], text).await;
            assert_eq!(status, 400, "{endpoint} {} : {reply}", Value::Object(body));
            checked.3 += 1;
        }
    }
    assert!(
        checked.0 >= 5,
        "integer/boolean parameters checked: {checked:?}"
    );
    assert!(checked.1 >= 5, "required bodies checked: {checked:?}");
    assert!(checked.2 >= 3, "required fields checked: {checked:?}");
    assert!(checked.3 >= 5, "typed fields checked: {checked:?}");
    // The trigger's parameters: text, and `count` as a number.
    let trigger = &doc["paths"]["/__sim/trigger/{event}"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    assert_eq!(
        trigger["additionalProperties"]["type"], "string",
        "{trigger}"
    );
    let count = trigger["properties"]["count"].to_string();
    assert!(count.contains("\"integer\""), "{count}");
    let (status, body) = app
        .post(
            "/__sim/trigger/whalet.connectivity.notify",
            &json!({"partnerId": "202400000000001", "count": 2}),
        )
        .await;
    assert_eq!(status, 200, "a number for count is taken: {body}");
    // The refused switches changed nothing: the clock is manual still.
    assert_eq!(app.get_json("/__sim/clock").await["mode"]["mode"], "manual");
    app.shutdown().await;
}

const TOKEN: &str = "s3cret-admin-token";

/// Regression: the document declared no security though an admin token makes every endpoint but
/// health answer 401. With a token, it requires the bearer scheme everywhere but health; each
/// operation answers 401 without the token exactly where the document says it needs it.
#[tokio::test]
async fn the_openapi_document_declares_the_admin_token_where_it_is_needed() {
    let open = spawn_app().await;
    let doc = open.get_json("/__sim/openapi.json").await;
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        (&scheme["type"], &scheme["scheme"]),
        (&json!("http"), &json!("bearer"))
    );
    assert!(
        doc["security"].as_array().unwrap().contains(&json!({})),
        "without a token nothing is needed: {}",
        doc["security"]
    );
    open.shutdown().await;

    let app = spawn_with(Setup {
        config: Some(format!("[server]\nadmin_token = \"{TOKEN}\"\n")),
        ..Setup::default()
    })
    .await;
    let bearer = format!("Bearer {TOKEN}");
    let (status, text) = send(
        &app.url,
        "GET",
        "/__sim/openapi.json",
        &[("authorization", bearer.as_str())],
        vec![],
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let global = doc["security"].as_array().unwrap();
    assert!(global.contains(&json!({"bearer": []})), "{global:?}");
    assert!(!global.contains(&json!({})), "{global:?}");
    let mut exempt = Vec::new();
    for (method, path, concrete, op) in operations(&doc) {
        let security = op.get("security").unwrap_or(&doc["security"]);
        let needs = !security.as_array().unwrap().is_empty();
        let (status, body) = send(&app.url, &method, &concrete, &[], vec![]).await;
        if needs {
            assert_eq!(status, 401, "{method} {path}: {body}");
        } else {
            assert_ne!(status, 401, "{method} {path}: {body}");
            exempt.push(format!("{method} {path}"));
        }
    }
    assert_eq!(exempt, vec!["GET /__sim/health"]);
    app.shutdown().await;
}

/// Regression: a login form that is not UTF-8 was read as an empty form and answered "The login
/// or password is not correct" (401). It is refused as unreadable (400, the pages' own style), and
/// the link still works.
#[tokio::test]
async fn a_login_form_that_is_not_utf8_is_refused_as_unreadable() {
    let app: TestApp = spawn_app().await;
    let bind = crate::platform::bind_body("B0320", "X20");
    let (_, _, reply) = platform_call(&app, "shopAccountBind", &bind).await;
    let path = reply["authorizeUrl"]
        .as_str()
        .unwrap()
        .trim_start_matches(&app.url)
        .to_owned();
    let mut form = b"login=seller%40demo.whalet.test&password=demo-seller".to_vec();
    let good = form.clone();
    form.push(0xff);
    let (status, html) = app
        .post_raw(
            &format!("{path}/login"),
            "application/x-www-form-urlencoded",
            form,
        )
        .await;
    assert_eq!(status, 400, "{html:.2000}");
    assert!(html.contains("The form could not be read"), "{html:.2000}");
    assert!(html.contains("not UTF-8"), "{html:.2000}");
    assert!(!html.contains("not correct"), "{html:.2000}");
    assert!(html.contains("<style>"), "the pages' own template");
    let (status, html) = app
        .post_raw(
            &format!("{path}/decision"),
            "application/x-www-form-urlencoded",
            b"session=s&decision=approve\xff".to_vec(),
        )
        .await;
    assert_eq!(status, 400, "{html:.2000}");
    assert!(html.contains("The form could not be read"), "{html:.2000}");
    let (status, html) = app
        .post_raw(
            &format!("{path}/login"),
            "application/x-www-form-urlencoded",
            good,
        )
        .await;
    // Logged in: back to the link, which shows the consent (post-redirect-get).
    assert_eq!(status, 303, "{html:.2000}");
    app.shutdown().await;
}
