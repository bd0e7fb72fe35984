//! Contract overlays (docs/CONTRACTS.md): the shipped overlay `contracts/partner-example.toml`
//! renames request, reply and notification fields, rewrites status words, requires and defaults
//! fields, adds fixed fields and changes a sync code; mistakes in an overlay name file:line; a
//! tenant's overlay applies to that tenant only; `contract dump` prints TOML and JSON.

use serde_json::{json, Value};
use whalet_sim::config::Config;
use whalet_sim::partner::WhaletClient;
use whalet_sim::{App, Options};

use crate::helpers::{repo_path, second_partner_config, spawn_with, Setup, SECOND_PARTNER};
use crate::pockyt_support::{active_payee, bank_account, ok};
use crate::whalet_support::{onboarding, received};

const SHIPPED: &str = "contracts/partner-example.toml";

/// The second partner with the shipped overlay as its own; the demo partner without one.
fn second_partner_with_shipped() -> Setup {
    Setup {
        config: Some(format!(
            "{}\n[contract.tenants]\n\"whalet:{SECOND_PARTNER}\" = \"{}\"\n",
            second_partner_config(),
            repo_path(SHIPPED)
        )),
        ..Setup::default()
    }
}

fn with_shipped() -> Setup {
    Setup {
        config: Some(format!("[contract]\nfile = \"{}\"\n", repo_path(SHIPPED))),
        ..Setup::default()
    }
}

/// An onboarding application in the partner's names (see the shipped overlay): no countryCode
/// (the overlay defaults it), `merchantUserId` and `legalEntity.legalName`.
fn partner_application(merchant_user_id: &str) -> Value {
    json!({
        "merchantUserId": merchant_user_id,
        "legalEntity": {"type": "ENTERPRISE", "legalName": "Example Trading",
            "certType": "BUSINESS_LICENSE", "certNo": "91350200MA2Y000000"},
        "email": "ops@example.com",
    })
}

