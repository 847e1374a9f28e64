//! Fixture-driven tests: every `fixtures/parser/**/<case>.{yaml,yml,json}` beside its
//! `<case>.<ext>.expected`, which lists each leaf value of the tree, each reference and each
//! diagnostic with its exact position. A new case is a new pair of files, not new code.
//! Cases under a `braces/` directory use the braces dialect.
//!
//! To (re)write the expected files after a deliberate change: `SIGIL_BLESS=1 cargo test -p
//! sigil-parser --test fixtures`, then review every diff.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sigil_parser::{
    Dialect, Document, Format, NodeKind, ParseOptions, Parsed, ReferenceKind, diagnostics_bytes,
    parse_bytes,
};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/parser"
    ))
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("fixtures dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(cases(&path));
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn render(source: &[u8], parsed: &Parsed) -> String {
    let mut out = String::new();
    for document in &parsed.documents {
        writeln!(out, "document {}", document.index).unwrap();
        leaves(document, &mut out);
    }
    for reference in parsed.references() {
        let span = &reference.span;
        let what = match &reference.kind {
            ReferenceKind::Secret {
                name,
                scope: Some(scope),
            } => format!("{name}@{}", scope.as_str()),
            ReferenceKind::Secret { name, scope: None } => name.clone(),
            ReferenceKind::Handle { token } => token.clone(),
            _ => "?".to_owned(),
        };
        let raw = String::from_utf8_lossy(&source[span.byte_range.clone()]);
        writeln!(
            out,
            "reference {} {what} at {}:{}-{}:{} bytes {:?} {raw:?} pointer {:?} document {}",
            reference.form.as_str(),
            span.line,
            span.column,
            span.end_line,
            span.end_column,
            span.byte_range,
            reference.pointer,
            reference.document
        )
        .unwrap();
    }
    for d in &parsed.diagnostics {
        let span = &d.span;
        writeln!(
            out,
            "{} {} {} at {}:{}-{}:{} pointer {:?} document {:?}: {}",
            d.code,
            d.code.name(),
            d.severity.as_str(),
            span.line,
            span.column,
            span.end_line,
            span.end_column,
            d.pointer.as_deref().unwrap_or(""),
            d.document,
            d.message
        )
        .unwrap();
    }
    out
}

fn leaves(document: &Document, out: &mut String) {
    document.walk(|pointer, node| match &node.kind {
        NodeKind::Mapping(entries) if entries.is_empty() => {
            writeln!(out, "  {pointer:?} {{}}").unwrap();
        }
        NodeKind::Sequence(items) if items.is_empty() => {
            writeln!(out, "  {pointer:?} []").unwrap();
        }
        NodeKind::Scalar(scalar) => {
            let tag = node
                .tag
                .as_deref()
                .map(|t| format!(" tag {t}"))
                .unwrap_or_default();
            // Escapes and references make the literal text differ from the text as written.
            let literal = scalar.literal_text();
            let literal = if literal == scalar.text() {
                String::new()
            } else {
                format!(" literal {literal:?}")
            };
            writeln!(
                out,
                "  {pointer:?} {:?} {:?} at {}:{}{tag}{literal}",
                scalar.style(),
                scalar.text(),
                node.span.line,
                node.span.column
            )
            .unwrap();
        }
        _ => {}
    });
}

#[test]
fn fixtures() {
    let bless = std::env::var_os("SIGIL_BLESS").is_some();
    let cases = cases(&fixtures_dir());
    assert!(
        cases.len() >= 20,
        "expected the fixture set, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let source = std::fs::read(case).unwrap();
        let dialect = if case.components().any(|c| c.as_os_str() == "braces") {
            Dialect::Braces
        } else {
            Dialect::Angle
        };
        let options = ParseOptions::default()
            .dialect(dialect)
            .format(Format::from_path(case));
        let parsed = parse_bytes(&source, &options);
        assert_eq!(
            diagnostics_bytes(&source, &options),
            parsed.diagnostics,
            "{}: diagnostics without the tree differ",
            case.display()
        );
        let actual = render(&source, &parsed);
        let expected_path = PathBuf::from(format!("{}.expected", case.display()));
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{}\n--- expected\n{expected}--- actual\n{actual}",
                case.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixtures differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
