//! The crypto ceiling of this build: how many of each RSA (and AES) operation one core does,
//! measured in-process with the very functions the server calls, and the requests per second per
//! core that an envelope scheme (Whalet or Infinia) would reach if the server did nothing but its
//! crypto.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::wire::crypto::account::thread_cpu_ns;
use crate::wire::crypto::{self, SignatureHash};
use crate::wire::keys::{demo, PrivateKey, PublicKey};

/// One operation's rate on one core.
#[derive(Debug, Clone, Serialize)]
pub struct OpRate {
    pub op: &'static str,
    pub ops_per_sec: f64,
    pub us_per_op: f64,
    /// How many times one request needs it (Infinia: one RSA operation per 256-byte block).
    pub per_request: usize,
}

/// The ceiling of one envelope request on one core.
#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    pub backend: String,
    /// `whalet` or `infinia`.
    pub scheme: &'static str,
    pub ops: Vec<OpRate>,
    /// Crypto time one request costs the server, microseconds (Whalet: verify + decrypt + AES
    /// both ways + encrypt + sign; Infinia: verify + decrypt each request block + encrypt each
    /// reply block).
    pub us_per_request: f64,
    pub requests_per_sec_per_core: f64,
    /// Threads that measured at once (each operation's time is their mean): measured on every
    /// core, the ceiling sees the same core budget as a server keeping every core busy.
    pub threads: usize,
}

/// The envelope whose server-side crypto is measured.
#[derive(Clone, Copy)]
pub enum Scheme<'a> {
    Whalet,
    /// A sample sealed request (its `requestData` decides the blocks to decrypt) and the
    /// signature hash of the app.
    Infinia {
        sample: &'a [u8],
        alg: SignatureHash,
    },
    /// A Whalet notification as the simulator seals it: signed with the platform's key, the
    /// session key encrypted to the partner's, the body encrypted with AES.
    Notification,
}

const INFINIA_REPLY_OP: &str = "RSA encrypt responseData block (public)";

impl Ceiling {
    fn new(scheme: &'static str, ops: Vec<OpRate>) -> Ceiling {
        let mut c = Ceiling {
            backend: crypto::backend(),
            scheme,
            ops,
            us_per_request: 0.0,
            requests_per_sec_per_core: 0.0,
            threads: 1,
        };
        c.total();
        c
    }

    fn total(&mut self) {
        self.us_per_request = self
            .ops
            .iter()
            .map(|o| o.us_per_op * o.per_request as f64)
            .sum();
        self.requests_per_sec_per_core = if self.us_per_request > 0.0 {
            1e6 / self.us_per_request
        } else {
            0.0
        };
    }

    /// The mean of measurements of the same scheme taken at once on several threads.
    fn mean_of(all: &[Ceiling]) -> Option<Ceiling> {
        let weighted: Vec<(&Ceiling, f64)> = all.iter().map(|c| (c, 1.0)).collect();
        let mut c = Ceiling::weighted_mean(&weighted)?;
        c.threads = all.len();
        Some(c)
    }

    /// The mean of two measurements of the same scheme (each operation's time averaged).
    pub fn mean_with(&self, other: &Ceiling) -> Ceiling {
        Ceiling::weighted_mean(&[(self, 1.0), (other, 1.0)]).unwrap_or_else(|| self.clone())
    }

    /// Each operation's time averaged over measurements of the same scheme, each counted by its
    /// weight (all weights zero: counted alike). The threads are the first measurement's.
    pub fn weighted_mean(all: &[(&Ceiling, f64)]) -> Option<Ceiling> {
        let (first, _) = all.first()?;
        let total: f64 = all.iter().map(|(_, w)| w.max(0.0)).sum();
        let weight = |w: f64| {
            if total > 0.0 {
                w.max(0.0) / total
            } else {
                1.0 / all.len() as f64
            }
        };
        let ops = first
            .ops
            .iter()
            .map(|op| {
                let us = all
                    .iter()
                    .map(|(c, w)| {
                        let us = c
                            .ops
                            .iter()
                            .find(|o| o.op == op.op)
                            .map_or(op.us_per_op, |o| o.us_per_op);
                        us * weight(*w)
                    })
                    .sum::<f64>();
                OpRate {
                    op: op.op,
                    ops_per_sec: if us > 0.0 { 1e6 / us } else { 0.0 },
                    us_per_op: us,
                    per_request: op.per_request,
                }
            })
            .collect();
        let mut c = Ceiling::new(first.scheme, ops);
        c.threads = first.threads;
        Some(c)
    }

    /// Infinia: the blocks of the replies actually seen (the ceiling assumes one until then).
    pub fn set_reply_blocks(&mut self, blocks: usize) {
        for op in &mut self.ops {
            if op.op == INFINIA_REPLY_OP {
                op.per_request = blocks;
            }
        }
        self.total();
    }
}

