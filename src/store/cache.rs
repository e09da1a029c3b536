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
/// Largest record written or read back (a draft file is at most 64 KiB,
/// and a row holds its fields once, as JSON).
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
        let bytes = std::fs::read(&path).unwrap_or_default();
        // Keys are appended whole: a length that is not a multiple of 20 is
        // a write cut short, and every key after it would be read askew.
        // Such a file is started again.
        if !bytes.len().is_multiple_of(20) {
            let _ = std::fs::remove_file(&path);
            return KeyCache { path, known: HashSet::new(), appending: Mutex::new(None) };
        }
        let known = bytes.chunks_exact(20).map(|c| c.try_into().expect("chunks of 20")).collect();
        KeyCache { path, known, appending: Mutex::new(None) }
    }

    pub fn contains(&self, key: &CacheKey) -> bool {
        self.known.contains(key)
    }

    /// Appends the keys `learned` that it did not hold, each once, in one
    /// write (a listing appends what each chunk of drafts taught it, so a
    /// cold listing of a large branch never holds a key or two for every
    /// draft).
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

/// The first 8 bytes of SHA-256 over a record's key and bytes: an
/// algorithm that is the same in every build.
fn check(key: &CacheKey, record: &[u8]) -> [u8; 8] {
    use sha2::Digest;
    let digest = sha2::Sha256::new().chain_update(key).chain_update(record).finalize();
    digest[..8].try_into().expect("8 of 32 bytes")
}

/// A record's framing as read: key, length, check.
struct Framing {
    key: CacheKey,
    len: u32,
    check: [u8; 8],
}

impl Framing {
    /// The framing, then the record it frames.
    fn write(&self, out: &mut impl Write, record: &[u8]) -> std::io::Result<()> {
        out.write_all(&self.key)?;
        out.write_all(&self.len.to_le_bytes())?;
        out.write_all(&self.check)?;
        out.write_all(record)
    }
}

