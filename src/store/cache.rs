//! A small append-only set of 20-byte keys kept under `.git/zen-draft/`,
//! for facts that are pure functions of immutable objects (so a key, once
//! true, stays true): which signatures and which drafts' evidence a listing
//! already verified.
//!
//! Must never: hold anything a security decision relies on. It only speeds up
//! what is shown (`list`, the dashboard); commands that decide (validate,
//! apply, gc, evidence verify) never read it. Failing to read or write it is
//! never an error.

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
