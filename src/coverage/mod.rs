//! Integration coverage: what a partner's traffic exercised of everything the simulator can
//! produce, and what it never tried (docs/COVERAGE.md).
//!
//! The [`Model`] is generated at start-up from the surfaces' own tables ([`model::Sources`], filled
//! by `api::coverage` from the operation tables, the wire code lists, the notification lists and
//! the trigger registry), so a new operation, code, notification or trigger appears in it without
//! a line here. [`Coverage`] counts hits per item, overall and per tenant, with atomics: a request
//! costs a few hash lookups and two relaxed increments, and no lock is held across anything.
//!
//! This module sits below the core and the surfaces (it imports only plain types): the pipeline,
//! the outbox's delivery observer, the state hooks and `Core::fire` report into it.

pub mod model;
pub mod report;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use serde::Serialize;

use crate::notify::{Notification, Status};
use crate::tenant::TenantId;

pub use model::{Model, Sources, SurfaceSource, TriggerSource};

/// What kind of thing an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A sync code an operation answered.
    Sync,
    /// A refusal of the surface's envelope (authentication, format, requestNo, rate, dropped).
    Envelope,
    /// How a notification's delivery went.
    Notification,
    /// A state transition or external event (named by the trigger that can cause it).
    State,
}

/// One thing that can happen.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// Stable: `whalet.payoutApply.SUCCESS`, `whalet.envelope.UNAUTHENTICATED_ERROR`,
    /// `whalet.notify.payoutResultNotify.exhausted`, `whalet.state.whalet.payout.failed`.
    pub id: String,
    pub surface: &'static str,
    /// The operation group (Whalet: `payout`, `collections`, ...; `envelope`; `notifications`).
    pub group: String,
    /// The operation, notification topic or stateful object the item belongs to.
    pub operation: String,
    /// The code, delivery outcome or trigger.
    pub outcome: String,
    pub kind: Kind,
    /// One line: how to provoke it.
    pub hint: String,
}

/// The delivery outcomes of a notification, in item order.
pub const DELIVERY_OUTCOMES: [&str; 6] = [
    "delivered_first_time",
    "delivered_after_retries",
    "exhausted",
    "duplicated",
    "out_of_order",
    "corrupt_signature_refused",
];

const FIRST_TIME: usize = 0;
const AFTER_RETRIES: usize = 1;
const EXHAUSTED: usize = 2;
const DUPLICATED: usize = 3;
const OUT_OF_ORDER: usize = 4;
const CORRUPT_REFUSED: usize = 5;

/// One counter per item.
struct Counters(Box<[AtomicU64]>);

impl Counters {
    fn new(n: usize) -> Self {
        Self((0..n).map(|_| AtomicU64::new(0)).collect())
    }

