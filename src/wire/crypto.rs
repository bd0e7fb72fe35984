//! The cryptographic primitives every wire scheme needs, in one place, so that an alternative
//! backend (OpenSSL) can replace them without touching the schemes: RSA PKCS#1 v1.5 encryption,
//! RSA PKCS#1 v1.5 signatures with SHA-1 / SHA-256, and AES-ECB with PKCS#5 padding.
//!
//! The default build runs them on the pure-Rust `rsa`, `aes` and `ecb` crates. With the `openssl`
//! cargo feature the RSA operations run on OpenSSL (`crypto/ossl.rs`), several times faster for
//! the private-key ones; results are identical (signatures byte for byte, a unit test
//! cross-checks both backends), and a key without an OpenSSL handle falls back to the `rsa` crate.
//! AES runs on the `aes` crate in both builds (it uses the CPU's AES instructions where there
//! are some): for bodies this small, OpenSSL's set-up of a cipher context for each call cost
//! several times the cipher itself (docs/PERFORMANCE.md).

pub mod account;
use account::Primitive;
#[cfg(feature = "openssl")]
mod ossl;

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyInit};
use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign};
use sha2::Digest;

use super::keys::{PrivateKey, PublicKey};

/// A primitive failed; the scheme turns this into its own diagnostic.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("RSA decryption failed (the data was not encrypted to this key, or is corrupted)")]
    RsaDecrypt,
    #[error("RSA encryption failed: {0}")]
    RsaEncrypt(String),
    #[error("the ciphertext is {got} bytes, but the key is {key} bytes")]
    RsaLength { got: usize, key: usize },
    #[error("AES key must be 16, 24 or 32 bytes, got {0}")]
    AesKeyLength(usize),
    #[error("AES ciphertext length {0} is not a positive multiple of 16")]
    AesLength(usize),
    #[error("AES decryption produced invalid PKCS#5 padding (wrong session key?)")]
    AesPadding,
}

/// Hash used by an RSA signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SignatureHash {
    #[serde(rename = "SHA1withRSA")]
    Sha1,
    #[serde(rename = "SHA256withRSA")]
    Sha256,
}

/// Which implementation runs the primitives in this build, for reports.
pub fn backend() -> String {
    backend_impl()
}

#[cfg(not(feature = "openssl"))]
use self::rust_describe as backend_impl;
#[cfg(feature = "openssl")]
use ossl::describe as backend_impl;

#[cfg_attr(feature = "openssl", allow(dead_code))]
fn rust_describe() -> String {
    "pure Rust (rsa 0.9, aes 0.8)".to_owned()
}

/// RSA/ECB/PKCS1Padding encryption (random padding: two calls give different ciphertexts).
pub fn rsa_encrypt(key: &PublicKey, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    account::timed(Primitive::RsaEncrypt, key.size(), || {
        #[cfg(feature = "openssl")]
        if let Some(pkey) = &key.ossl {
            return ossl::rsa_encrypt(pkey, plaintext);
        }
        rust_rsa_encrypt(key, plaintext)
    })
}

/// RSA/ECB/PKCS1Padding decryption; the ciphertext must be exactly the modulus size.
pub fn rsa_decrypt(key: &PrivateKey, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let size = key.public().size();
    if ciphertext.len() != size {
        return Err(CryptoError::RsaLength {
            got: ciphertext.len(),
            key: size,
        });
    }
    account::timed(Primitive::RsaDecrypt, size, || {
        #[cfg(feature = "openssl")]
        if let Some(pkey) = &key.ossl {
            return ossl::rsa_decrypt(pkey, ciphertext);
        }
        rust_rsa_decrypt(key, ciphertext)
    })
}

/// RSASSA-PKCS1-v1_5 signature (deterministic) over `message` hashed with `hash`.
pub fn sign(key: &PrivateKey, hash: SignatureHash, message: &[u8]) -> Vec<u8> {
    account::timed(Primitive::Sign, key.public().size(), || {
        #[cfg(feature = "openssl")]
        if let Some(pkey) = &key.ossl {
            if let Some(signature) = ossl::sign(pkey, hash, message) {
                return signature;
            }
        }
        rust_sign(key, hash, message)
    })
}

