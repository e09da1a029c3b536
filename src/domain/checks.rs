//! The checks that guard drafts: at creation (SPEC §3 "Checks at creation")
//! and before apply (SPEC §3 "Apply", step 2).
//!
//! Every check is evaluated and reported; a check that cannot be evaluated
//! counts as failed. Messages name fields, never values: a value may be a
//! secret, and refusals are shown to agents and written to logs.

use crate::domain::config::Config;
use crate::domain::draft::{Draft, State};
use crate::domain::secrets;
use crate::domain::spec::{self, EndpointSpec, MAX_DESCRIPTION, MAX_EVENTS};
use crate::domain::target_url;
use crate::error::{Check, Code};
use chrono::{DateTime, Utc};
use serde_json::Value;

const KNOWN_FIELDS: [&str; 6] = ["name", "provider", "target_url", "secret_ref", "description", "events"];
const REQUIRED_FIELDS: [&str; 3] = ["name", "provider", "target_url"];

/// The outcome of checking a proposed endpoint spec.
#[derive(Debug, Clone)]
pub struct SpecReport {
    /// SPEC_MISSING, INVALID_SPEC, UNKNOWN_PROVIDER, INVALID_TARGET_URL, RAW_SECRET, in that order.
    pub checks: Vec<Check>,
    /// The spec, when every check passed.
    pub spec: Option<EndpointSpec>,
}

