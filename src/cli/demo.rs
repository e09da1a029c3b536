//! `draft demo`: build the example repo and walk a newcomer through it.

use super::Context;
use super::output::Style;
use crate::demo::{self, DEMO_AGENT, DEMO_HUMAN};
use crate::domain::draft_id::{DraftId, unique_prefix_lengths};
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Build an example infrastructure repo with agent drafts in DIR (default: a new temporary directory) and tour it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to build the example repo; must not exist or be empty.
    dir: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let dir = match &args.dir {
        Some(dir) => std::path::absolute(dir)?,
        None => std::env::temp_dir().join(format!("zen-draft-demo-{}", uuid::Uuid::now_v7().simple())),
    };
    let built = demo::build(&dir)?;
    if ctx.output.json {
        let doc = serde_json::json!({
            "dir": built.dir, "good": built.good, "base_changed": built.stale, "expired": built.expired,
        });
        println!("{}", serde_json::to_string_pretty(&doc).expect("plain data"));
        return Ok(0);
    }
    let style = ctx.output.style;
    let short = short_ids(&[&built.good, &built.stale, &built.expired, &built.applied]);
    let (good, stale) = (&short[0], &short[1]);
    let human_key = built.keys.join(DEMO_HUMAN).display().to_string();
    let agent_key = built.keys.join(DEMO_AGENT).display().to_string();
    let repo = built.dir.display().to_string();
    let say = |text: &str| println!("\n{}", style.bold(text));
    println!("{} an example infrastructure repo in {repo}", style.green("Built"));
    println!("  main:   two live endpoints, endpoints/github-ci.yaml and endpoints/pagerduty-alerts.yaml");
    println!(
        "  drafts: four changes proposed by the agent {DEMO_AGENT}; {DEMO_HUMAN} applied one (the CI host move), so one other is stale"
    );

    say("1. What have agents proposed? Pending and expired drafts, with what each would change:");
    tour(&style, &built.dir, &[], &["list"])?;
    say("2. Review the good one: its spec, the digest you approve, and the diff against main:");
    tour(&style, &built.dir, &[], &["show", good])?;
    say(
        "3. CI runs the checks apply will run. One draft's file changed on main after it was proposed (BASE_CHANGED), one expired:",
    );
    tour(&style, &built.dir, &[], &["validate", "--all"])?;
    say("4. The agent cannot apply, even when it also claims to be a person:");
    tour(&style, &built.dir, &[("ZEN_MCP_TOKEN", "t"), ("ZEN_USER_ID", DEMO_HUMAN)], &["apply", good])?;
    say("5. The human applies the good draft, bound to the digest they reviewed:");
    let digest = demo::spec_digest(&built.dir, &built.good)?;
    let human_env = [("ZEN_USER_ID", DEMO_HUMAN), ("ZEN_SIGNING_KEY", human_key.as_str())];
    tour(&style, &built.dir, &human_env, &["apply", good, "--digest", &digest])?;
    say("6. Every step was signed: four creates by the agent, the applies by the human. Anyone can check the log:");
    tour(&style, &built.dir, &[], &["evidence", "list"])?;
    tour(&style, &built.dir, &[], &["evidence", "verify"])?;

    say("Next, try:");
    let mut next = Vec::new();
    if !on_path("draft") {
        next.push(format!("alias draft={}    # or: cargo install --path .", std::env::current_exe()?.display()));
    }
    next.extend([
        format!("cd {repo}"),
        "draft list --all --json".to_string(),
        format!("draft show {stale}"),
        "draft evidence list".to_string(),
        format!("ZEN_USER_ID={DEMO_HUMAN} ZEN_SIGNING_KEY={human_key} draft discard {stale} --reason \"superseded by the CI move\""),
        format!("ZEN_MCP_TOKEN=t ZEN_AGENT_ID={DEMO_AGENT} ZEN_SIGNING_KEY={agent_key} draft create endpoint --name shop-orders --provider shopify --target-url https://hooks.example.com/shop --secret-ref vault://kv/shop"),
        "git log --oneline --all --graph".to_string(),
    ]);
    for line in next {
        println!("  {}", style.cyan(&line));
    }
    Ok(0)
}

/// The shortest prefixes that tell the demo's drafts apart, in the order given.
fn short_ids(ids: &[&String]) -> Vec<String> {
    let parsed: Vec<DraftId> = ids.iter().filter_map(|id| DraftId::parse(id)).collect();
    let mut sorted = parsed.clone();
    sorted.sort();
    let lens = unique_prefix_lengths(&sorted);
    parsed
        .iter()
        .map(|id| {
            let len = sorted.iter().position(|s| s == id).map_or(36, |i| lens[i]);
            id.short(len)
        })
        .collect()
}

/// Quotes a value for the shell when it needs it.
fn shell_word(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-:".contains(c)) {
        text.to_string()
    } else {
        format!("'{text}'")
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Shows a command as the user would type it, then runs it with this binary.
fn tour(style: &Style, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Result<()> {
    let shown_env: String = env.iter().map(|(k, v)| format!("{k}={} ", shell_word(v))).collect();
    println!("{}", style.dim(&format!("$ {shown_env}draft {}", args.join(" "))));
    std::io::stdout().flush()?;
    let exe = std::env::current_exe()?;
    let status = Command::new(exe)
        .arg("--repo")
        .arg(dir)
        .args(args)
        .env_remove("ZEN_MCP_TOKEN")
        .env_remove("ZEN_USER_ID")
        .env_remove("ZEN_SIGNING_KEY")
        .envs(env.iter().copied())
        .status()
        .map_err(|e| Error::internal(format!("cannot run the tour: {e}")))?;
    if let Some(code) = status.code().filter(|c| *c != 0) {
        println!("{}", style.dim(&format!("(exit status {code})")));
    }
    Ok(())
}
