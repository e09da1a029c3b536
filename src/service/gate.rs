//! The gate (SPEC §10): the central repository's `pre-receive` hook, which
//! refuses anything that did not go through the rules, whoever pushes it.
//!
//! It judges the push by content: the refs it moves, the commits it adds to
//! main and the drafts branch, and the records it adds to the log. What the
//! repository already holds was accepted by the gate before, so only what is
//! new is read: the cost follows the push, not the repository. It reads the
//! pushed objects from git's quarantine (the repository is opened from git's
//! environment) and runs every check on the refs as they would be after the
//! push through an overlay (see [`crate::store::overlay`]), so it writes no
//! ref and no object.

use super::read::read_record;
use super::{Layout, Service};
use crate::domain::checks::check_endpoint_spec;
use crate::domain::config::{CONFIG_PATH, MainOther};
use crate::domain::digest::value_digest;
use crate::domain::draft::{Draft, Status};
use crate::domain::draft_id::DraftId;
use crate::domain::spec::RESOURCE_DIR;
use crate::error::{Code, Error, Result};
use crate::evidence::record::{Binding, Record, SignedRecord};
use crate::evidence::verify::principal_of;
use crate::evidence::{NOTES_REF, index_path};
use crate::store::BlobRead;
use crate::store::tree::ChangedEntry;
use git2::Oid;
use serde::Serialize;
use std::collections::HashMap;

/// The largest file the drafts branch may hold.
const MAX_DRAFTS_BLOB: usize = 64 * 1024;

/// One line git gives a `pre-receive` hook: `<old> <new> <ref>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefLine {
    pub old: Option<Oid>,
    pub new: Option<Oid>,
    pub refname: String,
}

impl RefLine {
    pub fn parse(line: &str) -> Option<RefLine> {
        let mut parts = line.split_whitespace();
        let oid = |text: &str| Oid::from_str(text).ok().filter(|o| !o.is_zero());
        let old = parts.next()?;
        let new = parts.next()?;
        let refname = parts.next()?.to_string();
        if parts.next().is_some() || old.len() != 40 || new.len() != 40 {
            return None;
        }
        Some(RefLine { old: oid(old), new: oid(new), refname })
    }
}

/// A rule a push broke.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Violation {
    #[serde(rename = "ref")]
    pub refname: String,
    pub commit: Option<String>,
    pub code: &'static str,
    pub message: String,
    pub hint: &'static str,
}

/// Reports one violation of the notes ref: code, message, hint.
type Flag = dyn Fn(&mut Vec<Violation>, &'static str, String, &'static str);

/// A record the push adds, with the commit it annotates and where it is.
struct NewRecord {
    signed: SignedRecord,
    object: Oid,
    blob: Oid,
}

