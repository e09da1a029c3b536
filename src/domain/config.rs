//! `.zen/config.yaml`: the repo's settings, kept on main so they are reviewed
//! like any other change.

use crate::domain::duration::Ttl;
use crate::domain::spec::BUILTIN_PROVIDERS;
use serde::{Deserialize, Serialize};

pub const CONFIG_PATH: &str = ".zen/config.yaml";
pub const ALLOWED_SIGNERS_PATH: &str = ".zen/allowed_signers";
pub const DEFAULT_TENANT: &str = "default";
pub const DEFAULT_TTL: &str = "7d";
pub const DEFAULT_DRAFTS_BRANCH: &str = "drafts";
pub const DEFAULT_GC_MAX_PER_RUN: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Tenant that owns this repo.
    pub tenant: String,
    pub main_branch: String,
    #[serde(default = "default_drafts_branch")]
    pub drafts_branch: String,
    /// Default draft lifetime.
    #[serde(default = "default_ttl")]
    pub ttl: String,
    /// Narrows the built-in provider list; absent means all built-ins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub providers: Option<Vec<String>>,
    #[serde(default = "default_gc_max")]
    pub gc_max_per_run: u32,
    /// How long applied and discarded drafts stay on the drafts branch before
    /// `draft gc` removes their files (their evidence stays). Absent: forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_closed: Option<String>,
    /// Hosts to which plain `http://` targets are allowed (never private ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_http_hosts: Vec<String>,
    /// Whose drafts an agent may discard: only its own (the default), or any.
    #[serde(default, skip_serializing_if = "AgentsMayDiscard::is_default")]
    pub agents_may_discard: AgentsMayDiscard,
    /// What the gate on the central repository allows (`draft hook`).
    #[serde(default, skip_serializing_if = "GateConfig::is_default")]
    pub gate: GateConfig,
}

/// `gate:` in `.zen/config.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// Commits on main that touch neither resources nor `.zen/` (a README):
    /// `allow` (the default) or `deny`.
    #[serde(default, skip_serializing_if = "MainOther::is_default")]
    pub main_other: MainOther,
    /// How far a record's own time may be from the time the gate receives
    /// it (default 10m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_clock_skew: Option<String>,
    /// When the server names the pusher (gitolite's `GL_USER`, `REMOTE_USER`
    /// from `git http-backend`, a verified push certificate's signer), which
    /// of `main`, `drafts` and `notes` each may move. With scopes set, a
    /// pusher the server names but this map does not may move none of them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scopes: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MainOther {
    #[default]
    Allow,
    Deny,
}

impl MainOther {
    fn is_default(&self) -> bool {
        *self == MainOther::Allow
    }
}

impl GateConfig {
    fn is_default(&self) -> bool {
        *self == GateConfig::default()
    }

    /// `max_clock_skew`, default ten minutes.
    pub fn max_clock_skew(&self) -> Ttl {
        self.max_clock_skew
            .as_deref()
            .and_then(|t| Ttl::parse(t).ok())
            .unwrap_or_else(|| Ttl::parse("10m").expect("valid"))
    }
}

/// `agents_may_discard` in `.zen/config.yaml`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentsMayDiscard {
    /// An agent may discard only the drafts it created.
    #[default]
    Own,
    /// An agent may discard any pending draft.
    Any,
}

impl AgentsMayDiscard {
    fn is_default(&self) -> bool {
        *self == AgentsMayDiscard::Own
    }
}

fn default_drafts_branch() -> String {
    DEFAULT_DRAFTS_BRANCH.to_string()
}

fn default_ttl() -> String {
    DEFAULT_TTL.to_string()
}

fn default_gc_max() -> u32 {
    DEFAULT_GC_MAX_PER_RUN
}

impl Config {
    pub fn new(tenant: &str, main_branch: &str, ttl: Ttl) -> Config {
        Config {
            tenant: tenant.to_string(),
            main_branch: main_branch.to_string(),
            drafts_branch: default_drafts_branch(),
            ttl: ttl.to_string(),
            providers: None,
            gc_max_per_run: DEFAULT_GC_MAX_PER_RUN,
            retain_closed: None,
            allow_http_hosts: Vec::new(),
            agents_may_discard: AgentsMayDiscard::Own,
            gate: GateConfig::default(),
        }
    }

    /// Checks what serde cannot: that the values make sense together.
    pub fn validate(&self) -> Result<(), String> {
        check_tenant(&self.tenant)?;
        for (what, branch) in [("main_branch", &self.main_branch), ("drafts_branch", &self.drafts_branch)] {
            if git2::Branch::name_is_valid(branch) != Ok(true) {
                return Err(format!("{what} is not a valid branch name"));
            }
        }
        if self.main_branch == self.drafts_branch {
            return Err("main_branch and drafts_branch must differ".to_string());
        }
        Ttl::parse(&self.ttl).map_err(|e| format!("ttl: {e}"))?;
        if let Some(providers) = &self.providers
            && let Some(unknown) = providers.iter().find(|p| !BUILTIN_PROVIDERS.contains(&p.as_str()))
        {
            return Err(format!(
                "providers lists {unknown:?}, which is not a built-in provider ({})",
                BUILTIN_PROVIDERS.join(", ")
            ));
        }
        if let Some(retention) = &self.retain_closed {
            Ttl::parse_retention(retention).map_err(|e| format!("retain_closed: {e}"))?;
        }
        if self.gc_max_per_run == 0 {
            return Err("gc_max_per_run must be at least 1".to_string());
        }
        for refs in self.gate.scopes.values() {
            if let Some(bad) = refs.iter().find(|r| !["main", "drafts", "notes"].contains(&r.as_str())) {
                return Err(format!("gate.scopes names {bad:?}; scopes are main, drafts and notes"));
            }
        }
        if let Some(skew) = &self.gate.max_clock_skew {
            Ttl::parse(skew).map_err(|e| format!("gate.max_clock_skew: {e}"))?;
        }
        Ok(())
    }

    /// How long closed drafts are kept, if the repo limits it.
    pub fn closed_retention(&self) -> Option<Ttl> {
        self.retain_closed.as_deref().map(|r| Ttl::parse_retention(r).expect("validated when the config was read"))
    }

    pub fn default_ttl(&self) -> Ttl {
        Ttl::parse(&self.ttl).expect("validated when the config was read")
    }

    /// The providers this repo accepts.
    pub fn providers(&self) -> Vec<&str> {
        match &self.providers {
            Some(list) => list.iter().map(String::as_str).collect(),
            None => BUILTIN_PROVIDERS.to_vec(),
        }
    }
}

/// Tenants appear in files and filters; keep them one plain token.
pub fn check_tenant(tenant: &str) -> Result<(), String> {
    let ok = !tenant.is_empty()
        && tenant.len() <= 64
        && tenant.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok { Ok(()) } else { Err(format!("tenant {tenant:?} must be 1-64 letters, digits, '.', '_' or '-'")) }
}
