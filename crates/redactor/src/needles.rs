//! From named values to needles: the exact byte strings (and whitespace-flexible line sequences)
//! whose every occurrence is masked. This module is DESIGN.md section 4 turned into code.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use zeroize::{Zeroize, Zeroizing};

use crate::encoding::{Encoder, SecretBytes};

/// Values shorter than this many bytes are never masked, only reported.
pub(crate) const DEFAULT_MIN_LEN: usize = 4;
/// Values (and lines, and JSON leaves) of at least this many bytes also register encodings.
pub(crate) const DEFAULT_ENCODE_MIN_LEN: usize = 8;
/// Longest whitespace run that may stand for a line break in a multi-line value.
pub(crate) const MAX_WHITESPACE_RUN: usize = 32;

/// A byte string to mask, and the name of the value it came from.
#[derive(Clone)]
pub(crate) struct Literal {
    pub(crate) bytes: SecretBytes,
    pub(crate) name: Arc<str>,
}

/// A multi-line value whose line breaks may have been rewritten as any run of whitespace (a
/// terminal, or `echo $VALUE` unquoted): the segments must appear in order, separated by 1 to
/// [`MAX_WHITESPACE_RUN`] ASCII whitespace bytes. Segments neither start nor end with whitespace.
#[derive(Clone)]
pub(crate) struct Flexible {
    pub(crate) segments: Vec<SecretBytes>,
    pub(crate) name: Arc<str>,
}

impl Flexible {
    /// The longest text an occurrence can span.
    pub(crate) fn max_len(&self) -> usize {
        self.segments.iter().map(|s| s.len()).sum::<usize>()
            + (self.segments.len() - 1) * MAX_WHITESPACE_RUN
    }
}

/// What turns values into needles: lengths and encoders.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) min_len: usize,
    pub(crate) encode_min_len: usize,
    pub(crate) encoders: Vec<Arc<dyn Encoder>>,
}

/// Every needle registered so far, deduplicated (the first value to register a byte string names
/// it), plus the names of values too short to mask.
#[derive(Default, Clone)]
pub(crate) struct NeedleSet {
    pub(crate) literals: Vec<Arc<Literal>>,
    pub(crate) flexibles: Vec<Arc<Flexible>>,
    /// Hash of a literal's bytes -> indices into `literals`, to deduplicate without keeping a
    /// second, non-zeroizing copy of each needle as a key.
    seen: HashMap<u64, Vec<u32>>,
    pub(crate) too_short: Vec<String>,
}

impl NeedleSet {
    /// Registers one named value under `policy`.
    pub(crate) fn add_value(&mut self, policy: &Policy, name: &str, value: &str) {
        let name: Arc<str> = Arc::from(name);
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        if value.len() < policy.min_len {
            if !self.too_short.iter().any(|n| **n == *name) {
                self.too_short.push(name.to_string());
            }
            return;
        }
        self.add_text(policy, &name, value, true);
        if matches!(value.as_bytes()[0], b'{' | b'[') {
            self.add_json_leaves(policy, &name, value);
        }
    }

    /// The raw value, its encodings, and (for a multi-line value, when `split` is set) its line
    /// forms and lines.
    fn add_text(&mut self, policy: &Policy, name: &Arc<str>, value: &str, split: bool) {
        self.add_literal(name, value.as_bytes());
        if value.len() >= policy.encode_min_len {
            let mut forms = Vec::new();
            for encoder in &policy.encoders {
                encoder.encode(value.as_bytes(), &mut forms);
            }
            for form in forms {
                self.add_literal(name, &form);
            }
        }
        if split && value.contains('\n') {
            let lf = Zeroizing::new(value.replace("\r\n", "\n"));
            let crlf = Zeroizing::new(lf.replace('\n', "\r\n"));
            self.add_literal(name, lf.as_bytes());
            self.add_literal(name, crlf.as_bytes());
            self.add_flexible(name, value);
            for line in value.lines() {
                let line = line.trim();
                if line.len() >= policy.encode_min_len {
                    self.add_text(policy, name, line, false);
                }
            }
        }
    }

