//! The Pockyt (formerly Yuansfer) wire scheme: plain JSON bodies authenticated by `verifySign`,
//! the MD5 scheme of spec §3.1, and the `ret_code` / `ret_msg` reply wrapper. This is the only
//! place that signs or verifies Pockyt data (requests and IPNs) and the one mapping site of
//! [`RetCode`]s. Handlers see a [`Params`] map and return [`PockytError`]s; they never see MD5.
//!
//! The string to sign: every parameter except `verifySign`, sorted by name in byte order,
//! written `name=value&` with raw values (no URL encoding), then the lower-case hex MD5 of the
//! API token; `verifySign` is the lower-case hex MD5 of that string (UTF-8). Public clients
//! disagree about empty and null values: verification accepts the documented reading (empty and
//! null kept as `name=`) and, when configured, three others (see [`Reading`]).

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::text::echo;

wire_codes! {
    /// Every `ret_code` of the public table (spec §3.2).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RetCode {
        SystemError => "000000",
        ParameterNull => "000020",
        NoRelatedInformation => "000021",
        ParametersDoNotMatch => "000022",
        ParameterValueError => "000023",
        AccessDenied => "000030",
        /// Documented as "account balance not sufficient"; also the business rejection of seed 003.
        BalanceNotSufficient => "000040",
        SupplierError => "000080",
        Success => "000100",
    }
}

wire_error! {
    /// A refusal: the `ret_code` and the precise `ret_msg`.
    pub struct PockytError { pub code: RetCode, pub msg: String }
    null => ParameterNull,
    value => ParameterValueError,
    no_info => NoRelatedInformation,
    mismatch => ParametersDoNotMatch,
    denied => AccessDenied,
    rejected => BalanceNotSufficient,
    internal => SystemError,
}

/// The reply body: `ret_code`, `ret_msg`, then the payload keys (`customer`, `result`, ...).
pub fn reply(code: RetCode, msg: &str, payload: Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("ret_code".into(), Value::String(code.as_str().into()));
    out.insert("ret_msg".into(), Value::String(msg.into()));
    out.extend(payload);
    Value::Object(out)
}

/// One parameter's value as signed: `None` is a JSON null.
pub type Params = BTreeMap<String, Option<String>>;

/// Reads a JSON object into signing parameters. Strings are raw; numbers and booleans are
/// their JSON text as serde_json prints it; objects and arrays are compact JSON text (as the SDKs
/// send `goodsInfo`); null stays distinguishable. `verifySign` is left out. A request body is read
/// through [`params_of_json`], which keeps the client's own text of numbers, objects and arrays.
pub fn params_of(body: &Map<String, Value>) -> Params {
    body.iter()
        .filter(|(k, _)| k.as_str() != "verifySign")
        .map(|(k, v)| {
            let text = match v {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            };
            (k.clone(), text)
        })
        .collect()
}

/// The signing parameters of a JSON request: `fields` (the body as parsed) read as
/// [`params_of`], except that a number, object or array is signed as the characters the client
/// sent (an object or array without the whitespace between its tokens): serde rewrites numbers
/// (`100.10` → `100.1`, `1e2` → `100.0`), and the client signed its own text. Only a body with
/// such a value is scanned again; the usual all-string body costs nothing more.
pub fn params_of_json(fields: &Map<String, Value>, body: &[u8]) -> Params {
    let mut params = params_of(fields);
    let rewritten = |v: &Value| matches!(v, Value::Number(_) | Value::Object(_) | Value::Array(_));
    if !fields.values().any(rewritten) {
        return params;
    }
    // Parsed already, so this cannot fail; a later duplicate name wins, as in `fields`.
    let raw: BTreeMap<String, &RawValue> = serde_json::from_slice(body).unwrap_or_default();
    for (name, raw) in raw {
        if fields.get(&name).is_some_and(rewritten) {
            params.insert(name, Some(compact(raw.get().as_bytes())));
        }
    }
    params
}

/// `raw` (one valid JSON value) without the whitespace between its tokens; strings as sent.
fn compact(raw: &[u8]) -> String {
    let mut strings = super::JsonStrings::default();
    let out: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|&b| strings.holds(b) || !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .collect();
    String::from_utf8_lossy(&out).into_owned()
}

