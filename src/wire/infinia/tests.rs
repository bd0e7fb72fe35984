use super::*;
use crate::wire::invalid_character;
use crate::wire::keys::demo;
use crate::wire::testing::{assert_mentions, key_pair};
use serde_json::json;

fn keys() -> (PrivateKey, PrivateKey) {
    key_pair(demo::INFINIA_MERCHANT_PRIVATE, demo::INFINIA_PRIVATE)
}

fn blocks(b64: &str) -> usize {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
        .len()
        / 256
}

#[test]
fn request_round_trip_with_chinese_across_blocks() {
    let (merchant, infinia) = keys();
    let data = json!({"sellerName": "深圳市".repeat(60), "requestNo": "ABR-1"});
    for alg in [SignatureHash::Sha256, SignatureHash::Sha1] {
        let sealed =
            seal_request("1.0", "demo-app", &data, &merchant, infinia.public(), alg).unwrap();
        assert!(blocks(&sealed.request_data) >= 3);
        let parsed = parse_request(&sealed.to_json()).unwrap();
        assert_eq!(parsed.open(&infinia, merchant.public(), alg).unwrap(), data);
    }
}

#[test]
fn chunks_are_k_minus_11_bytes() {
    let (_, infinia) = keys();
    assert_eq!(
        blocks(&encrypt_bytes(&[b'x'; 245], infinia.public()).unwrap()),
        1
    );
    assert_eq!(
        blocks(&encrypt_bytes(&[b'x'; 246], infinia.public()).unwrap()),
        2
    );
    assert_eq!(
        blocks(&encrypt_bytes(&[b'x'; 490], infinia.public()).unwrap()),
        2
    );
    assert_eq!(
        blocks(&encrypt_bytes(&[b'x'; 491], infinia.public()).unwrap()),
        3
    );
}

#[test]
fn golden_vectors_from_the_python_implementation() {
    let text = include_str!("../../../tests/vectors/infinia.json");
    let vectors: Value = serde_json::from_str(text).unwrap();
    let (merchant, infinia) = keys();
    for case in vectors["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let alg = match case["signature_alg"].as_str().unwrap() {
            "SHA1withRSA" => SignatureHash::Sha1,
            _ => SignatureHash::Sha256,
        };
        let (receiver, sender) = if case["keys"]["receiver_private"]
            .as_str()
            .unwrap()
            .contains("merchant")
        {
            (&merchant, &infinia)
        } else {
            (&infinia, &merchant)
        };
        let envelope = serde_json::to_vec(&case["envelope"]).unwrap();
        let sealed = parse_request(&envelope).unwrap();
        let opened = sealed.open(receiver, sender.public(), alg).unwrap();
        let expected: Value = serde_json::from_str(case["plaintext"].as_str().unwrap()).unwrap();
        assert_eq!(opened, expected, "{name}");
        // PKCS#1 v1.5 signatures are deterministic: ours must equal Python's byte for byte.
        let ours = sign(sender, alg, case["request_data"].as_str().unwrap());
        assert_eq!(ours, case["signature"].as_str().unwrap(), "{name}");
    }
}

#[test]
fn wrong_algorithm_is_named() {
    let (merchant, infinia) = keys();
    let sealed = seal_request(
        "1.0",
        "demo-app",
        &json!({"a": 1}),
        &merchant,
        infinia.public(),
        SignatureHash::Sha1,
    )
    .unwrap();
    let err = sealed
        .open(&infinia, merchant.public(), SignatureHash::Sha256)
        .unwrap_err();
    assert_eq!(err.code, Code::InvalidParameter);
    assert_mentions(&err.message, "the signature is SHA1withRSA");
    assert_mentions(&err.message, merchant.public().fingerprint());
    assert_mentions(&err.message, &sealed.request_data[..40]);
}

