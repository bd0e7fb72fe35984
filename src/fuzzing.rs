//! Fuzz entry points: one `fn(&[u8])` per parser that reads bytes from outside, for the
//! cargo-fuzz targets in `fuzz/fuzz_targets/` and for the stable smoke test
//! (`tests/api/fuzz_smoke.rs`), which runs the same functions over the seed corpus in
//! `fuzz/corpus/<target>/` and deterministic mutations of it (docs/RELIABILITY.md, "Fuzzing").
//!
//! Each function must return normally for every input: it panics only on a finding. A finding is
//! a panic anywhere (under cargo-fuzz every panic aborts, even one the pipeline would catch) or,
//! for the targets that go through the request pipeline, an answer with the surface's internal
//! error code (the pipeline masks a panic or an operation's bug as that code).
//!
//! The surface targets drive one shared in-process simulator (the default configuration, manual
//! clock frozen at 2025-01-01T00:00:00Z, no listener) through [`crate::routes::route`], each
//! calling thread on its own current-thread runtime. The `*_sealed` and `pockyt_signed` targets
//! take the fuzz input as the plaintext (or the fields) and seal or sign it correctly with the
//! demo keys (`keys/`), so the fuzzer gets past the signature and the decryption into the JSON
//! handling and the operations. Their input is `<operation>\n<plaintext>`: the first line picks
//! the apiCode or path.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::api::infinia::apps::DEMO_APP_ID;
use crate::api::whalet::partners::DEMO_PARTNER_ID;
use crate::app::{App, Options};
use crate::clock::ClockMode;
use crate::config::pockyt::{DEMO_MERCHANT_NO, DEMO_TOKEN};
use crate::config::Config;
use crate::http::{SimRequest, SimResponse};
use crate::scenario::{OperationCtx, Scenarios};
use crate::tenant::{Provider, TenantId};
use crate::wire::crypto::{self, SignatureHash};
use crate::wire::keys::{demo, PrivateKey, PublicKey};
use crate::wire::{infinia, pockyt, whalet};

/// The virtual time of the shared simulator (the tests' start time): 2025-01-01T00:00:00Z.
pub const START_MS: i64 = 1_735_689_600_000;
/// The AES session key of every sealed Whalet request (its `keyEnc` is computed once).
const SESSION_KEY: [u8; 16] = *b"fuzz-session-key";
/// At most this much plaintext is RSA-encrypted per Infinia case (4 blocks of 245 bytes): every
/// block is a private-key operation on the receiving side.
const MAX_INFINIA_PLAINTEXT: usize = 4 * 245;
/// The multipart boundary of the upload target.
pub const BOUNDARY: &str = "fuzzboundary";

/// One fuzz target: its name (the `fuzz/fuzz_targets/<name>.rs` binary and the
/// `fuzz/corpus/<name>/` seeds) and its entry function.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order of docs/RELIABILITY.md.
pub const TARGETS: &[Target] = &[
    Target {
        name: "whalet_envelope",
        run: whalet_envelope,
    },
    Target {
        name: "whalet_sealed",
        run: whalet_sealed,
    },
    Target {
        name: "infinia_envelope",
        run: infinia_envelope,
    },
    Target {
        name: "infinia_sealed",
        run: infinia_sealed,
    },
    Target {
        name: "pockyt_request",
        run: pockyt_request,
    },
    Target {
        name: "pockyt_signed",
        run: pockyt_signed,
    },
    Target {
        name: "upload_multipart",
        run: upload_multipart,
    },
    Target {
        name: "sftp_trade_details",
        run: sftp_trade_details,
    },
    Target {
        name: "scenario_file",
        run: scenario_file,
    },
    Target {
        name: "config_toml",
        run: config_toml,
    },
];

/// The shared simulator and the keys the sealing targets sign and encrypt with.
struct Harness {
    app: App,
    partner_key: PrivateKey,
    platform_key: PrivateKey,
    whalet_key_enc: String,
    merchant_key: PrivateKey,
    infinia_public: PublicKey,
    infinia_alg: SignatureHash,
    upload_timestamp: String,
    upload_token: String,
    request_nos: AtomicU64,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let built = build_harness();
        built.unwrap_or_else(|e| panic!("the fuzz harness cannot be built: {e}"))
    })
}

