//! One SSH connection: authenticates the app's account, accepts session channels and starts the
//! `sftp` subsystem on them (shell, exec and other subsystems are refused).

use std::collections::HashMap;
use std::sync::Arc;

use russh::server::{Auth, Msg, Session};
use russh::{Channel, ChannelId};

use super::auth;
use super::fs::SftpFs;
use crate::api::infinia::apps::InfiniaApp;
use crate::core::Core;
use crate::tenant::{Provider, TenantId};

pub struct SshSession {
    pub core: Core,
    pub user: Option<Arc<InfiniaApp>>,
    pub channels: HashMap<ChannelId, Channel<Msg>>,
}

impl SshSession {
    fn account(&self, user: &str) -> Option<Arc<InfiniaApp>> {
        self.core.infinia().apps.get(user)
    }
}

impl russh::server::Handler for SshSession {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        match self.account(user) {
            Some(app) if auth::password_ok(&app, password) => {
                self.user = Some(app);
                Ok(Auth::Accept)
            }
            _ => {
                tracing::info!(user, "sftp password login refused");
                Ok(Auth::reject())
            }
        }
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        key: &russh::keys::PublicKey,
    ) -> Result<Auth, Self::Error> {
        Ok(match self.account(user) {
            Some(app) if auth::key_ok(&app, key) => Auth::Accept,
            _ => Auth::reject(),
        })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: &russh::keys::PublicKey,
    ) -> Result<Auth, Self::Error> {
        match self.account(user) {
            Some(app) if auth::key_ok(&app, key) => {
                self.user = Some(app);
                Ok(Auth::Accept)
            }
            _ => {
                tracing::info!(user, "sftp public-key login refused");
                Ok(Auth::reject())
            }
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.channels.insert(channel.id(), channel);
        Ok(true)
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
        let tenant = TenantId::new(Provider::Infinia, user.app_id.clone());
        let fs = SftpFs::new(self.core.clone(), tenant);
        russh_sftp::server::run(channel.into_stream(), fs).await;
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