impl Service {
    /// Judges a push by `pusher` (when the server names one): every rule
    /// it breaks, none when it may land.
    pub fn gate(&self, lines: &[RefLine], pusher: Option<&str>) -> Result<Vec<Violation>> {
        let layout = self.layout()?;
        let main_ref = format!("refs/heads/{}", layout.config.main_branch);
        let drafts_ref = format!("refs/heads/{}", layout.config.drafts_branch);
        let guarded = [main_ref.as_str(), drafts_ref.as_str(), NOTES_REF];
        let mut out = Vec::new();
        let scopes = &layout.config.gate.scopes;
        if let Some(pusher) = pusher.filter(|_| !scopes.is_empty()) {
            let allowed = scopes.get(pusher).cloned().unwrap_or_default();
            for line in lines {
                let scope = if line.refname == main_ref {
                    "main"
                } else if line.refname == drafts_ref {
                    "drafts"
                } else if line.refname == NOTES_REF {
                    "notes"
                } else {
                    continue;
                };
                if !allowed.iter().any(|a| a == scope) {
                    out.push(Violation {
                        refname: line.refname.clone(),
                        commit: line.new.map(|c| c.to_string()),
                        code: "GATE_SCOPE",
                        message: format!("the pusher the server names may not move {scope} (gate.scopes)"),
                        hint: "an admin widens gate.scopes in .zen/config.yaml",
                    });
                }
            }
        }
        let mut before: HashMap<String, Option<Oid>> = HashMap::new();
        let mut after: HashMap<String, Option<Oid>> = HashMap::new();
        for r in guarded {
            let now = self.store.ref_target(r)?;
            before.insert(r.to_string(), now);
            after.insert(r.to_string(), now);
        }
        // Refs git itself follows (replacements) could make a judged object
        // read as another: nobody pushes them.
        for line in lines.iter().filter(|l| l.refname.starts_with("refs/replace/")) {
            out.push(Violation {
                refname: line.refname.clone(),
                commit: line.new.map(|c| c.to_string()),
                code: "GATE_BAD_OBJECT",
                message: "replacement refs are not accepted".into(),
                hint: "push branches and notes only",
            });
        }
        for line in lines.iter().filter(|l| guarded.contains(&l.refname.as_str())) {
            let violation = |code, message: String, hint| Violation {
                refname: line.refname.clone(),
                commit: line.new.map(|c| c.to_string()),
                code,
                message,
                hint,
            };
            match (line.old, line.new) {
                (_, None) => out.push(violation(
                    "GATE_DELETE",
                    format!("{} cannot be deleted", line.refname),
                    "main, the drafts branch and the evidence notes only grow",
                )),
                (Some(old), Some(new)) if !self.store.repo().graph_descendant_of(new, old)? => out.push(violation(
                    "GATE_NOT_FAST_FORWARD",
                    format!("{} may only move forward (fast-forward)", line.refname),
                    "fetch, rebase your work on the remote's tip (`draft sync` does it), and push again",
                )),
                (_, Some(new)) => {
                    after.insert(line.refname.clone(), Some(new));
                }
            }
        }
        if !out.is_empty() {
            return Ok(out);
        }
        let pinned = self.store.config_string(super::audit::TRUST_ROOT_KEY);
        let now = self.now();
        let (judged, _) = self.store.replaying(after.clone(), || -> Result<Vec<Violation>> {
            let layout = self.layout()?;
            let mut out = Vec::new();
            let records =
                self.gate_notes(&layout, before[NOTES_REF], after[NOTES_REF], pinned.as_deref(), now, &mut out)?;
            for (object, on) in &records {
                if on.len() > 1 {
                    out.push(Violation {
                        refname: NOTES_REF.to_string(),
                        commit: Some(object.to_string()),
                        code: "GATE_RECORD_INVALID",
                        message: format!("{} new records on one commit; each lifecycle step has exactly one", on.len()),
                        hint: "a record lands with the commit of its event",
                    });
                }
            }
            // Every new record is on a commit this push adds to its branch.
            let new_main = self.new_commits(before[&main_ref], after[&main_ref])?;
            let new_drafts = self.new_commits(before[&drafts_ref], after[&drafts_ref])?;
            for (object, on) in &records {
                for record in on {
                    let branch = match record.signed.record {
                        Record::DraftApplied { .. } | Record::ConfigChanged { .. } => &new_main,
                        _ => &new_drafts,
                    };
                    if !branch.contains(object) {
                        out.push(Violation {
                            refname: NOTES_REF.to_string(),
                            commit: Some(object.to_string()),
                            code: "GATE_RECORD_INVALID",
                            message: format!(
                                "the new {} record is not on a commit this push adds to its branch",
                                record.signed.record.event()
                            ),
                            hint: "a record lands with the commit of its event",
                        });
                    }
                }
            }
            self.gate_drafts(&layout, &drafts_ref, before[&drafts_ref], after[&drafts_ref], &records, now, &mut out)?;
            self.gate_main(&layout, &main_ref, before[&main_ref], after[&main_ref], &records, &mut out)?;
            Ok(out)
        });
        out.extend(judged?);
        Ok(out)
    }

    /// The trust root the gate holds pushes to: `given`, which must be the
    /// log's own, else the log's own; a log without one cannot be gated.
    pub fn gate_trust_root(&self, given: Option<&str>) -> Result<String> {
        let layout = self.layout()?;
        let found = self.timeline(&layout)?.root().map(|r| r.digest()).ok_or_else(|| {
            Error::new(
                Code::TrustRootMissing,
                "this repository's log has no trust root, so the gate has nothing to hold pushes to",
            )
            .with_hint(
                "an admin runs `draft trust init` (or `draft init --admin`) and pushes it, then install the gate",
            )
        })?;
        match given {
            Some(given) if given != found => {
                Err(Error::new(Code::TrustRootChanged, "the log's trust root is not the one given")
                    .with_hint("check the digest with the repository's admins"))
            }
            _ => Ok(found),
        }
    }

    /// The commits `new` has that `old` has not.
    fn new_commits(&self, old: Option<Oid>, new: Option<Oid>) -> Result<std::collections::HashSet<Oid>> {
        let Some(new) = new else { return Ok(Default::default()) };
        Ok(self.store.commits_since(old, new)?.into_iter().collect())
    }

