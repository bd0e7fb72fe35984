//! The TCP stream of one SSH connection, with a switch that cuts it from outside: once `cut` is
//! cancelled, reads see end-of-file and writes fail, whatever the client does. The SSH library
//! owns the stream and, after a disconnect, waits for the client to close its side; a client
//! that never does (or that stalls a key exchange so the disconnect is never sent) would keep
//! the connection, and its slot, forever. Cutting ends the session task in every case. The
//! stream also notes when the client last sent a byte ([`Conn`]): the connection task closes a
//! connection idle for `sftp_idle_timeout_ms` itself, whatever state the SSH library is in.
//!
//! [`Drained`] is the SFTP byte stream of one session channel: it takes every message the SSH
//! library hands the channel at once, so the library's session loop never waits on the SFTP
//! task (see its docs), and holds what the SFTP task has not read yet, up to
//! [`MAX_UNREAD_BYTES`] per connection. [`Framed`] wraps it: it ends the stream at a frame
//! longer than the SFTP library takes, which would otherwise read on from inside that frame.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use russh::server::Msg;
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Bytes of SFTP requests one connection may have sent that its SFTP sessions have not read yet
/// (all its channels together). The SSH library opens the channel window again as soon as data
/// arrives, not as it is read, so nothing else bounds what a client that sends requests without
/// reading the replies makes the server hold; past this the connection is closed, naming it.
/// 32 MiB is what OpenSSH's `sftp -R 1024` (its most requests in flight, of 32 KiB each) can
/// have in flight; a client that reads its replies is never near it.
pub const MAX_UNREAD_BYTES: usize = 32 * 1024 * 1024;

/// One connection as its task watches it beside the SSH library ([`super::connection`]): when
/// the client last sent a byte (noted by [`Cuttable`]), the account it logged in as, a request
/// from inside the session to close it ([`Conn::ask_close`]), and why the server closed it
/// ([`Conn::closed_why`], for the uploads it leaves open).
pub struct Conn {
    started: Instant,
    /// Milliseconds from `started` to the last byte read from the client.
    last_read: AtomicU64,
    /// Bytes its SFTP sessions have received and not read yet ([`MAX_UNREAD_BYTES`]).
    unread: AtomicUsize,
    user: Mutex<Option<String>>,
    asked: Mutex<Option<String>>,
    close_asked: CancellationToken,
    why: Mutex<Option<String>>,
    /// Cancelled to cut the TCP stream, and when the connection task ends however it ends: the
    /// connection's SFTP streams end then too (their sessions let go of their files).
    pub cut: CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Conn {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            last_read: AtomicU64::new(0),
            unread: AtomicUsize::new(0),
            user: Mutex::new(None),
            asked: Mutex::new(None),
            close_asked: CancellationToken::new(),
            why: Mutex::new(None),
            cut: CancellationToken::new(),
        })
    }

    fn read_now(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_read.fetch_max(ms, Ordering::Relaxed);
    }

    /// When the client last sent a byte (the accept, before its first).
    pub fn last_read(&self) -> Instant {
        self.started + Duration::from_millis(self.last_read.load(Ordering::Relaxed))
    }

    /// Completes once the client has sent no byte for `idle` (never with None).
    pub async fn idle(&self, idle: Option<Duration>) {
        let Some(idle) = idle else {
            return std::future::pending().await;
        };
        loop {
            let due = self.last_read() + idle;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due).await;
        }
    }

    pub fn logged_in(&self, user: &str) {
        *lock(&self.user) = Some(user.to_owned());
    }

    /// The account logged in, or `-`.
    pub fn user(&self) -> String {
        lock(&self.user).clone().unwrap_or_else(|| "-".to_owned())
    }

    /// Asks the connection task to close the connection for `why` (the first reason wins).
    pub fn ask_close(&self, why: String) {
        lock(&self.asked).get_or_insert(why);
        self.close_asked.cancel();
    }

    /// Completes with the reason once something inside the session asked to close it.
    pub async fn close_asked(&self) -> String {
        self.close_asked.cancelled().await;
        lock(&self.asked).clone().unwrap_or_default()
    }

    /// The server is closing the connection for `why`.
    pub fn closing(&self, why: &str) {
        lock(&self.why).get_or_insert_with(|| why.to_owned());
    }

    /// Why the server closed the connection; None while open or when the client ended it.
    pub fn closed_why(&self) -> Option<String> {
        lock(&self.why).clone()
    }
}

