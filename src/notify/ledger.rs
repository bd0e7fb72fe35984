//! The delivery ledger as plain data: every notification by sequence number, the per-object
//! lines that keep notifications about one business object in order (and a notification enqueued
//! after another object's behind the notifications about that object enqueued before it), and
//! the finished
//! notifications in the order they finished, which trimming drops oldest first. No I/O, no
//! clock, no locks: the outbox holds the one lock around it.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Deserialize;

use super::schedule::due_after;
use super::{Notification, Status};
use crate::clock::Millis;
use crate::tenant::TenantId;

/// The largest sequence number a notification takes (`ntf_9223372036854775807`): the data
/// directory keeps it as an SQLite INTEGER, a signed 64-bit number. An import refuses an id past
/// it and a `nextSeq` past `MAX_SEQ + 1` (every number given); the outbox mints none past it.
pub const MAX_SEQ: u64 = i64::MAX as u64;

/// The ledger id of sequence number `seq`.
pub fn id_of(seq: u64) -> String {
    format!("ntf_{seq:06}")
}

/// The sequence number in a ledger id (`ntf_000042` → 42; any number of leading zeros:
/// `ntf_42`). This is how a notification's id is read where it is stored (a snapshot, the data
/// dir): the `ntf_` is required. Where a caller names one, [`seq_asked`] reads it.
pub fn seq_of(id: &str) -> Option<u64> {
    id.strip_prefix("ntf_").and_then(number)
}

/// The sequence number of the notification a control-plane caller names: its id as
/// [`seq_of`] reads it (`ntf_000042`, `ntf_42`) or its bare number (`42`), the same forms for
/// `GET /__sim/notifications/{id}`, its `resend` and the listing's `after=`.
pub fn seq_asked(text: &str) -> Option<u64> {
    seq_of(text).or_else(|| number(text))
}

/// Decimal digits only (no sign, no blank), as a sequence number.
fn number(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The label of a notification's pending attempt on the clock.
pub fn timer_label(seq: u64) -> String {
    format!("notify:{}", id_of(seq))
}

/// Notifications about the same object of the same tenant share a line, unless `reorder`.
fn line_key(n: &Notification) -> Option<String> {
    if n.behaviour.reorder {
        return None;
    }
    n.business_id
        .as_ref()
        .map(|b| format!("{}|{}", n.tenant, b))
}

/// The line of the other business object a notification waits behind
/// ([`Notification::after_business_id`]), unless `reorder` (which waits for nothing) or that
/// object is its own (its own line already orders it).
fn after_key(n: &Notification) -> Option<String> {
    if n.behaviour.reorder {
        return None;
    }
    let after = n.after_business_id.as_ref()?;
    (n.business_id.as_ref() != Some(after)).then(|| format!("{}|{}", n.tenant, after))
}

/// Filter of the delivery ledger.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationFilter {
    /// `provider:id` or just the id.
    pub tenant: Option<String>,
    pub api_code: Option<String>,
    pub status: Option<String>,
    pub business_id: Option<String>,
    /// Only notifications created after this id (numeric part) — for waiting on new ones.
    pub after: Option<u64>,
}

impl NotificationFilter {
    /// The sequence number of the notification a caller names ([`seq_asked`]: `ntf_000042`,
    /// `ntf_42` or `42`): the listing's `after=`. Here because this module is the outbox's
    /// own; the control plane reaches it through the filter it fills.
    pub fn seq_asked(text: &str) -> Option<u64> {
        seq_asked(text)
    }

    /// The ledger id (`ntf_000042`) of the notification a caller names, in the same forms:
    /// `GET /__sim/notifications/{id}` and its `resend`.
    pub fn id_asked(text: &str) -> Option<String> {
        seq_asked(text).map(id_of)
    }

    pub(super) fn matches(&self, seq: u64, n: &Notification) -> bool {
        self.tenant
            .as_deref()
            .is_none_or(|t| n.tenant.id == t || n.tenant.to_string() == t)
            && self.api_code.as_deref().is_none_or(|c| n.topic == c)
            && self
                .status
                .as_deref()
                .is_none_or(|s| n.status.as_str() == s)
            && self
                .business_id
                .as_deref()
                .is_none_or(|b| n.business_id.as_deref() == Some(b))
            && self.after.is_none_or(|after| seq > after)
    }
}

