//! `draft mcp`: the MCP server for agents on stdio (SPEC §6).
//!
//! Only the entry point lives here; the server is `crate::mcp`. This command
//! must never print to stdout: once it starts, stdout carries the protocol.

use super::Context;
use crate::error::Result;

/// Serve the Model Context Protocol on stdin/stdout, acting as the agent ZEN_AGENT_ID (default mcp-agent).
///
/// Tools: create_endpoint_draft, list_drafts, show_draft, discard_draft; resources draft://drafts and
/// draft://drafts/{id}; the prompt propose_change. There is no apply tool: a person applies drafts with
/// `draft apply`. Evidence is signed with ZEN_SIGNING_KEY, which must be listed for the agent in
/// .zen/allowed_signers: the server checks that before it starts. Diagnostics go to stderr.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serve even when the agent's key cannot sign, offering only the tools that read.
    #[arg(long)]
    read_only: bool,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    crate::mcp::serve_stdio(ctx.repo.clone(), args.read_only)?;
    Ok(0)
}
