//! The Whalet requestNos a partner has used (REQUEST_NO_NOT_UNIQUE), bounded: the oldest are
//! forgotten beyond [`RequestNos::CAPACITY`], so a long load test cannot grow memory without
//! limit. Serialised as the list of remembered numbers, oldest first.

use std::collections::{HashSet, VecDeque};

use serde::{Serialize, Serializer};

#[derive(Debug, Default)]
pub struct RequestNos {
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl RequestNos {
    /// RequestNos remembered per tenant (about 150 MB at the limit).
    pub const CAPACITY: usize = 1_000_000;

    /// Records `request_no`; false when it was already used (and still remembered).
    pub fn insert(&mut self, request_no: String) -> bool {
        if self.seen.contains(&request_no) {
            return false;
        }
        if self.order.len() >= Self::CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        self.seen.insert(request_no.clone());
        self.order.push_back(request_no);
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
        self.order.serialize(s)
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
}
