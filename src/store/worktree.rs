//! Keeping a checked-out branch's index and work tree in step when we commit
//! to that branch behind git's back.
//!
//! What can be decided before the refs move is: the paths must be clean, no
//! folder on their way may be a symlink (git refuses to write through one;
//! so do we), and the index must not be locked. Then a journal records which
//! paths must follow which commit; the refs move; the paths follow and the
//! journal goes. A command that stops in between leaves the journal, and the
//! next command that opens the repository finishes the follow, so the index
//! never keeps a staged deletion of a file the commit added.
//!
//! Must never: overwrite a user's local change, or write outside the work tree.

use super::Store;
use crate::error::{Code, Error, Result};
use git2::{Oid, Status, build::CheckoutBuilder};
use std::path::{Path, PathBuf};

impl Store {
    /// Whether `branch` is the branch checked out in this repo's work tree.
    pub fn is_checked_out(&self, branch: &str) -> bool {
        !self.repo().is_bare() && !self.is_replaying() && self.head_branch().as_deref() == Some(branch)
    }

    /// Refuses, before anything moves, what would stop `paths` from
    /// following a new commit: local changes to them (`DIRTY_WORKTREE`), a
    /// symlink or file where one of their folders should be
    /// (`DIRTY_WORKTREE`), a locked index (`LOCKED`).
    pub fn ensure_clean(&self, paths: &[&str]) -> Result<()> {
        let workdir = self.repo().workdir().map(Path::to_path_buf).unwrap_or_default();
        for path in paths {
            if let Some(folder) = blocked_folder(&workdir, path) {
                return Err(Error::new(
                    Code::DirtyWorktree,
                    format!("{folder} in the work tree is not a folder (a symlink or a file), so {path} cannot be written there"),
                )
                .with_hint(format!("move {folder} out of the way (git would refuse to write through it too); nothing was changed")));
            }
        }
        let lock = self.repo().path().join("index.lock");
        // A git command (or another apply's follow) holds the index for
        // milliseconds: wait for it a little; a lock that stays is reported.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while lock.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        if lock.exists() {
            return Err(Error::new(Code::Locked, format!("the index is locked ({})", lock.display())).with_hint(
                format!(
                    "wait for the git command that holds it, or, if none is running, remove {}; nothing was changed",
                    lock.display()
                ),
            ));
        }
        let dirty: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|path| match self.repo().status_file(Path::new(path)) {
                Ok(status) => !(status.is_empty() || status == Status::CURRENT || status == Status::IGNORED),
                Err(e) => e.code() != git2::ErrorCode::NotFound,
            })
            .collect();
        if dirty.is_empty() {
            return Ok(());
        }
        Err(Error::new(Code::DirtyWorktree, format!("local changes to {} would be overwritten", dirty.join(", ")))
            .with_hint(
                "commit, stash or remove your changes to those files, then run the command again; nothing was changed",
            ))
    }

    /// Records that `paths` must follow `commit` once the checked-out branch
    /// points at it: written before the refs move.
    pub fn journal_follow(&self, commit: Oid, paths: &[&str]) -> Result<()> {
        let journal = self.follow_journal(commit);
        std::fs::create_dir_all(journal.parent().expect("the journal lives in a folder"))?;
        let mut text = format!("{commit}\n");
        for path in paths {
            text.push_str(path);
            text.push('\n');
        }
        // Writers racing to apply each journal their own commit, through a
        // partial file of their own (several may share a process: a server).
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let partial = journal.with_extension(format!("{}-{n}.new", std::process::id()));
        std::fs::write(&partial, text)?;
        std::fs::rename(partial, journal)?;
        Ok(())
    }

    /// After the checked-out branch moved to `commit`, brings `paths` in the
    /// index and work tree to what HEAD now holds, then drops that commit's
    /// journal (and only that one: another writer's stays until done).
    pub fn follow_head(&self, commit: Oid, paths: &[&str]) -> Result<()> {
        self.checkout_paths(paths)?;
        let _ = std::fs::remove_file(self.follow_journal(commit));
        Ok(())
    }

    fn checkout_paths(&self, paths: &[&str]) -> Result<()> {
        let mut checkout = CheckoutBuilder::new();
        checkout.force().recreate_missing(true);
        for path in paths {
            checkout.path(path);
        }
        self.repo().checkout_head(Some(&mut checkout))?;
        Ok(())
    }

    /// Finishes a follow a stopped command left in the journal: when HEAD
    /// still holds the journaled commit, each journaled path whose work-tree
    /// file is still what the commit's parent had (absent if it had none),
    /// or already what HEAD has, is brought to HEAD's in the index and the
    /// work tree. Any other content is the person's, and stays. A journal
    /// that no longer applies is dropped. Never fails the command that finds
    /// it: what cannot be done now is tried again next time.
    pub fn finish_interrupted_follow(&self) {
        let Ok(entries) = std::fs::read_dir(self.repo().path().join("zen-draft")) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(FOLLOW_PREFIX) && !name.ends_with(".new") {
                self.finish_follow(&entry.path());
            }
        }
    }

    fn finish_follow(&self, journal: &Path) {
        let Ok(text) = std::fs::read_to_string(journal) else { return };
        let mut lines = text.lines();
        let commit = lines.next().and_then(|c| Oid::from_str(c).ok());
        let paths: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
        let head = self.repo().head().ok().and_then(|h| h.target());
        let (Some(commit), Some(head)) = (commit, head) else {
            let _ = std::fs::remove_file(journal);
            return;
        };
        let holds = head == commit || self.repo().graph_descendant_of(head, commit).unwrap_or(false);
        if !holds || self.repo().is_bare() {
            let _ = std::fs::remove_file(journal);
            return;
        }
        let tree_of = |id: Oid| self.repo().find_commit(id).and_then(|c| c.tree()).ok();
        let before = self.repo().find_commit(commit).ok().and_then(|c| c.parent_id(0).ok()).and_then(tree_of);
        let after = tree_of(head);
        let blob_in = |tree: &Option<git2::Tree<'_>>, path: &str| {
            tree.as_ref().and_then(|t| t.get_path(Path::new(path)).ok()).map(|e| e.id())
        };
        let workdir = self.repo().workdir().map(Path::to_path_buf).unwrap_or_default();
        let behind: Vec<&str> = paths
            .into_iter()
            .filter(|path| blocked_folder(&workdir, path).is_none())
            .filter(|path| {
                let on_disk = workdir.join(path);
                let here = match std::fs::symlink_metadata(&on_disk) {
                    Err(_) => None,
                    Ok(meta) if meta.file_type().is_file() => match Oid::hash_file(git2::ObjectType::Blob, &on_disk) {
                        Ok(id) => Some(id),
                        Err(_) => return false,
                    },
                    Ok(_) => return false,
                };
                here == blob_in(&before, path) || (here.is_some() && here == blob_in(&after, path))
            })
            .collect();
        if behind.is_empty() || self.checkout_paths(&behind).is_ok() {
            let _ = std::fs::remove_file(journal);
        }
    }

    /// The journal of the follow of `commit`.
    fn follow_journal(&self, commit: Oid) -> PathBuf {
        self.repo().path().join("zen-draft").join(format!("{FOLLOW_PREFIX}{commit}"))
    }
}

/// Journals are `.git/zen-draft/follow-<commit>`.
const FOLLOW_PREFIX: &str = "follow-";

/// The first folder on `path`'s way in the work tree that is there but is
/// not a real folder (a symlink, or a file).
fn blocked_folder(workdir: &Path, path: &str) -> Option<String> {
    let mut at = workdir.to_path_buf();
    let folders: Vec<&str> = path.split('/').collect();
    for (depth, folder) in folders[..folders.len().saturating_sub(1)].iter().enumerate() {
        at.push(folder);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_dir() => {}
            Ok(_) => return Some(folders[..=depth].join("/")),
            Err(_) => return None,
        }
    }
    None
}