#[test]
fn signing_the_plaintext_is_diagnosed() {
    let (merchant, infinia) = keys();
    let data = json!({"requestNo": "X"});
    let mut sealed = seal_request(
        "1.0",
        "demo-app",
        &data,
        &merchant,
        infinia.public(),
        SignatureHash::Sha256,
    )
    .unwrap();
    sealed.signature = sign(
        &merchant,
        SignatureHash::Sha256,
        &serde_json::to_string(&data).unwrap(),
    );
    let err = sealed
        .open(&infinia, merchant.public(), SignatureHash::Sha256)
        .unwrap_err();
    assert_mentions(&err.message, "over the decrypted business JSON");
}

#[test]
fn decryption_failures_say_which_step() {
    let (merchant, infinia) = keys();
    let err = decrypt_data("requestData", "abc-_", &infinia).unwrap_err();
    assert_eq!(err.code, Code::InvalidFormat);
    assert_mentions(&err.message, "URL-safe");
    let err = decrypt_data("requestData", "AAAA", &infinia).unwrap_err();
    assert_mentions(&err.message, "3 bytes, not a positive multiple of 256");
    // Encrypted to the merchant's key instead of Infinia's.
    let wrong = encrypt_data(&json!({"a": 1}), merchant.public()).unwrap();
    let err = decrypt_data("requestData", &wrong, &infinia).unwrap_err();
    assert_mentions(&err.message, "block 1 of 1");
    assert_mentions(&err.message, infinia.public().fingerprint());
    let array = encrypt_bytes(b"[1,2]", infinia.public()).unwrap();
    let err = decrypt_data("requestData", &array, &infinia).unwrap_err();
    assert_mentions(&err.message, "must hold a JSON object");
}

#[test]
fn envelope_shape_errors_use_sys_codes() {
    let (e, err) = parse_request(b"nope").unwrap_err();
    assert_eq!((e.as_str(), err.code), ("", Code::InvalidFormat));
    let (e, err) = parse_request(
        br#"{"appId":"demo-app","version":"1.0","dataType":"JSON","requestData":"x"}"#,
    )
    .unwrap_err();
    assert_eq!((e.as_str(), err.code), ("demo-app", Code::MissingParameter));
    assert_eq!(err.message, "signature is missing");
    let (_, err) = parse_request(
        br#"{"appId":"a","version":"1.0","dataType":"XML","requestData":"x","signature":"y"}"#,
    )
    .unwrap_err();
    assert_eq!(err.code, Code::OutOfRange, "{}", err.message);
    assert_mentions(&err.message, "\"XML\" is not an allowed value");
    let (_, err) = parse_request(
        br#"{"appId":1,"version":"1.0","dataType":"JSON","requestData":"x","signature":"y"}"#,
    )
    .unwrap_err();
    assert_eq!(err.message, "appId must be a string, got a number");
}

/// A refusal's appId is the request's as far as it was read, cut at the echo bound (ending
/// with how much was left out), so that a huge one does not make a reply as huge; one within
/// the bound is echoed whole.
#[test]
fn a_refused_envelope_echoes_its_app_id_cut_at_the_echo_bound() {
    let envelope = |app_id: &str, version: Value| {
        serde_json::to_vec(
            &json!({"appId": app_id, "version": version, "dataType": "JSON",
                                   "requestData": "x", "signature": "y"}),
        )
        .unwrap()
    };
    let huge = "é".repeat(100_000);
    for bytes in [envelope(&huge, json!("1.0")), envelope(&huge, json!(1))] {
        let (echo, _) = parse_request(&bytes).unwrap_err();
        assert!(
            echo.len() <= crate::text::ECHO_BYTES,
            "{} bytes",
            echo.len()
        );
        let (kept, rest) = echo.split_once('…').unwrap();
        assert!(huge.starts_with(kept));
        assert_eq!(rest, format!(" {} more bytes", huge.len() - kept.len()));
    }
    let widest = "\u{10FFFF}".repeat(64);
    let (echo, _) = parse_request(&envelope(&widest, json!(1))).unwrap_err();
    assert_eq!(echo, widest);
}