    fn add_literal(&mut self, name: &Arc<str>, bytes: &[u8]) {
        if bytes.len() < DEFAULT_MIN_LEN {
            return;
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        let ids = self.seen.entry(hasher.finish()).or_default();
        if ids
            .iter()
            .any(|&id| self.literals[id as usize].bytes[..] == *bytes)
        {
            return;
        }
        ids.push(self.literals.len() as u32);
        let bytes = SecretBytes::new(bytes.to_vec());
        self.literals.push(Arc::new(Literal {
            bytes,
            name: name.clone(),
        }));
    }

    /// Splits a trimmed multi-line value at every whitespace run that holds a line break.
    fn add_flexible(&mut self, name: &Arc<str>, value: &str) {
        let bytes = value.as_bytes();
        let mut segments: Vec<SecretBytes> = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_whitespace() {
                let run_start = i;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if bytes[run_start..i].contains(&b'\n') {
                    segments.push(SecretBytes::new(bytes[start..run_start].to_vec()));
                    start = i;
                }
            } else {
                i += 1;
            }
        }
        segments.push(SecretBytes::new(bytes[start..].to_vec()));
        // The first segment anchors the search, so it must be long enough to index (see
        // `Matcher`); a value whose first line is shorter is still found by its other forms.
        if segments.len() < 2 || segments[0].len() < DEFAULT_MIN_LEN {
            return;
        }
        if !self.flexibles.iter().any(|f| f.segments == segments) {
            self.flexibles.push(Arc::new(Flexible {
                segments,
                name: name.clone(),
            }));
        }
    }

    fn add_json_leaves(&mut self, policy: &Policy, name: &Arc<str>, value: &str) {
        let Ok(mut json) = serde_json::from_str::<serde_json::Value>(value) else {
            return;
        };
        if json.is_object() || json.is_array() {
            let mut leaves = Vec::new();
            collect_leaves(&mut json, &mut leaves);
            for leaf in leaves {
                let leaf_trimmed = leaf.trim();
                if leaf_trimmed.len() >= policy.encode_min_len {
                    self.add_text(policy, name, leaf_trimmed, true);
                }
            }
        }
        zeroize_json(&mut json);
    }
}

fn collect_leaves(value: &mut serde_json::Value, out: &mut Vec<Zeroizing<String>>) {
    match value {
        serde_json::Value::String(s) => out.push(Zeroizing::new(std::mem::take(s))),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| collect_leaves(v, out)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| collect_leaves(v, out)),
        _ => {}
    }
}

/// Object keys and numbers of a secret JSON value are secret too: wipe what can be wiped.
fn zeroize_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => s.zeroize(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(zeroize_json),
        serde_json::Value::Object(map) => {
            let entries = std::mem::take(map);
            for (mut key, mut value) in entries {
                key.zeroize();
                zeroize_json(&mut value);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Encoding;

    fn policy(encode: bool) -> Policy {
        let encoders: Vec<Arc<dyn Encoder>> = if encode {
            Encoding::ALL
                .iter()
                .map(|e| Arc::new(*e) as Arc<dyn Encoder>)
                .collect()
        } else {
            Vec::new()
        };
        Policy {
            min_len: DEFAULT_MIN_LEN,
            encode_min_len: DEFAULT_ENCODE_MIN_LEN,
            encoders,
        }
    }

    /// The literal needles (as text) and flexible segment lists registered for `value`.
    fn check(value: &str, literals: &[&str], flexibles: &[&[&str]]) {
        let mut set = NeedleSet::default();
        set.add_value(&policy(false), "N", value);
        let got: Vec<String> = set
            .literals
            .iter()
            .map(|l| String::from_utf8(l.bytes.to_vec()).unwrap())
            .collect();
        assert_eq!(got, literals, "literals of {value:?}");
        let got: Vec<Vec<String>> = set
            .flexibles
            .iter()
            .map(|f| {
                f.segments
                    .iter()
                    .map(|s| String::from_utf8(s.to_vec()).unwrap())
                    .collect()
            })
            .collect();
        assert_eq!(got, flexibles, "flexible forms of {value:?}");
    }

    #[test]
    fn raw_values_trimmed_empty_and_short() {
        check("  hunter2\n", &["hunter2"], &[]);
        check("   ", &[], &[]);
        check("abc", &[], &[]);
        check("abcd", &["abcd"], &[]);
    }

    #[test]
    fn multi_line_values_register_line_forms_and_long_lines() {
        check(
            "line-one-x\r\n  short\nline-three-z",
            &[
                "line-one-x\r\n  short\nline-three-z",
                "line-one-x\n  short\nline-three-z",
                "line-one-x\r\n  short\r\nline-three-z",
                "line-one-x",
                "line-three-z",
            ],
            &[&["line-one-x", "short", "line-three-z"]],
        );
    }

    #[test]
    fn json_values_register_string_leaves() {
        check(
            r#"{"user": "bob", "token": "tok-12345678", "n": ["nested-leaf-value"]}"#,
            &[
                r#"{"user": "bob", "token": "tok-12345678", "n": ["nested-leaf-value"]}"#,
                "tok-12345678",
                "nested-leaf-value",
            ],
            &[],
        );
    }

    #[test]
    fn too_short_reported_once_by_name() {
        let mut set = NeedleSet::default();
        set.add_value(&policy(true), "PIN", "123");
        set.add_value(&policy(true), "PIN", "456");
        set.add_value(&policy(true), "OK", "12345678");
        assert_eq!(set.too_short, ["PIN"]);
    }
}
