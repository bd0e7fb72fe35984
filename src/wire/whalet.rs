//! The Whalet envelope (seed 001 §2.2–2.5): `{head, body: {encrypt}}`, the body AES/ECB/PKCS5
//! encrypted under a per-message session key (hex), the session key Base64-encoded and RSA/PKCS#1
//! encrypted to the receiver (hex `keyEnc`), and a SHA1withRSA signature (hex `sign`) over
//! `partnerId|apiCode|version|requestNo[|code|detail]|encrypt`.
//!
//! One codec for both directions: partner → Whalet requests and Whalet → partner notifications
//! are "requests"; their answers are "replies". Every failure is a [`WhaletError`] whose detail
//! says which step failed and what was expected. Only this module and `crypto.rs` touch bytes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::crypto::{self, SignatureHash};
use super::keys::{PrivateKey, PublicKey};
use super::HexCase;

/// The only version the Open API accepts.
pub const VERSION: &str = "1.0";
/// `detail` of a SUCCESS reply, as the vendor sends it.
pub const SUCCESS_DETAIL: &str = "成功";
/// `detail` of a PROCESSING reply: the code's description in the documented code table.
pub const PROCESSING_DETAIL: &str = "处理中";
/// The documented width of the reply head's `detail` (characters).
pub const DETAIL_MAX_CHARS: usize = 256;

/// What the RSA plaintext of `keyEnc` is. The documents disagree: their encryption steps
/// Base64-encode the session key, turn that text into hex, then RSA-encrypt it; their
/// decryption steps RSA-decrypt and Base64-decode, with no hex layer. Both are accepted on
/// input; the simulator writes [`KeyEncForm::Base64`] (the decryption steps) unless configured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyEncForm {
    /// RSA(Base64(sessionKey)), what the decryption steps read.
    #[default]
    Base64,
    /// RSA(hex(Base64(sessionKey))), what the encryption steps read.
    HexBase64,
}

impl KeyEncForm {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyEncForm::Base64 => "base64",
            KeyEncForm::HexBase64 => "hex_base64",
        }
    }
}

/// `detail` as it goes on the wire: at most `max` characters (0 = no limit), cut on a
/// character boundary and ending with `…` when cut. Returns whether it was cut.
pub fn wire_detail(detail: &str, max: usize) -> (std::borrow::Cow<'_, str>, bool) {
    if max == 0 {
        return (detail.into(), false);
    }
    match detail.char_indices().nth(max) {
        None => (detail.into(), false),
        Some(_) => {
            let keep = detail
                .char_indices()
                .nth(max - 1)
                .map_or(detail.len(), |(i, _)| i);
            (format!("{}…", &detail[..keep]).into(), true)
        }
    }
}

/// `text` as an HTTP header value: printable ASCII kept, `%` and every other byte
/// percent-encoded (UTF-8), at most `max` bytes (cut before an escape, ending with `...`).
pub fn header_safe(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut cut_at = None;
    for b in text.bytes() {
        let before = out.len();
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        if cut_at.is_none() && out.len() > max.saturating_sub(3) {
            cut_at = Some(before);
        }
        if out.len() > max {
            out.truncate(cut_at.unwrap_or(0));
            out.push_str("...");
            return out;
        }
    }
    out
}

/// What [`header_safe`] wrote, read back: its `%XX` escapes decoded, bytes that are not UTF-8 as
/// U+FFFD (a value cut with `...` reads as cut).
pub fn header_text(value: &[u8]) -> String {
    percent_encoding::percent_decode(value)
        .decode_utf8_lossy()
        .into_owned()
}

/// The response header that carries a refusal's whole diagnostic when the wire `detail` was
/// cut to its documented width ([`header_safe`] text; docs/FIDELITY.md, `detail` width).
pub const DIAGNOSTIC_HEADER: &str = "X-Whalet-Sim-Diagnostic";

/// The longest value of a head field (partnerId, apiCode, requestNo, version): docs/FIDELITY.md,
/// "head field lengths". Plain mode's `requestNo` header shares it.
pub const MAX_HEAD_FIELD: usize = 30;

wire_codes! {
    /// The result codes of seed 001 §2.6.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum Code {
        Success => "SUCCESS",
        Processing => "PROCESSING",
        Failure => "FAILURE",
        TooManyRequests => "TOO_MANY_REQUESTS",
        PartnerNotExist => "PARTNER_NOT_EXIST",
        InternalError => "INTERNAL_ERROR",
        ParamFormatError => "PARAM_FORMAT_ERROR",
        ParameterError => "PARAMETER_ERROR",
        IdempotentError => "IDEMPOTENT_ERROR",
        RequestNoNotUnique => "REQUEST_NO_NOT_UNIQUE",
        Unauthorized => "UNAUTHORIZED",
        UnauthenticatedError => "UNAUTHENTICATED_ERROR",
        InterfaceUnauthorized => "INTERFACE_UNAUTHORIZED",
    }
}

wire_error! {
    /// A refusal in the Whalet scheme: the code and the precise detail the partner sees.
    pub struct WhaletError { pub code: Code, pub detail: String }
    format => ParamFormatError,
    parameter => ParameterError,
    failure => Failure,
    unauthenticated => UnauthenticatedError,
    idempotent => IdempotentError,
}

/// Head fields as far as they could be read, echoed in every reply (also error replies).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Echo {
    pub partner_id: String,
    pub api_code: String,
    pub request_no: String,
    pub version: String,
}

impl Echo {
    /// The head as a refusal echoes it: each field cut to [`crate::text::ECHO_BYTES`] (ending
    /// `… N more bytes`), so that a request with a huge head value (or path) does not get a reply
    /// as huge. Only a refused request can carry one: an accepted head's fields are at most 30
    /// characters.
    pub fn bounded(mut self) -> Self {
        for field in [
            &mut self.partner_id,
            &mut self.api_code,
            &mut self.request_no,
            &mut self.version,
        ] {
            crate::text::bound_string(field, crate::text::ECHO_BYTES);
        }
        self
    }

    /// The head fields (`partnerId`, `apiCode`, `requestNo`, `version`, in that order) whose
    /// value differs from `sent`'s, as (name, this value, sent value): an answer must echo all
    /// four to be the answer to that message. The signature alone does not say so: a genuine
    /// signed answer to another message verifies just as well.
    pub fn differences<'a>(
        &'a self,
        sent: &'a Echo,
    ) -> impl Iterator<Item = (&'static str, &'a str, &'a str)> {
        [
            ("partnerId", &self.partner_id, &sent.partner_id),
            ("apiCode", &self.api_code, &sent.api_code),
            ("requestNo", &self.request_no, &sent.request_no),
            ("version", &self.version, &sent.version),
        ]
        .into_iter()
        .filter(|(_, got, want)| got != want)
        .map(|(name, got, want)| (name, got.as_str(), want.as_str()))
    }
}

