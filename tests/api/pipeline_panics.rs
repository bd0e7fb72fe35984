//! The pipeline's panic guard, surface by surface: an operation that panics (or a request opening
//! that panics) is answered with that surface's own internal error, masked (the panic text never
//! reaches the partner), journaled with that code, and the server goes on serving.
//!
//! Each test sends a real, correctly sealed request of the surface straight into
//! `pipeline::handle` with the surface's scheme wrapped so that `run` (or `open`) panics, opens
//! the reply as the partner would, reads the journal over HTTP, then makes a normal call of the
//! same surface over real HTTP.

use bytes::Bytes;
use serde_json::{json, Value};
use whalet_sim::api::infinia::EcommerceApi;
use whalet_sim::api::pipeline::{self, Answer, Ctx, Opened, Refusal, Scheme, Trace};
use whalet_sim::api::platform::PlatformApi;
use whalet_sim::api::pockyt::PayoutsApi;
use whalet_sim::api::whalet::upload::FileUpload;
use whalet_sim::api::whalet::OpenApi;
use whalet_sim::core::Core;
use whalet_sim::http::{SimRequest, SimResponse};
use whalet_sim::wire::infinia::{self as infinia_wire, Code as InfiniaCode};
use whalet_sim::wire::pockyt::RetCode;
use whalet_sim::wire::whalet::{self as whalet_wire, Code as WhaletCode, OpenedReply};

use crate::helpers::{platform_call, platform_client, spawn_app, spawn_with, Setup, TestApp};
use crate::infinia::support::Merchant;
use crate::pockyt_support::{self as pockyt, signed};
use crate::whalet2_support::{file_token, multipart, now_ms, upload, DEMO_PARTNER_ID};
use crate::whalet_support::state;

const PANIC_TEXT: &str = "deliberate test panic";
/// The masked detail of the Whalet envelope surfaces, the Infinia API and the file upload.
const MASKED: &str = "internal error; see the simulator log";
/// Pockyt's masked `ret_msg`.
const POCKYT_MASKED: &str = "system error; see the simulator log";

/// Where the deliberate panic happens.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    /// In the operation.
    Run,
    /// While opening the request, after the surface's own `open` authenticated it (so the echo
    /// and the journal trace are filled, as in a late bug).
    Open,
}

/// A surface's scheme that panics at `Stage`; everything else is the surface's own.
struct Panicking<S>(S, Stage);

impl<S: Scheme> Scheme for Panicking<S> {
    const SURFACE: &'static str = S::SURFACE;
    type Echo = S::Echo;
    type Session = S::Session;
    type Error = S::Error;
    type Reply = S::Reply;

    fn body_limit(&self, core: &Core) -> usize {
        self.0.body_limit(core)
    }

    async fn open(
        &self,
        core: &Core,
        req: &SimRequest,
        route: &str,
        echo: &mut S::Echo,
        trace: &mut Trace,
    ) -> Result<Opened<S::Session>, Refusal<S::Error>> {
        let opened = self.0.open(core, req, route, echo, trace).await;
        if self.1 == Stage::Open {
            assert!(opened.is_ok(), "the request is correctly sealed");
            panic!("deliberate test panic");
        }
        opened
    }

    fn run(&self, ctx: &Ctx<'_, S::Session>, body: &Value) -> Result<S::Reply, S::Error> {
        if self.1 == Stage::Run {
            panic!("deliberate test panic");
        }
        self.0.run(ctx, body)
    }

    fn seal_reply(
        &self,
        core: &Core,
        echo: &S::Echo,
        opened: &Opened<S::Session>,
        reply: S::Reply,
        status: u16,
    ) -> Result<Answer, S::Error> {
        self.0.seal_reply(core, echo, opened, reply, status)
    }

    fn seal_refusal(
        &self,
        core: &Core,
        echo: &S::Echo,
        err: S::Error,
        status: Option<u16>,
    ) -> Answer {
        self.0.seal_refusal(core, echo, err, status)
    }
}

