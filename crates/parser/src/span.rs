//! Positions: byte ranges in the file and their 1-based line and column.

use std::ops::Range;

use serde::Serialize;

/// Where something is in the source file.
///
/// `byte_range` is the half-open range of bytes in the file as read (a BOM included).
/// `line` and `column` are those of the first character, `end_line` and `end_column` those just
/// past the last one; lines are 1-based (CRLF, LF and a lone CR each end one line) and columns
/// are 1-based, counted in Unicode scalar values of the raw source line, a BOM not counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    /// Half-open range of bytes in the file.
    pub byte_range: Range<usize>,
    /// Line of the first character, 1-based.
    pub line: usize,
    /// Column of the first character, 1-based, in Unicode scalar values.
    pub column: usize,
    /// Line of the position just past the last character, 1-based.
    pub end_line: usize,
    /// Column of the position just past the last character, 1-based.
    pub end_column: usize,
}

/// Maps byte offsets of one source text to lines and columns.
///
/// ```
/// use sigil_parser::LineIndex;
///
/// let index = LineIndex::new("a: 1\r\nbé: <<x>>\n");
/// assert_eq!(index.position(6), (2, 1));
/// assert_eq!(index.position(11), (2, 5)); // `é` is two bytes but one column
/// ```
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset where each line starts; line 1 starts after a BOM.
    starts: Vec<usize>,
    /// Whether each line is pure ASCII, so byte and column arithmetic agree.
    ascii: Vec<bool>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text` (the whole file, BOM included if there is one).
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let bytes = text.as_bytes();
        let first = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let mut starts = Vec::with_capacity(bytes.len() / 32 + 1);
        let mut ascii = Vec::with_capacity(bytes.len() / 32 + 1);
        starts.push(first);
        let rest = &bytes[first..];
        // Usual case: an ASCII file with LF line breaks. One pass for each property, then one
        // search for a single byte.
        if rest.is_ascii() && memchr::memchr(b'\r', rest).is_none() {
            starts.extend(memchr::memchr_iter(b'\n', rest).map(|i| i + first + 1));
            ascii.resize(starts.len(), true);
            return LineIndex {
                text,
                starts,
                ascii,
            };
        }
        let mut line_start = first;
        for at in memchr::memchr2_iter(b'\n', b'\r', &bytes[first..]).map(|i| i + first) {
            if at < line_start {
                continue; // the `\n` of a CRLF already handled
            }
            let next = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                at + 2
            } else {
                at + 1
            };
            ascii.push(bytes[line_start..at].is_ascii());
            starts.push(next);
            line_start = next;
        }
        ascii.push(bytes[line_start..].is_ascii());
        LineIndex {
            text,
            starts,
            ascii,
        }
    }

    /// The text this index was built for.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The number of lines (a final line break starts an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// 1-based line and column of a byte offset (clamped to the text, rounded down to a
    /// character boundary).
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.starts.partition_point(|&start| start <= offset).max(1);
        let start = self.starts[line - 1];
        if offset < start {
            // Inside the BOM: treat as the first column.
            return (1, 1);
        }
        let column = if self.ascii[line - 1] {
            offset - start
        } else {
            self.text[start..offset].chars().count()
        };
        (line, column + 1)
    }

    /// The span of a byte range.
    pub fn span(&self, range: Range<usize>) -> Span {
        let (line, column) = self.position(range.start);
        let (end_line, end_column) = self.position(range.end);
        Span {
            byte_range: range,
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// [`Self::span`], given the lines where the range probably starts and ends (a wrong guess
    /// costs a line search, as without one).
    pub(crate) fn span_near(
        &self,
        range: Range<usize>,
        start_line: usize,
        end_line: usize,
    ) -> Span {
        let (line, column) = self.position_near(range.start, start_line);
        let (end_line, end_column) = self.position_near(range.end, end_line);
        Span {
            byte_range: range,
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// [`Self::position`], checking first whether the offset is on `line`.
    fn position_near(&self, offset: usize, line: usize) -> (usize, usize) {
        if let Some(&start) = self.starts.get(line.wrapping_sub(1))
            && start <= offset
            && self.starts.get(line).is_none_or(|&next| offset < next)
            && self.text.is_char_boundary(offset)
        {
            let column = if self.ascii[line - 1] {
                offset - start
            } else {
                self.text[start..offset].chars().count()
            };
            return (line, column + 1);
        }
        self.position(offset)
    }

    /// The span from 1-based lines and 0-based character columns of both ends (the YAML event
    /// parser's convention), without searching for the lines.
    ///
    /// `from` is the start's byte offset, `self.offset_of(start.0, start.1)`, which the caller
    /// already has.
    pub(crate) fn span_at_from(
        &self,
        from: usize,
        start: (usize, usize),
        end: (usize, usize),
    ) -> Span {
        let to = self.offset_of(end.0, end.1);
        if self.starts.get(start.0.wrapping_sub(1)).is_none()
            || self.starts.get(end.0.wrapping_sub(1)).is_none()
        {
            return self.span(from..to);
        }
        // Columns past a line's end (a span ending at a line break) are clamped like offsets.
        let column = |line: usize, offset: usize| {
            let start = self.starts[line - 1];
            if self.ascii[line - 1] {
                offset - start + 1
            } else {
                self.text[start..offset].chars().count() + 1
            }
        };
        Span {
            byte_range: from..to,
            line: start.0,
            column: column(start.0, from),
            end_line: end.0,
            end_column: column(end.0, to),
        }
    }

    /// The text of a 1-based line, without its line break (empty past the end).
    pub fn line_text(&self, line: usize) -> &'a str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self.starts.get(line).copied().unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// Byte offset of a 1-based line and a 0-based column counted in characters (the
    /// convention of the YAML event parser); clamped to the line's end.
    pub(crate) fn offset_of(&self, line: usize, column0: usize) -> usize {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return self.text.len();
        };
        let end = self.starts.get(line).copied().unwrap_or(self.text.len());
        if self.ascii[line - 1] {
            return (start + column0).min(end);
        }
        match self.text[start..end].char_indices().nth(column0) {
            Some((i, _)) => start + i,
            None => end,
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, offset: usize, expected: (usize, usize)) {
        assert_eq!(
            LineIndex::new(text).position(offset),
            expected,
            "{text:?} at {offset}"
        );
    }

    #[test]
    fn positions() {
        check("abc", 0, (1, 1));
        check("abc", 3, (1, 4));
        check("a\nb", 2, (2, 1));
        check("a\r\nb", 3, (2, 1));
        check("a\rb", 2, (2, 1));
        check("\u{feff}ab", 3, (1, 1));
        check("\u{feff}ab", 4, (1, 2));
        check("é<<x>>", 2, (1, 2));
        check("x\n\t日本<<", 9, (2, 4));
        check("x\n\t日本<<", 8, (2, 3));
    }

    /// The ASCII, LF-only fast path agrees with counting by hand.
    #[test]
    fn ascii_lf_lines() {
        for text in ["", "\n", "a", "a\n", "ab\n\ncd\ne", "\u{feff}x: 1\ny: 2\n"] {
            let index = LineIndex::new(text);
            let first = if text.starts_with('\u{feff}') { 3 } else { 0 };
            assert_eq!(
                index.line_count(),
                text.matches('\n').count() + 1,
                "{text:?}"
            );
            for offset in first..=text.len() {
                let before = &text[first..offset];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                assert_eq!(
                    index.position(offset),
                    (line, column),
                    "{text:?} at {offset}"
                );
            }
        }
    }

    /// A line guess never changes a position, right or wrong.
    #[test]
    fn positions_near_a_line() {
        for text in ["", "a\nb", "\u{feff}x: 1\r\ny: é\rz\n", "é\n\t日本<<\n"] {
            let index = LineIndex::new(text);
            for offset in 0..=text.len() + 1 {
                for line in 0..=index.line_count() + 1 {
                    assert_eq!(
                        index.position_near(offset, line),
                        index.position(offset),
                        "{text:?} at {offset}, line {line}"
                    );
                }
            }
        }
    }

    #[test]
    fn offsets_round_trip() {
        let text = "\u{feff}a: é\r\nb:  日本\nc";
        let index = LineIndex::new(text);
        assert_eq!(index.offset_of(1, 0), 3);
        assert_eq!(index.offset_of(1, 3), 6);
        assert_eq!(index.offset_of(2, 4), 14);
        assert_eq!(index.position(14), (2, 5));
        assert_eq!(index.line_text(2), "b:  日本");
    }
}
