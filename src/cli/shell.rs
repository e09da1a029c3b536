//! `draft completions <shell>` and `draft man`: shell integration generated
//! from the command definitions, so it never drifts from them.

use crate::error::{Error, Result};
use std::path::PathBuf;

/// Print a shell completion script: draft completions bash > /etc/bash_completion.d/draft.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    shell: Shell,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Write man pages (draft.1 and one per command) into a folder, or print draft.1.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The folder to write them to (default: print draft.1 on stdout).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs) -> Result<u8> {
    let mut command = super::command();
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut command, "draft", &mut std::io::stdout());
    Ok(0)
}

pub fn man(args: &ManArgs) -> Result<u8> {
    let command = super::command();
    let cannot = |e: std::io::Error| Error::internal(format!("cannot write the man pages: {e}"));
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(cannot)?;
            clap_mangen::generate_to(command, dir).map_err(cannot)?;
        }
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout()).map_err(cannot)?,
    }
    Ok(0)
}
