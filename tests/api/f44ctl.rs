//! Control-plane defects of stop 44: trigger refusals echo client values cut at the documented
//! 256 bytes; the served OpenAPI document states the bounds the clock and wait endpoints enforce;
//! what a reset empties (the journal and the seller authorization links) is what it says; and
//! `DELETE /__sim/scenarios?tenant=*` names the every-tenant scope as the other scenario
//! endpoints do.

use serde_json::{json, Value};

use crate::helpers::{platform_call, spawn_app, TestApp};
use crate::platform::bind_body;
use whalet_sim::text::ECHO_BYTES;

const DEMO: &str = "whalet:202400000000001";
const PARTNER: &str = "202400000000001";

/// The longest run of `c` in `text`, in bytes (`c` is ASCII).
fn longest_run(text: &str, c: char) -> usize {
    text.split(|x| x != c).map(str::len).max().unwrap_or(0)
}

/// Why `text` does not echo the client's long value cut (at most [`ECHO_BYTES`] of it, saying
/// how much was left out), if it does not.
fn uncut(what: &str, text: &str) -> Option<String> {
    let run = longest_run(text, 'z');
    if run == 0 {
        return Some(format!("{what}: the value is not echoed at all: {text}"));
    }
    if run > ECHO_BYTES || !text.contains(" more bytes") {
        return Some(format!(
            "{what}: {run} bytes of the value echoed ({} in all)",
            text.len()
        ));
    }
    None
}