    fn add(&self, index: usize) {
        if let Some(c) = self.0.get(index) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn snapshot(&self) -> Vec<u64> {
        self.0.iter().map(|c| c.load(Ordering::Relaxed)).collect()
    }

    fn clear(&self) {
        for c in self.0.iter() {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// The model and its hit counters, overall and per tenant.
pub struct Coverage {
    model: Model,
    overall: Counters,
    /// Only tenants the simulator knows reach this map (requests are authenticated first;
    /// notifications and state changes belong to existing tenants; a fired trigger's tenant is
    /// checked by the caller), so it is bounded by the configured tenants.
    tenants: DashMap<TenantId, Arc<Counters>>,
}

impl Coverage {
    pub fn new(model: Model) -> Self {
        let overall = Counters::new(model.items.len());
        Self {
            model,
            overall,
            tenants: DashMap::new(),
        }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    fn hit(&self, tenant: Option<&TenantId>, index: usize) {
        self.overall.add(index);
        let Some(tenant) = tenant else {
            return;
        };
        if let Some(counters) = self.tenants.get(tenant) {
            counters.add(index);
            return;
        }
        let counters = self
            .tenants
            .entry(tenant.clone())
            .or_insert_with(|| Arc::new(Counters::new(self.model.items.len())))
            .clone();
        counters.add(index);
    }

    /// A request answered on `surface`: its operation (apiCode or path as the journal shows it)
    /// and its result code. An operation-level code of a known operation counts for that
    /// operation; an envelope code counts for the surface; anything else is not an item.
    pub fn request(&self, surface: &str, tenant: Option<&TenantId>, operation: &str, code: &str) {
        if let Some(index) = self.model.sync_index(surface, operation, code) {
            self.hit(tenant, index);
        }
    }

    /// A state transition or event named by its trigger (`whalet.payout.failed`).
    pub fn state(&self, tenant: Option<&TenantId>, trigger: &str) {
        if let Some(index) = self.model.state_index(trigger) {
            self.hit(tenant, index);
        }
    }

    /// A notification after one of its attempts was recorded.
    pub fn delivery(&self, n: &Notification) {
        let Some(indexes) = self.model.notification_indexes(n.channel, &n.topic) else {
            return;
        };
        let series: Vec<_> = n.attempts.iter().filter(|a| a.series == n.series).collect();
        let Some(last) = series.last() else {
            return;
        };
        let tenant = Some(&n.tenant);
        let failed = last.verdict != "delivered";
        if n.behaviour.corrupt_signature
            && failed
            && last.http_status.is_some()
            && series.len() == 1
        {
            self.hit(tenant, indexes[CORRUPT_REFUSED]);
        }
        match n.status {
            Status::Delivered => {
                let outcome = if series.len() == 1 {
                    FIRST_TIME
                } else {
                    AFTER_RETRIES
                };
                self.hit(tenant, indexes[outcome]);
                if n.behaviour.duplicate && n.series > 1 {
                    self.hit(tenant, indexes[DUPLICATED]);
                }
                if n.behaviour.reorder {
                    self.hit(tenant, indexes[OUT_OF_ORDER]);
                }
            }
            Status::Exhausted => self.hit(tenant, indexes[EXHAUSTED]),
            _ => {}
        }
    }

    /// Hit counts of every item: overall, or of one tenant (zeros for a tenant never seen).
    pub fn hits(&self, tenant: Option<&TenantId>) -> Vec<u64> {
        match tenant {
            None => self.overall.snapshot(),
            Some(t) => match self.tenants.get(t) {
                Some(c) => c.snapshot(),
                None => vec![0; self.model.items.len()],
            },
        }
    }

    /// Starts a new measurement: every counter back to zero.
    pub fn reset(&self) {
        self.overall.clear();
        for entry in self.tenants.iter() {
            entry.value().clear();
        }
    }
}

/// Item index by name: `HashMap<String, usize>` that answers `&str` lookups.
pub(crate) type Index = HashMap<String, usize>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::NotifyBehaviour;
    use crate::notify::{Attempt, NotificationSpec};
    use crate::tenant::Provider;

    fn model() -> Model {
        Model::generate(&Sources {
            surfaces: vec![SurfaceSource {
                surface: "s",
                groups: vec![("g", vec!["op"])],
                aliases: Vec::new(),
                codes: vec!["OK", "NO", "AUTH"],
                envelope: vec!["AUTH"],
                success: "OK",
                accepted_as_processing: Vec::new(),
                processing: None,
                channel: "c",
                notifications: vec![("g", "topic".to_owned())],
            }],
            triggers: Vec::new(),
        })
    }

    fn tenant(id: &str) -> TenantId {
        TenantId::new(Provider::Whalet, id)
    }

    #[test]
    fn counts_are_exact_across_threads_overall_and_per_tenant() {
        let c = Arc::new(Coverage::new(model()));
        let ok = c.model().find("s.op.OK").unwrap();
        std::thread::scope(|scope| {
            for t in 0..8 {
                let c = c.clone();
                scope.spawn(move || {
                    let me = tenant(&format!("t{}", t % 2));
                    for _ in 0..5_000 {
                        c.request("s", Some(&me), "op", "OK");
                        c.request("s", None, "unknown", "AUTH");
                    }
                });
            }
        });
        assert_eq!(c.hits(None)[ok], 40_000);
        assert_eq!(c.hits(Some(&tenant("t0")))[ok], 20_000);
        assert_eq!(c.hits(Some(&tenant("t1")))[ok], 20_000);
        let auth = c.model().find("s.envelope.AUTH").unwrap();
        assert_eq!(c.hits(None)[auth], 40_000);
        assert_eq!(c.hits(Some(&tenant("t0")))[auth], 0);
        c.reset();
        assert!(c.hits(None).iter().all(|h| *h == 0));
        assert!(c.hits(Some(&tenant("t0"))).iter().all(|h| *h == 0));
    }

    fn attempt(series: u32, ok: bool) -> Attempt {
        Attempt {
            number: 1,
            series,
            url: None,
            virtual_time: 0,
            virtual_time_text: String::new(),
            wall_time: 0,
            finished_at: 0,
            http_status: Some(if ok { 200 } else { 400 }),
            latency_ms: 0,
            response_excerpt: String::new(),
            verdict: if ok {
                "delivered".into()
            } else {
                "failed: no".into()
            },
            next_attempt_at: None,
        }
    }

    fn notification(
        status: Status,
        series: u32,
        attempts: Vec<Attempt>,
        behaviour: NotifyBehaviour,
    ) -> Notification {
        let spec = NotificationSpec {
            behaviour,
            ..NotificationSpec::new(tenant("t0"), "c", "topic".into(), serde_json::Value::Null)
        };
        Notification {
            status,
            series,
            attempts,
            ..Notification::pending("ntf_000001".into(), String::new(), spec, 0)
        }
    }

    #[test]
    fn report_json_keeps_its_fields_in_order() {
        let c = Coverage::new(model());
        c.request("s", None, "op", "OK");
        let report = serde_json::to_value(c.report(&report::Selection::default())).unwrap();
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        // The name first, then the counts, then the parts.
        let expect = |name: &str, inner: &str| -> Vec<String> {
            [name, "items", "exercised", "percent", inner]
                .map(str::to_owned)
                .to_vec()
        };
        let mut top = vec!["tenant".to_owned(), "surface".to_owned()];
        top.extend(expect("group", "surfaces"));
        assert_eq!(keys(&report), top);
        let surface = &report["surfaces"][0];
        assert_eq!(keys(surface), expect("surface", "groups"));
        let group = &surface["groups"][0];
        assert_eq!(keys(group), expect("group", "operations"));
        let operation = &group["operations"][0];
        assert_eq!(keys(operation), expect("operation", "outcomes"));
        let items = operation["outcomes"].as_array().unwrap().len();
        assert_eq!(operation["items"], items);
        assert_eq!(operation["exercised"], 1);
        assert_eq!(operation["percent"], report::percent(1, items));
        let back: report::Report = serde_json::from_value(report.clone()).unwrap();
        assert_eq!(serde_json::to_value(back).unwrap(), report);
    }

    #[test]
    fn delivery_outcomes_follow_the_ledger() {
        let c = Coverage::new(model());
        let at = |o: &str| c.model().find(&format!("s.notify.topic.{o}")).unwrap();
        let plain = NotifyBehaviour::default();
        let dup = NotifyBehaviour {
            duplicate: true,
            reorder: true,
            ..NotifyBehaviour::default()
        };
        let corrupt = NotifyBehaviour {
            corrupt_signature: true,
            ..NotifyBehaviour::default()
        };
        let (ok, failed) = (attempt(1, true), attempt(1, false));
        let deliveries = [
            (Status::Delivered, 1, vec![ok.clone()], &plain),
            (Status::Pending, 1, vec![failed.clone()], &plain),
            (
                Status::Delivered,
                1,
                vec![failed.clone(), ok.clone()],
                &plain,
            ),
            (Status::Exhausted, 1, vec![failed.clone(); 6], &plain),
            (Status::Delivered, 2, vec![ok, attempt(2, true)], &dup),
            (Status::Pending, 1, vec![failed.clone()], &corrupt),
            (Status::Pending, 1, vec![failed.clone(), failed], &corrupt),
        ];
        for (status, series, attempts, behaviour) in deliveries {
            c.delivery(&notification(status, series, attempts, behaviour.clone()));
        }
        let hits = c.hits(None);
        assert_eq!(
            hits[at("delivered_first_time")],
            2,
            "plain and the duplicate's second series"
        );
        assert_eq!(hits[at("delivered_after_retries")], 1);
        assert_eq!(hits[at("exhausted")], 1);
        assert_eq!(hits[at("duplicated")], 1);
        assert_eq!(hits[at("out_of_order")], 1);
        assert_eq!(
            hits[at("corrupt_signature_refused")],
            1,
            "counted at the first refusal only"
        );
        assert_eq!(c.hits(Some(&tenant("t0")))[at("exhausted")], 1);
    }
}
