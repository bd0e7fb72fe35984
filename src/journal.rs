//! The request journal: every request the simulator answered, decrypted, with its reply, result
//! code, the diagnostic for failures and timing. Newest first on read.
//!
//! Bounded three ways (docs/RELIABILITY.md): at most `[journal] capacity` entries; every field of
//! an entry cut at `[journal] max_field_bytes` when it is recorded (with `… N more bytes`); and
//! at most `[journal] max_bytes` in all, counted as the entries' JSON, which is what
//! `GET /__sim/requests` returns. The byte count is kept as entries come and go (no rescan).

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::{format, Millis};
use crate::config::JournalConfig;
use crate::text::{bound_string, ECHO_BYTES};

/// The largest journal id: the data directory stores ids as SQLite integers (signed 64-bit), as
/// it does notification numbers ([`crate::notify::MAX_SEQ`]). A snapshot's id past it is refused;
/// the journal gives none past it (it numbers its entries again from 1 instead).
pub const MAX_ID: u64 = i64::MAX as u64;

/// Bytes of the listing that are not entries: `{"requests":[` … `],"more":false}`, with room to
/// spare.
const LISTING_OVERHEAD: usize = 32;

/// One answered request. Its JSON (the listing, one entry, the size the journal counts) is in
/// camelCase with both forms of each time: `virtualTime`/`wallTime` in epoch ms and
/// `virtualTimeUtc`/`wallTimeUtc` in ISO-8601 UTC, and `failed` ([`JournalEntry::failed`]: the
/// dashboard marks failures by it) (see the `Serialize` impl below).
#[derive(Debug, Clone)]
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

impl Serialize for JournalEntry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.write(s, |ms| format::utc_z(ms).into())
    }
}

/// An entry as its JSON is long, with each UTC time a text of the same length as the time's
/// (`0000-00-00T00:00:00Z` for the years 0 to 9999, which is every time the clock reaches):
/// what [`Journal::record`] counts, without writing out two dates for every request.
struct Measured<'e>(&'e JournalEntry);

impl Serialize for Measured<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z, in ms since 1970.
        const YEARS_0_TO_9999: std::ops::RangeInclusive<Millis> =
            -62_167_219_200_000..=253_402_300_799_999;
        self.0.write(s, |ms| match YEARS_0_TO_9999.contains(&ms) {
            true => "0000-00-00T00:00:00Z".into(),
            false => format::utc_z(ms).into(),
        })
    }
}

impl JournalEntry {
    /// The entry's JSON, its two UTC times written by `utc`.
    fn write<S: serde::Serializer>(
        &self,
        s: S,
        utc: impl Fn(Millis) -> std::borrow::Cow<'static, str>,
    ) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("JournalEntry", 17)?;
        m.serialize_field("id", &self.id)?;
        m.serialize_field("surface", self.surface)?;
        m.serialize_field("tenant", &self.tenant)?;
        m.serialize_field("operation", &self.operation)?;
        m.serialize_field("requestNo", &self.request_no)?;
        m.serialize_field("virtualTime", &self.virtual_time)?;
        m.serialize_field("virtualTimeUtc", &utc(self.virtual_time))?;
        m.serialize_field("wallTime", &self.wall_time)?;
        m.serialize_field("wallTimeUtc", &utc(self.wall_time))?;
        m.serialize_field("httpStatus", &self.http_status)?;
        m.serialize_field("code", &self.code)?;
        m.serialize_field("failed", &self.failed())?;
        m.serialize_field("detail", &self.detail)?;
        m.serialize_field("request", &self.request)?;
        m.serialize_field("reply", &self.reply)?;
        m.serialize_field("rule", &self.rule)?;
        m.serialize_field("latencyUs", &self.latency_us)?;
        m.end()
    }
}

/// The result codes of a request that succeeded (or was accepted): each scheme's success
/// (`SUCCESS`, Infinia's `SUC-200`, Pockyt's `000100`), Whalet's `PROCESSING`, and `OK`, a
/// trigger the simulator carried out.
const SUCCESS_CODES: [&str; 5] = ["SUCCESS", "PROCESSING", "SUC-200", "000100", "OK"];

