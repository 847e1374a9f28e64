//! `sigil secrets ...`.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use secrecy::{ExposeSecret as _, SecretString};
use sigil_store::{
    Access, Environment, ListFilter, Scope, ScopeKind, SecretKey, SecretMeta, SecretName,
    SetOptions, Timestamp,
};

use super::{Format, StoreOptions, actor, block_on, input, progress, report};
use crate::exit::Exit;

/// Which secret: scope (inferred from `--pipeline`/`--user` when not given) and environment.
#[derive(Debug, Clone, Args)]
pub struct ScopeArgs {
    /// workspace, pipeline or personal [default: pipeline with --pipeline, personal with --user,
    /// else workspace].
    #[arg(long, value_name = "SCOPE")]
    scope: Option<String>,
    /// The pipeline id (pipeline scope).
    #[arg(long)]
    pipeline: Option<String>,
    /// The user id (personal scope).
    #[arg(long)]
    user: Option<String>,
    /// The environment (e.g. production) [default: all environments].
    #[arg(long = "env", value_name = "ENV")]
    env: Option<String>,
}

impl ScopeArgs {
    fn scope(&self) -> Result<Scope> {
        let kind = match &self.scope {
            Some(text) => ScopeKind::parse(text)?,
            None if self.pipeline.is_some() => ScopeKind::Pipeline,
            None if self.user.is_some() => ScopeKind::Personal,
            None => ScopeKind::Workspace,
        };
        let owner = match kind {
            ScopeKind::Workspace => None,
            ScopeKind::Pipeline => self.pipeline.as_deref(),
            ScopeKind::Personal => self.user.as_deref(),
        };
        Ok(Scope::from_parts(kind, owner)?)
    }

    fn key(&self, store: &StoreOptions, name: &str) -> Result<SecretKey> {
        Ok(SecretKey::new(&store.workspace, SecretName::new(name)?)
            .scope(self.scope()?)
            .environment(Environment::new(self.env.as_deref())))
    }
}

