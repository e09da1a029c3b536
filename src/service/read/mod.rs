//! Reading drafts: `list`, `show`, and finding one draft by an id prefix.
//!
//! Everything is read from the object database; the drafts branch is never
//! checked out. A file that cannot be read is reported as invalid, never
//! allowed to fail the whole listing.

mod parallel;
mod reader;
mod records;
mod rivals;
mod rows;

use crate::store::tree::{DraftFile, FolderMemo};
pub(crate) use parallel::pipeline;
pub(crate) use reader::{DraftReader, FoundRecords, draft_facts, read_note, read_record};
use reader::{Interpreter, RawDraft, parse_notes};
use rows::{Derived, Folders, Recalled, Row, Rows};

use super::evidence::check_signature;
use super::{Layout, Service};
use crate::domain::config::ALLOWED_SIGNERS_PATH;
use crate::domain::digest::value_digest;
use crate::domain::draft::{Draft, DraftType, State};
use crate::domain::draft_id::{DRAFTS_DIR, DraftId, FOLDER_DIGITS, IdPrefix, day_dir, unique_prefix_lengths};
use crate::domain::spec::resource_path;
use crate::error::{Code, Error, Result};
use crate::evidence::allowed_signers::AllowedSigners;
use crate::evidence::record::SignedRecord;
use crate::evidence::{NOTES_REF, batch};
use crate::store::BlobRead;
use crate::store::cache::{CacheKey, KeyCache};
use chrono::{DateTime, Utc};
use git2::{ObjectType, Oid, Tree};
use reader::{endpoint_spec, judge};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    New,
    Modify,
    None,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Modify => "modify",
            Change::None => "none",
        }
    }
}

/// Whether a draft's lifecycle is backed by signed evidence.
pub use crate::evidence::verify::DraftEvidence as EvidenceState;

/// One readable draft and what we derived from it.
#[derive(Debug, Clone)]
pub struct DraftView {
    pub path: String,
    pub blob: Oid,
    pub id: DraftId,
    pub draft: Draft,
    pub state: State,
    pub change: Option<Change>,
    pub evidence: EvidenceState,
}

/// One file under `drafts/`.
#[derive(Debug, Clone)]
pub enum Listed {
    Draft(Box<DraftView>),
    Invalid { path: String, error: Error },
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// `pending`, `expired`, `applied`, `discarded` or `invalid`.
    pub status: Option<String>,
    pub draft_type: Option<DraftType>,
    /// Every status; without it, pending, expired and invalid.
    pub all: bool,
}

pub struct Listing {
    pub entries: Vec<Listed>,
    /// For each entry that is a draft, the prefix length that tells it apart.
    pub short_len: std::collections::HashMap<DraftId, usize>,
}

#[derive(Debug, Clone)]
pub struct Shown {
    pub view: DraftView,
    pub spec_digest: Option<String>,
    /// Unified diff of the resource on main against `proposed`.
    pub diff: Option<String>,
    pub resource: Option<String>,
    /// The checks apply would run now (those `validate` runs), for a draft
    /// still open; empty for an applied or discarded one.
    pub checks: Vec<crate::error::Check>,
    /// When main changed the resource after the draft was proposed
    /// (`BASE_CHANGED`): the diff from the draft's base to main now, what
    /// changed under it.
    pub base_diff: Option<String>,
    /// The other pending drafts that propose the same resource: applying any
    /// of them (or this one) makes the rest `BASE_CHANGED`.
    pub conflicts: Vec<String>,
}

impl ListFilter {
    fn keeps(&self, entry: &Listed) -> bool {
        match entry {
            Listed::Draft(view) => self.keeps_status(view.state.as_str(), Some(view.draft.draft_type)),
            Listed::Invalid { .. } => self.keeps_status("invalid", None),
        }
    }

    /// Whether an entry of this status (as people see it) and type is kept.
    fn keeps_status(&self, status: &str, draft_type: Option<DraftType>) -> bool {
        if let Some(wanted) = &self.draft_type
            && draft_type != Some(*wanted)
        {
            return false;
        }
        match &self.status {
            Some(wanted) => wanted == status,
            None => self.all || matches!(status, "pending" | "expired" | "invalid"),
        }
    }
}

/// How a walk over the drafts judges their evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checking {
    /// Not at all (each draft's evidence stays `missing`).
    Skip,
    /// For showing: signatures checked in batches, verdicts remembered under
    /// `.git/zen-draft/`.
    Shown,
    /// For deciding: every signature checked alone, nothing remembered or
    /// read from a cache.
    Exact,
}

impl Service {
    pub fn list(&self, filter: &ListFilter) -> Result<Listing> {
        let mut entries = Vec::new();
        let mut short_len = std::collections::HashMap::new();
        self.list_each(filter, |entry, len| {
            if let Listed::Draft(view) = &entry {
                short_len.insert(view.id, len);
            }
            entries.push(entry);
            Ok(())
        })?;
        Ok(Listing { entries, short_len })
    }

    /// Streams the listing: `each` gets every kept entry, with the prefix
    /// length that tells it apart from every other draft, in tree order, so a
    /// branch of any size is listed in bounded memory.
    pub fn list_each(&self, filter: &ListFilter, mut each: impl FnMut(Listed, usize) -> Result<()>) -> Result<()> {
        self.list_map(filter, &|entry, len| (entry, len), &mut |(entry, len)| each(entry, len))
    }