    /// Rules 4 and 6, and every new record's signature, place and links.
    fn gate_notes(
        &self,
        layout: &Layout,
        old: Option<Oid>,
        new: Option<Oid>,
        pinned: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
        out: &mut Vec<Violation>,
    ) -> Result<HashMap<Oid, Vec<NewRecord>>> {
        let mut by_object: HashMap<Oid, Vec<NewRecord>> = HashMap::new();
        if old == new {
            return Ok(by_object);
        }
        let new = new.ok_or_else(|| Error::internal("the notes ref went missing"))?;
        let flag = move |out: &mut Vec<Violation>, code, message: String, hint| {
            out.push(Violation { refname: NOTES_REF.to_string(), commit: Some(new.to_string()), code, message, hint })
        };
        let old_tree = old.map(|c| self.store.commit_tree(c)).transpose()?;
        let new_tree = self.store.commit_tree(new)?;
        // Nothing the log held is changed or taken away.
        if let Some(old_tree) = &old_tree
            && !self.store.new_blobs(Some(&new_tree), old_tree)?.is_empty()
        {
            flag(
                out,
                "GATE_RECORD_INVALID",
                "the push changes or removes notes the log already holds".into(),
                "the evidence log only gains records",
            );
            return Ok(by_object);
        }
        let timeline = self.timeline(layout)?;
        if let (Some(pinned), Some(root)) = (pinned, timeline.root())
            && root.digest() != pinned
        {
            flag(
                out,
                "GATE_RECORD_INVALID",
                "the push changes the log's trust root".into(),
                "the trust root is fixed when the gate is installed",
            );
        }
        if timeline.root().is_none() {
            flag(
                out,
                "GATE_RECORD_INVALID",
                "the log has no trust root".into(),
                "an admin runs `draft trust init`, then `draft hook install`",
            );
        }
        let old_size = self.log_size(old)?;
        let mut previous_time = match old {
            Some(old) => self.last_record_time(old)?,
            None => None,
        };
        let mut records: Vec<NewRecord> = Vec::new();
        let mut index_entries: Vec<(String, Oid)> = Vec::new();
        for (path, blob) in self.store.new_blobs(old_tree.as_ref(), &new_tree)? {
            let hex: String = path.chars().filter(|c| *c != '/').collect();
            if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                index_entries.push((path, blob)); // each must be a new record's index entry
                continue;
            }
            let parsed = read_record(&self.store, blob)?;
            let (Some(signed), Ok(object)) = (parsed, Oid::from_str(&hex)) else {
                flag(
                    out,
                    "GATE_RECORD_INVALID",
                    format!("the note at {path} is not a signed record"),
                    "notes are written by zen-draft",
                );
                continue;
            };
            records.push(NewRecord { signed, object, blob });
        }
        records.sort_by_key(|r| r.signed.record.position());
        let skew = layout.config.gate.max_clock_skew().as_chrono();
        let mut last_config =
            timeline.changes.iter().rev().find(|(c, _)| c.record.position() < old_size).map(|(c, _)| c.digest());
        for (i, new_record) in records.iter().enumerate() {
            let record = &new_record.signed.record;
            let position = record.position();
            let what = format!("the {} record at position {position}", record.event());
            if position != old_size + i as u64 {
                flag(
                    out,
                    "GATE_RECORD_INVALID",
                    format!("{what} is not at the log's next position ({})", old_size + i as u64),
                    "`draft sync` renumbers local work onto the remote's log",
                );
            }
            if let Err(why) =
                super::evidence::check_signature(&new_record.signed, &timeline.for_record(record), now.timestamp())
            {
                flag(
                    out,
                    "GATE_RECORD_INVALID",
                    format!("{what}: {why}"),
                    "only keys listed in .zen/allowed_signers at that position sign records",
                );
            }
            if principal_of(record.actor()) != Some(record.signer()) {
                flag(
                    out,
                    "GATE_RECORD_INVALID",
                    format!("{what} is signed by another principal than its actor"),
                    "records are signed by who acted",
                );
            }
            match chrono::DateTime::parse_from_rfc3339(record.at()) {
                Ok(at) => {
                    let at = at.with_timezone(&chrono::Utc);
                    // At most a minute ahead: a record dated in the future
                    // would hold every later one off.
                    let ahead = skew.min(chrono::Duration::seconds(super::evidence::MAX_AHEAD_SECONDS));
                    if at - now > ahead || now - at > skew {
                        flag(
                            out,
                            "GATE_CLOCK_SKEW",
                            format!("{what} is dated {} but arrived at {}", record.at(), now.to_rfc3339()),
                            "local work older than the skew reaches the server through `draft sync`, which re-stamps it",
                        );
                    }
                    if previous_time.is_some_and(|p| at < p) {
                        flag(
                            out,
                            "GATE_CLOCK_SKEW",
                            format!("{what} is older than the record before it"),
                            "records are stamped in log order",
                        );
                    }
                    previous_time = Some(at);
                }
                Err(_) => flag(
                    out,
                    "GATE_RECORD_INVALID",
                    format!("{what} has no valid time"),
                    "records carry RFC 3339 times",
                ),
            }
            if let Record::ConfigChanged { previous_digest, .. } = record {
                if *previous_digest != last_config {
                    flag(
                        out,
                        "GATE_RECORD_INVALID",
                        format!("{what} does not follow the previous config_changed record"),
                        "admin commands write the chain",
                    );
                }
                last_config = Some(new_record.signed.digest());
            } else {
                self.gate_record_links(&new_tree, old_tree.as_ref(), new_record, &what, out, &flag)?;
            }
            by_object.entry(new_record.object).or_default().push(NewRecord {
                signed: new_record.signed.clone(),
                object: new_record.object,
                blob: new_record.blob,
            });
        }
        // Every other new entry of the notes tree is the index entry of a
        // record this push adds, holding that record.
        for (path, blob) in &index_entries {
            let owner = records.iter().find(|r| r.blob == *blob);
            let expected = owner.map(|r| match &r.signed.record {
                Record::ConfigChanged { .. } => vec![super::trust::config_index_path(r.signed.record.position())],
                record => DraftId::parse(record.draft_id())
                    .map(|id| [id.path(), id.day_folder_path()].map(|p| index_path(&p, record.event())).to_vec())
                    .unwrap_or_default(),
            });
            if !expected.is_some_and(|paths| paths.contains(path)) {
                flag(
                    out,
                    "GATE_RECORD_INVALID",
                    format!("the push adds {path} to the notes tree, which is no new record's index entry"),
                    "the notes tree holds records and their index, written by zen-draft",
                );
            }
        }
        for record in records.iter().filter(|r| r.signed.record.is_config()) {
            let path = super::trust::config_index_path(record.signed.record.position());
            if self.store.blob_id_at(&new_tree, &path)? != Some(record.blob) {
                flag(
                    out,
                    "GATE_RECORD_INVALID",
                    "a config_changed record is not in the trust index".into(),
                    "admin commands write the index",
                );
            }
        }
        // Each notes commit of the push is one writer's, adding records and
        // stating the log's size after them, so the size read from the tip
        // can always be trusted.
        for commit in self.store.commits_since(old, new)? {
            let commit = self.store.repo().find_commit(commit)?;
            let parent_tree = commit.parents().next().map(|p| p.tree()).transpose()?;
            let adds = self
                .store
                .new_blobs(parent_tree.as_ref(), &commit.tree()?)?
                .iter()
                .any(|(p, _)| super::evidence::is_note_path(p));
            if commit.parent_count() != 1 || !adds || self.log_size(Some(commit.id())).is_err() {
                flag(out, "GATE_RECORD_INVALID", "a notes commit of the push is not one writer's: it merges, adds no record, or misstates the log's size".into(), "notes commits are written by zen-draft");
            }
        }
        match self.log_size(Some(new)) {
            Ok(size) if Some(size) == old_size.checked_add(records.len() as u64) => {}
            _ => flag(
                out,
                "GATE_RECORD_INVALID",
                "the notes commit does not state the log's new size".into(),
                "notes commits are written by zen-draft",
            ),
        }
        Ok(by_object)
    }

    /// A draft record's links: indexed beside its draft, created once, and
    /// later records pointing at that creation.
    fn gate_record_links(
        &self,
        new_tree: &git2::Tree<'_>,
        old_tree: Option<&git2::Tree<'_>>,
        new_record: &NewRecord,
        what: &str,
        out: &mut Vec<Violation>,
        flag: &Flag,
    ) -> Result<()> {
        let record = &new_record.signed.record;
        let Some(id) = DraftId::parse(record.draft_id()) else {
            flag(
                out,
                "GATE_RECORD_INVALID",
                format!("{what} names no valid draft id"),
                "records are written by zen-draft",
            );
            return Ok(());
        };
        let paths = [id.path(), id.day_folder_path()];
        let mut indexed_at = None;
        for path in &paths {
            if self.store.blob_id_at(new_tree, &index_path(path, record.event()))? == Some(new_record.blob) {
                indexed_at = Some(path.clone());
            }
        }
        let Some(draft_path) = indexed_at else {
            flag(
                out,
                "GATE_RECORD_INVALID",
                format!("{what} is not in the notes index beside its draft"),
                "records are written by zen-draft",
            );
            return Ok(());
        };
        let created_path = index_path(&draft_path, "draft_created");
        match record.previous_digest() {
            None => {
                if let Some(old_tree) = old_tree
                    && self.store.blob_id_at(old_tree, &created_path)?.is_some()
                {
                    flag(
                        out,
                        "GATE_RECORD_INVALID",
                        format!("{what} creates a draft that exists"),
                        "a draft is created once",
                    );
                }
            }
            Some(previous) => {
                let created = match self.store.blob_id_at(new_tree, &created_path)? {
                    Some(blob) => read_record(&self.store, blob)?,
                    None => None,
                };
                if created.is_none_or(|c| c.digest() != previous) {
                    flag(
                        out,
                        "GATE_RECORD_INVALID",
                        format!("{what} does not point at its draft's draft_created record"),
                        "records are written by zen-draft",
                    );
                }
                // A draft is closed once, and nothing follows its removal.
                let had = |event: &str| -> Result<bool> {
                    Ok(match old_tree {
                        Some(t) => self.store.blob_id_at(t, &index_path(&draft_path, event))?.is_some(),
                        None => false,
                    })
                };
                let closes = matches!(record, Record::DraftApplied { .. } | Record::DraftDiscarded { .. });
                if had("draft_expired")? || (closes && (had("draft_applied")? || had("draft_discarded")?)) {
                    flag(
                        out,
                        "GATE_RECORD_INVALID",
                        format!("{what} follows the record that closed its draft"),
                        "a draft is closed once",
                    );
                }
            }
        }
        Ok(())
    }

    /// Rules 2 and 5: each new commit on the drafts branch is one lifecycle
    /// step on one draft file, backed by its record.
    #[allow(clippy::too_many_arguments)]
    fn gate_drafts(
        &self,
        layout: &Layout,
        refname: &str,
        old: Option<Oid>,
        new: Option<Oid>,
        records: &HashMap<Oid, Vec<NewRecord>>,
        now: chrono::DateTime<chrono::Utc>,
        out: &mut Vec<Violation>,
    ) -> Result<()> {
        let Some(new) = new.filter(|n| Some(*n) != old) else { return Ok(()) };
        let repo = self.store.repo();
        for commit in self.store.commits_since(old, new)? {
            let commit = repo.find_commit(commit)?;
            let at = commit.id();
            let mut flag = |code, message: String, hint| {
                out.push(Violation { refname: refname.to_string(), commit: Some(at.to_string()), code, message, hint })
            };
            let step = "GATE_NOT_A_LIFECYCLE_STEP";
            // The branch's first commit, empty, as `draft init` makes it.
            if commit.parent_count() == 0 && commit.tree()?.is_empty() {
                continue;
            }
            if commit.parent_count() > 1 {
                flag(
                    step,
                    "a merge commit on the drafts branch".into(),
                    "each commit on the drafts branch is one lifecycle step",
                );
                continue;
            }
            let parent_tree = commit.parents().next().map(|p| p.tree()).transpose()?;
            let changes = self.store.changed_entries(parent_tree.as_ref(), Some(&commit.tree()?))?;
            let mut bad = false;
            for change in &changes {
                if !change.path.starts_with("drafts/") {
                    flag(
                        "GATE_BAD_OBJECT",
                        format!("{} is outside drafts/", change.path),
                        "the drafts branch holds only draft files",
                    );
                    bad = true;
                } else if let Some((blob, mode)) = change.new {
                    if mode != 0o100644 {
                        flag(
                            "GATE_BAD_OBJECT",
                            format!("{} is not a plain file (a symlink, submodule or executable)", change.path),
                            "the drafts branch holds only plain draft files",
                        );
                        bad = true;
                    } else if repo.odb()?.read_header(blob)?.0 > MAX_DRAFTS_BLOB {
                        flag(
                            "GATE_BAD_OBJECT",
                            format!("{} is over 64 KiB", change.path),
                            "draft files are small YAML",
                        );
                        bad = true;
                    }
                }
            }
            if bad {
                continue;
            }
            let [change] = changes.as_slice() else {
                flag(
                    step,
                    format!("the commit changes {} files, not one draft's", changes.len()),
                    "each commit on the drafts branch is one lifecycle step on one draft",
                );
                continue;
            };
            let Some(id) = change
                .path
                .rsplit('/')
                .next()
                .and_then(|f| f.strip_suffix(".yaml"))
                .and_then(DraftId::parse)
                .filter(|id| id.is_at(&change.path))
            else {
                flag(
                    step,
                    format!("{} is not where a draft's file lives", change.path),
                    "drafts live at drafts/<4>/<2>/<2>/<2>/<id>.yaml",
                );
                continue;
            };
            let on_commit = records.get(&at).map(Vec::as_slice).unwrap_or_default();
            if let Err((code, message)) = self.lifecycle_step(layout, &commit, change, &id, on_commit, records, now) {
                flag(code, message, "drafts change only through draft create, discard, apply and gc");
            }
        }
        Ok(())
    }

    /// Which step `change` is, and whether its record backs it.
    #[allow(clippy::too_many_arguments)]
    fn lifecycle_step(
        &self,
        layout: &Layout,
        commit: &git2::Commit<'_>,
        change: &ChangedEntry,
        id: &DraftId,
        on_commit: &[NewRecord],
        records: &HashMap<Oid, Vec<NewRecord>>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> std::result::Result<(), (&'static str, String)> {
        let step = |m: &str| ("GATE_NOT_A_LIFECYCLE_STEP", m.to_string());
        let missing = |m: &str| ("GATE_RECORD_MISSING", m.to_string());
        let draft_of = |side: Option<(Oid, i32)>| -> Option<Draft> {
            let (blob, _) = side?;
            let BlobRead::Bytes(bytes) = self.store.read_blob(blob, MAX_DRAFTS_BLOB).ok()? else { return None };
            crate::yaml::parse::<Draft>(&bytes).ok()
        };
        let record_of = |event: &str| {
            on_commit.iter().find(|r| r.signed.record.event() == event && r.signed.record.draft_id() == id.to_string())
        };
        match (change.old, change.new) {
            (None, Some(_)) => {
                let draft = draft_of(change.new).ok_or_else(|| step("the new draft file does not read as a draft"))?;
                if draft.id != id.to_string() || draft.status != Status::Pending {
                    return Err(step("a new draft file must be a pending draft named by its id"));
                }
                if !draft.draft_type.is_supported() {
                    return Err(step("drafts of that type cannot be created yet"));
                }
                let closed = draft.applied_by.is_some()
                    || draft.applied_at.is_some()
                    || draft.applied_commit.is_some()
                    || draft.resource_created.is_some()
                    || draft.discarded_by.is_some()
                    || draft.discarded_at.is_some()
                    || draft.reason.is_some();
                if closed {
                    return Err(step("a new draft carries no apply or discard fields"));
                }
                if trailer(commit, "Draft-Id:").as_deref() != Some(id.to_string().as_str())
                    || trailer(commit, "Created-By:").as_deref() != Some(draft.created_by.as_str())
                {
                    return Err(step("the commit's Draft-Id and Created-By trailers do not name this draft"));
                }
                let report = check_endpoint_spec(draft.proposed_spec.as_ref(), &layout.config);
                let by_agent = draft.created_by.starts_with("agent:");
                if !report.ok() || !draft.provenance().check(by_agent).is_empty() {
                    return Err(step("the new draft fails the creation checks"));
                }
                let record = record_of("draft_created")
                    .ok_or_else(|| missing("no draft_created record on the commit that adds the draft"))?;
                let Record::DraftCreated {
                    created_by,
                    created_at,
                    proposed_spec_digest,
                    draft_type,
                    provenance_digest,
                    ..
                } = &record.signed.record
                else {
                    return Err((
                        "GATE_RECORD_INVALID",
                        "the record on the commit is not a draft_created record".into(),
                    ));
                };
                let digest = draft.proposed_spec.as_ref().map(value_digest);
                let same_time = chrono::DateTime::parse_from_rfc3339(created_at).is_ok_and(|t| t == draft.created_at);
                if *created_by != draft.created_by
                    || digest.as_deref() != Some(proposed_spec_digest)
                    || !same_time
                    || *draft_type != draft.draft_type.to_string()
                    || *provenance_digest != draft.provenance().digest()
                {
                    return Err((
                        "GATE_RECORD_INVALID",
                        "the draft_created record does not match the draft file".into(),
                    ));
                }
                Ok(())
            }
            (Some(_), Some(_)) => {
                let (old, new) = (draft_of(change.old), draft_of(change.new));
                let (Some(old), Some(new)) = (old, new) else {
                    return Err(step("a draft file that does not read as a draft"));
                };
                if old.status != Status::Pending {
                    return Err(step("only a pending draft changes, once: it was already closed"));
                }
                let mut expected = old.clone();
                match new.status {
                    Status::Discarded => {
                        expected.status = Status::Discarded;
                        expected.discarded_by.clone_from(&new.discarded_by);
                        expected.discarded_at = new.discarded_at;
                        expected.reason.clone_from(&new.reason);
                        if expected != new {
                            return Err(step("a discard changes nothing but the status and the discard fields"));
                        }
                        let record = record_of("draft_discarded").ok_or_else(|| {
                            missing("no draft_discarded record on the commit that discards the draft")
                        })?;
                        if let Some(reason) = &new.reason
                            && !crate::domain::checks::check_text_for_secret("reason", reason).ok
                        {
                            return Err(step("the discard reason looks like a secret"));
                        }
                        let by = new.discarded_by.as_deref().unwrap_or_default();
                        if by.starts_with("agent:")
                            && layout.config.agents_may_discard == crate::domain::config::AgentsMayDiscard::Own
                            && by != old.created_by
                        {
                            return Err(step(
                                "an agent may discard only the drafts it created (agents_may_discard: own)",
                            ));
                        }
                        if trailer(commit, "Draft-Id:").as_deref() != Some(id.to_string().as_str())
                            || trailer(commit, "Discarded-By:").as_deref() != Some(by)
                        {
                            return Err(step(
                                "the commit's Draft-Id and Discarded-By trailers do not name this discard",
                            ));
                        }
                        if Some(record.signed.record.actor()) != new.discarded_by.as_deref() {
                            return Err((
                                "GATE_RECORD_INVALID",
                                "the draft_discarded record names another actor than the file".into(),
                            ));
                        }
                        Ok(())
                    }
                    Status::Applied => {
                        expected.status = Status::Applied;
                        expected.applied_by.clone_from(&new.applied_by);
                        expected.applied_at = new.applied_at;
                        expected.applied_commit.clone_from(&new.applied_commit);
                        expected.resource_created = new.resource_created;
                        if expected != new {
                            return Err(step(
                                "marking a draft applied changes nothing but the status and the apply fields",
                            ));
                        }
                        let named = commit
                            .message()
                            .unwrap_or_default()
                            .lines()
                            .find_map(|l| l.strip_prefix("Applied-In: "))
                            .and_then(|c| Oid::from_str(c.trim()).ok());
                        let main = named
                            .filter(|m| Some(m.to_string()) == new.applied_commit)
                            .ok_or_else(|| step("the commit that marks a draft applied names no apply on main"))?;
                        let applied = records
                            .get(&main)
                            .and_then(|rs| {
                                rs.iter().find(|r| {
                                    r.signed.record.event() == "draft_applied"
                                        && r.signed.record.draft_id() == id.to_string()
                                })
                            })
                            .ok_or_else(|| missing("no draft_applied record on the main commit the draft names"))?;
                        if Some(applied.signed.record.actor()) != new.applied_by.as_deref() {
                            return Err((
                                "GATE_RECORD_INVALID",
                                "the draft_applied record names another actor than the file".into(),
                            ));
                        }
                        Ok(())
                    }
                    Status::Pending => Err(step("a pending draft's file does not change while it is pending")),
                }
            }
            (Some(_), None) => {
                let old = draft_of(change.old).ok_or_else(|| step("a removed file that was not a draft"))?;
                let record = record_of("draft_expired")
                    .ok_or_else(|| missing("no draft_expired record on the commit that removes the draft"))?;
                if trailer(commit, "Draft-Id:").as_deref() != Some(id.to_string().as_str())
                    || trailer(commit, "Removed-By:").is_none()
                {
                    return Err(step("the commit's Draft-Id and Removed-By trailers do not name this removal"));
                }
                // Judged at the removal's own time (which the gate holds to
                // its arrival, within the skew), so an audit later agrees.
                let now = chrono::DateTime::parse_from_rfc3339(record.signed.record.at())
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or(now);
                let closed_at = match old.status {
                    Status::Pending if old.expires_at <= now => None,
                    Status::Pending => return Err(step("gc removes a pending draft only after it expired")),
                    Status::Applied => old.applied_at,
                    Status::Discarded => old.discarded_at,
                };
                if let Some(closed_at) = closed_at {
                    let retention = layout
                        .config
                        .closed_retention()
                        .ok_or_else(|| step("closed drafts stay unless the config sets retain_closed"))?;
                    if closed_at + retention.as_chrono() > now {
                        return Err(step("a closed draft is removed only after retain_closed"));
                    }
                }
                Ok(())
            }
            (None, None) => Err(step("nothing changed")),
        }
    }

    /// Rule 3: on main, a resource changes only by an apply, `.zen/` only
    /// with a `config_changed` record, and anything else as the config says.
    fn gate_main(
        &self,
        layout: &Layout,
        refname: &str,
        old: Option<Oid>,
        new: Option<Oid>,
        records: &HashMap<Oid, Vec<NewRecord>>,
        out: &mut Vec<Violation>,
    ) -> Result<()> {
        let Some(new) = new.filter(|n| Some(*n) != old) else { return Ok(()) };
        let repo = self.store.repo();
        for commit in self.store.commits_since(old, new)? {
            let commit = repo.find_commit(commit)?;
            let at = commit.id();
            let mut flag = |code, message: String, hint| {
                out.push(Violation { refname: refname.to_string(), commit: Some(at.to_string()), code, message, hint })
            };
            let parent_tree = commit.parents().next().map(|p| p.tree()).transpose()?;
            let changes = self.store.changed_entries(parent_tree.as_ref(), Some(&commit.tree()?))?;
            let on_commit = records.get(&at).map(Vec::as_slice).unwrap_or_default();
            if commit.parent_count() > 1 {
                flag(
                    "GATE_MAIN_NOT_APPLIED",
                    format!("a merge commit on {refname}: main moves one apply or one signed .zen/ change at a time"),
                    "rebase onto main instead of merging",
                );
                continue;
            }
            let resources = changes.iter().any(|c| is_resource_path(&c.path));
            let zen = changes.iter().any(|c| is_zen_path(&c.path));
            if resources {
                let apply = on_commit.iter().find(|r| r.signed.record.event() == "draft_applied");
                let bound = apply.and_then(|r| match r.signed.record.binding() {
                    Some(Binding::Whole(b)) => {
                        Some((b.resource.to_string(), b.resource_blob.to_string(), b.applied_commit.to_string()))
                    }
                    _ => None,
                });
                let id = apply.map(|r| r.signed.record.draft_id().to_string()).unwrap_or_default();
                let trailers = trailer(&commit, "Draft-Id:").as_deref() == Some(id.as_str())
                    && trailer(&commit, "Applied-By:").is_some();
                let exact = trailers
                    && match (&bound, changes.as_slice()) {
                        (Some((resource, blob, applied)), [ChangedEntry { path, new: Some((id, 0o100644)), .. }]) => {
                            commit.parent_count() == 1
                                && path == resource
                                && id.to_string() == *blob
                                && *applied == at.to_string()
                        }
                        _ => false,
                    };
                if !exact {
                    flag(
                        "GATE_MAIN_NOT_APPLIED",
                        format!(
                            "a commit on {refname} changes {RESOURCE_DIR}/ without being exactly an apply of a signed draft"
                        ),
                        "resources change only through `draft apply` by a person",
                    );
                }
            } else if zen {
                let tree = commit.tree()?;
                let blob = |path: &str| -> Result<String> {
                    Ok(self.store.blob_id_at(&tree, path)?.map(|b| b.to_string()).unwrap_or_default())
                };
                let (signers_now, config_now) =
                    (blob(crate::domain::config::ALLOWED_SIGNERS_PATH)?, blob(CONFIG_PATH)?);
                let signed = on_commit.iter().any(|r| match &r.signed.record {
                    Record::ConfigChanged { commit: named, signers_blob, config_blob, .. } => {
                        *named == at.to_string() && *signers_blob == signers_now && *config_blob == config_now
                    }
                    _ => false,
                });
                if !signed || changes.iter().any(|c| !c.path.starts_with(".zen/")) {
                    flag(
                        "GATE_CONFIG_NOT_SIGNED",
                        format!("a commit on {refname} changes .zen/ without a config_changed record"),
                        "an admin changes .zen/ with `draft signers` or `draft config set`",
                    );
                }
            } else if layout.config.gate.main_other == MainOther::Deny && !changes.is_empty() {
                flag(
                    "GATE_MAIN_NOT_APPLIED",
                    format!("{refname} takes only applies and signed .zen/ changes here (gate.main_other: deny)"),
                    "propose the change as a draft",
                );
            }
        }
        Ok(())
    }
}

