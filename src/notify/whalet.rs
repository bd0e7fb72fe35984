//! Whalet notifications: a request envelope signed with the platform key and encrypted to the
//! partner's public key; acknowledged by an HTTP 2xx Whalet reply whose `head.code` is SUCCESS
//! (and, with `strict_ack`, whose signature verifies with the partner's key).

use std::sync::Arc;

use crate::api::whalet::partners::Partners;
use crate::notify::{schedule, Notification, Sealed, Transport};
use crate::store::TenantId;
use serde_json::Value;

use crate::wire::crypto::{self, SignatureHash};
use crate::wire::keys::PublicKey;
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
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| format!("the answer is not a Whalet reply (not JSON: {e})"))?;
        let head = value
            .get("head")
            .and_then(Value::as_object)
            .ok_or("the answer is not a Whalet reply (no head object)")?;
        let text = |name: &str| head.get(name).and_then(Value::as_str);
        let code = text("code").ok_or("the answer has no head.code")?;
        if code != "SUCCESS" {
            let detail = text("detail").unwrap_or_default();
            return Err(format!("ack head.code is {code:?} ({detail}), not SUCCESS"));
        }
        let partner = self.partners.get(&n.tenant.id).ok_or("unknown partner")?;
        if partner.strict_ack {
            verify_ack(&value, n, &partner.public_key)?;
        }
        Ok(())
    }

    fn retry_delays(&self) -> Vec<i64> {
        schedule::WHALET_RETRY_MS.to_vec()
    }
}

/// `strict_ack`: the ack echoes this notification and carries a SHA1withRSA signature, by the
/// partner's key, over the reply sign string. Only the signature is checked (a public-key
/// operation); the ack's body is not decrypted, as nothing in it is needed.
fn verify_ack(reply: &Value, n: &Notification, partner_key: &PublicKey) -> Result<(), String> {
    let head = |name: &str| {
        reply
            .pointer(&format!("/head/{name}"))
            .and_then(Value::as_str)
    };
    let echo = Echo {
        partner_id: head("partnerId").unwrap_or_default().to_owned(),
        api_code: head("apiCode").unwrap_or_default().to_owned(),
        request_no: head("requestNo").unwrap_or_default().to_owned(),
        version: head("version").unwrap_or_default().to_owned(),
    };
    let sign = head("sign").ok_or("ack rejected (strict_ack): the ack has no head.sign")?;
    if echo.request_no != n.request_no {
        return Err(format!(
            "ack rejected (strict_ack): head.requestNo is {:?}, the notification's is {:?}",
            echo.request_no, n.request_no
        ));
    }
    let signature = hex::decode(sign)
        .map_err(|e| format!("ack rejected (strict_ack): head.sign is not hex: {e}"))?;
    let encrypt = reply.pointer("/body/encrypt").and_then(Value::as_str);
    let code = head("code").unwrap_or_default();
    let detail = head("detail").unwrap_or_default();
    let signed = envelope::reply_sign_string(&echo, code, detail, encrypt);
    if crypto::verify(
        partner_key,
        SignatureHash::Sha1,
        signed.as_bytes(),
        &signature,
    ) {
        Ok(())
    } else {
        Err(format!(
            "ack rejected (strict_ack): head.sign does not verify with the partner's public key \
             (SHA1withRSA over {signed:?})"
        ))
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
