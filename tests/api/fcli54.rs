//! Round 54, the command line: `listen` given another surface's notification (one
//! `--notify-url` sends every surface's to it) says whose it is and what to do; `call` refuses
//! another surface's whole path before sending, naming the surface that has it, as `--example`
//! does; a key flag naming a file that does not exist says so.

use std::process::Output;

use serde_json::{json, Value};
use whalet_sim::wire::crypto::SignatureHash;
use whalet_sim::wire::keys::{demo, PrivateKey, PublicKey};
use whalet_sim::wire::{infinia, pockyt, whalet, HexCase};

use crate::cli_surfaces::Listening;
use crate::helpers::{bin, spawn_app};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An Infinia seller-status webhook as the simulator sends it (signed by Infinia, sealed to the
/// demo merchant).
fn infinia_webhook() -> Vec<u8> {
    let infinia_key = PrivateKey::parse(demo::INFINIA_PRIVATE).unwrap();
    let merchant = PrivateKey::parse(demo::INFINIA_MERCHANT_PRIVATE).unwrap();
    infinia::seal_request(
        "1.0",
        "demo-app",
        &json!({"sellerId": "S-1", "status": "ACTIVE"}),
        &infinia_key,
        merchant.public(),
        SignatureHash::Sha256,
    )
    .unwrap()
    .to_json()
}

/// A Whalet notification envelope as the simulator sends it (signed by Whalet, sealed to the
/// demo partner).
fn whalet_envelope() -> Vec<u8> {
    let platform = PrivateKey::parse(demo::PLATFORM_PRIVATE).unwrap();
    let partner = PublicKey::parse(demo::PARTNER_PUBLIC).unwrap();
    let echo = whalet::Echo {
        partner_id: "202400000000001".into(),
        api_code: "connectivityNotify".into(),
        request_no: "N-54".into(),
        version: "1.0".into(),
    };
    whalet::seal_request(
        &echo,
        &json!({"message": "hello"}),
        &platform,
        &partner,
        HexCase::Lower,
    )
    .unwrap()
}

/// A Pockyt payout IPN as the simulator sends it: a form signed with the demo token.
fn pockyt_ipn() -> String {
    let params: pockyt::Params = [
        ("accountToken", "2010300000000000000002"),
        ("amount", "200.00"),
        ("currency", "USD"),
        ("invoiceId", "INV-1"),
        ("paymentTime", "2026-12-07T19:22:05Z"),
        ("status", "success"),
        ("transactionNo", "3010300000000000000003"),
        ("vendor", "BANK_ACCOUNT"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Some(v.to_owned())))
    .collect();
    pockyt::form_encode(&pockyt::signed_pairs(
        &params,
        whalet_sim::config::pockyt::DEMO_TOKEN,
    ))
}

/// A request posted to a listener: its content type, its body and what its error must say.
type Posted<'a> = (&'a str, &'a [u8], &'a [&'a str]);

/// Regression: the README's quickstart starts one `listen` (the Whalet surface) and `serve
/// --notify-url` at it, which sends every surface's notifications there; an Infinia webhook or
/// a Pockyt IPN was refused with a bare parse error (`head` is missing, not a JSON envelope),
/// and the other listeners likewise for the other shapes, never naming the surface the
/// notification belongs to. Each is still refused as before (400, attempt 0, no
/// acknowledgement) and its error now says whose it is and what to do, in the printed line and
/// in the answer (the Whalet listener's signed reply too); a listener's own surface's refusals
/// are unchanged.
#[test]
fn listen_names_another_surfaces_notification_and_what_to_do() {
    let form = "application/x-www-form-urlencoded";
    let json_type = "application/json";
    let ipn = pockyt_ipn();
    let ipn_json = serde_json::to_vec(
        &ipn.split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k.to_owned(), Value::String(v.to_owned()))
            })
            .collect::<serde_json::Map<_, _>>(),
    )
    .unwrap();
    let webhook = infinia_webhook();
    let envelope = whalet_envelope();
    let infinia_said = [
        "this is an Infinia Pay seller-status webhook",
        "--surface infinia",
        "[[infinia.apps]] notify_url",
    ];
    let pockyt_said = [
        "this is a Pockyt payout IPN",
        "--surface pockyt",
        "[[pockyt.merchants]] notify_url",
    ];
    let whalet_said = [
        "this is a Whalet envelope",
        "--surface whalet",
        "[[whalet.partners]] notify_url",
    ];
    let cases: [(&str, Vec<Posted>); 3] = [
        (
            "whalet",
            vec![
                (json_type, &webhook, &infinia_said),
                (form, ipn.as_bytes(), &pockyt_said),
                (json_type, &ipn_json, &pockyt_said),
            ],
        ),
        (
            "pockyt",
            vec![
                (json_type, &envelope, &whalet_said),
                (json_type, &webhook, &infinia_said),
            ],
        ),
        (
            "infinia",
            vec![
                (form, ipn.as_bytes(), &pockyt_said),
                (json_type, &envelope, &whalet_said),
            ],
        ),
    ];
    for (surface, bodies) in cases {
        let listening = Listening::start(&["--surface", surface]);
        for (content_type, body, said) in bodies {
            let (status, answered, line) = listening.post(content_type, body);
            assert_eq!(status, 400, "{surface}: {line}");
            assert_eq!(line["answered"], 400, "{surface}: {line}");
            assert_eq!(line["attempt"], 0, "{surface}: {line}");
            assert_eq!(line["body"], Value::Null, "{surface}: {line}");
            let error = line["error"].as_str().unwrap();
            for words in said {
                assert!(error.contains(words), "{surface}: {words:?} not in {error}");
            }
            assert!(
                error.contains("--notify-url sends every surface's notifications"),
                "{surface}: {error}"
            );
            if surface != "whalet" {
                // The answer is the error as printed (the Whalet listener's is a signed reply).
                assert_eq!(answered, error, "{surface}");
            } else {
                // The signed reply's detail says as much, for a sender that logs the answer.
                let reply: Value = serde_json::from_str(&answered).unwrap();
                let detail = reply["head"].to_string();
                for words in said {
                    assert!(detail.contains(words), "{words:?} not in {answered}");
                }
            }
        }
        // The listener's own surface's refusal names no other surface.
        let own: Vec<u8> = match surface {
            "whalet" => br#"{"head":{"apiCode":"x"},"body":{"encrypt":"x"}}"#.to_vec(),
            "pockyt" => b"transactionNo=T1&verifySign=forged".to_vec(),
            _ => br#"{"version":"1.0","appId":"a","dataType":"JSON","requestData":"x","signature":"y"}"#
                .to_vec(),
        };
        let content_type = if surface == "pockyt" { form } else { json_type };
        let (status, _, line) = listening.post(content_type, &own);
        assert_eq!(status, 400, "{surface}: {line}");
        assert!(
            !line["error"].as_str().unwrap().contains("this is"),
            "{surface}: {line}"
        );
    }
    // The listeners still accept their own: the Whalet envelope and the IPN verify.
    let (status, _, line) = Listening::start(&["--surface", "whalet"]).post(json_type, &envelope);
    assert_eq!(
        (status, line["error"].clone()),
        (200, Value::Null),
        "{line}"
    );
    let (status, answered, line) =
        Listening::start(&["--surface", "pockyt"]).post(form, ipn.as_bytes());
    assert_eq!((status, answered.as_str()), (200, "success"), "{line}");
    assert_eq!(line["body"]["status"], "success", "{line}");
}

