//! Plain value types shared by the store and its callers.
//!
//! These types have their home here because the store is the first crate that needs them and the
//! resolver already depends on the store (through its `SecretSource`); the facade re-exports them.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::error::{ErrorKind, Result};

/// A secret value: zeroized on drop, `[REDACTED]` in `Debug`, no `Display`.
pub type SecretValue = secrecy::SecretString;

/// A validated secret name: `[A-Za-z_][A-Za-z0-9_.-]*`, at most 256 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SecretName(String);

impl SecretName {
    /// Longest name in bytes.
    pub const MAX_LEN: usize = 256;

    /// Validates `name`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidName`], whose message states the rule and does not repeat the name.
    pub fn new(name: &str) -> Result<SecretName> {
        let mut bytes = name.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
        let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if first_ok && rest_ok && name.len() <= Self::MAX_LEN {
            Ok(SecretName(name.to_owned()))
        } else {
            Err(ErrorKind::InvalidName { len: name.len() }.into())
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a secret lives, with its owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Shared by the team.
    Workspace,
    /// One pipeline only (the pipeline id).
    Pipeline(String),
    /// One user only (the user id).
    Personal(String),
}

/// The kind of a [`Scope`], without its owner (for filters and pinned references).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeKind {
    /// [`Scope::Workspace`].
    Workspace,
    /// [`Scope::Pipeline`].
    Pipeline,
    /// [`Scope::Personal`].
    Personal,
}

impl ScopeKind {
    /// `workspace`, `pipeline` or `personal`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Workspace => "workspace",
            ScopeKind::Pipeline => "pipeline",
            ScopeKind::Personal => "personal",
        }
    }

    /// Parses `workspace`, `pipeline` or `personal`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for anything else.
    pub fn parse(text: &str) -> Result<ScopeKind> {
        match text {
            "workspace" => Ok(ScopeKind::Workspace),
            "pipeline" => Ok(ScopeKind::Pipeline),
            "personal" | "user" => Ok(ScopeKind::Personal),
            _ => Err(crate::Error::invalid(format!(
                "unknown scope `{text}`: expected workspace, pipeline or personal"
            ))),
        }
    }
}

impl Scope {
    /// The scope's kind.
    pub fn kind(&self) -> ScopeKind {
        match self {
            Scope::Workspace => ScopeKind::Workspace,
            Scope::Pipeline(_) => ScopeKind::Pipeline,
            Scope::Personal(_) => ScopeKind::Personal,
        }
    }

    /// The pipeline or user id; empty for the workspace scope.
    pub fn owner(&self) -> &str {
        match self {
            Scope::Workspace => "",
            Scope::Pipeline(owner) | Scope::Personal(owner) => owner,
        }
    }

