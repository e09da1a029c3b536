//! Tool results: what a call returns to the agent.
//!
//! A success is the JSON document `draft --json` prints for the same command
//! (SPEC §3), as text and as structured content. A refusal is a tool error
//! (`isError: true`) whose text starts with `CODE: message`, then the failed
//! checks and the hint, so the agent can correct itself; its structured content
//! is the CLI's `--json` error document.
//!
//! Only what the service returned is rendered here: nothing the agent sent is
//! echoed, so a secret it passed by mistake never comes back in an error.

use crate::error::Error;
use crate::service::{Listing, Shown};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};
use std::fmt::Write;

/// A successful call: the CLI's JSON, pretty-printed, plus the same as structured content.
pub fn success(mut value: Value) -> CallToolResult {
    if let Some(object) = value.as_object_mut() {
        object.insert("schema_version".into(), crate::cli::output::SCHEMA_VERSION.into());
    }
    let text = serde_json::to_string_pretty(&value).expect("plain data");
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(value);
    result
}

/// A refused call: a tool error an agent can read and act on.
pub fn refusal(error: &Error) -> CallToolResult {
    let mut text = format!("{}: {}", error.code, error.message);
    let failed: Vec<_> = error.checks.iter().filter(|c| !c.ok).collect();
    if !failed.is_empty() {
        text.push_str("\nfailed checks:");
        for check in failed {
            let _ = write!(text, "\n  {:<20} {}", check.code.as_str(), check.message);
        }
    }
    if let Some(hint) = &error.hint {
        let _ = write!(text, "\nhint: {hint}");
    }
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    result.structured_content = Some(json!({ "schema_version": crate::cli::output::SCHEMA_VERSION, "error": {
        "code": error.code,
        "message": error.message,
        "hint": error.hint,
        "checks": error.checks,
    }}));
    result
}

/// `draft --json list`: `{"drafts": [...]}`, unreadable files included with their error.
pub fn listing_json(listing: &Listing) -> Value {
    listing.to_json()
}

/// `draft --json show <id>`: the draft's fields, spec digest, resource and diff.
pub fn shown_json(shown: &Shown) -> Value {
    shown.to_json(true)
}
