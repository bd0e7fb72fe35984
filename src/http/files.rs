//! The process's open-file limit against what the edge needs. Each connection is a file
//! descriptor: with a soft limit below `[server] max_connections` the connections past it cannot
//! even be accepted (to be answered 503) and wait unanswered, so the soft limit is raised at
//! start as far as the hard limit allows, and a limit still too low is named in a warning.

/// Descriptors the process keeps for everything but the edge's connections: the listeners, the
/// database, SFTP sessions, notification attempts, logs.
const RESERVED: u64 = 256;

/// Descriptors needed for `max_connections`: each served connection, as many refused ones
/// waiting on their clients (`http::refuse_busy`), and [`RESERVED`].
pub(crate) fn needed(max_connections: usize) -> u64 {
    (max_connections.max(1) as u64)
        .saturating_mul(2)
        .saturating_add(RESERVED)
}

/// The soft limit to set for `needed` descriptors, given the current soft and hard limits
/// (`None`: unlimited), or None when it needs no change: raised to `needed`, at most to the
/// hard limit, never lowered.
pub(crate) fn raised_soft_limit(soft: Option<u64>, hard: Option<u64>, needed: u64) -> Option<u64> {
    let soft = soft?;
    let target = hard.map_or(needed, |hard| hard.min(needed));
    (target > soft).then_some(target)
}

/// Raises the soft open-file limit towards what `max_connections` needs (never past the hard
/// limit) and warns, naming both numbers, when it stays below.
#[cfg(unix)]
pub(crate) fn ensure_open_file_limit(max_connections: usize) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let needed = needed(max_connections);
    let limit = getrlimit(Resource::Nofile);
    let mut soft = limit.current;
    if let Some(target) = raised_soft_limit(soft, limit.maximum, needed) {
        let raised = Rlimit {
            current: Some(target),
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => soft = Some(target),
            Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
        }
    }
    if let Some(soft) = soft.filter(|&soft| soft < needed) {
        tracing::warn!(
            "the open-file limit ({soft}, hard limit {}) is below the {needed} descriptors that \
             [server] max_connections = {max_connections} needs (two per connection and {RESERVED} \
             for the rest): connections past it wait unanswered instead of getting 503; raise \
             `ulimit -n` or lower max_connections",
            limit
                .maximum
                .map_or("unlimited".to_owned(), |h| h.to_string()),
        );
    }
}

/// No open-file limit to adjust off Unix.
#[cfg(not(unix))]
pub(crate) fn ensure_open_file_limit(_max_connections: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_is_raised_to_what_is_needed_within_the_hard_limit() {
        let needed = needed(1024);
        assert_eq!(needed, 2048 + RESERVED);
        // Raised as far as needed, not to the hard limit itself.
        assert_eq!(
            raised_soft_limit(Some(200), Some(1 << 20), needed),
            Some(needed)
        );
        assert_eq!(raised_soft_limit(Some(200), None, needed), Some(needed));
        // Only up to the hard limit.
        assert_eq!(raised_soft_limit(Some(200), Some(1000), needed), Some(1000));
        // Never lowered, and left alone when already enough or unlimited.
        assert_eq!(raised_soft_limit(Some(200), Some(200), needed), None);
        assert_eq!(
            raised_soft_limit(Some(1 << 20), Some(1 << 20), needed),
            None
        );
        assert_eq!(raised_soft_limit(None, None, needed), None);
    }
}