    /// [`Service::list_each`] with a step that runs on the worker threads:
    /// `map` turns each entry into what `each` then gets, in order (say, its
    /// JSON bytes). Signatures are checked in batches on every core, and
    /// verified ones remembered under `.git/zen-draft/`, so a second listing
    /// reads only trees. For showing only: nothing that decides lists.
    pub fn list_map<T: Send>(
        &self,
        filter: &ListFilter,
        map: &(dyn Fn(Listed, usize) -> T + Sync),
        each: &mut dyn FnMut(T) -> Result<()>,
    ) -> Result<()> {
        self.at_one_moment(|| {
            let layout = self.layout()?;
            let tip = self.drafts_tip(&layout)?.commit;
            crate::service::crash_point("list", "after-drafts");
            self.walk(&layout, tip, filter, Checking::Shown, map, None, each)
        })
    }

    /// What `draft --json list` writes: each kept draft's JSON and the
    /// resource it makes it a rival for, in tree order. The one listing that
    /// remembers rows (`rows`): a second one reads no draft file it listed
    /// before, only trees, and writes the same bytes.
    pub fn list_json(&self, filter: &ListFilter, each: &mut dyn FnMut(JsonEntry) -> Result<()>) -> Result<()> {
        self.at_one_moment(|| self.list_json_pinned(filter, each))
    }

