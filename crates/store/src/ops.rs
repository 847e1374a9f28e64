//! Every store operation, written once over [`Tx`].

use std::borrow::Cow;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{self, MasterKey};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{
    Access, Actor, AuditDefect, AuditQuery, AuditRecord, AuditVerdict, Candidate, Environment, How,
    ListFilter, NameQuery, RunContext, Scope, ScopeKind, SecretKey, SecretMeta, SecretName,
    SetOptions, Timestamp, VersionInfo,
};
use crate::sql::{Cell, Dialect, Row, SCHEMA_VERSION, Tx, Val, migration_v1};

/// Key material held while a store is open.
pub(crate) struct Keys {
    pub(crate) master: MasterKey,
    pub(crate) store_id: String,
    pub(crate) handle_key: zeroize::Zeroizing<Vec<u8>>,
}

const SECRET_COLS: &str = "id, workspace, scope, owner, name, environment, description, metadata, \
     created_by, created_at, updated_by, updated_at, rotation_days, expires_at, current_version, deleted_at";

// ---------------------------------------------------------------------------------------------
// Meta and schema

pub(crate) async fn get_meta(tx: &mut impl Tx, k: &str) -> Result<Option<String>> {
    let rows = tx
        .query("SELECT v FROM sigil_meta WHERE k = ?", &[k.into()])
        .await?;
    rows.first().map(|r| r.text(0)).transpose()
}

pub(crate) async fn set_meta(tx: &mut impl Tx, k: &str, v: &str) -> Result<()> {
    tx.exec(
        "INSERT INTO sigil_meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
        &[k.into(), v.into()],
    )
    .await?;
    Ok(())
}

pub(crate) async fn migrate(tx: &mut impl Tx) -> Result<()> {
    let dialect = tx.dialect();
    tx.batch(migration_v1(dialect)).await?;
    match get_meta(tx, "schema_version").await? {
        None => set_meta(tx, "schema_version", &SCHEMA_VERSION.to_string()).await,
        Some(v) if v.parse::<i64>().is_ok_and(|v| v <= SCHEMA_VERSION) => Ok(()),
        Some(v) => Err(Error::corrupt(format!(
            "schema version {v} is newer than this sigil understands ({SCHEMA_VERSION})"
        ))),
    }
}

fn key_check_aad(store_id: &str) -> Vec<u8> {
    format!("sigil/key-check/{store_id}").into_bytes()
}

fn handle_key_aad(store_id: &str) -> Vec<u8> {
    format!("sigil/handle-key/{store_id}").into_bytes()
}

pub(crate) fn backup_aad(store_id: &str) -> Vec<u8> {
    format!("sigil/backup/v1/{store_id}").into_bytes()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str, what: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| Error::corrupt(format!("{what} is not base64")))
}

/// Writes the identity and key material of a new store.
pub(crate) async fn initialize(
    tx: &mut impl Tx,
    master: &MasterKey,
    kdf: Option<&crypto::KdfParams>,
    actor: &Actor,
) -> Result<Keys> {
    let mut id = [0u8; 16];
    rand::fill(&mut id[..]);
    let store_id = crypto::hex(&id);
    let mut handle_key = zeroize::Zeroizing::new(vec![0u8; 32]);
    rand::fill(&mut handle_key[..]);
    set_meta(tx, "store_id", &store_id).await?;
    write_key_material(tx, master, &store_id, &handle_key, kdf).await?;
    let keys = Keys {
        master: master.clone(),
        store_id,
        handle_key,
    };
    append_audit(tx, &[NewAudit::new(actor, "init")]).await?;
    Ok(keys)
}

async fn write_key_material(
    tx: &mut impl Tx,
    master: &MasterKey,
    store_id: &str,
    handle_key: &[u8],
    kdf: Option<&crypto::KdfParams>,
) -> Result<()> {
    set_meta(tx, "key_id", master.id()).await?;
    set_meta(
        tx,
        "key_check",
        &b64(&master.seal(b"sigil", &key_check_aad(store_id))),
    )
    .await?;
    set_meta(
        tx,
        "handle_key",
        &b64(&master.seal(handle_key, &handle_key_aad(store_id))),
    )
    .await?;
    match kdf {
        Some(kdf) => {
            let json = serde_json::to_string(kdf).map_err(|e| Error::corrupt(e.to_string()))?;
            set_meta(tx, "kdf", &json).await
        }
        None => {
            tx.exec("DELETE FROM sigil_meta WHERE k = 'kdf'", &[])
                .await?;
            Ok(())
        }
    }
}

/// Reads the store id, or `None` for a store that was never initialized.
pub(crate) async fn store_id(tx: &mut impl Tx) -> Result<Option<String>> {
    get_meta(tx, "store_id").await
}

pub(crate) async fn kdf_params(tx: &mut impl Tx) -> Result<Option<crypto::KdfParams>> {
    get_meta(tx, "kdf")
        .await?
        .map(|json| serde_json::from_str(&json).map_err(|_| Error::corrupt("kdf parameters")))
        .transpose()
}

/// Checks the master key against the store and unseals the handle key.
pub(crate) async fn unlock(tx: &mut impl Tx, master: MasterKey) -> Result<Keys> {
    let store_id = store_id(tx)
        .await?
        .ok_or_else(|| Error::corrupt("store id missing"))?;
    let expected = get_meta(tx, "key_id").await?.unwrap_or_default();
    let check = unb64(
        &get_meta(tx, "key_check").await?.unwrap_or_default(),
        "key check",
    )?;
    if master
        .open(&check, &key_check_aad(&store_id), &|| {
            "the key check".into()
        })
        .is_err()
    {
        return Err(ErrorKind::WrongKey {
            given: master.id().to_owned(),
            expected,
        }
        .into());
    }
    let sealed = unb64(
        &get_meta(tx, "handle_key").await?.unwrap_or_default(),
        "handle key",
    )?;
    let handle_key = master.open(&sealed, &handle_key_aad(&store_id), &|| {
        "the handle key".into()
    })?;
    Ok(Keys {
        master,
        store_id,
        handle_key,
    })
}

// ---------------------------------------------------------------------------------------------
// Audit

/// One audit record to append.
pub(crate) struct NewAudit<'a> {
    pub(crate) actor: &'a Actor,
    pub(crate) action: &'a str,
    pub(crate) key: Option<&'a SecretKey>,
    pub(crate) version: Option<i64>,
    pub(crate) access: Option<&'a Access>,
    pub(crate) outcome: &'a str,
    pub(crate) detail: Option<String>,
}

