//! The control plane's JSON view of state types whose serde form is the snapshot format: the
//! same values, with every struct field name in camelCase (`bulk_payments` → `bulkPayments`) and
//! an ISO-8601 UTC copy beside every epoch-ms time field (`createdAt` → `createdAtUtc`, as the
//! clock's `now`/`nowUtc`). Only struct field names are renamed: map keys (ids, account names,
//! anything a partner chose) go out as they are, because this serializer sees which is which —
//! rewriting keys of the finished JSON could not tell them apart. Snapshots and the data
//! directory keep using plain serde, so their format does not change.

use serde::ser::{self, Serialize};
use serde_json::{Map, Value};

use crate::clock::format;

/// `value` as the control plane shows it (see the module documentation).
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, serde_json::Error> {
    value.serialize(Camel)
}

/// `snake_case` → `camelCase` (names already in camelCase are unchanged).
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// True for a field holding an epoch-ms time (`createdAt`, `expiresAt`): the state types name
/// every instant `*_at` (a text time, like a trade's `tradeTime`, is a string and left alone).
fn is_time_field(camel_name: &str) -> bool {
    camel_name.ends_with("At")
}

struct Camel;

type Error = serde_json::Error;
type Plain = serde_json::value::Serializer;

/// Scalars hold no field names: they serialize as plain `serde_json` does.
macro_rules! plain_scalars {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method(self, v: $ty) -> Result<Value, Error> {
                ser::Serializer::$method(Plain {}, v)
            }
        )*
    };
}

impl ser::Serializer for Camel {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Variant<Seq>;
    type SerializeMap = MapOut;
    type SerializeStruct = Struct;
    type SerializeStructVariant = Variant<Struct>;