    fn list_json_pinned(&self, filter: &ListFilter, each: &mut dyn FnMut(JsonEntry) -> Result<()>) -> Result<()> {
        let layout = self.layout()?;
        let rows = Rows::load(&self.store);
        let folders = Folders::load(&self.store);
        let map = |entry: Listed, short_len: usize| (entry.to_json_bytes(short_len), Conflicts::key(&entry));
        let render = |row: &Row, derived: &Derived<'_>| {
            let rival = (derived.state == State::Pending)
                .then_some(row.spec_name.as_deref())
                .flatten()
                .map(|name| (resource_path(name), row.id));
            (row.render(derived), rival)
        };
        let remembering = Remembering { rows: &rows, folders: &folders, render: &render };
        let tip = self.drafts_tip(&layout)?.commit;
        crate::service::crash_point("list", "after-drafts");
        self.walk(&layout, tip, filter, Checking::Shown, &map, Some(&remembering), each)?;
        rows.finish();
        folders.finish();
        Ok(())
    }

    /// Every file under `drafts/` at drafts commit `tip`, read and checked,
    /// with its evidence judged as `checking` says. A writer deciding on
    /// what it read expects that same `tip` when it moves the branch.
    pub(crate) fn load_all(&self, layout: &Layout, tip: Oid, checking: Checking) -> Result<Vec<Listed>> {
        let mut entries = Vec::new();
        let all = ListFilter { all: true, ..ListFilter::default() };
        self.walk(layout, tip, &all, checking, &|entry, _| entry, None, &mut |entry| {
            entries.push(entry);
            Ok(())
        })?;
        Ok(entries)
    }

    /// Reads every draft file at drafts commit `tip` on every core: parsed,
    /// filtered, evidence judged, mapped, and handed to `each` in tree order.
    ///
    /// With `remembering`, a draft whose row it holds (and whose evidence a
    /// listing already verified, or which has no records) is not read: its
    /// row is rendered instead; every other draft is read, and its row
    /// learned.
    #[expect(clippy::too_many_arguments, reason = "one private reader behind four entry points, each a line")]
    fn walk<T: Send>(
        &self,
        layout: &Layout,
        tip: Oid,
        filter: &ListFilter,
        checking: Checking,
        map: &(dyn Fn(Listed, usize) -> T + Sync),
        remembering: Option<&Remembering<'_, T>>,
        each: &mut dyn FnMut(T) -> Result<()>,
    ) -> Result<()> {
        // Rows stand in for files only for what is shown.
        debug_assert!(remembering.is_none() || checking == Checking::Shown);
        let judging = Judging::new(self, layout, checking)?;
        let evidence = checking != Checking::Skip;
        let files = {
            let drafts_tree = self.store.commit_tree(tip)?;
            let notes_tree = match judging.notes_tip {
                Some(tip) if evidence => Some(self.store.commit_tree(tip)?),
                _ => None,
            };
            let memo = remembering.map(|r| (r.folders as &dyn FolderMemo, Folders::DEPTH));
            self.store.draft_files(&drafts_tree, DRAFTS_DIR, notes_tree.as_ref(), memo)?
        };
        // Each id's shortest unique prefix, looked up in the sorted ids (a
        // map of 100,000 would be twice the size).
        let mut ids: Vec<DraftId> = files.iter().filter_map(|(path, _, _)| id_of_path(path)).collect();
        ids.sort();
        let lens: Vec<u8> = unique_prefix_lengths(&ids).into_iter().map(|len| len.min(36) as u8).collect();
        let interpreter = Interpreter::new(&self.store, layout.main.commit, judging.now)?;
        let reader = DraftReader::new(&self.store, judging.notes_tip)?;
        let wants_notes = |blob, folder| judging.wants_notes(blob, folder);
        let recall = |path: &str, blob: Oid, folder: Option<Oid>| {
            remembering?.recall(path, blob, folder, &judging, &interpreter)
        };
        let recall: Option<&reader::Remembered<'_>> = remembering.map(|_| &recall as &reader::Remembered<'_>);
        let mut prepare = |chunk: &[DraftFile]| reader.raw(chunk, evidence, &wants_notes, recall);
        let len_of = |id: &DraftId| ids.binary_search(id).map_or(36, |at| usize::from(lens[at]));
        let work = |raws: Vec<RawDraft>| -> Result<Vec<T>> {
            // Rows are rendered as they come; files read are judged together
            // (their signatures checked in one batch), then mapped in place.
            let mut slots = Vec::with_capacity(raws.len());
            let mut read: Vec<(Listed, RawDraft)> = Vec::new();
            for mut raw in raws {
                if let (Some(recalled), Some(remembering)) = (raw.row.take(), remembering) {
                    let state = recalled.row.state(interpreter.now());
                    if filter.keeps_status(state.as_str(), Some(recalled.row.draft_type)) {
                        let short_len = len_of(&recalled.row.id);
                        slots.push(Slot::Mapped(remembering.recalled(&recalled, state, &raw, short_len)));
                    }
                    continue;
                }
                let entry = interpreter.listed(&raw);
                if filter.keeps(&entry) {
                    slots.push(Slot::Read(read.len()));
                    read.push((entry, raw));
                }
            }
            judging.judge(&mut read);
            let mut learned = Vec::new();
            let mut mapped: Vec<Option<T>> = read
                .into_iter()
                .map(|(entry, raw)| {
                    Some(match (entry, remembering) {
                        (Listed::Draft(view), Some(remembering)) => {
                            remembering.learn(&view, raw.blob, len_of(&view.id), &interpreter, &mut learned, map)
                        }
                        (Listed::Draft(view), None) => {
                            let len = len_of(&view.id);
                            map(Listed::Draft(view), len)
                        }
                        (invalid, _) => map(invalid, 36),
                    })
                })
                .collect();
            if let Some(remembering) = remembering {
                remembering.rows.learn(&learned);
            }
            Ok(slots
                .into_iter()
                .map(|slot| match slot {
                    Slot::Mapped(mapped) => mapped,
                    Slot::Read(at) => mapped[at].take().expect("each entry read is mapped once"),
                })
                .collect())
        };
        parallel::pipeline(&files, &mut prepare, &work, each)
    }

    /// One draft as a reviewer sees it: the file, its diff against main,
    /// its checks, rivals and evidence, all read at one moment.
    pub fn show(&self, id: &str) -> Result<Shown> {
        self.at_one_moment(|| self.show_pinned(id))
    }

    fn show_pinned(&self, id: &str) -> Result<Shown> {
        let layout = self.layout()?;
        let tip = self.drafts_tip(&layout)?.commit;
        crate::service::crash_point("show", "after-drafts");
        let view = self.find_at(&layout, tip, id)?;
        let main_tree = self.store.commit_tree(layout.main.commit)?;
        let spec_digest = view.draft.proposed_spec.as_ref().map(value_digest);
        let spec = endpoint_spec(&view.draft);
        let open = matches!(view.state, State::Pending | State::Expired);
        let checks = if open { self.draft_checks(&layout, &view, None, self.now())? } else { Vec::new() };
        let base_changed = checks.iter().any(|c| c.code == Code::BaseChanged && !c.ok);
        // Advice, never a reason to fail the review: an index that cannot be
        // read or brought forward shows no conflict.
        let conflicts = match (view.draft.spec_name(), view.state) {
            (Some(name), State::Pending) => self
                .pending_rivals(&layout, &resource_path(name), Some(view.id))
                .map(|rivals| rivals.into_iter().map(|r| r.id).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let read_text = |blob: Oid| -> Result<Option<String>> {
            Ok(match self.store.read_blob(blob, crate::yaml::MAX_DOCUMENT_BYTES * 16)? {
                BlobRead::Bytes(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
                BlobRead::TooLarge(_) => None,
            })
        };
        let base_diff = match (&spec, base_changed) {
            (Some(spec), true) => {
                let path = spec.resource_path();
                let base = match view.draft.base.as_deref().and_then(|b| Oid::from_str(b).ok()) {
                    // A shallow or partial clone may not have the base.
                    Some(blob) if self.store.repo().find_blob(blob).is_ok() => read_text(blob)?,
                    _ => None,
                };
                let now = match self.store.blob_id_at(&main_tree, &path)? {
                    Some(blob) => read_text(blob)?,
                    None => None,
                };
                Some(base_to_main_diff(base.as_deref(), now.as_deref(), &path))
            }
            _ => None,
        };
        let (diff, resource) = match &spec {
            Some(spec) => {
                let proposed = spec.render_resource();
                let path = spec.resource_path();
                let current = match self.store.blob_id_at(&main_tree, &path)? {
                    Some(blob) => match self.store.read_blob(blob, usize::MAX)? {
                        BlobRead::Bytes(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
                        BlobRead::TooLarge(_) => None,
                    },
                    None => None,
                };
                let diff = unified_diff(current.as_deref(), &proposed, &path);
                (Some(diff), Some(path))
            }
            None => (None, None),
        };
        Ok(Shown { view, spec_digest, diff, resource, checks, base_diff, conflicts })
    }

    /// Finds one readable draft by any unique prefix of its id, its evidence
    /// judged exactly, on the drafts branch as it is now.
    pub(crate) fn find(&self, layout: &Layout, text: &str) -> Result<DraftView> {
        self.find_at(layout, self.drafts_tip(layout)?.commit, text)
    }

    /// [`Service::find`] on drafts commit `tip`. A writer that decides on
    /// the draft it found moves the branch only from that same `tip`: read
    /// at one tip and written onto a later one, an apply could mark applied
    /// a draft a discard had closed in between.
    pub(crate) fn find_at(&self, layout: &Layout, tip: Oid, text: &str) -> Result<DraftView> {
        let prefix = IdPrefix::parse(text)
            .map_err(|e| Error::new(Code::NotFound, e).with_hint("run `draft list` to see draft ids"))?;
        let drafts_tree = self.store.commit_tree(tip)?;
        let candidates = self.candidates(&drafts_tree, &prefix)?;
        match candidates.as_slice() {
            [] => Err(Error::new(Code::NotFound, "no draft has an id starting with the given prefix")
                .with_hint("run `draft list --all` to see every draft")),
            [(path, blob, _)] => {
                let judging = Judging::new(self, layout, Checking::Exact)?;
                let reader = DraftReader::new(&self.store, judging.notes_tip)?;
                let interpreter = Interpreter::new(&self.store, layout.main.commit, judging.now)?;
                let folder = reader.folder_id(path)?;
                let raws = reader.raw(&[(path.clone(), *blob, folder)], true, &|_, _| true, None)?;
                let mut entries: Vec<(Listed, RawDraft)> =
                    raws.into_iter().map(|raw| (interpreter.listed(&raw), raw)).collect();
                judging.judge(&mut entries);
                match entries.pop() {
                    Some((Listed::Draft(view), _)) => Ok(*view),
                    Some((Listed::Invalid { error, .. }, _)) => Err(error),
                    None => Err(Error::internal("a draft went missing while it was read")),
                }
            }
            many => {
                let shown: Vec<String> = many.iter().take(MAX_SHOWN_CANDIDATES).map(|c| c.2.to_string()).collect();
                let count = if many.len() > MAX_SHOWN_CANDIDATES {
                    format!("more than {MAX_SHOWN_CANDIDATES}")
                } else {
                    many.len().to_string()
                };
                Err(Error::new(
                    Code::AmbiguousId,
                    format!("{count} drafts have ids starting with the given prefix: {}", shown.join(", ")),
                )
                .with_hint("type more of the id"))
            }
        }
    }

    /// Draft files whose id starts with `prefix`, reading only the folders
    /// that can hold them, in both layouts. Stops after a few more than it
    /// would name in an `AMBIGUOUS_ID` message.
    fn candidates(&self, drafts_tree: &Tree<'_>, prefix: &IdPrefix) -> Result<Vec<(String, Oid, DraftId)>> {
        let mut files = Vec::new();
        if let Some(top) = self.store.subtree(drafts_tree, DRAFTS_DIR)? {
            self.prefix_folders(&top, DRAFTS_DIR.to_string(), prefix, prefix.digits(), 0, &mut files)?;
        }
        if let Some(days) = prefix.days() {
            for day in days {
                let dir = format!("{DRAFTS_DIR}/{}", day_dir(day));
                let Some(tree) = self.store.subtree(drafts_tree, &dir)? else {
                    continue;
                };
                for entry in tree.iter() {
                    if let (Ok(name), Some(ObjectType::Blob)) = (entry.name(), entry.kind()) {
                        files.push((format!("{dir}/{name}"), entry.id()));
                    }
                }
            }
        }
        let mut found: Vec<(String, Oid, DraftId)> = files
            .into_iter()
            .filter_map(|(path, blob)| {
                let id = id_of_path(&path)?;
                (prefix.matches(&id) && id.is_at(&path)).then_some((path, blob, id))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found.dedup_by(|a, b| a.0 == b.0);
        Ok(found)
    }

    /// Walks the id-named folders of the current layout down from `tree`
    /// (at `path`, the folder of `level`): into the one folder the prefix
    /// names while it names one, then through every folder whose name the
    /// rest of the prefix starts, collecting the files there. Everything it
    /// reads below the prefix's folders matches the prefix.
    fn prefix_folders(
        &self,
        tree: &Tree<'_>,
        path: String,
        prefix: &IdPrefix,
        digits: &str,
        level: usize,
        files: &mut Vec<(String, Oid)>,
    ) -> Result<()> {
        if files.len() > MAX_SHOWN_CANDIDATES {
            return Ok(());
        }
        let Some(&width) = FOLDER_DIGITS.get(level) else {
            for entry in tree.iter() {
                if let (Ok(name), Some(ObjectType::Blob)) = (entry.name(), entry.kind())
                    && id_of_path(name).is_some_and(|id| prefix.matches(&id))
                {
                    files.push((format!("{path}/{name}"), entry.id()));
                }
            }
            return Ok(());
        };
        let (here, rest) = digits.split_at(digits.len().min(width));
        for entry in tree.iter() {
            let Ok(name) = entry.name() else { continue };
            let fits = if here.len() == width { name == here } else { name.len() == width && name.starts_with(here) };
            if !fits || entry.kind() != Some(ObjectType::Tree) || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let below = self.store.repo().find_tree(entry.id())?;
            let rest = if here.len() == width { rest } else { "" };
            self.prefix_folders(&below, format!("{path}/{name}"), prefix, rest, level + 1, files)?;
            if files.len() > MAX_SHOWN_CANDIDATES {
                break;
            }
        }
        Ok(())
    }
}

/// How many candidates an `AMBIGUOUS_ID` message names.
const MAX_SHOWN_CANDIDATES: usize = 10;

/// One entry of `draft --json list`: its JSON, and the resource whose rival
/// it is while pending, with its id.
pub type JsonEntry = (Vec<u8>, Option<(String, DraftId)>);

/// How a walk that remembers rows renders one: the rows, and what makes of a
/// row (with what is derived again) the same as the walk's map makes of the
/// draft read from its file.
pub(crate) struct Remembering<'a, T> {
    rows: &'a Rows,
    folders: &'a Folders,
    render: &'a (dyn Fn(&Row, &Derived<'_>) -> T + Sync),
}

impl<T> Remembering<'_, T> {
    /// The row that stands in for the file at `path` (blob `blob`, records
    /// in `folder`), if one may: only when the evidence needs no notes read
    /// either (none are indexed for it, or a listing verified exactly these,
    /// so the evidence shown is what judging would find), and what it
    /// derives from main can be derived (else it is learned again).
    fn recall(
        &self,
        path: &str,
        blob: Oid,
        folder: Option<Oid>,
        judging: &Judging,
        interpreter: &Interpreter,
    ) -> Option<Recalled> {
        let key = Rows::key(blob);
        if !self.rows.holds(&key) || (folder.is_some() && judging.wants_notes(blob, folder)) {
            return None;
        }
        let row = self.rows.get(&key).filter(|row| row.id.is_at(path))?;
        let Some(change) = interpreter.change_of(row.spec_name.as_deref(), row.proposed) else {
            self.rows.outdated(key);
            return None;
        };
        Some(Recalled { row, change })
    }

    /// A recalled row, with what is derived again: its evidence is verified
    /// when it has records (the verdict was known) and missing when not.
    fn recalled(&self, recalled: &Recalled, state: State, raw: &RawDraft, short_len: usize) -> T {
        let short_id = recalled.row.id.short(short_len);
        let derived = Derived {
            state,
            short_id: &short_id,
            path: &raw.path,
            change: recalled.change,
            evidence: if raw.folder.is_some() { EvidenceState::Verified } else { EvidenceState::Missing },
        };
        (self.render)(&recalled.row, &derived)
    }

    /// Renders a draft read from its file through its row, and learns the
    /// row; through `map` when no row can be made of it.
    fn learn(
        &self,
        view: &DraftView,
        blob: Oid,
        short_len: usize,
        interpreter: &Interpreter,
        learned: &mut Vec<(CacheKey, Row)>,
        map: &(dyn Fn(Listed, usize) -> T + Sync),
    ) -> T {
        let Ok(proposed) = interpreter.proposed(&view.draft) else {
            return map(Listed::Draft(Box::new(view.clone())), short_len);
        };
        let row = Row::of(&view.draft, view.id, proposed);
        let short_id = view.id.short(short_len);
        let derived = Derived {
            state: view.state,
            short_id: &short_id,
            path: &view.path,
            change: view.change,
            evidence: view.evidence,
        };
        let mapped = (self.render)(&row, &derived);
        learned.push((Rows::key(blob), row));
        mapped
    }
}

/// One entry of a chunk, in order: mapped already, or the place of a file
/// read that is judged with the others first.
enum Slot<T> {
    Mapped(T),
    Read(usize),
}

/// The evidence side of a walk: what judging needs, shared by its workers.
struct Judging {
    checking: Checking,
    notes_tip: Option<Oid>,
    now: DateTime<Utc>,
    allowed: AllowedSigners,
    /// The allowed_signers blob, part of every remembered verdict's key.
    signers_blob: Oid,
    cache: Option<KeyCache>,
}

impl Judging {
    fn new(service: &Service, layout: &Layout, checking: Checking) -> Result<Judging> {
        let main_tree = service.store.commit_tree(layout.main.commit)?;
        Ok(Judging {
            checking,
            notes_tip: service.store.ref_target(NOTES_REF)?,
            now: service.now(),
            allowed: service.allowed_signers(layout)?,
            signers_blob: service.store.blob_id_at(&main_tree, ALLOWED_SIGNERS_PATH)?.unwrap_or(Oid::ZERO_SHA1),
            cache: (checking == Checking::Shown).then(|| KeyCache::load(&service.store, SIGNATURE_CACHE)),
        })
    }

    /// Whether the reader should read the notes of the draft file `blob`
    /// whose records are in `folder`: not when it will not be judged, nor
    /// when a listing already verified exactly this draft and these records.
    fn wants_notes(&self, blob: Oid, folder: Option<Oid>) -> bool {
        match self.checking {
            Checking::Skip => false,
            Checking::Exact => true,
            Checking::Shown => !self.known(&self.verdict_key(blob, folder)),
        }
    }

    fn verdict_key(&self, blob: Oid, folder: Option<Oid>) -> CacheKey {
        cache_key(VERDICT_PURPOSE, &[blob, folder.unwrap_or(Oid::ZERO_SHA1), self.signers_blob])
    }

    fn known(&self, key: &CacheKey) -> bool {
        self.cache.as_ref().is_some_and(|c| c.contains(key))
    }

    /// Fills in the evidence of every draft among `entries`, from the notes
    /// the reader read for it.
    fn judge(&self, entries: &mut [(Listed, RawDraft)]) {
        let now = self.now.timestamp();
        let mut open: Vec<(&mut Box<DraftView>, Option<Oid>, FoundRecords)> = Vec::new();
        for (entry, raw) in entries.iter_mut() {
            let Listed::Draft(view) = entry else { continue };
            match (self.checking, raw.notes.take()) {
                (Checking::Skip, _) => {}
                (_, Some(notes)) => open.push((view, raw.folder, parse_notes(notes))),
                (Checking::Shown, None) if raw.folder.is_some() => view.evidence = EvidenceState::Verified,
                (_, None) => view.evidence = EvidenceState::Missing,
            }
        }
        if self.checking == Checking::Exact {
            for (view, _, records) in open {
                view.evidence =
                    judge(view, records, &mut |_, signed| check_signature(signed, &self.allowed, now).is_ok());
            }
            return;
        }
        // Shown: batch-check the signatures the cache does not know, then judge.
        let mut claimed: Vec<(Oid, CacheKey, &SignedRecord)> = Vec::new();
        for (_, _, records) in &open {
            for (blob, signed) in records.iter().flatten() {
                let key = cache_key(SIGNATURE_PURPOSE, &[*blob, self.signers_blob]);
                if !self.known(&key) {
                    claimed.push((*blob, key, signed));
                }
            }
        }
        let messages: Vec<String> = claimed.iter().map(|(_, _, signed)| signed.signed_message()).collect();
        let claims: Vec<batch::Claim<'_>> =
            claimed.iter().zip(&messages).map(|((_, _, signed), message)| claim(signed, message, now)).collect();
        let verdicts = batch::verify_all(&claims, &self.allowed);
        let good: HashMap<Oid, CacheKey> =
            claimed.iter().zip(verdicts).filter(|(_, ok)| *ok).map(|((blob, key, _), _)| (*blob, *key)).collect();
        drop(claims);
        let mut learned: Vec<CacheKey> = good.values().copied().collect();
        for (view, folder, records) in open {
            view.evidence = judge(view, records, &mut |blob, _| {
                good.contains_key(&blob) || self.known(&cache_key(SIGNATURE_PURPOSE, &[blob, self.signers_blob]))
            });
            if view.evidence == EvidenceState::Verified {
                learned.push(self.verdict_key(view.blob, folder));
            }
        }
        if let Some(cache) = &self.cache {
            cache.append(learned);
        }
    }
}

/// The claim a record's signature makes: its signer, in its namespace, at
/// the time the record says it was made.
fn claim<'a>(signed: &'a SignedRecord, message: &'a str, now: i64) -> batch::Claim<'a> {
    let record = &signed.record;
    batch::Claim {
        armored: &signed.signature,
        namespace: record.namespace(),
        message: message.as_bytes(),
        principal: record.signer(),
        at: DateTime::parse_from_rfc3339(record.at()).map_or(now, |t| t.timestamp()),
    }
}

const SIGNATURE_CACHE: &str = "verified-signatures-v1";
const VERDICT_PURPOSE: &[u8] = b"zen-draft evidence verdict v2";
const SIGNATURE_PURPOSE: &[u8] = b"zen-draft signature verdict v1";

/// A cache key: SHA-256 over a purpose tag and object ids, cut to 20 bytes.
fn cache_key(purpose: &[u8], objects: &[Oid]) -> CacheKey {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(purpose);
    for object in objects {
        hasher.update(object.as_bytes());
    }
    let digest = hasher.finalize();
    let mut key = [0u8; 20];
    key.copy_from_slice(&digest[..20]);
    key
}

/// A unified diff in git's layout: `/dev/null` for a file that does not exist yet.
/// What changed on main under a draft: its base against main now, both
/// sides possibly absent (the file was created, or removed, since).
pub fn base_to_main_diff(base: Option<&str>, now: Option<&str>, path: &str) -> String {
    similar::TextDiff::from_lines(base.unwrap_or(""), now.unwrap_or(""))
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path} (when proposed)"), &format!("b/{path} (main now)"))
        .to_string()
}