#[derive(Default)]
pub(super) struct Ledger {
    /// Boxed: B-tree nodes are about half full under sequential inserts, and a node of large
    /// values would waste more than the box costs.
    pub items: BTreeMap<u64, Box<Notification>>,
    /// Per business object: the notification being delivered first, then those queued behind,
    /// in sequence order.
    lines: HashMap<String, VecDeque<u64>>,
    /// Per business object: the unfinished notifications enqueued after it (about other objects,
    /// [`after_key`]). Each waits until no notification in that object's line is older than it:
    /// those enqueued before it about that object are delivered or exhausted. Not a place in the
    /// line: later notifications about that object do not wait for it, nor for each other.
    followers: HashMap<String, BTreeSet<u64>>,
    /// Finished notifications in the order they finished: trimming drops them from the front.
    finished: FinishOrder,
    /// Notifications added, changed or dropped since the data directory last wrote them
    /// (tracked only when `track`).
    pub touched: BTreeSet<u64>,
    pub track: bool,
}

impl Ledger {
    /// Notes that `seq` changed (for the data directory).
    pub fn touch(&mut self, seq: u64) {
        if self.track {
            self.touched.insert(seq);
        }
    }

    /// Whether unfinished notification `seq` may start: first in its own line (or in none), and
    /// no notification older than it left in the line of the object it comes after.
    fn may_start(&self, seq: u64, n: &Notification) -> bool {
        let front = |key: &String| self.lines.get(key).and_then(|l| l.front().copied());
        line_key(n).is_none_or(|key| front(&key) == Some(seq))
            && after_key(n).is_none_or(|key| front(&key).is_none_or(|first| first > seq))
    }

    /// Records a new notification; returns when its first attempt is due if it may start now
    /// (not suppressed, not queued behind an earlier one about the same object or, when it comes
    /// after another object, about that one).
    pub fn admit(&mut self, seq: u64, mut n: Notification) -> Option<Millis> {
        self.touch(seq);
        let first_at = due_after(n.created_at, n.behaviour.delay_ms);
        let runnable = if n.behaviour.suppress {
            n.status = Status::Suppressed;
            n.finished_at = Some(n.created_at);
            self.finished.push(seq, n.created_at);
            false
        } else {
            if let Some(key) = line_key(&n) {
                self.lines.entry(key).or_default().push_back(seq);
            }
            if let Some(key) = after_key(&n) {
                self.followers.entry(key).or_default().insert(seq);
            }
            let runnable = self.may_start(seq, &n);
            if !runnable {
                n.status = Status::Queued;
            }
            runnable
        };
        if runnable {
            n.next_attempt_at = Some(first_at);
        }
        self.items.insert(seq, Box::new(n));
        runnable.then_some(first_at)
    }

    /// Puts back a notification read from a snapshot as it was (status and due time kept),
    /// rejoining its line if it is not finished. A line is in sequence order, whatever the order
    /// of the calls: the outbox numbers a line's notifications in the order they were enqueued,
    /// and an import that renumbers keeps that order ([`Outbox::import`](super::Outbox::import)).
    /// Restored finished ones count as finished in the order of the calls at one instant: call in
    /// sequence order.
    pub fn restore(&mut self, seq: u64, n: Notification) {
        self.touch(seq);
        if n.status.is_final() {
            self.finished
                .push(seq, n.finished_at.unwrap_or(n.created_at));
        } else {
            if let Some(key) = line_key(&n) {
                let line = self.lines.entry(key).or_default();
                // Almost always at the back (calls in sequence order): look from there.
                let at = line.iter().rposition(|s| *s < seq).map_or(0, |i| i + 1);
                line.insert(at, seq);
            }
            if let Some(key) = after_key(&n) {
                self.followers.entry(key).or_default().insert(seq);
            }
        }
        self.items.insert(seq, Box::new(n));
    }

    /// Starts every queued notification with nothing ahead of it in its line (or in no line)
    /// nor in the line of the object it comes after, as [`Ledger::finish`] starts the ones
    /// behind a finished notification; returns them with when their first attempts are due. Only
    /// a hand-edited snapshot leaves such a one.
    pub fn start_unblocked(&mut self, now: Millis) -> Vec<(u64, Millis)> {
        let blocked: Vec<u64> = self
            .items
            .iter()
            .filter(|(seq, n)| n.status == Status::Queued && self.may_start(**seq, n))
            .map(|(seq, _)| *seq)
            .collect();
        self.start(blocked, now)
    }

