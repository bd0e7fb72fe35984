//! The SFTP server (russh + russh-sftp) for Infinia trade-detail files and whalet-platform trade
//! materials: listens on `[infinia] sftp_addr` (127.0.0.1:2222 by default, port 0 picks one,
//! `""` turns it off), one account per Infinia appId (in-memory `/upload` and `/error`) and per
//! Whalet partnerId (`/upload` and `/result`, [`materials`]). The accept loop is a
//! task owned by `RunningApp`; on shutdown it stops accepting and disconnects every session.
//!
//! A connection is bounded from accept to end (docs/RELIABILITY.md): at most
//! `sftp_max_connections` at once (the extra one is refused with one line: [`refuse`]), logged in within
//! `sftp_login_grace_ms` of being accepted, at most `sftp_max_auth_attempts` refused logins,
//! and closed after `sftp_idle_timeout_ms` without a byte from the client. Whoever ends a
//! connection first asks the client politely (SSH disconnect with the reason), then cuts the
//! TCP stream if the session has not ended within [`CUT_AFTER`].

pub mod auth;
pub mod fs;
pub mod materials;
mod open;
mod paths;
pub mod process;
mod session;
mod stream;
pub mod trade_details;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::infinia::InfiniaConfig;
use crate::core::Core;
use session::Login;

/// How long a disconnected client has to close its side before the stream is cut.
pub const CUT_AFTER: Duration = Duration::from_secs(1);

/// The per-connection limits the accept loop applies itself (the idle timeout is the SSH
/// library's `inactivity_timeout`).
#[derive(Clone, Copy)]
struct Limits {
    max_connections: usize,
    login_grace: Duration,
    max_auth_attempts: usize,
}

impl Limits {
    fn of(config: &InfiniaConfig) -> Self {
        Self {
            max_connections: config.sftp_max_connections.min(Semaphore::MAX_PERMITS),
            login_grace: Duration::from_millis(config.sftp_login_grace_ms),
            max_auth_attempts: config.sftp_max_auth_attempts.max(1),
        }
    }
}

/// Binds the SFTP listener and spawns its accept loop. None when disabled or the address cannot
/// be bound (logged; the HTTP surfaces keep working).
pub fn spawn(core: &Core, stop: CancellationToken) -> Option<JoinHandle<()>> {
    let settings = &core.infinia().apps.config;
    let addr = settings.sftp_addr.trim().to_owned();
    if addr.is_empty() {
        return None;
    }
    let listener = match std::net::TcpListener::bind(&addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .and_then(TcpListener::from_std)
    {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(addr = %addr, error = %e, "SFTP server (Infinia trade details, platform trade materials) not started: choose another address with --sftp-addr or [infinia] sftp_addr, or turn it off with `off`");
            return None;
        }
    };
    let host_key = match auth::host_key() {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, "SFTP server not started");
            return None;
        }
    };
    let bound = listener.local_addr().ok();
    core.infinia().apps.set_sftp_addr(bound);
    if let Some(bound) = bound {
        tracing::info!(addr = %bound, "SFTP server listening (Infinia trade details, platform trade materials)");
    }
    let idle = settings.sftp_idle_timeout_ms;
    let limits = Limits::of(settings);
    let config = Arc::new(russh::server::Config {
        keys: vec![host_key],
        auth_rejection_time: Duration::from_millis(200),
        auth_rejection_time_initial: Some(Duration::ZERO),
        // Counts every byte the client sends, before and after login.
        inactivity_timeout: (idle > 0).then(|| Duration::from_millis(idle)),
        // Informational: the library does not enforce it; `session::SshSession` does.
        max_auth_attempts: limits.max_auth_attempts,
        // Not the library's default (every method, hostbased and keyboard-interactive too).
        methods: session::served_methods(),
        ..Default::default()
    });
    Some(tokio::spawn(accept_loop(
        core.clone(),
        listener,
        config,
        limits,
        stop,
    )))
}

/// RFC 4253 §4.2 lets a server send lines before its version: an SSH client shows it, and a
/// person trying with `nc` sees why.
const REFUSAL: &[u8] = b"too many SFTP connections; try again later\r\n";

/// Refusals that wait for the client's version line at once; beyond them a refused connection
/// is closed right away.
const REFUSALS_AT_ONCE: usize = 64;

/// How long a refusal waits for the client's version line.
const REFUSAL_WAIT: Duration = Duration::from_secs(1);

/// Refuses a connection over the limit with [`REFUSAL`], after reading the version line an SSH
/// client sends first (at most 255 bytes, RFC 4253 §4.2, or [`REFUSAL_WAIT`]): closed with that
/// line unread, the connection would end in a reset, and the client would lose the reason.
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut line = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    let _ = tokio::time::timeout(REFUSAL_WAIT, async {
        while line.len() < 255 && !line.ends_with(b"\n") {
            match stream.read(&mut byte).await {
                Ok(1) => line.push(byte[0]),
                _ => break,
            }
        }
    })
    .await;
    let _ = stream.write_all(REFUSAL).await;
    let _ = stream.shutdown().await;
}

