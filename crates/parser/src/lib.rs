//! sigil-parser finds secret references in YAML and JSON pipeline configs, with exact positions
//! and stable diagnostics.
//!
//! [`parse`] never panics and never fails: it returns every [`Document`] it could read and every
//! [`Diagnostic`] it found. A document is a tree of [`Node`]s (mappings with ordered entries,
//! sequences, scalars); each string scalar is split into literal [`Segment`]s and
//! [`Reference`]s, each located by a [`Span`] (byte range, 1-based line and column) and the
//! JSON pointer of the value that holds it. This tree is what the resolver substitutes into.
//!
//! The reference language (DESIGN.md section 2): `<<secrets.NAME>>`,
//! `<<secrets.NAME@workspace>>` (or `@pipeline`, `@personal`), the short form `<<KEY>>`,
//! store handles `$secret:v1.PAYLOAD.MAC`, and the escape `<<'<<'>>` for a literal `<<`. Shell
//! heredocs, here-strings, arithmetic shifts and YAML merge keys are left alone. With
//! [`Dialect::Braces`], `{{secrets.NAME}}` and `{{KEY}}` instead.
//!
//! # Example
//!
//! ```
//! use sigil_parser::{parse, ParseOptions, ReferenceKind};
//!
//! let source = "steps:\n  - run: deploy\n    env:\n      TOKEN: \"Bearer <<secrets.api_token>>\"\n";
//! let parsed = parse(source, &ParseOptions::default());
//! assert!(parsed.diagnostics.is_empty());
//!
//! let reference = parsed.references().next().unwrap();
//! assert_eq!(reference.name(), Some("api_token"));
//! assert_eq!(reference.pointer, "/steps/0/env/TOKEN");
//! assert_eq!((reference.span.line, reference.span.column), (4, 22));
//! assert_eq!(&source[reference.span.byte_range.clone()], "<<secrets.api_token>>");
//!
//! let value = parsed.documents[0].get("/steps/0/env/TOKEN").unwrap().as_scalar().unwrap();
//! assert_eq!(value.text(), "Bearer <<secrets.api_token>>");
//! ```
#![deny(missing_docs)]

mod align;
mod context;
mod credential;
mod diagnostic;
mod json;
mod options;
mod scan;
mod span;
mod tree;
mod yaml;

pub use crate::diagnostic::{Code, Diagnostic, Severity};
pub use crate::options::{Dialect, Format, ParseOptions};
pub use crate::span::{LineIndex, Span};
pub use crate::tree::{
    CoreType, Document, Entry, Key, Node, NodeKind, Part, Reference, ReferenceForm, ReferenceKind,
    References, Scalar, ScalarStyle, Scope, Segment, push_pointer_token,
};

use crate::context::Context;

/// The README's Rust examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// What [`parse`] found: the documents it could read and every diagnostic, in source order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The documents, in file order (a JSON file has one).
    pub documents: Vec<Document>,
    /// Every problem found, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// Every reference of every document, in order.
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.documents.iter().flat_map(Document::references)
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses a YAML or JSON config (see [`Format`] for how the format is chosen).
///
/// Never panics and never fails: malformed input gives SIG001 and whatever documents were
/// complete before the error.
pub fn parse(source: &str, options: &ParseOptions) -> Parsed {
    parse_with(source, options, true)
}

/// The diagnostics of [`parse`], exactly, without building the document tree: for a check that
/// needs no tree, it is faster and uses less memory.
pub fn diagnostics(source: &str, options: &ParseOptions) -> Vec<Diagnostic> {
    parse_with(source, options, false).diagnostics
}

/// The diagnostics of [`parse_bytes`], exactly, without building the document tree.
pub fn diagnostics_bytes(bytes: &[u8], options: &ParseOptions) -> Vec<Diagnostic> {
    parse_bytes_with(bytes, options, false).diagnostics
}

/// [`parse`]; with `tree` false, YAML documents come back without their content.
fn parse_with(source: &str, options: &ParseOptions, tree: bool) -> Parsed {
    let format = match options.format {
        Format::Auto => {
            let trimmed = source.trim_start_matches('\u{feff}').trim_start();
            if trimmed.starts_with(['{', '[']) && json::is_json(source) {
                Format::Json
            } else {
                Format::Yaml
            }
        }
        format => format,
    };
    let mut ctx = Context::new(source, options);
    let documents = match format {
        Format::Json => json::read(&mut ctx, source),
        _ => {
            // The YAML library is safe Rust and well tested; should it ever panic, that is one
            // SIG001 for this file, not a crash of the whole check.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                yaml::read(&mut ctx, source, tree)
            }));
            match read {
                Ok(documents) => documents,
                Err(_) => {
                    ctx.diagnostics.clear();
                    ctx.syntax_error(0, "the YAML parser failed on this file", None);
                    Vec::new()
                }
            }
        }
    };
    let mut diagnostics = ctx.diagnostics;
    diagnostics.sort_by_key(|d| (d.span.byte_range.start, d.code));
    Parsed {
        documents,
        diagnostics,
    }
}

/// Parses raw bytes: text that is not UTF-8 is one SIG001 at the first invalid byte.
pub fn parse_bytes(bytes: &[u8], options: &ParseOptions) -> Parsed {
    parse_bytes_with(bytes, options, true)
}

fn parse_bytes_with(bytes: &[u8], options: &ParseOptions, tree: bool) -> Parsed {
    match std::str::from_utf8(bytes) {
        Ok(source) => parse_with(source, options, tree),
        Err(error) => {
            let valid = error.valid_up_to();
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            let index = LineIndex::new(prefix);
            let (line, column) = index.position(valid);
            let span = Span {
                byte_range: valid..valid + 1,
                line,
                column,
                end_line: line,
                end_column: column + 1,
            };
            Parsed {
                documents: Vec::new(),
                diagnostics: vec![Diagnostic::new(
                    Code::Syntax,
                    format!("the file is not valid UTF-8 (invalid byte at offset {valid})"),
                    span,
                )],
            }
        }
    }
}