/// `POST path` as the HTTP edge would hand it to a surface.
fn post(app: &TestApp, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> SimRequest {
    let host = app.url.trim_start_matches("http://");
    let mut all = vec![("host".to_owned(), host.to_owned())];
    all.extend(
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    SimRequest {
        method: "POST".into(),
        path: path.into(),
        query: None,
        headers: all,
        body: Bytes::from(body),
        too_large: false,
        local_addr: None,
    }
}

fn core(app: &TestApp) -> &Core {
    app.app().core()
}

/// The answer's body as text, checked not to carry the panic's text.
fn wire_text(response: &SimResponse) -> String {
    assert!(
        matches!(response, SimResponse::Reply { .. }),
        "a panic is answered, not dropped"
    );
    let text = String::from_utf8_lossy(response.body()).into_owned();
    assert!(
        !text.contains(PANIC_TEXT) && !text.contains("panic"),
        "the panic text leaked to the partner: {text}"
    );
    text
}

/// The newest journal entry (read over HTTP), checked to be `surface`'s with `code` and `detail`.
async fn journaled(app: &TestApp, surface: &str, code: &str, detail: &str) -> Value {
    let journal = app
        .get_json(&format!("/__sim/requests?surface={surface}"))
        .await;
    let entry = journal["requests"][0].clone();
    assert_eq!(entry["surface"], surface, "{journal}");
    assert_eq!(entry["code"], code, "{entry}");
    assert_eq!(entry["detail"], detail, "{entry}");
    assert!(
        !entry["detail"].as_str().unwrap().contains(PANIC_TEXT)
            && !entry["reply"].to_string().contains(PANIC_TEXT),
        "the journaled reply is what the partner got: {entry}"
    );
    entry
}

/// Opens a Whalet-envelope reply with the demo partner's keys, as the partner would.
fn open_whalet(app: &TestApp, response: &SimResponse) -> OpenedReply {
    assert_eq!(response.status(), 200);
    whalet_wire::open_reply(
        wire_text(response).as_bytes(),
        &app.client.key,
        &app.client.platform_public,
    )
    .unwrap()
}

fn ping() -> Value {
    json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "ping"})
}

/// Asserts the Open API still answers `connectivity` over HTTP.
async fn connectivity_still_works(app: &TestApp) {
    let reply = app.client.call("connectivity", &ping()).await.unwrap();
    assert_eq!(reply.code, "SUCCESS", "{}", reply.detail);
    assert_eq!(reply.body, Some(json!({"messge": "ping"})));
}

#[tokio::test]
async fn open_api_panic_in_the_operation_is_a_masked_internal_error_and_serving_goes_on() {
    let app = spawn_app().await;
    let request_no = app.client.next_request_no();
    let sealed = app.client.seal("connectivity", &request_no, &ping());
    let req = post(
        &app,
        "/api",
        &[("content-type", "application/json;charset=UTF-8")],
        sealed,
    );
    let response = pipeline::handle(&Panicking(OpenApi, Stage::Run), core(&app), req, "").await;
    let reply = open_whalet(&app, &response);
    assert_eq!(reply.code, WhaletCode::InternalError.as_str());
    assert_eq!(reply.code, "INTERNAL_ERROR");
    assert_eq!(reply.detail, MASKED);
    assert_eq!(reply.body, None, "a refusal is head-only");
    assert_eq!(reply.echo.request_no, request_no, "the head is echoed");
    assert_eq!(reply.echo.api_code, "connectivity");
    let entry = journaled(&app, "whalet", "INTERNAL_ERROR", MASKED).await;
    assert_eq!(entry["requestNo"], request_no.as_str());
    assert_eq!(entry["operation"], "connectivity");
    assert_eq!(entry["tenant"], format!("whalet:{DEMO_PARTNER_ID}"));
    assert_eq!(
        entry["request"]["responseMessage"], "ping",
        "decrypted request"
    );
    connectivity_still_works(&app).await;
    app.shutdown().await;
}

