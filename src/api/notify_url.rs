//! Where a partner's notifications go (a Whalet partner, an Infinia app, a Pockyt merchant): set
//! from the configuration or `--notify-url`, and changeable while the simulator serves.

use parking_lot::RwLock;

/// A partner's notification URL (None: its notifications are not sent).
#[derive(Debug, Default)]
pub struct NotifyUrl(RwLock<Option<String>>);

impl NotifyUrl {
    pub fn new(url: Option<String>) -> Self {
        Self(RwLock::new(url))
    }

    pub fn get(&self) -> Option<String> {
        self.0.read().clone()
    }

    pub fn set(&self, url: Option<String>) {
        *self.0.write() = url;
    }
}
