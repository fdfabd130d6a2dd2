//! Canonical JSON: compact, object keys sorted by their bytes at every level — the bytes of
//! `serde_json::to_value` followed by `serde_json::to_vec`, written straight from the value
//! without building a `serde_json::Value` (which allocates a map and a key for every object and
//! is most of the cost of encoding a large event).
//!
//! Each object's members are written in place as they come; when their keys did not come in order
//! (or one came twice), they are moved aside and copied back in key order, a key given twice
//! keeping its last value, as a map does.

use std::fmt::Display;

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;

use serde::ser::{self, Serialize};

#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(message: T) -> Self {
        Error(message.to_string())
    }
}

/// The canonical JSON of `value`.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(128);
    value.serialize(Writer { out: &mut out })?;
    Ok(out)
}

fn string(out: &mut Vec<u8>, text: &str) {
    serde_json::to_writer(out, text).expect("writing to memory cannot fail");
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// An object being written: each member's key and where its value is in `scratch`.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    /// Where the members begin in `out` (just after the `{`).
    start: usize,
    /// Each member's key and where its `"key":value` text is in `out`.
    members: Vec<(Cow<'static, str>, Range<usize>)>,
    /// The key of a map entry whose value is still to come.
    key: Option<String>,
    /// Whether the members so far came in key order, each key once (then nothing moves).
    in_order: bool,
    variant: bool,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>, variant: Option<&'static str>, members: usize) -> Self {
        if let Some(variant) = variant {
            out.push(b'{');
            string(out, variant);
            out.push(b':');
        }
        out.push(b'{');
        Object {
            start: out.len(),
            out,
            members: Vec::with_capacity(members),
            key: None,
            in_order: true,
            variant: variant.is_some(),
        }
    }

    fn member<T: Serialize + ?Sized>(
        &mut self,
        key: Cow<'static, str>,
        value: &T,
    ) -> Result<(), Error> {
        if let Some((last, _)) = self.members.last() {
            self.in_order &= last.as_bytes() < key.as_bytes();
            self.out.push(b',');
        }
        let start = self.out.len();
        string(self.out, &key);
        self.out.push(b':');
        value.serialize(Writer { out: self.out })?;
        self.members.push((key, start..self.out.len()));
        Ok(())
    }

    fn finish(mut self) {
        if !self.in_order {
            self.put_in_order();
        }
        self.out.push(b'}');
        if self.variant {
            self.out.push(b'}');
        }
    }

    /// Rewrites the members in key order, a key given twice keeping its last value (as a map
    /// does); the sort is stable, so of equal keys the last written comes last.
    fn put_in_order(&mut self) {
        self.members
            .sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        MEMBERS.with_borrow_mut(|written| {
            written.clear();
            written.extend_from_slice(&self.out[self.start..]);
            self.out.truncate(self.start);
            let mut first = true;
            for (index, (key, range)) in self.members.iter().enumerate() {
                if self
                    .members
                    .get(index + 1)
                    .is_some_and(|(next, _)| next == key)
                {
                    continue;
                }
                if !first {
                    self.out.push(b',');
                }
                first = false;
                let range = range.start - self.start..range.end - self.start;
                self.out.extend_from_slice(&written[range]);
            }
            if written.capacity() > MEMBERS_KEPT_BYTES {
                *written = Vec::new();
            }
        });
    }
}

thread_local! {
    /// The members of an object being put in order, moved aside (one buffer a thread: an object's
    /// members are all written before it is put in order).
    static MEMBERS: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of moved members larger than this is freed after use rather than kept.
const MEMBERS_KEPT_BYTES: usize = 1 << 20;

struct Array<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    variant: bool,
}

impl<'a> Array<'a> {
    fn new(out: &'a mut Vec<u8>, variant: Option<&'static str>) -> Self {
        if let Some(variant) = variant {
            out.push(b'{');
            string(out, variant);
            out.push(b':');
        }
        out.push(b'[');
        Array {
            out,
            first: true,
            variant: variant.is_some(),
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Writer { out: self.out })
    }

    fn finish(self) {
        self.out.push(b']');
        if self.variant {
            self.out.push(b'}');
        }
    }
}

macro_rules! integer {
    ($($method:ident: $type:ty),*) => {
        $(fn $method(self, value: $type) -> Result<(), Error> {
            self.out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
            Ok(())
        })*
    };
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    integer!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);

    fn serialize_i128(self, value: i128) -> Result<(), Error> {
        i64::try_from(value)
            .map_err(|_| Error("number out of range".into()))
            .and_then(|value| self.serialize_i64(value))
    }

    fn serialize_u128(self, value: u128) -> Result<(), Error> {
        u64::try_from(value)
            .map_err(|_| Error("number out of range".into()))
            .and_then(|value| self.serialize_u64(value))
    }

    fn serialize_bool(self, value: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_f32(self, value: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(value))
    }

    fn serialize_f64(self, value: f64) -> Result<(), Error> {
        if value.is_finite() {
            serde_json::to_writer(self.out, &value).map_err(|e| Error(e.to_string()))
        } else {
            self.serialize_unit()
        }
    }

    fn serialize_char(self, value: char) -> Result<(), Error> {
        string(self.out, value.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, value: &str) -> Result<(), Error> {
        string(self.out, value);
        Ok(())
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<(), Error> {
        let mut array = Array::new(self.out, None);
        for byte in value {
            array.element(byte)?;
        }
        array.finish();
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.out.push(b'{');
        string(self.out, variant);
        self.out.push(b':');
        value.serialize(Writer { out: self.out })?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Array<'a>, Error> {
        Ok(Array::new(self.out, None))
    }

    fn serialize_tuple(self, _: usize) -> Result<Array<'a>, Error> {
        Ok(Array::new(self.out, None))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Array<'a>, Error> {
        Ok(Array::new(self.out, None))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Array<'a>, Error> {
        Ok(Array::new(self.out, Some(variant)))
    }

    fn serialize_map(self, members: Option<usize>) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, None, members.unwrap_or(0)))
    }

    fn serialize_struct(self, _: &'static str, members: usize) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, None, members))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        members: usize,
    ) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, Some(variant), members))
    }
}

