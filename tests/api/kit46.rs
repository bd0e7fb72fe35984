//! The dashboard's "Send it again" command for a tenant with credentials of its own (in real
//! headless Chromium, as tests/api/dashboard does).

use crate::browser;
use crate::dashboard::support::{
    assert_no_script_errors, open, run_command, send_again_commands, wait_text,
};
use crate::helpers::{spawn_with, Setup};

const OWN_PARTNER: &str = "202400000000009";
const OWN_APP: &str = "app-9";
const OWN_MERCHANT: &str = "m9";
const OWN_TOKEN: &str = "own-token-9";
const KEY_PLACEHOLDER: &str = "'<your private key file>'";
const TOKEN_PLACEHOLDER: &str = "'<your token>'";

fn printed(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Regression: for a partner (app, merchant) that is not the demo one, the command named the
/// tenant but no credential, so `whalet-sim call` signed it with the demo key (or token) and
/// was refused (UNAUTHENTICATED_ERROR). It now carries a placeholder the user fills in
/// (`--key`, Pockyt's `--token`), and once filled it is accepted; the demo tenants' commands
/// carry none and work as they are.
#[tokio::test]
async fn send_it_again_asks_a_tenant_of_its_own_for_its_key_or_token() {
    let keys = tempfile::tempdir().unwrap();
    let dir = keys.path().display().to_string();
    let out = run_command(&format!("whalet-sim keygen --out {dir}")).await;
    assert!(out.status.success(), "{}", printed(&out));
    let (private, public) = (format!("{dir}/private.pem"), format!("{dir}/public.pem"));
    let app = spawn_with(Setup {
        config: Some(format!(
            "[[whalet.partners]]\npartner_id = \"{OWN_PARTNER}\"\npublic_key = \"@{public}\"\n\
             [[infinia.apps]]\napp_id = \"{OWN_APP}\"\nmerchant_public_key = \"@{public}\"\n\
             [[pockyt.merchants]]\nmerchant_no = \"{OWN_MERCHANT}\"\nstore_no = \"s9\"\n\
             token = \"{OWN_TOKEN}\"\n"
        )),
        ..Setup::default()
    })
    .await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let url = app.url.clone();
    let ping = r#"--data '{"notifyFlag":"N","responseFlag":"Y","responseMessage":"pong"}'"#;
    let balance = r#"--data '{"currency":"USD"}'"#;
    for command in [
        format!("whalet-sim call connectivity {ping}"),
        format!("whalet-sim call connectivity --partner-id {OWN_PARTNER} --key {private} {ping}"),
        format!("whalet-sim call --surface infinia account-balance/query {balance}"),
        format!(
            "whalet-sim call --surface infinia account-balance/query --app-id {OWN_APP} --key {private} {balance}"
        ),
        format!("whalet-sim call --surface pockyt v3/payouts/balance {balance}"),
        format!(
            "whalet-sim call --surface pockyt v3/payouts/balance --merchant-no {OWN_MERCHANT} --store-no s9 --token {OWN_TOKEN} {balance}"
        ),
    ] {
        let out = run_command(&format!("{command} --url {url}")).await;
        assert!(out.status.success(), "{command}: {}", printed(&out));
    }

    open(&browser, &app, "/").await;
    wait_text(c, ".summary", "6 requests").await;
    let commands = send_again_commands(c).await;
    assert_eq!(commands.len(), 6, "{commands:?}");
    let own = |c: &String| {
        c.contains(&format!("--partner-id {OWN_PARTNER}"))
            || c.contains(&format!("--app-id {OWN_APP}"))
            || c.contains(&format!("\"merchantNo\":\"{OWN_MERCHANT}\""))
    };
    let (owned, demo): (Vec<_>, Vec<_>) = commands.iter().partition(|c| own(c));
    assert_eq!((owned.len(), demo.len()), (3, 3), "{commands:?}");

    for command in owned {
        let filled = if command.contains("--surface pockyt") {
            assert!(
                command.contains(&format!("--token {TOKEN_PLACEHOLDER}")),
                "{command}"
            );
            command.replace(TOKEN_PLACEHOLDER, OWN_TOKEN)
        } else {
            assert!(
                command.contains(&format!("--key {KEY_PLACEHOLDER}")),
                "{command}"
            );
            command.replace(KEY_PLACEHOLDER, &private)
        };
        let out = run_command(&filled).await;
        assert!(out.status.success(), "{filled}: {}", printed(&out));
        assert!(!printed(&out).contains("UNAUTHENTICATED"), "{filled}");
    }
    for command in demo {
        assert!(
            !command.contains("--key") && !command.contains("--token"),
            "{command}"
        );
        assert!(
            !command.contains("--partner-id") && !command.contains("--app-id"),
            "{command}"
        );
        let out = run_command(command).await;
        assert!(out.status.success(), "{command}: {}", printed(&out));
    }
    wait_text(c, ".summary", "12 requests").await;
    assert_no_script_errors(c, "requests").await;
    browser.close().await;
    app.shutdown().await;
}

/// Regression: the release archive left out `scripts/`, yet its own README.md, examples/ and
/// docs/ tell the reader to run `scripts/examples.sh`, `scripts/whalet_envelope.py file-token`,
/// `scripts/pockyt_sign.py`, `scripts/setup-python.sh` and `scripts/infinia_envelope.py`. The
/// archive now holds them (with what they need), they run from the unpacked directory, and
/// `release.sh --check` passes.
#[test]
fn the_release_archive_ships_the_scripts_its_docs_tell_the_reader_to_run() {
    use std::process::Command;
    let out_dir = tempfile::tempdir().unwrap();
    let script = crate::helpers::repo_path("scripts/release.sh");
    let built = Command::new(&script)
        .args(["--bin", env!("CARGO_BIN_EXE_whalet-sim"), "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", printed(&built));
    let archive = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .unwrap();

    let unpacked = tempfile::tempdir().unwrap();
    let tar = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(unpacked.path())
        .output()
        .unwrap();
    assert!(tar.status.success(), "{}", printed(&tar));
    let top = std::fs::read_dir(unpacked.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for named in [
        "scripts/examples.sh",
        "scripts/setup-python.sh",
        "scripts/requirements.txt",
        "scripts/whalet_envelope.py",
        "scripts/infinia_envelope.py",
        "scripts/pockyt_sign.py",
        "scripts/sim_crypto.py",
    ] {
        assert!(top.join(named).is_file(), "{named} is not in {archive:?}");
    }
    // Run from the unpacked directory (with a python3 that has `cryptography`, as
    // scripts/requirements.txt asks): the file upload token for the packaged demo key.
    let python = Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if python {
        let token = Command::new("python3")
            .args(["scripts/whalet_envelope.py", "file-token"])
            .current_dir(&top)
            .output()
            .unwrap();
        assert!(token.status.success(), "{}", printed(&token));
        let token: serde_json::Value = serde_json::from_slice(&token.stdout).unwrap();
        assert_eq!(token["partnerId"], "202400000000001", "{token}");
        assert!(
            token["token"].as_str().is_some_and(|t| t.len() == 512),
            "{token}"
        );
    }

    let checked = Command::new(&script)
        .arg("--check")
        .arg(&archive)
        .output()
        .unwrap();
    let said = printed(&checked);
    assert!(checked.status.success(), "{said}");
    assert!(said.contains("every scripts/ path"), "{said}");
}
