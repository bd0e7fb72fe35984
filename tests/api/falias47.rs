//! Pockyt's alias paths (`/v3/payee/account/create/{bank-account,paypal,venmo}`, the same
//! operations as `/v3/customers/account/create/...`) wherever an operation is named (stop 47):
//! `call --example` describes the operation under its alias, a scenario rule and the explain
//! endpoint naming an alias are told the canonical path rules take, a pattern that matches an
//! alias but not its operation is refused naming the pattern to use, and a near miss of an
//! alias is answered with it.

use serde_json::{json, Value};

use crate::helpers::{bin, spawn_app, TestApp};
use crate::pockyt_support::signed;

const ALIAS: &str = "/v3/payee/account/create/bank-account";
const CANONICAL: &str = "/v3/customers/account/create/bank-account";

fn rule(body: &str) -> String {
    format!("name = \"alias\"\n[[rule]]\nname = \"r\"\n{body}[rule.then]\nlatency_ms = 1\n")
}

/// `whalet-sim call --surface pockyt <args> --example --url <url>`: exit code, stdout, stderr.
async fn example(url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = bin();
    command
        .args(["call", "--surface", "pockyt"])
        .args(args)
        .args(["--example", "--url", url])
        .env_remove("WHALET_SIM_ADMIN_TOKEN");
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn load(app: &TestApp, body: &str) -> (u16, String, Value) {
    let (status, answer) = app.load_scenario(&rule(body), "").await;
    let reason = answer["reason"].as_str().unwrap_or_default().to_owned();
    (status, reason, answer)
}

/// Regression: `call --surface pockyt v3/payee/account/create/venmo --example` was a usage
/// error ("not a Pockyt operation of the simulator"), though sending the same path works. It
/// describes the operation, says the path given is an alias of it, and the listing names the
/// aliases an operation is served under.
#[tokio::test]
async fn call_example_describes_an_operation_given_by_its_alias_path() {
    let app = spawn_app().await;
    let listed = app.get_json("/__sim/operations?surface=pockyt").await;
    let venmo = listed["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "/v3/customers/account/create/venmo")
        .cloned()
        .unwrap_or_else(|| panic!("not listed: {listed}"));
    assert_eq!(
        venmo["aliases"],
        json!(["/v3/payee/account/create/venmo"]),
        "{venmo}"
    );
    let (canonical_code, canonical_out, _) =
        example(&app.url, &["v3/customers/account/create/venmo"]).await;
    assert_eq!(canonical_code, Some(0));
    for given in [
        "v3/payee/account/create/venmo",
        "/v3/payee/account/create/venmo/",
    ] {
        let (code, out, said) = example(&app.url, &[given]).await;
        assert_eq!(code, Some(0), "{given}: {said}");
        // The operation's own description, under its own path.
        assert_eq!(out, canonical_out, "{given}");
        assert!(
            said.contains("/v3/payee/account/create/venmo is an alias path")
                && said.contains("name it /v3/customers/account/create/venmo"),
            "{given}: {said}"
        );
        let (code, json_out, _) = example(&app.url, &[given, "--json"]).await;
        assert_eq!(code, Some(0), "{given}");
        let entry: Value = serde_json::from_str(&json_out).unwrap();
        assert_eq!(entry["canonical"], "/v3/customers/account/create/venmo");
    }
    // A typo of the alias is near the alias.
    let (code, _, said) = example(&app.url, &["v3/payee/account/create/venm"]).await;
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("did you mean `v3/payee/account/create/venmo`?"),
        "{said}"
    );
    app.shutdown().await;
}

/// Regression: a rule naming an alias path was refused "no surface has an operation named …",
/// as for a name nothing serves. It is refused saying it is a wire name of the operation and
/// naming the canonical path rules take, which loads; with `surface` or without.
#[tokio::test]
async fn a_rule_naming_an_alias_path_is_told_the_canonical_path() {
    let app = spawn_app().await;
    for surface in ["", "surface = \"pockyt\"\n"] {
        let body = format!("{surface}operation = \"{ALIAS}\"\n");
        let (status, reason, answer) = load(&app, &body).await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            reason.contains(&format!(
                "{ALIAS:?} is the wire name Pockyt's alias table (docs/FIDELITY.md) gives \
                 surface pockyt's operation {CANONICAL:?}"
            )) && reason.contains(&format!("write operation = {CANONICAL:?}"))
                && !reason.contains("has an operation")
                && !reason.contains("has no operation"),
            "{reason}"
        );
        let (status, _, answer) = load(&app, &body.replace(ALIAS, CANONICAL)).await;
        assert_eq!(status, 200, "{answer}");
    }
    app.shutdown().await;
}