/// A request envelope whose JSON shape is valid; nothing cryptographic is checked yet.
#[derive(Debug, Clone)]
pub struct SealedRequest {
    pub echo: Echo,
    pub sign: String,
    pub key_enc: String,
    pub encrypt: String,
}

/// A request whose signature verified and whose body decrypted.
#[derive(Debug, Clone)]
pub struct OpenedRequest {
    pub echo: Echo,
    pub body: Value,
    /// The decrypted body as the partner wrote it: a number's exact text (`1.0000000000000001`,
    /// which `body` holds as the nearest double) is read from here.
    pub text: String,
    /// Which `keyEnc` plaintext the sender used.
    pub key_enc_form: KeyEncForm,
}

/// A reply as the receiver sees it after verification and decryption.
#[derive(Debug, Clone)]
pub struct OpenedReply {
    pub echo: Echo,
    pub code: String,
    pub detail: String,
    pub body: Option<Value>,
}

#[derive(Deserialize)]
struct WireEnvelope {
    /// `Some(Value::Null)` for `"head": null`, told apart from a missing head ([`present`]).
    #[serde(default, deserialize_with = "present")]
    head: Option<Value>,
    body: Option<Value>,
    /// Only whether it is there: `encrypt` sent beside `body` instead of inside it.
    encrypt: Option<serde::de::IgnoredAny>,
}

/// A request's head, written by [`write_request`] (its tests compare that with this derive).
#[cfg_attr(test, derive(Serialize))]
#[cfg_attr(test, serde(rename_all = "camelCase"))]
struct WireRequestHead<'a> {
    partner_id: &'a str,
    api_code: &'a str,
    request_no: &'a str,
    version: &'a str,
    sign: String,
    key_enc: String,
}

/// A reply's head, written by [`write_reply`] (its tests compare that with this derive).
#[cfg_attr(test, derive(Serialize))]
#[cfg_attr(test, serde(rename_all = "camelCase"))]
struct WireReplyHead<'a> {
    partner_id: &'a str,
    api_code: &'a str,
    request_no: &'a str,
    version: &'a str,
    code: &'a str,
    detail: &'a str,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    sign: Option<String>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    key_enc: Option<String>,
}

#[cfg_attr(test, derive(Serialize))]
struct WireBody {
    encrypt: String,
}

#[cfg(test)]
#[derive(Serialize)]
struct WireOut<H> {
    head: H,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<WireBody>,
}

/// A member that is there, whatever its value: `null` too is `Some(Value::Null)` (serde reads
/// a null `Option` as `None`, so `"head": null` would be refused as missing, not as null).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The string a request is signed over.
pub fn request_sign_string(echo: &Echo, encrypt: &str) -> String {
    format!(
        "{}|{}|{}|{}|{}",
        echo.partner_id, echo.api_code, echo.version, echo.request_no, encrypt
    )
}

/// The string a reply is signed over; `|encrypt` is left out when the reply has no body, or an
/// empty `encrypt` (an empty body takes no part in the string).
pub fn reply_sign_string(echo: &Echo, code: &str, detail: &str, encrypt: Option<&str>) -> String {
    let mut s = format!(
        "{}|{}|{}|{}|{}|{}",
        echo.partner_id, echo.api_code, echo.version, echo.request_no, code, detail
    );
    if let Some(encrypt) = encrypt.filter(|e| !e.is_empty()) {
        s.push('|');
        s.push_str(encrypt);
    }
    s
}

/// `bytes` as a `{head, body}` object. Anything else is refused in the partner's terms: JSON
/// that is not an object is named by its type (serde would read a two-element array as the
/// struct, and name our Rust types for any other), text that is not JSON by serde's syntax
/// error, which says where.
fn read_envelope(bytes: &[u8], what: &str) -> Result<WireEnvelope, WhaletError> {
    let refuse = |why: String| WhaletError::format(format!("{what} is not a JSON envelope: {why}"));
    let first = bytes.iter().find(|b| !b" \t\r\n".contains(b));
    if first != Some(&b'{') {
        let why = match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => format!(
                "it is {}; send a JSON object {{\"head\": {{…}}, \"body\": {{\"encrypt\": \"…\"}}}}",
                json_type(&value)
            ),
            Err(e) => super::not_json(bytes, &e),
        };
        return Err(refuse(why));
    }
    serde_json::from_slice(bytes).map_err(|e| refuse(super::not_json(bytes, &e)))
}

/// An envelope of the usual shape: a head of six strings (other fields ignored) and a body
/// whose `encrypt` is a string. Read straight into strings, without the JSON trees
/// [`WireEnvelope`] builds for its diagnostics; anything else (a missing or mistyped field, a
/// repeated one, not JSON) is read again by that slower path, which says what is wrong.
#[derive(Deserialize)]
struct PlainEnvelope {
    head: Object<PlainHead>,
    body: Object<PlainBody>,
}

/// `T` read from a JSON object only: a derived struct would also read an array of its fields
/// in order, which an envelope must not be.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Fields<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(Fields(std::marker::PhantomData))
            .map(Object)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlainHead {
    partner_id: String,
    api_code: String,
    request_no: String,
    version: String,
    sign: String,
    key_enc: String,
}

#[derive(Deserialize)]
struct PlainBody {
    encrypt: String,
}

/// Reads the envelope's JSON shape. Errors carry whatever head fields could be read, so that the
/// error reply can echo them (a cold path: the size of the error does not matter).
#[allow(clippy::result_large_err)]
pub fn parse_request(bytes: &[u8]) -> Result<SealedRequest, (Echo, WhaletError)> {
    if let Ok(Object(PlainEnvelope {
        head: Object(head),
        body: Object(body),
    })) = serde_json::from_slice(bytes)
    {
        let fields = [
            ("partnerId", &head.partner_id),
            ("apiCode", &head.api_code),
            ("requestNo", &head.request_no),
            ("version", &head.version),
            ("sign", &head.sign),
            ("keyEnc", &head.key_enc),
        ];
        let empty = fields.iter().find(|(_, value)| value.is_empty());
        let echo = Echo {
            partner_id: head.partner_id.clone(),
            api_code: head.api_code.clone(),
            request_no: head.request_no.clone(),
            version: head.version.clone(),
        };
        if let Some((name, _)) = empty {
            return Err((echo, WhaletError::format(format!("head.{name} is empty"))));
        }
        return sealed(echo, head.sign, head.key_enc, Ok(body.encrypt));
    }
    parse_request_tree(bytes)
}