pub fn unified_diff(current: Option<&str>, proposed: &str, path: &str) -> String {
    let old_header = if current.is_some() { format!("a/{path}") } else { "/dev/null".to_string() };
    let diff = similar::TextDiff::from_lines(current.unwrap_or(""), proposed);
    diff.unified_diff().context_radius(3).header(&old_header, &format!("b/{path}")).to_string()
}

impl DraftView {
    /// The JSON shape of a draft in `list`, `show` and the API: every field of
    /// the file, with `status` as people see it (`expired` is derived), plus
    /// what we derived.
    pub fn to_json(&self, short_len: usize) -> serde_json::Value {
        serde_json::to_value(DraftJson { view: self, short_len }).expect("a draft is plain data")
    }
}

/// [`DraftView::to_json`] as a `Serialize` type, so a listing writes each
/// draft's JSON straight from the draft instead of building a value first.
/// The draft's fields come in the file's order, as `Draft` serializes them.
struct DraftJson<'a> {
    view: &'a DraftView,
    short_len: usize,
}

impl Serialize for DraftJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let view = self.view;
        let mut map = serializer.serialize_map(None)?;
        rows::head_members(&view.draft, &mut map)?;
        map.serialize_entry("status", view.state.as_str())?;
        rows::tail_members(&view.draft, &mut map)?;
        map.serialize_entry("short_id", &view.id.short(self.short_len))?;
        map.serialize_entry("path", &view.path)?;
        map.serialize_entry("change", &view.change)?;
        map.serialize_entry("evidence", &view.evidence)?;
        map.end()
    }
}

