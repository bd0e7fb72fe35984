//! The one source of "now" for business timestamps and due times, and the timer queue that
//! runs work when it falls due. Three modes: real time, scaled (`--time-scale 0.01` makes a
//! 31 s retry series last 0.31 s) and manual (frozen; [`Clock::advance`] moves time forward and
//! runs everything that falls due, in order, before it returns).
//!
//! Work is a [`Job`]: a closure producing a future. The driver task ([`Clock::run_driver`])
//! starts jobs as they fall due; `advance` runs them itself, stepping the clock to each job's due
//! time, so a job sees `now()` equal to its due time. A job is *in flight* from the moment it is
//! taken off the timer queue (under the queue's lock) until its future ends, however it ends.
//! Each job has a *start generation*, an ordering of starts: a new one for a job the driver
//! starts; for a timer a job scheduled at or before the time it did so (a notification held
//! behind the one it just delivered), the generation of that job; while an advance runs, that
//! of the advance's instant (see [`Reach`]) for the jobs it starts and for timers queued before
//! it reached the instant. `advance` never moves time past an instant while a job of a
//! generation up to its instant's is in flight, so work started at an instant (e.g. a delivery
//! attempt waiting for a partner's answer) finishes at that instant in virtual time. Jobs that
//! requests start after the advance reached an instant (traffic that goes on meanwhile) are the
//! driver's and are not waited for there, so traffic holds an advance back by no more than the
//! jobs in flight when it reached each instant.
//!
//! Jobs start one at a time in a fixed order, due time then scheduling order (a timeline's file
//! order), and a job runs up to its first wait before the next starts: the state changes a job
//! makes before it waits (a trigger, a review's decision) are applied in that order, so the same
//! timers give the same ids and outcomes every run. What a job does after a wait (a delivery's
//! HTTP exchange and its recording) is handed off to a task of its own and runs alongside the
//! later jobs, so a slow partner never holds the other timers back.
//!
//! Boundary: the clock knows nothing of what jobs do; the outbox and surfaces schedule them.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::cut::Cut;

/// Milliseconds since the Unix epoch, virtual.
pub type Millis = i64;

pub type JobFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
/// Work to run when it falls due. Its part up to its first wait runs in order with the other
/// jobs (see the module's doc); the rest runs in a task of its own.
pub type Job = Box<dyn FnOnce() -> JobFuture + Send>;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "mode")]
pub enum ClockMode {
    Real,
    /// Wall seconds per virtual second: 0.01 runs 100 times faster than real time.
    Scaled {
        scale: f64,
    },
    Manual,
}

/// The accepted range of [`ClockMode::Scaled`]'s `scale` (a million times faster or slower).
pub const MIN_SCALE: f64 = 1e-6;
pub const MAX_SCALE: f64 = 1e6;
/// The largest single advance: ten years of virtual time.
pub const MAX_ADVANCE_MS: i64 = 10 * 365 * 24 * 3_600_000;
/// The latest virtual time, 9999-12-30 00:00:00 UTC: a day short of the calendar's end, so every
/// time the simulator writes (UTC+8 included) has a four-digit year. Virtual time runs from the
/// epoch to here; the clock stops at it.
pub const MAX_TIME: Millis = 253_402_128_000_000;

/// When a timer asked for at `due` runs: a due time past [`MAX_TIME`] (a long delay near the
/// end of the calendar) is due at `MAX_TIME`, so that it still runs when the clock gets there.
/// What a page says of such a time (a link's expiry) is this time too.
pub fn due_time(due: Millis) -> Millis {
    due.min(MAX_TIME)
}

/// Checks that `ms` is a virtual time the clock can hold (from the epoch to [`MAX_TIME`]); the
/// message names `what` and the range.
pub fn check_time(ms: Millis, what: &str) -> Result<Millis, String> {
    if (0..=MAX_TIME).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!(
            "{what} {ms} is outside the virtual time the simulator keeps: 0 (1970-01-01) to \
             {MAX_TIME} (9999-12-30 00:00:00 UTC), in milliseconds"
        ))
    }
}
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

impl ClockMode {
    /// Checks `scale`; the message names the accepted range.
    pub fn validate(self) -> Result<Self, String> {
        match self {
            ClockMode::Scaled { scale } if !(MIN_SCALE..=MAX_SCALE).contains(&scale) => Err(format!(
                "scale must be a number from {MIN_SCALE} to {MAX_SCALE} (wall seconds per virtual second), got {scale:?}"
            )),
            mode => Ok(mode),
        }
    }
}

struct State {
    mode: ClockMode,
    /// Virtual time at `anchor_wall`.
    anchor_virtual: Millis,
    anchor_wall: Instant,
}

impl State {
    fn now(&self) -> Millis {
        let elapsed = self.anchor_wall.elapsed().as_secs_f64() * 1000.0;
        // `as` saturates, so a tiny scale cannot overflow.
        let now = match self.mode {
            ClockMode::Manual => self.anchor_virtual,
            ClockMode::Real => self.anchor_virtual.saturating_add(elapsed as i64),
            ClockMode::Scaled { scale } => self
                .anchor_virtual
                .saturating_add((elapsed / scale.clamp(MIN_SCALE, MAX_SCALE)) as i64),
        };
        now.min(MAX_TIME)
    }

    /// Wall time until virtual time `due`, or None when it never comes by itself (manual).
    fn wall_until(&self, due: Millis) -> Option<Duration> {
        let ahead = due.saturating_sub(self.now()).max(0) as f64;
        let wall_ms = match self.mode {
            ClockMode::Manual => return (ahead == 0.0).then_some(Duration::ZERO),
            ClockMode::Real => ahead,
            ClockMode::Scaled { scale } => ahead * scale.clamp(MIN_SCALE, MAX_SCALE),
        };
        // Beyond a year of wall time the driver simply wakes up and looks again.
        Some(Duration::try_from_secs_f64(wall_ms / 1000.0).map_or(YEAR, |d| d.min(YEAR)))
    }
}

struct Timer {
    label: String,
    job: Job,
    /// The start generation of the job that scheduled this timer due at or before the time it
    /// did so (work it caused at once): this timer's job gets the same one when it starts.
    cause: Option<u64>,
    /// Set for a timer kept as data (see [`TimerRecord`]).
    record: Option<TimerRecord>,
}

/// A timer kept as data rather than code: the registered `kind` of work (the core keeps the one
/// table of kinds), what it is about and with what parameters. Such timers are in snapshots and
/// the data directory; on restore the core rebuilds each job from its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimerRecord {
    /// Virtual time the work falls due.
    pub due: Millis,
    /// The label shown on the control plane (a reset cancels timers by label prefix).
    pub label: String,
    /// The registered kind of work (e.g. `whalet.review`).
    pub kind: String,
    /// The tenant (`provider:id`) it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The object it is about (an id or a token).
    pub key: String,
    /// The kind's parameters (verdict, target status, ...).
    #[serde(default)]
    pub params: serde_json::Value,
}

/// Durable timers added (`Some`) or gone (`None`) since last taken, by timer id.
pub type RecordChange = (u64, Option<TimerRecord>);

/// A pending timer as shown on the control plane.
#[derive(Debug, Clone, Serialize)]
pub struct PendingTimer {
    pub id: u64,
    pub due: Millis,
    pub label: String,
}

