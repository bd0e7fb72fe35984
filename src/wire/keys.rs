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
                .map_err(|e| KeyError(format!("not a valid SPKI PEM public key: {e}")));
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
                KeyError(
                    "Base64 decoded, but the DER is neither SPKI nor PKCS#1 RSA public key".into(),
                )
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

impl PrivateKey {
    /// Reads a private key from PKCS#8 PEM, PKCS#1 PEM, or bare Base64 of PKCS#8 / PKCS#1 DER.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let key = if text.starts_with("-----BEGIN PRIVATE KEY-----") {
            rsa::RsaPrivateKey::from_pkcs8_pem(text)
                .map_err(|e| KeyError(format!("not a valid PKCS#8 PEM private key: {e}")))?
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
                    KeyError(
                        "Base64 decoded, but the DER is neither PKCS#8 nor PKCS#1 RSA private key"
                            .into(),
                    )
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
