//! Compact, immutable JSON documents: how gonogo holds the Kubernetes
//! objects of a whole cluster. A `Doc` is two allocations, a flat tape of
//! 8-byte cells and the text of its strings; map keys are shared by the
//! whole process (`keys.rs`), so `"metadata"` is stored once, not once per
//! object. Maps keep their entries sorted by key, as `serde_json::Map` does,
//! so lookups, iteration and equality read the same as over a `Value`.
//!
//! Read through `Json`, a borrowed handle to one value of a document.
//! Documents are built by `build.rs`: from any serde deserializer (the wire,
//! YAML, a `serde_json::Value`), or from another document, with `Edits`
//! (fields dropped, top-level fields set) applied on the way.
//!
//! Measured on the 10,000 objects of the cluster bench (13.8 MB of compact
//! JSON once stripped): as `serde_json::Value` trees they hold 138 MB in
//! malloc chunks, as documents 15 MB (a tree of slices with interned keys
//! and short strings inline: 28 MB). At 65,000 objects (90 MB of JSON):
//! 899 MB as `Value`s, 99 MB as documents, of which 65 MB are cells (126 a
//! Pod, half of them keys) and 30 MB text.

mod build;
mod keys;

use std::fmt;

pub use build::{Edits, TooBig};

/// One unit of the tape. `head` holds the tag in its low four bits and a
/// 28-bit number above them (a string's length, a container's count);
/// `data` a 32-bit one (a text offset, a container's extent in cells, a
/// small integer, a key's id). A number that does not fit in 32 bits takes
/// a second cell holding its 64 bits.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Cell {
    head: u32,
    data: u32,
}

mod tag {
    pub const NULL: u32 = 0;
    pub const FALSE: u32 = 1;
    pub const TRUE: u32 = 2;
    /// An integer that fits in `i32`, in `data`.
    pub const SMALL: u32 = 3;
    /// The next cell holds an `i64`, a `u64` above `i64::MAX`, an `f64`.
    pub const INT: u32 = 4;
    pub const UINT: u32 = 5;
    pub const FLOAT: u32 = 6;
    /// `head` the length, `data` the offset in the text.
    pub const STR: u32 = 7;
    /// `head` the count, `data` the extent in cells (the container's own
    /// cell included), so the next sibling is `data` cells further on.
    pub const LIST: u32 = 8;
    pub const MAP: u32 = 9;
    /// A map key: shared (`data` its id, `head` its first byte) or in the
    /// text (as a string).
    pub const KEY_ID: u32 = 10;
    pub const KEY_TEXT: u32 = 11;
}

const TAG_BITS: u32 = 4;

impl Cell {
    fn new(tag: u32, n: u32, data: u32) -> Cell {
        debug_assert!(n <= build::MAX_COUNT);
        Cell {
            head: tag | (n << TAG_BITS),
            data,
        }
    }

    fn tag(self) -> u32 {
        self.head & ((1 << TAG_BITS) - 1)
    }

    fn n(self) -> u32 {
        self.head >> TAG_BITS
    }

    /// The 64 bits a wide number keeps in the cell after its own.
    fn wide(value: u64) -> Cell {
        Cell {
            head: value as u32,
            data: (value >> 32) as u32,
        }
    }

    fn bits(self) -> u64 {
        u64::from(self.head) | (u64::from(self.data) << 32)
    }
}

/// A JSON document: the tape and the text its strings point into.
#[derive(Clone)]
pub struct Doc {
    cells: Box<[Cell]>,
    text: Box<str>,
}

/// A JSON number as the document keeps it: an integer as `Int` when it fits
/// in `i64`, `UInt` only above `i64::MAX`; anything written with a
/// fraction or an exponent as `Float`. This is how `serde_json` tells them
/// apart too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    UInt(u64),
    Float(f64),
}

/// What a JSON value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    List,
    Map,
}

/// One value inside a `Doc`, borrowed.
#[derive(Clone, Copy)]
pub struct Json<'a> {
    doc: &'a Doc,
    at: usize,
}

