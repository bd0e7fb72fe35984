//! A served connection whose response writes may not stall: a client that stops reading (its
//! receive window full, e.g. many pipelined requests and no reads) would otherwise hold its
//! connection slot forever, since hyper's header-read timeout only runs while hyper reads.
//!
//! A waiting write is not proof of a stall: Linux reports a socket writable again only once a
//! third of its (autotuned, up to megabytes) send buffer is free, which a slow but steady reader
//! may take longer than the timeout to free. So when the timeout runs out the write is tried
//! once more on the socket itself: the kernel takes bytes if the client took any since the
//! queue filled, and only a queue that took none for the whole timeout is a stall.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
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
    /// Where the socket is kept when hyper drops it while a drain is asked for.
    after: Option<Arc<super::AfterClose>>,
}

impl StallGuarded {
    pub(crate) fn new(inner: TcpStream, stall: Duration) -> Self {
        Self {
            inner,
            stall,
            deadline: None,
            after: None,
        }
    }

    /// Keeps the socket in `after` when this is dropped with a drain asked for there
    /// ([`super::AfterClose`]), so that the connection's task can read what the client still
    /// sends before the socket closes.
    pub(crate) fn keep_for_drain(mut self, after: Arc<super::AfterClose>) -> Self {
        self.after = Some(after);
        self
    }

    /// Passes on the outcome of a write-side poll, unless the write has waited `stall`: then
    /// `retry` tries it once more on the socket itself, bypassing the readiness the runtime
    /// waits for (None: the kernel took nothing, the queue did not shrink). Taken bytes are
    /// progress and start a new wait; none means the client took no byte for `stall`, and the
    /// connection is reset (the client cannot read what is queued anyway, so the kernel does
    /// not keep it) and the write fails. Nothing of this runs while writes are ready.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
        retry: impl FnOnce(&TcpStream) -> Option<io::Result<T>>,
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
        self.deadline = None;
        if let Some(outcome) = retry(&self.inner) {
            return Poll::Ready(outcome);
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

/// The outcome of a write tried on the socket itself: None when it would block (the kernel
/// took nothing: the client took nothing since the queue filled). A client gone fails with
/// `EPIPE`, not a signal: Rust programs ignore `SIGPIPE`.
fn taken(written: rustix::io::Result<usize>) -> Option<io::Result<usize>> {
    match written {
        Err(rustix::io::Errno::AGAIN) => None,
        Err(errno) => Some(Err(errno.into())),
        Ok(n) => Some(Ok(n)),
    }
}

impl Drop for StallGuarded {
    fn drop(&mut self) {
        if let Some(after) = &self.after {
            after.keep(&self.inner);
        }
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
        self.watch(cx, polled, |socket| taken(rustix::io::write(socket, buf)))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, polled, |socket| taken(rustix::io::writev(socket, bufs)))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, polled, |_| None)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, polled, |_| None)
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

    /// A listener whose accepted sockets have a send buffer of about `bytes` (the kernel
    /// doubles it), and a client of it that reads `chunk` bytes every `pace` until the end.
    async fn slow_reader_pair(
        bytes: u32,
        chunk: usize,
        pace: Duration,
    ) -> (TcpStream, tokio::task::JoinHandle<usize>) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_send_buffer_size(bytes).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(8).unwrap();
        let peer = tokio::net::TcpSocket::new_v4().unwrap();
        peer.set_recv_buffer_size(16 * 1024).unwrap();
        let mut peer = peer.connect(listener.local_addr().unwrap()).await.unwrap();
        let (served, _) = listener.accept().await.unwrap();
        let reader = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut buf = vec![0u8; chunk];
            let mut total = 0;
            loop {
                match peer.read(&mut buf).await {
                    Ok(0) | Err(_) => return total,
                    Ok(n) => total += n,
                }
                tokio::time::sleep(pace).await;
            }
        });
        (served, reader)
    }

    /// A client reading steadily but slower than the stall bound lets a third of a large send
    /// buffer free (when Linux would report the socket writable again) still gets the whole
    /// answer: its progress restarts the wait.
    #[tokio::test]
    async fn a_slow_but_steady_reader_gets_the_whole_answer() {
        // About 2 MiB of send buffer; 8 KiB every 5 ms frees well under a third of it per 200 ms.
        let (served, reader) =
            slow_reader_pair(1024 * 1024, 8 * 1024, Duration::from_millis(5)).await;
        let mut guarded = StallGuarded::new(served, Duration::from_millis(200));
        let answer = vec![7u8; 3 * 1024 * 1024];
        let writing = async {
            guarded.write_all(&answer).await?;
            guarded.shutdown().await
        };
        tokio::time::timeout(Duration::from_secs(30), writing)
            .await
            .expect("the answer must be written within 30 s")
            .expect("a reader that keeps reading must not be cut off");
        drop(guarded);
        assert_eq!(reader.await.unwrap(), answer.len());
    }
}
