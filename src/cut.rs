//! One consistent cut of all state. A unit of work (an operation's handler, a trigger, a timer's
//! job, an SFTP upload finishing, a seller's decision) changes a tenant's state and then
//! schedules its timers or notifications, under different locks; a snapshot taken between the
//! two would hold a pending payout without the timer that settles it, or a timer for an object it
//! does not hold. Every unit of work runs under [`Cut::work`] (shared, and re-entrant on its
//! thread); a snapshot reads, and an import replaces, under [`Cut::still`] (exclusive), so it sees
//! each unit's changes whole or not at all.
//!
//! Both are synchronous: a guard never lives across an `.await`. A future is made a series of
//! units by [`InCut`], which holds the cut for each poll: what a job or a trigger does between
//! two waits is one unit.
//!
//! Boundary: knows nothing of what the work is; the clock, the pipeline, the triggers, SFTP and
//! the authorization pages call it, the snapshot reads under it.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use parking_lot::RwLock;

thread_local! {
    /// How many units of work, and how many still sections, this thread is inside: a nested one
    /// runs without locking again, so a trigger run from a timer's job, or a job started inside
    /// an import, cannot deadlock on the lock its own thread holds.
    static WORK: Cell<u32> = const { Cell::new(0) };
    static STILL: Cell<u32> = const { Cell::new(0) };
}

/// The lock every unit of work shares and a snapshot takes alone. Cheap to clone (one `Arc`).
#[derive(Clone, Default)]
pub struct Cut {
    lock: Arc<RwLock<()>>,
}

type Depth = std::thread::LocalKey<Cell<u32>>;

/// Counts this thread inside a unit of work or a still section until dropped, even by a panic.
struct Inside(&'static Depth);

impl Inside {
    fn enter(depth: &'static Depth) -> Self {
        depth.with(|d| d.set(d.get() + 1));
        Inside(depth)
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        self.0.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

fn inside(depth: &'static Depth) -> bool {
    depth.with(|d| d.get() > 0)
}

impl Cut {
    /// Runs `f` as one unit of work: a snapshot sees all of its changes or none of them.
    pub fn work<R>(&self, f: impl FnOnce() -> R) -> R {
        if inside(&WORK) || inside(&STILL) {
            return f();
        }
        let _shared = self.lock.read();
        let _inside = Inside::enter(&WORK);
        f()
    }

    /// Runs `f` while no unit of work runs (a snapshot's read, an import's replacement). Called
    /// from inside a unit of work, it cannot wait for that unit to end: it runs `f` at once
    /// (no caller does; a debug build says so).
    pub fn still<R>(&self, f: impl FnOnce() -> R) -> R {
        if inside(&STILL) {
            return f();
        }
        if inside(&WORK) {
            debug_assert!(false, "Cut::still called inside a unit of work");
            return f();
        }
        let _alone = self.lock.write();
        let _inside = Inside::enter(&STILL);
        f()
    }

    /// `future`, each poll of which is one unit of work.
    pub fn polls<F: Future>(&self, future: F) -> InCut<F> {
        InCut {
            cut: self.clone(),
            future: Box::pin(future),
        }
    }
}

/// A future whose every poll runs under [`Cut::work`] (see [`Cut::polls`]).
pub struct InCut<F> {
    cut: Cut,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for InCut<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let future = this.future.as_mut();
        this.cut.work(|| future.poll(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    /// Two counters a unit of work moves together: a reader under `still` never sees them
    /// apart, while without the cut it does.
    #[test]
    fn a_still_reader_sees_every_unit_whole() {
        let cut = Cut::default();
        let (a, b) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (cut, a, b, stop) = (cut.clone(), a.clone(), b.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        cut.work(|| {
                            a.fetch_add(1, Ordering::SeqCst);
                            std::hint::spin_loop();
                            b.fetch_add(1, Ordering::SeqCst);
                        });
                    }
                })
            })
            .collect();
        let (mut torn_outside, mut torn_inside) = (0, 0);
        let deadline = std::time::Instant::now() + Duration::from_millis(300);
        while std::time::Instant::now() < deadline {
            let outside = (a.load(Ordering::SeqCst), b.load(Ordering::SeqCst));
            torn_outside += usize::from(outside.0 != outside.1);
            let inside = cut.still(|| (a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)));
            torn_inside += usize::from(inside.0 != inside.1);
        }
        stop.store(true, Ordering::Relaxed);
        writers.into_iter().for_each(|w| w.join().unwrap());
        assert_eq!(torn_inside, 0, "a still read saw a unit half done");
        assert!(torn_outside > 0, "the test never caught a unit half done");
    }

    /// Work inside work, and work inside still, run at once on the same thread.
    #[test]
    fn nested_cuts_do_not_wait_for_their_own_thread() {
        let cut = Cut::default();
        assert_eq!(cut.work(|| cut.work(|| 1)), 1);
        assert_eq!(cut.still(|| cut.work(|| 2)), 2);
        // A panic inside leaves the thread outside again.
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cut.work(|| panic!("inside"));
        }));
        assert!(caught.is_err());
        assert!(!inside(&WORK) && !inside(&STILL));
        assert_eq!(cut.still(|| cut.still(|| 3)), 3);
    }
}