pub fn verify(key: &PublicKey, hash: SignatureHash, message: &[u8], signature: &[u8]) -> bool {
    account::timed(Primitive::Verify, key.size(), || {
        #[cfg(feature = "openssl")]
        if let Some(pkey) = &key.ossl {
            return ossl::verify(pkey, hash, message, signature);
        }
        rust_verify(key, hash, message, signature)
    })
}

/// AES/ECB/PKCS5Padding encryption with a 16, 24 or 32 byte key.
pub fn aes_ecb_encrypt(key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    account::timed(Primitive::AesEncrypt, plaintext.len(), || {
        rust_aes_ecb_encrypt(key, plaintext)
    })
}

/// AES/ECB/PKCS5Padding decryption; bad padding is [`CryptoError::AesPadding`].
pub fn aes_ecb_decrypt(key: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(CryptoError::AesLength(ciphertext.len()));
    }
    account::timed(Primitive::AesDecrypt, ciphertext.len(), || {
        rust_aes_ecb_decrypt(key, ciphertext)
    })
}

fn rust_rsa_encrypt(key: &PublicKey, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut rng = rand::thread_rng();
    key.inner
        .encrypt(&mut rng, Pkcs1v15Encrypt, plaintext)
        .map_err(|e| CryptoError::RsaEncrypt(e.to_string()))
}

fn rust_rsa_decrypt(key: &PrivateKey, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    key.inner
        .decrypt(Pkcs1v15Encrypt, ciphertext)
        .map_err(|_| CryptoError::RsaDecrypt)
}

/// The PKCS#1 v1.5 signature scheme for `hash` and the digest of `message` under it.
fn pkcs1v15(hash: SignatureHash, message: &[u8]) -> (Pkcs1v15Sign, Vec<u8>) {
    match hash {
        SignatureHash::Sha1 => (
            Pkcs1v15Sign::new::<sha1::Sha1>(),
            sha1::Sha1::digest(message).to_vec(),
        ),
        SignatureHash::Sha256 => (
            Pkcs1v15Sign::new::<sha2::Sha256>(),
            sha2::Sha256::digest(message).to_vec(),
        ),
    }
}

fn rust_sign(key: &PrivateKey, hash: SignatureHash, message: &[u8]) -> Vec<u8> {
    // Signing with the precomputed CRT key through a reference: no clone of the key per call.
    let (scheme, digest) = pkcs1v15(hash, message);
    // Signing with a valid key and a supported digest cannot fail.
    key.inner.sign(scheme, &digest).unwrap_or_default()
}

fn rust_verify(key: &PublicKey, hash: SignatureHash, message: &[u8], signature: &[u8]) -> bool {
    let (scheme, digest) = pkcs1v15(hash, message);
    key.inner.verify(scheme, &digest, signature).is_ok()
}

/// Runs one ECB operation (`Encryptor`/`encrypt_padded_vec_mut` or `Decryptor`/
/// `decrypt_padded_vec_mut`) with the AES variant the key length selects.
macro_rules! aes_ecb {
    ($mode:ident, $op:ident, $key:expr, $data:expr) => {
        match $key.len() {
            16 => ecb::$mode::<aes::Aes128>::new_from_slice($key)
                .map_err(|_| CryptoError::AesKeyLength(16))?
                .$op::<Pkcs7>($data),
            24 => ecb::$mode::<aes::Aes192>::new_from_slice($key)
                .map_err(|_| CryptoError::AesKeyLength(24))?
                .$op::<Pkcs7>($data),
            32 => ecb::$mode::<aes::Aes256>::new_from_slice($key)
                .map_err(|_| CryptoError::AesKeyLength(32))?
                .$op::<Pkcs7>($data),
            n => return Err(CryptoError::AesKeyLength(n)),
        }
    };
}

fn rust_aes_ecb_encrypt(key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(aes_ecb!(Encryptor, encrypt_padded_vec_mut, key, plaintext))
}

fn rust_aes_ecb_decrypt(key: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let out = aes_ecb!(Decryptor, decrypt_padded_vec_mut, key, ciphertext);
    out.map_err(|_| CryptoError::AesPadding)
}

/// A fresh random AES key of `len` bytes.
pub fn random_key(len: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut key = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut key);
    key
}

