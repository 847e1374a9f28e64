//! Store commands: `init`, `secrets ...`, `audit`, `key rotate`, `backup`, `restore`.
//!
//! The store is selected by [`StoreOptions`] (shared with `resolve`, `run` and `check`): the
//! SQLite file `$SIGIL_HOME/store.db` by default, or `--store URL` / `SIGIL_STORE` (a SQLite path
//! or `postgres://...`). The master key comes from `SIGIL_MASTER_KEY` (base64 of 32 bytes),
//! `SIGIL_PASSPHRASE` (Argon2id), or the key file `$SIGIL_HOME/master.key`.

mod input;
mod secret_commands;

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use secrecy::SecretString;
use sigil_store::{
    Actor, AuditQuery, ErrorKind, KeySource, MasterKey, ReadAuditSync, Store, StoreLocation,
    Timestamp,
};

use crate::exit::Exit;

pub use secret_commands::{SecretsCommand, secrets};

/// Store selection, shared by every command that reads the store.
#[derive(Debug, Clone, Args)]
pub struct StoreOptions {
    /// The store: a SQLite file path or a postgres:// URL [default: $SIGIL_HOME/store.db].
    #[arg(long, env = "SIGIL_STORE", value_name = "URL", global = true)]
    pub store: Option<String>,
    /// The workspace.
    #[arg(
        long,
        env = "SIGIL_WORKSPACE",
        default_value = "default",
        global = true
    )]
    pub workspace: String,
    /// How the audit record of a value read reaches the disk: `deferred` commits it before the
    /// value is returned without waiting for its own fsync (power loss can lose the last
    /// ones); `full` waits for the fsync, as writes always do.
    #[arg(
        long,
        env = "SIGIL_READ_AUDIT_SYNC",
        value_enum,
        default_value_t = ReadAuditSyncArg::Deferred,
        global = true
    )]
    pub read_audit_sync: ReadAuditSyncArg,
}

/// [`ReadAuditSync`] on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadAuditSyncArg {
    /// Commit before returning the value; the fsync comes with the next write or checkpoint.
    Deferred,
    /// Wait for the fsync of every read's audit record.
    Full,
}

impl From<ReadAuditSyncArg> for ReadAuditSync {
    fn from(arg: ReadAuditSyncArg) -> ReadAuditSync {
        match arg {
            ReadAuditSyncArg::Deferred => ReadAuditSync::Deferred,
            ReadAuditSyncArg::Full => ReadAuditSync::Full,
        }
    }
}

/// Output formats for people and scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Lines for people.
    #[default]
    Text,
    /// JSON for scripts.
    Json,
}

impl StoreOptions {
    /// `$SIGIL_HOME`, else the platform data directory plus `sigil`.
    pub fn home(&self) -> Result<PathBuf> {
        if let Some(home) = std::env::var_os("SIGIL_HOME") {
            return Ok(PathBuf::from(home));
        }
        dirs::data_dir()
            .map(|dir| dir.join("sigil"))
            .context("no data directory on this platform: set SIGIL_HOME")
    }

    /// Where the store lives.
    pub fn location(&self) -> Result<StoreLocation> {
        match &self.store {
            Some(url) => Ok(StoreLocation::parse(url)?),
            None => Ok(StoreLocation::Sqlite(self.home()?.join("store.db"))),
        }
    }

    /// The key file.
    pub fn key_path(&self) -> Result<PathBuf> {
        Ok(self.home()?.join("master.key"))
    }

    fn env_key() -> Result<Option<KeySource>> {
        if let Some(key) = std::env::var_os("SIGIL_MASTER_KEY") {
            let key = key.to_str().context("SIGIL_MASTER_KEY is not UTF-8")?;
            return Ok(Some(KeySource::Key(
                MasterKey::from_base64(key).context("SIGIL_MASTER_KEY")?,
            )));
        }
        if let Some(pass) = std::env::var_os("SIGIL_PASSPHRASE") {
            let pass = pass
                .into_string()
                .ok()
                .context("SIGIL_PASSPHRASE is not UTF-8")?;
            return Ok(Some(KeySource::Passphrase(SecretString::from(pass))));
        }
        Ok(None)
    }

    /// Opens the store, checking the key. A missing store says how to create one.
    ///
    /// When the key file does not open the store but a `master.key.next` left by an interrupted
    /// `sigil key rotate` does, that key is moved into place and used.
    pub async fn open(&self) -> Result<Store> {
        let store = self.open_with_key().await?;
        Ok(store.with_read_audit_sync(self.read_audit_sync.into()))
    }

