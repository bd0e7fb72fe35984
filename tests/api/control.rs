//! The control plane: the OpenAPI document matches what is served, triggers (endpoint and CLI),
//! state and reset per tenant, explain.

use serde_json::{json, Value};

use crate::helpers::{second_partner_config, spawn_app, spawn_with, Setup, SECOND_PARTNER};

const DEMO: &str = "whalet:202400000000001";

fn is_fallback(body: &Value) -> bool {
    body["error"]
        .as_str()
        .is_some_and(|e| e.starts_with("no control endpoint"))
}

#[tokio::test]
async fn every_documented_route_is_served_and_nothing_else() {
    let app = spawn_app().await;
    let doc = app.get_json("/__sim/openapi.json").await;
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{}", paths.len());
    let http = reqwest::Client::new();
    let mut checked = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let concrete = path
                .replace("{id}", "ntf_999999")
                .replace("{event}", "no.such.event")
                .replace("{name}", "no-such-scenario");
            // Only the wait takes a timeout (any other endpoint refuses the parameter).
            let query = if path.ends_with("/wait") {
                "?timeoutMs=1"
            } else {
                ""
            };
            let url = format!("{}{concrete}{query}", app.url);
            let request = match method.as_str() {
                "get" => http.get(&url),
                "post" => http.post(&url).body("{}"),
                "delete" => http.delete(&url),
                other => panic!("unexpected method {other} in the document"),
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value =
                serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
            assert!(
                !is_fallback(&body),
                "{method} {path} is documented but not served: {body}"
            );
            if method == "get" && !path.contains('{') {
                assert_ne!(status, 404, "GET {path}: {body}");
            }
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()));
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
    // What is not in the document is not served (a documented path asked with another method
    // is a 405: tests/api/control_round23.rs).
    for (method, path) in [("GET", "/__sim/nope"), ("PUT", "/__sim/nope/clock")] {
        let response = http
            .request(method.parse().unwrap(), format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404);
        let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert!(is_fallback(&body), "{body}");
    }
    // The trigger path lists every trigger the app serves.
    let triggers = app.get_json("/__sim/triggers").await["triggers"].clone();
    let names: Vec<&str> = triggers
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    let documented =
        &doc["paths"]["/__sim/trigger/{event}"]["post"]["parameters"][0]["schema"]["enum"];
    assert_eq!(documented, &json!(names));
    app.shutdown().await;
}

/// A server not started with `--account-crypto` says so and counts nothing, however much crypto
/// it has done.
#[tokio::test]
async fn the_crypto_account_is_off_unless_asked_for() {
    let app = spawn_app().await;
    let body = json!({"notifyFlag": "N", "responseFlag": "Y"});
    let reply = app.client.call("connectivity", &body).await.unwrap();
    assert_eq!(reply.code, "SUCCESS", "{}", reply.detail);
    let mut totals = app.get_json("/__sim/crypto").await;
    // The process's own CPU clock is served whether or not the crypto is counted.
    let process = totals.as_object_mut().unwrap().remove("processCpuNs");
    assert!(
        process
            .as_ref()
            .and_then(Value::as_u64)
            .is_some_and(|ns| ns > 0),
        "{process:?}"
    );
    assert_eq!(
        totals,
        json!({"accounting": false, "calls": 0, "cpuNs": 0, "sampleOneIn": 8, "strata": []})
    );
}

