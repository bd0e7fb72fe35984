//! The HTTP edge: the only module that imports hyper. Each request is converted once into a
//! [`SimRequest`] (body collected with a size limit) and given to the handler that [`serve`] was
//! started with (the route table lives above, in `routes`); the handler's [`SimResponse`] is
//! converted back. Knows nothing of the simulator. Connections drain on shutdown.

pub mod client;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use std::future::Future;

/// Hard ceiling on any request body (the file upload's 10 MB limit plus multipart overhead).
/// Surfaces apply their own, smaller limits to [`SimRequest::body`].
pub const MAX_BODY: usize = 11 * 1024 * 1024;

/// A request as handlers see it.
#[derive(Debug, Clone)]
pub struct SimRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The body exceeded [`MAX_BODY`]; `body` is empty then.
    pub too_large: bool,
}

impl SimRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        query_pairs(self.query.as_deref().unwrap_or(""))
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn query_pairs(&self) -> Vec<(String, String)> {
        query_pairs(self.query.as_deref().unwrap_or("")).collect()
    }
}

/// Splits `a=1&b=x%20y` into decoded pairs (`+` is a space, as in forms).
pub fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    })
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], decoded) {
            (_, Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (b, None) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub enum SimResponse {
    Reply {
        status: u16,
        content_type: &'static str,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    /// Close the connection without an answer (scenario fault injection).
    Drop,
}

impl SimResponse {
    pub fn json(status: u16, body: impl Into<Bytes>) -> Self {
        Self::with_type(status, "application/json;charset=UTF-8", body)
    }

    pub fn json_value(status: u16, value: &serde_json::Value) -> Self {
        Self::json(status, serde_json::to_vec(value).unwrap_or_default())
    }

    pub fn text(status: u16, body: impl Into<Bytes>) -> Self {
        Self::with_type(status, "text/plain;charset=UTF-8", body)
    }

    pub fn html(status: u16, body: impl Into<Bytes>) -> Self {
        Self::with_type(status, "text/html;charset=UTF-8", body)
    }

    pub fn with_type(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self::Reply {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header (no effect on `Drop`).
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        if let Self::Reply { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.into()));
        }
        self
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Reply { status, .. } => *status,
            Self::Drop => 0,
        }
    }

    pub fn body(&self) -> &[u8] {
        match self {
            Self::Reply { body, .. } => body,
            Self::Drop => b"",
        }
    }
}

/// Serves `listener` with `handler` until `shutdown` is cancelled, then drains open connections
/// (bounded).
pub async fn serve<H, F>(listener: TcpListener, handler: H, shutdown: CancellationToken)
where
    H: Fn(SimRequest) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = SimResponse> + Send + 'static,
{
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let service = service_fn(move |req| {
            let handler = handler.clone();
            async move { handle(handler, req, remote).await }
        });
        let builder = auto::Builder::new(TokioExecutor::new());
        let conn = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let watched = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = watched.await;
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections drained"),
        _ = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("gave up draining connections after 10 s"),
    }
}

type HyperResponse = hyper::Response<Full<Bytes>>;

/// Returned to hyper to close the connection without an answer.
#[derive(Debug)]
struct DroppedByScenario;

impl std::fmt::Display for DroppedByScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a scenario rule")
    }
}

impl std::error::Error for DroppedByScenario {}

async fn handle<H, F>(
    handler: H,
    req: hyper::Request<Incoming>,
    _remote: SocketAddr,
) -> Result<HyperResponse, DroppedByScenario>
where
    H: Fn(SimRequest) -> F,
    F: Future<Output = SimResponse>,
{
    let (parts, body) = req.into_parts();
    let (body, too_large) = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => (collected.to_bytes(), false),
        Err(_) => (Bytes::new(), true),
    };
    let request = SimRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body,
        too_large,
    };
    match handler(request).await {
        SimResponse::Reply {
            status,
            content_type,
            headers,
            body,
        } => {
            let mut builder = hyper::Response::builder()
                .status(status)
                .header(hyper::header::CONTENT_TYPE, content_type);
            for (k, v) in headers {
                builder = builder.header(k, v);
            }
            Ok(builder.body(Full::new(body)).unwrap_or_else(|_| {
                let mut r = hyper::Response::new(Full::new(Bytes::from_static(b"internal error")));
                *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
                r
            }))
        }
        SimResponse::Drop => Err(DroppedByScenario),
    }
}