/// [`parse_request`] through the JSON trees, which can say what is wrong with any envelope.
#[allow(clippy::result_large_err)]
fn parse_request_tree(bytes: &[u8]) -> Result<SealedRequest, (Echo, WhaletError)> {
    let envelope = read_envelope(bytes, "the request body").map_err(|e| (Echo::default(), e))?;
    let mut head = match envelope.head {
        Some(Value::Object(head)) => head,
        Some(other) => {
            return Err((
                Echo::default(),
                WhaletError::format(format!(
                    "`head` must be a JSON object, got {}",
                    json_type(&other)
                )),
            ))
        }
        None => return Err((Echo::default(), WhaletError::format("`head` is missing"))),
    };
    let text = |name: &str| head.get(name).and_then(echo_text);
    let echo = Echo {
        partner_id: text("partnerId").unwrap_or_default(),
        api_code: text("apiCode").unwrap_or_default(),
        request_no: text("requestNo").unwrap_or_default(),
        version: text("version").unwrap_or_default(),
    };
    let fail = |detail: String| Err((echo.clone(), WhaletError::format(detail)));
    for name in [
        "partnerId",
        "apiCode",
        "requestNo",
        "version",
        "sign",
        "keyEnc",
    ] {
        match head.get(name) {
            None => return fail(format!("head.{name} is missing")),
            Some(Value::String(s)) if s.is_empty() => return fail(format!("head.{name} is empty")),
            Some(Value::String(_)) => {}
            Some(other) => {
                return fail(format!(
                    "head.{name} must be a string, got {}",
                    json_type(other)
                ))
            }
        }
    }
    // The two long fields move out of the parsed head (checked above to be strings).
    let mut take = |name: &str| match head.swap_remove(name) {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    let (sign, key_enc) = (take("sign"), take("keyEnc"));
    let encrypt = read_encrypt(envelope.body, envelope.encrypt.is_some());
    sealed(echo, sign, key_enc, encrypt)
}

/// The checks of a head whose six fields are non-empty strings (their lengths, the version) and
/// of `body.encrypt` as read (or its refusal), in this order; then the request.
#[allow(clippy::result_large_err)]
fn sealed(
    echo: Echo,
    sign: String,
    key_enc: String,
    encrypt: Result<String, String>,
) -> Result<SealedRequest, (Echo, WhaletError)> {
    let fail = |detail: String| Err((echo.clone(), WhaletError::format(detail)));
    for (name, value) in [
        ("partnerId", &echo.partner_id),
        ("apiCode", &echo.api_code),
        ("requestNo", &echo.request_no),
    ] {
        if value.chars().count() > MAX_HEAD_FIELD {
            return fail(format!(
                "head.{name} is {} characters long; at most {MAX_HEAD_FIELD} are allowed",
                value.chars().count()
            ));
        }
    }
    if echo.version != VERSION {
        return fail(format!(
            "head.version is {}; it must be \"{VERSION}\"",
            crate::text::echo(&echo.version)
        ));
    }
    let encrypt = match encrypt {
        Ok(encrypt) => encrypt,
        Err(detail) => return fail(detail),
    };
    Ok(SealedRequest {
        sign,
        key_enc,
        echo,
        encrypt,
    })
}

/// A head value as a refusal echoes it: a string as sent, a number as its JSON text (the echo
/// field is a string); nothing for an object, an array, a boolean or null (docs/FIDELITY.md,
/// "head field lengths").
fn echo_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `body.encrypt`, or the detail of its refusal. A request without it is refused here, before
/// the signature check (as one without `head.keyEnc` is): the signature it would fail is over
/// an `encrypt` it does not have, and the fix is to send one. `top_level` says whether the
/// envelope has `encrypt` beside `body`.
fn read_encrypt(body: Option<Value>, top_level: bool) -> Result<String, String> {
    let mut body = match body {
        None | Some(Value::Null) => None,
        Some(Value::Object(body)) => Some(body),
        Some(other) => {
            return Err(format!(
                "`body` must be a JSON object, got {}",
                json_type(&other)
            ))
        }
    };
    match body.as_mut().and_then(|b| b.swap_remove("encrypt")) {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Null) => Err("body.encrypt is missing: it is null; send the hex text".into()),
        None => Err(missing_encrypt(body.as_ref(), top_level)),
        Some(other) => Err(format!(
            "body.encrypt must be a hex string, got {}",
            json_type(&other)
        )),
    }
}

/// The refusal of a request without `body.encrypt`, naming where something like it was sent:
/// a key differing only in case (`body.Encrypt`), `encrypt` at the top level, or another field
/// of the body (`body.data`).
fn missing_encrypt(body: Option<&serde_json::Map<String, Value>>, top_level: bool) -> String {
    const MISSING: &str = "body.encrypt is missing";
    const SHAPE: &str = "send {\"head\": {…}, \"body\": {\"encrypt\": \"<hex>\"}}";
    let keys = || body.into_iter().flat_map(|b| b.keys());
    if let Some(name) = keys().find(|k| k.eq_ignore_ascii_case("encrypt")) {
        return format!(
            "{MISSING}; the body has {} (field names are case-sensitive): send it as body.encrypt",
            crate::text::echo(name)
        );
    }
    if top_level {
        return format!("{MISSING}; `encrypt` was sent at the top level, beside `body`: {SHAPE}");
    }
    let others: Vec<String> = keys()
        .take(3)
        .map(|k| crate::text::echo(k).to_string())
        .collect();
    match (body, others.is_empty()) {
        (None, _) => format!("{MISSING}: the request has no `body`; {SHAPE}"),
        (Some(_), true) => format!("{MISSING}: `body` has no fields; {SHAPE}"),
        (Some(_), false) => format!(
            "{MISSING}; the body has {} instead: the encrypted business JSON goes in \
             body.encrypt (hex); {SHAPE}",
            others.join(", ")
        ),
    }
}

impl SealedRequest {
    /// Verifies the sender's signature, then decrypts the body with the receiver's key.
    pub fn open(
        &self,
        receiver: &PrivateKey,
        sender: &PublicKey,
    ) -> Result<OpenedRequest, WhaletError> {
        self.verify(sender)?;
        self.decrypt(receiver)
    }

    /// Verifies the sender's signature (a public-key operation only).
    pub fn verify(&self, sender: &PublicKey) -> Result<(), WhaletError> {
        let signed = request_sign_string(&self.echo, &self.encrypt);
        verify_hex_signature(&self.sign, &signed, sender, "request")
    }

