//! `draft evidence`: the signed log of every draft's lifecycle.

use super::Context;
use super::output::{Report, Style};
use crate::error::{Code, Error, Result};
use crate::evidence::merkle;
use crate::evidence::proof::InclusionProof;
use serde::Serialize;
use std::io::{self, Read, Write};
use std::path::PathBuf;

/// The evidence log: list it, verify it, prove a draft's records are in it.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: EvidenceCommand,
}

#[derive(Debug, clap::Subcommand)]
enum EvidenceCommand {
    /// Every record in position order, with its signature's state.
    List,
    /// Check every signature, position, link and draft; print the tree size and root.
    Verify {
        /// Also check that the first SIZE records still hash to the root HEX (from an earlier verify).
        #[arg(long, value_name = "SIZE:HEX", value_parser = parse_root)]
        root: Option<(u64, merkle::Hash)>,
        /// Start from a tree head verified before (SIZE:HEX): check the RFC 6962 consistency
        /// proof from it, then the signatures of the records after it only.
        #[arg(long, value_name = "SIZE:HEX", value_parser = parse_root)]
        since: Option<(u64, merkle::Hash)>,
        /// The trust root to hold the log to (`sha256:…`, the digest of its first
        /// config_changed record), instead of the one this clone pinned (zen.trustRoot).
        #[arg(long, value_name = "DIGEST")]
        trust_root: Option<String>,
        /// A log without a trust root fails (TRUST_ROOT_MISSING, exit 7) instead of warning.
        #[arg(long)]
        strict: bool,
    },
    /// RFC 6962 inclusion proofs for one draft's records.
    Prove {
        /// Draft id, or any unique prefix of it.
        id: String,
    },
    /// Check proofs from `draft --json evidence prove` offline, without a repository.
    CheckProof {
        /// The JSON document `prove --json` printed (`-` for stdin).
        file: PathBuf,
        /// The tree head you trust, as `evidence verify` prints it (SIZE:HEX) or the
        /// root alone (HEX); the proofs must lead to it.
        #[arg(long, value_name = "SIZE:HEX")]
        root: Option<String>,
    },
}

fn parse_root(text: &str) -> Result<(u64, merkle::Hash), String> {
    let (size, hex) = text.split_once(':').ok_or("expected SIZE:HEX, like 12:9f86…")?;
    let size = size.parse().map_err(|_| "SIZE must be a number")?;
    let hash = merkle::from_hex(hex).ok_or("HEX must be 64 hex digits")?;
    Ok((size, hash))
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    match &args.command {
        EvidenceCommand::List => list(ctx),
        EvidenceCommand::Verify { root, since, trust_root, strict } => {
            let service = ctx.service()?;
            let verified = service.evidence_verify_trusting(*root, *since, trust_root.as_deref(), *strict)?;
            if verified.trust_root.is_none() {
                eprintln!(
                    "warning[TRUST_ROOT_MISSING]: this log has no trust root, so every record was judged by .zen/allowed_signers as main holds it now; an admin runs `draft trust init`"
                );
            }
            ctx.print(&VerifyReport {
                ok: true,
                size: verified.size,
                root: merkle::to_hex(&verified.root),
                trust_root: verified.trust_root,
            })?;
            Ok(0)
        }
        EvidenceCommand::Prove { id } => {
            let proofs = ctx.service()?.evidence_prove(id)?;
            ctx.print(&ProveReport { proofs })?;
            Ok(0)
        }
        EvidenceCommand::CheckProof { file, root } => check_proof(ctx, file, root.as_deref()),
    }
}

#[derive(Serialize)]
struct ListReport {
    size: u64,
    root: String,
    records: Vec<serde_json::Value>,
    problems: Vec<String>,
}

fn list(ctx: &Context) -> Result<u8> {
    let report = ctx.service()?.evidence_log()?;
    let records = report
        .records
        .iter()
        .map(|(object, signed)| {
            let mut value = serde_json::to_value(&signed.record).expect("records are plain data");
            value.as_object_mut().expect("a record is a mapping").insert("object".into(), object.clone().into());
            value
        })
        .collect();
    ctx.print(&ListReport {
        size: report.size,
        root: merkle::to_hex(&report.root),
        records,
        problems: report.problems.iter().map(ToString::to_string).collect(),
    })?;
    Ok(0)
}

