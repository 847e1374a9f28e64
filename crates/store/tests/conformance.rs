//! One conformance suite, run against SQLite and PostgreSQL.
//!
//! PostgreSQL tests read `SIGIL_TEST_POSTGRES_URL`; each test works in its own schema, dropped
//! afterwards. Without the variable they say they are skipped, except under `CI`, where they fail.

use std::future::Future;

use secrecy::{ExposeSecret, SecretString};
use sigil_store::testing::TestSchema;
use sigil_store::{
    Access, Actor, AuditQuery, Candidate, Environment, ErrorKind, KeySource, ListFilter, MasterKey,
    NameQuery, ReadAuditSync, RunContext, Scope, ScopeKind, SecretKey, SecretName, SetOptions,
    Store, StoreLocation,
};

/// Where a test's store lives, and how to tamper with it directly.
struct Site {
    location: StoreLocation,
    sqlite: Option<std::path::PathBuf>,
    pg: Option<TestSchema>,
    _dir: Option<tempfile::TempDir>,
}

impl Site {
    /// Runs one SQL statement directly against the store's database (for tamper tests).
    async fn raw(&self, sql: &str) {
        if let Some(path) = &self.sqlite {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.execute_batch(sql).unwrap();
        } else if let Some(schema) = &self.pg {
            schema.client().await.batch_execute(sql).await.unwrap();
        }
    }
}

impl Site {
    /// Flips one bit of `column` of secret 1, version 2; returns the column's length.
    async fn flip(&self, column: &str, offset: usize) -> usize {
        let select = format!("SELECT {column} FROM versions WHERE secret_id = 1 AND version = 2");
        let select = select.as_str();
        if let Some(path) = &self.sqlite {
            let conn = rusqlite::Connection::open(path).unwrap();
            let mut bytes: Vec<u8> = conn.query_row(select, [], |r| r.get(0)).unwrap();
            bytes[offset] ^= 1;
            conn.execute(
                &format!("UPDATE versions SET {column} = ?1 WHERE secret_id = 1 AND version = 2"),
                [&bytes],
            )
            .unwrap();
            bytes.len()
        } else if let Some(schema) = &self.pg {
            let client = schema.client().await;
            let mut bytes: Vec<u8> = client.query_one(select, &[]).await.unwrap().get(0);
            bytes[offset] ^= 1;
            client
                .execute(
                    &format!(
                        "UPDATE versions SET {column} = $1 WHERE secret_id = 1 AND version = 2"
                    ),
                    &[&bytes],
                )
                .await
                .unwrap();
            bytes.len()
        } else {
            unreachable!("a site is SQLite or PostgreSQL")
        }
    }
}

async fn with_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Site) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    test(Site {
        location: StoreLocation::Sqlite(path.clone()),
        sqlite: Some(path),
        pg: None,
        _dir: Some(dir),
    })
    .await;
}

async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(Site) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(url) = sigil_store::test_postgres_url() else {
        return;
    };
    let schema = TestSchema::new(&url);
    test(Site {
        location: schema.location.clone(),
        sqlite: None,
        pg: Some(schema.clone()),
        _dir: None,
    })
    .await;
    schema.drop_schema().await;
}

/// Declares each conformance test once, for both backends.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::with_sqlite(super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::with_postgres(super::$name).await;
                }
            )*
        }
    };
}

conformance!(
    set_get_reveal_history,
    conflict_and_create_only,
    rollback_delete_purge,
    list_filters,
    batched_lookup_precedence,
    handles,
    crypto_oracles,
    key_rotation,
    audit_tamper_edit,
    audit_tamper_delete,
    audit_tamper_reorder,
    audit_tamper_insert,
    concurrent_writers,
    concurrent_if_version,
    backup_restore,
    wrong_key,
    read_audit_sync_modes,
);

const W: &str = "default";

fn actor() -> Actor {
    Actor::new("tester")
}

fn name(text: &str) -> SecretName {
    SecretName::new(text).unwrap()
}

fn key(text: &str) -> SecretKey {
    SecretKey::new(W, name(text))
}

fn val(text: &str) -> SecretString {
    SecretString::from(text)
}

async fn create(site: &Site) -> (Store, MasterKey) {
    let master = MasterKey::generate();
    let store = Store::create(&site.location, KeySource::Key(master.clone()), &actor())
        .await
        .unwrap();
    (store, master)
}

