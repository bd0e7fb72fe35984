//! RSA keys as partners hand them over: PEM (PKCS#8, PKCS#1, SPKI) or the bare Base64 DER that
//! Java's `Key.getEncoded()` produces. This module and `crypto.rs` are the only places that know
//! which RSA implementation is underneath; everything else holds a [`PublicKey`] or [`PrivateKey`].
//!
//! Keys are always read and written by the pure-Rust `rsa` crate. With the `openssl` feature each
//! key also carries an OpenSSL handle, made once from the same DER, which `crypto.rs` uses for the
//! hot-path operations; should that conversion ever fail, the key simply has no handle and the
//! operations fall back to the `rsa` crate.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

/// Why a key could not be read. The message names the forms that were tried.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

/// An RSA public key with its fingerprint computed once.
#[derive(Clone)]
pub struct PublicKey {
    pub(crate) inner: Arc<rsa::RsaPublicKey>,
    #[cfg(feature = "openssl")]
    pub(crate) ossl: Option<openssl::pkey::PKey<openssl::pkey::Public>>,
    fingerprint: Arc<str>,
}

/// An RSA private key (CRT values precomputed) and its public half.
#[derive(Clone)]
pub struct PrivateKey {
    pub(crate) inner: Arc<rsa::RsaPrivateKey>,
    #[cfg(feature = "openssl")]
    pub(crate) ossl: Option<openssl::pkey::PKey<openssl::pkey::Private>>,
    public: PublicKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(public {})", self.public.fingerprint)
    }
}

impl PublicKey {
    /// Reads a public key from SPKI PEM, PKCS#1 PEM, or bare Base64 of SPKI / PKCS#1 DER, of
    /// [`MIN_BITS`] to [`MAX_BITS`] bits. Text before the PEM block (a BOM, OpenSSL's "Bag
    /// Attributes") is skipped; another kind of PEM block is named.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = pem_block(text, &["PUBLIC KEY", "RSA PUBLIC KEY"]);
        match pem_label(text) {
            Some("PUBLIC KEY") => {
                let der = pem_body(text, "SPKI PEM public key")?;
                public_from_spki(&der)
                    .map_err(|e| e.or_else(|why| format!("not a valid SPKI PEM public key: {why}")))
            }
            Some("RSA PUBLIC KEY") => {
                let der = pem_body(text, "PKCS#1 PEM public key")?;
                public_from_pkcs1(&der).map_err(|e| {
                    e.or_else(|why| format!("not a valid PKCS#1 PEM public key: {why}"))
                })
            }
            Some("CERTIFICATE") => Err(KeyError(
                "a certificate, not a public key: give its public key (openssl x509 -pubkey \
                 -noout -in cert.pem)"
                    .into(),
            )),
            Some(_) => Err(KeyError(
                "expected a PUBLIC KEY or RSA PUBLIC KEY PEM block (is this a private key?)".into(),
            )),
            None => {
                let der = bare_base64(text)?;
                public_from_spki(&der)
                    .or_else(|spki| match spki {
                        Parsed::Refused(e) => Err(Parsed::Refused(e)),
                        Parsed::Unreadable(_) => public_from_pkcs1(&der),
                    })
                    .map_err(|e| {
                        e.or_else(|_| {
                            "Base64 decoded, but the DER is neither SPKI nor PKCS#1 RSA public key"
                                .into()
                        })
                    })
            }
        }
        .map(Self::from_rsa)
    }

    pub(crate) fn from_rsa(key: rsa::RsaPublicKey) -> Self {
        let der = key
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        let fingerprint = format!("SHA256:{}", hex::encode(Sha256::digest(&der)));
        Self {
            #[cfg(feature = "openssl")]
            ossl: openssl::pkey::PKey::public_key_from_der(&der).ok(),
            inner: Arc::new(key),
            fingerprint: fingerprint.into(),
        }
    }

    /// `SHA256:` + hex SHA-256 of the SPKI DER; reproducible with
    /// `openssl pkey -pubin -in public.pem -outform DER | sha256sum`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Modulus size in bytes (256 for RSA-2048).
    pub fn size(&self) -> usize {
        self.inner.size()
    }

    /// The hint for a signature that does not verify because it is not as long as the modulus
    /// ("the signature is N bytes; ..."), or None when the length is right.
    pub fn length_hint(&self, signature_len: usize) -> Option<String> {
        (signature_len != self.size()).then(|| {
            format!(
                "the signature is {} bytes; an RSA-{} signature is {} bytes",
                signature_len,
                self.size() * 8,
                self.size()
            )
        })
    }

    pub fn to_pem(&self) -> String {
        self.inner
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    /// Bare Base64 of the SPKI DER (the form Java's `getEncoded()` gives).
    pub fn to_base64_der(&self) -> String {
        let der = self
            .inner
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec());
        base64::engine::general_purpose::STANDARD.encode(der.unwrap_or_default())
    }

    pub fn to_pkcs1_pem(&self) -> String {
        self.inner.to_pkcs1_pem(LineEnding::LF).unwrap_or_default()
    }
}