impl<'a> NewAudit<'a> {
    pub(crate) fn new(actor: &'a Actor, action: &'a str) -> NewAudit<'a> {
        NewAudit {
            actor,
            action,
            key: None,
            version: None,
            access: None,
            outcome: "ok",
            detail: None,
        }
    }
    fn key(mut self, key: &'a SecretKey, version: Option<i64>) -> NewAudit<'a> {
        self.key = Some(key);
        self.version = version;
        self
    }
    fn access(mut self, access: &'a Access) -> NewAudit<'a> {
        self.access = Some(access);
        self
    }
    fn detail(mut self, detail: impl Into<String>) -> NewAudit<'a> {
        self.detail = Some(detail.into());
        self
    }
    pub(crate) fn outcome(mut self, outcome: &'a str) -> NewAudit<'a> {
        self.outcome = outcome;
        self
    }
}

/// The fields of one audit record, borrowed: what the canonical form and the INSERT read, whether
/// the record is being appended or read back for verification.
struct AuditFields<'a> {
    seq: i64,
    at: i64,
    actor: &'a str,
    action: &'a str,
    workspace: Option<&'a str>,
    scope: Option<Cow<'a, str>>,
    name: Option<&'a str>,
    environment: Option<&'a str>,
    version: Option<i64>,
    pipeline: Option<&'a str>,
    run: Option<&'a str>,
    step: Option<&'a str>,
    source: Option<&'a str>,
    outcome: &'a str,
    detail: Option<&'a str>,
}

impl<'a> AuditFields<'a> {
    fn of_record(r: &'a AuditRecord) -> Self {
        AuditFields {
            seq: r.seq,
            at: r.at.0,
            actor: &r.actor,
            action: &r.action,
            workspace: r.workspace.as_deref(),
            scope: r.scope.as_deref().map(Cow::Borrowed),
            name: r.name.as_deref(),
            environment: r.environment.as_deref(),
            version: r.version,
            pipeline: r.pipeline.as_deref(),
            run: r.run.as_deref(),
            step: r.step.as_deref(),
            source: r.source.as_deref(),
            outcome: &r.outcome,
            detail: r.detail.as_deref(),
        }
    }

    /// The record `new` becomes, with the text forms a stored record has (scope `pipeline:ID`,
    /// environment `*` for all environments).
    fn of_new(seq: i64, at: Timestamp, new: &'a NewAudit<'a>) -> Self {
        let key = new.key;
        let access = new.access;
        AuditFields {
            seq,
            at: at.0,
            actor: &new.actor.name,
            action: new.action,
            workspace: key.map(|k| k.workspace.as_str()),
            scope: key.map(|k| match &k.scope {
                Scope::Workspace => Cow::Borrowed("workspace"),
                scope => Cow::Owned(scope.to_string()),
            }),
            name: key.map(|k| k.name.as_str()),
            environment: key.map(|k| match &k.environment {
                Environment::All => "*",
                Environment::Named(name) => name.as_str(),
            }),
            version: new.version,
            pipeline: access.and_then(|a| a.pipeline.as_deref()),
            run: access.and_then(|a| a.run.as_deref()),
            step: access.and_then(|a| a.step.as_deref()),
            source: new.actor.source.as_deref(),
            outcome: new.outcome,
            detail: new.detail.as_deref(),
        }
    }
}

/// The canonical form that a record's hash covers: every field, in order, plus the previous hash,
/// as a JSON array: `["sigil-audit-v1", seq, at, actor, ..., detail, "<prev hash hex>"]`.
fn canonical(record: &AuditRecord, prev_hash: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    canonical_into(&mut out, &AuditFields::of_record(record), prev_hash);
    out
}

/// Writes the canonical form into `out` (cleared first), one buffer, no intermediate values.
fn canonical_into(out: &mut Vec<u8>, fields: &AuditFields<'_>, prev_hash: &[u8]) {
    out.clear();
    serde_json::to_writer(&mut *out, &CanonicalAudit(fields, &crypto::hex(prev_hash)))
        .expect("a JSON array of strings and numbers serializes");
}

struct CanonicalAudit<'a>(&'a AuditFields<'a>, &'a str);

impl serde::Serialize for CanonicalAudit<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple as _;
        let CanonicalAudit(r, prev_hex) = self;
        let mut array = serializer.serialize_tuple(17)?;
        array.serialize_element("sigil-audit-v1")?;
        array.serialize_element(&r.seq)?;
        array.serialize_element(&r.at)?;
        array.serialize_element(r.actor)?;
        array.serialize_element(r.action)?;
        array.serialize_element(&r.workspace)?;
        array.serialize_element(&r.scope)?;
        array.serialize_element(&r.name)?;
        array.serialize_element(&r.environment)?;
        array.serialize_element(&r.version)?;
        array.serialize_element(&r.pipeline)?;
        array.serialize_element(&r.run)?;
        array.serialize_element(&r.step)?;
        array.serialize_element(&r.source)?;
        array.serialize_element(r.outcome)?;
        array.serialize_element(&r.detail)?;
        array.serialize_element(prev_hex)?;
        array.end()
    }
}

/// The last record's sequence number and hash, kept in the store so that deleting records at the
/// end of the chain is detected too.
async fn audit_head(tx: &mut impl Tx) -> Result<(i64, Vec<u8>)> {
    match get_meta(tx, "audit_head").await? {
        None => Ok((0, vec![0u8; 32])),
        Some(text) => {
            let (seq, hash) = text
                .split_once(' ')
                .ok_or_else(|| Error::corrupt("audit head"))?;
            let seq = seq.parse().map_err(|_| Error::corrupt("audit head"))?;
            Ok((seq, unb64(hash, "audit head")?))
        }
    }
}