async fn reveal(store: &Store, key: &SecretKey) -> String {
    let (_, value) = store
        .reveal(&actor(), key, &Access::default(), None)
        .await
        .unwrap();
    value.expose_secret().to_owned()
}

async fn set_get_reveal_history(site: Site) {
    let (store, _) = create(&site).await;
    let k = key("api_token");
    let options = SetOptions {
        description: Some("the api token".into()),
        metadata: Some(serde_json::json!({"provider": "acme"})),
        rotation_days: Some(30),
        ..SetOptions::default()
    };
    let (meta, v1) = store
        .set(&actor(), &k, &val("one"), &options)
        .await
        .unwrap();
    assert_eq!((meta.version, v1.version), (1, 1));
    assert_eq!(meta.description, "the api token");
    store
        .rotate(&actor(), &k, &val("two"), "quarterly", None)
        .await
        .unwrap();
    let meta = store.get(&k).await.unwrap();
    assert_eq!(meta.version, 2);
    assert_eq!(meta.metadata["provider"], "acme");
    assert_eq!(reveal(&store, &k).await, "two");
    let history = store.history(&k).await.unwrap();
    let summary: Vec<_> = history
        .iter()
        .map(|v| (v.version, v.how, v.reason.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, sigil_store::How::Set, ""),
            (2, sigil_store::How::Rotate, "quarterly")
        ]
    );
    let access = store
        .audit(&AuditQuery {
            action: Some("access".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(access.len(), 1);
    assert_eq!(access[0].version, Some(2));
    // Rotating a secret that does not exist is not found.
    let err = store
        .rotate(&actor(), &key("nope"), &val("x"), "r", None)
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotFound { .. }), "{err}");
}

async fn conflict_and_create_only(site: Site) {
    let (store, _) = create(&site).await;
    let k = key("db_password");
    let create_only = SetOptions {
        if_version: Some(0),
        ..SetOptions::default()
    };
    store
        .set(&actor(), &k, &val("a"), &create_only)
        .await
        .unwrap();
    let err = store
        .set(&actor(), &k, &val("b"), &create_only)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Conflict {
                current_version: 1,
                ..
            }
        ),
        "{err}"
    );
    store
        .rotate(&actor(), &k, &val("b"), "r", Some(1))
        .await
        .unwrap();
    let err = store
        .rotate(&actor(), &k, &val("c"), "r", Some(1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("version 2"), "{err}");
    assert_eq!(reveal(&store, &k).await, "b");
}

