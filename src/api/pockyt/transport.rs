//! Pockyt IPNs: the payload's fields plus `verifySign` (signed with the merchant's token, as
//! requests are), posted as a form (`application/x-www-form-urlencoded`, the default) or JSON
//! (`ipn_format = "json"`). Acknowledged by HTTP 2xx with the body `success` (surrounding
//! whitespace ignored, case-sensitive); otherwise re-sent on [`schedule::POCKYT_RETRY_MS`].

use std::sync::Arc;

use serde_json::Value;

use crate::api::pockyt::Merchants;
use crate::config::pockyt::IpnFormat;
use crate::notify::{
    configured_url, judge_status, schedule, Exhausted, Notification, Sealed, Transport,
};
use crate::tenant::TenantId;
use crate::wire::pockyt as wire;

pub struct PockytTransport {
    pub merchants: Arc<Merchants>,
}

impl Transport for PockytTransport {
    fn url(&self, tenant: &TenantId) -> Result<String, String> {
        let configured = self.merchants.get(&tenant.id).map(|m| m.notify_url.get());
        configured_url(tenant, configured, "[[pockyt.merchants]]")
    }

    fn seal(&self, n: &Notification, corrupt: bool) -> Result<Sealed, String> {
        let merchant = self
            .merchants
            .get(&n.tenant.id)
            .ok_or_else(|| format!("no Pockyt merchant {}", n.tenant.id))?;
        let Value::Object(payload) = &n.payload else {
            return Err("the IPN payload is not an object".into());
        };
        let params = wire::params_of(payload);
        let mut pairs = wire::signed_pairs(&params, &merchant.token);
        if corrupt {
            if let Some((_, sign)) = pairs.iter_mut().find(|(k, _)| k == "verifySign") {
                *sign = wire::corrupt(sign);
            }
        }
        match merchant.ipn_format {
            IpnFormat::Form => Ok(Sealed {
                content_type: "application/x-www-form-urlencoded",
                body: wire::form_encode(&pairs).into(),
            }),
            IpnFormat::Json => {
                let object: serde_json::Map<String, Value> = pairs
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                Sealed::json("application/json", &object)
            }
        }
    }

    fn judge(&self, _n: &Notification, status: u16, body: &[u8]) -> Result<(), String> {
        judge_status(status)?;
        let text = String::from_utf8_lossy(body);
        if text.trim() == "success" {
            Ok(())
        } else {
            let shown: String = text.chars().take(80).collect();
            Err(format!(
                "the answer must be the body `success`, got {shown:?}"
            ))
        }
    }

    fn retry_delays(&self) -> Vec<i64> {
        schedule::POCKYT_RETRY_MS.to_vec()
    }

    /// An IPN carries no requestNo: the line names the transactionNo the merchant saw (the
    /// ledger's businessId).
    fn exhausted(&self, n: &Notification) -> Exhausted {
        Exhausted {
            key: ("transactionNo", n.business_id.clone().unwrap_or_default()),
            ..Exhausted::retries(n)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::notify::NotificationSpec;
    use crate::tenant::Provider;

    /// Regression (t55c): an exhausted IPN was logged as Whalet's offline notice and named by a
    /// requestNo it never carries. Its line says only that the retries are spent and names the
    /// transactionNo the merchant saw.
    #[test]
    fn an_exhausted_ipn_names_its_transaction_and_no_offline_notice() {
        let config = crate::config::Config::parse(
            "[[pockyt.merchants]]\nmerchant_no = \"7\"\nstore_no = \"1\"\ntoken = \"t\"\n",
        )
        .unwrap();
        let transport = PockytTransport {
            merchants: Arc::new(Merchants::from_config(&config.pockyt, None).unwrap()),
        };
        let spec = NotificationSpec {
            business_id: Some("T2026ABC".into()),
            ..NotificationSpec::new(
                TenantId::new(Provider::Pockyt, "7"),
                "pockyt",
                "payout".into(),
                serde_json::json!({"transactionNo": "T2026ABC"}),
            )
        };
        let n = Notification::pending("ntf_000001".into(), "N1".into(), spec, 0);
        let line = transport.exhausted(&n);
        assert_eq!(line.message, "notification exhausted its retries");
        assert_eq!(line.key, ("transactionNo", "T2026ABC".to_owned()));
    }
}
