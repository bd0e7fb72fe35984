//! What a start logs once and what `contract dump` shows (t54a F3, F12): a tenant's overlay that
//! holds another provider's sections is warned about once, not once per loading of the overlays
//! (installed, then checked against the operations' fields); a dump for a tenant shows only the
//! part of the overlay its provider reads.

use crate::me49::in_force;
use crate::served::Served;

#[test]
fn an_overlays_left_out_sections_are_warned_about_once() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contracts/partner-example.toml"
    );
    let config = dir.path().join("sim.toml");
    std::fs::write(
        &config,
        format!("[contract.tenants]\n\"whalet:202400000000001\" = {overlay:?}\n"),
    )
    .unwrap();
    let lines = Served::start(&["--config", config.to_str().unwrap()]).until_ready();
    let warned: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("can never apply to whalet:202400000000001"))
        .collect();
    assert_eq!(warned.len(), 1, "{lines:#?}");
    assert!(warned[0].contains("partner-example.toml"), "{}", warned[0]);
}

/// `contract dump --tenant` with the default overlay (`--contract`) listed another provider's
/// tables as in force for the tenant (t54a F12), where a tenant's own overlay was cut to its
/// provider's part: both are, as only that part can ever apply.
#[test]
fn a_dump_for_a_tenant_shows_only_its_providers_part_of_the_default_overlay() {
    let overlay = crate::helpers::repo_path("contracts/partner-example.toml");
    let dump = |tenant: Option<&str>| -> serde_json::Value {
        let mut command = crate::helpers::bin();
        command.args(["contract", "dump", "--format", "json", "--contract"]);
        command.arg(&overlay);
        if let Some(tenant) = tenant {
            command.args(["--tenant", tenant]);
        }
        let out = command
            .env_remove("WHALET_SIM_CONFIG")
            .env_remove("WHALET_SIM_CONTRACT")
            .output()
            .unwrap();
        assert!(out.status.success(), "{tenant:?}: {out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let all = dump(None);
    assert!(
        in_force(&all, "whalet") > 0 && in_force(&all, "pockyt") > 0,
        "{all}"
    );
    let pockyt = dump(Some("pockyt:202333"));
    assert!(in_force(&pockyt, "pockyt") > 0, "{pockyt}");
    assert_eq!(in_force(&pockyt, "whalet"), 0, "{pockyt}");
    let whalet = dump(Some("whalet:202400000000001"));
    assert!(in_force(&whalet, "whalet") > 0, "{whalet}");
    assert_eq!(in_force(&whalet, "pockyt"), 0, "{whalet}");
}
