//! The two backends behind one small transaction interface.
//!
//! Every operation of the store is written once, as an async function over [`Tx`]; a backend only
//! runs SQL. Statements are written with `?` placeholders (SQLite's) and rewritten to `$n` for
//! PostgreSQL; both schemas use 64-bit integers, text and byte strings only.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// A statement parameter. Text and bytes borrow where they can: an audited batch binds
/// hundreds of strings that already live in the caller's records.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    I(Option<i64>),
    T(Option<Cow<'a, str>>),
    B(Option<Cow<'a, [u8]>>),
}

impl From<i64> for Val<'_> {
    fn from(v: i64) -> Self {
        Val::I(Some(v))
    }
}
impl From<Option<i64>> for Val<'_> {
    fn from(v: Option<i64>) -> Self {
        Val::I(v)
    }
}
impl<'a> From<&'a str> for Val<'a> {
    fn from(v: &'a str) -> Self {
        Val::T(Some(Cow::Borrowed(v)))
    }
}
impl From<String> for Val<'_> {
    fn from(v: String) -> Self {
        Val::T(Some(Cow::Owned(v)))
    }
}
impl From<Option<String>> for Val<'_> {
    fn from(v: Option<String>) -> Self {
        Val::T(v.map(Cow::Owned))
    }
}
impl<'a> From<Option<&'a str>> for Val<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Val::T(v.map(Cow::Borrowed))
    }
}
impl From<Vec<u8>> for Val<'_> {
    fn from(v: Vec<u8>) -> Self {
        Val::B(Some(Cow::Owned(v)))
    }
}
impl<'a> From<&'a [u8]> for Val<'a> {
    fn from(v: &'a [u8]) -> Self {
        Val::B(Some(Cow::Borrowed(v)))
    }
}

/// A result cell (also the unit of backups).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
    Blob(#[serde(with = "crate::crypto::b64")] Vec<u8>),
}

impl Cell {
    pub(crate) fn to_val(&self, kind: char) -> Val<'_> {
        match (self, kind) {
            (Cell::Int(i), _) => Val::I(Some(*i)),
            (Cell::Text(t), _) => Val::T(Some(Cow::Borrowed(t))),
            (Cell::Blob(b), _) => Val::B(Some(Cow::Borrowed(b))),
            (Cell::Null, 'i') => Val::I(None),
            (Cell::Null, 'b') => Val::B(None),
            (Cell::Null, _) => Val::T(None),
        }
    }
}

/// One result row.
#[derive(Debug, Clone)]
pub(crate) struct Row(pub(crate) Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell> {
        self.0
            .get(i)
            .ok_or_else(|| Error::corrupt(format!("missing column {i}")))
    }
    pub(crate) fn i64(&self, i: usize) -> Result<i64> {
        self.opt_i64(i)?
            .ok_or_else(|| Error::corrupt(format!("null in column {i}")))
    }
    pub(crate) fn opt_i64(&self, i: usize) -> Result<Option<i64>> {
        match self.cell(i)? {
            Cell::Int(v) => Ok(Some(*v)),
            Cell::Null => Ok(None),
            _ => Err(Error::corrupt(format!("column {i} is not an integer"))),
        }
    }
    /// A text column, borrowed (for values parsed or checked rather than kept).
    pub(crate) fn str(&self, i: usize) -> Result<&str> {
        match self.cell(i)? {
            Cell::Text(v) => Ok(v),
            Cell::Null => Err(Error::corrupt(format!("null in column {i}"))),
            _ => Err(Error::corrupt(format!("column {i} is not text"))),
        }
    }
    pub(crate) fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?
            .ok_or_else(|| Error::corrupt(format!("null in column {i}")))
    }
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.cell(i)? {
            Cell::Text(v) => Ok(Some(v.clone())),
            Cell::Null => Ok(None),
            _ => Err(Error::corrupt(format!("column {i} is not text"))),
        }
    }
    pub(crate) fn blob(&self, i: usize) -> Result<Vec<u8>> {
        self.bytes(i).map(<[u8]>::to_vec)
    }
    /// A byte string column, borrowed.
    pub(crate) fn bytes(&self, i: usize) -> Result<&[u8]> {
        match self.cell(i)? {
            Cell::Blob(v) => Ok(v),
            _ => Err(Error::corrupt(format!("column {i} is not a byte string"))),
        }
    }
}

