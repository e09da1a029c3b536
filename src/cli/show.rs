//! `draft show`: everything a reviewer needs to decide on one draft.

use super::Context;
use super::output::{Report, Style};
use crate::domain::duration::relative;
use crate::error::Result;
use crate::service::Shown;
use chrono::Utc;
use serde::Serialize;
use serde_json::Value;
use std::io::{self, Write};

/// Show a draft: metadata, proposed spec, spec digest, evidence, and the diff against main.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Draft id, or any unique prefix of it.
    id: String,
    /// Leave out the diff.
    #[arg(long)]
    no_diff: bool,
}

#[derive(Serialize)]
#[serde(transparent)]
struct ShowReport {
    json: Value,
    #[serde(skip)]
    shown: Shown,
    #[serde(skip)]
    no_diff: bool,
}

/// Prints what a person is asked to approve: the draft, its checks and the
/// diff, as `show` prints it (for `apply`'s confirmation).
pub(crate) fn print_for_review(ctx: &Context, shown: Shown) -> Result<()> {
    let json = shown.to_json(true);
    ctx.print(&ShowReport { json, shown, no_diff: false })
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let service = ctx.service()?;
    let shown = service.show(&args.id)?;
    ctx.notice_missing_evidence(&service);
    let json = shown.to_json(!args.no_diff);
    ctx.print(&ShowReport { json, shown, no_diff: args.no_diff })?;
    Ok(0)
}

impl Report for ShowReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let view = &self.shown.view;
        let d = &view.draft;
        let now = Utc::now();
        writeln!(out, "{} {}", style.bold("draft"), style.bold(&view.id.to_string()))?;
        let field = |out: &mut dyn Write, k: &str, v: &str| writeln!(out, "  {k:<12} {v}");
        field(out, "type", d.draft_type.as_str())?;
        field(out, "status", &view.state.to_string())?;
        field(out, "tenant", &d.tenant)?;
        field(out, "created by", &d.created_by)?;
        field(out, "created at", &format!("{} ({})", d.created_at.to_rfc3339(), relative(d.created_at, now)))?;
        field(out, "expires at", &format!("{} ({})", d.expires_at.to_rfc3339(), relative(d.expires_at, now)))?;
        if let Some(by) = &d.applied_by {
            field(out, "applied by", &format!("{by} at {}", d.applied_at.map(|t| t.to_rfc3339()).unwrap_or_default()))?;
            field(out, "applied in", d.applied_commit.as_deref().unwrap_or("?"))?;
        }
        if let Some(by) = &d.discarded_by {
            field(
                out,
                "discarded by",
                &format!("{by} at {}", d.discarded_at.map(|t| t.to_rfc3339()).unwrap_or_default()),
            )?;
            if let Some(reason) = &d.reason {
                field(out, "reason", reason)?;
            }
        }
        let change = match (view.change, &self.shown.resource) {
            (Some(change), Some(resource)) => format!("{} {resource}", change.as_str()),
            (Some(change), None) => change.as_str().to_string(),
            _ => "-".to_string(),
        };
        field(out, "change", &change)?;
        field(out, "base", d.base.as_deref().unwrap_or("none (no such file on main when proposed)"))?;
        field(out, "evidence", &format!("{:?}", view.evidence).to_lowercase())?;
        field(out, "spec digest", self.shown.spec_digest.as_deref().unwrap_or("-"))?;
        if let Some(rationale) = &d.rationale {
            let mut lines = rationale.lines();
            field(out, "rationale", lines.next().unwrap_or_default())?;
            for line in lines {
                writeln!(out, "  {:<12} {line}", "")?;
            }
        }
        for link in &d.links {
            field(out, "link", link)?;
        }
        if let Some(agent) = &d.agent {
            let parts: Vec<String> = [("model", &agent.model), ("session", &agent.session), ("tool", &agent.tool)]
                .into_iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
                .collect();
            field(out, "agent run", &parts.join(", "))?;
        }
        writeln!(out)?;
        writeln!(out, "{}", style.bold("proposed spec:"))?;
        match &d.proposed_spec {
            Some(spec) => {
                for line in crate::yaml::render(spec).lines() {
                    writeln!(out, "  {line}")?;
                }
            }
            None => writeln!(out, "  (none)")?,
        }
        if !self.shown.checks.is_empty() {
            writeln!(out)?;
            let failed = self.shown.checks.iter().filter(|c| !c.ok).count();
            if failed == 0 {
                writeln!(out, "{}", style.bold("checks (apply runs these): all pass"))?;
            } else {
                writeln!(
                    out,
                    "{}",
                    style.bold(&format!("checks (apply runs these): {failed} fail, apply would refuse"))
                )?;
            }
            super::output::write_checks(out, style, &self.shown.checks)?;
        }
        if !self.shown.conflicts.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "{} {} other pending draft{} also {} {}: {}; applying any one makes the others BASE_CHANGED",
                style.yellow("conflict:"),
                self.shown.conflicts.len(),
                if self.shown.conflicts.len() == 1 { "" } else { "s" },
                if self.shown.conflicts.len() == 1 { "proposes" } else { "propose" },
                self.shown.resource.as_deref().unwrap_or("the same resource"),
                self.shown.conflicts.join(", ")
            )?;
        }
        if self.no_diff {
            return Ok(());
        }
        if let Some(base_diff) = &self.shown.base_diff {
            writeln!(out)?;
            writeln!(out, "{}", style.bold("what changed on main under this draft since it was proposed:"))?;
            write_diff(out, style, base_diff)?;
        }
        writeln!(out)?;
        match &self.shown.diff {
            Some(diff) if diff.is_empty() => {
                writeln!(out, "{}", style.dim("no change: main already has exactly this file"))
            }
            Some(diff) => {
                writeln!(out, "{}", style.bold("diff against main (what apply would write):"))?;
                write_diff(out, style, diff)
            }
            None => writeln!(out, "{}", style.dim("no diff: the proposed spec is not a valid endpoint")),
        }
    }
}

/// A unified diff, coloured by line kind on a terminal.
fn write_diff(out: &mut dyn Write, style: &Style, diff: &str) -> io::Result<()> {
    for line in diff.lines() {
        let painted = if line.starts_with("+++") || line.starts_with("---") {
            style.bold(line)
        } else if line.starts_with('+') {
            style.green(line)
        } else if line.starts_with('-') {
            style.red(line)
        } else if line.starts_with("@@") {
            style.cyan(line)
        } else {
            line.to_string()
        };
        writeln!(out, "{painted}")?;
    }
    Ok(())
}
