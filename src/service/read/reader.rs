//! Reading one draft as every command does: the file, what apply would
//! change on main, and whether its signed records back it.
//!
//! Reading from git ([`DraftReader`], on the one thread that reads) is kept
//! apart from making sense of the bytes ([`Interpreter`], [`judge`]: pure,
//! on every core). Must never: fail a whole listing over one bad file (it
//! becomes [`Listed::Invalid`]), or judge evidence without checking every
//! signature it counts, through the check its caller chose.

use super::rows::{Proposed, Recalled};
use super::{Change, DraftView, EvidenceState, Listed};
use crate::domain::draft::{Draft, DraftType};
use crate::domain::spec::{EndpointSpec, RESOURCE_DIR};
use crate::error::{Code, Error, Result};
use crate::evidence::index_folder;
use crate::evidence::record::{Record, SignedRecord};
use crate::evidence::verify::{DraftFacts, draft_problems};
use crate::store::tree::{DraftFile, FolderCursor};
use crate::store::{BlobRead, Store};
use crate::yaml;
use chrono::{DateTime, Utc};
use git2::{ObjectType, Oid};
use std::cell::RefCell;
use std::collections::HashMap;

/// Largest note we read; a record and its signature are under 2 KiB.
pub(crate) const MAX_NOTE_BYTES: usize = 16 * 1024;

/// One draft's records as found through the notes index: the note blob and
/// the record, or why the note cannot be read.
pub(crate) type FoundRecords = Vec<Result<(Oid, SignedRecord), String>>;

/// Notes as read: each note's blob, and its bytes or why they cannot be read.
pub(crate) type RawNotes = Vec<(Oid, std::result::Result<Vec<u8>, String>)>;

/// A draft file as read from git, before anything was made of it: what the
/// reading thread hands a worker.
pub(crate) struct RawDraft {
    pub path: String,
    pub blob: Oid,
    /// The file's bytes, or why they cannot be read.
    pub bytes: std::result::Result<Vec<u8>, String>,
    /// The tree id of its records' index folder (it names exactly that set).
    pub folder: Option<Oid>,
    /// Its records' notes (blob, bytes or why not), when they were read.
    pub notes: Option<RawNotes>,
    /// The listing row remembered for it, when the file was not read.
    pub row: Option<Recalled>,
}

/// A listing row the reader may use instead of reading a draft file, given
/// the file's path, blob and index folder.
pub(crate) type Remembered<'a> = dyn Fn(&str, Oid, Option<Oid>) -> Option<Recalled> + 'a;

/// Reads drafts and their records from one repository handle, on one thread,
/// along the branch in tree order.
pub(crate) struct DraftReader<'s> {
    store: &'s Store,
    /// The notes tree, walked along the index folders in tree order.
    notes: Option<RefCell<FolderCursor<'s>>>,
}