#[tokio::test]
async fn open_api_panic_while_opening_the_request_is_caught_the_same_way() {
    let app = spawn_app().await;
    let request_no = app.client.next_request_no();
    let sealed = app.client.seal("connectivity", &request_no, &ping());
    let req = post(
        &app,
        "/api/connectivity",
        &[("content-type", "application/json;charset=UTF-8")],
        sealed,
    );
    let response = pipeline::handle(
        &Panicking(OpenApi, Stage::Open),
        core(&app),
        req,
        "connectivity",
    )
    .await;
    let reply = open_whalet(&app, &response);
    assert_eq!(reply.code, "INTERNAL_ERROR");
    assert_eq!(reply.detail, MASKED);
    assert_eq!(reply.body, None);
    assert_eq!(reply.echo.request_no, request_no);
    let entry = journaled(&app, "whalet", "INTERNAL_ERROR", MASKED).await;
    assert_eq!(entry["requestNo"], request_no.as_str());
    assert_eq!(entry["operation"], "connectivity");
    connectivity_still_works(&app).await;
    app.shutdown().await;
}

#[tokio::test]
async fn platform_panic_is_a_masked_internal_error_in_the_envelope_and_serving_goes_on() {
    let app = spawn_app().await;
    let client = platform_client(&app, "balanceQuery");
    let request_no = client.next_request_no();
    let sealed = client.seal("balanceQuery", &request_no, &json!({"currency": "USD"}));
    let req = post(
        &app,
        "/v1/platform/balanceQuery",
        &[("content-type", "application/json;charset=UTF-8")],
        sealed,
    );
    let response = pipeline::handle(
        &Panicking(PlatformApi::new(false), Stage::Run),
        core(&app),
        req,
        "balanceQuery",
    )
    .await;
    let reply = open_whalet(&app, &response);
    assert_eq!(reply.code, "INTERNAL_ERROR");
    assert_eq!(reply.detail, MASKED);
    assert_eq!(reply.body, None);
    assert_eq!(reply.echo.request_no, request_no);
    assert_eq!(reply.echo.api_code, "balanceQuery");
    let entry = journaled(&app, "platform", "INTERNAL_ERROR", MASKED).await;
    assert_eq!(entry["requestNo"], request_no.as_str());
    assert_eq!(entry["operation"], "balanceQuery");
    let (code, detail, body) =
        platform_call(&app, "balanceQuery", &json!({"currency": "USD"})).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    assert_eq!(body["balances"][0]["currency"], "USD", "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn platform_plain_json_panic_is_a_masked_500_and_serving_goes_on() {
    let app = spawn_with(Setup {
        config: Some("[platform]\nauth = \"none\"\n".into()),
        ..Default::default()
    })
    .await;
    let body = serde_json::to_vec(&json!({"currency": "USD"})).unwrap();
    let headers = [
        ("content-type", "application/json"),
        ("partnerId", DEMO_PARTNER_ID),
        ("requestNo", "PANIC-PLAIN-1"),
    ];
    let req = post(&app, "/v1/platform/balanceQuery", &headers, body.clone());
    let response = pipeline::handle(
        &Panicking(PlatformApi::new(true), Stage::Run),
        core(&app),
        req,
        "balanceQuery",
    )
    .await;
    assert_eq!(response.status(), 500);
    let reply: Value = serde_json::from_str(&wire_text(&response)).unwrap();
    assert_eq!(reply, json!({"code": "INTERNAL_ERROR", "detail": MASKED}));
    let entry = journaled(&app, "platform", "INTERNAL_ERROR", MASKED).await;
    assert_eq!(entry["requestNo"], "PANIC-PLAIN-1");
    assert_eq!(entry["httpStatus"], 500);
    let (status, text) = app
        .post_raw("/v1/platform/balanceQuery", "application/json", body)
        .await;
    assert_eq!(status, 200, "{text}");
    let ok: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(ok["balances"][0]["currency"], "USD", "{ok}");
    app.shutdown().await;
}

#[tokio::test]
async fn infinia_panic_is_a_masked_sys_003_and_serving_goes_on() {
    let app = spawn_app().await;
    let m = Merchant::demo();
    let data = json!({"requestNo": "PANIC-INF-1", "currency": "USD"});
    let sealed =
        infinia_wire::seal_request("1.0", &m.app_id, &data, &m.key, &m.infinia, m.alg).unwrap();
    let req = post(
        &app,
        "/api/v1/account-balance/query",
        &[("content-type", "application/json")],
        sealed.to_json(),
    );
    let response = pipeline::handle(
        &Panicking(EcommerceApi, Stage::Run),
        core(&app),
        req,
        "account-balance/query",
    )
    .await;
    assert_eq!(response.status(), 200);
    let text = wire_text(&response);
    let reply = infinia_wire::open_reply(text.as_bytes(), &m.key, &m.infinia, m.alg).unwrap();
    assert_eq!(reply.code, InfiniaCode::InternalError.as_str());
    assert_eq!(reply.code, "SYS-003");
    assert_eq!(reply.message, MASKED);
    assert_eq!(reply.app_id, m.app_id);
    assert_eq!(reply.data, None);
    let entry = journaled(&app, "infinia", "SYS-003", MASKED).await;
    assert_eq!(entry["requestNo"], "PANIC-INF-1");
    assert_eq!(entry["operation"], "account-balance/query");
    let balance = m
        .ok(&app, "account-balance/query", &json!({"currency": "USD"}))
        .await;
    assert!(balance.is_object(), "{balance}");
    app.shutdown().await;
}

#[tokio::test]
async fn pockyt_panic_is_a_masked_system_error_and_serving_goes_on() {
    let app = spawn_app().await;
    let fields = signed(json!({"currency": "USD"}));
    let req = post(
        &app,
        "/v3/payouts/balance",
        &[("content-type", "application/json")],
        serde_json::to_vec(&fields).unwrap(),
    );
    let response = pipeline::handle(
        &Panicking(PayoutsApi, Stage::Run),
        core(&app),
        req,
        "/v3/payouts/balance",
    )
    .await;
    assert_eq!(response.status(), 200);
    let reply: Value = serde_json::from_str(&wire_text(&response)).unwrap();
    assert_eq!(reply["ret_code"], RetCode::SystemError.as_str());
    assert_eq!(reply["ret_code"], "000000");
    assert_eq!(reply["ret_msg"], POCKYT_MASKED);
    let entry = journaled(&app, "pockyt", "000000", POCKYT_MASKED).await;
    assert_eq!(entry["operation"], "/v3/payouts/balance");
    assert_eq!(entry["tenant"], format!("pockyt:{}", pockyt::MERCHANT));
    let balance = pockyt::balance(&app).await;
    assert!(!balance.is_empty());
    app.shutdown().await;
}

#[tokio::test]
async fn upload_panic_is_a_masked_internal_error_nothing_is_stored_and_serving_goes_on() {
    let app = spawn_app().await;
    let ts = now_ms(&app).await.to_string();
    let token = file_token(ts.parse().unwrap());
    let (content_type, body) = multipart(
        &[
            ("partnerId", DEMO_PARTNER_ID),
            ("timestamp", &ts),
            ("token", &token),
        ],
        Some(("orders.csv", b"name,amount\nwidget,10.00\n")),
    );
    let req = post(
        &app,
        "/file/upload",
        &[("content-type", &content_type)],
        body,
    );
    let response = pipeline::handle(
        &Panicking(FileUpload, Stage::Run),
        core(&app),
        req,
        "/file/upload",
    )
    .await;
    assert_eq!(response.status(), 200);
    let reply: Value = serde_json::from_str(&wire_text(&response)).unwrap();
    assert_eq!(
        reply,
        json!({"code": "INTERNAL_ERROR", "detail": MASKED, "info": null})
    );
    let entry = journaled(&app, "file", "INTERNAL_ERROR", MASKED).await;
    assert_eq!(entry["operation"], "/file/upload");
    assert_eq!(entry["request"]["fileName"], "orders.csv");
    let stored = state(&app).await["whaletTrade"]["files"]
        .as_object()
        .map_or(0, |m| m.len());
    assert_eq!(stored, 0, "the panicking upload stored nothing");
    let info = upload(&app, "orders.csv", b"name,amount\nwidget,10.00\n").await;
    assert_eq!(info["fileName"], "orders.csv");
    app.shutdown().await;
}
