//! Dotted field paths in a JSON body: reading, filling, moving and rewriting status words.
//!
//! A path is a list of object keys separated by `.` (`payee.bankName`). Where a step meets an
//! array, the rest of the path applies to every element, so `records.amount` names the `amount`
//! of each record. A rename moves a field within the deepest object both paths share (a field
//! never moves out of its array element).

use serde_json::{Map, Value};

/// Splits a path into its keys, or says why it is not one.
pub fn parse(path: &str) -> Result<Vec<&str>, String> {
    let keys: Vec<&str> = path.split('.').collect();
    if path.is_empty()
        || keys.iter().any(|k| {
            k.is_empty()
                || k.chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '[' || c == ']')
        })
    {
        return Err(format!(
            "{path:?} is not a field path (keys joined by `.`, no empty key, no spaces, brackets or control characters; an array's field is `list.field`)"
        ));
    }
    Ok(keys)
}

fn keys(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

/// The first path among `paths` that is missing (absent or null) from `body`: in every
/// element where the path crosses an array.
pub fn first_missing<'a>(body: &Value, paths: &'a [String]) -> Option<&'a str> {
    paths
        .iter()
        .find(|p| missing(body, &keys(p)))
        .map(String::as_str)
}

fn missing(v: &Value, path: &[&str]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return v.is_null();
    };
    match v {
        Value::Array(items) => items.iter().any(|i| missing(i, path)),
        Value::Object(map) => map.get(*first).is_none_or(|c| missing(c, rest)),
        _ => true,
    }
}

/// Sets `path` to `value` where it is absent or null (objects on the way are created).
/// Returns whether anything was filled.
pub fn fill(v: &mut Value, path: &str, value: &Value) -> bool {
    place(v, &keys(path), value)
}

/// What keeps a fixed field from being set in a body without a value lost ([`set_new`]).
#[derive(Debug, Clone, PartialEq)]
pub enum InTheWay {
    /// The body already has a value (not null) at the path: it would be replaced.
    Taken,
    /// The value at this path (as an overlay writes it) is not an object (a string, a number,
    /// an array of them), so the field cannot go under it.
    Plain(String),
}

/// Sets `path` to `value` (objects on the way are created; where the path crosses an array, in
/// every element) only where nothing is in the way: a value already there (not null) would be
/// replaced, and one on the way that is not an object cannot hold the field. Then the body is
/// left as it was and what is in the way is answered. Otherwise answers whether anything was
/// set.
pub fn set_new(v: &mut Value, path: &str, value: &Value) -> Result<bool, InTheWay> {
    let keys = keys(path);
    match in_the_way(v, &keys, 0) {
        Some(Blocker::Taken) => Err(InTheWay::Taken),
        Some(Blocker::Plain(depth)) => Err(InTheWay::Plain(keys[..depth].join("."))),
        None => Ok(place(v, &keys, value)),
    }
}

/// What [`set_new`] meets: a value at the path, or a plain value after `n` of its keys.
enum Blocker {
    Taken,
    Plain(usize),
}

/// What [`set_new`] would meet at `path` of `v`, with `depth` keys of the whole path behind.
fn in_the_way(v: &Value, path: &[&str], depth: usize) -> Option<Blocker> {
    let (first, rest) = path.split_first()?;
    match v {
        Value::Array(items) => items.iter().find_map(|i| in_the_way(i, path, depth)),
        Value::Object(map) => match map.get(*first) {
            None | Some(Value::Null) => None,
            Some(_) if rest.is_empty() => Some(Blocker::Taken),
            Some(child) => in_the_way(child, rest, depth + 1),
        },
        _ => Some(Blocker::Plain(depth)),
    }
}

fn place(v: &mut Value, path: &[&str], value: &Value) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    match v {
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |acc, i| place(i, path, value) | acc),
        Value::Object(map) => {
            if rest.is_empty() {
                if map.get(*first).is_some_and(|c| !c.is_null()) {
                    return false;
                }
                map.insert((*first).to_owned(), value.clone());
                return true;
            }
            let child = map
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if child.is_null() {
                *child = Value::Object(Map::new());
            }
            place(child, rest, value)
        }
        _ => false,
    }
}

