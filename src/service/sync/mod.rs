//! `draft sync` and `--push`: many clones, one log, with the central
//! repository as the sequencer.
//!
//! A sync fetches main, the drafts branch and the evidence notes into
//! remote-tracking refs, then brings the local refs up to date. When the
//! clone has nothing of its own, that is a fast-forward. When it has
//! operations the remote lacks and the remote moved too, each is replayed on
//! the remote's tips, in order, by the same writer that made it: its checks
//! run again, it takes the next position and the caller's key signs it
//! again. The replay moves no ref until it is whole (see
//! [`crate::store::overlay`]); then the local refs move in one transaction
//! and one atomic, fast-forward-only push sends exactly the refs that moved.
//! A push that loses a race fetches, replays and tries again.
//!
//! Operations are known by their draft and event: a draft is created once
//! and closed once, so an operation whose record the remote already has is
//! never pushed twice, whatever step an earlier sync stopped at.

mod operations;

pub(crate) use operations::Operation;

use super::{Layout, Service};
use crate::domain::config::CONFIG_PATH;
use crate::domain::identity::Actor;
use crate::error::{Code, Error, Result};
use crate::evidence::record::Record;
use crate::evidence::{NOTES_REF, index_path};
use crate::store::RefUpdate;
use crate::store::remote::RemoteTips;
use git2::Oid;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// How many times a push that lost a race is retried (each after a fetch
/// and a replay), with jitter, before `CONFLICT`. Every lost race is another
/// clone's push landing, so the remote is making progress all along; four
/// clones pushing 25 creates each at once lost one create 40 times in a row
/// about one run in five, on this project's 2-core test machine.
const MAX_PUSH_ATTEMPTS: u32 = 100;

/// What a sync did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SyncReport {
    pub remote: String,
    /// Remote refs pushed, with the commit each now points at.
    pub pushed: Vec<PushedRef>,
    /// Local refs moved to take in the remote's work.
    pub updated: Vec<String>,
    /// What became of each local operation the remote lacked.
    pub operations: Vec<OperationReport>,
    /// Whether the checked-out work tree followed a moved main.
    pub work_tree: Option<super::WorkTreeFollow>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PushedRef {
    #[serde(rename = "ref")]
    pub refname: String,
    pub commit: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OperationReport {
    pub event: String,
    pub draft_id: String,
    pub outcome: Outcome,
    /// Why it was dropped or left unpushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Ahead of the remote as it was: pushed (or, with `--no-push`, ready).
    Kept,
    /// Made again on the remote's tips: new position, new signature.
    Replayed,
    /// The remote already has it (an earlier sync pushed it).
    AlreadyOnRemote,
    /// It can no longer happen there; it is gone from the local refs.
    Dropped,
    /// Signed by a key other than the caller's (or waiting for one that
    /// is): kept in this clone (`refs/zen-draft/owed`) for its signer's sync.
    Unpushed,
}

impl SyncReport {
    pub fn outcome_of(&self, event: &str, draft_id: &str) -> Option<&OperationReport> {
        self.operations.iter().rev().find(|o| o.event == event && o.draft_id == draft_id)
    }

    /// Whether anything stays local that the remote lacks.
    pub fn owes(&self) -> bool {
        self.operations.iter().any(|o| o.outcome == Outcome::Unpushed)
    }

    fn record(&mut self, report: OperationReport) {
        self.operations.retain(|o| !(o.event == report.event && o.draft_id == report.draft_id));
        self.operations.push(report);
    }
}

/// The three refs a clone shares with its remote.
#[derive(Debug, Clone)]
pub(crate) struct SharedRefs {
    pub main: String,
    pub drafts: String,
    pub notes: String,
}

impl SharedRefs {
    pub fn of(layout: &Layout) -> SharedRefs {
        SharedRefs {
            main: format!("refs/heads/{}", layout.config.main_branch),
            drafts: format!("refs/heads/{}", layout.config.drafts_branch),
            notes: NOTES_REF.to_string(),
        }
    }

    pub fn all(&self) -> [&str; 3] {
        [&self.main, &self.drafts, &self.notes]
    }
}

/// How a local ref stands against the remote's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Equal,
    /// The local ref is absent or an ancestor of the remote's.
    Behind,
    /// The remote's is absent or an ancestor of the local ref.
    Ahead,
    Diverged,
}

