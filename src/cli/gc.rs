//! `draft gc`: clean up expired drafts, a bounded number per run.

use super::Context;
use super::output::{Report, Style};
use crate::error::Result;
use crate::service::{GcReport, GcRequest};
use std::io::{self, Write};

/// Remove expired drafts' files from the drafts branch (oldest first, at most N per run); evidence is never removed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// At most this many drafts this run (default: gc_max_per_run in .zen/config.yaml).
    #[arg(long, value_name = "N")]
    max: Option<u32>,
    /// Only this tenant's drafts.
    #[arg(long, value_name = "T")]
    tenant: Option<String>,
    /// Print what would be removed; change nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    push: super::sync::PushArgs,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let request = GcRequest { max: args.max, tenant: args.tenant.clone(), dry_run: args.dry_run };
    super::sync::write(ctx, &args.push, |service| service.gc(&request))
}

impl Report for GcReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let verb = if self.dry_run { "Would remove" } else { "Removed" };
        if self.removed.is_empty() {
            writeln!(out, "No drafts to remove.")?;
        } else {
            writeln!(out, "{} {} drafts:", style.yellow(verb), self.removed.len())?;
            for removed in &self.removed {
                writeln!(
                    out,
                    "  {}  {:<9}  {}  expires {}",
                    removed.id, removed.state, removed.tenant, removed.expires_at
                )?;
            }
        }
        for id in &self.skipped {
            writeln!(
                out,
                "{} {id}: no signed draft_created record, left in place (see `draft evidence verify`)",
                style.red("skipped")
            )?;
        }
        writeln!(out, "{} removable drafts remain.", self.remaining)
    }
}
