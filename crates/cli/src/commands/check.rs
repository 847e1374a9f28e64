//! `sigil check`: validate configs and report every problem at once.

use anyhow::Result;
use clap::Args;

use crate::exit::Exit;

/// Arguments of `sigil check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check (directories: every *.yml, *.yaml, *.json below).
    #[arg(required = true)]
    pub paths: Vec<std::path::PathBuf>,
}

/// Runs `sigil check`.
pub fn run(_args: CheckArgs) -> Result<Exit> {
    anyhow::bail!("sigil check is not built yet")
}
