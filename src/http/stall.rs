//! A served connection whose response writes may not stall: a client that stops reading (its
//! receive window full, e.g. many pipelined requests and no reads) would otherwise hold its
//! connection slot forever, since hyper's header-read timeout only runs while hyper reads.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// A TCP stream whose writes fail with `TimedOut` once the client has taken no byte for
/// `stall` (`[server] write_stall_timeout_ms`); hyper then closes the connection.
pub(crate) struct StallGuarded {
    inner: TcpStream,
    stall: Duration,
    /// Running while a write waits for the client; cleared by any progress.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl StallGuarded {
    pub(crate) fn new(inner: TcpStream, stall: Duration) -> Self {
        Self {
            inner,
            stall,
            deadline: None,
        }
    }

    /// Passes on the outcome of a write-side poll, unless the write has waited `stall` without
    /// progress: then the connection is reset (the client cannot read what is queued anyway,
    /// so the kernel does not keep it) and the write fails.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.deadline = None;
            return polled;
        }
        let stall = self.stall;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        if deadline.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let _ = self.inner.set_zero_linger();
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the client took no byte of a response for {} ms ([server] write_stall_timeout_ms)",
                stall.as_millis()
            ),
        )))
    }
}

impl AsyncRead for StallGuarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallGuarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A peer that never reads: the writer's queue fills, and the write that then waits fails
    /// after the stall bound instead of waiting forever.
    #[tokio::test]
    async fn a_write_the_peer_never_takes_fails_after_the_stall_bound() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let _peer = socket.connect(addr).await.unwrap();
        let (served, _) = listener.accept().await.unwrap();
        let mut guarded = StallGuarded::new(served, Duration::from_millis(200));
        let chunk = vec![0u8; 64 * 1024];
        let writing = async {
            loop {
                guarded.write_all(&chunk).await?;
            }
        };
        let outcome: io::Result<()> = tokio::time::timeout(Duration::from_secs(10), writing)
            .await
            .expect("the stalled write must fail within the bound, not wait on");
        let err = outcome.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(err.to_string().contains("write_stall_timeout_ms"), "{err}");
    }
}
