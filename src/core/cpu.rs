//! The gate for CPU-heavy request work (the RSA private-key operations of opening and sealing).
//!
//! A request's heavy stages run through [`CpuGate::run`]: it waits (asynchronously) for one of a
//! fixed number of permits, then runs the stage with `block_in_place`, which hands the async
//! worker's other tasks to another thread while this one computes. So however many expensive
//! requests arrive, at most `permits` threads do RSA work at once, and the tasks that serve the
//! control plane, the pages and the requests that do no RSA work (which do not pass the gate:
//! `api::pipeline`) keep a thread to run on (`GET /__sim/health` stays fast while a flood of RSA
//! work is in flight).
//!
//! The permits are shared fairly between tenants. A stage that finds a permit free and nobody
//! waiting takes it at once; otherwise it waits in its tenant's queue (the tenant the request
//! claims, [`CpuGate::run`]'s `tenant`), and a tenant puts at most `permits` stages into the
//! shared first-come-first-served queue at a time: its further stages wait in its own queue,
//! first come first served among themselves. So a tenant alone still uses every permit, but one
//! tenant's burst never stands in front of another tenant's request: that waits for at most
//! about two rounds of stages (those running, and at most `permits` of each other busy tenant's
//! queued ahead of it), not for the whole burst. Each queue is a semaphore whose waiters are
//! intrusive (no allocation per request); the map of them is locked only to find a tenant's
//! queue, never across the work.
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
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore, SemaphorePermit};

