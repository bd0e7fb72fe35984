//! `serve --data-dir DIR` (`[store] data_dir`): all state in one SQLite database,
//! `DIR/whalet-sim.db` (bundled SQLite, WAL mode), in tables named after what they hold
//! (docs/PERSISTENCE.md). A lock file, `DIR/whalet-sim.lock`, and a lock on `DIR` itself keep a
//! second simulator out.
//!
//! Writing: the store and the outbox tell a [`DataDir`] what changed (tenants whose lock was
//! taken, notifications added or changed). Before a reply leaves, `routes` calls
//! [`before_reply`], which waits until every change made so far is committed; one transaction
//! commits the changes of every request waiting at that moment (group commit), on a blocking
//! thread, after the reply was sealed (disk I/O is never on the RSA path). When that commit
//! fails, the reply is not sent: the route table answers 503 with [`before_reply`]'s message.
//! A background thread commits what timers change between requests, every
//! [`BACKGROUND_WRITE_INTERVAL`] (100 ms), and the
//! virtual time of a running clock once every [`CLOCK_WRITE_INTERVAL`] (a `kill -9` of an idle
//! simulator does not take its restart back to the last change).
//!
//! Per tenant only changed rows are written: each entity's JSON is compared with what was last
//! written (a hash), ledger postings and requestNos are appended (the forgotten oldest deleted).
//! After the state was replaced wholesale ([`state_replaced`]: a snapshot import) or a failed
//! write, the next commit rewrites every table instead. An SFTP file still open for writing is
//! not stored until it is closed; a file content no row names any more is deleted once the
//! commit that stopped naming it is done.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rusqlite::{params, Connection};
use serde_json::{json, Map, Value};

use crate::authorize::LinkRecord;
use crate::clock::{ClockMode, TimerRecord};
use crate::core::Core;
use crate::notify::{Notification, OutboxState};
use crate::scenario::persist::{CounterRecord, LoadedRecord, ScenariosRecord};
use crate::store::ledger::Posting;
use crate::store::{persist, ChangeSink, TenantState};
use crate::tenant::TenantId;

