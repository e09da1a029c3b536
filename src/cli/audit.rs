//! `draft audit`: the gate's rules over history, for forges that run no
//! custom hooks. Run it as a required status check on main.

use super::Context;
use super::output::{Report, Style};
use crate::error::{Check, Code, Error, Result};
use crate::service::AuditReport;
use std::io::{self, Write};

/// Check history by the gate's rules, read-only: every violation in one list (exit 7 if any).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Judge the drafts branch's commits after this one only (the log is always checked whole).
    #[arg(long, value_name = "REV")]
    since: Option<String>,
    /// The trust root to hold the log to (default: the one this clone pinned).
    #[arg(long, value_name = "DIGEST")]
    trust_root: Option<String>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let report = ctx.service()?.audit(args.since.as_deref(), args.trust_root.as_deref())?;
    if report.trust_root.is_none() && report.ok {
        eprintln!(
            "warning[TRUST_ROOT_MISSING]: this log has no trust root, so changes to .zen/ were not judged; an admin runs `draft trust init`"
        );
    }
    if report.ok {
        ctx.print(&report)?;
        return Ok(0);
    }
    let checks = report
        .violations
        .iter()
        .map(|v| Check::fail(Code::EvidenceInvalid, format!("{} {}: {}", v.code, v.refname, v.message)))
        .collect();
    Err(Error {
        code: Code::EvidenceInvalid,
        message: format!("{} violations of the gate's rules", report.violations.len()),
        hint: Some("each names its rule; a history that breaks them did not go through zen-draft".into()),
        checks,
    })
}

impl Report for AuditReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(out, "{} every rule holds over this history.", style.green("Audited:"))?;
        if let Some(size) = self.size {
            writeln!(out, "  log: {size} records")?;
        }
        if let Some(root) = &self.trust_root {
            writeln!(out, "  trust root: {root}")?;
        }
        Ok(())
    }
}
