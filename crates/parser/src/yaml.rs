//! YAML: saphyr-parser's events turned into the document tree, with exact positions, merge keys
//! applied (YAML 1.1: explicit keys win; in `<<: [*a, *b]` earlier maps win) and aliases expanded
//! as copies that keep the anchor's spans.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle as YamlStyle, Span as YamlSpan, StrInput, Tag};

use crate::align::align;
use crate::context::{Context, Pointer, RawMap};
use crate::tree::{child_pointer, push_index_token};
use crate::{
    Code, Diagnostic, Document, Entry, Key, Node, NodeKind, ScalarStyle, push_pointer_token,
};

/// Deeper nesting than this is reported instead of followed (no real config comes close).
const MAX_DEPTH: usize = 256;

/// Reads every document of `source` (the whole file; a BOM is skipped).
///
/// Leniency: like PyYAML and go-yaml, continuation lines of quoted scalars and flow collections
/// may be indented less than YAML 1.2 requires (many published Argo and Kubernetes manifests
/// close a flow sequence at the key's indentation). The YAML library rejects them, so such a
/// line is read again with extra leading spaces; positions are corrected back to the file.
///
/// With `tree` false only the diagnostics are wanted: mappings and sequences come back empty
/// (but for anchored ones and merge-key values, whose content aliases and merges need), so no
/// tree is built and each value is freed as soon as it has been checked.
pub(crate) fn read<'s>(ctx: &mut Context<'s>, source: &'s str, tree: bool) -> Vec<Document> {
    const MAX_RETRIES: usize = 64;
    let bom = if source.starts_with('\u{feff}') { 3 } else { 0 };
    let text = &source[bom..];
    let initial = ctx.diagnostics.len();
    let mut pads: Vec<usize> = Vec::new();
    let mut attempt = 0;
    loop {
        let patched = if pads.is_empty() {
            std::borrow::Cow::Borrowed(text)
        } else {
            std::borrow::Cow::Owned(pad_lines(text, &pads))
        };
        let mut reader = Reader {
            ctx: &mut *ctx,
            source,
            pads: &pads,
            parser: Parser::new_from_str(&patched),
            anchors: HashMap::new(),
            entry_stack: Vec::new(),
            item_stack: Vec::new(),
            key_stack: Vec::new(),
            tree,
            keep_depth: 0,
            document: 0,
            // Aliases may copy at most this many nodes in total (a "billion laughs" file stops here).
            budget: 100_000 + source.len() * 4,
            last_error: None,
        };
        let mut documents = Vec::new();
        // A syntax error has been reported when `run` stops early; the documents read so far stay.
        let _ = reader.run(&mut documents);
        let error = reader.last_error.take();
        let retry = match error {
            Some((line, column, info)) if attempt < MAX_RETRIES => {
                lines_to_pad(&patched, line, column, &info)
            }
            _ => Vec::new(),
        };
        if retry.is_empty() {
            return documents;
        }
        attempt += 1;
        ctx.diagnostics.truncate(initial);
        for line in retry {
            if pads.len() < line {
                pads.resize(line, 0);
            }
            pads[line - 1] += 1;
        }
    }
}

/// The lines to indent by one more space to get past a leniently accepted indentation error
/// (1-based), or nothing when the error is a real one.
fn lines_to_pad(text: &str, line: usize, column: usize, info: &str) -> Vec<usize> {
    let Some(line_start) = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .try_fold(0usize, |a, b| a.checked_add(b))
    else {
        return Vec::new();
    };
    let Some(at) = text[line_start..]
        .char_indices()
        .nth(column)
        .map(|(i, _)| line_start + i)
    else {
        return Vec::new();
    };
    match info {
        "invalid indentation in quoted scalar" => {
            let Some(end) = quoted_end(text, at) else {
                return Vec::new();
            };
            let last = line + text[at..end].matches('\n').count();
            (line + 1..=last).collect()
        }
        "invalid indentation in flow construct" => vec![line],
        "invalid indentation" if text[at..].starts_with([']', '}', ',']) => vec![line],
        _ => Vec::new(),
    }
}

/// The offset just past the quoted scalar whose opening quote is at `at`.
fn quoted_end(text: &str, at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = *bytes.get(at)?;
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b if b == quote => {
                if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                return Some(i + 1);
            }
            _ => i += 1,
        }
    }
    None
}