    /// Starts those of `candidates` that are queued and may start now; returns them with when
    /// their first attempts are due (`now` at the earliest).
    fn start(&mut self, candidates: Vec<u64>, now: Millis) -> Vec<(u64, Millis)> {
        let mut started = Vec::with_capacity(candidates.len());
        for seq in candidates {
            let ready = self
                .items
                .get(&seq)
                .is_some_and(|n| n.status == Status::Queued && self.may_start(seq, n));
            if !ready {
                continue;
            }
            self.touch(seq);
            if let Some(n) = self.items.get_mut(&seq) {
                let at = now.max(due_after(n.created_at, n.behaviour.delay_ms));
                n.status = Status::Pending;
                n.next_attempt_at = Some(at);
                started.push((seq, at));
            }
        }
        started
    }

    /// A sequence number no notification holds, for one an import renumbers: the first free one
    /// from `*next` on (`*next` moves past it), or, once those run past [`MAX_SEQ`], the lowest
    /// free one. Never fails: the ledger holds far fewer notifications than there are numbers.
    pub fn free_seq(&self, next: &mut u64) -> u64 {
        while *next <= MAX_SEQ {
            let seq = *next;
            *next = seq.saturating_add(1);
            if seq > 0 && !self.items.contains_key(&seq) {
                return seq;
            }
        }
        (1..=MAX_SEQ)
            .find(|seq| !self.items.contains_key(seq))
            .unwrap_or(MAX_SEQ)
    }

    /// Starts a new series of a finished notification (resend); it does not rejoin its line.
    pub fn restart(&mut self, seq: u64, now: Millis) -> Result<Notification, String> {
        self.touch(seq);
        let id = id_of(seq);
        let n = self
            .items
            .get_mut(&seq)
            .ok_or_else(|| format!("no notification {id}"))?;
        if !n.status.is_final() {
            return Err(format!(
                "{id} is {}; resend it once it is delivered, exhausted or suppressed",
                n.status.as_str()
            ));
        }
        n.series = n.series.checked_add(1).ok_or_else(|| {
            format!(
                "{id} has had {} series of attempts, the most one notification has; it cannot \
                 be resent again",
                n.series
            )
        })?;
        n.status = Status::Pending;
        n.next_attempt_at = Some(now);
        n.finished_at = None;
        self.finished.remove(seq);
        Ok((**n).clone())
    }

    /// Marks `seq` final at `now` (its status already set); returns the notifications it let
    /// start, with when their first attempts are due: the one queued behind it about the same
    /// object, and those enqueued after that object with nothing older left in its line.
    pub fn finish(&mut self, seq: u64, now: Millis) -> Vec<(u64, Millis)> {
        self.touch(seq);
        let Some(n) = self.items.get_mut(&seq) else {
            return Vec::new();
        };
        n.finished_at = Some(now);
        n.next_attempt_at = None;
        n.sealed = None;
        self.finished.push(seq, now);
        let (key, after) = (line_key(n), after_key(n));
        if let Some(after) = after {
            self.unfollow(&after, seq);
        }
        let Some(key) = key else {
            return Vec::new();
        };
        let mut candidates = Vec::new();
        let mut first = None;
        if let Some(line) = self.lines.get_mut(&key) {
            line.retain(|s| *s != seq);
            first = line.front().copied();
            if line.is_empty() {
                self.lines.remove(&key);
            }
        }
        candidates.extend(first);
        if let Some(followers) = self.followers.get(&key) {
            match first {
                Some(first) => candidates.extend(followers.range(..first)),
                None => candidates.extend(followers.iter()),
            }
        }
        self.start(candidates, now)
    }

    /// `seq` no longer waits behind the object of line `key`.
    fn unfollow(&mut self, key: &str, seq: u64) {
        if let Some(followers) = self.followers.get_mut(key) {
            followers.remove(&seq);
            if followers.is_empty() {
                self.followers.remove(key);
            }
        }
    }

    /// Keeps at most `capacity` finished notifications, dropping those that finished first;
    /// unfinished ones are never dropped and do not count. Each drop costs O(log n), so trimming
    /// after every delivery stays cheap at any capacity.
    pub fn trim(&mut self, capacity: usize) {
        while self.finished.len() > capacity {
            let Some(oldest) = self.finished.pop_oldest() else {
                return;
            };
            self.items.remove(&oldest);
            self.touch(oldest);
        }
    }

