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
    #[arg(long, value_name = "D", value_parser = parse_digest)]
    digest: Option<String>,
    /// Apply without asking (on a terminal, apply shows the draft, its checks and the diff, and asks first).
    #[arg(long, short = 'y')]
    yes: bool,
    #[command(flatten)]
    push: super::sync::PushArgs,
}

/// `sha256:` and 64 hex digits, whole: a digest cut short is a usage error.
fn parse_digest(text: &str) -> std::result::Result<String, String> {
    let digest = text.trim();
    if !digest.starts_with("sha256:") {
        Err("expected sha256: and 64 hex digits, as `draft show` prints".to_string())
    } else if crate::service::is_digest(digest) {
        Ok(digest.to_string())
    } else {
        Err("expected sha256: and 64 hex digits, as `draft show` prints it, whole".into())
    }
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    use std::io::IsTerminal;
    let asks = !ctx.output.json
        && args.digest.is_none()
        && !args.yes
        && io::stdin().is_terminal()
        && io::stdout().is_terminal();
    if !asks {
        return super::sync::write(ctx, &args.push, |service| service.apply(&args.id, args.digest.as_deref()));
    }
    // A person at a terminal sees what they approve, and the apply is bound
    // to the digest of exactly that spec.
    let shown = ctx.service()?.show(&args.id)?;
    let digest = shown.spec_digest.clone();
    let id = shown.view.id.to_string();
    let resource = shown.resource.clone().unwrap_or_else(|| "its resource".into());
    super::show::print_for_review(ctx, shown)?;
    print!("\nApply draft {id} to main, writing {resource}? Type yes to apply: ");
    io::stdout().flush()?;
    let mut answer = String::new();
    io::stdin().read_line(&mut answer)?;
    if !matches!(answer.trim(), "yes" | "y") {
        println!("Nothing was applied.");
        return Ok(0);
    }
    super::sync::write(ctx, &args.push, |service| service.apply(&id, digest.as_deref()))
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
        if let Some(stale) = self.stale_note() {
            writeln!(out, "{} {stale}", style.yellow("note:"))?;
        }
        writeln!(out, "The signed draft_applied record is on that commit: draft evidence prove {}", &self.id)
    }
}
