//! What a start logs once (t54a F3): a tenant's overlay that holds another provider's sections
//! is warned about once, not once per loading of the overlays (installed, then checked against
//! the operations' fields).

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
