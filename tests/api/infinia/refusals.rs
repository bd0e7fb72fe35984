//! Refusals under the documented codes (docs/INFINIA.md "Codes"): SYS-004 only for a field that
//! is missing or empty, SYS-005 for a wrong type or format, SYS-006 for too long, not an allowed
//! value or out of range; in the envelope as in the business fields. What `GET /__sim/operations`
//! says a request takes is what the handler accepts. Nothing refused changes the state.

use serde_json::{json, Value};
use whalet_sim::store::{Provider, TenantId};
use whalet_sim::wire::infinia as envelope;

use super::support::{assert_no_nulls, binding_request, spawn_infinia, Merchant};
use crate::helpers::TestApp;

/// `(code, message)` of a call.
async fn answer(app: &TestApp, m: &Merchant, path: &str, data: &Value) -> (String, String) {
    let reply = m.call(app, path, data).await;
    (reply.code, reply.message)
}

fn sharings(app: &TestApp) -> Option<usize> {
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    app.app()
        .store()
        .with_tenant(&tenant, |t| t.infinia.sharings.len())
}

#[tokio::test]
async fn a_share_request_refuses_a_bad_seller_id_or_amount_with_its_own_code() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let single = |seller: Value, amount: &str| json!({"requestNo": "RS-X", "currency": "USD", "sellerId": seller, "amount": amount});
    let long_seller = "S".repeat(65);
    let cases: Vec<(Value, &str, &str)> = vec![
        // sellerId: wrong type, too long, missing or empty.
        (
            single(json!(5), "1.00"),
            "SYS-005",
            "sellerId must be a string",
        ),
        (
            single(json!({}), "1.00"),
            "SYS-005",
            "sellerId must be a string",
        ),
        (
            single(json!(long_seller), "1.00"),
            "SYS-006",
            "sellerId is 65 characters long; at most 64",
        ),
        (single(json!(""), "1.00"), "SYS-004", "give shareDetails"),
        (
            json!({"requestNo": "RS-X", "currency": "USD", "amount": "1.00"}),
            "SYS-004",
            "give shareDetails",
        ),
        // amount: a wrong format, or a number out of range.
        (single(json!("S-1"), "1e2"), "SYS-005", "amount \""),
        (single(json!("S-1"), "1.001"), "SYS-005", "amount \""),
        (single(json!("S-1"), "ten"), "SYS-005", "amount \""),
        (
            single(json!("S-1"), &"9".repeat(30)),
            "SYS-006",
            "amount \"",
        ),
        (single(json!("S-1"), "-1.00"), "SYS-006", "has a minus sign"),
        (single(json!("S-1"), "0.00"), "SYS-006", "greater than zero"),
        (
            single(json!("S-1"), &"9".repeat(33)),
            "SYS-006",
            "amount is 33 characters long",
        ),
        (
            json!({"requestNo": "RS-X", "currency": "USD",
                   "shareDetails": [{"sellerId": "S-1", "amount": "9".repeat(30)}]}),
            "SYS-006",
            "shareDetails[0].amount \"",
        ),
    ];
    for (data, code, says) in cases {
        let (got, message) = answer(&app, &m, "revenue-sharing/request", &data).await;
        assert_eq!(got, code, "{data}: {message}");
        assert!(message.contains(says), "{data}: {message}");
    }
    assert_eq!(sharings(&app), Some(0));
    app.shutdown().await;
}

