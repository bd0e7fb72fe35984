//! whalet-platform: the operations catalogue lists currency and country fields by their kind (as
//! every other surface does, whether or not describe mode's example carries a value), a shopId
//! over 64 characters is a PARAMETER_ERROR on `paymentApply` as on the bind, and a payment not
//! yet finished has a null `finishTime` beside an empty `reason` (docs/FIDELITY.md, paymentQuery).

use serde_json::{json, Value};

use crate::helpers::{platform_call, spawn_app, TestApp};
use crate::platform::{bind_body, trigger};

/// The kind the catalogue gives field `field` of operation `name` on `surface`.
fn kind_of(ops: &[Value], surface: &str, name: &str, field: &str) -> String {
    let op = ops
        .iter()
        .find(|o| o["surface"] == surface && o["name"] == name)
        .unwrap_or_else(|| panic!("no {surface} operation {name} in the catalogue"));
    let f = op["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == field)
        .unwrap_or_else(|| panic!("{surface} {name} lists no field {field}: {op}"));
    f["kind"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn platform_currency_and_country_fields_are_listed_by_their_kind() {
    let app = spawn_app().await;
    let all = app.get_json("/__sim/operations").await;
    let ops = all["operations"].as_array().unwrap();
    // The Open API's fields of the same kind, read by its own checks.
    let open_currency = kind_of(ops, "whalet", "queryCurrencyBalance", "currency");
    let open_country = kind_of(
        ops,
        "whalet",
        "userOnboardingApply",
        "legalEntity.countryCode",
    );
    assert_eq!(
        (open_currency.as_str(), open_country.as_str()),
        ("currency", "country")
    );
    let wrong: Vec<String> = [
        ("shopAccountBind", "currency", &open_currency),
        ("balanceQuery", "currency", &open_currency),
        ("paymentApply", "currency", &open_currency),
        ("shopAccountBind", "legalEntity.countryCode", &open_country),
        (
            "tradeMaterialsUpload",
            "materials[0].payerCountryCode",
            &open_country,
        ),
    ]
    .into_iter()
    .filter_map(|(name, field, kind)| {
        let listed = kind_of(ops, "platform", name, field);
        (&listed != kind).then(|| format!("{name} {field}: {listed}, not {kind}"))
    })
    .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_payment_to_a_shop_id_longer_than_a_bind_takes_is_a_parameter_error() {
    let app = spawn_app().await;
    let long = "S".repeat(65);
    let pay = json!({"amount": "1.00", "currency": "USD", "shopId": long, "paymentId": "P44-1"});
    let (code, detail, _) = platform_call(&app, "paymentApply", &pay).await;
    assert_eq!(code, "PARAMETER_ERROR", "{detail}");
    assert!(
        detail.contains("shopId is 65 characters long; at most 64 are allowed"),
        "{detail}"
    );
    // The bind refuses the same shopId with the same words: no such shop can ever be bound.
    let (code, bind_detail, _) =
        platform_call(&app, "shopAccountBind", &bind_body("B44-1", &long)).await;
    assert_eq!(code, "PARAMETER_ERROR", "{bind_detail}");
    assert!(
        bind_detail.contains("shopId is 65 characters long; at most 64 are allowed"),
        "{bind_detail}"
    );
    // Exactly 64 characters passes the check (and is then refused only as not bound).
    let pay = json!({"amount": "1.00", "currency": "USD", "shopId": "S".repeat(64),
                     "paymentId": "P44-2"});
    let (code, detail, _) = platform_call(&app, "paymentApply", &pay).await;
    assert_eq!(code, "FAILURE", "{detail}");
    assert!(detail.contains("no shopAccountBind"), "{detail}");
    app.shutdown().await;
}

async fn pay_a_bound_shop(app: &TestApp) {
    let (status, body) = trigger(
        app,
        "platform.bulk_payment.received",
        json!({"amount": "100.00", "currency": "USD"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (code, detail, _) =
        platform_call(app, "shopAccountBind", &bind_body("B44-2", "SHOP44")).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    let (status, body) =
        trigger(app, "platform.binding.approved", json!({"bindId": "B44-2"})).await;
    assert_eq!(status, 200, "{body}");
    let pay = json!({"amount": "10.00", "currency": "USD", "shopId": "SHOP44",
                     "paymentId": "P44-3"});
    let (code, detail, _) = platform_call(app, "paymentApply", &pay).await;
    assert_eq!(code, "SUCCESS", "{detail}");
}

#[tokio::test]
async fn an_unfinished_payment_has_a_null_finish_time_and_an_empty_reason() {
    let app = spawn_app().await;
    pay_a_bound_shop(&app).await;
    let query = json!({"paymentId": "P44-3"});
    let (_, _, q) = platform_call(&app, "paymentQuery", &query).await;
    assert_eq!(q["status"], "PROCESSING", "{q}");
    // Unset text is "", an unset time is null (as the Open API's settleTime and finishTime).
    assert_eq!(q["reason"], "", "{q}");
    assert!(
        q.as_object().unwrap().contains_key("finishTime") && q["finishTime"].is_null(),
        "{q}"
    );
    assert!(q["createTime"].is_string(), "{q}");

    app.advance(5.0).await;
    let (_, _, q) = platform_call(&app, "paymentQuery", &query).await;
    assert_eq!(q["status"], "SUCCESS", "{q}");
    assert_eq!(q["reason"], "", "{q}");
    assert!(q["finishTime"].is_string(), "{q}");
    app.shutdown().await;
}