fn pad_lines(text: &str, pads: &[usize]) -> String {
    let mut out = String::with_capacity(text.len() + pads.iter().sum::<usize>());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        for _ in 0..pads.get(i).copied().unwrap_or(0) {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

/// Reading stopped at a syntax error, which has been reported.
struct Stop;

/// Where a collection read so far ends: the byte offset, and the line it is probably on (the
/// line of whatever set it), so the collection's span needs no line search.
#[derive(Clone, Copy)]
struct End {
    offset: usize,
    line: usize,
}

impl End {
    fn at(offset: usize, line: usize) -> End {
        End { offset, line }
    }

    /// Moves the end to `offset` (on `line`) if that is further.
    fn extend(&mut self, offset: usize, line: usize) {
        if offset > self.offset {
            *self = End { offset, line };
        }
    }

    fn extend_to_span(&mut self, span: &crate::Span) {
        self.extend(span.byte_range.end, span.end_line);
    }
}

/// The JSON pointer of the node being read, as a chain of tokens on the reader's stack (each
/// link lives in the frame that reads the node): a pointer string is written out only for what
/// needs one (a reference, a diagnostic, an anchor), never for the other values.
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    token: Token<'a>,
}

#[derive(Clone, Copy)]
enum Token<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    const ROOT: Path<'static> = Path {
        parent: None,
        token: Token::Root,
    };

    fn key(&'a self, key: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            token: Token::Key(key),
        }
    }

    fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            token: Token::Index(index),
        }
    }
}

impl Pointer for Path<'_> {
    fn write_to(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write_to(out);
        }
        match self.token {
            Token::Root => {}
            Token::Key(key) => push_pointer_token(out, key),
            Token::Index(index) => push_index_token(out, index),
        }
    }
}

struct Reader<'c, 's, 'p> {
    ctx: &'c mut Context<'s>,
    source: &'s str,
    /// Spaces added at the start of each line (see [`read`]).
    pads: &'c [usize],
    parser: Parser<'p, StrInput<'p>>,
    /// Anchored nodes, each with the length of the pointer it had.
    anchors: HashMap<usize, (Node, usize)>,
    /// The entries, items and keys of the mappings and sequences being read, innermost last:
    /// each collection pushes on top and takes its own off at its end, so a collection's
    /// `Vec` is allocated once, at its exact size, and never grows.
    entry_stack: Vec<Entry>,
    item_stack: Vec<Node>,
    /// Without the tree, a mapping keeps only its keys (for duplicates), here.
    key_stack: Vec<Key>,
    /// Whether the caller wants the document tree (see [`read`]).
    tree: bool,
    /// How many anchored nodes or merge-key values are being read: their content is kept even
    /// without `tree`.
    keep_depth: usize,
    document: usize,
    budget: usize,
    /// Line, column and message of the YAML library's error, if it stopped with one.
    last_error: Option<(usize, usize, String)>,
}

impl<'p> Reader<'_, '_, 'p> {
    fn run(&mut self, documents: &mut Vec<Document>) -> Result<(), Stop> {
        loop {
            let (event, _) = self.next()?;
            match event {
                Event::StreamEnd => return Ok(()),
                Event::DocumentStart(_) => {
                    self.anchors.clear();
                    let (event, span) = self.next()?;
                    let root = self.node(event, span, 0, &Path::ROOT)?;
                    documents.push(Document {
                        root,
                        index: self.document,
                    });
                    // The DocumentEnd event.
                    self.next()?;
                    self.document += 1;
                }
                _ => {}
            }
        }
    }