/// What `draft audit` found.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub ok: bool,
    /// The log's size and root, when it could be read.
    pub size: Option<u64>,
    pub trust_root: Option<String>,
    pub violations: Vec<Violation>,
}

impl Service {
    /// `draft audit`: the gate's rules over history, read-only. The log as a
    /// whole (what `evidence verify` checks: signatures by the timeline,
    /// positions, links, times, the index, main's applies and `.zen/`
    /// changes), then every commit on the drafts branch since `since` (or
    /// since it began) as one lifecycle step backed by its record.
    pub fn audit(&self, since: Option<&str>, trust_root: Option<&str>) -> Result<AuditReport> {
        self.refuse_shallow("audit")?;
        // The log and the branches as they stood at one moment, as verify
        // reads them: a writer landing meanwhile is no violation.
        self.at_one_moment(|| self.audit_pinned(since, trust_root))
    }

    fn audit_pinned(&self, since: Option<&str>, trust_root: Option<&str>) -> Result<AuditReport> {
        let layout = self.layout()?;
        let mut violations = Vec::new();
        let mut size = None;
        let mut root = None;
        match self.verify_holding(None, None, trust_root, false, false) {
            Ok(verified) => {
                size = Some(verified.size);
                root = verified.trust_root;
            }
            Err(e) if e.checks.is_empty() => violations.push(Violation {
                refname: NOTES_REF.to_string(),
                commit: None,
                code: e.code.as_str(),
                message: e.message,
                hint: "see `draft evidence verify`",
            }),
            Err(e) => {
                for check in e.checks.iter().filter(|c| !c.ok) {
                    violations.push(Violation {
                        refname: NOTES_REF.to_string(),
                        commit: None,
                        code: e.code.as_str(),
                        message: check.message.clone(),
                        hint: "see `draft evidence list`",
                    });
                }
            }
        }
        // Every record of the log, by the commit it annotates.
        let mut records: HashMap<Oid, Vec<NewRecord>> = HashMap::new();
        if let Some(tip) = self.store.ref_target(NOTES_REF)? {
            for (object, blob) in self.store.all_notes(&self.store.commit_tree(tip)?)? {
                if let Some(signed) = read_record(&self.store, blob)? {
                    records.entry(object).or_default().push(NewRecord { signed, object, blob });
                }
            }
        }
        let drafts_ref = format!("refs/heads/{}", layout.config.drafts_branch);
        let drafts = self.store.branch_tip(&layout.config.drafts_branch)?.map(|t| t.commit);
        let since = match since {
            Some(rev) => {
                Some(self.store.repo().revparse_single(rev).and_then(|o| o.peel_to_commit()).map(|c| c.id()).map_err(
                    |_| Error::new(Code::NotFound, "--since names no commit").with_hint("pass a commit, tag or branch"),
                )?)
            }
            None => None,
        };
        let old = since.filter(|s| {
            drafts.is_some_and(|d| self.store.repo().graph_descendant_of(d, *s).unwrap_or(false) || d == *s)
        });
        self.gate_drafts(&layout, &drafts_ref, old, drafts, &records, self.now(), &mut violations)?;
        Ok(AuditReport { ok: violations.is_empty(), size, trust_root: root, violations })
    }
}

