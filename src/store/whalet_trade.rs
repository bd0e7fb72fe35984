//! State of the Whalet Open API money-out product, per partner: FX quotes, payout beneficiaries,
//! payouts and supplier payments ("outflows"), trade orders and their bindings to collections,
//! and uploaded files. Plain data only: the rules live in `api/whalet/`, and money never lives
//! here but in the tenant's ledger (`wallet:{userId}:{fundSource}:{bucket}`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Millis;
use crate::money::{Currency, Money};
use crate::store::whalet::{FileRef, FundSource, ReviewStatus};

/// Where paid-out money goes in the outside world.
pub const EXTERNAL_PAYOUT: &str = "external:payout";

/// An FX quote from Rate Inquiry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Quote {
    pub rate_id: String,
    pub user_id: String,
    pub currency: Currency,
    pub to_currency: Currency,
    pub fund_source: FundSource,
    /// Decimal text, e.g. `7.1234`.
    pub rate: String,
    pub quoted_at: Millis,
    pub expire_at: Millis,
}

word_enum! {
    /// Where a payout beneficiary account stands.
    BeneficiaryStatus {
        Processing = "PROCESSING",
        Success = "SUCCESS",
        Failure = "FAILURE",
        Deleted = "DELETED",
    }
}

word_enum! {
    /// Where a payout or pay stands (the word reported may be a scenario's, see
    /// `Outflow::reported_status`).
    OutflowStatus {
        WaitConfirm = "WAIT_CONFIRM",
        Processing = "PROCESSING",
        Success = "SUCCESS",
        Failure = "FAILURE",
    }
}

word_enum! {
    /// Whether a trade order still takes bindings.
    TradeOrderStatus {
        Open = "OPEN",
        Closed = "CLOSED",
    }
}

word_enum! {
    /// What a request for material is about: the user (EDD) or one collection (trade).
    ReplenishKind {
        Edd = "EDD",
        Trade = "TRADE",
    }
}

word_enum! {
    /// Where a request for material stands.
    ReplenishStatus {
        WaitSubmit = "WAIT_SUBMIT",
        Processing = "PROCESSING",
        Success = "SUCCESS",
        Failure = "FAILURE",
    }
}

impl ReplenishStatus {
    /// Whether the partner may submit material now (asked, or rejected before).
    pub fn awaits_submission(self) -> bool {
        matches!(self, ReplenishStatus::WaitSubmit | ReplenishStatus::Failure)
    }
}

/// A payout beneficiary's bank account (Benificiary Account Apply).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PayoutBeneficiary {
    pub beneficiary_id: String,
    pub out_beneficiary_id: String,
    pub user_id: String,
    pub country: String,
    pub currency: Currency,
    pub account_type: String,
    /// The account fields as sent (`accountName`, `accountNo`, `iban`, ...).
    pub fields: BTreeMap<String, String>,
    pub status: BeneficiaryStatus,
    /// The word its query reports after a decision (a scenario's or trigger's `status`, else
    /// the status itself); empty before a decision and once deleted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reported_status: String,
    pub message: String,
    pub attempt: u32,
    pub applied_at: Millis,
    pub decided_at: Option<Millis>,
}

impl PayoutBeneficiary {
    /// The status its query reports.
    pub fn reported(&self) -> &str {
        crate::store::whalet::reported_word(self.status.as_str(), &self.reported_status)
    }

    /// Its status as a refusal names it ([`crate::store::whalet::status_named`]).
    pub fn status_text(&self) -> String {
        crate::store::whalet::status_named(self.status.as_str(), &self.reported_status)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutflowKind {
    /// 提现/付款 to a beneficiary bank account.
    Payout,
    /// 支付: paying a supplier from the wallet.
    Pay,
}

/// A payout or a supplier payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outflow {
    pub id: String,
    pub kind: OutflowKind,
    pub out_id: String,
    pub user_id: String,
    pub fund_source: FundSource,
    pub amount: Money,
    /// What the beneficiary receives (after FX).
    pub to_amount: Money,
    pub rate_id: Option<String>,
    pub rate: Option<String>,
    /// Payouts: the beneficiary; pays: the payee's name.
    pub beneficiary_id: Option<String>,
    pub payee_name: String,
    pub purpose: String,
    pub remark: String,
    pub credentials: Vec<FileRef>,
    pub status: OutflowStatus,
    /// The word reported (a scenario's, once decided).
    pub reported_status: String,
    pub reason: String,
    pub created_at: Millis,
    pub confirmed_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// How the scenario rule that held this order for EDD (`values.edd = "Y"`) said it ends,
    /// applied once the EDD's approval releases it; None: released, it succeeds after the
    /// usual delay. Left out of the JSON while None, so states without one keep their shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_edd: Option<HeldResult>,
}

/// The end a scenario rule gave an order it held for EDD (its `result`, `status`, `reason`,
/// `delay` and `notify`), kept with the order until the EDD is approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldResult {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Virtual milliseconds from the EDD's approval to the order's end.
    pub delay_ms: Millis,
    #[serde(default)]
    pub notify: crate::behaviour::NotifyBehaviour,
}

