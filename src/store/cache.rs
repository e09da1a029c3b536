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
    path: PathBuf,
    known: HashSet<CacheKey>,
}

impl KeyCache {
    /// Loads the cache `name`; an unreadable or missing one is empty.
    pub fn load(store: &Store, name: &str) -> KeyCache {
        let path = store.repo().commondir().join("zen-draft").join(name);
        let known = std::fs::read(&path)
            .map(|bytes| bytes.chunks_exact(20).map(|c| c.try_into().expect("chunks of 20")).collect())
            .unwrap_or_default();
        KeyCache { path, known }
    }

    pub fn contains(&self, key: &CacheKey) -> bool {
        self.known.contains(key)
    }

    /// Appends the keys `learned` that it did not hold, each once. Appends
    /// of whole records are atomic enough: a torn tail only loses the last
    /// keys, which are recomputed next time. The keys are written from the
    /// one list, never gathered into the set as well: a cold listing of a
    /// large branch learns a key or two for every draft.
    pub fn save(self, mut learned: Vec<CacheKey>) {
        learned.retain(|key| !self.known.contains(key));
        learned.sort_unstable();
        learned.dedup();
        if learned.is_empty() {
            return;
        }
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(self.path.parent().expect("the cache lives in a folder"))?;
            std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?.write_all(learned.as_flattened())
        };
        let _ = write();
    }
}
