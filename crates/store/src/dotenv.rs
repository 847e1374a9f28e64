//! `.env` interchange: dotenvy's dialect in, and out again byte for byte.
//!
//! The dialect is dotenvy's: `export` prefix, `#` comments (a `#` inside an unquoted value is
//! part of the value unless whitespace precedes it), single quotes literal, double quotes with
//! `\\ \" \' \$ \n` escapes and `$VAR`/`${VAR}` substitution from earlier lines, multi-line
//! quoted values. A UTF-8 byte order mark is skipped; CRLF line ends are accepted; when a key
//! repeats, the last value wins and the name is reported.

use secrecy::{ExposeSecret, SecretString};

use crate::error::{ErrorKind, Result};
use crate::model::SecretName;

/// The entries of a `.env` text.
#[derive(Debug, Default)]
pub struct DotenvEntries {
    /// Names and values, in first-appearance order; the last value of a repeated key wins.
    pub entries: Vec<(SecretName, SecretString)>,
    /// Names that appeared more than once.
    pub duplicates: Vec<SecretName>,
}

fn parse_all(text: &str) -> std::result::Result<Vec<(String, String)>, (String, usize)> {
    let mut out = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok(pair) => out.push(pair),
            Err(dotenvy::Error::LineParse(line, index)) => return Err((line, index)),
            Err(_) => return Err((String::new(), 0)),
        }
    }
    Ok(out)
}

/// Parses `.env` text.
///
/// # Errors
/// [`ErrorKind::Dotenv`] naming the physical line where the problem starts (never the line's
/// text, which may hold a value); [`ErrorKind::InvalidName`] for a key that is not a valid name.
pub fn parse_dotenv(text: &str) -> Result<DotenvEntries> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let pairs = match parse_all(text) {
        Ok(pairs) => pairs,
        Err(_) => return Err(locate_error(text)),
    };
    let mut result = DotenvEntries::default();
    for (key, value) in pairs {
        let name = SecretName::new(&key)?;
        let value = SecretString::from(value);
        match result.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = value;
                if !result.duplicates.contains(&name) {
                    result.duplicates.push(name);
                }
            }
            None => result.entries.push((name, value)),
        }
    }
    Ok(result)
}

/// Finds the first physical line whose prefix of the file fails to parse: that is where an
/// unterminated quote opens or where a bad line is.
fn locate_error(text: &str) -> crate::Error {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let prefix = |n: usize| lines[..n].concat();
    let (mut lo, mut hi) = (1, lines.len().max(1));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if parse_all(&prefix(mid)).is_err() {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let line = lo;
    let own = lines.get(line - 1).copied().unwrap_or("");
    let message = match parse_all(own) {
        Err((logical, index)) if index < logical.chars().count() => {
            "invalid syntax (expected NAME=value, a quoted value, or a comment)".to_owned()
        }
        _ => "unterminated quoted value (it runs to the end of the file)".to_owned(),
    };
    ErrorKind::Dotenv { line, message }.into()
}

/// Renders entries so that [`parse_dotenv`] reads them back byte for byte.
///
/// Plain values (letters, digits and `_-./:@+,%`) are written bare; values without `'` that do
/// not end in `\` are single-quoted (literal in this dialect); others are double-quoted with
/// `\\`, `\"` and `\$` escaped and newlines written as `\n`.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for a name the dialect cannot write (dotenvy keys have no `-`).
pub fn render_dotenv(entries: &[(SecretName, SecretString)]) -> Result<String> {
    let mut out = String::new();
    for (name, value) in entries {
        if name.as_str().contains('-') {
            return Err(crate::Error::invalid(format!(
                "`{name}` cannot be written to a .env file: the dialect allows no `-` in names"
            )));
        }
        let value = value.expose_secret();
        out.push_str(name.as_str());
        out.push('=');
        if !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./:@+,%".contains(c))
        {
            out.push_str(value);
        } else if !value.contains('\'') && !value.ends_with('\\') {
            out.push('\'');
            out.push_str(value);
            out.push('\'');
        } else {
            out.push('"');
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '$' => out.push_str("\\$"),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Parses `text` and compares (name, value) pairs, or the error message.
    fn check(text: &str, expected: Result<&[(&str, &str)], &str>) {
        let got = parse_dotenv(text)
            .map(|parsed| {
                parsed
                    .entries
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.expose_secret().to_owned()))
                    .collect::<Vec<_>>()
            })
            .map_err(|e| e.to_string());
        let expected = expected
            .map(|pairs| {
                pairs
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect::<Vec<_>>()
            })
            .map_err(str::to_owned);
        assert_eq!(got, expected, "input: {text:?}");
    }

    #[test]
    fn dialect() {
        check("A=b\n", Ok(&[("A", "b")]));
        check("export A=b\n", Ok(&[("A", "b")]));
        check("A=b#c\n", Ok(&[("A", "b#c")]));
        check("A=b #c\n", Ok(&[("A", "b")]));
        check("# comment\nA=b\n", Ok(&[("A", "b")]));
        check("A='x $B \\n'\n", Ok(&[("A", "x $B \\n")]));
        check(
            "A=\"x \\\"q\\\" \\\\ \\$ \\n\"\n",
            Ok(&[("A", "x \"q\" \\ $ \n")]),
        );
        check(
            "A=\"line1\nline2\"\nB=c\n",
            Ok(&[("A", "line1\nline2"), ("B", "c")]),
        );
        check("\u{feff}A=b\n", Ok(&[("A", "b")]));
        check("A=b\r\nB=c\r\n", Ok(&[("A", "b"), ("B", "c")]));
        check("A=1\nB=2\nA=3\n", Ok(&[("A", "3"), ("B", "2")]));
        check(
            "A=b\nB=\"open\nC=d\nE=f\n",
            Err("line 2: unterminated quoted value (it runs to the end of the file)"),
        );
        check(
            "A=b\nB=c d\n",
            Err("line 2: invalid syntax (expected NAME=value, a quoted value, or a comment)"),
        );
        check(
            "A=b\n1X=c\n",
            Err("line 2: invalid syntax (expected NAME=value, a quoted value, or a comment)"),
        );
    }

    #[test]
    fn duplicates_are_reported() {
        let parsed = parse_dotenv("A=1\nA=2\n").unwrap();
        assert_eq!(parsed.duplicates, [SecretName::new("A").unwrap()]);
    }

    #[test]
    fn errors_never_echo_the_line() {
        let err = parse_dotenv("A=\"sentinel-value-42\n")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("sentinel"), "{err}");
    }

    proptest! {
        #[test]
        fn export_round_trips(values in proptest::collection::vec(
            "[ -~\\n\\r\\t\u{e9}\u{1F600}#$'\"\\\\=]{0,24}", 1..6)) {
            let entries: Vec<(SecretName, SecretString)> = values
                .iter()
                .enumerate()
                .map(|(i, v)| (SecretName::new(&format!("K_{i}")).unwrap(), SecretString::from(v.clone())))
                .collect();
            let text = render_dotenv(&entries).unwrap();
            let parsed = parse_dotenv(&text).unwrap();
            let back: Vec<String> = parsed.entries.iter().map(|(_, v)| v.expose_secret().to_owned()).collect();
            prop_assert_eq!(back, values);
        }
    }
}
