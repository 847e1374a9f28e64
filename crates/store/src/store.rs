//! The public [`Store`]: one type over both backends.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use secrecy::SecretString;

use crate::crypto::{KdfParams, MasterKey};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{
    Access, Actor, AuditQuery, AuditRecord, AuditVerdict, Candidate, How, ListFilter, NameQuery,
    RunContext, SecretKey, SecretMeta, SecretName, SetOptions, Timestamp, VersionInfo,
};
use crate::ops::{self, Keys, Write};
use crate::sql::{Commit, PgDb, PgTx, SqliteDb, StoreLocation};

/// Where the master key comes from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KeySource {
    /// A raw key (from `SIGIL_MASTER_KEY` or a key file).
    Key(MasterKey),
    /// A passphrase; the key is derived with Argon2id, salt and parameters stored in the store.
    Passphrase(SecretString),
}

/// How the commit that records a value read reaches the disk: the `access` records of
/// [`Store::reveal`] and [`Store::reveal_batch`] and the records of [`Store::redeem_handle`].
///
/// Either way the record is committed in the same transaction as the read, before the value is
/// returned, and no crash or kill of a process loses it; the choice is only about power loss.
/// Writes (set, rotate, delete, key rotation, ...) always wait for their fsync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadAuditSync {
    /// The commit does not wait for its own fsync: the record reaches the disk with the next
    /// synced write or checkpoint, or the kernel's writeback (SQLite in WAL mode with
    /// `synchronous=NORMAL` for that commit; PostgreSQL `synchronous_commit=off` for that
    /// transaction). Power loss, or a crash of the PostgreSQL server, can lose the last such
    /// records; it never corrupts the store or breaks the hash chain, and a later synced write
    /// never leaves a gap behind it. This is the default: a step's secrets are read in a few
    /// hundred microseconds instead of one disk flush each, as audit logs that append without
    /// syncing every entry do.
    #[default]
    Deferred,
    /// Each read waits for its own fsync, like a write.
    Full,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqliteDb),
    Postgres(Arc<PgDb>),
}

/// An open store: SQLite or PostgreSQL, the same operations and guarantees on both.
///
/// `Store` is a struct over an internal backend enum rather than a trait with two
/// implementations: every operation (encryption, versioning, the audit chain) is written once
/// over a small transaction interface, so the backends differ only in SQL dialect and
/// connection handling, and the conformance suite tests one implementation of the semantics.
/// Every method runs in exactly one database transaction; writes take the store's write lock
/// (`BEGIN IMMEDIATE` on SQLite, a transaction-scoped advisory lock on PostgreSQL).
///
/// SQLite runs through `rusqlite` on `spawn_blocking` threads (one connection behind a mutex,
/// WAL, `synchronous=FULL`): SQLite has one writer anyway, `rusqlite` exposes
/// `BEGIN IMMEDIATE` and the bundled build directly, and sqlx's SQLite driver upgrades deferred
/// transactions (launchbadge/sqlx#451). PostgreSQL runs through `tokio-postgres`, one
/// connection per `Store`; open several stores for parallel writers.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
    location: StoreLocation,
    keys: RwLock<Arc<Keys>>,
    read_audit: ReadAuditSync,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("key_id", &self.master.id())
            .field("store_id", &self.store_id)
            .finish_non_exhaustive()
    }
}