pub const DB_FILE: &str = "whalet-sim.db";
pub const LOCK_FILE: &str = "whalet-sim.lock";
/// How often the background writer records the virtual time of a running (real or scaled)
/// clock that nothing else wrote: a `kill -9` goes back at most about this much wall time
/// (plus the writer's [`BACKGROUND_WRITE_INTERVAL`]), and an idle simulator writes at most once per interval.
pub const CLOCK_WRITE_INTERVAL: Duration = Duration::from_secs(1);
/// How often the background writer commits what changed between requests (deliveries, timers'
/// work) when no reply's commit did: a `kill -9` loses at most about this much of it (plus the
/// commit's own time), which then runs again after the restart (docs/PERSISTENCE.md, "At least
/// once").
pub const BACKGROUND_WRITE_INTERVAL: Duration = Duration::from_millis(100);
/// The database schema this simulator writes (`PRAGMA user_version`).
pub const DB_SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tenants (
    tenant TEXT PRIMARY KEY,
    sequence INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS entities (
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, id)
);
CREATE TABLE IF NOT EXISTS ledger_postings (
    tenant TEXT NOT NULL,
    id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    memo TEXT NOT NULL,
    legs TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS request_nos (
    tenant TEXT NOT NULL,
    seq INTEGER NOT NULL,
    request_no TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
);
CREATE TABLE IF NOT EXISTS notifications (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    status TEXT NOT NULL,
    next_attempt_at INTEGER,
    json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    mode TEXT NOT NULL,
    now INTEGER NOT NULL,
    wall INTEGER
);
CREATE TABLE IF NOT EXISTS timers (
    id INTEGER PRIMARY KEY,
    due INTEGER NOT NULL,
    kind TEXT NOT NULL,
    tenant TEXT,
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    params TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS authorizations (
    token TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    surface TEXT NOT NULL,
    business_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scenarios (
    generation INTEGER PRIMARY KEY,
    tenant TEXT,
    name TEXT NOT NULL,
    loaded_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    text TEXT NOT NULL,
    fired TEXT NOT NULL,
    cancelled TEXT
);
CREATE TABLE IF NOT EXISTS scenario_counters (
    generation INTEGER NOT NULL,
    rule INTEGER NOT NULL,
    tenant TEXT NOT NULL,
    count INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    PRIMARY KEY (generation, rule, tenant)
);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY,
    tenant TEXT,
    operation TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    status TEXT,
    PRIMARY KEY (tenant, kind, id)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// The sections of a tenant's state stored as entity rows (`kind` = `section.field`).
const SECTIONS: [&str; 6] = [
    "idempotency",
    "whalet",
    "whalet_trade",
    "platform",
    "infinia",
    "pockyt",
];

fn section_value(t: &TenantState, section: &str) -> serde_json::Result<Value> {
    match section {
        "idempotency" => serde_json::to_value(&t.idempotency),
        "whalet" => serde_json::to_value(&t.whalet),
        "whalet_trade" => serde_json::to_value(&t.whalet_trade),
        "platform" => serde_json::to_value(&t.platform),
        "infinia" => serde_json::to_value(&t.infinia),
        _ => serde_json::to_value(&t.pockyt),
    }
}

/// The row collections of a tenant's state kept in a [`crate::store::Rows`], which can grow
/// large with what clients send (an Infinia app's accepted trades, up to `[infinia]
/// max_trades`), each as its entity kind, its generation and its value: left out of their
/// section's value ([`crate::store::rows::held_apart`]) and serialized on their own only when
/// their generation moved since their rows were written. Otherwise each commit of the tenant
/// (any request that takes its lock) would serialize and hash every row, in the consistent cut
/// that holds every other request meanwhile.
type ApartRows = (
    &'static str,
    fn(&TenantState) -> u64,
    fn(&TenantState) -> serde_json::Result<Value>,
);
const APART: [ApartRows; 1] = [(
    "infinia.trades",
    |t| t.infinia.trades.generation(),
    |t| serde_json::to_value(&t.infinia.trades),
)];

/// What was last written of one tenant.
#[derive(Default)]
struct Written {
    /// kind → id → hash of the JSON text.
    rows: HashMap<String, HashMap<String, u64>>,
    /// The generation of each [`APART`] collection whose rows `rows` holds as written.
    generations: HashMap<&'static str, u64>,
    postings: usize,
    /// The fingerprint of the newest posting written ([`posting_hash`]).
    last_posting: Option<u64>,
    request_no_last: Option<String>,
    request_no_next_seq: i64,
    request_no_count: usize,
    sequence: Option<u64>,
}

/// Changes not yet committed.
#[derive(Default)]
struct Marks {
    dirty: Mutex<BTreeSet<TenantId>>,
    generation: AtomicU64,
}

impl Marks {
    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

struct Sink(Arc<Marks>);

impl ChangeSink for Sink {
    fn changed(&self, tenant: &TenantId) {
        self.0.dirty.lock().insert(tenant.clone());
        self.0.bump();
    }
}

/// An open data directory. Dropping it (or [`DataDir::close`]) releases the lock file.
pub struct DataDir {
    dir: PathBuf,
    conn: Mutex<Option<(Connection, HashMap<TenantId, Written>)>>,
    marks: Arc<Marks>,
    committed: AtomicU64,
    /// Write the whole `timers` table again at the next commit (after a restore: the clock's
    /// timer ids are new).
    rewrite_timers: AtomicBool,
    /// Bumped when the state was replaced wholesale (a snapshot import, a reset) or a write
    /// failed: the next commit rewrites every table instead of appending to what is there.
    replaced: AtomicU64,
    /// The value of `replaced` the database was last fully rewritten for.
    written_replaced: AtomicU64,
    /// The virtual time last written.
    written_now: std::sync::atomic::AtomicI64,
    /// [`crate::clock::Clock::changes_asked`] when the clock was last written: a mode switch or
    /// an advance is written before its answer leaves, whatever the mode.
    written_clock_changes: AtomicU64,
    /// When (wall time) the virtual time was last written: a running clock is written again
    /// [`CLOCK_WRITE_INTERVAL`] later ([`DataDir::clock_behind`]).
    written_now_at: Mutex<Instant>,
    /// The versions of the links and the scenarios last written, the newest journal id written.
    written_links: AtomicU64,
    written_scenarios: AtomicU64,
    written_journal: AtomicU64,
    /// [`crate::journal::Journal::generation`] when the journal table was last written whole: a
    /// clear (`DELETE /__sim/requests`) is written before its answer leaves.
    written_journal_generation: AtomicU64,
    closed: AtomicBool,
    /// Set by [`DataDir::close`]: its last commit writes the virtual time even of a real or
    /// scaled clock (between requests only a manual clock's move counts as a change).
    stopping: AtomicBool,
    /// Why the last commit at stop failed ([`DataDir::stop_error`]).
    stop_error: Mutex<Option<String>>,
    /// Entity rows serialized by the commits so far ([`DataDir::entity_rows_read`]).
    entity_rows_read: AtomicU64,
    core: OnceLock<Core>,
    lock: Mutex<Option<DirLock>>,
    /// The writer thread's queue, started by the first reply that waits for a commit
    /// ([`DataDir::commit_for_reply`]).
    writer: OnceLock<std::sync::mpsc::Sender<Waiter>>,
}

/// A reply waiting for its changes to be committed: told how the commit went.
type Waiter = tokio::sync::oneshot::Sender<Result<(), String>>;

/// What a start found in the data directory.
#[derive(Debug, Clone, Default)]
pub struct Restored {
    /// The clock's mode and virtual time came from the directory (it held state).
    pub clock: bool,
    pub tenants: usize,
    pub entities: usize,
    pub postings: usize,
    pub request_nos: usize,
    pub notifications: usize,
    pub pending_notifications: usize,
    pub timers: usize,
    pub authorizations: usize,
    pub scenarios: usize,
    pub journal: usize,
    /// Uploads ended INCOMPLETE, as (tenant, file name): their file was open for writing again
    /// when the simulator stopped ([`super::check::end_abandoned_uploads`]).
    pub ended_uploads: Vec<super::EndedUpload>,
}

impl DataDir {
    /// Opens (creating) `dir`: takes the lock file, opens the database in WAL mode and checks
    /// its schema version. Refused, naming the file, when another simulator holds the lock, the
    /// database is newer or is not a database.
    pub fn open(dir: &Path) -> Result<Arc<Self>, String> {
        if dir.exists() && !dir.is_dir() {
            return Err(format!(
                "data dir {}: not a directory; name a directory (it is created if missing)",
                dir.display()
            ));
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("data dir {}: cannot create it: {e}", dir.display()))?;
        let lock = take_lock(dir).map_err(|e| format!("data dir {}: {e}", dir.display()))?;
        let conn = match open_db(dir) {
            Ok(conn) => conn,
            Err(e) => {
                drop(lock);
                return Err(e);
            }
        };
        Ok(Arc::new(Self {
            dir: dir.to_owned(),
            conn: Mutex::new(Some((conn, HashMap::new()))),
            marks: Arc::new(Marks::default()),
            committed: AtomicU64::new(0),
            rewrite_timers: AtomicBool::new(true),
            replaced: AtomicU64::new(0),
            written_replaced: AtomicU64::new(0),
            written_now: std::sync::atomic::AtomicI64::new(i64::MIN),
            written_clock_changes: AtomicU64::new(u64::MAX),
            written_now_at: Mutex::new(Instant::now()),
            written_links: AtomicU64::new(u64::MAX),
            written_scenarios: AtomicU64::new(u64::MAX),
            written_journal: AtomicU64::new(0),
            written_journal_generation: AtomicU64::new(u64::MAX),
            closed: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            stop_error: Mutex::new(None),
            entity_rows_read: AtomicU64::new(0),
            core: OnceLock::new(),
            lock: Mutex::new(Some(lock)),
            writer: OnceLock::new(),
        }))
    }
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many entity rows the commits so far serialized (and hashed) to find what changed:
    /// a row collection that did not change ([`APART`]) adds none.
    pub fn entity_rows_read(&self) -> u64 {
        self.entity_rows_read.load(Ordering::Acquire)
    }

    /// Restores what the database holds into `core` (state, notifications with their timers,
    /// the clock), then starts tracking changes and the background writer.
    pub fn attach(self: &Arc<Self>, core: &Core) -> Result<Restored, String> {
        let mut restored = Restored::default();
        let from_db: BTreeSet<TenantId>;
        {
            let mut guard = self.conn.lock();
            let Some((conn, written)) = guard.as_mut() else {
                return Err("data dir is closed".into());
            };
            collect_garbage(conn, &self.dir);
            let loaded = load(conn, &self.dir, written, &mut restored)
                .map_err(|e| format!("database {}: {e}", self.dir.join(DB_FILE).display()))?;
            from_db = written.keys().cloned().collect();
            let journal_last = journal_last_id(conn)
                .map_err(|e| format!("database {}: {e}", self.dir.join(DB_FILE).display()))?;
            let request_seq = next_request_seq(conn)
                .map_err(|e| format!("database {}: {e}", self.dir.join(DB_FILE).display()))?;
            if let Some((mut snapshot, mode, written_at)) = loaded {
                restored.clock = true;
                core.clock().set_mode(mode);
                // A real clock went on while the process was down (docs/PERSISTENCE.md).
                snapshot.now = resumed_now(mode, snapshot.now, written_at);
                // A saved scenario that today's checks refuse does not keep the rest from
                // starting: it is set aside, logged with its text (docs/PERSISTENCE.md).
                let set_aside = super::set_aside_unloadable(core, &mut snapshot);
                restored.scenarios = restored.scenarios.saturating_sub(set_aside.len());
                restored.timers = snapshot.timers.len();
                // Scenario files given at this start load over what the directory held.
                super::import_at_start(core, snapshot)
                    .map_err(|e| format!("database {}: {e}", self.dir.join(DB_FILE).display()))?;
                super::uploads_ended(
                    core,
                    &restored.ended_uploads,
                    super::check::STOPPED_WHILE_WRITTEN,
                );
                // The import marked the state replaced; the database already holds it.
                self.written_replaced
                    .store(self.replaced.load(Ordering::Acquire), Ordering::Release);
            }
            // Ids go on after the last one given, even when a clear left no entry to say it.
            core.journal().go_on_after(journal_last);
            // RequestNos go on past the last one given, even when an import took the
            // notification numbering back before the stop.
            core.outbox().go_on_after_requests(request_seq);
        }
        let _ = self.core.set(core.clone());
        core.store()
            .set_change_sink(Arc::new(Sink(self.marks.clone())));
        let marks = self.marks.clone();
        core.outbox()
            .set_change_sink(Arc::new(move || marks.bump()));
        let marks = self.marks.clone();
        core.clock().track_records(Arc::new(move || marks.bump()));
        self.rewrite_timers.store(true, Ordering::Release);
        // A tenant the database did not hold is written once; the rows of the others are
        // known (their hashes were taken while reading) and are written when they change.
        for id in core.store().tenant_ids() {
            if !from_db.contains(&id) {
                self.marks.dirty.lock().insert(id);
            }
        }
        self.marks.bump();
        self.commit()?;
        let me = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("data-dir writer".into())
            .spawn(move || loop {
                std::thread::sleep(BACKGROUND_WRITE_INTERVAL);
                let Some(dir) = me.upgrade() else { return };
                if dir.closed.load(Ordering::Acquire) {
                    return;
                }
                let due = |d: &Self| d.pending() || d.clock_behind();
                if due(&dir) {
                    if let Err(e) = dir.commit_when(due, || {}) {
                        tracing::error!(error = %e, "data dir write failed");
                    }
                }
            })
            .map_err(|e| format!("cannot start the data-dir writer: {e}"))?;
        Ok(restored)
    }

    /// Changes not yet committed? A manual clock that was moved counts as a change (an
    /// advance that ran no timer still moves the virtual time a restart resumes from).
    pub fn pending(&self) -> bool {
        self.marks.generation.load(Ordering::Acquire) > self.committed.load(Ordering::Acquire)
            || self.clock_moved()
            || self.must_rewrite()
    }

    /// The state was replaced (or a write failed) since the database was last fully written.
    fn must_rewrite(&self) -> bool {
        self.replaced.load(Ordering::Acquire) != self.written_replaced.load(Ordering::Acquire)
    }

    /// Notes that the state was replaced wholesale: the next commit rewrites every table.
    fn mark_replaced(&self) {
        self.replaced.fetch_add(1, Ordering::AcqRel);
        self.marks.bump();
    }

    /// A running (real or scaled) clock's virtual time was last written at least
    /// [`CLOCK_WRITE_INTERVAL`] ago: only the background writer asks (a request's commit never
    /// waits for the clock alone), so that a `kill -9` of an idle simulator does not take its
    /// restart back to the last change.
    fn clock_behind(&self) -> bool {
        self.core.get().is_some_and(|core| {
            core.clock().mode() != ClockMode::Manual
                && core.clock().now() != self.written_now.load(Ordering::Acquire)
                && self.written_now_at.lock().elapsed() >= CLOCK_WRITE_INTERVAL
        })
    }

    fn clock_moved(&self) -> bool {
        self.core.get().is_some_and(|core| {
            let counted =
                core.clock().mode() == ClockMode::Manual || self.stopping.load(Ordering::Acquire);
            (counted && core.clock().now() != self.written_now.load(Ordering::Acquire))
                || core.clock().changes_asked()
                    != self.written_clock_changes.load(Ordering::Acquire)
                || core.authorizations().version() != self.written_links.load(Ordering::Acquire)
                || core.scenarios().version() != self.written_scenarios.load(Ordering::Acquire)
                || core.journal().last_id() != self.written_journal.load(Ordering::Acquire)
                || core.journal().generation()
                    != self.written_journal_generation.load(Ordering::Acquire)
        })
    }

    /// Commits every change made before the call (blocking; one transaction for all changes
    /// waiting at that moment). After the state was replaced (an import, a reset) or a failed
    /// write, the transaction rewrites every table instead.
    pub fn commit(&self) -> Result<(), String> {
        self.commit_when(Self::pending, || {})
    }

    /// [`DataDir::commit`] when `due` says there is something to write (asked again once the
    /// connection is ours: someone else's transaction may have covered us while we waited).
    /// `between` runs after the cut is read and before it is written: the clock and the other
    /// units of work go on there (a test moves them there, as a running advance does).
    fn commit_when(
        &self,
        due: impl Fn(&Self) -> bool,
        between: impl FnOnce(),
    ) -> Result<(), String> {
        if !due(self) {
            return Ok(());
        }
        let Some(core) = self.core.get() else {
            return Ok(());
        };
        let mut guard = self.conn.lock();
        if !due(self) {
            return Ok(());
        }
        let target = self.marks.generation.load(Ordering::Acquire);
        let epoch = self.replaced.load(Ordering::Acquire);
        let full = epoch != self.written_replaced.load(Ordering::Acquire);
        let clock_changes = core.clock().changes_asked();
        let Some((conn, written)) = guard.as_mut() else {
            return Ok(());
        };
        if full {
            written.clear();
        }
        // Read while no unit of work runs (`crate::cut`): the tenants, timers and notifications
        // of one commit, the virtual time and the numbering they were made at are one
        // consistent cut, so a restart after `kill -9` never finds a pending object without its
        // timer, nor a clock past timers still pending or numbers past the notifications kept
        // (an advance steps the clock on meanwhile). Written to disk after the cut is released.
        let (tenants, reads, notifications, timers, extras, stamp) =
            core.clock().cut().still(|| {
                let mut tenants = std::mem::take(&mut *self.marks.dirty.lock());
                let mut notifications = core.outbox().take_changes();
                let timer_changes = core.clock().take_record_changes();
                if full {
                    tenants.extend(core.store().tenant_ids());
                    notifications = all_notifications(core);
                }
                let timers = if self.rewrite_timers.swap(false, Ordering::AcqRel) || full {
                    TimerWrite::All(core.clock().records_with_ids())
                } else {
                    TimerWrite::Changes(timer_changes)
                };
                let reads = tenants
                    .iter()
                    .map(|id| {
                        let w = written.entry(id.clone()).or_default();
                        core.store().read_tenant(id, |t| read_tenant(t, w))
                    })
                    .collect::<Vec<_>>();
                let extras = self.extras(core, full);
                let stamp = Stamp::of(core);
                (tenants, reads, notifications, timers, extras, stamp)
            });
        between();
        let serialized = reads
            .iter()
            .flatten()
            .flatten()
            .map(|r| r.rows.len() as u64);
        self.entity_rows_read
            .fetch_add(serialized.sum(), Ordering::AcqRel);
        let now = stamp.now;
        let batch = Batch {
            full,
            tenants: &tenants,
            notifications: &notifications,
            timers: &timers,
            extras,
            stamp,
        };
        let result = write(conn, written, &self.dir, (&batch, reads));
        match result {
            Ok(superseded) => {
                remove_unused_contents(conn, &self.dir, superseded);
                self.committed.fetch_max(target, Ordering::AcqRel);
                self.written_replaced.store(epoch, Ordering::Release);
                self.written_now.store(now, Ordering::Release);
                self.written_clock_changes
                    .store(clock_changes, Ordering::Release);
                *self.written_now_at.lock() = Instant::now();
                let extras = &batch.extras;
                if let Some((v, _)) = &extras.links {
                    self.written_links.store(*v, Ordering::Release);
                }
                if let Some((v, _)) = &extras.scenarios {
                    self.written_scenarios.store(*v, Ordering::Release);
                }
                self.written_journal
                    .store(extras.journal_last, Ordering::Release);
                self.written_journal_generation
                    .store(extras.journal_generation, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                // Nothing was committed: write everything again next time.
                self.marks.dirty.lock().extend(tenants);
                self.mark_replaced();
                Err(format!(
                    "database {}: {e}",
                    self.dir.join(DB_FILE).display()
                ))
            }
        }
    }

    /// What to write of the links, the scenarios and the journal: what changed since the last
    /// commit, or all of it (`full`).
    fn extras(&self, core: &Core, full: bool) -> Extras {
        let links = core.authorizations().version();
        let scenarios = core.scenarios().version();
        // The generation is read before the entries: a clear after it is written next time.
        let journal_generation = core.journal().generation();
        let journal_whole =
            full || journal_generation != self.written_journal_generation.load(Ordering::Acquire);
        let journal_last = core.journal().last_id();
        let after = if journal_whole {
            0
        } else {
            self.written_journal.load(Ordering::Acquire)
        };
        Extras {
            links: (full || links != self.written_links.load(Ordering::Acquire))
                .then(|| (links, core.authorizations().export(None))),
            scenarios: (full || scenarios != self.written_scenarios.load(Ordering::Acquire))
                .then(|| (scenarios, core.scenarios().export(None))),
            journal: core.journal().since(after),
            journal_last,
            journal_generation,
            journal_whole,
        }
    }

    /// Commits what is left (with the current virtual time, whatever the clock), then stops
    /// writing and releases the lock file. A failed last write is logged and kept for
    /// [`DataDir::stop_error`]: `serve` then exits non-zero.
    pub fn close(&self) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        self.stopping.store(true, Ordering::Release);
        if let Err(e) = self.commit() {
            tracing::error!(error = %e, "data dir: last write failed; the changes since the last commit are lost");
            *self.stop_error.lock() = Some(e);
        }
        self.release();
    }

    /// Stops writing and releases the lock file without a last commit: for a start refused
    /// after the directory was opened (its `--snapshot` did not read, its address was taken),
    /// which must not leave its process id in the lock file.
    pub fn release(&self) {
        self.closed.store(true, Ordering::Release);
        *self.conn.lock() = None;
        drop(self.lock.lock().take());
    }

    /// Why the last write at [`DataDir::close`] failed, if it did.
    pub fn stop_error(&self) -> Option<String> {
        self.stop_error.lock().clone()
    }
}

/// Called by the route table (and the SFTP server) before a reply leaves: waits until every
/// change so far is committed (off the async workers). Nothing to do without a data directory.
/// Returns the message to answer instead of the reply when the commit failed (None: every
/// change is durable): the changes are in memory but not durable, and what to do.
pub async fn before_reply(core: &Core) -> Option<String> {
    let dir = data_dir(core)?;
    if !dir.pending() {
        return None;
    }
    let failed = match dir.commit_for_reply().await {
        Ok(()) => return None,
        Err(e) => e,
    };
    tracing::error!(error = %failed, "data dir write failed; replies are 503 until a write succeeds");
    Some(not_durable(&failed))
}

impl DataDir {
    /// Commits every change so far on the data directory's own writer thread, for a reply
    /// that waits for it. Not on the runtime's blocking pool: that pool also seals
    /// notifications, and a burst of seals queued there held every reply of a server with a
    /// data directory behind it. Replies that wait together share one commit (each change a
    /// waiter made before asking is in it: the writer takes its cut after taking the waiters).
    async fn commit_for_reply(self: &Arc<Self>) -> Result<(), String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let writer = self.writer.get_or_init(|| writer(Arc::downgrade(self)));
        if let Err(refused) = writer.send(tx) {
            // No writer thread (the system gave none): commit on the blocking pool, as before.
            drop(refused);
            let dir = self.clone();
            return tokio::task::spawn_blocking(move || dir.commit())
                .await
                .unwrap_or_else(|e| Err(format!("the data dir writer failed: {e}")));
        }
        rx.await
            .unwrap_or_else(|_| Err("the data dir writer stopped".to_owned()))
    }
}

/// Starts the writer thread of [`DataDir::commit_for_reply`]; it ends when the data directory
/// is dropped (its queue's sender with it). A thread the system refuses leaves a queue nobody
/// reads: sending to it fails and the reply commits on the blocking pool.
fn writer(dir: std::sync::Weak<DataDir>) -> std::sync::mpsc::Sender<Waiter> {
    let (tx, rx) = std::sync::mpsc::channel::<Waiter>();
    let spawned = std::thread::Builder::new()
        .name("data-dir-writer".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let waiting: Vec<Waiter> = std::iter::once(first).chain(rx.try_iter()).collect();
                let outcome = match dir.upgrade() {
                    Some(dir) => {
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dir.commit()))
                            .unwrap_or_else(|_| {
                                Err("the data dir writer failed: it panicked".to_owned())
                            })
                    }
                    None => Err("the data dir is closed".to_owned()),
                };
                for waiter in waiting {
                    let _ = waiter.send(outcome.clone());
                }
            }
        });
    match spawned {
        Ok(_) => tx,
        Err(e) => {
            tracing::warn!(error = %e, "no data dir writer thread; commits run on the blocking pool");
            std::sync::mpsc::channel().0
        }
    }
}

/// The answer to a request whose reply could not be made durable: what failed, what state the
/// change is in, what to do (docs/PERSISTENCE.md).
fn not_durable(failed: &str) -> String {
    format!(
        "the data dir could not be written ({failed}): the changes made so far, this \
         request's included, are in the simulator's memory but not durable (a restart would \
         lose them). Free space on the data dir's disk or fix the directory, then retry; the \
         retry is written with every change still pending and meets the change already made \
         (the same requestNo is REQUEST_NO_NOT_UNIQUE; the same business id under a new \
         requestNo replays the first answer)"
    )
}

/// The data directory this core writes to, if any (registered as a surface handle).
pub fn data_dir(core: &Core) -> Option<Arc<DataDir>> {
    core.try_surface::<Handle>().map(|h| h.0.clone())
}