impl Service {
    /// `draft sync`: fetch, take in the remote's work, replay what is local
    /// only, and (unless `push` is false) push.
    pub fn sync(&self, push: bool) -> Result<SyncReport> {
        let layout = self.layout()?;
        let refs = SharedRefs::of(&layout);
        let remote = self.fetch_shared(&refs)?;
        let mut report = SyncReport { remote: self.store.remote_name().to_string(), ..SyncReport::default() };
        self.settle(&refs, remote, push, &mut report)?;
        Ok(report)
    }

    /// `--push`: fetch and take in the remote's work first, run `operation`
    /// on those tips, then push it (fetching, replaying and retrying if
    /// another clone pushed first). The operation's own outcome, when a
    /// replay had to drop it, is its error.
    pub fn pushing<T: Landed>(&self, operation: impl FnOnce() -> Result<T>) -> Result<(T, SyncReport)> {
        let layout = self.layout()?;
        let refs = SharedRefs::of(&layout);
        let remote = self.fetch_shared(&refs)?;
        let mut report = SyncReport { remote: self.store.remote_name().to_string(), ..SyncReport::default() };
        let remote = self.settle(&refs, remote, false, &mut report)?;
        let mut value = operation()?;
        let keys = value.operations();
        self.settle(&refs, remote, true, &mut report)?;
        for (event, id) in &keys {
            if let Some(op) = report.outcome_of(event, id)
                && op.outcome == Outcome::Dropped
            {
                let code = op.code.unwrap_or(Code::Conflict);
                return Err(Error::new(
                    code,
                    format!(
                        "another clone changed the draft first, and the {event} can no longer happen: {}",
                        op.reason.clone().unwrap_or_default()
                    ),
                )
                .with_hint("nothing of it was pushed, and it is gone from this clone; `draft show` the draft to see where it stands"));
            }
        }
        let main = self.store.ref_target(&refs.main)?;
        let drafts = self.store.ref_target(&refs.drafts)?;
        value.after_replay(main, drafts);
        Ok((value, report))
    }

    /// Fetches the shared refs. A ref the remote lacks is fine when this
    /// clone has it (the push creates it there); when neither has it, the
    /// clone cannot work with that remote.
    fn fetch_shared(&self, refs: &SharedRefs) -> Result<RemoteTips> {
        let fetched = self.store.fetch(&refs.all())?;
        let remote = self.store.remote_name();
        if fetched.tips.values().all(Option::is_none) {
            return Ok(fetched.tips); // an empty remote: the first push sets it up
        }
        for r in [&refs.drafts, &refs.notes] {
            if fetched.tips.get(r.as_str()).copied().flatten().is_none() && self.store.ref_target(r)?.is_none() {
                let said = fetched.missing_said.clone().unwrap_or_default();
                return Err(Error::new(
                    Code::NotInitialized,
                    format!("neither the remote {remote} nor this clone has {r} (git: {said})"),
                )
                .with_hint(format!(
                    "push it from the clone where `draft init` ran: git push {remote} {} {}",
                    refs.drafts.trim_start_matches("refs/heads/"),
                    refs.notes
                )));
            }
        }
        Ok(fetched.tips)
    }