#[tokio::test]
async fn envelope_values_too_long_or_not_allowed_are_sys_006() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let sealed = envelope::seal_request(
        "1.0",
        "demo-app",
        &json!({"currency": "USD"}),
        &m.key,
        &m.infinia,
        m.alg,
    )
    .unwrap();
    let long_app = "a".repeat(65);
    let changes: [(&str, &str, &str); 3] = [
        ("appId", &long_app, "appId is 65 characters long"),
        ("version", "1.0.0.0.0", "version is 9 characters long"),
        (
            "dataType",
            "XML",
            "dataType \"XML\" is not an allowed value",
        ),
    ];
    for (field, value, says) in changes {
        let mut body = serde_json::to_value(&sealed).unwrap();
        body[field] = json!(value);
        let (status, text) = app
            .post_raw(
                "/api/v1/account-balance/query",
                "application/json",
                serde_json::to_vec(&body).unwrap(),
            )
            .await;
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (status, reply["code"].as_str()),
            (200, Some("SYS-006")),
            "{reply}"
        );
        assert!(reply["message"].as_str().unwrap().contains(says), "{reply}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn entity_type_is_exact_and_a_case_slip_is_named() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let mut data = binding_request("ABR-CASE", "SELLER-CASE");
    data["entityType"] = json!("corporate");
    let (code, message) = answer(&app, &m, "account-binding/request", &data).await;
    assert_eq!(code, "SYS-006", "{message}");
    assert!(
        message.contains("\"corporate\" is not one of Corporate, Individual")
            && message.contains("the case counts: write \"Corporate\""),
        "{message}"
    );
    data["entityType"] = json!("Partnership");
    let (code, message) = answer(&app, &m, "account-binding/request", &data).await;
    assert_eq!(code, "SYS-006", "{message}");
    assert!(!message.contains("case"), "{message}");
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    let stored = app
        .app()
        .store()
        .with_tenant(&tenant, |t| t.infinia.bindings.len());
    assert_eq!(stored, Some(0));
    data["entityType"] = json!("Corporate");
    m.ok(&app, "account-binding/request", &data).await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_seller_without_a_status_reads_an_empty_string() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let r = m
        .ok(
            &app,
            "available-revenue/query",
            &json!({"sellerId": "SELLER-NOBODY", "currency": "USD"}),
        )
        .await;
    assert_eq!(r["sellerStatus"], "", "{r}");
    assert_no_nulls("available-revenue/query", &r);
    app.shutdown().await;
}

#[tokio::test]
async fn the_sharing_description_lists_both_forms_and_its_example_is_accepted() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let listing = app.get_json("/__sim/operations?surface=infinia").await;
    let op = listing["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "revenue-sharing/request")
        .cloned()
        .unwrap();
    let fields = op["fields"].as_array().unwrap();
    let field = |name: &str| -> &Value {
        fields
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed: {op}"))
    };
    assert_eq!(
        (
            field("sellerId")["or"].as_str(),
            field("sellerId")["required"].as_bool()
        ),
        (Some("shareDetails"), Some(false)),
        "{op}"
    );
    assert_eq!(
        (
            field("shareDetails")["or"].as_str(),
            field("shareDetails")["kind"].as_str()
        ),
        (Some("sellerId"), Some("array")),
        "{op}"
    );
    assert!(
        field("amount")["when"]
            .as_str()
            .is_some_and(|w| w.contains("sellerId")),
        "{op}"
    );
    assert_eq!(field("shareDetails[0].sellerId")["required"], true, "{op}");
    assert_eq!(field("shareDetails[0].amount")["kind"], "amount", "{op}");
    // The example is one accepted form: it fails only on the seller, who is not bound.
    let example = &op["example"];
    assert!(example.get("shareDetails").is_none(), "{example}");
    let (code, message) = answer(&app, &m, "revenue-sharing/request", example).await;
    assert_eq!(code, "SYS-002", "{message}");
    assert!(message.contains("is not bound"), "{message}");
    // And the other form is accepted as far as the seller too.
    let details = json!({"requestNo": "RS-D", "currency": "USD",
                         "shareDetails": [{"sellerId": "S-1", "amount": "1.00"}]});
    let (code, message) = answer(&app, &m, "revenue-sharing/request", &details).await;
    assert_eq!(code, "SYS-002", "{message}");
    assert!(message.contains("is not bound"), "{message}");
    app.shutdown().await;
}