/// Runs `$body` in one transaction of `$backend`, with `$tx` bound to the backend's transaction.
/// SQLite: on a blocking thread, the body's futures complete without waiting on I/O.
macro_rules! transact {
    ($backend:expr, $commit:expr, |$tx:ident| $body:expr) => {{
        let commit: Commit = $commit;
        match $backend {
            Backend::Sqlite(db) => {
                let db = db.clone();
                let handle = tokio::runtime::Handle::current();
                let run =
                    move || db.with_tx(commit, |mut $tx| handle.block_on(async move { $body }));
                // A multi-threaded runtime lets this thread block in place (its other tasks
                // move to another worker): no hand-off to a blocking thread and back, which
                // costs more than a short transaction. A single-threaded one cannot.
                if tokio::runtime::Handle::current().runtime_flavor()
                    == tokio::runtime::RuntimeFlavor::MultiThread
                {
                    tokio::task::block_in_place(run)
                } else {
                    tokio::task::spawn_blocking(run)
                        .await
                        .map_err(|e| Error::backend("sqlite task", e))?
                }
            }
            Backend::Postgres(db) => {
                let mut connection = db.lock().await;
                let connection = &mut *connection;
                let tx = connection
                    .client
                    .transaction()
                    .await
                    .map_err(|e| Error::backend("begin postgresql transaction", e))?;
                let mut $tx = PgTx {
                    tx,
                    statements: &mut connection.statements,
                };
                let result = async {
                    match commit {
                        Commit::Read => {}
                        Commit::Write => $tx.lock_writers().await?,
                        Commit::ReadAudit => {
                            $tx.lock_writers().await?;
                            $tx.defer_commit_flush().await?;
                        }
                    }
                    $body
                }
                .await;
                match result {
                    Ok(value) => {
                        $tx.tx
                            .commit()
                            .await
                            .map_err(|e| Error::backend("commit postgresql transaction", e))?;
                        Ok(value)
                    }
                    Err(err) => {
                        let _ = $tx.tx.rollback().await;
                        Err(err)
                    }
                }
            }
        }
    }};
}

impl Store {
    async fn connect(location: &StoreLocation, create: bool) -> Result<Backend> {
        match location {
            StoreLocation::Sqlite(path) => {
                let path = path.clone();
                let db = tokio::task::spawn_blocking(move || {
                    if create
                        && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
                    {
                        std::fs::create_dir_all(parent).map_err(|source| ErrorKind::Io {
                            context: format!("create {}", parent.display()),
                            source,
                        })?;
                    }
                    SqliteDb::open(&path, create)
                })
                .await
                .map_err(|e| Error::backend("sqlite task", e))??;
                Ok(Backend::Sqlite(db))
            }
            StoreLocation::Postgres(url) => {
                Ok(Backend::Postgres(Arc::new(PgDb::connect(url).await?)))
            }
        }
    }

    /// Creates a new store at `location` protected by `key` and records `init` in its audit log.
    ///
    /// # Errors
    /// [`ErrorKind::StoreExists`] when one is already there; backend errors.
    pub async fn create(location: &StoreLocation, key: KeySource, actor: &Actor) -> Result<Store> {
        let backend = Store::connect(location, true).await?;
        let (master, kdf) = match key {
            KeySource::Key(master) => (master, None),
            KeySource::Passphrase(passphrase) => {
                let kdf = KdfParams::generate();
                (MasterKey::from_passphrase(&passphrase, &kdf)?, Some(kdf))
            }
        };
        let actor = actor.clone();
        let where_ = location.to_string();
        let keys = transact!(&backend, Commit::Write, |tx| {
            ops::migrate(&mut tx).await?;
            if ops::store_id(&mut tx).await?.is_some() {
                return Err(ErrorKind::StoreExists { location: where_ }.into());
            }
            ops::initialize(&mut tx, &master, kdf.as_ref(), &actor).await
        })?;
        Ok(Store {
            backend,
            location: location.clone(),
            keys: RwLock::new(Arc::new(keys)),
            read_audit: ReadAuditSync::default(),
        })
    }

    /// Opens an existing store (applying schema migrations) and checks the key.
    ///
    /// # Errors
    /// [`ErrorKind::StoreMissing`], [`ErrorKind::WrongKey`], backend errors.
    pub async fn open(location: &StoreLocation, key: KeySource) -> Result<Store> {
        let backend = Store::connect(location, false).await?;
        let where_ = location.to_string();
        let keys = transact!(&backend, Commit::Write, |tx| {
            ops::migrate(&mut tx).await?;
            if ops::store_id(&mut tx).await?.is_none() {
                return Err(ErrorKind::StoreMissing { location: where_ }.into());
            }
            let master = match key {
                KeySource::Key(master) => master,
                KeySource::Passphrase(passphrase) => {
                    let kdf = ops::kdf_params(&mut tx).await?.ok_or_else(|| {
                        Error::invalid("this store is not protected by a passphrase: use its key")
                    })?;
                    MasterKey::from_passphrase(&passphrase, &kdf)?
                }
            };
            ops::unlock(&mut tx, master).await
        })?;
        Ok(Store {
            backend,
            location: location.clone(),
            keys: RwLock::new(Arc::new(keys)),
            read_audit: ReadAuditSync::default(),
        })
    }