/// SQL flavour, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// One open transaction.
pub(crate) trait Tx {
    fn dialect(&self) -> Dialect;
    async fn query(&mut self, sql: &str, params: &[Val<'_>]) -> Result<Vec<Row>>;
    async fn exec(&mut self, sql: &str, params: &[Val<'_>]) -> Result<u64>;
    async fn batch(&mut self, sql: &str) -> Result<()>;
}

// ---------------------------------------------------------------------------------------------
// SQLite

impl rusqlite::ToSql for Val<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Val::I(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Val::T(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Val::B(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            _ => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// The SQLite backend: one connection behind a mutex (SQLite has one writer anyway), used from
/// `spawn_blocking`.
#[derive(Debug, Clone)]
pub(crate) struct SqliteDb {
    conn: Arc<Mutex<SqliteConn>>,
}

/// The connection and the `synchronous` level it is set to, so a commit that needs the other
/// level switches it once instead of issuing a pragma per transaction.
#[derive(Debug)]
struct SqliteConn {
    conn: rusqlite::Connection,
    synchronous: Synchronous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Synchronous {
    Full,
    Normal,
}

/// What a transaction does, which decides how it begins and how its commit reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Commit {
    /// Reads only: a deferred transaction.
    Read,
    /// Changes the store: the write lock, and a commit synced to disk before it returns.
    Write,
    /// Records that a value was read (`access` audit records): the write lock, a commit that is
    /// in the database (and survives a crash or kill of any process) before the value is
    /// returned, and an fsync deferred to the next synced write or checkpoint (SQLite
    /// `synchronous=NORMAL` in WAL mode, PostgreSQL `synchronous_commit=off`). See
    /// [`crate::ReadAuditSync`].
    ReadAudit,
}

impl SqliteDb {
    pub(crate) fn open(path: &Path, create: bool) -> Result<SqliteDb> {
        use rusqlite::OpenFlags;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        } else if !path.exists() {
            return Err(ErrorKind::StoreMissing {
                location: path.display().to_string(),
            }
            .into());
        }
        let mut conn = rusqlite::Connection::open_with_flags(path, flags)
            .map_err(|e| Error::backend("open sqlite store", e))?;
        // Writers in other processes wait for the lock instead of failing at once; writes begin
        // with BEGIN IMMEDIATE, so the timeout applies (a deferred transaction that upgrades to
        // a write would fail with SQLITE_BUSY regardless, launchbadge/sqlx#451).
        // SQLite's own busy timeout sleeps up to 100 ms between attempts, which makes a few
        // contending writers an order of magnitude slower than one: poll in short steps instead
        // (about a minute in total before giving up).
        conn.busy_handler(Some(|attempt: i32| {
            let step = 50u64 << attempt.clamp(0, 5);
            std::thread::sleep(Duration::from_micros(step.min(1_000)));
            attempt < 60_000
        }))
        .map_err(|e| Error::backend("configure sqlite", e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| Error::backend("configure sqlite", e))?;
        // FULL: a commit survives power loss, not only a process crash.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| Error::backend("configure sqlite", e))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| Error::backend("configure sqlite", e))?;
        // One plan per statement whatever its parameters: without this guarantee SQLite plans a
        // cached statement again whenever new values are bound to it (a step's batched fetch
        // was planned afresh on every call).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(|e| Error::backend("configure sqlite", e))?;
        Ok(SqliteDb {
            conn: Arc::new(Mutex::new(SqliteConn {
                conn,
                synchronous: Synchronous::Full,
            })),
        })
    }

    /// Runs `f` in one transaction: `BEGIN IMMEDIATE` for writes, deferred for reads.
    pub(crate) fn with_tx<T>(
        &self,
        commit: Commit,
        f: impl FnOnce(SqliteTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let SqliteConn { conn, synchronous } = &mut *guard;
        let (begin, wanted) = match commit {
            Commit::Read => ("BEGIN DEFERRED", *synchronous),
            Commit::Write => ("BEGIN IMMEDIATE", Synchronous::Full),
            Commit::ReadAudit => ("BEGIN IMMEDIATE", Synchronous::Normal),
        };
        if wanted != *synchronous {
            // The level cannot change inside a transaction. In WAL mode NORMAL writes the
            // commit to the WAL without an fsync; the next FULL commit or checkpoint syncs the
            // WAL, earlier frames included, so a synced write never leaves a gap behind it.
            let level = match wanted {
                Synchronous::Full => "FULL",
                Synchronous::Normal => "NORMAL",
            };
            conn.pragma_update(None, "synchronous", level)
                .map_err(|e| Error::backend("configure sqlite", e))?;
            *synchronous = wanted;
        }
        // BEGIN, COMMIT and ROLLBACK as cached statements (rusqlite's `Transaction` parses them
        // again on every call, a tenth of a small transaction's time).
        let run = |sql: &str| {
            conn.prepare_cached(sql)
                .and_then(|mut stmt| stmt.execute([]))
        };
        run(begin).map_err(|e| Error::backend("begin sqlite transaction", e))?;
        let open = OpenTx { conn, done: false };
        match f(SqliteTx { tx: open.conn }) {
            Ok(value) => {
                open.commit()
                    .map_err(|e| Error::backend("commit sqlite transaction", e))?;
                Ok(value)
            }
            // Dropping `open` rolls back.
            Err(err) => Err(err),
        }
    }
}

/// An open SQLite transaction that rolls back unless it was committed, also when the body
/// panics, so the connection is never left inside a transaction.
struct OpenTx<'a> {
    conn: &'a rusqlite::Connection,
    done: bool,
}

impl OpenTx<'_> {
    /// Commits; a failed commit is rolled back.
    fn commit(mut self) -> rusqlite::Result<()> {
        let outcome = self
            .conn
            .prepare_cached("COMMIT")
            .and_then(|mut stmt| stmt.execute([]))
            .map(drop);
        // Leave the rollback to drop only when the transaction is still open.
        self.done = self.conn.is_autocommit();
        outcome
    }

    fn rollback(&self) {
        let _ = self
            .conn
            .prepare_cached("ROLLBACK")
            .and_then(|mut stmt| stmt.execute([]));
    }
}

impl Drop for OpenTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.rollback();
        }
    }
}

pub(crate) struct SqliteTx<'a> {
    tx: &'a rusqlite::Connection,
}

impl Tx for SqliteTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn query(&mut self, sql: &str, params: &[Val<'_>]) -> Result<Vec<Row>> {
        let mut stmt = self
            .tx
            .prepare_cached(sql)
            .map_err(|e| Error::backend("prepare sqlite statement", e))?;
        let columns = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(|e| Error::backend("sqlite query", e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| Error::backend("sqlite query", e))? {
            let mut cells = Vec::with_capacity(columns);
            for i in 0..columns {
                use rusqlite::types::ValueRef;
                let cell = match row
                    .get_ref(i)
                    .map_err(|e| Error::backend("sqlite row", e))?
                {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Text(v.to_string()),
                    ValueRef::Text(v) => Cell::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => Cell::Blob(v.to_vec()),
                };
                cells.push(cell);
            }
            out.push(Row(cells));
        }
        Ok(out)
    }

    async fn exec(&mut self, sql: &str, params: &[Val<'_>]) -> Result<u64> {
        let mut stmt = self
            .tx
            .prepare_cached(sql)
            .map_err(|e| Error::backend("prepare sqlite statement", e))?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(|e| Error::backend("sqlite statement", e))?;
        Ok(n as u64)
    }

    async fn batch(&mut self, sql: &str) -> Result<()> {
        self.tx
            .execute_batch(sql)
            .map_err(|e| Error::backend("sqlite statement", e))
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// A PostgreSQL URL that prints with its password masked.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    url: String,
    schema: Option<String>,
}

impl PostgresUrl {
    /// Parses `postgres://...` or `postgresql://...`; a `schema=NAME` query parameter selects
    /// (and creates) a schema and is not passed to the server.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the scheme is not PostgreSQL or the schema name is unsafe.
    pub fn parse(url: &str) -> Result<PostgresUrl> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::invalid(
                "a PostgreSQL store URL starts with postgres://",
            ));
        }
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (url, None),
        };
        let mut schema = None;
        let mut rest = Vec::new();
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            match pair.split_once('=') {
                Some(("schema", name)) => schema = Some(name.to_owned()),
                _ if pair.is_empty() => {}
                _ => rest.push(pair),
            }
        }
        if let Some(name) = &schema
            && (name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(Error::invalid(
                "schema names in a store URL use letters, digits and `_` only",
            ));
        }
        let url = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        Ok(PostgresUrl { url, schema })
    }