impl<'s> DraftReader<'s> {
    pub(crate) fn new(store: &'s Store, notes_tip: Option<Oid>) -> Result<DraftReader<'s>> {
        let notes = notes_tip.map(|tip| store.commit_tree(tip)).transpose()?;
        let notes = notes.map(|tree| RefCell::new(FolderCursor::new(store, tree)));
        Ok(DraftReader { store, notes })
    }

    /// Reads one draft file, nothing else.
    fn file(&self, path: &str, blob: Oid) -> RawDraft {
        let bytes = match self.store.read_blob(blob, yaml::MAX_DOCUMENT_BYTES) {
            Ok(BlobRead::Bytes(bytes)) => Ok(bytes),
            Ok(BlobRead::TooLarge(size)) => {
                Err(format!("{size} bytes is over the {} byte limit", yaml::MAX_DOCUMENT_BYTES))
            }
            Err(e) => Err(e.message),
        };
        RawDraft { path: path.to_string(), blob, bytes, folder: None, notes: None, row: None }
    }

    /// Reads draft files (path, blob, index folder); with `evidence`, their
    /// notes when `wants_notes` says so given the file's blob and folder. A
    /// file `remembered` has a row for is not read, nor are its notes. All
    /// the files first, then all the notes: a pack keeps draft files and
    /// notes apart, so reading them region by region keeps the mapped pack
    /// windows few.
    pub(crate) fn raw(
        &self,
        files: &[DraftFile],
        evidence: bool,
        wants_notes: &dyn Fn(Oid, Option<Oid>) -> bool,
        remembered: Option<&Remembered<'_>>,
    ) -> Result<Vec<RawDraft>> {
        let mut drafts = Vec::with_capacity(files.len());
        for (path, blob, folder) in files {
            let (blob, folder) = (*blob, folder.filter(|_| evidence));
            let mut draft = match remembered.and_then(|remembered| remembered(path, blob, folder)) {
                Some(row) => RawDraft {
                    path: path.clone(),
                    blob,
                    bytes: Ok(Vec::new()),
                    folder: None,
                    notes: None,
                    row: Some(row),
                },
                None => self.file(path, blob),
            };
            draft.folder = folder;
            drafts.push(draft);
        }
        if !evidence {
            return Ok(drafts);
        }
        for draft in &mut drafts {
            if draft.row.is_none() && draft.folder.is_some() && wants_notes(draft.blob, draft.folder) {
                draft.notes = draft.folder.map(|folder| self.notes_in(folder)).transpose()?;
            }
        }
        Ok(drafts)
    }

    /// The records indexed beside the draft file at `draft_path`.
    pub(crate) fn records(&self, draft_path: &str) -> Result<FoundRecords> {
        let Some(folder) = self.folder_id(draft_path)? else { return Ok(Vec::new()) };
        Ok(parse_notes(self.notes_in(folder)?))
    }

    fn notes_in(&self, folder: Oid) -> Result<RawNotes> {
        let folder = self.store.repo().find_tree(folder)?;
        folder.iter().map(|entry| Ok((entry.id(), read_note(self.store, entry.id())?))).collect()
    }

    /// The tree id of the index folder of the draft at `draft_path`: it
    /// names exactly the set of that draft's records.
    pub(crate) fn folder_id(&self, draft_path: &str) -> Result<Option<Oid>> {
        let Some(notes) = &self.notes else { return Ok(None) };
        let (parent, name) = index_folder(draft_path).rsplit_once('/').unwrap_or(("", draft_path));
        let Some(parent_tree) = notes.borrow_mut().folder(parent)? else { return Ok(None) };
        match parent_tree.get_name(name) {
            Some(entry) if entry.kind() == Some(ObjectType::Tree) => Ok(Some(entry.id())),
            _ => Ok(None),
        }
    }
}

/// A note's bytes, or why a note that large is no record (a read that fails
/// is the error).
pub(crate) fn read_note(store: &Store, id: Oid) -> Result<std::result::Result<Vec<u8>, String>> {
    Ok(match store.read_blob(id, MAX_NOTE_BYTES)? {
        BlobRead::Bytes(bytes) => Ok(bytes),
        BlobRead::TooLarge(size) => Err(format!("the note is {size} bytes, too large to be a record")),
    })
}

/// The record a note blob holds, or `None` when it holds none (too large,
/// not UTF-8, not a signed record); a store error is an error.
pub(crate) fn read_record(store: &Store, id: Oid) -> Result<Option<SignedRecord>> {
    Ok(read_note(store, id)?
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| SignedRecord::parse_note(&text).ok()))
}

/// Notes' bytes as records.
pub(crate) fn parse_notes(notes: RawNotes) -> FoundRecords {
    notes
        .into_iter()
        .map(|(blob, bytes)| {
            let text = String::from_utf8(bytes?).map_err(|_| "the note is not UTF-8".to_string())?;
            SignedRecord::parse_note(&text).map(|signed| (blob, signed)).map_err(|e| e.0)
        })
        .collect()
}

/// What makes a draft of a file's bytes: main's resources (to tell what
/// apply would change) and the time. Pure, so every worker shares one.
pub(crate) struct Interpreter {
    /// Main's `endpoints/`: file name to blob.
    resources: HashMap<String, Oid>,
    now: DateTime<Utc>,
}

impl Interpreter {
    pub(crate) fn new(store: &Store, main_commit: Oid, now: DateTime<Utc>) -> Result<Interpreter> {
        let main_tree = store.commit_tree(main_commit)?;
        let resources = match store.subtree(&main_tree, RESOURCE_DIR)? {
            Some(dir) => dir
                .iter()
                .filter(|entry| entry.kind() == Some(ObjectType::Blob))
                .filter_map(|entry| Some((entry.name().ok()?.to_string(), entry.id())))
                .collect(),
            None => HashMap::new(),
        };
        Ok(Interpreter { resources, now })
    }

    /// Reads and checks one draft file; its evidence is left `Missing` for
    /// the caller to judge.
    pub(crate) fn listed(&self, raw: &RawDraft) -> Listed {
        let path = raw.path.clone();
        let invalid = |path: String, why: String| {
            Listed::Invalid {
            error: Error::new(Code::InvalidDraft, format!("{path}: {why}")).with_hint(
                "the file on the drafts branch cannot be read as a draft; inspect it with `git show <drafts-branch>:<path>`",
            ),
            path,
        }
        };
        let bytes = match &raw.bytes {
            Ok(bytes) => bytes,
            Err(why) => return invalid(path, why.clone()),
        };
        let draft: Draft = match yaml::parse(bytes) {
            Ok(draft) => draft,
            Err(e) => return invalid(path, e.to_string()),
        };
        let id = match draft.check_consistency(&path) {
            Ok(id) => id,
            Err(why) => return invalid(path, why),
        };
        let change = match self.change(&draft) {
            Ok(change) => change,
            Err(e) => return invalid(path, e.message),
        };
        let state = draft.state(self.now);
        let blob = raw.blob;
        Listed::Draft(Box::new(DraftView { path, blob, id, state, change, draft, evidence: EvidenceState::Missing }))
    }

