//! `sigil redact`: a filter that masks secret values and their encodings.

use anyhow::Result;
use clap::Args;

use crate::exit::Exit;

/// Arguments of `sigil redact`.
#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Files to read instead of stdin.
    pub files: Vec<std::path::PathBuf>,
}

/// Runs `sigil redact`.
pub fn run(_args: RedactArgs) -> Result<Exit> {
    anyhow::bail!("sigil redact is not built yet")
}
