//! `whalet-sim call --surface` and `listen --surface` through the binary: one command speaks
//! every surface's scheme, and the listener verifies and acknowledges Infinia webhooks and
//! Pockyt IPNs the way each provider expects, refusing what does not verify.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use whalet_sim::wire::crypto::SignatureHash;
use whalet_sim::wire::infinia;
use whalet_sim::wire::keys::{demo, PrivateKey};
use whalet_sim::wire::pockyt;

use crate::helpers::{bin, spawn_app};

async fn call(url: &str, args: &[&str]) -> Output {
    let mut command = bin();
    command.arg("call").args(args).env("WHALET_SIM_URL", url);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn printed(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test]
async fn call_speaks_infinia_pockyt_and_platform_and_exits_by_their_codes() {
    let app = spawn_app().await;
    let url = app.url.clone();

    let out = call(
        &url,
        &[
            "--surface",
            "infinia",
            "account-balance/query",
            "--data",
            r#"{"currency":"USD"}"#,
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let reply = printed(&out);
    assert_eq!(reply["code"], "SUC-200");
    // The data was decrypted with the merchant's key: it is JSON, not Base64.
    assert_eq!(reply["data"]["accountBalances"][0]["currency"], "USD");

    let out = call(&url, &["--surface", "pockyt", "v3/payouts/balance"]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(printed(&out)["ret_code"], "000100");

    let out = call(&url, &["--surface", "platform", "balanceQuery"]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(printed(&out)["head"]["code"], "SUCCESS");

    // An operation text `--example` takes is sent as it reads it: with slashes at its ends, or
    // the surface's whole path.
    for (surface, operation, code) in [
        ("infinia", "/account-balance/query/", "SUC-200"),
        ("infinia", "/api/v1/account-balance/query/", "SUC-200"),
        ("pockyt", "v3/payouts/balance/", "000100"),
        ("platform", "/v1/platform/balanceQuery", "SUCCESS"),
    ] {
        let out = call(&url, &["--surface", surface, operation]).await;
        assert_eq!(out.status.code(), Some(0), "{operation}: {out:?}");
        let reply = printed(&out);
        let got = [&reply["code"], &reply["ret_code"], &reply["head"]["code"]];
        assert!(got.iter().any(|c| *c == code), "{operation}: {reply}");
    }

    // A wrong token: Pockyt's refusal is printed and the exit code is "refused".
    let out = call(
        &url,
        &[
            "--surface",
            "pockyt",
            "/v3/payouts/balance",
            "--token",
            "nope",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert_eq!(printed(&out)["ret_code"], "000030");

    // Signed with the wrong key: Infinia refuses in its own shape, exit "refused".
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/keys/infinia/private.pem");
    let out = call(
        &url,
        &[
            "--surface",
            "infinia",
            "account-balance/query",
            "--key",
            key,
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert!(printed(&out)["message"]
        .as_str()
        .unwrap()
        .contains("signature"));

    // An unknown Infinia path is the provider's 404 refusal, not a transport failure.
    let out = call(&url, &["--surface", "infinia", "no/such"]).await;
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert!(printed(&out)["message"]
        .as_str()
        .unwrap()
        .contains("account-balance/query"));

    // A surface that does not exist is a usage error.
    let out = call(&url, &["--surface", "stripe", "x"]).await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// An answer whose HTTP status is not 2xx (here forced by scenario rules) is named on stderr on
/// every surface, and the exit code follows one rule: a verified refusal is "refused" (5)
/// whatever the status; a success code under such a status is a transport failure (3), since
/// the providers answer 2xx.
#[tokio::test]
async fn call_names_a_status_other_than_2xx_on_every_surface() {
    let app = spawn_app().await;
    let scenario = r#"
name = "statuses"
[[rule]]
surface = "infinia"
operation = "account-balance/query"
[rule.then]
http_status = 503
[[rule]]
surface = "pockyt"
operation = "/v3/payouts/balance"
[rule.then]
code = "000040"
http_status = 429
[[rule]]
surface = "whalet"
operation = "connectivity"
[rule.then]
code = "INTERNAL_ERROR"
http_status = 500
"#;
    let (status, loaded) = app.load_scenario(scenario, "").await;
    assert_eq!(status, 200, "{loaded}");
    let url = app.url.clone();
    let cases: [(&[&str], i32, u16, &str, &str); 4] = [
        (
            &[
                "--surface",
                "infinia",
                "account-balance/query",
                "--data",
                r#"{"currency":"USD"}"#,
            ],
            3,
            503,
            "code",
            "SUC-200",
        ),
        (
            &["--surface", "pockyt", "v3/payouts/balance"],
            5,
            429,
            "ret_code",
            "000040",
        ),
        (&["connectivity"], 5, 500, "", "INTERNAL_ERROR"),
        // The provider's own 404 for an unknown path stays its refusal, status named.
        (
            &["--surface", "infinia", "no/such"],
            5,
            404,
            "code",
            "SYS-002",
        ),
    ];
    for (args, exit, http, field, code) in cases {
        let out = call(&url, args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(exit), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("HTTP {http} ")) && stderr.contains(code),
            "{args:?}: the status is not named: {stderr}"
        );
        let reply = printed(&out);
        let printed_code = match field {
            "" => &reply["head"]["code"],
            field => &reply[field],
        };
        assert_eq!(printed_code, code, "{args:?}: {reply}");
    }
    app.shutdown().await;
}

/// A running `listen` child and its stdout lines.
pub(crate) struct Listening {
    child: Child,
    addr: std::net::SocketAddr,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Listening {
    /// `whalet-sim listen` on a free port with `args`.
    pub(crate) fn start(args: &[&str]) -> Self {
        let mut child = bin()
            .arg("listen")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let addr = first
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .parse()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, addr, lines }
    }

    /// Posts `body` and returns (status, body answered, the line printed).
    pub(crate) fn post(&self, content_type: &str, body: &[u8]) -> (u16, String, Value) {
        let mut stream = std::net::TcpStream::connect(self.addr).unwrap();
        write!(
            stream,
            "POST /notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        stream.write_all(body).unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        let answered = text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
        let line = self.lines.recv_timeout(Duration::from_secs(10)).unwrap();
        (status, answered, serde_json::from_str(&line).unwrap())
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn listen_verifies_and_acknowledges_infinia_webhooks() {
    let listening = Listening::start(&["--surface", "infinia", "--fail-first", "1"]);
    let infinia_key = PrivateKey::parse(demo::INFINIA_PRIVATE).unwrap();
    let merchant = PrivateKey::parse(demo::INFINIA_MERCHANT_PRIVATE).unwrap();
    let data = json!({"sellerId": "S-1", "status": "FROZEN"});
    let seal = |signer: &PrivateKey| {
        infinia::seal_request(
            "1.0",
            "infinia",
            &data,
            signer,
            merchant.public(),
            SignatureHash::Sha256,
        )
        .unwrap()
        .to_json()
    };

    // The first attempt fails on purpose, the second is acknowledged with exactly SUCCESS.
    let (status, _, line) = listening.post("application/json", &seal(&infinia_key));
    assert_eq!((status, line["attempt"].as_u64()), (503, Some(1)), "{line}");
    let (status, body, line) = listening.post("application/json", &seal(&infinia_key));
    assert_eq!((status, body.as_str()), (200, "SUCCESS"), "{line}");
    assert_eq!(line["attempt"], 2);
    assert_eq!(line["body"], data);

    // Signed by someone else: refused, not acknowledged.
    let (status, _, line) = listening.post("application/json", &seal(&merchant));
    assert_eq!(status, 400, "{line}");
    assert!(
        line["error"].as_str().unwrap().contains("signature"),
        "{line}"
    );
}

/// Regression: with the simulator's `[infinia] sign_webhooks = false`, every webhook was refused
/// (`signature is missing`) and retried until exhausted; `--unsigned` accepts them, and still
/// checks a signature that is there.
#[test]
fn listen_unsigned_accepts_infinia_webhooks_without_a_signature() {
    let listening = Listening::start(&["--surface", "infinia", "--unsigned"]);
    let infinia_key = PrivateKey::parse(demo::INFINIA_PRIVATE).unwrap();
    let merchant = PrivateKey::parse(demo::INFINIA_MERCHANT_PRIVATE).unwrap();
    let data = json!({"sellerId": "S-2", "status": "ACTIVE"});
    let sealed = |signer: &PrivateKey| {
        let bytes = infinia::seal_request(
            "1.0",
            "infinia",
            &data,
            signer,
            merchant.public(),
            SignatureHash::Sha256,
        )
        .unwrap()
        .to_json();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
    };
    let mut bare = sealed(&infinia_key);
    bare.as_object_mut().unwrap().remove("signature");
    let (status, body, line) =
        listening.post("application/json", &serde_json::to_vec(&bare).unwrap());
    assert_eq!((status, body.as_str()), (200, "SUCCESS"), "{line}");
    assert_eq!(line["body"], data);
    let forged = serde_json::to_vec(&sealed(&merchant)).unwrap();
    let (status, _, line) = listening.post("application/json", &forged);
    assert_eq!(status, 400, "a signature that is there is checked: {line}");
}

#[test]
fn listen_verifies_and_acknowledges_pockyt_ipns_as_form_and_json() {
    let listening = Listening::start(&["--surface", "pockyt"]);
    let params: pockyt::Params = [
        ("transactionNo", Some("T1")),
        ("status", Some("SUCCESS")),
        ("note", Some("a b&c")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
    .collect();
    let pairs = pockyt::signed_pairs(&params, whalet_sim::config::pockyt::DEMO_TOKEN);
    let form = pockyt::form_encode(&pairs);

    let (status, body, line) = listening.post("application/x-www-form-urlencoded", form.as_bytes());
    assert_eq!((status, body.as_str()), (200, "success"), "{line}");
    assert_eq!(line["body"]["note"], "a b&c");
    assert!(line["body"].get("verifySign").is_none());

    let object: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let (status, _, line) = listening.post(
        "application/json",
        &serde_json::to_vec(&Value::Object(object)).unwrap(),
    );
    assert_eq!((status, line["attempt"].as_u64()), (200, Some(2)), "{line}");

    // A JSON number is verified and shown as the characters sent: `1.00` and `1e0` are two
    // IPNs (each its first attempt), neither printed as the double `1.0`.
    for amount in ["1.00", "1e0"] {
        let signed: pockyt::Params = [("transactionNo", "T2"), ("amount", amount)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Some(v.to_owned())))
            .collect();
        let sign = pockyt::sign(&signed, whalet_sim::config::pockyt::DEMO_TOKEN);
        let text = format!(r#"{{"transactionNo":"T2","amount":{amount},"verifySign":"{sign}"}}"#);
        let (status, _, line) = listening.post("application/json", text.as_bytes());
        assert_eq!(status, 200, "{line}");
        assert_eq!(line["body"]["amount"], amount, "{line}");
        assert_eq!(line["attempt"], 1, "{line}");
    }

    let tampered = form.replace("status=SUCCESS", "status=FAILED");
    let (status, _, line) =
        listening.post("application/x-www-form-urlencoded", tampered.as_bytes());
    assert_eq!(status, 400, "{line}");
    assert!(
        line["error"].as_str().unwrap().contains("verifySign"),
        "{line}"
    );
}

/// The Whalet listener is bounded as the other surfaces' are: a body over `--max-body-bytes`
/// is answered 413 unread, a huge head value is echoed cut in the 400 reply and in the printed
/// line, and a connection that sends half a request head is closed by the header-read timeout
/// (10 s) rather than held.
#[test]
fn listen_on_the_whalet_surface_bounds_bodies_echoes_and_idle_connections() {
    let listening = Listening::start(&["--max-body-bytes", "100000"]);
    let (status, body, line) = listening.post("application/json", &[b'{'; 100_001]);
    assert_eq!(status, 413, "{body}");
    assert_eq!(line["answered"], 413, "{line}");
    assert!(
        line["error"].as_str().unwrap().contains("--max-body-bytes"),
        "{line}"
    );

    let huge = "P".repeat(90_000);
    let garbage = json!({"head": {"partnerId": huge, "apiCode": "x"}, "body": "y"});
    let (status, body, line) = listening.post("application/json", garbage.to_string().as_bytes());
    assert_eq!(status, 400, "{body}");
    assert!(body.len() < 4096, "a reply of {} bytes", body.len());
    let echoed = line["partnerId"].as_str().unwrap();
    assert!(
        echoed.len() <= 256 && echoed.ends_with("more bytes"),
        "{echoed}"
    );
    assert!(
        line.to_string().len() < 4096,
        "a line of {} bytes",
        line.to_string().len()
    );

    let mut half = std::net::TcpStream::connect(listening.addr).unwrap();
    half.write_all(b"POST /notify HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    half.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut rest = Vec::new();
    assert!(
        half.read_to_end(&mut rest).is_ok(),
        "the half-head connection is still open after 20 s"
    );
}

/// `listen` refuses a flag its surface does not use (exit 2, naming it) rather than ignore it.
#[test]
fn listen_refuses_a_flag_its_surface_does_not_use() {
    for args in [
        &["--surface", "pockyt", "--key", "garbage"][..],
        &["--surface", "pockyt", "--platform-key", "garbage"][..],
        &["--surface", "whalet", "--infinia-alg", "sha1"][..],
        &["--surface", "platform", "--token", "abc"][..],
        &["--surface", "infinia", "--token", "abc"][..],
        &["--surface", "pockyt", "--unsigned"][..],
    ] {
        // An address in use: a listener that took the flag would end at once (exit 1), not
        // listen on.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let out = bin()
            .arg("listen")
            .args(["--addr", &taken.local_addr().unwrap().to_string()])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(args[2]), "{args:?}: {stderr}");
    }
    // The token from the environment is not a flag typed for the wrong surface: the listener
    // goes on to bind (and fails on the taken address, exit 1, not a usage error).
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let out = bin()
        .args(["listen", "--surface", "whalet", "--addr"])
        .arg(taken.local_addr().unwrap().to_string())
        .env("WHALET_SIM_POCKYT_TOKEN", "abc")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let help = bin().args(["listen", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(
        !help.contains("POST /api"),
        "listen's help describes what it receives: {help}"
    );
}

/// `call` refuses a flag its surface does not use (exit 2, naming it and the surfaces that use
/// it) rather than send without it, by the same check as `listen`; a variable set for another
/// surface (`WHALET_SIM_POCKYT_TOKEN`) is not refused; a surface set by `WHALET_SIM_SURFACE` is
/// named by it.
#[test]
fn call_refuses_a_flag_its_surface_does_not_use() {
    // Nothing listens there: a call that took the flag would fail to connect (exit 3).
    let closed = "http://127.0.0.1:9";
    for (args, flag) in [
        (
            &["connectivity", "--infinia-alg", "sha1"][..],
            "--infinia-alg",
        ),
        (
            &[
                "--surface",
                "platform",
                "balanceQuery",
                "--infinia-alg",
                "sha1",
            ],
            "--infinia-alg",
        ),
        (
            &[
                "--surface",
                "pockyt",
                "v3/payouts/balance",
                "--key",
                "k.pem",
            ],
            "--key",
        ),
        (
            &[
                "--surface",
                "pockyt",
                "v3/payouts/balance",
                "--platform-key",
                "p.pem",
            ],
            "--platform-key",
        ),
        (&["connectivity", "--token", "abc"], "--token"),
        (
            &[
                "--surface",
                "infinia",
                "account-balance/query",
                "--request-no",
                "R1",
            ],
            "--request-no",
        ),
    ] {
        let out = bin()
            .arg("call")
            .args(args)
            .args(["--url", closed])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{flag} is not used by --surface")),
            "{args:?}: {stderr}"
        );
    }
    let out = bin()
        .args(["call", "connectivity", "--url", closed])
        .env("WHALET_SIM_POCKYT_TOKEN", "abc")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A surface set by its variable is named by it, not as a flag never typed.
    let out = bin()
        .args([
            "call",
            "v3/payouts/balance",
            "--key",
            "k.pem",
            "--url",
            closed,
        ])
        .env("WHALET_SIM_SURFACE", "pockyt")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--key is not used by WHALET_SIM_SURFACE=pockyt")
            && !stderr.contains("--surface pockyt"),
        "{stderr}"
    );
}

/// `call --surface <surface> <operation> --data <body>`.
async fn call_data(url: &str, surface: &str, operation: &str, body: &str) -> Output {
    call(url, &["--surface", surface, operation, "--data", body]).await
}

/// `call --data` sends the body as written: a number arrives as its own characters, so an amount
/// no other client may send (`1e2`, `1.0000000000000001`) is refused through `call` too, where it
/// used to be parsed and printed again (`100.0`, `1.0`) and paid (docs/FIDELITY.md, "request
/// amounts" and Pockyt's "non-string values"); `100.10` still pays 100.10.
#[tokio::test]
async fn call_sends_the_numbers_of_data_as_written_on_pockyt_and_platform() {
    use crate::platform::{bind_body, trigger};
    use crate::pockyt_support::{active_payee, balance, bank_account, IpnReceiver};
    let app = spawn_app().await;
    let url = app.url.clone();
    let refused = [
        (
            "1e2",
            "amount \"1e2\" is not a plain decimal number like 100.25",
        ),
        (
            "1.0000000000000001",
            "amount \"1.0000000000000001\" has 16 decimal places; USD has 2",
        ),
    ];

    // Pockyt: verifySign over the characters sent; the amount read as them.
    let ipn = IpnReceiver::start(0).await;
    let no = active_payee(&app, "cli-number@example.com").await;
    let token = bank_account(&app, &no, &ipn.url()).await;
    let pay = |amount: &str, invoice: &str| {
        format!(
            r#"{{"customerNo":"{no}","accountToken":"{token}","amount":{amount},"currency":"USD","invoiceId":"{invoice}"}}"#
        )
    };
    for (i, (amount, msg)) in refused.iter().enumerate() {
        let out = call_data(
            &url,
            "pockyt",
            "v3/payouts/pay",
            &pay(amount, &format!("CLI{i}")),
        )
        .await;
        assert_eq!(out.status.code(), Some(5), "{amount}: {out:?}");
        assert_eq!(
            printed(&out),
            json!({"ret_code": "000023", "ret_msg": msg}),
            "{amount}"
        );
    }
    assert_eq!(balance(&app).await, "10000.00");
    let out = call_data(&url, "pockyt", "v3/payouts/pay", &pay("100.10", "CLI-OK")).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(printed(&out)["result"]["amount"], "100.10");

    // Platform: the Whalet envelope encrypts the characters written.
    let (status, body) = trigger(
        &app,
        "platform.bulk_payment.received",
        json!({"amount": "1000.00", "currency": "USD"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let bind = bind_body("B-CLI", "PS-CLI").to_string();
    let out = call_data(&url, "platform", "shopAccountBind", &bind).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    trigger(
        &app,
        "platform.binding.approved",
        json!({"bindId": "B-CLI"}),
    )
    .await;
    let apply = |amount: &str, id: &str| {
        format!(r#"{{"paymentId":"{id}","shopId":"PS-CLI","amount":{amount},"currency":"USD"}}"#)
    };
    for (i, (amount, detail)) in refused.iter().enumerate() {
        let out = call_data(
            &url,
            "platform",
            "paymentApply",
            &apply(amount, &format!("PC{i}")),
        )
        .await;
        assert_eq!(out.status.code(), Some(5), "{amount}: {out:?}");
        let head = &printed(&out)["head"];
        assert_eq!(head["code"], "PARAMETER_ERROR", "{amount}: {head}");
        assert_eq!(head["detail"], *detail, "{amount}");
    }
    let out = call_data(&url, "platform", "paymentApply", &apply("100.10", "PC-OK")).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = call_data(&url, "platform", "balanceQuery", r#"{"currency":"USD"}"#).await;
    assert_eq!(
        printed(&out)["body"]["balances"][0]["availableAmount"],
        "899.90"
    );
    app.shutdown().await;
}

/// `--infinia-alg` other than sha256 or sha1 is a usage error (exit 2) naming the flag, for
/// `call`, `listen` and `bench` alike, before anything is sent or bound.
#[test]
fn an_unknown_infinia_alg_is_a_usage_error() {
    let closed = "http://127.0.0.1:9";
    for args in [
        &[
            "call",
            "--surface",
            "infinia",
            "--infinia-alg",
            "md5",
            "account-balance/query",
            "--url",
            closed,
        ][..],
        &[
            "listen",
            "--surface",
            "infinia",
            "--infinia-alg",
            "md5",
            "--addr",
            "127.0.0.1:0",
        ][..],
        &[
            "bench",
            "--surface",
            "infinia",
            "--infinia-alg",
            "md5",
            "--url",
            closed,
        ][..],
    ] {
        let out = bin().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("'md5'")
                && stderr.contains("--infinia-alg")
                && stderr.contains("sha256 or sha1"),
            "{args:?}: {stderr}"
        );
    }
}

/// Regression: `call --surface platform --url …/api` appended the surface's path after the one
/// given (`/api/v1/platform/…`, Infinia's route) and blamed the reply (exit 4); Infinia and
/// Pockyt answered 404 (exit 3). A URL with a path is now a usage error on those surfaces,
/// before anything is sent, and the Whalet surface keeps taking a whole endpoint URL.
#[tokio::test]
async fn call_refuses_a_url_with_a_path_on_the_surfaces_that_append_their_own() {
    let app = spawn_app().await;
    for (surface, operation) in [
        ("platform", "balanceQuery"),
        ("infinia", "account-balance/query"),
        ("pockyt", "v3/payouts/balance"),
    ] {
        let url = format!("{}/api", app.url);
        let out = call(&url, &["--surface", surface, operation]).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{surface}: {stderr}");
        assert!(
            stderr.contains("without a path (not /api)"),
            "{surface}: {stderr}"
        );
    }
    let journal = app.get_json("/__sim/requests").await;
    assert_eq!(
        journal["requests"],
        json!([]),
        "something was sent: {journal}"
    );
    let whole = format!("{}/api", app.url);
    let data = r#"{"notifyFlag":"N","responseFlag":"Y"}"#;
    let out = call(&whole, &["connectivity", "--data", data]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.shutdown().await;
}
