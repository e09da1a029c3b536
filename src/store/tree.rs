//! Editing and walking trees by path without a work tree.
//!
//! An edit rewrites only the trees on the path to the changed file, which is
//! why drafts live in day folders: a create writes a handful of objects no
//! matter how many drafts the branch holds.

use super::Store;
use crate::error::Result;
use git2::{FileMode, ObjectType, Oid, Tree};

/// One path that differs between two trees: each side's (id, file mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedEntry {
    pub path: String,
    pub old: Option<(Oid, i32)>,
    pub new: Option<(Oid, i32)>,
}

impl Store {
    /// A new tree: `base` with the blob `blob` at `path` (or the file at `path`
    /// removed when `blob` is `None`). Folders left empty disappear.
    pub fn edit_tree(&self, base: Option<&Tree<'_>>, path: &str, blob: Option<Oid>) -> Result<Option<Oid>> {
        self.edit_tree_many(base, &[(path.to_string(), blob)])
    }

    /// Several edits at once, writing each changed folder once, with no
    /// intermediate trees left behind.
    pub fn edit_tree_many(&self, base: Option<&Tree<'_>>, edits: &[(String, Option<Oid>)]) -> Result<Option<Oid>> {
        let split: Vec<(Vec<&str>, Option<Oid>)> = edits.iter().map(|(p, b)| (p.split('/').collect(), *b)).collect();
        let refs: Vec<(&[&str], Option<Oid>)> = split.iter().map(|(parts, b)| (parts.as_slice(), *b)).collect();
        self.edit_level(base, &refs)
    }

    fn edit_level(&self, base: Option<&Tree<'_>>, edits: &[(&[&str], Option<Oid>)]) -> Result<Option<Oid>> {
        let repo = self.repo();
        let mut builder = repo.treebuilder(base)?;
        let mut folders: Vec<&str> = Vec::new();
        for (parts, blob) in edits {
            match parts {
                [name] => match blob {
                    Some(blob) => {
                        builder.insert(name, *blob, FileMode::Blob.into())?;
                    }
                    None if builder.get(name)?.is_some() => builder.remove(name)?,
                    None => {}
                },
                [name, ..] if !folders.contains(name) => folders.push(name),
                _ => {}
            }
        }
        for name in folders {
            let below: Vec<(&[&str], Option<Oid>)> = edits
                .iter()
                .filter(|(parts, _)| parts.len() > 1 && parts[0] == name)
                .map(|(p, b)| (&p[1..], *b))
                .collect();
            let child = match builder.get(name)? {
                Some(entry) if entry.kind() == Some(ObjectType::Tree) => Some(repo.find_tree(entry.id())?),
                _ => None,
            };
            match self.edit_level(child.as_ref(), &below)? {
                Some(child) => {
                    builder.insert(name, child, FileMode::Tree.into())?;
                }
                None if builder.get(name)?.is_some() => builder.remove(name)?,
                None => {}
            }
        }
        if builder.is_empty() { Ok(None) } else { Ok(Some(builder.write()?)) }
    }

    /// The empty tree, for branches that start with nothing.
    pub fn empty_tree(&self) -> Result<Oid> {
        Ok(self.repo().treebuilder(None)?.write()?)
    }

    /// Every blob under the folder `dir` of `tree`, in tree order, with the
    /// tree id of its index folder in `index`: the folder at the same path
    /// without `.yaml` (how the notes tree indexes a draft's records). With
    /// a memo, each folder `depth` levels below `dir` is remembered whole,
    /// by its tree and its index's, and not read again while both are the same.
    pub fn draft_files(
        &self,
        tree: &Tree<'_>,
        dir: &str,
        index: Option<&Tree<'_>>,
        memo: Option<(&dyn FolderMemo, usize)>,
    ) -> Result<Vec<DraftFile>> {
        let mut out = Vec::new();
        let Some(sub) = self.subtree(tree, dir)? else {
            return Ok(out);
        };
        let index = match index {
            Some(index) => self.subtree(index, dir)?,
            None => None,
        };
        self.collect_draft_files(&sub, index.as_ref(), dir, 1, memo, &mut out)?;
        // A listing keeps this for its whole run: not a quarter more.
        out.shrink_to_fit();
        Ok(out)
    }