#[tokio::test]
async fn triggers_check_their_parameters_and_are_journaled() {
    let app = spawn_app().await;
    let (status, body) = app.post("/__sim/trigger/no.such", &json!({})).await;
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap().contains("sim.notify.down"),
        "{body}"
    );
    let (status, body) = app
        .post("/__sim/trigger/sim.notify.down", &json!({"tenantt": DEMO}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("no parameter \"tenantt\""),
        "{body}"
    );
    let (status, body) = app
        .post(
            "/__sim/trigger/sim.notify.down",
            &json!({"tenant": DEMO, "for": "soon"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app
        .post(
            "/__sim/trigger/sim.notify.down",
            &json!({"tenant": DEMO, "for": "5s"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Every time in an answer has its ISO-8601 twin (README "Control plane").
    let until = body["result"]["until"].as_i64().unwrap();
    let clock = app.get_json("/__sim/clock").await;
    assert_eq!(until, clock["now"].as_i64().unwrap() + 5_000, "{body}");
    assert_eq!(
        body["result"]["untilUtc"].as_str(),
        Some(whalet_sim::clock::format::utc_z(until).as_str()),
        "{body}"
    );
    let journal = app.get_json("/__sim/requests?surface=trigger").await["requests"].clone();
    assert_eq!(
        journal.as_array().unwrap().len(),
        2,
        "fired attempts are journaled: {journal}"
    );
    assert_eq!(journal[0]["code"], "OK");
    assert_eq!(journal[1]["code"], "FAILED");
    app.shutdown().await;
}

#[tokio::test]
async fn the_trigger_command_fires_an_event_on_a_running_simulator() {
    let app = spawn_app().await;
    let url = app.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
            .args([
                "trigger",
                "sim.notify.down",
                &format!("tenant={DEMO}"),
                "reason=cli",
                "--url",
                &url,
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("sim.notify.down"), "{stdout}");
    app.client
        .call(
            "connectivity",
            &json!({"notifyFlag": "Y", "responseFlag": "N"}),
        )
        .await
        .unwrap();
    app.advance(0.5).await;
    let n = app.get_json("/__sim/notifications").await["notifications"][0].clone();
    assert!(
        n["attempts"][0]["verdict"]
            .as_str()
            .unwrap()
            .contains("cli"),
        "{n}"
    );
    let url = app.url.clone();
    let bad = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
            .args(["trigger", "no.such", "--url", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!bad.status.success());
    let url = app.url.clone();
    let list = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
            .args(["trigger", "--list", "--url", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let listing = String::from_utf8_lossy(&list.stdout);
    assert!(
        listing.contains("sim.notify.down tenant?=... for?=..."),
        "{listing}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn reset_of_one_tenant_keeps_the_others() {
    let app = spawn_with(Setup {
        config: Some(second_partner_config()),
        ..Default::default()
    })
    .await;
    let other = app.client_as(SECOND_PARTNER);
    for client in [&app.client, &other] {
        client
            .call_with(
                "connectivity",
                "SAME-NO",
                &json!({"notifyFlag": "N", "responseFlag": "N"}),
            )
            .await
            .unwrap();
    }
    let state = app.get_json("/__sim/state").await;
    let whalet_tenants = state["tenants"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("whalet:"))
        .count();
    assert_eq!(whalet_tenants, 2, "{state}");
    let (status, body) = app.post("/__sim/reset", &json!({"tenant": DEMO})).await;
    assert_eq!((status, &body["reset"]), (200, &json!(DEMO)));
    let replay = |c: whalet_sim::partner::WhaletClient| async move {
        c.call_with(
            "connectivity",
            "SAME-NO",
            &json!({"notifyFlag": "N", "responseFlag": "N"}),
        )
        .await
        .unwrap()
        .code
    };
    assert_eq!(
        replay(app.client.clone()).await,
        "SUCCESS",
        "demo tenant was reset"
    );
    assert_eq!(
        replay(other.clone()).await,
        "REQUEST_NO_NOT_UNIQUE",
        "the other was not"
    );
    let (status, body) = app
        .post("/__sim/reset", &json!({"tenant": "whalet:nobody"}))
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = app.post("/__sim/reset", &json!({"tenant": "bogus"})).await;
    assert_eq!(status, 400);
    app.shutdown().await;
}

#[tokio::test]
async fn explain_names_the_rule_without_counting() {
    let app = spawn_app().await;
    let text = "name = \"x\"\n[[rule]]\nname = \"big\"\nsurface = \"pockyt\"\nnth = 1\n[rule.when]\namount = { min = \"1000\" }\n[rule.then]\nresult = \"failure\"\nreason = \"too big\"\n";
    assert_eq!(app.load_scenario(text, "").await.0, 200);
    let ask = |amount: &str| json!({"surface": "pockyt", "tenant": "pockyt:202333", "operation": "/v3/payouts/pay", "fields": {"amount": amount}});
    for _ in 0..2 {
        let (status, body) = app.post("/__sim/scenarios/explain", &ask("1500.00")).await;
        assert_eq!(status, 200);
        assert_eq!(body["decision"]["rule"], "big", "{body}");
        assert_eq!(body["decision"]["result"]["reason"], "too big");
    }
    let (_, body) = app.post("/__sim/scenarios/explain", &ask("999.99")).await;
    assert_eq!(body["decision"]["rule"], Value::Null);
    let (status, body) = app
        .post("/__sim/scenarios/explain", &json!({"surface": "paypal"}))
        .await;
    assert_eq!(status, 400, "{body}");
    app.shutdown().await;
}

/// A `tenant` that is not a string (`null`, a number…) used to read as "no tenant" and reset
/// every tenant, the journal, the timers and the links; it is a 400 and nothing changes.
#[tokio::test]
async fn reset_with_a_tenant_that_is_not_a_string_changes_nothing() {
    let app = spawn_app().await;
    app.connectivity().await;
    let state = app.get_json("/__sim/state").await;
    let journal = app.get_json("/__sim/requests").await;
    for (tenant, shown) in [
        (json!(null), "null"),
        (json!(5), "5"),
        (json!(true), "true"),
        (json!({"id": DEMO}), "{\"id\":\"whalet:202400000000001\"}"),
    ] {
        let (status, body) = app.post("/__sim/reset", &json!({ "tenant": tenant })).await;
        assert_eq!(status, 400, "{tenant}: {body}");
        assert_eq!(
            body["error"],
            format!("tenant must be a string, got {shown}")
        );
    }
    let (status, body) = app.post("/__sim/reset", &json!({"tenant": ""})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(app.get_json("/__sim/state").await, state);
    assert_eq!(app.get_json("/__sim/requests").await, journal);
    // Explain reads its fields the same way.
    let (status, body) = app
        .post(
            "/__sim/scenarios/explain",
            &json!({"surface": "whalet", "tenant": 5, "operation": "connectivity"}),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("tenant must be a string, got 5"))
    );
    let (status, body) = app
        .post(
            "/__sim/scenarios/explain",
            &json!({"surface": "whalet", "tenant": DEMO, "operation": 7}),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("operation must be a string, got 7"))
    );
    let (status, body) = app
        .post(
            "/__sim/scenarios/explain",
            &json!({"surface": "whalet", "tenant": DEMO, "operation": "connectivity", "fields": 1}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    // A journal limit that is not a number used to list everything.
    let (status, body) = app.get("/__sim/requests?limit=ten").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"],
        "limit must be a non-negative integer, got \"ten\""
    );
    app.shutdown().await;
}

/// A trigger parameter given as `null`, `""` or a number used to read as absent, so the trigger
/// acted on its default (the demo merchant or app got the money); it is a 400 naming the
/// parameter, and nothing changes.
#[tokio::test]
async fn a_trigger_parameter_that_is_not_text_never_falls_back_to_the_demo_tenant() {
    let app = spawn_app().await;
    let state = app.get_json("/__sim/state").await;
    let cases = [
        ("pockyt.balance.funded", "merchantNo", json!(999), "999"),
        ("pockyt.balance.funded", "merchantNo", json!(null), "null"),
        ("infinia.platform.funded", "appId", json!(null), "null"),
        (
            "infinia.platform.funded",
            "appId",
            json!(["demo-app"]),
            "[\"demo-app\"]",
        ),
    ];
    for (event, param, value, shown) in cases {
        let params = json!({"currency": "USD", "amount": "1.00", param: value});
        let (status, body) = app.post(&format!("/__sim/trigger/{event}"), &params).await;
        assert_eq!(status, 400, "{event} {params}: {body}");
        assert_eq!(
            body["error"],
            format!("{event}: parameter {param} must be a string, got {shown}")
        );
    }
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.balance.funded",
            &json!({"currency": "USD", "amount": "1.00", "merchantNo": ""}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("merchantNo is empty"),
        "{body}"
    );
    assert_eq!(
        app.get_json("/__sim/state").await,
        state,
        "nobody was credited"
    );
    assert_eq!(
        app.get_json("/__sim/requests?surface=trigger").await["requests"],
        json!([]),
        "refused before firing"
    );
    // Left out, the parameter takes its default; given as text, it is used.
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.balance.funded",
            &json!({"currency": "USD", "amount": "1.00"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.balance.funded",
            &json!({"currency": "USD", "amount": "1.00", "merchantNo": "999"}),
        )
        .await;
    assert_eq!(status, 404, "a merchant that does not exist: {body}");
    app.shutdown().await;
}

/// Explain answered "no rule decides" (the happy path) for a misspelt operation, a tenant that
/// does not exist and a tenant of another surface: it checks the operation as a rule's is at
/// load (with the nearest name), a tenant as `/__sim/state` does (404), and that the tenant is
/// the surface's (400).
#[tokio::test]
async fn explain_checks_the_operation_and_the_tenant() {
    let app = spawn_app().await;
    let ask = |surface: &str, tenant: &str, operation: &str| json!({"surface": surface, "tenant": tenant, "operation": operation});
    let explain = |body: Value| {
        let app = &app;
        async move { app.post("/__sim/scenarios/explain", &body).await }
    };
    let (status, body) = explain(ask("whalet", DEMO, "conectivity")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"],
        "operation: surface whalet has no operation named \"conectivity\"; did you mean \"connectivity\"? (`GET /__sim/operations` lists them)"
    );
    let (status, body) = explain(ask("whalet", "whalet:20240000000001", "connectivity")).await;
    assert_eq!(status, 404, "{body}");
    let text = body["error"].as_str().unwrap();
    assert!(
        text.starts_with("no tenant \"whalet:20240000000001\" is configured (configured: "),
        "{body}"
    );
    assert!(text.contains(DEMO), "{body}");
    let (status, body) = explain(ask("whalet", "pockyt:202333", "connectivity")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"],
        "tenant pockyt:202333 is not a tenant of surface whalet, whose tenants are whalet:id"
    );
    // Another surface's operation is not this one's; the platform is the Whalet partner's.
    let (status, body) = explain(ask("pockyt", "pockyt:202333", "connectivity")).await;
    assert_eq!(status, 400, "{body}");
    for (surface, tenant, operation) in [
        ("whalet", DEMO, "connectivity"),
        ("platform", DEMO, "balanceQuery"),
        ("pockyt", "pockyt:202333", "/v3/payouts/pay"),
    ] {
        let (status, body) = explain(ask(surface, tenant, operation)).await;
        assert_eq!(status, 200, "{surface} {operation}: {body}");
    }
    app.shutdown().await;
}

/// A reset whose query and body name different tenants reset the query's and ignored the body:
/// it is a 400 and nothing is reset.
#[tokio::test]
async fn a_reset_whose_query_and_body_disagree_is_refused() {
    let app = spawn_app().await;
    app.connectivity().await;
    let state = app.get_json("/__sim/state").await;
    let (status, body) = app
        .post(
            "/__sim/reset?tenant=pockyt:202333",
            &json!({"tenant": DEMO}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"],
        format!("?tenant=\"pockyt:202333\" and the body's tenant \"{DEMO}\" disagree; give one")
    );
    assert_eq!(app.get_json("/__sim/state").await, state);
    let (status, body) = app
        .post(
            &format!("/__sim/reset?tenant={DEMO}"),
            &json!({"tenant": DEMO}),
        )
        .await;
    assert_eq!((status, &body["reset"]), (200, &json!(DEMO)), "{body}");
    app.shutdown().await;
}

/// `sim.notify.down tenant=whalet:1` (no such tenant) answered 200 and did nothing; like the
/// other triggers it refuses a tenant that does not exist, naming those that do.
#[tokio::test]
async fn sim_notify_down_refuses_a_tenant_that_does_not_exist() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/__sim/trigger/sim.notify.down",
            &json!({"tenant": "whalet:1"}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let text = body["error"].as_str().unwrap();
    assert!(
        text.starts_with("sim.notify.down: no tenant \"whalet:1\" is configured (configured: ")
            && text.contains(DEMO),
        "{body}"
    );
    let (status, body) = app
        .post(
            "/__sim/trigger/sim.notify.up",
            &json!({"tenant": "pockyt:9"}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    // An existing tenant still goes down.
    let (status, body) = app
        .post("/__sim/trigger/sim.notify.down", &json!({"tenant": DEMO}))
        .await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

/// A trigger's journal entry named no tenant even when its parameters did, so
/// `/__sim/requests?tenant=` never listed the triggers that acted on a tenant.
#[tokio::test]
async fn a_triggers_journal_entry_names_its_tenant() {
    let app = spawn_app().await;
    app.trigger_ok(
        "pockyt.balance.funded",
        json!({"currency": "USD", "amount": "1", "merchantNo": "202333"}),
    )
    .await;
    app.trigger_ok("sim.notify.down", json!({"tenant": DEMO, "for": "1s"}))
        .await;
    let listed = |query: &str| {
        let app = &app;
        let query = query.to_owned();
        async move {
            app.get_json(&format!("/__sim/requests?surface=trigger&{query}"))
                .await["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["operation"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed("tenant=pockyt:202333").await,
        ["pockyt.balance.funded"]
    );
    assert_eq!(listed(&format!("tenant={DEMO}")).await, ["sim.notify.down"]);
    app.shutdown().await;
}

/// A trigger's own refusal of a parameter value did not say which trigger refused (`parameter
/// count must be …`, `tenant must be provider:id …`, `"abc" is not a duration`), though the
/// refusals `check_params` makes start with the trigger's name: every refusal of every trigger
/// now starts with it, once.
#[tokio::test]
async fn every_trigger_refusal_starts_with_the_triggers_name_once() {
    let app = spawn_app().await;
    let cases = [
        (
            "whalet.connectivity.notify",
            json!({"partnerId": "202400000000001", "count": "0"}),
            "whalet.connectivity.notify: parameter count must be a whole number from 1 to ",
        ),
        (
            "sim.notify.down",
            json!({"tenant": "bogus"}),
            "sim.notify.down: tenant must be provider:id, not \"bogus\"",
        ),
        (
            "sim.notify.down",
            json!({"tenant": DEMO, "for": "abc"}),
            "sim.notify.down: \"abc\" is not a duration",
        ),
        (
            "sim.notify.up",
            json!({"tenant": "bogus"}),
            "sim.notify.up: tenant must be provider:id",
        ),
        // It names itself already: not twice.
        (
            "whalet.account.ready",
            json!({"outUserId": "x".repeat(65)}),
            "whalet.account.ready: parameter outUserId is longer than 64 characters",
        ),
    ];
    for (name, params, start) in cases {
        let (status, body) = app.post(&format!("/__sim/trigger/{name}"), &params).await;
        assert_eq!(status, 422, "{name} {params}: {body}");
        let text = body["error"].as_str().unwrap();
        assert!(text.starts_with(start), "{name} {params}: {body}");
        assert_eq!(text.matches(name).count(), 1, "named once: {body}");
    }
    // The journal records the same message.
    let journal = app.get_json("/__sim/requests?surface=trigger").await;
    let detail = journal["requests"][0]["detail"].as_str().unwrap();
    assert!(detail.starts_with("whalet.account.ready: "), "{journal}");
    // A body that is no JSON object is refused naming the trigger too (round 16).
    for body in [&b"notjson"[..], b"[]"] {
        let (status, text) = app
            .post_raw(
                "/__sim/trigger/whalet.collection.received",
                "application/json",
                body.to_vec(),
            )
            .await;
        assert_eq!(status, 400, "{text}");
        assert!(
            text.contains(r#""error":"whalet.collection.received: the body"#),
            "{text}"
        );
    }
    // A tenant that does not exist is a 404 whichever parameter names it (round 16).
    for (name, params) in [
        (
            "whalet.collection.received",
            json!({"amount": "1", "partnerId": "999"}),
        ),
        (
            "pockyt.balance.funded",
            json!({"currency": "USD", "amount": "1", "merchantNo": "999"}),
        ),
        ("sim.notify.up", json!({"tenant": "whalet:999"})),
    ] {
        let (status, body) = app.post(&format!("/__sim/trigger/{name}"), &params).await;
        assert_eq!(status, 404, "{name}: {body}");
        let text = body["error"].as_str().unwrap();
        assert!(text.starts_with(&format!("{name}: ")), "{body}");
        assert!(text.contains(":999"), "{body}");
    }
    app.shutdown().await;
}

/// The only partner, app and merchant of a simulator whose demo tenants are off.
fn no_demo_config(partners: &str) -> String {
    format!(
        "[whalet]\ndemo_partner = false\n[infinia]\ndemo_app = false\n[pockyt]\n\
         demo_merchant = false\n{partners}\
         [[infinia.apps]]\napp_id = \"app-1\"\nmerchant_public_key = \"@{}\"\n\
         [[pockyt.merchants]]\nmerchant_no = \"m1\"\nstore_no = \"s1\"\ntoken = \"t1\"\n",
        crate::helpers::repo_path("keys/demo-infinia-merchant/public.pem")
    )
}

/// With the demo tenants off, a trigger given no tenant acted on Whalet's only partner but its
/// journal entry named no tenant (nor did coverage count it for one), and Pockyt and Infinia
/// refused it for a demo merchant or app nobody gave. Every surface now acts on its default
/// tenant, the demo one else the only one, and the journal and coverage name it.
#[tokio::test]
async fn without_the_demo_tenants_a_trigger_acts_on_the_only_one_and_names_it() {
    let app = spawn_with(Setup {
        config: Some(no_demo_config(&second_partner_config())),
        ..Setup::default()
    })
    .await;
    let fired = [
        ("whalet.account.ready", json!({}), "whalet:202400000000002"),
        (
            "pockyt.balance.funded",
            json!({"currency": "USD", "amount": "3.00"}),
            "pockyt:m1",
        ),
        (
            "infinia.platform.funded",
            json!({"currency": "USD", "amount": "1.00"}),
            "infinia:app-1",
        ),
    ];
    for (name, params, tenant) in fired {
        app.trigger_ok(name, params).await;
        let listed = app
            .get_json(&format!("/__sim/requests?surface=trigger&tenant={tenant}"))
            .await;
        assert_eq!(listed["requests"][0]["operation"], name, "{listed}");
        let url = format!("{}/__sim/coverage?tenant={tenant}", app.url);
        let bytes = reqwest::get(url).await.unwrap().bytes().await.unwrap();
        let report: Value = serde_json::from_slice(&bytes).unwrap();
        let (surface, event) = name.split_once('.').unwrap();
        let id = format!("{surface}.state.{event}");
        let item = report["surfaces"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["groups"].as_array().unwrap())
            .flat_map(|g| g["operations"].as_array().unwrap())
            .flat_map(|o| o["outcomes"].as_array().unwrap())
            .find(|i| i["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} is not in the report"));
        assert_eq!(item["hits"], 1, "{tenant}: {item}");
    }
    app.shutdown().await;
}

/// With the demo tenants off and two partners (two merchants), a trigger given no `partnerId`
/// (`merchantNo`) is refused naming the parameter and the choices, the same words on every
/// surface, changing nothing and naming no tenant in the journal.
#[tokio::test]
async fn without_a_default_tenant_a_trigger_names_the_parameter_and_the_choices() {
    let other = "[[whalet.partners]]\npartner_id = \"202400000000003\"\npublic_key = \"@";
    let partners = format!(
        "{}{other}{}\"\n",
        second_partner_config(),
        crate::helpers::repo_path("keys/demo-partner/public.pem")
    );
    let merchant =
        "[[pockyt.merchants]]\nmerchant_no = \"m2\"\nstore_no = \"s2\"\ntoken = \"t2\"\n";
    let app = spawn_with(Setup {
        config: Some(no_demo_config(&format!("{partners}{merchant}"))),
        ..Setup::default()
    })
    .await;
    let state = app.get_json("/__sim/state").await;
    let refused = [
        (
            "whalet.account.ready",
            json!({}),
            "give parameter partnerId (configured: 202400000000002, 202400000000003)",
        ),
        (
            "pockyt.balance.funded",
            json!({"currency": "USD", "amount": "3.00"}),
            "give parameter merchantNo (configured: m1, m2)",
        ),
    ];
    for (name, params, why) in refused {
        let (status, body) = app.post(&format!("/__sim/trigger/{name}"), &params).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"], format!("{name}: {why}"));
        let journal = app.get_json("/__sim/requests?surface=trigger").await;
        assert_eq!(journal["requests"][0]["tenant"], Value::Null, "{journal}");
    }
    assert_eq!(app.get_json("/__sim/state").await, state, "nothing changed");
    app.trigger_ok(
        "whalet.account.ready",
        json!({"partnerId": "202400000000003"}),
    )
    .await;
    app.shutdown().await;
}