    /// Brings the local refs in step with `remote` (as just fetched), and
    /// pushes when asked, fetching again and retrying after a lost race.
    /// Returns the remote tips it last saw.
    fn settle(
        &self,
        refs: &SharedRefs,
        mut remote: RemoteTips,
        push: bool,
        report: &mut SyncReport,
    ) -> Result<RemoteTips> {
        let mut refused = 0u32;
        for attempt in 0..MAX_PUSH_ATTEMPTS {
            let to_push = self.reconcile(refs, &remote, report)?;
            if !push || to_push.is_empty() {
                return Ok(remote);
            }
            let updates: Vec<(Oid, String)> = to_push.iter().map(|(r, c)| (*c, r.clone())).collect();
            super::crash_point("sync", "before-push");
            match self.store.push(&updates) {
                Ok(()) => {
                    super::crash_point("sync", "after-push");
                    for (refname, commit) in to_push {
                        report.pushed.retain(|p| p.refname != refname);
                        report.pushed.push(PushedRef { refname, commit: commit.to_string() });
                    }
                    for op in &mut report.operations {
                        if op.outcome == Outcome::Kept || op.outcome == Outcome::Replayed {
                            op.reason = None;
                        }
                    }
                    for (commit, refname) in updates {
                        remote.insert(refname, Some(commit));
                    }
                    return Ok(remote);
                }
                Err(said) => {
                    let now = self.fetch_shared(refs)?;
                    if now == remote {
                        // Nobody moved the remote: it refused the push, or
                        // something on it was briefly in the way (a ref lock
                        // a dying push left). Twice more, then it is a refusal.
                        refused += 1;
                        if refused > 2 {
                            return Err(self.store.remote_failed("push to", &said));
                        }
                        std::thread::sleep(Duration::from_millis(200 * 3u64.pow(refused - 1)));
                        continue;
                    }
                    remote = now;
                    std::thread::sleep(backoff(attempt));
                }
            }
        }
        Err(Error::new(
            Code::Conflict,
            format!("other clones kept pushing first; gave up after {MAX_PUSH_ATTEMPTS} attempts"),
        )
        .with_hint("your work is kept in this clone; run `draft sync` again"))
    }