struct Inner {
    state: Mutex<State>,
    timers: Mutex<BTreeMap<(Millis, u64), Timer>>,
    next_id: AtomicU64,
    in_flight: AtomicUsize,
    /// The last start generation handed out (see the module's doc); 0 before the first job.
    started: AtomicU64,
    /// The jobs in flight, counted by start generation.
    flying: Mutex<BTreeMap<u64, usize>>,
    /// Notified when the earliest start generation in flight has no job left.
    settled: Notify,
    /// Where the running advance is (see [`Reach`]), None when none runs.
    reach: Mutex<Option<Reach>>,
    /// Whether the driver ([`Clock::run_driver`]) runs: the timers that requests schedule while
    /// an advance runs are then its to start.
    driving: AtomicBool,
    changed: Notify,
    advancing: tokio::sync::Mutex<()>,
    /// Set (under the `timers` lock) while an advance runs: the driver then starts nothing, so
    /// every job of the advance starts in order from one place.
    held: AtomicBool,
    /// Whether durable timer changes are logged (a data directory is attached).
    tracking: AtomicBool,
    record_log: Mutex<Vec<RecordChange>>,
    on_record_change: Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
    /// The records of durable timers whose jobs went on after their first poll (an SFTP file
    /// read off the async workers), by timer id: still pending work, so snapshots and the data
    /// directory keep them ([`Clock::records`]) until the job ends, in its last poll.
    running: Mutex<BTreeMap<u64, TimerRecord>>,
    /// Taking a timer off the queue and its job's first step are one unit of work, as is each
    /// later poll of the job: a snapshot sees the timer or what its job did, never neither.
    cut: Cut,
    /// Bumped when all state (and, by an import, the time) was replaced: a running advance then
    /// starts nothing more and does not move time to its target.
    replaced: AtomicU64,
    /// What bumped `replaced` last, for the answer of the advance it ended.
    replaced_by: Mutex<Stopped>,
    /// Bumped by every change of the clock that was asked for (a mode switch, the time put or
    /// moved forward): a data directory writes the clock before the answer that reports one,
    /// where a running clock's ticking is written only now and then.
    set: AtomicU64,
}

/// Cloneable handle to the clock and its timer queue.
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