async fn accept_loop(
    core: Core,
    listener: TcpListener,
    config: Arc<russh::server::Config>,
    limits: Limits,
    stop: CancellationToken,
) {
    let mut sessions = JoinSet::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    // Shared by every session: a file open in one is the same file in another.
    let open_files = Arc::new(open::OpenFiles::default());
    loop {
        while sessions.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "sftp accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        let accepted_at = Instant::now();
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(peer = %peer, max = limits.max_connections,
                "sftp connection refused: too many open ([infinia] sftp_max_connections)");
            match Arc::clone(&refusals).try_acquire_owned() {
                Ok(permit) => {
                    sessions.spawn(async move {
                        refuse(stream).await;
                        drop(permit);
                    });
                }
                // A flood of refusals: closed at once, the line written if it fits.
                Err(_) => {
                    let _ = stream.try_write(REFUSAL);
                }
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (login, watch_login) = watch::channel(Login::Pending);
        let handler = session::SshSession::new(
            core.clone(),
            Arc::clone(&open_files),
            login,
            limits.max_auth_attempts,
        );
        sessions.spawn(connection(
            Accepted {
                stream,
                peer,
                at: accepted_at,
                slot,
            },
            handler,
            watch_login,
            config.clone(),
            limits,
            stop.clone(),
        ));
    }
    // Every connection task watches `stop` and disconnects its client; wait for them (bounded).
    let drained = tokio::time::timeout(Duration::from_secs(10), async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        sessions.abort_all();
    }
    tracing::info!("SFTP server stopped");
}

/// A connection taken from the listener, with its slot (released when the task ends).
struct Accepted {
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    at: Instant,
    slot: OwnedSemaphorePermit,
}

/// One SSH connection from handshake to end, or until `stop`, the login grace time, or too
/// many refused logins.
async fn connection(
    accepted: Accepted,
    handler: session::SshSession,
    mut login: watch::Receiver<Login>,
    config: Arc<russh::server::Config>,
    limits: Limits,
    stop: CancellationToken,
) {
    let Accepted {
        stream,
        peer,
        at,
        slot: _slot,
    } = accepted;
    let deadline = at + limits.login_grace;
    let cut = CancellationToken::new();
    let stream = stream::Cuttable::new(stream, cut.clone());
    // The version exchange (the library's part before it spawns the session) counts against
    // the login grace time too; returning drops, and so closes, the stream.
    let started = tokio::select! {
        r = tokio::time::timeout_at(deadline, russh::server::run_stream(config, stream, handler)) => r,
        _ = stop.cancelled() => return,
    };
    let mut running = match started {
        Ok(Ok(running)) => running,
        Ok(Err(e)) => return tracing::debug!(peer = %peer, error = %e, "sftp handshake failed"),
        Err(_) => {
            return tracing::info!(peer = %peer, "sftp connection closed: no SSH version within the login grace time")
        }
    };
    let handle = running.handle();
    let (reason, why) = loop {
        tokio::select! {
            ended = &mut running => {
                if let Err(e) = ended {
                    tracing::debug!(peer = %peer, error = %e, "sftp session ended");
                }
                return;
            }
            _ = stop.cancelled() => {
                break (russh::Disconnect::ByApplication, "simulator shutting down".to_owned());
            }
            () = tokio::time::sleep_until(deadline), if *login.borrow() != Login::Accepted => {
                break (
                    russh::Disconnect::ByApplication,
                    format!("not logged in within {} ms ([infinia] sftp_login_grace_ms)", limits.login_grace.as_millis()),
                );
            }
            changed = login.changed() => match changed {
                Ok(()) if *login.borrow() == Login::Refused => {
                    break (
                        russh::Disconnect::NoMoreAuthMethodsAvailable,
                        format!("too many authentication failures ({} allowed, [infinia] sftp_max_auth_attempts)", limits.max_auth_attempts),
                    );
                }
                Ok(()) => {}
                // The session dropped its handler: it is ending.
                Err(_) => {
                    let _ = tokio::time::timeout(CUT_AFTER, &mut running).await;
                    cut.cancel();
                    return;
                }
            },
        }
    };
    tracing::info!(peer = %peer, reason = %why, "sftp connection closed by the server");
    let polite = tokio::time::timeout(CUT_AFTER, async {
        let _ = handle.disconnect(reason, why, "en".into()).await;
        let _ = (&mut running).await;
    })
    .await;
    if polite.is_err() {
        cut.cancel();
        let _ = tokio::time::timeout(CUT_AFTER, &mut running).await;
    }
}
