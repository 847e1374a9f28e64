//! JSON (RFC 8259) with its own scanner, so every node has a span and surrogate-pair escapes such
//! as `\ud83d\ude00` decode as JSON defines them. A string written with escapes
//! (`\u003c\u003csecrets.x>>`) is scanned once decoded and located at the raw `\u003c`.

use crate::context::Context;
use crate::{Document, Entry, Key, Node, NodeKind, ScalarStyle};

const MAX_DEPTH: usize = 256;

/// Reads the one JSON document of `source`. On a syntax error, reports SIG001 and returns no
/// document.
pub(crate) fn read<'s>(ctx: &mut Context<'s>, source: &'s str) -> Vec<Document> {
    let start = if source.starts_with('\u{feff}') { 3 } else { 0 };
    let mut reader = Reader {
        ctx,
        source,
        bytes: source.as_bytes(),
        at: start,
    };
    match reader.document() {
        Ok(root) => vec![Document { root, index: 0 }],
        Err(Stop) => Vec::new(),
    }
}

/// Whether `source` is valid JSON (used by format detection; reports nothing).
pub(crate) fn is_json(source: &str) -> bool {
    let options = crate::ParseOptions::default().credential_check(false);
    let mut ctx = Context::new(source, &options);
    let documents = read(&mut ctx, source);
    !documents.is_empty() && ctx.diagnostics.is_empty()
}

struct Stop;

struct Reader<'c, 's> {
    ctx: &'c mut Context<'s>,
    source: &'s str,
    bytes: &'s [u8],
    at: usize,
}

impl Reader<'_, '_> {
    fn document(&mut self) -> Result<Node, Stop> {
        self.skip_whitespace();
        if self.at >= self.bytes.len() {
            return Err(self.error("empty JSON document: expected a value"));
        }
        let root = self.value("", 0)?;
        self.skip_whitespace();
        if self.at < self.bytes.len() {
            return Err(self.error("unexpected content after the JSON value"));
        }
        Ok(root)
    }

    fn error(&mut self, message: &str) -> Stop {
        let at = self.at;
        self.ctx.syntax_error(at, message, Some(0));
        Stop
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn value(&mut self, pointer: &str, depth: usize) -> Result<Node, Stop> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting deeper than 256 levels"));
        }
        let start = self.at;
        match self.bytes.get(self.at) {
            Some(b'{') => self.object(pointer, depth),
            Some(b'[') => self.array(pointer, depth),
            Some(b'"') => {
                let (text, end) = self.string()?;
                let span = self.ctx.span(start..end);
                let source = self.source;
                let scalar =
                    self.ctx
                        .value_scalar(text, ScalarStyle::JsonString, &span, pointer, 0, |_| {
                            decode_string(source, start)
                                .ok()
                                .map(|(_, map, _)| (start + 1, map))
                        });
                Ok(Node {
                    kind: NodeKind::Scalar(scalar),
                    span,
                    tag: None,
                })
            }
            Some(b't') => self.literal("true", ScalarStyle::JsonBool),
            Some(b'f') => self.literal("false", ScalarStyle::JsonBool),
            Some(b'n') => self.literal("null", ScalarStyle::JsonNull),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a JSON value")),
            None => Err(self.error("unexpected end of input: expected a JSON value")),
        }
    }

    fn literal(&mut self, word: &str, style: ScalarStyle) -> Result<Node, Stop> {
        if !self.bytes[self.at..].starts_with(word.as_bytes()) {
            return Err(self.error("expected a JSON value"));
        }
        let start = self.at;
        self.at += word.len();
        Ok(self.plain_scalar(start, style))
    }

    fn plain_scalar(&mut self, start: usize, style: ScalarStyle) -> Node {
        let span = self.ctx.span(start..self.at);
        let text = self.source[start..self.at].to_owned();
        let scalar = crate::Scalar::text_only(text, style);
        Node {
            kind: NodeKind::Scalar(scalar),
            span,
            tag: None,
        }
    }

    fn number(&mut self) -> Result<Node, Stop> {
        let start = self.at;
        let digits = |reader: &mut Self| {
            let from = reader.at;
            while reader.bytes.get(reader.at).is_some_and(u8::is_ascii_digit) {
                reader.at += 1;
            }
            reader.at > from
        };
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        match self.bytes.get(self.at) {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("invalid number: expected a digit")),
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            if !digits(self) {
                return Err(self.error("invalid number: expected a digit after `.`"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            if !digits(self) {
                return Err(self.error("invalid number: expected a digit in the exponent"));
            }
        }
        Ok(self.plain_scalar(start, ScalarStyle::JsonNumber))
    }

    /// Reads a string at `"`; returns its decoded text and the offset after the closing quote.
    fn string(&mut self) -> Result<(String, usize), Stop> {
        let start = self.at;
        // Fast path: no escapes.
        let mut i = start + 1;
        while let Some(&b) = self.bytes.get(i) {
            match b {
                b'"' => {
                    self.at = i + 1;
                    return Ok((self.source[start + 1..i].to_owned(), i + 1));
                }
                b'\\' => break,
                0..=0x1f => {
                    self.at = i;
                    return Err(self.error("control character in a JSON string: escape it"));
                }
                _ => i += 1,
            }
        }
        match decode_string(self.source, start) {
            Ok((text, _, close)) => {
                self.at = close + 1;
                Ok((text, close + 1))
            }
            Err((offset, message)) => {
                self.at = offset;
                Err(self.error(message))
            }
        }
    }

    fn object(&mut self, pointer: &str, depth: usize) -> Result<Node, Stop> {
        let start = self.at;
        self.at += 1;
        let mut entries: Vec<Entry> = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
        } else {
            loop {
                self.skip_whitespace();
                if self.bytes.get(self.at) != Some(&b'"') {
                    return Err(self.error("expected a string key"));
                }
                let key_start = self.at;
                let (key_text, key_end) = self.string()?;
                let key_span = self.ctx.span(key_start..key_end);
                let value_pointer = crate::tree::child_pointer(pointer, &key_text);
                let source = self.source;
                self.ctx.key_scalar(&key_text, &key_span, pointer, 0, |_| {
                    decode_string(source, key_start)
                        .ok()
                        .map(|(_, map, _)| (key_start + 1, map))
                });
                if let Some(first) = entries.iter().find(|entry| entry.key.text == key_text) {
                    let note = format!(
                        "first defined at line {}, column {}",
                        first.key.span.line, first.key.span.column
                    );
                    self.ctx.diagnostics.push(
                        crate::Diagnostic::new(crate::Code::DuplicateKey, format!("duplicate key `{key_text}`"), key_span.clone())
                            .with_pointer(value_pointer.clone())
                            .with_document(0)
                            .with_note(note)
                            .with_help("remove one of the two entries; sigil never lets the last one win silently"),
                    );
                }
                self.skip_whitespace();
                if self.bytes.get(self.at) != Some(&b':') {
                    return Err(self.error("expected `:` after the key"));
                }
                self.at += 1;
                self.skip_whitespace();
                let value = self.value(&value_pointer, depth + 1)?;
                self.ctx
                    .check_named_credential(&key_text, &value, value_pointer.as_str(), 0);
                entries.push(Entry {
                    key: Key {
                        text: key_text,
                        span: key_span,
                        style: ScalarStyle::JsonString,
                    },
                    value,
                    merged: false,
                });
                self.skip_whitespace();
                match self.bytes.get(self.at) {
                    Some(b',') => self.at += 1,
                    Some(b'}') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(self.error("expected `,` or `}`")),
                }
            }
        }
        let span = self.ctx.span(start..self.at);
        Ok(Node {
            kind: NodeKind::Mapping(entries),
            span,
            tag: None,
        })
    }

    fn array(&mut self, pointer: &str, depth: usize) -> Result<Node, Stop> {
        let start = self.at;
        self.at += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
        } else {
            loop {
                self.skip_whitespace();
                let item_pointer = crate::tree::index_pointer(pointer, items.len());
                items.push(self.value(&item_pointer, depth + 1)?);
                self.skip_whitespace();
                match self.bytes.get(self.at) {
                    Some(b',') => self.at += 1,
                    Some(b']') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(self.error("expected `,` or `]`")),
                }
            }
        }
        let span = self.ctx.span(start..self.at);
        Ok(Node {
            kind: NodeKind::Sequence(items),
            span,
            tag: None,
        })
    }
}

