//! `draft apply`: the one way a draft reaches main. Human only, every check
//! evaluated and fail-closed, and never half done: the main commit, the draft
//! marked applied and the signed `draft_applied` note move in one git ref
//! transaction, with compare-and-swap on all three refs.

use super::Service;
use super::create::{render_draft, sign};
use crate::domain::draft::Status;
use crate::domain::identity::Actor;
use crate::domain::spec::EndpointSpec;
use crate::error::{Code, Error, Result};
use crate::evidence::record::{APPLY_NAMESPACE, Record};
use crate::store::RefUpdate;
use crate::store::refs::{UpdateError, retry_on_race};
use serde::Serialize;

// Fault injection: with `ZEN_TEST_STOP_APPLY` set to `after-checks`,
// `after-objects` or `after-refs`, apply fails with `INTERNAL` at that point,
// so tests can prove no step leaves a half-done state. Stopping early never
// helps a caller: it only abandons their own apply.

#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub id: String,
    /// The new commit on main.
    pub commit: String,
    pub resource: String,
    /// What became of the checked-out work tree.
    pub work_tree: WorkTreeFollow,
    /// The other pending drafts for the same resource, which this apply made
    /// `BASE_CHANGED` (found after the refs moved; never part of the decision).
    pub now_base_changed: Vec<String>,
}

/// Whether the index and work tree followed main after an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkTreeFollow {
    /// Main is not checked out here (or the repository is bare).
    None,
    Followed,
    /// The refs moved but the work tree could not follow yet (say, another
    /// git command held the index): the next command finishes it.
    Pending,
}

impl Applied {
    /// What the apply did to its rivals, as one sentence: "N other pending
    /// draft(s) for R now is/are BASE_CHANGED: ids"; `None` when it made none
    /// stale. The CLI and the dashboard both say it.
    pub fn stale_note(&self) -> Option<String> {
        let one = match self.now_base_changed.len() {
            0 => return None,
            n => n == 1,
        };
        Some(format!(
            "{} other pending draft{} for {} now {} BASE_CHANGED: {}",
            self.now_base_changed.len(),
            if one { "" } else { "s" },
            self.resource,
            if one { "is" } else { "are" },
            self.now_base_changed.join(", ")
        ))
    }
}

impl Service {
    /// Applies a draft as the human caller. `reviewed_digest` binds the apply
    /// to the spec digest the reviewer saw.
    pub fn apply(&self, id: &str, reviewed_digest: Option<&str>) -> Result<Applied> {
        let actor = self.applier()?;
        let mut applied = self.apply_as(&actor, id, reviewed_digest)?;
        // Only a report: the apply is done whether or not its rivals can be
        // told. Those proposed against another blob than the one main now
        // holds fail BASE_CHANGED (all of them, unless the apply changed
        // nothing on main).
        let stale = || -> Result<Vec<String>> {
            let layout = self.layout()?;
            let now = self.store.blob_id_at(&self.store.commit_tree(layout.main.commit)?, &applied.resource)?;
            let now = now.map(|blob| blob.to_string());
            let rivals = self.pending_rivals(&layout, &applied.resource, None)?;
            Ok(rivals.into_iter().filter(|r| r.id != applied.id && r.base != now).map(|r| r.id).collect())
        };
        applied.now_base_changed = stale().unwrap_or_default();
        Ok(applied)
    }