/// The next record's framing; `None` at the end of the file, an error where
/// the file does not frame a record (cut short, or a length no record has).
fn next_framing(reader: &mut impl Read) -> std::io::Result<Option<Framing>> {
    let mut header = [0u8; HEADER];
    let mut filled = 0;
    while filled < HEADER {
        match reader.read(&mut header[filled..])? {
            0 if filled == 0 => return Ok(None),
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    let len = u32::from_le_bytes(header[20..24].try_into().expect("4 bytes"));
    if len > MAX_RECORD {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    Ok(Some(Framing {
        key: header[..20].try_into().expect("20 bytes"),
        len,
        check: header[24..].try_into().expect("8 bytes"),
    }))
}

impl RecordFile {
    /// Indexes the file `name`, whose first line is `header_line`. One that
    /// is missing or unreadable is empty; one with another first line, or
    /// whose records stop framing before its end (a write cut short), is
    /// removed, to be started again: nothing appended after a break could
    /// be read.
    pub fn load(store: &Store, name: &str, header_line: &str) -> RecordFile {
        let path = store.repo().commondir().join("zen-draft").join(name);
        let header_line = header_line.as_bytes().to_vec();
        let mut index = HashMap::new();
        let mut records = 0;
        let mut reading = Block::default();
        if let Ok(file) = std::fs::File::open(&path) {
            let mut reader = BufReader::with_capacity(BLOCK, file);
            let mut line = vec![0u8; header_line.len()];
            let mut sound = reader.read_exact(&mut line).is_ok() && line == header_line;
            let mut at = header_line.len() as u64;
            while sound {
                match next_framing(&mut reader) {
                    Ok(None) => break,
                    Ok(Some(framing)) if skip(&mut reader, framing.len as usize).is_ok() => {
                        // The last record of a key is the one read.
                        index.insert(framing.key, (at + HEADER as u64, framing.len));
                        at += (HEADER + framing.len as usize) as u64;
                        records += 1;
                    }
                    _ => sound = false,
                }
            }
            if sound {
                // Read through the handle indexed: a rewrite by another
                // listing replaces the file, never this one's records.
                reading.file = Some(reader.into_inner());
            } else {
                let _ = std::fs::remove_file(&path);
                index.clear();
                records = 0;
            }
        }
        let found = reading.file.is_some();
        RecordFile {
            path,
            header_line,
            found,
            index,
            records: Mutex::new(records),
            reading: Mutex::new(reading),
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

    fn read(&self, key: &CacheKey, at: u64, len: u32) -> Option<Vec<u8>> {
        let mut block = lock(&self.reading);
        let (start, end) = (at - HEADER as u64, at + u64::from(len));
        if start < block.start || end > block.start + block.bytes.len() as u64 {
            let mut bytes = vec![0u8; BLOCK.max(HEADER + len as usize)];
            let read = read_at(block.file.as_ref()?, &mut bytes, start);
            bytes.truncate(read);
            (block.start, block.bytes) = (start, bytes);
        }
        let from = (start - block.start) as usize;
        let framed = block.bytes.get(from..from + HEADER + len as usize)?;
        let (header, record) = framed.split_at(HEADER);
        (header[..20] == key[..] && header[24..] == check(key, record)).then(|| record.to_vec())
    }

    /// The record under `key`, decoded, if the file holds one that passes
    /// its check and decodes (one that does not is written again when next
    /// learned).
    pub fn get_as<T>(&self, key: &CacheKey, decode: impl FnOnce(&[u8]) -> Option<T>) -> Option<T> {
        let &(at, len) = self.index.get(key)?;
        let value = self.read(key, at, len).and_then(|record| decode(&record));
        if value.is_none() {
            self.outdated(*key);
        }
        value
    }

    /// Marks the record under `key` as one to write again (the last record
    /// of a key is the one read).
    pub fn outdated(&self, key: CacheKey) {
        lock(&self.outdated).insert(key);
    }

    /// Appends the records the file does not hold yet (or holds outdated),
    /// in one write; one too large to be read back is left out.
    pub fn append(&self, records: &[(CacheKey, Vec<u8>)]) {
        let mut bytes = Vec::new();
        let mut keys = Vec::new();
        let outdated = lock(&self.outdated);
        let new = |key: &CacheKey| !self.index.contains_key(key) || outdated.contains(key);
        for (key, encoded) in records.iter().filter(|(key, encoded)| new(key) && encoded.len() <= MAX_RECORD as usize) {
            let framing = Framing { key: *key, len: encoded.len() as u32, check: check(key, encoded) };
            framing.write(&mut bytes, encoded).expect("writing to memory");
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
    /// removed), rewrites it through a temporary file with the last sound
    /// record of each key used.
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
        let records_of = || -> std::io::Result<BufReader<std::fs::File>> {
            let mut reader = BufReader::with_capacity(BLOCK, std::fs::File::open(&self.path)?);
            let mut line = vec![0u8; self.header_line.len()];
            reader.read_exact(&mut line)?;
            if line == self.header_line { Ok(reader) } else { Err(std::io::ErrorKind::InvalidData.into()) }
        };
        let rewrite = || -> std::io::Result<()> {
            // First where each used key's last sound record is, then those.
            let mut last: HashMap<CacheKey, usize> = HashMap::new();
            let mut reader = records_of()?;
            let mut record = Vec::new();
            let mut n = 0;
            while let Some(framing) = next_framing(&mut reader)? {
                record.resize(framing.len as usize, 0);
                reader.read_exact(&mut record)?;
                if framing.check == check(&framing.key, &record) && used.binary_search(&framing.key).is_ok() {
                    last.insert(framing.key, n);
                }
                n += 1;
            }
            let mut reader = records_of()?;
            let mut out = std::io::BufWriter::new(std::fs::File::create_new(&temporary)?);
            out.write_all(&self.header_line)?;
            let mut n = 0;
            while let Some(framing) = next_framing(&mut reader)? {
                record.resize(framing.len as usize, 0);
                reader.read_exact(&mut record)?;
                if last.get(&framing.key) == Some(&n) {
                    framing.write(&mut out, &record)?;
                }
                n += 1;
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