    /// One round: fast-forward, or replay, the local refs onto `remote`.
    /// Returns the remote refs to push and the commits for them.
    fn reconcile(&self, refs: &SharedRefs, remote: &RemoteTips, report: &mut SyncReport) -> Result<Vec<(String, Oid)>> {
        let tip = |r: &str| remote.get(r).copied().flatten();
        let mut local: HashMap<String, Option<Oid>> = HashMap::new();
        for r in refs.all() {
            local.insert(r.to_string(), self.store.ref_target(r)?);
        }
        if let Some(remote_main) = tip(&refs.main) {
            let main_tree = self.store.commit_tree(remote_main)?;
            let set_up = self.store.blob_id_at(&main_tree, CONFIG_PATH)?.is_some();
            if !set_up && self.standing(local[&refs.main], Some(remote_main))? != Standing::Ahead {
                return Err(Error::new(
                    Code::NotInitialized,
                    format!("the remote {} is not set up for zen-draft: its main has no {CONFIG_PATH}", self.store.remote_name()),
                )
                .with_hint("check that the remote is the infrastructure repository; to set it up, push this clone's main once (`git push <remote> main`) and run `draft sync`"));
            }
        }
        let mut standing = HashMap::new();
        for r in refs.all() {
            standing.insert(r, self.standing(local[r], tip(r))?);
        }
        // The owed operations and the tip the update below expects, read once.
        let owed_tip = self.store.ref_target(operations::OWED_REF)?;
        let owed = self.owed_operations_at(owed_tip)?;
        let mut operations = owed.clone();
        for op in self.local_operations(local[&refs.notes], tip(&refs.notes))? {
            if !operations.iter().any(|o| o.same_as(&op)) {
                operations.push(op);
            }
        }
        // Work older than the gate's clock skew is stamped again by a replay
        // (SPEC §10: the time of an event is when it entered the shared log).
        let config = self.layout()?.config;
        let stale_before = self.now() - config.gate.max_clock_skew().as_chrono() / 2;
        let stale = operations
            .iter()
            .any(|op| chrono::DateTime::parse_from_rfc3339(op.record().at()).is_ok_and(|at| at < stale_before));
        let needs_replay = !owed.is_empty()
            || stale
            || standing.values().any(|s| matches!(s, Standing::Diverged))
            || (!operations.is_empty() && standing.values().any(|s| matches!(s, Standing::Behind)));
        if !needs_replay {
            for op in &operations {
                report.record(OperationReport::of(op, Outcome::Kept, None));
            }
            let behind: Vec<&str> = refs.all().into_iter().filter(|r| standing[r] == Standing::Behind).collect();
            let moves: Vec<RefUpdate> = behind
                .iter()
                .filter_map(|r| Some(RefUpdate { refname: r.to_string(), old: local[*r], new: tip(r)? }))
                .collect();
            self.move_local_refs(refs, &moves, report)?;
            return Ok(refs
                .all()
                .into_iter()
                .filter(|r| standing[r] == Standing::Ahead)
                .filter_map(|r| Some((r.to_string(), local[r]?)))
                .collect());
        }
        if operations.is_empty() {
            let diverged: Vec<&str> = refs.all().into_iter().filter(|r| standing[r] == Standing::Diverged).collect();
            return Err(Error::new(
                Code::Conflict,
                format!(
                    "{} here and on the remote have both moved, and the local commits are not draft operations",
                    diverged.join(" and ")
                ),
            )
            .with_hint(
                "reconcile them with git (git pull --rebase on main, say), then run `draft sync`; nothing was changed",
            ));
        }
        self.refuse_foreign_commits(refs, &local, remote, &operations)?;

        let seed: HashMap<String, Option<Oid>> = refs.all().into_iter().map(|r| (r.to_string(), tip(r))).collect();
        let key = self.caller_key();
        let (replayed, tips) = self.store.replaying(seed, || self.replay(&operations, key.as_ref()));
        let replayed = replayed?;
        // What this clone still owes moves with its refs: kept aside, in
        // the same transaction, for its signers' sync.
        let still_owed: Vec<&Operation> = operations
            .iter()
            .zip(&replayed)
            .filter(|(_, r)| r.outcome == Outcome::Unpushed)
            .map(|(op, _)| op)
            .collect();
        let mut moves: Vec<RefUpdate> = refs
            .all()
            .into_iter()
            .filter_map(|r| {
                let new = tips.get(r).copied().flatten()?;
                (local[r] != Some(new)).then(|| RefUpdate { refname: r.to_string(), old: local[r], new })
            })
            .collect();
        let unchanged = still_owed.len() == owed.len()
            && still_owed.iter().zip(&owed).all(|(a, b)| a.signed.signature == b.signed.signature);
        if !unchanged {
            moves.push(RefUpdate {
                refname: operations::OWED_REF.to_string(),
                old: owed_tip,
                new: self.owed_commit(&still_owed)?,
            });
        }
        for op in replayed {
            report.record(op);
        }
        self.move_local_refs(refs, &moves, report)?;
        Ok(refs
            .all()
            .into_iter()
            .filter_map(|r| {
                let new = tips.get(r).copied().flatten()?;
                (tip(r) != Some(new)).then(|| (r.to_string(), new))
            })
            .collect())
    }

    fn standing(&self, local: Option<Oid>, remote: Option<Oid>) -> Result<Standing> {
        let repo = self.store.repo();
        Ok(match (local, remote) {
            (a, b) if a == b => Standing::Equal,
            (None, Some(_)) => Standing::Behind,
            (Some(_), None) => Standing::Ahead,
            (Some(local), Some(remote)) => {
                if repo.graph_descendant_of(remote, local)? {
                    Standing::Behind
                } else if repo.graph_descendant_of(local, remote)? {
                    Standing::Ahead
                } else {
                    Standing::Diverged
                }
            }
            (None, None) => Standing::Equal,
        })
    }

