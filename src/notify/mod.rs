//! The outbox: handlers enqueue notifications; the clock's timers deliver them. Each surface
//! plugs in a [`Transport`] (how to seal a notification, how to judge the partner's answer, and
//! its retry schedule). Every attempt is recorded in the delivery ledger with why it failed; a
//! notification is delivered, or `exhausted` after its last retry (the offline notice).
//!
//! Boundary: this module knows nothing about envelopes or HTTP details (the transports and
//! `http::client` do) and never reads the system clock for due times (`clock` does).
//! Deliveries of different notifications run concurrently (each attempt is its own timer job,
//! bounded per destination host); notifications about the same business object are delivered
//! one after the other, in enqueue order, unless a scenario says `reorder`. A notification that
//! follows from what another notification tells (a binding ended by its collection's return) can
//! be enqueued after that other object ([`Outbox::enqueue_after`]): it then also waits for the
//! notifications about that object enqueued before it.

mod deliver;
mod ledger;
pub mod schedule;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::{format, Clock, Millis};
use crate::http::client::{HttpClient, Target};
use crate::tenant::TenantId;
use ledger::Ledger;
pub use ledger::{NotificationFilter, MAX_SEQ};

/// Concurrent attempts per destination (scheme + host + port) unless [`Outbox::set_concurrency`]
/// (`[notify] concurrency_per_destination`).
pub const DEFAULT_CONCURRENCY: usize = 32;

/// The most notify URLs whose destination and parsed form the outbox keeps at once; past it the
/// cache starts again empty (a URL is read again at its next attempt).
const MAX_KEPT_TARGETS: usize = 1024;

/// A minted requestNo carries its sequence's last 9 digits: `N`, 14 of the virtual time, 6 of
/// the run tag and 6 to 9 of the sequence make at most 30 characters, Whalet's bound for a
/// head's `requestNo`. Two could be equal only 10^9 notifications apart within one virtual
/// second.
const REQUEST_SEQ_MODULUS: u64 = 1_000_000_000;

/// The longest a clean stop waits for the answers to the attempts under way when the attempt
/// timeout (`[notify] timeout_ms`) is longer: as long as it waits for the connections to drain
/// (src/http/mod.rs), and within `docker stop`'s default 10 s before it kills. An attempt still
/// unanswered then is recorded as failed, its retry scheduled.
pub const STOP_WAIT: Duration = Duration::from_secs(10);

/// Longest verdict recorded for one attempt, in bytes, and longest last error the offline notice
/// logs. A receiver's answer can put any text into a verdict (a Whalet ack's `detail`, an echoed
/// `head.requestNo`, a `Location`), and the ledger keeps every attempt of up to
/// `[notify] ledger_capacity` notifications: a longer verdict is cut (`… N more bytes`).
pub const VERDICT_BYTES: usize = crate::text::MESSAGE_BYTES;

pub use crate::behaviour::NotifyBehaviour;

/// What a handler asks the outbox to send.
#[derive(Debug, Clone)]
pub struct NotificationSpec {
    pub tenant: TenantId,
    /// The transport's name: `whalet`, `infinia`, `pockyt`.
    pub channel: &'static str,
    /// The notification's apiCode (Whalet) or kind.
    pub topic: String,
    pub payload: Value,
    /// The business object it is about (ordering key and ledger filter).
    pub business_id: Option<String>,
    /// Explicit destination (Pockyt's `ipnUrl`); otherwise the tenant's notify URL.
    pub url: Option<String>,
    /// Explicit request number; otherwise one is minted.
    pub request_no: Option<String>,
    pub behaviour: NotifyBehaviour,
}

impl NotificationSpec {
    /// A notification of `topic` to `tenant` over `channel`: no business object, the tenant's own
    /// notify URL, a minted request number, the default delivery behaviour.
    pub fn new(tenant: TenantId, channel: &'static str, topic: String, payload: Value) -> Self {
        Self {
            tenant,
            channel,
            topic,
            payload,
            business_id: None,
            url: None,
            request_no: None,
            behaviour: NotifyBehaviour::default(),
        }
    }
}

/// A rewrite of a notification's payload (tenant, channel, topic, payload), applied when it is
/// enqueued, so that the ledger, the dashboard and the partner all see the rewritten payload.
pub type Rewrite = Arc<dyn Fn(&TenantId, &str, &str, &mut Value) + Send + Sync>;

/// Bytes ready to POST.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub content_type: &'static str,
    pub body: Bytes,
}

impl Sealed {
    /// `value` as a JSON body, sent as `content_type` (each surface writes its own).
    pub fn json(content_type: &'static str, value: &impl Serialize) -> Result<Self, String> {
        let body = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        Ok(Self {
            content_type,
            body: body.into(),
        })
    }
}

/// A surface's way of sending notifications.
pub trait Transport: Send + Sync + 'static {
    /// The tenant's configured notify URL, or why it has none ([`configured_url`]).
    fn url(&self, tenant: &TenantId) -> Result<String, String>;
    /// Seals the notification; with `corrupt` the signature must fail verification.
    fn seal(&self, n: &Notification, corrupt: bool) -> Result<Sealed, String>;
    /// Ok when the partner's answer acknowledges the notification, else why not.
    fn judge(&self, n: &Notification, status: u16, body: &[u8]) -> Result<(), String>;
    /// Delays before each retry, in virtual ms.
    fn retry_delays(&self) -> Vec<i64>;
    /// The log line of `n`, which has exhausted its retries. By default it says only that,
    /// naming the requestNo; a surface that documents more (Whalet's offline notice) or whose
    /// receiver knows the notification by another key (Pockyt's transactionNo) says so here.
    fn exhausted(&self, n: &Notification) -> Exhausted {
        Exhausted::retries(n)
    }
}

