//! Every operation's example, as `GET /__sim/operations` gives it, is sent to the simulator in a
//! world reset before it, after the steps its `needs` lists (and only those), with its `<id from
//! operation>` placeholders filled by ids those steps returned, and succeeds (Whalet and platform `SUCCESS`/`PROCESSING`, Infinia `SUC-200`, Pockyt `000100`).
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
        "multipart/form-data with a file, not a JSON body: sent as such (`Step::Upload`) for the operations that need a file",
    ),
    (
        "infinia",
        "trade-details/upload",
        "a CSV file put over SFTP, not an HTTP request: `trade_details_over_sftp` below puts one (`Step::Sftp`)",
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

/// A collection of `amount` on `card`, settled (on the user's balance); its tradeId.
async fn collect(app: &TestApp, card: &str, amount: &str) -> String {
    let received = app
        .trigger_ok(
            "whalet.collection.received",
            json!({"cardId": card, "amount": amount}),
        )
        .await;
    let trade = received["tradeId"].as_str().unwrap().to_owned();
    app.trigger_ok("whalet.collection.settled", json!({"tradeId": trade}))
        .await;
    trade
}

/// What the simulator's own events need before the trigger can fire (the `<id from trigger
/// ...>` placeholders): an account to pay, a user to ask. What the trigger's parameters name.
const TRIGGER_NEEDS: &[(&str, &str)] = &[
    (
        "trigger whalet.collection.received",
        "b2cVirtualAccountApply",
    ),
    (
        "trigger whalet.collection.received on a B2B card",
        "b2bVirtualAccountApply",
    ),
    (
        "trigger whalet.trade_replenish.requested",
        "b2cVirtualAccountApply",
    ),
    ("trigger whalet.edd.requested", "userOnboardingApply"),
];

/// One step that makes something an operation's `needs` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Another operation of the surface, sent from its example (then what [`AFTER`] says the
    /// provider does).
    Op(String),
    /// A file uploaded: `POST /file/upload`.
    Upload,
    /// An event the simulator makes on a trigger (`trigger whalet.collection.received`).
    Trigger(String),
    /// A trade-details file put over SFTP.
    Sftp,
    /// The operation's amount settled on the user's B2C balance (the need line's triggers).
    FundUser(String),
    /// The operation's amount on the platform partner's balance (the need line's trigger).
    FundPartner(String),
}

/// The operation `name` of `surface` in the listing.
fn op_named<'a>(ops: &'a [Value], surface: &str, name: &str) -> &'a Value {
    ops.iter()
        .find(|o| o["surface"] == surface && o["name"] == name)
        .unwrap_or_else(|| panic!("{surface} {name} is named as a need but not listed"))
}

