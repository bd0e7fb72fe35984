//! Outgoing HTTP (notifications to partners, the `call` and `bench` commands): one pooled client,
//! a wall-clock timeout per request, and errors as plain text for the delivery ledger.

use std::time::{Duration, Instant};

use bytes::Bytes;

/// What came back from a POST.
#[derive(Debug, Clone)]
pub struct ClientResponse {
    pub status: u16,
    /// The answer's body, at most [`MAX_ANSWER_BYTES`] of it.
    pub body: Bytes,
    pub latency: Duration,
    /// The `Location` of a redirect (redirects are never followed).
    pub location: Option<String>,
    /// The body was longer than [`MAX_ANSWER_BYTES`]; the rest was not read.
    pub truncated: bool,
}

/// How much of an answer is read: a partner's acknowledgement is a few hundred bytes, and a
/// hostile or broken endpoint must not make the simulator buffer more.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A cloneable, pooled HTTP client.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    /// Sent as `Authorization: Bearer …` with every request (the CLI's admin token).
    bearer: Option<String>,
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpClient {
    pub fn new() -> Self {
        let inner = reqwest::Client::builder()
            // A redirect answer is the partner's answer: judged (a failed attempt), not followed.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .build()
            .unwrap_or_default();
        Self {
            inner,
            bearer: None,
        }
    }

    /// The same client, sending `Authorization: Bearer {token}` with every request.
    pub fn with_bearer(self, token: &str) -> Self {
        Self {
            bearer: Some(format!("Bearer {token}")),
            ..self
        }
    }

    fn authorize(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.bearer {
            Some(value) => builder.header("authorization", value),
            None => builder,
        }
    }

    /// POSTs `body`; any transport failure or a timeout is an `Err` with the reason.
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Bytes,
        timeout: Duration,
    ) -> Result<ClientResponse, String> {
        let started = Instant::now();
        let sent = self
            .authorize(self.inner.post(url))
            .header("content-type", content_type)
            .body(body)
            .timeout(timeout)
            .send();
        read(sent.await, started, timeout).await
    }

    /// GET, for the CLI and tests.
    pub async fn get(&self, url: &str, timeout: Duration) -> Result<ClientResponse, String> {
        let started = Instant::now();
        let sent = self
            .authorize(self.inner.get(url))
            .timeout(timeout)
            .send()
            .await;
        read(sent, started, timeout).await
    }
}

/// Reads the answer to a request sent at `started`.
async fn read(
    sent: Result<reqwest::Response, reqwest::Error>,
    started: Instant,
    timeout: Duration,
) -> Result<ClientResponse, String> {
    let mut response = sent.map_err(|e| describe(&e, timeout))?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e, timeout))? {
        let room = MAX_ANSWER_BYTES - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(ClientResponse {
        status,
        body: body.into(),
        latency: started.elapsed(),
        location,
        truncated,
    })
}

fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("timed out after {} ms", timeout.as_millis())
    } else if e.is_connect() {
        format!("connection failed: {}", root_cause(e))
    } else {
        root_cause(e)
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