/// `country` takes 2 or 3 letters, but only a code ISO 3166-1 assigns: a well-formed made-up
/// one (`XYZ`, `XX`) is not one of the allowed values (SYS-006), a wrong shape stays a format
/// error (SYS-005); nothing refused is stored, and real codes of both lengths are taken.
#[tokio::test]
async fn a_country_code_that_iso_3166_does_not_assign_is_sys_006() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let mut data = binding_request("ABR-COUNTRY", "SELLER-COUNTRY");
    for code in ["XYZ", "XX", "UK"] {
        data["country"] = json!(code);
        let (reply, message) = answer(&app, &m, "account-binding/request", &data).await;
        assert_eq!(reply, "SYS-006", "{code}: {message}");
        assert_eq!(
            message,
            format!(
                "country \"{code}\" is not an ISO 3166-1 country code (use an assigned one, such as CHN)"
            )
        );
    }
    data["country"] = json!("chn");
    let (reply, message) = answer(&app, &m, "account-binding/request", &data).await;
    assert_eq!(reply, "SYS-005", "{message}");
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    let stored = app
        .app()
        .store()
        .with_tenant(&tenant, |t| t.infinia.bindings.len());
    assert_eq!(stored, Some(0));
    data["country"] = json!("GBR");
    m.ok(&app, "account-binding/request", &data).await;
    let mut two_letters = binding_request("ABR-COUNTRY-2", "SELLER-COUNTRY-2");
    two_letters["country"] = json!("GB");
    m.ok(&app, "account-binding/request", &two_letters).await;
    app.shutdown().await;
}

/// A currency follows the same rule as a country: three capital letters that name no currency
/// (`XXX`, `RMB`) are not one of the allowed values (SYS-006); another shape (`usd`, ` USD`) is a
/// format error (SYS-005). In the binding request as in the queries.
#[tokio::test]
async fn a_currency_code_of_the_right_shape_that_names_none_is_sys_006() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let mut binding = binding_request("ABR-CUR", "SELLER-CUR");
    for (code, expected) in [
        ("XXX", "SYS-006"),
        ("RMB", "SYS-006"),
        ("usd", "SYS-005"),
        ("U$D", "SYS-005"),
    ] {
        binding["currency"] = json!(code);
        let (reply, message) = answer(&app, &m, "account-binding/request", &binding).await;
        assert_eq!(reply, expected, "{code}: {message}");
        assert!(message.starts_with("currency"), "{code}: {message}");
        let (reply, message) = answer(
            &app,
            &m,
            "account-balance/query",
            &json!({ "currency": code }),
        )
        .await;
        assert_eq!(reply, expected, "{code}: {message}");
    }
    let (_, message) = answer(
        &app,
        &m,
        "account-balance/query",
        &json!({"currency": "RMB"}),
    )
    .await;
    assert_eq!(
        message,
        "currency \"RMB\" is not one of the currencies accepted (ISO 4217 codes such as USD, CNH)"
    );
    app.shutdown().await;
}

/// Regression: `infinia.binding.approved {token}` decided any link, a whalet-platform shop
/// binding included (sending its `shopAccountBindNotify SUCCESS`). It decides its app's links
/// only; the other binding stays in PROCESSING.
#[tokio::test]
async fn an_infinia_trigger_refuses_a_link_of_another_surface() {
    let app = spawn_infinia("").await;
    let (code, _, body) = crate::helpers::platform_call(
        &app,
        "shopAccountBind",
        &crate::platform::bind_body("B-X", "S-X"),
    )
    .await;
    assert_eq!(code, "SUCCESS", "{body}");
    let url = body["authorizeUrl"].as_str().unwrap();
    let token = url.rsplit('/').next().unwrap();
    let (status, reply) = app
        .post(
            "/__sim/trigger/infinia.binding.approved",
            &json!({"token": token}),
        )
        .await;
    assert_eq!(status, 422, "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("is not a binding link of infinia:demo-app"),
        "{reply}"
    );
    let (_, _, query) =
        crate::helpers::platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B-X"}))
            .await;
    assert_eq!(query["status"], "PROCESSING", "{query}");
    app.shutdown().await;
}