/// The steps that make what `op` needs, read from its `needs` (each line) and its example's
/// placeholders only, those of the operations it needs first (in the order to take them), each
/// once. A need line this cannot act on fails the test: what an operation needs is what it says.
fn plan(ops: &[Value], op: &Value, steps: &mut Vec<Step>) {
    let surface = op["surface"].as_str().unwrap();
    let name = op["name"].as_str().unwrap();
    let push = |steps: &mut Vec<Step>, step: Step| {
        if !steps.contains(&step) {
            steps.push(step);
        }
    };
    let mut strings = Vec::new();
    strings_of(&op["example"], &mut strings);
    let mut made_by: Vec<String> = Vec::new();
    for s in &strings {
        let Some((_, by)) = placeholder(s) else {
            continue;
        };
        made_by.push(by.to_owned());
        if by == "POST /file/upload" {
            push(steps, Step::Upload);
        } else if by == whalet_sim::api::catalog::SFTP_TRADE_DETAILS {
            push(steps, Step::Sftp);
        } else if by.starts_with("trigger ") {
            let (_, first) = TRIGGER_NEEDS
                .iter()
                .find(|(t, _)| *t == by)
                .unwrap_or_else(|| panic!("{name}: no test step for {by:?}"));
            let before = op_named(ops, surface, first);
            plan(ops, before, steps);
            push(steps, Step::Op((*first).to_owned()));
            push(steps, Step::Trigger(by.to_owned()));
        } else {
            let before = op_named(ops, surface, by);
            plan(ops, before, steps);
            push(steps, Step::Op(by.to_owned()));
        }
    }
    for line in op["needs"].as_array().unwrap() {
        let line = line.as_str().unwrap();
        // "what: by" for an id of the example: made above.
        if made_by.iter().any(|by| line.ends_with(&format!(": {by}"))) {
            continue;
        }
        // The operations a line names (`(b2cVirtualAccountApply)`) come first.
        for other in ops.iter().filter(|o| o["surface"] == surface) {
            let other_name = other["name"].as_str().unwrap();
            if line.contains(&format!("({other_name})")) {
                plan(ops, other, steps);
                push(steps, Step::Op(other_name.to_owned()));
            }
        }
        if line.contains("trigger whalet.collection.received")
            && line.contains("trigger whalet.collection.settled")
        {
            push(steps, Step::FundUser(name.to_owned()));
        } else if line.contains("trigger platform.bulk_payment.received") {
            push(steps, Step::FundPartner(name.to_owned()));
        } else if line.contains(whalet_sim::api::catalog::SFTP_TRADE_DETAILS) {
            push(steps, Step::Sftp);
        } else {
            panic!("{surface} {name}: the test cannot make the need {line:?}");
        }
    }
}

/// One world: the ids the steps made (`<userId from userOnboardingApply>` → the id) and the
/// replies of the operations sent, by name.
#[derive(Default)]
struct World {
    ids: BTreeMap<String, String>,
    replies: BTreeMap<String, (Value, Value)>,
}

impl World {
    /// The id `field` that operation `by` made (its reply, else its request).
    fn id(&self, by: &str, field: &str) -> String {
        let (reply, sent) = self
            .replies
            .get(by)
            .unwrap_or_else(|| panic!("{by} was not sent before its {field} was needed"));
        first(reply, sent, field).unwrap_or_else(|| panic!("{by} made no {field}: {reply}"))
    }
}

/// What the run saw the simulator send (for `check_sent_fields`) and the operations it sent.
struct Run<'a> {
    app: &'a TestApp,
    infinia: InfiniaMerchant,
    ops: Vec<Value>,
    makers: BTreeSet<(String, String)>,
    sent: SentFields,
}