fn build_harness() -> anyhow::Result<Harness> {
    let options = Options {
        clock_mode: Some(ClockMode::Manual),
        start_time: Some(START_MS),
        ..Options::default()
    };
    let app = App::new(Config::default(), options)?;
    let partner_key = PrivateKey::parse(demo::PARTNER_PRIVATE)?;
    let platform_key = PrivateKey::parse(demo::PLATFORM_PRIVATE)?;
    let wrapped = base64_encode(&SESSION_KEY);
    let whalet_key_enc = hex::encode(crypto::rsa_encrypt(
        platform_key.public(),
        wrapped.as_bytes(),
    )?);
    let merchant_key = PrivateKey::parse(demo::INFINIA_MERCHANT_PRIVATE)?;
    let infinia_public = PublicKey::parse(demo::INFINIA_PUBLIC)?;
    let infinia_alg = app
        .infinia()
        .apps
        .get(DEMO_APP_ID)
        .map_or(SignatureHash::Sha256, |a| a.alg);
    let upload_timestamp = START_MS.to_string();
    let upload_token = hex::encode(crypto::sign(
        &partner_key,
        SignatureHash::Sha1,
        format!("{DEMO_PARTNER_ID}|{upload_timestamp}").as_bytes(),
    ));
    Ok(Harness {
        app,
        partner_key,
        platform_key,
        whalet_key_enc,
        merchant_key,
        infinia_public,
        infinia_alg,
        upload_timestamp,
        upload_token,
        request_nos: AtomicU64::new(0),
    })
}

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// Runs one request through the route table on this thread's runtime.
fn call(req: SimRequest) -> SimResponse {
    let core = harness().app.core().clone();
    RUNTIME.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("no tokio runtime for the fuzz harness: {e}"));
            *slot = Some(rt);
        }
        match slot.as_ref() {
            Some(rt) => rt.block_on(crate::routes::route(&core, req)),
            None => unreachable!("the runtime was just built"),
        }
    })
}

fn post(path: &str, content_type: &str, headers: &[(&str, &str)], body: Vec<u8>) -> SimResponse {
    let mut all = vec![("content-type".to_owned(), content_type.to_owned())];
    all.extend(
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    call(SimRequest {
        method: "POST".into(),
        path: path.into(),
        query: None,
        headers: all,
        body: Bytes::from(body),
        too_large: false,
        local_addr: None,
    })
}

/// Panics (a finding) when the answer is the surface's internal error: the pipeline's mask for
/// a panic or a bug in an operation. Otherwise counts the answer's code for [`outcomes`].
fn check_answer(target: &str, surface: &str, response: &SimResponse, input: &[u8]) {
    let reply: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
    let code = match surface {
        "whalet" => reply["head"]["code"].as_str(),
        "pockyt" => reply["ret_code"].as_str(),
        _ => reply["code"].as_str(),
    };
    let internal = match surface {
        "whalet" | "file" => "INTERNAL_ERROR",
        "infinia" => "SYS-003",
        _ => pockyt::RetCode::SystemError.as_str(),
    };
    if code == Some(internal) {
        panic!(
            "{target}: the input got an internal error (a panic or a bug, see the log): {}\n\
             input: {:?}",
            String::from_utf8_lossy(response.body()),
            String::from_utf8_lossy(input)
        );
    }
    if RECORD.load(Ordering::Relaxed) {
        let key = format!("{target}:{}", code.unwrap_or("<no code>"));
        *OUTCOMES.lock().entry(key).or_default() += 1;
    }
}

/// Posts the JSON `body` to `path`, then checks the answer as [`check_answer`] does.
fn post_json(target: &str, surface: &str, path: &str, body: Vec<u8>, input: &[u8]) {
    let response = post(path, "application/json", &[], body);
    check_answer(target, surface, &response, input);
}

static RECORD: AtomicBool = AtomicBool::new(false);
static OUTCOMES: parking_lot::Mutex<BTreeMap<String, u64>> =
    parking_lot::Mutex::new(BTreeMap::new());

/// From now on, count the answer codes for [`outcomes`] (off under libFuzzer: wasted work).
pub fn record_outcomes() {
    RECORD.store(true, Ordering::Relaxed);
}

/// How often each answer code came back to `target` in this process since
/// [`record_outcomes`] (a target that goes through the pipeline): the smoke test checks that
/// the sealing got past the crypto.
pub fn outcomes(target: &str) -> BTreeMap<String, u64> {
    let prefix = format!("{target}:");
    OUTCOMES
        .lock()
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|code| (code.to_owned(), *v)))
        .collect()
}

