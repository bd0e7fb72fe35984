//! The crypto ceiling of this build: how many of each RSA (and AES) operation one core does,
//! measured in-process with the very functions the server calls, and the requests per second per
//! core that the Whalet envelope would reach if the server did nothing but its crypto.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::wire::crypto::{self, SignatureHash};
use crate::wire::keys::{demo, PrivateKey, PublicKey};

/// One operation's rate on one core.
#[derive(Debug, Clone, Serialize)]
pub struct OpRate {
    pub op: &'static str,
    pub ops_per_sec: f64,
    pub us_per_op: f64,
}

/// The ceiling of one Whalet request on one core.
#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    pub backend: String,
    pub ops: Vec<OpRate>,
    /// Crypto time one envelope request costs the server (verify + decrypt + AES both ways +
    /// encrypt + sign), microseconds.
    pub us_per_request: f64,
    pub requests_per_sec_per_core: f64,
}

/// Runs each operation for about `each` and returns the rates.
pub fn measure(each: Duration) -> anyhow::Result<Ceiling> {
    let platform = PrivateKey::parse(demo::PLATFORM_PRIVATE)?;
    let partner = PrivateKey::parse(demo::PARTNER_PRIVATE)?;
    let partner_public: &PublicKey = partner.public();
    // A typical sign string and body: the connectivity request of the load generator.
    let message = format!(
        "{}|connectivity|1.0|R1763770000000000001|{}",
        "2024",
        "ab".repeat(64)
    );
    let body = br#"{"notifyFlag":"N","responseFlag":"Y","responseMessage":"bench 12345"}"#;
    let session_key = crypto::random_key(16);
    let wrapped = b"MTIzNDU2Nzg5MDEyMzQ1Ng==";
    let key_enc = crypto::rsa_encrypt(platform.public(), wrapped)?;
    let signature = crypto::sign(&partner, SignatureHash::Sha1, message.as_bytes());
    let encrypted = crypto::aes_ecb_encrypt(&session_key, body)?;

    let mut ops = vec![
        rate("RSA verify SHA1 (public)", each, || {
            crypto::verify(
                partner_public,
                SignatureHash::Sha1,
                message.as_bytes(),
                &signature,
            )
        }),
        rate("RSA decrypt keyEnc (private)", each, || {
            crypto::rsa_decrypt(&platform, &key_enc).is_ok()
        }),
        rate("RSA encrypt keyEnc (public)", each, || {
            crypto::rsa_encrypt(partner_public, wrapped).is_ok()
        }),
        rate("RSA sign SHA1 (private)", each, || {
            !crypto::sign(&platform, SignatureHash::Sha1, message.as_bytes()).is_empty()
        }),
    ];
    ops.push(rate("AES-128-ECB decrypt+encrypt body", each, || {
        crypto::aes_ecb_decrypt(&session_key, &encrypted)
            .and_then(|plain| crypto::aes_ecb_encrypt(&session_key, &plain))
            .is_ok()
    }));
    let us_per_request: f64 = ops.iter().map(|o| o.us_per_op).sum();
    Ok(Ceiling {
        backend: crypto::backend(),
        ops,
        us_per_request,
        requests_per_sec_per_core: if us_per_request > 0.0 {
            1e6 / us_per_request
        } else {
            0.0
        },
    })
}

/// Rates are per second of this thread's CPU time (`/proc/thread-self/schedstat`, nanoseconds)
/// where Linux provides it, so that other processes competing for the cores do not lower the
/// ceiling; elsewhere they are per wall-clock second.
fn rate(op: &'static str, each: Duration, mut f: impl FnMut() -> bool) -> OpRate {
    // One untimed call warms caches (and lazily initialised tables).
    std::hint::black_box(f());
    let started = Instant::now();
    let cpu_start = thread_cpu_ns();
    let mut n: u64 = 0;
    while started.elapsed() < each || n < 3 {
        std::hint::black_box(f());
        n += 1;
    }
    let wall = started.elapsed().as_secs_f64();
    let secs = match (cpu_start, thread_cpu_ns()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
        _ => wall,
    };
    OpRate {
        op,
        ops_per_sec: n as f64 / secs,
        us_per_op: secs * 1e6 / n as f64,
    }
}

/// CPU time this thread has run, in nanoseconds (Linux).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
