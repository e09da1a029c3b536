//! Keeping a checked-out branch's index and work tree in step when we commit
//! to that branch behind git's back.
//!
//! Must never: overwrite a user's local change. Dirty paths are refused before
//! any ref moves; only the paths a command wrote are checked out afterwards.

use super::Store;
use crate::error::{Code, Error, Result};
use git2::{Status, build::CheckoutBuilder};

impl Store {
    /// Whether `branch` is the branch checked out in this repo's work tree.
    pub fn is_checked_out(&self, branch: &str) -> bool {
        !self.repo().is_bare() && self.head_branch().as_deref() == Some(branch)
    }

    /// Refuses with `DIRTY_WORKTREE` if any of `paths` differs, in the index or
    /// the work tree, from the checked-out commit.
    pub fn ensure_clean(&self, paths: &[&str]) -> Result<()> {
        let dirty: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|path| match self.repo().status_file(std::path::Path::new(path)) {
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

    /// After the checked-out branch moved, brings `paths` in the index and work
    /// tree to what HEAD now holds.
    pub fn follow_head(&self, paths: &[&str]) -> Result<()> {
        let mut checkout = CheckoutBuilder::new();
        checkout.force().recreate_missing(true);
        for path in paths {
            checkout.path(path);
        }
        self.repo().checkout_head(Some(&mut checkout))?;
        Ok(())
    }
}