/// A rename that cannot be applied to a body: the value in the way of its target is not an
/// object (a string, a number, an array), so the field has nowhere to go; or the body already
/// has a value at the target (`taken`), which the field would replace. The body is left as it
/// was ([`rename_all`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Blocked {
    /// The rename's source and target, as the overlay writes them.
    pub from: String,
    pub to: String,
    /// The path (as an overlay writes it) of the value in the way: the target itself when
    /// `taken`.
    pub parent: String,
    /// Whether the target already holds a value (not null) that no rename moves away.
    pub taken: bool,
}

/// One step to a place in a body: an object's key or an array's element.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// How many leading keys a move from `from` to `to` shares (the deepest object both paths
/// share, where the field moves; see the module's note on arrays).
pub fn shared_len(from: &[&str], to: &[&str]) -> usize {
    from.iter()
        .zip(to)
        .take(from.len().min(to.len()).saturating_sub(1))
        .take_while(|(a, b)| a == b)
        .count()
}

/// Moves every `from` to its `to` (see the module's note on arrays) at once, so that the result
/// does not depend on the order the renames are listed in: every value is taken first (a source
/// inside another source before it, so the outer field moves without it), then each is placed
/// (shallower targets first, so a target inside another one goes into the field moved there).
/// A chain (`a` → `b`, `b` → `c`), a swap (`a` ↔ `b`) and a target under a field renamed away
/// (`userId` → `uid`, `outUserId` → `userId.x`) mean what they say.
///
/// A field inside another renamed one whose target is inside that one's target (`accounts` →
/// `list` with `accounts.createdAt` → `list.createTime`) stays in its object, an array's element
/// too: it is renamed within the object first (`accounts.createdAt` → `accounts.createTime`),
/// then the object moves with it.
///
/// The targets must differ, and no rename may move a field inside another rename's source (the
/// overlay's load checks both). A target whose parent holds a value that is not an object, or
/// that already holds a value no rename takes away, cannot be placed: nothing is renamed then
/// (the body is as it was) and the rename is answered as [`Blocked`], never a value dropped or
/// replaced. Answers whether a field moved.
pub fn rename_all<'a>(
    v: &mut Value,
    renames: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<bool, Blocked> {
    let renames: Vec<(&str, &str)> = renames.into_iter().collect();
    rename_set(v, &renames)
}

/// [`rename_all`] of a list.
fn rename_set(v: &mut Value, renames: &[(&str, &str)]) -> Result<bool, Blocked> {
    let (inner, outer): (Vec<_>, Vec<_>) = renames
        .iter()
        .map(|&(from, to)| match within_renamed(from, to, renames) {
            Some(local) => (Some((from, to, local)), None),
            None => (None, Some((from, to))),
        })
        .unzip();
    let inner: Vec<(&str, &str, String)> = inner.into_iter().flatten().collect();
    if inner.is_empty() {
        return rename_at_once(v, renames.iter().copied());
    }
    let before = v.clone();
    let local: Vec<(&str, &str)> = inner.iter().map(|(f, _, l)| (*f, l.as_str())).collect();
    let moved = match rename_set(v, &local) {
        Ok(moved) => moved,
        Err(blocked) => {
            // Named as the overlay writes the rename.
            let (from, to, _) = inner
                .iter()
                .find(|(f, _, _)| *f == blocked.from)
                .cloned()
                .unwrap_or_default();
            return Err(Blocked {
                from: from.to_owned(),
                to: to.to_owned(),
                ..blocked
            });
        }
    };
    match rename_at_once(v, outer.into_iter().flatten()) {
        Ok(more) => Ok(moved | more),
        Err(blocked) => {
            *v = before;
            Err(blocked)
        }
    }
}

