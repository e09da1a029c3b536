//! Reading drafts: `list`, `show`, and finding one draft by an id prefix.
//!
//! Everything is read from the object database; the drafts branch is never
//! checked out. A file that cannot be read is reported as invalid, never
//! allowed to fail the whole listing.

use super::{Layout, Service};
use crate::domain::digest::value_digest;
use crate::domain::draft::{Draft, DraftType, State};
use crate::domain::draft_id::{DRAFTS_DIR, DraftId, IdPrefix, day_dir, unique_prefix_lengths};
use crate::domain::spec::{EndpointSpec, RESOURCE_DIR};
use crate::error::{Code, Error, Result};
use crate::store::BlobRead;
use crate::store::cache::ObjectMemo;
use crate::yaml;
use chrono::{DateTime, Utc};
use git2::{ObjectType, Oid, Tree};
use serde::Serialize;

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
}

impl ListFilter {
    fn keeps(&self, entry: &Listed) -> bool {
        let (status, draft_type) = match entry {
            Listed::Draft(view) => (view.state.as_str(), Some(view.draft.draft_type)),
            Listed::Invalid { .. } => ("invalid", None),
        };
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
    /// length that tells it apart from every other draft, one at a time, so a
    /// branch of any size is listed in bounded memory. Parsed drafts and
    /// verified signatures are remembered under `.git/zen-draft/` (objects
    /// never change), so a second listing reads only trees.
    pub fn list_each(&self, filter: &ListFilter, mut each: impl FnMut(Listed, usize) -> Result<()>) -> Result<()> {
        let layout = self.layout()?;
        let tip = self.drafts_tip(&layout)?;
        let drafts_tree = self.store.commit_tree(tip.commit)?;
        let resources = self.resource_dir(&layout)?;
        let files = self.store.blobs_under(&drafts_tree, DRAFTS_DIR)?;
        let mut ids: Vec<DraftId> = files.iter().filter_map(|(path, _)| id_of_path(path)).collect();
        ids.sort();
        let lens = unique_prefix_lengths(&ids);
        let short_len: std::collections::HashMap<DraftId, usize> = ids.into_iter().zip(lens).collect();
        let now = self.now();
        let mut memo = ObjectMemo::load(&self.store, DRAFT_MEMO);
        let mut evidence = self.evidence_reader(&layout, true)?;
        for (path, blob) in files {
            let mut entry = self.load(resources.as_ref(), path, blob, now, Some(&mut memo));
            if !filter.keeps(&entry) {
                continue;
            }
            let len = match &mut entry {
                Listed::Draft(view) => {
                    view.evidence = evidence.draft_evidence(view)?;
                    short_len.get(&view.id).copied().unwrap_or(36)
                }
                Listed::Invalid { .. } => 36,
            };
            each(entry, len)?;
        }
        memo.save();
        Ok(())
    }

    /// Every file under `drafts/`, read and checked, without evidence states.
    pub(crate) fn load_all(&self, layout: &Layout) -> Result<Vec<Listed>> {
        let tip = self.drafts_tip(layout)?;
        let drafts_tree = self.store.commit_tree(tip.commit)?;
        let resources = self.resource_dir(layout)?;
        let now = self.now();
        let files = self.store.blobs_under(&drafts_tree, DRAFTS_DIR)?;
        Ok(files.into_iter().map(|(path, blob)| self.load(resources.as_ref(), path, blob, now, None)).collect())
    }

    pub fn show(&self, id: &str) -> Result<Shown> {
        let layout = self.layout()?;
        let view = self.find(&layout, id)?;
        let main_tree = self.store.commit_tree(layout.main.commit)?;
        let spec_digest = view.draft.proposed_spec.as_ref().map(value_digest);
        let spec = endpoint_spec(&view.draft);
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
        Ok(Shown { view, spec_digest, diff, resource })
    }

    /// Finds one readable draft by any unique prefix of its id.
    pub(crate) fn find(&self, layout: &Layout, text: &str) -> Result<DraftView> {
        let prefix = IdPrefix::parse(text)
            .map_err(|e| Error::new(Code::NotFound, e).with_hint("run `draft list` to see draft ids"))?;
        let tip = self.drafts_tip(layout)?;
        let drafts_tree = self.store.commit_tree(tip.commit)?;
        let candidates = self.candidates(&drafts_tree, &prefix)?;
        match candidates.as_slice() {
            [] => Err(Error::new(Code::NotFound, format!("no draft has an id starting with {}", text.trim()))
                .with_hint("run `draft list --all` to see every draft")),
            [(path, blob, _)] => {
                let resources = self.resource_dir(layout)?;
                match self.load(resources.as_ref(), path.clone(), *blob, self.now(), None) {
                    Listed::Draft(mut view) => {
                        view.evidence = self.evidence_reader(layout, false)?.draft_evidence(&view)?;
                        Ok(*view)
                    }
                    Listed::Invalid { error, .. } => Err(error),
                }
            }
            many => Err(Error::new(
                Code::AmbiguousId,
                format!(
                    "{} drafts have ids starting with {}: {}",
                    many.len(),
                    text.trim(),
                    many.iter().map(|c| c.2.to_string()).collect::<Vec<_>>().join(", ")
                ),
            )
            .with_hint("type more of the id")),
        }
    }

    /// Draft files whose id starts with `prefix`, looking only in the day
    /// folders the prefix allows.
    fn candidates(&self, drafts_tree: &Tree<'_>, prefix: &IdPrefix) -> Result<Vec<(String, Oid, DraftId)>> {
        let files = match prefix.days() {
            Some(days) => {
                let mut files = Vec::new();
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
                files
            }
            None => self.store.blobs_under(drafts_tree, DRAFTS_DIR)?,
        };
        Ok(files
            .into_iter()
            .filter_map(|(path, blob)| {
                let id = DraftId::parse(path.rsplit('/').next()?.strip_suffix(".yaml")?)?;
                (prefix.matches(&id) && id.path() == path).then_some((path, blob, id))
            })
            .collect())
    }

    /// Reads and checks one draft file.
    /// With `memo`, a draft parsed before is taken from it (drafts are
    /// immutable objects) and a newly parsed one is added.
    fn load(
        &self,
        resources: Option<&Tree<'_>>,
        path: String,
        blob: Oid,
        now: DateTime<Utc>,
        memo: Option<&mut ObjectMemo>,
    ) -> Listed {
        let invalid = |path: String, why: String| {
            Listed::Invalid {
            error: Error::new(Code::InvalidDraft, format!("{path}: {why}")).with_hint(
                "the file on the drafts branch cannot be read as a draft; inspect it with `git show <drafts-branch>:<path>`",
            ),
            path,
        }
        };
        let remembered = memo.as_ref().and_then(|m| m.get(blob)).and_then(|b| serde_json::from_slice::<Draft>(b).ok());
        let draft = match remembered {
            Some(draft) => draft,
            None => {
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
                if let (Some(memo), Ok(json)) = (memo, serde_json::to_vec(&draft)) {
                    memo.insert(blob, &json);
                }
                draft
            }
        };
        let id = match draft.check_consistency(&path) {
            Ok(id) => id,
            Err(why) => return invalid(path, why),
        };
        let change = match change(resources, &draft) {
            Ok(change) => change,
            Err(e) => return invalid(path, e.message),
        };
        let state = draft.state(now);
        Listed::Draft(Box::new(DraftView { path, blob, id, state, change, draft, evidence: EvidenceState::Missing }))
    }

    /// Main's `endpoints/` folder, where drafts' resources live.
    fn resource_dir(&self, layout: &Layout) -> Result<Option<Tree<'_>>> {
        let main_tree = self.store.commit_tree(layout.main.commit)?;
        self.store.subtree(&main_tree, RESOURCE_DIR)
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

fn endpoint_spec(draft: &Draft) -> Option<EndpointSpec> {
    if draft.draft_type != DraftType::Endpoint {
        return None;
    }
    serde_json::from_value(draft.proposed_spec.clone()?).ok()
}

/// A unified diff in git's layout: `/dev/null` for a file that does not exist yet.
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
        let mut value = serde_json::to_value(&self.draft).expect("a draft is plain data");
        let object = value.as_object_mut().expect("a draft is a mapping");
        object.insert("status".into(), self.state.as_str().into());
        object.insert("short_id".into(), self.id.short(short_len).into());
        object.insert("path".into(), self.path.clone().into());
        object.insert("change".into(), serde_json::to_value(self.change).expect("plain data"));
        object.insert("evidence".into(), serde_json::to_value(self.evidence).expect("plain data"));
        value
    }
}

/// Parsed drafts, by blob id.
const DRAFT_MEMO: &str = "drafts-v1";

/// The id a draft file's name claims, if it is one.
fn id_of_path(path: &str) -> Option<DraftId> {
    DraftId::parse(path.rsplit('/').next()?.strip_suffix(".yaml")?)
}

impl Listed {
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

impl Listing {
    /// `{"drafts": [...]}`, what `draft --json list` prints.
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
        serde_json::json!({ "drafts": drafts })
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
        if with_diff {
            object.insert("diff".into(), self.diff.clone().into());
        }
        value
    }
}
