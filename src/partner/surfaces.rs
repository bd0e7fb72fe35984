//! The partner's side of the Infinia and Pockyt schemes, for `whalet-sim call --surface` and
//! `whalet-sim listen --surface`: seal a request and open its reply as a merchant would, and
//! verify a webhook (Infinia seller status) or an IPN (Pockyt) and say what to answer.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::clock::{format, system_now};
use crate::wire::crypto::SignatureHash;
use crate::wire::infinia;
use crate::wire::keys::{PrivateKey, PublicKey};
use crate::wire::pockyt;

use crate::http::client::ClientResponse;

use super::{diagnostic, reply_client, unopened, whole_reply, Answered, CallError};

/// An Infinia merchant app: requests are RSA-block encrypted to Infinia's key and signed with
/// the merchant's.
pub struct InfiniaMerchant {
    pub base_url: String,
    pub app_id: String,
    pub version: String,
    pub key: PrivateKey,
    pub infinia_public: PublicKey,
    pub alg: SignatureHash,
}

impl InfiniaMerchant {
    /// Posts `data` to `operation` (`account-balance/query`, or a full `/api/v1/...` path):
    /// the RSA blocks hold `data`'s own characters, so a number arrives as it was written
    /// (`1e2`, `100.10`), not as a `Value` would print it again.
    pub async fn call(&self, operation: &str, data: &str) -> Result<Answered, CallError> {
        let sealed = self.seal(data).map_err(|e| CallError::Seal(e.message))?;
        let url = format!("{}{}", self.base_url, infinia_path(operation));
        let response = post(&url, "application/json;charset=UTF-8", sealed.to_json()).await?;
        if let Some(refusal) = plain_refusal(&response, "code") {
            return Ok(refusal);
        }
        let reply = infinia::open_reply(&response.body, &self.key, &self.infinia_public, self.alg)
            .map_err(|e| unopened(response.status, &response.body, e.message))?;
        Ok(Answered {
            status: response.status,
            code: reply.code.clone(),
            json: serde_json::json!({
                "appId": reply.app_id,
                "code": reply.code,
                "message": reply.message,
                "data": reply.data,
            }),
            diagnostic: diagnostic(&response),
        })
    }

    /// `data` (the business JSON as text) as a request: [`infinia::seal_request`]'s envelope,
    /// the blocks encrypting these bytes as they are.
    fn seal(&self, data: &str) -> Result<infinia::SealedRequest, infinia::InfiniaError> {
        infinia::seal_request_bytes(
            (&self.version, &self.app_id),
            data.as_bytes(),
            &self.key,
            &self.infinia_public,
            self.alg,
        )
    }

    /// Verifies and decrypts a seller-status webhook: Ok(the business data). With `unsigned`, a
    /// webhook with no `signature` (the simulator's `[infinia] sign_webhooks = false`) is only
    /// decrypted, its envelope read as strictly as a signed one's; a signature that is there
    /// must verify either way.
    pub fn open_webhook(&self, body: &[u8], unsigned: bool) -> Result<Value, String> {
        if let Some(body) = unsigned.then(|| without_signature(body)).flatten() {
            let sealed = infinia::parse_request(&body).map_err(|(_, e)| e.message)?;
            return infinia::decrypt_data("requestData", &sealed.request_data, &self.key)
                .map_err(|e| e.message);
        }
        let sealed = infinia::parse_request(body).map_err(|(_, e)| e.message)?;
        sealed
            .open(&self.key, &self.infinia_public, self.alg)
            .map_err(|e| e.message)
    }
}

/// An unsigned webhook `body` (a JSON object without `signature`, or with it null or empty) with
/// a stand-in signature, so that its envelope is read as a signed one's; `None` for any other.
fn without_signature(body: &[u8]) -> Option<Vec<u8>> {
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    match map.get("signature") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.is_empty() => {}
        Some(_) => return None,
    }
    map.insert("signature".into(), Value::from("unsigned"));
    serde_json::to_vec(&map).ok()
}

/// The signature hash named by `--infinia-alg` (`sha256` or `sha1`).
pub fn signature_hash(text: &str) -> Result<SignatureHash, String> {
    match text.to_ascii_lowercase().as_str() {
        "sha256" | "sha256withrsa" => Ok(SignatureHash::Sha256),
        "sha1" | "sha1withrsa" => Ok(SignatureHash::Sha1),
        _ => Err(format!("--infinia-alg `{text}`: expected sha256 or sha1")),
    }
}

