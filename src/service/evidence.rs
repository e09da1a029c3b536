//! The evidence log through the store: signing and landing records with the
//! commits they describe, and loading the log to verify it.

use super::read::{DraftReader, draft_facts, read_note, read_record};
use super::{Layout, Listed, Service};
use crate::domain::config::ALLOWED_SIGNERS_PATH;
use crate::domain::draft_id::DraftId;
use crate::domain::identity::Actor;
use crate::error::{Code, Error, Result};
use crate::evidence::allowed_signers::AllowedSigners;
use crate::evidence::record::Binding;
use crate::evidence::record::SignedRecord;
use crate::evidence::record::{ADMIN_NAMESPACE, APPLY_NAMESPACE, Record};
use crate::evidence::signing::{self, Signer};
use crate::evidence::verify::{CommitFacts, DraftFacts, Entry, LogReport, Problem, verify_log};
use crate::evidence::{NOTES_REF, index_path};
use crate::store::{BlobRead, RefUpdate, Store};
use chrono::{DateTime, Timelike, Utc};
use git2::Oid;
use std::collections::{HashMap, HashSet};

const SIZE_TRAILER: &str = "Evidence-Size: ";

/// How far ahead of its arrival the gate lets a record's time run, and so
/// how far ahead of the clock a writer follows the log's last record.
pub(crate) const MAX_AHEAD_SECONDS: i64 = 60;

/// How many notes commits that add no record [`Service::last_record_time`]
/// looks through.
const LOOK_BACK: usize = 32;

/// [`Service::stamp`]'s rule: `now`, or `last` (rounded up to a whole
/// second) when that is ahead of `now` by at most [`MAX_AHEAD_SECONDS`].
fn stamp_after(now: DateTime<Utc>, last: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let Some(last) = last else { return now };
    let last = match last.with_nanosecond(0) {
        Some(whole) if whole < last => whole + chrono::Duration::seconds(1),
        _ => last,
    };
    if last > now && last - now <= chrono::Duration::seconds(MAX_AHEAD_SECONDS) { last } else { now }
}

/// Whether `path` in a notes tree is where a note on an object sits (its
/// id's 40 hex digits, in any fan-out), not an index entry.
pub(crate) fn is_note_path(path: &str) -> bool {
    let digits = || path.chars().filter(|c| *c != '/');
    digits().count() == 40 && digits().all(|c| c.is_ascii_hexdigit())
}

impl Service {
    /// `.zen/allowed_signers` as it is on main now.
    pub(crate) fn allowed_signers(&self, layout: &Layout) -> Result<AllowedSigners> {
        let tree = self.store.commit_tree(layout.main.commit)?;
        let Some(blob) = self.store.blob_id_at(&tree, ALLOWED_SIGNERS_PATH)? else {
            return Ok(AllowedSigners::default());
        };
        let invalid = |why: String| {
            Error::new(Code::InvalidConfig, format!("{ALLOWED_SIGNERS_PATH} on main: {why}"))
                .with_hint("fix the file on main; it uses git's allowed_signers format")
        };
        let bytes = match self.store.read_blob(blob, 1024 * 1024)? {
            BlobRead::Bytes(bytes) => bytes,
            BlobRead::TooLarge(size) => return Err(invalid(format!("{size} bytes is too large"))),
        };
        let text = String::from_utf8(bytes).map_err(|_| invalid("not UTF-8".into()))?;
        AllowedSigners::parse(&text).map_err(|e| invalid(e.to_string()))
    }

    /// What a clone without the evidence notes should be told once: a plain
    /// `git clone` fetches the branches but never the notes, and every draft
    /// would read as having no evidence.
    pub fn evidence_notice(&self) -> Option<String> {
        if self.store.ref_target(NOTES_REF).ok()?.is_some() {
            return None;
        }
        Some(format!(
            "this clone has no evidence notes ({NOTES_REF}; git does not clone notes), so no draft's evidence can be checked: run `draft sync --no-push` to fetch them"
        ))
    }