/// Too long or not an allowed value is SYS-006 in the envelope as in the business fields; a
/// value of the wrong type stays SYS-005.
#[test]
fn envelope_values_out_of_range_are_sys_006() {
    let envelope = |app_id: &str, version: &str, data_type: &str| {
        serde_json::to_vec(
            &json!({"appId": app_id, "version": version, "dataType": data_type,
                                   "requestData": "x", "signature": "y"}),
        )
        .unwrap()
    };
    let long_app = "a".repeat(65);
    let cases = [
        (
            envelope(&long_app, "1.0", "JSON"),
            "appId is 65 characters long",
        ),
        (
            envelope("a", "1.0.0.0.0", "JSON"),
            "version is 9 characters long",
        ),
        (envelope("a", "1.0", "XML"), "dataType \"XML\""),
    ];
    for (bytes, says) in cases {
        let (_, err) = parse_request(&bytes).unwrap_err();
        assert_eq!(err.code, Code::OutOfRange, "{}", err.message);
        assert_mentions(&err.message, says);
    }
    assert!(parse_request(&envelope(&"a".repeat(64), "1.0.0.00", "json")).is_ok());
    let wrong_type =
        br#"{"appId":"a","version":1,"dataType":"JSON","requestData":"x","signature":"y"}"#;
    assert_eq!(
        parse_request(wrong_type).unwrap_err().1.code,
        Code::InvalidFormat
    );
}

#[test]
fn reply_round_trip_signed_and_unsigned() {
    let (merchant, infinia) = keys();
    let data = json!({"redirectUrl": "http://x/authorize/t"});
    for signer in [None, Some((&infinia, SignatureHash::Sha256))] {
        let bytes = seal_reply(
            "demo-app",
            "SUC-200",
            SUCCESS_MESSAGE,
            Some((&data, merchant.public())),
            signer,
        )
        .unwrap();
        let opened =
            open_reply(&bytes, &merchant, infinia.public(), SignatureHash::Sha256).unwrap();
        assert_eq!(opened.code, "SUC-200");
        assert_eq!(opened.data, Some(data.clone()));
    }
    let bytes = seal_reply("demo-app", "SYS-002", "bad", None, None).unwrap();
    let opened = open_reply(&bytes, &merchant, infinia.public(), SignatureHash::Sha256).unwrap();
    assert_eq!((opened.code.as_str(), opened.data), ("SYS-002", None));
}

/// `sealed` with its `requestData` replaced by `data` and signed over it.
fn resigned(mut sealed: SealedRequest, data: String, merchant: &PrivateKey) -> SealedRequest {
    sealed.signature = sign(merchant, SignatureHash::Sha256, &data);
    sealed.request_data = data;
    sealed
}

/// Hex where Base64 is expected (hex digits are Base64 too) is named as hex: the signature, and
/// `requestData` of one block and of two (whose Base64 reading is a whole 3 blocks).
#[test]
fn hex_sent_for_base64_is_named_as_hex() {
    let (merchant, infinia) = keys();
    let alg = SignatureHash::Sha256;
    let data = json!({"requestNo": "HEX-1"});
    let sealed = seal_request("1.0", "demo-app", &data, &merchant, infinia.public(), alg).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut hex_signature = sealed.clone();
    hex_signature.signature = hex::encode(b64.decode(&sealed.signature).unwrap());
    let err = hex_signature
        .open(&infinia, merchant.public(), alg)
        .unwrap_err();
    assert_eq!(err.code, Code::InvalidFormat, "{}", err.message);
    assert_mentions(&err.message, "signature is 512 hex digits");
    assert_mentions(&err.message, "looks like hex; send it Base64-encoded");
    let long = json!({"requestNo": "HEX-2", "pad": "x".repeat(300)});
    let two = seal_request("1.0", "demo-app", &long, &merchant, infinia.public(), alg).unwrap();
    for (sealed, digits) in [(sealed, 512), (two, 1024)] {
        let hex_data = hex::encode(b64.decode(&sealed.request_data).unwrap());
        let err = resigned(sealed, hex_data, &merchant)
            .open(&infinia, merchant.public(), alg)
            .unwrap_err();
        assert_eq!(err.code, Code::InvalidFormat, "{}", err.message);
        assert_mentions(&err.message, &format!("requestData is {digits} hex digits"));
        assert_mentions(&err.message, "looks like hex; send it Base64-encoded");
    }
}

