//! The Whalet requestNos a partner has used (REQUEST_NO_NOT_UNIQUE), bounded: the oldest are
//! forgotten beyond [`RequestNos::CAPACITY`], so a long load test cannot grow memory without
//! limit. Serialised as the list of remembered numbers, oldest first.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use serde::{Serialize, Serializer};

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
    pub const CAPACITY: usize = 917_504;

    /// Records `request_no`; false when it was already used (and still remembered).
    pub fn insert(&mut self, request_no: String) -> bool {
        if self.seen.contains(request_no.as_str()) {
            return false;
        }
        if self.order.len() >= Self::CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        let shared: Arc<str> = Arc::from(request_no);
        self.seen.insert(shared.clone());
        self.order.push_back(shared);
        true
    }

    pub fn contains(&self, request_no: &str) -> bool {
        self.seen.contains(request_no)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused_and_order_is_kept() {
        let mut nos = RequestNos::default();
        assert!(nos.insert("a".into()));
        assert!(nos.insert("b".into()));
        assert!(!nos.insert("a".into()));
        assert_eq!(nos.len(), 2);
        assert_eq!(
            serde_json::to_value(&nos).unwrap(),
            serde_json::json!(["a", "b"])
        );
    }

    #[test]
    fn the_oldest_is_forgotten_at_capacity() {
        let mut nos = RequestNos::default();
        for i in 0..=RequestNos::CAPACITY {
            assert!(nos.insert(format!("R{i}")));
        }
        assert_eq!(nos.len(), RequestNos::CAPACITY);
        assert!(!nos.contains("R0"), "the oldest is forgotten");
        assert!(nos.contains("R1") && nos.contains(&format!("R{}", RequestNos::CAPACITY)));
        assert!(
            !nos.insert("R1".into()),
            "a remembered one is still refused"
        );
        assert!(nos.insert("R0".into()), "a forgotten one is accepted again");
        assert!(!nos.contains("R1"), "which pushed out the next oldest");
    }
}