    /// Local commits on main and the drafts branch that the remote lacks
    /// must each be an operation being replayed: anything else (a commit
    /// made by hand) is not ours to rewrite.
    fn refuse_foreign_commits(
        &self,
        refs: &SharedRefs,
        local: &HashMap<String, Option<Oid>>,
        remote: &RemoteTips,
        operations: &[Operation],
    ) -> Result<()> {
        let objects: HashSet<Oid> = operations.iter().map(|op| op.object).collect();
        let applied: HashSet<String> = operations
            .iter()
            .filter(|op| matches!(op.record(), Record::DraftApplied { .. }))
            .map(|op| op.object.to_string())
            .collect();
        for r in [&refs.main, &refs.drafts] {
            let Some(tip) = local[r.as_str()] else { continue };
            for commit in self.store.commits_since(remote.get(r.as_str()).copied().flatten(), tip)? {
                if objects.contains(&commit) {
                    continue;
                }
                let message = self.store.repo().find_commit(commit)?.message().unwrap_or_default().to_string();
                let marks_applied = message
                    .lines()
                    .filter_map(|l| l.strip_prefix("Applied-In: "))
                    .any(|main| applied.contains(main.trim()));
                if r == &refs.drafts && marks_applied {
                    continue;
                }
                return Err(Error::new(
                    Code::Conflict,
                    format!("{r} has a local commit the remote lacks that is not a draft operation, and the remote moved too"),
                )
                .with_hint("rebase that commit onto the remote's with git (or push it first), then run `draft sync`; nothing was changed"));
            }
        }
        Ok(())
    }