    plain_scalars! {
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
    }
    fn serialize_none(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Value, Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<Value, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<Value, Error> {
        let mut map = Map::new();
        map.insert(variant.to_owned(), v.serialize(Camel)?);
        Ok(Value::Object(map))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, Error> {
        Ok(Seq(Vec::with_capacity(len.unwrap_or(0).min(4096))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Seq>, Error> {
        Ok(Variant(variant, self.serialize_seq(Some(len))?))
    }
    /// A map of unknown length is how serde's derive writes a struct with a `#[serde(flatten)]`
    /// field (e.g. a user's `Reviewed` record): its keys are field names. Real maps (`BTreeMap`,
    /// `HashMap`) always tell their length.
    fn serialize_map(self, len: Option<usize>) -> Result<MapOut, Error> {
        Ok(MapOut {
            out: Struct(Map::new()),
            key: None,
            fields: len.is_none(),
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Struct, Error> {
        Ok(Struct(Map::new()))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Variant<Struct>, Error> {
        Ok(Variant(variant, Struct(Map::new())))
    }
}

struct Seq(Vec<Value>);

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.0.push(v.serialize(Camel)?);
        Ok(())
    }
}

/// The sequence forms (a list, a tuple, a tuple struct) all become a JSON array.
macro_rules! seq_forms {
    ($($form:ident :: $method:ident),*) => {$(
        impl ser::$form for Seq {
            type Ok = Value;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                self.push(v)
            }
            fn end(self) -> Result<Value, Error> {
                Ok(Value::Array(self.0))
            }
        }
    )*};
}

seq_forms!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

/// A map: keys as the plain serializer writes them (never renamed), values in this view; or the
/// fields of a struct with a flattened part (`fields`), named as [`Struct`] names them.
struct MapOut {
    out: Struct,
    key: Option<String>,
    fields: bool,
}

impl ser::SerializeMap for MapOut {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let key = match key.serialize(Plain {})? {
            Value::String(s) => s,
            other => other.to_string(),
        };
        self.key = Some(key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        let key = self.key.take().unwrap_or_default();
        if self.fields {
            return self.out.field(&key, v);
        }
        self.out.0.insert(key, v.serialize(Camel)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Object(self.out.0))
    }
}

/// A struct: field names in camelCase, with the UTC copy of each epoch-ms time.
struct Struct(Map<String, Value>);

impl Struct {
    fn field<T: Serialize + ?Sized>(&mut self, name: &str, v: &T) -> Result<(), Error> {
        let name = camel(name);
        let value = v.serialize(Camel)?;
        if is_time_field(&name) {
            let utc = match &value {
                Value::Number(n) => n.as_i64().map(|ms| Value::String(format::utc_z(ms))),
                Value::Null => Some(Value::Null),
                _ => None,
            };
            if let Some(utc) = utc {
                self.0.insert(format!("{name}Utc"), utc);
            }
        }
        self.0.insert(name, value);
        Ok(())
    }
}

/// An enum variant holding a tuple or a struct: `{variant: ...}`.
struct Variant<S>(&'static str, S);

impl<S> Variant<S> {
    fn wrap(variant: &str, inner: Value) -> Value {
        let mut map = Map::new();
        map.insert(variant.to_owned(), inner);
        Value::Object(map)
    }
}

impl ser::SerializeTupleVariant for Variant<Seq> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.1.push(v)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Self::wrap(self.0, Value::Array(self.1 .0)))
    }
}

/// The struct forms: a struct's fields become a JSON object, alone or as `{variant: {...}}`.
/// `|it| fields => value`: where `it`'s fields are collected, and the finished value.
macro_rules! struct_forms {
    ($($form:ident for $ty:ty: |$it:ident| $fields:expr => $end:expr;)*) => {$(
        impl ser::$form for $ty {
            type Ok = Value;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), Error> {
                let $it = self;
                $fields.field(key, v)
            }
            fn end(self) -> Result<Value, Error> {
                let $it = self;
                Ok($end)
            }
        }
    )*};
}

struct_forms! {
    SerializeStruct for Struct: |s| s => Value::Object(s.0);
    SerializeStructVariant for Variant<Struct>: |s| s.1 => Self::wrap(s.0, Value::Object(s.1 .0));
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    use super::*;

    #[derive(Serialize)]
    struct Inner {
        out_user_id: String,
        created_at: i64,
        finished_at: Option<i64>,
    }

    #[derive(Serialize)]
    struct Outer {
        bulk_payments: Vec<Inner>,
        by_shop: BTreeMap<String, Inner>,
        #[serde(rename = "alreadyCamel")]
        already: u8,
    }

    #[test]
    fn struct_fields_are_camel_case_and_map_keys_stay() {
        let inner = || Inner {
            out_user_id: "u_1".into(),
            created_at: 1_735_689_600_000,
            finished_at: None,
        };
        let outer = Outer {
            bulk_payments: vec![inner()],
            by_shop: BTreeMap::from([("shop_1".to_owned(), inner())]),
            already: 1,
        };
        let view = to_value(&outer).unwrap();
        let row = json!({"outUserId": "u_1", "createdAt": 1_735_689_600_000_i64,
            "createdAtUtc": "2025-01-01T00:00:00Z", "finishedAt": null, "finishedAtUtc": null});
        assert_eq!(
            view,
            json!({"bulkPayments": [row], "byShop": {"shop_1": row}, "alreadyCamel": 1})
        );
        // Plain serde (the snapshot format) is untouched.
        assert!(serde_json::to_value(&outer).unwrap()["bulk_payments"].is_array());
    }

    #[derive(Serialize)]
    struct Flattened {
        user_id: String,
        #[serde(flatten)]
        inner: Inner,
        by_shop: BTreeMap<String, u8>,
    }

    #[test]
    fn a_flattened_part_is_named_like_the_struct_it_is_in() {
        let value = Flattened {
            user_id: "U1".into(),
            inner: Inner {
                out_user_id: "m_1".into(),
                created_at: 0,
                finished_at: None,
            },
            by_shop: BTreeMap::from([("shop_1".to_owned(), 1)]),
        };
        assert_eq!(
            to_value(&value).unwrap(),
            json!({"userId": "U1", "outUserId": "m_1", "createdAt": 0,
                "createdAtUtc": "1970-01-01T00:00:00Z", "finishedAt": null,
                "finishedAtUtc": null, "byShop": {"shop_1": 1}})
        );
    }

    #[test]
    fn names_convert() {
        assert_eq!(camel("request_nos"), "requestNos");
        assert_eq!(camel("whalet_trade"), "whaletTrade");
        assert_eq!(camel("nowUtc"), "nowUtc");
        assert_eq!(camel("_private"), "private");
    }
}
