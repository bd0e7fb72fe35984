//! Infinia seller status notifications (spec §2.10): the request envelope in the other
//! direction: `{version, appId: "infinia", dataType, requestData, signature}`, `requestData`
//! encrypted to the merchant's public key, signed with Infinia's key (configurable). The
//! merchant acknowledges with the plain-text body `SUCCESS` exactly; anything else (or a network
//! failure) is retried at most 5 times, after 1, 2, 4, 8 and 16 s by default.

use std::sync::Arc;

use crate::api::infinia::apps::Apps;
use crate::notify::{configured_url, judge_status, Notification, Sealed, Transport};
use crate::tenant::TenantId;
use crate::wire::infinia as envelope;

/// The exact acknowledgement body.
pub const ACK: &[u8] = b"SUCCESS";

pub struct InfiniaTransport {
    pub apps: Arc<Apps>,
}

impl Transport for InfiniaTransport {
    fn url(&self, tenant: &TenantId) -> Result<String, String> {
        let configured = self.apps.get(&tenant.id).map(|app| app.notify_url.get());
        configured_url(tenant, configured, "[[infinia.apps]]")
    }

    fn seal(&self, n: &Notification, corrupt: bool) -> Result<Sealed, String> {
        let app = self.apps.get(&n.tenant.id).ok_or("unknown Infinia app")?;
        let cfg = &self.apps.config;
        let mut sealed = envelope::seal_request(
            &cfg.webhook_version,
            &cfg.webhook_app_id,
            &n.payload,
            &self.apps.infinia_key,
            &app.merchant_public,
            app.alg,
        )
        .map_err(|e| e.message)?;
        if !cfg.sign_webhooks {
            sealed.signature = String::new();
        }
        if corrupt {
            // Sign something else: still valid Base64 of the right length, never verifies.
            sealed.signature =
                envelope::sign(&self.apps.infinia_key, app.alg, "corrupted by scenario");
        }
        let mut value = serde_json::to_value(&sealed).map_err(|e| e.to_string())?;
        if sealed.signature.is_empty() {
            if let Some(map) = value.as_object_mut() {
                map.remove("signature");
            }
        }
        Sealed::json("application/json; charset=UTF-8", &value)
    }

    fn judge(&self, _n: &Notification, status: u16, body: &[u8]) -> Result<(), String> {
        judge_status(status)?;
        if body == ACK {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&body[..body.len().min(64)]).into_owned();
        if body.trim_ascii().eq_ignore_ascii_case(ACK) {
            Err(format!(
                "the ack must be exactly SUCCESS (uppercase, no whitespace), got {text:?}"
            ))
        } else {
            Err(format!("the ack is {text:?}, not SUCCESS"))
        }
    }

    fn retry_delays(&self) -> Vec<i64> {
        self.apps.retry_delays()
    }
}
