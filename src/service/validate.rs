//! `draft validate`: the draft checks apply runs (not the identity ones), for CI.

use super::{Listed, Service};
use crate::domain::checks::{DraftContext, check_draft};
use crate::domain::draft::State;
use crate::domain::spec::resource_path;
use crate::error::{Check, Result};
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
}

impl Service {
    pub fn validate(&self, scope: &ValidateScope) -> Result<Vec<Validated>> {
        let layout = self.layout()?;
        let entries = match scope {
            ValidateScope::Ids(ids) => ids
                .iter()
                .map(|id| self.find(&layout, id).map(|v| Listed::Draft(Box::new(v))))
                .collect::<Result<Vec<_>>>()?,
            ValidateScope::Open | ValidateScope::All => {
                let filter = super::ListFilter { all: true, ..Default::default() };
                let listing = self.list(&filter)?;
                listing
                    .entries
                    .into_iter()
                    .filter(|e| match (scope, e) {
                        (ValidateScope::Open, Listed::Draft(v)) => v.state == State::Pending,
                        _ => true,
                    })
                    .collect()
            }
        };
        let main_tree = self.store.commit_tree(layout.main.commit)?;
        let now = self.now();
        let tenant = self.caller_tenant(&layout.config);
        entries
            .into_iter()
            .map(|entry| match entry {
                Listed::Invalid { path, error } => {
                    Ok(Validated { id: path, ok: false, checks: vec![Check::fail(error.code, error.message)] })
                }
                Listed::Draft(view) => {
                    let current_base = match view.draft.spec_name() {
                        Some(name) => self.store.blob_id_at(&main_tree, &resource_path(name))?.map(|b| b.to_string()),
                        None => None,
                    };
                    let ctx =
                        DraftContext { now, tenant, config: &layout.config, current_base: current_base.as_deref() };
                    let checks = check_draft(&view.draft, &ctx);
                    Ok(Validated { id: view.id.to_string(), ok: checks.iter().all(|c| c.ok), checks })
                }
            })
            .collect()
    }
}
