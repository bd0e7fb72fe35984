//! [`Rows`]: a keyed collection of a tenant's state that can grow large with what clients send
//! (an Infinia app's accepted trades) and knows whether it changed. Each one carries a generation: taken
//! from one process-wide counter when it is made (new, read from a snapshot or the data
//! directory) and again at every mutable access, so one generation always names one content,
//! and a state replaced wholesale (a reset, an import, a restore) never repeats one. The data
//! directory writes a collection's rows only when its generation moved since it last wrote
//! them (`persist::sqlite`): a commit of a tenant holding half a million trade rows no longer
//! serializes them all when they did not change.
//!
//! Reads go through `Deref` to the map. Every mutable access (`DerefMut`: `insert`, `remove`,
//! `get_mut`, `entry`, `values_mut`, `iter_mut`, `clear`, or a `&mut` of the map handed on)
//! bumps the generation first, whether or not it then changes anything. A snapshot holds the
//! map as it is (serde-transparent); only while the data directory reads a tenant
//! ([`held_apart`]) does it serialize as `null`, its rows being read on their own.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The next generation any [`Rows`] of the process takes (0 is never given).
static NEXT: AtomicU64 = AtomicU64::new(1);

fn next_generation() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

thread_local! {
    static APART: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with every [`Rows`] serialized as `null` (on this thread): the data directory
/// serializes a section without its row collections, and each of those on its own only when
/// its generation moved.
pub fn held_apart<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            APART.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(APART.with(|c| c.replace(true)));
    f()
}

/// A map whose every mutable access moves its [`Rows::generation`].
#[derive(Debug)]
pub struct Rows<K, V> {
    map: BTreeMap<K, V>,
    generation: u64,
}

impl<K, V> Rows<K, V> {
    /// Names the content: equal generations, equal content (within the process).
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl<K, V> Default for Rows<K, V> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
            generation: next_generation(),
        }
    }
}

impl<K, V> From<BTreeMap<K, V>> for Rows<K, V> {
    fn from(map: BTreeMap<K, V>) -> Self {
        Self {
            map,
            generation: next_generation(),
        }
    }
}

impl<K, V> Deref for Rows<K, V> {
    type Target = BTreeMap<K, V>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl<K, V> DerefMut for Rows<K, V> {
    /// Every mutable access: the content may change, so it gets a new generation.
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.generation = next_generation();
        &mut self.map
    }
}

impl<'a, K, V> IntoIterator for &'a Rows<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::collections::btree_map::Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}

impl<K: Serialize, V: Serialize> Serialize for Rows<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match APART.with(Cell::get) {
            true => s.serialize_unit(),
            false => self.map.serialize(s),
        }
    }
}

impl<'de, K, V> Deserialize<'de> for Rows<K, V>
where
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::deserialize(d).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_mutable_access_moves_the_generation_and_no_read_does() {
        let mut rows: Rows<String, u32> = Rows::default();
        let mut seen = vec![rows.generation()];
        let mut moved = |rows: &Rows<String, u32>, what: &str| {
            assert!(
                !seen.contains(&rows.generation()),
                "{what}: generation {} again",
                rows.generation()
            );
            seen.push(rows.generation());
        };
        rows.insert("a".into(), 1);
        moved(&rows, "insert");
        *rows.get_mut("a").unwrap() += 1;
        moved(&rows, "get_mut");
        *rows.entry("b".into()).or_default() = 5;
        moved(&rows, "entry");
        rows.values_mut().for_each(|v| *v += 1);
        moved(&rows, "values_mut");
        rows.iter_mut().for_each(|(_, v)| *v += 1);
        moved(&rows, "iter_mut");
        rows.remove("a");
        moved(&rows, "remove");
        fn handed_on(map: &mut BTreeMap<String, u32>) {
            map.insert("c".into(), 3);
        }
        handed_on(&mut rows);
        moved(&rows, "a &mut of the map handed on");
        rows.clear();
        moved(&rows, "clear");
        rows.insert("d".into(), 4);
        moved(&rows, "insert");
        let at = rows.generation();
        // Reads leave it.
        assert_eq!(rows.get("d"), Some(&4));
        assert_eq!(rows.len(), 1);
        assert!(rows.contains_key("d"));
        assert_eq!(rows.values().sum::<u32>(), 4);
        assert_eq!((&rows).into_iter().count(), 1);
        assert_eq!(serde_json::to_string(&rows).unwrap(), r#"{"d":4}"#);
        assert_eq!(rows.generation(), at, "reads do not move it");
        // Another collection, or one read back, has a generation of its own.
        let back: Rows<String, u32> = serde_json::from_str(r#"{"d":4}"#).unwrap();
        assert_eq!(*back, *rows, "serde-transparent");
        assert_ne!(back.generation(), at);
        assert_ne!(Rows::<String, u32>::default().generation(), at);
    }

    #[test]
    fn held_apart_a_collection_serializes_as_null_and_only_then() {
        let mut rows: Rows<String, u32> = Rows::default();
        rows.insert("a".into(), 1);
        let apart = held_apart(|| serde_json::to_string(&rows).unwrap());
        assert_eq!(apart, "null");
        assert_eq!(serde_json::to_string(&rows).unwrap(), r#"{"a":1}"#);
    }
}