async fn apply(client: &WhaletClient, body: Value) -> (String, String, Value) {
    let reply = client.call("userOnboardingApply", &body).await.unwrap();
    (reply.code, reply.detail, reply.body.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_shipped_overlay_renames_fields_status_words_and_the_sync_code() {
    let app = spawn_with(with_shipped()).await;
    let (code, detail, body) = apply(&app.client, partner_application("m-1")).await;
    assert_eq!(code, "SUCCESS", "the overlay's sync code: {detail} {body}");
    let customer_id = body["customerId"].as_str().expect("customerId").to_owned();
    assert!(body.get("userId").is_none(), "renamed away: {body}");
    // The merchant's own id comes back under the name the partner sent it.
    assert_eq!(body["merchantUserId"], "m-1", "{body}");
    assert!(body.get("outUserId").is_none(), "renamed away: {body}");
    assert_eq!(body["status"], "IN_REVIEW", "status word: {body}");
    assert_eq!(body["reviewChannel"], "STANDARD", "fixed extra field");

    // The journal shows the wire body and what the handler saw.
    let journal = app.get_json("/__sim/requests").await;
    let entry = &journal["requests"][0];
    assert_eq!(entry["request"]["wire"]["merchantUserId"], "m-1", "{entry}");
    assert_eq!(entry["request"]["handler"]["outUserId"], "m-1");
    assert_eq!(
        entry["request"]["handler"]["legalEntity"]["name"],
        "Example Trading"
    );
    assert_eq!(
        entry["request"]["handler"]["legalEntity"]["countryCode"], "CN",
        "default filled"
    );
    assert!(entry["request"]["contract"]
        .as_str()
        .unwrap()
        .ends_with(SHIPPED));
    assert_eq!(entry["reply"]["customerId"], customer_id.as_str());

    // The review's notification carries the partner's names and words.
    app.advance(60.0).await;
    app.wait_notification("apiCode=userOnboardingResultNotify")
        .await;
    let notes = received(&app, "userOnboardingResultNotify");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["customerId"], customer_id.as_str(), "{}", notes[0]);
    assert!(notes[0].get("userId").is_none());
    assert_eq!(notes[0]["status"], "APPROVED");
    app.shutdown().await;
}

#[tokio::test]
async fn a_field_the_overlay_requires_is_refused_naming_it() {
    let app = spawn_with(with_shipped()).await;
    let mut body = partner_application("m-2");
    body.as_object_mut().unwrap().remove("email");
    let (code, detail, _) = apply(&app.client, body).await;
    assert_eq!(code, "PARAMETER_ERROR");
    assert!(detail.contains("email is required"), "{detail}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_pockyt_reply_follows_the_overlay() {
    let app = spawn_with(with_shipped()).await;
    let no = active_payee(&app, "c@example.com").await;
    bank_account(&app, &no, "https://example.com/ipn").await;
    let list = ok(&app, "/v3/payee/payout-accounts", json!({"customerNo": no})).await;
    let account = &list["accounts"][0];
    assert!(account["createTime"].is_string(), "{list}");
    assert!(account.get("createdAt").is_none(), "{list}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_tenant_overlay_applies_to_that_tenant_only() {
    let app = spawn_with(second_partner_with_shipped()).await;
    // The demo partner has no overlay: the simulator's own names and codes.
    let (code, _, body) = apply(&app.client, onboarding("m-3", "Example Trading")).await;
    assert_eq!(code, "PROCESSING");
    assert!(body["userId"].is_string(), "{body}");
    assert_eq!(body["status"], "PROCESSING");
    let (code, detail, _) = apply(&app.client, partner_application("m-4")).await;
    assert_eq!(
        code, "PARAMETER_ERROR",
        "partner names mean nothing here: {detail}"
    );
    // The second partner's overlay.
    let second = app.client_as(SECOND_PARTNER);
    let (code, _, body) = apply(&second, partner_application("m-5")).await;
    assert_eq!(code, "SUCCESS");
    assert!(body["customerId"].is_string(), "{body}");
    assert_eq!(body["status"], "IN_REVIEW");
    app.shutdown().await;
}

/// An overlay's `code = "SUCCESS"` changes what the partner reads, not what the simulator did:
/// coverage counts the application's own `PROCESSING` (its "valid request" item), the journal
/// shows the `SUCCESS` the partner read. (Coverage once counted the overlay's code, an item
/// this operation does not have, so the application counted for nothing.)
#[tokio::test]
async fn coverage_counts_what_the_operation_answered_under_an_overlay_code() {
    let app = spawn_with(second_partner_with_shipped()).await;
    let second = app.client_as(SECOND_PARTNER);
    let (code, detail, _) = apply(&second, partner_application("m-6")).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    let journal = app.get_json("/__sim/requests").await;
    assert_eq!(journal["requests"][0]["code"], "SUCCESS", "{journal}");
    let report = app
        .get_json(&format!(
            "/__sim/coverage?tenant=whalet:{SECOND_PARTNER}&surface=whalet&group=onboarding"
        ))
        .await;
    let hits = |id: &str| {
        report["surfaces"][0]["groups"][0]["operations"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|o| o["outcomes"].as_array().unwrap())
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id} not in {report}"))["hits"]
            .clone()
    };
    assert_eq!(hits("whalet.userOnboardingApply.PROCESSING"), 1, "{report}");
    assert_eq!(report["exercised"], 1, "{report}");
    app.shutdown().await;
}

fn load(config: &str) -> String {
    let config = Config::parse(config).unwrap();
    match App::new(config, Options::default()) {
        Ok(_) => panic!("the overlay should be refused"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn unknown_operations_notifications_and_keys_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    let config = format!("[contract]\nfile = \"{}\"\n", file.display());
    let cases = [
        ("[whalet.userOnboardingApply]\nrequired = [\"email\"]\n\n[whalet.noSuchApiCode]\nrequired = []\n", 4, "noSuchApiCode"),
        ("[whalet.userOnboardingApply]\nrequired = [\"email\"]\nrenamed = {}\n", 3, "renamed"),
        ("\n[notification.\"whalet.noSuchNotify\"]\nrename = {}\n", 2, "noSuchNotify"),
        ("[pockyt.\"/v3/none\"]\n", 1, "/v3/none"),
        ("[infinia.\"account-balance/query\"]\ncode = \"SUCCESS\"\n", 2, "only Whalet"),
        // A mistake in a value names its key's line, not the table's.
        ("[whalet.userOnboardingApply]\nrequired = [\"email\"]\n\ncode = \"DONE\"\n", 4, "not a sync success code"),
        // A reply rename onto a field the simulator sends beside it.
        ("[whalet.userOnboardingApply]\n\nrename_reply = { userId = \"status\" }\n", 3, "a field the simulator already sends there"),
        // A status word onto a word of the same status that stays.
        ("[whalet.cardHolderQuery]\nstatus = { PROCESSING = \"SUCCESS\" }\n", 2, "the simulator's own SUCCESS"),
        // A rename into or out of an array element.
        ("[whalet.shopOrderUpload]\nrename_request = { orderNo = \"orders.orderNo\" }\n", 2, "across the array \"orders\""),
        ("[pockyt.\"/v3/payee/payout-accounts\"]\n\nrename_reply = { \"accounts.createdAt\" = \"createdAt\" }\n", 3, "across the array \"accounts\""),
        // A TOML date/time would reach the handler as an object.
        ("[whalet.userOnboardingApply]\nrequired = [\"email\"]\noptional = { \"legalEntity.countryCode\" = 2026-01-01T00:00:00Z }\n", 3, "is a TOML date/time"),
        ("[whalet.userOnboardingApply]\nrename_reply = { \"a..b\" = \"c\" }\n", 2, "a..b"),
        // A request field the operation does not read (its description, `api::describe`).
        ("[whalet.userOnboardingApply]\nrequired = [\"email\"]\nrename_request = { merchantUserId = \"outUserID\" }\n", 3, "\"outUserID\", a field this operation does not read; did you mean \"outUserId\"?"),
        ("[platform.paymentApply]\n\noptional = { \"memmo\" = \"x\" }\n", 3, "optional names \"memmo\""),
        // A reply or notification field the simulator does not send (src/contract/fields.json).
        ("[whalet.userOnboardingApply]\n\nrename_reply = { userID = \"customerId\" }\n", 3, "rename_reply names \"userID\", a field not in the simulator's reply; did you mean \"userId\"?"),
        ("[notification.\"whalet.userOnboardingResultNotify\"]\nrename = { stauts = \"state\" }\n", 2, "rename names \"stauts\", a field not in the simulator's payload; did you mean \"status\"?"),
    ];
    for (text, line, needle) in cases {
        std::fs::write(&file, text).unwrap();
        let err = load(&config);
        let at = format!("{}:{line}: ", file.display());
        assert!(err.contains(&at), "{text:?}: {err} should name {at}");
        assert!(err.contains(needle), "{text:?}: {err} should name {needle}");
    }
    // `check_sent_fields = false` lets a reply field the table does not list through.
    std::fs::write(
        &file,
        "[whalet.userOnboardingApply]\nrename_reply = { userID = \"customerId\" }\n",
    )
    .unwrap();
    let lenient = format!("{config}check_sent_fields = false\n");
    let app = App::new(Config::parse(&lenient).unwrap(), Options::default());
    assert!(app.is_ok(), "{:#}", app.err().unwrap());
    // A tenant overlay for a tenant that is not configured.
    std::fs::write(&file, "").unwrap();
    let err = load(&format!(
        "[contract.tenants]\n\"whalet:999\" = \"{}\"\n",
        file.display()
    ));
    assert!(
        err.contains("no tenant \"whalet:999\" is configured"),
        "{err}"
    );
}

/// A `[whalet.api_codes]` rename onto a name another operation or notification answers to, or
/// onto one the envelope cannot carry in `head.apiCode`, is refused naming the key.
#[test]
fn api_code_renames_that_collide_or_cannot_be_sent_are_refused() {
    let cases = [
        (
            "cardHolderApply = \"connectivity\"",
            "takes the name of the apiCode \"connectivity\"",
        ),
        (
            "cardHolderApply = \"x\"\ncardHolderQuery = \"x\"",
            "cardHolderApply and cardHolderQuery are both renamed to \"x\"",
        ),
        (
            "cardHolderApply = \"cardHolderResultNotify\"",
            "cardHolderApply = \"cardHolderResultNotify\" takes the name",
        ),
        ("cardHolderApply = \"paymentApplyNotify\"", "takes the name"),
        (
            "cardHolderApply = \"\"",
            "cardHolderApply = \"\": a wire apiCode has 1 to 30 characters",
        ),
        (
            "cardHolderApply = \"card.holder\"",
            "ASCII letter followed by ASCII letters and digits",
        ),
        (
            "cardHolderApply = \"aVeryLongCardHolderApplyNameV20\"",
            "not 31",
        ),
    ];
    for (renames, needle) in cases {
        let err = load(&format!("[whalet.api_codes]\n{renames}\n"));
        assert!(err.contains(needle), "{renames}: {err} should say {needle}");
    }
    // A swap of names in use elsewhere is refused too; a fresh name is fine.
    let config =
        Config::parse("[whalet.api_codes]\ncardHolderApply = \"holderApplyV2\"\n").unwrap();
    assert!(App::new(config, Options::default()).is_ok());
}

/// A partner that sends a field under its own name and also under the simulator's name the
/// overlay renames it to is refused in PARAMETER_ERROR naming both, not silently merged.
#[tokio::test]
async fn a_request_field_sent_under_both_names_is_refused() {
    let app = spawn_with(with_shipped()).await;
    let mut body = partner_application("m-9");
    body["outUserId"] = json!("other");
    let (code, detail, _) = apply(&app.client, body).await;
    assert_eq!(code, "PARAMETER_ERROR", "{detail}");
    assert!(
        detail.contains("merchantUserId and outUserId were both sent"),
        "{detail}"
    );
    app.shutdown().await;
}

/// A handler's refusal under an overlay names the fields the partner sent, not the handler's
/// names for them.
#[tokio::test]
async fn a_refusal_names_the_partners_fields() {
    let app = spawn_with(with_shipped()).await;
    let mut body = partner_application("m-8");
    body["legalEntity"]
        .as_object_mut()
        .unwrap()
        .remove("legalName");
    let (code, detail, _) = apply(&app.client, body).await;
    assert_eq!(code, "PARAMETER_ERROR", "{detail}");
    assert!(detail.contains("legalEntity.legalName"), "{detail}");
    assert!(!detail.contains("legalEntity.name"), "{detail}");
    let mut body = partner_application("m-8");
    body.as_object_mut().unwrap().remove("merchantUserId");
    let (code, detail, _) = apply(&app.client, body).await;
    assert_eq!(code, "PARAMETER_ERROR", "{detail}");
    assert!(detail.contains("merchantUserId"), "{detail}");
    assert!(!detail.contains("outUserId"), "{detail}");
    app.shutdown().await;
}

/// `contract dump` makes the checks `serve` makes: a tenant that is malformed or not
/// configured, a bad per-tenant overlay, an apiCode rename `serve` refuses.
#[test]
fn contract_dump_refuses_what_serve_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[whalet.noSuchApiCode]\n").unwrap();
    let tenant_file = dir.path().join("tenant.toml");
    std::fs::write(
        &tenant_file,
        format!(
            "[contract.tenants]\n\"whalet:202400000000001\" = \"{}\"\n",
            bad.display()
        ),
    )
    .unwrap();
    let codes = dir.path().join("codes.toml");
    std::fs::write(&codes, "[whalet.api_codes]\nnosuchOp = \"x\"\n").unwrap();
    let shipped = repo_path(SHIPPED);
    let cases: [(Vec<&str>, &str); 4] = [
        (
            vec!["--contract", &shipped, "--tenant", "whalet:999"],
            "no tenant whalet:999",
        ),
        (
            vec!["--contract", &shipped, "--tenant", "bogus"],
            "\"bogus\" is not a tenant",
        ),
        (
            vec!["--config", tenant_file.to_str().unwrap()],
            "noSuchApiCode",
        ),
        (
            vec!["--config", codes.to_str().unwrap()],
            "\"nosuchOp\" is not an apiCode",
        ),
    ];
    for (args, needle) in cases {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
            .args(["contract", "dump"])
            .args(&args)
            .env_remove("WHALET_SIM_CONFIG")
            .env_remove("WHALET_SIM_CONTRACT")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(
            stderr.contains(needle),
            "{args:?}: {stderr} should say {needle}"
        );
    }
}

#[test]
fn contract_dump_prints_toml_and_json_that_parse() {
    let run = |format: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
            .args(["contract", "dump", "--format", format, "--contract"])
            .arg(repo_path(SHIPPED))
            .env_remove("WHALET_SIM_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let json: Value = serde_json::from_str(&run("json")).unwrap();
    let toml_text = run("toml");
    let toml: toml::Value = toml::from_str(&toml_text).unwrap();
    let from_toml = serde_json::to_value(&toml).unwrap();
    assert_eq!(json, from_toml, "both formats say the same");
    let ops = json["operation"].as_array().unwrap();
    for surface in ["whalet", "platform", "infinia", "pockyt"] {
        assert!(ops.iter().any(|o| o["surface"] == surface), "{surface}");
    }
    let onboarding = ops
        .iter()
        .find(|o| o["name"] == "userOnboardingApply")
        .unwrap();
    assert_eq!(onboarding["path"], "POST /api/userOnboardingApply");
    assert_eq!(
        onboarding["overlay"]["rename_reply"]["userId"],
        "customerId"
    );
    assert_eq!(onboarding["overlay"]["code"], "SUCCESS");
    let note = json["notification"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "userOnboardingResultNotify")
        .unwrap();
    assert_eq!(note["overlay"]["status"]["SUCCESS"], "APPROVED");
}

/// `GET /__sim/operations` shows an operation in the overlay's names: its example is what the
/// partner's document would send, and it succeeds as sent.
#[tokio::test]
async fn the_listed_example_follows_the_overlay_and_succeeds() {
    let app = spawn_with(with_shipped()).await;
    let all = app.get_json("/__sim/operations?surface=whalet").await;
    let op = all["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "userOnboardingApply")
        .unwrap()
        .clone();
    let example = &op["example"];
    assert!(example.get("merchantUserId").is_some(), "{example}");
    assert!(example.get("outUserId").is_none(), "{example}");
    assert!(
        example["legalEntity"].get("legalName").is_some(),
        "{example}"
    );
    assert!(
        example.get("email").is_some(),
        "required by the overlay: {example}"
    );
    let field = |name: &str| {
        op["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in {}", op["fields"]))
    };
    assert_eq!(field("merchantUserId")["required"], true);
    assert_eq!(field("email")["required"], true);
    assert_eq!(field("legalEntity.countryCode")["required"], false);
    let (code, detail, body) = apply(&app.client, example.clone()).await;
    assert_eq!(code, "SUCCESS", "{detail} {body}");
    app.shutdown().await;
}

/// `GET /__sim/operations?tenant=` lists fields and examples through that tenant's own overlay;
/// without it, and for the other tenants, the simulator's names stay. An unknown or malformed
/// tenant is refused.
#[tokio::test]
async fn the_listing_for_a_tenant_follows_its_own_overlay() {
    let app = spawn_with(second_partner_with_shipped()).await;
    let onboarding_example = |listing: &Value| {
        listing["operations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == "userOnboardingApply")
            .map(|o| o["example"].clone())
            .unwrap()
    };
    let second = app
        .get_json(&format!(
            "/__sim/operations?surface=whalet&tenant=whalet:{SECOND_PARTNER}"
        ))
        .await;
    let example = onboarding_example(&second);
    assert!(example.get("merchantUserId").is_some(), "{example}");
    assert!(example.get("outUserId").is_none(), "{example}");
    for query in ["", "&tenant=whalet:202400000000001"] {
        let listing = app
            .get_json(&format!("/__sim/operations?surface=whalet{query}"))
            .await;
        let example = onboarding_example(&listing);
        assert!(example.get("outUserId").is_some(), "{query}: {example}");
        assert!(
            example.get("merchantUserId").is_none(),
            "{query}: {example}"
        );
    }
    let (status, body) = app.get("/__sim/operations?tenant=whalet:999").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("no tenant \"whalet:999\""),
        "{body}"
    );
    let (status, _) = app.get("/__sim/operations?tenant=P0001").await;
    assert_eq!(status, 400);
    app.shutdown().await;
}

/// The listing under an overlay that renames an id and an array element's field and requires
/// a field inside the array: the renamed fields are listed under the partner's names (in the
/// array too), the required one is the array's own field, the placeholder names the id as the
/// partner reads it, and "needs" still names the operation that makes the id.
#[tokio::test]
async fn the_listing_renames_array_fields_and_keeps_what_an_operation_needs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("o.toml");
    std::fs::write(
        &file,
        "[whalet.userOnboardingApply]\nrename_reply = { userId = \"customerId\" }\n\n\
         [whalet.shopOrderUpload]\nrename_request = { customerId = \"userId\", \"orders.no\" = \"orders.orderNo\" }\n\
         required = [\"orders.goodsName\"]\n",
    )
    .unwrap();
    let app = spawn_with(Setup {
        config: Some(format!("[contract]\nfile = \"{}\"\n", file.display())),
        ..Setup::default()
    })
    .await;
    let all = app.get_json("/__sim/operations?surface=whalet").await;
    let op = all["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "shopOrderUpload")
        .unwrap()
        .clone();
    let names: Vec<&str> = op["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"orders[0].no"), "{names:?}");
    assert!(!names.contains(&"orders[0].orderNo"), "{names:?}");
    assert!(!names.contains(&"orders.goodsName"), "{names:?}");
    let goods = op["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "orders[0].goodsName")
        .unwrap();
    assert_eq!(goods["required"], true, "{goods}");
    let example = &op["example"];
    assert!(example["orders"][0].get("goodsName").is_some(), "{example}");
    assert!(example["orders"][0].get("no").is_some(), "{example}");
    assert_eq!(
        example["customerId"], "<customerId from userOnboardingApply>",
        "{example}"
    );
    let needs = op["needs"].to_string();
    assert!(needs.contains("userOnboardingApply"), "{needs}");
    app.shutdown().await;
}

/// The listing under an overlay that renames an object and an array: the children of each are
/// listed under the partner's name (with the array's index), a child renamed on its own line
/// under its own partner name, and nothing under the simulator's names; the example agrees.
#[tokio::test]
async fn the_listing_moves_the_children_of_a_renamed_object_or_array_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("o.toml");
    std::fs::write(
        &file,
        "[whalet.userOnboardingApply]\n\
         rename_request = { company = \"legalEntity\", \"company.kind\" = \"legalEntity.type\" }\n\n\
         [whalet.shopOrderUpload]\nrename_request = { items = \"orders\" }\n",
    )
    .unwrap();
    let app = spawn_with(Setup {
        config: Some(format!("[contract]\nfile = \"{}\"\n", file.display())),
        ..Setup::default()
    })
    .await;
    let all = app.get_json("/__sim/operations?surface=whalet").await;
    let listed = |operation: &str| {
        let op = all["operations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == operation)
            .unwrap()
            .clone();
        let names: Vec<String> = op["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect();
        (names, op["example"].clone())
    };
    let (names, example) = listed("userOnboardingApply");
    for name in ["company", "company.kind", "company.name", "company.certNo"] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.starts_with("legalEntity")),
        "{names:?}"
    );
    for key in ["kind", "name", "certNo"] {
        assert!(example["company"].get(key).is_some(), "{key}: {example}");
    }
    let (names, example) = listed("shopOrderUpload");
    assert!(names.iter().any(|n| n == "items[0].orderNo"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("orders")), "{names:?}");
    assert!(example["items"][0].get("orderNo").is_some(), "{example}");
    app.shutdown().await;
}
