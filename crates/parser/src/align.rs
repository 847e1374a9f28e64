//! Maps each byte of a scalar's decoded text back to the raw source characters it came from, so
//! a reference found in decoded text is located where it stands in the file: escapes counted as
//! written, `''` as two characters, folded line breaks and block indentation skipped.

use crate::ScalarStyle;

/// For each decoded byte, the raw byte range (relative to `raw`) of the character or escape it
/// came from; `None` when the raw text does not decode to `decoded` (never expected; the caller
/// then falls back to the scalar's own span).
pub(crate) fn align(decoded: &str, raw: &str, style: ScalarStyle) -> Option<Vec<(u32, u32)>> {
    let mut map = Vec::with_capacity(decoded.len());
    let mut ri = 0usize;
    let double = matches!(style, ScalarStyle::DoubleQuoted);
    let single = matches!(style, ScalarStyle::SingleQuoted);
    for c in decoded.chars() {
        let (start, end) = loop {
            let rc = raw[ri..].chars().next()?;
            if double && rc == '\\' {
                let (escaped, len) = escape(&raw[ri..])?;
                match escaped {
                    None => {
                        ri += len;
                        continue;
                    }
                    Some(e) if e == c => break (ri, ri + len),
                    Some(_) => return None,
                }
            }
            if single && rc == '\'' {
                if c == '\'' && raw[ri + 1..].starts_with('\'') {
                    break (ri, ri + 2);
                }
                return None;
            }
            if rc == c {
                break (ri, ri + rc.len_utf8());
            }
            if matches!(c, ' ' | '\n') && matches!(rc, '\n' | '\r') {
                // A folded line break (or a CRLF read as one `\n`).
                let len = if raw[ri..].starts_with("\r\n") { 2 } else { 1 };
                break (ri, ri + len);
            }
            if matches!(rc, ' ' | '\t' | '\n' | '\r') {
                ri += 1;
                continue;
            }
            return None;
        };
        ri = end;
        let entry = (u32::try_from(start).ok()?, u32::try_from(end).ok()?);
        map.extend(std::iter::repeat_n(entry, c.len_utf8()));
    }
    Some(map)
}

/// Decodes one double-quoted escape at the start of `raw` (which starts with `\`): the character
/// (or `None` for an escaped line break, which produces nothing) and the escape's raw length.
fn escape(raw: &str) -> Option<(Option<char>, usize)> {
    let mut chars = raw[1..].chars();
    let c = chars.next()?;
    let simple = match c {
        '0' => '\0',
        'a' => '\x07',
        'b' => '\x08',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\x0b',
        'f' => '\x0c',
        'r' => '\r',
        'e' => '\x1b',
        ' ' => ' ',
        '"' => '"',
        '/' => '/',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        '\n' => return Some((None, 2)),
        '\r' => return Some((None, if raw[2..].starts_with('\n') { 3 } else { 2 })),
        'x' | 'u' | 'U' => {
            let digits = match c {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex = raw.get(2..2 + digits)?;
            let value = u32::from_str_radix(hex, 16).ok()?;
            return Some((Some(char::from_u32(value)?), 2 + digits));
        }
        _ => return None,
    };
    Some((Some(simple), 1 + c.len_utf8()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each decoded character starts in the raw text.
    fn check(decoded: &str, raw: &str, style: ScalarStyle, expected: &[u32]) {
        let map = align(decoded, raw, style).expect("aligns");
        let starts: Vec<u32> = decoded.char_indices().map(|(i, _)| map[i].0).collect();
        assert_eq!(starts, expected, "{raw:?}");
    }

    #[test]
    fn styles() {
        check("a b", "a\n  b", ScalarStyle::Plain, &[0, 1, 4]);
        check("<x", "\\u003cx", ScalarStyle::DoubleQuoted, &[0, 6]);
        check("a'b", "a''b", ScalarStyle::SingleQuoted, &[0, 1, 3]);
        check("ab", "a\\\n  b", ScalarStyle::DoubleQuoted, &[0, 5]);
        check(
            "x\ny\n",
            "  x\r\n  y\r\n",
            ScalarStyle::Literal,
            &[2, 3, 7, 8],
        );
        check(
            "f1 f2\nf3",
            "f1\n  f2\n\n  f3",
            ScalarStyle::Folded,
            &[0, 1, 2, 5, 6, 7, 11, 12],
        );
        check("é<", "é\\x3c", ScalarStyle::DoubleQuoted, &[0, 2]);
    }

    #[test]
    fn mismatch_is_none() {
        assert_eq!(align("ab", "ax", ScalarStyle::Plain), None);
        assert_eq!(align("a", "\\q", ScalarStyle::DoubleQuoted), None);
    }
}