/// Splits `<operation>\n<rest>`; the operation is trimmed and at most 64 characters.
fn split_operation(data: &[u8]) -> (String, &[u8]) {
    let (first, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let op: String = String::from_utf8_lossy(first)
        .trim()
        .chars()
        .take(64)
        .collect();
    (op, rest)
}

fn next_request_no() -> String {
    let n = harness().request_nos.fetch_add(1, Ordering::Relaxed);
    format!("FUZZ{n:012}")
}

/// `POST /api` with the input as the raw body: the Whalet envelope opener (JSON shape, partner,
/// signature) and the refusal it answers.
pub fn whalet_envelope(data: &[u8]) {
    if let Ok(sealed) = whalet::parse_request(data) {
        // The opener alone, with the demo keys (a signature that verifies is then decrypted).
        let h = harness();
        let _ = sealed.open(&h.platform_key, h.partner_key.public());
    }
    post_json("whalet_envelope", "whalet", "/api", data.to_vec(), data);
}

/// `<apiCode>\n<plaintext>`: the plaintext AES-encrypted under a session key wrapped for the
/// platform, signed by the demo partner, posted to `POST /api`: past the crypto into the body's
/// JSON and the operation's validation.
pub fn whalet_sealed(data: &[u8]) {
    let h = harness();
    let (api_code, plaintext) = split_operation(data);
    let Ok(ciphertext) = crypto::aes_ecb_encrypt(&SESSION_KEY, plaintext) else {
        return;
    };
    let echo = whalet::Echo {
        partner_id: DEMO_PARTNER_ID.into(),
        api_code,
        request_no: next_request_no(),
        version: whalet::VERSION.into(),
    };
    let encrypt = hex::encode(ciphertext);
    let sign = hex::encode(crypto::sign(
        &h.partner_key,
        SignatureHash::Sha1,
        whalet::request_sign_string(&echo, &encrypt).as_bytes(),
    ));
    let envelope = json!({
        "head": {
            "partnerId": echo.partner_id,
            "apiCode": echo.api_code,
            "requestNo": echo.request_no,
            "version": echo.version,
            "sign": sign,
            "keyEnc": h.whalet_key_enc,
        },
        "body": { "encrypt": encrypt },
    });
    let body = serde_json::to_vec(&envelope).unwrap_or_default();
    post_json("whalet_sealed", "whalet", "/api", body, data);
}

/// `<path>\n<body>`: the raw body to `POST /api/v1/<path>`: the Infinia request opener.
pub fn infinia_envelope(data: &[u8]) {
    let (path, body) = split_operation(data);
    if let Ok(sealed) = infinia::parse_request(body) {
        let _ = sealed.blocks(256);
    }
    let path = format!("/api/v1/{path}");
    post_json("infinia_envelope", "infinia", &path, body.to_vec(), data);
}

/// `<path>\n<plaintext>`: the plaintext (at most 4 RSA blocks) encrypted to Infinia and signed
/// by the demo merchant, posted to `POST /api/v1/<path>`.
pub fn infinia_sealed(data: &[u8]) {
    let h = harness();
    let (path, plaintext) = split_operation(data);
    let plaintext = &plaintext[..plaintext.len().min(MAX_INFINIA_PLAINTEXT)];
    let Ok(request_data) = infinia::encrypt_bytes(plaintext, &h.infinia_public) else {
        return;
    };
    let signature = infinia::sign(&h.merchant_key, h.infinia_alg, &request_data);
    let envelope = infinia::SealedRequest {
        version: "1.0".into(),
        app_id: DEMO_APP_ID.into(),
        data_type: infinia::DATA_TYPE.into(),
        request_data,
        signature,
    };
    let path = format!("/api/v1/{path}");
    post_json("infinia_sealed", "infinia", &path, envelope.to_json(), data);
}

/// Pockyt's content type for a body: a form unless it starts like JSON.
fn pockyt_content_type(body: &[u8]) -> &'static str {
    if body.trim_ascii_start().starts_with(b"{") {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    }
}

/// `<path>\n<body>`: the raw form or JSON body to `POST <path>` (Pockyt): field parsing and the
/// `verifySign` check as given.
pub fn pockyt_request(data: &[u8]) {
    let (path, body) = split_operation(data);
    let params_of = |fields: &Map<String, Value>| pockyt::params_of(fields);
    if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) {
        if let Some(Value::String(sign)) = fields.get("verifySign") {
            let _ = pockyt::verify(&params_of(&fields), DEMO_TOKEN, sign, &[]);
        }
    }
    let response = post(&path, pockyt_content_type(body), &[], body.to_vec());
    check_answer("pockyt_request", "pockyt", &response, data);
}