    /// Builds a scope from its stored form.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an unknown kind or a missing owner.
    pub fn from_parts(kind: ScopeKind, owner: Option<&str>) -> Result<Scope> {
        match (kind, owner.filter(|o| !o.is_empty())) {
            (ScopeKind::Workspace, None) => Ok(Scope::Workspace),
            (ScopeKind::Workspace, Some(_)) => Err(crate::Error::invalid(
                "the workspace scope takes no pipeline or user",
            )),
            (ScopeKind::Pipeline, Some(p)) => Ok(Scope::Pipeline(p.to_owned())),
            (ScopeKind::Personal, Some(u)) => Ok(Scope::Personal(u.to_owned())),
            (ScopeKind::Pipeline, None) => Err(crate::Error::invalid(
                "the pipeline scope needs a pipeline id (--pipeline)",
            )),
            (ScopeKind::Personal, None) => Err(crate::Error::invalid(
                "the personal scope needs a user id (--user)",
            )),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Workspace => f.write_str("workspace"),
            Scope::Pipeline(p) => write!(f, "pipeline:{p}"),
            Scope::Personal(u) => write!(f, "personal:{u}"),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The environment a secret applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Environment {
    /// Every environment (the fallback).
    #[default]
    All,
    /// One named environment such as `production`.
    Named(String),
}

impl Environment {
    /// `None` or an empty string means all environments.
    pub fn new(name: Option<&str>) -> Environment {
        match name {
            None | Some("") | Some("*") => Environment::All,
            Some(name) => Environment::Named(name.to_owned()),
        }
    }

    /// The stored form: the name, or empty for all environments.
    pub fn as_stored(&self) -> &str {
        match self {
            Environment::All => "",
            Environment::Named(name) => name,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Environment::All => f.write_str("*"),
            Environment::Named(name) => f.write_str(name),
        }
    }
}

impl Serialize for Environment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Identifies one secret: workspace, scope (with owner), name and environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SecretKey {
    /// The workspace.
    pub workspace: String,
    /// The scope and its owner.
    pub scope: Scope,
    /// The name.
    pub name: SecretName,
    /// The environment.
    pub environment: Environment,
}

impl SecretKey {
    /// A workspace-scoped, all-environments secret.
    pub fn new(workspace: &str, name: SecretName) -> SecretKey {
        SecretKey {
            workspace: workspace.to_owned(),
            scope: Scope::Workspace,
            name,
            environment: Environment::All,
        }
    }

    /// Sets the scope.
    #[must_use]
    pub fn scope(mut self, scope: Scope) -> SecretKey {
        self.scope = scope;
        self
    }

    /// Sets the environment.
    #[must_use]
    pub fn environment(mut self, environment: Environment) -> SecretKey {
        self.environment = environment;
        self
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "secret `{}` ({}, env {}, workspace {})",
            self.name, self.scope, self.environment, self.workspace
        )
    }
}

/// Microseconds since the Unix epoch, printed as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        Timestamp(micros)
    }

    /// This time plus `duration` (saturating).
    #[must_use]
    pub fn plus(self, duration: Duration) -> Timestamp {
        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(micros))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = u64::try_from(self.0)
            .map(|m| UNIX_EPOCH + Duration::from_micros(m))
            .unwrap_or(UNIX_EPOCH);
        write!(f, "{}", humantime::format_rfc3339_seconds(time))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses a human duration such as `5m`, `12h` or `30d`.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] naming the text.
pub fn parse_duration(text: &str) -> Result<Duration> {
    humantime::parse_duration(text).map_err(|err| {
        crate::Error::invalid(format!(
            "invalid duration `{text}`: {err} (examples: 5m, 12h, 30d)"
        ))
    })
}

/// How a version came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum How {
    /// `set`.
    Set,
    /// `rotate`.
    Rotate,
    /// `import` from a `.env` file.
    Import,
    /// `rollback --to N`.
    Rollback,
}

impl How {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            How::Set => "set",
            How::Rotate => "rotate",
            How::Import => "import",
            How::Rollback => "rollback",
        }
    }

    pub(crate) fn parse(text: &str) -> How {
        match text {
            "rotate" => How::Rotate,
            "import" => How::Import,
            "rollback" => How::Rollback,
            _ => How::Set,
        }
    }
}

/// Who acts, and from where (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    /// User or service name.
    pub name: String,
    /// Source address when known (the server sets it).
    pub source: Option<String>,
}

impl Actor {
    /// An actor without a source address.
    pub fn new(name: impl Into<String>) -> Actor {
        Actor {
            name: name.into(),
            source: None,
        }
    }
}

/// What a value read is for: pipeline, run and step, recorded in the `access` audit record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Access {
    /// Pipeline id.
    pub pipeline: Option<String>,
    /// Run id.
    pub run: Option<String>,
    /// Step pointer (JSON pointer into the config).
    pub step: Option<String>,
}

/// Options of [`crate::Store::set`].
#[derive(Debug, Clone, Default)]
pub struct SetOptions {
    /// Description; kept when `None`.
    pub description: Option<String>,
    /// Metadata, a JSON object; kept when `None`.
    pub metadata: Option<serde_json::Value>,
    /// Lifetime from now; kept when `None`.
    pub ttl: Option<Duration>,
    /// Rotation period in days; kept when `None`.
    pub rotation_days: Option<u32>,
    /// Check-and-set: the current version must be this one (0: create only).
    pub if_version: Option<i64>,
    /// Why (recorded with the version).
    pub reason: Option<String>,
}

