//! Listing rows remembered under `.git/zen-draft/rows-v1`, so that a second
//! `draft --json list` reads no draft file at all: for each draft blob, the
//! JSON a listing writes for it, cut where the derived fields go, and what
//! those fields are derived from (its status, type, expiry, spec name and
//! the resource blob apply would write).
//!
//! A row is a pure function of the blob's bytes and of this build (its key
//! names both), so it never goes stale; what depends on anything else (the
//! time, main, the evidence, the id prefix) is derived again on every
//! listing. The file is appended to chunk by chunk as a listing learns rows,
//! so memory stays flat for a branch of any size, and rewritten with only
//! the rows of the branch when it holds more than twice as many.
//!
//! Must never: be read by anything but the listing a person or an agent
//! reads (`draft --json list`); nothing that decides reads it, and a row
//! that does not decode is read again from git. Failing to read or write it
//! is never an error.

use super::Change;
use crate::domain::draft::{Draft, DraftType, State, Status};
use crate::domain::draft_id::DraftId;
use crate::store::Store;
use crate::store::cache::CacheKey;
use chrono::{DateTime, Utc};
use git2::Oid;
use serde::Serialize;
use serde::ser::SerializeMap;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Mutex;

const FILE: &str = "rows-v1";
/// The file's first line: rows written by another build are never read
/// (the file is started again).
const HEADER_LINE: &[u8] = concat!("zen-draft listing rows v1, zen-draft ", env!("CARGO_PKG_VERSION"), "\n").as_bytes();
/// How much of the file one read brings in: rows are read in the order they
/// were written, which is the branch's order.
const BLOCK: usize = 64 * 1024;
/// Largest row read back (a draft file is at most 256 KiB, and a row holds it once).
const MAX_ROW: u32 = 1024 * 1024;

/// What a listing shows of one draft file, as remembered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub id: DraftId,
    pub status: Status,
    pub draft_type: DraftType,
    pub expires_at: DateTime<Utc>,
    pub spec_name: Option<String>,
    pub proposed: Proposed,
    /// The JSON members before `status`, and those after it up to the
    /// derived ones, without braces.
    head: Vec<u8>,
    tail: Vec<u8>,
}

/// The blob apply would write for a draft's spec: what tells `modify` from
/// `none` once main has the resource. Not computed while main has none (the
/// draft is `new`); such a row does not stand in for its file once main has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Proposed {
    Blob(Oid),
    /// No endpoint spec to render.
    Nothing,
    NotComputed,
}

/// What is derived again on every listing.
pub(crate) struct Derived<'a> {
    pub state: State,
    pub short_id: &'a str,
    pub path: &'a str,
    pub change: Option<Change>,
    pub evidence: super::EvidenceState,
}

impl Row {
    pub(crate) fn of(draft: &Draft, id: DraftId, proposed: Proposed) -> Row {
        Row {
            id,
            status: draft.status,
            draft_type: draft.draft_type,
            expires_at: draft.expires_at,
            spec_name: draft.spec_name().map(str::to_string),
            proposed,
            head: members(&Head(draft)),
            tail: members(&Tail(draft)),
        }
    }

    pub(crate) fn state(&self, now: DateTime<Utc>) -> State {
        match self.status {
            Status::Pending if now >= self.expires_at => State::Expired,
            Status::Pending => State::Pending,
            Status::Applied => State::Applied,
            Status::Discarded => State::Discarded,
        }
    }

