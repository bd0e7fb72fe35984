//! Where a key of a scenario is in its text, for the errors of the checks that run after
//! deserialising (`load.rs`). The text is read again with a seed that walks a [`Path`]
//! (`rule`, 2, `then`, `code`) and fails on the value the path reaches: the TOML or JSON
//! deserializer then names that value's position exactly as it names a format error. So one
//! path serves both formats, and nothing is found by searching the text, which finds the first
//! place the same words appear (another rule's, or inside the `description`).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step into a scenario document: a key of a table, or an item of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A path from the document's top to the value an error is about.
pub type Path = Vec<Step>;

/// The path to `key` of entry `index` of the list `list` (`rule`, `timeline`, `outage`).
pub fn entry_key(list: &str, index: usize, key: &str) -> Path {
    vec![
        Step::Key(list.to_owned()),
        Step::Index(index),
        Step::Key(key.to_owned()),
    ]
}

/// What the seed fails with once it reaches its value (any other error is not ours).
const HERE: &str = "scenario::locate: here";

/// Byte offset in `text` (TOML, or JSON when `json`) of the value at `path`, or of the deepest
/// table or list on the way when the path goes on past what the text has. None only when the
/// text does not parse, which a scenario already loaded never does.
pub fn offset(text: &str, json: bool, path: &[Step]) -> Option<usize> {
    if json {
        let mut de = serde_json::Deserializer::from_str(text);
        let e = Seek(path).deserialize(&mut de).err()?;
        (e.to_string().starts_with(HERE)).then(|| super::json_span::error_offset(text, &e))
    } else {
        let e = Seek(path)
            .deserialize(toml::Deserializer::new(text))
            .err()?;
        (e.message().trim() == HERE).then(|| e.span().map(|s| s.start))?
    }
}

/// Walks the rest of a path; fails on the value where it ends.
struct Seek<'p>(&'p [Step]);

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Seek<'_> {
    fn here<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(HERE))
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scenario document")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.here()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.here()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.here()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.here()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.here()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.here()
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (want, rest) = match self.0.split_first() {
            Some((Step::Key(k), rest)) => (Some(k.as_str()), rest),
            _ => (None, self.0),
        };
        while let Some(key) = map.next_key::<String>()? {
            if Some(key.as_str()) == want {
                map.next_value_seed(Seek(rest))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        self.here()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (want, rest) = match self.0.split_first() {
            Some((Step::Index(i), rest)) => (Some(*i), rest),
            _ => (None, self.0),
        };
        for index in 0.. {
            let item = if Some(index) == want {
                seq.next_element_seed(Seek(rest))?
            } else {
                seq.next_element::<IgnoredAny>()?.map(drop)
            };
            if item.is_none() {
                break;
            }
        }
        self.here()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Step {
        Step::Key(k.to_owned())
    }

    /// 1-based (line, column) of `path` in `text`.
    fn at(text: &str, path: &[Step]) -> (usize, usize) {
        let json = text.starts_with('{');
        let offset = offset(text, json, path).expect("located");
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    const TOML: &str = "name = \"t\"\ndescription = \"code = FAILURE\"\n\
        [[rule]]\nthen = { code = \"FAILURE\" }\n\
        [[rule]]\noperation = [\"a\", \"b\"]\n[rule.when]\namount = { min = \"5\" }\n\
        [rule.then]\ncode = \"FAILURE\"\n";

    #[test]
    fn finds_the_value_of_the_entry_not_the_first_same_text() {
        let rule = |i| vec![key("rule"), Step::Index(i)];
        let code = |i: usize| [rule(i), vec![key("then"), key("code")]].concat();
        assert_eq!(at(TOML, &code(0)), (4, 17));
        assert_eq!(at(TOML, &code(1)), (10, 8));
        assert_eq!(
            at(
                TOML,
                &[rule(1), vec![key("operation"), Step::Index(1)]].concat()
            ),
            (6, 19)
        );
        assert_eq!(
            at(TOML, &[rule(1), vec![key("when"), key("amount")]].concat()),
            (8, 10)
        );
        // A path past what the text has: the deepest table on the way.
        assert_eq!(at(TOML, &[rule(0), vec![key("nth")]].concat()), (3, 1));
    }

    #[test]
    fn finds_the_same_in_json() {
        let text = "{\"name\": \"t\", \"description\": \"\\\"FAILURE\\\"\",\n\"rule\": [\n\
            {\"then\": {\"code\": \"FAILURE\"}},\n\
            {\"operation\": \"a\", \"then\": {\"code\": \"FAILURE\"}}]}";
        let code = entry_key("rule", 1, "then");
        let code = [code, vec![key("code")]].concat();
        assert_eq!(at(text, &code), (4, 37));
        assert_eq!(at(text, &entry_key("rule", 1, "operation")), (4, 15));
    }
}