    /// `new`, `modify` or `none`, comparing blob ids so main's file is not even read.
    fn change(&self, draft: &Draft) -> Result<Option<Change>> {
        // `proposed` computes the blob whenever main has the resource, so
        // the change can always be told.
        Ok(self.change_of(draft.spec_name(), self.proposed(draft)?).flatten())
    }

    /// [`Interpreter::change`] of a remembered row; `None` when the row
    /// cannot tell (its proposed blob was not computed, and main now has the
    /// resource).
    pub(crate) fn change_of(&self, name: Option<&str>, proposed: Proposed) -> Option<Option<Change>> {
        let Some(name) = name else { return Some(None) };
        let Some(current) = self.resources.get(&format!("{name}.yaml")) else { return Some(Some(Change::New)) };
        match proposed {
            Proposed::Blob(blob) if blob == *current => Some(Some(Change::None)),
            Proposed::Blob(_) | Proposed::Nothing => Some(Some(Change::Modify)),
            Proposed::NotComputed => None,
        }
    }

    /// What a row remembers of the blob apply would write for `draft`: not
    /// computed while main has no such resource.
    pub(crate) fn proposed(&self, draft: &Draft) -> Result<Proposed> {
        match draft.spec_name() {
            // Without a name there is no resource, and nothing to compare.
            None => Ok(Proposed::Nothing),
            Some(name) if !self.resources.contains_key(&format!("{name}.yaml")) => Ok(Proposed::NotComputed),
            Some(_) => Ok(proposed_blob(draft)?.map_or(Proposed::Nothing, Proposed::Blob)),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.now
    }
}

/// The blob apply would write for an endpoint draft's spec.
fn proposed_blob(draft: &Draft) -> Result<Option<Oid>> {
    let Some(spec) = endpoint_spec(draft) else { return Ok(None) };
    Ok(Some(Oid::hash_object(ObjectType::Blob, spec.render_resource().as_bytes())?))
}

/// Whether a draft's records back it, given how to check one signature
/// (by note blob): verified, missing or invalid.
pub(crate) fn judge(
    view: &DraftView,
    records: FoundRecords,
    signature_ok: &mut dyn FnMut(Oid, &SignedRecord) -> bool,
) -> EvidenceState {
    if records.is_empty() {
        return EvidenceState::Missing;
    }
    let Ok(records) = records.into_iter().collect::<Result<Vec<_>, _>>() else { return EvidenceState::Invalid };
    let facts = draft_facts(view);
    if records.iter().any(|(_, r)| r.record.draft_id() != facts.id) {
        return EvidenceState::Invalid;
    }
    if !records.iter().any(|(_, r)| matches!(r.record, Record::DraftCreated { .. })) {
        return EvidenceState::Missing;
    }
    if !records.iter().all(|(blob, signed)| signature_ok(*blob, signed)) {
        return EvidenceState::Invalid;
    }
    let refs: Vec<&SignedRecord> = records.iter().map(|(_, r)| r).collect();
    if draft_problems(&facts, &refs, &|_| Ok(())).is_empty() { EvidenceState::Verified } else { EvidenceState::Invalid }
}

pub(crate) fn draft_facts(view: &DraftView) -> DraftFacts {
    DraftFacts {
        id: view.id.to_string(),
        draft_type: view.draft.draft_type.to_string(),
        created_by: view.draft.created_by.clone(),
        spec_digest: view.draft.proposed_spec.as_ref().map(crate::domain::digest::value_digest),
        status: match view.draft.status {
            crate::domain::draft::Status::Pending => "pending",
            crate::domain::draft::Status::Applied => "applied",
            crate::domain::draft::Status::Discarded => "discarded",
        }
        .to_string(),
        applied_commit: view.draft.applied_commit.clone(),
        provenance_digest: view.draft.provenance().digest(),
    }
}

pub(crate) fn endpoint_spec(draft: &Draft) -> Option<EndpointSpec> {
    if draft.draft_type != DraftType::Endpoint {
        return None;
    }
    serde_json::from_value(draft.proposed_spec.clone()?).ok()
}