impl JournalEntry {
    /// An entry of something that happened without a request of the partner's (an SFTP upload's
    /// outcome, an upload a restart or an import ended): no requestNo, HTTP status or reply.
    pub fn event(
        (surface, tenant, operation): (&'static str, &str, &str),
        virtual_time: Millis,
        (code, detail): (&str, &str),
        request: Value,
    ) -> Self {
        JournalEntry {
            id: 0,
            surface,
            tenant: Some(tenant.to_owned()),
            operation: operation.to_owned(),
            request_no: None,
            virtual_time,
            wall_time: crate::clock::system_now(),
            http_status: 0,
            code: code.to_owned(),
            detail: detail.to_owned(),
            request,
            reply: Value::Null,
            rule: None,
            latency_us: 0,
        }
    }

    /// Whether the request failed: any code but the successful ones, or an HTTP status of 400
    /// or more. The one rule for `GET /__sim/requests?failed=true` and the dashboard's marks.
    pub fn failed(&self) -> bool {
        !SUCCESS_CODES.contains(&self.code.as_str()) || self.http_status >= 400
    }
}

/// A journal entry read back; the surface is one of the names the simulator records. A field
/// the simulator does not write is refused (a misspelt `requestNO` would otherwise be dropped
/// without a word); the derived fields it writes (`virtualTimeUtc`, `wallTimeUtc`, `failed`) are
/// accepted and computed again.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StoredEntry {
    id: u64,
    surface: String,
    tenant: Option<String>,
    operation: String,
    request_no: Option<String>,
    virtual_time: Millis,
    wall_time: Millis,
    http_status: u16,
    code: String,
    detail: String,
    request: Value,
    reply: Value,
    rule: Option<String>,
    latency_us: u64,
    #[serde(default, rename = "virtualTimeUtc")]
    _virtual_time_utc: serde::de::IgnoredAny,
    #[serde(default, rename = "wallTimeUtc")]
    _wall_time_utc: serde::de::IgnoredAny,
    #[serde(default, rename = "failed")]
    _failed: serde::de::IgnoredAny,
}

/// The names an entry's `surface` takes (what `GET /__sim/requests?surface=` accepts).
pub const SURFACES: [&str; 6] = ["whalet", "platform", "infinia", "pockyt", "file", "trigger"];

impl StoredEntry {
    fn into_entry(self) -> JournalEntry {
        JournalEntry {
            id: self.id,
            surface: SURFACES
                .iter()
                .find(|s| **s == self.surface)
                .copied()
                .unwrap_or("other"),
            tenant: self.tenant,
            operation: self.operation,
            request_no: self.request_no,
            virtual_time: self.virtual_time,
            wall_time: self.wall_time,
            http_status: self.http_status,
            code: self.code,
            detail: self.detail,
            request: self.request,
            reply: self.reply,
            rule: self.rule,
            latency_us: self.latency_us,
        }
    }
}

/// What a journal query filters on.
#[derive(Debug, Default, Clone)]
pub struct JournalFilter {
    pub surface: Option<String>,
    pub tenant: Option<String>,
    pub partner_id: Option<String>,
    pub operation: Option<String>,
    pub code: Option<String>,
    /// Only the entries that [failed](JournalEntry::failed).
    pub failed: bool,
    /// Only the entries older than this id (the next page of a listing).
    pub before: Option<u64>,
    pub limit: Option<usize>,
}

impl JournalFilter {
    /// Whether `e` passes every filter but `limit`.
    fn matches(&self, e: &JournalEntry) -> bool {
        let tenant_id = || {
            e.tenant
                .as_deref()
                .and_then(|t| t.split_once(':'))
                .map(|(_, id)| id)
        };
        self.surface.as_deref().is_none_or(|s| e.surface == s)
            && self
                .tenant
                .as_deref()
                .is_none_or(|t| e.tenant.as_deref() == Some(t))
            && self
                .partner_id
                .as_deref()
                .is_none_or(|p| tenant_id() == Some(p))
            && self.operation.as_deref().is_none_or(|o| e.operation == o)
            && self.code.as_deref().is_none_or(|c| e.code == c)
            && (!self.failed || e.failed())
            && self.before.is_none_or(|b| e.id < b)
    }
}

