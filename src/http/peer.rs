//! A small HTTP/1.1 server for the tool's own peers: the bench's echo floor and notification
//! receivers, and test receivers. Each request's body is read whole and answered by one
//! function. It is served by the edge itself ([`super::serve`]), so a peer has the simulator's
//! limits ([`super::Limits`]: header- and body-read timeouts, the connection cap, the back-off
//! when an accept fails) and one body limit, [`BODY_LIMIT`], for every path: a peer listens on a
//! port anyone on the machine can reach, not only the tool's own traffic.

use std::future::Future;

use bytes::Bytes;

use super::{Handler, Limits, SimRequest, SimResponse};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The largest body a peer reads (1 MiB, the simulator's own default body limit); a larger one
/// is answered 413 without being read.
pub const BODY_LIMIT: usize = 1024 * 1024;

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
/// (keep-alive, no Nagle delay), within the edge's default [`Limits`] and [`BODY_LIMIT`].
pub async fn serve_bodies<F, Fut>(listener: TcpListener, stop: CancellationToken, answer: F)
where
    F: Fn(Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    super::serve(listener, Peer(answer), Limits::default(), stop).await;
}

/// [`serve_bodies`]'s answer function as the edge's handler.
#[derive(Clone)]
struct Peer<F>(F);

impl<F, Fut> Handler for Peer<F>
where
    F: Fn(Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    fn body_limit(&self, _method: &str, _path: &str) -> usize {
        BODY_LIMIT
    }

    fn call(&self, req: SimRequest) -> impl Future<Output = SimResponse> + Send {
        let answer = self.0.clone();
        async move {
            if req.too_large {
                return SimResponse::text(413, format!("the body is over {BODY_LIMIT} bytes"));
            }
            let a = answer(req.body).await;
            SimResponse::with_type(a.status, a.content_type, a.body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn echo() -> (std::net::SocketAddr, CancellationToken) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        tokio::spawn(serve_bodies(listener, stop.clone(), |body| async move {
            Answer::json(body)
        }));
        (addr, stop)
    }

    /// A body over the limit is answered 413 without being read; one within it is answered.
    #[tokio::test]
    async fn a_body_over_the_limit_is_answered_413_unread() {
        let (addr, stop) = echo().await;
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/");
        let big = client.post(&url).body(vec![b'x'; BODY_LIMIT + 1]).send();
        assert_eq!(big.await.unwrap().status(), 413);
        let small = client.post(&url).body("{}").send().await.unwrap();
        assert_eq!(small.status(), 200);
        assert_eq!(small.text().await.unwrap(), "{}");
        stop.cancel();
    }

    /// A connection that sends half a request head is closed by the header-read timeout, not
    /// held forever.
    #[tokio::test(start_paused = true)]
    async fn half_a_request_head_is_not_held_forever() {
        let (addr, stop) = echo().await;
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"POST / HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        let mut rest = Vec::new();
        let read = tokio::time::timeout(
            Limits::default().header_read_timeout + Duration::from_secs(5),
            client.read_to_end(&mut rest),
        )
        .await;
        assert!(read.is_ok(), "the connection is still open");
        stop.cancel();
    }
}
