//! A bare HTTP/1.1 server for the tool's own peers on 127.0.0.1: the bench's echo floor and
//! notification receivers, and the partner-side receiver of `whalet-sim listen`. Each request's
//! body is read whole and answered by one function. It has none of the simulator's edge limits
//! ([`super::serve`]): only the tool's own traffic reaches it.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::StatusCode;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What a peer answers to one request.
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
}

impl Answer {
    /// 200 with a JSON body.
    pub fn json(body: Bytes) -> Self {
        Self {
            status: 200,
            content_type: "application/json",
            body,
        }
    }
}

/// Accepts connections on `listener` until `stop`, answering every request with `answer(body)`
/// (keep-alive, no Nagle delay).
pub async fn serve_bodies<F, Fut>(listener: TcpListener, stop: CancellationToken, answer: F)
where
    F: Fn(Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = stop.cancelled() => return,
        };
        let _ = stream.set_nodelay(true);
        let answer = answer.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<Incoming>| {
                let answer = answer.clone();
                async move {
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|c| c.to_bytes())
                        .unwrap_or_default();
                    let a = answer(body).await;
                    let mut response = hyper::Response::new(Full::new(a.body));
                    *response.status_mut() =
                        StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK);
                    response
                        .headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static(a.content_type));
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
