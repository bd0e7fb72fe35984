//! The outbox: handlers enqueue notifications; the clock's timers deliver them. Each surface
//! plugs in a [`Transport`] (how to seal a notification, how to judge the partner's answer, and
//! its retry schedule). Every attempt is recorded in the delivery ledger with why it failed; a
//! notification is delivered, or `exhausted` after its last retry (the offline notice).
//!
//! Boundary: this module knows nothing about envelopes or HTTP details (the transports and
//! `http::client` do) and never reads the system clock for due times (`clock` does).
//! Deliveries of different notifications run concurrently (each attempt is its own timer job,
//! bounded per destination host); notifications about the same business object are delivered
//! one after the other, in enqueue order, unless a scenario says `reorder`.

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

use crate::clock::{format, Clock, Millis};
use crate::http::client::HttpClient;
use crate::tenant::TenantId;
use ledger::Ledger;
pub use ledger::NotificationFilter;

/// Concurrent attempts per destination (scheme + host + port) unless [`Outbox::set_concurrency`].
pub const DEFAULT_CONCURRENCY: usize = 32;

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

/// A rewrite of a notification's payload (tenant, channel, topic, payload), applied when it is
/// enqueued, so that the ledger, the dashboard and the partner all see the rewritten payload.
pub type Rewrite = Arc<dyn Fn(&TenantId, &str, &str, &mut Value) + Send + Sync>;

/// Bytes ready to POST.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub content_type: &'static str,
    pub body: Bytes,
}

/// A surface's way of sending notifications.
pub trait Transport: Send + Sync + 'static {
    /// The tenant's configured notify URL.
    fn url(&self, tenant: &TenantId) -> Option<String>;
    /// Seals the notification; with `corrupt` the signature must fail verification.
    fn seal(&self, n: &Notification, corrupt: bool) -> Result<Sealed, String>;
    /// Ok when the partner's answer acknowledges the notification, else why not.
    fn judge(&self, n: &Notification, status: u16, body: &[u8]) -> Result<(), String>;
    /// Delays before each retry, in virtual ms.
    fn retry_delays(&self) -> Vec<i64>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for an earlier notification about the same business object.
    Queued,
    /// An attempt is scheduled or under way.
    Pending,
    Delivered,
    Exhausted,
    Suppressed,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Queued,
        Status::Pending,
        Status::Delivered,
        Status::Exhausted,
        Status::Suppressed,
    ];

    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Delivered | Status::Exhausted | Status::Suppressed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Exhausted => "exhausted",
            Status::Suppressed => "suppressed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One try at delivering.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub number: u32,
    pub series: u32,
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
    /// `delivered` or `failed: why`.
    pub verdict: String,
    pub next_attempt_at: Option<Millis>,
}

/// A notification and its delivery history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: String,
    pub tenant: TenantId,
    pub channel: &'static str,
    pub topic: String,
    pub business_id: Option<String>,
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
}

/// Consulted before each delivery attempt: `Some(why)` fails the attempt without sending it
/// (scenario outages of the partner's notify endpoint). Arguments: tenant, channel, now.
pub type DeliveryGate = Arc<dyn Fn(&TenantId, &str, Millis) -> Option<String> + Send + Sync>;

struct Inner {
    gate: Mutex<Option<DeliveryGate>>,
    rewrite: Mutex<Option<Rewrite>>,
    clock: Clock,
    client: HttpClient,
    timeout: Duration,
    capacity: usize,
    concurrency: AtomicUsize,
    /// A random tag in minted requestNos, so that two runs never reuse one.
    instance: std::sync::atomic::AtomicU32,
    transports: Mutex<HashMap<&'static str, Arc<dyn Transport>>>,
    ledger: Mutex<Ledger>,
    destinations: Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
    next_id: AtomicU64,
    changed: Notify,
}

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
                rewrite: Mutex::new(None),
                clock,
                client,
                timeout,
                capacity: capacity.max(1),
                concurrency: AtomicUsize::new(DEFAULT_CONCURRENCY),
                instance: std::sync::atomic::AtomicU32::new(rand::random::<u32>() % 1_000_000),
                transports: Mutex::new(HashMap::new()),
                ledger: Mutex::new(Ledger::default()),
                destinations: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                changed: Notify::new(),
            }),
        }
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

    /// Records the notification and schedules its first attempt. Returns its id.
    pub fn enqueue(&self, mut spec: NotificationSpec) -> String {
        let rewrite = self.inner.rewrite.lock().clone();
        if let Some(rewrite) = rewrite {
            rewrite(&spec.tenant, spec.channel, &spec.topic, &mut spec.payload);
        }
        let seq = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let now = self.inner.clock.now();
        let id = ledger::id_of(seq);
        let request_no = spec.request_no.unwrap_or_else(|| {
            let stamp = format::china(now).replace(['-', ' ', ':'], "");
            format!(
                "N{stamp}{:06}{seq:06}",
                self.inner.instance.load(Ordering::Relaxed)
            )
        });
        let notification = Notification {
            id: id.clone(),
            tenant: spec.tenant,
            channel: spec.channel,
            topic: spec.topic,
            business_id: spec.business_id,
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
        };
        let first = {
            let mut ledger = self.inner.ledger.lock();
            let first = ledger.admit(seq, notification);
            ledger.trim(self.inner.capacity);
            first
        };
        if let Some(at) = first {
            self.schedule_attempt(seq, at);
        }
        self.inner.changed.notify_waiters();
        id
    }

    /// Starts a new series of attempts with the same requestNo (idempotency tests). Only a
    /// finished notification (delivered, exhausted or suppressed) can be resent.
    pub fn resend(&self, id: &str) -> Result<Notification, String> {
        let now = self.inner.clock.now();
        let (seq, view) = {
            let mut ledger = self.inner.ledger.lock();
            let seq = ledger::seq_of(id).ok_or_else(|| format!("no notification {id}"))?;
            let view = ledger.restart(seq, now)?;
            (seq, view)
        };
        self.schedule_attempt(seq, now);
        self.inner.changed.notify_waiters();
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

    /// Forgets every notification of `tenant` (or all) and cancels their pending attempts; an
    /// attempt already under way finishes unrecorded.
    pub fn reset(&self, tenant: Option<&TenantId>) {
        let removed = self.inner.ledger.lock().remove_tenant(tenant);
        let labels: HashSet<String> = removed.into_iter().map(ledger::timer_label).collect();
        if !labels.is_empty() {
            self.inner
                .clock
                .cancel_where(|label| labels.contains(label));
        }
        self.inner.changed.notify_waiters();
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
