//! Store commands: `init`, `secrets ...`, `audit`, `key rotate`, `backup`, `restore`.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use crate::exit::Exit;

/// Arguments of `sigil init`.
#[derive(Debug, Args)]
pub struct InitArgs {}

/// `sigil secrets ...`.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// List secrets (metadata only).
    List,
}

/// Arguments of `sigil audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {}

/// `sigil key ...`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a new master key and re-wrap every data key with it.
    Rotate,
}

/// Arguments of `sigil backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {}

/// Arguments of `sigil restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {}

/// Runs `sigil init`.
pub fn init(_args: InitArgs) -> Result<Exit> {
    bail!("sigil init is not built yet")
}

/// Runs `sigil secrets ...`.
pub fn secrets(_command: SecretsCommand) -> Result<Exit> {
    bail!("sigil secrets is not built yet")
}

/// Runs `sigil audit`.
pub fn audit(_args: AuditArgs) -> Result<Exit> {
    bail!("sigil audit is not built yet")
}

/// Runs `sigil key ...`.
pub fn key(_command: KeyCommand) -> Result<Exit> {
    bail!("sigil key is not built yet")
}

/// Runs `sigil backup`.
pub fn backup(_args: BackupArgs) -> Result<Exit> {
    bail!("sigil backup is not built yet")
}

/// Runs `sigil restore`.
pub fn restore(_args: RestoreArgs) -> Result<Exit> {
    bail!("sigil restore is not built yet")
}