async fn post_text(app: &TestApp, path: &str, body: &str) -> (u16, Value) {
    let (status, text) = app
        .post_raw(path, "application/json", body.as_bytes().to_vec())
        .await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The tester's repros, each with a 5,000-byte value: an unknown event, an unknown parameter
/// name, a count out of range (also journaled), a body that is not JSON, an unknown partner.
#[tokio::test]
async fn trigger_refusals_echo_a_long_client_value_cut_at_256_bytes() {
    let app = spawn_app().await;
    let long = "z".repeat(5_000);
    let cases: Vec<(String, String, u16)> = vec![
        (format!("/__sim/trigger/x{long}"), String::new(), 404),
        (
            "/__sim/trigger/whalet.connectivity.notify".to_owned(),
            json!({ long.clone(): "1" }).to_string(),
            400,
        ),
        (
            "/__sim/trigger/whalet.connectivity.notify".to_owned(),
            json!({"partnerId": PARTNER, "count": long}).to_string(),
            422,
        ),
        (
            "/__sim/trigger/whalet.connectivity.notify".to_owned(),
            json!({"partnerId": PARTNER, "count": [long]}).to_string(),
            400,
        ),
        (format!("/__sim/trigger/x{long}"), "{".to_owned(), 400),
        (
            "/__sim/trigger/whalet.connectivity.notify".to_owned(),
            json!({ "partnerId": long }).to_string(),
            404,
        ),
    ];
    let mut problems = Vec::new();
    for (path, body, expected) in &cases {
        let (status, answer) = post_text(&app, path, body).await;
        let what = format!(
            "POST {}… {}…",
            &path[..40.min(path.len())],
            &body[..20.min(body.len())]
        );
        assert_eq!(status, *expected, "{what}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        problems.extend(uncut(&what, error));
    }
    // The refused count reached the trigger, which journals its refusal in `detail` (the
    // request is journaled as sent, within the journal's own field bound).
    let journal = app.get_json("/__sim/requests?surface=trigger").await;
    let detail = journal["requests"][0]["detail"]
        .as_str()
        .unwrap_or_default();
    assert!(detail.contains("count"), "{journal}");
    problems.extend(uncut("the journaled count refusal", detail));
    assert!(problems.is_empty(), "{problems:#?}");
    app.shutdown().await;
}

/// Every parameter of every trigger, given a 5,000-byte value (the others a plausible one): a
/// refusal that echoes it, whether the parameter check's, the tenant check's or the trigger's
/// own (which names the object it did not find in its own words), echoes it cut.
#[tokio::test]
async fn every_trigger_refusal_echoes_a_long_parameter_cut() {
    let app = spawn_app().await;
    let long = "z".repeat(5_000);
    let listed = app.get_json("/__sim/triggers").await;
    let plausible = |name: &str| match name {
        "partnerId" => PARTNER,
        "appId" => "demo-app",
        "merchantNo" => "202333",
        "amount" => "1.00",
        "currency" => "USD",
        _ => "x1",
    };
    let mut problems = Vec::new();
    let mut tried = 0;
    for trigger in listed["triggers"].as_array().unwrap() {
        let name = trigger["name"].as_str().unwrap();
        let declared: Vec<&str> = trigger["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[0].as_str().unwrap())
            .collect();
        for target in declared
            .iter()
            .flat_map(|d| d.trim_end_matches('?').split('|'))
        {
            let mut params = serde_json::Map::new();
            for d in declared.iter().filter(|d| !d.ends_with('?')) {
                let first = d.split('|').next().unwrap();
                params.insert(first.to_owned(), json!(plausible(first)));
            }
            params.insert(target.to_owned(), json!(long));
            let (status, answer) = app
                .post(&format!("/__sim/trigger/{name}"), &Value::Object(params))
                .await;
            tried += 1;
            if status == 200 {
                continue;
            }
            // Refused for another reason (the object the others name does not exist), it need
            // not echo the value; echoing it, it cuts it.
            let error = answer["error"].as_str().unwrap_or_default();
            if longest_run(error, 'z') > 0 {
                problems.extend(uncut(&format!("{name} {target} ({status})"), error));
            }
        }
    }
    assert!(tried > 50, "{tried} parameters tried");
    assert!(problems.is_empty(), "{problems:#?}");
    app.shutdown().await;
}

/// The bounds of one field or query parameter in the served document.
struct Bounds {
    minimum: f64,
    exclusive_minimum: bool,
    maximum: f64,
}

fn bounds(schema: &Value, what: &str) -> Bounds {
    let number = |key: &str| {
        schema[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{what}: the document states no {key}: {schema}"))
    };
    Bounds {
        minimum: number("minimum"),
        exclusive_minimum: schema["exclusiveMinimum"] == json!(true),
        maximum: number("maximum"),
    }
}

/// The schema of body field `field` of `POST path` in the served document.
fn body_field(doc: &Value, path: &str, field: &str) -> Value {
    doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
        [field]
        .clone()
}

/// The schema of query parameter `name` of `GET path` in the served document.
fn query_param(doc: &Value, path: &str, name: &str) -> Value {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .map(|p| p["schema"].clone())
        .unwrap_or(Value::Null)
}

/// Just below and just above `x` (a relative step: these are floats from 1e-6 to 3e11).
fn below(x: f64) -> f64 {
    if x == 0.0 {
        -1e-9
    } else {
        x * (1.0 - 1e-9)
    }
}

fn above(x: f64) -> f64 {
    if x == 0.0 {
        f64::from_bits(1)
    } else {
        x * (1.0 + 1e-9)
    }
}

/// Each bound the document states is where the endpoint turns from taking a value to refusing
/// it with a 400: a client generated from the document sends nothing the endpoint refuses, and
/// is not kept from anything it takes.
#[tokio::test]
async fn each_documented_clock_and_wait_bound_is_where_the_endpoint_starts_refusing() {
    let app = spawn_app().await;
    let doc = app.get_json("/__sim/openapi.json").await;

    // POST /__sim/clock: scale.
    let scale = bounds(&body_field(&doc, "/__sim/clock", "scale"), "scale");
    let set_scale = |scale: f64| {
        let app = &app;
        async move {
            let (status, body) = app
                .post("/__sim/clock", &json!({"mode": "scaled", "scale": scale}))
                .await;
            assert_eq!(
                app.post("/__sim/clock", &json!({"mode": "manual"})).await.0,
                200
            );
            (status, body)
        }
    };
    let lowest = match scale.exclusive_minimum {
        true => above(scale.minimum),
        false => scale.minimum,
    };
    for (value, expected) in [
        (lowest, 200),
        (scale.maximum, 200),
        (below(scale.minimum), 400),
        (above(scale.maximum), 400),
    ] {
        let (status, body) = set_scale(value).await;
        assert_eq!(status, expected, "scale {value}: {body}");
    }
    if scale.exclusive_minimum {
        assert_eq!(
            set_scale(scale.minimum).await.0,
            400,
            "scale {}",
            scale.minimum
        );
    }

    // POST /__sim/clock/advance: seconds and ms.
    for field in ["seconds", "ms"] {
        let b = bounds(&body_field(&doc, "/__sim/clock/advance", field), field);
        assert!(
            !b.exclusive_minimum,
            "{field}: 0 moves nothing and is taken"
        );
        let step = |v: f64| match field {
            // ms is an integer: one below and one above.
            "ms" => json!(v as i64),
            _ => json!(v),
        };
        let (low, high) = match field {
            "ms" => (b.minimum - 1.0, b.maximum + 1.0),
            _ => (below(b.minimum), above(b.maximum)),
        };
        for (value, expected) in [
            (step(b.minimum), 200),
            (step(b.maximum), 200),
            (step(low), 400),
            (step(high), 400),
        ] {
            let (status, body) = app
                .post("/__sim/clock/advance", &json!({ field: value }))
                .await;
            assert_eq!(status, expected, "{field} {value}: {body}");
        }
    }

    // GET /__sim/notifications/wait: timeoutMs and timeout_ms. A delivered notification is
    // there, so a wait that is taken answers at once.
    app.trigger_ok("whalet.connectivity.notify", json!({"partnerId": PARTNER}))
        .await;
    app.wait_notification("apiCode=connectivityNotify").await;
    for name in ["timeoutMs", "timeout_ms"] {
        let b = bounds(&query_param(&doc, "/__sim/notifications/wait", name), name);
        for (value, expected) in [
            (b.minimum as i64, 200),
            (b.maximum as i64, 200),
            (b.minimum as i64 - 1, 400),
            (b.maximum as i64 + 1, 400),
        ] {
            let (status, body) = app
                .get(&format!(
                    "/__sim/notifications/wait?apiCode=connectivityNotify&{name}={value}"
                ))
                .await;
            assert_eq!(status, expected, "{name}={value}: {body}");
        }
    }
    app.shutdown().await;
}

/// The journal's entries, as the control plane lists them.
async fn journal_len(app: &TestApp) -> usize {
    let journal = app.get_json("/__sim/requests").await;
    journal["requests"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_else(|| panic!("no requests: {journal}"))
}

/// A seller authorization link's page, by the link the platform answered.
async fn link_status(app: &TestApp, link: &str) -> u16 {
    let token = link.rsplit("/authorize/").next().unwrap();
    app.get_text(&format!("/authorize/{token}")).await.0
}

/// What the reset summary says is what a reset does: a tenant's reset forgets that tenant's
/// authorization links and leaves the journal (its entries too); a full reset empties the
/// journal and forgets every link.
#[tokio::test]
async fn a_tenant_reset_keeps_the_journal_and_a_full_reset_empties_it_and_both_forget_links() {
    let app = spawn_app().await;
    let doc = app.get_json("/__sim/openapi.json").await;
    let summary = doc["paths"]["/__sim/reset"]["post"]["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    for said in ["journal", "authorization links"] {
        assert!(
            summary.contains(said),
            "the reset summary omits the {said}: {summary}"
        );
    }

    let bind = |id: &'static str| {
        let app = &app;
        async move {
            let (code, detail, reply) =
                platform_call(app, "shopAccountBind", &bind_body(id, id)).await;
            assert_eq!(code, "SUCCESS", "{detail}");
            reply["authorizeUrl"].as_str().unwrap().to_owned()
        }
    };
    app.connectivity().await;
    let first = bind("B4401").await;
    assert_eq!(link_status(&app, &first).await, 200);
    let before = journal_len(&app).await;
    assert!(before >= 2, "{before}");

    let (status, body) = app.post("/__sim/reset", &json!({"tenant": DEMO})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        journal_len(&app).await,
        before,
        "a tenant's reset keeps the journal"
    );
    assert_ne!(
        link_status(&app, &first).await,
        200,
        "a tenant's reset forgets its authorization links"
    );

    let second = bind("B4402").await;
    assert_eq!(link_status(&app, &second).await, 200);
    let (status, body) = app.post("/__sim/reset", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        journal_len(&app).await,
        0,
        "a full reset empties the journal"
    );
    assert_ne!(link_status(&app, &second).await, 200);
    app.shutdown().await;
}

/// The names of the loaded scenarios, with their scope (`*` for every tenant).
async fn loaded(app: &TestApp, query: &str) -> Vec<String> {
    let list = app.get_json(&format!("/__sim/scenarios{query}")).await;
    list["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}@{}",
                s["name"].as_str().unwrap(),
                s["tenant"].as_str().unwrap_or("*")
            )
        })
        .collect()
}

/// `?tenant=*` is the every-tenant scope on the list endpoints as on one scenario's: listing and
/// removing all take it, removing only the scenarios loaded for every tenant.
#[tokio::test]
async fn delete_scenarios_with_tenant_star_removes_only_the_every_tenant_ones() {
    let app = spawn_app().await;
    assert_eq!(app.load_scenario("name = \"all\"\n", "").await.0, 200);
    assert_eq!(app.load_scenario("name = \"same\"\n", "").await.0, 200);
    let scoped = format!("tenant={DEMO}");
    assert_eq!(app.load_scenario("name = \"same\"\n", &scoped).await.0, 200);
    assert_eq!(app.load_scenario("name = \"mine\"\n", &scoped).await.0, 200);

    let every = loaded(&app, "?tenant=*").await;
    assert_eq!(every, ["all@*", "same@*"]);

    let (status, body) = app.delete("/__sim/scenarios?tenant=*").await;
    assert_eq!((status, &body["removed"]), (200, &json!(2)), "{body}");
    assert_eq!(
        loaded(&app, "").await,
        [format!("same@{DEMO}"), format!("mine@{DEMO}")]
    );
    let (status, body) = app.delete("/__sim/scenarios?tenant=*").await;
    assert_eq!((status, &body["removed"]), (200, &json!(0)), "{body}");

    // A tenant that is not provider:id is still refused, naming the form.
    let (status, body) = app.delete("/__sim/scenarios?tenant=nope").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(loaded(&app, "").await.len(), 2);
    app.shutdown().await;
}