/// What the log line of a notification that exhausted its retries says ([`Transport::exhausted`]):
/// one `WARN` line under the target `whalet_sim::notify::offline` whatever the surface, so that
/// one filter finds them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted {
    pub message: &'static str,
    /// The key the receiver knows the notification by, as the line names it: (name, value).
    pub key: (&'static str, String),
}

impl Exhausted {
    /// The plain line: the retries are exhausted, naming the requestNo.
    pub fn retries(n: &Notification) -> Self {
        Self {
            message: "notification exhausted its retries",
            key: ("requestNo", n.request_no.clone()),
        }
    }

    /// Writes the line of `n`, whose last attempt failed for `last_error`.
    pub fn log(&self, n: &Notification, last_error: &str) {
        let (key, value) = (self.key.0, &self.key.1);
        tracing::warn!(
            target: "whalet_sim::notify::offline",
            notification = %n.id,
            tenant = %n.tenant,
            topic = %n.topic,
            attempts = n.attempts.len(),
            last_error = %last_error,
            "{} ({key} {value})",
            self.message
        );
    }
}

/// A surface's answer to [`Transport::url`]: `configured` is the tenant's notify URL as the
/// surface configures it (`None`: the surface does not configure the tenant, whose state came
/// from a snapshot or a data directory; `section` names where it would be configured).
pub fn configured_url(
    tenant: &TenantId,
    configured: Option<Option<String>>,
    section: &str,
) -> Result<String, String> {
    match configured {
        Some(Some(url)) => Ok(url),
        Some(None) => Err(format!(
            "no notify URL is configured for tenant {tenant} (--notify-url or config)"
        )),
        None => Err(format!(
            "tenant {tenant} is not configured in this simulator (its state came from a snapshot \
             or a data directory): add it to {section} to deliver its notifications"
        )),
    }
}

/// The first check of every surface's [`Transport::judge`]: an answer that is not HTTP 2xx
/// acknowledges nothing, whatever its body.
pub fn judge_status(status: u16) -> Result<(), String> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

crate::store::word_enum! {
    /// Where a notification stands in its delivery.
    Status {
        /// Waiting for an earlier notification about the same business object.
        Queued = "queued",
        /// An attempt is scheduled or under way.
        Pending = "pending",
        Delivered = "delivered",
        Exhausted = "exhausted",
        Suppressed = "suppressed",
    }
}

impl Status {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Delivered | Status::Exhausted | Status::Suppressed
        )
    }
}

/// One try at delivering.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Attempt {
    pub number: u32,
    pub series: u32,
    /// The URL it was for: the notification's own, else the tenant's notify URL at the time
    /// (`--notify-url` or configuration). Absent when there was none to go to, and in records
    /// made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Virtual time the attempt was sent.
    pub virtual_time: Millis,
    pub virtual_time_text: String,
    /// Wall time (epoch ms) the attempt was sent.
    pub wall_time: Millis,
    /// Virtual time its answer arrived or its timeout expired (the next interval starts here).
    pub finished_at: Millis,
    pub http_status: Option<u16>,
    /// Wall milliseconds from sending to the answer (or the failure).
    pub latency_ms: u64,
    pub response_excerpt: String,
    /// `delivered` or `failed: why`, at most [`VERDICT_BYTES`] long.
    pub verdict: String,
    pub next_attempt_at: Option<Millis>,
}

/// A notification and its delivery history.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Notification {
    pub id: String,
    pub tenant: TenantId,
    #[serde(deserialize_with = "interned_channel")]
    pub channel: Channel,
    pub topic: String,
    pub business_id: Option<String>,
    /// Another business object of the same tenant this one was enqueued after
    /// ([`Outbox::enqueue_after`]): its first attempt waits until the notifications about that
    /// object enqueued before it are delivered or exhausted (unless `reorder`). Only the order:
    /// its `businessId` is still its own for its line, the ledger's filters and the wire. Absent
    /// when none, and in records made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_business_id: Option<String>,
    pub request_no: String,
    pub url: Option<String>,
    pub payload: Value,
    pub status: Status,
    pub created_at: Millis,
    pub next_attempt_at: Option<Millis>,
    /// Virtual time it became delivered or exhausted.
    pub finished_at: Option<Millis>,
    pub series: u32,
    pub attempts: Vec<Attempt>,
    pub behaviour: NotifyBehaviour,
    /// The sealed bytes, kept while a series runs so that retries resend the same bytes.
    #[serde(skip)]
    pub(crate) sealed: Option<Sealed>,
    /// Which copy of the notification this is, unique in the run: every new notification and
    /// every copy an import puts in gets its own, so an attempt started on a copy that was
    /// replaced is not recorded into what holds its number now (an import can rewind numbering,
    /// and a new notification then reuses the number of one whose attempt is still out; it would
    /// take that attempt's verdict, or run a second retry series). Not kept in snapshots.
    #[serde(skip)]
    pub(crate) incarnation: u64,
}

/// The next [`Notification::incarnation`]; no import takes it back.
static INCARNATIONS: AtomicU64 = AtomicU64::new(1);