    /// Forgets the notifications of `tenant` (all when None); returns their sequence numbers.
    pub fn remove_tenant(&mut self, tenant: Option<&TenantId>) -> Vec<u64> {
        let doomed: Vec<u64> = self
            .items
            .iter()
            .filter(|(_, n)| tenant.is_none_or(|t| &n.tenant == t))
            .map(|(seq, _)| *seq)
            .collect();
        for seq in &doomed {
            self.items.remove(seq);
            self.finished.remove(*seq);
            if self.track {
                self.touched.insert(*seq);
            }
        }
        let items = &self.items;
        for line in self.lines.values_mut() {
            line.retain(|seq| items.contains_key(seq));
        }
        self.lines.retain(|_, line| !line.is_empty());
        for followers in self.followers.values_mut() {
            followers.retain(|seq| items.contains_key(seq));
        }
        self.followers.retain(|_, followers| !followers.is_empty());
        doomed
    }
}

/// The finished notifications in the order they finished: by the virtual time they finished,
/// and among those finished at one instant (a burst under the manual clock) by the order in
/// which the ledger saw them finish (restored ones: in the order restored, i.e. by id). A
/// notification resent and finished again moves to the back.
#[derive(Default)]
struct FinishOrder {
    /// (finished at, arrival number) → sequence number.
    order: BTreeMap<(Millis, u64), u64>,
    /// Sequence number → its key in `order`, to take it out when it is resent or forgotten.
    key_of: HashMap<u64, (Millis, u64)>,
    /// Arrival numbers: ties between notifications finished at the same virtual instant.
    arrivals: u64,
}

impl FinishOrder {
    fn len(&self) -> usize {
        self.order.len()
    }

    /// Notes that `seq` finished at `at` (after every notification noted so far at `at`).
    fn push(&mut self, seq: u64, at: Millis) {
        self.remove(seq);
        self.arrivals += 1;
        let key = (at, self.arrivals);
        self.order.insert(key, seq);
        self.key_of.insert(seq, key);
    }

    fn remove(&mut self, seq: u64) {
        if let Some(key) = self.key_of.remove(&seq) {
            self.order.remove(&key);
        }
    }

