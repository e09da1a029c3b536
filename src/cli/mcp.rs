//! Placeholder while the adapter is being built.
use super::Context;
use crate::error::{Error, Result};
#[derive(Debug, clap::Args)]
pub struct Args {}
pub fn run(_ctx: &Context, _args: &Args) -> Result<u8> {
    Err(Error::internal("not built yet"))
}
