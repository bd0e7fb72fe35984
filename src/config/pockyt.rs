//! The `[pockyt]` section: merchants (merchantNo, storeNo, API token, starting balances, fee
//! model, IPN format, notify URL) and the lifecycle delays. With no section the embedded demo
//! merchant (`merchantNo = 202333`, `storeNo = 301854`, token `demo-token`, 10,000.00 USD) is
//! used. Every delay is virtual time; a scenario rule's `delay` overrides it per request.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The embedded demo merchant (README, "Demo tenants").
pub const DEMO_MERCHANT_NO: &str = "202333";
pub const DEMO_STORE_NO: &str = "301854";
pub const DEMO_TOKEN: &str = "demo-token";

/// The `processingChannel` values a pay takes, which are the keys a fee model's `channels` may
/// have (a fee under another key would never be charged).
pub const PROCESSING_CHANNELS: &[&str] = &["STANDARD_ACH", "SAME_DAY_ACH", "REAL_TIME_PAY"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PockytConfig {
    /// Keep the embedded demo merchant besides configured ones.
    pub demo_merchant: bool,
    pub merchants: Vec<MerchantConfig>,
    /// A registered payee is `Pending` this long, then `Activated` (10 s).
    pub payee_review_delay_ms: i64,
    /// A new payout account is `PENDING` this long; 0 (default) = `ACTIVATED` in the reply.
    pub account_review_delay_ms: i64,
    /// A payout is `pending` this long before its final status (30 s).
    pub payout_settle_delay_ms: i64,
    /// A payout a scenario marks `returned` is returned this long after its success (60 s).
    pub return_after_ms: i64,
    /// Refund the fee too when a successful payout is returned (default: only the amount).
    pub refund_fee_on_return: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Default fee model (merchants may override).
    pub fee: FeeModel,
    /// Default IPN body format (merchants may override).
    pub ipn_format: IpnFormat,
    /// `verifySign` readings of empty and null values accepted besides the documented one
    /// (`name=` kept): any of `drop_null`, `drop_empty`, `null_text`. Default none; a request
    /// verified by one is flagged in the journal.
    pub lenient_sign_readings: Vec<crate::wire::pockyt::Reading>,
    /// What `/v3/payee/payout-accounts` answers when filtered by `accountToken` or `accountTag`
    /// (the documents disagree, docs/FIDELITY.md): the list, as unfiltered (`accounts[]` of one
    /// and `user`; default), or one `result{}` with the payee's names in it.
    pub filtered_accounts_shape: FilteredAccountsShape,
}

impl Default for PockytConfig {
    fn default() -> Self {
        Self {
            demo_merchant: true,
            merchants: Vec::new(),
            payee_review_delay_ms: 10_000,
            account_review_delay_ms: 0,
            payout_settle_delay_ms: 30_000,
            return_after_ms: 60_000,
            refund_fee_on_return: false,
            body_limit_bytes: 256 * 1024,
            fee: FeeModel::default(),
            ipn_format: IpnFormat::default(),
            lenient_sign_readings: Vec::new(),
            filtered_accounts_shape: FilteredAccountsShape::default(),
        }
    }
}

/// One merchant (a tenant `pockyt:<merchantNo>`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantConfig {
    pub merchant_no: String,
    pub store_no: String,
    /// The secret API token (`@path` reads it from a file; trimmed, and refused at start when
    /// empty: no request could carry it).
    pub token: String,
    /// Where IPNs go when neither the payout nor its account gives an `ipnUrl`; default
    /// `--notify-url`, as for every tenant.
    pub notify_url: Option<String>,
    /// Starting balances: currency → decimal amount, e.g. `{ USD = "10000.00" }`.
    #[serde(default)]
    pub balances: BTreeMap<String, String>,
    pub fee: Option<FeeModel>,
    pub ipn_format: Option<IpnFormat>,
}

/// The payout fee: `fixed + amount × percent / 100`, in the payout currency, rounded half up to
/// its minor unit. `channels` overrides both per `processingChannel`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeeModel {
    /// Decimal text in major units, e.g. `"1.00"`.
    pub fixed: String,
    /// Decimal text, e.g. `"0.5"` for 0.5 %.
    pub percent: String,
    pub channels: BTreeMap<String, ChannelFee>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelFee {
    pub fixed: String,
    pub percent: String,
}

impl Default for FeeModel {
    fn default() -> Self {
        Self {
            fixed: "1.00".into(),
            percent: "0.5".into(),
            channels: BTreeMap::new(),
        }
    }
}

/// The two shapes the documents give a filtered payout-account listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilteredAccountsShape {
    /// The listing's own shape: `accounts[]` (of one) and `user`, as without a filter.
    #[default]
    List,
    /// The single-account example: `result{accountTag, country, createdAt, firstName,
    /// lastName, accountType, currency, accountToken, customerNo, email, cardNumber, status}`.
    Result,
}

/// How IPN bodies are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IpnFormat {
    /// `application/x-www-form-urlencoded` (Pockyt's webhook reference).
    #[default]
    Form,
    /// `application/json`.
    Json,
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn merchants_parse() {
        let cfg = Config::parse(
            "[pockyt]\nipn_format = \"json\"\n[[pockyt.merchants]]\nmerchant_no = \"1\"\nstore_no = \"2\"\ntoken = \"t\"\nbalances = { USD = \"5.00\" }\n[pockyt.merchants.fee]\nfixed = \"0\"\npercent = \"1\"\n",
        )
        .unwrap();
        assert_eq!(cfg.pockyt.merchants[0].balances["USD"], "5.00");
        assert_eq!(cfg.pockyt.ipn_format, super::IpnFormat::Json);
        assert!(cfg.pockyt.demo_merchant);
    }
}