/// How empty and null values are read when signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reading {
    /// Every parameter, null as empty (`street2=&`): the PHP SDK rule, used when signing.
    KeepEmpty,
    /// Nulls left out, empty strings kept (clients that skip unset fields).
    DropNull,
    /// Nulls and empty strings left out (clients that filter blank values).
    DropEmpty,
    /// Nulls written as the text `null` (clients that format values with string interpolation).
    NullText,
}

impl Reading {
    /// The name in `[pockyt] lenient_sign_readings`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reading::KeepEmpty => "keep_empty",
            Reading::DropNull => "drop_null",
            Reading::DropEmpty => "drop_empty",
            Reading::NullText => "null_text",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Reading::KeepEmpty => "empty and null values signed as 'name=&'",
            Reading::DropNull => "null values left out, empty strings signed",
            Reading::DropEmpty => "empty and null values left out",
            Reading::NullText => "null values signed as 'name=null'",
        }
    }
}

pub fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

/// The parameter part of the string to sign (`a=1&b=2&`), without the token hash.
fn pairs_text(params: &Params, reading: Reading) -> String {
    let mut out = String::new();
    for (name, value) in params {
        let value = match (value, reading) {
            (None, Reading::DropNull | Reading::DropEmpty) => continue,
            (Some(v), Reading::DropEmpty) if v.is_empty() => continue,
            (None, Reading::NullText) => "null",
            (v, _) => v.as_deref().unwrap_or(""),
        };
        out.push_str(name);
        out.push('=');
        out.push_str(value);
        out.push('&');
    }
    out
}

/// The full string to sign for `token`.
pub fn string_to_sign(params: &Params, token: &str, reading: Reading) -> String {
    pairs_text(params, reading) + &md5_hex(token)
}

/// `verifySign` of `params` under the signing rule ([`Reading::KeepEmpty`]).
pub fn sign(params: &Params, token: &str) -> String {
    md5_hex(&string_to_sign(params, token, Reading::KeepEmpty))
}

/// Checks `verify_sign` against the documented reading and the `lenient` ones; Ok(the reading
/// that matched). The error names the string that was expected (the token's MD5 replaced by
/// `{md5(token)}`), never the token, and says when a reading that is not enabled would match;
/// the right signature in upper case, with white space around it or without its leading zeros
/// is named as such ([`near_miss`]), and so is a value that is no MD5 at all, by its length or
/// a character that is no hex digit ([`not_an_md5`]), rather than blamed on the string or the
/// token. The value sent is echoed cut as any client value (`text::echo`).
pub fn verify(
    params: &Params,
    token: &str,
    verify_sign: &str,
    lenient: &[Reading],
) -> Result<Reading, PockytError> {
    let token_md5 = md5_hex(token);
    let has_null = params.values().any(Option::is_none);
    let has_empty = params.values().any(|v| v.as_deref() == Some(""));
    let mut applicable = vec![Reading::KeepEmpty];
    if has_null {
        applicable.push(Reading::DropNull);
    }
    if has_null || has_empty {
        applicable.push(Reading::DropEmpty);
    }
    if has_null {
        applicable.push(Reading::NullText);
    }
    let (readings, disabled): (Vec<Reading>, Vec<Reading>) = applicable
        .into_iter()
        .partition(|r| *r == Reading::KeepEmpty || lenient.contains(r));
    for reading in &readings {
        let expected = md5_hex(&(pairs_text(params, *reading) + &token_md5));
        if expected == verify_sign {
            return Ok(*reading);
        }
        if let Some(refusal) = near_miss(&expected, verify_sign) {
            return Err(refusal);
        }
    }
    if let Some(shape) = not_an_md5(verify_sign) {
        return Err(PockytError::denied(format!(
            "verifySign {shape}; an MD5 is 32 hex digits (0-9, a-f): got {}; send the lower-case \
             hex MD5 of \"{}{{md5(token)}}\" ({{md5(token)}} = the MD5 of the merchant's API \
             token, not shown), every byte as two hex digits",
            echo(verify_sign),
            pairs_text(params, Reading::KeepEmpty)
        )));
    }
    let mut msg = format!(
        "verifySign mismatch: got {}, expected the lower-case MD5 of \"{}{{md5(token)}}\" ({{md5(token)}} = the MD5 of the merchant's API token, not shown; if your string is identical, the token differs)",
        echo(verify_sign),
        pairs_text(params, Reading::KeepEmpty)
    );
    if readings.len() > 1 {
        msg.push_str("; also tried with ");
        let others: Vec<&str> = readings[1..].iter().map(|r| r.describe()).collect();
        msg.push_str(&others.join(" and "));
    }
    if let Some(off) = disabled
        .iter()
        .find(|r| md5_hex(&(pairs_text(params, **r) + &token_md5)) == verify_sign)
    {
        msg.push_str(&format!(
            "; your signature matches {} ({}), which the provider does not document: sign \
             empty and null values as 'name=' (or enable it: [pockyt] lenient_sign_readings = [\"{}\"])",
            off.describe(),
            off.as_str(),
            off.as_str()
        ));
    }
    Err(PockytError::denied(msg))
}