/// The smallest RSA key the simulator reads or writes, in bits (keygen's lower bound too).
pub const MIN_BITS: usize = 1024;
/// The largest RSA key the simulator reads or writes, in bits (keygen's upper bound too).
pub const MAX_BITS: usize = 8192;

/// The one key-size rule, for every key read and every key generated.
fn check_bits(bits: usize) -> Result<(), KeyError> {
    if (MIN_BITS..=MAX_BITS).contains(&bits) {
        return Ok(());
    }
    Err(KeyError(format!(
        "a {bits}-bit key; keys are {MIN_BITS} to {MAX_BITS} bits"
    )))
}

/// Why a public key's DER did not give a key: refused for a reason of its own (another
/// algorithm, a size out of range), or not readable in the form tried.
enum Parsed {
    Refused(KeyError),
    Unreadable(String),
}

impl Parsed {
    /// The error, with `why` turning a parser's reason into a message.
    fn or_else(self, why: impl FnOnce(String) -> String) -> KeyError {
        match self {
            Parsed::Refused(e) => e,
            Parsed::Unreadable(reason) => KeyError(why(reason)),
        }
    }
}

/// An RSA public key from SPKI DER (any size the rule allows: the `rsa` crate's own SPKI reader
/// stops at 4096 bits).
fn public_from_spki(der: &[u8]) -> Result<rsa::RsaPublicKey, Parsed> {
    use rsa::pkcs8::der::Decode;
    let spki = rsa::pkcs8::spki::SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|e| Parsed::Unreadable(e.to_string()))?;
    if let Some(e) = not_rsa(Some(der), false) {
        return Err(Parsed::Refused(e));
    }
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| Parsed::Unreadable("the key's bit string is not whole bytes".into()))?;
    public_from_pkcs1(bits)
}

/// An RSA public key from PKCS#1 DER (`RSAPublicKey`: modulus and exponent), size checked.
fn public_from_pkcs1(der: &[u8]) -> Result<rsa::RsaPublicKey, Parsed> {
    use rsa::pkcs8::der::Decode;
    let key =
        rsa::pkcs1::RsaPublicKey::from_der(der).map_err(|e| Parsed::Unreadable(e.to_string()))?;
    let n = rsa::BigUint::from_bytes_be(key.modulus.as_bytes());
    let e = rsa::BigUint::from_bytes_be(key.public_exponent.as_bytes());
    check_bits(n.bits()).map_err(Parsed::Refused)?;
    rsa::RsaPublicKey::new_with_max_size(n, e, MAX_BITS)
        .map_err(|e| Parsed::Unreadable(e.to_string()))
}

/// The PEM block of `text` to read, trimmed: the first whose label is one of `wanted`, else the
/// first other key block (`EC PRIVATE KEY` after OpenSSL's `EC PARAMETERS`), else the first
/// block, from its `-----BEGIN` line to its `-----END` line. Text around it (a UTF-8 BOM,
/// OpenSSL's "Bag Attributes", a certificate before the key in `openssl pkcs12 -nodes` output,
/// a line after it) is not part of the key. The whole text trimmed when it holds no block.
fn pem_block<'a>(text: &'a str, wanted: &[&str]) -> &'a str {
    let text = text.trim_start_matches('\u{feff}');
    let blocks: Vec<&str> = text
        .match_indices("-----BEGIN")
        .map(|(at, _)| {
            let block = &text[at..];
            let end = block
                .find("-----END")
                .and_then(|end| {
                    block[end + 8..]
                        .find("-----")
                        .map(|close| end + 8 + close + 5)
                })
                .unwrap_or(block.len());
            block[..end].trim()
        })
        .collect();
    let labelled = |pick: &dyn Fn(&str) -> bool| {
        blocks
            .iter()
            .find(|b| pem_label(b).is_some_and(pick))
            .copied()
    };
    labelled(&|label| wanted.contains(&label))
        .or_else(|| labelled(&|label| label.ends_with("KEY")))
        .or_else(|| blocks.first().copied())
        .unwrap_or_else(|| text.trim())
}

