//! The CPU time the primitives take inside this process, counted only when asked
//! (`serve --account-crypto`; `bench --spawn-server` asks). Calls are timed on their own
//! thread's CPU clock, so the count is crypto work done by the very threads, at the very moments,
//! that serve the load: set beside the server's whole CPU time it gives the share of that time
//! the crypto took, which a change of the machine's speed moves on both sides alike.
//!
//! **Sampled, and corrected for its own clock.** A read of the thread's CPU clock is a system
//! call (0.65 µs on the 2-core VM of docs/PERFORMANCE.md). Timing every call took two reads a
//! call, 1.7 % of a loaded OpenSSL server's CPU, half of it inside the spans it timed. Now every
//! call is counted, and one call in [`SAMPLE_ONE_IN`] (at random, so that no fixed order of
//! calls can line up with the sampling) is timed with three reads: `start`, `end` and `after`,
//! back to back. `end - start` is the call plus one whole read (the first read's part after its
//! clock sample and the second's part before its own), and `after - end` is one whole read too,
//! taken in the same state of the machine; their difference is the call alone.
//!
//! The calls fall into strata by primitive and size (a 4096-bit signature costs eight times a
//! 2048-bit one). The CPU time of a stretch of the load is, per stratum, the calls made times the
//! mean of the spans sampled in the same stretch ([`Totals::cpu_ns_since`]): a ratio estimate,
//! whose error comes only from how much calls of one stratum differ from each other, not from
//! how many happened to be sampled.
//!
//! A stratum's first call is timed whatever the draw, so that a stratum with calls always has a
//! mean: a short stretch of a few calls would otherwise count nothing for a stratum none of whose
//! calls happened to be drawn.
//!
//! Off, it costs one relaxed atomic load a call.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

/// One call in this many is timed, on average, unless `serve --account-crypto=N` says otherwise
/// (1 times every call: an exact count, at two more clock reads a call).
pub const SAMPLE_ONE_IN: u64 = 8;

/// What a timed call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primitive {
    RsaEncrypt,
    RsaDecrypt,
    Sign,
    Verify,
    AesEncrypt,
    AesDecrypt,
}

const PRIMITIVES: [(Primitive, &str); 6] = [
    (Primitive::RsaEncrypt, "rsaEncrypt"),
    (Primitive::RsaDecrypt, "rsaDecrypt"),
    (Primitive::Sign, "sign"),
    (Primitive::Verify, "verify"),
    (Primitive::AesEncrypt, "aesEncrypt"),
    (Primitive::AesDecrypt, "aesDecrypt"),
];

/// Size classes: RSA by modulus bytes, AES by input bytes.
const RSA_CLASSES: [(usize, &str); 4] = [
    (128, "≤1024-bit"),
    (256, "≤2048-bit"),
    (384, "≤3072-bit"),
    (usize::MAX, ">3072-bit"),
];
const AES_CLASSES: [(usize, &str); 4] = [
    (256, "≤256 B"),
    (4096, "≤4 KiB"),
    (65536, "≤64 KiB"),
    (usize::MAX, ">64 KiB"),
];
const CLASSES: usize = 4;
const STRATA: usize = PRIMITIVES.len() * CLASSES;

impl Primitive {
    fn classes(self) -> &'static [(usize, &'static str); CLASSES] {
        match self {
            Primitive::AesEncrypt | Primitive::AesDecrypt => &AES_CLASSES,
            _ => &RSA_CLASSES,
        }
    }

    /// The stratum of a call of this primitive on `size` bytes (RSA: the modulus; AES: the
    /// input).
    fn stratum(self, size: usize) -> usize {
        let class = self
            .classes()
            .iter()
            .position(|(limit, _)| size <= *limit)
            .unwrap_or(CLASSES - 1);
        self as usize * CLASSES + class
    }
}

fn stratum_name(index: usize) -> String {
    let (primitive, name) = PRIMITIVES[index / CLASSES];
    format!("{name} {}", primitive.classes()[index % CLASSES].1)
}

struct Stratum {
    calls: AtomicU64,
    sampled: AtomicU64,
    /// Signed: a span of a very short call, less the read after it, may come out below zero;
    /// clamping each would bias the sum upward.
    sampled_ns: AtomicI64,
}

/// A set of counts (the process has one, [`GLOBAL`]; tests make their own).
pub(crate) struct Account {
    on: AtomicBool,
    /// One call in this many is timed.
    one_in: AtomicU64,
    strata: [Stratum; STRATA],
}

static GLOBAL: Account = Account::new();