impl Doc {
    /// The document's top value.
    pub fn root(&self) -> Json<'_> {
        Json { doc: self, at: 0 }
    }

    /// The same JSON as `value`.
    pub fn from_value(value: &serde_json::Value) -> Doc {
        Doc::read(value, &Edits::NONE).expect(
            "a serde_json::Value always fits a document: its strings and maps are far below the limits",
        )
    }

    /// The document as a `serde_json::Value`: for the rare reader that needs
    /// the heavy form (tests, a listing of a few objects).
    pub fn to_value(&self) -> serde_json::Value {
        self.root().to_value()
    }

    /// The bytes this document holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.cells.len() * std::mem::size_of::<Cell>() + self.text.len()
    }

    /// The bits after the cell at `at`, for a wide number.
    fn wide_bits(&self, at: usize) -> u64 {
        self.cells[at + 1].bits()
    }

    fn str_at(&self, cell: Cell) -> &str {
        let start = cell.data as usize;
        &self.text[start..start + cell.n() as usize]
    }

    fn key_at(&self, at: usize) -> &str {
        let cell = self.cells[at];
        match cell.tag() {
            tag::KEY_ID => keys::name(cell.data),
            _ => self.str_at(cell),
        }
    }

    fn key_first_byte(&self, at: usize) -> u8 {
        let cell = self.cells[at];
        match cell.tag() {
            tag::KEY_ID => cell.n() as u8,
            _ => build::first_byte(self.str_at(cell)),
        }
    }

    fn extent(&self, at: usize) -> usize {
        extent(&self.cells, at)
    }
}

/// How many cells the value at `at` takes.
fn extent(cells: &[Cell], at: usize) -> usize {
    let cell = cells[at];
    match cell.tag() {
        tag::LIST | tag::MAP => cell.data as usize,
        tag::INT | tag::UINT | tag::FLOAT => 2,
        _ => 1,
    }
}

impl Default for Doc {
    /// `null`.
    fn default() -> Doc {
        Doc {
            cells: Box::new([Cell::new(tag::NULL, 0, 0)]),
            text: Box::default(),
        }
    }
}

impl<'a> Json<'a> {
    fn cell(self) -> Cell {
        self.doc.cells[self.at]
    }

    pub fn kind(self) -> Kind {
        match self.cell().tag() {
            tag::NULL => Kind::Null,
            tag::FALSE | tag::TRUE => Kind::Bool,
            tag::SMALL | tag::INT | tag::UINT | tag::FLOAT => Kind::Number,
            tag::STR => Kind::String,
            tag::LIST => Kind::List,
            _ => Kind::Map,
        }
    }

    pub fn is_null(self) -> bool {
        self.kind() == Kind::Null
    }

    pub fn is_map(self) -> bool {
        self.kind() == Kind::Map
    }

    pub fn is_list(self) -> bool {
        self.kind() == Kind::List
    }

    pub fn as_bool(self) -> Option<bool> {
        match self.cell().tag() {
            tag::TRUE => Some(true),
            tag::FALSE => Some(false),
            _ => None,
        }
    }

    pub fn as_number(self) -> Option<Number> {
        let cell = self.cell();
        match cell.tag() {
            tag::SMALL => Some(Number::Int(i64::from(cell.data as i32))),
            tag::INT => Some(Number::Int(self.doc.wide_bits(self.at) as i64)),
            tag::UINT => Some(Number::UInt(self.doc.wide_bits(self.at))),
            tag::FLOAT => Some(Number::Float(f64::from_bits(self.doc.wide_bits(self.at)))),
            _ => None,
        }
    }

