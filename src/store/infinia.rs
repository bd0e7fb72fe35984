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
use crate::store::Refusal;

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
    /// Account-binding requests by requestNo.
    pub bindings: BTreeMap<String, Binding>,
    /// Bound sellers by sellerId.
    pub sellers: BTreeMap<String, Seller>,
    /// The SFTP folders: absolute path → file.
    pub files: BTreeMap<String, StoredFile>,
    /// Trade-details files by file name (as uploaded to `/upload`).
    pub uploads: BTreeMap<String, Upload>,
    /// Accepted trade rows by tradeNo.
    pub trades: BTreeMap<String, Trade>,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeType {
    Sale,
    Return,
    Exchange,
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

fn no_sharing(request_no: &str) -> Refusal {
    Refusal::unknown("revenue sharing", format!("requestNo {request_no:?}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