/// The label of a PEM block (`PUBLIC KEY` of `-----BEGIN PUBLIC KEY-----`), if `text` is one.
fn pem_label(text: &str) -> Option<&str> {
    let line = text.strip_prefix("-----BEGIN ")?.lines().next()?;
    // The label ends at its dashes: on a block whose line breaks were lost, the rest of the
    // line is the key itself.
    Some(line.split("-----").next().unwrap_or(line).trim())
}

/// `label` as an error may show it: a label of the PEM form (capital letters, digits, spaces;
/// short), never text that could be key material.
fn shown_label(label: &str) -> String {
    let plain = label.len() <= 40
        && label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ');
    if plain {
        format!("{label:?}")
    } else {
        "an unreadable label".to_owned()
    }
}

/// The DER inside a PEM block; `what` names the form in the error.
fn pem_body(text: &str, what: &str) -> Result<Vec<u8>, KeyError> {
    if text
        .lines()
        .next()
        .is_some_and(|first| first.contains("-----END"))
    {
        return Err(KeyError(format!(
            "not a valid {what}: the block is on one line (its line breaks were lost); put \
             `-----BEGIN …-----`, the Base64 lines and `-----END …-----` on lines of their own, \
             or give the bare Base64 between them"
        )));
    }
    rsa::pkcs8::der::pem::decode_vec(text.as_bytes())
        .map(|(_, der)| der)
        .map_err(|e| KeyError(format!("not a valid {what}: {e}")))
}

/// The refusal of an encrypted private key: the simulator holds no passphrase.
fn encrypted() -> KeyError {
    KeyError(
        "an encrypted private key: decrypt it first (openssl pkey -in key.pem -out plain.pem)"
            .into(),
    )
}

/// The refusal of a PEM block of another kind given as a private key, naming what it is.
fn wrong_private_block(label: &str) -> KeyError {
    KeyError(match label {
        "ENCRYPTED PRIVATE KEY" => return encrypted(),
        "EC PRIVATE KEY" => {
            "an EC private key, not RSA: every key the simulator reads is RSA".into()
        }
        "CERTIFICATE" => "a certificate, not a private key: give the private key (PRIVATE KEY or \
                          RSA PRIVATE KEY) the certificate was made for"
            .into(),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => {
            "expected a PRIVATE KEY or RSA PRIVATE KEY PEM block (is this a public key?)".into()
        }
        other => format!(
            "a PEM block of {}: expected a PRIVATE KEY or RSA PRIVATE KEY PEM block",
            shown_label(other)
        ),
    })
}

/// The refusal of a well-formed SPKI (`private` false) or PKCS#8 key of another algorithm than
/// RSA, naming it: the parser's own error names the OID it expected (rsaEncryption), which
/// reads as if RSA were what is not supported. `None` for an RSA key or DER that does not read.
fn not_rsa(der: Option<&[u8]>, private: bool) -> Option<KeyError> {
    use rsa::pkcs8::der::Decode;
    let der = der?;
    let oid = if private {
        rsa::pkcs8::PrivateKeyInfo::from_der(der)
            .ok()?
            .algorithm
            .oid
    } else {
        rsa::pkcs8::spki::SubjectPublicKeyInfoRef::from_der(der)
            .ok()?
            .algorithm
            .oid
    };
    if oid == rsa::pkcs1::ALGORITHM_OID {
        return None;
    }
    let name = match oid.to_string().as_str() {
        "1.2.840.10045.2.1" => "EC (id-ecPublicKey)",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.10040.4.1" => "DSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        _ => "another algorithm",
    };
    Some(KeyError(format!(
        "not an RSA key: the key is {name} (OID {oid}); every key the simulator reads is RSA"
    )))
}

