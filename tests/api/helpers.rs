//! `spawn_app()`: the simulator on 127.0.0.1:0 with a frozen clock (2025-01-01T00:00:00Z), the
//! demo partner's client, and a receiver standing in for the partner's notify URL.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use whalet_sim::clock::ClockMode;
use whalet_sim::config::Config;
use whalet_sim::http::client::HttpClient;
use whalet_sim::partner::receiver::{Mode, Receiver};
use whalet_sim::partner::WhaletClient;
use whalet_sim::{App, Options, RunningApp};

pub const START: &str = "2025-01-01T00:00:00Z";

pub struct TestApp {
    pub url: String,
    pub running: Option<RunningApp>,
    pub client: WhaletClient,
    pub receiver: Receiver,
    pub http: HttpClient,
}

/// Knobs for [`spawn_with`].
#[derive(Default)]
pub struct Setup {
    /// TOML configuration text.
    pub config: Option<String>,
    /// Receiver behaviour (default: acknowledge everything).
    pub receiver: Option<Mode>,
    /// Clock mode (default: manual).
    pub clock: Option<ClockMode>,
    pub scenario_files: Vec<PathBuf>,
    /// Do not point the demo tenants at the receiver.
    pub no_notify_url: bool,
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Setup::default()).await
}

/// The simulator started with `config` (TOML text) as its configuration.
pub async fn spawn_config(config: &str) -> TestApp {
    spawn_with(Setup {
        config: Some(config.into()),
        ..Setup::default()
    })
    .await
}

pub async fn spawn_with(setup: Setup) -> TestApp {
    let receiver = Receiver::demo(setup.receiver.unwrap_or(Mode::Ack { fail_first: 0 }))
        .await
        .unwrap();
    let mut config = match &setup.config {
        Some(text) => Config::parse(text).unwrap(),
        None => Config::default(),
    };
    // Parallel tests must not fight over the default SFTP port 2222.
    if !setup.config.as_deref().unwrap_or("").contains("sftp_addr") {
        config.infinia.sftp_addr = "127.0.0.1:0".into();
    }
    let options = Options {
        notify_url: (!setup.no_notify_url).then(|| receiver.url()),
        clock_mode: Some(setup.clock.unwrap_or(ClockMode::Manual)),
        start_time: Some(whalet_sim::app::parse_rfc3339(START).unwrap()),
        scenario_files: setup.scenario_files,
    };
    let app = App::new(config, options).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app.spawn(listener);
    let url = running.url();
    TestApp {
        client: WhaletClient::demo(&url),
        url,
        running: Some(running),
        receiver,
        http: HttpClient::new(),
    }
}

impl TestApp {
    pub fn app(&self) -> &App {
        &self.running.as_ref().unwrap().app
    }

    /// Fires trigger `name` with `params`, expects 200 and returns its `result`.
    pub async fn trigger_ok(&self, name: &str, params: Value) -> Value {
        let (status, body) = self.post(&format!("/__sim/trigger/{name}"), &params).await;
        assert_eq!(status, 200, "trigger {name} {params}: {body}");
        body["result"].clone()
    }