/// The refusal of a `verify_sign` that is the `expected` signature written another way: in
/// upper-case hex, with white space around it (a trailing newline from a shell or a file), or
/// without its leading zeros (Java's `new BigInteger(1, digest).toString(16)`). Each is refused,
/// as the provider compares the exact text, but named for what it is rather than blamed on the
/// string or the token.
fn near_miss(expected: &str, verify_sign: &str) -> Option<PockytError> {
    let bare = verify_sign.trim();
    let unpadded = expected.trim_start_matches('0');
    let zeros = expected.len() - unpadded.len();
    let dropped = zeros > 0 && unpadded.eq_ignore_ascii_case(bare);
    if !dropped && !expected.eq_ignore_ascii_case(bare) {
        return None;
    }
    let case = match bare.bytes().any(|b| b.is_ascii_uppercase()) {
        true => ", and must be lower-case hex",
        false => "",
    };
    let spaced = bare.len() != verify_sign.len();
    Some(PockytError::denied(if dropped {
        let zeros = match zeros {
            1 => "zero".to_owned(),
            n => format!("{n} zeros"),
        };
        format!(
            "verifySign is {} characters long; an MD5 is 32 hex digits: got {}, the right MD5 \
             with its leading {zeros} dropped{}{case}; format every byte as two hex digits \
             (Java's new BigInteger(1, digest).toString(16) drops leading zeros: \
             String.format(\"%032x\", new BigInteger(1, digest)) keeps them)",
            verify_sign.chars().count(),
            echo(verify_sign),
            if spaced {
                " and white space around it"
            } else {
                ""
            },
        )
    } else if spaced {
        format!(
            "verifySign has white space around it{case}: got {}; send the 32 hex \
             digits alone (is a newline or space left over from the command line or a file?)",
            echo(verify_sign)
        )
    } else {
        format!(
            "verifySign must be lower-case hex; got {}",
            echo(verify_sign)
        )
    }))
}

/// What keeps `verify_sign` from being an MD5 at all (32 hex digits), if anything: its length
/// and its first character that is no hex digit, named as every surface names one
/// ([`crate::wire::invalid_character`]). Such a value is no signature of any string,
/// so the string to sign and the token are not what to check.
fn not_an_md5(verify_sign: &str) -> Option<String> {
    let length = verify_sign.chars().count();
    let bad = super::invalid_character(verify_sign, |c| c.is_ascii_hexdigit());
    let mut faults = Vec::new();
    if length != 32 {
        faults.push(format!("is {length} characters long"));
    }
    if let Some((_, why)) = bad {
        faults.push(format!("has {why}"));
    }
    (!faults.is_empty()).then(|| faults.join(" and "))
}

/// `params` plus their `verifySign`, as strings in name order (for IPN bodies).
pub fn signed_pairs(params: &Params, token: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
        .collect();
    out.push(("verifySign".into(), sign(params, token)));
    out
}

/// `application/x-www-form-urlencoded` text of `pairs` (unreserved bytes kept, space as `+`).
pub fn form_encode(pairs: &[(String, String)]) -> String {
    fn enc(s: &str, out: &mut String) {
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    out.push(char::from(b))
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        enc(k, &mut out);
        out.push('=');
        enc(v, &mut out);
    }
    out
}

