//! Repeated keys in JSON text. A JSON parser reads a key an object gives twice as one of its
//! values (serde_json: the last), so `{"amount": "1.00", "amount": "5000.00"}` would be read as
//! 5000.00 with the 1.00 unseen. What the simulator reads as JSON from outside (a control-plane
//! body, a snapshot document) is refused instead when an object repeats a key, at any depth
//! ([`repeated_key`]): the control plane and the snapshot reader call this one check, each
//! naming the place in its own way.

use std::cell::RefCell;
use std::collections::HashSet;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// One step of the path to a value: an object's key, or an array's element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// The path to the first key an object of `json` repeats, at any depth, ending with that key
/// (`[Key("items"), Index(2), Key("id")]`). None when no object repeats a key, and when `json`
/// is not JSON (saying what is wrong with it is the parser's part, run before this).
pub fn repeated_key(json: &[u8]) -> Option<Vec<Step>> {
    let walk = Walk {
        path: RefCell::new(Vec::new()),
        found: RefCell::new(None),
    };
    let mut de = serde_json::Deserializer::from_slice(json);
    // Only a repeated key (or text that is not JSON) stops the walk; `found` says which.
    let _ = KeyCheck(&walk).deserialize(&mut de);
    walk.found.into_inner()
}

/// `path` as the control plane names a body's field: each key quoted, an element by its index
/// (`"amount"`, `"params"."amount"`, `"items"[2]."id"`), cut at four echoes' length.
pub fn quoted(path: &[Step]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Key(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(&crate::text::echo(key).to_string());
            }
            Step::Index(i) => text.push_str(&format!("[{i}]")),
        }
    }
    crate::text::bound(&text, 4 * crate::text::ECHO_BYTES).into_owned()
}

/// The walk's state: where it is, and the path of the repeated key once found.
struct Walk {
    path: RefCell<Vec<Step>>,
    found: RefCell<Option<Vec<Step>>>,
}

/// Walks a JSON value, keeping nothing, and stops at the first repeated key of an object.
#[derive(Clone, Copy)]
struct KeyCheck<'a>(&'a Walk);

impl<'de> DeserializeSeed<'de> for KeyCheck<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyCheck<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            self.0.path.borrow_mut().push(Step::Index(i));
            let more = seq.next_element_seed(self)?;
            self.0.path.borrow_mut().pop();
            if more.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                let mut path = self.0.path.borrow().clone();
                path.push(Step::Key(key));
                *self.0.found.borrow_mut() = Some(path);
                return Err(serde::de::Error::custom("repeated key"));
            }
            self.0.path.borrow_mut().push(Step::Key(key.clone()));
            seen.insert(key);
            map.next_value_seed(self)?;
            self.0.path.borrow_mut().pop();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(json: &str) -> Option<String> {
        repeated_key(json.as_bytes()).map(|p| quoted(&p))
    }

    #[test]
    fn a_repeated_key_is_found_at_any_depth_and_named_by_its_path() {
        assert_eq!(at(r#"{"a": 1, "b": {"c": 2}, "d": [1, {"e": 3}]}"#), None);
        assert_eq!(at(r#"{"a": 1, "a": 2}"#).as_deref(), Some(r#""a""#));
        assert_eq!(
            at(r#"{"p": {"x": 1, "y": 2, "x": 3}}"#).as_deref(),
            Some(r#""p"."x""#)
        );
        assert_eq!(
            at(r#"{"items": [{}, {"id": 1}, {"id": 1, "id": 2}]}"#).as_deref(),
            Some(r#""items"[2]."id""#)
        );
        // The same key in two objects is no repeat; neither is text that is not JSON.
        assert_eq!(at(r#"[{"id": 1}, {"id": 2}]"#), None);
        assert_eq!(at(r#"{"a": 1, "b""#), None);
        assert_eq!(
            repeated_key(br#"{"t": {"k": [0, {"z": 1, "z": 1}]}}"#),
            Some(vec![
                Step::Key("t".into()),
                Step::Key("k".into()),
                Step::Index(1),
                Step::Key("z".into())
            ])
        );
    }
}