    /// The caller's signing key, refused up front with `refusal` unless
    /// `.zen/allowed_signers` lists it for `actor` in `namespace`: a record
    /// nobody could verify is never written.
    pub(crate) fn signer_for(
        &self,
        layout: &Layout,
        actor: &Actor,
        namespace: &str,
        refusal: Code,
    ) -> Result<Box<dyn Signer>> {
        let git_key = self.store.repo().config().ok().and_then(|c| c.get_string("user.signingkey").ok());
        let signer = signing::signer_from(&|name| self.env.signing.get(name).cloned(), git_key.as_deref()).map_err(|e| {
            Error::new(Code::SigningKeyMissing, format!("no usable signing key: {e}")).with_hint(
                "set ZEN_SIGNING_KEY to an OpenSSH private key (ssh-keygen -t ed25519), or git's user.signingkey; nothing was written",
            )
        })?;
        let allowed = self.allowed_signers(layout)?;
        if let Actor::User(id) = actor
            && !allowed.is_person(id)
        {
            let code =
                if matches!(refusal, Code::NotAnApplier | Code::NotAnAdmin) { refusal } else { Code::UserIdRequired };
            return Err(Error::new(
                code,
                format!("{id} is not a person: {ALLOWED_SIGNERS_PATH} lists it for no namespace only people sign in (zen-draft-apply, zen-draft-review, zen-draft-admin)"),
            )
            .with_hint("agents act through an MCP token (ZEN_MCP_TOKEN), never as ZEN_USER_ID; nothing was written"));
        }
        let key = signer.public_key();
        if !allowed.allows(actor.id(), namespace, key, self.now().timestamp()) {
            let fingerprint = key.fingerprint(ssh_key::HashAlg::Sha256);
            let listed = allowed.principals_for(key);
            let also =
                if listed.is_empty() { String::new() } else { format!(" (it is listed for {})", listed.join(", ")) };
            return Err(Error::new(
                refusal,
                format!("the signing key {fingerprint} is not listed for {} with namespace {namespace} in {ALLOWED_SIGNERS_PATH}{also}", actor.id()),
            )
            .with_hint(format!(
                "add `{} namespaces=\"{namespace}\" <your public key>` to {ALLOWED_SIGNERS_PATH} on main (reviewed like any change); nothing was written",
                actor.id()
            )));
        }
        Ok(signer)
    }

