use super::*;
use crate::wire::keys::demo;
use crate::wire::testing::{assert_mentions, key_pair};
use serde_json::json;

fn keys() -> (PrivateKey, PrivateKey) {
    key_pair(demo::PARTNER_PRIVATE, demo::PLATFORM_PRIVATE)
}

fn echo() -> Echo {
    Echo {
        partner_id: "202400000000001".into(),
        api_code: "connectivity".into(),
        request_no: "REQ-1".into(),
        version: VERSION.into(),
    }
}

/// The four head fields an echo carries, each to be changed alike.
fn head_fields(echo: &mut Echo) -> [&mut String; 4] {
    [
        &mut echo.partner_id,
        &mut echo.api_code,
        &mut echo.request_no,
        &mut echo.version,
    ]
}

/// An empty body sealed by the partner for the platform (lower-case hex), as the JSON envelope
/// sent.
fn sealed_envelope() -> Value {
    let (partner, platform) = keys();
    let bytes = seal_request(
        &echo(),
        &json!({}),
        &partner,
        platform.public(),
        HexCase::Lower,
    );
    serde_json::from_slice(&bytes.unwrap()).unwrap()
}

/// `body` sealed by `sender` for `receiver` (lower-case hex), then parsed back.
fn sealed(body: &Value, sender: &PrivateKey, receiver: &PublicKey) -> SealedRequest {
    let bytes = seal_request(&echo(), body, sender, receiver, HexCase::Lower).unwrap();
    parse_request(&bytes).unwrap()
}

#[test]
fn request_round_trip_in_both_hex_cases() {
    let (partner, platform) = keys();
    let body = json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "你好"});
    for case in [HexCase::Lower, HexCase::Upper] {
        let bytes = seal_request(&echo(), &body, &partner, platform.public(), case).unwrap();
        let sealed = parse_request(&bytes).unwrap();
        let opened = sealed.open(&platform, partner.public()).unwrap();
        assert_eq!(opened.body, body);
        assert_eq!(opened.echo, echo());
    }
}

#[test]
fn tampered_encrypt_names_the_signed_string_and_key() {
    let (partner, platform) = keys();
    let mut sealed = sealed(&json!({"a": 1}), &partner, platform.public());
    let original = sealed.encrypt.clone();
    sealed.encrypt = original.to_uppercase().replace('A', "B");
    let err = sealed.open(&platform, partner.public()).unwrap_err();
    assert_eq!(err.code, Code::UnauthenticatedError);
    assert_mentions(&err.detail, "202400000000001|connectivity|1.0|REQ-1|");
    assert_mentions(&err.detail, partner.public().fingerprint());
}

#[test]
fn key_enc_for_the_wrong_receiver_is_a_format_error_naming_the_step() {
    let (partner, platform) = keys();
    // Encrypted to the partner's own key instead of the platform's.
    let err = sealed(&json!({}), &partner, partner.public())
        .open(&platform, partner.public())
        .unwrap_err();
    assert_eq!(err.code, Code::ParamFormatError);
    assert_mentions(&err.detail, "head.keyEnc could not be decrypted");
}

#[test]
fn reply_sign_string_leaves_out_encrypt_when_empty() {
    assert_eq!(
        reply_sign_string(&echo(), "SUCCESS", "成功", None),
        "202400000000001|connectivity|1.0|REQ-1|SUCCESS|成功"
    );
    assert_eq!(
        reply_sign_string(&echo(), "SUCCESS", "成功", Some("ab")),
        "202400000000001|connectivity|1.0|REQ-1|SUCCESS|成功|ab"
    );
    // Regression: an ack with `"encrypt": ""` had to be signed with a trailing `|`.
    assert_eq!(
        reply_sign_string(&echo(), "SUCCESS", "成功", Some("")),
        "202400000000001|connectivity|1.0|REQ-1|SUCCESS|成功"
    );
}

