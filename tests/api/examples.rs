//! Every operation's example, as `GET /__sim/operations` gives it, is sent to the simulator with
//! its `<id from operation>` placeholders filled by ids the operations before it returned, and
//! succeeds (Whalet and platform `SUCCESS`/`PROCESSING`, Infinia `SUC-200`, Pockyt `000100`).
//! The list comes from the catalog: an operation that is neither sent successfully nor excused
//! below, with its reason, fails the test.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use whalet_sim::contract::SentFields;

use crate::helpers::{platform_call, spawn_app, TestApp};
use crate::infinia::support::Merchant as InfiniaMerchant;

/// Operations whose example cannot succeed on its own, and why.
const EXCUSED: &[(&str, &str, &str)] = &[
    (
        "file",
        "upload",
        "multipart/form-data with a file, not a JSON body: sent as such at the start of this test",
    ),
    (
        "infinia",
        "trade-details/upload",
        "a CSV file put over SFTP, not an HTTP request: `trade_details_over_sftp` below puts one",
    ),
];

/// What the provider does after an operation succeeded (approve a review, open an account,
/// end a payout): the trigger, with the id field it names.
const AFTER: &[(&str, &str, &str, &str)] = &[
    // (surface, operation, trigger, id field of the reply)
    (
        "whalet",
        "userOnboardingApply",
        "whalet.onboarding.approved",
        "userId",
    ),
    (
        "whalet",
        "cardHolderApply",
        "whalet.holder.approved",
        "holderId",
    ),
    (
        "whalet",
        "b2cVirtualAccountApply",
        "whalet.account.opened",
        "cardId",
    ),
    (
        "whalet",
        "b2bVirtualAccountApply",
        "whalet.account.opened",
        "cardId",
    ),
    ("whalet", "b2cShopBind", "whalet.shop.approved", "bindId"),
    (
        "whalet",
        "benificiaryAccountApply",
        "whalet.beneficiary.approved",
        "beneficiaryId",
    ),
    (
        "whalet",
        "cardHolderBeneficaryApply",
        "whalet.beneficary.approved",
        "beneficaryId",
    ),
    // A confirmed payout ends, so that its beneficiary may be deleted.
    (
        "whalet",
        "payoutConfirm",
        "whalet.payout.succeeded",
        "payoutId",
    ),
    (
        "platform",
        "shopAccountBind",
        "platform.binding.approved",
        "bindId",
    ),
    (
        "infinia",
        "account-binding/request",
        "infinia.binding.approved",
        "requestNo",
    ),
    (
        "pockyt",
        "/v3/payee/register",
        "pockyt.payee.activated",
        "customerNo",
    ),
    (
        "pockyt",
        "/v3/customers/account/create/bank-account",
        "pockyt.account.activated",
        "accountToken",
    ),
];

/// Every string value of `body` under key `key`, at any depth.
fn find_all(body: &Value, key: &str, out: &mut Vec<String>) {
    match body {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_owned());
                    }
                }
                find_all(v, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| find_all(v, key, out)),
        _ => {}
    }
}

/// The first value of `key` in the reply, else in the request.
fn first(reply: &Value, sent: &Value, key: &str) -> Option<String> {
    let mut values = Vec::new();
    find_all(reply, key, &mut values);
    find_all(sent, key, &mut values);
    values.into_iter().find(|v| placeholder(v).is_none())
}

/// `<userId from userOnboardingApply>` → (`userId`, `userOnboardingApply`).
fn placeholder(s: &str) -> Option<(&str, &str)> {
    s.strip_prefix('<')?.strip_suffix('>')?.split_once(" from ")
}

/// The example with every placeholder filled from `ids`; None when one is not known yet.
fn fill(example: &Value, ids: &BTreeMap<String, String>) -> Option<Value> {
    match example {
        Value::String(s) if placeholder(s).is_some() => ids.get(s).map(|v| json!(v)),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                out.insert(k.clone(), fill(v, ids)?);
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|v| fill(v, ids))
                .collect::<Option<Vec<_>>>()?,
        )),
        other => Some(other.clone()),
    }
}

/// Every string in a JSON value.
fn strings_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|x| strings_of(x, out)),
        Value::Object(map) => map.values().for_each(|x| strings_of(x, out)),
        _ => {}
    }
}