/// Appends records to the chain, in the caller's transaction.
pub(crate) async fn append_audit(tx: &mut impl Tx, records: &[NewAudit<'_>]) -> Result<()> {
    /// Rows per INSERT: one statement per chunk instead of one per record (a step's batch
    /// writes a record per value).
    const CHUNK: usize = 32;
    let (mut seq, head) = audit_head(tx).await?;
    let mut prev: [u8; 32] = head.try_into().map_err(|_| Error::corrupt("audit head"))?;
    let at = Timestamp::now();
    let mut canonical = Vec::with_capacity(512);
    for chunk in records.chunks(CHUNK) {
        // Every record's fields and hashes first, so that the parameters can borrow them.
        let mut rows = Vec::with_capacity(chunk.len());
        for new in chunk {
            seq += 1;
            let fields = AuditFields::of_new(seq, at, new);
            canonical_into(&mut canonical, &fields, &prev);
            let hash = crypto::sha256_array(&canonical);
            rows.push((fields, prev, hash));
            prev = hash;
        }
        let mut insert = RepeatingRows::new(
            chunk.len(),
            "INSERT INTO audit (seq, at, actor, action, workspace, scope, name, environment, \
             version, pipeline, run, step, source, outcome, detail, prev_hash, hash) VALUES ",
        );
        for (r, prev_hash, hash) in &rows {
            insert.begin_row();
            insert.unique(r.seq.into());
            insert.unique(r.at.into());
            insert.text(Some(r.actor));
            insert.text(Some(r.action));
            insert.text(r.workspace);
            insert.text(r.scope.as_deref());
            insert.unique(r.name.into());
            insert.text(r.environment);
            insert.unique(r.version.into());
            insert.text(r.pipeline);
            insert.text(r.run);
            insert.text(r.step);
            insert.text(r.source);
            insert.text(Some(r.outcome));
            insert.text(r.detail);
            insert.unique(prev_hash.as_slice().into());
            insert.unique(hash.as_slice().into());
            insert.sql.push(')');
        }
        tx.exec(&insert.sql, &insert.params).await?;
    }
    set_meta(tx, "audit_head", &format!("{seq} {}", b64(&prev))).await?;
    Ok(())
}

/// A multi-row INSERT in which a text value that repeats the previous row's value in the same
/// column is bound once and referred to by number (`?N`): the records of one step share actor,
/// action, workspace, pipeline, run and step, and binding every copy again cost more than
/// writing the rows.
struct RepeatingRows<'a> {
    sql: String,
    params: Vec<Val<'a>>,
    /// Per column of the current row: the previous row's text value and its number.
    previous: Vec<Option<(Option<&'a str>, usize)>>,
    column: usize,
}

impl<'a> RepeatingRows<'a> {
    /// Room for `rows` rows of up to 17 columns, so that neither buffer grows while it fills.
    fn new(rows: usize, head: &str) -> Self {
        let mut sql = String::with_capacity(head.len() + rows * 17 * 7);
        sql.push_str(head);
        RepeatingRows {
            sql,
            params: Vec::with_capacity(rows * 17),
            previous: Vec::with_capacity(17),
            column: 0,
        }
    }

    fn begin_row(&mut self) {
        self.sql
            .push_str(if self.params.is_empty() { "(" } else { ", (" });
        self.column = 0;
    }

    fn placeholder(&mut self, number: usize) {
        if self.column > 0 {
            self.sql.push_str(", ");
        }
        self.sql.push('?');
        // `write!` here cost more than the rest of the statement's assembly.
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut rest = number;
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        self.sql
            .extend(digits[start..].iter().map(|&d| char::from(d)));
        self.column += 1;
    }

    /// A value bound for this place only.
    fn unique(&mut self, value: Val<'a>) {
        self.params.push(value);
        self.placeholder(self.params.len());
    }

    /// A text value (or a text NULL), bound again only when it differs from the previous row's.
    fn text(&mut self, value: Option<&'a str>) {
        if self.previous.len() <= self.column {
            self.previous.resize(self.column + 1, None);
        }
        let number = match self.previous[self.column] {
            Some((previous, number)) if previous == value => number,
            _ => {
                self.params.push(value.into());
                self.params.len()
            }
        };
        self.previous[self.column] = Some((value, number));
        self.placeholder(number);
    }
}

const AUDIT_COLS: &str = "seq, at, actor, action, workspace, scope, name, environment, version, \
     pipeline, run, step, source, outcome, detail, prev_hash, hash";

fn audit_from_row(row: &Row) -> Result<(AuditRecord, Vec<u8>, Vec<u8>)> {
    Ok((
        AuditRecord {
            seq: row.i64(0)?,
            at: Timestamp(row.i64(1)?),
            actor: row.text(2)?,
            action: row.text(3)?,
            workspace: row.opt_text(4)?,
            scope: row.opt_text(5)?,
            name: row.opt_text(6)?,
            environment: row.opt_text(7)?,
            version: row.opt_i64(8)?,
            pipeline: row.opt_text(9)?,
            run: row.opt_text(10)?,
            step: row.opt_text(11)?,
            source: row.opt_text(12)?,
            outcome: row.text(13)?,
            detail: row.opt_text(14)?,
        },
        row.blob(15)?,
        row.blob(16)?,
    ))
}

pub(crate) async fn audit_query(tx: &mut impl Tx, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
    let mut sql = format!("SELECT {AUDIT_COLS} FROM audit WHERE 1 = 1");
    let mut params: Vec<Val> = Vec::new();
    for (column, value) in [
        ("name", &query.name),
        ("action", &query.action),
        ("pipeline", &query.pipeline),
        ("run", &query.run),
        ("workspace", &query.workspace),
    ] {
        if let Some(value) = value {
            sql.push_str(&format!(" AND {column} = ?"));
            params.push(value.as_str().into());
        }
    }
    if let Some(since) = query.since {
        sql.push_str(" AND at >= ?");
        params.push(since.0.into());
    }
    sql.push_str(" ORDER BY seq");
    let rows = tx.query(&sql, &params).await?;
    rows.iter()
        .map(|r| audit_from_row(r).map(|(rec, _, _)| rec))
        .collect()
}

pub(crate) async fn audit_verify(tx: &mut impl Tx) -> Result<AuditVerdict> {
    let rows = tx
        .query(&format!("SELECT {AUDIT_COLS} FROM audit ORDER BY seq"), &[])
        .await?;
    let mut prev = vec![0u8; 32];
    let mut expected_seq = 1;
    let mut count = 0;
    let bad = |count: i64, seq: i64, problem: String| AuditVerdict {
        records: count,
        first_bad: Some(AuditDefect { seq, problem }),
    };
    for row in &rows {
        let (record, prev_hash, hash) = audit_from_row(row)?;
        if record.seq != expected_seq {
            return Ok(bad(
                count,
                expected_seq,
                format!(
                    "record {expected_seq} is missing (deleted or renumbered; next is {})",
                    record.seq
                ),
            ));
        }
        if prev_hash != prev {
            return Ok(bad(
                count,
                record.seq,
                format!(
                    "record {} does not follow record {} (a record was deleted, inserted or reordered)",
                    record.seq,
                    record.seq - 1
                ),
            ));
        }
        if crypto::sha256(&canonical(&record, &prev_hash)) != hash {
            return Ok(bad(
                count,
                record.seq,
                format!(
                    "record {} does not match its hash (edited or moved)",
                    record.seq
                ),
            ));
        }
        prev = hash;
        expected_seq += 1;
        count += 1;
    }
    let (head_seq, head_hash) = audit_head(tx).await?;
    if head_seq != expected_seq - 1 || head_hash != prev {
        return Ok(bad(
            count,
            expected_seq,
            format!(
                "the chain ends at record {} but the store's head is record {head_seq} \
                 (records at the end were deleted or the head was altered)",
                expected_seq - 1
            ),
        ));
    }
    Ok(AuditVerdict {
        records: count,
        first_bad: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Secrets

fn meta_from_row(row: &Row) -> Result<SecretMeta> {
    let kind = ScopeKind::parse(row.str(2)?)?;
    let name = SecretName::new(row.str(4)?)?;
    let metadata: serde_json::Value =
        serde_json::from_str(row.str(7)?).map_err(|_| Error::corrupt("metadata is not JSON"))?;
    Ok(SecretMeta {
        id: row.i64(0)?,
        key: SecretKey {
            workspace: row.text(1)?,
            scope: Scope::from_parts(kind, Some(row.str(3)?))?,
            name,
            environment: Environment::new(Some(row.str(5)?)),
        },
        description: row.text(6)?,
        metadata,
        created_by: row.text(8)?,
        created_at: Timestamp(row.i64(9)?),
        updated_by: row.text(10)?,
        updated_at: Timestamp(row.i64(11)?),
        rotation_days: row.opt_i64(12)?.and_then(|d| u32::try_from(d).ok()),
        expires_at: row.opt_i64(13)?.map(Timestamp),
        version: row.i64(14)?,
        deleted_at: row.opt_i64(15)?.map(Timestamp),
    })
}

fn key_params(key: &SecretKey) -> Vec<Val<'_>> {
    vec![
        key.workspace.as_str().into(),
        key.scope.kind().as_str().into(),
        key.scope.owner().into(),
        key.name.as_str().into(),
        key.environment.as_stored().into(),
    ]
}

async fn find(tx: &mut impl Tx, key: &SecretKey) -> Result<Option<SecretMeta>> {
    let rows = tx
        .query(
            &format!(
                "SELECT {SECRET_COLS} FROM secrets WHERE workspace = ? AND scope = ? AND owner = ? \
                 AND name = ? AND environment = ?"
            ),
            &key_params(key),
        )
        .await?;
    rows.first().map(meta_from_row).transpose()
}

async fn find_live(tx: &mut impl Tx, key: &SecretKey) -> Result<SecretMeta> {
    match find(tx, key).await? {
        Some(meta) if meta.deleted_at.is_none() => Ok(meta),
        _ => Err(ErrorKind::NotFound {
            what: key.to_string(),
        }
        .into()),
    }
}

/// The associated data of one version: binds the ciphertext to its store, secret, scope,
/// environment and version.
pub(crate) fn binding(store_id: &str, secret_id: i64, key: &SecretKey, version: i64) -> Vec<u8> {
    serde_json::to_vec(&(
        "sigil/v1",
        store_id,
        secret_id,
        &key.workspace,
        key.scope.kind().as_str(),
        key.scope.owner(),
        key.name.as_str(),
        key.environment.as_stored(),
        version,
    ))
    .expect("a JSON array of strings and numbers serializes")
}

async fn load_value(
    tx: &mut impl Tx,
    keys: &Keys,
    meta: &SecretMeta,
    version: i64,
) -> Result<SecretString> {
    let rows = tx
        .query(
            "SELECT wrapped_key, ciphertext FROM versions WHERE secret_id = ? AND version = ?",
            &[meta.id.into(), version.into()],
        )
        .await?;
    let row = rows.first().ok_or_else(|| {
        Error::from(ErrorKind::NotFound {
            what: format!("version {version} of {}", meta.key),
        })
    })?;
    decrypt_row(
        keys,
        meta.id,
        &meta.key,
        version,
        &row.blob(0)?,
        &row.blob(1)?,
    )
}

fn decrypt_row(
    keys: &Keys,
    secret_id: i64,
    key: &SecretKey,
    version: i64,
    wrapped: &[u8],
    ciphertext: &[u8],
) -> Result<SecretString> {
    let aad = binding(&keys.store_id, secret_id, key, version);
    let what = || format!("version {version} of {key}");
    let plain = crypto::decrypt_value(&keys.master, wrapped, ciphertext, &aad, &what)?;
    let text = std::str::from_utf8(&plain)
        .map_err(|_| Error::from(ErrorKind::DecryptionFailed { what: what() }))?;
    Ok(SecretString::from(text))
}

/// What a write does: the value and how.
pub(crate) struct Write<'a> {
    pub(crate) how: How,
    pub(crate) value: &'a SecretString,
    pub(crate) options: &'a SetOptions,
}

/// Writes a new version (creating the secret if needed), audited.
pub(crate) async fn write_value(
    tx: &mut impl Tx,
    keys: &Keys,
    actor: &Actor,
    key: &SecretKey,
    write: Write<'_>,
) -> Result<(SecretMeta, VersionInfo)> {
    let now = Timestamp::now();
    let existing = find(tx, key).await?;
    let live_version = existing
        .as_ref()
        .filter(|m| m.deleted_at.is_none())
        .map_or(0, |m| m.version);
    let options = write.options;
    if let Some(expected) = options.if_version
        && expected != live_version
    {
        return Err(ErrorKind::Conflict {
            what: key.to_string(),
            expected_version: expected,
            current_version: live_version,
        }
        .into());
    }
    if matches!(write.how, How::Rotate) && live_version == 0 {
        return Err(ErrorKind::NotFound {
            what: key.to_string(),
        }
        .into());
    }
    if let Some(metadata) = &options.metadata
        && !metadata.is_object()
    {
        return Err(Error::invalid("metadata must be a JSON object"));
    }
    let expires_at = options.ttl.map(|ttl| now.plus(ttl).0);
    let rotation_days = options.rotation_days.map(i64::from);
    let (id, version) = match &existing {
        Some(meta) => {
            let version = meta.version + 1;
            tx.exec(
                "UPDATE secrets SET description = COALESCE(?, description), \
                 metadata = COALESCE(?, metadata), updated_by = ?, updated_at = ?, \
                 rotation_days = COALESCE(?, rotation_days), expires_at = COALESCE(?, expires_at), \
                 current_version = ?, deleted_at = NULL WHERE id = ?",
                &[
                    options.description.clone().into(),
                    options.metadata.as_ref().map(|m| m.to_string()).into(),
                    actor.name.as_str().into(),
                    now.0.into(),
                    rotation_days.into(),
                    expires_at.into(),
                    version.into(),
                    meta.id.into(),
                ],
            )
            .await?;
            (meta.id, version)
        }
        None => {
            let mut params = key_params(key);
            params.extend([
                options.description.clone().unwrap_or_default().into(),
                options
                    .metadata
                    .as_ref()
                    .map_or_else(|| "{}".to_owned(), |m| m.to_string())
                    .into(),
                actor.name.as_str().into(),
                now.0.into(),
                actor.name.as_str().into(),
                now.0.into(),
                rotation_days.into(),
                expires_at.into(),
                1i64.into(),
            ]);
            let rows = tx
                .query(
                    "INSERT INTO secrets (workspace, scope, owner, name, environment, description, \
                     metadata, created_by, created_at, updated_by, updated_at, rotation_days, \
                     expires_at, current_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                     RETURNING id",
                    &params,
                )
                .await?;
            let id = rows
                .first()
                .ok_or_else(|| Error::corrupt("insert returned no id"))?
                .i64(0)?;
            (id, 1)
        }
    };
    let aad = binding(&keys.store_id, id, key, version);
    let (wrapped, ciphertext) =
        crypto::encrypt_value(&keys.master, write.value.expose_secret().as_bytes(), &aad);
    let reason = options.reason.clone().unwrap_or_default();
    tx.exec(
        "INSERT INTO versions (secret_id, version, created_by, created_at, reason, how, key_id, \
         wrapped_key, ciphertext) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            id.into(),
            version.into(),
            actor.name.as_str().into(),
            now.0.into(),
            reason.as_str().into(),
            write.how.as_str().into(),
            keys.master.id().into(),
            wrapped.into(),
            ciphertext.into(),
        ],
    )
    .await?;
    let mut audit = NewAudit::new(actor, write.how.as_str()).key(key, Some(version));
    if !reason.is_empty() {
        audit = audit.detail(reason.clone());
    }
    append_audit(tx, &[audit]).await?;
    let meta = find_live(tx, key).await?;
    let info = VersionInfo {
        version,
        created_by: actor.name.clone(),
        created_at: now,
        reason,
        how: write.how,
        key_id: keys.master.id().to_owned(),
    };
    Ok((meta, info))
}

pub(crate) async fn rollback(
    tx: &mut impl Tx,
    keys: &Keys,
    actor: &Actor,
    key: &SecretKey,
    to: i64,
    reason: &str,
) -> Result<(SecretMeta, VersionInfo)> {
    let meta = find_live(tx, key).await?;
    let value = load_value(tx, keys, &meta, to).await?;
    let options = SetOptions {
        reason: Some(format!("rollback to version {to}: {reason}")),
        ..SetOptions::default()
    };
    write_value(
        tx,
        keys,
        actor,
        key,
        Write {
            how: How::Rollback,
            value: &value,
            options: &options,
        },
    )
    .await
}

pub(crate) async fn get(tx: &mut impl Tx, key: &SecretKey) -> Result<SecretMeta> {
    find_live(tx, key).await
}

pub(crate) async fn reveal(
    tx: &mut impl Tx,
    keys: &Keys,
    actor: &Actor,
    key: &SecretKey,
    access: &Access,
    version: Option<i64>,
) -> Result<(SecretMeta, SecretString)> {
    let meta = find_live(tx, key).await?;
    if meta.is_expired(Timestamp::now()) {
        return Err(ErrorKind::Expired {
            what: key.to_string(),
        }
        .into());
    }
    let version = version.unwrap_or(meta.version);
    let value = load_value(tx, keys, &meta, version).await?;
    append_audit(
        tx,
        &[NewAudit::new(actor, "access")
            .key(key, Some(version))
            .access(access)],
    )
    .await?;
    Ok((meta, value))
}

pub(crate) async fn history(tx: &mut impl Tx, key: &SecretKey) -> Result<Vec<VersionInfo>> {
    let meta = find(tx, key).await?.ok_or_else(|| {
        Error::from(ErrorKind::NotFound {
            what: key.to_string(),
        })
    })?;
    let rows = tx
        .query(
            "SELECT version, created_by, created_at, reason, how, key_id FROM versions \
             WHERE secret_id = ? ORDER BY version",
            &[meta.id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(VersionInfo {
                version: r.i64(0)?,
                created_by: r.text(1)?,
                created_at: Timestamp(r.i64(2)?),
                reason: r.text(3)?,
                how: How::parse(&r.text(4)?),
                key_id: r.text(5)?,
            })
        })
        .collect()
}

pub(crate) async fn delete(tx: &mut impl Tx, actor: &Actor, key: &SecretKey) -> Result<SecretMeta> {
    let meta = find_live(tx, key).await?;
    tx.exec(
        "UPDATE secrets SET deleted_at = ?, updated_by = ?, updated_at = ? WHERE id = ?",
        &[
            Timestamp::now().0.into(),
            actor.name.as_str().into(),
            Timestamp::now().0.into(),
            meta.id.into(),
        ],
    )
    .await?;
    append_audit(
        tx,
        &[NewAudit::new(actor, "delete").key(key, Some(meta.version))],
    )
    .await?;
    Ok(meta)
}

pub(crate) async fn purge(tx: &mut impl Tx, actor: &Actor, key: &SecretKey) -> Result<SecretMeta> {
    let meta = find(tx, key).await?.ok_or_else(|| {
        Error::from(ErrorKind::NotFound {
            what: key.to_string(),
        })
    })?;
    tx.exec(
        "DELETE FROM versions WHERE secret_id = ?",
        &[meta.id.into()],
    )
    .await?;
    tx.exec("DELETE FROM secrets WHERE id = ?", &[meta.id.into()])
        .await?;
    append_audit(
        tx,
        &[NewAudit::new(actor, "purge").key(key, Some(meta.version))],
    )
    .await?;
    Ok(meta)
}

pub(crate) async fn list(
    tx: &mut impl Tx,
    workspace: &str,
    filter: &ListFilter,
) -> Result<Vec<SecretMeta>> {
    let mut sql = format!("SELECT {SECRET_COLS} FROM secrets WHERE workspace = ?");
    let mut params: Vec<Val> = vec![workspace.into()];
    if let Some(scope) = filter.scope {
        sql.push_str(" AND scope = ?");
        params.push(scope.as_str().into());
    }
    if let Some(owner) = &filter.owner {
        sql.push_str(" AND owner = ?");
        params.push(owner.as_str().into());
    }
    if let Some(env) = &filter.environment {
        sql.push_str(" AND environment = ?");
        params.push(env.as_stored().into());
    }
    if !filter.include_deleted {
        sql.push_str(" AND deleted_at IS NULL");
    }
    sql.push_str(" ORDER BY name, scope, owner, environment");
    let rows = tx.query(&sql, &params).await?;
    let now = Timestamp::now();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let meta = meta_from_row(row)?;
        if (filter.due && !meta.is_due(now)) || (filter.expired && !meta.is_expired(now)) {
            continue;
        }
        out.push(meta);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Batched lookups for the resolver

pub(crate) async fn candidates(
    tx: &mut impl Tx,
    ctx: &RunContext,
    names: &[NameQuery],
) -> Result<Vec<Vec<Candidate>>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = vec!["?"; names.len()].join(", ");
    let sql = format!(
        "SELECT id, scope, owner, name, environment, current_version, expires_at \
         FROM secrets WHERE workspace = ? AND deleted_at IS NULL AND name IN ({placeholders}) \
         AND (scope = 'workspace' OR (scope = 'pipeline' AND owner = ?) \
              OR (scope = 'personal' AND owner = ?)) \
         AND (environment = '' OR environment = ?)"
    );
    let mut params: Vec<Val> = vec![ctx.workspace.as_str().into()];
    params.extend(names.iter().map(|q| Val::from(q.name.as_str())));
    // An absent pipeline or user matches no owner: owners are never NULL.
    params.push(ctx.pipeline.as_deref().into());
    params.push(ctx.user.as_deref().into());
    params.push(ctx.environment.as_deref().unwrap_or_default().into());
    let rows = tx.query(&sql, &params).await?;
    // Which queries ask for each name (a name may be asked for in several scopes).
    let mut asked: std::collections::HashMap<&str, Vec<usize>> =
        std::collections::HashMap::with_capacity(names.len());
    for (i, query) in names.iter().enumerate() {
        asked.entry(query.name.as_str()).or_default().push(i);
    }
    let mut out = vec![Vec::new(); names.len()];
    for row in &rows {
        // Only what precedence needs: no description or metadata to decode per candidate.
        let name = row.str(3)?;
        let Some(queries) = asked.get(name) else {
            continue;
        };
        let kind = ScopeKind::parse(row.str(1)?)?;
        let candidate = Candidate {
            secret_id: row.i64(0)?,
            key: SecretKey {
                workspace: ctx.workspace.clone(),
                scope: Scope::from_parts(kind, Some(row.str(2)?))?,
                name: SecretName::new(name)?,
                environment: Environment::new(Some(row.str(4)?)),
            },
            version: row.i64(5)?,
            expires_at: row.opt_i64(6)?.map(Timestamp),
        };
        for &i in queries {
            if names[i].scope.is_none_or(|scope| scope == kind) {
                out[i].push(candidate.clone());
            }
        }
    }
    for slot in &mut out {
        slot.sort_by_key(Candidate::default_rank);
    }
    Ok(out)
}

pub(crate) async fn reveal_batch(
    tx: &mut impl Tx,
    keys: &Keys,
    ctx: &RunContext,
    step: Option<&str>,
    picks: &[Candidate],
) -> Result<Vec<SecretString>> {
    if picks.is_empty() {
        return Ok(Vec::new());
    }
    // The picks as a table joined to the versions: a chain of `(id = ? AND version = ?) OR ...`
    // costs SQLite quadratic planning time and is planned again whenever the values change.
    let picked = vec!["(CAST(? AS BIGINT), CAST(? AS BIGINT))"; picks.len()].join(", ");
    let sql = format!(
        "WITH picked (secret_id, version) AS (VALUES {picked}) \
         SELECT v.secret_id, v.version, v.wrapped_key, v.ciphertext, s.deleted_at, s.expires_at \
         FROM picked p JOIN versions v ON v.secret_id = p.secret_id AND v.version = p.version \
         JOIN secrets s ON s.id = v.secret_id WHERE s.workspace = ?"
    );
    let mut params: Vec<Val> = Vec::with_capacity(picks.len() * 2 + 1);
    for pick in picks {
        params.push(pick.secret_id.into());
        params.push(pick.version.into());
    }
    params.push(ctx.workspace.as_str().into());
    let rows = tx.query(&sql, &params).await?;
    let now = Timestamp::now();
    let access = Access {
        pipeline: ctx.pipeline.clone(),
        run: ctx.run.clone(),
        step: step.map(str::to_owned),
    };
    let mut by_version = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        by_version.insert((row.i64(0)?, row.i64(1)?), row);
    }
    let mut values = Vec::with_capacity(picks.len());
    for pick in picks {
        let row = by_version
            .get(&(pick.secret_id, pick.version))
            .filter(|r| r.opt_i64(4).ok().flatten().is_none())
            .ok_or_else(|| {
                Error::from(ErrorKind::NotFound {
                    what: format!("version {} of {}", pick.version, pick.key),
                })
            })?;
        if row.opt_i64(5)?.is_some_and(|at| at <= now.0) {
            return Err(ErrorKind::Expired {
                what: pick.key.to_string(),
            }
            .into());
        }
        values.push(decrypt_row(
            keys,
            pick.secret_id,
            &pick.key,
            pick.version,
            row.bytes(2)?,
            row.bytes(3)?,
        )?);
    }
    let records: Vec<NewAudit<'_>> = picks
        .iter()
        .map(|p| {
            NewAudit::new(&ctx.actor, "access")
                .key(&p.key, Some(p.version))
                .access(&access)
        })
        .collect();
    append_audit(tx, &records).await?;
    Ok(values)
}