/// Bounds the request stages that do RSA work (see the module docs).
pub struct CpuGate {
    permits: Semaphore,
    /// How many permits there are: also the most stages one tenant queues for them at once.
    size: usize,
    /// Each tenant's queue for the permits ([`CpuGate::run`]), by the hash of its claim.
    shares: Mutex<Shares>,
    /// Hashes a claim to its queue's key (random per gate: claims come from clients).
    hasher: RandomState,
    /// Stages run through the gate so far (each one a hand-off off the async worker and back).
    passes: std::sync::atomic::AtomicU64,
    /// Of those, the stages handed off the async worker.
    handoffs: std::sync::atomic::AtomicU64,
    /// One FIFO lock per lane ([`CpuGate::turn`]); a lane nobody holds or waits for is dropped.
    lanes: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The tenants' queues: a semaphore of the gate's size each. A queue nobody holds or waits in
/// is dropped when the map has grown to `prune_at` (so a tenant's queue is not made again for
/// every request, and claims that name ever new tenants cannot grow the map without bound).
struct Shares {
    by_tenant: HashMap<u64, Arc<Semaphore>>,
    prune_at: usize,
}

/// The fewest queues kept before idle ones are dropped.
const SHARES_KEPT: usize = 64;

/// A stage's hold on the gate: its permit and, when it had to wait, its place in its tenant's
/// share (released after the permit, so the permit goes to whoever waits longest first).
struct Held<'g> {
    _permit: Option<SemaphorePermit<'g>>,
    _share: Option<OwnedSemaphorePermit>,
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
            size,
            shares: Mutex::new(Shares {
                by_tenant: HashMap::new(),
                prune_at: SHARES_KEPT,
            }),
            hasher: RandomState::new(),
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
    ///
    /// `tenant` names the queue the stage waits in when no permit is free at once (see the
    /// module docs): the tenant the request claims, or any one value for requests that name
    /// none. It is called only then, so the common case pays nothing for it.
    pub async fn run<K: Hash, F: Future>(
        &self,
        tenant: impl FnOnce() -> K,
        in_place: bool,
        work: F,
    ) -> F::Output {
        let _held = self.hold(tenant).await;
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

    /// Takes a permit: at once when one is free (tokio's semaphore hands a released permit to
    /// its first waiter, so one is free only when nobody waits), else through `tenant`'s share.
    async fn hold<K: Hash>(&self, tenant: impl FnOnce() -> K) -> Held<'_> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Held {
                _permit: Some(permit),
                _share: None,
            };
        }
        let share = self.share(self.hasher.hash_one(tenant()));
        // Neither semaphore is ever closed, so acquiring cannot fail; if it somehow did,
        // running unbounded is better than refusing the request.
        let share = share.acquire_owned().await.ok();
        Held {
            _permit: self.permits.acquire().await.ok(),
            _share: share,
        }
    }

    /// The queue of the tenant whose claim hashes to `key`, made when it has none.
    fn share(&self, key: u64) -> Arc<Semaphore> {
        let mut shares = self.shares.lock();
        if let Some(share) = shares.by_tenant.get(&key) {
            return share.clone();
        }
        if shares.by_tenant.len() >= shares.prune_at {
            // Queues only the map holds have nobody in them.
            shares.by_tenant.retain(|_, s| Arc::strong_count(s) > 1);
            shares.prune_at = SHARES_KEPT.max(2 * shares.by_tenant.len());
        }
        let share = Arc::new(Semaphore::new(self.size));
        shares.by_tenant.insert(key, share.clone());
        share
    }

    /// How many tenants' queues the gate keeps (idle ones included, until pruned).
    #[cfg(test)]
    fn shares(&self) -> usize {
        self.shares.lock().by_tenant.len()
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

    /// The most stages of one tenant that ran at once when `stages` were started on a gate of
    /// `permits`.
    async fn most_at_once(permits: usize, stages: usize) -> usize {
        let gate = Arc::new(CpuGate::new(permits));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..stages {
            let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                gate.run(|| "a", false, async {
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
        most.load(Ordering::SeqCst)
    }

    /// At most `permits` stages run at once, however many are started.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_permits_stages_run_at_once() {
        assert_eq!(most_at_once(2, 8).await, 2);
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
                gate.run(|| "a", false, async {
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
        assert_eq!(gate.run(|| "a", true, async { 1 }).await, 1);
        assert_eq!((gate.passes(), gate.handoffs()), (1, 0));
        assert_eq!(gate.run(|| "a", false, async { 2 }).await, 2);
        assert_eq!((gate.passes(), gate.handoffs()), (2, 1));
    }

    /// One tenant's burst does not stand in front of another tenant's stage: with one permit
    /// and eight stages of tenant `a` in flight, tenant `b`'s stage starts after at most two of
    /// them (the one running and the one `a` queued for the permit), not after all eight.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_one_tenant_does_not_hold_another_back() {
        let gate = Arc::new(CpuGate::new(1));
        let order = Arc::new(Mutex::new(Vec::new()));
        let stage = |tenant: &'static str| {
            let (gate, order) = (gate.clone(), order.clone());
            tokio::spawn(async move {
                gate.run(|| tenant, false, async {
                    order.lock().push(tenant);
                    std::thread::sleep(Duration::from_millis(30));
                })
                .await
            })
        };
        let mut tasks: Vec<_> = (0..8).map(|_| stage("a")).collect();
        // Wait on this (non-worker) thread until every stage of `a` is queued.
        std::thread::sleep(Duration::from_millis(20));
        tasks.push(stage("b"));
        for t in tasks {
            t.await.expect("stage task");
        }
        let order = order.lock();
        let b = order.iter().position(|t| *t == "b").expect("b ran");
        assert!(b <= 2, "b's stage ran after {b} of a's: {order:?}");
    }

    /// A tenant alone still uses every permit: its share is the whole gate.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tenant_alone_uses_every_permit() {
        assert_eq!(most_at_once(3, 12).await, 3);
    }

    /// Queues of tenants that wait no more are dropped once the map has grown: claims naming
    /// ever new tenants do not grow it without bound.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_queues_are_dropped() {
        let gate = Arc::new(CpuGate::new(1));
        for round in 0..4 * SHARES_KEPT {
            // Hold the permit so that the next stage has to queue under its tenant.
            let blocker = gate.permits.try_acquire().expect("a free permit");
            let waiter = {
                let gate = gate.clone();
                tokio::spawn(async move { gate.run(move || round, true, async {}).await })
            };
            let queued = Instant::now();
            while gate
                .shares
                .lock()
                .by_tenant
                .values()
                .all(|s| Arc::strong_count(s) == 1)
            {
                assert!(
                    queued.elapsed() < Duration::from_secs(5),
                    "a stage that found no free permit made no queue for its tenant"
                );
                tokio::task::yield_now().await;
            }
            drop(blocker);
            waiter.await.expect("stage task");
        }
        assert!(
            gate.shares() <= SHARES_KEPT,
            "{} queues kept",
            gate.shares()
        );
    }
}