    /// The number of records in the log at `notes_tip`, from the size the
    /// last writer recorded in its commit (counting only when a foreign
    /// writer left none). The claim is checked against that commit's own
    /// records: they must be the last positions, right after its parent's
    /// size, so a commit that lies about the size is refused rather than
    /// making the next writer reuse a position.
    pub(crate) fn log_size(&self, notes_tip: Option<Oid>) -> Result<u64> {
        let Some(tip) = notes_tip else { return Ok(0) };
        let commit = self.store.repo().find_commit(tip)?;
        let Some(size) = claimed_size(&commit) else {
            return Ok(self.store.all_notes(&commit.tree()?)?.len() as u64);
        };
        let parent = commit.parents().next();
        let parent_size = match &parent {
            None => Some(0),
            Some(parent) => claimed_size(parent),
        };
        let parent_tree = parent.as_ref().map(|p| p.tree()).transpose()?;
        let mut positions: Vec<u64> = Vec::new();
        for (path, blob) in self.store.new_blobs(parent_tree.as_ref(), &commit.tree()?)? {
            let hex: String = path.chars().filter(|c| *c != '/').collect();
            if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                continue;
            }
            let Some(signed) = read_record(&self.store, blob).ok().flatten() else { continue };
            positions.push(signed.record.position());
        }
        positions.sort_unstable();
        let expected_first = parent_size.unwrap_or(size.saturating_sub(positions.len() as u64));
        let consistent = !positions.is_empty()
            && positions.iter().enumerate().all(|(i, p)| Some(*p) == expected_first.checked_add(i as u64))
            && expected_first.checked_add(positions.len() as u64) == Some(size);
        if consistent || (positions.is_empty() && parent_size == Some(size)) {
            return Ok(size);
        }
        Err(Error::new(
            Code::EvidenceInvalid,
            format!(
                "the evidence log's last commit says it holds {size} records, which its own records do not bear out"
            ),
        )
        .with_hint("nothing was written; run `draft evidence verify` to see what is wrong with the log"))
    }

    /// Refuses a record the signers in force at its position would not
    /// accept, judged by the timeline of `notes_tip`, the very log it joins.
    /// The command checked its key when it started; a change to `.zen/`
    /// that landed since (an admin removing that key) moved the notes ref,
    /// so a writer that lost the race to it, or read the log after it, is
    /// judged here by the signers that change installed. A log without a
    /// trust root has no such change: main's signers judged the key.
    fn check_in_force<'a>(
        &self,
        notes_tip: Option<Oid>,
        records: impl Iterator<Item = &'a SignedRecord>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let timeline = self.timeline_at(std::sync::Arc::default(), notes_tip)?;
        if timeline.root().is_none() {
            return Ok(());
        }
        for signed in records {
            let record = &signed.record;
            if let Err(reason) = check_signature(signed, &timeline.for_record(record), now.timestamp()) {
                let code = match record.namespace() {
                    APPLY_NAMESPACE => Code::NotAnApplier,
                    ADMIN_NAMESPACE => Code::NotAnAdmin,
                    _ => Code::SigningKeyMissing,
                };
                return Err(Error::new(
                    code,
                    format!("the signers in force at log position {} refuse this record: {reason}", record.position()),
                )
                .with_hint("the log's own signers judge each record (an admin may have just changed them): see `draft evidence verify`; nothing was written"));
            }
        }
        Ok(())
    }

    /// Writes the notes commit that attaches each record to its object, and
    /// indexes each beside its draft (`notes` holds the object, the path of
    /// the draft's file and the record).
    pub(crate) fn write_notes(
        &self,
        notes_tip: Option<Oid>,
        notes: &[(Oid, String, SignedRecord)],
        now: DateTime<Utc>,
    ) -> Result<Oid> {
        self.check_in_force(notes_tip, notes.iter().map(|(_, _, signed)| signed), now)?;
        let mut edits = Vec::with_capacity(notes.len() * 2);
        for (object, draft_path, signed) in notes {
            let blob = self.store.write_blob(signed.to_note().as_bytes())?;
            edits.push((crate::store::Store::note_path(*object), Some(blob)));
            edits.push((index_path(draft_path, signed.record.event()), Some(blob)));
        }
        let base = notes_tip.map(|c| self.store.commit_tree(c)).transpose()?;
        let tree = self.store.edit_tree_many(base.as_ref(), &edits)?.expect("the tree holds the new notes");
        let (first, last) = match (notes.first(), notes.last()) {
            (Some(first), Some(last)) => (&first.2.record, &last.2.record),
            _ => return Err(Error::internal("no notes to write")),
        };
        let subject = if notes.len() == 1 {
            format!("{} {} at position {}", first.event(), first.draft_id(), first.position())
        } else {
            format!("{} records at positions {}..={}", notes.len(), first.position(), last.position())
        };
        let message = format!("{subject}\n\n{SIZE_TRAILER}{}\n", last.position() + 1);
        let parents: Vec<Oid> = notes_tip.into_iter().collect();
        self.store.write_commit(tree, &parents, &message, "zen-draft", now)
    }

    /// The notes tip a record will join, and the record's time, read in that
    /// order (which is why both come from here): the clock, read after the
    /// tip (every record in the log was stamped before it landed, so on one
    /// machine this one is no older), and never before the log's last
    /// record. That one may be a moment ahead when another clone's clock
    /// is, or when the record was stamped by a process whose clock is
    /// injected; up to [`MAX_AHEAD_SECONDS`] ahead, the most the gate lets a
    /// record run ahead of its arrival, this record takes its time (rounded
    /// up to the whole second records are written in), so time never runs
    /// backwards along the log. Further ahead, this machine's
    /// clock is the one to doubt: the record takes that clock, `verify`
    /// reports it out of order, the gate refuses it (`GATE_CLOCK_SKEW`), and
    /// `draft sync` on a machine whose clock is right stamps it again.
    pub(crate) fn stamp(&self) -> Result<(Option<Oid>, DateTime<Utc>)> {
        let notes_tip = self.store.ref_target(NOTES_REF)?;
        let last = notes_tip.map(|tip| self.last_record_time(tip)).transpose()?.flatten();
        Ok((notes_tip, stamp_after(self.now(), last)))
    }

    /// The latest time among the records of the last notes commit, at or
    /// before `notes`, that added any. A commit that adds none (which the
    /// gate refuses) is looked through, a few dozen at most; `None` when
    /// none of those added a record.
    pub(crate) fn last_record_time(&self, notes: Oid) -> Result<Option<DateTime<Utc>>> {
        let mut commit = self.store.repo().find_commit(notes)?;
        for _ in 0..LOOK_BACK {
            let parent = commit.parents().next();
            let parent_tree = parent.as_ref().map(|p| p.tree()).transpose()?;
            let mut latest = None;
            for (path, blob) in self.store.new_blobs(parent_tree.as_ref(), &commit.tree()?)? {
                if !is_note_path(&path) {
                    continue;
                }
                let Some(signed) = read_record(&self.store, blob).ok().flatten() else { continue };
                if let Ok(at) = DateTime::parse_from_rfc3339(signed.record.at()) {
                    latest = latest.max(Some(at.with_timezone(&Utc)));
                }
            }
            match (latest, parent) {
                (Some(latest), _) => return Ok(Some(latest)),
                (None, Some(parent)) => commit = parent,
                (None, None) => return Ok(None),
            }
        }
        Ok(None)
    }

    /// The ref update that lands `signed` on `object` at the next position
    /// of the log at `notes_tip` (read by the caller before it took the
    /// record's time), indexed beside the draft file at `draft_path`.
    pub(crate) fn note_update(
        &self,
        notes_tip: Option<Oid>,
        object: Oid,
        draft_path: &str,
        make: &dyn Fn(u64) -> Result<SignedRecord>,
        now: DateTime<Utc>,
    ) -> Result<RefUpdate> {
        let position = self.log_size(notes_tip)?;
        let signed = make(position)?;
        let new = self.write_notes(notes_tip, &[(object, draft_path.to_string(), signed)], now)?;
        Ok(RefUpdate { refname: NOTES_REF.to_string(), old: notes_tip, new })
    }

    /// Loads every note and checks the whole log against the drafts branch.
    /// Signatures of records before position `trusted_below` are not checked
    /// (the caller proves those records unchanged another way).
    pub(crate) fn load_evidence(&self, layout: &Layout, drafts: &[Listed], trusted_below: u64) -> Result<LogReport> {
        let timeline = self.timeline(layout)?;
        let notes = match self.store.ref_target(NOTES_REF)? {
            Some(tip) => self.store.all_notes(&self.store.commit_tree(tip)?)?,
            None => Vec::new(),
        };
        // This thread reads each note and its commit; the workers parse the
        // notes and check their signatures (most of the cost), in order.
        let now = self.now().timestamp();
        type Read = (Oid, std::result::Result<Vec<u8>, String>, CommitFacts);
        let mut prepare = |chunk: &[(Oid, Oid)]| -> Result<Vec<Read>> {
            let mut out = Vec::with_capacity(chunk.len());
            for &(object, blob) in chunk {
                let bytes = read_note(&self.store, blob)?;
                out.push((object, bytes, commit_facts(&self.store, object)));
            }
            Ok(out)
        };
        let work = |chunk: Vec<Read>| -> Result<Vec<Entry>> {
            Ok(chunk
                .into_iter()
                .map(|(object, bytes, commit)| {
                    let note = bytes.and_then(|bytes| {
                        let text = String::from_utf8(bytes).map_err(|_| "the note is not UTF-8".to_string())?;
                        SignedRecord::parse_note(&text).map_err(|e| e.0)
                    });
                    let signature = match &note {
                        Ok(signed) if signed.record.position() >= trusted_below => {
                            check_signature(signed, &timeline.for_record(&signed.record), now)
                        }
                        _ => Ok(()),
                    };
                    Entry { object: object.to_string(), note, signature, commit, resource_blob: None, zen: None }
                })
                .collect())
        };
        let mut entries = Vec::with_capacity(notes.len());
        super::read::pipeline(&notes, &mut prepare, &work, &mut |mut entry| {
            entry.resource_blob = bound_resource_blob(&self.store, &entry);
            entries.push(entry);
            Ok(())
        })?;
        // The branches' histories are walked after the annotated commits
        // were read, beside the signature checks, into libgit2's cache: the
        // walk finds most commits parsed there.
        let drafts_history = match self.store.branch_tip(&layout.config.drafts_branch)? {
            Some(tip) => self.history(tip.commit)?,
            None => HashSet::new(),
        };
        let main_history = self.history(layout.main.commit)?;
        for ((object, _), entry) in notes.iter().zip(&mut entries) {
            entry.commit.reachable = match entry.commit.event {
                Some("draft_applied") => main_history.contains(object),
                Some(_) => drafts_history.contains(object),
                None => false,
            };
            entry.zen = zen_facts(&self.store, entry, &main_history);
        }
        let facts: Vec<DraftFacts> = drafts
            .iter()
            .filter_map(|entry| match entry {
                Listed::Draft(view) => Some(draft_facts(view)),
                Listed::Invalid { .. } => None,
            })
            .collect();
        // What the notes say, for the checks against main and the index.
        let config_notes = entries.iter().filter(|e| e.note.as_ref().is_ok_and(|n| n.record.is_config())).count();
        let mut applied_on: HashMap<Oid, SignedRecord> = HashMap::new();
        let mut config_on: HashMap<Oid, SignedRecord> = HashMap::new();
        let mut by_blob: HashMap<Oid, (String, &'static str)> = HashMap::new();
        for ((object, blob), entry) in notes.iter().zip(&entries) {
            if let Ok(signed) = &entry.note {
                if !signed.record.is_config() {
                    by_blob.insert(*blob, (signed.record.draft_id().to_string(), signed.record.event()));
                }
                match signed.record {
                    Record::DraftApplied { .. } => {
                        applied_on.insert(*object, signed.clone());
                    }
                    Record::ConfigChanged { .. } => {
                        config_on.insert(*object, signed.clone());
                    }
                    _ => {}
                }
            }
        }
        // The log checks are pure and what follows them reads git: side by
        // side, on two cores.
        let (report, rest) = std::thread::scope(|scope| {
            let log = scope.spawn(|| verify_log(entries, &facts));
            let rest = self.store_problems(layout, &applied_on, &config_on, &timeline, &by_blob);
            (log.join(), rest)
        });
        let mut report = report.map_err(|_| Error::internal("the log checks stopped on a bug"))?;
        // The timeline was read from its index: the index must hold every
        // config_changed record of the log, and nothing else.
        let mut indexed: Vec<(u64, &str)> =
            timeline.changes.iter().map(|(c, _)| (c.record.position(), c.canonical())).collect();
        let mut logged: Vec<(u64, &str)> = config_on.values().map(|c| (c.record.position(), c.canonical())).collect();
        indexed.sort_unstable();
        logged.sort_unstable();
        if indexed != logged || config_notes != logged.len() {
            report.problems.push(Problem {
                position: None,
                object: None,
                draft_id: None,
                reason: "the config_changed records of the log and those of its trust index (config/) differ".into(),
            });
        }
        report.problems.extend(rest?);
        Ok(report)
    }

    /// What main, the notes index and the notes tree say against the log's
    /// records (the checks that read git, beside the log's own).
    fn store_problems(
        &self,
        layout: &Layout,
        applied_on: &HashMap<Oid, SignedRecord>,
        config_on: &HashMap<Oid, SignedRecord>,
        timeline: &super::Timeline,
        by_blob: &HashMap<Oid, (String, &'static str)>,
    ) -> Result<Vec<Problem>> {
        let mut problems = self.main_problems(layout, applied_on, config_on, timeline)?;
        if let Some(tip) = self.store.ref_target(NOTES_REF)? {
            let notes_tree = self.store.commit_tree(tip)?;
            problems.extend(self.index_problems(&notes_tree, by_blob)?);
            problems.extend(self.stray_notes_entries(&notes_tree, config_on)?);
        }
        Ok(problems)
    }

    /// Every commit on main since the repository was set up that changes a
    /// resource is an apply: it carries a second-edition `draft_applied`
    /// record bound to it, and its resources are its parent's plus exactly
    /// the signed blob. (Signatures and the rest of the record are checked
    /// with the log.)
    fn main_problems(
        &self,
        layout: &Layout,
        applied_on: &HashMap<Oid, SignedRecord>,
        config_on: &HashMap<Oid, SignedRecord>,
        timeline: &super::Timeline,
    ) -> Result<Vec<Problem>> {
        use crate::domain::spec::RESOURCE_DIR;
        let repo = self.store.repo();
        let mut problems = Vec::new();
        // What main held when the trust root was made is the baseline; with
        // no root, what it held when it was set up.
        let root_commit = timeline.root().and_then(|root| match &root.record {
            Record::ConfigChanged { commit, .. } => Oid::from_str(commit).ok(),
            _ => None,
        });
        let baseline = match root_commit {
            Some(commit) => Some(commit),
            None => self.baseline(layout.main.commit)?,
        };
        let Some(baseline) = baseline else { return Ok(problems) };
        for commit in self.store.commits_since(Some(baseline), layout.main.commit)? {
            let commit = repo.find_commit(commit)?;
            let tree = commit.tree()?;
            let parent_tree = commit.parents().next().map(|p| p.tree()).transpose()?;
            let folder = |t: &git2::Tree<'_>| t.get_name(RESOURCE_DIR).map(|e| e.id());
            // A merge must not bring resources or .zen/ in from any side
            // (a merge can roll main back to an older tree).
            if commit.parent_count() > 1 {
                let guarded =
                    |t: &git2::Tree<'_>| (t.get_name(RESOURCE_DIR).map(|e| e.id()), t.get_name(".zen").map(|e| e.id()));
                let mut differs = false;
                for parent in commit.parents() {
                    differs |= guarded(&parent.tree()?) != guarded(&tree);
                }
                if differs {
                    problems.push(Problem {
                        position: None,
                        object: Some(commit.id().to_string()),
                        draft_id: None,
                        reason: format!(
                            "a merge commit on main changes {RESOURCE_DIR}/ or .zen/ against one of its parents"
                        ),
                    });
                    continue;
                }
            }
            let zen = |t: &git2::Tree<'_>| t.get_name(".zen").map(|e| e.id());
            if root_commit.is_some()
                && parent_tree.as_ref().and_then(zen) != zen(&tree)
                && !config_on.contains_key(&commit.id())
            {
                problems.push(Problem {
                    position: None,
                    object: Some(commit.id().to_string()),
                    draft_id: None,
                    reason: "a commit on main changes .zen/ without a config_changed record".into(),
                });
            }
            // Other paths on main, when the config in force says deny.
            let other_changed = tree.iter().chain(parent_tree.iter().flat_map(|t| t.iter())).any(|entry| {
                let name = entry.name().unwrap_or_default();
                name != RESOURCE_DIR
                    && name != ".zen"
                    && tree.get_name(name).map(|e| e.id())
                        != parent_tree.as_ref().and_then(|p| p.get_name(name)).map(|e| e.id())
            });
            if other_changed && self.main_other_denied(&commit)? {
                problems.push(Problem {
                    position: None,
                    object: Some(commit.id().to_string()),
                    draft_id: None,
                    reason: "a commit on main changes files outside endpoints/ and .zen/ while gate.main_other is deny"
                        .into(),
                });
            }
            if parent_tree.as_ref().and_then(folder) == folder(&tree) {
                continue;
            }
            let mut flag = |reason: String| {
                problems.push(Problem { position: None, object: Some(commit.id().to_string()), draft_id: None, reason })
            };
            let Some(signed) = applied_on.get(&commit.id()) else {
                flag(format!("a commit on main changes {RESOURCE_DIR}/ without a draft_applied record"));
                continue;
            };
            let binding = match signed.record.binding() {
                Some(Binding::Whole(binding)) => Some(binding),
                // Written before records bound their blob: one file, no more.
                Some(Binding::FirstEdition) => None,
                _ => {
                    flag("a commit on main changes resources under a draft_applied record that binds none".into());
                    continue;
                }
            };
            let mut changed: Vec<(String, Option<Oid>)> = Vec::new();
            for (path, blob) in self.store.new_blobs(parent_tree.as_ref(), &tree)? {
                changed.push((path, Some(blob)));
            }
            if let Some(parent_tree) = &parent_tree {
                for (path, _) in self.store.new_blobs(Some(&tree), parent_tree)? {
                    if !changed.iter().any(|(p, _)| *p == path) {
                        changed.push((path, None));
                    }
                }
            }
            let resources: Vec<&(String, Option<Oid>)> =
                changed.iter().filter(|(p, _)| p.starts_with(&format!("{RESOURCE_DIR}/"))).collect();
            let exact = commit.parent_count() == 1
                && match (resources.as_slice(), binding) {
                    ([(path, Some(blob))], Some(binding)) => {
                        path == binding.resource && blob.to_string() == binding.resource_blob
                    }
                    ([(_, Some(_))], None) => true,
                    _ => false,
                };
            if !exact {
                flag(format!(
                    "a commit on main changes {RESOURCE_DIR}/ beyond the one file and blob its draft_applied record approves"
                ));
            }
        }
        Ok(problems)
    }

    /// Whether `.zen/config.yaml` as `commit`'s parent holds it denies other
    /// changes on main (`gate.main_other: deny`).
    fn main_other_denied(&self, commit: &git2::Commit<'_>) -> Result<bool> {
        let Some(parent) = commit.parents().next() else { return Ok(false) };
        let tip = crate::store::BranchTip { refname: String::new(), commit: parent.id(), is_local: true };
        Ok(self
            .read_config(&tip)
            .ok()
            .flatten()
            .is_some_and(|c| c.gate.main_other == crate::domain::config::MainOther::Deny))
    }

    /// The commit on main's first-parent line where the repository was set
    /// up for zen-draft (the first with `.zen/config.yaml`): what main held
    /// then is the baseline, judged by nobody.
    fn baseline(&self, tip: Oid) -> Result<Option<Oid>> {
        let repo = self.store.repo();
        let mut commit = repo.find_commit(tip)?;
        let has_config = |c: &git2::Commit<'_>| -> Result<bool> {
            Ok(self.store.blob_id_at(&c.tree()?, crate::domain::config::CONFIG_PATH)?.is_some())
        };
        if !has_config(&commit)? {
            return Ok(None);
        }
        loop {
            match commit.parents().next() {
                Some(parent) if has_config(&parent)? => commit = parent,
                _ => return Ok(Some(commit.id())),
            }
        }
    }

    /// The notes index agrees with the notes: every record is indexed beside
    /// its draft, and every index entry is that draft's record of that event.
    /// The notes tree holds notes (hex fan-out), the drafts index and the
    /// trust index; in the trust index, only the log's config records, each
    /// at its position.
    fn stray_notes_entries(
        &self,
        notes_tree: &git2::Tree<'_>,
        config_on: &HashMap<Oid, SignedRecord>,
    ) -> Result<Vec<Problem>> {
        let stray = |reason: String| Problem { position: None, object: None, draft_id: None, reason };
        let mut problems = Vec::new();
        for entry in notes_tree.iter() {
            let name = entry.name().unwrap_or_default();
            let fan_out = name.len() == 2 && name.chars().all(|c| c.is_ascii_hexdigit());
            let note = name.len() == 40 && name.chars().all(|c| c.is_ascii_hexdigit());
            if !(fan_out || note || name == "drafts" || name == "config") {
                problems.push(stray(format!("the notes tree holds {name}, which is neither a note nor the index")));
            }
        }
        let logged: HashSet<(u64, &str)> = config_on.values().map(|c| (c.record.position(), c.canonical())).collect();
        for (path, blob) in self.store.blobs_under(notes_tree, "config")? {
            let parsed = read_record(&self.store, blob)?;
            let fits = parsed.is_some_and(|r| {
                path == super::trust::config_index_path(r.record.position())
                    && logged.contains(&(r.record.position(), r.canonical()))
            });
            if !fits {
                problems.push(stray(format!(
                    "the trust index entry {path} is not a config_changed record of the log at its position"
                )));
            }
        }
        Ok(problems)
    }

    fn index_problems(
        &self,
        notes_tree: &git2::Tree<'_>,
        by_blob: &HashMap<Oid, (String, &'static str)>,
    ) -> Result<Vec<Problem>> {
        let mut problems = Vec::new();
        let mut indexed: HashMap<Oid, usize> = HashMap::new();
        for (path, blob) in self.store.blobs_under(notes_tree, "drafts")? {
            let mut parts = path.rsplit('/');
            let (event, id) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            match by_blob.get(&blob) {
                Some((draft_id, what)) if draft_id == id && *what == event => *indexed.entry(blob).or_default() += 1,
                _ => problems.push(Problem {
                    position: None,
                    object: None,
                    draft_id: DraftId::parse(id).map(|d| d.to_string()),
                    reason: format!("the notes index entry {path} is not that draft's {event} record"),
                }),
            }
        }
        for (blob, (draft_id, event)) in by_blob {
            if !indexed.contains_key(blob) {
                problems.push(Problem {
                    position: None,
                    object: None,
                    draft_id: Some(draft_id.clone()),
                    reason: format!("draft {draft_id}'s {event} record is not in the notes index"),
                });
            }
        }
        Ok(problems)
    }

    /// A draft's `draft_created` record, for the `previous_digest` of a
    /// later one; `draft_path` is where the draft's file is.
    pub(crate) fn created_record(&self, draft_path: &str, id: &DraftId) -> Result<Record> {
        let notes_tip = self.store.ref_target(NOTES_REF)?;
        let reader = DraftReader::new(&self.store, notes_tip)?;
        let found = reader
            .records(draft_path)?
            .into_iter()
            .filter_map(|r| r.ok().map(|(_, signed)| signed))
            .find(|s| matches!(s.record, Record::DraftCreated { .. }) && s.record.draft_id() == id.to_string());
        found.map(|s| s.record).ok_or_else(|| {
            Error::new(Code::EvidenceMismatch, format!("draft {id} has no draft_created record in the evidence log"))
                .with_hint("a draft without signed creation evidence cannot move on; run `draft evidence verify`")
        })
    }

    /// Every commit reachable from `tip`. Each is parsed whole, through
    /// libgit2's object cache, rather than walked with a revwalk's quick
    /// parse: the log checks read almost every one of them before (an
    /// annotated commit's trailers), so the walk finds them there, and each
    /// commit is inflated once, not twice.
    fn history(&self, tip: Oid) -> Result<HashSet<Oid>> {
        let repo = self.store.repo();
        let mut seen = HashSet::from([tip]);
        let mut next = vec![tip];
        while let Some(id) = next.pop() {
            for parent in repo.find_commit(id)?.parent_ids() {
                if seen.insert(parent) {
                    next.push(parent);
                }
            }
        }
        Ok(seen)
    }
}

/// The `Evidence-Size:` a notes commit claims.
fn claimed_size(commit: &git2::Commit<'_>) -> Option<u64> {
    commit.message().unwrap_or_default().lines().find_map(|l| l.strip_prefix(SIZE_TRAILER)?.trim().parse().ok())
}

/// What an annotated commit says about itself: its trailers (whether it is
/// in the history of the branch its event belongs on is for the caller to
/// fill in).
fn commit_facts(store: &Store, object: Oid) -> CommitFacts {
    let Ok(commit) = store.repo().find_commit(object) else { return CommitFacts::default() };
    let message = commit.message().unwrap_or_default();
    let trailer = |key: &str| message.lines().rev().find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()));
    let event = [
        ("Created-By:", "draft_created"),
        ("Discarded-By:", "draft_discarded"),
        ("Applied-By:", "draft_applied"),
        ("Removed-By:", "draft_expired"),
    ]
    .into_iter()
    .find(|(key, _)| trailer(key).is_some())
    .map(|(_, event)| event);
    CommitFacts { draft_id: trailer("Draft-Id:"), event, reachable: false }
}