    /// Decrypts the body with the receiver's key (call [`SealedRequest::verify`] first).
    pub fn decrypt(&self, receiver: &PrivateKey) -> Result<OpenedRequest, WhaletError> {
        self.decrypt_plaintext(receiver)?
            .read(&self.echo)
            .map_err(|(err, _)| err)
    }

    /// [`SealedRequest::decrypt`]'s first half: the body's plaintext, not yet read as JSON, so
    /// that a receiver can show what the partner encrypted when it is not a JSON object.
    pub fn decrypt_plaintext(&self, receiver: &PrivateKey) -> Result<Decrypted, WhaletError> {
        let (plaintext, key_enc_form) = decrypt_plaintext(&self.key_enc, &self.encrypt, receiver)?;
        Ok(Decrypted {
            plaintext,
            key_enc_form,
        })
    }
}

/// A request body decrypted under its session key, before it is read as JSON.
#[derive(Debug, Clone)]
pub struct Decrypted {
    /// The AES plaintext, padding removed: what the partner encrypted, byte for byte.
    pub plaintext: Vec<u8>,
    /// Which `keyEnc` plaintext the sender used.
    pub key_enc_form: KeyEncForm,
}

impl Decrypted {
    /// The plaintext read as a request body: UTF-8 JSON, an object (a reply body may also be an
    /// array, queryCurrencyBalance; a request body may not). Refused, the plaintext comes back
    /// with the refusal (to be shown); read, it is the body's text, never copied.
    pub fn read(self, echo: &Echo) -> Result<OpenedRequest, (WhaletError, Vec<u8>)> {
        let (body, text) = read_body(self.plaintext)?;
        if !body.is_object() {
            let err = WhaletError::format(format!(
                "the decrypted body must be a JSON object, got {}",
                json_type(&body)
            ));
            return Err((err, text.into_bytes()));
        }
        Ok(OpenedRequest {
            echo: echo.clone(),
            body,
            text,
            key_enc_form: self.key_enc_form,
        })
    }
}

/// Seals `body` as a request from `sender` to the owner of `receiver`.
pub fn seal_request(
    echo: &Echo,
    body: &Value,
    sender: &PrivateKey,
    receiver: &PublicKey,
    case: HexCase,
) -> Result<Vec<u8>, WhaletError> {
    seal_request_as(echo, body, sender, receiver, case, KeyEncForm::Base64)
}

/// [`seal_request`] with the `keyEnc` plaintext in the given form.
pub fn seal_request_as(
    echo: &Echo,
    body: &Value,
    sender: &PrivateKey,
    receiver: &PublicKey,
    case: HexCase,
    form: KeyEncForm,
) -> Result<Vec<u8>, WhaletError> {
    let text = serde_json::to_vec(body)
        .map_err(|e| WhaletError::new(Code::InternalError, e.to_string()))?;
    seal_text_as(echo, &text, (sender, receiver), case, form)
}

/// [`seal_request`] of a body given as its JSON text, encrypted byte for byte as written (the
/// CLI's `--data`: `1e2` stays `1e2`).
pub fn seal_request_text(
    echo: &Echo,
    text: &[u8],
    sender: &PrivateKey,
    receiver: &PublicKey,
    case: HexCase,
) -> Result<Vec<u8>, WhaletError> {
    seal_text_as(echo, text, (sender, receiver), case, KeyEncForm::Base64)
}

fn seal_text_as(
    echo: &Echo,
    text: &[u8],
    (sender, receiver): (&PrivateKey, &PublicKey),
    case: HexCase,
    form: KeyEncForm,
) -> Result<Vec<u8>, WhaletError> {
    let (encrypt, key_enc) = encrypt_text(text, receiver, case, 16, form)?;
    let sign = case.encode(&crypto::sign(
        sender,
        SignatureHash::Sha1,
        request_sign_string(echo, &encrypt).as_bytes(),
    ));
    let head = WireRequestHead {
        partner_id: &echo.partner_id,
        api_code: &echo.api_code,
        request_no: &echo.request_no,
        version: &echo.version,
        sign,
        key_enc,
    };
    Ok(write_request(&head, &WireBody { encrypt }))
}

/// A request envelope's JSON: [`write_envelope`] of a request head.
fn write_request(head: &WireRequestHead, body: &WireBody) -> Vec<u8> {
    let texts = [
        ("partnerId", head.partner_id),
        ("apiCode", head.api_code),
        ("requestNo", head.request_no),
        ("version", head.version),
    ];
    let plains = [("sign", Some(&head.sign)), ("keyEnc", Some(&head.key_enc))];
    write_envelope(&texts, plains, Some(body))
}

/// Seals a reply. Signed (and, with a body, encrypted) when `keys` = (sender, receiver) are
/// given; head only, without `sign` and `keyEnc`, when they are not (the error-reply form).
/// Should sealing fail (a receiver key too small to wrap the session key), the answer is an
/// unsigned `INTERNAL_ERROR` head, never a reply that silently lost its body.
pub fn seal_reply(
    echo: &Echo,
    code: &str,
    detail: &str,
    body: Option<&Value>,
    keys: Option<(&PrivateKey, &PublicKey)>,
    case: HexCase,
) -> Vec<u8> {
    let form = KeyEncForm::Base64;
    try_seal_reply_as(echo, code, detail, body, keys, case, form).unwrap_or_else(|e| {
        let detail = format!("the reply could not be sealed: {}", e.detail);
        let internal = Code::InternalError.as_str();
        try_seal_reply_as(echo, internal, &detail, None, None, case, form).unwrap_or_default()
    })
}

/// [`seal_reply`] with the `keyEnc` plaintext in the given form, reporting a sealing failure
/// instead of answering INTERNAL_ERROR.
pub fn try_seal_reply_as(
    echo: &Echo,
    code: &str,
    detail: &str,
    body: Option<&Value>,
    keys: Option<(&PrivateKey, &PublicKey)>,
    case: HexCase,
    form: KeyEncForm,
) -> Result<Vec<u8>, WhaletError> {
    let (sign, key_enc, wire_body) = match (keys, body) {
        (Some((sender, receiver)), Some(body)) => {
            let (encrypt, key_enc) = encrypt_body(body, receiver, case, 16, form)?;
            let signed = reply_sign_string(echo, code, detail, Some(&encrypt));
            let sign = case.encode(&crypto::sign(
                sender,
                SignatureHash::Sha1,
                signed.as_bytes(),
            ));
            (Some(sign), Some(key_enc), Some(WireBody { encrypt }))
        }
        (Some((sender, _)), None) => {
            let signed = reply_sign_string(echo, code, detail, None);
            let sign = case.encode(&crypto::sign(
                sender,
                SignatureHash::Sha1,
                signed.as_bytes(),
            ));
            (Some(sign), None, None)
        }
        (None, _) => (None, None, None),
    };
    let head = WireReplyHead {
        partner_id: &echo.partner_id,
        api_code: &echo.api_code,
        request_no: &echo.request_no,
        version: &echo.version,
        code,
        detail,
        sign,
        key_enc,
    };
    Ok(write_reply(&head, wire_body.as_ref()))
}

