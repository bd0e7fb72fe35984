//! Retry schedules as pure functions of the attempt number, one per surface, and the due time
//! of an attempt.

use crate::clock::{Millis, MAX_TIME};

/// Whalet (seed 001 §2.7): at most 5 retries, 1, 2, 4, 8 and 16 s after the previous failure.
pub const WHALET_RETRY_MS: [i64; 5] = [1_000, 2_000, 4_000, 8_000, 16_000];

/// Pockyt: up to 8 re-sends within 2 hours (vendor docs); the intervals are not public. The
/// simulator's choice, 15 s doubling-ish to 1 h, sums to 6,525 s (1 h 48 m 45 s) < 2 h.
pub const POCKYT_RETRY_MS: [i64; 8] = [
    15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000,
];

/// The delay before retry number `retry` (1-based) in `schedule`, or None when the series is over.
pub fn retry_delay(schedule: &[i64], retry: usize) -> Option<i64> {
    retry.checked_sub(1).and_then(|i| schedule.get(i)).copied()
}

/// When an attempt `delay_ms` after `from` is due: never before `from`, and never past the end of
/// virtual time ([`MAX_TIME`]), where the clock stops and runs it. Every due time the ledger keeps
/// goes through here, so a long delay near the end of the calendar (or a configured retry of
/// `i64::MAX` ms) stays a time that a snapshot or the data directory can restore.
pub fn due_after(from: Millis, delay_ms: i64) -> Millis {
    from.saturating_add(delay_ms.max(0)).min(MAX_TIME)
}

/// Virtual offsets (from the first attempt) of every attempt when each one fails instantly.
pub fn attempt_offsets(schedule: &[i64]) -> Vec<i64> {
    let mut at = 0;
    let mut out = vec![0];
    for delay in schedule {
        at += delay;
        out.push(at);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whalet_series_is_0_1_3_7_15_31_seconds() {
        assert_eq!(
            attempt_offsets(&WHALET_RETRY_MS),
            vec![0, 1_000, 3_000, 7_000, 15_000, 31_000]
        );
        assert_eq!(retry_delay(&WHALET_RETRY_MS, 1), Some(1_000));
        assert_eq!(retry_delay(&WHALET_RETRY_MS, 5), Some(16_000));
        assert_eq!(retry_delay(&WHALET_RETRY_MS, 6), None);
        assert_eq!(retry_delay(&WHALET_RETRY_MS, 0), None);
    }

    #[test]
    fn due_times_stay_within_virtual_time() {
        assert_eq!(due_after(1_000, 500), 1_500);
        assert_eq!(due_after(1_000, -5), 1_000);
        assert_eq!(due_after(MAX_TIME - 10_000, 15_000), MAX_TIME);
        assert_eq!(due_after(MAX_TIME, i64::MAX), MAX_TIME);
    }

    #[test]
    fn pockyt_series_has_8_resends_within_two_hours() {
        let offsets = attempt_offsets(&POCKYT_RETRY_MS);
        assert_eq!(offsets.len(), 9);
        assert!(*offsets.last().unwrap() < 2 * 3_600_000);
    }
}
