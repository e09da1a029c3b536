//! What listings remember under `.git/zen-draft/`, all of it pure functions
//! of immutable objects (so it never goes stale): a small append-only set of
//! 20-byte keys (which signatures and which drafts' evidence a listing
//! already verified), and files of keyed records (a listing's rows and
//! folders, `service::read::rows`).
//!
//! Must never: hold anything a security decision relies on. It only speeds up
//! what is shown (`list`, the dashboard); commands that decide (validate,
//! apply, gc, evidence verify) never read it. Failing to read or write it is
//! never an error.

use super::Store;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Mutex;

/// How much of a record file one read brings in: records are read in about
/// the order they were written, which is the branch's order.
const BLOCK: usize = 64 * 1024;
/// Largest record read back (a draft file is at most 256 KiB, and a row holds it once).
const MAX_RECORD: u32 = 1024 * 1024;

pub type CacheKey = [u8; 20];

pub struct KeyCache {
    path: PathBuf,
    known: HashSet<CacheKey>,
    appending: Mutex<Option<std::fs::File>>,
}

impl KeyCache {
    /// Loads the cache `name`; an unreadable or missing one is empty.
    pub fn load(store: &Store, name: &str) -> KeyCache {
        let path = store.repo().commondir().join("zen-draft").join(name);
        let known = std::fs::read(&path)
            .map(|bytes| bytes.chunks_exact(20).map(|c| c.try_into().expect("chunks of 20")).collect())
            .unwrap_or_default();
        KeyCache { path, known, appending: Mutex::new(None) }
    }

    pub fn contains(&self, key: &CacheKey) -> bool {
        self.known.contains(key)
    }

    /// Appends the keys `learned` that it did not hold, each once, in one
    /// write (a listing appends what each chunk of drafts taught it, so a
    /// cold listing of a large branch never holds a key or two for every
    /// draft). Appends of whole keys are atomic enough: a torn tail only
    /// loses the last keys, which are recomputed next time.
    pub fn append(&self, mut learned: Vec<CacheKey>) {
        learned.retain(|key| !self.known.contains(key));
        learned.sort_unstable();
        learned.dedup();
        if learned.is_empty() {
            return;
        }
        let mut appending = lock(&self.appending);
        if appending.is_none() {
            let open = || -> std::io::Result<std::fs::File> {
                std::fs::create_dir_all(self.path.parent().expect("the cache lives in a folder"))?;
                std::fs::OpenOptions::new().create(true).append(true).open(&self.path)
            };
            *appending = open().ok();
        }
        if let Some(file) = appending.as_mut() {
            let _ = file.write_all(learned.as_flattened());
        }
    }
}

/// An append-only file of keyed records under `.git/zen-draft/`, for
/// listings: one thread looks records up, any thread appends. Its first line
/// names the build that wrote it; a file another build wrote is started
/// again. Each record is checked; one that fails is not there.
pub struct RecordFile {
    path: PathBuf,
    /// Whether the file was there, written by this build, when loaded.
    found: bool,
    header_line: Vec<u8>,
    /// Each record's key: where its bytes are in the file.
    index: HashMap<CacheKey, (u64, u32)>,
    /// Records in the file, counting any written twice.
    records: Mutex<usize>,
    reading: Mutex<Block>,
    appending: Mutex<Option<std::fs::File>>,
    /// Keys this listing found or learned: what a rewrite keeps.
    used: Mutex<Vec<CacheKey>>,
    /// Keys whose record is out of date: written again.
    outdated: Mutex<HashSet<CacheKey>>,
}

/// The part of the file read last.
#[derive(Default)]
struct Block {
    file: Option<std::fs::File>,
    start: u64,
    bytes: Vec<u8>,
}

/// Record framing: the key, the record's length, a check over the key and
/// the record, then the record.
const HEADER: usize = 20 + 4 + 8;

fn check(key: &CacheKey, row: &[u8]) -> [u8; 8] {
    use std::hash::Hasher;
    // Fixed keys: the same build (the file's first line) computes the same check.
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(key);
    hasher.write(row);
    hasher.finish().to_le_bytes()
}

impl RecordFile {
    /// Indexes the file `name`, whose first line is `header_line`; a
    /// missing, unreadable or cut one is indexed as far as it reads, and one
    /// with another first line is removed.
    pub fn load(store: &Store, name: &str, header_line: &str) -> RecordFile {
        let path = store.repo().commondir().join("zen-draft").join(name);
        let header_line = header_line.as_bytes().to_vec();
        let mut index = HashMap::new();
        let mut records = 0;
        let mut found = false;
        if let Ok(file) = std::fs::File::open(&path) {
            let mut reader = BufReader::with_capacity(BLOCK, file);
            let mut line = vec![0u8; header_line.len()];
            found = reader.read_exact(&mut line).is_ok() && line == header_line;
            if !found {
                let _ = std::fs::remove_file(&path);
            }
            let mut at = header_line.len() as u64;
            let mut header = [0u8; HEADER];
            while found && reader.read_exact(&mut header).is_ok() {
                let key: CacheKey = header[..20].try_into().expect("20 bytes");
                let len = u32::from_le_bytes(header[20..24].try_into().expect("4 bytes"));
                if len > MAX_RECORD || skip(&mut reader, len as usize).is_err() {
                    break;
                }
                index.insert(key, (at + HEADER as u64, len));
                at += (HEADER + len as usize) as u64;
                records += 1;
            }
        }
        RecordFile {
            path,
            header_line,
            found,
            index,
            records: Mutex::new(records),
            reading: Mutex::new(Block::default()),
            appending: Mutex::new(None),
            used: Mutex::new(Vec::with_capacity(records)),
            outdated: Mutex::new(HashSet::new()),
        }
    }