impl Run<'_> {
    /// Sends `op`'s example in `world`, filled from its ids; then what the provider does
    /// after it ([`AFTER`]). Err: the request and the reply.
    async fn send_op(&mut self, world: &mut World, op: &Value) -> Result<(), String> {
        let (surface, name) = (
            op["surface"].as_str().unwrap(),
            op["name"].as_str().unwrap(),
        );
        let Some(body) = fill(&op["example"], &world.ids) else {
            return Err(format!(
                "{surface} {name}: a placeholder of its example was not made by its needs: {}",
                op["example"]
            ));
        };
        let (ok, reply) = send(self.app, &self.infinia, op, &body).await;
        if !ok {
            return Err(format!(
                "{surface} {name}: {}",
                json!({"sent": body, "reply": reply})
            ));
        }
        sent_paths(
            &mut self.sent.replies,
            &format!("{surface}.{name}"),
            &reply_body(surface, &reply),
        );
        for (field, by) in &self.makers {
            if by == name {
                if let Some(v) = first(&reply, &body, field) {
                    world.ids.insert(format!("<{field} from {name}>"), v);
                }
            }
        }
        for (s, o, t, field) in AFTER {
            if *s == surface && *o == name {
                let id = first(&reply, &body, field).unwrap();
                self.app.trigger_ok(t, json!({ *field: id })).await;
            }
        }
        world.replies.insert(name.to_owned(), (reply, body));
        Ok(())
    }

    /// Takes one step of a plan in `world`, for operations of `surface`.
    async fn take(&mut self, world: &mut World, surface: &str, step: &Step) -> Result<(), String> {
        let app = self.app;
        let amount_of = |name: &str| {
            let example = &op_named(&self.ops, surface, name)["example"];
            (
                example["amount"].as_str().unwrap().to_owned(),
                example["currency"].as_str().unwrap_or("USD").to_owned(),
            )
        };
        // In a world that has it already (one shared by every operation): taken once.
        let made = |key: &str| world.ids.contains_key(key);
        let done = match step {
            Step::Op(name) => world.replies.contains_key(name),
            Step::Upload => made(whalet_sim::api::describe::UPLOADED),
            Step::Sftp => made(&format!(
                "<fileName from {}>",
                whalet_sim::api::catalog::SFTP_TRADE_DETAILS
            )),
            Step::Trigger(by) => world
                .ids
                .keys()
                .any(|k| k.ends_with(&format!(" from {by}>"))),
            Step::FundUser(_) | Step::FundPartner(_) => false,
        };
        if done {
            return Ok(());
        }
        match step {
            Step::Op(name) => {
                let op = op_named(&self.ops, surface, name).clone();
                self.send_op(world, &op).await?;
            }
            Step::Upload => {
                let file =
                    crate::whalet2_support::upload(app, "invoice.pdf", b"%PDF-1.4 example").await;
                world.ids.insert(
                    whalet_sim::api::describe::UPLOADED.to_owned(),
                    file["fileId"].as_str().unwrap().to_owned(),
                );
            }
            Step::Sftp => {
                // The seller of the binding the operation needs, else any seller.
                let seller = if world.replies.contains_key("account-binding/request") {
                    world.id("account-binding/request", "sellerId")
                } else {
                    "seller-example".to_owned()
                };
                let file = trade_details_over_sftp(app, &seller).await;
                world.ids.insert(
                    format!(
                        "<fileName from {}>",
                        whalet_sim::api::catalog::SFTP_TRADE_DETAILS
                    ),
                    file,
                );
            }
            Step::Trigger(by) => {
                let key = |what: &str| format!("<{what} from {by}>");
                match by.as_str() {
                    // A collection, too small to pay anything from (money is a need of its own).
                    "trigger whalet.collection.received" => {
                        let card = world.id("b2cVirtualAccountApply", "cardId");
                        let trade = collect(app, &card, "1.00").await;
                        world.ids.insert(key("tradeId"), trade);
                    }
                    "trigger whalet.collection.received on a B2B card" => {
                        let card = world.id("b2bVirtualAccountApply", "cardId");
                        let trade = collect(app, &card, "5000.00").await;
                        world.ids.insert(key("tradeId"), trade);
                    }
                    "trigger whalet.trade_replenish.requested" => {
                        let card = world.id("b2cVirtualAccountApply", "cardId");
                        let trade = collect(app, &card, "1.00").await;
                        app.trigger_ok(
                            "whalet.trade_replenish.requested",
                            json!({"tradeId": trade}),
                        )
                        .await;
                        world.ids.insert(key("tradeId"), trade);
                    }
                    "trigger whalet.edd.requested" => {
                        let user = world.id("userOnboardingApply", "userId");
                        let edd = app
                            .trigger_ok("whalet.edd.requested", json!({"userId": user}))
                            .await;
                        let id = first(&edd, &Value::Null, "replenishId").unwrap();
                        world.ids.insert(key("replenishId"), id);
                    }
                    other => panic!("no test step for {other:?}"),
                }
            }
            Step::FundUser(name) => {
                let (amount, _) = amount_of(name);
                let card = world.id("b2cVirtualAccountApply", "cardId");
                collect(app, &card, &amount).await;
            }
            Step::FundPartner(name) => {
                let (amount, currency) = amount_of(name);
                app.trigger_ok(
                    "platform.bulk_payment.received",
                    json!({"amount": amount, "currency": currency}),
                )
                .await;
            }
        }
        Ok(())
    }
}

