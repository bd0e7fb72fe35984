//! Settings that every request (or webhook, or payout on a channel) would fail on are refused
//! when `serve` starts, and every refusal of a setting, roster entries included, names the
//! configuration file and the setting in one form: `config FILE: [section] key …`.

use serde_json::json;

use crate::helpers::{bin, spawn_config};
use crate::pockyt_support::{active_payee, bank_account, ok, signed, IpnReceiver};

/// `serve --config` with `toml` on a taken address (so that a config wrongly accepted exits
/// instead of serving): whether it succeeded, its stderr, and the config file's path.
fn serve_with(toml: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, toml).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = bin()
        .args(["serve", "--addr", &addr, "--sftp-addr", "off"])
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        path.display().to_string(),
    )
}

/// Asserts that `serve` refuses `toml` at start with a message that begins with the file and
/// the setting (`config FILE: SETTING`) and names every one of `names`.
fn refused_at_start(toml: &str, setting: &str, names: &[&str]) {
    let (ok, stderr, path) = serve_with(toml);
    assert!(!ok, "{toml:?} accepted: {stderr}");
    let head = format!("config {path}: {setting}");
    assert!(stderr.contains(&head), "{head:?} not in {stderr}");
    for name in names {
        assert!(stderr.contains(name), "{name:?} not in {stderr}");
    }
}

/// Regression: `webhook_version` and `webhook_app_id` were taken whatever they were, and then
/// every webhook was refused by the merchant's side (the simulator's own listener): too long,
/// or empty. Both are refused at start, naming the key and the envelope's limit.
#[test]
fn webhook_envelope_values_the_merchant_would_refuse_stop_serve() {
    let long_id = "a".repeat(65);
    refused_at_start(
        "[infinia]\nwebhook_version = \"a-very-long-version\"\n",
        "[infinia] webhook_version = \"a-very-long-version\"",
        &[
            "version is 19 characters long; at most 8 are allowed",
            "SYS-006",
        ],
    );
    refused_at_start(
        "[infinia]\nwebhook_app_id = \"\"\n",
        "[infinia] webhook_app_id = \"\"",
        &["appId is empty", "1 character or more"],
    );
    refused_at_start(
        &format!("[infinia]\nwebhook_app_id = \"{long_id}\"\n"),
        "[infinia] webhook_app_id = ",
        &["at most 64 are allowed"],
    );
}

/// Regression: the demo merchant's `[pockyt.fee] channels` were not checked, so a negative or
/// malformed channel fee started cleanly and then refused that channel's every pay, blamed on
/// the request; a channel key pay does not take was silently never charged.
#[test]
fn every_fee_channel_is_checked_at_start_the_demo_merchant_s_too() {
    refused_at_start(
        "[pockyt.fee]\nchannels.REAL_TIME_PAY = { fixed = \"-5\", percent = \"0\" }\n",
        "[pockyt.fee] channels.REAL_TIME_PAY.fixed = \"-5\"",
        &["is negative"],
    );
    refused_at_start(
        "[pockyt.fee]\nchannels.REAL_TIME_PAY = { fixed = \"0\", percent = \"abc\" }\n",
        "[pockyt.fee] channels.REAL_TIME_PAY.percent = \"abc\"",
        &["not a decimal"],
    );
    refused_at_start(
        "[pockyt.fee]\nchannels.REALTIME_PAY = { fixed = \"0\", percent = \"1\" }\n",
        "[pockyt.fee] channels.REALTIME_PAY is not a processingChannel",
        &[
            "did you mean \"REAL_TIME_PAY\"?",
            "STANDARD_ACH, SAME_DAY_ACH",
        ],
    );
    let merchant = "[[pockyt.merchants]]\nmerchant_no = \"9\"\nstore_no = \"1\"\ntoken = \"t\"\n";
    refused_at_start(
        &format!("{merchant}[pockyt.merchants.fee]\nchannels.SAMEDAY_ACH = {{ fixed = \"1\", percent = \"0\" }}\n"),
        "[[pockyt.merchants]] merchant_no = \"9\": fee.channels.SAMEDAY_ACH is not a processingChannel",
        &["did you mean \"SAME_DAY_ACH\"?"],
    );
}

