//! The shared corpus of real CI configs (`../shared/corpus` from the repository root):
//! `original/` must give no reference and no diagnostic at all; `converted/` must give exactly
//! the references `references.jsonl` lists inside values, at the same line and column.
//! Under `CI` a missing corpus fails the test instead of skipping it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sigil_parser::{Format, ParseOptions, parse_bytes};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus"
    ));
    if dir.join("original").is_dir() && dir.join("converted").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the corpus is missing at {}: CI must run these tests",
        dir.display()
    );
    eprintln!(
        "corpus not found at {}: skipped (set CI to make this a failure)",
        dir.display()
    );
    None
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable corpus dir") {
            let path = entry.expect("dir entry").path();
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

fn parse_file(path: &Path) -> sigil_parser::Parsed {
    let bytes = std::fs::read(path).expect("readable corpus file");
    let options = ParseOptions::default().format(Format::from_path(path));
    let parsed = parse_bytes(&bytes, &options);
    assert_eq!(
        sigil_parser::diagnostics_bytes(&bytes, &options),
        parsed.diagnostics,
        "{}: diagnostics without the tree differ",
        path.display()
    );
    parsed
}

#[test]
fn original_has_no_references_and_no_diagnostics() {
    let Some(corpus) = corpus() else { return };
    let files = files(&corpus.join("original"));
    assert!(
        files.len() > 800,
        "expected the whole corpus, found {} files",
        files.len()
    );
    let mut problems = Vec::new();
    for path in &files {
        let parsed = parse_file(path);
        let name = path.strip_prefix(&corpus).unwrap().display().to_string();
        for reference in parsed.references() {
            problems.push(format!(
                "{name}:{}:{}: reference {:?}",
                reference.span.line, reference.span.column, reference.kind
            ));
        }
        for d in &parsed.diagnostics {
            problems.push(format!(
                "{name}:{}:{}: {} {}",
                d.span.line, d.span.column, d.code, d.message
            ));
        }
        assert!(!parsed.documents.is_empty(), "{name}: no document");
    }
    assert!(
        problems.is_empty(),
        "{} false positives:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Expected {
    file: String,
    line: usize,
    column: usize,
    name: String,
    form: String,
    byte_offset: usize,
    byte_len: usize,
}

#[test]
fn converted_gives_exactly_the_listed_references() {
    let Some(corpus) = corpus() else { return };
    let listing = std::fs::read_to_string(corpus.join("converted/references.jsonl"))
        .expect("references.jsonl");
    let mut expected = BTreeSet::new();
    for line in listing.lines().filter(|l| !l.trim().is_empty()) {
        let entry: serde_json::Value = serde_json::from_str(line).expect("valid jsonl");
        if entry["where"] != "value" {
            continue;
        }
        expected.insert(Expected {
            file: entry["file"].as_str().unwrap().to_owned(),
            line: entry["line"].as_u64().unwrap() as usize,
            column: entry["column"].as_u64().unwrap() as usize,
            name: entry["name"].as_str().unwrap().to_owned(),
            form: entry["form"].as_str().unwrap().to_owned(),
            byte_offset: entry["byte_offset"].as_u64().unwrap() as usize,
            byte_len: entry["byte_len"].as_u64().unwrap() as usize,
        });
    }
    assert_eq!(
        expected.len(),
        1003,
        "the corpus lists 1003 references in values"
    );

    let mut found = BTreeSet::new();
    let mut diagnostics = Vec::new();
    for path in files(&corpus.join("converted")) {
        let parsed = parse_file(&path);
        let file = path.strip_prefix(&corpus).unwrap().display().to_string();
        for reference in parsed.references() {
            found.insert(Expected {
                file: file.clone(),
                line: reference.span.line,
                column: reference.span.column,
                name: reference.name().unwrap_or_default().to_owned(),
                form: reference.form.as_str().to_owned(),
                byte_offset: reference.span.byte_range.start,
                byte_len: reference.span.byte_range.len(),
            });
        }
        for d in &parsed.diagnostics {
            diagnostics.push(format!(
                "{file}:{}:{}: {} {}",
                d.span.line, d.span.column, d.code, d.message
            ));
        }
    }
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {}: {missing:#?}\nextra {}: {extra:#?}",
        missing.len(),
        extra.len()
    );
    assert!(
        diagnostics.is_empty(),
        "unexpected diagnostics:\n{}",
        diagnostics.join("\n")
    );
}
