//! Regressions of stop 49 fixed by the lead: a snapshot of one tenant that names another.

use serde_json::{json, Value};

use crate::coverage::report;
use crate::helpers::{spawn_app, TestApp};
use crate::persistence::{export, import};
use crate::whalet2_support::{confirmed_payout, user_with_beneficiary};

const TENANT: &str = "whalet:202400000000001";

/// An edit of a snapshot document.
type Change = fn(&mut Value);

async fn snapshot(app: &TestApp, query: &str) -> Value {
    serde_json::from_slice(&export(app, query).await).unwrap()
}

/// The tester's report: a one-tenant snapshot whose timer named another tenant (or one that
/// does not exist) was imported with the timer left out, the tenant's PROCESSING payout then
/// without the timer that settles it, for good. A snapshot of one tenant holding a part of
/// another is refused naming the part, and nothing changes; a snapshot of all state imported
/// with `?tenant=` still takes that tenant's parts only.
#[tokio::test]
async fn a_one_tenant_snapshot_naming_another_tenant_is_refused_naming_the_part() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "100.00", "b1", "USD").await;
    confirmed_payout(&app, &user, "p1", "10.00", &bid).await;
    let one = snapshot(&app, &format!("?tenant={TENANT}")).await;
    assert!(
        !one["timers"].as_array().unwrap().is_empty(),
        "{}",
        one["timers"]
    );
    let before = snapshot(&app, "").await;
    let cases: [(&str, Change); 3] = [
        ("timers[0]", |d| {
            d["timers"][0]["tenant"] = json!("whalet:999")
        }),
        ("timers[0]", |d| d["timers"][0]["tenant"] = Value::Null),
        (
            "scenarios.outages[0]",
            |d| {
                d["scenarios"]["outages"] =
                    json!([{"tenant": "whalet:999", "until": null, "reason": "x"}])
            },
        ),
    ];
    for (part, change) in cases {
        let mut doc = one.clone();
        change(&mut doc);
        let (status, body) = import(&app, "", serde_json::to_vec(&doc).unwrap()).await;
        assert_eq!(status, 400, "{part}: imported: {body}");
        let why = body["error"].as_str().unwrap_or_default();
        assert!(
            why.contains(&format!("): {part}")) && why.contains(&format!("not of {TENANT}")),
            "{part}: {why}"
        );
        assert_eq!(snapshot(&app, "").await, before, "{part}: state changed");
    }
    // As exported: taken, timer and all.
    let (status, body) = import(&app, "", serde_json::to_vec(&one).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["imported"]["timers"],
        one["timers"].as_array().unwrap().len(),
        "{body}"
    );
    // A snapshot of all state with ?tenant= takes the tenant's parts and leaves the rest.
    let all = export(&app, "").await;
    let (status, body) = import(&app, &format!("?tenant={TENANT}"), all).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

