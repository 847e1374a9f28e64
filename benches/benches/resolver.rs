//! Resolver benches: one step with 100 references (in-memory source, SQLite store), validating a
//! 1,000-step pipeline with 10,000 references against the store (with the number of store
//! queries), and substitution on the tree beside a naive text replace of the same references.
//!
//! Run: `cargo bench -p sigil-benches --bench resolver`.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use secrecy::SecretString;
use sigil::StoreSource;
use sigil_parser::{Document, ParseOptions, Scope, parse};
use sigil_resolver::{
    Access, Found, Lookup, MemorySource, Policy, Render, Reveal, RunContext, SecretSource,
    SourceError, resolve_step, to_yaml, validate,
};
use sigil_store::{
    Actor, KeySource, MasterKey, SecretKey, SecretName, SetOptions, Store, StoreLocation,
};

/// A pipeline of `steps` steps, each with `per_step` references to distinct names
/// `secret_0..secret_{names-1}`, half in `env`, half embedded in a `run` script.
fn pipeline(steps: usize, per_step: usize, names: usize) -> String {
    let mut out = String::from("name: bench\nsteps:\n");
    let mut n = 0;
    for step in 0..steps {
        out.push_str(&format!("  - name: step {step}\n    env:\n"));
        for i in 0..per_step / 2 {
            out.push_str(&format!(
                "      VAR_{i}: \"prefix <<secrets.secret_{}>> suffix\"\n",
                n % names
            ));
            n += 1;
        }
        out.push_str("    run: |\n");
        for _ in per_step / 2..per_step {
            out.push_str(&format!(
                "      curl -H \"X: <<secrets.secret_{}>>\" https://example.test\n",
                n % names
            ));
            n += 1;
        }
    }
    out
}

fn value(i: usize) -> String {
    format!("value-{i:04}-abcdefghijklmnopqrstuvwxyz")
}

fn document(text: &str) -> Document {
    let parsed = parse(text, &ParseOptions::default());
    assert!(
        parsed.diagnostics.is_empty(),
        "{:?}",
        parsed.diagnostics.first()
    );
    parsed.documents.into_iter().next().unwrap()
}

/// Counts `find` and `reveal` calls: the number of store queries a resolution makes.
struct Counting<S> {
    inner: S,
    calls: AtomicUsize,
}

impl<S: SecretSource> SecretSource for Counting<S> {
    async fn find(
        &self,
        context: &RunContext,
        lookups: &[Lookup<'_>],
    ) -> Result<Vec<Found>, SourceError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.find(context, lookups).await
    }

    async fn reveal(
        &self,
        items: &[Reveal<'_>],
        access: Access<'_>,
    ) -> Result<Vec<SecretString>, SourceError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.reveal(items, access).await
    }
}

/// The runtime `sigil run` resolves on: multi-threaded, so SQLite transactions block in place
/// (on a single-threaded runtime each one also pays a hand-off to tokio's blocking pool).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn store_with(names: usize, runtime: &tokio::runtime::Runtime) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let actor = Actor::new("bench");
    let location = StoreLocation::Sqlite(dir.path().join("store.db"));
    let store = runtime
        .block_on(Store::create(
            &location,
            KeySource::Key(MasterKey::generate()),
            &actor,
        ))
        .unwrap();
    for i in 0..names {
        let key = SecretKey::new("bench", SecretName::new(&format!("secret_{i}")).unwrap());
        runtime
            .block_on(store.set(
                &actor,
                &key,
                &SecretString::from(value(i)),
                &SetOptions::default(),
            ))
            .unwrap();
    }
    (dir, store)
}