    /// This store with `sync` for the commits that record value reads.
    #[must_use]
    pub fn with_read_audit_sync(mut self, sync: ReadAuditSync) -> Store {
        self.read_audit = sync;
        self
    }

    /// How the commits that record value reads reach the disk.
    pub fn read_audit_sync(&self) -> ReadAuditSync {
        self.read_audit
    }

    fn read_audit_commit(&self) -> Commit {
        match self.read_audit {
            ReadAuditSync::Deferred => Commit::ReadAudit,
            ReadAuditSync::Full => Commit::Write,
        }
    }

    /// Whether a store has been created at `location` (a PostgreSQL server must be reachable).
    ///
    /// # Errors
    /// Backend errors.
    pub async fn exists(location: &StoreLocation) -> Result<bool> {
        if let StoreLocation::Sqlite(path) = location
            && !path.exists()
        {
            return Ok(false);
        }
        let backend = Store::connect(location, false).await?;
        transact!(&backend, Commit::Write, |tx| {
            ops::migrate(&mut tx).await?;
            Ok(ops::store_id(&mut tx).await?.is_some())
        })
    }

    fn keys(&self) -> Arc<Keys> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Where this store lives (prints with any password masked).
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// The id of the master key in use.
    pub fn key_id(&self) -> String {
        self.keys().master.id().to_owned()
    }

    /// The store's random id (bound into every ciphertext).
    pub fn store_id(&self) -> String {
        self.keys().store_id.clone()
    }

    /// Writes `value` as a new version of `key` (creating the secret): an upsert.
    ///
    /// # Errors
    /// [`ErrorKind::Conflict`] when `options.if_version` does not match; invalid metadata.
    pub async fn set(
        &self,
        actor: &Actor,
        key: &SecretKey,
        value: &SecretString,
        options: &SetOptions,
    ) -> Result<(SecretMeta, VersionInfo)> {
        self.write(actor, key, value, options, How::Set).await
    }

    /// Writes a new version of an existing secret, with a reason.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`], [`ErrorKind::Conflict`].
    pub async fn rotate(
        &self,
        actor: &Actor,
        key: &SecretKey,
        value: &SecretString,
        reason: &str,
        if_version: Option<i64>,
    ) -> Result<(SecretMeta, VersionInfo)> {
        let options = SetOptions {
            reason: Some(reason.to_owned()),
            if_version,
            ..SetOptions::default()
        };
        self.write(actor, key, value, &options, How::Rotate).await
    }

    async fn write(
        &self,
        actor: &Actor,
        key: &SecretKey,
        value: &SecretString,
        options: &SetOptions,
        how: How,
    ) -> Result<(SecretMeta, VersionInfo)> {
        let (keys, actor, key, value, options) = (
            self.keys(),
            actor.clone(),
            key.clone(),
            value.clone(),
            options.clone(),
        );
        transact!(&self.backend, Commit::Write, |tx| {
            ops::write_value(
                &mut tx,
                &keys,
                &actor,
                &key,
                Write {
                    how,
                    value: &value,
                    options: &options,
                },
            )
            .await
        })
    }

    /// Makes a new version holding version `to`'s value.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for a missing secret or version.
    pub async fn rollback(
        &self,
        actor: &Actor,
        key: &SecretKey,
        to: i64,
        reason: &str,
    ) -> Result<(SecretMeta, VersionInfo)> {
        let (keys, actor, key, reason) =
            (self.keys(), actor.clone(), key.clone(), reason.to_owned());
        transact!(&self.backend, Commit::Write, |tx| {
            ops::rollback(&mut tx, &keys, &actor, &key, to, &reason).await
        })
    }

    /// Metadata of a live secret; no value, no audit record.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`].
    pub async fn get(&self, key: &SecretKey) -> Result<SecretMeta> {
        let key = key.clone();
        transact!(&self.backend, Commit::Read, |tx| ops::get(&mut tx, &key)
            .await)
    }

    /// Decrypts the current (or a given) version and records an `access` audit record.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`], [`ErrorKind::Expired`], [`ErrorKind::DecryptionFailed`].
    pub async fn reveal(
        &self,
        actor: &Actor,
        key: &SecretKey,
        access: &Access,
        version: Option<i64>,
    ) -> Result<(SecretMeta, SecretString)> {
        let (keys, actor, key, access) = (self.keys(), actor.clone(), key.clone(), access.clone());
        transact!(&self.backend, self.read_audit_commit(), |tx| {
            ops::reveal(&mut tx, &keys, &actor, &key, &access, version).await
        })
    }

