//! The OpenSSL backend of `crypto.rs` (cargo feature `openssl`): the RSA primitives through the
//! `openssl` crate's EVP interfaces. Only `crypto.rs` calls it, with the OpenSSL handle that
//! `keys.rs` made when the key was read.
//!
//! PKCS#1 v1.5 decryption runs the raw RSA operation and checks the padding here, so the result
//! does not depend on the OpenSSL version: from 3.2 on, OpenSSL's own PKCS#1 v1.5 decryption
//! answers a wrong key with a synthetic plaintext ("implicit rejection") instead of an error, and
//! the envelope's diagnostics need to know that the key was wrong.

use std::cell::RefCell;
use std::thread::LocalKey;

use openssl::error::ErrorStack;
use openssl::md::{Md, MdRef};
use openssl::pkey::{PKey, PKeyRef, Private, Public};
use openssl::pkey_ctx::{PkeyCtx, PkeyCtxRef};
use openssl::rsa::Padding;

use super::{CryptoError, SignatureHash};

pub fn describe() -> String {
    format!("OpenSSL ({})", openssl::version::version())
}

fn digest_of(hash: SignatureHash, message: &[u8]) -> Vec<u8> {
    match hash {
        SignatureHash::Sha1 => openssl::sha::sha1(message).to_vec(),
        SignatureHash::Sha256 => openssl::sha::sha256(message).to_vec(),
    }
}

fn md(hash: SignatureHash) -> &'static MdRef {
    match hash {
        SignatureHash::Sha1 => Md::sha1(),
        SignatureHash::Sha256 => Md::sha256(),
    }
}

/// What a kept context was initialised for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Encrypt,
    Decrypt,
    Sign(SignatureHash),
    Verify(SignatureHash),
}

/// A context initialised once for one key and one operation, kept by the thread that made it.
/// Initialising a context (`EVP_PKEY_*_init`, the padding, the digest) looks up the provider's
/// implementation in OpenSSL's shared tables each time; a kept one goes straight to the RSA
/// arithmetic. The context holds a reference to its key, so the key's address names it for as
/// long as the entry lives.
struct Kept<T> {
    key: usize,
    op: Op,
    ctx: PkeyCtx<T>,
}

/// Contexts kept per thread and per key kind; the oldest goes when a thread holds this many.
const KEPT_PER_THREAD: usize = 16;

thread_local! {
    static PUBLIC: RefCell<Vec<Kept<Public>>> = const { RefCell::new(Vec::new()) };
    static PRIVATE: RefCell<Vec<Kept<Private>>> = const { RefCell::new(Vec::new()) };
}

fn address<T>(key: &PKey<T>) -> usize {
    std::ptr::from_ref::<PKeyRef<T>>(key) as usize
}

/// Runs `run` on this thread's context for `key` and `op`, made by `init` on first use. The
/// context is taken out while it runs and kept again only if the run succeeded, so a failed
/// operation never leaves a context in an unknown state for the next caller.
fn with_context<T: 'static, R>(
    kept: &'static LocalKey<RefCell<Vec<Kept<T>>>>,
    key: &PKey<T>,
    op: Op,
    init: impl FnOnce(&mut PkeyCtxRef<T>) -> Result<(), ErrorStack>,
    run: impl FnOnce(&mut PkeyCtxRef<T>) -> Result<R, ErrorStack>,
) -> Result<R, ErrorStack> {
    let at = address(key);
    let found = kept.with_borrow_mut(|all| {
        let i = all.iter().position(|k| k.key == at && k.op == op)?;
        Some(all.swap_remove(i).ctx)
    });
    let mut ctx = match found {
        Some(ctx) => ctx,
        None => {
            let mut ctx = PkeyCtx::new(key)?;
            init(&mut ctx)?;
            ctx
        }
    };
    let out = run(&mut ctx)?;
    kept.with_borrow_mut(|all| {
        if all.len() >= KEPT_PER_THREAD {
            all.remove(0);
        }
        all.push(Kept { key: at, op, ctx });
    });
    Ok(out)
}

/// How a context is made ready once: the operation's `start`, the padding and, for a signature,
/// the digest it encodes.
fn prepare<T>(
    start: fn(&mut PkeyCtxRef<T>) -> Result<(), ErrorStack>,
    padding: Padding,
    hash: Option<SignatureHash>,
) -> impl FnOnce(&mut PkeyCtxRef<T>) -> Result<(), ErrorStack> {
    move |ctx| {
        start(ctx)?;
        ctx.set_rsa_padding(padding)?;
        hash.map_or(Ok(()), |hash| ctx.set_signature_md(md(hash)))
    }
}

/// Writes at most the modulus width into a buffer of that size.
fn into_modulus<T>(
    ctx: &mut PkeyCtxRef<T>,
    size: usize,
    write: impl FnOnce(&mut PkeyCtxRef<T>, &mut [u8]) -> Result<usize, ErrorStack>,
) -> Result<Vec<u8>, ErrorStack> {
    let mut out = vec![0u8; size];
    let written = write(ctx, &mut out)?;
    out.truncate(written);
    Ok(out)
}

pub fn rsa_encrypt(key: &PKey<Public>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    with_context(
        &PUBLIC,
        key,
        Op::Encrypt,
        prepare(PkeyCtxRef::encrypt_init, Padding::PKCS1, None),
        |ctx| {
            into_modulus(ctx, key.size(), |ctx, out| {
                ctx.encrypt(plaintext, Some(out))
            })
        },
    )
    .map_err(|e| CryptoError::RsaEncrypt(e.to_string()))
}

/// The caller has checked that `ciphertext` is as long as the modulus.
pub fn rsa_decrypt(key: &PKey<Private>, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let encoded = with_context(
        &PRIVATE,
        key,
        Op::Decrypt,
        prepare(PkeyCtxRef::decrypt_init, Padding::NONE, None),
        |ctx| {
            into_modulus(ctx, key.size(), |ctx, out| {
                ctx.decrypt(ciphertext, Some(out))
            })
        },
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

/// RSASSA-PKCS1-v1_5 over the message's digest (the digest is taken here with OpenSSL's own
/// one-shot hash, the signature with a kept context that encodes it as a DigestInfo).
pub fn sign(key: &PKey<Private>, hash: SignatureHash, message: &[u8]) -> Option<Vec<u8>> {
    let digest = digest_of(hash, message);
    with_context(
        &PRIVATE,
        key,
        Op::Sign(hash),
        prepare(PkeyCtxRef::sign_init, Padding::PKCS1, Some(hash)),
        |ctx| into_modulus(ctx, key.size(), |ctx, out| ctx.sign(&digest, Some(out))),
    )
    .ok()
}

pub fn verify(key: &PKey<Public>, hash: SignatureHash, message: &[u8], signature: &[u8]) -> bool {
    let digest = digest_of(hash, message);
    with_context(
        &PUBLIC,
        key,
        Op::Verify(hash),
        prepare(PkeyCtxRef::verify_init, Padding::PKCS1, Some(hash)),
        |ctx| ctx.verify(&digest, signature),
    )
    .unwrap_or(false)
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
