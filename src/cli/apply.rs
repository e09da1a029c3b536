//! `draft apply`: a person merges a reviewed draft into main.

use super::Context;
use super::output::{Report, Style};
use crate::error::Result;
use crate::service::{Applied, WorkTreeFollow};
use std::io::{self, Write};

/// Apply a draft to main (people only): every check must pass, then one commit on main writes the resource.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Draft id, or any unique prefix of it.
    id: String,
    /// The spec digest you reviewed (from `draft show`); apply refuses if the spec differs.
    #[arg(long, value_name = "D")]
    digest: Option<String>,
    #[command(flatten)]
    push: super::sync::PushArgs,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    super::sync::write(ctx, &args.push, |service| service.apply(&args.id, args.digest.as_deref()))
}

impl Report for Applied {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(
            out,
            "{} draft {} to {} (commit {})",
            style.green("Applied"),
            self.id,
            self.resource,
            &self.commit[..12]
        )?;
        if self.work_tree == WorkTreeFollow::Pending {
            writeln!(
                out,
                "{} the work tree has not followed main yet (the index was busy); the next draft command brings {} in",
                style.yellow("note:"),
                self.resource
            )?;
        }
        writeln!(out, "The signed draft_applied record is on that commit: draft evidence prove {}", &self.id)
    }
}
