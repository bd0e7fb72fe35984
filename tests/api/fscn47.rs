//! `POST /__sim/scenarios/explain` shows what the surface would send: a code from a rule for
//! every surface that the surface lacks as the surface's own fallback, a Pockyt status as the
//! operation takes it; and it refuses a pattern as the operation.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const DEMO: &str = "whalet:202400000000001";
const INFINIA: &str = "infinia:demo-app";
const POCKYT: &str = "pockyt:202333";

async fn explain(app: &TestApp, surface: &str, tenant: &str, operation: &str) -> (u16, Value) {
    app.post(
        "/__sim/scenarios/explain",
        &json!({"surface": surface, "tenant": tenant, "operation": operation, "fields": {}}),
    )
    .await
}

#[tokio::test]
async fn explain_shows_the_code_and_status_the_surface_sends() {
    let app = spawn_app().await;
    let text = "name = \"fscn47\"\n\
        [[rule]]\nname = \"busy\"\noperation = \"account-binding/request\"\n\
        [rule.then]\ncode = \"TOO_MANY_REQUESTS\"\n\
        [[rule]]\nname = \"infinia code\"\noperation = \"connectivity\"\n\
        [rule.then]\ncode = \"SYS-003\"\n\
        [[rule]]\nname = \"returned\"\nsurface = \"pockyt\"\n\
        operation = [\"/v3/payouts/pay\", \"/v3/payee/register\"]\n\
        [rule.then]\nresult = \"success\"\nstatus = \"returned\"\n";
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");

    // Whalet: explain says what the wire says.
    let (status, body) = explain(&app, "whalet", DEMO, "connectivity").await;
    assert_eq!(status, 200, "{body}");
    let explained = body["decision"]["sync"]["code"].clone();
    let sent = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "Y"}),
        )
        .await
        .unwrap()
        .code;
    assert_eq!(explained, json!(sent), "{body}");
    assert_ne!(sent, "SYS-003");

    // Infinia: a Whalet code is no Infinia code, and explain names the one Infinia sends.
    let (status, body) = explain(&app, "infinia", INFINIA, "account-binding/request").await;
    assert_eq!(status, 200, "{body}");
    let code = body["decision"]["sync"]["code"]
        .as_str()
        .unwrap_or_default();
    assert!(code.starts_with("SYS-"), "{body}");

    // Pockyt: the payee register takes no payout word; the payout does.
    let (status, body) = explain(&app, "pockyt", POCKYT, "/v3/payee/register").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"]["result"]["status"], "Activated", "{body}");
    let (status, body) = explain(&app, "pockyt", POCKYT, "/v3/payouts/pay").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"]["result"]["status"], "returned", "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn explain_refuses_a_pattern_as_the_operation_naming_a_real_one() {
    let app = spawn_app().await;
    let (status, body) = explain(&app, "whalet", DEMO, "connect*").await;
    assert_eq!(status, 400, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("pattern") && text.contains("\\\"connectivity\\\""),
        "{body}"
    );
    app.shutdown().await;
}