/// Tells the data directory, if there is one, that the state was replaced wholesale (a snapshot
/// import, a reset): its next commit rewrites every table, so that no row of the state that is
/// gone (a posting, a journal entry with the same id as a new one) outlives it.
pub fn state_replaced(core: &Core) {
    if let Some(dir) = data_dir(core) {
        dir.mark_replaced();
    }
}

/// The core's handle to its data directory.
pub struct Handle(pub Arc<DataDir>);

/// Opens the database in WAL mode, checking and setting its schema version. A database this
/// simulator did not create (tables without a schema version), a newer one or a file that is
/// not a database is refused before anything is written to it.
fn open_db(dir: &Path) -> Result<Connection, String> {
    let db_path = dir.join(DB_FILE);
    let fail = |e: rusqlite::Error| match damaged(&e) {
        Some(why) => format!("database {}: {why}", db_path.display()),
        None => format!("database {}: {e}", db_path.display()),
    };
    refuse_empty_file(&db_path)?;
    super::wal::check(&db_path)?;
    let mut conn = Connection::open(&db_path).map_err(fail)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| {
            format!(
                "database {}: not a readable SQLite database ({e}){}",
                db_path.display(),
                damaged(&e).map_or(String::new(), |_| format!("; {DAMAGED_FIX}"))
            )
        })?;
    if version > DB_SCHEMA_VERSION {
        return Err(format!(
                "database {}: schema version {version} is newer than this simulator reads (up to {DB_SCHEMA_VERSION}); use a newer whalet-sim",
                db_path.display()
            ));
    }
    if version == 0 {
        refuse_foreign_tables(&conn).map_err(|e| format!("database {}: {e}", db_path.display()))?;
    }
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(fail)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(fail)?;
    // Version 1 is the first schema; version 2 added the `timers` table. An older database
    // (0: new) is brought up to date here: the statements create only the tables it lacks, in
    // one transaction with the version (a start that fails leaves the file as it was).
    let tx = conn.transaction().map_err(fail)?;
    tx.execute_batch(SCHEMA).map_err(fail)?;
    // Columns that came later, without a new version: an older database gets them, empty until
    // the next write, and an older simulator still opens the database (its writes leave them
    // empty). The clock's `wall` (the wall time its row was written at: an empty one resumes a
    // real clock at its stored time once); a scenario's `cancelled` (the timeline events a
    // reset cancelled: empty, none).
    add_column(&tx, "clock", "wall", "INTEGER").map_err(fail)?;
    add_column(&tx, "scenarios", "cancelled", "TEXT").map_err(fail)?;
    if version == 1 {
        // Version 1 kept no scenarios: it gets the empty scenario state every later database
        // holds, so that a missing one is refused as lost rather than read as "none".
        tx.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('scenario_state', ?1)",
            [scenario_state(&ScenariosRecord::default()).to_string()],
        )
        .map_err(fail)?;
    }
    tx.pragma_update(None, "user_version", DB_SCHEMA_VERSION)
        .map_err(fail)?;
    tx.commit().map_err(fail)?;
    Ok(conn)
}

/// Refuses a database file that exists with 0 bytes and no write-ahead log holding its pages:
/// SQLite would read it as a new, empty database, and the simulator would start another clock
/// over a directory that held state (it was emptied, or cut short to nothing, e.g. by
/// `truncate -s 0` or a copy that failed). A new data dir has no database file yet: it is
/// created with its tables in one transaction.
fn refuse_empty_file(db_path: &Path) -> Result<(), String> {
    let Ok(meta) = std::fs::metadata(db_path) else {
        return Ok(());
    };
    if !meta.is_file() || meta.len() > 0 {
        return Ok(());
    }
    let mut wal = db_path.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        // Its pages are in the write-ahead log still (a simulator killed before the first
        // checkpoint): SQLite reads them from there.
        return Ok(());
    }
    Err(format!(
        "database {}: the file is empty (0 bytes), which no whalet-sim leaves: a data dir's \
         database holds its tables from the first start on, so this one was emptied or cut \
         short and its state is lost; put the database back from a copy, or remove the empty \
         file (to start this data dir anew) or start on a new data dir (`serve --snapshot \
         FILE` brings a saved state)",
        db_path.display()
    ))
}

/// Adds `column` of `kind` to `table` unless the table has it.
fn add_column(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    column: &str,
    kind: &str,
) -> rusqlite::Result<()> {
    let has: i64 = tx.query_row(
        "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
        [table, column],
        |r| r.get(0),
    )?;
    if has == 0 {
        tx.execute(
            &format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"),
            [],
        )?;
    }
    Ok(())
}

/// A database without a schema version is new (this simulator sets the version in the
/// transaction that creates its tables): one that has tables belongs to something else.
fn refuse_foreign_tables(conn: &Connection) -> Result<(), String> {
    let tables: Vec<(String,)> = table_rows(
        conn,
        ("sqlite_master", &["name"]),
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         ORDER BY name",
    )
    .map_err(|e| format!("not a readable SQLite database ({e})"))?;
    if tables.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 5;
    let mut names: Vec<String> = tables
        .iter()
        .take(SHOWN)
        .map(|(n,)| crate::text::echo(n).to_string())
        .collect();
    if tables.len() > SHOWN {
        names.push(format!("{} more", tables.len() - SHOWN));
    }
    Err(format!(
        "not a whalet-sim database (it has tables {} and no whalet-sim schema version); \
         use an empty or new data dir",
        names.join(", ")
    ))
}

/// The data directory's lock file, `DIR/whalet-sim.lock`, held with an exclusive `flock` for as
/// long as the simulator uses the directory. The kernel releases the lock when the process ends
/// however it ends (`kill -9` included), so whether another simulator holds it never depends on
/// process ids (in a container every simulator is process 1). The file names the holder's process
/// id for the refusal's message; it is emptied on release and left in place (removing it would
/// let a third simulator lock a new file while a second still holds the old one).
///
/// The directory itself is held with an exclusive `flock` too: a lock file deleted (or replaced)
/// while the simulator runs frees only the file's name, not the directory, so a second simulator
/// is still refused. The directory, not the database file: SQLite locks the database with
/// `fcntl` locks, which a process loses on every inode whose descriptor it closes, so a
/// descriptor of the database opened (and closed on a refusal) beside SQLite's would drop them.
/// `flock` and `fcntl` locks do not interact on Linux, and no one else locks the directory.
struct DirLock {
    file: File,
    /// The directory, open for as long as the lock is held (closing it releases its `flock`).
    _dir: File,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

/// Takes the lock file `DIR/whalet-sim.lock` and the directory `dir`: refused, naming the
/// holder's process, while another simulator holds the lock file, and naming the directory
/// while another holds the directory (its lock file was deleted or replaced while it ran); a
/// lock file left by a simulator that no longer runs (it names a process) is taken over with a
/// warning. A refused attempt writes nothing.
fn take_lock(dir: &Path) -> Result<DirLock, String> {
    use rustix::fs::{flock, FlockOperation};
    use std::io::{Read, Seek, Write};
    let path = dir.join(LOCK_FILE);
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut holder = String::new();
    let _ = file.read_to_string(&mut holder);
    let pid = holder.split_whitespace().next().unwrap_or("?").to_owned();
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(rustix::io::Errno::WOULDBLOCK) => {
            return Err(format!(
                "in use by another running simulator (process {pid} holds {})",
                path.display()
            ))
        }
        Err(e) => return Err(format!("cannot lock {}: {e}", path.display())),
    }
    let held = File::open(dir).map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
    match flock(&held, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(rustix::io::Errno::WOULDBLOCK) => {
            return Err(format!(
                "in use by another running simulator (it holds the directory {} locked, though \
                 its lock file {} was deleted or replaced while it ran, so which process is not \
                 known): stop that simulator before starting another on this directory",
                dir.display(),
                path.display()
            ))
        }
        Err(e) => return Err(format!("cannot lock {}: {e}", dir.display())),
    }
    if !holder.trim().is_empty() {
        tracing::warn!(lock = %path.display(), pid, "taking over the lock file of a simulator that is no longer running");
    }
    let written = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(std::process::id().to_string().as_bytes()));
    written.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(DirLock { file, _dir: held })
}

fn hash_text(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// Rows of one section: a field holding a JSON object is one row per key, any other value one
/// row with id "".
fn section_rows(section: &str, value: &Value, out: &mut Vec<(String, String, String)>) {
    let Some(fields) = value.as_object() else {
        return;
    };
    for (field, v) in fields {
        let kind = format!("{section}.{field}");
        match v.as_object() {
            Some(map) => {
                for (id, item) in map {
                    out.push((kind.clone(), id.clone(), item.to_string()));
                }
            }
            None => out.push((kind, String::new(), v.to_string())),
        }
    }
}

/// The directory under DIR holding file contents, each named by its SHA-256.
pub const FILES_DIR: &str = "files";

/// The field holding a file's bytes (Base64 in a snapshot), for the entity kinds that are files.
fn file_field(kind: &str) -> Option<&'static str> {
    match kind {
        "infinia.files" | "platform.files" => Some("data"),
        "whalet_trade.files" => Some("bytes"),
        _ => None,
    }
}

/// The SFTP file kinds and the entity kind of their uploads (whose status a file's row shows).
const SFTP_UPLOADS: [(&str, &str); 2] = [
    ("infinia.files", "infinia.uploads"),
    ("platform.files", "platform.uploads"),
];

/// The upload kind of an SFTP file kind (`""`: the files of that kind have no uploads).
fn uploads_of(files_kind: &str) -> &'static str {
    SFTP_UPLOADS
        .iter()
        .find(|(files, _)| *files == files_kind)
        .map_or("", |(_, uploads)| uploads)
}

/// The SFTP file kind of an upload kind, if it is one.
fn files_of(uploads_kind: &str) -> Option<&'static str> {
    SFTP_UPLOADS
        .iter()
        .find(|(_, uploads)| *uploads == uploads_kind)
        .map(|(files, _)| *files)
}

/// The upload an SFTP file's path belongs to: its last segment.
fn upload_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Moves a file entity's bytes out of its JSON into `DIR/files/<sha256>` (written once per
/// content, through a temporary file and a rename); the JSON keeps `sha256` instead. Returns
/// the JSON to store, the digest and the size.
fn file_out(dir: &Path, text: &str, field: &str) -> Result<(String, String, i64), String> {
    use base64::Engine;
    use sha2::Digest;
    let mut value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let Some(object) = value.as_object_mut() else {
        return Ok((text.to_owned(), String::new(), 0));
    };
    let b64 = object
        .remove(field)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("file bytes are not Base64: {e}"))?;
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let files = dir.join(FILES_DIR);
    let path = files.join(&sha);
    if !holds(&path, &bytes) {
        std::fs::create_dir_all(&files)
            .map_err(|e| format!("cannot create {}: {e}", files.display()))?;
        let tmp = files.join(format!("{sha}.tmp"));
        std::fs::write(&tmp, &bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    object.insert("sha256".into(), Value::String(sha.clone()));
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    Ok((value.to_string(), sha, size))
}

/// The file at `path` holds exactly `bytes` (a content file that was changed or cut short is
/// written again rather than trusted because it exists).
fn holds(path: &Path, bytes: &[u8]) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|stored| stored == bytes)
}

/// Puts a file entity's bytes back into its JSON (as Base64 in `field`) from
/// `DIR/files/<sha256>`, refusing a content file whose bytes are not the content it is named
/// after (changed or cut short): served or exported, it would be another file.
fn file_in(dir: &Path, text: &str, field: &str) -> Result<String, String> {
    use base64::Engine;
    use sha2::Digest;
    let mut value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let Some(object) = value.as_object_mut() else {
        return Ok(text.to_owned());
    };
    let Some(sha) = object.remove("sha256") else {
        return Ok(text.to_owned());
    };
    let sha = sha.as_str().unwrap_or_default().to_owned();
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("sha256 {sha:?} is not a SHA-256 digest"));
    }
    let path = dir.join(FILES_DIR).join(&sha);
    let bytes =
        std::fs::read(&path).map_err(|e| format!("file {} is missing: {e}", path.display()))?;
    let actual = hex::encode(sha2::Sha256::digest(&bytes));
    if !actual.eq_ignore_ascii_case(&sha) {
        let expected = object
            .get("size")
            .and_then(Value::as_u64)
            .map_or(String::new(), |n| format!(", the row says {n}"));
        return Err(format!(
            "file {} does not hold the content it is named after: it has {} bytes{expected}, \
             whose SHA-256 is {actual}; it was changed or cut short: put the original back \
             (or start from a snapshot)",
            path.display(),
            bytes.len()
        ));
    }
    object.insert(
        field.into(),
        Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
    );
    Ok(value.to_string())
}

/// Removes from `DIR/files` what the simulator itself wrote there and no row names any more:
/// a content file (named by its SHA-256 in lowercase hex, [`is_content_name`]) of a deleted
/// upload, a temporary file (`<sha256>.tmp`) of a write cut short. Every other entry is left
/// alone, whatever it is (`--data-dir` may name a folder that already held a `files/` of its
/// own); each removal is logged with why.
fn collect_garbage(conn: &Connection, dir: &Path) {
    let files = dir.join(FILES_DIR);
    let Ok(entries) = std::fs::read_dir(&files) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let why = if name.strip_suffix(".tmp").is_some_and(is_content_name) {
            "temporary file of a content write cut short"
        } else if is_content_name(&name) {
            let used: bool = conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM files WHERE sha256 = ?1)",
                    [&name],
                    |r| r.get(0),
                )
                .unwrap_or(true);
            if used {
                continue;
            }
            "content file that no row of table files names"
        } else {
            continue;
        };
        match std::fs::remove_file(entry.path()) {
            Ok(()) => tracing::info!(file = %entry.path().display(), why, "data dir: removed"),
            Err(e) => {
                tracing::warn!(file = %entry.path().display(), why, error = %e, "data dir: could not remove")
            }
        }
    }
}