    /// Takes out the notification that finished first.
    fn pop_oldest(&mut self) -> Option<u64> {
        let (_, seq) = self.order.pop_first()?;
        self.key_of.remove(&seq);
        Some(seq)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::MAX_TIME;
    use crate::notify::NotificationSpec;
    use crate::tenant::Provider;

    fn n(seq: u64, business: Option<&str>) -> Notification {
        let tenant = TenantId::new(Provider::Whalet, "P1");
        let spec = NotificationSpec {
            business_id: business.map(str::to_owned),
            ..NotificationSpec::new(tenant, "whalet", "t".into(), serde_json::Value::Null)
        };
        Notification::pending(id_of(seq), format!("N{seq}"), spec, 100)
    }

    fn finish(ledger: &mut Ledger, seq: u64, status: Status, now: Millis) -> Option<(u64, Millis)> {
        ledger.items.get_mut(&seq).unwrap().status = status;
        let started = ledger.finish(seq, now);
        assert!(started.len() <= 1, "{started:?}");
        started.first().copied()
    }

    #[test]
    fn ids_round_trip_and_junk_is_refused() {
        assert_eq!(seq_of(&id_of(42)), Some(42));
        assert_eq!(seq_of("ntf_1234567"), Some(1_234_567));
        for junk in [
            "ntf_",
            "ntf_+1",
            "42",
            "ntf_-1",
            "ntf_99999999999999999999999",
        ] {
            assert_eq!(seq_of(junk), None, "{junk}");
        }
    }

    /// A caller names a notification by its id, with any number of leading zeros, or by its
    /// bare number, as the listing's `after=` always took it; nothing else reads as a number.
    #[test]
    fn a_notification_is_asked_for_by_its_id_or_its_number() {
        for asked in ["ntf_000007", "ntf_7", "ntf_0000007", "7", "000007"] {
            assert_eq!(seq_asked(asked), Some(7), "{asked}");
        }
        for junk in [
            "",
            "ntf_",
            "+7",
            "ntf_+7",
            "-7",
            " 7",
            "7 ",
            "ntf_ntf_7",
            "NTF_7",
            "7x",
            "99999999999999999999999",
        ] {
            assert_eq!(seq_asked(junk), None, "{junk:?}");
        }
        assert_eq!(seq_of("7"), None, "a stored id keeps its ntf_");
    }

    #[test]
    fn a_line_releases_the_next_notification_when_the_first_finishes() {
        let mut ledger = Ledger::default();
        assert_eq!(ledger.admit(1, n(1, Some("o"))), Some(100));
        assert_eq!(ledger.admit(2, n(2, Some("o"))), None);
        assert_eq!(ledger.admit(3, n(3, None)), Some(100));
        assert_eq!(ledger.items[&2].status, Status::Queued);
        assert_eq!(
            finish(&mut ledger, 1, Status::Exhausted, 500),
            Some((2, 500))
        );
        assert_eq!(ledger.items[&2].status, Status::Pending);
        assert_eq!(finish(&mut ledger, 2, Status::Delivered, 600), None);
        assert!(ledger.lines.is_empty());
    }

    fn kept(ledger: &Ledger) -> Vec<u64> {
        ledger.items.keys().copied().collect()
    }

    /// Regression: the capacity counted unfinished notifications too, so with as many of them
    /// as the capacity a notification was dropped the moment it was delivered.
    #[test]
    fn the_capacity_counts_finished_notifications_only() {
        let mut ledger = Ledger::default();
        for seq in 1..=6 {
            ledger.admit(seq, n(seq, None));
        }
        for seq in [2, 4, 5] {
            finish(&mut ledger, seq, Status::Delivered, 200);
        }
        ledger.trim(3);
        assert_eq!(kept(&ledger), [1, 2, 3, 4, 5, 6]);
        ledger.trim(1);
        assert_eq!(kept(&ledger), [1, 3, 5, 6], "unfinished ones stay");
        ledger.trim(0);
        assert_eq!(kept(&ledger), [1, 3, 6]);
    }

    /// Regression: trimming dropped the finished notification with the lowest id, so one that
    /// finished last (its attempt was still under way while later ones were delivered) went at
    /// once while those finished before it stayed.
    #[test]
    fn trimming_drops_the_notification_that_finished_first() {
        let mut ledger = Ledger::default();
        for seq in 1..=4 {
            ledger.admit(seq, n(seq, None));
        }
        // One virtual instant (a burst under the manual clock): 1 finishes last.
        for seq in [2, 3, 4, 1] {
            finish(&mut ledger, seq, Status::Delivered, 200);
        }
        ledger.trim(3);
        assert_eq!(kept(&ledger), [1, 3, 4]);
        // An earlier virtual time goes first, whatever the order the ledger saw them in.
        let mut ledger = Ledger::default();
        for seq in 1..=3 {
            ledger.admit(seq, n(seq, None));
        }
        finish(&mut ledger, 3, Status::Delivered, 300);
        finish(&mut ledger, 1, Status::Delivered, 500);
        finish(&mut ledger, 2, Status::Exhausted, 400);
        ledger.trim(1);
        assert_eq!(kept(&ledger), [1]);
    }

    /// Regression: a hand-edited snapshot whose queued notification has nothing ahead of it
    /// (the one before it removed) restored it waiting for ever; it starts, and the one behind
    /// it keeps waiting.
    #[test]
    fn a_restored_queued_notification_with_nothing_ahead_of_it_starts() {
        let mut ledger = Ledger::default();
        for (seq, business) in [(2, Some("A")), (3, Some("A")), (4, None), (5, Some("B"))] {
            let mut one = n(seq, business);
            one.status = Status::Queued;
            ledger.restore(seq, one);
        }
        let mut ahead = n(6, Some("B"));
        ahead.next_attempt_at = Some(100);
        ledger.restore(6, ahead);
        let mut line_b = n(7, Some("B"));
        line_b.status = Status::Queued;
        ledger.restore(7, line_b);
        assert_eq!(ledger.start_unblocked(500), [(2, 500), (4, 500), (5, 500)]);
        assert_eq!(ledger.items[&2].status, Status::Pending);
        assert_eq!(ledger.items[&3].status, Status::Queued);
        assert_eq!(ledger.items[&7].status, Status::Queued);
        assert!(ledger.start_unblocked(600).is_empty());
    }

    /// A line is rebuilt in sequence order whatever the order its notifications are restored
    /// in: the first goes on, each of the others starts when the one before it finishes.
    #[test]
    fn a_restored_line_is_in_sequence_order_whatever_the_order_of_the_calls() {
        let mut ledger = Ledger::default();
        for seq in [3, 1, 4, 2] {
            let mut one = n(seq, Some("o"));
            if seq == 1 {
                one.next_attempt_at = Some(100);
            } else {
                one.status = Status::Queued;
            }
            ledger.restore(seq, one);
        }
        assert!(ledger.start_unblocked(500).is_empty(), "1 is under way");
        assert_eq!(
            finish(&mut ledger, 1, Status::Delivered, 600),
            Some((2, 600))
        );
        assert_eq!(
            finish(&mut ledger, 2, Status::Delivered, 700),
            Some((3, 700))
        );
        assert_eq!(
            finish(&mut ledger, 3, Status::Exhausted, 800),
            Some((4, 800))
        );
    }

    /// Restored notifications keep their finish order (by `finishedAt`), and a resent one that
    /// finishes again counts as finished last.
    #[test]
    fn restored_and_resent_notifications_keep_their_finish_order() {
        let mut ledger = Ledger::default();
        for (seq, at) in [(1, 900), (2, 300), (3, 600)] {
            let mut one = n(seq, None);
            one.status = Status::Delivered;
            one.finished_at = Some(at);
            ledger.restore(seq, one);
        }
        ledger.trim(2);
        assert_eq!(kept(&ledger), [1, 3]);
        ledger.restart(3, 1_000).unwrap();
        finish(&mut ledger, 3, Status::Delivered, 1_000);
        ledger.trim(1);
        assert_eq!(kept(&ledger), [3]);
    }

    /// A scenario's delay past the end of virtual time is due when the clock stops, not at a
    /// time no snapshot could restore; so is the next one in line when the first finishes.
    #[test]
    fn a_delay_past_the_end_of_virtual_time_is_due_at_its_end() {
        let mut ledger = Ledger::default();
        let far = |seq| {
            let mut one = n(seq, Some("o"));
            one.behaviour.delay_ms = i64::MAX;
            one
        };
        assert_eq!(ledger.admit(1, far(1)), Some(MAX_TIME));
        assert_eq!(ledger.items[&1].next_attempt_at, Some(MAX_TIME));
        ledger.admit(2, far(2));
        assert_eq!(
            finish(&mut ledger, 1, Status::Delivered, 500),
            Some((2, MAX_TIME))
        );
    }

    /// An import's renumbering takes the first free number from where it starts, and the
    /// lowest free one once those run past `MAX_SEQ`: never a taken one, never past the end.
    #[test]
    fn a_free_number_is_never_taken_nor_past_the_last() {
        let mut ledger = Ledger::default();
        for seq in [1, 2, 5, MAX_SEQ] {
            ledger.admit(seq, n(seq, None));
        }
        let mut next = 4;
        assert_eq!(ledger.free_seq(&mut next), 4);
        assert_eq!(ledger.free_seq(&mut next), 6);
        assert_eq!(next, 7);
        let mut next = MAX_SEQ;
        assert_eq!(ledger.free_seq(&mut next), 3);
        let mut next = 0;
        assert_eq!(ledger.free_seq(&mut next), 3, "0 is no number");
    }

    #[test]
    fn resend_needs_a_finished_notification() {
        let mut ledger = Ledger::default();
        ledger.admit(1, n(1, None));
        assert!(ledger.restart(1, 0).unwrap_err().contains("is pending"));
        finish(&mut ledger, 1, Status::Exhausted, 300);
        let again = ledger.restart(1, 400).unwrap();
        assert_eq!((again.series, again.status), (2, Status::Pending));
        ledger.trim(0);
        assert!(
            ledger.items.contains_key(&1),
            "a resent notification is not trimmed"
        );
        assert!(ledger
            .restart(9, 0)
            .unwrap_err()
            .contains("no notification ntf_000009"));
    }

    /// A notification about `business` enqueued after object `after`.
    fn after(seq: u64, business: &str, after: &str) -> Notification {
        Notification {
            after_business_id: Some(after.to_owned()),
            ..n(seq, Some(business))
        }
    }

    fn status(ledger: &Ledger, seq: u64) -> Status {
        ledger.items[&seq].status
    }

    /// Regression: a notification that follows from another object's (a binding ended by its
    /// collection's return) went out at once, before the other object's notification when that
    /// one needed a retry. It waits until every notification about that object enqueued before
    /// it is finished; those about that object enqueued after it, and the other followers, do
    /// not wait for it.
    #[test]
    fn a_notification_enqueued_after_another_object_waits_for_those_before_it() {
        let mut ledger = Ledger::default();
        assert!(ledger.admit(1, n(1, Some("T1"))).is_some());
        assert_eq!(
            ledger.admit(2, n(2, Some("T1"))),
            None,
            "queued in T1's line"
        );
        assert_eq!(ledger.admit(3, after(3, "B1", "T1")), None);
        assert_eq!(ledger.admit(4, after(4, "B2", "T1")), None);
        assert_eq!(status(&ledger, 3), Status::Queued);
        assert_eq!(ledger.admit(5, n(5, Some("T1"))), None, "behind 2 only");
        assert!(
            ledger.admit(6, after(6, "B3", "T9")).is_some(),
            "nothing about T9 before it"
        );

        ledger.items.get_mut(&1).unwrap().status = Status::Delivered;
        assert_eq!(
            ledger.finish(1, 500),
            [(2, 500)],
            "2 is still ahead of 3 and 4"
        );
        ledger.items.get_mut(&2).unwrap().status = Status::Exhausted;
        assert_eq!(
            ledger.finish(2, 900),
            [(5, 900), (3, 900), (4, 900)],
            "T1's next, and both followers at once"
        );
        ledger.items.get_mut(&3).unwrap().status = Status::Delivered;
        assert_eq!(ledger.finish(3, 950), [], "nobody waits for a follower");
        assert_eq!(ledger.items[&3].business_id.as_deref(), Some("B1"));
    }

    /// A follower still waits in its own object's line, and starts only when both let it.
    #[test]
    fn a_follower_waits_in_its_own_line_too() {
        let mut ledger = Ledger::default();
        assert!(ledger.admit(1, n(1, Some("B1"))).is_some());
        assert!(ledger.admit(2, n(2, Some("T1"))).is_some());
        assert_eq!(ledger.admit(3, after(3, "B1", "T1")), None);
        assert_eq!(
            finish(&mut ledger, 2, Status::Delivered, 300),
            None,
            "B1's 1 is ahead"
        );
        assert_eq!(
            finish(&mut ledger, 1, Status::Delivered, 400),
            Some((3, 400))
        );
    }

    /// `reorder` waits for nothing, and coming after one's own object is its own line.
    #[test]
    fn reorder_and_ones_own_object_add_no_wait() {
        let mut ledger = Ledger::default();
        assert!(ledger.admit(1, n(1, Some("T1"))).is_some());
        let mut loose = after(2, "B1", "T1");
        loose.behaviour.reorder = true;
        assert!(ledger.admit(2, loose).is_some());
        assert_eq!(
            ledger.admit(3, after(3, "T1", "T1")),
            None,
            "behind 1 in T1's line"
        );
        assert_eq!(
            finish(&mut ledger, 1, Status::Delivered, 500),
            Some((3, 500))
        );
    }

    /// A snapshot's notifications put back in any order wait as they did: a follower with an
    /// older notification about its object left waits, one without starts.
    #[test]
    fn restored_followers_wait_as_they_did() {
        let mut ledger = Ledger::default();
        let mut queued = after(3, "B1", "T1");
        queued.status = Status::Queued;
        ledger.restore(3, queued);
        let mut unblocked = after(4, "B2", "T8");
        unblocked.status = Status::Queued;
        ledger.restore(4, unblocked);
        let mut first = n(2, Some("T1"));
        first.next_attempt_at = Some(100);
        ledger.restore(2, first);
        assert_eq!(ledger.start_unblocked(200), [(4, 200)]);
        assert_eq!(status(&ledger, 3), Status::Queued);
        assert_eq!(
            finish(&mut ledger, 2, Status::Delivered, 300),
            Some((3, 300))
        );

        let text = serde_json::to_string(&ledger.items[&3]).unwrap();
        assert!(text.contains(r#""afterBusinessId":"T1""#), "{text}");
        let plain = serde_json::to_string(&ledger.items[&2]).unwrap();
        assert!(
            !plain.contains("afterBusinessId"),
            "absent when none: {plain}"
        );
        let older: Notification = serde_json::from_str(&plain).unwrap();
        assert_eq!(older.after_business_id, None);
    }
}
