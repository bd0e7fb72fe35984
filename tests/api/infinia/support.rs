//! Test support: the simulator with its SFTP server on a free port, a merchant client that
//! really seals and opens Infinia envelopes, a webhook receiver, and an `sftp` runner.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use whalet_sim::http::peer::{serve_bodies, Answer};
use whalet_sim::wire::crypto::SignatureHash;
use whalet_sim::wire::infinia::{self as envelope, OpenedReply};
use whalet_sim::wire::keys::{demo, PrivateKey, PublicKey};

use crate::helpers::{spawn_with, Setup, TestApp};

pub const SFTP_CONFIG: &str = "[infinia]\nsftp_addr = \"127.0.0.1:0\"\n";

/// The simulator with SFTP on a free port (plus `extra` TOML under `[infinia]`).
pub async fn spawn_infinia(extra: &str) -> TestApp {
    spawn_with(Setup {
        config: Some(format!("{SFTP_CONFIG}{extra}")),
        ..Default::default()
    })
    .await
}

pub struct Merchant {
    pub app_id: String,
    pub key: PrivateKey,
    pub infinia: PublicKey,
    pub alg: SignatureHash,
}

impl Merchant {
    pub fn demo() -> Self {
        Self {
            app_id: "demo-app".into(),
            key: PrivateKey::parse(demo::INFINIA_MERCHANT_PRIVATE).unwrap(),
            infinia: PublicKey::parse(demo::INFINIA_PUBLIC).unwrap(),
            alg: SignatureHash::Sha256,
        }
    }

    /// `data` sealed as this merchant's request envelope (JSON bytes).
    fn seal(&self, data: &Value) -> Vec<u8> {
        envelope::seal_request(
            "1.0",
            &self.app_id,
            data,
            &self.key,
            &self.infinia,
            self.alg,
        )
        .unwrap()
        .to_json()
    }

    /// Seals `data`, posts it to `/api/v1/{path}`, opens the reply.
    pub async fn call(&self, app: &TestApp, path: &str, data: &Value) -> OpenedReply {
        let (status, text) = app
            .post_raw(
                &format!("/api/v1/{path}"),
                "application/json",
                self.seal(data),
            )
            .await;
        assert_eq!(status, 200, "{text}");
        envelope::open_reply(text.as_bytes(), &self.key, &self.infinia, self.alg).unwrap()
    }

    /// Seals `data` and posts it to `/api/v1/{path}` with extra request `headers` (e.g. a `host`
    /// of the test's choosing); expects SUC-200 and returns the decrypted data.
    pub async fn ok_with_headers(
        &self,
        app: &TestApp,
        path: &str,
        data: &Value,
        headers: &[(&str, &str)],
    ) -> Value {
        let mut request = reqwest::Client::new()
            .post(format!("{}/api/v1/{path}", app.url))
            .header("content-type", "application/json");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let text = request
            .body(self.seal(data))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let reply =
            envelope::open_reply(text.as_bytes(), &self.key, &self.infinia, self.alg).unwrap();
        assert_eq!(reply.code, "SUC-200", "{path}: {}", reply.message);
        reply.data.unwrap()
    }

    /// Calls and expects SUC-200; returns the decrypted data.
    pub async fn ok(&self, app: &TestApp, path: &str, data: &Value) -> Value {
        let reply = self.call(app, path, data).await;
        assert_eq!(reply.code, "SUC-200", "{path}: {}", reply.message);
        reply.data.unwrap()
    }
}

