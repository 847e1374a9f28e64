//! The document tree: mappings, sequences and scalars whose text is split into literal segments
//! and references. It is what the resolver substitutes into.

use std::ops::Range;

use serde::Serialize;

use crate::Span;

/// One YAML document (or the one JSON document of a JSON file).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The root node; its pointer is `""`.
    pub root: Node,
    /// Index of the document in the file, 0-based.
    pub index: usize,
}

impl Document {
    /// The node at an RFC 6901 JSON pointer (`""` is the root, `/steps/0/run` a descendant).
    pub fn get(&self, pointer: &str) -> Option<&Node> {
        self.root.get(pointer)
    }

    /// Mutable access to the node at a JSON pointer.
    pub fn get_mut(&mut self, pointer: &str) -> Option<&mut Node> {
        self.root.get_mut(pointer)
    }

    /// Every reference in the document, in document order (merged and aliased copies included,
    /// each with its own pointer).
    pub fn references(&self) -> References<'_> {
        self.root.references()
    }

    /// Calls `visit` with the JSON pointer and the node of every node of the document, in
    /// document order, each node before its children.
    pub fn walk(&self, mut visit: impl FnMut(&str, &Node)) {
        fn walk(node: &Node, pointer: &mut String, visit: &mut dyn FnMut(&str, &Node)) {
            visit(pointer, node);
            let len = pointer.len();
            match &node.kind {
                NodeKind::Mapping(entries) => {
                    for entry in entries {
                        push_pointer_token(pointer, &entry.key.text);
                        walk(&entry.value, pointer, visit);
                        pointer.truncate(len);
                    }
                }
                NodeKind::Sequence(items) => {
                    for (index, item) in items.iter().enumerate() {
                        push_index_token(pointer, index);
                        walk(item, pointer, visit);
                        pointer.truncate(len);
                    }
                }
                NodeKind::Scalar(_) => {}
            }
        }
        walk(&self.root, &mut String::new(), &mut visit);
    }
}

/// A node of the tree: its content and where it is.
///
/// A node's JSON pointer is the path that leads to it (the root's is `""`); it is not stored
/// in the node, and [`Document::walk`] gives every node with its pointer. A node copied from an
/// anchor (by an alias or a merge key) keeps the anchor's spans; the references in it carry
/// the copy's own pointer.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Mapping, sequence or scalar.
    pub kind: NodeKind,
    /// Where the node is in the file (for a block scalar: from its first content character).
    pub span: Span,
    /// The YAML tag as written (`!reference`, `!!str`), if any.
    pub tag: Option<String>,
}

/// The content of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NodeKind {
    /// A mapping with its entries in source order (merge keys already applied).
    Mapping(Vec<Entry>),
    /// A sequence.
    Sequence(Vec<Node>),
    /// A scalar: a string, number, boolean or null as written.
    Scalar(Scalar),
}

/// One entry of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: Key,
    /// The value.
    pub value: Node,
    /// Whether the entry came from a merge key (`<<: *base`) rather than being written here.
    pub merged: bool,
}

/// A mapping key: its text exactly as decoded, where it is, and how it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key text (for a complex key, the raw source text of the key).
    pub text: String,
    /// Where the key is.
    pub span: Span,
    /// How the key was written.
    pub style: ScalarStyle,
}

/// How a scalar was written. With the text, it is enough to re-emit the value faithfully: an
/// untouched plain YAML scalar follows the YAML 1.2 core schema ([`Scalar::core_type`]), every
/// other style is a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScalarStyle {
    /// A plain YAML scalar: `value`.
    Plain,
    /// `'value'`.
    SingleQuoted,
    /// `"value"`.
    DoubleQuoted,
    /// A literal block `|`.
    Literal,
    /// A folded block `>`.
    Folded,
    /// A JSON string.
    JsonString,
    /// A JSON number, text kept as written.
    JsonNumber,
    /// JSON `true` or `false`.
    JsonBool,
    /// JSON `null`.
    JsonNull,
}

/// The type a scalar has under the YAML 1.2 core schema (or in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CoreType {
    /// `null`, `~`, or empty.
    Null,
    /// `true` / `false` (any of `true`, `True`, `TRUE`, ...).
    Bool,
    /// Decimal, `0o` octal or `0x` hexadecimal integer.
    Int,
    /// Float, `.inf`, `.nan`.
    Float,
    /// Anything else, and every quoted or block scalar.
    String,
}

/// A scalar: its decoded text and that text split into literal segments and references.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    text: String,
    style: ScalarStyle,
    segments: Segments,
}

/// The segments of a scalar. Almost every scalar is one text segment (or none, when empty):
/// that one is kept inline, so such a scalar costs no allocation besides its text.
#[derive(Debug, Clone)]
enum Segments {
    One([Segment; 1]),
    Many(Vec<Segment>),
}