    /// Every version of a secret (deleted secrets included), oldest first.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`].
    pub async fn history(&self, key: &SecretKey) -> Result<Vec<VersionInfo>> {
        let key = key.clone();
        transact!(&self.backend, Commit::Read, |tx| ops::history(
            &mut tx, &key
        )
        .await)
    }

    /// Soft delete: the secret stops resolving; versions and audit remain.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`].
    pub async fn delete(&self, actor: &Actor, key: &SecretKey) -> Result<SecretMeta> {
        let (actor, key) = (actor.clone(), key.clone());
        transact!(&self.backend, Commit::Write, |tx| ops::delete(
            &mut tx, &actor, &key
        )
        .await)
    }

    /// Removes a secret and its versions for good (audited).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`].
    pub async fn purge(&self, actor: &Actor, key: &SecretKey) -> Result<SecretMeta> {
        let (actor, key) = (actor.clone(), key.clone());
        transact!(&self.backend, Commit::Write, |tx| ops::purge(
            &mut tx, &actor, &key
        )
        .await)
    }

    /// Metadata of the secrets of a workspace.
    ///
    /// # Errors
    /// Backend errors.
    pub async fn list(&self, workspace: &str, filter: &ListFilter) -> Result<Vec<SecretMeta>> {
        let (workspace, filter) = (workspace.to_owned(), filter.clone());
        transact!(&self.backend, Commit::Read, |tx| {
            ops::list(&mut tx, &workspace, &filter).await
        })
    }

    /// Writes many values in one transaction (`.env` import), each as an `import` version.
    ///
    /// # Errors
    /// As [`Store::set`]; nothing is written when one entry fails.
    pub async fn import(
        &self,
        actor: &Actor,
        template: &SecretKey,
        entries: Vec<(SecretName, SecretString)>,
        progress: crate::Progress<'static>,
    ) -> Result<usize> {
        let (keys, actor, template) = (self.keys(), actor.clone(), template.clone());
        transact!(&self.backend, Commit::Write, |tx| {
            ops::import(&mut tx, &keys, &actor, &template, &entries, progress).await
        })
    }

    /// For one step: every candidate row of every name (metadata only, nothing decrypted, nothing
    /// audited), in one query. `result[i]` answers `names[i]`, best first by the default
    /// precedence ([`Candidate::pick`]).
    ///
    /// # Errors
    /// Backend errors.
    pub async fn candidates(
        &self,
        ctx: &RunContext,
        names: &[NameQuery],
    ) -> Result<Vec<Vec<Candidate>>> {
        let (ctx, names) = (ctx.clone(), names.to_vec());
        transact!(&self.backend, Commit::Read, |tx| {
            ops::candidates(&mut tx, &ctx, &names).await
        })
    }

    /// Decrypts the chosen versions and writes one `access` audit record per value (pipeline,
    /// run, step), all in one transaction. `result[i]` is the value of `picks[i]`.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] (deleted meanwhile), [`ErrorKind::Expired`],
    /// [`ErrorKind::DecryptionFailed`].
    pub async fn reveal_batch(
        &self,
        ctx: &RunContext,
        step: Option<&str>,
        picks: &[Candidate],
    ) -> Result<Vec<SecretString>> {
        let (keys, ctx, step, picks) = (
            self.keys(),
            ctx.clone(),
            step.map(str::to_owned),
            picks.to_vec(),
        );
        transact!(&self.backend, self.read_audit_commit(), |tx| {
            ops::reveal_batch(&mut tx, &keys, &ctx, step.as_deref(), &picks).await
        })
    }

    /// Issues a `$secret:v1.<payload>.<mac>` handle for one secret, valid for `ttl`
    /// (default five minutes when `None`). Returns the handle and its expiry.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`].
    pub async fn issue_handle(
        &self,
        actor: &Actor,
        key: &SecretKey,
        ttl: Option<Duration>,
    ) -> Result<(String, Timestamp)> {
        let ttl = ttl.unwrap_or(Duration::from_secs(300));
        let (keys, actor, key) = (self.keys(), actor.clone(), key.clone());
        transact!(&self.backend, Commit::Write, |tx| {
            ops::issue_handle(&mut tx, &keys, &actor, &key, ttl).await
        })
    }