/// For a rename `from` → `to` of a field inside another rename's source whose target holds
/// `to`, the target within the source's own object: `accounts.createTime` for
/// `accounts.createdAt` → `list.createTime` beside `accounts` → `list`. Of several such, the
/// outermost: the renames within it are then applied as one set, where the same holds again.
pub fn within_renamed(from: &str, to: &str, renames: &[(&str, &str)]) -> Option<String> {
    let under = |path: &str, outer: &str| {
        path.len() > outer.len() && path.starts_with(outer) && path.as_bytes()[outer.len()] == b'.'
    };
    renames
        .iter()
        .filter(|(o_from, o_to)| under(from, o_from) && under(to, o_to))
        .min_by_key(|(o_from, _)| o_from.len())
        .map(|(o_from, o_to)| format!("{o_from}{}", &to[o_to.len()..]))
}

/// [`rename_all`] of renames none of which is inside another's source and target.
fn rename_at_once<'a>(
    v: &mut Value,
    renames: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<bool, Blocked> {
    let renames: Vec<(Vec<&str>, Vec<&str>)> = renames
        .into_iter()
        .map(|(from, to)| (keys(from), keys(to)))
        .collect();
    if renames.is_empty() {
        return Ok(false);
    }
    let before = v.clone();
    // Take: deepest sources first.
    let mut order: Vec<usize> = (0..renames.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(renames[i].0.len()));
    let mut taken: Vec<(usize, Vec<Step>, Value)> = Vec::new();
    for i in order {
        let (from, to) = &renames[i];
        let shared = shared_len(from, to);
        let mut places = Vec::new();
        objects_at(v, &from[..shared], &mut Vec::new(), &mut places);
        for place in places {
            if let Some(value) = at_mut(v, &place).and_then(|o| take(o, &from[shared..])) {
                taken.push((i, place, value));
            }
        }
    }
    if taken.is_empty() {
        return Ok(false);
    }
    // Place: shallowest targets first (a stable sort keeps each rename's places in order).
    taken.sort_by_key(|(i, _, _)| renames[*i].1.len());
    for (i, place, value) in taken {
        let (from, to) = &renames[i];
        let shared = shared_len(from, to);
        let put = match at_mut(v, &place) {
            Some(object) => put(object, &to[shared..], value),
            None => Err(Misplaced::Plain(0)),
        };
        if let Err(why) = put {
            *v = before;
            let (parent, taken) = match why {
                Misplaced::Plain(depth) => (to[..(shared + depth).min(to.len())].join("."), false),
                Misplaced::Taken => (to.join("."), true),
            };
            return Err(Blocked {
                from: from.join("."),
                to: to.join("."),
                parent,
                taken,
            });
        }
    }
    Ok(true)
}

/// The places of the objects `path` leads to from `v` (every element where it crosses an
/// array), appended to `out`; `at` is the place of `v`.
fn objects_at(v: &Value, path: &[&str], at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(Step::Index(i));
                objects_at(item, path, at, out);
                at.pop();
            }
        }
        Value::Object(map) => match path.split_first() {
            None => out.push(at.clone()),
            Some((first, rest)) => {
                if let Some(child) = map.get(*first) {
                    at.push(Step::Key((*first).to_owned()));
                    objects_at(child, rest, at, out);
                    at.pop();
                }
            }
        },
        _ => {}
    }
}

fn at_mut<'v>(v: &'v mut Value, place: &[Step]) -> Option<&'v mut Value> {
    place.iter().try_fold(v, |v, step| match step {
        Step::Key(k) => v.as_object_mut()?.get_mut(k.as_str()),
        Step::Index(i) => v.as_array_mut()?.get_mut(*i),
    })
}

/// Why [`put`] could not place a value.
enum Misplaced {
    /// The first `n` keys lead to a value that is not an object.
    Plain(usize),
    /// A value (not null) is already at the path.
    Taken,
}

