//! Pockyt test support: a partner-side signer written independently of `src/wire/pockyt.rs`
//! (straight from spec §3.1), a `call` helper that signs and posts like a merchant's server, and
//! an IPN receiver that records what arrives and answers `success` (or fails on purpose).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use md5::{Digest, Md5};
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::helpers::{python, repo_path, TestApp};

pub const MERCHANT: &str = "202333";
pub const STORE: &str = "301854";
pub const TOKEN: &str = "demo-token";
pub const TS: &str = "2025-01-01T00:00:00Z";

fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

/// verifySign: sorted `name=value&` pairs (every field but verifySign, raw values) + md5(token).
pub fn sign(fields: &Map<String, Value>, token: &str) -> String {
    let mut names: Vec<&String> = fields.keys().filter(|k| *k != "verifySign").collect();
    names.sort();
    let mut s = String::new();
    for name in names {
        let value = match &fields[name] {
            Value::String(v) => v.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        s.push_str(&format!("{name}={value}&"));
    }
    md5_hex(&(s + &md5_hex(token)))
}

/// `fields` plus the demo credentials, a timestamp and verifySign.
pub fn signed(fields: Value) -> Value {
    let mut map = fields.as_object().cloned().unwrap_or_default();
    map.entry("merchantNo").or_insert(json!(MERCHANT));
    map.entry("storeNo").or_insert(json!(STORE));
    map.entry("timestamp").or_insert(json!(TS));
    let s = sign(&map, TOKEN);
    map.insert("verifySign".into(), json!(s));
    Value::Object(map)
}

/// Signs and posts; asserts HTTP 200 and returns the reply.
pub async fn call(app: &TestApp, path: &str, fields: Value) -> Value {
    let (status, body) = app.post(path, &signed(fields)).await;
    assert_eq!(status, 200, "POST {path}: {body}");
    body
}

/// Calls and asserts `000100`.
pub async fn ok(app: &TestApp, path: &str, fields: Value) -> Value {
    let body = call(app, path, fields).await;
    assert_eq!(body["ret_code"], "000100", "POST {path}: {body}");
    body
}

pub fn payee_fields(email: &str) -> Value {
    json!({
        "profileType": "INDIVIDUAL", "firstName": "John", "lastName": "Doe", "email": email,
        "dateOfBirth": "1999-01-01", "countryCode": "US", "state": "NY", "city": "hometown",
        "street": "123 main St", "zip": "10005",
    })
}

/// Registers a payee and lets the default review (10 s) activate it. Returns customerNo.
pub async fn active_payee(app: &TestApp, email: &str) -> String {
    let reply = ok(app, "/v3/payee/register", payee_fields(email)).await;
    app.advance(10.0).await;
    reply["customer"]["customerNo"].as_str().unwrap().to_owned()
}

/// Adds a bank account whose IPNs go to `ipn_url`. Returns accountToken.
pub async fn bank_account(app: &TestApp, customer_no: &str, ipn_url: &str) -> String {
    let reply = ok(
        app,
        "/v3/customers/account/create/bank-account",
        json!({
            "customerNo": customer_no, "accountType": "BANK_ACCOUNT", "accountCountry": "US",
            "accountCurrency": "USD", "accountTag": format!("tag-{customer_no}"),
            "bankAccountId": "000123455655", "bankName": "Chase", "ipnUrl": ipn_url,
            "clientIp": "127.0.0.1",
        }),
    )
    .await;
    reply["result"]["accountToken"].as_str().unwrap().to_owned()
}

pub async fn balance(app: &TestApp) -> String {
    let reply = ok(app, "/v3/payouts/balance", json!({"currency": "USD"})).await;
    reply["result"]["balance"].as_str().unwrap().to_owned()
}

/// Runs `scripts/pockyt_sign.py` with `args`, feeding `stdin`; returns (exit code, stdout+stderr).
pub fn pockyt_py(args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(python())
        .arg(repo_path("scripts/pockyt_sign.py"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(stdin.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// One IPN as received.
#[derive(Debug, Clone)]
pub struct Ipn {
    pub content_type: String,
    pub body: String,
}

impl Ipn {
    /// The fields, from a form or a JSON body.
    pub fn fields(&self) -> Map<String, Value> {
        if self.content_type.starts_with("application/json") {
            return serde_json::from_str(&self.body).unwrap();
        }
        self.body
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (decode(k), Value::String(decode(v)))
            })
            .collect()
    }
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

struct Inner {
    log: Mutex<Vec<Ipn>>,
    fail_first: Mutex<usize>,
    arrived: Notify,
}

/// The merchant's IPN endpoint.
#[derive(Clone)]
pub struct IpnReceiver {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

impl IpnReceiver {
    /// Answers `success`, except to the first `fail_first` IPNs (HTTP 200, body `fail`).
    pub async fn start(fail_first: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Inner {
            log: Mutex::new(Vec::new()),
            fail_first: Mutex::new(fail_first),
            arrived: Notify::new(),
        });
        let me = Self { addr, inner };
        let server = me.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let me = server.clone();
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let me = me.clone();
                    async move {
                        let content_type = req
                            .headers()
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let answer = {
                            let mut fail = me.inner.fail_first.lock();
                            if *fail > 0 {
                                *fail -= 1;
                                "fail"
                            } else {
                                "success\n"
                            }
                        };
                        me.inner.log.lock().push(Ipn {
                            content_type,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        });
                        me.inner.arrived.notify_waiters();
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(answer),
                        )))
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        me
    }

    pub fn url(&self) -> String {
        format!("http://{}/ipn", self.addr)
    }

    pub fn received(&self) -> Vec<Ipn> {
        self.inner.log.lock().clone()
    }

    /// Waits (bounded, wall time) until `n` IPNs arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Ipn> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.inner.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let log = self.received();
            if log.len() >= n {
                return log;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.received();
            }
        }
    }
}
