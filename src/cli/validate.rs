//! `draft validate`: run apply's draft checks, for CI. Exit 4 if any fails.

use super::Context;
use super::output::{Report, Style, write_checks};
use crate::error::Result;
use crate::service::{ValidateScope, Validated};
use serde::Serialize;
use std::io::{self, Write};

/// Run every draft check apply runs (not the identity ones) on drafts; exit 4 if any fails.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Draft ids or unique prefixes (default: every pending draft, and unreadable files).
    ids: Vec<String>,
    /// Every draft on the branch, including expired, applied and discarded ones.
    #[arg(long, conflicts_with = "ids")]
    all: bool,
}

#[derive(Serialize)]
struct ValidateReport {
    results: Vec<Validated>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let scope = if args.all {
        ValidateScope::All
    } else if args.ids.is_empty() {
        ValidateScope::Open
    } else {
        ValidateScope::Ids(args.ids.clone())
    };
    let service = ctx.service()?;
    let results = service.validate(&scope)?;
    ctx.notice_missing_evidence(&service);
    let failed = results.iter().any(|r| !r.ok);
    ctx.print(&ValidateReport { results })?;
    Ok(if failed { 4 } else { 0 })
}

impl Report for ValidateReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.results.is_empty() {
            return writeln!(out, "No drafts to validate.");
        }
        for result in &self.results {
            let verdict = if result.ok { style.green("ok") } else { style.red("FAILED") };
            let passed = result.checks.iter().filter(|c| c.ok).count();
            writeln!(out, "{} {verdict} ({passed} of {} checks passed)", style.bold(&result.id), result.checks.len())?;
            let failed: Vec<_> = result.checks.iter().filter(|c| !c.ok).cloned().collect();
            write_checks(out, style, &failed)?;
            if !result.conflicts.is_empty() {
                writeln!(
                    out,
                    "  {} {} other pending draft{} the same resource ({}): applying one makes the rest BASE_CHANGED",
                    style.yellow("note"),
                    result.conflicts.len(),
                    if result.conflicts.len() == 1 { " proposes" } else { "s propose" },
                    result.conflicts.join(", ")
                )?;
            }
        }
        let failed = self.results.iter().filter(|r| !r.ok).count();
        writeln!(out, "{} of {} drafts passed.", self.results.len() - failed, self.results.len())
    }
}
