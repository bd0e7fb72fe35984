//! The gate for CPU-heavy request work (the RSA private-key operations of opening and sealing).
//!
//! A request's heavy stages run through [`CpuGate::run`]: it waits (asynchronously, first come
//! first served) for one of a fixed number of permits, then runs the stage with
//! `block_in_place`, which hands the async worker's other tasks to another thread while this one
//! computes. So however many expensive requests arrive, at most `permits` threads do RSA work at
//! once, and the tasks that serve the control plane, the pages and cheap requests keep a thread
//! to run on (`GET /__sim/health` stays fast while a flood of RSA work is in flight).

use std::future::Future;

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::Semaphore;

/// Bounds the request stages that do RSA work (see the module docs).
pub struct CpuGate {
    permits: Semaphore,
    /// Stages run through the gate so far (each one a hand-off off the async worker and back).
    passes: std::sync::atomic::AtomicU64,
}

impl CpuGate {
    /// A gate with `permits` slots; `0` means one per core.
    pub fn new(permits: usize) -> Self {
        let size = if permits == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            permits
        };
        Self {
            permits: Semaphore::new(size),
            passes: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How many stages have passed the gate.
    pub fn passes(&self) -> u64 {
        self.passes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs the heavy stage `work` once a permit is free. On a multi-threaded runtime it runs
    /// off the async worker (`block_in_place`); elsewhere (a single-threaded test runtime) it
    /// simply runs in place.
    pub async fn run<F: Future>(&self, work: F) -> F::Output {
        // The semaphore is never closed, so acquiring cannot fail; if it somehow did, running
        // unbounded is better than refusing the request.
        let _permit = self.permits.acquire().await.ok();
        self.passes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| handle.block_on(work))
            }
            _ => work.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// At most `permits` stages run at once, however many are started.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_permits_stages_run_at_once() {
        let gate = Arc::new(CpuGate::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                gate.run(async {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        for t in tasks {
            t.await.expect("stage task");
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    /// While heavy stages hog both permits with blocking work, a cheap task on the same runtime
    /// still runs promptly: the workers are not held by the heavy work.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cheap_tasks_run_while_heavy_stages_block() {
        let gate = Arc::new(CpuGate::new(2));
        let mut heavy = Vec::new();
        for _ in 0..6 {
            let gate = gate.clone();
            heavy.push(tokio::spawn(async move {
                gate.run(async { std::thread::sleep(Duration::from_millis(150)) })
                    .await
            }));
        }
        // Wait on this (non-worker) thread: a timer would need a free worker to fire.
        std::thread::sleep(Duration::from_millis(20));
        let started = Instant::now();
        let cheap = tokio::spawn(async { 7 }).await.expect("cheap task");
        let waited = started.elapsed();
        assert_eq!(cheap, 7);
        assert!(
            waited < Duration::from_millis(100),
            "a cheap task waited {waited:?} behind blocking stages"
        );
        for t in heavy {
            t.await.expect("stage task");
        }
    }
}
