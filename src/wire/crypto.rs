//! The cryptographic primitives every wire scheme needs, in one place, so that an alternative
//! backend (OpenSSL) can replace them without touching the schemes: RSA PKCS#1 v1.5 encryption,
//! RSA PKCS#1 v1.5 signatures with SHA-1 / SHA-256, and AES-ECB with PKCS#5 padding.

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

pub fn rsa_encrypt(key: &PublicKey, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut rng = rand::thread_rng();
    key.inner
        .encrypt(&mut rng, Pkcs1v15Encrypt, plaintext)
        .map_err(|e| CryptoError::RsaEncrypt(e.to_string()))
}

pub fn rsa_decrypt(key: &PrivateKey, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let size = key.public().size();
    if ciphertext.len() != size {
        return Err(CryptoError::RsaLength {
            got: ciphertext.len(),
            key: size,
        });
    }
    key.inner
        .decrypt(Pkcs1v15Encrypt, ciphertext)
        .map_err(|_| CryptoError::RsaDecrypt)
}

pub fn sign(key: &PrivateKey, hash: SignatureHash, message: &[u8]) -> Vec<u8> {
    // Signing with the precomputed CRT key through a reference: no clone of the key per call.
    let result = match hash {
        SignatureHash::Sha1 => key.inner.sign(
            Pkcs1v15Sign::new::<sha1::Sha1>(),
            &sha1::Sha1::digest(message),
        ),
        SignatureHash::Sha256 => key.inner.sign(
            Pkcs1v15Sign::new::<sha2::Sha256>(),
            &sha2::Sha256::digest(message),
        ),
    };
    // Signing with a valid key and a supported digest cannot fail.
    result.unwrap_or_default()
}

pub fn verify(key: &PublicKey, hash: SignatureHash, message: &[u8], signature: &[u8]) -> bool {
    match hash {
        SignatureHash::Sha1 => key
            .inner
            .verify(
                Pkcs1v15Sign::new::<sha1::Sha1>(),
                &sha1::Sha1::digest(message),
                signature,
            )
            .is_ok(),
        SignatureHash::Sha256 => key
            .inner
            .verify(
                Pkcs1v15Sign::new::<sha2::Sha256>(),
                &sha2::Sha256::digest(message),
                signature,
            )
            .is_ok(),
    }
}

pub fn aes_ecb_encrypt(key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(match key.len() {
        16 => ecb::Encryptor::<aes::Aes128>::new_from_slice(key)
            .map_err(|_| CryptoError::AesKeyLength(16))?
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext),
        24 => ecb::Encryptor::<aes::Aes192>::new_from_slice(key)
            .map_err(|_| CryptoError::AesKeyLength(24))?
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext),
        32 => ecb::Encryptor::<aes::Aes256>::new_from_slice(key)
            .map_err(|_| CryptoError::AesKeyLength(32))?
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext),
        n => return Err(CryptoError::AesKeyLength(n)),
    })
}

pub fn aes_ecb_decrypt(key: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(CryptoError::AesLength(ciphertext.len()));
    }
    let out = match key.len() {
        16 => ecb::Decryptor::<aes::Aes128>::new_from_slice(key)
            .map_err(|_| CryptoError::AesKeyLength(16))?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        24 => ecb::Decryptor::<aes::Aes192>::new_from_slice(key)
            .map_err(|_| CryptoError::AesKeyLength(24))?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        32 => ecb::Decryptor::<aes::Aes256>::new_from_slice(key)
            .map_err(|_| CryptoError::AesKeyLength(32))?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        n => return Err(CryptoError::AesKeyLength(n)),
    };
    out.map_err(|_| CryptoError::AesPadding)
}

/// A fresh random AES key of `len` bytes.
pub fn random_key(len: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut key = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut key);
    key
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
}
