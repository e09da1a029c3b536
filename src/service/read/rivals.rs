//! Which other pending drafts propose the same resource as one draft, for
//! `show`, the review page and apply's report, without reading the branch.
//!
//! An index under `.git/zen-draft/rivals-v1/` maps resources to the pending
//! drafts proposing them, in 256 shards by a hash of the resource, each as
//! of one drafts commit. A lookup reads one shard; a shard behind the
//! branch is brought forward by reading only the files that changed between
//! its commit and the tip (the fan-out keeps that small), so a lookup costs
//! what changed since the last one, not the size of the branch. Only a clone
//! with no index reads every file, once. The index only names candidates:
//! each is read from the branch and kept only if it is pending and proposes
//! that resource, so a damaged or planted index can hide a conflict from a
//! person but never invent one, and nothing that decides reads it (apply
//! reads it only after its refs moved, to say which drafts it made
//! `BASE_CHANGED`).

use super::reader::{DraftReader, Interpreter};
use super::{Layout, ListFilter, Listed, Service};
use crate::domain::draft::Status;
use crate::domain::draft_id::{DRAFTS_DIR, DraftId};
use crate::domain::spec::resource_path;
use crate::error::Result;
use crate::store::Store;
use crate::store::tree::DraftFile;
use git2::Oid;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::PathBuf;

const INDEX_DIR: &str = "rivals-v1";
const HEADER: &str = "zen-draft rivals 1";

/// Beyond this many changed files a rebuild on every core is cheaper than
/// reading them one by one.
const MAX_INCREMENTAL: usize = 2_000;

/// One shard: pending drafts by resource as of the drafts commit `tip`, as
/// (resource, draft file path) pairs.
struct Shard {
    tip: Oid,
    entries: Vec<(String, String)>,
}

/// The shard a resource's entries live in: two hex digits of its hash.
fn shard_of(resource: &str) -> String {
    let digest = Sha256::digest(resource.as_bytes());
    format!("{:02x}", digest[0])
}

/// The index's entry for one draft file: its resource while the file says
/// pending. Not whether it has expired: that is a matter of the clock at
/// lookup, which confirms every candidate.
fn entry_of(listed: &Listed) -> Option<(String, String)> {
    let Listed::Draft(view) = listed else { return None };
    let name = view.draft.spec_name()?;
    // A name no draft could apply is no one's rival, and could not be
    // written one entry a line.
    let fits = view.draft.status == Status::Pending && !name.chars().any(|c| c.is_control());
    fits.then(|| (resource_path(name), view.path.clone()))
}

/// Another pending draft for the same resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rival {
    pub id: String,
    /// The blob of the resource on main it was proposed against.
    pub base: Option<String>,
}

impl Shard {
    fn path(store: &Store, shard: &str) -> PathBuf {
        store.repo().commondir().join("zen-draft").join(INDEX_DIR).join(shard)
    }

    /// A saved shard; anything unreadable or malformed is no shard.
    fn load(store: &Store, shard: &str) -> Option<Shard> {
        let text = String::from_utf8(std::fs::read(Self::path(store, shard)).ok()?).ok()?;
        let mut lines = text.lines();
        let tip = Oid::from_str(lines.next()?.strip_prefix(HEADER)?.strip_prefix(' ')?).ok()?;
        let entries = lines
            .map(|line| line.split_once('\t').map(|(r, p)| (r.to_string(), p.to_string())))
            .collect::<Option<Vec<_>>>()?;
        Some(Shard { tip, entries })
    }

    /// Writes the shard whole, through a rename, so a reader sees the old one
    /// or the new one. Failing to is never an error: the next lookup rebuilds.
    fn save(&self, store: &Store, shard: &str) {
        let path = Self::path(store, shard);
        let dir = path.parent().expect("a shard lives in a folder");
        // Unique per process and per write: `draft serve` saves from several
        // threads at once.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = dir.join(format!("{shard}.{}.{n}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(dir)?;
            let mut out = std::io::BufWriter::new(std::fs::File::create(&temp)?);
            writeln!(out, "{HEADER} {}", self.tip)?;
            for (resource, file) in &self.entries {
                writeln!(out, "{resource}\t{file}")?;
            }
            out.into_inner().map_err(|e| e.into_error())?;
            std::fs::rename(&temp, &path)
        };
        if write().is_err() {
            // Never leave a temp file behind: its name is never reused.
            let _ = std::fs::remove_file(&temp);
        }
    }
}

