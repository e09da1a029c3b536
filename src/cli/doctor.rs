//! `draft doctor`: what this clone lacks or owes, and the command for each.

use super::Context;
use super::output::{Report, Style};
use crate::error::Result;
use crate::service::DoctorReport;
use std::io::{self, Write};

/// Check this clone against its central repository: the notes refspec, unpushed operations, refs that lag, the pinned log head.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The remote (default: git config zen.remote, else origin).
    #[arg(long, value_name = "R")]
    remote: Option<String>,
    /// Also ask the remote where its refs are (`git ls-remote`), to tell whether this clone's view of it is stale.
    #[arg(long)]
    online: bool,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let report = ctx.service()?.with_remote(args.remote.as_deref())?.doctor(args.online)?;
    ctx.print(&report)?;
    Ok(0)
}

impl Report for DoctorReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        for finding in &self.findings {
            let mark = if finding.ok { style.green("ok  ") } else { style.yellow("todo") };
            writeln!(out, "  {mark} {:<14} {}", finding.check, finding.message)?;
            if let Some(fix) = &finding.fix {
                writeln!(out, "       {:<14} fix: {}", "", style.bold(fix))?;
            }
        }
        if self.ok {
            writeln!(out, "This clone is in step with {}.", self.remote)
        } else {
            writeln!(out, "Run the commands above to bring this clone in step with {}.", self.remote)
        }
    }
}