impl PrivateKey {
    /// Reads a private key from PKCS#8 PEM, PKCS#1 PEM, or bare Base64 of PKCS#8 / PKCS#1 DER, of
    /// [`MIN_BITS`] to [`MAX_BITS`] bits. Text before the PEM block is skipped; an encrypted
    /// key, an EC key, a certificate and a public key are named.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = pem_block(text, &["PRIVATE KEY", "RSA PRIVATE KEY"]);
        let key = match pem_label(text) {
            Some("PRIVATE KEY") => {
                let der = pem_body(text, "PKCS#8 PEM private key")?;
                rsa::RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| {
                    not_rsa(Some(&der), true).unwrap_or_else(|| {
                        KeyError(format!("not a valid PKCS#8 PEM private key: {e}"))
                    })
                })?
            }
            Some("RSA PRIVATE KEY") if text.contains("ENCRYPTED") => return Err(encrypted()),
            Some("RSA PRIVATE KEY") => {
                let der = pem_body(text, "PKCS#1 PEM private key")?;
                rsa::RsaPrivateKey::from_pkcs1_der(&der)
                    .map_err(|e| KeyError(format!("not a valid PKCS#1 PEM private key: {e}")))?
            }
            Some(label) => return Err(wrong_private_block(label)),
            None => {
                let der = bare_base64(text)?;
                rsa::RsaPrivateKey::from_pkcs8_der(&der)
                    .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_der(&der))
                    .map_err(|_| {
                        not_rsa(Some(&der), true).unwrap_or_else(|| {
                            KeyError(
                                "Base64 decoded, but the DER is neither PKCS#8 nor PKCS#1 RSA \
                                 private key"
                                    .into(),
                            )
                        })
                    })?
            }
        };
        check_bits(key.n().bits())?;
        Ok(Self::from_rsa(key))
    }

    pub(crate) fn from_rsa(mut key: rsa::RsaPrivateKey) -> Self {
        // CRT values make every private operation ~3x faster; parsing usually does this already.
        let _ = key.precompute();
        let public = PublicKey::from_rsa(key.to_public_key());
        #[cfg(feature = "openssl")]
        let ossl = key
            .to_pkcs8_der()
            .ok()
            .and_then(|der| openssl::pkey::PKey::private_key_from_der(der.as_bytes()).ok());
        Self {
            inner: Arc::new(key),
            #[cfg(feature = "openssl")]
            ossl,
            public,
        }
    }

    /// A fresh key pair of `bits` bits (keygen, tests), [`MIN_BITS`] to [`MAX_BITS`]: a key the
    /// simulator writes is one it can read back.
    pub fn generate(bits: usize) -> Result<Self, KeyError> {
        check_bits(bits)?;
        let mut rng = rand::thread_rng();
        rsa::RsaPrivateKey::new(&mut rng, bits)
            .map(Self::from_rsa)
            .map_err(|e| KeyError(format!("key generation failed: {e}")))
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    pub fn to_pkcs8_pem(&self) -> String {
        self.inner
            .to_pkcs8_pem(LineEnding::LF)
            .map(|s| s.to_string())
            .unwrap_or_default()
    }

    /// Bare Base64 of the PKCS#8 DER (the form Java's `getEncoded()` gives).
    pub fn to_base64_der(&self) -> String {
        let der = self.inner.to_pkcs8_der().map(|d| d.as_bytes().to_vec());
        base64::engine::general_purpose::STANDARD.encode(der.unwrap_or_default())
    }
}

fn bare_base64(text: &str) -> Result<Vec<u8>, KeyError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(KeyError("the key is empty".into()));
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| KeyError(format!("not PEM and not bare Base64 DER ({e})")))
}

/// The keys embedded in the binary (README, "Demo tenants"). Test-only: never use them for real money.
pub mod demo {
    pub const PARTNER_PRIVATE: &str = include_str!("../../keys/demo-partner/private.pem");
    pub const PARTNER_PUBLIC: &str = include_str!("../../keys/demo-partner/public.pem");
    pub const PLATFORM_PRIVATE: &str = include_str!("../../keys/platform/private.pem");
    pub const PLATFORM_PUBLIC: &str = include_str!("../../keys/platform/public.pem");
    pub const INFINIA_MERCHANT_PRIVATE: &str =
        include_str!("../../keys/demo-infinia-merchant/private.pem");
    pub const INFINIA_MERCHANT_PUBLIC: &str =
        include_str!("../../keys/demo-infinia-merchant/public.pem");
    pub const INFINIA_PRIVATE: &str = include_str!("../../keys/infinia/private.pem");
    pub const INFINIA_PUBLIC: &str = include_str!("../../keys/infinia/public.pem");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_keys_parse_in_every_form() {
        let private = PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap();
        let public = PublicKey::parse(demo::PARTNER_PUBLIC).unwrap();
        assert_eq!(private.public().fingerprint(), public.fingerprint());
        let from_der = PublicKey::parse(&public.to_base64_der()).unwrap();
        assert_eq!(from_der.fingerprint(), public.fingerprint());
        let from_pkcs1 = PublicKey::parse(&public.to_pkcs1_pem()).unwrap();
        assert_eq!(from_pkcs1.fingerprint(), public.fingerprint());
        let private_der = PrivateKey::parse(&private.to_base64_der()).unwrap();
        assert_eq!(private_der.public().fingerprint(), public.fingerprint());
    }

