//! The TCP stream of one SSH connection, with a switch that cuts it from outside: once `cut` is
//! cancelled, reads see end-of-file and writes fail, whatever the client does. The SSH library
//! owns the stream and, after a disconnect, waits for the client to close its side; a client
//! that never does (or that stalls a key exchange so the disconnect is never sent) would keep
//! the connection, and its slot, forever. Cutting ends the session task in every case.
//!
//! [`Framed`] wraps the SFTP byte stream of one session: it ends the stream at a frame longer
//! than the SFTP library takes, which would otherwise read on from inside that frame.

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

/// An SFTP byte stream read frame by frame (a 4-byte big-endian length, then that many bytes).
/// After a frame that announces more than `max` bytes the stream ends: the SFTP library refuses
/// that length and would then take every following 4 bytes for a new one, logging a warning for
/// each (a flood from one malformed frame). It now refuses once and sees the end of the stream.
pub struct Framed<S> {
    inner: S,
    max: u32,
    header: [u8; 4],
    have: usize,
    left: u64,
    ended: bool,
}

impl<S> Framed<S> {
    pub fn new(inner: S, max: u32) -> Self {
        Self {
            inner,
            max,
            header: [0; 4],
            have: 0,
            left: 0,
            ended: false,
        }
    }

    /// Follows the frames through `bytes`, just read; ends the stream at a frame too long.
    /// Returns how many of `bytes` to pass on: all of them, or those up to that frame's length.
    fn follow(&mut self, mut bytes: &[u8]) -> usize {
        let total = bytes.len();
        while !bytes.is_empty() && !self.ended {
            if self.left > 0 {
                let skip = bytes
                    .len()
                    .min(usize::try_from(self.left).unwrap_or(usize::MAX));
                self.left -= skip as u64;
                bytes = &bytes[skip..];
                continue;
            }
            self.header[self.have] = bytes[0];
            self.have += 1;
            bytes = &bytes[1..];
            if self.have == 4 {
                self.have = 0;
                let length = u32::from_be_bytes(self.header);
                self.ended = length > self.max;
                self.left = u64::from(length);
            }
        }
        total - bytes.len()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Framed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(Ok(())); // end of file
        }
        let start = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let kept = this.follow(&buf.filled()[start..]);
                buf.set_filled(start + kept);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Framed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::Framed;

    fn frame(length: u32, body: &[u8]) -> Vec<u8> {
        let mut out = length.to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }

    /// Frames within the limit pass unchanged, in reads of any size; the stream ends right
    /// after the length of a frame too long, whatever follows it.
    #[tokio::test]
    async fn the_stream_ends_after_a_frame_too_long() {
        let mut sent = frame(5, b"hello");
        sent.extend(frame(0, b""));
        sent.extend(frame(3, b"abc"));
        let good = sent.len();
        sent.extend(frame(1_000, b"")); // announces 1,000 bytes: over the limit of 100
        sent.extend([0u8; 64]);
        for chunk in [1, 3, 7, 4096] {
            let mut stream =
                Framed::new(tokio::io::BufReader::with_capacity(chunk, &sent[..]), 100);
            let mut got = Vec::new();
            loop {
                let mut buf = vec![0; chunk];
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, sent[..good + 4], "reads of {chunk}");
        }
        // A stream of good frames is passed through whole.
        let mut stream = Framed::new(&sent[..good], 100);
        let mut got = Vec::new();
        stream.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, sent[..good]);
    }
}
