//! The `draft` command line: one file per subcommand, each with its documented
//! `Args` and one `run`. Commands call the service layer and print a report;
//! no rule lives here.

mod apply;
mod audit;
mod create;
mod demo;
mod discard;
mod doctor;
mod evidence;
mod gc;
mod hook;
mod init;
mod list;
mod mcp;
pub mod output;
mod serve;
mod shell;
mod show;
mod sync;
mod trust;
mod validate;

use crate::error::{Error, Result};
use crate::service::{CallerEnv, Service};
use clap::{Parser, Subcommand};
use output::Output;
use std::path::PathBuf;
use std::process::ExitCode;

/// The version and the commit the binary was built from.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("ZEN_BUILD_COMMIT"), ")");

/// Agents propose infrastructure changes as drafts; people review and apply them.
#[derive(Debug, Parser)]
#[command(name = "draft", version = VERSION, about, long_about = None)]
pub struct Cli {
    /// The infrastructure repo (default: the repo containing the current directory).
    #[arg(long, global = true, help_heading = "Global options", value_name = "PATH")]
    repo: Option<PathBuf>,
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true, help_heading = "Global options")]
    json: bool,
    /// Colour in text output: auto (on a terminal, unless NO_COLOR), always or never.
    #[arg(long, global = true, help_heading = "Global options", value_enum, default_value_t = output::ColorChoice::Auto)]
    color: output::ColorChoice,
    /// Print nothing on success (errors still go to stderr; --json still prints).
    #[arg(long, short = 'q', global = true, help_heading = "Global options")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(init::Args),
    Create(create::Args),
    List(list::Args),
    Show(show::Args),
    Validate(validate::Args),
    Apply(apply::Args),
    Discard(discard::Args),
    Gc(gc::Args),
    Sync(sync::Args),
    Doctor(doctor::Args),
    Completions(shell::CompletionsArgs),
    Man(shell::ManArgs),
    Audit(audit::Args),
    Hook(hook::Args),
    Trust(trust::TrustArgs),
    Signers(trust::SignersArgs),
    Config(trust::ConfigArgs),
    Demo(demo::Args),
    Evidence(evidence::Args),
    Mcp(mcp::Args),
    Serve(serve::Args),
}

/// What every command gets: where the repo is and how to print.
pub struct Context {
    repo: Option<PathBuf>,
    output: Output,
}

impl Context {
    fn service(&self) -> Result<Service> {
        Service::open(self.repo.as_deref(), CallerEnv::from_process())
    }

    /// Says on stderr, before the output, what the clone lacks to read
    /// evidence (a plain `git clone` has no notes).
    fn notice_missing_evidence(&self, service: &Service) {
        if let Some(notice) = service.evidence_notice() {
            eprintln!("note: {notice}");
        }
    }

    /// Prints a report; a failure to write stdout is an internal error.
    fn print(&self, report: &impl output::Report) -> Result<()> {
        self.output.print(report).map_err(|e| Error::internal(format!("cannot write output: {e}")))
    }
}

/// The global flags, and the commands (by path) to which some of them mean
/// nothing: hidden from those commands' help and refused there, so no one
/// passes `--json` to `draft mcp` and wonders why nothing changed.
const GLOBALS: [&str; 4] = ["repo", "json", "color", "quiet"];
const UNUSED_GLOBALS: &[(&str, &[&str])] = &[
    ("completions", &GLOBALS),
    ("man", &GLOBALS),
    ("hook pre-receive", &GLOBALS),
    ("hook install", &["repo"]),
    ("demo", &["repo", "quiet"]),
    // Their start-up errors still follow --json and --color.
    ("mcp", &["quiet"]),
    ("serve", &["quiet"]),
];

/// The command line as clap sees it, with the global flags hidden where
/// they do not apply (for help, completions and man pages).
pub(crate) fn command() -> clap::Command {
    use clap::CommandFactory;
    let command = Cli::command();
    let globals: Vec<clap::Arg> = command.get_arguments().filter(|a| a.is_global_set()).cloned().collect();
    // A command that has its own (hidden) copy of a global flag is not given
    // the shown one when clap spreads the globals.
    fn hide_in(command: clap::Command, path: &[&str], flags: &[&str], globals: &[clap::Arg]) -> clap::Command {
        match path {
            [] => globals
                .iter()
                .filter(|a| flags.contains(&a.get_id().as_str()))
                .fold(command, |command, arg| command.arg(arg.clone().hide(true))),
            [name, rest @ ..] => command.mut_subcommand(*name, |sub| hide_in(sub, rest, flags, globals)),
        }
    }
    UNUSED_GLOBALS
        .iter()
        .fold(command, |command, (path, flags)| hide_in(command, &path.split(' ').collect::<Vec<_>>(), flags, &globals))
}