    /// The entry's JSON, exactly as `DraftView::to_json` serializes.
    pub(crate) fn render(&self, derived: &Derived<'_>) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.head.len() + self.tail.len() + 160);
        out.push(b'{');
        out.extend_from_slice(&self.head);
        member(&mut out, "status", derived.state.as_str());
        out.push(b',');
        out.extend_from_slice(&self.tail);
        member(&mut out, "short_id", derived.short_id);
        member(&mut out, "path", derived.path);
        member(&mut out, "change", &derived.change);
        member(&mut out, "evidence", &derived.evidence);
        out.push(b'}');
        out
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.head.len() + self.tail.len() + 96);
        bytes(&mut out, self.id.to_string().as_bytes());
        out.push(match self.status {
            Status::Pending => 0,
            Status::Applied => 1,
            Status::Discarded => 2,
        });
        bytes(&mut out, self.draft_type.as_str().as_bytes());
        out.extend_from_slice(&self.expires_at.timestamp().to_le_bytes());
        out.extend_from_slice(&self.expires_at.timestamp_subsec_nanos().to_le_bytes());
        match &self.spec_name {
            Some(name) => {
                out.push(1);
                bytes(&mut out, name.as_bytes());
            }
            None => out.push(0),
        }
        match self.proposed {
            Proposed::Nothing => out.push(0),
            Proposed::Blob(blob) => {
                out.push(1);
                out.extend_from_slice(blob.as_bytes());
            }
            Proposed::NotComputed => out.push(2),
        }
        bytes(&mut out, &self.head);
        bytes(&mut out, &self.tail);
        out
    }

    /// The row `bytes` encode, or `None` for anything else.
    fn decode(bytes: &[u8]) -> Option<Row> {
        let mut input = Input(bytes);
        let id = DraftId::parse(std::str::from_utf8(input.bytes()?).ok()?)?;
        let status = match input.take(1)?[0] {
            0 => Status::Pending,
            1 => Status::Applied,
            2 => Status::Discarded,
            _ => return None,
        };
        let draft_type = DraftType::parse(std::str::from_utf8(input.bytes()?).ok()?)?;
        let seconds = i64::from_le_bytes(input.take(8)?.try_into().ok()?);
        let nanos = u32::from_le_bytes(input.take(4)?.try_into().ok()?);
        let expires_at = DateTime::from_timestamp(seconds, nanos)?;
        let spec_name = match input.take(1)?[0] {
            0 => None,
            1 => Some(String::from_utf8(input.bytes()?.to_vec()).ok()?),
            _ => return None,
        };
        let proposed = match input.take(1)?[0] {
            0 => Proposed::Nothing,
            1 => Proposed::Blob(Oid::from_bytes(input.take(20)?).ok()?),
            2 => Proposed::NotComputed,
            _ => return None,
        };
        let head = input.bytes()?.to_vec();
        let tail = input.bytes()?.to_vec();
        // Both are JSON members the listing writes as they are.
        if !input.0.is_empty() || head.is_empty() || tail.is_empty() {
            return None;
        }
        std::str::from_utf8(&head).ok()?;
        std::str::from_utf8(&tail).ok()?;
        Some(Row { id, status, draft_type, expires_at, spec_name, proposed, head, tail })
    }
}

/// A map's members as JSON, without the braces.
fn members<T: Serialize>(fields: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(fields).expect("a draft is plain data");
    bytes.pop();
    bytes.remove(0);
    bytes
}

/// `,"key":value`
fn member<T: Serialize + ?Sized>(out: &mut Vec<u8>, key: &str, value: &T) {
    out.push(b',');
    serde_json::to_writer(&mut *out, key).expect("a key is plain data");
    out.push(b':');
    serde_json::to_writer(&mut *out, value).expect("a field is plain data");
}

/// A draft's members before `status`, as a map.
struct Head<'a>(&'a Draft);
/// A draft's members after `status`, as a map.
struct Tail<'a>(&'a Draft);

impl Serialize for Head<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        head_members(self.0, &mut map)?;
        map.end()
    }
}

impl Serialize for Tail<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        tail_members(self.0, &mut map)?;
        map.end()
    }
}

/// The members a listing writes before `status`.
pub(crate) fn head_members<M: SerializeMap>(d: &Draft, map: &mut M) -> std::result::Result<(), M::Error> {
    map.serialize_entry("version", &d.version)?;
    map.serialize_entry("id", &d.id)?;
    map.serialize_entry("type", &d.draft_type)
}