/// A secret's metadata: never its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretMeta {
    /// Internal id (bound into every ciphertext).
    pub id: i64,
    /// Workspace, scope, name, environment.
    #[serde(flatten)]
    pub key: SecretKey,
    /// Description.
    pub description: String,
    /// Metadata (a JSON object).
    pub metadata: serde_json::Value,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// Who wrote last.
    pub updated_by: String,
    /// When.
    pub updated_at: Timestamp,
    /// Rotation period in days.
    pub rotation_days: Option<u32>,
    /// Expiry.
    pub expires_at: Option<Timestamp>,
    /// Current version (versions start at 1).
    pub version: i64,
    /// Soft-deletion time.
    pub deleted_at: Option<Timestamp>,
}

impl SecretMeta {
    /// Whether the TTL has passed at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Whether the rotation period has passed since the last write at `now`.
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.rotation_days.is_some_and(|days| {
            self.updated_at
                .plus(Duration::from_secs(u64::from(days) * 86_400))
                <= now
        })
    }
}

/// One immutable version (without its value).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionInfo {
    /// Version number, from 1.
    pub version: i64,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// Why.
    pub reason: String,
    /// How.
    pub how: How,
    /// Master key id that wraps its data key.
    pub key_id: String,
}

/// Filters of [`crate::Store::list`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this scope kind.
    pub scope: Option<ScopeKind>,
    /// Only this owner (pipeline or user id).
    pub owner: Option<String>,
    /// Only this environment.
    pub environment: Option<Environment>,
    /// Only secrets past their rotation period.
    pub due: bool,
    /// Only expired secrets.
    pub expired: bool,
    /// Include soft-deleted secrets.
    pub include_deleted: bool,
}

/// The context of one run, for batched lookups.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    /// Workspace.
    pub workspace: String,
    /// Pipeline id.
    pub pipeline: Option<String>,
    /// The personal scope's user (none for schedules).
    pub user: Option<String>,
    /// Environment of the run (none: only all-environments values apply).
    pub environment: Option<String>,
    /// Run id.
    pub run: Option<String>,
    /// Who acts (recorded in audit records).
    pub actor: Actor,
}

/// One name to look up in a batch, optionally pinned to a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameQuery {
    /// The name.
    pub name: SecretName,
    /// Only this scope kind.
    pub scope: Option<ScopeKind>,
}

/// A row that may answer a [`NameQuery`]: metadata only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// Internal secret id.
    pub secret_id: i64,
    /// The secret.
    #[serde(flatten)]
    pub key: SecretKey,
    /// Current version.
    pub version: i64,
    /// Expiry.
    pub expires_at: Option<Timestamp>,
}

impl Candidate {
    /// The default precedence: pipeline, then workspace, then personal; within a scope an
    /// environment-specific value beats an all-environments value. Lower ranks win.
    pub fn default_rank(&self) -> (u8, u8) {
        let scope = match self.key.scope {
            Scope::Pipeline(_) => 0,
            Scope::Workspace => 1,
            Scope::Personal(_) => 2,
        };
        let env = match self.key.environment {
            Environment::Named(_) => 0,
            Environment::All => 1,
        };
        (scope, env)
    }

    /// The candidate the default precedence picks.
    pub fn pick(candidates: &[Candidate]) -> Option<&Candidate> {
        candidates.iter().min_by_key(|c| c.default_rank())
    }
}

/// One audit record (never a value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What: `set`, `rotate`, `import`, `rollback`, `access`, `delete`, `purge`,
    /// `handle.issue`, `handle.redeem`, `key.rotate`, `restore`.
    pub action: String,
    /// Workspace.
    pub workspace: Option<String>,
    /// Scope.
    pub scope: Option<String>,
    /// Secret name.
    pub name: Option<String>,
    /// Environment (`*` for all).
    pub environment: Option<String>,
    /// Version.
    pub version: Option<i64>,
    /// Pipeline.
    pub pipeline: Option<String>,
    /// Run.
    pub run: Option<String>,
    /// Step pointer.
    pub step: Option<String>,
    /// Source address.
    pub source: Option<String>,
    /// `ok`, `refused`, `conflict`...
    pub outcome: String,
    /// Reason or other detail (never a value).
    pub detail: Option<String>,
}