    async fn open_with_key(&self) -> Result<Store> {
        let location = self.location()?;
        if let Some(key) = Self::env_key()? {
            return Ok(Store::open(&location, key).await?);
        }
        let path = self.key_path()?;
        let key = match sigil_store::read_key_file(&path) {
            Ok(key) => key,
            Err(err) if matches!(err.kind(), ErrorKind::KeyMissing { .. }) => {
                // Say "no store" before "no key" when neither exists.
                if !Store::exists(&location).await? {
                    return Err(sigil_store::Error::from(ErrorKind::StoreMissing {
                        location: location.to_string(),
                    })
                    .into());
                }
                return Err(err.into());
            }
            Err(err) => return Err(err.into()),
        };
        match Store::open(&location, KeySource::Key(key)).await {
            Err(err) if matches!(err.kind(), ErrorKind::WrongKey { .. }) => {
                let next = path.with_extension("key.next");
                let Ok(key) = sigil_store::read_key_file(&next) else {
                    return Err(err.into());
                };
                let store = Store::open(&location, KeySource::Key(key))
                    .await
                    .map_err(|_| err)?;
                std::fs::rename(&next, &path)
                    .with_context(|| format!("finish key rotation: move {}", next.display()))?;
                tracing::warn!(
                    "finished an interrupted key rotation: {} is the key now",
                    path.display()
                );
                Ok(store)
            }
            other => Ok(other?),
        }
    }

    /// Opens the store, creating it and its key on first use (for `sigil run`).
    pub async fn open_or_init(&self) -> Result<Store> {
        let location = self.location()?;
        if Store::exists(&location).await? {
            return self.open().await;
        }
        let store = init_store(self).await?;
        Ok(store.with_read_audit_sync(self.read_audit_sync.into()))
    }
}

/// The actor recorded in audit records: `SIGIL_ACTOR`, else the login name.
pub fn actor() -> Actor {
    let name = std::env::var("SIGIL_ACTOR")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    Actor::new(name)
}

/// Runs a future on a small runtime.
pub(crate) fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start async runtime")?
        .block_on(future)
}

/// Prints a command's error and maps it to the documented exit codes: 1 for findings (not
/// found, conflict, expired, refused handle, broken audit chain), 2 for usage (bad name or
/// argument, missing store or key), 3 for everything else.
pub(crate) fn report(result: Result<Exit>) -> Result<Exit> {
    let err = match result {
        Ok(exit) => return Ok(exit),
        Err(err) => err,
    };
    if crate::exit::is_broken_pipe(&err) {
        return Err(err);
    }
    let exit = match err
        .chain()
        .find_map(|c| c.downcast_ref::<sigil_store::Error>())
    {
        Some(store_err) => match store_err.kind() {
            ErrorKind::NotFound { .. }
            | ErrorKind::Conflict { .. }
            | ErrorKind::Expired { .. }
            | ErrorKind::HandleBadMac
            | ErrorKind::HandleExpired
            | ErrorKind::HandleOtherWorkspace
            | ErrorKind::HandleMalformed => Exit::Findings,
            ErrorKind::InvalidName { .. }
            | ErrorKind::InvalidInput { .. }
            | ErrorKind::Dotenv { .. }
            | ErrorKind::StoreMissing { .. }
            | ErrorKind::StoreExists { .. }
            | ErrorKind::KeyMissing { .. }
            | ErrorKind::KeyFilePermissions { .. }
            | ErrorKind::NotEmpty => Exit::Usage,
            _ => Exit::Internal,
        },
        None => Exit::Internal,
    };
    eprintln!("error: {err:#}");
    Ok(exit)
}