/// The id a draft file's name claims, if it is one.
fn id_of_path(path: &str) -> Option<DraftId> {
    DraftId::parse(path.rsplit('/').next()?.strip_suffix(".yaml")?)
}

impl Listed {
    /// The resource this draft proposes while it is pending: what makes two
    /// drafts rivals, since applying either makes the other `BASE_CHANGED`.
    pub fn pending_resource(&self) -> Option<String> {
        let Listed::Draft(view) = self else { return None };
        let name = view.draft.spec_name()?;
        (view.state == State::Pending).then(|| resource_path(name))
    }

    /// [`Listed::to_json`] written straight to bytes.
    pub fn to_json_bytes(&self, short_len: usize) -> Vec<u8> {
        match self {
            Listed::Draft(view) => serde_json::to_vec(&DraftJson { view, short_len }).expect("plain data"),
            Listed::Invalid { .. } => serde_json::to_vec(&self.to_json(short_len)).expect("plain data"),
        }
    }

    /// The JSON shape of one listing entry (SPEC §3): a draft, or an
    /// unreadable file with its error.
    pub fn to_json(&self, short_len: usize) -> serde_json::Value {
        match self {
            Listed::Draft(view) => view.to_json(short_len),
            Listed::Invalid { path, error } => serde_json::json!({
                "path": path,
                "status": "invalid",
                "error": { "code": error.code, "message": error.message, "hint": error.hint },
            }),
        }
    }
}