    /// Redeems a handle in `workspace`: checks signature, workspace and lifetime, decrypts and
    /// audits. A refusal is audited too (outcome `refused`).
    ///
    /// # Errors
    /// [`ErrorKind::HandleBadMac`], [`ErrorKind::HandleOtherWorkspace`],
    /// [`ErrorKind::HandleExpired`], [`ErrorKind::HandleMalformed`], [`ErrorKind::NotFound`].
    pub async fn redeem_handle(
        &self,
        actor: &Actor,
        workspace: &str,
        handle: &str,
        access: &Access,
    ) -> Result<(SecretMeta, SecretString)> {
        let keys = self.keys();
        let (actor, access) = (actor.clone(), access.clone());
        match ops::check_handle(&keys, workspace, handle) {
            Ok(secret_id) => transact!(&self.backend, self.read_audit_commit(), |tx| {
                ops::redeem_handle(&mut tx, &keys, &actor, secret_id, &access).await
            }),
            Err(err) => {
                let detail = err.to_string();
                let audited: Result<()> =
                    transact!(&self.backend, self.read_audit_commit(), |tx| {
                        let mut record =
                            ops::NewAudit::new(&actor, "handle.redeem").outcome("refused");
                        record.detail = Some(detail);
                        record.access = Some(&access);
                        ops::append_audit(&mut tx, &[record]).await
                    });
                audited?;
                Err(err)
            }
        }
    }