/// Progress on a terminal only.
pub(crate) fn progress(done: usize, total: usize) {
    if std::io::stderr().is_terminal() && total > 0 && (done == total || done.is_multiple_of(100)) {
        eprint!("\r{done}/{total}");
        if done == total {
            eprintln!();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// init

/// Arguments of `sigil init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    store: StoreOptions,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

async fn init_store(options: &StoreOptions) -> Result<Store> {
    let location = options.location()?;
    if Store::exists(&location).await? {
        return Err(sigil_store::Error::from(ErrorKind::StoreExists {
            location: location.to_string(),
        })
        .into());
    }
    let actor = actor();
    if let Some(key) = StoreOptions::env_key()? {
        return Ok(Store::create(&location, key, &actor).await?);
    }
    let path = options.key_path()?;
    let key = MasterKey::generate();
    sigil_store::create_key_file(&path, &key).with_context(|| {
        format!(
            "a key file exists at {}: remove it only if no store uses it",
            path.display()
        )
    })?;
    match Store::create(&location, KeySource::Key(key), &actor).await {
        Ok(store) => Ok(store),
        Err(err) => {
            let _ = std::fs::remove_file(&path);
            Err(err.into())
        }
    }
}

/// Runs `sigil init`.
pub fn init(args: InitArgs) -> Result<Exit> {
    report(block_on(async {
        let store = init_store(&args.store).await?;
        let key_file = match StoreOptions::env_key()? {
            Some(_) => None,
            None => Some(args.store.key_path()?),
        };
        match args.format {
            Format::Json => println!(
                "{}",
                serde_json::json!({
                    "store": store.location().to_string(),
                    "key_id": store.key_id(),
                    "key_file": key_file.as_ref().map(|p| p.display().to_string()),
                })
            ),
            Format::Text => {
                println!("created store {}", store.location());
                match key_file {
                    Some(path) => println!(
                        "master key {} written to {} (mode 0600): back it up, it cannot be recovered",
                        store.key_id(),
                        path.display()
                    ),
                    None => println!("master key {} (from the environment)", store.key_id()),
                }
            }
        }
        Ok(Exit::Ok)
    }))
}

// ---------------------------------------------------------------------------------------------
// audit

/// Arguments of `sigil audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    #[command(flatten)]
    store: StoreOptions,
    /// Only records of this secret name.
    #[arg(long)]
    secret: Option<String>,
    /// Only this action (set, rotate, import, rollback, access, delete, purge, handle.issue,
    /// handle.redeem, key.rotate, backup, restore, init).
    #[arg(long)]
    action: Option<String>,
    /// Only this pipeline.
    #[arg(long)]
    pipeline: Option<String>,
    /// Only this run.
    #[arg(long)]
    run: Option<String>,
    /// Only the last N days.
    #[arg(long)]
    days: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t, global = true)]
    format: Format,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; name the first edited, deleted or reordered record (exit 1).
    Verify,
}

/// Runs `sigil audit`.
pub fn audit(args: AuditArgs) -> Result<Exit> {
    report(block_on(async {
        let store = args.store.open().await?;
        if matches!(args.command, Some(AuditCommand::Verify)) {
            let verdict = store.verify_audit().await?;
            match args.format {
                Format::Json => println!("{}", serde_json::to_string(&verdict)?),
                Format::Text => match &verdict.first_bad {
                    None => println!("audit chain intact: {} records", verdict.records),
                    Some(defect) => println!(
                        "audit chain broken at record {}: {}",
                        defect.seq, defect.problem
                    ),
                },
            }
            return Ok(if verdict.first_bad.is_some() {
                Exit::Findings
            } else {
                Exit::Ok
            });
        }
        let query = AuditQuery {
            name: args.secret,
            action: args.action,
            pipeline: args.pipeline,
            run: args.run,
            since: args
                .days
                .map(|d| Timestamp(Timestamp::now().0 - (d as i64) * 86_400_000_000)),
            workspace: None,
        };
        let records = store.audit(&query).await?;
        match args.format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&records)?),
            Format::Text => {
                for r in &records {
                    let mut line =
                        format!("{:>6}  {}  {:<14} {:<12}", r.seq, r.at, r.action, r.actor);
                    if let Some(name) = &r.name {
                        line.push_str(&format!(
                            " {}/{}/{} v{}",
                            r.scope.as_deref().unwrap_or(""),
                            name,
                            r.environment.as_deref().unwrap_or("*"),
                            r.version.unwrap_or(0)
                        ));
                    }
                    for (label, value) in [
                        ("pipeline", &r.pipeline),
                        ("run", &r.run),
                        ("step", &r.step),
                    ] {
                        if let Some(value) = value {
                            line.push_str(&format!(" {label}={value}"));
                        }
                    }
                    line.push_str(&format!(" {}", r.outcome));
                    if let Some(detail) = &r.detail {
                        line.push_str(&format!(" ({detail})"));
                    }
                    println!("{line}");
                }
            }
        }
        Ok(Exit::Ok)
    }))
}

