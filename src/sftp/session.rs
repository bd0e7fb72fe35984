//! One SSH connection: authenticates the account (an Infinia app or a whalet-platform partner), accepts session channels and starts the
//! `sftp` subsystem on them (shell, exec and other subsystems are refused). The server offers
//! exactly the methods it serves, [`served_methods`] (password and public key). Refused logins
//! are counted: until the last one allowed (`[infinia] sftp_max_auth_attempts`) a refusal offers
//! both methods again (the SSH library's default refusal would withdraw the method just refused,
//! leaving a client that mistyped its password no second try); the last one leaves the client no
//! method to try ([`no_more_methods`]), every later attempt is refused unchecked, and the
//! connection task is told to disconnect (the SSH library itself does not enforce a maximum).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use russh::server::{Auth, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use tokio::sync::watch;

use super::auth::Account;
use super::fs::SftpFs;
use super::open::OpenFiles;
use crate::core::Core;

/// Where the connection's login stands (watched by the connection task).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    Pending,
    Accepted,
    /// Too many refused attempts: the connection is to be closed.
    Refused,
}

pub struct SshSession {
    core: Core,
    /// The server's open files, shared by the file systems of every session.
    open_files: Arc<OpenFiles>,
    user: Option<Account>,
    /// Session channels opened and not yet running the `sftp` subsystem.
    channels: HashMap<ChannelId, Channel<Msg>>,
    /// Every session channel open on the connection (`[infinia] sftp_max_channels`).
    open_channels: HashSet<ChannelId>,
    login: watch::Sender<Login>,
    /// The connection's place: claimed as a logged-in session's before a login is accepted.
    seat: super::Seat,
    refusals: usize,
    max_refusals: usize,
    /// The connection as its task watches it (its SFTP streams and sessions report to it).
    conn: Arc<super::stream::Conn>,
}

impl SshSession {
    pub fn new(
        core: Core,
        open_files: Arc<OpenFiles>,
        login: watch::Sender<Login>,
        seat: super::Seat,
        max_refusals: usize,
        conn: Arc<super::stream::Conn>,
    ) -> Self {
        Self {
            core,
            open_files,
            user: None,
            channels: HashMap::new(),
            open_channels: HashSet::new(),
            login,
            seat,
            refusals: 0,
            max_refusals,
            conn,
        }
    }

    fn account(&self, user: &str) -> Option<Account> {
        Account::find(&self.core, user)
    }

    /// No attempt left: the answer to any further login, without looking at it.
    fn exhausted(&self) -> bool {
        self.refusals >= self.max_refusals
    }

    /// Counts a refused login: the client may go on with either method, except after the last
    /// one allowed, which offers it no method to go on with.
    fn refuse(&mut self, user: &str, how: &str) -> Auth {
        self.refusals += 1;
        tracing::info!(user, attempt = self.refusals, "sftp {how} login refused");
        if !self.exhausted() {
            return Auth::Reject {
                proceed_with_methods: Some(served_methods()),
                partial_success: false,
            };
        }
        tracing::warn!(
            user,
            attempts = self.refusals,
            "sftp connection closed: too many refused logins ([infinia] sftp_max_auth_attempts)"
        );
        self.login.send_replace(Login::Refused);
        no_more_methods()
    }
}

impl SshSession {
    /// One login attempt by `how`: refused outright once the attempts are used up, accepted when
    /// `user` is an account that `ok` admits (and, with `log_in`, kept as the session's user),
    /// otherwise refused and counted.
    fn attempt(
        &mut self,
        user: &str,
        how: &str,
        log_in: bool,
        ok: impl FnOnce(&Account, &Core) -> bool,
    ) -> Auth {
        if self.exhausted() {
            return no_more_methods();
        }
        match self.account(user) {
            Some(account) if ok(&account, &self.core) => {
                if log_in {
                    // Evicted before this login (a newer connection took its place): the
                    // connection is being closed, and is not told it logged in first.
                    if !self.seat.log_in() {
                        return no_more_methods();
                    }
                    self.conn.logged_in(user);
                    self.user = Some(account);
                }
                Auth::Accept
            }
            _ => self.refuse(user, how),
        }
    }
}

/// The login methods the server serves: what it advertises (`russh::server::Config::methods`)
/// and offers again after a refusal.
pub fn served_methods() -> MethodSet {
    MethodSet::from(&[MethodKind::Password, MethodKind::PublicKey][..])
}

/// The refusal that ends the attempts: it lists only `none`, a method no client logs in with.
/// sshd disconnects at its `MaxAuthTries`-th failure instead of answering it, but the SSH library
/// gives a login handler no way to send a disconnect in place of the refusal (the connection
/// task's disconnect follows it at once). An empty list is not an answer that stops a client:
/// OpenSSH reads it as "go on with your own preferences", asked for one more password and sent
/// it unchecked; with only `none` listed it stops at once ("Permission denied (none)").
fn no_more_methods() -> Auth {
    Auth::Reject {
        proceed_with_methods: Some(MethodSet::from(&[MethodKind::None][..])),
        partial_success: false,
    }
}

impl russh::server::Handler for SshSession {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        Ok(self.attempt(user, "password", true, |account, core| {
            account.password_ok(core, password)
        }))
    }

    /// A key offered without a signature; a refusal counts (as in OpenSSH's `MaxAuthTries`).
    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        key: &russh::keys::PublicKey,
    ) -> Result<Auth, Self::Error> {
        Ok(self.attempt(user, "public-key", false, |account, _| account.key_ok(key)))
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: &russh::keys::PublicKey,
    ) -> Result<Auth, Self::Error> {
        Ok(self.attempt(user, "public-key", true, |account, _| account.key_ok(key)))
    }

    async fn auth_succeeded(&mut self, _session: &mut Session) -> Result<(), Self::Error> {
        self.login.send_replace(Login::Accepted);
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        let max = self.core.infinia().apps.config.sftp_max_channels;
        if self.open_channels.len() >= max {
            // The SSH library answers SSH_MSG_CHANNEL_OPEN_FAILURE, "administratively
            // prohibited", with its own fixed description ("Rejected").
            tracing::warn!(
                max,
                "sftp session channel refused: the connection already has {} open, the most it \
                 may ([infinia] sftp_max_channels); close one or open another connection",
                self.open_channels.len()
            );
            return Ok(false);
        }
        self.open_channels.insert(channel.id());
        self.channels.insert(channel.id(), channel);
        Ok(true)
    }

    /// The client closed a channel: it no longer counts against `sftp_max_channels`.
    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.open_channels.remove(&channel);
        self.channels.remove(&channel);
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.close(channel)
    }

    async fn subsystem_request(
        &mut self,
        channel_id: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (Some(user), "sftp") = (self.user.clone(), name) else {
            return session.channel_failure(channel_id);
        };
        let Some(channel) = self.channels.remove(&channel_id) else {
            return session.channel_failure(channel_id);
        };
        session.channel_success(channel_id)?;
        let fs = SftpFs::new(
            self.core.clone(),
            Arc::clone(&self.open_files),
            user.tenant(),
            user.area(),
        )
        .of_connection(Arc::clone(&self.conn));
        let config = russh_sftp::server::Config::default();
        // Not the library's `into_stream`: see `Drained` (a pipelining client jammed it).
        let channel = super::stream::drained(channel.split(), Arc::clone(&self.conn));
        let stream = super::stream::Framed::new(channel, config.max_client_packet_len);
        russh_sftp::server::run_with_config(stream, fs, config).await;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }
}