    /// Keys of other algorithms, made by `openssl genpkey` (EC P-256, Ed25519).
    const EC_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg9y6Lc58uM35Y8cf7
lxolS22P/gpu4BY4Q+mFlyC0CRahRANCAARw+CWYDa3WQm55QQSropwkLUuDW+1V
U6TJjlaj8UAdmowDQCgw6B2HiC71KbPEwh8gmxUZmLJ1NaD8//hWciwm
-----END PRIVATE KEY-----";
    const EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEcPglmA2t1kJueUEEq6KcJC1Lg1vt
VVOkyY5Wo/FAHZqMA0AoMOgdh4gu9SmzxMIfIJsVGZiydTWg/P/4VnIsJg==
-----END PUBLIC KEY-----";
    const ED25519_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEICVpvGbISydOyATSzFNe4ZLKQKB2nALL7YlhGtzCRIR3
-----END PRIVATE KEY-----";

    /// Regression: an EC key was refused as "unknown/unsupported algorithm OID:
    /// 1.2.840.113549.1.1.1", the OID of RSA, as if RSA were what is not supported.
    #[test]
    fn a_key_of_another_algorithm_is_named_as_not_rsa() {
        let ec = "not an RSA key: the key is EC (id-ecPublicKey) (OID 1.2.840.10045.2.1)";
        let bare = |pem: &str| {
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>()
        };
        for why in [
            PublicKey::parse(EC_PUBLIC).unwrap_err().0,
            PublicKey::parse(&bare(EC_PUBLIC)).unwrap_err().0,
            PrivateKey::parse(EC_PRIVATE).unwrap_err().0,
            PrivateKey::parse(&bare(EC_PRIVATE)).unwrap_err().0,
        ] {
            assert!(why.starts_with(ec), "{why}");
        }
        let why = PrivateKey::parse(ED25519_PRIVATE).unwrap_err().0;
        assert!(
            why.starts_with("not an RSA key: the key is Ed25519 (OID 1.3.101.112)"),
            "{why}"
        );
        // A broken RSA key keeps the parser's own reason.
        let cut = demo::PARTNER_PUBLIC.replacen("MII", "MIJ", 1);
        let why = PublicKey::parse(&cut).unwrap_err().0;
        assert!(why.starts_with("not a valid SPKI PEM public key"), "{why}");
    }

    #[test]
    fn wrong_kind_of_key_is_named() {
        let err = PublicKey::parse(demo::PARTNER_PRIVATE).unwrap_err();
        assert!(err.to_string().contains("is this a private key"), "{err}");
        let err = PrivateKey::parse("not base64 at all!").unwrap_err();
        assert!(err.to_string().contains("not PEM"), "{err}");
    }

