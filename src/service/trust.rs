//! The timeline of trust (SPEC §8): `.zen/` on main changes only through a
//! signed `config_changed` record, and every record is judged by the
//! `allowed_signers` in force at its position, not by the file as it is now.
//!
//! The first `config_changed` record is the trust root: `draft init --admin`
//! or `draft trust init` writes it. Then `draft signers add|remove` and
//! `draft config set` (people listed with `zen-draft-admin`) change `.zen/`
//! in one commit on main carrying its record. Each record is indexed in the
//! notes tree at `config/<position>/config_changed`, so the timeline is read
//! without reading the log; verification checks that the index holds every
//! such record.

use super::create::sign;
use super::{Layout, Service};
use crate::domain::config::{ALLOWED_SIGNERS_PATH, CONFIG_PATH, Config};
use crate::domain::identity::Actor;
use crate::error::{Code, Error, Result};
use crate::evidence::NOTES_REF;
use crate::evidence::allowed_signers::AllowedSigners;
use crate::evidence::record::{ADMIN_NAMESPACE, Record, SignedRecord};
use crate::store::refs::{UpdateError, retry_on_race};
use crate::store::{BlobRead, RefUpdate};
use git2::Oid;
use serde::Serialize;
use std::sync::Arc;

/// Where the timeline is indexed in the notes tree.
const CONFIG_INDEX: &str = "config";

/// Who may sign what, position by position.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Each `config_changed` record, in position order, with the signers
    /// it installs (`None` when that file does not parse: nothing after it
    /// verifies).
    pub changes: Vec<(SignedRecord, Option<Arc<AllowedSigners>>)>,
    /// `allowed_signers` on main now: the judge of a log with no root.
    pub current: Arc<AllowedSigners>,
}

impl Timeline {
    /// The trust root: the first `config_changed` record.
    pub fn root(&self) -> Option<&SignedRecord> {
        self.changes.first().map(|(signed, _)| signed)
    }

    /// The signers that judge `record`: those the last `config_changed`
    /// before its position installed; the root's for records older than
    /// the root (and for the root itself, which vouches for itself and is
    /// pinned by each clone instead); main's now when there is no root.
    pub fn for_record(&self, record: &Record) -> Arc<AllowedSigners> {
        if self.changes.is_empty() {
            return Arc::clone(&self.current);
        }
        let position = record.position();
        let before = if record.is_config() {
            self.changes.partition_point(|(c, _)| c.record.position() < position)
        } else {
            self.changes.partition_point(|(c, _)| c.record.position() <= position)
        };
        let era = before.saturating_sub(1);
        self.changes[era].1.clone().unwrap_or_default()
    }
}

/// What an admin command did.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigChanged {
    /// The main commit that holds the change (for `trust init`, the tip it vouches for).
    pub commit: String,
    pub position: u64,
    pub digest: String,
    /// Whether this record is the trust root.
    pub root: bool,
    pub work_tree: super::WorkTreeFollow,
}

impl Service {
    /// The timeline of the log at the notes tip, read from its index.
    pub(crate) fn timeline(&self, layout: &Layout) -> Result<Timeline> {
        let current = Arc::new(self.allowed_signers(layout)?);
        self.timeline_at(current, self.store.ref_target(NOTES_REF)?)
    }

    /// The timeline of the log at notes commit `notes`; `current` judges
    /// when it has no root.
    pub(crate) fn timeline_at(&self, current: Arc<AllowedSigners>, notes: Option<Oid>) -> Result<Timeline> {
        let Some(notes) = notes else {
            return Ok(Timeline { changes: Vec::new(), current });
        };
        let tree = self.store.commit_tree(notes)?;
        let mut changes = Vec::new();
        for (path, blob) in self.store.blobs_under(&tree, CONFIG_INDEX)? {
            let Some(signed) = super::read::read_record(&self.store, blob).ok().flatten() else { continue };
            let Record::ConfigChanged { signers_blob, .. } = &signed.record else { continue };
            if path != config_index_path(signed.record.position()) {
                continue;
            }
            let signers = Oid::from_str(signers_blob).ok().and_then(|blob| self.signers_in(blob));
            changes.push((signed, signers));
        }
        changes.sort_by_key(|(c, _)| c.record.position());
        // Trust only the chain: each record signed by an admin of the era
        // before it (the root by the admins it installs itself, pinned by
        // every clone instead), each naming the one before. The first link
        // that does not hold ends the timeline there: nothing after it can
        // install signers (verify reports the broken link).
        let now = self.now().timestamp();
        let mut trusted: Vec<(SignedRecord, Option<Arc<AllowedSigners>>)> = Vec::new();
        for (signed, signers) in changes {
            let judge = match trusted.last() {
                Some((_, era)) => era.clone(),
                None => signers.clone(),
            };
            let Record::ConfigChanged { previous_digest, .. } = &signed.record else { break };
            let links = *previous_digest == trusted.last().map(|(c, _)| c.digest());
            let signed_by_admin = judge.is_some_and(|era| super::evidence::check_signature(&signed, &era, now).is_ok());
            if !links || !signed_by_admin {
                break;
            }
            trusted.push((signed, signers));
        }
        Ok(Timeline { changes: trusted, current })
    }