/// Regression: `POST /__sim/scenarios/explain` with an alias path answered "surface pockyt has
/// no operation named …". It is told the canonical path, as a rule is.
#[tokio::test]
async fn explain_with_an_alias_path_is_told_the_canonical_path() {
    let app = spawn_app().await;
    let ask = |operation: &str| json!({"surface": "pockyt", "tenant": "pockyt:202333", "operation": operation});
    let (status, body) = app.post("/__sim/scenarios/explain", &ask(ALIAS)).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("wire name")
            && error.contains(&format!("write operation = {CANONICAL:?}"))
            && !error.contains("has no operation"),
        "{body}"
    );
    let (status, body) = app.post("/__sim/scenarios/explain", &ask(CANONICAL)).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

/// Regression: `/v3/payee/account/*` loaded, and matched only `/v3/payee/account/delete`: the
/// account creations a partner sends to `/v3/payee/account/create/…` are decided as
/// `/v3/customers/account/create/…`, which it does not match. A pattern matching an alias but
/// not its operation is refused, naming the canonical pattern to add and the operation it does
/// match by name; either fix loads, and a rule that adds the canonical pattern decides a
/// request sent under the alias.
#[tokio::test]
async fn a_pattern_matching_an_alias_but_not_its_operation_is_refused_naming_the_fix() {
    let app = spawn_app().await;
    for pattern in ["/v3/payee/account/*", "/v3/payee/*"] {
        let (status, reason, answer) = load(&app, &format!("operation = \"{pattern}\"\n")).await;
        assert_eq!(status, 400, "{pattern}: {answer}");
        assert!(
            reason.contains(&format!("operation {pattern:?} matches {ALIAS:?}"))
                && reason.contains(&format!(
                    "write operation = [{pattern:?}, \"/v3/customers/account/create/*\"]"
                )),
            "{pattern}: {reason}"
        );
        // On the pattern's own entry.
        assert_eq!(
            (&answer["line"], &answer["column"]),
            (&json!(4), &json!(13))
        );
    }
    let (_, reason, _) = load(&app, "operation = \"/v3/payee/account/*\"\n").await;
    assert!(
        reason.contains("or operation = \"/v3/payee/account/delete\""),
        "{reason}"
    );
    // A pattern matching the operation as well as its alias loads.
    for fine in [
        "operation = [\"/v3/payee/account/*\", \"/v3/customers/account/create/*\"]\n",
        "operation = \"/v3/payee/account/delete\"\n",
        "operation = \"/v3/*\"\n",
    ] {
        let (status, _, answer) = load(&app, fine).await;
        assert_eq!(status, 200, "{fine}: {answer}");
    }
    // The fixed rule decides an account creation sent under the alias path.
    let forced = "name = \"alias\"\n[[rule]]\nname = \"r\"\n\
                  operation = [\"/v3/payee/account/*\", \"/v3/customers/account/create/*\"]\n\
                  [rule.then]\ncode = \"000080\"\n";
    let (status, answer) = app.load_scenario(forced, "").await;
    assert_eq!(status, 200, "{answer}");
    let (status, reply) = app
        .post(
            "/v3/payee/account/create/venmo",
            &signed(json!({"customerNo": "nobody", "venmoAccount": "@x"})),
        )
        .await;
    assert_eq!(reply["ret_code"], "000080", "{status} {reply}");
    app.shutdown().await;
}

/// Regression: a near miss of an alias path (a trailing slash) got no did-you-mean, where one of
/// an operation's own path does: on the wire the alias is suggested, in a rule the canonical
/// path rules take.
#[tokio::test]
async fn a_near_miss_of_an_alias_path_is_answered_with_it() {
    let app = spawn_app().await;
    let (status, reply) = app
        .post(
            "/v3/payee/account/create/venmo/",
            &signed(json!({"customerNo": "nobody"})),
        )
        .await;
    assert_eq!(status, 404, "{reply}");
    let msg = reply["ret_msg"].as_str().unwrap_or_default();
    assert!(
        msg.contains("did you mean `/v3/payee/account/create/venmo`?"),
        "{reply}"
    );
    let (status, reason, answer) = load(
        &app,
        "surface = \"pockyt\"\noperation = \"/v3/payee/account/create/venmo/\"\n",
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        reason.contains("did you mean \"/v3/customers/account/create/venmo\"?")
            && reason.contains("near \"/v3/payee/account/create/venmo\""),
        "{reason}"
    );
    app.shutdown().await;
}
