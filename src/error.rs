//! Error codes of SPEC §4, and the one table that maps them to exit codes and
//! HTTP statuses.
//!
//! Every failure a user can cause carries a stable [`Code`], a message and a hint
//! they can act on. `INTERNAL` is reserved for bugs and broken environments; bad
//! input must never produce it. Messages must never echo a secret value.

use serde::Serialize;
use std::fmt;

/// A stable error code. The spelling (`as_str`) is part of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    Internal,
    McpCannotApply,
    UserIdRequired,
    NotAnApplier,
    NotTheCreator,
    TenantMismatch,
    NotPending,
    Expired,
    TypeNotApplicable,
    TypeNotCreatable,
    SpecMissing,
    InvalidSpec,
    UnknownProvider,
    InvalidTargetUrl,
    RawSecret,
    EvidenceMismatch,
    BaseChanged,
    InvalidDraft,
    NotFound,
    AmbiguousId,
    Conflict,
    Locked,
    DirtyWorktree,
    NotARepo,
    NotInitialized,
    InvalidConfig,
    SigningKeyMissing,
    EvidenceInvalid,
    RemoteFailed,
    NotAnAdmin,
    TrustRootMissing,
    TrustRootChanged,
    ShallowClone,
}

impl Code {
    /// Every code, for the documentation's test.
    pub const ALL: [Code; 33] = [
        Code::Internal,
        Code::McpCannotApply,
        Code::UserIdRequired,
        Code::NotAnApplier,
        Code::NotTheCreator,
        Code::TenantMismatch,
        Code::NotPending,
        Code::Expired,
        Code::TypeNotApplicable,
        Code::TypeNotCreatable,
        Code::SpecMissing,
        Code::InvalidSpec,
        Code::UnknownProvider,
        Code::InvalidTargetUrl,
        Code::RawSecret,
        Code::EvidenceMismatch,
        Code::BaseChanged,
        Code::InvalidDraft,
        Code::NotFound,
        Code::AmbiguousId,
        Code::Conflict,
        Code::Locked,
        Code::DirtyWorktree,
        Code::NotARepo,
        Code::NotInitialized,
        Code::InvalidConfig,
        Code::SigningKeyMissing,
        Code::EvidenceInvalid,
        Code::RemoteFailed,
        Code::NotAnAdmin,
        Code::TrustRootMissing,
        Code::TrustRootChanged,
        Code::ShallowClone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Internal => "INTERNAL",
            Code::McpCannotApply => "MCP_CANNOT_APPLY",
            Code::UserIdRequired => "USER_ID_REQUIRED",
            Code::NotAnApplier => "NOT_AN_APPLIER",
            Code::NotTheCreator => "NOT_THE_CREATOR",
            Code::TenantMismatch => "TENANT_MISMATCH",
            Code::NotPending => "NOT_PENDING",
            Code::Expired => "EXPIRED",
            Code::TypeNotApplicable => "TYPE_NOT_APPLICABLE",
            Code::TypeNotCreatable => "TYPE_NOT_CREATABLE",
            Code::SpecMissing => "SPEC_MISSING",
            Code::InvalidSpec => "INVALID_SPEC",
            Code::UnknownProvider => "UNKNOWN_PROVIDER",
            Code::InvalidTargetUrl => "INVALID_TARGET_URL",
            Code::RawSecret => "RAW_SECRET",
            Code::EvidenceMismatch => "EVIDENCE_MISMATCH",
            Code::BaseChanged => "BASE_CHANGED",
            Code::InvalidDraft => "INVALID_DRAFT",
            Code::NotFound => "NOT_FOUND",
            Code::AmbiguousId => "AMBIGUOUS_ID",
            Code::Conflict => "CONFLICT",
            Code::Locked => "LOCKED",
            Code::DirtyWorktree => "DIRTY_WORKTREE",
            Code::NotARepo => "NOT_A_REPO",
            Code::NotInitialized => "NOT_INITIALIZED",
            Code::InvalidConfig => "INVALID_CONFIG",
            Code::SigningKeyMissing => "SIGNING_KEY_MISSING",
            Code::EvidenceInvalid => "EVIDENCE_INVALID",
            Code::RemoteFailed => "REMOTE_FAILED",
            Code::NotAnAdmin => "NOT_AN_ADMIN",
            Code::TrustRootMissing => "TRUST_ROOT_MISSING",
            Code::TrustRootChanged => "TRUST_ROOT_CHANGED",
            Code::ShallowClone => "SHALLOW_CLONE",
        }
    }

    /// Process exit status (SPEC §4). Usage errors (2) belong to clap.
    pub fn exit_code(self) -> u8 {
        match self {
            Code::Internal => 1,
            Code::McpCannotApply
            | Code::UserIdRequired
            | Code::NotAnApplier
            | Code::NotTheCreator
            | Code::NotAnAdmin
            | Code::TenantMismatch => 3,
            Code::NotPending
            | Code::Expired
            | Code::TypeNotApplicable
            | Code::TypeNotCreatable
            | Code::SpecMissing
            | Code::InvalidSpec
            | Code::UnknownProvider
            | Code::InvalidTargetUrl
            | Code::RawSecret
            | Code::EvidenceMismatch
            | Code::BaseChanged
            | Code::InvalidDraft => 4,
            Code::NotFound | Code::AmbiguousId => 5,
            Code::Conflict | Code::Locked | Code::DirtyWorktree => 6,
            Code::NotARepo
            | Code::NotInitialized
            | Code::InvalidConfig
            | Code::SigningKeyMissing
            | Code::EvidenceInvalid
            | Code::TrustRootMissing
            | Code::TrustRootChanged
            | Code::ShallowClone => 7,
            Code::RemoteFailed => 8,
        }
    }

    /// HTTP status for the API adapter (SPEC §7).
    pub fn http_status(self) -> u16 {
        match self {
            Code::McpCannotApply
            | Code::NotAnApplier
            | Code::NotTheCreator
            | Code::NotAnAdmin
            | Code::TenantMismatch => 403,
            Code::UserIdRequired => 401,
            Code::NotFound => 404,
            Code::AmbiguousId => 400,
            Code::NotPending | Code::Conflict | Code::Locked | Code::DirtyWorktree => 409,
            Code::Expired
            | Code::TypeNotApplicable
            | Code::TypeNotCreatable
            | Code::SpecMissing
            | Code::InvalidSpec
            | Code::UnknownProvider
            | Code::InvalidTargetUrl
            | Code::RawSecret
            | Code::EvidenceMismatch
            | Code::BaseChanged
            | Code::InvalidDraft => 422,
            Code::Internal
            | Code::NotARepo
            | Code::NotInitialized
            | Code::InvalidConfig
            | Code::SigningKeyMissing
            | Code::EvidenceInvalid
            | Code::TrustRootMissing
            | Code::TrustRootChanged
            | Code::ShallowClone => 500,
            Code::RemoteFailed => 502,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The outcome of one named check, as reported by `validate` and `apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub code: Code,
    pub ok: bool,
    pub message: String,
}

impl Check {
    pub fn pass(code: Code, message: impl Into<String>) -> Self {
        Check { code, ok: true, message: message.into() }
    }

    pub fn fail(code: Code, message: impl Into<String>) -> Self {
        Check { code, ok: false, message: message.into() }
    }
}

/// Every error the library returns.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: Code,
    pub message: String,
    pub hint: Option<String>,
    /// The checks behind a refusal; empty for errors that are not check failures.
    pub checks: Vec<Check>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), hint: None, checks: Vec::new() }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(Code::Internal, message)
            .with_hint("this is a bug in zen-draft or a broken repository; please report it with the command you ran")
    }

    /// Builds the refusal for a set of checks of which at least one failed.
    /// The primary code is the failed check with the smallest exit status
    /// (SPEC §4: "the exit status is the smallest of their exits"), first in
    /// check order among equals.
    pub fn from_checks(checks: Vec<Check>) -> Self {
        let failed: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
        let primary = failed.iter().min_by_key(|c| c.code.exit_code()).map(|c| c.code).unwrap_or(Code::Internal);
        let message = match failed.as_slice() {
            [one] => one.message.clone(),
            many => format!(
                "{} checks failed: {}",
                many.len(),
                many.iter().map(|c| c.code.as_str()).collect::<Vec<_>>().join(", ")
            ),
        };
        let hint = hint_for(primary);
        Error { code: primary, message, hint, checks }
    }

    pub fn exit_code(&self) -> u8 {
        self.code.exit_code()
    }
}

/// Default hints for check failures; errors raised elsewhere carry their own.
fn hint_for(code: Code) -> Option<String> {
    let hint = match code {
        Code::NotPending => "only pending drafts can change; see `draft show <id>` for what happened to it",
        Code::Expired => "the draft outlived its TTL; ask the proposer for a new draft",
        Code::TenantMismatch => {
            "the draft belongs to another tenant; run with that tenant's ZEN_TENANT or ask for a draft for yours"
        }
        Code::TypeNotApplicable | Code::TypeNotCreatable => {
            "only `endpoint` drafts are supported in V1; route drafts arrive in V1.1"
        }
        Code::SpecMissing | Code::InvalidSpec => {
            "fix the proposed spec and create a new draft (see `draft create --help`)"
        }
        Code::UnknownProvider => "use one of the providers this repo allows (see .zen/config.yaml `providers`)",
        Code::InvalidTargetUrl => "use a public https:// URL with no credentials in it",
        Code::RawSecret => {
            "store the secret in a secret manager and pass a reference such as vault://kv/path in secret_ref"
        }
        Code::EvidenceMismatch => {
            "the draft does not match its signed creation record; do not apply it, and investigate with `draft evidence verify`"
        }
        Code::BaseChanged => "main changed since the draft was proposed; ask for a new draft against the current main",
        Code::InvalidDraft => {
            "the draft file on the drafts branch cannot be read; inspect it with `git show <drafts-branch>:<path>`"
        }
        _ => return None,
    };
    Some(hint.to_string())
}

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Self {
        Error::internal(format!("git: {}", e.message()))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(format!("i/o: {e}"))
    }
}

#[cfg(test)]
mod reference_tests {
    use super::Code;

    /// `docs/reference.md` lists every code with its exit status and HTTP status.
    #[test]
    fn every_code_is_in_the_reference_with_its_exit_and_http_status() {
        let reference = include_str!("../docs/reference.md");
        for code in Code::ALL {
            let row = format!("| `{}` | {} | {} |", code.as_str(), code.exit_code(), code.http_status());
            assert!(reference.contains(&row), "docs/reference.md lacks the row {row}");
        }
    }
}