    pub fn as_str(self) -> Option<&'a str> {
        let cell = self.cell();
        (cell.tag() == tag::STR).then(|| self.doc.str_at(cell))
    }

    /// The number of entries of a map or items of a list; 0 for anything
    /// else.
    pub fn len(self) -> usize {
        match self.cell().tag() {
            tag::LIST | tag::MAP => self.cell().n() as usize,
            _ => 0,
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The value of `key` in a map; `None` when it has no such key, or is
    /// not a map.
    pub fn get(self, key: &str) -> Option<Json<'a>> {
        use std::cmp::Ordering;
        let doc = self.doc;
        let first = build::first_byte(key);
        let (mut next, end) = self.children(tag::MAP);
        while next < end {
            let value = next + 1;
            // Entries are sorted by key: the first bytes alone order most
            // of them, and the search stops at the first key past `key`.
            let order = match doc.key_first_byte(next) {
                theirs if theirs != first && theirs != 0 && first != 0 => theirs.cmp(&first),
                _ => doc.key_at(next).cmp(key),
            };
            match order {
                Ordering::Less => next = value + doc.extent(value),
                Ordering::Equal => return Some(Json { doc, at: value }),
                Ordering::Greater => return None,
            }
        }
        None
    }

    /// Follows `path` through nested maps.
    pub fn pointer<S: AsRef<str>>(self, path: &[S]) -> Option<Json<'a>> {
        path.iter().try_fold(self, |at, key| at.get(key.as_ref()))
    }

    /// A map's entries, sorted by key; nothing for anything else.
    pub fn entries(self) -> Entries<'a> {
        let (next, end) = self.children(tag::MAP);
        Entries {
            doc: self.doc,
            next,
            end,
        }
    }

    /// A list's items in order; nothing for anything else.
    pub fn items(self) -> Items<'a> {
        let (next, end) = self.children(tag::LIST);
        Items {
            doc: self.doc,
            next,
            end,
        }
    }

    /// Where the children of a container of `kind` start and end.
    fn children(self, kind: u32) -> (usize, usize) {
        let cell = self.cell();
        if cell.tag() == kind {
            (self.at + 1, self.at + cell.data as usize)
        } else {
            (self.at, self.at)
        }
    }

    /// The value as a `serde_json::Value`.
    pub fn to_value(self) -> serde_json::Value {
        use serde_json::Value;
        match self.kind() {
            Kind::Null => Value::Null,
            Kind::Bool => Value::Bool(self.as_bool() == Some(true)),
            Kind::Number => match self.as_number() {
                Some(Number::Int(i)) => Value::from(i),
                Some(Number::UInt(u)) => Value::from(u),
                // Documents hold finite floats only.
                Some(Number::Float(f)) => {
                    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
                }
                None => Value::Null,
            },
            Kind::String => Value::String(self.as_str().unwrap_or_default().to_owned()),
            Kind::List => Value::Array(self.items().map(Json::to_value).collect()),
            Kind::Map => Value::Object(
                self.entries()
                    .map(|(k, v)| (k.to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

/// The entries of a map: each key and its value.
pub struct Entries<'a> {
    doc: &'a Doc,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a str, Json<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let key = self.doc.key_at(self.next);
        let value = self.next + 1;
        self.next = value + self.doc.extent(value);
        Some((
            key,
            Json {
                doc: self.doc,
                at: value,
            },
        ))
    }
}

/// The items of a list.
pub struct Items<'a> {
    doc: &'a Doc,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Items<'a> {
    type Item = Json<'a>;

    fn next(&mut self) -> Option<Json<'a>> {
        if self.next >= self.end {
            return None;
        }
        let at = self.next;
        self.next += self.doc.extent(at);
        Some(Json { doc: self.doc, at })
    }
}

/// Equal as JSON: the same kind, numbers the same `Number`, maps the same
/// keys with equal values, lists equal items in order. How each document
/// stores its keys (shared or its own) does not matter.
impl PartialEq for Json<'_> {
    fn eq(&self, other: &Json<'_>) -> bool {
        match (self.kind(), other.kind()) {
            (Kind::Null, Kind::Null) => true,
            (Kind::Bool, Kind::Bool) => self.as_bool() == other.as_bool(),
            (Kind::Number, Kind::Number) => self.as_number() == other.as_number(),
            (Kind::String, Kind::String) => self.as_str() == other.as_str(),
            (Kind::List, Kind::List) => self.len() == other.len() && self.items().eq(other.items()),
            (Kind::Map, Kind::Map) => {
                self.len() == other.len()
                    && self
                        .entries()
                        .zip(other.entries())
                        .all(|((k, v), (l, w))| k == l && v == w)
            }
            _ => false,
        }
    }
}

impl PartialEq for Doc {
    fn eq(&self, other: &Doc) -> bool {
        self.root() == other.root()
    }
}

impl fmt::Debug for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_value())
    }
}

impl fmt::Debug for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root().fmt(f)
    }
}

impl<'de> serde::Deserialize<'de> for Doc {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Doc, D::Error> {
        Doc::read(deserializer, &Edits::NONE)
    }
}

#[cfg(test)]
mod tests;