/// `--infinia-alg` as the command line parses it ([`signature_hash`]): a value that is neither
/// is a usage error (exit 2), clap naming the flag and the value.
pub fn signature_hash_arg(text: &str) -> Result<SignatureHash, String> {
    signature_hash(text).map_err(|_| "expected sha256 or sha1".to_owned())
}

/// The path of an Infinia operation: `account-balance/query` → `/api/v1/account-balance/query`.
pub fn infinia_path(operation: &str) -> String {
    if operation.starts_with('/') {
        operation.to_owned()
    } else {
        format!("/api/v1/{operation}")
    }
}

/// A Pockyt merchant: parameters signed with `verifySign` (MD5 with the API token).
pub struct PockytMerchant {
    pub base_url: String,
    pub merchant_no: String,
    pub store_no: String,
    pub token: String,
}

impl PockytMerchant {
    /// Posts `body` (a JSON object as text; `merchantNo`, `storeNo`, `timestamp` and
    /// `verifySign` are added, [`Self::sign`]) to `operation` (`v3/payouts/balance` or
    /// `/v3/payouts/balance`).
    pub async fn call(&self, operation: &str, body: &str) -> Result<Answered, CallError> {
        let signed = self.sign(body).map_err(CallError::Seal)?;
        let url = format!("{}{}", self.base_url, pockyt_path(operation));
        let response = post(&url, "application/json", signed.into_bytes()).await?;
        plain_refusal(&response, "ret_code").ok_or_else(|| {
            let body = &response.body;
            let why = format!(
                "the reply is not a JSON object with a ret_code: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            );
            unopened(response.status, body, why)
        })
    }

    /// `body` (a JSON object as text) with the merchant's numbers and timestamp where it has
    /// none, and its `verifySign` (any it had is replaced). Each value the partner wrote is
    /// written back as its own characters: Pockyt signs a number as the text sent, so `1e2`
    /// must arrive and be signed as `1e2`, never as a `Value` prints it (`100.0`).
    pub fn sign(&self, body: &str) -> Result<String, String> {
        let given = match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(given)) => given,
            Ok(_) => return Err("a Pockyt body is a JSON object of parameters".into()),
            Err(e) => return Err(format!("a Pockyt body is not JSON: {e}")),
        };
        // The same text read again for each value's characters; a later duplicate name wins,
        // as in `given` (whose order, the partner's, is kept).
        let raw: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(body).map_err(|e| format!("a Pockyt body is not JSON: {e}"))?;
        let mut members: Vec<(String, String)> = given
            .keys()
            .filter(|name| name.as_str() != "verifySign")
            .filter_map(|name| Some((name.clone(), raw.get(name)?.get().to_owned())))
            .collect();
        let timestamp = format::utc_z(system_now());
        for (name, value) in [
            ("merchantNo", self.merchant_no.as_str()),
            ("storeNo", self.store_no.as_str()),
            ("timestamp", timestamp.as_str()),
        ] {
            if !given.contains_key(name) {
                members.push((name.to_owned(), Value::from(value).to_string()));
            }
        }
        let unsigned = object_text(&members);
        let fields = match serde_json::from_str::<Value>(&unsigned) {
            Ok(Value::Object(fields)) => fields,
            _ => return Err("the body with the merchant's fields is no JSON object".into()),
        };
        let params = pockyt::params_of_json(&fields, unsigned.as_bytes());
        let sign = pockyt::sign(&params, &self.token);
        members.push(("verifySign".to_owned(), Value::from(sign).to_string()));
        Ok(object_text(&members))
    }

    /// Verifies an IPN (form or JSON; a JSON number, object or array signed as the characters
    /// sent, as the Pockyt surface reads a request): Ok(its parameters, `verifySign` left out,
    /// a JSON number given as the characters sent, in a string: `1.00` is not shown as `1.0`,
    /// and two IPNs that signed different texts are not taken for one).
    pub fn open_ipn(&self, content_type: &str, body: &[u8]) -> Result<Value, String> {
        let json = content_type.contains("json");
        let object: Map<String, Value> = if json {
            match serde_json::from_slice(body) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err("the IPN is JSON but not an object".into()),
                Err(e) => return Err(format!("the IPN is not JSON: {e}")),
            }
        } else {
            form_decode(body)?
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        };
        let sign = match object.get("verifySign") {
            Some(Value::String(sign)) => sign.as_str(),
            Some(other) => {
                return Err(format!(
                    "the IPN's verifySign must be a string, got {}",
                    crate::wire::whalet::json_type(other)
                ))
            }
            None => return Err("the IPN has no verifySign".into()),
        };
        let params = if json {
            pockyt::params_of_json(&object, body)
        } else {
            pockyt::params_of(&object)
        };
        pockyt::verify(&params, &self.token, sign, &[]).map_err(|e| e.msg)?;
        let mut shown = object;
        shown.remove("verifySign");
        for (name, value) in shown.iter_mut() {
            if let (Value::Number(_), Some(Some(text))) = (&*value, params.get(name)) {
                *value = Value::String(text.clone());
            }
        }
        Ok(Value::Object(shown))
    }
}

