//! State of whalet-platform for one partner: shop bindings, seller payments, bulk payments
//! received, and the trade materials store. Plain data; money itself lives in the tenant's
//! ledger under the accounts named in [`accounts`]. The materials store is keyed by shop and
//! records where each material came from, so the API and an SFTP drop land in the same place.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::behaviour::NotifyBehaviour;
use crate::clock::Millis;
use crate::money::Money;
use crate::store::Refusal;

/// Ledger account names of the platform surface (documented in docs/FIDELITY.md).
pub mod accounts {
    /// The partner's balance, funded by bulk payments, spent by paymentApply.
    pub const BALANCE: &str = "platform:balance";
    /// Money of accepted payments not yet credited to the seller.
    pub const IN_FLIGHT: &str = "platform:in_flight";
    /// The outside world: the partner's bank account wiring bulk payments.
    pub const BULK: &str = "external:bulk";

    /// A seller's e-wallet.
    pub fn seller_wallet(shop_id: &str) -> String {
        format!("seller:{shop_id}:wallet")
    }
}

word_enum! {
    /// Binding status words (`shopAccountBindQuery.status`, Shop Account Bind Notify).
    BindStatus {
        /// Waiting for the seller.
        Processing = "PROCESSING",
        /// The seller approved: payments to this shop go through Whalet.
        Success = "SUCCESS",
        /// Rejected by the seller, or the link expired (see `reason`).
        Failure = "FAILURE",
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegalEntity {
    #[serde(rename = "type")]
    pub entity_type: String,
    pub cert_no: String,
    pub cert_type: String,
    pub country_code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    pub bind_id: String,
    pub user_id: Option<String>,
    pub shop_id: String,
    pub shop_name: String,
    pub shop_url: Option<String>,
    pub currency: Option<String>,
    pub legal_entity: LegalEntity,
    pub status: BindStatus,
    pub reason: String,
    /// The authorization link's token (`/authorize/{token}`).
    pub token: String,
    pub authorize_url: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub decided_at: Option<Millis>,
    /// How the scenario wants the Shop Account Bind Notify delivered.
    #[serde(default, skip_serializing_if = "super::persist::omit")]
    pub notify: NotifyBehaviour,
}

word_enum! {
    /// Where a payment to a seller stands (`paymentQuery.status`, Payment Apply Notify).
    PaymentStatus {
        Processing = "PROCESSING",
        Success = "SUCCESS",
        Failure = "FAILURE",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub payment_id: String,
    pub shop_id: String,
    pub amount: Money,
    pub status: PaymentStatus,
    pub reason: String,
    pub created_at: Millis,
    pub finished_at: Option<Millis>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkPayment {
    pub bulk_payment_id: String,
    pub amount: Money,
    pub payer_name: Option<String>,
    pub received_at: Millis,
}

/// Where a trade material came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaterialSource {
    Api,
    Sftp,
}

/// One trade order backing a seller's payments (validated on the way in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeMaterial {
    pub trade_order_id: String,
    pub trade_order_no: String,
    pub trade_type: i64,
    pub trade_time: String,
    pub trade_amount: Money,
    pub trade_name: String,
    pub trade_count: i64,
    pub trade_unit: Option<String>,
    pub payer_name: String,
    pub payer_country_code: String,
    pub goods_carrier: Option<String>,
    pub goods_logistics_no: Option<String>,
    pub service_detail: Option<String>,
    pub service_time: Option<String>,
    pub hs_code: Option<String>,
    pub memo: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMaterial {
    pub material: TradeMaterial,
    pub source: MaterialSource,
    /// The upload (API requestNo or SFTP file name) that brought it.
    pub origin: String,
    pub stored_at: Millis,
}

/// What one batch did to the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialsOutcome {
    pub added: usize,
    pub replaced: usize,
}

/// Trade materials by shop, then by tradeOrderId (a later upload of the same order replaces it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MaterialStore {
    by_shop: BTreeMap<String, BTreeMap<String, StoredMaterial>>,
}

impl MaterialStore {
    /// Stores a validated batch for one shop.
    pub fn add(
        &mut self,
        shop_id: &str,
        source: MaterialSource,
        origin: &str,
        at: Millis,
        materials: Vec<TradeMaterial>,
    ) -> MaterialsOutcome {
        let shop = self.by_shop.entry(shop_id.to_owned()).or_default();
        let mut outcome = MaterialsOutcome::default();
        for material in materials {
            let key = material.trade_order_id.clone();
            let stored = StoredMaterial {
                material,
                source,
                origin: origin.to_owned(),
                stored_at: at,
            };
            match shop.insert(key, stored) {
                Some(_) => outcome.replaced += 1,
                None => outcome.added += 1,
            }
        }
        outcome
    }

    pub fn for_shop(&self, shop_id: &str) -> impl Iterator<Item = &StoredMaterial> {
        self.by_shop
            .get(shop_id)
            .into_iter()
            .flat_map(|m| m.values())
    }

    pub fn count(&self) -> usize {
        self.by_shop.values().map(BTreeMap::len).sum()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PlatformState {
    /// By bindId.
    pub bindings: BTreeMap<String, Binding>,
    /// By paymentId.
    pub payments: BTreeMap<String, Payment>,
    pub bulk_payments: Vec<BulkPayment>,
    pub materials: MaterialStore,
    /// The partner's SFTP folders (`/upload`, `/result`): absolute path → file. Left out of
    /// the JSON while empty, so states without SFTP files keep their earlier shape.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, super::infinia::StoredFile>,
    /// Trade-materials files by file name (as uploaded to `/upload`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub uploads: BTreeMap<String, super::infinia::Upload>,
}

impl PlatformState {
    /// The payment `payment_id`.
    pub fn payment(&self, payment_id: &str) -> Result<&Payment, Refusal> {
        self.payments
            .get(payment_id)
            .ok_or_else(|| Refusal::unknown("payment", format!("paymentId {payment_id:?}")))
    }

    /// The binding that currently governs a shop: an approved one if any, else one waiting for
    /// the seller, else the one that ended last. Every binding of the shop is looked at by
    /// status, never the newest by time alone: under a manual clock several share a
    /// millisecond, and an ended one must not hide one still waiting (a new bind would then be
    /// accepted beside it).
    pub fn binding_for_shop(&self, shop_id: &str) -> Option<&Binding> {
        let of_shop = || self.bindings.values().filter(move |b| b.shop_id == shop_id);
        let with = |status| of_shop().find(move |b| b.status == status);
        with(BindStatus::Success)
            .or_else(|| with(BindStatus::Processing))
            .or_else(|| of_shop().max_by_key(|b| (b.decided_at, b.created_at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(bind_id: &str, status: BindStatus, created_at: Millis) -> Binding {
        Binding {
            bind_id: bind_id.to_owned(),
            user_id: None,
            shop_id: "SHOP-X".to_owned(),
            shop_name: "Shop".to_owned(),
            shop_url: None,
            currency: None,
            legal_entity: LegalEntity::default(),
            status,
            reason: String::new(),
            token: String::new(),
            authorize_url: String::new(),
            created_at,
            expires_at: created_at + 1,
            decided_at: (status != BindStatus::Processing).then_some(created_at),
            notify: NotifyBehaviour::default(),
        }
    }

    fn state(bindings: &[Binding]) -> PlatformState {
        let mut state = PlatformState::default();
        for b in bindings {
            state.bindings.insert(b.bind_id.clone(), b.clone());
        }
        state
    }

    /// Regression: the newest binding by time governed, and at one millisecond the tie went to
    /// the last bindId: an ended `Z1` hid `A2`, still waiting, so another bind was accepted.
    #[test]
    fn a_waiting_or_approved_binding_governs_whatever_the_times() {
        let waiting = state(&[
            binding("Z1", BindStatus::Failure, 5),
            binding("A2", BindStatus::Processing, 5),
        ]);
        assert_eq!(
            waiting
                .binding_for_shop("SHOP-X")
                .map(|b| b.bind_id.as_str()),
            Some("A2")
        );
        let bound = state(&[
            binding("A1", BindStatus::Success, 1),
            binding("B2", BindStatus::Failure, 9),
            binding("C3", BindStatus::Processing, 9),
        ]);
        assert_eq!(
            bound.binding_for_shop("SHOP-X").map(|b| b.bind_id.as_str()),
            Some("A1")
        );
        let ended = state(&[
            binding("A1", BindStatus::Failure, 9),
            binding("B2", BindStatus::Failure, 3),
        ]);
        assert_eq!(
            ended.binding_for_shop("SHOP-X").map(|b| b.bind_id.as_str()),
            Some("A1")
        );
        assert!(ended.binding_for_shop("SHOP-Y").is_none());
    }
}