/// The folders of main that hold resources: V1's endpoints, and the kinds
/// of V1.1, guarded now so no kind arrives unguarded.
const RESOURCE_FOLDERS: [&str; 5] = [RESOURCE_DIR, "sources", "targets", "routes", "policies"];

/// Whether `path` (on main) is a resource or could pass for one: in a
/// resource folder, the folder entry itself, or any letter-case variant of
/// either (a case-insensitive checkout would read them as one).
fn is_resource_path(path: &str) -> bool {
    let top = path.split('/').next().unwrap_or_default().to_ascii_lowercase();
    RESOURCE_FOLDERS.contains(&top.as_str())
}

/// Whether `path` (on main) is `.zen/`, its entry, or a case variant.
fn is_zen_path(path: &str) -> bool {
    path.split('/').next().unwrap_or_default().eq_ignore_ascii_case(".zen")
}

/// A commit's trailer, by key (`Draft-Id:`): the last one, trimmed.
fn trailer(commit: &git2::Commit<'_>, key: &str) -> Option<String> {
    commit.message().unwrap_or_default().lines().rev().find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
}

/// Reads git's `pre-receive` input.
pub fn read_ref_lines(input: &str) -> Result<Vec<RefLine>> {
    input
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| RefLine::parse(l).ok_or_else(|| Error::new(Code::Internal, "git gave the hook a line it cannot read")))
        .collect()
}