impl Notification {
    /// The notification `spec` asks for, recorded at `now` before its first attempt.
    pub fn pending(id: String, request_no: String, spec: NotificationSpec, now: Millis) -> Self {
        Self {
            id,
            tenant: spec.tenant,
            channel: spec.channel,
            topic: spec.topic,
            business_id: spec.business_id,
            after_business_id: None,
            request_no,
            url: spec.url,
            payload: spec.payload,
            status: Status::Pending,
            created_at: now,
            next_attempt_at: None,
            finished_at: None,
            series: 1,
            attempts: Vec::new(),
            behaviour: spec.behaviour,
            sealed: None,
            incarnation: INCARNATIONS.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// A transport's name. An alias, so that serde does not take the field for one borrowed from
/// the input (the name is interned on reading instead).
pub type Channel = &'static str;

/// Channel names read back from a snapshot, each kept once for the life of the process (there
/// are as many as transports). An unregistered one is refused on import.
fn interned_channel<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let text = String::deserialize(d)?;
    if text.len() > 64 {
        return Err(serde::de::Error::custom(
            "channel name longer than 64 bytes",
        ));
    }
    let mut names = NAMES.lock();
    if let Some(known) = names.iter().find(|n| **n == text) {
        return Ok(known);
    }
    let leaked: &'static str = Box::leak(text.into_boxed_str());
    names.push(leaked);
    Ok(leaked)
}

/// The outbox as plain data, for snapshots and the data directory: every notification kept in
/// the delivery ledger with its attempts, and the next sequence number.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutboxState {
    pub next_seq: u64,
    pub notifications: Vec<Notification>,
}

/// Consulted before each delivery attempt, and again once the attempt has its place at the
/// receiver and is sealed: `Some(why)` fails the attempt without sending it (scenario outages
/// of the partner's notify endpoint). Arguments: tenant, channel, now.
pub type DeliveryGate = Arc<dyn Fn(&TenantId, &str, Millis) -> Option<String> + Send + Sync>;

/// Told of a notification after each of its attempts is recorded (integration coverage).
pub type DeliveryObserver = Arc<dyn Fn(&Notification) + Send + Sync>;

struct Inner {
    gate: Mutex<Option<DeliveryGate>>,
    observer: Mutex<Option<DeliveryObserver>>,
    rewrite: Mutex<Option<Rewrite>>,
    clock: Clock,
    client: HttpClient,
    timeout: Duration,
    capacity: usize,
    concurrency: AtomicUsize,
    /// A random tag in minted requestNos, so that two runs never reuse one.
    instance: std::sync::atomic::AtomicU32,
    /// Told after every change of the ledger (a data directory).
    sink: std::sync::OnceLock<Arc<dyn Fn() + Send + Sync>>,
    transports: Mutex<HashMap<&'static str, Arc<dyn Transport>>>,
    ledger: Mutex<Ledger>,
    /// Each destination's permits, by its scheme, host and port.
    destinations: Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
    /// Each notify URL's destination permits and the URL read once, by the URL's text: a
    /// cache of what `destinations` and the URL parser give for it (at most
    /// [`MAX_KEPT_TARGETS`], emptied when full).
    targets: Mutex<HashMap<String, KeptTarget>>,
    /// The next notification's sequence number (its id `ntf_<seq>`); at most `MAX_SEQ + 1`
    /// (every number given). Changed under the `ledger` lock; an import of all state sets it to
    /// the snapshot's.
    next_id: AtomicU64,
    /// The sequence part of the next minted requestNo (Whalet's and Infinia's alike): never
    /// below the notification's own number, and never taken back (an import of all state rewinds
    /// `next_id` and the clock, and the partner must not get a requestNo twice; a data directory
    /// keeps it across a restart). Changed with `next_id`, so that without an import the two
    /// are equal.
    next_request: AtomicU64,
    changed: Notify,
    /// Woken when notifications are forgotten (a reset; an import begins with one): each
    /// attempt waiting for a destination's permit looks whether its notification is still there.
    forgotten: Notify,
    /// Every attempt under way, so that a clean stop can wait for them ([`Outbox::stop`]).
    in_flight: TaskTracker,
    /// Cancelled when a clean stop begins: no attempt sends from then on.
    stopping: CancellationToken,
    /// Cancelled when a clean stop has waited as long as it may: the requests still waiting
    /// for their answer are cut off and recorded as failed ([`Outbox::stopped`]).
    cut_off: CancellationToken,
}

/// A notify URL's destination permits and the URL read once ([`Inner::targets`]).
type KeptTarget = (Arc<tokio::sync::Semaphore>, Arc<Target>);

/// Handle to the outbox and delivery ledger. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

impl Outbox {
    /// `timeout`: wall time an attempt may take; `capacity`: finished notifications kept.
    pub fn new(clock: Clock, client: HttpClient, timeout: Duration, capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                gate: Mutex::new(None),
                observer: Mutex::new(None),
                rewrite: Mutex::new(None),
                clock,
                client,
                timeout,
                capacity: capacity.max(1),
                concurrency: AtomicUsize::new(DEFAULT_CONCURRENCY),
                instance: std::sync::atomic::AtomicU32::new(rand::random::<u32>() % 1_000_000),
                sink: std::sync::OnceLock::new(),
                transports: Mutex::new(HashMap::new()),
                ledger: Mutex::new(Ledger::default()),
                destinations: Mutex::new(HashMap::new()),
                targets: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                next_request: AtomicU64::new(0),
                changed: Notify::new(),
                forgotten: Notify::new(),
                in_flight: TaskTracker::new(),
                stopping: CancellationToken::new(),
                cut_off: CancellationToken::new(),
            }),
        }
    }

    /// Begins a clean stop (SIGTERM, Ctrl-C, [`crate::RunningApp::shutdown`]): from now on no
    /// attempt sends. One that falls due, or waits for its place at the receiver, or is
    /// sealing, leaves its notification as it was (pending, due), for the next start on the
    /// data dir; those whose request is on its way go on, and [`Outbox::stopped`] waits for
    /// them.
    pub fn stop(&self) {
        self.inner.stopping.cancel();
        self.inner.in_flight.close();
        // Those waiting for a permit look again, see the stop and leave.
        self.inner.forgotten.notify_waiters();
    }

    /// After [`Outbox::stop`]: waits until every attempt under way has recorded its verdict
    /// (and scheduled its retry), or until `deadline`. An attempt's request takes at most the
    /// attempt timeout ([`Outbox::timeout`]), so a deadline that far after the stop waits for
    /// them all, however slow the receiver. Those still waiting for their answer at the
    /// deadline (a timeout longer than the stop may wait) are cut off then and recorded as
    /// failed for that reason, their retry scheduled (sent after a restart), within `grace`.
    /// Returns how many were still under way after that (none unless recording stalls; they
    /// are dropped unrecorded when the process ends and sent again after a restart, as after a
    /// `kill -9`).
    pub async fn stopped(&self, deadline: tokio::time::Instant, grace: Duration) -> usize {
        let waiting = self.inner.in_flight.len();
        if waiting > 0 {
            tracing::info!(
                attempts = waiting,
                "waiting for the notification attempts in flight to be answered or time out"
            );
        }
        if tokio::time::timeout_at(deadline, self.inner.in_flight.wait())
            .await
            .is_ok()
        {
            return 0;
        }
        self.inner.cut_off.cancel();
        match tokio::time::timeout(grace, self.inner.in_flight.wait()).await {
            Ok(()) => 0,
            Err(_) => self.inner.in_flight.len(),
        }
    }

    /// The wall time one attempt's request may take (`[notify] timeout_ms`).
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    pub fn register(&self, channel: &'static str, transport: Arc<dyn Transport>) {
        self.inner.transports.lock().insert(channel, transport);
    }

    /// Fixes the run tag in minted requestNos (default: random per process, so that two runs
    /// never reuse a requestNo); a fixed tag makes transcripts reproducible.
    pub fn set_run_tag(&self, tag: u32) {
        self.inner
            .instance
            .store(tag % 1_000_000, Ordering::Relaxed);
    }

    /// Installs the delivery observer (integration coverage).
    pub fn set_observer(&self, observer: DeliveryObserver) {
        *self.inner.observer.lock() = Some(observer);
    }

    /// Installs the delivery gate (the scenario engine's outages).
    pub fn set_gate(&self, gate: DeliveryGate) {
        *self.inner.gate.lock() = Some(gate);
    }

    /// Concurrent attempts per destination host (takes effect for hosts not yet contacted).
    pub fn set_concurrency(&self, per_destination: usize) {
        self.inner
            .concurrency
            .store(per_destination.max(1), Ordering::Relaxed);
    }

    /// Installs the payload rewrite every notification passes when enqueued (contract overlays).
    pub fn set_rewrite(&self, rewrite: Rewrite) {
        *self.inner.rewrite.lock() = Some(rewrite);
    }

    /// Records the notification and schedules its first attempt. Returns its id, or an empty
    /// one when every sequence number up to [`MAX_SEQ`] is given (only a snapshot that brought a
    /// `nextSeq` that high gets there): the notification is then not recorded nor sent, and an
    /// error is logged saying so.
    pub fn enqueue(&self, spec: NotificationSpec) -> String {
        self.enqueue_behind(spec, None)
    }

    /// [`Outbox::enqueue`] for a notification that follows from what the notifications about
    /// business object `after` (of the same tenant) tell, e.g. a trade-order binding ended
    /// because its collection was returned: besides waiting in its own object's line, its first
    /// attempt waits until every notification about `after` enqueued before it is delivered or
    /// exhausted, so that the partner hears of the cause first even when that notification needs
    /// retries. Later notifications about `after` do not wait for it. Kept in the ledger as its
    /// `afterBusinessId`; `reorder` waits for neither.
    pub fn enqueue_after(&self, spec: NotificationSpec, after: &str) -> String {
        self.enqueue_behind(spec, Some(after.to_owned()))
    }

    fn enqueue_behind(&self, mut spec: NotificationSpec, after: Option<String>) -> String {
        let rewrite = self.inner.rewrite.lock().clone();
        if let Some(rewrite) = rewrite {
            rewrite(&spec.tenant, spec.channel, &spec.topic, &mut spec.payload);
        }
        let now = self.inner.clock.now();
        let (id, first, seq) = {
            let mut ledger = self.inner.ledger.lock();
            let Some(seq) = self.mint_seq() else {
                drop(ledger);
                tracing::error!(
                    tenant = %spec.tenant,
                    channel = spec.channel,
                    topic = %spec.topic,
                    "notification NOT sent: every notification number up to {MAX_SEQ} is given \
                     (a snapshot brought outbox.nextSeq that high); reset (POST /__sim/reset) \
                     or import a snapshot with a lower outbox.nextSeq"
                );
                return String::new();
            };
            let id = ledger::id_of(seq);
            let request_no = spec.request_no.take().unwrap_or_else(|| {
                let stamp = format::china(now).replace(['-', ' ', ':'], "");
                // The sequence's last 9 digits: the requestNo stays within Whalet's 30
                // characters (a partner refuses a longer one) whatever the number.
                format!(
                    "N{stamp}{:06}{:06}",
                    self.inner.instance.load(Ordering::Relaxed),
                    self.mint_request_seq(seq) % REQUEST_SEQ_MODULUS
                )
            });
            let notification = Notification {
                after_business_id: after,
                ..Notification::pending(id.clone(), request_no, spec, now)
            };
            let first = ledger.admit(seq, notification);
            ledger.trim(self.inner.capacity);
            (id, first, seq)
        };
        if let Some(at) = first {
            self.schedule_attempt(seq, at);
        }
        self.announce();
        id
    }

    /// The next notification's sequence number, None when every one up to [`MAX_SEQ`] is given.
    /// Called under the ledger lock.
    fn mint_seq(&self) -> Option<u64> {
        self.inner
            .next_id
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |next| {
                (next <= MAX_SEQ).then(|| next.saturating_add(1))
            })
            .ok()
    }

    /// The sequence number of the requestNo a surface mints itself for the notification it is
    /// about to enqueue (Infinia's UUIDs, `api::infinia::sellers::RequestNos`): the same
    /// sequence as the requestNos the outbox mints ([`Outbox::mint_request_seq`]), its floor the
    /// next notification's number. One sequence for every surface, kept and taken back alike.
    pub fn mint_request_number(&self) -> u64 {
        self.mint_request_seq(self.next_seq())
    }

    /// The sequence number after the last requestNo given (0: none given in this run nor past
    /// the one a data directory brought, [`Outbox::go_on_after_requests`]). A data directory
    /// keeps it (`meta` row `next_request_seq`) so that a restart goes on past it: an import
    /// takes back the notification numbering, never this.
    pub fn next_request_seq(&self) -> u64 {
        self.inner.next_request.load(Ordering::Relaxed)
    }

    /// Lifts the requestNo sequence to at least `next` (what a data directory kept of an earlier
    /// run, [`Outbox::next_request_seq`]); it never goes back.
    pub fn go_on_after_requests(&self, next: u64) {
        self.inner.next_request.fetch_max(next, Ordering::Relaxed);
    }

    /// The sequence of a minted requestNo for notification `seq`: `seq` itself unless an import
    /// took the numbering back below one already given (in this run, or in an earlier one whose
    /// data directory this run goes on from), then the next one after that. Called under the
    /// ledger lock by [`Outbox::enqueue`]. (It stops at `u64::MAX`, more than 2^63 notifications
    /// into a run.)
    fn mint_request_seq(&self, seq: u64) -> u64 {
        let bump = |next: u64| Some(next.max(seq).saturating_add(1));
        let previous = self
            .inner
            .next_request
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, bump)
            .unwrap_or_else(|next| next);
        previous.max(seq)
    }

    /// Starts a new series of attempts with the same requestNo (idempotency tests). Only a
    /// finished notification (delivered, exhausted or suppressed) can be resent.
    pub fn resend(&self, id: &str) -> Result<Notification, String> {
        let now = self.inner.clock.now();
        let (seq, view) = {
            let mut ledger = self.inner.ledger.lock();
            let seq = ledger::seq_of(id)
                .ok_or_else(|| format!("no notification {}", crate::text::echo_bare(id)))?;
            let view = ledger.restart(seq, now)?;
            (seq, view)
        };
        self.schedule_attempt(seq, now);
        self.announce();
        Ok(view)
    }

    pub fn get(&self, id: &str) -> Option<Notification> {
        let seq = ledger::seq_of(id)?;
        self.inner
            .ledger
            .lock()
            .items
            .get(&seq)
            .map(|n| (**n).clone())
    }

    /// Newest first.
    pub fn list(&self, filter: &NotificationFilter) -> Vec<Notification> {
        let ledger = self.inner.ledger.lock();
        ledger
            .items
            .iter()
            .rev()
            .filter(|(seq, n)| filter.matches(**seq, n))
            .map(|(_, n)| (**n).clone())
            .collect()
    }

    /// At most `limit` notifications matching `filter`, and whether more match beyond them:
    /// the newest first, or, when the filter has `after`, the oldest after it first (a poller
    /// asking after the last one it saw gets the next ones, none skipped).
    pub fn page(&self, filter: &NotificationFilter, limit: usize) -> (Vec<Notification>, bool) {
        let ledger = self.inner.ledger.lock();
        let mut matching: Box<dyn Iterator<Item = &Box<Notification>>> = match filter.after {
            Some(after) => Box::new(
                ledger
                    .items
                    .range(after.saturating_add(1)..)
                    .filter(|(seq, n)| filter.matches(**seq, n))
                    .map(|(_, n)| n),
            ),
            None => Box::new(
                ledger
                    .items
                    .iter()
                    .rev()
                    .filter(|(seq, n)| filter.matches(**seq, n))
                    .map(|(_, n)| n),
            ),
        };
        let page: Vec<Notification> = matching
            .by_ref()
            .take(limit)
            .map(|n| (**n).clone())
            .collect();
        let more = matching.next().is_some();
        (page, more)
    }

    /// Counts by status (for the dashboard and benchmarks).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let ledger = self.inner.ledger.lock();
        let mut counts = BTreeMap::new();
        for n in ledger.items.values() {
            *counts.entry(n.status.as_str().to_owned()).or_insert(0) += 1;
        }
        counts
    }

    /// Waits until a notification matching `filter` is final (delivered, exhausted or
    /// suppressed), or `timeout` passes. Returns the oldest such notification, also one that was
    /// already final before the call (use `after` to wait for newer ones only).
    pub async fn wait(
        &self,
        filter: &NotificationFilter,
        timeout: Duration,
    ) -> Option<Notification> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let found = {
                let ledger = self.inner.ledger.lock();
                ledger
                    .items
                    .iter()
                    .find(|(seq, n)| n.status.is_final() && filter.matches(**seq, n))
                    .map(|(_, n)| (**n).clone())
            };
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return None;
            }
        }
    }

    /// Forgets every notification of `tenant` (or all) and cancels their pending attempts: the
    /// timers not started yet, and the attempts still waiting for a place at their destination
    /// (they end without sending). An attempt already sent finishes unrecorded.
    pub fn reset(&self, tenant: Option<&TenantId>) {
        let removed = self.inner.ledger.lock().remove_tenant(tenant);
        let labels: HashSet<String> = removed.into_iter().map(ledger::timer_label).collect();
        if !labels.is_empty() {
            self.inner
                .clock
                .cancel_where(|label| labels.contains(label));
            self.inner.forgotten.notify_waiters();
        }
        self.announce();
    }

    /// Wakes waiters and tells the change sink.
    pub(crate) fn announce(&self) {
        self.inner.changed.notify_waiters();
        if let Some(sink) = self.inner.sink.get() {
            sink();
        }
    }

    /// Tracks changes from now on and tells `sink` after each (a data directory).
    pub fn set_change_sink(&self, sink: Arc<dyn Fn() + Send + Sync>) {
        self.inner.ledger.lock().track = true;
        let _ = self.inner.sink.set(sink);
    }

    /// The notifications changed since the last call: `(seq, Some(now))`, or `None` when it is
    /// gone (reset, trimmed).
    pub fn take_changes(&self) -> Vec<(u64, Option<Notification>)> {
        let mut ledger = self.inner.ledger.lock();
        let touched = std::mem::take(&mut ledger.touched);
        touched
            .into_iter()
            .map(|seq| (seq, ledger.items.get(&seq).map(|n| (**n).clone())))
            .collect()
    }

    /// The next sequence number to be minted.
    pub fn next_seq(&self) -> u64 {
        self.inner.next_id.load(Ordering::Relaxed)
    }

    /// Whether [`Outbox::import`] would take `state`: every channel has a transport here and
    /// every id is `ntf_<number>`, none twice (the ledger keeps one notification per id: a copy
    /// would be renumbered and delivered again under the same requestNo); no number past
    /// [`MAX_SEQ`] and `nextSeq` at most `MAX_SEQ + 1`, so that the numbering goes on from there
    /// without wrapping and the data directory can store every number.
    pub fn check_import(&self, state: &OutboxState) -> Result<(), String> {
        if state.next_seq > MAX_SEQ.saturating_add(1) {
            return Err(format!(
                "outbox.nextSeq {} is past {}: notification numbers (ntf_<number>) run from 1 \
                 to {MAX_SEQ}, the largest the data dir stores (a signed 64-bit integer), and \
                 nextSeq is the next one to give; lower it (one past the largest id's number is \
                 enough)",
                state.next_seq,
                MAX_SEQ.saturating_add(1)
            ));
        }
        let transports = self.inner.transports.lock();
        let mut seen = std::collections::BTreeMap::new();
        for (i, n) in state.notifications.iter().enumerate() {
            if let Some(first) = seen.insert(n.id.as_str(), i) {
                return Err(format!(
                    "outbox.notifications[{i}]: id {} is also outbox.notifications[{first}]'s; \
                     each notification has its own id",
                    n.id
                ));
            }
            if !transports.contains_key(n.channel) {
                return Err(format!(
                    "notification {} has channel {:?}, which no surface sends",
                    n.id, n.channel
                ));
            }
            match ledger::seq_of(&n.id) {
                Some(seq) if seq > MAX_SEQ => {
                    return Err(format!(
                        "outbox.notifications[{i}]: id {}: its number is past {MAX_SEQ}, the \
                         largest the data dir stores (a signed 64-bit integer); give it a \
                         smaller one",
                        n.id
                    ));
                }
                Some(_) => {}
                None => {
                    return Err(format!(
                        "outbox.notifications[{i}]: id {} is not ntf_<number> (a number up to \
                         {MAX_SEQ})",
                        crate::text::echo(&n.id)
                    ));
                }
            }
            // The simulator gives every pending notification a due time; one without would
            // never be attempted.
            if n.status == Status::Pending && n.next_attempt_at.is_none() {
                return Err(format!(
                    "notification {} is pending without nextAttemptAt, so it would never be \
                     attempted; give it a due time (epoch milliseconds of virtual time) or make \
                     it queued behind a notification about the same object",
                    n.id
                ));
            }
        }
        Ok(())
    }

    /// The notifications of `tenant` (all when None), oldest first, and the next sequence number.
    pub fn export(&self, tenant: Option<&TenantId>) -> OutboxState {
        let ledger = self.inner.ledger.lock();
        OutboxState {
            next_seq: self.inner.next_id.load(Ordering::Relaxed),
            notifications: ledger
                .items
                .values()
                .filter(|n| tenant.is_none_or(|t| &n.tenant == t))
                .map(|n| (**n).clone())
                .collect(),
        }
    }

    /// Replaces the notifications of `tenant` (all when None) with `state`'s: each pending one
    /// gets its attempt timer back at its due time (at once when that has passed; an attempt
    /// that was under way when the state was saved is sent again), queued ones wait behind the
    /// first of their line. When an id is taken by another tenant's notification (or is
    /// `ntf_0`, or names a number twice), every notification imported gets a new one, in
    /// sequence order, so that those about one object keep their order.
    /// Refused, changing nothing, when a channel has no transport or an id is malformed.
    pub fn import(&self, tenant: Option<&TenantId>, state: OutboxState) -> Result<usize, String> {
        self.check_import(&state)?;
        if let Some(t) = tenant {
            if let Some(n) = state.notifications.iter().find(|n| &n.tenant != t) {
                return Err(format!(
                    "notification {} belongs to {}, not to the tenant imported",
                    n.id, n.tenant
                ));
            }
        }
        self.reset(tenant);
        let count = state.notifications.len();
        let mut due = Vec::new();
        {
            let mut ledger = self.inner.ledger.lock();
            let OutboxState {
                next_seq,
                mut notifications,
            } = state;
            // In sequence order (a stable sort), as the ledger lists them: the order in which
            // the notifications about one object are delivered, and in which a renumbering
            // numbers them again.
            notifications.sort_by_key(|n| ledger::seq_of(&n.id).unwrap_or(0));
            let top = notifications
                .last()
                .and_then(|n| ledger::seq_of(&n.id))
                .unwrap_or(0);
            // When one number is 0 or taken (by another tenant's notification in a one-tenant
            // import, or twice in the snapshot: ntf_7 and ntf_000007), every notification
            // imported gets a new one, in that order: renumbering only those would give a later
            // notification about an object a smaller number than an earlier one kept, and the
            // next import or start from the data dir, which rebuilds each line in sequence
            // order, would deliver the later one first.
            let mut seen = HashSet::with_capacity(notifications.len());
            let renumber = notifications.iter().any(|n| {
                let seq = ledger::seq_of(&n.id).unwrap_or(0);
                seq == 0 || seq > MAX_SEQ || ledger.items.contains_key(&seq) || !seen.insert(seq)
            });
            // The new numbers: past the snapshot's numbering, and in a one-tenant import past
            // this one's too; from the lowest free one when too few are left up to MAX_SEQ, so
            // that they still rise.
            let mut fresh = next_seq.max(top.saturating_add(1));
            if tenant.is_some() {
                fresh = fresh.max(self.inner.next_id.load(Ordering::Relaxed));
            }
            let needed = (notifications.len() as u64).saturating_add(ledger.items.len() as u64);
            if MAX_SEQ.saturating_add(1).saturating_sub(fresh) < needed {
                fresh = 1;
            }
            let mut max_seq = 0;
            for mut n in notifications {
                let mut seq = ledger::seq_of(&n.id).unwrap_or(0);
                if renumber {
                    seq = ledger.free_seq(&mut fresh);
                    n.id = ledger::id_of(seq);
                }
                max_seq = max_seq.max(seq);
                n.sealed = None;
                n.incarnation = INCARNATIONS.fetch_add(1, Ordering::Relaxed);
                if let (Status::Pending, Some(at)) = (n.status, n.next_attempt_at) {
                    due.push((seq, at));
                }
                ledger.restore(seq, n);
            }
            // A queued notification with nothing ahead of it (a hand-edited snapshot) starts,
            // as it would when the one ahead of it finished.
            due.extend(ledger.start_unblocked(self.inner.clock.now()));
            // A snapshot of a simulator with a larger ledger keeps this one's bound too.
            ledger.trim(self.inner.capacity);
            // At most MAX_SEQ + 1 (checked above, and max_seq is a number the ledger holds).
            let next = next_seq
                .max(max_seq.saturating_add(1))
                .min(MAX_SEQ.saturating_add(1));
            match tenant {
                // All state: the numbering is the snapshot's, so that an export gives it back.
                None => self.inner.next_id.store(next, Ordering::Relaxed),
                // One tenant: the other tenants' ids stay unique.
                Some(_) => {
                    self.inner.next_id.fetch_max(next, Ordering::Relaxed);
                }
            }
        }
        for (seq, at) in due {
            self.schedule_attempt(seq, at);
        }
        self.announce();
        Ok(count)
    }

    /// Notifications waiting for an attempt (pending with a due time).
    pub fn pending_count(&self) -> usize {
        let ledger = self.inner.ledger.lock();
        ledger
            .items
            .values()
            .filter(|n| n.status == Status::Pending && n.next_attempt_at.is_some())
            .count()
    }

    fn schedule_attempt(&self, seq: u64, at: Millis) {
        let outbox = self.clone();
        self.inner.clock.schedule_at(
            at,
            ledger::timer_label(seq),
            Box::new(move || Box::pin(async move { outbox.attempt(seq).await })),
        );
    }
}

