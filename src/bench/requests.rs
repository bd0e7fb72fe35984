//! What the load generator sends: real, distinct, correctly signed requests for each surface.
//! Whalet and Infinia envelopes cost the partner an RSA signature each, so they are sealed before
//! the timed window, in parallel on every core; Pockyt requests are signed with MD5 (about a
//! microsecond) as they are sent; `raw` repeats one fixed request (health checks, echo baselines).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{json, Value};

use crate::clock::{format, system_now};
use crate::wire::crypto::SignatureHash;
use crate::wire::infinia;
use crate::wire::keys::{PrivateKey, PublicKey};
use crate::wire::whalet::{self as envelope, Echo, VERSION};
use crate::wire::HexCase;

/// How to tell whether a reply succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judge {
    /// Whalet envelope: `head.code`.
    WhaletHead,
    /// Pockyt: `ret_code`.
    RetCode,
    /// Infinia: `code`.
    InfiniaCode,
    /// Only the HTTP status.
    Status,
}

/// A source of request bodies, indexed by the request's sequence number.
#[derive(Clone)]
pub enum Pool {
    /// Sealed in advance; the run ends when they are used up.
    Sealed(Arc<Vec<Bytes>>),
    /// Made as they are sent.
    Generated(Arc<dyn Fn(u64) -> Bytes + Send + Sync>),
    /// The same body every time.
    Repeat(Bytes),
}

impl Pool {
    pub fn get(&self, index: u64) -> Option<Bytes> {
        match self {
            Pool::Sealed(all) => usize::try_from(index)
                .ok()
                .and_then(|i| all.get(i).cloned()),
            Pool::Generated(make) => Some(make(index)),
            Pool::Repeat(body) => Some(body.clone()),
        }
    }
}

/// Everything the workers need to send one kind of request.
#[derive(Clone)]
pub struct Plan {
    pub method: hyper::Method,
    /// Path and query, e.g. `/api`.
    pub path: String,
    pub content_type: &'static str,
    pub pool: Pool,
    pub judge: Judge,
    /// The code that counts as success (`SUCCESS`, `000100`, `SUC-200`, `HTTP 200`).
    pub success: Vec<String>,
    /// For envelope schemes: how to fully open (verify and decrypt) one reply per worker.
    pub opener: Option<Opener>,
    /// For envelope schemes: how to seal request `i` (the pool is sealed before each run).
    pub sealer: Option<Arc<dyn Sealer + Send>>,
}

/// The partner's side of an envelope scheme, to open replies as a partner would.
#[derive(Clone)]
pub enum Opener {
    Whalet {
        key: PrivateKey,
        platform: PublicKey,
    },
    Infinia {
        key: PrivateKey,
        infinia: PublicKey,
        alg: SignatureHash,
    },
}

/// A scheme whose requests are sealed before the run: request `i` as wire bytes.
pub trait Sealer: Sync {
    fn seal(&self, run: i64, i: usize) -> Bytes;
}

/// Seals `count` distinct requests on `threads` threads.
pub fn seal_all(sealer: &dyn Sealer, count: usize, threads: usize) -> Vec<Bytes> {
    let run = system_now();
    let threads = threads.clamp(1, 64);
    let chunk = count.div_ceil(threads).max(1);
    let mut out: Vec<Bytes> = Vec::with_capacity(count);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(count);
                scope.spawn(move || {
                    (start..end)
                        .map(|i| sealer.seal(run, i))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            if let Ok(part) = handle.join() {
                out.extend(part);
            }
        }
    });
    out
}

/// The Whalet partner whose requests are sealed.
pub struct WhaletPartner {
    pub partner_id: String,
    pub key: PrivateKey,
    pub platform_public: PublicKey,
    pub api_code: String,
    /// Business body; `{i}` inside any string value is replaced by the request's number.
    pub body: Value,
}

/// Request numbers are unique per run: `B` + the run's start in ms + a 7-digit sequence.
impl Sealer for WhaletPartner {
    fn seal(&self, run: i64, i: usize) -> Bytes {
        let echo = Echo {
            partner_id: self.partner_id.clone(),
            api_code: self.api_code.clone(),
            request_no: format!("B{run}{:07}", i % 10_000_000),
            version: VERSION.to_owned(),
        };
        let body = substitute(&self.body, &i.to_string());
        envelope::seal_request(
            &echo,
            &body,
            &self.key,
            &self.platform_public,
            HexCase::Lower,
        )
        .map(Bytes::from)
        .unwrap_or_default()
    }
}

/// An Infinia merchant app whose requests are sealed (spec §2.0: RSA blocks to Infinia's key,
/// signed with the merchant's).
pub struct InfiniaMerchant {
    pub app_id: String,
    pub version: String,
    pub key: PrivateKey,
    pub infinia_public: PublicKey,
    pub alg: SignatureHash,
    /// Business body; `{i}` inside any string value is replaced by the request's number.
    pub body: Value,
}

impl Sealer for InfiniaMerchant {
    fn seal(&self, _run: i64, i: usize) -> Bytes {
        let body = substitute(&self.body, &i.to_string());
        infinia::seal_request(
            &self.version,
            &self.app_id,
            &body,
            &self.key,
            &self.infinia_public,
            self.alg,
        )
        .map(|sealed| Bytes::from(sealed.to_json()))
        .unwrap_or_default()
    }
}

