//! The Whalet requestNos a partner has used (REQUEST_NO_NOT_UNIQUE), bounded: the oldest are
//! forgotten beyond a capacity (`[whalet] request_no_memory`, [`RequestNos::DEFAULT_CAPACITY`]
//! by default), so a long load test cannot grow memory without limit. Serialised as the list of
//! remembered numbers, oldest first.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One heap copy of each number, shared by the set (lookups) and the queue (age order).
#[derive(Debug, Default)]
pub struct RequestNos {
    seen: HashSet<Arc<str>>,
    order: VecDeque<Arc<str>>,
}

impl RequestNos {
    /// RequestNos remembered per tenant. Once full, every insert removes the oldest; the hash
    /// table then cleans up its deleted slots in place only while it is at most half full, and
    /// grows otherwise. 917,504 is half of what a 2^21-bucket table holds, the largest limit at
    /// which the table stops growing there: about 100 MB per tenant at the limit (measured:
    /// docs/PERFORMANCE.md, "Memory under sustained load").
    pub const DEFAULT_CAPACITY: usize = 917_504;

    /// Records `request_no`, remembering at most `capacity` (at least one); false when it was
    /// already used (and still remembered).
    pub fn insert(&mut self, request_no: String, capacity: usize) -> bool {
        if self.seen.contains(request_no.as_str()) {
            return false;
        }
        self.keep_newest(capacity.max(1) - 1);
        let shared: Arc<str> = Arc::from(request_no);
        self.seen.insert(shared.clone());
        self.order.push_back(shared);
        true
    }

    /// Forgets the oldest numbers beyond the newest `capacity` (at least one): what a memory
    /// restored (a snapshot, a data dir) keeps under the limit configured now. The number of
    /// numbers forgotten.
    pub fn forget_beyond(&mut self, capacity: usize) -> usize {
        self.keep_newest(capacity.max(1))
    }

    /// Forgets the oldest numbers until at most `count` are left; how many it forgot.
    fn keep_newest(&mut self, count: usize) -> usize {
        let mut forgotten = 0;
        while self.order.len() > count {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            self.seen.remove(&oldest);
            forgotten += 1;
        }
        forgotten
    }

    /// Forgets `request_no` again (a request lost before it was processed: a scenario's dropped
    /// connection), so that a retry with it is accepted. It was remembered last, or nearly: it is
    /// looked for from the newest end. False when it was not remembered.
    pub fn forget(&mut self, request_no: &str) -> bool {
        if !self.seen.remove(request_no) {
            return false;
        }
        if let Some(at) = self.order.iter().rposition(|n| &**n == request_no) {
            self.order.remove(at);
        }
        true
    }

    pub fn contains(&self, request_no: &str) -> bool {
        self.seen.contains(request_no)
    }

    /// The remembered numbers, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.order.iter().map(|n| &**n)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

impl Serialize for RequestNos {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.order.iter().map(|n| &**n))
    }
}

/// Reads the list back, oldest first (a duplicate in the list is kept once).
impl<'de> Deserialize<'de> for RequestNos {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<String>::deserialize(d)?;
        let mut nos = RequestNos::default();
        for n in list {
            nos.insert(n, usize::MAX);
        }
        Ok(nos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused_and_order_is_kept() {
        let mut nos = RequestNos::default();
        assert!(nos.insert("a".into(), 10));
        assert!(nos.insert("b".into(), 10));
        assert!(!nos.insert("a".into(), 10));
        assert_eq!(nos.len(), 2);
        assert_eq!(
            serde_json::to_value(&nos).unwrap(),
            serde_json::json!(["a", "b"])
        );
    }

    #[test]
    fn a_forgotten_number_is_accepted_again_and_the_others_keep_their_order() {
        let mut nos = RequestNos::default();
        for n in ["a", "b", "c"] {
            assert!(nos.insert(n.into(), 10));
        }
        assert!(nos.forget("b"));
        assert!(!nos.forget("b"), "it is no longer remembered");
        assert!(!nos.contains("b"));
        assert_eq!(
            serde_json::to_value(&nos).unwrap(),
            serde_json::json!(["a", "c"])
        );
        assert!(nos.insert("b".into(), 10), "a retry with it is accepted");
        assert!(!nos.insert("b".into(), 10));
    }

    #[test]
    fn the_oldest_is_forgotten_at_capacity() {
        let cap = RequestNos::DEFAULT_CAPACITY;
        let mut nos = RequestNos::default();
        for i in 0..=cap {
            assert!(nos.insert(format!("R{i}"), cap));
        }
        assert_eq!(nos.len(), cap);
        assert!(!nos.contains("R0"), "the oldest is forgotten");
        assert!(nos.contains("R1") && nos.contains(&format!("R{cap}")));
        assert!(!nos.insert("R1".into(), cap), "a remembered one is refused");
        assert!(nos.insert("R0".into(), cap), "a forgotten one is accepted");
        assert!(!nos.contains("R1"), "which pushed out the next oldest");
    }

    #[test]
    fn a_restored_memory_keeps_only_its_newest_within_the_limit() {
        let list: Vec<String> = (1..=6).map(|i| format!("A{i}")).collect();
        let mut nos: RequestNos = serde_json::from_value(serde_json::json!(list)).unwrap();
        assert_eq!(nos.forget_beyond(2), 4);
        assert_eq!(
            serde_json::to_value(&nos).unwrap(),
            serde_json::json!(["A5", "A6"]),
            "the newest two are kept, oldest first"
        );
        assert!(
            nos.insert("A1".into(), 2),
            "a forgotten one is accepted again"
        );
        assert!(!nos.contains("A5"), "which pushed out the oldest kept");
        assert_eq!(
            nos.forget_beyond(0),
            1,
            "a limit of 0 still keeps the newest"
        );
        assert_eq!(
            serde_json::to_value(&nos).unwrap(),
            serde_json::json!(["A1"])
        );
        assert_eq!(
            nos.forget_beyond(5),
            0,
            "within the limit nothing is forgotten"
        );
    }

    #[test]
    fn a_smaller_capacity_forgets_down_to_it() {
        let mut nos = RequestNos::default();
        for i in 0..10 {
            assert!(nos.insert(format!("R{i}"), 10));
        }
        // A lower limit applies at the next insert.
        assert!(nos.insert("R10".into(), 3));
        assert_eq!(nos.len(), 3);
        assert!(nos.contains("R8") && nos.contains("R9") && nos.contains("R10"));
        assert!(
            nos.insert("R0".into(), 0),
            "a limit of 0 still remembers the last one"
        );
        assert_eq!(nos.len(), 1);
        assert!(!nos.insert("R0".into(), 0));
    }
}
