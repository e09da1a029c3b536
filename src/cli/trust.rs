//! `draft trust init`, `draft signers add|remove`, `draft config set`: the
//! admin commands that change `.zen/` on main, each with a signed
//! `config_changed` record.

use super::Context;
use super::output::{Report, Style};
use super::sync::PushArgs;
use crate::error::{Code, Error, Result};
use crate::service::{ConfigChanged, Landed};
use std::io::{self, Read, Write};
use std::path::PathBuf;

/// The trust root: the first config_changed record, which every clone pins.
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    #[command(subcommand)]
    command: TrustCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TrustCommand {
    /// Root the trust timeline of a repository set up before it existed (an admin, listed with zen-draft-admin).
    Init {
        #[command(flatten)]
        push: PushArgs,
    },
}

/// Who may sign: change .zen/allowed_signers on main (admins only, signed in zen-draft-admin).
#[derive(Debug, clap::Args)]
pub struct SignersArgs {
    #[command(subcommand)]
    command: SignersCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SignersCommand {
    /// List a principal's public key.
    Add {
        principal: String,
        /// The public key file (`ssh-keygen` wrote it as `….pub`; `-` for stdin).
        public_key: PathBuf,
        /// What the key may sign, comma-separated (default: zen-draft-evidence).
        #[arg(long, value_delimiter = ',', default_value = "zen-draft-evidence")]
        namespaces: Vec<String>,
        #[command(flatten)]
        push: PushArgs,
    },
    /// Remove every line for a principal, or for a key by its fingerprint (SHA256:…).
    Remove {
        who: String,
        #[command(flatten)]
        push: PushArgs,
    },
}

/// The repository's config: change .zen/config.yaml on main (admins only).
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ConfigCommand {
    /// Set one top-level field (the value is read as YAML: 7d, true, [a, b]).
    Set {
        key: String,
        value: String,
        #[command(flatten)]
        push: PushArgs,
    },
}

pub fn trust(ctx: &Context, args: &TrustArgs) -> Result<u8> {
    match &args.command {
        TrustCommand::Init { push } => super::sync::write(ctx, push, |s| s.trust_init()),
    }
}

pub fn signers(ctx: &Context, args: &SignersArgs) -> Result<u8> {
    match &args.command {
        SignersCommand::Add { principal, public_key, namespaces, push } => {
            let key = read_key(public_key)?;
            super::sync::write(ctx, push, |s| s.signers_add(principal, &key, namespaces))
        }
        SignersCommand::Remove { who, push } => super::sync::write(ctx, push, |s| s.signers_remove(who)),
    }
}

pub fn config(ctx: &Context, args: &ConfigArgs) -> Result<u8> {
    match &args.command {
        ConfigCommand::Set { key, value, push } => super::sync::write(ctx, push, |s| s.config_set(key, value)),
    }
}

fn read_key(path: &PathBuf) -> Result<String> {
    let cannot = || {
        Error::new(Code::NotFound, format!("cannot read the public key file {}", path.display()))
            .with_hint("pass the .pub file ssh-keygen wrote, or - for stdin")
    };
    let mut text = String::new();
    let reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(std::fs::File::open(path).map_err(|_| cannot())?)
    };
    reader.take(16 * 1024).read_to_string(&mut text).map_err(|_| cannot())?;
    Ok(text)
}

impl Report for ConfigChanged {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let what = if self.root { "the trust root" } else { "a change to .zen/" };
        writeln!(
            out,
            "{} {what}: config_changed at position {} on main commit {}",
            style.green("Signed"),
            self.position,
            &self.commit[..12]
        )?;
        writeln!(out, "  record digest {}", self.digest)?;
        if self.root {
            writeln!(out, "Clones pin it on their next `draft evidence verify` (git config zen.trustRoot).")?;
        }
        Ok(())
    }
}

impl Landed for ConfigChanged {
    fn operations(&self) -> Vec<(&'static str, String)> {
        vec![("config_changed", String::new())]
    }
    fn after_replay(&mut self, main: Option<git2::Oid>, _drafts: Option<git2::Oid>) {
        if let Some(main) = main {
            self.commit = main.to_string();
        }
    }
}