// ---------------------------------------------------------------------------------------------
// Handles

#[derive(serde::Serialize, serde::Deserialize)]
struct HandlePayload {
    /// Workspace.
    w: String,
    /// Secret id.
    s: i64,
    /// Expiry, microseconds since the epoch.
    e: i64,
    /// Random id, so two handles never look alike.
    j: String,
}

const HANDLE_PREFIX: &str = "$secret:v1.";

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64url(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

pub(crate) async fn issue_handle(
    tx: &mut impl Tx,
    keys: &Keys,
    actor: &Actor,
    key: &SecretKey,
    ttl: Duration,
) -> Result<(String, Timestamp)> {
    let meta = find_live(tx, key).await?;
    let expires = Timestamp::now().plus(ttl);
    let mut nonce = [0u8; 12];
    rand::fill(&mut nonce[..]);
    let payload = HandlePayload {
        w: key.workspace.clone(),
        s: meta.id,
        e: expires.0,
        j: b64url(&nonce),
    };
    let payload = b64url(&serde_json::to_vec(&payload).expect("payload serializes"));
    let signed = format!("v1.{payload}");
    let mac = b64url(&crypto::mac(&keys.handle_key, signed.as_bytes()));
    append_audit(
        tx,
        &[NewAudit::new(actor, "handle.issue")
            .key(key, Some(meta.version))
            .detail(format!("expires {expires}"))],
    )
    .await?;
    Ok((format!("{HANDLE_PREFIX}{payload}.{mac}"), expires))
}

/// Checks a handle without touching the database: signature, then workspace, then lifetime.
pub(crate) fn check_handle(keys: &Keys, workspace: &str, handle: &str) -> Result<i64> {
    let body = handle
        .strip_prefix(HANDLE_PREFIX)
        .ok_or(ErrorKind::HandleMalformed)?;
    let (payload, mac) = body.split_once('.').ok_or(ErrorKind::HandleMalformed)?;
    let mac = unb64url(mac).ok_or(ErrorKind::HandleMalformed)?;
    if !crypto::mac_verify(&keys.handle_key, format!("v1.{payload}").as_bytes(), &mac) {
        return Err(ErrorKind::HandleBadMac.into());
    }
    let payload: HandlePayload = unb64url(payload)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(ErrorKind::HandleMalformed)?;
    if payload.w != workspace {
        return Err(ErrorKind::HandleOtherWorkspace.into());
    }
    if payload.e <= Timestamp::now().0 {
        return Err(ErrorKind::HandleExpired.into());
    }
    Ok(payload.s)
}

pub(crate) async fn redeem_handle(
    tx: &mut impl Tx,
    keys: &Keys,
    actor: &Actor,
    secret_id: i64,
    access: &Access,
) -> Result<(SecretMeta, SecretString)> {
    let rows = tx
        .query(
            &format!("SELECT {SECRET_COLS} FROM secrets WHERE id = ? AND deleted_at IS NULL"),
            &[secret_id.into()],
        )
        .await?;
    let meta = rows
        .first()
        .map(meta_from_row)
        .transpose()?
        .ok_or_else(|| {
            Error::from(ErrorKind::NotFound {
                what: "the secret of this handle".into(),
            })
        })?;
    let value = load_value(tx, keys, &meta, meta.version).await?;
    append_audit(
        tx,
        &[NewAudit::new(actor, "handle.redeem")
            .key(&meta.key, Some(meta.version))
            .access(access)],
    )
    .await?;
    Ok((meta, value))
}

// ---------------------------------------------------------------------------------------------
// Key rotation

pub(crate) async fn rotate_master_key(
    tx: &mut impl Tx,
    keys: &Keys,
    actor: &Actor,
    new_key: &MasterKey,
    kdf: Option<&crypto::KdfParams>,
    progress: crate::Progress<'_>,
) -> Result<usize> {
    let sql = format!(
        "SELECT v.secret_id, v.version, v.wrapped_key, v.ciphertext, {} \
         FROM versions v JOIN secrets s ON s.id = v.secret_id ORDER BY v.secret_id, v.version",
        SECRET_COLS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows = tx.query(&sql, &[]).await?;
    let total = rows.len();
    for (i, row) in rows.iter().enumerate() {
        let secret_id = row.i64(0)?;
        let version = row.i64(1)?;
        let meta = meta_from_row(&Row(row.0[4..].to_vec()))?;
        let aad = binding(&keys.store_id, secret_id, &meta.key, version);
        let what = || format!("version {version} of {}", meta.key);
        let data_key = keys.master.open(&row.blob(2)?, &aad, &what)?;
        let rewrapped = new_key.seal(&data_key, &aad);
        tx.exec(
            "UPDATE versions SET wrapped_key = ?, key_id = ? WHERE secret_id = ? AND version = ?",
            &[
                rewrapped.into(),
                new_key.id().into(),
                secret_id.into(),
                version.into(),
            ],
        )
        .await?;
        progress(i + 1, total);
    }
    write_key_material(tx, new_key, &keys.store_id, &keys.handle_key, kdf).await?;
    // Verify before commit: every value must decrypt under the new key alone.
    let new_keys = Keys {
        master: new_key.clone(),
        store_id: keys.store_id.clone(),
        handle_key: keys.handle_key.clone(),
    };
    let rows = tx.query(&sql, &[]).await?;
    for row in &rows {
        let meta = meta_from_row(&Row(row.0[4..].to_vec()))?;
        decrypt_row(
            &new_keys,
            row.i64(0)?,
            &meta.key,
            row.i64(1)?,
            &row.blob(2)?,
            &row.blob(3)?,
        )?;
    }
    append_audit(
        tx,
        &[NewAudit::new(actor, "key.rotate").detail(format!(
            "key {} replaced by key {}; {total} data keys re-wrapped",
            keys.master.id(),
            new_key.id()
        ))],
    )
    .await?;
    Ok(total)
}

// ---------------------------------------------------------------------------------------------
// Import

pub(crate) async fn import(
    tx: &mut impl Tx,
    keys: &Keys,
    actor: &Actor,
    template: &SecretKey,
    entries: &[(SecretName, SecretString)],
    progress: crate::Progress<'_>,
) -> Result<usize> {
    let options = SetOptions {
        reason: Some("import".into()),
        ..SetOptions::default()
    };
    for (i, (name, value)) in entries.iter().enumerate() {
        let mut key = template.clone();
        key.name = name.clone();
        write_value(
            tx,
            keys,
            actor,
            &key,
            Write {
                how: How::Import,
                value,
                options: &options,
            },
        )
        .await?;
        progress(i + 1, entries.len());
    }
    Ok(entries.len())
}

// ---------------------------------------------------------------------------------------------
// Backup and restore

/// (table, columns with kinds: i integer, t text, b bytes, key column for ordering).
/// A table of the backup: name, columns with their kinds, ordering.
pub(crate) type Table = (&'static str, &'static [(&'static str, char)], &'static str);

pub(crate) const TABLES: &[Table] = &[
    ("sigil_meta", &[("k", 't'), ("v", 't')], "k"),
    (
        "secrets",
        &[
            ("id", 'i'),
            ("workspace", 't'),
            ("scope", 't'),
            ("owner", 't'),
            ("name", 't'),
            ("environment", 't'),
            ("description", 't'),
            ("metadata", 't'),
            ("created_by", 't'),
            ("created_at", 'i'),
            ("updated_by", 't'),
            ("updated_at", 'i'),
            ("rotation_days", 'i'),
            ("expires_at", 'i'),
            ("current_version", 'i'),
            ("deleted_at", 'i'),
        ],
        "id",
    ),
    (
        "versions",
        &[
            ("secret_id", 'i'),
            ("version", 'i'),
            ("created_by", 't'),
            ("created_at", 'i'),
            ("reason", 't'),
            ("how", 't'),
            ("key_id", 't'),
            ("wrapped_key", 'b'),
            ("ciphertext", 'b'),
        ],
        "secret_id, version",
    ),
    (
        "audit",
        &[
            ("seq", 'i'),
            ("at", 'i'),
            ("actor", 't'),
            ("action", 't'),
            ("workspace", 't'),
            ("scope", 't'),
            ("name", 't'),
            ("environment", 't'),
            ("version", 'i'),
            ("pipeline", 't'),
            ("run", 't'),
            ("step", 't'),
            ("source", 't'),
            ("outcome", 't'),
            ("detail", 't'),
            ("prev_hash", 'b'),
            ("hash", 'b'),
        ],
        "seq",
    ),
];

pub(crate) type Dump = Vec<(String, Vec<Vec<Cell>>)>;

pub(crate) async fn dump(tx: &mut impl Tx) -> Result<Dump> {
    let mut out = Vec::new();
    for (table, columns, order) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        let rows = tx
            .query(
                &format!("SELECT {} FROM {table} ORDER BY {order}", names.join(", ")),
                &[],
            )
            .await?;
        out.push(((*table).to_owned(), rows.into_iter().map(|r| r.0).collect()));
    }
    Ok(out)
}

pub(crate) async fn is_empty(tx: &mut impl Tx) -> Result<bool> {
    let meta = tx
        .query("SELECT k FROM sigil_meta WHERE k <> 'schema_version'", &[])
        .await?;
    let secrets = tx.query("SELECT id FROM secrets LIMIT 1", &[]).await?;
    let audit = tx.query("SELECT seq FROM audit LIMIT 1", &[]).await?;
    Ok(meta.is_empty() && secrets.is_empty() && audit.is_empty())
}

pub(crate) async fn load(tx: &mut impl Tx, dump: &Dump) -> Result<()> {
    for (table, rows) in dump {
        let Some((_, columns, _)) = TABLES.iter().find(|(t, _, _)| t == table) else {
            return Err(Error::invalid(format!(
                "backup holds an unknown table `{table}`"
            )));
        };
        let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        let sql = if *table == "sigil_meta" {
            "INSERT INTO sigil_meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v"
                .to_owned()
        } else {
            format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(", "),
                vec!["?"; names.len()].join(", ")
            )
        };
        for row in rows {
            if row.len() != columns.len() {
                return Err(Error::invalid(format!(
                    "backup row of `{table}` has the wrong width"
                )));
            }
            let params: Vec<Val> = row
                .iter()
                .zip(columns.iter())
                .map(|(cell, (_, kind))| cell.to_val(*kind))
                .collect();
            tx.exec(&sql, &params).await?;
        }
    }
    if tx.dialect() == Dialect::Postgres {
        tx.batch(
            "SELECT setval(pg_get_serial_sequence('secrets', 'id'), \
             GREATEST((SELECT COALESCE(MAX(id), 0) FROM secrets), 1))",
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(optional: bool) -> AuditRecord {
        let some = |text: &str| optional.then(|| text.to_owned());
        AuditRecord {
            seq: 42,
            at: Timestamp(1_764_000_000_123_456),
            actor: "alice \"the admin\"".into(),
            action: "access".into(),
            workspace: some("default"),
            scope: some("pipeline:deploy"),
            name: some("db_password"),
            environment: some("production"),
            version: optional.then_some(7),
            pipeline: some("deploy"),
            run: some("run-1"),
            step: some("/steps/0/run"),
            source: some("10.0.0.1"),
            outcome: "ok".into(),
            detail: some("line\nbreak, tab\t, é, \u{1}"),
        }
    }

    /// The hashed bytes are a stored format: every existing chain depends on them. They must
    /// stay exactly what the first version produced (a `serde_json::json!` array).
    #[test]
    fn canonical_audit_form_is_stable() {
        let prev: Vec<u8> = (0..32).collect();
        for optional in [true, false] {
            let r = record(optional);
            let expected = serde_json::to_vec(&serde_json::json!([
                "sigil-audit-v1",
                r.seq,
                r.at.0,
                r.actor,
                r.action,
                r.workspace,
                r.scope,
                r.name,
                r.environment,
                r.version,
                r.pipeline,
                r.run,
                r.step,
                r.source,
                r.outcome,
                r.detail,
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            ]))
            .unwrap();
            assert_eq!(
                String::from_utf8(canonical(&r, &prev)).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }

    /// The associated data of every ciphertext: a stored format too.
    #[test]
    fn binding_form_is_stable() {
        let key = SecretKey::new("default", SecretName::new("api_token").unwrap())
            .scope(Scope::Pipeline("deploy".into()))
            .environment(Environment::new(Some("production")));
        let expected = serde_json::to_vec(&serde_json::json!([
            "sigil/v1",
            "store-1",
            9,
            key.workspace,
            key.scope.kind().as_str(),
            key.scope.owner(),
            key.name.as_str(),
            key.environment.as_stored(),
            3,
        ]))
        .unwrap();
        let bytes = binding("store-1", 9, &key, 3);
        assert_eq!(bytes, expected);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"["sigil/v1","store-1",9,"default","pipeline","deploy","api_token","production",3]"#
        );
    }
}
