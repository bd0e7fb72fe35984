//! State of one Infinia Pay app (plain data): seller bindings and seller status, the app's SFTP
//! folders (file bytes kept in memory, not serialised), trade-details uploads and the trades they
//! brought in, and revenue sharings. Money moves only through the tenant's ledger:
//! `external:infinia:funding` → `infinia:platform` → `infinia:sharing:{requestNo}` →
//! `infinia:seller:{sellerId}` (or back to the platform when a sharing fails).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Millis;
use crate::money::Money;
use crate::store::{Refusal, Rows};

/// The platform's own account in the ledger.
pub const PLATFORM_ACCOUNT: &str = "infinia:platform";
/// Where funding comes from (outside the simulator).
pub const FUNDING_ACCOUNT: &str = "external:infinia:funding";

pub fn seller_account(seller_id: &str) -> String {
    format!("infinia:seller:{seller_id}")
}

pub fn sharing_account(request_no: &str) -> String {
    format!("infinia:sharing:{request_no}")
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfiniaState {
    /// The opening balances have been posted (again after a reset).
    pub opened: bool,
    /// Account-binding requests by requestNo, each with its place in the order they were
    /// created ([`Binding::created_seq`]; numbered when loaded if a record has none).
    #[serde(deserialize_with = "numbered_bindings")]
    pub bindings: BTreeMap<String, Binding>,
    /// Bound sellers by sellerId.
    pub sellers: BTreeMap<String, Seller>,
    /// The SFTP folders: absolute path → file.
    pub files: BTreeMap<String, StoredFile>,
    /// Trade-details files by file name (as uploaded to `/upload`).
    pub uploads: BTreeMap<String, Upload>,
    /// Accepted trade rows by tradeNo (at most `[infinia] max_trades`). A [`Rows`]: the data
    /// directory writes them again only when they changed.
    pub trades: Rows<String, Trade>,
    /// Revenue earned from processed trade details: sellerId → currency → minor units.
    pub earned: BTreeMap<String, BTreeMap<String, i64>>,
    /// Revenue sharings by requestNo.
    pub sharings: BTreeMap<String, Sharing>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BindingStatus {
    /// The link was issued; the seller has not decided.
    Pending,
    Bound,
    Rejected,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    pub request_no: String,
    pub seller_id: String,
    /// The business fields as read (`api::infinia::fields::content`; a record of an older
    /// simulator holds the body as sent): what the idempotency of its requestNo compares.
    pub request: Value,
    pub token: String,
    pub redirect_url: String,
    pub status: BindingStatus,
    pub reason: Option<String>,
    pub created_at: Millis,
    /// Its place in the order the app's bindings were created (1, 2, ...): what "the seller's
    /// latest binding" means ([`InfiniaState::latest_binding`]), whatever the virtual clock said
    /// (two bindings can be made at one instant) or however their requestNos sort. A record of
    /// an older simulator has none (0); it gets one when loaded ([`numbered_bindings`]).
    #[serde(default)]
    pub created_seq: u64,
    pub decided_at: Option<Millis>,
    /// How the seller status notification of this binding behaves (the deciding scenario rule's
    /// `[rule.then.notify]`), however the seller decides.
    pub notify: crate::behaviour::NotifyBehaviour,
}

word_enum! {
    /// Whether a bound seller may receive revenue sharing (seller status notifications).
    SellerStatus {
        Active = "ACTIVE",
        Frozen = "FROZEN",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seller {
    pub seller_id: String,
    pub status: SellerStatus,
    pub binding_request_no: String,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredFile {
    #[serde(
        default,
        skip_serializing_if = "super::persist::omit",
        serialize_with = "super::persist::bytes_b64",
        deserialize_with = "super::persist::vec_b64"
    )]
    pub data: Vec<u8>,
    pub size: u64,
    pub modified_at: Millis,
    /// Open for writing by an SFTP session (never processed while true).
    pub writing: bool,
    /// Which file this is ([`FileSerial`]); not saved.
    #[serde(skip)]
    pub serial: FileSerial,
}

/// A stored file told apart from every other file of the process, past or future, whatever
/// name it has or takes: every new file gets a new serial (so does every file read from a
/// snapshot or the data directory), and a rename keeps it. What an SFTP handle opened is the
/// file of its serial: a file that replaced it under the name, by a reset, an import or a
/// report written again, is another (`sftp::open`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSerial(u64);

impl Default for FileSerial {
    /// A serial no file had before.
    fn default() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        FileSerial(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UploadStatus {
    Processing,
    Success,
    PartiallyFailed,
    Failed,
    /// The upload was interrupted (the session ended with the file still open): not processed.
    Incomplete,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Upload {
    pub file_name: String,
    pub status: UploadStatus,
    pub received_at: Millis,
    pub processed_at: Option<Millis>,
    pub total_rows: u64,
    pub success_rows: u64,
    pub failed_rows: u64,
    /// SFTP path of the error file, when rows failed.
    pub error_file: Option<String>,
    /// Why the whole file failed (bad header, empty, not UTF-8), or was not processed.
    pub reason: Option<String>,
    /// Tells a newer upload of the same name from an older one.
    #[serde(default, skip_serializing_if = "super::persist::omit")]
    pub generation: u64,
}

impl Upload {
    /// The record of upload `name` when it arrives (or is given up): `status`, `reason`, no
    /// rows counted yet.
    pub fn received(
        name: &str,
        status: UploadStatus,
        now: Millis,
        generation: u64,
        reason: Option<String>,
    ) -> Self {
        Self {
            file_name: name.to_owned(),
            status,
            received_at: now,
            processed_at: None,
            total_rows: 0,
            success_rows: 0,
            failed_rows: 0,
            error_file: None,
            reason,
            generation,
        }
    }

    /// The report (`/error` or `/result`) an earlier upload of `name` left, while it is still in
    /// `files`: a new upload of the name that is not processed (yet, or ever: `PROCESSING`,
    /// `INCOMPLETE`) keeps naming it as its `errorFile`, since only processing the name again
    /// replaces or drops it (docs/INFINIA.md); a report removed over SFTP is no longer named.
    pub fn report_left(
        (uploads, files): (&BTreeMap<String, Upload>, &BTreeMap<String, StoredFile>),
        name: &str,
    ) -> Option<String> {
        let path = uploads.get(name)?.error_file.clone()?;
        files.contains_key(&path).then_some(path)
    }

    /// Ends upload `name` of an account (its `uploads` and `files`: an Infinia app's trade
    /// details, a whalet-platform partner's trade materials) INCOMPLETE with `reason` at `now`:
    /// the session writing its file is gone (it ended, a write was refused, the simulator
    /// stopped, a snapshot caught the file mid-write), so what the file holds is never processed.
    /// A new record of `generation` replaces the one before whatever its status (its result was
    /// about content the file no longer holds; a processing timer of the one before runs as
    /// nothing). It keeps naming the report an earlier upload of the name left while that is
    /// still there: only processing the name again replaces it. The one way an upload ends so
    /// (`sftp::process`, and a restart's or an import's `persist::check`).
    pub fn end_incomplete(
        (uploads, files): (&mut BTreeMap<String, Upload>, &BTreeMap<String, StoredFile>),
        name: &str,
        (now, generation): (Millis, u64),
        reason: String,
    ) {
        let report = Upload::report_left((&*uploads, files), name);
        let status = UploadStatus::Incomplete;
        let mut upload = Upload::received(name, status, now, generation, Some(reason));
        upload.error_file = report;
        uploads.insert(name.to_owned(), upload);
    }
}

word_enum! {
    /// A trade-details row's `tradeType`.
    TradeType {
        Sale = "SALE",
        Return = "RETURN",
        Exchange = "EXCHANGE",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trade {
    pub trade_no: String,
    pub trade_type: TradeType,
    pub seller_id: String,
    pub order_no: String,
    pub original_trade_no: Option<String>,
    pub trade_time: String,
    /// Signed: returns are stored negative, exchanges with their sign.
    pub amount: Money,
    /// For a SALE: the amount already returned against it (positive).
    pub returned_minor: i64,
    /// For a SALE: the exchanges against it, each with its sign (a price difference the buyer
    /// paid is positive, one given back negative). Absent in a record of an older simulator.
    #[serde(default)]
    pub exchanged_minor: i64,
    pub file_name: String,
}

word_enum! {
    /// Where a revenue sharing stands: its total is reserved while PROCESSING.
    SharingStatus {
        Processing = "PROCESSING",
        Success = "SUCCESS",
        Failed = "FAILED",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareItem {
    pub seller_id: String,
    pub amount: Money,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sharing {
    pub request_no: String,
    /// The business fields as read, as a binding's [`Binding::request`].
    pub request: Value,
    pub total: Money,
    pub items: Vec<ShareItem>,
    pub status: SharingStatus,
    pub reason: Option<String>,
    pub created_at: Millis,
    pub finished_at: Option<Millis>,
}

impl InfiniaState {
    lookups! {
        "revenue sharing": sharing, sharing_mut(request_no) in sharings -> Sharing,
            else no_sharing;
    }

    /// The seller's latest binding (the one created last, [`Binding::created_seq`]), or with
    /// `status` its latest binding of that status. The binding query (by `sellerId`, when the
    /// seller has no BOUND binding) and the decision triggers (by `sellerId`: its latest PENDING
    /// binding) both take it from here.
    pub fn latest_binding(
        &self,
        seller_id: &str,
        status: Option<BindingStatus>,
    ) -> Option<&Binding> {
        self.bindings
            .values()
            .filter(|b| b.seller_id == seller_id && status.is_none_or(|s| b.status == s))
            .max_by_key(|b| b.created_seq)
    }

    /// The creation number of the next binding ([`Binding::created_seq`]): one past the largest
    /// there is (bindings are never removed but all together, by a reset).
    pub fn next_binding_seq(&self) -> u64 {
        self.bindings
            .values()
            .map(|b| b.created_seq)
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }

    /// Revenue a seller may still receive in `currency`: earned from processed trade details,
    /// minus what PROCESSING and SUCCESS sharings already give them; never below zero.
    pub fn available_minor(&self, seller_id: &str, currency: &str) -> i64 {
        let earned = self
            .earned
            .get(seller_id)
            .and_then(|m| m.get(currency))
            .copied()
            .unwrap_or(0);
        let shared: i64 = self
            .sharings
            .values()
            .filter(|s| s.status != SharingStatus::Failed && s.total.currency.code() == currency)
            .flat_map(|s| s.items.iter())
            .filter(|i| i.seller_id == seller_id)
            .map(|i| i.amount.minor)
            .sum();
        earned.saturating_sub(shared).max(0)
    }
}

/// Infinia is idempotent on `requestNo`: the record an earlier request with this number made in
/// `records`, when this request's `content` (what its operation read: absent, null and blank
/// fields alike, unknown fields not at all, amounts as the money they are) equals the earlier
/// one's (`sent` gives it from the record), so that the caller answers it again; None for a new
/// number. A number reused with other content is refused; `kind` names the request in that
/// refusal (`a binding request`).
pub fn repeated<'a, T>(
    records: &'a BTreeMap<String, T>,
    request_no: &str,
    content: &Value,
    sent: impl Fn(&T) -> Value,
    kind: &str,
) -> Result<Option<&'a T>, Refusal> {
    let Some(earlier) = records.get(request_no) else {
        return Ok(None);
    };
    let recorded = sent(earlier);
    if recorded == *content {
        return Ok(Some(earlier));
    }
    Err(Refusal::conflict(format!(
        "requestNo {request_no:?} was already used for {kind} with other fields ({} not as \
         before); use a new requestNo",
        differing(&recorded, content).join(", ")
    )))
}

/// The fields whose values differ between two contents, by name, for a refusal to point at.
fn differing(earlier: &Value, now: &Value) -> Vec<String> {
    let (Some(earlier), Some(now)) = (earlier.as_object(), now.as_object()) else {
        return vec!["the request".to_owned()];
    };
    let names: std::collections::BTreeSet<&String> = earlier.keys().chain(now.keys()).collect();
    names
        .into_iter()
        .filter(|name| earlier.get(*name) != now.get(*name))
        .map(|name| name.to_owned())
        .collect()
}

impl Trade {
    /// What is left of a SALE: its amount, with the exchanges against it, less what was
    /// returned. A RETURN, and an EXCHANGE that gives money back, may take at most this.
    pub fn left_minor(&self) -> i64 {
        self.amount
            .minor
            .saturating_add(self.exchanged_minor)
            .saturating_sub(self.returned_minor)
    }
}

/// Reads the bindings of a snapshot or a data directory. When a record has no creation number
/// (one an older simulator wrote) or shares one with another, every binding is numbered again,
/// 1, 2, ..., in the order they were created as far as the records tell: those without a number
/// first (an older simulator made them before any numbered one), by `createdAt`, then in the
/// order they were loaded; then the numbered ones, in their order.
fn numbered_bindings<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Binding>, D::Error> {
    let mut bindings = BTreeMap::<String, Binding>::deserialize(deserializer)?;
    number_bindings(&mut bindings);
    Ok(bindings)
}

/// See [`numbered_bindings`].
fn number_bindings(bindings: &mut BTreeMap<String, Binding>) {
    let mut seen = std::collections::HashSet::new();
    if bindings
        .values()
        .all(|b| b.created_seq != 0 && seen.insert(b.created_seq))
    {
        return;
    }
    // A stable sort: bindings alike in all three keep the order they were loaded in.
    let mut order: Vec<&mut Binding> = bindings.values_mut().collect();
    order.sort_by_key(|b| (b.created_seq != 0, b.created_seq, b.created_at));
    for (seq, binding) in (1u64..).zip(order) {
        binding.created_seq = seq;
    }
}

fn no_sharing(request_no: &str) -> Refusal {
    Refusal::unknown("revenue sharing", format!("requestNo {request_no:?}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn binding(request_no: &str, seller: &str, created_at: Millis, seq: u64) -> Value {
        json!({
            "requestNo": request_no, "sellerId": seller, "request": {}, "token": "t",
            "redirectUrl": "u", "status": "PENDING", "reason": null, "createdAt": created_at,
            "createdSeq": seq, "decidedAt": null, "notify": {},
        })
    }

    /// The bindings as read from `bindings` (a state document's map), by requestNo: their
    /// creation numbers.
    fn numbers(bindings: Value) -> BTreeMap<String, u64> {
        let mut state = serde_json::to_value(InfiniaState::default()).unwrap();
        state["bindings"] = bindings;
        let state: InfiniaState = serde_json::from_value(state).unwrap();
        state
            .bindings
            .into_iter()
            .map(|(no, b)| (no, b.created_seq))
            .collect()
    }

    /// Records of an older simulator carry no number: they are numbered by `createdAt`, then in
    /// the order they are loaded, before any binding that has a number; numbers that are whole
    /// and distinct are kept as they are.
    #[test]
    fn bindings_without_creation_numbers_are_numbered_by_creation_time_then_load_order() {
        let mut old = json!({
            "Z1": binding("Z1", "S", 1_000, 5),
            "B1": binding("B1", "S", 2_000, 6),
            "A1": binding("A1", "S", 2_000, 7),
        });
        let kept = numbers(old.clone());
        assert_eq!(
            kept,
            BTreeMap::from([("A1".into(), 7), ("B1".into(), 6), ("Z1".into(), 5)])
        );
        for b in old.as_object_mut().unwrap().values_mut() {
            b.as_object_mut().unwrap().remove("createdSeq");
        }
        let mut mixed = old.clone();
        mixed["N1"] = binding("N1", "S", 500, 1);
        assert_eq!(
            numbers(old),
            BTreeMap::from([("A1".into(), 2), ("B1".into(), 3), ("Z1".into(), 1)])
        );
        assert_eq!(
            numbers(mixed),
            BTreeMap::from([
                ("A1".into(), 2),
                ("B1".into(), 3),
                ("Z1".into(), 1),
                ("N1".into(), 4)
            ])
        );
        let repeated = json!({"P1": binding("P1", "S", 9, 3), "P2": binding("P2", "S", 8, 3)});
        assert_eq!(
            numbers(repeated),
            BTreeMap::from([("P1".into(), 2), ("P2".into(), 1)])
        );
    }

    /// The latest binding is the one with the largest creation number, whatever the clock and
    /// the requestNos say; with a status, the latest of that status.
    #[test]
    fn the_latest_binding_is_the_one_created_last() {
        let mut state = serde_json::to_value(InfiniaState::default()).unwrap();
        state["bindings"] = json!({
            "K9": binding("K9", "S", 7, 1),
            "K10": binding("K10", "S", 7, 2),
            "K8": binding("K8", "S", 9, 3),
            "X": binding("X", "OTHER", 7, 4),
        });
        state["bindings"]["K8"]["status"] = json!("REJECTED");
        let mut state: InfiniaState = serde_json::from_value(state).unwrap();
        let latest =
            |s: &InfiniaState, status| s.latest_binding("S", status).map(|b| b.request_no.clone());
        assert_eq!(latest(&state, None).as_deref(), Some("K8"));
        assert_eq!(
            latest(&state, Some(BindingStatus::Pending)).as_deref(),
            Some("K10")
        );
        assert_eq!(latest(&state, Some(BindingStatus::Bound)), None);
        assert_eq!(state.next_binding_seq(), 5);
        state.bindings.clear();
        assert_eq!(state.next_binding_seq(), 1);
    }

    /// The same content answers the record; other content is a conflict naming each field that
    /// differs, added or left out alike.
    #[test]
    fn a_reused_request_no_is_refused_naming_the_fields_that_differ() {
        let records = BTreeMap::from([("R1".to_owned(), json!({"a": "1", "b": "2"}))]);
        let sent = |v: &Value| v.clone();
        let same = repeated(&records, "R1", &json!({"a": "1", "b": "2"}), sent, "x");
        assert!(matches!(same, Ok(Some(_))));
        assert!(matches!(
            repeated(&records, "R2", &json!({}), sent, "x"),
            Ok(None)
        ));
        let other = repeated(&records, "R1", &json!({"a": "9", "c": "3"}), sent, "a test");
        let Err(Refusal::Conflict(message)) = other else {
            panic!("{other:?}");
        };
        assert_eq!(
            message,
            "requestNo \"R1\" was already used for a test with other fields (a, b, c not as \
             before); use a new requestNo"
        );
    }
}