    /// The schema selected with `schema=`.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }
}

impl std::fmt::Display for PostgresUrl {
    /// Prints the URL with any password replaced by `****`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let masked = mask_password(&self.url);
        match &self.schema {
            Some(schema) if masked.contains('?') => write!(f, "{masked}&schema={schema}"),
            Some(schema) => write!(f, "{masked}?schema={schema}"),
            None => f.write_str(&masked),
        }
    }
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresUrl({self})")
    }
}

fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The last `@` ends the user information even when an unencoded password holds `/`, `?`
    // or `@`: better to mask too much than to print a password.
    let (mut masked, tail) = match rest.rfind('@') {
        Some(at) => {
            let (userinfo, tail) = rest.split_at(at);
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let hidden = if userinfo.contains(':') { ":****" } else { "" };
            (format!("{scheme}://{user}{hidden}"), tail)
        }
        None => (format!("{scheme}://"), rest),
    };
    // A password may also come as a query parameter.
    let mut parts = tail.splitn(2, '?');
    masked.push_str(parts.next().unwrap_or(""));
    if let Some(query) = parts.next() {
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("password", _)) => "password=****".to_owned(),
                _ => pair.to_owned(),
            })
            .collect();
        masked.push('?');
        masked.push_str(&query.join("&"));
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_number_in_order_or_keep_their_number() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
        assert_eq!(
            numbered("VALUES (?1, ?2, ?12), (?3, ?2, ?12)"),
            "VALUES ($1, $2, $12), ($3, $2, $12)"
        );
    }

    fn check(url: &str, expected: &str) {
        assert_eq!(PostgresUrl::parse(url).unwrap().to_string(), expected);
    }

    /// A body that fails or panics leaves no transaction open: the next one begins normally
    /// and nothing of the failed one is kept.
    #[test]
    fn failed_and_panicking_transactions_roll_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(&dir.path().join("t.db"), true).unwrap();
        let exec = |tx: &SqliteTx<'_>, sql: &str| {
            tx.tx
                .execute_batch(sql)
                .map_err(|e| Error::backend("test", e))
        };
        db.with_tx(Commit::Write, |tx| exec(&tx, "CREATE TABLE t (x INTEGER)"))
            .unwrap();
        let failed: Result<()> = db.with_tx(Commit::Write, |tx| {
            exec(&tx, "INSERT INTO t VALUES (1)")?;
            Err(Error::invalid("refused"))
        });
        assert!(failed.is_err());
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            db.with_tx(Commit::ReadAudit, |tx| -> Result<()> {
                exec(&tx, "INSERT INTO t VALUES (2)").unwrap();
                panic!("body panics")
            })
        }));
        assert!(panicked.is_err());
        let count = db
            .with_tx(Commit::Write, |tx| {
                exec(&tx, "INSERT INTO t VALUES (3)")?;
                tx.tx
                    .query_row("SELECT group_concat(x) FROM t", [], |row| {
                        row.get::<_, String>(0)
                    })
                    .map_err(|e| Error::backend("test", e))
            })
            .unwrap();
        assert_eq!(count, "3");
    }

    #[test]
    fn passwords_are_masked() {
        check("postgres://u:pw@h:5432/db", "postgres://u:****@h:5432/db");
        check("postgres://u@h/db", "postgres://u@h/db");
        check(
            "postgres://h/db?password=pw&x=1",
            "postgres://h/db?password=****&x=1",
        );
        check("postgres://u:a/b?c@d@h/db", "postgres://u:****@h/db");
        check(
            "postgresql://u:pw@h/db?schema=s1",
            "postgresql://u:****@h/db?schema=s1",
        );
    }
}