    /// Audit records matching `query`, oldest first.
    ///
    /// # Errors
    /// Backend errors.
    pub async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        let query = query.clone();
        transact!(&self.backend, Commit::Read, |tx| ops::audit_query(
            &mut tx, &query
        )
        .await)
    }

    /// Walks the hash chain and names the first record that was edited, deleted or reordered.
    ///
    /// # Errors
    /// Backend errors (a broken chain is a verdict, not an error).
    pub async fn verify_audit(&self) -> Result<AuditVerdict> {
        transact!(&self.backend, Commit::Read, |tx| ops::audit_verify(&mut tx)
            .await)
    }

    /// Re-wraps every data key under `new_key` in one transaction, verifies that every value
    /// decrypts under the new key, and only then commits; from then on the old key is not needed.
    /// `new_passphrase_kdf` records Argon2id parameters when the new key comes from a passphrase.
    /// Returns the number of versions re-wrapped.
    ///
    /// # Errors
    /// [`ErrorKind::DecryptionFailed`] when a row does not decrypt (nothing is changed).
    pub async fn rotate_master_key(
        &self,
        actor: &Actor,
        new_key: KeySource,
        progress: crate::Progress<'static>,
    ) -> Result<usize> {
        let (new_key, kdf) = match new_key {
            KeySource::Key(key) => (key, None),
            KeySource::Passphrase(passphrase) => {
                let kdf = KdfParams::generate();
                (MasterKey::from_passphrase(&passphrase, &kdf)?, Some(kdf))
            }
        };
        let (keys, actor) = (self.keys(), actor.clone());
        let key_for_tx = new_key.clone();
        let count = transact!(&self.backend, Commit::Write, |tx| {
            ops::rotate_master_key(&mut tx, &keys, &actor, &key_for_tx, kdf.as_ref(), progress)
                .await
        })?;
        let old = self.keys();
        let new = Keys {
            master: new_key,
            store_id: old.store_id.clone(),
            handle_key: old.handle_key.clone(),
        };
        *self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(new);
        Ok(count)
    }

    /// An encrypted, self-describing backup of the whole store (the backup itself is audited
    /// first, so the backup contains its own record).
    ///
    /// # Errors
    /// Backend errors.
    pub async fn backup(&self, actor: &Actor) -> Result<Vec<u8>> {
        let (keys, actor) = (self.keys(), actor.clone());
        let (dump, kdf) = transact!(&self.backend, Commit::Write, |tx| {
            ops::append_audit(&mut tx, &[ops::NewAudit::new(&actor, "backup")]).await?;
            let kdf = ops::kdf_params(&mut tx).await?;
            Ok((ops::dump(&mut tx).await?, kdf))
        })?;
        crate::backup::seal(&keys, kdf, &dump)
    }

    /// Restores a backup into an empty store at `location` (created if needed). The key must be
    /// the one the backup was made with.
    ///
    /// # Errors
    /// [`ErrorKind::NotEmpty`] when the target holds data; [`ErrorKind::DecryptionFailed`] for a
    /// wrong key or a damaged file.
    pub async fn restore(
        location: &StoreLocation,
        key: KeySource,
        actor: &Actor,
        backup: &[u8],
    ) -> Result<Store> {
        let (master, dump) = crate::backup::open(backup, key)?;
        let backend = Store::connect(location, true).await?;
        transact!(&backend, Commit::Write, |tx| {
            ops::migrate(&mut tx).await?;
            if !ops::is_empty(&mut tx).await? {
                return Err(ErrorKind::NotEmpty.into());
            }
            ops::load(&mut tx, &dump).await
        })?;
        drop(backend);
        let store = Store::open(location, KeySource::Key(master)).await?;
        let actor = actor.clone();
        transact!(&store.backend, Commit::Write, |tx| {
            ops::append_audit(&mut tx, &[ops::NewAudit::new(&actor, "restore")]).await
        })?;
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Tx as _;
    use secrecy::ExposeSecret as _;

    /// The durability setting a transaction of `commit` runs under, as the database reports it.
    async fn durability(store: &Store, commit: Commit) -> Result<String> {
        transact!(&store.backend, commit, |tx| {
            let sql = match tx.dialect() {
                crate::sql::Dialect::Sqlite => "PRAGMA synchronous",
                crate::sql::Dialect::Postgres => "SHOW synchronous_commit",
            };
            let rows = tx.query(sql, &[]).await?;
            match rows[0].opt_i64(0) {
                Ok(Some(level)) => Ok(level.to_string()),
                _ => rows[0].text(0),
            }
        })
    }

    async fn check_levels(location: &StoreLocation, expected: [&str; 3]) {
        let actor = Actor::new("tester");
        let store = Store::create(location, KeySource::Key(MasterKey::generate()), &actor)
            .await
            .unwrap();
        // Write, then a deferred read audit, then a write again: each gets its own level.
        let seen = [
            durability(&store, Commit::Write).await.unwrap(),
            durability(&store, Commit::ReadAudit).await.unwrap(),
            durability(&store, Commit::Write).await.unwrap(),
        ];
        assert_eq!(seen, expected);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_read_audit_commits_skip_only_their_own_fsync() {
        let dir = tempfile::tempdir().unwrap();
        let location = StoreLocation::Sqlite(dir.path().join("store.db"));
        // SQLite's synchronous levels: 2 is FULL, 1 is NORMAL.
        check_levels(&location, ["2", "1", "2"]).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_read_audit_commits_skip_only_their_own_flush() {
        let Some(url) = crate::test_postgres_url() else {
            return;
        };
        let schema = crate::testing::TestSchema::new(&url);
        check_levels(&schema.location, ["on", "off", "on"]).await;
        schema.drop_schema().await;
    }

    /// SQLite work blocks in place on a multi-threaded runtime (from `block_on` or from a task on
    /// a worker) and moves to a blocking thread on a single-threaded one: all three must work.
    #[test]
    fn sqlite_transactions_work_on_every_runtime_flavor() {
        async fn write_and_read(store: Arc<Store>, value: &str) {
            let key = SecretKey::new("default", SecretName::new("flavor").unwrap());
            let value = SecretString::from(value);
            store
                .set(&Actor::new("tester"), &key, &value, &SetOptions::default())
                .await
                .unwrap();
            let (_, read) = store
                .reveal(&Actor::new("tester"), &key, &Access::default(), None)
                .await
                .unwrap();
            assert_eq!(read.expose_secret(), value.expose_secret());
        }
        let dir = tempfile::tempdir().unwrap();
        let location = StoreLocation::Sqlite(dir.path().join("store.db"));
        let single = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = Arc::new(single.block_on(async {
            Store::create(
                &location,
                KeySource::Key(MasterKey::generate()),
                &Actor::new("t"),
            )
            .await
            .unwrap()
        }));
        single.block_on(write_and_read(store.clone(), "on one thread"));
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        multi.block_on(write_and_read(store.clone(), "from block_on"));
        multi
            .block_on(multi.spawn(write_and_read(store, "from a worker")))
            .unwrap();
    }
}
