//! Run-context flags and the choice of secret source, shared by `resolve`, `explain`, `check`
//! and `run`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use secrecy::SecretString;
use sigil::StoreSource;
use sigil::parser::Scope;
use sigil::resolver::{
    Access, Found, HandleOutcome, Lookup, MemorySource, PointerPattern, Policy, Reveal, RunContext,
    SecretSource, SourceError, Trigger,
};
use sigil::store::Store;

use crate::commands::store::{StoreOptions, actor};
use crate::secrets_file;

/// Who and what the run is.
#[derive(Debug, Clone, Args)]
pub struct ContextArgs {
    /// The pipeline the run belongs to (its pipeline-scoped secrets apply).
    #[arg(long, env = "SIGIL_PIPELINE")]
    pub pipeline: Option<String>,
    /// The pipeline's owner, whose personal secrets automated runs see.
    #[arg(long, env = "SIGIL_PIPELINE_OWNER", value_name = "USER")]
    pub pipeline_owner: Option<String>,
    /// The environment (`development`, `staging`, `production`, or any name).
    #[arg(long = "env", env = "SIGIL_ENV", value_name = "ENVIRONMENT")]
    pub environment: Option<String>,
    /// The user who starts a manual run [default: the login name].
    #[arg(long, env = "SIGIL_USER")]
    pub user: Option<String>,
    /// How the run was started: by a user, by the API on the owner's behalf, or by a schedule.
    #[arg(long, value_enum, default_value_t = TriggerArg::Manual)]
    pub trigger: TriggerArg,
    /// The run id recorded in audit records [default: a new one].
    #[arg(long, env = "SIGIL_RUN_ID")]
    pub run_id: Option<String>,
    /// Allow secrets only at JSON pointers matching this pattern (repeatable; `*` is one token,
    /// `**` any number, `{a,b}` either): `--allow '/steps/*/fetch/{url,headers}'`. A reference
    /// anywhere else is SIG105.
    #[arg(long = "allow", value_name = "POINTER_PATTERN")]
    pub allow: Vec<String>,
}

/// `--trigger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TriggerArg {
    /// Started by a user (`--user`).
    Manual,
    /// Started by the API or a webhook on behalf of the pipeline owner.
    Automated,
    /// Started by a schedule: no personal scope.
    Schedule,
}

impl ContextArgs {
    /// The policy: the default scope order and shell fields, and the `--allow` list if given.
    pub fn policy(&self) -> Policy {
        self.allow
            .iter()
            .fold(Policy::default(), |policy, pattern| {
                policy.allow(PointerPattern::new(pattern))
            })
    }

    /// The run context in `workspace`.
    pub fn context(&self, workspace: &str) -> RunContext {
        let trigger = match self.trigger {
            TriggerArg::Manual => Trigger::Manual {
                user: self.user.clone().unwrap_or_else(|| actor().name),
            },
            TriggerArg::Automated => Trigger::Automated,
            TriggerArg::Schedule => Trigger::Schedule,
        };
        let mut context = RunContext::new(workspace).trigger(trigger);
        context.pipeline = self.pipeline.clone();
        context.pipeline_owner = self.pipeline_owner.clone();
        context.environment = self.environment.clone();
        if let Some(run_id) = &self.run_id {
            context.run_id = run_id.clone();
        }
        context
    }
}

/// Where values come from: `--secrets FILE`, or the store.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Read secrets from this .env or JSON file instead of the store (JSON may be scoped:
    /// {"workspace": {...}, "pipeline": {...}, "personal": {...}, "workspace@production": {...}}).
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreOptions,
}

/// An opened source: a secrets file in memory, or the store.
#[derive(Debug)]
pub enum OpenedSource {
    /// Values from a secrets file.
    File(MemorySource),
    /// The store.
    Store(Store),
}

impl SourceArgs {
    /// Opens the source; `create` makes the store (and its key) on first use.
    pub async fn open(&self, create: bool) -> Result<OpenedSource> {
        match &self.secrets {
            Some(path) => Ok(OpenedSource::File(memory_source(path)?)),
            None if create => Ok(OpenedSource::Store(self.store.open_or_init().await?)),
            None => Ok(OpenedSource::Store(self.store.open().await?)),
        }
    }
}

impl OpenedSource {
    /// The source the resolver reads.
    pub fn source(&self) -> CliSource<'_> {
        match self {
            OpenedSource::File(memory) => CliSource::File(memory),
            OpenedSource::Store(store) => CliSource::Store(StoreSource::new(store, actor())),
        }
    }

    /// Whether values come from the store (reads are audited there).
    pub fn is_store(&self) -> bool {
        matches!(self, OpenedSource::Store(_))
    }
}

/// A secrets file as a scoped in-memory source.
pub fn memory_source(path: &std::path::Path) -> Result<MemorySource> {
    let mut source = MemorySource::new();
    for secret in secrets_file::load(path)? {
        let Some(scope) = Scope::from_name(&secret.scope) else {
            bail!("{}: unknown scope {}", path.display(), secret.scope);
        };
        source.insert(
            scope,
            None,
            secret.environment.as_deref(),
            &secret.name,
            secret.value,
        );
    }
    Ok(source)
}

/// The resolver's source for one command.
#[derive(Debug)]
pub enum CliSource<'a> {
    /// A secrets file.
    File(&'a MemorySource),
    /// The store.
    Store(StoreSource<'a>),
}

impl SecretSource for CliSource<'_> {
    async fn find(
        &self,
        context: &RunContext,
        lookups: &[Lookup<'_>],
    ) -> Result<Vec<Found>, SourceError> {
        match self {
            CliSource::File(source) => source.find(context, lookups).await,
            CliSource::Store(source) => source.find(context, lookups).await,
        }
    }

    async fn reveal(
        &self,
        items: &[Reveal<'_>],
        access: Access<'_>,
    ) -> Result<Vec<SecretString>, SourceError> {
        match self {
            CliSource::File(source) => source.reveal(items, access).await,
            CliSource::Store(source) => source.reveal(items, access).await,
        }
    }

    async fn redeem(
        &self,
        tokens: &[String],
        access: Access<'_>,
    ) -> Result<Vec<HandleOutcome>, SourceError> {
        match self {
            CliSource::File(source) => source.redeem(tokens, access).await,
            CliSource::Store(source) => source.redeem(tokens, access).await,
        }
    }
}

/// A tokio runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
