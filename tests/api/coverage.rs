//! Integration coverage (docs/COVERAGE.md): the report counts what traffic exercised, per tenant
//! and overall, exactly under concurrency; reset starts over; unknown query parameters are
//! refused; the CLI's `--min` exit code and JUnit XML (parsed by Python's xml.etree); and the
//! full-coverage scenario takes the Whalet collections and payout groups to 100%.

use std::process::Command;

use serde_json::{json, Value};
use whalet_sim::partner::receiver::Mode;

use crate::helpers::{bin, python, repo_path, spawn_app, spawn_with, Setup, TestApp};
use crate::whalet2_support::{funded_user, upload};
use crate::whalet_support::{expect, trigger, PARTNER};

const CONNECTIVITY: &str = "whalet.connectivity.SUCCESS";

/// The report (read with a plain client: it is larger than the test client's answer cap).
pub(crate) async fn report(app: &TestApp, query: &str) -> Value {
    let r = reqwest::get(format!("{}/__sim/coverage{query}", app.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

/// Hits of item `id` in a report.
fn hits(report: &Value, id: &str) -> u64 {
    items(report)
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the report"))["hits"]
        .as_u64()
        .unwrap()
}

fn items(report: &Value) -> impl Iterator<Item = &Value> {
    report["surfaces"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["groups"].as_array().unwrap())
        .flat_map(|g| g["operations"].as_array().unwrap())
        .flat_map(|o| o["outcomes"].as_array().unwrap())
}

async fn ping(app: &TestApp) {
    let reply = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "Y"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS");
}

#[tokio::test]
async fn requests_count_per_operation_code_and_tenant_and_reset_starts_over() {
    let app = spawn_app().await;
    let before = report(&app, "").await;
    assert!(
        before["items"].as_u64().unwrap() > 500,
        "{}",
        before["items"]
    );
    assert_eq!(before["exercised"], 0);
    ping(&app).await;
    ping(&app).await;
    // A business refusal of one operation, and an envelope refusal of the surface.
    let reply = app
        .client
        .call("payoutConfirm", &json!({"userId": "U-nobody"}))
        .await
        .unwrap();
    assert_eq!(reply.code, "PARAMETER_ERROR", "{}", reply.detail);
    let stranger = app.client_as("209900000000009");
    let reply = stranger.call("connectivity", &json!({})).await.unwrap();
    assert_eq!(reply.code, "PARTNER_NOT_EXIST");

    let all = report(&app, "").await;
    assert_eq!(hits(&all, CONNECTIVITY), 2);
    assert_eq!(hits(&all, "whalet.payoutConfirm.PARAMETER_ERROR"), 1);
    assert_eq!(hits(&all, "whalet.payoutConfirm.PROCESSING"), 0);
    assert_eq!(hits(&all, "whalet.envelope.PARTNER_NOT_EXIST"), 1);
    assert_eq!(all["exercised"], 3);

    // Per tenant: the demo partner's traffic, not the stranger's (no tenant was found for it).
    let mine = report(&app, &format!("?tenant={PARTNER}&surface=whalet")).await;
    assert_eq!(mine["tenant"], PARTNER);
    assert_eq!(hits(&mine, CONNECTIVITY), 2);
    assert_eq!(hits(&mine, "whalet.envelope.PARTNER_NOT_EXIST"), 0);
    assert!(mine["surfaces"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["surface"] == "whalet"));
    let other = report(&app, "?tenant=pockyt:202333").await;
    assert_eq!(other["exercised"], 0);
    let payout = report(&app, "?surface=whalet&group=payout").await;
    assert_eq!(payout["surfaces"][0]["groups"].as_array().unwrap().len(), 1);
    assert_eq!(payout["exercised"], 1);

    let (status, body) = app.post("/__sim/coverage/reset", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    let after = report(&app, "").await;
    assert_eq!(after["exercised"], 0);
    assert_eq!(hits(&after, CONNECTIVITY), 0);
    assert_eq!(
        report(&app, &format!("?tenant={PARTNER}")).await["exercised"],
        0
    );
    app.shutdown().await;
}

#[tokio::test]
async fn unknown_or_bad_query_parameters_are_refused() {
    let app = spawn_app().await;
    let (status, body) = app.get("/__sim/coverage?tenat=whalet:1").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("tenant"), "{body}");
    let (status, body) = app.get("/__sim/coverage?surface=nope").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("whalet"), "{body}");
    let (status, body) = app.get("/__sim/coverage?tenant=nonsense").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app.post("/__sim/coverage/reset?all=1", &json!({})).await;
    assert_eq!(status, 400, "{body}");
    // Both routes are in the OpenAPI document.
    let doc = app.get_json("/__sim/openapi.json").await;
    assert!(
        doc["paths"]["/__sim/coverage"]["get"].is_object(),
        "{}",
        doc["paths"]
    );
    assert!(doc["paths"]["/__sim/coverage/reset"]["post"].is_object());
    app.shutdown().await;
}

/// `payout` is Whalet's payout operations and Pockyt's payout results: without a surface the
/// report once measured both at once. A group several surfaces have needs a surface; one
/// surface's group does not.
#[tokio::test]
async fn a_group_of_several_surfaces_is_refused_without_a_surface() {
    let app = spawn_app().await;
    let (status, body) = app.get("/__sim/coverage?group=payout").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"],
        "group \"payout\" is a group of several surfaces (pockyt, whalet): name one with surface= (--surface)"
    );
    let (status, body) = app.get("/__sim/coverage?group=envelope").await;
    assert_eq!(status, 400, "{body}");
    let pockyt = report(&app, "?group=payouts").await;
    assert_eq!(pockyt["surfaces"][0]["surface"], "pockyt", "{pockyt}");
    let whalet = report(&app, "?surface=whalet&group=payout").await;
    assert_eq!(whalet["surfaces"].as_array().unwrap().len(), 1);
    app.shutdown().await;
}

/// docs/COVERAGE.md lists every surface's groups: the list is the model's.
#[tokio::test]
async fn the_documented_groups_are_the_models() {
    let app = spawn_app().await;
    let all = report(&app, "").await;
    let doc = std::fs::read_to_string(repo_path("docs/COVERAGE.md")).unwrap();
    for surface in all["surfaces"].as_array().unwrap() {
        let name = surface["surface"].as_str().unwrap();
        let mut groups: Vec<&str> = surface["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["group"].as_str().unwrap())
            .collect();
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` | ")))
            .unwrap_or_else(|| panic!("docs/COVERAGE.md has no row for {name}"));
        let cell = row.splitn(3, '|').nth(2).unwrap();
        let mut documented: Vec<&str> = cell.split('`').skip(1).step_by(2).collect();
        groups.sort_unstable();
        documented.sort_unstable();
        assert_eq!(documented, groups, "{name}: {row}");
    }
    app.shutdown().await;
}

/// Regression: the sample report in docs/COVERAGE.md gave 412 items for whalet and 93 for its
/// payout group, where the model has 336 and 81: its item counts are the model's.
#[tokio::test]
async fn the_documented_sample_counts_are_the_models() {
    let app = spawn_app().await;
    let whalet = report(&app, "?surface=whalet").await;
    let payout = report(&app, "?surface=whalet&group=payout").await;
    let operation = payout["surfaces"][0]["groups"][0]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["operation"] == "payoutApply")
        .cloned()
        .unwrap();
    let doc = std::fs::read_to_string(repo_path("docs/COVERAGE.md")).unwrap();
    let sample = doc.split("## API").nth(1).unwrap();
    for (after, items) in [
        ("\"group\": null,", &whalet["items"]),
        ("\"surface\": \"whalet\", \"items\": ", &whalet["items"]),
        ("\"group\": \"payout\", \"items\": ", &payout["items"]),
        (
            "\"operation\": \"payoutApply\", \"items\": ",
            &operation["items"],
        ),
    ] {
        let rest = sample
            .split(after)
            .nth(1)
            .unwrap_or_else(|| panic!("no {after}"));
        let digits: String = rest
            .trim_start()
            .trim_start_matches("\"items\": ")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        assert_eq!(digits, items.to_string(), "{after}");
    }
    app.shutdown().await;
}

/// A misspelt group used to answer an empty report at 100%, so `--group payouts --min 100`
/// passed in CI with no test case; it is a 400 listing the groups, and the CLI fails (exit 5,
/// the simulator's refusal).
#[tokio::test]
async fn an_unknown_group_is_refused_and_the_ci_gate_fails() {
    let app = spawn_app().await;
    let (status, body) = app
        .get("/__sim/coverage?surface=whalet&group=payouts")
        .await;
    assert_eq!(status, 400, "{body}");
    let text = body["error"].as_str().unwrap();
    assert!(
        text.starts_with("no group \"payouts\" in surface whalet; known: "),
        "{body}"
    );
    for group in ["payout", "collections", "connectivity"] {
        assert!(text.contains(group), "{group}: {body}");
    }
    // A group of another surface is not one of this surface's.
    let (status, body) = app
        .get("/__sim/coverage?surface=pockyt&group=collections")
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app.get("/__sim/coverage?group=nope").await;
    assert_eq!(status, 400, "{body}");
    // An empty name is not "every group" either.
    let (status, body) = app.get("/__sim/coverage?surface=whalet&group=").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().starts_with("no group \"\""),
        "{body}"
    );
    // The right name answers the group, at 0% before any traffic.
    let payout = report(&app, "?surface=whalet&group=payout").await;
    assert!(payout["items"].as_u64().unwrap() > 0, "{payout}");
    assert_eq!(payout["percent"], 0.0);
    let url = app.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args([
                "coverage",
                "--url",
                &url,
                "--surface",
                "whalet",
                "--group",
                "payouts",
            ])
            .args(["--min", "100", "--format", "junit"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The simulator's refusal, as `trigger` counts one (docs/CLI.md).
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("no group \\\"payouts\\\""), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "no report: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    app.shutdown().await;
}

/// `whalet-sim coverage` with `args` against `url`: its exit code, stdout and stderr.
async fn coverage_cli(url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = bin();
    command.args(["coverage", "--url", url]).args(args);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A Pockyt trigger never counted for its merchant (nor an Infinia one for its app): each
/// surface's trigger counts for the tenant its own parameter names, else its demo tenant.
#[tokio::test]
async fn a_trigger_counts_for_the_tenant_its_surface_parameter_names() {
    let app = spawn_app().await;
    let funded = "pockyt.state.balance.funded";
    app.trigger_ok(
        "pockyt.balance.funded",
        json!({"currency": "USD", "amount": "1", "merchantNo": "202333"}),
    )
    .await;
    let mine = report(&app, "?tenant=pockyt:202333&surface=pockyt&group=balance").await;
    assert_eq!(hits(&mine, funded), 1, "{mine}");
    // Without merchantNo: the demo merchant's.
    app.trigger_ok(
        "pockyt.balance.funded",
        json!({"currency": "USD", "amount": "1"}),
    )
    .await;
    let mine = report(&app, "?tenant=pockyt:202333&surface=pockyt&group=balance").await;
    assert_eq!(hits(&mine, funded), 2, "{mine}");
    app.trigger_ok(
        "infinia.platform.funded",
        json!({"currency": "USD", "amount": "1", "appId": "demo-app"}),
    )
    .await;
    let infinia = report(&app, "?tenant=infinia:demo-app&surface=infinia").await;
    assert_eq!(
        hits(&infinia, "infinia.state.platform.funded"),
        1,
        "{infinia}"
    );
    app.shutdown().await;
}

/// `coverage --tenant whalet:9` (no such tenant) printed a 0% report and exited 0: the report
/// is a 404 (as `/__sim/state`), and the CLI exits 5 (the simulator's refusal), printing none.
#[tokio::test]
async fn an_unknown_tenant_is_refused_and_the_cli_fails() {
    let app = spawn_app().await;
    let (status, body) = app.get("/__sim/coverage?tenant=whalet:9").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("no tenant \"whalet:9\" is configured (configured: "),
        "{body}"
    );
    let (code, stdout, stderr) = coverage_cli(&app.url, &["--tenant", "whalet:9"]).await;
    assert_eq!(code, Some(5), "{stderr}");
    assert!(stderr.contains("HTTP 404 refused"), "{stderr}");
    assert!(stdout.is_empty(), "no report: {stdout}");
    let (code, _, stderr) = coverage_cli(&app.url, &["--tenant", PARTNER]).await;
    assert_eq!(code, Some(0), "{stderr}");
    app.shutdown().await;
}

/// A status other than 2xx without the simulator's refusal (a busy simulator's 503, a proxy's
/// 502) is exit 3, a transport failure, as docs/CLI.md and `--help` say (it was 1).
#[tokio::test]
async fn a_busy_answer_is_a_transport_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{BufRead, Write};
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = std::io::BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
            line.clear();
        }
        let body = r#"{"error":"too many open connections to the simulator; retry later"}"#;
        let _ = write!(
            reader.get_mut(),
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let (code, stdout, stderr) = coverage_cli(&url, &[]).await;
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("HTTP 503 without the simulator's refusal"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
}

#[tokio::test]
async fn counts_are_exact_under_concurrency() {
    let app = spawn_app().await;
    const N: usize = 48;
    let calls = (0..N).map(|_| ping(&app));
    futures_util::future::join_all(calls).await;
    let all = report(&app, "").await;
    assert_eq!(hits(&all, CONNECTIVITY), N as u64);
    let mine = report(&app, &format!("?tenant={PARTNER}")).await;
    assert_eq!(hits(&mine, CONNECTIVITY), N as u64);
    app.shutdown().await;
}

#[tokio::test]
async fn deliveries_and_state_changes_are_counted() {
    let app = spawn_app().await;
    // A collection that settles on the clock: the scheduled state change counts, and its
    // notification is delivered at the first attempt.
    let (_user, card) = funded_user(&app, "USD", "10").await;
    let all = report(&app, "").await;
    assert_eq!(
        hits(&all, "whalet.state.collection.settled"),
        1,
        "settled on the clock"
    );
    assert_eq!(hits(&all, "whalet.state.collection.received"), 1, "fired");
    assert_eq!(hits(&all, "whalet.state.account.ready"), 1, "fired");
    let first = "whalet.notify.collectionReceivedNotify.delivered_first_time";
    let retried = "whalet.notify.collectionReceivedNotify.delivered_after_retries";
    assert_eq!(hits(&all, first), 1);
    assert_eq!(hits(&all, retried), 0);
    // The receiver refuses the next one once: delivered after a retry.
    app.receiver.set_mode(Mode::Ack { fail_first: 1 });
    trigger(
        &app,
        "whalet.collection.received",
        json!({"cardId": card, "amount": "2"}),
    )
    .await;
    app.advance(5.0).await;
    app.advance(2.0).await;
    let all = report(&app, "").await;
    assert_eq!(hits(&all, first), 1);
    assert_eq!(hits(&all, retried), 1);
    assert_eq!(hits(&all, "whalet.state.collection.settled"), 2);
    app.receiver.set_mode(Mode::Ack { fail_first: 0 });
    // A trigger that returns a collection counts once (the trigger, not also the hook).
    let c = trigger(
        &app,
        "whalet.collection.received",
        json!({"cardId": card, "amount": "1"}),
    )
    .await;
    trigger(
        &app,
        "whalet.collection.returned",
        json!({"tradeId": c["tradeId"]}),
    )
    .await;
    let all = report(&app, "").await;
    assert_eq!(hits(&all, "whalet.state.collection.returned"), 1);
    assert_eq!(hits(&all, "whalet.state.collection.received"), 3);
    let mine = report(&app, &format!("?tenant={PARTNER}")).await;
    assert_eq!(hits(&mine, "whalet.state.collection.returned"), 1);
    app.shutdown().await;
}

/// Pockyt's state changes made by the clock (a payee's review, a payout's result) count once;
/// the same change made by a trigger counts once too (when it fires, not again in the hook).
#[tokio::test]
async fn pockyt_state_changes_on_the_clock_are_counted_once() {
    use crate::pockyt_support::{bank_account, ok, payee_fields};
    let app = spawn_app().await;
    let reply = ok(&app, "/v3/payee/register", payee_fields("cov@example.com")).await;
    let no = reply["customer"]["customerNo"].as_str().unwrap().to_owned();
    assert_eq!(
        hits(&report(&app, "").await, "pockyt.state.payee.activated"),
        0
    );
    app.advance(10.0).await;
    let all = report(&app, "").await;
    assert_eq!(hits(&all, "pockyt.state.payee.activated"), 1, "the review");

    let token = bank_account(&app, &no, "http://127.0.0.1:9/ipn").await;
    ok(
        &app,
        "/v3/payouts/pay",
        json!({"customerNo": no, "accountToken": token, "amount": "5.00",
               "currency": "USD", "invoiceId": "INV-COV"}),
    )
    .await;
    app.advance(3600.0).await;
    let all = report(&app, "").await;
    assert_eq!(hits(&all, "pockyt.state.payout.succeeded"), 1, "the result");

    // A trigger: counted once.
    let other = ok(&app, "/v3/payee/register", payee_fields("cov2@example.com")).await;
    let other = other["customer"]["customerNo"].as_str().unwrap().to_owned();
    trigger(&app, "pockyt.payee.activated", json!({"customerNo": other})).await;
    app.advance(10.0).await;
    let all = report(&app, "").await;
    assert_eq!(hits(&all, "pockyt.state.payee.activated"), 2, "{}", all);
    app.shutdown().await;
}

#[tokio::test]
async fn the_cli_exits_below_min_and_writes_junit_that_parses() {
    let app = spawn_app().await;
    ping(&app).await;
    let url = app.url.clone();
    let run = move |args: Vec<String>| {
        let url = url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                bin()
                    .arg("coverage")
                    .arg("--url")
                    .arg(url)
                    .args(args)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();

    let out = run(args(&["--min", "90"])).await;
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("connectivity"), "{text}");
    assert!(text.contains("never exercised"), "{text}");
    assert!(text.contains("whalet.payoutApply.SUCCESS"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("below --min 90"));

    let out = run(args(&[
        "--min",
        "0",
        "--surface",
        "whalet",
        "--group",
        "connectivity",
    ]))
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = run(args(&["--format", "json", "--tenant", PARTNER])).await;
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits(&json, CONNECTIVITY), 1);

    let out = run(args(&["--format", "junit", "--surface", "whalet"])).await;
    assert_eq!(out.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("coverage.xml");
    std::fs::write(&file, &out.stdout).unwrap();
    let check = r#"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
cases = root.findall("./testsuite/testcase")
failed = [c for c in cases if c.find("failure") is not None]
passed = [c for c in cases if c.find("failure") is None]
assert int(root.get("tests")) == len(cases), (root.get("tests"), len(cases))
assert int(root.get("failures")) == len(failed)
for suite in root.findall("testsuite"):
    assert int(suite.get("tests")) == len(suite.findall("testcase"))
    assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
for c in cases:
    assert c.get("classname") and c.get("name")
names = [c.get("classname") + "." + c.get("name") for c in passed]
print(len(cases), len(failed), ",".join(names))
"#;
    let out = Command::new(python())
        .args(["-c", check])
        .arg(&file)
        .current_dir(repo_path(""))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    let parts: Vec<&str> = printed.trim().splitn(3, ' ').collect();
    let whalet = report(&app, "?surface=whalet").await;
    assert_eq!(parts[0], whalet["items"].to_string(), "{printed}");
    assert_eq!(
        parts[1],
        (whalet["items"].as_u64().unwrap() - 1).to_string()
    );
    assert_eq!(parts[2], "whalet.connectivity.connectivity.SUCCESS");

    let out = run(args(&["--format", "html"])).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("<h1>Coverage:"));
    app.shutdown().await;

    // Nothing listening: a transport failure (3), not a low coverage.
    let out = bin()
        .args(["coverage", "--url", "http://127.0.0.1:9", "--min", "50"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

// ---------------------------------------------------------------------------------------------
// The full-coverage scenario: every item of the Whalet collections and payout groups.

/// The operations of a group, from the report (so the test follows the model).
fn operations_of(report: &Value, group: &str) -> Vec<String> {
    report["surfaces"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["group"] == group)
        .flat_map(|g| g["operations"].as_array().unwrap())
        .filter(|o| o["outcomes"][0]["kind"] == "sync")
        .map(|o| o["operation"].as_str().unwrap().to_owned())
        .collect()
}

fn merge(mut base: Value, extra: &Value) -> Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

/// What causes each notification of the two groups, with `extra` fields in the causing request.
struct Flows {
    user: String,
    card: String,
    invoice: Value,
    next: u32,
}

impl Flows {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{}", self.next)
    }

    async fn collection(&mut self, app: &TestApp, extra: Value) {
        let body =
            json!({"userId": self.user, "cardId": self.card, "amount": "1.00", "currency": "USD"});
        expect(app, "mockPayeeNotify", merge(body, &extra), "SUCCESS").await;
    }

    async fn beneficiary(&mut self, app: &TestApp, extra: Value) -> String {
        let out = self.id("b");
        let body = json!({"userId": self.user, "outBeneficiaryId": out, "country": "HK", "currency": "USD",
            "accountName": "Supplier Ltd", "accountNo": "012345678901", "bankName": "Example Bank HK",
            "bankCode": "004", "swiftCode": "EXAMHKHH"});
        let b = expect(
            app,
            "benificiaryAccountApply",
            merge(body, &extra),
            "PROCESSING",
        )
        .await;
        b["beneficiaryId"].as_str().unwrap().to_owned()
    }

    async fn payout(&mut self, app: &TestApp, beneficiary: &str, extra: Value) {
        let out = self.id("p");
        let applied = expect(app, "payoutApply", json!({"userId": self.user, "outPayoutId": out,
            "fundSource": "B2C", "currency": "USD", "amount": "1.00", "beneficiaryId": beneficiary}), "SUCCESS").await;
        let body = json!({"userId": self.user, "payoutId": applied["payoutId"]});
        expect(app, "payoutConfirm", merge(body, &extra), "PROCESSING").await;
    }

    async fn pay(&mut self, app: &TestApp, extra: Value) {
        let out = self.id("y");
        let applied = expect(app, "payApply", json!({"userId": self.user, "outPayId": out, "fundSource": "B2C",
            "currency": "USD", "amount": "1.00", "payeeName": "Ningbo Factory Co.", "purpose": "GOODS"}), "SUCCESS").await;
        let body = json!({"userId": self.user, "payId": applied["payId"], "tradeCredential": [self.invoice]});
        expect(app, "payConfirm", merge(body, &extra), "PROCESSING").await;
    }

    /// One notification of each kind, each request carrying `extra`.
    async fn all(&mut self, app: &TestApp, beneficiary: &str, extra: Value) {
        self.collection(app, extra.clone()).await;
        self.beneficiary(app, extra.clone()).await;
        self.payout(app, beneficiary, extra.clone()).await;
        self.pay(app, extra).await;
    }
}

/// Lets every review, settlement and result fall due and every retry run out.
async fn run_clock(app: &TestApp) {
    for _ in 0..10 {
        app.advance(10.0).await;
    }
}

#[tokio::test]
async fn full_coverage_scenario_covers_whalet_collections_and_payouts() {
    let app = spawn_with(Setup {
        scenario_files: vec![repo_path("scenarios/full-coverage.toml").into()],
        ..Setup::default()
    })
    .await;
    let (user, card) = funded_user(&app, "USD", "1000.00").await;
    let invoice = upload(&app, "invoice.pdf", b"%PDF-1.4 simulated invoice").await;
    let mut flows = Flows {
        user: user.clone(),
        card,
        invoice,
        next: 0,
    };
    let beneficiary = flows.beneficiary(&app, json!({})).await;
    run_clock(&app).await;

    // Every operation: its success, then each other operation-level code by probe.
    let model = report(&app, "?surface=whalet").await;
    let mut operations = operations_of(&model, "collections");
    operations.extend(operations_of(&model, "payout"));
    assert!(operations.len() >= 14, "{operations:?}");
    let tenant_report = report(&app, &format!("?tenant={PARTNER}&surface=whalet")).await;
    for op in &operations {
        let codes: Vec<String> = items(&tenant_report)
            .filter(|i| {
                i["id"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("whalet.{op}."))
            })
            .map(|i| i["outcome"].as_str().unwrap().to_owned())
            .collect();
        for code in codes.iter().filter(|c| *c != "SUCCESS") {
            expect(&app, op, json!({"coverageProbe": code}), code).await;
        }
    }
    // Successes the flows above did not already give.
    flows.payout(&app, &beneficiary, json!({})).await;
    flows.pay(&app, json!({})).await;
    for (op, body) in [
        ("collectionQuery", json!({"userId": user})),
        ("beneficiaryCountryQuery", json!({"currency": "USD"})),
        ("beneficiaryFieldsQuery", json!({"country": "US"})),
        ("benificiaryAccountQuery", json!({"userId": user})),
        ("withdrawQuery", json!({"userId": user})),
        ("payQuery", json!({"userId": user})),
        ("paymentQuery", json!({"userId": user})),
    ] {
        expect(&app, op, body, "SUCCESS").await;
    }
    let spare = flows.beneficiary(&app, json!({})).await;
    run_clock(&app).await;
    expect(
        &app,
        "benificiaryAccountDelete",
        json!({"userId": user, "beneficiaryId": spare}),
        "SUCCESS",
    )
    .await;

    // Failed results, duplicated, reordered and corrupted notifications.
    flows
        .all(&app, &beneficiary, json!({"coverageResult": "failure"}))
        .await;
    run_clock(&app).await;
    for behaviour in ["duplicate", "reorder", "corrupt_signature"] {
        flows
            .all(&app, &beneficiary, json!({"coverageNotify": behaviour}))
            .await;
        run_clock(&app).await;
    }
    // Delivered after a retry; then exhausted while the endpoint is down.
    app.receiver.set_mode(Mode::Ack { fail_first: 1 });
    flows.all(&app, &beneficiary, json!({})).await;
    run_clock(&app).await;
    app.receiver.set_mode(Mode::Down);
    flows.all(&app, &beneficiary, json!({})).await;
    run_clock(&app).await;
    app.receiver.set_mode(Mode::Ack { fail_first: 0 });
    // The triggers of the payout group's results (the clock made the rest).
    trigger(
        &app,
        "whalet.collection.received",
        json!({"cardId": flows.card, "amount": "1"}),
    )
    .await;

    let done = report(&app, &format!("?tenant={PARTNER}&surface=whalet")).await;
    let mut missing = Vec::new();
    for g in done["surfaces"][0]["groups"].as_array().unwrap() {
        if g["group"] != "collections" && g["group"] != "payout" {
            continue;
        }
        for o in g["operations"].as_array().unwrap() {
            for i in o["outcomes"].as_array().unwrap() {
                if i["hits"] == 0 {
                    missing.push(i["id"].as_str().unwrap().to_owned());
                }
            }
        }
        assert_eq!(g["percent"], 100.0, "{}: missing {missing:#?}", g["group"]);
    }
    assert!(missing.is_empty(), "{missing:#?}");
    // The upload that gave the invoice counts on its own surface.
    let file = report(&app, "?surface=file").await;
    assert_eq!(hits(&file, "file./file/upload.SUCCESS"), 1);
    app.assert_invariants().await;
    app.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The dashboard's Coverage tab, in headless Chromium (skipped without chromedriver outside CI).

async fn page_text(c: &fantoccini::Client, css: &str) -> String {
    match c.find(fantoccini::Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits (bounded, wall time: the tab polls every 3 s) until `css` contains `needle`.
async fn wait_for(c: &fantoccini::Client, css: &str, needle: &str) {
    for _ in 0..200 {
        if page_text(c, css).await.contains(needle) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "no {css} containing {needle:?}; the page shows:\n{}",
        page_text(c, "main").await
    );
}

#[tokio::test]
async fn the_dashboard_tab_shows_bars_updates_live_and_links_to_triggers() {
    let app = spawn_app().await;
    let Some(browser) = crate::browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    c.goto(&format!("{}/__sim/ui/coverage", app.url))
        .await
        .unwrap();
    wait_for(c, "#coverage-summary", "exercised: 0 of").await;
    // Traffic while the page is open appears without a reload, as a filled bar.
    ping(&app).await;
    wait_for(c, "#coverage-summary", "exercised: 1 of").await;
    wait_for(c, "[data-op='whalet/connectivity']", "SUCCESS ×1").await;
    let width = c
        .execute(
            "return document.querySelector(\"[data-op='whalet/connectivity'] .cov-fill\").style.width;",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(width, json!("0%"), "the bar is filled");
    // An unexercised state change links to its trigger's form.
    let href = c
        .execute(
            "return document.querySelector(\"[data-item='whalet.state.payout.failed'] a\").getAttribute('href');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        href,
        json!("/__sim/ui/triggers#trigger-whalet-payout-failed")
    );
    browser.screenshot("dashboard-coverage").await;
    // Start over empties it.
    c.find(fantoccini::Locator::Css("#coverage-reset"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "#coverage-summary", "exercised: 0 of").await;
    let errors = c
        .execute(
            "return window.dashErrors || ['core.js did not load'];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(errors, json!([]));
    browser.close().await;
    app.shutdown().await;
}

/// A notification renamed on the wire (`[whalet.api_codes]`) is counted under its canonical
/// name, as a renamed operation is: the report's ids do not change with the configuration.
#[tokio::test]
async fn a_renamed_notification_counts_under_its_canonical_name() {
    let app = spawn_with(Setup {
        config: Some("[whalet.api_codes]\nconnectivityNotify = \"pingNotify\"\n".into()),
        ..Setup::default()
    })
    .await;
    trigger(
        &app,
        "whalet.connectivity.notify",
        json!({"partnerId": "202400000000001"}),
    )
    .await;
    let id = "whalet.notify.connectivityNotify.delivered_first_time";
    let mut all = report(&app, "").await;
    for _ in 0..50 {
        if hits(&all, id) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        all = report(&app, "").await;
    }
    assert_eq!(hits(&all, id), 1, "{all}");
    assert!(
        !all.to_string().contains("pingNotify"),
        "no item takes the wire name: {all}"
    );
    app.shutdown().await;
}
