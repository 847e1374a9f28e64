//! Store latency and throughput on SQLite (a file in a temp dir) and PostgreSQL, each beside its
//! named baseline in the same run.
//!
//! - `reveal_one/*`: decrypt one value and append its `access` audit record (one write
//!   transaction), beside `get_metadata` (the same secret's metadata: one read, no crypto, no
//!   audit). Besides criterion's estimate, a latency report prints p50 and p99 over 2,000 calls.
//! - `list_10k`: metadata of 10,000 secrets, beside `list_100` (the same query over 100).
//! - `rotate/*`: rotations per second, one writer, beside 8 writers (8 connections) rotating one
//!   secret at once.
//! - `batch_100`: one step's batched lookup of 100 names plus decryption and 100 audit records
//!   in one transaction, beside `reveal_100_one_by_one` (the naive loop).
//!
//! Every bench checks its result (the value read back, the row count, the version reached).
//! PostgreSQL benches run when `SIGIL_TEST_POSTGRES_URL` is set; each run uses a fresh schema.
//!
//! Run: `cargo bench -p sigil-benches --bench store -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use secrecy::{ExposeSecret, SecretString};
use sigil_store::{
    Access, Actor, Candidate, KeySource, ListFilter, MasterKey, NameQuery, RunContext, SecretKey,
    SecretName, SetOptions, Store, StoreLocation,
};

const W: &str = "bench";

struct Backend {
    label: &'static str,
    location: StoreLocation,
    master: MasterKey,
    _dir: Option<tempfile::TempDir>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The stores of one bench group: a fresh SQLite file, and the PostgreSQL schema
/// `sigil_bench_<group>`, reused from run to run (with a fixed bench key) so runs leave nothing
/// new behind on the server.
fn backends(group: &str) -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut out = vec![Backend {
        label: "sqlite",
        location: StoreLocation::Sqlite(dir.path().join("bench.db")),
        master: MasterKey::generate(),
        _dir: Some(dir),
    }];
    // An empty value counts as unset (it would otherwise name a SQLite file).
    match std::env::var("SIGIL_TEST_POSTGRES_URL").map(|url| url.trim().to_owned()) {
        Ok(url) if !url.is_empty() => {
            let sep = if url.contains('?') { '&' } else { '?' };
            let schema = format!("sigil_bench_{group}");
            out.push(Backend {
                label: "postgres",
                location: StoreLocation::parse(&format!("{url}{sep}schema={schema}"))
                    .expect("postgres url"),
                master: MasterKey::from_bytes([0x5a; 32]),
                _dir: None,
            });
        }
        _ => eprintln!("postgres benches skipped: SIGIL_TEST_POSTGRES_URL is not set"),
    }
    out
}

fn actor() -> Actor {
    Actor::new("bench")
}

fn key(name: &str) -> SecretKey {
    SecretKey::new(W, SecretName::new(name).expect("valid name"))
}

async fn open(backend: &Backend) -> Store {
    match Store::open(&backend.location, KeySource::Key(backend.master.clone())).await {
        Ok(store) => store,
        Err(_) => Store::create(
            &backend.location,
            KeySource::Key(backend.master.clone()),
            &actor(),
        )
        .await
        .expect("create store"),
    }
}

