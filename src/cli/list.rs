//! `draft list`: the drafts, as a table for people or JSON for CI.

use super::output::{Report, Style};
use super::{Context, relative};
use crate::domain::draft::DraftType;
use crate::error::Result;
use crate::service::{ListFilter, Listed};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::io::{self, Write};

/// List drafts: pending, expired and unreadable ones by default.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only drafts with this status.
    #[arg(long, value_parser = ["pending", "expired", "applied", "discarded", "invalid"])]
    status: Option<String>,
    /// Only drafts of this type.
    #[arg(long = "type", value_parser = ["endpoint", "route", "policy", "target", "source"])]
    draft_type: Option<String>,
    /// Every draft, applied and discarded ones included.
    #[arg(long)]
    all: bool,
}

#[derive(Serialize)]
struct ListReport {
    drafts: Vec<Value>,
    #[serde(skip)]
    rows: Vec<Row>,
    #[serde(skip)]
    now: DateTime<Utc>,
}

struct Row {
    short_id: String,
    draft_type: String,
    status: String,
    creator: String,
    created: String,
    expires: String,
    name: String,
    change: String,
    evidence: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let filter = ListFilter {
        status: args.status.clone(),
        draft_type: args.draft_type.as_deref().and_then(DraftType::parse),
        all: args.all,
    };
    let listing = ctx.service()?.list(&filter)?;
    let now = Utc::now();
    let mut drafts = Vec::new();
    let mut rows = Vec::new();
    for entry in &listing.entries {
        match entry {
            Listed::Draft(view) => {
                let short_len = listing.short_len.get(&view.id).copied().unwrap_or(36);
                drafts.push(view.to_json(short_len));
                let d = &view.draft;
                rows.push(Row {
                    short_id: view.id.short(short_len),
                    draft_type: d.draft_type.to_string(),
                    status: view.state.to_string(),
                    creator: d.created_by.clone(),
                    created: d.created_at.format("%Y-%m-%d %H:%M").to_string(),
                    expires: relative(d.expires_at, now),
                    name: d.spec_name().unwrap_or("-").to_string(),
                    change: view.change.map_or("-", |c| c.as_str()).to_string(),
                    evidence: format!("{:?}", view.evidence).to_lowercase(),
                });
            }
            Listed::Invalid { path, error } => {
                drafts.push(serde_json::json!({
                    "path": path,
                    "status": "invalid",
                    "error": { "code": error.code, "message": error.message, "hint": error.hint },
                }));
                rows.push(Row {
                    short_id: path.rsplit('/').next().unwrap_or(path).chars().take(8).collect(),
                    draft_type: "-".into(),
                    status: "invalid".into(),
                    creator: "-".into(),
                    created: "-".into(),
                    expires: "-".into(),
                    name: error.message.clone(),
                    change: "-".into(),
                    evidence: "-".into(),
                });
            }
        }
    }
    ctx.print(&ListReport { drafts, rows, now })?;
    Ok(0)
}

impl Report for ListReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let _ = self.now;
        if self.rows.is_empty() {
            writeln!(out, "No drafts to show.")?;
            return writeln!(out, "{}", style.dim("(`draft list --all` includes applied and discarded drafts)"));
        }
        let headers = ["ID", "TYPE", "STATUS", "CREATOR", "CREATED", "EXPIRES", "NAME", "CHANGE", "EVIDENCE"];
        let cells: Vec<[&str; 9]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    &*r.short_id,
                    &*r.draft_type,
                    &*r.status,
                    &*r.creator,
                    &*r.created,
                    &*r.expires,
                    &*r.name,
                    &*r.change,
                    &*r.evidence,
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 9], status_paint: &dyn Fn(&str) -> String| {
            let mut text = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                let padded = format!("{cell:<w$}");
                text.push_str(&if i == 2 { status_paint(&padded) } else { padded });
                text.push_str("  ");
            }
            text.trim_end().to_string()
        };
        writeln!(out, "{}", style.bold(&line(headers, &|s| s.to_string())))?;
        for (row, r) in cells.into_iter().zip(&self.rows) {
            let paint = |s: &str| match r.status.as_str() {
                "pending" => style.green(s),
                "expired" | "invalid" => style.red(s),
                "discarded" => style.yellow(s),
                _ => style.cyan(s),
            };
            writeln!(out, "{}", line(row, &paint))?;
        }
        Ok(())
    }
}
