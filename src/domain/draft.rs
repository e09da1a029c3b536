//! A draft: one YAML file on the drafts branch (SPEC §1), and the proposal an
//! agent writes to make one.
//!
//! Must never: edit a draft's proposal after creation. Only the lifecycle
//! fields change, and only `pending -> applied` or `pending -> discarded`.

use crate::domain::draft_id::DraftId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

pub const DRAFT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DraftType {
    Endpoint,
    Route,
    Policy,
    Target,
    Source,
}

impl DraftType {
    pub const ALL: [DraftType; 5] =
        [DraftType::Endpoint, DraftType::Route, DraftType::Policy, DraftType::Target, DraftType::Source];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftType::Endpoint => "endpoint",
            DraftType::Route => "route",
            DraftType::Policy => "policy",
            DraftType::Target => "target",
            DraftType::Source => "source",
        }
    }

    pub fn parse(text: &str) -> Option<DraftType> {
        DraftType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Only endpoints can be created and applied in V1.
    pub fn is_supported(self) -> bool {
        self == DraftType::Endpoint
    }
}

impl fmt::Display for DraftType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Applied,
    Discarded,
}

/// The status people see: `expired` is derived, never written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Pending,
    Expired,
    Applied,
    Discarded,
}

impl State {
    /// What people see of a draft with `status` that expires at
    /// `expires_at`, at `now`: a pending draft past its expiry is expired.
    pub fn of(status: Status, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> State {
        match status {
            Status::Pending if now >= expires_at => State::Expired,
            Status::Pending => State::Pending,
            Status::Applied => State::Applied,
            Status::Discarded => State::Discarded,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Expired => "expired",
            State::Applied => "applied",
            State::Discarded => "discarded",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A draft file, field for field. Unknown fields make a file invalid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    pub version: u32,
    pub id: String,
    #[serde(rename = "type")]
    pub draft_type: DraftType,
    pub status: Status,
    pub tenant: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(default)]
    pub proposed_spec: Option<Value>,
    /// Blob id of `endpoints/<name>.yaml` on main when the draft was created.
    #[serde(default)]
    pub base: Option<String>,
    /// Why the draft exists (see [`crate::domain::provenance`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<crate::domain::provenance::AgentRun>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_created: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discarded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discarded_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Draft {
    /// Why the draft exists, as its file says.
    pub fn provenance(&self) -> crate::domain::provenance::Provenance {
        crate::domain::provenance::Provenance {
            rationale: self.rationale.clone(),
            links: self.links.clone(),
            agent: self.agent.clone(),
        }
    }

    pub fn state(&self, now: DateTime<Utc>) -> State {
        State::of(self.status, self.expires_at, now)
    }

    /// The `name` in the proposed spec, when there is one.
    pub fn spec_name(&self) -> Option<&str> {
        self.proposed_spec.as_ref()?.get("name")?.as_str()
    }

    /// Checks what serde cannot: that the file is where its id says, and that
    /// the lifecycle fields agree with the status.
    pub fn check_consistency(&self, path: &str) -> Result<DraftId, String> {
        if self.version != DRAFT_VERSION {
            return Err(format!("unsupported version {} (this zen-draft reads version {DRAFT_VERSION})", self.version));
        }
        let id = DraftId::parse(&self.id).ok_or("`id` is not a UUIDv7 in canonical form")?;
        if !id.is_at(path) {
            return Err(format!(
                "file is at {path} but its id belongs at {} (or, in the day-folder layout of zen-draft 0.1, {})",
                id.path(),
                id.day_folder_path()
            ));
        }
        if self.expires_at <= self.created_at {
            return Err("`expires_at` is not after `created_at`".to_string());
        }
        let applied = self.applied_by.is_some() || self.applied_at.is_some() || self.applied_commit.is_some();
        let discarded = self.discarded_by.is_some() || self.discarded_at.is_some();
        match self.status {
            Status::Pending if applied || discarded => {
                Err("a pending draft carries applied or discarded fields".into())
            }
            Status::Applied if discarded || self.applied_commit.is_none() => {
                Err("an applied draft needs `applied_commit` and no discard fields".into())
            }
            Status::Discarded if applied || self.discarded_by.is_none() => {
                Err("a discarded draft needs `discarded_by` and no apply fields".into())
            }
            _ => Ok(id),
        }
    }
}

/// What a proposer writes for `draft create --file`: the type, the spec, and
/// optionally a lifetime. Everything else is filled in by the tool.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    #[serde(rename = "type")]
    pub draft_type: String,
    #[serde(default)]
    pub proposed_spec: Option<Value>,
    #[serde(default)]
    pub ttl: Option<String>,
    #[serde(default)]
    pub rationale: Option<String>,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub agent: Option<crate::domain::provenance::AgentRun>,
}
