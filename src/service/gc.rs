//! `draft gc`: remove expired drafts' files from the drafts branch, a bounded
//! number per run, without ever losing evidence.
//!
//! Each removal is its own commit (SPEC §1: cleaning up a draft is a commit),
//! so each signed `draft_expired` record sits on the commit that removed that
//! draft (SPEC §5). A run's commits and its notes land in one ref transaction.
//! Nothing is rewritten: the drafts' history, and the notes on it, stay
//! reachable, so `git gc --prune=now` keeps every record.

use super::create::sign;
use super::{Listed, Service};
use crate::domain::draft::State;
use crate::domain::identity::Actor;
use crate::error::{Code, Error, Result};
use crate::evidence::NOTES_REF;
use crate::evidence::record::{EVIDENCE_NAMESPACE, Record, SignedRecord};
use crate::store::RefUpdate;
use crate::store::refs::{UpdateError, retry_on_race};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct GcRequest {
    /// At most this many drafts this run (default: `gc_max_per_run`).
    pub max: Option<u32>,
    /// Only this tenant's drafts.
    pub tenant: Option<String>,
    /// Report what would be removed; write nothing.
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GcReport {
    pub dry_run: bool,
    pub removed: Vec<RemovedDraft>,
    /// Removable drafts still on the branch after this run (in scope).
    pub remaining: usize,
    /// Expired drafts left alone because they have no signed creation record.
    pub skipped: Vec<String>,
    /// The drafts branch commit after the run, when anything was removed.
    pub commit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RemovedDraft {
    pub id: String,
    /// `expired`, or `applied` / `discarded` past the repo's `retain_closed`.
    pub state: State,
    pub path: String,
    pub tenant: String,
    pub expires_at: String,
}

impl Service {
    pub fn gc(&self, request: &GcRequest) -> Result<GcReport> {
        let layout = self.layout()?;
        let max = request.max.unwrap_or(layout.config.gc_max_per_run) as usize;
        if max == 0 {
            return Err(
                Error::new(Code::InvalidSpec, "--max must be at least 1").with_hint("omit it to use gc_max_per_run")
            );
        }
        // Writing needs an identity and a key; a dry run needs neither.
        let writer = if request.dry_run {
            None
        } else {
            let actor = self.env.identity.require_actor()?;
            let signer = self.signer_for(&layout, &actor, EVIDENCE_NAMESPACE, Code::SigningKeyMissing)?;
            Some((actor, signer))
        };
        let retention = layout.config.closed_retention();
        retry_on_race(|| {
            let now = self.now();
            let tip = self.drafts_tip(&layout)?;
            let mut expired: Vec<_> = self
                .load_all(&layout, tip.commit, super::read::Checking::Skip)?
                .into_iter()
                .filter_map(|entry| match entry {
                    Listed::Draft(view) if removable(&view, retention, now) => Some(view),
                    _ => None,
                })
                .filter(|view| request.tenant.as_deref().is_none_or(|t| view.draft.tenant == t))
                .collect();
            expired.sort_by_key(|view| (view.draft.created_at, view.id));
            let mut chosen = Vec::new();
            let mut skipped = Vec::new();
            for view in &expired {
                if chosen.len() == max {
                    break;
                }
                match self.created_record(&view.path, &view.id) {
                    Ok(created) => chosen.push((view, created)),
                    Err(_) => skipped.push(view.id.to_string()),
                }
            }
            let removed: Vec<RemovedDraft> = chosen
                .iter()
                .map(|(view, _)| RemovedDraft {
                    id: view.id.to_string(),
                    path: view.path.clone(),
                    tenant: view.draft.tenant.clone(),
                    expires_at: view.draft.expires_at.to_rfc3339(),
                    state: view.state,
                })
                .collect();
            let remaining = expired.len() - removed.len();
            let Some((actor, signer)) = writer.as_ref().filter(|_| !chosen.is_empty()) else {
                return Ok(GcReport { dry_run: request.dry_run, removed, remaining, skipped, commit: None });
            };

            super::crash_point("gc", "after-checks");
            let chosen: Vec<(&super::DraftView, Record)> = chosen.into_iter().map(|(v, c)| (&**v, c)).collect();
            let parent = self.remove_drafts(&layout, &tip, actor, signer.as_ref(), &chosen)?;
            Ok(GcReport { dry_run: false, removed, remaining, skipped, commit: Some(parent.to_string()) })
        })
    }
}

impl Service {
    /// Removes again, on the tips a sync replays onto, a draft this clone's
    /// gc removed: only if it is still removable there.
    pub(crate) fn replay_gc(&self, actor: &Actor, id: &str) -> Result<()> {
        let layout = self.layout()?;
        let signer = self.signer_for(&layout, actor, EVIDENCE_NAMESPACE, Code::SigningKeyMissing)?;
        let now = self.now();
        retry_on_race(|| {
            let tip = self.drafts_tip(&layout)?;
            let view = self.find_at(&layout, tip.commit, id)?;
            if !removable(&view, layout.config.closed_retention(), now) {
                return Err(Error::new(
                    Code::NotPending,
                    format!("the draft is {}, which gc does not remove yet", view.state),
                )
                .into());
            }
            let created = self.created_record(&view.path, &view.id)?;
            self.remove_drafts(&layout, &tip, actor, signer.as_ref(), &[(&view, created)])?;
            Ok(())
        })
    }

    /// Commits the removal of each draft in `chosen` (one commit each, onto
    /// `tip`, where they were found removable) and its signed
    /// `draft_expired` record, in one ref transaction; returns the new
    /// drafts tip.
    fn remove_drafts(
        &self,
        layout: &super::Layout,
        tip: &crate::store::BranchTip,
        actor: &Actor,
        signer: &dyn crate::evidence::signing::Signer,
        chosen: &[(&super::DraftView, Record)],
    ) -> Result<git2::Oid, UpdateError> {
        let (notes_tip, now) = self.stamp()?;
        let first_position = self.log_size(notes_tip)?;
        let mut parent = tip.commit;
        let mut notes: Vec<(git2::Oid, String, SignedRecord)> = Vec::new();
        for (i, (view, created)) in chosen.iter().enumerate() {
            let tree = self.store.commit_tree(parent)?;
            let tree = match self.store.edit_tree(Some(&tree), &view.path, None)? {
                Some(tree) => tree,
                None => self.store.empty_tree()?,
            };
            let id = view.id;
            let message = format!("Remove {} draft {id}\n\nDraft-Id: {id}\nRemoved-By: {actor}\n", view.state);
            let commit = self.store.write_commit(tree, &[parent], &message, &actor.to_string(), now)?;
            let record = Record::DraftExpired {
                draft_id: id.to_string(),
                removed_by: actor.to_string(),
                removed_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                merkle_position: first_position + i as u64,
                previous_digest: created.digest(),
                signer: actor.id().to_string(),
            };
            notes.push((commit, view.path.clone(), sign(signer, record)?));
            parent = commit;
        }
        let notes_commit = self.write_notes(notes_tip, &notes, now)?;
        let updates = [
            RefUpdate {
                refname: format!("refs/heads/{}", layout.config.drafts_branch),
                old: tip.is_local.then_some(tip.commit),
                new: parent,
            },
            RefUpdate { refname: NOTES_REF.to_string(), old: notes_tip, new: notes_commit },
        ];
        super::crash_point("gc", "after-objects");
        self.store.update_refs(&updates, &format!("draft gc: remove {} expired drafts", notes.len()))?;
        super::crash_point("gc", "after-refs");
        Ok(parent)
    }
}

/// What gc may remove: pending drafts past their lifetime, and, when the repo
/// sets `retain_closed`, applied and discarded drafts closed longer ago.
fn removable(view: &super::DraftView, retention: Option<crate::domain::duration::Ttl>, now: DateTime<Utc>) -> bool {
    let closed_at = match view.state {
        State::Expired => return true,
        State::Pending => return false,
        State::Applied => view.draft.applied_at,
        State::Discarded => view.draft.discarded_at,
    };
    match (retention, closed_at) {
        (Some(retention), Some(closed_at)) => closed_at + retention.as_chrono() <= now,
        _ => false,
    }
}