/// Regression: `call --surface pockyt` (which posts to any path) and `--surface platform` sent
/// another surface's whole path anyway, to another provider's endpoint or to no route, and
/// ended with a misleading exit 4 (the reply "rejected", as for a wrong key) or exit 3; `call
/// v3/payouts/balance` without `--surface pockyt` was sent to the Whalet surface. Each is now
/// refused before anything is sent, with `--example`'s message naming the surface that has it
/// and its usage exit code (2); every surface's own operations are sent as before.
#[tokio::test]
async fn call_refuses_another_surfaces_whole_path_before_sending() {
    let app = spawn_app().await;
    let url = app.url.clone();
    let outs = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| {
            let out = bin()
                .arg("call")
                .args(args)
                .args(["--url", &url, "--data", "{}"])
                .env_remove("WHALET_SIM_SURFACE")
                .env_remove("WHALET_SIM_URL")
                .output()
                .unwrap();
            (args.join(" "), out)
        };
        let refused = [
            (
                &["--surface", "pockyt", "/api/v1/account-balance/query"][..],
                "is an Infinia Pay operation: POST /api/v1/account-balance/query (give --surface infinia)",
            ),
            (
                &["--surface", "pockyt", "/v1/platform/balanceQuery"][..],
                "is a whalet-platform operation: POST /v1/platform/balanceQuery (give --surface platform)",
            ),
            (
                &["--surface", "pockyt", "/api"][..],
                "it is the Whalet Open API's endpoint",
            ),
            (
                &["--surface", "platform", "/v3/payouts/balance"][..],
                "is a Pockyt operation: POST /v3/payouts/balance (give --surface pockyt)",
            ),
            (
                &["v3/payouts/balance"][..],
                "v3/payouts/balance is not a Whalet Open API operation: v3/payouts/balance is a Pockyt operation",
            ),
            (
                &["--surface", "infinia", "/v1/platform/balanceQuery"][..],
                "(give --surface platform)",
            ),
        ]
        .map(|(args, said)| (run(args), said));
        let sent = [
            &["--surface", "pockyt", "v3/payouts/balance"][..],
            &["--surface", "pockyt", "/v3/payouts/balance/"][..],
            &["--surface", "platform", "/v1/platform/balanceQuery"][..],
            &["--surface", "platform", "balanceQuery"][..],
            &["--surface", "infinia", "/api/v1/account-balance/query"][..],
        ]
        .map(run);
        (refused, sent)
    })
    .await
    .unwrap();
    let (refused, sent) = outs;
    for ((args, out), said) in &refused {
        let text = stderr(out);
        assert_eq!(out.status.code(), Some(2), "{args}: {text}");
        assert!(text.starts_with("error: "), "{args}: {text}");
        assert!(text.contains(said), "{args}: {said:?} not in {text}");
        assert!(out.stdout.is_empty(), "{args}");
    }
    for (args, out) in &sent {
        assert_eq!(out.status.code(), Some(0), "{args}: {}", stderr(out));
    }
    // Only the operations sent as before reached the simulator, each its own surface's.
    let journal = app.get_json("/__sim/requests").await;
    let reached: Vec<&str> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["surface"].as_str().unwrap())
        .collect();
    assert_eq!(
        reached,
        ["infinia", "platform", "platform", "pockyt", "pockyt"],
        "{journal}"
    );
    app.shutdown().await;
}