/// Pending drafts that propose the same resource, gathered entry by entry
/// as a listing goes (the CLI streams one; the API and MCP build one).
///
/// A listing of 100,000 drafts must not keep 100,000 resource names: each
/// resource is kept as a 128-bit keyed hash with the first draft proposing
/// it, and its name only once a second draft proposes it too.
pub struct Conflicts {
    hashers: (RandomState, RandomState),
    first: HashMap<u128, DraftId>,
    rivals: std::collections::BTreeMap<String, Vec<DraftId>>,
}

#[derive(Debug, serde::Serialize)]
pub struct Conflict {
    pub resource: String,
    pub drafts: Vec<String>,
}

impl Default for Conflicts {
    fn default() -> Conflicts {
        Conflicts {
            hashers: (RandomState::new(), RandomState::new()),
            first: HashMap::new(),
            rivals: Default::default(),
        }
    }
}

impl Conflicts {
    pub fn key(entry: &Listed) -> Option<(String, DraftId)> {
        let resource = entry.pending_resource()?;
        let Listed::Draft(view) = entry else { return None };
        Some((resource, view.id))
    }

    pub fn note(&mut self, entry: &Listed) {
        if let Some((resource, id)) = Self::key(entry) {
            self.add(resource, id);
        }
    }

    pub fn add(&mut self, resource: String, id: DraftId) {
        if let Some(drafts) = self.rivals.get_mut(&resource) {
            drafts.push(id);
            return;
        }
        let (a, b) = (self.hashers.0.hash_one(&resource), self.hashers.1.hash_one(&resource));
        match self.first.entry(u128::from(a) << 64 | u128::from(b)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(id);
            }
            // One draft may sit at two paths (the 0.1 layout and this one).
            std::collections::hash_map::Entry::Occupied(first) if *first.get() == id => {}
            std::collections::hash_map::Entry::Occupied(first) => {
                self.rivals.insert(resource, vec![*first.get(), id]);
            }
        }
    }

    pub fn found(self) -> Vec<Conflict> {
        self.rivals
            .into_iter()
            .map(|(resource, mut drafts)| {
                drafts.sort();
                drafts.dedup();
                (resource, drafts)
            })
            .filter(|(_, drafts)| drafts.len() > 1)
            .map(|(resource, drafts)| Conflict { resource, drafts: drafts.iter().map(DraftId::to_string).collect() })
            .collect()
    }
}