/// Decodes the JSON string whose opening quote is at `start`: its text and, per decoded byte,
/// the raw range (relative to the byte after the opening quote) it came from, and the offset of
/// the closing quote. Errors carry the
/// offset and message of the first problem.
#[allow(clippy::type_complexity)]
fn decode_string(
    source: &str,
    start: usize,
) -> Result<(String, Vec<(u32, u32)>, usize), (usize, &'static str)> {
    let base = start + 1;
    let bytes = source.as_bytes();
    let mut text = String::new();
    let mut map = Vec::new();
    let mut i = base;
    let rel = |at: usize| (at - base) as u32;
    loop {
        let Some(&b) = bytes.get(i) else {
            return Err((i, "unterminated JSON string"));
        };
        match b {
            b'"' => return Ok((text, map, i)),
            b'\\' => {
                let escape_start = i;
                let Some(&e) = bytes.get(i + 1) else {
                    return Err((i, "unterminated JSON string"));
                };
                let c = match e {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\x08',
                    b'f' => '\x0c',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let high = hex4(bytes, i + 2)
                            .ok_or((i, "invalid `\\u` escape: expected four hex digits"))?;
                        i += 6;
                        if (0xD800..0xDC00).contains(&high) {
                            let low = if bytes.get(i) == Some(&b'\\')
                                && bytes.get(i + 1) == Some(&b'u')
                            {
                                hex4(bytes, i + 2)
                            } else {
                                None
                            };
                            match low {
                                Some(low) if (0xDC00..0xE000).contains(&low) => {
                                    i += 6;
                                    let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                                    char::from_u32(code)
                                        .ok_or((escape_start, "invalid surrogate pair"))?
                                }
                                _ => {
                                    return Err((
                                        escape_start,
                                        "unpaired surrogate in a `\\u` escape",
                                    ));
                                }
                            }
                        } else if (0xDC00..0xE000).contains(&high) {
                            return Err((escape_start, "unpaired surrogate in a `\\u` escape"));
                        } else {
                            char::from_u32(high).ok_or((escape_start, "invalid `\\u` escape"))?
                        }
                    }
                    _ => return Err((i, "invalid escape in a JSON string")),
                };
                if e != b'u' {
                    i += 2;
                }
                text.push(c);
                map.extend(std::iter::repeat_n(
                    (rel(escape_start), rel(i)),
                    c.len_utf8(),
                ));
            }
            0..=0x1f => return Err((i, "control character in a JSON string: escape it")),
            _ => {
                let c = source[i..].chars().next().expect("in bounds");
                let len = c.len_utf8();
                text.push(c);
                map.extend(std::iter::repeat_n((rel(i), rel(i + len)), len));
                i += len;
            }
        }
    }
}

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = bytes.get(at..at + 4)?;
    let text = std::str::from_utf8(digits).ok()?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}
