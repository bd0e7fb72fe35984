//! The application: every long-lived part (store, clock, outbox, scenarios, journal, surfaces)
//! built once from the configuration, and the tasks that run them. `main` and tests build the
//! same `App`; tests bind `127.0.0.1:0` and get a [`RunningApp`] handle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api;
use crate::api::whalet::partners::Partners;
use crate::authorize::Authorizations;
use crate::clock::{Clock, ClockMode};
use crate::config::Config;
use crate::core::{Core, Parts, Surfaces};
use crate::http::client::HttpClient;
use crate::journal::Journal;
use crate::notify::Outbox;
use crate::scenario::Scenarios;
use crate::store::Store;
use crate::tenant::{Provider, TenantId};

/// Options that come from the command line rather than the file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub notify_url: Option<String>,
    pub clock_mode: Option<ClockMode>,
    pub start_time: Option<i64>,
    pub scenario_files: Vec<std::path::PathBuf>,
}

/// The whole simulator: the [`Core`] with every surface's handle registered in it, and the stop
/// signal of its tasks. Cheap to clone; dereferences to the core.
#[derive(Clone)]
pub struct App {
    core: Core,
    stop: CancellationToken,
    /// The clock flags given at this start, for the warning when a restored clock overrides
    /// them.
    clock_flags: ClockFlags,
    /// The clock mode this start set up (the flags', else the configuration's): a snapshot of
    /// all state loaded over a data dir replaces the directory's clock mode with it.
    start_mode: ClockMode,
    /// The data dir whose clock (mode and time) this start restored, until the warning about
    /// the clock flags it overrides is logged: at [`App::spawn`], unless a snapshot of all state
    /// replaced that clock first ([`App::load_snapshot`]), so that one line says what happened.
    dir_clock: Arc<parking_lot::Mutex<Option<std::path::PathBuf>>>,
    /// The scenarios the files given at this start (`--scenario`) loaded, as (name, tenant):
    /// any other loaded at the start was restored (a data dir's, a snapshot's).
    given_scenarios: Arc<Vec<ScenarioKey>>,
}

/// A loaded scenario's name and tenant (None: every tenant), which together name it.
type ScenarioKey = (String, Option<String>);

/// The (name, tenant) of every scenario `scenarios` holds, in load order.
fn scenario_keys(scenarios: &Scenarios) -> Vec<ScenarioKey> {
    scenarios
        .list(None)
        .iter()
        .map(|view| {
            let name = view["name"].as_str().unwrap_or_default().to_owned();
            (name, view["tenant"].as_str().map(str::to_owned))
        })
        .collect()
}

/// The clock options given at a start (`--manual-clock` or `--time-scale`, `--start-time`).
#[derive(Debug, Clone, Copy, Default)]
struct ClockFlags {
    mode: Option<ClockMode>,
    start_time: bool,
}