/// [`measure`] on `threads` threads at once (`0`: one per core); each operation's time is the
/// mean of the threads' (per second of each thread's own CPU time).
pub fn measure_on(each: Duration, scheme: Scheme<'_>, threads: usize) -> anyhow::Result<Ceiling> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    if threads == 1 {
        return measure(each, scheme);
    }
    let all = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(move || measure(each, scheme)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a ceiling thread panicked"))?
            })
            .collect::<anyhow::Result<Vec<Ceiling>>>()
    })?;
    Ceiling::mean_of(&all).ok_or_else(|| anyhow::anyhow!("no ceiling measured"))
}

/// Runs each operation of `scheme` for about `each` and returns the rates.
pub fn measure(each: Duration, scheme: Scheme<'_>) -> anyhow::Result<Ceiling> {
    match scheme {
        Scheme::Whalet => measure_whalet(each),
        Scheme::Infinia { sample, alg } => measure_infinia(each, sample, alg),
        Scheme::Notification => measure_notification(each),
    }
}

fn measure_infinia(each: Duration, sample: &[u8], alg: SignatureHash) -> anyhow::Result<Ceiling> {
    let infinia = PrivateKey::parse(demo::INFINIA_PRIVATE)?;
    let merchant = PrivateKey::parse(demo::INFINIA_MERCHANT_PRIVATE)?;
    let request = crate::wire::infinia::parse_request(sample)
        .map_err(|(_, e)| anyhow::anyhow!("the sample request: {}", e.message))?;
    let blocks = super::load::rsa_blocks(&request.request_data, infinia.public().size()).max(1);
    // The sample is sealed to the configured key, maybe not the demo one: time the demo key's
    // blocks (same size), which decrypt.
    let block = crypto::rsa_encrypt(infinia.public(), &[b'x'; 200])?;
    let signed = request.request_data.as_bytes();
    let signature = crypto::sign(&merchant, alg, signed);
    let reply_piece = [b'y'; 200];
    let alg_name = match alg {
        SignatureHash::Sha1 => "RSA verify SHA1 (public)",
        SignatureHash::Sha256 => "RSA verify SHA256 (public)",
    };
    let ops = vec![
        rate(alg_name, 1, each, || {
            crypto::verify(merchant.public(), alg, signed, &signature)
        }),
        rate(
            "RSA decrypt requestData block (private)",
            blocks,
            each,
            || crypto::rsa_decrypt(&infinia, &block).is_ok(),
        ),
        rate(INFINIA_REPLY_OP, 1, each, || {
            crypto::rsa_encrypt(merchant.public(), &reply_piece).is_ok()
        }),
    ];
    Ok(Ceiling::new("infinia", ops))
}

fn measure_notification(each: Duration) -> anyhow::Result<Ceiling> {
    let platform = PrivateKey::parse(demo::PLATFORM_PRIVATE)?;
    let partner = PrivateKey::parse(demo::PARTNER_PRIVATE)?;
    let message = format!(
        "{}|connectivityNotify|1.0|N1763770000000000001|{}",
        "2024",
        "ab".repeat(64)
    );
    let body = br#"{"notifyMessage":"bench 12345"}"#;
    let session_key = crypto::random_key(16);
    let ops = vec![
        rate("RSA sign SHA1 (private)", 1, each, || {
            !crypto::sign(&platform, SignatureHash::Sha1, message.as_bytes()).is_empty()
        }),
        rate("RSA encrypt keyEnc (public)", 1, each, || {
            crypto::rsa_encrypt(partner.public(), b"MTIzNDU2Nzg5MDEyMzQ1Ng==").is_ok()
        }),
        rate("AES-128-ECB encrypt body", 1, each, || {
            crypto::aes_ecb_encrypt(&session_key, body).is_ok()
        }),
    ];
    Ok(Ceiling::new("notification", ops))
}

fn measure_whalet(each: Duration) -> anyhow::Result<Ceiling> {
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
        rate("RSA verify SHA1 (public)", 1, each, || {
            crypto::verify(
                partner_public,
                SignatureHash::Sha1,
                message.as_bytes(),
                &signature,
            )
        }),
        rate("RSA decrypt keyEnc (private)", 1, each, || {
            crypto::rsa_decrypt(&platform, &key_enc).is_ok()
        }),
        rate("RSA encrypt keyEnc (public)", 1, each, || {
            crypto::rsa_encrypt(partner_public, wrapped).is_ok()
        }),
        rate("RSA sign SHA1 (private)", 1, each, || {
            !crypto::sign(&platform, SignatureHash::Sha1, message.as_bytes()).is_empty()
        }),
    ];
    ops.push(rate("AES-128-ECB decrypt+encrypt body", 1, each, || {
        crypto::aes_ecb_decrypt(&session_key, &encrypted)
            .and_then(|plain| crypto::aes_ecb_encrypt(&session_key, &plain))
            .is_ok()
    }));
    Ok(Ceiling::new("whalet", ops))
}

/// Rates are per second of this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`, nanoseconds)
/// where the platform provides it, so that other processes competing for the cores do not lower
/// the ceiling; elsewhere they are per wall-clock second.
fn rate(
    op: &'static str,
    per_request: usize,
    each: Duration,
    mut f: impl FnMut() -> bool,
) -> OpRate {
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
        per_request,
    }
}