impl SpecReport {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// Checks a proposed endpoint spec against the repo's config.
pub fn check_endpoint_spec(value: Option<&Value>, config: &Config) -> SpecReport {
    let not_evaluated = |code, why: &str| Check::fail(code, format!("not evaluated: {why}"));
    let raw_secret = check_raw_secrets(value);
    let fields = match value {
        None | Some(Value::Null) => {
            let why = "proposed_spec is missing";
            return SpecReport {
                checks: vec![
                    Check::fail(Code::SpecMissing, "the draft has no proposed_spec"),
                    not_evaluated(Code::InvalidSpec, why),
                    not_evaluated(Code::UnknownProvider, why),
                    not_evaluated(Code::InvalidTargetUrl, why),
                    raw_secret,
                ],
                spec: None,
            };
        }
        Some(Value::Object(fields)) => fields,
        Some(_) => {
            let why = "proposed_spec is not a mapping";
            return SpecReport {
                checks: vec![
                    Check::fail(Code::SpecMissing, "proposed_spec must be a mapping of endpoint fields"),
                    not_evaluated(Code::InvalidSpec, why),
                    not_evaluated(Code::UnknownProvider, why),
                    not_evaluated(Code::InvalidTargetUrl, why),
                    raw_secret,
                ],
                spec: None,
            };
        }
    };

    let missing: Vec<&str> = REQUIRED_FIELDS
        .into_iter()
        .filter(|f| fields.get(*f).is_none_or(|v| v.as_str().is_some_and(|s| s.trim().is_empty()) || v.is_null()))
        .collect();
    let spec_missing = if missing.is_empty() {
        Check::pass(Code::SpecMissing, "name, provider and target_url are present")
    } else {
        Check::fail(Code::SpecMissing, format!("proposed_spec is missing {}", missing.join(", ")))
    };

    let problems = shape_problems(fields);
    let invalid_spec = if problems.is_empty() {
        Check::pass(Code::InvalidSpec, "every field is well-formed")
    } else {
        Check::fail(Code::InvalidSpec, problems.join("; "))
    };

    let provider = match fields.get("provider").and_then(Value::as_str) {
        None => not_evaluated(Code::UnknownProvider, "no provider"),
        Some(p) if config.providers().contains(&p) => {
            Check::pass(Code::UnknownProvider, format!("provider {p} is allowed"))
        }
        Some(p) => Check::fail(
            Code::UnknownProvider,
            format!("provider {} is not one of: {}", describe_value(p), config.providers().join(", ")),
        ),
    };

    let target = match fields.get("target_url").and_then(Value::as_str) {
        None => not_evaluated(Code::InvalidTargetUrl, "no target_url"),
        Some(url) => match target_url::check_target_url(url, &config.allow_http_hosts) {
            Ok(()) => Check::pass(Code::InvalidTargetUrl, "target_url is a public https URL"),
            Err(problem) => {
                Check::fail(Code::InvalidTargetUrl, format!("target_url: {}", secrets::redact(&problem.to_string())))
            }
        },
    };

    let checks = vec![spec_missing, invalid_spec, provider, target, raw_secret];
    let spec = if checks.iter().all(|c| c.ok) {
        serde_json::from_value::<EndpointSpec>(Value::Object(fields.clone())).ok()
    } else {
        None
    };
    SpecReport { checks, spec }
}

/// Problems with field names and types: unknown fields, a bad name, bad events.
fn shape_problems(fields: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut problems = Vec::new();
    for key in fields.keys() {
        if !KNOWN_FIELDS.contains(&key.as_str()) {
            problems.push(format!("unknown field {} (known: {})", describe_value(key), KNOWN_FIELDS.join(", ")));
        }
    }
    for field in ["name", "provider", "target_url", "secret_ref", "description"] {
        let optional_null = |v: &Value| v.is_null() && !REQUIRED_FIELDS.contains(&field);
        if let Some(v) = fields.get(field)
            && !v.is_string()
            && !optional_null(v)
        {
            problems.push(format!("{field} must be a string"));
        }
    }
    if let Some(name) = fields.get("name").and_then(Value::as_str)
        && !spec::name_is_valid(name)
    {
        problems.push(
            "name must match ^[a-z0-9][a-z0-9-]{0,62}$ (lowercase letters, digits and '-'; it becomes endpoints/<name>.yaml)"
                .to_string(),
        );
    }
    if let Some(description) = fields.get("description").and_then(Value::as_str)
        && description.chars().count() > MAX_DESCRIPTION
    {
        problems.push(format!("description is longer than {MAX_DESCRIPTION} characters"));
    }
    match fields.get("events") {
        None | Some(Value::Null) => {}
        Some(Value::Array(events)) => {
            if events.len() > MAX_EVENTS {
                problems.push(format!("events has more than {MAX_EVENTS} entries"));
            }
            if events.iter().any(|e| !e.as_str().is_some_and(spec::event_is_valid)) {
                problems.push("events must be names like payment_intent.succeeded (letters, digits and ._:*/-)".into());
            }
        }
        Some(_) => problems.push("events must be a list".into()),
    }
    problems
}

/// RAW_SECRET: every string in the spec, at any depth, is scanned; `secret_ref`
/// must be a reference.
fn check_raw_secrets(value: Option<&Value>) -> Check {
    let mut found: Vec<String> = Vec::new();
    if let Some(value) = value {
        scan_strings(value, "proposed_spec", &mut found);
        if let Some(secret_ref) = value.get("secret_ref").and_then(Value::as_str) {
            let already = found.iter().any(|f| f.starts_with("proposed_spec.secret_ref"));
            if !already && !secrets::is_secret_reference(secret_ref) {
                found.push(
                    "proposed_spec.secret_ref is not a reference (use vault://, aws-sm://, gcp-sm://, azure-kv://, op:// or env://)"
                        .to_string(),
                );
            }
        }
    }
    if found.is_empty() {
        Check::pass(Code::RawSecret, "no raw secret found")
    } else {
        Check::fail(Code::RawSecret, found.join("; "))
    }
}

/// Scans a free-text field outside the spec (a discard reason, say).
pub fn check_text_for_secret(field: &str, text: &str) -> Check {
    match secrets::find_raw_secret(text) {
        Some(kind) => Check::fail(Code::RawSecret, format!("{field} contains what looks like {}", kind.describe())),
        None => Check::pass(Code::RawSecret, format!("no raw secret in {field}")),
    }
}

fn scan_strings(value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Some(kind) = secrets::find_raw_secret(s) {
                found.push(format!("{path} contains what looks like {}", kind.describe()));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                scan_strings(item, &format!("{path}[{i}]"), found);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let child = if plain_token(key) { format!("{path}.{key}") } else { format!("{path}.<field>") };
                if secrets::find_raw_secret(key).is_some() {
                    found.push(format!("{path} has a field name that looks like a secret"));
                }
                scan_strings(item, &child, found);
            }
        }
        _ => {}
    }
}

