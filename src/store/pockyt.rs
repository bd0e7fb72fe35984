//! State of a Pockyt merchant: payees, their payout accounts and payouts, as plain data. Money
//! lives in the tenant's [`Ledger`](super::Ledger), never here; the accounts used are
//! `merchant:{CUR}:available` (what the merchant can pay out), `merchant:{CUR}:in_flight` (pending
//! payouts), `fees:{CUR}` (fees charged), `external:payout` (money that left to payees) and
//! `external:funding` (money the merchant brought in). The functions that move money are in
//! `api/pockyt/payout.rs` and run under the tenant's lock.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::behaviour::NotifyBehaviour;
use crate::clock::Millis;
use crate::money::{Currency, Money};
use crate::store::Refusal;

/// The payout currencies of the public docs: the only ones `/v3/payouts/pay` pays in, hence the
/// only ones a merchant's balance may hold (a balance query, the funding trigger and the starting
/// balances keep to them, so that no money comes in that could never be paid out).
pub const PAYOUT_CURRENCIES: &[&str] = &[
    "USD", "CNY", "PHP", "IDR", "KRW", "HKD", "THB", "MYR", "GBP", "BDT", "PKR",
];

/// Why money in `currency` may not come into a merchant's balance, if it may not: pay would
/// never take it out (for the funding trigger and the starting balances).
pub fn not_a_payout_currency(currency: Currency) -> Option<String> {
    (!PAYOUT_CURRENCIES.contains(&currency.code())).then(|| {
        format!(
            "{} is not a payout currency: /v3/payouts/pay pays only in {}, so a balance in {} \
             could never be paid out",
            currency.code(),
            PAYOUT_CURRENCIES.join(", "),
            currency.code()
        )
    })
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PockytState {
    /// The starting balances were credited (again after a reset).
    pub seeded: bool,
    /// By customerNo.
    pub payees: BTreeMap<String, Payee>,
    /// By accountToken (deleted accounts are kept, marked, for the payouts that refer to them).
    pub accounts: BTreeMap<String, PayoutAccount>,
    /// By transactionNo.
    pub payouts: BTreeMap<String, Payout>,
    /// invoiceId → transactionNo.
    pub invoices: BTreeMap<String, String>,
}

impl PockytState {
    lookups! {
        "payee": payee, payee_mut(customer_no) in payees -> Payee, else no_payee;
        "live (not deleted) payout account": account, account_mut(token) in accounts
            -> PayoutAccount where |a| !a.deleted, else no_account;
        "payout": payout, payout_mut(transaction_no) in payouts -> Payout, else no_payout;
    }

    /// The transactionNo of the payout paid for `invoice_id`.
    pub fn transaction_of(&self, invoice_id: &str) -> Result<&str, Refusal> {
        self.invoices
            .get(invoice_id)
            .map(String::as_str)
            .ok_or_else(|| Refusal::unknown("payout", format!("invoiceId {invoice_id}")))
    }

    /// The payee holding `email` (case-insensitive), if any.
    pub fn payee_by_email(&self, email: &str) -> Option<&Payee> {
        self.payees
            .values()
            .find(|p| p.email.eq_ignore_ascii_case(email))
    }

    /// The payee whose `customerCode` (the merchant's own id for it, unique per merchant and
    /// compared exactly) is `code`, if any.
    pub fn payee_by_code(&self, code: &str) -> Option<&Payee> {
        self.payees
            .values()
            .find(|p| p.field("customerCode") == code)
    }

    /// The live accounts of a payee, oldest first.
    pub fn accounts_of<'a>(
        &'a self,
        customer_no: &'a str,
    ) -> impl Iterator<Item = &'a PayoutAccount> + 'a {
        self.accounts
            .values()
            .filter(move |a| a.customer_no == customer_no && !a.deleted)
    }
}

fn no_payee(customer_no: &str) -> Refusal {
    Refusal::unknown("payee", format!("customerNo {customer_no}"))
}

fn no_account(token: &str) -> Refusal {
    Refusal::unknown("payout account", format!("accountToken {token}"))
}

fn no_payout(transaction_no: &str) -> Refusal {
    Refusal::unknown("payout", format!("transactionNo {transaction_no}"))
}

/// `payeeStatus`: `Pending` → `Activated` | `Declined`; `Activated` → `Deactivated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PayeeStatus {
    Pending,
    Activated,
    Declined,
    Deactivated,
}

impl PayeeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayeeStatus::Pending => "Pending",
            PayeeStatus::Activated => "Activated",
            PayeeStatus::Declined => "Declined",
            PayeeStatus::Deactivated => "Deactivated",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "pending" | "unverified" => Some(PayeeStatus::Pending),
            "activated" | "active" => Some(PayeeStatus::Activated),
            "declined" => Some(PayeeStatus::Declined),
            "deactivated" => Some(PayeeStatus::Deactivated),
            _ => None,
        }
    }

    /// The word used in `payee status ...` refusals (seed 003 writes `Unverified` for pending).
    pub fn refusal_word(self) -> &'static str {
        match self {
            PayeeStatus::Pending => "Unverified",
            other => other.as_str(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payee {
    pub customer_no: String,
    /// Every profile field as sent (`firstName`, `email`, `dateOfBirth`, ...).
    pub fields: BTreeMap<String, String>,
    pub email: String,
    pub status: PayeeStatus,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Payee {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

/// `accountStatus`: `PENDING` → `ACTIVATED` | `INVALID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountStatus {
    Pending,
    Activated,
    Invalid,
}

impl AccountStatus {
    /// As in the create reply (`ACTIVATED`).
    pub fn upper(self) -> &'static str {
        match self {
            AccountStatus::Pending => "PENDING",
            AccountStatus::Activated => "ACTIVATED",
            AccountStatus::Invalid => "INVALID",
        }
    }
    /// As in the list reply (`activated`).
    pub fn lower(self) -> &'static str {
        match self {
            AccountStatus::Pending => "pending",
            AccountStatus::Activated => "activated",
            AccountStatus::Invalid => "invalid",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutAccount {
    pub account_token: String,
    pub customer_no: String,
    pub account_tag: String,
    /// `BANK_ACCOUNT`, `PAYPAL`, `VENMO`, ...
    pub account_type: String,
    pub country: String,
    pub currency: String,
    /// `bankAccountId` (shown masked on the wire).
    pub bank_account_id: String,
    pub bank_name: String,
    pub ipn_url: Option<String>,
    pub status: AccountStatus,
    pub deleted: bool,
    pub created_at: Millis,
}

word_enum! {
    /// `status` of a payout: `pending` → `success` | `failed`; `success` → `returned`.
    PayoutStatus {
        Pending = "pending",
        Success = "success",
        Failed = "failed",
        Returned = "returned",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payout {
    pub transaction_no: String,
    pub invoice_id: String,
    pub customer_no: String,
    pub account_token: String,
    /// The account's type, reported as the IPN's `vendor`.
    pub vendor: String,
    pub amount: Money,
    pub fee: Money,
    pub status: PayoutStatus,
    pub processing_channel: String,
    pub ipn_url: Option<String>,
    pub created_at: Millis,
    /// When the payout reached its current final status.
    pub payment_time: Option<Millis>,
    pub reason: Option<String>,
    /// The status a scenario chose (`returned` = success, then returned after `return_after_ms`).
    pub planned: PayoutStatus,
    pub return_after_ms: i64,
    pub notify: NotifyBehaviour,
}