/// A Content-Security-Policy hash source for an inline script or style: `'sha256-<Base64>'`.
pub fn csp_hash(text: &str) -> String {
    use base64::Engine as _;
    let digest = sha2::Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::keys::demo;

    #[test]
    fn aes_round_trip_all_key_sizes() {
        for len in [16, 24, 32] {
            let key = random_key(len);
            let ct = aes_ecb_encrypt(&key, b"exactly sixteen!").unwrap();
            assert_eq!(ct.len(), 32, "a full padding block is added");
            assert_eq!(aes_ecb_decrypt(&key, &ct).unwrap(), b"exactly sixteen!");
        }
        assert_eq!(
            aes_ecb_encrypt(&[0; 10], b"x"),
            Err(CryptoError::AesKeyLength(10))
        );
        assert_eq!(
            aes_ecb_decrypt(&[0; 16], &[0; 15]),
            Err(CryptoError::AesLength(15))
        );
    }

    #[test]
    fn rsa_round_trip_and_wrong_key() {
        let platform = PrivateKey::parse(demo::PLATFORM_PRIVATE).unwrap();
        let partner = PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap();
        let ct = rsa_encrypt(platform.public(), b"secret").unwrap();
        assert_eq!(rsa_decrypt(&platform, &ct).unwrap(), b"secret");
        assert_eq!(rsa_decrypt(&partner, &ct), Err(CryptoError::RsaDecrypt));
        let sig = sign(&partner, SignatureHash::Sha1, b"msg");
        assert!(verify(partner.public(), SignatureHash::Sha1, b"msg", &sig));
        assert!(!verify(partner.public(), SignatureHash::Sha1, b"msh", &sig));
        assert!(!verify(
            platform.public(),
            SignatureHash::Sha1,
            b"msg",
            &sig
        ));
        assert!(!verify(
            partner.public(),
            SignatureHash::Sha256,
            b"msg",
            &sig
        ));
    }

    /// The two backends agree: signatures byte for byte (deterministic), RSA encryption by
    /// round trip across backends (its padding is random).
    #[cfg(feature = "openssl")]
    #[test]
    fn openssl_backend_matches_the_rust_backend() {
        let keys = [
            PrivateKey::parse(demo::PLATFORM_PRIVATE).unwrap(),
            PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap(),
            PrivateKey::parse(demo::INFINIA_PRIVATE).unwrap(),
        ];
        let messages: [&[u8]; 4] = [b"", b"a|b|1.0|R1|", "成功".as_bytes(), &[0x5a; 5000]];
        for key in &keys {
            let (private, public) = (
                key.ossl.as_ref().unwrap(),
                key.public().ossl.as_ref().unwrap(),
            );
            for hash in [SignatureHash::Sha1, SignatureHash::Sha256] {
                for message in messages {
                    let fast = ossl::sign(private, hash, message).unwrap();
                    assert_eq!(fast, rust_sign(key, hash, message), "{hash:?}");
                    assert!(rust_verify(key.public(), hash, message, &fast));
                    assert!(ossl::verify(public, hash, message, &fast));
                    let mut bad = fast.clone();
                    bad[10] ^= 1;
                    assert!(!ossl::verify(public, hash, message, &bad));
                    assert!(!ossl::verify(public, hash, message, &fast[1..]));
                }
            }
            for len in [0, 1, 24, 245] {
                let plain = vec![0xa5; len];
                let ct = ossl::rsa_encrypt(public, &plain).unwrap();
                assert_eq!(ct.len(), 256);
                assert_eq!(rust_rsa_decrypt(key, &ct).unwrap(), plain);
                let ct = rust_rsa_encrypt(key.public(), &plain).unwrap();
                assert_eq!(ossl::rsa_decrypt(private, &ct).unwrap(), plain);
            }
            assert!(
                ossl::rsa_encrypt(public, &[1; 246]).is_err(),
                "too long for PKCS#1"
            );
        }
        let ct = rsa_encrypt(keys[0].public(), b"secret").unwrap();
        let wrong = keys[1].ossl.as_ref().unwrap();
        assert_eq!(ossl::rsa_decrypt(wrong, &ct), Err(CryptoError::RsaDecrypt));
        assert!(backend().starts_with("OpenSSL"));
    }
}