fn plain_token(text: &str) -> bool {
    !text.is_empty() && text.len() <= 40 && text.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// Quotes a user value in a message only when it is short, plain and cannot be a secret.
pub fn describe_value(text: &str) -> String {
    if plain_token(text) && secrets::find_raw_secret(text).is_none() {
        format!("{text:?}")
    } else {
        "(value not shown)".to_string()
    }
}

/// What apply and validate know about a draft besides the draft itself.
#[derive(Debug, Clone)]
pub struct DraftContext<'a> {
    pub now: DateTime<Utc>,
    /// The tenant of whoever asks: `ZEN_TENANT`, else the repo's.
    pub tenant: &'a str,
    pub config: &'a Config,
    /// Blob id of the draft's resource file on main now, if it exists.
    pub current_base: Option<&'a str>,
}

/// The draft checks of SPEC §3 "Apply" step 2, in order, all evaluated.
pub fn check_draft(draft: &Draft, ctx: &DraftContext<'_>) -> Vec<Check> {
    let mut checks = Vec::new();
    let state = draft.state(ctx.now);
    checks.push(match state {
        State::Pending | State::Expired => Check::pass(Code::NotPending, "the draft is pending"),
        other => Check::fail(Code::NotPending, format!("the draft is {other}, not pending")),
    });
    checks.push(if ctx.now < draft.expires_at {
        Check::pass(Code::Expired, format!("expires at {}", draft.expires_at.to_rfc3339()))
    } else {
        Check::fail(Code::Expired, format!("the draft expired at {}", draft.expires_at.to_rfc3339()))
    });
    checks.push(if draft.tenant == ctx.tenant {
        Check::pass(Code::TenantMismatch, format!("tenant {} matches", draft.tenant))
    } else {
        Check::fail(
            Code::TenantMismatch,
            format!(
                "the draft belongs to tenant {}, not {}",
                describe_value(&draft.tenant),
                describe_value(ctx.tenant)
            ),
        )
    });
    checks.push(if draft.draft_type.is_supported() {
        Check::pass(Code::TypeNotApplicable, "endpoint drafts can be applied")
    } else {
        Check::fail(
            Code::TypeNotApplicable,
            format!("{} drafts cannot be applied in V1 ({} drafts arrive in V1.1)", draft.draft_type, draft.draft_type),
        )
    });
    let report = check_endpoint_spec(draft.proposed_spec.as_ref(), ctx.config);
    checks.extend(report.checks);
    checks.push(check_base(draft, ctx.current_base));
    checks
}

/// `BASE_CHANGED`: the resource on main is still the blob the draft was
/// proposed against. It needs only a valid name to be evaluated.
fn check_base(draft: &Draft, current: Option<&str>) -> Check {
    let Some(path) = draft.spec_name().filter(|n| spec::name_is_valid(n)).map(spec::resource_path) else {
        return Check::fail(Code::BaseChanged, "not evaluated: the spec has no valid name");
    };
    let recorded = draft.base.as_deref();
    if recorded == current {
        return Check::pass(Code::BaseChanged, "the resource on main is the one the draft was proposed against");
    }
    let what = match recorded {
        None => "was created on main",
        Some(_) if current.is_none() => "was removed from main",
        Some(_) => "changed on main",
    };
    Check::fail(Code::BaseChanged, format!("{path} {what} after the draft was proposed"))
}
