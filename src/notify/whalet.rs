//! Whalet notifications: a request envelope signed with the platform key and encrypted to the
//! partner's public key; acknowledged by an HTTP 2xx Whalet reply whose `head.code` is SUCCESS
//! (and, with `strict_ack`, whose signature verifies with the partner's key).

use std::sync::Arc;

use crate::api::whalet::partners::Partners;
use crate::notify::{schedule, Notification, Sealed, Transport};
use crate::store::TenantId;
use crate::wire::whalet::{self as envelope, Echo, VERSION};
use crate::wire::HexCase;

pub struct WhaletTransport {
    pub partners: Arc<Partners>,
    pub hex_case: HexCase,
}

impl Transport for WhaletTransport {
    fn url(&self, tenant: &TenantId) -> Option<String> {
        self.partners.get(&tenant.id)?.notify_url()
    }

    fn seal(&self, n: &Notification, corrupt: bool) -> Result<Sealed, String> {
        let partner = self.partners.get(&n.tenant.id).ok_or("unknown partner")?;
        let echo = Echo {
            partner_id: partner.id.clone(),
            api_code: n.topic.clone(),
            request_no: n.request_no.clone(),
            version: VERSION.into(),
        };
        let mut body = envelope::seal_request(
            &echo,
            &n.payload,
            &partner.platform_key,
            &partner.public_key,
            self.hex_case,
        )
        .map_err(|e| e.detail)?;
        if corrupt {
            body = corrupt_sign(&body);
        }
        Ok(Sealed {
            content_type: "application/json;charset=UTF-8",
            body: body.into(),
        })
    }

    fn judge(&self, n: &Notification, status: u16, body: &[u8]) -> Result<(), String> {
        if !(200..300).contains(&status) {
            return Err(format!("HTTP {status}"));
        }
        let partner = self.partners.get(&n.tenant.id).ok_or("unknown partner")?;
        if partner.strict_ack {
            // The partner signs the ack with its key; the simulator verifies with it.
            let reply = envelope::open_reply(body, &partner.platform_key, &partner.public_key)
                .map_err(|e| format!("ack rejected (strict_ack): {}", e.detail))?;
            return (reply.code == "SUCCESS")
                .then_some(())
                .ok_or_else(|| format!("ack head.code is {:?}, not SUCCESS", reply.code));
        }
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| format!("the answer is not a Whalet reply (not JSON: {e})"))?;
        match value.pointer("/head/code").and_then(|c| c.as_str()) {
            Some("SUCCESS") => Ok(()),
            Some(other) => Err(format!("ack head.code is {other:?}, not SUCCESS")),
            None => Err("the answer has no head.code".into()),
        }
    }

    fn retry_delays(&self) -> Vec<i64> {
        schedule::WHALET_RETRY_MS.to_vec()
    }
}

/// Flips one hex digit of `head.sign` so that verification fails but the envelope still parses.
fn corrupt_sign(body: &[u8]) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    if let Some(sign) = value.pointer_mut("/head/sign") {
        if let Some(s) = sign.as_str() {
            let mut chars: Vec<char> = s.chars().collect();
            if let Some(c) = chars.get_mut(10) {
                *c = if *c == '0' { '1' } else { '0' };
            }
            *sign = serde_json::Value::String(chars.into_iter().collect());
        }
    }
    serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec())
}