pub struct Cuttable {
    inner: TcpStream,
    conn: Arc<Conn>,
    cut: CancellationToken,
    // One wait per direction: the read and write halves are polled by different futures.
    read_cut: Pin<Box<WaitForCancellationFutureOwned>>,
    write_cut: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl Cuttable {
    pub fn new(inner: TcpStream, conn: Arc<Conn>) -> Self {
        let cut = conn.cut.clone();
        Self {
            inner,
            conn,
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
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.conn.read_now();
        }
        read
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

/// The SFTP byte stream of one session channel, in place of the SSH library's own
/// (`Channel::into_stream`). The library's session loop hands each incoming message to the
/// channel through a bounded queue and waits while it is full; the SFTP task answers one request
/// at a time and each answer waits for the client's window, which only that loop reads. A
/// client that pipelines many requests (paramiko's `get` of a file of a few MB) filled the queue
/// while the SFTP task waited for the window: the loop waited on the queue, nothing read the
/// socket again, and the connection stayed so forever. Here a task of its own empties the queue
/// as messages come, so the loop never waits on the SFTP task; what the SFTP task has not read
/// yet is bounded by [`MAX_UNREAD_BYTES`] for the connection, past which the connection task is
/// asked to close the connection. The stream ends when the client sends EOF or closes the
/// channel, and at once when the connection is cut ([`Conn::cut`]); dropping it closes the
/// channel.
pub struct Drained<W> {
    incoming: mpsc::UnboundedReceiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
    writer: W,
    conn: Arc<Conn>,
    read_cut: Pin<Box<WaitForCancellationFutureOwned>>,
    write_cut: Pin<Box<WaitForCancellationFutureOwned>>,
    /// Closed when the stream is dropped.
    channel: Option<ChannelWriteHalf<Msg>>,
    /// An answer could not be sent (the session is gone): the requests still unread are not
    /// read (each would fail again, and be logged), the stream ends.
    broken: bool,
}

/// A [`Drained`] stream for `channel`'s two halves, of connection `conn`.
pub fn drained(
    (read, write): (ChannelReadHalf, ChannelWriteHalf<Msg>),
    conn: Arc<Conn>,
) -> Drained<impl AsyncWrite + Unpin + Send + Sync + 'static> {
    let (tx, incoming) = mpsc::unbounded_channel();
    tokio::spawn(pump(read, tx, Arc::clone(&conn)));
    Drained {
        incoming,
        chunk: Vec::new(),
        at: 0,
        writer: write.make_writer(),
        read_cut: Box::pin(conn.cut.clone().cancelled_owned()),
        write_cut: Box::pin(conn.cut.clone().cancelled_owned()),
        conn,
        channel: Some(write),
        broken: false,
    }
}

/// Takes every message the SSH library hands the channel as it comes, passing its data on to
/// the [`Drained`] stream, until the client's EOF, the channel's end, the stream's drop, the
/// connection's cut, or too much unread.
async fn pump(mut channel: ChannelReadHalf, tx: mpsc::UnboundedSender<Vec<u8>>, conn: Arc<Conn>) {
    loop {
        let msg = tokio::select! {
            msg = channel.wait() => msg,
            () = conn.cut.cancelled() => return,
        };
        match msg {
            Some(ChannelMsg::Data { data }) => {
                let unread = conn.unread.fetch_add(data.len(), Ordering::Relaxed) + data.len();
                if unread > MAX_UNREAD_BYTES {
                    conn.ask_close(format!(
                        "the client has sent {unread} bytes of SFTP requests the server has not \
                         read yet, more than the {MAX_UNREAD_BYTES} one connection may have \
                         waiting (it sends requests without reading the replies); keep fewer \
                         requests in flight and read the replies as they come"
                    ));
                    return;
                }
                if tx.send(data.to_vec()).is_err() {
                    return;
                }
            }
            Some(ChannelMsg::Eof) | None => return,
            Some(_) => {}
        }
    }
}

impl<W> Drop for Drained<W> {
    fn drop(&mut self) {
        let unread = self.chunk.len() - self.at;
        self.incoming.close();
        let mut dropped = unread;
        while let Ok(chunk) = self.incoming.try_recv() {
            dropped += chunk.len();
        }
        self.conn.unread.fetch_sub(dropped, Ordering::Relaxed);
        if let Some(channel) = self.channel.take() {
            // As the library's own stream does; bounded, should the session be gone.
            tokio::spawn(async move {
                let _ = tokio::time::timeout(super::CUT_AFTER, channel.close()).await;
            });
        }
    }
}

impl<W: Unpin> AsyncRead for Drained<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.broken || is_cut(&this.conn.cut, &mut this.read_cut, cx) {
            return Poll::Ready(Ok(())); // end of file
        }
        if this.at == this.chunk.len() {
            match this.incoming.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => (this.chunk, this.at) = (chunk, 0),
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = buf.remaining().min(this.chunk.len() - this.at);
        buf.put_slice(&this.chunk[this.at..this.at + n]);
        this.at += n;
        this.conn.unread.fetch_sub(n, Ordering::Relaxed);
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Drained<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if is_cut(&this.conn.cut, &mut this.write_cut, cx) {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let written = Pin::new(&mut this.writer).poll_write(cx, buf);
        this.broken |= matches!(written, Poll::Ready(Err(_)));
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if is_cut(&this.conn.cut, &mut this.write_cut, cx) {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        Pin::new(&mut this.writer).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.conn.cut.is_cancelled() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.writer).poll_shutdown(cx)
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