    fn collect_draft_files(
        &self,
        tree: &Tree<'_>,
        index: Option<&Tree<'_>>,
        prefix: &str,
        depth: usize,
        memo: Option<(&dyn FolderMemo, usize)>,
        out: &mut Vec<DraftFile>,
    ) -> Result<()> {
        let in_index = |name: &str| -> Option<Oid> {
            let entry = index?.get_name(name)?;
            (entry.kind() == Some(ObjectType::Tree)).then(|| entry.id())
        };
        for entry in tree.iter() {
            let Ok(name) = entry.name() else { continue };
            let path = format!("{prefix}/{name}");
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    let index_id = in_index(name);
                    let trees = || -> Result<(Tree<'_>, Option<Tree<'_>>)> {
                        let sub = self.repo().find_tree(entry.id())?;
                        Ok((sub, index_id.map(|id| self.repo().find_tree(id)).transpose()?))
                    };
                    match memo.filter(|(_, at)| *at == depth) {
                        Some((memo, _)) => {
                            // The folder whole, as remembered or read (and
                            // then remembered), below its path.
                            let files = match memo.get(entry.id(), index_id) {
                                Some(files) => files,
                                None => {
                                    let (sub, sub_index) = trees()?;
                                    let mut files = Vec::new();
                                    self.collect_draft_files(
                                        &sub,
                                        sub_index.as_ref(),
                                        "",
                                        depth + 1,
                                        None,
                                        &mut files,
                                    )?;
                                    memo.put(entry.id(), index_id, &files);
                                    files
                                }
                            };
                            out.extend(
                                files.into_iter().map(|(below, blob, folder)| (path.clone() + &below, blob, folder)),
                            );
                        }
                        None => {
                            let (sub, sub_index) = trees()?;
                            self.collect_draft_files(&sub, sub_index.as_ref(), &path, depth + 1, memo, out)?;
                        }
                    }
                }
                Some(ObjectType::Blob) => {
                    let folder = in_index(name.strip_suffix(".yaml").unwrap_or(name));
                    out.push((path, entry.id(), folder));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Every blob under the folder `dir` of `tree`, as (path, blob id), in tree order.
    pub fn blobs_under(&self, tree: &Tree<'_>, dir: &str) -> Result<Vec<(String, Oid)>> {
        Ok(self.draft_files(tree, dir, None, None)?.into_iter().map(|(path, blob, _)| (path, blob)).collect())
    }

    /// The blobs `new` has that `old` has not (added, or changed), as
    /// (path, blob id). Only folders whose tree ids differ are read, so
    /// comparing two commits of a large branch costs what changed between
    /// them, not the size of the branch.
    pub fn new_blobs(&self, old: Option<&Tree<'_>>, new: &Tree<'_>) -> Result<Vec<(String, Oid)>> {
        let mut out = Vec::new();
        self.collect_new_blobs(old, new, "", &mut out)?;
        Ok(out)
    }

    fn collect_new_blobs(
        &self,
        old: Option<&Tree<'_>>,
        new: &Tree<'_>,
        prefix: &str,
        out: &mut Vec<(String, Oid)>,
    ) -> Result<()> {
        for entry in new.iter() {
            let Ok(name) = entry.name() else { continue };
            let before = old.and_then(|o| o.get_name(name)).map(|e| (e.id(), e.kind()));
            if before.is_some_and(|(id, _)| id == entry.id()) {
                continue;
            }
            let path = if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    let old_sub = match before {
                        Some((id, Some(ObjectType::Tree))) => Some(self.repo().find_tree(id)?),
                        _ => None,
                    };
                    let new_sub = self.repo().find_tree(entry.id())?;
                    self.collect_new_blobs(old_sub.as_ref(), &new_sub, &path, out)?;
                }
                Some(ObjectType::Blob) => out.push((path, entry.id())),
                _ => {}
            }
        }
        Ok(())
    }

    /// Every path whose entry differs between `old` and `new` (added,
    /// removed, or changed in id or mode), with both sides' (id, mode).
    /// Subtrees whose ids agree are not read.
    pub fn changed_entries(&self, old: Option<&Tree<'_>>, new: Option<&Tree<'_>>) -> Result<Vec<ChangedEntry>> {
        let mut out = Vec::new();
        self.collect_changes(old, new, "", &mut out)?;
        Ok(out)
    }

