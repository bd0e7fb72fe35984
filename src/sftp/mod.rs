//! The SFTP server for Infinia trade-detail files (russh + russh-sftp): listens on
//! `[infinia] sftp_addr` (127.0.0.1:2222 by default, port 0 picks one, `""` turns it off), one
//! account per appId, an in-memory `/upload` and `/error` folder per app. The accept loop is a
//! task owned by `RunningApp`; on shutdown it stops accepting and disconnects every session.

pub mod auth;
pub mod fs;
mod paths;
pub mod process;
mod session;
pub mod trade_details;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::core::Core;

/// Binds the SFTP listener and spawns its accept loop. None when disabled or the address cannot
/// be bound (logged; the HTTP surfaces keep working).
pub fn spawn(core: &Core, stop: CancellationToken) -> Option<JoinHandle<()>> {
    let addr = core.infinia().apps.config.sftp_addr.trim().to_owned();
    if addr.is_empty() {
        return None;
    }
    let listener = match std::net::TcpListener::bind(&addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .and_then(TcpListener::from_std)
    {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(addr = %addr, error = %e, "Infinia SFTP server not started (set [infinia] sftp_addr)");
            return None;
        }
    };
    let host_key = match auth::host_key() {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, "Infinia SFTP server not started");
            return None;
        }
    };
    let bound = listener.local_addr().ok();
    core.infinia().apps.set_sftp_addr(bound);
    tracing::info!(addr = ?bound, "Infinia SFTP server listening");
    let config = Arc::new(russh::server::Config {
        keys: vec![host_key],
        auth_rejection_time: Duration::from_millis(200),
        auth_rejection_time_initial: Some(Duration::ZERO),
        inactivity_timeout: Some(Duration::from_secs(600)),
        ..Default::default()
    });
    Some(tokio::spawn(accept_loop(
        core.clone(),
        listener,
        config,
        stop,
    )))
}

async fn accept_loop(
    core: Core,
    listener: TcpListener,
    config: Arc<russh::server::Config>,
    stop: CancellationToken,
) {
    let mut sessions = JoinSet::new();
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
        let _ = stream.set_nodelay(true);
        let handler = session::SshSession {
            core: core.clone(),
            user: None,
            channels: Default::default(),
        };
        sessions.spawn(connection(
            stream,
            peer,
            handler,
            config.clone(),
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
    tracing::info!("Infinia SFTP server stopped");
}

/// One SSH connection from handshake to end, or until `stop`.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    handler: session::SshSession,
    config: Arc<russh::server::Config>,
    stop: CancellationToken,
) {
    let started = tokio::select! {
        r = tokio::time::timeout(Duration::from_secs(10), russh::server::run_stream(config, stream, handler)) => r,
        _ = stop.cancelled() => return,
    };
    let running = match started {
        Ok(Ok(running)) => running,
        Ok(Err(e)) => return tracing::debug!(peer = %peer, error = %e, "sftp handshake failed"),
        Err(_) => return tracing::debug!(peer = %peer, "sftp handshake timed out"),
    };
    let handle = running.handle();
    tokio::select! {
        ended = running => {
            if let Err(e) = ended {
                tracing::debug!(peer = %peer, error = %e, "sftp session ended");
            }
        }
        _ = stop.cancelled() => {
            let _ = handle
                .disconnect(russh::Disconnect::ByApplication, "simulator shutting down".into(), "en".into())
                .await;
        }
    }
}