impl Account {
    pub(crate) const fn new() -> Self {
        Self {
            on: AtomicBool::new(false),
            one_in: AtomicU64::new(SAMPLE_ONE_IN),
            strata: [const {
                Stratum {
                    calls: AtomicU64::new(0),
                    sampled: AtomicU64::new(0),
                    sampled_ns: AtomicI64::new(0),
                }
            }; STRATA],
        }
    }

    fn enable(&self, one_in: u64) {
        self.one_in.store(one_in.max(1), Relaxed);
        self.on.store(true, Relaxed);
    }

    fn totals(&self) -> Totals {
        let strata = self
            .strata
            .iter()
            .enumerate()
            .filter(|(_, s)| s.calls.load(Relaxed) > 0)
            .map(|(i, s)| StratumTotals {
                stratum: stratum_name(i),
                calls: s.calls.load(Relaxed),
                sampled: s.sampled.load(Relaxed),
                sampled_ns: s.sampled_ns.load(Relaxed),
            })
            .collect::<Vec<_>>();
        let mut totals = Totals {
            accounting: self.on.load(Relaxed) && thread_cpu_ns().is_some(),
            calls: strata.iter().map(|s| s.calls).sum(),
            cpu_ns: 0,
            sample_one_in: self.one_in.load(Relaxed),
            strata,
            process_cpu_ns: process_cpu_ns(),
        };
        totals.cpu_ns = totals.cpu_ns_since(None);
        totals
    }

    /// Runs `f`, a call of `primitive` on `size` bytes, counting it when this account is on.
    #[inline]
    fn timed<T>(&self, primitive: Primitive, size: usize, f: impl FnOnce() -> T) -> T {
        self.timed_on(thread_cpu_ns, primitive, size, f)
    }

    /// [`Account::timed`] on the given clock (the tests give it one whose reads cost a known
    /// time).
    #[inline]
    fn timed_on<T>(
        &self,
        clock: impl Fn() -> Option<u64>,
        primitive: Primitive,
        size: usize,
        f: impl FnOnce() -> T,
    ) -> T {
        if !self.on.load(Relaxed) {
            return f();
        }
        let stratum = &self.strata[primitive.stratum(size)];
        stratum.calls.fetch_add(1, Relaxed);
        if !sample(self.one_in.load(Relaxed)) && stratum.sampled.load(Relaxed) > 0 {
            return f();
        }
        let start = clock();
        let out = f();
        let end = clock();
        let after = clock();
        if let (Some(start), Some(end), Some(after)) = (start, end, after) {
            let span = end.saturating_sub(start) as i64 - after.saturating_sub(end) as i64;
            stratum.sampled_ns.fetch_add(span, Relaxed);
            stratum.sampled.fetch_add(1, Relaxed);
        }
        out
    }
}

/// Starts counting (for the rest of the process's life), timing one call in `one_in` (1: every
/// call).
pub fn enable(one_in: u64) {
    GLOBAL.enable(one_in);
}

/// What has been counted since [`enable`]; `accounting` is false (and the counts zero) when it
/// was never called or the platform has no per-thread CPU clock.
pub fn totals() -> Totals {
    GLOBAL.totals()
}

/// Runs `f`, a call of `primitive` on `size` bytes, counting it when accounting is on.
#[inline]
pub(super) fn timed<T>(primitive: Primitive, size: usize, f: impl FnOnce() -> T) -> T {
    GLOBAL.timed(primitive, size, f)
}

/// What `GET /__sim/crypto` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub accounting: bool,
    /// Primitive calls made (RSA encrypt, decrypt, sign, verify; AES encrypt, decrypt).
    pub calls: u64,
    /// Their estimated CPU time on the calling threads since counting began, nanoseconds.
    pub cpu_ns: u64,
    /// One call in this many is timed.
    pub sample_one_in: u64,
    /// The counts the estimate is made of, per stratum that has seen a call.
    pub strata: Vec<StratumTotals>,
    /// The whole process's CPU time (every thread, those that have ended too) at this reading,
    /// nanoseconds, whether or not the crypto is counted: the bench sets the crypto beside it.
    /// Its clock is exact, where `/proc/<pid>/stat` counts in ticks of 10 ms.
    #[serde(default)]
    pub process_cpu_ns: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StratumTotals {
    /// The primitive and its size class, e.g. `sign ≤2048-bit`.
    pub stratum: String,
    pub calls: u64,
    pub sampled: u64,
    /// The sampled calls' CPU time, the clock's own cost taken out, nanoseconds.
    pub sampled_ns: i64,
}