macro_rules! array_impl {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }

            fn end(self) -> Result<(), Error> {
                self.finish();
                Ok(())
            }
        }
    };
}

array_impl!(SerializeSeq, serialize_element);
array_impl!(SerializeTuple, serialize_element);
array_impl!(SerializeTupleStruct, serialize_field);
array_impl!(SerializeTupleVariant, serialize_field);

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeyWriter)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a map value without a key".into()))?;
        self.member(Cow::Owned(key), value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish();
        Ok(())
    }
}

macro_rules! struct_impl {
    ($trait:ident) => {
        impl ser::$trait for Object<'_> {
            type Ok = ();
            type Error = Error;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.member(Cow::Borrowed(key), value)
            }

            fn end(self) -> Result<(), Error> {
                self.finish();
                Ok(())
            }
        }
    };
}

struct_impl!(SerializeStruct);
struct_impl!(SerializeStructVariant);

/// A map key as JSON object keys are: strings as they are, numbers and characters as text.
struct KeyWriter;

macro_rules! key_as_text {
    ($($method:ident: $type:ty),*) => {
        $(fn $method(self, value: $type) -> Result<String, Error> {
            Ok(value.to_string())
        })*
    };
}

macro_rules! key_refused {
    ($($method:ident($($arg:ty),*)),*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<String, Error> {
            Err(Error("a map key must be a string".into()))
        })*
    };
}

impl ser::Serializer for KeyWriter {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    key_as_text!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128, serialize_char: char, serialize_str: &str);

    key_refused!(
        serialize_bool(bool),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str)
    );

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_owned())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Error> {
        Err(Error("a map key must be a string".into()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        Err(Error("a map key must be a string".into()))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Error("a map key must be a string".into()))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Error("a map key must be a string".into()))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Error("a map key must be a string".into()))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error("a map key must be a string".into()))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Error("a map key must be a string".into()))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(Error("a map key must be a string".into()))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error("a map key must be a string".into()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use proptest::prelude::*;
    use serde::Serialize;

    use super::to_vec;

    /// What the ledger used before: a `serde_json::Value`, then its bytes.
    fn through_value<T: Serialize>(value: &T) -> Vec<u8> {
        serde_json::to_vec(&serde_json::to_value(value).unwrap()).unwrap()
    }

    #[derive(Serialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Tagged {
        Recorded {
            zeta: u64,
            alpha: Option<String>,
            nested: Box<Inner>,
            list: Vec<Inner>,
        },
        Empty,
    }

    #[derive(Serialize)]
    struct Inner {
        b: i64,
        a: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        map: BTreeMap<u32, bool>,
        by_name: HashMap<String, Vec<u8>>,
        tuple: (u8, char, f64),
        variant: Plain,
        bytes: serde_bytes_like::Bytes,
    }

    #[derive(Serialize)]
    enum Plain {
        Unit,
        Newtype(i32),
        Tuple(u8, u8),
        Struct { y: u8, x: u8 },
    }

    /// Bytes serialised as bytes (as `serde_bytes` would), without the crate.
    mod serde_bytes_like {
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    fn inner(text: String, number: i64, variant: u8) -> Inner {
        Inner {
            b: number,
            a: text.clone(),
            skipped: None,
            map: (0..u32::from(variant % 4))
                .map(|k| (k * 7, k % 2 == 0))
                .collect(),
            by_name: [
                (text.clone(), vec![variant]),
                (format!("{text}x"), Vec::new()),
            ]
            .into_iter()
            .collect(),
            tuple: (
                variant,
                text.chars().next().unwrap_or('"'),
                f64::from(variant) / 3.0,
            ),
            variant: match variant % 4 {
                0 => Plain::Unit,
                1 => Plain::Newtype(i32::from(variant) - 100),
                2 => Plain::Tuple(variant, 1),
                _ => Plain::Struct { y: variant, x: 2 },
            },
            bytes: serde_bytes_like::Bytes(text.bytes().take(3).collect()),
        }
    }

    proptest! {
        #[test]
        fn the_bytes_are_those_of_a_sorted_value(
            text in "\\PC{0,12}|[\\x00-\\x1f\"\\\\/\u{7f}\u{2028}é😀]{0,6}",
            number in any::<i64>(),
            zeta in any::<u64>(),
            variant in any::<u8>(),
        ) {
            let value = Tagged::Recorded {
                zeta,
                alpha: (variant % 2 == 0).then(|| text.clone()),
                nested: Box::new(inner(text.clone(), number, variant)),
                list: vec![inner(text.clone(), -number / 2, variant.wrapping_add(1))],
            };
            prop_assert_eq!(to_vec(&value).unwrap(), through_value(&value));
            prop_assert_eq!(to_vec(&Tagged::Empty).unwrap(), through_value(&Tagged::Empty));
        }
    }

    #[test]
    fn a_key_given_twice_keeps_its_last_value_and_non_finite_numbers_are_null() {
        struct Twice;
        impl Serialize for Twice {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("k", &1)?;
                map.serialize_entry("a", &f64::NAN)?;
                map.serialize_entry("k", &2)?;
                map.end()
            }
        }
        assert_eq!(to_vec(&Twice).unwrap(), through_value(&Twice));
        assert_eq!(to_vec(&Twice).unwrap(), br#"{"a":null,"k":2}"#);
    }
}