impl Segments {
    fn as_slice(&self) -> &[Segment] {
        match self {
            Segments::One(one) => one,
            Segments::Many(many) => many,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [Segment] {
        match self {
            Segments::One(one) => one,
            Segments::Many(many) => many,
        }
    }
}

impl PartialEq for Segments {
    fn eq(&self, other: &Segments) -> bool {
        self.as_slice() == other.as_slice()
    }
}

/// One piece of a scalar: literal text (a byte range of [`Scalar::text`]) or a reference.
///
/// The escape `<<'<<'>>` is a text segment covering only the inner `<<`.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Literal text: a byte range of the scalar's text.
    Text(Range<usize>),
    /// A reference; its text in the scalar is replaced by the secret's value. Boxed: references
    /// are rare, and every scalar keeps one segment inline, so the segment stays small.
    Reference(Box<Reference>),
}

/// A segment with its text borrowed, as yielded by [`Scalar::parts`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Part<'a> {
    /// Literal text to copy as it is.
    Text(&'a str),
    /// A reference to substitute.
    Reference(&'a Reference),
}

impl Scalar {
    pub(crate) fn new(text: String, style: ScalarStyle, segments: Vec<Segment>) -> Scalar {
        let segments = match <[Segment; 1]>::try_from(segments) {
            Ok(one) => Segments::One(one),
            Err(many) => Segments::Many(many),
        };
        Scalar {
            text,
            style,
            segments,
        }
    }

    /// A scalar that is all text: one text segment, or none when the text is empty.
    pub(crate) fn text_only(text: String, style: ScalarStyle) -> Scalar {
        let segments = if text.is_empty() {
            Segments::Many(Vec::new())
        } else {
            Segments::One([Segment::Text(0..text.len())])
        };
        Scalar {
            text,
            style,
            segments,
        }
    }

    /// The decoded text exactly as the file holds it (references still written out).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// How the scalar was written.
    pub fn style(&self) -> ScalarStyle {
        self.style
    }

    /// The segments; concatenating text segments and substituted references gives the value.
    pub fn segments(&self) -> &[Segment] {
        self.segments.as_slice()
    }

    /// The segments with their text borrowed.
    pub fn parts(&self) -> impl Iterator<Item = Part<'_>> {
        self.segments().iter().map(|segment| match segment {
            Segment::Text(range) => Part::Text(&self.text[range.clone()]),
            Segment::Reference(reference) => Part::Reference(reference),
        })
    }

    /// Whether any segment is a reference.
    pub fn has_references(&self) -> bool {
        self.segments()
            .iter()
            .any(|s| matches!(s, Segment::Reference(_)))
    }

    /// The value with references left out and escapes applied: what the scalar means when it
    /// holds no reference.
    pub fn literal_text(&self) -> String {
        self.parts()
            .filter_map(|part| match part {
                Part::Text(text) => Some(text),
                Part::Reference(_) => None,
            })
            .collect()
    }

    /// The type of the scalar under the YAML 1.2 core schema: only plain YAML scalars and JSON
    /// non-strings can be anything but a string. A scalar with a reference is always a string.
    pub fn core_type(&self) -> CoreType {
        match self.style {
            ScalarStyle::JsonNull => CoreType::Null,
            ScalarStyle::JsonBool => CoreType::Bool,
            ScalarStyle::JsonNumber => {
                if self.text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
                    CoreType::Float
                } else {
                    CoreType::Int
                }
            }
            ScalarStyle::Plain if !self.has_references() => core_schema_type(&self.text),
            _ => CoreType::String,
        }
    }
}

/// The YAML 1.2 core schema's resolution of a plain scalar.
fn core_schema_type(text: &str) -> CoreType {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return CoreType::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return CoreType::Bool,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return CoreType::Float,
        _ => {}
    }
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(rest) = text.strip_prefix("0o") {
        return if digits(rest, 8) {
            CoreType::Int
        } else {
            CoreType::String
        };
    }
    if let Some(rest) = text.strip_prefix("0x") {
        return if digits(rest, 16) {
            CoreType::Int
        } else {
            CoreType::String
        };
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits(unsigned, 10) {
        return CoreType::Int;
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.is_empty() && digits(frac, 10))
                || (digits(int, 10) && (frac.is_empty() || digits(frac, 10)))
        }
        None => digits(mantissa, 10),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
    if mantissa_ok && exponent_ok {
        CoreType::Float
    } else {
        CoreType::String
    }
}

/// A located reference to a secret (or a store handle).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Reference {
    /// What is referred to.
    pub kind: ReferenceKind,
    /// How it was written.
    pub form: ReferenceForm,
    /// From the first character of the opening delimiter to the last of the closing one, in the
    /// raw source text.
    pub span: Span,
    /// JSON pointer of the scalar that holds the reference.
    pub pointer: String,
    /// Index of the document in the file.
    pub document: usize,
}