impl Clock {
    /// A clock starting at `start` (virtual) or the system time.
    pub fn new(mode: ClockMode, start: Option<Millis>) -> Self {
        let start = start.unwrap_or_else(system_now).clamp(0, MAX_TIME);
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    mode,
                    anchor_virtual: start,
                    anchor_wall: Instant::now(),
                }),
                timers: Mutex::new(BTreeMap::new()),
                next_id: AtomicU64::new(1),
                in_flight: AtomicUsize::new(0),
                started: AtomicU64::new(0),
                flying: Mutex::new(BTreeMap::new()),
                settled: Notify::new(),
                reach: Mutex::new(None),
                driving: AtomicBool::new(false),
                changed: Notify::new(),
                advancing: tokio::sync::Mutex::new(()),
                held: AtomicBool::new(false),
                tracking: AtomicBool::new(false),
                record_log: Mutex::new(Vec::new()),
                on_record_change: Mutex::new(None),
                running: Mutex::new(BTreeMap::new()),
                cut: Cut::default(),
                replaced: AtomicU64::new(0),
                replaced_by: Mutex::new(Stopped::Import),
                set: AtomicU64::new(0),
            }),
        }
    }

    pub fn now(&self) -> Millis {
        self.inner.state.lock().now()
    }

    /// The cut every unit of work shares and a snapshot takes alone (see [`crate::cut`]).
    pub fn cut(&self) -> &Cut {
        &self.inner.cut
    }

    /// Ends a running advance where it is, without waiting for it: all state and the time were
    /// replaced (an import, under [`Cut::still`]), so it starts no more timers and does not
    /// move the new time to its target. Its jobs in flight finish on their own.
    pub fn end_advances(&self) {
        self.end_advances_by(Stopped::Import);
    }

    /// [`Clock::end_advances`], for `why` (an import, or a reset of all state): the advance it
    /// ends answers that it stopped and why ([`Advanced::stopped`]).
    pub fn end_advances_by(&self, why: Stopped) {
        *self.inner.replaced_by.lock() = why;
        self.inner.replaced.fetch_add(1, Ordering::AcqRel);
    }

    /// How many changes of the clock were asked for so far (see `Inner::set`).
    pub fn changes_asked(&self) -> u64 {
        self.inner.set.load(Ordering::Acquire)
    }

    pub fn mode(&self) -> ClockMode {
        self.inner.state.lock().mode
    }

    /// Switches mode, keeping the current virtual time.
    pub fn set_mode(&self, mode: ClockMode) {
        {
            let mut state = self.inner.state.lock();
            let now = state.now();
            state.anchor_virtual = now;
            state.anchor_wall = Instant::now();
            state.mode = mode;
        }
        self.inner.set.fetch_add(1, Ordering::AcqRel);
        self.inner.changed.notify_one();
    }

    /// Puts virtual time at `now`, also backwards, keeping the mode (restoring a snapshot or a
    /// data directory; pending timers are not touched).
    pub fn restore_now(&self, now: Millis) {
        {
            let mut state = self.inner.state.lock();
            state.anchor_virtual = now.clamp(0, MAX_TIME);
            state.anchor_wall = Instant::now();
        }
        self.inner.set.fetch_add(1, Ordering::AcqRel);
        self.inner.changed.notify_one();
    }

    /// Runs `job` at virtual time `due` (immediately if `due` is not in the future).
    pub fn schedule_at(&self, due: Millis, label: impl Into<String>, job: Job) -> u64 {
        self.insert(due, label.into(), job, None)
    }

    /// Runs `job` at `record.due`, keeping `record` as the timer's data (exported by
    /// [`Clock::records`]); `job` must be what the record's kind builds from it.
    pub fn schedule_record(&self, record: TimerRecord, job: Job) -> u64 {
        self.insert(record.due, record.label.clone(), job, Some(record))
    }

    /// Queues a timer, due at [`due_time`] of `due`. Scheduled by a job for no later than now,
    /// it is that job's doing at once, and its job will have that job's start generation.
    fn insert(&self, due: Millis, label: String, job: Job, record: Option<TimerRecord>) -> u64 {
        let due = due_time(due);
        let cause = STARTED_AS
            .try_with(|generation| *generation)
            .ok()
            .filter(|_| due <= self.now());
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        if let Some(r) = &record {
            self.log_record(id, Some(r.clone()));
        }
        self.inner.timers.lock().insert(
            (due, id),
            Timer {
                label,
                job,
                cause,
                record,
            },
        );
        self.inner.changed.notify_one();
        id
    }

    /// Pending durable timers, earliest first: those not yet started and those whose jobs are
    /// still running after their first poll (`Inner::running`; due already, so a restore runs
    /// them again at once: at least once, as a data directory does after `kill -9`).
    pub fn records(&self) -> Vec<TimerRecord> {
        self.records_with_ids()
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }

    /// [`Clock::records`] with their timer ids, earliest first.
    pub fn records_with_ids(&self) -> Vec<(u64, TimerRecord)> {
        let timers = self.inner.timers.lock();
        let running = self.inner.running.lock();
        let mut all: Vec<((Millis, u64), TimerRecord)> = running
            .iter()
            .map(|(&id, r)| ((due_time(r.due), id), r.clone()))
            .chain(
                timers
                    .iter()
                    .filter_map(|(&key, t)| t.record.clone().map(|r| (key, r))),
            )
            .collect();
        all.sort_by_key(|(key, _)| *key);
        all.into_iter().map(|((_, id), r)| (id, r)).collect()
    }

    /// Starts logging durable timer changes and calls `hook` after each (a data directory
    /// attaching); [`Clock::take_record_changes`] hands them over.
    pub fn track_records(&self, hook: Arc<dyn Fn() + Send + Sync>) {
        *self.inner.on_record_change.lock() = Some(hook);
        self.inner.tracking.store(true, Ordering::Release);
    }

    /// Durable timers scheduled (`Some`) or finished or cancelled (`None`) since the last call.
    pub fn take_record_changes(&self) -> Vec<RecordChange> {
        std::mem::take(&mut *self.inner.record_log.lock())
    }

    fn log_record(&self, id: u64, record: Option<TimerRecord>) {
        if !self.inner.tracking.load(Ordering::Acquire) {
            return;
        }
        self.inner.record_log.lock().push((id, record));
        let hook = self.inner.on_record_change.lock().clone();
        if let Some(hook) = hook {
            hook();
        }
    }

    /// Runs `job` `delay_ms` of virtual time from now.
    pub fn schedule_in(&self, delay_ms: i64, label: impl Into<String>, job: Job) -> u64 {
        self.schedule_at(self.now().saturating_add(delay_ms.max(0)), label, job)
    }

    /// Timers not yet started, earliest first.
    pub fn pending(&self) -> Vec<PendingTimer> {
        self.inner
            .timers
            .lock()
            .iter()
            .map(|(&(due, id), t)| PendingTimer {
                id,
                due,
                label: t.label.clone(),
            })
            .collect()
    }

    /// Jobs started (by the driver or an advance) that have not finished yet, e.g. a delivery
    /// attempt waiting for the partner's answer.
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Acquire)
    }

    /// Drops every pending timer whose label starts with `prefix` (used by reset).
    pub fn cancel_matching(&self, prefix: &str) -> usize {
        self.cancel_where(|label| label.starts_with(prefix))
    }

    /// Drops every pending timer whose label satisfies `doomed`. Started jobs are not affected.
    pub fn cancel_where(&self, doomed: impl Fn(&str) -> bool) -> usize {
        let mut gone = Vec::new();
        let mut count = 0;
        self.inner.timers.lock().retain(|&(_, id), t| {
            let keep = !doomed(&t.label);
            if !keep {
                count += 1;
                if t.record.is_some() {
                    gone.push(id);
                }
            }
            keep
        });
        let stopped = self.forget_running(|r| doomed(&r.label));
        for id in gone.into_iter().chain(stopped) {
            self.log_record(id, None);
        }
        count
    }

    /// Stops keeping the records of running jobs ([`Clock::records`]) that satisfy `doomed`
    /// (their work was cancelled; the job, once running, finishes on its own and finds what it
    /// was about gone). Returns their ids.
    fn forget_running(&self, doomed: impl Fn(&TimerRecord) -> bool) -> Vec<u64> {
        let mut gone = Vec::new();
        self.inner.running.lock().retain(|&id, r| {
            let drop_it = doomed(r);
            if drop_it {
                gone.push(id);
            }
            !drop_it
        });
        gone
    }

    /// Drops every pending durable timer whose record satisfies `doomed` (a one-tenant import).
    pub fn cancel_records(&self, doomed: impl Fn(&TimerRecord) -> bool) -> usize {
        let mut gone = Vec::new();
        self.inner.timers.lock().retain(|&(_, id), t| {
            let drop_it = t.record.as_ref().is_some_and(&doomed);
            if drop_it {
                gone.push(id);
            }
            !drop_it
        });
        let count = gone.len();
        let stopped = self.forget_running(&doomed);
        for id in gone.into_iter().chain(stopped) {
            self.log_record(id, None);
        }
        count
    }

    /// Moves virtual time forward by `ms` (at most [`MAX_ADVANCE_MS`]), running every timer that
    /// falls due, each with `now()` at its due time, one at a time in due order and, at the same
    /// instant, in scheduling order (see the module's doc). Before time moves past an instant,
    /// every job started at or before it has finished (so a delivery attempt's answer, or its
    /// timeout, is recorded at the virtual time it was sent; a hung partner costs wall time,
    /// never virtual time): at each instant it reaches (its start included), the jobs in flight
    /// when it got there, those of the timers queued by then and what they cause at once. A
    /// timer that a request schedules for the current instant after the advance reached it
    /// (traffic that goes on during the advance) is the driver's to start, and is not waited
    /// for, so the advance answers however long that traffic lasts; its later timers (retries)
    /// run as they fall due, in this advance or after it. (With no driver running, the advance
    /// runs such timers too, and waits for them.) Returns how many timers ran. Advances are
    /// serialised.
    ///
    /// The advance holds the queue (the driver starts nothing) only while it starts timers, never
    /// while it waits for jobs in flight: with a real or scaled clock, the driver keeps starting
    /// what falls due meanwhile, so a hung receiver holds back no other partner's timers.
    pub async fn advance(&self, ms: i64) -> usize {
        self.advance_until(ms, std::future::pending()).await.ran
    }

    /// [`Clock::advance`], stopping where it is as soon as `stop` resolves (the server begins to
    /// stop): whatever it waits for then (its turn after another advance, a job in flight such
    /// as an attempt to a receiver that never answers), it starts no more timers, leaves time
    /// where it got to and returns at once; the jobs in flight finish on their own. An import or
    /// a reset of all state ([`Clock::end_advances_by`]) ends it the same way. What it did, and
    /// whether and why it stopped short, is the [`Advanced`] it returns.
    pub async fn advance_until(&self, ms: i64, stop: impl Future<Output = ()>) -> Advanced {
        // An import from now on ends this advance, even one that came while it waited to start.
        let epoch = self.inner.replaced.load(Ordering::Acquire);
        let current = || self.inner.replaced.load(Ordering::Acquire) == epoch;
        let mut stop = std::pin::pin!(stop);
        let mut done = Advanced {
            ran: 0,
            moved: 0,
            stopped: Some(Stopped::Stop),
        };
        let Some(_guard) = unless(stop.as_mut(), self.inner.advancing.lock()).await else {
            return done;
        };
        // The jobs started before it began (and the timers queued by then, whoever starts them)
        // finish first; those that requests start while it waits are not waited for.
        let _reached = Reaching::new(self);
        if unless(stop.as_mut(), self.wait_settled()).await.is_none() {
            return done;
        }
        let start = self.now();
        let asked = start.saturating_add(ms.clamp(0, MAX_ADVANCE_MS));
        let target = asked.min(MAX_TIME);
        let mut reached = start;
        let mut held = Some(Held::new(self));
        loop {
            let next = self.inner.cut.work(|| {
                if !current() {
                    return Some(Next::Done);
                }
                match self.take_next(target) {
                    Next::Run(taken, due) => {
                        self.start(*taken);
                        reached = reached.max(due);
                        None
                    }
                    other => Some(other),
                }
            });
            match next {
                Some(Next::Done) => break,
                Some(Next::Settle) => {
                    drop(held.take());
                    done.moved = reached - start;
                    if unless(stop.as_mut(), self.wait_settled()).await.is_none() {
                        return done;
                    }
                    held = Some(Held::new(self));
                }
                // Started inside the unit above.
                Some(Next::Run(..)) | None => done.ran += 1,
            }
        }
        drop(held);
        done.moved = reached - start;
        if unless(stop.as_mut(), self.wait_settled()).await.is_none() {
            return done;
        }
        let ended = self.inner.cut.work(|| {
            if current() {
                self.set_virtual(target);
                None
            } else {
                Some(*self.inner.replaced_by.lock())
            }
        });
        if ended.is_none() {
            done.moved = target - start;
        }
        // Virtual time ends before the target asked for: the clock stops at its end.
        done.stopped = ended.or((target < asked).then_some(Stopped::End));
        done
    }

    /// The last start generation handed out: every job started so far has one at most this.
    fn started_so_far(&self) -> u64 {
        self.inner.started.load(Ordering::Acquire)
    }

    /// Whether a job of the running advance's instant (start generation at most its
    /// [`Reach::generation`]) is in flight; with no advance running, whether any job is.
    fn busy(&self) -> bool {
        let bound = self.inner.reach.lock().map(|r| r.generation);
        let flying = self.inner.flying.lock();
        let earliest = flying.keys().next();
        earliest.is_some_and(|&generation| bound.is_none_or(|bound| generation <= bound))
    }

    /// Waits until no job of the advance's instant is in flight ([`Clock::busy`]).
    async fn wait_settled(&self) {
        loop {
            let notified = self.inner.settled.notified();
            if !self.busy() {
                return;
            }
            notified.await;
        }
    }

    /// Marks the running advance as at the clock's current instant (see [`Reach`]). Called with
    /// the timer queue locked, or before the advance starts anything.
    fn reach_now(&self) {
        *self.inner.reach.lock() = Some(Reach {
            cut: self.inner.next_id.load(Ordering::Acquire),
            generation: self.started_so_far(),
        });
    }

    /// Takes the earliest timer the advance runs if it is due at or before `limit`, stepping
    /// the clock to its due time; [`Next::Settle`] instead when that would move time while a job
    /// of the current instant is in flight ([`Clock::busy`]), or when nothing is due but such a
    /// job may still schedule something. The advance runs every timer except one that a request
    /// scheduled, for no later than now, after the advance reached the current instant: while
    /// the driver runs, that is the driver's to start once the queue is free, as a real clock
    /// would. The taken timer counts as in flight from this moment (under the same lock), so
    /// nobody can observe "no timers, nothing in flight" in between.
    fn take_next(&self, limit: Millis) -> Next {
        let mut timers = self.inner.timers.lock();
        let busy = self.busy();
        let now = self.now();
        let cut = self.inner.reach.lock().map_or(u64::MAX, |r| r.cut);
        let driving = self.inner.driving.load(Ordering::Acquire);
        let next = timers
            .iter()
            .take_while(|(&(due, _), _)| due <= limit)
            .find(|(&(due, id), t)| due > now || id < cut || t.cause.is_some() || !driving)
            .map(|(&key, _)| key);
        let Some((due, id)) = next else {
            // A job still in flight may schedule more (a delivery's retry).
            return if busy { Next::Settle } else { Next::Done };
        };
        if due > now {
            if busy {
                return Next::Settle;
            }
            // A later instant: what was queued by now, or is in flight, is its to wait for.
            self.set_virtual(due);
            self.reach_now();
        }
        let Some(timer) = timers.remove(&(due, id)) else {
            return Next::Done;
        };
        let taken = self.taking(id, timer, true);
        drop(timers);
        Next::Run(Box::new(taken), due)
    }

    /// Counts a timer just taken off the queue (under its lock) in flight, with its start
    /// generation: its cause's; else, while an advance runs, that of the advance's instant for
    /// a timer the advance takes or one queued before it reached the instant; else a new one.
    fn taking(&self, id: u64, timer: Timer, by_advance: bool) -> Taken {
        let reach = *self.inner.reach.lock();
        let generation = match (timer.cause, reach) {
            (Some(cause), _) => cause,
            (None, Some(reach)) if by_advance || id < reach.cut => reach.generation,
            (None, _) => self.inner.started.fetch_add(1, Ordering::AcqRel) + 1,
        };
        *self.inner.flying.lock().entry(generation).or_insert(0) += 1;
        self.inner.in_flight.fetch_add(1, Ordering::AcqRel);
        Taken {
            id,
            timer,
            generation,
        }
    }

    /// Takes the earliest timer if it is due at or before `now` and no advance holds the queue,
    /// counting it in flight under the lock.
    fn take_due_now(&self, now: Millis) -> Option<Taken> {
        let mut timers = self.inner.timers.lock();
        if self.inner.held.load(Ordering::Acquire) {
            return None;
        }
        let key = *timers.keys().next().filter(|&&(due, _)| due <= now)?;
        let timer = timers.remove(&key)?;
        Some(self.taking(key.1, timer, false))
    }

    /// Runs a taken timer's job up to its first wait here, then hands the rest (if any) to a
    /// task of its own; the in-flight count drops when the job ends, even by a panic (logged,
    /// and the clock goes on). A durable timer's record is logged as gone when its job ends (a
    /// process killed meanwhile runs it again on restart: at least once); while the rest runs,
    /// the record is still listed ([`Clock::records`]) and is dropped in the job's last poll,
    /// the unit of work that ends it, so a snapshot holds the record or what the job did.
    fn start(&self, taken: Taken) {
        let Taken {
            id,
            timer,
            generation,
        } = taken;
        let guard = InFlight {
            clock: self.clone(),
            record: timer.record.is_some().then_some(id),
            generation,
        };
        let Timer {
            label, job, record, ..
        } = timer;
        let first = std::panic::catch_unwind(AssertUnwindSafe(move || {
            STARTED_AS.sync_scope(generation, || {
                let mut future = job();
                match future
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                {
                    Poll::Ready(()) => None,
                    Poll::Pending => Some(future),
                }
            })
        }));
        match first {
            Ok(None) => {}
            // Polled again at once by its task, which registers the real waker.
            Ok(Some(rest)) => {
                let rest = match record {
                    Some(record) => {
                        self.inner.running.lock().insert(id, record);
                        let clock = self.clone();
                        Box::pin(async move {
                            rest.await;
                            if clock.inner.running.lock().remove(&id).is_some() {
                                clock.log_record(id, None);
                            }
                        })
                    }
                    None => rest,
                };
                let rest = STARTED_AS.scope(generation, self.inner.cut.polls(rest));
                drop(tokio::spawn(async move {
                    let _guard = guard;
                    rest.await;
                }))
            }
            Err(_) => tracing::error!(label, "a timer's job panicked"),
        }
    }

    fn set_virtual(&self, to: Millis) {
        let mut state = self.inner.state.lock();
        if to > state.now() {
            state.anchor_virtual = to;
            state.anchor_wall = Instant::now();
            self.inner.set.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Starts timers as they fall due until `stop` is cancelled. Owned by `App`.
    pub async fn run_driver(self, stop: CancellationToken) {
        let _driving = Driving::new(&self);
        loop {
            let changed = self.inner.changed.notified();
            while self.inner.cut.work(|| {
                let timer = self.take_due_now(self.now());
                timer.map(|timer| self.start(timer)).is_some()
            }) {}
            let next_due = self.inner.timers.lock().keys().next().map(|k| k.0);
            // While an advance holds the queue, its release (`changed`) is what to wait for.
            let wait = next_due
                .filter(|_| !self.inner.held.load(Ordering::Acquire))
                .and_then(|due| self.inner.state.lock().wall_until(due));
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = changed => {}
                _ = sleep_opt(wait) => {}
            }
        }
    }
}

