//! The operations catalogue under a contract overlay, round 25 (docs/CONTRACTS.md, "Examples in
//! the partner's names"): every name a field's description holds is the partner's — the other
//! field of an either-or pair, the fields a condition names, a status field's words — and an
//! id's placeholder follows a reply rename of a field inside an object (Pockyt's `customer.` and
//! `result.`), in `GET /__sim/operations` and in `whalet-sim call --example` alike.

use serde_json::Value;

use crate::helpers::{bin, run_ok, spawn_with, Setup, TestApp};

/// The simulator with `overlay` as the default contract (kept in `dir`).
async fn with_overlay(dir: &tempfile::TempDir, overlay: &str) -> TestApp {
    let file = dir.path().join("c.toml");
    std::fs::write(&file, overlay).unwrap();
    spawn_with(Setup {
        config: Some(format!("[contract]\nfile = \"{}\"\n", file.display())),
        ..Setup::default()
    })
    .await
}

/// The listed operation `name` of `surface`.
async fn listed(app: &TestApp, surface: &str, name: &str) -> Value {
    let all = app
        .get_json(&format!("/__sim/operations?surface={surface}"))
        .await;
    all["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("{surface} {name} is not listed: {all}"))
        .clone()
}

/// The listed field `name` of an operation.
fn field<'a>(op: &'a Value, name: &str) -> &'a Value {
    op["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name}: {op}"))
}

/// What `whalet-sim call --example` prints for `args` against the simulator at `url`.
async fn example_text(url: &str, args: &[&str]) -> String {
    let mut command = bin();
    command
        .arg("call")
        .args(args)
        .args(["--example", "--url", url])
        .env_remove("WHALET_SIM_ADMIN_TOKEN");
    let out = run_ok(command).await;
    String::from_utf8(out.stdout).unwrap()
}

const RENAMES: &str =
    "[pockyt.\"/v3/payouts/inquiry\"]\nrename_request = { ref = \"invoiceId\" }\n\n\
    [whalet.b2cShopBind]\nrename_request = { opType = \"operationType\" }\n\n\
    [whalet.cardHolderQuery]\nrename_request = { hid = \"holderId\" }\n\n\
    [whalet.b2cCardQuery]\nstatus = { ACTIVE = \"OPEN\", CANCELLED = \"CLOSED\" }\n";

/// Regression: the listing renamed a field's own name only, so the field paired with a renamed
/// one still named it by the simulator's name (`transactionNo: this or invoiceId`), a condition
/// named the simulator's field (`required if operationType is BIND or ADD`), and a status
/// field's values were the simulator's words where the partner's status map applies.
#[tokio::test]
async fn pairs_conditions_and_status_words_in_the_listing_are_the_partners() {
    let dir = tempfile::tempdir().unwrap();
    let app = with_overlay(&dir, RENAMES).await;

    let inquiry = listed(&app, "pockyt", "/v3/payouts/inquiry").await;
    assert_eq!(field(&inquiry, "transactionNo")["or"], "ref", "{inquiry}");
    assert_eq!(field(&inquiry, "ref")["or"], "transactionNo", "{inquiry}");
    // The placeholder keeps the name the pay reply sends the id under.
    assert!(
        inquiry["fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["name"] != "invoiceId" && f["or"] != "invoiceId"),
        "{inquiry}"
    );

    let bind = listed(&app, "whalet", "b2cShopBind").await;
    let when = field(&bind, "shopName")["when"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(when.contains("opType"), "{when}");
    assert!(!when.contains("operationType"), "{when}");

    let holder = listed(&app, "whalet", "cardHolderQuery").await;
    assert_eq!(field(&holder, "outHolderId")["or"], "hid", "{holder}");

    let cards = listed(&app, "whalet", "b2cCardQuery").await;
    let allowed: Vec<&str> = field(&cards, "status")["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        allowed.contains(&"OPEN") && allowed.contains(&"CLOSED"),
        "{allowed:?}"
    );
    assert!(
        !allowed.contains(&"ACTIVE") && !allowed.contains(&"CANCELLED"),
        "{allowed:?}"
    );
    // The words the map leaves alone stay.
    assert!(allowed.contains(&"PROCESSING"), "{allowed:?}");
    // The overlay of one operation does not reach another's status field.
    let other = listed(&app, "whalet", "b2cCardDetailQuery").await;
    assert!(!other.to_string().contains("\"OPEN\""), "{other}");

    let url = app.url.clone();
    let text = example_text(&url, &["--surface", "pockyt", "v3/payouts/inquiry"]).await;
    assert!(text.contains("this or ref"), "{text}");
    assert!(!text.contains("this or invoiceId"), "{text}");
    let text = example_text(&url, &["b2cShopBind"]).await;
    assert!(text.contains("required if opType is"), "{text}");
    app.shutdown().await;
}

/// Regression: a Pockyt example's placeholder kept the simulator's name of an id the reply that
/// makes it renames (`customer.customerNo` → `customer.payeeId`): the rename was looked up at
/// the reply's top level only, where no Pockyt id sits.
#[tokio::test]
async fn a_placeholder_follows_a_reply_rename_inside_an_object() {
    let dir = tempfile::tempdir().unwrap();
    let app = with_overlay(
        &dir,
        "[pockyt.\"/v3/payee/register\"]\nrename_reply = { \"customer.customerNo\" = \"customer.payeeId\" }\n\n\
         [pockyt.\"/v3/payouts/pay\"]\nrename_reply = { \"result.invoiceId\" = \"payout.ref\" }\n",
    )
    .await;
    let pay = listed(&app, "pockyt", "/v3/payouts/pay").await;
    let example = pay["example"].to_string();
    assert!(
        example.contains("<payeeId from /v3/payee/register>"),
        "{example}"
    );
    assert!(!example.contains("<customerNo from"), "{example}");
    // What the payout needs is still named, whatever the id is called.
    assert!(
        pay["needs"].to_string().contains("/v3/payee/register"),
        "{pay}"
    );
    // Moved out of its object, the id is named by its whole path.
    let inquiry = listed(&app, "pockyt", "/v3/payouts/inquiry").await;
    let example = inquiry["example"].to_string();
    assert!(
        example.contains("<payout.ref from /v3/payouts/pay>"),
        "{example}"
    );

    let text = example_text(&app.url.clone(), &["--surface", "pockyt", "v3/payouts/pay"]).await;
    assert!(text.contains("<payeeId from /v3/payee/register>"), "{text}");
    app.shutdown().await;
}