// ---------------------------------------------------------------------------------------------
// key rotate

/// `sigil key ...`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a new master key, re-wrap every data key with it in one transaction, verify every
    /// value decrypts with it, then retire the old key. With SIGIL_MASTER_KEY the new key comes
    /// from SIGIL_NEW_MASTER_KEY; with SIGIL_PASSPHRASE from SIGIL_NEW_PASSPHRASE.
    Rotate {
        #[command(flatten)]
        store: StoreOptions,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Runs `sigil key ...`.
pub fn key(command: KeyCommand) -> Result<Exit> {
    let KeyCommand::Rotate {
        store: options,
        format,
    } = command;
    report(block_on(async {
        let store = options.open().await?;
        let old_id = store.key_id();
        let actor = actor();
        let count;
        if std::env::var_os("SIGIL_MASTER_KEY").is_some() {
            let new = std::env::var("SIGIL_NEW_MASTER_KEY")
                .context("rotating an environment key: set SIGIL_NEW_MASTER_KEY to the new key")?;
            let new = MasterKey::from_base64(&new).context("SIGIL_NEW_MASTER_KEY")?;
            count = store
                .rotate_master_key(&actor, KeySource::Key(new), &progress)
                .await?;
        } else if std::env::var_os("SIGIL_PASSPHRASE").is_some() {
            let new = std::env::var("SIGIL_NEW_PASSPHRASE")
                .context("rotating a passphrase: set SIGIL_NEW_PASSPHRASE to the new passphrase")?;
            count = store
                .rotate_master_key(
                    &actor,
                    KeySource::Passphrase(SecretString::from(new)),
                    &progress,
                )
                .await?;
        } else {
            // The new key is written beside the old one first, so a crash at any point leaves a
            // key that opens the store (`StoreOptions::open` finishes an interrupted rotation).
            let path = options.key_path()?;
            let next = path.with_extension("key.next");
            let _ = std::fs::remove_file(&next);
            let new = MasterKey::generate();
            sigil_store::create_key_file(&next, &new)?;
            count = store
                .rotate_master_key(&actor, KeySource::Key(new), &progress)
                .await?;
            std::fs::rename(&next, &path).with_context(|| {
                format!("retire the old key: move {} into place", next.display())
            })?;
        }
        match format {
            Format::Json => println!(
                "{}",
                serde_json::json!({"old_key_id": old_id, "new_key_id": store.key_id(), "versions": count})
            ),
            Format::Text => println!(
                "master key rotated: {old_id} -> {}; {count} data keys re-wrapped and verified",
                store.key_id()
            ),
        }
        Ok(Exit::Ok)
    }))
}

// ---------------------------------------------------------------------------------------------
// backup and restore

/// Arguments of `sigil backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to write (must not exist).
    file: PathBuf,
    #[command(flatten)]
    store: StoreOptions,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Arguments of `sigil restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file to read.
    file: PathBuf,
    #[command(flatten)]
    store: StoreOptions,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Runs `sigil backup`.
pub fn backup(args: BackupArgs) -> Result<Exit> {
    report(block_on(async {
        let store = args.store.open().await?;
        let bytes = store.backup(&actor()).await?;
        input::write_private(&args.file, &bytes)?;
        match args.format {
            Format::Json => println!(
                "{}",
                serde_json::json!({"backup": args.file.display().to_string(), "key_id": store.key_id()})
            ),
            Format::Text => println!(
                "backup written to {} (encrypted with master key {})",
                args.file.display(),
                store.key_id()
            ),
        }
        Ok(Exit::Ok)
    }))
}

/// Runs `sigil restore`.
pub fn restore(args: RestoreArgs) -> Result<Exit> {
    report(block_on(async {
        let bytes = std::fs::read(&args.file)
            .with_context(|| format!("read backup {}", args.file.display()))?;
        let location = args.store.location()?;
        let key = match StoreOptions::env_key()? {
            Some(key) => key,
            None => KeySource::Key(sigil_store::read_key_file(&args.store.key_path()?)?),
        };
        let store = Store::restore(&location, key, &actor(), &bytes).await?;
        match args.format {
            Format::Json => println!(
                "{}",
                serde_json::json!({"restored": args.file.display().to_string(),
                    "store": store.location().to_string()})
            ),
            Format::Text => println!("restored {} into {}", args.file.display(), store.location()),
        }
        Ok(Exit::Ok)
    }))
}