async fn seed(store: &Store, prefix: &str, count: usize) {
    let entries = (0..count)
        .map(|i| {
            (
                SecretName::new(&format!("{prefix}_{i:05}")).expect("name"),
                SecretString::from(format!("value-{i}-{}", "x".repeat(24))),
            )
        })
        .collect();
    store
        .import(&actor(), &key("placeholder"), entries, &|_, _| {})
        .await
        .expect("seed");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// p50 and p99 of single calls, which criterion's mean does not show.
fn latency_report() {
    let rt = runtime();
    for backend in backends("latency") {
        let store = rt.block_on(open(&backend));
        rt.block_on(seed(&store, "lat", 10));
        let k = key("lat_00003");
        for (label, reveal) in [("get_metadata", false), ("reveal_one", true)] {
            let mut samples = Vec::with_capacity(2000);
            for i in 0..2200 {
                let start = Instant::now();
                if reveal {
                    let (_, value) = rt
                        .block_on(store.reveal(&actor(), &k, &Access::default(), None))
                        .expect("reveal");
                    assert!(value.expose_secret().starts_with("value-3-"));
                } else {
                    let meta = rt.block_on(store.get(&k)).expect("get");
                    assert!(meta.version >= 1);
                }
                if i >= 200 {
                    samples.push(start.elapsed());
                }
            }
            samples.sort();
            println!(
                "latency {}/{label}: p50 {:?} p99 {:?} (n = {})",
                backend.label,
                percentile(&samples, 0.50),
                percentile(&samples, 0.99),
                samples.len()
            );
        }
    }
}

fn reveal_one(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("reveal_one");
    for backend in backends("reveal") {
        let store = rt.block_on(open(&backend));
        rt.block_on(seed(&store, "one", 10));
        let k = key("one_00003");
        group.bench_function(BenchmarkId::new("get_metadata", backend.label), |b| {
            b.iter(|| {
                let meta = rt.block_on(store.get(black_box(&k))).expect("get");
                assert!(meta.version >= 1);
            });
        });
        group.bench_function(BenchmarkId::new("reveal", backend.label), |b| {
            b.iter(|| {
                let (_, value) = rt
                    .block_on(store.reveal(&actor(), black_box(&k), &Access::default(), None))
                    .expect("reveal");
                assert!(value.expose_secret().starts_with("value-3-"));
            });
        });
    }
    group.finish();
}

fn list(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("list");
    group.sample_size(20);
    for backend in backends("list") {
        let store = rt.block_on(open(&backend));
        rt.block_on(seed(&store, "big", 10_000));
        // The 100-secret baseline lives in its own workspace of the same store.
        let template = SecretKey::new("small", SecretName::new("p").expect("name"));
        let entries = (0..100)
            .map(|i| {
                (
                    SecretName::new(&format!("small_{i:05}")).expect("name"),
                    SecretString::from("v"),
                )
            })
            .collect();
        rt.block_on(store.import(&actor(), &template, entries, &|_, _| {}))
            .expect("seed small");
        for (label, workspace, expected) in
            [("list_100", "small", 100usize), ("list_10k", W, 10_000)]
        {
            let filter = ListFilter::default();
            group.throughput(Throughput::Elements(expected as u64));
            group.bench_function(BenchmarkId::new(label, backend.label), |b| {
                b.iter(|| {
                    let list = rt.block_on(store.list(workspace, &filter)).expect("list");
                    assert_eq!(list.len(), expected);
                });
            });
        }
    }
    group.finish();
}

fn rotate(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("rotate");
    group.sample_size(10);
    for backend in backends("rotate") {
        let store = rt.block_on(open(&backend));
        let k = key("hot");
        rt.block_on(store.set(
            &actor(),
            &k,
            &SecretString::from("0"),
            &SetOptions::default(),
        ))
        .expect("seed");
        let writers: Vec<Store> = (0..8).map(|_| rt.block_on(open(&backend))).collect();
        const PER_ITER: u64 = 8;
        group.throughput(Throughput::Elements(PER_ITER));
        group.bench_function(BenchmarkId::new("one_writer", backend.label), |b| {
            b.iter(|| {
                let before = rt.block_on(store.get(&k)).expect("get").version;
                for _ in 0..PER_ITER {
                    rt.block_on(store.rotate(
                        &actor(),
                        &k,
                        &SecretString::from("v"),
                        "bench",
                        None,
                    ))
                    .expect("rotate");
                }
                let after = rt.block_on(store.get(&k)).expect("get").version;
                assert_eq!(after - before, PER_ITER as i64);
            });
        });
        group.bench_function(BenchmarkId::new("eight_writers", backend.label), |b| {
            b.iter(|| {
                let before = rt.block_on(store.get(&k)).expect("get").version;
                rt.block_on(async {
                    let tasks = writers.iter().map(|writer| {
                        let k = k.clone();
                        async move {
                            writer
                                .rotate(&actor(), &k, &SecretString::from("v"), "bench", None)
                                .await
                                .expect("rotate")
                        }
                    });
                    let mut handles = Vec::new();
                    for task in tasks {
                        handles.push(task);
                    }
                    join_all(handles).await;
                });
                let after = rt.block_on(store.get(&k)).expect("get").version;
                assert_eq!(after - before, PER_ITER as i64);
            });
        });
    }
    group.finish();
}

/// Polls every future to completion concurrently (a tiny `join_all`, to avoid a dependency).
async fn join_all<F: std::future::Future>(futures: Vec<F>) {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in &mut futures {
            if let Some(future) = slot {
                if future.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
}

fn batch(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("batch_100");
    for backend in backends("batch") {
        let store = rt.block_on(open(&backend));
        rt.block_on(seed(&store, "step", 100));
        let ctx = RunContext {
            workspace: W.into(),
            pipeline: Some("deploy".into()),
            user: Some("alice".into()),
            environment: Some("production".into()),
            run: Some("run-1".into()),
            actor: actor(),
        };
        let names: Vec<NameQuery> = (0..100)
            .map(|i| NameQuery {
                name: SecretName::new(&format!("step_{i:05}")).expect("name"),
                scope: None,
            })
            .collect();
        group.throughput(Throughput::Elements(100));
        group.bench_function(BenchmarkId::new("batched", backend.label), |b| {
            b.iter(|| {
                let found = rt
                    .block_on(store.candidates(&ctx, &names))
                    .expect("candidates");
                let picks: Vec<Candidate> = found
                    .iter()
                    .map(|c| Candidate::pick(c).expect("found").clone())
                    .collect();
                let values = rt
                    .block_on(store.reveal_batch(&ctx, Some("/steps/0"), &picks))
                    .expect("reveal");
                assert_eq!(values.len(), 100);
                assert!(values[99].expose_secret().starts_with("value-99-"));
            });
        });
        group.bench_function(
            BenchmarkId::new("reveal_100_one_by_one", backend.label),
            |b| {
                b.iter(|| {
                    for query in &names {
                        let k = SecretKey::new(W, query.name.clone());
                        let (_, value) = rt
                            .block_on(store.reveal(&actor(), &k, &Access::default(), None))
                            .expect("reveal");
                        assert!(value.expose_secret().starts_with("value-"));
                    }
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, reveal_one, list, rotate, batch);

fn main() {
    latency_report();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
