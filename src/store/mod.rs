//! The git facade: branches, trees, blobs, notes and compare-and-swap ref
//! updates, read straight from the object database.
//!
//! It knows git, not drafts: paths and bytes go in and out, never a `Draft`.
//! Must never: check out the drafts branch, rewrite history, or move a ref
//! without checking that it still points where we read it.

mod bounded;
pub mod cache;
pub mod notes;
pub mod overlay;
pub mod refs;
pub mod remote;
pub mod tree;
pub mod upkeep;
pub mod worktree;

use crate::error::{Code, Error, Result};
use chrono::{DateTime, Utc};
use git2::{ObjectType, Oid, Repository, RepositoryOpenFlags};
use std::path::{Path, PathBuf};

pub use refs::{RefUpdate, UpdateError};

pub struct Store {
    repo: Repository,
    /// The remote sync and `--push` talk to, and whose remote-tracking
    /// branches stand in for missing local ones.
    remote: String,
    /// While a sync replays operations off the refs: what the refs it
    /// touches point at in the replay (see [`overlay`]).
    overlay: overlay::Overlay,
}

/// Where a branch was found: the local branch, or the remote-tracking copy a
/// CI clone has (`origin/<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchTip {
    pub refname: String,
    pub commit: Oid,
    pub is_local: bool,
}

impl Store {
    /// Opens the repository at `path`, or the one containing the current directory
    /// (honouring `GIT_DIR` like git does).
    pub fn open(path: Option<&Path>) -> Result<Store> {
        configure_libgit2();
        let repo = match path {
            Some(path) => Repository::open_ext(path, RepositoryOpenFlags::empty(), std::iter::empty::<&Path>()),
            None => Repository::open_from_env(),
        };
        let repo = repo.map_err(|e| {
            let place = path.map_or_else(|| "the current directory".to_string(), |p| p.display().to_string());
            Error::new(Code::NotARepo, format!("{place} is not in a git repository ({})", e.message()))
                .with_hint("run inside your infrastructure repo, or pass --repo PATH")
        })?;
        let remote = repo
            .config()
            .ok()
            .and_then(|c| c.get_string("zen.remote").ok())
            .filter(|r| remote::valid_remote_name(r))
            .unwrap_or_else(|| remote::DEFAULT_REMOTE.to_string());
        Ok(Store { repo, remote, overlay: overlay::Overlay::default() })
    }

    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    /// The directory git commands should run in.
    pub fn git_dir(&self) -> PathBuf {
        self.repo.path().to_path_buf()
    }

    /// A value of this repository's git config (any level).
    pub fn config_string(&self, key: &str) -> Option<String> {
        self.repo.config().ok()?.get_string(key).ok()
    }

    /// Sets a value in this repository's own config (`.git/config`).
    pub fn set_config_string(&self, key: &str, value: &str) -> Result<()> {
        let mut config = self.repo.config()?.open_level(git2::ConfigLevel::Local)?;
        config.set_str(key, value)?;
        Ok(())
    }

    /// The commits reachable from `new` but not from `old` (all of
    /// `new`'s history when `old` is `None`), newest first: what a push
    /// or a fetch adds to a branch.
    pub fn commits_since(&self, old: Option<Oid>, new: Oid) -> Result<Vec<Oid>> {
        let mut walk = self.repo.revwalk()?;
        walk.push(new)?;
        if let Some(old) = old {
            walk.hide(old)?;
        }
        Ok(walk.collect::<std::result::Result<_, git2::Error>>()?)
    }

    /// The branch the remote's HEAD names (`refs/remotes/origin/HEAD`), if
    /// the clone recorded it: the server's choice, not this checkout's.
    pub fn remote_default_branch(&self) -> Option<String> {
        let head = self.repo.find_reference(&format!("refs/remotes/{}/HEAD", self.remote)).ok()?;
        let target = head.symbolic_target().ok()??;
        target.strip_prefix(&format!("refs/remotes/{}/", self.remote)).map(str::to_string)
    }

    /// The branch HEAD names (born or not), if HEAD is symbolic.
    pub fn head_branch(&self) -> Option<String> {
        let head = self.repo.find_reference("HEAD").ok()?;
        let target = head.symbolic_target().ok()??;
        target.strip_prefix("refs/heads/").map(str::to_string)
    }

