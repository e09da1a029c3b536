//! `draft demo`: builds the example infrastructure repo of `drafts.example/`
//! so a newcomer can try every command on something real.
//!
//! The example's files are compiled into the binary, so the demo needs no
//! source checkout. Must never: write outside the directory it is given.

use crate::domain::identity::IdentityEnv;
use crate::error::{Code, Error, Result};
use crate::service::{CallerEnv, CreateRequest, InitRequest, Service};
use chrono::{Duration, Utc};
use git2::{IndexAddOption, Repository, RepositoryInitOptions, Signature};
use std::path::{Path, PathBuf};

/// The live configuration the example starts with.
const MAIN_FILES: [(&str, &str); 3] = [
    ("README.md", include_str!("../drafts.example/main/README.md")),
    ("endpoints/github-ci.yaml", include_str!("../drafts.example/main/endpoints/github-ci.yaml")),
    ("endpoints/pagerduty-alerts.yaml", include_str!("../drafts.example/main/endpoints/pagerduty-alerts.yaml")),
];

const GOOD: &str = include_str!("../drafts.example/proposals/stripe-payments.yaml");
const STALE_BASE: &str = include_str!("../drafts.example/proposals/github-ci.yaml");
const EXPIRED: &str = include_str!("../drafts.example/proposals/slack-alerts.yaml");

pub const DEMO_TENANT: &str = "acme";
pub const DEMO_AGENT: &str = "ops-bot";
pub const DEMO_HUMAN: &str = "dana";

/// What the demo built.
pub struct DemoRepo {
    pub dir: PathBuf,
    /// The draft that passes every check.
    pub good: String,
    /// The draft whose resource changed on main after it was proposed.
    pub stale: String,
    /// The draft that outlived its lifetime.
    pub expired: String,
}

/// Builds the example repo in `dir`, which must not exist or be empty.
pub fn build(dir: &Path) -> Result<DemoRepo> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(Error::new(Code::NotARepo, format!("{} is not empty", dir.display()))
            .with_hint("give `draft demo` a new or empty directory, or none for a temporary one"));
    }
    std::fs::create_dir_all(dir)?;
    let repo = Repository::init_opts(dir, RepositoryInitOptions::new().initial_head("main"))?;
    for (path, text) in MAIN_FILES {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("files are in folders"))?;
        std::fs::write(file, text)?;
    }
    commit_all(&repo, "Initial infrastructure: GitHub CI and PagerDuty endpoints")?;

    let human = CallerEnv {
        identity: IdentityEnv { user_id: Some(DEMO_HUMAN.into()), ..IdentityEnv::default() },
        tenant: None,
    };
    Service::open(Some(dir), human)?.init(&InitRequest { tenant: Some(DEMO_TENANT.into()), ttl: None })?;

    let agent = || CallerEnv {
        identity: IdentityEnv { mcp_token: Some("demo".into()), agent_id: Some(DEMO_AGENT.into()), user_id: None },
        tenant: None,
    };
    let nine_days_ago = Utc::now() - Duration::days(9);
    let expired = Service::open(Some(dir), agent())?
        .with_clock(move || nine_days_ago)
        .create(&CreateRequest::from_proposal(EXPIRED.as_bytes())?)?;
    let agent_service = Service::open(Some(dir), agent())?;
    let stale = agent_service.create(&CreateRequest::from_proposal(STALE_BASE.as_bytes())?)?;
    let good = agent_service.create(&CreateRequest::from_proposal(GOOD.as_bytes())?)?;

    // A person changes the GitHub endpoint by hand after the agent proposed its
    // change, so that draft no longer describes a change to what is live.
    let github = dir.join("endpoints/github-ci.yaml");
    let edited = std::fs::read_to_string(&github)?
        .replace("https://ci.example.com/hooks/github", "https://ci2.example.com/hooks/github");
    std::fs::write(&github, edited)?;
    commit_all(&repo, "Move GitHub CI hooks to the new CI host")?;

    Ok(DemoRepo { dir: dir.to_path_buf(), good: good.id, stale: stale.id, expired: expired.id })
}

/// Commits the whole work tree on HEAD as the demo's human.
fn commit_all(repo: &Repository, message: &str) -> Result<()> {
    let mut index = repo.index()?;
    index.add_all(["*"], IndexAddOption::DEFAULT, None)?;
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let who = Signature::now("Dana (demo human)", "dana@example.com")?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some("HEAD"), &who, &who, message, &tree, &parents)?;
    Ok(())
}