/// Waits until no notification is pending (each has had its first attempt), so that a reset
/// does not drop one before the receiver saw it.
async fn notifications_attempted(app: &TestApp) {
    for _ in 0..200 {
        let listed = app.get_json("/__sim/notifications").await;
        let pending = listed["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["status"] == "pending");
        if !pending {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Every operation, in a world reset before it, gets exactly what its `needs` lists (and the
/// needs of what that lists, and so on), made by those steps alone; then its example succeeds.
/// Nothing else is made first: a need the listing leaves out (the money a payment is paid from)
/// fails the operation here as it fails a partner.
#[tokio::test]
async fn every_example_succeeds_once_what_it_needs_exists() {
    let app = spawn_app().await;
    let listing = app.get_json("/__sim/operations").await;
    let ops: Vec<Value> = listing["operations"].as_array().unwrap().clone();
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
    let mut run = Run {
        app: &app,
        infinia: InfiniaMerchant::demo(),
        ops: ops.clone(),
        makers,
        // What the simulator sends: every successful reply's body and every notification.
        sent: SentFields::default(),
    };
    let mut failures: Vec<String> = Vec::new();
    for op in &ops {
        if excused.contains(&key(op)) {
            continue;
        }
        notifications_attempted(&app).await;
        let (status, reply) = app.post("/__sim/reset", &json!({})).await;
        assert_eq!(status, 200, "{reply}");
        let surface = op["surface"].as_str().unwrap();
        let mut steps = Vec::new();
        plan(&ops, op, &mut steps);
        let mut world = World::default();
        let mut outcome = Ok(());
        for step in &steps {
            outcome = run.take(&mut world, surface, step).await;
            if outcome.is_err() {
                break;
            }
        }
        if outcome.is_ok() {
            outcome = run.send_op(&mut world, op).await;
        }
        if let Err(why) = outcome {
            failures.push(format!("{}: after {steps:?}: {why}", key(op)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} operations did not succeed from their example after what their needs list:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Then all of them one after the other in one world (deleting and cancelling last, so that
    // what they remove served the others first), each step taken once: the replies and
    // notifications of a world with something in it, for the table of sent fields.
    let ends = |op: &Value| {
        let name = op["name"].as_str().unwrap().to_ascii_lowercase();
        name.contains("delete") || name.contains("cancel")
    };
    let mut in_order = ops.clone();
    in_order.sort_by_key(ends);
    notifications_attempted(&app).await;
    let (status, reply) = app.post("/__sim/reset", &json!({})).await;
    assert_eq!(status, 200, "{reply}");
    let mut world = World::default();
    for (i, op) in in_order.iter().enumerate() {
        let name = op["name"].as_str().unwrap();
        if excused.contains(&key(op)) {
            continue;
        }
        // Before the first delete or cancel: every query again, now that the world holds
        // what all the others made (a query sent early found nothing to list).
        if ends(op) && (i == 0 || !ends(&in_order[i - 1])) {
            for query in in_order
                .iter()
                .filter(|o| !ends(o) && !excused.contains(&key(o)))
            {
                let lower = query["name"].as_str().unwrap().to_ascii_lowercase();
                if lower.contains("query") || lower.contains("retrieve") || lower.contains("list") {
                    // A refusal (an id the query names was removed) is no reply to learn from.
                    let _ = run.send_op(&mut world, query).await;
                }
            }
        }
        if world.replies.contains_key(name) {
            continue;
        }
        let surface = op["surface"].as_str().unwrap();
        let mut steps = Vec::new();
        plan(&ops, op, &mut steps);
        for step in &steps {
            run.take(&mut world, surface, step)
                .await
                .unwrap_or_else(|why| panic!("one world, before {}: {why}", key(op)));
        }
        run.send_op(&mut world, op)
            .await
            .unwrap_or_else(|why| panic!("one world: {why}"));
    }
    for (s, n, _) in EXCUSED {
        assert!(
            ops.iter().any(|op| op["surface"] == *s && op["name"] == *n),
            "{s} {n} is excused but not listed"
        );
    }
    notifications_attempted(&app).await;
    let mut sent = run.sent;
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