fn one_step(c: &mut Criterion) {
    let runtime = runtime();
    let document = document(&pipeline(1, 100, 100));
    let context = RunContext::new("bench").pipeline("bench");
    let policy = Policy::default();

    let mut memory = MemorySource::new();
    for i in 0..100 {
        memory.insert(
            Scope::Workspace,
            None,
            None,
            &format!("secret_{i}"),
            SecretString::from(value(i)),
        );
    }
    let (_dir, store) = store_with(100, &runtime);
    let store_source = Counting {
        inner: StoreSource::new(&store, Actor::new("bench")),
        calls: AtomicUsize::new(0),
    };
    let step = runtime
        .block_on(resolve_step(
            &document,
            "/steps/0",
            &context,
            &store_source,
            &policy,
        ))
        .unwrap();
    assert_eq!(step.secrets.len(), 100);
    assert_eq!(
        store_source.calls.load(Ordering::Relaxed),
        2,
        "one find and one reveal per step"
    );

    let mut group = c.benchmark_group("resolve_step_100_refs");
    group.bench_function("memory_source", |b| {
        b.iter(|| {
            let step = runtime
                .block_on(resolve_step(
                    &document, "/steps/0", &context, &memory, &policy,
                ))
                .unwrap();
            assert_eq!(step.secrets.len(), 100);
            black_box(step)
        })
    });
    group.bench_function("sqlite_store", |b| {
        b.iter(|| {
            let step = runtime
                .block_on(resolve_step(
                    &document,
                    "/steps/0",
                    &context,
                    &store_source,
                    &policy,
                ))
                .unwrap();
            assert_eq!(step.secrets.len(), 100);
            black_box(step)
        })
    });
    group.finish();
}

fn validate_pipeline(c: &mut Criterion) {
    let runtime = runtime();
    let document = document(&pipeline(1_000, 10, 500));
    assert_eq!(document.references().count(), 10_000);
    let context = RunContext::new("bench").pipeline("bench");
    let policy = Policy::default();
    let (_dir, store) = store_with(500, &runtime);
    let source = Counting {
        inner: StoreSource::new(&store, Actor::new("bench")),
        calls: AtomicUsize::new(0),
    };
    let diagnostics = runtime
        .block_on(validate(&document, &context, &source, &policy))
        .unwrap();
    assert!(diagnostics.is_empty());
    println!(
        "validate 1,000 steps / 10,000 references: {} store queries",
        source.calls.load(Ordering::Relaxed)
    );

    let mut group = c.benchmark_group("validate_1000_steps_10000_refs");
    group.sample_size(20);
    group.bench_function("sqlite_store", |b| {
        b.iter(|| {
            let diagnostics = runtime
                .block_on(validate(&document, &context, &source, &policy))
                .unwrap();
            assert!(diagnostics.is_empty());
        })
    });
    group.finish();
}

fn substitution_vs_text_replace(c: &mut Criterion) {
    let runtime = runtime();
    let text = pipeline(1, 100, 100);
    let document = document(&text);
    let context = RunContext::new("bench");
    let policy = Policy::default();
    let mut memory = MemorySource::new();
    let mut pairs = Vec::new();
    for i in 0..100 {
        let name = format!("secret_{i}");
        memory.insert(
            Scope::Workspace,
            None,
            None,
            &name,
            SecretString::from(value(i)),
        );
        pairs.push((format!("<<secrets.{name}>>"), value(i)));
    }
    let mut group = c.benchmark_group("substitute_100_refs");
    group.bench_function("tree_resolve_and_emit", |b| {
        b.iter(|| {
            let step = runtime
                .block_on(resolve_step(&document, "", &context, &memory, &policy))
                .unwrap();
            let yaml = to_yaml(&step.node, &step.secrets, Render::Reveal);
            // The `run` half is bound to variables; the `env` half is substituted.
            assert!(yaml.contains("value-0049") && yaml.contains("${SIGIL_SECRET_99}"));
            black_box(yaml)
        })
    });
    group.bench_function("naive_text_replace", |b| {
        b.iter(|| {
            // What most platforms do: replace each reference's text in the config text, one
            // name after another (and so re-scan values already substituted).
            let mut out = text.clone();
            for (reference, value) in &pairs {
                out = out.replace(reference.as_str(), value);
            }
            assert!(out.contains("value-0099"));
            black_box(out)
        })
    });
    group.bench_function("parse_resolve_and_emit", |b| {
        b.iter(|| {
            let document = parse(&text, &ParseOptions::default())
                .documents
                .into_iter()
                .next()
                .unwrap();
            let step = runtime
                .block_on(resolve_step(&document, "", &context, &memory, &policy))
                .unwrap();
            black_box(to_yaml(&step.node, &step.secrets, Render::Reveal))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    one_step,
    validate_pipeline,
    substitution_vs_text_replace
);
criterion_main!(benches);