/// Where a running advance is: the instant it settles, as the first timer id scheduled after it
/// got there (`cut`) and the last start generation handed out by then (`generation`). Before
/// time moves on, the jobs of start generation at most `generation` finish: those in flight
/// when it got there, those it starts there and those started from timers queued by then
/// (whoever starts them), with what they cause at once.
#[derive(Debug, Clone, Copy)]
struct Reach {
    cut: u64,
    generation: u64,
}

/// A running advance's [`Reach`], at the current instant from its creation; cleared however the
/// advance ends.
struct Reaching(Clock);

impl Reaching {
    fn new(clock: &Clock) -> Self {
        let _timers = clock.inner.timers.lock();
        clock.reach_now();
        Self(clock.clone())
    }
}

impl Drop for Reaching {
    fn drop(&mut self) {
        let _timers = self.0.inner.timers.lock();
        *self.0.inner.reach.lock() = None;
    }
}

/// The driver running ([`Inner::driving`]); cleared however it ends.
struct Driving(Clock);

impl Driving {
    fn new(clock: &Clock) -> Self {
        clock.inner.driving.store(true, Ordering::Release);
        Self(clock.clone())
    }
}

impl Drop for Driving {
    fn drop(&mut self) {
        self.0.inner.driving.store(false, Ordering::Release);
    }
}

tokio::task_local! {
    /// The start generation of the job being polled: what it schedules for no later than now
    /// is its doing at once, and is waited for with it (see the module's doc).
    static STARTED_AS: u64;
}

/// A timer taken off the queue to start: its id, the timer, and its job's start generation.
struct Taken {
    id: u64,
    timer: Timer,
    generation: u64,
}

/// What [`Clock::take_next`] found.
enum Next {
    /// A timer to run now, and its due time (where the clock now is, or past).
    Run(Box<Taken>, Millis),
    /// The jobs of the current instant finish first (the next timer is at a later instant, or
    /// none is due).
    Settle,
    /// Nothing falls due within the advance.
    Done,
}

/// What an advance did ([`Clock::advance_until`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advanced {
    /// How many timers it ran.
    pub ran: usize,
    /// The virtual ms it moved the clock: all it was asked for when it ran to its end, else as
    /// far as the last timer it ran (0 when it ran none). A real or scaled clock's own running
    /// meanwhile is not counted.
    pub moved: Millis,
    /// Why it stopped short of its target, if it did.
    pub stopped: Option<Stopped>,
}