/// Sets `path` (object keys only) of the object `v` to `value`, creating objects on the way
/// where nothing (or null) is; refused when the first `n` keys lead to a value that is not an
/// object (an array too: a field is not copied into every element), or a value is already there
/// (it would be replaced).
fn put(v: &mut Value, path: &[&str], value: Value) -> Result<(), Misplaced> {
    let Some((last, parents)) = path.split_last() else {
        return Err(Misplaced::Plain(0));
    };
    let mut object = v;
    for (depth, key) in parents.iter().enumerate() {
        let Value::Object(map) = object else {
            return Err(Misplaced::Plain(depth));
        };
        let child = map
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if child.is_null() {
            *child = Value::Object(Map::new());
        }
        object = child;
    }
    match object {
        Value::Object(map) if map.get(*last).is_some_and(|there| !there.is_null()) => {
            Err(Misplaced::Taken)
        }
        Value::Object(map) => {
            map.insert((*last).to_owned(), value);
            Ok(())
        }
        _ => Err(Misplaced::Plain(parents.len())),
    }
}

/// Whether `path` holds a value (not null) in `body`: in some element where it crosses an
/// array.
pub fn present(body: &Value, path: &str) -> bool {
    !missing_any(body, &keys(path))
}

fn missing_any(v: &Value, path: &[&str]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return v.is_null();
    };
    match v {
        Value::Array(items) => items.iter().all(|i| missing_any(i, path)),
        Value::Object(map) => map.get(*first).is_none_or(|c| missing_any(c, rest)),
        _ => true,
    }
}

fn take(v: &mut Value, path: &[&str]) -> Option<Value> {
    let (first, rest) = path.split_first()?;
    let map = v.as_object_mut()?;
    if rest.is_empty() {
        return map.shift_remove(*first);
    }
    take(map.get_mut(*first)?, rest)
}

/// Every path of `v` as an overlay names it: each object key, joined by `.`, arrays crossed
/// (so `records.amount` for the `amount` of any record). Paths of objects are included too,
/// and each array's path once more with the [`ARRAY`] mark (`records[]`), so that a rename
/// that would take a field out of its array element can be refused ([`crosses_array`]).
pub fn all_paths(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    fn walk(v: &Value, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Array(items) => {
                if !prefix.is_empty() {
                    out.insert(format!("{prefix}{ARRAY}"));
                }
                items.iter().for_each(|i| walk(i, prefix, out));
            }
            Value::Object(map) => {
                for (key, child) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(child, &path, out);
                    out.insert(path);
                }
            }
            _ => {}
        }
    }
    walk(v, "", out);
}

/// The mark of an array's path in a list of paths ([`all_paths`]): not a path an overlay
/// can write ([`parse`] refuses brackets).
pub const ARRAY: &str = "[]";

/// The arrays among `paths` (marked with [`ARRAY`]), as paths.
pub fn arrays(paths: &[String]) -> Vec<&str> {
    paths.iter().filter_map(|p| p.strip_suffix(ARRAY)).collect()
}

/// The array among `arrays` that a move from `from` to `to` would cross: one that holds
/// either path but is not inside the deepest object both share (a field never leaves its
/// array element, so such a rename would find nothing, or copy one value into every element).
pub fn crosses_array<'a>(from: &str, to: &str, arrays: &[&'a str]) -> Option<&'a str> {
    let (from, to) = (keys(from), keys(to));
    let shared = from
        .iter()
        .zip(&to)
        .take(from.len().min(to.len()) - 1)
        .take_while(|(a, b)| a == b)
        .count();
    arrays.iter().copied().find(|array| {
        let array = keys(array);
        let holds = |path: &[&str]| path.len() > array.len() && path.starts_with(&array);
        (holds(&from) || holds(&to)) && array.len() > shared
    })
}

/// Whether a key holds a status word: `status`, or a key ending in `Status` or `_status`.
pub fn is_status_key(key: &str) -> bool {
    key == "status" || key.ends_with("Status") || key.ends_with("_status")
}

