//! Whalet notifications: a request envelope signed with the platform key and encrypted to the
//! partner's public key; acknowledged by an HTTP 2xx Whalet reply whose `head.code` is SUCCESS
//! and, with `strict_ack` (the default), whose head is complete, echoes the notification and
//! carries a valid signature when it carries one (see `wire::whalet::check_ack`).

use std::sync::Arc;

use crate::api::whalet::partners::{Partner, Partners};
use crate::notify::{
    configured_url, judge_status, schedule, Exhausted, Notification, Sealed, Transport,
};
use crate::tenant::TenantId;
use crate::text::{bound, echo, ECHO_BYTES};
use serde_json::Value;

use crate::wire::whalet::{self as envelope, Echo, KeyEncForm, VERSION};
use crate::wire::HexCase;

pub struct WhaletTransport {
    pub partners: Arc<Partners>,
    pub hex_case: HexCase,
    /// The `keyEnc` plaintext written (`[whalet] key_enc_form`).
    pub key_enc_form: KeyEncForm,
}

impl WhaletTransport {
    /// The partner a notification goes to.
    fn partner(&self, n: &Notification) -> Result<Arc<Partner>, String> {
        self.partners
            .get(&n.tenant.id)
            .ok_or_else(|| format!("tenant {} is not a configured Whalet partner", n.tenant))
    }

    /// [`Transport::judge`] of a 2xx answer from its JSON tree, which says why an ack is refused.
    fn judge_tree(&self, n: &Notification, body: &[u8]) -> Result<(), String> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            not_a_reply(
                body,
                &format!("not JSON: {}", crate::wire::not_json(body, &e)),
            )
        })?;
        let head = value
            .get("head")
            .and_then(Value::as_object)
            .ok_or_else(|| not_a_reply(body, "no head object"))?;
        let text = |name: &str| head.get(name).and_then(Value::as_str);
        let code = text("code").ok_or("the answer has no head.code")?;
        if code != "SUCCESS" {
            return Err(format!(
                "ack head.code is {}{}, not SUCCESS",
                echo(code),
                ack_detail(text("detail"))
            ));
        }
        let partner = self.partner(n)?;
        if partner.strict_ack {
            envelope::check_ack(
                &value,
                &notification_head(&partner, n),
                &partner.public_key,
                partner.ack_sign_required,
            )?;
        }
        Ok(())
    }
}

/// What a Whalet acknowledgement is, said after a refused answer that is none.
const ACK_SHAPE: &str = "answer with a JSON Whalet reply whose head echoes the notification's \
                         partnerId, apiCode, requestNo and version, with code SUCCESS (docs/WIRE.md, \
                         \"The acknowledgement a partner returns\")";

/// Why an answer is no Whalet reply (`why`), and what one is. An empty body and the other
/// providers' plain acknowledgements (Infinia Pay's `SUCCESS`, Pockyt's `success`), which a
/// partner's first receiver often answers, are named as such.
fn not_a_reply(body: &[u8], why: &str) -> String {
    let text = String::from_utf8_lossy(body);
    let (why, whose) = match text.trim() {
        "" => ("an empty body", ""),
        "SUCCESS" => (
            why,
            ": the plain SUCCESS is Infinia Pay's acknowledgement, not Whalet's",
        ),
        "success" => (
            why,
            ": the plain success is Pockyt's acknowledgement, not Whalet's",
        ),
        _ => (why, ""),
    };
    format!("the answer is not a Whalet reply ({why}){whose}; {ACK_SHAPE}")
}

/// The head a notification to `partner` carries, which its ack must echo.
fn notification_head(partner: &Partner, n: &Notification) -> Echo {
    Echo {
        partner_id: partner.id.clone(),
        api_code: n.topic.clone(),
        request_no: n.request_no.clone(),
        version: VERSION.into(),
    }
}

/// The receiver's `head.detail` as the verdict shows it after a refused code: ` (detail)`, cut
/// like any echoed value so that the verdict stays short; nothing when there is no detail.
fn ack_detail(detail: Option<&str>) -> String {
    match detail {
        Some(detail) if !detail.is_empty() => format!(" ({})", bound(detail, ECHO_BYTES)),
        _ => String::new(),
    }
}

impl Transport for WhaletTransport {
    fn url(&self, tenant: &TenantId) -> Result<String, String> {
        let configured = self.partners.get(&tenant.id).map(|p| p.notify_url.get());
        configured_url(tenant, configured, "[[whalet.partners]]")
    }

