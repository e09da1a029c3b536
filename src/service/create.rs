//! `draft create`: check a proposal, then commit one new draft file on the
//! drafts branch. A proposal that fails a creation check is never written: no
//! object, no commit.

use super::{Layout, Service};
use crate::domain::checks::check_endpoint_spec;
use crate::domain::digest::value_digest;
use crate::domain::draft::{DRAFT_VERSION, Draft, DraftType, Proposal, Status};
use crate::domain::draft_id::DraftId;
use crate::domain::duration::{TTL_HINT, Ttl};
use crate::domain::identity::Actor;
use crate::domain::spec::{EndpointSpec, RESOURCE_DIR};
use crate::error::{Check, Code, Error, Result};
use crate::evidence::record::{EVIDENCE_NAMESPACE, Record, SignedRecord};
use crate::store::{RefUpdate, refs::retry_on_race};
use crate::yaml;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// A request to create a draft, from flags or from a proposal file.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRequest {
    pub draft_type: String,
    pub proposed_spec: Option<Value>,
    pub ttl: Option<String>,
    /// Why: rationale, links, the agent's run.
    pub provenance: crate::domain::provenance::Provenance,
}

#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub id: String,
    pub path: String,
    pub commit: String,
}

impl CreateRequest {
    /// Parses a proposal file (`type`, `proposed_spec`, optional `ttl`).
    pub fn from_proposal(bytes: &[u8]) -> Result<CreateRequest> {
        let proposal: Proposal = yaml::parse(bytes).map_err(|e| {
            Error::new(Code::InvalidDraft, format!("the proposal cannot be read: {e}")).with_hint(
                "a proposal has `type: endpoint`, `proposed_spec:` with the endpoint fields, and optionally `ttl:`",
            )
        })?;
        Ok(CreateRequest {
            draft_type: proposal.draft_type,
            proposed_spec: proposal.proposed_spec,
            ttl: proposal.ttl,
            provenance: crate::domain::provenance::Provenance {
                rationale: proposal.rationale,
                links: proposal.links,
                agent: proposal.agent,
            },
        })
    }

    pub fn endpoint(spec: Value, ttl: Option<String>) -> CreateRequest {
        CreateRequest {
            draft_type: DraftType::Endpoint.as_str().into(),
            proposed_spec: Some(spec),
            ttl,
            provenance: Default::default(),
        }
    }
}

impl Service {
    pub fn create(&self, request: &CreateRequest) -> Result<Created> {
        let actor = self.env.identity.require_actor()?;
        let layout = self.layout()?;
        let signer = self.signer_for(&layout, &actor, EVIDENCE_NAMESPACE, Code::SigningKeyMissing)?;
        let config = &layout.config;
        let draft_type = match DraftType::parse(&request.draft_type) {
            Some(t) if t.is_supported() => t,
            Some(t) => {
                return Err(Error::new(
                    Code::TypeNotCreatable,
                    format!("{t} drafts cannot be created yet: {t} drafts arrive in V1.1"),
                )
                .with_hint("only `endpoint` drafts can be created in V1"));
            }
            None => {
                return Err(Error::new(Code::TypeNotCreatable, "unknown draft type").with_hint(
                    "the types are endpoint, route, policy, target and source; only endpoint can be created in V1",
                ));
            }
        };
        let ttl = match &request.ttl {
            Some(text) => {
                Ttl::parse(text).map_err(|e| Error::new(Code::InvalidSpec, format!("ttl: {e}")).with_hint(TTL_HINT))?
            }
            None => config.default_ttl(),
        };
        let report = check_endpoint_spec(request.proposed_spec.as_ref(), config);
        let provenance_failures = request.provenance.check(matches!(actor, Actor::Agent(_)));
        let Some(spec) = report.spec.clone().filter(|_| report.ok() && provenance_failures.is_empty()) else {
            let mut checks = report.checks;
            checks.extend(provenance_failures);
            return Err(Error::from_checks(checks));
        };
        self.check_case_collision(&layout, &spec)?;

        let main_tree = self.store.commit_tree(layout.main.commit)?;
        let base = self.store.blob_id_at(&main_tree, &spec.resource_path())?;
        let id = DraftId::generate((self.clock)());
        let now = self.now();
        let draft = Draft {
            version: DRAFT_VERSION,
            id: id.to_string(),
            draft_type,
            status: Status::Pending,
            tenant: self.caller_tenant(config).to_string(),
            created_by: actor.to_string(),
            created_at: now,
            expires_at: now + ttl.as_chrono(),
            proposed_spec: Some(spec.to_value()),
            base: base.map(|b| b.to_string()),
            rationale: request.provenance.rationale.clone(),
            links: request.provenance.links.clone(),
            agent: request.provenance.agent.clone(),
            applied_by: None,
            applied_at: None,
            applied_commit: None,
            resource_created: None,
            discarded_by: None,
            discarded_at: None,
            reason: None,
        };
        self.commit_created(&layout, &actor, signer.as_ref(), draft, &spec)
    }

