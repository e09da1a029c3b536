//! `draft discard`: mark a pending draft discarded. The file stays, for audit.

use super::Service;
use super::create::sign;
use crate::domain::checks::check_text_for_secret;
use crate::domain::config::AgentsMayDiscard;
use crate::domain::draft::{State, Status};
use crate::domain::identity::Actor;
use crate::error::{Check, Code, Error, Result};
use crate::evidence::record::{EVIDENCE_NAMESPACE, Record};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Discarded {
    pub id: String,
    pub commit: String,
}

impl Service {
    pub fn discard(&self, id: &str, reason: Option<&str>) -> Result<Discarded> {
        let actor = self.env.identity.require_actor()?;
        self.discard_as(&actor, id, reason)
    }

    /// Discards as `actor` (the caller, or the actor of a replayed discard).
    pub(crate) fn discard_as(&self, actor: &Actor, id: &str, reason: Option<&str>) -> Result<Discarded> {
        let actor = actor.clone();
        let layout = self.layout()?;
        let signer = self.signer_for(&layout, &actor, EVIDENCE_NAMESPACE, Code::SigningKeyMissing)?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if let Some(reason) = reason {
            let check = check_text_for_secret("reason", reason);
            if !check.ok {
                return Err(Error::from_checks(vec![check]));
            }
        }
        let target = self.find(&layout, id)?;
        if let Actor::Agent(_) = &actor
            && layout.config.agents_may_discard == AgentsMayDiscard::Own
            && target.draft.created_by != actor.to_string()
        {
            return Err(Error::new(Code::NotTheCreator, "an agent may discard only the drafts it created").with_hint(
                "ask a person to discard it, or set `agents_may_discard: any` in .zen/config.yaml; nothing was changed",
            ));
        }
        let full_id = target.id.to_string();
        let message = format!("Discard draft {full_id}\n\nDraft-Id: {full_id}\nDiscarded-By: {actor}\n");
        let edit = |tip, now| {
            // Re-read on every attempt, at the tip the commit goes onto: a
            // concurrent apply or discard may have won.
            let view = self.find_at(&layout, tip, &full_id)?;
            if !matches!(view.state, State::Pending | State::Expired) {
                return Err(Error::from_checks(vec![Check::fail(
                    Code::NotPending,
                    format!("the draft is {}, not pending; only pending drafts can be discarded", view.state),
                )]));
            }
            let mut draft = view.draft;
            draft.status = Status::Discarded;
            draft.discarded_by = Some(actor.to_string());
            draft.discarded_at = Some(now);
            draft.reason = reason.map(str::to_string);
            let bytes = super::create::render_draft(&draft)?;
            let blob = self.store.write_blob(&bytes)?;
            Ok(vec![(view.path, Some(blob))])
        };
        let record = |position, now: chrono::DateTime<chrono::Utc>| {
            let created = self.created_record(&target.path, &target.id)?;
            let record = Record::DraftDiscarded {
                draft_id: full_id.clone(),
                discarded_by: actor.to_string(),
                discarded_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                merkle_position: position,
                previous_digest: created.digest(),
                signer: actor.id().to_string(),
            };
            sign(signer.as_ref(), record)
        };
        let commit = self.commit_to_drafts("discard", &layout, &message, &actor.to_string(), edit, &record)?;
        Ok(Discarded { id: full_id, commit: commit.to_string() })
    }
}