    fn collect_changes(
        &self,
        old: Option<&Tree<'_>>,
        new: Option<&Tree<'_>>,
        prefix: &str,
        out: &mut Vec<ChangedEntry>,
    ) -> Result<()> {
        // By name, so a folder of any width is compared in one pass.
        let side = |tree: Option<&Tree<'_>>| -> std::collections::HashMap<String, (Oid, i32)> {
            tree.map(|t| t.iter().filter_map(|e| Some((e.name().ok()?.to_string(), (e.id(), e.filemode())))).collect())
                .unwrap_or_default()
        };
        let (olds, news) = (side(old), side(new));
        let mut names: Vec<&String> = olds.keys().chain(news.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            let before = olds.get(name).copied();
            let after = news.get(name).copied();
            if before == after {
                continue;
            }
            let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            let is_tree = |side: Option<(Oid, i32)>| side.is_some_and(|(_, mode)| mode == 0o040000);
            if is_tree(before) || is_tree(after) {
                let load = |side: Option<(Oid, i32)>| -> Result<Option<Tree<'_>>> {
                    match side {
                        Some((id, 0o040000)) => Ok(Some(self.repo().find_tree(id)?)),
                        _ => Ok(None),
                    }
                };
                let (old_sub, new_sub) = (load(before)?, load(after)?);
                self.collect_changes(old_sub.as_ref(), new_sub.as_ref(), &path, out)?;
                // A file turned into a folder (or back) is a change of its own.
                if !is_tree(before) && before.is_some() {
                    out.push(ChangedEntry { path: path.clone(), old: before, new: None });
                }
                if !is_tree(after) && after.is_some() {
                    out.push(ChangedEntry { path, old: None, new: after });
                }
                continue;
            }
            out.push(ChangedEntry { path, old: before, new: after });
        }
        Ok(())
    }

    /// The tree at folder `dir` of `tree`, if it is there.
    pub fn subtree(&self, tree: &Tree<'_>, dir: &str) -> Result<Option<Tree<'_>>> {
        match tree.get_path(std::path::Path::new(dir)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Tree) => Ok(Some(self.repo().find_tree(entry.id())?)),
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// A file under `drafts/`: its path, blob, and the tree id of its records'
/// index folder, when there is one.
pub type DraftFile = (String, Oid, Option<Oid>);

/// Whole folders of draft files a listing remembers, by the folder's tree
/// id and its index folder's (paths below the folder, starting with `/`).
pub trait FolderMemo {
    fn get(&self, folder: Oid, index: Option<Oid>) -> Option<Vec<DraftFile>>;
    fn put(&self, folder: Oid, index: Option<Oid>, files: &[DraftFile]);
}

/// Finds folders of one tree along paths that come in tree order, keeping
/// the trees of the last path: a walk over every draft's index folder then
/// reads each tree once instead of once per draft (libgit2 keeps no trees
/// in its cache; see `configure_libgit2`).
pub struct FolderCursor<'r> {
    store: &'r Store,
    root: Tree<'r>,
    /// The folders of the last path looked up, from the root down.
    stack: Vec<(String, Option<Tree<'r>>)>,
}

impl<'r> FolderCursor<'r> {
    pub fn new(store: &'r Store, root: Tree<'r>) -> FolderCursor<'r> {
        FolderCursor { store, root, stack: Vec::new() }
    }

    /// The folder at `path` (`a/b/c`), if it is there.
    pub fn folder(&mut self, path: &str) -> Result<Option<Tree<'r>>> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let keep = self.stack.iter().zip(&parts).take_while(|((name, _), part)| name == *part).count();
        self.stack.truncate(keep);
        while self.stack.len() < parts.len() {
            let depth = self.stack.len();
            let parent = match depth {
                0 => Some(self.root.clone()),
                _ => self.stack[depth - 1].1.clone(),
            };
            let child = match parent.as_ref().and_then(|tree| tree.get_name(parts[depth])) {
                Some(entry) if entry.kind() == Some(ObjectType::Tree) => Some(self.store.repo().find_tree(entry.id())?),
                _ => None,
            };
            self.stack.push((parts[depth].to_string(), child));
        }
        Ok(match self.stack.last() {
            Some((_, tree)) => tree.clone(),
            None => Some(self.root.clone()),
        })
    }
}
