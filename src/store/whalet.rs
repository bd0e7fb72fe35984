//! State of the Whalet Open API collections product, per partner: onboarded users, card holders
//! and their bank accounts ("beneficaries", the vendor's spelling), collection accounts (virtual
//! accounts, called "cards" by the vendor), shops bound to them, incoming collections and bank
//! letters. Plain data only: the rules that move these objects between states live in
//! `api/whalet/`, and money never lives here but in the tenant's ledger, under the account names
//! built by [`wallet_account`].

mod review;

use crate::store::Refusal;
use std::collections::BTreeMap;

pub use review::{reported_word, status_named, ReviewStatus, Reviewed, UnderReview};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Millis;
use crate::money::{Currency, Money};

/// Where money comes from in the outside world: the bank side of every collection.
pub const EXTERNAL_BANK: &str = "external:bank";

word_enum! {
    /// The business line a wallet balance belongs to (`fundSource` on the wire).
    #[derive(PartialOrd, Ord)]
    FundSource {
        B2B = "B2B",
        B2C = "B2C",
        Acquiring = "Acquiring",
    }
}

/// The three balances a user has per fund source and currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Settled money the user can pay out.
    Available,
    /// Collections received but not yet settled.
    Pending,
    /// Money held back (risk review, pending payouts).
    Frozen,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Available => "available",
            Bucket::Pending => "pending",
            Bucket::Frozen => "frozen",
        }
    }
}

/// The ledger account of one balance: `wallet:{userId}:{fundSource}:{bucket}` (the currency is
/// the ledger's second key).
pub fn wallet_account(user_id: &str, fund: FundSource, bucket: Bucket) -> String {
    format!("wallet:{user_id}:{}:{}", fund.as_str(), bucket.as_str())
}

/// A file the simulator issued or was given: `{fileId, fileName, fileUrl}` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub file_id: String,
    pub file_name: String,
    pub file_url: String,
}

/// An onboarded (or onboarding) user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub user_id: String,
    pub out_user_id: String,
    pub user_type: String,
    pub name: String,
    pub country_code: String,
    #[serde(flatten)]
    pub review: Reviewed,
    pub re_material: bool,
    pub material_type: String,
    /// The application as last sent.
    pub application: Value,
}

/// A card holder: the person or company that holds collection accounts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub holder_id: String,
    pub out_holder_id: String,
    pub user_id: String,
    pub holder_type: String,
    pub name: String,
    pub country_code: String,
    #[serde(flatten)]
    pub review: Reviewed,
    pub application: Value,
}

/// A bank account of a card holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Beneficary {
    pub beneficary_id: String,
    pub out_beneficary_id: String,
    pub user_id: String,
    pub holder_id: String,
    pub account_name: String,
    pub account_no: String,
    pub bank_name: String,
    pub bank_country: String,
    pub currency: Currency,
    #[serde(flatten)]
    pub review: Reviewed,
}

word_enum! {
    /// Where a collection account stands, from its opening to its cancellation.
    CardStatus {
        Processing = "PROCESSING",
        Active = "ACTIVE",
        Failure = "FAILURE",
        Cancelling = "CANCELLING",
        Cancelled = "CANCELLED",
    }
}

/// The receiving bank details of an opened collection account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BankAccount {
    pub account_no: String,
    pub account_name: String,
    pub bank_name: String,
    pub bank_country: String,
    pub swift_code: String,
    pub routing_no: String,
    pub bank_address: String,
}

/// A collection account ("收款卡", virtual account) for B2B or B2C.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Card {
    pub card_id: String,
    pub out_card_id: String,
    pub user_id: String,
    pub fund_source: FundSource,
    pub holder_id: Option<String>,
    /// B2C: the marketplace (`AMAZON`, ...).
    pub platform: Option<String>,
    /// B2B: the receiving channel (`b2bChannelBanksQuery`).
    pub channel_code: Option<String>,
    pub currency: Currency,
    pub status: CardStatus,
    pub reported_status: String,
    pub message: String,
    pub account: Option<BankAccount>,
    pub attempt: u32,
    pub applied_at: Millis,
    pub opened_at: Option<Millis>,
    pub cancelled_at: Option<Millis>,
    /// Cancellations refused so far: a cancel request after a refusal is a new request.
    pub cancel_refusals: u32,
}

word_enum! {
    /// Where a shop's binding to a B2C collection account stands.
    ShopStatus {
        /// A bind (or add) request is under review.
        Binding = "BINDING",
        Bound = "BOUND",
        /// The bind was refused.
        Failure = "FAILURE",
        Unbinding = "UNBINDING",
        Unbound = "UNBOUND",
    }
}

