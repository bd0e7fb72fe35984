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
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
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
    /// Reads a public key from SPKI PEM, PKCS#1 PEM, or bare Base64 of SPKI / PKCS#1 DER.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.starts_with("-----BEGIN PUBLIC KEY-----") {
            return rsa::RsaPublicKey::from_public_key_pem(text)
                .map(Self::from_rsa)
                .map_err(|e| {
                    not_rsa(pem_der(text).as_deref(), false).unwrap_or_else(|| {
                        KeyError(format!("not a valid SPKI PEM public key: {e}"))
                    })
                });
        }
        if text.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
            return rsa::RsaPublicKey::from_pkcs1_pem(text)
                .map(Self::from_rsa)
                .map_err(|e| KeyError(format!("not a valid PKCS#1 PEM public key: {e}")));
        }
        if text.starts_with("-----BEGIN") {
            return Err(KeyError(
                "expected a PUBLIC KEY or RSA PUBLIC KEY PEM block (is this a private key?)".into(),
            ));
        }
        let der = bare_base64(text)?;
        rsa::RsaPublicKey::from_public_key_der(&der)
            .or_else(|_| rsa::RsaPublicKey::from_pkcs1_der(&der))
            .map(Self::from_rsa)
            .map_err(|_| {
                not_rsa(Some(&der), false).unwrap_or_else(|| {
                    KeyError(
                        "Base64 decoded, but the DER is neither SPKI nor PKCS#1 RSA public key"
                            .into(),
                    )
                })
            })
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
    /// (" Hint: the signature is N bytes; ..."), or None when the length is right.
    pub fn length_hint(&self, signature_len: usize) -> Option<String> {
        (signature_len != self.size()).then(|| {
            format!(
                " Hint: the signature is {} bytes; an RSA-{} signature is {} bytes.",
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

/// The DER inside a PEM block, if it decodes.
fn pem_der(text: &str) -> Option<Vec<u8>> {
    rsa::pkcs8::der::pem::decode_vec(text.as_bytes())
        .ok()
        .map(|(_, der)| der)
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
    /// Reads a private key from PKCS#8 PEM, PKCS#1 PEM, or bare Base64 of PKCS#8 / PKCS#1 DER.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let key = if text.starts_with("-----BEGIN PRIVATE KEY-----") {
            rsa::RsaPrivateKey::from_pkcs8_pem(text).map_err(|e| {
                not_rsa(pem_der(text).as_deref(), true)
                    .unwrap_or_else(|| KeyError(format!("not a valid PKCS#8 PEM private key: {e}")))
            })?
        } else if text.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            rsa::RsaPrivateKey::from_pkcs1_pem(text)
                .map_err(|e| KeyError(format!("not a valid PKCS#1 PEM private key: {e}")))?
        } else if text.starts_with("-----BEGIN") {
            return Err(KeyError(
                "expected a PRIVATE KEY or RSA PRIVATE KEY PEM block (is this a public key?)"
                    .into(),
            ));
        } else {
            let der = bare_base64(text)?;
            rsa::RsaPrivateKey::from_pkcs8_der(&der)
                .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_der(&der))
                .map_err(|_| {
                    not_rsa(Some(&der), true).unwrap_or_else(|| {
                        KeyError(
                            "Base64 decoded, but the DER is neither PKCS#8 nor PKCS#1 RSA private \
                             key"
                            .into(),
                        )
                    })
                })?
        };
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

    /// A fresh key pair of `bits` bits (keygen, tests).
    pub fn generate(bits: usize) -> Result<Self, KeyError> {
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
