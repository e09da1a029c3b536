//! Compare-and-swap ref updates, and the bounded retry loop around them.
//!
//! A ref only moves if it still points where we read it. One ref moves with
//! libgit2's locked compare-and-swap; several move in one `git update-ref
//! --stdin` transaction, because libgit2 commits a multi-ref transaction ref
//! by ref and a crash in between would leave them disagreeing.

use super::Store;
use crate::error::{Code, Error, Result};
use git2::{ErrorCode, Oid};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How many times a writer re-reads and retries after losing a race. Enough
/// for dozens of concurrent writers; bounded so nobody spins forever.
pub const MAX_ATTEMPTS: u32 = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub refname: String,
    /// What the ref must point at now; `None`: it must not exist.
    pub old: Option<Oid>,
    pub new: Oid,
}

#[derive(Debug)]
pub enum UpdateError {
    /// Some ref moved since it was read: re-read and try again.
    Moved,
    Failed(Error),
}

impl From<Error> for UpdateError {
    fn from(e: Error) -> Self {
        UpdateError::Failed(e)
    }
}

impl From<git2::Error> for UpdateError {
    fn from(e: git2::Error) -> Self {
        UpdateError::Failed(e.into())
    }
}

impl Store {
    /// Moves every ref in `updates` or none of them; after a move, starts
    /// git's own upkeep in the background (see [`Store::start_upkeep`]).
    pub fn update_refs(&self, updates: &[RefUpdate], message: &str) -> Result<(), UpdateError> {
        if let Some(replayed) = self.overlay.update(updates) {
            return replayed;
        }
        self.refuse_stale_locks(updates)?;
        match updates {
            [] => return Ok(()),
            [one] => self.update_one(one, message)?,
            many => self.update_many(many, message, true)?,
        }
        self.start_upkeep();
        Ok(())
    }

    fn update_one(&self, update: &RefUpdate, message: &str) -> Result<(), UpdateError> {
        let result = match update.old {
            Some(old) => self.repo().reference_matching(&update.refname, update.new, true, old, message),
            None => self.repo().reference(&update.refname, update.new, false, message),
        };
        match result {
            Ok(_) => Ok(()),
            Err(e) if lost_race(&e) => Err(UpdateError::Moved),
            Err(e) => Err(e.into()),
        }
    }

    fn update_many(&self, updates: &[RefUpdate], message: &str, again: bool) -> Result<(), UpdateError> {
        let mut script = String::from("start\n");
        for u in updates {
            match u.old {
                Some(old) => script.push_str(&format!("update {} {} {}\n", u.refname, u.new, old)),
                None => script.push_str(&format!("create {} {}\n", u.refname, u.new)),
            }
        }
        script.push_str("prepare\ncommit\n");
        let mut child = self
            .git()
            .args(["update-ref", "--stdin", "-m", message])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                Error::internal(format!("cannot run git update-ref: {e}")).with_hint("zen-draft needs git on PATH")
            })?;
        child.stdin.take().expect("piped").write_all(script.as_bytes()).map_err(Error::from)?;
        let output = child.wait_with_output().map_err(Error::from)?;
        if output.status.success() {
            return Ok(());
        }
        // Decided by the refs, not by git's words: if any ref no longer
        // points where the update expected, another writer won the race
        // (a ref held locked by a live writer reads as moved as well).
        for u in updates {
            if self.ref_target(&u.refname).ok() != Some(u.old) || self.is_locked(&u.refname) {
                return Err(UpdateError::Moved);
            }
        }
        // Every ref is where we expected and nobody holds it: a writer that
        // held a lock gave up. Once more; a second failure is real.
        if again {
            return self.update_many(updates, message, false);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(UpdateError::Failed(Error::internal(format!("git update-ref failed: {}", stderr.trim()))))
    }

    /// Whether a writer holds `refname` (or the packed refs) locked now.
    fn is_locked(&self, refname: &str) -> bool {
        let common = self.repo().commondir();
        common.join(format!("{refname}.lock")).exists() || common.join("packed-refs.lock").exists()
    }

    /// A git command on this repository, with a fixed locale so that
    /// nothing it prints depends on the user's language.
    pub(crate) fn git(&self) -> Command {
        let mut command = Command::new("git");
        command.arg("--git-dir").arg(self.git_dir()).env("LC_ALL", "C").env("LANGUAGE", "C");
        command
    }
}

/// A ref lock older than this is not a writer's: zen-draft and git hold a ref
/// lock for the milliseconds of one update.
const STALE_LOCK_AFTER: Duration = Duration::from_secs(10);

