//! Seller status (spec §2.10): a bound seller is ACTIVE or FROZEN. Freezing or resuming (by a
//! trigger or a scenario timeline) changes the status and sends the platform a seller status
//! notification `{requestNo, sellerId, status}`; a FROZEN seller cannot receive revenue sharing.

use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::core::Core;
use crate::notify::{NotificationSpec, NotifyBehaviour};
use crate::store::infinia::SellerStatus;
use crate::tenant::TenantId;

/// The notification's topic in the delivery ledger (`apiCode=sellerStatus`).
pub const TOPIC: &str = "sellerStatus";

/// Enqueues a seller status notification; returns the notification id.
pub fn notify_status(
    core: &Core,
    tenant: &TenantId,
    seller_id: &str,
    status: SellerStatus,
    behaviour: NotifyBehaviour,
) -> String {
    let request_no = core.infinia().request_nos.mint(core, tenant);
    core.outbox().enqueue(NotificationSpec {
        tenant: tenant.clone(),
        channel: "infinia",
        topic: TOPIC.to_owned(),
        payload: json!({"requestNo": request_no, "sellerId": seller_id, "status": status.as_str()}),
        business_id: Some(format!("seller:{seller_id}")),
        url: None,
        request_no: Some(request_no),
        behaviour,
    })
}

/// Freezes or resumes a bound seller and notifies the platform.
pub fn set_status(
    core: &Core,
    tenant: &TenantId,
    seller_id: &str,
    status: SellerStatus,
) -> Result<Value, String> {
    let now = core.clock().now();
    let previous = core.with_tenant_text(tenant, |t| {
        let seller = t.infinia.sellers.get_mut(seller_id).ok_or_else(|| {
            format!("seller {seller_id:?} is not bound to {tenant} (approve a binding first)")
        })?;
        let previous = seller.status;
        seller.status = status;
        seller.updated_at = now;
        Ok::<_, String>(previous)
    })??;
    let notification = (previous != status)
        .then(|| notify_status(core, tenant, seller_id, status, NotifyBehaviour::default()));
    Ok(json!({
        "sellerId": seller_id,
        "status": status.as_str(),
        "previous": previous.as_str(),
        "notification": notification,
    }))
}

/// The requestNos of Infinia's notifications: RFC 4122 version 4 UUIDs (the form of the
/// documented example) that never repeat, across a reset and across runs, because the merchant
/// deduplicates on them. Each is made of the run tag (`[notify] run_tag`, else random per
/// process), the outbox's requestNo sequence ([`crate::notify::Outbox::mint_request_number`],
/// the one Whalet's requestNos take theirs from: no reset or import takes it back, and a data
/// directory keeps it across a restart), and a draw from the tenant's seeded generator (so
/// that, with a fixed run tag, the same scenario and requests give the same requestNos).
#[derive(Debug, Default)]
pub struct RequestNos {
    /// The run tag (its low 48 bits show), chosen on first use.
    tag: OnceLock<u64>,
}

/// Bits of the run tag and of the sequence in a requestNo (12 hex digits each).
const TAG_AND_SEQUENCE_BITS: u32 = 48;

impl RequestNos {
    /// A new requestNo for a notification of `tenant`.
    pub fn mint(&self, core: &Core, tenant: &TenantId) -> String {
        let tag = *self.tag.get_or_init(|| {
            core.config()
                .notify
                .run_tag
                .map_or_else(rand::random, u64::from)
        });
        let seeded = core
            .scenarios()
            .random_u64(tenant, "infinia.sellerStatus.requestNo");
        uuid_v4(tag, seeded, core.outbox().mint_request_number())
    }
}

/// A version 4 UUID: the run tag in the first 12 hex digits, the sequence in the last 12 (so
/// two differ wherever either does), 26 bits of the seeded draw between them.
fn uuid_v4(tag: u64, seeded: u64, seq: u64) -> String {
    let low = |v: u64| v & ((1 << TAG_AND_SEQUENCE_BITS) - 1);
    let middle = seeded >> (64 - 26);
    let value = (u128::from(low(tag)) << 80)
        | (0x4 << 76)
        | (u128::from(middle >> 14) << 64)
        | (0b10 << 62)
        | (u128::from(middle & 0x3fff) << 48)
        | u128::from(low(seq));
    let h = format!("{value:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_no_is_a_version_4_uuid_with_the_tag_and_the_sequence_in_place() {
        let no = uuid_v4(0xabcd_ef01_2345, u64::MAX, 7);
        assert_eq!(no, "abcdef01-2345-4fff-bfff-000000000007");
        let no = uuid_v4(1, 0, 0x1234);
        assert_eq!(no, "00000000-0001-4000-8000-000000001234");
        assert_ne!(
            uuid_v4(1, 0, 1),
            uuid_v4(2, 0, 1),
            "the tag tells runs apart"
        );
        assert_ne!(
            uuid_v4(1, 0, 1),
            uuid_v4(1, 0, 2),
            "the sequence tells notifications apart"
        );
        assert_ne!(uuid_v4(1, 0, 1), uuid_v4(1, u64::MAX, 1), "the seed shows");
    }
}
