//! The one door to YAML. Everything zen-draft reads or writes as YAML goes
//! through here, so the parser choice and its limits live in one place.
//!
//! Why serde-saphyr: `serde_yaml` is archived upstream. serde-saphyr is
//! maintained, has no unsafe code, and enforces budgets against hostile input
//! (alias bombs, deep nesting, event storms), which matters because agents
//! write the files we parse. Duplicate keys are errors, never "last wins".
//!
//! Must never: put a parsed value into an error message (values may be secrets),
//! or accept input larger than [`MAX_DOCUMENT_BYTES`].

mod plain;
#[cfg(test)]
mod tests;

use crate::domain::secrets;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;

/// Largest draft or proposal file we parse. Real drafts are under 2 KiB.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// Deepest nesting a document may have; a draft is four levels deep.
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// What went wrong, with any secret-looking token and every quoted value removed.
    pub message: String,
    pub line: Option<u64>,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Parses one YAML document from untrusted bytes into `T`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, YamlError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(YamlError {
            message: format!("file is {} bytes; the limit is {MAX_DOCUMENT_BYTES}", bytes.len()),
            line: None,
        });
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| YamlError { message: format!("not valid UTF-8 (at byte {})", e.valid_up_to()), line: None })?;
    // Most documents are files we wrote ourselves; read those without the
    // full parser. Anything else, and anything that does not fit `T`, goes
    // through it, so every error is the full parser's.
    if let Some(node) = plain::parse(text)
        && let Ok(parsed) = T::deserialize(&node)
    {
        return Ok(parsed);
    }
    parse_fully(text)
}

/// The full YAML parser, with its budgets.
fn parse_fully<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    let options = serde_saphyr::options! {
        budget: Some(budget()),
        alias_limits: alias_limits(),
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::Error,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| YamlError {
        message: sanitize(&e.to_string()),
        line: e.location().map(|l| l.line()).filter(|&l| l > 0),
    })
}

/// Renders `value` as YAML. Deterministic: the same value gives the same bytes.
pub fn render<T: Serialize>(value: &T) -> String {
    let mut text = serde_saphyr::to_string(value).expect("our own types always serialize to YAML");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = Some(MAX_DOCUMENT_BYTES);
    budget.max_events = 20_000;
    budget.max_aliases = 100;
    budget.max_anchors = 100;
    budget.max_depth = MAX_DEPTH;
    budget.max_documents = 1;
    budget.max_nodes = 10_000;
    budget.max_total_scalar_bytes = MAX_DOCUMENT_BYTES;
    budget
}

fn alias_limits() -> serde_saphyr::options::AliasLimits {
    let mut limits = serde_saphyr::options::AliasLimits::default();
    limits.max_total_replayed_events = 10_000;
    limits.max_replay_stack_depth = MAX_DEPTH;
    limits.max_alias_expansions_per_anchor = 100;
    limits
}

/// Parser messages can quote the offending value (`invalid type: string "…"`).
/// Values may be secrets, so every double-quoted span is dropped, and anything
/// left that still looks like a secret is redacted. Field names are quoted
/// with backticks by serde and survive.
fn sanitize(message: &str) -> String {
    let first_line = message.lines().next().unwrap_or_default();
    let mut out = String::with_capacity(first_line.len());
    let mut rest = first_line;
    // Double quotes hold values; backticks hold field names, or (after
    // "unknown variant") a value. A value never survives; a name only when
    // it is short and plain.
    while let Some(at) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[at] as char;
        out.push_str(&rest[..at]);
        let Some(len) = rest[at + 1..].find(quote) else {
            out.push(quote);
            out.push('…');
            rest = "";
            break;
        };
        let inside = &rest[at + 1..at + 1 + len];
        let is_value = quote == '"' || out.ends_with("unknown variant ");
        let plain = inside.len() <= 64 && inside.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        out.push(quote);
        out.push_str(if is_value || !plain { "…" } else { inside });
        out.push(quote);
        rest = &rest[at + 2 + len..];
    }
    out.push_str(rest);
    let out = secrets::redact(&out);
    let out = out.trim();
    // serde-saphyr appends its own position; we report the line separately.
    match out.rfind(" at line ") {
        Some(at) => out[..at].trim_end().to_string(),
        None => out.to_string(),
    }
}