/// Parses the command line: clap's rules, then no global flag given to a
/// command it means nothing to.
fn parse() -> std::result::Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let mut command = command();
    let matches = command.try_get_matches_from_mut(std::env::args_os())?;
    let (mut path, mut leaf) = (Vec::new(), &matches);
    while let Some((name, sub)) = leaf.subcommand() {
        path.push(name);
        leaf = sub;
    }
    let path = path.join(" ");
    if let Some((_, flags)) = UNUSED_GLOBALS.iter().find(|(p, _)| *p == path) {
        for flag in *flags {
            if leaf.value_source(flag) == Some(clap::parser::ValueSource::CommandLine) {
                let long = if *flag == "quiet" { "--quiet/-q".to_string() } else { format!("--{flag}") };
                return Err(command.error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!("{long} does not apply to `draft {path}`"),
                ));
            }
        }
    }
    Cli::from_arg_matches(&matches)
}

pub fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    let ctx = Context { repo: cli.repo.clone(), output: Output::new(cli.json, cli.color, cli.quiet) };
    // A panic is a bug: report where it happened, never what it said (a
    // panic message can quote a value, and values may be secrets).
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map_or_else(|| "an unknown place".to_string(), ToString::to_string);
        let _ = PANIC_AT.set(location);
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&ctx, &cli))).unwrap_or_else(|_| {
        let at = PANIC_AT.get().map_or("an unknown place", String::as_str);
        Err(Error::internal(format!("zen-draft stopped on a bug at {at}")))
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            ctx.output.error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}

/// Reports a usage error as clap does, except that an invalid value is
/// named by its argument, never repeated (it may be a secret pasted into the
/// wrong flag).
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(error.kind(), ErrorKind::InvalidValue | ErrorKind::ValueValidation) {
        error.exit();
    }
    let arg = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => format!("'{arg}'"),
        _ => "an argument".to_string(),
    };
    let valid = match error.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(values)) if !values.is_empty() => format!(" (one of: {})", values.join(", ")),
        _ => String::new(),
    };
    // A validator's own reason names what is expected, never the value.
    let why = match std::error::Error::source(&error) {
        Some(source) if error.kind() == ErrorKind::ValueValidation => format!(": {source}"),
        _ => String::new(),
    };
    eprintln!("error: invalid value for {arg}{valid}{why}\n\nFor more information, try '--help'.");
    ExitCode::from(2)
}

/// Where the first panic happened, for the `INTERNAL` report.
static PANIC_AT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn run(ctx: &Context, cli: &Cli) -> Result<u8> {
    // Tests only (debug builds): prove a panic is reported without its message.
    #[cfg(debug_assertions)]
    if let Ok(payload) = std::env::var("ZEN_TEST_PANIC") {
        panic!("{payload}");
    }
    match &cli.command {
        Command::Init(args) => init::run(ctx, args),
        Command::Create(args) => create::run(ctx, args),
        Command::List(args) => list::run(ctx, args),
        Command::Show(args) => show::run(ctx, args),
        Command::Validate(args) => validate::run(ctx, args),
        Command::Apply(args) => apply::run(ctx, args),
        Command::Discard(args) => discard::run(ctx, args),
        Command::Gc(args) => gc::run(ctx, args),
        Command::Sync(args) => sync::run(ctx, args),
        Command::Doctor(args) => doctor::run(ctx, args),
        Command::Completions(args) => shell::completions(args),
        Command::Man(args) => shell::man(args),
        Command::Audit(args) => audit::run(ctx, args),
        Command::Hook(args) => hook::run(ctx, args),
        Command::Trust(args) => trust::trust(ctx, args),
        Command::Signers(args) => trust::signers(ctx, args),
        Command::Config(args) => trust::config(ctx, args),
        Command::Demo(args) => demo::run(ctx, args),
        Command::Evidence(args) => evidence::run(ctx, args),
        Command::Mcp(args) => mcp::run(ctx, args),
        Command::Serve(args) => serve::run(ctx, args),
    }
}

#[cfg(test)]
mod reference_tests {

    /// `docs/reference.md` names every command and subcommand.
    #[test]
    fn every_command_is_in_the_reference() {
        let reference = include_str!("../../docs/reference.md");
        fn walk(command: &clap::Command, path: String, reference: &str) {
            for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
                let path = format!("{path} {}", sub.get_name());
                assert!(reference.contains(&format!("`{path}")), "docs/reference.md lacks `{path}`");
                walk(sub, path, reference);
            }
        }
        walk(&super::command(), "draft".into(), reference);
    }
}
