//! The use cases every adapter calls: init, create, list, show, validate and
//! discard. The CLI, the MCP server and the HTTP API are thin layers over
//! this module; a rule lives here or in the domain, never in an adapter.

mod apply;
mod audit;
mod create;
mod discard;
mod doctor;
mod evidence;
mod gate;
mod gc;
mod init;
mod read;
mod reaper;
mod sync;
mod trust;
mod validate;

pub use apply::{Applied, WorkTreeFollow};
pub use audit::VerifiedLog;
pub use create::{CreateRequest, Created};
pub use discard::Discarded;
pub use doctor::{DoctorReport, Finding};
pub use gate::{AuditReport, RefLine, Violation, read_ref_lines};
pub use gc::{GcReport, GcRequest, RemovedDraft};
pub use init::{InitOutcome, InitRequest};
pub use read::{Change, Conflict, Conflicts, DraftView, ListFilter, Listed, Listing, Shown};
pub use sync::{Landed, OperationReport, Outcome, PushedRef, SyncReport};
pub use trust::{ConfigChanged, Timeline};
pub use validate::{ValidateScope, Validated, is_digest};

use crate::domain::config::{CONFIG_PATH, Config};
use crate::domain::identity::IdentityEnv;
use crate::error::{Code, Error, Result};
use crate::store::{BlobRead, BranchTip, Store};
use crate::yaml;
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::HashMap;
use std::path::Path;

/// The caller's environment, read once by the adapter.
#[derive(Debug, Clone, Default)]
pub struct CallerEnv {
    pub identity: IdentityEnv,
    /// `ZEN_TENANT`: the caller's tenant, overriding the repo's.
    pub tenant: Option<String>,
    /// The variables that choose a signing key: `ZEN_SIGNING_KEY`,
    /// `ZEN_SIGNING_KEY_PASSPHRASE`, `SSH_AUTH_SOCK`, `HOME`.
    pub signing: HashMap<String, String>,
}

/// Environment variables that take part in choosing the signing key.
const SIGNING_VARS: [&str; 4] = ["ZEN_SIGNING_KEY", "ZEN_SIGNING_KEY_PASSPHRASE", "SSH_AUTH_SOCK", "HOME"];

impl CallerEnv {
    pub fn from_process() -> Self {
        CallerEnv {
            identity: IdentityEnv::from_process(),
            tenant: std::env::var("ZEN_TENANT").ok().filter(|t| !t.trim().is_empty()),
            signing: SIGNING_VARS.iter().filter_map(|v| Some((v.to_string(), std::env::var(v).ok()?))).collect(),
        }
    }
}

pub struct Service {
    store: Store,
    env: CallerEnv,
    clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
}

/// In debug builds only (what the tests run), `ZEN_TEST_CLOCK` (RFC 3339)
/// fixes the clock, so tests can stand at a time instead of sleeping through
/// TTLs. A release build has no such switch: a settable clock would let a
/// caller revive expired drafts or backdate records.
#[cfg(debug_assertions)]
fn test_clock() -> Option<DateTime<Utc>> {
    let text = std::env::var("ZEN_TEST_CLOCK").ok()?;
    DateTime::parse_from_rfc3339(&text).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(not(debug_assertions))]
fn test_clock() -> Option<DateTime<Utc>> {
    None
}

