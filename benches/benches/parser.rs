//! Parser throughput over the whole shared corpus, beside the bare YAML parser in the same run.
//!
//! Workload: every file of `converted/` (809 files, 3.7 MB of real CI configs with 1003
//! references in values), read into memory once.
//!
//! - `saphyr_events`: saphyr-parser alone, pulling every event of every file (the floor: what any
//!   YAML reader built on it pays);
//! - `sigil_parse`: `sigil_parser::parse` with the default options (tree, reference scan,
//!   positions, duplicate keys, credential check), JSON files through the JSON scanner;
//! - `sigil_parse_no_credential_check`: the same without the SIG202 check;
//! - `sigil_diagnostics`: `sigil_parser::diagnostics`, the same checks without the tree (what
//!   `sigil check` runs when it validates against no secrets source).
//!
//! Every bench checks its result: saphyr reads every YAML file to its end (but the seven it
//! rejects for flow indentation), sigil finds exactly the 1003 listed references and reports
//! nothing.
//!
//! Run: `cargo bench -p sigil-benches --bench parser -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use saphyr_parser::{Event, Parser};
use sigil_parser::{Format, ParseOptions, diagnostics, parse};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable corpus directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml" | "json")
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Events of one file, and whether the parser reached the end of the stream.
fn saphyr_events(text: &str) -> (usize, bool) {
    let mut events = 0;
    for event in Parser::new_from_str(text) {
        match event {
            Ok((Event::StreamEnd, _)) => return (events + 1, true),
            Ok(_) => events += 1,
            Err(_) => return (events, false),
        }
    }
    (events, false)
}

fn sigil_references(inputs: &[(String, Format)], credential_check: bool) -> (usize, usize) {
    let mut references = 0;
    let mut diagnostics = 0;
    for (text, format) in inputs {
        let parsed = parse(
            text,
            &ParseOptions::default()
                .format(*format)
                .credential_check(credential_check),
        );
        references += parsed.references().count();
        diagnostics += parsed.diagnostics.len();
    }
    (references, diagnostics)
}

fn sigil_diagnostics(inputs: &[(String, Format)]) -> usize {
    inputs
        .iter()
        .map(|(text, format)| diagnostics(text, &ParseOptions::default().format(*format)).len())
        .sum()
}

fn bench(c: &mut Criterion) {
    let dir = sigil_benches::corpus_dir().join("converted");
    let inputs: Vec<(String, Format)> = files(&dir)
        .iter()
        .map(|path| {
            (
                std::fs::read_to_string(path).expect("UTF-8 corpus file"),
                Format::from_path(path),
            )
        })
        .collect();
    assert!(
        inputs.len() > 800,
        "the whole corpus is expected at {}",
        dir.display()
    );
    let bytes: usize = inputs.iter().map(|(text, _)| text.len()).sum();

    // Check the results once, outside the timing loops.
    let yaml_complete = inputs
        .iter()
        .filter(|(text, format)| *format != Format::Json && saphyr_events(text).1)
        .count();
    let yaml_files = inputs
        .iter()
        .filter(|(_, format)| *format != Format::Json)
        .count();
    // Seven Argo examples close a flow sequence less indented than YAML 1.2 allows: saphyr stops
    // there, sigil reads them leniently (see the parser README).
    assert_eq!(
        yaml_files - yaml_complete,
        7,
        "saphyr reads every other YAML file to its end"
    );
    assert_eq!(
        sigil_references(&inputs, true),
        (1003, 0),
        "1003 references, no diagnostics"
    );
    assert_eq!(
        sigil_diagnostics(&inputs),
        0,
        "no diagnostics without the tree either"
    );

    let mut group = c.benchmark_group("parser/converted");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("saphyr_events", |b| {
        b.iter(|| {
            inputs
                .iter()
                .map(|(text, _)| saphyr_events(black_box(text)).0)
                .sum::<usize>()
        })
    });
    group.bench_function("sigil_parse", |b| {
        b.iter(|| sigil_references(black_box(&inputs), true))
    });
    group.bench_function("sigil_parse_no_credential_check", |b| {
        b.iter(|| sigil_references(black_box(&inputs), false))
    });
    group.bench_function("sigil_diagnostics", |b| {
        b.iter(|| sigil_diagnostics(black_box(&inputs)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