impl Reference {
    /// The secret name, for a secret reference.
    pub fn name(&self) -> Option<&str> {
        match &self.kind {
            ReferenceKind::Secret { name, .. } => Some(name),
            ReferenceKind::Handle { .. } => None,
        }
    }
}

/// What a reference refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReferenceKind {
    /// A secret by name, optionally pinned to one scope.
    Secret {
        /// The name, case-sensitive.
        name: String,
        /// The pinned scope (`@workspace`, ...), or `None` for scope precedence.
        scope: Option<Scope>,
    },
    /// A store-issued handle; only its shape has been checked.
    Handle {
        /// The whole token, `$secret:v1.PAYLOAD.MAC`.
        token: String,
    },
}

/// How a reference was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReferenceForm {
    /// `<<secrets.NAME>>` (or `{{secrets.NAME}}`).
    Secrets,
    /// The short form `<<KEY>>` (or `{{KEY}}`).
    Bare,
    /// A `$secret:` handle.
    Handle,
}

impl ReferenceForm {
    /// `"secrets"`, `"bare"` or `"handle"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceForm::Secrets => "secrets",
            ReferenceForm::Bare => "bare",
            ReferenceForm::Handle => "handle",
        }
    }
}

/// The scope a secret lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Scope {
    /// Shared by the team.
    Workspace,
    /// One pipeline only.
    Pipeline,
    /// One user; private.
    Personal,
}

impl Scope {
    /// `"workspace"`, `"pipeline"` or `"personal"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Workspace => "workspace",
            Scope::Pipeline => "pipeline",
            Scope::Personal => "personal",
        }
    }

    /// Parses a scope name as written after `@`.
    pub fn from_name(name: &str) -> Option<Scope> {
        match name {
            "workspace" => Some(Scope::Workspace),
            "pipeline" => Some(Scope::Pipeline),
            "personal" => Some(Scope::Personal),
            _ => None,
        }
    }
}

impl Node {
    /// The node at a JSON pointer relative to this one (`""` is this node).
    pub fn get(&self, pointer: &str) -> Option<&Node> {
        let mut node = self;
        for token in pointer_tokens(pointer)? {
            node = match &node.kind {
                NodeKind::Mapping(entries) => {
                    &entries.iter().find(|entry| entry.key.text == token)?.value
                }
                NodeKind::Sequence(items) => items.get(parse_index(&token)?)?,
                NodeKind::Scalar(_) => return None,
            };
        }
        Some(node)
    }

    /// Mutable access to the node at a JSON pointer relative to this one.
    pub fn get_mut(&mut self, pointer: &str) -> Option<&mut Node> {
        let mut node = self;
        for token in pointer_tokens(pointer)? {
            node = match &mut node.kind {
                NodeKind::Mapping(entries) => {
                    &mut entries
                        .iter_mut()
                        .find(|entry| entry.key.text == token)?
                        .value
                }
                NodeKind::Sequence(items) => items.get_mut(parse_index(&token)?)?,
                NodeKind::Scalar(_) => return None,
            };
        }
        Some(node)
    }

    /// The scalar, if this node is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    /// The entries, if this node is a mapping.
    pub fn as_mapping(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Mapping(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items, if this node is a sequence.
    pub fn as_sequence(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Sequence(items) => Some(items),
            _ => None,
        }
    }

    /// Every reference in this subtree, in document order.
    pub fn references(&self) -> References<'_> {
        References {
            stack: vec![self],
            segments: [].iter(),
        }
    }

    /// Gives the references of this subtree a new pointer prefix (for copies made by aliases
    /// and merge keys): `old_len` is the length of the pointer this node had, `new_prefix` the
    /// one it has now.
    pub(crate) fn repoint(&mut self, old_len: usize, new_prefix: &str) {
        let rebase = |pointer: &mut String| {
            let mut rebased = String::with_capacity(new_prefix.len() + pointer.len() - old_len);
            rebased.push_str(new_prefix);
            rebased.push_str(&pointer[old_len..]);
            *pointer = rebased;
        };
        match &mut self.kind {
            NodeKind::Mapping(entries) => {
                for entry in entries {
                    entry.value.repoint(old_len, new_prefix);
                }
            }
            NodeKind::Sequence(items) => {
                for item in items {
                    item.repoint(old_len, new_prefix);
                }
            }
            NodeKind::Scalar(scalar) => {
                for segment in scalar.segments.as_mut_slice() {
                    if let Segment::Reference(reference) = segment {
                        rebase(&mut reference.pointer);
                    }
                }
            }
        }
    }

    /// Number of nodes in this subtree.
    pub(crate) fn size(&self) -> usize {
        1 + match &self.kind {
            NodeKind::Mapping(entries) => entries.iter().map(|e| e.value.size()).sum(),
            NodeKind::Sequence(items) => items.iter().map(Node::size).sum(),
            NodeKind::Scalar(_) => 0,
        }
    }
}

