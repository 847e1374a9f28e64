//! Redactor throughput on a CI log, beside its baselines in the same run.
//!
//! Workload: `SIGIL_BENCH_MIB` (default 256) MiB of realistic CI log lines with a value or one
//! of its encoded forms (cycling through all of them) injected every 64 KiB; values of 20 to 50 characters; sets of 1 to 1,000
//! secrets with every encoding on. For each set:
//!
//! - `memcpy`: copying the buffer (the floor any filter pays);
//! - `redact`: `Redactor::redact_to` on the whole buffer, into a reused `Vec`;
//! - `stream_4k`: `RedactWriter` fed 4 KiB writes into a `Vec`;
//! - `aho_corasick_ll`: aho-corasick `replace_all_with_bytes`, `MatchKind::LeftmostLongest`,
//!   default options, over the same needles (sets of 100 and more: one sample, it is slow).
//!
//! Every bench checks its result: the redactor's output equals the leftmost-longest
//! replacement (the injected values never overlap) and holds one mask per injection.
//!
//! Run: `cargo bench -p sigil-benches --bench redactor -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::io::Write;

use aho_corasick::{AhoCorasick, MatchKind};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use secrecy::SecretString;
use sigil_redactor::{RedactWriter, Redactor};

/// A small deterministic generator (xorshift64*), so every run benches the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `count` values of 20 to 50 characters shaped like real tokens.
fn values(count: usize) -> Vec<String> {
    let mut rng = Rng(0x5EED_0000 + count as u64);
    let prefixes = [
        "ghp_", "sk-live-", "AKIA", "xoxb-", "glpat-", "npm_", "", "",
    ];
    (0..count)
        .map(|_| {
            let mut value = rng.pick(&prefixes).to_owned();
            let len = 20 + rng.below(31);
            while value.len() < len {
                value.push(char::from(ALNUM[rng.below(ALNUM.len())]));
            }
            value
        })
        .collect()
}

/// One log line of the kinds a CI job prints.
fn log_line(rng: &mut Rng, out: &mut Vec<u8>) {
    let n = rng.below(10_000);
    let hex: String = (0..12)
        .map(|_| char::from(b"0123456789abcdef"[rng.below(16)]))
        .collect();
    let line = match rng.below(10) {
        0 => format!(
            "2026-11-25T09:{:02}:{:02}.{n:03}Z INFO  step {}/12: npm ci --prefer-offline --no-audit\n",
            n % 60,
            n % 59,
            n % 12
        ),
        1 => format!(
            "Downloading https://registry.npmjs.org/{}/-/{}-4.17.{n}.tgz ({} kB)\n",
            rng.pick(&["lodash", "react", "typescript", "webpack"]),
            rng.pick(&["a", "b"]),
            n % 900
        ),
        2 => format!(
            "test tests::{}::case_{n} ... ok\n",
            rng.pick(&["parser", "store", "redactor", "resolver"])
        ),
        3 => format!(
            "   Compiling {} v0.{}.{} (/builds/group/project/crates/{})\n",
            rng.pick(&["serde", "tokio", "regex", "clap"]),
            n % 40,
            n % 9,
            rng.pick(&["core", "cli"])
        ),
        4 => format!("{hex}: Pull complete\n"),
        5 => format!("remote: Counting objects: {}% ({n}/{n}), done.\n", n % 100),
        6 => format!(
            "[{n:>5}] warning: unused variable `x{n}` in src/module_{}.rs:{}:{}\n",
            n % 37,
            n % 400,
            n % 80
        ),
        7 => format!(
            "+ curl -sSf -H 'Accept: application/json' https://api.example.com/v1/builds/{n}/status\n"
        ),
        8 => format!(
            "Step {}/{}: RUN apt-get update && apt-get install -y build-essential libssl-dev ({hex})\n",
            n % 20,
            20
        ),
        _ => format!(
            "    at Object.<anonymous> (/builds/app/node_modules/jest/build/index.js:{n}:{})\n",
            n % 60
        ),
    };
    out.extend_from_slice(line.as_bytes());
}

/// The log, and how many values were injected. Each injection is one of the needles (a value
/// or one of its encoded forms), cycling through them.
fn workload(needles: &[Vec<u8>], bytes: usize) -> (Vec<u8>, usize) {
    let mut rng = Rng(0xC0FFEE);
    let mut out = Vec::with_capacity(bytes + 4096);
    let mut injected = 0;
    let mut next_injection = 0;
    while out.len() < bytes {
        if out.len() >= next_injection {
            let needle = &needles[injected * 7919 % needles.len()];
            out.extend_from_slice(format!("export SECRET_{injected}=").as_bytes());
            out.extend_from_slice(needle);
            out.push(b'\n');
            injected += 1;
            next_injection += 64 * 1024;
        }
        log_line(&mut rng, &mut out);
    }
    (out, injected)
}

fn build(values: &[String]) -> Redactor {
    let mut builder = Redactor::builder();
    for (i, value) in values.iter().enumerate() {
        builder.value(&format!("S{i}"), &SecretString::from(value.as_str()));
    }
    builder.build().unwrap()
}

fn resident_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

fn stream(redactor: &Redactor, input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut writer = RedactWriter::new(redactor, std::mem::take(out));
    for chunk in input.chunks(4096) {
        writer.write_all(chunk).unwrap();
    }
    *out = writer.finish().unwrap();
}

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
        let needles: Vec<Vec<u8>> = redactor
            .expose_needles()
            .iter()
            .map(|n| n.to_vec())
            .collect();
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