    /// An 8192-bit public key and a 512-bit private key made by `openssl genpkey`, a
    /// certificate (`openssl req -x509`), the 512-bit key encrypted (`openssl pkcs8 -topk8`) and
    /// an EC key in its SEC1 form (`openssl ec`).
    const RSA_8192_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIIEIjANBgkqhkiG9w0BAQEFAAOCBA8AMIIECgKCBAEAxmFiUSmI1S2y89EZ639J
WODVBQRB4JqjUSYz4S4ojr5E6EXLeCMdI8DW6nbZptRUZRIAdFM7Tvn6FraChkOV
soBo28jOrYMOa/NUCCIElJpnBswWxjXCMlRD4gOTB8mgP0WaqEfmgSa/VfSHADZK
z55RQJiAUaBnjKY9hUPkQrUHYoqgmJ0sjs988GAUzEsnUczB850Y5TRBS4lZm2sm
U+Fq5+5ig1vFlBfzrxXQwzVNc7KIKifLeiQ2x/Szs89A5+fZoofu6WNXUmoefQ2A
by1YFaOz1oXn40Z4WqMhtDxTPaBSo9qEgUWaG7PDMyr22g27a5h+UL+2FIVILAyX
8ymVzcValvp+/2YVNXm5IJCVVPP0OLxw9kuGZ5WHtqLkZPgNURO5SwC/K06JsNd5
kEt9bNYDGiqYXeRpM5S0AeWCDR+gavAHOsFEQ6gFAJIGeIwc/ALzLR3zeibqd9/M
V8aU8AdsdyYvZaHm+NownID0unQgfDbmDWH1bsP3Qfa91hHhEVzWniB2ILaKrq/K
4C0PQt/f29B8/KafswiHi/TTvjBzpaPZMnoT6W/XU69IVXwlIqvBivCxAAZzrk+X
IEDhOo0Qc1FNsj7qJYmeXgP7ePwsHPWDvbjHsTD31+C0v/Fo0yPTxaM/R9yA0LMa
zI+S0/UT3ac3oTf7fWN3g+cBfu8RqUZ2uH7w84+UqKdusNaa7a26dVxuzfvqCQnb
F0NpnwyuO0FYOF+0SxOH44pdVsItIHb/LBppgXSHPjJ9xLqa7geoqrqKZcukkLO7
Gb0h3n9fIhJUDBW+C6mhjS7fbYKmcV7rIYPiJ1CV+V0NDn7zkxbeSMwehU5NZC7A
vrkSZBW9Xf2dBiDQ0z1mPAGC9A4GO3JBNI4TgY7gNTj4lvU10OczSAXvh4DBFdt7
oDzuwQtiQOS5hd77aiSWINfCs2iYpAuCoysja51/yM5EM6umQPQcaiEOaljjtEUD
0LXJDSQepG1SD0+beJjlyxa5wydUqtyyFKI7uDr1w/OWT5xyp93gcWEVO+d9f3SZ
eANLJt8CXpevJXWsTWwKcayKG0ccmpOks8zCgBwVQVlLkHSkAHAbwDTU59EeK4Iw
+41MZCtXJ2F0Uk8frVEY101G6dVlEDWFpdkRmy2KnjMTWpLauPhNiEXNcN88rTec
gkd2AKalMQN5SD/LTE6egFzLrGTgoedJw7ZF8MTygWOJcI9+9afFg3xUl5A4goEo
JVKKY3jsQ9RqLeJoGzD+JH/YIIx5f8wrNZMaAz2NLOxoyIKf37pZZLFeVDDfdT6Z
gPg02sxVc5Wy3Gx6+EpXHJX7q9zBSykiXcdcG2yGIEmmyuTtvqAVdblqaww8Bwwl
MQIDAQAB
-----END PUBLIC KEY-----";
    const RSA_512_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA4PHNmjPrDA62GP2C
SQmQQSPdbBQw4XFypDyL6szsBaLGj7A9dqf2ipsBFOAFOEHi1G8UwcEJpZCzV4At
NoqsvwIDAQABAkEAujs2zz3AkWD0ncf0P2etiGCbBsnIlj0IfrSp2iECHr7RG9Rk
kX2o9Q4QaqgX80ehGPA5Nlx4ACh350rXRLtzkQIhAPnwgguy2RnHocStXpAFnLax
HbOnEvq8BHwEbmYaRHNTAiEA5mYjyL9tsZPJai+ySc2Eb47vCrrpU5jMWuHIMKsB
f2UCIDgAJ2Mvo20fSaOjpLhoSYC1lo4WNS5wyiBvbbz6zbN5AiEA37Osau3zA8gK
eB93bFEvlWGilziD87cYM+WlChv/iEECICfhFSeus3LYx25XHVAa8oGqRSmLF/zM
FNm5uioPNYVk
-----END PRIVATE KEY-----";
    const CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
MIIBbzCCARmgAwIBAgIUOZxZ1/2TrdcXqAbND7iCFyvt3WIwDQYJKoZIhvcNAQEL
BQAwDDEKMAgGA1UEAwwBeDAeFw0yNjEyMDYwMTEyMzBaFw0yNjEyMDcwMTEyMzBa
MAwxCjAIBgNVBAMMAXgwXDANBgkqhkiG9w0BAQEFAANLADBIAkEA4PHNmjPrDA62
GP2CSQmQQSPdbBQw4XFypDyL6szsBaLGj7A9dqf2ipsBFOAFOEHi1G8UwcEJpZCz
V4AtNoqsvwIDAQABo1MwUTAdBgNVHQ4EFgQUzfznRbWc+l0kLTSGaaL1dWxIWO4w
HwYDVR0jBBgwFoAUzfznRbWc+l0kLTSGaaL1dWxIWO4wDwYDVR0TAQH/BAUwAwEB
/zANBgkqhkiG9w0BAQsFAANBAIQt4gy/mCOWJRatLyhxDTS9iiCO7SymWR0Reh1R
LKkM/LjqeneWgn6nCtDqrSkBVuXnm/GxXJkxH5lc8XF0Jm0=
-----END CERTIFICATE-----";
    const ENCRYPTED_PRIVATE: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIwpi0WA4Zm/UCAggA
MAwGCCqGSIb3DQIJBQAwHQYJYIZIAWUDBAEqBBC6I++6VwGoIZlpTNB+MCINBIIB
YACn4ARzXPM3qN8xAVT8rbumb6Lhcatq0o9QGcnrZocE7qLIaO5q6okUtNtijo9y
5zjkQTyMWBXpQ19s7e/trkcPGg1y11GDvQnwCvfKhKraul84GI25jc8XdVox/1rT
cekFQUKeZL22+pqzXRq6UHT+o0zm1KA8PdPzn1LRNQvnPS1lFeIvrmGxBxm8PHr4
rzl4seQpkz00ecX+XEQytLNEW2asAIWWDj05owY2+299l6GhATyNkoOHOGdiFldF
q0+AdPYnF9FIQJqGQRADF/3Nky1Vc8Bp4wEiWef8YGvhsJK2p1XEBlz8FuPe2M0B
vMYgh6cTzMAdS9bXMZeq7KpsKYUmENnsItRNUDEfDESVkHpLRVGQMoMmyGiQhRy6
mnNMS6tNYz5Oh004PuAdQT7EIibaMGWdusllM9OZ6MOvueeE1aimTKSlVZZFZwUw
3xY8dJHBu9HIH0i0LYJkU2o=
-----END ENCRYPTED PRIVATE KEY-----";
    const EC_SEC1_PRIVATE: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEID3eXb12JvFII3wr0n/1ESVk4vOVGR8uhLH3O5NSDpsdoAoGCCqGSM49
AwEHoUQDQgAEj5FLEHND4vyn/MJNFM780c84IPjRpMupUMMzuPi4qor4PEhc/TGd
Qj2OJUCCA+9uYWr0OerWbdJGspQ+TyRB6A==
-----END EC PRIVATE KEY-----";