    fn signers_in(&self, blob: Oid) -> Option<Arc<AllowedSigners>> {
        let BlobRead::Bytes(bytes) = self.store.read_blob(blob, 1024 * 1024).ok()? else { return None };
        AllowedSigners::parse(&String::from_utf8(bytes).ok()?).ok().map(Arc::new)
    }

    /// The caller, who must be a person listed with `zen-draft-admin`.
    fn admin(&self, layout: &Layout) -> Result<(Actor, Box<dyn crate::evidence::signing::Signer>)> {
        let actor = match self.env.identity.actor()? {
            Some(actor @ Actor::User(_)) if self.env.identity.mcp_token.is_none() => actor,
            _ => {
                return Err(Error::new(Code::NotAnAdmin, "changing .zen/ needs a person's identity (ZEN_USER_ID, no MCP token)")
                    .with_hint("an admin, listed with namespace zen-draft-admin in .zen/allowed_signers, runs this; nothing was changed"));
            }
        };
        let signer = self.signer_for(layout, &actor, ADMIN_NAMESPACE, Code::NotAnAdmin)?;
        Ok((actor, signer))
    }

    /// `draft trust init`: the trust root for a repository set up before
    /// the timeline existed, vouching for `.zen/` as main holds it now (in
    /// a commit of its own, so no other record's commit is annotated twice).
    pub fn trust_init(&self) -> Result<ConfigChanged> {
        let layout = self.layout()?;
        let (actor, signer) = self.admin(&layout)?;
        self.change_zen(&actor, signer.as_ref(), Rooting::Root, "Vouch for .zen/ as the trust root", "", |s, c| {
            Ok((s.to_string(), c.to_string()))
        })
    }

    /// `draft init --admin`: lists `principal` with the caller's key for
    /// `zen-draft-admin` and makes that the trust root, signed by that key.
    pub fn root_for_admin(&self, principal: &str) -> Result<ConfigChanged> {
        let layout = self.layout()?;
        let actor = Actor::parse(&format!("user:{principal}")).ok_or_else(|| {
            Error::new(Code::InvalidConfig, "the admin is not a valid id")
                .with_hint("ids are up to 64 letters, digits and . _ @ + -")
        })?;
        let git_key = self.store.config_string("user.signingkey");
        let signer =
            crate::evidence::signing::signer_from(&|name| self.env.signing.get(name).cloned(), git_key.as_deref())
                .map_err(|e| {
                    Error::new(Code::SigningKeyMissing, format!("no usable signing key for the admin: {e}"))
                        .with_hint("set ZEN_SIGNING_KEY to the admin's OpenSSH private key")
                })?;
        let key = signer.public_key().to_openssh().map_err(|e| Error::internal(format!("cannot encode a key: {e}")))?;
        let key = key.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        let line = format!("{} namespaces=\"{ADMIN_NAMESPACE}\" {key}\n", actor.id());
        let allowed = self.allowed_signers(&layout)?;
        let listed = allowed.allows(actor.id(), ADMIN_NAMESPACE, signer.public_key(), self.now().timestamp());
        self.change_zen(
            &actor,
            signer.as_ref(),
            Rooting::Root,
            "List the admin and root the trust timeline",
            actor.id(),
            move |s, c| {
                let mut text = s.to_string();
                if !listed {
                    if !text.is_empty() && !text.ends_with('\n') {
                        text.push('\n');
                    }
                    text.push_str(&line);
                }
                Ok((text, c.to_string()))
            },
        )
    }