fn substitute(value: &Value, n: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("{i}", n)),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, n)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, n)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A Pockyt merchant (spec §3.1: `verifySign` = MD5 over the sorted `name=value&` pairs followed
/// by the MD5 of the API token).
#[derive(Clone)]
pub struct PockytMerchant {
    pub merchant_no: String,
    pub store_no: String,
    pub token: String,
    /// Extra body parameters; `{i}` in a value is replaced by the request's number.
    pub params: BTreeMap<String, String>,
}

impl PockytMerchant {
    /// The signed JSON body of request number `i`, with the current UTC `timestamp`.
    pub fn body(&self, i: u64) -> Bytes {
        let n = i.to_string();
        let mut params: BTreeMap<String, String> = self
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.replace("{i}", &n)))
            .collect();
        params.insert("merchantNo".into(), self.merchant_no.clone());
        params.insert("storeNo".into(), self.store_no.clone());
        params
            .entry("timestamp".into())
            .or_insert_with(|| format::utc_z(system_now()));
        let sign = pockyt_sign(&params, &self.token);
        let mut body: serde_json::Map<String, Value> = params
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        body.insert("verifySign".into(), Value::String(sign));
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    }
}

/// `verifySign` of sorted parameters (every parameter but `verifySign`, empty values included).
pub fn pockyt_sign(params: &BTreeMap<String, String>, token: &str) -> String {
    use md5::{Digest, Md5};
    let mut text = String::new();
    for (k, v) in params.iter().filter(|(k, _)| k.as_str() != "verifySign") {
        text.push_str(k);
        text.push('=');
        text.push_str(v);
        text.push('&');
    }
    text.push_str(&hex::encode(Md5::digest(token.as_bytes())));
    hex::encode(Md5::digest(text.as_bytes()))
}

/// The default connectivity body: a reply with a body, so the server does all four RSA steps.
pub fn default_whalet_body() -> Value {
    json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "bench {i}"})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pockyt_sign_matches_the_documented_vector() {
        let params: BTreeMap<String, String> = [
            ("amount", "1.00"),
            ("storeNo", "300014"),
            ("currency", "USD"),
            ("merchantNo", "200043"),
            ("callbackUrl", "https://wx.yuansfer.yunkeguan.com/wx"),
            ("terminal", "ONLINE"),
            ("ipnUrl", "https://wx.yuansfer.yunkeguan.com/wx"),
            ("reference", "seq_1525922323"),
            ("vendor", "alipay"),
            ("goodsInfo", r#"[{"goods_name":"Yuansfer","quantity":"1"}]"#),
            ("timeout", "120"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            pockyt_sign(&params, "5cbfb079f15b150122261c8537086d77a"),
            "b6bfd66531ae7c9499115c7480a2c8aa"
        );
    }

    #[test]
    fn sealed_whalet_requests_are_distinct_and_open() {
        use crate::wire::keys::demo;
        let platform = PrivateKey::parse(demo::PLATFORM_PRIVATE).unwrap();
        let partner = WhaletPartner {
            partner_id: "p1".into(),
            key: PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap(),
            platform_public: platform.public().clone(),
            api_code: "connectivity".into(),
            body: default_whalet_body(),
        };
        let sealed = seal_all(&partner, 5, 2);
        assert_eq!(sealed.len(), 5);
        let mut numbers = std::collections::HashSet::new();
        for (i, bytes) in sealed.iter().enumerate() {
            let request = envelope::parse_request(bytes).unwrap();
            let opened = request.open(&platform, partner.key.public()).unwrap();
            assert_eq!(opened.body["responseMessage"], format!("bench {i}"));
            assert!(numbers.insert(opened.echo.request_no));
        }
    }
}

#[cfg(test)]
mod infinia_tests {
    use super::*;
    use crate::wire::keys::demo;

    #[test]
    fn sealed_infinia_requests_are_distinct_and_open() {
        let infinia_key = PrivateKey::parse(demo::INFINIA_PRIVATE).unwrap();
        let merchant = InfiniaMerchant {
            app_id: "demo-app".into(),
            version: "1.0".into(),
            key: PrivateKey::parse(demo::INFINIA_MERCHANT_PRIVATE).unwrap(),
            infinia_public: infinia_key.public().clone(),
            alg: SignatureHash::Sha256,
            body: json!({"currency": "USD", "note": "n{i}"}),
        };
        let sealed = seal_all(&merchant, 4, 2);
        assert_eq!(sealed.len(), 4);
        for (i, bytes) in sealed.iter().enumerate() {
            let request = infinia::parse_request(bytes).unwrap();
            assert_eq!(request.app_id, "demo-app");
            infinia::verify_signature(
                &request.signature,
                &request.request_data,
                merchant.key.public(),
                SignatureHash::Sha256,
            )
            .unwrap();
            let body =
                infinia::decrypt_data("requestData", &request.request_data, &infinia_key).unwrap();
            assert_eq!(body["note"], format!("n{i}"));
        }
    }
}
