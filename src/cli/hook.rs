//! `draft hook install` and `draft hook pre-receive`: the gate on the
//! central repository.

use super::Context;
use super::output::{Report, Style};
use crate::error::{Code, Error, Result};
use crate::service::{CallerEnv, Service, read_ref_lines};
use serde::Serialize;
use std::io::{self, Read, Write};
use std::path::PathBuf;

/// The gate: a pre-receive hook on the central repository that refuses what did not go through the rules, whoever pushes it.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: HookCommand,
}

#[derive(Debug, clap::Subcommand)]
enum HookCommand {
    /// Install the gate in a bare repository: hooks/pre-receive, and git's own fast-forward, delete and fsck guards.
    Install {
        /// The repository's git dir (a bare repo's folder).
        git_dir: PathBuf,
        /// The trust root to hold pushes to (default: the log's own, which must exist).
        #[arg(long, value_name = "DIGEST")]
        trust_root: Option<String>,
    },
    /// What git runs before it accepts a push (reads `<old> <new> <ref>` lines on stdin).
    PreReceive,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    match &args.command {
        HookCommand::Install { git_dir, trust_root } => install(ctx, git_dir, trust_root.as_deref()),
        HookCommand::PreReceive => pre_receive(),
    }
}

#[derive(Serialize)]
struct Installed {
    git_dir: String,
    hook: String,
    trust_root: String,
    already: bool,
}

const MARKER: &str = "# zen-draft gate";

fn install(ctx: &Context, git_dir: &std::path::Path, trust_root: Option<&str>) -> Result<u8> {
    let service = Service::open(Some(git_dir), CallerEnv::from_process())?;
    let root = service.gate_trust_root(trust_root)?;
    let store = service.store();
    for key in ["receive.denyNonFastForwards", "receive.denyDeletes", "receive.fsckObjects"] {
        store.set_config_string(key, "true")?;
    }
    store.set_config_string("zen.trustRoot", &root)?;
    let binary = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::internal(format!("cannot tell where this binary is: {e}")))?;
    let hooks = store.git_dir().join("hooks");
    std::fs::create_dir_all(&hooks)?;
    let path = hooks.join("pre-receive");
    let quoted = binary.display().to_string().replace('\'', "'\\''");
    let script = format!(
        "#!/bin/sh\n{MARKER}: refuses pushes that did not go through the rules\nexec '{quoted}' hook pre-receive\n"
    );
    let already = std::fs::read_to_string(&path).is_ok_and(|s| s == script);
    if !already {
        if std::fs::read_to_string(&path).is_ok_and(|s| !s.contains(MARKER)) {
            return Err(Error::new(Code::Conflict, format!("{} exists and is not the zen-draft gate", path.display()))
                .with_hint("move it aside (or call it from a hook that also runs `draft hook pre-receive`), then install again"));
        }
        let partial = hooks.join(".pre-receive.zen-draft.new");
        std::fs::write(&partial, &script)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o755))?;
        std::fs::rename(&partial, &path)?;
    }
    ctx.print(&Installed {
        git_dir: store.git_dir().display().to_string(),
        hook: path.display().to_string(),
        trust_root: root,
        already,
    })?;
    Ok(0)
}

impl Report for Installed {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.already {
            writeln!(out, "The gate is installed in {} (nothing changed).", self.git_dir)?;
        } else {
            writeln!(out, "{} the gate in {}", style.green("Installed"), self.git_dir)?;
        }
        writeln!(out, "  hook:       {}", self.hook)?;
        writeln!(out, "  trust root: {}", self.trust_root)?;
        writeln!(out, "  git:        receive.denyNonFastForwards, receive.denyDeletes, receive.fsckObjects")
    }
}

/// Who the server says is pushing: gitolite's `GL_USER`, the web server's
/// `REMOTE_USER`, or the signer of a push certificate git verified.
fn pusher() -> Option<String> {
    let named = |var: &str| std::env::var(var).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    named("GL_USER").or_else(|| named("REMOTE_USER")).or_else(|| {
        (std::env::var("GIT_PUSH_CERT_STATUS").as_deref() == Ok("G")).then(|| named("GIT_PUSH_CERT_SIGNER")).flatten()
    })
}

/// Judges the push git describes on stdin; refuses it (exit 1) with every
/// problem as `remote:` lines when any rule is broken.
fn pre_receive() -> Result<u8> {
    let mut input = String::new();
    io::stdin().take(16 * 1024 * 1024).read_to_string(&mut input)?;
    let lines = read_ref_lines(&input)?;
    let service = Service::open(None, CallerEnv::default())?;
    let violations = service.gate(&lines, pusher().as_deref())?;
    if violations.is_empty() {
        return Ok(0);
    }
    let mut err = io::stderr().lock();
    for v in &violations {
        let at = v.commit.as_deref().map_or("-".to_string(), |c| c[..c.len().min(12)].to_string());
        let _ = writeln!(err, "zen-draft: refused {} at {at}: {}: {}", v.refname, v.code, v.message);
        let _ = writeln!(err, "zen-draft: hint: {}", v.hint);
    }
    Ok(1)
}