/// The channel keys the configuration takes are the `processingChannel` values pay takes (pay
/// names them when refusing another), and a channel's fee is the one charged on it.
#[tokio::test]
async fn the_fee_channels_are_the_processing_channels_pay_takes() {
    let app =
        spawn_config("[pockyt.fee]\nchannels.REAL_TIME_PAY = { fixed = \"3\", percent = \"0\" }\n")
            .await;
    let ipn = IpnReceiver::start(0).await;
    let no = active_payee(&app, "channels@example.com").await;
    let token = bank_account(&app, &no, &ipn.url()).await;
    let pay = |channel: &str, invoice: &str| {
        json!({"customerNo": no, "accountToken": token, "amount": "200", "currency": "USD",
               "invoiceId": invoice, "processingChannel": channel})
    };
    let (_, reply) = app
        .post("/v3/payouts/pay", &signed(pay("NO_SUCH_CHANNEL", "INV-0")))
        .await;
    let msg = reply["ret_msg"].as_str().unwrap_or_default();
    let listed = msg
        .split("processingChannel must be one of ")
        .nth(1)
        .and_then(|rest| rest.split(", got").next())
        .unwrap_or_else(|| panic!("no list of channels in {reply}"));
    let configured = whalet_sim::config::pockyt::PROCESSING_CHANNELS.join(", ");
    assert_eq!(listed, configured, "{reply}");
    let paid = ok(&app, "/v3/payouts/pay", pay("REAL_TIME_PAY", "INV-1")).await;
    assert_eq!(paid["result"]["transactionFee"], "3.00", "{paid}");
    let paid = ok(&app, "/v3/payouts/pay", pay("STANDARD_ACH", "INV-2")).await;
    assert_eq!(paid["result"]["transactionFee"], "2.00", "{paid}");
    app.shutdown().await;
}

/// Regression: `[notify] run_tag = 1000123` was reduced to 123 (the same requestNos as 123).
#[test]
fn a_run_tag_over_six_digits_stops_serve() {
    refused_at_start(
        "[notify]\nrun_tag = 1000123\n",
        "[notify] run_tag = 1000123 is too large",
        &["from 0 to 999999"],
    );
}

/// Regression: the refusals of roster entries (and of the settings read with them) named
/// neither the file nor the setting in the `[section] key` form of the other refusals.
#[test]
fn roster_refusals_name_the_file_and_the_setting() {
    refused_at_start(
        "[infinia]\nwebhook_retry_seconds = [1, 2, 3, 4, 5, 6]\n",
        "[infinia] webhook_retry_seconds = [1, 2, 3, 4, 5, 6] has 6 entries",
        &["at most 5"],
    );
    refused_at_start(
        "[[infinia.apps]]\napp_id = \"\"\nmerchant_public_key = \"k\"\n",
        "[[infinia.apps]] app_id = \"\": app_id must be 1 to 64 characters",
        &[],
    );
    refused_at_start(
        "[whalet.api_codes]\nconnectivty = \"x\"\n",
        "[whalet.api_codes] connectivty = \"x\"",
        &["is not an apiCode", "did you mean \"connectivity\"?"],
    );
    refused_at_start(
        "[[whalet.partners]]\npartner_id = \"p1\"\npublic_key = \"@no/such.pem\"\n",
        "[[whalet.partners]] partner_id = \"p1\": public_key: cannot read \"no/such.pem\"",
        &[],
    );
    refused_at_start(
        "[[pockyt.merchants]]\nmerchant_no = \"9\"\nstore_no = \"1\"\ntoken = \"t\"\n\
         balances = { USD = \"abc\" }\n",
        "[[pockyt.merchants]] merchant_no = \"9\": balances.USD = \"abc\"",
        &[],
    );
    refused_at_start(
        "[[pockyt.merchants]]\nmerchant_no = \"9\"\nstore_no = \"1\"\ntoken = \" \"\n",
        "[[pockyt.merchants]] merchant_no = \"9\": token is empty",
        &[],
    );
}
