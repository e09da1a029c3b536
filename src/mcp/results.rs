//! Tool results: what a call returns to the agent.
//!
//! A success is the JSON document `draft --json` prints for the same command
//! (SPEC §3), as structured content matching the tool's output schema and as
//! the same JSON in text, plus links to the drafts it concerns. A refusal is
//! a tool error (`isError: true`) whose text starts with `CODE: message`,
//! then the failed checks and a hint in terms of tool arguments (the CLI's
//! hints name flags an agent cannot pass), then the CLI's `--json` error
//! document as a second text block.
//!
//! Only what the service returned is rendered here: nothing the agent sent is
//! echoed, so a secret it passed by mistake never comes back in an error.

use super::resources;
use crate::error::{Code, Error};
use rmcp::ErrorData;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};
use std::fmt::Write;

/// A tool's outcome: its document and the drafts it concerns.
pub struct Done {
    pub value: Value,
    /// Draft ids whose resources the result links.
    pub drafts: Vec<String>,
}

impl Done {
    pub fn about(value: Value, draft: &str) -> Done {
        Done { value, drafts: vec![draft.to_string()] }
    }

    pub fn plain(value: Value) -> Done {
        Done { value, drafts: Vec::new() }
    }
}

/// A successful call: the CLI's JSON, pretty-printed, the same as structured
/// content, and a resource link per draft it concerns.
pub fn success(done: Done) -> CallToolResult {
    let mut value = done.value;
    if let Some(object) = value.as_object_mut() {
        object.insert("schema_version".into(), crate::cli::output::SCHEMA_VERSION.into());
    }
    let text = serde_json::to_string_pretty(&value).expect("plain data");
    let mut content = vec![ContentBlock::text(text)];
    content.extend(done.drafts.iter().map(|id| ContentBlock::resource_link(resources::draft_link(id))));
    let mut result = CallToolResult::success(content);
    result.structured_content = Some(value);
    result
}

/// A refused call: a tool error an agent can read and act on.
pub fn refusal(error: &Error) -> CallToolResult {
    let hint = tool_hint(error);
    let mut text = format!("{}: {}", error.code, error.message);
    let failed: Vec<_> = error.checks.iter().filter(|c| !c.ok).collect();
    if !failed.is_empty() {
        text.push_str("\nfailed checks:");
        for check in failed {
            let _ = write!(text, "\n  {:<20} {}", check.code.as_str(), check.message);
        }
    }
    if let Some(hint) = &hint {
        let _ = write!(text, "\nhint: {hint}");
    }
    // The error document goes as a second text block, not as structured
    // content: that must match the tool's output schema, which describes a
    // success (and clients hold error results to it too).
    let document = json!({ "schema_version": crate::cli::output::SCHEMA_VERSION, "error": {
        "code": error.code,
        "message": error.message,
        "hint": hint,
        "checks": error.checks,
    }});
    CallToolResult::error(vec![ContentBlock::text(text), ContentBlock::text(document.to_string())])
}

/// A refused resource or prompt read, as a protocol error.
pub fn protocol_error(error: &Error) -> ErrorData {
    let message = format!("{}: {}", error.code, error.message);
    let data = Some(json!({ "code": error.code, "hint": tool_hint(error) }));
    match error.code {
        Code::NotFound => ErrorData::resource_not_found(message, data),
        _ => ErrorData::internal_error(message, data),
    }
}

/// The hint for an agent: in terms of tool arguments and other tools, never
/// CLI flags or commands it cannot run. Codes an agent can fix get their own;
/// others keep the service's hint unless it speaks of the command line, and
/// then say who can fix it.
fn tool_hint(error: &Error) -> Option<String> {
    let own = match error.code {
        Code::SpecMissing => "pass name, provider and target_url; nothing was written",
        Code::InvalidSpec => {
            "fix the argument the failed check names (name: lowercase letters, digits and '-'; events: a list of strings; ttl: like 12h, 7d or 2w) and call again"
        }
        Code::UnknownProvider => "pass one of the providers the repo allows in provider",
        Code::InvalidTargetUrl => {
            "pass a public https:// URL in target_url, with no credentials and no private or loopback address"
        }
        Code::RawSecret => {
            "never pass a secret: store it in a secret manager and pass a reference such as vault://kv/path in secret_ref; nothing was written"
        }
        Code::TypeNotCreatable => "only endpoint drafts can be proposed: call create_endpoint_draft",
        Code::NotFound => "call list_drafts (or read draft://drafts) for the ids of the drafts there are",
        Code::NotPending => {
            "only a pending or expired draft can be discarded; call show_draft to see what happened to it"
        }
        Code::NotTheCreator => "you can discard only the drafts you proposed; ask the person who reviews drafts",
        Code::McpCannotApply | Code::UserIdRequired | Code::NotAnApplier => {
            "agents cannot apply drafts: give the draft's id to the person who reviews it"
        }
        Code::Conflict | Code::Locked => "another writer was busy; call again",
        Code::SigningKeyMissing => {
            "the server cannot sign as you: the person who runs it must list your key; calling again will not help"
        }
        _ => "",
    };
    if !own.is_empty() {
        return Some(own.to_string());
    }
    let hint = error.hint.as_deref()?;
    let speaks_cli = hint.contains("`draft ") || hint.contains("--") || hint.contains("ZEN_");
    Some(if speaks_cli {
        "the person who runs this server can fix this; calling again with other arguments will not help".to_string()
    } else {
        hint.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No refusal an agent gets points it at a flag or a command.
    #[test]
    fn hints_for_agents_never_name_cli_flags_or_commands() {
        let cli_hints =
            ["see `draft create --help`", "pass (--digest) again", "start with `--read-only`", "set ZEN_SIGNING_KEY"];
        for code in Code::ALL {
            for cli in cli_hints {
                let hint = tool_hint(&Error::new(code, "m").with_hint(cli)).unwrap_or_default();
                assert!(
                    !hint.contains("`draft ") && !hint.contains("--") && !hint.contains("ZEN_"),
                    "{code:?}: {hint}"
                );
            }
        }
        let plain = Error::new(Code::Internal, "m").with_hint("try again in a minute");
        assert_eq!(tool_hint(&plain).as_deref(), Some("try again in a minute"), "a plain hint is kept");
    }
}