    /// Applies as `actor`: the caller, or the person whose apply a sync
    /// replays (with their key: only the key that signed it may replay it).
    pub(crate) fn apply_as(&self, actor: &Actor, id: &str, reviewed_digest: Option<&str>) -> Result<Applied> {
        let Actor::User(_) = actor else {
            return Err(Error::new(Code::UserIdRequired, "only a person can apply a draft")
                .with_hint("a person reviews the draft and applies it"));
        };
        // A digest cut short or mistyped is the reviewer's slip, not tampering.
        if let Some(digest) = reviewed_digest
            && !super::validate::is_digest(digest.trim())
        {
            return Err(Error::new(
                Code::EvidenceMismatch,
                "the reviewed digest is not a whole spec digest (sha256: and 64 hex digits)",
            )
            .with_hint("pass the spec digest `draft show` prints, whole"));
        }
        let actor = actor.clone();
        let layout = self.layout()?;
        let signer = self.signer_for(&layout, &actor, APPLY_NAMESPACE, Code::NotAnApplier)?;
        let stop = std::env::var("ZEN_TEST_STOP_APPLY").ok();
        let stop_at = |point: &str| -> Result<()> {
            super::crash_point("apply", point);
            match stop.as_deref() {
                Some(p) if p == point => Err(Error::internal(format!("apply stopped {point} (ZEN_TEST_STOP_APPLY)"))),
                _ => Ok(()),
            }
        };
        let outcome = retry_on_race(|| {
            // Re-read everything on each attempt: a lost race means main, the
            // draft or the log moved, and every check must see the new state.
            // The drafts commit is written onto the very tip the draft was
            // judged at, so a discard landing in between loses us the race.
            let layout = self.layout()?;
            let drafts_tip = self.drafts_tip(&layout)?;
            let view = self.find_at(&layout, drafts_tip.commit, id)?;
            // The lifetime is judged at the time the record will bear, which
            // follows the log's last record when another clone's clock is a
            // little ahead: no record says a draft was applied after it
            // expired.
            let (notes_tip, now) = self.stamp()?;
            let checks = self.draft_checks(&layout, &view, reviewed_digest, now)?;
            if checks.iter().any(|c| !c.ok) {
                return Err(UpdateError::Failed(Error::from_checks(checks)));
            }
            let spec: EndpointSpec = serde_json::from_value(view.draft.proposed_spec.clone().unwrap_or_default())
                .map_err(|_| Error::internal("a draft that passed its checks has no endpoint spec"))?;
            let resource = spec.resource_path();
            let checked_out = self.store.is_checked_out(&layout.config.main_branch);
            if checked_out && let Err(dirty) = self.store.ensure_clean(&[resource.as_str()]) {
                // Main moving under us (another apply, between its ref move
                // and its work tree following) looks like a local change:
                // that is a lost race, not the person's edit.
                let main_ref = format!("refs/heads/{}", layout.config.main_branch);
                if self.store.ref_target(&main_ref)? != Some(layout.main.commit) {
                    return Err(UpdateError::Moved);
                }
                return Err(dirty.into());
            }
            stop_at("after-checks")?;

            let full_id = view.id.to_string();
            let main_ref = format!("refs/heads/{}", layout.config.main_branch);
            let old_main = self.store.ref_target(&main_ref)?;
            if old_main != Some(layout.main.commit) {
                return Err(UpdateError::Moved);
            }
            let main_tree = self.store.commit_tree(layout.main.commit)?;
            let blob = self.store.write_blob(spec.render_resource().as_bytes())?;
            let tree = self.store.edit_tree(Some(&main_tree), &resource, Some(blob))?.expect("the tree holds the file");
            let message =
                format!("Apply draft {full_id}: endpoint {}\n\nDraft-Id: {full_id}\nApplied-By: {actor}\n", spec.name);
            let main_commit =
                self.store.write_commit(tree, &[layout.main.commit], &message, &actor.to_string(), now)?;

            let resource_created = view.draft.base.is_none();
            let mut draft = view.draft.clone();
            draft.status = Status::Applied;
            draft.applied_by = Some(actor.to_string());
            draft.applied_at = Some(now);
            draft.applied_commit = Some(main_commit.to_string());
            draft.resource_created = Some(resource_created);
            let drafts_blob = self.store.write_blob(&render_draft(&draft)?)?;
            let drafts_tree = self.store.commit_tree(drafts_tip.commit)?;
            let drafts_tree = self
                .store
                .edit_tree(Some(&drafts_tree), &view.path, Some(drafts_blob))?
                .expect("the tree holds the draft");
            let drafts_message =
                format!("Mark draft {full_id} applied\n\nDraft-Id: {full_id}\nApplied-In: {main_commit}\n");
            let drafts_commit =
                self.store.write_commit(drafts_tree, &[drafts_tip.commit], &drafts_message, &actor.to_string(), now)?;

            let created = self.created_record(&view.path, &view.id)?;
            let spec_digest =
                crate::domain::digest::value_digest(view.draft.proposed_spec.as_ref().unwrap_or_default());
            let record = |position| {
                let record = Record::DraftApplied {
                    draft_id: full_id.clone(),
                    applied_by: actor.to_string(),
                    applied_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    resource_created,
                    merkle_position: position,
                    previous_digest: created.digest(),
                    signer: actor.id().to_string(),
                    applied_commit: Some(main_commit.to_string()),
                    resource: Some(resource.clone()),
                    resource_blob: Some(blob.to_string()),
                    proposed_spec_digest: Some(spec_digest.clone()),
                };
                sign(signer.as_ref(), record)
            };
            let note = self.note_update(notes_tip, main_commit, &view.path, &record, now)?;
            stop_at("after-objects")?;
            if checked_out {
                self.store.journal_follow(main_commit, &[resource.as_str()])?;
            }

            let drafts_ref = format!("refs/heads/{}", layout.config.drafts_branch);
            let updates = [
                RefUpdate { refname: main_ref, old: old_main, new: main_commit },
                RefUpdate {
                    refname: drafts_ref,
                    old: drafts_tip.is_local.then_some(drafts_tip.commit),
                    new: drafts_commit,
                },
                note,
            ];
            self.store.update_refs(&updates, &format!("draft apply {full_id}"))?;
            let work_tree = if checked_out { WorkTreeFollow::Pending } else { WorkTreeFollow::None };
            Ok(Applied {
                id: full_id,
                commit: main_commit.to_string(),
                resource: resource.clone(),
                work_tree,
                now_base_changed: Vec::new(),
            })
        })?;
        let mut applied = outcome;
        stop_at("after-refs")?;
        // The apply happened: a work tree that cannot follow now is finished
        // by the next command (the journal says what), not reported as failed.
        let main_commit =
            git2::Oid::from_str(&applied.commit).map_err(|_| Error::internal("an apply made no commit"))?;
        if applied.work_tree == WorkTreeFollow::Pending
            && self.store.follow_head(main_commit, &[applied.resource.as_str()]).is_ok()
        {
            applied.work_tree = WorkTreeFollow::Followed;
        }
        Ok(applied)
    }

    /// Identity first, before any draft is read (SPEC §3 "Apply" step 1).
    fn applier(&self) -> Result<Actor> {
        let identity = &self.env.identity;
        if identity.mcp_token.is_some() {
            return Err(Error::new(Code::McpCannotApply, "agents cannot apply drafts: an MCP token is present")
                .with_hint("a person reviews the draft (`draft show`) and applies it without ZEN_MCP_TOKEN set"));
        }
        match identity.actor()? {
            Some(actor @ Actor::User(_)) => Ok(actor),
            _ => Err(Error::new(Code::UserIdRequired, "apply needs a person's identity, and ZEN_USER_ID is not set")
                .with_hint("set ZEN_USER_ID to your user id; your signing key must be listed for it with namespace zen-draft-apply")),
        }
    }
}