#[test]
fn reply_round_trip_with_and_without_body() {
    let (partner, platform) = keys();
    let body = json!({"messge": "pong"});
    let bytes = seal_reply(
        &echo(),
        "SUCCESS",
        SUCCESS_DETAIL,
        Some(&body),
        Some((&platform, partner.public())),
        HexCase::Upper,
    );
    let reply = open_reply(&bytes, &partner, platform.public()).unwrap();
    assert_eq!(reply.body, Some(body));
    assert_eq!(reply.code, "SUCCESS");
    let bytes = seal_reply(&echo(), "FAILURE", "no", None, None, HexCase::Lower);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(!text.contains("sign") && !text.contains("body"), "{text}");
    let reply = open_reply(&bytes, &partner, platform.public()).unwrap();
    assert_eq!(reply.body, None);
}

#[test]
fn malformed_envelopes_are_format_errors_with_the_field_named() {
    let cases: [(&[u8], &str); 7] = [
        (b"not json", "not a JSON envelope"),
        (b"{}", "`head` is missing"),
        (br#"{"head": []}"#, "`head` must be a JSON object"),
        (br#"{"head": {"partnerId": "1"}}"#, "head.apiCode is missing"),
        (br#"{"head": {"partnerId": "1", "apiCode": 5}}"#, "head.apiCode must be a string"),
        (
            br#"{"head": {"partnerId": "1", "apiCode": null}}"#,
            "head.apiCode must be a string, got null",
        ),
        (
            br#"{"head": {"partnerId": "1", "apiCode": "a", "requestNo": "r", "version": "2.0", "sign": "00", "keyEnc": "00"}}"#,
            "head.version is \"2.0\"",
        ),
    ];
    for (input, expected) in cases {
        let (_, err) = parse_request(input).unwrap_err();
        assert_eq!(err.code, Code::ParamFormatError);
        assert_mentions(&err.detail, expected);
    }
}

#[test]
fn json_that_is_not_an_object_is_named_by_its_type_not_ours() {
    let cases: [(&[u8], &str); 5] = [
        (b"[]", "it is an array"),
        (b"[1, 2]", "it is an array"),
        (b"5", "it is a number"),
        (br#""x""#, "it is a string"),
        (b"null", "it is null"),
    ];
    for (input, expected) in cases {
        let (_, err) = parse_request(input).unwrap_err();
        assert_eq!(err.code, Code::ParamFormatError);
        assert_mentions(&err.detail, "the request body is not a JSON envelope: ");
        assert_mentions(&err.detail, expected);
        assert_mentions(&err.detail, r#"send a JSON object {"head""#);
        assert!(!err.detail.contains("WireEnvelope"), "{}", err.detail);
        let (partner, platform) = keys();
        let err = open_reply(input, &partner, platform.public()).unwrap_err();
        assert_mentions(&err.detail, "the reply is not a JSON envelope: ");
        assert_mentions(&err.detail, expected);
    }
    // A sealed request's head and body as a two-element array (serde reads such an array
    // as the struct) are refused too.
    let envelope = sealed_envelope();
    let array = serde_json::to_vec(&json!([envelope["head"], envelope["body"]])).unwrap();
    let (_, err) = parse_request(&array).unwrap_err();
    assert_mentions(&err.detail, "it is an array");
}

/// A request body `{"a":1}` encrypted under `session_key`, its `keyEnc` plaintext `wrapped`
/// encrypted to the platform, opened by the platform (the signature is not the point here).
fn open_with_key_enc_plaintext(session_key: &[u8], wrapped: &[u8]) -> Result<Value, WhaletError> {
    let (_, platform) = keys();
    let encrypt = crypto::aes_ecb_encrypt(session_key, br#"{"a":1}"#).unwrap();
    let key_enc = crypto::rsa_encrypt(platform.public(), wrapped).unwrap();
    let sealed = SealedRequest {
        echo: echo(),
        sign: String::new(),
        key_enc: hex::encode(key_enc),
        encrypt: hex::encode(encrypt),
    };
    sealed.decrypt(&platform).map(|opened| opened.body)
}

#[test]
fn the_hex_of_the_session_key_in_key_enc_is_refused_naming_key_enc() {
    let b64 = |k: &[u8]| base64_encode(k).into_bytes();
    for len in [16, 24, 32] {
        let key: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        // The documented forms open.
        assert_eq!(
            open_with_key_enc_plaintext(&key, &b64(&key)).unwrap(),
            json!({"a": 1})
        );
        let hexed = hex::encode(b64(&key)).into_bytes();
        assert_eq!(
            open_with_key_enc_plaintext(&key, &hexed).unwrap(),
            json!({"a": 1})
        );
        // The key's own hex (32 digits are also Base64 of 24 bytes: the body is what tells).
        for wrapped in [hex::encode(&key), hex::encode_upper(&key)] {
            let err = open_with_key_enc_plaintext(&key, wrapped.as_bytes()).unwrap_err();
            assert_eq!(err.code, Code::ParamFormatError, "{len}: {}", err.detail);
            assert_mentions(
                &err.detail,
                &format!("head.keyEnc decrypted to {} hex digits", 2 * len),
            );
            assert_mentions(&err.detail, "must be the Base64 text of the session key");
            assert_mentions(&err.detail, "not its hex");
            assert!(!err.detail.contains("body.encrypt"), "{}", err.detail);
        }
    }
    // 32 hex digits that are the Base64 of a 24-byte key under which the body does open.
    let b64_key = b"0123456789abcdef0123456789abcdef";
    let key = base64_decode(b64_key).unwrap();
    assert_eq!(
        open_with_key_enc_plaintext(&key, b64_key).unwrap(),
        json!({"a": 1})
    );
    // A body that opens under neither reading keeps the body's diagnostic.
    let err = open_with_key_enc_plaintext(&[7; 16], b64_key).unwrap_err();
    assert_mentions(&err.detail, "body.encrypt did not decrypt");
}

/// Regression: a `keyEnc` plaintext in the URL-safe alphabet or without its padding, plain or
/// as hex, was called "not Base64", "a 33-byte key" or "the hex of a 24-byte key".
#[test]
fn url_safe_or_unpadded_key_enc_base64_is_named_as_such() {
    use base64::Engine;
    let url = base64::engine::general_purpose::URL_SAFE;
    let url_bare = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let bare = base64::engine::general_purpose::STANDARD_NO_PAD;
    // Its Base64 holds + and / (so the URL-safe text holds - and _).
    let key: Vec<u8> = [0xfb, 0xff, 0xbf]
        .repeat(5)
        .into_iter()
        .chain([0xfe])
        .collect();
    let cases = [
        (url.encode(&key), "URL-safe Base64 (- and _ for + and /)"),
        (
            url_bare.encode(&key),
            "URL-safe Base64 without its = padding",
        ),
        (bare.encode(&key), "Base64 without its = padding"),
    ];
    for (text, why) in cases {
        for (wrapped, form) in [(text.clone(), ""), (hex::encode(&text), "the hex of ")] {
            let err = open_with_key_enc_plaintext(&key, wrapped.as_bytes()).unwrap_err();
            assert_eq!(
                err.code,
                Code::ParamFormatError,
                "{wrapped}: {}",
                err.detail
            );
            assert_mentions(
                &err.detail,
                &format!("head.keyEnc decrypted to {form}{why};"),
            );
        }
    }
    // A random key (no + or / in its Base64), unpadded as hex: named too, not "33 bytes".
    let key = [0x11u8; 16];
    let wrapped = hex::encode(bare.encode(key));
    let err = open_with_key_enc_plaintext(&key, wrapped.as_bytes()).unwrap_err();
    assert_mentions(
        &err.detail,
        "head.keyEnc decrypted to the hex of Base64 without its = padding;",
    );
}

#[test]
fn white_space_around_the_key_enc_base64_is_refused_naming_it() {
    let key = [9u8; 16];
    let b64 = base64_encode(&key);
    for wrapped in [
        format!("{b64}\n"),
        format!("{b64}\r\n"),
        format!(" {b64}"),
        format!("{b64}\t"),
        format!("{}\n", hex::encode(&b64)),
    ] {
        let err = open_with_key_enc_plaintext(&key, wrapped.as_bytes()).unwrap_err();
        assert_eq!(err.code, Code::ParamFormatError, "{wrapped:?}");
        assert_mentions(
            &err.detail,
            "head.keyEnc decrypted to text with white space",
        );
        assert_mentions(&err.detail, "without line breaks or spaces");
    }
    let err = open_with_key_enc_plaintext(&key, format!("{b64}\n").as_bytes()).unwrap_err();
    assert_mentions(&err.detail, "('\\n' at position 24 of 25 bytes)");
}

/// Regression: a raw session key (bytes, not text) holding a tab byte was refused as "text with
/// white space"; it is "not Base64", which points at the fix.
#[test]
fn a_raw_key_with_a_white_space_byte_is_not_called_text() {
    let key: Vec<u8> = (0u8..16).collect();
    let err = open_with_key_enc_plaintext(&key, &key).unwrap_err();
    assert_eq!(err.code, Code::ParamFormatError);
    assert_mentions(
        &err.detail,
        "head.keyEnc decrypted to 16 bytes that are not Base64",
    );
}

#[test]
fn bad_hex_in_sign_is_unauthenticated_with_position() {
    let (partner, platform) = keys();
    let mut sealed = sealed(&json!({}), &partner, platform.public());
    sealed.sign.replace_range(4..5, "z");
    let err = sealed.open(&platform, partner.public()).unwrap_err();
    assert_eq!(err.code, Code::UnauthenticatedError);
    assert_mentions(&err.detail, "invalid character 'z' at position 4");
}

#[test]
fn detail_is_cut_on_a_character_boundary() {
    let long = "验".repeat(300);
    let (cut, was_cut) = wire_detail(&long, DETAIL_MAX_CHARS);
    assert!(was_cut);
    assert_eq!(cut.chars().count(), 256);
    assert!(cut.ends_with('…'));
    let exact = "a".repeat(256);
    assert_eq!(wire_detail(&exact, 256), (exact.as_str().into(), false));
    assert!(!wire_detail(&long, 0).1);
}

#[test]
fn header_values_are_printable_ascii_and_bounded() {
    assert_eq!(header_safe("a 1%\n验", 100), "a 1%25%0A%E9%AA%8C");
    let cut = header_safe(&"验".repeat(100), 20);
    assert!(cut.len() <= 20 && cut.ends_with("..."), "{cut}");
    assert!(cut.bytes().all(|b| (0x20..0x7f).contains(&b)));
}

#[test]
fn both_key_enc_forms_open_and_are_told_apart() {
    let (partner, platform) = keys();
    let body = json!({"a": 1});
    for form in [KeyEncForm::Base64, KeyEncForm::HexBase64] {
        let bytes = seal_request_as(
            &echo(),
            &body,
            &partner,
            platform.public(),
            HexCase::Lower,
            form,
        )
        .unwrap();
        let opened = parse_request(&bytes)
            .ok()
            .unwrap()
            .open(&platform, partner.public())
            .unwrap();
        assert_eq!(opened.body, body);
        assert_eq!(opened.key_enc_form, form);
    }
}

#[test]
fn a_refusal_echoes_a_huge_head_value_cut_to_the_diagnostic_cap() {
    let huge = "9".repeat(900_000);
    let echo = Echo {
        partner_id: "1".into(),
        api_code: huge.clone(),
        request_no: huge.clone(),
        version: huge,
    }
    .bounded();
    for field in [&echo.api_code, &echo.request_no, &echo.version] {
        assert!(
            field.len() <= crate::text::ECHO_BYTES,
            "{} bytes",
            field.len()
        );
        assert!(
            field.starts_with("999") && field.ends_with("more bytes"),
            "{field}"
        );
    }
    assert_eq!(echo.partner_id, "1");
    assert_eq!(
        self::echo().bounded(),
        self::echo(),
        "a head that fits is echoed whole"
    );
}

#[test]
fn an_ack_echoing_a_huge_request_no_is_refused_with_the_value_cut() {
    let (partner, _) = keys();
    let huge = "7".repeat(60_000);
    let ack = json!({"head": {
        "partnerId": "202400000000001", "apiCode": "connectivity", "requestNo": huge,
        "version": VERSION, "code": "SUCCESS", "detail": "ok"}});
    let why = check_ack(&ack, &echo(), partner.public(), false).unwrap_err();
    assert!(
        why.len() < 2 * crate::text::ECHO_BYTES,
        "{} bytes",
        why.len()
    );
    assert!(why.contains("head.requestNo is \"777"), "{why}");
    assert!(why.ends_with("the notification's is \"REQ-1\""), "{why}");
}

/// A reply answers the request it echoes: a genuine signed reply to another request (each head
/// field changed in turn) is refused by [`open_reply_to`], naming the field, though
/// [`open_reply`] opens it.
#[test]
fn a_signed_reply_to_another_request_is_refused_naming_the_field() {
    let (partner, platform) = keys();
    let body = json!({"ok": true});
    let reply = |echo: &Echo| {
        seal_reply(
            echo,
            "SUCCESS",
            SUCCESS_DETAIL,
            Some(&body),
            Some((&platform, partner.public())),
            HexCase::Lower,
        )
    };
    let sent = echo();
    assert!(open_reply_to(&reply(&sent), &sent, &partner, platform.public()).is_ok());
    let others = [
        (
            "partnerId",
            Echo {
                partner_id: "202400000000002".into(),
                ..echo()
            },
        ),
        (
            "apiCode",
            Echo {
                api_code: "queryCurrencyBalance".into(),
                ..echo()
            },
        ),
        (
            "requestNo",
            Echo {
                request_no: "REQ-0".into(),
                ..echo()
            },
        ),
        (
            "version",
            Echo {
                version: "2.0".into(),
                ..echo()
            },
        ),
    ];
    for (field, other) in others {
        let bytes = reply(&other);
        assert!(open_reply(&bytes, &partner, platform.public()).is_ok());
        let err = open_reply_to(&bytes, &sent, &partner, platform.public()).unwrap_err();
        assert_eq!(err.code, Code::UnauthenticatedError);
        assert_mentions(&err.detail, &format!("its head.{field} is"));
        assert_mentions(&err.detail, "does not answer this request");
    }
}

/// A refusal echoes a head value over `ECHO_BYTES` cut (`… N more bytes`, docs/FIDELITY.md
/// "head field lengths"), signed or not: that cut form answers the request, for each field; a
/// success never carries it, and any other shortening (or a cut of another value) is refused.
#[test]
fn a_refusal_echoing_a_long_head_value_cut_answers_the_request() {
    let (partner, platform) = keys();
    let long = "R".repeat(crate::text::ECHO_BYTES + 1);
    let longs = [
        Echo {
            partner_id: long.clone(),
            ..echo()
        },
        Echo {
            api_code: long.clone(),
            ..echo()
        },
        Echo {
            request_no: long.clone(),
            ..echo()
        },
        Echo {
            version: long.clone(),
            ..echo()
        },
    ];
    for sent in longs {
        let cut = sent.clone().bounded();
        assert_ne!(cut, sent);
        let open = |echo: &Echo, code: &str, sign: bool| {
            let signer = sign.then_some((&platform, partner.public()));
            let bytes = seal_reply(echo, code, "too long", None, signer, HexCase::Lower);
            open_reply_to(&bytes, &sent, &partner, platform.public())
        };
        for sign in [false, true] {
            let opened = open(&cut, "PARAM_FORMAT_ERROR", sign).unwrap();
            assert_eq!(opened.code, "PARAM_FORMAT_ERROR");
        }
        let err = open(&cut, "SUCCESS", true).unwrap_err();
        assert_mentions(&err.detail, "does not answer this request");
        // Another prefix of the value, or the cut of a different one, is not the echo.
        let mut shorter = sent.clone();
        for field in head_fields(&mut shorter) {
            if field.len() > 30 {
                field.truncate(100);
            }
        }
        let mut other = sent.clone();
        for field in head_fields(&mut other) {
            if field.len() > 30 {
                field.push('X');
            }
        }
        let other = other.bounded();
        assert!(open(&shorter, "PARAM_FORMAT_ERROR", true).is_err());
        let err = open(&other, "PARAM_FORMAT_ERROR", true).unwrap_err();
        assert_mentions(&err.detail, "does not answer this request");
    }
}

/// An unsigned reply is only a head-only refusal: one with a body, or a success code, is
/// refused; a refusal echoing the head as far as it was read (none of it, for a body over the
/// limit) is opened, but one echoing another request is not.
#[test]
fn an_unsigned_reply_is_only_a_head_only_refusal() {
    let (partner, platform) = keys();
    let sent = echo();
    let open = |bytes: &[u8]| open_reply_to(bytes, &sent, &partner, platform.public());
    // A genuine signed reply with its head.sign taken out.
    let signed = seal_reply(
        &sent,
        "SUCCESS",
        SUCCESS_DETAIL,
        Some(&json!({"x": 1})),
        Some((&platform, partner.public())),
        HexCase::Lower,
    );
    let mut unsigned: Value = serde_json::from_slice(&signed).unwrap();
    unsigned["head"].as_object_mut().unwrap().remove("sign");
    let forged_body = serde_json::to_vec(&unsigned).unwrap();
    assert_mentions(
        &open(&forged_body).unwrap_err().detail,
        "a body but no head.sign",
    );
    for code in ["SUCCESS", "PROCESSING"] {
        let bytes = seal_reply(&sent, code, "", None, None, HexCase::Lower);
        assert_mentions(
            &open(&bytes).unwrap_err().detail,
            "only a refusal may be unsigned",
        );
    }
    let refusal = seal_reply(
        &sent,
        "UNAUTHENTICATED_ERROR",
        "sign invalid",
        None,
        None,
        HexCase::Lower,
    );
    assert_eq!(open(&refusal).unwrap().code, "UNAUTHENTICATED_ERROR");
    let unread = seal_reply(
        &Echo::default(),
        "PARAM_FORMAT_ERROR",
        "too large",
        None,
        None,
        HexCase::Lower,
    );
    assert_eq!(open(&unread).unwrap().code, "PARAM_FORMAT_ERROR");
    let other = Echo {
        request_no: "REQ-0".into(),
        ..echo()
    };
    let elsewhere = seal_reply(
        &other,
        "UNAUTHENTICATED_ERROR",
        "sign invalid",
        None,
        None,
        HexCase::Lower,
    );
    assert_mentions(
        &open(&elsewhere).unwrap_err().detail,
        "its head.requestNo is",
    );
}

/// A request without `body.encrypt` is refused as such before the signature check (which it
/// would fail over an empty `encrypt`), naming what was sent in its place.
#[test]
fn a_missing_body_encrypt_is_named_before_the_signature() {
    let envelope = sealed_envelope();
    let encrypt = envelope["body"]["encrypt"].clone();
    let head = envelope["head"].clone();
    let cases = [
        (json!({"head": head}), "the request has no `body`"),
        (json!({"head": head, "body": {}}), "`body` has no fields"),
        (
            json!({"head": head, "body": {"encrypt": null}}),
            "it is null",
        ),
        (
            json!({"head": head, "body": {"Encrypt": encrypt}}),
            "the body has \"Encrypt\" (field names are case-sensitive)",
        ),
        (
            json!({"head": head, "body": {"data": encrypt}}),
            "the body has \"data\" instead",
        ),
        (
            json!({"head": head, "encrypt": encrypt}),
            "`encrypt` was sent at the top level",
        ),
    ];
    for (envelope, expected) in cases {
        let (echoed, err) = parse_request(&serde_json::to_vec(&envelope).unwrap()).unwrap_err();
        assert_eq!(err.code, Code::ParamFormatError, "{}", err.detail);
        assert!(
            err.detail.starts_with("body.encrypt is missing"),
            "{}",
            err.detail
        );
        assert_mentions(&err.detail, expected);
        assert_eq!(echoed, echo());
    }
}

/// White space in a hex field is named with its position, not reported as an odd length.
#[test]
fn white_space_in_a_hex_field_is_named_with_its_position() {
    let (partner, platform) = keys();
    let mut sealed = sealed(&json!({}), &partner, platform.public());
    sealed.sign.push('\n');
    let err = sealed.verify(partner.public()).unwrap_err();
    assert_eq!(err.code, Code::UnauthenticatedError);
    assert_mentions(
        &err.detail,
        "head.sign is not hex: invalid character '\\n' at position 512",
    );
    let mut sealed = self::sealed(&json!({}), &partner, platform.public());
    sealed.encrypt.insert(10, ' ');
    let signed = request_sign_string(&sealed.echo, &sealed.encrypt);
    sealed.sign = hex::encode(crypto::sign(
        &partner,
        SignatureHash::Sha1,
        signed.as_bytes(),
    ));
    let err = sealed.open(&platform, partner.public()).unwrap_err();
    assert_eq!(err.code, Code::ParamFormatError);
    assert_mentions(
        &err.detail,
        "body.encrypt is not hex: invalid character ' ' at position 10",
    );
    let err = decode_hex("head.keyEnc", "abc").unwrap_err();
    assert_mentions(&err.detail, "head.keyEnc is not hex: odd length 3");
}

/// A refusal echoes the head as far as it was read: no `version` it did not have, and a head
/// value sent as a number as its text.
#[test]
fn a_refusal_echoes_only_what_the_head_had() {
    let unread = seal_reply(
        &Echo::default(),
        "PARAM_FORMAT_ERROR",
        "x",
        None,
        None,
        HexCase::Lower,
    );
    let reply: Value = serde_json::from_slice(&unread).unwrap();
    assert_eq!(reply["head"]["version"], "", "{reply}");
    let (echoed, err) = parse_request(
        br#"{"head": {"partnerId": 202400000000001, "apiCode": 5, "requestNo": 12345, "version": true}}"#,
    )
    .unwrap_err();
    assert_mentions(&err.detail, "head.partnerId must be a string, got a number");
    let expected = Echo {
        partner_id: "202400000000001".into(),
        api_code: "5".into(),
        request_no: "12345".into(),
        version: String::new(),
    };
    assert_eq!(echoed, expected);
}

/// A decrypted body's numbers beyond the range of a double (`crate::wire::json_value`): each is
/// read as its text wherever it is (nested, negative, an integer of 400 digits), a number a
/// double holds or rounds to zero stays a number, a string that looks like one is untouched
/// (an escaped quote before it included), and a text that is not JSON for another reason too is
/// refused at its position in the text sent.
#[test]
fn a_number_beyond_the_double_range_is_read_as_its_text() {
    let huge_int = format!("1{}", "0".repeat(400));
    let text =
        format!(r#"{{"s":"a\"1e400","n":[1e400,-1E+309,1.5,1e-400],"o":{{"i":{huge_int}}}}}"#);
    let (body, kept) = read_body(text.clone().into_bytes())
        .map_err(|(e, _)| e)
        .unwrap();
    assert_eq!(kept, text, "the text is kept as sent");
    assert_eq!(
        body,
        json!({"s": "a\"1e400", "n": ["1e400", "-1E+309", 1.5, 0.0], "o": {"i": huge_int}})
    );
    let (err, _) = read_body(br#"{"a":1e400, "b":tru}"#.to_vec()).unwrap_err();
    assert_eq!(
        err.detail,
        "the decrypted body is not JSON: expected ident at line 1 column 20"
    );
}

/// The direct reading of a usual envelope ([`PlainEnvelope`]) answers exactly as the reading
/// through JSON trees does: the same request, or the same refusal with the same echo, for
/// envelopes of the usual shape (also with extra fields, escapes, empty, long or wrong values)
/// and for those only the trees can read (repeated or mistyped fields, `encrypt` misplaced).
#[test]
fn the_direct_reading_of_an_envelope_answers_as_the_tree_reading() {
    let good = r#""partnerId":"202400000000001","apiCode":"connectivity","requestNo":"R1","version":"1.0","sign":"ab","keyEnc":"cd""#;
    let envelopes = [
        format!(r#"{{"head":{{{good}}},"body":{{"encrypt":"00ff"}}}}"#),
        format!(
            r#" {{"body":{{"encrypt":"00ff","x":1}},"head":{{{good},"extra":[1]}},"more":null}} "#
        ),
        format!(r#"{{"head":{{{good}}},"body":{{"encrypt":"\u0030ff"}},"encrypt":"x"}}"#),
        format!(r#"{{"head":{{{good}}},"body":{{"encrypt":""}}}}"#),
        format!(r#"{{"head":{{{good},"sign":"ef"}},"body":{{"encrypt":"00"}}}}"#),
        format!(r#"{{"head":{{{good}}},"body":{{"encrypt":"00"}},"head":{{}}}}"#),
        format!(r#"{{"head":{{{good}}},"body":{{"encrypt":7}}}}"#),
        format!(r#"{{"head":{{{good}}},"encrypt":"00"}}"#),
        format!(r#"{{"head":{{{good}}},"body":{{"encrypt":"00"}}}} x"#),
        good.replace(r#""R1""#, r#""""#)
            .replace("\"partnerId", "{\"head\":{\"partnerId")
            + r#"},"body":{"encrypt":"00"}}"#,
        good.replace(r#""sign":"ab""#, r#""sign":"""#)
            .replace("\"partnerId", "{\"head\":{\"partnerId")
            + r#"},"body":{"encrypt":"00"}}"#,
        good.replace("R1", &"R".repeat(31))
            .replace("\"partnerId", "{\"head\":{\"partnerId")
            + r#"},"body":{"encrypt":"00"}}"#,
        good.replace("1.0", "2.0")
            .replace("\"partnerId", "{\"head\":{\"partnerId")
            + r#"},"body":{"encrypt":"00"}}"#,
        good.replace(r#""R1""#, "1")
            .replace("\"partnerId", "{\"head\":{\"partnerId")
            + r#"},"body":{"encrypt":"00"}}"#,
        r#"{"head":null,"body":{"encrypt":"00"}}"#.to_owned(),
        r#"[{"partnerId":"1"},{"encrypt":"00"}]"#.to_owned(),
        format!(
            r#"{{"head":{},"body":["00"]}}"#,
            good.replace("\"partnerId\":", "[")
                .replace(r#","apiCode":"#, ",")
                .replace(r#","requestNo":"#, ",")
                .replace(r#","version":"#, ",")
                .replace(r#","sign":"#, ",")
                .replace(r#","keyEnc":"#, ",")
                + "]"
        ),
    ];
    let mut direct = 0;
    for text in &envelopes {
        let bytes = text.as_bytes();
        let read = format!("{:?}", parse_request(bytes));
        assert_eq!(read, format!("{:?}", parse_request_tree(bytes)), "{text}");
        direct += usize::from(serde_json::from_slice::<Object<PlainEnvelope>>(bytes).is_ok());
    }
    // Both readings were compared on both kinds of envelope.
    assert_eq!(direct, 8);
}

#[test]
fn the_envelope_writer_writes_what_serde_writes() {
    let hexes = [
        String::new(),
        HexCase::Lower.encode(&[0x00, 0x9f, 0xff, 0x10]),
        HexCase::Upper.encode(&(0..=255u8).collect::<Vec<_>>()),
    ];
    let base64 = ["", "ab+/cd==", "AAAA+++///=="];
    let texts = [
        "",
        "202400000000001",
        "quote \" backslash \\ slash /",
        "controls \u{0}\u{1}\t\n\r\u{1f}\u{7f}",
        "non-ASCII é 中文 \u{2028}\u{2029} 🐳",
        "</script>&<>'",
    ];
    let mut compared = 0;
    for (i, text) in texts.iter().enumerate() {
        let other = texts[(i + 1) % texts.len()];
        for sign in [None, Some(hexes[i % 3].clone())] {
            for key_enc in [None, Some(base64[i % 3].to_string())] {
                for encrypt in [None, Some(hexes[(i + 1) % 3].clone())] {
                    let head = WireReplyHead {
                        partner_id: text,
                        api_code: other,
                        request_no: text,
                        version: other,
                        code: text,
                        detail: other,
                        sign: sign.clone(),
                        key_enc: key_enc.clone(),
                    };
                    let body = encrypt.map(|encrypt| WireBody { encrypt });
                    let written = write_reply(&head, body.as_ref());
                    let expected = serde_json::to_vec(&WireOut { head, body }).unwrap();
                    assert_eq!(
                        String::from_utf8_lossy(&written),
                        String::from_utf8_lossy(&expected)
                    );
                    assert_eq!(written, expected);
                    compared += 1;
                    let head = WireRequestHead {
                        partner_id: other,
                        api_code: text,
                        request_no: other,
                        version: text,
                        sign: sign.clone().unwrap_or_default(),
                        key_enc: key_enc.clone().unwrap_or_default(),
                    };
                    let body = WireBody {
                        encrypt: hexes[i % 3].clone(),
                    };
                    let written = write_request(&head, &body);
                    let body = Some(body);
                    let expected = serde_json::to_vec(&WireOut { head, body }).unwrap();
                    assert_eq!(written, expected);
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, texts.len() * 16);
}