impl Store {
    /// Where each of `refnames` points (`None`: it does not exist), all
    /// read at one moment: a second read agreed with the first, and no
    /// transaction held a lock on any of them in between. Git renames a
    /// transaction's locks into place one ref at a time, so a read between
    /// two renames sees some refs moved and others not, with the lock of the
    /// rest still there. A reader that judges refs against each other
    /// (`evidence verify`: the drafts branch against the notes) reads them
    /// here. A lock that stays (a writer that died, which the next writer
    /// reports as `LOCKED`) leaves the last agreeing read standing; refs that
    /// never read the same twice are `CONFLICT`.
    pub fn tips_at_one_moment(&self, refnames: &[String]) -> Result<HashMap<String, Option<Oid>>> {
        let locks = self.lock_files(refnames.iter().map(String::as_str));
        let read = || -> Result<HashMap<String, Option<Oid>>> {
            refnames.iter().map(|name| Ok((name.clone(), self.ref_target(name)?))).collect()
        };
        let mut last = read()?;
        let mut agreed = None;
        for _ in 0..MAX_ATTEMPTS {
            let locked = locks.iter().any(|lock| std::fs::symlink_metadata(lock).is_ok());
            let again = read()?;
            if again == last {
                if !locked {
                    return Ok(again);
                }
                agreed = Some(again.clone());
            }
            last = again;
            std::thread::sleep(Duration::from_millis(1));
        }
        agreed.ok_or_else(|| {
            Error::new(Code::Conflict, "the branches and the notes kept moving while they were read")
                .with_hint("run the command again")
        })
    }

    /// The lock files a transaction on `refnames` takes: each ref's, and
    /// `packed-refs.lock`.
    fn lock_files<'a>(&self, refnames: impl Iterator<Item = &'a str>) -> Vec<PathBuf> {
        let common = self.repo().commondir();
        refnames
            .map(|name| common.join(format!("{name}.lock")))
            .chain(std::iter::once(common.join("packed-refs.lock")))
            .collect()
    }

    /// A lock left behind by a writer that died (`refs/heads/drafts.lock`,
    /// `packed-refs.lock`) would make every attempt fail as if others were
    /// racing; it is reported at once, with where it is and what to do.
    fn refuse_stale_locks(&self, updates: &[RefUpdate]) -> Result<(), UpdateError> {
        for lock in self.lock_files(updates.iter().map(|u| u.refname.as_str())) {
            let Ok(metadata) = std::fs::symlink_metadata(&lock) else { continue };
            let age = metadata.modified().ok().and_then(|m| m.elapsed().ok()).unwrap_or_default();
            if age >= STALE_LOCK_AFTER {
                return Err(UpdateError::Failed(
                    Error::new(
                        Code::Locked,
                        format!("{} is locked by a writer that stopped {} s ago", lock.display(), age.as_secs()),
                    )
                    .with_hint(format!(
                        "if no git or draft command is running on this repository, remove {} and run the command again; nothing was changed",
                        lock.display()
                    )),
                ));
            }
        }
        Ok(())
    }
}

fn lost_race(e: &git2::Error) -> bool {
    matches!(e.code(), ErrorCode::Modified | ErrorCode::Locked | ErrorCode::Exists)
}

/// Runs `attempt` until it succeeds, fails for a reason other than a lost race,
/// or has lost [`MAX_ATTEMPTS`] races (then `CONFLICT`). Each retry waits a
/// little, with jitter, so racing writers spread out.
pub fn retry_on_race<T>(mut attempt: impl FnMut() -> Result<T, UpdateError>) -> Result<T> {
    for n in 0..MAX_ATTEMPTS {
        match attempt() {
            Ok(value) => return Ok(value),
            Err(UpdateError::Failed(e)) => return Err(e),
            Err(UpdateError::Moved) => std::thread::sleep(backoff(n)),
        }
    }
    Err(Error::new(
        Code::Conflict,
        format!("other writers kept moving the branch; gave up after {MAX_ATTEMPTS} attempts"),
    )
    .with_hint("nothing was written; run the command again"))
}

fn backoff(attempt: u32) -> Duration {
    jittered(attempt, Duration::from_micros(500), Duration::from_millis(1))
}

/// A wait before retry `attempt`: `floor`, plus a random share of `unit`
/// doubled per attempt (up to 32 units), so racing writers spread out.
pub(crate) fn jittered(attempt: u32, floor: Duration, unit: Duration) -> Duration {
    use std::hash::{BuildHasher, RandomState};
    let ceiling = (unit.as_nanos() as u64).max(1) << attempt.min(5);
    floor + Duration::from_nanos(RandomState::new().hash_one(attempt) % ceiling)
}
