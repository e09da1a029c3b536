//! `draft create`: propose a change as a new draft.

use super::Context;
use super::output::{Report, Style};
use crate::domain::duration::{TTL_HINT, Ttl};
use crate::error::{Code, Error, Result};
use crate::service::{CreateRequest, Created};
use crate::yaml::MAX_DOCUMENT_BYTES;
use serde_json::{Map, Value};
use std::io::{self, Read, Write};
use std::path::PathBuf;

/// Create a draft: `draft create endpoint --name N --provider P --target-url U`, or `draft create --file F` (`-` reads stdin).
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_required = false)]
pub struct Args {
    #[command(subcommand)]
    kind: Option<Kind>,
    /// A proposal file with `type:`, `proposed_spec:`, and optionally `ttl:`, `rationale:`, `links:` and `agent:` (`-` for stdin).
    #[arg(long, value_name = "F")]
    file: Option<PathBuf>,
    /// How long the draft stays open, like 12h or 7d (default: the proposal's, else the repo's ttl).
    #[arg(long)]
    ttl: Option<String>,
    #[command(flatten)]
    push: super::sync::PushArgs,
}

/// The kind of draft. Only `endpoint` can be created in V1; the other kinds
/// of V1.1 (route, policy, target, source) are refused as not creatable.
#[derive(Debug, clap::Subcommand)]
enum Kind {
    /// Propose a webhook endpoint: becomes endpoints/<name>.yaml on main when a person applies it.
    Endpoint(Box<EndpointArgs>),
    #[command(external_subcommand)]
    Other(Vec<String>),
}

/// A webhook endpoint's fields, and why it is proposed.
#[derive(Debug, clap::Args)]
pub struct EndpointArgs {
    /// Endpoint name: lowercase letters, digits and '-'; becomes endpoints/<name>.yaml.
    #[arg(long)]
    name: Option<String>,
    /// Provider: stripe, github, gitlab, shopify, slack, twilio, sendgrid, pagerduty or generic.
    #[arg(long)]
    provider: Option<String>,
    /// Where events are delivered: a public https URL.
    #[arg(long)]
    target_url: Option<String>,
    /// A reference to the signing secret (vault://, aws-sm://, gcp-sm://, azure-kv://, op://, env://), never the secret.
    #[arg(long)]
    secret_ref: Option<String>,
    /// What the endpoint is for, for the reviewer.
    #[arg(long)]
    description: Option<String>,
    /// Event names, comma-separated.
    #[arg(long, value_delimiter = ',')]
    events: Option<Vec<String>>,
    /// How long the draft stays open, like 12h or 7d (default: the repo's ttl).
    #[arg(long)]
    ttl: Option<String>,
    /// Why this change: what the reviewer should know (first line shows in `draft list`).
    #[arg(long)]
    rationale: Option<String>,
    /// A ticket, incident or run behind this change (an http(s) URL; repeat for more).
    #[arg(long = "link", value_name = "URL")]
    links: Vec<String>,
    #[command(flatten)]
    push: super::sync::PushArgs,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let (mut request, ttl, push) = match (&args.kind, &args.file) {
        (Some(Kind::Endpoint(endpoint)), _) => {
            let request = CreateRequest {
                draft_type: "endpoint".into(),
                proposed_spec: Some(spec_from_flags(endpoint)),
                ttl: None,
                provenance: crate::domain::provenance::Provenance {
                    rationale: endpoint.rationale.clone(),
                    links: endpoint.links.clone(),
                    agent: None,
                },
            };
            (request, &endpoint.ttl, &endpoint.push)
        }
        // Another kind: the service says which kinds can be created.
        (Some(Kind::Other(words)), _) => {
            let request = CreateRequest {
                draft_type: words.first().cloned().unwrap_or_default(),
                proposed_spec: None,
                ttl: None,
                provenance: Default::default(),
            };
            (request, &None, &args.push)
        }
        (None, Some(path)) => (CreateRequest::from_proposal(&read_proposal(path)?)?, &args.ttl, &args.push),
        (None, None) => {
            return Err(Error::new(Code::SpecMissing, "nothing to create: name a kind or a proposal file")
                .with_hint("draft create endpoint --name N --provider P --target-url U, or draft create --file F"));
        }
    };
    if let Some(ttl) = ttl {
        Ttl::parse(ttl).map_err(|e| Error::new(Code::InvalidSpec, format!("--ttl: {e}")).with_hint(TTL_HINT))?;
        request.ttl = Some(ttl.clone());
    }
    super::sync::write(ctx, push, |service| service.create(&request))
}

fn spec_from_flags(args: &EndpointArgs) -> Value {
    let mut spec = Map::new();
    let fields = [
        ("name", &args.name),
        ("provider", &args.provider),
        ("target_url", &args.target_url),
        ("secret_ref", &args.secret_ref),
        ("description", &args.description),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            spec.insert(key.into(), value.clone().into());
        }
    }
    if let Some(events) = &args.events {
        spec.insert("events".into(), events.iter().map(|e| Value::from(e.trim())).collect());
    }
    Value::Object(spec)
}

/// Reads a proposal, refusing to read more than the size limit.
fn read_proposal(path: &PathBuf) -> Result<Vec<u8>> {
    let cannot = |e: io::Error| {
        Error::new(Code::NotFound, format!("cannot read proposal {}: {e}", path.display()))
            .with_hint("pass a readable file, or - for stdin")
    };
    let reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(std::fs::File::open(path).map_err(cannot)?)
    };
    let mut bytes = Vec::new();
    reader.take(MAX_DOCUMENT_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(cannot)?;
    Ok(bytes)
}

impl Report for Created {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(out, "{} draft {}", style.green("Created"), style.bold(&self.id))?;
        writeln!(out, "  file:   {} (commit {})", self.path, &self.commit[..12])?;
        writeln!(out, "  review: draft show {}", self.id)?;
        writeln!(out, "A person must apply it; agents cannot.")
    }
}
