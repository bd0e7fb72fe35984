//! The request journal: every request the simulator answered, decrypted, with its reply, result
//! code, the diagnostic for failures and timing. Bounded; newest first on read.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;

use crate::clock::Millis;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    pub id: u64,
    /// `whalet`, `platform`, `infinia`, `pockyt`, `file`.
    pub surface: &'static str,
    /// `provider:id` when the caller was identified.
    pub tenant: Option<String>,
    /// apiCode or path.
    pub operation: String,
    pub request_no: Option<String>,
    pub virtual_time: Millis,
    pub wall_time: Millis,
    pub http_status: u16,
    /// The scheme's result code (`SUCCESS`, `000100`, `SUC-200`, ...).
    pub code: String,
    /// The reply's message / detail.
    pub detail: String,
    /// The decrypted request body, or the raw text when it could not be decrypted.
    pub request: Value,
    /// The reply body as the partner decrypts it.
    pub reply: Value,
    /// Which scenario rule decided the outcome, if any.
    pub rule: Option<String>,
    pub latency_us: u64,
}

/// What a journal query filters on.
#[derive(Debug, Default, Clone)]
pub struct JournalFilter {
    pub surface: Option<String>,
    pub tenant: Option<String>,
    pub partner_id: Option<String>,
    pub operation: Option<String>,
    pub code: Option<String>,
    pub limit: Option<usize>,
}

#[derive(Clone)]
pub struct Journal {
    entries: Arc<Mutex<VecDeque<JournalEntry>>>,
    next_id: Arc<AtomicU64>,
    capacity: usize,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Arc::new(Mutex::new(VecDeque::with_capacity(capacity.min(4096)))),
            next_id: Arc::new(AtomicU64::new(1)),
            capacity: capacity.max(1),
        }
    }

    /// Stores an entry (its `id` is assigned here) and returns the id.
    pub fn record(&self, mut entry: JournalEntry) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        entry.id = id;
        let evicted = {
            let mut entries = self.entries.lock();
            let evicted = if entries.len() == self.capacity {
                entries.pop_front()
            } else {
                None
            };
            entries.push_back(entry);
            evicted
        };
        // The oldest entry (two JSON trees) is freed after the lock is released.
        drop(evicted);
        id
    }

    /// Newest first.
    pub fn query(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        let entries = self.entries.lock();
        entries
            .iter()
            .rev()
            .filter(|e| filter.surface.as_deref().is_none_or(|s| e.surface == s))
            .filter(|e| {
                filter
                    .tenant
                    .as_deref()
                    .is_none_or(|t| e.tenant.as_deref() == Some(t))
            })
            .filter(|e| {
                filter.partner_id.as_deref().is_none_or(|p| {
                    e.tenant
                        .as_deref()
                        .and_then(|t| t.split_once(':'))
                        .map(|(_, id)| id)
                        == Some(p)
                })
            })
            .filter(|e| filter.operation.as_deref().is_none_or(|o| e.operation == o))
            .filter(|e| filter.code.as_deref().is_none_or(|c| e.code == c))
            .take(filter.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }

    pub fn get(&self, id: u64) -> Option<JournalEntry> {
        self.entries.lock().iter().find(|e| e.id == id).cloned()
    }

    pub fn clear(&self) {
        self.entries.lock().clear();
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
