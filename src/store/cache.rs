//! A small append-only set of 20-byte keys kept under `.git/zen-draft/`,
//! for facts that are pure functions of immutable objects (so a key, once
//! true, stays true).
//!
//! Must never: hold anything a security decision relies on. It only speeds up
//! what is shown; commands that decide (apply, validate, evidence verify)
//! recompute. Failing to read or write it is never an error.

use super::Store;
use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

pub type CacheKey = [u8; 20];

pub struct KeyCache {
    path: Option<PathBuf>,
    known: HashSet<CacheKey>,
    added: Vec<CacheKey>,
}

impl KeyCache {
    /// Loads the cache `name`; an unreadable or missing one is empty.
    pub fn load(store: &Store, name: &str) -> KeyCache {
        let path = store.repo().commondir().join("zen-draft").join(name);
        let known = std::fs::read(&path)
            .map(|bytes| bytes.chunks_exact(20).map(|c| c.try_into().expect("chunks of 20")).collect())
            .unwrap_or_default();
        KeyCache { path: Some(path), known, added: Vec::new() }
    }

    pub fn contains(&self, key: &CacheKey) -> bool {
        self.known.contains(key)
    }

    pub fn insert(&mut self, key: CacheKey) {
        if self.known.insert(key) {
            self.added.push(key);
        }
    }

    /// Appends what was learned. Appends of whole records are atomic enough:
    /// a torn tail only loses the last keys, which are recomputed next time.
    pub fn save(&mut self) {
        let (Some(path), false) = (&self.path, self.added.is_empty()) else { return };
        let bytes: Vec<u8> = self.added.iter().flatten().copied().collect();
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().expect("the cache lives in a folder"))?;
            std::fs::OpenOptions::new().create(true).append(true).open(path)?.write_all(&bytes)
        };
        let _ = write();
        self.added.clear();
    }
}

/// An append-only map from an object id to bytes derived from that object
/// (say, a parsed draft), kept under `.git/zen-draft/`. Objects never change,
/// so an entry never goes stale; the same rules as [`KeyCache`] apply.
pub struct ObjectMemo {
    path: Option<PathBuf>,
    bytes: Vec<u8>,
    index: std::collections::HashMap<[u8; 20], (usize, usize)>,
    added: Vec<u8>,
}

impl ObjectMemo {
    pub fn load(store: &Store, name: &str) -> ObjectMemo {
        let path = store.repo().commondir().join("zen-draft").join(name);
        let bytes = std::fs::read(&path).unwrap_or_default();
        let mut index = std::collections::HashMap::new();
        let mut at = 0;
        // Records are [20-byte id][4-byte little-endian length][payload]; a torn
        // tail is ignored.
        while at + 24 <= bytes.len() {
            let key: [u8; 20] = bytes[at..at + 20].try_into().expect("20 bytes");
            let len = u32::from_le_bytes(bytes[at + 20..at + 24].try_into().expect("4 bytes")) as usize;
            if at + 24 + len > bytes.len() {
                break;
            }
            index.insert(key, (at + 24, len));
            at += 24 + len;
        }
        ObjectMemo { path: Some(path), bytes, index, added: Vec::new() }
    }

    pub fn get(&self, id: git2::Oid) -> Option<&[u8]> {
        let key: [u8; 20] = id.as_bytes().try_into().ok()?;
        self.index.get(&key).map(|&(at, len)| &self.bytes[at..at + len])
    }

    pub fn insert(&mut self, id: git2::Oid, payload: &[u8]) {
        let Ok(len) = u32::try_from(payload.len()) else { return };
        self.added.extend_from_slice(id.as_bytes());
        self.added.extend_from_slice(&len.to_le_bytes());
        self.added.extend_from_slice(payload);
    }

    pub fn save(&mut self) {
        let (Some(path), false) = (&self.path, self.added.is_empty()) else { return };
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().expect("the cache lives in a folder"))?;
            std::fs::OpenOptions::new().create(true).append(true).open(path)?.write_all(&self.added)
        };
        let _ = write();
        self.added.clear();
    }
}