/// The PostgreSQL backend: one connection per store handle.
pub(crate) struct PgDb {
    client: tokio::sync::Mutex<PgConnection>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDb").finish_non_exhaustive()
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PgDb {
    pub(crate) async fn connect(url: &PostgresUrl) -> Result<PgDb> {
        let (client, connection) = tokio_postgres::connect(&url.url, tokio_postgres::NoTls)
            .await
            .map_err(|e| Error::backend("connect to postgresql", format!("{url}: {e}")))?;
        let task = tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::warn!("postgresql connection ended: {err}");
            }
        });
        if let Some(schema) = url.schema() {
            // The name was checked to be [A-Za-z0-9_]+ by `PostgresUrl::parse`.
            client
                .batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET search_path TO \"{schema}\""
                ))
                .await
                .map_err(|e| Error::backend("select postgresql schema", e))?;
        }
        Ok(PgDb {
            client: tokio::sync::Mutex::new(PgConnection {
                client,
                statements: std::collections::HashMap::new(),
            }),
            task,
        })
    }

    pub(crate) async fn lock(&self) -> tokio::sync::MutexGuard<'_, PgConnection> {
        self.client.lock().await
    }
}

/// A connection and its prepared statements (statements belong to one connection; caching them
/// halves the round trips of every query).
pub(crate) struct PgConnection {
    pub(crate) client: tokio_postgres::Client,
    pub(crate) statements: std::collections::HashMap<String, tokio_postgres::Statement>,
}

