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
use crate::store::cache::{CacheKey, RecordFile};
use crate::store::tree::{DraftFile, FolderMemo};
use chrono::{DateTime, Utc};
use git2::Oid;
use serde::Serialize;
use serde::ser::SerializeMap;

const FILE: &str = "rows-v1";
const FOLDERS_FILE: &str = "folders-v1";
const FOLDERS_HEADER_LINE: &str = concat!(
    "zen-draft listing folders v1, zen-draft ",
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ZEN_BUILD_COMMIT"),
    ")\n"
);
/// The file's first line: rows written by another build are never read
/// (the file is started again).
const HEADER_LINE: &str = concat!(
    "zen-draft listing rows v1, zen-draft ",
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ZEN_BUILD_COMMIT"),
    ")\n"
);

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

/// A row that stands in for its file, with the change it derived from main
/// when it was recalled.
pub(crate) struct Recalled {
    pub row: Row,
    pub change: Option<Change>,
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
            head: members(&Members { draft, after_status: false }),
            tail: members(&Members { draft, after_status: true }),
        }
    }

    pub(crate) fn state(&self, now: DateTime<Utc>) -> State {
        State::of(self.status, self.expires_at, now)
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

/// A draft's members before `status`, or after it up to the derived ones,
/// as a map.
struct Members<'a> {
    draft: &'a Draft,
    after_status: bool,
}

impl Serialize for Members<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if self.after_status {
            tail_members(self.draft, &mut map)?;
        } else {
            head_members(self.draft, &mut map)?;
        }
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
    optional(map, "rationale", &d.rationale)?;
    if !d.links.is_empty() {
        map.serialize_entry("links", &d.links)?;
    }
    optional(map, "agent", &d.agent)?;
    optional(map, "applied_by", &d.applied_by)?;
    optional(map, "applied_at", &d.applied_at)?;
    optional(map, "applied_commit", &d.applied_commit)?;
    optional(map, "resource_created", &d.resource_created)?;
    optional(map, "discarded_by", &d.discarded_by)?;
    optional(map, "discarded_at", &d.discarded_at)?;
    optional(map, "reason", &d.reason)?;
    Ok(())
}

/// `key: value` when there is a value; nothing when not.
fn optional<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &str,
    value: &Option<T>,
) -> std::result::Result<(), M::Error> {
    match value {
        Some(value) => map.serialize_entry(key, value),
        None => Ok(()),
    }
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
    file: RecordFile,
}

impl Rows {
    pub(crate) fn load(store: &Store) -> Rows {
        Rows { file: RecordFile::load(store, FILE, HEADER_LINE) }
    }

    /// A row's key: its draft file's blob (the file names the build).
    pub(crate) fn key(blob: Oid) -> CacheKey {
        blob.as_bytes().try_into().expect("a SHA-1 object id")
    }

    /// Whether the file holds a row for `key`; one it holds is kept.
    pub(crate) fn holds(&self, key: &CacheKey) -> bool {
        self.file.holds(key)
    }

    /// The row under `key`, if the file holds one that decodes.
    pub(crate) fn get(&self, key: &CacheKey) -> Option<Row> {
        self.file.get_as(key, Row::decode)
    }

    /// Marks the row under `key` as one to learn again.
    pub(crate) fn outdated(&self, key: CacheKey) {
        self.file.outdated(key);
    }

    /// Appends rows a listing read from their files, those the file does
    /// not hold yet (or holds outdated), in one write.
    pub(crate) fn learn(&self, rows: &[(CacheKey, Row)]) {
        let encoded: Vec<(CacheKey, Vec<u8>)> = rows.iter().map(|(key, row)| (*key, row.encode())).collect();
        self.file.append(&encoded);
    }

    pub(crate) fn finish(self) {
        self.file.finish();
    }
}

/// The folders file: for each folder three levels under `drafts/` (its
/// tree, and its index folder's tree in the notes), the files below it and
/// their index folders. The id-time fan-out puts about 65 seconds of drafts
/// in such a folder: a listing after a burst reads a few dozen trees
/// instead of two per draft, and a new draft has it read one folder again.
pub(crate) struct Folders {
    file: RecordFile,
}

impl Folders {
    pub(crate) const DEPTH: usize = 3;

    pub(crate) fn load(store: &Store) -> Folders {
        Folders { file: RecordFile::load(store, FOLDERS_FILE, FOLDERS_HEADER_LINE) }
    }

    fn key(folder: Oid, index: Option<Oid>) -> CacheKey {
        super::cache_key(b"zen-draft folder files v1", &[folder, index.unwrap_or(Oid::ZERO_SHA1)])
    }

    pub(crate) fn finish(self) {
        self.file.finish();
    }
}

impl FolderMemo for Folders {
    fn get(&self, folder: Oid, index: Option<Oid>) -> Option<Vec<DraftFile>> {
        let key = Folders::key(folder, index);
        if !self.file.holds(&key) {
            return None;
        }
        self.file.get_as(&key, decode_files)
    }

    fn put(&self, folder: Oid, index: Option<Oid>, files: &[DraftFile]) {
        let mut out = Vec::with_capacity(4 + files.len() * 80);
        out.extend_from_slice(&(files.len() as u32).to_le_bytes());
        for (path, blob, index) in files {
            bytes(&mut out, path.as_bytes());
            out.extend_from_slice(blob.as_bytes());
            match index {
                Some(index) => {
                    out.push(1);
                    out.extend_from_slice(index.as_bytes());
                }
                None => out.push(0),
            }
        }
        let key = Folders::key(folder, index);
        self.file.append(&[(key, out)]);
    }
}

/// The files a folder record holds, or `None` for anything else.
fn decode_files(bytes: &[u8]) -> Option<Vec<DraftFile>> {
    let mut input = Input(bytes);
    let count = u32::from_le_bytes(input.take(4)?.try_into().ok()?);
    let mut files = Vec::with_capacity(count.min(65_536) as usize);
    for _ in 0..count {
        let path = std::str::from_utf8(input.bytes()?).ok()?;
        // Paths below the folder: `/name`, with no way back up.
        if !path.starts_with('/') || path.split('/').skip(1).any(|part| part.is_empty() || part == "." || part == "..")
        {
            return None;
        }
        let blob = Oid::from_bytes(input.take(20)?).ok()?;
        let index = match input.take(1)?[0] {
            0 => None,
            1 => Some(Oid::from_bytes(input.take(20)?).ok()?),
            _ => return None,
        };
        files.push((path.to_string(), blob, index));
    }
    input.0.is_empty().then_some(files)
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