    fn seal(&self, n: &Notification, corrupt: bool) -> Result<Sealed, String> {
        let partner = self.partner(n)?;
        let mut body = envelope::seal_request_as(
            &notification_head(&partner, n),
            &n.payload,
            &partner.platform_key,
            &partner.public_key,
            self.hex_case,
            self.key_enc_form,
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
        judge_status(status)?;
        if let Ok(partner) = self.partner(n) {
            let head = notification_head(&partner, n);
            let (strict, signed) = (partner.strict_ack, partner.ack_sign_required);
            if envelope::plain_ack_accepted(body, &head, strict, signed) {
                return Ok(());
            }
        }
        self.judge_tree(n, body)
    }

    fn retry_delays(&self) -> Vec<i64> {
        schedule::WHALET_RETRY_MS.to_vec()
    }

    /// Whalet (the Open API and whalet-platform) documents that, its retries spent, it
    /// notifies the partner offline: the line says so.
    fn exhausted(&self, n: &Notification) -> Exhausted {
        Exhausted {
            message: "offline notice: notification exhausted its retries; the partner would \
                      now be told offline",
            ..Exhausted::retries(n)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{Config, WhaletConfig};
    use crate::notify::NotificationSpec;
    use crate::tenant::Provider;
    use crate::wire::keys::{demo, PrivateKey, PublicKey};

    fn transport(strict: bool) -> WhaletTransport {
        transport_with(&format!("strict_ack = {strict}\n"))
    }

    fn transport_with(partner_keys: &str) -> WhaletTransport {
        let cfg: WhaletConfig = Config::parse(&format!(
            "[whalet]\ndemo_partner = false\n[[whalet.partners]]\npartner_id = \"P1\"\n\
             public_key = \"\"\"{}\"\"\"\n{partner_keys}",
            demo::PARTNER_PUBLIC
        ))
        .unwrap()
        .whalet;
        WhaletTransport {
            partners: Arc::new(Partners::from_config(&cfg, None).unwrap()),
            hex_case: HexCase::Lower,
            key_enc_form: KeyEncForm::Base64,
        }
    }

    fn notification() -> Notification {
        let spec = NotificationSpec::new(
            TenantId::new(Provider::Whalet, "P1"),
            "whalet",
            "connectivityNotify".into(),
            serde_json::json!({"notifyMessage": "x"}),
        );
        Notification::pending("ntf_000001".into(), "N1".into(), spec, 0)
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

    /// Asserts that `t` refuses `body`, answered with HTTP 200, as the ack of `n`, for a reason
    /// that says `why`.
    #[track_caller]
    fn assert_refused(t: &WhaletTransport, n: &Notification, body: &[u8], why: &str) {
        let refusal = t.judge(n, 200, body).unwrap_err();
        assert!(refusal.contains(why), "{refusal}");
    }

    /// An answer that is no Whalet reply says what one is; the other providers' plain acks and
    /// an empty body are named as such (t54a F13: a partner's first receiver answers them).
    #[test]
    fn an_answer_that_is_no_whalet_reply_says_what_an_ack_is() {
        let (t, n) = (transport(true), notification());
        for (body, why) in [
            (&b"SUCCESS"[..], "(not JSON: "),
            (b" SUCCESS\n", "Infinia Pay's acknowledgement, not Whalet's"),
            (b"success", "Pockyt's acknowledgement, not Whalet's"),
            (b"", "(an empty body)"),
            (b"  ", "(an empty body)"),
            (br#"{"code":"SUCCESS"}"#, "(no head object)"),
            (b"OK", "(not JSON: "),
        ] {
            let refusal = t.judge(&n, 200, body).unwrap_err();
            assert!(
                refusal.starts_with("the answer is not a Whalet reply (") && refusal.contains(why),
                "{refusal}"
            );
            assert!(
                refusal.ends_with(ACK_SHAPE) && refusal.contains("echoes the notification's"),
                "{refusal}"
            );
        }
        let ok = t.judge(&n, 200, b"OK").unwrap_err();
        assert!(!ok.contains("acknowledgement, not Whalet's"), "{ok}");
    }

    /// Regression (t55c): an ack with a UTF-8 byte order mark before its JSON got the
    /// parser's bare "expected value at line 1 column 1"; it is named, as every other JSON
    /// reader of the simulator names it, and the same ack without it is accepted.
    #[test]
    fn an_ack_behind_a_byte_order_mark_is_refused_naming_the_mark() {
        let (t, n) = (transport(true), notification());
        let ack = ack(demo::PARTNER_PRIVATE, "N1");
        assert_eq!(t.judge(&n, 200, &ack), Ok(()));
        let marked = [&b"\xef\xbb\xbf"[..], &ack].concat();
        let refusal = t.judge(&n, 200, &marked).unwrap_err();
        assert!(
            refusal.starts_with("the answer is not a Whalet reply (not JSON: ")
                && refusal.contains("byte order mark (bytes EF BB BF)")
                && refusal.contains("send the JSON without it")
                && !refusal.contains("expected value at line 1 column 1"),
            "{refusal}"
        );
    }

    #[test]
    fn strict_ack_accepts_the_partners_signature_and_refuses_any_other() {
        let (strict, lenient, n) = (transport(true), transport(false), notification());
        assert_eq!(
            strict.judge(&n, 200, &ack(demo::PARTNER_PRIVATE, "N1")),
            Ok(())
        );
        let forged = ack(demo::PLATFORM_PRIVATE, "N1");
        assert_refused(
            &strict,
            &n,
            &forged,
            "does not verify with the partner's public key",
        );
        assert_eq!(lenient.judge(&n, 200, &forged), Ok(()));
        assert_refused(
            &strict,
            &n,
            &ack(demo::PARTNER_PRIVATE, "N2"),
            "head.requestNo is \"N2\"",
        );
        let sign_not_hex = br#"{"head":{"partnerId":"P1","apiCode":"connectivityNotify","requestNo":"N1","version":"1.0","code":"SUCCESS","detail":"","sign":"zz"}}"#;
        assert_refused(&strict, &n, sign_not_hex, "not hex");
    }

    #[test]
    fn the_default_ack_check_wants_the_complete_echoing_head() {
        // No strict_ack key at all: the documented check is the default.
        let (strict, n) = (transport_with(""), notification());
        let head = |fields: &str| format!(r#"{{"head":{{{fields}}}}}"#).into_bytes();
        let complete = r#""partnerId":"P1","apiCode":"connectivityNotify","requestNo":"N1","version":"1.0","code":"SUCCESS","detail":"成功""#;
        // Unsigned but complete: accepted (the documents make the reply's sign optional).
        assert_eq!(strict.judge(&n, 200, &head(complete)), Ok(()));
        assert_refused(
            &strict,
            &n,
            br#"{"head":{"code":"SUCCESS"}}"#,
            "head.partnerId is missing",
        );
        assert_refused(
            &strict,
            &n,
            &head(&complete.replace("connectivityNotify", "other")),
            "head.apiCode is \"other\", the notification's is \"connectivityNotify\"",
        );
        assert_refused(
            &strict,
            &n,
            &head(&complete.replace(r#""version":"1.0""#, r#""version":1"#)),
            "head.version must be a string",
        );
        // A field sent as null is there, with the wrong type (it is not missing); a null sign
        // is no unsigned ack either.
        assert_refused(
            &strict,
            &n,
            &head(&format!(r#"{complete},"sign":null"#)),
            "head.sign must be a hex string, got null",
        );
        assert_refused(
            &strict,
            &n,
            &head(&complete.replace(r#""detail":"成功""#, r#""detail":null"#)),
            "head.detail must be a string, got null",
        );
        // A signature, when present, must verify.
        assert_refused(
            &strict,
            &n,
            &ack(demo::PLATFORM_PRIVATE, "N1"),
            "does not verify",
        );
        // ack_sign_required: unsigned is refused, signed by the partner accepted.
        let signed_only = transport_with("ack_sign_required = true\n");
        assert_refused(
            &signed_only,
            &n,
            &head(complete),
            "the ack has no head.sign",
        );
        assert_eq!(
            signed_only.judge(&n, 200, &ack(demo::PARTNER_PRIVATE, "N1")),
            Ok(())
        );
        // strict_ack = false: today's leniency.
        assert_eq!(
            transport(false).judge(&n, 200, br#"{"head":{"code":"SUCCESS"}}"#),
            Ok(())
        );
    }

    #[test]
    fn a_refusing_acks_huge_code_and_detail_are_cut_in_the_reason() {
        let (t, n) = (transport(false), notification());
        let (code, detail) = ("C".repeat(60_000), "d".repeat(60_000));
        let answer = serde_json::json!({"head": {"code": code, "detail": detail}});
        let why = t.judge(&n, 200, answer.to_string().as_bytes()).unwrap_err();
        assert!(why.len() < 3 * ECHO_BYTES, "{} bytes", why.len());
        assert!(why.starts_with("ack head.code is \"CCC"), "{why}");
        assert!(why.contains(" more bytes (ddd"), "{why}");
        assert!(why.ends_with(" more bytes), not SUCCESS"), "{why}");
    }

    /// Regression: a refused code without a detail showed empty brackets (`"success" ()`).
    #[test]
    fn a_refused_code_shows_the_detail_only_when_there_is_one() {
        let (t, n) = (transport(false), notification());
        let why = |head: &str| {
            t.judge(&n, 200, format!(r#"{{"head":{head}}}"#).as_bytes())
                .unwrap_err()
        };
        let bare = r#"ack head.code is "success", not SUCCESS"#;
        assert_eq!(why(r#"{"code":"success"}"#), bare);
        assert_eq!(why(r#"{"code":"success","detail":""}"#), bare);
        assert_eq!(why(r#"{"code":"success","detail":7}"#), bare);
        assert_eq!(
            why(r#"{"code":"FAILURE","detail":"busy"}"#),
            r#"ack head.code is "FAILURE" (busy), not SUCCESS"#
        );
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

    /// The direct reading of an ack accepts only what the tree reading accepts: every ack here
    /// is judged the same with it as without it, under each check, and the plain acks are
    /// accepted by it (so it is not a reading that never answers).
    #[test]
    fn the_direct_reading_of_an_ack_answers_as_the_tree_reading() {
        let n = notification();
        let head = |rest: &str| {
            format!(
                r#"{{"head":{{"partnerId":"P1","apiCode":"connectivityNotify","requestNo":"N1","version":"1.0",{rest}}}}}"#
            )
        };
        let plain = [
            head(r#""code":"SUCCESS","detail":"成功""#),
            head(r#""code":"SUCCESS","detail":"","extra":[1,{"a":null}]"#),
            r#"{"head":{"partnerId":"P\u0031","apiCode":"connectivityNotify","requestNo":"N1","version":"1.0","code":"SUCC\u0045SS","detail":"\n"},"body":{}}"#.to_owned(),
        ];
        let other = [
            head(r#""code":"SUCCESS","detail":"","sign":null"#),
            head(r#""code":"SUCCESS","detail":"","sign":"00ff""#),
            head(r#""code":"FAIL","detail":"no""#),
            head(r#""code":"FAIL","detail":"","code":"SUCCESS""#),
            head(r#""code":"SUCCESS""#),
            head(r#""code":"SUCCESS","detail":7"#),
            head(r#""code":"SUCCESS","detail":"","version":"2.0""#),
            head(r#""code":"SUCCESS","detail":"""#).replace("N1", "N2"),
            format!("{} trailing", head(r#""code":"SUCCESS","detail":"""#)),
            r#"[{"partnerId":"P1","apiCode":"connectivityNotify","requestNo":"N1","version":"1.0","code":"SUCCESS","detail":""}]"#.to_owned(),
            r#"{"head":["P1","connectivityNotify","N1","1.0","SUCCESS",""]}"#.to_owned(),
            r#"{"head":null}"#.to_owned(),
            "SUCCESS".to_owned(),
            String::new(),
        ];
        let checks = [
            transport(true),
            transport(false),
            transport_with("ack_sign_required = true\n"),
        ];
        for t in &checks {
            let partner = t.partner(&n).unwrap();
            for body in plain.iter().chain(&other) {
                assert_eq!(
                    t.judge(&n, 200, body.as_bytes()),
                    t.judge_tree(&n, body.as_bytes()),
                    "{body}"
                );
            }
            for body in &plain {
                let accepted = envelope::plain_ack_accepted(
                    body.as_bytes(),
                    &notification_head(&partner, &n),
                    partner.strict_ack,
                    partner.ack_sign_required,
                );
                assert_eq!(accepted, !partner.ack_sign_required, "{body}");
            }
        }
    }

    /// Regression (t55c): Whalet's exhausted notification is its documented offline notice,
    /// named by its requestNo.
    #[test]
    fn an_exhausted_notification_is_an_offline_notice() {
        let mut n = notification();
        n.request_no = "R-42".into();
        let line = transport(false).exhausted(&n);
        assert_eq!(
            line.message,
            "offline notice: notification exhausted its retries; the partner would now be told \
             offline"
        );
        assert_eq!(line.key, ("requestNo", "R-42".to_owned()));
    }
}
