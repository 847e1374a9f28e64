//! Where values come from: the [`SecretSource`] trait and the in-memory source.

use std::future::Future;

use secrecy::SecretString;
use sigil_parser::Scope;

use crate::RunContext;

/// One place a secret may live: a scope, its owner (the pipeline id for `pipeline`, the user for
/// `personal`, none for `workspace`), and an environment (`None`: all environments).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slot {
    /// The scope.
    pub scope: Scope,
    /// The pipeline or user the scope belongs to.
    pub owner: Option<String>,
    /// The environment, or `None` for the all-environments value.
    pub environment: Option<String>,
}

/// One name to look up, with the slots to look in, best first. The name is borrowed from the
/// document (or the caller's list): a step's lookups cost no copy of any name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup<'a> {
    /// The secret name.
    pub name: &'a str,
    /// Slots in precedence order (shared: every unpinned name of a step looks in the same ones).
    pub slots: std::sync::Arc<[Slot]>,
}

/// A slot that holds a (not deleted) secret of a looked-up name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Index of the lookup in the `lookups` given to [`SecretSource::find`].
    pub lookup: usize,
    /// Index into that lookup's [`Lookup::slots`].
    pub slot: usize,
    /// Whether the secret's expiry (TTL) has passed.
    pub expired: bool,
    /// The current version, when the source keeps versions.
    pub version: Option<u64>,
    /// The source's own id of the secret, handed back to it in [`Reveal`].
    pub id: Option<i64>,
}

/// A value to decrypt: the name, the slot that won, and what [`SecretSource::find`] said of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reveal<'a> {
    /// The secret name.
    pub name: &'a str,
    /// The slot that won precedence.
    pub slot: &'a Slot,
    /// The winning [`Found`].
    pub found: Found,
}

/// What an access is for: written into the audit record of every value revealed.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    /// The run.
    pub context: &'a RunContext,
    /// The JSON pointer of the step being resolved.
    pub step: &'a str,
}

/// The outcome of redeeming one `$secret:` handle.
#[derive(Debug)]
#[non_exhaustive]
pub enum HandleOutcome {
    /// The handle is valid: the secret's name and value.
    Redeemed {
        /// The name of the secret the handle was issued for.
        name: String,
        /// The value.
        value: SecretString,
    },
    /// The handle's lifetime has passed (SIG103).
    Expired,
    /// The signature does not match, or the handle cannot be read (SIG104).
    BadSignature,
    /// The handle was issued for another workspace (SIG104).
    OtherWorkspace,
    /// The secret the handle names no longer exists (SIG104).
    SecretGone,
    /// This source issues no handles (SIG104).
    Unsupported,
}

/// A source failed as a whole (the store could not be opened, a query failed). The message
/// never holds a value.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    message: String,
}

impl SourceError {
    /// A source error with a message (lowercase, no value).
    pub fn new(message: impl Into<String>) -> SourceError {
        SourceError {
            message: message.into(),
        }
    }
}

