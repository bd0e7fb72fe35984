//! Round 34 (kit report 1, 4, 5, 8; cli report 5): what an operation needs includes the money it
//! pays and the seller's approval of a binding; a refused revenue sharing tells a PENDING binding
//! from none; Pockyt entries list the fields the signing layer adds; the file upload and the
//! Infinia trade-details upload are described; examples suit the type they name; `--data
//! @missing` names the flag.

use serde_json::{json, Value};

use crate::helpers::{bin, spawn_app};
use crate::infinia::support::{binding_request, Merchant};

/// `whalet-sim call ARGS` with no simulator at the URL: the default configuration's listing.
fn offline(args: &[&str]) -> (Option<i32>, String, String) {
    let out = bin()
        .args(args)
        .env("WHALET_SIM_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The listing's entry of `surface`'s operation `name`.
fn entry(listing: &Value, surface: &str, name: &str) -> Value {
    listing["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["surface"] == surface && o["name"] == name)
        .unwrap_or_else(|| panic!("{surface} {name} not listed"))
        .clone()
}

fn needs(op: &Value) -> String {
    op["needs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Regression (kit #1): payApply, payoutApply and platform paymentApply answered "insufficient
/// balance" after every need listed existed; revenue-sharing/request did not say the seller must
/// approve the binding.
#[tokio::test]
async fn needs_name_the_money_paid_and_the_sellers_approval() {
    let app = spawn_app().await;
    let listing = app.get_json("/__sim/operations").await;
    for name in ["payApply", "payoutApply"] {
        let n = needs(&entry(&listing, "whalet", name));
        assert!(
            n.contains("money on the user's B2C balance")
                && n.contains("b2cVirtualAccountApply")
                && n.contains("trigger whalet.collection.received")
                && n.contains("trigger whalet.collection.settled"),
            "{name}: {n}"
        );
    }
    let n = needs(&entry(&listing, "platform", "paymentApply"));
    assert!(
        n.contains("money on the partner's balance")
            && n.contains("trigger platform.bulk_payment.received"),
        "{n}"
    );
    let n = needs(&entry(&listing, "infinia", "revenue-sharing/request"));
    assert!(
        n.contains("approved by the seller") && n.contains("trigger infinia.binding.approved"),
        "{n}"
    );
    app.shutdown().await;
}

/// Regression (kit #1): a revenue sharing for a seller whose binding was requested but not yet
/// approved was refused as for a seller never requested ("account-binding/request first").
#[tokio::test]
async fn a_sharing_for_a_pending_binding_says_the_seller_must_approve() {
    let app = spawn_app().await;
    let m = Merchant::demo();
    let listing = app.get_json("/__sim/operations").await;
    let mut body = entry(&listing, "infinia", "revenue-sharing/request")["example"].clone();
    let seller = "SELLER-FCAT50";
    let text = body
        .to_string()
        .replace("<sellerId from account-binding/request>", seller);
    body = serde_json::from_str(&text).unwrap();

    let never = m.call(&app, "revenue-sharing/request", &body).await;
    assert_ne!(never.code, "SUC-200");
    assert!(
        never
            .message
            .contains("request a binding (account-binding/request)")
            && !never.message.contains("PENDING"),
        "{}",
        never.message
    );

    m.ok(
        &app,
        "account-binding/request",
        &binding_request("ABR-FCAT50-1", seller),
    )
    .await;
    let pending = m.call(&app, "revenue-sharing/request", &body).await;
    assert_ne!(pending.code, "SUC-200");
    assert!(
        pending
            .message
            .contains("PENDING until the seller approves it")
            && pending.message.contains("ABR-FCAT50-1")
            && pending.message.contains("infinia.binding.approved"),
        "{}",
        pending.message
    );
    app.shutdown().await;
}

/// Regression (kit #4): a Pockyt example lacked merchantNo, storeNo, timestamp and verifySign,
/// and nothing said the signing layer adds them.
#[tokio::test]
async fn pockyt_entries_list_what_the_signing_layer_adds() {
    let app = spawn_app().await;
    let listing = app.get_json("/__sim/operations").await;
    let pockyt: Vec<&Value> = listing["operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["surface"] == "pockyt")
        .collect();
    assert!(!pockyt.is_empty());
    for op in pockyt {
        // The request line stays the bare method and path; the table says who adds what.
        let request = op["request"].as_str().unwrap();
        assert_eq!(request, format!("POST {}", op["name"].as_str().unwrap()));
        for name in ["merchantNo", "storeNo", "timestamp", "verifySign"] {
            let field = op["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name && f["addedBy"].is_string())
                .unwrap_or_else(|| panic!("{}: no {name} row: {}", op["name"], op["fields"]));
            assert_eq!(field["addedBy"], "the signing layer");
            assert_eq!(field["required"], true);
        }
    }
    let (code, text, _) = offline(&[
        "call",
        "--surface",
        "pockyt",
        "v3/payouts/balance",
        "--example",
    ]);
    assert_eq!(code, Some(0), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("verifySign "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains("added by the signing layer"), "{row}");
    app.shutdown().await;
}

/// Regression (kit #5): the file upload was listed with no fields and `call upload --example`
/// exited 2; Infinia `trade-details/upload --example` printed `null` and an empty table.
#[tokio::test]
async fn the_uploads_are_described() {
    let app = spawn_app().await;
    let listing = app.get_json("/__sim/operations").await;
    let upload = entry(&listing, "file", "upload");
    let names: Vec<&str> = upload["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["partnerId", "timestamp", "token", "file"]);
    assert!(upload["example"].is_object(), "{upload}");
    assert!(
        upload["request"]
            .as_str()
            .unwrap()
            .contains("multipart/form-data"),
        "{upload}"
    );

    for args in [
        &["call", "upload", "--example"][..],
        &["call", "/file/upload", "--example"][..],
    ] {
        let (code, text, err) = offline(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(text.starts_with("POST /file/upload"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("token ") && l.contains("required")),
            "{text}"
        );
        assert!(err.contains("multipart/form-data"), "{err}");
    }
    // Sending names the way to the description.
    let (code, _, err) = offline(&["call", "--surface", "platform", "upload", "--example"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("describe it with `call upload --example`"),
        "{err}"
    );

    let sftp = entry(&listing, "infinia", "trade-details/upload");
    let columns: Vec<&str> = sftp["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    let mut known: Vec<&str> = whalet_sim::sftp::trade_details::COLUMNS.to_vec();
    known.extend(["productName", "quantity"]);
    assert_eq!(
        columns.iter().collect::<std::collections::BTreeSet<_>>(),
        known.iter().collect::<std::collections::BTreeSet<_>>()
    );
    let (code, text, err) = offline(&[
        "call",
        "--surface",
        "infinia",
        "trade-details/upload",
        "--example",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!text.contains("\nnull\n"), "{text}");
    assert!(
        text.contains(
            "\ntradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount"
        ),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("originalTradeNo ")
            && l.contains("required if tradeType is RETURN or EXCHANGE")),
        "{text}"
    );
    app.shutdown().await;
}

/// Regression (kit #8): examples that contradicted their own table or the vendor.
#[tokio::test]
async fn examples_suit_the_type_they_name() {
    let app = spawn_app().await;
    let listing = app.get_json("/__sim/operations").await;

    let materials = entry(&listing, "platform", "tradeMaterialsUpload");
    let trade_type =
        whalet_sim::api::describe::lookup(&materials["example"], "materials[0].tradeType")
            .or_else(|| materials["example"].get("tradeType"))
            .unwrap_or_else(|| panic!("{}", materials["example"]));
    assert_eq!(trade_type, &json!(0), "{}", materials["example"]);

    let user = entry(&listing, "whalet", "userOnboardingApply")["example"].clone();
    assert_eq!(user["legalEntity"]["type"], "INDIVIDUAL");
    assert_eq!(user["legalEntity"]["name"], "Ada Lovelace", "{user}");
    assert_ne!(
        user["legalEntity"]["certNo"], "91350200MA2Y000000",
        "{user}"
    );
    let holder = entry(&listing, "whalet", "cardHolderApply")["example"].clone();
    assert_eq!(holder["holderType"], "INDIVIDUAL");
    assert_eq!(holder["name"], "Ada Lovelace", "{holder}");
    assert_ne!(holder["certNo"], "91350200MA2Y000000", "{holder}");
    // The userId placeholder is left alone.
    assert_eq!(holder["userId"], "<userId from userOnboardingApply>");

    let paypal =
        entry(&listing, "pockyt", "/v3/customers/account/create/paypal")["example"].clone();
    assert_eq!(paypal["bankAccountId"], "ada@example.com", "{paypal}");
    assert_eq!(paypal["bankName"], "PayPal", "{paypal}");
    let venmo = entry(&listing, "pockyt", "/v3/customers/account/create/venmo")["example"].clone();
    assert!(
        venmo["bankAccountId"].as_str().unwrap().starts_with('@'),
        "{venmo}"
    );
    assert_eq!(venmo["bankName"], "Venmo", "{venmo}");
    let bank = entry(
        &listing,
        "pockyt",
        "/v3/customers/account/create/bank-account",
    )["example"]
        .clone();
    assert_eq!(bank["bankAccountId"], "000123455655", "{bank}");

    let (code, text, _) = offline(&[
        "call",
        "--surface",
        "pockyt",
        "v3/payee/retrieve",
        "--example",
    ]);
    assert_eq!(code, Some(0), "{text}");
    let row = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{text}"))
            .to_owned()
    };
    assert!(
        row("customerNo").contains("this or customerCode or email"),
        "{text}"
    );
    assert!(
        row("customerCode").contains("this or customerNo or email"),
        "{text}"
    );
    assert!(
        row("email").contains("this or customerNo or customerCode"),
        "{text}"
    );
    app.shutdown().await;
}

/// Regression (cli #5): `--data @missing` said "cannot read /missing: …" without the flag, as
/// every other file error of `--data` names it.
#[test]
fn data_from_a_missing_file_names_the_flag() {
    let (code, _, err) = offline(&["call", "pingpong", "--data", "@/nonexistent/fcat50.json"]);
    assert_ne!(code, Some(0));
    assert!(
        err.contains("--data @/nonexistent/fcat50.json: cannot read it:"),
        "{err}"
    );
}