/// One page of a journal query: the entries, newest first, and whether more entries match
/// beyond it (the next page is `before` the oldest id of this one). It is the listing's JSON.
#[derive(Debug, Serialize)]
pub struct JournalPage {
    pub requests: Vec<JournalEntry>,
    pub more: bool,
}

#[derive(Clone)]
pub struct Journal {
    entries: Arc<Mutex<Entries>>,
    next_id: Arc<AtomicU64>,
    /// Bumped when entries go other than by the bounds (a clear, a restore) or are numbered
    /// again: the data directory then writes its journal table afresh ([`Journal::generation`]).
    generation: Arc<AtomicU64>,
    capacity: usize,
    max_field_bytes: usize,
    /// What the entries may take in all (each entry's JSON plus its separating comma).
    budget: usize,
}

/// The entries, each with its size, and the running total of the sizes.
#[derive(Default)]
struct Entries {
    list: VecDeque<(usize, JournalEntry)>,
    bytes: usize,
}

impl Journal {
    /// A journal with the bounds of `[journal]`. Bounds that [`JournalConfig::check`] refuses
    /// (when the configuration is read) are adjusted here: the field bound is lowered until one
    /// entry fits in `max_bytes`.
    pub fn new(config: &JournalConfig) -> Self {
        let capacity = config.capacity.max(1);
        let max_bytes = config
            .max_bytes
            .max(JournalConfig::min_max_bytes(ECHO_BYTES));
        let max_field_bytes = config.max_field_bytes.clamp(
            ECHO_BYTES,
            (max_bytes - JournalConfig::ENTRY_OVERHEAD) / JournalConfig::FIELDS_PER_ENTRY,
        );
        Self {
            entries: Arc::new(Mutex::new(Entries {
                list: VecDeque::with_capacity(capacity.min(4096)),
                bytes: 0,
            })),
            next_id: Arc::new(AtomicU64::new(1)),
            generation: Arc::new(AtomicU64::new(0)),
            capacity,
            max_field_bytes,
            budget: max_bytes - LISTING_OVERHEAD,
        }
    }

    /// Stores an entry (its `id` is assigned here) and returns the id. Its fields are cut to
    /// `max_field_bytes` (so that it fits in `max_bytes` by itself); the oldest entries are
    /// dropped while there are more than `capacity` or they take more than `max_bytes`.
    ///
    /// The id is taken under the entries' lock, so the list is in id order whatever the number
    /// of requests recorded at once: a snapshot's journal and the data directory's rows
    /// ([`Journal::since`]) rely on it. Past [`MAX_ID`] (only after a snapshot that brought ids
    /// near it) the entries kept are numbered again from 1 and the new one follows them.
    pub fn record(&self, mut entry: JournalEntry) -> u64 {
        entry.id = 0;
        // Its JSON and the comma that separates it from the next in the listing, with the one
        // digit of id 0 replaced by the real id's below.
        let size = bound_fields(&mut entry, self.max_field_bytes);
        let (id, evicted) = {
            let mut entries = self.entries.lock();
            let id = match self.next_id.fetch_add(1, Ordering::Relaxed) {
                id if id <= MAX_ID => id,
                _ => self.renumber(&mut entries),
            };
            entry.id = id;
            let size = size + digits(id);
            entries.bytes += size;
            entries.list.push_back((size, entry));
            let mut evicted = Vec::new();
            while entries.list.len() > 1
                && (entries.list.len() > self.capacity || entries.bytes > self.budget)
            {
                if let Some((old_size, old)) = entries.list.pop_front() {
                    entries.bytes -= old_size;
                    evicted.push(old);
                }
            }
            (id, evicted)
        };
        // The oldest entries (two JSON trees each) are freed after the lock is released.
        drop(evicted);
        id
    }

