//! The TCP stream of one SSH connection, with a switch that cuts it from outside: once `cut` is
//! cancelled, reads see end-of-file and writes fail, whatever the client does. The SSH library
//! owns the stream and, after a disconnect, waits for the client to close its side; a client
//! that never does (or that stalls a key exchange so the disconnect is never sent) would keep
//! the connection, and its slot, forever. Cutting ends the session task in every case.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

pub struct Cuttable {
    inner: TcpStream,
    cut: CancellationToken,
    // One wait per direction: the read and write halves are polled by different futures.
    read_cut: Pin<Box<WaitForCancellationFutureOwned>>,
    write_cut: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl Cuttable {
    pub fn new(inner: TcpStream, cut: CancellationToken) -> Self {
        Self {
            inner,
            read_cut: Box::pin(cut.clone().cancelled_owned()),
            write_cut: Box::pin(cut.clone().cancelled_owned()),
            cut,
        }
    }
}

fn is_cut(
    token: &CancellationToken,
    wait: &mut Pin<Box<WaitForCancellationFutureOwned>>,
    cx: &mut Context<'_>,
) -> bool {
    // Polling registers the waker, so a pending read or write wakes up when the cut happens.
    token.is_cancelled() || wait.as_mut().poll(cx).is_ready()
}

impl AsyncRead for Cuttable {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if is_cut(&this.cut, &mut this.read_cut, cx) {
            return Poll::Ready(Ok(())); // end of file
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Cuttable {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if is_cut(&this.cut, &mut this.write_cut, cx) {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if is_cut(&this.cut, &mut this.write_cut, cx) {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.cut.is_cancelled() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}