/// What `trade-details/query` and `revenue-sharing/request` need: a trade-details file over SFTP
/// with a sale by the bound seller, processed. Returns the file's name.
async fn trade_details_over_sftp(app: &TestApp, seller: &str) -> String {
    use crate::infinia::support::{sftp_batch, sftp_port};
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("trade-details.csv");
    std::fs::write(
        &csv,
        format!(
            "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount,productName,quantity\n\
             T-EXAMPLE-1,SALE,ORD-EXAMPLE-1,{seller},,2024-12-31 10:00:00,USD,500.00,Desk lamp,1\n"
        ),
    )
    .unwrap();
    let (ok, out) = sftp_batch(
        sftp_port(app),
        dir.path(),
        whalet_sim::api::infinia::apps::DEMO_APP_ID,
        &format!("put {} /upload/trade-details.csv\n", csv.display()),
    )
    .await;
    assert!(ok, "{out}");
    app.advance(5.0).await;
    "trade-details.csv".to_owned()
}

/// Sends one example on its surface: (succeeded, what came back).
async fn send(app: &TestApp, infinia: &InfiniaMerchant, op: &Value, body: &Value) -> (bool, Value) {
    let name = op["name"].as_str().unwrap();
    match op["surface"].as_str().unwrap() {
        "whalet" => {
            let reply = app.client.call(name, body).await.unwrap();
            let ok = reply.code == "SUCCESS" || reply.code == "PROCESSING";
            let shown = json!({"code": reply.code, "detail": reply.detail, "body": reply.body});
            (ok, shown)
        }
        "platform" => {
            let (code, detail, reply) = platform_call(app, name, body).await;
            (
                code == "SUCCESS",
                json!({"code": code, "detail": detail, "body": reply}),
            )
        }
        "infinia" => {
            let reply = infinia.call(app, name, body).await;
            (
                reply.code == "SUC-200",
                json!({"code": reply.code, "message": reply.message, "data": reply.data}),
            )
        }
        "pockyt" => {
            let reply = crate::pockyt_support::call(app, name, body.clone()).await;
            (reply["ret_code"] == "000100", reply)
        }
        other => panic!("unknown surface {other}"),
    }
}

/// A collection of 5,000.00 on `card`, settled; its tradeId.
async fn collect(app: &TestApp, card: &str) -> String {
    let received = app
        .trigger_ok(
            "whalet.collection.received",
            json!({"cardId": card, "amount": "5000.00"}),
        )
        .await;
    let trade = received["tradeId"].as_str().unwrap().to_owned();
    app.trigger_ok("whalet.collection.settled", json!({"tradeId": trade}))
        .await;
    trade
}