    /// Numbers the entries kept 1, 2, … (oldest first, their sizes following their ids' digits)
    /// and returns the id of the next one, the journal's ids having run past [`MAX_ID`].
    fn renumber(&self, entries: &mut Entries) -> u64 {
        let mut bytes = 0;
        for ((size, e), id) in entries.list.iter_mut().zip(1..) {
            *size = *size - digits(e.id) + digits(id);
            e.id = id;
            bytes += *size;
        }
        entries.bytes = bytes;
        let id = entries.list.len() as u64 + 1;
        self.next_id.store(id + 1, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::AcqRel);
        id
    }

    /// The bytes the entries take as JSON (what the listing of all of them costs, less its
    /// wrapper).
    pub fn bytes(&self) -> usize {
        self.entries.lock().bytes
    }

    /// The entries matching `filter`, newest first, at most `limit` of them, and whether more
    /// match.
    pub fn query(&self, filter: &JournalFilter) -> JournalPage {
        let limit = filter.limit.unwrap_or(usize::MAX);
        let entries = self.entries.lock();
        let mut matching = entries
            .list
            .iter()
            .rev()
            .map(|(_, e)| e)
            .filter(|e| filter.matches(e));
        let requests: Vec<JournalEntry> = matching.by_ref().take(limit).cloned().collect();
        let more = matching.next().is_some();
        JournalPage { requests, more }
    }

    pub fn get(&self, id: u64) -> Option<JournalEntry> {
        self.entries
            .lock()
            .list
            .iter()
            .find(|(_, e)| e.id == id)
            .map(|(_, e)| e.clone())
    }

    /// Drops every entry; ids go on from the last one. The data directory sees it by
    /// [`Journal::generation`].
    pub fn clear(&self) {
        let old = {
            let mut entries = self.entries.lock();
            self.generation.fetch_add(1, Ordering::AcqRel);
            std::mem::take(&mut *entries)
        };
        drop(old);
    }

    /// Ids go on after `last` (the data directory's record of the last id given, which a clear
    /// that left no entry does not lose) when they would not already: never lowered.
    pub fn go_on_after(&self, last: u64) {
        self.next_id
            .fetch_max(last.min(MAX_ID) + 1, Ordering::AcqRel);
    }

    /// How many times entries went other than by the bounds (a clear, a restore) or were
    /// numbered again: one atomic read, for the data directory's check before every reply.
    /// When it moved, the entries [`Journal::since`] 0 are the whole journal to write.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The id of the newest entry ever recorded (0: none yet).
    pub fn last_id(&self) -> u64 {
        self.next_id.load(Ordering::Acquire).saturating_sub(1)
    }

    /// The entries newer than `after_id`, oldest first, as their JSON text, and the id of the
    /// oldest entry kept (the data directory appends the first and forgets older rows).
    pub fn since(&self, after_id: u64) -> (Vec<(u64, String)>, Option<u64>) {
        let entries = self.entries.lock();
        let oldest = entries.list.front().map(|(_, e)| e.id);
        let fresh = entries
            .list
            .iter()
            .filter(|(_, e)| e.id > after_id)
            .map(|(_, e)| (e.id, serde_json::to_string(e).unwrap_or_default()))
            .collect();
        (fresh, oldest)
    }

