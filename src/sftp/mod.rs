//! The SFTP server (russh + russh-sftp) for Infinia trade-detail files and whalet-platform trade
//! materials: listens on `[infinia] sftp_addr` (127.0.0.1:2222 by default, port 0 picks one,
//! `""` turns it off), one account per Infinia appId (in-memory `/upload` and `/error`) and per
//! Whalet partnerId (`/upload` and `/result`, [`materials`]). The accept loop is a
//! task owned by `RunningApp`; on shutdown it stops accepting and disconnects every session.
//!
//! A connection is bounded from accept to end (docs/RELIABILITY.md): at most
//! `sftp_max_connections` at once (the extra one is refused with one line: [`refuse`]), of them
//! at most `sftp_max_unauthenticated` not logged in yet (a new one closes the oldest of those:
//! [`Pool`]), logged in within `sftp_login_grace_ms` of being accepted, at most
//! `sftp_max_auth_attempts` refused logins, and closed after `sftp_idle_timeout_ms` without a
//! byte from the client (timed here, from the bytes the TCP stream reads, not by the SSH
//! library: it holds however the library's session loop is stuck). Whoever ends a
//! connection first asks the client politely (SSH disconnect with the reason), then cuts the
//! TCP stream if the session has not ended within [`CUT_AFTER`]; the connection's place is
//! given back, and its SFTP sessions end (a file they held open for writing is recorded
//! INCOMPLETE with the reason), at most about 2 × [`CUT_AFTER`] later whatever the client or the
//! library does.

pub mod auth;
pub mod fs;
pub mod materials;
mod open;
mod paths;
pub mod process;
mod session;
mod stream;
pub mod trade_details;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::infinia::InfiniaConfig;
use crate::core::Core;
use session::Login;

/// How long a disconnected client has to close its side before the stream is cut.
pub const CUT_AFTER: Duration = Duration::from_secs(1);

/// The per-connection limits the accept loop applies itself.
#[derive(Clone, Copy)]
struct Limits {
    max_connections: usize,
    max_unauthenticated: usize,
    login_grace: Duration,
    max_auth_attempts: usize,
    /// `sftp_idle_timeout_ms`; None for 0 (never).
    idle: Option<Duration>,
}

