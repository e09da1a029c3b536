//! `draft init`: `.zen/` on main, the drafts branch and the notes ref, all in
//! one ref transaction.

use super::Service;
use crate::domain::config::{self, ALLOWED_SIGNERS_PATH, CONFIG_PATH, Config, DEFAULT_TENANT, DEFAULT_TTL};
use crate::domain::duration::Ttl;
use crate::error::{Code, Error, Result};
use crate::evidence::NOTES_REF;
use crate::store::{RefUpdate, refs::retry_on_race};
use crate::yaml;

#[derive(Debug, Clone, Default)]
pub struct InitRequest {
    pub tenant: Option<String>,
    pub ttl: Option<Ttl>,
}

#[derive(Debug, Clone)]
pub enum InitOutcome {
    Initialized {
        config: Config,
        main_commit: String,
    },
    /// `.zen/config.yaml` was there; the missing branch or notes ref was created.
    Completed {
        config: Config,
        created: Vec<String>,
    },
    AlreadySetUp {
        config: Config,
    },
}

impl Service {
    pub fn init(&self, request: &InitRequest) -> Result<InitOutcome> {
        match self.layout() {
            Ok(layout) => return self.complete_setup(layout.config),
            Err(e) if e.code == Code::NotInitialized => {}
            Err(e) => return Err(e),
        }
        let tenant =
            request.tenant.clone().or_else(|| self.env.tenant.clone()).unwrap_or_else(|| DEFAULT_TENANT.into());
        config::check_tenant(&tenant)
            .map_err(|e| Error::new(Code::InvalidConfig, e).with_hint("pass --tenant NAME"))?;
        let ttl = request.ttl.unwrap_or_else(|| Ttl::parse(DEFAULT_TTL).expect("the default parses"));
        let main = self.store.head_branch().unwrap_or_else(|| "main".to_string());
        // A main branch of another name is found again through git config
        // (see `Service::layout`, which never trusts what is checked out).
        if main != "main" && main != "master" {
            self.store.set_config_string("zen.mainBranch", &main)?;
        }
        let config = Config::new(&tenant, &main, ttl);
        config.validate().map_err(|e| Error::new(Code::InvalidConfig, e))?;

        let paths = [CONFIG_PATH, ALLOWED_SIGNERS_PATH];
        let checked_out = self.store.is_checked_out(&main);
        if checked_out {
            self.store.ensure_clean(&paths)?;
        }
        let main_ref = format!("refs/heads/{main}");
        let config_blob = self.store.write_blob(yaml::render(&config).as_bytes())?;
        let now = self.now();
        let main_commit = retry_on_race(|| {
            let old_main = self.store.ref_target(&main_ref)?;
            let base = old_main.map(|c| self.store.commit_tree(c)).transpose()?;
            let mut tree = self.store.edit_tree(base.as_ref(), CONFIG_PATH, Some(config_blob))?;
            let has_signers = match &base {
                Some(base) => self.store.blob_id_at(base, ALLOWED_SIGNERS_PATH)?.is_some(),
                None => false,
            };
            if !has_signers {
                let empty = self.store.write_blob(b"")?;
                let current = tree.map(|t| self.store.repo().find_tree(t)).transpose()?;
                tree = self.store.edit_tree(current.as_ref(), ALLOWED_SIGNERS_PATH, Some(empty))?;
            }
            let tree = tree.expect("the tree holds at least the config");
            let parents: Vec<_> = old_main.into_iter().collect();
            let author = "zen-draft";
            let commit = self.store.write_commit(
                tree,
                &parents,
                "Set up zen-draft\n\nAdds .zen/config.yaml and .zen/allowed_signers.\n",
                author,
                now,
            )?;
            let mut updates = vec![RefUpdate { refname: main_ref.clone(), old: old_main, new: commit }];
            updates.extend(self.missing_branch_and_notes(&config)?);
            if checked_out {
                self.store.journal_follow(commit, &paths)?;
            }
            super::crash_point("init", "after-objects");
            self.store.update_refs(&updates, "draft init")?;
            super::crash_point("init", "after-refs");
            Ok(commit)
        })?;
        if checked_out {
            self.store.follow_head(main_commit, &paths)?;
        }
        Ok(InitOutcome::Initialized { config, main_commit: main_commit.to_string() })
    }

    /// Creates the drafts branch and the notes ref if either is missing.
    fn complete_setup(&self, config: Config) -> Result<InitOutcome> {
        let created = retry_on_race(|| {
            let updates = self.missing_branch_and_notes(&config)?;
            self.store.update_refs(&updates, "draft init")?;
            Ok(updates.into_iter().map(|u| u.refname).collect::<Vec<_>>())
        })?;
        if created.is_empty() {
            Ok(InitOutcome::AlreadySetUp { config })
        } else {
            Ok(InitOutcome::Completed { config, created })
        }
    }

    fn missing_branch_and_notes(&self, config: &Config) -> Result<Vec<RefUpdate>> {
        let now = self.now();
        let empty = self.store.empty_tree()?;
        let mut updates = Vec::new();
        let drafts_ref = format!("refs/heads/{}", config.drafts_branch);
        if self.store.ref_target(&drafts_ref)?.is_none() {
            // A CI-style clone may only have origin/drafts: start from it rather than fork history.
            let start = match self.store.branch_tip(&config.drafts_branch)? {
                Some(remote) => remote.commit,
                None => self.store.write_commit(empty, &[], "Start the drafts branch\n", "zen-draft", now)?,
            };
            updates.push(RefUpdate { refname: drafts_ref, old: None, new: start });
        }
        if self.store.ref_target(NOTES_REF)?.is_none() {
            let start = self.store.write_commit(empty, &[], "Start the zen-draft evidence log\n", "zen-draft", now)?;
            updates.push(RefUpdate { refname: NOTES_REF.to_string(), old: None, new: start });
        }
        Ok(updates)
    }
}
