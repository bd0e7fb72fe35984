//! Whalet notifications: a request envelope signed with the platform key and encrypted to the
//! partner's public key; acknowledged by an HTTP 2xx Whalet reply whose `head.code` is SUCCESS
//! (and, with `strict_ack`, whose signature verifies with the partner's key).

use std::sync::Arc;

use crate::api::whalet::partners::Partners;
use crate::notify::{schedule, Notification, Sealed, Transport};
use crate::tenant::TenantId;
use serde_json::Value;

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
        let partner = self
            .partners
            .get(&n.tenant.id)
            .ok_or_else(|| format!("tenant {} is not a configured Whalet partner", n.tenant))?;
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
            body = envelope::corrupt_sign(&body);
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
        let partner = self
            .partners
            .get(&n.tenant.id)
            .ok_or_else(|| format!("tenant {} is not a configured Whalet partner", n.tenant))?;
        if partner.strict_ack {
            envelope::verify_ack(&value, &n.request_no, &partner.public_key)?;
        }
        Ok(())
    }

    fn retry_delays(&self) -> Vec<i64> {
        schedule::WHALET_RETRY_MS.to_vec()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{Config, WhaletConfig};
    use crate::notify::{NotifyBehaviour, Status};
    use crate::tenant::Provider;
    use crate::wire::keys::{demo, PrivateKey, PublicKey};

    fn transport(strict: bool) -> WhaletTransport {
        let cfg: WhaletConfig = Config::parse(&format!(
            "[whalet]\ndemo_partner = false\n[[whalet.partners]]\npartner_id = \"P1\"\n\
             public_key = \"\"\"{}\"\"\"\nstrict_ack = {strict}\n",
            demo::PARTNER_PUBLIC
        ))
        .unwrap()
        .whalet;
        WhaletTransport {
            partners: Arc::new(Partners::from_config(&cfg, None).unwrap()),
            hex_case: HexCase::Lower,
        }
    }

    fn notification() -> Notification {
        Notification {
            id: "ntf_000001".into(),
            tenant: TenantId::new(Provider::Whalet, "P1"),
            channel: "whalet",
            topic: "connectivityNotify".into(),
            business_id: None,
            request_no: "N1".into(),
            url: None,
            payload: serde_json::json!({"notifyMessage": "x"}),
            status: Status::Pending,
            created_at: 0,
            next_attempt_at: None,
            finished_at: None,
            series: 1,
            attempts: Vec::new(),
            behaviour: NotifyBehaviour::default(),
            sealed: None,
        }
    }

    fn ack(signer: &str, request_no: &str) -> Vec<u8> {
        let echo = Echo {
            partner_id: "P1".into(),
            api_code: "connectivityNotify".into(),
            request_no: request_no.into(),
            version: VERSION.into(),
        };
        let key = PrivateKey::parse(signer).unwrap();
        let platform = PublicKey::parse(demo::PLATFORM_PUBLIC).unwrap();
        let empty = serde_json::json!({});
        envelope::seal_reply(
            &echo,
            "SUCCESS",
            "成功",
            Some(&empty),
            Some((&key, &platform)),
            HexCase::Lower,
        )
    }

    #[test]
    fn strict_ack_accepts_the_partners_signature_and_refuses_any_other() {
        let (strict, lenient, n) = (transport(true), transport(false), notification());
        assert_eq!(
            strict.judge(&n, 200, &ack(demo::PARTNER_PRIVATE, "N1")),
            Ok(())
        );
        let forged = ack(demo::PLATFORM_PRIVATE, "N1");
        let why = strict.judge(&n, 200, &forged).unwrap_err();
        assert!(
            why.contains("does not verify with the partner's public key"),
            "{why}"
        );
        assert_eq!(lenient.judge(&n, 200, &forged), Ok(()));
        let why = strict
            .judge(&n, 200, &ack(demo::PARTNER_PRIVATE, "N2"))
            .unwrap_err();
        assert!(why.contains("head.requestNo is \"N2\""), "{why}");
        let why = strict
            .judge(
                &n,
                200,
                br#"{"head":{"code":"SUCCESS","requestNo":"N1","sign":"zz"}}"#,
            )
            .unwrap_err();
        assert!(why.contains("not hex"), "{why}");
    }

    #[test]
    fn a_corrupted_seal_still_parses_but_fails_verification() {
        let t = transport(false);
        let n = notification();
        let good = t.seal(&n, false).unwrap();
        let bad = t.seal(&n, true).unwrap();
        let key = PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap();
        let platform = PublicKey::parse(demo::PLATFORM_PUBLIC).unwrap();
        let open = |bytes: &[u8]| {
            envelope::parse_request(bytes)
                .ok()
                .unwrap()
                .open(&key, &platform)
        };
        assert_eq!(open(&good.body).unwrap().body, n.payload);
        assert!(open(&bad.body).is_err());
        let mut unknown = notification();
        unknown.tenant = TenantId::new(Provider::Whalet, "P9");
        assert!(t.seal(&unknown, false).unwrap_err().contains("whalet:P9"));
    }
}
