//! Map keys shared by every document of the process: a key is stored once
//! and documents refer to it by a 32-bit id. Kubernetes objects of one kind
//! repeat the same few hundred keys, so this is most of what a document
//! saves over its own copy of each.
//!
//! The table only grows, so it is bounded: at most `MAX_KEYS` keys of at
//! most `MAX_LEN` bytes (under 5 MB in all). A key past either limit is
//! kept in its document's own text instead; nothing else changes.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, RwLock};

const CHUNK: usize = 1024;
const CHUNKS: usize = 64;
const MAX_KEYS: usize = CHUNK * CHUNKS;
const MAX_LEN: usize = 64;

/// Id to key, read without a lock: a chunk and a slot are written once,
/// under the `IDS` lock, before the id is handed out.
static NAMES: [OnceLock<Box<[OnceLock<&'static str>]>>; CHUNKS] =
    [const { OnceLock::new() }; CHUNKS];

/// Key to id, for documents being built.
static IDS: LazyLock<RwLock<HashMap<&'static str, u32>>> = LazyLock::new(Default::default);

thread_local! {
    /// The ids this thread has used, so building a document takes no lock
    /// for the keys it has seen before.
    static SEEN: RefCell<HashMap<&'static str, u32>> = RefCell::new(HashMap::new());
}

/// The shared id of `key`, given out now if it has none; `None` when the key
/// is too long to share or the table is full.
pub(super) fn id(key: &str) -> Option<u32> {
    if key.len() > MAX_LEN {
        return None;
    }
    if let Some(id) = SEEN.with_borrow(|seen| seen.get(key).copied()) {
        return Some(id);
    }
    let id = shared(key)?;
    SEEN.with_borrow_mut(|seen| seen.insert(name(id), id));
    Some(id)
}

fn shared(key: &str) -> Option<u32> {
    if let Some(id) = IDS.read().unwrap_or_else(|e| e.into_inner()).get(key) {
        return Some(*id);
    }
    let mut ids = IDS.write().unwrap_or_else(|e| e.into_inner());
    if let Some(id) = ids.get(key) {
        return Some(*id);
    }
    let id = ids.len();
    if id >= MAX_KEYS {
        return None;
    }
    let name: &'static str = Box::leak(Box::from(key));
    let chunk = NAMES[id / CHUNK].get_or_init(|| (0..CHUNK).map(|_| OnceLock::new()).collect());
    // Ids are handed out in order under the lock: this slot is new.
    let _ = chunk[id % CHUNK].set(name);
    let id = id as u32;
    ids.insert(name, id);
    Some(id)
}

/// The key with id `id`.
pub(super) fn name(id: u32) -> &'static str {
    let id = id as usize;
    NAMES
        .get(id / CHUNK)
        .and_then(OnceLock::get)
        .and_then(|chunk| chunk[id % CHUNK].get())
        .copied()
        .expect("a document holds only ids that `id` gave out, after writing their key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_keeps_its_id_across_threads() {
        let here = id("metadata").expect("a short key is shared");
        let there = std::thread::spawn(|| id("metadata"))
            .join()
            .expect("the thread ends");
        assert_eq!(Some(here), there);
        assert_eq!(name(here), "metadata");
        assert_ne!(id("spec"), Some(here));
    }

    #[test]
    fn long_keys_are_not_shared() {
        assert_eq!(id(&"k".repeat(MAX_LEN + 1)), None);
        assert!(id(&"k".repeat(MAX_LEN)).is_some());
    }
}