/// The links, scenarios (each with its version, when changed) and new journal entries to write.
struct Extras {
    links: Option<(u64, Vec<LinkRecord>)>,
    scenarios: Option<(u64, ScenariosRecord)>,
    /// The entries to write and the id of the oldest one the journal keeps (None: it is empty).
    journal: (Vec<(u64, String)>, Option<u64>),
    /// The newest journal id when the entries were read.
    journal_last: u64,
    /// The journal's generation when the entries were read.
    journal_generation: u64,
    /// The entries are the whole journal (it was cleared or numbered again, or the state
    /// replaced): the table is emptied before they are written.
    journal_whole: bool,
}

/// Writes what changed of the links, the scenarios and the journal (in the commit's
/// transaction).
fn write_extras(tx: &rusqlite::Transaction<'_>, extras: &Extras) -> Result<(), String> {
    let e = |e: rusqlite::Error| e.to_string();
    if let Some((_, links)) = &extras.links {
        tx.execute("DELETE FROM authorizations", []).map_err(e)?;
        insert_rows(
            tx,
            "INSERT INTO authorizations (token, tenant, surface, business_id, expires_at, json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            links,
            |l| {
                let json = serde_json::to_string(l).map_err(|e| e.to_string())?;
                let r = &l.request;
                Ok((
                    &r.token,
                    r.tenant.to_string(),
                    &r.surface,
                    &r.business_id,
                    r.expires_at,
                    json,
                ))
            },
        )?;
    }
    if let Some((_, record)) = &extras.scenarios {
        tx.execute("DELETE FROM scenarios", []).map_err(e)?;
        tx.execute("DELETE FROM scenario_counters", []).map_err(e)?;
        insert_rows(
            tx,
            "INSERT INTO scenarios
             (generation, tenant, name, loaded_at, source, text, fired, cancelled)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &record.loaded,
            |l| {
                let fired = serde_json::to_string(&l.fired).map_err(|e| e.to_string())?;
                let cancelled = match l.cancelled.is_empty() {
                    true => None,
                    false => Some(serde_json::to_string(&l.cancelled).map_err(|e| e.to_string())?),
                };
                let generation = i64::try_from(l.generation).unwrap_or(i64::MAX);
                Ok((
                    generation,
                    &l.tenant,
                    &l.name,
                    l.loaded_at,
                    &l.source,
                    &l.text,
                    fired,
                    cancelled,
                ))
            },
        )?;
        insert_rows(
            tx,
            "INSERT INTO scenario_counters (generation, rule, tenant, count, window_start)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            &record.counters,
            |c| {
                Ok((
                    i64::try_from(c.generation).unwrap_or(i64::MAX),
                    i64::try_from(c.rule).unwrap_or(i64::MAX),
                    &c.tenant,
                    i64::try_from(c.count).unwrap_or(i64::MAX),
                    c.window_start,
                ))
            },
        )?;
        let rest = scenario_state(record);
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('scenario_state', ?1)",
            [rest.to_string()],
        )
        .map_err(e)?;
    }
    let (entries, oldest) = &extras.journal;
    if extras.journal_whole {
        tx.execute("DELETE FROM journal", []).map_err(e)?;
        // The entries' ids no longer say which was given last (a clear may have left none).
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('journal_last_id', ?1)",
            [extras.journal_last.to_string()],
        )
        .map_err(e)?;
    }
    insert_rows(
        tx,
        "INSERT OR REPLACE INTO journal (id, tenant, operation, json) VALUES (?1, ?2, ?3, ?4)",
        entries,
        |(id, text)| {
            let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            let tenant = v.get("tenant").and_then(Value::as_str).map(str::to_owned);
            let operation = v.get("operation").and_then(Value::as_str).unwrap_or("");
            Ok((journal_row_id(*id)?, tenant, operation.to_owned(), text))
        },
    )?;
    match oldest {
        // Entries the journal's bounds dropped are dropped here too.
        Some(oldest) if !entries.is_empty() => {
            tx.execute(
                "DELETE FROM journal WHERE id < ?1",
                [journal_row_id(*oldest)?],
            )
            .map_err(e)?;
        }
        Some(_) => {}
        None => {
            tx.execute("DELETE FROM journal", []).map_err(e)?;
        }
    }
    Ok(())
}

/// A journal id as the table stores it. The journal gives none past
/// [`crate::journal::MAX_ID`] and a snapshot's is refused, so this never fails; were one past it
/// anyway, the write is refused rather than the id clamped onto another entry's row.
fn journal_row_id(id: u64) -> Result<i64, String> {
    i64::try_from(id).map_err(|_| {
        format!(
            "journal id {id} is past {}, the largest the data dir stores",
            crate::journal::MAX_ID
        )
    })
}

/// The `meta` row `next_request_seq`: the requestNo sequence's next number when the database
/// was last written ([`crate::notify::Outbox::next_request_seq`]; 0 when the row is missing: a
/// database written before it was kept, whose notification numbering is the floor).
fn next_request_seq(conn: &Connection) -> Result<u64, String> {
    let Some(text) = meta_value(conn, "next_request_seq")? else {
        return Ok(0);
    };
    text.parse::<u64>().map_err(|_| {
        format!(
            "table meta: next_request_seq {} is not a sequence number (a whole number from 0 \
             to {}, the next number of the notifications' requestNos): {PUT_BACK}",
            crate::text::echo(&text),
            u64::MAX
        )
    })
}

/// The `meta` row `scenario_state`: the draws, the outages and the generation counter of
/// `record` (small: one JSON value; the loaded scenarios and counters have tables).
fn scenario_state(record: &ScenariosRecord) -> Value {
    json!({"nextGeneration": record.next_generation, "draws": record.draws,
           "outages": record.outages})
}

/// The links, the scenarios and the journal entries, as read back.
type LoadedExtras = (Vec<LinkRecord>, ScenariosRecord, Vec<Value>);

/// Reads the links, the scenarios and the journal back.
fn load_extras(conn: &Connection) -> Result<LoadedExtras, String> {
    let links = json_rows(conn, ("authorizations", "token"), "ORDER BY token")?;
    let rest = meta_value(conn, "scenario_state")?.ok_or_else(|| {
        missing_meta(
            "scenario_state",
            "the loaded scenarios' next generation, seeded draws and outages",
        )
    })?;
    let mut record = read_scenario_state(&rest)?;
    let rows: Vec<ScenarioRow> = table_rows(
        conn,
        ("scenarios", &["generation", "name"]),
        "SELECT generation, tenant, name, loaded_at, source, text, fired, cancelled
             FROM scenarios ORDER BY generation",
    )?;
    for (generation, tenant, name, loaded_at, source, text, fired, cancelled) in rows {
        let at = format!("table scenarios: {}", crate::text::echo(&name));
        record.loaded.push(LoadedRecord {
            generation: whole(&at, "generation", generation)?,
            fired: serde_json::from_str(&fired).map_err(|e| format!("{at}: fired: {e}"))?,
            cancelled: match cancelled {
                None => Vec::new(),
                Some(text) => {
                    serde_json::from_str(&text).map_err(|e| format!("{at}: cancelled: {e}"))?
                }
            },
            name,
            tenant,
            source,
            text,
            loaded_at,
        });
    }
    let rows: Vec<(i64, i64, String, i64, _)> = table_rows(
        conn,
        ("scenario_counters", &["generation", "rule", "tenant"]),
        "SELECT generation, rule, tenant, count, window_start FROM scenario_counters
             ORDER BY generation, rule, tenant",
    )?;
    for (generation, rule, tenant, count, window_start) in rows {
        let at = format!(
            "table scenario_counters: generation {generation} rule {rule} tenant {}",
            crate::text::echo(&tenant)
        );
        let rule = whole(&at, "rule", rule)?;
        record.counters.push(CounterRecord {
            generation: whole(&at, "generation", generation)?,
            rule: usize::try_from(rule).map_err(|_| format!("{at}: rule {rule} is too large"))?,
            count: whole(&at, "count", count)?,
            tenant,
            window_start,
        });
    }
    let journal = json_rows(conn, ("journal", "id"), "ORDER BY id")?;
    Ok((links, record, journal))
}

/// The `meta` row `journal_last_id`: the last journal id given when the journal table was last
/// written whole (0 when the row is missing: a database written before it was kept, whose
/// entries' ids say it).
fn journal_last_id(conn: &Connection) -> Result<u64, String> {
    let Some(text) = meta_value(conn, "journal_last_id")? else {
        return Ok(0);
    };
    text.parse::<u64>()
        .ok()
        .filter(|id| *id <= crate::journal::MAX_ID)
        .ok_or_else(|| {
            format!(
                "table meta: journal_last_id {} is not a journal id (0 to {})",
                crate::text::echo(&text),
                crate::journal::MAX_ID
            )
        })
}

/// The `meta` row `scenario_state` ([`scenario_state`]) read back: the scenario record
/// without its loaded scenarios and counters (their own tables hold them).
fn read_scenario_state(text: &str) -> Result<ScenariosRecord, String> {
    let at = "table meta: scenario_state";
    let rest: Value = serde_json::from_str(text).map_err(|e| format!("{at}: not JSON: {e}"))?;
    let next = &rest["nextGeneration"];
    let next_generation = next.as_u64().ok_or_else(|| {
        format!("{at}: nextGeneration {next} is not a generation (a whole number, 0 or more)")
    })?;
    Ok(ScenariosRecord {
        next_generation,
        draws: state_field(&rest, "draws")?,
        outages: state_field(&rest, "outages")?,
        ..ScenariosRecord::default()
    })
}

/// Field `name` of the `scenario_state` row, read as a `T`.
fn state_field<T: serde::de::DeserializeOwned>(rest: &Value, name: &str) -> Result<T, String> {
    serde_json::from_value(rest[name].clone())
        .map_err(|e| format!("table meta: scenario_state: {name}: {e}"))
}

/// `value` of `column` in the row `at` names, which holds a count or a number (0 or more):
/// a negative one is refused rather than read as 0.
fn whole(at: &str, column: &str, value: i64) -> Result<u64, String> {
    u64::try_from(value)
        .map_err(|_| format!("{at}: {column} {value} is negative; it is a whole number, 0 or more"))
}

/// Every notification of the outbox, by sequence number (an id is `ntf_<seq>`: the outbox
/// mints them so and refuses any other on import).
fn all_notifications(core: &Core) -> Vec<(u64, Option<Notification>)> {
    core.outbox()
        .export(None)
        .notifications
        .into_iter()
        .filter_map(|n| {
            let seq = n.id.strip_prefix("ntf_")?.parse().ok()?;
            Some((seq, Some(n)))
        })
        .collect()
}

/// What to write of the pending durable timers.
enum TimerWrite {
    /// The whole table (by the clock's timer ids).
    All(Vec<(u64, TimerRecord)>),
    /// Timers added (`Some`) or gone (`None`) since the last commit.
    Changes(Vec<(u64, Option<TimerRecord>)>),
}

