//! Redactor throughput on a CI log, beside its baselines in the same run.
//!
//! Workload: `SIGIL_BENCH_MIB` (default 256) MiB of realistic CI log lines with a value or one
//! of its encoded forms (cycling through all of them) injected every 64 KiB; values of 20 to 50 characters; sets of 1 to 1,000
//! secrets with every encoding on. For each set:
//!
//! - `memcpy`: copying the buffer (the floor any filter pays);
//! - `redact`: `Redactor::redact_to` on the whole buffer, into a reused `Vec`;
//! - `stream_4k`: `RedactWriter` fed 4 KiB writes into a `Vec`;
//! - `buffer_4k`: `RedactBuffer` fed 4 KiB writes (the stream into a `Vec` it can reach);
//! - `aho_corasick_ll`: aho-corasick `replace_all_with_bytes`, `MatchKind::LeftmostLongest`,
//!   default options, over the same needles (sets of 100 and more: one sample, it is slow).
//!
//! Every bench checks its result: the redactor's output equals the leftmost-longest
//! replacement (the injected values never overlap) and holds one mask per injection.
//!
//! Run: `cargo bench -p sigil-benches --bench redactor -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use aho_corasick::{AhoCorasick, MatchKind};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sigil_benches::redactor_workload::{
    buffer_in_writes, build, needles, resident_kib, stream, values, workload,
};

fn redactor_benches(c: &mut Criterion) {
    let mib: usize = std::env::var("SIGIL_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let all_values = values(1000);
    let sets: Vec<usize> = std::env::var("SIGIL_BENCH_SETS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 8, 64, 100, 300, 1000]);

    let mut group = c.benchmark_group("redactor");
    group.sample_size(10);
    let mut out = Vec::new();
    for &count in &sets {
        // The same log lines for every set; the injections cycle through the set's values.
        let values = &all_values[..count];
        let before = resident_kib();
        let redactor = build(values);
        let after = resident_kib();
        let stats = redactor.stats();
        let needles = needles(&redactor);
        let (haystack, injected) = workload(&needles, mib << 20);
        group.throughput(Throughput::Bytes(haystack.len() as u64));
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&needles)
            .unwrap();
        eprintln!(
            "set of {count} secrets: {} needles, redactor memory {:.1} MiB (resident growth {:.1} MiB), aho-corasick memory {:.1} MiB, injections {injected}",
            stats.needles,
            stats.memory as f64 / (1 << 20) as f64,
            after.saturating_sub(before) as f64 / 1024.0,
            ac.memory_usage() as f64 / (1 << 20) as f64,
        );

        // Check results once: same output as leftmost-longest, one mask per injection.
        let expected = ac.replace_all_bytes(&haystack, &vec![b"***".as_slice(); needles.len()]);
        let got = redactor.redact(&haystack);
        assert!(got == expected, "redactor and aho-corasick disagree");
        assert_eq!(
            got.windows(3).filter(|w| w == b"***").count(),
            injected,
            "one mask per injection"
        );
        stream(&redactor, &haystack, &mut out);
        assert!(out == expected, "streaming differs from in-memory");
        buffer_in_writes(&redactor, &haystack, 4096, &mut out);
        assert!(
            out == expected,
            "streaming into a buffer differs from in-memory"
        );

        group.bench_with_input(BenchmarkId::new("memcpy", count), &haystack, |b, h| {
            b.iter(|| {
                out.clear();
                out.extend_from_slice(black_box(h));
                black_box(out.len())
            })
        });
        group.bench_with_input(BenchmarkId::new("redact", count), &haystack, |b, h| {
            b.iter(|| {
                out.clear();
                redactor.redact_to(black_box(h), &mut out);
                black_box(out.len())
            })
        });
        group.bench_with_input(BenchmarkId::new("stream_4k", count), &haystack, |b, h| {
            b.iter(|| {
                stream(&redactor, black_box(h), &mut out);
                black_box(out.len())
            })
        });
        group.bench_with_input(BenchmarkId::new("buffer_4k", count), &haystack, |b, h| {
            b.iter(|| {
                buffer_in_writes(&redactor, black_box(h), 4096, &mut out);
                black_box(out.len())
            })
        });
        group.bench_with_input(
            BenchmarkId::new("aho_corasick_ll", count),
            &haystack,
            |b, h| {
                b.iter(|| {
                    let mut dst = Vec::with_capacity(h.len());
                    ac.replace_all_with_bytes(black_box(h), &mut dst, |_, _, dst| {
                        dst.extend_from_slice(b"***");
                        true
                    });
                    black_box(dst.len())
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, redactor_benches);
criterion_main!(benches);