impl Listing {
    /// `{"drafts": [...], "conflicts": [...]}`, what `draft --json list` prints.
    pub fn to_json(&self) -> serde_json::Value {
        let drafts: Vec<serde_json::Value> = self
            .entries
            .iter()
            .map(|entry| {
                let len = match entry {
                    Listed::Draft(view) => self.short_len.get(&view.id).copied().unwrap_or(36),
                    Listed::Invalid { .. } => 36,
                };
                entry.to_json(len)
            })
            .collect();
        let mut conflicts = Conflicts::default();
        self.entries.iter().for_each(|entry| conflicts.note(entry));
        serde_json::json!({ "drafts": drafts, "conflicts": conflicts.found() })
    }
}

impl Shown {
    /// What `draft --json show` prints: the draft's fields, its spec digest,
    /// the resource it writes and (unless left out) the diff.
    pub fn to_json(&self, with_diff: bool) -> serde_json::Value {
        let mut value = self.view.to_json(36);
        let object = value.as_object_mut().expect("a draft is a mapping");
        object.insert("spec_digest".into(), self.spec_digest.clone().into());
        object.insert("resource".into(), self.resource.clone().into());
        object.insert("checks".into(), serde_json::to_value(&self.checks).expect("checks are plain data"));
        object.insert("conflicts".into(), self.conflicts.clone().into());
        if with_diff {
            object.insert("diff".into(), self.diff.clone().into());
            object.insert("base_diff".into(), self.base_diff.clone().into());
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rivals are the drafts that share a resource, each once, by resource
    /// then id; a resource proposed once, or by one draft at two paths, is
    /// none.
    #[test]
    fn conflicts_are_shared_resources_each_draft_once() {
        let id = |n: u8| DraftId::parse(&format!("01a230b4-8ddb-7911-8a5a-967fd7d7c6{n:02}")).unwrap();
        let mut conflicts = Conflicts::default();
        for (resource, n) in
            [("endpoints/b.yaml", 3), ("endpoints/a.yaml", 9), ("endpoints/b.yaml", 1), ("endpoints/c.yaml", 4)]
                .into_iter()
                .chain([
                    ("endpoints/c.yaml", 4),
                    ("endpoints/b.yaml", 2),
                    ("endpoints/b.yaml", 1),
                    ("endpoints/a.yaml", 5),
                ])
        {
            conflicts.add(resource.to_string(), id(n));
        }
        let found: Vec<(String, Vec<String>)> = conflicts.found().into_iter().map(|c| (c.resource, c.drafts)).collect();
        let ids = |ns: &[u8]| ns.iter().map(|n| id(*n).to_string()).collect::<Vec<_>>();
        assert_eq!(
            found,
            vec![("endpoints/a.yaml".to_string(), ids(&[5, 9])), ("endpoints/b.yaml".to_string(), ids(&[1, 2, 3]))]
        );
    }

    /// The JSON a listing writes is the draft's own serialization, with the
    /// status people see and the derived fields after it.
    #[test]
    fn a_drafts_json_is_its_fields_in_file_order_then_what_was_derived() {
        let text = "version: 1\nid: 01a230b4-8ddb-7911-8a5a-967fd7d7c629\ntype: endpoint\nstatus: applied\ntenant: acme\n\
            created_by: agent:ops-bot\ncreated_at: \"2026-12-01T08:24:28Z\"\nexpires_at: \"2026-12-08T08:24:28Z\"\n\
            proposed_spec:\n  name: x\n  provider: stripe\n  target_url: https://h.example.com/x\nbase: null\n\
            applied_by: user:dana\napplied_at: \"2026-12-02T08:24:28Z\"\napplied_commit: 3927641d9f9b\n\
            resource_created: true\nreason: why not\n";
        let draft: Draft = crate::yaml::parse(text.as_bytes()).unwrap();
        let id = DraftId::parse(&draft.id).unwrap();
        let view = DraftView {
            path: id.path(),
            blob: Oid::ZERO_SHA1,
            id,
            state: State::Applied,
            change: Some(Change::None),
            draft: draft.clone(),
            evidence: EvidenceState::Verified,
        };
        let mut expected = serde_json::to_value(&draft).unwrap();
        let object = expected.as_object_mut().unwrap();
        object.insert("status".into(), "applied".into());
        object.insert("short_id".into(), id.short(8).into());
        object.insert("path".into(), id.path().into());
        object.insert("change".into(), "none".into());
        object.insert("evidence".into(), "verified".into());
        let listed = Listed::Draft(Box::new(view));
        assert_eq!(
            String::from_utf8(listed.to_json_bytes(8)).unwrap(),
            serde_json::to_string(&expected).unwrap(),
            "same keys, same order, same values"
        );
    }

    /// A remembered row renders exactly the bytes the draft read from its
    /// file does, with every optional field, for every derived value.
    #[test]
    fn a_rows_json_is_the_drafts_json() {
        let texts = [
            "version: 1\nid: 01a230b4-8ddb-7911-8a5a-967fd7d7c629\ntype: endpoint\nstatus: discarded\ntenant: acme\n\
             created_by: agent:ops-bot\ncreated_at: \"2026-12-01T08:24:28Z\"\nexpires_at: \"2026-12-08T08:24:28.5Z\"\n\
             proposed_spec:\n  name: x\n  provider: stripe\n  target_url: https://h.example.com/x?a=\"b\"\nbase: null\n\
             rationale: \"two\\nlines \\u2014 and a \\\"quote\\\"\"\nlinks:\n  - https://tickets.example.com/1\n\
             agent:\n  model: m\n  session: s\ndiscarded_by: user:dana\ndiscarded_at: \"2026-12-02T08:24:28Z\"\nreason: dup\n",
            "version: 1\nid: 01a230b4-8ddb-7911-8a5a-967fd7d7c629\ntype: endpoint\nstatus: pending\ntenant: acme\n\
             created_by: user:dana\ncreated_at: \"2026-12-01T08:24:28Z\"\nexpires_at: \"2026-12-08T08:24:28Z\"\n\
             proposed_spec:\n  name: x\n  provider: stripe\n  target_url: https://h.example.com/x\nbase: \"a: b\\n\"\n",
        ];
        for text in texts {
            let draft: Draft = crate::yaml::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"));
            let id = DraftId::parse(&draft.id).unwrap();
            let row = Row::of(&draft, id, rows::Proposed::Nothing);
            for (state, change, evidence) in [
                (State::Pending, None, EvidenceState::Missing),
                (State::Expired, Some(Change::New), EvidenceState::Verified),
                (State::Discarded, Some(Change::Modify), EvidenceState::Invalid),
            ] {
                let view = DraftView {
                    path: id.path(),
                    blob: Oid::ZERO_SHA1,
                    id,
                    state,
                    change,
                    draft: draft.clone(),
                    evidence,
                };
                let short_id = id.short(5);
                let derived = Derived { state, short_id: &short_id, path: &view.path, change, evidence };
                assert_eq!(
                    String::from_utf8(row.render(&derived)).unwrap(),
                    String::from_utf8(Listed::Draft(Box::new(view)).to_json_bytes(5)).unwrap()
                );
            }
        }
    }
}