/// Rewrites status words: every string value of a status key (at any depth) that is a key of
/// `words` becomes its value. Returns whether anything changed.
pub fn rewrite_status(v: &mut Value, words: &dyn Fn(&str) -> Option<String>) -> bool {
    match v {
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |acc, i| rewrite_status(i, words) | acc),
        Value::Object(map) => {
            let mut changed = false;
            for (key, child) in map.iter_mut() {
                if is_status_key(key) {
                    if let Some(new) = child.as_str().and_then(words) {
                        *child = Value::String(new);
                        changed = true;
                        continue;
                    }
                }
                changed |= rewrite_status(child, words);
            }
            changed
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renames_move_fields_inside_array_elements_and_across_objects() {
        let mut v = json!({"records": [{"amt": 1}, {"amt": 2}], "payee": {"name": "a"}});
        assert_eq!(
            rename_all(&mut v, [("records.amt", "records.amount")]),
            Ok(true)
        );
        assert_eq!(
            rename_all(&mut v, [("payee.name", "beneficiary.fullName")]),
            Ok(true)
        );
        assert_eq!(
            v,
            json!({"records": [{"amount": 1}, {"amount": 2}], "payee": {}, "beneficiary": {"fullName": "a"}})
        );
        assert_eq!(rename_all(&mut v, [("nothing.here", "x")]), Ok(false));
    }

    /// A rename in one array element is fine; one into or out of an array is not.
    #[test]
    fn a_rename_across_an_array_is_found() {
        let arrays = ["records", "records.items"];
        assert_eq!(crosses_array("records.a", "records.b", &arrays), None);
        assert_eq!(crosses_array("payee.a", "beneficiary.b", &arrays), None);
        assert_eq!(crosses_array("records.a", "a", &arrays), Some("records"));
        assert_eq!(
            crosses_array("total", "records.total", &arrays),
            Some("records")
        );
        assert_eq!(
            crosses_array("records.items.a", "records.a", &arrays),
            Some("records.items")
        );
        assert_eq!(crosses_array("records", "list", &arrays), None);
        assert!(parse("records[0].a").is_err());
    }

    /// A chain and a swap mean the same whatever the order the renames are listed in.
    #[test]
    fn renames_apply_all_at_once() {
        let mut v = json!({"a": 1, "email": 2, "phone": 3, "r": [{"x": 1, "y": 2}]});
        assert_eq!(
            rename_all(&mut v, [("a", "email"), ("email", "phone"), ("phone", "a")]),
            Ok(true)
        );
        assert_eq!(
            v,
            json!({"email": 1, "phone": 2, "a": 3, "r": [{"x": 1, "y": 2}]})
        );
        assert_eq!(
            rename_all(&mut v, [("r.y", "r.x"), ("r.x", "r.y")]),
            Ok(true)
        );
        assert_eq!(v["r"], json!([{"x": 2, "y": 1}]));
    }

    /// A target under a field that is renamed away gets its value whatever the order of the
    /// renames (the field in the way is taken first); a source inside another source is taken
    /// first, so the outer field moves without it.
    #[test]
    fn a_target_under_a_field_renamed_away_keeps_its_value_in_any_order() {
        let body = json!({"status": "PROCESSING", "userId": "U1", "outUserId": "m-1"});
        for renames in [
            [("outUserId", "userId.x"), ("userId", "uid")],
            [("userId", "uid"), ("outUserId", "userId.x")],
        ] {
            let mut v = body.clone();
            assert_eq!(rename_all(&mut v, renames), Ok(true));
            assert_eq!(
                v,
                json!({"status": "PROCESSING", "uid": "U1", "userId": {"x": "m-1"}}),
                "{renames:?}"
            );
        }
        let body = json!({"legalEntity": {"name": "A", "type": "T"}});
        for renames in [
            [
                ("legalEntity", "company"),
                ("legalEntity.name", "company.legalName"),
            ],
            [
                ("legalEntity.name", "company.legalName"),
                ("legalEntity", "company"),
            ],
        ] {
            let mut v = body.clone();
            assert_eq!(rename_all(&mut v, renames), Ok(true));
            assert_eq!(
                v,
                json!({"company": {"type": "T", "legalName": "A"}}),
                "{renames:?}"
            );
        }
    }

    /// A target under a value that is not an object is not placed, and nothing is lost: the
    /// body is left as it was and the rename is named.
    #[test]
    fn a_target_under_a_plain_value_leaves_the_body_as_it_was() {
        let body = json!({"status": "PROCESSING", "userId": "U1", "r": [{"a": 1, "t": [1]}]});
        let mut v = body.clone();
        let blocked = rename_all(&mut v, [("userId", "status.id"), ("r.a", "r.b")]);
        assert_eq!(
            blocked,
            Err(Blocked {
                from: "userId".into(),
                to: "status.id".into(),
                parent: "status".into(),
                taken: false,
            })
        );
        assert_eq!(v, body);
        let blocked = rename_all(&mut v, [("r.a", "r.t.a")]).expect_err("blocked");
        assert_eq!(blocked.parent, "r.t");
        assert_eq!(v, body);
        assert!(parse("a.\u{1}0").is_err());
    }

    /// A fixed field is set where nothing is (in every array element), never over a value
    /// there or under a plain one: the body is left as it was and what is in the way named.
    #[test]
    fn a_fixed_field_is_set_only_where_nothing_is_in_the_way() {
        let body = json!({"id": "U1", "n": null, "r": [{"a": 1}, {"a": 2}], "tags": ["x"]});
        let mut v = body.clone();
        assert_eq!(set_new(&mut v, "id", &json!("F")), Err(InTheWay::Taken));
        assert_eq!(set_new(&mut v, "r.a", &json!(0)), Err(InTheWay::Taken));
        assert_eq!(
            set_new(&mut v, "id.x", &json!(0)),
            Err(InTheWay::Plain("id".into()))
        );
        assert_eq!(
            set_new(&mut v, "tags.x", &json!(0)),
            Err(InTheWay::Plain("tags".into()))
        );
        assert_eq!(v, body);
        assert_eq!(set_new(&mut v, "n", &json!(1)), Ok(true));
        assert_eq!(set_new(&mut v, "r.b", &json!(3)), Ok(true));
        assert_eq!(set_new(&mut v, "meta.v", &json!(4)), Ok(true));
        assert_eq!(
            v,
            json!({"id": "U1", "n": 1, "r": [{"a": 1, "b": 3}, {"a": 2, "b": 3}], "tags": ["x"], "meta": {"v": 4}})
        );
    }

    #[test]
    fn missing_fill_and_status_words() {
        let mut v =
            json!({"a": {"b": null}, "list": [{"status": "SUCCESS"}, {"payStatus": "FAILED"}]});
        let required = vec!["a.c".to_owned(), "a.b".to_owned()];
        assert_eq!(first_missing(&v, &required), Some("a.c"));
        assert!(fill(&mut v, "a.b", &json!("x")));
        assert!(!fill(&mut v, "a.b", &json!("y")));
        assert_eq!(v["a"]["b"], "x");
        let words = |w: &str| (w == "SUCCESS").then(|| "SUCCEEDED".to_owned());
        assert!(rewrite_status(&mut v, &words));
        assert_eq!(v["list"][0]["status"], "SUCCEEDED");
        assert_eq!(v["list"][1]["payStatus"], "FAILED");
        assert!(parse("a..b").is_err());
        let mut all = std::collections::BTreeSet::new();
        all_paths(
            &json!({"r": [{"x": 1}, {"y": {"z": 2}}], "k": "v"}),
            &mut all,
        );
        assert_eq!(
            all.into_iter().collect::<Vec<_>>(),
            ["k", "r", "r.x", "r.y", "r.y.z", "r[]"]
        );
        assert!(parse("a b").is_err());
    }
}