/// `<path>\n<fields>`: the fields (a JSON object, or a form) signed with the demo merchant's
/// token (`verifySign` replaced), re-encoded as they came and posted to `POST <path>`.
pub fn pockyt_signed(data: &[u8]) {
    let (path, body) = split_operation(data);
    let content_type = pockyt_content_type(body);
    let encoded = if content_type == "application/json" {
        let Ok(Value::Object(mut fields)) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        fields.remove("verifySign");
        let sign = pockyt::sign(&pockyt::params_of(&fields), DEMO_TOKEN);
        fields.insert("verifySign".into(), Value::String(sign));
        serde_json::to_vec(&Value::Object(fields)).unwrap_or_default()
    } else {
        let Ok(text) = std::str::from_utf8(body) else {
            return;
        };
        let fields: Map<String, Value> = crate::http::query_pairs(text.trim())
            .filter(|(k, _)| k != "verifySign")
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let pairs = pockyt::signed_pairs(&pockyt::params_of(&fields), DEMO_TOKEN);
        pockyt::form_encode(&pairs).into_bytes()
    };
    let response = post(&path, content_type, &[], encoded);
    check_answer("pockyt_signed", "pockyt", &response, data);
}

/// The raw body of `POST /file/upload` (`multipart/form-data; boundary=fuzzboundary`), sent with
/// a valid upload token of the demo partner in the headers (fields in the body override them):
/// the multipart parser, the token check and the file checks.
pub fn upload_multipart(data: &[u8]) {
    let h = harness();
    let response = post(
        "/file/upload",
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        &[
            ("partnerId", DEMO_PARTNER_ID),
            ("timestamp", &h.upload_timestamp),
            ("token", &h.upload_token),
        ],
        data.to_vec(),
    );
    check_answer("upload_multipart", "file", &response, data);
}

/// A trade-details CSV as uploaded over SFTP, applied to an app that already holds the sales of
/// `samples/infinia-trade-details.csv` (so returns can find their sale), and its error file.
pub fn sftp_trade_details(data: &[u8]) {
    const SAMPLE: &[u8] = include_bytes!("../samples/infinia-trade-details.csv");
    let mut state = crate::store::infinia::InfiniaState::default();
    let _ = crate::sftp::trade_details::apply(&mut state, "sample.csv", SAMPLE, 1000);
    let outcome = crate::sftp::trade_details::apply(&mut state, "fuzz.csv", data, 1000);
    let _ = outcome.error_csv();
}

/// A scenario file (TOML, or JSON when it starts with `{`): parsed and checked against the
/// simulator's triggers; when it loads, every surface asks it for a decision.
pub fn scenario_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let h = harness();
    let Ok(file) = crate::scenario::format::parse(text, "fuzz.toml", h.app.triggers()) else {
        return;
    };
    let engine = Scenarios::new();
    engine.load(file, None, "fuzz.toml");
    let fields = json!({"amount": "10.00", "currency": "USD", "userId": "U1", "n": 3});
    for (surface, provider, tenant, operation) in [
        ("whalet", Provider::Whalet, DEMO_PARTNER_ID, "payoutApply"),
        (
            "infinia",
            Provider::Infinia,
            DEMO_APP_ID,
            "account-balance/query",
        ),
        (
            "pockyt",
            Provider::Pockyt,
            DEMO_MERCHANT_NO,
            "/v3/payouts/pay",
        ),
    ] {
        let tenant = TenantId::new(provider, tenant.to_owned());
        let ctx = OperationCtx {
            surface,
            tenant: &tenant,
            operation,
            fields: &fields,
        };
        let _ = engine.decide(ctx);
        let _ = engine.explain(ctx);
        let _ = engine.list(Some(&tenant));
    }
}

/// The configuration file: parsed; when it parses and names no key file (`@path` would read
/// the machine's files), the whole simulator is built from it (keys, partners, apps, merchants).
pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::parse(text) else {
        return;
    };
    let _ = config.server.limits();
    if text.contains('@') {
        return;
    }
    let options = Options {
        clock_mode: Some(ClockMode::Manual),
        start_time: Some(START_MS),
        ..Options::default()
    };
    let _ = App::new(config, options);
}

/// Panics unless every tenant's ledger of the shared simulator still balances
/// (`GET /__sim/invariants`).
pub fn assert_invariants() {
    let response = call(SimRequest {
        method: "GET".into(),
        path: "/__sim/invariants".into(),
        query: None,
        headers: Vec::new(),
        body: Bytes::new(),
        too_large: false,
        local_addr: None,
    });
    let body: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
    assert_eq!(body["ok"], true, "ledger invariant broken: {body}");
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