/// Why an advance stopped short of its target ([`Advanced::stopped`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// All state was reset (`POST /__sim/reset` without a tenant).
    Reset,
    /// All state and the time were replaced by an import.
    Import,
    /// The stop it was given resolved: the simulator is stopping.
    Stop,
    /// Virtual time ends ([`MAX_TIME`]) before where it was asked to go: it moved the clock to
    /// the end and ran what fell due until then.
    End,
}

impl Stopped {
    /// The word the control plane answers (`"stopped": "reset"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stopped::Reset => "reset",
            Stopped::Import => "import",
            Stopped::Stop => "shutdown",
            Stopped::End => "end",
        }
    }
}

/// `work`'s output, or `None` when `stop` resolves first.
async fn unless<T>(
    stop: Pin<&mut impl Future<Output = ()>>,
    work: impl Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        biased;
        () = stop => None,
        out = work => Some(out),
    }
}

/// An advance's hold on the queue (see `Inner::held`); released however the advance ends.
struct Held(Clock);

impl Held {
    fn new(clock: &Clock) -> Self {
        let _timers = clock.inner.timers.lock();
        clock.inner.held.store(true, Ordering::Release);
        Self(clock.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let timers = self.0.inner.timers.lock();
        self.0.inner.held.store(false, Ordering::Release);
        drop(timers);
        // Timers that fell due meanwhile (real or scaled time) are the driver's again.
        self.0.inner.changed.notify_one();
    }
}

/// One started job: its clock, its durable timer's id (if it has a record) and its start
/// generation. Dropping it (normally, by a panic or by cancellation) ends it.
struct InFlight {
    clock: Clock,
    record: Option<u64>,
    generation: u64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let inner = &self.clock.inner;
        if let Some(id) = self.record {
            // Ended in its first poll, or by a panic or cancellation after it.
            inner.running.lock().remove(&id);
            self.clock.log_record(id, None);
        }
        let earliest_done = {
            let mut flying = inner.flying.lock();
            let earliest = flying.keys().next().copied();
            let left = flying.get_mut(&self.generation).map(|count| {
                *count -= 1;
                *count
            });
            if left == Some(0) {
                flying.remove(&self.generation);
            }
            left == Some(0) && earliest == Some(self.generation)
        };
        inner.in_flight.fetch_sub(1, Ordering::AcqRel);
        if earliest_done {
            inner.settled.notify_waiters();
        }
    }
}

