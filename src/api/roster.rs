//! What the tables of a surface's configured callers share (Whalet partners, Infinia apps, Pockyt
//! merchants): looked up by their id, listed in the order of their ids, and keys read from the
//! configuration.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{key_path_hint, key_text};

/// A surface's configured callers, by id.
pub struct Roster<T>(BTreeMap<String, Arc<T>>);

impl<T> Roster<T> {
    /// The callers, by id (a later one replaces an earlier one of the same id).
    pub fn new(by_id: impl IntoIterator<Item = (String, Arc<T>)>) -> Self {
        Self(by_id.into_iter().collect())
    }

    pub fn get(&self, id: &str) -> Option<Arc<T>> {
        self.0.get(id).cloned()
    }

    /// The caller of the first id (what describe mode calls as).
    pub fn first(&self) -> Option<Arc<T>> {
        self.0.values().next().cloned()
    }

    /// Every id, in order.
    pub fn ids(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    /// Every caller, in the order of their ids.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.values().map(|t| &**t)
    }
}

/// A key the configuration gives (its text, or `@path` of a file with it), read by `parse`; an
/// error, reading the file or the key, names the setting (`whalet.partners[partner_id =
/// "p1"].public_key: cannot read "keys/nope.pem": …`), and a value that names a file without
/// the `@` gets a hint.
pub fn key<K, E: std::fmt::Display>(
    value: &str,
    setting: &str,
    parse: impl FnOnce(&str) -> Result<K, E>,
) -> anyhow::Result<K> {
    let text = setting_text(value, setting)?;
    parse(&text).map_err(|e| {
        let hint = key_path_hint(value).unwrap_or_default();
        anyhow::anyhow!("{setting}: {e}{hint}")
    })
}

/// The text of a setting given inline or as `@path` ([`key_text`]), an error naming the setting.
pub fn setting_text(value: &str, setting: &str) -> anyhow::Result<String> {
    key_text(value).map_err(|e| anyhow::anyhow!("{setting}: {e}"))
}