/// A reply envelope's JSON: [`write_envelope`] of a reply head.
fn write_reply(head: &WireReplyHead, body: Option<&WireBody>) -> Vec<u8> {
    let texts = [
        ("partnerId", head.partner_id),
        ("apiCode", head.api_code),
        ("requestNo", head.request_no),
        ("version", head.version),
        ("code", head.code),
        ("detail", head.detail),
    ];
    let plains = [
        ("sign", head.sign.as_ref()),
        ("keyEnc", head.key_enc.as_ref()),
    ];
    write_envelope(&texts, plains, body)
}

/// An envelope's JSON, byte for byte what `serde_json` writes for a [`WireOut`] of the same
/// head and body (the same members in the same order, the same escapes): the head's `texts`,
/// then its `plains` that are there, then the body. The signature, `keyEnc` and `encrypt` are
/// copied as they are: hex and base64 hold nothing JSON escapes, and escaping their kilobyte was
/// most of the writing of a reply or a notification.
fn write_envelope(
    texts: &[(&str, &str)],
    plains: [(&str, Option<&String>); 2],
    body: Option<&WireBody>,
) -> Vec<u8> {
    fn text(out: &mut Vec<u8>, name: &str, value: &str) {
        // Writing a string into a vector fails only for want of memory, which aborts anyway.
        let _ = serde_json::to_writer(&mut *out, name);
        out.push(b':');
        let _ = serde_json::to_writer(&mut *out, value);
    }
    fn plain(out: &mut Vec<u8>, name: &str, value: &str) {
        debug_assert!(value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)));
        let _ = serde_json::to_writer(&mut *out, name);
        out.extend_from_slice(b":\"");
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    }
    let size = 160
        + texts.iter().map(|(_, value)| value.len()).sum::<usize>()
        + plains
            .iter()
            .map(|(_, v)| v.map_or(0, |v| v.len()))
            .sum::<usize>()
        + body.map_or(0, |b| b.encrypt.len());
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"head\":{");
    for (i, (name, value)) in texts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        text(&mut out, name, value);
    }
    for (name, value) in plains {
        if let Some(value) = value {
            out.push(b',');
            plain(&mut out, name, value);
        }
    }
    out.push(b'}');
    if let Some(body) = body {
        out.extend_from_slice(b",\"body\":{");
        plain(&mut out, "encrypt", &body.encrypt);
        out.push(b'}');
    }
    out.push(b'}');
    out
}

/// Verifies and decrypts a reply, whatever request it answers (the vectors, the load
/// generator); a client that knows what it sent uses [`open_reply_to`].
pub fn open_reply(
    bytes: &[u8],
    receiver: &PrivateKey,
    sender: &PublicKey,
) -> Result<OpenedReply, WhaletError> {
    open_checked(bytes, None, receiver, sender)
}

/// Verifies and decrypts the reply to the request whose head was `sent` (what a partner client
/// does with an answer): besides [`open_reply`]'s checks, the reply must echo `sent`'s
/// `partnerId`, `apiCode`, `requestNo` and `version`, so that a genuine signed reply to another
/// request (replayed, or mixed up by a proxy) is refused before any private-key work. An
/// unsigned refusal echoes the head only as far as the provider read it: a field it left empty
/// is not compared; a refusal echoes a value over [`crate::text::ECHO_BYTES`] cut.
pub fn open_reply_to(
    bytes: &[u8],
    sent: &Echo,
    receiver: &PrivateKey,
    sender: &PublicKey,
) -> Result<OpenedReply, WhaletError> {
    open_checked(bytes, Some(sent), receiver, sender)
}

