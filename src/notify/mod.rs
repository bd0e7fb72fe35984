//! The outbox: handlers enqueue notifications; the clock's timers deliver them. Each surface
//! plugs in a [`Transport`] (how to seal a notification, how to judge the partner's answer, and
//! its retry schedule). Every attempt is recorded in the delivery ledger with why it failed; a
//! notification is delivered, or `exhausted` after its last retry (the offline notice).
//!
//! Deliveries of different notifications run concurrently (each attempt is its own timer);
//! notifications about the same business object are delivered in order unless a scenario says
//! `reorder`.

pub mod infinia;
pub mod pockyt;
pub mod schedule;
pub mod whalet;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;

use crate::clock::{format, system_now, Clock, Millis};
use crate::http::client::HttpClient;
use crate::store::TenantId;

/// How a scenario wants a notification to behave.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyBehaviour {
    /// Extra virtual delay before the first attempt.
    pub delay_ms: i64,
    /// Deliver the whole series twice (same requestNo), to test idempotent receivers.
    pub duplicate: bool,
    /// Never send it (recorded as `suppressed`).
    pub suppress: bool,
    /// Send it with a corrupted signature (negative tests of the receiver's verification).
    pub corrupt_signature: bool,
    /// Do not wait for earlier notifications about the same business object.
    pub reorder: bool,
}

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
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Delivered | Status::Exhausted | Status::Suppressed
        )
    }
}

/// One try at delivering.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub number: u32,
    pub series: u32,
    pub virtual_time: Millis,
    pub virtual_time_text: String,
    pub wall_time: Millis,
    pub http_status: Option<u16>,
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
    pub series: u32,
    pub attempts: Vec<Attempt>,
    pub behaviour: NotifyBehaviour,
    #[serde(skip)]
    sealed: Option<Result<Sealed, String>>,
}

/// Filter of the delivery ledger.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationFilter {
    pub tenant: Option<String>,
    pub api_code: Option<String>,
    pub status: Option<String>,
    pub business_id: Option<String>,
    /// Only notifications created after this id (numeric part) — for waiting on new ones.
    pub after: Option<u64>,
}

impl NotificationFilter {
    fn matches(&self, n: &Notification) -> bool {
        self.tenant
            .as_deref()
            .is_none_or(|t| n.tenant.to_string() == t || n.tenant.id == t)
            && self.api_code.as_deref().is_none_or(|c| n.topic == c)
            && self.status.as_deref().is_none_or(|s| {
                serde_json::to_value(n.status)
                    .ok()
                    .and_then(|v| v.as_str().map(|x| x == s))
                    == Some(true)
            })
            && self
                .business_id
                .as_deref()
                .is_none_or(|b| n.business_id.as_deref() == Some(b))
            && self.after.is_none_or(|after| numeric_id(&n.id) > after)
    }
}

fn numeric_id(id: &str) -> u64 {
    id.trim_start_matches("ntf_").parse().unwrap_or(0)
}

struct Ledger {
    items: BTreeMap<u64, Notification>,
    /// Notifications waiting behind an active one about the same object: key → queued ids.
    lines: HashMap<String, VecDeque<u64>>,
}

/// Consulted before each delivery attempt: `Some(why)` fails the attempt without sending it
/// (scenario outages of the partner's notify endpoint). Arguments: tenant, channel, now.
pub type DeliveryGate = Arc<dyn Fn(&TenantId, &str, Millis) -> Option<String> + Send + Sync>;

struct Inner {
    gate: Mutex<Option<DeliveryGate>>,
    clock: Clock,
    client: HttpClient,
    timeout: Duration,
    capacity: usize,
    transports: Mutex<HashMap<&'static str, Arc<dyn Transport>>>,
    ledger: Mutex<Ledger>,
    next_id: AtomicU64,
    changed: Notify,
}

/// Handle to the outbox and delivery ledger. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