    /// Creates again, on the tips a sync replays onto, a draft made in this
    /// clone: the same id, spec, base and lifetime, its creation checks run
    /// again against the repository as it is there, and its times those of
    /// the replay (an event's time is when it entered the shared log).
    pub(crate) fn replay_create(&self, actor: &Actor, made: &Draft) -> Result<Created> {
        let layout = self.layout()?;
        let signer = self.signer_for(&layout, actor, EVIDENCE_NAMESPACE, Code::SigningKeyMissing)?;
        let report = check_endpoint_spec(made.proposed_spec.as_ref(), &layout.config);
        let provenance_failures = made.provenance().check(matches!(actor, Actor::Agent(_)));
        let Some(spec) = report.spec.clone().filter(|_| report.ok() && provenance_failures.is_empty()) else {
            let mut checks = report.checks;
            checks.extend(provenance_failures);
            return Err(Error::from_checks(checks));
        };
        self.check_case_collision(&layout, &spec)?;
        let now = self.now();
        let lifetime = made.expires_at - made.created_at;
        let draft = Draft { created_at: now, expires_at: now + lifetime, ..made.clone() };
        self.commit_created(&layout, actor, signer.as_ref(), draft, &spec)
    }

    /// Commits a new draft file and its signed `draft_created` record,
    /// created when it joins the log (`draft`'s own times give only its
    /// lifetime).
    fn commit_created(
        &self,
        layout: &Layout,
        actor: &Actor,
        signer: &dyn crate::evidence::signing::Signer,
        draft: Draft,
        spec: &EndpointSpec,
    ) -> Result<Created> {
        let id = DraftId::parse(&draft.id).ok_or_else(|| Error::internal("a new draft has no valid id"))?;
        let path = id.path();
        let message = format!("Create draft {id}: endpoint {}\n\nDraft-Id: {id}\nCreated-By: {actor}\n", spec.name);
        let lifetime = draft.expires_at - draft.created_at;
        let at = |now: DateTime<Utc>| Draft { created_at: now, expires_at: now + lifetime, ..draft.clone() };
        let record = |position, now| {
            let draft = at(now);
            let record = Record::DraftCreated {
                draft_id: draft.id.clone(),
                draft_type: draft.draft_type.to_string(),
                created_by: draft.created_by.clone(),
                created_at: draft.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                proposed_spec_digest: value_digest(draft.proposed_spec.as_ref().expect("created drafts carry a spec")),
                merkle_position: position,
                signer: actor.id().to_string(),
                provenance_digest: draft.provenance().digest(),
            };
            sign(signer, record)
        };
        let edit = |_, now| Ok(vec![(path.clone(), Some(self.store.write_blob(&render_draft(&at(now))?)?))]);
        let commit = self.commit_to_drafts("create", layout, &message, &actor.to_string(), edit, &record)?;
        Ok(Created { id: id.to_string(), path, commit: commit.to_string() })
    }

