//! Regressions of the SFTP server's connection handling (round 55): a client that pipelines many
//! READs (as paramiko's `get` of a file of a few MB does) jammed its session for good: the SSH
//! library's loop waited to hand a request to the SFTP task, which waited on that loop to send
//! its answer. And a connection whose SSH library loop is stuck (here: writing to a client that
//! stopped reading) is closed by the idle timeout all the same, its place given back and the
//! file it held open recorded INCOMPLETE with the limit named. Driven with raw SFTP frames over
//! an SSH channel, one SSH packet per request, as paramiko sends them.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use whalet_sim::store::infinia::UploadStatus;
use whalet_sim::store::{Provider, TenantId};

use crate::helpers::TestApp;
use crate::infinia::support::{sftp_port, spawn_infinia, ssh_login, ssh_password, SshClient};

const INIT: u8 = 1;
const OPEN: u8 = 3;
const CLOSE: u8 = 4;
const READ: u8 = 5;
const WRITE: u8 = 6;
const VERSION: u8 = 2;
const STATUS: u8 = 101;
const HANDLE: u8 = 102;
const DATA: u8 = 103;
const CHUNK: usize = 32 * 1024;

fn string(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

/// One SFTP packet: its length, its type, its body.
fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 1) as u32).to_be_bytes().to_vec();
    out.push(kind);
    out.extend_from_slice(body);
    out
}

fn request(kind: u8, id: u32, parts: &[&[u8]]) -> Vec<u8> {
    let mut body = id.to_be_bytes().to_vec();
    for part in parts {
        body.extend_from_slice(part);
    }
    frame(kind, &body)
}

/// The next SFTP packet: its type and what follows the type.
async fn recv(r: &mut (impl AsyncRead + Unpin)) -> (u8, Vec<u8>) {
    let len = r.read_u32().await.unwrap() as usize;
    let mut packet = vec![0; len];
    r.read_exact(&mut packet).await.unwrap();
    (packet[0], packet[1..].to_vec())
}

