//! `draft demo`: builds the example infrastructure repo of `drafts.example/`
//! so a newcomer can try every command on something real.
//!
//! The example's files are compiled into the binary, so the demo needs no
//! source checkout. Must never: write outside the directory it is given.

use crate::domain::config::ALLOWED_SIGNERS_PATH;
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
const HOST_MOVE: &str = include_str!("../drafts.example/proposals/github-ci-host.yaml");

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
    /// The draft the person applied while building the demo (the CI host move).
    pub applied: String,
    /// Where the demo's throwaway signing keys are, one file per identity.
    pub keys: PathBuf,
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

    let keys = dir.join(".git").join("zen-demo-keys");
    std::fs::create_dir_all(&keys)?;
    let agent_key = write_key(&keys, DEMO_AGENT)?;
    let human_key = write_key(&keys, DEMO_HUMAN)?;

    let human_env = || CallerEnv {
        identity: IdentityEnv { user_id: Some(DEMO_HUMAN.into()), ..IdentityEnv::default() },
        tenant: None,
        signing: signing_env(&keys.join(DEMO_HUMAN)),
    };
    Service::open(Some(dir), human_env())?.init(&InitRequest { tenant: Some(DEMO_TENANT.into()), ttl: None })?;
    let signers = format!(
        "# Who may sign zen-draft evidence. Only people get zen-draft-apply.\n\
         {DEMO_HUMAN} namespaces=\"zen-draft-evidence,zen-draft-apply\" {human_key}\n\
         {DEMO_AGENT} namespaces=\"zen-draft-evidence\" {agent_key}\n"
    );
    std::fs::write(dir.join(ALLOWED_SIGNERS_PATH), signers)?;
    commit_all(&repo, "Allow the demo's human and agent to sign evidence")?;

    let agent = || CallerEnv {
        identity: IdentityEnv { mcp_token: Some("demo".into()), agent_id: Some(DEMO_AGENT.into()), user_id: None },
        tenant: None,
        signing: signing_env(&keys.join(DEMO_AGENT)),
    };
    let nine_days_ago = Utc::now() - Duration::days(9);
    let expired = Service::open(Some(dir), agent())?
        .with_clock(move || nine_days_ago)
        .create(&CreateRequest::from_proposal(EXPIRED.as_bytes())?)?;
    let agent_service = Service::open(Some(dir), agent())?;
    let stale = agent_service.create(&CreateRequest::from_proposal(STALE_BASE.as_bytes())?)?;
    let good = agent_service.create(&CreateRequest::from_proposal(GOOD.as_bytes())?)?;

    // A person applies another change to the GitHub endpoint after the agent
    // proposed its own, so that draft no longer describes a change to what
    // is live. (A change to endpoints/ on main is always an apply.)
    let moved = agent_service.create(&CreateRequest::from_proposal(HOST_MOVE.as_bytes())?)?;
    let person = Service::open(Some(dir), human_env())?;
    person.apply(&moved.id, None)?;

    Ok(DemoRepo {
        dir: dir.to_path_buf(),
        good: good.id,
        stale: stale.id,
        expired: expired.id,
        applied: moved.id,
        keys,
    })
}

/// A throwaway Ed25519 key for one of the demo's identities; returns its public half.
fn write_key(dir: &Path, name: &str) -> Result<String> {
    let key = ssh_key::PrivateKey::random(&mut ssh_key::rand_core::OsRng, ssh_key::Algorithm::Ed25519)
        .map_err(|e| Error::internal(format!("cannot make a demo key: {e}")))?;
    key.write_openssh_file(&dir.join(name), ssh_key::LineEnding::LF)
        .map_err(|e| Error::internal(format!("cannot write the demo key: {e}")))?;
    let public =
        key.public_key().to_openssh().map_err(|e| Error::internal(format!("cannot encode the demo key: {e}")))?;
    std::fs::write(dir.join(format!("{name}.pub")), format!("{public}\n"))?;
    Ok(public)
}

fn signing_env(key: &Path) -> std::collections::HashMap<String, String> {
    [("ZEN_SIGNING_KEY".to_string(), key.display().to_string())].into()
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

/// The spec digest `draft show` prints for a draft of the demo repo.
pub fn spec_digest(dir: &Path, id: &str) -> Result<String> {
    let service = Service::open(Some(dir), CallerEnv::default())?;
    service.show(id)?.spec_digest.ok_or_else(|| Error::internal("the demo's draft has no spec"))
}