impl Totals {
    /// The estimated CPU nanoseconds of the calls made between `before` (an earlier reading of
    /// the same process; None for the start of counting) and these totals: per stratum, the calls
    /// made in between times the mean span sampled in between. A stratum none of whose calls in
    /// between was sampled takes its mean over all of counting.
    pub fn cpu_ns_since(&self, before: Option<&Totals>) -> u64 {
        let total: f64 = self
            .strata
            .iter()
            .map(|now| {
                let then = before
                    .and_then(|b| b.strata.iter().find(|s| s.stratum == now.stratum))
                    .map_or((0, 0, 0), |s| (s.calls, s.sampled, s.sampled_ns));
                let calls = now.calls.saturating_sub(then.0);
                let (sampled, ns) = match now.sampled.saturating_sub(then.1) {
                    0 => (now.sampled, now.sampled_ns),
                    n => (n, now.sampled_ns - then.2),
                };
                if sampled == 0 {
                    return 0.0;
                }
                (calls as f64 * ns as f64 / sampled as f64).max(0.0)
            })
            .sum();
        total.round() as u64
    }
}

thread_local! {
    /// This thread's sampling state (xorshift64*), seeded from the OS once per thread.
    static DRAW: Cell<u64> = Cell::new(rand::random::<u64>() | 1);
}

/// Whether to time this call: true one time in `one_in` (always for 1), independently of every
/// other call.
fn sample(one_in: u64) -> bool {
    DRAW.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32 < (1u64 << 32) / one_in.max(1)
    })
}

/// This thread's CPU time in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`); the bench's ceiling
/// reads it too.
#[inline]
pub(crate) fn thread_cpu_ns() -> Option<u64> {
    cpu_clock_ns(CpuClock::Thread)
}

/// The CPU time of the whole process so far, every thread (ended ones too), nanoseconds
/// (`CLOCK_PROCESS_CPUTIME_ID`).
fn process_cpu_ns() -> Option<u64> {
    cpu_clock_ns(CpuClock::Process)
}

enum CpuClock {
    Thread,
    Process,
}

/// A CPU clock's reading in nanoseconds; None where the platform has no such clock.
#[cfg(unix)]
#[inline]
fn cpu_clock_ns(clock: CpuClock) -> Option<u64> {
    use rustix::time::ClockId;
    let ts = rustix::time::clock_gettime(match clock {
        CpuClock::Thread => ClockId::ThreadCPUTime,
        CpuClock::Process => ClockId::ProcessCPUTime,
    });
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u64::try_from(ts.tv_nsec).ok()?;
    Some(secs * 1_000_000_000 + nanos)
}