/// Regression: `--key nonexist.pem` said only `"nonexist.pem" is neither a readable file nor a
/// key`, as if the text might be a key gone wrong; a value written as a path of a file that
/// does not exist now also says that the file does not exist, naming the path as resolved
/// against the working directory, for every command's key flags (`bench` included). A value
/// that is no path is refused as before.
#[test]
fn a_key_flag_naming_a_file_that_does_not_exist_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    let closed = "http://127.0.0.1:9";
    let run = |args: &[&str]| {
        bin()
            .args(args)
            .current_dir(&cwd)
            .env_remove("WHALET_SIM_SURFACE")
            .env_remove("WHALET_SIM_URL")
            .output()
            .unwrap()
    };
    for (args, path) in [
        (
            vec![
                "call",
                "connectivity",
                "--url",
                closed,
                "--key",
                "nonexist.pem",
            ],
            cwd.join("nonexist.pem"),
        ),
        (
            vec![
                "call",
                "--surface",
                "infinia",
                "account-balance/query",
                "--url",
                closed,
                "--platform-key",
                "keys/infinia.der",
            ],
            cwd.join("keys/infinia.der"),
        ),
        (
            vec![
                "listen",
                "--addr",
                "127.0.0.1:0",
                "--key",
                "/nonexistent-dir/partner.key",
            ],
            std::path::PathBuf::from("/nonexistent-dir/partner.key"),
        ),
        // The bench reads its key flags with the same reader.
        (
            vec!["bench", "--surface", "infinia", "--key", "keys/none.pem"],
            cwd.join("keys/none.pem"),
        ),
    ] {
        let out = run(&args);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        let flag = if args.contains(&"--platform-key") {
            "--platform-key"
        } else {
            "--key"
        };
        assert!(
            text.starts_with(&format!("error: {flag}: ")),
            "{args:?}: {text}"
        );
        assert!(
            text.contains(&format!(
                "the file {:?} does not exist (a relative path is read from the working directory)",
                path.to_string_lossy()
            )),
            "{args:?}: {text}"
        );
    }
    let out = run(&["call", "connectivity", "--url", closed, "--key", "notakey"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("is neither a readable file nor a key"),
        "{text}"
    );
    assert!(!text.contains("does not exist"), "{text}");
}