/// Filters of [`crate::Store::audit`].
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Secret name.
    pub name: Option<String>,
    /// Action.
    pub action: Option<String>,
    /// Pipeline.
    pub pipeline: Option<String>,
    /// Run.
    pub run: Option<String>,
    /// Only records at or after this time.
    pub since: Option<Timestamp>,
    /// Workspace.
    pub workspace: Option<String>,
}

/// The result of walking the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerdict {
    /// Records checked.
    pub records: i64,
    /// The first bad record, if any.
    pub first_bad: Option<AuditDefect>,
}

/// Where and how the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditDefect {
    /// The sequence number of the first bad record (or where one is missing).
    pub seq: i64,
    /// What is wrong.
    pub problem: String,
}

/// Progress callback: (done, total).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Send + Sync);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, valid: bool) {
        let result = SecretName::new(name);
        assert_eq!(result.is_ok(), valid, "{name:?}");
        if let Err(err) = result {
            // The rule is stated; the rejected text is not repeated (it may be a value).
            let message = err.to_string();
            assert!(message.contains("[A-Za-z_][A-Za-z0-9_.-]*"), "{message}");
            assert!(name.is_empty() || !message.contains(name), "{message}");
        }
    }

    #[test]
    fn secret_names() {
        check("OPENAI_API_KEY", true);
        check("_private", true);
        check("api.key-2", true);
        check(&"a".repeat(256), true);
        check(&"a".repeat(257), false);
        check("", false);
        check("1password", false);
        check("-dash", false);
        check("has space", false);
        check("sk-live/abc+def", false);
        check("caf\u{e9}", false);
    }

    fn check_scope(kind: &str, owner: Option<&str>, expected: Result<&str, &str>) {
        let got = ScopeKind::parse(kind)
            .and_then(|k| Scope::from_parts(k, owner))
            .map(|s| s.to_string())
            .map_err(|e| e.to_string());
        let expected = expected.map(str::to_owned).map_err(str::to_owned);
        assert_eq!(got, expected, "{kind} {owner:?}");
    }

    #[test]
    fn scopes() {
        check_scope("workspace", None, Ok("workspace"));
        check_scope("pipeline", Some("deploy"), Ok("pipeline:deploy"));
        check_scope("personal", Some("alice"), Ok("personal:alice"));
        check_scope("user", Some("alice"), Ok("personal:alice"));
        check_scope(
            "pipeline",
            None,
            Err("the pipeline scope needs a pipeline id (--pipeline)"),
        );
        check_scope(
            "workspace",
            Some("x"),
            Err("the workspace scope takes no pipeline or user"),
        );
        check_scope(
            "team",
            None,
            Err("unknown scope `team`: expected workspace, pipeline or personal"),
        );
    }

    fn check_rank(scope: Scope, env: Option<&str>, rank: (u8, u8)) {
        let candidate = Candidate {
            secret_id: 1,
            key: SecretKey::new("w", SecretName::new("n").unwrap())
                .scope(scope)
                .environment(Environment::new(env)),
            version: 1,
            expires_at: None,
        };
        assert_eq!(candidate.default_rank(), rank);
    }

    #[test]
    fn precedence() {
        check_rank(Scope::Pipeline("p".into()), Some("prod"), (0, 0));
        check_rank(Scope::Pipeline("p".into()), None, (0, 1));
        check_rank(Scope::Workspace, Some("prod"), (1, 0));
        check_rank(Scope::Workspace, None, (1, 1));
        check_rank(Scope::Personal("u".into()), Some("prod"), (2, 0));
        check_rank(Scope::Personal("u".into()), None, (2, 1));
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .to_string()
                .starts_with("invalid duration `soon`")
        );
    }
}