async fn rollback_delete_purge(site: Site) {
    let (store, _) = create(&site).await;
    let k = key("token");
    for v in ["v1", "v2", "v3"] {
        store
            .set(&actor(), &k, &val(v), &SetOptions::default())
            .await
            .unwrap();
    }
    let (_, info) = store.rollback(&actor(), &k, 1, "bad deploy").await.unwrap();
    assert_eq!(info.version, 4);
    assert_eq!(reveal(&store, &k).await, "v1");
    store.delete(&actor(), &k).await.unwrap();
    assert!(matches!(
        store.get(&k).await.unwrap_err().kind(),
        ErrorKind::NotFound { .. }
    ));
    assert_eq!(store.history(&k).await.unwrap().len(), 4);
    store.purge(&actor(), &k).await.unwrap();
    assert!(matches!(
        store.history(&k).await.unwrap_err().kind(),
        ErrorKind::NotFound { .. }
    ));
    let actions: Vec<String> = store
        .audit(&AuditQuery {
            name: Some("token".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(
        actions,
        ["set", "set", "set", "rollback", "access", "delete", "purge"]
    );
    assert!(store.verify_audit().await.unwrap().first_bad.is_none());
}

async fn list_filters(site: Site) {
    let (store, _) = create(&site).await;
    let prod = key("a").environment(Environment::Named("production".into()));
    store
        .set(&actor(), &prod, &val("x"), &SetOptions::default())
        .await
        .unwrap();
    let piped = key("b").scope(Scope::Pipeline("deploy".into()));
    store
        .set(&actor(), &piped, &val("x"), &SetOptions::default())
        .await
        .unwrap();
    let expiring = SetOptions {
        ttl: Some(std::time::Duration::from_micros(1)),
        ..SetOptions::default()
    };
    store
        .set(&actor(), &key("c"), &val("x"), &expiring)
        .await
        .unwrap();
    let names = |list: Vec<sigil_store::SecretMeta>| -> Vec<String> {
        list.into_iter().map(|m| m.key.name.to_string()).collect()
    };
    let check = |filter: ListFilter| {
        let store = &store;
        async move { names(store.list(W, &filter).await.unwrap()) }
    };
    assert_eq!(check(ListFilter::default()).await, ["a", "b", "c"]);
    assert_eq!(
        check(ListFilter {
            scope: Some(ScopeKind::Pipeline),
            ..ListFilter::default()
        })
        .await,
        ["b"]
    );
    assert_eq!(
        check(ListFilter {
            environment: Some(Environment::Named("production".into())),
            ..ListFilter::default()
        })
        .await,
        ["a"]
    );
    assert_eq!(
        check(ListFilter {
            expired: true,
            ..ListFilter::default()
        })
        .await,
        ["c"]
    );
    let err = store
        .reveal(&actor(), &key("c"), &Access::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Expired { .. }), "{err}");
}

async fn batched_lookup_precedence(site: Site) {
    let (store, _) = create(&site).await;
    let n = name("api_key");
    let rows = [
        (Scope::Workspace, Environment::All, "ws-all"),
        (
            Scope::Workspace,
            Environment::Named("production".into()),
            "ws-prod",
        ),
        (
            Scope::Pipeline("deploy".into()),
            Environment::All,
            "pipe-all",
        ),
        (
            Scope::Personal("alice".into()),
            Environment::All,
            "alice-all",
        ),
        (
            Scope::Pipeline("other".into()),
            Environment::All,
            "other-pipe",
        ),
    ];
    for (scope, env, value) in &rows {
        let k = SecretKey::new(W, n.clone())
            .scope(scope.clone())
            .environment(env.clone());
        store
            .set(&actor(), &k, &val(value), &SetOptions::default())
            .await
            .unwrap();
    }
    let ctx = RunContext {
        workspace: W.into(),
        pipeline: Some("deploy".into()),
        user: Some("alice".into()),
        environment: Some("production".into()),
        run: Some("run-1".into()),
        actor: actor(),
    };
    let queries = [
        NameQuery {
            name: n.clone(),
            scope: None,
        },
        NameQuery {
            name: n.clone(),
            scope: Some(ScopeKind::Workspace),
        },
        NameQuery {
            name: n.clone(),
            scope: Some(ScopeKind::Personal),
        },
        NameQuery {
            name: name("missing"),
            scope: None,
        },
    ];
    let found = store.candidates(&ctx, &queries).await.unwrap();
    assert_eq!(
        found[0].len(),
        4,
        "the other pipeline's row is not a candidate"
    );
    assert!(found[3].is_empty());
    let picks: Vec<Candidate> = found[..3]
        .iter()
        .map(|c| Candidate::pick(c).unwrap().clone())
        .collect();
    let values = store
        .reveal_batch(&ctx, Some("/steps/0/run"), &picks)
        .await
        .unwrap();
    let values: Vec<&str> = values.iter().map(|v| v.expose_secret()).collect();
    assert_eq!(values, ["pipe-all", "ws-prod", "alice-all"]);
    let access = store
        .audit(&AuditQuery {
            action: Some("access".into()),
            run: Some("run-1".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(access.len(), 3);
    // One record per value, in order: each names its own secret (scopes and environments
    // differ here) and shares the step's pipeline, run and step.
    for (record, pick) in access.iter().zip(&picks) {
        assert_eq!(record.name.as_deref(), Some(pick.key.name.as_str()));
        assert_eq!(record.scope, Some(pick.key.scope.to_string()));
        assert_eq!(record.environment, Some(pick.key.environment.to_string()));
        assert_eq!(record.version, Some(pick.version));
        assert_eq!(record.step.as_deref(), Some("/steps/0/run"));
        assert_eq!(record.pipeline.as_deref(), Some("deploy"));
        assert_eq!(record.run.as_deref(), Some("run-1"));
        assert_eq!(record.detail, None);
    }
    assert!(store.verify_audit().await.unwrap().first_bad.is_none());
}

async fn handles(site: Site) {
    let (store, _) = create(&site).await;
    let k = key("webhook_secret");
    store
        .set(&actor(), &k, &val("hook-value"), &SetOptions::default())
        .await
        .unwrap();
    let (handle, _) = store.issue_handle(&actor(), &k, None).await.unwrap();
    assert!(handle.starts_with("$secret:v1."));
    assert!(!handle.contains("hook-value"));
    let (_, value) = store
        .redeem_handle(&actor(), W, &handle, &Access::default())
        .await
        .unwrap();
    assert_eq!(value.expose_secret(), "hook-value");
    let kind = |handle: String, workspace: &'static str| {
        let store = &store;
        async move {
            store
                .redeem_handle(&actor(), workspace, &handle, &Access::default())
                .await
                .unwrap_err()
                .kind()
                .to_string()
        }
    };
    assert_eq!(
        kind(handle.clone(), "other").await,
        "handle refused: issued for another workspace"
    );
    // Change the first character of the MAC: every bit of it is significant, so
    // the result is still well-formed base64url. (The last character carries
    // padding bits, and a change there can make the handle malformed instead.)
    let mac_start = handle.rfind('.').unwrap() + 1;
    let first = &handle[mac_start..mac_start + 1];
    let replacement = if first == "A" { "B" } else { "A" };
    let tampered = format!(
        "{}{replacement}{}",
        &handle[..mac_start],
        &handle[mac_start + 1..]
    );
    assert_eq!(kind(tampered, W).await, "handle refused: bad signature");
    let (short, _) = store
        .issue_handle(&actor(), &k, Some(std::time::Duration::from_micros(1)))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(kind(short, W).await, "handle refused: expired");
    assert_eq!(
        kind("$secret:nonsense".into(), W).await,
        "handle refused: malformed (expected $secret:v1.<payload>.<mac>)"
    );
    assert!(store.verify_audit().await.unwrap().first_bad.is_none());
}

async fn crypto_oracles(site: Site) {
    let (store, _) = create(&site).await;
    let plaintext = "CANARY-plaintext-0123456789";
    let a = key("a");
    let b = key("b");
    store
        .set(&actor(), &a, &val(plaintext), &SetOptions::default())
        .await
        .unwrap();
    store
        .set(&actor(), &a, &val(plaintext), &SetOptions::default())
        .await
        .unwrap();
    store
        .set(&actor(), &b, &val("other"), &SetOptions::default())
        .await
        .unwrap();
    store
        .set(
            &actor(),
            &a.clone().environment(Environment::Named("prod".into())),
            &val("p"),
            &SetOptions::default(),
        )
        .await
        .unwrap();
    // Same value twice: different ciphertexts.
    if let Some(path) = &site.sqlite {
        let conn = rusqlite::Connection::open(path).unwrap();
        let cts: Vec<Vec<u8>> = conn
            .prepare("SELECT ciphertext FROM versions WHERE secret_id = 1 ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_ne!(cts[0], cts[1]);
        drop(conn);
        // Stored bytes never contain the plaintext (main file and WAL).
        for file in ["store.db", "store.db-wal"] {
            let bytes = std::fs::read(path.with_file_name(file)).unwrap_or_default();
            assert!(
                !bytes
                    .windows(plaintext.len())
                    .any(|w| w == plaintext.as_bytes()),
                "{file} holds the plaintext"
            );
        }
    }
    // Flipping any byte of the stored ciphertext or wrapped data key fails the read.
    for column in ["ciphertext", "wrapped_key"] {
        let len = site.flip(column, 0).await;
        site.flip(column, 0).await;
        for offset in 0..len {
            site.flip(column, offset).await;
            let err = store
                .reveal(&actor(), &a, &Access::default(), None)
                .await
                .unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::DecryptionFailed { .. }),
                "{err}"
            );
            assert!(!err.to_string().contains(plaintext));
            site.flip(column, offset).await;
        }
    }
    assert_eq!(reveal(&store, &a).await, plaintext);
    // A ciphertext copied to another secret, another version or another environment fails.
    for (target, version) in [(2, 1), (1, 1), (3, 1)] {
        site.raw(&format!(
            "UPDATE versions SET ciphertext = (SELECT ciphertext FROM versions WHERE secret_id = 1 AND version = 2), \
             wrapped_key = (SELECT wrapped_key FROM versions WHERE secret_id = 1 AND version = 2) \
             WHERE secret_id = {target} AND version = {version}"
        ))
        .await;
    }
    for k in [
        b.clone(),
        a.clone().environment(Environment::Named("prod".into())),
    ] {
        let err = store
            .reveal(&actor(), &k, &Access::default(), None)
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::DecryptionFailed { .. }),
            "{err}"
        );
    }
    let err = store
        .reveal(&actor(), &a, &Access::default(), Some(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::DecryptionFailed { .. }),
        "{err}"
    );
}

async fn key_rotation(site: Site) {
    let (store, _old) = create(&site).await;
    store
        .set(&actor(), &key("x"), &val("before"), &SetOptions::default())
        .await
        .unwrap();
    let (handle, _) = store.issue_handle(&actor(), &key("x"), None).await.unwrap();
    let new = MasterKey::generate();
    let count = store
        .rotate_master_key(&actor(), KeySource::Key(new.clone()), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(count, 1);
    drop(store);
    // Only the new key is needed afterwards.
    let store = Store::open(&site.location, KeySource::Key(new))
        .await
        .unwrap();
    assert_eq!(reveal(&store, &key("x")).await, "before");
    store
        .redeem_handle(&actor(), W, &handle, &Access::default())
        .await
        .unwrap();
    let err = Store::open(&site.location, KeySource::Key(_old))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::WrongKey { .. }), "{err}");
    assert!(store.verify_audit().await.unwrap().first_bad.is_none());
}