impl Limits {
    fn of(config: &InfiniaConfig) -> Self {
        Self {
            max_connections: config.sftp_max_connections.max(1),
            // Above `sftp_max_connections` it is refused at start (`InfiniaConfig::check`).
            max_unauthenticated: config
                .max_unauthenticated()
                .clamp(1, config.sftp_max_connections.max(1)),
            login_grace: Duration::from_millis(config.sftp_login_grace_ms),
            max_auth_attempts: config.sftp_max_auth_attempts.max(1),
            idle: (config.sftp_idle_timeout_ms > 0)
                .then(|| Duration::from_millis(config.sftp_idle_timeout_ms)),
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
    let limits = Limits::of(settings);
    let config = Arc::new(russh::server::Config {
        keys: vec![host_key],
        auth_rejection_time: Duration::from_millis(200),
        auth_rejection_time_initial: Some(Duration::ZERO),
        // None: `sftp_idle_timeout_ms` is applied by `connection`, which also names it (the
        // library's timer ends the session without a word, and is not looked at while its
        // loop waits elsewhere).
        inactivity_timeout: None,
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

/// Why a connection over `sftp_max_connections` is refused.
const REFUSAL_REASON: &str = "too many SFTP connections; try again later";

/// The version line of a refusal (no key exchange follows it).
const REFUSAL_VERSION: &str = "SSH-2.0-whalet_sim\r\n";

/// What a connection over the limit is sent: [`REFUSAL_REASON`] as a text line before the
/// version (RFC 4253 §4.2 allows such lines: a person trying with `nc` reads it; OpenSSH shows
/// it only with `-v`), then the server's version and an `SSH_MSG_DISCONNECT` (reason 12, "too
/// many connections", with the same text) as the first binary packet, unencrypted as every
/// packet before the key exchange is: OpenSSH prints it ("Received disconnect from …: 12: too
/// many SFTP connections; try again later").
fn refusal() -> Vec<u8> {
    const DISCONNECT: u8 = 1;
    let text = |s: &str| {
        let mut out = u32::try_from(s.len()).unwrap_or(0).to_be_bytes().to_vec();
        out.extend_from_slice(s.as_bytes());
        out
    };
    let mut payload = vec![DISCONNECT];
    payload.extend_from_slice(&(russh::Disconnect::TooManyConnections as u32).to_be_bytes());
    payload.extend(text(REFUSAL_REASON));
    payload.extend(text(""));
    // RFC 4253 §6: length, padding length, payload, padding of at least 4 bytes, the whole a
    // multiple of 8 bytes.
    let mut padding = 8 - (4 + 1 + payload.len()) % 8;
    if padding < 4 {
        padding += 8;
    }
    let length = u32::try_from(1 + payload.len() + padding).unwrap_or(0);
    let mut out = format!("{REFUSAL_REASON}\r\n{REFUSAL_VERSION}").into_bytes();
    out.extend_from_slice(&length.to_be_bytes());
    out.push(u8::try_from(padding).unwrap_or(4));
    out.extend(payload);
    out.extend(std::iter::repeat_n(0u8, padding));
    out
}

/// Refusals that wait for the client's version line at once; beyond them a refused connection
/// is closed right away.
const REFUSALS_AT_ONCE: usize = 64;

/// How long a refusal waits for the client's version line.
const REFUSAL_WAIT: Duration = Duration::from_secs(1);

/// Refuses a connection over the limit with [`refusal`], after reading the version line an SSH
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
    let _ = stream.write_all(&refusal()).await;
    let _ = stream.shutdown().await;
}

/// The places connections hold: every open connection one of `max_connections`, and one not
/// logged in yet also one of `max_unauthenticated`. When a new connection finds either full and
/// connections wait to log in, the oldest of them is closed to let it in ([`Seat::evicted`]):
/// sockets that never log in cannot take the places logged-in sessions need, nor keep out a
/// client that logs in within milliseconds (OpenSSH's `MaxStartups` refuses the newcomer
/// instead, which lets idle sockets lock everyone out).
struct Pool {
    limits: Limits,
    state: Mutex<PoolState>,
}

#[derive(Default)]
struct PoolState {
    /// Connections holding a place (an evicted one stops counting at once).
    open: usize,
    next_id: u64,
    /// Connections not logged in yet, oldest first, with the token that closes each.
    waiting: VecDeque<(u64, CancellationToken)>,
}

impl PoolState {
    /// Takes connection `id` off the waiting list; false when it is not on it (logged in or
    /// evicted).
    fn stop_waiting(&mut self, id: u64) -> bool {
        let Some(at) = self.waiting.iter().position(|(waiting, _)| *waiting == id) else {
            return false;
        };
        self.waiting.remove(at);
        true
    }
}

impl Pool {
    fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            state: Mutex::new(PoolState::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for a new connection, closing the oldest connection not logged in when that
    /// makes room; None when every place is held by a logged-in session.
    fn admit(self: &Arc<Self>) -> Option<Place> {
        let mut state = self.lock();
        let full = |s: &PoolState| {
            s.waiting.len() >= self.limits.max_unauthenticated
                || s.open >= self.limits.max_connections
        };
        while full(&state) {
            let (_, oldest) = state.waiting.pop_front()?;
            // Under the lock, as every change of a place: a login and an eviction of one
            // connection cannot both happen ([`Seat::log_in`]).
            oldest.cancel();
            state.open -= 1;
        }
        state.open += 1;
        state.next_id += 1;
        let id = state.next_id;
        let evicted = CancellationToken::new();
        state.waiting.push_back((id, evicted.clone()));
        Some(Place(Seat {
            pool: Arc::clone(self),
            id,
            evicted,
        }))
    }
}

/// Which place a connection holds: the connection task owns it as a [`Place`] (given back when
/// dropped), and the session's login handler holds a copy to claim it at login ([`Seat::log_in`]).
#[derive(Clone)]
struct Seat {
    pool: Arc<Pool>,
    id: u64,
    /// Cancelled when a newer connection took this one's place before it logged in.
    evicted: CancellationToken,
}

impl Seat {
    /// The connection is logging in: it no longer counts as waiting, and is never evicted. False
    /// when it has been evicted already (it is being closed; the login must be refused). Called
    /// by the login handler before it accepts, so that no client is told it is logged in and then
    /// closed to let a newer connection in.
    fn log_in(&self) -> bool {
        let mut state = self.pool.lock();
        state.stop_waiting(self.id) || !self.evicted.is_cancelled()
    }
}

/// A connection's place in the [`Pool`], given back exactly once when dropped (the task ended,
/// returned early, panicked or was aborted): a place still waiting and a logged-in one are given
/// back; an evicted one was given back when it was evicted.
struct Place(Seat);

impl Drop for Place {
    fn drop(&mut self) {
        let seat = &self.0;
        let mut state = seat.pool.lock();
        // Off the waiting list only by a login or an eviction, both under the lock.
        if state.stop_waiting(seat.id) || !seat.evicted.is_cancelled() {
            state.open -= 1;
        }
    }
}

async fn accept_loop(
    core: Core,
    listener: TcpListener,
    config: Arc<russh::server::Config>,
    limits: Limits,
    stop: CancellationToken,
) {
    let mut sessions = JoinSet::new();
    let pool = Pool::new(limits);
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
        let Some(place) = pool.admit() else {
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
                    let _ = stream.try_write(&refusal());
                }
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (login, watch_login) = watch::channel(Login::Pending);
        let conn = stream::Conn::new();
        let handler = session::SshSession::new(
            core.clone(),
            Arc::clone(&open_files),
            login,
            place.0.clone(),
            limits.max_auth_attempts,
            Arc::clone(&conn),
        );
        sessions.spawn(connection(
            Accepted {
                stream,
                peer,
                at: accepted_at,
                place,
                conn,
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

/// A connection taken from the listener, with its place (given back when the task ends).
struct Accepted {
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    at: Instant,
    place: Place,
    conn: Arc<stream::Conn>,
}

/// One SSH connection from handshake to end, or until `stop`, the login grace time, the idle
/// timeout, too many refused logins, too much unread ([`stream::MAX_UNREAD_BYTES`]), or a newer
/// connection taking its place before it logged in.
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
        place,
        conn,
    } = accepted;
    // However this task ends (returned, or aborted at shutdown), the stream is cut and the
    // connection's SFTP sessions end at once; except when the session ended by itself: its SFTP
    // sessions then read what the client sent before it left (a CLOSE among it completes its
    // file), then the end.
    let cut_at_end = conn.cut.clone().drop_guard();
    let cut = conn.cut.clone();
    let idle_why = |idle: Option<Duration>| {
        format!(
            "no byte from the client for {} ms ([infinia] sftp_idle_timeout_ms)",
            idle.unwrap_or_default().as_millis()
        )
    };
    let deadline = at + limits.login_grace;
    // `place` is held to the end of this task, and given back then, however it ends.
    let evicted = place.0.evicted.clone();
    let evicted_why = format!(
        "closed before it logged in, to let a newer connection in: {} connections were waiting \
         to log in, the most there may be ([infinia] sftp_max_unauthenticated); log in as soon \
         as connected",
        limits.max_unauthenticated
    );
    let stream = stream::Cuttable::new(stream, Arc::clone(&conn));
    // The version exchange (the library's part before it spawns the session) counts against
    // the login grace time too; returning drops, and so closes, the stream.
    let started = tokio::select! {
        r = tokio::time::timeout_at(deadline, russh::server::run_stream(config, stream, handler)) => r,
        _ = stop.cancelled() => return,
        () = evicted.cancelled() => {
            return tracing::info!(peer = %peer, reason = %evicted_why, "sftp connection closed by the server");
        }
        () = conn.idle(limits.idle) => {
            return tracing::info!(peer = %peer, reason = %idle_why(limits.idle), "sftp connection closed by the server");
        }
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
                cut_at_end.disarm();
                if let Err(e) = ended {
                    tracing::debug!(peer = %peer, error = %e, "sftp session ended");
                }
                return;
            }
            _ = stop.cancelled() => {
                break (russh::Disconnect::ByApplication, "simulator shutting down".to_owned());
            }
            () = evicted.cancelled() => {
                break (russh::Disconnect::TooManyConnections, evicted_why.clone());
            }
            () = conn.idle(limits.idle) => {
                break (russh::Disconnect::ByApplication, idle_why(limits.idle));
            }
            why = conn.close_asked() => {
                break (russh::Disconnect::ByApplication, why);
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
                    if tokio::time::timeout(CUT_AFTER, &mut running).await.is_ok() {
                        cut_at_end.disarm();
                    }
                    return;
                }
            },
        }
    };
    // Before the sessions end: the files they leave open are recorded with this reason.
    conn.closing(&why);
    tracing::info!(peer = %peer, user = %conn.user(), reason = %why, "sftp connection closed by the server");
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The refusal is a text line, a version line, and one well-formed unencrypted
    /// SSH_MSG_DISCONNECT packet (RFC 4253 §6) carrying reason 12 and the same text.
    #[test]
    fn the_refusal_is_a_line_a_version_and_a_disconnect_packet() {
        let bytes = refusal();
        let head = format!("{REFUSAL_REASON}\r\n{REFUSAL_VERSION}");
        assert!(bytes.starts_with(head.as_bytes()));
        let packet = &bytes[head.len()..];
        let length = u32::from_be_bytes(packet[..4].try_into().unwrap()) as usize;
        assert_eq!(packet.len(), 4 + length);
        assert_eq!(packet.len() % 8, 0);
        let padding = usize::from(packet[4]);
        assert!(padding >= 4);
        let payload = &packet[5..4 + length - padding];
        assert_eq!(payload[0], 1, "SSH_MSG_DISCONNECT");
        assert_eq!(u32::from_be_bytes(payload[1..5].try_into().unwrap()), 12);
        let len = u32::from_be_bytes(payload[5..9].try_into().unwrap()) as usize;
        assert_eq!(&payload[9..9 + len], REFUSAL_REASON.as_bytes());
        assert_eq!(&payload[9 + len..], [0, 0, 0, 0], "empty language tag");
    }

    fn limits(max_connections: usize, max_unauthenticated: usize) -> Limits {
        Limits {
            max_connections,
            max_unauthenticated,
            login_grace: Duration::from_secs(60),
            max_auth_attempts: 6,
            idle: None,
        }
    }

    /// New connections close the oldest not logged in; logged-in ones are never closed, and
    /// only when every place is a logged-in session is a newcomer refused.
    #[test]
    fn a_newcomer_closes_the_oldest_connection_not_logged_in() {
        let pool = Pool::new(limits(3, 2));
        let first = pool.admit().unwrap();
        assert!(first.0.log_in());
        let second = pool.admit().unwrap();
        let third = pool.admit().unwrap();
        assert!(!second.0.evicted.is_cancelled() && !third.0.evicted.is_cancelled());
        // Full: the oldest waiting one makes room, the logged-in one stays.
        let fourth = pool.admit().unwrap();
        assert!(second.0.evicted.is_cancelled());
        assert!(!first.0.evicted.is_cancelled() && !third.0.evicted.is_cancelled());
        drop(second);
        assert_eq!(pool.lock().open, 3);
        assert!(third.0.log_in() && fourth.0.log_in());
        assert!(pool.admit().is_none(), "every place is a logged-in session");
        drop(third);
        assert_eq!(pool.lock().open, 2);
        let fifth = pool.admit();
        assert!(fifth.is_some());
        drop((first, fourth, fifth));
        let state = pool.lock();
        assert_eq!((state.open, state.waiting.len()), (0, 0));
    }

    /// (open, waiting) of `pool`.
    fn counts(pool: &Pool) -> (usize, usize) {
        let state = pool.lock();
        (state.open, state.waiting.len())
    }

    /// A login and an eviction of one connection exclude each other: the login handler's claim
    /// of an evicted place fails (the login is refused, the client is never told it logged in
    /// and then closed), a claimed place is never evicted, and each place is given back exactly
    /// once however its connection ends (evicted, logged in, waiting, or a panicking task).
    #[test]
    fn a_place_is_claimed_or_evicted_never_both_and_given_back_once() {
        let pool = Pool::new(limits(2, 1));
        let waiting = pool.admit().unwrap();
        let handler = waiting.0.clone();
        let newcomer = pool.admit().unwrap();
        assert!(waiting.0.evicted.is_cancelled());
        assert!(!handler.log_in(), "an evicted connection logged in");
        assert!(
            newcomer.0.log_in() && newcomer.0.log_in(),
            "a second claim changes nothing"
        );
        assert_eq!(counts(&pool), (1, 0));
        drop((waiting, handler));
        assert_eq!(pool.lock().open, 1, "an evicted place was given back twice");
        // Every other place is logged in, and not evicted by a flood of newcomers.
        let flood: Vec<Place> = (0..5).map(|_| pool.admit().unwrap()).collect();
        assert!(!newcomer.0.evicted.is_cancelled());
        assert!(flood[..4]
            .iter()
            .all(|place| place.0.evicted.is_cancelled()));
        assert_eq!(counts(&pool), (2, 1));
        // A connection task that panics gives its place back while unwinding.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _held = flood;
            panic!("connection task failed");
        }));
        assert!(panicked.is_err());
        assert_eq!(counts(&pool), (1, 0));
        drop(newcomer);
        assert_eq!(pool.lock().open, 0);
    }
}