    /// Replaces the entries with `entries` (JSON, oldest first: a snapshot's or the data
    /// directory's), within the configured bounds; ids go on after the newest. A field the
    /// simulator does not write is refused, naming it. Ids must increase from one entry to the next,
    /// as [`Journal::record`] gives them: an id repeated or out of order is refused (naming its
    /// place, `journal[2]`), since the data directory keeps one row per id, in id order; so is an
    /// id past [`MAX_ID`]. Nothing changes when it is refused.
    pub fn restore(&self, entries: Vec<Value>) -> Result<usize, String> {
        let mut read: Vec<JournalEntry> = Vec::with_capacity(entries.len());
        for (i, value) in entries.into_iter().enumerate() {
            let e: StoredEntry = serde_json::from_value(value)
                .map_err(|e| format!("journal[{i}]: journal entry: {e}"))?;
            let entry = e.into_entry();
            increasing_id(&read, &entry).map_err(|e| format!("journal[{i}]: {e}"))?;
            read.push(entry);
        }
        // Ids increase and none is past MAX_ID, so the next one is at most MAX_ID + 1.
        let next = read
            .last()
            .map_or(Some(1), |e| e.id.checked_add(1))
            .ok_or_else(|| format!("journal: ids run past {MAX_ID}"))?;
        self.clear();
        let count = read.len();
        for entry in read {
            self.next_id.store(entry.id, Ordering::Release);
            self.record(entry);
        }
        self.next_id.store(next, Ordering::Release);
        Ok(count)
    }

