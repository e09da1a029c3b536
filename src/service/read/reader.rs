//! Reading one draft as every command does: the file, what apply would
//! change on main, and whether its signed records back it.
//!
//! A reader belongs to one repository handle and one thread; a listing runs
//! one per core, each on its own handle (libgit2 handles are not shared
//! between threads). Must never: fail a whole listing over one bad file (it
//! becomes [`Listed::Invalid`]), or judge evidence without checking every
//! signature it counts, through the check its caller chose.

use super::{Change, DraftView, EvidenceState, Listed};
use crate::domain::draft::{Draft, DraftType};
use crate::domain::spec::{EndpointSpec, RESOURCE_DIR};
use crate::error::{Code, Error, Result};
use crate::evidence::index_folder;
use crate::evidence::record::{Record, SignedRecord};
use crate::evidence::verify::{DraftFacts, draft_problems};
use crate::store::tree::FolderCursor;
use crate::store::{BlobRead, Store};
use crate::yaml;
use chrono::{DateTime, Utc};
use git2::{ObjectType, Oid, Tree};
use std::cell::RefCell;

/// Largest note we read; a record and its signature are under 2 KiB.
pub(crate) const MAX_NOTE_BYTES: usize = 16 * 1024;

/// One draft's records as found through the notes index: the note blob and
/// the record, or why the note cannot be read.
pub(crate) type FoundRecords = Vec<Result<(Oid, SignedRecord), String>>;

pub(crate) struct DraftReader<'s> {
    store: &'s Store,
    /// Main's `endpoints/`, where drafts' resources live.
    resources: Option<Tree<'s>>,
    /// The notes tree, walked along the index folders in tree order.
    notes: Option<RefCell<FolderCursor<'s>>>,
    now: DateTime<Utc>,
}

impl<'s> DraftReader<'s> {
    pub(crate) fn new(
        store: &'s Store,
        main_commit: Oid,
        notes_tip: Option<Oid>,
        now: DateTime<Utc>,
    ) -> Result<DraftReader<'s>> {
        let main_tree = store.commit_tree(main_commit)?;
        let resources = store.subtree(&main_tree, RESOURCE_DIR)?;
        let notes = notes_tip.map(|tip| store.commit_tree(tip)).transpose()?;
        let notes = notes.map(|tree| RefCell::new(FolderCursor::new(store, tree)));
        Ok(DraftReader { store, resources, notes, now })
    }

    /// Reads and checks one draft file; its evidence is left `Missing` for
    /// the caller to judge.
    pub(crate) fn load(&self, path: String, blob: Oid) -> Listed {
        let invalid = |path: String, why: String| {
            Listed::Invalid {
            error: Error::new(Code::InvalidDraft, format!("{path}: {why}")).with_hint(
                "the file on the drafts branch cannot be read as a draft; inspect it with `git show <drafts-branch>:<path>`",
            ),
            path,
        }
        };
        let bytes = match self.store.read_blob(blob, yaml::MAX_DOCUMENT_BYTES) {
            Ok(BlobRead::Bytes(bytes)) => bytes,
            Ok(BlobRead::TooLarge(size)) => {
                let limit = yaml::MAX_DOCUMENT_BYTES;
                return invalid(path, format!("{size} bytes is over the {limit} byte limit"));
            }
            Err(e) => return invalid(path, e.message),
        };
        let draft: Draft = match yaml::parse(&bytes) {
            Ok(draft) => draft,
            Err(e) => return invalid(path, e.to_string()),
        };
        let id = match draft.check_consistency(&path) {
            Ok(id) => id,
            Err(why) => return invalid(path, why),
        };
        let change = match change(self.resources.as_ref(), &draft) {
            Ok(change) => change,
            Err(e) => return invalid(path, e.message),
        };
        let state = draft.state(self.now);
        Listed::Draft(Box::new(DraftView { path, blob, id, state, change, draft, evidence: EvidenceState::Missing }))
    }

    /// The records indexed beside the draft file at `draft_path`.
    pub(crate) fn records(&self, draft_path: &str) -> Result<FoundRecords> {
        let Some(folder) = self.folder_id(draft_path)? else { return Ok(Vec::new()) };
        let folder = self.store.repo().find_tree(folder)?;
        let mut records = Vec::new();
        for entry in folder.iter() {
            let note = match self.store.read_blob(entry.id(), MAX_NOTE_BYTES)? {
                BlobRead::Bytes(bytes) => String::from_utf8(bytes)
                    .map_err(|_| "the note is not UTF-8".to_string())
                    .and_then(|text| SignedRecord::parse_note(&text).map_err(|e| e.0)),
                BlobRead::TooLarge(size) => Err(format!("the note is {size} bytes")),
            };
            records.push(note.map(|signed| (entry.id(), signed)));
        }
        Ok(records)
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
    }
}

/// `new`, `modify` or `none`, comparing blob ids so main's file is not even read.
fn change(resources: Option<&Tree<'_>>, draft: &Draft) -> Result<Option<Change>> {
    let Some(name) = draft.spec_name() else {
        return Ok(None);
    };
    let current = resources
        .and_then(|dir| dir.get_name(&format!("{name}.yaml")))
        .filter(|entry| entry.kind() == Some(ObjectType::Blob))
        .map(|entry| entry.id());
    let Some(current) = current else {
        return Ok(Some(Change::New));
    };
    let Some(spec) = endpoint_spec(draft) else {
        return Ok(Some(Change::Modify));
    };
    let proposed = Oid::hash_object(ObjectType::Blob, spec.render_resource().as_bytes())?;
    Ok(Some(if proposed == current { Change::None } else { Change::Modify }))
}

pub(crate) fn endpoint_spec(draft: &Draft) -> Option<EndpointSpec> {
    if draft.draft_type != DraftType::Endpoint {
        return None;
    }
    serde_json::from_value(draft.proposed_spec.clone()?).ok()
}