/// A raw SFTP client on one channel, one request answered at a time (except [`Raw::pipeline`]).
struct Raw<R, W> {
    r: R,
    w: W,
    next: u32,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Raw<R, W> {
    async fn start(r: R, mut w: W) -> Self {
        w.write_all(&frame(INIT, &3u32.to_be_bytes()))
            .await
            .unwrap();
        let mut raw = Self { r, w, next: 1 };
        assert_eq!(recv(&mut raw.r).await.0, VERSION);
        raw
    }

    async fn call(&mut self, kind: u8, parts: &[&[u8]]) -> (u8, Vec<u8>) {
        self.next += 1;
        let packet = request(kind, self.next, parts);
        self.w.write_all(&packet).await.unwrap();
        recv(&mut self.r).await
    }

    /// Opens `path` with `flags`; the handle.
    async fn open(&mut self, path: &str, flags: u32) -> Vec<u8> {
        let (kind, body) = self
            .call(
                OPEN,
                &[&string(path.as_bytes()), &flags.to_be_bytes(), &[0; 4]],
            )
            .await;
        assert_eq!(kind, HANDLE, "open {path}: {body:?}");
        let len = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
        body[8..8 + len].to_vec()
    }

    async fn write(&mut self, handle: &[u8], offset: u64, data: &[u8]) {
        let (kind, body) = self
            .call(
                WRITE,
                &[&string(handle), &offset.to_be_bytes(), &string(data)],
            )
            .await;
        assert_eq!(kind, STATUS);
        assert_eq!(&body[4..8], &[0; 4], "write refused: {body:?}");
    }

    async fn close(&mut self, handle: &[u8]) {
        assert_eq!(self.call(CLOSE, &[&string(handle)]).await.0, STATUS);
    }

    /// Writes `path` whole, `CHUNK` bytes a request.
    async fn put(&mut self, path: &str, data: &[u8]) {
        let handle = self.open(path, 0x02 | 0x08 | 0x10).await;
        for (i, part) in data.chunks(CHUNK).enumerate() {
            self.write(&handle, (i * CHUNK) as u64, part).await;
        }
        self.close(&handle).await;
    }

    /// Sends `count` READs of `CHUNK` bytes of `handle` (a file of `size` bytes), each in an SSH
    /// packet of its own, without waiting for an answer.
    async fn pipeline(&mut self, handle: &[u8], size: usize, count: usize) {
        for i in 0..count {
            self.next += 1;
            let offset = ((i * CHUNK) % size) as u64;
            let packet = request(
                READ,
                self.next,
                &[
                    &string(handle),
                    &offset.to_be_bytes(),
                    &(CHUNK as u32).to_be_bytes(),
                ],
            );
            self.w.write_all(&packet).await.unwrap();
        }
    }
}

const READ_ONLY: u32 = 0x01;

/// Whether a new connection logs in within `within` (retried: the cap refuses it while full).
async fn logs_in_within(app: &TestApp, within: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        let attempt = tokio::time::timeout(
            Duration::from_secs(5),
            crate::infinia::support::ssh_connect(app),
        )
        .await;
        if let Ok(Ok(mut ssh)) = attempt {
            if let Ok(auth) = ssh.authenticate_password("demo-app", "demo-password").await {
                if auth.success() {
                    return true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Regression: 500 READs of 32 KiB sent at once, then the answers read as they come (what
/// paramiko's prefetching `get` does) got about 100 answers, then nothing, for ever: the
/// session no longer read its socket and held its place among `sftp_max_connections`. Every
/// answer now arrives, and the place is given back when the client leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_reads_are_all_answered_and_the_place_is_given_back() {
    let app = spawn_infinia("sftp_max_connections = 1\n").await;
    let ssh = ssh_login(&app).await;
    let channel = ssh.channel_open_session().await.unwrap();
    channel.request_subsystem(true, "sftp").await.unwrap();
    let (r, w) = tokio::io::split(channel.into_stream());
    let mut raw = Raw::start(r, w).await;
    let size = 8 * CHUNK;
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    raw.put("/upload/x.tmp", &data).await;
    let handle = raw.open("/upload/x.tmp", READ_ONLY).await;
    let count = 500;
    let Raw { mut r, mut w, next } = raw;
    let reader = tokio::spawn(async move {
        let mut answered = 0;
        for _ in 0..count {
            let (kind, body) = recv(&mut r).await;
            assert_eq!(kind, DATA, "{:?}", &body[..body.len().min(64)]);
            answered += 1;
        }
        answered
    });
    let mut raw = Raw {
        r: tokio::io::empty(),
        w: &mut w,
        next,
    };
    raw.pipeline(&handle, size, count).await;
    let answered = tokio::time::timeout(Duration::from_secs(60), reader).await;
    let answered = answered
        .expect("the pipelined READs were not all answered within 60 s: the session is jammed")
        .unwrap();
    assert_eq!(answered, count);
    drop(w);
    ssh.disconnect(russh::Disconnect::ByApplication, "bye", "en")
        .await
        .unwrap();
    assert!(
        logs_in_within(&app, Duration::from_secs(10)).await,
        "the only place (sftp_max_connections = 1) was not given back"
    );
    app.shutdown().await;
}

/// A TCP stream whose reads stop for good once `paused` is set: the client stops reading, as a
/// stopped process does, while the server has much to send it.
struct Pausable {
    inner: tokio::net::TcpStream,
    paused: Arc<AtomicBool>,
}

impl AsyncRead for Pausable {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.paused.load(Ordering::Acquire) {
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Pausable {
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

/// Regression: with the SSH library's session loop stuck (here writing megabytes to a client
/// that stopped reading, with a window that lets it), the library's own idle timer was never
/// looked at: the connection, its place and the file it held open stayed for ever. The
/// connection task now times the idle limit itself from the bytes read off the socket: the
/// connection is closed `sftp_idle_timeout_ms` after the client's last byte, the only place is
/// given back, and the file left open is INCOMPLETE with a reason naming the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_session_is_closed_by_the_idle_timeout_and_its_file_recorded() {
    let app = spawn_infinia("sftp_max_connections = 1\nsftp_idle_timeout_ms = 1500\n").await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(8 * 1024).unwrap();
    let tcp = socket
        .connect(([127, 0, 0, 1], sftp_port(&app)).into())
        .await
        .unwrap();
    let paused = Arc::new(AtomicBool::new(false));
    let stream = Pausable {
        inner: tcp,
        paused: Arc::clone(&paused),
    };
    let config = Arc::new(russh::client::Config {
        window_size: 64 * 1024 * 1024,
        ..Default::default()
    });
    let mut ssh = russh::client::connect_stream(config, stream, SshClient)
        .await
        .unwrap();
    let auth = ssh
        .authenticate_password("demo-app", "demo-password")
        .await
        .unwrap();
    assert!(auth.success());
    let channel = ssh.channel_open_session().await.unwrap();
    channel.request_subsystem(true, "sftp").await.unwrap();
    let (r, w) = tokio::io::split(channel.into_stream());
    let mut raw = Raw::start(r, w).await;
    // A file left open for writing.
    let held = raw.open("/upload/held.csv", 0x02 | 0x08 | 0x10).await;
    raw.write(&held, 0, b"tradeNo,tradeType,orderNo\n").await;
    let size = 128 * CHUNK;
    raw.put("/upload/big.tmp", &vec![b'x'; size]).await;
    let handle = raw.open("/upload/big.tmp", READ_ONLY).await;
    // The client stops reading, then asks for 12 MiB.
    paused.store(true, Ordering::Release);
    raw.pipeline(&handle, size, 400).await;
    let quiet_since = Instant::now();
    // The place is given back: the idle timeout, plus at most 1 s for a polite disconnect and
    // 1 s after the cut, plus the login.
    assert!(
        logs_in_within(&app, Duration::from_secs(15)).await,
        "the stuck connection kept the only place (sftp_max_connections = 1) for {:?}",
        quiet_since.elapsed()
    );
    assert!(quiet_since.elapsed() >= Duration::from_millis(1400));
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    let upload = |app: &TestApp| {
        app.app()
            .store()
            .with_tenant(&tenant, |t| {
                t.infinia
                    .uploads
                    .get("held.csv")
                    .map(|u| (u.status, u.reason.clone()))
            })
            .unwrap()
    };
    let mut recorded = None;
    for _ in 0..100 {
        recorded = upload(&app);
        if recorded.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, reason) = recorded.expect("held.csv was never recorded");
    assert_eq!(status, UploadStatus::Incomplete);
    let reason = reason.unwrap_or_default();
    assert!(
        reason.contains("the server closed the SFTP connection")
            && reason
                .contains("no byte from the client for 1500 ms ([infinia] sftp_idle_timeout_ms)"),
        "{reason}"
    );
    drop(raw);
    app.shutdown().await;
}

/// Without the stuck loop: an idle session with a file open for writing is closed by the idle
/// timeout with an SSH disconnect naming it, and the file's reason says the server closed it
/// for that (not as if the client had quit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_cut_names_the_limit_in_the_upload_reason() {
    let app = spawn_infinia("sftp_idle_timeout_ms = 800\n").await;
    let (ok, ssh) = ssh_password(&app, ("demo-app", "demo-password")).await;
    assert!(ok);
    let channel = ssh.channel_open_session().await.unwrap();
    channel.request_subsystem(true, "sftp").await.unwrap();
    let (r, w) = tokio::io::split(channel.into_stream());
    let mut raw = Raw::start(r, w).await;
    let held = raw.open("/upload/stall.csv", 0x02 | 0x08 | 0x10).await;
    raw.write(&held, 0, b"tradeNo,tradeType\n").await;
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    let mut recorded = None;
    for _ in 0..200 {
        recorded = app
            .app()
            .store()
            .with_tenant(&tenant, |t| {
                t.infinia
                    .uploads
                    .get("stall.csv")
                    .map(|u| (u.status, u.reason.clone()))
            })
            .unwrap();
        if recorded.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, reason) = recorded.expect("stall.csv was never recorded");
    assert_eq!(status, UploadStatus::Incomplete);
    let reason = reason.unwrap_or_default();
    assert!(
        reason.contains("no byte from the client for 800 ms ([infinia] sftp_idle_timeout_ms)"),
        "{reason}"
    );
    assert!(crate::infinia::support::eventually(|| ssh.is_closed()).await);
    drop(raw);
    app.shutdown().await;
}
