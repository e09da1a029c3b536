//! `draft validate`: the draft checks apply runs (not the identity ones), for CI.

use super::read::Checking;
use super::{DraftView, Layout, Listed, Service};
use crate::domain::checks::describe_value;
use crate::domain::checks::{DraftContext, check_draft};
use crate::domain::digest::value_digest;
use crate::domain::draft::State;
use crate::domain::spec::resource_path;
use crate::error::{Check, Code, Result};
use crate::evidence::NOTES_REF;
use crate::service::read::EvidenceState;
use serde::Serialize;

pub enum ValidateScope {
    /// These ids (any unique prefixes).
    Ids(Vec<String>),
    /// Pending drafts that have not expired, and unreadable files.
    Open,
    /// Every file on the branch.
    All,
}

#[derive(Debug, Clone, Serialize)]
pub struct Validated {
    /// The draft id, or the file's path when it cannot be read.
    pub id: String,
    pub ok: bool,
    pub checks: Vec<Check>,
    /// Other pending drafts that propose the same resource: applying any of
    /// them makes this one `BASE_CHANGED`. Found when validate reads the
    /// whole branch (no ids given).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

impl Service {
    /// The checks apply runs, for the drafts `scope` names, all judged at
    /// one moment of the refs (a writer landing meanwhile counts whole or
    /// not at all).
    pub fn validate(&self, scope: &ValidateScope) -> Result<Vec<Validated>> {
        self.at_one_moment(|| self.validate_pinned(scope))
    }

    fn validate_pinned(&self, scope: &ValidateScope) -> Result<Vec<Validated>> {
        let layout = self.layout()?;
        let entries = match scope {
            ValidateScope::Ids(ids) => ids
                .iter()
                .map(|id| self.find(&layout, id).map(|v| Listed::Draft(Box::new(v))))
                .collect::<Result<Vec<_>>>()?,
            // Never through `list`: what decides reads no cache.
            ValidateScope::Open | ValidateScope::All => {
                let tip = self.drafts_tip(&layout)?.commit;
                super::crash_point("validate", "after-drafts");
                let all = self.load_all(&layout, tip, Checking::Exact)?;
                all.into_iter()
                    .filter(|e| match (scope, e) {
                        (ValidateScope::Open, Listed::Draft(v)) => v.state == State::Pending,
                        _ => true,
                    })
                    .collect()
            }
        };
        let rivals = pending_by_resource(&entries);
        let at = self.now();
        entries
            .into_iter()
            .map(|entry| match entry {
                Listed::Invalid { path, error } => Ok(Validated {
                    id: path,
                    ok: false,
                    checks: vec![Check::fail(error.code, error.message)],
                    conflicts: Vec::new(),
                }),
                Listed::Draft(view) => {
                    let checks = self.draft_checks(&layout, &view, None, at)?;
                    let id = view.id.to_string();
                    let conflicts = conflicts_of(&rivals, &view, &id);
                    Ok(Validated { ok: checks.iter().all(|c| c.ok), id, checks, conflicts })
                }
            })
            .collect()
    }

    /// Every draft check apply runs, in SPEC order: the pure checks of the
    /// domain, with the evidence check (and the reviewed digest, for apply)
    /// before `BASE_CHANGED`. `view.evidence` must be filled in.
    ///
    /// The draft's lifetime is judged at `at`: this clone's clock for `show`
    /// and `validate`; for apply, the time its record will bear
    /// ([`Service::stamp`]), which follows the log's last record when
    /// another clone's clock is up to a minute ahead.
    pub(crate) fn draft_checks(
        &self,
        layout: &Layout,
        view: &DraftView,
        reviewed: Option<&str>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Check>> {
        let main_tree = self.store.commit_tree(layout.main.commit)?;
        let current_base = match view.draft.spec_name() {
            Some(name) => self.store.blob_id_at(&main_tree, &resource_path(name))?.map(|b| b.to_string()),
            None => None,
        };
        let tenant = self.caller_tenant(&layout.config);
        let ctx = DraftContext { now: at, tenant, config: &layout.config, current_base: current_base.as_deref() };
        let mut checks = check_draft(&view.draft, &ctx);
        let spec_digest = view.draft.proposed_spec.as_ref().map(value_digest);
        let base_changed = checks.pop().expect("check_draft ends with BASE_CHANGED");
        let has_log = self.store.ref_target(NOTES_REF)?.is_some();
        checks.push(evidence_check(view.evidence, has_log, spec_digest.as_deref(), reviewed));
        checks.push(base_changed);
        Ok(checks)
    }
}

/// `EVIDENCE_MISMATCH`: the spec is the one its signed `draft_created` record
/// names, and, when the reviewer gave one, the digest they reviewed.
fn evidence_check(evidence: EvidenceState, has_log: bool, spec_digest: Option<&str>, reviewed: Option<&str>) -> Check {
    let mut problems = Vec::new();
    match evidence {
        EvidenceState::Verified => {}
        EvidenceState::Missing if !has_log => problems.push(format!(
            "this clone has no evidence log ({NOTES_REF}; git does not clone notes): run `draft sync --no-push`"
        )),
        EvidenceState::Missing => problems.push("the draft has no signed draft_created record".to_string()),
        EvidenceState::Invalid => {
            problems.push("the draft does not match its signed evidence, or a signature does not verify".to_string())
        }
    }
    if let Some(reviewed) = reviewed
        && spec_digest != Some(reviewed.trim())
    {
        problems.push(format!(
            "the spec's digest is {}, not the {} you reviewed",
            spec_digest.unwrap_or("(no spec)"),
            if is_digest(reviewed.trim()) { reviewed.trim().to_string() } else { describe_value(reviewed.trim()) }
        ));
    }
    if problems.is_empty() {
        Check::pass(Code::EvidenceMismatch, "the spec matches its signed draft_created record")
    } else {
        Check::fail(Code::EvidenceMismatch, problems.join("; "))
    }
}

/// Whether `text` is a whole spec digest: `sha256:` and 64 hex digits.
pub fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Pending drafts' ids by the resource they propose.
pub(crate) fn pending_by_resource(entries: &[Listed]) -> std::collections::HashMap<String, Vec<String>> {
    let mut by_resource: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for entry in entries {
        if let (Some(resource), Listed::Draft(view)) = (entry.pending_resource(), entry) {
            by_resource.entry(resource).or_default().push(view.id.to_string());
        }
    }
    by_resource
}

/// The other pending drafts for `view`'s resource.
pub(crate) fn conflicts_of(
    rivals: &std::collections::HashMap<String, Vec<String>>,
    view: &super::DraftView,
    id: &str,
) -> Vec<String> {
    view.draft
        .spec_name()
        .and_then(|name| rivals.get(&resource_path(name)))
        .map(|ids| ids.iter().filter(|other| *other != id).cloned().collect())
        .unwrap_or_default()
}
