//! The envelope against the independent Python implementation (scripts/infinia_envelope.py),
//! in both directions, and the precise diagnostics of refused requests.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use whalet_sim::store::{Provider, TenantId};
use whalet_sim::wire::crypto::SignatureHash;
use whalet_sim::wire::infinia as envelope;
use whalet_sim::wire::keys::{demo, PrivateKey, PublicKey};

use super::support::{bind, set_hook_url, spawn_infinia, HookReceiver, Merchant};
use crate::helpers::{python, repo_path};

fn script(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(python())
        .arg(repo_path("scripts/infinia_envelope.py"))
        .args(args)
        .current_dir(repo_path(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn python_call(url: String, data: Value, alg: &'static str) -> (i32, Value, String) {
    tokio::task::spawn_blocking(move || {
        let data = data.to_string();
        let (code, out, err) = script(
            &["call", "--url", &url, "--data", &data, "--alg", alg],
            None,
        );
        (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn python_sealed_requests_are_answered_and_python_opens_the_reply() {
    let app = spawn_infinia("").await;
    let url = format!("{}/api/v1/account-binding/request", app.url);
    let data = super::support::binding_request("ABR-PY-1", "SELLER-深圳-1");
    let (code, out, err) = python_call(url, data, "SHA256withRSA").await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["envelope"]["code"], "SUC-200");
    assert_eq!(out["envelope"]["appId"], "demo-app");
    assert_eq!(out["data"]["sellerId"], "SELLER-深圳-1");
    assert_eq!(out["data"]["bindingStatus"], "PENDING");
    let link = out["data"]["redirectUrl"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/authorize/inf_", app.url)),
        "{link}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn sha1_is_configurable_and_checked_by_python_too() {
    let app = spawn_infinia("signature_alg = \"SHA1withRSA\"\n").await;
    let url = format!("{}/api/v1/account-balance/query", app.url);
    let (code, out, err) =
        python_call(url.clone(), json!({"currency": "USD"}), "SHA1withRSA").await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out["data"]["accountBalances"][0]["availableBalance"],
        "100000.00"
    );
    // The same request signed SHA256withRSA is refused, and the message says why.
    let (code, out, _) = python_call(url, json!({}), "SHA256withRSA").await;
    assert_eq!(code, 3);
    assert_eq!(out["envelope"]["code"], "SYS-002");
    let message = out["envelope"]["message"].as_str().unwrap();
    assert!(
        message.contains("the signature is SHA256withRSA; this app is configured for SHA1withRSA"),
        "{message}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn python_opens_a_webhook_and_a_rust_sealed_request() {
    let app = spawn_infinia("").await;
    let hooks = HookReceiver::start(vec![]).await;
    set_hook_url(&app, &hooks.url);
    let m = Merchant::demo();
    bind(&app, &m, "SELLER-PY").await;
    app.wait_notification("apiCode=sellerStatus").await;
    let raw = hooks.hooks()[0].raw.clone();
    let (code, out, err) =
        tokio::task::spawn_blocking(move || script(&["open", "--in", "-"], Some(&raw)))
            .await
            .unwrap();
    assert_eq!(code, 0, "{err}");
    let opened: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(opened["envelope"]["appId"], "infinia");
    assert_eq!(opened["envelope"]["version"], "1.0");
    assert_eq!(opened["data"]["sellerId"], "SELLER-PY");
    assert_eq!(opened["data"]["status"], "ACTIVE");
    // A request sealed by the Rust codec, opened by Python as Infinia would.
    let key = PrivateKey::parse(demo::INFINIA_MERCHANT_PRIVATE).unwrap();
    let infinia = PublicKey::parse(demo::INFINIA_PUBLIC).unwrap();
    let data = json!({"requestNo": "R-1", "note": "多字节".repeat(100)});
    let sealed = envelope::seal_request(
        "1.0",
        "demo-app",
        &data,
        &key,
        &infinia,
        SignatureHash::Sha256,
    )
    .unwrap();
    let args = [
        "open",
        "--in",
        "-",
        "--receiver-key",
        "keys/infinia/private.pem",
        "--sender-pub",
        "keys/demo-infinia-merchant/public.pem",
    ];
    let (code, out, err) = script(&args, Some(&sealed.to_json()));
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["data"], data);
    app.shutdown().await;
}

async fn refused(app: &crate::helpers::TestApp, path: &str, body: Vec<u8>) -> (u16, Value) {
    let (status, text) = app.post_raw(path, "application/json", body).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn refusals_carry_system_codes_and_precise_messages() {
    let app = spawn_infinia("body_limit_bytes = 4096\n").await;
    let m = Merchant::demo();
    let path = "/api/v1/account-binding/request";
    let (_, r) = refused(&app, path, b"{not json".to_vec()).await;
    assert_eq!(r["code"], "SYS-005");
    let (_, r) = refused(
        &app,
        path,
        br#"{"version":"1.0","appId":"demo-app","dataType":"JSON","requestData":"x"}"#.to_vec(),
    )
    .await;
    assert_eq!(
        (
            r["code"].as_str(),
            r["message"].as_str(),
            r["appId"].as_str()
        ),
        (
            Some("SYS-004"),
            Some("signature is missing"),
            Some("demo-app")
        )
    );
    let (_, r) = refused(&app, path, vec![b' '; 5000]).await;
    assert_eq!(r["code"], "SYS-007");
    let mut sealed =
        envelope::seal_request("1.0", "nobody", &json!({}), &m.key, &m.infinia, m.alg).unwrap();
    let (_, r) = refused(&app, path, sealed.to_json()).await;
    assert_eq!(r["code"], "SYS-002");
    assert!(r["message"]
        .as_str()
        .unwrap()
        .contains("no app with appId \"nobody\""));
    sealed.app_id = "demo-app".into();
    // Still standard Base64 (the encoding is checked before the signature), but not what was signed.
    let other = if sealed.request_data.starts_with("AAAA") {
        "BBBB"
    } else {
        "AAAA"
    };
    sealed.request_data.replace_range(..4, other);
    let (_, r) = refused(&app, path, sealed.to_json()).await;
    let message = r["message"].as_str().unwrap();
    assert_eq!(r["code"], "SYS-002");
    assert!(
        message.contains("expected SHA256withRSA (standard Base64) over the UTF-8 bytes"),
        "{message}"
    );
    assert!(message.contains(m.key.public().fingerprint()), "{message}");
    let (status, r) = refused(
        &app,
        "/api/v1/no-such/thing",
        envelope::seal_request("1.0", "demo-app", &json!({}), &m.key, &m.infinia, m.alg)
            .unwrap()
            .to_json(),
    )
    .await;
    assert_eq!((status, r["code"].as_str()), (404, Some("SYS-002")));
    assert!(r["message"]
        .as_str()
        .unwrap()
        .contains("/api/v1/revenue-sharing/query"));
    // Business-field errors name the field; nothing was stored.
    let mut data = super::support::binding_request("ABR-X", "S-X");
    data["sellerId"] = json!(42);
    let reply = m.call(&app, "account-binding/request", &data).await;
    assert_eq!((reply.code.as_str(), reply.data), ("SYS-005", None));
    assert!(
        reply.message.contains("sellerId must be a string"),
        "{}",
        reply.message
    );
    data.as_object_mut().unwrap().remove("sellerId");
    let reply = m.call(&app, "account-binding/request", &data).await;
    assert_eq!(
        (reply.code.as_str(), reply.message.as_str()),
        ("SYS-004", "sellerId is required")
    );
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    let stored = app
        .app()
        .store()
        .with_tenant(&tenant, |t| t.infinia.bindings.len());
    assert_eq!(stored, Some(0));
    let journal = app.get_json("/__sim/requests?surface=infinia").await;
    assert!(journal.to_string().contains("SYS-007"), "{journal}");
    app.shutdown().await;
}

#[tokio::test]
async fn every_operation_refuses_every_wrong_shape_with_a_system_code() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let fields = [
        "requestNo",
        "sellerId",
        "entityType",
        "currency",
        "storeUrl",
        "fileName",
        "amount",
        "shareDetails",
    ];
    let long = "x".repeat(5000);
    let shapes = [
        json!(null),
        json!(-1.5),
        json!([{"sellerId": 1}]),
        json!({}),
        json!(long),
        json!("-1"),
    ];
    for op in whalet_sim::api::infinia::OPERATIONS {
        let base = super::support::binding_request("ABR-SHAPE", "SELLER-SHAPE");
        for field in fields {
            for shape in &shapes {
                let mut data = base.clone();
                data[field] = shape.clone();
                let reply = m.call(&app, op.name, &data).await;
                assert!(
                    reply.code == "SUC-200" || reply.code.starts_with("SYS-00"),
                    "{} {field}={shape}: {} {}",
                    op.name,
                    reply.code,
                    reply.message
                );
                assert_ne!(
                    reply.code, "SYS-003",
                    "{} {field}={shape}: internal error",
                    op.name
                );
            }
        }
    }
    app.assert_invariants().await;
    app.shutdown().await;
}

/// Regression: a request of thousands of RSA blocks with a bad signature had every block
/// decrypted (to build the signature hint), keeping a core busy for seconds per request. The
/// block count is now refused from the length alone, before any crypto.
#[tokio::test]
async fn a_request_of_too_many_blocks_is_refused_before_any_rsa_work() {
    use base64::Engine as _;
    let app = spawn_infinia("max_request_blocks = 8\n").await;
    let m = Merchant::demo();
    // One real block repeated: the shape of the attack (valid Base64, a multiple of 256 bytes).
    let sealed = envelope::seal_request(
        "1.0",
        "demo-app",
        &json!({"a": 1}),
        &m.key,
        &m.infinia,
        m.alg,
    )
    .unwrap();
    let block = base64::engine::general_purpose::STANDARD
        .decode(&sealed.request_data)
        .unwrap();
    let many: Vec<u8> = block
        .iter()
        .copied()
        .cycle()
        .take(block.len() * 200)
        .collect();
    let body = json!({
        "version": "1.0",
        "appId": "demo-app",
        "dataType": "JSON",
        "requestData": base64::engine::general_purpose::STANDARD.encode(&many),
        "signature": sealed.signature,
    });
    let (_, r) = refused(
        &app,
        "/api/v1/account-balance/query",
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(r["code"], "SYS-007", "{r}");
    let message = r["message"].as_str().unwrap();
    assert!(message.contains("200 RSA blocks"), "{message}");
    assert!(message.contains("max_request_blocks"), "{message}");
    // A small request is still answered.
    let ok = m.call(&app, "account-balance/query", &json!({})).await;
    assert_eq!(ok.code, "SUC-200", "{}", ok.message);
    app.shutdown().await;
}

/// Hex where Base64 is expected is named as hex, and a line-wrapped `requestData` (Java's MIME
/// encoder) is refused for its line breaks before its signature is checked: the codes are the
/// documented SYS-005 of a wrong format, the messages say what to fix.
#[tokio::test]
async fn hex_or_line_wrapped_base64_is_named_for_what_it_is() {
    use base64::Engine as _;
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let path = "/api/v1/account-balance/query";
    let b64 = base64::engine::general_purpose::STANDARD;
    let sealed =
        envelope::seal_request("1.0", "demo-app", &json!({}), &m.key, &m.infinia, m.alg).unwrap();
    let mut hex_signature = sealed.clone();
    hex_signature.signature = hex::encode(b64.decode(&sealed.signature).unwrap());
    let mut hex_data = sealed.clone();
    hex_data.request_data = hex::encode(b64.decode(&sealed.request_data).unwrap());
    hex_data.signature = envelope::sign(&m.key, m.alg, &hex_data.request_data);
    let mut wrapped = sealed.clone();
    let lines: Vec<String> = sealed
        .request_data
        .as_bytes()
        .chunks(76)
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .collect();
    wrapped.request_data = lines.join("\r\n");
    let cases = [
        (hex_signature, "signature is 512 hex digits"),
        (hex_data, "requestData is 512 hex digits"),
        (
            wrapped,
            "requestData is not standard Base64: invalid character '\\r' at position 76",
        ),
    ];
    for (request, expected) in cases {
        let (status, r) = refused(&app, path, request.to_json()).await;
        let message = r["message"].as_str().unwrap_or_default();
        assert_eq!((status, r["code"].as_str()), (200, Some("SYS-005")), "{r}");
        assert!(message.contains(expected), "{message}");
        let fix = if expected.contains("hex") {
            "looks like hex; send it Base64-encoded"
        } else {
            "without line breaks"
        };
        assert!(message.contains(fix), "{message}");
    }
    app.shutdown().await;
}