async fn tampered(site: &Site, sql: &str) -> Option<i64> {
    let (store, _) = create(site).await;
    for i in 0..5 {
        store
            .set(
                &actor(),
                &key("t"),
                &val(&format!("v{i}")),
                &SetOptions::default(),
            )
            .await
            .unwrap();
    }
    assert!(store.verify_audit().await.unwrap().first_bad.is_none());
    site.raw(sql).await;
    store.verify_audit().await.unwrap().first_bad.map(|d| d.seq)
}

async fn audit_tamper_edit(site: Site) {
    assert_eq!(
        tampered(&site, "UPDATE audit SET actor = 'mallory' WHERE seq = 3").await,
        Some(3)
    );
}

async fn audit_tamper_delete(site: Site) {
    assert_eq!(
        tampered(&site, "DELETE FROM audit WHERE seq = 4").await,
        Some(4)
    );
}

async fn audit_tamper_reorder(site: Site) {
    assert_eq!(
        tampered(
            &site,
            "UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; \
             UPDATE audit SET seq = 3 WHERE seq = 100"
        )
        .await,
        Some(2)
    );
}

async fn audit_tamper_insert(site: Site) {
    assert_eq!(
        tampered(
            &site,
            "UPDATE audit SET seq = seq + 1000 WHERE seq >= 5; \
             UPDATE audit SET seq = seq - 999 WHERE seq >= 1000; \
             INSERT INTO audit (seq, at, actor, action, outcome, prev_hash, hash) \
             SELECT 5, at, actor, action, outcome, prev_hash, hash FROM audit WHERE seq = 4"
        )
        .await,
        Some(5)
    );
}