/// The tester's report: a bare id that a Whalet partner and a Pockyt merchant share matched both
/// tenants' entries in the journal (`partnerId`) and the notification ledger (`tenant`), so a
/// listing "filtered to A" showed B's traffic. Such an id is a `400` naming both tenants; an id
/// only one tenant has still filters, and `provider:id` says which.
#[tokio::test]
async fn a_bare_id_two_providers_share_is_refused_naming_both_tenants() {
    let shared = "202400000000001";
    let app = crate::helpers::spawn_config(&format!(
        "[[pockyt.merchants]]\nmerchant_no = \"{shared}\"\nstore_no = \"s1\"\ntoken = \"t1\"\n"
    ))
    .await;
    for path in [
        format!("/__sim/requests?partnerId={shared}"),
        format!("/__sim/notifications?tenant={shared}"),
    ] {
        let (status, body) = app.get(&path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let why = body["error"].as_str().unwrap_or_default();
        assert!(
            why.contains(&format!("whalet:{shared}")) && why.contains(&format!("pockyt:{shared}")),
            "{path}: {why}"
        );
    }
    for path in [
        format!("/__sim/requests?tenant=pockyt:{shared}"),
        format!("/__sim/notifications?tenant=whalet:{shared}"),
        "/__sim/requests?partnerId=202333".to_owned(),
        "/__sim/notifications?tenant=202333".to_owned(),
    ] {
        let (status, body) = app.get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    app.shutdown().await;
}

/// The tester's report: coverage of one tenant counted every surface's items, so a Pockyt
/// merchant that made every Pockyt request read about 20 %, and `surface=whalet` for it answered
/// 0 % where it can never make a request. A tenant's report holds the surfaces its provider
/// serves, and a surface it cannot reach is a `400` naming its own.
#[tokio::test]
async fn a_tenants_coverage_counts_only_the_surfaces_it_can_reach() {
    let app = spawn_app().await;
    let surfaces = |report: &Value| -> Vec<String> {
        report["surfaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["surface"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = report(&app, "").await;
    assert!(surfaces(&all).len() >= 4, "{:?}", surfaces(&all));
    for (tenant, reached) in [
        ("pockyt:202333", vec!["pockyt"]),
        ("infinia:demo-app", vec!["infinia"]),
    ] {
        let whole = report(&app, &format!("?tenant={tenant}")).await;
        assert_eq!(surfaces(&whole), reached, "{tenant}");
        let one = report(&app, &format!("?tenant={tenant}&surface={}", reached[0])).await;
        assert_eq!(whole["items"], one["items"], "{tenant}");
    }
    let whalet = report(&app, &format!("?tenant={TENANT}")).await;
    let mut reached = surfaces(&whalet);
    reached.sort();
    assert_eq!(reached, ["file", "platform", "whalet"]);
    let (status, body) = app
        .get("/__sim/coverage?tenant=pockyt:202333&surface=whalet")
        .await;
    assert_eq!(status, 400, "{body}");
    let why = body["error"].as_str().unwrap_or_default();
    assert!(
        why.contains("pockyt:202333 is not a tenant of surface whalet") && why.contains("pockyt"),
        "{why}"
    );
    app.shutdown().await;
}

/// How many of `surface`'s operations a `contract dump --format json` shows with an overlay in
/// force.
pub(crate) fn in_force(dump: &Value, surface: &str) -> usize {
    dump["operation"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|op| op["surface"] == surface && op.get("overlay").is_some())
        .count()
}

/// The tester's report: a Whalet partner's own overlay holding a Pockyt table started without a
/// word, and `contract dump --tenant` listed the table as in force, though that partner's
/// requests never reach Pockyt. One file may be a partner's contract for its tenants of several
/// providers (contracts/partner-example.toml is): each tenant's overlay is the part of the file
/// its provider's surfaces take, so the dump shows the Pockyt table in force for the Pockyt
/// merchant given the file and not for the Whalet partner.
#[test]
fn a_tenant_overlay_is_the_part_of_its_file_that_its_provider_takes() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = crate::helpers::repo_path("contracts/partner-example.toml");
    let config = dir.path().join("sim.toml");
    std::fs::write(
        &config,
        format!(
            "[contract.tenants]\n\"whalet:{}\" = {overlay:?}\n\"pockyt:202333\" = {overlay:?}\n",
            TENANT.trim_start_matches("whalet:")
        ),
    )
    .unwrap();
    let dump = |tenant: &str| -> Value {
        let out = crate::helpers::bin()
            .args([
                "contract", "dump", "--format", "json", "--tenant", tenant, "--config",
            ])
            .arg(&config)
            .env_remove("WHALET_SIM_CONFIG")
            .env_remove("WHALET_SIM_CONTRACT")
            .output()
            .unwrap();
        assert!(out.status.success(), "{tenant}: {out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let whalet = dump(TENANT);
    let pockyt = dump("pockyt:202333");
    assert!(in_force(&whalet, "whalet") > 0, "{whalet}");
    assert_eq!(in_force(&whalet, "pockyt"), 0, "{whalet}");
    assert!(in_force(&pockyt, "pockyt") > 0, "{pockyt}");
    assert_eq!(in_force(&pockyt, "whalet"), 0, "{pockyt}");
}
