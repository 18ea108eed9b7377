//! Building documents: from a serde deserializer (straight from the bytes
//! of a list page, YAML, or a `serde_json::Value`) or from another
//! document, with `Edits` applied on the way, so a field that is dropped is
//! never stored, not even for a moment.
//!
//! Values are appended to a tape as they arrive; a map is sorted by key
//! when it closes (a later duplicate key wins, as in `serde_json::Map`).
//! Each thread keeps one builder's buffers, and a finished document is
//! copied out at its exact size.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Cell, Doc, Json, Kind, Number, extent, keys, tag};

/// The largest string length and container count a cell holds (28 bits).
pub(super) const MAX_COUNT: u32 = (1 << 28) - 1;

/// A key's first byte; 0 for the empty key (and a key that starts with NUL).
pub(super) fn first_byte(key: &str) -> u8 {
    key.as_bytes().first().copied().unwrap_or(0)
}

/// Changes made while a document is built.
#[derive(Debug, Clone, Copy)]
pub struct Edits<'a> {
    /// Fields left out, each a path of keys from the top
    /// (`["metadata", "managedFields"]`). At most 32.
    pub drop: &'a [&'a [&'a str]],
    /// Top-level string fields written over the document's own (only when
    /// the top is a map).
    pub set: &'a [(&'a str, &'a str)],
    /// Top-level string fields written where the document has none.
    pub fill: &'a [(&'a str, &'a str)],
}

impl Edits<'_> {
    pub const NONE: Edits<'static> = Edits {
        drop: &[],
        set: &[],
        fill: &[],
    };

    /// Every drop path, for the top.
    fn all(&self) -> u32 {
        debug_assert!(self.drop.len() <= 32);
        match self.drop.len() {
            32.. => u32::MAX,
            n => (1 << n) - 1,
        }
    }

    /// What to do with `key` in a map at `depth`, where the drop paths in
    /// `live` still match the keys above: leave it out (`None`), or keep
    /// it with the paths that go on below it.
    fn step(&self, live: u32, depth: usize, key: &str) -> Option<u32> {
        if live == 0 {
            return Some(0);
        }
        let mut below = 0;
        for (i, path) in self.drop.iter().enumerate() {
            if live & (1 << i) != 0 && path.get(depth) == Some(&key) {
                if path.len() == depth + 1 {
                    return None;
                }
                below |= 1 << i;
            }
        }
        Some(below)
    }
}

/// Why a document could not be built: it is beyond what a cell can say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooBig(&'static str);

impl fmt::Display for TooBig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "too big to hold: {}", self.0)
    }
}

impl std::error::Error for TooBig {}

/// A document being built.
#[derive(Default)]
struct Builder {
    cells: Vec<Cell>,
    text: String,
    /// Where each entry of the map being closed starts, and its length.
    spans: Vec<(usize, usize)>,
    /// The entries of that map, reordered.
    moved: Vec<Cell>,
}

thread_local! {
    static SPARE: RefCell<Option<Builder>> = const { RefCell::new(None) };
}

impl Builder {
    /// Runs `fill` on this thread's builder (a fresh one if it is in use)
    /// and copies the document out.
    fn with<E>(
        fill: impl FnOnce(&mut Builder) -> Result<(), E>,
        too_big: impl FnOnce(TooBig) -> E,
    ) -> Result<Doc, E> {
        let mut builder = SPARE.with_borrow_mut(Option::take).unwrap_or_default();
        builder.cells.clear();
        builder.text.clear();
        let filled = fill(&mut builder);
        // A page of 500 Pods builds one at a time: the buffers are kept for
        // the next one and the document copied out. An odd giant document
        // (a whole cluster dumped as one `List`) takes the buffers instead:
        // a copy would double it for a moment.
        let small = builder.cells.capacity() <= 1 << 20 && builder.text.capacity() <= 1 << 23;
        if !small {
            return filled.and_then(|()| builder.into_doc().map_err(too_big));
        }
        let built = filled.and_then(|()| builder.finish().map_err(too_big));
        SPARE.with_borrow_mut(|spare| *spare = Some(builder));
        built
    }

    fn finish(&self) -> Result<Doc, TooBig> {
        if self.cells.is_empty() {
            return Err(TooBig("an empty document"));
        }
        Ok(Doc {
            cells: self.cells.as_slice().into(),
            text: self.text.as_str().into(),
        })
    }

    fn into_doc(self) -> Result<Doc, TooBig> {
        if self.cells.is_empty() {
            return Err(TooBig("an empty document"));
        }
        Ok(Doc {
            cells: self.cells.into_boxed_slice(),
            text: self.text.into_boxed_str(),
        })
    }

    fn push(&mut self, cell: Cell) -> Result<(), TooBig> {
        if self.cells.len() >= u32::MAX as usize {
            return Err(TooBig("more than 4 billion values"));
        }
        self.cells.push(cell);
        Ok(())
    }

    fn null(&mut self) -> Result<(), TooBig> {
        self.push(Cell::new(tag::NULL, 0, 0))
    }

    fn bool(&mut self, b: bool) -> Result<(), TooBig> {
        self.push(Cell::new(if b { tag::TRUE } else { tag::FALSE }, 0, 0))
    }