/// A line-wrapped `requestData` (Java's MIME encoder: CRLF every 76 characters) signed over the
/// unwrapped text is refused for its line breaks, not for its signature.
#[test]
fn line_wrapped_request_data_is_named_before_the_signature() {
    let (merchant, infinia) = keys();
    let alg = SignatureHash::Sha256;
    let sealed = seal_request(
        "1.0",
        "demo-app",
        &json!({"requestNo": "WRAP-1"}),
        &merchant,
        infinia.public(),
        alg,
    )
    .unwrap();
    let wrapped: Vec<&str> = sealed
        .request_data
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    let mut wrapped_request = sealed.clone();
    wrapped_request.request_data = wrapped.join("\r\n");
    for signed_over_wrapped in [false, true] {
        if signed_over_wrapped {
            wrapped_request.signature = sign(&merchant, alg, &wrapped_request.request_data);
        }
        let err = wrapped_request
            .open(&infinia, merchant.public(), alg)
            .unwrap_err();
        assert_eq!(err.code, Code::InvalidFormat, "{}", err.message);
        assert_mentions(
            &err.message,
            "requestData is not standard Base64: invalid character '\\r' at position 76",
        );
        assert_mentions(&err.message, "without line breaks");
    }
}

#[test]
fn a_character_outside_base64_is_named_as_sent_at_its_character_position() {
    for (text, named) in [
        ("éAAA", "invalid character 'é' at position 0"),
        ("A€AA", "invalid character '€' at position 1"),
        ("AAA\u{200b}", "invalid character '\\u{200b}' at position 3"),
        (
            "AB-_",
            "invalid character '-' at position 2 (URL-safe Base64? use + and /)",
        ),
    ] {
        assert_eq!(b64_decode(text).unwrap_err(), named, "{text:?}");
    }
    // White space is named first, counted in characters past a two-byte one.
    let err = b64_decode("éA\r\nAA").unwrap_err();
    assert!(
        err.starts_with("invalid character '\\r' at position 2: white space"),
        "{err}"
    );
    // Text of the alphabet only is left to the decoder.
    assert_eq!(b64_decode("AAAA").unwrap(), vec![0, 0, 0]);
}

#[test]
fn invalid_character_counts_characters_not_bytes() {
    assert_eq!(
        invalid_character("ééx", |c| c != 'x'),
        Some(('x', "invalid character 'x' at position 2".to_owned()))
    );
    assert_eq!(invalid_character("abc", |_| true), None);
}

/// Base64 whose `=` padding is missing or wrong is named so, with what to send (the decoder's
/// own words were "Invalid padding").
#[test]
fn base64_without_its_padding_says_so() {
    let padded = base64::engine::general_purpose::STANDARD.encode(b"sixteen bytes!!?");
    assert!(padded.ends_with("=="), "{padded}");
    let unpadded = padded.trim_end_matches('=');
    let err = super::b64_decode(unpadded).unwrap_err();
    assert_eq!(
        err,
        format!(
            "its {} characters are not a multiple of 4: the = padding is missing (add 2 '=' at \
             the end; Java: Base64.getEncoder(), not withoutPadding())",
            unpadded.len()
        )
    );
    let one_short = &padded[..padded.len() - 1];
    let err = super::b64_decode(one_short).unwrap_err();
    assert!(err.contains("the = padding is wrong"), "{err}");
    assert_eq!(super::b64_decode(&padded).unwrap(), b"sixteen bytes!!?");
}
