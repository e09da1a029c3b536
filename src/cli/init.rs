//! `draft init`: set a repo up for zen-draft.

use super::Context;
use super::output::{Report, Style};
use crate::domain::duration::Ttl;
use crate::error::Result;
use crate::service::{InitOutcome, InitRequest};
use serde::Serialize;
use std::io::{self, Write};

/// Write .zen/config.yaml and .zen/allowed_signers on main, and create the drafts branch and the evidence notes ref.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tenant that owns this repo (default: $ZEN_TENANT, else "default").
    #[arg(long)]
    tenant: Option<String>,
    /// Default draft lifetime, like 90s, 12h or 7d.
    #[arg(long, value_parser = Ttl::parse)]
    ttl: Option<Ttl>,
    /// Root the trust timeline now: list this principal with your signing key for
    /// zen-draft-admin and sign the first config_changed record with it.
    #[arg(long, value_name = "PRINCIPAL")]
    admin: Option<String>,
}

#[derive(Serialize)]
struct InitReport {
    status: &'static str,
    tenant: String,
    main_branch: String,
    drafts_branch: String,
    ttl: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    main_commit: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    created: Vec<String>,
    /// The trust root `--admin` made.
    #[serde(skip_serializing_if = "Option::is_none")]
    trust_root: Option<crate::service::ConfigChanged>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let service = ctx.service()?;
    let outcome = service.init(&InitRequest { tenant: args.tenant.clone(), ttl: args.ttl })?;
    let (status, config, main_commit, created) = match outcome {
        InitOutcome::Initialized { config, main_commit } => ("initialized", config, Some(main_commit), Vec::new()),
        InitOutcome::Completed { config, created } => ("completed", config, None, created),
        InitOutcome::AlreadySetUp { config } => ("already_set_up", config, None, Vec::new()),
    };
    let trust_root = args.admin.as_deref().map(|admin| service.root_for_admin(admin)).transpose()?;
    ctx.print(&InitReport {
        status,
        tenant: config.tenant,
        main_branch: config.main_branch,
        drafts_branch: config.drafts_branch,
        ttl: config.ttl,
        main_commit,
        created,
        trust_root,
    })?;
    Ok(0)
}

impl Report for InitReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        match self.status {
            "already_set_up" => writeln!(
                out,
                "Already set up: tenant {}, drafts on {:?}, main is {:?}.",
                self.tenant, self.drafts_branch, self.main_branch
            )?,
            "completed" => {
                writeln!(out, "Config was already on {}; created {}.", self.main_branch, self.created.join(" and "))?
            }
            _ => {
                writeln!(out, "{} zen-draft for tenant {}.", style.green("Set up"), self.tenant)?;
                writeln!(
                    out,
                    "  {}: .zen/config.yaml and .zen/allowed_signers (commit {})",
                    self.main_branch,
                    self.main_commit.as_deref().unwrap_or("?")
                )?;
                writeln!(
                    out,
                    "  {}: new branch for drafts; refs/notes/zen-evidence: the evidence log",
                    self.drafts_branch
                )?;
                writeln!(
                    out,
                    "Default draft lifetime: {}. Next: list who may sign in .zen/allowed_signers, then `draft create`.",
                    self.ttl
                )?;
            }
        }
        if let Some(root) = &self.trust_root {
            writeln!(
                out,
                "{} the trust root: config_changed at position {} ({}), on commit {}",
                style.green("Signed"),
                root.position,
                root.digest,
                &root.commit[..12]
            )?;
        }
        Ok(())
    }
}