    /// Regression: keygen wrote 8192-bit keys whose public half did not load ("SPKI
    /// cryptographic key data malformed"), and a 512-bit key loaded. One rule now, named.
    #[test]
    fn one_key_size_rule_for_every_key() {
        let big = PublicKey::parse(RSA_8192_PUBLIC).unwrap();
        assert_eq!(big.size(), 1024);
        let der = PublicKey::parse(&big.to_base64_der()).unwrap();
        assert_eq!(der.fingerprint(), big.fingerprint());
        assert_eq!(PublicKey::parse(&big.to_pkcs1_pem()).unwrap().size(), 1024);
        let sealed = crate::wire::crypto::rsa_encrypt(&big, b"k").unwrap();
        assert_eq!(sealed.len(), 1024);

        let why = PrivateKey::parse(RSA_512_PRIVATE).unwrap_err().0;
        assert_eq!(why, "a 512-bit key; keys are 1024 to 8192 bits");
        let small_public = rsa::RsaPrivateKey::from_pkcs8_pem(RSA_512_PRIVATE)
            .unwrap()
            .to_public_key();
        let pem = small_public.to_public_key_pem(LineEnding::LF).unwrap();
        assert_eq!(PublicKey::parse(&pem).unwrap_err().0, why);
        let pkcs1 = small_public.to_pkcs1_pem(LineEnding::LF).unwrap();
        assert_eq!(PublicKey::parse(&pkcs1).unwrap_err().0, why);
        let why = PrivateKey::generate(512).unwrap_err().0;
        assert!(why.contains("keys are 1024 to 8192 bits"), "{why}");
    }

    /// Regression: an encrypted key, an EC key and a certificate given as a private key all
    /// asked "is this a public key?", and a certificate given as a public key "is this a
    /// private key?".
    #[test]
    fn other_pem_blocks_are_named() {
        let why = PrivateKey::parse(ENCRYPTED_PRIVATE).unwrap_err().0;
        assert!(
            why.contains("encrypted private key: decrypt it first (openssl pkey"),
            "{why}"
        );
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                      DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n\
                      -----END RSA PRIVATE KEY-----";
        let why = PrivateKey::parse(legacy).unwrap_err().0;
        assert!(why.contains("encrypted private key"), "{why}");
        let why = PrivateKey::parse(EC_SEC1_PRIVATE).unwrap_err().0;
        assert!(why.starts_with("an EC private key, not RSA"), "{why}");
        let why = PrivateKey::parse(CERTIFICATE).unwrap_err().0;
        assert!(why.starts_with("a certificate, not a private key"), "{why}");
        let why = PublicKey::parse(CERTIFICATE).unwrap_err().0;
        assert!(why.contains("a certificate, not a public key"), "{why}");
        assert!(why.contains("openssl x509 -pubkey"), "{why}");
    }