/// Flips one hex digit of a signature so that it no longer verifies (scenario fault injection).
pub fn corrupt(sign: &str) -> String {
    let mut chars: Vec<char> = sign.chars().collect();
    if let Some(c) = chars.get_mut(5) {
        *c = if *c == '0' { '1' } else { '0' };
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::assert_mentions;

    fn vectors() -> Value {
        serde_json::from_str(include_str!("../../tests/vectors/pockyt.json")).unwrap()
    }

    fn params(v: &Value) -> Params {
        params_of(v.as_object().unwrap())
    }

    #[test]
    fn every_vector_signs_and_verifies() {
        for case in vectors()["cases"].as_array().unwrap() {
            let token = case["token"].as_str().unwrap();
            let p = params(&case["params"]);
            assert_eq!(md5_hex(token), case["token_md5"], "{}", case["name"]);
            assert_eq!(
                string_to_sign(&p, token, Reading::KeepEmpty),
                case["string_to_sign"],
                "{}",
                case["name"]
            );
            assert_eq!(sign(&p, token), case["verify_sign"], "{}", case["name"]);
            assert!(verify(&p, token, case["verify_sign"].as_str().unwrap(), &[]).is_ok());
            let dropped = case["drop_empty"]["verify_sign"].as_str().unwrap();
            assert!(verify(&p, token, dropped, ALL).is_ok(), "{}", case["name"]);
            if dropped != case["verify_sign"] {
                // Not the documented convention: refused unless enabled.
                let err = verify(&p, token, dropped, &[]).unwrap_err();
                assert_mentions(&err.msg, "lenient_sign_readings");
            }
        }
    }

    #[test]
    fn the_documented_vector() {
        let case = &vectors()["cases"][0];
        assert_eq!(case["name"], "documented_vector");
        assert_eq!(
            sign(
                &params(&case["params"]),
                "5cbfb079f15b150122261c8537086d77a"
            ),
            "b6bfd66531ae7c9499115c7480a2c8aa"
        );
    }

    #[test]
    fn other_null_conventions_are_opt_in() {
        let body = serde_json::json!({"a": "1", "b": null, "c": ""});
        let p = params(&body);
        let documented = md5_hex(&("a=1&b=&c=&".to_owned() + &md5_hex("t")));
        assert_eq!(verify(&p, "t", &documented, &[]), Ok(Reading::KeepEmpty));
        for (text, reading) in [
            ("a=1&c=&", Reading::DropNull),
            ("a=1&", Reading::DropEmpty),
            ("a=1&b=null&c=&", Reading::NullText),
        ] {
            let s = md5_hex(&(text.to_owned() + &md5_hex("t")));
            assert_eq!(verify(&p, "t", &s, ALL), Ok(reading), "{text}");
            assert_eq!(verify(&p, "t", &s, &[reading]), Ok(reading), "{text}");
            let err = verify(&p, "t", &s, &[]).unwrap_err();
            let wanted = format!("lenient_sign_readings = [\"{}\"]", reading.as_str());
            assert_mentions(&err.msg, &wanted);
        }
    }

    const ALL: &[Reading] = &[Reading::DropNull, Reading::DropEmpty, Reading::NullText];

    #[test]
    fn mismatch_names_the_string_but_not_the_token() {
        let p = params(&serde_json::json!({"b": "2", "a": ""}));
        let err = verify(&p, "secret-token", "00000000000000000000000000000000", &[]).unwrap_err();
        assert_eq!(err.code, RetCode::AccessDenied);
        assert_mentions(&err.msg, "\"a=&b=2&{md5(token)}\"");
        assert!(!err.msg.contains("secret-token"));
        assert!(!err.msg.contains(&md5_hex("secret-token")));
        let upper = sign(&p, "secret-token").to_uppercase();
        assert!(verify(&p, "secret-token", &upper, &[])
            .unwrap_err()
            .msg
            .contains("lower-case"));
    }

    #[test]
    fn white_space_around_a_correct_sign_is_named_not_blamed_on_the_token() {
        let p = params(&serde_json::json!({"a": "1", "b": null}));
        let good = sign(&p, "t");
        for (sent, upper) in [
            (format!("{good} "), false),
            (format!("{good}\n"), false),
            (format!("\t{good}"), false),
            (format!(" {} ", good.to_uppercase()), true),
        ] {
            let err = verify(&p, "t", &sent, ALL).unwrap_err();
            assert_eq!(err.code, RetCode::AccessDenied, "{sent:?}");
            assert_mentions(&err.msg, "verifySign has white space around it");
            assert_eq!(err.msg.contains("lower-case"), upper, "{}", err.msg);
            assert!(!err.msg.contains("token differs"), "{}", err.msg);
        }
        // A signature of an opt-in reading is named the same way.
        let dropped = md5_hex(&("a=1&".to_owned() + &md5_hex("t")));
        let err = verify(&p, "t", &format!("{dropped}\r\n"), ALL).unwrap_err();
        assert_mentions(&err.msg, "white space");
    }

    #[test]
    fn a_sign_without_its_leading_zeros_is_named_not_blamed_on_the_token() {
        // Timestamps are tried until the right signature starts with one 0, then with two.
        for zeros in [1, 2] {
            let (p, good) = (0..100_000)
                .map(|i| {
                    let p = params(&serde_json::json!({"a": i.to_string()}));
                    let good = sign(&p, "t");
                    (p, good)
                })
                .find(|(_, good)| good.len() - good.trim_start_matches('0').len() == zeros)
                .unwrap();
            let java = good.trim_start_matches('0');
            let err = verify(&p, "t", java, &[]).unwrap_err();
            assert_eq!(err.code, RetCode::AccessDenied);
            assert_mentions(&err.msg, &format!("is {} characters long", 32 - zeros));
            assert_mentions(&err.msg, "an MD5 is 32 hex digits");
            let dropped = match zeros {
                1 => "leading zero dropped".to_owned(),
                n => format!("leading {n} zeros dropped"),
            };
            assert_mentions(&err.msg, &dropped);
            assert_mentions(&err.msg, "format every byte as two hex digits");
            assert!(!err.msg.contains("token differs"), "{}", err.msg);
            assert!(!err.msg.contains("lower-case"), "{}", err.msg);
        }
    }

    #[test]
    fn a_sign_that_is_no_md5_says_its_length_or_its_first_non_hex_character() {
        let p = params(&serde_json::json!({"a": "1"}));
        let good = sign(&p, "t");
        let cases = [
            (good[..31].to_owned(), "verifySign is 31 characters long;"),
            (
                format!("{good}00000000"),
                "verifySign is 40 characters long;",
            ),
            (
                format!("{}g{}", &good[..7], &good[8..]),
                "verifySign has invalid character 'g' at position 7;",
            ),
            (
                format!("{}é{}", &good[..2], &good[3..]),
                "verifySign has invalid character 'é' at position 2;",
            ),
            (
                format!("{}\n\n", "f".repeat(32)),
                "verifySign is 34 characters long and has invalid character '\\n' at position 32;",
            ),
        ];
        for (sent, named) in cases {
            let err = verify(&p, "t", &sent, ALL).unwrap_err();
            assert_eq!(err.code, RetCode::AccessDenied, "{sent:?}");
            assert_mentions(&err.msg, named);
            assert_mentions(&err.msg, "an MD5 is 32 hex digits (0-9, a-f)");
            assert_mentions(&err.msg, "\"a=1&{md5(token)}\"");
            assert!(!err.msg.contains("token differs"), "{}", err.msg);
            assert!(!err.msg.contains(&md5_hex("t")), "{}", err.msg);
        }
        // Right shape, wrong value: the plain mismatch.
        let err = verify(&p, "t", &"f".repeat(32), &[]).unwrap_err();
        assert_mentions(&err.msg, "verifySign mismatch");
    }

    #[test]
    fn numbers_objects_and_arrays_are_signed_as_sent() {
        let body = br#" { "amount" : 100.10, "big": 1e2, "e": 1.5E1, "n": -0.0,
            "goods": [ {"q": 1.50, "s": "a \" , b"} ], "s": "x y", "amount": 100.10 } "#;
        let fields: Map<String, Value> = serde_json::from_slice(body).unwrap();
        let p = params_of_json(&fields, body);
        let text = |k: &str| p[k].clone().unwrap();
        assert_eq!(text("amount"), "100.10");
        assert_eq!(text("big"), "1e2");
        assert_eq!(text("e"), "1.5E1");
        assert_eq!(text("n"), "-0.0");
        assert_eq!(text("goods"), r#"[{"q":1.50,"s":"a \" , b"}]"#);
        assert_eq!(text("s"), "x y");
        // A body of strings only is read as parsed, without a second look.
        let plain = br#"{"a":"1.10"}"#;
        let fields: Map<String, Value> = serde_json::from_slice(plain).unwrap();
        assert_eq!(params_of_json(&fields, plain), params_of(&fields));
    }

    #[test]
    fn form_encoding_is_percent_encoded() {
        let pairs = vec![("a b".to_owned(), "x&y=z/é".to_owned())];
        assert_eq!(form_encode(&pairs), "a+b=x%26y%3Dz%2F%C3%A9");
    }
}
