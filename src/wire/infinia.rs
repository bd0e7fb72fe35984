//! The Infinia Pay envelope (spec §2.0–2.1): a request is `{version, appId, dataType,
//! requestData, signature}` where `requestData` is the business JSON encrypted with RSA/ECB/
//! PKCS1Padding to the receiver's public key in chunks of at most k−11 bytes (245 for RSA-2048),
//! the k-byte cipher blocks concatenated and standard-Base64 encoded, and `signature` is the
//! standard Base64 of an RSA signature (SHA256withRSA by default) over the UTF-8 bytes of the
//! Base64 `requestData` string. A reply is `{appId, code, message, responseData}`, `responseData`
//! encrypted the same way to the merchant. Webhooks use the request shape in the other direction.
//!
//! Every failure is an [`InfiniaError`] with a system code of spec §2.9 and a message that says
//! which step failed and what was expected. Only this module and `crypto.rs` touch bytes.

use base64::Engine;
use serde::Serialize;
use serde_json::Value;

use super::crypto::{self, CryptoError, SignatureHash};
use super::keys::{PrivateKey, PublicKey};

mod code;
pub use code::{Code, InfiniaError};

/// `message` of a successful reply.
pub const SUCCESS_MESSAGE: &str = "Success";
/// `dataType` the scheme knows.
pub const DATA_TYPE: &str = "JSON";

const MAX_APP_ID: usize = 64;
const MAX_VERSION: usize = 8;

/// A request (or webhook) envelope whose JSON shape is valid; nothing cryptographic checked yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedRequest {
    pub version: String,
    pub app_id: String,
    pub data_type: String,
    pub request_data: String,
    pub signature: String,
}

/// A reply as the merchant sees it after decryption.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedReply {
    pub app_id: String,
    pub code: String,
    pub message: String,
    pub data: Option<Value>,
}

/// Reads the outer JSON. Errors carry the `appId` when it could be read, for the refusal to echo:
/// cut to [`crate::text::ECHO_BYTES`] (ending `… N more bytes`), as the Whalet head's echo is,
/// so that a huge `appId` (refused as too long) does not make a reply as huge. An accepted
/// `appId` (at most 64 characters) always fits whole.
pub fn parse_request(bytes: &[u8]) -> Result<SealedRequest, (String, InfiniaError)> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        (
            String::new(),
            InfiniaError::format(format!(
                "the request body is not JSON: {}",
                super::not_json(bytes, &e)
            )),
        )
    })?;
    let Value::Object(map) = value else {
        return Err((
            String::new(),
            InfiniaError::format(format!(
                "the request body must be a JSON object, got {}",
                json_type(&value)
            )),
        ));
    };
    let app_id = match map.get("appId") {
        Some(Value::String(s)) => crate::text::bound(s, crate::text::ECHO_BYTES).into_owned(),
        _ => String::new(),
    };
    let field = |name: &str| -> Result<String, InfiniaError> {
        match map.get(name) {
            None | Some(Value::Null) => Err(InfiniaError::missing(format!("{name} is missing"))),
            Some(Value::String(s)) if s.is_empty() => {
                Err(InfiniaError::missing(format!("{name} is empty")))
            }
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(InfiniaError::format(format!(
                "{name} must be a string, got {}",
                json_type(other)
            ))),
        }
    };
    let read = || -> Result<SealedRequest, InfiniaError> {
        let sealed = SealedRequest {
            version: field("version")?,
            app_id: field("appId")?,
            data_type: field("dataType")?,
            request_data: field("requestData")?,
            signature: field("signature")?,
        };
        check_envelope_values(&sealed)?;
        Ok(sealed)
    };
    read().map_err(|e| (app_id.clone(), e))
}

