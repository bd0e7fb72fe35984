//! The simulator's URL as every client command reads it (stop 48): any URL `call` sends to (the
//! Open API's `/api`, `/api/{apiCode}`, the platform's `/v1/platform/{op}`, Infinia's
//! `/api/v1/...`, Pockyt's `/v3/...`) names the same simulator for `call --example`, `trigger`
//! and `coverage`; a URL whose path is none of the simulator's routes is a transport failure
//! (exit 3) naming the URL, neither "not a whalet-sim" (exit 4) nor a refusal (exit 5).

use std::process::Output;

use crate::helpers::{bin, spawn_app};

/// `whalet-sim <args>` with `WHALET_SIM_URL` set to `url` (the other `WHALET_SIM_*` variables
/// removed), off the async threads (the test server serves on them).
async fn run(args: &[&str], url: &str) -> Output {
    let mut command = bin();
    command.args(args);
    for variable in [
        "WHALET_SIM_URL",
        "WHALET_SIM_SURFACE",
        "WHALET_SIM_POCKYT_TOKEN",
        "WHALET_SIM_ADMIN_TOKEN",
    ] {
        command.env_remove(variable);
    }
    command.env("WHALET_SIM_URL", url);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Regression: `call shopAccountBind --url …/v1/platform/shopAccountBind --example` (README's
/// platform demo URL) asked `…/v1/platform/shopAccountBind/__sim/operations` and said the
/// simulator was "not a whalet-sim" (exit 4); only a trailing `/api` was taken off. Every
/// endpoint URL sending takes now finds the simulator, which describes the operation.
#[tokio::test]
async fn call_example_asks_the_simulator_behind_every_endpoint_url_call_sends_to() {
    let app = spawn_app().await;
    let base = app.url.trim_end_matches('/');
    let cases: [(&str, Vec<&str>, &str); 7] = [
        (
            "/v1/platform/shopAccountBind",
            vec!["shopAccountBind"],
            "shopAccountBind",
        ),
        ("/api/connectivity", vec!["connectivity"], "connectivity"),
        ("/api/", vec!["connectivity"], "connectivity"),
        (
            "/v1/platform/shopAccountBind",
            vec!["shopAccountBind", "--surface", "platform"],
            "shopAccountBind",
        ),
        (
            "/api/v1/account-balance/query",
            vec!["account-balance/query", "--surface", "infinia"],
            "account-balance/query",
        ),
        (
            "/v3/payouts/balance",
            vec!["v3/payouts/balance", "--surface", "pockyt"],
            "payouts/balance",
        ),
        ("/__sim/health", vec!["connectivity"], "connectivity"),
    ];
    for (path, args, request) in cases {
        let url = format!("{base}{path}");
        let mut words = vec!["call"];
        words.extend(args.iter().copied());
        words.extend(["--example", "--json", "--url", url.as_str()]);
        let out = run(&words, "http://127.0.0.1:1").await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{words:?}: {err}");
        assert!(!err.contains("not a whalet-sim"), "{words:?}: {err}");
        assert!(!err.contains("no simulator answered"), "{words:?}: {err}");
        let op: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{words:?}: {e}: {}", stdout(&out)));
        let line = op["request"].as_str().unwrap_or_default();
        assert!(line.contains(request), "{words:?}: {op}");
        assert!(op["fields"].is_array(), "{words:?}: {op}");
    }
}

/// Regression: `trigger` and `coverage` with `WHALET_SIM_URL=…/api` put `/__sim/…` after the
/// path. They find the simulator from any of its endpoint URLs, as `call --example` does.
#[tokio::test]
async fn trigger_and_coverage_find_the_simulator_behind_its_endpoint_urls() {
    let app = spawn_app().await;
    let base = app.url.trim_end_matches('/');
    for path in [
        "/api",
        "/api/connectivity/",
        "/v1/platform/paymentQuery",
        "/v3/payouts",
    ] {
        let url = format!("{base}{path}");
        let listed = run(&["trigger", "--list", "whalet.connectivity.notify"], &url).await;
        assert_eq!(listed.status.code(), Some(0), "{url}: {}", stderr(&listed));
        assert!(
            stdout(&listed).contains("whalet.connectivity.notify"),
            "{url}: {}",
            stdout(&listed)
        );
        let coverage = run(&["coverage", "--format", "json"], &url).await;
        assert_eq!(
            coverage.status.code(),
            Some(0),
            "{url}: {}",
            stderr(&coverage)
        );
        let report: serde_json::Value = serde_json::from_slice(&coverage.stdout).unwrap();
        assert!(report["items"].is_number(), "{url}: not a coverage report");
        assert!(
            report["surfaces"].is_array(),
            "{url}: not a coverage report"
        );
    }
}

/// Regression: a URL whose path is not the simulator's root (`…/nowhere`) got the edge's 404
/// "no route" answer, which `trigger` and `coverage` reported as the simulator's refusal (exit
/// 5, the code of `coverage --min` failing) and `call --example` as "not a whalet-sim" (exit 4).
/// It is a transport failure (exit 3) naming the URL given and saying its path is no route.
#[tokio::test]
async fn a_url_whose_path_is_no_simulator_route_is_a_transport_failure_naming_it() {
    let app = spawn_app().await;
    let url = format!("{}/nowhere", app.url.trim_end_matches('/'));
    let commands: [&[&str]; 5] = [
        &["coverage"],
        &["coverage", "--min", "100"],
        &["trigger", "--list"],
        &["trigger", "whalet.connectivity.notify"],
        &["call", "connectivity", "--example"],
    ];
    for args in commands {
        let out = run(args, &url).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains("not a simulator route"), "{args:?}: {err}");
        assert!(err.contains(&url), "{args:?}: {err}");
        assert!(!err.contains("not a whalet-sim"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
    }
    // The control plane's own refusal stays a refusal.
    let refused = run(&["trigger", "whalet.no.such.event"], &app.url).await;
    assert_eq!(refused.status.code(), Some(5), "{}", stderr(&refused));
}
