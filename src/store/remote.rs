//! The central repository, reached through the git CLI: `git fetch` and
//! `git push` do the transport, so SSH keys and agents, credential helpers,
//! `insteadOf` and proxies work as they do for the user's own git commands.
//!
//! Git runs with a fixed locale and nothing it prints is parsed: outcomes are
//! decided by exit statuses and by where refs point. What git says is passed
//! on to the user (credentials in URLs withheld) because it names the cause
//! better than we could. Must never: force a push, or move a local branch
//! (only remote-tracking refs move here).

use super::{RefUpdate, Store};
use crate::error::{Code, Error, Result};
use git2::Oid;
use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::process::{Command, Stdio};

pub const DEFAULT_REMOTE: &str = "origin";

/// How long a remote-tracking ref's lock may stay before it is a dead
/// fetch's.
const STALE_TRACKING_LOCK: std::time::Duration = std::time::Duration::from_secs(3);

/// How much of git's stderr a report keeps (its last lines say why).
const MAX_GIT_MESSAGE: usize = 2000;

/// A remote's name, as `git remote add` makes them: nothing git could take
/// for an option, no URL (its tracking refs would not be valid ref names,
/// and a URL can carry a credential into every message that names the
/// remote), no whitespace or control characters.
pub fn valid_remote_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with(['-', '.', '/'])
        && !name.contains("..")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
}

/// What a fetch found: each asked-for ref of the remote, `None` when the
/// remote does not have it.
pub type RemoteTips = HashMap<String, Option<Oid>>;

/// A fetch's outcome: the remote's tips, and, when some asked-for ref was
/// missing there, what git said about it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub tips: RemoteTips,
    pub missing_said: Option<String>,
}

impl Store {
    pub fn remote_name(&self) -> &str {
        &self.remote
    }

    /// Chooses the remote (`--remote`), overriding `zen.remote`.
    pub fn set_remote(&mut self, name: &str) -> Result<()> {
        if !valid_remote_name(name) {
            return Err(Error::new(Code::InvalidConfig, "the remote name is not valid")
                .with_hint("name a remote from `git remote -v` (add one with `git remote add <name> <url>`)"));
        }
        self.remote = name.to_string();
        Ok(())
    }

    /// Where a remote's ref is tracked here: `refs/heads/x` in
    /// `refs/remotes/R/x`, `refs/notes/x` in `refs/notes/remotes/R/x`.
    pub fn tracking_ref(&self, remote_ref: &str) -> String {
        match remote_ref.strip_prefix("refs/heads/") {
            Some(branch) => format!("refs/remotes/{}/{branch}", self.remote),
            None => match remote_ref.strip_prefix("refs/notes/") {
                Some(notes) => format!("refs/notes/remotes/{}/{notes}", self.remote),
                None => format!("refs/remotes/{}/{}", self.remote, remote_ref.trim_start_matches("refs/")),
            },
        }
    }

    /// Fetches `remote_refs` into their remote-tracking refs (moving nothing
    /// else), and says where each is on the remote. A ref the remote lacks
    /// is reported as `None`, not as a failure; an unreachable remote or a
    /// refused credential is `REMOTE_FAILED` with git's own words.
    pub fn fetch(&self, remote_refs: &[&str]) -> Result<Fetched> {
        for r in remote_refs {
            self.clear_stale_tracking_lock(&self.tracking_ref(r));
        }
        let specs: Vec<String> = remote_refs.iter().map(|r| format!("+{r}:{}", self.tracking_ref(r))).collect();
        let outcome = self.run_transport(self.fetch_command(&specs))?;
        let missing_said = (!outcome.ok).then(|| redact_git_message(&outcome.stderr));
        let present: Vec<&str> = if outcome.ok {
            remote_refs.to_vec()
        } else {
            // Either the remote is out of reach (then so is ls-remote) or
            // some ref is missing there: fetch what it has.
            let listed = self.ls_remote(remote_refs).map_err(|_| self.remote_failed("fetch from", &outcome.stderr))?;
            let present: Vec<&str> = remote_refs.iter().copied().filter(|r| listed.contains_key(*r)).collect();
            if !present.is_empty() {
                let specs: Vec<String> = present.iter().map(|r| format!("+{r}:{}", self.tracking_ref(r))).collect();
                let again = self.run_transport(self.fetch_command(&specs))?;
                if !again.ok {
                    return Err(self.remote_failed("fetch from", &again.stderr));
                }
            }
            present
        };
        let mut tips = RemoteTips::new();
        for r in remote_refs {
            let tip = if present.contains(r) { self.ref_target(&self.tracking_ref(r))? } else { None };
            tips.insert(r.to_string(), tip);
        }
        Ok(Fetched { tips, missing_said })
    }

