//! The `sigil` binary: clap arguments, then one function per command returning an exit status.
//!
//! Business logic lives in the library crates; this crate parses flags, merges them with the
//! environment, calls the libraries and renders their results.

mod commands;
mod context;
mod exit;
mod secrets_file;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::Exit;

/// sigil resolves secret references in pipeline configs and keeps the values out of logs.
#[derive(Debug, Parser)]
#[command(name = "sigil", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate configs: every reference located, every problem reported at once.
    Check(commands::check::CheckArgs),
    /// Show what a config (or one step) becomes in a run; values print as *** unless --reveal.
    Resolve(commands::resolve::ResolveArgs),
    /// Explain which scope and environment a secret name resolves from in a run, and why.
    Explain(commands::resolve::ExplainArgs),
    /// Run a pipeline (each step resolved just before it starts, its output scrubbed), or any
    /// command after `--` with the secrets in its environment.
    Run(commands::run::RunArgs),
    /// Copy stdin (or files) to stdout with every secret value and its encodings masked.
    Redact(commands::redact::RedactArgs),
    /// Create the store and a new master key.
    Init(commands::store::InitArgs),
    /// Manage secrets: set, get, list, rotate, history, rollback, delete, import, export.
    #[command(subcommand)]
    Secrets(commands::store::SecretsCommand),
    /// Query the audit log, or verify its hash chain.
    Audit(commands::store::AuditArgs),
    /// Master key operations.
    #[command(subcommand)]
    Key(commands::store::KeyCommand),
    /// Write an encrypted backup of the whole store to a file.
    Backup(commands::store::BackupArgs),
    /// Restore a backup into an empty store.
    Restore(commands::store::RestoreArgs),
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Resolve(args) => commands::resolve::resolve(args),
        Command::Explain(args) => commands::resolve::explain(args),
        Command::Run(args) => commands::run::run(args),
        Command::Redact(args) => commands::redact::run(args),
        Command::Init(args) => commands::store::init(args),
        Command::Secrets(command) => commands::store::secrets(command),
        Command::Audit(args) => commands::store::audit(args),
        Command::Key(command) => commands::store::key(command),
        Command::Backup(args) => commands::store::backup(args),
        Command::Restore(args) => commands::store::restore(args),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(err) => {
            if exit::is_broken_pipe(&err) {
                // The reader went away (`sigil ... | head`): that is success, not a crash.
                return Exit::Ok.into();
            }
            eprintln!("error: {err:#}");
            Exit::Internal.into()
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: warnings and errors only).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks the whole command tree (unique names, valid defaults) only when asked.
    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