/// What the simulator's own events make (the `<id from trigger ...>` placeholders) once the
/// operation `name` succeeded: collections on an opened account, requests for material.
async fn events_after(
    app: &TestApp,
    name: &str,
    reply: &Value,
    ids: &mut BTreeMap<String, String>,
) {
    match name {
        "b2cVirtualAccountApply" => {
            let card = first(reply, &Value::Null, "cardId").unwrap();
            let trade = collect(app, &card).await;
            ids.insert(
                "<tradeId from trigger whalet.collection.received>".into(),
                trade,
            );
            let other = collect(app, &card).await;
            app.trigger_ok(
                "whalet.trade_replenish.requested",
                json!({"tradeId": other}),
            )
            .await;
            ids.insert(
                "<tradeId from trigger whalet.trade_replenish.requested>".into(),
                other,
            );
            let user = first(reply, &Value::Null, "userId").unwrap();
            let edd = app
                .trigger_ok("whalet.edd.requested", json!({"userId": user}))
                .await;
            let id = first(&edd, &Value::Null, "replenishId").unwrap();
            ids.insert("<replenishId from trigger whalet.edd.requested>".into(), id);
        }
        "b2bVirtualAccountApply" => {
            let card = first(reply, &Value::Null, "cardId").unwrap();
            let trade = collect(app, &card).await;
            ids.insert(
                "<tradeId from trigger whalet.collection.received on a B2B card>".into(),
                trade,
            );
        }
        // A test collection is settled, so that its card may be cancelled later.
        "mockPayeeNotify" => {
            if let Some(trade) = first(reply, &Value::Null, "tradeId") {
                app.trigger_ok("whalet.collection.settled", json!({"tradeId": trade}))
                    .await;
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_example_succeeds_once_what_it_needs_exists() {
    let app = spawn_app().await;
    let infinia = InfiniaMerchant::demo();
    let listing = app.get_json("/__sim/operations").await;
    let mut ops: Vec<Value> = listing["operations"].as_array().unwrap().clone();
    // Deleting and cancelling come last, so that what they remove served the others first.
    let ends = |op: &Value| {
        let name = op["name"].as_str().unwrap().to_ascii_lowercase();
        name.contains("delete") || name.contains("cancel")
    };
    ops.sort_by_key(ends);
    let key = |op: &Value| format!("{} {}", op["surface"], op["name"]);
    let excused: BTreeSet<String> = EXCUSED
        .iter()
        .map(|(s, n, _)| format!("\"{s}\" \"{n}\""))
        .collect();

    // Which operation makes which id, as the examples' placeholders say.
    let mut makers: BTreeSet<(String, String)> = BTreeSet::new();
    for op in &ops {
        let mut strings = Vec::new();
        strings_of(&op["example"], &mut strings);
        for s in strings {
            if let Some((field, by)) = placeholder(&s) {
                makers.insert((field.to_owned(), by.to_owned()));
            }
        }
    }
    // Filled placeholders: `<userId from userOnboardingApply>` → the id.
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let file = crate::whalet2_support::upload(&app, "invoice.pdf", b"%PDF-1.4 example").await;
    ids.insert(
        whalet_sim::api::describe::UPLOADED.to_owned(),
        file["fileId"].as_str().unwrap().to_owned(),
    );
    // The platform partner pays from its own balance (money a marketplace sent it).
    app.trigger_ok(
        "platform.bulk_payment.received",
        json!({"amount": "5000.00", "currency": "USD"}),
    )
    .await;

    // What the simulator sends: every successful reply's body and every notification payload.
    let mut sent = SentFields::default();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut last_failure: BTreeMap<String, Value> = BTreeMap::new();
    for round in 0..16 {
        // Rounds 0-7: all but deleting and cancelling; then everything.
        let mut progress = false;
        for op in &ops {
            let k = key(op);
            if done.contains(&k) || excused.contains(&k) || (round < 8 && ends(op)) {
                continue;
            }
            let Some(body) = fill(&op["example"], &ids) else {
                continue;
            };
            let (ok, reply) = send(&app, &infinia, op, &body).await;
            if !ok {
                last_failure.insert(k, json!({"sent": body, "reply": reply}));
                continue;
            }
            progress = true;
            done.insert(k);
            let (surface, name) = (
                op["surface"].as_str().unwrap(),
                op["name"].as_str().unwrap(),
            );
            sent_paths(
                &mut sent.replies,
                &format!("{surface}.{name}"),
                &reply_body(surface, &reply),
            );
            for (field, by) in &makers {
                if by == name {
                    if let Some(v) = first(&reply, &body, field) {
                        ids.entry(format!("<{field} from {name}>")).or_insert(v);
                    }
                }
            }
            for (s, o, t, field) in AFTER {
                if *s == surface && *o == name {
                    let id = first(&reply, &body, field).unwrap();
                    app.trigger_ok(t, json!({ *field: id })).await;
                }
            }
            if (surface, name) == ("infinia", "account-binding/request") {
                let seller = first(&reply, &body, "sellerId").unwrap();
                let file = trade_details_over_sftp(&app, &seller).await;
                ids.insert(
                    format!(
                        "<fileName from {}>",
                        whalet_sim::api::catalog::SFTP_TRADE_DETAILS
                    ),
                    file,
                );
            }
            if surface == "whalet" {
                events_after(&app, name, &reply, &mut ids).await;
            }
        }
        if !progress && round >= 8 {
            break;
        }
    }

    let missing: Vec<String> = ops
        .iter()
        .map(key)
        .filter(|k| !done.contains(k) && !excused.contains(k))
        .map(|k| {
            let why = last_failure
                .get(&k)
                .map_or("its placeholders were never filled".to_owned(), |v| {
                    v.to_string()
                });
            format!("{k}: {why}")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{} operations did not succeed from their example:\n{}",
        missing.len(),
        missing.join("\n")
    );
    for (s, n, _) in EXCUSED {
        assert!(
            ops.iter().any(|op| op["surface"] == *s && op["name"] == *n),
            "{s} {n} is excused but not listed"
        );
    }
    // Every notification made on the way has had its first attempt (the receiver acknowledges).
    for _ in 0..200 {
        let listed = app.get_json("/__sim/notifications").await;
        let pending = listed["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["status"] == "pending");
        if !pending {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for received in app.receiver.received() {
        if let Some(body) = &received.body {
            sent_paths(
                &mut sent.notifications,
                &format!("whalet.{}", received.api_code),
                body,
            );
        }
    }
    check_sent_fields(sent);
    app.shutdown().await;
}

/// The part of a reply a contract overlay's `rename_reply` rewrites (as `send` shows it).
fn reply_body(surface: &str, shown: &Value) -> Value {
    match surface {
        "whalet" | "platform" => shown["body"].clone(),
        "infinia" => shown["data"].clone(),
        _ => {
            let mut payload = shown.clone();
            if let Some(map) = payload.as_object_mut() {
                map.remove("ret_code");
                map.remove("ret_msg");
            }
            payload
        }
    }
}

/// Adds the paths of `body` to `key`'s list (sorted, each once). A body without fields (a head-only
/// reply, an empty list) adds nothing: its operation stays unlisted, so unchecked.
fn sent_paths(table: &mut BTreeMap<String, Vec<String>>, key: &str, body: &Value) {
    let mut all: BTreeSet<String> = table.remove(key).unwrap_or_default().into_iter().collect();
    whalet_sim::contract::paths::all_paths(body, &mut all);
    if !all.is_empty() {
        table.insert(key.to_owned(), all.into_iter().collect());
    }
}

/// The shipped table of sent fields (`src/contract/fields.json`, which contract overlays are
/// checked against) must be what this run saw; `UPDATE_CONTRACT_FIELDS=1` rewrites it.
fn check_sent_fields(mut seen: SentFields) {
    seen.about = SentFields::shipped().about.clone();
    let path = format!("{}/src/contract/fields.json", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_CONTRACT_FIELDS").is_some() {
        let text = serde_json::to_string_pretty(&seen).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        return;
    }
    let shipped = SentFields::shipped();
    let mut differences = Vec::new();
    for (kind, seen, shipped) in [
        ("reply", &seen.replies, &shipped.replies),
        ("notification", &seen.notifications, &shipped.notifications),
    ] {
        for key in seen.keys().chain(shipped.keys()).collect::<BTreeSet<_>>() {
            let (a, b) = (seen.get(key), shipped.get(key));
            if a != b {
                differences.push(format!("{kind} {key}: sent {a:?}, table {b:?}"));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "src/contract/fields.json is not what the simulator sends (UPDATE_CONTRACT_FIELDS=1 \
         cargo test --test api every_example rewrites it):\n{}",
        differences.join("\n")
    );
}

/// `whalet-sim call OP --example`: the body, a table of the fields, what it needs; `--json` is
/// the entry `GET /__sim/operations` lists; an unknown name is a usage error with the nearest one.
#[tokio::test]
async fn call_example_prints_the_body_the_fields_and_what_comes_first() {
    let app = spawn_app().await;
    let listing = app.get_json("/__sim/operations").await;
    // Asked with no simulator at --url: described by a simulator built with the defaults.
    let run = |args: &[&str]| {
        crate::helpers::bin()
            .args(args)
            .env("WHALET_SIM_URL", "http://127.0.0.1:9")
            .output()
            .unwrap()
    };

    let out = run(&["call", "cardHolderApply", "--example"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("POST /api"), "{text}");
    assert!(
        text.contains("\"userId\": \"<userId from userOnboardingApply>\""),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("holderType "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        row.contains("required") && row.contains("INDIVIDUAL, ENTERPRISE"),
        "{row}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("email ") && l.contains("optional")),
        "{text}"
    );
    assert!(
        text.contains("needs: an approved user: userOnboardingApply"),
        "{text}"
    );

    for (surface, name, wire) in [
        ("whalet", "payoutApply", "payoutApply"),
        ("platform", "paymentApply", "paymentApply"),
        (
            "infinia",
            "account-binding/request",
            "account-binding/request",
        ),
        ("pockyt", "v3/payouts/pay", "/v3/payouts/pay"),
    ] {
        let out = run(&["call", "--surface", surface, name, "--example", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{surface} {name}");
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let listed = listing["operations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["surface"] == surface && o["name"] == wire)
            .unwrap();
        assert_eq!(&printed, listed, "{surface} {name}");
    }

    for (args, near) in [
        (
            &["call", "cardHolderAply", "--example"][..],
            "cardHolderApply",
        ),
        (
            &["call", "--surface", "pockyt", "v3/payouts/pya", "--example"][..],
            "v3/payouts/pay",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(&format!("did you mean `{near}`?")), "{err}");
    }
    app.shutdown().await;
}

/// With a simulator at `--url`, `call --example` describes that simulator: its renamed apiCodes
/// and contract overlay apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_example_asks_the_simulator_at_the_url() {
    let app = crate::helpers::spawn_with(crate::helpers::Setup {
        config: Some("[whalet.api_codes]\ncardHolderApply = \"holderApplyV2\"\n".into()),
        ..Default::default()
    })
    .await;
    let url = app.url.clone();
    let run = |args: &[&str]| crate::helpers::bin().args(args).output().unwrap();

    let out = run(&[
        "call",
        "--url",
        &url,
        "holderApplyV2",
        "--example",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["name"], "holderApplyV2", "{printed}");
    assert!(printed["request"]
        .as_str()
        .unwrap()
        .contains("holderApplyV2"));

    // The default name is not an operation of this simulator; the nearest one is named.
    let out = run(&["call", "--url", &url, "holderApplyV", "--example"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("did you mean `holderApplyV2`?"), "{err}");
    app.shutdown().await;
}
