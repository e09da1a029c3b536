//! `draft list`: the drafts, as a table for people or JSON for CI.

use super::Context;
use super::output::{Report, SCHEMA_VERSION, Style};
use crate::domain::draft::DraftType;
use crate::domain::duration::relative;
use crate::error::{Error, Result};
use crate::service::{Conflict, Conflicts, ListFilter, Listed};
use chrono::{DateTime, Utc};
use serde::Serialize;
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

/// The table for people; JSON is streamed instead (see [`run`]).
#[derive(Serialize)]
struct ListReport {
    #[serde(skip)]
    rows: Vec<Row>,
    #[serde(skip)]
    conflicts: Vec<Conflict>,
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
    /// The rationale's first line, cut short.
    why: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let filter = ListFilter {
        status: args.status.clone(),
        draft_type: args.draft_type.as_deref().and_then(DraftType::parse),
        all: args.all,
    };
    let service = ctx.service()?;
    if ctx.output.json {
        let listed = stream_json(&service, &filter)?;
        ctx.notice_missing_evidence(&service);
        return Ok(listed);
    }
    let now = Utc::now();
    let mut rows = Vec::new();
    let mut conflicts = Conflicts::default();
    service.list_each(&filter, |entry, short_len| {
        conflicts.note(&entry);
        rows.push(row(&entry, short_len, now));
        Ok(())
    })?;
    ctx.print(&ListReport { rows, conflicts: conflicts.found() })?;
    ctx.notice_missing_evidence(&service);
    Ok(0)
}

/// `{"drafts": [...]}`, written draft by draft so memory stays flat however
/// many drafts the branch holds. Nothing is written until the listing has
/// started, so an error before it is still one clean JSON error document.
fn stream_json(service: &crate::service::Service, filter: &ListFilter) -> Result<u8> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut started = false;
    // Each draft's JSON is written on the worker threads that read it.
    let mut conflicts = Conflicts::default();
    let result = service.list_json(filter, &mut |(json, key)| {
        if let Some((resource, id)) = key {
            conflicts.add(resource, id);
        }
        let opening = format!("{{\"schema_version\": {SCHEMA_VERSION}, \"drafts\": [\n");
        let separator: &[u8] = if started { b",\n" } else { opening.as_bytes() };
        started = true;
        write_all(&mut out, separator)?;
        write_all(&mut out, &json)
    });
    if let Err(error) = result {
        if started {
            let _ = write_all(&mut out, b"\n]}\n");
            let _ = out.flush();
        }
        return Err(error);
    }
    let empty = format!("{{\"schema_version\": {SCHEMA_VERSION}, \"drafts\": []");
    write_all(&mut out, if started { b"\n]" } else { empty.as_bytes() })?;
    let found = serde_json::to_vec(&conflicts.found()).map_err(|e| Error::internal(e.to_string()))?;
    write_all(&mut out, b",\n\"conflicts\": ")?;
    write_all(&mut out, &found)?;
    write_all(&mut out, b"}\n")?;
    let _ = out.flush();
    Ok(0)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn write_all(out: &mut impl Write, bytes: &[u8]) -> Result<()> {
    match out.write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::internal(format!("cannot write output: {e}")))
        }
        _ => Ok(()),
    }
}

fn row(entry: &Listed, short_len: usize, now: DateTime<Utc>) -> Row {
    match entry {
        Listed::Draft(view) => {
            let d = &view.draft;
            Row {
                short_id: view.id.short(short_len),
                draft_type: d.draft_type.to_string(),
                status: view.state.to_string(),
                creator: d.created_by.clone(),
                created: d.created_at.format("%Y-%m-%d %H:%M").to_string(),
                expires: relative(d.expires_at, now),
                name: d.spec_name().unwrap_or("-").to_string(),
                change: view.change.map_or("-", |c| c.as_str()).to_string(),
                evidence: format!("{:?}", view.evidence).to_lowercase(),
                why: first_line(d.rationale.as_deref()),
            }
        }
        Listed::Invalid { path, error } => Row {
            short_id: path.rsplit('/').next().unwrap_or(path).chars().take(8).collect(),
            draft_type: "-".into(),
            status: "invalid".into(),
            creator: "-".into(),
            created: "-".into(),
            expires: "-".into(),
            name: error.message.clone(),
            change: "-".into(),
            evidence: "-".into(),
            why: String::new(),
        },
    }
}

impl Report for ListReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.rows.is_empty() {
            writeln!(out, "No drafts to show.")?;
            return writeln!(out, "{}", style.dim("(`draft list --all` includes applied and discarded drafts)"));
        }
        let headers = ["ID", "TYPE", "STATUS", "CREATOR", "CREATED", "EXPIRES", "NAME", "CHANGE", "EVIDENCE", "WHY"];
        let cells: Vec<[&str; 10]> = self
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
                    &*r.why,
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 10], status_paint: &dyn Fn(&str) -> String| {
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
        for conflict in &self.conflicts {
            writeln!(
                out,
                "{} {} pending drafts propose {}: {} (applying one makes the rest BASE_CHANGED)",
                style.yellow("conflict:"),
                conflict.drafts.len(),
                conflict.resource,
                conflict.drafts.join(", ")
            )?;
        }
        Ok(())
    }
}

/// A rationale's first line, at most 48 characters, for a table cell.
fn first_line(text: Option<&str>) -> String {
    let line = text.and_then(|t| t.lines().next()).unwrap_or_default().trim();
    if line.chars().count() > 48 {
        format!("{}…", line.chars().take(47).collect::<String>())
    } else {
        line.to_string()
    }
}