impl Report for ListReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.records.is_empty() {
            writeln!(out, "The evidence log is empty.")?;
        }
        for record in &self.records {
            let field = |k: &str| record.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
            let actor =
                ["created_by", "applied_by", "discarded_by", "removed_by"].iter().map(|k| field(k)).find(|v| v != "-");
            let at =
                ["created_at", "applied_at", "discarded_at", "removed_at"].iter().map(|k| field(k)).find(|v| v != "-");
            writeln!(
                out,
                "{:>5}  {:<16} {}  {:<22} {}  on {}",
                record.get("merkle_position").and_then(|v| v.as_u64()).unwrap_or(0),
                field("event"),
                field("draft_id"),
                actor.unwrap_or_default(),
                at.unwrap_or_default(),
                &field("object")[..12.min(field("object").len())],
            )?;
        }
        writeln!(out, "tree size {}, root {}", self.size, self.root)?;
        for problem in &self.problems {
            writeln!(out, "{} {problem}", style.red("problem:"))?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct VerifyReport {
    ok: bool,
    size: u64,
    root: String,
    /// The digest of the trust root the log was held to.
    #[serde(skip_serializing_if = "Option::is_none")]
    trust_root: Option<String>,
}

impl Report for VerifyReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(
            out,
            "{} {} records: every signature, position and link checks out.",
            style.green("Verified"),
            self.size
        )?;
        writeln!(out, "tree size {}", self.size)?;
        writeln!(out, "root {}", self.root)?;
        if let Some(trust_root) = &self.trust_root {
            writeln!(out, "trust root {trust_root}")?;
        }
        writeln!(out, "{}", style.dim(&format!("(later: draft evidence verify --root {}:{})", self.size, self.root)))
    }
}

#[derive(Serialize, serde::Deserialize)]
struct ProveReport {
    proofs: Vec<InclusionProof>,
}

impl Report for ProveReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        for p in &self.proofs {
            writeln!(out, "{} {} at index {} of {}", style.bold(&p.event), p.draft_id, p.leaf_index, p.tree_size)?;
            writeln!(out, "  record    {}", p.record)?;
            writeln!(out, "  leaf hash {}", p.leaf_hash)?;
            writeln!(out, "  root      {}", p.root)?;
            for (i, h) in p.proof.iter().enumerate() {
                writeln!(out, "  proof[{i}]  {h}")?;
            }
        }
        writeln!(
            out,
            "{}",
            style.dim(
                "Check offline: draft --json evidence prove <id> > proof.json; draft evidence check-proof proof.json"
            )
        )
    }
}

#[derive(Serialize)]
struct CheckReport {
    ok: bool,
    checked: usize,
}

impl Report for CheckReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(out, "{} {} inclusion proofs.", style.green("Checked"), self.checked)
    }
}

fn check_proof(ctx: &Context, file: &PathBuf, root: Option<&str>) -> Result<u8> {
    let mut text = String::new();
    let read = if file.as_os_str() == "-" {
        io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_string(&mut text))
    };
    read.map_err(|e| Error::new(Code::NotFound, format!("cannot read {}: {e}", file.display())))?;
    let report: ProveReport = serde_json::from_str(&text).map_err(|e| {
        Error::new(Code::EvidenceInvalid, format!("not a proof document: {e}"))
            .with_hint("pass what `draft --json evidence prove <id>` printed")
    })?;
    // SIZE:HEX binds the tree's size too; a bare HEX, the root alone.
    let (size, root) = match root.map(|r| r.split_once(':')) {
        Some(Some((size, hex))) => {
            let size: u64 = size.parse().map_err(|_| {
                Error::new(Code::EvidenceInvalid, "--root: SIZE must be a number")
                    .with_hint("pass SIZE:HEX, like 12:9f86…")
            })?;
            (Some(size), Some(hex))
        }
        _ => (None, root),
    };
    for proof in &report.proofs {
        if let Some(size) = size
            && proof.tree_size != size
        {
            return Err(Error::new(
                Code::EvidenceInvalid,
                format!(
                    "{} of draft {}: the proof is for a {}-record tree, not {size}",
                    proof.event, proof.draft_id, proof.tree_size
                ),
            ));
        }
        proof.check(root).map_err(|why| {
            Error::new(Code::EvidenceInvalid, format!("{} of draft {}: {why}", proof.event, proof.draft_id))
        })?;
    }
    ctx.print(&CheckReport { ok: true, checked: report.proofs.len() })?;
    Ok(0)
}