/// What set the clock at a start over the flags: the data dir (its mode and time) or a
/// snapshot (its time; a snapshot holds no clock mode).
enum ClockSource<'a> {
    DataDir(&'a std::path::Path),
    Snapshot(&'a std::path::Path),
}

impl ClockFlags {
    /// The flags given that `source` overrides, in command-line spelling.
    fn overridden(self, source: &ClockSource<'_>) -> Vec<&'static str> {
        let mut names = Vec::new();
        if let ClockSource::DataDir(_) = source {
            match self.mode {
                Some(ClockMode::Manual) => names.push("--manual-clock"),
                Some(ClockMode::Scaled { .. }) => names.push("--time-scale"),
                // No flag asks for it; a program building an `App` can.
                Some(ClockMode::Real) => names.push("the real clock mode asked for"),
                None => {}
            }
        }
        if self.start_time {
            names.push("--start-time");
        }
        names
    }
}

/// Warns that the clock flags given at this start are not applied where `source` set the
/// clock (the data dir's start, `serve --snapshot`), naming each flag given and overridden.
fn warn_clock_flags_not_applied(flags: ClockFlags, source: &ClockSource<'_>) {
    let names = flags.overridden(source);
    if names.is_empty() {
        return;
    }
    let given = match names.len() {
        1 => format!("{} is", names[0]),
        n => format!("{} and {} are", names[..n - 1].join(", "), names[n - 1]),
    };
    match source {
        ClockSource::DataDir(dir) => tracing::warn!(
            data_dir = %dir.display(),
            "the clock's mode and virtual time are the data dir's: {given} not applied (the \
             clock flags set up a new data dir only)"
        ),
        ClockSource::Snapshot(path) => tracing::warn!(
            snapshot = %path.display(),
            "the virtual time is the snapshot's (its now): {given} not applied (a clock mode \
             given is: a snapshot holds none)"
        ),
    }
}

/// A clock mode as the start's log lines name it: `real`, `manual`, `scaled (0.01)`.
fn mode_name(mode: ClockMode) -> String {
    match mode {
        ClockMode::Real => "real".into(),
        ClockMode::Manual => "manual".into(),
        ClockMode::Scaled { scale } => format!("scaled ({scale})"),
    }
}

impl std::ops::Deref for App {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl App {
    pub fn new(config: Config, options: Options) -> anyhow::Result<Self> {
        // The file's keys are checked whether or not a flag overrides them: a bad key is
        // refused at every start, not only at those without the flag.
        let (file_mode, file_start) = config.clock.settings().map_err(|e| config.refusal(e))?;
        let mode = options.clock_mode.unwrap_or(file_mode);
        let start = options.start_time.or(file_start);
        let clock = Clock::new(mode, start);
        let client = HttpClient::with_dns_lookups(config.notify.dns_lookups);
        let outbox = Outbox::new(
            clock.clone(),
            client.clone(),
            Duration::from_millis(config.notify.timeout_ms),
            config.notify.ledger_capacity,
        );
        outbox.set_concurrency(config.notify.concurrency_per_destination);
        if let Some(tag) = config.notify.run_tag {
            outbox.set_run_tag(tag);
        }
        let notify_url = options.notify_url.as_deref();
        // The CLI checks its flag; a program building an App directly gets the same check.
        if let Some(url) = notify_url {
            crate::config::check_notify_url(url)
                .map_err(|why| anyhow::anyhow!("notify URL {}: {why}", crate::text::echo(url)))?;
        }
        let store = Store::new();
        let mut surfaces = Surfaces::default();

        let partners = Arc::new(Partners::from_config(&config.whalet, notify_url)?);
        for id in partners.ids() {
            store.ensure_tenant(&TenantId::new(Provider::Whalet, id));
        }
        outbox.register(
            "whalet",
            Arc::new(api::whalet::transport::WhaletTransport {
                partners: partners.clone(),
                hex_case: config.whalet.hex_case,
                key_enc_form: config.whalet.key_enc_form,
            }),
        );
        let dispatch = Arc::new(api::whalet::Dispatch::new(&config.whalet.api_codes)?);
        surfaces.insert(dispatch.clone());
        surfaces.insert(partners);

        let pockyt = Arc::new(api::pockyt::Merchants::from_config(
            &config.pockyt,
            notify_url,
        )?);
        api::pockyt::ensure_tenants(&store, &pockyt, clock.now(), None);
        outbox.register(
            "pockyt",
            Arc::new(api::pockyt::transport::PockytTransport {
                merchants: pockyt.clone(),
            }),
        );
        surfaces.insert(pockyt);

        let infinia = Arc::new(api::infinia::Infinia::new(Arc::new(
            api::infinia::apps::Apps::from_config(&config.infinia, notify_url)?,
        ))?);
        api::infinia::ensure_tenants(&store, &infinia, clock.now(), None);
        outbox.register(
            "infinia",
            Arc::new(api::infinia::transport::InfiniaTransport {
                apps: infinia.apps.clone(),
            }),
        );
        surfaces.insert(infinia);

        let authorizations = Authorizations::new(
            &config.platform.seller_login,
            &config.platform.seller_password,
        );
        authorizations.register_surface(
            "platform",
            api::platform::decide_binding,
            api::platform::binding_standing,
        );
        authorizations.register_surface(
            "infinia",
            api::infinia::binding::decide_from_page,
            api::infinia::binding::standing_on_page,
        );
        authorizations.on_decided(crate::core::cancel_authorization_expiry);

        let mut triggers = Vec::new();
        triggers.extend(api::whalet::triggers());
        triggers.extend(api::pockyt::triggers());
        triggers.extend(api::platform::triggers());
        triggers.extend(api::infinia::triggers());
        triggers.extend(crate::core::timeline::triggers());
        let journal = Journal::new(&config.journal);
        let mut operations = api::catalog::scenario_operations(&config);
        operations.push(("infinia", crate::sftp::process::OPERATION.to_owned()));
        let scenarios = Scenarios::from_files(
            &clock,
            &options.scenario_files,
            &triggers,
            operations,
            &config.scenarios,
        )?;
        let given_scenarios = scenario_keys(&scenarios);
        outbox.set_gate(scenarios.delivery_gate());
        let coverage = api::coverage::coverage(&dispatch, &triggers);
        let observer = coverage.clone();
        outbox.set_observer(Arc::new(move |n| observer.delivery(n)));
        surfaces.insert(coverage);
        surfaces.insert(Arc::new(api::catalog::Descriptions::default()));
        surfaces.insert(api::catalog::install_contracts(
            &config,
            &outbox,
            &store.tenant_ids(),
        )?);
        let cpu = crate::core::cpu::CpuGate::new(config.server.cpu_parallelism);
        let data_dir = match &config.store.data_dir {
            Some(dir) => {
                Some(crate::persist::sqlite::DataDir::open(dir).map_err(anyhow::Error::msg)?)
            }
            None => None,
        };
        if let Some(dir) = &data_dir {
            surfaces.insert(Arc::new(crate::persist::sqlite::Handle(dir.clone())));
        }
        let core = Core::new(Parts {
            config,
            clock,
            store,
            outbox,
            journal,
            scenarios,
            client,
            triggers,
            authorizations,
            surfaces,
            cpu,
            timer_kinds: vec![
                crate::core::AUTHORIZATION_EXPIRY,
                crate::core::timeline::TIMELINE_EVENT,
                api::whalet::common::REVIEW_TIMER,
                api::platform::binding::AUTO_DECISION,
                api::platform::payment::PAYMENT_SETTLE,
                api::infinia::binding::SCENARIO_DECISION,
                api::infinia::sharing::SHARING_FINISH,
                api::pockyt::PAYOUT_STEP,
                api::pockyt::PAYEE_REVIEW,
                api::pockyt::ACCOUNT_REVIEW,
                crate::sftp::process::PROCESS_FILE,
            ],
        });
        api::catalog::describe_all(&core);
        api::catalog::check_contract_fields(&core)?;
        let dir_clock = Arc::new(parking_lot::Mutex::new(None));
        let clock_flags = ClockFlags {
            mode: options.clock_mode,
            start_time: options.start_time.is_some(),
        };
        if let Some(dir) = &data_dir {
            let restored = dir.attach(&core).map_err(anyhow::Error::msg)?;
            // The directory's clock wins over the start's: said at the spawn (a snapshot of
            // all state loaded before it replaces that clock, and says so instead).
            if restored.clock {
                *dir_clock.lock() = Some(dir.dir().to_owned());
            }
            tracing::info!(
                data_dir = %dir.dir().display(),
                tenants = restored.tenants,
                entities = restored.entities,
                postings = restored.postings,
                request_nos = restored.request_nos,
                notifications = restored.notifications,
                pending_notifications = restored.pending_notifications,
                timers = restored.timers,
                authorizations = restored.authorizations,
                scenarios = restored.scenarios,
                journal = restored.journal,
                "state restored from the data dir"
            );
            warn_unconfigured(&core, "the data dir");
        }
        Ok(Self {
            core,
            stop: CancellationToken::new(),
            clock_flags,
            start_mode: mode,
            dir_clock,
            given_scenarios: Arc::new(given_scenarios),
        })
    }

    /// Replaces all state with the snapshot in `path` (`serve --snapshot FILE`), logging what
    /// was restored. The scenario files given at this start (`--scenario`) are loaded again
    /// over the scenarios it restored, as over a data dir's: the import would drop them. A file
    /// that is not a snapshot, of a newer schema or corrupt is refused with a message naming it.
    /// The virtual time is the snapshot's: a `--start-time` given is logged as not applied.
    pub fn load_snapshot(&self, path: &std::path::Path) -> anyhow::Result<()> {
        let snapshot = crate::persist::read_file(path).map_err(anyhow::Error::msg)?;
        let scope_all = snapshot.scope == crate::persist::Scope::All;
        // The import refuses a scenario it cannot load, so each one the snapshot holds is
        // restored (a `--scenario` file of the same name and tenant then replaces it).
        let scenarios = snapshot.scenarios.as_ref().map_or(0, |s| s.loaded.len());
        let restored = crate::persist::import_at_start(&self.core, snapshot)
            .map_err(|e| anyhow::anyhow!("snapshot {}: {e}", path.display()))?;
        if scope_all {
            // The snapshot replaces what a data dir held, its clock's mode too: the clock is
            // set up as without the data dir (a snapshot holds no mode), at the snapshot's now.
            if let Some(dir) = self.dir_clock.lock().take() {
                let held = self.core.clock().mode();
                if held != self.start_mode {
                    self.core.clock().set_mode(self.start_mode);
                    tracing::info!(
                        data_dir = %dir.display(),
                        "the clock's mode is {} (this start's), not the data dir's {}: the \
                         snapshot replaced what the directory held, its clock included",
                        mode_name(self.start_mode),
                        mode_name(held)
                    );
                }
            }
            warn_clock_flags_not_applied(self.clock_flags, &ClockSource::Snapshot(path));
        }
        tracing::info!(
            tenants = restored.tenants,
            notifications = restored.notifications,
            pending = restored.pending_notifications,
            timers = restored.timers,
            scenarios,
            "state restored from snapshot {}",
            path.display()
        );
        warn_unconfigured(&self.core, "the snapshot");
        Ok(())
    }

    /// The scenarios loaded now that no file given at this start (`--scenario`) loaded: those
    /// restored from a data dir or a snapshot (and not replaced by a file's), as
    /// (name, tenant), in load order. For the ready line.
    pub fn restored_scenarios(&self) -> Vec<(String, Option<String>)> {
        scenario_keys(self.core.scenarios())
            .into_iter()
            .filter(|key| !self.given_scenarios.contains(key))
            .collect()
    }

    /// The core every surface stands on.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Serves on `listener` with the background workers until [`RunningApp::shutdown`].
    pub fn spawn(self, listener: TcpListener) -> RunningApp {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let stop = self.stop.clone();
        if let Some(dir) = self.dir_clock.lock().take() {
            warn_clock_flags_not_applied(self.clock_flags, &ClockSource::DataDir(&dir));
        }
        // Fixed from here on: a scenario about a tenant that does not exist can never apply.
        let store = self.core.store();
        for warning in self
            .core
            .scenarios()
            .missing_tenants(|t| store.has_tenant(t))
        {
            tracing::warn!("{warning}");
        }
        crate::core::timeline::schedule_pending(&self.core);
        let driver = tokio::spawn(self.clock().clone().run_driver(stop.clone()));
        let limits = self.config().server.limits();
        let routes = crate::routes::Routes(self.core.clone(), addr);
        let server = tokio::spawn(crate::http::serve(listener, routes, limits, stop.clone()));
        let mut tasks = vec![("server", server), ("clock driver", driver)];
        tasks.extend(crate::sftp::spawn(&self.core, stop.clone()).map(|t| ("sftp", t)));
        RunningApp {
            addr,
            app: self,
            stop,
            tasks,
        }
    }
}

/// How much longer than the attempt timeout a clean stop waits for the notification attempts
/// in flight: the time to write down an attempt whose request ended at its timeout.
pub const ATTEMPT_RECORD_GRACE: Duration = Duration::from_millis(250);

/// A serving simulator. Dropping it does not stop it; call [`RunningApp::shutdown`].
pub struct RunningApp {
    pub addr: SocketAddr,
    pub app: App,
    stop: CancellationToken,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl RunningApp {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, drains connections and stops the workers, and, with a data dir, waits
    /// for the notification attempts in flight (each records its verdict) before its last
    /// commit: at most the attempt timeout (`[notify] timeout_ms`) and [`ATTEMPT_RECORD_GRACE`]
    /// from the stop's start, so that a receiver that never answers cannot hold the stop
    /// longer, and never more than [`crate::notify::STOP_WAIT`] (an attempt still unanswered
    /// then is recorded as failed, its retry scheduled). No attempt starts once the stop has
    /// begun ([`Outbox::stop`]).
    pub async fn shutdown(self) {
        let outbox = self.app.core().outbox().clone();
        // The wait for the attempts counts from here, alongside the drain. Without a data dir
        // nothing outlives the process, so none is waited for: they are cut off at once.
        let wait = match crate::persist::sqlite::data_dir(&self.app) {
            Some(_) => (outbox.timeout() + ATTEMPT_RECORD_GRACE).min(crate::notify::STOP_WAIT),
            None => Duration::ZERO,
        };
        let deadline = tokio::time::Instant::now() + wait;
        outbox.stop();
        self.stop.cancel();
        for (name, task) in self.tasks {
            if let Err(e) = task.await {
                tracing::error!(task = name, error = %e, "task ended abnormally");
            }
        }
        let left = outbox.stopped(deadline, ATTEMPT_RECORD_GRACE).await;
        if left > 0 {
            tracing::warn!(
                attempts = left,
                "gave up waiting for notification attempts in flight: they are not recorded and \
                 are sent again after a restart on the data dir"
            );
        }
        if let Some(dir) = crate::persist::sqlite::data_dir(&self.app) {
            dir.close();
        }
    }

    /// Runs until `signal` (Ctrl-C or SIGTERM) arrives, then shuts down.
    pub async fn run_until(self, signal: ShutdownSignal) {
        signal.received().await;
        tracing::info!("shutting down: draining in-flight requests");
        self.shutdown().await;
    }
}

/// Ctrl-C and SIGTERM, registered when this is made: make it before the server answers, so a
/// signal sent as soon as it is ready is never missed (the default action would kill the
/// process instead of draining it).
pub struct ShutdownSignal {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignal {
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Self {
                term: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn received(self) {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = next(self.interrupt) => tracing::info!("received Ctrl-C"),
                _ = next(self.term) => tracing::info!("received SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("received Ctrl-C");
        }
    }
}

/// Parses an RFC 3339 time into epoch milliseconds.
pub fn parse_rfc3339(text: &str) -> anyhow::Result<i64> {
    let dt = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| anyhow::anyhow!("{text:?} is not an RFC 3339 time: {e}"))?;
    Ok((dt.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Warns of restored tenants no configuration defines (`source`: the data dir, the snapshot):
/// they keep their state but cannot be called (docs/PERSISTENCE.md, "What is not kept"), which
/// a partner otherwise learns from a bare PARTNER_NOT_EXIST.
fn warn_unconfigured(core: &Core, source: &str) {
    let store = core.store();
    let orphans: Vec<String> = store
        .tenant_ids()
        .into_iter()
        .filter(|t| !store.is_configured(t))
        .map(|t| t.to_string())
        .collect();
    if !orphans.is_empty() {
        tracing::warn!(
            "{source} holds tenants no configuration defines: {}; they keep their state but \
             cannot be called, and their notifications have nowhere to go (start with the \
             configuration the state was made with, or add them: [[whalet.partners]], \
             [[infinia.apps]], [[pockyt.merchants]])",
            orphans.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data dir overrides the mode and the time, a snapshot of all state only the time; only
    /// the flags given are named.
    #[test]
    fn only_the_clock_flags_given_and_overridden_are_named() {
        let dir = std::path::Path::new("d");
        let (data_dir, snapshot) = (ClockSource::DataDir(dir), ClockSource::Snapshot(dir));
        let manual_at = ClockFlags {
            mode: Some(ClockMode::Manual),
            start_time: true,
        };
        assert_eq!(
            manual_at.overridden(&data_dir),
            ["--manual-clock", "--start-time"]
        );
        assert_eq!(manual_at.overridden(&snapshot), ["--start-time"]);
        let scaled = ClockFlags {
            mode: Some(ClockMode::Scaled { scale: 0.5 }),
            start_time: false,
        };
        assert_eq!(scaled.overridden(&data_dir), ["--time-scale"]);
        assert!(scaled.overridden(&snapshot).is_empty());
        assert!(ClockFlags::default().overridden(&data_dir).is_empty());
    }
}