    fn int(&mut self, i: i64) -> Result<(), TooBig> {
        match i32::try_from(i) {
            Ok(small) => self.push(Cell::new(tag::SMALL, 0, small as u32)),
            Err(_) => self.wide(tag::INT, i as u64),
        }
    }

    fn uint(&mut self, u: u64) -> Result<(), TooBig> {
        match i64::try_from(u) {
            Ok(i) => self.int(i),
            Err(_) => self.wide(tag::UINT, u),
        }
    }

    /// As `serde_json::Value`: a float that is not finite is `null`.
    fn float(&mut self, f: f64) -> Result<(), TooBig> {
        if f.is_finite() {
            self.wide(tag::FLOAT, f.to_bits())
        } else {
            self.null()
        }
    }

    fn number(&mut self, n: Number) -> Result<(), TooBig> {
        match n {
            Number::Int(i) => self.int(i),
            Number::UInt(u) => self.uint(u),
            Number::Float(f) => self.float(f),
        }
    }

    fn wide(&mut self, tag: u32, bits: u64) -> Result<(), TooBig> {
        self.push(Cell::new(tag, 0, 0))?;
        self.push(Cell::wide(bits))
    }

    /// `s` appended to the text, as (length, offset).
    fn text(&mut self, s: &str) -> Result<(u32, u32), TooBig> {
        let len = u32::try_from(s.len())
            .ok()
            .filter(|n| *n <= MAX_COUNT)
            .ok_or(TooBig("a string over 256 MiB"))?;
        let at = u32::try_from(self.text.len())
            .ok()
            .filter(|at| at.checked_add(len).is_some())
            .ok_or(TooBig("over 4 GiB of text"))?;
        self.text.push_str(s);
        Ok((len, at))
    }

    fn string(&mut self, s: &str) -> Result<(), TooBig> {
        let (len, at) = self.text(s)?;
        self.push(Cell::new(tag::STR, len, at))
    }

    fn key(&mut self, k: &str) -> Result<(), TooBig> {
        match keys::id(k) {
            // The first byte rides along: lookups order most keys by it
            // without reading the shared table.
            Some(id) => self.push(Cell::new(tag::KEY_ID, u32::from(first_byte(k)), id)),
            None => {
                let (len, at) = self.text(k)?;
                self.push(Cell::new(tag::KEY_TEXT, len, at))
            }
        }
    }

    /// Starts a container; `close_list` or `close_map` ends it.
    fn open(&mut self) -> Result<usize, TooBig> {
        let at = self.cells.len();
        self.null()?;
        Ok(at)
    }

    fn extent(&self, at: usize) -> usize {
        extent(&self.cells, at)
    }

    fn close_list(&mut self, at: usize) -> Result<(), TooBig> {
        let mut count = 0;
        let mut next = at + 1;
        while next < self.cells.len() {
            count += 1;
            next += self.extent(next);
        }
        self.close(tag::LIST, at, count)
    }

    fn close(&mut self, tag: u32, at: usize, count: usize) -> Result<(), TooBig> {
        let count = u32::try_from(count)
            .ok()
            .filter(|n| *n <= MAX_COUNT)
            .ok_or(TooBig("a list or map of over 268 million entries"))?;
        // Below the 4-billion-cell limit `push` keeps.
        let extent = (self.cells.len() - at) as u32;
        self.cells[at] = Cell::new(tag, count, extent);
        Ok(())
    }

    fn key_at(&self, at: usize) -> &str {
        let cell = self.cells[at];
        match cell.tag() {
            tag::KEY_ID => keys::name(cell.data),
            _ => {
                let start = cell.data as usize;
                &self.text[start..start + cell.n() as usize]
            }
        }
    }

    /// Ends the map opened at `at`: its entries sorted by key, and of
    /// entries with the same key only the last kept.
    fn close_map(&mut self, at: usize) -> Result<(), TooBig> {
        let mut spans = std::mem::take(&mut self.spans);
        spans.clear();
        let mut next = at + 1;
        while next < self.cells.len() {
            let end = next + 1 + self.extent(next + 1);
            spans.push((next, end - next));
            next = end;
        }
        let in_order = spans
            .windows(2)
            .all(|pair| self.key_at(pair[0].0) < self.key_at(pair[1].0));
        if !in_order {
            spans.sort_by(|a, b| self.key_at(a.0).cmp(self.key_at(b.0)));
            spans.dedup_by(|later, earlier| {
                let same = self.key_at(later.0) == self.key_at(earlier.0);
                if same {
                    *earlier = *later;
                }
                same
            });
            let mut moved = std::mem::take(&mut self.moved);
            moved.clear();
            for &(start, len) in &spans {
                moved.extend_from_slice(&self.cells[start..start + len]);
            }
            self.cells.truncate(at + 1);
            self.cells.extend_from_slice(&moved);
            self.moved = moved;
        }
        let count = spans.len();
        self.spans = spans;
        self.close(tag::MAP, at, count)
    }