/// Binds `seller` through the API and the approval trigger.
pub async fn bind(app: &TestApp, m: &Merchant, seller: &str) {
    let data = m
        .ok(
            app,
            "account-binding/request",
            &binding_request(&format!("ABR-{seller}"), seller),
        )
        .await;
    assert_eq!(data["bindingStatus"], "PENDING");
    let (status, body) = app
        .post(
            "/__sim/trigger/infinia.binding.approved",
            &json!({"requestNo": format!("ABR-{seller}"), "appId": m.app_id}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

pub fn binding_request(request_no: &str, seller: &str) -> Value {
    json!({
        "requestNo": request_no,
        "sellerId": seller,
        "sellerCertNo": "91310108MA1KXXXXXX",
        "sellerName": "Acme Trading Ltd.",
        "storeName": "Acme Official Store",
        "storeUrl": "https://store.example.com/acme",
        "entityType": "Corporate",
        "country": "CHN",
        "currency": "CNH",
        "note": "First-time binding",
        "backlinkUrl": format!("https://merchant.example.com/seller/{seller}"),
    })
}

/// One webhook as received.
#[derive(Debug, Clone)]
pub struct Hook {
    pub raw: Vec<u8>,
    pub envelope: Value,
    pub data: Option<Value>,
    pub signature_ok: bool,
}

/// The merchant's webhook endpoint: answers attempt n with `answers[n-1]`, then `200 SUCCESS`.
#[derive(Clone)]
pub struct HookReceiver {
    pub url: String,
    pub log: Arc<Mutex<Vec<Hook>>>,
}

impl HookReceiver {
    pub async fn start(answers: Vec<(u16, &'static str)>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/infinia/webhook", listener.local_addr().unwrap());
        let log: Arc<Mutex<Vec<Hook>>> = Arc::default();
        let me = Self {
            url,
            log: log.clone(),
        };
        let answer = move |body: Bytes| {
            let (log, answers) = (log.clone(), answers.clone());
            async move {
                let n = {
                    let mut log = log.lock();
                    log.push(open_hook(&body));
                    log.len()
                };
                let (status, text) = answers.get(n - 1).copied().unwrap_or((200, "SUCCESS"));
                Answer {
                    status,
                    content_type: "text/plain;charset=UTF-8",
                    body: Bytes::from_static(text.as_bytes()),
                }
            }
        };
        tokio::spawn(serve_bodies(listener, CancellationToken::new(), answer));
        me
    }

    pub fn hooks(&self) -> Vec<Hook> {
        self.log.lock().clone()
    }
}

fn open_hook(body: &[u8]) -> Hook {
    let merchant = PrivateKey::parse(demo::INFINIA_MERCHANT_PRIVATE).unwrap();
    let infinia = PublicKey::parse(demo::INFINIA_PUBLIC).unwrap();
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let sealed = envelope::parse_request(body).ok();
    let signature_ok = sealed.as_ref().is_some_and(|s| {
        envelope::verify_signature(
            &s.signature,
            &s.request_data,
            &infinia,
            SignatureHash::Sha256,
        )
        .is_ok()
    });
    let data =
        sealed.and_then(|s| envelope::decrypt_data("requestData", &s.request_data, &merchant).ok());
    Hook {
        raw: body.to_vec(),
        envelope: value,
        data,
        signature_ok,
    }
}

/// Points the demo app's seller status notifications at `url`.
pub fn set_hook_url(app: &TestApp, url: &str) {
    app.app()
        .infinia()
        .apps
        .get("demo-app")
        .unwrap()
        .notify_url
        .set(Some(url.to_owned()));
}

/// The bound SFTP port.
pub fn sftp_port(app: &TestApp) -> u16 {
    app.app()
        .infinia()
        .apps
        .sftp_addr()
        .expect("sftp bound")
        .port()
}

/// An SSH client in the test process that takes the simulator's host key as it comes.
pub struct SshClient;

impl russh::client::Handler for SshClient {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKey,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// An SSH connection to the simulator's SFTP server (version and key exchange done), not
/// logged in.
pub async fn ssh_connect(app: &TestApp) -> Result<russh::client::Handle<SshClient>, russh::Error> {
    let config = Arc::new(russh::client::Config::default());
    russh::client::connect(config, ("127.0.0.1", sftp_port(app)), SshClient).await
}

/// Whether `user` logs in with `password` on a new connection, and the connection.
pub async fn ssh_password(
    app: &TestApp,
    (user, password): (&str, &str),
) -> (bool, russh::client::Handle<SshClient>) {
    let mut ssh = ssh_connect(app).await.unwrap();
    let auth = ssh.authenticate_password(user, password).await.unwrap();
    (auth.success(), ssh)
}

/// A connection logged in as `demo-app` with its password.
pub async fn ssh_login(app: &TestApp) -> russh::client::Handle<SshClient> {
    let (ok, ssh) = ssh_password(app, ("demo-app", "demo-password")).await;
    assert!(ok, "demo-app did not log in with its password");
    ssh
}

/// An SFTP session on a new channel of `ssh`.
pub async fn sftp_session(
    ssh: &russh::client::Handle<SshClient>,
) -> russh_sftp::client::SftpSession {
    let channel = ssh.channel_open_session().await.unwrap();
    channel.request_subsystem(true, "sftp").await.unwrap();
    russh_sftp::client::SftpSession::new(channel.into_stream())
        .await
        .unwrap()
}

/// A private copy of the demo SFTP client key with mode 0600 (OpenSSH refuses looser modes).
pub fn client_key(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("id_ed25519");
    std::fs::copy(
        crate::helpers::repo_path("keys/demo-infinia-merchant/sftp_ed25519"),
        &path,
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

pub fn ssh_options(key: &Path) -> Vec<String> {
    [
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "PasswordAuthentication=no",
        "-o",
        "LogLevel=ERROR",
        "-i",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([key.display().to_string()])
    .collect()
}

/// Runs OpenSSH `sftp -b batch` as `user`; returns (success, stdout + stderr).
pub async fn sftp_batch(port: u16, dir: &Path, user: &str, commands: &str) -> (bool, String) {
    let key = client_key(dir);
    let batch = dir.join("batch");
    std::fs::write(&batch, commands).unwrap();
    let mut command = std::process::Command::new("sftp");
    command
        .arg("-b")
        .arg(&batch)
        .arg("-P")
        .arg(port.to_string())
        .args(ssh_options(&key))
        .args(["-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5"])
        .arg(format!("{user}@127.0.0.1"));
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || command.output()),
    )
    .await
    .expect("sftp finished within 60 s")
    .unwrap()
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Fails unless `reply` holds no JSON `null` at any depth: every field of this API is a string,
/// `""` when it has no value.
pub fn assert_no_nulls(what: &str, reply: &Value) {
    fn nulls(v: &Value, at: &str, found: &mut Vec<String>) {
        match v {
            Value::Null => found.push(at.to_owned()),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    nulls(item, &format!("{at}[{i}]"), found);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    nulls(item, &format!("{at}.{k}"), found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    nulls(reply, "", &mut found);
    assert!(found.is_empty(), "{what}: null at {found:?} in {reply}");
}

/// Polls (wall time, bounded) until `check` holds: for things that happen on another
/// connection (an SSH session ending), not for business time.
pub async fn eventually<F: FnMut() -> bool>(mut check: F) -> bool {
    for _ in 0..200 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The merchant's available balance and pending revenue sharing in USD
/// (`account-balance/query`).
pub async fn usd_balance(app: &TestApp, m: &Merchant) -> (String, String) {
    let b = m
        .ok(app, "account-balance/query", &json!({"currency": "USD"}))
        .await;
    let row = &b["accountBalances"][0];
    (
        row["availableBalance"].as_str().unwrap().into(),
        row["pendingRevenueSharing"].as_str().unwrap().into(),
    )
}