/// `sigil secrets ...`.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Create a secret or add a version (value from stdin or a hidden prompt).
    Set {
        /// The secret's name.
        name: String,
        /// The value (visible to other users in process arguments: prefer stdin).
        value: Option<String>,
        #[command(flatten)]
        scope: ScopeArgs,
        /// What the secret is for.
        #[arg(long)]
        description: Option<String>,
        /// Metadata, a JSON object.
        #[arg(long)]
        metadata: Option<String>,
        /// Lifetime, e.g. 12h or 30d.
        #[arg(long)]
        ttl: Option<String>,
        /// Rotation period in days (`secrets list --due` shows overdue secrets).
        #[arg(long)]
        rotation_days: Option<u32>,
        /// Only write if the current version is N (0: only create).
        #[arg(long, value_name = "N")]
        if_version: Option<i64>,
        /// Why (recorded with the version).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        store: StoreOptions,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show a secret's metadata; with --reveal print its value (audited).
    Get {
        /// The secret's name.
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Print the value.
        #[arg(long)]
        reveal: bool,
        /// With --reveal: this version instead of the current one.
        #[arg(long, value_name = "N", requires = "reveal")]
        version: Option<i64>,
        #[command(flatten)]
        store: StoreOptions,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List secrets (metadata only).
    List {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Only secrets past their rotation period.
        #[arg(long)]
        due: bool,
        /// Only expired secrets.
        #[arg(long)]
        expired: bool,
        /// Include deleted secrets.
        #[arg(long)]
        deleted: bool,
        #[command(flatten)]
        store: StoreOptions,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Add a version with a new value and a reason.
    Rotate {
        /// The secret's name.
        name: String,
        /// The value (prefer stdin).
        value: Option<String>,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Why.
        #[arg(long, required = true)]
        reason: String,
        /// Only write if the current version is N.
        #[arg(long, value_name = "N")]
        if_version: Option<i64>,
        #[command(flatten)]
        store: StoreOptions,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Every version: who, when, why, how.
    History {
        /// The secret's name.
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        store: StoreOptions,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Add a version holding version N's value.
    Rollback {
        /// The secret's name.
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// The version to bring back.
        #[arg(long, value_name = "N")]
        to: i64,
        /// Why.
        #[arg(long, required = true)]
        reason: String,
        #[command(flatten)]
        store: StoreOptions,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Soft delete: the secret stops resolving; history and audit remain.
    Delete {
        /// The secret's name.
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        store: StoreOptions,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Remove a secret and all its versions for good (audited).
    Purge {
        /// The secret's name.
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        store: StoreOptions,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Import a .env file (dotenvy's dialect) in one transaction; `-` reads stdin.
    Import {
        /// The .env file.
        file: PathBuf,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        store: StoreOptions,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Export secrets; values need --reveal (each read is audited).
    Export {
        #[command(flatten)]
        scope: ScopeArgs,
        /// dotenv (imports back byte for byte) or json.
        #[arg(long, value_enum, default_value_t)]
        format: ExportFormat,
        /// Include values.
        #[arg(long)]
        reveal: bool,
        /// Write to this new file (mode 0600) instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        store: StoreOptions,
    },
    /// Print a short-lived `$secret:` handle for a secret.
    Handle {
        /// The secret's name.
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Lifetime [default: 5m].
        #[arg(long)]
        ttl: Option<String>,
        #[command(flatten)]
        store: StoreOptions,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Redeem a `$secret:` handle and print the value (audited).
    Redeem {
        /// The handle.
        handle: String,
        #[command(flatten)]
        store: StoreOptions,
    },
}

/// Formats of `secrets export`.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum ExportFormat {
    /// `.env` lines.
    #[default]
    Dotenv,
    /// A JSON object of name to value (or metadata without --reveal).
    Json,
}

fn print_meta(meta: &SecretMeta, format: Format) -> Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(meta)?),
        Format::Text => {
            let now = Timestamp::now();
            println!("name:        {}", meta.key.name);
            println!("scope:       {}", meta.key.scope);
            println!("environment: {}", meta.key.environment);
            println!("workspace:   {}", meta.key.workspace);
            println!("version:     {}", meta.version);
            if !meta.description.is_empty() {
                println!("description: {}", meta.description);
            }
            if meta.metadata.as_object().is_some_and(|m| !m.is_empty()) {
                println!("metadata:    {}", meta.metadata);
            }
            println!("created:     {} by {}", meta.created_at, meta.created_by);
            println!("updated:     {} by {}", meta.updated_at, meta.updated_by);
            if let Some(days) = meta.rotation_days {
                let due = if meta.is_due(now) { " (due)" } else { "" };
                println!("rotation:    every {days} days{due}");
            }
            if let Some(at) = meta.expires_at {
                let expired = if meta.is_expired(now) {
                    " (expired)"
                } else {
                    ""
                };
                println!("expires:     {at}{expired}");
            }
        }
    }
    Ok(())
}

fn print_written(meta: &SecretMeta, version: i64, format: Format) -> Result<()> {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::json!({"name": meta.key.name, "scope": meta.key.scope,
                "environment": meta.key.environment, "version": version})
        ),
        Format::Text => println!(
            "{} ({}, env {}) is at version {version}",
            meta.key.name, meta.key.scope, meta.key.environment
        ),
    }
    Ok(())
}

/// Runs `sigil secrets ...`.
pub fn secrets(command: SecretsCommand) -> Result<Exit> {
    report(block_on(run(command)))
}

async fn run(command: SecretsCommand) -> Result<Exit> {
    let actor = actor();
    match command {
        SecretsCommand::Set {
            name,
            value,
            scope,
            description,
            metadata,
            ttl,
            rotation_days,
            if_version,
            reason,
            store,
            format,
        } => {
            let key = scope.key(&store, &name)?;
            let metadata = metadata
                .map(|m| serde_json::from_str::<serde_json::Value>(&m))
                .transpose()
                .context("--metadata is not JSON")?;
            let options = SetOptions {
                description,
                metadata,
                ttl: ttl
                    .as_deref()
                    .map(sigil_store::parse_duration)
                    .transpose()?,
                rotation_days,
                if_version,
                reason,
            };
            let db = store.open().await?;
            let value = input::read_value(value, &name)?;
            let (meta, info) = db.set(&actor, &key, &value, &options).await?;
            print_written(&meta, info.version, format)?;
        }
        SecretsCommand::Get {
            name,
            scope,
            reveal,
            version,
            store,
            format,
        } => {
            let key = scope.key(&store, &name)?;
            let db = store.open().await?;
            if reveal {
                let (meta, value) = db.reveal(&actor, &key, &Access::default(), version).await?;
                match format {
                    Format::Json => println!(
                        "{}",
                        serde_json::json!({"name": meta.key.name, "version": version.unwrap_or(meta.version),
                            "value": value.expose_secret()})
                    ),
                    Format::Text => {
                        let mut out = std::io::stdout().lock();
                        out.write_all(value.expose_secret().as_bytes())?;
                        out.write_all(b"\n")?;
                    }
                }
            } else {
                print_meta(&db.get(&key).await?, format)?;
            }
        }
        SecretsCommand::List {
            scope,
            due,
            expired,
            deleted,
            store,
            format,
        } => {
            let filter = ListFilter {
                scope: scope
                    .scope
                    .as_deref()
                    .map(ScopeKind::parse)
                    .transpose()?
                    .or(if scope.pipeline.is_some() {
                        Some(ScopeKind::Pipeline)
                    } else if scope.user.is_some() {
                        Some(ScopeKind::Personal)
                    } else {
                        None
                    }),
                owner: scope.pipeline.clone().or(scope.user.clone()),
                environment: scope.env.as_deref().map(|e| Environment::new(Some(e))),
                due,
                expired,
                include_deleted: deleted,
            };
            let db = store.open().await?;
            let list = db.list(&store.workspace, &filter).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&list)?),
                Format::Text => {
                    let now = Timestamp::now();
                    for meta in &list {
                        let mut flags = Vec::new();
                        if meta.is_due(now) {
                            flags.push("due");
                        }
                        if meta.is_expired(now) {
                            flags.push("expired");
                        }
                        if meta.deleted_at.is_some() {
                            flags.push("deleted");
                        }
                        println!(
                            "{:<32} {:<24} {:<12} v{:<4} {} {}",
                            meta.key.name,
                            meta.key.scope.to_string(),
                            meta.key.environment.to_string(),
                            meta.version,
                            meta.updated_at,
                            flags.join(",")
                        );
                    }
                }
            }
        }
        SecretsCommand::Rotate {
            name,
            value,
            scope,
            reason,
            if_version,
            store,
            format,
        } => {
            let key = scope.key(&store, &name)?;
            let db = store.open().await?;
            let value = input::read_value(value, &name)?;
            let (meta, info) = db.rotate(&actor, &key, &value, &reason, if_version).await?;
            print_written(&meta, info.version, format)?;
        }
        SecretsCommand::History {
            name,
            scope,
            store,
            format,
        } => {
            let key = scope.key(&store, &name)?;
            let db = store.open().await?;
            let history = db.history(&key).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&history)?),
                Format::Text => {
                    for v in &history {
                        let how = serde_json::to_value(v.how)?;
                        println!(
                            "v{:<4} {} {:<12} {:<9} {}",
                            v.version,
                            v.created_at,
                            v.created_by,
                            how.as_str().unwrap_or(""),
                            v.reason
                        );
                    }
                }
            }
        }
        SecretsCommand::Rollback {
            name,
            scope,
            to,
            reason,
            store,
            format,
        } => {
            let key = scope.key(&store, &name)?;
            let db = store.open().await?;
            let (meta, info) = db.rollback(&actor, &key, to, &reason).await?;
            print_written(&meta, info.version, format)?;
        }
        SecretsCommand::Delete {
            name,
            scope,
            store,
            format,
        } => {
            let key = scope.key(&store, &name)?;
            let db = store.open().await?;
            let meta = db.delete(&actor, &key).await?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::json!({"deleted": meta.key, "version": meta.version})
                ),
                Format::Text => {
                    println!("deleted {key}; history and audit remain (purge removes it for good)")
                }
            }
        }
        SecretsCommand::Purge {
            name,
            scope,
            store,
            format,
        } => {
            let key = scope.key(&store, &name)?;
            let db = store.open().await?;
            let meta = db.purge(&actor, &key).await?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::json!({"purged": meta.key, "versions": meta.version})
                ),
                Format::Text => println!("purged {key}"),
            }
        }
        SecretsCommand::Import {
            file,
            scope,
            store,
            format,
        } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("read stdin")?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("read {}", file.display()))?
            };
            let parsed =
                sigil_store::parse_dotenv(&text).with_context(|| file.display().to_string())?;
            for name in &parsed.duplicates {
                eprintln!(
                    "warning: {}: `{name}` appears more than once; the last value wins",
                    file.display()
                );
            }
            let template = scope.key(&store, "placeholder")?;
            let db = store.open().await?;
            let count = parsed.entries.len();
            db.import(&actor, &template, parsed.entries, &progress)
                .await?;
            match format {
                Format::Json => println!("{}", serde_json::json!({"imported": count})),
                Format::Text => println!("imported {count} secrets from {}", file.display()),
            }
        }
        SecretsCommand::Export {
            scope,
            format,
            reveal,
            output,
            store,
        } => {
            let db = store.open().await?;
            let filter = ListFilter {
                scope: Some(scope.scope()?.kind()),
                owner: Some(scope.scope()?.owner().to_owned()),
                environment: Some(Environment::new(scope.env.as_deref())),
                ..ListFilter::default()
            };
            let list = db.list(&store.workspace, &filter).await?;
            let text = if !reveal {
                if matches!(format, ExportFormat::Dotenv) {
                    bail!("a .env export holds values: add --reveal (each read is audited)");
                }
                serde_json::to_string_pretty(&list)?
            } else {
                let mut entries: Vec<(SecretName, SecretString)> = Vec::with_capacity(list.len());
                for meta in &list {
                    let (_, value) = db
                        .reveal(&actor, &meta.key, &Access::default(), None)
                        .await?;
                    entries.push((meta.key.name.clone(), value));
                }
                match format {
                    ExportFormat::Dotenv => sigil_store::render_dotenv(&entries)?,
                    ExportFormat::Json => {
                        let map: serde_json::Map<String, serde_json::Value> = entries
                            .iter()
                            .map(|(n, v)| (n.to_string(), v.expose_secret().into()))
                            .collect();
                        serde_json::to_string_pretty(&map)? + "\n"
                    }
                }
            };
            match output {
                Some(path) => input::write_private(&path, text.as_bytes())?,
                None => std::io::stdout().lock().write_all(text.as_bytes())?,
            }
        }
        SecretsCommand::Handle {
            name,
            scope,
            ttl,
            store,
            format,
        } => {
            let key = scope.key(&store, &name)?;
            let ttl = ttl
                .as_deref()
                .map(sigil_store::parse_duration)
                .transpose()?;
            let db = store.open().await?;
            let (handle, expires) = db.issue_handle(&actor, &key, ttl).await?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::json!({"handle": handle, "expires_at": expires.to_string()})
                ),
                Format::Text => println!("{handle}"),
            }
        }
        SecretsCommand::Redeem { handle, store } => {
            let db = store.open().await?;
            let (_, value) = db
                .redeem_handle(&actor, &store.workspace, &handle, &Access::default())
                .await?;
            let mut out = std::io::stdout().lock();
            out.write_all(value.expose_secret().as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    Ok(Exit::Ok)
}