    /// A name that differs only by case from a file already on main would
    /// collide with it on a case-insensitive checkout.
    fn check_case_collision(&self, layout: &Layout, spec: &EndpointSpec) -> Result<()> {
        let main_tree = self.store.commit_tree(layout.main.commit)?;
        let Some(dir) = self.store.subtree(&main_tree, RESOURCE_DIR)? else {
            return Ok(());
        };
        let wanted = format!("{}.yaml", spec.name);
        let clash = dir
            .iter()
            .filter_map(|e| e.name().ok().map(str::to_string))
            .find(|n| *n != wanted && n.to_lowercase() == wanted);
        match clash {
            None => Ok(()),
            Some(_) => Err(Error::from_checks(vec![Check::fail(
                Code::InvalidSpec,
                format!("name collides with another file in {RESOURCE_DIR}/ that differs only by letter case"),
            )])),
        }
    }

    /// Commits one change to the drafts branch with compare-and-swap, and its
    /// evidence record with it. `edit` gets the drafts commit the change goes
    /// onto (the tip now) and the time of the change, reads there whatever
    /// it decides on, and returns the files to write (`Some`) or remove
    /// (`None`), the draft's own file first (the record is indexed beside
    /// it); `record` signs the record for the log's next position, at that
    /// time. When another writer moved either ref first, both run again on
    /// the new tips, so every rule is checked against what it changes,
    /// positions never gap or repeat, and times never run backwards along
    /// the log (see [`Service::stamp`]). The drafts commit and its note land
    /// in one ref transaction, or neither does.
    pub(crate) fn commit_to_drafts(
        &self,
        writer: &str,
        layout: &Layout,
        message: &str,
        author: &str,
        mut edit: impl FnMut(git2::Oid, DateTime<Utc>) -> Result<Vec<(String, Option<git2::Oid>)>>,
        record: &dyn Fn(u64, DateTime<Utc>) -> Result<SignedRecord>,
    ) -> Result<git2::Oid> {
        let refname = format!("refs/heads/{}", layout.config.drafts_branch);
        retry_on_race(|| {
            let tip = self.drafts_tip(layout)?;
            let (notes_tip, now) = self.stamp()?;
            let tree = self.store.commit_tree(tip.commit)?;
            let mut new_tree = tree.id();
            let edits = edit(tip.commit, now)?;
            super::crash_point(writer, "after-checks");
            let draft_path = edits.first().map(|(path, _)| path.clone()).ok_or_else(|| Error::internal("no edit"))?;
            for (path, blob) in edits {
                let current = self.store.repo().find_tree(new_tree)?;
                new_tree = match self.store.edit_tree(Some(&current), &path, blob)? {
                    Some(tree) => tree,
                    None => self.store.empty_tree()?,
                };
            }
            let commit = self.store.write_commit(new_tree, &[tip.commit], message, author, now)?;
            let old = if tip.is_local { Some(tip.commit) } else { None };
            let update = RefUpdate { refname: refname.clone(), old, new: commit };
            let note = self.note_update(notes_tip, commit, &draft_path, &|position| record(position, now), now)?;
            super::crash_point(writer, "after-objects");
            self.store.update_refs(&[update, note], message.lines().next().unwrap_or(""))?;
            super::crash_point(writer, "after-refs");
            Ok(commit)
        })
    }
}

/// Renders a draft file and proves it reads back as the same draft, so we
/// never commit a file that `list` would call invalid.
pub(crate) fn render_draft(draft: &Draft) -> Result<Vec<u8>> {
    let text = yaml::render(draft);
    match yaml::parse::<Draft>(text.as_bytes()) {
        Ok(back) if back == *draft => Ok(text.into_bytes()),
        Ok(_) => Err(Error::internal("a draft did not read back as written")),
        Err(e) if text.len() > yaml::MAX_DOCUMENT_BYTES => {
            Err(Error::new(Code::InvalidSpec, format!("the draft would be too large: {e}")))
        }
        Err(e) => Err(Error::internal(format!("a draft did not read back: {e}"))),
    }
}

/// Signs a record in its namespace.
pub(crate) fn sign(signer: &dyn crate::evidence::signing::Signer, record: Record) -> Result<SignedRecord> {
    let signature = signer.sign(record.namespace(), record.signed_message().as_bytes()).map_err(|e| {
        Error::new(Code::SigningKeyMissing, format!("signing failed: {e}")).with_hint("nothing was written")
    })?;
    Ok(SignedRecord::new(record, signature))
}