/// Where secret values come from. Each method is one batched call for a whole step.
pub trait SecretSource: Send + Sync {
    /// Every slot of every lookup that holds a secret of the lookup's name, ordered by lookup,
    /// then slot (one flat list for the whole step: no list per name). Reads metadata only: no
    /// value is decrypted, no value access is audited.
    fn find(
        &self,
        context: &RunContext,
        lookups: &[Lookup<'_>],
    ) -> impl Future<Output = Result<Vec<Found>, SourceError>> + Send;

    /// The values of the given slots, in order; a source that audits writes one access record per
    /// value with the run and step of `access`.
    fn reveal(
        &self,
        items: &[Reveal<'_>],
        access: Access<'_>,
    ) -> impl Future<Output = Result<Vec<SecretString>, SourceError>> + Send;

    /// Redeems `$secret:` handles: signature, workspace and lifetime checked.
    fn redeem(
        &self,
        tokens: &[String],
        access: Access<'_>,
    ) -> impl Future<Output = Result<Vec<HandleOutcome>, SourceError>> + Send {
        let _ = access;
        let outcomes = tokens.iter().map(|_| HandleOutcome::Unsupported).collect();
        std::future::ready(Ok(outcomes))
    }
}

/// Secrets held in memory: for embedders, tests, secrets files and the process environment.
///
/// An entry with no owner matches any owner: in a secrets file, the `pipeline` section means the
/// run's pipeline and `personal` the run's user.
///
/// ```
/// use secrecy::SecretString;
/// use sigil_parser::Scope;
/// use sigil_resolver::MemorySource;
///
/// let mut source = MemorySource::new();
/// source.insert(Scope::Workspace, None, None, "db_password", SecretString::from("s3cret-value"));
/// source.insert(Scope::Workspace, None, Some("production"), "db_password", SecretString::from("prod-value"));
/// assert_eq!(source.len(), 2);
/// ```
#[derive(Debug, Default)]
pub struct MemorySource {
    /// Entries by name (a step looks up many names; each has a handful of entries), and the
    /// names in insertion order.
    entries: crate::Map<String, Vec<MemoryEntry>>,
    order: Vec<String>,
}

#[derive(Debug)]
struct MemoryEntry {
    scope: Scope,
    owner: Option<String>,
    environment: Option<String>,
    value: SecretString,
    expired: bool,
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> MemorySource {
        MemorySource::default()
    }

    /// Adds a value; a later value for the same place replaces the earlier one.
    pub fn insert(
        &mut self,
        scope: Scope,
        owner: Option<&str>,
        environment: Option<&str>,
        name: &str,
        value: SecretString,
    ) {
        self.push(scope, owner, environment, name, value, false);
    }

    /// Adds a value whose expiry has passed (for tests and embedders that track expiry).
    pub fn insert_expired(
        &mut self,
        scope: Scope,
        owner: Option<&str>,
        environment: Option<&str>,
        name: &str,
        value: SecretString,
    ) {
        self.push(scope, owner, environment, name, value, true);
    }

    fn push(
        &mut self,
        scope: Scope,
        owner: Option<&str>,
        environment: Option<&str>,
        name: &str,
        value: SecretString,
        expired: bool,
    ) {
        let entries = self.entries.entry(name.to_owned()).or_insert_with(|| {
            self.order.push(name.to_owned());
            Vec::new()
        });
        entries.retain(|entry| {
            !(entry.scope == scope
                && entry.owner.as_deref() == owner
                && entry.environment.as_deref() == environment)
        });
        entries.push(MemoryEntry {
            scope,
            owner: owner.map(str::to_owned),
            environment: environment.map(str::to_owned),
            value,
            expired,
        });
    }

    /// The process environment as workspace secrets for all environments (a snapshot).
    pub fn from_env() -> MemorySource {
        let mut source = MemorySource::new();
        for (name, value) in std::env::vars_os() {
            if let (Ok(name), Ok(value)) = (name.into_string(), value.into_string()) {
                source.insert(
                    Scope::Workspace,
                    None,
                    None,
                    &name,
                    SecretString::from(value),
                );
            }
        }
        source
    }

    /// Every distinct name the source holds, in insertion order.
    pub fn names(&self) -> Vec<String> {
        self.order.clone()
    }

    /// How many values the source holds.
    pub fn len(&self) -> usize {
        self.entries.values().map(Vec::len).sum()
    }

    /// Whether the source holds no value.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry_in<'e>(entries: &'e [MemoryEntry], slot: &Slot) -> Option<&'e MemoryEntry> {
        entries.iter().find(|entry| {
            entry.scope == slot.scope
                && entry.environment == slot.environment
                && (entry.owner.is_none() || entry.owner == slot.owner)
        })
    }
}

impl SecretSource for MemorySource {
    async fn find(
        &self,
        _context: &RunContext,
        lookups: &[Lookup<'_>],
    ) -> Result<Vec<Found>, SourceError> {
        let mut found = Vec::with_capacity(lookups.len());
        for (lookup_index, lookup) in lookups.iter().enumerate() {
            let Some(entries) = self.entries.get(lookup.name) else {
                continue;
            };
            for (index, slot) in lookup.slots.iter().enumerate() {
                if let Some(entry) = MemorySource::entry_in(entries, slot) {
                    found.push(Found {
                        lookup: lookup_index,
                        slot: index,
                        expired: entry.expired,
                        version: None,
                        id: None,
                    });
                }
            }
        }
        Ok(found)
    }

    async fn reveal(
        &self,
        items: &[Reveal<'_>],
        _access: Access<'_>,
    ) -> Result<Vec<SecretString>, SourceError> {
        items
            .iter()
            .map(|item| {
                self.entries
                    .get(item.name)
                    .and_then(|entries| MemorySource::entry_in(entries, item.slot))
                    .map(|entry| entry.value.clone())
                    .ok_or_else(|| SourceError::new(format!("secret {} disappeared", item.name)))
            })
            .collect()
    }
}