    /// A fetch killed while it moved a remote-tracking ref leaves its lock,
    /// and every later fetch would fail on it. git holds a ref lock for the
    /// milliseconds of one update: one that stays for seconds is a dead
    /// process's. A remote-tracking ref is only a copy of the remote's, which
    /// this fetch writes again, so such a lock is removed (a branch's lock
    /// never is: see `Store::update_refs`).
    fn clear_stale_tracking_lock(&self, tracking: &str) {
        let lock = self.repo().commondir().join(format!("{tracking}.lock"));
        let deadline = std::time::Instant::now() + STALE_TRACKING_LOCK;
        while lock.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let stale = std::fs::symlink_metadata(&lock)
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age >= STALE_TRACKING_LOCK);
        if stale {
            let _ = std::fs::remove_file(&lock);
        }
    }

    fn fetch_command(&self, specs: &[String]) -> Command {
        let mut command = self.git();
        command.args(["fetch", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules"]);
        if std::io::stderr().is_terminal() {
            command.arg("--progress");
        } else {
            command.arg("--quiet");
        }
        command.arg("--").arg(&self.remote).args(specs);
        command
    }

    /// Where the remote's refs among `refs` are, without fetching
    /// anything; `REMOTE_FAILED` if it cannot be reached.
    pub fn remote_tips(&self, refs: &[&str]) -> Result<HashMap<String, Oid>> {
        self.ls_remote(refs)
            .map_err(|_| Error::new(Code::RemoteFailed, format!("cannot reach the remote {}", self.remote)))
    }

    /// The remote's refs among `refs`, without fetching anything.
    fn ls_remote(&self, refs: &[&str]) -> Result<HashMap<String, Oid>> {
        let output = self
            .git()
            .args(["ls-remote", "--"])
            .arg(&self.remote)
            .args(refs)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| Error::internal(format!("cannot run git ls-remote: {e}")))?;
        if !output.status.success() {
            return Err(Error::new(Code::RemoteFailed, "the remote cannot be reached"));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(text
            .lines()
            .filter_map(|line| {
                let (oid, name) = line.split_once('\t')?;
                Some((name.to_string(), Oid::from_str(oid).ok()?))
            })
            .filter(|(name, _)| refs.contains(&name.as_str()))
            .collect())
    }

    /// Pushes each `(commit, remote ref)` in one atomic push, fast-forward
    /// only: all land or none does. On success the remote-tracking refs are
    /// moved to match. A refusal is returned with git's words; whether it
    /// was a lost race is for the caller to tell by fetching again.
    pub fn push(&self, updates: &[(Oid, String)]) -> Result<(), String> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut command = self.git();
        command.args(["push", "--atomic", "--porcelain", "--no-recurse-submodules"]);
        if std::io::stderr().is_terminal() {
            command.arg("--progress");
        }
        command.arg("--").arg(&self.remote);
        command.args(updates.iter().map(|(commit, remote_ref)| format!("{commit}:{remote_ref}")));
        let outcome = self.run_transport(command).map_err(|e| e.message)?;
        if !outcome.ok {
            return Err(redact_git_message(&outcome.stderr));
        }
        let tracking: Vec<RefUpdate> = updates
            .iter()
            .map(|(commit, remote_ref)| {
                let refname = self.tracking_ref(remote_ref);
                let old = self.ref_target(&refname).ok().flatten();
                RefUpdate { refname, old, new: *commit }
            })
            .filter(|u| u.old != Some(u.new))
            .collect();
        // The push landed; a tracking ref left behind is set right by the
        // next fetch, so this cannot fail the push.
        let _ = self.update_refs(&tracking, "draft: pushed");
        Ok(())
    }

    /// `REMOTE_FAILED` for a fetch or push git could not do, in git's words.
    pub fn remote_failed(&self, doing: &str, git_stderr: &str) -> Error {
        let said = redact_git_message(git_stderr);
        let said = if said.is_empty() { "git gave no reason".to_string() } else { said };
        Error::new(Code::RemoteFailed, format!("cannot {doing} the remote {}: {said}", self.remote)).with_hint(format!(
            "check `git remote get-url {}` and your access to it (`git fetch {}` should work); local refs were not changed, and local work waits for the next `draft sync`",
            self.remote, self.remote
        ))
    }

    /// Runs a fetch or push: its stderr is kept for the report and, on a
    /// terminal, shown as it comes (git's progress).
    fn run_transport(&self, mut command: Command) -> Result<Transport> {
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|e| Error::internal(format!("cannot run git: {e}")).with_hint("zen-draft needs git on PATH"))?;
        let mut pipe = child.stderr.take().expect("piped");
        let show = std::io::stderr().is_terminal();
        let mut kept: Vec<u8> = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            match pipe.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    if show {
                        let _ = std::io::stderr().write_all(&buffer[..n]);
                    }
                    kept.extend_from_slice(&buffer[..n]);
                    if kept.len() > 4 * MAX_GIT_MESSAGE {
                        kept.drain(..kept.len() - 2 * MAX_GIT_MESSAGE);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let status = child.wait().map_err(|e| Error::internal(format!("git did not finish: {e}")))?;
        Ok(Transport { ok: status.success(), stderr: String::from_utf8_lossy(&kept).into_owned() })
    }
}