async fn concurrent_writers(site: Site) {
    let (store, master) = create(&site).await;
    store
        .set(&actor(), &key("hot"), &val("0"), &SetOptions::default())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let location = site.location.clone();
        let master = master.clone();
        tasks.push(tokio::spawn(async move {
            let store = Store::open(&location, KeySource::Key(master))
                .await
                .unwrap();
            for i in 0..5 {
                store
                    .rotate(
                        &actor(),
                        &key("hot"),
                        &val(&format!("{w}-{i}")),
                        "load",
                        None,
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let versions: Vec<i64> = store
        .history(&key("hot"))
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, (1..=41).collect::<Vec<_>>());
    assert!(store.verify_audit().await.unwrap().first_bad.is_none());
}

async fn concurrent_if_version(site: Site) {
    let (store, master) = create(&site).await;
    store
        .set(&actor(), &key("cas"), &val("0"), &SetOptions::default())
        .await
        .unwrap();
    for round in 1..=3 {
        let mut tasks = Vec::new();
        for w in 0..8 {
            let location = site.location.clone();
            let master = master.clone();
            tasks.push(tokio::spawn(async move {
                let store = Store::open(&location, KeySource::Key(master))
                    .await
                    .unwrap();
                store
                    .rotate(
                        &actor(),
                        &key("cas"),
                        &val(&format!("{w}")),
                        "cas",
                        Some(round),
                    )
                    .await
                    .map_err(|e| e.kind().to_string())
            }));
        }
        let mut wins = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => wins += 1,
                Err(message) => assert!(message.starts_with("conflict"), "{message}"),
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
    assert_eq!(store.get(&key("cas")).await.unwrap().version, 4);
}

async fn backup_restore(site: Site) {
    let (store, master) = create(&site).await;
    store
        .set(
            &actor(),
            &key("keep"),
            &val("kept value"),
            &SetOptions::default(),
        )
        .await
        .unwrap();
    let backup = store.backup(&actor()).await.unwrap();
    assert!(!String::from_utf8_lossy(&backup).contains("kept value"));
    // Into the same (non-empty) store: refused.
    let err = Store::restore(
        &site.location,
        KeySource::Key(master.clone()),
        &actor(),
        &backup,
    )
    .await
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotEmpty), "{err}");
    // Into an empty SQLite file.
    let dir = tempfile::tempdir().unwrap();
    let target = StoreLocation::Sqlite(dir.path().join("restored.db"));
    let restored = Store::restore(&target, KeySource::Key(master.clone()), &actor(), &backup)
        .await
        .unwrap();
    assert_eq!(reveal(&restored, &key("keep")).await, "kept value");
    assert!(restored.verify_audit().await.unwrap().first_bad.is_none());
    // And back into an empty store of this backend, which keeps working afterwards (on
    // PostgreSQL the id sequence must continue after the restored ids).
    let backup = restored.backup(&actor()).await.unwrap();
    let (location, cleanup) = match &site.pg {
        Some(schema) => {
            let restored_into = TestSchema::named(&schema.url, &format!("{}_r", schema.name));
            (restored_into.location.clone(), Some(restored_into))
        }
        None => (StoreLocation::Sqlite(dir.path().join("again.db")), None),
    };
    let again = Store::restore(&location, KeySource::Key(master), &actor(), &backup)
        .await
        .unwrap();
    again
        .set(&actor(), &key("new"), &val("n"), &SetOptions::default())
        .await
        .unwrap();
    assert_eq!(reveal(&again, &key("keep")).await, "kept value");
    assert_eq!(reveal(&again, &key("new")).await, "n");
    assert!(again.verify_audit().await.unwrap().first_bad.is_none());
    drop(again);
    if let Some(schema) = cleanup {
        schema.drop_schema().await;
    }
}

async fn wrong_key(site: Site) {
    let (store, _) = create(&site).await;
    drop(store);
    let err = Store::open(&site.location, KeySource::Key(MasterKey::generate()))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::WrongKey { .. }), "{err}");
    let err = Store::create(
        &site.location,
        KeySource::Key(MasterKey::generate()),
        &actor(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::StoreExists { .. }), "{err}");
}

/// Under either [`ReadAuditSync`], every value read (single, batched, handle) is audited in the
/// database before the value is returned: a second connection sees the records at once, and the
/// chain stays whole across reads and synced writes interleaved.
async fn read_audit_sync_modes(site: Site) {
    let (store, master) = create(&site).await;
    assert_eq!(store.read_audit_sync(), ReadAuditSync::Deferred);
    let k = key("db_password");
    store
        .set(&actor(), &k, &val("v1"), &SetOptions::default())
        .await
        .unwrap();
    let mut store = Some(store);
    for (round, sync) in [ReadAuditSync::Deferred, ReadAuditSync::Full]
        .into_iter()
        .enumerate()
    {
        let current = store.take().unwrap().with_read_audit_sync(sync);
        assert_eq!(reveal(&current, &k).await, "v1");
        let ctx = RunContext {
            workspace: W.into(),
            run: Some(format!("run-{round}")),
            actor: actor(),
            ..RunContext::default()
        };
        let query = NameQuery {
            name: name("db_password"),
            scope: None,
        };
        let found = current.candidates(&ctx, &[query]).await.unwrap();
        let picks = [Candidate::pick(&found[0]).unwrap().clone()];
        let values = current.reveal_batch(&ctx, None, &picks).await.unwrap();
        assert_eq!(values[0].expose_secret(), "v1");
        let (handle, _) = current.issue_handle(&actor(), &k, None).await.unwrap();
        current
            .redeem_handle(&actor(), W, &handle, &Access::default())
            .await
            .unwrap();
        // A synced write after the reads.
        current
            .set(&actor(), &key("other"), &val("x"), &SetOptions::default())
            .await
            .unwrap();
        // Another connection sees every record of this round.
        let observer = Store::open(&site.location, KeySource::Key(master.clone()))
            .await
            .unwrap();
        let access = observer
            .audit(&AuditQuery {
                action: Some("access".into()),
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(access.len(), 2 * (round + 1), "{sync:?}");
        assert_eq!(
            access.last().unwrap().run.as_deref(),
            Some(format!("run-{round}").as_str())
        );
        let redeemed = observer
            .audit(&AuditQuery {
                action: Some("handle.redeem".into()),
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(redeemed.len(), round + 1, "{sync:?}");
        assert!(observer.verify_audit().await.unwrap().first_bad.is_none());
        store = Some(current);
    }
}
