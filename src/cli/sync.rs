//! `draft sync`, and the `--push` / `--remote` flags of the writing commands.

use super::Context;
use super::output::{Report, Style};
use crate::error::Result;
use crate::service::{Landed, Outcome, Service, SyncReport};
use serde::Serialize;
use std::io::{self, Write};

/// Exchange drafts and evidence with the central repository: fetch, take in others' work, replay this clone's own on top, push.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The remote (default: git config zen.remote, else origin).
    #[arg(long, value_name = "R")]
    remote: Option<String>,
    /// Fetch and bring this clone up to date, but push nothing.
    #[arg(long)]
    no_push: bool,
}

/// `--push` and `--remote` on create, discard, apply and gc.
#[derive(Debug, Clone, clap::Args)]
pub struct PushArgs {
    /// Fetch first, do this on the remote's tips, and push it (retrying if another clone pushed first).
    #[arg(long)]
    push: bool,
    /// The remote for --push (default: git config zen.remote, else origin).
    #[arg(long, value_name = "R", requires = "push")]
    remote: Option<String>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let report = ctx.service()?.with_remote(args.remote.as_deref())?.sync(!args.no_push)?;
    ctx.print(&report)?;
    Ok(0)
}

/// Runs a writer, pushing what it made when `--push` asks for it.
pub fn write<T: Landed + Report>(
    ctx: &Context,
    push: &PushArgs,
    operation: impl FnOnce(&Service) -> Result<T>,
) -> Result<u8> {
    let service = ctx.service()?.with_remote(push.remote.as_deref())?;
    if !push.push {
        ctx.print(&operation(&service)?)?;
        return Ok(0);
    }
    let (made, report) = service.pushing(|| operation(&service))?;
    ctx.print(&Pushed { made, push: report })?;
    Ok(0)
}

/// A writer's report with what its push did.
#[derive(Serialize)]
struct Pushed<T> {
    #[serde(flatten)]
    made: T,
    push: SyncReport,
}

impl<T: Report> Report for Pushed<T> {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        self.made.human(out, style)?;
        self.push.human(out, style)
    }
}

impl Report for SyncReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        for op in &self.operations {
            let (mark, text) = match op.outcome {
                Outcome::Kept => (style.green("kept    "), "ahead of the remote"),
                Outcome::Replayed => (style.green("replayed"), "made again on the remote's tips, at a new position"),
                Outcome::AlreadyOnRemote => (style.dim("on remote"), "the remote already has it"),
                Outcome::Dropped => (style.red("dropped "), "it can no longer happen"),
                Outcome::Unpushed => (style.yellow("unpushed"), "it stays in this clone"),
            };
            let why = match (&op.code, &op.reason) {
                (Some(code), Some(reason)) => format!(": {code}: {reason}"),
                _ => String::new(),
            };
            // A change to `.zen/` is of no draft.
            let of = if op.draft_id.is_empty() { String::new() } else { format!(" of draft {}", op.draft_id) };
            writeln!(out, "  {mark} {}{of}: {text}{why}", op.event)?;
        }
        for r in &self.updated {
            writeln!(out, "  {} {r} from {}", style.cyan("updated"), self.remote)?;
        }
        if self.work_tree == Some(crate::service::WorkTreeFollow::Pending) {
            writeln!(
                out,
                "{} the work tree has not followed main yet; the next draft command brings it in",
                style.yellow("note:")
            )?;
        }
        if self.pushed.is_empty() {
            let owed = if self.owes() { " (some work stays unpushed, see above)" } else { "" };
            writeln!(out, "Nothing pushed to {}{owed}.", self.remote)
        } else {
            let refs: Vec<&str> = self.pushed.iter().map(|p| p.refname.as_str()).collect();
            writeln!(out, "{} to {}: {}", style.green("Pushed"), self.remote, refs.join(", "))
        }
    }
}