/// The envelope's values once read as strings: too long or not an allowed value is SYS-006, as
/// for business fields (docs/INFINIA.md "Codes"); a value that is not a string is SYS-005.
fn check_envelope_values(sealed: &SealedRequest) -> Result<(), InfiniaError> {
    let app_id = sealed.app_id.chars().count();
    if app_id > MAX_APP_ID {
        return Err(InfiniaError::range(format!(
            "appId is {app_id} characters long; at most {MAX_APP_ID} are allowed"
        )));
    }
    let version = sealed.version.chars().count();
    if version > MAX_VERSION {
        return Err(InfiniaError::range(format!(
            "version is {version} characters long; at most {MAX_VERSION} are allowed (e.g. \"1.0\")"
        )));
    }
    if !sealed.data_type.eq_ignore_ascii_case(DATA_TYPE) {
        return Err(InfiniaError::range(format!(
            "dataType {} is not an allowed value; the only data format is \"{DATA_TYPE}\"",
            crate::text::echo(&sealed.data_type)
        )));
    }
    Ok(())
}

impl SealedRequest {
    /// Reads `requestData` as Base64, verifies the sender's signature over it, then decrypts it
    /// with the receiver's key. The encoding is checked first: it costs no key operation, and
    /// when it is wrong (line-wrapped, hex) it is the mistake to fix, which a signature made
    /// over other text would hide. On a signature failure the data is still decrypted to find
    /// the likely mistake.
    pub fn open(
        &self,
        receiver: &PrivateKey,
        sender: &PublicKey,
        alg: SignatureHash,
    ) -> Result<Value, InfiniaError> {
        parse_data("requestData", &self.open_bytes(receiver, sender, alg)?)
    }

    /// [`SealedRequest::open`] up to the decrypted bytes, not yet read as JSON ([`parse_data`]),
    /// so that a receiver can show what the partner encrypted when it is not a JSON object.
    pub fn open_bytes(
        &self,
        receiver: &PrivateKey,
        sender: &PublicKey,
        alg: SignatureHash,
    ) -> Result<Vec<u8>, InfiniaError> {
        let k = receiver.public().size();
        let raw = decode_data("requestData", &self.request_data, k)?;
        if let Err(mut err) = verify_signature(&self.signature, &self.request_data, sender, alg) {
            // The hint costs a private-key operation per block: only for small requests, so that
            // a refused request never costs more than a few.
            let small = self.blocks(k) <= HINT_MAX_BLOCKS;
            let plain = small
                .then(|| decrypt_blocks("requestData", &raw, receiver).ok())
                .flatten();
            if let Some(plain) = plain {
                if let Ok(signature) = b64_decode(&self.signature) {
                    if crypto::verify(sender, alg, &plain, &signature) {
                        err.message.push_str(
                            " Hint: the signature was made over the decrypted business JSON; \
                             sign the Base64 requestData string instead.",
                        );
                    }
                }
            }
            return Err(err);
        }
        decrypt_blocks("requestData", &raw, receiver)
    }