/// Iterator over the references of a subtree, in document order.
#[derive(Debug, Clone)]
pub struct References<'a> {
    stack: Vec<&'a Node>,
    segments: std::slice::Iter<'a, Segment>,
}

impl<'a> Iterator for References<'a> {
    type Item = &'a Reference;

    fn next(&mut self) -> Option<&'a Reference> {
        loop {
            for segment in self.segments.by_ref() {
                if let Segment::Reference(reference) = segment {
                    return Some(reference);
                }
            }
            let node = self.stack.pop()?;
            match &node.kind {
                NodeKind::Mapping(entries) => {
                    self.stack
                        .extend(entries.iter().rev().map(|entry| &entry.value));
                }
                NodeKind::Sequence(items) => self.stack.extend(items.iter().rev()),
                NodeKind::Scalar(scalar) => self.segments = scalar.segments().iter(),
            }
        }
    }
}

/// Appends one RFC 6901 token to a pointer (`~` as `~0`, `/` as `~1`).
pub fn push_pointer_token(pointer: &mut String, token: &str) {
    // No early exit: the test then runs without a branch per byte (this runs for every key).
    let escaped = token
        .bytes()
        .fold(false, |found, b| found | (b == b'~') | (b == b'/'));
    pointer.push('/');
    if escaped {
        pointer.push_str(&token.replace('~', "~0").replace('/', "~1"));
    } else {
        pointer.push_str(token);
    }
}

/// The pointer of a child: `parent` and one token, allocated once.
pub(crate) fn child_pointer(parent: &str, token: &str) -> String {
    let mut pointer = String::with_capacity(parent.len() + token.len() + 1);
    pointer.push_str(parent);
    push_pointer_token(&mut pointer, token);
    pointer
}

/// The pointer of a sequence item, allocated once.
pub(crate) fn index_pointer(parent: &str, index: usize) -> String {
    let mut pointer = String::with_capacity(parent.len() + 8);
    pointer.push_str(parent);
    push_index_token(&mut pointer, index);
    pointer
}

/// Appends the token of a sequence index to a pointer.
pub(crate) fn push_index_token(pointer: &mut String, index: usize) {
    // By hand rather than with `write!`: this runs for every sequence item.
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = index;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    pointer.push('/');
    pointer.extend(digits[at..].iter().map(|&digit| char::from(digit)));
}

fn pointer_tokens(pointer: &str) -> Option<impl Iterator<Item = String> + '_> {
    if pointer.is_empty() {
        return Some(None.into_iter().flatten());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(
        Some(
            rest.split('/')
                .map(|t| t.replace("~1", "/").replace("~0", "~")),
        )
        .into_iter()
        .flatten(),
    )
}

fn parse_index(token: &str) -> Option<usize> {
    if token.is_empty()
        || (token.len() > 1 && token.starts_with('0'))
        || !token.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_core(text: &str, expected: CoreType) {
        assert_eq!(core_schema_type(text), expected, "{text:?}");
    }

    #[test]
    fn core_schema() {
        check_core("", CoreType::Null);
        check_core("~", CoreType::Null);
        check_core("True", CoreType::Bool);
        check_core("yes", CoreType::String);
        check_core("no", CoreType::String);
        check_core("012", CoreType::Int);
        check_core("-3", CoreType::Int);
        check_core("0o17", CoreType::Int);
        check_core("0x1F", CoreType::Int);
        check_core("0x", CoreType::String);
        check_core("1.5", CoreType::Float);
        check_core(".5", CoreType::Float);
        check_core("1e3", CoreType::Float);
        check_core("-.inf", CoreType::Float);
        check_core("1.2.3", CoreType::String);
        check_core("3.", CoreType::Float);
        check_core("e3", CoreType::String);
    }

    fn check_pointer(tokens: &[&str], expected: &str) {
        let mut pointer = String::new();
        for token in tokens {
            push_pointer_token(&mut pointer, token);
        }
        assert_eq!(pointer, expected);
        let parsed: Vec<String> = pointer_tokens(&pointer).unwrap().collect();
        assert_eq!(parsed, tokens);
    }

    #[test]
    fn index_tokens() {
        for index in [0, 7, 10, 99, 100, 12345, usize::MAX] {
            let mut pointer = String::from("/steps");
            push_index_token(&mut pointer, index);
            assert_eq!(pointer, format!("/steps/{index}"));
        }
    }

    #[test]
    fn pointers() {
        check_pointer(&[], "");
        check_pointer(&["steps", "0", "env"], "/steps/0/env");
        check_pointer(&["a/b", "m~n"], "/a~1b/m~0n");
        check_pointer(&[""], "/");
    }
}