impl Outbox {
    pub fn new(clock: Clock, client: HttpClient, timeout: Duration, capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                gate: Mutex::new(None),
                clock,
                client,
                timeout,
                capacity: capacity.max(1),
                transports: Mutex::new(HashMap::new()),
                ledger: Mutex::new(Ledger {
                    items: BTreeMap::new(),
                    lines: HashMap::new(),
                }),
                next_id: AtomicU64::new(1),
                changed: Notify::new(),
            }),
        }
    }

    /// Installs the delivery gate (the scenario engine's outages).
    pub fn set_gate(&self, gate: DeliveryGate) {
        *self.inner.gate.lock() = Some(gate);
    }

    pub fn register(&self, channel: &'static str, transport: Arc<dyn Transport>) {
        self.inner.transports.lock().insert(channel, transport);
    }

    /// Records the notification and schedules its first attempt. Returns its id.
    pub fn enqueue(&self, spec: NotificationSpec) -> String {
        let seq = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let now = self.inner.clock.now();
        let id = format!("ntf_{seq:06}");
        let request_no = spec.request_no.clone().unwrap_or_else(|| {
            format!(
                "N{}{seq:06}",
                format::china(now).replace(['-', ' ', ':'], "")
            )
        });
        let line_key = (!spec.behaviour.reorder)
            .then(|| {
                spec.business_id
                    .as_ref()
                    .map(|b| format!("{}|{}", spec.tenant, b))
            })
            .flatten();
        let mut notification = Notification {
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
            series: 1,
            attempts: Vec::new(),
            behaviour: spec.behaviour,
            sealed: None,
        };
        let first_at = now + notification.behaviour.delay_ms.max(0);
        let schedule_first = {
            let mut ledger = self.inner.ledger.lock();
            let runnable = if notification.behaviour.suppress {
                notification.status = Status::Suppressed;
                false
            } else if let Some(key) = line_key {
                let line = ledger.lines.entry(key).or_default();
                line.push_back(seq);
                if line.len() > 1 {
                    notification.status = Status::Queued;
                }
                line.len() == 1
            } else {
                true
            };
            if runnable {
                notification.next_attempt_at = Some(first_at);
            }
            ledger.items.insert(seq, notification);
            self.trim(&mut ledger);
            runnable
        };
        if schedule_first {
            self.schedule_attempt(seq, first_at);
        }
        self.inner.changed.notify_waiters();
        id
    }

    /// Starts a new series of attempts with the same requestNo (idempotency tests).
    pub fn resend(&self, id: &str) -> Result<Notification, String> {
        let seq = numeric_id(id);
        let now = self.inner.clock.now();
        let view = {
            let mut ledger = self.inner.ledger.lock();
            let n = ledger
                .items
                .get_mut(&seq)
                .ok_or_else(|| format!("no notification {id}"))?;
            if n.status == Status::Pending {
                return Err(format!(
                    "{id} is still being delivered; resend it once it is delivered or exhausted"
                ));
            }
            n.series += 1;
            n.status = Status::Pending;
            n.next_attempt_at = Some(now);
            n.clone()
        };
        self.schedule_attempt(seq, now);
        self.inner.changed.notify_waiters();
        Ok(view)
    }

    pub fn get(&self, id: &str) -> Option<Notification> {
        self.inner.ledger.lock().items.get(&numeric_id(id)).cloned()
    }

    /// Newest first.
    pub fn list(&self, filter: &NotificationFilter) -> Vec<Notification> {
        let ledger = self.inner.ledger.lock();
        ledger
            .items
            .values()
            .rev()
            .filter(|n| filter.matches(n))
            .cloned()
            .collect()
    }

    /// Counts by status (for the dashboard and benchmarks).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let ledger = self.inner.ledger.lock();
        let mut counts = BTreeMap::new();
        for n in ledger.items.values() {
            let key = serde_json::to_value(n.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            *counts.entry(key).or_insert(0) += 1;
        }
        counts
    }

    /// Waits until a notification matching `filter` is final (delivered, exhausted or
    /// suppressed), or `timeout` passes. Returns the first (oldest) such notification.
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
                    .values()
                    .find(|n| n.status.is_final() && filter.matches(n))
                    .cloned()
            };
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return None;
            }
        }
    }

    /// Forgets every notification of `tenant` (or all) and cancels their timers.
    pub fn reset(&self, tenant: Option<&TenantId>) {
        let mut ledger = self.inner.ledger.lock();
        ledger
            .items
            .retain(|_, n| tenant.is_some_and(|t| &n.tenant != t));
        let remaining: std::collections::HashSet<u64> = ledger.items.keys().copied().collect();
        for line in ledger.lines.values_mut() {
            line.retain(|seq| remaining.contains(seq));
        }
        ledger.lines.retain(|_, l| !l.is_empty());
    }

    fn schedule_attempt(&self, seq: u64, at: Millis) {
        let outbox = self.clone();
        self.inner.clock.schedule_at(
            at,
            format!("notify:ntf_{seq:06}"),
            Box::new(move || Box::pin(async move { outbox.attempt(seq).await })),
        );
    }

    /// One delivery attempt: the step function the timers run.
    async fn attempt(&self, seq: u64) {
        let prepared = {
            let mut ledger = self.inner.ledger.lock();
            let Some(n) = ledger.items.get_mut(&seq) else {
                return;
            };
            if n.status != Status::Pending {
                return;
            }
            let transport = self.inner.transports.lock().get(n.channel).cloned();
            transport.map(|t| {
                let url = n.url.clone().or_else(|| t.url(&n.tenant));
                if n.sealed.is_none() {
                    n.sealed = Some(
                        t.seal(n, n.behaviour.corrupt_signature)
                            .map_err(|e| format!("cannot seal: {e}")),
                    );
                }
                (t, url, n.clone())
            })
        };
        let Some((transport, url, snapshot)) = prepared else {
            self.record(
                seq,
                None,
                0,
                String::new(),
                Err("no transport registered for this channel".into()),
                None,
            );
            return;
        };
        let gate = self.inner.gate.lock().clone();
        let now = self.inner.clock.now();
        if let Some(why) = gate.and_then(|g| g(&snapshot.tenant, snapshot.channel, now)) {
            self.record(seq, None, 0, String::new(), Err(why), Some(&transport));
            return;
        }
        let started_wall = system_now();
        let outcome = match (&url, snapshot.sealed.as_ref()) {
            (None, _) => Err(
                "no notify URL is configured for this tenant (--notify-url or config)".to_owned(),
            ),
            (_, Some(Err(e))) => Err(e.clone()),
            (Some(url), Some(Ok(sealed))) => {
                match self
                    .inner
                    .client
                    .post(
                        url,
                        sealed.content_type,
                        sealed.body.clone(),
                        self.inner.timeout,
                    )
                    .await
                {
                    Ok(response) => {
                        let verdict = transport.judge(&snapshot, response.status, &response.body);
                        let excerpt = excerpt(&response.body);
                        let latency = response.latency.as_millis() as u64;
                        self.record(
                            seq,
                            Some(response.status),
                            latency,
                            excerpt,
                            verdict,
                            Some(&transport),
                        );
                        return;
                    }
                    Err(e) => Err(e),
                }
            }
            (Some(_), None) => Err("not sealed".to_owned()),
        };
        let latency = (system_now() - started_wall).max(0) as u64;
        self.record(seq, None, latency, String::new(), outcome, Some(&transport));
    }

    fn record(
        &self,
        seq: u64,
        status: Option<u16>,
        latency_ms: u64,
        response_excerpt: String,
        verdict: Result<(), String>,
        transport: Option<&Arc<dyn Transport>>,
    ) {
        let now = self.inner.clock.now();
        let mut follow_ups: Vec<(u64, Millis)> = Vec::new();
        {
            let mut ledger = self.inner.ledger.lock();
            let Some(n) = ledger.items.get_mut(&seq) else {
                return;
            };
            let in_series = n.attempts.iter().filter(|a| a.series == n.series).count();
            let delays = transport.map(|t| t.retry_delays()).unwrap_or_default();
            let next = match &verdict {
                Ok(()) => None,
                Err(_) => schedule::retry_delay(&delays, in_series + 1).map(|d| now + d),
            };
            n.attempts.push(Attempt {
                number: n.attempts.len() as u32 + 1,
                series: n.series,
                virtual_time: now,
                virtual_time_text: format::china(now),
                wall_time: system_now(),
                http_status: status,
                latency_ms,
                response_excerpt,
                verdict: match &verdict {
                    Ok(()) => "delivered".into(),
                    Err(why) => format!("failed: {why}"),
                },
                next_attempt_at: next,
            });
            n.next_attempt_at = next;
            match (&verdict, next) {
                (Ok(()), _) if n.behaviour.duplicate && n.series == 1 => {
                    n.series = 2;
                    n.next_attempt_at = Some(now);
                    follow_ups.push((seq, now));
                }
                (Ok(()), _) => n.status = Status::Delivered,
                (Err(_), Some(at)) => follow_ups.push((seq, at)),
                (Err(why), None) => {
                    n.status = Status::Exhausted;
                    tracing::warn!(
                        notification = %n.id, tenant = %n.tenant, topic = %n.topic, request_no = %n.request_no,
                        attempts = n.attempts.len(), last_error = %why,
                        "notification exhausted its retries: offline notice to the partner"
                    );
                }
            }
            if n.status.is_final() {
                let key = n
                    .business_id
                    .as_ref()
                    .filter(|_| !n.behaviour.reorder)
                    .map(|b| format!("{}|{}", n.tenant, b));
                if let Some(key) = key {
                    let next_seq = ledger.lines.get_mut(&key).and_then(|line| {
                        line.retain(|s| *s != seq);
                        line.front().copied()
                    });
                    if ledger.lines.get(&key).is_some_and(VecDeque::is_empty) {
                        ledger.lines.remove(&key);
                    }
                    if let Some(next_seq) = next_seq {
                        if let Some(next) = ledger.items.get_mut(&next_seq) {
                            if next.status == Status::Queued {
                                let at = now.max(next.created_at + next.behaviour.delay_ms.max(0));
                                next.status = Status::Pending;
                                next.next_attempt_at = Some(at);
                                follow_ups.push((next_seq, at));
                            }
                        }
                    }
                }
            }
        }
        for (seq, at) in follow_ups {
            self.schedule_attempt(seq, at);
        }
        self.inner.changed.notify_waiters();
    }

    /// Drops the oldest finished notifications beyond capacity.
    fn trim(&self, ledger: &mut Ledger) {
        if ledger.items.len() <= self.inner.capacity {
            return;
        }
        let excess = ledger.items.len() - self.inner.capacity;
        let victims: Vec<u64> = ledger
            .items
            .iter()
            .filter(|(_, n)| n.status.is_final())
            .map(|(k, _)| *k)
            .take(excess)
            .collect();
        for k in victims {
            ledger.items.remove(&k);
        }
    }
}

fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 512;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX)]).into_owned();
    if body.len() > MAX {
        format!("{text}…")
    } else {
        text
    }
}