    /// `draft signers add`: lists `principal` with `key` for `namespaces`.
    pub fn signers_add(&self, principal: &str, key_line: &str, namespaces: &[String]) -> Result<ConfigChanged> {
        let principal = Actor::parse(&format!("user:{principal}")).map(|a| a.id().to_string()).ok_or_else(|| {
            Error::new(Code::InvalidConfig, "the principal is not a valid id")
                .with_hint("ids are up to 64 letters, digits and . _ @ + -")
        })?;
        let key = ssh_key::PublicKey::from_openssh(key_line.trim()).map_err(|_| {
            Error::new(Code::InvalidConfig, "the public key file does not hold one OpenSSH public key")
                .with_hint("pass the .pub file ssh-keygen wrote")
        })?;
        for ns in namespaces {
            if !ns.starts_with("zen-draft-") || !ns.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                return Err(Error::new(Code::InvalidConfig, "a namespace is not one of zen-draft's").with_hint(
                    "namespaces are zen-draft-evidence, zen-draft-apply, zen-draft-review, zen-draft-admin",
                ));
            }
        }
        let key_text = key.to_openssh().map_err(|e| Error::internal(format!("cannot encode a key: {e}")))?;
        let key_text = key_text.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        let line = format!("{principal} namespaces=\"{}\" {key_text}\n", namespaces.join(","));
        let layout = self.layout()?;
        let (actor, signer) = self.admin(&layout)?;
        self.change_zen(&actor, signer.as_ref(), Rooting::Rooted, "Add signer", &principal, |signers, config| {
            let mut text = signers.to_string();
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&line);
            Ok((text, config.to_string()))
        })
    }

    /// `draft signers remove`: drops every line for `who` (a principal, or a
    /// key fingerprint `SHA256:…`).
    pub fn signers_remove(&self, who: &str) -> Result<ConfigChanged> {
        let who = who.trim().to_string();
        let layout = self.layout()?;
        let (actor, signer) = self.admin(&layout)?;
        self.change_zen(
            &actor,
            signer.as_ref(),
            Rooting::Rooted,
            "Remove signer",
            &who.clone(),
            move |signers, config| {
                let mut removed = 0;
                let kept: Vec<&str> = signers
                    .lines()
                    .filter(|line| {
                        let matches = line_names(line, &who);
                        removed += usize::from(matches);
                        !matches
                    })
                    .collect();
                if removed == 0 {
                    return Err(Error::new(
                        Code::NotFound,
                        "no line of .zen/allowed_signers names that principal or key",
                    )
                    .with_hint("see .zen/allowed_signers on main"));
                }
                Ok((kept.iter().map(|l| format!("{l}\n")).collect(), config.to_string()))
            },
        )
    }

    /// `draft config set`: one top-level field of `.zen/config.yaml`.
    pub fn config_set(&self, key: &str, value: &str) -> Result<ConfigChanged> {
        let (key, value) = (key.to_string(), value.to_string());
        let layout = self.layout()?;
        let (actor, signer) = self.admin(&layout)?;
        self.change_zen(&actor, signer.as_ref(), Rooting::Rooted, "Set config", &key.clone(), move |signers, config| {
            let mut doc: serde_json::Value = crate::yaml::parse(config.as_bytes())
                .map_err(|e| Error::new(Code::InvalidConfig, format!("{CONFIG_PATH} cannot be read: {e}")))?;
            let parsed: serde_json::Value =
                crate::yaml::parse(value.as_bytes()).unwrap_or_else(|_| serde_json::Value::String(value.clone()));
            doc.as_object_mut()
                .ok_or_else(|| Error::new(Code::InvalidConfig, "the config is not a mapping"))?
                .insert(key.clone(), parsed);
            let new: Config = serde_json::from_value(doc).map_err(|_| {
                Error::new(Code::InvalidConfig, "that key or value is not valid in .zen/config.yaml")
                    .with_hint("see the README for the config's fields")
            })?;
            new.validate().map_err(|e| Error::new(Code::InvalidConfig, e))?;
            Ok((signers.to_string(), crate::yaml::render(&new)))
        })
    }

    /// Commits a change to `.zen/` on main with its `config_changed` record,
    /// in one ref transaction, as an admin.
    fn change_zen(
        &self,
        actor: &Actor,
        signer: &dyn crate::evidence::signing::Signer,
        rooting: Rooting,
        what: &str,
        subject: &str,
        edit: impl Fn(&str, &str) -> Result<(String, String)>,
    ) -> Result<ConfigChanged> {
        let layout = self.layout()?;
        let checked_out = self.store.is_checked_out(&layout.config.main_branch);
        let paths = [ALLOWED_SIGNERS_PATH, CONFIG_PATH];
        if checked_out {
            self.store.ensure_clean(&paths)?;
        }
        let changed = retry_on_race(|| {
            // Rechecked on every attempt, on the log the record joins:
            // another `trust init` may have won.
            let layout = self.layout()?;
            let (notes_tip, now) = self.stamp()?;
            let timeline = self.timeline_at(Arc::new(self.allowed_signers(&layout)?), notes_tip)?;
            check_rooting(rooting, &timeline)?;
            let tree = self.store.commit_tree(layout.main.commit)?;
            let read = |path: &str| -> Result<String> {
                match self.store.blob_id_at(&tree, path)? {
                    Some(blob) => match self.store.read_blob(blob, 1024 * 1024)? {
                        BlobRead::Bytes(bytes) => String::from_utf8(bytes)
                            .map_err(|_| Error::new(Code::InvalidConfig, format!("{path} is not UTF-8"))),
                        BlobRead::TooLarge(_) => Err(Error::new(Code::InvalidConfig, format!("{path} is too large"))),
                    },
                    None => Ok(String::new()),
                }
            };
            let (signers, config) = edit(&read(ALLOWED_SIGNERS_PATH)?, &read(CONFIG_PATH)?)?;
            AllowedSigners::parse(&signers).map_err(|e| {
                Error::new(Code::InvalidConfig, format!("the new {ALLOWED_SIGNERS_PATH} would not parse: {e}"))
            })?;
            let signers_blob = self.store.write_blob(signers.as_bytes())?;
            let config_blob = self.store.write_blob(config.as_bytes())?;
            let tree = self.store.edit_tree_many(
                Some(&tree),
                &[(ALLOWED_SIGNERS_PATH.to_string(), Some(signers_blob)), (CONFIG_PATH.to_string(), Some(config_blob))],
            )?;
            let tree = tree.ok_or_else(|| Error::internal("main's tree went empty"))?;
            let message = if subject.is_empty() {
                format!("{what}\n\nChanged-By: {actor}\n")
            } else {
                format!("{what}: {subject}\n\nChanged-By: {actor}\n")
            };
            let commit = self.store.write_commit(tree, &[layout.main.commit], &message, &actor.to_string(), now)?;
            let note = self.config_note(&timeline, notes_tip, actor, signer, commit, now)?;
            let position = self.log_size(note.old)?;
            if checked_out {
                self.store.journal_follow(commit, &paths)?;
            }
            let main_ref = format!("refs/heads/{}", layout.config.main_branch);
            let main = RefUpdate { refname: main_ref, old: Some(layout.main.commit), new: commit };
            let notes_new = note.new;
            self.store.update_refs(&[main, note], &format!("draft: {what}"))?;
            let digest = self.config_record_at(notes_new, position)?;
            let root = rooting == Rooting::Root;
            Ok(ConfigChanged {
                commit: commit.to_string(),
                position,
                digest,
                root,
                work_tree: super::WorkTreeFollow::None,
            })
        })?;
        let mut changed = changed;
        if checked_out {
            let commit = Oid::from_str(&changed.commit).map_err(|_| Error::internal("no commit"))?;
            changed.work_tree = match self.store.follow_head(commit, &paths) {
                Ok(()) => super::WorkTreeFollow::Followed,
                Err(_) => super::WorkTreeFollow::Pending,
            };
        }
        Ok(changed)
    }

    /// Lands again, on the tips a sync replays onto, a change to `.zen/`
    /// made in this clone: its commit goes onto main as it is when main is
    /// still its parent there, with a record signed again at the log's next
    /// position. A main that moved meanwhile is not merged into: the admin
    /// makes the change again on top of it.
    pub(crate) fn replay_config(&self, actor: &Actor, commit: Oid) -> Result<()> {
        let layout = self.layout()?;
        let parent = self.store.repo().find_commit(commit)?.parent_id(0).ok();
        if parent != Some(layout.main.commit) {
            return Err(Error::new(
                Code::InvalidConfig,
                "main moved since this change to .zen/ was made: run the admin command again after the sync",
            ));
        }
        let signer = self.signer_for(&layout, actor, ADMIN_NAMESPACE, Code::NotAnAdmin)?;
        retry_on_race(|| {
            let (notes_tip, now) = self.stamp()?;
            let timeline = self.timeline_at(Arc::new(self.allowed_signers(&layout)?), notes_tip)?;
            let note = self.config_note(&timeline, notes_tip, actor, signer.as_ref(), commit, now)?;
            let main_ref = format!("refs/heads/{}", layout.config.main_branch);
            let main = RefUpdate { refname: main_ref, old: Some(layout.main.commit), new: commit };
            self.store.update_refs(&[main, note], "draft sync: replay a change to .zen/")?;
            Ok(())
        })
    }

    /// The notes update that lands a `config_changed` record for `commit`
    /// at the next position of the log at `notes_tip`, whose `timeline` it
    /// links to.
    fn config_note(
        &self,
        timeline: &Timeline,
        notes_tip: Option<Oid>,
        actor: &Actor,
        signer: &dyn crate::evidence::signing::Signer,
        commit: Oid,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<RefUpdate, UpdateError> {
        let tree = self.store.commit_tree(commit)?;
        let blob = |path: &str| -> Result<String> {
            Ok(self.store.blob_id_at(&tree, path)?.map(|b| b.to_string()).unwrap_or_default())
        };
        let (signers_blob, config_blob) = (blob(ALLOWED_SIGNERS_PATH)?, blob(CONFIG_PATH)?);
        let previous = timeline.changes.last().map(|(c, _)| c.digest());
        let position = self.log_size(notes_tip)?;
        let record = Record::ConfigChanged {
            changed_by: actor.to_string(),
            changed_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            commit: commit.to_string(),
            signers_blob,
            config_blob,
            merkle_position: position,
            previous_digest: previous,
            signer: actor.id().to_string(),
        };
        let signed = sign(signer, record)?;
        let path = format!("{}.yaml", config_index_path(position).trim_end_matches("/config_changed"));
        let new = self.write_notes(notes_tip, &[(commit, path, signed)], now)?;
        Ok(RefUpdate { refname: NOTES_REF.to_string(), old: notes_tip, new })
    }

    /// The digest of the config record at `position` in the notes at `notes`.
    fn config_record_at(&self, notes: Oid, position: u64) -> Result<String> {
        let tree = self.store.commit_tree(notes)?;
        let blob = self
            .store
            .blob_id_at(&tree, &config_index_path(position))?
            .ok_or_else(|| Error::internal("a config record went missing"))?;
        let bytes = super::read::read_note(&self.store, blob)?.map_err(Error::internal)?;
        let text = String::from_utf8(bytes).map_err(|_| Error::internal("a config record is not UTF-8"))?;
        Ok(SignedRecord::parse_note(&text).map_err(|e| Error::internal(e.0))?.digest())
    }
}

