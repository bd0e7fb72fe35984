//! Scenario rules and operation names (stop 46): a `status` no decided operation reads is
//! refused at load; a rule naming a configured wire name is told the canonical name; the SFTP
//! trade details upload is listed; a canonical name sent where the configuration renames it is
//! answered with the name it has here.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_config};

/// Renames one Infinia path and one Whalet apiCode.
const RENAMES: &str = "[infinia.paths]\n\"account-balance/query\" = \"platform-balance/query\"\n\
                       [whalet.api_codes]\nuserOnboardingApply = \"userApply\"\n";

fn rule(name: &str, body: &str) -> String {
    format!("name = \"{name}\"\n[[rule]]\nname = \"{name}\"\n{body}")
}

/// `whalet-sim call --surface <surface> <operation> --url <url>`'s reply, as JSON.
async fn call(url: &str, surface: &str, operation: &str) -> Value {
    let (url, surface, operation) = (url.to_owned(), surface.to_owned(), operation.to_owned());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
            .args(["call", "--surface", &surface, &operation, "--url", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test]
async fn a_status_on_a_platform_or_infinia_rule_is_refused_at_load_naming_rule_and_place() {
    let app = spawn_app().await;
    for (name, body, says) in [
        (
            "decline",
            "surface = \"platform\"\noperation = \"shopAccountBind\"\n[rule.then]\n\
             result = \"failure\"\nstatus = \"DECLINED\"\nreason = \"nah\"\ndelay = \"1s\"\n",
            "whalet-platform reports no status word of its own",
        ),
        (
            "bounce",
            "surface = \"platform\"\noperation = \"paymentApply\"\n[rule.then]\n\
             result = \"failure\"\nstatus = \"BOUNCED\"\n",
            "whalet-platform reports no status word of its own",
        ),
        (
            "refuse",
            "surface = \"infinia\"\noperation = \"account-binding/request\"\n[rule.then]\n\
             result = \"failure\"\nstatus = \"DECLINED\"\n",
            "Infinia reports no status word of its own",
        ),
        (
            "ping",
            "surface = \"whalet\"\noperation = \"connectivity\"\n[rule.then]\n\
             result = \"failure\"\nstatus = \"DECLINED\"\n",
            "on Whalet only a review's or a settlement's decision reports one",
        ),
    ] {
        let (status, body_out) = app.load_scenario(&rule(name, body), "").await;
        assert_eq!(status, 400, "{name}: {body_out}");
        let reason = body_out["reason"].as_str().unwrap();
        assert!(
            reason.starts_with(&format!("rule \"{name}\": status = "))
                && reason.contains("is read by no operation the rule decides")
                && reason.contains(says),
            "{name}: {reason}"
        );
        // The `status` line of the rule, at its value.
        assert_eq!(
            (&body_out["line"], &body_out["column"]),
            (&json!(8), &json!(10)),
            "{body_out}"
        );
    }
    // Nothing of a refused scenario is loaded.
    let loaded = app.get_json("/__sim/scenarios").await;
    assert!(!loaded.to_string().contains("decline"), "{loaded}");
    // Where the decision reports the word (a Whalet review), the rule loads.
    let review = "surface = \"whalet\"\noperation = \"userOnboardingApply\"\n[rule.then]\n\
                  result = \"failure\"\nstatus = \"REJECTED\"\n";
    let (status, body) = app.load_scenario(&rule("review", review), "").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_rule_naming_a_configured_wire_name_is_told_the_canonical_name() {
    let app = spawn_config(RENAMES).await;
    let listed = app.get_json("/__sim/operations").await;
    for (surface, wire, canonical, table) in [
        (
            "infinia",
            "platform-balance/query",
            "account-balance/query",
            "[infinia.paths]",
        ),
        (
            "whalet",
            "userApply",
            "userOnboardingApply",
            "[whalet.api_codes]",
        ),
    ] {
        // The listing shows the wire name as `name`, the canonical one as `canonical`.
        assert!(
            listed["operations"].as_array().unwrap().iter().any(|o| {
                o["surface"] == surface && o["name"] == wire && o["canonical"] == canonical
            }),
            "{surface} {wire}"
        );
        let text = rule(
            "wire",
            &format!(
                "surface = \"{surface}\"\noperation = \"{wire}\"\n[rule.then]\nlatency_ms = 1\n"
            ),
        );
        let (status, body) = app.load_scenario(&text, "").await;
        assert_eq!(status, 400, "{body}");
        let reason = body["reason"].as_str().unwrap();
        assert!(
            reason.contains(&format!("{wire:?} is the wire name {table} gives surface {surface}'s operation {canonical:?}"))
                && reason.contains(&format!("write operation = {canonical:?}"))
                && !reason.contains("has no operation"),
            "{reason}"
        );
        assert_eq!(
            (&body["line"], &body["column"]),
            (&json!(5), &json!(13)),
            "{body}"
        );
        let fixed = text.replace(wire, canonical);
        let (status, body) = app.load_scenario(&fixed, "").await;
        assert_eq!(status, 200, "{body}");
    }
    app.shutdown().await;

    // The same for a scenario file given at start.
    let dir = std::env::temp_dir().join(format!("scen46-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wire.toml");
    std::fs::write(
        &file,
        rule(
            "wire",
            "surface = \"infinia\"\noperation = \"platform-balance/query\"\n",
        ),
    )
    .unwrap();
    let refused = whalet_sim::App::new(
        whalet_sim::config::Config::parse(RENAMES).unwrap(),
        whalet_sim::Options {
            scenario_files: vec![file],
            ..whalet_sim::Options::default()
        },
    )
    .err()
    .expect("the file is refused");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        format!("{refused:#}").contains("the wire name [infinia.paths] gives surface infinia's operation \"account-balance/query\""),
        "{refused:#}"
    );
}

#[tokio::test]
async fn the_sftp_trade_details_upload_is_listed_and_rules_name_it_as_listed() {
    let app = spawn_app().await;
    let listed = app.get_json("/__sim/operations?surface=infinia").await;
    let upload = listed["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "trade-details/upload")
        .cloned()
        .unwrap_or_else(|| panic!("trade-details/upload not listed: {listed}"));
    let request = upload["request"].as_str().unwrap();
    assert!(
        request.starts_with("SFTP put ") && request.contains("no HTTP request"),
        "{upload}"
    );
    // The example is the file: a CSV whose header names the columns its fields list.
    let example = upload["example"]
        .as_str()
        .unwrap_or_else(|| panic!("{upload}"));
    assert!(
        example.starts_with("tradeNo,tradeType,orderNo,sellerId,"),
        "{upload}"
    );
    assert_eq!(upload["canonical"], upload["name"], "{upload}");
    // A rule names it by the listed name.
    let text = rule(
        "file",
        &format!(
            "surface = \"infinia\"\noperation = {}\n[rule.then]\nresult = \"failure\"\nreason = \"bad file\"\n",
            upload["canonical"]
        ),
    );
    let (status, body) = app.load_scenario(&text, "").await;
    assert_eq!(status, 200, "{body}");
    // Sent over HTTP, it is answered with how it is reached.
    let reply = call(&app.url, "infinia", "trade-details/upload").await;
    let message = reply["message"].as_str().unwrap();
    assert!(
        message.contains("trade-details/upload is no HTTP operation: SFTP put ")
            && !message.contains("did you mean"),
        "{reply}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_canonical_name_the_configuration_renames_is_answered_with_its_name_here() {
    let app = spawn_config(RENAMES).await;
    let reply = app
        .client
        .call("userOnboardingApply", &json!({}))
        .await
        .unwrap();
    assert_eq!(reply.code, "INTERFACE_UNAUTHORIZED");
    assert!(
        reply
            .detail
            .contains("it is renamed to \"userApply\" here ([whalet.api_codes])"),
        "{}",
        reply.detail
    );
    let reply = call(&app.url, "infinia", "account-balance/query").await;
    let message = reply["message"].as_str().unwrap();
    assert!(
        message.contains(
            "it is renamed to \"platform-balance/query\" here ([infinia.paths]): POST /api/v1/platform-balance/query"
        ),
        "{reply}"
    );
    app.shutdown().await;
}
