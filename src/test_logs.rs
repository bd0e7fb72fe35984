//! Unit tests' view of the log: the lines written while a capture is this thread's subscriber.

use std::sync::Arc;

/// The log lines written while [`capture`]'s guard lives.
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<parking_lot::Mutex<Vec<u8>>>);

impl Logs {
    /// Everything written so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures this thread's log lines at `level` and above, without the terminal's colours
/// (`name=value` as written), until the guard is dropped. A test
/// that met a callsite first with no subscriber may have cached it as never wanted; the cache
/// is rebuilt so that this capture sees it.
pub(crate) fn capture(level: tracing::Level) -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    (logs, guard)
}
