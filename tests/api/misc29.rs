//! Defects fixed at stop 45 (misc29): a contract overlay's status words in requests (a
//! simulator's word the overlay maps away is refused as an unknown word), and the canonical name
//! of a renamed operation in `GET /__sim/operations` (what scenario rules and the journal use).

use serde_json::{json, Value};

use crate::helpers::{spawn_with, Setup};
use crate::whalet_support::{expect, onboarded_user, refused};

/// The overlay of the report: a chain (the partner's SUCCESS is the simulator's PENDING, the
/// simulator's SUCCESS is the partner's SETTLED) and a plain turn (ACTIVE → OPEN).
const OVERLAY: &str = "[whalet.\"collectionQuery\"]\n\
    status = { PENDING = \"SUCCESS\", SUCCESS = \"SETTLED\", FAILURE = \"BOUNCED\" }\n\
    [whalet.\"b2cCardQuery\"]\nstatus = { ACTIVE = \"OPEN\" }\n";

/// A request's status filter is read in the partner's words only: a simulator's word the
/// overlay turns into another (FAILURE, PENDING, ACTIVE) is refused as an unknown word is,
/// listing the partner's words and echoing the word as sent; the partner's words, a chained one
/// included (SUCCESS, the simulator's PENDING), are accepted.
#[tokio::test]
async fn a_simulator_status_word_the_overlay_maps_away_is_refused_in_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ov.toml");
    std::fs::write(&file, OVERLAY).unwrap();
    let app = spawn_with(Setup {
        config: Some(format!("[contract]\nfile = \"{}\"\n", file.display())),
        ..Setup::default()
    })
    .await;
    let user = onboarded_user(&app, "m29-1").await;
    let query = |status: &str| json!({"userId": user, "status": status});
    for word in ["nope", "FAILURE", "PENDING"] {
        refused(
            &app,
            "collectionQuery",
            query(word),
            "PARAMETER_ERROR",
            &format!("status must be one of SUCCESS, SETTLED, BOUNCED, got \"{word}\""),
        )
        .await;
    }
    for word in ["SUCCESS", "SETTLED", "BOUNCED"] {
        let body = expect(&app, "collectionQuery", query(word), "SUCCESS").await;
        assert!(body["records"].is_array(), "{word}: {body}");
    }
    for word in ["ACTIVE", "zz"] {
        refused(
            &app,
            "b2cCardQuery",
            query(word),
            "PARAMETER_ERROR",
            &format!("OPEN, FAILURE, CANCELLING, CANCELLED, got \"{word}\""),
        )
        .await;
    }
    expect(&app, "b2cCardQuery", query("OPEN"), "SUCCESS").await;
    app.shutdown().await;
}

/// The entry of `GET /__sim/operations` named `surface`/`name` (the wire name).
fn listed<'a>(all: &'a Value, surface: &str, name: &str) -> &'a Value {
    all["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["surface"] == surface && o["name"] == name)
        .unwrap_or_else(|| panic!("{surface} {name} not listed: {all}"))
}

/// A renamed operation (`[infinia.paths]`, `[whalet.api_codes]`) is listed under the name a
/// partner sends (`name`, in `request`) and under the canonical name scenario rules and the
/// journal use (`canonical`), which a rule accepts; one not renamed has the same name twice.
#[tokio::test]
async fn the_listing_gives_a_renamed_operation_its_canonical_name_too() {
    let app = spawn_with(Setup {
        config: Some(
            "[infinia]\nsftp_addr = \"off\"\n[infinia.paths]\n\"account-balance/query\" = \"bal/q\"\n\
             [whalet.api_codes]\ncardHolderApply = \"holderApply\"\n"
                .to_owned(),
        ),
        ..Setup::default()
    })
    .await;
    let all = app.get_json("/__sim/operations").await;
    for (surface, wire, canonical, request) in [
        (
            "infinia",
            "bal/q",
            "account-balance/query",
            "POST /api/v1/bal/q",
        ),
        (
            "whalet",
            "holderApply",
            "cardHolderApply",
            "head.apiCode = holderApply",
        ),
        (
            "whalet",
            "connectivity",
            "connectivity",
            "head.apiCode = connectivity",
        ),
    ] {
        let op = listed(&all, surface, wire);
        assert_eq!(op["canonical"], canonical, "{op}");
        assert!(op["request"].as_str().unwrap().contains(request), "{op}");
    }
    // A rule takes the canonical name the listing gives.
    for op in [
        listed(&all, "infinia", "bal/q"),
        listed(&all, "whalet", "holderApply"),
    ] {
        let text = format!(
            "name = \"m29\"\n[[rule]]\nsurface = {}\noperation = {}\n[rule.then]\n{}http_status = 500\n",
            op["surface"],
            op["canonical"],
            if op["surface"] == "whalet" { "code = \"INTERNAL_ERROR\"\n" } else { "" }
        );
        let (status, body) = app.load_scenario(&text, "").await;
        assert_eq!(status, 200, "{text}: {body}");
    }
    app.shutdown().await;
}