/// Whether a change to `.zen/` makes the trust root or follows one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rooting {
    Root,
    Rooted,
}

/// Where the `config_changed` record at `position` is indexed.
pub fn config_index_path(position: u64) -> String {
    format!("{CONFIG_INDEX}/{position:012}/config_changed")
}

/// Whether an `allowed_signers` line is for `who`: a principal in its list,
/// or its key's fingerprint.
fn line_names(line: &str, who: &str) -> bool {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return false;
    }
    let principals = trimmed.split_whitespace().next().unwrap_or_default();
    if principals.split(',').any(|p| p == who) {
        return true;
    }
    let key = trimmed
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find_map(|pair| ssh_key::PublicKey::from_openssh(&pair.join(" ")).ok());
    key.is_some_and(|k| k.fingerprint(ssh_key::HashAlg::Sha256).to_string() == who)
}

/// A root only for a log without one; any other change only after it.
fn check_rooting(rooting: Rooting, timeline: &Timeline) -> Result<()> {
    match (rooting, timeline.root()) {
        (Rooting::Rooted, None) => Err(Error::new(
            Code::TrustRootMissing,
            "this log has no trust root yet, so nothing vouches for a change to .zen/",
        )
        .with_hint("an admin runs `draft trust init` first")),
        (Rooting::Root, Some(root)) => Err(Error::new(
            Code::Conflict,
            format!("this log already has a trust root, at position {}", root.record.position()),
        )
        .with_hint("change .zen/ with `draft signers add|remove` or `draft config set`")),
        _ => Ok(()),
    }
}