impl Service {
    /// The drafts other than `own` pending now that propose `resource`, read
    /// and confirmed from the drafts branch, by id.
    pub(crate) fn pending_rivals(&self, layout: &Layout, resource: &str, own: Option<DraftId>) -> Result<Vec<Rival>> {
        let tip = self.drafts_tip(layout)?.commit;
        let shard = self.shard(layout, &shard_of(resource), tip)?;
        let tree = self.store.commit_tree(tip)?;
        let mut files = Vec::new();
        for (_, path) in shard.entries.iter().filter(|(r, _)| r == resource) {
            if let Some(blob) = self.store.blob_id_at(&tree, path)? {
                files.push((path.clone(), blob));
            }
        }
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let mut rivals: Vec<Rival> = self
            .read_files(layout, &files)?
            .into_iter()
            .filter(|listed| listed.pending_resource().as_deref() == Some(resource))
            .filter_map(|listed| match listed {
                Listed::Draft(view) if Some(view.id) != own => {
                    Some(Rival { id: view.id.to_string(), base: view.draft.base.clone() })
                }
                _ => None,
            })
            .collect();
        // One draft may sit at two paths (the 0.1 layout and this one).
        rivals.sort();
        rivals.dedup_by(|a, b| a.id == b.id);
        Ok(rivals)
    }

    /// The draft files (path, blob) read and made sense of, evidence unjudged.
    fn read_files(&self, layout: &Layout, files: &[(String, Oid)]) -> Result<Vec<Listed>> {
        let reader = DraftReader::new(&self.store, None)?;
        let interpreter = Interpreter::new(&self.store, layout.main.commit, self.now())?;
        let files: Vec<DraftFile> = files.iter().map(|(path, blob)| (path.clone(), *blob, None)).collect();
        Ok(reader.raw(&files, false, &|_, _| false, None)?.iter().map(|raw| interpreter.listed(raw)).collect())
    }

    /// Shard `name` as of the drafts commit `tip`: as saved, brought forward,
    /// or (with every other shard) rebuilt.
    fn shard(&self, layout: &Layout, name: &str, tip: Oid) -> Result<Shard> {
        let saved = Shard::load(&self.store, name);
        if let Some(shard) = saved {
            if shard.tip == tip {
                return Ok(shard);
            }
            if let Some(shard) = self.advance(layout, name, shard, tip)? {
                shard.save(&self.store, name);
                return Ok(shard);
            }
        }
        self.rebuild(layout, name, tip)
    }

    /// `shard` moved to `tip` by reading only the draft files that changed;
    /// `None` when its commit is gone or too much changed.
    fn advance(&self, layout: &Layout, name: &str, mut shard: Shard, tip: Oid) -> Result<Option<Shard>> {
        let Ok(old) = self.store.repo().find_commit(shard.tip) else { return Ok(None) };
        let old_tree = old.tree()?;
        let new_tree = self.store.commit_tree(tip)?;
        let (old_dir, new_dir) =
            (self.store.subtree(&old_tree, DRAFTS_DIR)?, self.store.subtree(&new_tree, DRAFTS_DIR)?);
        let changes = self.store.changed_entries(old_dir.as_ref(), new_dir.as_ref())?;
        if changes.len() > MAX_INCREMENTAL {
            return Ok(None);
        }
        let changed: Vec<(String, Option<Oid>)> = changes
            .into_iter()
            .map(|change| (format!("{DRAFTS_DIR}/{}", change.path), change.new.map(|(blob, _)| blob)))
            .collect();
        let gone: HashSet<&str> = changed.iter().map(|(path, _)| path.as_str()).collect();
        shard.entries.retain(|(_, path)| !gone.contains(path.as_str()));
        let files: Vec<(String, Oid)> =
            changed.iter().filter_map(|(path, blob)| Some((path.clone(), (*blob)?))).collect();
        shard
            .entries
            .extend(self.read_files(layout, &files)?.iter().filter_map(entry_of).filter(|(r, _)| shard_of(r) == name));
        shard.tip = tip;
        Ok(Some(shard))
    }

    /// Every shard read from every file on the branch, on every core, and
    /// saved; returns shard `name`.
    fn rebuild(&self, layout: &Layout, name: &str, tip: Oid) -> Result<Shard> {
        let mut shards: BTreeMap<String, Vec<(String, String)>> =
            (0..=255u8).map(|b| (format!("{b:02x}"), Vec::new())).collect();
        let all = ListFilter { all: true, ..ListFilter::default() };
        self.walk(layout, tip, &all, super::Checking::Skip, &|listed, _| entry_of(&listed), None, &mut |entry| {
            if let Some(entry) = entry {
                shards.entry(shard_of(&entry.0)).or_default().push(entry);
            }
            Ok(())
        })?;
        let mut wanted = None;
        for (shard_name, entries) in shards {
            let shard = Shard { tip, entries };
            shard.save(&self.store, &shard_name);
            if shard_name == name {
                wanted = Some(shard);
            }
        }
        Ok(wanted.expect("every shard is built"))
    }
}