#[cfg(test)]
mod request_seq_tests {
    use super::*;
    use crate::clock::ClockMode;

    fn outbox() -> Outbox {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        Outbox::new(clock, HttpClient::new(), Duration::from_secs(5), 10)
    }

    #[test]
    fn the_request_sequence_never_goes_back_nor_below_the_notification_numbering() {
        let outbox = outbox();
        let first = outbox.mint_request_number();
        assert_eq!(
            first,
            outbox.next_seq(),
            "without an import: the next number"
        );
        let second = outbox.mint_request_number();
        assert!(second > first, "{second} after {first}");
        outbox.inner.next_id.store(second + 10, Ordering::Relaxed);
        assert_eq!(
            outbox.mint_request_number(),
            second + 10,
            "the numbering lifts it"
        );
        outbox.inner.next_id.store(1, Ordering::Relaxed);
        assert!(
            outbox.mint_request_number() > second + 10,
            "an import taking the numbering back does not take it back"
        );
    }

    #[test]
    fn a_kept_request_sequence_is_gone_on_from_and_never_lowered() {
        let outbox = outbox();
        outbox.go_on_after_requests(40);
        assert_eq!(outbox.next_request_seq(), 40);
        assert_eq!(outbox.mint_request_number(), 40);
        outbox.go_on_after_requests(3);
        assert_eq!(
            outbox.next_request_seq(),
            41,
            "a lower mark does not take it back"
        );
    }
}

