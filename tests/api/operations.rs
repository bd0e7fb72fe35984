//! `GET /__sim/operations` lists every operation of every surface, and a name a surface does not
//! serve is answered with the surface that serves it or the nearest name it does serve.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{platform_call, spawn_app};

#[tokio::test]
async fn every_surface_lists_its_operations_with_the_request_that_reaches_them() {
    let app = spawn_app().await;
    let all = app.get_json("/__sim/operations").await;
    let ops = all["operations"].as_array().unwrap();
    assert_eq!(all["count"], ops.len());
    let find = |surface: &str, name: &str| -> Value {
        ops.iter()
            .find(|o| o["surface"] == surface && o["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{surface} {name} not listed"))
    };
    assert!(find("whalet", "payoutApply")["request"]
        .as_str()
        .unwrap()
        .starts_with("POST /api"));
    assert_eq!(
        find("platform", "shopAccountBind")["request"],
        "POST /v1/platform/shopAccountBind"
    );
    assert_eq!(
        find("infinia", "account-balance/query")["request"],
        "POST /api/v1/account-balance/query"
    );
    assert_eq!(
        find("pockyt", "/v3/payouts/pay")["request"],
        "POST /v3/payouts/pay"
    );
    find("file", "upload");
    for surface in ["whalet", "platform", "infinia", "pockyt"] {
        let n = ops.iter().filter(|o| o["surface"] == surface).count();
        assert!(n >= 5, "{surface}: {n}");
    }

    let pockyt = app.get_json("/__sim/operations?surface=pockyt").await;
    assert!(pockyt["operations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["surface"] == "pockyt"));
    let (status, refused) = app.get("/__sim/operations?surface=stripe").await;
    assert_eq!(status, 400, "{refused}");
    let (status, refused) = app.get("/__sim/operations?surfce=pockyt").await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("surface"), "{refused}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_name_from_another_surface_or_a_typo_is_answered_with_where_it_is() {
    let app = spawn_app().await;
    // A platform operation sent to the Open API.
    let reply = app
        .client
        .call("shopAccountBind", &json!({"bindId": "b"}))
        .await
        .unwrap();
    assert_eq!(reply.code, "INTERFACE_UNAUTHORIZED");
    assert!(
        reply.detail.contains(
            "shopAccountBind is a whalet-platform operation: POST /v1/platform/shopAccountBind"
        ),
        "{}",
        reply.detail
    );
    // A typo: the nearest apiCode.
    let reply = app
        .client
        .call("benificiaryAccountAply", &json!({}))
        .await
        .unwrap();
    assert_eq!(reply.code, "INTERFACE_UNAUTHORIZED");
    assert!(
        reply
            .detail
            .contains("did you mean `benificiaryAccountApply`?"),
        "{}",
        reply.detail
    );
    // An Open API operation sent to the platform.
    let (code, detail, _) = platform_call(&app, "payoutApply", &json!({})).await;
    assert_eq!(code, "INTERFACE_UNAUTHORIZED");
    assert!(
        detail.contains("payoutApply is a Whalet Open API operation: POST /api"),
        "{detail}"
    );

    // Infinia and Pockyt: the nearest path.
    let url = app.url.clone();
    let outs = tokio::task::spawn_blocking(move || {
        [
            ("infinia", "account-balance/qurey"),
            ("pockyt", "v3/payouts/pya"),
        ]
        .map(|(surface, op)| {
            Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
                .args(["call", "--surface", surface, op, "--url", &url])
                .output()
                .unwrap()
        })
    })
    .await
    .unwrap();
    let infinia: Value = serde_json::from_slice(&outs[0].stdout).unwrap();
    assert!(
        infinia["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `account-balance/query`?"),
        "{infinia}"
    );
    let pockyt: Value = serde_json::from_slice(&outs[1].stdout).unwrap();
    assert!(
        pockyt["ret_msg"]
            .as_str()
            .unwrap()
            .contains("did you mean `/v3/payouts/pay`?"),
        "{pockyt}"
    );
    app.shutdown().await;
}

/// Operations that truly take no field (none today; `file upload` is multipart, excused in
/// tests/api/examples.rs).
const NO_FIELDS: &[(&str, &str)] = &[("file", "upload"), ("infinia", "trade-details/upload")];

#[tokio::test]
async fn every_operation_lists_its_fields_an_example_and_what_it_needs() {
    let app = spawn_app().await;
    let all = app.get_json("/__sim/operations").await;
    let ops = all["operations"].as_array().unwrap();
    let mut undescribed = Vec::new();
    for op in ops {
        let (surface, name) = (
            op["surface"].as_str().unwrap(),
            op["name"].as_str().unwrap(),
        );
        let fields = op["fields"].as_array().unwrap();
        if NO_FIELDS.contains(&(surface, name)) {
            continue;
        }
        if fields.is_empty() || !op["example"].is_object() {
            undescribed.push(format!("{surface} {name}"));
            continue;
        }
        // Every required top-level field is in the example (but those the signing layer adds),
        // and the example names no field the operation does not read.
        for f in fields {
            let field = f["name"].as_str().unwrap();
            let own = f["addedBy"].is_null();
            if f["required"] == true && own && !field.contains(['.', '[']) {
                assert!(
                    op["example"].get(field).is_some(),
                    "{surface} {name}: required {field} missing from {}",
                    op["example"]
                );
            }
        }
        for key in op["example"].as_object().unwrap().keys() {
            assert!(
                fields.iter().any(|f| f["name"] == key.as_str()),
                "{surface} {name}: example field {key} is not among its fields"
            );
        }
    }
    assert!(
        undescribed.is_empty(),
        "without a description: {undescribed:?}"
    );

    let find = |surface: &str, name: &str| -> Value {
        ops.iter()
            .find(|o| o["surface"] == surface && o["name"] == name)
            .cloned()
            .unwrap()
    };
    // A field required in some requests only says when.
    let bind = find("whalet", "b2cShopBind");
    let shop_name = bind["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "shopName")
        .unwrap();
    assert_eq!(shop_name["required"], true, "{shop_name}");
    assert_eq!(
        shop_name["when"], "operationType is BIND or ADD",
        "{shop_name}"
    );
    assert!(find("whalet", "cardHolderApply")["fields"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f.get("when").is_none()));
    let holder = find("whalet", "cardHolderApply");
    let holder_type = holder["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "holderType")
        .unwrap();
    assert_eq!(holder_type["kind"], "enum");
    assert_eq!(holder_type["allowed"], json!(["INDIVIDUAL", "ENTERPRISE"]));
    assert_eq!(
        holder["example"]["userId"],
        "<userId from userOnboardingApply>"
    );
    assert_eq!(
        holder["needs"],
        json!(["an approved user: userOnboardingApply"])
    );
    // Nested fields, and an either-or pair.
    let onboarding = find("whalet", "userOnboardingApply");
    assert_eq!(onboarding["example"]["legalEntity"]["countryCode"], "US");
    assert_eq!(onboarding["needs"], json!([]));
    let query = find("whalet", "cardHolderQuery");
    let or: Vec<&Value> = query["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("or").is_some())
        .collect();
    assert_eq!(or.len(), 2, "{query}");
    // Other surfaces: a Pockyt account on its path takes its own accountType.
    let bank = find("pockyt", "/v3/customers/account/create/bank-account");
    assert_eq!(bank["example"]["accountType"], "BANK_ACCOUNT");
    assert!(bank["needs"]
        .as_array()
        .unwrap()
        .contains(&json!("an active payee: /v3/payee/register")));
    app.shutdown().await;
}

#[tokio::test]
async fn describing_every_operation_changes_nothing() {
    let app = spawn_app().await;
    // Some state to keep: a user under review, and a notification on its way.
    let reply = app
        .client
        .call(
            "userOnboardingApply",
            &json!({"outUserId": "u-1", "legalEntity": {"type": "ENTERPRISE", "name": "Acme",
                     "certType": "BUSINESS_LICENSE", "certNo": "1", "countryCode": "CN"}}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "PROCESSING", "{}", reply.detail);
    let look = || async {
        (
            app.get_json("/__sim/state").await,
            app.get_json("/__sim/notifications").await,
            app.get_json("/__sim/clock").await,
            app.get_json("/__sim/invariants").await,
        )
    };
    let before = look().await;
    // Every handler of every surface, in describe mode, once per field (as at start-up).
    whalet_sim::api::catalog::describe_all(app.app().core());
    let after = look().await;
    assert_eq!(before, after);
    app.shutdown().await;
}