    pub fn len(&self) -> usize {
        self.entries.lock().list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Refuses `entry` when its id is not above the id of the entry before it (`read`, oldest
/// first, each above the one before): ids start at 1 and increase, up to [`MAX_ID`].
fn increasing_id(read: &[JournalEntry], entry: &JournalEntry) -> Result<(), String> {
    let id = entry.id;
    if id == 0 {
        return Err("id 0: journal ids start at 1".to_owned());
    }
    if id > MAX_ID {
        return Err(format!(
            "id {id} is past {MAX_ID}, the largest journal id the data dir stores (a signed \
             64-bit integer); give it a smaller one"
        ));
    }
    let Some(before) = read.last().filter(|before| before.id >= id) else {
        return Ok(());
    };
    match read.iter().position(|e| e.id == id) {
        Some(j) => Err(format!(
            "id {id} is also journal[{j}]'s; each entry has its own id"
        )),
        None => Err(format!(
            "id {id} comes after id {}; entries are oldest first, ids increasing",
            before.id
        )),
    }
}

/// Cuts every field of `entry` that came from outside to `max` bytes: texts by their bytes, a
/// request or reply body by its JSON (a body too long is kept as the start of its JSON text).
/// Returns the length of the entry's JSON, each body serialized once.
fn bound_fields(entry: &mut JournalEntry, max: usize) -> usize {
    for text in [&mut entry.operation, &mut entry.code, &mut entry.detail] {
        bound_string(text, max);
    }
    for text in [&mut entry.tenant, &mut entry.request_no, &mut entry.rule]
        .into_iter()
        .flatten()
    {
        bound_string(text, max);
    }
    let bodies = bound_value(&mut entry.request, max) + bound_value(&mut entry.reply, max);
    // The rest of the entry, with `null` standing in for the two bodies.
    let request = std::mem::take(&mut entry.request);
    let reply = std::mem::take(&mut entry.reply);
    let rest = json_len(&Measured(entry)) - 2 * "null".len();
    entry.request = request;
    entry.reply = reply;
    rest + bodies
}

/// The length of `n` written in decimal (its JSON).
fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Cuts `value` to `max` bytes and returns the length of its JSON.
fn bound_value(value: &mut Value, max: usize) -> usize {
    if let Value::String(text) = value {
        bound_string(text, max);
        return json_len(value);
    }
    let len = json_len(value);
    if len <= max {
        return len;
    }
    let mut text = serde_json::to_string(value).unwrap_or_default();
    bound_string(&mut text, max);
    *value = Value::String(text);
    json_len(value)
}

/// The length of `value`'s JSON, counted without building it.
fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config(capacity: usize, max_field_bytes: usize, max_bytes: usize) -> JournalConfig {
        JournalConfig {
            capacity,
            max_field_bytes,
            max_bytes,
        }
    }

    fn entry(detail: &str, request: Value) -> JournalEntry {
        JournalEntry {
            id: 0,
            surface: "whalet",
            tenant: Some("whalet:p1".into()),
            operation: "connectivity".into(),
            request_no: Some("R1".into()),
            virtual_time: 0,
            wall_time: 0,
            http_status: 200,
            code: "SUCCESS".into(),
            detail: detail.into(),
            request,
            reply: Value::Null,
            rule: None,
            latency_us: 0,
        }
    }

    /// The listing as the control plane serializes it.
    fn listing_len(journal: &Journal) -> usize {
        serde_json::to_vec(&journal.query(&JournalFilter::default()))
            .unwrap()
            .len()
    }

    /// The count of an entry's bytes, which stands a text of the same length in for each UTC
    /// time, is its JSON's length at every time: the calendar's years 0 to 9999 and beyond.
    #[test]
    fn an_entrys_bytes_are_counted_exactly_at_any_time() {
        let times = [
            0,
            1_765_000_000_123,
            -1,
            -62_167_219_200_000,
            -62_167_219_200_001,
            253_402_300_799_999,
            253_402_300_800_000,
            i64::MAX,
            i64::MIN,
        ];
        for (virtual_time, wall_time) in times.iter().zip(times.iter().rev()) {
            let journal = Journal::new(&config(10, 1024, 1 << 20));
            let mut e = entry("d", json!({"n": 1}));
            (e.virtual_time, e.wall_time) = (*virtual_time, *wall_time);
            journal.record(e);
            let all = journal.query(&JournalFilter::default()).requests;
            assert_eq!(
                journal.bytes(),
                json_len(&all[0]) + 1,
                "{virtual_time} {wall_time}"
            );
        }
    }

    #[test]
    fn the_journal_is_bounded_in_bytes_and_drops_the_oldest() {
        let max_bytes = 64 * 1024;
        let journal = Journal::new(&config(10_000, 1024, max_bytes));
        for i in 0..200 {
            journal.record(entry(&format!("{i}:{}", "d".repeat(900)), json!({"n": i})));
            assert!(
                journal.bytes() <= max_bytes,
                "after {i}: {}",
                journal.bytes()
            );
            assert!(listing_len(&journal) <= max_bytes);
        }
        // Far fewer than the 200 recorded (the entry-count bound is 10,000), the newest kept.
        let kept = journal.len();
        assert!((10..200).contains(&kept), "{kept} entries kept");
        let all = journal.query(&JournalFilter::default()).requests;
        assert_eq!(all[0].request["n"], 199);
        assert_eq!(all[kept - 1].request["n"], 200 - kept as i64);
        // The running count is exactly the entries' JSON plus one comma each, and the journal
        // is as full as the bound allows (one more entry would not fit).
        let exact: usize = all.iter().map(|e| json_len(e) + 1).sum();
        assert_eq!(journal.bytes(), exact);
        assert!(exact + json_len(&all[0]) + 1 > max_bytes - LISTING_OVERHEAD);
        assert_eq!(
            listing_len(&journal),
            exact - 1 + r#"{"requests":[],"more":false}"#.len()
        );
        journal.clear();
        assert_eq!((journal.len(), journal.bytes()), (0, 0));
    }

    /// Regression: ids were taken before the lock, so requests recorded at once were kept out
    /// of id order; a snapshot of that journal was refused on import, and the data directory,
    /// which appends the entries past the last id it wrote, skipped the late ones.
    #[test]
    fn entries_recorded_at_once_are_kept_in_id_order() {
        let journal = Journal::new(&config(100_000, 1024, 64 * 1024 * 1024));
        std::thread::scope(|s| {
            for t in 0..4 {
                let journal = &journal;
                s.spawn(move || {
                    for i in 0..2_000 {
                        journal.record(entry("d", json!({"t": t, "i": i})));
                    }
                });
            }
        });
        let (rows, oldest) = journal.since(0);
        let ids: Vec<u64> = rows.iter().map(|(id, _)| *id).collect();
        let misplaced = ids.iter().zip(1..).find(|(id, at)| **id != *at);
        assert_eq!((ids.len(), misplaced), (8_000, None), "(id, place)");
        assert_eq!(oldest, Some(1));
        let exact: usize = rows.iter().map(|(_, json)| json.len() + 1).sum();
        assert_eq!(journal.bytes(), exact);
    }

    #[test]
    fn every_field_is_cut_with_a_marker() {
        let journal = Journal::new(&config(100, 1024, 64 * 1024));
        let mut e = entry(&"é".repeat(5000), json!({"big": "x".repeat(50_000)}));
        e.reply = Value::String("r".repeat(10_000));
        e.request_no = Some("n".repeat(2000));
        let id = journal.record(e);
        let got = journal.get(id).unwrap();
        assert!(got.detail.len() <= 1024 && got.detail.ends_with(" more bytes"));
        assert!(got.detail.starts_with("éé"));
        let request = got
            .request
            .as_str()
            .expect("a body too long is kept as text");
        assert!(request.starts_with(r#"{"big":"xxx"#), "{request:.40}");
        assert!(request.len() <= 1024 && request.ends_with(" more bytes"));
        let reply = got.reply.as_str().unwrap();
        let kept = reply.find('…').unwrap();
        assert!(reply.len() <= 1024 && kept > 1000, "{reply}");
        assert_eq!(reply[kept..], format!("… {} more bytes", 10_000 - kept));
        assert!(got.request_no.unwrap().len() <= 1024);
        // Small fields and bodies are kept as they are.
        let id = journal.record(entry("ok", json!({"a": 1})));
        let got = journal.get(id).unwrap();
        assert_eq!(got.detail, "ok");
        assert_eq!(got.request, json!({"a": 1}));
    }

    #[test]
    fn an_entry_of_escapes_still_fits() {
        // A control character is one byte of text but six of JSON (\u0001): the bounds hold
        // for the worst entry the field bound allows.
        let max_bytes = 64 * 1024;
        let journal = Journal::new(&config(100, 1024, max_bytes));
        journal.record(entry("ok", Value::Null));
        let nasty = "\u{1}".repeat(10_000);
        let mut e = entry(&nasty, Value::String(nasty.clone()));
        e.reply = Value::String(nasty.clone());
        e.operation = nasty.clone();
        e.code = nasty.clone();
        e.tenant = Some(nasty.clone());
        e.request_no = Some(nasty.clone());
        e.rule = Some(nasty);
        let id = journal.record(e);
        assert!(journal.get(id).is_some());
        assert!(journal.bytes() <= max_bytes);
        assert!(listing_len(&journal) <= max_bytes);
    }

    #[test]
    fn a_field_bound_too_large_for_max_bytes_is_lowered() {
        let journal = Journal::new(&config(100, 1 << 20, 64 * 1024));
        assert!(journal.max_field_bytes * JournalConfig::FIELDS_PER_ENTRY < 64 * 1024);
        let id = journal.record(entry(&"\u{1}".repeat(100_000), Value::Null));
        assert!(journal.get(id).is_some());
        assert!(listing_len(&journal) <= 64 * 1024);
    }

    #[test]
    fn the_entry_count_bound_still_holds() {
        let journal = Journal::new(&config(3, 4096, 1 << 20));
        for i in 0..5 {
            journal.record(entry("", json!(i)));
        }
        assert_eq!(journal.len(), 3);
        let all = journal.query(&JournalFilter::default()).requests;
        let requests: Vec<Value> = all.iter().map(|e| e.request.clone()).collect();
        assert_eq!(requests, [json!(4), json!(3), json!(2)]);
        let exact: usize = all.iter().map(|e| json_len(e) + 1).sum();
        assert_eq!(journal.bytes(), exact);
    }

    #[test]
    fn failed_before_and_more_page_through_the_failures() {
        let journal = Journal::new(&config(100, 4096, 1 << 20));
        for (code, status) in [
            ("SUCCESS", 200),
            ("PARAMETER_ERROR", 200),
            ("000100", 200),
            ("SUCCESS", 500),
            ("OK", 200),
            ("SYS-005", 200),
        ] {
            let mut e = entry("", Value::Null);
            e.code = code.into();
            e.http_status = status;
            journal.record(e);
        }
        let ids = |page: &JournalPage| page.requests.iter().map(|e| e.id).collect::<Vec<_>>();
        let mut filter = JournalFilter {
            failed: true,
            limit: Some(2),
            ..Default::default()
        };
        let first = journal.query(&filter);
        assert_eq!((ids(&first), first.more), (vec![6, 4], true));
        filter.before = Some(4);
        let second = journal.query(&filter);
        assert_eq!((ids(&second), second.more), (vec![2], false));
        let all = journal.query(&JournalFilter::default());
        assert_eq!((all.requests.len(), all.more), (6, false));
        let json = serde_json::to_value(&all.requests[0]).unwrap();
        assert_eq!(json["failed"], true);
    }

    /// A journal of two entries, and the entries as a snapshot holds them.
    fn two_entries() -> (Journal, Vec<Value>) {
        let journal = Journal::new(&config(100, 4096, 1 << 20));
        for i in 0..2 {
            journal.record(entry("", json!(i)));
        }
        let (rows, _) = journal.since(0);
        let values = rows
            .iter()
            .map(|(_, text)| serde_json::from_str(text).unwrap())
            .collect();
        (journal, values)
    }

    /// Ids come back as they were given: one repeated or out of order is refused, naming its
    /// place, and the journal is left as it was.
    #[test]
    fn a_restore_with_an_id_repeated_or_out_of_order_is_refused() {
        let (journal, mut values) = two_entries();
        values.push(values[0].clone());
        let e = journal.restore(values.clone()).unwrap_err();
        assert_eq!(
            e,
            "journal[2]: id 1 is also journal[0]'s; each entry has its own id"
        );
        values[2]["id"] = json!(0);
        let e = journal.restore(values.clone()).unwrap_err();
        assert_eq!(e, "journal[2]: id 0: journal ids start at 1");
        values.swap(0, 1);
        values.pop();
        let e = journal.restore(values).unwrap_err();
        assert!(e.starts_with("journal[1]: id 1 comes after id 2"), "{e}");
        assert_eq!(journal.len(), 2);
    }

    /// Ids are bounded by what the data directory stores: one past [`MAX_ID`] is refused
    /// (nothing changed); after [`MAX_ID`] itself the entries are numbered again from 1, their
    /// byte count following, and the data directory is told by the generation.
    #[test]
    fn ids_stay_within_max_id() {
        let (journal, mut values) = two_entries();
        for huge in [MAX_ID + 1, u64::MAX] {
            values[1]["id"] = json!(huge);
            let e = journal.restore(values.clone()).unwrap_err();
            assert!(
                e.starts_with(&format!("journal[1]: id {huge} is past {MAX_ID}")),
                "{e}"
            );
            assert_eq!((journal.len(), journal.last_id()), (2, 2));
        }
        values[0]["id"] = json!(MAX_ID - 1);
        values[1]["id"] = json!(MAX_ID);
        journal.restore(values).unwrap();
        assert_eq!(journal.last_id(), MAX_ID);
        let generation = journal.generation();
        let id = journal.record(entry("", json!(2)));
        assert_eq!(id, 3);
        assert_ne!(journal.generation(), generation, "the data dir rewrites");
        let all = journal.query(&JournalFilter::default()).requests;
        let ids: Vec<u64> = all.iter().map(|e| e.id).collect();
        assert_eq!(ids, [3, 2, 1]);
        let exact: usize = all.iter().map(|e| json_len(e) + 1).sum();
        assert_eq!(journal.bytes(), exact);
        assert_eq!(journal.record(entry("", json!(3))), 4);
    }

    #[test]
    fn a_clear_moves_the_generation() {
        let journal = Journal::new(&config(100, 4096, 1 << 20));
        journal.record(entry("", Value::Null));
        let generation = journal.generation();
        journal.clear();
        assert_ne!(journal.generation(), generation);
        assert_eq!(journal.last_id(), 1, "ids go on after a clear");
    }
}