    #[inline]
    fn next(&mut self) -> Result<(Event<'p>, YamlSpan), Stop> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err(self.scan_error(&error)),
            None => Err(Stop),
        }
    }

    #[cold]
    fn scan_error(&mut self, error: &saphyr_parser::ScanError) -> Stop {
        let offset = self.offset(*error.marker());
        let document = Some(self.document);
        self.last_error = Some((
            error.marker().line(),
            error.marker().col(),
            error.info().to_owned(),
        ));
        self.ctx
            .syntax_error(offset, error.info().to_owned(), document);
        Stop
    }

    fn offset(&self, marker: saphyr_parser::Marker) -> usize {
        let pad = self
            .pads
            .get(marker.line().wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        self.ctx
            .index
            .offset_of(marker.line(), marker.col().saturating_sub(pad))
    }

    /// Whether the content of the collection being read is kept.
    fn keeping(&self) -> bool {
        self.tree || self.keep_depth > 0
    }

    /// The span of an event that starts at byte `start` (its start marker's [`Self::offset`]),
    /// from the YAML library's lines and columns (no line search).
    fn span_of(&self, start: usize, span: YamlSpan) -> crate::Span {
        let point = |marker: saphyr_parser::Marker| {
            let pad = self
                .pads
                .get(marker.line().wrapping_sub(1))
                .copied()
                .unwrap_or(0);
            (marker.line(), marker.col().saturating_sub(pad))
        };
        self.ctx
            .index
            .span_at_from(start, point(span.start), point(span.end))
    }

    fn error(&mut self, offset: usize, message: &str) -> Stop {
        let document = Some(self.document);
        self.ctx.syntax_error(offset, message, document);
        Stop
    }

    /// Reads the node that starts with `event`, whose pointer is `path`.
    fn node(
        &mut self,
        event: Event<'p>,
        span: YamlSpan,
        depth: usize,
        path: &Path<'_>,
    ) -> Result<Node, Stop> {
        let start = self.offset(span.start);
        if depth > MAX_DEPTH {
            return Err(self.error(start, "nesting deeper than 256 levels"));
        }
        // Each kind builds its node where it is returned: a node is large, and moving it costs.
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let (scalar, node_span) = self.scalar(value.into_owned(), style, start, span, path);
                let node = Node {
                    kind: NodeKind::Scalar(scalar),
                    span: node_span,
                    tag: tag_text(tag.as_deref()),
                };
                if anchor > 0 {
                    self.remember(anchor, &node, path);
                }
                Ok(node)
            }
            Event::SequenceStart(anchor, tag) => {
                self.keep_depth += usize::from(anchor > 0);
                let keep = self.keeping();
                let base = self.item_stack.len();
                let mut index = 0;
                let mut end = End::at(self.offset(span.end), span.end.line());
                loop {
                    let (event, span) = self.next()?;
                    if let Event::SequenceEnd = event {
                        if span.end.index() > span.start.index() {
                            end.extend(self.offset(span.end), span.end.line());
                        }
                        break;
                    }
                    let item_path = path.index(index);
                    if keep {
                        let item = self.node(event, span, depth + 1, &item_path)?;
                        end.extend_to_span(&item.span);
                        self.item_stack.push(item);
                    } else {
                        let item_end =
                            self.check_value(event, span, depth + 1, None, &item_path)?;
                        end.extend(item_end.offset, item_end.line);
                    }
                    index += 1;
                }
                let items = if keep {
                    self.item_stack.split_off(base)
                } else {
                    Vec::new()
                };
                self.keep_depth -= usize::from(anchor > 0);
                let node = Node {
                    kind: NodeKind::Sequence(items),
                    span: (self.ctx.index).span_near(
                        start..end.offset,
                        span.start.line(),
                        end.line,
                    ),
                    tag: tag_text(tag.as_deref()),
                };
                if anchor > 0 {
                    self.remember(anchor, &node, path);
                }
                Ok(node)
            }
            Event::MappingStart(anchor, tag) => {
                self.keep_depth += usize::from(anchor > 0);
                let end = End::at(self.offset(span.end), span.end.line());
                let (entries, end) = self.mapping(start, end, depth, path)?;
                self.keep_depth -= usize::from(anchor > 0);
                let node = Node {
                    kind: NodeKind::Mapping(entries),
                    span: (self.ctx.index).span_near(
                        start..end.offset,
                        span.start.line(),
                        end.line,
                    ),
                    tag: tag_text(tag.as_deref()),
                };
                if anchor > 0 {
                    self.remember(anchor, &node, path);
                }
                Ok(node)
            }
            Event::Alias(id) => {
                let Some((anchored, anchored_len)) = self.anchors.get(&id) else {
                    return Err(self.error(start, "unknown anchor"));
                };
                let size = anchored.size();
                if size > self.budget {
                    return Err(self.error(start, "aliases expand to too many nodes"));
                }
                self.budget -= size;
                let mut copy = anchored.clone();
                copy.repoint(*anchored_len, &path.text());
                Ok(copy)
            }
            _ => Err(self.error(start, "unexpected event in a node")),
        }
    }

    /// Keeps a copy of an anchored node for its aliases, with the length of its pointer.
    fn remember(&mut self, anchor: usize, node: &Node, path: &Path<'_>) {
        self.anchors
            .insert(anchor, (node.clone(), path.text().len()));
    }

    /// A value scalar that starts at byte `start`, scanned and checked, with its span.
    #[inline]
    fn scalar(
        &mut self,
        text: String,
        style: YamlStyle,
        start: usize,
        span: YamlSpan,
        path: &Path<'_>,
    ) -> (crate::Scalar, crate::Span) {
        let node_span = self.span_of(start, span);
        let end = node_span.byte_range.end;
        let style = convert_style(style);
        let source = self.source;
        let scalar = self
            .ctx
            .value_scalar(text, style, &node_span, path, self.document, |text| {
                raw_map(source, start, end, style, text)
            });
        (scalar, node_span)
    }

    /// Without the tree: checks the node that starts with `event` (the value of `key`, if it is
    /// a mapping value) and returns the byte offset where it ends. A plain value scalar is
    /// checked without being made a node.
    fn check_value(
        &mut self,
        event: Event<'p>,
        span: YamlSpan,
        depth: usize,
        key: Option<&str>,
        path: &Path<'_>,
    ) -> Result<End, Stop> {
        match event {
            Event::Scalar(value, style, 0, _) if depth <= MAX_DEPTH => {
                let start = self.offset(span.start);
                let (scalar, span) = self.scalar(value.into_owned(), style, start, span, path);
                if let Some(key) = key {
                    self.ctx.check_named_credential_scalar(
                        key,
                        &scalar,
                        &span,
                        path,
                        self.document,
                    );
                }
                Ok(End::at(span.byte_range.end, span.end_line))
            }
            event => {
                let value = self.node(event, span, depth, path)?;
                if let Some(key) = key {
                    self.ctx
                        .check_named_credential(key, &value, path, self.document);
                }
                Ok(End::at(value.span.byte_range.end, value.span.end_line))
            }
        }
    }

    /// Reads the entries of a mapping (whose pointer is `path`) up to its end; returns them
    /// (merge keys applied) and the byte offset where the mapping ends.
    fn mapping(
        &mut self,
        start: usize,
        mut end: End,
        depth: usize,
        path: &Path<'_>,
    ) -> Result<(Vec<Entry>, End), Stop> {
        // Written entries in order (on `entry_stack` above `base`; without the tree, only the keys,
        // on `key_stack`); merge sources with the number of written entries before them.
        let base = if self.keeping() {
            self.entry_stack.len()
        } else {
            self.key_stack.len()
        };
        // Each merge source with the length of the pointer its nodes had.
        let mut merges: Vec<(usize, Vec<(Node, usize)>)> = Vec::new();
        let keep = self.keeping();
        loop {
            let (event, span) = self.next()?;
            if let Event::MappingEnd = event {
                if span.end.index() > span.start.index() {
                    end.extend(self.offset(span.end), span.end.line());
                }
                break;
            }
            let (key, merge) = self.key(event, span, depth, path)?;
            end.extend_to_span(&key.span);
            let (event, span) = self.next()?;
            if merge {
                self.keep_depth += 1;
                let value = self.node(event, span, depth + 1, path);
                self.keep_depth -= 1;
                let value = value?;
                end.extend_to_span(&value.span);
                let pointer_len = path.text().len();
                let sources = match value.kind {
                    NodeKind::Mapping(_) => vec![(value, pointer_len)],
                    NodeKind::Sequence(items)
                        if items.iter().all(|i| matches!(i.kind, NodeKind::Mapping(_))) =>
                    {
                        // Each item had the pointer of its index in the sequence.
                        let mut token = String::new();
                        items
                            .into_iter()
                            .enumerate()
                            .map(|(index, item)| {
                                token.clear();
                                push_index_token(&mut token, index);
                                (item, pointer_len + token.len())
                            })
                            .collect()
                    }
                    _ => {
                        let document = self.document;
                        self.ctx.diagnostics.push(
                            Diagnostic::new(
                                Code::Syntax,
                                "the merge key `<<` needs a mapping or a list of mappings",
                                value.span.clone(),
                            )
                            .with_pointer(path.text())
                            .with_document(document),
                        );
                        Vec::new()
                    }
                };
                let written = if keep {
                    self.entry_stack.len()
                } else {
                    self.key_stack.len()
                };
                merges.push((written - base, sources));
            } else if keep {
                let value_path = path.key(&key.text);
                let value = self.node(event, span, depth + 1, &value_path)?;
                self.ctx
                    .check_named_credential(&key.text, &value, &value_path, self.document);
                end.extend_to_span(&value.span);
                self.entry_stack.push(Entry {
                    key,
                    value,
                    merged: false,
                });
            } else {
                let value_path = path.key(&key.text);
                let value_end =
                    self.check_value(event, span, depth + 1, Some(&key.text), &value_path)?;
                end.extend(value_end.offset, value_end.line);
                // Only the key is needed (for duplicates): the value is already freed.
                self.key_stack.push(key);
            }
        }
        let _ = start;
        if !keep {
            let keys = std::mem::take(&mut self.key_stack);
            self.report_duplicates(&keys[base..], |key| key, path);
            self.key_stack = keys;
            self.key_stack.truncate(base);
            // Merged entries bring no diagnostics: only the tree needs them.
            return Ok((Vec::new(), end));
        }
        let entries = self.entry_stack.split_off(base);
        self.report_duplicates(&entries, |entry| &entry.key, path);
        if merges.is_empty() {
            return Ok((entries, end));
        }

        // Merge keys (YAML 1.1): written keys win; among merged maps, the first one wins. Merged
        // entries take the place of their `<<` key.
        let pointer = path.text();
        let pointer_len = pointer.len();
        let written: HashSet<&str> = entries.iter().map(|e| e.key.text.as_str()).collect();
        let mut merged_keys: HashSet<String> = HashSet::new();
        let mut inserts: Vec<(usize, Vec<Entry>)> = Vec::new();
        for (position, sources) in merges {
            let mut batch = Vec::new();
            for (source, source_len) in sources {
                let NodeKind::Mapping(source_entries) = source.kind else {
                    continue;
                };
                for mut entry in source_entries {
                    if written.contains(entry.key.text.as_str())
                        || !merged_keys.insert(entry.key.text.clone())
                    {
                        continue;
                    }
                    // The value's pointer was the source's and its key; now it is this mapping's
                    // and the key.
                    let new_pointer = child_pointer(&pointer, &entry.key.text);
                    let old_len = source_len + (new_pointer.len() - pointer_len);
                    entry.value.repoint(old_len, &new_pointer);
                    entry.merged = true;
                    batch.push(entry);
                }
            }
            inserts.push((position, batch));
        }
        drop(written);
        let mut all =
            Vec::with_capacity(entries.len() + inserts.iter().map(|(_, b)| b.len()).sum::<usize>());
        let mut written = entries.into_iter();
        let mut taken = 0;
        for (position, batch) in inserts {
            all.extend(written.by_ref().take(position - taken));
            taken = position;
            all.extend(batch);
        }
        all.extend(written);
        Ok((all, end))
    }

    /// SIG005 for every written key that repeats an earlier one: never a silent last-wins.
    fn report_duplicates<T>(&mut self, entries: &[T], key: impl Fn(&T) -> &Key, path: &Path<'_>) {
        if entries.len() < 2 {
            return;
        }
        let mut duplicates: Vec<(&Key, &Key)> = Vec::new();
        if entries.len() <= 32 {
            for (j, entry) in entries.iter().enumerate().skip(1) {
                if let Some(first) = entries[..j].iter().find(|e| key(e).text == key(entry).text) {
                    duplicates.push((key(entry), key(first)));
                }
            }
        } else {
            let mut order: Vec<usize> = (0..entries.len()).collect();
            order.sort_by(|&a, &b| {
                key(&entries[a])
                    .text
                    .cmp(&key(&entries[b]).text)
                    .then(a.cmp(&b))
            });
            let mut run_start = 0;
            for i in 1..order.len() {
                if key(&entries[order[i]]).text == key(&entries[order[run_start]]).text {
                    duplicates.push((key(&entries[order[i]]), key(&entries[order[run_start]])));
                } else {
                    run_start = i;
                }
            }
            duplicates.sort_by_key(|(key, _)| key.span.byte_range.start);
        }
        for (key, first) in duplicates {
            let document = self.document;
            self.ctx.diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateKey,
                    format!("duplicate key `{}`", key.text),
                    key.span.clone(),
                )
                .with_pointer(child_pointer(&path.text(), &key.text))
                .with_document(document)
                .with_note(format!(
                    "first defined at line {}, column {}",
                    first.span.line, first.span.column
                ))
                .with_help(
                    "remove one of the two entries; sigil never lets the last one win silently",
                ),
            );
        }
    }

    /// Reads a mapping key (of the mapping whose pointer is `path`); returns it and whether it is
    /// the merge key `<<`.
    fn key(
        &mut self,
        event: Event<'p>,
        span: YamlSpan,
        depth: usize,
        path: &Path<'_>,
    ) -> Result<(Key, bool), Stop> {
        let start = self.offset(span.start);
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let key_span = self.span_of(start, span);
                let end = key_span.byte_range.end;
                let style = convert_style(style);
                let merge = style == ScalarStyle::Plain && tag.is_none() && value == "<<";
                let source = self.source;
                self.ctx
                    .key_scalar(&value, &key_span, path, self.document, |text| {
                        raw_map(source, start, end, style, text)
                    });
                let text = value.into_owned();
                if anchor > 0 {
                    let key_pointer_len = child_pointer(&path.text(), &text).len();
                    let scalar = crate::Scalar::new(
                        text.clone(),
                        style,
                        vec![crate::Segment::Text(0..text.len())],
                    );
                    let node = Node {
                        kind: NodeKind::Scalar(scalar),
                        span: key_span.clone(),
                        tag: None,
                    };
                    self.anchors.insert(anchor, (node, key_pointer_len));
                }
                Ok((
                    Key {
                        text,
                        span: key_span,
                        style,
                    },
                    merge,
                ))
            }
            event => {
                // An alias or a complex key: its text is the node's scalar text, or its raw source.
                let node = self.node(event, span, depth + 1, path)?;
                let text = match &node.kind {
                    NodeKind::Scalar(scalar) => scalar.text().to_owned(),
                    _ => self.source[node.span.byte_range.clone()].to_owned(),
                };
                let style = node
                    .as_scalar()
                    .map_or(ScalarStyle::Plain, crate::Scalar::style);
                Ok((
                    Key {
                        text,
                        span: node.span,
                        style,
                    },
                    false,
                ))
            }
        }
    }
}

