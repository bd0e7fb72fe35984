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