    /// The local branch `name`, else its remote-tracking copy
    /// (`origin/<name>`).
    pub fn branch_tip(&self, name: &str) -> Result<Option<BranchTip>> {
        let local = format!("refs/heads/{name}");
        let remote = format!("refs/remotes/{}/{name}", self.remote);
        // A replay's branch that does not exist stays absent. A reader at
        // one moment that found no local branch pinned the remote-tracking
        // one too, which stands in for it below.
        if self.overlay.get(&local) == Some(None) && self.overlay.get(&remote).is_none() {
            return Ok(None);
        }
        for (refname, is_local) in [(local, true), (remote, false)] {
            // What a replay or a reader at one moment pinned, else the ref.
            if let Some(pinned) = self.overlay.get(&refname) {
                match pinned {
                    Some(commit) => return Ok(Some(BranchTip { refname, commit, is_local })),
                    None => continue,
                }
            }
            match self.repo.find_reference(&refname) {
                Ok(reference) => {
                    let commit = reference.peel_to_commit()?.id();
                    return Ok(Some(BranchTip { refname, commit, is_local }));
                }
                Err(e) if e.code() == git2::ErrorCode::NotFound => continue,
                Err(e) if e.code() == git2::ErrorCode::InvalidSpec => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// Where a local ref points now, if it exists.
    pub fn ref_target(&self, refname: &str) -> Result<Option<Oid>> {
        if let Some(replayed) = self.overlay.get(refname) {
            return Ok(replayed);
        }
        match self.repo.find_reference(refname) {
            Ok(reference) => Ok(Some(reference.peel_to_commit()?.id())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn commit_tree(&self, commit: Oid) -> Result<git2::Tree<'_>> {
        Ok(self.repo.find_commit(commit)?.tree()?)
    }

    /// The blob at `path` in `tree`: its id, if there is one.
    pub fn blob_id_at(&self, tree: &git2::Tree<'_>, path: &str) -> Result<Option<Oid>> {
        match tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => Ok(Some(entry.id())),
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads a blob, refusing to load one larger than `limit` bytes.
    pub fn read_blob(&self, id: Oid, limit: usize) -> Result<BlobRead> {
        let odb = self.repo.odb()?;
        // Whole first, under a cap (see `bounded`); the careful way, its
        // size first, when that fails in any way.
        let object = match bounded::read(&odb, id) {
            Some(object) => object,
            None => {
                let (size, kind) = odb.read_header(id)?;
                if kind != ObjectType::Blob {
                    return Err(not_a_blob(id));
                }
                if size > limit {
                    return Ok(BlobRead::TooLarge(size));
                }
                odb.read(id)?
            }
        };
        if object.kind() != ObjectType::Blob {
            return Err(not_a_blob(id));
        }
        let bytes = object.data();
        Ok(if bytes.len() > limit { BlobRead::TooLarge(bytes.len()) } else { BlobRead::Bytes(bytes.to_vec()) })
    }

    pub fn write_blob(&self, bytes: &[u8]) -> Result<Oid> {
        Ok(self.repo.blob(bytes)?)
    }

    /// Writes a commit object without moving any ref.
    pub fn write_commit(
        &self,
        tree: Oid,
        parents: &[Oid],
        message: &str,
        author: &str,
        when: DateTime<Utc>,
    ) -> Result<Oid> {
        let tree = self.repo.find_tree(tree)?;
        let parents: Vec<git2::Commit<'_>> =
            parents.iter().map(|p| self.repo.find_commit(*p)).collect::<Result<_, _>>()?;
        let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let time = git2::Time::new(when.timestamp(), 0);
        let author_sig = git2::Signature::new(author, &format!("{}@zen-draft.invalid", email_local(author)), &time)?;
        let committer_sig = self.committer(&time).unwrap_or_else(|| author_sig.clone());
        Ok(self.repo.commit(None, &author_sig, &committer_sig, message, &tree, &parent_refs)?)
    }

    /// The person running the command, as git knows them, for the committer line.
    fn committer(&self, time: &git2::Time) -> Option<git2::Signature<'static>> {
        let config = self.repo.config().ok()?;
        let name = config.get_string("user.name").ok()?;
        let email = config.get_string("user.email").ok()?;
        git2::Signature::new(&name, &email, time).ok()
    }
}

fn email_local(author: &str) -> String {
    author.chars().map(|c| if c.is_ascii_alphanumeric() || "._-+".contains(c) { c } else { '.' }).collect()
}

fn not_a_blob(id: Oid) -> Error {
    Error::internal(format!("{id} is not a blob"))
}

pub enum BlobRead {
    Bytes(Vec<u8>),
    TooLarge(usize),
}

/// Process-wide libgit2 settings, made once before the first repository is
/// opened (they are global, so no other thread may be using libgit2 then).
fn configure_libgit2() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // git itself does not re-hash every object it reads; libgit2 does by
        // default, with collision-detecting SHA-1, which doubles the cost of a
        // listing. `git fsck` is where object integrity is checked.
        git2::opts::strict_hash_verification(false);
        bounded::install_allocator();
        // Map packs in windows of 8 MiB and keep at most 40 MiB of them
        // (libgit2 maps up to 1 GiB a window, so a whole pack stayed mapped
        // and resident), so reading every draft and note of a large branch
        // does not keep the whole pack in memory. A listing reads three
        // regions of the pack at once (draft files, index trees, notes);
        // below about 36 MiB their windows evict each other (a cold listing
        // of 100,000 drafts took 3.3 s under a 32 MiB limit, 2.6 s under 40).
        // SAFETY: called once, before any repository exists in this process.
        let _ = unsafe { git2::opts::set_mwindow_size(8 * 1024 * 1024) };
        // SAFETY: as above.
        let _ = unsafe { git2::opts::set_mwindow_mapped_limit(40 * 1024 * 1024) };
        // libgit2 caches every small tree it parses (up to 256 MiB). A listing
        // reads each tree once and keeps the few it revisits itself, so the
        // cache only grows memory with the branch.
        // SAFETY: as above.
        let _ = unsafe { git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 0) };
    });
}