pub(crate) struct PgTx<'a> {
    pub(crate) tx: tokio_postgres::Transaction<'a>,
    pub(crate) statements: &'a mut std::collections::HashMap<String, tokio_postgres::Statement>,
}

impl PgTx<'_> {
    async fn statement(&mut self, sql: &str) -> Result<tokio_postgres::Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .tx
            .prepare(&numbered(sql))
            .await
            .map_err(|e| Error::backend("prepare postgresql statement", pg_message(&e)))?;
        // Batched lookups build statements per batch size: keep the cache bounded.
        if self.statements.len() > 256 {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Serializes writers of this schema, like SQLite's single writer: the audit chain has one
    /// head, and versions must be contiguous.
    pub(crate) async fn lock_writers(&mut self) -> Result<()> {
        self.tx
            .batch_execute("SELECT pg_advisory_xact_lock(hashtext(current_schema())::bigint)")
            .await
            .map_err(|e| Error::backend("lock postgresql store", e))
    }

    /// This transaction's commit returns once it is in the server's WAL buffers, without
    /// waiting for the WAL flush (for [`Commit::ReadAudit`]).
    pub(crate) async fn defer_commit_flush(&mut self) -> Result<()> {
        self.tx
            .batch_execute("SET LOCAL synchronous_commit TO OFF")
            .await
            .map_err(|e| Error::backend("configure postgresql transaction", e))
    }
}

/// Rewrites SQLite placeholders for PostgreSQL: `?` becomes `$1`, `$2`, ... in order, and an
/// explicitly numbered `?N` (a value bound once and used in several places) becomes `$N`.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        out.push('$');
        if chars.peek().is_some_and(char::is_ascii_digit) {
            while let Some(digit) = chars.next_if(char::is_ascii_digit) {
                out.push(digit);
            }
        } else {
            n += 1;
            out.push_str(&n.to_string());
        }
    }
    out
}

fn pg_params<'a>(params: &'a [Val<'_>]) -> Vec<&'a (dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|v| match v {
            Val::I(v) => v as &(dyn tokio_postgres::types::ToSql + Sync),
            Val::T(v) => v as &(dyn tokio_postgres::types::ToSql + Sync),
            Val::B(v) => v as &(dyn tokio_postgres::types::ToSql + Sync),
        })
        .collect()
}

impl Tx for PgTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&mut self, sql: &str, params: &[Val<'_>]) -> Result<Vec<Row>> {
        use tokio_postgres::types::Type;
        let statement = self.statement(sql).await?;
        let rows = self
            .tx
            .query(&statement, &pg_params(params))
            .await
            .map_err(|e| Error::backend("postgresql query", pg_message(&e)))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut cells = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                let err = |e: tokio_postgres::Error| Error::backend("postgresql row", e);
                let cell = if *ty == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i)
                        .map_err(err)?
                        .map(Cell::Int)
                } else if *ty == Type::INT4 {
                    row.try_get::<_, Option<i32>>(i)
                        .map_err(err)?
                        .map(|v| Cell::Int(i64::from(v)))
                } else if *ty == Type::BYTEA {
                    row.try_get::<_, Option<Vec<u8>>>(i)
                        .map_err(err)?
                        .map(Cell::Blob)
                } else if *ty == Type::BOOL {
                    row.try_get::<_, Option<bool>>(i)
                        .map_err(err)?
                        .map(|v| Cell::Int(i64::from(v)))
                } else {
                    row.try_get::<_, Option<String>>(i)
                        .map_err(err)?
                        .map(Cell::Text)
                };
                cells.push(cell.unwrap_or(Cell::Null));
            }
            out.push(Row(cells));
        }
        Ok(out)
    }

    async fn exec(&mut self, sql: &str, params: &[Val<'_>]) -> Result<u64> {
        let statement = self.statement(sql).await?;
        self.tx
            .execute(&statement, &pg_params(params))
            .await
            .map_err(|e| Error::backend("postgresql statement", pg_message(&e)))
    }

    async fn batch(&mut self, sql: &str) -> Result<()> {
        self.tx
            .batch_execute(sql)
            .await
            .map_err(|e| Error::backend("postgresql statement", pg_message(&e)))
    }
}