impl ShopStatus {
    /// Whether a bind or an unbind waits for the marketplace (its result notification is owed).
    pub fn under_review(self) -> bool {
        matches!(self, ShopStatus::Binding | ShopStatus::Unbinding)
    }

    /// Whether the binding is in force: BOUND, or BOUND with an unbind the marketplace has not
    /// decided yet (until it does, the shop stays bound and takes money and orders).
    pub fn in_force(self) -> bool {
        matches!(self, ShopStatus::Bound | ShopStatus::Unbinding)
    }

    /// Where the marketplace's verdict moves a binding under review (None: nothing is).
    /// A refused unbind leaves the shop BOUND.
    pub fn decided(self, approved: bool) -> Option<Self> {
        match (self, approved) {
            (ShopStatus::Binding, true) => Some(ShopStatus::Bound),
            (ShopStatus::Binding, false) => Some(ShopStatus::Failure),
            (ShopStatus::Unbinding, true) => Some(ShopStatus::Unbound),
            (ShopStatus::Unbinding, false) => Some(ShopStatus::Bound),
            _ => None,
        }
    }
}

/// A marketplace shop bound to a B2C collection account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shop {
    pub bind_id: String,
    pub user_id: String,
    pub card_id: String,
    pub shop_id: String,
    pub shop_name: String,
    pub shop_url: String,
    /// `BIND`, `ADD` or `UNBIND`: the last operation that took effect (an unbind under review
    /// or refused leaves the binding's BIND or ADD).
    pub operation_type: String,
    pub status: ShopStatus,
    pub reported_status: String,
    pub message: String,
    pub attempt: u32,
    pub updated_at: Millis,
    /// Unbinds the marketplace refused so far: an unbind asked again after a refusal is a new
    /// request (absent from snapshots written before it was counted: none).
    #[serde(default)]
    pub unbind_refusals: u32,
}

word_enum! {
    /// Where money that arrived on a collection account stands.
    CollectionStatus {
        /// Arrived; the money is in the pending balance.
        Pending = "PENDING",
        /// Settled into the available balance.
        Success = "SUCCESS",
        /// Returned to the sender.
        Failure = "FAILURE",
    }
}

/// Money that arrived on a collection account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Collection {
    pub trade_id: String,
    pub user_id: String,
    pub card_id: String,
    pub account_no: String,
    pub fund_source: FundSource,
    pub amount: Money,
    pub payer_name: String,
    pub payer_account_no: String,
    pub payer_country: String,
    pub shop_id: Option<String>,
    pub remark: String,
    pub status: CollectionStatus,
    pub reported_status: String,
    pub reason: String,
    pub received_at: Millis,
    pub settled_at: Option<Millis>,
}

/// A bank letter (proof of account) issued for a collection account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BankLetter {
    pub letter_id: String,
    pub user_id: String,
    pub card_id: String,
    pub file: FileRef,
    pub issued_at: Millis,
}

/// Everything of the collections product for one partner, keyed by the ids Whalet issues.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct WhaletState {
    pub users: BTreeMap<String, User>,
    pub holders: BTreeMap<String, Holder>,
    pub beneficaries: BTreeMap<String, Beneficary>,
    pub cards: BTreeMap<String, Card>,
    /// By `bindId`.
    pub shops: BTreeMap<String, Shop>,
    pub collections: BTreeMap<String, Collection>,
    pub bank_letters: BTreeMap<String, BankLetter>,
}

impl WhaletState {
    /// The user, or why the partner may not use it.
    pub fn user(&self, user_id: &str) -> Result<&User, Refusal> {
        self.users
            .get(user_id)
            .ok_or_else(|| Refusal::not_found("userId", user_id, "a user"))
    }

    /// The user, which must have passed onboarding.
    pub fn onboarded_user(&self, user_id: &str) -> Result<&User, Refusal> {
        let user = self.user(user_id)?;
        match user.review.status {
            ReviewStatus::Success => Ok(user),
            _ => Err(Refusal::wrong_state(format!(
                "user {user_id} has not passed onboarding (status {})",
                user.review.status_text()
            ))),
        }
    }

    /// The card, which must belong to `user_id`.
    pub fn card_of(&self, user_id: &str, card_id: &str) -> Result<&Card, Refusal> {
        Refusal::owned_by(&self.cards, ("cardId", card_id, "a card"), user_id, |c| {
            &c.user_id
        })
    }

    /// The holder, which must belong to `user_id`.
    pub fn holder_of(&self, user_id: &str, holder_id: &str) -> Result<&Holder, Refusal> {
        let what = ("holderId", holder_id, "a card holder");
        Refusal::owned_by(&self.holders, what, user_id, |h| &h.user_id)
    }
}
