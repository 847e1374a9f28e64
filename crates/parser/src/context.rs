//! What the YAML and JSON readers share: turning a decoded scalar into segments, references and
//! diagnostics, and the hardcoded-credential checks.

use std::ops::Range;

use crate::scan::{Found, Problem, might_contain, scan};
use crate::{
    Code, Diagnostic, LineIndex, Node, NodeKind, ParseOptions, Reference, Scalar, ScalarStyle,
    Segment, Span, credential,
};

/// Maps decoded byte offsets of one scalar to raw byte ranges: a base offset in the file and,
/// per decoded byte, the raw range relative to that base.
pub(crate) type RawMap = (usize, Vec<(u32, u32)>);

/// The JSON pointer of the value being read, written out only when something needs it (a
/// reference, a diagnostic): the YAML reader's pointer is a chain of tokens on its stack, and
/// most values need none.
pub(crate) trait Pointer {
    /// Appends the pointer to `out`.
    fn write_to(&self, out: &mut String);

    /// The pointer as a string.
    fn text(&self) -> String {
        let mut out = String::new();
        self.write_to(&mut out);
        out
    }
}

impl Pointer for str {
    fn write_to(&self, out: &mut String) {
        out.push_str(self);
    }

    fn text(&self) -> String {
        self.to_owned()
    }
}

pub(crate) struct Context<'s> {
    pub index: LineIndex<'s>,
    pub options: &'s ParseOptions,
    pub diagnostics: Vec<Diagnostic>,
    /// Byte ranges of well-known credential shapes anywhere in the file (usually none).
    prefixed: Vec<(Range<usize>, &'static str)>,
}