/// For a second-edition apply record: the blob its annotated commit holds
/// at the resource path the record names.
fn bound_resource_blob(store: &Store, entry: &Entry) -> Option<String> {
    let signed = entry.note.as_ref().ok()?;
    let Some(crate::evidence::record::Binding::Whole(binding)) = signed.record.binding() else { return None };
    let commit = Oid::from_str(&entry.object).ok()?;
    let tree = store.commit_tree(commit).ok()?;
    store.blob_id_at(&tree, binding.resource).ok().flatten().map(|blob| blob.to_string())
}

/// For a `config_changed` record: what its annotated commit holds in `.zen/`.
fn zen_facts(store: &Store, entry: &Entry, main: &HashSet<Oid>) -> Option<crate::evidence::verify::ZenFacts> {
    let signed = entry.note.as_ref().ok()?;
    if !signed.record.is_config() {
        return None;
    }
    let commit = Oid::from_str(&entry.object).ok()?;
    let tree = store.commit_tree(commit).ok()?;
    let blob = |path: &str| store.blob_id_at(&tree, path).ok().flatten().map(|b| b.to_string());
    Some(crate::evidence::verify::ZenFacts {
        signers_blob: blob(ALLOWED_SIGNERS_PATH),
        config_blob: blob(crate::domain::config::CONFIG_PATH),
        on_main: main.contains(&commit),
    })
}