/// Fault injection for the tests (debug builds only): with `ZEN_TEST_CRASH`
/// set to `<writer>:<point>` (say `create:after-refs`), the process dies at
/// that point at once, without unwinding or flushing, as `kill -9` would
/// leave it, so the tests can show that every step of every writer leaves a
/// state the next command completes or reports.
///
/// With `ZEN_TEST_PAUSE` set to `<writer>:<point>` instead, the process
/// creates the file `reached` in the folder `ZEN_TEST_PAUSE_DIR` names and
/// waits there until the file `go` appears beside it (a minute at most), so
/// a test can land another command at exactly that point of this one.
/// Release builds have neither switch.
pub(crate) fn crash_point(writer: &str, point: &str) {
    #[cfg(debug_assertions)]
    {
        let here = |var| std::env::var(var).is_ok_and(|at| at == format!("{writer}:{point}"));
        if here("ZEN_TEST_CRASH") {
            std::process::abort();
        }
        if here("ZEN_TEST_PAUSE")
            && let Some(dir) = std::env::var_os("ZEN_TEST_PAUSE_DIR").map(std::path::PathBuf::from)
        {
            let _ = std::fs::write(dir.join("reached"), b"");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while !dir.join("go").exists() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = (writer, point);
}

/// What a command needs to know about the repo's set-up.
pub struct Layout {
    pub config: Config,
    pub main: BranchTip,
}

impl Service {
    pub fn open(repo: Option<&Path>, env: CallerEnv) -> Result<Service> {
        let store = Store::open(repo)?;
        // A command that stopped after moving the checked-out branch left
        // its work tree behind; finish that first.
        store.finish_interrupted_follow();
        let service = Service { store, env, clock: Box::new(Utc::now) };
        Ok(match test_clock() {
            Some(now) => service.with_clock(move || now),
            None => service,
        })
    }

    /// Replaces the clock; the demo uses it to backdate its example drafts.
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Service {
        self.clock = Box::new(clock);
        self
    }

    /// Talks to `remote` (`--remote`) instead of `zen.remote` or `origin`.
    pub fn with_remote(mut self, remote: Option<&str>) -> Result<Service> {
        if let Some(remote) = remote {
            self.store.set_remote(remote)?;
        }
        Ok(self)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Now, to the second: what files and commits record.
    fn now(&self) -> DateTime<Utc> {
        (self.clock)().trunc_subsecs(0)
    }

    /// The tenant the caller acts for.
    fn caller_tenant<'a>(&'a self, config: &'a Config) -> &'a str {
        self.env.tenant.as_deref().unwrap_or(&config.tenant)
    }

    /// Finds `.zen/config.yaml` on the main branch: the one `git config
    /// zen.mainBranch` names, else `main` or `master`, else the remote's
    /// default branch, locally or as `origin/…`. Never "whatever is checked
    /// out": a branch whose config named itself main would make its own
    /// `allowed_signers` the judge of its own records.
    pub fn layout(&self) -> Result<Layout> {
        let mut candidates: Vec<String> = self.store.config_string("zen.mainBranch").into_iter().collect();
        for name in ["main".to_string(), "master".to_string()].into_iter().chain(self.store.remote_default_branch()) {
            if !candidates.contains(&name) {
                candidates.push(name);
            }
        }
        for name in &candidates {
            let Some(tip) = self.store.branch_tip(name)? else {
                continue;
            };
            let Some(config) = self.read_config(&tip)? else {
                continue;
            };
            let main = if config.main_branch == *name {
                tip
            } else {
                self.store.branch_tip(&config.main_branch)?.ok_or_else(|| {
                    Error::new(
                        Code::NotInitialized,
                        format!("{CONFIG_PATH} names main branch {:?}, which does not exist", config.main_branch),
                    )
                    .with_hint(format!("fetch it (git fetch origin {})", config.main_branch))
                })?
            };
            return Ok(Layout { config, main });
        }
        Err(Error::new(
            Code::NotInitialized,
            "this repository is not set up for zen-draft (no .zen/config.yaml on main)",
        )
        .with_hint("run `draft init` on the infrastructure repo, or `git fetch origin main` in a clone"))
    }

    fn read_config(&self, tip: &BranchTip) -> Result<Option<Config>> {
        let tree = self.store.commit_tree(tip.commit)?;
        let Some(blob) = self.store.blob_id_at(&tree, CONFIG_PATH)? else {
            return Ok(None);
        };
        let invalid = |why: String| {
            Error::new(Code::InvalidConfig, format!("{CONFIG_PATH} on {}: {why}", tip.refname))
                .with_hint("fix the file on main; see the README for its fields")
        };
        let bytes = match self.store.read_blob(blob, yaml::MAX_DOCUMENT_BYTES)? {
            BlobRead::Bytes(bytes) => bytes,
            BlobRead::TooLarge(size) => return Err(invalid(format!("{size} bytes is too large"))),
        };
        let config: Config = yaml::parse(&bytes).map_err(|e| invalid(e.to_string()))?;
        config.validate().map_err(invalid)?;
        Ok(Some(config))
    }

    /// The drafts branch, local or `origin/…`.
    fn drafts_tip(&self, layout: &Layout) -> Result<BranchTip> {
        let name = &layout.config.drafts_branch;
        self.store.branch_tip(name)?.ok_or_else(|| {
            Error::new(Code::NotInitialized, format!("there is no {name:?} branch, local or origin/{name}"))
                .with_hint(format!("fetch it with `git fetch origin {name}:{name}`, or run `draft init` to create it"))
        })
    }
}