    /// Replays each operation on the overlay's tips, in order.
    fn replay(&self, operations: &[Operation], key: Option<&ssh_key::public::KeyData>) -> Result<Vec<OperationReport>> {
        let mut out = Vec::with_capacity(operations.len());
        // Drafts whose creation did not land: what follows on them waits or goes.
        let mut blocked: HashMap<String, Outcome> = HashMap::new();
        for op in operations {
            let id = op.record().draft_id().to_string();
            let is_creation = matches!(op.record(), Record::DraftCreated { .. });
            if let Some(outcome) = blocked.get(&id) {
                let reason = match outcome {
                    Outcome::Unpushed => "it waits for the draft's creation, which stays unpushed",
                    _ => "the draft's creation was dropped",
                };
                out.push(OperationReport::of(op, *outcome, Some((Code::Conflict, reason.to_string()))));
                continue;
            }
            if self.remote_has(op)? {
                out.push(OperationReport::of(op, Outcome::AlreadyOnRemote, None));
                continue;
            }
            let signed_by_caller = match (key, op.signing_key()) {
                (Some(key), Some(signed)) => *key == signed,
                _ => false,
            };
            if !signed_by_caller {
                let reason = match key {
                    None => "there is no usable signing key here to sign it again".to_string(),
                    Some(_) => format!(
                        "it was signed by another key than yours ({}): its signer's `draft sync` pushes it",
                        op.record().signer()
                    ),
                };
                out.push(OperationReport::of(op, Outcome::Unpushed, Some((Code::SigningKeyMissing, reason))));
                if is_creation {
                    blocked.insert(id, Outcome::Unpushed);
                }
                continue;
            }
            match self.replay_one(op) {
                Ok(()) => out.push(OperationReport::of(op, Outcome::Replayed, None)),
                Err(e) if drops(&e) => {
                    let reason = match e.checks.iter().find(|c| !c.ok) {
                        Some(check) => check.message.clone(),
                        None => e.message.clone(),
                    };
                    let code = e.checks.iter().find(|c| !c.ok).map_or(e.code, |c| c.code);
                    out.push(OperationReport::of(op, Outcome::Dropped, Some((code, reason))));
                    if is_creation {
                        blocked.insert(id, Outcome::Dropped);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Whether the log the replay stands on already holds this operation:
    /// the creation of its draft, or the same closing event by the same actor.
    fn remote_has(&self, op: &Operation) -> Result<bool> {
        let Some(notes) = self.store.ref_target(NOTES_REF)? else { return Ok(false) };
        let tree = self.store.commit_tree(notes)?;
        let event = op.record().event();
        let Some(blob) = self.store.blob_id_at(&tree, &index_path(&op.draft_path, event))? else {
            return Ok(false);
        };
        let there = super::read::read_record(&self.store, blob)?;
        Ok(there.is_some_and(|there| {
            if op.record().is_config() {
                return there.signature == op.signed.signature;
            }
            there.record.draft_id() == op.record().draft_id()
                && (event == "draft_created" || there.record.actor() == op.record().actor())
        }))
    }

    /// Makes one operation again, as its actor, with the rules of its writer.
    fn replay_one(&self, op: &Operation) -> Result<()> {
        let record = op.record();
        let actor = Actor::parse(record.actor()).ok_or_else(|| {
            Error::new(Code::InvalidDraft, format!("the {} record names no valid actor", record.event()))
        })?;
        let id = record.draft_id();
        match record {
            Record::DraftCreated { .. } => {
                let made = self.draft_at(op.object, &op.draft_path)?;
                self.replay_create(&actor, &made).map(|_| ())
            }
            Record::DraftDiscarded { .. } => {
                let made = self.draft_at(op.object, &op.draft_path)?;
                self.discard_as(&actor, id, made.reason.as_deref()).map(|_| ())
            }
            Record::DraftApplied { .. } => self.apply_as(&actor, id, record.spec_digest()).map(|_| ()),
            Record::DraftExpired { .. } => self.replay_gc(&actor, id),
            Record::ConfigChanged { .. } => self.replay_config(&actor, op.object),
        }
    }

    /// The draft file as the commit `commit` has it.
    fn draft_at(&self, commit: Oid, path: &str) -> Result<crate::domain::draft::Draft> {
        let tree = self.store.commit_tree(commit)?;
        let unreadable = || Error::new(Code::InvalidDraft, "the draft file of a local operation cannot be read");
        let blob = self.store.blob_id_at(&tree, path)?.ok_or_else(unreadable)?;
        let bytes = match self.store.read_blob(blob, crate::yaml::MAX_DOCUMENT_BYTES)? {
            crate::store::BlobRead::Bytes(bytes) => bytes,
            crate::store::BlobRead::TooLarge(_) => return Err(unreadable()),
        };
        crate::yaml::parse(&bytes).map_err(|_| unreadable())
    }

    /// The public half of the caller's signing key, if there is one.
    fn caller_key(&self) -> Option<ssh_key::public::KeyData> {
        let git_key = self.store.repo().config().ok().and_then(|c| c.get_string("user.signingkey").ok());
        let signer =
            crate::evidence::signing::signer_from(&|name| self.env.signing.get(name).cloned(), git_key.as_deref())
                .ok()?;
        Some(signer.public_key().key_data().clone())
    }

    /// Moves local refs (compare-and-swap, one transaction), the checked-out
    /// work tree following main when it moves.
    fn move_local_refs(&self, refs: &SharedRefs, moves: &[RefUpdate], report: &mut SyncReport) -> Result<()> {
        if moves.is_empty() {
            return Ok(());
        }
        let main_branch = refs.main.trim_start_matches("refs/heads/");
        let main_move = moves.iter().find(|m| m.refname == refs.main);
        let follow = match main_move {
            Some(m) if self.store.is_checked_out(main_branch) => Some((m.new, self.changed_paths(m.old, m.new)?)),
            _ => None,
        };
        if let Some((commit, paths)) = &follow {
            let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
            self.store.ensure_clean(&paths).map_err(|e| {
                let hint = "commit or stash your changes to them, then run `draft sync` again; the remote-tracking refs are up to date, nothing else moved";
                Error::new(e.code, format!("main cannot follow the remote: {}", e.message)).with_hint(hint)
            })?;
            self.store.journal_follow(*commit, &paths)?;
        }
        self.store.update_refs(moves, "draft sync").map_err(|e| match e {
            crate::store::UpdateError::Moved => {
                let common = self.store.repo().commondir().to_path_buf();
                // Held by a command running now, or left by one that died
                // (a transaction killed midway can leave several): all named.
                let held: Vec<String> = moves
                    .iter()
                    .map(|m| common.join(format!("{}.lock", m.refname)))
                    .filter(|l| l.exists())
                    .map(|l| l.display().to_string())
                    .collect();
                match held.as_slice() {
                    [] => Error::new(Code::Conflict, "a local ref moved while sync ran")
                        .with_hint("another command wrote to this clone at the same time; run `draft sync` again"),
                    held => Error::new(
                        Code::Locked,
                        format!("{} {} locked", held.join(", "), if held.len() == 1 { "is" } else { "are" }),
                    )
                    .with_hint(format!(
                        "if no git or draft command is running on this clone, remove {} and run `draft sync` again; nothing was changed",
                        held.join(" and ")
                    )),
                }
            }
            crate::store::UpdateError::Failed(e) => e,
        })?;
        for m in moves.iter().filter(|m| m.refname != operations::OWED_REF) {
            report.updated.retain(|u| *u != m.refname);
            report.updated.push(m.refname.clone());
        }
        if let Some((commit, paths)) = follow {
            let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
            report.work_tree = Some(match self.store.follow_head(commit, &paths) {
                Ok(()) => super::WorkTreeFollow::Followed,
                Err(_) => super::WorkTreeFollow::Pending,
            });
        }
        Ok(())
    }

    /// Files that differ between two commits' trees.
    fn changed_paths(&self, old: Option<Oid>, new: Oid) -> Result<Vec<String>> {
        let old_tree = old.map(|c| self.store.commit_tree(c)).transpose()?;
        let new_tree = self.store.commit_tree(new)?;
        let mut paths: std::collections::BTreeSet<String> =
            self.store.new_blobs(old_tree.as_ref(), &new_tree)?.into_iter().map(|(p, _)| p).collect();
        if let Some(old_tree) = &old_tree {
            paths.extend(self.store.new_blobs(Some(&new_tree), old_tree)?.into_iter().map(|(p, _)| p));
        }
        Ok(paths.into_iter().collect())
    }
}

impl OperationReport {
    fn of(op: &Operation, outcome: Outcome, why: Option<(Code, String)>) -> OperationReport {
        let (code, reason) = why.map_or((None, None), |(c, r)| (Some(c), Some(r)));
        OperationReport {
            event: op.record().event().to_string(),
            draft_id: op.record().draft_id().to_string(),
            outcome,
            code,
            reason,
        }
    }
}

/// Whether a replay's failure means the operation can no longer happen
/// (a check said no) rather than that this sync cannot go on.
fn drops(error: &Error) -> bool {
    !matches!(
        error.code,
        Code::Internal
            | Code::Locked
            | Code::DirtyWorktree
            | Code::RemoteFailed
            | Code::Conflict
            | Code::SigningKeyMissing
    )
}

fn backoff(attempt: u32) -> Duration {
    crate::store::refs::jittered(attempt, Duration::from_millis(5), Duration::from_millis(20))
}

/// What a writer made, for `--push`: the operations to look for in the
/// sync's report, and the commits to name once a replay remade them.
pub trait Landed {
    /// `(event, draft id)` of each operation it made.
    fn operations(&self) -> Vec<(&'static str, String)>;
    /// After a replay the commits differ: take the new tips.
    fn after_replay(&mut self, main: Option<Oid>, drafts: Option<Oid>);
}

impl Landed for super::Created {
    fn operations(&self) -> Vec<(&'static str, String)> {
        vec![("draft_created", self.id.clone())]
    }
    fn after_replay(&mut self, _main: Option<Oid>, drafts: Option<Oid>) {
        if let Some(drafts) = drafts {
            self.commit = drafts.to_string();
        }
    }
}

impl Landed for super::Discarded {
    fn operations(&self) -> Vec<(&'static str, String)> {
        vec![("draft_discarded", self.id.clone())]
    }
    fn after_replay(&mut self, _main: Option<Oid>, drafts: Option<Oid>) {
        if let Some(drafts) = drafts {
            self.commit = drafts.to_string();
        }
    }
}

impl Landed for super::Applied {
    fn operations(&self) -> Vec<(&'static str, String)> {
        vec![("draft_applied", self.id.clone())]
    }
    fn after_replay(&mut self, main: Option<Oid>, _drafts: Option<Oid>) {
        if let Some(main) = main {
            self.commit = main.to_string();
        }
    }
}

impl Landed for super::GcReport {
    fn operations(&self) -> Vec<(&'static str, String)> {
        self.removed.iter().map(|r| ("draft_expired", r.id.clone())).collect()
    }
    fn after_replay(&mut self, _main: Option<Oid>, drafts: Option<Oid>) {
        if self.commit.is_some() {
            self.commit = drafts.map(|d| d.to_string());
        }
    }
}