fn write_timers(tx: &rusqlite::Transaction<'_>, timers: &TimerWrite) -> Result<(), String> {
    let changes: Vec<(u64, Option<&TimerRecord>)> = match timers {
        TimerWrite::All(all) => {
            tx.execute("DELETE FROM timers", [])
                .map_err(|e| e.to_string())?;
            all.iter().map(|(id, r)| (*id, Some(r))).collect()
        }
        TimerWrite::Changes(changes) => changes.iter().map(|(id, r)| (*id, r.as_ref())).collect(),
    };
    let mut upsert = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO timers (id, due, kind, tenant, key, label, params)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(|e| e.to_string())?;
    let mut delete = tx
        .prepare_cached("DELETE FROM timers WHERE id = ?1")
        .map_err(|e| e.to_string())?;
    for (id, record) in changes {
        let id = i64::try_from(id).map_err(|e| e.to_string())?;
        match record {
            Some(r) => {
                upsert
                    .execute(params![
                        id,
                        r.due,
                        r.kind,
                        r.tenant,
                        r.key,
                        r.label,
                        r.params.to_string()
                    ])
                    .map_err(|e| e.to_string())?;
            }
            None => {
                delete.execute([id]).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// Runs the (cached) statement `sql` once per row, with the parameters `bind` makes of it.
fn insert_rows<R, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    rows: impl IntoIterator<Item = R>,
    mut bind: impl FnMut(R) -> Result<P, String>,
) -> Result<(), String> {
    let mut stmt = conn.prepare_cached(sql).map_err(|e| e.to_string())?;
    for row in rows {
        stmt.execute(bind(row)?).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Deletes all of tenant `key`'s rows of `table`.
fn delete_tenant_rows(conn: &Connection, table: &str, key: &str) -> Result<(), String> {
    conn.execute(&format!("DELETE FROM {table} WHERE tenant = ?1"), [key])
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Adds tenant `key`'s new rows to a log table (`ledger_postings`, `request_nos`) with
/// [`insert_rows`]; with `reset` (the log was cut or replaced since it was last written), all of
/// the tenant's rows there are deleted first.
fn append_log<R, P: rusqlite::Params>(
    conn: &Connection,
    key: &str,
    table: &str,
    reset: bool,
    sql: &str,
    rows: impl IntoIterator<Item = R>,
    bind: impl FnMut(R) -> Result<P, String>,
) -> Result<(), String> {
    if reset {
        delete_tenant_rows(conn, table, key)?;
    }
    insert_rows(conn, sql, rows, bind)
}

/// A row of the `scenarios` table: generation, tenant, name, loaded_at, source, text, fired,
/// cancelled.
type ScenarioRow = (
    i64,
    Option<String>,
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
);

/// Every row `query` returns, each read as the tuple `T` (one element per column). A row
/// whose columns do not read as `T` (a text where a number belongs) is refused naming `table`
/// and the row by its `key` columns, which `query` selects ([`row_name`]).
fn table_rows<T>(
    conn: &Connection,
    (table, key): (&str, &[&str]),
    query: &str,
) -> Result<Vec<T>, String>
where
    T: for<'a> TryFrom<&'a rusqlite::Row<'a>, Error = rusqlite::Error>,
{
    let failed = |e: rusqlite::Error| match damaged(&e) {
        Some(why) => format!("table {table}: {why}"),
        None => e.to_string(),
    };
    let mut stmt = conn.prepare(query).map_err(failed)?;
    let mut rows = stmt.query([]).map_err(failed)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(failed)? {
        out.push(
            T::try_from(row)
                .map_err(|e| format!("table {table}: {}: {}", row_name(row, key), unread(&e)))?,
        );
    }
    Ok(out)
}

/// What to do about a database file SQLite finds damaged ([`damaged`]).
const DAMAGED_FIX: &str = "put whalet-sim.db back from a copy (with the copy's whalet-sim.db-wal, \
                           if it has one), or move the data dir aside and start without it (a \
                           new data dir starts empty; `sqlite3 whalet-sim.db .recover` may save \
                           the rows that can still be read)";

/// Why reading the database failed, when SQLite found the file damaged while reading it: a
/// corrupt page (`SQLITE_CORRUPT`), a file that is no database (`SQLITE_NOTADB`), or a corrupt
/// record whose header claims an impossible size, which SQLite reports as out of memory
/// (`SQLITE_NOMEM`; no such allocation is ever made for an intact record). Says so, and what to
/// do; None for any other error.
fn damaged(e: &rusqlite::Error) -> Option<String> {
    let rusqlite::Error::SqliteFailure(failure, _) = e else {
        return None;
    };
    let found = match failure.code {
        rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase => {
            format!("the database file is damaged (SQLite: {e})")
        }
        rusqlite::ErrorCode::OutOfMemory => "the database file looks damaged (SQLite answered \
                                              \"out of memory\" reading it, which a corrupt \
                                              record claiming an impossible size causes)"
            .to_owned(),
        _ => return None,
    };
    Some(format!("{found}; {DAMAGED_FIX}"))
}

/// `e`, met reading `table` at start: [`damaged`]'s message naming the table, or `e` as it is.
fn read_failed(table: &str, e: &rusqlite::Error) -> String {
    match damaged(e) {
        Some(why) => format!("table {table}: {why}"),
        None => format!("table {table}: {e}"),
    }
}

/// Why a column of a row does not read, and what to do.
fn unread(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::InvalidColumnType(_, column, held) => format!(
            "column {column} holds {held}, not the type the simulator writes there; put the \
             value back (or the database from a copy)"
        ),
        rusqlite::Error::IntegralValueOutOfRange(_, value) => {
            format!("{value} is out of the range of its column")
        }
        e => e.to_string(),
    }
}

/// A row named by its `key` columns, each as `column value` (`tenant "whalet:…" id 3`).
fn row_name(row: &rusqlite::Row<'_>, key: &[&str]) -> String {
    key.iter()
        .map(|column| {
            let value = row.get_ref(*column).map_or("?".to_owned(), shown);
            format!("{column} {value}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A column's value as a message shows it: a number as it is, a text quoted ([`crate::text::echo`]).
fn shown(value: rusqlite::types::ValueRef<'_>) -> String {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(x) => x.to_string(),
        ValueRef::Text(t) => crate::text::echo(&String::from_utf8_lossy(t)).to_string(),
        ValueRef::Blob(b) => format!("(a blob of {} bytes)", b.len()),
        ValueRef::Null => "NULL".to_owned(),
    }
}

/// The `json` column of every row of `table` (`order` sorts them), each read as a `T`; a row
/// that does not read is refused naming it by its `key` column, and the field at fault.
fn json_rows<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    (table, key): (&str, &str),
    order: &str,
) -> Result<Vec<T>, String> {
    let texts: Vec<(rusqlite::types::Value, String)> = table_rows(
        conn,
        (table, &[key]),
        &format!("SELECT {key}, json FROM {table} {order}"),
    )?;
    texts
        .iter()
        .map(|(name, text)| {
            let at = format!("table {table}: {key} {}", shown(name.into()));
            let value: Value =
                serde_json::from_str(text).map_err(|e| format!("{at}: not JSON: {e}"))?;
            // The field at fault named below the row (`attempts[0]: unknown field …`).
            super::check::read_at("", &value).map_err(|e| format!("{at}: {e}"))
        })
        .collect()
}

/// Reads the pending durable timers, in due order.
fn load_timers(conn: &Connection) -> Result<Vec<TimerRecord>, String> {
    let rows: Vec<(i64, String, Option<String>, String, String, String)> = table_rows(
        conn,
        ("timers", &["label"]),
        "SELECT due, kind, tenant, key, label, params FROM timers ORDER BY due, id",
    )?;
    let mut out = Vec::new();
    for (due, kind, tenant, key, label, params) in rows {
        let params = serde_json::from_str(&params)
            .map_err(|e| format!("table timers: {label}: params are not JSON: {e}"))?;
        crate::clock::check_time(due, &format!("table timers: {label}: due"))?;
        out.push(TimerRecord {
            due,
            label,
            kind,
            tenant,
            key,
            params,
        });
    }
    Ok(out)
}

/// One commit's worth of changes.
struct Batch<'a> {
    /// Rewrite every table (the state was replaced, or a write failed).
    full: bool,
    tenants: &'a BTreeSet<TenantId>,
    /// Notifications added or changed (`Some`) or gone (`None`), by sequence number.
    notifications: &'a [(u64, Option<Notification>)],
    timers: &'a TimerWrite,
    extras: Extras,
    stamp: Stamp,
}

/// The clock and the numbering a commit writes (the `clock` row, the `meta` rows
/// `next_notification_seq` and `next_request_seq`), read in the same cut as its state
/// ([`DataDir::commit`]): read when written instead, they would be past what the commit holds
/// (a restart would run the timers due in between late, and skip notification ids).
struct Stamp {
    mode: ClockMode,
    now: crate::clock::Millis,
    /// The wall time `now` was read at: a real clock resumes as wall time moved since.
    wall: crate::clock::Millis,
    next_seq: u64,
    next_request_seq: u64,
}

impl Stamp {
    fn of(core: &Core) -> Self {
        Self {
            mode: core.clock().mode(),
            now: core.clock().now(),
            wall: crate::clock::system_now(),
            next_seq: core.outbox().next_seq(),
            next_request_seq: core.outbox().next_request_seq(),
        }
    }
}

/// The tables a full rewrite empties first (`timers`, the links and the scenarios are
/// rewritten whole by their own writers; `notifications` by [`write_notifications`]).
const REWRITTEN_TABLES: [&str; 7] = [
    "tenants",
    "entities",
    "ledger_postings",
    "request_nos",
    "files",
    "journal",
    "notifications",
];

/// Writes `batch` in one transaction. Returns the contents under `DIR/files` whose rows were
/// replaced or removed: once committed, those no row names any more are deleted.
fn write(
    conn: &mut Connection,
    written: &mut HashMap<TenantId, Written>,
    dir: &Path,
    (batch, reads): (&Batch<'_>, Vec<TenantReading>),
) -> Result<Vec<String>, String> {
    let tx = conn.transaction().map_err(|e| e.to_string())?;
    let mut superseded = Vec::new();
    if batch.full {
        superseded = contents_of(&tx, "SELECT sha256 FROM files", [])?;
        for table in REWRITTEN_TABLES {
            tx.execute(&format!("DELETE FROM {table}"), [])
                .map_err(|e| e.to_string())?;
        }
    }
    write_timers(&tx, batch.timers)?;
    for (id, read) in batch.tenants.iter().zip(reads) {
        write_tenant(&tx, written, dir, (id, read), &mut superseded)?;
    }
    write_notifications(&tx, batch.notifications)?;
    let stamp = &batch.stamp;
    let mode = serde_json::to_string(&stamp.mode).map_err(|e| e.to_string())?;
    // With the wall time it was read at: a real clock resumes as wall time moved.
    tx.execute(
        "INSERT OR REPLACE INTO clock (id, mode, now, wall) VALUES (1, ?1, ?2, ?3)",
        params![mode, stamp.now, stamp.wall],
    )
    .map_err(|e| e.to_string())?;
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_notification_seq', ?1)",
        [stamp.next_seq.to_string()],
    )
    .map_err(|e| e.to_string())?;
    // The requestNo sequence goes on past this after a restart, whatever an import took back.
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_request_seq', ?1)",
        [stamp.next_request_seq.to_string()],
    )
    .map_err(|e| e.to_string())?;
    write_extras(&tx, &batch.extras)?;
    tx.commit().map_err(|e| e.to_string())?;
    Ok(superseded)
}

/// The `sha256` column of the `files` rows `query` selects.
fn contents_of<P: rusqlite::Params>(
    conn: &Connection,
    query: &str,
    params: P,
) -> Result<Vec<String>, String> {
    let mut stmt = conn.prepare_cached(query).map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map(params, |r| r.get::<_, String>(0))
        .map_err(|e| e.to_string())?;
    rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
}

/// Deletes each of `candidates` from `DIR/files` that no row of `files` names (after the
/// transaction that stopped naming it committed: a crash before leaves it in place).
fn remove_unused_contents(conn: &Connection, dir: &Path, candidates: Vec<String>) {
    let unique: BTreeSet<String> = candidates.into_iter().collect();
    for sha in unique {
        let used: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM files WHERE sha256 = ?1)",
                [&sha],
                |r| r.get(0),
            )
            .unwrap_or(true);
        if !used && is_content_name(&sha) {
            let path = dir.join(FILES_DIR).join(&sha);
            if std::fs::remove_file(&path).is_ok() {
                tracing::info!(file = %path.display(), why = "content file that no row of table files names any more", "data dir: removed");
            }
        }
    }
}

/// A name the simulator gives a content under `DIR/files`: its SHA-256 in lowercase hex, as
/// [`file_out`] writes it. Only such files (and their `.tmp` while being written) are ever
/// removed from there.
fn is_content_name(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What one tenant's state has that its rows do not: read under its lock.
struct TenantRead {
    rows: Vec<(String, String, String)>,
    /// The [`APART`] kinds left unread (unchanged since written): their rows stay as they are.
    kept: Vec<&'static str>,
    /// The [`APART`] kinds read, with the generation read.
    generations: Vec<(&'static str, u64)>,
    reset_postings: bool,
    new_postings: Vec<Posting>,
    /// The fingerprint of the newest posting (None: no posting).
    last_posting: Option<u64>,
    reset_nos: bool,
    nos: Vec<String>,
    nos_len: usize,
    sequence: u64,
}

/// A posting's fingerprint: tells a posting from another one with the same id (a ledger that
/// was replaced since it was last written).
fn posting_hash(p: &Posting) -> u64 {
    hash_text(&serde_json::to_string(p).unwrap_or_default())
}

/// What changed of one tenant, read in a commit's cut (None: the tenant is gone).
type TenantReading = Option<Result<TenantRead, String>>;

/// Reads what changed in `t` since `w` was written.
fn read_tenant(t: &TenantState, w: &Written) -> Result<TenantRead, String> {
    persist::full(|| {
        let mut rows = Vec::new();
        for section in SECTIONS {
            let mut v = crate::store::rows::held_apart(|| section_value(t, section))
                .map_err(|e| e.to_string())?;
            if let Some(fields) = v.as_object_mut() {
                for (kind, _, _) in APART {
                    if let Some(field) =
                        kind.strip_prefix(section).and_then(|f| f.strip_prefix('.'))
                    {
                        fields.remove(field);
                    }
                }
            }
            section_rows(section, &v, &mut rows);
        }
        let (mut kept, mut generations) = (Vec::new(), Vec::new());
        for (kind, generation, value) in APART {
            let generation = generation(t);
            if w.generations.get(kind) == Some(&generation) {
                kept.push(kind);
                continue;
            }
            let v = value(t).map_err(|e| e.to_string())?;
            if let Some(map) = v.as_object() {
                for (id, item) in map {
                    rows.push((kind.to_owned(), id.clone(), item.to_string()));
                }
            }
            generations.push((kind, generation));
        }
        let postings = t.ledger.postings();
        // The rows hold a prefix of the postings only if the newest one written is unchanged.
        let prefix_kept = w.postings <= postings.len()
            && (w.postings == 0 || Some(posting_hash(&postings[w.postings - 1])) == w.last_posting);
        let (reset_postings, new_postings) = if prefix_kept {
            (false, postings[w.postings..].to_vec())
        } else {
            (true, postings.to_vec())
        };
        let mut fresh: Vec<&str> = Vec::new();
        let mut found = w.request_no_last.is_none();
        for n in t.request_nos.iter().rev() {
            if Some(n) == w.request_no_last.as_deref() {
                found = true;
                break;
            }
            fresh.push(n);
        }
        let reset_nos = !found;
        let nos: Vec<String> = if reset_nos {
            t.request_nos.iter().map(str::to_owned).collect()
        } else {
            fresh.into_iter().rev().map(str::to_owned).collect()
        };
        Ok(TenantRead {
            rows,
            kept,
            generations,
            reset_postings,
            new_postings,
            last_posting: postings.last().map(posting_hash),
            reset_nos,
            nos,
            nos_len: t.request_nos.len(),
            sequence: t.sequence,
        })
    })
}

/// Writes what changed of one tenant (or deletes its rows when it is gone); the contents its
/// replaced or removed file rows named are added to `superseded`.
fn write_tenant(
    tx: &rusqlite::Transaction<'_>,
    written: &mut HashMap<TenantId, Written>,
    dir: &Path,
    (id, read): (&TenantId, TenantReading),
    superseded: &mut Vec<String>,
) -> Result<(), String> {
    let key = id.to_string();
    let w = written.entry(id.clone()).or_default();
    let Some(read) = read else {
        // The tenant is gone: drop its rows.
        superseded.extend(contents_of(
            tx,
            "SELECT sha256 FROM files WHERE tenant = ?1",
            [&key],
        )?);
        for table in [
            "tenants",
            "entities",
            "ledger_postings",
            "request_nos",
            "files",
        ] {
            delete_tenant_rows(tx, table, &key)?;
        }
        written.remove(id);
        return Ok(());
    };
    let mut read = read?;
    if w.sequence != Some(read.sequence) {
        tx.execute(
            "INSERT INTO tenants (tenant, sequence) VALUES (?1, ?2)
             ON CONFLICT(tenant) DO UPDATE SET sequence = excluded.sequence",
            params![key, read.sequence as i64],
        )
        .map_err(|e| e.to_string())?;
        w.sequence = Some(read.sequence);
    }
    let rows = std::mem::take(&mut read.rows);
    write_entities(tx, w, dir, &key, (rows, &read.kept), superseded)?;
    w.generations.extend(read.generations.iter().copied());
    write_postings(tx, w, &key, &read)?;
    write_request_nos(tx, w, &key, &read)
}

/// Upserts the entity rows whose JSON changed and deletes those that are gone (of the kinds
/// read: an [`APART`] kind left unread, `kept`, keeps its rows). A file's bytes go to
/// `DIR/files` ([`file_out`]); a file still open for writing is left as last stored.
fn write_entities(
    tx: &rusqlite::Transaction<'_>,
    w: &mut Written,
    dir: &Path,
    key: &str,
    (rows, kept): (Vec<(String, String, String)>, &[&'static str]),
    superseded: &mut Vec<String>,
) -> Result<(), String> {
    let mut seen: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
    {
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO entities (tenant, kind, id, json) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(tenant, kind, id) DO UPDATE SET json = excluded.json",
            )
            .map_err(|e| e.to_string())?;
        for (kind, rid, text) in rows {
            let h = hash_text(&text);
            let k = (kind, rid);
            let written = w.rows.get(&k.0).and_then(|ids| ids.get(&k.1));
            if written != Some(&h) {
                let text = match file_field(&k.0) {
                    Some(_) if still_writing(&text) => {
                        // Its content is still changing: stored once it is closed.
                        seen.entry(k.0).or_default().insert(k.1);
                        continue;
                    }
                    Some(field) => write_file_row(tx, dir, key, &k, &text, field, superseded)?,
                    None => text,
                };
                upsert
                    .execute(params![key, k.0, k.1, text])
                    .map_err(|e| e.to_string())?;
                if let Some(files) = files_of(&k.0) {
                    // The processing status of the upload's file follows its upload.
                    tx.execute(
                        "UPDATE files SET status = json_extract(?3, '$.status')
                         WHERE tenant = ?1 AND kind = ?4
                           AND (id = ?2 OR id LIKE '%/' || ?2)",
                        params![key, k.1, text, files],
                    )
                    .map_err(|e| e.to_string())?;
                }
                w.rows
                    .entry(k.0.clone())
                    .or_default()
                    .insert(k.1.clone(), h);
            }
            seen.entry(k.0).or_default().insert(k.1);
        }
    }
    let mut gone: Vec<(String, String)> = Vec::new();
    for (kind, ids) in &w.rows {
        if kept.contains(&kind.as_str()) {
            continue;
        }
        let seen = seen.get(kind);
        gone.extend(
            ids.keys()
                .filter(|id| !seen.is_some_and(|s| s.contains(*id)))
                .map(|id| (kind.clone(), id.clone())),
        );
    }
    for k in gone {
        tx.execute(
            "DELETE FROM entities WHERE tenant = ?1 AND kind = ?2 AND id = ?3",
            params![key, k.0, k.1],
        )
        .map_err(|e| e.to_string())?;
        superseded.extend(stored_content(tx, key, &k)?);
        tx.execute(
            "DELETE FROM files WHERE tenant = ?1 AND kind = ?2 AND id = ?3",
            params![key, k.0, k.1],
        )
        .map_err(|e| e.to_string())?;
        if let Some(ids) = w.rows.get_mut(&k.0) {
            ids.remove(&k.1);
            if ids.is_empty() {
                w.rows.remove(&k.0);
            }
        }
    }
    Ok(())
}

/// An SFTP file still open for writing (`"writing": true`): its bytes change with every write.
fn still_writing(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Open {
        #[serde(default)]
        writing: bool,
    }
    serde_json::from_str::<Open>(text).is_ok_and(|f| f.writing)
}

/// The content a `files` row names, if there is one.
fn stored_content(
    tx: &rusqlite::Transaction<'_>,
    key: &str,
    (kind, id): &(String, String),
) -> Result<Option<String>, String> {
    Ok(contents_of(
        tx,
        "SELECT sha256 FROM files WHERE tenant = ?1 AND kind = ?2 AND id = ?3",
        params![key, kind, id],
    )?
    .pop())
}

/// Stores a file entity's bytes under `DIR/files` and its `files` row; returns the entity JSON
/// to store (without the bytes). The content the row named before is added to `superseded`.
fn write_file_row(
    tx: &rusqlite::Transaction<'_>,
    dir: &Path,
    key: &str,
    k: &(String, String),
    text: &str,
    field: &str,
    superseded: &mut Vec<String>,
) -> Result<String, String> {
    let (text, sha, size) = file_out(dir, text, field)?;
    if let Some(old) = stored_content(tx, key, k)? {
        if old != sha {
            superseded.push(old);
        }
    }
    tx.execute(
        "INSERT INTO files (tenant, kind, id, sha256, size, status)
         VALUES (?1, ?2, ?3, ?4, ?5,
           (SELECT json_extract(json, '$.status') FROM entities
            WHERE tenant = ?1 AND kind = ?7 AND id = ?6))
         ON CONFLICT(tenant, kind, id) DO UPDATE SET
           sha256 = excluded.sha256, size = excluded.size,
           status = excluded.status",
        params![
            key,
            k.0,
            k.1,
            sha,
            size,
            upload_name(&k.1),
            uploads_of(&k.0)
        ],
    )
    .map_err(|e| e.to_string())?;
    Ok(text)
}

/// Appends the new postings (all of them again when the ledger was replaced).
fn write_postings(
    tx: &rusqlite::Transaction<'_>,
    w: &mut Written,
    key: &str,
    read: &TenantRead,
) -> Result<(), String> {
    if read.reset_postings {
        w.postings = 0;
    }
    append_log(
        tx,
        key,
        "ledger_postings",
        read.reset_postings,
        "INSERT OR REPLACE INTO ledger_postings (tenant, id, at, memo, legs)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        &read.new_postings,
        |p| {
            let legs = serde_json::to_string(&p.legs).map_err(|e| e.to_string())?;
            Ok((key, p.id as i64, p.at, &p.memo, legs))
        },
    )?;
    w.postings += read.new_postings.len();
    w.last_posting = read.last_posting;
    Ok(())
}

/// Appends the new requestNos and deletes the forgotten oldest (all of them again when the
/// memory was replaced).
fn write_request_nos(
    tx: &rusqlite::Transaction<'_>,
    w: &mut Written,
    key: &str,
    read: &TenantRead,
) -> Result<(), String> {
    let nos = &read.nos;
    if read.reset_nos {
        w.request_no_next_seq = 0;
    }
    append_log(
        tx,
        key,
        "request_nos",
        read.reset_nos,
        "INSERT OR REPLACE INTO request_nos (tenant, seq, request_no) VALUES (?1, ?2, ?3)",
        nos.iter().zip(w.request_no_next_seq..),
        |(n, seq)| Ok((key, seq, n)),
    )?;
    w.request_no_next_seq += nos.len() as i64;
    if let Some(last) = nos.last() {
        w.request_no_last = Some(last.clone());
    }
    if read.nos_len < w.request_no_count + nos.len() || read.reset_nos {
        // The oldest were forgotten: keep the rows of the remembered ones only.
        tx.execute(
            "DELETE FROM request_nos WHERE tenant = ?1 AND seq < ?2",
            params![key, w.request_no_next_seq - read.nos_len as i64],
        )
        .map_err(|e| e.to_string())?;
    }
    w.request_no_count = read.nos_len;
    Ok(())
}

/// Writes the notifications added or changed, deletes those gone.
fn write_notifications(
    tx: &rusqlite::Transaction<'_>,
    notifications: &[(u64, Option<Notification>)],
) -> Result<(), String> {
    let mut upsert = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO notifications (seq, id, tenant, status, next_attempt_at, json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(|e| e.to_string())?;
    let mut delete = tx
        .prepare_cached("DELETE FROM notifications WHERE seq = ?1")
        .map_err(|e| e.to_string())?;
    for (seq, n) in notifications {
        match n {
            Some(n) => {
                let text = serde_json::to_string(n).map_err(|e| e.to_string())?;
                upsert
                    .execute(params![
                        *seq as i64,
                        n.id,
                        n.tenant.to_string(),
                        n.status.as_str(),
                        n.next_attempt_at,
                        text
                    ])
                    .map_err(|e| e.to_string())?;
            }
            None => {
                delete.execute([*seq as i64]).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// The database as a snapshot, with the clock's mode and the wall time (epoch ms) its row was
/// written at (None: a row an older simulator wrote); None when it holds no tenant yet.
type Loaded = Option<(super::Snapshot, ClockMode, Option<i64>)>;

/// Rows of `table` for a tenant the `tenants` table does not hold: refused rather than dropped.
fn orphan(table: &str, tenant: &str) -> String {
    format!(
        "table {table}: rows of tenant {} that table tenants does not hold",
        crate::text::echo(tenant)
    )
}

/// The virtual time a clock of `mode`, stored at `stored` and written at wall time `written_at`,
/// resumes at now ([`crate::clock::resume`]: a real clock moved on by the wall time that passed,
/// a manual or scaled one where it stopped), logging how a real clock resumed.
fn resumed_now(mode: ClockMode, stored: i64, written_at: Option<i64>) -> i64 {
    use crate::clock::{format::utc_z, Resumed};
    let (now, how) = crate::clock::resume(mode, stored, written_at, crate::clock::system_now());
    match how {
        Resumed::MovedOn(down) => tracing::info!(
            stored = %utc_z(stored),
            now = %utc_z(now),
            down_ms = down,
            "the real clock resumes as wall time moved while the simulator was down: timers \
             and notification attempts that fell due meanwhile run at once, in due order"
        ),
        Resumed::NoWallTime => tracing::warn!(
            stored = %utc_z(stored),
            "the data dir's clock row has no wall time (written by an older whalet-sim): the \
             real clock resumes at its stored time, behind wall time by the time the simulator \
             was down (POST /__sim/clock/advance moves it on); the next write records the wall \
             time, so later restarts resume as wall time moved"
        ),
        Resumed::WallWentBack(back) => tracing::warn!(
            stored = %utc_z(stored),
            back_ms = back,
            "the wall clock is earlier than when the data dir's clock was written: the real \
             clock resumes at its stored time (it never goes back)"
        ),
        Resumed::Paused => {}
    }
    now
}

/// The clock mode as stored (`{"mode": "manual"}`, …): refused, naming it, when it is not one
/// (a restart never falls back silently to another clock).
fn stored_mode(text: &str) -> Result<ClockMode, String> {
    serde_json::from_str::<ClockMode>(text)
        .map_err(|e| e.to_string())
        .and_then(ClockMode::validate)
        .map_err(|e| {
            format!(
                "table clock: mode {} is not a clock mode ({e}); expected {{\"mode\": \"real\"}}, \
                 {{\"mode\": \"manual\"}} or {{\"mode\": \"scaled\", \"scale\": …}}",
                crate::text::echo(text)
            )
        })
}

/// The `value` of `key` in table `meta` (None: no such row).
fn meta_value(conn: &Connection, key: &str) -> Result<Option<String>, String> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(match damaged(&e) {
                Some(why) => format!("table meta: {why}"),
                None => format!("table meta: {key}: {e}"),
            }),
        })
}

/// Reads the database into a snapshot (None when it holds no tenant yet) and fills `written`
/// with what is there, so that the first write changes nothing.
fn load(
    conn: &Connection,
    dir: &Path,
    written: &mut HashMap<TenantId, Written>,
    restored: &mut Restored,
) -> Result<Loaded, String> {
    // Read here, required once the database is known to hold state (a new one has no row yet).
    let clock: Option<(String, i64, Option<i64>)> = conn
        .query_row("SELECT mode, now, wall FROM clock WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(|e| match damaged(&e) {
            Some(_) => read_failed("clock", &e),
            None => format!(
                "table clock: {e}; its row holds the mode (JSON text), now (virtual time, \
                 whole epoch milliseconds) and wall (the wall time it was written at, whole \
                 epoch milliseconds, or empty)"
            ),
        })?;
    let mut tenants: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let template = persist::full(|| serde_json::to_value(TenantState::default()))
        .map_err(|e| e.to_string())?;
    {
        let rows: Vec<(String, i64)> = table_rows(
            conn,
            ("tenants", &["tenant"]),
            "SELECT tenant, sequence FROM tenants",
        )?;
        for (tenant, sequence) in rows {
            let id = TenantId::parse(&tenant)
                .ok_or_else(|| format!("table tenants: {tenant:?} is not provider:id"))?;
            let mut state = template.as_object().cloned().unwrap_or_default();
            state.insert("sequence".into(), json!(sequence));
            tenants.insert(tenant, state);
            written.entry(id).or_default().sequence = Some(sequence as u64);
        }
    }
    restored.tenants = tenants.len();
    if tenants.is_empty() {
        // New (no row anywhere), or a database that holds no tenant because none is configured
        // (its clock and scenarios are read below). Rows of tenants that table `tenants` does
        // not hold mean its rows were lost: never read as a new data dir, which would start
        // another clock and mix the old rows with the next write's.
        refuse_rows_without_tenants(conn)?;
        if clock.is_none() && !holds_rows(conn, &["scenarios", "journal", "timers"])? {
            return Ok(None);
        }
    }
    // Entities: kind = section.field; id "" holds a whole value.
    let mut grouped: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
    {
        let rows: Vec<(String, String, String, String)> = table_rows(
            conn,
            ("entities", &["tenant", "kind", "id"]),
            "SELECT tenant, kind, id, json FROM entities ORDER BY tenant, kind, id",
        )?;
        for (tenant, kind, id, text) in rows {
            restored.entities += 1;
            let text = match file_field(&kind) {
                Some(field) => file_in(dir, &text, field).map_err(|e| {
                    format!(
                        "table entities: {tenant} {kind} id {}: {e}",
                        crate::text::echo(&id)
                    )
                })?,
                None => text,
            };
            if let Some(tid) = TenantId::parse(&tenant) {
                written
                    .entry(tid)
                    .or_default()
                    .rows
                    .entry(kind.clone())
                    .or_default()
                    .insert(id.clone(), hash_text(&text));
            }
            grouped.entry((tenant, kind)).or_default().push((id, text));
        }
    }
    for ((tenant, kind), items) in grouped {
        let state = tenants
            .get_mut(&tenant)
            .ok_or_else(|| orphan("entities", &tenant))?;
        let Some((section, field)) = kind.split_once('.') else {
            return Err(format!(
                "table entities: {tenant} kind {kind:?} (id {}): the kind is not section.field",
                crate::text::echo(&items[0].0)
            ));
        };
        let parse = |id: &str, text: &str| -> Result<Value, String> {
            serde_json::from_str(text).map_err(|e| {
                format!(
                    "table entities: {tenant} {kind} id {}: not JSON: {e}",
                    crate::text::echo(id)
                )
            })
        };
        let value = if items.len() == 1 && items[0].0.is_empty() {
            parse("", &items[0].1)?
        } else {
            let mut map = Map::new();
            for (id, text) in &items {
                map.insert(id.clone(), parse(id, text)?);
            }
            Value::Object(map)
        };
        // A field the section does not have is kept: the check refuses it, naming it.
        match state.get_mut(section) {
            Some(Value::Object(s)) if SECTIONS.contains(&section) => {
                s.insert(field.to_owned(), value);
            }
            _ => {
                return Err(format!(
                    "table entities: {tenant} kind {kind:?}: {section:?} is not a section this \
                     table holds ({})",
                    SECTIONS.join(", ")
                ))
            }
        }
    }
    // Ledger postings, and the balances they sum to.
    {
        let rows: Vec<(String, i64, i64, String, String)> = table_rows(
            conn,
            ("ledger_postings", &["tenant", "id"]),
            "SELECT tenant, id, at, memo, legs FROM ledger_postings ORDER BY tenant, id",
        )?;
        // Each posting as a snapshot holds it, its legs as stored: read and checked with the
        // rest of the tenant ([`check::stored_tenant`]).
        let mut postings: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (tenant, id, at, memo, legs) in rows {
            let legs: Value = serde_json::from_str(&legs).map_err(|e| {
                format!("table ledger_postings: {tenant} {id}: legs are not JSON: {e}")
            })?;
            let id = u64::try_from(id)
                .map_err(|_| format!("table ledger_postings: {tenant}: id {id} is negative"))?;
            postings
                .entry(tenant)
                .or_default()
                .push(json!({"id": id, "at": at, "memo": memo, "legs": legs}));
        }
        for (tenant, list) in postings {
            restored.postings += list.len();
            let state = tenants
                .get_mut(&tenant)
                .ok_or_else(|| orphan("ledger_postings", &tenant))?;
            state.insert("ledger".into(), json!({"balances": [], "postings": list}));
        }
    }
    // RequestNos, oldest first.
    {
        let rows: Vec<(String, i64, String)> = table_rows(
            conn,
            ("request_nos", &["tenant", "seq"]),
            "SELECT tenant, seq, request_no FROM request_nos ORDER BY tenant, seq",
        )?;
        let mut nos: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (tenant, seq, no) in rows {
            if let Some(tid) = TenantId::parse(&tenant) {
                let w = written.entry(tid).or_default();
                w.request_no_next_seq = seq + 1;
                w.request_no_last = Some(no.clone());
                w.request_no_count += 1;
            }
            nos.entry(tenant).or_default().push(Value::String(no));
        }
        for (tenant, list) in nos {
            restored.request_nos += list.len();
            let state = tenants
                .get_mut(&tenant)
                .ok_or_else(|| orphan("request_nos", &tenant))?;
            state.insert("request_nos".into(), Value::Array(list));
        }
    }
    // Each tenant read as strictly as a snapshot's, its balances what its postings sum to.
    let mut states = BTreeMap::new();
    for (tenant, state) in tenants {
        let state = super::check::stored_tenant(&tenant, &Value::Object(state))?;
        if let Some(tid) = TenantId::parse(&tenant) {
            let w = written.entry(tid).or_default();
            w.postings = state.ledger.postings().len();
            w.last_posting = state.ledger.postings().last().map(posting_hash);
        }
        states.insert(tenant, state);
    }
    // Notifications, in sequence order.
    let notifications: Vec<Notification> =
        json_rows(conn, ("notifications", "id"), "ORDER BY seq")?;
    restored.pending_notifications += notifications
        .iter()
        .filter(|n| n.status == crate::notify::Status::Pending && n.next_attempt_at.is_some())
        .count();
    restored.notifications = notifications.len();
    let timers = load_timers(conn)?;
    restored.timers = timers.len();
    // At the stored virtual time (a missing row is refused below).
    let stopped_at = clock.as_ref().map_or(0, |(_, now, _)| *now);
    restored.ended_uploads = super::check::end_abandoned_uploads(&mut states, &timers, stopped_at);
    let (authorizations, scenarios, journal) = load_extras(conn)?;
    restored.authorizations = authorizations.len();
    restored.scenarios = scenarios.loaded.len();
    restored.journal = journal.len();
    let text = meta_value(conn, "next_notification_seq")?
        .ok_or_else(|| missing_meta("next_notification_seq", "the next notification's number"))?;
    let next_seq: u64 = text.parse().map_err(|_| {
        format!(
            "table meta: next_notification_seq {} is not a sequence number",
            crate::text::echo(&text)
        )
    })?;
    let (mode, now, wall) = clock.ok_or_else(missing_clock)?;
    let (mode, now) = (
        stored_mode(&mode)?,
        crate::clock::check_time(now, "table clock: now")?,
    );
    let wall = wall
        .map(|w| crate::clock::check_time(w, "table clock: wall"))
        .transpose()?;
    Ok(Some((
        super::Snapshot {
            format: super::FORMAT.into(),
            schema_version: super::SCHEMA_VERSION,
            scope: super::Scope::All,
            now,
            tenants: states,
            outbox: OutboxState {
                next_seq,
                notifications,
            },
            timers,
            authorizations,
            scenarios: Some(scenarios),
            journal,
        },
        mode,
        wall,
    )))
}

/// The tables whose rows each belong to a tenant (column `tenant`), which only a database
/// holding that tenant's row in table `tenants` has.
const TENANT_TABLES: [&str; 7] = [
    "entities",
    "ledger_postings",
    "request_nos",
    "notifications",
    "authorizations",
    "scenario_counters",
    "files",
];

/// Whether any of `tables` holds a row.
fn holds_rows(conn: &Connection, tables: &[&str]) -> Result<bool, String> {
    for table in tables {
        let any: i64 = conn
            .query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), [], |r| {
                r.get(0)
            })
            .map_err(|e| read_failed(table, &e))?;
        if any != 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Refuses a database whose table `tenants` is empty while other tables hold rows of tenants
/// (or a timer of one): its tenants' rows were deleted or lost, so it is neither new nor
/// readable. Names each such table with its row count and the tenants it names.
fn refuse_rows_without_tenants(conn: &Connection) -> Result<(), String> {
    let mut found = Vec::new();
    for table in TENANT_TABLES.iter().copied().chain(["timers"]) {
        let count: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE tenant IS NOT NULL"),
                [],
                |r| r.get(0),
            )
            .map_err(|e| read_failed(table, &e))?;
        if count == 0 {
            continue;
        }
        const SHOWN: i64 = 3;
        let names: Vec<(String,)> = table_rows(
            conn,
            (table, &["tenant"]),
            &format!(
                "SELECT DISTINCT tenant FROM {table} WHERE tenant IS NOT NULL ORDER BY tenant \
                 LIMIT {}",
                SHOWN + 1
            ),
        )?;
        let mut shown: Vec<String> = names
            .iter()
            .take(SHOWN as usize)
            .map(|(n,)| crate::text::echo(n).to_string())
            .collect();
        if names.len() as i64 > SHOWN {
            shown.push("others".into());
        }
        found.push(format!(
            "table {table} holds {count} {} of {} {}",
            if count == 1 { "row" } else { "rows" },
            if names.len() == 1 {
                "tenant"
            } else {
                "tenants"
            },
            shown.join(", ")
        ));
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(format!(
        "table tenants holds no row, but {}: the tenants' rows were deleted or lost, so this \
         is not a new data dir and its state cannot be read back (the rows of a tenant are read \
         with its row in table tenants); {PUT_BACK}",
        found.join(", ")
    ))
}

/// What to do about a row every database that holds state has (each commit writes it) and
/// this one lacks: never read as a default, which would silently drop or renumber state.
const PUT_BACK: &str = "put the row back (or the database from a copy), or start on a new \
                        data dir (`serve --snapshot FILE` brings a saved state)";

/// The refusal of a database holding tenants without its `clock` row: starting a clock of
/// another mode or time would be a silent switch (docs/PERSISTENCE.md).
fn missing_clock() -> String {
    format!(
        "table clock: the row (id 1) is missing; a data dir that holds state holds its \
         clock's mode (JSON, e.g. {{\"mode\": \"manual\"}}) and virtual time (ms): \
         {PUT_BACK}"
    )
}

/// The refusal of a database holding tenants without the `meta` row `key` (`what` it holds).
fn missing_meta(key: &str, what: &str) -> String {
    format!("table meta: the row {key} ({what}) is missing: {PUT_BACK}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Regression: a commit read its state in one cut but wrote the clock row and the
    /// numbering (`next_notification_seq`, `next_request_seq`) as they were when written. An
    /// advance steps the clock on meanwhile, so a `kill -9` left a stored clock past timers
    /// still pending (they ran late after the restart) and numbers past the notifications kept
    /// (ids skipped). They are the cut's; the next commit writes what came after it.
    /// A reply's commit does not queue behind the runtime's blocking pool (which also seals
    /// notifications): with its only thread taken, the commit still comes, on the writer.
    #[test]
    fn a_replys_commit_does_not_wait_for_the_blocking_pool() {
        let tmp = tempfile::tempdir().unwrap();
        let options = crate::Options {
            clock_mode: Some(ClockMode::Manual),
            ..crate::Options::default()
        };
        let app = crate::App::new(crate::config::Config::default(), options).unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        assert!(dir.core.set(app.core().clone()).is_ok());
        assert!(dir.pending(), "a new directory has its state to write");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (taken, release) = std::sync::mpsc::channel::<()>();
            let busy = tokio::task::spawn_blocking(move || {
                let _ = release.recv_timeout(Duration::from_secs(30));
            });
            let committed =
                tokio::time::timeout(Duration::from_secs(10), dir.commit_for_reply()).await;
            drop(taken);
            busy.await.unwrap();
            assert_eq!(
                committed.expect("the commit waited for the blocking pool"),
                Ok(())
            );
        });
        assert!(!dir.pending(), "everything is written");
    }

    #[test]
    fn a_commit_writes_the_clock_and_numbering_of_its_own_cut() {
        const T0: i64 = 1_735_689_600_000;
        let tmp = tempfile::tempdir().unwrap();
        let options = crate::Options {
            clock_mode: Some(ClockMode::Manual),
            start_time: Some(T0),
            ..crate::Options::default()
        };
        let app = crate::App::new(crate::config::Config::default(), options).unwrap();
        let core = app.core().clone();
        // Attached by hand, without the background writer: this test alone commits.
        let dir = DataDir::open(tmp.path()).unwrap();
        assert!(dir.core.set(core.clone()).is_ok());
        let (seq, request_seq) = (core.outbox().next_seq(), core.outbox().next_request_seq());
        let tenant = TenantId::parse("whalet:202400000000001").unwrap();
        let later = || {
            // What an advance does while the cut is being written: time moves on, a timer due
            // then notifies.
            core.clock().restore_now(T0 + 600_000);
            let spec = crate::notify::NotificationSpec::new(
                tenant.clone(),
                "whalet",
                "t".into(),
                Value::Null,
            );
            core.outbox().enqueue(spec);
        };
        dir.commit_when(DataDir::pending, later).unwrap();
        let stored = |dir: &DataDir| {
            let guard = dir.conn.lock();
            let (conn, _) = guard.as_ref().unwrap();
            let now: i64 = conn
                .query_row("SELECT now FROM clock WHERE id = 1", [], |r| r.get(0))
                .unwrap();
            let meta = |key: &str| meta_value(conn, key).unwrap().unwrap();
            (now, meta("next_notification_seq"), meta("next_request_seq"))
        };
        assert_eq!(
            stored(&dir),
            (T0, seq.to_string(), request_seq.to_string()),
            "the clock and numbering of the cut, beside its state"
        );
        dir.commit().unwrap();
        let (now, next_seq, next_request) = stored(&dir);
        assert_eq!(now, T0 + 600_000, "the next commit takes what came after");
        assert_eq!(next_seq, (seq + 1).to_string());
        assert!(next_request.parse::<u64>().unwrap() > request_seq);
    }

    /// Regression: a data dir whose database had a corrupt page was refused with SQLite's
    /// bare "database disk image is malformed", or even "out of memory" (a corrupt record
    /// claiming an impossible size): neither named the table nor said the file is damaged and
    /// what to do. Garbage written over pages of a database (as a failing disk leaves it) is
    /// refused at start saying so, without a panic.
    #[test]
    fn a_damaged_database_is_refused_saying_so_and_what_to_do() {
        let tmp = tempfile::tempdir().unwrap();
        let good = tmp.path().join("good");
        std::fs::create_dir_all(&good).unwrap();
        {
            let mut conn = open_db(&good).unwrap();
            let tx = conn.transaction().unwrap();
            tx.execute(
                "INSERT INTO tenants (tenant, sequence) VALUES ('infinia:demo-app', 1)",
                [],
            )
            .unwrap();
            let text = format!("{{\"orderNo\":\"{}\"}}", "o".repeat(400));
            for i in 0..8_000 {
                tx.execute(
                    "INSERT INTO entities (tenant, kind, id, json)
                     VALUES ('infinia:demo-app', 'infinia.trades', ?1, ?2)",
                    params![format!("T{i:05}"), text],
                )
                .unwrap();
            }
            tx.commit().unwrap();
            conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
                .unwrap();
        }
        let db = std::fs::read(good.join(DB_FILE)).unwrap();
        assert!(db.len() > 3_000_000, "{} bytes", db.len());
        let mut refusals = Vec::new();
        for (n, (at, garbage)) in [(0.3, 0xff), (0.5, 0xff), (0.7, 0x00), (0.57, 0x7f)]
            .into_iter()
            .enumerate()
        {
            let dir = tmp.path().join(format!("damaged{n}"));
            std::fs::create_dir_all(&dir).unwrap();
            let mut bytes = db.clone();
            let start = (bytes.len() as f64 * at) as usize;
            bytes[start..start + 4_000].fill(garbage);
            std::fs::write(dir.join(DB_FILE), bytes).unwrap();
            let mut config = crate::config::Config::default();
            config.store.data_dir = Some(dir.clone());
            let options = crate::Options {
                clock_mode: Some(ClockMode::Manual),
                ..crate::Options::default()
            };
            let refused = match crate::App::new(config, options) {
                Ok(_) => panic!("a database with garbage at {at} of it was read"),
                Err(e) => e.to_string(),
            };
            let path = dir.join(DB_FILE).display().to_string();
            assert!(
                refused.starts_with(&format!(
                    "database {path}: table entities: the database file"
                )),
                "{refused}"
            );
            assert!(refused.contains("damaged"), "{refused}");
            assert!(
                refused.contains("put whalet-sim.db back from a copy"),
                "{refused}"
            );
            assert!(refused.contains("move the data dir aside"), "{refused}");
            refusals.push(refused);
        }
        // Both kinds the tester met: a malformed page, and a record claiming a huge size
        // (SQLite's "out of memory"), named as what they are.
        assert!(refusals[0].contains("is damaged (SQLite: database disk image is malformed)"));
        assert!(
            refusals[1].contains("looks damaged (SQLite answered \"out of memory\""),
            "{}",
            refusals[1]
        );
    }

    /// SQLite's "out of memory" while reading, which a corrupt record gives, and its corrupt
    /// and not-a-database errors read as a damaged file; any other error as it is.
    #[test]
    fn sqlite_errors_of_a_damaged_file_are_told_apart() {
        let failure = |code| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        let nomem = read_failed("entities", &failure(rusqlite::ffi::SQLITE_NOMEM));
        assert!(
            nomem.starts_with(
                "table entities: the database file looks damaged (SQLite answered \"out of \
                 memory\" reading it, which a corrupt record claiming an impossible size causes); \
                 put whalet-sim.db back from a copy"
            ),
            "{nomem}"
        );
        let corrupt = read_failed("timers", &failure(rusqlite::ffi::SQLITE_CORRUPT));
        assert!(
            corrupt.starts_with("table timers: the database file is damaged (SQLite: ")
                && corrupt.contains("database disk image is malformed); put whalet-sim.db back"),
            "{corrupt}"
        );
        let busy = read_failed("timers", &failure(rusqlite::ffi::SQLITE_BUSY));
        assert!(!busy.contains("damaged"), "{busy}");
    }

    /// Regression: every commit of a tenant serialized and hashed every row of its state to
    /// find the changed ones, so an Infinia app holding 519,000 accepted trade rows made each
    /// of its requests (a read-only one too: any request takes the lock) wait 15–21 s for its
    /// commit, and the whole simulator with it (the rows are read in the consistent cut). A
    /// row collection that did not change is neither serialized nor rewritten; once it
    /// changes, it is, and its rows read back.
    #[test]
    fn a_commit_skips_an_unchanged_trade_collection_and_writes_a_changed_one() {
        use crate::money::{Currency, Money};
        use crate::store::infinia::{Trade, TradeType};
        const N: u64 = 3_000;
        let tmp = tempfile::tempdir().unwrap();
        let options = || crate::Options {
            clock_mode: Some(ClockMode::Manual),
            ..crate::Options::default()
        };
        let app = crate::App::new(crate::config::Config::default(), options()).unwrap();
        let core = app.core().clone();
        // Attached by hand, without the background writer: this test alone commits.
        let dir = DataDir::open(tmp.path()).unwrap();
        assert!(dir.core.set(core.clone()).is_ok());
        let app_id = TenantId::parse("infinia:demo-app").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let sale = |i: u64, minor: i64| Trade {
            trade_no: format!("T{i:05}"),
            trade_type: TradeType::Sale,
            seller_id: "S1".into(),
            order_no: format!("O{i}"),
            original_trade_no: None,
            trade_time: "2025-01-01 10:00:00".into(),
            amount: Money::new(minor, usd),
            returned_minor: 0,
            exchanged_minor: 0,
            file_name: "big.csv".into(),
        };
        core.with_tenant(&app_id, |t| {
            for i in 0..N {
                t.infinia.trades.insert(format!("T{i:05}"), sale(i, 100));
            }
            t.infinia
                .earned
                .insert("S1".into(), [("USD".to_owned(), 100 * N as i64)].into());
        })
        .unwrap();
        dir.mark_replaced(); // the first commit writes everything
        dir.commit().unwrap();
        let stored = |dir: &DataDir| -> (i64, String) {
            let guard = dir.conn.lock();
            let (conn, _) = guard.as_ref().unwrap();
            let count = conn
                .query_row(
                    "SELECT count(*) FROM entities WHERE kind = 'infinia.trades'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            let first = conn
                .query_row(
                    "SELECT json FROM entities WHERE kind = 'infinia.trades' AND id = 'T00000'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            (count, first)
        };
        assert_eq!(stored(&dir).0, N as i64);
        // A request that took the app's lock and changed nothing but its sequence: the app is
        // committed again, its trade rows neither serialized nor deleted.
        let commit_after = |change: &dyn Fn(&mut TenantState)| {
            core.with_tenant(&app_id, change).unwrap();
            dir.marks.dirty.lock().insert(app_id.clone());
            dir.marks.bump();
            let before = dir.entity_rows_read();
            dir.commit().unwrap();
            dir.entity_rows_read() - before
        };
        let read = commit_after(&|t| t.sequence += 1);
        assert!(
            read < 100,
            "{read} rows serialized for an unchanged trade collection"
        );
        assert_eq!(stored(&dir).0, N as i64, "the unchanged rows are kept");
        // A changed trade collection is serialized and its change written.
        let read = commit_after(&|t| {
            t.infinia.trades.get_mut("T00000").unwrap().order_no = "changed".into();
        });
        assert!(
            read >= N,
            "{read} rows serialized for a changed trade collection"
        );
        let (count, first) = stored(&dir);
        assert_eq!(count, N as i64);
        assert!(first.contains("\"orderNo\":\"changed\""), "{first}");
        // Removed rows are deleted; the next unchanged commit skips the collection again.
        let read = commit_after(&|t| {
            t.infinia.trades.remove("T00001");
            t.infinia.earned.insert(
                "S1".into(),
                [("USD".to_owned(), 100 * (N as i64 - 1))].into(),
            );
        });
        assert!(read >= N - 1);
        assert_eq!(stored(&dir).0, N as i64 - 1);
        assert!(commit_after(&|t| t.sequence += 1) < 100);
        // What was written reads back (with the same checks as a snapshot's).
        dir.close();
        drop(dir);
        let mut config = crate::config::Config::default();
        config.store.data_dir = Some(tmp.path().to_owned());
        let again = crate::App::new(config, options()).unwrap();
        let back = again
            .core()
            .with_tenant(&app_id, |t| {
                (
                    t.infinia.trades.len(),
                    t.infinia.trades["T00000"].order_no.clone(),
                )
            })
            .unwrap();
        assert_eq!(back, (N as usize - 1, "changed".to_owned()));
    }

    /// Every row collection held apart from its section is in [`APART`], and nothing else is:
    /// one left out would be written as a `null` row (and refused at the next start).
    #[test]
    fn the_row_collections_held_apart_are_those_listed() {
        let t = TenantState::default();
        let mut nulls = Vec::new();
        for section in SECTIONS {
            let whole = persist::full(|| section_value(&t, section)).unwrap();
            let apart = crate::store::rows::held_apart(|| section_value(&t, section)).unwrap();
            for (field, v) in whole.as_object().unwrap() {
                if apart[field] != *v {
                    assert_eq!(apart[field], Value::Null, "{section}.{field}");
                    nulls.push(format!("{section}.{field}"));
                }
            }
        }
        let listed: Vec<String> = APART.iter().map(|(kind, _, _)| kind.to_string()).collect();
        assert_eq!(nulls, listed);
    }

    #[test]
    fn a_lock_file_of_a_process_that_no_longer_runs_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        // What a simulator killed with `kill -9` leaves: a file naming it, and no lock (the
        // kernel released it). Process 1 (a container's), this very process, or any other.
        for stale in [
            "1".to_owned(),
            std::process::id().to_string(),
            "4242 99".to_owned(),
        ] {
            std::fs::write(&path, &stale).unwrap();
            let lock = take_lock(dir.path()).unwrap();
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                std::process::id().to_string()
            );
            drop(lock);
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                "",
                "released: emptied"
            );
        }
    }

    /// The requestNo sequence a database keeps is read back as written; none (an older
    /// database) leaves the notification numbering as its floor; another value refuses the
    /// start, naming the row.
    #[test]
    fn a_kept_request_sequence_reads_back_and_a_malformed_one_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .unwrap();
        assert_eq!(next_request_seq(&conn), Ok(0));
        let set = |value: &str| {
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_request_seq', ?1)",
                [value],
            )
            .unwrap();
        };
        set("42");
        assert_eq!(next_request_seq(&conn), Ok(42));
        for bad in ["-1", "x", "18446744073709551616"] {
            set(bad);
            let e = next_request_seq(&conn).unwrap_err();
            assert!(
                e.starts_with(&format!(
                    "table meta: next_request_seq \"{bad}\" is not a sequence number"
                )),
                "{e}"
            );
        }
    }

    /// The last journal id a database keeps is read as strictly as a snapshot's ids: a value
    /// that is not a number up to `MAX_ID` refuses the start, naming the row; none (an older
    /// database) leaves it to the entries.
    #[test]
    fn a_journal_last_id_past_the_bound_or_not_a_number_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .unwrap();
        assert_eq!(journal_last_id(&conn), Ok(0));
        let set = |value: &str| {
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('journal_last_id', ?1)",
                [value],
            )
            .unwrap();
        };
        set("9223372036854775807");
        assert_eq!(journal_last_id(&conn), Ok(crate::journal::MAX_ID));
        for bad in ["9223372036854775808", "-1", "x"] {
            set(bad);
            let e = journal_last_id(&conn).unwrap_err();
            assert!(
                e.starts_with(&format!(
                    "table meta: journal_last_id \"{bad}\" is not a journal id"
                )),
                "{e}"
            );
        }
    }

    #[test]
    fn a_lock_held_by_a_running_simulator_is_refused_naming_its_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let held = take_lock(dir.path()).unwrap();
        // Another open file description of the same file: as another process would see it.
        let refused = take_lock(dir.path()).err().unwrap();
        assert_eq!(
            refused,
            format!(
                "in use by another running simulator (process {} holds {})",
                std::process::id(),
                path.display()
            )
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            std::process::id().to_string(),
            "a refused attempt leaves the holder's file alone"
        );
        drop(held);
        assert!(take_lock(dir.path()).is_ok(), "free again once released");
    }

    #[test]
    fn a_lock_file_deleted_while_held_still_keeps_a_second_simulator_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let held = take_lock(dir.path()).unwrap();
        std::fs::remove_file(&path).unwrap();
        let refused = take_lock(dir.path()).err().unwrap();
        assert!(
            refused.starts_with("in use by another running simulator (")
                && refused.contains(&format!("directory {} locked", dir.path().display()))
                && refused.contains(&format!("lock file {} was deleted", path.display())),
            "{refused}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "",
            "a refused attempt names no process in the new lock file"
        );
        drop(held);
        assert!(take_lock(dir.path()).is_ok(), "free again once released");
    }
}
