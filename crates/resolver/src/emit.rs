//! Serializers for resolved trees: YAML and JSON.
//!
//! The YAML emitter is sigil's own, and deliberately plain: block style, two-space indents, and
//! every string that is not a conservative plain word written double-quoted with escapes. A value
//! with quotes, newlines, `: `, `#`, `---`, `<<`, `{{`, `$secret:`, or the YAML 1.1 specials
//! (`no`, `on`, `012`) therefore always comes back as the same string from any YAML reader.

use serde_json::{Map, Number, Value};
use sigil_parser::CoreType;

use crate::resolved::{Render, ResolvedNode, ResolvedScalar, ResolvedSecret};

/// A resolved tree as a JSON value: substituted values are strings; untouched scalars keep their
/// type (YAML 1.2 core schema for plain YAML scalars: `on`, `no`, `yes` stay strings, `3` is a
/// number).
pub fn to_json(node: &ResolvedNode<'_>, secrets: &[ResolvedSecret<'_>], render: Render) -> Value {
    match node {
        ResolvedNode::Mapping(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                map.insert((*key).to_owned(), to_json(value, secrets, render));
            }
            Value::Object(map)
        }
        ResolvedNode::Sequence(items) => Value::Array(
            items
                .iter()
                .map(|item| to_json(item, secrets, render))
                .collect(),
        ),
        ResolvedNode::Scalar(scalar) => scalar_to_json(scalar, secrets, render),
    }
}

fn scalar_to_json(
    scalar: &ResolvedScalar<'_>,
    secrets: &[ResolvedSecret<'_>],
    render: Render,
) -> Value {
    let text = scalar.render(secrets, render);
    match scalar.core_type {
        CoreType::Null => Value::Null,
        CoreType::Bool => Value::Bool(text.eq_ignore_ascii_case("true")),
        CoreType::Int => int_to_json(&text).unwrap_or(Value::String(text)),
        CoreType::Float => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::String(text)),
        _ => Value::String(text),
    }
}

fn int_to_json(text: &str) -> Option<Value> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(octal) = digits.strip_prefix("0o") {
        (8, octal)
    } else {
        (10, digits)
    };
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    if let Ok(small) = i64::try_from(value) {
        Some(Value::Number(small.into()))
    } else {
        u64::try_from(value)
            .ok()
            .map(|big| Value::Number(big.into()))
    }
}

/// A resolved tree as a YAML document (without the `---` marker).
pub fn to_yaml(node: &ResolvedNode<'_>, secrets: &[ResolvedSecret<'_>], render: Render) -> String {
    let mut out = String::new();
    match node {
        ResolvedNode::Scalar(scalar) => {
            out.push_str(&yaml_scalar(scalar, secrets, render));
            out.push('\n');
        }
        _ => write_block(&mut out, node, secrets, render, 0),
    }
    out
}

fn write_block(
    out: &mut String,
    node: &ResolvedNode<'_>,
    secrets: &[ResolvedSecret<'_>],
    render: Render,
    indent: usize,
) {
    let pad = " ".repeat(indent);
    match node {
        ResolvedNode::Mapping(entries) if entries.is_empty() => {
            out.push_str(&format!("{pad}{{}}\n"))
        }
        ResolvedNode::Sequence(items) if items.is_empty() => out.push_str(&format!("{pad}[]\n")),
        ResolvedNode::Mapping(entries) => {
            for (key, value) in entries {
                out.push_str(&pad);
                out.push_str(&yaml_string(key));
                out.push(':');
                write_value(out, value, secrets, render, indent);
            }
        }
        ResolvedNode::Sequence(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                write_value(out, item, secrets, render, indent);
            }
        }
        ResolvedNode::Scalar(scalar) => {
            out.push_str(&pad);
            out.push_str(&yaml_scalar(scalar, secrets, render));
            out.push('\n');
        }
    }
}

/// Writes what follows `key:` or `-`: an inline scalar or empty collection, or a nested block.
fn write_value(
    out: &mut String,
    value: &ResolvedNode<'_>,
    secrets: &[ResolvedSecret<'_>],
    render: Render,
    indent: usize,
) {
    match value {
        ResolvedNode::Scalar(scalar) => {
            out.push(' ');
            out.push_str(&yaml_scalar(scalar, secrets, render));
            out.push('\n');
        }
        ResolvedNode::Mapping(entries) if entries.is_empty() => out.push_str(" {}\n"),
        ResolvedNode::Sequence(items) if items.is_empty() => out.push_str(" []\n"),
        nested => {
            out.push('\n');
            write_block(out, nested, secrets, render, indent + 2);
        }
    }
}

fn yaml_scalar(
    scalar: &ResolvedScalar<'_>,
    secrets: &[ResolvedSecret<'_>],
    render: Render,
) -> String {
    let text = scalar.render(secrets, render);
    match scalar.core_type {
        CoreType::Null if text.is_empty() => "null".to_owned(),
        // Untouched typed scalars are written as they were: `3`, `true`, `~`, `0x1F`.
        CoreType::Null | CoreType::Bool | CoreType::Int | CoreType::Float => text,
        _ => yaml_string(&text),
    }
}

/// A string as YAML: plain when it is a conservative word no reader could take for anything
/// else, double-quoted with escapes otherwise.
pub fn yaml_string(text: &str) -> String {
    if is_safe_plain(text) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) || c == '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_safe_plain(text: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
    ];
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c))
        && !SPECIAL.contains(&text.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_that_could_be_read_as_something_else_are_quoted() {
        for (text, expected) in [
            ("deploy", "deploy"),
            ("ubuntu-latest", "ubuntu-latest"),
            ("scripts/run.sh", "scripts/run.sh"),
            ("./run.sh", "\"./run.sh\""),
            ("no", "\"no\""),
            ("On", "\"On\""),
            ("012", "\"012\""),
            ("", "\"\""),
            ("a: b", "\"a: b\""),
            ("x # y", "\"x # y\""),
            ("---", "\"---\""),
            ("line1\nline2", "\"line1\\nline2\""),
            ("say \"hi\" \\", "\"say \\\"hi\\\" \\\\\""),
            ("<<secrets.x>>", "\"<<secrets.x>>\""),
            ("*alias", "\"*alias\""),
            ("\u{7}bell", "\"\\u0007bell\""),
        ] {
            assert_eq!(yaml_string(text), expected, "{text:?}");
        }
    }

    #[test]
    fn integers_in_every_base() {
        assert_eq!(int_to_json("42"), Some(Value::from(42)));
        assert_eq!(int_to_json("-7"), Some(Value::from(-7)));
        assert_eq!(int_to_json("0x1F"), Some(Value::from(31)));
        assert_eq!(int_to_json("0o17"), Some(Value::from(15)));
        assert_eq!(
            int_to_json("18446744073709551615"),
            Some(Value::from(u64::MAX))
        );
        assert_eq!(int_to_json("99999999999999999999999"), None);
    }
}