#[cfg(not(unix))]
fn cpu_clock_ns(_: CpuClock) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stratum(name: &str, calls: u64, sampled: u64, sampled_ns: i64) -> StratumTotals {
        StratumTotals {
            stratum: name.to_owned(),
            calls,
            sampled,
            sampled_ns,
        }
    }

    fn made_of(strata: Vec<StratumTotals>) -> Totals {
        Totals {
            accounting: true,
            calls: strata.iter().map(|s| s.calls).sum(),
            cpu_ns: 0,
            sample_one_in: SAMPLE_ONE_IN,
            strata,
            process_cpu_ns: None,
        }
    }

    /// The estimate of a stretch is, per stratum, its calls times the mean of its samples in
    /// the same stretch (not the mean since the start); a stratum without a sample in the
    /// stretch takes its mean over all of counting; one that appears only later counts whole.
    #[test]
    fn the_estimate_of_a_stretch_takes_each_stratum_calls_times_its_mean_sample() {
        let before = made_of(vec![
            stratum("sign ≤2048-bit", 100, 10, 10 * 900_000),
            stratum("aesEncrypt ≤256 B", 100, 12, 12 * 1_000),
        ]);
        let after = made_of(vec![
            // 80 calls in the stretch, 8 sampled at 500 µs (the machine got faster).
            stratum("sign ≤2048-bit", 180, 18, 10 * 900_000 + 8 * 500_000),
            // 40 calls, none sampled: the mean over all of counting, 1 µs.
            stratum("aesEncrypt ≤256 B", 140, 12, 12 * 1_000),
            // New since `before`: 16 calls, 2 sampled at 20 µs.
            stratum("verify ≤2048-bit", 16, 2, 2 * 20_000),
        ]);
        assert_eq!(
            after.cpu_ns_since(Some(&before)),
            80 * 500_000 + 40 * 1_000 + 16 * 20_000
        );
        assert_eq!(
            after.cpu_ns_since(None),
            180 * (10 * 900_000 + 8 * 500_000) / 18 + 140 * 1_000 + 16 * 20_000
        );
        // A stratum whose samples came out below zero on the whole counts nothing.
        let odd = made_of(vec![stratum("aesDecrypt ≤256 B", 10, 2, -300)]);
        assert_eq!(odd.cpu_ns_since(None), 0);
    }

    #[test]
    fn calls_fall_into_strata_by_primitive_and_size() {
        assert_eq!(stratum_name(Primitive::Sign.stratum(256)), "sign ≤2048-bit");
        assert_eq!(stratum_name(Primitive::Sign.stratum(512)), "sign >3072-bit");
        assert_eq!(
            stratum_name(Primitive::RsaDecrypt.stratum(128)),
            "rsaDecrypt ≤1024-bit"
        );
        assert_eq!(
            stratum_name(Primitive::AesEncrypt.stratum(4097)),
            "aesEncrypt ≤64 KiB"
        );
        assert_eq!(
            stratum_name(Primitive::AesDecrypt.stratum(1 << 20)),
            "aesDecrypt >64 KiB"
        );
        let all: std::collections::HashSet<String> = (0..STRATA).map(stratum_name).collect();
        assert_eq!(all.len(), STRATA, "every stratum has its own name");
    }

    /// About one call in eight is drawn, with no pattern a fixed order of calls could follow.
    #[test]
    fn one_call_in_eight_is_sampled() {
        let draws: Vec<bool> = (0..80_000).map(|_| sample(SAMPLE_ONE_IN)).collect();
        let hits = draws.iter().filter(|&&d| d).count();
        // Binomial(80,000, 1/8): mean 10,000, standard deviation 94.
        assert!((9_500..=10_500).contains(&hits), "{hits} of 80,000");
        // Every phase of a 6-call cycle (a Whalet request's calls) is sampled about as often.
        for phase in 0..6 {
            let n = draws.iter().skip(phase).step_by(6).filter(|&&d| d).count();
            assert!((1_450..=1_890).contains(&n), "phase {phase}: {n}");
        }
    }

    /// `--account-crypto=1` times every call: each is sampled, and the totals say one in one.
    #[test]
    fn one_in_one_times_every_call() {
        assert!((0..10_000).all(|_| sample(1)));
        let now = Cell::new(0u64);
        let read = || Some(now.get());
        let account = Account::new();
        account.enable(1);
        for i in 0..100u64 {
            account.timed_on(read, Primitive::Sign, 256, || {
                now.set(now.get() + 1_000 + i)
            });
        }
        let totals = account.totals();
        assert_eq!(totals.sample_one_in, 1);
        assert_eq!(
            (totals.calls, totals.strata[0].sampled),
            (100, 100),
            "{totals:?}"
        );
        assert_eq!(
            totals.cpu_ns,
            100 * 1_000 + (0..100).sum::<u64>(),
            "{totals:?}"
        );
    }

    /// On a clock whose every read costs 500 ns with its sample taken halfway, each sampled
    /// span is the call alone: 800 calls of 2 µs come to exactly 1.6 ms. A count that did not
    /// take the clock's cost out would read 2.0 ms.
    #[test]
    fn each_sampled_span_is_the_call_without_the_clocks_cost() {
        let now = Cell::new(0u64);
        let read = || {
            now.set(now.get() + 500);
            Some(now.get() - 250)
        };
        let account = Account::new();
        account.enable(SAMPLE_ONE_IN);
        for _ in 0..800 {
            account.timed_on(read, Primitive::Sign, 256, || now.set(now.get() + 2_000));
        }
        let totals = account.totals();
        assert_eq!(totals.calls, 800);
        assert!(totals.strata[0].sampled > 0, "{totals:?}");
        assert_eq!(totals.cpu_ns, 800 * 2_000, "{totals:?}");
    }

    /// The first call of every stratum is timed, whatever the draw says: one call in each of the
    /// 24 strata leaves each with one sample (by the draw alone, all 24 would be sampled about
    /// once in 8^24 tries).
    #[test]
    fn a_strata_first_call_is_always_timed() {
        let now = Cell::new(0u64);
        let read = || Some(now.get());
        let account = Account::new();
        account.enable(SAMPLE_ONE_IN);
        for (primitive, _) in PRIMITIVES {
            let sizes = match primitive {
                Primitive::AesEncrypt | Primitive::AesDecrypt => [16, 4096, 65536, 65537],
                _ => [128, 256, 384, 512],
            };
            for size in sizes {
                account.timed_on(read, primitive, size, || now.set(now.get() + 1_000));
            }
        }
        let totals = account.totals();
        assert_eq!(totals.strata.len(), STRATA, "{totals:?}");
        for s in &totals.strata {
            assert_eq!((s.calls, s.sampled, s.sampled_ns), (1, 1, 1_000), "{s:?}");
        }
        assert_eq!(totals.cpu_ns, STRATA as u64 * 1_000);
    }

    /// The reading carries the process's CPU clock, which moves with work on any thread.
    #[test]
    fn a_reading_carries_the_process_cpu_clock() {
        let Some(start) = totals().process_cpu_ns else {
            return;
        };
        // 30 ms of CPU on a thread that then ends: they stay in the process's clock.
        let worker = std::thread::spawn(|| {
            let began = thread_cpu_ns().unwrap();
            let mut x = 0u64;
            while thread_cpu_ns().unwrap() - began < 30_000_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
            }
            x
        });
        worker.join().unwrap();
        let end = totals().process_cpu_ns.unwrap();
        assert!(end - start >= 30_000_000, "{start} -> {end}");
    }

    /// On the thread's real CPU clock, with every call timed, the count is the loop's CPU time
    /// less only the clock's own reads and the loop around the calls: within 10 % of what the
    /// loop took, whatever the machine's speed (both sides read the same clock, so a slow or
    /// stolen moment counts in both). A count in the wrong unit or off the wrong clock is far
    /// outside.
    #[test]
    fn timing_every_call_counts_the_threads_cpu_time() {
        if thread_cpu_ns().is_none() {
            return;
        }
        let spin = |rounds: u64| {
            let mut x = 0u64;
            for i in 0..rounds {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
            x
        };
        let account = Account::new();
        account.enable(1);
        let start = thread_cpu_ns().unwrap();
        for _ in 0..200 {
            account.timed(Primitive::Sign, 256, || spin(200_000));
        }
        let spent = thread_cpu_ns().unwrap() - start;
        let totals = account.totals();
        assert_eq!((totals.calls, totals.strata[0].sampled), (200, 200));
        let counted = totals.cpu_ns as f64;
        assert!(
            counted <= spent as f64 && counted / spent as f64 > 0.90,
            "counted {counted} ns of {spent} ns spent"
        );
    }

    /// Sampling one call in eight of 800 calls whose cost varies threefold (1 to 3 µs, on a
    /// clock whose reads cost nothing) estimates their total within 10 %, about one call in
    /// eight being timed, for each of twenty draws (the standard error is about 3 %).
    #[test]
    fn the_sampled_estimate_of_varied_calls_is_within_ten_percent() {
        for seed in 1..=20u64 {
            DRAW.with(|state| state.set(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1));
            let now = Cell::new(0u64);
            let read = || Some(now.get());
            let account = Account::new();
            account.enable(SAMPLE_ONE_IN);
            let mut spent = 0;
            for i in 0..800u64 {
                let cost = 1_000 + (i * 7_919) % 2_001;
                spent += cost;
                account.timed_on(read, Primitive::Sign, 256, || now.set(now.get() + cost));
            }
            let totals = account.totals();
            assert_eq!(totals.calls, 800);
            let sampled = totals.strata[0].sampled;
            assert!(
                (50..=160).contains(&sampled),
                "seed {seed}: {sampled} of 800 sampled"
            );
            let estimate = totals.cpu_ns as f64;
            assert!(
                (estimate / spent as f64 - 1.0).abs() < 0.10,
                "seed {seed}: estimated {estimate} ns of {spent} ns spent"
            );
        }
    }

    /// The process's own account, once on, counts real signatures in their stratum, at more
    /// than 50 µs of CPU each.
    #[test]
    fn an_enabled_account_counts_each_primitive_in_its_stratum() {
        use crate::wire::crypto::{sign, SignatureHash};
        use crate::wire::keys::{demo, PrivateKey};
        let key = PrivateKey::parse(demo::PLATFORM_PRIVATE).unwrap();
        enable(SAMPLE_ONE_IN);
        let before = totals();
        assert!(before.accounting, "{before:?}");
        for i in 0..120u8 {
            assert!(!sign(&key, SignatureHash::Sha256, &[i]).is_empty());
        }
        let after = totals();
        // Other tests in this process may run primitives at the same time: at least ours.
        let calls = |t: &Totals| {
            t.strata
                .iter()
                .find(|s| s.stratum == "sign ≤2048-bit")
                .map_or(0, |s| s.calls)
        };
        assert!(
            calls(&after) >= calls(&before) + 120,
            "{before:?} -> {after:?}"
        );
        assert!(
            after.cpu_ns_since(Some(&before)) >= 120 * 50_000,
            "{before:?} -> {after:?}"
        );
    }
}
