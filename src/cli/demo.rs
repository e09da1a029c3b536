//! placeholder
use super::Context;
use crate::error::Result;
#[derive(Debug, clap::Args)]
pub struct Args {
    dir: Option<std::path::PathBuf>,
}
pub fn run(_ctx: &Context, _args: &Args) -> Result<u8> {
    Ok(0)
}