    /// Whether the file holds a record for `key`; one it holds is kept by a rewrite.
    pub fn holds(&self, key: &CacheKey) -> bool {
        let held = self.index.contains_key(key);
        if held {
            lock(&self.used).push(*key);
        }
        held
    }

    /// The record under `key`, if the file holds one that passes its check.
    pub fn get(&self, key: &CacheKey) -> Option<Vec<u8>> {
        let &(at, len) = self.index.get(key)?;
        let mut block = lock(&self.reading);
        let (start, end) = (at - HEADER as u64, at + u64::from(len));
        if start < block.start || end > block.start + block.bytes.len() as u64 {
            if block.file.is_none() {
                block.file = std::fs::File::open(&self.path).ok();
            }
            let mut bytes = vec![0u8; BLOCK.max(HEADER + len as usize)];
            let read = read_at(block.file.as_ref()?, &mut bytes, start);
            bytes.truncate(read);
            *block = Block { file: block.file.take(), start, bytes };
        }
        let from = (start - block.start) as usize;
        let framed = block.bytes.get(from..from + HEADER + len as usize)?;
        let (header, record) = framed.split_at(HEADER);
        (header[24..] == check(key, record)).then(|| record.to_vec())
    }

    /// Marks the record under `key` as one to write again (the last record
    /// of a key is the one read).
    pub fn outdated(&self, key: CacheKey) {
        lock(&self.outdated).insert(key);
    }

    /// Appends the records the file does not hold yet (or holds outdated),
    /// in one write.
    pub fn append(&self, records: &[(CacheKey, Vec<u8>)]) {
        let mut bytes = Vec::new();
        let mut keys = Vec::new();
        let outdated = lock(&self.outdated);
        let new = |key: &CacheKey| !self.index.contains_key(key) || outdated.contains(key);
        for (key, encoded) in records.iter().filter(|(key, _)| new(key)) {
            bytes.extend_from_slice(key);
            bytes.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&check(key, encoded));
            bytes.extend_from_slice(encoded);
            keys.push(*key);
        }
        drop(outdated);
        if keys.is_empty() {
            return;
        }
        let mut appending = lock(&self.appending);
        if appending.is_none() {
            *appending = self.open_for_append();
        }
        if let Some(file) = appending.as_mut()
            && file.write_all(&bytes).is_ok()
        {
            *lock(&self.records) += keys.len();
            lock(&self.used).extend(keys);
        }
    }

    /// The file to append to: the one loaded, or a new one started with
    /// its first line (through a temporary file, so no listing ever reads
    /// a file without it).
    fn open_for_append(&self) -> Option<std::fs::File> {
        if self.found {
            return std::fs::OpenOptions::new().append(true).open(&self.path).ok();
        }
        std::fs::create_dir_all(self.path.parent()?).ok()?;
        let temporary = self.temporary();
        let start = || -> std::io::Result<std::fs::File> {
            let mut file = std::fs::OpenOptions::new().create_new(true).append(true).open(&temporary)?;
            file.write_all(&self.header_line)?;
            std::fs::rename(&temporary, &self.path)?;
            Ok(file)
        };
        start().inspect_err(|_| drop(std::fs::remove_file(&temporary))).ok()
    }

    fn temporary(&self) -> PathBuf {
        self.path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()))
    }

    /// After a listing: when the file holds more than twice the records
    /// this listing used, and 64 more (of objects since rewritten or
    /// removed), rewrites it with those alone, through a temporary file.
    pub fn finish(self) {
        drop(lock(&self.appending).take());
        let mut used = std::mem::take(&mut *lock(&self.used));
        let records = *lock(&self.records);
        if records <= 2 * used.len() + 64 {
            return;
        }
        used.sort_unstable();
        used.dedup();
        let temporary = self.temporary();
        let rewrite = || -> std::io::Result<()> {
            let mut reader = BufReader::with_capacity(BLOCK, std::fs::File::open(&self.path)?);
            let mut line = vec![0u8; self.header_line.len()];
            reader.read_exact(&mut line)?;
            if line != self.header_line {
                return Ok(());
            }
            let mut out = std::io::BufWriter::new(std::fs::File::create_new(&temporary)?);
            out.write_all(&self.header_line)?;
            let mut kept: HashSet<CacheKey> = HashSet::new();
            let mut header = [0u8; HEADER];
            while reader.read_exact(&mut header).is_ok() {
                let key: CacheKey = header[..20].try_into().expect("20 bytes");
                let len = u32::from_le_bytes(header[20..24].try_into().expect("4 bytes"));
                if len > MAX_RECORD {
                    break;
                }
                let mut row = vec![0u8; len as usize];
                reader.read_exact(&mut row)?;
                if used.binary_search(&key).is_ok() && kept.insert(key) {
                    out.write_all(&header)?;
                    out.write_all(&row)?;
                }
            }
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&temporary, &self.path)
        };
        if rewrite().is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Skips `n` bytes of `reader`, failing if it ends first.
fn skip(reader: &mut BufReader<std::fs::File>, mut n: usize) -> std::io::Result<()> {
    while n > 0 {
        let available = reader.fill_buf()?.len();
        if available == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let step = available.min(n);
        reader.consume(step);
        n -= step;
    }
    Ok(())
}

/// Reads as much of `buffer` as the file holds from `at`.
fn read_at(file: &std::fs::File, buffer: &mut [u8], at: u64) -> usize {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read_at(&mut buffer[filled..], at + filled as u64) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    filled
}