    /// Regression: a PEM block whose line breaks were lost (a CI secret, `tr -d '\n'`) was
    /// refused with its whole first line, that is the whole key, as the block's "label".
    #[test]
    fn a_one_line_pem_block_is_refused_without_echoing_the_key() {
        let public = PublicKey::parse(demo::PARTNER_PUBLIC).unwrap();
        let pkcs1 = demo::PARTNER_PRIVATE.replace("PRIVATE KEY", "RSA PRIVATE KEY");
        for pem in [demo::PARTNER_PRIVATE.to_owned(), pkcs1] {
            let flat: String = pem.lines().collect();
            let body = flat.split("-----").nth(2).unwrap();
            let why = PrivateKey::parse(&flat).unwrap_err().0;
            assert!(why.contains("on one line"), "{why}");
            assert!(!why.contains(&body[..24]), "the key is echoed: {why}");
            let why = PublicKey::parse(&flat).unwrap_err().0;
            assert!(!why.contains(&body[..24]), "the key is echoed: {why}");
        }
        let flat: String = demo::PARTNER_PUBLIC.lines().collect();
        let why = PublicKey::parse(&flat).unwrap_err().0;
        assert!(why.contains("on one line"), "{why}");
        // A label that is not one: never shown.
        let odd = format!("-----BEGIN {}\nAAAA\n", public.to_base64_der());
        let why = PrivateKey::parse(&odd).unwrap_err().0;
        assert!(why.contains("an unreadable label"), "{why}");
    }

    /// Regression: a UTF-8 BOM or OpenSSL's "Bag Attributes" before a valid PEM block gave
    /// "not PEM and not bare Base64 DER".
    #[test]
    fn text_before_the_pem_block_is_skipped() {
        let bag = "Bag Attributes\n    localKeyID: 01 02 03\nsubject=/CN=partner\n";
        for prefix in ["\u{feff}", bag] {
            let public = PublicKey::parse(&format!("{prefix}{}", demo::PARTNER_PUBLIC)).unwrap();
            let private = PrivateKey::parse(&format!("{prefix}{}", demo::PARTNER_PRIVATE)).unwrap();
            assert_eq!(public.fingerprint(), private.public().fingerprint());
        }
    }

    /// Regression: only the first PEM block was read, so `openssl pkcs12 -nodes` output (a
    /// certificate, then the key), a key followed by its certificate or a stray line, and
    /// `openssl ecparam -genkey` output (`EC PARAMETERS`, then the key) were refused as
    /// something else. The key block is read, and an EC key is named as one.
    #[test]
    fn the_key_block_of_a_file_with_several_is_read() {
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let bag = "Bag Attributes\n    localKeyID: 01\n";
        let expected = PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap();
        for text in [
            format!("{bag}{cert}{bag}{}", demo::PARTNER_PRIVATE),
            format!("{}{cert}", demo::PARTNER_PRIVATE),
            format!("{}trailing junk\n", demo::PARTNER_PRIVATE),
        ] {
            let key = PrivateKey::parse(&text).unwrap();
            assert_eq!(key.public().fingerprint(), expected.public().fingerprint());
        }
        let public = PublicKey::parse(&format!("{}trailing junk\n", demo::PARTNER_PUBLIC));
        assert_eq!(
            public.unwrap().fingerprint(),
            expected.public().fingerprint()
        );
        let ec = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n\
                  -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n";
        let refused = PrivateKey::parse(ec).err().map(|e| e.0).unwrap_or_default();
        assert!(
            refused.starts_with("an EC private key, not RSA"),
            "{refused}"
        );
    }

    #[cfg(feature = "openssl")]
    #[test]
    fn every_demo_key_gets_an_openssl_handle() {
        for text in [
            demo::PARTNER_PRIVATE,
            demo::PLATFORM_PRIVATE,
            demo::INFINIA_PRIVATE,
            demo::INFINIA_MERCHANT_PRIVATE,
        ] {
            let key = PrivateKey::parse(text).unwrap();
            assert!(key.ossl.is_some() && key.public().ossl.is_some());
        }
        let public = PublicKey::parse(demo::PLATFORM_PUBLIC).unwrap();
        assert!(public.ossl.is_some());
    }
}