    /// How many RSA blocks of `key_bytes` the `requestData` holds (from its length alone).
    pub fn blocks(&self, key_bytes: usize) -> usize {
        let text = self.request_data.trim_end_matches('=');
        (text.len() * 3 / 4) / key_bytes.max(1)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Up to how many blocks a refused request is decrypted to see whether the partner signed the
/// plaintext instead of the Base64 (the hint in the refusal).
pub const HINT_MAX_BLOCKS: usize = 4;

/// Seals `data` as a request (merchant → Infinia) or a webhook (Infinia → merchant).
pub fn seal_request(
    version: &str,
    app_id: &str,
    data: &Value,
    sender: &PrivateKey,
    receiver: &PublicKey,
    alg: SignatureHash,
) -> Result<SealedRequest, InfiniaError> {
    let text = serde_json::to_vec(data).map_err(|e| InfiniaError::internal(e.to_string()))?;
    seal_request_bytes((version, app_id), &text, sender, receiver, alg)
}

/// [`seal_request`] of business data given as its JSON text, encrypted byte for byte as
/// written (the CLI's `--data`).
pub fn seal_request_bytes(
    (version, app_id): (&str, &str),
    text: &[u8],
    sender: &PrivateKey,
    receiver: &PublicKey,
    alg: SignatureHash,
) -> Result<SealedRequest, InfiniaError> {
    let request_data = encrypt_bytes(text, receiver)?;
    let signature = sign(sender, alg, &request_data);
    Ok(SealedRequest {
        version: version.to_owned(),
        app_id: app_id.to_owned(),
        data_type: DATA_TYPE.to_owned(),
        request_data,
        signature,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireReply<'a> {
    app_id: &'a str,
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
}

/// Seals a reply; `data` is encrypted to `receiver`. `signer` adds a signature over
/// `responseData` (off by default: the documents show none).
pub fn seal_reply(
    app_id: &str,
    code: &str,
    message: &str,
    data: Option<(&Value, &PublicKey)>,
    signer: Option<(&PrivateKey, SignatureHash)>,
) -> Result<Vec<u8>, InfiniaError> {
    let response_data = match data {
        Some((value, receiver)) => Some(encrypt_data(value, receiver)?),
        None => None,
    };
    let signature = match (&response_data, signer) {
        (Some(rd), Some((key, alg))) => Some(sign(key, alg, rd)),
        _ => None,
    };
    serde_json::to_vec(&WireReply {
        app_id,
        code,
        message,
        response_data,
        signature,
    })
    .map_err(|e| InfiniaError::internal(e.to_string()))
}

/// Opens a reply (what the merchant does): decrypts `responseData`; verifies a `signature`
/// only when the reply carries one.
pub fn open_reply(
    bytes: &[u8],
    receiver: &PrivateKey,
    sender: &PublicKey,
    alg: SignatureHash,
) -> Result<OpenedReply, InfiniaError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| InfiniaError::format(format!("the reply is not JSON: {e}")))?;
    let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let code = text("code").ok_or_else(|| InfiniaError::missing("the reply has no code"))?;
    let data = match text("responseData").filter(|s| !s.is_empty()) {
        Some(rd) => {
            let raw = decode_data("responseData", &rd, receiver.public().size())?;
            if let Some(signature) = text("signature") {
                verify_signature(&signature, &rd, sender, alg)?;
            }
            Some(parse_data(
                "responseData",
                &decrypt_blocks("responseData", &raw, receiver)?,
            )?)
        }
        None => None,
    };
    Ok(OpenedReply {
        app_id: text("appId").unwrap_or_default(),
        code,
        message: text("message").unwrap_or_default(),
        data,
    })
}

/// Business JSON → Base64 of the concatenated RSA blocks.
pub fn encrypt_data(data: &Value, receiver: &PublicKey) -> Result<String, InfiniaError> {
    let plaintext = serde_json::to_vec(data).map_err(|e| InfiniaError::internal(e.to_string()))?;
    encrypt_bytes(&plaintext, receiver)
}

/// Bytes → Base64 of RSA/ECB/PKCS1Padding blocks, the plaintext cut every k−11 bytes.
pub fn encrypt_bytes(plaintext: &[u8], receiver: &PublicKey) -> Result<String, InfiniaError> {
    let chunk = receiver.size().saturating_sub(11).max(1);
    let mut out = Vec::with_capacity(plaintext.len().div_ceil(chunk).max(1) * receiver.size());
    let pieces: Vec<&[u8]> = if plaintext.is_empty() {
        vec![&[][..]]
    } else {
        plaintext.chunks(chunk).collect()
    };
    for piece in pieces {
        let block = crypto::rsa_encrypt(receiver, piece)
            .map_err(|e| InfiniaError::internal(e.to_string()))?;
        out.extend_from_slice(&block);
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// Base64 of RSA blocks → business JSON object. `field` names the field in messages.
pub fn decrypt_data(field: &str, b64: &str, receiver: &PrivateKey) -> Result<Value, InfiniaError> {
    let raw = decode_data(field, b64, receiver.public().size())?;
    parse_data(field, &decrypt_blocks(field, &raw, receiver)?)
}

/// Decrypted blocks → the business JSON object they hold (`field` names them in messages).
pub fn parse_data(field: &str, plain: &[u8]) -> Result<Value, InfiniaError> {
    let text = std::str::from_utf8(plain).map_err(|e| {
        InfiniaError::format(format!(
            "{field} decrypted to {} bytes that are not UTF-8 ({e}); encrypt the UTF-8 bytes of \
             the JSON and concatenate the blocks in order",
            plain.len()
        ))
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let why = super::not_json(text.as_bytes(), &e);
        InfiniaError::format(format!("{field} decrypted, but is not JSON: {why}"))
    })?;
    if !value.is_object() {
        return Err(InfiniaError::format(format!(
            "{field} must hold a JSON object, got {}",
            json_type(&value)
        )));
    }
    Ok(value)
}

/// The bytes of `field`, standard Base64 of `k`-byte RSA blocks: refused (SYS-005) when it is
/// not standard Base64, or when it is the hex of whole blocks, which is Base64 text too but
/// would decode to the wrong bytes.
fn decode_data(field: &str, text: &str, k: usize) -> Result<Vec<u8>, InfiniaError> {
    if let Some(blocks) = hex_blocks(text, k) {
        return Err(InfiniaError::format(format!(
            "{field} is {} hex digits, the hex of {blocks} {k}-byte RSA block(s): it looks like \
             hex; send it Base64-encoded (standard Base64 of the same bytes)",
            text.len()
        )));
    }
    b64_decode(text)
        .map_err(|why| InfiniaError::format(format!("{field} is not standard Base64: {why}")))
}

/// How many `k`-byte blocks `text` is the hex of, when it is hex digits only and exactly that
/// long (512 digits per RSA-2048 block). Base64 of whole blocks is never that: one block is 344
/// characters ending `==`, and the odds of longer Base64 being hex digits only are nil.
fn hex_blocks(text: &str, k: usize) -> Option<usize> {
    let digits = text.len();
    let hex =
        digits > 0 && k > 0 && digits % (2 * k) == 0 && text.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then(|| digits / (2 * k))
}

/// RSA-decrypts `raw`, the concatenated `k`-byte blocks, each with the receiver's key.
fn decrypt_blocks(field: &str, raw: &[u8], receiver: &PrivateKey) -> Result<Vec<u8>, InfiniaError> {
    let k = receiver.public().size();
    if raw.is_empty() || raw.len() % k != 0 {
        return Err(InfiniaError::format(format!(
            "{field} decodes to {} bytes, not a positive multiple of {k} (the RSA-{} block size); \
             each plaintext chunk of at most {} bytes becomes one {k}-byte block",
            raw.len(),
            k * 8,
            k.saturating_sub(11)
        )));
    }
    let blocks = raw.len() / k;
    let mut out = Vec::with_capacity(raw.len());
    for (i, block) in raw.chunks(k).enumerate() {
        let piece = crypto::rsa_decrypt(receiver, block).map_err(|e| match e {
            CryptoError::RsaLength { got, key } => {
                InfiniaError::format(format!("{field} block {} is {got} bytes, not {key}", i + 1))
            }
            _ => InfiniaError::format(format!(
                "{field} block {} of {blocks} did not decrypt with the receiver's private key \
                 (its public key is {}): encrypt with that public key, RSA/ECB/PKCS1Padding",
                i + 1,
                receiver.public().fingerprint()
            )),
        })?;
        out.extend_from_slice(&piece);
    }
    Ok(out)
}

/// Standard Base64 of `alg(key, UTF-8 bytes of text)`.
pub fn sign(key: &PrivateKey, alg: SignatureHash, text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(crypto::sign(key, alg, text.as_bytes()))
}

/// Verifies `signature` (standard Base64) over the UTF-8 bytes of `signed`.
pub fn verify_signature(
    signature: &str,
    signed: &str,
    key: &PublicKey,
    alg: SignatureHash,
) -> Result<(), InfiniaError> {
    if hex_blocks(signature, key.size()) == Some(1) {
        return Err(InfiniaError::format(format!(
            "signature is {} hex digits, the hex of a {}-byte RSA-{} signature: it looks like \
             hex; send it Base64-encoded (standard Base64 of the same bytes)",
            signature.len(),
            key.size(),
            key.size() * 8
        )));
    }
    let raw = b64_decode(signature)
        .map_err(|why| InfiniaError::format(format!("signature is not standard Base64: {why}")))?;
    if crypto::verify(key, alg, signed.as_bytes(), &raw) {
        return Ok(());
    }
    let other = match alg {
        SignatureHash::Sha256 => SignatureHash::Sha1,
        SignatureHash::Sha1 => SignatureHash::Sha256,
    };
    let mut hint = String::new();
    if crypto::verify(key, other, signed.as_bytes(), &raw) {
        hint = format!(
            " Hint: the signature is {}; this app is configured for {}.",
            alg_name(other),
            alg_name(alg)
        );
    } else if let Some(length) = key.length_hint(raw.len()) {
        hint = format!(" Hint: {length}.");
    }
    Err(InfiniaError::invalid(format!(
        "the signature does not verify: expected {} (standard Base64) over the UTF-8 bytes of \
         the Base64 string \"{}\" ({} characters, SHA-256 {}), checked with public key {}.{hint}",
        alg_name(alg),
        abbreviate(signed),
        signed.chars().count(),
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(signed.as_bytes())),
        key.fingerprint()
    )))
}

pub fn alg_name(alg: SignatureHash) -> &'static str {
    match alg {
        SignatureHash::Sha1 => "SHA1withRSA",
        SignatureHash::Sha256 => "SHA256withRSA",
    }
}

/// Standard Base64 → bytes, or what is wrong with the text. White space (a line-wrapped
/// encoder's CRLF every 76 characters) is named first, wherever it is: the decoder may stop
/// on the length before reaching it. Then any other character outside the alphabet, as sent
/// (`é`, not the first byte of its UTF-8 read as Latin-1) and where [`super::invalid_character`] puts
/// it; what is left for the decoder is ASCII, whose byte positions are its character positions.
fn b64_decode(text: &str) -> Result<Vec<u8>, String> {
    if let Some((_, why)) = super::invalid_character(text, |c| !c.is_ascii_whitespace()) {
        return Err(format!(
            "{why}: white space; send the Base64 on one line, without line breaks or spaces \
             (Java: Base64.getEncoder(), not getMimeEncoder())"
        ));
    }
    let alphabet = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    if let Some((c, why)) = super::invalid_character(text, alphabet) {
        let url_safe = match c {
            '-' | '_' => " (URL-safe Base64? use + and /)",
            _ => "",
        };
        return Err(format!("{why}{url_safe}"));
    }
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| match e {
            base64::DecodeError::InvalidByte(i, b) => {
                format!("invalid character {:?} at position {i}", char::from(b))
            }
            base64::DecodeError::InvalidLength(n) => {
                format!("length {n} is not valid (padding with '=' missing?)")
            }
            base64::DecodeError::InvalidPadding => padding_problem(text),
            other => other.to_string(),
        })
}

/// What is wrong with the `=` padding of `text`, Base64 the decoder refused for it: standard
/// Base64 is padded to a multiple of 4 characters (the simulator does not take it unpadded,
/// docs/FIDELITY.md).
fn padding_problem(text: &str) -> String {
    let n = text.len();
    let pads = text.bytes().rev().take_while(|&b| b == b'=').count();
    if pads == 0 && n % 4 != 0 {
        format!(
            "its {n} characters are not a multiple of 4: the = padding is missing (add {} '=' \
             at the end; Java: Base64.getEncoder(), not withoutPadding())",
            4 - n % 4
        )
    } else {
        format!(
            "the = padding is wrong: {n} characters ending with {pads} '='; standard Base64 pads \
             the last group of 4 with one or two '=' where the bytes run out"
        )
    }
}

fn abbreviate(s: &str) -> String {
    const KEEP: usize = 96;
    if s.len() <= 3 * KEEP || !s.is_ascii() {
        return s.to_owned();
    }
    format!(
        "{}…[{} characters elided]…{}",
        &s[..KEEP],
        s.len() - 2 * KEEP,
        &s[s.len() - KEEP..]
    )
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    super::whalet::json_type(v)
}

#[cfg(test)]
mod tests;
