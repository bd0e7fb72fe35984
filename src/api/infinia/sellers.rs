//! Seller status (spec §2.10): a bound seller is ACTIVE or FROZEN. Freezing or resuming (by a
//! trigger or a scenario timeline) changes the status and sends the platform a seller status
//! notification `{requestNo, sellerId, status}`; a FROZEN seller cannot receive revenue sharing.

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
    let request_no = uuid_v4(core, tenant);
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

/// A random RFC 4122 version 4 UUID, the form of the documented example requestNo, drawn from
/// the tenant's seeded generator (the same scenario and requests give the same requestNos).
pub fn uuid_v4(core: &Core, tenant: &TenantId) -> String {
    let mut b = [0u8; 16];
    for half in b.chunks_mut(8) {
        let draw = core
            .scenarios()
            .random_u64(tenant, "infinia.sellerStatus.requestNo");
        half.copy_from_slice(&draw.to_be_bytes());
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}