/// A JSON object of `members`: each name quoted, each value's text as given.
fn object_text(members: &[(String, String)]) -> String {
    let members: Vec<String> = members
        .iter()
        .map(|(name, value)| format!("{}:{value}", Value::from(name.as_str())))
        .collect();
    format!("{{{}}}", members.join(","))
}

/// The path of a Pockyt operation: `v3/payouts/balance` → `/v3/payouts/balance`.
pub fn pockyt_path(operation: &str) -> String {
    if operation.starts_with('/') {
        operation.to_owned()
    } else {
        format!("/{operation}")
    }
}

/// Decodes `application/x-www-form-urlencoded` pairs.
fn form_decode(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    fn dec(s: &str) -> Result<String, String> {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = s
                        .get(i + 1..i + 3)
                        .ok_or_else(|| format!("a cut %-escape in {s:?}"))?;
                    let byte = u8::from_str_radix(hex, 16)
                        .map_err(|_| format!("a bad %-escape %{hex} in the form"))?;
                    out.push(byte);
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|_| "the form is not UTF-8".into())
    }
    let text = std::str::from_utf8(body).map_err(|_| "the form is not UTF-8")?;
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((dec(k)?, dec(v)?))
        })
        .collect()
}

/// A reply in clear JSON with its result code under `code_field` (a Pockyt reply; an Infinia
/// refusal, which carries no `responseData`), with the status it came with.
fn plain_refusal(response: &ClientResponse, code_field: &str) -> Option<Answered> {
    let json: Value = serde_json::from_slice(&response.body).ok()?;
    if json.get("responseData").is_some_and(|d| !d.is_null()) {
        return None;
    }
    let code = json.get(code_field)?.as_str()?.to_owned();
    Some(Answered {
        status: response.status,
        code,
        json,
        diagnostic: diagnostic(response),
    })
}