/// A B2B trade order (the contract a collection pays for).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TradeOrder {
    pub order_id: String,
    pub out_order_no: String,
    pub user_id: String,
    pub buyer_name: String,
    pub buyer_country: String,
    pub goods_name: String,
    pub amount: Money,
    /// The part of the amount collections are bound to (successful bindings).
    pub bound: Money,
    pub contract_no: String,
    pub status: TradeOrderStatus,
    pub attaches: Vec<FileRef>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A Trade Order Bind Apply: a collection linked to orders.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Binding {
    pub bind_id: String,
    pub trade_id: String,
    pub user_id: String,
    /// (orderId, amount, autoClose)
    pub orders: Vec<(String, Money, bool)>,
    pub status: ReviewStatus,
    pub message: String,
    pub applied_at: Millis,
    pub decided_at: Option<Millis>,
}

/// A B2C shop order batch (Shop Order Upload).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShopOrder {
    pub upload_id: String,
    pub user_id: String,
    pub batch_no: String,
    pub shop_id: String,
    pub orders: Value,
    pub uploaded_at: Millis,
}

/// A file uploaded through `POST /file/upload`; the bytes are served back at `fileUrl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredFile {
    pub file_id: String,
    pub file_name: String,
    pub file_url: String,
    pub content_type: String,
    pub size: usize,
    pub uploaded_at: Millis,
    #[serde(
        default,
        skip_serializing_if = "super::persist::omit",
        serialize_with = "super::persist::bytes_b64",
        deserialize_with = "super::persist::bytes_from_b64"
    )]
    pub bytes: bytes::Bytes,
}

/// A request for more material (EDD about a user, or about one collection).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Replenish {
    pub replenish_id: String,
    pub kind: ReplenishKind,
    pub user_id: String,
    pub trade_id: Option<String>,
    /// A payout or pay held until this EDD is decided (it holds its own frozen money).
    pub outflow_id: Option<String>,
    pub material_types: Vec<String>,
    pub message: String,
    /// What is frozen until the result: (fund, amount).
    pub frozen: Option<(FundSource, Money)>,
    pub status: ReplenishStatus,
    /// The word its query reports after a decision (a scenario's or trigger's `status`, else
    /// the status itself); empty until decided and while under review again.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reported_status: String,
    pub files: Vec<FileRef>,
    pub memo: String,
    pub attempt: u32,
    pub requested_at: Millis,
    pub submitted_at: Option<Millis>,
    pub decided_at: Option<Millis>,
}

impl Replenish {
    /// The status its query reports.
    pub fn reported(&self) -> &str {
        crate::store::whalet::reported_word(self.status.as_str(), &self.reported_status)
    }

    /// Its status as a refusal names it ([`crate::store::whalet::status_named`]).
    pub fn status_text(&self) -> String {
        crate::store::whalet::status_named(self.status.as_str(), &self.reported_status)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct WhaletTradeState {
    pub quotes: BTreeMap<String, Quote>,
    pub beneficiaries: BTreeMap<String, PayoutBeneficiary>,
    pub outflows: BTreeMap<String, Outflow>,
    pub orders: BTreeMap<String, TradeOrder>,
    pub bindings: BTreeMap<String, Binding>,
    pub shop_orders: BTreeMap<String, ShopOrder>,
    pub files: BTreeMap<String, StoredFile>,
    pub replenishes: BTreeMap<String, Replenish>,
    /// Sum of `files[*].size`.
    pub file_bytes: usize,
}

impl WhaletTradeState {
    /// What PROCESSING and SUCCESS bindings claim of a collection (`trade_id`) or, with
    /// `order_id`, of one order.
    pub fn claimed(&self, trade_id: Option<&str>, order_id: Option<&str>) -> i128 {
        self.bindings
            .values()
            .filter(|b| matches!(b.status, ReviewStatus::Processing | ReviewStatus::Success))
            .filter(|b| trade_id.is_none_or(|t| b.trade_id == t))
            .flat_map(|b| b.orders.iter())
            .filter(|(o, _, _)| order_id.is_none_or(|id| o == id))
            .map(|(_, m, _)| i128::from(m.minor))
            .sum()
    }

    /// Checks that every referenced file was uploaded by this partner; returns them with the
    /// simulator's name and URL.
    pub fn resolve_files(&self, field: &str, refs: &[FileRef]) -> Result<Vec<FileRef>, String> {
        refs.iter()
            .map(|r| match self.files.get(&r.file_id) {
                Some(f) => Ok(FileRef {
                    file_id: f.file_id.clone(),
                    file_name: f.file_name.clone(),
                    file_url: f.file_url.clone(),
                }),
                None => Err(format!(
                    "{field}: fileId {:?} was not uploaded by this partner (POST /file/upload first)",
                    r.file_id
                )),
            })
            .collect()
    }
}