/// The members a listing writes after `status`, up to the derived ones.
pub(crate) fn tail_members<M: SerializeMap>(d: &Draft, map: &mut M) -> std::result::Result<(), M::Error> {
    map.serialize_entry("tenant", &d.tenant)?;
    map.serialize_entry("created_by", &d.created_by)?;
    map.serialize_entry("created_at", &d.created_at)?;
    map.serialize_entry("expires_at", &d.expires_at)?;
    map.serialize_entry("proposed_spec", &d.proposed_spec)?;
    map.serialize_entry("base", &d.base)?;
    if let Some(v) = &d.rationale {
        map.serialize_entry("rationale", v)?;
    }
    if !d.links.is_empty() {
        map.serialize_entry("links", &d.links)?;
    }
    if let Some(v) = &d.agent {
        map.serialize_entry("agent", v)?;
    }
    if let Some(v) = &d.applied_by {
        map.serialize_entry("applied_by", v)?;
    }
    if let Some(v) = &d.applied_at {
        map.serialize_entry("applied_at", v)?;
    }
    if let Some(v) = &d.applied_commit {
        map.serialize_entry("applied_commit", v)?;
    }
    if let Some(v) = &d.resource_created {
        map.serialize_entry("resource_created", v)?;
    }
    if let Some(v) = &d.discarded_by {
        map.serialize_entry("discarded_by", v)?;
    }
    if let Some(v) = &d.discarded_at {
        map.serialize_entry("discarded_at", v)?;
    }
    if let Some(v) = &d.reason {
        map.serialize_entry("reason", v)?;
    }
    Ok(())
}

/// `u32` length, then the bytes.
fn bytes(out: &mut Vec<u8>, value: &[u8]) {
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(value);
}

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(taken)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().ok()?);
        self.take(len as usize)
    }
}

/// The rows file of one repository, as one listing uses it: the reading
/// thread looks rows up, the workers append what they learn.
pub(crate) struct Rows {
    path: PathBuf,
    /// Whether the file was there, written by this build, when loaded.
    found: bool,
    /// Each row's key: where its bytes are in the file.
    index: HashMap<CacheKey, (u64, u32)>,
    /// Records in the file, counting any written twice.
    records: Mutex<usize>,
    reading: Mutex<Block>,
    appending: Mutex<Option<std::fs::File>>,
    /// Keys this listing found or learned: what a rewrite keeps.
    used: Mutex<Vec<CacheKey>>,
    /// Keys whose row could not stand in for its file: learned again.
    outdated: Mutex<HashSet<CacheKey>>,
}

/// The part of the file read last.
#[derive(Default)]
struct Block {
    file: Option<std::fs::File>,
    start: u64,
    bytes: Vec<u8>,
}

/// Record framing: the key, the row's length, a check over both and the
/// row, then the row. A record that fails its check is not read: a garbled
/// file shows nothing but what git holds.
const HEADER: usize = 20 + 4 + 8;

fn check(key: &CacheKey, row: &[u8]) -> [u8; 8] {
    use std::hash::Hasher;
    // Fixed keys: the same build (the file's first line) computes the same check.
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(key);
    hasher.write(row);
    hasher.finish().to_le_bytes()
}

impl Rows {
    /// Indexes the file; a missing, unreadable or cut one is indexed as far
    /// as it reads, and one another build wrote is removed.
    pub(crate) fn load(store: &Store) -> Rows {
        let path = store.repo().commondir().join("zen-draft").join(FILE);
        let mut index = HashMap::new();
        let mut records = 0;
        let mut found = false;
        if let Ok(file) = std::fs::File::open(&path) {
            let mut reader = BufReader::with_capacity(BLOCK, file);
            let mut line = vec![0u8; HEADER_LINE.len()];
            found = reader.read_exact(&mut line).is_ok() && line == HEADER_LINE;
            if !found {
                let _ = std::fs::remove_file(&path);
            }
            let mut at = HEADER_LINE.len() as u64;
            let mut header = [0u8; HEADER];
            while found && reader.read_exact(&mut header).is_ok() {
                let key: CacheKey = header[..20].try_into().expect("20 bytes");
                let len = u32::from_le_bytes(header[20..24].try_into().expect("4 bytes"));
                if len > MAX_ROW || skip(&mut reader, len as usize).is_err() {
                    break;
                }
                index.insert(key, (at + HEADER as u64, len));
                at += (HEADER + len as usize) as u64;
                records += 1;
            }
        }
        Rows {
            path,
            found,
            index,
            records: Mutex::new(records),
            reading: Mutex::new(Block::default()),
            appending: Mutex::new(None),
            used: Mutex::new(Vec::with_capacity(records)),
            outdated: Mutex::new(HashSet::new()),
        }
    }

    /// A row's key: its draft file's blob (the file names the build).
    pub(crate) fn key(blob: Oid) -> CacheKey {
        blob.as_bytes().try_into().expect("a SHA-1 object id")
    }