/// Posts and returns the answer, whatever its status: the caller opens the provider's reply
/// from it (Infinia answers an unknown path with 404 and a `code`) or reports the status.
async fn post(
    url: &str,
    content_type: &'static str,
    body: Vec<u8>,
) -> Result<ClientResponse, CallError> {
    let client = reply_client();
    let response = client
        .post(url, content_type, body.into(), Duration::from_secs(30))
        .await
        .map_err(CallError::Transport)?;
    whole_reply(response, client.answer_limit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::keys::demo;

    fn pockyt() -> PockytMerchant {
        PockytMerchant {
            base_url: String::new(),
            merchant_no: "202333".into(),
            store_no: "301854".into(),
            token: "demo-token".into(),
        }
    }

    #[test]
    fn paths_take_a_short_or_a_full_form() {
        assert_eq!(
            infinia_path("account-balance/query"),
            "/api/v1/account-balance/query"
        );
        assert_eq!(infinia_path("/api/v1/x"), "/api/v1/x");
        assert_eq!(pockyt_path("v3/payouts/balance"), "/v3/payouts/balance");
        assert_eq!(pockyt_path("/v3/payouts/balance"), "/v3/payouts/balance");
    }

    #[test]
    fn a_signed_pockyt_body_verifies_as_form_and_as_json_and_a_changed_one_does_not() {
        let m = pockyt();
        let signed: Value =
            serde_json::from_str(&m.sign(r#"{"amount": "1.00", "note": "a b&c"}"#).unwrap())
                .unwrap();
        let json = serde_json::to_vec(&signed).unwrap();
        let opened = m.open_ipn("application/json", &json).unwrap();
        assert_eq!(opened["merchantNo"], "202333");
        assert!(opened.get("verifySign").is_none());

        let pairs: Vec<(String, String)> = signed
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let form = pockyt::form_encode(&pairs);
        assert_eq!(
            m.open_ipn("application/x-www-form-urlencoded", form.as_bytes())
                .unwrap()["note"],
            "a b&c"
        );
        let tampered = form.replace("amount=1.00", "amount=2.00");
        assert!(m
            .open_ipn("application/x-www-form-urlencoded", tampered.as_bytes())
            .unwrap_err()
            .contains("verifySign"));
        assert!(m.sign("[1]").is_err());
        assert!(m.sign("{").is_err());
    }

    /// Regression: `listen` checked a JSON IPN's numbers as re-printed doubles (`1.00` as
    /// `1.0`), so an IPN signed over the characters sent was refused.
    #[test]
    fn a_json_ipn_with_numbers_verifies_over_the_characters_sent() {
        let m = pockyt();
        let signed = m
            .sign(r#"{"amount": 1.00, "fee": 100.10, "goods": [ {"n": 1.50} ]}"#)
            .unwrap();
        let opened = m.open_ipn("application/json", signed.as_bytes()).unwrap();
        // Shown as sent, not as the double it reads (100.1).
        assert_eq!(opened["fee"], "100.10");
        assert_eq!(opened["amount"], "1.00");
        let changed = signed.replace("100.10", "100.20");
        assert!(m
            .open_ipn("application/json", changed.as_bytes())
            .unwrap_err()
            .contains("verifySign"));
    }

    #[test]
    fn a_signed_pockyt_body_keeps_each_value_as_written_and_verifies_as_the_server_reads_it() {
        let m = pockyt();
        let body = r#"{"amount": 1e2, "fee":100.10, "tiny":0.0000001, "zero":-0,
                       "goods": [ {"n": 1.50} ], "note":"x", "verifySign":"old"}"#;
        let signed = m.sign(body).unwrap();
        for written in [
            r#""amount":1e2"#,
            r#""fee":100.10"#,
            r#""tiny":0.0000001"#,
            r#""zero":-0"#,
            r#""goods":[ {"n": 1.50} ]"#,
            r#""merchantNo":"202333""#,
        ] {
            assert!(signed.contains(written), "{written} in {signed}");
        }
        assert!(!signed.contains("old"), "{signed}");
        // The partner's order, the added fields after it.
        assert!(signed.starts_with(r#"{"amount":1e2,"fee""#), "{signed}");
        let Value::Object(fields) = serde_json::from_str(&signed).unwrap() else {
            panic!("{signed}")
        };
        let params = pockyt::params_of_json(&fields, signed.as_bytes());
        assert_eq!(params["amount"].as_deref(), Some("1e2"));
        let sign = fields["verifySign"].as_str().unwrap();
        pockyt::verify(&params, "demo-token", sign, &[]).unwrap();
    }

    #[test]
    fn an_infinia_webhook_opens_with_the_merchant_key_and_not_with_another() {
        let infinia_key = PrivateKey::parse(demo::INFINIA_PRIVATE).unwrap();
        let merchant_key = PrivateKey::parse(demo::INFINIA_MERCHANT_PRIVATE).unwrap();
        let data = serde_json::json!({"sellerId": "S1", "status": "ACTIVE"});
        let sealed = infinia::seal_request(
            "1.0",
            "infinia",
            &data,
            &infinia_key,
            merchant_key.public(),
            SignatureHash::Sha256,
        )
        .unwrap();
        let merchant = InfiniaMerchant {
            base_url: String::new(),
            app_id: "demo-app".into(),
            version: "1.0".into(),
            key: merchant_key.clone(),
            infinia_public: infinia_key.public().clone(),
            alg: SignatureHash::Sha256,
        };
        assert_eq!(
            merchant.open_webhook(&sealed.to_json(), false).unwrap(),
            data
        );
        // An unsigned webhook (`sign_webhooks = false`): refused unless `--unsigned`.
        let mut bare: Value = serde_json::from_slice(&sealed.to_json()).unwrap();
        bare.as_object_mut().unwrap().remove("signature");
        let bare = serde_json::to_vec(&bare).unwrap();
        assert!(merchant
            .open_webhook(&bare, false)
            .unwrap_err()
            .contains("signature is missing"));
        assert_eq!(merchant.open_webhook(&bare, true).unwrap(), data);
        let wrong = InfiniaMerchant {
            infinia_public: merchant_key.public().clone(),
            ..merchant
        };
        // A signature that is there must verify, with --unsigned too.
        assert!(wrong.open_webhook(&sealed.to_json(), false).is_err());
        assert!(wrong.open_webhook(&sealed.to_json(), true).is_err());
        assert_eq!(wrong.open_webhook(&bare, true).unwrap(), data);
    }

    #[test]
    fn form_decoding_refuses_broken_escapes() {
        assert!(form_decode(b"a=%4").is_err());
        assert!(form_decode(b"a=%zz").is_err());
        assert_eq!(
            form_decode(b"a=x%2By+z&b=").unwrap(),
            vec![("a".into(), "x+y z".into()), ("b".into(), String::new())]
        );
    }
}