fn convert_style(style: YamlStyle) -> ScalarStyle {
    match style {
        YamlStyle::Plain => ScalarStyle::Plain,
        YamlStyle::SingleQuoted => ScalarStyle::SingleQuoted,
        YamlStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
        YamlStyle::Literal => ScalarStyle::Literal,
        YamlStyle::Folded => ScalarStyle::Folded,
    }
}

fn tag_text(tag: Option<&Tag>) -> Option<String> {
    tag.map(|tag| format!("{}{}", tag.handle, tag.suffix))
}

/// The raw text a scalar was decoded from, aligned with its decoded text.
fn raw_map(
    source: &str,
    start: usize,
    end: usize,
    style: ScalarStyle,
    text: &str,
) -> Option<RawMap> {
    let (base, raw_end) = match style {
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            if end < start + 2 || !matches!(source.as_bytes().get(start), Some(b'\'' | b'"')) {
                return None;
            }
            (start + 1, end - 1)
        }
        ScalarStyle::Literal | ScalarStyle::Folded => (block_content_start(source, start), end),
        _ => (start, end),
    };
    let raw = source.get(base..raw_end)?;
    align(text, raw, style).map(|map| (base, map))
}

/// Block scalar spans start at the first content character; the content (leading empty or
/// more-indented lines included) starts on the line after the `|`/`>` header.
fn block_content_start(source: &str, start: usize) -> usize {
    let bytes = source.as_bytes();
    let mut i = start.min(bytes.len());
    while i > 0 && matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r') {
        i -= 1;
    }
    match source[i..].find('\n') {
        Some(k) if i + k < start => i + k + 1,
        _ => start,
    }
}