/// The server's message (never parameters: they are sent separately).
fn pg_message(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => err.to_string(),
    }
}

/// Where a store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server.
    Postgres(PostgresUrl),
}

impl StoreLocation {
    /// `postgres://...` selects PostgreSQL, `sqlite://PATH` or any other text a SQLite file.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a malformed PostgreSQL URL.
    pub fn parse(text: &str) -> Result<StoreLocation> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return PostgresUrl::parse(text).map(StoreLocation::Postgres);
        }
        let path = text.strip_prefix("sqlite://").unwrap_or(text);
        Ok(StoreLocation::Sqlite(PathBuf::from(path)))
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(url) => write!(f, "{url}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schema

pub(crate) const SCHEMA_VERSION: i64 = 1;

/// Version 1 of the schema, per dialect. Secrets ids are never reused (AUTOINCREMENT,
/// BIGSERIAL) because they are bound into ciphertexts.
pub(crate) fn migration_v1(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "CREATE TABLE IF NOT EXISTS sigil_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS secrets (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                workspace TEXT NOT NULL, scope TEXT NOT NULL, owner TEXT NOT NULL,
                name TEXT NOT NULL, environment TEXT NOT NULL,
                description TEXT NOT NULL, metadata TEXT NOT NULL,
                created_by TEXT NOT NULL, created_at INTEGER NOT NULL,
                updated_by TEXT NOT NULL, updated_at INTEGER NOT NULL,
                rotation_days INTEGER, expires_at INTEGER,
                current_version INTEGER NOT NULL, deleted_at INTEGER,
                UNIQUE (workspace, scope, owner, name, environment));
             CREATE INDEX IF NOT EXISTS secrets_by_name ON secrets (workspace, name);
             CREATE TABLE IF NOT EXISTS versions (
                secret_id INTEGER NOT NULL REFERENCES secrets (id),
                version INTEGER NOT NULL,
                created_by TEXT NOT NULL, created_at INTEGER NOT NULL,
                reason TEXT NOT NULL, how TEXT NOT NULL, key_id TEXT NOT NULL,
                wrapped_key BLOB NOT NULL, ciphertext BLOB NOT NULL,
                PRIMARY KEY (secret_id, version));
             CREATE TABLE IF NOT EXISTS audit (
                seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,
                action TEXT NOT NULL, workspace TEXT, scope TEXT, name TEXT, environment TEXT,
                version INTEGER, pipeline TEXT, run TEXT, step TEXT, source TEXT,
                outcome TEXT NOT NULL, detail TEXT, prev_hash BLOB NOT NULL, hash BLOB NOT NULL);"
        }
        Dialect::Postgres => {
            "CREATE TABLE IF NOT EXISTS sigil_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS secrets (
                id BIGSERIAL PRIMARY KEY,
                workspace TEXT NOT NULL, scope TEXT NOT NULL, owner TEXT NOT NULL,
                name TEXT NOT NULL, environment TEXT NOT NULL,
                description TEXT NOT NULL, metadata TEXT NOT NULL,
                created_by TEXT NOT NULL, created_at BIGINT NOT NULL,
                updated_by TEXT NOT NULL, updated_at BIGINT NOT NULL,
                rotation_days BIGINT, expires_at BIGINT,
                current_version BIGINT NOT NULL, deleted_at BIGINT,
                UNIQUE (workspace, scope, owner, name, environment));
             CREATE INDEX IF NOT EXISTS secrets_by_name ON secrets (workspace, name);
             CREATE TABLE IF NOT EXISTS versions (
                secret_id BIGINT NOT NULL REFERENCES secrets (id),
                version BIGINT NOT NULL,
                created_by TEXT NOT NULL, created_at BIGINT NOT NULL,
                reason TEXT NOT NULL, how TEXT NOT NULL, key_id TEXT NOT NULL,
                wrapped_key BYTEA NOT NULL, ciphertext BYTEA NOT NULL,
                PRIMARY KEY (secret_id, version));
             CREATE TABLE IF NOT EXISTS audit (
                seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL,
                action TEXT NOT NULL, workspace TEXT, scope TEXT, name TEXT, environment TEXT,
                version BIGINT, pipeline TEXT, run TEXT, step TEXT, source TEXT,
                outcome TEXT NOT NULL, detail TEXT, prev_hash BYTEA NOT NULL, hash BYTEA NOT NULL);"
        }
    }
}