    /// One successful Whalet `connectivity` request (no notification): state a reset or a stray
    /// request would visibly change (the journal).
    pub async fn connectivity(&self) {
        let reply = self
            .client
            .call(
                "connectivity",
                &serde_json::json!({"notifyFlag": "N", "responseFlag": "Y"}),
            )
            .await
            .unwrap();
        assert_eq!(reply.code, "SUCCESS", "{reply:?}");
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(&format!("{}{path}", self.url), Duration::from_secs(60))
            .await
            .unwrap();
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let bytes = serde_json::to_vec(body).unwrap();
        let r = self
            .http
            .post(
                &format!("{}{path}", self.url),
                "application/json",
                bytes.into(),
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    /// Posts raw bytes to a path; returns status and body text.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
        let r = self
            .http
            .post(
                &format!("{}{path}", self.url),
                content_type,
                body.into(),
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        (r.status, String::from_utf8_lossy(&r.body).into_owned())
    }

    /// Advances the virtual clock, running everything that falls due.
    pub async fn advance(&self, seconds: f64) -> Value {
        let (status, body) = self
            .post(
                "/__sim/clock/advance",
                &serde_json::json!({ "seconds": seconds }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits (bounded) for a notification matching `query` (e.g. `apiCode=connectivityNotify`)
    /// to be delivered or exhausted.
    pub async fn wait_notification(&self, query: &str) -> Value {
        let (status, body) = self
            .get(&format!(
                "/__sim/notifications/wait?{query}&timeout_ms=10000"
            ))
            .await;
        assert_eq!(status, 200, "waiting for {query}: {body}");
        body
    }

    /// The ledger invariant holds for every tenant.
    pub async fn assert_invariants(&self) {
        let body = self.get_json("/__sim/invariants").await;
        assert_eq!(body["ok"], true, "ledger invariant broken: {body}");
    }

    /// The end of a test that moved money: asserts the ledger invariant for every tenant
    /// ([`TestApp::assert_invariants`]), then shuts the simulator down.
    pub async fn finish(self) {
        self.assert_invariants().await;
        self.shutdown().await;
    }

    pub async fn shutdown(mut self) {
        self.receiver.stop();
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }
}

/// The Python interpreter with `cryptography` (scripts/setup-python.sh), else `python3`.
pub fn python() -> String {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/target/pyenv/bin/python");
    if std::path::Path::new(venv).exists() {
        venv.to_owned()
    } else {
        "python3".to_owned()
    }
}

pub fn repo_path(rel: &str) -> String {
    format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// A partner client posting to `/v1/platform/{operation}` (whalet-platform, Whalet envelope).
pub fn platform_client(app: &TestApp, operation: &str) -> WhaletClient {
    let mut client = app.client.clone();
    client.url = format!("{}/v1/platform/{operation}", app.url);
    client
}

/// Calls a whalet-platform operation with the demo partner; returns (head.code, detail, body).
pub async fn platform_call(
    app: &TestApp,
    operation: &str,
    body: &Value,
) -> (String, String, Value) {
    let reply = platform_client(app, operation)
        .call(operation, body)
        .await
        .unwrap();
    (reply.code, reply.detail, reply.body.unwrap_or(Value::Null))
}

/// A request `(apiCode, requestNo)` by the demo partner whose decrypted body is `plaintext` byte
/// for byte (a number's text, white space, invalid JSON), correctly signed and encrypted under a
/// fresh 16-byte session key whose `keyEnc` RSA plaintext is `wrap(session key)`.
pub fn seal_text(
    app: &TestApp,
    (api_code, request_no): (&str, &str),
    plaintext: &[u8],
    wrap: impl Fn(&[u8]) -> Vec<u8>,
) -> Vec<u8> {
    use whalet_sim::wire::crypto::{self, SignatureHash};
    use whalet_sim::wire::whalet::{request_sign_string, Echo, VERSION};
    let key = crypto::random_key(16);
    let encrypt = hex::encode(crypto::aes_ecb_encrypt(&key, plaintext).unwrap());
    let key_enc =
        hex::encode(crypto::rsa_encrypt(&app.client.platform_public, &wrap(&key)).unwrap());
    let echo = Echo {
        partner_id: app.client.partner_id.clone(),
        api_code: api_code.into(),
        request_no: request_no.into(),
        version: VERSION.into(),
    };
    let signed = request_sign_string(&echo, &encrypt);
    let sign = hex::encode(crypto::sign(
        &app.client.key,
        SignatureHash::Sha1,
        signed.as_bytes(),
    ));
    serde_json::to_vec(&serde_json::json!({
        "head": {"partnerId": echo.partner_id, "apiCode": api_code, "requestNo": request_no,
                 "version": VERSION, "sign": sign, "keyEnc": key_enc},
        "body": {"encrypt": encrypt},
    }))
    .unwrap()
}

/// A second Whalet partner (same demo key pair) for isolation tests.
pub const SECOND_PARTNER: &str = "202400000000002";

/// Config text adding [`SECOND_PARTNER`].
pub fn second_partner_config() -> String {
    format!(
        "[[whalet.partners]]\npartner_id = \"{SECOND_PARTNER}\"\npublic_key = \"@{}\"\n",
        repo_path("keys/demo-partner/public.pem")
    )
}

impl TestApp {
    /// Loads a scenario at run time (`query` e.g. `tenant=whalet:1`); returns status and body.
    pub async fn load_scenario(&self, text: &str, query: &str) -> (u16, Value) {
        let r = self
            .http
            .post(
                &format!("{}/__sim/scenarios?{query}", self.url),
                "application/toml",
                text.as_bytes().to_vec().into(),
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    /// Sends a DELETE; returns status and body.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let r = reqwest::Client::new()
            .delete(format!("{}{path}", self.url))
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// The demo client acting as another partner id (same keys).
    pub fn client_as(&self, partner_id: &str) -> WhaletClient {
        let mut client = self.client.clone();
        client.partner_id = partner_id.to_owned();
        client
    }

    /// Journal and delivery ledger without wall-clock fields, without the partner receiver's
    /// answers (sealed with a fresh random session key each time) and without the URL each
    /// attempt went to (the receiver's port is the run's own): equal across identical runs.
    pub async fn transcript(&self) -> Value {
        let mut journal = self.get_json("/__sim/requests").await;
        let mut deliveries = self.get_json("/__sim/notifications").await;
        strip_wall(&mut journal);
        strip_wall(&mut deliveries);
        for n in deliveries["notifications"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            for a in n["attempts"].as_array_mut().into_iter().flatten() {
                a.as_object_mut().map(|a| a.remove("url"));
            }
        }
        serde_json::json!({"journal": journal, "notifications": deliveries})
    }
}

fn strip_wall(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for k in [
                "wallTime",
                "wallTimeUtc",
                "latencyUs",
                "latencyMs",
                "responseExcerpt",
            ] {
                map.remove(k);
            }
            map.values_mut().for_each(strip_wall);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_wall),
        _ => {}
    }
}

impl TestApp {
    /// GET returning status and body text (HTML pages).
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(&format!("{}{path}", self.url), Duration::from_secs(60))
            .await
            .unwrap();
        (r.status, String::from_utf8_lossy(&r.body).into_owned())
    }
}

/// The `whalet-sim` binary under test, as a command.
pub fn bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
}

/// Runs `cmd` off the async threads (a test server may be serving on them) and asserts that it
/// succeeded, showing its standard error if not.
pub async fn run_ok(mut cmd: std::process::Command) -> std::process::Output {
    let shown = format!("{cmd:?}");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{shown} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl TestApp {
    /// Logs in on the seller's page at `link` and posts `decision` (`approve`, `reject`) as a
    /// browser does: the login's 303 back to the link with the session cookie, the consent form
    /// there, the decision posted with its session. The client, the cookie, and the decision's
    /// own answer (not followed).
    pub async fn post_decision(
        &self,
        link: &str,
        decision: &str,
    ) -> (reqwest::Client, String, reqwest::Response) {
        let (login, password) = {
            let (l, p) = self.app().authorizations().credentials();
            (l.to_owned(), p.to_owned())
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let login_url = format!("{link}/login");
        let logged_in = client
            .post(&login_url)
            .form(&[("login", login.as_str()), ("password", password.as_str())])
            .send()
            .await
            .unwrap();
        let consent = redirected(&login_url, &logged_in);
        let set_cookie = logged_in.headers()["set-cookie"].to_str().unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let page = client
            .get(consent)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let session = page
            .split("name=\"session\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no decision form: {page}"))
            .to_owned();
        let decided = client
            .post(format!("{link}/decision"))
            .header("cookie", &cookie)
            .form(&[("session", session.as_str()), ("decision", decision)])
            .send()
            .await
            .unwrap();
        (client, cookie, decided)
    }

    /// [`post_decision`](Self::post_decision), then the decision's 303 followed to the result
    /// page (post-redirect-get); that page, which must be a 200.
    pub async fn decide_on_page(&self, link: &str, decision: &str) -> String {
        let (client, cookie, decided) = self.post_decision(link, decision).await;
        let done = client
            .get(redirected(&format!("{link}/decision"), &decided))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(done.status().as_u16(), 200);
        done.text().await.unwrap()
    }
}

/// Where the 303 `r` (an answer to `from`) sends the browser.
fn redirected(from: &str, r: &reqwest::Response) -> reqwest::Url {
    assert_eq!(r.status().as_u16(), 303, "{from}");
    let location = r.headers()["location"].to_str().unwrap();
    reqwest::Url::parse(from).unwrap().join(location).unwrap()
}