impl<'s> Context<'s> {
    pub(crate) fn new(source: &'s str, options: &'s ParseOptions) -> Context<'s> {
        let prefixed = if options.credential_check {
            credential::find_prefixed(source)
        } else {
            Vec::new()
        };
        Context {
            index: LineIndex::new(source),
            options,
            diagnostics: Vec::new(),
            prefixed,
        }
    }

    pub(crate) fn span(&self, range: Range<usize>) -> Span {
        self.index.span(range)
    }

    pub(crate) fn syntax_error(
        &mut self,
        offset: usize,
        message: impl Into<String>,
        document: Option<usize>,
    ) {
        let end = next_char_boundary(self.index.text(), offset);
        let mut diagnostic = Diagnostic::new(Code::Syntax, message, self.index.span(offset..end));
        diagnostic.document = document;
        self.diagnostics.push(diagnostic);
    }

    /// Builds a value scalar: scans its text, locates what it finds, reports problems.
    pub(crate) fn value_scalar(
        &mut self,
        text: String,
        style: ScalarStyle,
        span: &Span,
        pointer: &(impl Pointer + ?Sized),
        document: usize,
        raw_map: impl FnOnce(&str) -> Option<RawMap>,
    ) -> Scalar {
        if !self.prefixed.is_empty() {
            self.check_prefixed(span, pointer, document);
        }
        if !might_contain(&text, self.options.dialect) {
            return Scalar::text_only(text, style);
        }
        let found = scan(&text, self.options.dialect);
        if found.is_empty() {
            return Scalar::text_only(text, style);
        }
        let pointer = pointer.text();
        let pointer = pointer.as_str();
        let map = raw_map(&text);
        let locate = |range: &Range<usize>| locate(&self.index, map.as_ref(), range, span);
        let mut segments = Vec::with_capacity(found.found.len() * 2 + 1);
        let mut at = 0;
        for item in found.found {
            let range = item.range().clone();
            if range.start > at {
                segments.push(Segment::Text(at..range.start));
            }
            at = range.end;
            match item {
                Found::Reference { range, kind, form } => {
                    segments.push(Segment::Reference(Box::new(Reference {
                        kind,
                        form,
                        span: locate(&range),
                        pointer: pointer.to_owned(),
                        document,
                    })))
                }
                Found::Escape { literal, .. } => segments.push(Segment::Text(literal)),
            }
        }
        if at < text.len() {
            segments.push(Segment::Text(at..text.len()));
        }
        for problem in found.problems {
            let span = locate(&problem.range);
            self.diagnostics
                .push(problem_diagnostic(problem, span, pointer, document));
        }
        Scalar::new(text, style, segments)
    }

    /// Scans a key: any reference (or malformed reference) in it is reported; the key stays text.
    /// `mapping_pointer` is the pointer of the mapping that holds the key.
    pub(crate) fn key_scalar(
        &mut self,
        text: &str,
        span: &Span,
        mapping_pointer: &(impl Pointer + ?Sized),
        document: usize,
        raw_map: impl FnOnce(&str) -> Option<RawMap>,
    ) {
        if !might_contain(text, self.options.dialect) {
            return;
        }
        let found = scan(text, self.options.dialect);
        if found.is_empty() {
            return;
        }
        let mut pointer = mapping_pointer.text();
        crate::push_pointer_token(&mut pointer, text);
        let pointer = pointer.as_str();
        let map = raw_map(text);
        for item in &found.found {
            if let Found::Reference { range, .. } = item {
                let span = locate(&self.index, map.as_ref(), range, span);
                self.diagnostics.push(
                    Diagnostic::new(Code::ReferenceInKey, "reference in a mapping key", span)
                        .with_pointer(pointer)
                        .with_document(document)
                        .with_help("keys are never substituted: move the reference into the value"),
                );
            }
        }
        for problem in found.problems {
            let span = locate(&self.index, map.as_ref(), &problem.range, span);
            self.diagnostics
                .push(problem_diagnostic(problem, span, pointer, document));
        }
    }

    /// SIG202 for a value whose key names a credential and whose text looks generated.
    pub(crate) fn check_named_credential(
        &mut self,
        key: &str,
        value: &Node,
        pointer: &(impl Pointer + ?Sized),
        document: usize,
    ) {
        if !self.options.credential_check {
            return;
        }
        let NodeKind::Scalar(scalar) = &value.kind else {
            return;
        };
        self.check_named_credential_scalar(key, scalar, &value.span, pointer, document);
    }

    /// [`Self::check_named_credential`] for a scalar value that is not (yet) in a node.
    pub(crate) fn check_named_credential_scalar(
        &mut self,
        key: &str,
        scalar: &Scalar,
        span: &Span,
        pointer: &(impl Pointer + ?Sized),
        document: usize,
    ) {
        if !self.options.credential_check {
            return;
        }
        // The value test fails fast (length, then alphabet) for almost every value: run it first.
        if !credential::looks_random(scalar.text())
            || scalar.has_references()
            || !credential::is_credential_key(key)
        {
            return;
        }
        if self
            .prefixed
            .iter()
            .any(|(range, _)| contains(&span.byte_range, range))
        {
            return; // already reported by its prefix
        }
        self.diagnostics.push(
            Diagnostic::new(
                Code::HardcodedCredential,
                format!("`{key}` holds a literal that looks like a credential"),
                span.clone(),
            )
            .with_pointer(pointer.text())
            .with_document(document)
            .with_help(
                "store the value with `sigil secrets set NAME` and write `<<secrets.NAME>>` here",
            ),
        );
    }

    fn check_prefixed(&mut self, span: &Span, pointer: &(impl Pointer + ?Sized), document: usize) {
        let first = self
            .prefixed
            .partition_point(|(range, _)| range.start < span.byte_range.start);
        let hits: Vec<(Range<usize>, &'static str)> = self.prefixed[first..]
            .iter()
            .take_while(|(range, _)| range.start < span.byte_range.end)
            .filter(|(range, _)| range.end <= span.byte_range.end)
            .cloned()
            .collect();
        for (range, label) in hits {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::HardcodedCredential,
                    format!("literal that looks like {label}"),
                    self.index.span(range),
                )
                .with_pointer(pointer.text())
                .with_document(document)
                .with_help("store the value with `sigil secrets set NAME` and write `<<secrets.NAME>>` here"),
            );
        }
    }
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// The raw span of a decoded range; the whole scalar when no map is available.
fn locate(
    index: &LineIndex<'_>,
    map: Option<&RawMap>,
    range: &Range<usize>,
    fallback: &Span,
) -> Span {
    match map {
        Some((base, map)) if range.end > range.start && range.end <= map.len() => {
            let start = base + map[range.start].0 as usize;
            let end = base + map[range.end - 1].1 as usize;
            index.span(start..end)
        }
        _ => fallback.clone(),
    }
}

fn problem_diagnostic(problem: Problem, span: Span, pointer: &str, document: usize) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(problem.code, problem.message, span)
        .with_pointer(pointer)
        .with_document(document);
    diagnostic.help = problem.help;
    diagnostic
}

fn next_char_boundary(text: &str, offset: usize) -> usize {
    if offset >= text.len() {
        return text.len();
    }
    let mut end = offset + 1;
    while !text.is_char_boundary(end) {
        end += 1;
    }
    end
}
