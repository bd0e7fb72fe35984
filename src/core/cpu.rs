//! The gate for CPU-heavy request work (the RSA private-key operations of opening and sealing).
//!
//! A request's heavy stages run through [`CpuGate::run`]: it waits (asynchronously, first come
//! first served) for one of a fixed number of permits, then runs the stage with
//! `block_in_place`, which hands the async worker's other tasks to another thread while this one
//! computes. So however many expensive requests arrive, at most `permits` threads do RSA work at
//! once, and the tasks that serve the control plane, the pages and cheap requests keep a thread
//! to run on (`GET /__sim/health` stays fast while a flood of RSA work is in flight).
//!
//! A hand-off costs CPU of its own (a thread woken to take over the worker's queue, futex
//! wake-ups, the work moving between threads and caches): with OpenSSL's fast RSA it was about
//! 9 % of the server's CPU per Whalet request (docs/PERFORMANCE.md). So the caller may run a
//! stage in place, on the async worker, still holding its permit: the pipeline does for a
//! request of a fixed, small number of RSA operations (a body of at most `[server]
//! cpu_inline_bytes` on a surface whose RSA work does not grow with the body). With one permit
//! per core no worker is held for longer than such a stage. Infinia requests (one RSA operation
//! per block) and large bodies are handed off as before.
//!
//! Background work that grows with a file (an SFTP upload's processing, up to `[infinia]
//! sftp_max_file_bytes`) takes no permit: it would hold one for seconds, and the requests would
//! have one thread fewer. It runs on tokio's blocking pool ([`CpuGate::background`], or
//! [`off_worker`] where the caller cannot wait asynchronously), so the async workers stay free
//! for the requests, the control plane and the pages; and one account's files take their
//! [`CpuGate::turn`] one at a time, in the order they asked, so they apply to its state in a
//! fixed order however long each takes.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::{OwnedMutexGuard, Semaphore};

/// Bounds the request stages that do RSA work (see the module docs).
pub struct CpuGate {
    permits: Semaphore,
    /// Stages run through the gate so far (each one a hand-off off the async worker and back).
    passes: std::sync::atomic::AtomicU64,
    /// Of those, the stages handed off the async worker.
    handoffs: std::sync::atomic::AtomicU64,
    /// One FIFO lock per lane ([`CpuGate::turn`]); a lane nobody holds or waits for is dropped.
    lanes: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A lane's turn ([`CpuGate::turn`]): the next in the lane starts when it is dropped.
pub struct Turn {
    _held: OwnedMutexGuard<()>,
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
            handoffs: std::sync::atomic::AtomicU64::new(0),
            lanes: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for `lane`'s turn: the background jobs of one lane (an account's SFTP files) run one
    /// at a time, in the order they first asked (the lock is fair), so a later file applies
    /// after an earlier one however long each takes to read. Asking happens at the first poll:
    /// a job polled first is served first.
    pub async fn turn(&self, lane: &str) -> Turn {
        let lock = {
            let mut lanes = self.lanes.lock();
            // Lanes only the map holds have nobody in them.
            lanes.retain(|_, l| Arc::strong_count(l) > 1);
            lanes.entry(lane.to_owned()).or_default().clone()
        };
        Turn {
            _held: lock.lock_owned().await,
        }
    }

    /// Runs `work`, CPU-heavy background work that grows with its input (a file), on tokio's
    /// blocking pool, so that it holds no async worker (see the module docs); without a
    /// runtime, in place. A panic in `work` goes on in the caller; `None` when the runtime is
    /// shutting down and the work never ran.
    pub async fn background<R: Send + 'static>(
        &self,
        work: impl FnOnce() -> R + Send + 'static,
    ) -> Option<R> {
        if Handle::try_current().is_err() {
            return Some(work());
        }
        match tokio::task::spawn_blocking(work).await {
            Ok(out) => Some(out),
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => None,
            },
        }
    }

    /// How many stages have passed the gate.
    pub fn passes(&self) -> u64 {
        self.passes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many of them were handed off the async worker.
    pub fn handoffs(&self) -> u64 {
        self.handoffs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs the heavy stage `work` once a permit is free. On a multi-threaded runtime it runs off
    /// the async worker (`block_in_place`) unless `in_place`; on a single-threaded one (a test
    /// runtime) always in place.
    pub async fn run<F: Future>(&self, in_place: bool, work: F) -> F::Output {
        // The semaphore is never closed, so acquiring cannot fail; if it somehow did, running
        // unbounded is better than refusing the request.
        let _permit = self.permits.acquire().await.ok();
        self.passes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match Handle::try_current() {
            Ok(handle) if !in_place && handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
                self.handoffs
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::task::block_in_place(|| handle.block_on(work))
            }
            _ => work.await,
        }
    }
}

/// Runs `work` off the async worker where the caller cannot wait asynchronously (it must finish
/// before the caller goes on, e.g. inside a unit of work): `block_in_place` on a multi-threaded
/// runtime, which hands the worker's other tasks to another thread meanwhile; in place on a
/// single-threaded one or without a runtime. For CPU-heavy background work that grows with a
/// file (see the module docs).
pub fn off_worker<R>(work: impl FnOnce() -> R) -> R {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
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
                gate.run(false, async {
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
                gate.run(false, async {
                    std::thread::sleep(Duration::from_millis(150))
                })
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

    /// A stage asked to run in place runs on the worker; any other is handed off.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stages_run_in_place_only_when_asked() {
        let gate = CpuGate::new(2);
        assert_eq!(gate.run(true, async { 1 }).await, 1);
        assert_eq!((gate.passes(), gate.handoffs()), (1, 0));
        assert_eq!(gate.run(false, async { 2 }).await, 2);
        assert_eq!((gate.passes(), gate.handoffs()), (2, 1));
    }
}
