//! The OpenSSL backend of `crypto.rs` (cargo feature `openssl`): the same primitives through the
//! `openssl` crate's EVP interfaces. Only `crypto.rs` calls it, with the OpenSSL handle that
//! `keys.rs` made when the key was read.
//!
//! PKCS#1 v1.5 decryption runs the raw RSA operation and checks the padding here, so the result
//! does not depend on the OpenSSL version: from 3.2 on, OpenSSL's own PKCS#1 v1.5 decryption
//! answers a wrong key with a synthetic plaintext ("implicit rejection") instead of an error, and
//! the envelope's diagnostics need to know that the key was wrong.

use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private, Public};
use openssl::pkey_ctx::{PkeyCtx, PkeyCtxRef};
use openssl::rsa::Padding;
use openssl::sign::{Signer, Verifier};
use openssl::symm::Cipher;

use super::{CryptoError, SignatureHash};

pub fn describe() -> String {
    format!("OpenSSL ({})", openssl::version::version())
}

fn digest(hash: SignatureHash) -> MessageDigest {
    match hash {
        SignatureHash::Sha1 => MessageDigest::sha1(),
        SignatureHash::Sha256 => MessageDigest::sha256(),
    }
}

/// Writes a context's output for an input (`encrypt_to_vec`, `decrypt_to_vec`).
type Run<T> = fn(&mut PkeyCtxRef<T>, &[u8], &mut Vec<u8>) -> Result<usize, ErrorStack>;

/// One raw RSA operation in a fresh context: `init` picks the direction, then the padding is
/// set and `run` writes the output (at most the modulus width).
fn rsa_op<T>(
    key: &PKey<T>,
    init: fn(&mut PkeyCtxRef<T>) -> Result<(), ErrorStack>,
    padding: Padding,
    run: Run<T>,
    input: &[u8],
) -> Result<Vec<u8>, ErrorStack> {
    let mut ctx = PkeyCtx::new(key)?;
    init(&mut ctx)?;
    ctx.set_rsa_padding(padding)?;
    let mut out = Vec::with_capacity(key.size());
    run(&mut ctx, input, &mut out)?;
    Ok(out)
}

pub fn rsa_encrypt(key: &PKey<Public>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let init = PkeyCtxRef::encrypt_init;
    rsa_op(
        key,
        init,
        Padding::PKCS1,
        PkeyCtxRef::encrypt_to_vec,
        plaintext,
    )
    .map_err(|e| CryptoError::RsaEncrypt(e.to_string()))
}

/// The caller has checked that `ciphertext` is as long as the modulus.
pub fn rsa_decrypt(key: &PKey<Private>, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let init = PkeyCtxRef::decrypt_init;
    let encoded = rsa_op(
        key,
        init,
        Padding::NONE,
        PkeyCtxRef::decrypt_to_vec,
        ciphertext,
    )
    .map_err(|_| CryptoError::RsaDecrypt)?;
    unpad_pkcs1_type2(&encoded, key.size()).ok_or(CryptoError::RsaDecrypt)
}

/// `00 02 PS(≥ 8 non-zero bytes) 00 M` → `M` (RFC 8017 §7.2.2 step 3).
fn unpad_pkcs1_type2(encoded: &[u8], size: usize) -> Option<Vec<u8>> {
    // The raw output is the full modulus width; be lenient if a leading zero was dropped.
    let body = match encoded.len() {
        n if n == size => encoded.strip_prefix(&[0u8])?,
        n if n + 1 == size => encoded,
        _ => return None,
    };
    let rest = body.strip_prefix(&[2u8])?;
    let separator = rest.iter().position(|&b| b == 0)?;
    if separator < 8 {
        return None;
    }
    rest.get(separator + 1..).map(<[u8]>::to_vec)
}

pub fn sign(key: &PKey<Private>, hash: SignatureHash, message: &[u8]) -> Option<Vec<u8>> {
    let mut signer = Signer::new(digest(hash), key).ok()?;
    signer.set_rsa_padding(Padding::PKCS1).ok()?;
    signer.sign_oneshot_to_vec(message).ok()
}

pub fn verify(key: &PKey<Public>, hash: SignatureHash, message: &[u8], signature: &[u8]) -> bool {
    let Ok(mut verifier) = Verifier::new(digest(hash), key) else {
        return false;
    };
    if verifier.set_rsa_padding(Padding::PKCS1).is_err() {
        return false;
    }
    verifier.verify_oneshot(signature, message).unwrap_or(false)
}

fn ecb(key: &[u8]) -> Result<Cipher, CryptoError> {
    match key.len() {
        16 => Ok(Cipher::aes_128_ecb()),
        24 => Ok(Cipher::aes_192_ecb()),
        32 => Ok(Cipher::aes_256_ecb()),
        n => Err(CryptoError::AesKeyLength(n)),
    }
}

pub fn aes_ecb_encrypt(key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cipher = ecb(key)?;
    openssl::symm::encrypt(cipher, key, None, plaintext)
        .map_err(|_| CryptoError::AesKeyLength(key.len()))
}

/// The caller has checked that `ciphertext` is a positive multiple of 16 bytes.
pub fn aes_ecb_decrypt(key: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cipher = ecb(key)?;
    openssl::symm::decrypt(cipher, key, None, ciphertext).map_err(|_| CryptoError::AesPadding)
}

#[cfg(test)]
mod tests {
    use super::unpad_pkcs1_type2;

    #[test]
    fn padding_check_rejects_every_malformed_shape() {
        let mut good = vec![0u8, 2];
        good.extend([7u8; 8]);
        good.push(0);
        good.extend(b"hi");
        let size = good.len();
        assert_eq!(unpad_pkcs1_type2(&good, size).unwrap(), b"hi");
        assert_eq!(unpad_pkcs1_type2(&good[1..], size).unwrap(), b"hi");
        let mut wrong_type = good.clone();
        wrong_type[1] = 1;
        assert!(unpad_pkcs1_type2(&wrong_type, size).is_none());
        let mut short_padding = good.clone();
        short_padding[5] = 0;
        assert!(unpad_pkcs1_type2(&short_padding, size).is_none());
        let no_separator = [0u8, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
        assert!(unpad_pkcs1_type2(&no_separator, no_separator.len()).is_none());
        assert!(unpad_pkcs1_type2(&good, size + 5).is_none());
    }
}