async fn sleep_opt(wait: Option<Duration>) {
    match wait {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

pub fn system_now() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// How a stored clock resumes ([`resume`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumed {
    /// A real clock, moved on by the wall time (ms) that passed since it was written.
    MovedOn(Millis),
    /// A real clock stored without the wall time it was written at (by an older whalet-sim):
    /// it resumes at its stored time, behind wall time by the time the process was down.
    NoWallTime,
    /// A real clock written at a wall time later than now by this much (ms): the wall clock
    /// went back, and the clock resumes at its stored time (it never goes back).
    WallWentBack(Millis),
    /// A manual or scaled clock: it pauses while the process is down.
    Paused,
}

/// Where a clock of `mode`, stored at virtual time `stored` and written at wall time
/// `written_at` (epoch ms; None: not known), resumes at wall time `wall_now` (a data
/// directory's start; docs/PERSISTENCE.md, "Resuming"). A real clock keeps virtual time = wall
/// time + the offset it had (an advance's): `stored` + the wall time that passed, never earlier
/// than `stored`. A manual or scaled clock resumes where it stopped.
pub fn resume(
    mode: ClockMode,
    stored: Millis,
    written_at: Option<Millis>,
    wall_now: Millis,
) -> (Millis, Resumed) {
    match (mode, written_at) {
        (ClockMode::Manual | ClockMode::Scaled { .. }, _) => (stored, Resumed::Paused),
        (ClockMode::Real, None) => (stored, Resumed::NoWallTime),
        (ClockMode::Real, Some(written_at)) if wall_now < written_at => (
            stored,
            Resumed::WallWentBack(written_at.saturating_sub(wall_now)),
        ),
        (ClockMode::Real, Some(written_at)) => {
            let down = wall_now.saturating_sub(written_at);
            // The clock stops at the end of the calendar; it never goes back.
            let now = stored.saturating_add(down).min(MAX_TIME).max(stored);
            (now, Resumed::MovedOn(down))
        }
    }
}

/// Formats virtual time for the wire. Whalet and Infinia write China Standard Time
/// (`yyyy-MM-dd HH:mm:ss`, UTC+8); Pockyt writes UTC (`yyyy-MM-ddTHH:mm:ssZ`).
pub mod format {
    use super::Millis;
    use time::{macros::format_description, OffsetDateTime, PrimitiveDateTime, UtcOffset};

    /// `ms` at the offset; a time the calendar cannot hold there (past the year 9999, which the
    /// clock never reaches: [`super::MAX_TIME`]) stays at UTC rather than panicking.
    fn at(ms: Millis, offset_hours: i8) -> OffsetDateTime {
        let offset = UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(UtcOffset::UTC);
        // A time beyond the calendar's ends reads as the end it passed, never as 1970.
        let end = if ms < 0 {
            PrimitiveDateTime::MIN
        } else {
            PrimitiveDateTime::MAX
        };
        let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(end.assume_utc());
        utc.checked_to_offset(offset).unwrap_or(utc)
    }

    pub fn china(ms: Millis) -> String {
        written(at(ms, 8), ' ', "").unwrap_or_else(|| {
            at(ms, 8)
                .format(format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second]"
                ))
                .unwrap_or_default()
        })
    }

    pub fn utc_z(ms: Millis) -> String {
        written(at(ms, 0), 'T', "Z").unwrap_or_else(|| {
            at(ms, 0)
                .format(format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
                ))
                .unwrap_or_default()
        })
    }

    /// `yyyy-MM-dd{sep}HH:mm:ss{end}` written directly (every journal entry takes two, and the
    /// format descriptions cost a microsecond a request); None for a year outside 0–9999, which
    /// the format descriptions write.
    fn written(t: OffsetDateTime, sep: char, end: &str) -> Option<String> {
        let year = t.year();
        (0..=9999).contains(&year).then(|| {
            format!(
                "{year:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}{end}",
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
    }

    /// Parses `yyyy-MM-dd HH:mm:ss` in China Standard Time.
    pub fn parse_china(text: &str) -> Option<Millis> {
        let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        let dt = time::PrimitiveDateTime::parse(text, fmt).ok()?;
        let offset = UtcOffset::from_hms(8, 0, 0).ok()?;
        Some((dt.assume_offset(offset).unix_timestamp_nanos() / 1_000_000) as Millis)
    }

    /// Why a text is not a time in the Whalet format ([`china_time`]).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum TimeFault {
        /// Not of the form `yyyy-MM-dd HH:mm:ss`.
        Shape,
        /// Of that form but no date and time of the calendar: what is wrong, starting with the part
        /// at fault (`2026-02-29 is not a calendar date (February 2026 has 28 days)`).
        NotCalendar(String),
    }

    /// A time in the Whalet format (`yyyy-MM-dd HH:mm:ss`, UTC+8) as epoch ms, or why it is not one:
    /// a text of the right form naming no real date or time (Feb 29 of a common year, month 13,
    /// hour 24) is told so rather than pointed back to the format. Every Whalet and platform request
    /// time, and an Infinia trade-details `tradeTime`, is read here; each surface words a [`TimeFault::Shape`] its own way.
    pub fn china_time(text: &str) -> Result<i64, TimeFault> {
        if !china_shaped(text) {
            return Err(TimeFault::Shape);
        }
        parse_china(text).ok_or_else(|| TimeFault::NotCalendar(calendar_fault(text)))
    }

    /// `text` has the characters of `yyyy-MM-dd HH:mm:ss`: ASCII digits with `-`, ` ` and `:` in
    /// their places (whether the numbers make a real date and time is read afterwards).
    fn china_shaped(text: &str) -> bool {
        text.len() == 19
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                10 => b == b' ',
                13 | 16 => b == b':',
                _ => b.is_ascii_digit(),
            })
    }

    /// What is wrong with a [`china_shaped`] text the calendar cannot read: its date when that is
    /// no calendar date, else its time of day.
    fn calendar_fault(text: &str) -> String {
        let number = |at: std::ops::Range<usize>| {
            text.get(at)
                .and_then(|digits| digits.parse::<u16>().ok())
                .unwrap_or(0)
        };
        let date = text.get(..10).unwrap_or(text);
        let (year, month, day) = (number(0..4), number(5..7), number(8..10));
        let month = match u8::try_from(month)
            .ok()
            .and_then(|m| time::Month::try_from(m).ok())
        {
            Some(m) => m,
            None => return format!("{date} is not a calendar date (there is no month {month})"),
        };
        let days = month.length(i32::from(year));
        if day == 0 {
            return format!("{date} is not a calendar date (there is no day 0)");
        }
        if day > u16::from(days) {
            return format!("{date} is not a calendar date ({month} {year:04} has {days} days)");
        }
        let time_of_day = text.get(11..).unwrap_or(text);
        format!("{time_of_day} is not a time of day (00:00:00 to 23:59:59)")
    }

    /// Parses `yyyy-MM-ddTHH:mm:ssZ` (UTC).
    pub fn parse_utc_z(text: &str) -> Option<Millis> {
        let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        let dt = time::PrimitiveDateTime::parse(text, fmt).ok()?;
        Some((dt.assume_utc().unix_timestamp_nanos() / 1_000_000) as Millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    fn recorder(
        clock: &Clock,
        log: &Arc<StdMutex<Vec<(Millis, &'static str)>>>,
        at: Millis,
        name: &'static str,
    ) {
        let (c, l) = (clock.clone(), log.clone());
        clock.schedule_at(
            at,
            name,
            Box::new(move || Box::pin(async move { l.lock().unwrap().push((c.now(), name)) })),
        );
    }

    #[tokio::test]
    async fn advance_runs_due_timers_in_order_at_their_due_time() {
        let clock = Clock::new(ClockMode::Manual, Some(1_000_000));
        let log = Arc::new(StdMutex::new(Vec::new()));
        recorder(&clock, &log, 1_003_000, "c");
        recorder(&clock, &log, 1_001_000, "a");
        recorder(&clock, &log, 1_002_000, "b");
        recorder(&clock, &log, 1_009_000, "late");
        assert_eq!(clock.advance(5_000).await, 3);
        assert_eq!(clock.now(), 1_005_000);
        assert_eq!(
            *log.lock().unwrap(),
            vec![(1_001_000, "a"), (1_002_000, "b"), (1_003_000, "c")]
        );
        assert_eq!(clock.pending().len(), 1);
    }

    /// Schedules `count` jobs at `at`, each a read-modify-write of one counter with a pause in
    /// between (no await: a state change under a lock), logging its name and what it read.
    fn racers(clock: &Clock, at: Millis, count: usize) -> Arc<StdMutex<Vec<(usize, usize)>>> {
        let log = Arc::new(StdMutex::new(Vec::new()));
        let counter = Arc::new(AtomicUsize::new(0));
        for name in 0..count {
            let (l, c) = (log.clone(), counter.clone());
            clock.schedule_at(
                at,
                format!("racer {name}"),
                Box::new(move || {
                    Box::pin(async move {
                        let seen = c.load(Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(2));
                        c.store(seen + 1, Ordering::SeqCst);
                        l.lock().unwrap().push((name, seen));
                    })
                }),
            );
        }
        log
    }

    fn in_order(count: usize) -> Vec<(usize, usize)> {
        (0..count).map(|n| (n, n)).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn timers_due_at_the_same_instant_run_one_after_another_in_scheduling_order() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let log = racers(&clock, 1_000, 12);
        assert_eq!(clock.advance(2_000).await, 12);
        assert_eq!(*log.lock().unwrap(), in_order(12));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_driver_starts_timers_due_at_the_same_instant_in_order_too() {
        let clock = Clock::new(ClockMode::Scaled { scale: 0.001 }, Some(0));
        let log = racers(&clock, 1_000, 12);
        let stop = CancellationToken::new();
        tokio::spawn(clock.clone().run_driver(stop.clone()));
        tokio::time::timeout(Duration::from_secs(10), async {
            while log.lock().unwrap().len() < 12 || clock.in_flight() > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        assert_eq!(*log.lock().unwrap(), in_order(12));
        stop.cancel();
    }

    /// A job waiting at an instant (a delivery for its partner's answer) lets the next job of
    /// that instant start; time moves on only once both have ended.
    #[tokio::test]
    async fn a_waiting_job_does_not_hold_back_the_next_one() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let log = Arc::new(StdMutex::new(Vec::new()));
        let (answer, answered) = tokio::sync::oneshot::channel::<()>();
        let (c, l) = (clock.clone(), log.clone());
        clock.schedule_at(
            1_000,
            "waits",
            Box::new(move || {
                Box::pin(async move {
                    l.lock().unwrap().push((c.now(), "sent"));
                    let _ = answered.await;
                    l.lock().unwrap().push((c.now(), "answered"));
                })
            }),
        );
        let l = log.clone();
        clock.schedule_at(
            1_000,
            "answers",
            Box::new(move || {
                Box::pin(async move {
                    l.lock().unwrap().push((1_000, "next"));
                    let _ = answer.send(());
                })
            }),
        );
        recorder(&clock, &log, 2_000, "later");
        let ran = tokio::time::timeout(Duration::from_secs(5), clock.advance(5_000)).await;
        assert_eq!(ran, Ok(3));
        assert_eq!(
            *log.lock().unwrap(),
            vec![
                (1_000, "sent"),
                (1_000, "next"),
                (1_000, "answered"),
                (2_000, "later")
            ]
        );
    }

    /// A delivery that fails after waiting for its partner schedules its retry: the retry runs
    /// within the same advance, at its own due time.
    #[tokio::test]
    async fn what_a_waiting_job_schedules_runs_within_the_same_advance() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let log = Arc::new(StdMutex::new(Vec::new()));
        let (c, l) = (clock.clone(), log.clone());
        clock.schedule_at(
            1_000,
            "attempt",
            Box::new(move || {
                Box::pin(async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    recorder(&c, &l, c.now() + 2_000, "retry");
                })
            }),
        );
        assert_eq!(clock.advance(10_000).await, 2);
        assert_eq!(*log.lock().unwrap(), vec![(3_000, "retry")]);
    }

    #[tokio::test]
    async fn timers_scheduled_by_timers_run_within_the_same_advance() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let log = Arc::new(StdMutex::new(Vec::new()));
        let (c, l) = (clock.clone(), log.clone());
        clock.schedule_at(
            1000,
            "first",
            Box::new(move || {
                Box::pin(async move {
                    l.lock().unwrap().push((c.now(), "first"));
                    recorder(&c, &l, c.now() + 2000, "second");
                })
            }),
        );
        clock.advance(10_000).await;
        assert_eq!(
            *log.lock().unwrap(),
            vec![(1000, "first"), (3000, "second")]
        );
    }

    #[tokio::test]
    async fn the_driver_runs_due_timers_in_scaled_time() {
        let clock = Clock::new(ClockMode::Scaled { scale: 0.001 }, None);
        let stop = CancellationToken::new();
        tokio::spawn(clock.clone().run_driver(stop.clone()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = Instant::now();
        clock.schedule_in(
            5_000,
            "x",
            Box::new(move || {
                Box::pin(async move {
                    let _ = tx.send(());
                })
            }),
        );
        tokio::time::timeout(Duration::from_secs(5), rx)
            .await
            .unwrap()
            .unwrap();
        // 5 virtual seconds at scale 0.001 is 5 ms of wall time (generous bound: a busy CI box).
        assert!(started.elapsed() < Duration::from_secs(2));
        stop.cancel();
    }

    /// A job at 1 s that never ends (an attempt to a receiver that never answers), and one at 3 s.
    fn hung_at_one_second(clock: &Clock, log: &Arc<StdMutex<Vec<(Millis, &'static str)>>>) {
        clock.schedule_at(1_000, "hung", Box::new(|| Box::pin(std::future::pending())));
        recorder(clock, log, 3_000, "late");
    }

    /// Regression: an advance waiting on a job that never ends could not be stopped, so the
    /// server's stop waited out its drain and the advance was never answered. It stops where it
    /// is when its stop resolves, and says how far it got.
    #[tokio::test]
    async fn an_advance_stops_at_once_when_its_stop_resolves_and_says_how_far_it_got() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let log = Arc::new(StdMutex::new(Vec::new()));
        hung_at_one_second(&clock, &log);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let advancing = tokio::spawn({
            let clock = clock.clone();
            async move {
                let stop = async move {
                    let _ = stop_rx.await;
                };
                clock.advance_until(10_000, stop).await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!advancing.is_finished(), "it waits for the hung job");
        stop_tx.send(()).unwrap();
        let done = tokio::time::timeout(Duration::from_secs(2), advancing)
            .await
            .expect("answered at once")
            .unwrap();
        let expected = Advanced {
            ran: 1,
            moved: 1_000,
            stopped: Some(Stopped::Stop),
        };
        assert_eq!(done, expected);
        assert_eq!(clock.now(), 1_000);
        assert!(log.lock().unwrap().is_empty(), "nothing later ran");
    }

    /// A reset of all state ends a running advance as an import does, and its answer says which.
    #[tokio::test]
    async fn an_advance_ended_by_a_reset_says_so_and_a_whole_one_moved_all_it_was_asked() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let log = Arc::new(StdMutex::new(Vec::new()));
        clock.schedule_at(
            1_000,
            "slow",
            Box::new(|| Box::pin(tokio::time::sleep(Duration::from_millis(200)))),
        );
        recorder(&clock, &log, 3_000, "late");
        let advancing = tokio::spawn({
            let clock = clock.clone();
            async move { clock.advance(10_000).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let ended = tokio::spawn({
            let clock = clock.clone();
            async move { clock.advance_until(10_000, std::future::pending()).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        clock.end_advances_by(Stopped::Reset);
        assert_eq!(advancing.await.unwrap(), 1);
        let ended = ended.await.unwrap();
        assert_eq!(ended.stopped, Some(Stopped::Reset), "{ended:?}");
        assert_eq!((ended.ran, ended.moved), (0, 0));
        let whole = clock.advance_until(500, std::future::pending()).await;
        let expected = Advanced {
            ran: 0,
            moved: 500,
            stopped: None,
        };
        assert_eq!(whole, expected);
    }

    #[tokio::test]
    async fn a_panicking_job_does_not_wedge_the_clock() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        clock.schedule_at(
            1_000,
            "boom",
            Box::new(|| Box::pin(async { panic!("job failed") })),
        );
        let log = Arc::new(StdMutex::new(Vec::new()));
        recorder(&clock, &log, 2_000, "after");
        assert_eq!(clock.advance(5_000).await, 2);
        assert_eq!(clock.in_flight(), 0);
        assert_eq!(*log.lock().unwrap(), vec![(2_000, "after")]);
        // The next advance does not wait for anything.
        assert_eq!(clock.advance(1_000).await, 0);
        assert_eq!(clock.now(), 6_000);
    }

    /// A job that says it started and then holds until the returned sender fires, given to
    /// `schedule`; returns once the job has started.
    async fn held_job(schedule: impl FnOnce(Job)) -> tokio::sync::oneshot::Sender<()> {
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
        schedule(Box::new(move || {
            Box::pin(async move {
                let _ = started_tx.send(());
                let _ = released.await;
            })
        }));
        started.await.unwrap();
        release
    }

    #[tokio::test]
    async fn advance_waits_for_a_job_the_driver_started_before_moving_time() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let stop = CancellationToken::new();
        tokio::spawn(clock.clone().run_driver(stop.clone()));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
        let seen = Arc::new(StdMutex::new(None));
        let (c, s) = (clock.clone(), seen.clone());
        clock.schedule_at(
            0,
            "slow",
            Box::new(move || {
                Box::pin(async move {
                    let _ = started_tx.send(());
                    let _ = released.await;
                    *s.lock().unwrap() = Some(c.now());
                })
            }),
        );
        started.await.unwrap();
        assert_eq!(clock.in_flight(), 1);
        let advancing = tokio::spawn({
            let clock = clock.clone();
            async move { clock.advance(10_000).await }
        });
        tokio::task::yield_now().await;
        assert_eq!(
            clock.now(),
            0,
            "time must not move while a job is in flight"
        );
        release.send(()).unwrap();
        advancing.await.unwrap();
        assert_eq!(*seen.lock().unwrap(), Some(0));
        assert_eq!(clock.now(), 10_000);
        stop.cancel();
    }

    /// Regression (report t54c, finding 4): an advance waited for every job of the process, so
    /// jobs that requests kept starting while it waited (notification traffic) held its answer
    /// until they stopped. A job started after it began waiting at an instant is not waited for;
    /// the one started before is.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_started_while_an_advance_waits_do_not_hold_it() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let stop = CancellationToken::new();
        tokio::spawn(clock.clone().run_driver(stop.clone()));
        let release = held_job(|job| {
            clock.schedule_at(0, "before", job);
        })
        .await;
        let advancing = tokio::spawn({
            let clock = clock.clone();
            async move { clock.advance_until(1_000, std::future::pending()).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        // New traffic at the instant the advance waits at: started by the driver, never ending.
        let (late_tx, late) = tokio::sync::oneshot::channel::<()>();
        clock.schedule_at(
            0,
            "arrived meanwhile",
            Box::new(move || {
                Box::pin(async move {
                    let _ = late_tx.send(());
                    std::future::pending::<()>().await;
                })
            }),
        );
        late.await.unwrap();
        assert!(
            !advancing.is_finished(),
            "it waits for the job started before it"
        );
        release.send(()).unwrap();
        let done = tokio::time::timeout(Duration::from_secs(5), advancing)
            .await
            .expect("answered though a job started meanwhile never ends")
            .unwrap();
        let expected = Advanced {
            ran: 0,
            moved: 1_000,
            stopped: None,
        };
        assert_eq!(done, expected);
        assert_eq!(clock.now(), 1_000);
        assert_eq!(clock.in_flight(), 1, "the late job goes on on its own");
        stop.cancel();
    }

    /// What a job of the instant sets off at once after a wait (a notification held behind the
    /// one it delivered) is still waited for before time moves on, whoever starts it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn what_a_job_sets_off_at_once_is_waited_for_with_it() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let stop = CancellationToken::new();
        tokio::spawn(clock.clone().run_driver(stop.clone()));
        let log = Arc::new(StdMutex::new(Vec::new()));
        let (c, l) = (clock.clone(), log.clone());
        clock.schedule_at(
            1_000,
            "first",
            Box::new(move || {
                Box::pin(async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let (c2, l2) = (c.clone(), l.clone());
                    c.schedule_at(
                        c.now(),
                        "set off",
                        Box::new(move || {
                            Box::pin(async move {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                l2.lock().unwrap().push((c2.now(), "set off"));
                            })
                        }),
                    );
                })
            }),
        );
        recorder(&clock, &log, 2_000, "later");
        // "set off" is started by the advance or the driver, whichever takes it first.
        let ran = clock.advance(5_000).await;
        assert!((2..=3).contains(&ran), "{ran}");
        assert_eq!(
            *log.lock().unwrap(),
            vec![(1_000, "set off"), (2_000, "later")]
        );
        assert_eq!(clock.in_flight(), 0);
        stop.cancel();
    }

    /// Regression (report t54c, finding 2): an advance cut short by the end of virtual time
    /// answered as if it had run its course.
    #[tokio::test]
    async fn an_advance_cut_short_by_the_end_of_virtual_time_says_so() {
        let clock = Clock::new(ClockMode::Manual, Some(MAX_TIME - 2_000));
        let log = Arc::new(StdMutex::new(Vec::new()));
        recorder(&clock, &log, MAX_TIME, "last");
        let short = clock.advance_until(5_000, std::future::pending()).await;
        let expected = Advanced {
            ran: 1,
            moved: 2_000,
            stopped: Some(Stopped::End),
        };
        assert_eq!(short, expected);
        assert_eq!(Stopped::End.as_str(), "end");
        assert_eq!(*log.lock().unwrap(), vec![(MAX_TIME, "last")]);
        let none = clock.advance_until(1, std::future::pending()).await;
        assert_eq!((none.moved, none.stopped), (0, Some(Stopped::End)));
        let nothing_asked = clock.advance_until(0, std::future::pending()).await;
        assert_eq!(nothing_asked.stopped, None);
        let exact = Clock::new(ClockMode::Manual, Some(MAX_TIME - 2_000));
        let whole = exact.advance_until(2_000, std::future::pending()).await;
        assert_eq!((whole.moved, whole.stopped), (2_000, None));
    }

    /// With a real clock, an advance waiting for a hung job does not hold the driver back: a
    /// timer falling due meanwhile (another partner's retry) still runs on time.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_advance_waiting_for_a_hung_job_holds_back_no_other_timer() {
        let clock = Clock::new(ClockMode::Real, None);
        let stop = CancellationToken::new();
        tokio::spawn(clock.clone().run_driver(stop.clone()));
        let release = held_job(|job| {
            clock.schedule_in(0, "hung", job);
        })
        .await;
        let advancing = tokio::spawn({
            let clock = clock.clone();
            async move { clock.advance(1).await }
        });
        let (fired_tx, fired) = tokio::sync::oneshot::channel::<()>();
        clock.schedule_in(
            50,
            "other",
            Box::new(move || {
                Box::pin(async move {
                    let _ = fired_tx.send(());
                })
            }),
        );
        let on_time = tokio::time::timeout(Duration::from_secs(2), fired).await;
        assert!(on_time.is_ok(), "the other timer waited for the hung job");
        assert!(
            !advancing.is_finished(),
            "the advance still waits for the hung job"
        );
        release.send(()).unwrap();
        advancing.await.unwrap();
        stop.cancel();
    }

    #[tokio::test]
    async fn extreme_values_saturate_instead_of_overflowing() {
        let clock = Clock::new(ClockMode::Manual, Some(i64::MAX - 10));
        clock.schedule_in(i64::MAX, "far", Box::new(|| Box::pin(async {})));
        assert_eq!(
            clock.pending()[0].due,
            MAX_TIME,
            "due at the end of the calendar"
        );
        clock.advance(i64::MAX).await;
        assert_eq!(
            clock.now(),
            MAX_TIME,
            "the clock stops at the end of the calendar"
        );
        let scaled = Clock::new(ClockMode::Scaled { scale: 1e-300 }, Some(0));
        assert!(scaled.now() >= 0);
        assert!(ClockMode::Scaled { scale: 0.0 }.validate().is_err());
        assert!(ClockMode::Scaled { scale: f64::NAN }.validate().is_err());
        assert!(ClockMode::Scaled { scale: 0.01 }.validate().is_ok());
        let state = State {
            mode: ClockMode::Scaled { scale: 1e300 },
            anchor_virtual: 0,
            anchor_wall: Instant::now(),
        };
        assert_eq!(state.wall_until(i64::MAX), Some(YEAR));
    }

    /// Virtual time stays between the epoch and MAX_TIME, and formatting a time past the end of
    /// the calendar at UTC+8 does not panic (it once did, answering no request at all).
    #[tokio::test]
    async fn virtual_time_stops_at_the_end_of_the_calendar() {
        assert!(check_time(MAX_TIME, "now").is_ok());
        assert!(check_time(0, "now").is_ok());
        let refused = check_time(MAX_TIME + 1, "the snapshot's now").unwrap_err();
        assert!(
            refused.starts_with("the snapshot's now 253402128000001 is outside"),
            "{refused}"
        );
        assert!(check_time(-1, "now").is_err());
        let last_hours = 253_402_290_000_000; // 9999-12-31 21:00 UTC: past the year at UTC+8
        assert_eq!(
            format::china(last_hours),
            "9999-12-31 21:00:00",
            "at UTC, not a panic"
        );
        assert_eq!(format::utc_z(i64::MAX), "9999-12-31T23:59:59Z", "not 1970");
        let clock = Clock::new(ClockMode::Manual, Some(last_hours));
        assert_eq!(clock.now(), MAX_TIME);
        clock.restore_now(i64::MAX);
        assert_eq!(clock.now(), MAX_TIME);
        clock.restore_now(MAX_TIME - 1_000);
        clock.advance(MAX_ADVANCE_MS).await;
        assert_eq!(clock.now(), MAX_TIME);
        assert_eq!(format::china(clock.now()), "9999-12-30 08:00:00");
    }

    /// A real clock stored at virtual `stored` (an hour ahead of wall time: an advance) resumes
    /// as wall time moved while the process was down, keeping its offset; a wall clock that
    /// went back, or a row without its wall time, keeps the stored time; manual and scaled
    /// clocks pause.
    #[test]
    fn a_real_clock_resumes_as_wall_time_moved_and_the_others_pause() {
        let written_at = 1_800_000_000_000;
        let stored = written_at + 3_600_000;
        let down = 90_000;
        let wall_now = written_at + down;
        assert_eq!(
            resume(ClockMode::Real, stored, Some(written_at), wall_now),
            (stored + down, Resumed::MovedOn(down)),
            "virtual time moved on as wall time did, the advance's hour kept"
        );
        assert_eq!(
            resume(
                ClockMode::Real,
                stored,
                Some(written_at),
                written_at - 5_000
            ),
            (stored, Resumed::WallWentBack(5_000)),
            "never earlier than the stored time"
        );
        assert_eq!(
            resume(ClockMode::Real, stored, None, wall_now),
            (stored, Resumed::NoWallTime)
        );
        for mode in [ClockMode::Manual, ClockMode::Scaled { scale: 0.01 }] {
            assert_eq!(
                resume(mode, stored, Some(written_at), wall_now),
                (stored, Resumed::Paused),
                "{mode:?}"
            );
        }
        let (near_end, _) = resume(ClockMode::Real, MAX_TIME - 1_000, Some(0), i64::MAX);
        assert_eq!(
            near_end, MAX_TIME,
            "the clock stops at the end of the calendar"
        );
    }

    #[test]
    fn formats_round_trip() {
        let ms = format::parse_china("2024-05-01 12:45:15").unwrap();
        assert_eq!(format::china(ms), "2024-05-01 12:45:15");
        assert_eq!(format::utc_z(ms), "2024-05-01T04:45:15Z");
        assert_eq!(format::parse_utc_z("2024-05-01T04:45:15Z"), Some(ms));
        assert_eq!(format::parse_utc_z("2024-05-01 04:45:15"), None);
    }

    /// The direct writing agrees with the format descriptions over 600 years either side of
    /// the epoch, leap days and the ends of days included, and before year 0 it leaves the
    /// writing to them.
    #[test]
    fn the_direct_formats_agree_with_the_format_descriptions() {
        use time::{macros::format_description, OffsetDateTime, UtcOffset};
        let reference = |ms: Millis, offset: i8, with_z: bool| {
            let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .unwrap()
                .to_offset(UtcOffset::from_hms(offset, 0, 0).unwrap());
            if with_z {
                t.format(format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
                ))
            } else {
                t.format(format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second]"
                ))
            }
            .unwrap()
        };
        let step: Millis = 86_399_999 * 37 + 1_234;
        let mut ms: Millis = -19_000_000_000_000;
        while ms < 19_000_000_000_000 {
            assert_eq!(format::utc_z(ms), reference(ms, 0, true), "{ms}");
            assert_eq!(format::china(ms), reference(ms, 8, false), "{ms}");
            ms += step;
        }
        // Leap days, the end of a day, just before the epoch, and a year before 0 (written by
        // the format descriptions).
        for ms in [
            951_782_400_000,
            951_868_799_999,
            1_709_164_799_000,
            -1,
            -70_000_000_000_000,
        ] {
            assert_eq!(format::utc_z(ms), reference(ms, 0, true), "{ms}");
            assert_eq!(format::china(ms), reference(ms, 8, false), "{ms}");
        }
    }
}