#[cfg(test)]
mod import_order_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::ClockMode;
    use crate::tenant::Provider;

    /// A transport with nowhere to send: the clock never moves here, so none is attempted.
    struct Nowhere;

    impl Transport for Nowhere {
        fn url(&self, _: &TenantId) -> Result<String, String> {
            Err("nowhere".into())
        }
        fn seal(&self, _: &Notification, _: bool) -> Result<Sealed, String> {
            Err("not sent".into())
        }
        fn judge(&self, _: &Notification, _: u16, _: &[u8]) -> Result<(), String> {
            Err("not sent".into())
        }
        fn retry_delays(&self) -> Vec<i64> {
            vec![1_000]
        }
    }

    fn outbox() -> Outbox {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let outbox = Outbox::new(clock, HttpClient::new(), Duration::from_secs(5), 100);
        outbox.register("pockyt", Arc::new(Nowhere));
        outbox
    }

    fn payee() -> TenantId {
        TenantId::new(Provider::Pockyt, "202333")
    }

    fn about(tenant: TenantId, object: &str, topic: &str) -> NotificationSpec {
        NotificationSpec {
            business_id: Some(object.into()),
            ..NotificationSpec::new(tenant, "pockyt", topic.into(), Value::Null)
        }
    }

    /// The tenant's notifications by id: topic and status.
    fn by_id(outbox: &Outbox) -> Vec<(String, Status)> {
        outbox
            .export(Some(&payee()))
            .notifications
            .iter()
            .map(|n| (n.topic.clone(), n.status))
            .collect()
    }

    /// Regression: a one-tenant import renumbered only the notifications whose ids another
    /// tenant's held, so the first of a line (ntf_000001, taken here) came after the second
    /// (ntf_000002, kept); an import of the whole state, as a start from the data dir, rebuilt
    /// the line by id and started the second first. Now all of them are renumbered, in order.
    #[tokio::test]
    async fn a_one_tenant_import_that_renumbers_keeps_the_order_of_each_line() {
        let a = outbox();
        a.enqueue(about(payee(), "T1", "payout.success"));
        a.enqueue(about(payee(), "T1", "payout.returned"));
        let snapshot = a.export(Some(&payee()));
        let line = [
            ("payout.success".to_owned(), Status::Pending),
            ("payout.returned".to_owned(), Status::Queued),
        ];
        assert_eq!(by_id(&a), line);

        let b = outbox();
        let other = b.enqueue(about(TenantId::new(Provider::Pockyt, "9"), "x", "t"));
        assert_eq!(b.import(Some(&payee()), snapshot), Ok(2));
        assert_eq!(by_id(&b), line);
        let imported = b.export(Some(&payee())).notifications;
        assert!(imported.iter().all(|n| n.id != other), "{imported:?}");
        let top = imported.iter().filter_map(|n| ledger::seq_of(&n.id)).max();
        assert!(
            b.next_seq() > top.unwrap(),
            "the numbering goes on past them"
        );

        let whole = b.export(None);
        let text = serde_json::to_string(&whole).unwrap();
        assert_eq!(b.import(None, whole), Ok(3));
        assert_eq!(by_id(&b), line);
        assert_eq!(serde_json::to_string(&b.export(None)).unwrap(), text);
    }

    /// A one-tenant import whose ids no other tenant holds keeps them.
    #[tokio::test]
    async fn a_one_tenant_import_without_a_taken_id_keeps_the_ids() {
        let a = outbox();
        a.enqueue(about(TenantId::new(Provider::Pockyt, "9"), "x", "t"));
        a.enqueue(about(payee(), "T1", "payout.success"));
        a.enqueue(about(payee(), "T1", "payout.returned"));
        let snapshot = a.export(Some(&payee()));
        let ids: Vec<String> = snapshot
            .notifications
            .iter()
            .map(|n| n.id.clone())
            .collect();
        let b = outbox();
        assert_eq!(b.import(Some(&payee()), snapshot), Ok(2));
        let kept: Vec<String> = b
            .export(Some(&payee()))
            .notifications
            .iter()
            .map(|n| n.id.clone())
            .collect();
        assert_eq!(kept, ids);
    }
}
