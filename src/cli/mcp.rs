//! `draft mcp`: the MCP server for agents on stdio (SPEC §6).
//!
//! Only the entry point lives here; the server is `crate::mcp`. This command
//! must never print to stdout: once it starts, stdout carries the protocol.

use super::Context;
use crate::error::Result;

/// Serve the Model Context Protocol on stdin/stdout, acting as the agent ZEN_AGENT_ID (default mcp-agent).
///
/// Tools: create_endpoint_draft, list_drafts, show_draft, discard_draft. There is no apply tool: a human applies
/// drafts with `draft apply`. Evidence is signed with ZEN_SIGNING_KEY, which must be listed for the agent in
/// .zen/allowed_signers. Diagnostics go to stderr.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(ctx: &Context, _args: &Args) -> Result<u8> {
    crate::mcp::serve_stdio(ctx.repo.clone())?;
    Ok(0)
}