/// [`open_reply`], and when `sent` is given [`open_reply_to`]'s echo check, after the
/// signature and before decrypting.
fn open_checked(
    bytes: &[u8],
    sent: Option<&Echo>,
    receiver: &PrivateKey,
    sender: &PublicKey,
) -> Result<OpenedReply, WhaletError> {
    let envelope = read_envelope(bytes, "the reply")?;
    let Some(Value::Object(head)) = envelope.head else {
        return Err(WhaletError::format("the reply has no `head` object"));
    };
    let text = |name: &str| head.get(name).and_then(Value::as_str).map(str::to_owned);
    let echo = Echo {
        partner_id: text("partnerId").unwrap_or_default(),
        api_code: text("apiCode").unwrap_or_default(),
        request_no: text("requestNo").unwrap_or_default(),
        version: text("version").unwrap_or_default(),
    };
    let code = text("code").ok_or_else(|| WhaletError::format("head.code is missing"))?;
    let detail = text("detail").unwrap_or_default();
    let encrypt = envelope
        .body
        .as_ref()
        .and_then(|b| b.get("encrypt"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let signed = match text("sign") {
        Some(sign) => {
            let signed = reply_sign_string(&echo, &code, &detail, encrypt.as_deref());
            verify_hex_signature(&sign, &signed, sender, "reply")?;
            true
        }
        None => {
            check_unsigned(&code, encrypt.is_some())?;
            false
        }
    };
    if let Some(sent) = sent {
        check_echo(&echo, sent, signed, !is_accepted(&code))?;
    }
    let body = match encrypt {
        Some(encrypt) => {
            let key_enc =
                text("keyEnc").ok_or_else(|| WhaletError::format("head.keyEnc is missing"))?;
            Some(decrypt_body(&key_enc, &encrypt, receiver)?.0)
        }
        None => None,
    };
    Ok(OpenedReply {
        echo,
        code,
        detail,
        body,
    })
}

/// What an unsigned reply may be: only a refusal made before the partner was authenticated,
/// the head alone (docs/WIRE.md, "An unsigned error reply"). A body, or a success code,
/// without a signature is anyone's.
fn check_unsigned(code: &str, has_body: bool) -> Result<(), WhaletError> {
    if has_body {
        return Err(WhaletError::unauthenticated(
            "the reply has a body but no head.sign; only a head-only refusal may be unsigned",
        ));
    }
    if is_accepted(code) {
        return Err(WhaletError::unauthenticated(format!(
            "the reply says {code} but has no head.sign; only a refusal may be unsigned"
        )));
    }
    Ok(())
}

/// Whether a reply code accepts the request (`SUCCESS`, `PROCESSING`) rather than refuses it.
fn is_accepted(code: &str) -> bool {
    code == Code::Success.as_str() || code == Code::Processing.as_str()
}

/// That the reply's head echoes the request's (`sent`): every field of a signed reply; of an
/// unsigned refusal, the fields it filled in (one refused before its head was read, a body
/// over the limit, echoes none). A refusal echoes a head value over
/// [`crate::text::ECHO_BYTES`] cut the way [`Echo::bounded`] cuts it (docs/FIDELITY.md, "head
/// field lengths"): that cut form, and only it, answers the value sent.
fn check_echo(echo: &Echo, sent: &Echo, signed: bool, refusal: bool) -> Result<(), WhaletError> {
    let cut = if refusal {
        sent.clone().bounded()
    } else {
        sent.clone()
    };
    let unlike_cut: Vec<&str> = echo.differences(&cut).map(|(name, _, _)| name).collect();
    match echo
        .differences(sent)
        .find(|(name, got, _)| (signed || !got.is_empty()) && unlike_cut.contains(name))
    {
        None => Ok(()),
        Some((name, got, want)) => Err(WhaletError::unauthenticated(format!(
            "the reply does not answer this request: its head.{name} is {}, the request's is {} \
             (a reply to another request, replayed or mixed up)",
            crate::text::echo(got),
            crate::text::echo(want)
        ))),
    }
}

/// Whether `body` is certainly an acknowledgement of the notification whose head is
/// `notification`: the usual one, read straight into strings (a JSON object whose `head` is an
/// object with the six head fields as text and `code` SUCCESS; with `strict`, also echoing the
/// notification and carrying no `sign`, which `sign_required` asks for). `false` says only that
/// this reading cannot tell: the ack is then judged from its tree, which also says why it is
/// refused. Reading a tree of the ack was most of judging it.
pub fn plain_ack_accepted(
    body: &[u8],
    notification: &Echo,
    strict: bool,
    sign_required: bool,
) -> bool {
    let Ok(Object(PlainAck { head: Object(head) })) = serde_json::from_slice(body) else {
        return false;
    };
    if head.code != "SUCCESS" {
        return false;
    }
    !strict
        || (head.sign.is_none()
            && !sign_required
            && head.partner_id == notification.partner_id
            && head.api_code == notification.api_code
            && head.request_no == notification.request_no
            && head.version == notification.version)
}

#[derive(Deserialize)]
struct PlainAck<'a> {
    #[serde(borrow)]
    head: Object<PlainAckHead<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlainAckHead<'a> {
    #[serde(borrow)]
    partner_id: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    api_code: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    request_no: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    version: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    code: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    #[allow(dead_code)] // read only to be text
    detail: std::borrow::Cow<'a, str>,
    /// Only whether it is there: `null` too ([`present`]).
    #[serde(default, deserialize_with = "present")]
    sign: Option<Value>,
}

/// Checks a partner's acknowledgement of a notification the documented way (`strict_ack`):
/// the ack is a complete response head (`partnerId`, `apiCode`, `requestNo`, `version`,
/// `code`, `detail`, all text) echoing the notification's `partnerId`, `apiCode`, `requestNo`
/// and `version`, and its `sign`, when present (or always, with `sign_required`), is a
/// SHA1withRSA signature by the partner's key over the reply sign string. The ack's body is
/// not decrypted: nothing in it is needed, and it would cost a private-key operation.
pub fn check_ack(
    reply: &Value,
    notification: &Echo,
    partner_key: &PublicKey,
    sign_required: bool,
) -> Result<(), String> {
    const WHY: &str = "ack rejected (strict_ack)";
    let head_object = reply.get("head");
    let head = |name: &str| head_object.and_then(|h| h.get(name));
    for name in [
        "partnerId",
        "apiCode",
        "requestNo",
        "version",
        "code",
        "detail",
    ] {
        match head(name) {
            Some(Value::String(_)) => {}
            None => {
                return Err(format!(
                    "{WHY}: head.{name} is missing; answer with the complete response head \
                     (partnerId, apiCode, requestNo, version echoed from the notification, code, detail)"
                ))
            }
            Some(other) => {
                return Err(format!(
                    "{WHY}: head.{name} must be a string, got {}",
                    json_type(other)
                ))
            }
        }
    }
    let text = |name: &str| head(name).and_then(Value::as_str).unwrap_or_default();
    let echo = Echo {
        partner_id: text("partnerId").to_owned(),
        api_code: text("apiCode").to_owned(),
        request_no: text("requestNo").to_owned(),
        version: text("version").to_owned(),
    };
    if let Some((name, got, want)) = echo.differences(notification).next() {
        return Err(format!(
            "{WHY}: head.{name} is {}, the notification's is {}",
            crate::text::echo(got),
            crate::text::echo(want)
        ));
    }
    // A `sign` sent as null is there with the wrong type, as any other head field (it is not
    // an unsigned ack).
    let sign = match head("sign") {
        None if sign_required => return Err(format!("{WHY}: the ack has no head.sign")),
        None => return Ok(()),
        Some(Value::String(sign)) => sign,
        Some(other) => {
            return Err(format!(
                "{WHY}: head.sign must be a hex string, got {}",
                json_type(other)
            ))
        }
    };
    let signature = decode_hex("head.sign", sign).map_err(|e| format!("{WHY}: {}", e.detail))?;
    let encrypt = reply.pointer("/body/encrypt").and_then(Value::as_str);
    let signed = reply_sign_string(&echo, text("code"), text("detail"), encrypt);
    if crypto::verify(
        partner_key,
        SignatureHash::Sha1,
        signed.as_bytes(),
        &signature,
    ) {
        Ok(())
    } else {
        Err(format!(
            "{WHY}: head.sign does not verify with the partner's public key \
             (SHA1withRSA over {:?})",
            abbreviate(&signed)
        ))
    }
}

/// Flips one hex digit of `head.sign` so that verification fails but the envelope still parses.
pub fn corrupt_sign(body: &[u8]) -> Vec<u8> {
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

/// Encrypts a JSON body under a fresh session key: `(encrypt, keyEnc)` in hex.
fn encrypt_body(
    body: &Value,
    receiver: &PublicKey,
    case: HexCase,
    key_len: usize,
    form: KeyEncForm,
) -> Result<(String, String), WhaletError> {
    let plaintext = serde_json::to_vec(body)
        .map_err(|e| WhaletError::new(Code::InternalError, e.to_string()))?;
    encrypt_text(&plaintext, receiver, case, key_len, form)
}

/// Encrypts `plaintext` under a fresh session key and wraps the key for `receiver`: the
/// `(encrypt, keyEnc)` hex pair.
fn encrypt_text(
    plaintext: &[u8],
    receiver: &PublicKey,
    case: HexCase,
    key_len: usize,
    form: KeyEncForm,
) -> Result<(String, String), WhaletError> {
    let session_key = crypto::random_key(key_len);
    let encrypt = crypto::aes_ecb_encrypt(&session_key, plaintext)
        .map_err(|e| WhaletError::new(Code::InternalError, e.to_string()))?;
    let wrapped = match form {
        KeyEncForm::Base64 => base64_encode(&session_key),
        KeyEncForm::HexBase64 => hex::encode(base64_encode(&session_key)),
    };
    let key_enc = crypto::rsa_encrypt(receiver, wrapped.as_bytes())
        .map_err(|e| WhaletError::new(Code::InternalError, e.to_string()))?;
    Ok((case.encode(&encrypt), case.encode(&key_enc)))
}

/// The decrypted body, parsed and as text, and the form of its session key.
fn decrypt_body(
    key_enc: &str,
    encrypt: &str,
    receiver: &PrivateKey,
) -> Result<(Value, String, KeyEncForm), WhaletError> {
    let (plaintext, form) = decrypt_plaintext(key_enc, encrypt, receiver)?;
    let (body, text) = read_body(plaintext).map_err(|(err, _)| err)?;
    Ok((body, text, form))
}

/// RSA-decrypts `keyEnc` to the session key and AES-decrypts `encrypt` with it: the plaintext
/// bytes and the `keyEnc` form. A plaintext that is not UTF-8 under a key that is the hex of a
/// raw key (no documented form) is refused as that key mistake, not as its content.
fn decrypt_plaintext(
    key_enc: &str,
    encrypt: &str,
    receiver: &PrivateKey,
) -> Result<(Vec<u8>, KeyEncForm), WhaletError> {
    let key_enc_bytes = decode_hex("head.keyEnc", key_enc)?;
    let wrapped = crypto::rsa_decrypt(receiver, &key_enc_bytes).map_err(|e| match e {
        crypto::CryptoError::RsaLength { got, key } => WhaletError::format(format!(
            "head.keyEnc decodes to {got} bytes; an RSA-{} ciphertext is {key} bytes",
            key * 8
        )),
        _ => WhaletError::format(format!(
            "head.keyEnc could not be decrypted with the receiver's private key (its public key is {}): \
             encrypt Base64(sessionKey) with that public key, RSA/ECB/PKCS1Padding",
            receiver.public().fingerprint()
        )),
    })?;
    let (session_key, form) = read_session_key(&wrapped)?;
    let ciphertext = decode_hex("body.encrypt", encrypt)?;
    let mistake = || hex_key_mistake(&wrapped, &ciphertext);
    let plaintext = aes_open(&session_key, &ciphertext).map_err(|err| mistake().unwrap_or(err))?;
    if let (Err(_), Some(err)) = (std::str::from_utf8(&plaintext), mistake()) {
        return Err(err);
    }
    Ok((plaintext, form))
}

/// AES-decrypts `ciphertext` with `session_key` (PKCS5 padding removed).
fn aes_open(session_key: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, WhaletError> {
    crypto::aes_ecb_decrypt(session_key, ciphertext).map_err(|e| match e {
        crypto::CryptoError::AesLength(n) => WhaletError::format(format!(
            "body.encrypt decodes to {n} bytes, not a positive multiple of the 16-byte AES block"
        )),
        _ => WhaletError::format(format!(
            "body.encrypt did not decrypt with the AES-{} session key from head.keyEnc \
             (bad PKCS5 padding): was it encrypted with AES/ECB/PKCS5Padding under that key?",
            session_key.len() * 8
        )),
    })
}

/// A decrypted body read as UTF-8 JSON: parsed, and as text (the plaintext's own buffer); the
/// plaintext comes back with a refusal. A number beyond the range of a double (`1e400`) is read
/// as its text ([`super::json_value`]), as a number with an exponent is
/// ([`crate::money::keep_number_texts`]): ignored in a field no operation reads, refused as that
/// text in one it does.
fn read_body(plaintext: Vec<u8>) -> Result<(Value, String), (WhaletError, Vec<u8>)> {
    let text = String::from_utf8(plaintext).map_err(|e| {
        let why = format!("the decrypted body is not UTF-8: {}", e.utf8_error());
        (WhaletError::format(why), e.into_bytes())
    })?;
    match super::json_value(&text) {
        Ok(body) => Ok((body, text)),
        Err(e) => Err((
            WhaletError::format(format!(
                "the decrypted body is not JSON: {}",
                super::not_json(text.as_bytes(), &e)
            )),
            text.into_bytes(),
        )),
    }
}

/// The session key in a `keyEnc` plaintext and its form, or the refusal that says what the
/// plaintext is instead: white space around or in the Base64 text (which Java's
/// standard `Base64.getDecoder()` refuses), the hex of a key (no documented form), not
/// Base64, or not an AES key size.
fn read_session_key(wrapped: &[u8]) -> Result<(Vec<u8>, KeyEncForm), WhaletError> {
    // White space is named only in text: a raw key's bytes (no documented form) hold a tab or
    // a newline byte one time in four, and are "not Base64" below.
    let text = wrapped
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if let Some(index) = wrapped
        .iter()
        .position(u8::is_ascii_whitespace)
        .filter(|_| text)
    {
        return Err(WhaletError::format(format!(
            "head.keyEnc decrypted to text with white space ({:?} at position {index} of {} bytes); \
             the RSA plaintext must be the Base64 text of the AES session key alone, without line \
             breaks or spaces (Python's base64.encodebytes appends \"\\n\": use b64encode)",
            char::from(wrapped[index]),
            wrapped.len()
        )));
    }
    let unwrapped = unwrap_session_key(wrapped).filter(|(k, _)| [16, 24, 32].contains(&k.len()));
    if let (None, Some(mistake)) = (&unwrapped, session_key_mistake(wrapped)) {
        return Err(mistake);
    }
    let Some((session_key, form)) = unwrapped.or_else(|| unwrap_session_key(wrapped)) else {
        return Err(WhaletError::format(format!(
            "head.keyEnc decrypted to {} bytes that are not Base64; the RSA plaintext must be \
             the Base64 text of the AES session key (24 characters for AES-128), or that text \
             as hex (48 characters)",
            wrapped.len()
        )));
    };
    if [16, 24, 32].contains(&session_key.len()) {
        return Ok((session_key, form));
    }
    if hex_session_key(wrapped).is_some() {
        return Err(hex_key_refusal(wrapped.len()));
    }
    Err(WhaletError::format(format!(
        "the session key in head.keyEnc is {} bytes; AES needs 16, 24 or 32",
        session_key.len()
    )))
}

/// The refusal of a `keyEnc` plaintext that is nearly one of the two documented forms: the
/// Base64 of an AES key, or its hex, written in the URL-safe alphabet or without its `=`
/// padding (each gives an AES key once mended). The hex of a raw key is told apart: its digits
/// decode to bytes that are not Base64 text.
fn session_key_mistake(wrapped: &[u8]) -> Option<WhaletError> {
    let (form, why) = match base64_mistake(wrapped) {
        Some(why) => ("", why),
        None => (
            "the hex of ",
            base64_mistake(&super::hex_to_bytes(wrapped).ok()?)?,
        ),
    };
    Some(WhaletError::format(format!(
        "head.keyEnc decrypted to {form}{why}; the RSA plaintext must be the standard Base64 \
         text of the AES session key, with + and / and its = padding (24 characters for \
         AES-128), or that text as hex"
    )))
}

/// What keeps `text` from being the standard Base64 of an AES key (16, 24 or 32 bytes), if it
/// is only the URL-safe alphabet or missing padding.
fn base64_mistake(text: &[u8]) -> Option<&'static str> {
    let url_safe = text.iter().any(|b| matches!(b, b'-' | b'_'));
    let mut mended: Vec<u8> = text
        .iter()
        .map(|b| match b {
            b'-' => b'+',
            b'_' => b'/',
            other => *other,
        })
        .collect();
    let unpadded = mended.len() % 4 != 0;
    while mended.len() % 4 != 0 {
        mended.push(b'=');
    }
    base64_decode(&mended).filter(|k| [16, 24, 32].contains(&k.len()))?;
    match (url_safe, unpadded) {
        (true, true) => Some("URL-safe Base64 without its = padding"),
        (true, false) => Some("URL-safe Base64 (- and _ for + and /)"),
        (false, true) => Some("Base64 without its = padding"),
        (false, false) => None,
    }
}

/// The session key in a `keyEnc` plaintext, and its form. Base64 of an AES key (16, 24 or 32
/// bytes) first; else hex text of such Base64. The two cannot be confused: the hex text of a
/// key's Base64 is 48, 64 or 88 characters, which Base64-decode to 36, 48 or 66 bytes, never
/// an AES key size.
fn unwrap_session_key(wrapped: &[u8]) -> Option<(Vec<u8>, KeyEncForm)> {
    let aes = |k: &Vec<u8>| [16, 24, 32].contains(&k.len());
    let direct = base64_decode(wrapped);
    if let Some(key) = direct.as_ref().filter(|k| aes(k)) {
        return Some((key.clone(), KeyEncForm::Base64));
    }
    if let Some(key) = super::hex_to_bytes(wrapped)
        .ok()
        .and_then(|b64| base64_decode(&b64))
        .filter(aes)
    {
        return Some((key, KeyEncForm::HexBase64));
    }
    // Not an AES key either way: report the key size from the plain Base64 reading.
    direct.map(|k| (k, KeyEncForm::Base64))
}

/// The key a `keyEnc` plaintext holds if it is the hex text of an AES key (32, 48 or 64 hex
/// digits), a form no document describes: a partner's likely mistake.
fn hex_session_key(wrapped: &[u8]) -> Option<Vec<u8>> {
    if ![32, 48, 64].contains(&wrapped.len()) || !wrapped.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    super::hex_to_bytes(wrapped).ok()
}

/// The refusal for a body that did not open under the Base64 reading of a `keyEnc` plaintext
/// of 32 hex digits (which is also Base64 of a 24-byte key) when it decrypts under those
/// digits read as the hex of a 16-byte key: the mistake is in `keyEnc`, not in the body.
fn hex_key_mistake(wrapped: &[u8], ciphertext: &[u8]) -> Option<WhaletError> {
    let key = hex_session_key(wrapped)?;
    crypto::aes_ecb_decrypt(&key, ciphertext).ok()?;
    Some(hex_key_refusal(wrapped.len()))
}

fn hex_key_refusal(hex_len: usize) -> WhaletError {
    let key_len = hex_len / 2;
    WhaletError::format(format!(
        "head.keyEnc decrypted to {hex_len} hex digits, the hex of a {key_len}-byte AES key; the \
         RSA plaintext must be the Base64 text of the session key ({} characters for a \
         {key_len}-byte key), not its hex",
        key_len.div_ceil(3) * 4
    ))
}

fn verify_hex_signature(
    sign: &str,
    signed: &str,
    key: &PublicKey,
    what: &str,
) -> Result<(), WhaletError> {
    let signature =
        decode_hex("head.sign", sign).map_err(|e| WhaletError::unauthenticated(e.detail))?;
    if crypto::verify(key, SignatureHash::Sha1, signed.as_bytes(), &signature) {
        return Ok(());
    }
    // The hint comes before the expected string: `head.detail` is cut at 256 characters, and
    // the string alone is longer than that.
    let hint = if crypto::verify(key, SignatureHash::Sha256, signed.as_bytes(), &signature) {
        " (the signature is SHA256withRSA; the scheme uses SHA1withRSA)".to_owned()
    } else {
        key.length_hint(signature.len())
            .map(|length| format!(" ({length})"))
            .unwrap_or_default()
    };
    Err(WhaletError::unauthenticated(format!(
        "the {what} signature does not verify{hint}: expected SHA1withRSA (hex) over the UTF-8 \
         string \"{}\", checked with public key {}.",
        abbreviate(signed),
        key.fingerprint()
    )))
}

fn abbreviate(s: &str) -> String {
    const KEEP: usize = 96;
    if s.len() <= 3 * KEEP {
        return s.to_owned();
    }
    let head = s.char_indices().nth(KEEP).map_or(s.len(), |(i, _)| i);
    let tail_start = s.len() - KEEP;
    let tail_start = (tail_start..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    format!(
        "{}…[{} characters elided]…{}",
        &s[..head],
        tail_start.saturating_sub(head),
        &s[tail_start..]
    )
}

/// The bytes of the hex field `field`, or a refusal saying what to fix ([`super::hex_text`]).
fn decode_hex(field: &str, value: &str) -> Result<Vec<u8>, WhaletError> {
    super::hex_text(value).map_err(|why| WhaletError::format(format!("{field} is not hex: {why}")))
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(bytes: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(bytes).ok()
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