/// Verifies a record's signature for its signer and namespace, against the
/// allowed signers as of the time the record says it was made.
pub(crate) fn check_signature(signed: &SignedRecord, allowed: &AllowedSigners, now: i64) -> Result<(), String> {
    let record = &signed.record;
    if record.actor().starts_with("user:") && !allowed.is_person(record.signer()) {
        return Err(format!(
            "{} acts as a person, but {ALLOWED_SIGNERS_PATH} lists {} for no namespace only people sign in",
            record.actor(),
            record.signer()
        ));
    }
    let at = DateTime::parse_from_rfc3339(record.at()).map_or(now, |t| t.timestamp());
    signing::verify(
        &signed.signature,
        record.namespace(),
        signed.signed_message().as_bytes(),
        record.signer(),
        allowed,
        at,
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

impl Service {
    /// Whether the caller could sign evidence now: their key loads and is
    /// listed for them with `zen-draft-evidence`. What `draft mcp` and `/mcp`
    /// check before they offer an agent tools that write.
    pub fn ready_to_sign(&self) -> Result<()> {
        let actor = self.env.identity.require_actor()?;
        let layout = self.layout()?;
        self.signer_for(&layout, &actor, crate::evidence::record::EVIDENCE_NAMESPACE, Code::SigningKeyMissing)?;
        Ok(())
    }
}

#[cfg(test)]
mod stamping {
    use super::{MAX_AHEAD_SECONDS, is_note_path, stamp_after};
    use chrono::{DateTime, Duration, Utc};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_record_follows_a_last_record_a_little_ahead_and_never_runs_behind_it() {
        let now = at("2026-12-01T12:00:00.400Z");
        assert_eq!(stamp_after(now, None), now);
        assert_eq!(stamp_after(now, Some(at("2026-12-01T11:59:59Z"))), now, "behind: the clock");
        assert_eq!(stamp_after(now, Some(at("2026-12-01T12:00:30Z"))), at("2026-12-01T12:00:30Z"));
        // Records are written in whole seconds: a fraction rounds up, never
        // down to before the record it follows.
        assert_eq!(stamp_after(now, Some(at("2026-12-01T12:00:10.250Z"))), at("2026-12-01T12:00:11Z"));
        let edge = at("2026-12-01T12:00:00Z") + Duration::seconds(MAX_AHEAD_SECONDS);
        assert_eq!(stamp_after(now, Some(edge)), edge, "{MAX_AHEAD_SECONDS} s after the clock's whole second");
        let far = edge + Duration::seconds(1);
        assert_eq!(stamp_after(now, Some(far)), now, "further ahead: the clock, for verify to report");
    }

    #[test]
    fn note_paths_are_object_ids_in_any_fan_out_and_nothing_else() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert!(is_note_path(id));
        assert!(is_note_path(&format!("{}/{}", &id[..2], &id[2..])));
        assert!(is_note_path(&format!("{}/{}/{}", &id[..2], &id[2..4], &id[4..])));
        assert!(!is_note_path("config/000000000012/config_changed"));
        assert!(!is_note_path("drafts/01a2/33/de/82/01a233de-8296-7221-aeb9-f870764a2445/draft_created"));
        assert!(!is_note_path(&id[1..]));
        assert!(!is_note_path(&format!("{}g", &id[1..])));
    }
}