    /// Whether the file holds a row for `key`; one it holds is kept by a rewrite.
    pub(crate) fn holds(&self, key: &CacheKey) -> bool {
        let held = self.index.contains_key(key);
        if held {
            lock(&self.used).push(*key);
        }
        held
    }

    /// The row under `key`, if the file holds one that decodes.
    pub(crate) fn get(&self, key: &CacheKey) -> Option<Row> {
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
        let (header, row) = framed.split_at(HEADER);
        (header[24..] == check(key, row)).then(|| Row::decode(row)).flatten()
    }

    /// Marks the row under `key` as one to learn again (the last record of
    /// a key is the one read).
    pub(crate) fn outdated(&self, key: CacheKey) {
        lock(&self.outdated).insert(key);
    }

    /// Appends rows a listing read from their files, those the file does not
    /// hold yet (or holds outdated), in one write.
    pub(crate) fn learn(&self, rows: &[(CacheKey, Row)]) {
        let mut bytes = Vec::new();
        let mut keys = Vec::new();
        let outdated = lock(&self.outdated);
        let new = |key: &CacheKey| !self.index.contains_key(key) || outdated.contains(key);
        for (key, row) in rows.iter().filter(|(key, _)| new(key)) {
            let encoded = row.encode();
            bytes.extend_from_slice(key);
            bytes.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&check(key, &encoded));
            bytes.extend_from_slice(&encoded);
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
            file.write_all(HEADER_LINE)?;
            std::fs::rename(&temporary, &self.path)?;
            Ok(file)
        };
        start().inspect_err(|_| drop(std::fs::remove_file(&temporary))).ok()
    }

    fn temporary(&self) -> PathBuf {
        self.path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()))
    }

    /// After a listing: when the file holds more than twice the rows this
    /// listing used, and 64 more (rows of files since rewritten or removed),
    /// rewrites it with those alone, through a temporary file.
    pub(crate) fn finish(self) {
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
            let mut line = vec![0u8; HEADER_LINE.len()];
            reader.read_exact(&mut line)?;
            if line != HEADER_LINE {
                return Ok(());
            }
            let mut out = std::io::BufWriter::new(std::fs::File::create_new(&temporary)?);
            out.write_all(HEADER_LINE)?;
            let mut kept: HashSet<CacheKey> = HashSet::new();
            let mut header = [0u8; HEADER];
            while reader.read_exact(&mut header).is_ok() {
                let key: CacheKey = header[..20].try_into().expect("20 bytes");
                let len = u32::from_le_bytes(header[20..24].try_into().expect("4 bytes"));
                if len > MAX_ROW {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        let text = "version: 1\nid: 01a230b4-8ddb-7911-8a5a-967fd7d7c629\ntype: endpoint\nstatus: pending\ntenant: acme\n\
            created_by: agent:ops-bot\ncreated_at: \"2026-12-01T08:24:28Z\"\nexpires_at: \"2026-12-08T08:24:28.25Z\"\n\
            proposed_spec:\n  name: x\n  provider: stripe\n  target_url: https://h.example.com/x\nbase: null\n";
        let draft: Draft = crate::yaml::parse(text.as_bytes()).unwrap();
        let id = DraftId::parse(&draft.id).unwrap();
        Row::of(&draft, id, Proposed::Blob(Oid::hash_object(git2::ObjectType::Blob, b"x").unwrap()))
    }

    #[test]
    fn a_row_decodes_to_itself_and_nothing_else_decodes() {
        let row = row();
        let encoded = row.encode();
        assert_eq!(Row::decode(&encoded), Some(row.clone()));
        assert_eq!(row.state("2026-12-08T08:24:28.24Z".parse().unwrap()), State::Pending);
        assert_eq!(row.state("2026-12-08T08:24:28.25Z".parse().unwrap()), State::Expired, "to the nanosecond");
        for cut in 0..encoded.len() {
            assert_eq!(Row::decode(&encoded[..cut]), None, "cut at {cut}");
        }
        let mut longer = encoded.clone();
        longer.push(0);
        assert_eq!(Row::decode(&longer), None);
        // Any byte changed either fails to decode or decodes to a row (the
        // framing's check is what catches the rest); none panics.
        for at in 0..encoded.len() {
            let mut changed = encoded.clone();
            changed[at] ^= 0xff;
            let _ = Row::decode(&changed);
        }
    }
}