struct Transport {
    ok: bool,
    stderr: String,
}

/// Git's message, its progress lines dropped, credentials in URLs withheld,
/// its last lines kept.
fn redact_git_message(stderr: &str) -> String {
    let lines: Vec<String> = stderr
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| !is_progress(l))
        .map(withhold_url_credentials)
        .collect();
    let mut text = lines.join("; ");
    if text.len() > MAX_GIT_MESSAGE {
        let mut cut = text.len() - MAX_GIT_MESSAGE;
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        text = format!("…{}", &text[cut..]);
    }
    text
}

fn is_progress(line: &str) -> bool {
    [
        "Enumerating objects",
        "Counting objects",
        "Compressing objects",
        "Writing objects",
        "Receiving objects",
        "Resolving deltas",
        "Total ",
    ]
    .iter()
    .any(|p| line.contains(p))
}

/// `scheme://user:secret@host` becomes `scheme://***@host`.
fn withhold_url_credentials(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after.find(|c: char| c.is_whitespace() || c == '/' || c == '\'' || c == '"').unwrap_or(after.len());
        match after[..end].rfind('@') {
            Some(userinfo) => {
                out.push_str("***");
                rest = &after[userinfo..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_withheld() {
        assert_eq!(
            withhold_url_credentials("fatal: unable to access 'https://bob:hunter2@git.example/x.git/': 401"),
            "fatal: unable to access 'https://***@git.example/x.git/': 401"
        );
        assert_eq!(withhold_url_credentials("ssh://git@h/x and http://h/y"), "ssh://***@h/x and http://h/y");
        assert_eq!(withhold_url_credentials("no url here"), "no url here");
    }

    #[test]
    fn remote_names_cannot_be_options() {
        assert!(valid_remote_name("origin"));
        assert!(valid_remote_name("upstream/mirror"));
        assert!(!valid_remote_name("https://bob:token@git.example/infra.git"));
        assert!(!valid_remote_name("--upload-pack=evil"));
        assert!(!valid_remote_name("a b"));
        assert!(!valid_remote_name(""));
    }

    #[test]
    fn progress_is_dropped_and_the_cause_kept() {
        let text =
            "Counting objects: 100% (3/3)\rWriting objects: 50%\nfatal: could not read from remote repository.\n";
        assert_eq!(redact_git_message(text), "fatal: could not read from remote repository.");
    }
}