    /// Appends `from` (a value of another document), edited.
    fn copy(&mut self, from: Json, edits: &Edits, live: u32, depth: usize) -> Result<(), TooBig> {
        match from.kind() {
            Kind::Null => self.null(),
            Kind::Bool => self.bool(from.as_bool() == Some(true)),
            Kind::Number => match from.as_number() {
                Some(n) => self.number(n),
                None => self.null(),
            },
            Kind::String => self.string(from.as_str().unwrap_or_default()),
            Kind::List => {
                let at = self.open()?;
                for item in from.items() {
                    self.copy(item, edits, 0, depth + 1)?;
                }
                self.close_list(at)
            }
            Kind::Map => {
                let at = self.open()?;
                self.top_fields(edits.fill, depth)?;
                for (key, value) in from.entries() {
                    if let Some(below) = edits.step(live, depth, key) {
                        self.key(key)?;
                        self.copy(value, edits, below, depth + 1)?;
                    }
                }
                self.top_fields(edits.set, depth)?;
                self.close_map(at)
            }
        }
    }

    /// At the top only: `fields` as entries of the map being built.
    fn top_fields(&mut self, fields: &[(&str, &str)], depth: usize) -> Result<(), TooBig> {
        if depth == 0 {
            for (key, value) in fields {
                self.key(key)?;
                self.string(value)?;
            }
        }
        Ok(())
    }
}

impl Doc {
    /// Reads one document from `deserializer`, with `edits` applied.
    pub fn read<'de, D>(deserializer: D, edits: &Edits) -> Result<Doc, D::Error>
    where
        D: de::Deserializer<'de>,
    {
        Builder::with(
            |builder| {
                Feed {
                    builder,
                    edits,
                    live: edits.all(),
                    depth: 0,
                }
                .deserialize(deserializer)
            },
            de::Error::custom,
        )
    }

    /// A copy of `from` with `edits` applied.
    pub fn edited(from: Json, edits: &Edits) -> Result<Doc, TooBig> {
        Builder::with(|builder| builder.copy(from, edits, edits.all(), 0), |e| e)
    }

    /// A list of copies of `items` (the `objects` a CEL expression may read).
    pub fn list<'a>(items: impl IntoIterator<Item = Json<'a>>) -> Result<Doc, TooBig> {
        Builder::with(
            |builder| {
                let at = builder.open()?;
                for item in items {
                    builder.copy(item, &Edits::NONE, 0, 1)?;
                }
                builder.close_list(at)
            },
            |e| e,
        )
    }
}

/// Builds what a deserializer gives: one value, and everything in it.
struct Feed<'b, 'e> {
    builder: &'b mut Builder,
    edits: &'b Edits<'e>,
    live: u32,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Feed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

fn fits<T, E: de::Error>(done: Result<T, TooBig>) -> Result<T, E> {
    done.map_err(E::custom)
}

impl<'de> Visitor<'de> for Feed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        fits(self.builder.bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<(), E> {
        fits(self.builder.int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<(), E> {
        fits(self.builder.uint(u))
    }

    /// As `serde_json::Value`: taken when it fits 64 bits, else an error.
    fn visit_i128<E: de::Error>(self, i: i128) -> Result<(), E> {
        match (i64::try_from(i), u64::try_from(i)) {
            (Ok(i), _) => self.visit_i64(i),
            (_, Ok(u)) => self.visit_u64(u),
            _ => Err(E::custom("JSON number out of range")),
        }
    }

    fn visit_u128<E: de::Error>(self, u: u128) -> Result<(), E> {
        match u64::try_from(u) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::custom("JSON number out of range")),
        }
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<(), E> {
        fits(self.builder.float(f))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        fits(self.builder.string(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        fits(self.builder.null())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        fits(self.builder.null())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let at = fits(self.builder.open())?;
        while seq
            .next_element_seed(Feed {
                builder: &mut *self.builder,
                edits: self.edits,
                live: 0,
                depth: self.depth + 1,
            })?
            .is_some()
        {}
        fits(self.builder.close_list(at))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let at = fits(self.builder.open())?;
        fits(self.builder.top_fields(self.edits.fill, self.depth))?;
        loop {
            let key = Key {
                builder: &mut *self.builder,
                edits: self.edits,
                live: self.live,
                depth: self.depth,
            };
            match map.next_key_seed(key)? {
                None => break,
                Some(None) => {
                    map.next_value::<IgnoredAny>()?;
                }
                Some(Some(below)) => map.next_value_seed(Feed {
                    builder: &mut *self.builder,
                    edits: self.edits,
                    live: below,
                    depth: self.depth + 1,
                })?,
            }
        }
        fits(self.builder.top_fields(self.edits.set, self.depth))?;
        fits(self.builder.close_map(at))
    }
}

/// A map key: appended when it is kept, and what the edits say of it
/// (`None`: leave its value out; else the drop paths that go on below).
struct Key<'b, 'e> {
    builder: &'b mut Builder,
    edits: &'b Edits<'e>,
    live: u32,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = Option<u32>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<u32>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = Option<u32>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<u32>, E> {
        let step = self.edits.step(self.live, self.depth, key);
        if step.is_some() {
            fits(self.builder.key(key))?;
        }
        Ok(step)
    }
}
