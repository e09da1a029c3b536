//! `draft discard`: withdraw a pending draft, keeping it for audit.

use super::Context;
use super::output::{Report, Style};
use crate::error::Result;
use crate::service::Discarded;
use std::io::{self, Write};

/// Mark a pending draft discarded (its file stays on the drafts branch).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Draft id, or any unique prefix of it.
    id: String,
    /// Why it was discarded; recorded in the draft.
    #[arg(long)]
    reason: Option<String>,
    #[command(flatten)]
    push: super::sync::PushArgs,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    super::sync::write(ctx, &args.push, |service| service.discard(&args.id, args.reason.as_deref()))
}

impl Report for Discarded {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(out, "{} draft {} (commit {})", style.yellow("Discarded"), self.id, &self.commit[..12])
    }
}
