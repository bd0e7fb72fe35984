//! The CPU time the primitives take inside this process, counted only when asked
//! (`serve --account-crypto`; `bench --spawn-server` asks). Each call is timed on its own
//! thread's CPU clock, so the count is crypto work done by the very threads, at the very moments,
//! that serve the load: set beside the server's whole CPU time it gives the share of that time
//! the crypto took, which a change of the machine's speed moves on both sides alike.
//!
//! Off, it costs one relaxed atomic load a call. On, it costs two reads of the thread's CPU
//! clock a call (1.3 µs for both on the 2-core VM of docs/PERFORMANCE.md, `cargo bench --bench
//! envelope -- AES`); about half of that lands inside the timed span.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use serde::Serialize;

static ON: AtomicBool = AtomicBool::new(false);
static CALLS: AtomicU64 = AtomicU64::new(0);
static CPU_NS: AtomicU64 = AtomicU64::new(0);

/// Starts counting (for the rest of the process's life).
pub fn enable() {
    ON.store(true, Relaxed);
}

/// What has been counted since [`enable`]; `accounting` is false (and the counts zero) when it
/// was never called or the platform has no per-thread CPU clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub accounting: bool,
    /// Primitive calls timed (RSA encrypt, decrypt, sign, verify; AES encrypt, decrypt).
    pub calls: u64,
    /// Their CPU time on the calling threads, nanoseconds.
    pub cpu_ns: u64,
}

pub fn totals() -> Totals {
    Totals {
        accounting: ON.load(Relaxed) && thread_cpu_ns().is_some(),
        calls: CALLS.load(Relaxed),
        cpu_ns: CPU_NS.load(Relaxed),
    }
}

/// Runs `f`, counting its CPU time on this thread when accounting is on.
#[inline]
pub(super) fn timed<T>(f: impl FnOnce() -> T) -> T {
    if !ON.load(Relaxed) {
        return f();
    }
    let start = thread_cpu_ns();
    let out = f();
    if let (Some(a), Some(b)) = (start, thread_cpu_ns()) {
        CPU_NS.fetch_add(b.saturating_sub(a), Relaxed);
        CALLS.fetch_add(1, Relaxed);
    }
    out
}

/// This thread's CPU time in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
#[cfg(unix)]
fn thread_cpu_ns() -> Option<u64> {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u64::try_from(ts.tv_nsec).ok()?;
    Some(secs * 1_000_000_000 + nanos)
}

#[cfg(not(unix))]
fn thread_cpu_ns() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Once on, every primitive call adds one call and its CPU time; the time of a private-key
    /// signature is far above the clock's own cost.
    #[test]
    fn an_enabled_account_counts_each_primitive_and_its_time() {
        use crate::wire::crypto::{sign, SignatureHash};
        use crate::wire::keys::{demo, PrivateKey};
        let key = PrivateKey::parse(demo::PLATFORM_PRIVATE).unwrap();
        enable();
        let before = totals();
        assert!(before.accounting, "{before:?}");
        let signature = sign(&key, SignatureHash::Sha256, b"abc");
        let after = totals();
        assert!(!signature.is_empty());
        // Other tests in this process may run primitives at the same time: at least ours.
        assert!(after.calls > before.calls, "{before:?} -> {after:?}");
        assert!(
            after.cpu_ns - before.cpu_ns >= 50_000,
            "a 2048-bit signature took under 50 µs of CPU: {before:?} -> {after:?}"
        );
    }
}
